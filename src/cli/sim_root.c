/* SPDX-License-Identifier: MIT */
/*
 * One set-up of the simulated host and its root client for `hvlog record`
 * and `hvlog top` (sim_root.h). Record's order of calls is kept: both
 * groups are prepared before any SetSources, so that each group's
 * SystemTime (taken just before its Initialize) and the reference counter
 * the client reads right after it stay a pair: the trace's wall-clock
 * anchor (docs/trace-format.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/record_kvm_root.h"
#include "cli/sim_root.h"
#include "hvlog/abi/calls.h"
#include "hvlog/hvlog.h"

/* Windows FILETIME now: the Initialize SystemTime a root driver passes. */
static uint64_t filetime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return hvlog_unix_to_filetime((uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec);
}

static struct hvlog_group_params local_params(const struct sim_root_config *c)
{
    return (struct hvlog_group_params){HvEventLogTypeLocalDiagnostics, c->buffers, c->pages,
                                       c->threshold, c->basis, c->anchor ? filetime_now() : 0, 0,
                                       c->mode};
}

/* The root as a KVM guest: it prepares the groups itself, in the order the
 * client does here (both Initialize before any SetSources). One SystemTime
 * per group, taken now: the guest reads its reference time a moment later,
 * just before each Initialize (the VM's set-up in between). */
static bool guest_open(const struct sim_root_config *c, struct sim_root *r, char *why,
                       size_t why_len)
{
    struct record_kvm_root_group groups[2];

    memset(groups, 0, sizeof groups);
    r->params[HvEventLogTypeLocalDiagnostics] = local_params(c);
    groups[HvEventLogTypeLocalDiagnostics] = (struct record_kvm_root_group){
        true, r->params[HvEventLogTypeLocalDiagnostics], c->local_sources};
    if (c->global) {
        r->params[HvEventLogTypeGlobalSystemEvents] = (struct hvlog_group_params){
            HvEventLogTypeGlobalSystemEvents, 4, c->pages, 1, c->basis,
            c->anchor ? filetime_now() : 0, 0, c->mode};
        groups[HvEventLogTypeGlobalSystemEvents] = (struct record_kvm_root_group){
            true, r->params[HvEventLogTypeGlobalSystemEvents], c->global_sources};
    }
    if (!record_kvm_root_start(r->sim, c->abi, groups, &r->guest, why, why_len))
        return false;
    return true;
}

bool sim_root_open(const struct sim_root_config *c, struct sim_root *r, char *why,
                   size_t why_len)
{
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct hvlog_client_config cc;
    char name[HVLOG_STATUS_NAME_MAX];
    hv_status_t st;

    memset(r, 0, sizeof *r);
    /* A guest root's program and pages live in domain 0's fixed RAM. */
    if (c->guest_root && cfg.root_ram_pages < record_kvm_root_ram_pages())
        cfg.root_ram_pages = record_kvm_root_ram_pages();
    /* The host: a pool in each domain big enough for both groups. */
    cfg.lps = c->lps;
    cfg.domains = c->domains;
    cfg.children = c->children;
    cfg.seed = c->seed;
    cfg.pool_pages = (c->buffers + 4) * c->pages + 8;
    cfg.threads = c->threads;
    /* Domain 0's fixed RAM holds one SIM page per VP (sim.h). */
    if (cfg.root_ram_pages < 1 + HVLOG_SIM_ROOT_SCRATCH_PAGES + c->lps)
        cfg.root_ram_pages = 1 + HVLOG_SIM_ROOT_SCRATCH_PAGES + c->lps;
    cfg.profile = hvlog_profile_preset(c->abi);
    if (hvlog_sim_create(&cfg, &r->sim) != 0) {
        snprintf(why, why_len, "cannot create the simulated host (%" PRIu32 " LPs, %" PRIu32
                               " domains)", c->lps, c->domains);
        return false;
    }
    hvlog_sim_root_ops(r->sim, &r->ops);
    if (c->guest_root)
        return guest_open(c, r, why, why_len);
    for (uint32_t vp = 0; vp < c->lps; vp++)
        hvlog_sim_synic_enable(r->sim, vp, 0x40);
    cc = (struct hvlog_client_config){.ops = &r->ops, .ctx = r->sim, .abi = c->abi};
    if (hvlog_client_create(&cc, &r->client) != 0) {
        snprintf(why, why_len, "out of memory");
        return false;
    }
    r->params[HvEventLogTypeLocalDiagnostics] = local_params(c);
    st = hvlog_client_prepare(r->client, &r->params[HvEventLogTypeLocalDiagnostics]);
    if (st == HV_STATUS_SUCCESS && c->global) {
        r->params[HvEventLogTypeGlobalSystemEvents] = (struct hvlog_group_params){
            HvEventLogTypeGlobalSystemEvents, 4, c->pages, 1, c->basis,
            c->anchor ? filetime_now() : 0, 0, c->mode};
        st = hvlog_client_prepare(r->client, &r->params[HvEventLogTypeGlobalSystemEvents]);
    }
    if (st != HV_STATUS_SUCCESS) {
        snprintf(why, why_len, "preparing the buffer groups failed with %s",
                 hvlog_status_format(st, name, sizeof name));
        return false;
    }
    st = hvlog_client_set_sources(r->client, HvEventLogTypeLocalDiagnostics, c->local_sources);
    if (st == HV_STATUS_SUCCESS && c->global)
        st = hvlog_client_set_sources(r->client, HvEventLogTypeGlobalSystemEvents,
                                      c->global_sources);
    if (st != HV_STATUS_SUCCESS) {
        snprintf(why, why_len, "enabling the sources failed with %s",
                 hvlog_status_format(st, name, sizeof name));
        return false;
    }
    return true;
}

void sim_root_close(struct sim_root *r)
{
    record_kvm_root_destroy(r->guest); /* the VM before the memory it maps */
    hvlog_client_destroy(r->client);
    hvlog_sim_destroy(r->sim);
    memset(r, 0, sizeof *r);
}

void sim_root_lp_counts(struct hvlog_sim *sim, uint32_t lps, struct hvlog_trace_lp *rows)
{
    for (uint32_t lp = 0; lp < lps; lp++) {
        struct hvlog_sim_lp_counts c;
        struct hvlog_scope_stats sc = {0};

        hvlog_sim_lp_counts(sim, lp, &c);
        /* Cannot fail: the type is valid and lp < the engine's LP count. */
        if (hvlog_engine_scope_stats(hvlog_sim_engine(sim), HvEventLogTypeLocalDiagnostics, lp,
                                     &sc) != 0)
            memset(&sc, 0, sizeof(sc));
        /* Per LP means LocalDiagnostics, whose scopes are the LPs: there
         * the losses by cause add up to lost. (The global type's one scope
         * loses for the whole machine; its count is in the buffers' EventsLost.) */
        rows[lp] = (struct hvlog_trace_lp){
            .lp = lp,
            .logged = c.logged[HvEventLogTypeLocalDiagnostics],
            .recorded = c.recorded[HvEventLogTypeLocalDiagnostics],
            .lost = c.lost[HvEventLogTypeLocalDiagnostics],
            .lost_no_buffer = sc.events_lost_no_buffer,
            .lost_too_large = sc.events_lost_too_large,
            /* Circular mode (§11.1): entries written (so in recorded), then
             * overwritten when the scope reused a Complete buffer. Not in the
             * trace and not lost (no EventsLost counts them): logged = in the
             * trace + lost + overwritten. */
            .overwritten = sc.events_overwritten,
        };
    }
}

uint32_t sim_root_poll(struct sim_root *r, const struct hvlog_client_sink *sink, void *arg)
{
    uint32_t handled = 0;

    if (r->guest)
        return record_kvm_root_poll(r->guest, sink, arg);
    for (uint32_t vp = 0; r->client && vp < r->ops.vp_count; vp++)
        handled += hvlog_client_poll(r->client, vp, sink, arg);
    return handled;
}

bool sim_root_conclude(struct sim_root *r, const struct hvlog_client_sink *sink, void *arg,
                       char *why, size_t why_len)
{
    if (r->guest)
        return record_kvm_root_stop(r->guest, sink, arg, why, why_len);
    /* LocalDiagnostics first, as prepared; only a prepared group (its
     * params carry its buffers). */
    static const uint32_t order[2] = {HvEventLogTypeLocalDiagnostics,
                                      HvEventLogTypeGlobalSystemEvents};

    for (uint32_t k = 0; r->client && k < 2; k++) {
        if (r->params[order[k]].buffer_count)
            hvlog_client_conclude(r->client, order[k], sink, arg);
    }
    return true;
}

void sim_root_stats(const struct sim_root *r, uint32_t type, struct hvlog_client_stats *out)
{
    if (r->guest)
        record_kvm_root_stats(r->guest, type, out);
    else
        hvlog_client_stats(r->client, type, out);
}

bool sim_root_init_reference_time(const struct sim_root *r, uint32_t type, uint64_t *out)
{
    if (r->guest)
        return record_kvm_root_reference_time(r->guest, type, out);
    return hvlog_client_init_reference_time(r->client, type, out);
}
