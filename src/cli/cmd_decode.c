/* SPDX-License-Identifier: MIT */
/*
 * `hvlog decode` and `hvlog stats`: reading a trace back.
 *
 * decode prints every entry, like babeltrace2's pretty output: time, delta,
 * LP, the entry's name from the §4.8 catalogue, Context and fields; or JSON
 * lines. Entries are merged across LPs by time stamp: each LP's buffers are
 * read in fill order (hvlog_trace_fill_order), one buffer per LP in memory
 * at a time, so memory stays flat however long the trace is. A buffer whose
 * EventsLost is not zero is preceded by a line saying how many events were
 * lost, on which LP, between which times. Unknown entry types print as hex.
 *
 * Speed (issue 6): lines, text and JSON alike, are formatted by hand into
 * a 256 KiB buffer (printf per field cost five times the rest of the
 * command; a JSON writer per line held --json to ~50 MB/s), each entry
 * type's catalogue row and parameter names are looked up once, and the
 * wall-clock "HH:MM:SS" is computed once per second. stats needs no fill
 * order: it reads each group file once, in file order, and counts per LP.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "hvlog/export/json.h"
#include "hvlog/export/trace.h"
#include "hvlog/hvlog.h"

enum time_style { STYLE_LOCAL, STYLE_UTC, STYLE_RELATIVE, STYLE_RAW };

struct filter {
    int64_t lp;          /* -1: all */
    uint32_t types;      /* bit per log type, 0 = all */
    int32_t entry_type;  /* -1: all */
    uint64_t begin, end; /* raw time stamps, inclusive */
};

/* One LP of one group: its buffers in fill order and the one being read. */
struct lane {
    const struct hvlog_trace_group *group;
    struct hvlog_trace_cursor *cursor;
    struct hvlog_trace_slot *slots;
    uint64_t slot_count, next_slot;
    const uint8_t *bytes; /* the current buffer: the lane's own cursor's memory, valid
                           * until its next read (no other lane reads through it) */
    uint32_t offset, end; /* next entry and NextBufferOffset in bytes */
    uint32_t lp;
    uint64_t last_time;   /* for the lost-events line and deltas */
    bool have_last;
    uint32_t pending_lost; /* EventsLost of the current buffer, not yet reported */
    uint64_t buffers, entries, bytes_data, lost;
};

/*
 * The output: lines are formatted by hand into one large buffer and
 * written with fwrite when it fills (printf per field was most of the
 * decode time, issue 6 "Speed"). Text and JSON lines both go through it,
 * and nothing else writes to stdout while it is in use.
 */
#define OUT_BUFFER_BYTES (256u << 10)

struct out_buffer {
    char *bytes;    /* OUT_BUFFER_BYTES */
    size_t len;
    bool failed;    /* a write to stdout fell short */
};

/* The catalogue row of one entry type with its parameter names split out
 * (pointers into the row's static params string), looked up once per type. */
#define NAME_CACHE_SLOTS 1024u
#define MAX_PARAMS 16u

struct name_entry {
    uint32_t key;  /* 1 + (log type << 16 | entry type); 0 = empty */
    const struct hvlog_entry_type_info *info;
    uint32_t nparams;
    const char *param[MAX_PARAMS];
    uint8_t param_len[MAX_PARAMS];
    /* --json: the line's constant parts for this type, escaped once:
     * ,"event":"NAME","entry_type":N,"context":   then per parameter
     * "p":"0x (with a leading comma after the first). NULL until needed. */
    char *json;
    uint32_t json_key_at[MAX_PARAMS + 1]; /* [0] = length of the head */
};

#define NAME_MAX_BYTES 255u /* catalogue names are far shorter; bounds a line */

/* The wall-clock "HH:MM:SS" of the last second formatted (localtime_r and
 * strftime cost more than the rest of a line). */
struct time_cache {
    bool valid;
    int style;
    time_t secs;
    char hms[16];
    size_t hms_len;
};

struct decoder {
    struct hvlog_trace_reader *reader;
    const struct hvlog_trace_meta *meta;
    struct lane *lanes;
    uint32_t lane_count;
    enum time_style style;
    bool json;
    struct filter filter;
    uint64_t first_time, prev_time;
    bool have_first;
    struct hvlog_export_error err;
    struct out_buffer out;
    struct name_entry *names; /* NAME_CACHE_SLOTS, direct-mapped */
    struct time_cache tcache;
    /* Per time basis: Unix time in 100 ns = an entry's time in 100 ns +
     * offset (wall_time), when some group of that basis has an anchor. */
    bool anchored[HvEventLogEntryTimeMaximumCurrent + 1];
    __int128 offset[HvEventLogEntryTimeMaximumCurrent + 1];
};

/* ---- text output ---- */

static void out_flush(struct out_buffer *o)
{
    if (o->len && fwrite(o->bytes, 1, o->len, stdout) != o->len)
        o->failed = true;
    o->len = 0;
}

static void out_put(struct out_buffer *o, const char *s, size_t n)
{
    if (n > OUT_BUFFER_BYTES - o->len) {
        out_flush(o);
        if (n > OUT_BUFFER_BYTES) {
            if (fwrite(s, 1, n, stdout) != n)
                o->failed = true;
            return;
        }
    }
    memcpy(o->bytes + o->len, s, n);
    o->len += n;
}

static void out_str(struct out_buffer *o, const char *s)
{
    out_put(o, s, strlen(s));
}

/* Decimal digits of @v into @buf (at least 20 bytes); returns the length. */
static size_t fmt_u64(char *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

static void out_u64(struct out_buffer *o, uint64_t v)
{
    char buf[20];
    out_put(o, buf, fmt_u64(buf, v));
}

/* "0x" and lower-case hex without leading zeros, as printf's "0x%" PRIx64. */
static void out_hex(struct out_buffer *o, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    char buf[18];
    size_t n = sizeof buf;

    do {
        buf[--n] = hex[v & 0xF];
        v >>= 4;
    } while (v);
    buf[--n] = 'x';
    buf[--n] = '0';
    out_put(o, buf + n, sizeof buf - n);
}

/*
 * JSON lines, byte for byte what hvlog_json_* wrote when decode used one
 * writer per line (the decode golden files hold both to it): compact,
 * strings escaped per RFC 8259, integers in decimal, 64-bit values as
 * "0x..." strings, bytes as lower-case hex pairs. A line is written through
 * a pointer into room reserved for its longest possible length, and each
 * entry type's names are escaped once (name_entry.json), so an entry costs
 * a few copies and its numbers.
 */

/* Room for @n more bytes at the end of @o (n <= OUT_BUFFER_BYTES). */
static char *out_reserve(struct out_buffer *o, size_t n)
{
    if (n > OUT_BUFFER_BYTES - o->len)
        out_flush(o);
    return o->bytes + o->len;
}

static char *put_mem(char *p, const void *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put_mem((p), (lit), sizeof(lit) - 1)

/* "@s" (@n bytes) escaped at @p, quotes included; at most 6 n + 2 bytes.
 * Control characters get the short forms or \u00XX, as the writer's. */
static char *put_json_string(char *p, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c != '"' && c != '\\') {
            *p++ = (char)c;
        } else if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = (char)c;
        } else if (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
            static const char short_form[0x20] = {
                ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
            };
            *p++ = '\\';
            *p++ = short_form[c];
        } else {
            p = PUT_LIT(p, "\\u00");
            *p++ = hex[c >> 4];
            *p++ = hex[c & 0xF];
        }
    }
    *p++ = '"';
    return p;
}

/* Lower-case hex of @v without leading zeros ("0x" not included). */
static char *put_hex_digits(char *p, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    char buf[16];
    size_t n = sizeof buf;

    do {
        buf[--n] = hex[v & 0xF];
        v >>= 4;
    } while (v);
    return put_mem(p, buf + n, sizeof buf - n);
}

/* The constant parts of a JSON line for @e's entry type, @event its name. */
static bool json_fragments(struct name_entry *e, const char *event, uint16_t entry_type)
{
    size_t event_len = strnlen(event, NAME_MAX_BYTES);
    char *p = malloc(64 + 6 * event_len + (size_t)MAX_PARAMS * (6 * 32 + 8));

    if (!p)
        return false;
    e->json = p;
    p = PUT_LIT(p, ",\"event\":");
    p = put_json_string(p, event, event_len);
    p = PUT_LIT(p, ",\"entry_type\":");
    p += fmt_u64(p, entry_type);
    p = PUT_LIT(p, ",\"context\":");
    e->json_key_at[0] = (uint32_t)(p - e->json);
    for (uint32_t i = 0; i < e->nparams; i++) {
        if (i > 0)
            *p++ = ',';
        p = put_json_string(p, e->param[i], e->param_len[i]);
        p = PUT_LIT(p, ":\"0x");
        e->json_key_at[i + 1] = (uint32_t)(p - e->json);
    }
    return true;
}

/* The longest JSON line: fragments, numbers, times, and the data as hex. */
#define JSON_LINE_MAX(e, data_len)                                                          \
    ((e)->json_key_at[(e)->nparams] + (size_t)(e)->nparams * 20 + 2 * (size_t)(data_len) + 256)
_Static_assert(OUT_BUFFER_BYTES >= 64 + 6 * NAME_MAX_BYTES + MAX_PARAMS * (6 * 32 + 8) +
                                        MAX_PARAMS * 20 + 2 * 65536 + 256,
               "the longest JSON line fits the output buffer");

/* @v / 10^7 "." (@v mod 10^7 as seven digits): seconds of 100 ns units. */
static size_t fmt_seconds_100ns(char *buf, uint64_t v)
{
    uint64_t frac = v % 10000000u;
    size_t n = fmt_u64(buf, v / 10000000u);

    buf[n++] = '.';
    for (int i = 6; i >= 0; i--) {
        buf[n + (size_t)i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    return n + 7;
}

/* The catalogue row of @entry_type in log @log_type, names split out. */
static struct name_entry *lookup_names(struct decoder *d, uint32_t log_type,
                                       uint16_t entry_type)
{
    uint32_t key = 1u + ((log_type << 16) | entry_type);
    struct name_entry *e = &d->names[(entry_type ^ (log_type * 0x9Eu)) % NAME_CACHE_SLOTS];

    if (e->key == key)
        return e;
    free(e->json);
    memset(e, 0, sizeof *e);
    e->key = key;
    e->info = hvlog_entry_type_info(log_type, entry_type);
    for (const char *p = e->info ? e->info->params : ""; *p && e->nparams < MAX_PARAMS;) {
        size_t n = strcspn(p, ",");
        e->param[e->nparams] = p;
        e->param_len[e->nparams] = (uint8_t)(n < 31 ? n : 31); /* as "%.*s" into 32 bytes */
        e->nparams++;
        p += n + (p[n] == ',');
    }
    return e;
}

/* ---- time ---- */

/* The ticks per second of group @g's entries when the trace says so and
 * they are not 100 ns: the TSC's, or the QPC's (qpc_frequency_hz); else 0. */
static uint64_t ticks_hz(const struct decoder *d, const struct hvlog_trace_group *g)
{
    if (g->time_basis == HvEventLogEntryTimeTsc)
        return d->meta->tsc_frequency_hz;
    if (g->time_basis == HvEventLogEntryTimeQpc && d->meta->qpc_frequency_hz != 10000000u)
        return d->meta->qpc_frequency_hz;
    return 0;
}

/* A duration in the group's time basis, in 100 ns units: reference time
 * already is, and QPC at 10 MHz; TSC and QPC ticks at another rate need the
 * trace's frequency (0 = unknown: ticks are shown as they are). */
static uint64_t ticks_to_100ns(const struct decoder *d, const struct hvlog_trace_group *g,
                               uint64_t ticks)
{
    uint64_t hz = ticks_hz(d, g);

    if (hz == 0)
        return ticks;
    return (uint64_t)((unsigned __int128)ticks * 10000000u / hz);
}

/*
 * Group @g's own wall-clock offset (100 ns): Unix time = its ticks in
 * 100 ns + offset, from SystemTime and the clock's value when Initialize
 * ran (reference_time_at_init; for QPC, qpc_at_init at qpc_frequency_hz).
 * False when the trace cannot say.
 */
static bool group_offset(const struct decoder *d, const struct hvlog_trace_group *g, __int128 *off)
{
    __int128 at_init = (__int128)g->system_time - CLI_FILETIME_UNIX_EPOCH;
    uint64_t hz = d->meta->qpc_frequency_hz;

    if (g->system_time < CLI_FILETIME_UNIX_EPOCH)
        return false;
    if (g->time_basis == HvEventLogEntryTimeReference) {
        *off = at_init - g->reference_time_at_init;
        return true;
    }
    if (g->time_basis != HvEventLogEntryTimeQpc || hz == 0 || !g->qpc_at_init_known)
        return false;
    *off = at_init - (__int128)g->qpc_at_init * 10000000 / (__int128)hz;
    return true;
}

/*
 * One offset per time basis for the whole trace, from the group whose
 * anchor the trace says places them all (hvlog_trace_meta_anchor: the one
 * read with the least delay), so two groups' events never go back on the
 * wall clock.
 */
static void decoder_anchor(struct decoder *d)
{
    for (uint32_t b = 0; b <= HvEventLogEntryTimeMaximumCurrent; b++) {
        const struct hvlog_trace_group *g = hvlog_trace_meta_anchor(d->meta, b);

        d->anchored[b] = g && group_offset(d, g, &d->offset[b]);
    }
}

/* Ticks -> 100 ns since the Unix epoch; false when the trace cannot say. */
static bool wall_time(const struct decoder *d, const struct hvlog_trace_group *g, uint64_t ticks,
                      uint64_t *unix_100ns)
{
    uint32_t b = g->time_basis;
    __int128 t;

    if (b > HvEventLogEntryTimeMaximumCurrent || !d->anchored[b])
        return false;
    /* Signed: an entry may predate Initialize. */
    t = (__int128)ticks_to_100ns(d, g, ticks) + d->offset[b];
    if (t < 0 || t > (__int128)UINT64_MAX)
        return false;
    *unix_100ns = (uint64_t)t;
    return true;
}

/* The time column for @ticks into @out (at least 40 bytes); returns its length. */
static size_t format_time(struct decoder *d, const struct hvlog_trace_group *g, uint64_t ticks,
                          char out[40])
{
    uint64_t t;

    if ((d->style == STYLE_LOCAL || d->style == STYLE_UTC) && wall_time(d, g, ticks, &t)) {
        time_t secs = (time_t)(t / 10000000u);
        struct time_cache *tc = &d->tcache;
        uint64_t frac = t % 10000000u;

        if (!tc->valid || tc->secs != secs || tc->style != (int)d->style) {
            struct tm tm;

            if (d->style == STYLE_UTC)
                gmtime_r(&secs, &tm);
            else
                localtime_r(&secs, &tm);
            tc->hms_len = strftime(tc->hms, sizeof tc->hms, "%H:%M:%S", &tm);
            tc->secs = secs;
            tc->style = (int)d->style;
            tc->valid = true;
        }
        memcpy(out, tc->hms, tc->hms_len);
        out[tc->hms_len] = '.';
        for (int i = 7; i >= 1; i--) {
            out[tc->hms_len + (size_t)i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        out[tc->hms_len + 8] = '\0';
        return tc->hms_len + 8;
    }
    if (d->style == STYLE_RAW || d->style == STYLE_LOCAL || d->style == STYLE_UTC) {
        size_t n = fmt_u64(out, ticks);
        out[n] = '\0';
        return n;
    }
    {
        size_t n = fmt_seconds_100ns(out, ticks_to_100ns(d, g, ticks - d->first_time));
        out[n] = '\0';
        return n;
    }
}

/* ---- lanes ---- */

static bool lane_load_next(struct decoder *d, struct lane *l)
{
    struct hvlog_trace_buffer b;

    while (l->next_slot < l->slot_count) {
        const struct hvlog_trace_slot *s = &l->slots[l->next_slot++];
        if (hvlog_trace_cursor_read(l->cursor, s->file_index, &b, NULL, NULL, &d->err) != HVLOG_EXPORT_OK)
            continue; /* fill_order already checked it; a read error skips it */
        l->bytes = b.bytes;
        l->offset = HV_EVENTLOG_BUFFER_HEADER_SIZE;
        l->end = b.summary.data_end;
        l->pending_lost = b.summary.events_lost;
        l->buffers++;
        l->bytes_data += b.summary.data_end - HV_EVENTLOG_BUFFER_HEADER_SIZE;
        l->lost += b.summary.events_lost;
        if (l->offset < l->end || l->pending_lost)
            return true;
    }
    l->offset = l->end = 0;
    return false;
}

/* The bytes from entry header to entry header, as hvlog_buffer_walk steps
 * (D9: the current convention pads Size up to 8; 2013 Sizes are already
 * multiples of 8). Advancing by Size alone misaligned the next header and
 * could loop for ever on a current-convention buffer. */
static uint32_t entry_step(enum hvlog_abi_profile convention, uint16_t size)
{
    return convention == HVLOG_ABI_CURRENT ? ((uint32_t)size + 7u) & ~7u : size;
}

/* The lane's next entry (its buffer was checked by the walker when read). */
static bool lane_peek(const struct lane *l, struct hv_eventlog_entry_header *h)
{
    if (l->offset >= l->end)
        return false;
    hv_eventlog_entry_header_load(h, l->bytes + l->offset);
    return true;
}

/* ---- printing ---- */

static bool wanted(const struct decoder *d, const struct lane *l, const struct hv_eventlog_entry_header *h)
{
    const struct filter *f = &d->filter;

    if (f->lp >= 0 && (uint32_t)f->lp != l->lp)
        return false;
    if (f->entry_type >= 0 && (uint16_t)f->entry_type != h->type)
        return false;
    return h->time_stamp >= f->begin && h->time_stamp <= f->end;
}

static void print_lost(struct decoder *d, struct lane *l, uint64_t until)
{
    char from_s[40], to_s[40];
    size_t from_len, to_len;

    if (d->filter.lp >= 0 && (uint32_t)d->filter.lp != l->lp)
        return;
    from_len = format_time(d, l->group, l->have_last ? l->last_time : until, from_s);
    to_len = format_time(d, l->group, until, to_s);
    if (d->json) {
        /* {"lost":"local","lp":L,"events":N,"after":T1,"before":T2} */
        const char *group = hvlog_trace_group_short(l->group->type);
        char *p = out_reserve(&d->out, 256);

        p = PUT_LIT(p, "{\"lost\":");
        p = put_json_string(p, group, strlen(group));
        p = PUT_LIT(p, ",\"lp\":");
        p += fmt_u64(p, l->lp);
        p = PUT_LIT(p, ",\"events\":");
        p += fmt_u64(p, l->pending_lost);
        p = PUT_LIT(p, ",\"after\":");
        p += fmt_u64(p, l->have_last ? l->last_time : until);
        p = PUT_LIT(p, ",\"before\":");
        p += fmt_u64(p, until);
        p = PUT_LIT(p, "}\n");
        d->out.len = (size_t)(p - d->out.bytes);
    } else {
        struct out_buffer *o = &d->out;

        /* "[lost N events on LP L (group) between FROM and TO]" */
        out_str(o, "[lost ");
        out_u64(o, l->pending_lost);
        out_str(o, " events on LP ");
        out_u64(o, l->lp);
        out_str(o, " (");
        out_str(o, hvlog_trace_group_short(l->group->type));
        out_str(o, ") between ");
        out_put(o, from_s, from_len);
        out_str(o, " and ");
        out_put(o, to_s, to_len);
        out_str(o, "]\n");
    }
}

static void print_entry(struct decoder *d, struct lane *l, const struct hv_eventlog_entry_header *h)
{
    struct name_entry *ne = lookup_names(d, l->group->type, h->type);
    const struct hvlog_entry_type_info *info = ne->info;
    const uint8_t *data = l->bytes + l->offset + HV_EVENTLOG_ENTRY_HEADER_SIZE;
    uint32_t data_len = h->size - HV_EVENTLOG_ENTRY_HEADER_SIZE, nparams = ne->nparams;
    char ts[40], name[24];
    size_t ts_len;

    if (nparams * 8 > data_len)
        nparams = data_len / 8;
    if (!info)
        snprintf(name, sizeof name, "0x%04" PRIX16, h->type);
    ts_len = format_time(d, l->group, h->time_stamp, ts);
    if (d->json) {
        /* {"ts":T,"time":"..","type":"local","lp":L,"event":"NAME","entry_type":E,
         *  "context":C,"fields":{"p":"0xV",..}[,"extra":"hex"]} */
        struct name_entry *je = ne;
        const char *group = hvlog_trace_group_short(l->group->type);
        char *p;

        if (!je->json && !json_fragments(je, info ? info->name : name, h->type)) {
            d->out.failed = true; /* out of memory: reported as a failed write */
            return;
        }
        p = out_reserve(&d->out, JSON_LINE_MAX(je, data_len));
        p = PUT_LIT(p, "{\"ts\":");
        p += fmt_u64(p, h->time_stamp);
        p = PUT_LIT(p, ",\"time\":");
        p = put_json_string(p, ts, ts_len);
        p = PUT_LIT(p, ",\"type\":");
        p = put_json_string(p, group, strlen(group));
        p = PUT_LIT(p, ",\"lp\":");
        p += fmt_u64(p, l->lp);
        p = put_mem(p, je->json, je->json_key_at[0]);
        p += fmt_u64(p, h->context);
        p = PUT_LIT(p, ",\"fields\":{");
        for (uint32_t i = 0; i < nparams; i++) {
            p = put_mem(p, je->json + je->json_key_at[i], je->json_key_at[i + 1] - je->json_key_at[i]);
            p = put_hex_digits(p, hvlog_load_le64(data + (size_t)8 * i));
            *p++ = '"';
        }
        *p++ = '}';
        if (data_len > nparams * 8) {
            static const char hex[] = "0123456789abcdef";

            p = PUT_LIT(p, ",\"extra\":\"");
            for (uint32_t i = nparams * 8; i < data_len; i++) {
                *p++ = hex[data[i] >> 4];
                *p++ = hex[data[i] & 0xF];
            }
            *p++ = '"';
        }
        p = PUT_LIT(p, "}\n");
        d->out.len = (size_t)(p - d->out.bytes);
        return;
    }
    {
        /* "[TIME] (+DELTA) lp L NAME: { context = C, p = 0xV, extra = N bytes }" */
        uint64_t delta = d->have_first ? ticks_to_100ns(d, l->group, h->time_stamp - d->prev_time) : 0;
        struct out_buffer *o = &d->out;
        char num[32];

        out_put(o, "[", 1);
        out_put(o, ts, ts_len);
        out_put(o, "] (+", 4);
        out_put(o, num, fmt_seconds_100ns(num, delta));
        out_put(o, ") lp ", 5);
        out_u64(o, l->lp);
        out_put(o, " ", 1);
        out_str(o, info ? info->name : name);
        out_put(o, ": { context = ", 14);
        out_u64(o, h->context);
        for (uint32_t i = 0; i < nparams; i++) {
            out_put(o, ", ", 2);
            out_put(o, ne->param[i], ne->param_len[i]);
            out_put(o, " = ", 3);
            out_hex(o, hvlog_load_le64(data + (size_t)8 * i));
        }
        if (data_len > nparams * 8) {
            out_put(o, ", extra = ", 10);
            out_u64(o, data_len - nparams * 8);
            out_put(o, " bytes", 6);
        }
        out_put(o, " }\n", 3);
    }
}

/* ---- setup ---- */

static void decoder_close(struct decoder *d)
{
    for (uint32_t i = 0; i < d->lane_count; i++) {
        hvlog_trace_cursor_close(d->lanes[i].cursor);
        free(d->lanes[i].slots);
    }
    free(d->lanes);
    free(d->out.bytes);
    for (uint32_t i = 0; d->names && i < NAME_CACHE_SLOTS; i++)
        free(d->names[i].json);
    free(d->names);
    hvlog_trace_close(d->reader);
}

static void report_skipped(void *arg, const char *message)
{
    cli_error("%s: skipped: %s", (const char *)arg, message);
}

/* One lane per (group, LP present), each with its own cursor. */
static int decoder_open(struct decoder *d, const char *cmd, const char *path, bool skip_corrupt)
{
    if (hvlog_trace_open(path, &d->reader, &d->err) != HVLOG_EXPORT_OK)
        return -1;
    d->meta = hvlog_trace_reader_meta(d->reader);
    decoder_anchor(d);
    for (uint32_t gi = 0; gi < d->meta->group_count; gi++) {
        const struct hvlog_trace_group *g = &d->meta->groups[gi];
        struct hvlog_trace_cursor *c;
        struct hvlog_trace_slot *slots;
        uint64_t n;

        if (d->filter.types && !(d->filter.types & (1u << g->type)))
            continue;
        if (hvlog_trace_cursor_open(d->reader, g->type, &c, &d->err) != HVLOG_EXPORT_OK)
            return -1;
        if (hvlog_trace_fill_order(c, skip_corrupt, report_skipped, (void *)cmd, &slots, &n, NULL,
                                   &d->err) !=
            HVLOG_EXPORT_OK) {
            hvlog_trace_cursor_close(c);
            return -1;
        }
        hvlog_trace_cursor_close(c);
        /* Slots are sorted by LP: one lane per run of an LP. */
        for (uint64_t i = 0; i < n;) {
            uint64_t j = i;
            struct lane *nl, *l;

            while (j < n && slots[j].lp == slots[i].lp)
                j++;
            nl = realloc(d->lanes, (d->lane_count + 1) * sizeof *nl);
            if (!nl)
                break;
            d->lanes = nl;
            l = &d->lanes[d->lane_count++];
            memset(l, 0, sizeof *l);
            l->group = g;
            l->lp = slots[i].lp;
            l->slot_count = j - i;
            l->slots = malloc(l->slot_count * sizeof *slots);
            if (l->slots)
                memcpy(l->slots, slots + i, l->slot_count * sizeof *slots);
            if (!l->slots || hvlog_trace_cursor_open(d->reader, g->type, &l->cursor, &d->err) != HVLOG_EXPORT_OK) {
                free(slots);
                return -1;
            }
            i = j;
        }
        free(slots);
    }
    return 0;
}

static bool parse_time_style(const char *s, enum time_style *out)
{
    static const struct {
        const char *name;
        enum time_style style;
    } styles[] = {{"local", STYLE_LOCAL}, {"utc", STYLE_UTC}, {"relative", STYLE_RELATIVE}, {"raw", STYLE_RAW}};
    for (size_t i = 0; i < sizeof styles / sizeof styles[0]; i++) {
        if (strcmp(s, styles[i].name) == 0) {
            *out = styles[i].style;
            return true;
        }
    }
    cli_error("decode: --time takes local, utc, relative or raw, not '%s'", s);
    return false;
}

int cli_cmd_decode(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},        {"lp", required_argument, NULL, 'l'},
        {"type", required_argument, NULL, 't'},  {"event", required_argument, NULL, 'e'},
        {"begin", required_argument, NULL, 'b'}, {"end", required_argument, NULL, 'E'},
        {"time", required_argument, NULL, 'T'},  {"skip-corrupt", no_argument, NULL, 'k'},
        {NULL, 0, NULL, 0},
    };
    struct decoder d;
    bool skip_corrupt = false;
    uint64_t v;
    uint32_t type;
    int opt, status = CLI_EXIT_OK;

    memset(&d, 0, sizeof d);
    d.filter = (struct filter){.lp = -1, .entry_type = -1, .begin = 0, .end = UINT64_MAX};
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'j': d.json = true; break;
        case 'k': skip_corrupt = true; break;
        case 'l':
            if (!cli_number("decode", "--lp", optarg, 0, 1023, &v))
                return CLI_EXIT_USAGE;
            d.filter.lp = (int64_t)v;
            break;
        case 't':
            if (!cli_log_type("decode", optarg, &type))
                return CLI_EXIT_USAGE;
            d.filter.types |= 1u << type;
            break;
        case 'e': {
            const struct hvlog_entry_type_info *info = hvlog_entry_type_find(optarg);
            char *end;

            if (info) {
                d.filter.entry_type = info->entry_type;
                break;
            }
            (void)strtoull(optarg, &end, 0);
            if (*optarg == '\0' || *end != '\0') { /* a name, not a number */
                cli_error("decode: --event '%s' names no entry type, or several "
                          "('hvlog abi entries' lists them)", optarg);
                return CLI_EXIT_USAGE;
            }
            if (!cli_number("decode", "--event", optarg, 0, 0xFFFF, &v))
                return CLI_EXIT_USAGE;
            d.filter.entry_type = (int32_t)v;
            break;
        }
        case 'b': if (!cli_number("decode", "--begin", optarg, 0, UINT64_MAX, &d.filter.begin)) return CLI_EXIT_USAGE; break;
        case 'E': if (!cli_number("decode", "--end", optarg, 0, UINT64_MAX, &d.filter.end)) return CLI_EXIT_USAGE; break;
        case 'T': if (!parse_time_style(optarg, &d.style)) return CLI_EXIT_USAGE; break;
        default:
            cli_error("decode: unknown or incomplete option '%s' (see 'hvlog help decode')", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        cli_error("decode: usage: hvlog decode TRACE [options]");
        return CLI_EXIT_USAGE;
    }
    if (decoder_open(&d, "decode", argv[optind], skip_corrupt) != 0) {
        cli_error("decode: %s", d.err.message);
        decoder_close(&d);
        return CLI_EXIT_FAILURE;
    }
    d.out.bytes = malloc(OUT_BUFFER_BYTES);
    d.names = calloc(NAME_CACHE_SLOTS, sizeof *d.names);
    if (!d.out.bytes || !d.names) {
        cli_error("decode: out of memory");
        decoder_close(&d);
        return CLI_EXIT_FAILURE;
    }
    for (uint32_t i = 0; i < d.lane_count; i++)
        lane_load_next(&d, &d.lanes[i]);
    /* Merge: always the lane whose next entry is the oldest. */
    for (;;) {
        struct lane *best = NULL;
        struct hv_eventlog_entry_header h, bh = {0};

        for (uint32_t i = 0; i < d.lane_count; i++) {
            struct lane *l = &d.lanes[i];
            while (!lane_peek(l, &h)) {
                if (l->pending_lost) { /* a buffer with losses and no entries */
                    print_lost(&d, l, l->have_last ? l->last_time : 0);
                    l->pending_lost = 0;
                }
                if (!lane_load_next(&d, l))
                    break;
            }
            if (lane_peek(l, &h) && (!best || h.time_stamp < bh.time_stamp)) {
                best = l;
                bh = h;
            }
        }
        if (!best)
            break;
        if (!d.have_first) {
            d.first_time = d.prev_time = bh.time_stamp;
            d.have_first = true;
        }
        if (best->pending_lost) {
            print_lost(&d, best, bh.time_stamp);
            best->pending_lost = 0;
        }
        if (wanted(&d, best, &bh)) {
            print_entry(&d, best, &bh);
            d.prev_time = bh.time_stamp;
        }
        best->last_time = bh.time_stamp;
        best->have_last = true;
        best->entries++;
        best->offset += entry_step(best->group->convention, bh.size);
        if (d.out.failed || ferror(stdout)) {
            cli_error("decode: writing the output failed");
            status = CLI_EXIT_FAILURE;
            break;
        }
    }
    out_flush(&d.out);
    if (status == CLI_EXIT_OK && (d.out.failed || fflush(stdout) != 0 || ferror(stdout))) {
        cli_error("decode: writing the output failed");
        status = CLI_EXIT_FAILURE;
    }
    decoder_close(&d);
    return status;
}

/* ---- stats ---- */

static bool count_entry(void *arg, const struct hvlog_entry *entry)
{
    (void)entry;
    (*(uint64_t *)arg)++;
    return true;
}

/* The lane of @lp among the @first.. lanes of the group being scanned
 * (kept sorted by LP, as fill order would give them), added if new. */
static struct lane *stats_lane(struct decoder *d, uint32_t first, const struct hvlog_trace_group *g,
                               uint32_t lp)
{
    uint32_t at = first;
    struct lane *nl;

    while (at < d->lane_count && d->lanes[at].lp < lp)
        at++;
    if (at < d->lane_count && d->lanes[at].lp == lp)
        return &d->lanes[at];
    nl = realloc(d->lanes, (d->lane_count + 1) * sizeof *nl);
    if (!nl)
        return NULL;
    d->lanes = nl;
    memmove(&nl[at + 1], &nl[at], (d->lane_count - at) * sizeof *nl);
    d->lane_count++;
    memset(&nl[at], 0, sizeof nl[at]);
    nl[at].group = g;
    nl[at].lp = lp;
    return &nl[at];
}

/*
 * stats needs no fill order: one sequential pass over each group file,
 * every buffer checked by the walker once (hvlog_trace_cursor_next),
 * counted into its LP's lane. A buffer that fails stops the command with
 * the same message fill order would give (stats never skips corruption).
 */
static int stats_scan(struct decoder *d, const char *path)
{
    if (hvlog_trace_open(path, &d->reader, &d->err) != HVLOG_EXPORT_OK)
        return -1;
    d->meta = hvlog_trace_reader_meta(d->reader);
    for (uint32_t gi = 0; gi < d->meta->group_count; gi++) {
        const struct hvlog_trace_group *g = &d->meta->groups[gi];
        uint32_t first = d->lane_count;
        struct hvlog_trace_cursor *c;
        struct hvlog_trace_buffer b;
        enum hvlog_export_status st;
        struct lane *l = NULL;
        uint64_t entries;

        if (hvlog_trace_cursor_open(d->reader, g->type, &c, &d->err) != HVLOG_EXPORT_OK)
            return -1;
        for (;;) {
            entries = 0;
            st = hvlog_trace_cursor_next(c, &b, count_entry, &entries, &d->err);
            if (st != HVLOG_EXPORT_OK)
                break;
            if (!l || l->lp != b.summary.logical_processor)
                l = stats_lane(d, first, g, b.summary.logical_processor);
            if (!l) {
                snprintf(d->err.message, sizeof d->err.message, "out of memory");
                st = HVLOG_EXPORT_NOMEM;
                break;
            }
            l->buffers++;
            l->entries += entries;
            l->bytes_data += b.summary.data_end - HV_EVENTLOG_BUFFER_HEADER_SIZE;
            l->lost += b.summary.events_lost;
        }
        hvlog_trace_cursor_close(c);
        if (st != HVLOG_EXPORT_END)
            return -1;
    }
    return 0;
}

int cli_cmd_stats(int argc, char **argv)
{
    struct decoder d;
    bool json = argc == 3 && strcmp(argv[1], "--json") == 0;
    const char *path = json ? argv[2] : argc == 2 ? argv[1] : NULL;
    struct hvlog_json_writer *w = NULL;

    if (!path || (argc == 3 && !json)) {
        cli_error("stats: usage: hvlog stats [--json] TRACE");
        return CLI_EXIT_USAGE;
    }
    memset(&d, 0, sizeof d);
    d.filter = (struct filter){.lp = -1, .entry_type = -1, .end = UINT64_MAX};
    if (stats_scan(&d, path) != 0) {
        cli_error("stats: %s", d.err.message);
        decoder_close(&d);
        return CLI_EXIT_FAILURE;
    }
    if (json) {
        w = hvlog_json_writer_create(hvlog_json_sink_file, stdout, HVLOG_JSON_PRETTY);
        hvlog_json_object_begin(w);
        hvlog_json_member_string(w, "trace", path);
        hvlog_json_member_u64(w, "messages", d.meta->stats.messages);
        hvlog_json_member_u64(w, "longest_ready_list", d.meta->stats.longest_chain);
        hvlog_json_key(w, "streams");
        hvlog_json_array_begin(w);
    } else {
        printf("%-7s %4s %10s %12s %8s %10s\n", "type", "lp", "events", "bytes", "buffers", "lost");
    }
    for (uint32_t i = 0; i < d.lane_count; i++) {
        const struct lane *l = &d.lanes[i];
        if (json) {
            hvlog_json_object_begin(w);
            hvlog_json_member_string(w, "type", hvlog_trace_group_short(l->group->type));
            hvlog_json_member_u64(w, "lp", l->lp);
            hvlog_json_member_u64(w, "events", l->entries);
            hvlog_json_member_u64(w, "bytes", l->bytes_data);
            hvlog_json_member_u64(w, "buffers", l->buffers);
            hvlog_json_member_u64(w, "events_lost", l->lost);
            hvlog_json_object_end(w);
        } else {
            printf("%-7s %4" PRIu32 " %10" PRIu64 " %12" PRIu64 " %8" PRIu64 " %10" PRIu64 "\n",
                   hvlog_trace_group_short(l->group->type), l->lp, l->entries, l->bytes_data,
                   l->buffers, l->lost);
        }
    }
    if (json) {
        hvlog_json_array_end(w);
        hvlog_json_key(w, "lps");
        hvlog_json_array_begin(w);
    } else if (d.meta->lp_count) {
        printf("\n%4s %10s %10s %10s %12s %12s %12s\n", "lp", "logged", "recorded", "lost",
               "no-buffer", "too-large", "overwritten");
    }
    for (uint32_t i = 0; i < d.meta->lp_count; i++) {
        const struct hvlog_trace_lp *lp = &d.meta->lps[i];
        if (json) {
            hvlog_json_object_begin(w);
            hvlog_json_member_u64(w, "lp", lp->lp);
            hvlog_json_member_u64(w, "logged", lp->logged);
            hvlog_json_member_u64(w, "recorded", lp->recorded);
            hvlog_json_member_u64(w, "lost", lp->lost);
            hvlog_json_member_u64(w, "lost_no_buffer", lp->lost_no_buffer);
            hvlog_json_member_u64(w, "lost_too_large", lp->lost_too_large);
            /* Circular mode: in recorded, no longer in the trace (0 otherwise). */
            hvlog_json_member_u64(w, "overwritten", lp->overwritten);
            hvlog_json_object_end(w);
        } else {
            printf("%4" PRIu32 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12" PRIu64 " %12" PRIu64
                   " %12" PRIu64 "\n",
                   lp->lp, lp->logged, lp->recorded, lp->lost, lp->lost_no_buffer, lp->lost_too_large,
                   lp->overwritten);
        }
    }
    if (json) {
        hvlog_json_array_end(w);
        hvlog_json_object_end(w);
        hvlog_json_writer_close(w);
        fputc('\n', stdout);
    } else {
        printf("\nready messages: %" PRIu64 ", longest ready list: %" PRIu64 " buffers\n",
               d.meta->stats.messages, d.meta->stats.longest_chain);
    }
    decoder_close(&d);
    return CLI_EXIT_OK;
}
