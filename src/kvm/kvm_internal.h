/* SPDX-License-Identifier: MIT */
/* The KVM host's internals (hvlog/kvm/kvm.h): shared by kvm.c, root_vp.c and guest.c. */
#ifndef HVLOG_KVM_KVM_INTERNAL_H
#define HVLOG_KVM_KVM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/kvm/kvm.h"

/* An error's one line into @why (kvm.c), when the caller gave room for
 * it: every hvlog_kvm_* failure says why this way (kvm.c, root_vp.c). */
void hvlog__kvm_say(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Accesses to MSRs [@base, @base + @nmsrs) (at most 256) exit to user
 * space: KVM_CAP_X86_USER_SPACE_MSR for KVM_MSR_EXIT_REASON_FILTER, and a
 * filter range that denies them all (every other MSR stays KVM's). Once
 * per VM, before its vCPUs run (kvm.c). Returns 0, or -1 with errno. */
int hvlog__kvm_msr_filter_deny(int vm_fd, uint32_t base, uint32_t nmsrs);

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

/* The root VM's setup shared by its runners (root_vp.c): 2 MiB pages
 * identity-mapping the first GiB at KVM_ROOT_PML4/PDPT/PD_GPA of @ram;
 * 64-bit long mode at RIP KVM_ROOT_CODE_GPA, IF clear; and one hypercall
 * exit answered (KVM_GET_REGS, hvlog_sim_hypercall as root VP @vp,
 * KVM_SET_REGS). The last two return 0, or -1 with errno. */
/* The x86 bits a root VM's long mode needs (root_vp.c, root_vm.c). */
#define PTE_P 0x1ull
#define PTE_RW 0x2ull
#define PTE_PS 0x80ull
#define CR0_PE 0x1ull
#define CR0_ET 0x10ull
#define CR0_PG 0x80000000ull
#define CR4_PAE 0x20ull
#define EFER_LME 0x100ull
#define EFER_LMA 0x400ull
void hvlog__kvm_root_page_tables(uint8_t *ram);
/* 64-bit mode, flat segments (selectors 8 and 16), paging from @cr3, at
 * @rip: set in the segment caches and control registers directly. */
int hvlog__kvm_root_long_mode(int vcpu_fd, uint64_t cr3, uint64_t rip);
int hvlog__kvm_root_hypercall(struct hvlog_sim *sim, uint32_t vp, int vcpu_fd);

/* ---- the root VP's SynIC on a real vCPU (root_synic.c) ---- */

struct kvm_run;

/* Filtered SynIC MSRs (SCONTROL..EOM, SINT0..15 of §8.5) exit to user
 * space: KVM_CAP_X86_USER_SPACE_MSR for KVM_MSR_EXIT_REASON_FILTER, and a
 * filter that denies them (every other MSR stays KVM's). Call once on the
 * root VM before its vCPUs run. Returns 0, or -1 with errno. */
int hvlog__kvm_root_msr_filter(int vm_fd);
/* One KVM_EXIT_X86_RDMSR/WRMSR of root VP @vp: forwarded to
 * hvlog_sim_rdmsr/wrmsr; the sim's -1 becomes run->msr.error = 1, a #GP
 * in the guest. True if @run was such an exit (handled), false otherwise.
 * The vCPU's thread, no lock held (EOM notifies the engine). */
bool hvlog__kvm_root_msr_exit(struct hvlog_sim *sim, uint32_t vp, struct kvm_run *run);

/*
 * The interrupt side of one root VP without an in-kernel irqchip (the
 * design note heads root_synic.c): vectors the sim raised (its SINT hook)
 * wait in @pending until the vCPU can take one, and KVM_INTERRUPT injects
 * the highest. Edges of one vector coalesce, as in an APIC's IRR: the
 * root's handler re-reads the slot, so none is lost.
 */
struct hvlog__kvm_root_sint {
    uint32_t vp;
    pthread_mutex_t lock;  /* guards everything below; a leaf under the sim's VP lock */
    pthread_cond_t cv;     /* a halted vCPU waits on it for a vector or a wake */
    uint64_t pending[4];   /* 256 vectors raised and not yet injected */
    bool wake;             /* hvlog__kvm_root_sint_wake() since the last halt */
    bool halted;           /* the vCPU thread waits in hvlog__kvm_root_sint_halt() */
    bool have_thread;      /* @thread, @run known: the first before_run */
    pthread_t thread;      /* the vCPU's */
    struct kvm_run *run;
    int kick_signal;       /* 0: no kick (the next exit or HLT injects) */
    uint64_t raised;       /* edges the sim raised */
    uint64_t injected;     /* KVM_INTERRUPTs done */
    uint64_t kicks;        /* signals sent to a running vCPU */
};
/* Ready for VP @vp, nothing pending, no kick. Default attributes: cannot fail. */
void hvlog__kvm_root_sint_init(struct hvlog__kvm_root_sint *s, uint32_t vp);
void hvlog__kvm_root_sint_fini(struct hvlog__kvm_root_sint *s);
/* Kick a running vCPU out of KVM_RUN with @signo (pthread_kill), for
 * vectors raised by another thread while the guest runs without exits.
 * The caller installs a handler for @signo first (an empty one will do;
 * the kick also sets run->immediate_exit, so a signal that lands before
 * KVM_RUN is not lost). 0 turns kicks off. */
void hvlog__kvm_root_sint_kick_with(struct hvlog__kvm_root_sint *s, int signo);
/* Kick the vCPU out of KVM_RUN now with @signo (pthread_kill to its
 * thread, and run->immediate_exit): any thread but the vCPU's, any lock
 * but @s's held. Nothing if the vCPU thread has not run yet or is halted
 * in hvlog__kvm_root_sint_halt (hvlog__kvm_root_sint_wake ends that). */
void hvlog__kvm_root_sint_kick(struct hvlog__kvm_root_sint *s, int signo);
/* The vCPU thread, before its first KVM_RUN on @vcpu_fd: block @signo in
 * this thread and let it through inside KVM_RUN only (KVM_SET_SIGNAL_MASK),
 * so a kick with @signo ends KVM_RUN without a handler and without being
 * delivered anywhere (root_synic.c's head comment). 0, or -1 with errno. */
int hvlog__kvm_vcpu_kickable(int vcpu_fd, int signo);
/* Vector @vector is due on the VP: any thread, any lock but @s's held. */
void hvlog__kvm_root_sint_raise(struct hvlog__kvm_root_sint *s, uint8_t vector);
/* hvlog_sim_sint_hook for hvlog_sim_set_sint_hook(sim, s->vp, ..., s). */
void hvlog__kvm_root_sint_hook(void *ctx, uint32_t vp, uint32_t sint, uint8_t vector,
                               const struct hv_message *msg);
/* The vCPU thread, before each KVM_RUN: inject the highest pending vector
 * when run->ready_for_interrupt_injection and run->if_flag say it can be
 * taken now, and ask for an interrupt window while any vector waits.
 * Returns 0, or -1 with errno (KVM_INTERRUPT failed). */
int hvlog__kvm_root_sint_before_run(struct hvlog__kvm_root_sint *s, int vcpu_fd,
                                    struct kvm_run *run);
/* The vCPU thread, on KVM_EXIT_HLT with IF set: wait until a vector is
 * pending or hvlog__kvm_root_sint_wake() was called. True if a vector is
 * pending (the next before_run injects it). */
bool hvlog__kvm_root_sint_halt(struct hvlog__kvm_root_sint *s);
/* Any thread: end a halt without a vector (e.g. the VMM changed the
 * guest's memory and wants it to look), kicking a running vCPU too. */
void hvlog__kvm_root_sint_wake(struct hvlog__kvm_root_sint *s);

/*
 * The SynIC test root (guest.c hvlog__kvm_synic_start; root_synic.c runs
 * it): the root VP program's RAM layout above, plus a GDT, an IDT with
 * gates for #GP and KVM_SYNIC_VECTOR, a data page and a message log.
 * Plain numbers: guest.c's asm spells them.
 */
extern const uint8_t hvlog__kvm_synic_start[];
extern const uint32_t hvlog__kvm_synic_bytes;
#define KVM_SYNIC_GDT_GPA 0x7000
#define KVM_SYNIC_IDT_GPA 0x8000
#define KVM_SYNIC_DATA_GPA 0x9000
#define KVM_SYNIC_LOG_GPA 0xA000  /* u64 per message: EventLogType << 32 | BufferIndex */
#define KVM_SYNIC_LOG_MAX 2048    /* rows up to 0xE000; the stack is above */
#define KVM_SYNIC_SIMP_GPA 0x40000 /* outside the VM's RAM: the sim's page, mapped by the runner */
#define KVM_SYNIC_VECTOR 0x50
#define KVM_SYNIC_BAD_VECTOR 5    /* below 16: the sim refuses it, the guest takes #GP */
/* The data page: u64 fields at these offsets. */
#define KVM_SYNIC_CMD 0x00        /* VMM -> guest: KVM_SYNIC_CMD_CALLS or _STOP; guest -> 0 */
#define KVM_SYNIC_CMDS_DONE 0x08  /* commands the guest finished */
#define KVM_SYNIC_MESSAGES 0x10   /* messages taken out of the slot (rows of the log) */
#define KVM_SYNIC_SPURIOUS 0x18   /* interrupts that found the slot empty */
#define KVM_SYNIC_PENDING 0x20    /* messages seen with MessagePending: EOMs written */
#define KVM_SYNIC_GPS 0x28        /* #GP taken */
#define KVM_SYNIC_BAD 0x30        /* messages of another MessageType or PayloadSize */
#define KVM_SYNIC_INTERRUPTS 0x38 /* the SINT handler's entries */
#define KVM_SYNIC_SVERSION 0x40   /* what rdmsr SVERSION read */
#define KVM_SYNIC_TARGET 0x48    /* VMM -> guest: the message count SPIN waits for */
#define KVM_SYNIC_SPINNING 0x50  /* guest: SPIN commands begun (it spins from then on) */
#define KVM_SYNIC_IDTR 0x80       /* lidt's operand */
#define KVM_SYNIC_CMD_CALLS 1     /* cli, the call table (KVM_ROOT_TABLE_GPA), sti */
#define KVM_SYNIC_CMD_STOP 2      /* cli; hlt: the end */
#define KVM_SYNIC_CMD_SPIN 3      /* sti, then spin without exits until TARGET messages */

/* A one-vCPU root VM running the SynIC test root as root VP @vp of @sim:
 * 64 KiB of RAM at GPA 0 (the program, its tables, data and log), the
 * SIM page mapped where the guest's SIMP puts it, the SynIC MSR filter,
 * and the VP's SINT hook (@hook with @hook_ctx, which must end by calling
 * hvlog__kvm_root_sint_raise(&vm->sint, vector); NULL: that one),
 * installed when _run starts. One thread runs it (_run, until `cli; hlt`);
 * others may write the data page and call
 * hvlog__kvm_root_sint_wake(&vm->sint). Fields after @sint are the running
 * thread's; read them after _run returned. */
struct hvlog__kvm_synic_vm {
    struct hvlog_sim *sim;
    uint32_t vp;
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_bytes;
    uint8_t *ram;           /* the guest's RAM: data page at KVM_SYNIC_DATA_GPA */
    hvlog_sim_sint_hook hook; /* installed by _run */
    void *hook_ctx;
    struct hvlog__kvm_root_sint sint;
    uint64_t sim_page_gpa;  /* where the SIM page slot is, 0 = none */
    uint64_t hypercalls, eoms, msr_errors, halts;
};
int hvlog__kvm_synic_vm_create(struct hvlog_sim *sim, uint32_t vp, hvlog_sim_sint_hook hook,
                               void *hook_ctx, struct hvlog__kvm_synic_vm **out, char *why,
                               size_t why_size);
int hvlog__kvm_synic_vm_run(struct hvlog__kvm_synic_vm *vm, char *why, size_t why_size);
void hvlog__kvm_synic_vm_destroy(struct hvlog__kvm_synic_vm *vm);

/* Where the VMM writes the mix: eight u32 the program reads each loop. */
#define KVM_GUEST_MIX_GPA 0x800u
/* The child's RAM: 64 KiB at GPA 0 (mix, program). */
#define KVM_GUEST_RAM_BYTES 0x10000u

/* The guest root's flat image (guest_root_image.c, from src/guest/root.c). */
extern const uint8_t hvlog__kvm_guest_root_start[];
extern const uint32_t hvlog__kvm_guest_root_bytes;

#endif /* HVLOG_KVM_KVM_INTERNAL_H */
