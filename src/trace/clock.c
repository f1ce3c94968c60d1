/* SPDX-License-Identifier: MIT */
/*
 * The clock of a group (hvlog/trace/clock.h). 128-bit intermediates: a
 * 64-bit tick count times 10^9 does not fit 64 bits.
 */
#include "hvlog/trace/clock.h"
#include "hvlog/abi/eventlog.h"
#include "trace/trace_internal.h"

static unsigned __int128 scale128(const struct hvlog_trace_clock *c, uint64_t ticks,
                                  uint64_t unit_hz);

/* Unix time of tick 0 in units of @unit_hz: the anchor's SystemTime less
 * the Unix epoch, less the anchor's ticks, each rounded down in units (so
 * that 100 ns units give what decode has always shown). */
static __int128 unix_offset(const struct hvlog_trace_clock *c, uint64_t unit_hz)
{
    return (__int128)(c->anchor_filetime - HVLOG_FILETIME_UNIX_EPOCH) * unit_hz / HVLOG_REFERENCE_HZ -
           (__int128)scale128(c, c->anchor_ticks, unit_hz);
}

void hvlog_trace_clock_init(struct hvlog_trace_clock *c, const struct hvlog_trace_meta *meta,
                            const struct hvlog_trace_group *g, uint64_t tsc_hz)
{
    const struct hvlog_trace_group *anchor = hvlog_trace_meta_anchor(meta, g->time_basis);

    *c = (struct hvlog_trace_clock){.basis = g->time_basis};
    switch (g->time_basis) {
    case HvEventLogEntryTimeTsc:
        c->name = "tsc";
        c->freq_hz = tsc_hz ? tsc_hz : meta->tsc_frequency_hz;
        return; /* no anchor in the format: a TSC is per LP and never on the wall clock */
    case HvEventLogEntryTimeQpc:
        c->name = "qpc";
        c->freq_hz = meta->qpc_frequency_hz;
        if (c->freq_hz == 0) {
            c->freq_hz = HVLOG_REFERENCE_HZ;
            c->freq_assumed = true;
        }
        /* hvlog_trace_meta_anchor gives a QPC anchor only with a recorded
         * qpc_frequency_hz and qpc_at_init. */
        if (anchor && !c->freq_assumed) {
            c->anchored = true;
            c->anchor_filetime = anchor->system_time;
            c->anchor_ticks = anchor->qpc_at_init;
        }
        break;
    default:
        c->name = "reference";
        c->freq_hz = HVLOG_REFERENCE_HZ;
        if (anchor) {
            c->anchored = true;
            c->anchor_filetime = anchor->system_time;
            c->anchor_ticks = anchor->reference_time_at_init;
        }
        break;
    }
    /* SystemTime before 1970 is no anchor a reader can show. */
    if (c->anchored && c->anchor_filetime < HVLOG_FILETIME_UNIX_EPOCH)
        c->anchored = false;
    if (c->anchored) {
        __int128 o100 = unix_offset(c, HVLOG_REFERENCE_HZ), ons = unix_offset(c, 1000000000u);

        if (o100 < INT64_MIN || o100 > INT64_MAX || ons < INT64_MIN || ons > INT64_MAX)
            c->anchored = false; /* centuries away: nothing to show on a wall clock */
        c->unix_off_100ns = (int64_t)o100;
        c->unix_off_ns = (int64_t)ons;
    }
}

enum hvlog_export_status hvlog_trace_clock_need_ns(const struct hvlog_trace_clock *c,
                                                  const char *what, struct hvlog_export_error *err)
{
    if (hvlog_trace_clock_has_ns(c))
        return HVLOG_EXPORT_OK;
    return hvlog__export_fail(err, HVLOG_EXPORT_UNSUPPORTED,
                              "%s needs nanoseconds, but the trace does not record the TSC frequency "
                              "(its times are raw TSC ticks): give it with --tsc-hz",
                              what);
}

static unsigned __int128 scale128(const struct hvlog_trace_clock *c, uint64_t ticks,
                                  uint64_t unit_hz)
{
    if (c->freq_hz == unit_hz)
        return ticks;
    return (unsigned __int128)ticks * unit_hz / c->freq_hz;
}

uint64_t hvlog_trace_clock_scale(const struct hvlog_trace_clock *c, uint64_t ticks,
                                 uint64_t unit_hz)
{
    unsigned __int128 v;

    if (c->freq_hz == 0)
        return ticks;
    v = scale128(c, ticks, unit_hz);
    return v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

int64_t hvlog_trace_clock_delta(const struct hvlog_trace_clock *c, uint64_t from, uint64_t to,
                                uint64_t unit_hz)
{
    bool back = to < from;
    uint64_t ticks = back ? from - to : to - from;
    uint64_t v = hvlog_trace_clock_scale(c, ticks, unit_hz);

    if (v > (uint64_t)INT64_MAX)
        v = (uint64_t)INT64_MAX;
    return back ? -(int64_t)v : (int64_t)v;
}

bool hvlog_trace_clock_to_unix(const struct hvlog_trace_clock *c, uint64_t ticks, uint64_t unit_hz,
                               int64_t *out)
{
    __int128 t;

    if (!c->anchored)
        return false;
    /* The common units are computed once (clock_init); any other here. */
    if (unit_hz == HVLOG_REFERENCE_HZ && c->freq_hz == HVLOG_REFERENCE_HZ)
        t = (__int128)ticks + c->unix_off_100ns;
    else if (unit_hz == HVLOG_REFERENCE_HZ)
        t = (__int128)scale128(c, ticks, unit_hz) + c->unix_off_100ns;
    else if (unit_hz == 1000000000u)
        t = (__int128)scale128(c, ticks, unit_hz) + c->unix_off_ns;
    else
        t = (__int128)scale128(c, ticks, unit_hz) + unix_offset(c, unit_hz);
    if (t < 0 || t > INT64_MAX)
        return false;
    *out = (int64_t)t;
    return true;
}

void hvlog_trace_clock_shift(struct hvlog_trace_clock *c, int64_t ns)
{
    int64_t ft = ns / 100;

    if (!c->anchored)
        return;
    if (ns % 100 < 0)
        ft--; /* floor, as the offsets round */
    c->anchor_filetime = (uint64_t)((int64_t)c->anchor_filetime + ft);
    c->unix_off_100ns += ft;
    c->unix_off_ns += ns;
}

bool hvlog_trace_clock_unix_offset(const struct hvlog_trace_clock *c, int64_t *offset_s,
                                   uint64_t *offset_cycles)
{
    /* ±285 years around 1970: offset_s x 10^9 stays inside an int64 of ns. */
    const int64_t max_offset_s = 9000000000LL;
    int64_t unix_100ns, secs;
    uint64_t rest_100ns, cycles, at_cycles, f = c->freq_hz;

    if (!c->anchored || f == 0 || c->anchor_filetime > (uint64_t)INT64_MAX / 2 ||
        c->anchor_ticks > (uint64_t)INT64_MAX / 2)
        return false;
    unix_100ns = hvlog_filetime_to_unix_100ns(c->anchor_filetime);
    secs = unix_100ns / (int64_t)HVLOG_REFERENCE_HZ;
    if (unix_100ns % (int64_t)HVLOG_REFERENCE_HZ < 0)
        secs--;
    rest_100ns = (uint64_t)(unix_100ns - secs * (int64_t)HVLOG_REFERENCE_HZ); /* 0..10^7 - 1 */
    /* rest x f / 10^7 without overflow: < f, each product < 2^64. */
    cycles = f / HVLOG_REFERENCE_HZ * rest_100ns + f % HVLOG_REFERENCE_HZ * rest_100ns / HVLOG_REFERENCE_HZ;
    secs -= (int64_t)(c->anchor_ticks / f); /* anchor_ticks < 2^62: fits */
    at_cycles = c->anchor_ticks % f;
    if (cycles < at_cycles) {
        secs--;
        cycles += f - at_cycles; /* < f: no wrap */
    } else {
        cycles -= at_cycles;
    }
    if (secs >= max_offset_s || secs <= -max_offset_s)
        return false;
    *offset_s = secs;
    *offset_cycles = cycles;
    return true;
}

enum hvlog_export_status hvlog_trace_need_wall_clock(const struct hvlog_trace_reader *r,
                                                    uint32_t types, uint64_t tsc_hz,
                                                    struct hvlog_export_error *err)
{
    const struct hvlog_trace_meta *m = hvlog_trace_reader_meta(r);

    for (uint32_t i = 0; m && i < m->group_count; i++) {
        const struct hvlog_trace_group *g = &m->groups[i];
        struct hvlog_trace_clock c;

        if (types && !(types & (1u << g->type)))
            continue;
        hvlog_trace_clock_init(&c, m, g, tsc_hz);
        if (!c.anchored)
            return hvlog__export_fail(err, HVLOG_EXPORT_UNSUPPORTED,
                                      "%s: its %s group (time basis %s) has no wall-clock anchor, so it "
                                      "cannot be put on one timeline with the other traces",
                                      hvlog_trace_reader_path(r), hvlog_trace_group_short(g->type), c.name);
    }
    return HVLOG_EXPORT_OK;
}
