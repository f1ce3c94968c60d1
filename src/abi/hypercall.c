/* SPDX-License-Identifier: MIT */
/* The hypercall input value, result value and fast-register packing (§3.1-§3.3). */
#include <string.h>

#include "hvlog/abi/hypercall.h"
#include "hvlog/abi/le.h"

struct hv_hypercall_input hvlog_hypercall_input_decode(uint64_t rcx, enum hvlog_abi_profile layout)
{
    struct hv_hypercall_input in = {
        .call_code = (uint16_t)(rcx & HV_HYPERCALL_CALL_CODE_MASK),
        .fast = (rcx & HV_HYPERCALL_FAST_BIT) != 0,
        .rep_count = (uint16_t)((rcx & HV_HYPERCALL_REP_COUNT_MASK) >> HV_HYPERCALL_REP_COUNT_SHIFT),
        .rep_start_index =
            (uint16_t)((rcx & HV_HYPERCALL_REP_START_MASK) >> HV_HYPERCALL_REP_START_SHIFT),
    };

    if (layout == HVLOG_ABI_CURRENT) {
        in.variable_header_qwords =
            (uint16_t)((rcx & HV_HYPERCALL_VARHEAD_MASK) >> HV_HYPERCALL_VARHEAD_SHIFT);
        in.reserved_bits = rcx & HV_HYPERCALL_RSVD_MASK_CURRENT;
    } else {
        in.reserved_bits = rcx & HV_HYPERCALL_RSVD_MASK_2013;
    }
    return in;
}

uint64_t hvlog_hypercall_input_encode(const struct hv_hypercall_input *in,
                                   enum hvlog_abi_profile layout)
{
    uint64_t reserved_mask = layout == HVLOG_ABI_CURRENT ? HV_HYPERCALL_RSVD_MASK_CURRENT
                                                                  : HV_HYPERCALL_RSVD_MASK_2013;
    uint64_t rcx = in->call_code;

    if (in->fast)
        rcx |= HV_HYPERCALL_FAST_BIT;
    rcx |= ((uint64_t)in->rep_count << HV_HYPERCALL_REP_COUNT_SHIFT) & HV_HYPERCALL_REP_COUNT_MASK;
    rcx |= ((uint64_t)in->rep_start_index << HV_HYPERCALL_REP_START_SHIFT) &
           HV_HYPERCALL_REP_START_MASK;
    if (layout == HVLOG_ABI_CURRENT)
        rcx |= ((uint64_t)in->variable_header_qwords << HV_HYPERCALL_VARHEAD_SHIFT) &
               HV_HYPERCALL_VARHEAD_MASK;
    rcx |= in->reserved_bits & reserved_mask;
    return rcx;
}

hv_status_t hvlog_hypercall_input_check_simple(const struct hv_hypercall_input *in)
{
    /* §3.1: every RsvdZ bit zero; the nine calls are simple, so no reps;
     * none takes a variable header (D12), in either layout. */
    if (in->reserved_bits != 0 || in->rep_count != 0 || in->rep_start_index != 0 ||
        in->variable_header_qwords != 0)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    return HV_STATUS_SUCCESS;
}

bool hvlog_fast_pack(const void *input, uint32_t len, uint64_t *rdx, uint64_t *r8)
{
    uint8_t bytes[HV_FAST_INPUT_MAX] = {0};

    if (len > HV_FAST_INPUT_MAX)
        return false;
    if (len)
        memcpy(bytes, input, len);
    *rdx = hvlog_load_le64(bytes);
    *r8 = hvlog_load_le64(bytes + 8);
    return true;
}

void hvlog_fast_unpack(uint64_t rdx, uint64_t r8, uint8_t out[HV_FAST_INPUT_MAX])
{
    hvlog_store_le64(out, rdx);
    hvlog_store_le64(out + 8, r8);
}
