/* SPDX-License-Identifier: MIT */
/*
 * The spec's structures, byte for byte (spec §4, §5, §11).
 *
 * Each structure is a plain host struct plus a field table (offset, width in
 * bits). The compiler checks that the struct matches the table, and the
 * table generates NAME_load / NAME_store, the only way these bytes are read
 * from or written to guest-visible memory. Packed current-profile layouts
 * (§11.1) have a host struct of their own order and a packed-layout check.
 */
#ifndef HVLOG_ABI_LAYOUT_H
#define HVLOG_ABI_LAYOUT_H

#include <stdint.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/wire.h"

/* §4.3 HV_PROXIMITY_DOMAIN_INFO (8). As a register value: Id | Flags << 32. */
struct hv_proximity_domain_info {
    uint32_t id;
    uint32_t flags; /* HV_PROXIMITY_FLAG_* */
};
#define HV_PROXIMITY_DOMAIN_INFO_FIELDS(X, T) \
    X(T, id, 0, 32)                           \
    X(T, flags, 4, 32)
HVLOG_WIRE_CHECK_LAYOUT(hv_proximity_domain_info, HV_PROXIMITY_DOMAIN_INFO_FIELDS, 8)
HVLOG_WIRE_CODEC(hv_proximity_domain_info, HV_PROXIMITY_DOMAIN_INFO_FIELDS)

/* §4.4 HV_EVENTLOG_BUFFER_HEADER (72), 2013 profile. */
struct hv_eventlog_buffer_header {
    uint32_t buffer_size;        /* whole buffer, pages x 4096 (2013) */
    uint32_t buffer_index;
    uint32_t events_lost;
    uint32_t reference_counter;  /* DEC-HDRFIELDS: 0 */
    uint64_t time_stamp;         /* 100 ns, when it went InUse (DEC-HDRTIME) */
    uint64_t reserved1;
    uint64_t reserved2;
    uint8_t logical_processor;
    uint8_t alignment;           /* DEC-HDRFIELDS: 8 */
    uint16_t logger_id;          /* DEC-HDRFIELDS: the Type value */
    uint32_t buffer_state;       /* enum hv_eventlog_buffer_state */
    uint32_t next_buffer_offset; /* from the buffer start; 72 when empty */
    uint32_t type;
    uint32_t next_buffer_index;  /* Ready chain; HV_EVENTLOG_BUFFER_INDEX_NONE ends it */
    uint32_t reserved3;
    uint64_t reserved4;          /* Reserved4[2], two u32 */
};
#define HV_EVENTLOG_BUFFER_HEADER_FIELDS(X, T) \
    X(T, buffer_size, 0, 32)                   \
    X(T, buffer_index, 4, 32)                  \
    X(T, events_lost, 8, 32)                   \
    X(T, reference_counter, 12, 32)            \
    X(T, time_stamp, 16, 64)                   \
    X(T, reserved1, 24, 64)                    \
    X(T, reserved2, 32, 64)                    \
    X(T, logical_processor, 40, 8)             \
    X(T, alignment, 41, 8)                     \
    X(T, logger_id, 42, 16)                    \
    X(T, buffer_state, 44, 32)                 \
    X(T, next_buffer_offset, 48, 32)           \
    X(T, type, 52, 32)                         \
    X(T, next_buffer_index, 56, 32)            \
    X(T, reserved3, 60, 32)                    \
    X(T, reserved4, 64, 64)
HVLOG_WIRE_CHECK_LAYOUT(hv_eventlog_buffer_header, HV_EVENTLOG_BUFFER_HEADER_FIELDS,
                        HV_EVENTLOG_BUFFER_HEADER_SIZE)
HVLOG_WIRE_CODEC(hv_eventlog_buffer_header, HV_EVENTLOG_BUFFER_HEADER_FIELDS)

/* §11.4 / D9 the same 72 bytes as the current headers read them. */
struct hv_eventlog_buffer_header_current {
    uint32_t buffer_size;        /* data area only: total - 72 */
    uint32_t buffer_index;
    uint32_t events_lost;
    uint32_t reference_counter;
    uint64_t time_stamp;
    uint64_t reserved1;
    uint64_t reserved2;
    uint16_t logical_processor;  /* u16, no Alignment byte */
    uint16_t logger_id;
    uint32_t buffer_state;
    uint32_t next_buffer_offset; /* counted from the end of the header */
    uint32_t type;
    uint32_t next_buffer_index;
    uint32_t lp_sequence_number;
    uint64_t reserved4;
};
#define HV_EVENTLOG_BUFFER_HEADER_CURRENT_FIELDS(X, T) \
    X(T, buffer_size, 0, 32)                           \
    X(T, buffer_index, 4, 32)                          \
    X(T, events_lost, 8, 32)                           \
    X(T, reference_counter, 12, 32)                    \
    X(T, time_stamp, 16, 64)                           \
    X(T, reserved1, 24, 64)                            \
    X(T, reserved2, 32, 64)                            \
    X(T, logical_processor, 40, 16)                    \
    X(T, logger_id, 42, 16)                            \
    X(T, buffer_state, 44, 32)                         \
    X(T, next_buffer_offset, 48, 32)                   \
    X(T, type, 52, 32)                                 \
    X(T, next_buffer_index, 56, 32)                    \
    X(T, lp_sequence_number, 60, 32)                   \
    X(T, reserved4, 64, 64)
HVLOG_WIRE_CHECK_LAYOUT(hv_eventlog_buffer_header_current,
                        HV_EVENTLOG_BUFFER_HEADER_CURRENT_FIELDS, HV_EVENTLOG_BUFFER_HEADER_SIZE)
HVLOG_WIRE_CODEC(hv_eventlog_buffer_header_current, HV_EVENTLOG_BUFFER_HEADER_CURRENT_FIELDS)

/* §4.5 HV_EVENTLOG_ENTRY_HEADER (16). */
struct hv_eventlog_entry_header {
    uint32_t context;
    uint16_t size;       /* whole entry incl. header and padding, multiple of 8 */
    uint16_t type;       /* entry type, §4.8 */
    uint64_t time_stamp; /* in the group's time basis */
};
#define HV_EVENTLOG_ENTRY_HEADER_FIELDS(X, T) \
    X(T, context, 0, 32)                      \
    X(T, size, 4, 16)                         \
    X(T, type, 6, 16)                         \
    X(T, time_stamp, 8, 64)
HVLOG_WIRE_CHECK_LAYOUT(hv_eventlog_entry_header, HV_EVENTLOG_ENTRY_HEADER_FIELDS,
                        HV_EVENTLOG_ENTRY_HEADER_SIZE)
HVLOG_WIRE_CODEC(hv_eventlog_entry_header, HV_EVENTLOG_ENTRY_HEADER_FIELDS)

/* §4.6 HV_EVENTLOG_MESSAGE_PAYLOAD (8). */
struct hv_eventlog_message_payload {
    uint32_t event_log_type;
    uint32_t buffer_index; /* first buffer of the Ready list */
};
#define HV_EVENTLOG_MESSAGE_PAYLOAD_FIELDS(X, T) \
    X(T, event_log_type, 0, 32)                  \
    X(T, buffer_index, 4, 32)
HVLOG_WIRE_CHECK_LAYOUT(hv_eventlog_message_payload, HV_EVENTLOG_MESSAGE_PAYLOAD_FIELDS, 8)
HVLOG_WIRE_CODEC(hv_eventlog_message_payload, HV_EVENTLOG_MESSAGE_PAYLOAD_FIELDS)

/* §4.7 HV_MESSAGE_HEADER (16), struct order (D11). */
struct hv_message_header {
    uint32_t message_type;
    uint8_t payload_size;
    uint8_t message_flags; /* HV_MESSAGE_FLAG_PENDING */
    uint16_t reserved;
    uint64_t sender; /* Sender / Port union; 0 for event-log messages (DEC-MSGHDR) */
};
#define HV_MESSAGE_HEADER_FIELDS(X, T) \
    X(T, message_type, 0, 32)          \
    X(T, payload_size, 4, 8)           \
    X(T, message_flags, 5, 8)          \
    X(T, reserved, 6, 16)              \
    X(T, sender, 8, 64)
HVLOG_WIRE_CHECK_LAYOUT(hv_message_header, HV_MESSAGE_HEADER_FIELDS, 16)
HVLOG_WIRE_CODEC(hv_message_header, HV_MESSAGE_HEADER_FIELDS)

#define HV_MESSAGE_SIZE 256u
#define HV_MESSAGE_HEADER_SIZE 16u
#define HV_MESSAGE_PAYLOAD_BYTES 240u
#define HV_MESSAGE_PAYLOAD_QWORDS 30u
#define HV_MESSAGE_FLAG_PENDING 0x01u
#define HV_EVENTLOG_MESSAGE_PAYLOAD_SIZE 8u /* DEC-MSGHDR: PayloadSize */

/* §4.7 HV_MESSAGE (256): a header and 30 payload qwords. */
struct hv_message {
    struct hv_message_header header;
    uint64_t payload[HV_MESSAGE_PAYLOAD_QWORDS];
};
_Static_assert(sizeof(struct hv_message) == HV_MESSAGE_SIZE, "hv_message size");
_Static_assert(offsetof(struct hv_message, payload) == HV_MESSAGE_HEADER_SIZE,
               "hv_message payload offset");
#define HV_SYNIC_SINT_COUNT 16u
#define HV_SYNIC_MESSAGE_PAGE_SIZE (HV_SYNIC_SINT_COUNT * HV_MESSAGE_SIZE)
_Static_assert(HV_SYNIC_MESSAGE_PAGE_SIZE == HV_PAGE_SIZE, "SIM page is one page");

/* §5.1 Initialize input, 2013 (32, memory). DEC-INITLAYOUT: SystemTime @24. */
struct hv_input_initialize_eventlog_buffer_group {
    uint32_t type;
    uint32_t maximum_buffer_count;
    uint32_t buffer_pages;
    uint32_t threshold;
    uint32_t time_basis;
    uint32_t padding; /* ignored */
    uint64_t system_time;
};
#define HV_INPUT_INITIALIZE_FIELDS(X, T) \
    X(T, type, 0, 32)                    \
    X(T, maximum_buffer_count, 4, 32)    \
    X(T, buffer_pages, 8, 32)            \
    X(T, threshold, 12, 32)              \
    X(T, time_basis, 16, 32)             \
    X(T, padding, 20, 32)                \
    X(T, system_time, 24, 64)
HVLOG_WIRE_CHECK_LAYOUT(hv_input_initialize_eventlog_buffer_group, HV_INPUT_INITIALIZE_FIELDS, 32)
HVLOG_WIRE_CODEC(hv_input_initialize_eventlog_buffer_group, HV_INPUT_INITIALIZE_FIELDS)

/* §11.1 Initialize input, current profile: 28 bytes, packed (SystemTime @20). */
struct hv_input_initialize_eventlog_buffer_group_current {
    uint64_t system_time;
    uint32_t maximum_buffer_count;
    uint32_t buffer_size_bytes;
    uint32_t threshold;
    uint32_t time_basis;
    uint16_t type;
    uint16_t mode;
};
#define HV_INPUT_INITIALIZE_CURRENT_FIELDS(X, T) \
    X(T, type, 0, 16)                            \
    X(T, mode, 2, 16)                            \
    X(T, maximum_buffer_count, 4, 32)            \
    X(T, buffer_size_bytes, 8, 32)               \
    X(T, threshold, 12, 32)                      \
    X(T, time_basis, 16, 32)                     \
    X(T, system_time, 20, 64)
HVLOG_WIRE_CHECK_PACKED(hv_input_initialize_eventlog_buffer_group_current,
                        HV_INPUT_INITIALIZE_CURRENT_FIELDS, 28)
HVLOG_WIRE_CODEC(hv_input_initialize_eventlog_buffer_group_current,
                 HV_INPUT_INITIALIZE_CURRENT_FIELDS)

/* §5.2 Finalize input (8, fast). */
struct hv_input_finalize_eventlog_buffer_group {
    uint32_t type;
    uint32_t padding; /* ignored: Linux leaves it unwritten (research §2.3) */
};
#define HV_INPUT_FINALIZE_FIELDS(X, T) \
    X(T, type, 0, 32)                  \
    X(T, padding, 4, 32)
HVLOG_WIRE_CHECK_LAYOUT(hv_input_finalize_eventlog_buffer_group, HV_INPUT_FINALIZE_FIELDS, 8)
HVLOG_WIRE_CODEC(hv_input_finalize_eventlog_buffer_group, HV_INPUT_FINALIZE_FIELDS)

/* §5.3 Create input (16, fast): the proximity info sits in R8. */
struct hv_input_create_eventlog_buffer {
    uint32_t type;
    uint32_t buffer_index;
    uint32_t proximity_id;
    uint32_t proximity_flags;
};
#define HV_INPUT_CREATE_FIELDS(X, T) \
    X(T, type, 0, 32)                \
    X(T, buffer_index, 4, 32)        \
    X(T, proximity_id, 8, 32)        \
    X(T, proximity_flags, 12, 32)
HVLOG_WIRE_CHECK_LAYOUT(hv_input_create_eventlog_buffer, HV_INPUT_CREATE_FIELDS, 16)
HVLOG_WIRE_CODEC(hv_input_create_eventlog_buffer, HV_INPUT_CREATE_FIELDS)

/* §5.4-§5.6, §5.8, §5.9: {Type, BufferIndex} (8): Delete, Map, Unmap, Release, Flush. */
struct hv_input_eventlog_buffer {
    uint32_t type;
    uint32_t buffer_index;
};
#define HV_INPUT_EVENTLOG_BUFFER_FIELDS(X, T) \
    X(T, type, 0, 32)                         \
    X(T, buffer_index, 4, 32)
HVLOG_WIRE_CHECK_LAYOUT(hv_input_eventlog_buffer, HV_INPUT_EVENTLOG_BUFFER_FIELDS, 8)
HVLOG_WIRE_CODEC(hv_input_eventlog_buffer, HV_INPUT_EVENTLOG_BUFFER_FIELDS)

/* §11.2 Map / Unmap input with a partition id (16), current profile. */
struct hv_input_eventlog_buffer_partition {
    uint32_t type;
    uint32_t buffer_index;
    uint64_t partition_id; /* HV_PARTITION_ID_SELF or the root's id */
};
#define HV_INPUT_EVENTLOG_BUFFER_PARTITION_FIELDS(X, T) \
    X(T, type, 0, 32)                                   \
    X(T, buffer_index, 4, 32)                           \
    X(T, partition_id, 8, 64)
HVLOG_WIRE_CHECK_LAYOUT(hv_input_eventlog_buffer_partition,
                        HV_INPUT_EVENTLOG_BUFFER_PARTITION_FIELDS, 16)
HVLOG_WIRE_CODEC(hv_input_eventlog_buffer_partition, HV_INPUT_EVENTLOG_BUFFER_PARTITION_FIELDS)

/* §5.5 Map output: GpaPages[BufferPages], one HV_GPA_PAGE_NUMBER (u64) each. */
#define HV_MAP_OUTPUT_ENTRY_SIZE 8u
#define HV_MAP_OUTPUT_MAX_SIZE (HV_EVENTLOG_MAX_BUFFER_PAGES * HV_MAP_OUTPUT_ENTRY_SIZE)
_Static_assert(HV_MAP_OUTPUT_MAX_SIZE == HV_PAGE_SIZE, "a 512-page map output fills a page");

/* §5.7 SetSources input, 2013 (16, fast). */
struct hv_input_set_eventlog_group_sources {
    uint32_t type;
    uint32_t padding; /* ignored */
    uint64_t enable_flags;
};
#define HV_INPUT_SET_SOURCES_FIELDS(X, T) \
    X(T, type, 0, 32)                     \
    X(T, padding, 4, 32)                  \
    X(T, enable_flags, 8, 64)
HVLOG_WIRE_CHECK_LAYOUT(hv_input_set_eventlog_group_sources, HV_INPUT_SET_SOURCES_FIELDS, 16)
HVLOG_WIRE_CODEC(hv_input_set_eventlog_group_sources, HV_INPUT_SET_SOURCES_FIELDS)

/* §11.3 SetSources input, current profile (544, memory): a 16-byte head
 * (the 2013 layout when group_count is 0) and two 264-byte group configs. */
#define HV_EVENTLOG_GROUP_EVENT_IDS 256u
#define HV_EVENTLOG_GROUP_CONFIG_SIZE 264u
#define HV_EVENTLOG_SET_SOURCES_GROUPS 2u
#define HV_INPUT_SET_SOURCES_CURRENT_SIZE 544u
#define HV_EVENTLOG_EXTENDED_TRACE_FLAG 0x1ull /* ConfigurationFlags bit 0 (D5) */
struct hv_input_set_eventlog_group_sources_current {
    uint32_t type;
    uint32_t group_count;
    uint64_t configuration_flags;
};
#define HV_INPUT_SET_SOURCES_CURRENT_FIELDS(X, T) \
    X(T, type, 0, 32)                             \
    X(T, group_count, 4, 32)                      \
    X(T, configuration_flags, 8, 64)
HVLOG_WIRE_CHECK_LAYOUT(hv_input_set_eventlog_group_sources_current,
                        HV_INPUT_SET_SOURCES_CURRENT_FIELDS, 16)
HVLOG_WIRE_CODEC(hv_input_set_eventlog_group_sources_current, HV_INPUT_SET_SOURCES_CURRENT_FIELDS)

struct hv_eventlog_group_config {
    uint32_t group_id;
    uint16_t padding;
    uint16_t event_count;
    uint8_t event_id[HV_EVENTLOG_GROUP_EVENT_IDS];
};
#define HV_EVENTLOG_GROUP_CONFIG_HEAD_FIELDS(X, T) \
    X(T, group_id, 0, 32)                          \
    X(T, padding, 4, 16)                           \
    X(T, event_count, 6, 16)
_Static_assert(sizeof(struct hv_eventlog_group_config) == HV_EVENTLOG_GROUP_CONFIG_SIZE,
               "group config size");
_Static_assert(offsetof(struct hv_eventlog_group_config, event_id) == 8, "event_id offset");
_Static_assert(16 + HV_EVENTLOG_SET_SOURCES_GROUPS * HV_EVENTLOG_GROUP_CONFIG_SIZE ==
                   HV_INPUT_SET_SOURCES_CURRENT_SIZE,
               "current SetSources block size");

#endif /* HVLOG_ABI_LAYOUT_H */
