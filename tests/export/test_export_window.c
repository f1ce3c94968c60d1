/* SPDX-License-Identifier: MIT */
/*
 * The export window through the library (hvlog_export_options: window,
 * begin, end, lp_only, lp; issue 18), for the three exports alike. The
 * oracle is the trace itself: two windows that split it at a time T hold
 * every entry and every lost event exactly once between them, whatever T;
 * each window's events_lost + events_lost_outside is the whole trace's
 * loss; a window holding everything is no window. The CLI test
 * (window_check.py) checks the outputs' contents with the real readers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/export/ctf.h"
#include "hvlog/export/perfetto.h"
#include "synth.h"

/* Four LPs, eight buffers each, losses on every third buffer and before
 * LP 1's first: times run from about 10000 to 14000 (100 ns ticks). */
static const struct synth_spec spec = {
    1, 4, 8, 1, 40, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, true, SYNTH_IN_ORDER};

typedef enum hvlog_export_status (*export_fn)(const struct hvlog_trace_reader *r, const char *out,
                                              const struct hvlog_export_options *options,
                                              struct hvlog_export_summary *summary,
                                              struct hvlog_export_error *err);
static const struct {
    const char *name;
    export_fn run;
} formats[] = {
    {"out.ctf", hvlog_export_ctf},
    {"out.pftrace", hvlog_export_perfetto_proto},
    {"out.json", hvlog_export_perfetto},
};
#define FORMATS (sizeof formats / sizeof formats[0])

static struct hvlog_export_summary run(void **state, struct hvlog_trace_reader *r, size_t f,
                                       const struct hvlog_export_options *base)
{
    struct hvlog_export_options o = *base;
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    char *out = synth_path(*state, formats[f].name);

    o.force = true;
    memset(&sum, 0xA5, sizeof sum); /* every field must be written */
    if (formats[f].run(r, out, &o, &sum, &err) != HVLOG_EXPORT_OK)
        fail_msg("%s: %s", formats[f].name, err.message);
    free(out);
    return sum;
}

static void two_windows_split_entries_and_losses_exactly(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec, &expect);
    unsigned cuts = 0;

    assert_non_null(r);
    assert_true(expect.total_lost > 0);
    for (size_t f = 0; f < FORMATS; f++) {
        for (uint64_t t = 9990; t <= 14500; t += 137) {
            struct hvlog_export_options before = {.window = true, .begin = 0, .end = t};
            struct hvlog_export_options after = {.window = true, .begin = t + 1, .end = UINT64_MAX};
            struct hvlog_export_summary a = run(state, r, f, &before);
            struct hvlog_export_summary b = run(state, r, f, &after);

            assert_int_equal(a.events + b.events, expect.total_events);
            assert_int_equal(a.events_lost + b.events_lost, expect.total_lost);
            assert_int_equal(a.events_lost + a.events_lost_outside, expect.total_lost);
            assert_int_equal(b.events_lost + b.events_lost_outside, expect.total_lost);
            assert_int_equal(a.corrupt_skipped + b.corrupt_skipped, 0);
            /* A buffer cut by T is in both; none is in neither. */
            assert_true(a.buffers + b.buffers >= expect.total_buffers);
            cuts += a.events > 0 && b.events > 0 && a.events_lost > 0 && b.events_lost > 0;
        }
    }
    assert_true(cuts >= 3 * FORMATS); /* the sweep cut through the losses, not only beside them */
    hvlog_trace_close(r);
}

static void a_window_holding_everything_is_no_window(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec, &expect);
    const struct hvlog_export_options none = {0};
    const struct hvlog_export_options all = {.window = true, .begin = 0, .end = UINT64_MAX};

    assert_non_null(r);
    for (size_t f = 0; f < FORMATS; f++) {
        struct hvlog_export_summary a = run(state, r, f, &none), b = run(state, r, f, &all);

        assert_int_equal(a.events, expect.total_events);
        assert_int_equal(b.events, a.events);
        assert_int_equal(b.events_lost, a.events_lost);
        assert_int_equal(b.buffers, a.buffers);
        assert_int_equal(b.streams, a.streams);
        assert_int_equal(b.bytes_out, a.bytes_out);
        assert_int_equal(a.events_lost_outside, 0);
        assert_int_equal(b.events_lost_outside, 0);
    }
    hvlog_trace_close(r);
}

/* --lp: one LP's entries and losses, the others not counted at all. */
static void one_lp_is_that_lps_stream(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec, &expect);

    assert_non_null(r);
    for (size_t f = 0; f < FORMATS; f++) {
        for (uint32_t lp = 0; lp < spec.lps; lp++) {
            struct hvlog_export_options o = {.lp_only = true, .lp = lp};
            struct hvlog_export_summary s = run(state, r, f, &o);

            assert_int_equal(s.events, expect.events[lp]);
            assert_int_equal(s.events_lost, expect.lost[lp]);
            assert_int_equal(s.buffers, expect.buffers[lp]);
            assert_int_equal(s.streams, 1);
            assert_int_equal(s.events_lost_outside, 0);
        }
    }
    hvlog_trace_close(r);
}

/* An LP the trace lacks, and a window that ends before it begins: refused,
 * nothing written. */
static void bad_windows_are_refused(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec, &expect);
    const struct hvlog_export_options no_lp = {.lp_only = true, .lp = 9};
    const struct hvlog_export_options backwards = {.window = true, .begin = 12000, .end = 11999};
    const struct hvlog_export_options *bad[] = {&no_lp, &backwards};

    assert_non_null(r);
    for (size_t f = 0; f < FORMATS; f++) {
        for (size_t i = 0; i < 2; i++) {
            struct hvlog_export_error err;
            char *out = synth_path(*state, formats[f].name);

            assert_int_equal(formats[f].run(r, out, bad[i], NULL, &err), HVLOG_EXPORT_INVALID);
            assert_non_null(strstr(err.message, i == 0 ? "no buffer of LP 9" : "begins at 12000"));
            assert_int_equal(synth_dir_entries(*state), 1); /* the trace "t" only */
            free(out);
        }
    }
    hvlog_trace_close(r);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, synth_setup_tmp, synth_teardown_tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(two_windows_split_entries_and_losses_exactly),
        T(a_window_holding_everything_is_no_window),
        T(one_lp_is_that_lps_stream),
        T(bad_windows_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
