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
 * The packet is built in memory (one buffer's worth, bounded: an entry of
 * n payload bytes becomes at most 22 + n bytes, against its 16 + n), then
 * written with one write(). Payload field names carry a leading '_', which
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
#define EVENT_HEADER_BYTES 10u
#define WRITEBACK_BYTES (8u << 20) /* start write-out of a stream file every 8 MiB */

/* One clock class of the metadata; one per exported group. */
struct ctf_clock {
    char name[32];        /* "local_ref" */
    uint64_t freq_hz;
    bool absolute;        /* offset puts time 0 on the Unix epoch */
    int64_t offset_s;
    uint64_t offset_cycles;
    uint64_t max_cycles;  /* beyond: babeltrace2 cannot convert to ns from origin */
    const char *description;
};

/* The state of one stream while its packets are written. */
struct ctf_stream {
    uint32_t lp;
    int fd;             /* its file, created with its first packet; -1 before */
    uint64_t seq;       /* packet_seq_num of the next packet: given at write time, so a
                         * skipped buffer leaves no hole */
    uint64_t discarded; /* running sum of EventsLost */
    uint64_t last_ts;   /* time of the last event or packet end */
    bool started;
    uint64_t written;   /* bytes in the stream file */
    uint64_t flushed;   /* of which write-out was started (export_start_writeback) */
};

struct ctf_export {
    const struct hvlog_trace_reader *reader;
    struct hvlog_export_summary *summary;
    struct hvlog_export_error *err;
    struct export_staged_dir out;
    uint8_t uuid[16];
    struct export_group_plan plans[HVLOG_TRACE_MAX_GROUPS];
    uint32_t plan_count;
    struct ctf_clock clocks[HVLOG_TRACE_MAX_GROUPS];
    struct hvlog_trace_catalog *catalog; /* of the group being written */
    /* Classes used, per log type: bit per entry type; escape separately. */
    uint8_t used[HVLOG_TRACE_MAX_GROUPS][65536 / 8];
    bool escape_used[HVLOG_TRACE_MAX_GROUPS];
    /* The packet being built. */
    uint8_t *packet;
    size_t packet_cap;
    size_t packet_len;
    /* The buffer being converted, for the entry callback. */
    const struct ctf_clock *clock;
    const struct hvlog_trace_group *group;
    struct ctf_stream *stream;
    const char *file; /* the group's data file, for messages */
    uint64_t file_index;
    uint64_t first_ts, last_ts;
    uint64_t entries;
    enum hvlog_export_status failure;
    struct export_time_fault fault; /* set with failure = HVLOG_EXPORT_TIME by a time check */
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
        h1 = fnv1a(h1, meta->groups[i].file, strlen(meta->groups[i].file));
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
static enum hvlog_export_status setup_clock(struct ctf_export *x, const struct hvlog_trace_meta *meta,
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
        return export_fail(x->err, HVLOG_EXPORT_UNSUPPORTED,
                           "%s: group %s: system_time puts the trace outside the years a CTF "
                           "clock can hold",
                           hvlog_trace_reader_path(x->reader), group);
    c->absolute = true;
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
static enum hvlog_export_status check_clocks(struct ctf_export *x)
{
    for (uint32_t i = 1; i < x->plan_count; i++) {
        const struct ctf_clock *a = &x->clocks[0], *b = &x->clocks[i];

        if (a->absolute && b->absolute)
            continue;
        return export_fail(x->err, HVLOG_EXPORT_UNSUPPORTED,
                           "%s: groups %s and %s use clocks babeltrace2 cannot merge (%s and %s); "
                           "export one log type at a time",
                           hvlog_trace_reader_path(x->reader),
                           hvlog_trace_group_short(x->plans[0].group->type),
                           hvlog_trace_group_short(x->plans[i].group->type), a->name, b->name);
    }
    return HVLOG_EXPORT_OK;
}

/* ---- packets ---- */

static uint8_t *packet_room(struct ctf_export *x, size_t n)
{
    uint8_t *p = x->packet + x->packet_len;

    x->packet_len += n;
    return p;
}

/* babeltrace2's muxer stops on a stream whose time goes back (ecosystem
 * notes: "Youngest upstream message iterator wrapper's timestamp is less
 * than muxer's"): stop, and write_packet says where. */
static bool time_problem(struct ctf_export *x, const struct hvlog_entry *e,
                         enum export_time_fault_kind kind, uint64_t before)
{
    x->fault = (struct export_time_fault){kind, e->offset, e->time_stamp, before};
    x->failure = HVLOG_EXPORT_TIME;
    return false;
}

static bool add_event(void *arg, const struct hvlog_entry *e)
{
    struct ctf_export *x = arg;
    const struct hvlog_trace_class *cls = hvlog_trace_catalog_find(x->catalog, e->entry_type);
    uint32_t type = x->group->type;
    uint8_t *p;

    if (e->time_stamp > x->clock->max_cycles) {
        x->failure = export_fail(x->err, HVLOG_EXPORT_TIME,
                                 "%s: buffer %llu (%s LP %u), entry at byte %u: time %llu is "
                                 "beyond what clock %s can place",
                                 x->file, (unsigned long long)x->file_index,
                                 hvlog_trace_group_short(type), x->stream->lp, e->offset,
                                 (unsigned long long)e->time_stamp, x->clock->name);
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
        x->used[type][e->entry_type / 8] |= (uint8_t)(1u << (e->entry_type % 8));
    } else {
        p = packet_room(x, EVENT_HEADER_BYTES + 12 + e->payload_len);
        hvlog_store_le16(p, HVLOG_CTF_ESCAPE_EVENT_ID);
        hvlog_store_le64(p + 2, e->time_stamp);
        hvlog_store_le16(p + 10, e->entry_type);
        hvlog_store_le32(p + 12, e->context);
        hvlog_store_le16(p + 16, e->size);
        hvlog_store_le32(p + 18, e->payload_len);
        memcpy(p + 22, e->payload, e->payload_len);
        x->escape_used[type] = true;
    }
    return true;
}

/* The packet header and context at @p, for a packet of @len bytes. */
static void fill_packet_start(const struct ctf_export *x, uint8_t *p, size_t len, uint64_t begin,
                              uint64_t end, const struct ctf_stream *stream, uint32_t buffer_index)
{
    hvlog_store_le32(p, CTF_MAGIC);
    memcpy(p + 4, x->uuid, 16);
    hvlog_store_le32(p + 20, x->group->type);
    hvlog_store_le64(p + 24, ((uint64_t)x->group->type << 32) | stream->lp);
    p += PACKET_HEADER_BYTES;
    hvlog_store_le64(p, (uint64_t)len * 8);
    hvlog_store_le64(p + 8, (uint64_t)len * 8);
    hvlog_store_le64(p + 16, begin);
    hvlog_store_le64(p + 24, end);
    hvlog_store_le64(p + 32, stream->discarded);
    hvlog_store_le64(p + 40, stream->seq);
    hvlog_store_le32(p + 48, stream->lp);
    hvlog_store_le32(p + 52, buffer_index);
}

/* The stream's file, created when its first packet is ready: an LP whose
 * every buffer was skipped as corrupt gets no file, as it gets no stream. */
static enum hvlog_export_status stream_open(struct ctf_export *x, struct ctf_stream *stream)
{
    char name[64];

    if (stream->fd >= 0)
        return HVLOG_EXPORT_OK;
    snprintf(name, sizeof name, "%s_lp%u", hvlog_trace_group_short(x->group->type), stream->lp);
    stream->fd = export_create_file(x->out.tmp, name, x->err);
    if (stream->fd < 0)
        return HVLOG_EXPORT_IO;
    x->summary->streams++;
    return HVLOG_EXPORT_OK;
}

/* Convert buffer @slot into one packet of @stream and write it to the
 * stream's file. A corrupt buffer (its entries are checked here, the index
 * read its header only) fails, or with skip_corrupt is reported and left
 * out: no packet, no sequence number, its EventsLost not counted. */
static enum hvlog_export_status write_packet(struct ctf_export *x, struct export_group_plan *plan,
                                             const struct hvlog_trace_slot *slot,
                                             struct ctf_stream *stream)
{
    struct hvlog_trace_buffer b;
    uint64_t begin, end, header_ts;
    enum hvlog_export_status st;
    bool skipped;
    int fd, e;

    x->stream = stream;
    x->file_index = slot->file_index;
    x->entries = 0;
    x->failure = HVLOG_EXPORT_OK;
    x->fault.kind = EXPORT_TIME_FAULT_NONE;
    x->packet_len = PACKET_HEADER_BYTES + PACKET_CONTEXT_BYTES;
    st = export_read_slot(plan, slot, &b, add_event, x, &skipped, x->summary, x->err);
    if (st != HVLOG_EXPORT_OK || skipped)
        return st; /* skipped: add_event saw no entry (the walk checks all first) */
    if (x->fault.kind != EXPORT_TIME_FAULT_NONE)
        return export_time_fail(x->err, plan, &b, &x->fault, "babeltrace2 would reject the stream");
    if (x->failure != HVLOG_EXPORT_OK)
        return x->failure;
    header_ts = b.summary.time_stamp;
    if (x->entries == 0) {
        begin = stream->last_ts;
        if (x->group->time_basis == HvEventLogEntryTimeReference && header_ts > begin &&
            header_ts <= x->clock->max_cycles)
            begin = header_ts;
        end = begin;
    } else {
        begin = x->first_ts;
        if (x->group->time_basis == HvEventLogEntryTimeReference && header_ts <= x->first_ts &&
            (!stream->started || header_ts >= stream->last_ts))
            begin = header_ts;
        end = x->last_ts;
    }
    st = stream_open(x, stream);
    if (st != HVLOG_EXPORT_OK)
        return st;
    fd = stream->fd;
    if (stream->seq == 0 && b.summary.events_lost != 0) {
        /* babeltrace2 cannot count a loss in a stream's first packet ("may
         * have discarded"): an empty packet first makes it a counted gap. */
        uint8_t anchor[PACKET_HEADER_BYTES + PACKET_CONTEXT_BYTES];
        fill_packet_start(x, anchor, sizeof anchor, begin, begin, stream, HV_EVENTLOG_BUFFER_INDEX_NONE);
        e = export_write_all(fd, anchor, sizeof anchor);
        if (e != 0)
            return export_fail(x->err, HVLOG_EXPORT_IO, "%s: %s", x->out.final, strerror(e));
        stream->seq++;
        stream->written += sizeof anchor;
        x->summary->bytes_out += sizeof anchor;
    }
    stream->discarded += b.summary.events_lost;
    fill_packet_start(x, x->packet, x->packet_len, begin, end, stream, b.summary.buffer_index);
    e = export_write_all(fd, x->packet, x->packet_len);
    if (e != 0)
        return export_fail(x->err, HVLOG_EXPORT_IO, "%s: %s", x->out.final, strerror(e));
    stream->seq++;
    stream->last_ts = end;
    stream->started = true;
    x->summary->buffers++;
    x->summary->events += x->entries;
    x->summary->events_lost += b.summary.events_lost;
    x->summary->bytes_in += b.len;
    x->summary->bytes_out += x->packet_len;
    stream->written += x->packet_len;
    if (stream->written - stream->flushed >= WRITEBACK_BYTES) {
        export_start_writeback(fd, stream->flushed, stream->written - stream->flushed);
        stream->flushed = stream->written;
    }
    return HVLOG_EXPORT_OK;
}

/* Every stream of one group: the slots are sorted by LP, so each LP's
 * packets are one run, written to its own file in fill order. */
static enum hvlog_export_status write_group(struct ctf_export *x, struct export_group_plan *plan)
{
    enum hvlog_export_status st = HVLOG_EXPORT_OK;
    uint64_t i = 0;

    x->group = plan->group;
    x->file = hvlog_trace_cursor_file(plan->cursor);
    hvlog_trace_catalog_init(x->catalog, plan->group->type);
    while (i < plan->slot_count && st == HVLOG_EXPORT_OK) {
        struct ctf_stream stream = {plan->slots[i].lp, -1, 0, 0, 0, false, 0, 0};
        int e;

        for (; i < plan->slot_count && plan->slots[i].lp == stream.lp && st == HVLOG_EXPORT_OK; i++)
            st = write_packet(x, plan, &plan->slots[i], &stream);
        if (stream.fd < 0)
            continue; /* no packet: every buffer of the LP was skipped, or the first failed */
        e = export_close_synced(stream.fd);
        if (st == HVLOG_EXPORT_OK && e != 0)
            st = export_fail(x->err, HVLOG_EXPORT_IO, "%s/%s_lp%u: %s", x->out.final,
                             hvlog_trace_group_short(plan->group->type), stream.lp, strerror(e));
    }
    return st;
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

static void write_metadata_text(struct ctf_export *x, FILE *f)
{
    const struct hvlog_trace_meta *meta = hvlog_trace_reader_meta(x->reader);
    const char *path = hvlog_trace_reader_path(x->reader);
    size_t end = strlen(path), start;
    char uuid[37], name[256];

    /* The trace's name: the input's last path component ("TRACE/" -> "TRACE"). */
    while (end > 1 && path[end - 1] == '/')
        end--;
    start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(name, sizeof name, "%.*s", (int)(end - start), path + start);

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
    put_tsdl_string(f, name[0] ? name : path);
    fprintf(f,
            ";\n\tdomain = \"hyperv\";\n\ttracer_name = \"hvlog\";\n\ttracer_major = %d;\n"
            "\ttracer_minor = %d;\n\ttracer_patch = %d;\n",
            HVLOG_VERSION_MAJOR, HVLOG_VERSION_MINOR, HVLOG_VERSION_PATCH);
    fputs("\thvlog_abi_profile = ", f);
    put_tsdl_string(f, meta->abi_profile);
    fputs(";\n\thvlog_command_line = ", f);
    put_tsdl_string(f, meta->command_line ? meta->command_line : "");
    fprintf(f, ";\n\thvlog_seed = \"0x%llx\";\n\thvlog_raw_input = %d;\n};\n\n",
            (unsigned long long)meta->host.seed, hvlog_trace_reader_is_raw(x->reader) ? 1 : 0);
    for (uint32_t i = 0; i < x->plan_count; i++) {
        const struct ctf_clock *c = &x->clocks[i];

        fprintf(f, "clock {\n\tname = %s;\n", c->name);
        if (!c->absolute) {
            /* One non-absolute clock per basis: the UUID lets the muxer trust it. */
            uint8_t u[16];
            char us[37];
            memcpy(u, x->uuid, 16);
            u[15] ^= (uint8_t)(0x10 + x->plans[i].group->time_basis);
            format_uuid(u, us);
            fprintf(f, "\tuuid = \"%s\";\n", us);
        }
        fprintf(f,
                "\tdescription = \"%s\";\n\tfreq = %llu;\n\tprecision = 1;\n\toffset_s = %lld;\n"
                "\toffset = %llu;\n\tabsolute = %s;\n};\n\n",
                c->description, (unsigned long long)c->freq_hz, (long long)c->offset_s,
                (unsigned long long)c->offset_cycles, c->absolute ? "true" : "false");
    }
    for (uint32_t i = 0; i < x->plan_count; i++) {
        const struct ctf_clock *c = &x->clocks[i];
        uint32_t type = x->plans[i].group->type;

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
    for (uint32_t i = 0; i < x->plan_count; i++) {
        uint32_t type = x->plans[i].group->type;

        hvlog_trace_catalog_init(x->catalog, type);
        for (uint32_t k = 0; k < x->catalog->count; k++) {
            const struct hvlog_trace_class *cls = &x->catalog->classes[k];
            uint16_t id = cls->info->entry_type;

            if (!(x->used[type][id / 8] & (1u << (id % 8))))
                continue;
            fprintf(f, "event {\n\tname = \"%s\";\n\tid = %u;\n\tstream_id = %u;\n"
                       "\tfields := struct {\n\t\thex32_t _context;\n",
                    cls->info->name, id, type);
            for (uint32_t j = 0; j < cls->param_count; j++)
                fprintf(f, "\t\thex64_t _%s;\n", cls->params[j]);
            fputs("\t\tuint32_t _extra_len;\n\t\tuint8_t _extra[_extra_len];\n\t};\n};\n\n", f);
        }
        if (x->escape_used[type])
            fprintf(f,
                    "event {\n\tname = \"" HVLOG_CTF_ESCAPE_EVENT_NAME "\";\n\tid = %u;\n"
                    "\tstream_id = %u;\n\tfields := struct {\n\t\thex16_t _entry_type;\n"
                    "\t\thex32_t _context;\n\t\tuint16_t _size;\n\t\tuint32_t _data_len;\n"
                    "\t\tuint8_t _data[_data_len];\n\t};\n};\n\n",
                    HVLOG_CTF_ESCAPE_EVENT_ID, type);
    }
}

static enum hvlog_export_status write_metadata(struct ctf_export *x)
{
    int fd = export_create_file(x->out.tmp, "metadata", x->err);
    FILE *f;
    int e = 0;

    if (fd < 0)
        return HVLOG_EXPORT_IO;
    f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        return export_fail(x->err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    write_metadata_text(x, f);
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
        e = errno ? errno : EIO;
    x->summary->bytes_out += (uint64_t)ftell(f);
    if (fclose(f) != 0 && e == 0)
        e = errno;
    if (e != 0)
        return export_fail(x->err, HVLOG_EXPORT_IO, "%s/metadata: %s", x->out.final, strerror(e));
    return HVLOG_EXPORT_OK;
}

/* ---- the export ---- */

static enum hvlog_export_status run(struct ctf_export *x, const struct hvlog_export_options *opt,
                                    const char *out_dir)
{
    const struct hvlog_trace_meta *meta = hvlog_trace_reader_meta(x->reader);
    enum hvlog_export_status st;
    uint32_t max_stride = 0;

    st = export_plan(x->reader, opt, x->plans, &x->plan_count, x->summary, x->err);
    if (st != HVLOG_EXPORT_OK)
        return st;
    for (uint32_t i = 0; i < x->plan_count; i++) {
        st = setup_clock(x, meta, x->plans[i].group, opt->tsc_frequency_hz, &x->clocks[i]);
        if (st != HVLOG_EXPORT_OK)
            return st;
        if (x->plans[i].group->buffer_pages * HV_PAGE_SIZE > max_stride)
            max_stride = x->plans[i].group->buffer_pages * HV_PAGE_SIZE;
    }
    for (uint32_t i = 0; i < x->plan_count; i++)
        clock_limit(&x->clocks[i]);
    st = check_clocks(x);
    if (st != HVLOG_EXPORT_OK)
        return st;
    make_uuid(meta, x->uuid);
    /* Worst case: every 16-byte entry grows by 6 (escape class). */
    x->packet_cap = PACKET_HEADER_BYTES + PACKET_CONTEXT_BYTES + (size_t)max_stride * 2;
    x->packet = malloc(x->packet_cap);
    x->catalog = malloc(sizeof(*x->catalog));
    if (!x->packet || !x->catalog)
        return export_fail(x->err, HVLOG_EXPORT_NOMEM, "out of memory");
    st = export_staged_dir_begin(&x->out, out_dir, opt->force, "metadata", x->err);
    if (st != HVLOG_EXPORT_OK)
        return st;
    for (uint32_t i = 0; i < x->plan_count && st == HVLOG_EXPORT_OK; i++) {
        x->clock = &x->clocks[i];
        st = write_group(x, &x->plans[i]);
    }
    if (st == HVLOG_EXPORT_OK)
        st = write_metadata(x);
    if (st == HVLOG_EXPORT_OK)
        return export_staged_dir_commit(&x->out, x->err);
    export_staged_dir_abort(&x->out);
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
        return export_fail(err, HVLOG_EXPORT_INVALID, "no trace or no output directory");
    x = calloc(1, sizeof(*x));
    if (!x)
        return export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    memset(&local_summary, 0, sizeof local_summary);
    x->reader = r;
    x->summary = &local_summary;
    x->err = err;
    st = run(x, options ? options : &defaults, out_dir);
    export_plan_free(x->plans, x->plan_count);
    free(x->packet);
    free(x->catalog);
    free(x);
    if (summary)
        *summary = local_summary;
    return st;
}
