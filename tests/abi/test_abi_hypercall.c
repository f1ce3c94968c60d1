/* SPDX-License-Identifier: MIT */
/*
 * hvlog/abi/hypercall.h: the input value (RCX, spec §3.1), the result value
 * (RAX, §3.2) and the fast-call register packing (§3.3).
 *
 * The bit classes below are typed in from the spec tables, not taken from
 * the header, so a wrong mask in the header fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hvlog/abi/calls.h"
#include "hvlog/abi/hypercall.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/le.h"
#include "hvlog/abi/status.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* §3.1 2013 layout [DOC], as the spec writes the masks. */
#define SPEC_CALL_CODE 0x000000000000FFFFull
#define SPEC_FAST 0x0000000000010000ull
#define SPEC_RSVD_2013 (0x00000000FFFE0000ull | 0x0000F00000000000ull | 0xF000000000000000ull)
#define SPEC_REP_COUNT 0x00000FFF00000000ull
#define SPEC_REP_START 0x0FFF000000000000ull
/* §3.1 / D12 current layout: 26:17 variable header size, 31:27 RsvdZ. */
#define SPEC_VARHEAD (0x3FFull << 17)
#define SPEC_RSVD_CURRENT (0x00000000F8000000ull | 0x0000F00000000000ull | 0xF000000000000000ull)
/* §3.2 result value. */
#define SPEC_RESULT_STATUS 0x000000000000FFFFull
#define SPEC_RESULT_REPS 0x00000FFF00000000ull

static const enum hvlog_abi_profile layouts[] = {HVLOG_ABI_2013,
                                                  HVLOG_ABI_CURRENT};

static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

static const char *layout_name(enum hvlog_abi_profile layout)
{
    return layout == HVLOG_ABI_CURRENT ? "current" : "2013";
}

/* ---- the masks -------------------------------------------------------------- */

static void header_masks_equal_the_spec_masks(void **state)
{
    (void)state;
    assert_int_equal(HV_HYPERCALL_CALL_CODE_MASK, SPEC_CALL_CODE);
    assert_int_equal(HV_HYPERCALL_FAST_BIT, SPEC_FAST);
    assert_int_equal(HV_HYPERCALL_RSVD_MASK_2013, SPEC_RSVD_2013);
    assert_int_equal(HV_HYPERCALL_REP_COUNT_MASK, SPEC_REP_COUNT);
    assert_int_equal(HV_HYPERCALL_REP_START_MASK, SPEC_REP_START);
    assert_int_equal(HV_HYPERCALL_REP_COUNT_SHIFT, 32);
    assert_int_equal(HV_HYPERCALL_REP_START_SHIFT, 48);
    assert_int_equal(HV_HYPERCALL_VARHEAD_MASK, SPEC_VARHEAD);
    assert_int_equal(HV_HYPERCALL_VARHEAD_SHIFT, 17);
    assert_int_equal(HV_HYPERCALL_RSVD_MASK_CURRENT, SPEC_RSVD_CURRENT);
    /* Linux's "nested" bit is bit 31, one of the RsvdZ bits 31:27. */
    assert_int_equal(HV_HYPERCALL_NESTED_BIT, 1ull << 31);
    assert_true((HV_HYPERCALL_NESTED_BIT & SPEC_RSVD_CURRENT) != 0);
    assert_int_equal(HV_HYPERCALL_RESULT_STATUS_MASK, SPEC_RESULT_STATUS);
    assert_int_equal(HV_HYPERCALL_RESULT_REPS_MASK, SPEC_RESULT_REPS);
    assert_int_equal(HV_HYPERCALL_RESULT_REPS_SHIFT, 32);
}

/* Each layout's fields are disjoint and together cover all 64 bits, which is
 * what makes decode/encode a bijection. */
static void input_fields_tile_all_64_bits_in_both_layouts(void **state)
{
    (void)state;
    const uint64_t l2013[] = {SPEC_CALL_CODE, SPEC_FAST, SPEC_RSVD_2013, SPEC_REP_COUNT,
                              SPEC_REP_START};
    const uint64_t lcur[] = {SPEC_CALL_CODE, SPEC_FAST, SPEC_VARHEAD, SPEC_RSVD_CURRENT,
                             SPEC_REP_COUNT, SPEC_REP_START};
    uint64_t all = 0;

    for (size_t i = 0; i < ARRAY_LEN(l2013); i++) {
        assert_int_equal(all & l2013[i], 0);
        all |= l2013[i];
    }
    assert_int_equal(all, ~0ull);
    all = 0;
    for (size_t i = 0; i < ARRAY_LEN(lcur); i++) {
        assert_int_equal(all & lcur[i], 0);
        all |= lcur[i];
    }
    assert_int_equal(all, ~0ull);
    /* bits 31:17 are RsvdZ in 2013 and varhead + RsvdZ in the current layout */
    assert_int_equal(SPEC_VARHEAD | 0xF8000000ull, 0xFFFE0000ull);
}

/* ---- decode / encode --------------------------------------------------------- */

static void decode_splits_every_field_of_a_2013_input_value(void **state)
{
    (void)state;
    /* code 0x0068, fast, bits 17 and 31 reserved, rep count 0xABC, bit 45,
     * rep start 0x765, bit 63 */
    uint64_t rcx = 0x0068ull | SPEC_FAST | (1ull << 17) | (1ull << 31) | (0xABCull << 32) |
                   (1ull << 45) | (0x765ull << 48) | (1ull << 63);
    struct hv_hypercall_input in = hvlog_hypercall_input_decode(rcx, HVLOG_ABI_2013);

    assert_int_equal(in.call_code, 0x0068);
    assert_true(in.fast);
    assert_int_equal(in.rep_count, 0xABC);
    assert_int_equal(in.rep_start_index, 0x765);
    assert_int_equal(in.variable_header_qwords, 0);
    assert_int_equal(in.reserved_bits, (1ull << 17) | (1ull << 31) | (1ull << 45) | (1ull << 63));
    assert_int_equal(hvlog_hypercall_input_encode(&in, HVLOG_ABI_2013), rcx);
}

static void decode_splits_every_field_of_a_current_input_value(void **state)
{
    (void)state;
    uint64_t rcx = 0x0060ull | (0x2A5ull << 17) | (1ull << 27) | (1ull << 31) | (0x001ull << 32) |
                   (1ull << 44) | (0xFFFull << 48) | (1ull << 60);
    struct hv_hypercall_input in = hvlog_hypercall_input_decode(rcx, HVLOG_ABI_CURRENT);

    assert_int_equal(in.call_code, 0x0060);
    assert_false(in.fast);
    assert_int_equal(in.variable_header_qwords, 0x2A5);
    assert_int_equal(in.rep_count, 0x001);
    assert_int_equal(in.rep_start_index, 0xFFF);
    assert_int_equal(in.reserved_bits, (1ull << 27) | (1ull << 31) | (1ull << 44) | (1ull << 60));
    assert_int_equal(hvlog_hypercall_input_encode(&in, HVLOG_ABI_CURRENT), rcx);
}

static void all_ones_decodes_to_every_field_at_its_maximum(void **state)
{
    (void)state;
    struct hv_hypercall_input a = hvlog_hypercall_input_decode(~0ull, HVLOG_ABI_2013);
    struct hv_hypercall_input b = hvlog_hypercall_input_decode(~0ull, HVLOG_ABI_CURRENT);

    assert_int_equal(a.call_code, 0xFFFF);
    assert_true(a.fast);
    assert_int_equal(a.rep_count, 0xFFF);
    assert_int_equal(a.rep_start_index, 0xFFF);
    assert_int_equal(a.variable_header_qwords, 0);
    assert_int_equal(a.reserved_bits, SPEC_RSVD_2013);

    assert_int_equal(b.call_code, 0xFFFF);
    assert_true(b.fast);
    assert_int_equal(b.rep_count, 0xFFF);
    assert_int_equal(b.rep_start_index, 0xFFF);
    assert_int_equal(b.variable_header_qwords, 0x3FF);
    assert_int_equal(b.reserved_bits, SPEC_RSVD_CURRENT);
}

/* Every value of every field survives encode then decode, and sits exactly
 * where the spec puts it. */
static void every_value_of_every_field_round_trips_in_both_layouts(void **state)
{
    (void)state;
    for (size_t l = 0; l < ARRAY_LEN(layouts); l++) {
        enum hvlog_abi_profile layout = layouts[l];

        for (uint32_t v = 0; v <= 0xFFFF; v++) {
            struct hv_hypercall_input in = {.call_code = (uint16_t)v};
            uint64_t rcx = hvlog_hypercall_input_encode(&in, layout);
            if (rcx != v)
                fail_msg("%s: call code 0x%04X encodes as 0x%016llX", layout_name(layout), v,
                         (unsigned long long)rcx);
            assert_int_equal(hvlog_hypercall_input_decode(rcx, layout).call_code, v);
        }
        for (int fast = 0; fast <= 1; fast++) {
            struct hv_hypercall_input in = {.fast = fast != 0};
            uint64_t rcx = hvlog_hypercall_input_encode(&in, layout);
            assert_int_equal(rcx, fast ? SPEC_FAST : 0);
            assert_int_equal(hvlog_hypercall_input_decode(rcx, layout).fast, fast != 0);
        }
        for (uint32_t v = 0; v <= 0xFFF; v++) {
            struct hv_hypercall_input rc = {.rep_count = (uint16_t)v};
            struct hv_hypercall_input rs = {.rep_start_index = (uint16_t)v};
            uint64_t a = hvlog_hypercall_input_encode(&rc, layout);
            uint64_t b = hvlog_hypercall_input_encode(&rs, layout);
            assert_int_equal(a, (uint64_t)v << 32);
            assert_int_equal(b, (uint64_t)v << 48);
            assert_int_equal(hvlog_hypercall_input_decode(a, layout).rep_count, v);
            assert_int_equal(hvlog_hypercall_input_decode(b, layout).rep_start_index, v);
        }
        /* every reserved-bit pattern of the layout, one bit at a time */
        uint64_t rsvd = layout == HVLOG_ABI_CURRENT ? SPEC_RSVD_CURRENT : SPEC_RSVD_2013;
        for (unsigned bit = 0; bit < 64; bit++) {
            uint64_t m = 1ull << bit;
            if (!(rsvd & m))
                continue;
            struct hv_hypercall_input in = {.reserved_bits = m};
            assert_int_equal(hvlog_hypercall_input_encode(&in, layout), m);
            assert_int_equal(hvlog_hypercall_input_decode(m, layout).reserved_bits, m);
        }
    }
    /* the variable-header field exists only in the current layout */
    for (uint32_t v = 0; v <= 0x3FF; v++) {
        struct hv_hypercall_input in = {.variable_header_qwords = (uint16_t)v};
        uint64_t rcx = hvlog_hypercall_input_encode(&in, HVLOG_ABI_CURRENT);
        assert_int_equal(rcx, (uint64_t)v << 17);
        assert_int_equal(hvlog_hypercall_input_decode(rcx, HVLOG_ABI_CURRENT)
                             .variable_header_qwords,
                         v);
        assert_int_equal(hvlog_hypercall_input_encode(&in, HVLOG_ABI_2013), 0);
    }
}

/* Because the fields tile the 64 bits, decode then encode gives back any
 * input value unchanged, reserved bits included. */
static void any_input_value_survives_decode_then_encode_in_both_layouts(void **state)
{
    (void)state;
    uint64_t seed = 0xD1B54A32D192ED03ull;

    for (int n = 0; n < 100000; n++) {
        uint64_t rcx = next_random(&seed);
        for (size_t l = 0; l < ARRAY_LEN(layouts); l++) {
            struct hv_hypercall_input in = hvlog_hypercall_input_decode(rcx, layouts[l]);
            uint64_t back = hvlog_hypercall_input_encode(&in, layouts[l]);
            if (back != rcx)
                fail_msg("%s: 0x%016llX came back as 0x%016llX", layout_name(layouts[l]),
                         (unsigned long long)rcx, (unsigned long long)back);
        }
    }
}

static void encode_masks_out_of_range_fields_to_their_width(void **state)
{
    (void)state;
    struct hv_hypercall_input in = {
        .rep_count = 0xF123,            /* 12 bits: 0x123 */
        .rep_start_index = 0xE456,      /* 12 bits: 0x456 */
        .variable_header_qwords = 0xFC01, /* 10 bits: 0x001 */
        .reserved_bits = ~0ull,         /* only the layout's RsvdZ bits */
    };

    assert_int_equal(hvlog_hypercall_input_encode(&in, HVLOG_ABI_2013),
                     (0x123ull << 32) | (0x456ull << 48) | SPEC_RSVD_2013);
    assert_int_equal(hvlog_hypercall_input_encode(&in, HVLOG_ABI_CURRENT),
                     (0x123ull << 32) | (0x456ull << 48) | (0x001ull << 17) | SPEC_RSVD_CURRENT);
}

/* ---- check_simple ------------------------------------------------------------- */

enum bit_class { BIT_CODE, BIT_FAST, BIT_RSVD, BIT_REP_COUNT, BIT_REP_START, BIT_VARHEAD };

static enum bit_class classify(unsigned bit, enum hvlog_abi_profile layout)
{
    uint64_t m = 1ull << bit;
    if (m & SPEC_CALL_CODE)
        return BIT_CODE;
    if (m & SPEC_FAST)
        return BIT_FAST;
    if (m & SPEC_REP_COUNT)
        return BIT_REP_COUNT;
    if (m & SPEC_REP_START)
        return BIT_REP_START;
    if (layout == HVLOG_ABI_CURRENT && (m & SPEC_VARHEAD))
        return BIT_VARHEAD;
    return BIT_RSVD;
}

/* §3.5 step 2: with exactly one bit set on top of a valid value, the bit is
 * rejected iff it is RsvdZ, rep count, rep start or variable header size. */
static void check_one_bit(unsigned bit, enum hvlog_abi_profile layout, uint64_t base,
                          unsigned *rejected)
{
    uint64_t m = 1ull << bit;
    uint64_t rcx = base | m;
    struct hv_hypercall_input in = hvlog_hypercall_input_decode(rcx, layout);
    hv_status_t st = hvlog_hypercall_input_check_simple(&in);
    enum bit_class cls = classify(bit, layout);
    hv_status_t want = (cls == BIT_CODE || cls == BIT_FAST) ? HV_STATUS_SUCCESS
                                                            : HV_STATUS_INVALID_HYPERCALL_INPUT;

    if (st != want)
        fail_msg("%s layout, bit %u (class %d) over 0x%016llX: status 0x%04X, want 0x%04X",
                 layout_name(layout), bit, (int)cls, (unsigned long long)base, st, want);
    if (want != HV_STATUS_SUCCESS)
        (*rejected)++;

    /* the bit lands in the field its class names, and nowhere else */
    switch (cls) {
    case BIT_RSVD:
        if (in.reserved_bits != m)
            fail_msg("%s layout, bit %u: reserved_bits 0x%016llX", layout_name(layout), bit,
                     (unsigned long long)in.reserved_bits);
        assert_int_equal(in.rep_count, 0);
        assert_int_equal(in.rep_start_index, 0);
        assert_int_equal(in.variable_header_qwords, 0);
        break;
    case BIT_REP_COUNT:
        assert_int_equal(in.rep_count, 1u << (bit - 32));
        assert_int_equal(in.reserved_bits, 0);
        break;
    case BIT_REP_START:
        assert_int_equal(in.rep_start_index, 1u << (bit - 48));
        assert_int_equal(in.reserved_bits, 0);
        break;
    case BIT_VARHEAD:
        assert_int_equal(in.variable_header_qwords, 1u << (bit - 17));
        assert_int_equal(in.reserved_bits, 0);
        break;
    case BIT_CODE:
    case BIT_FAST:
        assert_int_equal(in.reserved_bits, 0);
        assert_int_equal(in.rep_count, 0);
        assert_int_equal(in.rep_start_index, 0);
        assert_int_equal(in.variable_header_qwords, 0);
        break;
    }
    assert_int_equal(hvlog_hypercall_input_encode(&in, layout), rcx);
}

static void every_single_reserved_rep_or_varhead_bit_is_rejected_in_the_2013_layout(void **state)
{
    (void)state;
    unsigned rejected = 0;
    for (unsigned bit = 0; bit < 64; bit++)
        check_one_bit(bit, HVLOG_ABI_2013, 0, &rejected);
    /* 15 (31:17) + 12 rep count + 4 (47:44) + 12 rep start + 4 (63:60) */
    assert_int_equal(rejected, 47);
}

static void every_single_reserved_rep_or_varhead_bit_is_rejected_in_the_current_layout(
    void **state)
{
    (void)state;
    unsigned rejected = 0;
    for (unsigned bit = 0; bit < 64; bit++)
        check_one_bit(bit, HVLOG_ABI_CURRENT, 0, &rejected);
    /* 10 varhead + 5 (31:27) + 12 + 4 + 12 + 4: the same 47 bits as 2013 */
    assert_int_equal(rejected, 47);
}

/* The same classification holds on top of a real call: every event-log
 * code, fast or not, with one extra bit. */
static void single_bits_over_each_event_log_call_are_classified_the_same(void **state)
{
    (void)state;
    for (uint32_t code = HV_EVENTLOG_CALL_FIRST; code <= HV_EVENTLOG_CALL_LAST; code++) {
        for (int fast = 0; fast <= 1; fast++) {
            uint64_t base = code | (fast ? SPEC_FAST : 0);
            for (size_t l = 0; l < ARRAY_LEN(layouts); l++) {
                struct hv_hypercall_input clean = hvlog_hypercall_input_decode(base, layouts[l]);
                assert_int_equal(hvlog_hypercall_input_check_simple(&clean), HV_STATUS_SUCCESS);
                unsigned rejected = 0;
                for (unsigned bit = 17; bit < 64; bit++)
                    check_one_bit(bit, layouts[l], base, &rejected);
                assert_int_equal(rejected, 47);
            }
        }
    }
}

/* D12: bits 26:17 are RsvdZ in 2013 and the variable header size in the
 * current layout; the nine calls take no variable header, so both reject. */
static void bits_26_to_17_are_reserved_in_2013_and_varhead_in_current_and_both_reject(
    void **state)
{
    (void)state;
    uint64_t rcx = HvCallHvFlushEventLogBuffer | SPEC_FAST | (5ull << 17);
    struct hv_hypercall_input a = hvlog_hypercall_input_decode(rcx, HVLOG_ABI_2013);
    struct hv_hypercall_input b = hvlog_hypercall_input_decode(rcx, HVLOG_ABI_CURRENT);

    assert_int_equal(a.reserved_bits, 5ull << 17);
    assert_int_equal(a.variable_header_qwords, 0);
    assert_int_equal(b.reserved_bits, 0);
    assert_int_equal(b.variable_header_qwords, 5);
    assert_int_equal(hvlog_hypercall_input_check_simple(&a), HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_int_equal(hvlog_hypercall_input_check_simple(&b), HV_STATUS_INVALID_HYPERCALL_INPUT);
}

/* check_simple looks at the fields, not only at a decoded value: each field
 * alone, set directly, is enough to reject. */
static void input_with_any_nonzero_rep_or_varhead_field_is_rejected(void **state)
{
    (void)state;
    struct hv_hypercall_input ok = {.call_code = HvCallHvCreateEventLogBuffer, .fast = true};
    struct hv_hypercall_input rc = ok, rs = ok, vh = ok, rb = ok;
    rc.rep_count = 1;
    rs.rep_start_index = 1;
    vh.variable_header_qwords = 1;
    rb.reserved_bits = 1ull << 63;

    assert_int_equal(hvlog_hypercall_input_check_simple(&ok), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_hypercall_input_check_simple(&rc), HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_int_equal(hvlog_hypercall_input_check_simple(&rs), HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_int_equal(hvlog_hypercall_input_check_simple(&vh), HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_int_equal(hvlog_hypercall_input_check_simple(&rb), HV_STATUS_INVALID_HYPERCALL_INPUT);
}

/* A random value is accepted exactly when none of the 47 checked bits is set. */
static void random_input_values_are_accepted_iff_no_checked_bit_is_set(void **state)
{
    (void)state;
    uint64_t seed = 0x2545F4914F6CDD1Dull;
    const uint64_t checked = ~(SPEC_CALL_CODE | SPEC_FAST);

    for (int n = 0; n < 20000; n++) {
        uint64_t r = next_random(&seed);
        /* half of the samples keep only the low 17 bits, so both outcomes occur */
        uint64_t rcx = (n & 1) ? r : (r & (SPEC_CALL_CODE | SPEC_FAST));
        for (size_t l = 0; l < ARRAY_LEN(layouts); l++) {
            struct hv_hypercall_input in = hvlog_hypercall_input_decode(rcx, layouts[l]);
            hv_status_t want =
                (rcx & checked) ? HV_STATUS_INVALID_HYPERCALL_INPUT : HV_STATUS_SUCCESS;
            assert_int_equal(hvlog_hypercall_input_check_simple(&in), want);
        }
    }
}

/* ---- result value ------------------------------------------------------------- */

static void result_carries_the_status_in_bits_15_to_0_and_nothing_else(void **state)
{
    (void)state;
    for (uint32_t s = 0; s <= 0xFFFF; s++) {
        uint64_t rax = hv_hypercall_result_make((hv_status_t)s, 0);
        if (rax != s)
            fail_msg("status 0x%04X makes 0x%016llX", s, (unsigned long long)rax);
        assert_int_equal(hv_hypercall_result_status(rax), s);
        assert_int_equal(hv_hypercall_result_reps(rax), 0);
    }
}

static void result_carries_reps_completed_in_bits_43_to_32(void **state)
{
    (void)state;
    for (uint32_t reps = 0; reps <= 0xFFF; reps++) {
        uint64_t rax = hv_hypercall_result_make(HV_STATUS_INVALID_PARAMETER, (uint16_t)reps);
        assert_int_equal(rax, ((uint64_t)reps << 32) | 0x0005);
        assert_int_equal(rax & ~(SPEC_RESULT_STATUS | SPEC_RESULT_REPS), 0);
        assert_int_equal(hv_hypercall_result_reps(rax), reps);
        assert_int_equal(hv_hypercall_result_status(rax), HV_STATUS_INVALID_PARAMETER);
    }
    /* a count wider than 12 bits may not spill into the reserved bits 63:44 */
    uint64_t rax = hv_hypercall_result_make(HV_STATUS_SUCCESS, 0xFFFF);
    assert_int_equal(rax & ~(SPEC_RESULT_STATUS | SPEC_RESULT_REPS), 0);
    assert_int_equal(hv_hypercall_result_reps(rax), 0xFFF);
}

/* §3.2: the caller ignores bits 31:16 and 63:44. */
static void result_parsing_ignores_the_reserved_bits(void **state)
{
    (void)state;
    uint64_t junk = 0xFFFFF000FFFF0000ull;
    uint64_t rax = junk | (0x123ull << 32) | HV_STATUS_OPERATION_DENIED;

    assert_int_equal(hv_hypercall_result_status(rax), HV_STATUS_OPERATION_DENIED);
    assert_int_equal(hv_hypercall_result_reps(rax), 0x123);
    assert_int_equal(hv_hypercall_result_status(junk), 0);
    assert_int_equal(hv_hypercall_result_reps(junk), 0);
}

/* ---- fast-call packing ------------------------------------------------------------ */

/* §3.3: input bytes 0..7 in RDX and 8..15 in R8, little-endian; bytes past
 * len are zero in the registers and in the unpacked block. */
static void fast_pack_of_0_to_16_bytes_fills_rdx_then_r8_little_endian(void **state)
{
    (void)state;
    uint8_t in[HV_FAST_INPUT_MAX];
    for (unsigned i = 0; i < sizeof in; i++)
        in[i] = (uint8_t)(0xF0 - 0x0F * i); /* F0 E1 D2 ... distinct, top bits set */

    for (uint32_t len = 0; len <= HV_FAST_INPUT_MAX; len++) {
        uint64_t rdx = 0x5A5A5A5A5A5A5A5Aull, r8 = 0x5A5A5A5A5A5A5A5Aull;
        uint64_t want_rdx = 0, want_r8 = 0;
        for (uint32_t i = 0; i < len; i++) {
            if (i < 8)
                want_rdx |= (uint64_t)in[i] << (8 * i);
            else
                want_r8 |= (uint64_t)in[i] << (8 * (i - 8));
        }
        assert_true(hvlog_fast_pack(in, len, &rdx, &r8));
        if (rdx != want_rdx || r8 != want_r8)
            fail_msg("len %u: RDX 0x%016llX R8 0x%016llX, want 0x%016llX 0x%016llX", len,
                     (unsigned long long)rdx, (unsigned long long)r8,
                     (unsigned long long)want_rdx, (unsigned long long)want_r8);

        uint8_t out[HV_FAST_INPUT_MAX];
        memset(out, 0xEE, sizeof out);
        hvlog_fast_unpack(rdx, r8, out);
        assert_memory_equal(out, in, len);
        for (uint32_t i = len; i < HV_FAST_INPUT_MAX; i++)
            assert_int_equal(out[i], 0);
    }
}

static void fast_pack_accepts_a_null_input_of_zero_bytes(void **state)
{
    (void)state;
    uint64_t rdx = 1, r8 = 2;
    assert_true(hvlog_fast_pack(NULL, 0, &rdx, &r8));
    assert_int_equal(rdx, 0);
    assert_int_equal(r8, 0);
}

static void fast_pack_refuses_more_than_16_bytes_and_writes_nothing(void **state)
{
    (void)state;
    uint8_t in[64] = {1, 2, 3};
    const uint32_t lens[] = {17, 24, 32, 64, 0x80000000u, 0xFFFFFFFFu};

    for (size_t i = 0; i < ARRAY_LEN(lens); i++) {
        uint64_t rdx = 0x1111111111111111ull, r8 = 0x2222222222222222ull;
        assert_false(hvlog_fast_pack(in, lens[i], &rdx, &r8));
        assert_int_equal(rdx, 0x1111111111111111ull);
        assert_int_equal(r8, 0x2222222222222222ull);
    }
}

static void unpack_then_pack_returns_the_same_registers(void **state)
{
    (void)state;
    uint64_t seed = 0x853C49E6748FEA9Bull;
    for (int n = 0; n < 1000; n++) {
        uint64_t rdx = next_random(&seed), r8 = next_random(&seed), a = 0, b = 0;
        uint8_t bytes[HV_FAST_INPUT_MAX];
        hvlog_fast_unpack(rdx, r8, bytes);
        assert_int_equal(hvlog_load_le64(bytes), rdx);
        assert_int_equal(hvlog_load_le64(bytes + 8), r8);
        assert_true(hvlog_fast_pack(bytes, sizeof bytes, &a, &b));
        assert_int_equal(a, rdx);
        assert_int_equal(b, r8);
    }
}

/* §3.3 packing example: {Type, BufferIndex} is
 * RDX = ((uint64)BufferIndex << 32) | Type, and R8 is unused (zero). */
static void type_and_buffer_index_pack_as_index_high_type_low(void **state)
{
    (void)state;
    const struct hv_input_eventlog_buffer req = {.type = 1, .buffer_index = 0x1FF};
    uint8_t block[8];
    uint64_t rdx = 0, r8 = 0xDEAD;

    hv_input_eventlog_buffer_store(block, &req);
    assert_true(hvlog_fast_pack(block, sizeof block, &rdx, &r8));
    assert_int_equal(rdx, ((uint64_t)0x1FF << 32) | 1);
    assert_int_equal(r8, 0);
}

/* §5.3 / §4.3: Create's 16 bytes put ProximityInfo in R8 as Id | Flags << 32. */
static void create_input_puts_proximity_info_in_r8(void **state)
{
    (void)state;
    const struct hv_input_create_eventlog_buffer req = {
        .type = 1,
        .buffer_index = 7,
        .proximity_id = 3,
        .proximity_flags = HV_PROXIMITY_FLAG_VALID | HV_PROXIMITY_FLAG_PREFERRED,
    };
    uint8_t block[16];
    uint64_t rdx = 0, r8 = 0;

    hv_input_create_eventlog_buffer_store(block, &req);
    assert_true(hvlog_fast_pack(block, sizeof block, &rdx, &r8));
    assert_int_equal(rdx, (7ull << 32) | 1);
    assert_int_equal(r8, 0x8000000100000003ull);
}

/* §5.7: SetSources puts Type in RDX[31:0] and EnableFlags in R8. */
static void set_sources_input_puts_enable_flags_in_r8(void **state)
{
    (void)state;
    const struct hv_input_set_eventlog_group_sources req = {
        .type = 0, .padding = 0, .enable_flags = 0x0000000100000001ull};
    uint8_t block[16];
    uint64_t rdx = 1, r8 = 0;

    hv_input_set_eventlog_group_sources_store(block, &req);
    assert_true(hvlog_fast_pack(block, sizeof block, &rdx, &r8));
    assert_int_equal(rdx, 0);
    assert_int_equal(r8, 0x0000000100000001ull);
}

/* ---- x86 register pairs --------------------------------------------------------- */

/* §3.3: in "EBX:ECX" the first register holds the high 32 bits. */
static void register_pair_split_puts_the_high_half_first(void **state)
{
    (void)state;
    struct hv_reg_pair p = hv_reg_pair_split(0x0123456789ABCDEFull);
    assert_int_equal(p.high, 0x01234567u);
    assert_int_equal(p.low, 0x89ABCDEFu);
}

static void register_pair_join_is_the_inverse_of_split(void **state)
{
    (void)state;
    struct hv_reg_pair p = {.high = 0xFFFFFFFFu, .low = 0};
    assert_int_equal(hv_reg_pair_join(p), 0xFFFFFFFF00000000ull);
    p.high = 0;
    p.low = 0x80000000u; /* no sign extension into the high half */
    assert_int_equal(hv_reg_pair_join(p), 0x0000000080000000ull);

    uint64_t seed = 0xA0761D6478BD642Full;
    for (int n = 0; n < 1000; n++) {
        uint64_t v = next_random(&seed);
        struct hv_reg_pair q = hv_reg_pair_split(v);
        assert_int_equal(q.high, (uint32_t)(v >> 32));
        assert_int_equal(q.low, (uint32_t)v);
        assert_int_equal(hv_reg_pair_join(q), v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_masks_equal_the_spec_masks),
        cmocka_unit_test(input_fields_tile_all_64_bits_in_both_layouts),
        cmocka_unit_test(decode_splits_every_field_of_a_2013_input_value),
        cmocka_unit_test(decode_splits_every_field_of_a_current_input_value),
        cmocka_unit_test(all_ones_decodes_to_every_field_at_its_maximum),
        cmocka_unit_test(every_value_of_every_field_round_trips_in_both_layouts),
        cmocka_unit_test(any_input_value_survives_decode_then_encode_in_both_layouts),
        cmocka_unit_test(encode_masks_out_of_range_fields_to_their_width),
        cmocka_unit_test(every_single_reserved_rep_or_varhead_bit_is_rejected_in_the_2013_layout),
        cmocka_unit_test(
            every_single_reserved_rep_or_varhead_bit_is_rejected_in_the_current_layout),
        cmocka_unit_test(single_bits_over_each_event_log_call_are_classified_the_same),
        cmocka_unit_test(
            bits_26_to_17_are_reserved_in_2013_and_varhead_in_current_and_both_reject),
        cmocka_unit_test(input_with_any_nonzero_rep_or_varhead_field_is_rejected),
        cmocka_unit_test(random_input_values_are_accepted_iff_no_checked_bit_is_set),
        cmocka_unit_test(result_carries_the_status_in_bits_15_to_0_and_nothing_else),
        cmocka_unit_test(result_carries_reps_completed_in_bits_43_to_32),
        cmocka_unit_test(result_parsing_ignores_the_reserved_bits),
        cmocka_unit_test(fast_pack_of_0_to_16_bytes_fills_rdx_then_r8_little_endian),
        cmocka_unit_test(fast_pack_accepts_a_null_input_of_zero_bytes),
        cmocka_unit_test(fast_pack_refuses_more_than_16_bytes_and_writes_nothing),
        cmocka_unit_test(unpack_then_pack_returns_the_same_registers),
        cmocka_unit_test(type_and_buffer_index_pack_as_index_high_type_low),
        cmocka_unit_test(create_input_puts_proximity_info_in_r8),
        cmocka_unit_test(set_sources_input_puts_enable_flags_in_r8),
        cmocka_unit_test(register_pair_split_puts_the_high_half_first),
        cmocka_unit_test(register_pair_join_is_the_inverse_of_split),
    };
    return cmocka_run_group_tests_name("abi_hypercall", tests, NULL, NULL);
}
