/* SPDX-License-Identifier: MIT */
/*
 * The per-LP streams of one group (issue 12): its buffers in fill order,
 * each LP's buffers one run, over the group's one open file. Every reader
 * walks a trace through it: the merge (hvlog/trace/merge.h) entry by
 * entry, the CTF and Perfetto exports buffer by buffer.
 *
 * Two depths. HEADERS reads each buffer's 72-byte header only (the
 * exporters' index since ab16070): the order and a packet's context need
 * no more, and the buffer is checked whole when it is read. WHOLE reads
 * and walks every buffer while indexing, so corrupt input fails before the
 * first entry is shown (decode). Memory: 32 bytes per buffer that passes.
 */
#ifndef HVLOG_TRACE_INDEX_H
#define HVLOG_TRACE_INDEX_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlog/trace/common.h"
#include "hvlog/trace/trace.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

struct hvlog_trace_index {
    const struct hvlog_trace_group *group;
    struct hvlog_trace_cursor *cursor; /* the group's file, open while the index is */
    struct hvlog_trace_slot *slots;    /* by LP, then header TimeStamp, then file position */
    uint64_t count;
    uint64_t skipped;                  /* corrupt buffers left out (skip_corrupt) */
};

/**
 * hvlog_trace_index_open - index group @type of @r (@headers_only: the
 * HEADERS depth, else WHOLE). Corrupt or truncated input fails unless
 * @skip_corrupt, which reports each problem through @report (may be NULL)
 * and counts it in skipped. hvlog_trace_index_close() in every case.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_index_open(const struct hvlog_trace_reader *r,
                                                         uint32_t type, bool headers_only,
                                                         bool skip_corrupt,
                                                         hvlog_export_report_fn report,
                                                         void *report_arg,
                                                         struct hvlog_trace_index *ix,
                                                         struct hvlog_export_error *err);
HVLOG_API void hvlog_trace_index_close(struct hvlog_trace_index *ix);

/** hvlog_trace_index_run_end - the end of the LP run that starts at slot @i. */
static inline uint64_t hvlog_trace_index_run_end(const struct hvlog_trace_index *ix, uint64_t i)
{
    uint64_t j = i;

    while (j < ix->count && ix->slots[j].lp == ix->slots[i].lp)
        j++;
    return j;
}

/**
 * hvlog_trace_index_read - buffer @slot read whole and checked (every
 * entry, and a header still saying what the index saw: else the file
 * changed, HVLOG_EXPORT_CORRUPT), its entries to @fn (may be NULL).
 */
HVLOG_API enum hvlog_export_status hvlog_trace_index_read(struct hvlog_trace_index *ix,
                                                         const struct hvlog_trace_slot *slot,
                                                         struct hvlog_trace_buffer *b,
                                                         hvlog_entry_fn fn, void *arg,
                                                         struct hvlog_export_error *err);

HVLOG_END_DECLS

#endif /* HVLOG_TRACE_INDEX_H */
