/* SPDX-License-Identifier: MIT */
/* The root partition's side of the simulated host as a struct hvlog_root_ops. */
#include "hvlog/abi/hypercall.h"
#include "hvlog/abi/synic.h"
#include "hvlog/sim/sim.h"
#include "sim/sim_internal.h"

static uint64_t root_hypercall(void *ctx, uint32_t vp, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    return hvlog_sim_hypercall(ctx, HVLOG_SIM_ROOT_ID, vp, rcx, rdx, r8);
}

static uint64_t root_scratch(void *ctx, uint32_t index, uint8_t **hva)
{
    return hvlog_sim_root_page(ctx, index, hva);
}

static const uint8_t *root_view(void *ctx, uint64_t gpa, uint32_t len)
{
    return hvlog_sim_root_view(ctx, gpa, len);
}

static uint8_t *root_message_page(void *ctx, uint32_t vp)
{
    return hvlog_sim_sim_page(ctx, vp);
}

static void root_eom(void *ctx, uint32_t vp)
{
    hvlog_sim_wrmsr(ctx, vp, HV_X64_MSR_EOM, 0);
}

static int root_deposit(void *ctx, uint32_t domain, uint32_t pages)
{
    return hvlog_sim_deposit(ctx, domain, pages);
}

/* HV_X64_MSR_TIME_REF_COUNT: the simulated machine has one reference
 * clock, the one its engine stamps with, read alike on every VP. */
static uint64_t root_reference_time(void *ctx, uint32_t vp)
{
    struct hvlog_sim *sim = ctx;

    (void)vp;
    return sim->ops.ref_time_100ns(sim);
}

void hvlog_sim_root_ops(struct hvlog_sim *sim, struct hvlog_root_ops *ops)
{
    *ops = (struct hvlog_root_ops){
        .hypercall = root_hypercall,
        .scratch_page = root_scratch,
        .view = root_view,
        .message_page = root_message_page,
        .eom = root_eom,
        .deposit = root_deposit,
        .read_reference_time = root_reference_time,
        .vp_count = hvlog_sim_lp_count(sim),
        .domain_count = hvlog_sim_domain_count(sim),
    };
}
