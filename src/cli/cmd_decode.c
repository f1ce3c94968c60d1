/* SPDX-License-Identifier: MIT */
/*
 * `hvlog decode`: every entry of a trace, like babeltrace2's pretty output
 * (time, delta, LP, the entry's name from the §4.8 catalogue, Context and
 * fields), or JSON lines.
 *
 * The trace layer does the reading: hvlog_trace_merge gives the entries of
 * every (group, LP) stream in time order on one clock, with bounded memory
 * and one open file per group, and each group's clock converts times
 * (hvlog/trace/clock.h). This file only formats. A buffer with losses is
 * preceded by a line saying how many events were lost, on which LP,
 * between which times; time going back on an LP gets a marker line and a
 * negative delta; a buffer that cannot be read again is reported on stderr
 * with its loss, and makes the exit status 1 unless --skip-corrupt.
 *
 * Speed (issue 6): lines are formatted by hand into a 256 KiB buffer
 * (cli/out.h), JSON through the JSON writer's encoder with each entry
 * type's constant parts escaped once, and the wall-clock "HH:MM:SS" is
 * computed once per second.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/out.h"
#include "hvlog/hvlog.h"
#include "hvlog/trace/catalog.h"
#include "hvlog/trace/json.h"
#include "hvlog/trace/merge.h"

enum time_style { STYLE_LOCAL, STYLE_UTC, STYLE_RELATIVE, STYLE_RAW };

#define UNIT_HZ HVLOG_REFERENCE_HZ /* times and deltas are shown in 100 ns */
#define JSON_SLOTS 1024u

struct filter {
    int64_t lp;          /* -1: all */
    int32_t entry_type;  /* -1: all */
    uint64_t begin, end; /* raw time stamps, inclusive */
};

/* --json: a line's constant parts for one entry type, escaped once:
 * ,"event":"NAME","entry_type":N,"context":   then per parameter
 * "p":"0x (with a leading comma after the first). */
struct json_frag {
    uint32_t key; /* 1 + (log type << 16 | entry type); 0 = empty */
    char *text;
    uint32_t key_at[HVLOG_TRACE_MAX_PARAMS + 1]; /* [0] = length of the head */
};

struct decoder {
    struct hvlog_trace_reader *reader;
    struct hvlog_trace_merge *merge;
    enum time_style style;
    bool json, skip_corrupt;
    struct filter filter;
    bool have_first;
    uint64_t first_time, prev_time;
    const struct hvlog_trace_clock *first_clock, *prev_clock;
    struct out_buffer out;
    struct hvlog_trace_catalog *cat[HVLOG_TRACE_MAX_GROUPS];
    struct json_frag *frags; /* JSON_SLOTS, direct-mapped */
    bool tc_valid;           /* the last second's "HH:MM:SS" */
    time_t tc_secs;
    char tc_hms[16];
    size_t tc_len;
    uint64_t dropped;
    struct hvlog_export_error err;
};

#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static char *put_json_string(char *p, const char *s, size_t n)
{
    *p++ = '"';
    p = hvlog_json_escape(p, s, n);
    *p++ = '"';
    return p;
}

/* ---- time ---- */

/* (@to of @tc) - (@from of @fc) in 100 ns (raw ticks for an unknown
 * frequency); signed. Two clocks of one basis are one clock; two anchored
 * ones meet on the Unix clock; otherwise there is no delta (0). */
static int64_t time_delta(const struct hvlog_trace_clock *fc, uint64_t from,
                          const struct hvlog_trace_clock *tc, uint64_t to)
{
    int64_t a, b;

    if (fc->basis == tc->basis)
        return hvlog_trace_clock_delta(tc, from, to, UNIT_HZ);
    if (hvlog_trace_clock_to_unix(fc, from, UNIT_HZ, &a) && hvlog_trace_clock_to_unix(tc, to, UNIT_HZ, &b))
        return b - a;
    return 0;
}

/* The time column for @ticks of clock @c into @out (48 bytes); its length. */
static size_t format_time(struct decoder *d, const struct hvlog_trace_clock *c, uint64_t ticks, char *out)
{
    int64_t t;
    size_t n;

    if (d->style == STYLE_RAW) {
        n = (size_t)(hvlog_json_put_u64(out, ticks) - out);
    } else if (d->style == STYLE_RELATIVE) {
        n = out_fmt_seconds(out, time_delta(d->first_clock, d->first_time, c, ticks), UNIT_HZ, false);
    } else if (hvlog_trace_clock_to_unix(c, ticks, UNIT_HZ, &t)) {
        time_t secs = (time_t)(t / (int64_t)UNIT_HZ);
        uint64_t frac = (uint64_t)t % UNIT_HZ;

        if (!d->tc_valid || d->tc_secs != secs) {
            struct tm tm;

            if (d->style == STYLE_UTC)
                gmtime_r(&secs, &tm);
            else
                localtime_r(&secs, &tm);
            d->tc_len = strftime(d->tc_hms, sizeof d->tc_hms, "%H:%M:%S", &tm);
            d->tc_secs = secs;
            d->tc_valid = true;
        }
        memcpy(out, d->tc_hms, d->tc_len);
        out[d->tc_len] = '.';
        for (size_t i = 7; i >= 1; i--) {
            out[d->tc_len + i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        n = d->tc_len + 8;
    } else {
        n = (size_t)(hvlog_json_put_u64(out, ticks) - out);
    }
    /* An unknown frequency (TSC without --tsc-hz): raw ticks, labelled. */
    if (!hvlog_trace_clock_has_ns(c) && d->style != STYLE_RAW)
        n = (size_t)(PUT_LIT(out + n, " ticks") - out);
    out[n] = '\0';
    return n;
}

/* ---- printing ---- */

static struct json_frag *json_frag(struct decoder *d, const struct hvlog_trace_class *cls,
                                   uint32_t log_type, uint16_t entry_type, const char *event)
{
    uint32_t key = 1u + ((log_type << 16) | entry_type);
    struct json_frag *f = &d->frags[(entry_type ^ (log_type * 0x9Eu)) % JSON_SLOTS];
    size_t event_len = strnlen(event, 255);
    uint32_t nparams = cls ? cls->param_count : 0;
    char *p;

    if (f->key == key)
        return f;
    free(f->text);
    memset(f, 0, sizeof(*f));
    if (!(p = f->text = malloc(64 + 6 * event_len + (size_t)HVLOG_TRACE_MAX_PARAMS * (6 * 32 + 8))))
        return NULL;
    f->key = key;
    p = PUT_LIT(p, ",\"event\":");
    p = put_json_string(p, event, event_len);
    p = PUT_LIT(p, ",\"entry_type\":");
    p = hvlog_json_put_u64(p, entry_type);
    p = PUT_LIT(p, ",\"context\":");
    f->key_at[0] = (uint32_t)(p - f->text);
    for (uint32_t i = 0; i < nparams; i++) {
        if (i > 0)
            *p++ = ',';
        p = put_json_string(p, cls->params[i], cls->param_len[i]);
        p = PUT_LIT(p, ":\"0x");
        f->key_at[i + 1] = (uint32_t)(p - f->text);
    }
    return f;
}

static void print_lost(struct decoder *d, const struct hvlog_trace_item *it)
{
    const char *group = hvlog_trace_group_short(it->group->type);
    char from[48], to[48];
    size_t from_len, to_len;

    if (d->filter.lp >= 0 && (uint32_t)d->filter.lp != it->lp)
        return;
    if (d->json) { /* {"lost":"local","lp":L,"events":N,"after":T1,"before":T2} */
        char *p = out_reserve(&d->out, 256);

        p = put_json_string(PUT_LIT(p, "{\"lost\":"), group, strlen(group));
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"lp\":"), it->lp);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"events\":"), it->lost);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"after\":"), it->after);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"before\":"), it->before);
        p = PUT_LIT(p, "}\n");
        d->out.len = (size_t)(p - d->out.bytes);
        return;
    }
    from_len = format_time(d, it->clock, it->after, from);
    to_len = format_time(d, it->clock, it->before, to);
    out_str(&d->out, "[lost "); /* "[lost N events on LP L (group) between FROM and TO]" */
    out_u64(&d->out, it->lost);
    out_str(&d->out, " events on LP ");
    out_u64(&d->out, it->lp);
    out_str(&d->out, " (");
    out_str(&d->out, group);
    out_str(&d->out, ") between ");
    out_put(&d->out, from, from_len);
    out_str(&d->out, " and ");
    out_put(&d->out, to, to_len);
    out_str(&d->out, "]\n");
}

/* Time went back on one LP (issue 12, bug 2): said once, before the entry. */
static void print_back(struct decoder *d, const struct hvlog_trace_item *it)
{
    const char *group = hvlog_trace_group_short(it->group->type);
    char *p = out_reserve(&d->out, 256);

    if (d->json) {
        p = put_json_string(PUT_LIT(p, "{\"back\":"), group, strlen(group));
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"lp\":"), it->lp);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"from\":"), it->back_from);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"to\":"), it->entry.time_stamp);
        p = PUT_LIT(p, "}\n");
    } else {
        p = hvlog_json_put_u64(PUT_LIT(p, "[time goes back on LP "), it->lp);
        p = PUT_LIT(p, " (");
        p = PUT_LIT((char *)memcpy(p, group, strlen(group)) + strlen(group), "): raw time ");
        p = hvlog_json_put_u64(p, it->back_from);
        p = hvlog_json_put_u64(PUT_LIT(p, " -> "), it->entry.time_stamp);
        p = PUT_LIT(p, "]\n");
    }
    d->out.len = (size_t)(p - d->out.bytes);
}

static void print_entry(struct decoder *d, const struct hvlog_trace_item *it)
{
    const struct hvlog_entry *e = &it->entry;
    const struct hvlog_trace_class *cls = hvlog_trace_catalog_find(d->cat[e->log_type], e->entry_type);
    uint32_t data_len = e->payload_len, nparams = cls ? cls->param_count : 0;
    const uint8_t *data = e->payload;
    char ts[48], name[24], *p;
    size_t ts_len;

    if (nparams * 8 > data_len)
        nparams = data_len / 8;
    if (!cls)
        snprintf(name, sizeof name, "0x%04" PRIX16, e->entry_type);
    ts_len = format_time(d, it->clock, e->time_stamp, ts);
    if (d->json) {
        /* {"ts":T,"time":"..","type":"local","lp":L,"event":"NAME","entry_type":E,
         *  "context":C,"fields":{"p":"0xV",..}[,"extra":"hex"]} */
        const char *group = hvlog_trace_group_short(e->log_type);
        struct json_frag *f = json_frag(d, cls, e->log_type, e->entry_type, cls ? cls->info->name : name);

        if (!f) {
            d->out.failed = true; /* out of memory: reported as a failed write */
            return;
        }
        p = out_reserve(&d->out, f->key_at[nparams] + (size_t)nparams * 20 + 2 * (size_t)data_len + 256);
        p = hvlog_json_put_u64(PUT_LIT(p, "{\"ts\":"), e->time_stamp);
        p = put_json_string(PUT_LIT(p, ",\"time\":"), ts, ts_len);
        p = put_json_string(PUT_LIT(p, ",\"type\":"), group, strlen(group));
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"lp\":"), it->lp);
        p = (char *)memcpy(p, f->text, f->key_at[0]) + f->key_at[0];
        p = PUT_LIT(hvlog_json_put_u64(p, e->context), ",\"fields\":{");
        for (uint32_t i = 0; i < nparams; i++) {
            p = (char *)memcpy(p, f->text + f->key_at[i], f->key_at[i + 1] - f->key_at[i]) +
                (f->key_at[i + 1] - f->key_at[i]);
            p = hvlog_json_put_hex(p, hvlog_load_le64(data + (size_t)8 * i));
            *p++ = '"';
        }
        *p++ = '}';
        if (data_len > nparams * 8) {
            p = PUT_LIT(p, ",\"extra\":\"");
            p = hvlog_json_put_hex_bytes(p, data + nparams * 8, data_len - nparams * 8);
            *p++ = '"';
        }
        p = PUT_LIT(p, "}\n");
        d->out.len = (size_t)(p - d->out.bytes);
        return;
    }
    {
        /* "[TIME] (+DELTA) lp L NAME: { context = C, p = 0xV, extra = N bytes }" */
        int64_t delta = time_delta(d->prev_clock, d->prev_time, it->clock, e->time_stamp);
        char num[48];

        out_put(&d->out, "[", 1);
        out_put(&d->out, ts, ts_len);
        out_put(&d->out, "] (", 3);
        if (hvlog_trace_clock_has_ns(it->clock)) {
            out_put(&d->out, num, out_fmt_seconds(num, delta, UNIT_HZ, true));
        } else { /* raw ticks, labelled */
            out_put(&d->out, delta < 0 ? "-" : "+", 1);
            out_u64(&d->out, delta < 0 ? 0u - (uint64_t)delta : (uint64_t)delta);
            out_str(&d->out, " ticks");
        }
        out_put(&d->out, ") lp ", 5);
        out_u64(&d->out, it->lp);
        out_put(&d->out, " ", 1);
        out_str(&d->out, cls ? cls->info->name : name);
        out_put(&d->out, ": { context = ", 14);
        out_u64(&d->out, e->context);
        for (uint32_t i = 0; i < nparams; i++) {
            out_put(&d->out, ", ", 2);
            out_put(&d->out, cls->params[i], cls->param_len[i]);
            out_put(&d->out, " = ", 3);
            out_hex(&d->out, hvlog_load_le64(data + (size_t)8 * i));
        }
        if (data_len > nparams * 8) {
            out_put(&d->out, ", extra = ", 10);
            out_u64(&d->out, data_len - nparams * 8);
            out_put(&d->out, " bytes", 6);
        }
        out_put(&d->out, " }\n", 3);
    }
}

static bool wanted(const struct decoder *d, const struct hvlog_trace_item *it)
{
    const struct filter *f = &d->filter;

    if (f->lp >= 0 && (uint32_t)f->lp != it->lp)
        return false;
    if (f->entry_type >= 0 && (uint16_t)f->entry_type != it->entry.entry_type)
        return false;
    return it->entry.time_stamp >= f->begin && it->entry.time_stamp <= f->end;
}

/* One item of the merge. */
static void decode_item(struct decoder *d, const struct hvlog_trace_item *it)
{
    switch (it->kind) {
    case HVLOG_TRACE_ITEM_CLOCK: /* issue 12, bug 3: never one delta across clocks */
        out_str(&d->out, d->json ? "{\"clock\":\"" : "[--- the entries below are on the ");
        out_str(&d->out, it->clock->name);
        out_str(&d->out, d->json ? "\"}\n" : " clock, which cannot be put on the clock above ---]\n");
        d->have_first = false;
        break;
    case HVLOG_TRACE_ITEM_LOST:
        print_lost(d, it);
        break;
    case HVLOG_TRACE_ITEM_DROPPED: /* issue 12, bug 4: reported, with its loss */
        cli_error("decode: %s; %" PRIu64 " entries and %" PRIu64 " lost events of LP %" PRIu32 " not shown",
                  it->message, it->entries, it->lost, it->lp);
        d->dropped++;
        break;
    case HVLOG_TRACE_ITEM_ENTRY:
        if (!d->have_first) {
            d->first_time = d->prev_time = it->entry.time_stamp;
            d->first_clock = d->prev_clock = it->clock;
            d->have_first = true;
        }
        if (!wanted(d, it))
            break;
        if (it->back)
            print_back(d, it);
        print_entry(d, it);
        d->prev_time = it->entry.time_stamp;
        d->prev_clock = it->clock;
        break;
    }
}

static void report_skipped(void *arg, const char *message)
{
    (void)arg;
    cli_error("decode: skipped: %s", message);
}

static int decode_run(struct decoder *d, const char *path, const struct hvlog_trace_merge_options *mo)
{
    struct hvlog_trace_item it;
    enum hvlog_export_status st;

    if (hvlog_trace_open(path, &d->reader, &d->err) != HVLOG_EXPORT_OK ||
        hvlog_trace_merge_open(d->reader, mo, &d->merge, &d->err) != HVLOG_EXPORT_OK)
        return -1;
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        const struct hvlog_trace_clock *c = hvlog_trace_merge_clock(d->merge, t);

        if (c && d->style == STYLE_RELATIVE &&
            hvlog_trace_clock_need_ns(c, "decode --time relative", &d->err) != HVLOG_EXPORT_OK)
            return -1;
        if (c && !(d->cat[t] = malloc(sizeof(*d->cat[t]))))
            return snprintf(d->err.message, sizeof d->err.message, "out of memory"), -1;
        if (c)
            hvlog_trace_catalog_init(d->cat[t], t);
    }
    while ((st = hvlog_trace_merge_next(d->merge, &it, &d->err)) == HVLOG_EXPORT_OK) {
        decode_item(d, &it);
        if (d->out.failed || ferror(stdout))
            return snprintf(d->err.message, sizeof d->err.message, "writing the output failed"), -1;
    }
    return st == HVLOG_EXPORT_END ? 0 : -1;
}

static bool parse_time_style(const char *s, enum time_style *out)
{
    static const char *const names[] = {"local", "utc", "relative", "raw"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i]) == 0)
            return *out = (enum time_style)i, true;
    }
    cli_error("decode: --time takes local, utc, relative or raw, not '%s'", s);
    return false;
}

static bool parse_event(const char *arg, int32_t *out)
{
    const struct hvlog_entry_type_info *info = hvlog_entry_type_find(arg);
    uint64_t v;
    char *end;

    if (info)
        return *out = info->entry_type, true;
    (void)strtoull(arg, &end, 0);
    if (*arg == '\0' || *end != '\0') { /* a name, not a number */
        cli_error("decode: --event '%s' names no entry type, or several ('hvlog abi entries' lists them)", arg);
        return false;
    }
    if (!cli_number("decode", "--event", arg, 0, 0xFFFF, &v))
        return false;
    return *out = (int32_t)v, true;
}

int cli_cmd_decode(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},        {"lp", required_argument, NULL, 'l'},
        {"type", required_argument, NULL, 't'},  {"event", required_argument, NULL, 'e'},
        {"begin", required_argument, NULL, 'b'}, {"end", required_argument, NULL, 'E'},
        {"time", required_argument, NULL, 'T'},  {"skip-corrupt", no_argument, NULL, 'k'},
        {"tsc-hz", required_argument, NULL, 'H'}, {NULL, 0, NULL, 0},
    };
    struct hvlog_trace_merge_options mo = {.report = report_skipped};
    struct decoder d;
    uint64_t v;
    uint32_t type;
    int opt, status = CLI_EXIT_OK;

    memset(&d, 0, sizeof d);
    d.filter = (struct filter){.lp = -1, .entry_type = -1, .begin = 0, .end = UINT64_MAX};
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        bool ok = true;

        switch (opt) {
        case 'j': d.json = true; break;
        case 'k': d.skip_corrupt = mo.skip_corrupt = true; break;
        /* Current-ABI LPs are 16-bit (§11.4). */
        case 'l': ok = cli_number("decode", "--lp", optarg, 0, 65535, &v); d.filter.lp = (int64_t)v; break;
        case 't': ok = cli_log_type("decode", optarg, &type); mo.types |= ok ? 1u << type : 0; break;
        case 'e': ok = parse_event(optarg, &d.filter.entry_type); break;
        case 'b': ok = cli_number("decode", "--begin", optarg, 0, UINT64_MAX, &d.filter.begin); break;
        case 'E': ok = cli_number("decode", "--end", optarg, 0, UINT64_MAX, &d.filter.end); break;
        case 'T': ok = parse_time_style(optarg, &d.style); break;
        case 'H': ok = cli_number("decode", "--tsc-hz", optarg, 1, UINT64_MAX, &mo.tsc_frequency_hz); break;
        default:
            cli_error("decode: unknown or incomplete option '%s' (see 'hvlog help decode')", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (optind + 1 != argc) {
        cli_error("decode: usage: hvlog decode TRACE [options]");
        return CLI_EXIT_USAGE;
    }
    d.out.bytes = malloc(OUT_BUFFER_BYTES);
    d.frags = calloc(JSON_SLOTS, sizeof *d.frags);
    if (!d.out.bytes || !d.frags) {
        snprintf(d.err.message, sizeof d.err.message, "out of memory");
        status = CLI_EXIT_FAILURE;
    } else if (decode_run(&d, argv[optind], &mo) != 0) {
        status = CLI_EXIT_FAILURE;
    }
    if (d.out.bytes)
        out_flush(&d.out);
    if (status == CLI_EXIT_OK && (d.out.failed || fflush(stdout) != 0 || ferror(stdout))) {
        snprintf(d.err.message, sizeof d.err.message, "writing the output failed");
        status = CLI_EXIT_FAILURE;
    }
    if (status != CLI_EXIT_OK)
        cli_error("decode: %s", d.err.message);
    else if (d.dropped && !d.skip_corrupt)
        status = CLI_EXIT_FAILURE; /* each said on stderr: the output lacks them */
    hvlog_trace_merge_close(d.merge);
    hvlog_trace_close(d.reader);
    for (uint32_t i = 0; d.frags && i < JSON_SLOTS; i++)
        free(d.frags[i].text);
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++)
        free(d.cat[t]);
    free(d.frags);
    free(d.out.bytes);
    return status;
}
