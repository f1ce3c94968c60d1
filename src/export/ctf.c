/* SPDX-License-Identifier: MIT */
/*
 * CTF 1.8 export (hvlog/export/ctf.h).
 *
 * Byte layout of a stream file (little-endian, every field byte-aligned,
 * packets tight: content_size == packet_size):
 *
 *   packet header   32  magic 0xC1FC1FC1 | trace uuid[16] | stream_id u32 (= log type)
 *                       | stream_instance_id u64 (= type << 32 | LP)
 *   packet context  56  packet_size u64 | content_size u64 (both in bits)
 *                       | timestamp_begin u64 | timestamp_end u64
 *                       | events_discarded u64 | packet_seq_num u64
 *                       | cpu_id u32 | buffer_index u32
 *   events          id u16 | timestamp u64 | payload
 *       catalogued: context u32 | one u64 per parameter | extra_len u32 | extra[extra_len]
 *       escape:     entry_type u16 | context u32 | size u16 | data_len u32 | data[data_len]
 *
 * A writer (hvlog_ctf_writer_*) turns one buffer into one packet as it
 * arrives: the packet is built in memory (one buffer's worth, bounded: an
 * entry of n payload bytes becomes at most 22 + n bytes, against its
 * 16 + n) and handed out with its index fields. hvlog_export_ctf is a loop
 * over it: each buffer read through the export plan (the walk's callback
 * is the writer's event encoder, so a buffer is walked once), its packets
 * written with one write(), the metadata written last with the event
 * classes used. Payload field names carry a leading '_', which
 * babeltrace2 strips on reading, so no parameter name can collide with a
 * TSDL keyword.
 *
 * A stream whose first buffer has EventsLost > 0 starts with an empty
 * anchor packet (buffer_index 0xFFFFFFFF, events_discarded 0): babeltrace2
 * only says "may have discarded" for a loss in a stream's first packet,
 * and a loss must be counted (STYLE habit 11).
 *
 * Why timestamp_begin is the buffer's header TimeStamp when the group uses
 * the reference basis: it is when the buffer went InUse (DEC-HDRTIME), the
 * true start of the packet; the events it lost happened before that (§7.4).
 * It is used only if it lies between the previous packet's end and the
 * first entry (babeltrace2 rejects anything else); otherwise the first
 * entry's time is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export/export_internal.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "hvlog/export/ctf.h"
#include "hvlog/trace/clock.h"
#include "hvlog/version.h"

#define CTF_MAGIC 0xC1FC1FC1u
#define PACKET_HEADER_BYTES 32u
#define PACKET_CONTEXT_BYTES 56u
#define PACKET_START_BYTES (PACKET_HEADER_BYTES + PACKET_CONTEXT_BYTES)
#define EVENT_HEADER_BYTES 10u
#define WRITEBACK_BYTES (8u << 20) /* start write-out of a stream file every 8 MiB */

/* One clock class of the metadata; one per group. */
struct ctf_clock {
    char name[32];        /* "local_ref" */
    uint64_t freq_hz;
    bool absolute;        /* offset puts time 0 on the Unix epoch */
    int64_t offset_s;
    uint64_t offset_cycles;
    uint64_t max_cycles;  /* beyond: babeltrace2 cannot convert to ns from origin */
    const char *description;
};

/* One (type, LP) stream's running state. */
struct ctf_stream {
    uint32_t type, lp;
    uint64_t seq;       /* packet_seq_num of the next packet: given when the packet is
                         * made, so a skipped buffer leaves no hole */
    uint64_t discarded; /* running sum of EventsLost */
    uint64_t last_ts;   /* time of the last event or packet end */
    bool started;
};

struct hvlog_ctf_writer {
    const struct hvlog_trace_meta *meta;
    uint64_t tsc_hz;
    char name[256];
    bool raw_input;
    uint8_t uuid[16];
    uint32_t group_count;
    const struct hvlog_trace_group *groups[HVLOG_TRACE_MAX_GROUPS];
    struct ctf_clock clocks[HVLOG_TRACE_MAX_GROUPS];
    struct hvlog_trace_catalog *catalogs[HVLOG_TRACE_MAX_GROUPS];
    /* Classes used, per group: bit per entry type; escape separately. */
    uint8_t used[HVLOG_TRACE_MAX_GROUPS][65536 / 8];
    bool escape_used[HVLOG_TRACE_MAX_GROUPS];
    struct ctf_stream *streams;
    size_t stream_count, stream_cap;
    struct hvlog_export_error *err;
    /* The packet being built. */
    uint8_t *packet;
    size_t packet_cap, packet_len;
    uint8_t anchor[PACKET_START_BYTES];
    uint32_t g;                  /* its group's index */
    struct ctf_stream *stream;
    uint64_t first_ts, last_ts, entries;
    enum hvlog_export_status failure;
    struct export_time_fault fault; /* set with failure = HVLOG_EXPORT_TIME by a time check */
    bool beyond;                    /* the fault is a time beyond the clock's range */
    char *metadata;
    size_t metadata_len;
};

/* ---- identity ---- */

static uint64_t fnv1a(uint64_t h, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;

    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* A UUID derived from the trace's identity, so exporting the same trace
 * twice gives the same bytes (RFC 9562 version 8: custom). */
static void make_uuid(const struct hvlog_trace_meta *meta, uint8_t uuid[16])
{
    uint64_t h1 = 0xcbf29ce484222325ull, h2 = 0x84222325cbf29ce4ull;

    for (uint32_t i = 0; i < meta->group_count; i++) {
        h1 = fnv1a(h1, &meta->groups[i].system_time, sizeof meta->groups[i].system_time);
        h2 = fnv1a(h2, &meta->groups[i].reference_time_at_init,
                   sizeof meta->groups[i].reference_time_at_init);
        /* A compressed group is the same trace: its ".zst" is left out,
         * so that both export to the same bytes (compress.sh). */
        size_t len = strlen(meta->groups[i].file);

        if (meta->groups[i].compression == HVLOG_TRACE_COMPRESSION_ZSTD && len > 4 &&
            strcmp(meta->groups[i].file + len - 4, ".zst") == 0)
            len -= 4;
        h1 = fnv1a(h1, meta->groups[i].file, len);
    }
    h2 = fnv1a(h2, &meta->host.seed, sizeof meta->host.seed);
    if (meta->command_line)
        h2 = fnv1a(h2, meta->command_line, strlen(meta->command_line));
    hvlog_store_le64(uuid, h1);
    hvlog_store_le64(uuid + 8, h2 ^ h1);
    uuid[6] = (uint8_t)((uuid[6] & 0x0F) | 0x80);
    uuid[8] = (uint8_t)((uuid[8] & 0x3F) | 0x80);
}

static void format_uuid(const uint8_t uuid[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;

    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[uuid[i] >> 4];
        *o++ = hex[uuid[i] & 0xF];
    }
    *o = '\0';
}

/* ---- clocks ---- */

/*
 * The CTF clock class of group @g, from its trace clock (hvlog/trace/
 * clock.h: the only place that knows the bases and FILETIME). An anchored
 * clock (reference time; QPC with qpc_frequency_hz and qpc_at_init) is
 * absolute, on the Unix epoch, which babeltrace2 merges across groups;
 * every group of a basis takes the trace's one anchor for it, as decode
 * does. A TSC of unknown frequency is refused: CTF counts in cycles of a
 * stated frequency, and hvlog states none it does not know (--tsc-hz).
 */
static enum hvlog_export_status setup_clock(struct hvlog_ctf_writer *x, const struct hvlog_trace_meta *meta,
                                            const struct hvlog_trace_group *g, uint64_t tsc_hz,
                                            struct ctf_clock *c)
{
    const char *group = hvlog_trace_group_short(g->type);
    struct hvlog_trace_clock tc;
    enum hvlog_export_status st;
    char what[64];

    memset(c, 0, sizeof(*c));
    hvlog_trace_clock_init(&tc, meta, g, tsc_hz);
    snprintf(what, sizeof what, "the CTF export of group %s", group);
    st = hvlog_trace_clock_need_ns(&tc, what, x->err);
    if (st != HVLOG_EXPORT_OK)
        return st;
    c->freq_hz = tc.freq_hz;
    switch (g->time_basis) {
    case HvEventLogEntryTimeTsc:
        snprintf(c->name, sizeof c->name, "%s_tsc", group);
        c->description = "TSC of the logging LP";
        break;
    case HvEventLogEntryTimeQpc:
        snprintf(c->name, sizeof c->name, "%s_qpc", group);
        c->description = tc.freq_assumed ? "QPC (frequency not recorded: assumed 10 MHz)"
                                         : "QPC of the partition at qpc_frequency_hz";
        break;
    default:
        snprintf(c->name, sizeof c->name, "%s_ref", group);
        c->description = "reference time: 100 ns since hypervisor start";
        break;
    }
    if (!tc.anchored)
        return HVLOG_EXPORT_OK;
    if (!hvlog_trace_clock_unix_offset(&tc, &c->offset_s, &c->offset_cycles))
        return hvlog__export_fail(x->err, HVLOG_EXPORT_UNSUPPORTED,
                                  "%s: group %s: system_time puts the trace outside the years a CTF "
                                  "clock can hold",
                                  x->name, group);
    c->absolute = true;
    return HVLOG_EXPORT_OK;
}

/* forward: recomputed by hvlog_ctf_writer_shift_clocks */
static void clock_limit(struct ctf_clock *c);

enum hvlog_export_status hvlog_ctf_writer_shift_clocks(struct hvlog_ctf_writer *w, int64_t ns)
{
    for (uint32_t i = 0; w && i < w->group_count; i++) {
        struct ctf_clock *c = &w->clocks[i];
        struct hvlog_trace_clock tc;

        if (!c->absolute)
            continue; /* no Unix time to move */
        hvlog_trace_clock_init(&tc, w->meta, w->groups[i], w->tsc_hz);
        hvlog_trace_clock_shift(&tc, ns);
        if (!hvlog_trace_clock_unix_offset(&tc, &c->offset_s, &c->offset_cycles))
            return hvlog__export_fail(w->err, HVLOG_EXPORT_UNSUPPORTED,
                                      "%s: a clock offset of %lld ns puts the trace outside the years a "
                                      "CTF clock can hold",
                                      w->name, (long long)ns);
        clock_limit(c);
    }
    return HVLOG_EXPORT_OK;
}

/* The largest cycle count whose ns from the clock's origin fits an int64. */
static void clock_limit(struct ctf_clock *c)
{
    const struct hvlog_trace_clock tc = {.freq_hz = c->freq_hz};
    int64_t offset_ns =
        c->offset_s * 1000000000LL + (int64_t)hvlog_trace_clock_scale(&tc, c->offset_cycles, 1000000000u);
    uint64_t room_ns = (uint64_t)(INT64_MAX - (offset_ns > 0 ? offset_ns : 0));
    uint64_t secs = room_ns / 1000000000u;

    c->max_cycles = secs > UINT64_MAX / c->freq_hz ? UINT64_MAX : secs * c->freq_hz;
}

/* babeltrace2's muxer orders messages across streams only when all clocks
 * are on the Unix epoch, or all are one non-absolute clock. */
static enum hvlog_export_status check_clocks(struct hvlog_ctf_writer *x)
{
    for (uint32_t i = 1; i < x->group_count; i++) {
        const struct ctf_clock *a = &x->clocks[0], *b = &x->clocks[i];

        if (a->absolute && b->absolute)
            continue;
        return hvlog__export_fail(x->err, HVLOG_EXPORT_UNSUPPORTED,
                                  "%s: groups %s and %s use clocks babeltrace2 cannot merge (%s and %s); "
                                  "export one log type at a time",
                                  x->name, hvlog_trace_group_short(x->groups[0]->type),
                                  hvlog_trace_group_short(x->groups[i]->type), a->name, b->name);
    }
    return HVLOG_EXPORT_OK;
}

/* ---- the writer ---- */

static int group_index(const struct hvlog_ctf_writer *w, uint32_t type)
{
    for (uint32_t i = 0; i < w->group_count; i++) {
        if (w->groups[i]->type == type)
            return (int)i;
    }
    return -1;
}

enum hvlog_export_status hvlog_ctf_writer_begin(const struct hvlog_trace_meta *meta, const char *name,
                                               bool raw_input, uint32_t types, uint64_t tsc_hz,
                                               struct hvlog_ctf_writer **out,
                                               struct hvlog_export_error *err)
{
    struct hvlog_ctf_writer *w;
    enum hvlog_export_status st = HVLOG_EXPORT_OK;
    uint32_t max_stride = 0;

    if (!meta || !out)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no metadata or no writer to fill");
    *out = NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    w->meta = meta;
    w->tsc_hz = tsc_hz;
    w->err = err;
    w->raw_input = raw_input;
    snprintf(w->name, sizeof w->name, "%s", name ? name : "");
    for (uint32_t i = 0; i < meta->group_count && st == HVLOG_EXPORT_OK; i++) {
        const struct hvlog_trace_group *g = &meta->groups[i];
        uint32_t k = w->group_count;

        if (types && !(types & (1u << g->type)))
            continue;
        w->groups[w->group_count++] = g;
        st = setup_clock(w, meta, g, tsc_hz, &w->clocks[k]);
        if (st == HVLOG_EXPORT_OK && !(w->catalogs[k] = malloc(sizeof(*w->catalogs[k]))))
            st = hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
        if (st == HVLOG_EXPORT_OK)
            hvlog_trace_catalog_init(w->catalogs[k], g->type);
        if (g->buffer_pages * HV_PAGE_SIZE > max_stride)
            max_stride = g->buffer_pages * HV_PAGE_SIZE;
    }
    for (uint32_t i = 0; i < w->group_count && st == HVLOG_EXPORT_OK; i++)
        clock_limit(&w->clocks[i]);
    if (st == HVLOG_EXPORT_OK)
        st = check_clocks(w);
    if (st == HVLOG_EXPORT_OK) {
        make_uuid(meta, w->uuid);
        /* Worst case: every 16-byte entry grows by 6 (escape class). */
        w->packet_cap = PACKET_START_BYTES + (size_t)max_stride * 2;
        if (!(w->packet = malloc(w->packet_cap)))
            st = hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    if (st != HVLOG_EXPORT_OK) {
        hvlog_ctf_writer_end(w);
        return st;
    }
    *out = w;
    return HVLOG_EXPORT_OK;
}

void hvlog_ctf_writer_end(struct hvlog_ctf_writer *w)
{
    if (!w)
        return;
    for (uint32_t i = 0; i < w->group_count; i++)
        free(w->catalogs[i]);
    free(w->streams);
    free(w->packet);
    free(w->metadata);
    free(w);
}

/* The state of stream (type of group @g, @lp), added if new. */
static struct ctf_stream *stream_of(struct hvlog_ctf_writer *w, uint32_t g, uint32_t lp)
{
    uint32_t type = w->groups[g]->type;

    if (w->stream && w->stream->type == type && w->stream->lp == lp)
        return w->stream;
    for (size_t i = 0; i < w->stream_count; i++) {
        if (w->streams[i].type == type && w->streams[i].lp == lp)
            return &w->streams[i];
    }
    if (w->stream_count == w->stream_cap) {
        size_t cap = w->stream_cap ? w->stream_cap * 2 : 16;
        struct ctf_stream *more = realloc(w->streams, cap * sizeof(*more));

        if (!more)
            return NULL;
        w->streams = more;
        w->stream_cap = cap;
    }
    w->streams[w->stream_count] = (struct ctf_stream){.type = type, .lp = lp};
    return &w->streams[w->stream_count++];
}

/* A new packet of (group @g, @lp): its events come through add_event. */
static bool packet_start(struct hvlog_ctf_writer *w, uint32_t g, uint32_t lp)
{
    w->g = g;
    w->stream = stream_of(w, g, lp);
    w->entries = 0;
    w->failure = HVLOG_EXPORT_OK;
    w->fault.kind = EXPORT_TIME_FAULT_NONE;
    w->beyond = false;
    w->packet_len = PACKET_START_BYTES;
    return w->stream != NULL;
}

static uint8_t *packet_room(struct hvlog_ctf_writer *x, size_t n)
{
    uint8_t *p = x->packet + x->packet_len;

    x->packet_len += n;
    return p;
}

/* babeltrace2's muxer stops on a stream whose time goes back (ecosystem
 * notes: "Youngest upstream message iterator wrapper's timestamp is less
 * than muxer's"): stop, and the caller says where. */
static bool time_problem(struct hvlog_ctf_writer *x, const struct hvlog_entry *e,
                         enum export_time_fault_kind kind, uint64_t before)
{
    x->fault = (struct export_time_fault){kind, e->offset, e->time_stamp, before};
    x->failure = HVLOG_EXPORT_TIME;
    return false;
}

/* The walk's callback: one entry of the buffer as one event of the packet. */
static bool add_event(void *arg, const struct hvlog_entry *e)
{
    struct hvlog_ctf_writer *x = arg;
    const struct hvlog_trace_class *cls = hvlog_trace_catalog_find(x->catalogs[x->g], e->entry_type);
    const struct ctf_clock *clock = &x->clocks[x->g];
    uint8_t *p;

    if (e->time_stamp > clock->max_cycles) {
        x->beyond = true;
        x->fault = (struct export_time_fault){EXPORT_TIME_FAULT_NONE, e->offset, e->time_stamp, 0};
        x->failure = HVLOG_EXPORT_TIME;
        return false;
    }
    if (x->entries > 0 && e->time_stamp < x->last_ts)
        return time_problem(x, e, EXPORT_TIME_FAULT_IN_BUFFER, x->last_ts);
    /* The previous packet's end: its last entry, or an empty packet's begin. */
    if (x->entries == 0 && x->stream->started && e->time_stamp < x->stream->last_ts)
        return time_problem(x, e, EXPORT_TIME_FAULT_ACROSS_BUFFERS, x->stream->last_ts);
    if (x->entries == 0)
        x->first_ts = e->time_stamp;
    x->last_ts = e->time_stamp;
    x->entries++;
    if (cls && e->payload_len >= cls->param_count * 8u) {
        size_t params = (size_t)cls->param_count * 8u;
        uint32_t extra = e->payload_len - (uint32_t)params;

        p = packet_room(x, EVENT_HEADER_BYTES + 4 + params + 4 + extra);
        hvlog_store_le16(p, e->entry_type);
        hvlog_store_le64(p + 2, e->time_stamp);
        hvlog_store_le32(p + 10, e->context);
        /* The parameters are already little-endian u64s: copy them as they are. */
        memcpy(p + 14, e->payload, params);
        p += 14 + params;
        hvlog_store_le32(p, extra);
        memcpy(p + 4, e->payload + params, extra);
        x->used[x->g][e->entry_type / 8] |= (uint8_t)(1u << (e->entry_type % 8));
    } else {
        p = packet_room(x, EVENT_HEADER_BYTES + 12 + e->payload_len);
        hvlog_store_le16(p, HVLOG_CTF_ESCAPE_EVENT_ID);
        hvlog_store_le64(p + 2, e->time_stamp);
        hvlog_store_le16(p + 10, e->entry_type);
        hvlog_store_le32(p + 12, e->context);
        hvlog_store_le16(p + 16, e->size);
        hvlog_store_le32(p + 18, e->payload_len);
        memcpy(p + 22, e->payload, e->payload_len);
        x->escape_used[x->g] = true;
    }
    return true;
}

/* The packet header and context at @p, for a packet of @len bytes, and
 * its index fields in @pk. */
static void fill_packet_start(const struct hvlog_ctf_writer *x, uint8_t *p, size_t len, uint64_t begin,
                              uint64_t end, const struct ctf_stream *stream, uint32_t buffer_index,
                              struct hvlog_ctf_packet *pk)
{
    uint32_t type = x->groups[x->g]->type;

    hvlog_store_le32(p, CTF_MAGIC);
    memcpy(p + 4, x->uuid, 16);
    hvlog_store_le32(p + 20, type);
    hvlog_store_le64(p + 24, ((uint64_t)type << 32) | stream->lp);
    hvlog_store_le64(p + 32, (uint64_t)len * 8);
    hvlog_store_le64(p + 40, (uint64_t)len * 8);
    hvlog_store_le64(p + 48, begin);
    hvlog_store_le64(p + 56, end);
    hvlog_store_le64(p + 64, stream->discarded);
    hvlog_store_le64(p + 72, stream->seq);
    hvlog_store_le32(p + 80, stream->lp);
    hvlog_store_le32(p + 84, buffer_index);
    *pk = (struct hvlog_ctf_packet){p, len, (uint64_t)len * 8, (uint64_t)len * 8, begin, end,
                                    stream->discarded, type, ((uint64_t)type << 32) | stream->lp,
                                    stream->seq, stream->lp, 0};
}

/*
 * The packet built from the buffer whose header is @s: its times, then
 * the stream's state. Why timestamp_begin may be the header TimeStamp: see
 * the file comment. A stream's first packet with a loss is preceded by an
 * empty anchor packet. Fills @out[0..*count).
 */
static void packet_finish(struct hvlog_ctf_writer *x, const struct hvlog_buffer_summary *s,
                          struct hvlog_ctf_packet out[2], uint32_t *count)
{
    const struct ctf_clock *clock = &x->clocks[x->g];
    bool reference = x->groups[x->g]->time_basis == HvEventLogEntryTimeReference;
    struct ctf_stream *stream = x->stream;
    uint64_t begin, end, header_ts = s->time_stamp;

    if (x->entries == 0) {
        begin = stream->last_ts;
        if (reference && header_ts > begin && header_ts <= clock->max_cycles)
            begin = header_ts;
        end = begin;
    } else {
        begin = x->first_ts;
        if (reference && header_ts <= x->first_ts && (!stream->started || header_ts >= stream->last_ts))
            begin = header_ts;
        end = x->last_ts;
    }
    *count = 0;
    if (stream->seq == 0 && (s->events_lost != 0 || stream->discarded != 0)) {
        /* babeltrace2 cannot count a loss in a stream's first packet ("may
         * have discarded"): an empty packet first makes it a counted gap.
         * The anchor says 0; a loss counted by hvlog_ctf_writer_discard
         * before the first packet goes to the packet after it. */
        uint64_t before = stream->discarded;

        stream->discarded = 0;
        fill_packet_start(x, x->anchor, sizeof x->anchor, begin, begin, stream,
                          HV_EVENTLOG_BUFFER_INDEX_NONE, &out[(*count)++]);
        stream->discarded = before;
        stream->seq++;
    }
    stream->discarded += s->events_lost;
    fill_packet_start(x, x->packet, x->packet_len, begin, end, stream, s->buffer_index, &out[*count]);
    out[(*count)++].events = x->entries;
    stream->seq++;
    stream->last_ts = end;
    stream->started = true;
}

enum hvlog_export_status hvlog_ctf_packet_encode(struct hvlog_ctf_writer *w, uint32_t type,
                                                const uint8_t *bytes, size_t len,
                                                struct hvlog_ctf_packet out[2], uint32_t *count,
                                                struct hvlog_export_error *err)
{
    struct hvlog_walk_expect expect;
    struct hvlog_buffer_summary s;
    enum hvlog_walk_error werr;
    int g;

    if (!w || !bytes || !out || !count)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no writer, buffer or packet to fill");
    *count = 0;
    g = group_index(w, type);
    if (g < 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: no group of log type %u", w->name, type);
    expect = (struct hvlog_walk_expect){type, UINT32_MAX, UINT32_MAX,
                                        w->groups[g]->buffer_pages * HV_PAGE_SIZE};
    werr = hvlog_buffer_summarize(bytes, len, w->groups[g]->convention, &expect, &s);
    if (werr == HVLOG_WALK_OK && !packet_start(w, (uint32_t)g, s.logical_processor))
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    if (werr == HVLOG_WALK_OK)
        werr = hvlog_buffer_walk(bytes, len, w->groups[g]->convention, &expect, NULL, add_event, w);
    if (werr != HVLOG_WALK_OK)
        return hvlog__export_fail(err, HVLOG_EXPORT_CORRUPT, "%s: %s buffer: %s", w->name,
                                  hvlog_trace_group_short(type), hvlog_walk_error_text(werr));
    if (w->failure != HVLOG_EXPORT_OK)
        return hvlog__export_fail(err, HVLOG_EXPORT_TIME,
                                  "%s: %s LP %u, BufferIndex %u, entry at byte %u: time %llu %s %llu; "
                                  "babeltrace2 would reject the stream",
                                  w->name, hvlog_trace_group_short(type), s.logical_processor,
                                  s.buffer_index, w->fault.entry_offset, (unsigned long long)w->fault.time,
                                  w->beyond ? "is beyond what the clock can place, past"
                                     : "goes back before",
                           (unsigned long long)(w->beyond ? w->clocks[g].max_cycles : w->fault.before));
    packet_finish(w, &s, out, count);
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_ctf_writer_discard(struct hvlog_ctf_writer *w, uint32_t type,
                                                 uint32_t lp, uint64_t events,
                                                 struct hvlog_export_error *err)
{
    struct ctf_stream *stream;
    int g;

    if (!w)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no writer");
    g = group_index(w, type);
    if (g < 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: no group of log type %u", w->name, type);
    /* stream_of may move the stream array: the cached pointer goes first. */
    w->stream = NULL;
    stream = stream_of(w, (uint32_t)g, lp);
    if (!stream)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    stream->discarded += events;
    return HVLOG_EXPORT_OK;
}

/* ---- metadata ---- */

/* A TSDL string literal: quotes and backslashes escaped, anything that is
 * not printable ASCII replaced, so no input can break the metadata. */
static void put_tsdl_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fputc('\\', f);
        fputc(c >= 0x20 && c < 0x7F ? c : '?', f);
    }
    fputc('"', f);
}

static void put_clock_int(FILE *f, const struct ctf_clock *c, const char *field)
{
    fprintf(f, "\t\tinteger { size = 64; align = 8; signed = false; map = clock.%s.value; } %s;\n",
            c->name, field);
}

static void write_metadata_text(const struct hvlog_ctf_writer *x, bool used_only, FILE *f)
{
    const struct hvlog_trace_meta *meta = x->meta;
    char uuid[37];

    format_uuid(x->uuid, uuid);
    fputs("/* CTF 1.8 */\n\n", f);
    fputs("/* Written by hvlog from an hvlog trace; layout in docs/trace-format.md. */\n\n", f);
    fputs("typealias integer { size = 8; align = 8; signed = false; } := uint8_t;\n"
          "typealias integer { size = 16; align = 8; signed = false; } := uint16_t;\n"
          "typealias integer { size = 32; align = 8; signed = false; } := uint32_t;\n"
          "typealias integer { size = 64; align = 8; signed = false; } := uint64_t;\n"
          "typealias integer { size = 16; align = 8; signed = false; base = hex; } := hex16_t;\n"
          "typealias integer { size = 32; align = 8; signed = false; base = hex; } := hex32_t;\n"
          "typealias integer { size = 64; align = 8; signed = false; base = hex; } := hex64_t;\n\n",
          f);
    fprintf(f,
            "trace {\n\tmajor = 1;\n\tminor = 8;\n\tuuid = \"%s\";\n\tbyte_order = le;\n"
            "\tpacket.header := struct {\n\t\tuint32_t magic;\n\t\tuint8_t uuid[16];\n"
            "\t\tuint32_t stream_id;\n\t\tuint64_t stream_instance_id;\n\t};\n};\n\n",
            uuid);
    fputs("env {\n\thostname = ", f);
    put_tsdl_string(f, x->name);
    fprintf(f,
            ";\n\tdomain = \"hyperv\";\n\ttracer_name = \"hvlog\";\n\ttracer_major = %d;\n"
            "\ttracer_minor = %d;\n\ttracer_patch = %d;\n",
            HVLOG_VERSION_MAJOR, HVLOG_VERSION_MINOR, HVLOG_VERSION_PATCH);
    fputs("\thvlog_abi_profile = ", f);
    put_tsdl_string(f, meta->abi_profile);
    fputs(";\n\thvlog_command_line = ", f);
    put_tsdl_string(f, meta->command_line ? meta->command_line : "");
    fprintf(f, ";\n\thvlog_seed = \"0x%llx\";\n\thvlog_raw_input = %d;\n};\n\n",
            (unsigned long long)meta->host.seed, x->raw_input ? 1 : 0);
    for (uint32_t i = 0; i < x->group_count; i++) {
        const struct ctf_clock *c = &x->clocks[i];

        fprintf(f, "clock {\n\tname = %s;\n", c->name);
        if (!c->absolute) {
            /* One non-absolute clock per basis: the UUID lets the muxer trust it. */
            uint8_t u[16];
            char us[37];
            memcpy(u, x->uuid, 16);
            u[15] ^= (uint8_t)(0x10 + x->groups[i]->time_basis);
            format_uuid(u, us);
            fprintf(f, "\tuuid = \"%s\";\n", us);
        }
        fprintf(f,
                "\tdescription = \"%s\";\n\tfreq = %llu;\n\tprecision = 1;\n\toffset_s = %lld;\n"
                "\toffset = %llu;\n\tabsolute = %s;\n};\n\n",
                c->description, (unsigned long long)c->freq_hz, (long long)c->offset_s,
                (unsigned long long)c->offset_cycles, c->absolute ? "true" : "false");
    }
    for (uint32_t i = 0; i < x->group_count; i++) {
        const struct ctf_clock *c = &x->clocks[i];
        uint32_t type = x->groups[i]->type;

        fprintf(f,
                "stream {\n\tid = %u;\n\tpacket.context := struct {\n\t\tuint64_t packet_size;\n"
                "\t\tuint64_t content_size;\n",
                type);
        put_clock_int(f, c, "timestamp_begin");
        put_clock_int(f, c, "timestamp_end");
        fputs("\t\tuint64_t events_discarded;\n\t\tuint64_t packet_seq_num;\n"
              "\t\tuint32_t cpu_id;\n\t\tuint32_t buffer_index;\n\t};\n"
              "\tevent.header := struct {\n\t\tuint16_t id;\n",
              f);
        put_clock_int(f, c, "timestamp");
        fputs("\t};\n};\n\n", f);
    }
    for (uint32_t i = 0; i < x->group_count; i++) {
        uint32_t type = x->groups[i]->type;

        for (uint32_t k = 0; k < x->catalogs[i]->count; k++) {
            const struct hvlog_trace_class *cls = &x->catalogs[i]->classes[k];
            uint16_t id = cls->info->entry_type;

            if (used_only && !(x->used[i][id / 8] & (1u << (id % 8))))
                continue;
            fprintf(f, "event {\n\tname = \"%s\";\n\tid = %u;\n\tstream_id = %u;\n"
                       "\tfields := struct {\n\t\thex32_t _context;\n",
                    cls->info->name, id, type);
            for (uint32_t j = 0; j < cls->param_count; j++)
                fprintf(f, "\t\thex64_t _%s;\n", cls->params[j]);
            fputs("\t\tuint32_t _extra_len;\n\t\tuint8_t _extra[_extra_len];\n\t};\n};\n\n", f);
        }
        if (!used_only || x->escape_used[i])
            fprintf(f,
                    "event {\n\tname = \"" HVLOG_CTF_ESCAPE_EVENT_NAME "\";\n\tid = %u;\n"
                    "\tstream_id = %u;\n\tfields := struct {\n\t\thex16_t _entry_type;\n"
                    "\t\thex32_t _context;\n\t\tuint16_t _size;\n\t\tuint32_t _data_len;\n"
                    "\t\tuint8_t _data[_data_len];\n\t};\n};\n\n",
                    HVLOG_CTF_ESCAPE_EVENT_ID, type);
    }
}

const char *hvlog_ctf_writer_metadata(struct hvlog_ctf_writer *w, bool used_only, size_t *len)
{
    FILE *f;

    if (!w)
        return NULL;
    free(w->metadata);
    w->metadata = NULL;
    w->metadata_len = 0;
    f = open_memstream(&w->metadata, &w->metadata_len);
    if (!f)
        return NULL;
    write_metadata_text(w, used_only, f);
    if (fclose(f) != 0) {
        free(w->metadata);
        w->metadata = NULL;
        return NULL;
    }
    if (len)
        *len = w->metadata_len;
    return w->metadata;
}

/* ---- the whole-trace export: a loop over the writer ---- */

struct ctf_export {
    const struct hvlog_trace_reader *reader;
    struct hvlog_export_summary *summary;
    struct hvlog_export_error *err;
    struct export_staged_dir out;
    struct export_group_plan plans[HVLOG_TRACE_MAX_GROUPS];
    uint32_t plan_count;
    struct hvlog_ctf_writer *w;
};

/* One open stream file. */
struct stream_file {
    int fd;             /* created with its first packet; -1 before */
    uint64_t written;   /* bytes in the file */
    uint64_t flushed;   /* of which write-out was started (hvlog__export_start_writeback) */
};

/* Buffer @slot of @plan as packets of its stream's file. A corrupt buffer
 * (its entries are checked here, the index read its header only) fails,
 * or with skip_corrupt is reported and left out: no packet, no sequence
 * number, its EventsLost not counted. */
static enum hvlog_export_status write_packet(struct ctf_export *x, struct export_group_plan *plan,
                                             uint32_t g, const struct hvlog_trace_slot *slot,
                                             struct stream_file *sf)
{
    struct hvlog_ctf_writer *w = x->w;
    struct hvlog_ctf_packet pk[2];
    struct hvlog_trace_buffer b;
    enum hvlog_export_status st;
    uint32_t count;
    bool skipped;

    if (!packet_start(w, g, slot->lp))
        return hvlog__export_fail(x->err, HVLOG_EXPORT_NOMEM, "out of memory");
    st = hvlog__export_read_slot(plan, slot, &b, add_event, w, &skipped, x->summary, x->err);
    if (st != HVLOG_EXPORT_OK || skipped)
        return st; /* skipped: add_event saw no entry (the walk checks all first) */
    if (w->failure != HVLOG_EXPORT_OK && w->beyond)
        return hvlog__export_fail(x->err, HVLOG_EXPORT_TIME,
                                  "%s: buffer %llu (%s LP %u), entry at byte %u: time %llu is "
                                  "beyond what clock %s can place",
                                  hvlog_trace_cursor_file(plan->cursor), (unsigned long long)slot->file_index,
                                  hvlog_trace_group_short(plan->group->type), slot->lp,
                                  w->fault.entry_offset, (unsigned long long)w->fault.time,
                                  w->clocks[g].name);
    if (w->failure != HVLOG_EXPORT_OK)
        return hvlog__export_time_fail(x->err, plan, &b, &w->fault, "babeltrace2 would reject the stream");
    packet_finish(w, &b.summary, pk, &count);
    if (sf->fd < 0) {
        /* Created with its first packet: an LP whose every buffer was
         * skipped as corrupt gets no file, as it gets no stream. */
        char name[64];

        snprintf(name, sizeof name, "%s_lp%u", hvlog_trace_group_short(plan->group->type), slot->lp);
        sf->fd = hvlog__export_create_file(x->out.tmp, name, x->err);
        if (sf->fd < 0)
            return HVLOG_EXPORT_IO;
        x->summary->streams++;
    }
    for (uint32_t i = 0; i < count; i++) {
        int e = hvlog__export_write_all(sf->fd, pk[i].bytes, pk[i].len);

        if (e != 0)
            return hvlog__export_fail(x->err, HVLOG_EXPORT_IO, "%s: %s", x->out.final, strerror(e));
        sf->written += pk[i].len;
        x->summary->bytes_out += pk[i].len;
    }
    x->summary->buffers++;
    x->summary->events += pk[count - 1].events;
    x->summary->events_lost += b.summary.events_lost;
    x->summary->bytes_in += b.len;
    if (sf->written - sf->flushed >= WRITEBACK_BYTES) {
        hvlog__export_start_writeback(sf->fd, sf->flushed, sf->written - sf->flushed);
        sf->flushed = sf->written;
    }
    return HVLOG_EXPORT_OK;
}

/* Every stream of one group: the slots are sorted by LP, so each LP's
 * packets are one run, written to its own file in fill order. */
static enum hvlog_export_status write_group(struct ctf_export *x, struct export_group_plan *plan,
                                            uint32_t g)
{
    enum hvlog_export_status st = HVLOG_EXPORT_OK;
    uint64_t i = 0;

    while (i < plan->slot_count && st == HVLOG_EXPORT_OK) {
        struct stream_file sf = {-1, 0, 0};
        uint32_t lp = plan->slots[i].lp;
        uint64_t end = hvlog_trace_index_run_end(&plan->index, i); /* this LP's stream */
        int e;

        for (; i < end && st == HVLOG_EXPORT_OK; i++)
            st = write_packet(x, plan, g, &plan->slots[i], &sf);
        if (sf.fd < 0)
            continue; /* no packet: every buffer of the LP was skipped, or the first failed */
        e = hvlog__export_close_synced(sf.fd);
        if (st == HVLOG_EXPORT_OK && e != 0)
            st = hvlog__export_fail(x->err, HVLOG_EXPORT_IO, "%s/%s_lp%u: %s", x->out.final,
                                    hvlog_trace_group_short(plan->group->type), lp, strerror(e));
    }
    return st;
}

static enum hvlog_export_status write_metadata(struct ctf_export *x)
{
    size_t len = 0;
    const char *text = hvlog_ctf_writer_metadata(x->w, true, &len);
    int fd, e;

    if (!text)
        return hvlog__export_fail(x->err, HVLOG_EXPORT_NOMEM, "out of memory");
    fd = hvlog__export_create_file(x->out.tmp, "metadata", x->err);
    if (fd < 0)
        return HVLOG_EXPORT_IO;
    e = hvlog__export_write_all(fd, text, len);
    if (e == 0)
        e = hvlog__export_close_synced(fd);
    else
        close(fd);
    if (e != 0)
        return hvlog__export_fail(x->err, HVLOG_EXPORT_IO, "%s/metadata: %s", x->out.final, strerror(e));
    x->summary->bytes_out += len;
    return HVLOG_EXPORT_OK;
}

static enum hvlog_export_status run(struct ctf_export *x, const struct hvlog_export_options *opt,
                                    const char *out_dir)
{
    const char *path = hvlog_trace_reader_path(x->reader);
    size_t end = strlen(path), start;
    enum hvlog_export_status st;
    uint32_t types = 0;
    char name[256];

    st = hvlog__export_plan(x->reader, opt, x->plans, &x->plan_count, x->summary, x->err);
    if (st != HVLOG_EXPORT_OK)
        return st;
    for (uint32_t i = 0; i < x->plan_count; i++)
        types |= 1u << x->plans[i].group->type;
    /* The trace's name (env.hostname): the host the root named in the
     * metadata, else the input's last path component ("TRACE/" -> "TRACE"). */
    while (end > 1 && path[end - 1] == '/')
        end--;
    start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(name, sizeof name, "%.*s", (int)(end - start), path + start);
    if (hvlog_trace_reader_meta(x->reader)->root.hostname[0])
        snprintf(name, sizeof name, "%s", hvlog_trace_reader_meta(x->reader)->root.hostname);
    st = hvlog_ctf_writer_begin(hvlog_trace_reader_meta(x->reader), name[0] ? name : path,
                                hvlog_trace_reader_is_raw(x->reader), types, opt->tsc_frequency_hz,
                                &x->w, x->err);
    if (st == HVLOG_EXPORT_OK && opt->clock_offset_ns)
        st = hvlog_ctf_writer_shift_clocks(x->w, opt->clock_offset_ns);
    if (st != HVLOG_EXPORT_OK)
        return st;
    st = hvlog__export_staged_dir_begin(&x->out, out_dir, opt->force, "metadata", x->err);
    if (st != HVLOG_EXPORT_OK)
        return st;
    /* The writer's groups are the plans', in the same (metadata) order. */
    for (uint32_t i = 0; i < x->plan_count && st == HVLOG_EXPORT_OK; i++)
        st = write_group(x, &x->plans[i], i);
    if (st == HVLOG_EXPORT_OK)
        st = write_metadata(x);
    if (st == HVLOG_EXPORT_OK)
        return hvlog__export_staged_dir_commit(&x->out, x->err);
    hvlog__export_staged_dir_abort(&x->out);
    return st;
}

enum hvlog_export_status hvlog_export_ctf(const struct hvlog_trace_reader *r, const char *out_dir,
                                         const struct hvlog_export_options *options,
                                         struct hvlog_export_summary *summary,
                                         struct hvlog_export_error *err)
{
    static const struct hvlog_export_options defaults;
    struct hvlog_export_summary local_summary;
    struct ctf_export *x;
    enum hvlog_export_status st;

    if (!r || !out_dir)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no trace or no output directory");
    x = calloc(1, sizeof(*x));
    if (!x)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    memset(&local_summary, 0, sizeof local_summary);
    x->reader = r;
    x->summary = &local_summary;
    x->err = err;
    st = run(x, options ? options : &defaults, out_dir);
    hvlog__export_plan_free(x->plans, x->plan_count);
    hvlog_ctf_writer_end(x->w);
    free(x);
    if (summary)
        *summary = local_summary;
    return st;
}
