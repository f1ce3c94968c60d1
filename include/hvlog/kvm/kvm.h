/* SPDX-License-Identifier: MIT */
/*
 * The KVM host (issue 15 item 2): children are real virtual machines, and
 * their VM exits are the events.
 *
 * A child is one KVM VM with N vCPUs; vCPU n is LP n of the simulated
 * host it is attached to, and runs on a thread of its own (pinned to a CPU
 * where the affinity mask allows). Every vCPU runs the same small guest
 * program of ours (src/kvm/guest.c: 32-bit protected mode, flat, no
 * paging), which loops over a mix of exiting instructions:
 *
 *   kind          instruction                          exit (KVM)         entry (§4.8)
 *   io_out        out %eax,(%dx), port 0x510           KVM_EXIT_IO        HV_TR_IM_IO_PORT_WRITE
 *   io_in         in (%dx),%eax, port 0x511            KVM_EXIT_IO        HV_TR_IM_IO_PORT_READ
 *   mmio_write    store to GPA 0x100000 (no memory)    KVM_EXIT_MMIO      HV_TR_IM_MEMORY_INTERCEPT
 *   mmio_read     load from GPA 0x100000               KVM_EXIT_MMIO      HV_TR_IM_MEMORY_INTERCEPT
 *   ro_write      store to GPA 0x200000, a             KVM_EXIT_MMIO      HV_TR_IM_MEMORY_INTERCEPT
 *                 KVM_MEM_READONLY slot (reads of it do not exit)
 *   msr_read      rdmsr 0x40000020 (TIME_REF_COUNT)    KVM_EXIT_X86_RDMSR HV_TR_IM_MSR_READ
 *   msr_write     wrmsr 0x40000000 (GUEST_OS_ID)       KVM_EXIT_X86_WRMSR HV_TR_IM_MSR_WRITE
 *   hlt           hlt (no in-kernel irqchip: exits)    KVM_EXIT_HLT       HV_TR_IM_HLT
 *
 * The two MSRs exit because an MSR filter (KVM_X86_SET_MSR_FILTER) denies
 * the Hyper-V synthetic range 0x40000000-0x400000FF to the guest, with
 * KVM_CAP_X86_USER_SPACE_MSR sending filtered accesses to user space.
 *
 * The VMM's exit loop logs each exit on its LP through hvlog_log() (by
 * hvlog_sim_log(), which runs it under the LP's mailbox lock so that the
 * engine's run_on_lp is served between two exits, Q-CONC), as
 * LocalDiagnostics entries of source group HV_TR_GROUP_IM, with the
 * catalogue's parameters as little-endian u64s: the RIP KVM reports at the
 * exit, and the port and value, the GPA and access (0 read, 1 write), or
 * the MSR index and value. Context is the LP's sequence number of logged
 * exits, so a reader sees a gap of exactly the events lost.
 *
 * The LPs are the vCPU threads. The root partition's hypervisor side is
 * the simulated host's (pool, overlays, SynIC); its driver side runs
 * either in the caller's process (the client over hvlog_sim_root_ops), or
 * as a real guest (stage 2, hvlog_kvm_root_* below: the guest root in a
 * root VM whose memory is the root's GPA space). hvlog_kvm_root_calls is
 * the transport alone: hypercalls from a real vCPU through the page.
 *
 * Layer: kvm uses sim, engine and abi. Built only where <linux/kvm.h> exists.
 */
#ifndef HVLOG_KVM_KVM_H
#define HVLOG_KVM_KVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/abi/profile.h"
#include "hvlog/sim/sim.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

struct hvlog_kvm;

/* The guest program's exiting operations, in its loop order. */
enum hvlog_kvm_exit_kind {
    HVLOG_KVM_IO_OUT = 0,
    HVLOG_KVM_IO_IN = 1,
    HVLOG_KVM_MMIO_WRITE = 2,
    HVLOG_KVM_MMIO_READ = 3,
    HVLOG_KVM_RO_WRITE = 4,
    HVLOG_KVM_MSR_READ = 5,
    HVLOG_KVM_MSR_WRITE = 6,
    HVLOG_KVM_HLT = 7,
};
#define HVLOG_KVM_EXIT_KINDS 8u

/* The guest's fixed addresses (guest-physical) and numbers. */
#define HVLOG_KVM_PORT_OUT 0x510u
#define HVLOG_KVM_PORT_IN 0x511u
#define HVLOG_KVM_MMIO_GPA 0x100000ull
#define HVLOG_KVM_RO_GPA 0x200000ull
#define HVLOG_KVM_MSR_READ_INDEX 0x40000020u  /* HV_X64_MSR_TIME_REF_COUNT */
#define HVLOG_KVM_MSR_WRITE_INDEX 0x40000000u /* HV_X64_MSR_GUEST_OS_ID */
#define HVLOG_KVM_CODE_GPA 0x1000ull          /* the program's first byte */
/* HV_TR_IM_MEMORY_INTERCEPT's intercept_type (Hyper-V's access types). */
#define HVLOG_KVM_ACCESS_READ 0u
#define HVLOG_KVM_ACCESS_WRITE 1u

#define HVLOG_KVM_MAX_VCPUS HVLOG_SIM_MAX_LPS

struct hvlog_kvm_config {
    uint32_t vcpus;        /* = the sim's LPs; 1..HVLOG_KVM_MAX_VCPUS */
    /* One loop of the guest program: mix[kind] operations of each kind,
     * in enum order. At least one non-zero (a loop with no exit would
     * never give the VMM back its vCPU). Each at most 1000. */
    uint32_t mix[HVLOG_KVM_EXIT_KINDS];
    uint64_t exits_per_vcpu; /* stop a vCPU after this many exits (0 = until stopped) */
    uint32_t rate_per_vcpu;  /* exits per second per vCPU, 0 = as fast as KVM runs */
    bool no_log;             /* the bench's baseline: run the exit loop, log nothing */
    bool no_pin;             /* leave the vCPU threads unpinned */
    bool timing;             /* the bench's split: time KVM_RUN and the logging (counts) */
};

/** hvlog_kvm_config_default - @vcpus vCPUs; a mix of 4 io_out, 2 io_in,
 * 2 mmio_write, 2 mmio_read, 1 ro_write, 2 msr_read, 2 msr_write, 1 hlt;
 * until stopped, flat out. */
HVLOG_API struct hvlog_kvm_config hvlog_kvm_config_default(uint32_t vcpus);

/**
 * hvlog_kvm_probe - can this process run the KVM host? Opens /dev/kvm and
 * checks API version 12 and the capabilities the host needs
 * (KVM_CAP_READONLY_MEM, KVM_CAP_X86_USER_SPACE_MSR, KVM_CAP_X86_MSR_FILTER).
 * Returns 0, or -1 with a one-line reason in @why. Closes what it opened.
 */
HVLOG_API int hvlog_kvm_probe(char *why, size_t why_size);

/**
 * hvlog_kvm_create - build the child VM for @sim: the VM, its memory
 * (64 KiB of RAM holding the program, the read-only page), the MSR filter
 * and @config->vcpus vCPUs, which must equal hvlog_sim_lp_count(@sim).
 * The sim must not run LP threads of its own (hvlog_sim_start): the vCPUs
 * are its LPs. Nothing runs yet. Returns 0, or -1 with a reason in @why
 * (nothing is left open). @sim must outlive the child.
 */
HVLOG_API int hvlog_kvm_create(struct hvlog_sim *sim, const struct hvlog_kvm_config *config,
                               struct hvlog_kvm **out, char *why, size_t why_size);

/** hvlog_kvm_start - start one thread per vCPU. Returns 0, or -1 (already
 * started, or a thread could not start: those that did are stopped). */
HVLOG_API int hvlog_kvm_start(struct hvlog_kvm *kvm);
/** hvlog_kvm_stop - ask the vCPU threads to leave their exit loop (each
 * finishes the exit in hand) and join them. No-op when none run. */
HVLOG_API void hvlog_kvm_stop(struct hvlog_kvm *kvm);
/** hvlog_kvm_running - true while any vCPU thread is still in its loop. */
HVLOG_API bool hvlog_kvm_running(struct hvlog_kvm *kvm);
/** hvlog_kvm_destroy - stop, then close every vCPU, the VM and /dev/kvm
 * and unmap the memory. NULL is a no-op. */
HVLOG_API void hvlog_kvm_destroy(struct hvlog_kvm *kvm);

/**
 * hvlog_kvm_error - why a vCPU stopped on its own before its exit budget
 * (an exit the VMM does not expect, KVM_RUN failing): a one-line reason,
 * or NULL when none did. Valid until destroy; read it after stop.
 */
HVLOG_API const char *hvlog_kvm_error(struct hvlog_kvm *kvm);

/**
 * hvlog_kvm_gpa_read - copy [gpa, gpa + len) of the child's memory (its
 * RAM, or the read-only page) as the VMM sees it, e.g. to show that the
 * guest's stores to the read-only slot changed nothing. Returns 0, or -1
 * when the range is not inside one of the two. Any thread.
 */
HVLOG_API int hvlog_kvm_gpa_read(struct hvlog_kvm *kvm, uint64_t gpa, void *dst, uint32_t len);

/* What one vCPU did. */
struct hvlog_kvm_counts {
    uint64_t exits[HVLOG_KVM_EXIT_KINDS]; /* handled exits, by kind */
    uint64_t exits_total;
    uint64_t logged;   /* hvlog_log() calls whose sources were enabled */
    uint64_t recorded;
    uint64_t lost;     /* counted in EventsLost (§7.4) */
    uint64_t dropped;  /* sources disabled: not a loss */
    /* With config.timing only (CLOCK_MONOTONIC, ns summed over the exits):
     * inside KVM_RUN (guest entry, the exit, and back to user space), and
     * inside the logging call. */
    uint64_t run_ns;
    uint64_t log_ns;
};
/** Counts of vCPU @vcpu (zeros for a bad index): a recent value while it
 * runs, exact after stop. Any thread. */
HVLOG_API void hvlog_kvm_counts(struct hvlog_kvm *kvm, uint32_t vcpu,
                                struct hvlog_kvm_counts *out);

/* ---- stage 2, first step: the root's hypercalls trap from a real vCPU ---- */

/* The hypercall page the VMM writes into the root VM (Hyper-V's
 * HV_X64_MSR_HYPERCALL page): `out %al, $HVLOG_KVM_HYPERCALL_PORT; ret`.
 * The port form with an immediate touches neither RCX, RDX nor R8. */
#define HVLOG_KVM_HYPERCALL_PAGE_GPA 0x4000ull
#define HVLOG_KVM_HYPERCALL_PORT 0x6Bu
#define HVLOG_KVM_ROOT_MAX_CALLS 64u

/* One hypercall: the three input registers, and RAX as the guest saw it. */
struct hvlog_kvm_call {
    uint64_t rcx, rdx, r8;
    uint64_t rax; /* out */
};

/**
 * hvlog_kvm_root_calls - issue @count hypercalls (1..HVLOG_KVM_ROOT_MAX_CALLS)
 * from a real vCPU acting as root VP @vp of @sim. A one-vCPU VM in 64-bit
 * long mode runs a program of ours that, per call, loads RCX, RDX and R8 and
 * does `call *page` on the hypercall page the VMM wrote, as Linux's
 * hv_do_hypercall does, then stores RAX. The page's `out` exits; the VMM
 * reads the registers (KVM_GET_REGS), runs hvlog_sim_hypercall(@sim,
 * HVLOG_SIM_ROOT_ID, @vp, rcx, rdx, r8) and writes RAX (KVM_SET_REGS);
 * `ret` returns to the program. Fills @calls[i].rax with what the guest
 * stored. Returns 0, or -1 with the reason in @why (nothing left open).
 *
 * Only the transport is real so far: a memory-convention call's GPAs name
 * the simulated root's RAM, not this VM's, so meaningful calls are the
 * fast ones (Finalize, Create, Delete, Unmap, Release, Flush, and
 * SetSources in the 2013 profile). hvlog_kvm_root_start runs a root VM
 * whose memory is the root's.
 */
HVLOG_API int hvlog_kvm_root_calls(struct hvlog_sim *sim, uint32_t vp, struct hvlog_kvm_call *calls,
                                   uint32_t count, char *why, size_t why_size);


/* ---- stage 2: the root is a real guest (src/kvm/root_vm.c) ---- */

/*
 * The root VM: one vCPU, VP 0 of the root partition, running the guest root
 * (src/guest/root.c), a freestanding program built from hvlog's own root
 * client. Its memory is the simulated machine's root GPA space itself
 * (hvlog_sim_root_memory): root RAM as ordinary memory slots, each mapped
 * buffer's pages as KVM_MEM_READONLY slots (a guest store exits and is
 * refused as the §5.5 intercept: hvlog_sim_gpa_write counts it), pool
 * pages not at all. The guest issues the nine calls through the hypercall
 * page (HVLOG_KVM_HYPERCALL_PORT), with memory-form input and output in its
 * own pages; it enables its SynIC and writes EOM through filtered MSRs that
 * the VMM forwards to the simulated SynIC; it takes SINT0 as a real
 * interrupt (injected by the VMM when the sim fills its SIM slot) and
 * drains the slot after each, idling in HLT otherwise. It hands the bytes of each released buffer to the
 * VMM through a ring in its RAM and a doorbell port; the VMM passes them to
 * @buffer, on the root VM's thread.
 *
 * The sim: created with root_ram_pages >= HVLOG_KVM_ROOT_RAM_PAGES, no
 * SynIC enabled by anyone else, no client of its own. The children's LPs
 * (hvlog_kvm_create) or the sim's threads produce the events.
 */
#define HVLOG_KVM_ROOT_RAM_PAGES 6656u /* 26 MiB: guest_root_abi.h ROOT_GUEST_RAM_PAGES */
#define HVLOG_KVM_DOORBELL_PORT 0x6Cu

struct hvlog_kvm_root;

/* One group as the guest root prepares it (§9; hvlog_group_params). */
struct hvlog_kvm_root_group {
    bool enabled;
    uint32_t buffers, pages, threshold, time_basis, mode;
    uint64_t system_time;
    uint64_t sources; /* the mask SetSources sends */
};

struct hvlog_kvm_root_config {
    enum hvlog_abi_profile abi;
    struct hvlog_kvm_root_group groups[2]; /* by type: [0] GlobalSystemEvents, [1] LocalDiagnostics */
    /* A released buffer's bytes as the guest handed them over, on the
     * root VM's thread. Not checked by anyone yet: the guest is not trusted. */
    void (*buffer)(void *arg, uint32_t type, uint32_t index, const uint8_t *bytes, size_t len);
    void *arg;
    /* A test of §5.5: right after SetSources the guest stores one byte into
     * the header page of LocalDiagnostics buffer 0 (a read-only slot) and
     * reads it back (hvlog_kvm_root_poke_unchanged). */
    bool poke_mapped_buffer;
    /* A test of the guest's #GP gate: before it prepares, the guest reads
     * an undefined synthetic MSR (0x400000FF); the VMM answers #GP, the
     * guest's handler reports the faulting RIP, and start fails with
     * "the guest root failed in #GP at RIP (status 0x<rip>)". */
    bool read_undefined_msr;
    /* How long hvlog_kvm_root_stop waits for the guest to conclude before
     * it stops the vCPU by force; 0: 30 s. */
    uint32_t stop_deadline_ms;
    /* A test of that deadline: on the stop word the guest loops for ever
     * without an exit instead of concluding; stop fails with "the guest
     * root did not stop within <stop_deadline_ms> ms; stopped by force". */
    bool spin_at_stop;
    /* A test of the VMM's own check of what the guest hands over: the
     * guest names the misname_buffer-th buffer it hands over (1-based; 0:
     * none) by a wrong index; @buffer gets it so, and should refuse it. */
    uint32_t misname_buffer;
};

/* What the guest root's client reported for one type, at the end (and its
 * reference time right after prepare). */
struct hvlog_kvm_root_result {
    bool reference_time_known;
    uint64_t reference_time_at_init;
    uint64_t messages, buffers, entries, events_lost, corrupt, release_failures, bytes;
    uint32_t longest_chain;
    /* The same for both types: */
    uint64_t polls;      /* rounds of the guest's loop that drained its SIM slot */
    uint64_t interrupts; /* SINT0 interrupts the guest's handler took */
    uint64_t injected;   /* SINT0 interrupts the VMM injected (KVM_INTERRUPT) */
};

/**
 * hvlog_kvm_root_start - build the root VM over @sim and run it on a
 * thread of its own until the guest has prepared every enabled group and
 * turned its sources on. Returns 0, or -1 with the reason in @why (the
 * guest's failing step and status, or KVM's), nothing left open.
 */
HVLOG_API int hvlog_kvm_root_start(struct hvlog_sim *sim, const struct hvlog_kvm_root_config *config,
                                   struct hvlog_kvm_root **out, char *why, size_t why_size);
/**
 * hvlog_kvm_root_stop - tell the guest to conclude (§9: disable, flush,
 * drain, unmap, delete, finalize), wait for it, join the thread, and close
 * the VM. Returns 0, or -1 with the reason in @why when the guest or the
 * VM failed (the buffers handed over until then were given to @buffer).
 * A guest that has not concluded within config.stop_deadline_ms is stopped
 * by force, exits or not: -1, "the guest root did not stop within N ms;
 * stopped by force". Returns within that deadline plus the time @buffer
 * takes to return (it must not wait for anything stop waits for).
 */
HVLOG_API int hvlog_kvm_root_stop(struct hvlog_kvm_root *root, char *why, size_t why_size);
/** Results for type @type (0 or 1): the reference time from start on, the
 * counts after stop; zeros for a bad type. */
HVLOG_API void hvlog_kvm_root_result(const struct hvlog_kvm_root *root, uint32_t type,
                                     struct hvlog_kvm_root_result *out);
/** Guest writes to read-only (mapped buffer) pages the VMM refused. */
HVLOG_API uint64_t hvlog_kvm_root_refused_writes(const struct hvlog_kvm_root *root);
/** With config.poke_mapped_buffer: the guest read the byte it stored into
 * a mapped buffer back unchanged (its store was refused). After stop. */
HVLOG_API bool hvlog_kvm_root_poke_unchanged(const struct hvlog_kvm_root *root);
/** Free what stop left (NULL: nothing); stops first if still running. */
HVLOG_API void hvlog_kvm_root_destroy(struct hvlog_kvm_root *root);

HVLOG_END_DECLS

#endif /* HVLOG_KVM_KVM_H */
