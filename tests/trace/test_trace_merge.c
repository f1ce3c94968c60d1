/* SPDX-License-Identifier: MIT */
/*
 * The trace layer's clock and merge (hvlog/trace/clock.h, merge.h), with
 * the regression tests of issue 12's bugs 2-4 and issue 13's A4 at the
 * library level: time going back is flagged, never wrapped; bases that
 * cannot share a clock are never interleaved by raw stamp; a buffer that
 * fails when read again is reported with its loss; one open file per
 * group and bounded windows, whatever the LP count.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "hvlog/trace/clock.h"
#include "hvlog/trace/merge.h"
#include "synth.h"

/* Totals of one merge run. */
struct run {
    uint64_t entries, lost, dropped, dropped_entries, dropped_lost, clocks, backs;
    uint64_t per_lp[SYNTH_MAX_LPS];
    uint32_t first_type_after_clock;
    bool time_went_back_unflagged;
};

static enum hvlog_export_status run_merge(struct hvlog_trace_merge *m, struct run *r, uint32_t lp_of_back)
{
    struct hvlog_trace_item it;
    struct hvlog_export_error err;
    enum hvlog_export_status st;
    uint64_t last[HVLOG_TRACE_MAX_GROUPS][SYNTH_MAX_LPS] = {{0}};
    bool seen_clock = false;

    (void)lp_of_back;
    memset(r, 0, sizeof(*r));
    while ((st = hvlog_trace_merge_next(m, &it, &err)) == HVLOG_EXPORT_OK) {
        switch (it.kind) {
        case HVLOG_TRACE_ITEM_ENTRY:
            r->entries++;
            if (it.lp < SYNTH_MAX_LPS)
                r->per_lp[it.lp]++;
            if (it.back)
                r->backs++;
            else if (it.entry.time_stamp < last[it.group->type][it.lp % SYNTH_MAX_LPS])
                r->time_went_back_unflagged = true;
            last[it.group->type][it.lp % SYNTH_MAX_LPS] = it.entry.time_stamp;
            /* Bug 1: the payload is Size - 16, never the padding. */
            assert_int_equal(it.entry.payload_len + 16u, it.entry.size);
            if (seen_clock && r->first_type_after_clock == UINT32_MAX)
                r->first_type_after_clock = it.group->type;
            break;
        case HVLOG_TRACE_ITEM_LOST:
            r->lost += it.lost;
            break;
        case HVLOG_TRACE_ITEM_CLOCK:
            r->clocks++;
            seen_clock = true;
            r->first_type_after_clock = UINT32_MAX;
            break;
        case HVLOG_TRACE_ITEM_DROPPED:
            r->dropped++;
            r->dropped_entries += it.entries;
            r->dropped_lost += it.lost;
            assert_non_null(strstr(it.message, "buffer"));
            break;
        }
    }
    return st;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

/* ---- the clock ---- */

static void the_clock_converts_and_refuses_what_it_cannot(void **state)
{
    struct hvlog_trace_meta meta;
    struct hvlog_trace_group g;
    struct hvlog_trace_clock c;
    struct hvlog_export_error err;
    int64_t t;
    (void)state;

    memset(&meta, 0, sizeof meta);
    memset(&g, 0, sizeof g);
    meta.group_count = 1;
    g.type = 1;
    g.time_basis = HvEventLogEntryTimeReference;
    g.system_time = HVLOG_FILETIME_UNIX_EPOCH + 10000000u; /* 1970-01-01 00:00:01 */
    g.reference_time_at_init = 5000;
    meta.groups[0] = g;
    hvlog_trace_clock_init(&c, &meta, &meta.groups[0], 0);
    assert_true(c.anchored);
    assert_int_equal(c.freq_hz, HVLOG_REFERENCE_HZ);
    assert_true(hvlog_trace_clock_to_unix(&c, 5000, HVLOG_REFERENCE_HZ, &t));
    assert_int_equal(t, 10000000);
    assert_true(hvlog_trace_clock_to_unix(&c, 5001, 1000000000u, &t));
    assert_int_equal(t, 1000000100);
    /* Bug 2: time going back is negative, never a wrapped number. */
    assert_int_equal(hvlog_trace_clock_delta(&c, 10034, 10017, HVLOG_REFERENCE_HZ), -17);
    assert_int_equal(hvlog_trace_clock_delta(&c, 10017, 10034, 1000000000u), 1700);

    /* TSC of unknown frequency: raw ticks, and ns are refused with --tsc-hz named. */
    meta.groups[0].time_basis = HvEventLogEntryTimeTsc;
    hvlog_trace_clock_init(&c, &meta, &meta.groups[0], 0);
    assert_false(hvlog_trace_clock_has_ns(&c));
    assert_false(c.anchored);
    assert_int_equal(hvlog_trace_clock_delta(&c, 100, 40, 1000000000u), -60);
    assert_int_equal(hvlog_trace_clock_need_ns(&c, "the test", &err), HVLOG_EXPORT_UNSUPPORTED);
    assert_non_null(strstr(err.message, "--tsc-hz"));
    /* --tsc-hz gives it; the trace's own is used when present. */
    hvlog_trace_clock_init(&c, &meta, &meta.groups[0], 2000000000u);
    assert_int_equal(hvlog_trace_clock_scale(&c, 3000, 1000000000u), 1500);
    assert_false(c.anchored);
    meta.tsc_frequency_hz = 1000000000u;
    hvlog_trace_clock_init(&c, &meta, &meta.groups[0], 0);
    assert_int_equal(hvlog_trace_clock_need_ns(&c, "the test", &err), HVLOG_EXPORT_OK);

    /* QPC without its frequency: 10 MHz assumed, not anchored. */
    meta.groups[0].time_basis = HvEventLogEntryTimeQpc;
    meta.groups[0].qpc_at_init_known = true;
    meta.groups[0].qpc_at_init = 100;
    hvlog_trace_clock_init(&c, &meta, &meta.groups[0], 0);
    assert_true(c.freq_assumed);
    assert_false(c.anchored);
    meta.qpc_frequency_hz = 25000000u;
    hvlog_trace_clock_init(&c, &meta, &meta.groups[0], 0);
    assert_true(c.anchored);
    assert_true(hvlog_trace_clock_to_unix(&c, 100 + 25000000u, HVLOG_REFERENCE_HZ, &t));
    assert_int_equal(t, 20000000); /* one second after the anchor's second 1 */
}

/* ---- the merge ---- */

static const struct synth_spec spec_lost = {
    1, 3, 6, 1, 40, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, true, SYNTH_IN_ORDER};

static void the_merge_gives_every_entry_and_loss_in_time_order(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec_lost, &expect);
    struct hvlog_trace_merge *m;
    struct hvlog_export_error err;
    struct run run;

    assert_non_null(r);
    assert_int_equal(hvlog_trace_merge_open(r, NULL, &m, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_merge_streams(m), 3);
    assert_true(hvlog_trace_merge_one_clock(m));
    assert_int_equal(run_merge(m, &run, 0), HVLOG_EXPORT_END);
    assert_int_equal(run.entries, expect.total_events);
    assert_int_equal(run.lost, expect.total_lost);
    for (uint32_t lp = 0; lp < 3; lp++)
        assert_int_equal(run.per_lp[lp], expect.events[lp]);
    assert_int_equal(run.backs, 0);
    assert_false(run.time_went_back_unflagged);
    hvlog_trace_merge_close(m);
    hvlog_trace_close(r);
}

/* Bug 2: an entry older than its LP's previous one is flagged. */
static void time_going_back_on_an_lp_is_flagged(void **state)
{
    static const struct synth_spec spec = {
        1, 2, 4, 1, 30, HVLOG_ABI_2013, HvEventLogEntryTimeReference, false, false,
        SYNTH_BACK_IN_BUFFER};
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec, &expect);
    struct hvlog_trace_merge *m;
    struct hvlog_export_error err;
    struct run run;

    assert_non_null(r);
    assert_int_equal(hvlog_trace_merge_open(r, NULL, &m, &err), HVLOG_EXPORT_OK);
    assert_int_equal(run_merge(m, &run, 0), HVLOG_EXPORT_END);
    assert_int_equal(run.entries, expect.total_events);
    assert_int_equal(run.backs, 1);
    assert_false(run.time_went_back_unflagged);
    hvlog_trace_merge_close(m);
    hvlog_trace_close(r);
}

/* Bug 3: reference time and TSC ticks are not interleaved by raw stamp. */
static void bases_without_one_clock_are_given_one_after_the_other(void **state)
{
    const struct synth_spec specs[2] = {
        {1, 2, 3, 1, 30, HVLOG_ABI_2013, HvEventLogEntryTimeReference, false, false, SYNTH_IN_ORDER},
        {0, 1, 3, 1, 30, HVLOG_ABI_2013, HvEventLogEntryTimeTsc, false, false, SYNTH_IN_ORDER},
    };
    struct synth_expect expects[2];
    char *dir = synth_path(*state, "t");
    struct hvlog_trace_reader *r;
    struct hvlog_trace_merge *m;
    struct hvlog_export_error err;
    struct run run;

    assert_int_equal(synth_write_groups(specs, 2, dir, expects), 0);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_merge_open(r, NULL, &m, &err), HVLOG_EXPORT_OK);
    assert_false(hvlog_trace_merge_one_clock(m));
    assert_int_equal(run_merge(m, &run, 0), HVLOG_EXPORT_END);
    assert_int_equal(run.entries, expects[0].total_events + expects[1].total_events);
    /* One change of clock: every reference entry, then every TSC one. */
    assert_int_equal(run.clocks, 1);
    assert_int_equal(run.first_type_after_clock, 0);
    hvlog_trace_merge_close(m);
    hvlog_trace_close(r);
    free(dir);
}

/* Bug 4: a buffer that changed after indexing is reported with its loss. */
static void a_buffer_that_fails_to_read_again_is_reported_with_its_loss(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec_lost, &expect);
    char *file = synth_path(*state, "t/local.buffers");
    struct hvlog_trace_merge *m;
    struct hvlog_export_error err;
    struct run run;
    uint8_t head[HV_EVENTLOG_BUFFER_HEADER_SIZE];
    uint32_t lost_before, entries_before = 0;
    FILE *f;

    assert_non_null(r);
    assert_int_equal(hvlog_trace_merge_open(r, NULL, &m, &err), HVLOG_EXPORT_OK);
    /* After indexing: buffer 5 (in the file) gets another TimeStamp. */
    f = fopen(file, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 5L * HV_PAGE_SIZE, SEEK_SET), 0);
    assert_int_equal(fread(head, 1, sizeof head, f), sizeof head);
    lost_before = hvlog_load_le32(head + 8);
    for (uint32_t off = 72, end = hvlog_load_le32(head + 48); off < end;) {
        uint8_t e[16];
        assert_int_equal(fseek(f, 5L * HV_PAGE_SIZE + off, SEEK_SET), 0);
        assert_int_equal(fread(e, 1, sizeof e, f), sizeof e);
        off += hvlog_load_le16(e + 4);
        entries_before++;
    }
    hvlog_store_le64(head + 16, hvlog_load_le64(head + 16) + 1);
    assert_int_equal(fseek(f, 5L * HV_PAGE_SIZE, SEEK_SET), 0);
    assert_int_equal(fwrite(head, 1, sizeof head, f), sizeof head);
    assert_int_equal(fclose(f), 0);

    assert_int_equal(run_merge(m, &run, 0), HVLOG_EXPORT_END);
    assert_int_equal(run.dropped, 1);
    assert_int_equal(run.dropped_entries, entries_before);
    assert_int_equal(run.dropped_lost, lost_before);
    /* Every entry and every loss is either shown or counted as dropped. */
    assert_int_equal(run.entries + run.dropped_entries, expect.total_events);
    assert_int_equal(run.lost + run.dropped_lost, expect.total_lost);
    hvlog_trace_merge_close(m);
    hvlog_trace_close(r);
    free(file);
}

/* A4: one open file per group, and windows far smaller than a buffer. */
static void the_merge_holds_one_file_per_group_and_small_windows(void **state)
{
    static const struct synth_spec spec = {
        1, SYNTH_MAX_LPS, 3, 8, 2000, HVLOG_ABI_CURRENT, HvEventLogEntryTimeReference, true, true,
        SYNTH_IN_ORDER};
    struct hvlog_trace_merge_options o = {.budget = 1}; /* the minimum: one page per stream */
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec, &expect);
    struct hvlog_trace_merge *m;
    struct hvlog_export_error err;
    struct run run;
    int before;

    assert_non_null(r);
    before = open_fds();
    assert_int_equal(hvlog_trace_merge_open(r, &o, &m, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_merge_streams(m), SYNTH_MAX_LPS);
    assert_int_equal(open_fds(), before + 1);
    /* 32 KiB buffers read through 4 KiB windows: every entry still there. */
    assert_int_equal(run_merge(m, &run, 0), HVLOG_EXPORT_END);
    assert_int_equal(run.entries, expect.total_events);
    assert_int_equal(run.lost, expect.total_lost);
    assert_int_equal(run.dropped, 0);
    hvlog_trace_merge_close(m);
    assert_int_equal(open_fds(), before);
    hvlog_trace_close(r);
}

static void asking_for_a_group_the_trace_lacks_is_an_error(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec_lost, &expect);
    struct hvlog_trace_merge_options o = {.types = 1u << 0};
    struct hvlog_trace_merge *m = NULL;
    struct hvlog_export_error err;

    assert_non_null(r);
    assert_int_equal(hvlog_trace_merge_open(r, &o, &m, &err), HVLOG_EXPORT_INVALID);
    assert_null(m);
    assert_non_null(strstr(err.message, "global"));
    hvlog_trace_close(r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, synth_setup_tmp, synth_teardown_tmp)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_clock_converts_and_refuses_what_it_cannot),
        T(the_merge_gives_every_entry_and_loss_in_time_order),
        T(time_going_back_on_an_lp_is_flagged),
        T(bases_without_one_clock_are_given_one_after_the_other),
        T(a_buffer_that_fails_to_read_again_is_reported_with_its_loss),
        T(the_merge_holds_one_file_per_group_and_small_windows),
        T(asking_for_a_group_the_trace_lacks_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
