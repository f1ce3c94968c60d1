/* SPDX-License-Identifier: MIT */
/* The KVM host's internals (hvlog/kvm/kvm.h): shared by kvm.c, root_vp.c and guest.c. */
#ifndef HVLOG_KVM_KVM_INTERNAL_H
#define HVLOG_KVM_KVM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/kvm/kvm.h"

/* An error's one line into @why (kvm.c), when the caller gave room for
 * it: every hvlog_kvm_* failure says why this way (kvm.c, root_vp.c). */
void hvlog__kvm_say(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The guest program's bytes and their count (guest.c), hidden in the library. */
extern const uint8_t hvlog__kvm_guest_start[];
extern const uint32_t hvlog__kvm_guest_bytes;

/* The root VP's program (guest.c, root_vp.c) and its fixed GPAs. */
extern const uint8_t hvlog__kvm_root_start[];
extern const uint32_t hvlog__kvm_root_bytes;
#define KVM_ROOT_PML4_GPA 0x1000u
#define KVM_ROOT_PDPT_GPA 0x2000u
#define KVM_ROOT_PD_GPA 0x3000u
#define KVM_ROOT_HCPAGE_GPA 0x4000u /* HVLOG_KVM_HYPERCALL_PAGE_GPA */
#define KVM_ROOT_CODE_GPA 0x5000u
#define KVM_ROOT_TABLE_GPA 0x6000u  /* u64 count, then {rcx, rdx, r8, rax} rows */
#define KVM_ROOT_STACK_GPA 0xF000u

/* Where the VMM writes the mix: eight u32 the program reads each loop. */
#define KVM_GUEST_MIX_GPA 0x800u
/* The child's RAM: 64 KiB at GPA 0 (mix, program). */
#define KVM_GUEST_RAM_BYTES 0x10000u

/* The root VM's SynIC MSRs (root_synic.c; issue 15). A minimal version:
 * the `synic` branch brings the full one (SINT0 injection) with these two
 * signatures. */
struct kvm_run;
/* Make the Hyper-V synthetic MSRs (0x40000000-0x400000FF) exit to user
 * space in VM @vm_fd. 0, or -1 with errno. */
int hvlog__kvm_root_msr_filter(int vm_fd);
/* Answer a KVM_EXIT_X86_RDMSR/WRMSR of root VP @vp from the simulated
 * SynIC (hvlog_sim_rdmsr/wrmsr; #GP when they refuse). True when @run was
 * such an exit. */
bool hvlog__kvm_root_msr_exit(struct hvlog_sim *sim, uint32_t vp, struct kvm_run *run);

/* The guest root's flat image (guest_root_image.c, from src/guest/root.c). */
extern const uint8_t hvlog__kvm_guest_root_start[];
extern const uint32_t hvlog__kvm_guest_root_bytes;

#endif /* HVLOG_KVM_KVM_INTERNAL_H */
