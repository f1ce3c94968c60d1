/* SPDX-License-Identifier: MIT */
/*
 * `hvlog record --from /dev/mshv_diag` (issue #14 item 3): the recorder of
 * a real Linux root. The capture layer (hvlog/capture/mshv.h) makes the
 * system calls:
 *
 *   open -> MSHV_GET_TRACE_FD -> MSHV_TRACE_STATE_CREATE (mode, count,
 *   pages, threshold, basis, SystemTime) -> ATTACH -> INFO -> START(sources)
 *   -> read() whole buffers -> on Ctrl-C, --duration or --events: STOP ->
 *   read() to end of file -> DETACH -> DESTROY -> close
 *
 * and this file turns what it delivers into a trace directory with the
 * trace writer's crash-safe recording lifetime (create, start, append,
 * commit; abort keeps what reached the disk), as the simulated host's
 * recording does.
 *
 * The metadata holds only what the root knows (STYLE habit 17): the
 * configuration the state really has (INFO, so a --reuse'd state's own),
 * the time anchor the recorder itself read (HV_X64_MSR_TIME_REF_COUNT
 * through /dev/cpu/N/msr next to the wall clock), and what it counted in
 * the buffers. No host section: nobody here knows what the hypervisor
 * logged.
 *
 * Live (--relayd, issue 17): each buffer written is also handed to
 * record_live (record_live.h), as the simulated host's recording does.
 * The uapi has no flush, so buffers reach relayd as they fill (or reach
 * the threshold), and the live streams have no beacons until the end
 * (record_live_options.no_flush says why). The streams announced before
 * the first packet are the root's CPUs (root.vps): babeltrace2 attached
 * to a session reads only those.
 *
 * Stopping (the signal race): the driver's read() blocks until a buffer
 * arrives and has no poll. A stop signal's handler (installed without
 * SA_RESTART) sets the flag hvlog_capture_run polls, but a signal that
 * lands just before the read() would be missed, and on a real root the
 * signal may be delivered to another thread. So a POSIX timer aimed at
 * the reading thread (SIGEV_THREAD_ID) ticks every 100 ms: each tick
 * interrupts the read (EINTR), sets the flag once --duration has passed,
 * and lets the loop see a flag a stop signal set. The capture's diaglog
 * thread blocks every signal, so the ticks reach the reader.
 */
#define _GNU_SOURCE /* gettid, SIGEV_THREAD_ID */
#include "cli/record_mshv.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/record_rotate.h"
#include "cli/record_live.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/capture/mshv.h"
#include "hvlog/hvlog.h"
#include "hvlog/trace/clock.h"
#include "hvlog/trace/trace.h"
#include "hvlog/trace/walk.h"

#define TICK_NS 100000000L /* the timer's period: how late a stop can be seen */

/* Shared with the signal handlers: set before they are installed, read
 * (and stop_flag written) by them. */
static volatile sig_atomic_t stop_flag;   /* hvlog_capture_run's stop request */
static volatile sig_atomic_t stop_signal; /* the stop signal that came, 0 = none */
static struct timespec deadline;          /* CLOCK_MONOTONIC; tv_sec 0 = none */

static void on_stop_signal(int sig)
{
    stop_signal = sig;
    stop_flag = 1;
}

static void on_tick(int sig)
{
    struct timespec now;

    (void)sig;
    /* clock_gettime is async-signal-safe (POSIX.1-2008). */
    if (deadline.tv_sec && clock_gettime(CLOCK_MONOTONIC, &now) == 0 &&
        (now.tv_sec > deadline.tv_sec ||
         (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec)))
        stop_flag = 1;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define STOP_SIGNALS (sizeof stop_signals / sizeof stop_signals[0])

struct signals {
    struct sigaction old[STOP_SIGNALS], old_alarm;
    timer_t timer;
    bool timer_made;
};

static void signals_catch(struct signals *s)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: a blocking read ends at once */
    for (size_t i = 0; i < STOP_SIGNALS; i++)
        sigaction(stop_signals[i], &sa, &s->old[i]);
    sa.sa_handler = on_tick;
    sigaction(SIGALRM, &sa, &s->old_alarm);
}

/* The tick, aimed at this thread (the one that will read the trace fd). */
static bool signals_tick(struct signals *s)
{
    struct sigevent sev;
    struct itimerspec its = {{0, TICK_NS}, {0, TICK_NS}};

    memset(&sev, 0, sizeof sev);
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev.sigev_signo = SIGALRM;
    sev._sigev_un._tid = gettid(); /* glibc names no accessor for it */
    if (timer_create(CLOCK_MONOTONIC, &sev, &s->timer) != 0)
        return false;
    s->timer_made = true;
    return timer_settime(s->timer, 0, &its, NULL) == 0;
}

static void signals_restore(struct signals *s)
{
    if (s->timer_made)
        timer_delete(s->timer);
    s->timer_made = false;
    for (size_t i = 0; i < STOP_SIGNALS; i++)
        sigaction(stop_signals[i], &s->old[i], NULL);
    sigaction(SIGALRM, &s->old_alarm, NULL);
}

/* ---- the sink: buffers and records into the trace ---- */

struct mshv_recording {
    struct hvlog_trace_writer *writer;
    struct record_live *live;             /* --relayd, or NULL */
    const struct hvlog_trace_meta *meta; /* the opening metadata */
    bool started;         /* hvlog_trace_writer_start ran: the trace is in place */
    struct hvlog_export_error err;
    bool failed;          /* the writer failed: stop, keep what is on disk */
    uint64_t events_limit;
    uint64_t buffers, bytes, entries, events_lost, corrupt, records;
};

/*
 * The trace appears with the first data (or at a clean end): a refusal
 * that comes only at START (an EINVAL for the sources), or a driver that
 * fails before its first buffer, leaves nothing behind, as every other
 * refusal; from the first buffer on, the recording is crash-safe.
 */
static bool start_trace(struct mshv_recording *rec)
{
    if (rec->started)
        return true;
    if (rec->failed)
        return false;
    if (hvlog_trace_writer_start(rec->writer, rec->meta, &rec->err) != HVLOG_EXPORT_OK) {
        rec->writer = NULL; /* start frees it on failure */
        rec->failed = true;
        return false;
    }
    rec->started = true;
    return true;
}

/* One whole LocalDiagnostics buffer (the capture checked 72 + BufferSize).
 * Written as it is; counted by the walker, which also tells a buffer the
 * decoder will refuse (corrupt: kept, as a recorder keeps what it has). */
static int keep_buffer(void *arg, const uint8_t *bytes, size_t len)
{
    struct mshv_recording *rec = arg;
    const struct hvlog_walk_expect any = HVLOG_WALK_EXPECT_ANY;
    struct hvlog_buffer_summary sum;

    if (!start_trace(rec))
        return 1;
    if (hvlog_trace_writer_append(rec->writer, HvEventLogTypeLocalDiagnostics, bytes, len,
                                  &rec->err) != HVLOG_EXPORT_OK) {
        rec->failed = true;
        return 1;
    }
    rec->buffers++;
    rec->bytes += len;
    if (hvlog_buffer_walk(bytes, len, HVLOG_ABI_CURRENT, &any, &sum, NULL, NULL) == HVLOG_WALK_OK) {
        rec->entries += sum.entries;
        rec->events_lost += sum.events_lost;
        record_live_buffer(rec->live, &sum, bytes, len); /* never blocks on relayd */
    } else {
        rec->corrupt++;
    }
    return rec->events_limit && rec->entries >= rec->events_limit;
}

/* One whole SystemDiagnostics record (diaglog fd), into the records file. */
static int keep_record(void *arg, const uint8_t *bytes, size_t len)
{
    struct mshv_recording *rec = arg;

    if (!start_trace(rec))
        return 1;
    if (hvlog_trace_writer_append_record(rec->writer, HvEventLogTypeSystemDiagnostics, bytes,
                                         len, &rec->err) != HVLOG_EXPORT_OK) {
        rec->failed = true;
        return 1;
    }
    rec->records++;
    return 0;
}

/* ---- the metadata ---- */

/*
 * The LocalDiagnostics group as the root knows it: the state's own
 * configuration (INFO) and the anchor. With the reference counter read
 * next to the wall clock (both at the anchor), the counter's value when
 * the wall clock read Initialize's SystemTime follows: both advance in
 * 100 ns, so ref_at_init = ref - (wall - SystemTime). Without it the group
 * says it has no reference anchor, and SystemTime only dates the start.
 */
static void describe_group(struct hvlog_trace_group *g, const struct hvlog_mshv_trace_config *k,
                           const struct hvlog_capture_anchor *a, uint64_t sources)
{
    memset(g, 0, sizeof(*g));
    g->type = HvEventLogTypeLocalDiagnostics;
    g->convention = HVLOG_ABI_CURRENT; /* the Linux driver speaks the current ABI (§11) */
    g->mode = k->mode;
    g->buffer_count = k->max_buffers_count;
    g->buffer_pages = k->pages_per_buffer;
    g->threshold = k->buffers_threshold;
    g->time_basis = k->time_basis;
    g->system_time = k->system_time;
    g->sources = sources;
    if (a->valid) {
        uint64_t wall = hvlog_unix_to_filetime(a->unix_time_ns / 1000000000ull,
                                               a->unix_time_ns % 1000000000ull);
        uint64_t since = wall > k->system_time ? wall - k->system_time : 0;

        if (k->system_time == 0 || since > a->ref_time_100ns) {
            /* SystemTime unknown or after the counter's start: pair the
             * anchor's own two readings instead. */
            g->system_time = wall;
            since = 0;
        }
        g->reference_time_at_init = a->ref_time_100ns - since;
        /* §11.5: a partition's QPC is its reference time, 10 MHz. */
        g->qpc_at_init = g->reference_time_at_init;
        g->qpc_at_init_known = true;
    } else {
        g->no_reference_anchor = true;
    }
}

/* The driver's START mask: "all" is every group bit of its mask. */
static bool driver_sources(uint64_t asked, uint64_t *mask)
{
    if (asked == UINT64_MAX) {
        *mask = HVLOG_MSHV_TR_ALL_GROUPS;
        return true;
    }
    *mask = asked;
    if (!(asked & HVLOG_MSHV_TR_ALL_GROUPS) || (asked & ~HVLOG_MSHV_TR_ALL_GROUPS)) {
        cli_error("record: --sources 0x%" PRIx64 ": the mshv_diag driver takes group bits of "
                  "0x%llx only (bit 0, the extended flag, and the rest are refused)",
                  asked, (unsigned long long)HVLOG_MSHV_TR_ALL_GROUPS);
        return false;
    }
    return true;
}

static uint64_t filetime_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return hvlog_unix_to_filetime((uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec);
}

int cli_record_mshv(const struct record_mshv_args *args)
{
    struct hvlog_capture_config cfg = hvlog_capture_config_default();
    struct hvlog_capture *cap = NULL;
    struct hvlog_capture_sink sink = {keep_buffer, NULL};
    struct hvlog_mshv_trace_config eff;
    struct hvlog_capture_anchor anchor;
    struct mshv_recording rec = {0};
    struct hvlog_trace_meta meta;
    struct signals sig = {0};
    enum hvlog_capture_status cs;
    char capture_error[400] = "";
    int status = CLI_EXIT_FAILURE;

    memset(&meta, 0, sizeof meta);
    if (args->live && !args->out) {
        cli_error("record: --from %s needs -o DIR, with --relayd too (the trace is the recording; "
                  "relayd gets a copy)", args->device ? args->device : HVLOG_MSHV_DIAG_PATH);
        return CLI_EXIT_USAGE;
    }
    if (!args->device) {
        cli_error("record: --diaglog, --reuse and --reset need --from DEVICE (e.g. %s)",
                  HVLOG_MSHV_DIAG_PATH);
        return CLI_EXIT_USAGE;
    }
    if (args->existing < 0) {
        cli_error("record: --reuse and --reset exclude each other");
        return CLI_EXIT_USAGE;
    }
    cfg.device = args->device;
    cfg.diaglog = args->diaglog;
    if (args->buffers)
        cfg.buffer_count = (uint32_t)args->buffers;
    cfg.buffer_pages = (uint32_t)args->pages;
    cfg.threshold = (uint32_t)(args->threshold > cfg.buffer_count ? cfg.buffer_count
                                                                  : args->threshold);
    cfg.time_basis = args->basis;
    cfg.mode = args->mode;
    cfg.existing = (enum hvlog_capture_existing)args->existing;
    if (!driver_sources(args->sources, &cfg.sources))
        return CLI_EXIT_USAGE;
    if (args->buffers && args->threshold > args->buffers) {
        cli_error("record: --threshold %" PRIu64 " exceeds --buffers %" PRIu64, args->threshold,
                  args->buffers);
        return CLI_EXIT_USAGE;
    }
    rec.events_limit = args->events;
    if (args->diaglog)
        sink.record = keep_record;

    /* The trace directory first (a refusal to overwrite costs no ioctl),
     * then the device: a refusal there leaves nothing behind. */
    if (hvlog_trace_writer_create(args->out, (args->force ? HVLOG_TRACE_FORCE : 0) | args->writer_flags,
                                  &rec.writer, &rec.err) != HVLOG_EXPORT_OK ||
        hvlog_trace_writer_access(rec.writer, args->file_mode, args->owner_uid, args->owner_gid,
                                  &rec.err) != HVLOG_EXPORT_OK ||
        (args->rotate && !record_rotate_apply(args->rotate, rec.writer, &rec.err))) {
        cli_error("record: %s", rec.err.message);
        hvlog_trace_writer_abort(rec.writer);
        return CLI_EXIT_FAILURE;
    }
    stop_flag = 0;
    stop_signal = 0;
    deadline.tv_sec = 0;
    signals_catch(&sig);

    cfg.system_time = filetime_now();
    if (hvlog_capture_open(&cfg, &cap) != HVLOG_CAPTURE_OK)
        goto out; /* close below prints its one line */
    hvlog_capture_config_in_effect(cap, &eff);
    hvlog_capture_anchor(cap, &anchor);

    meta.version = HVLOG_TRACE_FORMAT_VERSION;
    snprintf(meta.hvlog_version, sizeof meta.hvlog_version, "%s", hvlog_version());
    snprintf(meta.abi_profile, sizeof meta.abi_profile, "current");
    meta.command_line = cli_command_line(args->argc, args->argv);
    meta.qpc_frequency_hz = 10000000u; /* §11.5 */
    /* The root's VPs are the CPUs Linux sees. */
    {
        long cpus = sysconf(_SC_NPROCESSORS_CONF);

        meta.root.vps = cpus > 0 && cpus <= (long)UINT32_MAX ? (uint32_t)cpus : 0;
    }
    meta.group_count = 1;
    describe_group(&meta.groups[0], &eff, &anchor,
                   cfg.sources); /* START sends ours, a reused state too */
    if (args->diaglog) {
        meta.records_count = 1;
        meta.records[0] = (struct hvlog_trace_records){
            .type = HvEventLogTypeSystemDiagnostics,
            .time_unit = HVLOG_TRACE_RECORD_TIME_UNIX_SECONDS,
        };
    }
    rec.meta = &meta;
    if (!anchor.valid && !args->quiet)
        fprintf(stderr, "hvlog: record: %s; the trace says so, and wall-clock time comes from "
                        "SystemTime alone\n", anchor.reason);
    if (args->duration_ms) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += (time_t)(args->duration_ms / 1000u);
        deadline.tv_nsec += (long)(args->duration_ms % 1000u) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    if (args->live) {
        struct record_live_options o = *args->live;

        o.output = args->out;
        o.quiet = args->quiet;
        o.no_flush = true; /* the uapi has none */
        if (args->live->hostname)
            snprintf(meta.root.hostname, sizeof meta.root.hostname, "%s", args->live->hostname);
        /* Before START: a refusal here leaves nothing, and the test hook
         * holds before anything is logged. */
        if (!(rec.live = record_live_start(&o, &meta, eff.time_basis, NULL, NULL)))
            goto out;
    }
    if (!signals_tick(&sig)) {
        cli_error("record: cannot arm the stop timer: %s", strerror(errno));
        goto out;
    }
    /* Its error is the capture's first: close returns it below. A clean
     * run that delivered nothing still leaves its (empty) trace. */
    if (hvlog_capture_run(cap, &sink, &rec, &stop_flag) == HVLOG_CAPTURE_OK)
        (void)start_trace(&rec);

out:
    signals_restore(&sig); /* caught before the first goto here */
    /* DETACH, DESTROY, close; the capture's first error, open's or the
     * run's (a short read, EIO, an early end of file...), comes back here. */
    cs = hvlog_capture_close(cap, capture_error, sizeof capture_error);
    if (rec.failed) { /* the writer's error is the cause; the capture's follows from it */
        cli_error("record: %s", rec.err.message);
        goto done;
    }
    if (!rec.started) {
        if (cs != HVLOG_CAPTURE_OK)
            cli_error("record: %s", capture_error);
        goto done;
    }
    meta.closed = true;
    meta.stats.buffers = rec.buffers;
    meta.stats.entries = rec.entries;
    meta.stats.events_lost = rec.events_lost;
    meta.stats.corrupt = rec.corrupt;
    if (meta.records_count)
        meta.records[0].records_written = rec.records;
    /* --relayd: what it sent and lost, per stream, into the closing metadata. */
    record_live_drain(rec.live, &meta);
    if (hvlog_trace_writer_commit(rec.writer, &meta, &rec.err) != HVLOG_EXPORT_OK) {
        rec.writer = NULL; /* commit frees it in every case */
        cli_error("record: %s", rec.err.message);
        goto done;
    }
    rec.writer = NULL;
    record_live_finish(rec.live); /* viewers read the last packets, then the streams close */
    if (cs != HVLOG_CAPTURE_OK) {
        /* The trace is whole up to the failure and says how far it got. */
        cli_error("record: %s (the trace keeps the %" PRIu64 " buffers read before it)",
                  capture_error, rec.buffers);
        goto done;
    }
    if (stop_signal && !args->quiet)
        fprintf(stderr, "hvlog: record: stopped by signal %d; the trace is complete\n",
                (int)stop_signal);
    if (!args->quiet) {
        printf("hvlog: recorded %" PRIu64 " events (%.1f MB of buffers) in %" PRIu64
               " buffers from %s to %s; %" PRIu64 " lost in headers",
               rec.entries, (double)rec.bytes / 1e6, rec.buffers, args->device, args->out,
               rec.events_lost);
        if (args->diaglog)
            printf("; %" PRIu64 " SystemDiagnostics records", rec.records);
        record_live_summary(rec.live, stdout);
        printf("\n");
    }
    status = CLI_EXIT_OK;
done:
    /* A started recording keeps its whole buffers (abort leaves them, with
     * no closing statistics: `info` says "died"); before start, nothing. */
    hvlog_trace_writer_abort(rec.writer);
    record_live_destroy(rec.live);
    free(meta.command_line);
    return status;
}
