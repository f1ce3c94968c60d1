/* SPDX-License-Identifier: MIT */
/*
 * What the exporters share (plan.c): the
 * groups to export in fill order, the time-going-back report. The file I/O
 * helpers and the header-only index are the trace layer's
 * (trace/trace_internal.h). Prototypes and small types only.
 */
#ifndef HVLOG_EXPORT_INTERNAL_H
#define HVLOG_EXPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/export/common.h"
#include "hvlog/trace/clock.h"
#include "hvlog/trace/catalog.h"
#include "hvlog/trace/index.h"
#include "hvlog/trace/walk.h" /* hvlog_entry_fn */
#include "trace/trace_internal.h"

/* ---- what the exporters share (plan.c) ---- */

struct hvlog_trace_reader;
struct hvlog_trace_group;
struct hvlog_trace_cursor;
struct hvlog_trace_slot;
struct hvlog_trace_buffer;
struct hvlog_entry_type_info;

/*
 * The buffer hvlog__export_read_slot is reading, as the options' window sees it
 * (hvlog_export_options: window, lp). Valid from the first entry handed
 * to the caller's callback, and after the read returns.
 */
struct export_view {
    uint32_t events_lost; /* the buffer's EventsLost if its gap ends in the window, else 0 */
    uint64_t header_ts;   /* its header TimeStamp, raised to the window's begin */
    uint64_t entries;     /* entries handed on (those in the window) */
    bool gap_inside;      /* the gap before the buffer ends in the window */
    bool decided;         /* events_lost and header_ts are set */
};

/* A group ready to export: its cursor and its buffers in fill order (every
 * buffer whose header passed; the entries are checked as each is read). */
struct export_group_plan {
    struct hvlog_trace_index index;     /* the group's per-LP streams (headers only) */
    /* The index's, by their old names. */
    const struct hvlog_trace_group *group;
    struct hvlog_trace_cursor *cursor;
    struct hvlog_trace_slot *slots;
    uint64_t slot_count;
    const struct hvlog_export_options *options; /* the export's: skip_corrupt, report, window */
    struct export_view view;   /* the buffer being read (hvlog__export_read_slot) */
    /* The window's walk state: the slot being read and its LP's last entry. */
    const struct hvlog_trace_slot *reading;
    uint32_t last_lp;
    uint64_t last_ts;
    bool last_valid;
};

/**
 * hvlog__export_plan - the groups of @r that @options select (all when types is
 * 0; asking for a type the trace lacks is an error), each opened and
 * indexed in fill order from the buffer headers (hvlog__export_trace_header_order),
 * less the buffers of other LPs when options->lp_only (an LP no selected
 * group has is an error, as a type is).
 * Buffers whose header is corrupt fail unless skip_corrupt (then reported
 * and counted in summary->corrupt_skipped); a buffer whose entries are bad
 * is found by hvlog__export_read_slot. @options must outlive the plans. Returns
 * the number of plans in *@count; hvlog__export_plan_free() in every case.
 */
enum hvlog_export_status hvlog__export_plan(const struct hvlog_trace_reader *r,
                                            const struct hvlog_export_options *options,
                                            struct export_group_plan plans[HVLOG_TYPE_COUNT], uint32_t *count,
                                            struct hvlog_export_summary *summary,
                                            struct hvlog_export_error *err);
void hvlog__export_plan_free(struct export_group_plan plans[HVLOG_TYPE_COUNT], uint32_t count);

/**
 * hvlog__export_read_slot - the write pass's read of buffer @slot of @plan: read
 * whole and checked (every entry: the index read its header only;
 * hvlog__export_trace_read_slot), its entries handed to @fn (none unless the
 * whole buffer passed). A buffer that fails is HVLOG_EXPORT_CORRUPT (or
 * TRUNCATED) with the reader's one-line message in @err; with
 * the plan's skip_corrupt it is instead reported through options->report,
 * counted in @summary->corrupt_skipped, and *@skipped is set: the caller
 * leaves it out as if the index had never held it (no packet, no
 * sequence number, no EventsLost).
 *
 * With a window (options->window) only the entries whose TimeStamp is in
 * it reach @fn, and plan->view says what the window keeps of the buffer
 * (set before the first entry reaches @fn): its EventsLost when the gap
 * before its first entry ends inside the window (an empty buffer: its
 * header TimeStamp in the reference basis, else its LP's previous entry),
 * else 0. A buffer with no entry and no gap in the window is *@skipped as
 * well (not counted as corrupt); an EventsLost left out is added to
 * @summary->events_lost_outside. @b's summary.events_lost and time_stamp
 * are the view's, so a caller that reads them needs no other change.
 * Without a window the view is the buffer's own header. Returns
 * HVLOG_EXPORT_OK with @b filled when the buffer was read (or skipped),
 * else the failure.
 */
enum hvlog_export_status hvlog__export_read_slot(struct export_group_plan *plan,
                                                 const struct hvlog_trace_slot *slot,
                                                 struct hvlog_trace_buffer *b, hvlog_entry_fn fn, void *arg,
                                                 bool *skipped, struct hvlog_export_summary *summary,
                                                 struct hvlog_export_error *err);

/*
 * Time that goes backwards within one output stream (a CTF stream or a
 * Perfetto track: one log type on one LP). babeltrace2's muxer stops on it
 * and a track viewer draws nonsense, so both exporters refuse such input
 * rather than write a trace nobody can read. The entry callback records
 * what it saw and stops the walk; the message is made once the buffer's
 * position is known.
 */
enum export_time_fault_kind {
    EXPORT_TIME_FAULT_NONE,
    EXPORT_TIME_FAULT_IN_BUFFER,     /* an entry older than the one before it */
    EXPORT_TIME_FAULT_ACROSS_BUFFERS, /* a buffer's first entry older than the stream so far */
};

struct export_time_fault {
    enum export_time_fault_kind kind;
    uint32_t entry_offset; /* the offending entry, from the buffer start */
    uint64_t time;         /* its TimeStamp */
    uint64_t before;       /* the stream's time it went back from */
};

/**
 * hvlog__export_time_fail - fill @err with HVLOG_EXPORT_TIME for @fault in buffer
 * @b of @plan, one line naming the data file, the buffer, its LP and both
 * times, ending with @consequence ("babeltrace2 would reject the stream").
 * Returns HVLOG_EXPORT_TIME.
 */
enum hvlog_export_status hvlog__export_time_fail(struct hvlog_export_error *err,
                                                 const struct export_group_plan *plan,
                                                 const struct hvlog_trace_buffer *b,
                                                 const struct export_time_fault *fault,
                                                 const char *consequence);

/* ---- the Perfetto exporters' track walk (perfetto_walk.c) ---- */

/*
 * What an exporter encodes; the walk decides when. Each gets the
 * exporter's @arg (export_track_walk.arg) and reads the walk's state
 * (lp, lost_total, events_lost, group) from its export_track_walk.
 */
struct export_track_ops {
    void (*track_begin)(void *arg);             /* the track's name, before its first event */
    void (*counter)(void *arg, uint64_t ticks); /* the loss counter's sample at @ticks */
    bool (*entry)(void *arg, const struct hvlog_entry *e); /* false: the output failed */
    bool (*write_ok)(void *arg, int *error);    /* false with *@error (errno) once it failed */
};

/*
 * The walk of one group's plan, LP by LP (one track each), each in fill
 * order. A track's time never decreases: input whose time goes back is
 * refused (HVLOG_EXPORT_TIME). The loss counter steps on a track's first
 * buffer and on each buffer whose gap the window keeps (§7.4): at the
 * buffer's start when that is known in the entries' clock, else at its
 * first entry, or for an empty buffer at the track's time.
 */
struct export_track_walk {
    const struct export_track_ops *ops;
    void *arg;
    const char *out_path; /* for the write failure's message */
    struct hvlog_export_summary *summary;
    struct hvlog_export_error *err;
    const struct hvlog_trace_group *group; /* the group being written */
    /* The track being written. */
    uint32_t lp;
    uint64_t lost_total;
    uint64_t last_ts;    /* the track's time: its last instant or counter sample */
    bool track_started;  /* something was written on the track */
    bool track_named;    /* named with its first instant or sample, so an LP whose
                          * every buffer was skipped as corrupt has no track */
    /* The buffer being written. */
    const struct export_view *view; /* the window's view of it (plan.c): read at its start */
    bool buffer_begun;
    uint64_t header_ts;
    uint32_t events_lost;
    bool first_buffer;
    bool counter_due;
    uint64_t entries;
    struct export_time_fault fault; /* what stopped the buffer's walk, if time did */
};

/** hvlog__export_track_walk_group - write @plan's tracks through @k->ops; counts
 * streams, buffers, events, events_lost and bytes_in in @k->summary. */
enum hvlog_export_status hvlog__export_track_walk_group(struct export_track_walk *k,
                                                        struct export_group_plan *plan);

/*
 * One host of a Perfetto export (issue 17: several traces on one timeline):
 * its trace, its name and clock offset, and its groups' plans. One trace
 * is host 0 with no name: no host level, times as before (ns since its
 * hypervisor start). Several are on the Unix clock: every group's ns since
 * its hypervisor start, moved by shift_ns (export_perfetto_host_shift) so
 * that 0 is the earliest host's hypervisor start on the Unix clock
 * (export_perfetto_timeline.origin_unix_ns).
 */
struct export_perfetto_host {
    const struct hvlog_trace_reader *reader;
    const char *name;  /* NULL: one trace, no host level */
    int64_t offset_ns; /* --clock-offset of this host */
    struct export_group_plan plans[HVLOG_TRACE_MAX_GROUPS];
    uint32_t count;
};

/* The export's one timeline. */
struct export_perfetto_timeline {
    bool hosts;             /* several traces: times are Unix time less origin_unix_ns */
    int64_t origin_unix_ns; /* hosts: the Unix time of ns 0 */
};

/**
 * hvlog__export_perfetto_clock - the clock of group @g of host @h (its offset
 * applied), and in *@shift_ns what @tl adds to its ns (0 for one trace).
 */
void hvlog__export_perfetto_clock(const struct export_perfetto_timeline *tl,
                           const struct export_perfetto_host *h, const struct hvlog_trace_group *g,
                           uint64_t tsc_hz, struct hvlog_trace_clock *c, uint64_t *shift_ns);

/* The exporter's part once the plans are made and every group's clock
 * gives nanoseconds (and, for several hosts, Unix time): open, write,
 * commit its file. */
typedef enum hvlog_export_status (*export_perfetto_body_fn)(void *arg,
                                                            const struct hvlog_export_options *opt,
                                                            const struct export_perfetto_timeline *tl,
                                                            struct export_perfetto_host *hosts,
                                                            uint32_t host_count,
                                                            struct hvlog_export_summary *summary);

/**
 * hvlog__export_perfetto_run - a Perfetto export of the @count hosts @in: refuse no trace or no
 * file; for several hosts, refuse a group without a wall-clock anchor
 * (hvlog_trace_need_wall_clock: they could not share one timeline); plan
 * every host (hvlog__export_plan), require every group's clock in nanoseconds
 * (hvlog_trace_clock_need_ns), then @body(@arg, ...); frees the plans and
 * copies the summary to @summary (when not NULL) in every case.
 */
enum hvlog_export_status hvlog__export_perfetto_run(const struct hvlog_export_host *in, uint32_t count,
                                             const char *out_file,
                                             const struct hvlog_export_options *options,
                                             struct hvlog_export_summary *summary,
                                             struct hvlog_export_error *err,
                                             export_perfetto_body_fn body, void *arg);

#endif /* HVLOG_EXPORT_INTERNAL_H */
