/* SPDX-License-Identifier: MIT */
/*
 * The root VM's SynIC MSRs (kvm_internal.h), minimal: the filter that makes
 * the Hyper-V synthetic MSRs exit to user space, and their forwarding to the
 * simulated SynIC (sim.h hvlog_sim_rdmsr/wrmsr: SIMP, SCONTROL, SINT, EOM).
 * The `synic` branch's version (with SINT0 injection) replaces this file.
 */
#include <linux/kvm.h>
#include <stdbool.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/kvm_internal.h"

#define ROOT_MSR_COUNT 256u /* 0x40000000-0x400000FF: Hyper-V's synthetic MSRs */

int hvlog__kvm_root_msr_filter(int vm_fd)
{
    uint8_t deny[ROOT_MSR_COUNT / 8]; /* all clear: every one exits (copied by the ioctl) */
    struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR,
                                 .args = {KVM_MSR_EXIT_REASON_FILTER}};
    struct kvm_msr_filter filter;

    memset(deny, 0, sizeof deny);
    memset(&filter, 0, sizeof filter);
    filter.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
    filter.ranges[0] = (struct kvm_msr_filter_range){
        .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
        .nmsrs = ROOT_MSR_COUNT,
        .base = 0x40000000u,
        .bitmap = deny,
    };
    if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) != 0)
        return -1;
    return ioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &filter);
}

bool hvlog__kvm_root_msr_exit(struct hvlog_sim *sim, uint32_t vp, struct kvm_run *run)
{
    if (run->exit_reason == KVM_EXIT_X86_RDMSR) {
        uint64_t value = 0;

        run->msr.error = hvlog_sim_rdmsr(sim, vp, run->msr.index, &value) != 0;
        run->msr.data = run->msr.error ? 0 : value;
        return true;
    }
    if (run->exit_reason == KVM_EXIT_X86_WRMSR) {
        run->msr.error = hvlog_sim_wrmsr(sim, vp, run->msr.index, run->msr.data) != 0;
        return true;
    }
    return false;
}
