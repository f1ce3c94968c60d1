/* SPDX-License-Identifier: MIT */
/*
 * What the CTF and Perfetto exporters share: choosing the groups, indexing
 * each in fill order, reading a buffer of the plan, the time-fault report.
 */
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/trace/index.h"
#include "hvlog/trace/trace.h"

void hvlog__export_plan_free(struct export_group_plan plans[HVLOG_TYPE_COUNT], uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        hvlog_trace_index_close(&plans[i].index);
        memset(&plans[i], 0, sizeof plans[i]);
    }
}

/* --lp (issue 18): the slots of one LP, in place. The slots are sorted by
 * LP, so this is one run; the index reads a slot by its file position, so
 * dropping the others changes nothing else. */
static void keep_lp(struct hvlog_trace_index *ix, uint32_t lp)
{
    uint64_t n = 0;

    for (uint64_t i = 0; i < ix->count; i++) {
        if (ix->slots[i].lp == lp)
            ix->slots[n++] = ix->slots[i];
    }
    ix->count = n;
}

enum hvlog_export_status hvlog__export_plan(const struct hvlog_trace_reader *r,
                                            const struct hvlog_export_options *options,
                                            struct export_group_plan plans[HVLOG_TYPE_COUNT], uint32_t *count,
                                            struct hvlog_export_summary *summary,
                                            struct hvlog_export_error *err)
{
    const struct hvlog_trace_meta *meta = hvlog_trace_reader_meta(r);
    uint32_t types = options->types;
    enum hvlog_export_status status = HVLOG_EXPORT_OK;
    uint64_t lp_slots = 0;

    *count = 0;
    if (!meta)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no trace to export");
    if (types == 0) {
        for (uint32_t i = 0; i < meta->group_count; i++)
            types |= 1u << meta->groups[i].type;
    }
    for (uint32_t t = 0; t < 32; t++) {
        if ((types & (1u << t)) && !hvlog_trace_meta_group(meta, t))
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: has no group of log type %u",
                                      hvlog_trace_reader_path(r), t);
    }
    if (options->window && options->begin > options->end)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "the window begins at %llu, after its end %llu",
                                  (unsigned long long)options->begin, (unsigned long long)options->end);
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS && status == HVLOG_EXPORT_OK; t++) {
        struct export_group_plan *p = &plans[*count];

        if (!(types & (1u << t)))
            continue;
        memset(p, 0, sizeof(*p));
        (*count)++;
        p->options = options;
        /* Headers only (issue 6): the write pass reads every buffer whole
         * anyway, and checks its entries then (hvlog__export_read_slot). */
        status = hvlog_trace_index_open(r, t, true, options->skip_corrupt, options->report,
                                        options->report_arg, &p->index, err);
        if (status == HVLOG_EXPORT_OK && options->lp_only)
            keep_lp(&p->index, options->lp);
        p->group = p->index.group;
        p->cursor = p->index.cursor;
        p->slots = p->index.slots;
        p->slot_count = p->index.count;
        summary->corrupt_skipped += p->index.skipped;
        lp_slots += p->slot_count;
    }
    if (status == HVLOG_EXPORT_OK && options->lp_only && lp_slots == 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: no buffer of LP %u in the log types exported",
                                  hvlog_trace_reader_path(r), options->lp);
    return status;
}

/*
 * The window (issue 18). EventsLost counts the events lost before the
 * buffer's first entry (spec §7.4): the gap between the LP's previous
 * buffer and this one. Its end, the buffer's first entry, places it: in
 * the window, the loss is the window's (counted whole: the header cannot
 * say when within the gap each event was lost); outside, it is counted
 * in events_lost_outside.
 */
static void view_decide(struct export_group_plan *plan, uint64_t gap_end)
{
    const struct hvlog_export_options *o = plan->options;
    const struct hvlog_trace_slot *slot = plan->reading;
    bool inside = !o->window || (gap_end >= o->begin && gap_end <= o->end);

    plan->view.gap_inside = inside;
    plan->view.events_lost = inside ? slot->events_lost : 0;
    plan->view.header_ts = slot->time_stamp;
    if (o->window && plan->view.header_ts < o->begin)
        plan->view.header_ts = o->begin; /* nothing of the window starts before it */
    plan->view.decided = true;
}

struct window_walk {
    struct export_group_plan *plan;
    hvlog_entry_fn fn;
    void *arg;
};

/* Between the index's walk and the exporter's callback: decides the view
 * at the buffer's first entry, and hands on the entries in the window. */
static bool window_entry(void *arg, const struct hvlog_entry *e)
{
    struct window_walk *ww = arg;
    struct export_group_plan *plan = ww->plan;
    const struct hvlog_export_options *o = plan->options;

    if (!plan->view.decided)
        view_decide(plan, e->time_stamp);
    plan->last_ts = e->time_stamp;
    plan->last_valid = true;
    if (o->window && (e->time_stamp < o->begin || e->time_stamp > o->end))
        return true;
    plan->view.entries++;
    return ww->fn ? ww->fn(ww->arg, e) : true;
}

enum hvlog_export_status hvlog__export_read_slot(struct export_group_plan *plan,
                                                 const struct hvlog_trace_slot *slot,
                                                 struct hvlog_trace_buffer *b, hvlog_entry_fn fn, void *arg,
                                                 bool *skipped, struct hvlog_export_summary *summary,
                                                 struct hvlog_export_error *err)
{
    const struct hvlog_export_options *opt = plan->options;
    struct hvlog_export_error e = {HVLOG_EXPORT_OK, ""};
    struct window_walk ww = {plan, fn, arg};
    enum hvlog_export_status st;

    *skipped = false;
    if (!plan->last_valid || plan->last_lp != slot->lp) {
        plan->last_lp = slot->lp;
        plan->last_valid = false;
        plan->last_ts = 0;
    }
    memset(&plan->view, 0, sizeof plan->view);
    plan->reading = slot;
    /* No window: the view is the whole buffer, known before its entries,
     * and the exporter's callback is called directly (the interposer costs
     * ~20 Ir an entry). */
    if (!opt->window)
        view_decide(plan, slot->time_stamp);
    st = opt->window ? hvlog_trace_index_read(&plan->index, slot, b, window_entry, &ww, &e)
                     : hvlog_trace_index_read(&plan->index, slot, b, fn, arg, &e);
    if (st == HVLOG_EXPORT_OK) {
        uint64_t gap_end = plan->last_ts; /* an empty buffer: the LP's previous entry, */

        if (plan->group->time_basis == HvEventLogEntryTimeReference)
            gap_end = slot->time_stamp; /* or its header's time, in the entries' clock */
        if (!plan->view.decided)
            view_decide(plan, gap_end);
        summary->events_lost_outside += slot->events_lost - plan->view.events_lost;
        b->summary.events_lost = plan->view.events_lost;
        b->summary.time_stamp = plan->view.header_ts;
        /* Nothing of it in the window, neither an entry nor its gap: left
         * out as if never indexed (no packet, no counter sample). */
        if (opt->window && plan->view.entries == 0 && !plan->view.gap_inside)
            *skipped = true;
        return HVLOG_EXPORT_OK;
    }
    if (opt->skip_corrupt && (st == HVLOG_EXPORT_CORRUPT || st == HVLOG_EXPORT_TRUNCATED)) {
        *skipped = true;
        summary->corrupt_skipped++;
        if (opt->report)
            opt->report(opt->report_arg, e.message);
        return HVLOG_EXPORT_OK;
    }
    if (err)
        *err = e;
    return st;
}

enum hvlog_export_status hvlog__export_time_fail(struct hvlog_export_error *err,
                                                 const struct export_group_plan *plan,
                                                 const struct hvlog_trace_buffer *b,
                                                 const struct export_time_fault *fault,
                                                 const char *consequence)
{
    const char *what = fault->kind == EXPORT_TIME_FAULT_IN_BUFFER
                           ? "time goes backwards inside the buffer"
                           : "the buffer starts before the previous one of its LP ends";

    return hvlog__export_fail(err, HVLOG_EXPORT_TIME,
                              "%s: buffer %llu at byte %llu (%s LP %u, BufferIndex %u): %s: the entry at "
                              "byte %u has time %llu, before %llu; %s",
                              hvlog_trace_cursor_file(plan->cursor), (unsigned long long)b->file_index,
                              (unsigned long long)b->file_offset, hvlog_trace_group_short(plan->group->type),
                              b->summary.logical_processor, b->summary.buffer_index, what,
                              fault->entry_offset, (unsigned long long)fault->time,
                              (unsigned long long)fault->before, consequence);
}
