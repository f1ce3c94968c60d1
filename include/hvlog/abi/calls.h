/* SPDX-License-Identifier: MIT */
/*
 * The nine event-log hypercalls (spec §2.1, §3.6, §5, D23).
 *
 * One row per call: code, spec name, short name, canonical convention in the
 * 2013 profile and in the current profile, input bytes in each profile, and
 * whether the call writes an output block. The engine's dispatch table, the
 * CLI's printers and the tests are all generated from these rows.
 *
 * Map's output is BufferPages x 8 bytes, known only once the group is found
 * (§5.5); the row says "has output" and the handler sizes it.
 */
#ifndef HVLOG_ABI_CALLS_H
#define HVLOG_ABI_CALLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/abi/profile.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

/* How the input reaches the hypervisor (§3.3). */
enum hvlog_call_convention {
    HVLOG_CALL_FAST = 1,   /* input in RDX, R8 (Fast bit = 1) */
    HVLOG_CALL_MEMORY = 2, /* input (and output) blocks by GPA (Fast bit = 0) */
};

/*      code    spec name                         short       2013 conv    cur. conv    in2013 incur out */
#define HV_EVENTLOG_CALL_TABLE(X)                                                                     \
    X(0x0060, HvInitializeEventLogBufferGroup, initialize, MEMORY, MEMORY, 32, 28, false)             \
    X(0x0061, HvFinalizeEventLogBufferGroup, finalize, FAST, FAST, 8, 8, false)                       \
    X(0x0062, HvCreateEventLogBuffer, create, FAST, FAST, 16, 16, false)                              \
    X(0x0063, HvDeleteEventLogBuffer, delete, FAST, FAST, 8, 8, false)                                \
    X(0x0064, HvMapEventLogBuffer, map, MEMORY, MEMORY, 8, 16, true)                                  \
    X(0x0065, HvUnmapEventLogBuffer, unmap, FAST, FAST, 8, 16, false)                                 \
    X(0x0066, HvSetEventLogGroupSources, sources, FAST, MEMORY, 16, 544, false)                       \
    X(0x0067, HvReleaseEventLogBuffer, release, FAST, FAST, 8, 8, false)                              \
    X(0x0068, HvFlushEventLogBuffer, flush, FAST, FAST, 8, 8, false)

enum hv_call_code {
#define HVLOG_X_CALL_ENUM(code, name, shortname, c13, ccur, in13, incur, out) HvCall##name = (code),
    HV_EVENTLOG_CALL_TABLE(HVLOG_X_CALL_ENUM)
#undef HVLOG_X_CALL_ENUM
};

#define HV_EVENTLOG_CALL_FIRST 0x0060u
#define HV_EVENTLOG_CALL_LAST 0x0068u
#define HV_EVENTLOG_CALL_COUNT 9u

/* One call described, as the table row says. */
struct hvlog_call_info {
    uint16_t code;
    const char *name;       /* "HvFlushEventLogBuffer" */
    const char *short_name; /* "flush": the CLI and script verb */
    enum hvlog_call_convention convention_2013;
    enum hvlog_call_convention convention_current;
    uint16_t input_bytes_2013;
    uint16_t input_bytes_current;
    bool has_output;
};

/**
 * hvlog_call_info - the row for a call code.
 * Returns a pointer into a static table, or NULL for a code that is not one
 * of the nine event-log calls. Any thread.
 */
HVLOG_API const struct hvlog_call_info *hvlog_call_info(uint32_t code);

/**
 * hvlog_call_info_at - the rows in code order, for printers: @i in 0..8.
 * Returns NULL past the end.
 */
HVLOG_API const struct hvlog_call_info *hvlog_call_info_at(size_t i);

/** hvlog_call_name - "HvFlushEventLogBuffer", or NULL for another code. */
HVLOG_API const char *hvlog_call_name(uint32_t code);

/** hvlog_call_convention_name - "fast" or "memory". */
HVLOG_API const char *hvlog_call_convention_name(enum hvlog_call_convention convention);

HVLOG_END_DECLS

#endif /* HVLOG_ABI_CALLS_H */
