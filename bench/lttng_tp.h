/* SPDX-License-Identifier: MIT */
/*
 * The LTTng-UST peer of bench_write's hvlog rows (issue #7): one
 * tracepoint whose payload is hvlog's 16 payload bytes, two uint64_t.
 * LTTng adds its own compact event header (about 6 bytes), so an event is
 * about 22 bytes in its ring against hvlog's 32-byte entry.
 *
 *   hvlog_bench:entry     the event bench/run enables in its session
 *   hvlog_bench:disabled  same fields, never enabled: the disabled cost
 *   hvlog_bench:record    24 bytes, bench/record-speed's paced producer
 *
 * Built only when pkg-config finds lttng-ust (bench/CMakeLists.txt), into
 * bench_lttng, never into bench_write: liblttng-ust's constructor registers
 * with any session daemon it finds, which the hvlog rows must not pay for.
 */

#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER hvlog_bench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "./lttng_tp.h"

#if !defined(HVLOG_BENCH_LTTNG_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define HVLOG_BENCH_LTTNG_TP_H

#include <stdint.h>

#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT_CLASS(hvlog_bench, payload16,
    LTTNG_UST_TP_ARGS(uint64_t, a, uint64_t, b),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, a, a)
        lttng_ust_field_integer(uint64_t, b, b)))

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(hvlog_bench, payload16, hvlog_bench, entry,
    LTTNG_UST_TP_ARGS(uint64_t, a, uint64_t, b))

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(hvlog_bench, payload16, hvlog_bench, disabled,
    LTTNG_UST_TP_ARGS(uint64_t, a, uint64_t, b))

/* bench/record-speed's event (issue 17): three uint64_t, 24 bytes, as near
 * as whole words come to the 23.2 payload bytes of the simulated host's
 * events at `hvlog record --payload 0` (parameters of 8 bytes each). */
LTTNG_UST_TRACEPOINT_EVENT(hvlog_bench, record,
    LTTNG_UST_TP_ARGS(uint64_t, a, uint64_t, b, uint64_t, c),
    LTTNG_UST_TP_FIELDS(
        lttng_ust_field_integer(uint64_t, a, a)
        lttng_ust_field_integer(uint64_t, b, b)
        lttng_ust_field_integer(uint64_t, c, c)))

#endif /* HVLOG_BENCH_LTTNG_TP_H */

#include <lttng/tracepoint-event.h>
