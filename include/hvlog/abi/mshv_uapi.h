/* SPDX-License-Identifier: MIT */
/*
 * The Linux root driver's user-space interface to the event log: the
 * /dev/mshv_diag device, the trace fd it hands out (LocalDiagnostics) and
 * the diaglog fd (SystemDiagnostics). Restated from the facts of
 * research/real-clients.md §1.1-§1.2 (the uapi header
 * include/uapi/linux/mshv.h and drivers/hv/diag/ of the Azure Linux kernel);
 * our own definitions, checked here at compile time.
 *
 * An ioctl number is Linux's generic encoding: direction in bits 30-31
 * (none 0, write 1, read 2), argument size in bits 16-29, type in bits 8-15,
 * number in bits 0-7. The numbers below are computed from that rule and
 * asserted against the literal values, so a change of either fails the
 * build; tests/abi/test_abi_mshv_uapi.c checks them once more against the
 * system's <linux/ioctl.h>.
 *
 *   ioctl                      on          arg                       errno of note
 *   MSHV_GET_TRACE_FD          device      none                      ENOTTY (unknown ioctl)
 *   MSHV_GET_DIAGLOG_FD        device      none                      ENODEV (ring not mapped)
 *   MSHV_TRACE_STATE_CREATE    trace fd    const config *            EEXIST, EINVAL
 *   MSHV_TRACE_STATE_INFO      trace fd    config * (out)            ENOENT
 *   MSHV_TRACE_STATE_DESTROY   trace fd    none                      ENOENT, EBUSY (attached)
 *   MSHV_TRACE_STATE_ATTACH    trace fd    none                      ENOENT, EALREADY, EBUSY
 *   MSHV_TRACE_STATE_DETACH    trace fd    none                      ENOENT, EPERM, EBUSY (started)
 *   MSHV_TRACE_START           trace fd    u64 flags, by value       ENOENT, EPERM, EINVAL
 *   MSHV_TRACE_STOP            trace fd    none                      ENOENT, EPERM, ETIME
 *
 * One trace state per host, shared by every trace fd; one fd attached at a
 * time, and only the thread that attached may read() it (EPERM otherwise).
 * The driver has no poll: read() blocks until a buffer is queued, and
 * returns 0 once the trace is stopped (or was never started) and its queue
 * is empty.
 *
 * Layer: abi (constants and layouts, no code).
 */
#ifndef HVLOG_ABI_MSHV_UAPI_H
#define HVLOG_ABI_MSHV_UAPI_H

#include <stddef.h>
#include <stdint.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/wire.h"

/* The device node and its mode (0400: only root opens it). */
#define HVLOG_MSHV_DIAG_PATH "/dev/mshv_diag"

/* ---- the ioctl number encoding (asm-generic/ioctl.h's rule) ---- */
#define HVLOG_IOC_NONE 0u
#define HVLOG_IOC_WRITE 1u
#define HVLOG_IOC_READ 2u
#define HVLOG_IOC(dir, type, nr, size) \
    ((uint32_t)(((uint32_t)(dir) << 30) | ((uint32_t)(size) << 16) | ((uint32_t)(type) << 8) | (uint32_t)(nr)))

/* The ioctl types: 0xB9 for the device, 0xBA for the trace fd. */
#define HVLOG_MSHV_DIAG_IOCTL 0xB9u
#define HVLOG_MSHV_TRACE_IOCTL 0xBAu

/*
 * struct mshv_trace_config: CREATE's input and INFO's output. Not packed:
 * SystemTime is 8-aligned at 24, after 4 bytes of padding at 20 (named
 * here, so the struct is 32 bytes on every ABI). The driver rejects
 * mode >= 2, a count of 0 or above 512 (one page of u64 page numbers),
 * and a threshold above the count; threshold 0 passes. It sends
 * pages_per_buffer x 4096 as Initialize's BufferSizeInBytes (§11.1).
 */
struct hvlog_mshv_trace_config {
    uint32_t mode;              /* enum hv_eventlog_mode */
    uint32_t max_buffers_count;
    uint32_t pages_per_buffer;
    uint32_t buffers_threshold;
    uint32_t time_basis;        /* enum hv_eventlog_time_basis */
    uint32_t padding;           /* implicit in the uapi; write 0 */
    uint64_t system_time;       /* FILETIME: 100 ns since 1601-01-01 */
};
#define HVLOG_MSHV_TRACE_CONFIG_FIELDS(X, T) \
    X(T, mode, 0, 32)                        \
    X(T, max_buffers_count, 4, 32)           \
    X(T, pages_per_buffer, 8, 32)            \
    X(T, buffers_threshold, 12, 32)          \
    X(T, time_basis, 16, 32)                 \
    X(T, padding, 20, 32)                    \
    X(T, system_time, 24, 64)
#define HVLOG_MSHV_TRACE_CONFIG_SIZE 32u
HVLOG_WIRE_CHECK_LAYOUT(hvlog_mshv_trace_config, HVLOG_MSHV_TRACE_CONFIG_FIELDS,
                        HVLOG_MSHV_TRACE_CONFIG_SIZE)

/* The driver's checks of a config (mshv_trace_check_config), restated. */
#define HVLOG_MSHV_MODE_LIMIT 2u          /* mode < 2: Regular, Circular */
#define HVLOG_MSHV_MAX_BUFFERS 512u       /* PAGE_SIZE / sizeof(u64) */
#define HVLOG_MSHV_MAX_PAGES_PER_BUFFER 512u /* the page-pointer array is one page */

/*
 * START's flags: the legacy HV_TR_GROUP_* mask (groups BM 0x100 .. GENERIC
 * 0x20000000). The driver refuses a mask with no bit of HV_TR_ALL_GROUPS
 * (EINVAL) and one with bit 0, the "extended" flag, set (EINVAL).
 */
#define HVLOG_MSHV_TR_ALL_GROUPS 0x3FFFFF00ull
#define HVLOG_MSHV_TR_EXTENDED 0x1ull

/* The ioctls: each number from the encoding rule... */
#define HVLOG_MSHV_GET_TRACE_FD \
    HVLOG_IOC(HVLOG_IOC_NONE, HVLOG_MSHV_DIAG_IOCTL, HvEventLogTypeLocalDiagnostics, 0u)
#define HVLOG_MSHV_GET_DIAGLOG_FD \
    HVLOG_IOC(HVLOG_IOC_NONE, HVLOG_MSHV_DIAG_IOCTL, HvEventLogTypeSystemDiagnostics, 0u)
#define HVLOG_MSHV_TRACE_STATE_CREATE \
    HVLOG_IOC(HVLOG_IOC_WRITE, HVLOG_MSHV_TRACE_IOCTL, 0u, HVLOG_MSHV_TRACE_CONFIG_SIZE)
#define HVLOG_MSHV_TRACE_STATE_INFO \
    HVLOG_IOC(HVLOG_IOC_READ, HVLOG_MSHV_TRACE_IOCTL, 1u, HVLOG_MSHV_TRACE_CONFIG_SIZE)
#define HVLOG_MSHV_TRACE_STATE_DESTROY HVLOG_IOC(HVLOG_IOC_NONE, HVLOG_MSHV_TRACE_IOCTL, 2u, 0u)
#define HVLOG_MSHV_TRACE_STATE_ATTACH HVLOG_IOC(HVLOG_IOC_NONE, HVLOG_MSHV_TRACE_IOCTL, 3u, 0u)
#define HVLOG_MSHV_TRACE_STATE_DETACH HVLOG_IOC(HVLOG_IOC_NONE, HVLOG_MSHV_TRACE_IOCTL, 4u, 0u)
#define HVLOG_MSHV_TRACE_START HVLOG_IOC(HVLOG_IOC_NONE, HVLOG_MSHV_TRACE_IOCTL, 5u, 0u)
#define HVLOG_MSHV_TRACE_STOP HVLOG_IOC(HVLOG_IOC_NONE, HVLOG_MSHV_TRACE_IOCTL, 6u, 0u)

/* ...and one table of them with the uapi's names, for messages:
 * X(number, "uapi name"). */
#define HVLOG_MSHV_IOCTL_TABLE(X)                                   \
    X(HVLOG_MSHV_GET_TRACE_FD, "MSHV_GET_TRACE_FD")                 \
    X(HVLOG_MSHV_GET_DIAGLOG_FD, "MSHV_GET_DIAGLOG_FD")             \
    X(HVLOG_MSHV_TRACE_STATE_CREATE, "MSHV_TRACE_STATE_CREATE")     \
    X(HVLOG_MSHV_TRACE_STATE_INFO, "MSHV_TRACE_STATE_INFO")         \
    X(HVLOG_MSHV_TRACE_STATE_DESTROY, "MSHV_TRACE_STATE_DESTROY")   \
    X(HVLOG_MSHV_TRACE_STATE_ATTACH, "MSHV_TRACE_STATE_ATTACH")     \
    X(HVLOG_MSHV_TRACE_STATE_DETACH, "MSHV_TRACE_STATE_DETACH")     \
    X(HVLOG_MSHV_TRACE_START, "MSHV_TRACE_START")                   \
    X(HVLOG_MSHV_TRACE_STOP, "MSHV_TRACE_STOP")

/* The numbers as a kernel built from that uapi sees them. */
_Static_assert(HVLOG_MSHV_GET_TRACE_FD == 0x0000B901u, "MSHV_GET_TRACE_FD");
_Static_assert(HVLOG_MSHV_GET_DIAGLOG_FD == 0x0000B902u, "MSHV_GET_DIAGLOG_FD");
_Static_assert(HVLOG_MSHV_TRACE_STATE_CREATE == 0x4020BA00u, "MSHV_TRACE_STATE_CREATE");
_Static_assert(HVLOG_MSHV_TRACE_STATE_INFO == 0x8020BA01u, "MSHV_TRACE_STATE_INFO");
_Static_assert(HVLOG_MSHV_TRACE_STATE_DESTROY == 0x0000BA02u, "MSHV_TRACE_STATE_DESTROY");
_Static_assert(HVLOG_MSHV_TRACE_STATE_ATTACH == 0x0000BA03u, "MSHV_TRACE_STATE_ATTACH");
_Static_assert(HVLOG_MSHV_TRACE_STATE_DETACH == 0x0000BA04u, "MSHV_TRACE_STATE_DETACH");
_Static_assert(HVLOG_MSHV_TRACE_START == 0x0000BA05u, "MSHV_TRACE_START");
_Static_assert(HVLOG_MSHV_TRACE_STOP == 0x0000BA06u, "MSHV_TRACE_STOP");

/*
 * The trace fd's read(): a byte stream of whole buffers, each exactly
 * pages_per_buffer x 4096 bytes (the 72-byte header, §11.4 current
 * convention, then every data byte to the end of the last page). A read may
 * return less than a buffer (the stream resumes at the file offset modulo
 * the buffer size) or span several. The driver releases a buffer once its
 * last byte was copied, and WARNs with EIO when a header's
 * 72 + BufferSize is not the buffer size.
 */

/*
 * The diaglog fd's read(): SystemDiagnostics records back to back, no
 * padding between them (the driver steps its own offset by Size rounded up
 * to 8, but copies Size bytes). Each record is whole: the 16-byte entry
 * header (§4.5: Context u32 @0, Size u16 @4, Type u16 @6, TimeStamp u64 @8)
 * then Size - 16 payload bytes. TimeStamp is REWRITTEN: the ring's
 * reference time (100 ns) becomes Unix seconds, wall clock at the fd's open
 * plus whole seconds since (a signed division, so it truncates towards 0).
 * A record larger than the space left is not copied; one larger than the
 * whole read buffer blocks the fd for good, so a reader offers at least
 * HVLOG_MSHV_DIAGLOG_READ_MIN bytes. read() returns 0 when there is no new
 * record: not an end of file, the ring may fill again. No ioctls, no poll.
 */
#define HVLOG_MSHV_DIAGLOG_READ_MIN 65536u /* > the largest Size (u16) */
#define HVLOG_MSHV_DIAGLOG_TIME_IS_UNIX_SECONDS 1

/* The reference counter a root may read through /dev/cpu/N/msr: 100 ns
 * since the partition's boot, the Reference time basis (§2.2). */
#define HV_X64_MSR_TIME_REF_COUNT 0x40000020u

#endif /* HVLOG_ABI_MSHV_UAPI_H */
