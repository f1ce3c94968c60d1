/* SPDX-License-Identifier: MIT */
/*
 * Event-logging constants: log types, buffer states, time bases, modes,
 * special values and limits (spec §2.2, §2.3, §4.1, §11).
 *
 * Each vocabulary is one X-macro table; enums and name lookups come from it.
 */
#ifndef HVLOG_ABI_EVENTLOG_H
#define HVLOG_ABI_EVENTLOG_H

#include <stddef.h>
#include <stdint.h>

#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

/* §2.2 HV_EVENTLOG_TYPE. SystemDiagnostics exists only in the current profile (D6). */
#define HV_EVENTLOG_TYPE_TABLE(X)                                  \
    X(HvEventLogTypeGlobalSystemEvents, 0, "GlobalSystemEvents")   \
    X(HvEventLogTypeLocalDiagnostics, 1, "LocalDiagnostics")       \
    X(HvEventLogTypeSystemDiagnostics, 2, "SystemDiagnostics")

enum hv_eventlog_type {
#define HVLOG_X_ENUM(name, value, text) name = (value),
    HV_EVENTLOG_TYPE_TABLE(HVLOG_X_ENUM)
};
#define HvEventLogTypeMaximum2013 1u    /* §2.2 [DOC] */
#define HvEventLogTypeMaximumCurrent 2u /* §2.2 [HDR] */
/* The one log-type count of every layer: the rows of the table above, the
 * types of the larger profile (src/abi/names.c checks both at build time). */
#define HVLOG_TYPE_COUNT 3u

/* §2.2 HV_EVENTLOG_BUFFER_STATE; the machine itself is in the engine. */
#define HV_EVENTLOG_BUFFER_STATE_TABLE(X)            \
    X(HvEventLogBufferStateStandby, 0, "Standby")    \
    X(HvEventLogBufferStateFree, 1, "Free")          \
    X(HvEventLogBufferStateInUse, 2, "InUse")        \
    X(HvEventLogBufferStateComplete, 3, "Complete")  \
    X(HvEventLogBufferStateReady, 4, "Ready")

enum hv_eventlog_buffer_state { HV_EVENTLOG_BUFFER_STATE_TABLE(HVLOG_X_ENUM) };

/* §2.2 HV_EVENTLOG_ENTRY_TIME_BASIS; QPC is current-profile only (§11.5). */
#define HV_EVENTLOG_TIME_BASIS_TABLE(X)              \
    X(HvEventLogEntryTimeReference, 0, "Reference")  \
    X(HvEventLogEntryTimeTsc, 1, "Tsc")              \
    X(HvEventLogEntryTimeQpc, 2, "Qpc")

enum hv_eventlog_time_basis { HV_EVENTLOG_TIME_BASIS_TABLE(HVLOG_X_ENUM) };
#define HvEventLogEntryTimeMaximum2013 1u
#define HvEventLogEntryTimeMaximumCurrent 2u

/* §2.2 current-profile group mode (Initialize bytes 2..3, §11.1). */
#define HV_EVENTLOG_MODE_TABLE(X)             \
    X(HvEventLogModeRegular, 0, "Regular")    \
    X(HvEventLogModeCircular, 1, "Circular")

enum hv_eventlog_mode { HV_EVENTLOG_MODE_TABLE(HVLOG_X_ENUM) };
#undef HVLOG_X_ENUM
#define HvEventLogModeMaximum 1u

/* §2.2 special values. */
#define HV_EVENTLOG_BUFFER_INDEX_NONE 0xFFFFFFFFu
#define HV_PARTITION_ID_INVALID 0x0000000000000000ull
#define HV_PARTITION_ID_SELF 0xFFFFFFFFFFFFFFFFull
#define HV_ANY_VP 0xFFFFFFFFu

/* §2.3 limits and sizes. */
#define HV_PAGE_SIZE 4096u
#define HV_PAGE_SHIFT 12u
#define HV_EVENTLOG_MIN_BUFFER_PAGES 1u
#define HV_EVENTLOG_MAX_BUFFER_PAGES 512u
#define HV_EVENTLOG_MIN_BUFFER_COUNT 1u
#define HV_EVENTLOG_MAX_BUFFER_COUNT 512u
#define HV_EVENTLOG_BUFFER_HEADER_SIZE 72u
#define HV_EVENTLOG_ENTRY_HEADER_SIZE 16u
#define HV_EVENTLOG_ENTRY_ALIGNMENT 8u
#define HV_EVENTLOG_MAX_ENTRY_SIZE 65528u /* largest multiple of 8 in a UINT16 */
#define HV_EVENTLOG_SOURCE_MASK_BITS 64u
/* SystemTime (Initialize's output, a buffer header's flush time) is a
 * Windows FILETIME: 100 ns since 1601-01-01 UTC. This is the Unix epoch in it. */
#define HVLOG_FILETIME_UNIX_EPOCH 116444736000000000ull
#define HV_EVENTLOG_MAX_LOST_EVENTS 0xFFFFFFFFu /* Q-LOSTSAT: saturate */

/* §4.3 HV_PROXIMITY_DOMAIN_INFO flags. */
#define HV_PROXIMITY_FLAG_PREFERRED 0x00000001u
#define HV_PROXIMITY_FLAG_VALID 0x80000000u
#define HV_PROXIMITY_FLAGS_RESERVED 0x7FFFFFFEu

/* Name lookups: a static string, or NULL for a value outside the table. */
HVLOG_API const char *hvlog_eventlog_type_name(uint32_t type);
HVLOG_API const char *hvlog_buffer_state_name(uint32_t state);
HVLOG_API const char *hvlog_time_basis_name(uint32_t basis);
HVLOG_API const char *hvlog_eventlog_mode_name(uint32_t mode);

/** hvlog_unix_to_filetime - @secs and @nsec since 1970 as FILETIME: the
 * SystemTime a root passes to Initialize. */
static inline uint64_t hvlog_unix_to_filetime(uint64_t secs, uint64_t nsec)
{
    return HVLOG_FILETIME_UNIX_EPOCH + secs * 10000000u + nsec / 100u;
}

HVLOG_END_DECLS

#endif /* HVLOG_ABI_EVENTLOG_H */
