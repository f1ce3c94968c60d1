/* SPDX-License-Identifier: MIT */
/*
 * The generic hypercall ABI (spec §3.1-§3.3): the input value in RCX, the
 * result value in RAX and the fast-call register packing.
 *
 * Decoding keeps every field, reserved bits included, so that the engine can
 * reject what is set and tools can show what a caller sent.
 */
#ifndef HVLOG_ABI_HYPERCALL_H
#define HVLOG_ABI_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlog/abi/profile.h"
#include "hvlog/abi/status.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

/* §3.1 masks of the 2013 layout [DOC]. */
#define HV_HYPERCALL_CALL_CODE_MASK 0x000000000000FFFFull
#define HV_HYPERCALL_FAST_BIT 0x0000000000010000ull
#define HV_HYPERCALL_RSVD_17_31_MASK 0x00000000FFFE0000ull
#define HV_HYPERCALL_REP_COUNT_MASK 0x00000FFF00000000ull
#define HV_HYPERCALL_RSVD_44_47_MASK 0x0000F00000000000ull
#define HV_HYPERCALL_REP_START_MASK 0x0FFF000000000000ull
#define HV_HYPERCALL_RSVD_60_63_MASK 0xF000000000000000ull
#define HV_HYPERCALL_RSVD_MASK_2013 \
    (HV_HYPERCALL_RSVD_17_31_MASK | HV_HYPERCALL_RSVD_44_47_MASK | HV_HYPERCALL_RSVD_60_63_MASK)
#define HV_HYPERCALL_REP_COUNT_SHIFT 32
#define HV_HYPERCALL_REP_START_SHIFT 48

/* §3.1 / D12 current layout: bits 26:17 variable header size, 31:27 RsvdZ
 * (Linux calls bit 31 "nested"). */
#define HV_HYPERCALL_VARHEAD_MASK 0x0000000007FE0000ull
#define HV_HYPERCALL_VARHEAD_SHIFT 17
#define HV_HYPERCALL_RSVD_27_31_MASK 0x00000000F8000000ull
#define HV_HYPERCALL_NESTED_BIT 0x0000000080000000ull
#define HV_HYPERCALL_RSVD_MASK_CURRENT \
    (HV_HYPERCALL_RSVD_27_31_MASK | HV_HYPERCALL_RSVD_44_47_MASK | HV_HYPERCALL_RSVD_60_63_MASK)

/* §3.2 result value. */
#define HV_HYPERCALL_RESULT_STATUS_MASK 0x000000000000FFFFull
#define HV_HYPERCALL_RESULT_REPS_MASK 0x00000FFF00000000ull
#define HV_HYPERCALL_RESULT_REPS_SHIFT 32

/* The input value, decoded. */
struct hv_hypercall_input {
    uint16_t call_code;
    bool fast;
    uint16_t variable_header_qwords; /* current layout only; 0 in 2013 */
    uint16_t rep_count;              /* 12 bits */
    uint16_t rep_start_index;        /* 12 bits */
    uint64_t reserved_bits;          /* RsvdZ bits as set, in place */
};

/**
 * hvlog_hypercall_input_decode - split an input value into its fields.
 * @rcx: the 64-bit input value. @layout: the ABI profile, which decides what bits 31:17 mean (§3.1, D12).
 * Returns the fields; nothing is validated.
 */
HVLOG_API struct hv_hypercall_input hvlog_hypercall_input_decode(uint64_t rcx,
                                                              enum hvlog_abi_profile layout);

/**
 * hvlog_hypercall_input_encode - the inverse of decode: fields (out-of-range
 * values are masked to their width) into an input value.
 */
HVLOG_API uint64_t hvlog_hypercall_input_encode(const struct hv_hypercall_input *input,
                                             enum hvlog_abi_profile layout);

/**
 * hvlog_hypercall_input_check_simple - the encoding checks of §3.5 step 2 for a
 * simple (non-rep) call without a variable header: every reserved bit, the
 * rep count, the rep start index and the variable-header size must be zero.
 * Returns HV_STATUS_SUCCESS or HV_STATUS_INVALID_HYPERCALL_INPUT.
 */
HVLOG_API hv_status_t hvlog_hypercall_input_check_simple(const struct hv_hypercall_input *input);

/** hv_hypercall_result_make - RAX for a status and a count of completed reps (§3.2). */
static inline uint64_t hv_hypercall_result_make(hv_status_t status, uint16_t reps_completed)
{
    return (uint64_t)status |
           (((uint64_t)reps_completed << HV_HYPERCALL_RESULT_REPS_SHIFT) &
            HV_HYPERCALL_RESULT_REPS_MASK);
}

/** hv_hypercall_result_status - the HV_STATUS in a result value. */
static inline hv_status_t hv_hypercall_result_status(uint64_t rax)
{
    return (hv_status_t)(rax & HV_HYPERCALL_RESULT_STATUS_MASK);
}

/** hv_hypercall_result_reps - the reps-completed field of a result value. */
static inline uint16_t hv_hypercall_result_reps(uint64_t rax)
{
    return (uint16_t)((rax & HV_HYPERCALL_RESULT_REPS_MASK) >> HV_HYPERCALL_RESULT_REPS_SHIFT);
}

/* §3.3 fast calls carry at most 16 input bytes: bytes 0..7 in RDX, 8..15 in R8. */
#define HV_FAST_INPUT_MAX 16u

/**
 * hvlog_fast_pack - put @len (<= 16) input bytes into RDX and R8, little-endian,
 * zero-filling the rest. Returns false (and writes nothing) when @len > 16.
 */
HVLOG_API bool hvlog_fast_pack(const void *input, uint32_t len, uint64_t *rdx, uint64_t *r8);

/** hvlog_fast_unpack - the 16 input bytes that RDX and R8 carry. */
HVLOG_API void hvlog_fast_unpack(uint64_t rdx, uint64_t r8, uint8_t out[HV_FAST_INPUT_MAX]);

/* §3.3 x86: a 64-bit value in a register pair "EBX:ECX", first register high. */
struct hv_reg_pair {
    uint32_t high;
    uint32_t low;
};

static inline struct hv_reg_pair hv_reg_pair_split(uint64_t value)
{
    struct hv_reg_pair pair = {(uint32_t)(value >> 32), (uint32_t)value};
    return pair;
}

static inline uint64_t hv_reg_pair_join(struct hv_reg_pair pair)
{
    return ((uint64_t)pair.high << 32) | pair.low;
}

HVLOG_END_DECLS

#endif /* HVLOG_ABI_HYPERCALL_H */
