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
    uint8_t *bytes;   /* the current buffer (a copy: the cursor reuses its memory) */
    size_t len;
    uint32_t offset, end; /* next entry and NextBufferOffset in bytes */
    uint32_t lp;
    uint64_t last_time;   /* for the lost-events line and deltas */
    bool have_last;
    uint32_t pending_lost; /* EventsLost of the current buffer, not yet reported */
    uint64_t buffers, entries, bytes_data, lost;
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
    struct hvlog_json_writer *jw;
};

/* ---- time ---- */

/* A duration in the group's time basis, in 100 ns units: reference time
 * already is; TSC ticks need the trace's TSC frequency (0 = unknown: ticks
 * are shown as they are). */
static uint64_t ticks_to_100ns(const struct decoder *d, const struct hvlog_trace_group *g,
                               uint64_t ticks)
{
    uint64_t hz = d->meta->tsc_frequency_hz;

    if (g->time_basis != HvEventLogEntryTimeTsc || hz == 0)
        return ticks;
    return (uint64_t)((unsigned __int128)ticks * 10000000u / hz);
}

/* Reference-basis ticks -> 100 ns since the Unix epoch, from the anchor. */
static bool wall_time(const struct hvlog_trace_group *g, uint64_t ticks, uint64_t *unix_100ns)
{
    if (g->time_basis != HvEventLogEntryTimeReference || g->system_time < CLI_FILETIME_UNIX_EPOCH)
        return false;
    *unix_100ns = g->system_time - CLI_FILETIME_UNIX_EPOCH + (ticks - g->reference_time_at_init);
    return true;
}

static void format_time(const struct decoder *d, const struct hvlog_trace_group *g, uint64_t ticks,
                        char *out, size_t size)
{
    uint64_t t;

    if ((d->style == STYLE_LOCAL || d->style == STYLE_UTC) && wall_time(g, ticks, &t)) {
        time_t secs = (time_t)(t / 10000000u);
        struct tm tm;
        char hms[16];

        if (d->style == STYLE_UTC)
            gmtime_r(&secs, &tm);
        else
            localtime_r(&secs, &tm);
        strftime(hms, sizeof hms, "%H:%M:%S", &tm);
        snprintf(out, size, "%s.%07" PRIu64, hms, t % 10000000u);
    } else if (d->style == STYLE_RAW || d->style == STYLE_LOCAL || d->style == STYLE_UTC) {
        snprintf(out, size, "%" PRIu64, ticks);
    } else {
        uint64_t rel = ticks_to_100ns(d, g, ticks - d->first_time);
        snprintf(out, size, "%" PRIu64 ".%07" PRIu64, rel / 10000000u, rel % 10000000u);
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
        if (b.len > l->len) {
            uint8_t *n = realloc(l->bytes, b.len);
            if (!n)
                return false;
            l->bytes = n;
        }
        memcpy(l->bytes, b.bytes, b.len);
        l->len = b.len;
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

    if (d->filter.lp >= 0 && (uint32_t)d->filter.lp != l->lp)
        return;
    format_time(d, l->group, l->have_last ? l->last_time : until, from_s, sizeof from_s);
    format_time(d, l->group, until, to_s, sizeof to_s);
    if (d->json) {
        hvlog_json_object_begin(d->jw);
        hvlog_json_member_string(d->jw, "lost", hvlog_trace_group_short(l->group->type));
        hvlog_json_member_u64(d->jw, "lp", l->lp);
        hvlog_json_member_u64(d->jw, "events", l->pending_lost);
        hvlog_json_member_u64(d->jw, "after", l->have_last ? l->last_time : until);
        hvlog_json_member_u64(d->jw, "before", until);
        hvlog_json_object_end(d->jw);
        hvlog_json_writer_close(d->jw);
        d->jw = hvlog_json_writer_create(hvlog_json_sink_file, stdout, 0);
        fputc('\n', stdout);
    } else {
        printf("[lost %" PRIu32 " events on LP %" PRIu32 " (%s) between %s and %s]\n", l->pending_lost,
               l->lp, hvlog_trace_group_short(l->group->type), from_s, to_s);
    }
}

static void print_entry(struct decoder *d, struct lane *l, const struct hv_eventlog_entry_header *h)
{
    const struct hvlog_entry_type_info *info = hvlog_entry_type_info(l->group->type, h->type);
    const uint8_t *data = l->bytes + l->offset + HV_EVENTLOG_ENTRY_HEADER_SIZE;
    uint32_t data_len = h->size - HV_EVENTLOG_ENTRY_HEADER_SIZE, nparams = 0;
    const char *params = info ? info->params : "";
    char names[16][32], ts[40], name[24];

    /* The catalogue's parameter names, consecutive u64s after the header. */
    for (const char *p = params; *p && nparams < 16;) {
        size_t n = strcspn(p, ",");
        snprintf(names[nparams], sizeof names[0], "%.*s", (int)(n < 31 ? n : 31), p);
        nparams++;
        p += n + (p[n] == ',');
    }
    if (nparams * 8 > data_len)
        nparams = data_len / 8;
    if (info)
        snprintf(name, sizeof name, "%s", "");
    else
        snprintf(name, sizeof name, "0x%04" PRIX16, h->type);
    format_time(d, l->group, h->time_stamp, ts, sizeof ts);
    if (d->json) {
        struct hvlog_json_writer *w = d->jw;
        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "ts", h->time_stamp);
        hvlog_json_member_string(w, "time", ts);
        hvlog_json_member_string(w, "type", hvlog_trace_group_short(l->group->type));
        hvlog_json_member_u64(w, "lp", l->lp);
        hvlog_json_member_string(w, "event", info ? info->name : name);
        hvlog_json_member_u64(w, "entry_type", h->type);
        hvlog_json_member_u64(w, "context", h->context);
        hvlog_json_key(w, "fields");
        hvlog_json_object_begin(w);
        for (uint32_t i = 0; i < nparams; i++)
            hvlog_json_member_hex(w, names[i], hvlog_load_le64(data + (size_t)8 * i));
        hvlog_json_object_end(w);
        if (data_len > nparams * 8) {
            hvlog_json_key(w, "extra");
            hvlog_json_hex_bytes(w, data + (size_t)nparams * 8, data_len - nparams * 8);
        }
        hvlog_json_object_end(w);
        hvlog_json_writer_close(w);
        d->jw = hvlog_json_writer_create(hvlog_json_sink_file, stdout, 0);
        fputc('\n', stdout);
        return;
    }
    {
        uint64_t delta = d->have_first ? ticks_to_100ns(d, l->group, h->time_stamp - d->prev_time) : 0;
        printf("[%s] (+%" PRIu64 ".%07" PRIu64 ") lp %" PRIu32 " %s: { context = %" PRIu32, ts,
               delta / 10000000u, delta % 10000000u, l->lp, info ? info->name : name, h->context);
        for (uint32_t i = 0; i < nparams; i++)
            printf(", %s = 0x%" PRIx64, names[i], hvlog_load_le64(data + (size_t)8 * i));
        if (data_len > nparams * 8)
            printf(", extra = %" PRIu32 " bytes", data_len - nparams * 8);
        printf(" }\n");
    }
}

/* ---- setup ---- */

static void decoder_close(struct decoder *d)
{
    for (uint32_t i = 0; i < d->lane_count; i++) {
        hvlog_trace_cursor_close(d->lanes[i].cursor);
        free(d->lanes[i].slots);
        free(d->lanes[i].bytes);
    }
    free(d->lanes);
    if (d->jw)
        hvlog_json_writer_close(d->jw);
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
            if (info) {
                d.filter.entry_type = info->entry_type;
            } else if (cli_number("decode", "--event", optarg, 0, 0xFFFF, &v)) {
                d.filter.entry_type = (int32_t)v;
            } else {
                return CLI_EXIT_USAGE;
            }
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
    if (d.json)
        d.jw = hvlog_json_writer_create(hvlog_json_sink_file, stdout, 0);
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
        best->offset += bh.size;
        if (ferror(stdout)) {
            cli_error("decode: writing the output failed");
            status = CLI_EXIT_FAILURE;
            break;
        }
    }
    decoder_close(&d);
    return status;
}

/* ---- stats ---- */

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
    if (decoder_open(&d, "stats", path, false) != 0) {
        cli_error("stats: %s", d.err.message);
        decoder_close(&d);
        return CLI_EXIT_FAILURE;
    }
    /* Read every lane to its end, counting. */
    for (uint32_t i = 0; i < d.lane_count; i++) {
        struct lane *l = &d.lanes[i];
        struct hv_eventlog_entry_header h;
        while (lane_load_next(&d, l)) {
            while (lane_peek(l, &h)) {
                l->entries++;
                l->offset += h.size;
            }
        }
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
        printf("\n%4s %10s %10s %10s %12s %12s\n", "lp", "logged", "recorded", "lost", "no-buffer", "too-large");
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
            hvlog_json_object_end(w);
        } else {
            printf("%4" PRIu32 " %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n",
                   lp->lp, lp->logged, lp->recorded, lp->lost, lp->lost_no_buffer, lp->lost_too_large);
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
