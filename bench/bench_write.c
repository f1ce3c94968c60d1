/* SPDX-License-Identifier: MIT */
/*
 * The write path, measured: one process per measurement, driven by
 * bench/run. Usage: bench_write MODE THREADS EVENTS
 *
 *   local      hvlog_log() on LocalDiagnostics, each thread its own LP
 *   disabled   hvlog_log() on a type whose sources are off
 *   global     hvlog_log() on GlobalSystemEvents (one shared scope)
 *   mutex      a pthread-mutex append of the same 32-byte record to one
 *              shared buffer (the naive global baseline)
 *   bump       a bump-pointer write of the same record, same timestamp
 *              source, no checks (the floor)
 *   flush-idle hvlog_engine_hypercall() of a Flush that completes nothing
 *
 * Built as bench_lttng (HVLOG_BENCH_LTTNG, lttng_tp.h), it also has the
 * LTTng-UST peer, which bench/run times inside its own session:
 *
 *   lttng          lttng_ust_tracepoint(hvlog_bench, entry) with the same
 *                  16-byte payload, enabled in a discard-mode channel
 *   lttng-disabled lttng_ust_tracepoint(hvlog_bench, disabled): the same
 *                  provider, an event no session enables
 *
 * and bench/record-speed's producer (issue 17), which paces itself as the
 * simulated host's LP threads do under `hvlog record --rate`:
 *
 *   bench_lttng lttng-paced THREADS MS RATE
 *
 *   THREADS threads (not pinned, as the sim's workers are not) each call
 *   lttng_ust_tracepoint(hvlog_bench, record) (24 bytes of payload) for MS
 *   milliseconds, RATE events per second each (0: flat out). Each runs the
 *   events due by now in turns of at most 256, catches up at most 10 ms of
 *   debt, and sleeps until the next is due (src/sim/lp.c, turn_events).
 *   Prints: lttng-paced THREADS OFFERED wall_ns_per_event cpu_ns_per_event
 *   tracepoint_enabled=0|1, OFFERED being the events of all threads.
 *
 * Every event is a 32-byte entry: 16-byte header + 16 bytes of payload.
 * The clock is the TSC read by a host callback (rdtsc): what a hypervisor
 * would use, and cheap enough not to hide the path's own cost.
 * Threads are pinned to CPUs 0..THREADS-1 and released by a barrier.
 * Prints one line: MODE THREADS EVENTS wall_ns_per_event cpu_ns_per_event,
 * and for the LTTng modes a sixth field, tracepoint_enabled=0|1, read after
 * the loop: bench/run checks that the traced row really traced.
 */

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "hvlog/engine/engine.h"
#include "hvlog/engine/log.h"
#include "hvlog/hvlog.h"

#ifdef HVLOG_BENCH_LTTNG
#include "lttng_tp.h"
#endif

#define MAX_THREADS 8
#define BUFFER_PAGES 512u /* 2 MiB buffers: the largest, fewest switches */
#define ROOT_ID 1ull

static struct hvlog_engine *engine;
static struct hvlog_logger *logger;
static pthread_barrier_t start_barrier;
static const char *mode;
static unsigned long events;
static double cpu_ns[MAX_THREADS];
static double wall_begin[MAX_THREADS], wall_end[MAX_THREADS];
#ifdef HVLOG_BENCH_LTTNG
static unsigned long pace_ms, pace_rate;   /* lttng-paced: MS and RATE per thread */
static unsigned long offered[MAX_THREADS]; /* lttng-paced: events each thread logged */
#endif

/* ---- host: rdtsc clock, malloc pages, messages recorded and dropped ---- */

static uint64_t tsc_clock(void *ctx)
{
    (void)ctx;
    return __rdtsc();
}

static int pages_alloc(void *ctx, uint32_t domain, bool strict, uint32_t count,
                       struct hvlog_pages *out)
{
    (void)ctx, (void)strict;
    out->hva = aligned_alloc(4096, (size_t)count * 4096);
    if (!out->hva)
        return -1;
    memset(out->hva, 0, (size_t)count * 4096); /* fault the pages in before timing */
    out->count = count;
    out->domain = domain;
    out->handle = 0;
    return 0;
}

static void pages_free(void *ctx, const struct hvlog_pages *p)
{
    (void)ctx;
    free(p->hva);
}

static enum hvlog_post_result post(void *ctx, uint32_t vp, const struct hv_message *m, uint64_t token)
{
    (void)ctx, (void)vp, (void)m, (void)token;
    return HVLOG_POST_DELIVERED;
}

static uint8_t root_mem[8192];
static enum hvlog_gpa_result probe(void *c, uint64_t p, uint64_t gpa, uint32_t len, bool w)
{
    (void)c, (void)p, (void)w;
    return gpa + len <= sizeof root_mem ? HVLOG_GPA_OK : HVLOG_GPA_OUT_OF_RANGE;
}
static enum hvlog_gpa_result gread(void *c, uint64_t p, uint64_t gpa, void *dst, uint32_t len)
{
    (void)c, (void)p;
    memcpy(dst, root_mem + gpa, len);
    return HVLOG_GPA_OK;
}
static enum hvlog_gpa_result gwrite(void *c, uint64_t p, uint64_t gpa, const void *src, uint32_t len)
{
    (void)c, (void)p;
    memcpy(root_mem + gpa, src, len);
    return HVLOG_GPA_OK;
}

static void *mem_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    return malloc(bytes);
}

static void mem_free(void *ctx, void *memory)
{
    (void)ctx;
    free(memory);
}

static void relax(void *ctx)
{
    (void)ctx;
    sched_yield();
}

static const struct hvlog_host_ops ops = {
    .size = sizeof(struct hvlog_host_ops), .mem_alloc = mem_alloc, .mem_free = mem_free,
    .relax = relax, .ref_time_100ns = tsc_clock, .tsc = tsc_clock,
    .pages_alloc = pages_alloc, .pages_free = pages_free, .post_message = post,
    .gpa_probe = probe, .gpa_read = gread, .gpa_write = gwrite,
};

static uint16_t call(uint16_t code, uint64_t rdx, uint64_t r8, bool fast)
{
    struct hvlog_caller caller = {.partition_id = ROOT_ID};
    struct hvlog_hypercall c = {.rcx = code | (fast ? HV_HYPERCALL_FAST_BIT : 0), .rdx = rdx, .r8 = r8};
    hvlog_engine_hypercall(engine, &caller, &c);
    return hv_hypercall_result_status(c.rax);
}

/* A group with enough 2 MiB buffers that EVENTS never run out of room. */
static void setup_group(uint32_t type, uint32_t threads, uint64_t mask)
{
    uint64_t bytes = (uint64_t)events * threads * 32 + (uint64_t)threads * 2 * 4096 * BUFFER_PAGES;
    uint32_t count = (uint32_t)(bytes / (4096ull * BUFFER_PAGES) + 1 + threads);
    uint8_t *in = root_mem;

    if (count > 512)
        count = 512;
    memset(in, 0, 32);
    hvlog_store_le32(in, type);
    hvlog_store_le32(in + 4, count);
    hvlog_store_le32(in + 8, BUFFER_PAGES);
    hvlog_store_le32(in + 12, count); /* threshold: no notification while timing */
    hvlog_store_le32(in + 16, HvEventLogEntryTimeTsc);
    if (call(HvCallHvInitializeEventLogBufferGroup, 0, 4096, false)) {
        fprintf(stderr, "bench: initialize failed\n");
        exit(1);
    }
    for (uint32_t i = 0; i < count; i++) {
        hvlog_store_le32(in, type);
        hvlog_store_le32(in + 4, i);
        if (call(HvCallHvCreateEventLogBuffer, ((uint64_t)i << 32) | type, 0, true) ||
            call(HvCallHvMapEventLogBuffer, 0, 4096, false)) {
            fprintf(stderr, "bench: create/map failed\n");
            exit(1);
        }
    }
    call(HvCallHvSetEventLogGroupSources, type, mask, true);
}

/* ---- the baselines ---- */

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *shared_buf;
static size_t shared_off;

static __attribute__((noinline)) void mutex_append(uint32_t seq, const void *payload)
{
    pthread_mutex_lock(&mutex);
    uint8_t *p = shared_buf + shared_off;
    hvlog_entry_write(p, 32, 0x1A, seq, __rdtsc(), payload, 16);
    shared_off += 32;
    pthread_mutex_unlock(&mutex);
}

static uint8_t *bump_buf[MAX_THREADS];

static __attribute__((noinline)) void bump_append(uint32_t t, size_t *off, uint32_t seq, const void *payload)
{
    hvlog_entry_write(bump_buf[t] + *off, 32, 0x1A, seq, __rdtsc(), payload, 16);
    *off += 32;
}

/* ---- threads ---- */

static double now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

#ifdef HVLOG_BENCH_LTTNG
#define PACE_TURN_MAX 256u         /* as the sim's SIM_TURN_MAX */
#define PACE_FLAT_TURN 16u         /* flat out: events between two clock reads */
#define PACE_DEBT_NS 10000000.0    /* as the sim's PACE_DEBT_NS: 10 ms */
#define PACE_NAP_MAX_NS 10000000.0 /* a napping thread re-checks the end every 10 ms */

/* lttng-paced: thread @t logs for pace_ms at pace_rate, as an LP of the
 * simulated host does (src/sim/lp.c: the events due, a bounded debt, a nap
 * until the next is due). */
static unsigned long paced_loop(uint32_t t)
{
    const double period = pace_rate ? 1e9 / (double)pace_rate : 0;
    const double end = now_ns(CLOCK_MONOTONIC) + (double)pace_ms * 1e6;
    double due = now_ns(CLOCK_MONOTONIC);
    unsigned long n_total = 0;

    for (;;) {
        double now = now_ns(CLOCK_MONOTONIC);
        unsigned long n = PACE_FLAT_TURN;

        if (now >= end)
            break;
        if (period > 0) {
            if (due + PACE_DEBT_NS < now)
                due = now - PACE_DEBT_NS; /* the debt beyond is not offered */
            n = due <= now ? (unsigned long)((now - due) / period) + 1 : 0;
            if (n > PACE_TURN_MAX)
                n = PACE_TURN_MAX;
            due += (double)n * period;
            if (n == 0) {
                double nap = due - now < PACE_NAP_MAX_NS ? due - now : PACE_NAP_MAX_NS;
                struct timespec ts = {0, (long)nap};

                nanosleep(&ts, NULL);
                continue;
            }
        }
        for (unsigned long k = 0; k < n; k++)
            lttng_ust_tracepoint(hvlog_bench, record, n_total + k, t, 0x1122334455667788ull);
        n_total += n;
    }
    return n_total;
}
#endif

static void *worker(void *arg)
{
    uint32_t t = (uint32_t)(uintptr_t)arg;
    uint64_t payload[2] = {0x1122334455667788ull, t};
    cpu_set_t set;
    size_t off = 0;
    double c0;

    CPU_ZERO(&set);
    CPU_SET(t % (unsigned)sysconf(_SC_NPROCESSORS_ONLN), &set);
    if (strcmp(mode, "lttng-paced") != 0)
        pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    pthread_barrier_wait(&start_barrier);
    wall_begin[t] = now_ns(CLOCK_MONOTONIC);
    c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
    struct hvlog_logger *lg = logger;

    if (strcmp(mode, "local") == 0) {
        for (unsigned long i = 0; i < events; i++)
            hvlog_log(lg, t, HvEventLogTypeLocalDiagnostics, 1, 0x1A, (uint32_t)i, payload, 16);
    } else if (strcmp(mode, "disabled") == 0) {
        for (unsigned long i = 0; i < events; i++)
            hvlog_log(lg, t, HvEventLogTypeGlobalSystemEvents, 1, 0x1A, (uint32_t)i, payload, 16);
    } else if (strcmp(mode, "global") == 0) {
        for (unsigned long i = 0; i < events; i++)
            hvlog_log(lg, t, HvEventLogTypeGlobalSystemEvents, 1, 0x4101, (uint32_t)i, payload, 16);
    } else if (strcmp(mode, "mutex") == 0) {
        for (unsigned long i = 0; i < events; i++)
            mutex_append((uint32_t)i, payload);
    } else if (strcmp(mode, "bump") == 0) {
        for (unsigned long i = 0; i < events; i++)
            bump_append(t, &off, (uint32_t)i, payload);
    } else if (strcmp(mode, "flush-idle") == 0) {
        /* Buffer 0 is Free: the call validates, finds nothing, succeeds. */
        for (unsigned long i = 0; i < events; i++)
            call(HvCallHvFlushEventLogBuffer, HvEventLogTypeLocalDiagnostics, 0, true);
#ifdef HVLOG_BENCH_LTTNG
    } else if (strcmp(mode, "lttng") == 0) {
        for (unsigned long i = 0; i < events; i++)
            lttng_ust_tracepoint(hvlog_bench, entry, payload[0], payload[1]);
    } else if (strcmp(mode, "lttng-disabled") == 0) {
        for (unsigned long i = 0; i < events; i++)
            lttng_ust_tracepoint(hvlog_bench, disabled, payload[0], payload[1]);
    } else if (strcmp(mode, "lttng-paced") == 0) {
        offered[t] = paced_loop(t);
#endif
    }
    cpu_ns[t] = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
    wall_end[t] = now_ns(CLOCK_MONOTONIC);
    return NULL;
}

int main(int argc, char **argv)
{
    struct hvlog_engine_config cfg;
    pthread_t threads[MAX_THREADS];
    uint32_t nthreads;
    double w0, wall, cpu = 0;


#ifdef HVLOG_BENCH_LTTNG
    if (argc == 5 && strcmp(argv[1], "lttng-paced") == 0) {
        pace_ms = strtoul(argv[3], NULL, 0);
        pace_rate = strtoul(argv[4], NULL, 0);
        argc = 4; /* THREADS, then MS where EVENTS stands */
    }
#endif
    if (argc != 4) {
        fprintf(stderr, "usage: bench_write MODE THREADS EVENTS\n");
        return 2;
    }
    mode = argv[1];
    nthreads = (uint32_t)strtoul(argv[2], NULL, 0);
    events = strtoul(argv[3], NULL, 0);
    if (nthreads < 1 || nthreads > MAX_THREADS) {
        fprintf(stderr, "bench_write: THREADS must be 1..%d\n", MAX_THREADS);
        return 2;
    }
    cfg = (struct hvlog_engine_config){.size = sizeof(cfg), .lp_count = MAX_THREADS, .root_vp_count = MAX_THREADS,
                                       .root_partition_id = ROOT_ID,
                                       .profile = hvlog_profile_default(), .ops = &ops};
    if (hvlog_engine_create(&cfg, &engine) != 0)
        return 1;
    logger = hvlog_engine_logger(engine);
    if (strcmp(mode, "local") == 0 || strcmp(mode, "flush-idle") == 0)
        setup_group(HvEventLogTypeLocalDiagnostics, nthreads, strcmp(mode, "local") == 0 ? ~0ull : 0);
    else if (strcmp(mode, "global") == 0)
        setup_group(HvEventLogTypeGlobalSystemEvents, nthreads, ~0ull);
    else if (strcmp(mode, "mutex") == 0)
    {
        /* malloc + memset, not calloc: the compiler drops a memset of
         * calloc'd memory, and the pages must be faulted in before timing. */
        shared_buf = aligned_alloc(4096, ((events * nthreads + 1) * 32 + 4095) / 4096 * 4096);
        memset(shared_buf, 0, (events * nthreads + 1) * 32);
    }
    else if (strcmp(mode, "bump") == 0)
        for (uint32_t t = 0; t < nthreads; t++) {
            bump_buf[t] = aligned_alloc(4096, ((events + 1) * 32 + 4095) / 4096 * 4096);
            memset(bump_buf[t], 0, (events + 1) * 32);
        }
#ifdef HVLOG_BENCH_LTTNG
    else if (strcmp(mode, "lttng") == 0 || strcmp(mode, "lttng-disabled") == 0 ||
             (strcmp(mode, "lttng-paced") == 0 && pace_ms > 0))
        ; /* the session (bench/run, bench/record-speed) is the set-up */
#endif
    else if (strcmp(mode, "disabled") != 0) {
        fprintf(stderr, "bench_write: unknown mode '%s'\n", mode);
        return 2;
    }

    pthread_barrier_init(&start_barrier, NULL, nthreads + 1);
    for (uint32_t t = 0; t < nthreads; t++)
        pthread_create(&threads[t], NULL, worker, (void *)(uintptr_t)t);
    pthread_barrier_wait(&start_barrier);
    for (uint32_t t = 0; t < nthreads; t++) {
        pthread_join(threads[t], NULL);
        cpu += cpu_ns[t];
    }
    /* Wall time from the first thread's start to the last one's end. */
    w0 = wall_begin[0];
    wall = wall_end[0];
    for (uint32_t t = 1; t < nthreads; t++) {
        w0 = wall_begin[t] < w0 ? wall_begin[t] : w0;
        wall = wall_end[t] > wall ? wall_end[t] : wall;
    }
    wall -= w0;
#ifdef HVLOG_BENCH_LTTNG
    if (strcmp(mode, "lttng-paced") == 0) { /* EVENTS: what all threads offered */
        events = 0;
        for (uint32_t t = 0; t < nthreads; t++)
            events += offered[t];
        printf("%s %u %lu %.3f %.3f tracepoint_enabled=%d\n", mode, nthreads, events,
               events ? wall / (double)events : 0.0, events ? cpu / (double)events : 0.0,
               !!lttng_ust_tracepoint_enabled(hvlog_bench, record));
        hvlog_engine_destroy(engine);
        return 0;
    }
#endif
    /* Per event of one thread: wall time over the events each thread logged;
     * CPU time averaged over threads. */
    printf("%s %u %lu %.3f %.3f", mode, nthreads, events, wall / (double)events,
           cpu / nthreads / (double)events);
#ifdef HVLOG_BENCH_LTTNG
    if (strncmp(mode, "lttng", 5) == 0)
        printf(" tracepoint_enabled=%d", strcmp(mode, "lttng") == 0
                                             ? !!lttng_ust_tracepoint_enabled(hvlog_bench, entry)
                                             : !!lttng_ust_tracepoint_enabled(hvlog_bench, disabled));
#endif
    printf("\n");
    hvlog_engine_destroy(engine);
    return 0;
}
