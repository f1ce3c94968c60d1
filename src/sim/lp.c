/* SPDX-License-Identifier: MIT */
/*
 * Logical processors: worker threads that run the LPs' child workloads,
 * the run_on_lp mailbox, and lock-step stepping (spec Q-CONC, §7.3;
 * issue #5 part 1, issue 16 item 1).
 *
 * == Workers (issue 16) ==
 *
 * The LPs are multiplexed over N worker threads (hvlog_sim_config.threads;
 * 0 = one per online CPU, never more than the LPs). Worker w owns LPs
 * w, w + N, w + 2N, ... for the whole run, and runs their workloads in
 * turn: each pass gives every live LP one turn of at most SIM_TURN_EVENTS
 * events. An LP thread each, as before, made the cost of an event grow with
 * the LP count (a 64-LP run spent most of two cores in nanosleep and
 * thread switches and starved the root that drains).
 *
 * Timing is virtual per LP: a paced LP has the CLOCK_MONOTONIC time of its
 * next event (due_ns, one period after the last). A worker reads its clock
 * once per pass and runs, for each LP, the events due by then; it sleeps
 * only when none of its LPs has an event due, until the earliest one. An LP
 * that fell behind (the worker was descheduled) catches up at most
 * PACE_DEBT_NS of events: past that, the offered load is what the machine
 * can run, not a burst.
 *
 * The root's share: the root is the thread that drains. When an event of a
 * pass is lost (no buffer: the root is behind), the worker yields once
 * after the pass, so on a machine with fewer cores than workers + root the
 * root runs before the workers fill what is left.
 *
 * == The single-owner rule (Q-CONC, src/engine/log.c head comment) ==
 *
 * The engine calls run_on_lp(n, fn, arg) to run fn "as LP n": at a moment
 * when LP n is not inside hvlog_log(), with happens-before both ways. LP n
 * has one owner at a time: the worker that owns it while it is online (in
 * its workload), else whoever holds its mailbox lock. run_on_lp(n) goes to
 * the worker that owns LP n, which runs fn between two of its events (of
 * any of its LPs: a worker is inside hvlog_log() for at most one LP at a
 * time, so between two events none of its LPs is). So the engine's rule is
 * kept as it was with a thread per LP: a local scope is written by one
 * thread at a time, its owner, and the hot path takes no lock.
 *
 *   LP online (its worker runs it)       LP offline (stopped, lock-step)
 *   -------------------------------      -----------------------------------
 *   caller: lock; wait for the slot;     caller: lock; fn(arg); unlock.
 *     req = &r; LP pending = 1 (release);  Lock-step logging (hvlog_sim_step,
 *     worker pending = 1 (release);      hvlog_sim_log) holds the same lock
 *     wake the worker if it naps;        around each hvlog_log(), so the
 *     wait until r.done; unlock          lock is the exclusion.
 *   worker, between two events: its
 *     pending? (exchange, acquire) ->
 *     each owned LP pending? (acquire)
 *     -> lock; fn(arg); done;
 *     LP pending = 0; broadcast
 *   LP leaving its workload: lock;
 *     online = false; serve a waiting
 *     request; unlock
 *
 * The poster stores the LP's flag before the worker's, so a worker that
 * sees its flag (and clears it) sees every LP flag set before; a flag set
 * after the scan passed that LP comes with another worker flag, seen at
 * the next check. The worker's hot loop takes no lock: one load of its own
 * flag per event. The mutexes give the happens-before edges. Several
 * callers may queue for one LP (several root VPs flushing): each waits for
 * the slot, then for its own request.
 *
 * Lock order (sim_internal.h): the mailbox lock is the outermost; the
 * function run under it, and hvlog_log() in lock-step mode, take engine
 * locks, under which the sim's leaf locks are taken. A worker's nap lock is
 * a leaf: taken by a poster under the mailbox lock, never with an engine
 * lock.
 *
 * == Lock-step and determinism ==
 *
 * Lock-step mode has no workers: hvlog_sim_step() runs an LP in the caller.
 * A worker run is deterministic too when the root does nothing while it
 * runs, there is one worker, the clock is injected and the LPs are not
 * paced: the worker's order is fixed (pass after pass, LPs in index order,
 * SIM_TURN_EVENTS each), so it writes the bytes lock-step stepping in that
 * order writes (tests/sim/test_sim_lp.c).
 *
 * == Counters ==
 *
 * hvlog_sim_lp_counts fields have one writer, the LP's owner (its worker,
 * or the holder of its mailbox lock), which stores them with relaxed
 * atomics; readers load them relaxed. A reader wants a recent value, not
 * an order; after hvlog_sim_stop() (thread join) the values are exact.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sim/sim_internal.h"

#define NS_PER_S 1000000000ull
#define SIM_TURN_EVENTS 16u       /* events of one LP per turn, flat out */
#define SIM_TURN_MAX 256u         /* paced: at most this many due events per turn */
#define PACE_DEBT_NS 10000000ull  /* a paced LP catches up at most 10 ms of events */
#define NAP_MAX_NS 10000000ull    /* a napping worker re-checks stop at least every 10 ms */

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void counter_add(uint64_t *c)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static void count_result(struct sim_lp *lp, uint32_t type, enum hvlog_log_result r)
{
    struct hvlog_sim_lp_counts *c = &lp->counts;

    if (r == HVLOG_LOG_DROPPED) {
        counter_add(&c->dropped[type]);
        return;
    }
    counter_add(&c->logged[type]);
    counter_add(r == HVLOG_LOG_RECORDED ? &c->recorded[type] : &c->lost[type]);
}

/* One workload event on LP @lp, its payload built in @payload
 * (SIM_PAYLOAD_BYTES). Owner context. */
static enum hvlog_log_result lp_event(struct sim_lp *lp, const struct sim_plan *plan,
                                      uint8_t *payload)
{
    struct hvlog_sim *sim = lp->sim;
    struct sim_event ev;
    uint32_t context;
    enum hvlog_log_result r;

    hvlog__sim_event_make(plan, &lp->rng, lp->index, sim->config.children, lp->counts.logged, &ev,
                          &context, payload);
    r = hvlog_log(sim->logger, lp->index, ev.type, ev.sources, ev.entry_type, context, payload,
                  ev.payload_len);
    count_result(lp, ev.type, r);
    lp->events++;
    return r;
}

/* ---- the mailbox ---- */

static void mailbox_serve(struct sim_lp *lp)
{
    pthread_mutex_lock(&lp->lock);
    if (lp->req) {
        lp->req->fn(lp->req->arg);
        lp->req->done = true;
        lp->req = NULL;
        __atomic_store_n(&lp->pending, 0, __ATOMIC_RELAXED);
        pthread_cond_broadcast(&lp->cv);
    }
    pthread_mutex_unlock(&lp->lock);
}

static struct sim_worker *worker_of(struct hvlog_sim *sim, uint32_t lp_index)
{
    return &sim->workers[lp_index % sim->worker_count];
}

void hvlog__sim_run_on_lp(void *ctx, uint32_t lp_index, void (*fn)(void *arg), void *arg)
{
    struct hvlog_sim *sim = sim_of(ctx);
    struct sim_lp *lp = &sim->lps[lp_index];
    struct sim_request req = {.fn = fn, .arg = arg, .done = false};

    pthread_mutex_lock(&lp->lock);
    for (;;) {
        if (!lp->online) {
            fn(arg); /* the LP is not logging: the mutex is the exclusion */
            break;
        }
        if (!lp->req) {
            /* Online: the workers exist (set before any LP went online,
             * under this lock) and outlive it (joined after it left). */
            struct sim_worker *w = worker_of(sim, lp_index);

            lp->req = &req;
            __atomic_store_n(&lp->pending, 1, __ATOMIC_RELEASE);
            __atomic_store_n(&w->pending, 1, __ATOMIC_RELEASE);
            pthread_mutex_lock(&w->lock); /* a napping worker wakes now */
            pthread_cond_signal(&w->cv);
            pthread_mutex_unlock(&w->lock);
            while (!req.done)
                pthread_cond_wait(&lp->cv, &lp->lock);
            break;
        }
        pthread_cond_wait(&lp->cv, &lp->lock); /* another caller's request is in */
    }
    pthread_mutex_unlock(&lp->lock);
}

/* ---- workers ---- */

/* Between two events: serve the requests posted to the worker's LPs. */
static inline void worker_serve(struct sim_worker *w)
{
    struct hvlog_sim *sim = w->sim;

    if (!__atomic_load_n(&w->pending, __ATOMIC_RELAXED) ||
        !__atomic_exchange_n(&w->pending, 0, __ATOMIC_ACQUIRE))
        return;
    for (uint32_t i = w->index; i < sim->config.lps; i += sim->worker_count) {
        if (__atomic_load_n(&sim->lps[i].pending, __ATOMIC_ACQUIRE))
            mailbox_serve(&sim->lps[i]);
    }
}

/* An LP leaves its workload: from now on run_on_lp runs its function
 * directly. Its worker's context. */
static void lp_offline(struct sim_lp *lp)
{
    pthread_mutex_lock(&lp->lock);
    if (!lp->online) {
        pthread_mutex_unlock(&lp->lock);
        return;
    }
    lp->online = false;
    pthread_mutex_unlock(&lp->lock);
    mailbox_serve(lp);
    pthread_mutex_lock(&lp->lock);
    pthread_cond_broadcast(&lp->cv); /* callers waiting for the slot re-check online */
    pthread_mutex_unlock(&lp->lock);
    __atomic_sub_fetch(&lp->sim->lps_running, 1, __ATOMIC_RELEASE);
}

static bool stopping(const struct hvlog_sim *sim)
{
    return __atomic_load_n(&sim->stop, __ATOMIC_RELAXED) != 0;
}

/* Paced, nothing due: sleep until @until_ns (at most NAP_MAX_NS), woken
 * early by a request or by stop. */
static void worker_nap(struct sim_worker *w, uint64_t until_ns)
{
    uint64_t now = mono_ns();
    struct timespec ts;

    if (until_ns <= now)
        return;
    if (until_ns - now > NAP_MAX_NS)
        until_ns = now + NAP_MAX_NS;
    ts.tv_sec = (time_t)(until_ns / NS_PER_S);
    ts.tv_nsec = (long)(until_ns % NS_PER_S);
    pthread_mutex_lock(&w->lock);
    if (!__atomic_load_n(&w->pending, __ATOMIC_RELAXED) && !stopping(w->sim))
        pthread_cond_timedwait(&w->cv, &w->lock, &ts); /* wakes early: fine, the loop re-checks */
    pthread_mutex_unlock(&w->lock);
}

/* How many events LP @lp runs this turn; paced: the ones due by @now_ns. */
static uint32_t turn_events(struct sim_lp *lp, const struct sim_plan *plan, uint64_t period_ns,
                            uint64_t now_ns)
{
    uint64_t n = SIM_TURN_EVENTS;

    if (period_ns) {
        if (lp->due_ns + PACE_DEBT_NS < now_ns)
            lp->due_ns = now_ns - PACE_DEBT_NS; /* the debt beyond is not offered */
        n = lp->due_ns <= now_ns ? (now_ns - lp->due_ns) / period_ns + 1 : 0;
        if (n > SIM_TURN_MAX)
            n = SIM_TURN_MAX;
        lp->due_ns += n * period_ns;
    }
    if (plan->w.events_per_lp && n > plan->w.events_per_lp - lp->events)
        n = plan->w.events_per_lp - lp->events;
    return (uint32_t)n;
}

static void *worker_main(void *arg)
{
    struct sim_worker *w = arg;
    struct hvlog_sim *sim = w->sim;
    const struct sim_plan *plan = &sim->plan;
    const uint32_t stride = sim->worker_count, lps = sim->config.lps;
    uint64_t period_ns = plan->w.rate_per_lp ? NS_PER_S / plan->w.rate_per_lp : 0;
    uint32_t live = 0;

    for (uint32_t i = w->index; i < lps; i += stride) {
        sim->lps[i].due_ns = mono_ns();
        live++;
    }
    while (live > 0 && !stopping(sim)) {
        uint64_t now = period_ns || plan->end_ns != UINT64_MAX ? mono_ns() : 0, next_due = UINT64_MAX;
        bool lost = false;

        if (now >= plan->end_ns)
            break; /* the duration is over: the LPs go offline below */

        for (uint32_t i = w->index; i < lps && !stopping(sim); i += stride) {
            struct sim_lp *lp = &sim->lps[i];
            uint32_t n;

            if (!lp->online)
                continue; /* owner-only field: only this worker clears it */
            n = turn_events(lp, plan, period_ns, now);
            for (uint32_t k = 0; k < n; k++) {
                worker_serve(w);
                lost |= lp_event(lp, plan, w->payload) == HVLOG_LOG_LOST;
            }
            if (plan->w.events_per_lp && lp->events >= plan->w.events_per_lp) {
                lp_offline(lp);
                live--;
            } else if (lp->due_ns < next_due) {
                next_due = lp->due_ns;
            }
        }
        worker_serve(w);
        if (__atomic_load_n(&sim->retry_owed, __ATOMIC_RELAXED))
            hvlog__sim_retry_if_owed(sim); /* §8.5: refused messages are retried later */
        if (lost)
            sched_yield(); /* the root is behind: let it drain (head comment) */
        if (period_ns && next_due != UINT64_MAX)
            worker_nap(w, next_due < plan->end_ns ? next_due : plan->end_ns);
    }
    for (uint32_t i = w->index; i < lps; i += stride)
        lp_offline(&sim->lps[i]);
    return NULL;
}

static uint32_t default_workers(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n < 1 ? 1u : n > (long)HVLOG_SIM_MAX_THREADS ? HVLOG_SIM_MAX_THREADS : (uint32_t)n;
}

static void workers_free(struct hvlog_sim *sim)
{
    for (uint32_t i = 0; sim->workers && i < sim->worker_count; i++) {
        free(sim->workers[i].payload);
        pthread_mutex_destroy(&sim->workers[i].lock);
        pthread_cond_destroy(&sim->workers[i].cv);
    }
    free(sim->workers);
    sim->workers = NULL;
    sim->worker_count = 0;
}

static int workers_alloc(struct hvlog_sim *sim)
{
    uint32_t n = sim->config.threads ? sim->config.threads : default_workers();
    pthread_condattr_t attr;

    if (n > sim->config.lps)
        n = sim->config.lps;
    sim->workers = aligned_alloc(SIM_CACHE_LINE, sizeof(struct sim_worker) * n);
    if (!sim->workers)
        return -1;
    memset(sim->workers, 0, sizeof(struct sim_worker) * n);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* worker_nap's deadline */
    for (uint32_t i = 0; i < n; i++) {
        sim->workers[i].sim = sim;
        sim->workers[i].index = i;
        pthread_mutex_init(&sim->workers[i].lock, NULL); /* default attributes: cannot fail */
        pthread_cond_init(&sim->workers[i].cv, &attr);
    }
    pthread_condattr_destroy(&attr);
    sim->worker_count = n;
    for (uint32_t i = 0; i < n; i++) {
        sim->workers[i].payload = malloc(SIM_PAYLOAD_BYTES);
        if (!sim->workers[i].payload) {
            workers_free(sim);
            return -1;
        }
    }
    return 0;
}

int hvlog_sim_start(struct hvlog_sim *sim, const struct hvlog_sim_workload *workload)
{
    uint32_t started = 0;

    if (sim->config.lockstep || sim->threads || hvlog__sim_plan_make(&sim->plan, workload) != 0 ||
        workers_alloc(sim) != 0)
        return -1;
    __atomic_store_n(&sim->stop, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&sim->lps_running, (int)sim->config.lps, __ATOMIC_RELAXED);
    /* The deadline is the sim's own: a root that is slow to drain (a write
     * held up by the page cache) must not stretch the offered load. */
    sim->plan.end_ns = workload->duration_ns ? mono_ns() + workload->duration_ns : UINT64_MAX;
    for (uint32_t i = 0; i < sim->config.lps; i++) {
        struct sim_lp *lp = &sim->lps[i];

        /* Online before the workers exist: a run_on_lp from now on goes
         * through the mailbox, served at the worker's first poll. */
        pthread_mutex_lock(&lp->lock);
        lp->online = true;
        lp->events = 0;
        pthread_mutex_unlock(&lp->lock);
    }
    for (; started < sim->worker_count; started++) {
        struct sim_worker *w = &sim->workers[started];

        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            break;
        w->started = true;
    }
    sim->threads = true;
    if (started < sim->worker_count) {
        /* The started workers stop and take their LPs offline; then the
         * LPs of the others go offline here. */
        hvlog_sim_stop(sim);
        for (uint32_t i = 0; i < sim->config.lps; i++)
            lp_offline(&sim->lps[i]);
        workers_free(sim);
        return -1;
    }
    return 0;
}

void hvlog_sim_stop(struct hvlog_sim *sim)
{
    if (!sim->threads)
        return;
    __atomic_store_n(&sim->stop, 1, __ATOMIC_RELAXED);
    for (uint32_t i = 0; i < sim->worker_count; i++) {
        struct sim_worker *w = &sim->workers[i];

        pthread_mutex_lock(&w->lock); /* cut a nap short */
        pthread_cond_signal(&w->cv);
        pthread_mutex_unlock(&w->lock);
    }
    for (uint32_t i = 0; i < sim->worker_count; i++) {
        if (sim->workers[i].started) {
            pthread_join(sim->workers[i].thread, NULL);
            sim->workers[i].started = false;
        }
    }
    sim->threads = false;
    /* Every LP is offline (its worker left, or it never went online in a
     * failed start, which hvlog_sim_start handles after this): nobody
     * reads the workers any more. */
    if (__atomic_load_n(&sim->lps_running, __ATOMIC_ACQUIRE) == 0)
        workers_free(sim);
}

bool hvlog_sim_running(struct hvlog_sim *sim)
{
    return __atomic_load_n(&sim->lps_running, __ATOMIC_ACQUIRE) > 0;
}

/* ---- lock-step and direct logging ---- */

void hvlog_sim_step(struct hvlog_sim *sim, uint32_t lp_index, uint32_t count,
                    const struct hvlog_sim_workload *workload)
{
    struct sim_plan plan;
    struct sim_lp *lp;
    uint8_t *payload;

    if (lp_index >= sim->config.lps || hvlog__sim_plan_make(&plan, workload) != 0)
        return;
    payload = malloc(SIM_PAYLOAD_BYTES);
    if (!payload)
        return;
    lp = &sim->lps[lp_index];
    for (uint32_t i = 0; i < count; i++) {
        bool ran = false;

        pthread_mutex_lock(&lp->lock);
        if (!lp->online) {
            lp_event(lp, &plan, payload);
            ran = true;
        }
        pthread_mutex_unlock(&lp->lock);
        if (!ran) {
            free(payload);
            return; /* that LP's worker runs it: it owns the LP */
        }
    }
    free(payload);
    hvlog_sim_poll(sim);
}

enum hvlog_log_result hvlog_sim_log(struct hvlog_sim *sim, uint32_t lp_index, uint32_t type,
                                    uint64_t sources, uint16_t entry_type, uint32_t context,
                                    const void *payload, uint32_t payload_len)
{
    enum hvlog_log_result r = HVLOG_LOG_DROPPED;
    struct sim_lp *lp;

    if (lp_index >= sim->config.lps || type >= HVLOG_TYPE_COUNT)
        return HVLOG_LOG_DROPPED;
    lp = &sim->lps[lp_index];
    pthread_mutex_lock(&lp->lock);
    if (!lp->online) {
        r = hvlog_log(sim->logger, lp_index, type, sources, entry_type, context, payload,
                      payload_len);
        count_result(lp, type, r);
    }
    pthread_mutex_unlock(&lp->lock);
    hvlog__sim_retry_if_owed(sim);
    return r;
}

void hvlog_sim_lp_counts(struct hvlog_sim *sim, uint32_t lp_index, struct hvlog_sim_lp_counts *out)
{
    const struct hvlog_sim_lp_counts *c;

    memset(out, 0, sizeof(*out));
    if (lp_index >= sim->config.lps)
        return;
    c = &sim->lps[lp_index].counts;
    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++) {
        out->logged[t] = __atomic_load_n(&c->logged[t], __ATOMIC_RELAXED);
        out->recorded[t] = __atomic_load_n(&c->recorded[t], __ATOMIC_RELAXED);
        out->lost[t] = __atomic_load_n(&c->lost[t], __ATOMIC_RELAXED);
        out->dropped[t] = __atomic_load_n(&c->dropped[t], __ATOMIC_RELAXED);
    }
}

/* ---- lifetime ---- */

int hvlog__sim_lps_init(struct hvlog_sim *sim)
{
    uint32_t n = sim->config.lps;

    sim->lps = aligned_alloc(SIM_CACHE_LINE, sizeof(struct sim_lp) * n);
    if (!sim->lps)
        return -1;
    memset(sim->lps, 0, sizeof(struct sim_lp) * n);
    for (uint32_t i = 0; i < n; i++) {
        struct sim_lp *lp = &sim->lps[i];

        lp->sim = sim;
        lp->index = i;
        lp->rng = hvlog__sim_rng_seed(sim->config.seed, i);
        pthread_mutex_init(&lp->lock, NULL); /* default attributes: cannot fail */
        pthread_cond_init(&lp->cv, NULL);
    }
    return 0;
}

void hvlog__sim_lps_fini(struct hvlog_sim *sim)
{
    if (!sim->lps)
        return;
    for (uint32_t i = 0; i < sim->config.lps; i++) {
        pthread_mutex_destroy(&sim->lps[i].lock);
        pthread_cond_destroy(&sim->lps[i].cv);
    }
    free(sim->lps);
    sim->lps = NULL;
}
