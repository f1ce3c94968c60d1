/* SPDX-License-Identifier: MIT */
/* Trace directories: the writer, the reader, raw files, the metadata, and
 * every kind of bad input (hvlog/trace/trace.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/le.h"
#include "hvlog/trace/trace.h"
#include "synth.h"

static const struct synth_spec spec_2013 = {
    1, 3, 5, 1, 40, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER};
static const struct synth_spec spec_current = {
    1, 2, 4, 2, 80, HVLOG_ABI_CURRENT, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER};

/* Every generated buffer, in release order. */
static bool count_entries(void *arg, const struct hvlog_entry *e)
{
    (void)e;
    (*(uint64_t *)arg)++;
    return true;
}

static void write_file(const char *path, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* Overwrite @len bytes at @offset of file @path. */
static void patch_file(const char *path, long offset, const void *bytes, size_t len)
{
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, offset, SEEK_SET), 0);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void the_reader_returns_every_buffer_byte_for_byte(void **state)
{
    char *dir = synth_path(*state, "t");
    struct synth_expect expect, again;
    struct synth_captured cap = {0};
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;
    const struct hvlog_trace_meta *meta;
    uint64_t entries = 0, n = 0;
    enum hvlog_export_status st;

    assert_int_equal(synth_write_trace(&spec_2013, dir, &expect), 0);
    assert_int_equal(synth_generate(&spec_2013, synth_capture, &cap, &again), 0);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_false(hvlog_trace_reader_is_raw(r));
    meta = hvlog_trace_reader_meta(r);
    assert_int_equal(meta->version, HVLOG_TRACE_FORMAT_VERSION);
    assert_string_equal(meta->abi_profile, "2013");
    assert_string_equal(meta->command_line, "hvlog record --synthetic");
    assert_int_equal(meta->host.lps, 3);
    assert_int_equal(meta->host.seed, 42);
    assert_int_equal(meta->group_count, 1);
    assert_int_equal(meta->groups[0].type, 1);
    assert_string_equal(meta->groups[0].file, "local.buffers");
    assert_int_equal(meta->groups[0].convention, HVLOG_ABI_2013);
    assert_int_equal(meta->groups[0].buffer_pages, 1);
    assert_int_equal(meta->groups[0].buffer_count, 64);
    assert_true(meta->groups[0].system_time == 134116992000000000ull);
    assert_true(meta->groups[0].sources == UINT64_MAX);
    assert_int_equal(meta->lp_count, 3);
    assert_int_equal(meta->lps[1].recorded, expect.events[1]);
    assert_int_equal(meta->lps[1].lost, expect.lost[1]);
    assert_int_equal(meta->stats.buffers, 15);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_count(c), cap.count);
    while ((st = hvlog_trace_cursor_next(c, &b, count_entries, &entries, &err)) == HVLOG_EXPORT_OK) {
        assert_int_equal(b.len, cap.len);
        assert_memory_equal(b.bytes, cap.bytes + n * cap.len, cap.len);
        assert_int_equal(b.file_offset, n * cap.len);
        assert_int_equal(b.summary.convention, HVLOG_ABI_2013);
        n++;
    }
    assert_int_equal(st, HVLOG_EXPORT_END);
    assert_int_equal(n, cap.count);
    assert_int_equal(entries, expect.total_events);
    hvlog_trace_cursor_close(c);
    /* The metadata file itself names the trace too. */
    hvlog_trace_close(r);
    {
        char *meta_path = synth_path(dir, "hvlog-trace.json");
        assert_int_equal(hvlog_trace_open(meta_path, &r, &err), HVLOG_EXPORT_OK);
        assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
        hvlog_trace_cursor_close(c);
        hvlog_trace_close(r);
        free(meta_path);
    }
    free(cap.bytes);
    free(dir);
}

static void nothing_appears_before_commit_and_abort_leaves_nothing(void **state)
{
    char *dir = synth_path(*state, "t");
    uint8_t buf[HV_PAGE_SIZE] = {0};
    struct hvlog_trace_writer *w;
    struct hvlog_export_error err;

    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_append(w, 1, buf, sizeof buf, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_buffers(w, 1), 1);
    assert_false(synth_exists(dir));
    assert_int_equal(synth_dir_entries(*state), 1); /* the hidden staging directory */
    hvlog_trace_writer_abort(w);
    assert_int_equal(synth_dir_entries(*state), 0);
    free(dir);
}

static void the_writer_checks_its_input_and_a_failed_commit_leaves_nothing(void **state)
{
    char *dir = synth_path(*state, "t");
    uint8_t buf[2 * HV_PAGE_SIZE] = {0};
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;

    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_append(w, 1, buf, 100, &err), HVLOG_EXPORT_INVALID);
    assert_non_null(strstr(err.message, "not 1..512 whole pages"));
    assert_int_equal(hvlog_trace_writer_append(w, 3, buf, HV_PAGE_SIZE, &err), HVLOG_EXPORT_INVALID);
    assert_int_equal(hvlog_trace_writer_append(w, 1, buf, HV_PAGE_SIZE, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_append(w, 1, buf, 2 * HV_PAGE_SIZE, &err),
                     HVLOG_EXPORT_INVALID);
    /* Buffers of type 1 but the metadata describes only type 0. */
    synth_meta(&spec_2013, &meta);
    meta.groups[0].type = 0;
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_INVALID);
    assert_non_null(strstr(err.message, "no group describes them"));
    assert_int_equal(synth_dir_entries(*state), 0);
    /* Geometry that contradicts the buffers. */
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_append(w, 1, buf, HV_PAGE_SIZE, &err), HVLOG_EXPORT_OK);
    synth_meta(&spec_2013, &meta);
    meta.groups[0].buffer_pages = 2;
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_INVALID);
    assert_int_equal(synth_dir_entries(*state), 0);
    free(dir);
}

static void an_existing_directory_is_replaced_only_with_force_and_only_if_ours(void **state)
{
    char *dir = synth_path(*state, "t");
    char *foreign = synth_path(dir, "notes.txt");
    char *marker = synth_path(dir, "hvlog-trace.json");
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;
    struct synth_expect expect;

    assert_int_equal(mkdir(dir, 0777), 0);
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_EXISTS);
    assert_non_null(strstr(err.message, "exists"));
    /* An empty directory may be replaced with force. */
    assert_int_equal(hvlog_trace_writer_create(dir, HVLOG_TRACE_FORCE, &w, &err), HVLOG_EXPORT_OK);
    synth_meta(&spec_2013, &meta);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
    assert_int_equal(synth_dir_entries(dir), 2); /* hvlog-trace.json and an empty local.buffers */
    /* A trace may be replaced with force. */
    assert_int_equal(synth_write_trace(&spec_2013, dir, &expect), 0);
    assert_int_equal(synth_dir_entries(*state), 1);
    /* A directory that is not a trace is never replaced. */
    write_file(foreign, "keep me", 7);
    assert_int_equal(unlink(marker), 0);
    assert_int_equal(hvlog_trace_writer_create(dir, HVLOG_TRACE_FORCE, &w, &err),
                     HVLOG_EXPORT_EXISTS);
    assert_non_null(strstr(err.message, "not an output of this kind"));
    assert_true(synth_exists(foreign));
    free(marker);
    free(foreign);
    free(dir);
}

static void raw_files_are_read_in_both_conventions(void **state)
{
    const struct synth_spec *specs[] = {&spec_2013, &spec_current};

    for (int i = 0; i < 2; i++) {
        char *raw = synth_path(*state, i ? "current.raw" : "2013.raw");
        struct synth_expect expect;
        struct hvlog_trace_reader *r;
        struct hvlog_trace_cursor *c;
        struct hvlog_trace_buffer b;
        struct hvlog_export_error err;
        const struct hvlog_trace_meta *meta;
        uint64_t entries = 0, lost = 0;

        assert_int_equal(synth_write_raw(specs[i], raw, &expect), 0);
        assert_int_equal(hvlog_trace_open(raw, &r, &err), HVLOG_EXPORT_OK);
        assert_true(hvlog_trace_reader_is_raw(r));
        meta = hvlog_trace_reader_meta(r);
        assert_int_equal(meta->group_count, 1);
        assert_int_equal(meta->groups[0].convention, specs[i]->convention);
        assert_int_equal(meta->groups[0].buffer_pages, specs[i]->pages);
        assert_int_equal(meta->groups[0].type, 1);
        assert_string_equal(meta->abi_profile, i ? "current" : "2013");
        assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
        while (hvlog_trace_cursor_next(c, &b, count_entries, &entries, &err) == HVLOG_EXPORT_OK)
            lost += b.summary.events_lost;
        assert_int_equal(entries, expect.total_events);
        assert_int_equal(lost, expect.total_lost);
        hvlog_trace_cursor_close(c);
        hvlog_trace_close(r);
        free(raw);
    }
}

/* Local (type 1) and global (type 0) buffers in one bare file, each type
 * with its own size and convention (spec D9: 2013 BufferSize = the whole
 * buffer, NextBufferOffset from its start; current BufferSize = total - 72,
 * NextBufferOffset from the header's end, LogicalProcessor u16). */
static const struct {
    const char *name;
    struct synth_spec local, global;
} mixed_cases[] = {
    {"2013", {1, 3, 4, 1, 30, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER},
     {0, 1, 5, 1, 20, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER}},
    {"current", {1, 2, 3, 2, 90, HVLOG_ABI_CURRENT, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER},
     {0, 1, 4, 1, 25, HVLOG_ABI_CURRENT, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER}},
    {"both", {1, 2, 3, 2, 90, HVLOG_ABI_CURRENT, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER},
     {0, 1, 4, 1, 25, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER}},
};

static char *write_mixed(void **state, size_t k, struct synth_expect expect[2])
{
    struct synth_spec specs[2] = {mixed_cases[k].local, mixed_cases[k].global};
    char name[32];
    char *raw;

    snprintf(name, sizeof name, "mixed-%s.raw", mixed_cases[k].name);
    raw = synth_path(*state, name);
    assert_int_equal(synth_write_raw_mixed(specs, 2, raw, expect), 0);
    return raw;
}

static void a_raw_file_of_several_types_gives_one_group_per_type(void **state)
{
    for (size_t k = 0; k < sizeof mixed_cases / sizeof mixed_cases[0]; k++) {
        const struct synth_spec *want[2] = {&mixed_cases[k].global, &mixed_cases[k].local};
        struct synth_expect expect[2]; /* [0] local, [1] global, as written */
        char *raw = write_mixed(state, k, expect);
        struct hvlog_trace_reader *r;
        struct hvlog_export_error err;
        const struct hvlog_trace_meta *meta;
        uint32_t local_bytes = mixed_cases[k].local.pages * HV_PAGE_SIZE;

        assert_int_equal(hvlog_trace_open(raw, &r, &err), HVLOG_EXPORT_OK);
        assert_true(hvlog_trace_reader_is_raw(r));
        meta = hvlog_trace_reader_meta(r);
        assert_int_equal(meta->group_count, 2);
        /* The profile is the first buffer's: a local one. */
        assert_string_equal(meta->abi_profile,
                            mixed_cases[k].local.convention == HVLOG_ABI_CURRENT ? "current" : "2013");
        for (uint32_t g = 0; g < 2; g++) {
            const struct synth_expect *e = &expect[g == 0 ? 1 : 0];
            struct hvlog_trace_cursor *c;
            struct hvlog_trace_buffer b;
            struct hvlog_trace_slot *slots;
            uint64_t entries = 0, lost = 0, buffers = 0, n, skipped, per_lp[SYNTH_MAX_LPS] = {0};
            enum hvlog_export_status st;

            assert_int_equal(meta->groups[g].type, want[g]->type);
            assert_int_equal(meta->groups[g].convention, want[g]->convention);
            assert_int_equal(meta->groups[g].buffer_pages, want[g]->pages);
            assert_int_equal(hvlog_trace_cursor_open(r, want[g]->type, &c, &err), HVLOG_EXPORT_OK);
            assert_int_equal(hvlog_trace_cursor_count(c), e->total_buffers);
            while ((st = hvlog_trace_cursor_next(c, &b, count_entries, &entries, &err)) ==
                   HVLOG_EXPORT_OK) {
                assert_int_equal(b.summary.type, want[g]->type);
                assert_int_equal(b.len, want[g]->pages * HV_PAGE_SIZE);
                /* Interleaved local, global, local...: the first global buffer
                 * follows the first local one. */
                if (buffers == 0 && want[g]->type == 0)
                    assert_int_equal(b.file_offset, local_bytes);
                buffers++;
                lost += b.summary.events_lost;
            }
            assert_int_equal(st, HVLOG_EXPORT_END);
            assert_int_equal(buffers, e->total_buffers);
            assert_int_equal(entries, e->total_events);
            assert_int_equal(lost, e->total_lost);
            /* A buffer of the other type is not this cursor's to read. */
            assert_int_equal(hvlog_trace_cursor_read(c, want[g]->type == 0 ? 0 : 1, &b, NULL, NULL, &err),
                             HVLOG_EXPORT_INVALID);
            /* Fill order per LP, entries as the walker counts them. */
            assert_int_equal(hvlog_trace_fill_order(c, false, NULL, NULL, &slots, &n, &skipped, &err),
                             HVLOG_EXPORT_OK);
            assert_int_equal(n, e->total_buffers);
            for (uint64_t i = 0; i < n; i++) {
                assert_true(slots[i].lp < SYNTH_MAX_LPS);
                per_lp[slots[i].lp] += slots[i].entries;
            }
            for (uint32_t lp = 0; lp < want[g]->lps; lp++)
                assert_int_equal(per_lp[lp], e->events[lp]);
            free(slots);
            hvlog_trace_cursor_close(c);
        }
        hvlog_trace_close(r);
        free(raw);
    }
}

/* In a raw file of several types, a header that lies about its size is
 * stepped over by its type's size (nothing desynchronises) and reported
 * by its own group only; a file ending inside a buffer says so once. */
static void a_raw_file_of_several_types_survives_a_lying_header_and_a_cut(void **state)
{
    struct synth_expect expect[2];
    char *raw = write_mixed(state, 2, expect); /* local current 2 pages, global 2013 1 page */
    uint32_t local_bytes = 2 * HV_PAGE_SIZE, pair = local_bytes + HV_PAGE_SIZE;
    uint8_t lie[4];
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_slot *slots;
    uint64_t n, skipped;
    struct stat st;
    int truncated = 0;

    /* The second local buffer's BufferSize says 3 pages (current: minus 72). */
    hvlog_store_le32(lie, 3 * HV_PAGE_SIZE - 72);
    patch_file(raw, (long)pair, lie, sizeof lie);
    assert_int_equal(hvlog_trace_open(raw, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_reader_meta(r)->group_count, 2);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_fill_order(c, false, NULL, NULL, &slots, &n, &skipped, &err),
                     HVLOG_EXPORT_CORRUPT);
    assert_non_null(strstr(err.message, "mixed-both.raw: buffer 2 at byte 12288: "));
    assert_int_equal(hvlog_trace_fill_order(c, true, NULL, NULL, &slots, &n, &skipped, &err),
                     HVLOG_EXPORT_OK);
    assert_int_equal(n, expect[0].total_buffers - 1);
    assert_int_equal(skipped, 1);
    free(slots);
    hvlog_trace_cursor_close(c);
    assert_int_equal(hvlog_trace_cursor_open(r, 0, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_fill_order(c, false, NULL, NULL, &slots, &n, &skipped, &err),
                     HVLOG_EXPORT_OK);
    assert_int_equal(n, expect[1].total_buffers);
    free(slots);
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);

    /* Cut 100 bytes: the last buffer (local: the local type has more) is partial. */
    assert_int_equal(stat(raw, &st), 0);
    assert_int_equal(truncate(raw, st.st_size - 100), 0);
    assert_int_equal(hvlog_trace_open(raw, &r, &err), HVLOG_EXPORT_OK);
    for (uint32_t type = 0; type < 2; type++) {
        struct hvlog_trace_buffer b;
        enum hvlog_export_status s;

        assert_int_equal(hvlog_trace_cursor_open(r, type, &c, &err), HVLOG_EXPORT_OK);
        while ((s = hvlog_trace_cursor_next(c, &b, NULL, NULL, &err)) == HVLOG_EXPORT_OK ||
               s == HVLOG_EXPORT_CORRUPT)
            ;
        if (s == HVLOG_EXPORT_TRUNCATED) {
            truncated++;
            assert_int_equal(type, 1);
            assert_non_null(strstr(err.message, "truncated: 8092 bytes at the end are less than "
                                                "one 8192-byte buffer"));
            s = hvlog_trace_cursor_next(c, &b, NULL, NULL, &err);
        }
        assert_int_equal(s, HVLOG_EXPORT_END);
        hvlog_trace_cursor_close(c);
    }
    assert_int_equal(truncated, 1);
    hvlog_trace_close(r);
    free(raw);
}

static void a_corrupt_buffer_is_reported_and_skipped_never_trusted(void **state)
{
    char *dir = synth_path(*state, "t");
    char *data = synth_path(dir, "local.buffers");
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;
    struct hvlog_trace_slot *slots;
    uint64_t n, skipped, entries = 0;
    uint8_t bad_size[2] = {0xF9, 0xFF}; /* Size 65529: the classic 16-bit wrap */

    assert_int_equal(synth_write_trace(&spec_2013, dir, &expect), 0);
    /* Buffer 2's first entry gets a Size that runs past the data. */
    patch_file(data, 2 * HV_PAGE_SIZE + 72 + 4, bad_size, 2);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_next(c, &b, count_entries, &entries, &err),
                     HVLOG_EXPORT_CORRUPT);
    assert_int_equal(entries, 0); /* nothing from a corrupt buffer */
    assert_non_null(strstr(err.message, "local.buffers: buffer 2 at byte 8192: an entry's Size"));
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(b.file_index, 3);
    /* The index refuses it, or skips it when asked. */
    assert_int_equal(hvlog_trace_fill_order(c, false, NULL, NULL, &slots, &n, &skipped, &err),
                     HVLOG_EXPORT_CORRUPT);
    assert_null(slots);
    assert_int_equal(hvlog_trace_fill_order(c, true, NULL, NULL, &slots, &n, &skipped, &err),
                     HVLOG_EXPORT_OK);
    assert_int_equal(n, expect.total_buffers - 1);
    assert_int_equal(skipped, 1);
    free(slots);
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
    free(data);
    free(dir);
}

static void a_truncated_file_yields_its_whole_buffers_then_says_so(void **state)
{
    char *dir = synth_path(*state, "t");
    char *data = synth_path(dir, "local.buffers");
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;
    uint64_t n = 0;
    enum hvlog_export_status st;

    assert_int_equal(synth_write_trace(&spec_2013, dir, &expect), 0);
    assert_int_equal(truncate(data, (off_t)(expect.total_buffers * HV_PAGE_SIZE - 100)), 0);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_count(c), expect.total_buffers - 1);
    while ((st = hvlog_trace_cursor_next(c, &b, NULL, NULL, &err)) == HVLOG_EXPORT_OK)
        n++;
    assert_int_equal(n, expect.total_buffers - 1);
    assert_int_equal(st, HVLOG_EXPORT_TRUNCATED);
    assert_non_null(strstr(err.message, "truncated: 3996 bytes at the end are less than one 4096-byte buffer"));
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_END);
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
    free(data);
    free(dir);
}

/* Issue 13: a file cut exactly at a buffer boundary is no longer accepted
 * in silence: the metadata's buffer count says buffers are missing. */
static void a_cut_at_a_buffer_boundary_is_found_by_the_metadata_count(void **state)
{
    char *dir = synth_path(*state, "t");
    char *data = synth_path(dir, "local.buffers");
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_trace_slot *slots;
    struct hvlog_export_error err;
    uint64_t n = 0, skipped = 0;
    enum hvlog_export_status st;

    assert_int_equal(synth_write_trace(&spec_2013, dir, &expect), 0);
    assert_int_equal(truncate(data, (off_t)((expect.total_buffers - 2) * HV_PAGE_SIZE)), 0);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    while ((st = hvlog_trace_cursor_next(c, &b, NULL, NULL, &err)) == HVLOG_EXPORT_OK)
        n++;
    assert_int_equal(n, expect.total_buffers - 2);
    assert_int_equal(st, HVLOG_EXPORT_TRUNCATED);
    /* Version 2 counts per group (buffers_written); version 1 only in
     * total ("the metadata counts N buffers, the group files hold M"). */
    assert_non_null(strstr(err.message, "truncated: 13 whole buffers, but the recording wrote 15"));
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_END);
    /* Fill order refuses it too, or with skip_corrupt reports and counts it. */
    assert_int_equal(hvlog_trace_fill_order(c, false, NULL, NULL, &slots, &n, NULL, &err),
                     HVLOG_EXPORT_TRUNCATED);
    assert_int_equal(hvlog_trace_fill_order(c, true, NULL, NULL, &slots, &n, &skipped, &err),
                     HVLOG_EXPORT_OK);
    assert_int_equal(n, expect.total_buffers - 2);
    assert_int_equal(skipped, 1);
    free(slots);
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
    free(data);
    free(dir);
}

static void data_in_the_other_convention_is_named_in_the_error(void **state)
{
    char *dir = synth_path(*state, "t");
    char *data = synth_path(dir, "local.buffers");
    char *raw = synth_path(*state, "current.raw");
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;
    struct synth_spec one_page = spec_current;

    /* A 2013 trace directory whose data file holds current-convention buffers. */
    one_page.pages = 1;
    assert_int_equal(synth_write_trace(&spec_2013, dir, &expect), 0);
    assert_int_equal(synth_write_raw(&one_page, raw, &expect), 0);
    assert_int_equal(rename(raw, data), 0);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_CORRUPT);
    assert_non_null(strstr(err.message, "looks like the current convention"));
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
    free(raw);
    free(data);
    free(dir);
}

static bool count_delivered(void *arg, const struct hvlog_entry *entry)
{
    (void)entry;
    (*(uint32_t *)arg)++;
    return true;
}

/* The index counts entries itself (no callback per entry); its count must
 * be the walker's, in both conventions (the current one pads Size up to 8). */
static void fill_order_counts_the_entries_the_walker_delivers(void **state)
{
    const struct synth_spec *specs[] = {&spec_2013, &spec_current};

    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        char name[8];
        char *dir;
        struct synth_expect expect;
        struct hvlog_trace_reader *r;
        struct hvlog_trace_cursor *c;
        struct hvlog_export_error err;
        struct hvlog_trace_slot *s;
        uint64_t n, skipped, per_lp[SYNTH_MAX_LPS] = {0};

        snprintf(name, sizeof name, "t%zu", k);
        dir = synth_path(*state, name);
        assert_int_equal(synth_write_trace(specs[k], dir, &expect), 0);
        assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
        assert_int_equal(hvlog_trace_cursor_open(r, specs[k]->type, &c, &err), HVLOG_EXPORT_OK);
        assert_int_equal(hvlog_trace_fill_order(c, false, NULL, NULL, &s, &n, &skipped, &err),
                         HVLOG_EXPORT_OK);
        assert_int_equal(n, expect.total_buffers);
        for (uint64_t i = 0; i < n; i++) {
            struct hvlog_trace_buffer b;
            uint32_t delivered = 0;

            assert_int_equal(hvlog_trace_cursor_read(c, s[i].file_index, &b, count_delivered,
                                                     &delivered, &err),
                             HVLOG_EXPORT_OK);
            assert_int_equal(s[i].entries, delivered);
            assert_true(s[i].lp < SYNTH_MAX_LPS);
            per_lp[s[i].lp] += s[i].entries;
        }
        for (uint32_t lp = 0; lp < specs[k]->lps; lp++)
            assert_int_equal(per_lp[lp], expect.events[lp]);
        free(s);
        hvlog_trace_cursor_close(c);
        hvlog_trace_close(r);
        free(dir);
    }
}

static void fill_order_undoes_the_release_order(void **state)
{
    char *dir = synth_path(*state, "t");
    struct synth_spec spec = spec_2013;
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_export_error err;
    struct hvlog_trace_slot *s;
    uint64_t n, skipped;
    bool moved = false;

    spec.swap_release = true;
    assert_int_equal(synth_write_trace(&spec, dir, &expect), 0);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_fill_order(c, false, NULL, NULL, &s, &n, &skipped, &err),
                     HVLOG_EXPORT_OK);
    assert_int_equal(n, expect.total_buffers);
    assert_int_equal(skipped, 0);
    for (uint64_t i = 1; i < n; i++) {
        assert_true(s[i - 1].lp < s[i].lp ||
                    (s[i - 1].lp == s[i].lp && s[i - 1].time_stamp < s[i].time_stamp));
        if (s[i - 1].lp == s[i].lp && s[i - 1].file_index > s[i].file_index)
            moved = true;
    }
    assert_true(moved); /* the file really was out of fill order */
    for (uint64_t i = 0; i < n; i++)
        assert_int_equal(s[i].lp, i / spec.buffers_per_lp);
    free(s);
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
    free(dir);
}

static void foreign_inputs_are_refused_with_one_clear_line(void **state)
{
    static const struct {
        const char *name;
        const char *content; /* NULL: a directory */
        enum hvlog_export_status status;
        const char *says;
    } rows[] = {
        {"empty", "", HVLOG_EXPORT_NOT_TRACE, "less than a buffer header"},
        {"text", "#!/bin/sh\necho this is a shell script, long enough to hold a header......\n",
         HVLOG_EXPORT_NOT_TRACE, "no event-log buffer header in either convention"},
        {"ctf", NULL, HVLOG_EXPORT_NOT_TRACE, "not an hvlog trace (no hvlog-trace.json)"},
    };
    struct hvlog_trace_reader *r = (struct hvlog_trace_reader *)1;
    struct hvlog_export_error err;

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char *path = synth_path(*state, rows[i].name);
        if (rows[i].content)
            write_file(path, rows[i].content, strlen(rows[i].content));
        else
            assert_int_equal(mkdir(path, 0777), 0);
        assert_int_equal(hvlog_trace_open(path, &r, &err), rows[i].status);
        assert_null(r);
        assert_non_null(strstr(err.message, rows[i].says));
        assert_non_null(strstr(err.message, path));
        assert_null(strchr(err.message, '\n'));
        free(path);
    }
    assert_int_equal(hvlog_trace_open("/nonexistent/trace", &r, &err), HVLOG_EXPORT_NOT_TRACE);
    assert_non_null(strstr(err.message, "No such file"));
    assert_int_equal(hvlog_trace_open("/dev/null", &r, &err), HVLOG_EXPORT_NOT_TRACE);
    assert_non_null(strstr(err.message, "not a trace directory or a regular file"));
}

static void a_buffer_header_of_an_unknown_type_is_not_a_trace(void **state)
{
    char *path = synth_path(*state, "weird.raw");
    uint8_t buf[HV_PAGE_SIZE] = {0};
    struct hv_eventlog_buffer_header h = {.buffer_size = HV_PAGE_SIZE, .next_buffer_offset = 72,
                                          .type = 7};
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;

    hv_eventlog_buffer_header_store(buf, &h);
    write_file(path, buf, sizeof buf);
    assert_int_equal(hvlog_trace_open(path, &r, &err), HVLOG_EXPORT_NOT_TRACE);
    assert_non_null(strstr(err.message, "Type is 7"));
    free(path);
}

/* ---- metadata ---- */

static const char good_meta[] =
    "{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"local.buffers\","
    "\"header_convention\":\"2013\",\"buffer_pages\":4}]}";

static void minimal_metadata_is_enough(void **state)
{
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;
    (void)state;

    assert_int_equal(hvlog_trace_meta_parse(good_meta, sizeof good_meta - 1, &meta, &err),
                     HVLOG_EXPORT_OK);
    assert_int_equal(meta.groups[0].buffer_pages, 4);
    assert_string_equal(meta.abi_profile, "2013");
    assert_null(meta.command_line);
    assert_non_null(hvlog_trace_meta_group(&meta, 1));
    assert_null(hvlog_trace_meta_group(&meta, 0));
    hvlog_trace_meta_release(&meta);
}

static void every_metadata_value_is_checked(void **state)
{
    static const struct {
        const char *text;
        enum hvlog_export_status status;
        const char *says;
    } rows[] = {
        {"not json", HVLOG_EXPORT_NOT_TRACE, "not JSON (line 1, column 1"},
        {"[1]", HVLOG_EXPORT_NOT_TRACE, "not a JSON object"},
        {"{\"format\":\"ctf\",\"version\":1}", HVLOG_EXPORT_NOT_TRACE, "\"format\" is not"},
        {"{\"format\":\"hvlog-trace\"}", HVLOG_EXPORT_BAD_META, "version: missing"},
        /* What a reader that predates format 3 said of a compressed trace:
         * now one version later. */
        {"{\"format\":\"hvlog-trace\",\"version\":4}", HVLOG_EXPORT_VERSION,
         "version 4 is newer than this hvlog reads (3)"},
        {"{\"format\":\"hvlog-trace\",\"version\":\"1\"}", HVLOG_EXPORT_BAD_META,
         "version: not an unsigned"},
        {"{\"format\":\"hvlog-trace\",\"version\":1}", HVLOG_EXPORT_BAD_META, "groups: not an array"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[]}", HVLOG_EXPORT_BAD_META,
         "groups: not an array of 1 to 3"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"../etc/passwd\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1}]}",
         HVLOG_EXPORT_BAD_META, "groups[0].file: not a plain file name"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\".hidden\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1}]}",
         HVLOG_EXPORT_BAD_META, "groups[0].file"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":3,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1}]}",
         HVLOG_EXPORT_BAD_META, "groups[0].type: out of range"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2020\",\"buffer_pages\":1}]}",
         HVLOG_EXPORT_BAD_META, "header_convention: neither"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":513}]}",
         HVLOG_EXPORT_BAD_META, "buffer_pages: out of range"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":0}]}",
         HVLOG_EXPORT_BAD_META, "buffer_pages: out of range"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1,\"time_basis\":3}]}",
         HVLOG_EXPORT_BAD_META, "time_basis: out of range"},
        {"{\"format\":\"hvlog-trace\",\"version\":3,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1,\"compression\":\"lz4\"}]}",
         HVLOG_EXPORT_BAD_META, "groups[0].compression: neither \"zstd\" nor \"none\""},
        {"{\"format\":\"hvlog-trace\",\"version\":3,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1,\"compression\":1}]}",
         HVLOG_EXPORT_BAD_META, "groups[0].compression: not a string"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1,\"sources\":\"0xZZ\"}]}",
         HVLOG_EXPORT_BAD_META, "sources: not a \"0x...\" mask"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1},{\"type\":1,\"file\":\"y\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1}]}",
         HVLOG_EXPORT_BAD_META, "groups[1].type: a second group of the same type"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1}],\"lps\":[{\"lp\":-1}]}",
         HVLOG_EXPORT_BAD_META, "lps[0].lp: not an unsigned"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1}],\"host\":{\"lps\":4294967296}}",
         HVLOG_EXPORT_BAD_META, "host.lps: out of range"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"qpc_frequency_hz\":\"10MHz\","
         "\"groups\":[{\"type\":1,\"file\":\"x\",\"header_convention\":\"2013\",\"buffer_pages\":1}]}",
         HVLOG_EXPORT_BAD_META, "qpc_frequency_hz: not an unsigned"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1,\"qpc_at_init\":-1}]}",
         HVLOG_EXPORT_BAD_META, "groups[0].qpc_at_init: not an unsigned"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1,\"qpc_at_init\":null}]}",
         HVLOG_EXPORT_BAD_META, "groups[0].qpc_at_init: not an unsigned"},
        {"{\"format\":\"hvlog-trace\",\"version\":1,\"groups\":[{\"type\":1,\"file\":\"x\","
         "\"header_convention\":\"2013\",\"buffer_pages\":1}],\"lps\":[{\"overwritten\":1.5}]}",
         HVLOG_EXPORT_BAD_META, "lps[0].overwritten: not an unsigned"},
    };
    (void)state;

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct hvlog_trace_meta meta;
        struct hvlog_export_error err;
        enum hvlog_export_status st =
            hvlog_trace_meta_parse(rows[i].text, strlen(rows[i].text), &meta, &err);

        if (st != rows[i].status || !strstr(err.message, rows[i].says))
            print_error("row %zu: status %d, message <%s>\n", i, st, err.message);
        assert_int_equal(st, rows[i].status);
        assert_non_null(strstr(err.message, rows[i].says));
        hvlog_trace_meta_release(&meta);
    }
}

static void metadata_strings_round_trip_through_the_file(void **state)
{
    char *dir = synth_path(*state, "t");
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;
    const char *cmd = "hvlog record -o \"my trace\" --note 'caf\xC3\xA9\\n'\t\x01";

    synth_meta(&spec_2013, &meta);
    meta.command_line = (char *)cmd;
    meta.groups[0].time_basis = HvEventLogEntryTimeTsc;
    meta.tsc_frequency_hz = 2500000000u;
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_string_equal(hvlog_trace_reader_meta(r)->command_line, cmd);
    assert_int_equal(hvlog_trace_reader_meta(r)->groups[0].time_basis, HvEventLogEntryTimeTsc);
    assert_true(hvlog_trace_reader_meta(r)->tsc_frequency_hz == 2500000000u);
    assert_string_equal(hvlog_trace_reader_meta(r)->hvlog_version, "0.1.0");
    hvlog_trace_close(r);
    free(dir);
}

/* The QPC anchor (qpc_frequency_hz, groups[].qpc_at_init) and the per-LP
 * overwritten count go through the file; qpc_at_init 0 is a value, kept
 * apart from "absent" (unknown), and an unknown one is not written. */
static void qpc_anchor_and_overwritten_round_trip_through_the_file(void **state)
{
    struct synth_spec s[2] = {spec_current, spec_current};
    char *dir = synth_path(*state, "t");
    char *json = synth_path(dir, HVLOG_TRACE_META_FILE);
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta, back;
    struct hvlog_trace_lp lps[2] = {{0, 100, 90, 10, 10, 0, 70}, {1, 5, 5, 0, 0, 0, 0}};
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;
    const struct hvlog_trace_meta *m;
    char text[8192];
    size_t n;
    FILE *f;

    s[0].time_basis = s[1].time_basis = HvEventLogEntryTimeQpc;
    s[1].type = HvEventLogTypeGlobalSystemEvents;
    s[1].lps = 1;
    synth_meta(&s[0], &meta);
    meta.group_count = 2;
    synth_meta(&s[1], &back);
    meta.groups[1] = back.groups[0];
    meta.qpc_frequency_hz = 24000000u;
    meta.groups[0].qpc_at_init = 0;          /* known, and 0 */
    meta.groups[1].qpc_at_init = 123456789u;
    meta.groups[1].qpc_at_init_known = false; /* unknown: not written */
    meta.lps = lps;
    meta.lp_count = 2;
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);

    f = fopen(json, "rb");
    assert_non_null(f);
    n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    assert_non_null(strstr(text, "\"qpc_frequency_hz\": 24000000"));
    assert_non_null(strstr(text, "\"qpc_at_init\": 0,"));
    assert_null(strstr(text, "123456789"));
    assert_non_null(strstr(text, "\"overwritten\": 70"));

    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    m = hvlog_trace_reader_meta(r);
    assert_true(m->qpc_frequency_hz == 24000000u);
    assert_int_equal(m->group_count, 2);
    assert_true(m->groups[0].qpc_at_init_known);
    assert_true(m->groups[0].qpc_at_init == 0);
    assert_false(m->groups[1].qpc_at_init_known);
    assert_true(m->groups[1].qpc_at_init == 0);
    assert_int_equal(m->lp_count, 2);
    assert_true(m->lps[0].overwritten == 70);
    assert_true(m->lps[0].recorded == 90);
    assert_true(m->lps[1].overwritten == 0);
    hvlog_trace_close(r);
    free(json);
    free(dir);
}

/* A trace written before these members existed: the QPC frequency and
 * anchor are unknown, nothing was overwritten. */
static void metadata_without_the_qpc_anchor_or_overwritten_reads_as_unknown(void **state)
{
    static const char old[] =
        "{\"format\":\"hvlog-trace\",\"version\":1,\"abi_profile\":\"current\","
        "\"groups\":[{\"type\":1,\"file\":\"local.buffers\",\"header_convention\":\"current\","
        "\"buffer_pages\":4,\"time_basis\":2,\"system_time\":134116992000000000,"
        "\"reference_time_at_init\":5000}],"
        "\"lps\":[{\"lp\":0,\"logged\":10,\"recorded\":10,\"lost\":0}]}";
    static const char with[] =
        "{\"format\":\"hvlog-trace\",\"version\":1,\"qpc_frequency_hz\":18446744073709551615,"
        "\"groups\":[{\"type\":1,\"file\":\"local.buffers\",\"header_convention\":\"current\","
        "\"buffer_pages\":4,\"qpc_at_init\":18446744073709551615}],"
        "\"lps\":[{\"overwritten\":18446744073709551615}]}";
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;
    (void)state;

    assert_int_equal(hvlog_trace_meta_parse(old, sizeof old - 1, &meta, &err), HVLOG_EXPORT_OK);
    assert_true(meta.qpc_frequency_hz == 0);
    assert_false(meta.groups[0].qpc_at_init_known);
    assert_int_equal(meta.lp_count, 1);
    assert_true(meta.lps[0].overwritten == 0);
    hvlog_trace_meta_release(&meta);
    /* The full u64 range of each. */
    assert_int_equal(hvlog_trace_meta_parse(with, sizeof with - 1, &meta, &err), HVLOG_EXPORT_OK);
    assert_true(meta.qpc_frequency_hz == UINT64_MAX);
    assert_true(meta.groups[0].qpc_at_init_known);
    assert_true(meta.groups[0].qpc_at_init == UINT64_MAX);
    assert_true(meta.lps[0].overwritten == UINT64_MAX);
    hvlog_trace_meta_release(&meta);
}

/* A flight recorder's snapshot member (record --snapshot): written from
 * the meta, read back row by row with the full u64 range; absent in a
 * plain trace; a bad one is refused, naming the member. */
static void the_snapshot_member_round_trips_and_is_checked(void **state)
{
    struct synth_spec s = spec_current;
    char *dir = synth_path(*state, "t");
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta;
    struct hvlog_trace_snapshot_lp rows[2] = {
        {1, 0, 3, 300, 7, 40, 4000, UINT64_MAX},
        {0, 5, 1, 10, 0, 0, 0, 0},
    };
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;
    const struct hvlog_trace_meta *m;
    static const struct {
        const char *snapshot;
        const char *message;
    } bad[] = {
        {"[]", "snapshot: not an object"},
        {"{}", "snapshot.sequence: missing"},
        {"{\"sequence\":1,\"lps\":{}}", "snapshot.lps: not an array"},
        {"{\"sequence\":1,\"lps\":[{\"lp\":0}]}", "snapshot.lps[0].type: missing"},
        {"{\"sequence\":1,\"lps\":[{\"type\":3,\"lp\":0}]}", "snapshot.lps[0].type: out of range"},
        {"{\"sequence\":1,\"lps\":[{\"type\":1,\"lp\":0,\"entries\":-1}]}",
         "snapshot.lps[0].entries: not an unsigned"},
        {"{\"sequence\":1,\"reason\":\"a reason far longer than sixteen\"}", "snapshot.reason: too long"},
    };

    synth_meta(&s, &meta);
    meta.snapshot_present = true;
    meta.snapshot.sequence = 12;
    meta.snapshot.ring_bytes = 65536;
    snprintf(meta.snapshot.reason, sizeof meta.snapshot.reason, "stop");
    meta.snapshot.rows = rows;
    meta.snapshot.row_count = 2;
    assert_int_equal(hvlog_trace_writer_create(dir, 0, &w, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_writer_commit(w, &meta, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    m = hvlog_trace_reader_meta(r);
    assert_true(m->snapshot_present);
    assert_true(m->snapshot.sequence == 12);
    assert_true(m->snapshot.ring_bytes == 65536);
    assert_string_equal(m->snapshot.reason, "stop");
    assert_int_equal(m->snapshot.row_count, 2);
    assert_memory_equal(m->snapshot.rows, rows, sizeof rows);
    hvlog_trace_close(r);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[1024];
        struct hvlog_trace_meta back;

        snprintf(text, sizeof text,
                 "{\"format\":\"hvlog-trace\",\"version\":2,\"groups\":[{\"type\":1,"
                 "\"file\":\"local.buffers\",\"header_convention\":\"current\",\"buffer_pages\":4}],"
                 "\"snapshot\":%s}", bad[i].snapshot);
        assert_int_equal(hvlog_trace_meta_parse(text, strlen(text), &back, &err),
                         HVLOG_EXPORT_BAD_META);
        if (!strstr(err.message, bad[i].message))
            fail_msg("%s: '%s', not '%s'", bad[i].snapshot, err.message, bad[i].message);
        hvlog_trace_meta_release(&back);
    }
    free(dir);
}

/* Issue 13, A1: a FIFO (or any non-regular file) where a data file or the
 * metadata should be is refused at once; opening it never waits for a
 * writer (this test would hang, and time out, if it did). */
static void a_fifo_in_place_of_a_file_is_refused_without_blocking(void **state)
{
    char *dir = synth_path(*state, "t");
    char *data = synth_path(dir, "local.buffers");
    char *meta = synth_path(dir, "hvlog-trace.json");
    char *fifo = synth_path(*state, "fifo");
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_export_error err;

    assert_int_equal(synth_write_trace(&spec_2013, dir, &expect), 0);
    assert_int_equal(unlink(data), 0);
    assert_int_equal(mkfifo(data, 0600), 0);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_NOT_TRACE);
    assert_non_null(strstr(err.message, "local.buffers: not a regular file"));
    hvlog_trace_close(r);
    assert_int_equal(unlink(meta), 0);
    assert_int_equal(mkfifo(meta, 0600), 0);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_NOT_TRACE);
    assert_non_null(strstr(err.message, "hvlog-trace.json: not a regular file"));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(hvlog_trace_open(fifo, &r, &err), HVLOG_EXPORT_NOT_TRACE);
    free(fifo);
    free(meta);
    free(data);
    free(dir);
}

/* Issue 13, A2: metadata whose arrays claim more objects than any trace
 * holds is refused before a tree is built (16 MB of "{}," was 1.5 GB). */
static void metadata_with_millions_of_objects_is_refused_before_parsing(void **state)
{
    const size_t n = 1u << 20;
    const char head[] = "{\"format\":\"hvlog-trace\",\"version\":1,\"lps\":[";
    char *text = malloc(sizeof head + 3 * n + 4), *p = text;
    struct hvlog_trace_meta meta;
    struct hvlog_export_error err;
    (void)state;

    assert_non_null(text);
    memcpy(p, head, sizeof head - 1);
    p += sizeof head - 1;
    for (size_t i = 0; i < n; i++) {
        memcpy(p, i ? ",{}" : "{}", i ? 3 : 2);
        p += i ? 3 : 2;
    }
    memcpy(p, "]}", 2);
    p += 2;
    memset(&meta, 0, sizeof meta);
    assert_int_not_equal(hvlog_trace_meta_parse(text, (size_t)(p - text), &meta, &err), HVLOG_EXPORT_OK);
    assert_non_null(strstr(err.message, "objects or arrays"));
    hvlog_trace_meta_release(&meta);
    free(text);
}

/* Issue 13, A3: a sparse raw file of 1 TiB holding one buffer opens by its
 * data, not its length (the old scan read 268 million headers: minutes,
 * beyond this test's timeout), and keeps no table for one type. */
static void a_sparse_raw_file_opens_by_its_data(void **state)
{
    static const struct synth_spec one = {
        1, 1, 1, 1, 20, HVLOG_ABI_2013, HvEventLogEntryTimeReference, false, false, SYNTH_IN_ORDER};
    char *raw = synth_path(*state, "sparse.raw");
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;

    assert_int_equal(synth_write_raw(&one, raw, &expect), 0);
    if (truncate(raw, (off_t)1 << 40) != 0) {
        free(raw);
        skip(); /* a file system without 1 TiB sparse files */
    }
    assert_int_equal(hvlog_trace_open(raw, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_reader_meta(r)->group_count, 1);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_true(hvlog_trace_cursor_count(c) == ((uint64_t)1 << 40) / HV_PAGE_SIZE);
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_CORRUPT);
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
    free(raw);
}

/* Issue 13: a valid BufferSize that is not the group's says both sizes. */
static void a_buffer_of_another_valid_size_says_both_sizes(void **state)
{
    char *dir = synth_path(*state, "t");
    char *data = synth_path(dir, "local.buffers");
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;
    uint8_t two_pages[4];

    assert_int_equal(synth_write_trace(&spec_2013, dir, &expect), 0);
    hvlog_store_le32(two_pages, 2 * HV_PAGE_SIZE);
    patch_file(data, 0, two_pages, sizeof two_pages);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_CORRUPT);
    assert_non_null(strstr(err.message, "BufferSize says 8192 bytes, but the group's buffers are 4096 bytes"));
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
    free(data);
    free(dir);
}

static void status_names_and_texts_come_from_one_table(void **state)
{
    (void)state;
    assert_string_equal(hvlog_export_status_name(HVLOG_EXPORT_TIME), "HVLOG_EXPORT_TIME");
    assert_string_equal(hvlog_export_status_text(HVLOG_EXPORT_EXISTS), "the output exists");
    assert_null(hvlog_export_status_name((enum hvlog_export_status)99));
    assert_string_equal(hvlog_trace_group_file(0), "global.buffers");
    assert_string_equal(hvlog_trace_group_file(1), "local.buffers");
    assert_null(hvlog_trace_group_file(3));
}

/* One clock per basis: the anchor read with the least delay (the largest
 * offset) places every group of that basis; groups without one never do. */
static void the_trace_anchor_of_a_basis_is_its_group_with_the_largest_offset(void **state)
{
    struct hvlog_trace_meta m;
    (void)state;

    memset(&m, 0, sizeof m);
    m.group_count = 3;
    m.groups[0] = (struct hvlog_trace_group){.type = 0, .time_basis = 0,
                                             .system_time = 1000000, .reference_time_at_init = 500};
    m.groups[1] = (struct hvlog_trace_group){.type = 1, .time_basis = 0,
                                             .system_time = 1000100, .reference_time_at_init = 520};
    m.groups[2] = (struct hvlog_trace_group){.type = 2, .time_basis = 2, .system_time = 1000000,
                                             .qpc_at_init = 40, .qpc_at_init_known = true};
    /* Offsets 999500 and 999580: the second anchor was read 8 us sooner. */
    assert_ptr_equal(hvlog_trace_meta_anchor(&m, 0), &m.groups[1]);
    m.groups[1].reference_time_at_init = 620; /* offset 999480: now the first wins */
    assert_ptr_equal(hvlog_trace_meta_anchor(&m, 0), &m.groups[0]);
    m.groups[0].system_time = 0; /* unknown: not an anchor */
    assert_ptr_equal(hvlog_trace_meta_anchor(&m, 0), &m.groups[1]);
    assert_null(hvlog_trace_meta_anchor(&m, 1)); /* TSC: no anchor in the format */
    assert_null(hvlog_trace_meta_anchor(&m, 2)); /* QPC without its frequency */
    m.qpc_frequency_hz = 10000000;
    assert_ptr_equal(hvlog_trace_meta_anchor(&m, 2), &m.groups[2]);
    m.groups[2].qpc_at_init_known = false;
    assert_null(hvlog_trace_meta_anchor(&m, 2));
    assert_null(hvlog_trace_meta_anchor(NULL, 0));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, synth_setup_tmp, synth_teardown_tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(the_reader_returns_every_buffer_byte_for_byte),
        T(nothing_appears_before_commit_and_abort_leaves_nothing),
        T(the_writer_checks_its_input_and_a_failed_commit_leaves_nothing),
        T(an_existing_directory_is_replaced_only_with_force_and_only_if_ours),
        T(raw_files_are_read_in_both_conventions),
        T(a_raw_file_of_several_types_gives_one_group_per_type),
        T(a_raw_file_of_several_types_survives_a_lying_header_and_a_cut),
        T(a_corrupt_buffer_is_reported_and_skipped_never_trusted),
        T(a_truncated_file_yields_its_whole_buffers_then_says_so),
        T(a_cut_at_a_buffer_boundary_is_found_by_the_metadata_count),
        T(a_fifo_in_place_of_a_file_is_refused_without_blocking),
        cmocka_unit_test(metadata_with_millions_of_objects_is_refused_before_parsing),
        T(a_sparse_raw_file_opens_by_its_data),
        T(a_buffer_of_another_valid_size_says_both_sizes),
        T(data_in_the_other_convention_is_named_in_the_error),
        T(fill_order_undoes_the_release_order),
        T(fill_order_counts_the_entries_the_walker_delivers),
        T(foreign_inputs_are_refused_with_one_clear_line),
        T(a_buffer_header_of_an_unknown_type_is_not_a_trace),
        cmocka_unit_test(minimal_metadata_is_enough),
        cmocka_unit_test(the_trace_anchor_of_a_basis_is_its_group_with_the_largest_offset),
        cmocka_unit_test(every_metadata_value_is_checked),
        T(metadata_strings_round_trip_through_the_file),
        T(qpc_anchor_and_overwritten_round_trip_through_the_file),
        T(the_snapshot_member_round_trips_and_is_checked),
        cmocka_unit_test(metadata_without_the_qpc_anchor_or_overwritten_reads_as_unknown),
        cmocka_unit_test(status_names_and_texts_come_from_one_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
