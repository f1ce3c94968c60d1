/* SPDX-License-Identifier: MIT */
/*
 * What the CTF and Perfetto exporters share: choosing the groups, indexing
 * each in fill order, reading a buffer of the plan, the time-fault report.
 */
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/trace/index.h"
#include "hvlog/trace/trace.h"

void export_plan_free(struct export_group_plan plans[HVLOG_TYPE_COUNT], uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        hvlog_trace_index_close(&plans[i].index);
        memset(&plans[i], 0, sizeof plans[i]);
    }
}

enum hvlog_export_status export_plan(const struct hvlog_trace_reader *r,
                                     const struct hvlog_export_options *options,
                                     struct export_group_plan plans[HVLOG_TYPE_COUNT], uint32_t *count,
                                     struct hvlog_export_summary *summary,
                                     struct hvlog_export_error *err)
{
    const struct hvlog_trace_meta *meta = hvlog_trace_reader_meta(r);
    uint32_t types = options->types;
    enum hvlog_export_status status = HVLOG_EXPORT_OK;

    *count = 0;
    if (!meta)
        return export_fail(err, HVLOG_EXPORT_INVALID, "no trace to export");
    if (types == 0) {
        for (uint32_t i = 0; i < meta->group_count; i++)
            types |= 1u << meta->groups[i].type;
    }
    for (uint32_t t = 0; t < 32; t++) {
        if ((types & (1u << t)) && !hvlog_trace_meta_group(meta, t))
            return export_fail(err, HVLOG_EXPORT_INVALID, "%s: has no group of log type %u",
                               hvlog_trace_reader_path(r), t);
    }
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS && status == HVLOG_EXPORT_OK; t++) {
        struct export_group_plan *p = &plans[*count];

        if (!(types & (1u << t)))
            continue;
        memset(p, 0, sizeof(*p));
        (*count)++;
        p->options = options;
        /* Headers only (issue 6): the write pass reads every buffer whole
         * anyway, and checks its entries then (export_read_slot). */
        status = hvlog_trace_index_open(r, t, true, options->skip_corrupt, options->report,
                                        options->report_arg, &p->index, err);
        p->group = p->index.group;
        p->cursor = p->index.cursor;
        p->slots = p->index.slots;
        p->slot_count = p->index.count;
        summary->corrupt_skipped += p->index.skipped;
    }
    return status;
}

enum hvlog_export_status export_read_slot(struct export_group_plan *plan,
                                          const struct hvlog_trace_slot *slot,
                                          struct hvlog_trace_buffer *b, hvlog_entry_fn fn, void *arg,
                                          bool *skipped, struct hvlog_export_summary *summary,
                                          struct hvlog_export_error *err)
{
    const struct hvlog_export_options *opt = plan->options;
    struct hvlog_export_error e = {HVLOG_EXPORT_OK, ""};
    enum hvlog_export_status st;

    *skipped = false;
    st = hvlog_trace_index_read(&plan->index, slot, b, fn, arg, &e);
    if (st == HVLOG_EXPORT_OK)
        return HVLOG_EXPORT_OK;
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

enum hvlog_export_status export_time_fail(struct hvlog_export_error *err,
                                          const struct export_group_plan *plan,
                                          const struct hvlog_trace_buffer *b,
                                          const struct export_time_fault *fault,
                                          const char *consequence)
{
    const char *what = fault->kind == EXPORT_TIME_FAULT_IN_BUFFER
                           ? "time goes backwards inside the buffer"
                           : "the buffer starts before the previous one of its LP ends";

    return export_fail(err, HVLOG_EXPORT_TIME,
                       "%s: buffer %llu at byte %llu (%s LP %u, BufferIndex %u): %s: the entry at "
                       "byte %u has time %llu, before %llu; %s",
                       hvlog_trace_cursor_file(plan->cursor), (unsigned long long)b->file_index,
                       (unsigned long long)b->file_offset, hvlog_trace_group_short(plan->group->type),
                       b->summary.logical_processor, b->summary.buffer_index, what,
                       fault->entry_offset, (unsigned long long)fault->time,
                       (unsigned long long)fault->before, consequence);
}
