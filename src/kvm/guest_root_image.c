/* SPDX-License-Identifier: MIT */
/*
 * The guest root's flat image (src/guest/root.c, linked by guest_root.ld
 * and turned into raw bytes by objcopy at build time), embedded in the
 * library: root_vm.c copies it to ROOT_CODE_GPA. HVLOG_GUEST_ROOT_BIN is
 * the image's path, a string literal given by the build (src/CMakeLists.txt).
 */
#include "kvm/kvm_internal.h"

__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl hvlog__kvm_guest_root_start\n"
        ".hidden hvlog__kvm_guest_root_start\n"
        ".globl hvlog__kvm_guest_root_bytes\n"
        ".hidden hvlog__kvm_guest_root_bytes\n"
        "hvlog__kvm_guest_root_start:\n"
        ".incbin \"" HVLOG_GUEST_ROOT_BIN "\"\n"
        ".Lkvm_guest_root_end:\n"
        ".balign 4\n"
        "hvlog__kvm_guest_root_bytes:\n"
        "    .long .Lkvm_guest_root_end - hvlog__kvm_guest_root_start\n"
        ".previous\n");
