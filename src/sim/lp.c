/* SPDX-License-Identifier: MIT */
/*
 * Logical processors: threads that run child workloads, the run_on_lp
 * mailbox, and lock-step stepping (spec Q-CONC, §7.3; issue #5 part 1).
 *
 * == The mailbox (Q-CONC, src/engine/log.c head comment) ==
 *
 * The engine calls run_on_lp(n, fn, arg) to run fn "as LP n": at a moment
 * when LP n is not inside hvlog_log(), with happens-before both ways.
 *
 *   LP thread running (online)           LP not running (stopped, lock-step)
 *   -------------------------------      -----------------------------------
 *   caller: lock; wait for the slot;     caller: lock; fn(arg); unlock.
 *     req = &r; pending = 1 (release);   Lock-step logging (hvlog_sim_step,
 *     wait until r.done; unlock          hvlog_sim_log) holds the same lock
 *   LP, between two events: pending?     around each hvlog_log(), so the
 *     (acquire) -> lock; fn(arg);        lock is the exclusion.
 *     done; pending = 0; broadcast
 *   LP leaving: lock; online = false;
 *     serve a waiting request; unlock
 *
 * The LP thread's hot loop takes no lock: one acquire load of @pending per
 * event (a plain load on x86). The mutex gives the happens-before edges.
 * Several callers may queue for one LP (several root VPs flushing): each
 * waits for the slot, then for its own request.
 *
 * Lock order (sim_internal.h): the mailbox lock is the outermost; the
 * function run under it, and hvlog_log() in lock-step mode, take engine
 * locks, under which the sim's leaf locks are taken.
 *
 * == Counters ==
 *
 * hvlog_sim_lp_counts fields have one writer, the LP's owner (its thread,
 * or the holder of its mailbox lock), which stores them with relaxed
 * atomics; readers load them relaxed. A reader wants a recent value, not
 * an order; after hvlog_sim_stop() (thread join) the values are exact.
 */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/sim_internal.h"

#define NS_PER_S 1000000000ull
#define PACE_SLICE_NS 1000000ull /* paced LPs wake at least every 1 ms to serve the mailbox */

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

/* One workload event on LP @lp. Owner context. */
static void lp_event(struct sim_lp *lp, const struct sim_plan *plan)
{
    struct hvlog_sim *sim = lp->sim;
    struct sim_event ev;
    uint32_t context;
    enum hvlog_log_result r;

    sim_event_make(plan, &lp->rng, lp->index, sim->config.children, lp->counts.logged, &ev,
                   &context, lp->payload);
    r = hvlog_log(sim->logger, lp->index, ev.type, ev.sources, ev.entry_type, context, lp->payload,
                  ev.payload_len);
    count_result(lp, ev.type, r);
    lp->events++;
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

void sim_run_on_lp(void *ctx, uint32_t lp_index, void (*fn)(void *arg), void *arg)
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
            lp->req = &req;
            __atomic_store_n(&lp->pending, 1, __ATOMIC_RELEASE);
            while (!req.done)
                pthread_cond_wait(&lp->cv, &lp->lock);
            break;
        }
        pthread_cond_wait(&lp->cv, &lp->lock); /* another caller's request is in */
    }
    pthread_mutex_unlock(&lp->lock);
}

/* ---- LP threads ---- */

/* Paced mode: wait until @deadline_ns, serving the mailbox meanwhile.
 * Returns false when asked to stop. */
static bool pace(struct sim_lp *lp, uint64_t deadline_ns)
{
    for (;;) {
        uint64_t now = mono_ns(), until;
        struct timespec ts;

        if (__atomic_load_n(&lp->sim->stop, __ATOMIC_RELAXED))
            return false;
        if (__atomic_load_n(&lp->pending, __ATOMIC_ACQUIRE))
            mailbox_serve(lp);
        if (now >= deadline_ns)
            return true;
        until = deadline_ns - now > PACE_SLICE_NS ? now + PACE_SLICE_NS : deadline_ns;
        ts.tv_sec = (time_t)(until / NS_PER_S);
        ts.tv_nsec = (long)(until % NS_PER_S);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
}

static void *lp_main(void *arg)
{
    struct sim_lp *lp = arg;
    struct hvlog_sim *sim = lp->sim;
    const struct sim_plan *plan = &sim->plan;
    uint64_t period_ns = plan->w.rate_per_lp ? NS_PER_S / plan->w.rate_per_lp : 0;
    uint64_t deadline_ns = mono_ns();

    while (!__atomic_load_n(&sim->stop, __ATOMIC_RELAXED)) {
        if (plan->w.events_per_lp && lp->events >= plan->w.events_per_lp)
            break;
        if (__atomic_load_n(&lp->pending, __ATOMIC_ACQUIRE))
            mailbox_serve(lp);
        if (__atomic_load_n(&sim->retry_owed, __ATOMIC_RELAXED))
            sim_retry_if_owed(sim); /* §8.5: refused messages are retried later */
        if (period_ns) {
            if (!pace(lp, deadline_ns))
                break;
            deadline_ns += period_ns;
        }
        lp_event(lp, plan);
    }
    /* Offline: from now on run_on_lp runs its function directly. */
    pthread_mutex_lock(&lp->lock);
    lp->online = false;
    pthread_mutex_unlock(&lp->lock);
    mailbox_serve(lp);
    pthread_mutex_lock(&lp->lock);
    pthread_cond_broadcast(&lp->cv); /* callers waiting for the slot re-check online */
    pthread_mutex_unlock(&lp->lock);
    __atomic_sub_fetch(&sim->lps_running, 1, __ATOMIC_RELEASE);
    return NULL;
}

int hvlog_sim_start(struct hvlog_sim *sim, const struct hvlog_sim_workload *workload)
{
    uint32_t started = 0;

    if (sim->config.lockstep || sim->threads || sim_plan_make(&sim->plan, workload) != 0)
        return -1;
    __atomic_store_n(&sim->stop, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&sim->lps_running, (int)sim->config.lps, __ATOMIC_RELAXED);
    for (uint32_t i = 0; i < sim->config.lps; i++) {
        struct sim_lp *lp = &sim->lps[i];

        /* Online before the thread exists: a run_on_lp from now on goes
         * through the mailbox, served at the thread's first poll. */
        pthread_mutex_lock(&lp->lock);
        lp->online = true;
        lp->events = 0;
        pthread_mutex_unlock(&lp->lock);
    }
    for (; started < sim->config.lps; started++) {
        struct sim_lp *lp = &sim->lps[started];

        if (pthread_create(&lp->thread, NULL, lp_main, lp) != 0)
            break;
        lp->thread_started = true;
    }
    sim->threads = true;
    if (started < sim->config.lps) {
        /* The LPs without a thread go offline; the others are stopped. */
        for (uint32_t i = started; i < sim->config.lps; i++) {
            pthread_mutex_lock(&sim->lps[i].lock);
            sim->lps[i].online = false;
            pthread_mutex_unlock(&sim->lps[i].lock);
            __atomic_sub_fetch(&sim->lps_running, 1, __ATOMIC_RELEASE);
        }
        hvlog_sim_stop(sim);
        return -1;
    }
    return 0;
}

void hvlog_sim_stop(struct hvlog_sim *sim)
{
    if (!sim->threads)
        return;
    __atomic_store_n(&sim->stop, 1, __ATOMIC_RELAXED);
    for (uint32_t i = 0; i < sim->config.lps; i++) {
        if (sim->lps[i].thread_started) {
            pthread_join(sim->lps[i].thread, NULL);
            sim->lps[i].thread_started = false;
        }
    }
    sim->threads = false;
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

    if (lp_index >= sim->config.lps || sim_plan_make(&plan, workload) != 0)
        return;
    lp = &sim->lps[lp_index];
    for (uint32_t i = 0; i < count; i++) {
        bool ran = false;

        pthread_mutex_lock(&lp->lock);
        if (!lp->online) {
            lp_event(lp, &plan);
            ran = true;
        }
        pthread_mutex_unlock(&lp->lock);
        if (!ran)
            return; /* that LP's thread runs: it owns the LP */
    }
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
    sim_retry_if_owed(sim);
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

int sim_lps_init(struct hvlog_sim *sim)
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
        lp->rng = sim_rng_seed(sim->config.seed, i);
        pthread_mutex_init(&lp->lock, NULL); /* default attributes: cannot fail */
        pthread_cond_init(&lp->cv, NULL);
    }
    for (uint32_t i = 0; i < n; i++) {
        sim->lps[i].payload = malloc(SIM_PAYLOAD_BYTES);
        if (!sim->lps[i].payload)
            return -1;
    }
    return 0;
}

void sim_lps_fini(struct hvlog_sim *sim)
{
    if (!sim->lps)
        return;
    for (uint32_t i = 0; i < sim->config.lps; i++) {
        free(sim->lps[i].payload);
        pthread_mutex_destroy(&sim->lps[i].lock);
        pthread_cond_destroy(&sim->lps[i].cv);
    }
    free(sim->lps);
    sim->lps = NULL;
}
