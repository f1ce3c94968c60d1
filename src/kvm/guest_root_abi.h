/* SPDX-License-Identifier: MIT */
/*
 * The contract between the VMM (src/kvm/root_vm.c) and the guest root
 * program (src/guest/root.c): where things are in the root VM's memory and
 * what the shared control page says. Constants only, so that both sides,
 * one hosted and one freestanding, include it.
 *
 * The root VM's memory is the simulated machine's root GPA space (sim.h:
 * hvlog_sim_root_memory), GPA = SPA. Its first pages are the sim's (page 0
 * unused, the scratch pages the VMM names below, the default SIM pages);
 * the guest's own area starts at ROOT_GUEST_BASE, in domain 0's fixed RAM,
 * which the VMM makes big enough (ROOT_GUEST_RAM_PAGES):
 *
 *   +0x000000  PML4, PDPT, 4 PDs: 2 MiB pages identity-mapping 4 GiB
 *   +0x006000  the hypercall page: out %al, $ROOT_PORT_HYPERCALL; ret
 *   +0x007000  the control page (ROOT_CTL_*)
 *   +0x008000  the SIM page the guest enables for its VP 0 (SIMP)
 *   +0x010000  the program: text, rodata, data, bss (guest_root.ld)
 *   +0x120000  top of the stack (64 KiB below)
 *   +0x200000  the heap the client's memory comes from (4 MiB)
 *   +0x600000  the byte ring to the VMM (4 MiB)
 *
 * The paravirtual channel: the guest appends records {u32 type, u32 index,
 * u32 length, u32 0} + length bytes (16-aligned) to the ring at offset
 * ROOT_CTL_RING_USED and rings the doorbell (out %al, $ROOT_PORT_DOORBELL,
 * AL = ROOT_BELL_RECORDS) when the next record would not fit and after each
 * round of draining. The doorbell is a VM exit, so when `out` returns the
 * VMM has consumed every record and set ROOT_CTL_RING_USED back to 0.
 */
#ifndef HVLOG_KVM_GUEST_ROOT_ABI_H
#define HVLOG_KVM_GUEST_ROOT_ABI_H

#define ROOT_GUEST_BASE 0x1000000ull /* 16 MiB: above 2048 default SIM pages */
#define ROOT_PT_GPA (ROOT_GUEST_BASE + 0x0000u)
#define ROOT_HCPAGE_GPA (ROOT_GUEST_BASE + 0x6000u)
#define ROOT_CTL_GPA (ROOT_GUEST_BASE + 0x7000u)
#define ROOT_SIMP_GPA (ROOT_GUEST_BASE + 0x8000u)
#define ROOT_CODE_GPA (ROOT_GUEST_BASE + 0x10000u) /* = guest_root.ld's origin */
#define ROOT_CODE_MAX 0x100000u                    /* the program's bytes, at most */
#define ROOT_STACK_TOP (ROOT_GUEST_BASE + 0x120000u)
#define ROOT_HEAP_GPA (ROOT_GUEST_BASE + 0x200000u)
#define ROOT_HEAP_BYTES 0x400000u
#define ROOT_RING_GPA (ROOT_GUEST_BASE + 0x600000u)
#define ROOT_RING_BYTES 0x400000u
#define ROOT_GUEST_END (ROOT_RING_GPA + ROOT_RING_BYTES)
/* Domain 0's fixed RAM, in pages, that holds all of the above. */
#define ROOT_GUEST_RAM_PAGES (ROOT_GUEST_END / 4096u)

#define ROOT_PORT_HYPERCALL 0x6Bu /* HVLOG_KVM_HYPERCALL_PORT */
#define ROOT_PORT_DOORBELL 0x6Cu
#define ROOT_BELL_RECORDS 1u  /* the ring holds records: consume them */
#define ROOT_BELL_PREPARED 2u /* the groups are prepared and their sources on */
#define ROOT_BELL_DONE 3u     /* concluded (or failed): the guest HLTs for good */
#define ROOT_RECORD_HEADER 16u

#define ROOT_SINT0_VECTOR 0x40u

/* The control page: little-endian u64s at these offsets. */
#define ROOT_CTL_MAGIC 0x00u /* ROOT_MAGIC, written by the VMM */
#define ROOT_CTL_VPS 0x08u
#define ROOT_CTL_DOMAINS 0x10u
#define ROOT_CTL_ABI 0x18u
#define ROOT_CTL_SCRATCH0 0x20u /* GPA of scratch page 0 (input) */
#define ROOT_CTL_SCRATCH1 0x28u /* GPA of scratch page 1 (output) */
#define ROOT_CTL_ROOT_BYTES 0x30u /* the root's GPA space: views stay below */
/* Per type t (0 GlobalSystemEvents, 1 LocalDiagnostics) at + 0x40 * t:
 * what the VMM asks for ... */
#define ROOT_CTL_GROUP 0x40u
#define ROOT_CTL_G_ENABLED 0x00u /* 0: the guest leaves this type alone */
#define ROOT_CTL_G_BUFFERS 0x08u
#define ROOT_CTL_G_PAGES 0x10u
#define ROOT_CTL_G_THRESHOLD 0x18u
#define ROOT_CTL_G_BASIS 0x20u
#define ROOT_CTL_G_MODE 0x28u
#define ROOT_CTL_G_SYSTEM_TIME 0x30u
#define ROOT_CTL_G_SOURCES 0x38u
#define ROOT_CTL_GROUP_BYTES 0x40u
/* VMM -> guest: conclude and stop (non-zero). */
#define ROOT_CTL_STOP 0xC0u
/* VMM -> guest: store into LocalDiagnostics buffer 0's header page once. */
#define ROOT_CTL_POKE 0xE8u
/* VMM -> guest: rdmsr ROOT_UNDEFINED_MSR before preparing (a #GP). */
#define ROOT_CTL_BAD_MSR 0x38u
#define ROOT_UNDEFINED_MSR 0x400000FFu
/* VMM -> guest: on the stop word, loop for ever without an exit instead of
 * concluding (a test of the VMM's stop deadline). */
#define ROOT_CTL_SPIN_AT_STOP 0x1C0u
/* VMM -> guest: name the Nth buffer handed over (1-based; 0: none) by a
 * wrong index in its ring record (a test of the VMM's own check). */
#define ROOT_CTL_MISNAME 0x1C8u
/* Guest -> VMM: that store was refused (the byte read back unchanged). */
#define ROOT_CTL_POKE_SAME 0xF0u
/* Guest -> VMM. */
#define ROOT_CTL_RING_USED 0xC8u
#define ROOT_CTL_STATUS 0xD0u   /* the first failing hv_status_t, or 0 */
#define ROOT_CTL_STEP 0xD8u     /* which step it failed in (ROOT_STEP_*) */
#define ROOT_CTL_POLLS 0xE0u    /* rounds of the loop that drained (one per wake by SINT0) */
#define ROOT_CTL_INTERRUPTS 0xF8u /* entries of the SINT0 handler */
/* Per type t at ROOT_CTL_RESULT + 0x60 * t: the client's results. */
#define ROOT_CTL_RESULT 0x100u
#define ROOT_CTL_R_REF_KNOWN 0x00u
#define ROOT_CTL_R_REF_TIME 0x08u /* reference time read just before Initialize */
#define ROOT_CTL_R_MESSAGES 0x10u
#define ROOT_CTL_R_BUFFERS 0x18u
#define ROOT_CTL_R_ENTRIES 0x20u
#define ROOT_CTL_R_EVENTS_LOST 0x28u
#define ROOT_CTL_R_CORRUPT 0x30u
#define ROOT_CTL_R_LONGEST_CHAIN 0x38u
#define ROOT_CTL_R_RELEASE_FAILURES 0x40u
#define ROOT_CTL_R_BYTES 0x48u
#define ROOT_CTL_RESULT_BYTES 0x60u

#define ROOT_MAGIC 0x544F4F52474C5648ull /* "HVLGROOT" */

#define ROOT_STEP_NONE 0u
#define ROOT_STEP_MAGIC 1u
#define ROOT_STEP_SYNIC 2u
#define ROOT_STEP_CLIENT 3u
#define ROOT_STEP_PREPARE 4u
#define ROOT_STEP_SOURCES 5u
#define ROOT_STEP_CONCLUDE 6u
#define ROOT_STEP_FAULT 7u /* #GP: the status is the faulting RIP */

#endif /* HVLOG_KVM_GUEST_ROOT_ABI_H */
