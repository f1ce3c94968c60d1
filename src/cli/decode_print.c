/* SPDX-License-Identifier: MIT */
/*
 * `hvlog decode`'s formatting (cli/decode.h): the time column, text lines
 * and JSON lines, formatted by hand into the output buffer (cli/out.h),
 * JSON through the JSON writer's encoder (hvlog/trace/json.h) with each
 * entry type's constant parts escaped once, and the wall-clock "HH:MM:SS"
 * computed once per second. Times come from the group's clock
 * (hvlog/trace/clock.h), never from arithmetic of its own.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/decode.h"
#include "hvlog/hvlog.h"
#include "hvlog/trace/json.h"

#define PUT_LIT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static char *put_json_string(char *p, const char *s, size_t n)
{
    *p++ = '"';
    p = hvlog_json_escape(p, s, n);
    *p++ = '"';
    return p;
}

/* ---- hosts: a column only when several traces are merged ---- */

/* @s's bytes at @p (no NUL); the end. */
static char *put_str(char *p, const char *s)
{
    while (*s)
        *p++ = *s++;
    return p;
}

/* ,"host":"NAME" (the name was made safe for JSON when the trace was opened). */
static char *put_host_json(const struct decoder *d, char *p, uint32_t host)
{
    if (d->hosts.count < 2)
        return p;
    return put_str(PUT_LIT(p, ",\"host\":"), d->hosts.json[host]);
}

/* "NAME " before the LP in a text line. */
static void put_host_text(struct decoder *d, uint32_t host)
{
    if (d->hosts.count < 2)
        return;
    out_str(&d->out, d->hosts.name[host]);
    out_put(&d->out, " ", 1);
}

/* ---- time ---- */

/* (@to of @tc) - (@from of @fc) in 100 ns (raw ticks for an unknown
 * frequency); signed. Two clocks of one basis and anchor are one clock;
 * two anchored ones meet on the Unix clock; otherwise there is no delta (0). */
static int64_t time_delta(const struct hvlog_trace_clock *fc, uint64_t from,
                          const struct hvlog_trace_clock *tc, uint64_t to)
{
    int64_t a, b;

    /* One basis on one anchor (one trace) is one clock; two hosts' clocks
     * of a basis are not (each its own boot): they meet on the Unix clock. */
    if (fc->basis == tc->basis &&
        (!fc->anchored || !tc->anchored || fc->unix_off_100ns == tc->unix_off_100ns))
        return hvlog_trace_clock_delta(tc, from, to, UNIT_HZ);
    if (hvlog_trace_clock_to_unix_inline(fc, from, UNIT_HZ, &a) && hvlog_trace_clock_to_unix_inline(tc, to, UNIT_HZ, &b))
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
    } else if (hvlog_trace_clock_to_unix_inline(c, ticks, UNIT_HZ, &t)) {
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
    uint32_t nparams = cls ? cls->param_count : 0;
    size_t event_len;
    char *p;

    if (f->key == key)
        return f;
    event_len = strnlen(event, 255);
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

void decode_print_lost(struct decoder *d, const struct hvlog_trace_item *it)
{
    const char *group = hvlog_trace_group_short(it->group->type);
    char from[48], to[48];
    size_t from_len, to_len;

    if (d->filter.lp >= 0 && (uint32_t)d->filter.lp != it->lp)
        return;
    /* A window keeps a gap that ends inside it, as the exports do
     * (hvlog_export_options, issue 18): its end is the entry after it. */
    if (it->before < d->filter.begin || it->before > d->filter.end)
        return;
    if (d->json) { /* {"lost":"local","lp":L,"events":N,"after":T1,"before":T2} */
        char *p = out_reserve(&d->out, 256 + CLI_HOST_NAME_MAX + 16);

        p = put_json_string(PUT_LIT(p, "{\"lost\":"), group, strlen(group));
        p = put_host_json(d, p, it->host);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"lp\":"), it->lp);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"events\":"), it->lost);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"after\":"), it->after);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"before\":"), it->before);
        p = PUT_LIT(p, "}\n");
        d->out.len = (size_t)(p - d->out.bytes);
        return;
    }
    if (!d->have_first) {
        /* A loss before any entry (buffers that hold only lost events, or
         * the first after a clock change) has no first entry to be
         * relative to: it is its own origin until the first entry sets
         * one (fuzz_decode found `--time relative` reading a NULL clock). */
        d->first_time = it->have_after ? it->after : it->before;
        d->first_clock = it->clock;
    }
    from_len = format_time(d, it->clock, it->after, from);
    to_len = format_time(d, it->clock, it->before, to);
    out_str(&d->out, "[lost "); /* "[lost N events on LP L (group) between FROM and TO]" */
    out_u64(&d->out, it->lost);
    out_str(&d->out, " events on ");
    put_host_text(d, it->host);
    out_str(&d->out, "LP ");
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
void decode_print_back(struct decoder *d, const struct hvlog_trace_item *it)
{
    const char *group = hvlog_trace_group_short(it->group->type);
    char *p = out_reserve(&d->out, 256 + CLI_HOST_NAME_MAX + 16);

    if (d->json) {
        p = put_json_string(PUT_LIT(p, "{\"back\":"), group, strlen(group));
        p = put_host_json(d, p, it->host);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"lp\":"), it->lp);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"from\":"), it->back_from);
        p = hvlog_json_put_u64(PUT_LIT(p, ",\"to\":"), it->entry.time_stamp);
        p = PUT_LIT(p, "}\n");
    } else {
        p = PUT_LIT(p, "[time goes back on ");
        if (d->hosts.count > 1)
            p = PUT_LIT(put_str(p, d->hosts.name[it->host]), " ");
        p = hvlog_json_put_u64(PUT_LIT(p, "LP "), it->lp);
        p = PUT_LIT(p, " (");
        p = PUT_LIT((char *)memcpy(p, group, strlen(group)) + strlen(group), "): raw time ");
        p = hvlog_json_put_u64(p, it->back_from);
        p = hvlog_json_put_u64(PUT_LIT(p, " -> "), it->entry.time_stamp);
        p = PUT_LIT(p, "]\n");
    }
    d->out.len = (size_t)(p - d->out.bytes);
}

void decode_print_entry(struct decoder *d, const struct hvlog_trace_item *it)
{
    const struct hvlog_entry *e = &it->entry;
    const struct hvlog_trace_class *cls = hvlog_trace_catalog_find(d->cat[e->log_type], e->entry_type);
    uint32_t data_len = e->payload_len, nparams = cls ? cls->param_count : 0;
    const uint8_t *data = e->payload;
    char ts[48], name[24];
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
        char *p;

        if (!f) {
            d->out.failed = true; /* out of memory: reported as a failed write */
            return;
        }
        p = out_reserve(&d->out, f->key_at[nparams] + (size_t)nparams * 20 + 2 * (size_t)data_len +
                                     256 + CLI_HOST_NAME_MAX + 16);
        p = hvlog_json_put_u64(PUT_LIT(p, "{\"ts\":"), e->time_stamp);
        p = put_json_string(PUT_LIT(p, ",\"time\":"), ts, ts_len);
        p = PUT_LIT(p, ",\"type\":\"");
        for (const char *g = group; *g;) /* a fixed short name: no escape, no strlen */
            *p++ = *g++;
        *p++ = '"';
        p = put_host_json(d, p, it->host);
        if (d->records) /* a diaglog record names no LP */
            p = PUT_LIT(p, ",\"record\":true");
        else
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
            p = hvlog_json_put_hex_bytes(p, data + (size_t)nparams * 8, data_len - nparams * 8);
            *p++ = '"';
        }
        p = PUT_LIT(p, "}\n");
        d->out.len = (size_t)(p - d->out.bytes);
        return;
    }
    {
        /* "[TIME] (+DELTA) lp L NAME: { context = C, p = 0xV, extra = N bytes }" */
        int64_t delta = time_delta(d->prev_clock, d->prev_time, it->clock, e->time_stamp);

        out_put(&d->out, "[", 1);
        out_put(&d->out, ts, ts_len);
        out_put(&d->out, "] (", 3);
        if (hvlog_trace_clock_has_ns(it->clock)) {
            char num[48];
            out_put(&d->out, num, out_fmt_seconds(num, delta, UNIT_HZ, true));
        } else { /* raw ticks, labelled */
            out_put(&d->out, delta < 0 ? "-" : "+", 1);
            out_u64(&d->out, delta < 0 ? 0u - (uint64_t)delta : (uint64_t)delta);
            out_str(&d->out, " ticks");
        }
        out_put(&d->out, ") ", 2);
        put_host_text(d, it->host);
        if (d->records) {
            out_put(&d->out, "record", 6);
        } else {
            out_put(&d->out, "lp ", 3);
            out_u64(&d->out, it->lp);
        }
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

