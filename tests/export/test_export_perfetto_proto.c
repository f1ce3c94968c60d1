/* SPDX-License-Identifier: MIT */
/*
 * The Perfetto protobuf exporter (hvlog_export_perfetto_proto), its output
 * read back by a small decoder of the test's own: packets frame the file
 * exactly, every entry is an instant on its LP's sequence, the loss counter
 * ends at each LP's loss, times are the JSON export's in ns; and the
 * library's refusals (existing output, corrupt buffers, time going back)
 * leave nothing behind, as the JSON export's do. protoc reads the same
 * files in perfetto_proto_check.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/export/perfetto.h"
#include "synth.h"

static const struct synth_spec spec = {
    1, 4, 8, 1, 40, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, true, SYNTH_IN_ORDER};

/* ---- a minimal protobuf reader (varint and length-delimited fields) ---- */

struct field {
    uint32_t number;
    uint32_t wire;
    uint64_t value;       /* varint */
    const uint8_t *bytes; /* length-delimited */
    size_t len;
};

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    unsigned shift = 0;

    *v = 0;
    while (*p < end && shift < 64) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return true;
        shift += 7;
    }
    return false;
}

/* The next field of [*p, end); false at the end. Fails the test on bad bytes. */
static bool next_field(const uint8_t **p, const uint8_t *end, struct field *f)
{
    uint64_t key;

    if (*p == end)
        return false;
    assert_true(read_varint(p, end, &key));
    f->number = (uint32_t)(key >> 3);
    f->wire = (uint32_t)(key & 7);
    if (f->wire == 0) {
        assert_true(read_varint(p, end, &f->value));
    } else {
        assert_int_equal(f->wire, 2);
        assert_true(read_varint(p, end, &f->value));
        assert_true(f->value <= (uint64_t)(end - *p));
        f->bytes = *p;
        f->len = (size_t)f->value;
        *p += f->len;
    }
    return true;
}

/* What the test learns from a file, per sequence (2 + i = the i-th LP track). */
struct seen {
    uint64_t packets;
    uint64_t instants[SYNTH_MAX_LPS + 2]; /* entries, loss markers excluded */
    uint64_t markers[SYNTH_MAX_LPS + 2];
    uint64_t last_counter[SYNTH_MAX_LPS + 2];
    uint64_t first_clock_ns[SYNTH_MAX_LPS + 2]; /* the delta clock's anchor */
    uint64_t descriptors;
};

#define NAME_IID_LOSS 1u /* perfetto_proto.c's "EventsLost" */

static void decode_track_event(const uint8_t *p, size_t len, struct seen *s, uint32_t seq)
{
    const uint8_t *end = p + len;
    uint64_t type = 0, name = 0, counter = 0;
    struct field f;

    while (next_field(&p, end, &f)) {
        if (f.number == 9)
            type = f.value;
        else if (f.number == 10)
            name = f.value;
        else if (f.number == 30)
            counter = f.value;
    }
    if (type == 4) {
        s->last_counter[seq] = counter;
    } else {
        assert_int_equal(type, 3);
        if (name == NAME_IID_LOSS)
            s->markers[seq]++;
        else
            s->instants[seq]++;
    }
}

static void decode_clock_snapshot(const uint8_t *p, size_t len, struct seen *s, uint32_t seq)
{
    const uint8_t *end = p + len;
    struct field f, g;

    while (next_field(&p, end, &f)) {
        const uint8_t *q = f.bytes;
        uint64_t id = 0, ts = 0;

        assert_int_equal(f.number, 1);
        while (next_field(&q, f.bytes + f.len, &g)) {
            if (g.number == 1)
                id = g.value;
            else if (g.number == 2)
                ts = g.value;
        }
        if (id == 6 && seq >= 2 && s->first_clock_ns[seq] == 0)
            s->first_clock_ns[seq] = ts;
    }
}

static void decode_file(const char *path, struct seen *s)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data;
    long size;
    const uint8_t *p, *end;
    struct field packet;

    memset(s, 0, sizeof(*s));
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    size = ftell(f);
    assert_true(size > 0);
    rewind(f);
    data = malloc((size_t)size);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
    fclose(f);
    p = data;
    end = data + size;
    /* Trace.packet = 1, and nothing else, up to the last byte. */
    while (next_field(&p, end, &packet)) {
        const uint8_t *q = packet.bytes, *qend = packet.bytes + packet.len;
        const uint8_t *te = NULL, *clock = NULL;
        size_t te_len = 0, clock_len = 0;
        uint64_t seq = 0;
        struct field f2;

        assert_int_equal(packet.number, 1);
        assert_int_equal(packet.wire, 2);
        s->packets++;
        while (next_field(&q, qend, &f2)) {
            if (f2.number == 10)
                seq = f2.value;
            else if (f2.number == 11)
                te = f2.bytes, te_len = f2.len;
            else if (f2.number == 6)
                clock = f2.bytes, clock_len = f2.len;
            else if (f2.number == 60)
                s->descriptors++;
        }
        assert_true(seq >= 1 && seq < SYNTH_MAX_LPS + 2);
        if (te)
            decode_track_event(te, te_len, s, (uint32_t)seq);
        if (clock)
            decode_clock_snapshot(clock, clock_len, s, (uint32_t)seq);
    }
    assert_ptr_equal(p, end);
    free(data);
}

/* ---- tests ---- */

static void every_entry_is_an_instant_on_its_lp_sequence(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec, &expect);
    char *out = synth_path(*state, "out.pftrace");
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    struct seen s;

    assert_non_null(r);
    assert_int_equal(hvlog_export_perfetto_proto(r, out, NULL, &sum, &err), HVLOG_EXPORT_OK);
    assert_int_equal(sum.events, expect.total_events);
    assert_int_equal(sum.events_lost, expect.total_lost);
    assert_int_equal(sum.buffers, expect.total_buffers);
    assert_int_equal(sum.streams, spec.lps);
    decode_file(out, &s);
    assert_int_equal(s.descriptors, 1 + 2 * spec.lps); /* the type, each LP and its counter */
    for (uint32_t lp = 0; lp < spec.lps; lp++) {
        assert_int_equal(s.instants[2 + lp], expect.events[lp]);
        assert_int_equal(s.last_counter[2 + lp], expect.lost[lp]);
        assert_true(s.markers[2 + lp] > 0); /* the synthetic loss pattern hits every LP */
    }
    assert_int_equal(s.instants[1], 0); /* sequence 1 holds no events */
    free(out);
    hvlog_trace_close(r);
}

/* The times are the JSON export's, in ns: LP 0 starts with its counter at
 * the first buffer's header time 10005 (100 ns ticks, 1000.5 us in the
 * JSON); TSC ticks (300 cycles each at 3 GHz) start at the first entry,
 * 10006 x 300 cycles = 1000600 ns (1000.600 us). */
static void times_are_the_json_exports_in_ns(void **state)
{
    static const struct {
        uint32_t basis;
        uint64_t first_ns;
    } cases[] = {{HvEventLogEntryTimeReference, 1000500}, {HvEventLogEntryTimeTsc, 1000600}};

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct synth_spec s = spec;
        struct synth_expect expect;
        struct hvlog_trace_reader *r;
        char *out = synth_path(*state, "out.pftrace");
        struct hvlog_export_options force = {.force = true};
        struct hvlog_export_error err;
        struct seen seen;

        s.time_basis = cases[i].basis;
        r = synth_open(*state, &s, &expect);
        assert_non_null(r);
        assert_int_equal(hvlog_export_perfetto_proto(r, out, &force, NULL, &err), HVLOG_EXPORT_OK);
        decode_file(out, &seen);
        assert_int_equal(seen.first_clock_ns[2], cases[i].first_ns);
        free(out);
        hvlog_trace_close(r);
    }
}

static void refusals_leave_no_file_behind(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec, &expect);
    char *out = synth_path(*state, "out.pftrace");
    char *data = synth_path(*state, "t/local.buffers");
    struct hvlog_export_options force = {.force = true};
    struct hvlog_export_error err;
    uint8_t junk[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    int before;
    FILE *f;

    assert_non_null(r);
    assert_int_equal(hvlog_export_perfetto_proto(r, out, NULL, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_export_perfetto_proto(r, out, NULL, NULL, &err), HVLOG_EXPORT_EXISTS);
    assert_int_equal(hvlog_export_perfetto_proto(r, out, &force, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_export_perfetto_proto(r, *state, &force, NULL, &err), HVLOG_EXPORT_EXISTS);
    assert_non_null(strstr(err.message, "not a regular file"));
    f = fopen(data, "r+b");
    assert_non_null(f);
    fseek(f, 3 * 4096 + 48, SEEK_SET); /* NextBufferOffset of buffer 3 */
    fwrite(junk, 1, sizeof junk, f);
    fclose(f);
    synth_rmtree(out);
    before = synth_dir_entries(*state);
    assert_int_equal(hvlog_export_perfetto_proto(r, out, NULL, NULL, &err), HVLOG_EXPORT_CORRUPT);
    assert_non_null(strstr(err.message, "NextBufferOffset"));
    assert_int_equal(synth_dir_entries(*state), before);
    assert_false(synth_exists(out));
    free(data);
    free(out);
    hvlog_trace_close(r);
}

static void collect_report(void *arg, const char *message)
{
    int *count = arg;

    (void)message;
    (*count)++;
}

/* Bad entries behind good headers: refused with nothing written, or with
 * skip_corrupt left out, counted, their EventsLost not in the counter, and
 * an LP whose every buffer is bad has no track. */
static void bad_entries_are_refused_or_skipped_as_in_the_json_export(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = synth_open(*state, &spec, &expect);
    char *dir = synth_path(*state, "t");
    char *out = synth_path(*state, "out.pftrace");
    int reports = 0;
    struct hvlog_export_options skip = {.skip_corrupt = true, .report = collect_report,
                                        .report_arg = &reports};
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    struct seen s;
    int before;

    assert_non_null(r);
    assert_int_equal(synth_break_entries(dir, 1, 0, 2, NULL, &expect), 0);
    assert_int_equal(synth_break_entries(dir, 1, 1, 0, NULL, &expect), 0);
    for (uint32_t k = 0; k < spec.buffers_per_lp; k++)
        assert_int_equal(synth_break_entries(dir, 1, 2, 0, NULL, &expect), 0);
    before = synth_dir_entries(*state);
    assert_int_equal(hvlog_export_perfetto_proto(r, out, NULL, &sum, &err), HVLOG_EXPORT_CORRUPT);
    assert_false(synth_exists(out));
    assert_int_equal(synth_dir_entries(*state), before);

    assert_int_equal(hvlog_export_perfetto_proto(r, out, &skip, &sum, &err), HVLOG_EXPORT_OK);
    assert_int_equal(reports, 2 + (int)spec.buffers_per_lp);
    assert_int_equal(sum.corrupt_skipped, 2 + spec.buffers_per_lp);
    assert_int_equal(sum.events, expect.total_events);
    assert_int_equal(sum.events_lost, expect.total_lost);
    assert_int_equal(sum.streams, spec.lps - 1);
    decode_file(out, &s);
    /* Sequences follow the tracks written: LP 0, 1, 3 (LP 2 has none). */
    assert_int_equal(s.instants[2], expect.events[0]);
    assert_int_equal(s.instants[3], expect.events[1]);
    assert_int_equal(s.instants[4], expect.events[3]);
    assert_int_equal(s.last_counter[2], expect.lost[0]);
    assert_int_equal(s.last_counter[3], expect.lost[1]);
    assert_int_equal(s.last_counter[4], expect.lost[3]);
    free(dir);
    free(out);
    hvlog_trace_close(r);
}

static void time_going_backwards_is_refused_and_nothing_is_left(void **state)
{
    for (size_t i = 0; i < SYNTH_BACKWARDS_CASES; i++) {
        struct synth_spec s = spec;
        struct synth_expect expect;
        struct hvlog_trace_reader *r;
        char *out = synth_path(*state, "out.pftrace");
        struct hvlog_export_error err;
        int before;

        s.backwards = synth_backwards_cases[i].where;
        r = synth_open(*state, &s, &expect);
        assert_non_null(r);
        before = synth_dir_entries(*state);
        assert_int_equal(hvlog_export_perfetto_proto(r, out, NULL, NULL, &err), HVLOG_EXPORT_TIME);
        assert_non_null(strstr(err.message, "(local LP 0, BufferIndex "));
        assert_non_null(strstr(err.message, synth_backwards_cases[i].what));
        assert_non_null(strstr(err.message, "; the Perfetto track would go back in time"));
        assert_false(synth_exists(out));
        assert_int_equal(synth_dir_entries(*state), before);
        free(out);
        hvlog_trace_close(r);
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, synth_setup_tmp, synth_teardown_tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(every_entry_is_an_instant_on_its_lp_sequence),
        T(times_are_the_json_exports_in_ns),
        T(refusals_leave_no_file_behind),
        T(bad_entries_are_refused_or_skipped_as_in_the_json_export),
        T(time_going_backwards_is_refused_and_nothing_is_left),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
