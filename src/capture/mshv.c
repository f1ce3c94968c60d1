/* SPDX-License-Identifier: MIT */
/*
 * The user-space reader of /dev/mshv_diag (hvlog/capture/mshv.h).
 *
 * Written from the uapi and the driver's behaviour as research/real-
 * clients.md §1.1-§1.2 states them; the facts this file leans on:
 *   - one trace state per host: CREATE fails with EEXIST while one exists,
 *     DESTROY with EBUSY while an fd is attached; one fd attached at a time
 *     (EBUSY), and only the attaching thread may read (EPERM);
 *   - read() copies whole buffers as a byte stream and may stop inside one
 *     (the next read resumes there); it blocks until a buffer is queued,
 *     returns EINTR on a signal, and 0 once the trace is stopped and the
 *     queue is empty - or before START: an end of file we did not ask for;
 *   - STOP disables the sources, flushes the InUse buffers and waits for
 *     them (ETIME after 1 s), releases the Complete ones; buffers queued
 *     before that are still read; there is no flush while running;
 *   - the diaglog fd returns whole records, 0 when nothing is new.
 *
 * Locks: capture->lock guards error[] / status and serialises the sink's
 * callbacks between the trace thread (the caller's) and the diaglog
 * thread. diaglog_quit is the one flag the two threads share outside it
 * (an atomic: release by the trace thread, acquire by the diaglog thread).
 */
#define _GNU_SOURCE /* pread on the msr device; strerror_r's GNU form is not used */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "hvlog/capture/mshv.h"

#define DIAGLOG_READ_BYTES ((size_t)2 * HVLOG_MSHV_DIAGLOG_READ_MIN)
#define ERROR_BYTES 320u

struct hvlog_capture {
    struct hvlog_capture_config config;
    struct hvlog_mshv_trace_config effective;
    struct hvlog_capture_anchor anchor;
    int device_fd, trace_fd, diaglog_fd;
    bool created;   /* this capture created the state (destroy it at close) */
    bool attached;
    bool started, stopped, ran;
    uint8_t *buffer;      /* one trace buffer being assembled */
    size_t buffer_bytes;
    uint8_t *records;     /* the diaglog read buffer */

    pthread_mutex_t lock; /* guards status, error, the sink calls, stats.records* */
    enum hvlog_capture_status status;
    char error[ERROR_BYTES];
    const struct hvlog_capture_sink *sink;
    void *sink_arg;
    bool sink_stop;       /* a callback asked to stop (under lock) */
    atomic_bool diaglog_quit;
    struct hvlog_capture_stats stats;
};

/* ---- names and errors ---- */

static const char *const status_names[] = {
#define ROW(name, text) #name,
    HVLOG_CAPTURE_STATUS_TABLE(ROW)
#undef ROW
};

const char *hvlog_capture_status_name(enum hvlog_capture_status status)
{
    if ((size_t)status >= sizeof status_names / sizeof status_names[0])
        return NULL;
    return status_names[status];
}

static const char *ioctl_name(uint32_t request)
{
#define ROW(number, name) \
    if (request == (number)) \
        return name;
    HVLOG_MSHV_IOCTL_TABLE(ROW)
#undef ROW
    return "ioctl";
}

/* Record the first error: one line. Later ones are dropped (the first is
 * the cause; what follows is cleanup). Any thread. */
static enum hvlog_capture_status fail(struct hvlog_capture *c, enum hvlog_capture_status status,
                                      const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum hvlog_capture_status fail(struct hvlog_capture *c, enum hvlog_capture_status status,
                                      const char *fmt, ...)
{
    pthread_mutex_lock(&c->lock);
    if (c->status == HVLOG_CAPTURE_OK) {
        va_list ap;

        c->status = status;
        va_start(ap, fmt);
        vsnprintf(c->error, sizeof c->error, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&c->lock);
    return status;
}

static const char *kernel_release(struct utsname *u)
{
    return uname(u) == 0 ? u->release : "unknown";
}

/* An ioctl failed with @err: name it and say what it means for us. The
 * trace fd's errno values come from the driver's own checks or from a
 * hypercall's status (research §1.1: INVALID_PARAMETER -> EINVAL,
 * ACCESS_DENIED / OPERATION_DENIED -> EACCES, INSUFFICIENT_MEMORY -> ENOMEM,
 * the rest -> EIO; the driver logs the status name to the kernel log). */
static enum hvlog_capture_status fail_ioctl(struct hvlog_capture *c, uint32_t request, int err)
{
    const char *name = ioctl_name(request);
    bool on_trace_fd = ((request >> 8) & 0xFFu) == HVLOG_MSHV_TRACE_IOCTL;
    struct utsname u;

    switch (err) {
    case ENOTTY:
        return fail(c, HVLOG_CAPTURE_KERNEL,
                    "%s: %s: kernel %s does not know this ioctl; its mshv uapi differs from "
                    "the one hvlog speaks", name, strerror(err), kernel_release(&u));
    case EINVAL:
        /* Our config passed the driver's own checks (check_config), so an
         * EINVAL is a kernel with other rules, or the hypervisor's no. */
        return fail(c, HVLOG_CAPTURE_KERNEL,
                    "%s: %s: kernel %s refused what its uapi as hvlog knows it allows (its "
                    "mshv uapi differs, or the hypervisor rejected the configuration)",
                    name, strerror(err), kernel_release(&u));
    case EBUSY:
        return fail(c, HVLOG_CAPTURE_BUSY,
                    "%s: %s: another tracer is attached to the trace state (the driver "
                    "allows one reader)", name, strerror(err));
    case EEXIST:
        return fail(c, HVLOG_CAPTURE_EXISTS,
                    "%s: %s: a trace state exists already (another recorder left it, or is "
                    "running): use --reuse to attach to it or --reset to destroy it first",
                    name, strerror(err));
    case ENOMEM:
        return fail(c, HVLOG_CAPTURE_SYSTEM,
                    "%s: %s: the hypervisor had no memory for the buffers (the driver does "
                    "not deposit more): try fewer or smaller buffers", name, strerror(err));
    case ETIME:
        return fail(c, HVLOG_CAPTURE_SYSTEM,
                    "%s: %s: buffers were still InUse 1 s after their flush; the trace state "
                    "may be left behind (--reset clears it)", name, strerror(err));
    case EPERM:
    case EACCES:
        if (!on_trace_fd)
            return fail(c, HVLOG_CAPTURE_NOT_PERMITTED, "%s: %s: needs root", name,
                        strerror(err));
        if (err == EPERM)
            return fail(c, HVLOG_CAPTURE_SYSTEM, "%s: %s: this trace fd is not the one "
                        "attached to the trace state", name, strerror(err));
        return fail(c, HVLOG_CAPTURE_SYSTEM, "%s: %s: the hypervisor denied a call (the "
                    "kernel log names its status)", name, strerror(err));
    default:
        return fail(c, HVLOG_CAPTURE_SYSTEM, "%s: %s%s", name, strerror(err),
                    on_trace_fd ? " (the kernel log names the hypervisor's status)" : "");
    }
}

static int do_ioctl(int fd, uint32_t request, unsigned long arg)
{
    int rc;

    do {
        rc = ioctl(fd, (unsigned long)request, arg);
    } while (rc < 0 && errno == EINTR);
    return rc;
}

static int ioctl_ptr(int fd, uint32_t request, void *arg)
{
    return do_ioctl(fd, request, (unsigned long)(uintptr_t)arg);
}

/* ---- config ---- */

static uint64_t filetime_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return hvlog_unix_to_filetime((uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec);
}

struct hvlog_capture_config hvlog_capture_config_default(void)
{
    return (struct hvlog_capture_config){
        .device = HVLOG_MSHV_DIAG_PATH,
        .trace = true,
        .mode = HvEventLogModeRegular,
        .buffer_count = 16,
        .buffer_pages = 4,
        .threshold = 1,
        .time_basis = HvEventLogEntryTimeReference,
        .sources = HVLOG_MSHV_TR_ALL_GROUPS,
    };
}

/* The driver's check_config and START checks, before any ioctl. */
static enum hvlog_capture_status check_config(struct hvlog_capture *c)
{
    const struct hvlog_capture_config *k = &c->config;

    if (!k->trace && !k->diaglog)
        return fail(c, HVLOG_CAPTURE_BAD_CONFIG, "nothing to capture: neither trace nor diaglog");
    if (!k->trace)
        return HVLOG_CAPTURE_OK;
    if (k->mode >= HVLOG_MSHV_MODE_LIMIT)
        return fail(c, HVLOG_CAPTURE_BAD_CONFIG, "mode %u: the driver knows 0 (Regular) and 1 "
                    "(Circular)", k->mode);
    if (k->buffer_count == 0 || k->buffer_count > HVLOG_MSHV_MAX_BUFFERS)
        return fail(c, HVLOG_CAPTURE_BAD_CONFIG, "buffer count %u: the driver takes 1..%u",
                    k->buffer_count, HVLOG_MSHV_MAX_BUFFERS);
    if (k->buffer_pages == 0 || k->buffer_pages > HVLOG_MSHV_MAX_PAGES_PER_BUFFER)
        return fail(c, HVLOG_CAPTURE_BAD_CONFIG, "buffer pages %u: the driver takes 1..%u",
                    k->buffer_pages, HVLOG_MSHV_MAX_PAGES_PER_BUFFER);
    if (k->threshold > k->buffer_count)
        return fail(c, HVLOG_CAPTURE_BAD_CONFIG, "threshold %u above the buffer count %u",
                    k->threshold, k->buffer_count);
    if (k->time_basis > HvEventLogEntryTimeMaximumCurrent)
        return fail(c, HVLOG_CAPTURE_BAD_CONFIG, "time basis %u: 0 (Reference), 1 (Tsc) or 2 "
                    "(Qpc)", k->time_basis);
    if (!(k->sources & HVLOG_MSHV_TR_ALL_GROUPS) || (k->sources & HVLOG_MSHV_TR_EXTENDED))
        return fail(c, HVLOG_CAPTURE_BAD_CONFIG, "sources 0x%llx: START needs a group bit of "
                    "0x%llx and bit 0 (extended) clear", (unsigned long long)k->sources,
                    (unsigned long long)HVLOG_MSHV_TR_ALL_GROUPS);
    return HVLOG_CAPTURE_OK;
}

/* ---- the time anchor ---- */

static uint64_t realtime_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* HV_X64_MSR_TIME_REF_COUNT through the msr driver (offset = MSR number),
 * paired with the wall clock at the read's midpoint. Where that is not
 * allowed (no msr module, no root, not Hyper-V: EIO) the trace has no
 * reference anchor, and wall-clock time comes from SystemTime alone. */
static void take_anchor(struct hvlog_capture *c)
{
    struct hvlog_capture_anchor *a = &c->anchor;
    char path[64];
    uint64_t before, after;
    uint8_t bytes[8];
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "/dev/cpu/%u/msr", c->config.anchor_cpu);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(a->reason, sizeof a->reason, "no reference anchor: %s: %s", path,
                 strerror(errno));
        return;
    }
    before = realtime_ns();
    n = pread(fd, bytes, sizeof bytes, (off_t)HV_X64_MSR_TIME_REF_COUNT);
    after = realtime_ns();
    if (n != (ssize_t)sizeof bytes) {
        snprintf(a->reason, sizeof a->reason, "no reference anchor: %s: reading MSR 0x%x: %s",
                 path, HV_X64_MSR_TIME_REF_COUNT, n < 0 ? strerror(errno) : "short read");
    } else {
        a->valid = true;
        a->ref_time_100ns = hvlog_load_le64(bytes);
        a->unix_time_ns = before + (after - before) / 2;
    }
    close(fd);
}

/* ---- open ---- */

static enum hvlog_capture_status open_device(struct hvlog_capture *c)
{
    const char *path = c->config.device;

    c->device_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (c->device_fd >= 0)
        return HVLOG_CAPTURE_OK;
    switch (errno) {
    case ENOENT:
    case ENODEV:
    case ENXIO:
        return fail(c, HVLOG_CAPTURE_NO_DEVICE, "%s: %s: not a Hyper-V root partition, or the "
                    "mshv_diag driver is not loaded", path, strerror(errno));
    case EPERM:
    case EACCES:
        return fail(c, HVLOG_CAPTURE_NOT_PERMITTED, "%s: %s: needs root (the device is mode "
                    "0400)", path, strerror(errno));
    default:
        return fail(c, HVLOG_CAPTURE_SYSTEM, "%s: %s", path, strerror(errno));
    }
}

/* MSHV_GET_*_FD: the ioctl's return value is the new fd. */
static int get_fd(struct hvlog_capture *c, uint32_t request, int *out)
{
    int fd = do_ioctl(c->device_fd, request, 0);

    if (fd < 0) {
        if (request == HVLOG_MSHV_GET_DIAGLOG_FD && errno == ENODEV)
            return fail(c, HVLOG_CAPTURE_NO_DEVICE, "%s: %s: the driver has no SystemDiagnostics "
                        "ring mapped", ioctl_name(request), strerror(errno));
        return fail_ioctl(c, request, errno);
    }
    *out = fd;
    return HVLOG_CAPTURE_OK;
}

static enum hvlog_capture_status create_state(struct hvlog_capture *c)
{
    struct hvlog_mshv_trace_config k = {
        .mode = c->config.mode,
        .max_buffers_count = c->config.buffer_count,
        .pages_per_buffer = c->config.buffer_pages,
        .buffers_threshold = c->config.threshold,
        .time_basis = c->config.time_basis,
        .system_time = c->config.system_time ? c->config.system_time : filetime_now(),
    };

    if (ioctl_ptr(c->trace_fd, HVLOG_MSHV_TRACE_STATE_CREATE, &k) == 0) {
        c->created = true;
        return HVLOG_CAPTURE_OK;
    }
    if (errno != EEXIST || c->config.existing == HVLOG_CAPTURE_REFUSE)
        return fail_ioctl(c, HVLOG_MSHV_TRACE_STATE_CREATE, errno);
    if (c->config.existing == HVLOG_CAPTURE_REUSE)
        return HVLOG_CAPTURE_OK; /* attach to what is there */
    /* RESET: destroy it (EBUSY while another fd is attached), then create. */
    if (do_ioctl(c->trace_fd, HVLOG_MSHV_TRACE_STATE_DESTROY, 0) != 0)
        return fail_ioctl(c, HVLOG_MSHV_TRACE_STATE_DESTROY, errno);
    if (ioctl_ptr(c->trace_fd, HVLOG_MSHV_TRACE_STATE_CREATE, &k) != 0)
        return fail_ioctl(c, HVLOG_MSHV_TRACE_STATE_CREATE, errno);
    c->created = true;
    return HVLOG_CAPTURE_OK;
}

static enum hvlog_capture_status setup_trace(struct hvlog_capture *c)
{
    enum hvlog_capture_status s;

    if ((s = get_fd(c, HVLOG_MSHV_GET_TRACE_FD, &c->trace_fd)) != HVLOG_CAPTURE_OK)
        return s;
    if ((s = create_state(c)) != HVLOG_CAPTURE_OK)
        return s;
    if (do_ioctl(c->trace_fd, HVLOG_MSHV_TRACE_STATE_ATTACH, 0) != 0)
        return fail_ioctl(c, HVLOG_MSHV_TRACE_STATE_ATTACH, errno);
    c->attached = true;
    if (ioctl_ptr(c->trace_fd, HVLOG_MSHV_TRACE_STATE_INFO, &c->effective) != 0)
        return fail_ioctl(c, HVLOG_MSHV_TRACE_STATE_INFO, errno);
    /* A reused state's geometry is its own: size the buffer from it, and
     * never trust it beyond the driver's own limits. */
    if (c->effective.pages_per_buffer == 0 ||
        c->effective.pages_per_buffer > HVLOG_MSHV_MAX_PAGES_PER_BUFFER)
        return fail(c, HVLOG_CAPTURE_KERNEL, "%s: %u pages per buffer, outside 1..%u",
                    ioctl_name(HVLOG_MSHV_TRACE_STATE_INFO), c->effective.pages_per_buffer,
                    HVLOG_MSHV_MAX_PAGES_PER_BUFFER);
    c->buffer_bytes = (size_t)c->effective.pages_per_buffer * HV_PAGE_SIZE;
    c->buffer = malloc(c->buffer_bytes);
    if (!c->buffer)
        return fail(c, HVLOG_CAPTURE_SYSTEM, "out of memory for a %zu-byte buffer",
                    c->buffer_bytes);
    return HVLOG_CAPTURE_OK;
}

enum hvlog_capture_status hvlog_capture_open(const struct hvlog_capture_config *config,
                                             struct hvlog_capture **out)
{
    struct hvlog_capture *c = calloc(1, sizeof(*c));
    enum hvlog_capture_status s;

    *out = c;
    if (!c)
        return HVLOG_CAPTURE_SYSTEM;
    c->config = *config;
    if (!c->config.device)
        c->config.device = HVLOG_MSHV_DIAG_PATH;
    if (!c->config.sources)
        c->config.sources = HVLOG_MSHV_TR_ALL_GROUPS;
    if (!c->config.diaglog_poll_ms)
        c->config.diaglog_poll_ms = 100;
    c->device_fd = c->trace_fd = c->diaglog_fd = -1;
    pthread_mutex_init(&c->lock, NULL);
    atomic_init(&c->diaglog_quit, false);

    if ((s = check_config(c)) != HVLOG_CAPTURE_OK || (s = open_device(c)) != HVLOG_CAPTURE_OK)
        return s;
    if (c->config.trace && (s = setup_trace(c)) != HVLOG_CAPTURE_OK)
        return s;
    if (c->config.diaglog) {
        if ((s = get_fd(c, HVLOG_MSHV_GET_DIAGLOG_FD, &c->diaglog_fd)) != HVLOG_CAPTURE_OK)
            return s;
        c->records = malloc(DIAGLOG_READ_BYTES);
        if (!c->records)
            return fail(c, HVLOG_CAPTURE_SYSTEM, "out of memory for the diaglog buffer");
    }
    take_anchor(c);
    return HVLOG_CAPTURE_OK;
}

void hvlog_capture_config_in_effect(const struct hvlog_capture *c,
                                    struct hvlog_mshv_trace_config *out)
{
    *out = c->effective;
}

void hvlog_capture_anchor(const struct hvlog_capture *c, struct hvlog_capture_anchor *out)
{
    *out = c->anchor;
}

const char *hvlog_capture_error(const struct hvlog_capture *c)
{
    return c ? c->error : "out of memory";
}

void hvlog_capture_stats(const struct hvlog_capture *c, struct hvlog_capture_stats *out)
{
    pthread_mutex_lock((pthread_mutex_t *)&c->lock);
    *out = c->stats;
    pthread_mutex_unlock((pthread_mutex_t *)&c->lock);
}

/* ---- delivery ---- */

static bool stop_asked(struct hvlog_capture *c, const volatile sig_atomic_t *stop)
{
    bool asked;

    if (stop && *stop)
        return true;
    pthread_mutex_lock(&c->lock);
    asked = c->sink_stop;
    pthread_mutex_unlock(&c->lock);
    return asked;
}

static bool failed(struct hvlog_capture *c)
{
    bool f;

    pthread_mutex_lock(&c->lock);
    f = c->status != HVLOG_CAPTURE_OK;
    pthread_mutex_unlock(&c->lock);
    return f;
}

/* A whole buffer arrived: check it, hand it over. */
static enum hvlog_capture_status deliver_buffer(struct hvlog_capture *c)
{
    uint32_t data = hvlog_load_le32(c->buffer); /* BufferSize: the data area (§11.4) */

    if ((uint64_t)HV_EVENTLOG_BUFFER_HEADER_SIZE + data != c->buffer_bytes)
        return fail(c, HVLOG_CAPTURE_BAD_BUFFER,
                    "trace buffer %llu (index %u): 72 + BufferSize %u = %llu is not the buffer "
                    "size %zu; %llu buffers before it were kept",
                    (unsigned long long)c->stats.buffers + 1, hvlog_load_le32(c->buffer + 4),
                    data, 72ull + data, c->buffer_bytes, (unsigned long long)c->stats.buffers);
    pthread_mutex_lock(&c->lock);
    c->stats.buffers++;
    c->stats.bytes += c->buffer_bytes;
    if (c->stopped)
        c->stats.after_stop++;
    if (c->sink && c->sink->buffer && c->sink->buffer(c->sink_arg, c->buffer, c->buffer_bytes))
        c->sink_stop = true;
    pthread_mutex_unlock(&c->lock);
    return HVLOG_CAPTURE_OK;
}

/* Split one diaglog read into records; false on a malformed one. */
static bool deliver_records(struct hvlog_capture *c, const uint8_t *bytes, size_t n)
{
    for (size_t off = 0; off < n;) {
        size_t size = n - off < HV_EVENTLOG_ENTRY_HEADER_SIZE ? 0 : hvlog_load_le16(bytes + off + 4);

        if (size < HV_EVENTLOG_ENTRY_HEADER_SIZE || size > n - off) {
            fail(c, HVLOG_CAPTURE_BAD_RECORD,
                 "diaglog: the record at byte %zu of a %zu-byte read claims %zu bytes; %llu "
                 "records before it were kept", off, n, size,
                 (unsigned long long)c->stats.records);
            return false;
        }
        pthread_mutex_lock(&c->lock);
        c->stats.records++;
        c->stats.record_bytes += size;
        if (c->sink && c->sink->record && c->sink->record(c->sink_arg, bytes + off, size))
            c->sink_stop = true;
        pthread_mutex_unlock(&c->lock);
        off += size;
    }
    return true;
}

static void pause_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L};

    nanosleep(&ts, NULL); /* a signal cuts it short: the caller re-checks */
}

/*
 * The diaglog loop: read until nothing is new, pause, again. It ends when
 * @quit is set (after one last pass) or, when @stop_on_request, when the
 * caller asks to stop. read() returning 0 means "nothing new", never the
 * end: the ring lives as long as the hypervisor.
 */
static void diaglog_loop(struct hvlog_capture *c, const volatile sig_atomic_t *stop,
                         bool stop_on_request)
{
    for (;;) {
        bool last = atomic_load_explicit(&c->diaglog_quit, memory_order_acquire) ||
                    (stop_on_request && stop_asked(c, stop));
        ssize_t n;

        for (;;) {
            n = read(c->diaglog_fd, c->records, DIAGLOG_READ_BYTES);
            if (n > 0) {
                if (!deliver_records(c, c->records, (size_t)n))
                    return;
                continue;
            }
            if (n < 0 && errno == EINTR) {
                if (stop_on_request && stop_asked(c, stop))
                    break;
                continue;
            }
            break;
        }
        if (n < 0) {
            fail(c, HVLOG_CAPTURE_SYSTEM, "diaglog: read: %s; %llu records before it were kept",
                 strerror(errno), (unsigned long long)c->stats.records);
            return;
        }
        if (last || (stop_on_request && stop_asked(c, stop)))
            return;
        pause_ms(c->config.diaglog_poll_ms);
    }
}

static void *diaglog_thread(void *arg)
{
    diaglog_loop(arg, NULL, false);
    return NULL;
}

/* STOP: the driver disables the sources, flushes what is InUse and
 * releases what is Complete; read() then drains the queue to EOF. */
static enum hvlog_capture_status trace_stop(struct hvlog_capture *c)
{
    c->stopped = true;
    if (do_ioctl(c->trace_fd, HVLOG_MSHV_TRACE_STOP, 0) != 0) {
        c->started = true; /* still enabled in the driver: DETACH would say EBUSY */
        return fail_ioctl(c, HVLOG_MSHV_TRACE_STOP, errno);
    }
    c->started = false;
    return HVLOG_CAPTURE_OK;
}

/* read() whole buffers until end of file. */
static enum hvlog_capture_status trace_loop(struct hvlog_capture *c,
                                            const volatile sig_atomic_t *stop)
{
    size_t have = 0;

    for (;;) {
        ssize_t n;

        if (!c->stopped && stop_asked(c, stop) && trace_stop(c) != HVLOG_CAPTURE_OK)
            return c->status;
        n = read(c->trace_fd, c->buffer + have, c->buffer_bytes - have);
        if (n > 0) {
            pthread_mutex_lock(&c->lock);
            c->stats.reads++;
            if ((size_t)n < c->buffer_bytes - have)
                c->stats.short_reads++; /* the stream resumes there: §1.1 read() */
            pthread_mutex_unlock(&c->lock);
            have += (size_t)n;
            if (have == c->buffer_bytes) {
                have = 0;
                if (deliver_buffer(c) != HVLOG_CAPTURE_OK)
                    return c->status;
            }
            continue;
        }
        if (n < 0 && errno == EINTR) {
            pthread_mutex_lock(&c->lock);
            c->stats.eintr++; /* a signal: the loop's top looks at *stop */
            pthread_mutex_unlock(&c->lock);
            continue;
        }
        if (n < 0) {
            if (errno == EPERM)
                return fail(c, HVLOG_CAPTURE_NOT_PERMITTED, "trace read: %s: only the thread "
                            "that attached may read; %llu buffers before it were kept",
                            strerror(errno), (unsigned long long)c->stats.buffers);
            return fail(c, HVLOG_CAPTURE_SYSTEM, "trace read: %s%s; %llu buffers before it were "
                        "kept", strerror(errno),
                        errno == EIO ? " (the driver says EIO for a buffer of the wrong size)" : "",
                        (unsigned long long)c->stats.buffers);
        }
        /* End of file. */
        if (have)
            return fail(c, HVLOG_CAPTURE_SHORT_READ, "trace read: end of file %zu bytes into a "
                        "%zu-byte buffer; that part was dropped, %llu whole buffers were kept",
                        have, c->buffer_bytes, (unsigned long long)c->stats.buffers);
        if (!c->stopped)
            return fail(c, HVLOG_CAPTURE_EARLY_EOF, "trace read: end of file before STOP (the "
                        "trace was stopped or destroyed by someone else); %llu buffers were kept",
                        (unsigned long long)c->stats.buffers);
        return HVLOG_CAPTURE_OK;
    }
}

enum hvlog_capture_status hvlog_capture_run(struct hvlog_capture *c,
                                            const struct hvlog_capture_sink *sink, void *arg,
                                            const volatile sig_atomic_t *stop)
{
    pthread_t reader;
    bool threaded = false;

    if (c->status != HVLOG_CAPTURE_OK)
        return c->status;
    if (c->ran)
        return fail(c, HVLOG_CAPTURE_BAD_CONFIG, "hvlog_capture_run called twice");
    c->ran = true;
    c->sink = sink;
    c->sink_arg = arg;
    if (!c->config.trace) {
        diaglog_loop(c, stop, true);
        return c->status;
    }
    if (do_ioctl(c->trace_fd, HVLOG_MSHV_TRACE_START, (unsigned long)c->config.sources) != 0)
        return fail_ioctl(c, HVLOG_MSHV_TRACE_START, errno);
    c->started = true;
    if (c->diaglog_fd >= 0) {
        sigset_t all, old;

        /* The diaglog thread takes no signals (it inherits this mask), so
         * a signal meant to interrupt the trace read() - a caller's stop
         * or its timer - never lands on it instead (mshv.h: Stopping). */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&reader, NULL, diaglog_thread, c) != 0)
            fail(c, HVLOG_CAPTURE_SYSTEM, "cannot start the diaglog reader thread");
        else
            threaded = true;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    if (!failed(c))
        trace_loop(c, stop);
    if (!c->stopped)
        (void)trace_stop(c); /* after an error: best effort, so close can detach */
    if (threaded) {
        atomic_store_explicit(&c->diaglog_quit, true, memory_order_release);
        pthread_join(reader, NULL);
    }
    return c->status;
}

/* ---- close ---- */

enum hvlog_capture_status hvlog_capture_close(struct hvlog_capture *c, char *error,
                                              size_t error_len)
{
    enum hvlog_capture_status s;

    if (error_len)
        error[0] = '\0';
    if (!c) {
        if (error_len)
            snprintf(error, error_len, "out of memory");
        return HVLOG_CAPTURE_SYSTEM;
    }
    if (c->attached && !c->started) {
        if (do_ioctl(c->trace_fd, HVLOG_MSHV_TRACE_STATE_DETACH, 0) != 0)
            fail_ioctl(c, HVLOG_MSHV_TRACE_STATE_DETACH, errno);
        else
            c->attached = false;
    }
    /* DESTROY what we made; a reused state is the other owner's. */
    if (c->created && !c->attached &&
        do_ioctl(c->trace_fd, HVLOG_MSHV_TRACE_STATE_DESTROY, 0) != 0)
        fail_ioctl(c, HVLOG_MSHV_TRACE_STATE_DESTROY, errno);
    if (c->diaglog_fd >= 0)
        close(c->diaglog_fd);
    if (c->trace_fd >= 0)
        close(c->trace_fd); /* the driver runs STOP and detaches if we could not */
    if (c->device_fd >= 0)
        close(c->device_fd);
    s = c->status;
    if (error_len)
        snprintf(error, error_len, "%s", c->error);
    pthread_mutex_destroy(&c->lock);
    free(c->buffer);
    free(c->records);
    free(c);
    return s;
}
