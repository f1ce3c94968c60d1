/* SPDX-License-Identifier: MIT */
/*
 * Reading a trace's entries in time order (issue 12 "one merge"): one
 * stream per (group, LP), each in fill order (hvlog_trace_fill_order), and
 * a k-way merge of the streams on one clock.
 *
 * Bounded whatever the LP count (issue 13, A4): one open file per group
 * (every stream of a group reads it with pread), and per stream a window
 * of its current buffer, not the buffer: the windows share a budget
 * (HVLOG_TRACE_MERGE_BUDGET), each at least 1 KiB and at most 256 KiB,
 * grown only to hold an entry larger than the window (64 KiB at most).
 * The index is 32 bytes per buffer (hvlog_trace_fill_order).
 *
 * Which clock: when every stream's group has one time basis, entries are
 * ordered by their TimeStamp (one clock, whatever its frequency). Groups of
 * several bases are ordered by Unix time when every one is anchored
 * (hvlog/trace/clock.h). Otherwise they cannot be put on one clock: each
 * basis is given whole, one after the other, and an HVLOG_TRACE_ITEM_CLOCK
 * item says where the clock changes. Raw stamps of two bases are never
 * compared (issue 12, bug 3).
 *
 * Nothing is dropped silently (issue 12, bug 4): a buffer that fails when
 * read again after indexing (the file changed, or a read error) is an
 * HVLOG_TRACE_ITEM_DROPPED item with its entries and EventsLost.
 *
 * Threads: one merge is used by one thread at a time.
 */
#ifndef HVLOG_TRACE_MERGE_H
#define HVLOG_TRACE_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/visibility.h"
#include "hvlog/trace/clock.h"
#include "hvlog/trace/common.h"
#include "hvlog/trace/trace.h"
#include "hvlog/trace/walk.h"

HVLOG_BEGIN_DECLS

/* Bytes of windows, all streams together: 8 streams already get the
 * largest window, and 2,048 LPs 1 KiB each (issue 16: decode's memory
 * stays flat whatever the LP count). */
#define HVLOG_TRACE_MERGE_BUDGET (2u << 20)
#define HVLOG_TRACE_MERGE_MAX_HOSTS 64u       /* traces on one timeline */

struct hvlog_trace_merge_options {
    uint32_t types;            /* bit (1 << type) per group; 0 = every group */
    bool skip_corrupt;         /* corrupt buffers in the index pass: report and skip */
    hvlog_export_report_fn report; /* the skipped buffers' lines; may be NULL */
    void *report_arg;
    uint64_t tsc_frequency_hz; /* --tsc-hz; 0 = the trace's */
    size_t budget;             /* window bytes for all streams; 0 = HVLOG_TRACE_MERGE_BUDGET */
};

enum hvlog_trace_item_kind {
    HVLOG_TRACE_ITEM_ENTRY,   /* an entry */
    HVLOG_TRACE_ITEM_LOST,    /* a buffer's EventsLost: given before its first entry, or
                               * when the stream reaches it if it has none */
    HVLOG_TRACE_ITEM_CLOCK,   /* what follows is on another clock than what precedes */
    HVLOG_TRACE_ITEM_DROPPED, /* a buffer that failed when read again: not shown */
};

/* An item. kind, group, clock and lp are always set; the other fields only
 * for the kinds named beside them (the rest keep whatever they held). */
struct hvlog_trace_item {
    enum hvlog_trace_item_kind kind;
    const struct hvlog_trace_group *group;
    const struct hvlog_trace_clock *clock; /* the group's */
    uint32_t host; /* which trace: its index in hvlog_trace_merge_open_hosts (0 for one) */
    uint32_t lp;
    /* ENTRY: the entry; payload valid until the next call. back: its time is
     * earlier than the stream's entry before it (time went back on the LP). */
    struct hvlog_entry entry;
    bool back;
    uint64_t back_from;   /* with back: the LP's time it went back from */
    /* LOST: EventsLost, and the LP's time before the gap (after) and the
     * next entry's, or the last one's for a buffer without entries (before).
     * have_after: the stream had an entry before the gap. */
    uint64_t lost;
    uint64_t after, before;
    bool have_after;
    /* DROPPED: its place in the group file, the entries the index counted,
     * EventsLost in lost, and the reader's one line. */
    uint64_t file_index;
    uint64_t entries;
    const char *message;
};

struct hvlog_trace_merge;

/**
 * hvlog_trace_merge_open - index the groups of @r that @o selects (all
 * with types 0; one asking for a type the trace lacks is an error) and
 * set up one stream per (group, LP). Corrupt input fails here, before any
 * item, unless skip_corrupt. @o may be NULL (defaults).
 */
HVLOG_API enum hvlog_export_status hvlog_trace_merge_open(const struct hvlog_trace_reader *r,
                                                         const struct hvlog_trace_merge_options *o,
                                                         struct hvlog_trace_merge **out,
                                                         struct hvlog_export_error *err);

/**
 * hvlog_trace_merge_next - the next item. HVLOG_EXPORT_OK with @item
 * filled, HVLOG_EXPORT_END after the last.
 */
/**
 * hvlog_trace_merge_open_hosts - several traces (hosts) on one timeline
 * (issue 17): @count readers (1..HVLOG_TRACE_MERGE_MAX_HOSTS), merged as
 * hvlog_trace_merge_open merges one, by Unix time. Each host has its own
 * boot, so every group of every trace must be anchored to the wall clock
 * (reference time, or QPC with its recorded frequency and anchor): a TSC
 * group, or one without an anchor, is refused with HVLOG_EXPORT_UNSUPPORTED
 * and one line naming it. @offset_ns (NULL: none) moves host i's times by
 * offset_ns[i] ns, on the merge order and on every clock an item carries
 * (a host's clock skew, as babeltrace2's --clock-offset-ns). Items carry
 * their host. With @count 1 and no offset this is hvlog_trace_merge_open.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_merge_open_hosts(
    const struct hvlog_trace_reader *const *readers, const int64_t *offset_ns, uint32_t count,
    const struct hvlog_trace_merge_options *o, struct hvlog_trace_merge **out,
    struct hvlog_export_error *err);

HVLOG_API enum hvlog_export_status hvlog_trace_merge_next(struct hvlog_trace_merge *m,
                                                         struct hvlog_trace_item *item,
                                                         struct hvlog_export_error *err);

/** hvlog_trace_merge_streams - how many (group, LP) streams @m merges. */
HVLOG_API uint32_t hvlog_trace_merge_streams(const struct hvlog_trace_merge *m);
/** hvlog_trace_merge_one_clock - true when every item is on one clock. */
HVLOG_API bool hvlog_trace_merge_one_clock(const struct hvlog_trace_merge *m);
/** hvlog_trace_merge_clock - the clock of group @type (NULL if not merged). */
HVLOG_API const struct hvlog_trace_clock *hvlog_trace_merge_clock(const struct hvlog_trace_merge *m,
                                                                 uint32_t type);

HVLOG_API void hvlog_trace_merge_close(struct hvlog_trace_merge *m);

HVLOG_END_DECLS

#endif /* HVLOG_TRACE_MERGE_H */
