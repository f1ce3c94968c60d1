/* SPDX-License-Identifier: MIT */
/*
 * An emulated /dev/mshv_diag for the tests (issue #14 item 4): an
 * LD_PRELOAD library of our own that interposes open/openat/ioctl/read/
 * pread/close/poll for that path, the fds it hands out and /dev/cpu/N/msr.
 * Everything else goes to libc untouched. hvlog itself only makes system
 * calls on a path, so the real device can replace this without a change.
 *
 * Behind it: the simulated host (src/sim) with LP threads logging, and a
 * re-creation of the Linux root driver written from the facts of
 * research/real-clients.md §1.1-§1.3 (not from its code). The driver's
 * hypercalls go through the root client (hvlog_client_call: the current
 * profile's forms are the Linux driver's) or, for the two calls outside
 * the nine, straight to the sim. What it re-creates:
 *
 *   device     open (ENOENT / EACCES by knob), ioctl GET_TRACE_FD,
 *              GET_DIAGLOG_FD, anything else ENOTTY; read EINVAL
 *   trace fd   CREATE (EEXIST; the driver's config checks, EINVAL):
 *              Initialize (packed 28 bytes), Create, Map every buffer;
 *              INFO (ENOENT); DESTROY (ENOENT, EBUSY while attached):
 *              Unmap, Delete, Finalize, stop at the first error;
 *              ATTACH (ENOENT, EALREADY, EBUSY; the calling thread becomes
 *              the only reader); DETACH (ENOENT, EPERM, EBUSY while
 *              started); START (ENOENT, EPERM, EINVAL without a group bit
 *              or with bit 0); STOP (ENOENT, EPERM): sources 0, flush what
 *              the mapped header says InUse, wait <= 1 s (ETIME), release
 *              what it says Complete, then disabled
 *   read       EPERM for another thread; blocks until a buffer is queued;
 *              copies the buffer as a stream from the file offset (partial
 *              reads of any size), releases it from the reader's VP once
 *              its last byte went out; EIO when 72 + BufferSize is not the
 *              buffer size; EINTR on a signal (nothing copied yet); 0 once
 *              disabled (STOP, or never started) and the queue is empty -
 *              at once: buffers whose message comes later are stranded
 *   close      a trace fd still attached: STOP (errors ignored), detach
 *   ISR        a thread: SINT0 of every VP; a buffer-complete message is
 *              dropped without state, attached fd, type 1 or index in
 *              range, or when its first buffer is queued; else the chain
 *              is walked through the read-only mapped headers; then the
 *              slot is cleared, fenced, EOM if MessagePending
 *   diaglog    at boot: GetSystemProperty(28), Map every ring buffer,
 *              LogHypervisorSystemConfig (0x00F8, failure ignored); read()
 *              returns whole records, TimeStamp rewritten to Unix seconds
 *              (wall clock at open + whole seconds since), 0 when nothing
 *              is new (§1.2's generation/offset rules)
 *   msr        /dev/cpu/N/msr, pread at 0x40000020: the sim's reference
 *              time (only with HVLOG_FAKE_MSHV_MSR=1; else ENOENT)
 *
 * Knobs (environment, read at each open of the device; the host geometry
 * at the first one):
 *   HVLOG_FAKE_MSHV_MISSING=1        open: ENOENT
 *   HVLOG_FAKE_MSHV_EACCES=1         open: EACCES (not root)
 *   HVLOG_FAKE_MSHV_OPEN=ERRNO       open fails with that errno (EPERM, ENODEV...)
 *   HVLOG_FAKE_MSHV_FAIL=NAME:ERRNO  that ioctl (its uapi name) fails with
 *                                    ENOTTY, EINVAL, EIO, ... (another kernel)
 *   HVLOG_FAKE_MSHV_SHORT=B          each trace read copies at most B bytes
 *   HVLOG_FAKE_MSHV_EINTR=N          the Nth trace read (1 = first) and every
 *                                    third after it return EINTR
 *   HVLOG_FAKE_MSHV_EIO=N            reads of buffer N (1 = first) fail EIO
 *   HVLOG_FAKE_MSHV_EOF=N            after N whole buffers, read returns 0
 *   HVLOG_FAKE_MSHV_TRUNCATE=N       buffer N stops at half: then 0
 *   HVLOG_FAKE_MSHV_WRONG_SIZE=N     buffer N's BufferSize reads as the whole
 *                                    buffer, the 2013 convention (a driver
 *                                    that does not check)
 *   HVLOG_FAKE_MSHV_BAD_RECORD=N     diaglog record N (1 = first) says Size 8
 *   HVLOG_FAKE_MSHV_MSR=1            answer /dev/cpu/N/msr
 *   HVLOG_FAKE_MSHV_LEFTOVER=1       a trace state exists before the first
 *                                    open (8 buffers of 2 pages, detached):
 *                                    what a recorder that died leaves
 *   HVLOG_FAKE_MSHV_REPORT=PATH      at DESTROY, write the host's counts
 *   HVLOG_FAKE_MSHV_LPS, _RATE, _SEED  host geometry (2 LPs, 4000 ev/s/LP)
 *
 * The report (one line per LP) says, for the session since CREATE:
 *   lp L logged N discarded_entries D discarded_lost DL stranded_entries S
 *   stranded_lost SL lost_pending P
 * so a reader that counted entries E and EventsLost X of the buffers it
 * read can check E + X + D + DL + S + SL + P == N (issue #14 item 2's
 * conservation, each term named).
 *
 * Locks, outermost first: boot_lock (boot once); ioctl_lock (the driver's
 * state mutex: ioctls, close of a trace fd); q_lock (the ISR's spinlock:
 * queue, queued[], attached, enabled, the state's liveness for the ISR);
 * hc_lock (the client is one-thread: every hypercall); fd_lock (the fd
 * table, leaf). None is held across a blocking wait.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hvlog/abi/calls.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/mshv_uapi.h"
#include "hvlog/abi/status.h"
#include "hvlog/abi/synic.h"
#include "hvlog/client/client.h"
#include "hvlog/sim/sim.h"

#define EXPORT __attribute__((visibility("default")))
#define LOCAL HvEventLogTypeLocalDiagnostics
#define RING HvEventLogTypeSystemDiagnostics
#define MAX_FDS 64
#define MAX_RING 64u
#define MAX_LPS 16u
#define CALL_LOG_SYSTEM_CONFIG 0x00F8u
#define STOP_WAIT_NS 1000000000ull

/* ---- libc underneath ---- */

static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_close)(int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_pread)(int, void *, size_t, off_t);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_poll)(struct pollfd *, nfds_t, int);

static void resolve(void)
{
    if (real_read)
        return;
    real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
    real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
    real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
    real_pread = (ssize_t (*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
    real_ioctl = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    real_poll = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT, "poll");
    __atomic_store_n(&real_read, (ssize_t (*)(int, void *, size_t))dlsym(RTLD_NEXT, "read"),
                     __ATOMIC_RELEASE);
}

/* ---- knobs ---- */

static uint64_t knob(const char *name, uint64_t fallback)
{
    const char *v = getenv(name);

    return v && *v ? strtoull(v, NULL, 0) : fallback;
}

struct knobs {
    uint64_t short_bytes, eintr, eio, eof, truncate, wrong_size, bad_record;
    bool msr;
    char fail_name[48];
    int fail_errno;
    char report[256];
};

static int errno_of(const char *name)
{
    static const struct { const char *name; int value; } rows[] = {
        {"ENOTTY", ENOTTY}, {"EINVAL", EINVAL}, {"EIO", EIO}, {"EPERM", EPERM},
        {"EACCES", EACCES}, {"EBUSY", EBUSY}, {"ENOMEM", ENOMEM}, {"ETIME", ETIME},
        {"ENODEV", ENODEV}, {"ENOENT", ENOENT}, {"ENXIO", ENXIO},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        if (strcmp(rows[i].name, name) == 0)
            return rows[i].value;
    }
    return EIO;
}

static void knobs_read(struct knobs *k)
{
    const char *fail = getenv("HVLOG_FAKE_MSHV_FAIL");
    const char *report = getenv("HVLOG_FAKE_MSHV_REPORT");

    memset(k, 0, sizeof(*k));
    k->short_bytes = knob("HVLOG_FAKE_MSHV_SHORT", 0);
    k->eintr = knob("HVLOG_FAKE_MSHV_EINTR", 0);
    k->eio = knob("HVLOG_FAKE_MSHV_EIO", 0);
    k->eof = knob("HVLOG_FAKE_MSHV_EOF", 0);
    k->truncate = knob("HVLOG_FAKE_MSHV_TRUNCATE", 0);
    k->wrong_size = knob("HVLOG_FAKE_MSHV_WRONG_SIZE", 0);
    k->bad_record = knob("HVLOG_FAKE_MSHV_BAD_RECORD", 0);
    k->msr = knob("HVLOG_FAKE_MSHV_MSR", 0) != 0;
    if (fail && strchr(fail, ':')) {
        size_t n = (size_t)(strchr(fail, ':') - fail);

        if (n < sizeof k->fail_name) {
            memcpy(k->fail_name, fail, n);
            k->fail_errno = errno_of(strchr(fail, ':') + 1);
        }
    }
    if (report)
        snprintf(k->report, sizeof k->report, "%s", report);
}

/* ---- the host and the driver's state ---- */

struct fake_buffer {
    uint64_t gpa[HVLOG_MSHV_MAX_PAGES_PER_BUFFER]; /* the page list Map returned */
    const uint8_t *header;                          /* page 0's read-only view */
    bool queued;
};

struct lp_tally {
    uint64_t logged_at_create;
    uint64_t discarded_entries, discarded_lost, stranded_entries, stranded_lost;
};

enum fd_kind { FD_DEVICE = 1, FD_TRACE, FD_DIAGLOG, FD_MSR };

struct fake_fd {
    int fd;                 /* a real fd (/dev/null) holding the number */
    enum fd_kind kind;
    /* trace fd (mshv_trace) */
    bool enabled;           /* START succeeded, STOP not yet (q_lock) */
    pid_t reader;           /* the thread that attached */
    int64_t current;        /* buffer being copied out, or -1 */
    uint64_t pos;           /* the file offset */
    uint64_t reads, buffers_out;
    /* diaglog fd */
    int64_t ring_current;   /* buffer index, or -1 */
    uint64_t saved_ts;
    uint32_t next_offs;
    uint64_t ref0_100ns;
    int64_t real0_s;
    uint64_t records_out;
};

static struct {
    pthread_mutex_t boot_lock, ioctl_lock, q_lock, hc_lock, fd_lock;
    bool booted;
    struct knobs knobs;
    struct hvlog_sim *sim;
    struct hvlog_client *client;
    struct hvlog_root_ops ops;
    uint32_t lps;
    uint64_t boot_ns;
    pthread_t isr;
    atomic_bool quit;
    atomic_ulong isr_idle_passes; /* ISR passes that found every slot empty */
    int wake_fd;            /* eventfd: a buffer was queued or the trace stopped */
    /* the one trace state (mshv_trace_state) */
    bool state;
    struct hvlog_mshv_trace_config cfg;
    struct fake_buffer buffers[HVLOG_MSHV_MAX_BUFFERS];
    struct fake_fd *attached;
    uint32_t queue[HVLOG_MSHV_MAX_BUFFERS], queue_head, queue_len;
    struct lp_tally lp[MAX_LPS];
    uint64_t isr_errors;
    /* the diaglog ring (mapped once at boot) */
    uint32_t ring_count, ring_pages;
    const uint8_t *ring[MAX_RING];
    struct fake_fd fds[MAX_FDS];
} g = {
    .boot_lock = PTHREAD_MUTEX_INITIALIZER,
    .ioctl_lock = PTHREAD_MUTEX_INITIALIZER,
    .q_lock = PTHREAD_MUTEX_INITIALIZER,
    .hc_lock = PTHREAD_MUTEX_INITIALIZER,
    .fd_lock = PTHREAD_MUTEX_INITIALIZER,
    .wake_fd = -1,
};

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The host's reference time: 100 ns since boot (the sim's injected clock). */
static uint64_t ref_time(void *ctx)
{
    (void)ctx;
    return (mono_ns() - g.boot_ns) / 100u;
}

static void pause_us(long us)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000l};

    nanosleep(&ts, NULL);
}

/* The driver's errno for a status (hv_result_to_errno, as §1.1 lists it). */
static int status_errno(hv_status_t s)
{
    switch (s) {
    case HV_STATUS_SUCCESS:
        return 0;
    case HV_STATUS_INVALID_PARAMETER:
        return EINVAL;
    case HV_STATUS_ACCESS_DENIED:
    case HV_STATUS_OPERATION_DENIED:
        return EACCES;
    case HV_STATUS_INSUFFICIENT_MEMORY:
        return ENOMEM;
    default:
        return EIO;
    }
}

/* One of the nine calls, in the current profile's form (= the driver's). */
static hv_status_t call(uint32_t vp, uint16_t code, const void *in, uint32_t len, void *out,
                        uint32_t out_len)
{
    hv_status_t s;

    pthread_mutex_lock(&g.hc_lock);
    s = hvlog_client_call(g.client, vp, code, in, len, out, out_len);
    pthread_mutex_unlock(&g.hc_lock);
    return s;
}

static hv_status_t call_buffer(uint16_t code, uint32_t type, uint32_t index, uint32_t vp)
{
    uint8_t in[8];
    struct hv_input_eventlog_buffer b = {.type = type, .buffer_index = index};

    hv_input_eventlog_buffer_store(in, &b);
    return call(vp, code, in, sizeof in, NULL, 0);
}

static uint32_t header_u32(const uint8_t *header, uint32_t at)
{
    /* The hypervisor stores these while the root reads them. */
    return __atomic_load_n((const uint32_t *)(const void *)(header + at), __ATOMIC_ACQUIRE);
}

/* ---- the ISR (§1.3) and the buffer-complete handler (§1.1) ---- */

static void buffer_complete(uint32_t type, uint32_t index)
{
    pthread_mutex_lock(&g.q_lock);
    if (!g.state || type != LOCAL || index >= g.cfg.max_buffers_count ||
        g.buffers[index].queued || !g.attached) {
        pthread_mutex_unlock(&g.q_lock);
        return; /* dropped, as the driver drops it */
    }
    for (uint32_t i = index, n = 0; i != HV_EVENTLOG_BUFFER_INDEX_NONE;
         i = header_u32(g.buffers[i].header, 56)) {
        /* The driver trusts chained indices; we count what it would not survive. */
        if (i >= g.cfg.max_buffers_count || g.buffers[i].queued || ++n > g.cfg.max_buffers_count) {
            g.isr_errors++;
            break;
        }
        g.buffers[i].queued = true;
        g.queue[(g.queue_head + g.queue_len++) % HVLOG_MSHV_MAX_BUFFERS] = i;
    }
    pthread_mutex_unlock(&g.q_lock);
    eventfd_write(g.wake_fd, 1);
}

static bool isr_slot(uint32_t vp)
{
    uint8_t *slot = hvlog_sim_sim_page(g.sim, vp);
    uint32_t *message_type;

    if (!slot)
        return false;
    message_type = (uint32_t *)(void *)slot;
    switch (__atomic_load_n(message_type, __ATOMIC_ACQUIRE)) {
    case 0:
        return false;
    case HvMessageTypeEventLogBufferComplete:
        buffer_complete(hvlog_load_le32(slot + 16), hvlog_load_le32(slot + 20));
        break;
    default:
        break;
    }
    __atomic_store_n(message_type, 0, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(slot + 5, __ATOMIC_SEQ_CST) & HV_MESSAGE_FLAG_PENDING)
        hvlog_sim_wrmsr(g.sim, vp, HV_X64_MSR_EOM, 0);
    return true;
}

static void *isr_thread(void *arg)
{
    (void)arg;
    while (!atomic_load(&g.quit)) {
        bool any = false;

        for (uint32_t vp = 0; vp < g.lps; vp++)
            any |= isr_slot(vp);
        if (!any) {
            atomic_fetch_add(&g.isr_idle_passes, 1);
            pause_us(200);
        }
    }
    return NULL;
}

/* ---- boot: the host, the SynIC, the diaglog ring (mshv_diaglog_init) ---- */

static void diaglog_init(void)
{
    uint8_t *in, *out;
    uint64_t in_gpa = hvlog_sim_root_page(g.sim, 2, &in);
    uint64_t out_gpa = hvlog_sim_root_page(g.sim, 3, &out);
    uint64_t rax;

    memset(in, 0, 8);
    hvlog_store_le32(in, HVLOG_SIM_PROPERTY_DIAG_LOG_BUFFERS);
    rax = hvlog_sim_hypercall(g.sim, HVLOG_SIM_ROOT_ID, 0, HVLOG_SIM_CALL_GET_SYSTEM_PROPERTY,
                              in_gpa, out_gpa);
    if ((rax & 0xFFFFu) != 0)
        return;
    g.ring_count = hvlog_load_le32(out);
    g.ring_pages = hvlog_load_le32(out + 4);
    if (g.ring_count > MAX_RING)
        g.ring_count = MAX_RING;
    for (uint32_t i = 0; i < g.ring_count; i++) {
        uint8_t map_in[16];
        uint64_t pages[HVLOG_MSHV_MAX_PAGES_PER_BUFFER];
        struct hv_input_eventlog_buffer_partition m = {
            .type = RING, .buffer_index = i, .partition_id = HV_PARTITION_ID_SELF};

        hv_input_eventlog_buffer_partition_store(map_in, &m);
        if (call(0, HvCallHvMapEventLogBuffer, map_in, sizeof map_in, pages, sizeof pages) !=
            HV_STATUS_SUCCESS) {
            g.ring_count = i;
            return;
        }
        g.ring[i] = hvlog_sim_root_view(g.sim, pages[0] << HV_PAGE_SHIFT,
                                        g.ring_pages * HV_PAGE_SIZE);
        if (!g.ring[i]) {
            g.ring_count = i;
            return;
        }
    }
    /* Ask for the configuration record; failure is ignored, as the driver does. */
    (void)hvlog_sim_hypercall(g.sim, HVLOG_SIM_ROOT_ID, 0, CALL_LOG_SYSTEM_CONFIG, 0, 0);
}

static void boot(void)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct hvlog_client_config cc = {0};
    struct hvlog_sim_workload w = {
        .rate_per_lp = (uint32_t)knob("HVLOG_FAKE_MSHV_RATE", 4000),
        .payload_max = 40,
        .system_per_mille = 50,
    };

    pthread_mutex_lock(&g.boot_lock);
    if (g.booted) {
        pthread_mutex_unlock(&g.boot_lock);
        return;
    }
    g.boot_ns = mono_ns();
    g.lps = (uint32_t)knob("HVLOG_FAKE_MSHV_LPS", 2);
    if (g.lps == 0 || g.lps > MAX_LPS)
        g.lps = 2;
    c.lps = g.lps;
    c.pool_pages = 2048;
    c.seed = knob("HVLOG_FAKE_MSHV_SEED", 1);
    c.profile = hvlog_profile_default();
    c.profile.abi = HVLOG_ABI_CURRENT;
    c.profile.release_from_complete = true; /* D13: the driver's STOP releases Complete */
    c.system_diag_buffers = 8;
    c.system_diag_pages = 1;
    c.clock = ref_time;
    if (hvlog_sim_create(&c, &g.sim) != 0) {
        fprintf(stderr, "fake_mshv: the simulated host did not start\n");
        abort();
    }
    hvlog_sim_root_ops(g.sim, &g.ops);
    cc.ops = &g.ops;
    cc.ctx = g.sim;
    cc.abi = HVLOG_ABI_CURRENT;
    if (hvlog_client_create(&cc, &g.client) != 0)
        abort();
    for (uint32_t vp = 0; vp < g.lps; vp++)
        hvlog_sim_synic_enable(g.sim, vp, 0x50);
    diaglog_init();
    g.wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (g.wake_fd < 0 || hvlog_sim_start(g.sim, &w) != 0 ||
        pthread_create(&g.isr, NULL, isr_thread, NULL) != 0)
        abort();
    g.booted = true;
    pthread_mutex_unlock(&g.boot_lock);
}

/* Loaded: say so, with our pid (the tests check it is theirs: children
 * inherit the variable), and keep child processes (a sanitizer's
 * symbolizer, a shell) from loading us too. */
__attribute__((constructor)) static void loaded(void)
{
    char pid[24];

    snprintf(pid, sizeof pid, "%ld", (long)getpid());
    setenv("HVLOG_FAKE_MSHV_LOADED", pid, 1);
    unsetenv("LD_PRELOAD");
}

__attribute__((destructor)) static void shutdown_host(void)
{
    if (!g.booted)
        return;
    atomic_store(&g.quit, true);
    pthread_join(g.isr, NULL);
    hvlog_sim_stop(g.sim);
    hvlog_client_destroy(g.client);
    hvlog_sim_destroy(g.sim);
}

/* ---- the fd table ---- */

static struct fake_fd *fd_find(int fd)
{
    struct fake_fd *f = NULL;

    if (fd < 0)
        return NULL;
    pthread_mutex_lock(&g.fd_lock);
    for (int i = 0; i < MAX_FDS; i++) {
        if (g.fds[i].kind && g.fds[i].fd == fd) {
            f = &g.fds[i];
            break;
        }
    }
    pthread_mutex_unlock(&g.fd_lock);
    return f;
}

static int fd_new(enum fd_kind kind, int flags)
{
    int fd = real_open("/dev/null", O_RDONLY | (flags & O_CLOEXEC));

    if (fd < 0)
        return -1;
    pthread_mutex_lock(&g.fd_lock);
    for (int i = 0; i < MAX_FDS; i++) {
        if (!g.fds[i].kind) {
            g.fds[i] = (struct fake_fd){.fd = fd, .kind = kind, .current = -1, .ring_current = -1};
            pthread_mutex_unlock(&g.fd_lock);
            return fd;
        }
    }
    pthread_mutex_unlock(&g.fd_lock);
    real_close(fd);
    errno = EMFILE;
    return -1;
}

/* ---- the trace state: CREATE and DESTROY ---- */

static void buffer_copy(uint32_t index, uint64_t at, uint8_t *dst, size_t len);

/* Entries of buffer @index, walked in a copy made page by page (the
 * driver maps an arbitrary page list; so do we, in buffer_copy). */
static uint64_t entries_of(uint32_t index)
{
    size_t bytes = (size_t)g.cfg.pages_per_buffer * HV_PAGE_SIZE;
    uint8_t *b = malloc(bytes);
    uint32_t end;
    uint64_t n = 0;

    if (!b)
        abort();
    buffer_copy(index, 0, b, bytes);
    end = HV_EVENTLOG_BUFFER_HEADER_SIZE + hvlog_load_le32(b + 48);
    for (uint32_t off = HV_EVENTLOG_BUFFER_HEADER_SIZE; end <= bytes && off + 16 <= end;) {
        uint32_t size = hvlog_load_le16(b + off + 4);

        if (size < 16 || off + size > end)
            break;
        n++;
        off += size;
    }
    free(b);
    return n;
}

/* A buffer that leaves the root unread: count what it held against its LP. */
static void tally_unread(uint32_t index, bool stranded)
{
    const uint8_t *h = g.buffers[index].header;
    uint32_t lp = hvlog_load_le16(h + 40);

    if (lp >= MAX_LPS)
        return;
    if (stranded) {
        g.lp[lp].stranded_entries += entries_of(index);
        g.lp[lp].stranded_lost += header_u32(h, 8);
    } else {
        g.lp[lp].discarded_entries += entries_of(index);
        g.lp[lp].discarded_lost += header_u32(h, 8);
    }
}

static int state_create(const struct hvlog_mshv_trace_config *k)
{
    uint8_t init[28];
    struct hv_input_initialize_eventlog_buffer_group_current in = {
        .type = LOCAL,
        .mode = (uint16_t)k->mode,
        .maximum_buffer_count = k->max_buffers_count,
        .buffer_size_bytes = k->pages_per_buffer * HV_PAGE_SIZE,
        .threshold = k->buffers_threshold,
        .time_basis = k->time_basis,
        .system_time = k->system_time,
    };
    hv_status_t s;
    uint32_t i;

    if (g.state)
        return EEXIST;
    if (k->mode >= HVLOG_MSHV_MODE_LIMIT || k->max_buffers_count == 0 ||
        k->max_buffers_count > HVLOG_MSHV_MAX_BUFFERS ||
        k->buffers_threshold > k->max_buffers_count)
        return EINVAL;
    hv_input_initialize_eventlog_buffer_group_current_store(init, &in);
    if ((s = call(0, HvCallHvInitializeEventLogBufferGroup, init, sizeof init, NULL, 0)))
        return status_errno(s);
    for (i = 0; i < k->max_buffers_count; i++) {
        uint8_t create[16];
        struct hv_input_create_eventlog_buffer c = {.type = LOCAL, .buffer_index = i};

        hv_input_create_eventlog_buffer_store(create, &c); /* proximity 0: "no node" */
        if ((s = call(0, HvCallHvCreateEventLogBuffer, create, sizeof create, NULL, 0)))
            break;
    }
    if (s) {
        while (i--)
            call_buffer(HvCallHvDeleteEventLogBuffer, LOCAL, i, 0);
        call_buffer(HvCallHvFinalizeEventLogBufferGroup, LOCAL, 0, 0);
        return status_errno(s);
    }
    for (i = 0; i < k->max_buffers_count; i++) {
        uint8_t map[16];
        struct hv_input_eventlog_buffer_partition m = {
            .type = LOCAL, .buffer_index = i, .partition_id = HV_PARTITION_ID_SELF};
        struct fake_buffer *b = &g.buffers[i];

        hv_input_eventlog_buffer_partition_store(map, &m);
        memset(b, 0, sizeof(*b));
        if ((s = call(0, HvCallHvMapEventLogBuffer, map, sizeof map, b->gpa, sizeof b->gpa)))
            break;
        b->header = hvlog_sim_root_view(g.sim, b->gpa[0] << HV_PAGE_SHIFT,
                                        k->pages_per_buffer * HV_PAGE_SIZE);
        if (!b->header) {
            s = HV_STATUS_INVALID_PARAMETER;
            break;
        }
    }
    if (s) {
        uint32_t mapped = i;
        for (i = 0; i < mapped; i++) {
            uint8_t unmap[16];
            struct hv_input_eventlog_buffer_partition m = {
                .type = LOCAL, .buffer_index = i, .partition_id = HV_PARTITION_ID_SELF};
            hv_input_eventlog_buffer_partition_store(unmap, &m);
            call(0, HvCallHvUnmapEventLogBuffer, unmap, sizeof unmap, NULL, 0);
        }
        for (i = 0; i < k->max_buffers_count; i++)
            call_buffer(HvCallHvDeleteEventLogBuffer, LOCAL, i, 0);
        call_buffer(HvCallHvFinalizeEventLogBufferGroup, LOCAL, 0, 0);
        return status_errno(s);
    }
    pthread_mutex_lock(&g.q_lock);
    g.cfg = *k;
    g.cfg.padding = 0;
    g.queue_head = g.queue_len = 0;
    memset(g.lp, 0, sizeof g.lp);
    for (uint32_t lp = 0; lp < g.lps; lp++) {
        struct hvlog_sim_lp_counts n;

        hvlog_sim_lp_counts(g.sim, lp, &n);
        g.lp[lp].logged_at_create = n.logged[LOCAL];
    }
    g.state = true;
    pthread_mutex_unlock(&g.q_lock);
    return 0;
}

static void write_report(void)
{
    FILE *f;

    if (!g.knobs.report[0] || !(f = fopen(g.knobs.report, "w")))
        return;
    /* LP threads keep running: stop them for exact counts, then go on. */
    hvlog_sim_stop(g.sim);
    for (uint32_t lp = 0; lp < g.lps; lp++) {
        struct hvlog_sim_lp_counts n;
        struct hvlog_scope_stats st = {0};

        hvlog_sim_lp_counts(g.sim, lp, &n);
        hvlog_engine_scope_stats(hvlog_sim_engine(g.sim), LOCAL, lp, &st);
        fprintf(f, "lp %u logged %llu discarded_entries %llu discarded_lost %llu "
                "stranded_entries %llu stranded_lost %llu lost_pending %u\n", lp,
                (unsigned long long)(n.logged[LOCAL] - g.lp[lp].logged_at_create),
                (unsigned long long)g.lp[lp].discarded_entries,
                (unsigned long long)g.lp[lp].discarded_lost,
                (unsigned long long)g.lp[lp].stranded_entries,
                (unsigned long long)g.lp[lp].stranded_lost, st.lost_pending);
    }
    fprintf(f, "isr_errors %llu\n", (unsigned long long)g.isr_errors);
    fclose(f);
    {
        struct hvlog_sim_workload w = {
            .rate_per_lp = (uint32_t)knob("HVLOG_FAKE_MSHV_RATE", 4000),
            .payload_max = 40,
            .system_per_mille = 50,
        };
        (void)hvlog_sim_start(g.sim, &w);
    }
}

static int state_destroy(void)
{
    hv_status_t s = HV_STATUS_SUCCESS;

    if (!g.state)
        return ENOENT;
    if (g.attached)
        return EBUSY;
    /* What is not Free now leaves unread: stranded (Ready after the reader
     * hit end of file, or Complete). Counted before the views go. */
    for (uint32_t i = 0; i < g.cfg.max_buffers_count; i++) {
        uint32_t st = header_u32(g.buffers[i].header, 44);

        if (st == HvEventLogBufferStateReady || st == HvEventLogBufferStateComplete ||
            st == HvEventLogBufferStateInUse)
            tally_unread(i, true);
    }
    write_report();
    pthread_mutex_lock(&g.q_lock);
    g.state = false; /* the ISR drops from here */
    g.queue_len = 0;
    pthread_mutex_unlock(&g.q_lock);
    for (uint32_t i = 0; i < g.cfg.max_buffers_count && !s; i++) {
        uint8_t unmap[16];
        struct hv_input_eventlog_buffer_partition m = {
            .type = LOCAL, .buffer_index = i, .partition_id = HV_PARTITION_ID_SELF};

        hv_input_eventlog_buffer_partition_store(unmap, &m);
        s = call(0, HvCallHvUnmapEventLogBuffer, unmap, sizeof unmap, NULL, 0);
    }
    for (uint32_t i = 0; i < g.cfg.max_buffers_count && !s; i++)
        s = call_buffer(HvCallHvDeleteEventLogBuffer, LOCAL, i, 0);
    if (!s)
        s = call_buffer(HvCallHvFinalizeEventLogBufferGroup, LOCAL, 0, 0);
    if (!s) {
        /* A real root handles a SynIC interrupt at once: a buffer-complete
         * message of this state is dropped (no state) long before another
         * CREATE. The emulated ISR is a thread that a loaded machine may
         * starve, so a message could outlive the state and name a buffer
         * of the next one (a Free buffer read as data). Wait for two whole
         * passes that found every slot empty: whatever was in flight has
         * been dropped. */
        unsigned long seen = atomic_load(&g.isr_idle_passes);

        while (atomic_load(&g.isr_idle_passes) < seen + 2 && !atomic_load(&g.quit))
            pause_us(100);
    }
    if (s) {
        fprintf(stderr, "fake_mshv: DESTROY: status 0x%04x: the state stays (as the driver's)\n",
                (unsigned)s);
        pthread_mutex_lock(&g.q_lock);
        g.state = true;
        pthread_mutex_unlock(&g.q_lock);
        return status_errno(s);
    }
    return 0;
}

/* ---- START and STOP ---- */

static int set_sources(uint64_t flags)
{
    uint8_t in[HV_INPUT_SET_SOURCES_CURRENT_SIZE];
    struct hv_input_set_eventlog_group_sources_current h = {
        .type = LOCAL, .group_count = 0, .configuration_flags = flags};

    memset(in, 0, sizeof in);
    hv_input_set_eventlog_group_sources_current_store(in, &h);
    return status_errno(call(0, HvCallHvSetEventLogGroupSources, in, sizeof in, NULL, 0));
}

static bool any_in_use(void)
{
    for (uint32_t i = 0; i < g.cfg.max_buffers_count; i++) {
        if (header_u32(g.buffers[i].header, 44) == HvEventLogBufferStateInUse)
            return true;
    }
    return false;
}

static int trace_stop(struct fake_fd *f)
{
    uint64_t deadline;
    int err = set_sources(0);

    if (err)
        return err;
    for (uint32_t i = 0; i < g.cfg.max_buffers_count; i++) {
        if (header_u32(g.buffers[i].header, 44) == HvEventLogBufferStateInUse)
            (void)call_buffer(HvCallHvFlushEventLogBuffer, LOCAL, i, 0);
    }
    deadline = mono_ns() + STOP_WAIT_NS;
    while (any_in_use()) {
        if (mono_ns() > deadline)
            return ETIME;
        pause_us(500);
    }
    /* Release what the mapped header says Complete: read() never sees it. */
    for (uint32_t i = 0; i < g.cfg.max_buffers_count; i++) {
        if (header_u32(g.buffers[i].header, 44) == HvEventLogBufferStateComplete) {
            tally_unread(i, false);
            (void)call_buffer(HvCallHvReleaseEventLogBuffer, LOCAL, i, 0);
        }
    }
    pthread_mutex_lock(&g.q_lock);
    f->enabled = false;
    pthread_mutex_unlock(&g.q_lock);
    eventfd_write(g.wake_fd, 1);
    return 0;
}

/* ---- ioctls ---- */

static const char *ioctl_name(unsigned long request)
{
#define ROW(number, name) \
    if (request == (number)) \
        return name;
    HVLOG_MSHV_IOCTL_TABLE(ROW)
#undef ROW
    return "";
}

static int trace_ioctl(struct fake_fd *f, unsigned long request, unsigned long arg)
{
    switch (request) {
    case HVLOG_MSHV_TRACE_STATE_CREATE: {
        struct hvlog_mshv_trace_config k;

        memcpy(&k, (const void *)(uintptr_t)arg, sizeof k);
        return state_create(&k);
    }
    case HVLOG_MSHV_TRACE_STATE_INFO:
        if (!g.state)
            return ENOENT;
        memcpy((void *)(uintptr_t)arg, &g.cfg, sizeof g.cfg);
        return 0;
    case HVLOG_MSHV_TRACE_STATE_DESTROY:
        return state_destroy();
    case HVLOG_MSHV_TRACE_STATE_ATTACH:
        if (!g.state)
            return ENOENT;
        if (g.attached == f)
            return EALREADY;
        if (g.attached)
            return EBUSY;
        pthread_mutex_lock(&g.q_lock);
        g.attached = f;
        f->reader = (pid_t)syscall(SYS_gettid);
        pthread_mutex_unlock(&g.q_lock);
        return 0;
    case HVLOG_MSHV_TRACE_STATE_DETACH:
        if (!g.state)
            return ENOENT;
        if (g.attached != f)
            return EPERM;
        if (f->enabled)
            return EBUSY;
        pthread_mutex_lock(&g.q_lock);
        g.attached = NULL;
        pthread_mutex_unlock(&g.q_lock);
        return 0;
    case HVLOG_MSHV_TRACE_START: {
        int err;

        if (!g.state)
            return ENOENT;
        if (g.attached != f)
            return EPERM;
        if (!(arg & HVLOG_MSHV_TR_ALL_GROUPS) || (arg & HVLOG_MSHV_TR_EXTENDED))
            return EINVAL;
        if ((err = set_sources(arg)))
            return err;
        pthread_mutex_lock(&g.q_lock);
        f->enabled = true;
        pthread_mutex_unlock(&g.q_lock);
        return 0;
    }
    case HVLOG_MSHV_TRACE_STOP:
        if (!g.state)
            return ENOENT;
        if (g.attached != f)
            return EPERM;
        return trace_stop(f);
    default:
        return ENOTTY;
    }
}

static int fake_ioctl(struct fake_fd *f, unsigned long request, unsigned long arg)
{
    int err;

    /* Another kernel: this ioctl fails as the knob says. */
    if (g.knobs.fail_name[0] && strcmp(ioctl_name(request), g.knobs.fail_name) == 0) {
        errno = g.knobs.fail_errno;
        return -1;
    }
    switch (f->kind) {
    case FD_DEVICE:
        if (request == HVLOG_MSHV_GET_TRACE_FD)
            return fd_new(FD_TRACE, O_CLOEXEC);
        if (request == HVLOG_MSHV_GET_DIAGLOG_FD) {
            int fd;
            struct fake_fd *d;

            if (!g.ring_count) {
                errno = ENODEV;
                return -1;
            }
            if ((fd = fd_new(FD_DIAGLOG, 0)) < 0)
                return -1;
            d = fd_find(fd);
            d->ref0_100ns = ref_time(NULL);
            d->real0_s = (int64_t)time(NULL);
            return fd;
        }
        errno = ENOTTY;
        return -1;
    case FD_TRACE:
        pthread_mutex_lock(&g.ioctl_lock);
        err = trace_ioctl(f, request, arg);
        pthread_mutex_unlock(&g.ioctl_lock);
        if (err) {
            errno = err;
            return -1;
        }
        return 0;
    default:
        errno = ENOTTY;
        return -1;
    }
}

/* ---- read() of the trace fd ---- */

/* Wait for a queued buffer: its index, -1 at the end (disabled and
 * empty), -2 on a signal. */
static int64_t wait_for_buffer(struct fake_fd *f)
{
    for (;;) {
        struct pollfd p = {.fd = g.wake_fd, .events = POLLIN};
        eventfd_t drained;

        pthread_mutex_lock(&g.q_lock);
        (void)eventfd_read(g.wake_fd, &drained);
        if (g.queue_len) {
            uint32_t i = g.queue[g.queue_head];

            g.queue_head = (g.queue_head + 1) % HVLOG_MSHV_MAX_BUFFERS;
            g.queue_len--;
            g.buffers[i].queued = false;
            pthread_mutex_unlock(&g.q_lock);
            return i;
        }
        if (!f->enabled) {
            pthread_mutex_unlock(&g.q_lock);
            return -1;
        }
        pthread_mutex_unlock(&g.q_lock);
        if (real_poll(&p, 1, -1) < 0 && errno == EINTR)
            return -2;
    }
}

/* Copy [at, at + len) of buffer @index, page by page (a page list, as vmap). */
static void buffer_copy(uint32_t index, uint64_t at, uint8_t *dst, size_t len)
{
    while (len) {
        uint64_t page = at / HV_PAGE_SIZE, in_page = at % HV_PAGE_SIZE;
        size_t n = HV_PAGE_SIZE - in_page < len ? HV_PAGE_SIZE - in_page : len;
        const uint8_t *v = hvlog_sim_root_view(g.sim, g.buffers[index].gpa[page] << HV_PAGE_SHIFT,
                                               HV_PAGE_SIZE);

        memcpy(dst, v + in_page, n);
        dst += n;
        at += n;
        len -= n;
    }
}

static ssize_t trace_read(struct fake_fd *f, uint8_t *dst, size_t size)
{
    size_t copied = 0, buffer_bytes;
    const struct knobs *k = &g.knobs;

    bool mine;

    pthread_mutex_lock(&g.q_lock);
    mine = g.attached == f && f->reader == (pid_t)syscall(SYS_gettid);
    pthread_mutex_unlock(&g.q_lock);
    if (!mine) { /* only the thread that attached reads */
        errno = EPERM;
        return -1;
    }
    f->reads++;
    if (k->eintr && f->reads >= k->eintr && (f->reads - k->eintr) % 3 == 0) {
        errno = EINTR;
        return -1;
    }
    if (k->short_bytes && size > k->short_bytes)
        size = k->short_bytes;
    buffer_bytes = (size_t)g.cfg.pages_per_buffer * HV_PAGE_SIZE;
    while (copied < size) {
        uint64_t offset;
        size_t n;
        uint32_t data;

        if (k->eof && f->buffers_out >= k->eof)
            return (ssize_t)copied;
        if (f->current < 0) {
            int64_t i = wait_for_buffer(f);

            if (i == -2) {
                if (copied)
                    return (ssize_t)copied;
                errno = EINTR;
                return -1;
            }
            if (i < 0)
                return (ssize_t)copied; /* 0: disabled and empty */
            f->current = i;
        }
        /* The driver's WARN: BufferSize is the data area. */
        data = header_u32(g.buffers[f->current].header, 0);
        if ((k->eio && f->buffers_out + 1 == k->eio) ||
            HV_EVENTLOG_BUFFER_HEADER_SIZE + (size_t)data != buffer_bytes) {
            errno = EIO;
            return -1;
        }
        offset = f->pos % buffer_bytes;
        n = buffer_bytes - offset < size - copied ? buffer_bytes - offset : size - copied;
        if (k->truncate && f->buffers_out + 1 == k->truncate) {
            if (offset >= buffer_bytes / 2)
                return (ssize_t)copied; /* the stream ends here */
            if (n > buffer_bytes / 2 - offset)
                n = buffer_bytes / 2 - offset;
        }
        buffer_copy((uint32_t)f->current, offset, dst + copied, n);
        if (k->wrong_size && f->buffers_out + 1 == k->wrong_size && offset == 0 && n >= 4)
            hvlog_store_le32(dst + copied, (uint32_t)buffer_bytes);
        copied += n;
        f->pos += n;
        if (offset + n == buffer_bytes) {
            /* Released once its last byte went out, from the reader's VP. */
            int cpu = sched_getcpu();

            (void)call_buffer(HvCallHvReleaseEventLogBuffer, LOCAL, (uint32_t)f->current,
                              (uint32_t)(cpu < 0 ? 0 : cpu) % g.lps);
            f->current = -1;
            f->buffers_out++;
        }
    }
    return (ssize_t)copied;
}

/* ---- read() of the diaglog fd (§1.2) ---- */

static uint64_t ring_ts(uint32_t i)
{
    return __atomic_load_n((const uint64_t *)(const void *)(g.ring[i] + 16), __ATOMIC_ACQUIRE);
}

/* The buffer with the smallest TimeStamp greater than @after, or -1. */
static int64_t ring_next(uint64_t after)
{
    int64_t best = -1;

    for (uint32_t i = 0; i < g.ring_count; i++) {
        uint64_t ts = ring_ts(i);

        if (ts > after && (best < 0 || ts < ring_ts((uint32_t)best)))
            best = i;
    }
    return best;
}

/* Is there a record at next_offs of the current buffer (moving on to the
 * next buffer once this one is Complete and read to its end)? */
static bool ring_has_data(struct fake_fd *f)
{
    const uint8_t *h = g.ring[f->ring_current];

    if (header_u32(h, 44) == HvEventLogBufferStateComplete) {
        uint32_t next;

        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (f->next_offs < header_u32(h, 48))
            return true;
        next = header_u32(h, 56);
        if (next < g.ring_count && ring_ts(next) > f->saved_ts) {
            f->ring_current = next;
            f->saved_ts = ring_ts(next);
            f->next_offs = 0;
            return header_u32(g.ring[next], 48) != 0;
        }
        return false;
    }
    return f->next_offs < header_u32(h, 48);
}

static ssize_t diaglog_read(struct fake_fd *f, uint8_t *dst, size_t size)
{
    size_t copied = 0;
    uint32_t buffer_bytes = g.ring_pages * HV_PAGE_SIZE;

    while (copied < size) {
        const uint8_t *h, *e;
        uint32_t rec, type;
        int64_t offset_s;
        uint8_t head[16];

        if (f->ring_current < 0 || f->saved_ts != ring_ts((uint32_t)f->ring_current)) {
            f->ring_current = ring_next(f->saved_ts);
            if (f->ring_current < 0)
                return (ssize_t)copied;
            f->saved_ts = ring_ts((uint32_t)f->ring_current);
            f->next_offs = 0;
        }
        if (!ring_has_data(f))
            break;
        h = g.ring[f->ring_current];
        if ((uint64_t)HV_EVENTLOG_BUFFER_HEADER_SIZE + f->next_offs + 16 > buffer_bytes) {
            f->ring_current = -1;
            break;
        }
        e = h + HV_EVENTLOG_BUFFER_HEADER_SIZE + f->next_offs;
        rec = hvlog_load_le16(e + 4);
        type = hvlog_load_le16(e + 6);
        if (type == 0 || rec < 16 || rec > size - copied ||
            HV_EVENTLOG_BUFFER_HEADER_SIZE + f->next_offs + rec > buffer_bytes)
            break;
        /* TimeStamp: reference time -> wall-clock seconds since open. */
        offset_s = ((int64_t)f->ref0_100ns - (int64_t)hvlog_load_le64(e + 8)) / 10000000ll;
        memcpy(head, e, 16);
        hvlog_store_le64(head + 8, (uint64_t)(f->real0_s - offset_s));
        if (g.knobs.bad_record && ++f->records_out == g.knobs.bad_record)
            hvlog_store_le16(head + 4, 8); /* a Size below the entry header */
        memcpy(dst + copied, head, 16);
        memcpy(dst + copied + 16, e + 16, rec - 16);
        copied += rec;
        f->next_offs += (rec + 7u) & ~7u; /* the hypervisor pads records to 8 */
    }
    return (ssize_t)copied;
}

/* ---- the interposed calls ---- */

/* glibc's fortified entry points, declared only under _FORTIFY_SOURCE. */
int __open_2(const char *path, int flags);
ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen);

static bool is_device(const char *path)
{
    return strcmp(path, HVLOG_MSHV_DIAG_PATH) == 0; /* open()'s path is nonnull */
}

static bool is_msr(const char *path)
{
    size_t n = strlen(path);

    return n > 13 && strncmp(path, "/dev/cpu/", 9) == 0 && strcmp(path + n - 4, "/msr") == 0;
}

/* HVLOG_FAKE_MSHV_LEFTOVER=1: a trace state is there before the first
 * open, as a recorder that died without DESTROY leaves it (the state is
 * global to the host and outlives its fds): 8 buffers of 2 pages,
 * threshold 1, Regular, Reference basis, detached, not started. Once. */
static void leftover_state(void)
{
    static bool done;
    struct hvlog_mshv_trace_config k = {
        .mode = 0, .max_buffers_count = 8, .pages_per_buffer = 2, .buffers_threshold = 1,
        .time_basis = 0, .system_time = 0x01DC000000000000ull,
    };

    pthread_mutex_lock(&g.ioctl_lock);
    if (!done && knob("HVLOG_FAKE_MSHV_LEFTOVER", 0))
        (void)state_create(&k);
    done = true;
    pthread_mutex_unlock(&g.ioctl_lock);
}

/* -1 with errno, or a new emulated fd; -2: not ours. */
static int fake_open(const char *path, int flags)
{
    if (is_device(path)) {
        boot();
        knobs_read(&g.knobs);
        if (knob("HVLOG_FAKE_MSHV_MISSING", 0)) {
            errno = ENOENT;
            return -1;
        }
        if (knob("HVLOG_FAKE_MSHV_EACCES", 0)) {
            errno = EACCES;
            return -1;
        }
        if (getenv("HVLOG_FAKE_MSHV_OPEN") && *getenv("HVLOG_FAKE_MSHV_OPEN")) {
            errno = errno_of(getenv("HVLOG_FAKE_MSHV_OPEN"));
            return -1;
        }
        leftover_state();
        return fd_new(FD_DEVICE, flags);
    }
    if (is_msr(path)) {
        if (!g.booted || !g.knobs.msr) {
            errno = ENOENT;
            return -1;
        }
        return fd_new(FD_MSR, flags);
    }
    return -2;
}

EXPORT int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    va_list ap;
    int fd;

    resolve();
    if ((fd = fake_open(path, flags)) != -2)
        return fd;
    va_start(ap, flags);
    if (flags & (O_CREAT | O_TMPFILE))
        mode = va_arg(ap, mode_t);
    va_end(ap);
    return real_open(path, flags, mode);
}

EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    va_list ap;

    va_start(ap, flags);
    if (flags & (O_CREAT | O_TMPFILE))
        mode = va_arg(ap, mode_t);
    va_end(ap);
    return open(path, flags, mode);
}

EXPORT int __open_2(const char *path, int flags)
{
    return open(path, flags);
}

EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    va_list ap;
    int fd;

    resolve();
    if (path[0] == '/' && (fd = fake_open(path, flags)) != -2)
        return fd;
    va_start(ap, flags);
    if (flags & (O_CREAT | O_TMPFILE))
        mode = va_arg(ap, mode_t);
    va_end(ap);
    return real_openat(dirfd, path, flags, mode);
}

EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    va_list ap;

    va_start(ap, flags);
    if (flags & (O_CREAT | O_TMPFILE))
        mode = va_arg(ap, mode_t);
    va_end(ap);
    return openat(dirfd, path, flags, mode);
}

EXPORT int ioctl(int fd, unsigned long request, ...)
{
    struct fake_fd *f;
    unsigned long arg;
    va_list ap;

    resolve();
    va_start(ap, request);
    arg = va_arg(ap, unsigned long);
    va_end(ap);
    if ((f = fd_find(fd)))
        return fake_ioctl(f, request, arg);
    return real_ioctl(fd, request, arg);
}

EXPORT ssize_t read(int fd, void *buf, size_t count)
{
    struct fake_fd *f;

    resolve();
    if (!(f = fd_find(fd)))
        return real_read(fd, buf, count);
    switch (f->kind) {
    case FD_TRACE:
        return trace_read(f, buf, count);
    case FD_DIAGLOG:
        return diaglog_read(f, buf, count);
    default:
        errno = EINVAL;
        return -1;
    }
}

EXPORT ssize_t __read_chk(int fd, void *buf, size_t count, size_t buflen)
{
    (void)buflen;
    return read(fd, buf, count);
}

EXPORT ssize_t pread(int fd, void *buf, size_t count, off_t offset)
{
    struct fake_fd *f;
    uint64_t now;

    resolve();
    if (!(f = fd_find(fd)))
        return real_pread(fd, buf, count, offset);
    if (f->kind != FD_MSR || count != 8 || offset != (off_t)HV_X64_MSR_TIME_REF_COUNT) {
        errno = EIO; /* the msr driver: an MSR that is not there */
        return -1;
    }
    now = ref_time(NULL);
    hvlog_store_le64(buf, now);
    return 8;
}

EXPORT ssize_t pread64(int fd, void *buf, size_t count, off_t offset)
{
    return pread(fd, buf, count, offset);
}

EXPORT int close(int fd)
{
    struct fake_fd *f;

    resolve();
    if ((f = fd_find(fd))) {
        if (f->kind == FD_TRACE) {
            /* mshv_trace_release: still attached -> stop (errors ignored), detach. */
            pthread_mutex_lock(&g.ioctl_lock);
            if (g.state && g.attached == f) {
                (void)trace_stop(f);
                pthread_mutex_lock(&g.q_lock);
                g.attached = NULL;
                pthread_mutex_unlock(&g.q_lock);
            }
            pthread_mutex_unlock(&g.ioctl_lock);
        }
        pthread_mutex_lock(&g.fd_lock);
        f->kind = 0;
        pthread_mutex_unlock(&g.fd_lock);
    }
    return real_close(fd);
}

/* The driver has no poll: its fds always read as ready (DEFAULT_POLLMASK). */
EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    int ready = 0, rc;
    bool ours = false;

    resolve();
    for (nfds_t i = 0; i < n; i++) {
        if (fd_find(fds[i].fd)) {
            ours = true;
            fds[i].revents = (short)(fds[i].events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM));
            ready += fds[i].revents != 0;
            fds[i].fd = ~fds[i].fd; /* the real poll skips negative fds */
        }
    }
    if (!ours)
        return real_poll(fds, n, timeout);
    rc = real_poll(fds, n, ready ? 0 : timeout);
    for (nfds_t i = 0; i < n; i++) {
        if (fds[i].fd < 0 && fd_find(~fds[i].fd)) {
            fds[i].fd = ~fds[i].fd;
            fds[i].revents = (short)(fds[i].events & (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM));
        }
    }
    return rc < 0 ? rc : rc + ready;
}
