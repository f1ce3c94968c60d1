/* SPDX-License-Identifier: MIT */
/* The per-LP streams of a group (hvlog/trace/index.h). */
#include <string.h>
#include <stdlib.h>

#include "hvlog/trace/index.h"
#include "trace/trace_internal.h"

enum hvlog_export_status hvlog_trace_index_open(const struct hvlog_trace_reader *r, uint32_t type,
                                               bool headers_only, bool skip_corrupt,
                                               hvlog_export_report_fn report, void *report_arg,
                                               struct hvlog_trace_index *ix,
                                               struct hvlog_export_error *err)
{
    enum hvlog_export_status st;

    memset(ix, 0, sizeof(*ix));
    ix->group = hvlog_trace_meta_group(hvlog_trace_reader_meta(r), type);
    st = hvlog_trace_cursor_open(r, type, &ix->cursor, err);
    if (st != HVLOG_EXPORT_OK)
        return st;
    if (headers_only)
        return hvlog__export_trace_header_order(ix->cursor, skip_corrupt, report, report_arg, &ix->slots,
                                                &ix->count, &ix->skipped, err);
    return hvlog_trace_fill_order(ix->cursor, skip_corrupt, report, report_arg, &ix->slots,
                                  &ix->count, &ix->skipped, err);
}

void hvlog_trace_index_close(struct hvlog_trace_index *ix)
{
    if (!ix)
        return;
    hvlog_trace_cursor_close(ix->cursor);
    free(ix->slots);
    memset(ix, 0, sizeof(*ix));
}

enum hvlog_export_status hvlog_trace_index_read(struct hvlog_trace_index *ix,
                                               const struct hvlog_trace_slot *slot,
                                               struct hvlog_trace_buffer *b, hvlog_entry_fn fn,
                                               void *arg, struct hvlog_export_error *err)
{
    return hvlog__export_trace_read_slot(ix->cursor, slot, b, fn, arg, err);
}
