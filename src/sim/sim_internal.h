/* SPDX-License-Identifier: MIT */
/*
 * The simulated host's private structures, shared by its files:
 *   sim.c       create/destroy, the host-ops table, clock, hypercalls,
 *               fault injection
 *   memory.c    machine memory, the root's two views, the pool, overlays,
 *               guest memory by GPA
 *   synic.c     the SynIC of each root VP: MSRs, message FIFOs, slots
 *   lp.c        worker threads that run the LPs, the run_on_lp mailbox,
 *               lock-step stepping
 *   workload.c  events from the §4.8 catalogue, the per-LP PRNG
 *
 * Lock order (outermost first):
 *   1. an LP's mailbox lock (struct sim_lp.lock): held while a run_on_lp
 *      function runs and around lock-step logging, both of which take
 *      engine locks;
 *   2. the engine's locks (engine_internal.h): held around host callbacks;
 *   3. leaves, never held together and never held while calling the engine:
 *      a VP's SynIC lock (struct sim_vp.lock), the memory lock
 *      (struct sim_memory.lock), the fault lock (struct hvlog_sim.fault_lock).
 * A function that must notify the engine (EOM, a VP becoming eligible)
 * records what to do under its leaf lock and calls the engine after
 * releasing it.
 */
#ifndef HVLOG_SIM_SIM_INTERNAL_H
#define HVLOG_SIM_SIM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hvlog/abi/catalog.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/synic.h"
#include "hvlog/engine/engine.h"
#include "hvlog/engine/log.h"
#include "hvlog/sim/sim.h"

#define SIM_PAGE HV_PAGE_SIZE
#define SIM_CACHE_LINE 64

/* ---- memory.c ---- */

/*
 * Machine memory: one memfd, mapped twice. @rw is the hypervisor's view
 * (engine buffers point into it; the root's writable pointers too); @ro is
 * the root's GPA space, PROT_READ where the root may read and PROT_NONE
 * elsewhere, so a store through it always faults.
 */
struct sim_alloc;

struct sim_memory {
    int fd;
    uint8_t *rw;            /* [total_frames]: the domains' regions, then the children's RAM */
    uint8_t *ro;            /* [root_frames], PROT_READ/PROT_NONE per frame; never written */
    uint64_t total_frames;
    uint64_t root_frames;   /* domains * region_frames */
    uint32_t domains;
    uint32_t fixed_frames;  /* root_ram_pages: fixed RAM at the bottom of each region */
    uint32_t deposit_frames;
    uint32_t region_frames; /* fixed_frames + deposit_frames */
    uint32_t children;
    uint64_t child_base;    /* machine frame of child 0's RAM */

    pthread_mutex_t lock;   /* guards everything below and the @ro protections */
    uint64_t *deposited;    /* bit per root frame: in the pool (deposit frames only) */
    uint64_t *used;         /* bit per root frame: given to the engine (implies deposited) */
    uint64_t *overlay;      /* bit per root frame: mapped into the root's view (implies used) */
    uint32_t *pool_deposited; /* [domains] frames in the pool */
    uint32_t *pool_used;      /* [domains] pool frames given to the engine */
    struct sim_alloc **alloc_of_frame; /* [root_frames]: the allocation whose page 0 it is */
    bool scatter;             /* hvlog_sim_config.scatter_pages (set at init) */
    uint64_t scatter_rng;     /* the draw of scattered frames */
};

int hvlog__sim_memory_init(struct sim_memory *m, const struct hvlog_sim_config *c);
void hvlog__sim_memory_fini(struct sim_memory *m);
/* The first frame of domain @d's region (its fixed RAM, then its deposit frames). */
uint64_t hvlog__sim_region_base(const struct sim_memory *m, uint32_t d);
/* Is [gpa, gpa + len) inside the fixed RAM of some domain? No lock needed:
 * fixed RAM never changes kind. */
bool hvlog__sim_fixed_ram(const struct sim_memory *m, uint64_t gpa, uint64_t len);
/* The hypervisor's pointer to a root GPA (any kind of frame). */
uint8_t *hvlog__sim_rw_of_gpa(const struct sim_memory *m, uint64_t gpa);

/* Host callbacks (ctx = struct hvlog_sim *). */
int hvlog__sim_pages_alloc(void *ctx, uint32_t domain, bool strict, uint32_t count,
                           struct hvlog_pages *out);
void hvlog__sim_pages_free(void *ctx, const struct hvlog_pages *pages);
/* The machine frame (= root GPA page, DEC-MAPGPA) of page @k of @pages,
 * an allocation of hvlog__sim_pages_alloc; @k < pages->count. Takes the memory lock. */
uint64_t hvlog__sim_pages_frame(struct hvlog_sim *sim, const struct hvlog_pages *pages, uint32_t k);
int hvlog__sim_overlay_map(void *ctx, const struct hvlog_pages *pages, uint64_t *gpa_pages);
void hvlog__sim_overlay_unmap(void *ctx, const struct hvlog_pages *pages);
enum hvlog_gpa_result hvlog__sim_gpa_probe(void *ctx, uint64_t partition_id, uint64_t gpa, uint32_t len,
                                           bool write);
enum hvlog_gpa_result hvlog__sim_gpa_read(void *ctx, uint64_t partition_id, uint64_t gpa, void *dst,
                                          uint32_t len);
enum hvlog_gpa_result hvlog__sim_gpa_write(void *ctx, uint64_t partition_id, uint64_t gpa,
                                           const void *src, uint32_t len);

/* ---- synic.c ---- */

#define SIM_FIFO_DEPTH 16u /* per SINT; the engine has at most one message per group in flight */

/* A message waiting in a SINT's FIFO: the poster's buffer, not a copy (§8.5). */
struct sim_queued {
    const struct hv_message *msg;
    uint64_t token; /* the engine's, for hvlog_engine_message_delivered() */
};

struct sim_fifo {
    struct sim_queued q[SIM_FIFO_DEPTH];
    uint32_t head, len;
};

/* One root VP's SynIC (§8.5). */
struct sim_vp {
    pthread_mutex_t lock; /* guards everything below, and the SIM page's slots */
    uint64_t scontrol;
    uint64_t simp;
    uint64_t siefp;
    uint64_t sint[HV_SYNIC_SINT_COUNT];
    struct sim_fifo fifo[HV_SYNIC_SINT_COUNT];
    uint64_t interrupts[HV_SYNIC_SINT_COUNT]; /* edges raised, per SINT */
    hvlog_sim_sint_hook hook;                /* told of each edge (hvlog_sim_set_sint_hook) */
    void *hook_ctx;
} __attribute__((aligned(SIM_CACHE_LINE)));

int hvlog__sim_synic_init(struct hvlog_sim *sim);
void hvlog__sim_synic_fini(struct hvlog_sim *sim);
/* The GPA hvlog_sim_synic_enable() puts VP @vp's SIM page at. */
uint64_t hvlog__sim_synic_default_simp(const struct hvlog_sim *sim, uint32_t vp);

enum hvlog_post_result hvlog__sim_post_message(void *ctx, uint32_t vp_index, const struct hv_message *msg,
                                               uint64_t token);
void hvlog__sim_withdraw_message(void *ctx, uint32_t vp_index, const struct hv_message *msg);
bool hvlog__sim_vp_eligible(void *ctx, uint32_t vp_index);
/* Copy queued messages into empty slots on every VP; notify the engine. */
void hvlog__sim_synic_pump_all(struct hvlog_sim *sim);

/* ---- workload.c ---- */

#define SIM_MAX_PARAMS 4u

/* One catalogue row the workload draws from, its parameters parsed once. */
struct sim_row {
    const struct hvlog_entry_type_info *info;
    uint8_t param_count;
    uint8_t param_kind[SIM_MAX_PARAMS]; /* enum sim_param */
};

#define SIM_MAX_ROWS 16u

/* A workload checked and resolved against the catalogue. */
struct sim_plan {
    struct hvlog_sim_workload w;
    uint64_t end_ns;                    /* CLOCK_MONOTONIC: w.duration_ns after start, or UINT64_MAX */
    struct sim_row local[SIM_MAX_ROWS]; /* rows whose group is in local_sources */
    uint32_t local_count;
    struct sim_row global[2];           /* partition created / deleted */
    uint32_t global_count;
};

/* One event, ready for hvlog_log(). */
struct sim_event {
    uint32_t type;
    uint64_t sources;
    uint16_t entry_type;
    uint32_t payload_len;
};

int hvlog__sim_plan_make(struct sim_plan *plan, const struct hvlog_sim_workload *w);
uint64_t hvlog__sim_rng_seed(uint64_t seed, uint32_t lp);
uint64_t hvlog__sim_rng_next(uint64_t *state);
/* Draw the next event of LP @lp; the payload goes to @payload
 * (SIM_MAX_PARAMS * 8 + HVLOG_SIM_MAX_EXTRA bytes). @logged: the LP's
 * counts.logged[], for Context. */
void hvlog__sim_event_make(const struct sim_plan *plan, uint64_t *rng, uint32_t lp, uint32_t children,
                           const uint64_t *logged, struct sim_event *ev, uint32_t *context,
                           uint8_t *payload);
#define SIM_PAYLOAD_BYTES (SIM_MAX_PARAMS * 8u + HVLOG_SIM_MAX_EXTRA)

/* ---- lp.c ---- */

/* A run_on_lp request, on the caller's stack. */
struct sim_request {
    void (*fn)(void *arg);
    void *arg;
    bool done; /* guarded by the mailbox lock */
};

/* One logical processor. */
struct sim_lp {
    struct hvlog_sim *sim;
    uint32_t index;

    /* The mailbox (Q-CONC): a run_on_lp caller posts @req and waits; the
     * worker that owns the LP polls between two events and serves it. */
    pthread_mutex_t lock;  /* guards req, online; serializes run_on_lp and lock-step logging */
    pthread_cond_t cv;     /* broadcast when a request is served or the LP goes offline */
    struct sim_request *req;
    bool online;           /* its worker runs its workload: requests go through the mailbox */
    int pending;           /* atomic: req is set; release by the poster, acquire by the worker */

    /* Owner-only: the owning worker while online, else whoever holds @lock. */
    uint64_t rng;
    uint64_t events;       /* workload events generated */
    uint64_t due_ns;       /* paced: the virtual time of its next event (CLOCK_MONOTONIC) */
    /* Single writer (the owner), read by anyone with relaxed atomics. */
    struct hvlog_sim_lp_counts counts;
} __attribute__((aligned(SIM_CACHE_LINE)));

/* One worker thread: it owns LPs index, index + workers, index + 2 x
 * workers, ... for the whole run (lp.c head comment). */
struct sim_worker {
    struct hvlog_sim *sim;
    uint32_t index;
    int pending;           /* atomic: some owned LP has a request (release by the poster) */
    pthread_mutex_t lock;  /* guards nothing but the nap: a poster wakes a napping worker */
    pthread_cond_t cv;     /* signalled by a poster and by hvlog_sim_stop() */
    uint8_t *payload;      /* SIM_PAYLOAD_BYTES, the worker's scratch for one event */
    pthread_t thread;
    bool started;          /* controller thread only */
} __attribute__((aligned(SIM_CACHE_LINE)));

int hvlog__sim_lps_init(struct hvlog_sim *sim);
void hvlog__sim_lps_fini(struct hvlog_sim *sim);
void hvlog__sim_run_on_lp(void *ctx, uint32_t lp, void (*fn)(void *arg), void *arg);

/* ---- sim.c ---- */

struct hvlog_sim {
    struct hvlog_sim_config config;
    struct hvlog_engine *engine;
    struct hvlog_logger *logger;
    struct hvlog_host_ops ops;
    uint64_t clock_origin_ns; /* CLOCK_MONOTONIC at create, for the default clock */

    struct sim_memory memory;
    struct sim_vp *vps;       /* [lps] */
    struct sim_lp *lps;       /* [lps] */

    /* Worker threads (controller thread only, except the atomics). */
    struct sim_plan plan;     /* written before threads start, read-only while they run */
    int stop;                 /* atomic: workers leave their loop */
    int lps_running;          /* atomic: LPs still in their workload */
    bool threads;             /* workers were started and not joined */
    struct sim_worker *workers; /* [worker_count] while threads; read by run_on_lp of an online LP */
    uint32_t worker_count;

    /* Deferred work (§8.5 "retries later"): a post was refused. Relaxed:
     * a hint; the retry itself synchronizes on the engine's locks. */
    int retry_owed;

    pthread_mutex_t fault_lock;              /* guards fail_after */
    uint32_t fail_after[HVLOG_SIM_FAULT_KINDS];
    uint64_t intercepts;                     /* atomic, relaxed: a counter */
};

/* Count one operation of @kind; true when it is the one to fail. */
bool hvlog__sim_fault_hit(struct hvlog_sim *sim, enum hvlog_sim_fault kind);
void hvlog__sim_count_intercept(struct hvlog_sim *sim);
/* Retry refused posts if any are owed. No lock held. */
void hvlog__sim_retry_if_owed(struct hvlog_sim *sim);

static inline struct hvlog_sim *sim_of(void *ctx)
{
    return (struct hvlog_sim *)ctx;
}

#endif /* HVLOG_SIM_SIM_INTERNAL_H */
