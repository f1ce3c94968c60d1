/* SPDX-License-Identifier: MIT */
/* The Perfetto / Chrome trace-event exporter, its output parsed back with
 * jansson: structure, counts, values, ts exact and non-decreasing per track. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/trace/walk.h"
#include "hvlog/export/perfetto.h"
#include "synth.h"

static const struct synth_spec spec = {
    1, 4, 8, 1, 40, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, true, SYNTH_IN_ORDER};

static struct hvlog_trace_reader *open_synth(void **state, const struct synth_spec *s,
                                             struct synth_expect *expect)
{
    struct hvlog_trace_reader *r = synth_open(*state, s, expect);

    assert_non_null(r);
    return r;
}

static json_t *load(const char *path)
{
    json_error_t error;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &error);

    if (!root)
        print_error("jansson: %s: %s at line %d\n", path, error.text, error.line);
    assert_non_null(root);
    return root;
}

static uint64_t hex_arg(json_t *args, const char *key)
{
    const char *s = json_string_value(json_object_get(args, key));

    assert_non_null(s);
    assert_memory_equal(s, "0x", 2);
    return strtoull(s + 2, NULL, 16);
}

static void every_entry_is_an_instant_on_its_lp_track(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    char *out = synth_path(*state, "out.json");
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    uint64_t instants[SYNTH_MAX_LPS] = {0}, escapes[SYNTH_MAX_LPS] = {0};
    uint64_t lost[SYNTH_MAX_LPS] = {0};
    double last_ts[SYNTH_MAX_LPS], last_counter_ts[SYNTH_MAX_LPS];
    int threads = 0, processes = 0;
    json_t *root, *events, *ev;
    size_t i;

    assert_int_equal(hvlog_export_perfetto(r, out, NULL, &sum, &err), HVLOG_EXPORT_OK);
    assert_int_equal(sum.events, expect.total_events);
    assert_int_equal(sum.events_lost, expect.total_lost);
    assert_int_equal(sum.streams, 4);
    root = load(out);
    assert_string_equal(json_string_value(json_object_get(root, "displayTimeUnit")), "ns");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(root, "otherData"), "tool")), "hvlog");
    events = json_object_get(root, "traceEvents");
    assert_true(json_is_array(events));
    for (unsigned lp = 0; lp < SYNTH_MAX_LPS; lp++)
        last_ts[lp] = last_counter_ts[lp] = -1;
    json_array_foreach(events, i, ev) {
        const char *ph = json_string_value(json_object_get(ev, "ph"));
        json_int_t pid = json_integer_value(json_object_get(ev, "pid"));
        json_int_t tid = json_integer_value(json_object_get(ev, "tid"));
        json_t *args = json_object_get(ev, "args");

        assert_non_null(ph);
        assert_int_equal(pid, 2); /* 1 + LocalDiagnostics */
        assert_true(tid >= 0 && tid < (json_int_t)spec.lps);
        if (strcmp(ph, "M") == 0) {
            const char *what = json_string_value(json_object_get(ev, "name"));
            if (strcmp(what, "process_name") == 0) {
                processes++;
                assert_string_equal(json_string_value(json_object_get(args, "name")),
                                    "LocalDiagnostics");
            } else {
                char want[16];
                assert_string_equal(what, "thread_name");
                snprintf(want, sizeof want, "LP %d", (int)tid);
                assert_string_equal(json_string_value(json_object_get(args, "name")), want);
                threads++;
            }
        } else if (strcmp(ph, "C") == 0) {
            double ts = json_number_value(json_object_get(ev, "ts"));
            assert_true(ts >= last_counter_ts[tid]);
            last_counter_ts[tid] = ts;
            lost[tid] = (uint64_t)json_integer_value(json_object_get(args, "lost"));
        } else {
            double ts = json_number_value(json_object_get(ev, "ts"));
            uint64_t ctx = hex_arg(args, "context");

            assert_string_equal(ph, "i");
            assert_string_equal(json_string_value(json_object_get(ev, "s")), "t");
            assert_string_equal(json_string_value(json_object_get(ev, "cat")), "local");
            assert_true(ts >= last_ts[tid]);
            last_ts[tid] = ts;
            assert_int_equal(ctx >> 20, tid);
            assert_int_equal(ctx & 0xFFFFF, instants[tid]); /* fill order, no hole */
            instants[tid]++;
            if (json_object_get(args, "data")) {
                assert_string_equal(json_string_value(json_object_get(ev, "name")), "entry 0x0fff");
                assert_int_equal(hex_arg(args, "entry_type"), SYNTH_UNKNOWN_TYPE);
                assert_int_equal(json_string_length(json_object_get(args, "data")), 32);
                escapes[tid]++;
            } else if (strcmp(json_string_value(json_object_get(ev, "name")), "HV_TR_IM_CPUID") == 0) {
                assert_int_equal(hex_arg(args, "rip"), ctx * 256);
                assert_int_equal(hex_arg(args, "eax"), ctx * 256 + 1);
                assert_int_equal(hex_arg(args, "ecx"), ctx * 256 + 2);
            }
        }
    }
    assert_int_equal(processes, 1);
    assert_int_equal(threads, 4);
    for (unsigned lp = 0; lp < spec.lps; lp++) {
        assert_int_equal(instants[lp], expect.events[lp]);
        assert_int_equal(escapes[lp], expect.escape[lp]);
        assert_int_equal(lost[lp], expect.lost[lp]); /* the counter ends at the LP's loss */
        assert_true(last_counter_ts[lp] >= 0);       /* every LP has its counter track */
    }
    json_decref(root);
    free(out);
    hvlog_trace_close(r);
}

static void timestamps_are_printed_exactly_from_integers(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    char *out = synth_path(*state, "out.json");
    struct hvlog_export_error err;
    char text[4096];
    FILE *f;
    size_t n;

    assert_int_equal(hvlog_export_perfetto(r, out, NULL, NULL, &err), HVLOG_EXPORT_OK);
    f = fopen(out, "r");
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    /* LP 0's first buffer: header time 10005, first entry 10006 (100 ns ticks). */
    assert_non_null(strstr(text, "{\"ph\":\"C\",\"name\":\"events lost LP 0\",\"pid\":2,\"tid\":0,"
                                 "\"ts\":1000.5,\"args\":{\"lost\":0}}"));
    assert_non_null(strstr(text, "\"name\":\"HV_TR_HC_HYPERCALL\",\"cat\":\"local\",\"ts\":1000.6,"
                                 "\"pid\":2,\"tid\":0,\"args\":{\"context\":\"0x0\",\"rip\":\"0x0\","
                                 "\"input_value\":\"0x1\"}}"));
    free(out);
    hvlog_trace_close(r);
}

static void tsc_ticks_become_exact_microseconds(void **state)
{
    struct synth_spec s = spec;
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    char *out = synth_path(*state, "out.json");
    struct hvlog_export_error err;
    char text[4096];
    FILE *f;
    size_t n;

    s.time_basis = HvEventLogEntryTimeTsc;
    r = open_synth(state, &s, &expect);
    assert_int_equal(hvlog_export_perfetto(r, out, NULL, NULL, &err), HVLOG_EXPORT_OK);
    f = fopen(out, "r");
    n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    /* 10006 x 300 cycles at 3 GHz = 1000600 ns = 1000.600 us. */
    assert_non_null(strstr(text, "\"name\":\"HV_TR_HC_HYPERCALL\",\"cat\":\"local\",\"ts\":1000.600,"));
    free(out);
    hvlog_trace_close(r);
}

/* QPC: at 10 MHz ts counts 100 ns ticks as for reference time; at another
 * recorded frequency they become exact nanoseconds. otherData carries the
 * frequency and each group's QPC anchor, as it carries reference time's. */
static void qpc_ticks_follow_the_recorded_frequency_and_anchor(void **state)
{
    static const struct {
        const char *hz, *ts;
    } cases[] = {
        {"10000000", "\"name\":\"HV_TR_HC_HYPERCALL\",\"cat\":\"local\",\"ts\":1000.6,"},
        /* 10006 ticks at 25 MHz = 400240 ns. */
        {"25000000", "\"name\":\"HV_TR_HC_HYPERCALL\",\"cat\":\"local\",\"ts\":400.240,"},
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct synth_spec s = spec;
        struct synth_expect expect;
        struct hvlog_trace_reader *r;
        char *dir = synth_path(*state, "t");
        char *out = synth_path(*state, "out.json");
        char hz[64];
        struct hvlog_export_error err;
        char text[4096];
        json_t *root, *other, *group;
        FILE *f;
        size_t n;

        s.time_basis = HvEventLogEntryTimeQpc;
        assert_int_equal(synth_write_trace(&s, dir, &expect), 0);
        snprintf(hz, sizeof hz, "\"qpc_frequency_hz\": %s", cases[i].hz);
        assert_int_equal(synth_edit_meta(dir, "\"qpc_frequency_hz\": 10000000", hz), 1);
        assert_int_equal(synth_edit_meta(dir, "\"qpc_at_init\": 5000", "\"qpc_at_init\": 77"), 1);
        assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
        assert_int_equal(hvlog_export_perfetto(r, out, NULL, NULL, &err), HVLOG_EXPORT_OK);
        f = fopen(out, "r");
        assert_non_null(f);
        n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
        assert_non_null(strstr(text, cases[i].ts));
        root = load(out);
        other = json_object_get(root, "otherData");
        group = json_array_get(json_object_get(other, "groups"), 0);
        assert_int_equal(json_integer_value(json_object_get(other, "qpc_frequency_hz")),
                         strtoll(cases[i].hz, NULL, 10));
        assert_int_equal(json_integer_value(json_object_get(group, "qpc_at_init")), 77);
        assert_string_equal(json_string_value(json_object_get(group, "time_basis")), "Qpc");
        json_decref(root);
        hvlog_trace_close(r);
        synth_rmtree(dir);
        unlink(out);
        free(out);
        free(dir);
    }
}

static void refusals_leave_no_file_behind(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    char *out = synth_path(*state, "out.json");
    char *data = synth_path(*state, "t/local.buffers");
    struct hvlog_export_options force = {.force = true};
    struct hvlog_export_error err;
    uint8_t junk[8] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    int before;
    FILE *f;

    assert_int_equal(hvlog_export_perfetto(r, out, NULL, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_export_perfetto(r, out, NULL, NULL, &err), HVLOG_EXPORT_EXISTS);
    assert_int_equal(hvlog_export_perfetto(r, out, &force, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_export_perfetto(r, *state, &force, NULL, &err), HVLOG_EXPORT_EXISTS);
    assert_non_null(strstr(err.message, "not a regular file"));
    /* A corrupt buffer: refused, the old output untouched, no temporary left. */
    f = fopen(data, "r+b");
    fseek(f, 3 * 4096 + 48, SEEK_SET); /* NextBufferOffset of buffer 3 */
    fwrite(junk, 1, 4, f);
    fclose(f);
    synth_rmtree(out);
    before = synth_dir_entries(*state);
    assert_int_equal(hvlog_export_perfetto(r, out, NULL, NULL, &err), HVLOG_EXPORT_CORRUPT);
    assert_non_null(strstr(err.message, "NextBufferOffset"));
    assert_int_equal(synth_dir_entries(*state), before);
    assert_false(synth_exists(out));
    free(data);
    free(out);
    hvlog_trace_close(r);
}

static void collect_report(void *arg, const char *message)
{
    char *first = arg;

    if (!first[0])
        snprintf(first, HVLOG_EXPORT_MESSAGE_MAX, "%s", message);
}

/*
 * A buffer whose header is fine but whose entries are not passes the index
 * (headers only) and is found while the track is written. Without
 * skip_corrupt: refused with the reader's line, no file. With it: the same
 * line reported, the buffer counted and left out; its EventsLost is not in
 * the counter; a track whose first buffer was skipped still starts with a
 * counter sample; an LP whose every buffer is bad has no track at all.
 */
static void a_buffer_with_a_good_header_and_bad_entries_is_refused_or_skipped(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    char *dir = synth_path(*state, "t");
    char *out = synth_path(*state, "out.json");
    struct hvlog_trace_slot victims[2 + 8];
    char first[HVLOG_EXPORT_MESSAGE_MAX] = "";
    struct hvlog_export_options skip = {.skip_corrupt = true, .report = collect_report,
                                        .report_arg = first};
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    char want[HVLOG_EXPORT_MESSAGE_MAX];
    uint64_t instants[SYNTH_MAX_LPS] = {0}, lost[SYNTH_MAX_LPS] = {0};
    int counters[SYNTH_MAX_LPS] = {0}, threads[SYNTH_MAX_LPS] = {0};
    json_t *root, *ev;
    size_t v = 0, i;
    int before;

    /* LP 0's third buffer (EventsLost 2), LP 1's first (EventsLost 3),
     * every buffer of LP 2. */
    assert_int_equal(synth_break_entries(dir, 1, 0, 2, &victims[v++], &expect), 0);
    assert_int_equal(synth_break_entries(dir, 1, 1, 0, &victims[v++], &expect), 0);
    for (uint32_t k = 0; k < spec.buffers_per_lp; k++)
        assert_int_equal(synth_break_entries(dir, 1, 2, 0, &victims[v++], &expect), 0);
    assert_int_equal(victims[1].events_lost, 3);

    before = synth_dir_entries(*state);
    assert_int_equal(hvlog_export_perfetto(r, out, NULL, &sum, &err), HVLOG_EXPORT_CORRUPT);
    snprintf(want, sizeof want, "%s/local.buffers: buffer %llu at byte %llu: %s", dir,
             (unsigned long long)victims[0].file_index,
             (unsigned long long)victims[0].file_index * 4096u,
             hvlog_walk_error_text(HVLOG_WALK_BAD_ENTRY_SIZE));
    assert_string_equal(err.message, want);
    assert_false(synth_exists(out));
    assert_int_equal(synth_dir_entries(*state), before);

    assert_int_equal(hvlog_export_perfetto(r, out, &skip, &sum, &err), HVLOG_EXPORT_OK);
    assert_string_equal(first, want);
    assert_int_equal(sum.corrupt_skipped, v);
    assert_int_equal(sum.buffers, expect.total_buffers);
    assert_int_equal(sum.events, expect.total_events);
    assert_int_equal(sum.events_lost, expect.total_lost);
    assert_int_equal(sum.streams, spec.lps - 1);
    root = load(out);
    json_array_foreach(json_object_get(root, "traceEvents"), i, ev) {
        const char *ph = json_string_value(json_object_get(ev, "ph"));
        json_int_t tid = json_integer_value(json_object_get(ev, "tid"));

        assert_true(tid >= 0 && tid < (json_int_t)spec.lps);
        if (strcmp(ph, "M") == 0) {
            if (strcmp(json_string_value(json_object_get(ev, "name")), "thread_name") == 0) {
                assert_int_equal(counters[tid] + instants[tid], 0); /* before the track's events */
                threads[tid]++;
            }
        } else if (strcmp(ph, "C") == 0) {
            assert_int_equal(threads[tid], 1);
            if (counters[tid]++ == 0)
                assert_int_equal(instants[tid], 0); /* a sample starts every track */
            lost[tid] = (uint64_t)json_integer_value(
                json_object_get(json_object_get(ev, "args"), "lost"));
        } else {
            assert_int_equal(threads[tid], 1);
            instants[tid]++;
        }
    }
    for (unsigned lp = 0; lp < spec.lps; lp++) {
        assert_int_equal(threads[lp], lp == 2 ? 0 : 1);
        assert_int_equal(instants[lp], expect.events[lp]);
        assert_int_equal(lost[lp], expect.lost[lp]);
    }
    json_decref(root);
    free(out);
    free(dir);
    hvlog_trace_close(r);
}

/* Time going back on one LP, inside a buffer or from one buffer to the
 * next, would make its track run backwards: refused as the CTF export
 * refuses it, one line naming the file, buffer, LP and times, no file left. */
static void time_going_backwards_is_refused_and_nothing_is_left(void **state)
{
    for (size_t i = 0; i < SYNTH_BACKWARDS_CASES; i++) {
        struct synth_spec s = spec;
        struct synth_expect expect;
        struct hvlog_trace_reader *r;
        char *out = synth_path(*state, "out.json");
        struct hvlog_export_error err;
        unsigned long long t = 0, before_t = 0;
        const char *p;
        int before;

        s.backwards = synth_backwards_cases[i].where;
        r = open_synth(state, &s, &expect);
        before = synth_dir_entries(*state);
        assert_int_equal(hvlog_export_perfetto(r, out, NULL, NULL, &err), HVLOG_EXPORT_TIME);
        assert_non_null(strstr(err.message, "/t/local.buffers: buffer "));
        assert_non_null(strstr(err.message, "(local LP 0, BufferIndex "));
        assert_non_null(strstr(err.message, synth_backwards_cases[i].what));
        assert_null(strchr(err.message, '\n'));
        p = strstr(err.message, "has time ");
        assert_non_null(p);
        assert_int_equal(sscanf(p, "has time %llu, before %llu", &t, &before_t), 2);
        assert_true(t < before_t);
        assert_non_null(strstr(p, "; the Perfetto track would go back in time"));
        assert_false(synth_exists(out));
        assert_int_equal(synth_dir_entries(*state), before);
        free(out);
        hvlog_trace_close(r);
    }
}

/* Several hosts (issue 17): the same trace twice, the second host moved by
 * a clock offset of 1 s, gives every event of the second exactly
 * 1,000,000 us after its twin; each host names its processes. */
static void two_hosts_share_one_unix_timeline_moved_by_their_offset(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r1 = open_synth(state, &spec, &expect), *r2 = NULL;
    char *out = synth_path(*state, "hosts.json");
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    struct hvlog_export_host hosts[2];
    json_t *root, *events, *ev;
    double ts0[64];
    uint32_t seen[2] = {0, 0};
    size_t i;

    assert_int_equal(hvlog_trace_open(hvlog_trace_reader_path(r1), &r2, &err), HVLOG_EXPORT_OK);
    hosts[0] = (struct hvlog_export_host){r1, "alpha", 0};
    hosts[1] = (struct hvlog_export_host){r2, "beta", 1000000000};
    assert_int_equal(hvlog_export_perfetto_hosts(hosts, 2, out, NULL, &sum, &err), HVLOG_EXPORT_OK);
    assert_int_equal(sum.events, 2 * expect.total_events);
    root = load(out);
    assert_int_equal(json_array_size(json_object_get(json_object_get(root, "otherData"), "hosts")), 2);
    events = json_object_get(root, "traceEvents");
    json_array_foreach(events, i, ev) {
        const char *ph = json_string_value(json_object_get(ev, "ph"));
        json_int_t pid = json_integer_value(json_object_get(ev, "pid"));
        uint32_t h = pid >= 16 ? 1 : 0;

        if (strcmp(ph, "M") == 0 &&
            strcmp(json_string_value(json_object_get(ev, "name")), "process_name") == 0)
            assert_memory_equal(json_string_value(json_object_get(json_object_get(ev, "args"), "name")),
                                h ? "beta: " : "alpha: ", h ? 6 : 7);
        if (strcmp(ph, "i") != 0 || seen[h] >= 64)
            continue;
        /* Host 0's events all come first (hosts in order). */
        if (h == 0)
            ts0[seen[0]] = json_number_value(json_object_get(ev, "ts"));
        else /* 1 s later, to well under a microsecond (the JSON's ts is us) */
            assert_true(fabs(json_number_value(json_object_get(ev, "ts")) - ts0[seen[1]] - 1e6) <
                        1e-3);
        seen[h]++;
    }
    assert_int_equal(seen[0], seen[1]);
    assert_true(seen[0] > 0);
    json_decref(root);
    /* One trace with an offset, or no trace: refused, nothing written. */
    synth_rmtree(out);
    hosts[0].clock_offset_ns = 5;
    assert_int_equal(hvlog_export_perfetto_proto_hosts(hosts, 1, out, NULL, &sum, &err),
                     HVLOG_EXPORT_INVALID);
    assert_int_equal(hvlog_export_perfetto_hosts(NULL, 2, out, NULL, &sum, &err), HVLOG_EXPORT_INVALID);
    assert_false(synth_exists(out));
    free(out);
    hvlog_trace_close(r2);
    hvlog_trace_close(r1);
}

/* A host without a wall-clock anchor (TSC) cannot share the timeline. */
static void a_host_without_a_wall_clock_anchor_is_refused(void **state)
{
    struct synth_spec s = spec;
    struct synth_expect expect;
    struct hvlog_trace_reader *r1 = open_synth(state, &spec, &expect), *r2;
    char *out = synth_path(*state, "hosts.pftrace");
    char *dir = synth_path(*state, "tsc");
    struct hvlog_export_error err;
    struct hvlog_export_host hosts[2];

    s.time_basis = HvEventLogEntryTimeTsc;
    assert_int_equal(synth_write_trace(&s, dir, &expect), 0);
    assert_int_equal(hvlog_trace_open(dir, &r2, &err), HVLOG_EXPORT_OK);
    hosts[0] = (struct hvlog_export_host){r1, "alpha", 0};
    hosts[1] = (struct hvlog_export_host){r2, "beta", 0};
    assert_int_equal(hvlog_export_perfetto_proto_hosts(hosts, 2, out, NULL, NULL, &err),
                     HVLOG_EXPORT_UNSUPPORTED);
    assert_non_null(strstr(err.message, "no wall-clock anchor"));
    assert_null(strchr(err.message, '\n'));
    assert_false(synth_exists(out));
    hvlog_trace_close(r2);
    hvlog_trace_close(r1);
    synth_rmtree(dir);
    free(dir);
    free(out);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, synth_setup_tmp, synth_teardown_tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(every_entry_is_an_instant_on_its_lp_track),
        T(timestamps_are_printed_exactly_from_integers),
        T(tsc_ticks_become_exact_microseconds),
        T(qpc_ticks_follow_the_recorded_frequency_and_anchor),
        T(refusals_leave_no_file_behind),
        T(a_buffer_with_a_good_header_and_bad_entries_is_refused_or_skipped),
        T(time_going_backwards_is_refused_and_nothing_is_left),
        T(two_hosts_share_one_unix_timeline_moved_by_their_offset),
        T(a_host_without_a_wall_clock_anchor_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
