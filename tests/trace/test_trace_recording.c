/* SPDX-License-Identifier: MIT */
/* A recording that survives a crash and format version 2
 * (hvlog/trace/trace.h, docs/trace-format.md sections 1 and 2): the
 * writer's start/commit/abort, the recorder's lock as readers see it, torn
 * last buffers, the stale-temporary sweep, permissions, and version 1 and 2
 * metadata read into one structure. */
#include <fcntl.h>
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
#include "hvlog/abi/layout.h"
#include "hvlog/abi/le.h"
#include "hvlog/trace/trace.h"
#include "synth.h"

static const struct synth_spec spec = {
    1, 2, 3, 1, 40, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER};

static enum hvlog_trace_state state_of(const char *dir, uint64_t *count, uint64_t *torn)
{
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_export_error err;
    enum hvlog_trace_state st;

    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    *count = hvlog_trace_cursor_count(c);
    *torn = hvlog_trace_cursor_torn(c);
    hvlog_trace_cursor_close(c);
    st = hvlog_trace_dir_state(r);
    hvlog_trace_close(r);
    return st;
}

/* Every buffer the cursor steps over (good or corrupt) until the end; the
 * status that ended it. */
static enum hvlog_export_status read_all(const char *dir, uint64_t *buffers)
{
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;
    enum hvlog_export_status st;

    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    *buffers = 0;
    while ((st = hvlog_trace_cursor_next(c, &b, NULL, NULL, &err)) == HVLOG_EXPORT_OK ||
           st == HVLOG_EXPORT_CORRUPT)
        (*buffers)++;
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
    return st;
}

static void append_bytes(const char *dir, const char *name, size_t n)
{
    char *path = synth_path(dir, name);
    FILE *f = fopen(path, "ab");

    assert_non_null(f);
    for (size_t i = 0; i < n; i++)
        fputc(0xA5, f);
    assert_int_equal(fclose(f), 0);
    free(path);
}

static void a_recording_is_readable_at_every_step_and_says_its_state(void **state)
{
    char *dir = synth_path(*state, "t");
    struct synth_captured cap = {0};
    struct synth_expect expect;
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;
    uint64_t count, torn, read;

    assert_int_equal(synth_generate(&spec, synth_capture, &cap, &expect), 0);
    synth_meta(&spec, &meta);
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_start(w, &meta, &err), HVLOG_EXPORT_OK);
    /* Under its final name at once, locked, with no closing statistics. */
    assert_true(synth_exists(dir));
    assert_int_equal(state_of(dir, &count, &torn), HVLOG_TRACE_STATE_RECORDING);
    assert_int_equal(count, 0);
    assert_int_equal(hvlog_trace_writer_append(w, 1, cap.bytes, cap.len, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_append(w, 1, cap.bytes + cap.len, cap.len, &err),
                     HVLOG_EXPORT_OK);
    /* Written by the recording's worker: in the file once flushed. */
    assert_int_equal(hvlog_trace_writer_flush(w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(state_of(dir, &count, &torn), HVLOG_TRACE_STATE_RECORDING);
    assert_int_equal(count, 2);
    /* A torn append (the recorder killed inside write()) is left out. */
    append_bytes(dir, "local.buffers", 100);
    assert_int_equal(read_all(dir, &read), HVLOG_EXPORT_END);
    assert_int_equal(read, 2);
    assert_int_equal(state_of(dir, &count, &torn), HVLOG_TRACE_STATE_RECORDING);
    assert_int_equal(torn, 100);
    /* Abort keeps the trace (a recorder keeps what it has): it died. */
    hvlog_trace_writer_abort(w);
    assert_int_equal(state_of(dir, &count, &torn), HVLOG_TRACE_STATE_DIED);
    assert_int_equal(count, 2);
    assert_int_equal(synth_dir_entries(*state), 1); /* nothing hidden beside it */
    free(cap.bytes);
    free(dir);
}

static void commit_adds_the_closing_statistics_and_readers_check_them(void **state)
{
    char *dir = synth_path(*state, "t");
    char *local = synth_path(dir, "local.buffers");
    struct synth_captured cap = {0};
    struct synth_expect expect;
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;
    uint64_t count, torn, read;

    assert_int_equal(synth_generate(&spec, synth_capture, &cap, &expect), 0);
    synth_meta(&spec, &meta);
    meta.stats.entries = 7;
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_start(w, &meta, &err), HVLOG_EXPORT_OK);
    for (uint32_t i = 0; i < cap.count; i++)
        assert_int_equal(hvlog_trace_writer_append(w, 1, cap.bytes + (size_t)i * cap.len, cap.len,
                                                   &err),
                         HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
    assert_int_equal(state_of(dir, &count, &torn), HVLOG_TRACE_STATE_FINISHED);
    assert_int_equal(count, cap.count);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_true(hvlog_trace_reader_meta(r)->closed);
    assert_int_equal(hvlog_trace_reader_meta(r)->version, 2);
    assert_int_equal(hvlog_trace_reader_meta(r)->groups[0].buffers_written, cap.count);
    assert_int_equal(hvlog_trace_reader_meta(r)->stats.entries, 7);
    hvlog_trace_close(r);
    assert_int_equal(synth_dir_entries(*state), 1);
    assert_int_equal(synth_dir_entries(dir), 2); /* json and local.buffers: no temporary */
    /* Finished: a file one buffer short is truncated, not silently shorter. */
    assert_int_equal(truncate(local, (off_t)(cap.count - 1) * cap.len), 0);
    assert_int_equal(read_all(dir, &read), HVLOG_EXPORT_TRUNCATED);
    assert_int_equal(read, cap.count - 1);
    /* ...and a torn tail is an error there too. */
    append_bytes(dir, "local.buffers", cap.len + 10);
    assert_int_equal(read_all(dir, &read), HVLOG_EXPORT_TRUNCATED);
    free(cap.bytes);
    free(local);
    free(dir);
}

static void files_are_private_whatever_the_umask(void **state)
{
    char *dir = synth_path(*state, "t");
    char *json = synth_path(dir, HVLOG_TRACE_META_FILE);
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;
    struct stat st;
    mode_t old = umask(0);

    synth_meta(&spec, &meta);
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    assert_int_equal(stat(json, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    synth_rmtree(dir);
    /* Widened on request, exactly: the directory gets x where r is. */
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_access(w, 0644, -1, -1, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0755);
    assert_int_equal(stat(json, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0644);
    umask(old);
    free(json);
    free(dir);
}

static void stale_temporaries_of_dead_processes_are_swept_and_no_others(void **state)
{
    const char *base = *state;
    char name[256], *dead_dir, *dead_file, *live, *other;
    pid_t child = fork();
    int status;

    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, &status, 0), child); /* reaped: the PID is gone */
    snprintf(name, sizeof name, ".t.tmp-%ld-0-1f", (long)child);
    dead_dir = synth_path(base, name);
    snprintf(name, sizeof name, ".u.json.tmp-%ld-3-aa", (long)child);
    dead_file = synth_path(base, name);
    snprintf(name, sizeof name, ".t.tmp-%ld-0-1f", (long)getppid()); /* alive */
    live = synth_path(base, name);
    other = synth_path(base, ".t.tmp-notapid"); /* not the pattern */
    assert_int_equal(mkdir(dead_dir, 0700), 0);
    append_bytes(dead_dir, "local.buffers", 10);
    append_bytes(base, strrchr(dead_file, '/') + 1, 10);
    assert_int_equal(mkdir(live, 0700), 0);
    assert_int_equal(mkdir(other, 0700), 0);
    {
        char *target = synth_path(base, "t");
        assert_int_equal(hvlog_trace_sweep_stale(target), 2);
        free(target);
    }
    assert_false(synth_exists(dead_dir));
    assert_false(synth_exists(dead_file));
    assert_true(synth_exists(live));
    assert_true(synth_exists(other));
    free(dead_dir);
    free(dead_file);
    free(live);
    free(other);
}

/* A recorder killed while it renamed its closing metadata into place
 * leaves that temporary inside the finished trace: the next sweep of the
 * directory holding the trace removes it, and only it (issue 12, item 4). */
static void a_dead_recorders_closing_temporary_inside_a_trace_is_swept(void **state)
{
    const char *base = *state;
    char name[256], *trace = synth_path(base, "k"), *dead, *live, *foreign;
    pid_t child = fork();
    int status;

    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_int_equal(mkdir(trace, 0700), 0);
    append_bytes(trace, HVLOG_TRACE_META_FILE, 10);
    snprintf(name, sizeof name, "." HVLOG_TRACE_META_FILE ".tmp-%ld-0-0", (long)child);
    append_bytes(trace, name, 10);
    dead = synth_path(trace, name);
    snprintf(name, sizeof name, "." HVLOG_TRACE_META_FILE ".tmp-%ld-0-0", (long)getppid());
    append_bytes(trace, name, 10);
    live = synth_path(trace, name);
    snprintf(name, sizeof name, ".other.tmp-%ld-0-0", (long)child); /* not the closing's */
    append_bytes(trace, name, 10);
    foreign = synth_path(trace, name);
    {
        char *target = synth_path(base, "next");
        assert_int_equal(hvlog_trace_sweep_stale(target), 1);
        free(target);
    }
    assert_false(synth_exists(dead));
    assert_true(synth_exists(live));
    assert_true(synth_exists(foreign));
    free(dead);
    free(live);
    free(foreign);
    free(trace);
}

static enum hvlog_export_status parse(const char *text, struct hvlog_trace_meta *m)
{
    struct hvlog_export_error err;

    return hvlog_trace_meta_parse(text, strlen(text), m, &err);
}

static void version_1_and_2_read_into_one_structure(void **state)
{
    struct hvlog_trace_meta m;
    (void)state;

    /* v1: per-LP rows at the top, "stats"; always closed. */
    assert_int_equal(parse("{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,"
                           "\"file\":\"local.buffers\",\"header_convention\":\"2013\","
                           "\"buffer_pages\":1}],\"host\":{\"lps\":2,\"seed\":9},"
                           "\"lps\":[{\"logged\":5},{\"logged\":6}],"
                           "\"stats\":{\"messages\":3,\"entries\":99}}",
                           &m),
                     HVLOG_EXPORT_OK);
    assert_int_equal(m.version, 1);
    assert_true(m.closed && m.host_present);
    assert_int_equal(m.lp_count, 2);
    assert_int_equal(m.lps[1].logged, 6);
    assert_int_equal(m.stats.messages, 3);
    assert_int_equal(m.stats.entries, 0); /* not a version-1 member */
    hvlog_trace_meta_release(&m);
    /* v2 without host or closing: a real root's recording, still open. */
    assert_int_equal(parse("{\"format\":\"hvlog-trace\",\"version\":2,\"root\":{\"vps\":4},"
                           "\"groups\":[{\"type\":1,\"file\":\"local.buffers\","
                           "\"header_convention\":\"current\",\"buffer_pages\":1,\"mode\":1}],"
                           "\"lps\":[{\"logged\":5}],\"stats\":{\"messages\":3}}",
                           &m),
                     HVLOG_EXPORT_OK);
    assert_false(m.closed);
    assert_false(m.host_present);
    assert_int_equal(m.lp_count, 0);      /* v1's members mean nothing in v2 */
    assert_int_equal(m.stats.messages, 0);
    assert_int_equal(m.root.vps, 4);
    assert_int_equal(m.groups[0].mode, 1);
    hvlog_trace_meta_release(&m);
    /* v2 finished, with the host section. */
    assert_int_equal(parse("{\"format\":\"hvlog-trace\",\"version\":2,"
                           "\"groups\":[{\"type\":1,\"file\":\"local.buffers\","
                           "\"header_convention\":\"2013\",\"buffer_pages\":1,"
                           "\"buffers_written\":12}],"
                           "\"host\":{\"lps\":1,\"lp_counts\":[{\"lp\":0,\"logged\":8}]},"
                           "\"closing\":{\"messages\":2,\"events_lost\":4}}",
                           &m),
                     HVLOG_EXPORT_OK);
    assert_true(m.closed && m.host_present);
    assert_int_equal(m.lp_count, 1);
    assert_int_equal(m.lps[0].logged, 8);
    assert_int_equal(m.stats.events_lost, 4);
    assert_true(m.groups[0].buffers_written_known);
    assert_int_equal(m.groups[0].buffers_written, 12);
    hvlog_trace_meta_release(&m);
    /* Checked like everything else. */
    assert_int_equal(parse("{\"format\":\"hvlog-trace\",\"version\":2,\"groups\":[{\"type\":1,"
                           "\"file\":\"x\",\"header_convention\":\"2013\",\"buffer_pages\":1,"
                           "\"mode\":2}]}",
                           &m),
                     HVLOG_EXPORT_BAD_META);
    hvlog_trace_meta_release(&m);
    assert_int_equal(parse("{\"format\":\"hvlog-trace\",\"version\":2,\"groups\":[{\"type\":1,"
                           "\"file\":\"x\",\"header_convention\":\"2013\",\"buffer_pages\":1}],"
                           "\"host\":{\"lp_counts\":{}}}",
                           &m),
                     HVLOG_EXPORT_BAD_META);
    hvlog_trace_meta_release(&m);
}

/* One diaglog record: Size @4, Type @6, TimeStamp (Unix seconds) @8. */
static size_t make_record(uint8_t *r, uint16_t size, uint16_t type, uint32_t context)
{
    memset(r, 0x5A, size);
    hvlog_store_le32(r, context);
    hvlog_store_le16(r + 4, size);
    hvlog_store_le16(r + 6, type);
    hvlog_store_le64(r + 8, 1764720000u);
    return size;
}

static enum hvlog_export_status scan(const char *dir, uint64_t *count, uint64_t *torn,
                                     struct hvlog_trace_meta *meta_out)
{
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;
    enum hvlog_export_status st;

    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    st = hvlog_trace_records_scan(r, HvEventLogTypeSystemDiagnostics, count, torn, &err);
    if (meta_out)
        *meta_out = *hvlog_trace_reader_meta(r); /* shallow: the scalars only are read */
    hvlog_trace_close(r);
    return st;
}

/* Issue #14: the records file of a real root's diaglog fd (trace-format.md
 * section 1) and a group without a reference anchor (section 2). */
static void records_file_keeps_whole_records_and_no_anchor_places_nothing(void **state)
{
    char *dir = synth_path(*state, "t");
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta, back;
    struct hvlog_export_error err;
    uint8_t rec[256];
    uint64_t count, torn;

    synth_meta(&spec, &meta);
    meta.groups[0].no_reference_anchor = true;
    meta.groups[0].system_time = 134000000000000000ull;
    meta.records_count = 1;
    meta.records[0].type = HvEventLogTypeSystemDiagnostics;
    meta.records[0].time_unit = HVLOG_TRACE_RECORD_TIME_UNIX_SECONDS;
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_start(w, &meta, &err), HVLOG_EXPORT_OK);
    assert_int_equal(scan(dir, &count, &torn, NULL), HVLOG_EXPORT_OK);
    assert_int_equal(count, 0); /* the file is there from the start */
    assert_int_equal(hvlog_trace_writer_append_record(w, 2, rec, make_record(rec, 24, 0x1D02, 0),
                                                      &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_append_record(w, 2, rec, make_record(rec, 61, 0x1D01, 1),
                                                      &err), HVLOG_EXPORT_OK);
    /* Refused, nothing written: a Size that is not the length, below 16,
     * a type without records file. */
    make_record(rec, 40, 0x1D01, 2);
    assert_int_equal(hvlog_trace_writer_append_record(w, 2, rec, 39, &err), HVLOG_EXPORT_INVALID);
    assert_int_equal(hvlog_trace_writer_append_record(w, 2, rec, 8, &err), HVLOG_EXPORT_INVALID);
    assert_int_equal(hvlog_trace_writer_append_record(w, 1, rec, 40, &err), HVLOG_EXPORT_INVALID);
    assert_int_equal(scan(dir, &count, &torn, NULL), HVLOG_EXPORT_OK);
    assert_int_equal(count, 2);
    assert_int_equal(torn, 0);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
    assert_int_equal(scan(dir, &count, &torn, &back), HVLOG_EXPORT_OK);
    assert_int_equal(count, 2);
    assert_int_equal(back.records_count, 1);
    assert_string_equal(back.records[0].file, "system.records");
    assert_true(back.records[0].records_written_known);
    assert_int_equal(back.records[0].records_written, 2);
    assert_true(back.groups[0].no_reference_anchor);
    /* No anchor: SystemTime dates the start, but places no entry. */
    assert_null(hvlog_trace_meta_anchor(&back, HvEventLogEntryTimeReference));
    back.groups[0].no_reference_anchor = false;
    assert_non_null(hvlog_trace_meta_anchor(&back, HvEventLogEntryTimeReference));
    /* Sizes follow the bytes present: a torn tail is left out, a Size
     * below 16 stops the scan with the count before it. */
    append_bytes(dir, "system.records", 10);
    assert_int_equal(scan(dir, &count, &torn, NULL), HVLOG_EXPORT_OK);
    assert_int_equal(count, 2);
    assert_int_equal(torn, 10);
    {
        char *path = synth_path(dir, "system.records");
        struct stat st;
        FILE *f;

        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(truncate(path, st.st_size - 10), 0); /* the torn tail off */
        f = fopen(path, "ab");
        assert_non_null(f);
        make_record(rec, 8, 0x1D01, 3); /* Size 8, then 8 bytes more to be whole */
        assert_int_equal(fwrite(rec, 1, 16, f), 16);
        assert_int_equal(fclose(f), 0);
        free(path);
    }
    assert_int_equal(scan(dir, &count, &torn, NULL), HVLOG_EXPORT_CORRUPT);
    free(dir);
}

static void records_and_anchor_members_are_checked(void **state)
{
    struct hvlog_trace_meta m;
    (void)state;

    assert_int_equal(parse("{\"format\":\"hvlog-trace\",\"version\":2,\"groups\":[{\"type\":1,"
                           "\"file\":\"local.buffers\",\"header_convention\":\"current\","
                           "\"buffer_pages\":1,\"reference_anchor\":false}],\"records\":[{\"type\":2,"
                           "\"file\":\"system.records\",\"time_unit\":\"unix_seconds\"}]}",
                           &m),
                     HVLOG_EXPORT_OK);
    assert_true(m.groups[0].no_reference_anchor);
    assert_int_equal(m.records_count, 1);
    assert_false(m.records[0].records_written_known);
    hvlog_trace_meta_release(&m);
    /* Absent: anchored, as every trace before. */
    assert_int_equal(parse("{\"format\":\"hvlog-trace\",\"version\":2,\"groups\":[{\"type\":1,"
                           "\"file\":\"local.buffers\",\"header_convention\":\"current\","
                           "\"buffer_pages\":1}]}", &m),
                     HVLOG_EXPORT_OK);
    assert_false(m.groups[0].no_reference_anchor);
    assert_int_equal(m.records_count, 0);
    hvlog_trace_meta_release(&m);
    /* Refused: not a boolean; a type with no records; another file name
     * (a path out of the directory); another time unit. */
    static const char *const bad[] = {
        "\"reference_anchor\":0}]",
        "\"buffer_pages\":1}],\"records\":[{\"type\":1,\"file\":\"system.records\",\"time_unit\":\"unix_seconds\"}]",
        "\"buffer_pages\":1}],\"records\":[{\"type\":2,\"file\":\"../x\",\"time_unit\":\"unix_seconds\"}]",
        "\"buffer_pages\":1}],\"records\":[{\"type\":2,\"file\":\"system.records\",\"time_unit\":\"ns\"}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[512];

        snprintf(text, sizeof text, "{\"format\":\"hvlog-trace\",\"version\":2,\"groups\":[{"
                 "\"type\":1,\"file\":\"local.buffers\",\"header_convention\":\"current\",%s%s}",
                 i == 0 ? "\"buffer_pages\":1," : "", bad[i]);
        assert_int_equal(parse(text, &m), HVLOG_EXPORT_BAD_META);
        hvlog_trace_meta_release(&m);
    }
}

/* Compressed writers compress and write on a worker thread (zworker.c)
 * from a bounded queue: more buffers than it holds (32 slots at most) must
 * still reach the file in release order; abort of a recording writes what
 * was queued; abort of a writer not started leaves nothing. */
#define QUEUED_APPENDS 100u

/* The trace at @dir holds @n buffers, buffer i being cap's buffer
 * i % cap->count, in that order. */
static void holds_the_appends_in_order(const char *dir, const struct synth_captured *cap, uint32_t n_want)
{
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;
    enum hvlog_export_status st;
    uint32_t n = 0;

    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_reader_meta(r)->groups[0].compression, HVLOG_TRACE_COMPRESSION_ZSTD);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    while ((st = hvlog_trace_cursor_next(c, &b, NULL, NULL, &err)) == HVLOG_EXPORT_OK) {
        assert_true(n < n_want);
        assert_int_equal(b.file_index, n);
        assert_int_equal(b.len, cap->len);
        assert_memory_equal(b.bytes, cap->bytes + (size_t)(n % cap->count) * cap->len, cap->len);
        n++;
    }
    assert_int_equal(st, HVLOG_EXPORT_END);
    assert_int_equal(n, n_want);
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
}

static void append_many(struct hvlog_trace_writer *w, const struct synth_captured *cap, uint32_t n)
{
    struct hvlog_export_error err;

    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(hvlog_trace_writer_append(w, 1, cap->bytes + (size_t)(i % cap->count) * cap->len,
                                                   cap->len, &err),
                         HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_buffers(w, 1), n);
}

static void a_compressed_recording_keeps_release_order_through_its_worker(void **state)
{
    char *dir = synth_path(*state, "t");
    struct synth_captured cap = {0};
    struct synth_expect expect;
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;
    uint64_t count, torn;

    assert_int_equal(synth_generate(&spec, synth_capture, &cap, &expect), 0);
    assert_true(cap.count > 1);
    synth_meta(&spec, &meta);
    /* Committed: every queued buffer is written before the closing
     * statistics, which count them all. */
    assert_int_equal(hvlog_trace_writer_create(dir, HVLOG_TRACE_COMPRESS, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_start(w, &meta, &err), HVLOG_EXPORT_OK);
    append_many(w, &cap, QUEUED_APPENDS);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
    assert_int_equal(state_of(dir, &count, &torn), HVLOG_TRACE_STATE_FINISHED);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_reader_meta(r)->groups[0].buffers_written, QUEUED_APPENDS);
    hvlog_trace_close(r);
    holds_the_appends_in_order(dir, &cap, QUEUED_APPENDS);
    synth_rmtree(dir);
    /* Aborted: a recorder keeps what it has, queued buffers included. */
    assert_int_equal(hvlog_trace_writer_create(dir, HVLOG_TRACE_COMPRESS, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_start(w, &meta, &err), HVLOG_EXPORT_OK);
    append_many(w, &cap, QUEUED_APPENDS);
    hvlog_trace_writer_abort(w);
    assert_int_equal(state_of(dir, &count, &torn), HVLOG_TRACE_STATE_DIED);
    assert_int_equal(torn, 0);
    holds_the_appends_in_order(dir, &cap, QUEUED_APPENDS);
    synth_rmtree(dir);
    /* All or nothing: abort before commit leaves nothing, queue or not;
     * a commit writes the queue before the directory appears. */
    assert_int_equal(hvlog_trace_writer_create(dir, HVLOG_TRACE_COMPRESS, &w, &err), HVLOG_EXPORT_OK);
    append_many(w, &cap, QUEUED_APPENDS);
    hvlog_trace_writer_abort(w);
    assert_int_equal(synth_dir_entries(*state), 0);
    assert_int_equal(hvlog_trace_writer_create(dir, HVLOG_TRACE_COMPRESS, &w, &err), HVLOG_EXPORT_OK);
    append_many(w, &cap, QUEUED_APPENDS);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
    holds_the_appends_in_order(dir, &cap, QUEUED_APPENDS);
    free(cap.bytes);
    free(dir);
}

/* 2 MiB buffers: the queue holds 8 MiB of copies, so it fills by bytes
 * (four buffers) before slots; twelve still arrive whole and in order. */
static void a_compressed_recording_of_the_largest_buffers_keeps_its_order(void **state)
{
    static const struct synth_spec big = {
        1, 2, 3, HV_EVENTLOG_MAX_BUFFER_PAGES, 40, HVLOG_ABI_2013, HvEventLogEntryTimeReference,
        true, false, SYNTH_IN_ORDER};
    char *dir = synth_path(*state, "t");
    struct synth_captured cap = {0};
    struct synth_expect expect;
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;

    assert_int_equal(synth_generate(&big, synth_capture, &cap, &expect), 0);
    assert_int_equal(cap.len, (size_t)HV_EVENTLOG_MAX_BUFFER_PAGES * HV_PAGE_SIZE);
    synth_meta(&big, &meta);
    assert_int_equal(hvlog_trace_writer_create(dir, HVLOG_TRACE_COMPRESS, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_start(w, &meta, &err), HVLOG_EXPORT_OK);
    append_many(w, &cap, 12);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
    holds_the_appends_in_order(dir, &cap, 12);
    free(cap.bytes);
    free(dir);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, synth_setup_tmp, synth_teardown_tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(a_recording_is_readable_at_every_step_and_says_its_state),
        T(commit_adds_the_closing_statistics_and_readers_check_them),
        T(files_are_private_whatever_the_umask),
        T(stale_temporaries_of_dead_processes_are_swept_and_no_others),
        T(a_dead_recorders_closing_temporary_inside_a_trace_is_swept),
        cmocka_unit_test(version_1_and_2_read_into_one_structure),
        T(records_file_keeps_whole_records_and_no_anchor_places_nothing),
        cmocka_unit_test(records_and_anchor_members_are_checked),
        T(a_compressed_recording_keeps_release_order_through_its_worker),
        T(a_compressed_recording_of_the_largest_buffers_keeps_its_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
