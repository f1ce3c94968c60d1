/* SPDX-License-Identifier: MIT */
/*
 * The walk both Perfetto exporters share (export_internal.h): the JSON
 * (perfetto.c) and the protobuf (perfetto_proto.c) write the same tracks
 * from the same plan, so the per-track and per-buffer bookkeeping lives
 * here once -- when a track starts, the buffer's loss and start from the
 * window's view, when the loss counter steps and where, time that would
 * go back -- and each exporter keeps only its encoding (export_track_ops).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/trace/clock.h"
#include "hvlog/trace/merge.h" /* HVLOG_TRACE_MERGE_MAX_HOSTS */
#include "hvlog/trace/trace.h"

/* The track's name (descriptors), before the first thing written on it. */
static void track_name(struct export_track_walk *k)
{
    if (k->track_named)
        return;
    k->ops->track_begin(k->arg);
    k->summary->streams++;
    k->track_named = true;
}

static void put_counter(struct export_track_walk *k, uint64_t at)
{
    k->ops->counter(k->arg, at);
    k->counter_due = false;
}

/* The buffer's loss and start as the window keeps them (export_view:
 * known from its first entry on, or after its read when it has none). */
static void buffer_begin(struct export_track_walk *k)
{
    k->events_lost = k->view->events_lost;
    k->header_ts = k->view->header_ts;
    k->lost_total += k->events_lost;
    k->counter_due = k->first_buffer || k->events_lost != 0;
    k->first_buffer = false;
    k->buffer_begun = true;
}

static bool walk_entry(void *arg, const struct hvlog_entry *e)
{
    struct export_track_walk *k = arg;
    bool ok;

    if (!k->buffer_begun)
        buffer_begin(k);
    if (k->track_started && e->time_stamp < k->last_ts) {
        k->fault = (struct export_time_fault){k->entries > 0 ? EXPORT_TIME_FAULT_IN_BUFFER
                                                            : EXPORT_TIME_FAULT_ACROSS_BUFFERS,
                                              e->offset, e->time_stamp, k->last_ts};
        return false;
    }
    track_name(k);
    if (k->counter_due) {
        /* The gap precedes the buffer's first entry (§7.4): place the step
         * at the buffer's start when that is known in the entries' clock. */
        uint64_t at = e->time_stamp;
        if (k->group->time_basis == HvEventLogEntryTimeReference && k->header_ts <= at &&
            k->header_ts >= k->last_ts)
            at = k->header_ts;
        put_counter(k, at);
    }
    ok = k->ops->entry(k->arg, e);
    k->last_ts = e->time_stamp;
    k->track_started = true;
    k->entries++;
    return ok;
}

enum hvlog_export_status hvlog__export_track_walk_group(struct export_track_walk *k,
                                                        struct export_group_plan *plan)
{
    uint64_t i = 0;

    k->group = plan->group;
    while (i < plan->slot_count) {
        k->lp = plan->slots[i].lp;
        k->lost_total = 0;
        k->last_ts = 0;
        k->track_started = false;
        k->track_named = false;
        k->first_buffer = true;
        for (uint64_t end = hvlog_trace_index_run_end(&plan->index, i); i < end; i++) {
            struct hvlog_trace_buffer b;
            enum hvlog_export_status st;
            bool skipped;
            int error = 0;

            k->view = &plan->view;
            k->buffer_begun = false;
            k->counter_due = false;
            k->entries = 0;
            k->fault.kind = EXPORT_TIME_FAULT_NONE;
            st = hvlog__export_read_slot(plan, &plan->slots[i], &b, walk_entry, k, &skipped, k->summary,
                                         k->err);
            if (st != HVLOG_EXPORT_OK)
                return st;
            if (skipped)
                continue; /* corrupt (reported, counted) or outside the window: the walk
                           * checks every entry first, so nothing of it was begun */
            if (k->fault.kind != EXPORT_TIME_FAULT_NONE)
                return hvlog__export_time_fail(k->err, plan, &b, &k->fault,
                                               "the Perfetto track would go back in time");
            if (!k->ops->write_ok(k->arg, &error))
                return hvlog__export_fail(k->err, HVLOG_EXPORT_IO, "%s: write failed: %s", k->out_path,
                                          strerror(error));
            if (!k->buffer_begun)
                buffer_begin(k); /* no entry (in the window): its gap is */
            if (k->counter_due) { /* an empty buffer: the step goes at the track's time */
                track_name(k);
                if (k->group->time_basis == HvEventLogEntryTimeReference &&
                    k->header_ts > k->last_ts)
                    k->last_ts = k->header_ts; /* later entries must not precede it */
                put_counter(k, k->last_ts);
                k->track_started = true;
            }
            k->summary->buffers++;
            k->summary->events += k->entries;
            k->summary->events_lost += k->events_lost;
            k->summary->bytes_in += b.len;
        }
    }
    return HVLOG_EXPORT_OK;
}

void hvlog__export_perfetto_clock(const struct export_perfetto_timeline *tl,
                           const struct export_perfetto_host *h, const struct hvlog_trace_group *g,
                           uint64_t tsc_hz, struct hvlog_trace_clock *c, uint64_t *shift_ns)
{
    hvlog_trace_clock_init(c, hvlog_trace_reader_meta(h->reader), g, tsc_hz);
    *shift_ns = 0;
    if (!tl->hosts)
        return;
    hvlog_trace_clock_shift(c, h->offset_ns);
    /* unix_off_ns >= origin_unix_ns: the origin is their minimum. */
    *shift_ns = (uint64_t)(c->unix_off_ns - tl->origin_unix_ns);
}

/* Several hosts: every group anchored, and the timeline's origin, the
 * earliest hypervisor start on the Unix clock (no entry precedes its own
 * host's tick 0, so no time on the timeline is negative). */
static enum hvlog_export_status hosts_timeline(struct export_perfetto_host *hosts, uint32_t count,
                                               const struct hvlog_export_options *opt,
                                               struct export_perfetto_timeline *tl,
                                               struct hvlog_export_error *err)
{
    bool first = true;

    tl->hosts = true;
    for (uint32_t h = 0; h < count; h++) {
        for (uint32_t i = 0; i < hosts[h].count; i++) {
            struct hvlog_trace_clock c;

            hvlog_trace_clock_init(&c, hvlog_trace_reader_meta(hosts[h].reader),
                                   hosts[h].plans[i].group, opt->tsc_frequency_hz);
            hvlog_trace_clock_shift(&c, hosts[h].offset_ns);
            if (c.unix_off_ns < 0)
                return hvlog__export_fail(err, HVLOG_EXPORT_UNSUPPORTED,
                                   "%s: its %s group's clock starts before 1970 on the Unix clock "
                                   "(--clock-offset too far back?)",
                                   hvlog_trace_reader_path(hosts[h].reader),
                                   hvlog_trace_group_short(hosts[h].plans[i].group->type));
            if (first || c.unix_off_ns < tl->origin_unix_ns)
                tl->origin_unix_ns = c.unix_off_ns;
            first = false;
        }
    }
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog__export_perfetto_run(const struct hvlog_export_host *in, uint32_t count,
                                             const char *out_file,
                                             const struct hvlog_export_options *options,
                                             struct hvlog_export_summary *summary,
                                             struct hvlog_export_error *err,
                                             export_perfetto_body_fn body, void *arg)
{
    static const struct hvlog_export_options defaults;
    const struct hvlog_export_options *opt = options ? options : &defaults;
    struct export_perfetto_timeline tl = {false, 0};
    struct export_perfetto_host *hosts;
    struct hvlog_export_summary local_summary;
    enum hvlog_export_status st = HVLOG_EXPORT_OK;
    uint32_t planned = 0;

    if (!in || !out_file || count == 0 || count > HVLOG_TRACE_MERGE_MAX_HOSTS)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no trace or no output file");
    for (uint32_t h = 0; h < count; h++) {
        if (!in[h].reader)
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no trace or no output file");
    }
    if (count == 1 && in[0].clock_offset_ns)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "a clock offset applies to one of several traces only");
    for (uint32_t h = 0; h < count && count > 1; h++) {
        st = hvlog_trace_need_wall_clock(in[h].reader, opt->types, opt->tsc_frequency_hz, err);
        if (st != HVLOG_EXPORT_OK)
            return st;
    }
    hosts = calloc(count, sizeof *hosts);
    if (!hosts)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    memset(&local_summary, 0, sizeof local_summary);
    for (; planned < count && st == HVLOG_EXPORT_OK; planned++) {
        struct export_perfetto_host *h = &hosts[planned];

        h->reader = in[planned].reader;
        h->offset_ns = in[planned].clock_offset_ns;
        if (count > 1)
            h->name = in[planned].name ? in[planned].name : hvlog_trace_reader_path(h->reader);
        st = hvlog__export_plan(h->reader, opt, h->plans, &h->count, &local_summary, err);
        for (uint32_t i = 0; i < h->count && st == HVLOG_EXPORT_OK; i++) {
            struct hvlog_trace_clock c;
            char what[64];

            hvlog_trace_clock_init(&c, hvlog_trace_reader_meta(h->reader), h->plans[i].group,
                                   opt->tsc_frequency_hz);
            snprintf(what, sizeof what, "the Perfetto export of group %s",
                     hvlog_trace_group_short(h->plans[i].group->type));
            st = hvlog_trace_clock_need_ns(&c, what, err);
        }
    }
    if (st == HVLOG_EXPORT_OK && count > 1)
        st = hosts_timeline(hosts, count, opt, &tl, err);
    if (st == HVLOG_EXPORT_OK)
        st = body(arg, opt, &tl, hosts, count, &local_summary);
    for (uint32_t h = 0; h < planned; h++)
        hvlog__export_plan_free(hosts[h].plans, hosts[h].count);
    free(hosts);
    if (summary)
        *summary = local_summary;
    return st;
}
