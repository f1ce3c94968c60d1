/* SPDX-License-Identifier: MIT */
/*
 * The KVM host (hvlog/kvm/kvm.h): a child VM whose vCPUs are the LPs, and
 * an exit loop per vCPU that logs every exit with the §4.8 catalogue's
 * intercept entry.
 *
 * Facts of the KVM API (Documentation/virt/kvm/api.rst) this file leans on:
 *   - without an in-kernel irqchip (KVM_CREATE_IRQCHIP never called), HLT
 *     is not emulated in the kernel: KVM_RUN returns KVM_EXIT_HLT;
 *   - a guest write to a KVM_MEM_READONLY slot returns KVM_EXIT_MMIO with
 *     is_write set (reads are served from the slot); an access where no
 *     slot is returns KVM_EXIT_MMIO too;
 *   - with KVM_CAP_X86_USER_SPACE_MSR enabled for KVM_MSR_EXIT_REASON_FILTER
 *     and a filter range whose bitmap bits are clear, rdmsr/wrmsr of those
 *     MSRs return KVM_EXIT_X86_RDMSR/WRMSR; user space answers in
 *     run->msr (data for a read; error = 1 injects #GP) and re-enters;
 *   - an IN or an MMIO read is completed by the next KVM_RUN, which takes
 *     the value user space wrote into run's io data / mmio.data;
 *   - KVM_CAP_SYNC_REGS with kvm_valid_regs = KVM_SYNC_X86_REGS fills
 *     run->s.regs on every exit, saving a KVM_GET_REGS per exit.
 *
 * Threads: the caller's (create, start, stop, destroy) and one per vCPU.
 * A vCPU thread owns its vCPU fd, its kvm_run page and its counters (one
 * writer, relaxed atomic stores; readers load relaxed). @stop and
 * @running are the shared flags (atomics); @error_lock guards @error.
 * Logging goes through hvlog_sim_log(), which takes the LP's mailbox lock:
 * the engine's run_on_lp (Flush taking an InUse buffer, Q-CONC) then runs
 * in the root's thread between two exits of that vCPU.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, pthread_setname_np, CPU_* */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hvlog/abi/catalog.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "kvm/kvm_internal.h"

#define KVM_API_VERSION_EXPECTED 12
#define KVM_TSS_GPA 0xfffbd000ul /* three pages Intel's real-mode emulation may want */
#define KVM_MMIO_BYTES 0x1000ull
#define KVM_PAGE 4096u
#define KVM_MSR_RANGE_BASE 0x40000000u /* Hyper-V's synthetic MSRs */
#define KVM_MSR_RANGE_COUNT 256u
#define KVM_MIX_MAX 1000u
#define NS_PER_S 1000000000ull
#define PACE_SLICE_NS 1000000ull /* a paced vCPU looks at @stop at least every 1 ms */
#define ERROR_BYTES 256u
#define CACHE_LINE 64

struct kvm_vcpu_ctx {
    struct hvlog_kvm *kvm;
    uint32_t index;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool thread_started;            /* controller thread only */
    struct hvlog_kvm_counts counts; /* one writer: the vCPU's thread */
} __attribute__((aligned(CACHE_LINE)));

struct hvlog_kvm {
    struct hvlog_sim *sim;
    struct hvlog_kvm_config config;
    struct hvlog_root_ops root; /* for the reference counter the guest's rdmsr reads */
    int kvm_fd, vm_fd;
    size_t run_bytes;
    bool sync_regs;
    uint8_t *ram; /* KVM_GUEST_RAM_BYTES at GPA 0 */
    uint8_t *ro;  /* one page at HVLOG_KVM_RO_GPA, read-only to the guest */
    struct kvm_vcpu_ctx *vcpus;
    uint32_t vcpus_made;

    int stop;    /* atomic: vCPU threads leave their loop */
    int running; /* atomic: vCPU threads still in their loop */
    bool threads;

    pthread_mutex_t error_lock;
    char error[ERROR_BYTES]; /* the first vCPU error, "" when none */
};

void hvlog__kvm_say(char *why, size_t size, const char *fmt, ...)
{
    va_list ap;

    if (!why || !size)
        return;
    va_start(ap, fmt);
    vsnprintf(why, size, fmt, ap);
    va_end(ap);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

struct hvlog_kvm_config hvlog_kvm_config_default(uint32_t vcpus)
{
    struct hvlog_kvm_config c = {.vcpus = vcpus, .mix = {4, 2, 2, 2, 1, 2, 2, 1}};
    return c;
}

/* ---- probing ---- */

static int open_kvm(char *why, size_t why_size)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    int version;

    if (fd < 0) {
        hvlog__kvm_say(why, why_size, "cannot open /dev/kvm: %s", strerror(errno));
        return -1;
    }
    version = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (version < 0) {
        hvlog__kvm_say(why, why_size, "/dev/kvm is not KVM (KVM_GET_API_VERSION: %s)", strerror(errno));
        close(fd);
        return -1;
    }
    if (version != KVM_API_VERSION_EXPECTED) {
        hvlog__kvm_say(why, why_size, "/dev/kvm speaks API version %d, not %d", version,
            KVM_API_VERSION_EXPECTED);
        close(fd);
        return -1;
    }
    static const struct {
        int cap;
        const char *name;
    } needed[] = {
        {KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM"},
        {KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR"},
        {KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER"},
    };
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) {
        if (ioctl(fd, KVM_CHECK_EXTENSION, needed[i].cap) <= 0) {
            hvlog__kvm_say(why, why_size, "/dev/kvm lacks %s", needed[i].name);
            close(fd);
            return -1;
        }
    }
    return fd;
}

int hvlog_kvm_probe(char *why, size_t why_size)
{
    int fd = open_kvm(why, why_size);

    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* ---- the VM ---- */

static bool config_valid(const struct hvlog_kvm_config *c, uint32_t lps, char *why,
                         size_t why_size)
{
    uint32_t sum = 0;

    if (c->vcpus == 0 || c->vcpus > HVLOG_KVM_MAX_VCPUS || c->vcpus != lps) {
        hvlog__kvm_say(why, why_size, "%u vCPUs for a host of %u LPs (1..%u, one vCPU per LP)", c->vcpus,
            lps, HVLOG_KVM_MAX_VCPUS);
        return false;
    }
    for (uint32_t k = 0; k < HVLOG_KVM_EXIT_KINDS; k++) {
        if (c->mix[k] > KVM_MIX_MAX) {
            hvlog__kvm_say(why, why_size, "a guest mix of %u operations of one kind (at most %u)", c->mix[k],
                KVM_MIX_MAX);
            return false;
        }
        sum += c->mix[k];
    }
    if (sum == 0) {
        hvlog__kvm_say(why, why_size, "a guest mix with no exiting operation would never exit");
        return false;
    }
    return true;
}

static int set_region(struct hvlog_kvm *kvm, uint32_t slot, uint64_t gpa, void *hva,
                      uint64_t bytes, uint32_t flags)
{
    struct kvm_userspace_memory_region r = {
        .slot = slot,
        .flags = flags,
        .guest_phys_addr = gpa,
        .memory_size = bytes,
        .userspace_addr = (uint64_t)(uintptr_t)hva,
    };
    return ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
}

int hvlog__kvm_msr_filter_deny(int vm_fd, uint32_t base, uint32_t nmsrs)
{
    uint8_t deny[KVM_MSR_RANGE_COUNT / 8]; /* all clear: deny every one (copied by the ioctl) */
    struct kvm_enable_cap cap = {.cap = KVM_CAP_X86_USER_SPACE_MSR,
                                 .args = {KVM_MSR_EXIT_REASON_FILTER}};
    struct kvm_msr_filter filter;

    if (nmsrs == 0 || nmsrs > KVM_MSR_RANGE_COUNT) {
        errno = EINVAL;
        return -1;
    }
    memset(deny, 0, sizeof deny);
    memset(&filter, 0, sizeof filter);
    filter.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
    filter.ranges[0] = (struct kvm_msr_filter_range){
        .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE,
        .nmsrs = nmsrs,
        .base = base,
        .bitmap = deny,
    };
    if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) != 0)
        return -1;
    return ioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &filter);
}

/* Filtered MSRs exit to us: the whole synthetic range, reads and writes. */
static int set_msr_filter(struct hvlog_kvm *kvm)
{
    return hvlog__kvm_msr_filter_deny(kvm->vm_fd, KVM_MSR_RANGE_BASE, KVM_MSR_RANGE_COUNT);
}

/* 32-bit protected mode, flat 4 GiB segments, no paging, set directly in
 * the segment caches (no GDT: the program never loads a selector). */
static int vcpu_setup(struct hvlog_kvm *kvm, struct kvm_vcpu_ctx *v)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    struct kvm_segment code = {
        .base = 0, .limit = 0xffffffffu, .selector = 8, .type = 11, .present = 1,
        .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
    };
    struct kvm_segment data = code;

    if (ioctl(v->fd, KVM_GET_SREGS, &sregs) != 0)
        return -1;
    data.type = 3;
    data.selector = 16;
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr0 |= 1u; /* PE */
    if (ioctl(v->fd, KVM_SET_SREGS, &sregs) != 0)
        return -1;
    memset(&regs, 0, sizeof regs);
    regs.rip = HVLOG_KVM_CODE_GPA;
    regs.rflags = 2; /* reserved bit 1; IF clear */
    if (ioctl(v->fd, KVM_SET_REGS, &regs) != 0)
        return -1;
    if (kvm->sync_regs)
        v->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
    return 0;
}

int hvlog_kvm_create(struct hvlog_sim *sim, const struct hvlog_kvm_config *config,
                     struct hvlog_kvm **out, char *why, size_t why_size)
{
    struct hvlog_kvm *kvm;
    int run_bytes;

    if (!sim || !config || !out) {
        hvlog__kvm_say(why, why_size, "no host, configuration or result");
        return -1;
    }
    if (!config_valid(config, hvlog_sim_lp_count(sim), why, why_size))
        return -1;
    kvm = calloc(1, sizeof *kvm);
    if (!kvm) {
        hvlog__kvm_say(why, why_size, "out of memory");
        return -1;
    }
    kvm->sim = sim;
    kvm->config = *config;
    kvm->vm_fd = -1;
    kvm->ram = kvm->ro = MAP_FAILED;
    pthread_mutex_init(&kvm->error_lock, NULL); /* default attributes: cannot fail */
    hvlog_sim_root_ops(sim, &kvm->root);
    kvm->vcpus = aligned_alloc(CACHE_LINE, sizeof(struct kvm_vcpu_ctx) * config->vcpus);
    if (!kvm->vcpus) {
        hvlog__kvm_say(why, why_size, "out of memory");
        goto fail;
    }
    memset(kvm->vcpus, 0, sizeof(struct kvm_vcpu_ctx) * config->vcpus);
    kvm->kvm_fd = open_kvm(why, why_size);
    if (kvm->kvm_fd < 0)
        goto fail;
    kvm->sync_regs = ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) > 0;
    run_bytes = ioctl(kvm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (run_bytes < (int)sizeof(struct kvm_run)) {
        hvlog__kvm_say(why, why_size, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        goto fail;
    }
    kvm->run_bytes = (size_t)run_bytes;
    kvm->vm_fd = ioctl(kvm->kvm_fd, KVM_CREATE_VM, 0);
    if (kvm->vm_fd < 0) {
        hvlog__kvm_say(why, why_size, "KVM_CREATE_VM: %s", strerror(errno));
        goto fail;
    }
    /* Intel without unrestricted guest wants it even for protected mode
     * set up directly; elsewhere it is harmless. */
    (void)ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_GPA);

    kvm->ram = mmap(NULL, KVM_GUEST_RAM_BYTES, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    kvm->ro = mmap(NULL, KVM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (kvm->ram == MAP_FAILED || kvm->ro == MAP_FAILED) {
        hvlog__kvm_say(why, why_size, "cannot map guest memory: %s", strerror(errno));
        goto fail;
    }
    for (uint32_t k = 0; k < HVLOG_KVM_EXIT_KINDS; k++)
        hvlog_store_le32(kvm->ram + KVM_GUEST_MIX_GPA + (size_t)4 * k, config->mix[k]);
    memcpy(kvm->ram + HVLOG_KVM_CODE_GPA, hvlog__kvm_guest_start, hvlog__kvm_guest_bytes);
    memset(kvm->ro, 0xA5, KVM_PAGE);
    if (set_region(kvm, 0, 0, kvm->ram, KVM_GUEST_RAM_BYTES, 0) != 0 ||
        set_region(kvm, 1, HVLOG_KVM_RO_GPA, kvm->ro, KVM_PAGE, KVM_MEM_READONLY) != 0) {
        hvlog__kvm_say(why, why_size, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
        goto fail;
    }
    if (set_msr_filter(kvm) != 0) {
        hvlog__kvm_say(why, why_size, "cannot filter the synthetic MSRs: %s", strerror(errno));
        goto fail;
    }
    for (; kvm->vcpus_made < config->vcpus; kvm->vcpus_made++) {
        struct kvm_vcpu_ctx *v = &kvm->vcpus[kvm->vcpus_made];
        void *run;

        v->kvm = kvm;
        v->index = kvm->vcpus_made;
        v->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, (unsigned long)v->index);
        if (v->fd < 0) {
            hvlog__kvm_say(why, why_size, "KVM_CREATE_VCPU %u: %s", v->index, strerror(errno));
            goto fail;
        }
        run = mmap(NULL, kvm->run_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
        if (run == MAP_FAILED) {
            hvlog__kvm_say(why, why_size, "cannot map vCPU %u's kvm_run: %s", v->index, strerror(errno));
            close(v->fd);
            goto fail;
        }
        v->run = run;
        if (vcpu_setup(kvm, v) != 0) {
            hvlog__kvm_say(why, why_size, "cannot set up vCPU %u: %s", v->index, strerror(errno));
            munmap(v->run, kvm->run_bytes);
            close(v->fd);
            goto fail;
        }
    }
    *out = kvm;
    return 0;
fail:
    hvlog_kvm_destroy(kvm);
    return -1;
}

void hvlog_kvm_destroy(struct hvlog_kvm *kvm)
{
    if (!kvm)
        return;
    hvlog_kvm_stop(kvm);
    for (uint32_t i = 0; i < kvm->vcpus_made; i++) {
        munmap(kvm->vcpus[i].run, kvm->run_bytes);
        close(kvm->vcpus[i].fd);
    }
    if (kvm->vm_fd >= 0)
        close(kvm->vm_fd);
    if (kvm->kvm_fd >= 0)
        close(kvm->kvm_fd);
    if (kvm->ram != MAP_FAILED)
        munmap(kvm->ram, KVM_GUEST_RAM_BYTES);
    if (kvm->ro != MAP_FAILED)
        munmap(kvm->ro, KVM_PAGE);
    pthread_mutex_destroy(&kvm->error_lock);
    free(kvm->vcpus);
    free(kvm);
}

/* ---- the exit loop ---- */

static void vcpu_error(struct kvm_vcpu_ctx *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void vcpu_error(struct kvm_vcpu_ctx *v, const char *fmt, ...)
{
    struct hvlog_kvm *kvm = v->kvm;

    pthread_mutex_lock(&kvm->error_lock);
    if (!kvm->error[0]) {
        int n = snprintf(kvm->error, sizeof kvm->error, "vCPU %u: ", v->index);
        va_list ap;

        va_start(ap, fmt);
        if (n > 0 && (size_t)n < sizeof kvm->error)
            vsnprintf(kvm->error + n, sizeof kvm->error - (size_t)n, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&kvm->error_lock);
}

const char *hvlog_kvm_error(struct hvlog_kvm *kvm)
{
    const char *e;

    pthread_mutex_lock(&kvm->error_lock);
    e = kvm->error[0] ? kvm->error : NULL;
    pthread_mutex_unlock(&kvm->error_lock);
    return e;
}

static void counter_add(uint64_t *c, uint64_t n)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static uint64_t vcpu_rip(struct kvm_vcpu_ctx *v)
{
    struct kvm_regs regs;

    if (v->kvm->sync_regs)
        return v->run->s.regs.regs.rip;
    if (ioctl(v->fd, KVM_GET_REGS, &regs) != 0)
        return 0;
    return regs.rip;
}

/* One exit, decoded: the catalogue's entry and its parameters. */
struct exit_event {
    enum hvlog_kvm_exit_kind kind;
    uint16_t entry_type;
    uint32_t params;
    uint64_t p[3];
};

/* The value the VMM hands a guest read: which vCPU, and how many exits it
 * had, so that a reader can tell reads apart. */
static uint32_t read_value(const struct kvm_vcpu_ctx *v)
{
    return (v->index << 24) | (uint32_t)(v->counts.exits_total & 0xFFFFFFu);
}

static uint64_t load_le(const uint8_t *p, uint32_t len)
{
    uint64_t x = 0;

    for (uint32_t i = len; i-- > 0;)
        x = x << 8 | p[i];
    return x;
}

static void store_le(uint8_t *p, uint32_t len, uint64_t x)
{
    for (uint32_t i = 0; i < len; i++, x >>= 8)
        p[i] = (uint8_t)x;
}

/* Returns 1 with @ev filled, 0 for an exit that is no event (a signal),
 * -1 for one the VMM does not expect (the vCPU stops, the reason kept). */
static int exit_decode(struct kvm_vcpu_ctx *v, struct exit_event *ev)
{
    struct kvm_run *run = v->run;

    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        bool out = run->io.direction == KVM_EXIT_IO_OUT;

        if (run->io.count != 1 || run->io.size > 4 ||
            run->io.port != (out ? HVLOG_KVM_PORT_OUT : HVLOG_KVM_PORT_IN)) {
            vcpu_error(v, "unexpected %s of %u x %u bytes at port 0x%x", out ? "out" : "in",
                       run->io.count, run->io.size, run->io.port);
            return -1;
        }
        if (!out)
            store_le(data, run->io.size, read_value(v));
        *ev = (struct exit_event){out ? HVLOG_KVM_IO_OUT : HVLOG_KVM_IO_IN,
                                  out ? HV_TR_IM_IO_PORT_WRITE : HV_TR_IM_IO_PORT_READ, 3,
                                  {vcpu_rip(v), run->io.port, load_le(data, run->io.size)}};
        return 1;
    }
    case KVM_EXIT_MMIO: {
        uint64_t gpa = run->mmio.phys_addr;
        uint32_t len = run->mmio.len > 8 ? 8 : run->mmio.len;
        enum hvlog_kvm_exit_kind kind;

        if (gpa >= HVLOG_KVM_MMIO_GPA && gpa < HVLOG_KVM_MMIO_GPA + KVM_MMIO_BYTES) {
            kind = run->mmio.is_write ? HVLOG_KVM_MMIO_WRITE : HVLOG_KVM_MMIO_READ;
            if (!run->mmio.is_write)
                store_le(run->mmio.data, len, read_value(v));
        } else if (gpa >= HVLOG_KVM_RO_GPA && gpa < HVLOG_KVM_RO_GPA + KVM_PAGE &&
                   run->mmio.is_write) {
            kind = HVLOG_KVM_RO_WRITE; /* refused: the slot keeps its bytes */
        } else {
            vcpu_error(v, "unexpected MMIO %s at GPA 0x%llx", run->mmio.is_write ? "write" : "read",
                       (unsigned long long)gpa);
            return -1;
        }
        *ev = (struct exit_event){kind, HV_TR_IM_MEMORY_INTERCEPT, 3,
                                  {vcpu_rip(v), gpa,
                                   run->mmio.is_write ? HVLOG_KVM_ACCESS_WRITE
                                                      : HVLOG_KVM_ACCESS_READ}};
        return 1;
    }
    case KVM_EXIT_X86_RDMSR:
        if (run->msr.index != HVLOG_KVM_MSR_READ_INDEX) {
            vcpu_error(v, "unexpected rdmsr 0x%x", run->msr.index);
            return -1;
        }
        /* The partition reference counter, as the root reads it (§4.4). */
        run->msr.error = 0;
        run->msr.data = v->kvm->root.read_reference_time(v->kvm->sim, 0);
        *ev = (struct exit_event){HVLOG_KVM_MSR_READ, HV_TR_IM_MSR_READ, 3,
                                  {vcpu_rip(v), run->msr.index, run->msr.data}};
        return 1;
    case KVM_EXIT_X86_WRMSR:
        if (run->msr.index != HVLOG_KVM_MSR_WRITE_INDEX) {
            vcpu_error(v, "unexpected wrmsr 0x%x", run->msr.index);
            return -1;
        }
        run->msr.error = 0; /* accepted; the guest OS id means nothing to us */
        *ev = (struct exit_event){HVLOG_KVM_MSR_WRITE, HV_TR_IM_MSR_WRITE, 3,
                                  {vcpu_rip(v), run->msr.index, run->msr.data}};
        return 1;
    case KVM_EXIT_HLT:
        *ev = (struct exit_event){HVLOG_KVM_HLT, HV_TR_IM_HLT, 1, {vcpu_rip(v), 0, 0}};
        return 1;
    case KVM_EXIT_INTR:
        return 0; /* a signal reached this thread: look at @stop, re-enter */
    case KVM_EXIT_FAIL_ENTRY:
        vcpu_error(v, "KVM_RUN failed to enter the guest (hardware reason 0x%llx)",
                   (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        return -1;
    case KVM_EXIT_INTERNAL_ERROR:
        vcpu_error(v, "KVM internal error %u", run->internal.suberror);
        return -1;
    default:
        vcpu_error(v, "unexpected exit reason %u at RIP 0x%llx", run->exit_reason,
                   (unsigned long long)vcpu_rip(v));
        return -1;
    }
}

static void exit_log(struct kvm_vcpu_ctx *v, const struct exit_event *ev)
{
    struct hvlog_kvm_counts *c = &v->counts;
    uint8_t payload[3 * 8];
    enum hvlog_log_result r;

    counter_add(&c->exits[ev->kind], 1);
    counter_add(&c->exits_total, 1);
    if (v->kvm->config.no_log)
        return;
    uint64_t t0 = v->kvm->config.timing ? mono_ns() : 0;
    for (uint32_t i = 0; i < ev->params; i++)
        hvlog_store_le64(payload + (size_t)8 * i, ev->p[i]);
    /* Context: the LP's count of logged exits before this one. */
    r = hvlog_sim_log(v->kvm->sim, v->index, HvEventLogTypeLocalDiagnostics, HV_TR_GROUP_IM,
                      ev->entry_type, (uint32_t)c->logged, payload, 8 * ev->params);
    if (t0)
        counter_add(&c->log_ns, mono_ns() - t0);
    if (r == HVLOG_LOG_DROPPED) {
        counter_add(&c->dropped, 1);
        return;
    }
    counter_add(&c->logged, 1);
    counter_add(r == HVLOG_LOG_RECORDED ? &c->recorded : &c->lost, 1);
}

/* Paced: wait until @deadline_ns, looking at @stop meanwhile. */
static bool pace(struct hvlog_kvm *kvm, uint64_t deadline_ns)
{
    for (;;) {
        uint64_t now = mono_ns(), until;
        struct timespec ts;

        if (__atomic_load_n(&kvm->stop, __ATOMIC_RELAXED))
            return false;
        if (now >= deadline_ns)
            return true;
        until = deadline_ns - now > PACE_SLICE_NS ? now + PACE_SLICE_NS : deadline_ns;
        ts.tv_sec = (time_t)(until / NS_PER_S);
        ts.tv_nsec = (long)(until % NS_PER_S);
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
            ;
    }
}

/* Pin vCPU n to the n-th CPU this process may use (modulo their count):
 * where possible, so a failure only costs locality. */
static void vcpu_pin(const struct kvm_vcpu_ctx *v)
{
    cpu_set_t allowed, one;
    uint32_t count, want, seen = 0;

    if (v->kvm->config.no_pin || sched_getaffinity(0, sizeof allowed, &allowed) != 0)
        return;
    count = (uint32_t)CPU_COUNT(&allowed);
    if (count == 0)
        return;
    want = v->index % count;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &allowed))
            continue;
        if (seen++ == want) {
            CPU_ZERO(&one);
            CPU_SET(cpu, &one);
            (void)pthread_setaffinity_np(pthread_self(), sizeof one, &one);
            return;
        }
    }
}

static void *vcpu_main(void *arg)
{
    struct kvm_vcpu_ctx *v = arg;
    struct hvlog_kvm *kvm = v->kvm;
    uint64_t budget = kvm->config.exits_per_vcpu;
    uint64_t period_ns = kvm->config.rate_per_vcpu ? NS_PER_S / kvm->config.rate_per_vcpu : 0;
    uint64_t deadline_ns = mono_ns();

    vcpu_pin(v);
    while (!__atomic_load_n(&kvm->stop, __ATOMIC_RELAXED)) {
        struct exit_event ev;
        int r;

        uint64_t t0 = kvm->config.timing ? mono_ns() : 0;
        int ran;

        if (budget && v->counts.exits_total >= budget)
            break;
        ran = ioctl(v->fd, KVM_RUN, 0);
        if (t0)
            counter_add(&v->counts.run_ns, mono_ns() - t0);
        if (ran != 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            vcpu_error(v, "KVM_RUN: %s", strerror(errno));
            break;
        }
        r = exit_decode(v, &ev);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        exit_log(v, &ev);
        if (period_ns) {
            deadline_ns += period_ns;
            if (!pace(kvm, deadline_ns))
                break;
        }
    }
    __atomic_sub_fetch(&kvm->running, 1, __ATOMIC_RELEASE);
    return NULL;
}

int hvlog_kvm_start(struct hvlog_kvm *kvm)
{
    uint32_t started = 0;

    if (kvm->threads)
        return -1;
    __atomic_store_n(&kvm->stop, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&kvm->running, (int)kvm->config.vcpus, __ATOMIC_RELAXED);
    for (; started < kvm->config.vcpus; started++) {
        struct kvm_vcpu_ctx *v = &kvm->vcpus[started];

        char name[16];

        if (pthread_create(&v->thread, NULL, vcpu_main, v) != 0)
            break;
        v->thread_started = true;
        /* "hvlog-vcpuN": what top and the teardown test see. Named here,
         * not by the thread, so the name is there when start returns
         * (the test counted 0 threads once, under load, before they ran). */
        snprintf(name, sizeof name, "hvlog-vcpu%u", v->index);
        (void)pthread_setname_np(v->thread, name);
    }
    kvm->threads = true;
    if (started < kvm->config.vcpus) {
        __atomic_sub_fetch(&kvm->running, (int)(kvm->config.vcpus - started), __ATOMIC_RELEASE);
        hvlog_kvm_stop(kvm);
        return -1;
    }
    return 0;
}

void hvlog_kvm_stop(struct hvlog_kvm *kvm)
{
    if (!kvm->threads)
        return;
    __atomic_store_n(&kvm->stop, 1, __ATOMIC_RELAXED);
    for (uint32_t i = 0; i < kvm->config.vcpus; i++) {
        if (kvm->vcpus[i].thread_started) {
            pthread_join(kvm->vcpus[i].thread, NULL);
            kvm->vcpus[i].thread_started = false;
        }
    }
    kvm->threads = false;
}

bool hvlog_kvm_running(struct hvlog_kvm *kvm)
{
    return __atomic_load_n(&kvm->running, __ATOMIC_ACQUIRE) > 0;
}

int hvlog_kvm_gpa_read(struct hvlog_kvm *kvm, uint64_t gpa, void *dst, uint32_t len)
{
    /* Relaxed byte loads: the guest may store to its RAM meanwhile (ours
     * does not), and a copy should not be a data race. */
    const uint8_t *src = NULL;
    uint8_t *out = dst;

    if (gpa <= KVM_GUEST_RAM_BYTES && len <= KVM_GUEST_RAM_BYTES - gpa)
        src = kvm->ram + gpa;
    else if (gpa >= HVLOG_KVM_RO_GPA && gpa - HVLOG_KVM_RO_GPA <= KVM_PAGE &&
             len <= KVM_PAGE - (gpa - HVLOG_KVM_RO_GPA))
        src = kvm->ro + (gpa - HVLOG_KVM_RO_GPA);
    if (!src)
        return -1;
    for (uint32_t i = 0; i < len; i++)
        out[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    return 0;
}

void hvlog_kvm_counts(struct hvlog_kvm *kvm, uint32_t vcpu, struct hvlog_kvm_counts *out)
{
    const struct hvlog_kvm_counts *c;

    memset(out, 0, sizeof *out);
    if (vcpu >= kvm->vcpus_made)
        return;
    c = &kvm->vcpus[vcpu].counts;
    for (uint32_t k = 0; k < HVLOG_KVM_EXIT_KINDS; k++)
        out->exits[k] = __atomic_load_n(&c->exits[k], __ATOMIC_RELAXED);
    out->exits_total = __atomic_load_n(&c->exits_total, __ATOMIC_RELAXED);
    out->logged = __atomic_load_n(&c->logged, __ATOMIC_RELAXED);
    out->recorded = __atomic_load_n(&c->recorded, __ATOMIC_RELAXED);
    out->lost = __atomic_load_n(&c->lost, __ATOMIC_RELAXED);
    out->dropped = __atomic_load_n(&c->dropped, __ATOMIC_RELAXED);
    out->run_ns = __atomic_load_n(&c->run_ns, __ATOMIC_RELAXED);
    out->log_ns = __atomic_load_n(&c->log_ns, __ATOMIC_RELAXED);
}
