/* SPDX-License-Identifier: MIT */
/*
 * What the CTF and Perfetto exporters share: choosing the groups, indexing
 * each in fill order, the catalogue as an O(1) table, tick conversion.
 */
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/export/trace.h"

void export_catalog_init(struct export_catalog *cat, uint32_t log_type)
{
    const struct hvlog_entry_type_info *info;

    memset(cat->slot, 0, sizeof cat->slot);
    cat->count = 0;
    for (size_t i = 0; (info = hvlog_entry_type_at(i)) != NULL; i++) {
        struct export_class *c;
        const char *p;

        if (info->log_type != log_type || cat->slot[info->entry_type] ||
            cat->count == sizeof cat->classes / sizeof cat->classes[0])
            continue;
        c = &cat->classes[cat->count++];
        memset(c, 0, sizeof(*c));
        c->info = info;
        /* "rip,msr_index,value": split at commas; "" has no parameters. */
        p = info->params;
        while (*p && c->param_count < EXPORT_MAX_PARAMS) {
            size_t n = strcspn(p, ",");
            size_t keep = n < EXPORT_PARAM_NAME_MAX - 1 ? n : EXPORT_PARAM_NAME_MAX - 1;

            memcpy(c->params[c->param_count], p, keep);
            c->params[c->param_count][keep] = '\0';
            c->param_count++;
            p += n;
            if (*p == ',')
                p++;
        }
        cat->slot[info->entry_type] = (uint8_t)cat->count;
    }
}

void export_plan_free(struct export_group_plan plans[HVLOG_TYPE_COUNT], uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        hvlog_trace_cursor_close(plans[i].cursor);
        free(plans[i].slots);
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
        uint64_t skipped = 0;

        if (!(types & (1u << t)))
            continue;
        memset(p, 0, sizeof(*p));
        p->group = hvlog_trace_meta_group(meta, t);
        (*count)++;
        p->options = options;
        status = hvlog_trace_cursor_open(r, t, &p->cursor, err);
        /* Headers only (issue 6): the write pass reads every buffer whole
         * anyway, and checks its entries then (export_read_slot). */
        if (status == HVLOG_EXPORT_OK)
            status = export_trace_header_order(p->cursor, options->skip_corrupt, options->report,
                                               options->report_arg, &p->slots, &p->slot_count,
                                               &skipped, err);
        summary->corrupt_skipped += skipped;
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
    st = export_trace_read_slot(plan->cursor, slot, b, fn, arg, &e);
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

uint64_t export_ticks_to_ns(uint64_t ticks, uint64_t freq_hz)
{
    const uint64_t ns_per_s = 1000000000u;
    uint64_t whole, part;

    if (freq_hz == 0)
        return ticks;
    /* ticks = whole x freq + rest; both products checked (rest < freq). */
    whole = ticks / freq_hz;
    if (whole > UINT64_MAX / ns_per_s)
        return UINT64_MAX;
    whole *= ns_per_s;
    if (freq_hz <= UINT64_MAX / ns_per_s) {
        part = ticks % freq_hz * ns_per_s / freq_hz;
    } else {
        /* A clock above 18 GHz: scale down first (precision is moot there). */
        part = (uint64_t)((double)(ticks % freq_hz) * ((double)ns_per_s / (double)freq_hz));
    }
    return whole > UINT64_MAX - part ? UINT64_MAX : whole + part;
}
