/* SPDX-License-Identifier: MIT */
/*
 * The simulated host with this process as its root partition, set up the
 * one way `hvlog record` and `hvlog top` both need (sim_root.c): the host,
 * SINT0 on every root VP, the root ops, the client, and the prepared
 * groups (spec §9: Initialize, then SetSources).
 */
#ifndef HVLOG_CLI_SIM_ROOT_H
#define HVLOG_CLI_SIM_ROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/client/client.h"
#include "hvlog/sim/sim.h"
#include "hvlog/trace/trace.h"

struct sim_root_config {
    uint32_t lps, domains, children, threads;
    uint64_t seed;
    enum hvlog_abi_profile abi;
    uint32_t buffers, pages, threshold; /* LocalDiagnostics' geometry */
    uint32_t basis, mode;
    bool global;                        /* prepare GlobalSystemEvents too */
    uint64_t local_sources, global_sources; /* the masks SetSources sends */
    bool anchor; /* SystemTime: FILETIME now before each Initialize, else 0 */
    /* The root runs as a real KVM guest (record_kvm_root.h: `record --from
     * kvm`) instead of the client in this process. */
    bool guest_root;
};

struct record_kvm_root;

struct sim_root {
    struct hvlog_sim *sim;
    struct hvlog_client *client;   /* the in-process root, or NULL with a guest root */
    struct record_kvm_root *guest; /* the guest root (guest_root), or NULL */
    struct hvlog_root_ops ops; /* the client points here: do not move */
    struct hvlog_group_params params[2]; /* by type, as sent */
};

/* sim_root_open - set up @r as @c says. False after one line in @why
 * (what is set up is left in @r for sim_root_close). */
bool sim_root_open(const struct sim_root_config *c, struct sim_root *r, char *why,
                   size_t why_len);
/* sim_root_close - the client (or the guest root), then the host; @r zeroed. */
void sim_root_close(struct sim_root *r);

/* sim_root_lp_counts - the host section's per-LP rows (the simulator's
 * truths, LocalDiagnostics) for LPs 0..@lps-1 into @rows, read now: final
 * once the LPs stopped, a moving point while they run. */
void sim_root_lp_counts(struct hvlog_sim *sim, uint32_t lps, struct hvlog_trace_lp *rows);
/* The root's side of a recording, whichever root it is. */
/* sim_root_poll - hand what is ready to @sink: the client polls every VP;
 * a guest root's buffers are taken from its queue. Returns how many
 * messages (client) or buffers (guest) were handled. */
uint32_t sim_root_poll(struct sim_root *r, const struct hvlog_client_sink *sink, void *arg);
/* sim_root_conclude - §9 Conclude of every prepared group, draining into
 * @sink. False with @why when a guest root or its VM failed. */
bool sim_root_conclude(struct sim_root *r, const struct hvlog_client_sink *sink, void *arg,
                       char *why, size_t why_len);
/* sim_root_stats - the root's client counts for @type. */
void sim_root_stats(const struct sim_root *r, uint32_t type, struct hvlog_client_stats *out);
/* sim_root_init_reference_time - the reference time read just before
 * @type's Initialize (hvlog_client_init_reference_time). */
bool sim_root_init_reference_time(const struct sim_root *r, uint32_t type, uint64_t *out);

#endif
