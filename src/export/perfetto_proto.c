/* SPDX-License-Identifier: MIT */
/*
 * Perfetto's native protobuf trace format (hvlog/export/perfetto.h,
 * hvlog_export_perfetto_proto), written by our own encoder (pb_write.h):
 * the same content as the JSON export, in 2.4 to 3.4 times fewer bytes
 * (docs/trace-format.md section 7.2).
 *
 * A trace file is a concatenation of Trace.packet fields (0x0A len
 * TracePacket); nothing frames the whole, so packets are streamed and the
 * file is never held in memory. The field numbers below are Perfetto's
 * (protos/perfetto/trace/: trace_packet.proto, clock_snapshot.proto,
 * trace_packet_defaults.proto, interned_data/interned_data.proto,
 * track_event/{track_event,track_descriptor,counter_descriptor,
 * debug_annotation}.proto); tests/export/perfetto_subset.proto spells the
 * subset out for protoc.
 *
 * Layout, in write order:
 *
 *   sequence 1:  ClockSnapshot (BOOTTIME <-> REALTIME, when the trace is
 *                anchored); per log type a TrackDescriptor "LocalDiagnostics"
 *   per LP track, its own sequence (2, 3, ...), LP by LP in fill order:
 *     TrackDescriptor "LP N" under its type's track, with
 *       sequence_flags INCREMENTAL_STATE_CLEARED and TracePacketDefaults
 *       whose track_uuid is the LP track (events then omit it) and whose
 *       timestamp_clock_id is the sequence's delta clock;
 *     TrackDescriptor "events lost LP N" (a counter track) under it;
 *     ClockSnapshot: delta clock 64 = BOOTTIME at the first event's time;
 *     then per entry a TrackEvent INSTANT: name_iid, category_iids,
 *       debug annotations (context and parameters as pointer_value, so
 *       viewers show them in hex as the JSON's strings; extra bytes and
 *       unknown entries' data as hex strings), with InternedData in the
 *       packet that first uses a name on the sequence, and
 *       sequence_flags NEEDS_INCREMENTAL_STATE;
 *     where a buffer reports EventsLost: a COUNTER sample (the running
 *       total, as the JSON's counter) and an INSTANT "EventsLost" with
 *       annotation lost = the buffer's count; every track starts with a
 *       counter sample of its loss so far.
 *
 * Timestamps are ns through the group's hvlog_trace_clock, as the JSON
 * export's (ns since hypervisor start for reference time, ticks over the
 * known frequency for TSC and QPC; an unknown TSC frequency is refused
 * unless --tsc-hz gives it), on Perfetto's default trace
 * clock, BOOTTIME. Each LP sequence writes them as deltas: its defaults
 * name our sequence-scoped clock 64 (is_incremental), anchored to
 * BOOTTIME by a ClockSnapshot before the sequence's first timed packet.
 * Sequence 1's ClockSnapshot ties BOOTTIME to wall time (REALTIME) from
 * the group anchor hvlog decode and the CTF export use
 * (hvlog_trace_meta_anchor); there is none for TSC, or when the exported
 * groups are on different bases (one BOOTTIME cannot mean two clocks).
 *
 * Several hosts (issue 17, hvlog_export_perfetto_proto_hosts): sequence 1
 * also describes a track per host, named by it, and each host's type
 * tracks are under its track; every time is on the Unix clock, ns since
 * the timeline's origin (export_perfetto_timeline), and the ClockSnapshot
 * ties BOOTTIME 0 to REALTIME origin. TracePacket.machine_id (98) is not
 * used: Perfetto's service sets it with RemoteClockSync packets for a
 * producer on another machine (docs/trace-format.md section 7.3).
 *
 * Time going back on one LP, skipped corrupt buffers, the loss placement
 * and the staged all-or-nothing output behave exactly as in perfetto.c
 * (the walk is the same; once the trace layer's iterator lands both
 * exports should share one walk).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "export/pb_write.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "hvlog/export/perfetto.h"
#include "hvlog/trace/clock.h"
#include "hvlog/trace/merge.h" /* HVLOG_TRACE_MERGE_MAX_HOSTS */

/* ---- field numbers (Perfetto protos/perfetto/trace/) ---- */

#define F_TRACE_PACKET 1u

#define F_PKT_CLOCK_SNAPSHOT 6u
#define F_PKT_TIMESTAMP 8u
#define F_PKT_SEQUENCE_ID 10u /* trusted_packet_sequence_id */
#define F_PKT_TRACK_EVENT 11u
#define F_PKT_INTERNED_DATA 12u
#define F_PKT_SEQUENCE_FLAGS 13u
#define F_PKT_DEFAULTS 59u /* trace_packet_defaults */
#define F_PKT_TRACK_DESCRIPTOR 60u

#define SEQ_INCREMENTAL_STATE_CLEARED 1u
#define SEQ_NEEDS_INCREMENTAL_STATE 2u

#define F_DEFAULTS_TRACK_EVENT 11u   /* TracePacketDefaults.track_event_defaults */
#define F_DEFAULTS_CLOCK_ID 58u      /* TracePacketDefaults.timestamp_clock_id */
#define F_TE_DEFAULTS_TRACK_UUID 11u /* TrackEventDefaults.track_uuid */

#define F_CLOCKS 1u /* ClockSnapshot.clocks */
#define F_CLOCK_ID 1u
#define F_CLOCK_TIMESTAMP 2u
#define F_CLOCK_INCREMENTAL 3u
#define CLOCK_REALTIME 1u
#define CLOCK_BOOTTIME 6u     /* Perfetto's default trace clock */
#define CLOCK_SEQ_DELTA 64u   /* ours, sequence-scoped (64..127): ns deltas of BOOTTIME */

#define F_TD_UUID 1u
#define F_TD_NAME 2u
#define F_TD_PARENT_UUID 5u
#define F_TD_COUNTER 8u

#define F_TE_CATEGORY_IIDS 3u
#define F_TE_DEBUG_ANNOTATIONS 4u
#define F_TE_TYPE 9u
#define F_TE_NAME_IID 10u
#define F_TE_TRACK_UUID 11u
#define F_TE_COUNTER_VALUE 30u
#define TE_TYPE_INSTANT 3u
#define TE_TYPE_COUNTER 4u

#define F_DA_NAME_IID 1u
#define F_DA_UINT 3u
#define F_DA_STRING 6u
#define F_DA_POINTER 7u

#define F_ID_EVENT_CATEGORIES 1u
#define F_ID_EVENT_NAMES 2u
#define F_ID_ANNOTATION_NAMES 3u
#define F_INTERNED_IID 1u
#define F_INTERNED_NAME 2u

/* ---- our choices: sequence ids, track uuids, interning ids ---- */

#define SEQ_TRACE 1u /* clock snapshot and type tracks; LP tracks take 2, 3, ... */

/* Track uuids: (1 + log type) << 40 for a type's track; | LP << 2 | 1 for
 * its LP tracks, | 2 for their loss counters (an LP number is 32 bits).
 * Several hosts (issue 17): host h's are | h << 48 (so host 0's, and one
 * trace's, are as above), and its own track is h << 48 | 0xFF << 40 (no
 * log type is 254). */
#define HOST_SHIFT 48u
#define HOST_TRACK_TAG ((uint64_t)0xFF << 40)
_Static_assert(HVLOG_TRACE_MERGE_MAX_HOSTS <= 1u << (64 - HOST_SHIFT), "host bits");
_Static_assert(HVLOG_TYPE_COUNT < 0xFE, "a type's uuid meets the host track's tag");
static uint64_t host_uuid(uint32_t host) { return (uint64_t)host << HOST_SHIFT | HOST_TRACK_TAG; }
static uint64_t type_uuid(uint32_t host, uint32_t type)
{
    return (uint64_t)host << HOST_SHIFT | (uint64_t)(1 + type) << 40;
}
static uint64_t lp_uuid(uint32_t host, uint32_t type, uint32_t lp)
{
    return type_uuid(host, type) | (uint64_t)lp << 2 | 1;
}
static uint64_t counter_uuid(uint32_t host, uint32_t type, uint32_t lp)
{
    return type_uuid(host, type) | (uint64_t)lp << 2 | 2;
}

#define CAT_IID 1u /* the one category of a sequence: its type's short name */

#define NAME_IID_LOSS 1u       /* "EventsLost" */
#define NAME_IID_CLASS 2u      /* + the class's index in the catalogue (< 255) */
#define NAME_IID_UNKNOWN 512u  /* + entry type: "entry 0x%04x" */
#define NAME_IID_LIMIT (NAME_IID_UNKNOWN + 65536u)

#define ANN_IID_CONTEXT 1u
#define ANN_IID_EXTRA 2u
#define ANN_IID_ENTRY_TYPE 3u
#define ANN_IID_SIZE 4u
#define ANN_IID_DATA 5u
#define ANN_IID_LOST 6u
#define ANN_IID_PARAM 8u /* + index among the type's distinct parameter names */
#define MAX_CLASSES 255u
#define ANN_IID_LIMIT (ANN_IID_PARAM + MAX_CLASSES * HVLOG_TRACE_MAX_PARAMS)

static const char *const fixed_ann_names[ANN_IID_PARAM] = {
    NULL, "context", "extra", "entry_type", "size", "data", "lost", NULL,
};

#define LOSS_EVENT_NAME "EventsLost"

/* What a group needs looked up per entry, and what the sequence has interned. */
struct pp_tables {
    struct hvlog_trace_catalog catalog;
    const char *param_names[MAX_CLASSES * HVLOG_TRACE_MAX_PARAMS]; /* distinct, into catalog */
    uint32_t param_name_count;
    uint16_t param_iid[MAX_CLASSES][HVLOG_TRACE_MAX_PARAMS];
    uint64_t name_sent[NAME_IID_LIMIT / 64];
    uint64_t ann_sent[(ANN_IID_LIMIT + 63) / 64];
    bool cat_sent;
};

/* One debug annotation of an event. */
enum ann_kind { ANN_POINTER, ANN_UINT, ANN_HEX };
struct ann {
    uint32_t iid;
    enum ann_kind kind;
    uint64_t value;
    const uint8_t *bytes; /* ANN_HEX */
    size_t len;
    size_t size; /* of the DebugAnnotation message */
};
#define MAX_ANNS (HVLOG_TRACE_MAX_PARAMS + 4u)

struct pp_export {
    struct hvlog_export_error *err;
    struct pb_writer w;
    struct pp_tables *t;
    const struct export_perfetto_timeline *tl;
    uint32_t host;                  /* the host being written (0: one trace) */
    struct hvlog_trace_clock clock; /* of the group being written */
    uint64_t shift_ns;              /* what the timeline adds to its ns (several hosts) */
    uint64_t tsc_hz;                /* --tsc-hz, 0 = the trace's */
    uint32_t next_seq;
    bool length_wrong; /* a packet's bytes differed from its computed length */
    /* The track being written (one sequence). */
    uint32_t seq;
    bool clock_due;     /* the sequence's delta clock is not yet anchored */
    uint64_t prev_ns;   /* the sequence's last packet time (BOOTTIME ns) */
    /* The track and buffer being written (perfetto_walk.c); its last_ts is
     * in entry ticks: the track's last instant or counter sample. Its
     * track_named: the descriptors are written, with its first event. */
    struct export_track_walk k;
};

static int sink_fd(void *arg, const uint8_t *bytes, size_t len)
{
    return hvlog__export_write_all(*(const int *)arg, bytes, len);
}

static bool bit_test(const uint64_t *set, uint32_t i) { return (set[i / 64] >> (i % 64)) & 1u; }
static void bit_set(uint64_t *set, uint32_t i) { set[i / 64] |= (uint64_t)1 << (i % 64); }

/* ---- packet framing: the length computed first, checked after ---- */

static uint64_t packet_begin(struct pp_export *x, size_t size)
{
    uint64_t start = x->w.bytes;

    pb_put_len_header(&x->w, F_TRACE_PACKET, size);
    return start;
}

static void packet_end(struct pp_export *x, uint64_t start, size_t size)
{
    /* A wrong length would make every later packet unreadable: catch a
     * disagreement between a size helper and its writer here, once. */
    if (x->w.error == 0 && x->w.bytes - start != pb_len_field_size(F_TRACE_PACKET, size))
        x->length_wrong = true;
}

/* ---- interning ---- */

static size_t interned_entry_size(uint32_t iid, const char *name)
{
    return pb_varint_field_size(F_INTERNED_IID, iid) + pb_len_field_size(F_INTERNED_NAME, strlen(name));
}

static void put_interned_entry(struct pb_writer *w, uint32_t field, uint32_t iid, const char *name)
{
    pb_put_len_header(w, field, interned_entry_size(iid, name));
    pb_put_varint_field(w, F_INTERNED_IID, iid);
    pb_put_bytes_field(w, F_INTERNED_NAME, name, strlen(name));
}

static const char *ann_name(const struct pp_tables *t, uint32_t iid)
{
    return iid < ANN_IID_PARAM ? fixed_ann_names[iid] : t->param_names[iid - ANN_IID_PARAM];
}

/* The group's distinct parameter names: iid per (class, parameter). */
static void index_param_names(struct pp_tables *t)
{
    t->param_name_count = 0;
    for (uint32_t c = 0; c < t->catalog.count; c++) {
        const struct hvlog_trace_class *cls = &t->catalog.classes[c];

        for (uint32_t i = 0; i < cls->param_count; i++) {
            uint32_t k = 0;

            while (k < t->param_name_count && strcmp(t->param_names[k], cls->params[i]) != 0)
                k++;
            if (k == t->param_name_count)
                t->param_names[t->param_name_count++] = cls->params[i];
            t->param_iid[c][i] = (uint16_t)(ANN_IID_PARAM + k);
        }
    }
}

/* ---- annotations and events ---- */

static size_t ann_size(struct ann *a)
{
    size_t n = pb_varint_field_size(F_DA_NAME_IID, a->iid);

    switch (a->kind) {
    case ANN_POINTER: n += pb_varint_field_size(F_DA_POINTER, a->value); break;
    case ANN_UINT: n += pb_varint_field_size(F_DA_UINT, a->value); break;
    case ANN_HEX: n += pb_len_field_size(F_DA_STRING, 2 * a->len); break;
    }
    a->size = n;
    return n;
}

static void put_hex(struct pb_writer *w, const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    char chunk[128];
    size_t used = 0;

    for (size_t i = 0; i < len; i++) {
        if (used == sizeof chunk) {
            hvlog__pb_put_raw(w, chunk, used);
            used = 0;
        }
        chunk[used++] = digits[bytes[i] >> 4];
        chunk[used++] = digits[bytes[i] & 0xF];
    }
    hvlog__pb_put_raw(w, chunk, used);
}

static void put_ann(struct pb_writer *w, const struct ann *a)
{
    pb_put_len_header(w, F_TE_DEBUG_ANNOTATIONS, a->size);
    pb_put_varint_field(w, F_DA_NAME_IID, a->iid);
    switch (a->kind) {
    case ANN_POINTER: pb_put_varint_field(w, F_DA_POINTER, a->value); break;
    case ANN_UINT: pb_put_varint_field(w, F_DA_UINT, a->value); break;
    case ANN_HEX:
        pb_put_len_header(w, F_DA_STRING, 2 * a->len);
        put_hex(w, a->bytes, a->len);
        break;
    }
}

/*
 * The packet time of something at @ticks, as the delta (ns) from the
 * sequence's previous packet: times never decrease on a track (refused
 * otherwise), so deltas are small non-negative varints, 1-3 bytes where
 * an absolute ns time takes 8-9. The first timed packet of a sequence is
 * preceded by the ClockSnapshot that anchors the delta clock to BOOTTIME
 * at that time (clock_snapshot.proto: the first delta after a snapshot
 * counts from its timestamp).
 */
static uint64_t stamp(struct pp_export *x, uint64_t ticks)
{
    uint64_t ns = hvlog_trace_clock_scale(&x->clock, ticks, 1000000000u), delta;

    ns = ns > UINT64_MAX - x->shift_ns ? UINT64_MAX : ns + x->shift_ns;

    if (x->clock_due) {
        size_t seqc = pb_varint_field_size(F_CLOCK_ID, CLOCK_SEQ_DELTA) +
                      pb_varint_field_size(F_CLOCK_TIMESTAMP, ns) +
                      pb_varint_field_size(F_CLOCK_INCREMENTAL, 1);
        size_t boot = pb_varint_field_size(F_CLOCK_ID, CLOCK_BOOTTIME) +
                      pb_varint_field_size(F_CLOCK_TIMESTAMP, ns);
        size_t snapshot = pb_len_field_size(F_CLOCKS, seqc) + pb_len_field_size(F_CLOCKS, boot);
        size_t packet = pb_len_field_size(F_PKT_CLOCK_SNAPSHOT, snapshot) +
                        pb_varint_field_size(F_PKT_SEQUENCE_ID, x->seq) +
                        pb_varint_field_size(F_PKT_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
        uint64_t start = packet_begin(x, packet);

        pb_put_len_header(&x->w, F_PKT_CLOCK_SNAPSHOT, snapshot);
        pb_put_len_header(&x->w, F_CLOCKS, seqc);
        pb_put_varint_field(&x->w, F_CLOCK_ID, CLOCK_SEQ_DELTA);
        pb_put_varint_field(&x->w, F_CLOCK_TIMESTAMP, ns);
        pb_put_varint_field(&x->w, F_CLOCK_INCREMENTAL, 1);
        pb_put_len_header(&x->w, F_CLOCKS, boot);
        pb_put_varint_field(&x->w, F_CLOCK_ID, CLOCK_BOOTTIME);
        pb_put_varint_field(&x->w, F_CLOCK_TIMESTAMP, ns);
        pb_put_varint_field(&x->w, F_PKT_SEQUENCE_ID, x->seq);
        pb_put_varint_field(&x->w, F_PKT_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
        packet_end(x, start, packet);
        x->prev_ns = ns;
        x->clock_due = false;
    }
    delta = ns - x->prev_ns; /* ns >= prev_ns: the walk refuses time going back */
    x->prev_ns = ns;
    return delta;
}

/*
 * An INSTANT event at @ticks on the current LP track (the sequence's
 * default track), named @name_iid (@name: its text, interned here if the
 * sequence has not seen it), with @n annotations. Every length is
 * computed before the first byte is written.
 */
static void put_instant(struct pp_export *x, uint64_t ticks, uint32_t name_iid, const char *name,
                        struct ann *anns, uint32_t n)
{
    struct pp_tables *t = x->t;
    struct pb_writer *w = &x->w;
    const char *cat = hvlog_trace_group_short(x->k.group->type);
    uint32_t new_anns[MAX_ANNS], new_ann_count = 0;
    bool new_name = !bit_test(t->name_sent, name_iid), new_cat = !t->cat_sent;
    size_t te = 0, interned = 0, packet;
    uint64_t ts = stamp(x, ticks), start;

    if (!cat)
        cat = "eventlog";
    for (uint32_t i = 0; i < n; i++) {
        te += pb_len_field_size(F_TE_DEBUG_ANNOTATIONS, ann_size(&anns[i]));
        if (!bit_test(t->ann_sent, anns[i].iid)) {
            bit_set(t->ann_sent, anns[i].iid); /* once, even if two share a name */
            new_anns[new_ann_count++] = anns[i].iid;
        }
    }
    te += pb_varint_field_size(F_TE_CATEGORY_IIDS, CAT_IID) +
          pb_varint_field_size(F_TE_TYPE, TE_TYPE_INSTANT) +
          pb_varint_field_size(F_TE_NAME_IID, name_iid);
    if (new_cat)
        interned += pb_len_field_size(F_ID_EVENT_CATEGORIES, interned_entry_size(CAT_IID, cat));
    if (new_name)
        interned += pb_len_field_size(F_ID_EVENT_NAMES, interned_entry_size(name_iid, name));
    for (uint32_t i = 0; i < new_ann_count; i++)
        interned += pb_len_field_size(F_ID_ANNOTATION_NAMES,
                                      interned_entry_size(new_anns[i], ann_name(t, new_anns[i])));
    packet = pb_varint_field_size(F_PKT_TIMESTAMP, ts) +
             pb_varint_field_size(F_PKT_SEQUENCE_ID, x->seq) +
             pb_len_field_size(F_PKT_TRACK_EVENT, te) +
             (interned ? pb_len_field_size(F_PKT_INTERNED_DATA, interned) : 0) +
             pb_varint_field_size(F_PKT_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);

    start = packet_begin(x, packet);
    pb_put_varint_field(w, F_PKT_TIMESTAMP, ts);
    pb_put_varint_field(w, F_PKT_SEQUENCE_ID, x->seq);
    pb_put_len_header(w, F_PKT_TRACK_EVENT, te);
    pb_put_varint_field(w, F_TE_CATEGORY_IIDS, CAT_IID);
    for (uint32_t i = 0; i < n; i++)
        put_ann(w, &anns[i]);
    pb_put_varint_field(w, F_TE_TYPE, TE_TYPE_INSTANT);
    pb_put_varint_field(w, F_TE_NAME_IID, name_iid);
    if (interned) {
        pb_put_len_header(w, F_PKT_INTERNED_DATA, interned);
        if (new_cat)
            put_interned_entry(w, F_ID_EVENT_CATEGORIES, CAT_IID, cat);
        if (new_name)
            put_interned_entry(w, F_ID_EVENT_NAMES, name_iid, name);
        for (uint32_t i = 0; i < new_ann_count; i++)
            put_interned_entry(w, F_ID_ANNOTATION_NAMES, new_anns[i], ann_name(t, new_anns[i]));
    }
    pb_put_varint_field(w, F_PKT_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
    packet_end(x, start, packet);
    bit_set(t->name_sent, name_iid);
    t->cat_sent = true;
}

/* The loss counter's sample (running total) at @ticks, and where this
 * buffer reported a loss, an "EventsLost" marker with its count. */
static void put_counter(void *arg, uint64_t ticks)
{
    struct pp_export *x = arg;
    struct pb_writer *w = &x->w;
    uint64_t ts = stamp(x, ticks), start;
    uint64_t track = counter_uuid(x->host, x->k.group->type, x->k.lp);
    size_t te = pb_varint_field_size(F_TE_TYPE, TE_TYPE_COUNTER) +
                pb_varint_field_size(F_TE_TRACK_UUID, track) +
                pb_varint_field_size(F_TE_COUNTER_VALUE, x->k.lost_total);
    size_t packet = pb_varint_field_size(F_PKT_TIMESTAMP, ts) +
                    pb_varint_field_size(F_PKT_SEQUENCE_ID, x->seq) +
                    pb_len_field_size(F_PKT_TRACK_EVENT, te) +
                    pb_varint_field_size(F_PKT_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);

    start = packet_begin(x, packet);
    pb_put_varint_field(w, F_PKT_TIMESTAMP, ts);
    pb_put_varint_field(w, F_PKT_SEQUENCE_ID, x->seq);
    pb_put_len_header(w, F_PKT_TRACK_EVENT, te);
    pb_put_varint_field(w, F_TE_TYPE, TE_TYPE_COUNTER);
    pb_put_varint_field(w, F_TE_TRACK_UUID, track);
    pb_put_varint_field(w, F_TE_COUNTER_VALUE, x->k.lost_total);
    pb_put_varint_field(w, F_PKT_SEQUENCE_FLAGS, SEQ_NEEDS_INCREMENTAL_STATE);
    packet_end(x, start, packet);
    if (x->k.events_lost != 0) {
        struct ann lost = {ANN_IID_LOST, ANN_UINT, x->k.events_lost, NULL, 0, 0};
        put_instant(x, ticks, NAME_IID_LOSS, LOSS_EVENT_NAME, &lost, 1);
    }
}

/* ---- descriptors ---- */

static size_t descriptor_size(uint64_t uuid, uint64_t parent, const char *name, bool counter)
{
    return pb_varint_field_size(F_TD_UUID, uuid) + pb_len_field_size(F_TD_NAME, strlen(name)) +
           (parent ? pb_varint_field_size(F_TD_PARENT_UUID, parent) : 0) +
           (counter ? pb_len_field_size(F_TD_COUNTER, 0) : 0);
}

static void put_descriptor(struct pb_writer *w, size_t size, uint64_t uuid, uint64_t parent,
                           const char *name, bool counter)
{
    pb_put_len_header(w, F_PKT_TRACK_DESCRIPTOR, size);
    pb_put_varint_field(w, F_TD_UUID, uuid);
    pb_put_bytes_field(w, F_TD_NAME, name, strlen(name));
    if (parent)
        pb_put_varint_field(w, F_TD_PARENT_UUID, parent);
    if (counter)
        pb_put_len_header(w, F_TD_COUNTER, 0); /* an empty CounterDescriptor: a counter track */
}

/* A TrackDescriptor packet on sequence @seq with @flags (0: none) and,
 * when @default_track, TracePacketDefaults naming it the sequence's track
 * and the sequence's delta clock its timestamps' clock. */
static void put_descriptor_packet(struct pp_export *x, uint32_t seq, uint32_t flags, uint64_t uuid,
                                  uint64_t parent, const char *name, bool counter,
                                  uint64_t default_track)
{
    size_t td = descriptor_size(uuid, parent, name, counter);
    size_t ted = pb_varint_field_size(F_TE_DEFAULTS_TRACK_UUID, default_track);
    size_t defaults = pb_len_field_size(F_DEFAULTS_TRACK_EVENT, ted) +
                      pb_varint_field_size(F_DEFAULTS_CLOCK_ID, CLOCK_SEQ_DELTA);
    size_t packet = pb_varint_field_size(F_PKT_SEQUENCE_ID, seq) +
                    (flags ? pb_varint_field_size(F_PKT_SEQUENCE_FLAGS, flags) : 0) +
                    (default_track ? pb_len_field_size(F_PKT_DEFAULTS, defaults) : 0) +
                    pb_len_field_size(F_PKT_TRACK_DESCRIPTOR, td);
    uint64_t start = packet_begin(x, packet);

    pb_put_varint_field(&x->w, F_PKT_SEQUENCE_ID, seq);
    if (flags)
        pb_put_varint_field(&x->w, F_PKT_SEQUENCE_FLAGS, flags);
    if (default_track) {
        pb_put_len_header(&x->w, F_PKT_DEFAULTS, defaults);
        pb_put_len_header(&x->w, F_DEFAULTS_TRACK_EVENT, ted);
        pb_put_varint_field(&x->w, F_TE_DEFAULTS_TRACK_UUID, default_track);
        pb_put_varint_field(&x->w, F_DEFAULTS_CLOCK_ID, CLOCK_SEQ_DELTA);
    }
    put_descriptor(&x->w, td, uuid, parent, name, counter);
    packet_end(x, start, packet);
}

/* The LP track and its counter, on a fresh sequence, before the first
 * thing written on it (the JSON's thread_name). */
static void track_name(void *arg)
{
    struct pp_export *x = arg;
    char name[48];
    uint32_t type = x->k.group->type;
    uint32_t lp = x->k.lp;

    x->seq = x->next_seq++;
    memset(x->t->name_sent, 0, sizeof x->t->name_sent);
    memset(x->t->ann_sent, 0, sizeof x->t->ann_sent);
    x->t->cat_sent = false;
    x->clock_due = true;
    snprintf(name, sizeof name, "LP %u", lp);
    put_descriptor_packet(x, x->seq, SEQ_INCREMENTAL_STATE_CLEARED, lp_uuid(x->host, type, lp),
                          type_uuid(x->host, type), name, false, lp_uuid(x->host, type, lp));
    snprintf(name, sizeof name, "events lost LP %u", lp);
    put_descriptor_packet(x, x->seq, SEQ_NEEDS_INCREMENTAL_STATE, counter_uuid(x->host, type, lp),
                          lp_uuid(x->host, type, lp), name, true, 0);
}

/* ---- the entries (the walk is perfetto_walk.c's) ---- */

static bool put_entry(void *arg, const struct hvlog_entry *e)
{
    struct pp_export *x = arg;
    const struct hvlog_trace_class *cls = hvlog_trace_catalog_find(&x->t->catalog, e->entry_type);
    struct ann anns[MAX_ANNS];
    uint32_t n = 0;

    anns[n++] = (struct ann){ANN_IID_CONTEXT, ANN_POINTER, e->context, NULL, 0, 0};
    if (cls && e->payload_len >= cls->param_count * 8u) {
        uint32_t c = (uint32_t)(cls - x->t->catalog.classes);
        uint32_t extra = e->payload_len - cls->param_count * 8u;

        for (uint32_t i = 0; i < cls->param_count; i++)
            anns[n++] = (struct ann){x->t->param_iid[c][i], ANN_POINTER,
                                     hvlog_load_le64(e->payload + (size_t)8 * i), NULL, 0, 0};
        if (extra)
            anns[n++] = (struct ann){ANN_IID_EXTRA, ANN_HEX, 0,
                                     e->payload + (size_t)cls->param_count * 8u, extra, 0};
        put_instant(x, e->time_stamp, NAME_IID_CLASS + c, cls->info->name, anns, n);
    } else {
        char unknown[32];

        snprintf(unknown, sizeof unknown, "entry 0x%04x", e->entry_type);
        anns[n++] = (struct ann){ANN_IID_ENTRY_TYPE, ANN_POINTER, e->entry_type, NULL, 0, 0};
        anns[n++] = (struct ann){ANN_IID_SIZE, ANN_UINT, e->size, NULL, 0, 0};
        anns[n++] = (struct ann){ANN_IID_DATA, ANN_HEX, 0, e->payload, e->payload_len, 0};
        put_instant(x, e->time_stamp, NAME_IID_UNKNOWN + e->entry_type, unknown, anns, n);
    }
    return x->w.error == 0;
}

static bool write_ok(void *arg, int *error)
{
    const struct pp_export *x = arg;

    *error = x->w.error;
    return x->w.error == 0;
}

static const struct export_track_ops pp_ops = {track_name, put_counter, put_entry, write_ok};

static enum hvlog_export_status write_group(struct pp_export *x, const struct export_perfetto_host *h,
                                           struct export_group_plan *plan)
{
    const char *name = hvlog_eventlog_type_name(plan->group->type);

    hvlog__export_perfetto_clock(x->tl, h, plan->group, x->tsc_hz, &x->clock, &x->shift_ns);
    hvlog_trace_catalog_init(&x->t->catalog, plan->group->type);
    index_param_names(x->t);
    put_descriptor_packet(x, SEQ_TRACE, 0, type_uuid(x->host, plan->group->type),
                          h->name ? host_uuid(x->host) : 0, name ? name : "event log", false, 0);
    return hvlog__export_track_walk_group(&x->k, plan);
}

/*
 * The ClockSnapshot: BOOTTIME (our trace clock) and REALTIME. One trace:
 * at the anchor's Initialize, when every exported group is on one basis
 * and that basis has an anchor after 1970 (hvlog_trace_meta_anchor).
 * Several hosts: BOOTTIME 0 is the timeline's origin (every group is
 * anchored, or the export was refused).
 */
static void put_clock_snapshot(struct pp_export *x, const struct export_perfetto_host *h)
{
    const struct hvlog_trace_group *g = h->count ? h->plans[0].group : NULL;
    struct hvlog_trace_clock c;
    uint64_t boot_ns, real_ns, start;
    int64_t unix_ns;
    size_t boot, real, snapshot, packet;

    for (uint32_t i = 1; g && i < h->count && !x->tl->hosts; i++) {
        if (h->plans[i].group->time_basis != g->time_basis)
            return;
    }
    if (x->tl->hosts) {
        boot_ns = 0;
        real_ns = (uint64_t)x->tl->origin_unix_ns;
    } else {
        if (!g)
            return;
        hvlog_trace_clock_init(&c, hvlog_trace_reader_meta(h->reader), g, x->tsc_hz);
        if (!c.anchored || !hvlog_trace_clock_to_unix(&c, c.anchor_ticks, 1000000000u, &unix_ns))
            return;
        boot_ns = hvlog_trace_clock_scale(&c, c.anchor_ticks, 1000000000u);
        real_ns = (uint64_t)unix_ns;
    }
    boot = pb_varint_field_size(F_CLOCK_ID, CLOCK_BOOTTIME) +
           pb_varint_field_size(F_CLOCK_TIMESTAMP, boot_ns);
    real = pb_varint_field_size(F_CLOCK_ID, CLOCK_REALTIME) +
           pb_varint_field_size(F_CLOCK_TIMESTAMP, real_ns);
    snapshot = pb_len_field_size(F_CLOCKS, boot) + pb_len_field_size(F_CLOCKS, real);
    packet = pb_len_field_size(F_PKT_CLOCK_SNAPSHOT, snapshot) +
             pb_varint_field_size(F_PKT_SEQUENCE_ID, SEQ_TRACE);
    start = packet_begin(x, packet);
    pb_put_len_header(&x->w, F_PKT_CLOCK_SNAPSHOT, snapshot);
    pb_put_len_header(&x->w, F_CLOCKS, boot);
    pb_put_varint_field(&x->w, F_CLOCK_ID, CLOCK_BOOTTIME);
    pb_put_varint_field(&x->w, F_CLOCK_TIMESTAMP, boot_ns);
    pb_put_len_header(&x->w, F_CLOCKS, real);
    pb_put_varint_field(&x->w, F_CLOCK_ID, CLOCK_REALTIME);
    pb_put_varint_field(&x->w, F_CLOCK_TIMESTAMP, real_ns);
    pb_put_varint_field(&x->w, F_PKT_SEQUENCE_ID, SEQ_TRACE);
    packet_end(x, start, packet);
}

static enum hvlog_export_status run(void *arg, const struct hvlog_export_options *opt,
                                    const struct export_perfetto_timeline *tl,
                                    struct export_perfetto_host *hosts, uint32_t host_count,
                                    struct hvlog_export_summary *summary)
{
    struct pp_export *x = arg;
    const char *out_file = x->k.out_path;
    struct export_staged_file out;
    enum hvlog_export_status st;
    int e;

    x->k.summary = summary;
    x->tl = tl;
    x->tsc_hz = opt->tsc_frequency_hz;
    x->t = malloc(sizeof(*x->t));
    if (!x->t)
        return hvlog__export_fail(x->err, HVLOG_EXPORT_NOMEM, "out of memory");
    st = hvlog__export_staged_file_begin(&out, out_file, opt->force, x->err);
    if (st != HVLOG_EXPORT_OK)
        return st;
    if (hvlog__pb_writer_init(&x->w, sink_fd, &out.fd, (size_t)1 << 18) != 0) {
        hvlog__pb_writer_finish(&x->w);
        hvlog__export_staged_file_abort(&out);
        return hvlog__export_fail(x->err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    x->next_seq = SEQ_TRACE + 1;
    put_clock_snapshot(x, &hosts[0]);
    for (uint32_t h = 0; h < host_count && st == HVLOG_EXPORT_OK; h++) {
        x->host = h;
        if (hosts[h].name) /* several hosts: the host's track, its types under it */
            put_descriptor_packet(x, SEQ_TRACE, 0, host_uuid(h), 0, hosts[h].name, false, 0);
        for (uint32_t i = 0; i < hosts[h].count && st == HVLOG_EXPORT_OK; i++)
            st = write_group(x, &hosts[h], &hosts[h].plans[i]);
    }
    summary->bytes_out = x->w.bytes;
    e = hvlog__pb_writer_finish(&x->w);
    if (st == HVLOG_EXPORT_OK && e != 0)
        st = hvlog__export_fail(x->err, HVLOG_EXPORT_IO, "%s: write failed: %s", out_file, strerror(e));
    if (st == HVLOG_EXPORT_OK && x->length_wrong)
        st = hvlog__export_fail(x->err, HVLOG_EXPORT_INVALID,
                                "%s: internal error: a packet's length was computed wrong", out_file);
    if (st != HVLOG_EXPORT_OK) {
        hvlog__export_staged_file_abort(&out);
        return st;
    }
    return hvlog__export_staged_file_commit(&out, opt->force, x->err);
}

enum hvlog_export_status hvlog_export_perfetto_proto_hosts(const struct hvlog_export_host *hosts,
                                                          uint32_t count, const char *out_file,
                                                          const struct hvlog_export_options *options,
                                                          struct hvlog_export_summary *summary,
                                                          struct hvlog_export_error *err)
{
    struct pp_export x;
    enum hvlog_export_status st;

    memset(&x, 0, sizeof x);
    x.err = err;
    x.k.ops = &pp_ops;
    x.k.arg = &x;
    x.k.out_path = out_file;
    x.k.err = err;
    st = hvlog__export_perfetto_run(hosts, count, out_file, options, summary, err, run, &x);
    free(x.t);
    return st;
}

enum hvlog_export_status hvlog_export_perfetto_proto(const struct hvlog_trace_reader *r,
                                                    const char *out_file,
                                                    const struct hvlog_export_options *options,
                                                    struct hvlog_export_summary *summary,
                                                    struct hvlog_export_error *err)
{
    const struct hvlog_export_host one = {r, NULL, 0};

    return hvlog_export_perfetto_proto_hosts(r ? &one : NULL, 1, out_file, options, summary, err);
}
