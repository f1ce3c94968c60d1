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

/*
 * The SynIC test root (root_synic.c, hvlog__kvm_synic_*): 64-bit, the same
 * page tables, hypercall page and call table as the root program above,
 * with the GDT the VMM wrote (selector 8: code) so that interrupts can be
 * delivered. It
 *   1. builds two interrupt gates (#GP, KVM_SYNIC_VECTOR) and loads the IDT;
 *   2. writes SINT0 with vector KVM_SYNIC_BAD_VECTOR: the sim refuses it,
 *      the VMM answers #GP, and the #GP handler counts it and skips the
 *      two-byte wrmsr;
 *   3. reads SVERSION, enables SIMP at KVM_SYNIC_SIMP_GPA, SINT0 with
 *      KVM_SYNIC_VECTOR and SCONTROL, by wrmsr (filtered: the VMM forwards
 *      them to the sim);
 *   4. idles in `sti; hlt` and serves the VMM's commands (data page):
 *      CALLS issues the call table with interrupts off (so that messages
 *      pile up in the SynIC), SPIN spins with interrupts on and no exit
 *      until the handler has taken TARGET messages, STOP ends in
 *      `cli; hlt`. The call table is at 0x6000 (KVM_ROOT_TABLE_GPA), the
 *      hypercall page at 0x4000 (KVM_ROOT_HCPAGE_GPA).
 * The SINT handler is §8.5's sequence: read MessageType (empty: spurious),
 * copy the message into the log, clear MessageType with xchg (a full
 * barrier: the store is visible before the load that follows), then test
 * MessagePending and write EOM if set. No EOI: there is no local APIC,
 * the VMM injects through KVM_INTERRUPT.
 */
#define KVM_S(x) KVM_S2(x)
#define KVM_S2(x) #x
#define KVM_D(field) KVM_S(KVM_SYNIC_DATA_GPA) "+" KVM_S(field)
#define KVM_SIM(off) KVM_S(KVM_SYNIC_SIMP_GPA) "+" #off
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl hvlog__kvm_synic_start\n"
        ".hidden hvlog__kvm_synic_start\n"
        ".globl hvlog__kvm_synic_bytes\n"
        ".hidden hvlog__kvm_synic_bytes\n"
        "hvlog__kvm_synic_start:\n"
        "    movq $0xF000, %rsp\n"
        "    leaq .Lsy_gp(%rip), %rax\n"
        "    movq $" KVM_S(KVM_SYNIC_IDT_GPA) "+16*13, %rdi\n"
        "    callq .Lsy_gate\n"
        "    leaq .Lsy_sint(%rip), %rax\n"
        "    movq $" KVM_S(KVM_SYNIC_IDT_GPA) "+16*" KVM_S(KVM_SYNIC_VECTOR) ", %rdi\n"
        "    callq .Lsy_gate\n"
        "    movw $0xFFF, " KVM_D(KVM_SYNIC_IDTR) "\n"
        "    movq $" KVM_S(KVM_SYNIC_IDT_GPA) ", %rax\n"
        "    movq %rax, " KVM_D(KVM_SYNIC_IDTR) "+2\n"
        "    lidt " KVM_D(KVM_SYNIC_IDTR) "\n"
        /* 2: a vector below 16 */
        "    movl $0x40000090, %ecx\n"
        "    movl $" KVM_S(KVM_SYNIC_BAD_VECTOR) ", %eax\n"
        "    xorl %edx, %edx\n"
        "    wrmsr\n"
        /* 3: SVERSION, SIMP, SINT0, SCONTROL */
        "    movl $0x40000081, %ecx\n"
        "    rdmsr\n"
        "    movl %eax, " KVM_D(KVM_SYNIC_SVERSION) "\n"
        "    movl $0x40000083, %ecx\n"
        "    movl $" KVM_S(KVM_SYNIC_SIMP_GPA) "+1, %eax\n"
        "    xorl %edx, %edx\n"
        "    wrmsr\n"
        "    movl $0x40000090, %ecx\n"
        "    movl $" KVM_S(KVM_SYNIC_VECTOR) ", %eax\n"
        "    wrmsr\n"
        "    movl $0x40000080, %ecx\n"
        "    movl $1, %eax\n"
        "    wrmsr\n"
        /* 4: idle, commands */
        ".Lsy_idle:\n"
        "    sti\n"
        "    hlt\n"
        "    movq " KVM_D(KVM_SYNIC_CMD) ", %rax\n"
        "    cmpq $" KVM_S(KVM_SYNIC_CMD_CALLS) ", %rax\n"
        "    je .Lsy_calls\n"
        "    cmpq $" KVM_S(KVM_SYNIC_CMD_STOP) ", %rax\n"
        "    je .Lsy_end\n"
        "    cmpq $" KVM_S(KVM_SYNIC_CMD_SPIN) ", %rax\n"
        "    je .Lsy_spin\n"
        "    jmp .Lsy_idle\n"
        /* SPIN: interrupts on, no exit of our own: only a kicked vCPU
         * gets the interrupt that moves MESSAGES. */
        ".Lsy_spin:\n"
        "    movq " KVM_D(KVM_SYNIC_TARGET) ", %rax\n"
        "    incq " KVM_D(KVM_SYNIC_SPINNING) "\n"
        ".Lsy_spin_loop:\n"
        "    pause\n"
        "    cmpq " KVM_D(KVM_SYNIC_MESSAGES) ", %rax\n"
        "    ja .Lsy_spin_loop\n"
        "    jmp .Lsy_called\n"
        ".Lsy_calls:\n"
        "    cli\n"
        "    movq $" "0x6008, %rbx\n"
        "    movq 0x6000, %r12\n"
        ".Lsy_call:\n"
        "    testq %r12, %r12\n"
        "    jz .Lsy_called\n"
        "    movq (%rbx), %rcx\n"
        "    movq 8(%rbx), %rdx\n"
        "    movq 16(%rbx), %r8\n"
        "    movq $" "0x4000, %rax\n"
        "    callq *%rax\n"
        "    movq %rax, 24(%rbx)\n"
        "    addq $32, %rbx\n"
        "    decq %r12\n"
        "    jmp .Lsy_call\n"
        ".Lsy_called:\n"
        "    movq $0, " KVM_D(KVM_SYNIC_CMD) "\n"
        "    incq " KVM_D(KVM_SYNIC_CMDS_DONE) "\n"
        "    jmp .Lsy_idle\n"
        ".Lsy_end:\n"
        "    cli\n"
        "    hlt\n"
        "    jmp .Lsy_end\n"
        /* An interrupt gate for the handler at %rax into the IDT entry at
         * %rdi: offset 15:0, selector 8, P=1 DPL=0 type 0xE, offset 63:16. */
        ".Lsy_gate:\n"
        "    movq %rax, %rdx\n"
        "    andq $0xFFFF, %rdx\n"
        "    orq $0x80000, %rdx\n"
        "    movq %rax, %rcx\n"
        "    shrq $16, %rcx\n"
        "    andq $0xFFFF, %rcx\n"
        "    shlq $48, %rcx\n"
        "    orq %rcx, %rdx\n"
        "    movabsq $0x8E0000000000, %rcx\n"
        "    orq %rcx, %rdx\n"
        "    movq %rdx, (%rdi)\n"
        "    movq %rax, %rcx\n"
        "    shrq $32, %rcx\n"
        "    movq %rcx, 8(%rdi)\n"
        "    retq\n"
        /* #GP: count it, step over the 2-byte rdmsr/wrmsr, drop the error code. */
        ".Lsy_gp:\n"
        "    incq " KVM_D(KVM_SYNIC_GPS) "\n"
        "    addq $2, 8(%rsp)\n"
        "    addq $8, %rsp\n"
        "    iretq\n"
        /* The SINT0 handler (§8.5). */
        ".Lsy_sint:\n"
        "    pushq %rax\n"
        "    pushq %rcx\n"
        "    pushq %rdx\n"
        "    pushq %rsi\n"
        "    incq " KVM_D(KVM_SYNIC_INTERRUPTS) "\n"
        "    movl " KVM_SIM(0) ", %eax\n"
        "    testl %eax, %eax\n"
        "    jz .Lsy_spurious\n"
        "    cmpl $0x80000040, %eax\n"
        "    jne .Lsy_bad\n"
        "    cmpb $8, " KVM_SIM(4) "\n"
        "    je .Lsy_good\n"
        ".Lsy_bad:\n"
        "    incq " KVM_D(KVM_SYNIC_BAD) "\n"
        ".Lsy_good:\n"
        "    movl " KVM_SIM(16) ", %ecx\n"
        "    movl " KVM_SIM(20) ", %edx\n"
        "    shlq $32, %rcx\n"
        "    orq %rdx, %rcx\n"
        "    movq " KVM_D(KVM_SYNIC_MESSAGES) ", %rsi\n"
        "    cmpq $" KVM_S(KVM_SYNIC_LOG_MAX) ", %rsi\n"
        "    jae .Lsy_full\n"
        "    movq %rcx, " KVM_S(KVM_SYNIC_LOG_GPA) "(,%rsi,8)\n"
        ".Lsy_full:\n"
        "    incq " KVM_D(KVM_SYNIC_MESSAGES) "\n"
        "    xorl %eax, %eax\n"
        "    xchgl %eax, " KVM_SIM(0) "\n"
        "    testb $1, " KVM_SIM(5) "\n"
        "    jz .Lsy_iret\n"
        "    incq " KVM_D(KVM_SYNIC_PENDING) "\n"
        "    movl $0x40000084, %ecx\n"
        "    xorl %eax, %eax\n"
        "    xorl %edx, %edx\n"
        "    wrmsr\n"
        "    jmp .Lsy_iret\n"
        ".Lsy_spurious:\n"
        "    incq " KVM_D(KVM_SYNIC_SPURIOUS) "\n"
        ".Lsy_iret:\n"
        "    popq %rsi\n"
        "    popq %rdx\n"
        "    popq %rcx\n"
        "    popq %rax\n"
        "    iretq\n"
        ".Lsy_synic_end:\n"
        ".balign 4\n"
        "hvlog__kvm_synic_bytes:\n"
        "    .long .Lsy_synic_end - hvlog__kvm_synic_start\n"
        ".previous\n");
