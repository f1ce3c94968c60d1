/* SPDX-License-Identifier: MIT */
/*
 * `hvlog record --from kvm`'s root (record_kvm_root.c): the root partition
 * runs as a real KVM guest (hvlog/kvm/kvm.h hvlog_kvm_root_*), the guest
 * root built from hvlog's client. It prepares the groups, drains the ready
 * lists and hands each released buffer to the VMM through its ring; the
 * VMM's thread queues them, and the recording thread takes them from the
 * queue (record_kvm_root_poll) into the trace, so that the trace writer is
 * only ever used by the recording thread. sim_root.c calls these in place
 * of the in-process client when sim_root_config.guest_root is set.
 */
#ifndef HVLOG_CLI_RECORD_KVM_ROOT_H
#define HVLOG_CLI_RECORD_KVM_ROOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/client/client.h"
#include "hvlog/sim/sim.h"

struct record_kvm_root;

/* One group as the guest root is to prepare it. */
struct record_kvm_root_group {
    bool enabled;
    struct hvlog_group_params params;
    uint64_t sources;
};

/** Start the root VM over @sim (created with room for the guest:
 * record_kvm_root_ram_pages) and wait until the guest has prepared
 * @groups[type] and turned their sources on. False with @why. */
bool record_kvm_root_start(struct hvlog_sim *sim, enum hvlog_abi_profile abi,
                           const struct record_kvm_root_group groups[2],
                           struct record_kvm_root **out, char *why, size_t why_size);
/** The root fixed RAM, in pages, the sim must have (0 without KVM). */
uint32_t record_kvm_root_ram_pages(void);
/** Hand the buffers queued so far to @sink (buffer; corrupt for one that
 * fails the VMM's own check). Returns how many. Recording thread. */
uint32_t record_kvm_root_poll(struct record_kvm_root *g, const struct hvlog_client_sink *sink,
                              void *arg);
/** Tell the guest to conclude its groups, wait for it, and hand the rest
 * to @sink. False with @why when the guest or its VM failed. */
bool record_kvm_root_stop(struct record_kvm_root *g, const struct hvlog_client_sink *sink,
                          void *arg, char *why, size_t why_size);
/** What the guest's client counted for @type (as hvlog_client_stats). */
void record_kvm_root_stats(const struct record_kvm_root *g, uint32_t type,
                           struct hvlog_client_stats *out);
/** The reference time the guest read just before @type's Initialize. */
bool record_kvm_root_reference_time(const struct record_kvm_root *g, uint32_t type,
                                    uint64_t *out);
/** Close the root VM (stopping it first) and free the queue. NULL: nothing. */
void record_kvm_root_destroy(struct record_kvm_root *g);

#endif /* HVLOG_CLI_RECORD_KVM_ROOT_H */
