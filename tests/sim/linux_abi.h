/* SPDX-License-Identifier: MIT */
/*
 * What the Linux root driver puts on the wire, restated from the research
 * note (research/real-clients.md §1.1-§1.3 and the byte tables of §2) for
 * the replays in test_sim_linux_replay.c and test_sim_diaglog.c. Written
 * down again on purpose, not taken from hvlog/abi: if the project's ABI
 * headers and the note ever disagree, the replays fail.
 */
#ifndef HVLOG_TESTS_SIM_LINUX_ABI_H
#define HVLOG_TESTS_SIM_LINUX_ABI_H

/* Log types, call codes (§2.2, §1.2) and buffer states (§2.4). */
enum {
    LINUX_LOCAL_DIAGNOSTICS = 1,
    LINUX_SYSTEM_DIAGNOSTICS = 2,
    LINUX_CALL_INITIALIZE = 0x0060,
    LINUX_CALL_FINALIZE = 0x0061,
    LINUX_CALL_CREATE = 0x0062,
    LINUX_CALL_DELETE = 0x0063,
    LINUX_CALL_MAP = 0x0064,
    LINUX_CALL_UNMAP = 0x0065,
    LINUX_CALL_SET_SOURCES = 0x0066,
    LINUX_CALL_RELEASE = 0x0067,
    LINUX_CALL_FLUSH = 0x0068,
    LINUX_CALL_GET_SYSTEM_PROPERTY = 0x007B,
    LINUX_PROPERTY_DIAGNOSTICS_LOG_BUFFERS = 28,
    LINUX_STATE_FREE = 1,
    LINUX_STATE_IN_USE = 2,
    LINUX_STATE_COMPLETE = 3,
    LINUX_STATE_READY = 4,
};
#define LINUX_FAST_BIT 0x10000ull /* control word bit 16 (§2.1) */
#define LINUX_PARTITION_SELF 0xFFFFFFFFFFFFFFFFull
#define LINUX_INDEX_NONE 0xFFFFFFFFu
#define LINUX_SET_SOURCES_BYTES 544u /* §2.3: 16-byte head + 2 x 264 */

/* §2.5 HV_EVENTLOG_BUFFER_HEADER, current names; entries start at 72. */
#define LINUX_HEADER_BYTES 72u
#define LINUX_H_BUFFER_SIZE 0     /* u32, the data area: total - 72 */
#define LINUX_H_BUFFER_INDEX 4    /* u32 */
#define LINUX_H_EVENTS_LOST 8     /* u32 */
#define LINUX_H_TIME_STAMP 16     /* u64, diaglog's buffer generation */
#define LINUX_H_LP 40             /* u16 */
#define LINUX_H_STATE 44          /* u32 */
#define LINUX_H_NEXT_OFFSET 48    /* u32, from the end of the header */
#define LINUX_H_TYPE 52           /* u32 */
#define LINUX_H_NEXT_INDEX 56     /* u32 */
#define LINUX_H_LP_SEQUENCE 60    /* u32 */

/* §2.6 HV_EVENTLOG_ENTRY_HEADER. */
#define LINUX_ENTRY_HEADER_BYTES 16u
#define LINUX_E_CONTEXT 0         /* u32 */
#define LINUX_E_SIZE 4            /* u16 */
#define LINUX_E_TYPE 6            /* u16, 0 ends a diaglog scan */
#define LINUX_E_TIME_STAMP 8      /* u64 */

/* §2.7 the buffers-ready message in SINT0's slot; §1.3 the EOM MSR. */
#define LINUX_MSG_BUFFER_COMPLETE 0x80000040u
#define LINUX_M_FLAGS 5           /* u8, bit 0 MessagePending */
#define LINUX_MSG_PENDING 0x01u
#define LINUX_M_LOG_TYPE 16       /* u32 */
#define LINUX_M_BUFFER_INDEX 20   /* u32 */
#define LINUX_MSR_EOM 0x40000084u

#endif /* HVLOG_TESTS_SIM_LINUX_ABI_H */
