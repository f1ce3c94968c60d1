/* SPDX-License-Identifier: MIT */
/* The KVM host's internals (hvlog/kvm/kvm.h): shared by kvm.c and guest.c. */
#ifndef HVLOG_KVM_KVM_INTERNAL_H
#define HVLOG_KVM_KVM_INTERNAL_H

#include <stdint.h>

#include "hvlog/kvm/kvm.h"

/* The guest program's bytes and their count (guest.c), hidden in the library. */
extern const uint8_t hvlog__kvm_guest_start[];
extern const uint32_t hvlog__kvm_guest_bytes;

/* Where the VMM writes the mix: eight u32 the program reads each loop. */
#define KVM_GUEST_MIX_GPA 0x800u
/* The child's RAM: 64 KiB at GPA 0 (mix, program). */
#define KVM_GUEST_RAM_BYTES 0x10000u

#endif /* HVLOG_KVM_KVM_INTERNAL_H */
