/* SPDX-License-Identifier: MIT */
/*
 * The root is a real guest (hvlog/kvm/kvm.h hvlog_kvm_root_*; issue 15
 * item 2): the VMM side.
 *
 * The root VM's memory is the simulated machine's root GPA space, mapped
 * from the sim's one mapping of the machine (sim.h hvlog_sim_root_memory):
 * each run of pages with one root access becomes one memory slot, RW as
 * ordinary memory, READ (an overlay: a mapped buffer) with KVM_MEM_READONLY,
 * NONE (pool pages) not at all. A guest store to a read-only slot, or any
 * access where no slot is, exits as KVM_EXIT_MMIO; the VMM gives it to
 * hvlog_sim_gpa_write/read, which refuse it and count the §5.5 intercept.
 * Overlays change at Map, Unmap, Delete and Finalize, so the slots are
 * brought in line after each of those calls (on this thread, while the
 * vCPU is out of KVM_RUN).
 *
 * The guest (src/guest/root.c, embedded by guest_root_image.c) lives in
 * domain 0's fixed RAM at ROOT_GUEST_BASE (guest_root_abi.h); the VMM writes
 * its page tables, the hypercall page, the control page and the program,
 * then runs the one vCPU on a thread of its own:
 *
 *   exit                     what the VMM does
 *   out to 0x6B              a hypercall: hvlog_sim_hypercall(root, VP 0,
 *                            RCX, RDX, R8) into RAX (KVM_GET/SET_REGS)
 *   out to 0x6C (doorbell)   AL = RECORDS: hand each ring record to the
 *                            config's buffer callback, ring empty again;
 *                            PREPARED: wake hvlog_kvm_root_start; DONE
 *   MMIO                     hvlog_sim_gpa_write (refused: counted) / read
 *   RDMSR/WRMSR (filtered)   TIME_REF_COUNT from the sim's clock; the
 *                            SynIC's through hvlog__kvm_root_msr_exit
 *   HLT, IF set              the guest waits for SINT0: sleep in
 *                            hvlog__kvm_root_sint_halt until the sim raises
 *                            the vector (its SINT hook, any thread) or stop
 *                            wakes it; after DONE (IF clear), the end
 *   IRQ window open          nothing: the next KVM_RUN injects
 *
 * SINT0 (§8.5): the sim's SINT hook for VP 0 is installed at start and
 * removed at stop; before each KVM_RUN hvlog__kvm_root_sint_before_run
 * injects a pending vector by KVM_INTERRUPT (root_synic.c says why there
 * is no in-kernel irqchip). No kick for a vector: the guest never runs
 * long without an exit (its idle is HLT, its work hypercalls, MSRs and the
 * doorbell), so a vector raised while it runs is injected at its next exit.
 *
 * Stopping: stop stores the STOP word and wakes the guest; the guest
 * concludes and halts for good. The guest is not trusted to: after the
 * deadline (config.stop_deadline_ms, STOP_DEADLINE_NS by default) the VMM
 * stops running it. A guest that still exits is stopped at its next exit
 * (the thread looks at the deadline before each KVM_RUN); one that loops
 * without an exit (a bug in the program, a broken image) is kicked out of
 * KVM_RUN by ROOT_KICK_SIGNAL, sent to the vCPU's thread alone and let
 * through only inside KVM_RUN (root_synic.c: hvlog__kvm_root_sint_kick,
 * hvlog__kvm_vcpu_kickable). Either way stop fails with one line, "the
 * guest root did not stop within N ms; stopped by force", and the buffers
 * the guest had not handed over are not recorded.
 *
 * Threads: the root VM's thread alone touches the vCPU and the slots;
 * start and stop talk to it through @lock/@cond, the control page's STOP
 * word (an atomic store the guest reads before each HLT) and
 * hvlog__kvm_root_sint_wake, which ends the HLT the guest may be in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hvlog/abi/calls.h"
#include "hvlog/abi/le.h"
#include "kvm/guest_root_abi.h"
#include "kvm/kvm_internal.h"

#define ROOT_SLOTS 256u
#define IDENTITY_BYTES (4ull << 30) /* what the guest's page tables map */
#define TIME_REF_COUNT 0x40000020u
/* After stop: the guest concludes within this (config.stop_deadline_ms = 0),
 * or the VMM stops it by force. */
#define STOP_DEADLINE_NS (30ull * 1000000000ull)
#define START_DEADLINE_NS (30ull * 1000000000ull)
/* Past the deadline, stop kicks the vCPU again this often until its thread
 * has ended (a kick finds nothing to do before the thread's first KVM_RUN). */
#define STOP_KICK_EVERY_NS 50000000ull
/* Ends a KVM_RUN past the stop deadline: a real-time signal nobody sends to
 * the process (not SIGUSR1: `hvlog snapshot` sends that to `record`). */
#define ROOT_KICK_SIGNAL (SIGRTMAX - 1)
/* After stop, a guest that halts again is resumed after this nap instead
 * of waiting for a vector, so the stop deadline is still checked. */
#define ROOT_STOPPING_NAP_NS 200000

_Static_assert(HVLOG_KVM_ROOT_RAM_PAGES == ROOT_GUEST_RAM_PAGES, "kvm.h and guest_root_abi.h");
_Static_assert(HVLOG_KVM_HYPERCALL_PORT == ROOT_PORT_HYPERCALL, "kvm.h and guest_root_abi.h");
_Static_assert(HVLOG_KVM_DOORBELL_PORT == ROOT_PORT_DOORBELL, "kvm.h and guest_root_abi.h");
_Static_assert(ROOT_CTL_SPIN_AT_STOP >= ROOT_CTL_RESULT + 2 * ROOT_CTL_RESULT_BYTES &&
                   ROOT_CTL_MISNAME > ROOT_CTL_SPIN_AT_STOP && ROOT_CTL_MISNAME + 8 <= 4096,
               "the control page's words do not overlap");

struct root_slot {
    bool used;
    uint64_t gpa, bytes;
    uint32_t flags;
};

struct hvlog_kvm_root {
    struct hvlog_sim *sim;
    struct hvlog_kvm_root_config config;
    struct hvlog_root_ops sim_ops; /* the sim's clock, for TIME_REF_COUNT */
    uint8_t *base;                 /* the root's GPA space: GPA g at base + g */
    uint64_t root_bytes;
    int kvm_fd, vm_fd, vcpu_fd, run_bytes;
    struct kvm_run *run;
    struct root_slot slots[ROOT_SLOTS];
    struct hvlog__kvm_root_sint sint; /* VP 0's SINT0 (root_synic.c) */
    bool hooked;                      /* the sim's SINT hook for VP 0 is ours */

    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool prepared, finished; /* under @lock */
    bool stopping;           /* under @lock: stop asked, deadline runs */
    bool forced;             /* under @lock: past the deadline, stop kicks the vCPU */
    uint64_t stop_at_ns;     /* under @lock (CLOCK_MONOTONIC) */
    uint64_t stop_deadline_ns; /* from the config; read-only */
    char error[256];         /* under @lock until finished; then read-only */
    uint64_t refused;        /* guest stores refused (read-only slots); this thread */
    bool poke_unchanged;     /* after finished */
    struct hvlog_kvm_root_result results[2]; /* after finished */
};

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* @cond waits on CLOCK_MONOTONIC: @at_ns as its deadline. */
static struct timespec mono_ts(uint64_t at_ns)
{
    return (struct timespec){(time_t)(at_ns / 1000000000ull), (long)(at_ns % 1000000000ull)};
}

static uint8_t *gpa_hva(struct hvlog_kvm_root *r, uint64_t gpa)
{
    return r->base + gpa;
}

static uint64_t ctl_get(struct hvlog_kvm_root *r, uint32_t off)
{
    return __atomic_load_n((const uint64_t *)gpa_hva(r, ROOT_CTL_GPA + off), __ATOMIC_ACQUIRE);
}

static void ctl_put(struct hvlog_kvm_root *r, uint32_t off, uint64_t value)
{
    __atomic_store_n((uint64_t *)gpa_hva(r, ROOT_CTL_GPA + off), value, __ATOMIC_RELEASE);
}

/* ---- memory ---- */

static int slot_set(struct hvlog_kvm_root *r, uint32_t id, uint64_t gpa, uint64_t bytes,
                    uint32_t flags)
{
    struct kvm_userspace_memory_region region = {
        .slot = id, .flags = flags, .guest_phys_addr = gpa, .memory_size = bytes,
        .userspace_addr = (uint64_t)(uintptr_t)gpa_hva(r, gpa),
    };

    return ioctl(r->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
}

/* Bring the slots in line with the root's access to its GPA space: remove
 * those no longer wanted (first: slots may not overlap), add the new ones. */
static int slots_sync(struct hvlog_kvm_root *r)
{
    struct root_slot want[ROOT_SLOTS];
    uint32_t n = 0;

    for (uint64_t gpa = 0; gpa < r->root_bytes;) {
        enum hvlog_sim_root_access access;
        uint64_t run = hvlog_sim_root_access_run(r->sim, gpa, &access);

        if (run == 0)
            break;
        if (access != HVLOG_SIM_ROOT_NONE) {
            if (n == ROOT_SLOTS)
                return -1;
            want[n++] = (struct root_slot){
                true, gpa, run, access == HVLOG_SIM_ROOT_READ ? KVM_MEM_READONLY : 0};
        }
        gpa += run;
    }
    for (uint32_t id = 0; id < ROOT_SLOTS; id++) {
        struct root_slot *s = &r->slots[id];
        bool keep = false;

        for (uint32_t k = 0; s->used && k < n && !keep; k++)
            keep = want[k].used && want[k].gpa == s->gpa && want[k].bytes == s->bytes &&
                   want[k].flags == s->flags;
        if (s->used && !keep) {
            if (slot_set(r, id, s->gpa, 0, s->flags) != 0)
                return -1;
            s->used = false;
        }
    }
    for (uint32_t k = 0; k < n; k++) {
        uint32_t free_id = ROOT_SLOTS;
        bool present = false;

        for (uint32_t id = 0; id < ROOT_SLOTS && !present; id++) {
            const struct root_slot *s = &r->slots[id];

            present = s->used && s->gpa == want[k].gpa && s->bytes == want[k].bytes &&
                      s->flags == want[k].flags;
            if (!s->used && free_id == ROOT_SLOTS)
                free_id = id;
        }
        if (present)
            continue;
        if (free_id == ROOT_SLOTS ||
            slot_set(r, free_id, want[k].gpa, want[k].bytes, want[k].flags) != 0)
            return -1;
        r->slots[free_id] = want[k];
    }
    return 0;
}

/* The guest's area: page tables, hypercall page, control page, program. */
static void guest_memory(struct hvlog_kvm_root *r)
{
    static const uint8_t hypercall_page[] = {0xE6, ROOT_PORT_HYPERCALL, 0xC3}; /* out %al,$port; ret */
    const struct hvlog_kvm_root_config *c = &r->config;
    uint8_t *pt = gpa_hva(r, ROOT_PT_GPA);
    uint64_t scratch0 = hvlog_sim_root_page(r->sim, 0, NULL);
    uint64_t scratch1 = hvlog_sim_root_page(r->sim, 1, NULL);

    memset(gpa_hva(r, ROOT_GUEST_BASE), 0, ROOT_CODE_GPA + ROOT_CODE_MAX - ROOT_GUEST_BASE);
    /* PML4[0] -> PDPT; PDPT[0..3] -> four PDs of 512 2 MiB pages: 4 GiB. */
    hvlog_store_le64(pt, (ROOT_PT_GPA + 0x1000u) | PTE_P | PTE_RW);
    for (uint64_t i = 0; i < 4; i++)
        hvlog_store_le64(pt + 0x1000u + 8 * i, (ROOT_PT_GPA + 0x2000u + 0x1000u * i) | PTE_P | PTE_RW);
    for (uint64_t i = 0; i < 4ull * 512u; i++)
        hvlog_store_le64(pt + 0x2000u + 8 * i, (i << 21) | PTE_P | PTE_RW | PTE_PS);
    memcpy(gpa_hva(r, ROOT_HCPAGE_GPA), hypercall_page, sizeof hypercall_page);
    memcpy(gpa_hva(r, ROOT_CODE_GPA), hvlog__kvm_guest_root_start, hvlog__kvm_guest_root_bytes);

    ctl_put(r, ROOT_CTL_VPS, hvlog_sim_lp_count(r->sim));
    ctl_put(r, ROOT_CTL_DOMAINS, hvlog_sim_domain_count(r->sim));
    ctl_put(r, ROOT_CTL_ABI, (uint64_t)c->abi);
    ctl_put(r, ROOT_CTL_SCRATCH0, scratch0);
    ctl_put(r, ROOT_CTL_SCRATCH1, scratch1);
    ctl_put(r, ROOT_CTL_ROOT_BYTES, r->root_bytes);
    for (uint32_t t = 0; t < 2; t++) {
        const struct hvlog_kvm_root_group *g = &c->groups[t];
        uint32_t o = ROOT_CTL_GROUP + ROOT_CTL_GROUP_BYTES * t;

        ctl_put(r, o + ROOT_CTL_G_ENABLED, g->enabled);
        ctl_put(r, o + ROOT_CTL_G_BUFFERS, g->buffers);
        ctl_put(r, o + ROOT_CTL_G_PAGES, g->pages);
        ctl_put(r, o + ROOT_CTL_G_THRESHOLD, g->threshold);
        ctl_put(r, o + ROOT_CTL_G_BASIS, g->time_basis);
        ctl_put(r, o + ROOT_CTL_G_MODE, g->mode);
        ctl_put(r, o + ROOT_CTL_G_SYSTEM_TIME, g->system_time);
        ctl_put(r, o + ROOT_CTL_G_SOURCES, g->sources);
    }
    ctl_put(r, ROOT_CTL_POKE, c->poke_mapped_buffer);
    ctl_put(r, ROOT_CTL_BAD_MSR, c->read_undefined_msr);
    ctl_put(r, ROOT_CTL_SPIN_AT_STOP, c->spin_at_stop);
    ctl_put(r, ROOT_CTL_MISNAME, c->misname_buffer);
    ctl_put(r, ROOT_CTL_MAGIC, ROOT_MAGIC); /* last: the guest checks it first */
}

/* ---- the exits ---- */

static void collect_results(struct hvlog_kvm_root *r);

/* Every record the guest put in the ring, to the callback; then empty. */
static int ring_consume(struct hvlog_kvm_root *r)
{
    uint64_t used = ctl_get(r, ROOT_CTL_RING_USED);
    const uint8_t *ring = gpa_hva(r, ROOT_RING_GPA);

    if (used > ROOT_RING_BYTES)
        return -1;
    for (uint64_t off = 0; off < used;) {
        uint32_t type, index, len;
        uint64_t span;

        if (used - off < ROOT_RECORD_HEADER)
            return -1;
        type = hvlog_load_le32(ring + off);
        index = hvlog_load_le32(ring + off + 4);
        len = hvlog_load_le32(ring + off + 8);
        span = ROOT_RECORD_HEADER + (((uint64_t)len + 15u) & ~15ull);
        if (type > 1 || span > used - off)
            return -1;
        if (r->config.buffer)
            r->config.buffer(r->config.arg, type, index, ring + off + ROOT_RECORD_HEADER, len);
        off += span;
    }
    ctl_put(r, ROOT_CTL_RING_USED, 0);
    return 0;
}

static bool syncs_slots(uint64_t rcx)
{
    uint16_t code = (uint16_t)rcx;

    return code == HvCallHvMapEventLogBuffer || code == HvCallHvUnmapEventLogBuffer ||
           code == HvCallHvDeleteEventLogBuffer || code == HvCallHvFinalizeEventLogBufferGroup;
}

static int on_hypercall(struct hvlog_kvm_root *r, char *why, size_t why_size)
{
    struct kvm_regs regs;

    if (ioctl(r->vcpu_fd, KVM_GET_REGS, &regs) != 0) {
        hvlog__kvm_say(why, why_size, "root VM: KVM_GET_REGS: %s", strerror(errno));
        return -1;
    }
    regs.rax = hvlog_sim_hypercall(r->sim, HVLOG_SIM_ROOT_ID, 0, regs.rcx, regs.rdx, regs.r8);
    if (ioctl(r->vcpu_fd, KVM_SET_REGS, &regs) != 0) {
        hvlog__kvm_say(why, why_size, "root VM: KVM_SET_REGS: %s", strerror(errno));
        return -1;
    }
    if (syncs_slots(regs.rcx) && slots_sync(r) != 0) {
        hvlog__kvm_say(why, why_size, "root VM: cannot map the root's memory: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static void on_mmio(struct hvlog_kvm_root *r)
{
    struct kvm_run *run = r->run;
    uint32_t len = run->mmio.len <= sizeof run->mmio.data ? run->mmio.len : sizeof run->mmio.data;

    if (run->mmio.is_write) {
        /* A store to a mapped buffer (read-only slot) or a pool page: the
         * §5.5 intercept. The data never reaches memory. */
        if (hvlog_sim_gpa_write(r->sim, HVLOG_SIM_ROOT_ID, run->mmio.phys_addr, run->mmio.data,
                                len) != HVLOG_GPA_OK)
            r->refused++;
    } else if (hvlog_sim_gpa_read(r->sim, HVLOG_SIM_ROOT_ID, run->mmio.phys_addr, run->mmio.data,
                                  len) != HVLOG_GPA_OK) {
        memset(run->mmio.data, 0xFF, sizeof run->mmio.data); /* nothing there: all ones */
    }
}

/* The guest's reason for stopping, when it failed. */
static void guest_failure(struct hvlog_kvm_root *r, char *why, size_t why_size)
{
    static const char *const steps[] = {"none",    "control page", "SynIC",  "client",
                                        "prepare", "SetSources",   "conclude", "#GP at RIP"};
    uint64_t step = ctl_get(r, ROOT_CTL_STEP), status = ctl_get(r, ROOT_CTL_STATUS);

    hvlog__kvm_say(why, why_size, "the guest root failed in %s (status 0x%llx)",
                   step < sizeof steps / sizeof steps[0] ? steps[step] : "?",
                   (unsigned long long)status);
}

/* 1: go on; 0: the guest is done; -1: failed (@why). */
static int root_exit(struct hvlog_kvm_root *r, bool *done, char *why, size_t why_size)
{
    struct kvm_run *run = r->run;
    bool stopping;

    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == ROOT_PORT_HYPERCALL)
            return on_hypercall(r, why, why_size) == 0 ? 1 : -1;
        if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == ROOT_PORT_DOORBELL) {
            uint8_t bell = *((const uint8_t *)run + run->io.data_offset);

            if (bell == ROOT_BELL_RECORDS) {
                if (ring_consume(r) == 0)
                    return 1;
                hvlog__kvm_say(why, why_size, "the guest root's ring holds a bad record");
                return -1;
            }
            if (bell == ROOT_BELL_PREPARED) {
                /* The reference times the guest read at Initialize are
                 * there now: the caller of start reads them next. */
                collect_results(r);
                pthread_mutex_lock(&r->lock);
                r->prepared = true;
                pthread_cond_broadcast(&r->cond);
                pthread_mutex_unlock(&r->lock);
                return 1;
            }
            if (bell == ROOT_BELL_DONE) {
                *done = true;
                if (ctl_get(r, ROOT_CTL_STATUS) != 0) {
                    guest_failure(r, why, why_size);
                    return -1;
                }
                return 1;
            }
        }
        hvlog__kvm_say(why, why_size, "root VM: unexpected port I/O at 0x%x", run->io.port);
        return -1;
    case KVM_EXIT_MMIO:
        on_mmio(r);
        return 1;
    case KVM_EXIT_X86_RDMSR:
        if (run->msr.index == TIME_REF_COUNT) {
            run->msr.error = 0;
            run->msr.data = r->sim_ops.read_reference_time(r->sim, 0);
            return 1;
        }
        /* fall through */
    case KVM_EXIT_X86_WRMSR:
        /* The SynIC's go to the sim; another synthetic MSR is a #GP, as
         * on a hypervisor that does not define it. */
        if (!hvlog__kvm_root_msr_exit(r->sim, 0, run))
            run->msr.error = 1;
        return 1;
    case KVM_EXIT_HLT:
        if (*done)
            return 0;
        if (!run->if_flag) {
            /* Nothing could wake it: only DONE's HLT has IF clear. */
            hvlog__kvm_say(why, why_size, "the guest root halted with interrupts off");
            return -1;
        }
        pthread_mutex_lock(&r->lock);
        stopping = r->stopping;
        pthread_mutex_unlock(&r->lock);
        if (stopping) {
            /* It should be concluding: do not wait on it unbounded. */
            struct timespec nap = {0, ROOT_STOPPING_NAP_NS};

            nanosleep(&nap, NULL);
            return 1;
        }
        /* The guest waits for SINT0: until the sim raises it, or stop. */
        (void)hvlog__kvm_root_sint_halt(&r->sint);
        return 1;
    case KVM_EXIT_IRQ_WINDOW_OPEN:
    case KVM_EXIT_INTR:
        return 1;
    case KVM_EXIT_SHUTDOWN:
        hvlog__kvm_say(why, why_size, "the guest root stopped with a triple fault (a refused MSR?)");
        return -1;
    default:
        hvlog__kvm_say(why, why_size, "root VM: unexpected exit reason %u", run->exit_reason);
        return -1;
    }
}

static void collect_results(struct hvlog_kvm_root *r)
{
    for (uint32_t t = 0; t < 2; t++) {
        uint32_t o = ROOT_CTL_RESULT + ROOT_CTL_RESULT_BYTES * t;
        struct hvlog_kvm_root_result *res = &r->results[t];

        res->reference_time_known = ctl_get(r, o + ROOT_CTL_R_REF_KNOWN) != 0;
        res->reference_time_at_init = ctl_get(r, o + ROOT_CTL_R_REF_TIME);
        res->messages = ctl_get(r, o + ROOT_CTL_R_MESSAGES);
        res->buffers = ctl_get(r, o + ROOT_CTL_R_BUFFERS);
        res->entries = ctl_get(r, o + ROOT_CTL_R_ENTRIES);
        res->events_lost = ctl_get(r, o + ROOT_CTL_R_EVENTS_LOST);
        res->corrupt = ctl_get(r, o + ROOT_CTL_R_CORRUPT);
        res->longest_chain = (uint32_t)ctl_get(r, o + ROOT_CTL_R_LONGEST_CHAIN);
        res->release_failures = ctl_get(r, o + ROOT_CTL_R_RELEASE_FAILURES);
        res->bytes = ctl_get(r, o + ROOT_CTL_R_BYTES);
        res->polls = ctl_get(r, ROOT_CTL_POLLS);
        res->interrupts = ctl_get(r, ROOT_CTL_INTERRUPTS);
    }
    r->poke_unchanged = ctl_get(r, ROOT_CTL_POKE_SAME) != 0;
}

/* Stop asked and the deadline passed (or stop kicked us): give up on the
 * guest. @why says so. The root VM's thread. */
static bool stop_overdue(struct hvlog_kvm_root *r, char *why, size_t why_size)
{
    bool overdue;

    pthread_mutex_lock(&r->lock);
    overdue = r->forced || (r->stopping && mono_ns() > r->stop_at_ns);
    pthread_mutex_unlock(&r->lock);
    if (overdue)
        hvlog__kvm_say(why, why_size, "the guest root did not stop within %llu ms; stopped by force",
                       (unsigned long long)(r->stop_deadline_ns / 1000000u));
    return overdue;
}

static void *root_main(void *arg)
{
    struct hvlog_kvm_root *r = arg;
    char why[sizeof r->error] = "";
    bool done = false;
    int rc = 1;

    if (hvlog__kvm_vcpu_kickable(r->vcpu_fd, ROOT_KICK_SIGNAL) != 0) {
        hvlog__kvm_say(why, sizeof why, "root VM: KVM_SET_SIGNAL_MASK: %s", strerror(errno));
        rc = -1;
    }
    while (rc > 0) {
        /* Before each KVM_RUN, so that a kick's EINTR brings us here. */
        if (stop_overdue(r, why, sizeof why)) {
            rc = -1;
            break;
        }
        if (hvlog__kvm_root_sint_before_run(&r->sint, r->vcpu_fd, r->run) != 0) {
            hvlog__kvm_say(why, sizeof why, "root VM: KVM_INTERRUPT: %s", strerror(errno));
            rc = -1;
            break;
        }
        if (ioctl(r->vcpu_fd, KVM_RUN, 0) != 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            hvlog__kvm_say(why, sizeof why, "root VM: KVM_RUN: %s", strerror(errno));
            rc = -1;
            break;
        }
        rc = root_exit(r, &done, why, sizeof why);
    }
    collect_results(r);
    pthread_mutex_lock(&r->sint.lock);
    for (uint32_t t = 0; t < 2; t++)
        r->results[t].injected = r->sint.injected;
    pthread_mutex_unlock(&r->sint.lock);
    pthread_mutex_lock(&r->lock);
    if (rc < 0)
        memcpy(r->error, why, sizeof why);
    r->finished = true;
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* ---- life ---- */

static void root_close(struct hvlog_kvm_root *r)
{
    /* The VM goes before the memory its slots name (the sim's). */
    if (r->run && r->run != MAP_FAILED)
        munmap(r->run, (size_t)r->run_bytes);
    r->run = NULL;
    if (r->vcpu_fd >= 0)
        close(r->vcpu_fd);
    if (r->vm_fd >= 0)
        close(r->vm_fd);
    if (r->kvm_fd >= 0)
        close(r->kvm_fd);
    r->vcpu_fd = r->vm_fd = r->kvm_fd = -1;
}

static int root_open(struct hvlog_kvm_root *r, char *why, size_t why_size)
{
    r->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (r->kvm_fd < 0) {
        hvlog__kvm_say(why, why_size, "cannot open /dev/kvm: %s", strerror(errno));
        return -1;
    }
    r->run_bytes = ioctl(r->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    r->vm_fd = ioctl(r->kvm_fd, KVM_CREATE_VM, 0);
    if (r->vm_fd < 0 || r->run_bytes < (int)sizeof(struct kvm_run)) {
        hvlog__kvm_say(why, why_size, "cannot create the root VM: %s", strerror(errno));
        return -1;
    }
    (void)ioctl(r->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
    if (hvlog__kvm_root_msr_filter(r->vm_fd) != 0) {
        hvlog__kvm_say(why, why_size, "cannot filter the root VM's MSRs: %s", strerror(errno));
        return -1;
    }
    guest_memory(r);
    if (slots_sync(r) != 0) {
        hvlog__kvm_say(why, why_size, "cannot map the root's memory: %s", strerror(errno));
        return -1;
    }
    r->vcpu_fd = ioctl(r->vm_fd, KVM_CREATE_VCPU, 0ul);
    if (r->vcpu_fd < 0) {
        hvlog__kvm_say(why, why_size, "KVM_CREATE_VCPU: %s", strerror(errno));
        return -1;
    }
    r->run = mmap(NULL, (size_t)r->run_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, r->vcpu_fd, 0);
    if (r->run == MAP_FAILED) {
        r->run = NULL;
        hvlog__kvm_say(why, why_size, "cannot map kvm_run: %s", strerror(errno));
        return -1;
    }
    if (hvlog__kvm_root_long_mode(r->vcpu_fd, ROOT_PT_GPA, ROOT_CODE_GPA) != 0) {
        hvlog__kvm_say(why, why_size, "cannot put the root VP in long mode: %s", strerror(errno));
        return -1;
    }
    return 0;
}

int hvlog_kvm_root_start(struct hvlog_sim *sim, const struct hvlog_kvm_root_config *config,
                         struct hvlog_kvm_root **out, char *why, size_t why_size)
{
    struct hvlog_kvm_root *r;
    uint64_t fixed = 0;
    struct timespec deadline;
    pthread_condattr_t attr;
    bool ok;

    *out = NULL;
    if (!sim || !config || (config->abi != HVLOG_ABI_2013 && config->abi != HVLOG_ABI_CURRENT)) {
        hvlog__kvm_say(why, why_size, "bad root VM configuration");
        return -1;
    }
    if (hvlog__kvm_guest_root_bytes > ROOT_CODE_MAX) {
        hvlog__kvm_say(why, why_size, "the guest root's image is too large");
        return -1;
    }
    r = calloc(1, sizeof *r);
    if (!r) {
        hvlog__kvm_say(why, why_size, "out of memory");
        return -1;
    }
    r->sim = sim;
    r->config = *config;
    r->stop_deadline_ns =
        config->stop_deadline_ms ? config->stop_deadline_ms * 1000000ull : STOP_DEADLINE_NS;
    r->kvm_fd = r->vm_fd = r->vcpu_fd = -1;
    hvlog__kvm_root_sint_init(&r->sint, 0);
    hvlog_sim_root_ops(sim, &r->sim_ops);
    r->base = hvlog_sim_root_memory(sim, &r->root_bytes, &fixed);
    if (fixed < ROOT_GUEST_END || r->root_bytes > IDENTITY_BYTES) {
        hvlog__kvm_say(why, why_size,
                       "the root's fixed RAM (%llu pages) must hold the guest (%u pages), "
                       "and its GPA space fit in 4 GiB",
                       (unsigned long long)(fixed / 4096u), (unsigned)ROOT_GUEST_RAM_PAGES);
        hvlog__kvm_root_sint_fini(&r->sint);
        free(r);
        return -1;
    }
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        hvlog__kvm_root_sint_fini(&r->sint);
        free(r);
        hvlog__kvm_say(why, why_size, "out of memory");
        return -1;
    }
    ok = pthread_condattr_init(&attr) == 0;
    if (ok) {
        ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
             pthread_cond_init(&r->cond, &attr) == 0;
        pthread_condattr_destroy(&attr);
    }
    if (!ok) {
        pthread_mutex_destroy(&r->lock);
        hvlog__kvm_root_sint_fini(&r->sint);
        free(r);
        hvlog__kvm_say(why, why_size, "out of memory");
        return -1;
    }
    if (root_open(r, why, why_size) != 0) {
        hvlog_kvm_root_destroy(r);
        return -1;
    }
    /* §8.5: from now on a message the sim puts in VP 0's SINT0 slot raises
     * the vector the guest programs into SINT0 (removed at stop). */
    if (hvlog_sim_set_sint_hook(sim, 0, hvlog__kvm_root_sint_hook, &r->sint) != 0) {
        hvlog__kvm_say(why, why_size, "the sim has no VP 0");
        hvlog_kvm_root_destroy(r);
        return -1;
    }
    r->hooked = true;
    if (pthread_create(&r->thread, NULL, root_main, r) != 0) {
        hvlog__kvm_say(why, why_size, "cannot start the root VM's thread");
        hvlog_kvm_root_destroy(r);
        return -1;
    }
    r->thread_started = true;
    /* Wait for the guest to have prepared its groups (or to have failed). */
    deadline = mono_ts(mono_ns() + START_DEADLINE_NS);
    pthread_mutex_lock(&r->lock);
    while (!r->prepared && !r->finished) {
        if (pthread_cond_timedwait(&r->cond, &r->lock, &deadline) == ETIMEDOUT)
            break;
    }
    ok = r->prepared && !r->finished;
    if (!ok)
        hvlog__kvm_say(why, why_size, "%s",
                       r->finished && r->error[0] ? r->error
                                                  : "the guest root did not prepare in time");
    pthread_mutex_unlock(&r->lock);
    if (!ok) {
        hvlog_kvm_root_destroy(r);
        return -1;
    }
    *out = r;
    return 0;
}

int hvlog_kvm_root_stop(struct hvlog_kvm_root *r, char *why, size_t why_size)
{
    int rc = 0;

    if (!r)
        return 0;
    if (r->thread_started) {
        struct timespec at;

        pthread_mutex_lock(&r->lock);
        if (!r->stopping) {
            r->stopping = true;
            r->stop_at_ns = mono_ns() + r->stop_deadline_ns;
        }
        pthread_mutex_unlock(&r->lock);
        /* The guest reads the word before each HLT, with IF clear; the
         * wake ends the HLT it may be in (or the next one). */
        ctl_put(r, ROOT_CTL_STOP, 1);
        hvlog__kvm_root_sint_wake(&r->sint);
        /* Until the deadline the guest may conclude; after it, the vCPU is
         * kicked out of KVM_RUN (head comment) until its thread is done. */
        pthread_mutex_lock(&r->lock);
        at = mono_ts(r->stop_at_ns);
        while (!r->finished && !r->forced) {
            if (pthread_cond_timedwait(&r->cond, &r->lock, &at) == ETIMEDOUT)
                r->forced = true;
        }
        while (!r->finished) {
            pthread_mutex_unlock(&r->lock);
            hvlog__kvm_root_sint_kick(&r->sint, ROOT_KICK_SIGNAL);
            pthread_mutex_lock(&r->lock);
            at = mono_ts(mono_ns() + STOP_KICK_EVERY_NS);
            if (!r->finished)
                (void)pthread_cond_timedwait(&r->cond, &r->lock, &at);
        }
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
        r->thread_started = false;
    }
    if (r->hooked) {
        /* Under the sim's VP lock: no hook call is in flight after this. */
        (void)hvlog_sim_set_sint_hook(r->sim, 0, NULL, NULL);
        r->hooked = false;
    }
    if (r->error[0]) {
        hvlog__kvm_say(why, why_size, "%s", r->error);
        rc = -1;
    }
    root_close(r);
    return rc;
}

void hvlog_kvm_root_result(const struct hvlog_kvm_root *r, uint32_t type,
                           struct hvlog_kvm_root_result *out)
{
    if (r && type < 2)
        *out = r->results[type];
    else
        memset(out, 0, sizeof *out);
}

uint64_t hvlog_kvm_root_refused_writes(const struct hvlog_kvm_root *r)
{
    return r ? r->refused : 0;
}

bool hvlog_kvm_root_poke_unchanged(const struct hvlog_kvm_root *r)
{
    return r && r->poke_unchanged;
}

void hvlog_kvm_root_destroy(struct hvlog_kvm_root *r)
{
    if (!r)
        return;
    (void)hvlog_kvm_root_stop(r, NULL, 0);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    hvlog__kvm_root_sint_fini(&r->sint);
    free(r);
}
