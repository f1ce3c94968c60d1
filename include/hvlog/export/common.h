/* SPDX-License-Identifier: MIT */
/*
 * What every export shares: its options and its summary. The statuses and
 * the error report are the trace layer's (hvlog/trace/common.h).
 */
#ifndef HVLOG_EXPORT_COMMON_H
#define HVLOG_EXPORT_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlog/visibility.h"
#include "hvlog/trace/common.h"

HVLOG_BEGIN_DECLS

/* How to export. Zero-initialised options are the defaults. */
struct hvlog_export_options {
    uint32_t types;          /* bit (1 << type) per log type to export; 0 = every group */
    bool force;              /* replace an existing output of the same kind */
    bool skip_corrupt;       /* corrupt buffers: report and skip (default: refuse) */
    hvlog_export_report_fn report; /* problems gone past; may be NULL */
    void *report_arg;
    uint64_t tsc_frequency_hz; /* the TSC's frequency when the trace lacks it (--tsc-hz);
                                * 0 = the trace's. Unknown: TSC groups are refused */
    int64_t clock_offset_ns;   /* moves every anchored clock's Unix time (a host's skew,
                                * --clock-offset); 0 = none. CTF only */
    /*
     * A window and a subset (issue 18), as hvlog decode's --begin, --end
     * and --lp: entries whose raw TimeStamp (in its group's time basis,
     * as written) is in [begin, end], of LP lp. Shared by every format
     * (src/export/plan.c). A buffer's EventsLost counts the events lost
     * in the gap before its first entry (spec §7.4), so a window keeps it
     * when that gap ends inside the window: the buffer's first entry (an
     * empty buffer: its header TimeStamp) lies in [begin, end]. The
     * header cannot say when in the gap the events were lost, so a gap
     * that straddles begin is counted whole. Losses outside the window
     * are counted in the summary's events_lost_outside, never dropped
     * silently. Buffers with nothing in the window are left out whole.
     */
    bool window;          /* false: every entry (begin and end unused) */
    uint64_t begin, end;  /* both inclusive; begin <= end */
    bool lp_only;         /* false: every LP */
    uint32_t lp;
};

/* What an export wrote. */
struct hvlog_export_summary {
    uint64_t buffers;          /* buffers exported (one CTF packet each) */
    uint64_t events;           /* entries exported */
    uint64_t events_lost;      /* sum of the exported buffers' EventsLost (a window:
                                * of the gaps that end inside it) */
    uint64_t corrupt_skipped;  /* buffers skipped under skip_corrupt */
    uint64_t streams;          /* CTF stream files or Perfetto tracks */
    uint64_t bytes_in;         /* buffer bytes read */
    uint64_t bytes_out;        /* bytes written */
    uint64_t events_lost_outside; /* a window's: EventsLost of the selected LPs' gaps outside it */
};

/*
 * One trace of several on one timeline (issue 17): an export of several
 * hosts (hvlog_export_perfetto_hosts) names each and moves its clock.
 */
struct hvlog_trace_reader;
struct hvlog_export_host {
    const struct hvlog_trace_reader *reader;
    const char *name;        /* the host's name in the output; NULL: the trace's path */
    int64_t clock_offset_ns; /* this host's skew (--clock-offset HOST=NS); 0 = none */
};

HVLOG_END_DECLS

#endif /* HVLOG_EXPORT_COMMON_H */
