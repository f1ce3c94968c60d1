/* SPDX-License-Identifier: MIT */
/*
 * `hvlog top TRACE`: follow a trace directory while `hvlog record` writes
 * it (issue 17, item 3; the source "a trace being written").
 *
 * A recording in format version 2 grows under its final name, whole
 * buffers appended to each group file (docs/trace-format.md section 1),
 * so every sample opens each group's file again (a cursor counts the
 * whole buffers the file holds when it opens) and reads the buffers
 * appended since the last one, each checked by the walker. A torn last
 * buffer is not counted until it is whole. The recorder's lock says
 * whether it still runs (hvlog_trace_dir_state): once it is gone the
 * source is done; a recording that finished has its closing statistics,
 * and with them the ready messages the files alone cannot tell.
 *
 * This is also how top watches a real root (`hvlog record --from
 * /dev/mshv_diag -o TRACE`): it reads what that recording writes rather
 * than opening a second reader of the device, which would take buffers
 * from the recorder. The mshv uapi has no flush, so a real root's data
 * arrives as its buffers fill.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/top.h"
#include "hvlog/hvlog.h"
#include "hvlog/trace/rotate.h"
#include "hvlog/trace/trace.h"

struct top_trace {
    struct hvlog_trace_reader *reader;
    const struct hvlog_trace_meta *meta;
    uint64_t next[HVLOG_TRACE_MAX_GROUPS]; /* per group: the first buffer not yet read */
    bool done;
};

bool top_trace_open(const char *path, struct top_trace **out, char *why, size_t why_len)
{
    struct hvlog_export_error err;
    struct top_trace *t = calloc(1, sizeof(*t));

    *out = NULL;
    if (!t) {
        snprintf(why, why_len, "out of memory");
        return false;
    }
    memset(&err, 0, sizeof err);
    if (hvlog_trace_open(path, &t->reader, &err) != HVLOG_EXPORT_OK) {
        snprintf(why, why_len, "%s", err.message);
        top_trace_close(t);
        return false;
    }
    if (hvlog_trace_reader_rotation(t->reader)) {
        /* The joined reader keeps the chunks it opened with: a live
         * rotation goes on in new chunks and deletes the old ones. */
        snprintf(why, why_len, "%s: a rotated recording; watch its newest chunk ('hvlog info %s' lists them)",
                 path, path);
        top_trace_close(t);
        return false;
    }
    t->meta = hvlog_trace_reader_meta(t->reader);
    *out = t;
    return true;
}

void top_trace_close(struct top_trace *t)
{
    if (!t)
        return;
    hvlog_trace_close(t->reader);
    free(t);
}

/* The buffers of group @gi appended since the last sample, into @s. */
static bool read_group(struct top_trace *t, uint32_t gi, struct top_sample *s, char *why,
                       size_t why_len)
{
    const struct hvlog_trace_group *g = &t->meta->groups[gi];
    struct hvlog_trace_cursor *c = NULL;
    struct hvlog_export_error err;
    uint64_t count;

    memset(&err, 0, sizeof err);
    if (hvlog_trace_cursor_open(t->reader, g->type, &c, &err) != HVLOG_EXPORT_OK) {
        snprintf(why, why_len, "%s", err.message);
        return false;
    }
    count = hvlog_trace_cursor_count(c);
    for (; t->next[gi] < count; t->next[gi]++) {
        struct hvlog_trace_buffer b;
        enum hvlog_export_status st;
        struct top_row *r;

        st = hvlog_trace_cursor_read(c, t->next[gi], &b, NULL, NULL, &err);
        if (st == HVLOG_EXPORT_CORRUPT) {
            s->corrupt++; /* left out, as decode --skip-corrupt does; counted */
            continue;
        }
        if (st != HVLOG_EXPORT_OK) {
            snprintf(why, why_len, "%s", err.message);
            hvlog_trace_cursor_close(c);
            return false;
        }
        r = top_sample_row(s, g->type, b.summary.logical_processor);
        if (!r) {
            snprintf(why, why_len, "out of memory");
            hvlog_trace_cursor_close(c);
            return false;
        }
        r->events += b.summary.entries;
        r->bytes += b.summary.data_end - HV_EVENTLOG_BUFFER_HEADER_SIZE;
        r->buffers++;
        r->lost += b.summary.events_lost;
    }
    hvlog_trace_cursor_close(c);
    return true;
}

/* The closing statistics of the recording that has just finished (the
 * reader holds the opening metadata, read when top started). */
static void read_closing(struct top_trace *t, struct top_sample *s)
{
    struct hvlog_trace_reader *again = NULL;

    if (t->meta->closed) {
        s->messages = t->meta->stats.messages;
        s->known |= TOP_KNOWN_MESSAGES;
        return;
    }
    if (hvlog_trace_open(hvlog_trace_reader_path(t->reader), &again, NULL) == HVLOG_EXPORT_OK &&
        hvlog_trace_reader_meta(again)->closed) {
        s->messages = hvlog_trace_reader_meta(again)->stats.messages;
        s->known |= TOP_KNOWN_MESSAGES;
    }
    hvlog_trace_close(again);
}

bool top_trace_sample(struct top_trace *t, struct top_sample *s, char *why, size_t why_len)
{
    /* The state first: a recorder seen gone has appended its last buffer
     * before it let go of its lock, so the read below gets everything. */
    enum hvlog_trace_state state = hvlog_trace_dir_state(t->reader);

    s->state = hvlog_trace_state_name(state);
    if (t->done) {
        s->at_ns = top_now_ns();
        return true;
    }
    for (uint32_t gi = 0; gi < t->meta->group_count; gi++) {
        if (!read_group(t, gi, s, why, why_len))
            return false;
    }
    s->at_ns = top_now_ns();
    if (state != HVLOG_TRACE_STATE_RECORDING) {
        t->done = true;
        s->done = true;
        if (state == HVLOG_TRACE_STATE_FINISHED)
            read_closing(t, s);
    }
    return true;
}
