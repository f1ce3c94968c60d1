/* SPDX-License-Identifier: MIT */
/*
 * SynIC register facts used by the ready notification (spec §8.5).
 * The message layout itself is in layout.h.
 */
#ifndef HVLOG_ABI_SYNIC_H
#define HVLOG_ABI_SYNIC_H

#define HV_X64_MSR_SCONTROL 0x40000080u
#define HV_X64_MSR_SVERSION 0x40000081u
#define HV_X64_MSR_SIEFP 0x40000082u
#define HV_X64_MSR_SIMP 0x40000083u
#define HV_X64_MSR_EOM 0x40000084u
#define HV_X64_MSR_SINT0 0x40000090u
#define HV_X64_MSR_SINT15 0x4000009Fu

#define HV_SCONTROL_ENABLE 0x1ull
#define HV_SIMP_ENABLE 0x1ull
#define HV_SIMP_GPA_MASK 0xFFFFFFFFFFFFF000ull
#define HV_SINT_VECTOR_MASK 0xFFull
#define HV_SINT_MASKED 0x10000ull
#define HV_SINT_AUTO_EOI 0x20000ull
#define HV_SINT_RESET_VALUE HV_SINT_MASKED
#define HV_SINT_VECTOR_MIN 16u /* vectors 0..15 raise #GP */

/* The ready notification always goes to SINT0 (§1, §8.3). */
#define HV_EVENTLOG_SINT 0u

#endif /* HVLOG_ABI_SYNIC_H */
