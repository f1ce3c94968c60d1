/* SPDX-License-Identifier: MIT */
/*
 * The simulated host's lifetime and its engine (hvlog/sim/sim.h): the
 * host-ops table, the clock, hypercalls from the root and children (and
 * HvGetSystemProperty for the SystemDiagnostics ring), fault injection and
 * the deferred retry of refused messages.
 *
 * The sim holds no global state: tests create several side by side.
 */
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hvlog/abi/hypercall.h"
#include "hvlog/version.h"
#include "sim/sim_internal.h"

struct hvlog_sim_config hvlog_sim_config_default(void)
{
    struct hvlog_sim_config c = {
        .lps = 2,
        .domains = 1,
        .children = 1,
        .root_ram_pages = 128,
        .deposit_frames = 0, /* 2 x pool_pages */
        .pool_pages = 4096,
        .seed = 1,
        .lockstep = false,
        .profile = hvlog_profile_default(),
    };
    return c;
}

static bool config_valid(const struct hvlog_sim_config *c)
{
    if (c->lps == 0 || c->lps > HVLOG_SIM_MAX_LPS || c->threads > HVLOG_SIM_MAX_THREADS)
        return false;
    /* §4.4: the 2013 header's LogicalProcessor is a u8 (sim.h). */
    if (c->profile.abi == HVLOG_ABI_2013 && c->lps > HVLOG_SIM_MAX_LPS_2013)
        return false;
    if (c->domains == 0 || c->domains > HVLOG_SIM_MAX_DOMAINS)
        return false;
    if (c->children > HVLOG_SIM_MAX_CHILDREN)
        return false;
    /* Domain 0's fixed RAM holds page 0, the scratch pages and the SIM pages. */
    return c->root_ram_pages >= 1u + HVLOG_SIM_ROOT_SCRATCH_PAGES + c->lps;
}

/* ---- clocks ---- */

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Default reference time: 100 ns units of CLOCK_MONOTONIC since create. */
/* The engine's own memory and spin relax (hvlog_host_ops): a hosted
 * simulation uses libc, and yields, since its lock holders are threads that
 * can be descheduled. */
static void *sim_mem_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    return malloc(bytes);
}

static void sim_mem_free(void *ctx, void *memory)
{
    (void)ctx;
    free(memory);
}

static void sim_relax(void *ctx)
{
    (void)ctx;
    sched_yield();
}

static uint64_t clock_monotonic(void *ctx)
{
    return (mono_ns() - sim_of(ctx)->clock_origin_ns) / 100u;
}

static uint64_t clock_injected(void *ctx)
{
    struct hvlog_sim *sim = sim_of(ctx);

    return sim->config.clock(sim->config.clock_ctx);
}

#if defined(__x86_64__)
static uint64_t tsc_rdtsc(void *ctx)
{
    (void)ctx;
    return __builtin_ia32_rdtsc();
}
#endif

/* ---- fault injection, intercepts, deferred work ---- */

bool hvlog__sim_fault_hit(struct hvlog_sim *sim, enum hvlog_sim_fault kind)
{
    bool hit = false;

    pthread_mutex_lock(&sim->fault_lock);
    if (sim->fail_after[kind] > 0) {
        sim->fail_after[kind]--;
        hit = sim->fail_after[kind] == 0;
    }
    pthread_mutex_unlock(&sim->fault_lock);
    return hit;
}

void hvlog_sim_fail_after(struct hvlog_sim *sim, enum hvlog_sim_fault fault, uint32_t k)
{
    if ((uint32_t)fault >= HVLOG_SIM_FAULT_KINDS)
        return;
    pthread_mutex_lock(&sim->fault_lock);
    sim->fail_after[fault] = k;
    pthread_mutex_unlock(&sim->fault_lock);
}

void hvlog__sim_count_intercept(struct hvlog_sim *sim)
{
    __atomic_fetch_add(&sim->intercepts, 1, __ATOMIC_RELAXED);
}

uint64_t hvlog_sim_intercepts(struct hvlog_sim *sim)
{
    return __atomic_load_n(&sim->intercepts, __ATOMIC_RELAXED);
}

void hvlog__sim_retry_if_owed(struct hvlog_sim *sim)
{
    if (__atomic_load_n(&sim->retry_owed, __ATOMIC_RELAXED) &&
        __atomic_exchange_n(&sim->retry_owed, 0, __ATOMIC_RELAXED))
        hvlog_engine_kick(sim->engine);
}

void hvlog_sim_poll(struct hvlog_sim *sim)
{
    __atomic_store_n(&sim->retry_owed, 0, __ATOMIC_RELAXED);
    hvlog_engine_kick(sim->engine);
    hvlog__sim_synic_pump_all(sim);
}

/* ---- topology callbacks ---- */

/* §7.2: LPs spread round-robin over the domains. */
static uint32_t sim_lp_domain(void *ctx, uint32_t lp)
{
    return lp % sim_of(ctx)->config.domains;
}

static bool sim_domain_known(void *ctx, uint32_t domain)
{
    return domain < sim_of(ctx)->config.domains;
}

/* ---- lifetime ---- */

int hvlog_sim_create(const struct hvlog_sim_config *config, struct hvlog_sim **out)
{
    struct hvlog_sim *sim;
    struct hvlog_engine_config ecfg;
    size_t size = (sizeof(*sim) + SIM_CACHE_LINE - 1) & ~(size_t)(SIM_CACHE_LINE - 1);

    if (!config || !out || !config_valid(config))
        return -1;
    sim = aligned_alloc(SIM_CACHE_LINE, size);
    if (!sim)
        return -1;
    memset(sim, 0, sizeof(*sim));
    sim->config = *config;
    sim->clock_origin_ns = mono_ns();
    pthread_mutex_init(&sim->fault_lock, NULL); /* default attributes: cannot fail */
    if (hvlog__sim_memory_init(&sim->memory, config) != 0 || hvlog__sim_synic_init(sim) != 0 ||
        hvlog__sim_lps_init(sim) != 0)
        goto fail;

    sim->ops = (struct hvlog_host_ops){
        .size = sizeof(struct hvlog_host_ops),
        .mem_alloc = sim_mem_alloc,
        .mem_free = sim_mem_free,
        .relax = sim_relax,
        .ref_time_100ns = config->clock ? clock_injected : clock_monotonic,
#if defined(__x86_64__)
        .tsc = config->clock ? clock_injected : tsc_rdtsc,
#else
        .tsc = NULL, /* the engine stamps TSC-basis entries with reference time */
#endif
        .pages_alloc = hvlog__sim_pages_alloc,
        .pages_free = hvlog__sim_pages_free,
        .overlay_map = hvlog__sim_overlay_map,
        .overlay_unmap = hvlog__sim_overlay_unmap,
        .gpa_probe = hvlog__sim_gpa_probe,
        .gpa_read = hvlog__sim_gpa_read,
        .gpa_write = hvlog__sim_gpa_write,
        .post_message = hvlog__sim_post_message,
        .withdraw_message = hvlog__sim_withdraw_message,
        .vp_eligible = hvlog__sim_vp_eligible,
        .lp_root_vp = NULL, /* §8.4: root VP n is LP n */
        .lp_domain = sim_lp_domain,
        .domain_known = sim_domain_known,
        .run_on_lp = hvlog__sim_run_on_lp,
    };
    ecfg = (struct hvlog_engine_config){
        .size = sizeof(struct hvlog_engine_config),
        .lp_count = config->lps,
        .root_vp_count = config->lps,
        .root_partition_id = HVLOG_SIM_ROOT_ID,
        .profile = config->profile,
        .ops = &sim->ops,
        .ctx = sim,
    };
    if (hvlog_engine_create(&ecfg, &sim->engine) != 0)
        goto fail;
    sim->logger = hvlog_engine_logger(sim->engine);
    for (uint32_t d = 0; d < config->domains; d++) {
        if (hvlog_sim_deposit(sim, d, config->pool_pages) != 0)
            goto fail;
    }
    /* §11.6: the hypervisor's own ring exists before any root runs. */
    if (config->system_diag_buffers &&
        hvlog_engine_system_diag_start(sim->engine, config->system_diag_buffers,
                                       config->system_diag_pages, ~0ull) != 0)
        goto fail;
    *out = sim;
    return 0;
fail:
    hvlog_sim_destroy(sim);
    return -1;
}

void hvlog_sim_destroy(struct hvlog_sim *sim)
{
    if (!sim)
        return;
    if (sim->lps)
        hvlog_sim_stop(sim);
    /* The engine first: it unmaps, frees pages and withdraws messages
     * through the callbacks, which need everything else. */
    hvlog_engine_destroy(sim->engine);
    hvlog__sim_lps_fini(sim);
    hvlog__sim_synic_fini(sim);
    hvlog__sim_memory_fini(&sim->memory);
    pthread_mutex_destroy(&sim->fault_lock);
    free(sim);
}

struct hvlog_engine *hvlog_sim_engine(struct hvlog_sim *sim)
{
    return sim->engine;
}

uint64_t hvlog_sim_seed(const struct hvlog_sim *sim)
{
    return sim->config.seed;
}

uint32_t hvlog_sim_lp_count(const struct hvlog_sim *sim)
{
    return sim->config.lps;
}

/* ---- hypercalls ---- */

static bool partition_exists(const struct hvlog_sim *sim, uint64_t id)
{
    return id == HVLOG_SIM_ROOT_ID ||
           (id >= HVLOG_SIM_FIRST_CHILD_ID && id - HVLOG_SIM_FIRST_CHILD_ID < sim->config.children);
}

/*
 * HvGetSystemProperty, property DiagnosticsLogBuffers (sim.h): the one
 * hypervisor-wide call the diaglog driver needs before Map (research §1.2).
 * It is outside the engine (§11.6: "the engine exposes the ring geometry
 * through its embedding API instead"), so the sim answers it from that
 * API, with the engine's check order (§3.5) and output only on success.
 * Returns the result value, or HVLOG_SIM_INTERCEPT (counted).
 */
#define SYSPROP_BLOCK 8u /* input {PropertyId, reserved}, output {count, pages} */

static uint64_t sim_get_system_property(struct hvlog_sim *sim, uint64_t partition_id,
                                        uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    uint8_t in[SYSPROP_BLOCK], out[SYSPROP_BLOCK];
    uint32_t count = 0, pages = 0;
    enum hvlog_gpa_result r;
    hv_status_t status = HV_STATUS_SUCCESS;

    /* 2: a simple memory-form call; every bit above the code must be 0. */
    if ((rcx & ~HV_HYPERCALL_CALL_CODE_MASK) != 0)
        status = HV_STATUS_INVALID_HYPERCALL_INPUT;
    /* 3: both blocks 8-aligned (8 bytes cannot then cross a page), readable / writable. */
    else if ((rdx & 7u) != 0 || (r8 & 7u) != 0)
        status = HV_STATUS_INVALID_ALIGNMENT;
    else if ((r = hvlog__sim_gpa_read(sim, partition_id, rdx, in, SYSPROP_BLOCK)) != HVLOG_GPA_OK ||
             (r = hvlog__sim_gpa_probe(sim, partition_id, r8, SYSPROP_BLOCK, true)) != HVLOG_GPA_OK) {
        if (r == HVLOG_GPA_FAULT) {
            hvlog__sim_count_intercept(sim); /* Q-GPA */
            return HVLOG_SIM_INTERCEPT;
        }
        status = HV_STATUS_INVALID_ALIGNMENT;
    }
    /* 4, then the call's own row. */
    else if (partition_id != HVLOG_SIM_ROOT_ID)
        status = HV_STATUS_ACCESS_DENIED;
    else if (hvlog_load_le32(in) != HVLOG_SIM_PROPERTY_DIAG_LOG_BUFFERS)
        status = HV_STATUS_INVALID_PARAMETER;
    if (status != HV_STATUS_SUCCESS)
        return hv_hypercall_result_make(status, 0);
    if (hvlog_engine_system_diag_geometry(sim->engine, &count, &pages) != 0)
        count = pages = 0; /* no ring: nothing to map */
    hvlog_store_le32(out, count);
    hvlog_store_le32(out + 4, pages);
    hvlog__sim_gpa_write(sim, partition_id, r8, out, SYSPROP_BLOCK); /* probed writable above */
    return hv_hypercall_result_make(HV_STATUS_SUCCESS, 0);
}

/*
 * HvCallLogHypervisorSystemConfig (sim.h): one configuration record into
 * the SystemDiagnostics ring. Logged through the LP mailbox (run_on_lp),
 * so it is written "as" the calling VP's LP even while that LP's thread
 * logs (Q-CONC: only LP n writes LP n's scope).
 */
struct config_record {
    struct hvlog_sim *sim;
    uint32_t lp;
    uint8_t payload[HVLOG_SIM_CONFIG_PAYLOAD_BYTES];
};

static void log_config_record(void *arg)
{
    struct config_record *r = arg;

    /* Its result is not the call's: sources off drop it, the ring never
     * refuses a record this small (the call succeeds either way). */
    (void)hvlog_log(r->sim->logger, r->lp, HvEventLogTypeSystemDiagnostics, ~0ull,
                          HVLOG_SIM_CONFIG_ENTRY_TYPE, 0, r->payload,
                          HVLOG_SIM_CONFIG_PAYLOAD_BYTES);
}

static uint64_t sim_log_system_config(struct hvlog_sim *sim, uint64_t partition_id,
                                      uint32_t vp_index, uint64_t rcx)
{
    struct config_record r = {.sim = sim, .lp = vp_index};
    uint32_t count = 0, pages = 0;

    if ((rcx & ~HV_HYPERCALL_CALL_CODE_MASK) != 0)
        return hv_hypercall_result_make(HV_STATUS_INVALID_HYPERCALL_INPUT, 0);
    if (partition_id != HVLOG_SIM_ROOT_ID)
        return hv_hypercall_result_make(HV_STATUS_ACCESS_DENIED, 0);
    if (hvlog_engine_system_diag_geometry(sim->engine, &count, &pages) != 0)
        return hv_hypercall_result_make(HV_STATUS_INVALID_PARAMETER, 0);
    hvlog_store_le32(r.payload + 0, HVLOG_SIM_CONFIG_RECORD_VERSION);
    hvlog_store_le32(r.payload + 4, sim->config.profile.abi == HVLOG_ABI_CURRENT ? 1u : 0u);
    hvlog_store_le32(r.payload + 8, sim->config.lps);
    hvlog_store_le32(r.payload + 12, sim->config.domains);
    hvlog_store_le32(r.payload + 16, count);
    hvlog_store_le32(r.payload + 20, pages);
    /* NUL-padded, as documented: the rest of the payload is zero. */
    memcpy(r.payload + 24, HVLOG_VERSION_STRING,
           sizeof HVLOG_VERSION_STRING - 1 < 16 ? sizeof HVLOG_VERSION_STRING - 1 : 16);
    hvlog__sim_run_on_lp(sim, vp_index, log_config_record, &r);
    return hv_hypercall_result_make(HV_STATUS_SUCCESS, 0);
}

uint64_t hvlog_sim_hypercall(struct hvlog_sim *sim, uint64_t partition_id, uint32_t vp_index,
                             uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    struct hvlog_caller caller = {.partition_id = partition_id, .vp_index = vp_index};
    struct hvlog_hypercall call = {.rcx = rcx, .rdx = rdx, .r8 = r8};

    /* A caller that cannot exist: the sim's own answer, not the engine's. */
    if (!partition_exists(sim, partition_id))
        return hv_hypercall_result_make(HV_STATUS_INVALID_PARTITION_ID, 0);
    if (vp_index >= sim->config.lps)
        return hv_hypercall_result_make(HV_STATUS_INVALID_VP_INDEX, 0);
    if ((rcx & HV_HYPERCALL_CALL_CODE_MASK) == HVLOG_SIM_CALL_GET_SYSTEM_PROPERTY)
        return sim_get_system_property(sim, partition_id, rcx, rdx, r8);
    if ((rcx & HV_HYPERCALL_CALL_CODE_MASK) == HVLOG_SIM_CALL_LOG_SYSTEM_CONFIG)
        return sim_log_system_config(sim, partition_id, vp_index, rcx);
    if (hvlog_engine_hypercall(sim->engine, &caller, &call) == HVLOG_HYPERCALL_GPA_FAULT) {
        hvlog__sim_count_intercept(sim); /* Q-GPA: a memory intercept, no status */
        return HVLOG_SIM_INTERCEPT;
    }
    return call.rax;
}
