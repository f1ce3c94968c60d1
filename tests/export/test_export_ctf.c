/* SPDX-License-Identifier: MIT */
/* The CTF 1.8 exporter: its files, its refusals, and that a refusal leaves
 * nothing behind (babeltrace2 itself reads the output in the CTest tests
 * export_ctf_*). */
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
#include "hvlog/trace/walk.h"
#include "hvlog/export/ctf.h"
#include "synth.h"

static const struct synth_spec spec = {
    1, 3, 6, 1, 30, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, true, SYNTH_IN_ORDER};

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *text;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc((size_t)n + 1);
    assert_non_null(text);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    text[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return text;
}

static struct hvlog_trace_reader *open_synth(void **state, const struct synth_spec *s,
                                             struct synth_expect *expect)
{
    struct hvlog_trace_reader *r = synth_open(*state, s, expect);

    assert_non_null(r);
    return r;
}

static void one_stream_file_per_lp_and_the_metadata_last(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    char *out = synth_path(*state, "out.ctf");
    char *meta_path = synth_path(out, "metadata");
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    char *text;

    assert_int_equal(hvlog_export_ctf(r, out, NULL, &sum, &err), HVLOG_EXPORT_OK);
    assert_int_equal(synth_dir_entries(out), 1 + 3);
    for (int lp = 0; lp < 3; lp++) {
        char name[32];
        char *p;
        snprintf(name, sizeof name, "local_lp%d", lp);
        p = synth_path(out, name);
        assert_true(synth_exists(p));
        free(p);
    }
    text = read_all(meta_path, NULL);
    assert_memory_equal(text, "/* CTF 1.8 */\n", 14);
    assert_non_null(strstr(text, "name = local_ref;"));
    assert_non_null(strstr(text, "freq = 10000000;"));
    /* 2026-01-01 is 1767225600 s after the Unix epoch; reference time 5000
     * (500 us) at Initialize puts time 0 500 us earlier. */
    assert_non_null(strstr(text, "offset_s = 1767225599;\n\toffset = 9995000;"));
    assert_non_null(strstr(text, "absolute = true;"));
    assert_non_null(strstr(text, "name = \"HV_TR_IM_CPUID\";\n\tid = 39;"));
    assert_non_null(strstr(text, "hex64_t _rip;\n\t\thex64_t _eax;\n\t\thex64_t _ecx;"));
    assert_non_null(strstr(text, "name = \"hvlog:entry\";\n\tid = 65535;"));
    assert_null(strstr(text, "HV_TR_IM_MSR_READ")); /* only the types present */
    assert_int_equal(sum.buffers, expect.total_buffers);
    assert_int_equal(sum.events, expect.total_events);
    assert_int_equal(sum.events_lost, expect.total_lost);
    assert_int_equal(sum.streams, 3);
    assert_int_equal(sum.corrupt_skipped, 0);
    assert_int_equal(sum.bytes_in, expect.total_buffers * HV_PAGE_SIZE);
    free(text);
    free(meta_path);
    free(out);
    hvlog_trace_close(r);
}

static void the_same_trace_exports_to_the_same_bytes(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    const char *files[] = {"metadata", "local_lp0", "local_lp2"};
    char *a = synth_path(*state, "a.ctf");
    char *b = synth_path(*state, "b.ctf");
    struct hvlog_export_error err;

    assert_int_equal(hvlog_export_ctf(r, a, NULL, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_export_ctf(r, b, NULL, NULL, &err), HVLOG_EXPORT_OK);
    for (size_t i = 0; i < 3; i++) {
        char *pa = synth_path(a, files[i]), *pb = synth_path(b, files[i]);
        size_t la, lb;
        char *ta = read_all(pa, &la), *tb = read_all(pb, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(ta, tb, la);
        free(ta);
        free(tb);
        free(pa);
        free(pb);
    }
    free(a);
    free(b);
    hvlog_trace_close(r);
}

/* The message names the data file, the buffer, its LP and both times, the
 * second later than the first; returns the part after the times. */
static const char *check_time_message(const char *message, const char *what)
{
    unsigned long long t = 0, before = 0;
    const char *p = strstr(message, "has time ");

    assert_non_null(strstr(message, "/t/local.buffers: buffer "));
    assert_non_null(strstr(message, "(local LP 0, BufferIndex "));
    assert_non_null(strstr(message, what));
    assert_null(strchr(message, '\n'));
    assert_non_null(p);
    assert_int_equal(sscanf(p, "has time %llu, before %llu", &t, &before), 2);
    assert_true(t < before);
    return strstr(p, "; ");
}

/* babeltrace2 rejects a stream whose time goes back, inside a packet or
 * from one packet to the next (its muxer stops): refused, nothing written. */
static void time_going_backwards_is_refused_and_nothing_is_left(void **state)
{
    for (size_t i = 0; i < SYNTH_BACKWARDS_CASES; i++) {
        struct synth_spec s = spec;
        struct synth_expect expect;
        struct hvlog_trace_reader *r;
        char *out = synth_path(*state, "out.ctf");
        struct hvlog_export_summary sum;
        struct hvlog_export_error err;
        int before;

        s.backwards = synth_backwards_cases[i].where;
        r = open_synth(state, &s, &expect);
        before = synth_dir_entries(*state);
        assert_int_equal(hvlog_export_ctf(r, out, NULL, &sum, &err), HVLOG_EXPORT_TIME);
        assert_string_equal(check_time_message(err.message, synth_backwards_cases[i].what),
                            "; babeltrace2 would reject the stream");
        assert_false(synth_exists(out));
        assert_int_equal(synth_dir_entries(*state), before);
        free(out);
        hvlog_trace_close(r);
    }
}

static void an_existing_output_is_refused_unless_forced_and_ours(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    char *out = synth_path(*state, "out.ctf");
    char *keep = synth_path(out, "keep.txt");
    struct hvlog_export_options force = {.force = true};
    struct hvlog_export_error err;
    FILE *f;

    assert_int_equal(hvlog_export_ctf(r, out, NULL, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_export_ctf(r, out, NULL, NULL, &err), HVLOG_EXPORT_EXISTS);
    assert_non_null(strstr(err.message, "exists; not replacing it without force"));
    assert_int_equal(hvlog_export_ctf(r, out, &force, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(synth_dir_entries(out), 4);
    /* A directory that is not a CTF export stays. */
    synth_rmtree(out);
    assert_int_equal(mkdir(out, 0777), 0);
    f = fopen(keep, "w");
    fclose(f);
    assert_int_equal(hvlog_export_ctf(r, out, &force, NULL, &err), HVLOG_EXPORT_EXISTS);
    assert_true(synth_exists(keep));
    assert_int_equal(synth_dir_entries(out), 1);
    free(keep);
    free(out);
    hvlog_trace_close(r);
}

static void corrupt_input_is_refused_or_skipped_on_request(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    char *data = synth_path(*state, "t/local.buffers");
    char *out = synth_path(*state, "out.ctf");
    struct hvlog_export_options skip = {.skip_corrupt = true};
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    uint8_t zero[4] = {0};
    FILE *f;
    int before;

    /* Buffer 4's BufferSize becomes 0; the reader opened before sees it. */
    r = open_synth(state, &spec, &expect);
    f = fopen(data, "r+b");
    assert_non_null(f);
    fseek(f, 4 * HV_PAGE_SIZE, SEEK_SET);
    fwrite(zero, 1, 4, f);
    fclose(f);
    before = synth_dir_entries(*state);
    assert_int_equal(hvlog_export_ctf(r, out, NULL, NULL, &err), HVLOG_EXPORT_CORRUPT);
    assert_non_null(strstr(err.message, "buffer 4 at byte 16384: BufferSize is not 1..512 pages"));
    assert_int_equal(synth_dir_entries(*state), before);
    assert_int_equal(hvlog_export_ctf(r, out, &skip, &sum, &err), HVLOG_EXPORT_OK);
    assert_int_equal(sum.corrupt_skipped, 1);
    assert_int_equal(sum.buffers, expect.total_buffers - 1);
    free(out);
    free(data);
    hvlog_trace_close(r);
}

/* What the report callback was handed. */
struct reports {
    int count;
    char first[HVLOG_EXPORT_MESSAGE_MAX];
};

static void collect_report(void *arg, const char *message)
{
    struct reports *rep = arg;

    if (rep->count++ == 0)
        snprintf(rep->first, sizeof rep->first, "%s", message);
}

static bool slot_in(const struct hvlog_trace_slot *s, const struct hvlog_trace_slot *set, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (set[i].file_index == s->file_index)
            return true;
    }
    return false;
}

/*
 * Stream file @path of LP @lp holds, in order, one packet per buffer of the
 * LP in fill order (@slots, taken before anything was broken) less the
 * @skipped ones: packet_seq_num 0, 1, 2... with no hole, events_discarded
 * the running sum of the EventsLost of the packets written only, and an
 * anchor packet first when the first buffer written has a loss.
 */
static void check_stream_packets(const char *path, uint32_t lp, const struct hvlog_trace_slot *slots,
                                 uint64_t n, const struct hvlog_trace_slot *skipped, size_t n_skipped)
{
    size_t len, off = 0;
    uint8_t *bytes = (uint8_t *)read_all(path, &len);
    uint64_t seq = 0, discarded = 0;
    bool first = true;

    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *ctx;
        uint64_t packet_bytes;

        if (slots[i].lp != lp || slot_in(&slots[i], skipped, n_skipped))
            continue;
        if (first && slots[i].events_lost != 0) { /* the anchor */
            assert_true(off + 88 <= len);
            ctx = bytes + off + 32;
            assert_int_equal(hvlog_load_le64(ctx + 32), 0);
            assert_int_equal(hvlog_load_le64(ctx + 40), seq++);
            assert_int_equal(hvlog_load_le32(ctx + 52), HV_EVENTLOG_BUFFER_INDEX_NONE);
            off += 88;
        }
        first = false;
        discarded += slots[i].events_lost;
        assert_true(off + 88 <= len);
        assert_int_equal(hvlog_load_le32(bytes + off), 0xC1FC1FC1u);
        ctx = bytes + off + 32;
        packet_bytes = hvlog_load_le64(ctx) / 8;
        assert_int_equal(hvlog_load_le64(ctx + 32), discarded);
        assert_int_equal(hvlog_load_le64(ctx + 40), seq++);
        assert_int_equal(hvlog_load_le32(ctx + 48), lp);
        assert_int_equal(hvlog_load_le32(ctx + 52), slots[i].buffer_index);
        assert_true(packet_bytes >= 88 && packet_bytes <= len - off);
        off += (size_t)packet_bytes;
    }
    assert_int_equal(off, len); /* no other packet */
    free(bytes);
}

/*
 * The index reads buffer headers only, so a buffer whose header is fine
 * but whose entries are not is found while the packets are written.
 * Without skip_corrupt: refused with the reader's one line, nothing left.
 * With it: reported through the callback with that same line, counted,
 * left out: no packet, no hole in packet_seq_num, its EventsLost not in
 * events_discarded, and an LP whose every buffer is bad gets no stream.
 */
static void a_buffer_with_a_good_header_and_bad_entries_is_refused_or_skipped(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    char *dir = synth_path(*state, "t");
    char *out = synth_path(*state, "out.ctf");
    struct hvlog_trace_slot *slots, victims[2 + 6];
    struct hvlog_trace_cursor *c;
    struct reports rep = {0, ""};
    struct hvlog_export_options skip = {.skip_corrupt = true, .report = collect_report,
                                        .report_arg = &rep};
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    char want[HVLOG_EXPORT_MESSAGE_MAX];
    uint64_t n = 0, skipped = 0;
    size_t v = 0;
    int before;

    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_fill_order(c, false, NULL, NULL, &slots, &n, &skipped, &err),
                     HVLOG_EXPORT_OK);
    hvlog_trace_cursor_close(c);
    /* LP 0's third buffer (EventsLost 2), LP 1's first (EventsLost 3: it
     * had the anchor packet), every buffer of LP 2. */
    assert_int_equal(synth_break_entries(dir, 1, 0, 2, &victims[v++], &expect), 0);
    assert_int_equal(synth_break_entries(dir, 1, 1, 0, &victims[v++], &expect), 0);
    for (uint32_t k = 0; k < spec.buffers_per_lp; k++)
        assert_int_equal(synth_break_entries(dir, 1, 2, 0, &victims[v++], &expect), 0);
    assert_int_equal(victims[0].events_lost, 2);
    assert_int_equal(victims[1].events_lost, 3);

    before = synth_dir_entries(*state);
    assert_int_equal(hvlog_export_ctf(r, out, NULL, &sum, &err), HVLOG_EXPORT_CORRUPT);
    snprintf(want, sizeof want, "%s/local.buffers: buffer %llu at byte %llu: %s", dir,
             (unsigned long long)victims[0].file_index,
             (unsigned long long)victims[0].file_index * HV_PAGE_SIZE,
             hvlog_walk_error_text(HVLOG_WALK_BAD_ENTRY_SIZE));
    assert_string_equal(err.message, want);
    assert_false(synth_exists(out));
    assert_int_equal(synth_dir_entries(*state), before);

    assert_int_equal(hvlog_export_ctf(r, out, &skip, &sum, &err), HVLOG_EXPORT_OK);
    assert_int_equal(rep.count, (int)v);
    assert_string_equal(rep.first, want); /* the same line, reported */
    assert_int_equal(sum.corrupt_skipped, v);
    assert_int_equal(sum.buffers, expect.total_buffers);
    assert_int_equal(sum.events, expect.total_events);
    assert_int_equal(sum.events_lost, expect.total_lost);
    assert_int_equal(sum.streams, 2);
    assert_int_equal(synth_dir_entries(out), 1 + 2); /* metadata, local_lp0, local_lp1 */
    for (uint32_t lp = 0; lp < 2; lp++) {
        char name[32], *p;

        snprintf(name, sizeof name, "local_lp%u", lp);
        p = synth_path(out, name);
        check_stream_packets(p, lp, slots, n, victims, v);
        free(p);
    }
    free(slots);
    free(out);
    free(dir);
    hvlog_trace_close(r);
}

static void a_truncated_trace_is_refused(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    char *data = synth_path(*state, "t/local.buffers");
    char *out = synth_path(*state, "out.ctf");
    struct hvlog_export_error err;

    assert_int_equal(truncate(data, (off_t)(expect.total_buffers * HV_PAGE_SIZE - 1)), 0);
    assert_int_equal(hvlog_export_ctf(r, out, NULL, NULL, &err), HVLOG_EXPORT_TRUNCATED);
    assert_non_null(strstr(err.message, "truncated"));
    assert_false(synth_exists(out));
    free(out);
    free(data);
    hvlog_trace_close(r);
}

static void a_type_the_trace_lacks_is_an_invalid_request(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    char *out = synth_path(*state, "out.ctf");
    struct hvlog_export_options only_global = {.types = 1u << 0};
    struct hvlog_export_error err;

    assert_int_equal(hvlog_export_ctf(r, out, &only_global, NULL, &err), HVLOG_EXPORT_INVALID);
    assert_non_null(strstr(err.message, "has no group of log type 0"));
    assert_false(synth_exists(out));
    assert_int_equal(hvlog_export_ctf(NULL, out, NULL, NULL, &err), HVLOG_EXPORT_INVALID);
    free(out);
    hvlog_trace_close(r);
}

/* The streaming writer (issue 12): encoding each buffer as it comes gives
 * the export's stream files byte for byte, its packets carry the index
 * fields a live CTF index needs, the metadata of the classes used is the
 * export's, and a metadata sent first declares every catalogue class. */
static void the_streaming_writer_gives_the_exports_bytes_packet_by_packet(void **state)
{
    struct synth_expect expect;
    struct hvlog_trace_reader *r = open_synth(state, &spec, &expect);
    char *out = synth_path(*state, "out.ctf");
    struct hvlog_ctf_writer *w;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_slot *slots;
    struct hvlog_export_error err;
    uint64_t n, i = 0, discarded = 0;
    const char *text;
    char *file;
    size_t len;

    assert_int_equal(hvlog_export_ctf(r, out, NULL, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_ctf_writer_begin(hvlog_trace_reader_meta(r), "t", false, 0, 0, &w, &err),
                     HVLOG_EXPORT_OK);
    text = hvlog_ctf_writer_metadata(w, false, &len);
    assert_non_null(text);
    assert_non_null(strstr(text, "/* CTF 1.8 */"));
    assert_non_null(strstr(text, "name = \"HV_TR_IM_HLT\";"));
    assert_non_null(strstr(text, "name = \"" HVLOG_CTF_ESCAPE_EVENT_NAME "\";"));
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_fill_order(c, false, NULL, NULL, &slots, &n, NULL, &err), HVLOG_EXPORT_OK);
    while (i < n) {
        uint32_t lp = slots[i].lp;
        uint64_t seq = 0, at = 0, disc = 0;
        char name[32];
        size_t flen;
        char *stream;

        snprintf(name, sizeof name, "local_lp%u", lp);
        file = synth_path(out, name);
        stream = read_all(file, &flen);
        for (; i < n && slots[i].lp == lp; i++) {
            struct hvlog_ctf_packet pk[2];
            struct hvlog_trace_buffer b;
            uint32_t count;

            assert_int_equal(hvlog_trace_cursor_read(c, slots[i].file_index, &b, NULL, NULL, &err),
                             HVLOG_EXPORT_OK);
            assert_int_equal(hvlog_ctf_packet_encode(w, 1, b.bytes, b.len, pk, &count, &err),
                             HVLOG_EXPORT_OK);
            disc += b.summary.events_lost;
            for (uint32_t k = 0; k < count; k++) {
                assert_true(at + pk[k].len <= flen);
                assert_memory_equal(stream + at, pk[k].bytes, pk[k].len);
                assert_int_equal(pk[k].packet_seq_num, seq++);
                assert_int_equal(pk[k].stream_id, 1);
                assert_true(pk[k].stream_instance_id == ((1ull << 32) | lp));
                assert_int_equal(pk[k].packet_size, pk[k].len * 8);
                assert_int_equal(pk[k].content_size, pk[k].len * 8);
                assert_true(pk[k].timestamp_begin <= pk[k].timestamp_end);
                assert_int_equal(pk[k].lp, lp);
                at += pk[k].len;
            }
            assert_true(pk[count - 1].events_discarded == disc);
        }
        assert_int_equal(at, flen); /* every byte of the file, nothing more */
        discarded += disc;
        free(stream);
        free(file);
    }
    assert_true(discarded == expect.total_lost);
    file = synth_path(out, "metadata");
    {
        char *exported = read_all(file, &len);
        size_t mlen;
        const char *mine = hvlog_ctf_writer_metadata(w, true, &mlen);

        assert_int_equal(mlen, len);
        assert_memory_equal(mine, exported, len);
        free(exported);
    }
    free(file);
    free(slots);
    hvlog_trace_cursor_close(c);
    hvlog_ctf_writer_end(w);
    free(out);
    hvlog_trace_close(r);
}

/* A buffer whose time goes back in its stream is refused, the stream unchanged. */
static void the_streaming_writer_refuses_time_going_back(void **state)
{
    struct synth_spec s = spec;
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    struct hvlog_ctf_writer *w;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_ctf_packet pk[2];
    struct hvlog_export_error err;
    enum hvlog_export_status st = HVLOG_EXPORT_OK;
    uint32_t count;

    s.swap_release = false;
    s.backwards = SYNTH_BACK_IN_BUFFER;
    r = open_synth(state, &s, &expect);
    assert_int_equal(hvlog_ctf_writer_begin(hvlog_trace_reader_meta(r), "t", false, 0, 0, &w, &err),
                     HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    while (st == HVLOG_EXPORT_OK && hvlog_trace_cursor_next(c, &b, NULL, NULL, &err) == HVLOG_EXPORT_OK)
        st = hvlog_ctf_packet_encode(w, 1, b.bytes, b.len, pk, &count, &err);
    assert_int_equal(st, HVLOG_EXPORT_TIME);
    assert_non_null(strstr(err.message, "babeltrace2 would reject the stream"));
    hvlog_trace_cursor_close(c);
    hvlog_ctf_writer_end(w);
    hvlog_trace_close(r);
}

/* Events a live sender lost before they became packets (record --relayd:
 * its queue was full) go to the stream's next packet's events_discarded;
 * before a stream's first packet they make it start with an anchor that
 * says 0, so that babeltrace2 counts the gap. */
static void discarded_events_go_to_the_streams_next_packet(void **state)
{
    struct synth_spec s = spec;
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    struct hvlog_ctf_writer *w;
    struct hvlog_trace_cursor *c;
    struct hvlog_trace_buffer b;
    struct hvlog_ctf_packet pk[2];
    struct hvlog_export_error err;
    uint64_t running = 0;
    uint32_t count, lp;

    s.swap_release = false;
    r = open_synth(state, &s, &expect);
    assert_int_equal(hvlog_ctf_writer_begin(hvlog_trace_reader_meta(r), "t", false, 0, 0, &w, &err),
                     HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_open(r, 1, &c, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_trace_cursor_next(c, &b, NULL, NULL, &err), HVLOG_EXPORT_OK);
    lp = b.summary.logical_processor;
    /* Before the stream's first packet. */
    assert_int_equal(hvlog_ctf_writer_discard(w, 1, lp, 7, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_ctf_packet_encode(w, 1, b.bytes, b.len, pk, &count, &err), HVLOG_EXPORT_OK);
    assert_int_equal(count, 2);
    assert_int_equal(pk[0].events, 0);
    assert_int_equal(pk[0].events_discarded, 0);
    running = 7 + b.summary.events_lost;
    assert_true(pk[1].events_discarded == running);
    assert_int_equal(pk[1].packet_seq_num, 1);
    /* Later: the next packet of the same stream carries them. */
    assert_int_equal(hvlog_ctf_writer_discard(w, 1, lp, 5, &err), HVLOG_EXPORT_OK);
    while (hvlog_trace_cursor_next(c, &b, NULL, NULL, &err) == HVLOG_EXPORT_OK &&
           b.summary.logical_processor != lp) {
        assert_int_equal(hvlog_ctf_packet_encode(w, 1, b.bytes, b.len, pk, &count, &err),
                         HVLOG_EXPORT_OK);
    }
    assert_int_equal(b.summary.logical_processor, lp);
    assert_int_equal(hvlog_ctf_packet_encode(w, 1, b.bytes, b.len, pk, &count, &err), HVLOG_EXPORT_OK);
    assert_int_equal(count, 1);
    running += 5 + b.summary.events_lost;
    assert_true(pk[0].events_discarded == running);
    /* A type the writer does not have is refused. */
    assert_int_equal(hvlog_ctf_writer_discard(w, 2, 0, 1, &err), HVLOG_EXPORT_INVALID);
    hvlog_trace_cursor_close(c);
    hvlog_ctf_writer_end(w);
    hvlog_trace_close(r);
}

static void the_tsc_basis_gets_its_own_clock(void **state)
{
    struct synth_spec s = spec;
    struct synth_expect expect;
    struct hvlog_trace_reader *r;
    char *out = synth_path(*state, "out.ctf");
    char *meta_path = synth_path(out, "metadata");
    struct hvlog_export_error err;
    char *text;

    s.time_basis = HvEventLogEntryTimeTsc;
    r = open_synth(state, &s, &expect);
    assert_int_equal(hvlog_export_ctf(r, out, NULL, NULL, &err), HVLOG_EXPORT_OK);
    text = read_all(meta_path, NULL);
    assert_non_null(strstr(text, "name = local_tsc;"));
    assert_non_null(strstr(text, "freq = 3000000000;"));
    assert_non_null(strstr(text, "absolute = false;"));
    assert_non_null(strstr(text, "map = clock.local_tsc.value;"));
    free(text);
    free(meta_path);
    free(out);
    hvlog_trace_close(r);
}

static void clocks_babeltrace2_cannot_merge_are_refused_unless_one_type_is_chosen(void **state)
{
    struct synth_spec specs[2] = {spec, spec};
    struct synth_expect expect[2];
    char *dir = synth_path(*state, "t");
    char *out = synth_path(*state, "out.ctf");
    struct hvlog_export_options local_only = {.types = 1u << 1};
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;

    specs[0].time_basis = HvEventLogEntryTimeTsc; /* local on the TSC, global on reference time */
    specs[1].type = 0;
    specs[1].lps = 1;
    assert_int_equal(synth_write_groups(specs, 2, dir, expect), 0);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_export_ctf(r, out, NULL, NULL, &err), HVLOG_EXPORT_UNSUPPORTED);
    assert_non_null(strstr(err.message, "babeltrace2 cannot merge"));
    assert_false(synth_exists(out));
    assert_int_equal(hvlog_export_ctf(r, out, &local_only, NULL, &err), HVLOG_EXPORT_OK);
    assert_int_equal(synth_dir_entries(out), 1 + 3);
    hvlog_trace_close(r);
    free(out);
    free(dir);
}

/* Replace every @from in trace @dir's metadata text by @to (at least one). */
static void edit_meta(const char *dir, const char *from, const char *to)
{
    assert_true(synth_edit_meta(dir, from, to) > 0);
}

/* Two groups on the QPC basis: local (3 LPs) and global (1 LP). */
static void write_qpc_pair(void **state, const char *dir)
{
    struct synth_spec specs[2] = {spec, spec};
    struct synth_expect expect[2];

    specs[0].time_basis = specs[1].time_basis = HvEventLogEntryTimeQpc;
    specs[1].type = HvEventLogTypeGlobalSystemEvents;
    specs[1].lps = 1;
    (void)state;
    assert_int_equal(synth_write_groups(specs, 2, dir, expect), 0);
}

/* With qpc_frequency_hz and each group's qpc_at_init (what hvlog record
 * writes), QPC is anchored like reference time: absolute clocks that
 * babeltrace2 merges, so a trace of two QPC groups exports whole. */
static void an_anchored_qpc_clock_is_absolute_and_two_qpc_groups_export(void **state)
{
    char *dir = synth_path(*state, "t");
    char *out = synth_path(*state, "out.ctf");
    char *meta_path = synth_path(out, "metadata");
    struct hvlog_trace_reader *r;
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    char *text;

    write_qpc_pair(state, dir);
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_export_ctf(r, out, NULL, &sum, &err), HVLOG_EXPORT_OK);
    assert_int_equal(sum.streams, 3 + 1);
    text = read_all(meta_path, NULL);
    /* QPC 5000 at Initialize, 2026-01-01 00:00:00 UTC: as for reference time. */
    assert_non_null(strstr(text, "name = local_qpc;\n\tdescription = \"QPC of the partition at "
                                 "qpc_frequency_hz\";\n\tfreq = 10000000;\n\tprecision = 1;\n"
                                 "\toffset_s = 1767225599;\n\toffset = 9995000;\n\tabsolute = true;"));
    assert_non_null(strstr(text, "name = global_qpc;"));
    assert_null(strstr(text, "absolute = false;"));
    assert_non_null(strstr(strstr(text, "absolute = true;") + 1, "absolute = true;"));
    free(text);
    hvlog_trace_close(r);
    free(meta_path);
    free(out);
    free(dir);
}

/* Another frequency: the anchor's seconds and cycles are counted in it,
 * and SystemTime's fraction of a second becomes cycles. */
static void a_qpc_clock_counts_its_offset_in_its_own_frequency(void **state)
{
    char *dir = synth_path(*state, "t");
    char *out = synth_path(*state, "out.ctf");
    char *meta_path = synth_path(out, "metadata");
    struct hvlog_trace_reader *r;
    struct hvlog_export_error err;
    char *text;

    write_qpc_pair(state, dir);
    /* 25 MHz; QPC 1.2 s at Initialize; SystemTime 2026-01-01 00:00:00.25. */
    edit_meta(dir, "\"qpc_frequency_hz\": 10000000", "\"qpc_frequency_hz\": 25000000");
    edit_meta(dir, "\"qpc_at_init\": 5000", "\"qpc_at_init\": 30000000");
    edit_meta(dir, "\"system_time\": 134116992000000000", "\"system_time\": 134116992002500000");
    assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
    assert_int_equal(hvlog_export_ctf(r, out, NULL, NULL, &err), HVLOG_EXPORT_OK);
    text = read_all(meta_path, NULL);
    /* 1767225600.25 s - 1.2 s = 1767225599.05 s = 1767225599 s + 1250000 cycles. */
    assert_non_null(strstr(text, "name = local_qpc;"));
    assert_non_null(strstr(text, "freq = 25000000;\n\tprecision = 1;\n\toffset_s = 1767225599;\n"
                                 "\toffset = 1250000;\n\tabsolute = true;"));
    free(text);
    hvlog_trace_close(r);
    free(meta_path);
    free(out);
    free(dir);
}

/* Without the anchor (a trace of an older hvlog, or no SystemTime) a QPC
 * clock has no origin: two such groups are refused as before, one alone
 * exports on a non-absolute clock (at the recorded frequency, if any). */
static void a_qpc_clock_without_its_anchor_is_not_absolute(void **state)
{
    static const struct {
        const char *from, *to, *freq;
    } cases[] = {
        {"\"qpc_at_init\": 5000,", "", "freq = 25000000;"},
        {"\"system_time\": 134116992000000000,", "", "freq = 25000000;"},
        {"\"qpc_frequency_hz\": 25000000,", "", "freq = 10000000;"}, /* assumed */
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *dir = synth_path(*state, "t");
        char *out = synth_path(*state, "out.ctf");
        char *meta_path = synth_path(out, "metadata");
        struct hvlog_export_options local_only = {.types = 1u << HvEventLogTypeLocalDiagnostics};
        struct hvlog_trace_reader *r;
        struct hvlog_export_error err;
        char *text;

        synth_rmtree(dir);
        write_qpc_pair(state, dir);
        edit_meta(dir, "\"qpc_frequency_hz\": 10000000", "\"qpc_frequency_hz\": 25000000");
        edit_meta(dir, cases[i].from, cases[i].to);
        assert_int_equal(hvlog_trace_open(dir, &r, &err), HVLOG_EXPORT_OK);
        assert_int_equal(hvlog_export_ctf(r, out, NULL, NULL, &err), HVLOG_EXPORT_UNSUPPORTED);
        assert_non_null(strstr(err.message, "babeltrace2 cannot merge ("));
        assert_non_null(strstr(err.message, "local_qpc"));
        assert_non_null(strstr(err.message, "global_qpc"));
        assert_false(synth_exists(out));
        assert_int_equal(hvlog_export_ctf(r, out, &local_only, NULL, &err), HVLOG_EXPORT_OK);
        text = read_all(meta_path, NULL);
        assert_non_null(strstr(text, "name = local_qpc;"));
        assert_non_null(strstr(text, cases[i].freq));
        assert_non_null(strstr(text, "offset_s = 0;\n\toffset = 0;\n\tabsolute = false;"));
        free(text);
        hvlog_trace_close(r);
        synth_rmtree(out);
        free(meta_path);
        free(out);
        free(dir);
    }
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, synth_setup_tmp, synth_teardown_tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(one_stream_file_per_lp_and_the_metadata_last),
        T(the_streaming_writer_gives_the_exports_bytes_packet_by_packet),
        T(the_streaming_writer_refuses_time_going_back),
        T(discarded_events_go_to_the_streams_next_packet),
        T(the_same_trace_exports_to_the_same_bytes),
        T(time_going_backwards_is_refused_and_nothing_is_left),
        T(an_existing_output_is_refused_unless_forced_and_ours),
        T(corrupt_input_is_refused_or_skipped_on_request),
        T(a_buffer_with_a_good_header_and_bad_entries_is_refused_or_skipped),
        T(a_truncated_trace_is_refused),
        T(a_type_the_trace_lacks_is_an_invalid_request),
        T(the_tsc_basis_gets_its_own_clock),
        T(clocks_babeltrace2_cannot_merge_are_refused_unless_one_type_is_chosen),
        T(an_anchored_qpc_clock_is_absolute_and_two_qpc_groups_export),
        T(a_qpc_clock_counts_its_offset_in_its_own_frequency),
        T(a_qpc_clock_without_its_anchor_is_not_absolute),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
