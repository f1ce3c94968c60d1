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
};

/* What an export wrote. */
struct hvlog_export_summary {
    uint64_t buffers;          /* buffers exported (one CTF packet each) */
    uint64_t events;           /* entries exported */
    uint64_t events_lost;      /* sum of the buffers' EventsLost */
    uint64_t corrupt_skipped;  /* buffers skipped under skip_corrupt */
    uint64_t streams;          /* CTF stream files or Perfetto tracks */
    uint64_t bytes_in;         /* buffer bytes read */
    uint64_t bytes_out;        /* bytes written */
};

HVLOG_END_DECLS

#endif /* HVLOG_EXPORT_COMMON_H */
