/* SPDX-License-Identifier: MIT */
/*
 * `hvlog top`: samples and the block of lines both outputs show. One
 * layout for the terminal (ncurses, cmd_top.c) and the plain-text mode,
 * so the two cannot drift: the terminal draws the same lines.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/top.h"
#include "hvlog/trace/trace.h"

uint64_t top_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool sample_reserve(struct top_sample *s, uint32_t want)
{
    struct top_row *more;
    uint32_t cap;

    if (want <= s->cap)
        return true;
    cap = s->cap ? s->cap * 2 : 16;
    while (cap < want)
        cap *= 2;
    more = realloc(s->rows, (size_t)cap * sizeof(*more));
    if (!more)
        return false;
    s->rows = more;
    s->cap = cap;
    return true;
}

struct top_row *top_sample_row(struct top_sample *s, uint32_t type, uint32_t lp)
{
    uint32_t at = 0;

    /* Sorted by type, then LP; a sample has a few rows per LP at most, and
     * a buffer's stream is looked up once per buffer read. */
    while (at < s->count && (s->rows[at].type < type || (s->rows[at].type == type && s->rows[at].lp < lp)))
        at++;
    if (at < s->count && s->rows[at].type == type && s->rows[at].lp == lp)
        return &s->rows[at];
    if (!sample_reserve(s, s->count + 1))
        return NULL;
    memmove(&s->rows[at + 1], &s->rows[at], (s->count - at) * sizeof(s->rows[0]));
    s->count++;
    memset(&s->rows[at], 0, sizeof s->rows[at]);
    s->rows[at].type = type;
    s->rows[at].lp = lp;
    return &s->rows[at];
}

bool top_sample_copy(struct top_sample *to, const struct top_sample *from)
{
    struct top_row *rows;
    uint32_t cap;

    if (!sample_reserve(to, from->count))
        return false;
    rows = to->rows;
    cap = to->cap;
    *to = *from;
    to->rows = rows;
    to->cap = cap;
    if (from->count)
        memcpy(to->rows, from->rows, from->count * sizeof(from->rows[0]));
    return true;
}

void top_sample_free(struct top_sample *s)
{
    free(s->rows);
    memset(s, 0, sizeof(*s));
}

/* The row of (@type, @lp) in @s, or NULL. */
static const struct top_row *find_row(const struct top_sample *s, uint32_t type, uint32_t lp)
{
    for (uint32_t i = 0; s && i < s->count; i++) {
        if (s->rows[i].type == type && s->rows[i].lp == lp)
            return &s->rows[i];
    }
    return NULL;
}

/* A per-second rate of @now - @then over @dt_ns into @buf: a whole
 * number, or "-" when there is no interval yet. */
static void fmt_rate(char *buf, size_t len, uint64_t now, uint64_t then, uint64_t dt_ns)
{
    if (dt_ns == 0) {
        snprintf(buf, len, "-");
        return;
    }
    snprintf(buf, len, "%.0f", (double)(now - then) * 1e9 / (double)dt_ns);
}

/* Bytes per second with a binary unit (B, KiB, MiB, GiB), one decimal. */
static void fmt_bytes_rate(char *buf, size_t len, uint64_t now, uint64_t then, uint64_t dt_ns)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v;
    unsigned u = 0;

    if (dt_ns == 0) {
        snprintf(buf, len, "-");
        return;
    }
    v = (double)(now - then) * 1e9 / (double)dt_ns;
    while (v >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
        v /= 1024.0;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", v);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
}

#define COLUMNS "%-7s %4s %10s %11s %8s %8s %8s %6s %6s"

static void emit_row(top_line_fn line, void *arg, unsigned known, const char *type, const char *lp,
                     const struct top_row *now, const struct top_row *then, uint64_t dt_ns)
{
    static const struct top_row zero;
    char events[32], bytes[32], lost[32], nobuf[32] = "-", large[32] = "-", ready[16] = "-",
                                                   inuse[16] = "-", text[160];

    if (!then)
        then = &zero; /* a stream that appeared since the last sample */
    fmt_rate(events, sizeof events, now->events, then->events, dt_ns);
    fmt_bytes_rate(bytes, sizeof bytes, now->bytes, then->bytes, dt_ns);
    fmt_rate(lost, sizeof lost, now->lost, then->lost, dt_ns);
    /* What the source cannot know (a trace's files: top.h) stays "-",
     * explained by the legend. */
    if (known & TOP_KNOWN_CAUSES) {
        fmt_rate(nobuf, sizeof nobuf, now->lost_no_buffer, then->lost_no_buffer, dt_ns);
        fmt_rate(large, sizeof large, now->lost_too_large, then->lost_too_large, dt_ns);
    }
    if (known & TOP_KNOWN_STATES) {
        snprintf(ready, sizeof ready, "%" PRIu32, now->ready);
        snprintf(inuse, sizeof inuse, "%" PRIu32, now->inuse);
    }
    snprintf(text, sizeof text, COLUMNS, type, lp, events, bytes, lost, nobuf, large, ready, inuse);
    line(arg, text, false);
}

void top_view_render(const char *name, const struct top_sample *prev, const struct top_sample *cur,
                     uint64_t elapsed_ns, top_line_fn line, void *arg)
{
    struct top_row all, all_prev;
    uint64_t dt_ns = prev && cur->at_ns > prev->at_ns ? cur->at_ns - prev->at_ns : 0;
    char text[256], messages[32];

    memset(&all, 0, sizeof all);
    memset(&all_prev, 0, sizeof all_prev);
    for (uint32_t i = 0; i < cur->count; i++) {
        all.events += cur->rows[i].events;
        all.bytes += cur->rows[i].bytes;
        all.buffers += cur->rows[i].buffers;
        all.lost += cur->rows[i].lost;
        all.lost_no_buffer += cur->rows[i].lost_no_buffer;
        all.lost_too_large += cur->rows[i].lost_too_large;
        all.ready += cur->rows[i].ready;
        all.inuse += cur->rows[i].inuse;
    }
    for (uint32_t i = 0; prev && i < prev->count; i++) {
        all_prev.events += prev->rows[i].events;
        all_prev.bytes += prev->rows[i].bytes;
        all_prev.lost += prev->rows[i].lost;
        all_prev.lost_no_buffer += prev->rows[i].lost_no_buffer;
        all_prev.lost_too_large += prev->rows[i].lost_too_large;
    }
    snprintf(text, sizeof text, "hvlog top - %s - %s - %.1f s", name, cur->state ? cur->state : "?",
             (double)elapsed_ns / 1e9);
    line(arg, text, true);
    if ((cur->known & TOP_KNOWN_MESSAGES) && prev && dt_ns && (prev->known & TOP_KNOWN_MESSAGES))
        snprintf(messages, sizeof messages, "%" PRIu64 " (%.0f/s)", cur->messages,
                 (double)(cur->messages - prev->messages) * 1e9 / (double)dt_ns);
    else if (cur->known & TOP_KNOWN_MESSAGES)
        snprintf(messages, sizeof messages, "%" PRIu64, cur->messages);
    else
        snprintf(messages, sizeof messages, "-");
    snprintf(text, sizeof text,
             "total: %" PRIu64 " events, %" PRIu64 " bytes, %" PRIu64 " buffers, %" PRIu64
             " lost, %" PRIu64 " corrupt; messages %s",
             all.events, all.bytes, all.buffers, all.lost, cur->corrupt, messages);
    line(arg, text, false);
    line(arg, "", false);
    snprintf(text, sizeof text, COLUMNS, "type", "lp", "events/s", "bytes/s", "lost/s", "nobuf/s",
             "large/s", "ready", "inuse");
    line(arg, text, true);
    for (uint32_t i = 0; i < cur->count; i++) {
        const struct top_row *r = &cur->rows[i];
        const char *type = hvlog_trace_group_short(r->type);
        char lp[16];

        snprintf(lp, sizeof lp, "%" PRIu32, r->lp);
        emit_row(line, arg, cur->known, type ? type : "?", lp, r,
                 prev ? find_row(prev, r->type, r->lp) : NULL, dt_ns);
    }
    emit_row(line, arg, cur->known, "all", "-", &all, &all_prev, dt_ns);
    line(arg, "", false);
    if ((cur->known & (TOP_KNOWN_CAUSES | TOP_KNOWN_STATES)) != (TOP_KNOWN_CAUSES | TOP_KNOWN_STATES))
        line(arg, "-: not in the trace files (buffer states, messages until the end, loss by cause)",
             false);
    else
        line(arg, "nobuf/s, large/s: lost for want of a free buffer, or too large; ready, inuse: buffers now",
             false);
}
