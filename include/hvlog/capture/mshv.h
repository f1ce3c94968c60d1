/* SPDX-License-Identifier: MIT */
/*
 * Capture from a real Linux root: the user-space reader of /dev/mshv_diag
 * (issue #14 item 3; the uapi in hvlog/abi/mshv_uapi.h, the driver's
 * behaviour in research/real-clients.md §1.1-§1.2 and docs/real-root.md).
 *
 * It only makes system calls on a path (open, ioctl, read, close, and
 * pread on /dev/cpu/N/msr): the same code runs on a Hyper-V root and under
 * the test suite's emulated device (tests/capture/fake_mshv.c, an
 * LD_PRELOAD library).
 *
 * The life of a capture, and which call does what:
 *
 *   hvlog_capture_open    open the device, MSHV_GET_TRACE_FD,
 *                         MSHV_TRACE_STATE_CREATE (or, for existing state,
 *                         refuse / ATTACH to it / DESTROY it first),
 *                         MSHV_TRACE_STATE_ATTACH, MSHV_TRACE_STATE_INFO;
 *                         the diaglog fd when asked; the time anchor
 *   hvlog_capture_config_in_effect, _anchor   what the trace's metadata needs
 *   hvlog_capture_run     MSHV_TRACE_START(sources), read() whole buffers
 *                         into sink->buffer until asked to stop, then
 *                         MSHV_TRACE_STOP and read() to end of file
 *   hvlog_capture_close   MSHV_TRACE_STATE_DETACH, MSHV_TRACE_STATE_DESTROY
 *                         (unless the state was reused and kept), close
 *
 * Threads: open, run and close on ONE thread: the driver lets only the
 * thread that attached read the trace fd (EPERM otherwise). The diaglog fd
 * is read by a second thread the capture starts in run; the sink's
 * callbacks are never called at the same time (a lock serialises them).
 *
 * Stopping: the driver's read() blocks until a buffer arrives and has no
 * poll, so a caller stops a run by (a) returning non-zero from a callback,
 * or (b) setting *stop (a sig_atomic_t a signal handler may set) and
 * making sure a signal interrupts the read: the driver's read returns EINTR
 * on any signal, restart or not. hvlog_capture_run then stops the trace,
 * which flushes the InUse buffers, and reads until end of file. A signal
 * that lands between the check of *stop and the read() is not seen until
 * the next buffer arrives (on an idle host: never), so a caller that stops
 * by signal keeps signalling until run returns (e.g. an interval timer
 * armed once *stop is set; the read() is on the thread that called run).
 *
 * Nothing the driver hands out is trusted: a buffer whose header says
 * 72 + BufferSize != the buffer size ends the run with an error, and the
 * buffers delivered before it stay delivered. A short read, EINTR, EIO or
 * an early end of file is reported the same way (one clear line from
 * hvlog_capture_error); everything already delivered is kept. A diaglog
 * error ends the diaglog reader only: the trace goes on, and run returns
 * that error at its end.
 */
#ifndef HVLOG_CAPTURE_MSHV_H
#define HVLOG_CAPTURE_MSHV_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/abi/mshv_uapi.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

struct hvlog_capture;

/* What to do when the host's one trace state exists already (EEXIST). */
enum hvlog_capture_existing {
    HVLOG_CAPTURE_REFUSE = 0, /* fail with HVLOG_CAPTURE_EXISTS: "--reuse or --reset" */
    HVLOG_CAPTURE_REUSE = 1,  /* attach to it, keep its config; left in place at close */
    HVLOG_CAPTURE_RESET = 2,  /* destroy it, then create ours */
};

struct hvlog_capture_config {
    const char *device;      /* NULL = HVLOG_MSHV_DIAG_PATH */
    bool trace;              /* read the trace fd (LocalDiagnostics) */
    bool diaglog;            /* read the diaglog fd (SystemDiagnostics records) */
    /* MSHV_TRACE_STATE_CREATE (struct mshv_trace_config); checked here with
     * the driver's rules before the ioctl, so an EINVAL after that is the
     * kernel's or the hypervisor's. */
    uint32_t mode;           /* HvEventLogModeRegular / Circular */
    uint32_t buffer_count;   /* 1..512 */
    uint32_t buffer_pages;   /* 1..512 */
    uint32_t threshold;      /* 0..buffer_count */
    uint32_t time_basis;     /* enum hv_eventlog_time_basis */
    uint64_t system_time;    /* FILETIME (100 ns since 1601); 0 = now */
    uint64_t sources;        /* MSHV_TRACE_START flags; 0 = HVLOG_MSHV_TR_ALL_GROUPS */
    enum hvlog_capture_existing existing;
    uint32_t anchor_cpu;     /* /dev/cpu/N/msr to read the reference counter from */
    uint32_t diaglog_poll_ms; /* diaglog reader's pause when the ring is idle; 0 = 100 */
};

/** hvlog_capture_config_default - trace on, diaglog off, Regular mode,
 * 16 buffers of 4 pages, threshold 1, Reference basis, SystemTime now, all
 * groups, refuse existing state, CPU 0. */
HVLOG_API struct hvlog_capture_config hvlog_capture_config_default(void);

/* Every outcome, one table: X(name, "one-line meaning"). */
#define HVLOG_CAPTURE_STATUS_TABLE(X)                                                         \
    X(HVLOG_CAPTURE_OK, "ok")                                                                 \
    X(HVLOG_CAPTURE_BAD_CONFIG, "the configuration breaks the driver's rules")                \
    X(HVLOG_CAPTURE_NO_DEVICE, "not a Hyper-V root partition, or the mshv_diag driver is not loaded") \
    X(HVLOG_CAPTURE_NOT_PERMITTED, "needs root")                                              \
    X(HVLOG_CAPTURE_BUSY, "another tracer is attached")                                       \
    X(HVLOG_CAPTURE_EXISTS, "trace state exists already")                                     \
    X(HVLOG_CAPTURE_KERNEL, "this kernel's mshv uapi differs")                                \
    X(HVLOG_CAPTURE_SYSTEM, "a system call failed")                                           \
    X(HVLOG_CAPTURE_SHORT_READ, "the trace ended inside a buffer")                            \
    X(HVLOG_CAPTURE_BAD_BUFFER, "a buffer's size is not the configured one")                  \
    X(HVLOG_CAPTURE_BAD_RECORD, "a diaglog record is malformed")                              \
    X(HVLOG_CAPTURE_EARLY_EOF, "the trace ended before it was stopped")

enum hvlog_capture_status {
#define HVLOG_X_CAPTURE_ENUM(name, text) name,
    HVLOG_CAPTURE_STATUS_TABLE(HVLOG_X_CAPTURE_ENUM)
#undef HVLOG_X_CAPTURE_ENUM
};

/** The status's name ("HVLOG_CAPTURE_BUSY"), or NULL for another value. */
HVLOG_API const char *hvlog_capture_status_name(enum hvlog_capture_status status);

/**
 * hvlog_capture_open - open @config->device and set the trace up (the
 * first block of the life above). On success *@out is the capture; on
 * failure *@out is still a capture (or NULL when out of memory) that holds
 * the error: read hvlog_capture_error(), then hvlog_capture_close() it
 * (which undoes what was done). Returns the status. Not thread-safe
 * against another open in the same process (nor is the driver's state).
 */
HVLOG_API enum hvlog_capture_status hvlog_capture_open(const struct hvlog_capture_config *config,
                                                       struct hvlog_capture **out);

/** The config the trace state really has (MSHV_TRACE_STATE_INFO after
 * attach: a reused state's, not ours). Valid after a successful open. */
HVLOG_API void hvlog_capture_config_in_effect(const struct hvlog_capture *capture,
                                              struct hvlog_mshv_trace_config *out);

/* The time anchor: one read of HV_X64_MSR_TIME_REF_COUNT paired with the
 * wall clock, taken at open. */
struct hvlog_capture_anchor {
    bool valid;               /* false: "no reference anchor" (reason says why) */
    uint64_t ref_time_100ns;  /* the reference counter */
    uint64_t unix_time_ns;    /* CLOCK_REALTIME at the midpoint of the read */
    char reason[160];         /* when !valid: e.g. "/dev/cpu/0/msr: No such file..." */
};
HVLOG_API void hvlog_capture_anchor(const struct hvlog_capture *capture,
                                    struct hvlog_capture_anchor *out);

/* Where the data goes. Either member may be NULL (the bytes are dropped).
 * A non-zero return asks the run to stop (STOP, then drain to EOF: more
 * buffers may still be delivered). Never called concurrently. */
struct hvlog_capture_sink {
    /* One whole trace buffer: @len = buffer_pages x 4096, its 72-byte
     * header checked (72 + BufferSize == len). Trace thread. */
    int (*buffer)(void *arg, const uint8_t *bytes, size_t len);
    /* One whole diaglog record (16-byte header, TimeStamp in Unix seconds,
     * then the payload): @len == its Size. Diaglog thread. */
    int (*record)(void *arg, const uint8_t *bytes, size_t len);
};

/**
 * hvlog_capture_run - START, deliver, and on a stop request STOP and drain
 * (the second block of the life above). @stop may be NULL. With trace off
 * it reads only the diaglog until a callback or *@stop asks to stop.
 * Returns OK, or the first error; after an error the trace is still
 * stopped (best effort) so that close can detach and destroy. Call once.
 */
HVLOG_API enum hvlog_capture_status hvlog_capture_run(struct hvlog_capture *capture,
                                                      const struct hvlog_capture_sink *sink,
                                                      void *arg,
                                                      const volatile sig_atomic_t *stop);

/**
 * hvlog_capture_close - DETACH and DESTROY (not for a reused state), close
 * every fd, free. Returns the capture's status: its first error, from open,
 * run or these steps, OK when there was none; that error's line is copied
 * to @error (@error_len bytes, may be 0). NULL (an open that ran out of
 * memory) returns HVLOG_CAPTURE_SYSTEM, "out of memory".
 */
HVLOG_API enum hvlog_capture_status hvlog_capture_close(struct hvlog_capture *capture,
                                                        char *error, size_t error_len);

/** hvlog_capture_error - one line saying what went wrong first ("" when
 * nothing did). Valid until close. */
HVLOG_API const char *hvlog_capture_error(const struct hvlog_capture *capture);

/* What was delivered, for the trace's loss summary, a live display (on a
 * real root `top` reads these: the driver allows no second reader) and the
 * tests. hvlog_capture_stats may be called from any thread at any time
 * between open and close. */
struct hvlog_capture_stats {
    uint64_t buffers;        /* whole buffers handed to sink->buffer */
    uint64_t bytes;          /* their bytes */
    uint64_t reads;          /* read() calls on the trace fd that returned data */
    uint64_t short_reads;    /* of them, returned less than asked (resumed) */
    uint64_t eintr;          /* read() interrupted, retried */
    uint64_t after_stop;     /* buffers delivered after STOP (the drain) */
    uint64_t records;        /* diaglog records handed to sink->record */
    uint64_t record_bytes;
};
HVLOG_API void hvlog_capture_stats(const struct hvlog_capture *capture,
                                   struct hvlog_capture_stats *out);

HVLOG_END_DECLS

#endif /* HVLOG_CAPTURE_MSHV_H */
