/* SPDX-License-Identifier: MIT */
/*
 * The root VP's SynIC on a real vCPU (issue 15 item 2, "the root is a real
 * guest"): the SynIC MSRs trap to the VMM through an MSR filter and go to
 * the simulated host's SynIC (src/sim/synic.c), and the SINT interrupt the
 * sim raises on a delivery (§8.5) becomes a real interrupt in the guest.
 *
 *   guest wrmsr/rdmsr 0x40000080..84, 0x40000090..9F
 *     -> KVM_EXIT_X86_WRMSR/RDMSR (filter) -> hvlog_sim_wrmsr/rdmsr
 *        (-1 -> run->msr.error = 1: KVM injects #GP)
 *   sim copies a message into the SINT0 slot (post, EOM, poll)
 *     -> its SINT hook -> hvlog__kvm_root_sint_raise: the vector waits in
 *        @pending; a halted vCPU is woken, a running one kicked
 *   vCPU thread, before each KVM_RUN
 *     -> the highest pending vector by KVM_INTERRUPT when the guest can
 *        take it now (run->ready_for_interrupt_injection and run->if_flag),
 *        else run->request_interrupt_window = 1: KVM exits with
 *        KVM_EXIT_IRQ_WINDOW_OPEN as soon as it can, and we inject then.
 *
 * Why no in-kernel irqchip (KVM_CREATE_IRQCHIP + KVM_SIGNAL_MSI) for the
 * root VM: with it, HLT would stay in the kernel, and the VMM would lose
 * the exit that tells it the root is idle (and `cli; hlt`, the program's
 * end); the guest would have to enable and EOI a local APIC, which a
 * Hyper-V root does not do for a SINT with AutoEOI and our freestanding
 * root need not; and every injection would be invisible to the VMM (no
 * count to test). The price: the vCPU's own thread must inject, so a
 * vector raised by another thread while the guest runs without exits
 * needs a kick (a signal, hvlog__kvm_root_sint_kick_with) - the same
 * thing QEMU does without a kernel irqchip.
 *
 * Kick protocol (no lost wake-up): the raiser, under @lock, sets the
 * vector's bit, then - when the vCPU thread is not the raiser and not
 * halted - stores run->immediate_exit = 1 and sends the signal. The vCPU
 * thread, under @lock in before_run, clears immediate_exit and then looks
 * at @pending. A raise after that look finds immediate_exit cleared and
 * sets it: KVM_RUN returns EINTR at once (KVM checks immediate_exit before
 * entering), or the signal interrupts the guest if it is already in. A
 * halted vCPU waits on @cv for a bit in @pending or @wake, both set under
 * @lock, so a raise between the HLT exit and the wait is seen.
 *
 * A kick with a signal of the caller's (hvlog__kvm_root_sint_kick: the
 * root VM's stop, when the guest runs on past its deadline without an
 * exit) needs no handler: the vCPU thread blocks that signal and lets it
 * through only inside KVM_RUN (hvlog__kvm_vcpu_kickable,
 * KVM_SET_SIGNAL_MASK). Sent with pthread_kill, it is pending on that
 * thread alone, so no other thread takes it; inside KVM_RUN it ends the
 * run (EINTR), and one that lands outside stays pending, blocked, and
 * ends the next KVM_RUN at once - so it is not lost even when the kick
 * comes between the thread's last look and its KVM_RUN. Pending and
 * blocked, it is never delivered, so its disposition does not matter
 * (the kernel does not treat a signal blocked outside KVM_RUN as fatal),
 * and the library installs no process-wide handler.
 *
 * Coalescing: edges of one vector raised before it is injected become one
 * interrupt, as in an APIC's IRR. Nothing is lost: the slot protocol makes
 * the handler read the slot (and EOM bring the next message, raising a new
 * edge) after the injection; a handler that finds the slot empty counts a
 * spurious interrupt and returns.
 *
 * Lock order: the sim's VP lock (the hook runs under it) -> @lock. Nothing
 * here calls the sim with @lock held.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvlog/abi/le.h"
#include "hvlog/abi/synic.h"
#include "kvm/kvm_internal.h"

/* The first Hyper-V synthetic MSR (HV_X64_MSR_GUEST_OS_ID). */
#define HV_X64_MSR_GUEST_OS_ID_BASE 0x40000000u

static bool synic_msr(uint32_t index)
{
    return (index >= HV_X64_MSR_SCONTROL && index <= HV_X64_MSR_EOM) ||
           (index >= HV_X64_MSR_SINT0 && index <= HV_X64_MSR_SINT15);
}

int hvlog__kvm_root_msr_filter(int vm_fd)
{
    /* Every Hyper-V synthetic MSR (0x40000000..FF) exits, not only the
     * SynIC's: KVM emulates none of them here (KVM_CAP_HYPERV is 0), so
     * one that did not exit would be KVM's #GP, while the caller answers
     * some itself (the guest root's reference counter, 0x40000020) and
     * gives #GP for the rest. hvlog__kvm_root_msr_exit takes the SynIC's. */
    return hvlog__kvm_msr_filter_deny(vm_fd, HV_X64_MSR_GUEST_OS_ID_BASE, 256u);
}

bool hvlog__kvm_root_msr_exit(struct hvlog_sim *sim, uint32_t vp, struct kvm_run *run)
{
    if (run->exit_reason != KVM_EXIT_X86_RDMSR && run->exit_reason != KVM_EXIT_X86_WRMSR)
        return false;
    if (!synic_msr(run->msr.index))
        return false; /* the caller's (another filtered MSR) */
    if (run->exit_reason == KVM_EXIT_X86_RDMSR) {
        uint64_t value = 0;

        run->msr.error = hvlog_sim_rdmsr(sim, vp, run->msr.index, &value) != 0;
        run->msr.data = run->msr.error ? 0 : value;
    } else {
        /* §8.5: a refused write (a vector below 16, a SIMP outside the
         * root's RAM, SVERSION) is a #GP and changes nothing. */
        run->msr.error = hvlog_sim_wrmsr(sim, vp, run->msr.index, run->msr.data) != 0;
    }
    return true;
}

/* ---- interrupts ---- */

void hvlog__kvm_root_sint_init(struct hvlog__kvm_root_sint *s, uint32_t vp)
{
    memset(s, 0, sizeof *s);
    s->vp = vp;
    pthread_mutex_init(&s->lock, NULL); /* default attributes: cannot fail */
    pthread_cond_init(&s->cv, NULL);
}

void hvlog__kvm_root_sint_fini(struct hvlog__kvm_root_sint *s)
{
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->lock);
}

void hvlog__kvm_root_sint_kick_with(struct hvlog__kvm_root_sint *s, int signo)
{
    pthread_mutex_lock(&s->lock);
    s->kick_signal = signo;
    pthread_mutex_unlock(&s->lock);
}

/* The vCPU may be inside KVM_RUN: make it come out with @signo (head
 * comment). @lock held. */
static void kick_locked(struct hvlog__kvm_root_sint *s, int signo)
{
    if (!signo || !s->have_thread || s->halted || pthread_equal(s->thread, pthread_self()))
        return;
    __atomic_store_n(&s->run->immediate_exit, 1, __ATOMIC_RELAXED);
    if (pthread_kill(s->thread, signo) == 0)
        s->kicks++;
}

void hvlog__kvm_root_sint_kick(struct hvlog__kvm_root_sint *s, int signo)
{
    pthread_mutex_lock(&s->lock);
    kick_locked(s, signo);
    pthread_mutex_unlock(&s->lock);
}

int hvlog__kvm_vcpu_kickable(int vcpu_fd, int signo)
{
    /* struct kvm_signal_mask and the kernel's sigset (64 bits on x86-64). */
    union {
        struct kvm_signal_mask head;
        uint8_t bytes[sizeof(struct kvm_signal_mask) + 8];
    } mask;
    sigset_t one, in_run;

    sigemptyset(&one);
    sigaddset(&one, signo);
    if (pthread_sigmask(SIG_BLOCK, &one, &in_run) != 0)
        return -1;
    /* Inside KVM_RUN: this thread's mask as it was, @signo let through. */
    sigdelset(&in_run, signo);
    mask.head.len = 8;
    memcpy(mask.bytes + sizeof(struct kvm_signal_mask), &in_run, 8);
    return ioctl(vcpu_fd, KVM_SET_SIGNAL_MASK, &mask.head);
}

static int highest_pending_locked(const struct hvlog__kvm_root_sint *s)
{
    for (int w = 3; w >= 0; w--) {
        if (s->pending[w])
            return w * 64 + 63 - __builtin_clzll(s->pending[w]);
    }
    return -1;
}

void hvlog__kvm_root_sint_raise(struct hvlog__kvm_root_sint *s, uint8_t vector)
{
    pthread_mutex_lock(&s->lock);
    s->raised++;
    s->pending[vector / 64] |= 1ull << (vector % 64);
    pthread_cond_broadcast(&s->cv);
    kick_locked(s, s->kick_signal);
    pthread_mutex_unlock(&s->lock);
}

void hvlog__kvm_root_sint_hook(void *ctx, uint32_t vp, uint32_t sint, uint8_t vector,
                               const struct hv_message *msg)
{
    struct hvlog__kvm_root_sint *s = ctx;

    (void)sint;
    (void)msg;
    if (vp == s->vp)
        hvlog__kvm_root_sint_raise(s, vector);
}

int hvlog__kvm_root_sint_before_run(struct hvlog__kvm_root_sint *s, int vcpu_fd,
                                    struct kvm_run *run)
{
    int vector, rc = 0;

    pthread_mutex_lock(&s->lock);
    if (!s->have_thread) {
        s->thread = pthread_self();
        s->run = run;
        s->have_thread = true;
    }
    /* First clear, then look: a raise after the look sets it again. */
    __atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELAXED);
    vector = highest_pending_locked(s);
    if (vector >= 0 && run->ready_for_interrupt_injection && run->if_flag) {
        struct kvm_interrupt irq = {.irq = (uint32_t)vector};

        if (ioctl(vcpu_fd, KVM_INTERRUPT, &irq) == 0) {
            s->pending[vector / 64] &= ~(1ull << (vector % 64));
            s->injected++;
            vector = highest_pending_locked(s);
        } else {
            rc = -1;
        }
    }
    /* Another vector waits (or this one could not go in): exit as soon
     * as the guest can take it. */
    run->request_interrupt_window = vector >= 0;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

bool hvlog__kvm_root_sint_halt(struct hvlog__kvm_root_sint *s)
{
    bool pending;

    pthread_mutex_lock(&s->lock);
    s->halted = true;
    while (highest_pending_locked(s) < 0 && !s->wake)
        pthread_cond_wait(&s->cv, &s->lock);
    s->halted = false;
    s->wake = false;
    pending = highest_pending_locked(s) >= 0;
    pthread_mutex_unlock(&s->lock);
    return pending;
}

void hvlog__kvm_root_sint_wake(struct hvlog__kvm_root_sint *s)
{
    pthread_mutex_lock(&s->lock);
    s->wake = true;
    pthread_cond_broadcast(&s->cv);
    kick_locked(s, s->kick_signal);
    pthread_mutex_unlock(&s->lock);
}

/* ---- the SynIC test root ---- */

#define SYNIC_RAM_BYTES 0x10000u
#define SYNIC_SIM_SLOT 1u /* KVM memory slot of the SIM page (0 is the RAM) */
#define SYNIC_PAGE 4096u

static int sim_page_slot(struct hvlog__kvm_synic_vm *vm, uint64_t gpa, void *hva)
{
    struct kvm_userspace_memory_region r = {
        .slot = SYNIC_SIM_SLOT,
        .guest_phys_addr = gpa,
        .memory_size = hva ? SYNIC_PAGE : 0, /* 0 deletes the slot */
        .userspace_addr = (uint64_t)(uintptr_t)hva,
    };
    return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

/*
 * After a SIMP write the sim accepted: the guest must see the sim's page
 * at the new GPA. This VM's own RAM is not the sim's memory, so the page
 * is mapped over the GPA as a slot of its own, as Hyper-V overlays a SIM
 * page. (A root VM whose RAM is the sim's root range needs none of this.)
 */
static int simp_follow(struct hvlog__kvm_synic_vm *vm, char *why, size_t why_size)
{
    uint64_t simp = 0, gpa;

    if (hvlog_sim_rdmsr(vm->sim, vm->vp, HV_X64_MSR_SIMP, &simp) != 0)
        return 0;
    gpa = (simp & HV_SIMP_ENABLE) ? simp & HV_SIMP_GPA_MASK : 0;
    if (gpa == vm->sim_page_gpa)
        return 0;
    if (vm->sim_page_gpa && sim_page_slot(vm, vm->sim_page_gpa, NULL) != 0) {
        hvlog__kvm_say(why, why_size, "root VP: cannot unmap the SIM page: %s", strerror(errno));
        return -1;
    }
    vm->sim_page_gpa = 0;
    if (!gpa)
        return 0;
    if (gpa < SYNIC_RAM_BYTES) {
        hvlog__kvm_say(why, why_size, "root VP: SIMP at GPA 0x%llx, inside the VM's own RAM",
                       (unsigned long long)gpa);
        return -1;
    }
    if (sim_page_slot(vm, gpa, hvlog_sim_sim_page(vm->sim, vm->vp)) != 0) {
        hvlog__kvm_say(why, why_size, "root VP: cannot map the SIM page: %s", strerror(errno));
        return -1;
    }
    vm->sim_page_gpa = gpa;
    return 0;
}

void hvlog__kvm_synic_vm_destroy(struct hvlog__kvm_synic_vm *vm)
{
    if (!vm)
        return;
    (void)hvlog_sim_set_sint_hook(vm->sim, vm->vp, NULL, NULL);
    /* The VM goes first, then the memory its slots named. */
    if (vm->run != MAP_FAILED)
        munmap(vm->run, vm->run_bytes);
    if (vm->vcpu_fd >= 0)
        close(vm->vcpu_fd);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    if (vm->ram != MAP_FAILED)
        munmap(vm->ram, SYNIC_RAM_BYTES);
    hvlog__kvm_root_sint_fini(&vm->sint);
    free(vm);
}

int hvlog__kvm_synic_vm_create(struct hvlog_sim *sim, uint32_t vp, hvlog_sim_sint_hook hook,
                               void *hook_ctx, struct hvlog__kvm_synic_vm **out, char *why,
                               size_t why_size)
{
    /* Null, 64-bit code (selector 8), data (16): what interrupt delivery
     * and iretq load CS and SS from. */
    static const uint64_t gdt[3] = {0, 0x00AF9A000000FFFFull, 0x00CF92000000FFFFull};
    struct kvm_userspace_memory_region region;
    struct hvlog__kvm_synic_vm *vm;
    struct kvm_sregs sregs;
    int run_bytes;

    if (!sim || !out || vp >= hvlog_sim_lp_count(sim)) {
        hvlog__kvm_say(why, why_size, "bad SynIC root: no host, or VP %u", vp);
        return -1;
    }
    vm = calloc(1, sizeof *vm);
    if (!vm) {
        hvlog__kvm_say(why, why_size, "out of memory");
        return -1;
    }
    vm->sim = sim;
    vm->vp = vp;
    vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
    vm->run = MAP_FAILED;
    vm->ram = MAP_FAILED;
    hvlog__kvm_root_sint_init(&vm->sint, vp);
    vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm->kvm_fd < 0) {
        hvlog__kvm_say(why, why_size, "cannot open /dev/kvm: %s", strerror(errno));
        goto fail;
    }
    run_bytes = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    if (vm->vm_fd < 0 || run_bytes < (int)sizeof(struct kvm_run)) {
        hvlog__kvm_say(why, why_size, "cannot create the root VM: %s", strerror(errno));
        goto fail;
    }
    vm->run_bytes = (size_t)run_bytes;
    (void)ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
    vm->ram = mmap(NULL, SYNIC_RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (vm->ram == MAP_FAILED) {
        hvlog__kvm_say(why, why_size, "cannot map the root VM's RAM: %s", strerror(errno));
        goto fail;
    }
    hvlog__kvm_root_page_tables(vm->ram);
    memcpy(vm->ram + KVM_ROOT_CODE_GPA, hvlog__kvm_synic_start, hvlog__kvm_synic_bytes);
    for (uint32_t i = 0; i < 3; i++)
        hvlog_store_le64(vm->ram + KVM_SYNIC_GDT_GPA + (size_t)8 * i, gdt[i]);
    region = (struct kvm_userspace_memory_region){
        .slot = 0, .guest_phys_addr = 0, .memory_size = SYNIC_RAM_BYTES,
        .userspace_addr = (uint64_t)(uintptr_t)vm->ram,
    };
    if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) != 0) {
        hvlog__kvm_say(why, why_size, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
        goto fail;
    }
    if (hvlog__kvm_root_msr_filter(vm->vm_fd) != 0) {
        hvlog__kvm_say(why, why_size, "cannot filter the SynIC MSRs: %s", strerror(errno));
        goto fail;
    }
    vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0ul);
    if (vm->vcpu_fd < 0) {
        hvlog__kvm_say(why, why_size, "KVM_CREATE_VCPU: %s", strerror(errno));
        goto fail;
    }
    vm->run = mmap(NULL, vm->run_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vm->vcpu_fd, 0);
    if (vm->run == MAP_FAILED) {
        hvlog__kvm_say(why, why_size, "cannot map kvm_run: %s", strerror(errno));
        goto fail;
    }
    if (hvlog__kvm_root_long_mode(vm->vcpu_fd, KVM_ROOT_PML4_GPA, KVM_ROOT_CODE_GPA) != 0 ||
        ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) != 0) {
        hvlog__kvm_say(why, why_size, "cannot put the root VP in long mode: %s", strerror(errno));
        goto fail;
    }
    sregs.gdt.base = KVM_SYNIC_GDT_GPA;
    sregs.gdt.limit = sizeof gdt - 1;
    if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) != 0) {
        hvlog__kvm_say(why, why_size, "cannot load the root VP's GDT: %s", strerror(errno));
        goto fail;
    }
    vm->hook = hook ? hook : hvlog__kvm_root_sint_hook;
    vm->hook_ctx = hook ? hook_ctx : &vm->sint;
    *out = vm;
    return 0;
fail:
    hvlog__kvm_synic_vm_destroy(vm);
    return -1;
}

int hvlog__kvm_synic_vm_run(struct hvlog__kvm_synic_vm *vm, char *why, size_t why_size)
{
    struct kvm_run *run = vm->run;

    /* From here on the sim's deliveries to this VP reach us (the caller
     * has had the time to make a hook of its own ready). */
    (void)hvlog_sim_set_sint_hook(vm->sim, vm->vp, vm->hook, vm->hook_ctx);
    for (;;) {
        if (hvlog__kvm_root_sint_before_run(&vm->sint, vm->vcpu_fd, run) != 0) {
            hvlog__kvm_say(why, why_size, "root VP: KVM_INTERRUPT: %s", strerror(errno));
            return -1;
        }
        if (ioctl(vm->vcpu_fd, KVM_RUN, 0) != 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue; /* a kick: look at the vectors again */
            hvlog__kvm_say(why, why_size, "root VP: KVM_RUN: %s", strerror(errno));
            return -1;
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO:
            if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != HVLOG_KVM_HYPERCALL_PORT)
                break;
            vm->hypercalls++;
            if (hvlog__kvm_root_hypercall(vm->sim, vm->vp, vm->vcpu_fd) != 0) {
                hvlog__kvm_say(why, why_size, "root VP: KVM_GET/SET_REGS: %s", strerror(errno));
                return -1;
            }
            continue;
        case KVM_EXIT_X86_RDMSR:
        case KVM_EXIT_X86_WRMSR: {
            bool write = run->exit_reason == KVM_EXIT_X86_WRMSR;

            if (!hvlog__kvm_root_msr_exit(vm->sim, vm->vp, run)) {
                run->msr.error = 1; /* filtered, not the SynIC's: #GP */
                vm->msr_errors++;
                continue;
            }
            if (run->msr.error)
                vm->msr_errors++;
            else if (write && run->msr.index == HV_X64_MSR_EOM)
                vm->eoms++;
            else if (write && run->msr.index == HV_X64_MSR_SIMP && simp_follow(vm, why, why_size) != 0)
                return -1;
            continue;
        }
        case KVM_EXIT_HLT:
            /* `cli; hlt` is the program's end; with IF set it waits for
             * an interrupt, which only we can bring. */
            if (!run->if_flag)
                return 0;
            vm->halts++;
            (void)hvlog__kvm_root_sint_halt(&vm->sint);
            continue;
        case KVM_EXIT_IRQ_WINDOW_OPEN:
        case KVM_EXIT_INTR:
            continue;
        default:
            break;
        }
        hvlog__kvm_say(why, why_size, "root VP: unexpected exit reason %u", run->exit_reason);
        return -1;
    }
}
