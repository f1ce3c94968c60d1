/* SPDX-License-Identifier: MIT */
/*
 * `hvlog record --from kvm` (record_kvm.c): the LPs whose events are
 * recorded are the vCPUs of a real KVM child VM (hvlog/kvm/kvm.h) instead
 * of the simulator's LP threads. The root is a real KVM guest too
 * (record_kvm_root.h, started by sim_root_open with guest_root set): the
 * guest root, built from the client, drains the buffers in its own VM.
 *
 * cmd_record.c calls the record_lps_* trio for both sources: with @kvm
 * NULL they are the simulator's hvlog_sim_start/_running/_stop.
 */
#ifndef HVLOG_CLI_RECORD_KVM_H
#define HVLOG_CLI_RECORD_KVM_H

#include <stdbool.h>
#include <stddef.h>

#include "hvlog/sim/sim.h"

struct record_kvm;

/** Can `--from kvm` run here? False with one line on stderr saying why
 * (no /dev/kvm, no permission, a capability missing, not built). */
bool record_kvm_usable(void);

/** Start the LPs: the sim's threads running @wl, or with @from_kvm a child
 * VM of one vCPU per LP (@wl's events_per_lp and rate_per_lp become exits
 * per vCPU and exits per second; the rest is the sim's). Returns false
 * with one line on stderr. */
bool record_lps_start(struct hvlog_sim *sim, const struct hvlog_sim_workload *wl, bool from_kvm,
                      struct record_kvm **kvm);
/** True while any LP still runs. */
bool record_lps_running(struct hvlog_sim *sim, struct record_kvm *kvm);
/** Stop the LPs. False, with the reason in @why, when a vCPU had stopped
 * on an exit the VMM did not expect (the trace keeps what it recorded). */
bool record_lps_stop(struct hvlog_sim *sim, struct record_kvm *kvm, char *why, size_t why_size);
/** Close the VM (NULL: nothing). */
void record_kvm_destroy(struct record_kvm *kvm);

#endif /* HVLOG_CLI_RECORD_KVM_H */
