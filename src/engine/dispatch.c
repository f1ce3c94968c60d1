/* SPDX-License-Identifier: MIT */
/*
 * The hypercall dispatcher (spec §3, §3.5, §3.6, DEC-ORDER, DEC-FAST).
 *
 * One table row per call (from HV_EVENTLOG_CALL_TABLE: code, convention,
 * input size per profile, output) plus its handler. The generic checks run
 * once, in the order of §3.5; the handler sees the input bytes already read
 * (from registers or guest memory) and the Type already validated. The
 * result value is written at one exit; output reaches the guest only on
 * success.
 *
 *   1. call code known                       else INVALID_HYPERCALL_CODE
 *   2. input value: reserved bits, reps,     else INVALID_HYPERCALL_INPUT
 *      variable header, fast bit legal
 *   3. memory form: GPA alignment, page      else INVALID_ALIGNMENT
 *      crossing, range; unreadable input     -> memory intercept (Q-GPA)
 *   4. caller is the root partition          else ACCESS_DENIED
 *   5. Type within the profile's maximum     else INVALID_PARAMETER
 *   6. the handler's own checks, §5 tables
 *
 * A fast call's input is its registers: steps 4 and 5 read RDX directly
 * and the 16 bytes are stored for the handler only once they passed. One
 * call skips all of this: a fast Flush that finds nothing to do
 * (hvlog_engine_hypercall, at the end), the call a root polls with.
 */
#include <string.h>

#include "engine/engine_internal.h"
#include "hvlog/abi/calls.h"
#include "hvlog/abi/hypercall.h"

/* The dispatch table: one row per call, generated from the ABI table. */
struct call_row {
    hvlog_handler_fn handler;
    uint16_t input_bytes[2]; /* [profile]: 2013, current */
    bool memory_only;        /* §3.6: Initialize and Map (they cannot be fast) */
    bool has_output;
};

static const struct call_row calls[HV_EVENTLOG_CALL_COUNT] = {
#define ROW(code, name, shortname, c13, ccur, in13, incur, out)                              \
    [(code) - HV_EVENTLOG_CALL_FIRST] = {hvlog__call_##shortname, {(in13), (incur)},                 \
                                         HVLOG_CALL_##c13 == HVLOG_CALL_MEMORY, (out)},
    HV_EVENTLOG_CALL_TABLE(ROW)
#undef ROW
};

/*
 * §3.5 step 2 in one test. The nine calls are simple (no reps) and take no
 * variable header, so every bit above the Fast bit must be zero: in the
 * 2013 layout bits 31:17 are RsvdZ, in the current one 26:17 are the
 * variable-header size and 31:27 RsvdZ, and above them come the rep count,
 * the rep start index and more RsvdZ bits (§3.1, D12).
 */
#define SIMPLE_CALL_ZERO_BITS                                                           \
    (HV_HYPERCALL_RSVD_MASK_2013 | HV_HYPERCALL_REP_COUNT_MASK | HV_HYPERCALL_REP_START_MASK)
_Static_assert(SIMPLE_CALL_ZERO_BITS == ~(HV_HYPERCALL_CALL_CODE_MASK | HV_HYPERCALL_FAST_BIT),
               "every bit above Fast is reserved, a rep field or the variable header");
_Static_assert((HV_HYPERCALL_RSVD_MASK_CURRENT | HV_HYPERCALL_VARHEAD_MASK) ==
                   HV_HYPERCALL_RSVD_MASK_2013,
               "the current layout splits the same bits 31:17");

/* The largest input block: the current SetSources, 544 bytes. */
#define MAX_INPUT_BLOCK HV_INPUT_SET_SOURCES_CURRENT_SIZE

uint32_t hvlog__profile_type_maximum(const struct hvlog_engine *e)
{
    return e->config.profile.abi == HVLOG_ABI_CURRENT ? HvEventLogTypeMaximumCurrent
                                                      : HvEventLogTypeMaximum2013;
}

/* §3.4: 8-aligned and inside one page. */
static bool block_placed_well(uint64_t gpa, uint32_t len)
{
    return (gpa & 7u) == 0 && (gpa & (HV_PAGE_SIZE - 1)) + len <= HV_PAGE_SIZE;
}

static hv_status_t dispatch(struct hvlog_engine *e, struct hvlog_call_ctx *c,
                            const struct hvlog_hypercall *call, uint8_t *input)
{
    const uint64_t rcx = call->rcx;
    const uint32_t slot = (uint32_t)(rcx & HV_HYPERCALL_CALL_CODE_MASK) - HV_EVENTLOG_CALL_FIRST;
    const bool current = e->config.profile.abi == HVLOG_ABI_CURRENT;
    const struct call_row *row;
    enum hvlog_gpa_result r;
    uint32_t block_len, type;

    /* 1, 2 */
    if (slot >= HV_EVENTLOG_CALL_COUNT)
        return HV_STATUS_INVALID_HYPERCALL_CODE;
    if ((rcx & SIMPLE_CALL_ZERO_BITS) != 0)
        return HV_STATUS_INVALID_HYPERCALL_INPUT;
    row = &calls[slot];
    block_len = (row->input_bytes[current] + 7u) & ~7u; /* §3.4: blocks are padded to 8 */
    c->input = input;

    if (rcx & HV_HYPERCALL_FAST_BIT) {
        if (row->memory_only)
            return HV_STATUS_INVALID_HYPERCALL_INPUT;
        /* 3 does not apply. 4: nothing about the engine's state is
         * revealed before this. */
        if (c->caller->partition_id != e->config.root_partition_id)
            return HV_STATUS_ACCESS_DENIED;
        /* 5: Type, the first u32 of every fast input (the one u16 Type,
         * the current Initialize's, is memory-only). */
        if ((uint32_t)call->rdx > hvlog__profile_type_maximum(e))
            return HV_STATUS_INVALID_PARAMETER;
        /* §3.3: 16 bytes in RDX:R8; a longer current-profile layout sees
         * zeros. Stored as hvlog_fast_unpack() does, inline. */
        hvlog_store_le64(input, call->rdx);
        hvlog_store_le64(input + 8, call->r8);
        if (block_len > HV_FAST_INPUT_MAX) {
            memset(input + HV_FAST_INPUT_MAX, 0, block_len - HV_FAST_INPUT_MAX);
            block_len = HV_FAST_INPUT_MAX;
        }
        c->fast = true;
        c->input_len = block_len;
        /* 6 */
        return row->handler(c);
    }

    /* 3: the memory form */
    if (!e->ops.gpa_read || !block_placed_well(call->rdx, block_len))
        return HV_STATUS_INVALID_ALIGNMENT;
    if (row->has_output && (call->r8 & 7u) != 0)
        return HV_STATUS_INVALID_ALIGNMENT;
    r = e->ops.gpa_read(e->config.ctx, c->caller->partition_id, call->rdx, input, block_len);
    if (r == HVLOG_GPA_OUT_OF_RANGE)
        return HV_STATUS_INVALID_ALIGNMENT;
    if (r == HVLOG_GPA_FAULT) {
        c->outcome = HVLOG_HYPERCALL_GPA_FAULT;
        c->fault_gpa = call->rdx;
        return HV_STATUS_SUCCESS; /* not reported: the intercept is */
    }
    if (row->has_output) {
        /* The output size is known only once the group is found (§5.5);
         * here its first qword must be in range. */
        r = e->ops.gpa_probe
                ? e->ops.gpa_probe(e->config.ctx, c->caller->partition_id, call->r8, 8, true)
                : HVLOG_GPA_OUT_OF_RANGE;
        if (r == HVLOG_GPA_OUT_OF_RANGE)
            return HV_STATUS_INVALID_ALIGNMENT;
        if (r == HVLOG_GPA_FAULT) { /* §3.4: the output must be writable */
            c->outcome = HVLOG_HYPERCALL_GPA_FAULT;
            c->fault_gpa = call->r8;
            return HV_STATUS_SUCCESS;
        }
    }
    c->input_len = block_len;
    c->input_gpa = call->rdx;
    c->output_gpa = call->r8;

    /* 4 */
    if (c->caller->partition_id != e->config.root_partition_id)
        return HV_STATUS_ACCESS_DENIED;

    /* 5: every input starts with Type (u16 in the current Initialize, §11.1). */
    type = current && slot == HvCallHvInitializeEventLogBufferGroup - HV_EVENTLOG_CALL_FIRST
               ? hvlog_load_le16(input)
               : hvlog_load_le32(input);
    if (type > hvlog__profile_type_maximum(e))
        return HV_STATUS_INVALID_PARAMETER;

    /* 6 */
    return row->handler(c);
}

/* Everything but the idle Flush: out of line, so that the fast path below
 * pays for none of its stack frame (the 544-byte input block) or saved
 * registers. */
static __attribute__((noinline)) enum hvlog_hypercall_outcome
hypercall(struct hvlog_engine *e, const struct hvlog_caller *caller, struct hvlog_hypercall *call)
{
    /* Filled up to the call's block size by dispatch(); handlers read no more. */
    uint8_t input[MAX_INPUT_BLOCK];
    struct hvlog_call_ctx c = {.engine = e, .caller = caller, .outcome = HVLOG_HYPERCALL_DONE};
    hv_status_t status = dispatch(e, &c, call, input);

    if (c.outcome == HVLOG_HYPERCALL_GPA_FAULT) {
        call->fault_gpa = c.fault_gpa;
        return HVLOG_HYPERCALL_GPA_FAULT;
    }
    /* The one exit of the result value. (Map writes its output itself,
     * through call_output_write, before it changes any state: output reaches
     * the guest only on success, and a failed write changes nothing.) */
    call->rax = hv_hypercall_result_make(status, 0);
    return HVLOG_HYPERCALL_DONE;
}

enum hvlog_hypercall_outcome hvlog_engine_hypercall(struct hvlog_engine *e,
                                                    const struct hvlog_caller *caller,
                                                    struct hvlog_hypercall *call)
{
    /*
     * The idle Flush (issue 15): a root polls Flush on the buffers it sees,
     * and most of those calls find nothing to do (§5.9 step 3). One compare
     * of RCX settles steps 1 and 2 for a fast Flush (code known, every bit
     * above Fast zero, the fast form legal: §3.6); step 3 does not apply to
     * a fast call; step 4 is the caller test; then the 8-byte input block
     * is RDX (§3.3, §5.9: Type, BufferIndex), and hvlog__flush_is_noop()
     * (engine_internal.h, where its safety is argued) answers steps 5 and 6
     * without the group lock. Any other answer takes the general path,
     * which checks everything again in §3.5's order: every status is the
     * one it was.
     */
    if (call->rcx == (HvCallHvFlushEventLogBuffer | HV_HYPERCALL_FAST_BIT) &&
        caller->partition_id == e->config.root_partition_id &&
        hvlog__flush_is_noop(e, (uint32_t)call->rdx, (uint32_t)(call->rdx >> 32))) {
        call->rax = hv_hypercall_result_make(HV_STATUS_SUCCESS, 0);
        return HVLOG_HYPERCALL_DONE;
    }
    return hypercall(e, caller, call);
}
