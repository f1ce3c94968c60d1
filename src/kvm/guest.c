/* SPDX-License-Identifier: MIT */
/*
 * The child's guest program (hvlog/kvm/kvm.h): 32-bit protected mode, flat
 * segments, no paging, interrupts off, no stack. The VMM copies the bytes
 * from hvlog__kvm_guest_start (hvlog__kvm_guest_bytes of them) to GPA
 * HVLOG_KVM_CODE_GPA, writes the mix (eight u32, enum hvlog_kvm_exit_kind
 * order) to GPA KVM_GUEST_MIX_GPA, and starts every vCPU at the first byte.
 *
 * The program is assembled by the system toolchain with the rest of the
 * library (GNU as / clang's integrated assembler), from this file-scope
 * asm: .code32 bytes in .rodata, position-independent (relative jumps, and
 * absolute addresses only as the guest's own constants).
 *
 * Registers: %ebx counts loops (the value written by io_out, the stores
 * and wrmsr, so a reader sees it move), %esi counts one kind's operations.
 * Every operation exits to the VMM; the loop itself does not, so the VMM
 * refuses a mix of all zeros.
 */
#include "kvm/kvm_internal.h"

/* Keep in step with hvlog/kvm/kvm.h (ports, GPAs, MSRs) and
 * KVM_GUEST_MIX_GPA (0x800). kvm_internal.h checks the sizes it can. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl hvlog__kvm_guest_start\n"
        ".hidden hvlog__kvm_guest_start\n"
        ".globl hvlog__kvm_guest_bytes\n"
        ".hidden hvlog__kvm_guest_bytes\n"
        "hvlog__kvm_guest_start:\n"
        ".code32\n"
        "    xorl %ebx, %ebx\n"
        ".Lkvm_loop:\n"
        "    incl %ebx\n"
        /* io_out: out %eax, (%dx) at port 0x510 */
        "    movl 0x800, %esi\n"
        ".Lkvm_io_out:\n"
        "    testl %esi, %esi\n"
        "    jz .Lkvm_io_in0\n"
        "    movw $0x510, %dx\n"
        "    movl %ebx, %eax\n"
        "    outl %eax, (%dx)\n"
        "    decl %esi\n"
        "    jmp .Lkvm_io_out\n"
        /* io_in: in (%dx), %eax at port 0x511 */
        ".Lkvm_io_in0:\n"
        "    movl 0x804, %esi\n"
        ".Lkvm_io_in:\n"
        "    testl %esi, %esi\n"
        "    jz .Lkvm_mmio_w0\n"
        "    movw $0x511, %dx\n"
        "    inl (%dx), %eax\n"
        "    decl %esi\n"
        "    jmp .Lkvm_io_in\n"
        /* mmio_write: a store where no memory is */
        ".Lkvm_mmio_w0:\n"
        "    movl 0x808, %esi\n"
        ".Lkvm_mmio_w:\n"
        "    testl %esi, %esi\n"
        "    jz .Lkvm_mmio_r0\n"
        "    movl %ebx, 0x100000\n"
        "    decl %esi\n"
        "    jmp .Lkvm_mmio_w\n"
        /* mmio_read: a load from there */
        ".Lkvm_mmio_r0:\n"
        "    movl 0x80c, %esi\n"
        ".Lkvm_mmio_r:\n"
        "    testl %esi, %esi\n"
        "    jz .Lkvm_ro_w0\n"
        "    movl 0x100000, %eax\n"
        "    decl %esi\n"
        "    jmp .Lkvm_mmio_r\n"
        /* ro_write: a store to the KVM_MEM_READONLY page */
        ".Lkvm_ro_w0:\n"
        "    movl 0x810, %esi\n"
        ".Lkvm_ro_w:\n"
        "    testl %esi, %esi\n"
        "    jz .Lkvm_msr_r0\n"
        "    movl %ebx, 0x200000\n"
        "    decl %esi\n"
        "    jmp .Lkvm_ro_w\n"
        /* msr_read: rdmsr HV_X64_MSR_TIME_REF_COUNT (filtered) */
        ".Lkvm_msr_r0:\n"
        "    movl 0x814, %esi\n"
        ".Lkvm_msr_r:\n"
        "    testl %esi, %esi\n"
        "    jz .Lkvm_msr_w0\n"
        "    movl $0x40000020, %ecx\n"
        "    rdmsr\n"
        "    decl %esi\n"
        "    jmp .Lkvm_msr_r\n"
        /* msr_write: wrmsr HV_X64_MSR_GUEST_OS_ID = (1 << 32) | loop */
        ".Lkvm_msr_w0:\n"
        "    movl 0x818, %esi\n"
        ".Lkvm_msr_w:\n"
        "    testl %esi, %esi\n"
        "    jz .Lkvm_hlt0\n"
        "    movl $0x40000000, %ecx\n"
        "    movl %ebx, %eax\n"
        "    movl $1, %edx\n"
        "    wrmsr\n"
        "    decl %esi\n"
        "    jmp .Lkvm_msr_w\n"
        /* hlt: no in-kernel irqchip, so KVM hands it to the VMM */
        ".Lkvm_hlt0:\n"
        "    movl 0x81c, %esi\n"
        ".Lkvm_hlt:\n"
        "    testl %esi, %esi\n"
        "    jz .Lkvm_loop\n"
        "    hlt\n"
        "    decl %esi\n"
        "    jmp .Lkvm_hlt\n"
        ".code64\n"
        ".Lkvm_guest_end:\n"
        ".balign 4\n"
        "hvlog__kvm_guest_bytes:\n"
        "    .long .Lkvm_guest_end - hvlog__kvm_guest_start\n"
        ".previous\n");

/*
 * The root VP's program (root_vp.c), 64-bit long mode, identity-mapped:
 * for each row {rcx, rdx, r8, rax} of the table at KVM_ROOT_TABLE_GPA + 8
 * (the u64 at KVM_ROOT_TABLE_GPA is the row count), load the three input
 * registers and call the hypercall page at KVM_ROOT_HCPAGE_GPA as Linux's
 * hv_do_hypercall does, then store RAX into the row. HLT when done. The
 * stack (for the call's return address) ends at KVM_ROOT_STACK_GPA.
 */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl hvlog__kvm_root_start\n"
        ".hidden hvlog__kvm_root_start\n"
        ".globl hvlog__kvm_root_bytes\n"
        ".hidden hvlog__kvm_root_bytes\n"
        "hvlog__kvm_root_start:\n"
        "    movq $0xF000, %rsp\n"
        "    movq $0x6008, %rbx\n"
        "    movq $0x6000, %rax\n"
        "    movq (%rax), %r12\n"
        ".Lkvm_root_loop:\n"
        "    testq %r12, %r12\n"
        "    jz .Lkvm_root_done\n"
        "    movq (%rbx), %rcx\n"
        "    movq 8(%rbx), %rdx\n"
        "    movq 16(%rbx), %r8\n"
        "    movq $0x4000, %rax\n"
        "    callq *%rax\n"
        "    movq %rax, 24(%rbx)\n"
        "    addq $32, %rbx\n"
        "    decq %r12\n"
        "    jmp .Lkvm_root_loop\n"
        ".Lkvm_root_done:\n"
        "    hlt\n"
        "    jmp .Lkvm_root_done\n"
        ".Lkvm_root_end:\n"
        ".balign 4\n"
        "hvlog__kvm_root_bytes:\n"
        "    .long .Lkvm_root_end - hvlog__kvm_root_start\n"
        ".previous\n");
