/* SPDX-License-Identifier: MIT */
/*
 * One clock per group of a trace (issue 12 "one clock"): the only code of
 * hvlog that knows what an entry's TimeStamp counts (spec §4.7, §11.5) and
 * how it maps to nanoseconds and to wall-clock time (FILETIME, 100 ns
 * since 1601-01-01, from the group's Initialize SystemTime).
 *
 *   basis        ticks                      frequency
 *   Reference    100 ns since boot          10 MHz, always
 *   QPC          the partition's QPC        qpc_frequency_hz; 10 MHz assumed when
 *                                           the trace does not say (Windows' QPC
 *                                           runs at 10 MHz on current hosts)
 *   TSC          the logging LP's TSC       tsc_frequency_hz, or --tsc-hz;
 *                                           otherwise UNKNOWN
 *
 * An unknown frequency has one answer everywhere: times are shown as raw
 * ticks, labelled "ticks", and every output that needs nanoseconds or
 * wall-clock time (relative times, CTF, Perfetto) refuses with one line
 * asking for --tsc-hz. A clock is anchored (can give Unix time) when its
 * frequency is known and the trace holds the anchor hvlog_trace_meta_anchor
 * chooses for its basis; TSC never is.
 *
 * Pure functions over a small struct; any thread.
 */
#ifndef HVLOG_TRACE_CLOCK_H
#define HVLOG_TRACE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlog/abi/eventlog.h" /* HVLOG_FILETIME_UNIX_EPOCH */
#include "hvlog/visibility.h"
#include "hvlog/trace/trace.h"

HVLOG_BEGIN_DECLS

/* The reference clock's frequency: 100 ns ticks. */
#define HVLOG_REFERENCE_HZ 10000000u

struct hvlog_trace_clock {
    uint32_t basis;        /* HV_EVENTLOG_ENTRY_TIME_BASIS of the group */
    uint64_t freq_hz;      /* ticks per second; 0 = unknown: raw ticks only */
    bool freq_assumed;     /* QPC without qpc_frequency_hz: 10 MHz assumed */
    bool anchored;         /* freq known and an anchor: to-Unix works */
    uint64_t anchor_filetime; /* SystemTime of the anchor (FILETIME) */
    uint64_t anchor_ticks;    /* this clock's value at that SystemTime */
    const char *name;      /* "reference", "tsc", "qpc" */
    /* Anchored: Unix time of tick 0 in 100 ns and in ns, each as
     * hvlog_trace_clock_to_unix rounds it (computed once, not per entry). */
    int64_t unix_off_100ns, unix_off_ns;
};

/**
 * hvlog_trace_clock_init - the clock of group @g of @meta. @tsc_hz, when
 * not 0, is the TSC frequency the user gave (--tsc-hz): it overrides the
 * metadata's tsc_frequency_hz.
 */
HVLOG_API void hvlog_trace_clock_init(struct hvlog_trace_clock *c,
                                      const struct hvlog_trace_meta *meta,
                                      const struct hvlog_trace_group *g, uint64_t tsc_hz);

/** hvlog_trace_clock_has_ns - true when ticks convert to nanoseconds. */
static inline bool hvlog_trace_clock_has_ns(const struct hvlog_trace_clock *c)
{
    return c->freq_hz != 0;
}

/**
 * hvlog_trace_clock_need_ns - HVLOG_EXPORT_OK when @c converts to ns,
 * else HVLOG_EXPORT_UNSUPPORTED with one line in @err naming @what needs
 * it and asking for --tsc-hz (the library's callers offer that option).
 */
HVLOG_API enum hvlog_export_status hvlog_trace_clock_need_ns(const struct hvlog_trace_clock *c,
                                                            const char *what,
                                                            struct hvlog_export_error *err);

/**
 * hvlog_trace_clock_scale - @ticks of @c in units of @unit_hz (10^9: ns,
 * 10^7: 100 ns), rounded down, saturating at UINT64_MAX. @c's frequency
 * must be known; with an unknown one, @ticks is returned unchanged.
 */
HVLOG_API uint64_t hvlog_trace_clock_scale(const struct hvlog_trace_clock *c, uint64_t ticks,
                                           uint64_t unit_hz);

/**
 * hvlog_trace_clock_delta - (@to - @from) ticks of @c, signed, in units
 * of @unit_hz (raw ticks when the frequency is unknown): time going back
 * is a negative number, never a wrapped one (issue 12, bug 2).
 */
HVLOG_API int64_t hvlog_trace_clock_delta(const struct hvlog_trace_clock *c, uint64_t from,
                                          uint64_t to, uint64_t unit_hz);

/**
 * hvlog_trace_clock_to_unix - the Unix time of tick @ticks in units of
 * @unit_hz (the anchor's SystemTime less the Unix epoch, plus the ticks
 * since the anchor); false when @c is not anchored or the result is
 * before 1970 or beyond an int64.
 */
HVLOG_API bool hvlog_trace_clock_to_unix(const struct hvlog_trace_clock *c, uint64_t ticks,
                                         uint64_t unit_hz, int64_t *out);

/**
 * hvlog_trace_clock_to_unix_inline - hvlog_trace_clock_to_unix, with its
 * most common case (100 ns ticks shown in 100 ns units) inline: a reader
 * that converts every entry calls this one.
 */
static inline bool hvlog_trace_clock_to_unix_inline(const struct hvlog_trace_clock *c,
                                                    uint64_t ticks, uint64_t unit_hz, int64_t *out)
{
    int64_t t;

    if (c->anchored && unit_hz == HVLOG_REFERENCE_HZ && c->freq_hz == HVLOG_REFERENCE_HZ &&
        ticks <= (uint64_t)INT64_MAX && !__builtin_add_overflow((int64_t)ticks, c->unix_off_100ns, &t)) {
        if (t < 0)
            return false;
        *out = t;
        return true;
    }
    return hvlog_trace_clock_to_unix(c, ticks, unit_hz, out);
}

/**
 * hvlog_trace_clock_shift - move an anchored clock's Unix times by @ns
 * (a host's clock skew, --clock-offset): every conversion to Unix time,
 * hvlog_trace_clock_unix_offset included, goes through the anchor and the
 * offsets this moves. An unanchored clock has no Unix time to move.
 */
HVLOG_API void hvlog_trace_clock_shift(struct hvlog_trace_clock *c, int64_t ns);

/**
 * hvlog_trace_need_wall_clock - HVLOG_EXPORT_OK when every group of @r that
 * @types selects (0: all) is anchored to the wall clock, as several traces
 * on one timeline need (each host booted on its own); else
 * HVLOG_EXPORT_UNSUPPORTED and one line in @err naming the first that is
 * not. @tsc_hz as for hvlog_trace_clock_init. The one statement of that rule.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_need_wall_clock(const struct hvlog_trace_reader *r,
                                                              uint32_t types, uint64_t tsc_hz,
                                                              struct hvlog_export_error *err);

/**
 * hvlog_trace_clock_unix_offset - an anchored clock's value 0 on the Unix
 * clock, as whole seconds (floor, may be negative) plus @c's cycles
 * (0..freq - 1): CTF's clock offset. Exact for the reference clock; for
 * another frequency the sub-second part of SystemTime is rounded down to a
 * cycle. False when @c is unanchored or the numbers do not fit (more than
 * about 285 years from 1970).
 */
HVLOG_API bool hvlog_trace_clock_unix_offset(const struct hvlog_trace_clock *c, int64_t *offset_s,
                                             uint64_t *offset_cycles);

/** hvlog_filetime_to_unix_100ns - FILETIME @ft as 100 ns since 1970 (signed). */
static inline int64_t hvlog_filetime_to_unix_100ns(uint64_t ft)
{
    return (int64_t)(ft - HVLOG_FILETIME_UNIX_EPOCH);
}


HVLOG_END_DECLS

#endif /* HVLOG_TRACE_CLOCK_H */
