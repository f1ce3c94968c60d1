/* SPDX-License-Identifier: MIT */
/*
 * The capture layer (hvlog/capture/mshv.h) against the emulated
 * /dev/mshv_diag (fake_mshv.c, LD_PRELOAD'ed by CTest): the same system
 * calls a real Hyper-V root would answer.
 *
 * End to end: buffers are recorded through START, read() and STOP/drain;
 * every buffer's header is checked; and per LP, against the host's own
 * counters (the emulator's report, written at DESTROY):
 *
 *   entries read + EventsLost read + discarded by STOP + stranded
 *     + lost pending == logged.
 *
 * Then one test per refusal (no device, not root, another tracer, state
 * exists with refuse / reuse / reset, another kernel's ENOTTY and EINVAL,
 * a bad config, a reader on another thread) and per injected driver fault
 * (short reads, EINTR, EIO, early EOF, EOF inside a buffer, a wrong
 * BufferSize): each a clear error, and what came before it kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "hvlog/abi/mshv_uapi.h"
#include "hvlog/capture/mshv.h"
#include "hvlog/trace/walk.h"

#define LPS 2u /* the emulator's default host */
#define SIM_DIAG_ENTRY_TYPE 0x1D01u /* hvlog/sim/sim.h HVLOG_SIM_DIAG_ENTRY_TYPE */

static const char *const knobs[] = {
    "HVLOG_FAKE_MSHV_MISSING", "HVLOG_FAKE_MSHV_EACCES", "HVLOG_FAKE_MSHV_FAIL",
    "HVLOG_FAKE_MSHV_SHORT", "HVLOG_FAKE_MSHV_EINTR", "HVLOG_FAKE_MSHV_EIO",
    "HVLOG_FAKE_MSHV_EOF", "HVLOG_FAKE_MSHV_TRUNCATE", "HVLOG_FAKE_MSHV_WRONG_SIZE",
    "HVLOG_FAKE_MSHV_MSR", "HVLOG_FAKE_MSHV_BAD_RECORD", "HVLOG_FAKE_MSHV_OPEN",
};
static char report_path[128];

/* ---- what a recording saw ---- */

struct lp_seen {
    uint64_t entries, lost, buffers;
};

struct seen {
    uint32_t stop_after;         /* buffers; 0 = never ask */
    volatile sig_atomic_t *flag; /* set instead of returning non-zero */
    uint32_t buffer_count, buffer_bytes;
    uint64_t buffers, bad_headers, records, bad_records;
    struct lp_seen lp[LPS];
};

static bool count_entry(void *arg, const struct hvlog_entry *e)
{
    (void)e;
    (*(uint64_t *)arg)++;
    return true;
}

static int on_buffer(void *arg, const uint8_t *bytes, size_t len)
{
    struct seen *s = arg;
    struct hvlog_walk_expect want = {HvEventLogTypeLocalDiagnostics, UINT32_MAX,
                                     HvEventLogBufferStateReady, s->buffer_bytes};
    struct hvlog_buffer_summary sum;
    uint64_t entries = 0;

    s->buffers++;
    /* Whole, checked by the capture; then every header field we can judge. */
    if (len != s->buffer_bytes || hvlog_load_le32(bytes) + 72u != len ||
        hvlog_buffer_walk(bytes, len, HVLOG_ABI_CURRENT, &want, &sum, count_entry, &entries) !=
            HVLOG_WALK_OK ||
        sum.buffer_index >= s->buffer_count || sum.logical_processor >= LPS ||
        sum.lp_sequence_number == 0) {
        s->bad_headers++;
    } else {
        s->lp[sum.logical_processor].entries += entries;
        s->lp[sum.logical_processor].lost += sum.events_lost;
        s->lp[sum.logical_processor].buffers++;
    }
    if (s->stop_after && s->buffers >= s->stop_after) {
        if (s->flag) {
            *s->flag = 1;
            return 0;
        }
        return 1;
    }
    return 0;
}

static int on_record(void *arg, const uint8_t *bytes, size_t len)
{
    struct seen *s = arg;
    int64_t now = (int64_t)time(NULL), at = (int64_t)hvlog_load_le64(bytes + 8);

    s->records++;
    if (s->stop_after && s->records >= s->stop_after && !s->buffer_count)
        return 1; /* a diaglog-only recording counts records */
    /* Whole; TimeStamp rewritten to Unix seconds (the ring started at
     * boot, a few seconds ago at most). */
    if (len < 16 || hvlog_load_le16(bytes + 4) != len || hvlog_load_le16(bytes + 6) == 0 ||
        at > now + 1 || at < now - 600)
        s->bad_records++;
    return 0;
}

static const struct hvlog_capture_sink sink = {.buffer = on_buffer, .record = on_record};

/* ---- the host's side: the emulator's report ---- */

struct host_lp {
    unsigned long long logged, discarded_entries, discarded_lost, stranded_entries,
        stranded_lost;
    unsigned lost_pending;
};

static void read_report(struct host_lp *out)
{
    FILE *f = fopen(report_path, "r");

    assert_non_null(f);
    for (uint32_t lp = 0; lp < LPS; lp++) {
        unsigned index;

        assert_int_equal(fscanf(f, "lp %u logged %llu discarded_entries %llu discarded_lost %llu "
                                   "stranded_entries %llu stranded_lost %llu lost_pending %u\n",
                                &index, &out[lp].logged, &out[lp].discarded_entries,
                                &out[lp].discarded_lost, &out[lp].stranded_entries,
                                &out[lp].stranded_lost, &out[lp].lost_pending),
                         7);
        assert_int_equal(index, lp);
    }
    fclose(f);
    unlink(report_path);
}

/* read + lost + discarded + stranded + pending == logged, each term printed. */
static void assert_conservation(const struct seen *s)
{
    struct host_lp h[LPS];
    uint64_t logged = 0;

    read_report(h);
    for (uint32_t lp = 0; lp < LPS; lp++) {
        const struct lp_seen *r = &s->lp[lp];

        fprintf(stderr, "  LP %u: logged %llu = read %llu + EventsLost %llu + discarded by STOP "
                "%llu+%llu + stranded %llu+%llu + pending %u\n", lp, h[lp].logged,
                (unsigned long long)r->entries, (unsigned long long)r->lost,
                h[lp].discarded_entries, h[lp].discarded_lost, h[lp].stranded_entries,
                h[lp].stranded_lost, h[lp].lost_pending);
        assert_int_equal(r->entries + r->lost + h[lp].discarded_entries + h[lp].discarded_lost +
                             h[lp].stranded_entries + h[lp].stranded_lost + h[lp].lost_pending,
                         h[lp].logged);
        logged += h[lp].logged;
    }
    assert_true(logged > 0);
}

/* ---- helpers ---- */

static struct hvlog_capture_config small_config(void)
{
    struct hvlog_capture_config c = hvlog_capture_config_default();

    c.buffer_count = 8;
    c.buffer_pages = 1;
    c.threshold = 1;
    c.diaglog_poll_ms = 5;
    return c;
}

static void seen_init(struct seen *s, const struct hvlog_capture_config *c, uint32_t stop_after)
{
    memset(s, 0, sizeof(*s));
    s->stop_after = stop_after;
    s->buffer_count = c->buffer_count;
    s->buffer_bytes = c->buffer_pages * 4096u;
}

/* open + run + close; returns the run's status, the close's error line. */
static enum hvlog_capture_status record(const struct hvlog_capture_config *c, struct seen *s,
                                        struct hvlog_capture_stats *stats, char *error,
                                        size_t error_len)
{
    struct hvlog_capture *cap;
    enum hvlog_capture_status st = hvlog_capture_open(c, &cap);

    if (st == HVLOG_CAPTURE_OK)
        st = hvlog_capture_run(cap, &sink, s, s->flag);
    if (stats)
        hvlog_capture_stats(cap, stats);
    (void)hvlog_capture_close(cap, error, error_len);
    fprintf(stderr, "  -> %s%s%s\n", hvlog_capture_status_name(st), error[0] ? ": " : "", error);
    return st;
}

/* Raw uapi: is there a trace state now? (INFO: ENOENT when none.) */
static bool state_exists(void)
{
    struct hvlog_mshv_trace_config k;
    int dev = open(HVLOG_MSHV_DIAG_PATH, O_RDONLY), fd, rc;

    assert_true(dev >= 0);
    fd = ioctl(dev, HVLOG_MSHV_GET_TRACE_FD);
    assert_true(fd >= 0);
    rc = ioctl(fd, HVLOG_MSHV_TRACE_STATE_INFO, &k);
    assert_true(rc == 0 || errno == ENOENT);
    close(fd);
    close(dev);
    return rc == 0;
}

static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++)
        unsetenv(knobs[i]);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    /* Every test leaves the host without a trace state. */
    for (size_t i = 0; i < sizeof knobs / sizeof knobs[0]; i++)
        unsetenv(knobs[i]);
    assert_false(state_exists());
    return 0;
}

/* ---- end to end ---- */

static void records_whole_buffers_and_conservation_holds_per_lp(void **state)
{
    struct hvlog_capture_config c = small_config();
    struct hvlog_capture_stats st;
    struct seen s;
    char error[320];
    (void)state;

    c.diaglog = true;
    setenv("HVLOG_FAKE_MSHV_MSR", "1", 1);
    seen_init(&s, &c, 24);
    assert_int_equal(record(&c, &s, &st, error, sizeof error), HVLOG_CAPTURE_OK);
    assert_string_equal(error, "");
    assert_true(s.buffers >= 24);
    assert_int_equal(s.bad_headers, 0);
    assert_int_equal(st.buffers, s.buffers);
    assert_int_equal(st.bytes, s.buffers * 4096u);
    assert_true(s.records > 0);
    assert_int_equal(s.bad_records, 0);
    assert_int_equal(st.records, s.records);
    assert_conservation(&s);
}

static void the_anchor_comes_from_the_msr_or_says_there_is_none(void **state)
{
    struct hvlog_capture_config c = small_config();
    struct hvlog_capture_anchor a, b;
    struct hvlog_capture *cap;
    char error[320];
    (void)state;

    setenv("HVLOG_FAKE_MSHV_MSR", "1", 1);
    assert_int_equal(hvlog_capture_open(&c, &cap), HVLOG_CAPTURE_OK);
    hvlog_capture_anchor(cap, &a);
    assert_int_equal(hvlog_capture_close(cap, error, sizeof error), HVLOG_CAPTURE_OK);
    assert_true(a.valid);
    assert_true(a.ref_time_100ns > 0);
    assert_true(a.unix_time_ns / 1000000000ull >= (uint64_t)time(NULL) - 60);

    unsetenv("HVLOG_FAKE_MSHV_MSR");
    assert_int_equal(hvlog_capture_open(&c, &cap), HVLOG_CAPTURE_OK);
    hvlog_capture_anchor(cap, &b);
    assert_int_equal(hvlog_capture_close(cap, error, sizeof error), HVLOG_CAPTURE_OK);
    assert_false(b.valid);
    assert_non_null(strstr(b.reason, "no reference anchor"));
    assert_non_null(strstr(b.reason, "/dev/cpu/0/msr"));
}

/* The config handed to CREATE comes back from INFO, SystemTime included. */
static void the_config_in_effect_is_the_one_created(void **state)
{
    struct hvlog_capture_config c = small_config();
    struct hvlog_mshv_trace_config k;
    struct hvlog_capture *cap;
    char error[320];
    (void)state;

    c.buffer_count = 5;
    c.buffer_pages = 2;
    c.threshold = 3;
    c.system_time = 0x01DB000000000000ull;
    assert_int_equal(hvlog_capture_open(&c, &cap), HVLOG_CAPTURE_OK);
    hvlog_capture_config_in_effect(cap, &k);
    assert_int_equal(hvlog_capture_close(cap, error, sizeof error), HVLOG_CAPTURE_OK);
    assert_int_equal(k.max_buffers_count, 5);
    assert_int_equal(k.pages_per_buffer, 2);
    assert_int_equal(k.buffers_threshold, 3);
    assert_int_equal(k.system_time, 0x01DB000000000000ull);
}

/*
 * Stopping by signal, as a CLI's Ctrl-C or --duration does: the handler
 * sets the stop flag (on the reader's thread), and a second thread keeps
 * signalling the reader until the run returns (the driver's read blocks
 * while no buffer is due, and has no poll; hvlog/capture/mshv.h).
 */
static volatile sig_atomic_t stop_flag;
static atomic_bool stop_armed; /* lock-free: read in the handler */

static void on_sigusr1(int sig)
{
    (void)sig;
    if (atomic_load(&stop_armed))
        stop_flag = 1;
}

struct signaller {
    pthread_t reader;
    atomic_bool done;
    unsigned before_stop; /* signals sent before the handler stops the run */
};

static void *signal_until_done(void *arg)
{
    struct signaller *g = arg;
    struct timespec pace = {.tv_sec = 0, .tv_nsec = 20000000L};

    for (unsigned n = 0; !atomic_load(&g->done); n++) {
        if (n == g->before_stop)
            atomic_store(&stop_armed, true);
        pthread_kill(g->reader, SIGUSR1);
        nanosleep(&pace, NULL); /* paces the signals; nothing asserts on time */
    }
    return NULL;
}

/* Few buffers and a threshold as high as the count: LPs run out of Free
 * buffers (EventsLost), and lists below the threshold are delivered only
 * by STOP's flush or released by it (Complete, never read). The sum still
 * holds, term by term. */
static void with_few_buffers_losses_are_counted_and_conservation_holds(void **state)
{
    struct sigaction sa = {.sa_handler = on_sigusr1}, old;
    struct hvlog_capture_config c = small_config();
    struct signaller sig = {.reader = pthread_self(), .before_stop = 10};
    struct hvlog_capture *cap;
    struct seen s;
    pthread_t t;
    char error[320];
    (void)state;

    sigemptyset(&sa.sa_mask); /* no SA_RESTART: a read() is interrupted */
    assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
    atomic_init(&sig.done, false);
    c.buffer_count = 3;
    c.threshold = 3;
    seen_init(&s, &c, 0);
    assert_int_equal(hvlog_capture_open(&c, &cap), HVLOG_CAPTURE_OK);
    assert_int_equal(pthread_create(&t, NULL, signal_until_done, &sig), 0);
    stop_flag = 0;
    atomic_store(&stop_armed, false);
    assert_int_equal(hvlog_capture_run(cap, &sink, &s, &stop_flag), HVLOG_CAPTURE_OK);
    assert_true(stop_flag);
    atomic_store(&sig.done, true);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(hvlog_capture_close(cap, error, sizeof error), HVLOG_CAPTURE_OK);
    assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
    assert_int_equal(s.bad_headers, 0);
    assert_conservation(&s);
}

/* ---- refusals ---- */

static void refuse(const struct hvlog_capture_config *c, enum hvlog_capture_status want,
                   const char *phrase)
{
    struct seen s;
    char error[320];

    seen_init(&s, c, 4);
    assert_int_equal(record(c, &s, NULL, error, sizeof error), want);
    assert_non_null(strstr(error, phrase));
    assert_int_equal(s.buffers, 0);
}

static void a_missing_device_is_not_a_root_partition(void **state)
{
    struct hvlog_capture_config c = small_config();
    (void)state;

    setenv("HVLOG_FAKE_MSHV_MISSING", "1", 1);
    refuse(&c, HVLOG_CAPTURE_NO_DEVICE,
           "not a Hyper-V root partition, or the mshv_diag driver is not loaded");
    unsetenv("HVLOG_FAKE_MSHV_MISSING");
    setenv("HVLOG_FAKE_MSHV_OPEN", "ENODEV", 1); /* a node without its driver */
    refuse(&c, HVLOG_CAPTURE_NO_DEVICE, "the mshv_diag driver is not loaded");
}

static void a_device_not_permitted_needs_root(void **state)
{
    struct hvlog_capture_config c = small_config();
    (void)state;

    setenv("HVLOG_FAKE_MSHV_EACCES", "1", 1);
    refuse(&c, HVLOG_CAPTURE_NOT_PERMITTED, "needs root");
    unsetenv("HVLOG_FAKE_MSHV_EACCES");
    setenv("HVLOG_FAKE_MSHV_OPEN", "EPERM", 1);
    refuse(&c, HVLOG_CAPTURE_NOT_PERMITTED, "Operation not permitted: needs root");
}

static void another_kernels_enotty_names_the_ioctl_and_the_release(void **state)
{
    struct hvlog_capture_config c = small_config();
    struct utsname u;
    (void)state;

    assert_int_equal(uname(&u), 0);
    setenv("HVLOG_FAKE_MSHV_FAIL", "MSHV_GET_TRACE_FD:ENOTTY", 1);
    refuse(&c, HVLOG_CAPTURE_KERNEL, "MSHV_GET_TRACE_FD");
    refuse(&c, HVLOG_CAPTURE_KERNEL, u.release);
    setenv("HVLOG_FAKE_MSHV_FAIL", "MSHV_TRACE_START:ENOTTY", 1);
    refuse(&c, HVLOG_CAPTURE_KERNEL, "MSHV_TRACE_START");
}

static void another_kernels_einval_on_the_config_names_the_ioctl(void **state)
{
    struct hvlog_capture_config c = small_config();
    (void)state;

    setenv("HVLOG_FAKE_MSHV_FAIL", "MSHV_TRACE_STATE_CREATE:EINVAL", 1);
    refuse(&c, HVLOG_CAPTURE_KERNEL, "MSHV_TRACE_STATE_CREATE: Invalid argument: kernel");
}

static void a_hypervisor_without_memory_suggests_fewer_buffers(void **state)
{
    struct hvlog_capture_config c = small_config();
    (void)state;

    setenv("HVLOG_FAKE_MSHV_FAIL", "MSHV_TRACE_STATE_CREATE:ENOMEM", 1);
    refuse(&c, HVLOG_CAPTURE_SYSTEM, "try fewer or smaller buffers");
}

/* Destroy whatever trace state there is (raw uapi). */
static void clear_state(void)
{
    int dev = open(HVLOG_MSHV_DIAG_PATH, O_RDONLY), fd;

    assert_true(dev >= 0);
    fd = ioctl(dev, HVLOG_MSHV_GET_TRACE_FD);
    assert_true(fd >= 0);
    assert_int_equal(ioctl(fd, HVLOG_MSHV_TRACE_STATE_DESTROY), 0);
    close(fd);
    close(dev);
}

/* STOP's ETIME: the buffers read stay, the error says the state may be
 * left behind - and it is: closing the fd stops and detaches, nothing
 * destroys. */
static void a_stop_that_times_out_says_the_state_may_be_left(void **state)
{
    struct hvlog_capture_config c = small_config();
    struct seen s;
    char error[320];
    (void)state;

    setenv("HVLOG_FAKE_MSHV_FAIL", "MSHV_TRACE_STOP:ETIME", 1);
    seen_init(&s, &c, 3);
    assert_int_equal(record(&c, &s, NULL, error, sizeof error), HVLOG_CAPTURE_SYSTEM);
    assert_true(s.buffers >= 3);
    assert_non_null(strstr(error, "MSHV_TRACE_STOP"));
    assert_non_null(strstr(error, "--reset"));
    unsetenv("HVLOG_FAKE_MSHV_FAIL");
    assert_true(state_exists());
    clear_state();
    unlink(report_path);
}

static void a_config_the_driver_rejects_is_refused_before_any_ioctl(void **state)
{
    struct hvlog_capture_config c = small_config();
    (void)state;

    c.threshold = c.buffer_count + 1;
    refuse(&c, HVLOG_CAPTURE_BAD_CONFIG, "threshold");
    c = small_config();
    c.buffer_count = 513;
    refuse(&c, HVLOG_CAPTURE_BAD_CONFIG, "1..512");
    c = small_config();
    c.sources = 0x1; /* the extended bit alone */
    refuse(&c, HVLOG_CAPTURE_BAD_CONFIG, "sources");
}

static void a_second_tracer_gets_exists_or_busy(void **state)
{
    struct hvlog_capture_config c = small_config();
    struct hvlog_capture *first;
    char error[320];
    (void)state;

    assert_int_equal(hvlog_capture_open(&c, &first), HVLOG_CAPTURE_OK);
    refuse(&c, HVLOG_CAPTURE_EXISTS, "--reuse");
    c.existing = HVLOG_CAPTURE_REUSE; /* attach: the first one is */
    refuse(&c, HVLOG_CAPTURE_BUSY, "another tracer is attached");
    c.existing = HVLOG_CAPTURE_RESET; /* destroy: not while attached */
    refuse(&c, HVLOG_CAPTURE_BUSY, "MSHV_TRACE_STATE_DESTROY");
    assert_int_equal(hvlog_capture_close(first, error, sizeof error), HVLOG_CAPTURE_OK);
}

/* A state left behind (created, its fd closed without DESTROY). */
static void leave_a_state(uint32_t count)
{
    struct hvlog_mshv_trace_config k = {.max_buffers_count = count, .pages_per_buffer = 1,
                                        .buffers_threshold = 1};
    int dev = open(HVLOG_MSHV_DIAG_PATH, O_RDONLY), fd;

    assert_true(dev >= 0);
    fd = ioctl(dev, HVLOG_MSHV_GET_TRACE_FD);
    assert_true(fd >= 0);
    assert_int_equal(ioctl(fd, HVLOG_MSHV_TRACE_STATE_CREATE, &k), 0);
    /* Twice: EEXIST, the rule the capture's refusal rests on. */
    assert_int_equal(ioctl(fd, HVLOG_MSHV_TRACE_STATE_CREATE, &k), -1);
    assert_int_equal(errno, EEXIST);
    close(fd);
    close(dev);
}

static void existing_state_is_refused_reused_or_reset(void **state)
{
    struct hvlog_capture_config c = small_config();
    struct hvlog_mshv_trace_config k;
    struct hvlog_capture *cap;
    struct seen s;
    char error[320];
    (void)state;

    leave_a_state(3);
    refuse(&c, HVLOG_CAPTURE_EXISTS, "--reset");

    /* Reuse: its config, not ours; records; the state stays. */
    c.existing = HVLOG_CAPTURE_REUSE;
    assert_int_equal(hvlog_capture_open(&c, &cap), HVLOG_CAPTURE_OK);
    hvlog_capture_config_in_effect(cap, &k);
    assert_int_equal(k.max_buffers_count, 3);
    seen_init(&s, &c, 3);
    s.buffer_count = 3;
    assert_int_equal(hvlog_capture_run(cap, &sink, &s, NULL), HVLOG_CAPTURE_OK);
    assert_int_equal(hvlog_capture_close(cap, error, sizeof error), HVLOG_CAPTURE_OK);
    assert_true(s.buffers >= 3);
    assert_int_equal(s.bad_headers, 0);
    assert_true(state_exists());

    /* Reset: destroyed and made anew with ours; destroyed at close. */
    c.existing = HVLOG_CAPTURE_RESET;
    assert_int_equal(hvlog_capture_open(&c, &cap), HVLOG_CAPTURE_OK);
    hvlog_capture_config_in_effect(cap, &k);
    assert_int_equal(k.max_buffers_count, c.buffer_count);
    assert_int_equal(hvlog_capture_close(cap, error, sizeof error), HVLOG_CAPTURE_OK);
    unlink(report_path); /* two DESTROYs: the reused state's counts are not ours */
}

struct other_thread {
    struct hvlog_capture *cap;
    struct seen *s;
    enum hvlog_capture_status status;
};

static void *run_elsewhere(void *arg)
{
    struct other_thread *o = arg;

    o->status = hvlog_capture_run(o->cap, &sink, o->s, NULL);
    return NULL;
}

static void only_the_thread_that_attached_may_read(void **state)
{
    struct hvlog_capture_config c = small_config();
    struct other_thread o;
    struct seen s;
    pthread_t t;
    char error[320];
    (void)state;

    seen_init(&s, &c, 2);
    o.s = &s;
    assert_int_equal(hvlog_capture_open(&c, &o.cap), HVLOG_CAPTURE_OK);
    assert_int_equal(pthread_create(&t, NULL, run_elsewhere, &o), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(o.status, HVLOG_CAPTURE_NOT_PERMITTED);
    assert_non_null(strstr(hvlog_capture_error(o.cap), "only the thread that attached"));
    assert_int_equal(hvlog_capture_close(o.cap, error, sizeof error), HVLOG_CAPTURE_NOT_PERMITTED);
    assert_int_equal(s.buffers, 0);
    unlink(report_path);
}

/* ---- driver faults ---- */

/* Record until @stop_after buffers with one knob set. */
static enum hvlog_capture_status faulty(const char *knob, const char *value, uint32_t stop_after,
                                        struct seen *s, struct hvlog_capture_stats *st,
                                        char *error)
{
    struct hvlog_capture_config c = small_config();

    setenv(knob, value, 1);
    seen_init(s, &c, stop_after);
    return record(&c, s, st, error, 320);
}

static void short_reads_resume_inside_the_buffer(void **state)
{
    struct hvlog_capture_stats st;
    struct seen s;
    char error[320];
    (void)state;

    /* 50 bytes a read: even the 72-byte header comes in two pieces. */
    assert_int_equal(faulty("HVLOG_FAKE_MSHV_SHORT", "50", 6, &s, &st, error), HVLOG_CAPTURE_OK);
    assert_true(s.buffers >= 6);
    assert_int_equal(s.bad_headers, 0);
    assert_true(st.short_reads >= 81 * s.buffers); /* 4096 bytes in pieces of 50 */
    assert_conservation(&s);
}

static void eintr_is_retried(void **state)
{
    struct hvlog_capture_stats st;
    struct seen s;
    char error[320];
    (void)state;

    assert_int_equal(faulty("HVLOG_FAKE_MSHV_EINTR", "2", 6, &s, &st, error), HVLOG_CAPTURE_OK);
    assert_true(s.buffers >= 6);
    assert_true(st.eintr > 0);
    assert_int_equal(s.bad_headers, 0);
    assert_conservation(&s);
}

static void a_stop_flag_stops_and_drains(void **state)
{
    volatile sig_atomic_t flag = 0;
    struct hvlog_capture_config c = small_config();
    struct hvlog_capture_stats st;
    struct seen s;
    char error[320];
    (void)state;

    seen_init(&s, &c, 5);
    s.flag = &flag;
    assert_int_equal(record(&c, &s, &st, error, sizeof error), HVLOG_CAPTURE_OK);
    assert_true(flag);
    assert_true(s.buffers >= 5);
    assert_int_equal(st.buffers - st.after_stop, 5); /* the 5th asked; the rest came in the drain */
    assert_conservation(&s);
}

static void eio_keeps_the_buffers_before_it(void **state)
{
    struct hvlog_capture_stats st;
    struct seen s;
    char error[320];
    (void)state;

    assert_int_equal(faulty("HVLOG_FAKE_MSHV_EIO", "3", 0, &s, &st, error), HVLOG_CAPTURE_SYSTEM);
    assert_int_equal(s.buffers, 2);
    assert_non_null(strstr(error, "Input/output error"));
    assert_non_null(strstr(error, "2 buffers before it were kept"));
    assert_conservation(&s);
}

static void an_early_eof_keeps_the_buffers_before_it(void **state)
{
    struct hvlog_capture_stats st;
    struct seen s;
    char error[320];
    (void)state;

    assert_int_equal(faulty("HVLOG_FAKE_MSHV_EOF", "3", 0, &s, &st, error),
                     HVLOG_CAPTURE_EARLY_EOF);
    assert_int_equal(s.buffers, 3);
    assert_non_null(strstr(error, "end of file before STOP"));
    assert_conservation(&s);
}

static void an_eof_inside_a_buffer_keeps_the_whole_ones(void **state)
{
    struct hvlog_capture_stats st;
    struct seen s;
    char error[320];
    (void)state;

    assert_int_equal(faulty("HVLOG_FAKE_MSHV_TRUNCATE", "3", 0, &s, &st, error),
                     HVLOG_CAPTURE_SHORT_READ);
    assert_int_equal(s.buffers, 2);
    assert_non_null(strstr(error, "2048 bytes into a 4096-byte buffer"));
    assert_conservation(&s);
}

static void a_wrong_buffer_size_is_refused_and_the_rest_kept(void **state)
{
    struct hvlog_capture_stats st;
    struct seen s;
    char error[320];
    (void)state;

    assert_int_equal(faulty("HVLOG_FAKE_MSHV_WRONG_SIZE", "3", 0, &s, &st, error),
                     HVLOG_CAPTURE_BAD_BUFFER);
    assert_int_equal(s.buffers, 2);
    assert_non_null(strstr(error, "72 + BufferSize 4096 = 4168 is not the buffer size 4096"));
    assert_int_equal(s.bad_headers, 0);
    unlink(report_path); /* the refused buffer left the host: no conservation to check */
}

/* ---- the emulated driver itself, through the raw uapi ---- */

/* The rules the capture's refusals rest on, as research §1.1 states them:
 * if the emulator broke one, the tests above would prove less. */
static void the_emulated_driver_keeps_the_uapi_rules(void **state)
{
    struct hvlog_mshv_trace_config k = {.max_buffers_count = 2, .pages_per_buffer = 1,
                                        .buffers_threshold = 1};
    struct pollfd p;
    uint8_t byte;
    int dev, a, b;
    (void)state;

    dev = open(HVLOG_MSHV_DIAG_PATH, O_RDONLY);
    assert_true(dev >= 0);
    assert_int_equal(read(dev, &byte, 1), -1); /* the device has no read */
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ioctl(dev, HVLOG_MSHV_TRACE_STOP), -1); /* not a device ioctl */
    assert_int_equal(errno, ENOTTY);
    a = ioctl(dev, HVLOG_MSHV_GET_TRACE_FD);
    b = ioctl(dev, HVLOG_MSHV_GET_TRACE_FD);
    assert_true(a >= 0 && b >= 0 && a != b);

    /* No state: ENOENT everywhere but CREATE. */
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STATE_INFO, &k), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STATE_ATTACH), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STATE_DESTROY), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_START, (unsigned long)HVLOG_MSHV_TR_ALL_GROUPS), -1);
    assert_int_equal(errno, ENOENT);
    /* The config checks: threshold above the count. */
    k.buffers_threshold = 3;
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STATE_CREATE, &k), -1);
    assert_int_equal(errno, EINVAL);
    k.buffers_threshold = 1;
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STATE_CREATE, &k), 0);

    /* One attached fd: EALREADY for itself, EBUSY for another; only the
     * attached one starts, stops, detaches, reads. */
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STATE_ATTACH), 0);
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STATE_ATTACH), -1);
    assert_int_equal(errno, EALREADY);
    assert_int_equal(ioctl(b, HVLOG_MSHV_TRACE_STATE_ATTACH), -1);
    assert_int_equal(errno, EBUSY);
    assert_int_equal(ioctl(b, HVLOG_MSHV_TRACE_STOP), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(ioctl(b, HVLOG_MSHV_TRACE_STATE_DETACH), -1);
    assert_int_equal(errno, EPERM);
    assert_int_equal(read(b, &byte, 1), -1);
    assert_int_equal(errno, EPERM);
    /* Before START, read() is at its end at once. */
    assert_int_equal(read(a, &byte, 1), 0);
    /* START wants a group bit, and bit 0 ("extended") clear. */
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_START, 0x1ul), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_START, (unsigned long)HVLOG_MSHV_TR_ALL_GROUPS), 0);
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STATE_DETACH), -1); /* started */
    assert_int_equal(errno, EBUSY);
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STATE_DESTROY), -1); /* attached */
    assert_int_equal(errno, EBUSY);
    /* No poll in the driver: always "ready", whatever is queued. */
    p = (struct pollfd){.fd = a, .events = POLLIN};
    assert_int_equal(poll(&p, 1, 0), 1);
    assert_int_equal(p.revents & POLLIN, POLLIN);
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STOP), 0);
    assert_int_equal(ioctl(a, HVLOG_MSHV_TRACE_STATE_DETACH), 0);
    assert_int_equal(ioctl(b, HVLOG_MSHV_TRACE_STATE_DESTROY), 0); /* any fd, once detached */
    close(a);
    close(b);
    close(dev);
    unlink(report_path);
}

/* ---- the diaglog fd ---- */

static void a_diaglog_only_capture_reads_whole_records_until_asked_to_stop(void **state)
{
    struct hvlog_capture_config c = small_config();
    struct hvlog_capture_stats st;
    struct seen s;
    char error[320];
    (void)state;

    c.trace = false;
    c.diaglog = true;
    seen_init(&s, &c, 20);
    s.buffer_count = 0; /* stop on records */
    assert_int_equal(record(&c, &s, &st, error, sizeof error), HVLOG_CAPTURE_OK);
    assert_true(s.records >= 20);
    assert_int_equal(s.bad_records, 0);
    assert_int_equal(st.buffers, 0);
}

static void a_malformed_diaglog_record_keeps_the_records_before_it(void **state)
{
    struct hvlog_capture_config c = small_config();
    struct hvlog_capture_stats st;
    struct seen s;
    char error[320];
    (void)state;

    setenv("HVLOG_FAKE_MSHV_BAD_RECORD", "4", 1);
    c.trace = false;
    c.diaglog = true;
    seen_init(&s, &c, 50);
    s.buffer_count = 0;
    assert_int_equal(record(&c, &s, &st, error, sizeof error), HVLOG_CAPTURE_BAD_RECORD);
    assert_int_equal(s.records, 3);
    assert_int_equal(s.bad_records, 0);
    assert_non_null(strstr(error, "claims 8 bytes; 3 records before it were kept"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(records_whole_buffers_and_conservation_holds_per_lp, setup, teardown),
        cmocka_unit_test_setup_teardown(with_few_buffers_losses_are_counted_and_conservation_holds, setup, teardown),
        cmocka_unit_test_setup_teardown(the_anchor_comes_from_the_msr_or_says_there_is_none, setup, teardown),
        cmocka_unit_test_setup_teardown(the_config_in_effect_is_the_one_created, setup, teardown),
        cmocka_unit_test_setup_teardown(a_missing_device_is_not_a_root_partition, setup, teardown),
        cmocka_unit_test_setup_teardown(a_device_not_permitted_needs_root, setup, teardown),
        cmocka_unit_test_setup_teardown(another_kernels_enotty_names_the_ioctl_and_the_release, setup, teardown),
        cmocka_unit_test_setup_teardown(another_kernels_einval_on_the_config_names_the_ioctl, setup, teardown),
        cmocka_unit_test_setup_teardown(a_config_the_driver_rejects_is_refused_before_any_ioctl, setup, teardown),
        cmocka_unit_test_setup_teardown(a_hypervisor_without_memory_suggests_fewer_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stop_that_times_out_says_the_state_may_be_left, setup, teardown),
        cmocka_unit_test_setup_teardown(a_second_tracer_gets_exists_or_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(existing_state_is_refused_reused_or_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(only_the_thread_that_attached_may_read, setup, teardown),
        cmocka_unit_test_setup_teardown(short_reads_resume_inside_the_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(eintr_is_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(a_stop_flag_stops_and_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(eio_keeps_the_buffers_before_it, setup, teardown),
        cmocka_unit_test_setup_teardown(an_early_eof_keeps_the_buffers_before_it, setup, teardown),
        cmocka_unit_test_setup_teardown(an_eof_inside_a_buffer_keeps_the_whole_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(a_wrong_buffer_size_is_refused_and_the_rest_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(the_emulated_driver_keeps_the_uapi_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(a_diaglog_only_capture_reads_whole_records_until_asked_to_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(a_malformed_diaglog_record_keeps_the_records_before_it, setup, teardown),
    };
    const char *loaded = getenv("HVLOG_FAKE_MSHV_LOADED");

    /* Without the emulator this would talk to the machine's own device. */
    if (!loaded || strtol(loaded, NULL, 10) != (long)getpid()) {
        fprintf(stderr, "SKIP: run under LD_PRELOAD=libhvlog_fake_mshv.so (CTest does)\n");
        return 77;
    }
    snprintf(report_path, sizeof report_path, "/tmp/hvlog_fake_mshv_report_%d.txt", (int)getpid());
    setenv("HVLOG_FAKE_MSHV_REPORT", report_path, 1);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
