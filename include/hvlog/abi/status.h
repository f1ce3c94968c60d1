/* SPDX-License-Identifier: MIT */
/*
 * HV_STATUS: the 16-bit result of every hypercall (spec §2.4).
 *
 * The table below is the only place a status is defined. The enum, the name
 * lookup and every printer are generated from it, so they cannot drift.
 * Columns: name, value, one-line meaning.
 */
#ifndef HVLOG_ABI_STATUS_H
#define HVLOG_ABI_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

/* §2.4 [DOC] 0x0000..0x001F; 0x0010 and 0x0015 are reserved in 2013 and named
 * by the later headers (D20): hvlog never produces them but prints their names.
 * 0x0073/0x0074 come from the current Linux headers (research §2.1). */
#define HV_STATUS_TABLE(X)                                                          \
    X(HV_STATUS_SUCCESS, 0x0000, "the call succeeded")                               \
    X(HV_STATUS_INVALID_HYPERCALL_CODE, 0x0002, "unknown call code")                 \
    X(HV_STATUS_INVALID_HYPERCALL_INPUT, 0x0003, "malformed hypercall input value")  \
    X(HV_STATUS_INVALID_ALIGNMENT, 0x0004, "input or output block misplaced")        \
    X(HV_STATUS_INVALID_PARAMETER, 0x0005, "an input field is invalid")              \
    X(HV_STATUS_ACCESS_DENIED, 0x0006, "the caller may not do this")                 \
    X(HV_STATUS_INVALID_PARTITION_STATE, 0x0007, "partition in the wrong state")     \
    X(HV_STATUS_OPERATION_DENIED, 0x0008, "operation not allowed in this state")     \
    X(HV_STATUS_UNKNOWN_PROPERTY, 0x0009, "unknown property")                        \
    X(HV_STATUS_PROPERTY_VALUE_OUT_OF_RANGE, 0x000A, "property value out of range")  \
    X(HV_STATUS_INSUFFICIENT_MEMORY, 0x000B, "the memory pool is too small")         \
    X(HV_STATUS_PARTITION_TOO_DEEP, 0x000C, "partition hierarchy too deep")          \
    X(HV_STATUS_INVALID_PARTITION_ID, 0x000D, "no such partition")                   \
    X(HV_STATUS_INVALID_VP_INDEX, 0x000E, "no such virtual processor")               \
    X(HV_STATUS_NOT_FOUND, 0x0010, "not found (reserved in 2013)")                   \
    X(HV_STATUS_INVALID_PORT_ID, 0x0011, "no such port")                             \
    X(HV_STATUS_INVALID_CONNECTION_ID, 0x0012, "no such connection")                 \
    X(HV_STATUS_INSUFFICIENT_BUFFERS, 0x0013, "no message buffer free")              \
    X(HV_STATUS_NOT_ACKNOWLEDGED, 0x0014, "not acknowledged")                        \
    X(HV_STATUS_INVALID_VP_STATE, 0x0015, "VP in the wrong state (reserved in 2013)") \
    X(HV_STATUS_ACKNOWLEDGED, 0x0016, "already acknowledged")                        \
    X(HV_STATUS_INVALID_SAVE_RESTORE_STATE, 0x0017, "invalid save/restore state")    \
    X(HV_STATUS_INVALID_SYNIC_STATE, 0x0018, "SynIC in the wrong state")             \
    X(HV_STATUS_OBJECT_IN_USE, 0x0019, "the object is in use")                       \
    X(HV_STATUS_INVALID_PROXIMITY_DOMAIN_INFO, 0x001A, "bad proximity domain info")  \
    X(HV_STATUS_NO_DATA, 0x001B, "no data")                                          \
    X(HV_STATUS_INACTIVE, 0x001C, "inactive")                                        \
    X(HV_STATUS_NO_RESOURCES, 0x001D, "no resources")                                \
    X(HV_STATUS_FEATURE_UNAVAILABLE, 0x001E, "feature unavailable")                  \
    X(HV_STATUS_PARTIAL_PACKET, 0x001F, "partial packet")                            \
    X(HV_STATUS_INSUFFICIENT_ROOT_MEMORY, 0x0073, "root memory pool too small")      \
    X(HV_STATUS_EVENT_BUFFER_ALREADY_FREED, 0x0074, "event buffer already freed")

enum hv_status {
#define HVLOG_X_STATUS_ENUM(name, value, text) name = (value),
    HV_STATUS_TABLE(HVLOG_X_STATUS_ENUM)
#undef HVLOG_X_STATUS_ENUM
};

/* HV_STATUS travels as a UINT16 [HDR HDK]. */
typedef uint16_t hv_status_t;

/**
 * hvlog_status_name - the spec name of a status ("HV_STATUS_SUCCESS").
 * @status: any 16-bit value.
 * Returns a static string, or NULL when the value has no name in the table.
 * Any thread.
 */
HVLOG_API const char *hvlog_status_name(hv_status_t status);

/**
 * hvlog_status_text - a short English meaning of a status, or NULL if unnamed.
 */
HVLOG_API const char *hvlog_status_text(hv_status_t status);

/**
 * hvlog_status_format - write the name of @status into @buf, or
 * "HV_STATUS_0x00NN" when it has none; never fails for any value.
 * @buf: at least HVLOG_STATUS_NAME_MAX bytes.
 * Returns @buf.
 */
#define HVLOG_STATUS_NAME_MAX 48
HVLOG_API const char *hvlog_status_format(hv_status_t status, char *buf, size_t buf_size);

HVLOG_END_DECLS

#endif /* HVLOG_ABI_STATUS_H */
