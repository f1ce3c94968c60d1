/* SPDX-License-Identifier: MIT */
/* Bounded recordings (hvlog/trace/rotate.h, docs/trace-format.md section
 * 1.1): a rotating writer's chunks, what it counts rotated out, its
 * refusals, the manifest reader on bad input, and the kept chunks read as
 * one trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/trace/rotate.h"
#include "hvlog/trace/trace.h"
#include "hvlog/trace/walk.h"
#include "synth.h"

/* LocalDiagnostics, 2 LPs x 6 buffers of one page, losses on some. */
static const struct synth_spec spec = {
    1, 2, 6, 1, 40, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER};

/* Buffers, entries and EventsLost of LP @lp among captured buffers [from, to). */
static struct hvlog_trace_rotation_counts count_lp(const struct synth_captured *cap, uint32_t from,
                                                   uint32_t to, uint32_t lp)
{
    const struct hvlog_walk_expect any = HVLOG_WALK_EXPECT_ANY;
    struct hvlog_trace_rotation_counts c = {0, 0, 0};

    for (uint32_t i = from; i < to; i++) {
        struct hvlog_buffer_summary s;

        assert_int_equal(hvlog_buffer_walk(cap->bytes + (size_t)i * cap->len, cap->len,
                                           HVLOG_ABI_2013, &any, &s, NULL, NULL),
                         HVLOG_WALK_OK);
        if (s.logical_processor != lp)
            continue;
        c.buffers++;
        c.entries += s.entries;
        c.events_lost += s.events_lost;
    }
    return c;
}

static uint64_t chunk_buffers(const char *top, uint64_t index, bool *closed)
{
    char name[32], *dir;
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_export_error err;
    uint64_t n;

    hvlog_trace_chunk_name(index, name, sizeof name);
    dir = synth_path(top, name);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    n = hvlog_trace_cursor_count(c);
    *closed = hvlog_trace_reader_meta(r)->closed;
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
    free(dir);
    return n;
}

/*
 * Issue 17: the parent @r of the rotation above (chunks 2 and 3 kept, of
 * buffers 6..11 of @cap) is one trace: its cursor reads buffers 6..11 in
 * order, numbered 0..5; its metadata is closed, counts the chunks' buffers
 * and carries the manifest's host truths; it names its chunks.
 */
static void the_parent_reads_the_kept_chunks_as_one(struct hvlog_trace_reader *r,
                                                    const struct synth_captured *cap)
{
    const struct hvlog_trace_meta *m = hvlog_trace_reader_meta(r);
    const struct hvlog_trace_rotation *rot = hvlog_trace_reader_rotation(r);
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;

    assert_true(m->closed);
    assert_int_equal(m->groups[0].buffers_written, 6);
    assert_int_equal(m->stats.buffers, 6);
    assert_int_equal(m->lp_count, 2); /* the manifest's, the whole recording's */
    assert_int_equal(m->lps[0].logged, 100);
    assert_non_null(rot);
    assert_int_equal(rot->first_chunk, 2);
    assert_int_equal(rot->chunk_count, 2); /* the chunks @r reads */
    assert_int_equal(rot->chunks[0], 2);
    assert_int_equal(rot->chunks[1], 3);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_count(c), 6);
    for (uint64_t i = 0; i < 6; i++) {
        assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_OK);
        assert_int_equal(b.file_index, i);
        assert_memory_equal(b.bytes, cap->bytes + (size_t)(6 + i) * cap->len, cap->len);
    }
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_END);
    /* Random access by the running index: chunk 3's second buffer. */
    assert_int_equal(hvlog_trace_cursor_read(c, 4, &b, NULL, NULL, &err), HVLOG_EXPORT_OK);
    assert_memory_equal(b.bytes, cap->bytes + (size_t)10 * cap->len, cap->len);
    assert_int_equal(b.file_index, 4);
    assert_int_equal(hvlog_trace_cursor_read(c, 6, &b, NULL, NULL, &err), HVLOG_EXPORT_INVALID);
    hvlog_trace_cursor_close(c);
}

static void the_last_chunks_are_kept_and_the_others_counted(void **state)
{
    char *dir = synth_path(*state, "t");
    struct synth_captured cap = {0};
    struct synth_expect expect;
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_trace_rotation rot;
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;
    struct hvlog_trace_lp truths[2] = {{0, 100, 90, 10, 10, 0, 0}, {1, 50, 50, 0, 0, 0, 0}};
    bool closed;

    assert_int_equal(synth_generate(&spec, synth_capture, &cap, &expect), 0);
    assert_int_equal(cap.count, 12);
    synth_meta(&spec, &meta);
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    /* Four pages: three one-page buffers and the metadata, not four. */
    assert_int_equal(hvlog_trace_writer_rotate(w, 4 * 4096, 2, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_start(w, &meta, &err), HVLOG_EXPORT_OK);
    assert_true(hvlog_trace_is_rotated(dir));
    /* Records are not rotated. */
    assert_int_equal(hvlog_trace_writer_append_record(w, 2, cap.bytes, 16, &err),
                     HVLOG_EXPORT_INVALID);
    for (uint32_t i = 0; i < cap.count; i++)
        assert_int_equal(hvlog_trace_writer_append(w, 1, cap.bytes + (size_t)i * cap.len, cap.len,
                                                   &err),
                         HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_buffers(w, 1), 12);
    /* Being written: the manifest has no closing part. The rotation's
     * thread may still be finishing chunks 1 and 2 (and rotating chunks 0
     * and 1 out): first_chunk is 0, 1 or 2, and the kept chunks follow it,
     * at most keep + 2 of them. */
    assert_int_equal(hvlog_trace_rotation_read(dir, &rot, &err), HVLOG_EXPORT_OK);
    assert_false(rot.closed);
    assert_in_range(rot.first_chunk, 0, 2);
    assert_in_range(rot.chunk_count, 2, 4);
    /* A reader of a live rotation reads the manifest, then the directory:
     * the thread may rotate a chunk out in between (manifest first, then
     * the deletion), so the first chunk listed can be past first_chunk
     * (seen once under TSan). */
    assert_in_range(rot.chunks[0], rot.first_chunk, 2);
    assert_int_equal(rot.chunks[rot.chunk_count - 1], 3);
    hvlog_trace_rotation_release(&rot);
    meta.stats.entries = 1234;
    meta.lps = truths;
    meta.lp_count = 2;
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);

    assert_int_equal(hvlog_trace_rotation_read(dir, &rot, &err), HVLOG_EXPORT_OK);
    assert_int_equal(rot.max_bytes, 4 * 4096);
    assert_int_equal(rot.keep, 2);
    assert_int_equal(rot.first_chunk, 2);
    assert_int_equal(rot.chunk_count, 2);
    assert_int_equal(rot.chunks[0], 2);
    assert_int_equal(rot.chunks[1], 3);
    assert_int_equal(chunk_buffers(dir, 2, &closed), 3);
    assert_true(closed);
    assert_int_equal(chunk_buffers(dir, 3, &closed), 3);
    assert_true(closed);
    /* Chunks 0 and 1 held buffers 0..5: counted per LP, exactly. */
    assert_int_equal(rot.type_count, 1);
    assert_int_equal(rot.types[0].type, 1);
    assert_int_equal(rot.types[0].total.buffers, 6);
    assert_int_equal(rot.types[0].lp_count, 2);
    for (uint32_t i = 0; i < rot.types[0].lp_count; i++) {
        const struct hvlog_trace_rotation_lp *l = &rot.types[0].lps[i];
        struct hvlog_trace_rotation_counts want = count_lp(&cap, 0, 6, l->lp);

        assert_int_equal(l->counts.buffers, want.buffers);
        assert_int_equal(l->counts.entries, want.entries);
        assert_int_equal(l->counts.events_lost, want.events_lost);
    }
    assert_true(rot.closed);
    assert_int_equal(rot.stats.entries, 1234);
    assert_int_equal(rot.lp_count, 2);
    assert_int_equal(rot.lps[0].logged, 100);
    assert_int_equal(rot.lps[1].recorded, 50);
    hvlog_trace_rotation_release(&rot);
    /* The parent reads as one trace: the kept chunks' buffers in order. */
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    the_parent_reads_the_kept_chunks_as_one(r, &cap);
    hvlog_trace_close(r);
    /* Nothing hidden beside the chunks, nothing beside the trace. */
    assert_int_equal(synth_dir_entries(dir), 3);
    assert_int_equal(synth_dir_entries(*state), 1);
    free(cap.bytes);
    free(dir);
}

/* A finished rotation at @dir of @cap's 12 buffers, three per chunk, every
 * chunk kept (chunks 0..3), its groups initialized at @system_time. */
static void rotate_all(const char *dir, const struct synth_captured *cap, uint64_t system_time)
{
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;

    synth_meta(&spec, &meta);
    meta.groups[0].system_time = system_time;
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_rotate(w, 4 * 4096, 0, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_start(w, &meta, &err), HVLOG_EXPORT_OK);
    for (uint32_t i = 0; i < cap->count; i++)
        assert_int_equal(hvlog_trace_writer_append(w, 1, cap->bytes + (size_t)i * cap->len, cap->len,
                                                   &err),
                         HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
}

static struct hvlog_trace_reader *open_chunk(const char *top, uint64_t index)
{
    char name[32], *dir;
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;

    hvlog_trace_chunk_name(index, name, sizeof name);
    dir = synth_path(top, name);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    free(dir);
    return r;
}

/* Issue 17: chunks of one recording named one by one join into one trace,
 * in the recording's order; the same chunk twice, or a chunk of another
 * recording, does not; a chunk gone between the listing and the reading
 * (a live recorder rotated it out) is said in one line. */
static void chunks_of_one_recording_join_and_others_do_not(void **state)
{
    char *dir = synth_path(*state, "t"), *other = synth_path(*state, "u"), *gone;
    struct synth_captured cap = {0};
    struct synth_expect expect;
    struct hvlog_trace_reader *parts[2], *r, *parent;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;
    uint64_t index = 0;

    assert_int_equal(synth_generate(&spec, synth_capture, &cap, &expect), 0);
    rotate_all(dir, &cap, 1000);
    rotate_all(other, &cap, 2000); /* another recording: initialized at another time */
    parts[0] = open_chunk(dir, 3);
    parts[1] = open_chunk(dir, 1);
    assert_true(hvlog_trace_reader_chunk(parts[0], &index));
    assert_int_equal(index, 3);
    assert_true(hvlog_trace_same_recording(parts[0], parts[1]));
    assert_int_equal(hvlog_trace_join(parts, 2, &r, &err), HVLOG_EXPORT_OK);
    assert_non_null(strstr(hvlog_trace_reader_path(r), "chunk-000001..chunk-000003"));
    assert_null(hvlog_trace_reader_rotation(r)); /* not every kept chunk: no manifest counts */
    assert_false(hvlog_trace_reader_chunk(r, NULL));
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_count(c), 6);
    for (uint64_t i = 0; i < 6; i++) { /* chunk 1's buffers 3..5, then chunk 3's 9..11 */
        assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_OK);
        assert_memory_equal(b.bytes, cap.bytes + (size_t)(i < 3 ? 3 + i : 6 + i) * cap.len, cap.len);
    }
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);

    parts[0] = open_chunk(dir, 2);
    parts[1] = open_chunk(dir, 2);
    assert_int_equal(hvlog_trace_join(parts, 2, &r, &err), HVLOG_EXPORT_INVALID);
    assert_non_null(strstr(err.message, "the same chunk given twice"));
    parts[0] = open_chunk(dir, 2);
    parts[1] = open_chunk(other, 2);
    assert_true(hvlog_trace_reader_chunk(parts[1], NULL));
    assert_false(hvlog_trace_same_recording(parts[0], parts[1]));
    assert_int_equal(hvlog_trace_join(parts, 2, &r, &err), HVLOG_EXPORT_INVALID);

    /* Opened, then chunk 0 rotated out before its files were. */
    assert_int_equal(hvlog_trace_open(dir, &parent, &err), HVLOG_EXPORT_OK);
    gone = synth_path(dir, "chunk-000000");
    synth_rmtree(gone);
    assert_int_equal(hvlog_trace_cursor_open(parent, 1, &c, &err), HVLOG_EXPORT_IO);
    assert_non_null(strstr(err.message, "chunk-000000: rotated out while it was being read"));
    hvlog_trace_close(parent);
    /* A kept chunk that is no trace fails the open, naming it. */
    assert_int_equal(mkdir(gone, 0700), 0);
    assert_int_equal(hvlog_trace_open(dir, &parent, &err), HVLOG_EXPORT_NOT_TRACE);
    assert_non_null(strstr(err.message, "chunk-000000"));
    free(gone);
    free(cap.bytes);
    free(dir);
    free(other);
}

static void a_size_that_holds_no_buffer_is_refused_and_leaves_nothing(void **state)
{
    char *dir = synth_path(*state, "t");
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;

    synth_meta(&spec, &meta);
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_rotate(w, 4096, 0, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_start(w, &meta, &err), HVLOG_EXPORT_INVALID);
    assert_non_null(strstr(err.message, "cannot hold one 4096-byte buffer"));
    assert_int_equal(synth_dir_entries(*state), 0);
    /* A rotation is a recording: commit without start is refused. */
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_rotate(w, 1 << 20, 0, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_rotate(w, 1 << 20, 0, &err), HVLOG_EXPORT_INVALID);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_INVALID);
    assert_int_equal(synth_dir_entries(*state), 0);
    free(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char *path = synth_path(dir, name);
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
    free(path);
}

static void the_manifest_is_checked_and_left_over_chunks_skipped(void **state)
{
    static const struct {
        const char *text;
        enum hvlog_export_status want;
    } cases[] = {
        {"not json", HVLOG_EXPORT_NOT_TRACE},
        {"[]", HVLOG_EXPORT_NOT_TRACE},
        {"{\"format\":\"hvlog-trace\",\"version\":1}", HVLOG_EXPORT_NOT_TRACE},
        {"{\"format\":\"hvlog-rotation\",\"version\":2,\"max_size\":1,\"first_chunk\":0,"
         "\"rotated_out\":[]}", HVLOG_EXPORT_VERSION},
        {"{\"format\":\"hvlog-rotation\",\"version\":1,\"first_chunk\":0,\"rotated_out\":[]}",
         HVLOG_EXPORT_BAD_META},
        {"{\"format\":\"hvlog-rotation\",\"version\":1,\"max_size\":-1,\"first_chunk\":0,"
         "\"rotated_out\":[]}", HVLOG_EXPORT_BAD_META},
        {"{\"format\":\"hvlog-rotation\",\"version\":1,\"max_size\":1,\"first_chunk\":0,"
         "\"rotated_out\":{}}", HVLOG_EXPORT_BAD_META},
        {"{\"format\":\"hvlog-rotation\",\"version\":1,\"max_size\":1,\"first_chunk\":0,"
         "\"rotated_out\":[{\"type\":1,\"buffers\":1,\"entries\":1,\"events_lost\":0,\"lps\":[]},"
         "{\"type\":1,\"buffers\":1,\"entries\":1,\"events_lost\":0,\"lps\":[]}]}",
         HVLOG_EXPORT_BAD_META},
        {"{\"format\":\"hvlog-rotation\",\"version\":1,\"max_size\":1,\"first_chunk\":0,"
         "\"rotated_out\":[{\"type\":3,\"buffers\":1,\"entries\":1,\"events_lost\":0,\"lps\":[]}]}",
         HVLOG_EXPORT_BAD_META},
        {"{\"format\":\"hvlog-rotation\",\"version\":1,\"max_size\":1,\"first_chunk\":0,"
         "\"rotated_out\":[{\"type\":1,\"buffers\":2,\"entries\":1,\"events_lost\":0,\"lps\":["
         "{\"lp\":1,\"buffers\":1,\"entries\":1,\"events_lost\":0},"
         "{\"lp\":1,\"buffers\":1,\"entries\":0,\"events_lost\":0}]}]}",
         HVLOG_EXPORT_BAD_META},
        {"{\"format\":\"hvlog-rotation\",\"version\":1,\"max_size\":1,\"first_chunk\":0,"
         "\"rotated_out\":[],\"closing\":{\"entries\":\"7\"}}", HVLOG_EXPORT_BAD_META},
        {"{\"format\":\"hvlog-rotation\",\"version\":1,\"max_size\":1,\"first_chunk\":0,"
         "\"rotated_out\":[],\"closing\":{},\"host\":{\"lp_counts\":[1]}}", HVLOG_EXPORT_BAD_META},
    };
    char *dir = synth_path(*state, "t");
    struct hvlog_trace_rotation rot;
    struct hvlog_export_error err;

    assert_int_equal(mkdir(dir, 0700), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(dir, HVLOG_TRACE_ROTATION_FILE, cases[i].text);
        assert_int_equal(hvlog_trace_rotation_read(dir, &rot, &err), cases[i].want);
        hvlog_trace_rotation_release(&rot);
    }
    /* A chunk below first_chunk (a recorder killed between the manifest's
     * rename and the deletion) and names that are not the writer's are
     * not listed. */
    write_file(dir, HVLOG_TRACE_ROTATION_FILE,
               "{\"format\":\"hvlog-rotation\",\"version\":1,\"max_size\":65536,\"rotate\":2,"
               "\"first_chunk\":5,\"rotated_out\":[]}");
    {
        static const char *const names[] = {"chunk-000004", "chunk-000005", "chunk-000007",
                                            "chunk-5", "chunk-0000006x", ".chunk-000006.tmp-1-0-0"};
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            char *sub = synth_path(dir, names[i]);
            assert_int_equal(mkdir(sub, 0700), 0);
            free(sub);
        }
        write_file(dir, "chunk-000006", "a file, not a chunk");
    }
    assert_int_equal(hvlog_trace_rotation_read(dir, &rot, &err), HVLOG_EXPORT_OK);
    assert_int_equal(rot.chunk_count, 2);
    assert_int_equal(rot.chunks[0], 5);
    assert_int_equal(rot.chunks[1], 7);
    assert_false(rot.closed);
    hvlog_trace_rotation_release(&rot);
    free(dir);
}

/* A recorder killed mid-rotation leaves hidden temporaries inside the
 * rotated directory: the next writer beside it sweeps those of dead PIDs
 * (the chunk being created, the manifest's, a chunk's closing metadata)
 * and nothing else. */
static void a_dead_recorders_temporaries_inside_a_rotation_are_swept(void **state)
{
    char *dir = synth_path(*state, "t"), *chunk = synth_path(dir, "chunk-000003");
    char *other = synth_path(*state, "u");
    char name[96], *p;
    pid_t child = fork();
    int status;

    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, &status, 0), child); /* reaped: the PID is gone */
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mkdir(chunk, 0700), 0);
    write_file(dir, HVLOG_TRACE_ROTATION_FILE, "{}");
    write_file(chunk, HVLOG_TRACE_META_FILE, "{}");
    snprintf(name, sizeof name, ".chunk-000004.tmp-%ld-3-1f", (long)child);
    p = synth_path(dir, name);
    assert_int_equal(mkdir(p, 0700), 0);
    write_file(p, "local.buffers", "x");
    free(p);
    snprintf(name, sizeof name, "." HVLOG_TRACE_ROTATION_FILE ".tmp-%ld-0-0", (long)child);
    write_file(dir, name, "{");
    snprintf(name, sizeof name, "." HVLOG_TRACE_META_FILE ".tmp-%ld-0-0", (long)child);
    write_file(chunk, name, "{");
    /* Ours (a live PID): kept. */
    snprintf(name, sizeof name, "." HVLOG_TRACE_ROTATION_FILE ".tmp-%ld-0-0", (long)getpid());
    write_file(dir, name, "{");
    assert_int_equal(hvlog_trace_sweep_stale(other), 3);
    assert_int_equal(synth_dir_entries(dir), 3); /* rotation.json, chunk-000003, ours */
    assert_int_equal(synth_dir_entries(chunk), 1);
    free(other);
    free(chunk);
    free(dir);
}

/* A failure on the rotation's thread (here: the manifest cannot be
 * replaced when chunk 0 is rotated out, its temporary name taken by a
 * non-empty directory) becomes the writer's sticky failure: an append
 * returns it at the latest at the next rollover (which waits for the
 * thread), every later call the same one, and chunk 0, committed but not
 * counted in the manifest, is not deleted. */
static void a_failure_of_the_rotations_thread_is_the_writers_and_sticky(void **state)
{
    char *dir = synth_path(*state, "t"), *blocker, name[96];
    struct synth_captured cap = {0};
    struct synth_expect expect;
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err, again;
    enum hvlog_export_status status = HVLOG_EXPORT_OK;
    struct hvlog_trace_rotation rot;
    bool closed;
    uint32_t i;

    assert_int_equal(synth_generate(&spec, synth_capture, &cap, &expect), 0);
    synth_meta(&spec, &meta);
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_rotate(w, 4 * 4096, 1, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_start(w, &meta, &err), HVLOG_EXPORT_OK);
    snprintf(name, sizeof name, "." HVLOG_TRACE_ROTATION_FILE ".tmp-%ld-0-0", (long)getpid());
    blocker = synth_path(dir, name);
    assert_int_equal(mkdir(blocker, 0700), 0);
    write_file(blocker, "x", "keeps the name taken");
    /* Chunks of three buffers: buffer 3 starts chunk 1 and hands chunk 0
     * to the thread, buffer 6 chunk 2 (two chunks may be being finished),
     * buffer 9 starts chunk 3 after waiting for chunk 0's job. */
    for (i = 0; i < cap.count && status == HVLOG_EXPORT_OK; i++)
        status = hvlog_trace_writer_append(w, 1, cap.bytes + (size_t)i * cap.len, cap.len, &err);
    assert_int_equal(status, HVLOG_EXPORT_IO);
    assert_in_range(i - 1, 4, 9);
    assert_non_null(strstr(err.message, HVLOG_TRACE_ROTATION_FILE));
    assert_int_equal(hvlog_trace_writer_append(w, 1, cap.bytes, cap.len, &again), HVLOG_EXPORT_IO);
    assert_string_equal(again.message, err.message);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &again), HVLOG_EXPORT_IO);
    assert_string_equal(again.message, err.message);
    /* Chunk 0: committed, still there, and the manifest does not count it. */
    assert_int_equal(chunk_buffers(dir, 0, &closed), 3);
    assert_true(closed);
    assert_int_equal(hvlog_trace_rotation_read(dir, &rot, &err), HVLOG_EXPORT_OK);
    assert_int_equal(rot.first_chunk, 0);
    assert_int_equal(rot.type_count, 0);
    assert_false(rot.closed);
    hvlog_trace_rotation_release(&rot);
    free(blocker);
    free(cap.bytes);
    free(dir);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, synth_setup_tmp, synth_teardown_tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(the_last_chunks_are_kept_and_the_others_counted),
        T(chunks_of_one_recording_join_and_others_do_not),
        T(a_size_that_holds_no_buffer_is_refused_and_leaves_nothing),
        T(the_manifest_is_checked_and_left_over_chunks_skipped),
        T(a_dead_recorders_temporaries_inside_a_rotation_are_swept),
        T(a_failure_of_the_rotations_thread_is_the_writers_and_sticky),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
