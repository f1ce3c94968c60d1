/* SPDX-License-Identifier: MIT */
/*
 * A root VP on a real vCPU (hvlog_kvm_root_calls, hvlog/kvm/kvm.h): the
 * first step of issue 15's stage 2. The root's hypercalls trap through a
 * hypercall page the VMM writes, with Linux's register convention.
 *
 * The VM: 64 KiB of RAM at GPA 0, long mode with 2 MiB pages identity-
 * mapping the first GiB (PML4, PDPT, PD at KVM_ROOT_*_GPA), the hypercall
 * page, the program (guest.c) and its call table. Long mode is set up in
 * the segment caches and control registers directly (no GDT is loaded).
 * One thread: this function runs the vCPU itself until the program HLTs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvlog/abi/le.h"
#include "kvm/kvm_internal.h"

#define ROOT_RAM_BYTES 0x10000u
/* Generous: each call is two exits; a VM that exits for anything else is stopped. */
#define ROOT_MAX_EXITS (4u * HVLOG_KVM_ROOT_MAX_CALLS + 16u)

void hvlog__kvm_root_page_tables(uint8_t *ram)
{
    static const uint8_t hypercall_page[] = {0xE6, HVLOG_KVM_HYPERCALL_PORT, 0xC3}; /* out %al,$port; ret */

    hvlog_store_le64(ram + KVM_ROOT_PML4_GPA, KVM_ROOT_PDPT_GPA | PTE_P | PTE_RW);
    hvlog_store_le64(ram + KVM_ROOT_PDPT_GPA, KVM_ROOT_PD_GPA | PTE_P | PTE_RW);
    for (uint64_t i = 0; i < 512; i++)
        hvlog_store_le64(ram + KVM_ROOT_PD_GPA + 8 * i, (i << 21) | PTE_P | PTE_RW | PTE_PS);
    memcpy(ram + KVM_ROOT_HCPAGE_GPA, hypercall_page, sizeof hypercall_page);
}

static void root_memory(uint8_t *ram, const struct hvlog_kvm_call *calls, uint32_t count)
{
    hvlog__kvm_root_page_tables(ram);
    memcpy(ram + KVM_ROOT_CODE_GPA, hvlog__kvm_root_start, hvlog__kvm_root_bytes);
    hvlog_store_le64(ram + KVM_ROOT_TABLE_GPA, count);
    for (uint32_t i = 0; i < count; i++) {
        uint8_t *row = ram + KVM_ROOT_TABLE_GPA + 8 + (size_t)32 * i;

        hvlog_store_le64(row, calls[i].rcx);
        hvlog_store_le64(row + 8, calls[i].rdx);
        hvlog_store_le64(row + 16, calls[i].r8);
        hvlog_store_le64(row + 24, 0);
    }
}

int hvlog__kvm_root_long_mode(int vcpu_fd, uint64_t cr3, uint64_t rip)
{
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    struct kvm_segment code = {
        .base = 0, .limit = 0xffffffffu, .selector = 8, .type = 11, .present = 1,
        .dpl = 0, .db = 0, .s = 1, .l = 1, .g = 1,
    };
    struct kvm_segment data = code;

    if (ioctl(vcpu_fd, KVM_GET_SREGS, &sregs) != 0)
        return -1;
    data.type = 3;
    data.selector = 16;
    data.l = 0;
    sregs.cs = code;
    sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
    sregs.cr3 = cr3;
    sregs.cr4 = CR4_PAE;
    sregs.cr0 = CR0_PE | CR0_ET | CR0_PG;
    sregs.efer = EFER_LME | EFER_LMA;
    if (ioctl(vcpu_fd, KVM_SET_SREGS, &sregs) != 0)
        return -1;
    memset(&regs, 0, sizeof regs);
    regs.rip = rip;
    regs.rflags = 2;
    return ioctl(vcpu_fd, KVM_SET_REGS, &regs);
}

int hvlog__kvm_root_hypercall(struct hvlog_sim *sim, uint32_t vp, int vcpu_fd)
{
    struct kvm_regs regs;

    /* The hypercall: registers as the guest left them at the trap. */
    if (ioctl(vcpu_fd, KVM_GET_REGS, &regs) != 0)
        return -1;
    regs.rax = hvlog_sim_hypercall(sim, HVLOG_SIM_ROOT_ID, vp, regs.rcx, regs.rdx, regs.r8);
    return ioctl(vcpu_fd, KVM_SET_REGS, &regs);
}

/* Run until HLT, answering every hypercall. 0, or -1 with @why. */
static int root_run(struct hvlog_sim *sim, uint32_t vp, int vcpu_fd, struct kvm_run *run, char *why,
                    size_t why_size)
{
    for (uint32_t exits = 0; exits < ROOT_MAX_EXITS; exits++) {
        if (ioctl(vcpu_fd, KVM_RUN, 0) != 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            hvlog__kvm_say(why, why_size, "root VP: KVM_RUN: %s", strerror(errno));
            return -1;
        }
        if (run->exit_reason == KVM_EXIT_HLT)
            return 0;
        if (run->exit_reason == KVM_EXIT_INTR)
            continue;
        if (run->exit_reason != KVM_EXIT_IO || run->io.direction != KVM_EXIT_IO_OUT ||
            run->io.port != HVLOG_KVM_HYPERCALL_PORT) {
            hvlog__kvm_say(why, why_size, "root VP: unexpected exit reason %u", run->exit_reason);
            return -1;
        }
        if (hvlog__kvm_root_hypercall(sim, vp, vcpu_fd) != 0) {
            hvlog__kvm_say(why, why_size, "root VP: KVM_GET/SET_REGS: %s", strerror(errno));
            return -1;
        }
    }
    hvlog__kvm_say(why, why_size, "root VP: more exits than its calls need");
    return -1;
}

int hvlog_kvm_root_calls(struct hvlog_sim *sim, uint32_t vp, struct hvlog_kvm_call *calls,
                         uint32_t count, char *why, size_t why_size)
{
    struct kvm_userspace_memory_region region;
    struct kvm_run *run = MAP_FAILED;
    uint8_t *ram = MAP_FAILED;
    int kvm_fd = -1, vm_fd = -1, vcpu_fd = -1, run_bytes = 0, status = -1;

    if (!sim || !calls || count == 0 || count > HVLOG_KVM_ROOT_MAX_CALLS ||
        vp >= hvlog_sim_lp_count(sim)) {
        hvlog__kvm_say(why, why_size, "bad root VP call: %u calls (1..%u) on VP %u", count,
            HVLOG_KVM_ROOT_MAX_CALLS, vp);
        return -1;
    }
    kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm_fd < 0) {
        hvlog__kvm_say(why, why_size, "cannot open /dev/kvm: %s", strerror(errno));
        return -1;
    }
    run_bytes = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    vm_fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (vm_fd < 0 || run_bytes < (int)sizeof(struct kvm_run)) {
        hvlog__kvm_say(why, why_size, "cannot create the root VM: %s", strerror(errno));
        goto out;
    }
    (void)ioctl(vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000ul);
    ram = mmap(NULL, ROOT_RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ram == MAP_FAILED) {
        hvlog__kvm_say(why, why_size, "cannot map the root VM's RAM: %s", strerror(errno));
        goto out;
    }
    root_memory(ram, calls, count);
    region = (struct kvm_userspace_memory_region){
        .slot = 0, .guest_phys_addr = 0, .memory_size = ROOT_RAM_BYTES,
        .userspace_addr = (uint64_t)(uintptr_t)ram,
    };
    if (ioctl(vm_fd, KVM_SET_USER_MEMORY_REGION, &region) != 0) {
        hvlog__kvm_say(why, why_size, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
        goto out;
    }
    vcpu_fd = ioctl(vm_fd, KVM_CREATE_VCPU, 0ul);
    if (vcpu_fd < 0) {
        hvlog__kvm_say(why, why_size, "KVM_CREATE_VCPU: %s", strerror(errno));
        goto out;
    }
    run = mmap(NULL, (size_t)run_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
    if (run == MAP_FAILED) {
        hvlog__kvm_say(why, why_size, "cannot map kvm_run: %s", strerror(errno));
        goto out;
    }
    if (hvlog__kvm_root_long_mode(vcpu_fd, KVM_ROOT_PML4_GPA, KVM_ROOT_CODE_GPA) != 0) {
        hvlog__kvm_say(why, why_size, "cannot put the root VP in long mode: %s", strerror(errno));
        goto out;
    }
    if (root_run(sim, vp, vcpu_fd, run, why, why_size) != 0)
        goto out;
    for (uint32_t i = 0; i < count; i++)
        calls[i].rax = hvlog_load_le64(ram + KVM_ROOT_TABLE_GPA + 8 + (size_t)32 * i + 24);
    status = 0;
out:
    /* The VM goes first, then the memory its slot named. */
    if (run != MAP_FAILED)
        munmap(run, (size_t)run_bytes);
    if (vcpu_fd >= 0)
        close(vcpu_fd);
    if (vm_fd >= 0)
        close(vm_fd);
    if (ram != MAP_FAILED)
        munmap(ram, ROOT_RAM_BYTES);
    close(kvm_fd);
    return status;
}
