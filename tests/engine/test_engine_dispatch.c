/* SPDX-License-Identifier: MIT */
/*
 * The generic hypercall ABI as the engine's dispatcher applies it (spec §3.1-
 * §3.6, DEC-ORDER, DEC-FAST, Q-GPA), on the fake host:
 *   - call codes, the input value's reserved bits, reps and variable header;
 *   - which convention each call accepts, and that the seven fast calls mean
 *     the same in both forms;
 *   - memory blocks: alignment, page crossing, range, unreadable and
 *     unwritable pages (memory intercepts);
 *   - the result value; ignored input padding;
 *   - the order in which these errors beat each other and ACCESS_DENIED.
 *
 * Every rejected call must leave the world as it was: the engine snapshot,
 * both partitions' guest memory, the pool. The per-call status rows of §5
 * are in test_engine_status.c.
 *
 * Both ABI profiles run this suite (tests/engine/CMakeLists.txt). Inputs are
 * written as 2013 words and laid out by fake_encode() in the engine's
 * profile, so block sizes follow the profile: Init 32 (28 read as a padded
 * 32, §11.1), Map and Unmap 16 (§11.2), SetSources 544 (§11.3). Where the
 * spec gives the current profile another answer, the test branches on
 * fake_current() and cites the row.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "fake_host.h"

#define INIT HvCallHvInitializeEventLogBufferGroup
#define FINALIZE HvCallHvFinalizeEventLogBufferGroup
#define CREATE HvCallHvCreateEventLogBuffer
#define DELETE HvCallHvDeleteEventLogBuffer
#define MAP HvCallHvMapEventLogBuffer
#define UNMAP HvCallHvUnmapEventLogBuffer
#define SOURCES HvCallHvSetEventLogGroupSources
#define RELEASE HvCallHvReleaseEventLogBuffer
#define FLUSH HvCallHvFlushEventLogBuffer

#define GLOBAL HvEventLogTypeGlobalSystemEvents
#define LOCAL HvEventLogTypeLocalDiagnostics
#define VALID HV_PROXIMITY_FLAG_VALID
#define PREFERRED HV_PROXIMITY_FLAG_PREFERRED

#define IN FAKE_IN_GPA
#define OUT FAKE_OUT_GPA
#define RO FAKE_RO_GPA
#define NOACCESS FAKE_NOACCESS_GPA
#define GPA_END ((uint64_t)FAKE_GUEST_PAGES * 4096) /* first GPA outside the partition */

#define RAX_SENTINEL 0xDEADBEEFCAFEF00Dull

#define LPS 2u
#define DOMAINS 2u
#define POOL_PAGES 4096

/* ---- the world before and after ------------------------------------------------- */

struct world {
    struct fake_snapshot snap;
    uint8_t root_mem[FAKE_GUEST_PAGES * 4096];
    uint8_t child_mem[FAKE_GUEST_PAGES * 4096];
    int64_t pool_used;
    uint32_t posts;
};

static struct fake_host H, H2;
static struct world before, after, other;

static void world_take(struct fake_host *h, struct world *w)
{
    fake_snapshot(h, &w->snap);
    memcpy(w->root_mem, h->root_mem, sizeof w->root_mem);
    memcpy(w->child_mem, h->child_mem, sizeof w->child_mem);
    w->pool_used = fake_pool_used(h);
    w->posts = h->posts;
}

static void assert_unchanged(struct fake_host *h, const char *what)
{
    int diff;

    world_take(h, &after);
    diff = fake_snapshot_diff(&before.snap, &after.snap);
    if (diff != 0)
        fail_msg("%s: engine state changed (fake_snapshot_diff = %d)", what, diff);
    if (memcmp(before.root_mem, after.root_mem, sizeof after.root_mem) != 0)
        fail_msg("%s: root guest memory was written", what);
    if (memcmp(before.child_mem, after.child_mem, sizeof after.child_mem) != 0)
        fail_msg("%s: child guest memory was written", what);
    if (before.pool_used != after.pool_used || before.posts != after.posts)
        fail_msg("%s: pool or messages changed", what);
}

/* Two hosts that ran the same scenario must look the same. Map output (the
 * overlay page numbers) depends on host addresses, so the output page is
 * left out; the callers check it where it matters. */
static void assert_twins(const char *what, struct fake_host *a, struct fake_host *b)
{
    int diff;

    world_take(a, &after);
    world_take(b, &other);
    memset(after.snap.out_page, 0, sizeof after.snap.out_page);
    memset(other.snap.out_page, 0, sizeof other.snap.out_page);
    diff = fake_snapshot_diff(&after.snap, &other.snap);
    if (diff != 0)
        fail_msg("%s: the two engines differ (fake_snapshot_diff = %d)", what, diff);
    if (after.pool_used != other.pool_used || after.posts != other.posts)
        fail_msg("%s: pool use or messages posted differ", what);
}

/* ---- issuing calls ----------------------------------------------------------------- */

struct result {
    enum hvlog_hypercall_outcome outcome;
    uint64_t rax;
    uint64_t fault_gpa;
};

static struct result hc(struct fake_host *h, uint64_t partition, uint64_t rcx, uint64_t rdx,
                        uint64_t r8)
{
    struct hvlog_caller caller = {.partition_id = partition, .vp_index = 0};
    struct hvlog_hypercall call = {.rcx = rcx, .rdx = rdx, .r8 = r8, .rax = RAX_SENTINEL,
                                   .fault_gpa = 0};
    struct result r;

    r.outcome = hvlog_engine_hypercall(h->engine, &caller, &call);
    r.rax = call.rax;
    r.fault_gpa = call.fault_gpa;
    return r;
}

/* Input bytes of @code in the test's profile (fake_encode, §11.1-§11.3). */
static uint32_t input_len(uint16_t code)
{
    return fake_input_len(fake_test_abi(), code);
}

/* §3.6: Initialize and Map are memory-only in both profiles. */
static bool memory_only(uint16_t code)
{
    return code == INIT || code == MAP;
}

/* @w (the 2013 input's words) as the test's profile lays them out;
 * returns the length. @w holds as many words as the 2013 input has. */
static uint32_t words_to_bytes(uint16_t code, const uint32_t *w, uint8_t *bytes)
{
    uint32_t words[8] = {0};

    memcpy(words, w, hvlog_call_info(code)->input_bytes_2013);
    return fake_encode(fake_test_abi(), code, words, bytes);
}

static uint8_t *mem_of(struct fake_host *h, uint64_t partition)
{
    return partition == FAKE_CHILD_ID ? h->child_mem : h->root_mem;
}

/* Put @len bytes of input at @gpa of @partition, if it lies inside. The
 * caller's own write is mirrored into the "before" image, so a call issued
 * after world_take(before) is judged only by what the engine wrote. */
static void put(struct fake_host *h, uint64_t partition, uint64_t gpa, const uint8_t *bytes,
                uint32_t len)
{
    if (gpa < GPA_END && len <= GPA_END - gpa) {
        memcpy(mem_of(h, partition) + gpa, bytes, len);
        memcpy((partition == FAKE_CHILD_ID ? before.child_mem : before.root_mem) + gpa, bytes,
               len);
        /* The snapshot keeps its own copy of the root's output page. */
        if (partition != FAKE_CHILD_ID)
            memcpy(before.snap.out_page, before.root_mem + OUT, sizeof before.snap.out_page);
    }
}

/* Map's input for (LOCAL, @index) at IN of @partition, in the profile's layout. */
static void put_map_input(uint64_t partition, uint32_t index)
{
    const uint32_t w[2] = {LOCAL, index};
    uint8_t bytes[FAKE_INPUT_MAX];

    put(&H, partition, IN, bytes, words_to_bytes(MAP, w, bytes));
}

/* Fast form: the input in RDX, R8. */
static struct result call_fast(struct fake_host *h, uint64_t partition, uint16_t code,
                               const uint32_t *w, uint64_t rcx_or)
{
    uint8_t bytes[FAKE_INPUT_MAX];
    uint64_t rdx, r8;

    /* The first 16 bytes: a longer current input (SetSources) is the legacy
     * head, which the fast form carries (§11.3). */
    words_to_bytes(code, w, bytes);
    hvlog_fast_pack(bytes, 16, &rdx, &r8);
    return hc(h, partition, fake_rcx(code, true) | rcx_or, rdx, r8);
}

/* Memory form: the input block at @in_gpa, the output GPA @out_gpa. */
static struct result call_mem(struct fake_host *h, uint64_t partition, uint16_t code,
                              const uint32_t *w, uint64_t in_gpa, uint64_t out_gpa,
                              uint64_t rcx_or)
{
    uint8_t bytes[FAKE_INPUT_MAX];
    uint32_t len = words_to_bytes(code, w, bytes);

    put(h, partition, in_gpa, bytes, len);
    return hc(h, partition, fake_rcx(code, false) | rcx_or, in_gpa, out_gpa);
}

static void expect_status(const char *what, struct result r, hv_status_t status)
{
    if (r.outcome != HVLOG_HYPERCALL_DONE)
        fail_msg("%s: GPA fault at 0x%llx, expected status 0x%04x (%s)", what,
                 (unsigned long long)r.fault_gpa, status, hvlog_status_name(status));
    /* §3.2: the whole result value is the status: reps 0, reserved 0. */
    if (r.rax != (uint64_t)status)
        fail_msg("%s: RAX 0x%llx (%s), expected exactly 0x%04x (%s)", what,
                 (unsigned long long)r.rax, hvlog_status_name(hv_hypercall_result_status(r.rax)),
                 status, hvlog_status_name(status));
}

static void expect_fault(const char *what, struct result r, uint64_t gpa)
{
    if (r.outcome != HVLOG_HYPERCALL_GPA_FAULT)
        fail_msg("%s: status 0x%04llx (%s), expected a GPA fault at 0x%llx", what,
                 (unsigned long long)r.rax, hvlog_status_name(hv_hypercall_result_status(r.rax)),
                 (unsigned long long)gpa);
    if (r.fault_gpa != gpa)
        fail_msg("%s: fault at 0x%llx, expected 0x%llx", what, (unsigned long long)r.fault_gpa,
                 (unsigned long long)gpa);
    /* Q-GPA: the intercept is the report; RAX is not written. */
    if (r.rax != RAX_SENTINEL)
        fail_msg("%s: RAX written (0x%llx) on a GPA fault", what, (unsigned long long)r.rax);
}

/* ---- setups and one canonical, state-changing call per code ----------------------- */

enum setup { S_NONE, S_GROUP_GLOBAL, S_GROUP, S_STANDBY, S_FREE, S_INUSE, S_READY };

static void arrange(struct fake_host *h, enum setup s)
{
    if (s == S_NONE)
        return;
    if (s == S_GROUP_GLOBAL) {
        assert_int_equal(fake_init(h, GLOBAL, 4, 1, 1, 0), HV_STATUS_SUCCESS);
        return;
    }
    assert_int_equal(fake_init(h, LOCAL, 4, 1, 1, 0), HV_STATUS_SUCCESS);
    if (s == S_GROUP)
        return;
    assert_int_equal(fake_create(h, LOCAL, 0, 0, 0), HV_STATUS_SUCCESS);
    if (s == S_STANDBY)
        return;
    assert_int_equal(fake_map(h, LOCAL, 0, NULL), HV_STATUS_SUCCESS);
    if (s == S_FREE)
        return;
    assert_int_equal(fake_sources(h, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(h, 0, LOCAL, 16, 1), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_state(h, LOCAL, 0), HvEventLogBufferStateInUse);
    if (s == S_INUSE)
        return;
    assert_int_equal(fake_flush(h, LOCAL, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(h, LOCAL, 0), HvEventLogBufferStateReady);
}

/* Each call with an input that succeeds and changes state after its setup, so a
 * rejected variant that "changes nothing" really was rejected. */
struct canon {
    const char *name;
    uint16_t code;
    enum setup setup;
    uint32_t w[8];
};

static const struct canon canons[] = {
    {"HvInitializeEventLogBufferGroup", INIT, S_NONE, {GLOBAL, 4, 1, 1, 0, 0, 0x12345678u, 0x01D9}},
    {"HvFinalizeEventLogBufferGroup", FINALIZE, S_GROUP_GLOBAL, {GLOBAL, 0}},
    {"HvCreateEventLogBuffer", CREATE, S_GROUP, {LOCAL, 0, 1, VALID}},
    {"HvDeleteEventLogBuffer", DELETE, S_STANDBY, {LOCAL, 0}},
    {"HvMapEventLogBuffer", MAP, S_STANDBY, {LOCAL, 0}},
    {"HvUnmapEventLogBuffer", UNMAP, S_FREE, {LOCAL, 0}},
    /* Bit 0 clear: the current profile's "extended" flag (§11.3, D5). */
    {"HvSetEventLogGroupSources", SOURCES, S_GROUP, {LOCAL, 0, 0x6, 0x80000000u}},
    {"HvReleaseEventLogBuffer", RELEASE, S_READY, {LOCAL, 0}},
    {"HvFlushEventLogBuffer", FLUSH, S_INUSE, {LOCAL, 0}},
};
#define CANON_COUNT (sizeof canons / sizeof canons[0])

static void host_up(struct fake_host *h, enum setup s)
{
    if (h->engine)
        fake_host_fini(h);
    assert_int_equal(fake_host_init(h, LPS, DOMAINS, POOL_PAGES, NULL), 0);
    arrange(h, s);
}

static int hosts_down(void **state)
{
    (void)state;
    if (H.engine)
        fake_host_fini(&H);
    if (H2.engine)
        fake_host_fini(&H2);
    return 0;
}

/* The canonical form (memory for Init and Map, fast for the others). */
static struct result call_canon(struct fake_host *h, uint64_t partition, const struct canon *c,
                                uint64_t rcx_or)
{
    return memory_only(c->code) ? call_mem(h, partition, c->code, c->w, IN, OUT, rcx_or)
                                : call_fast(h, partition, c->code, c->w, rcx_or);
}

/* Close a canon's series of rejected variants: the plain call still succeeds,
 * so the setup was one where the call would have changed state. */
static void canon_still_succeeds(struct fake_host *h, const struct canon *c)
{
    char what[128];

    snprintf(what, sizeof what, "%s in canonical form after the rejected variants", c->name);
    expect_status(what, call_canon(h, FAKE_ROOT_ID, c, 0), HV_STATUS_SUCCESS);
}

/* ---- §3.1 call code ------------------------------------------------------------------ */

static const uint16_t unknown_codes[] = {0x0000, 0x0001, 0x005F, 0x0069, 0x006A,
                                         0x0160, 0x8060, 0xFFFF};

static void unknown_call_codes_are_invalid_hypercall_code_and_change_nothing(void **state)
{
    static const uint64_t partitions[] = {FAKE_ROOT_ID, FAKE_CHILD_ID};
    static const uint64_t rdxs[] = {IN, NOACCESS, IN + 3, GPA_END};
    char what[128];
    (void)state;

    host_up(&H, S_READY);
    for (size_t i = 0; i < sizeof unknown_codes / sizeof unknown_codes[0]; i++) {
        for (int fast = 0; fast < 2; fast++) {
            for (size_t p = 0; p < 2; p++) {
                for (size_t d = 0; d < sizeof rdxs / sizeof rdxs[0]; d++) {
                    snprintf(what, sizeof what, "code 0x%04x fast %d partition %llu rdx 0x%llx",
                             unknown_codes[i], fast, (unsigned long long)partitions[p],
                             (unsigned long long)rdxs[d]);
                    world_take(&H, &before);
                    expect_status(what,
                                  hc(&H, partitions[p], fake_rcx(unknown_codes[i], fast != 0),
                                     rdxs[d], OUT),
                                  HV_STATUS_INVALID_HYPERCALL_CODE);
                    assert_unchanged(&H, what);
                }
            }
        }
    }
}

static void unknown_call_code_is_reported_before_bad_input_value_bits(void **state)
{
    static const uint64_t bad_bits[] = {1ull << 17, 1ull << 32, 1ull << 44, 1ull << 48,
                                        1ull << 63, 0xFFFFFFFFFFFE0000ull};
    char what[96];
    (void)state;

    host_up(&H, S_READY);
    for (size_t i = 0; i < sizeof unknown_codes / sizeof unknown_codes[0]; i++) {
        for (size_t b = 0; b < sizeof bad_bits / sizeof bad_bits[0]; b++) {
            snprintf(what, sizeof what, "code 0x%04x with input bits 0x%llx", unknown_codes[i],
                     (unsigned long long)bad_bits[b]);
            world_take(&H, &before);
            expect_status(what, hc(&H, FAKE_ROOT_ID, unknown_codes[i] | bad_bits[b], IN, OUT),
                          HV_STATUS_INVALID_HYPERCALL_CODE);
            assert_unchanged(&H, what);
        }
    }
}

/* ---- §3.1 input value: reserved bits, reps, variable header ------------------------- */

/* For every call: each value in @ors (or'ed into the canonical RCX) is
 * INVALID_HYPERCALL_INPUT and changes nothing, for the root and for a child. */
static void each_call_rejects_input_bits(const uint64_t *ors, size_t n, const char *label)
{
    char what[160];

    for (size_t c = 0; c < CANON_COUNT; c++) {
        host_up(&H, canons[c].setup);
        for (size_t i = 0; i < n; i++) {
            snprintf(what, sizeof what, "%s with %s 0x%016llx", canons[c].name, label,
                     (unsigned long long)ors[i]);
            world_take(&H, &before);
            expect_status(what, call_canon(&H, FAKE_ROOT_ID, &canons[c], ors[i]),
                          HV_STATUS_INVALID_HYPERCALL_INPUT);
            assert_unchanged(&H, what);
            /* §3.5: step 2 comes before the caller check (step 4). */
            snprintf(what, sizeof what, "%s by child with %s 0x%016llx", canons[c].name, label,
                     (unsigned long long)ors[i]);
            world_take(&H, &before);
            expect_status(what, call_canon(&H, FAKE_CHILD_ID, &canons[c], ors[i]),
                          HV_STATUS_INVALID_HYPERCALL_INPUT);
            assert_unchanged(&H, what);
        }
        canon_still_succeeds(&H, &canons[c]);
    }
}

static void every_reserved_input_bit_is_invalid_hypercall_input_for_every_call(void **state)
{
    uint64_t ors[64];
    size_t n = 0;
    (void)state;

    /* 2013 RsvdZ: 31:17, 47:44, 63:60. */
    for (unsigned bit = 0; bit < 64; bit++) {
        if ((1ull << bit) & HV_HYPERCALL_RSVD_MASK_2013)
            ors[n++] = 1ull << bit;
    }
    assert_int_equal(n, 15 + 4 + 4);
    ors[n++] = HV_HYPERCALL_RSVD_MASK_2013;
    each_call_rejects_input_bits(ors, n, "reserved bits");
}

static void non_zero_rep_count_is_invalid_hypercall_input_for_every_call(void **state)
{
    uint64_t ors[16];
    size_t n = 0;
    (void)state;

    for (unsigned bit = 32; bit <= 43; bit++)
        ors[n++] = 1ull << bit;
    ors[n++] = HV_HYPERCALL_REP_COUNT_MASK;
    each_call_rejects_input_bits(ors, n, "rep count bits");
}

static void non_zero_rep_start_index_is_invalid_hypercall_input_for_every_call(void **state)
{
    uint64_t ors[16];
    size_t n = 0;
    (void)state;

    for (unsigned bit = 48; bit <= 59; bit++)
        ors[n++] = 1ull << bit;
    ors[n++] = HV_HYPERCALL_REP_START_MASK;
    /* A well-formed rep pair (count 2, start 1) is still wrong for a simple call. */
    ors[n++] = (2ull << HV_HYPERCALL_REP_COUNT_SHIFT) | (1ull << HV_HYPERCALL_REP_START_SHIFT);
    each_call_rejects_input_bits(ors, n, "rep start bits");
}

/* §3.1, D12: the variable-header bits mean nothing for these calls in
 * either profile. */
static void variable_header_size_in_bits_26_17_is_invalid_hypercall_input(
    void **state)
{
    const uint64_t ors[] = {1ull << 17, 2ull << 17, 0x1FFull << 17, 0x3FFull << 17,
                            HV_HYPERCALL_NESTED_BIT};
    (void)state;

    each_call_rejects_input_bits(ors, sizeof ors / sizeof ors[0], "variable header / bit 31");
}

/* ---- §3.6 which convention each call takes ------------------------------------------- */

static void fast_form_of_a_memory_only_call_is_invalid_hypercall_input(uint16_t code,
                                                                       const struct canon *c)
{
    uint8_t bytes[FAKE_INPUT_MAX];
    uint64_t rdx, r8;
    uint32_t len;
    char what[128];

    host_up(&H, c->setup);
    len = words_to_bytes(code, c->w, bytes);
    put(&H, FAKE_ROOT_ID, IN, bytes, len);
    put(&H, FAKE_CHILD_ID, IN, bytes, len);
    hvlog_fast_pack(bytes, 16, &rdx, &r8);
    /* The valid input both in the registers and at the GPA the registers could name. */
    const struct {
        uint64_t partition, rdx, r8;
    } tries[] = {
        {FAKE_ROOT_ID, IN, OUT},
        {FAKE_ROOT_ID, rdx, r8},
        {FAKE_CHILD_ID, IN, OUT},
        {FAKE_CHILD_ID, rdx, r8},
    };
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        snprintf(what, sizeof what, "fast %s, partition %llu, rdx 0x%llx", c->name,
                 (unsigned long long)tries[i].partition, (unsigned long long)tries[i].rdx);
        world_take(&H, &before);
        expect_status(what, hc(&H, tries[i].partition, fake_rcx(code, true), tries[i].rdx,
                               tries[i].r8),
                      HV_STATUS_INVALID_HYPERCALL_INPUT);
        assert_unchanged(&H, what);
    }
    canon_still_succeeds(&H, c);
}

static void fast_initialize_is_invalid_hypercall_input_and_changes_nothing(void **state)
{
    (void)state;
    fast_form_of_a_memory_only_call_is_invalid_hypercall_input(INIT, &canons[0]);
}

static void fast_map_is_invalid_hypercall_input_and_writes_no_output(void **state)
{
    (void)state;
    fast_form_of_a_memory_only_call_is_invalid_hypercall_input(MAP, &canons[4]);
}

/* A scenario over both groups, every call and both outcomes. Host A issues the
 * seven fast calls in fast form, host B in memory form; both issue Init and
 * Map in memory form. Results and state must be identical at every step. */
enum step_kind { CALL, CHILD_CALL, LOG, TAKE };
struct step {
    enum step_kind kind;
    uint16_t code;
    uint32_t w[8];
    hv_status_t expect;
    bool cur_set;          /* the current profile answers cur instead */
    hv_status_t cur;
};

#define C(code, st, ...) {CALL, (code), {__VA_ARGS__}, (st), false, 0}
/* A call the current profile answers otherwise (the comment names the row). */
#define CX(code, st, stcur, ...) {CALL, (code), {__VA_ARGS__}, (st), true, (stcur)}
#define CC(code, st, ...) {CHILD_CALL, (code), {__VA_ARGS__}, (st), false, 0}
/* LOG: w = {lp, type, payload bytes, count} */
#define L(lp, type, len, n) {LOG, 0, {(lp), (type), (len), (n)}, 0, false, 0}
#define TAKE_ALL {TAKE, 0, {0}, 0, false, 0}

static const struct step scenario[] = {
    C(INIT, HV_STATUS_SUCCESS, LOCAL, 4, 1, 2, 0, 0, 7, 0),
    C(INIT, HV_STATUS_SUCCESS, GLOBAL, 2, 1, 1, 1, 0, 0, 9),
    /* D6, §11.6: type 2 is the current profile's, not initialized here. */
    CX(SOURCES, HV_STATUS_INVALID_PARAMETER, HV_STATUS_OPERATION_DENIED, 2, 0, 2, 0),
    C(SOURCES, HV_STATUS_SUCCESS, LOCAL, 0, 0, 0),
    C(CREATE, HV_STATUS_SUCCESS, LOCAL, 0, 0, 0),
    C(CREATE, HV_STATUS_SUCCESS, LOCAL, 1, 1, VALID),
    C(CREATE, HV_STATUS_SUCCESS, LOCAL, 2, 0, VALID | PREFERRED),
    C(CREATE, HV_STATUS_SUCCESS, LOCAL, 3, 0, 0),
    C(CREATE, HV_STATUS_INVALID_PARAMETER, LOCAL, 0, 0, 0),
    C(CREATE, HV_STATUS_INVALID_PARAMETER, LOCAL, 4, 0, 0),
    C(CREATE, HV_STATUS_INVALID_PARAMETER, LOCAL, 1, 0, 0x2),
    C(CREATE, HV_STATUS_INVALID_PARAMETER, LOCAL, 1, 5, VALID),
    CX(CREATE, HV_STATUS_INVALID_PARAMETER, HV_STATUS_OPERATION_DENIED, 2, 0, 0, 0), /* D6 */
    C(CREATE, HV_STATUS_SUCCESS, GLOBAL, 0, 0, 0),
    C(CREATE, HV_STATUS_SUCCESS, GLOBAL, 1, 0, 0),
    CC(CREATE, HV_STATUS_ACCESS_DENIED, GLOBAL, 1, 0, 0),
    C(FINALIZE, HV_STATUS_OPERATION_DENIED, LOCAL, 0),
    C(DELETE, HV_STATUS_SUCCESS, LOCAL, 3),
    C(DELETE, HV_STATUS_INVALID_PARAMETER, LOCAL, 3),
    C(DELETE, HV_STATUS_INVALID_PARAMETER, LOCAL, 0xFFFFFFFFu),
    C(MAP, HV_STATUS_SUCCESS, LOCAL, 0),
    C(MAP, HV_STATUS_SUCCESS, LOCAL, 1),
    C(MAP, HV_STATUS_SUCCESS, LOCAL, 2),
    C(MAP, HV_STATUS_OPERATION_DENIED, LOCAL, 2),
    C(MAP, HV_STATUS_SUCCESS, GLOBAL, 0),
    C(MAP, HV_STATUS_SUCCESS, GLOBAL, 1),
    C(DELETE, HV_STATUS_OPERATION_DENIED, LOCAL, 0),
    C(UNMAP, HV_STATUS_SUCCESS, LOCAL, 2),
    C(UNMAP, HV_STATUS_ACCESS_DENIED, LOCAL, 2),
    C(UNMAP, HV_STATUS_INVALID_PARAMETER, LOCAL, 3),
    CC(UNMAP, HV_STATUS_ACCESS_DENIED, LOCAL, 0),
    C(MAP, HV_STATUS_SUCCESS, LOCAL, 2),
    C(RELEASE, HV_STATUS_OPERATION_DENIED, LOCAL, 0),
    C(FLUSH, HV_STATUS_SUCCESS, LOCAL, 0),
    /* §11.3: padding is GroupCount and bit 0 "extended" in the current profile. */
    CX(SOURCES, HV_STATUS_SUCCESS, HV_STATUS_INVALID_PARAMETER, LOCAL, 0xFFFFFFFFu, 0xFFFFFFFFu,
       0xFFFFFFFFu),
    CX(SOURCES, HV_STATUS_SUCCESS, HV_STATUS_INVALID_PARAMETER, GLOBAL, 0, 0x3, 0),
    C(SOURCES, HV_STATUS_SUCCESS, LOCAL, 0, 0xFFFFFFFEu, 0xFFFFFFFFu),
    C(SOURCES, HV_STATUS_SUCCESS, GLOBAL, 0, 0x6, 0),
    CC(SOURCES, HV_STATUS_ACCESS_DENIED, GLOBAL, 0, 0, 0),
    C(FINALIZE, HV_STATUS_OPERATION_DENIED, GLOBAL, 0),
    L(0, LOCAL, 100, 3),
    L(1, LOCAL, 200, 2),
    L(0, GLOBAL, 50, 4),
    L(1, GLOBAL, 3000, 2),
    C(UNMAP, HV_STATUS_ACCESS_DENIED, LOCAL, 0),
    C(FLUSH, HV_STATUS_SUCCESS, LOCAL, 0),
    C(FLUSH, HV_STATUS_SUCCESS, LOCAL, 1),
    CC(FLUSH, HV_STATUS_ACCESS_DENIED, LOCAL, 2),
    TAKE_ALL,
    C(FLUSH, HV_STATUS_SUCCESS, GLOBAL, 0),
    C(FLUSH, HV_STATUS_SUCCESS, GLOBAL, 1),
    TAKE_ALL,
    C(FLUSH, HV_STATUS_INVALID_PARAMETER, LOCAL, 9),
    C(FLUSH, HV_STATUS_INVALID_PARAMETER, LOCAL, 3),
    C(FLUSH, HV_STATUS_INVALID_PARAMETER, 5, 0),
    C(RELEASE, HV_STATUS_SUCCESS, LOCAL, 0),
    C(RELEASE, HV_STATUS_SUCCESS, LOCAL, 1),
    C(RELEASE, HV_STATUS_OPERATION_DENIED, LOCAL, 1),
    C(RELEASE, HV_STATUS_OPERATION_DENIED, LOCAL, 3),
    C(RELEASE, HV_STATUS_SUCCESS, GLOBAL, 0),
    C(RELEASE, HV_STATUS_SUCCESS, GLOBAL, 1),
    C(SOURCES, HV_STATUS_SUCCESS, LOCAL, 0, 0, 0),
    C(SOURCES, HV_STATUS_SUCCESS, GLOBAL, 0, 0, 0),
    C(UNMAP, HV_STATUS_SUCCESS, LOCAL, 0),
    C(UNMAP, HV_STATUS_SUCCESS, LOCAL, 1),
    C(UNMAP, HV_STATUS_SUCCESS, LOCAL, 2),
    C(UNMAP, HV_STATUS_SUCCESS, GLOBAL, 0),
    C(UNMAP, HV_STATUS_SUCCESS, GLOBAL, 1),
    C(DELETE, HV_STATUS_SUCCESS, LOCAL, 0),
    C(DELETE, HV_STATUS_SUCCESS, LOCAL, 1),
    C(DELETE, HV_STATUS_SUCCESS, LOCAL, 2),
    C(DELETE, HV_STATUS_SUCCESS, GLOBAL, 0),
    C(DELETE, HV_STATUS_SUCCESS, GLOBAL, 1),
    CC(FINALIZE, HV_STATUS_ACCESS_DENIED, LOCAL, 0),
    C(FINALIZE, HV_STATUS_SUCCESS, LOCAL, 0),
    C(FINALIZE, HV_STATUS_OPERATION_DENIED, LOCAL, 0),
    C(FINALIZE, HV_STATUS_SUCCESS, GLOBAL, 0),
    CX(FINALIZE, HV_STATUS_INVALID_PARAMETER, HV_STATUS_OPERATION_DENIED, 2, 0), /* D6 */
    C(FINALIZE, HV_STATUS_INVALID_PARAMETER, 3, 0),
};

static void seven_fast_calls_give_identical_results_and_state_in_fast_and_memory_form(
    void **state)
{
    char what[128];
    unsigned seq = 0;
    (void)state;

    host_up(&H, S_NONE);
    host_up(&H2, S_NONE);
    for (size_t i = 0; i < sizeof scenario / sizeof scenario[0]; i++) {
        const struct step *s = &scenario[i];

        snprintf(what, sizeof what, "scenario step %zu (code 0x%04x)", i, s->code);
        if (s->kind == LOG) {
            for (uint32_t k = 0; k < s->w[3]; k++, seq++)
                assert_int_equal(fake_log(&H, s->w[0], s->w[1], s->w[2], seq),
                                 fake_log(&H2, s->w[0], s->w[1], s->w[2], seq));
        } else if (s->kind == TAKE) {
            for (uint32_t vp = 0; vp < LPS; vp++) {
                uint32_t ta, ia, tb, ib;
                bool a, b;
                do {
                    a = fake_take_message(&H, vp, &ta, &ia);
                    b = fake_take_message(&H2, vp, &tb, &ib);
                    assert_int_equal(a, b);
                    if (a) {
                        assert_int_equal(ta, tb);
                        assert_int_equal(ia, ib);
                    }
                } while (a);
            }
        } else {
            uint64_t partition = s->kind == CHILD_CALL ? FAKE_CHILD_ID : FAKE_ROOT_ID;
            struct result ra, rb;

            if (memory_only(s->code)) {
                ra = call_mem(&H, partition, s->code, s->w, IN, OUT, 0);
                rb = call_mem(&H2, partition, s->code, s->w, IN, OUT, 0);
            } else {
                ra = call_fast(&H, partition, s->code, s->w, 0);
                memset(H2.root_mem + OUT, 0xCC, 4096);
                world_take(&H2, &before);
                rb = call_mem(&H2, partition, s->code, s->w, IN, OUT, 0);
                /* §3.6: the memory form of a fast call has no output. */
                if (memcmp(H2.root_mem + OUT, before.root_mem + OUT, 4096) != 0)
                    fail_msg("%s: memory form of a fast call wrote the output page", what);
            }
            hv_status_t expect = s->cur_set && fake_current(&H) ? s->cur : s->expect; /* H is up */

            expect_status(what, ra, expect);
            expect_status(what, rb, expect);
        }
        assert_twins(what, &H, &H2);
    }
    /* The scenario ends with everything returned. */
    assert_int_equal(fake_pool_used(&H), 0);
    assert_int_equal(fake_pool_used(&H2), 0);
}

static void memory_form_of_fast_calls_ignores_the_output_gpa(void **state)
{
    static const uint64_t outs[] = {OUT + 3, RO, NOACCESS, GPA_END, 0xFFFFFFFFFFFFFFFFull};
    char what[128];
    (void)state;

    for (size_t c = 0; c < CANON_COUNT; c++) {
        if (memory_only(canons[c].code))
            continue;
        for (size_t o = 0; o < sizeof outs / sizeof outs[0]; o++) {
            snprintf(what, sizeof what, "memory-form %s with output GPA 0x%llx", canons[c].name,
                     (unsigned long long)outs[o]);
            host_up(&H, canons[c].setup);
            host_up(&H2, canons[c].setup);
            expect_status(what, call_mem(&H, FAKE_ROOT_ID, canons[c].code, canons[c].w, IN,
                                         outs[o], 0),
                          HV_STATUS_SUCCESS);
            expect_status(what, call_canon(&H2, FAKE_ROOT_ID, &canons[c], 0), HV_STATUS_SUCCESS);
            assert_twins(what, &H, &H2);
        }
    }
}

/* ---- §3.4 memory blocks --------------------------------------------------------------- */

/* Every call in memory form (Init, Map and the seven fast calls), input bytes
 * at @in_gpa of @partition: @status and no change at all; then the canonical
 * call still succeeds. */
static void reject_memory_form(uint64_t partition, uint64_t in_gpa, uint64_t out_gpa,
                               hv_status_t status, const char *label)
{
    char what[192];
    uint8_t bytes[FAKE_INPUT_MAX];

    for (size_t c = 0; c < CANON_COUNT; c++) {
        const struct canon *k = &canons[c];

        host_up(&H, k->setup);
        put(&H, partition, in_gpa, bytes, words_to_bytes(k->code, k->w, bytes));
        snprintf(what, sizeof what, "%s: %s in memory form, input GPA 0x%llx, output 0x%llx, "
                 "partition %llu", label, k->name, (unsigned long long)in_gpa,
                 (unsigned long long)out_gpa, (unsigned long long)partition);
        world_take(&H, &before);
        expect_status(what, hc(&H, partition, fake_rcx(k->code, false), in_gpa, out_gpa), status);
        assert_unchanged(&H, what);
        canon_still_succeeds(&H, k);
    }
}

static void misaligned_input_gpa_is_invalid_alignment_for_every_memory_form_call(void **state)
{
    (void)state;
    for (uint64_t off = 1; off < 8; off++)
        reject_memory_form(FAKE_ROOT_ID, IN + off, OUT, HV_STATUS_INVALID_ALIGNMENT,
                           "misaligned input");
    reject_memory_form(FAKE_ROOT_ID, IN + 4096 - 4, OUT, HV_STATUS_INVALID_ALIGNMENT,
                       "misaligned input at a page end");
}

/* §3.4: a block that ends exactly at the page end is fine; one that runs
 * 8 bytes or more into the next page is INVALID_ALIGNMENT. The block sizes
 * are the profile's: Init 32 in both (§11.1 reads 28 as a padded 32), Map 16
 * and SetSources 544 in the current profile (§11.2, §11.3), else 8 or 16. */
static void input_block_crossing_a_page_is_invalid_alignment(void **state)
{
    static const uint16_t codes[] = {INIT, CREATE, SOURCES, MAP, UNMAP, FINALIZE, FLUSH};
    char what[128];
    uint8_t bytes[FAKE_INPUT_MAX];
    (void)state;

    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const struct canon *k = NULL;
        uint32_t len;
        uint64_t gpas[4];
        size_t n = 0;

        for (size_t c = 0; c < CANON_COUNT; c++) {
            if (canons[c].code == codes[i])
                k = &canons[c];
        }
        assert_non_null(k);
        host_up(&H, k->setup);
        len = (input_len(k->code) + 7u) & ~7u;
        /* Crossing by 8, by half the block, by all but 8 bytes; then the fit. */
        if (len > 8) {
            gpas[n++] = IN + 4096 - len + 8;
            gpas[n++] = IN + 4096 - len + (len / 2 & ~7u);
            gpas[n++] = IN + 4096 - 8;
        }
        gpas[n++] = IN + 4096 - len;
        for (size_t g = 0; g < n; g++) {
            hv_status_t status = g + 1 == n ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_ALIGNMENT;

            host_up(&H, k->setup);
            put(&H, FAKE_ROOT_ID, gpas[g], bytes, words_to_bytes(k->code, k->w, bytes));
            snprintf(what, sizeof what, "%s (%u-byte block) with input at 0x%llx", k->name, len,
                     (unsigned long long)gpas[g]);
            world_take(&H, &before);
            expect_status(what, hc(&H, FAKE_ROOT_ID, fake_rcx(k->code, false), gpas[g], OUT),
                          status);
            if (status != HV_STATUS_SUCCESS) {
                assert_unchanged(&H, what);
                canon_still_succeeds(&H, k);
            }
        }
    }
}

static void input_gpa_outside_the_partition_is_invalid_alignment(void **state)
{
    static const uint64_t gpas[] = {GPA_END, GPA_END + 0x1000, 0x00007FFFFFFFF000ull,
                                    0xFFFFFFFFFFFFF000ull, 0xFFFFFFFFFFFFFFC0ull};
    (void)state;

    for (size_t g = 0; g < sizeof gpas / sizeof gpas[0]; g++)
        reject_memory_form(FAKE_ROOT_ID, gpas[g], OUT, HV_STATUS_INVALID_ALIGNMENT,
                           "input outside the GPA space");
}

/* §3.4, Q-GPA: an unreadable input page is a memory intercept, not a status. */
static void input_in_an_unreadable_page_is_a_gpa_fault_and_changes_nothing(void **state)
{
    static const uint64_t partitions[] = {FAKE_ROOT_ID, FAKE_CHILD_ID};
    char what[160];
    (void)state;

    for (size_t c = 0; c < CANON_COUNT; c++) {
        /* The last: the block ends at the page end (its size per profile). */
        const uint64_t gpas[] = {NOACCESS, NOACCESS + 0x800,
                                 NOACCESS + 4096 - ((input_len(canons[c].code) + 7u) & ~7u)};

        for (size_t g = 0; g < sizeof gpas / sizeof gpas[0]; g++) {
            for (size_t p = 0; p < 2; p++) {
                uint8_t bytes[FAKE_INPUT_MAX];

                host_up(&H, canons[c].setup);
                put(&H, partitions[p], gpas[g], bytes,
                    words_to_bytes(canons[c].code, canons[c].w, bytes));
                snprintf(what, sizeof what, "%s in memory form, input at 0x%llx, partition %llu",
                         canons[c].name, (unsigned long long)gpas[g],
                         (unsigned long long)partitions[p]);
                world_take(&H, &before);
                expect_fault(what, hc(&H, partitions[p], fake_rcx(canons[c].code, false), gpas[g],
                                      OUT),
                             gpas[g]);
                assert_unchanged(&H, what);
                canon_still_succeeds(&H, &canons[c]);
            }
        }
    }
}

/* Map's output must be writable (§3.4): a read-only or unreadable output page
 * is a memory intercept at the output GPA, with nothing changed. */
static void map_output_in_a_read_only_page_is_a_gpa_fault_and_changes_nothing(void **state)
{
    static const uint64_t outs[] = {RO, RO + 0x800, RO + 4096 - 8, NOACCESS, NOACCESS + 0x100};
    char what[128];
    (void)state;

    for (size_t o = 0; o < sizeof outs / sizeof outs[0]; o++) {
        host_up(&H, S_STANDBY);
        /* Only 1-page buffers here: the output is 8 bytes, in the page. */
        snprintf(what, sizeof what, "Map with output at 0x%llx", (unsigned long long)outs[o]);
        put_map_input(FAKE_ROOT_ID, 0);
        world_take(&H, &before);
        expect_fault(what, hc(&H, FAKE_ROOT_ID, fake_rcx(MAP, false), IN, outs[o]), outs[o]);
        assert_unchanged(&H, what);
        assert_int_equal(fake_state(&H, LOCAL, 0), HvEventLogBufferStateStandby);
        canon_still_succeeds(&H, &canons[4]);
    }
}

/* Output in the writable page but running into the read-only one: the block
 * crosses a page, which is reported before any access (INVALID_ALIGNMENT). */
static void map_output_running_into_a_read_only_page_is_invalid_alignment(void **state)
{
    char what[64];
    (void)state;

    host_up(&H, S_NONE);
    assert_int_equal(fake_init(&H, LOCAL, 4, 2, 1, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_create(&H, LOCAL, 0, 0, 0), HV_STATUS_SUCCESS);
    snprintf(what, sizeof what, "Map of a 2-page buffer with output at RO - 8");
    put_map_input(FAKE_ROOT_ID, 0);
    world_take(&H, &before);
    expect_status(what, hc(&H, FAKE_ROOT_ID, fake_rcx(MAP, false), IN, RO - 8),
                  HV_STATUS_INVALID_ALIGNMENT);
    assert_unchanged(&H, what);
}

/*
 * §3.5 step 3 puts "unreadable/unwritable GPA -> memory intercept" before the
 * caller check and every state check; only the page-crossing and overlap
 * checks of Map's output wait for the group (its size). The first qword of
 * the output always belongs to it (BufferPages >= 1), so an unwritable output
 * GPA is known at step 3.
 */
static void map_output_in_a_read_only_page_faults_before_the_group_is_looked_up(void **state)
{
    static const struct {
        enum setup setup;
        uint64_t partition;
        uint32_t index;
    } cases[] = {
        {S_NONE, FAKE_ROOT_ID, 0},     /* group not initialized */
        {S_GROUP, FAKE_ROOT_ID, 1},    /* no such buffer */
        {S_STANDBY, FAKE_CHILD_ID, 0}, /* not the root */
    };
    char what[128];
    (void)state;

    /* §3.5 step 3, §3.4, Q-GPA: an unwritable output GPA is a memory
     * intercept before the caller check and before any state is looked at
     * (only Map's page-crossing and overlap checks wait for the group). */

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t w[2] = {LOCAL, cases[i].index};

        host_up(&H, cases[i].setup);
        snprintf(what, sizeof what, "Map (setup %d, partition %llu) with output at RO",
                 (int)cases[i].setup, (unsigned long long)cases[i].partition);
        world_take(&H, &before);
        expect_fault(what, call_mem(&H, cases[i].partition, MAP, w, IN, RO, 0), RO);
        assert_unchanged(&H, what);
    }
}

static void map_output_gpa_not_8_aligned_is_invalid_alignment_before_anything_else(void **state)
{
    static const struct {
        enum setup setup;
        uint64_t partition;
    } cases[] = {
        {S_STANDBY, FAKE_ROOT_ID}, /* would succeed */
        {S_NONE, FAKE_ROOT_ID},    /* group not initialized: step 3 comes first */
        {S_STANDBY, FAKE_CHILD_ID}, /* child: step 3 before step 4 */
    };
    char what[128];
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (uint64_t off = 1; off < 8; off++) {
            uint32_t w[2] = {LOCAL, 0};

            host_up(&H, cases[i].setup);
            snprintf(what, sizeof what, "Map (setup %d, partition %llu), output at OUT + %llu",
                     (int)cases[i].setup, (unsigned long long)cases[i].partition,
                     (unsigned long long)off);
            put_map_input(cases[i].partition, 0);
            world_take(&H, &before);
            expect_status(what, call_mem(&H, cases[i].partition, MAP, w, IN, OUT + off, 0),
                          HV_STATUS_INVALID_ALIGNMENT);
            assert_unchanged(&H, what);
        }
    }
}

static void map_output_gpa_outside_the_partition_is_invalid_alignment_before_anything_else(
    void **state)
{
    static const uint64_t outs[] = {GPA_END, GPA_END + 0x1000, 0xFFFFFFFFFFFFF000ull,
                                    0xFFFFFFFFFFFFFFF8ull};
    static const struct {
        enum setup setup;
        uint64_t partition;
    } cases[] = {
        {S_STANDBY, FAKE_ROOT_ID},
        {S_NONE, FAKE_ROOT_ID},
        {S_STANDBY, FAKE_CHILD_ID},
    };
    char what[128];
    (void)state;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t o = 0; o < sizeof outs / sizeof outs[0]; o++) {
            uint32_t w[2] = {LOCAL, 0};

            host_up(&H, cases[i].setup);
            snprintf(what, sizeof what, "Map (setup %d, partition %llu), output at 0x%llx",
                     (int)cases[i].setup, (unsigned long long)cases[i].partition,
                     (unsigned long long)outs[o]);
            put_map_input(cases[i].partition, 0);
            world_take(&H, &before);
            expect_status(what, call_mem(&H, cases[i].partition, MAP, w, IN, outs[o], 0),
                          HV_STATUS_INVALID_ALIGNMENT);
            assert_unchanged(&H, what);
        }
    }
}

/* ---- §3.2 result value ------------------------------------------------------------------- */

static void result_value_holds_only_the_status_for_every_outcome(void **state)
{
    uint32_t w_init[8] = {LOCAL, 4, 1, 1, 0, 0, 0, 0};
    uint32_t w_bad_init[8] = {LOCAL, 0, 1, 1, 0};
    /* Type 2 is out of range in the 2013 profile only (D6); 3 in both. */
    uint32_t w_b0[2] = {LOCAL, 0}, w_b9[2] = {LOCAL, 9};
    uint32_t w_t2[2] = {fake_test_abi() == HVLOG_ABI_CURRENT ? 3u : 2u, 0};
    (void)state;

    host_up(&H, S_NONE);
    /* hc() preloads RAX with a sentinel whose every byte is non-zero; the
     * expected value is the bare status, so any stale or extra bit shows. */
    expect_status("success (Init)", call_mem(&H, FAKE_ROOT_ID, INIT, w_init, IN, OUT, 0),
                  HV_STATUS_SUCCESS);
    expect_status("OBJECT_IN_USE", call_mem(&H, FAKE_ROOT_ID, INIT, w_init, IN, OUT, 0),
                  HV_STATUS_OBJECT_IN_USE);
    expect_status("INVALID_HYPERCALL_CODE", hc(&H, FAKE_ROOT_ID, 0x69, 0, 0),
                  HV_STATUS_INVALID_HYPERCALL_CODE);
    expect_status("INVALID_HYPERCALL_INPUT",
                  call_fast(&H, FAKE_ROOT_ID, FLUSH, w_b0, 1ull << 32),
                  HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect_status("INVALID_ALIGNMENT", call_mem(&H, FAKE_ROOT_ID, MAP, w_b0, IN + 4, OUT, 0),
                  HV_STATUS_INVALID_ALIGNMENT);
    expect_status("INVALID_PARAMETER (Init)",
                  call_mem(&H, FAKE_ROOT_ID, INIT, w_bad_init, IN, OUT, 0),
                  HV_STATUS_INVALID_PARAMETER);
    expect_status("INVALID_PARAMETER (type)", call_fast(&H, FAKE_ROOT_ID, FLUSH, w_t2, 0),
                  HV_STATUS_INVALID_PARAMETER);
    expect_status("INVALID_PARAMETER (flush index)", call_fast(&H, FAKE_ROOT_ID, FLUSH, w_b9, 0),
                  HV_STATUS_INVALID_PARAMETER);
    expect_status("ACCESS_DENIED", call_fast(&H, FAKE_CHILD_ID, FLUSH, w_b0, 0),
                  HV_STATUS_ACCESS_DENIED);
    expect_status("OPERATION_DENIED", call_fast(&H, FAKE_ROOT_ID, RELEASE, w_b0, 0),
                  HV_STATUS_OPERATION_DENIED);
    H.fail_alloc_after = 1;
    expect_status("INSUFFICIENT_MEMORY",
                  call_fast(&H, FAKE_ROOT_ID, CREATE, (const uint32_t[4]){LOCAL, 0, 0, 0}, 0),
                  HV_STATUS_INSUFFICIENT_MEMORY);
    expect_status("success (Create)",
                  call_fast(&H, FAKE_ROOT_ID, CREATE, (const uint32_t[4]){LOCAL, 0, 0, 0}, 0),
                  HV_STATUS_SUCCESS);
    expect_status("success (Map)", call_mem(&H, FAKE_ROOT_ID, MAP, w_b0, IN, OUT, 0),
                  HV_STATUS_SUCCESS);
}

/* ---- §3.4 input padding is ignored -------------------------------------------------------- */

/* Host H gets the call with garbage in padding; twin H2 the clean call. Both
 * must succeed and end in the same state. */
static void padded_and_clean_calls_agree(const char *what, enum setup setup, uint16_t code,
                                         uint64_t rdx_dirty, uint64_t r8_dirty, uint64_t rdx,
                                         uint64_t r8)
{
    host_up(&H, setup);
    host_up(&H2, setup);
    expect_status(what, hc(&H, FAKE_ROOT_ID, fake_rcx(code, true), rdx_dirty, r8_dirty),
                  HV_STATUS_SUCCESS);
    expect_status(what, hc(&H2, FAKE_ROOT_ID, fake_rcx(code, true), rdx, r8), HV_STATUS_SUCCESS);
    assert_twins(what, &H, &H2);
}

static void finalize_ignores_the_padding_in_the_upper_half_of_rdx(void **state)
{
    uint32_t dirty[2] = {GLOBAL, 0xDEADBEEFu}, clean[2] = {GLOBAL, 0};
    struct hvlog_group_info gi;
    (void)state;

    /* Linux's hv_do_fast_hypercall8 passes a u64 whose upper half is whatever
     * the caller's struct held: the padding must not matter. */
    padded_and_clean_calls_agree("fast Finalize with padding 0xDEADBEEF", S_GROUP_GLOBAL,
                                 FINALIZE, GLOBAL | 0xDEADBEEF00000000ull, 0, GLOBAL, 0);
    assert_int_equal(hvlog_engine_group_info(H.engine, GLOBAL, &gi), 0);
    assert_false(gi.initialized);
    /* Memory form: the same bytes from the input page. */
    host_up(&H, S_GROUP_GLOBAL);
    host_up(&H2, S_GROUP_GLOBAL);
    expect_status("memory-form Finalize with padding",
                  call_mem(&H, FAKE_ROOT_ID, FINALIZE, dirty, IN, OUT, 0), HV_STATUS_SUCCESS);
    expect_status("memory-form Finalize, clean",
                  call_mem(&H2, FAKE_ROOT_ID, FINALIZE, clean, IN, OUT, 0), HV_STATUS_SUCCESS);
    assert_twins("memory-form Finalize with padding", &H, &H2);
}

/* The padding word lands at @20 in the 2013 block and in the ignored bytes
 * 28..31 of the padded current block (fake_encode, §11.1). */
static void initialize_ignores_its_padding_field(void **state)
{
    uint32_t dirty[8] = {LOCAL, 4, 2, 2, 1, 0xFFFFFFFFu, 0x11111111u, 0x01D90000u};
    uint32_t clean[8] = {LOCAL, 4, 2, 2, 1, 0, 0x11111111u, 0x01D90000u};
    struct hvlog_group_info gi;
    (void)state;

    host_up(&H, S_NONE);
    host_up(&H2, S_NONE);
    expect_status("Init with padding 0xFFFFFFFF",
                  call_mem(&H, FAKE_ROOT_ID, INIT, dirty, IN, OUT, 0), HV_STATUS_SUCCESS);
    expect_status("Init, clean", call_mem(&H2, FAKE_ROOT_ID, INIT, clean, IN, OUT, 0),
                  HV_STATUS_SUCCESS);
    assert_twins("Init with padding", &H, &H2);
    assert_int_equal(hvlog_engine_group_info(H.engine, LOCAL, &gi), 0);
    assert_int_equal(gi.time_basis, 1);
    assert_int_equal(gi.system_time, 0x01D9000011111111ull);
}

static void set_sources_ignores_its_padding_field(void **state)
{
    struct hvlog_group_info gi;
    (void)state;

    if (fake_test_abi() == HVLOG_ABI_CURRENT) {
        /* §11.3: in the current profile bytes 4..7 are GroupCount, which must
         * be 0; a non-zero one is INVALID_PARAMETER and changes nothing. */
        host_up(&H, S_GROUP);
        world_take(&H, &before);
        expect_status("SetSources with GroupCount 0xFFFFFFFF",
                      hc(&H, FAKE_ROOT_ID, fake_rcx(SOURCES, true),
                         LOCAL | 0xFFFFFFFF00000000ull, 0x0000000100000002ull),
                      HV_STATUS_INVALID_PARAMETER);
        assert_unchanged(&H, "SetSources with GroupCount 0xFFFFFFFF");
        return;
    }
    padded_and_clean_calls_agree("SetSources with padding 0xFFFFFFFF", S_GROUP, SOURCES,
                                 LOCAL | 0xFFFFFFFF00000000ull, 0x0000000100000001ull, LOCAL,
                                 0x0000000100000001ull);
    assert_int_equal(hvlog_engine_group_info(H.engine, LOCAL, &gi), 0);
    assert_int_equal(gi.source_mask, 0x0000000100000001ull);
}

/* An 8-byte input is RDX alone; R8 is not part of it (§3.3), and Linux's
 * hv_do_fast_hypercall8 leaves R8 as it was. */
static void eight_byte_fast_calls_ignore_r8(void **state)
{
    char what[96];
    (void)state;

    for (size_t c = 0; c < CANON_COUNT; c++) {
        const struct canon *k = &canons[c];
        uint64_t rdx = k->w[0] | ((uint64_t)k->w[1] << 32);

        if (memory_only(k->code) || input_len(k->code) != 8)
            continue;
        snprintf(what, sizeof what, "fast %s with R8 = 0xA5A5...", k->name);
        padded_and_clean_calls_agree(what, k->setup, k->code, rdx, 0xA5A5A5A5A5A5A5A5ull, rdx, 0);
    }
}

/* ---- §3.5 order of errors -------------------------------------------------------------------- */

static void invalid_hypercall_code_beats_access_denied_for_a_child(void **state)
{
    char what[64];
    (void)state;

    host_up(&H, S_READY);
    for (size_t i = 0; i < sizeof unknown_codes / sizeof unknown_codes[0]; i++) {
        snprintf(what, sizeof what, "child calls code 0x%04x", unknown_codes[i]);
        world_take(&H, &before);
        expect_status(what, hc(&H, FAKE_CHILD_ID, fake_rcx(unknown_codes[i], true), LOCAL, 0),
                      HV_STATUS_INVALID_HYPERCALL_CODE);
        assert_unchanged(&H, what);
    }
}

static void invalid_hypercall_input_beats_access_denied_for_a_child(void **state)
{
    const uint64_t ors[] = {1ull << 17, 1ull << 40, 1ull << 50, 1ull << 62};
    uint32_t w[8] = {LOCAL, 4, 1, 1, 0};
    (void)state;

    /* Reserved bits, reps: covered per call (each_call_rejects_input_bits runs a
     * child too); here the fast bit on the two memory-only calls. */
    host_up(&H, S_STANDBY);
    world_take(&H, &before);
    expect_status("child calls fast Init", call_fast(&H, FAKE_CHILD_ID, INIT, w, 0),
                  HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect_status("child calls fast Map", call_fast(&H, FAKE_CHILD_ID, MAP, w, 0),
                  HV_STATUS_INVALID_HYPERCALL_INPUT);
    for (size_t i = 0; i < sizeof ors / sizeof ors[0]; i++)
        expect_status("child calls Flush with bad input bits",
                      call_fast(&H, FAKE_CHILD_ID, FLUSH, w, ors[i]),
                      HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_unchanged(&H, "child calls with bad input values");
}

static void invalid_alignment_beats_access_denied_for_a_child_memory_call(void **state)
{
    (void)state;
    reject_memory_form(FAKE_CHILD_ID, IN + 4, OUT, HV_STATUS_INVALID_ALIGNMENT,
                       "child, misaligned input");
    reject_memory_form(FAKE_CHILD_ID, GPA_END, OUT, HV_STATUS_INVALID_ALIGNMENT,
                       "child, input outside the GPA space");
    /* A 32-byte Init input crossing a page, and Map outputs placed wrongly. */
    {
        uint32_t w_init[8] = {LOCAL, 4, 1, 1, 0}, w_map[2] = {LOCAL, 0};

        host_up(&H, S_STANDBY);
        world_take(&H, &before);
        expect_status("child Init crossing a page",
                      call_mem(&H, FAKE_CHILD_ID, INIT, w_init, IN + 4096 - 8, OUT, 0),
                      HV_STATUS_INVALID_ALIGNMENT);
        expect_status("child Map with misaligned output",
                      call_mem(&H, FAKE_CHILD_ID, MAP, w_map, IN, OUT + 4, 0),
                      HV_STATUS_INVALID_ALIGNMENT);
        expect_status("child Map with output outside",
                      call_mem(&H, FAKE_CHILD_ID, MAP, w_map, IN, GPA_END, 0),
                      HV_STATUS_INVALID_ALIGNMENT);
        assert_unchanged(&H, "child memory calls with misplaced blocks");
    }
}

static void gpa_fault_beats_access_denied_for_a_child(void **state)
{
    uint32_t w[8] = {LOCAL, 4, 1, 1, 0};
    (void)state;

    host_up(&H, S_STANDBY);
    world_take(&H, &before);
    expect_fault("child Init reading an unreadable page",
                 call_mem(&H, FAKE_CHILD_ID, INIT, w, NOACCESS, OUT, 0), NOACCESS);
    expect_fault("child Map reading an unreadable page",
                 call_mem(&H, FAKE_CHILD_ID, MAP, w, NOACCESS + 8, OUT, 0), NOACCESS + 8);
    expect_fault("child memory-form Flush reading an unreadable page",
                 call_mem(&H, FAKE_CHILD_ID, FLUSH, w, NOACCESS + 16, OUT, 0), NOACCESS + 16);
    assert_unchanged(&H, "child calls reading an unreadable page");
}

static void invalid_alignment_beats_invalid_parameter_and_state_checks(void **state)
{
    uint32_t bad_type[8] = {2, 4, 1, 1, 0};
    uint32_t bad_count[8] = {LOCAL, 0, 1, 1, 0};
    uint32_t missing[2] = {LOCAL, 3};
    (void)state;

    host_up(&H, S_STANDBY);
    world_take(&H, &before);
    expect_status("Init of type 2, misaligned",
                  call_mem(&H, FAKE_ROOT_ID, INIT, bad_type, IN + 4, OUT, 0),
                  HV_STATUS_INVALID_ALIGNMENT);
    expect_status("Init of an initialized group with count 0, crossing a page",
                  call_mem(&H, FAKE_ROOT_ID, INIT, bad_count, IN + 4096 - 8, OUT, 0),
                  HV_STATUS_INVALID_ALIGNMENT);
    expect_status("Map of a missing buffer, misaligned output",
                  call_mem(&H, FAKE_ROOT_ID, MAP, missing, IN, OUT + 2, 0),
                  HV_STATUS_INVALID_ALIGNMENT);
    expect_status("memory-form Release of a missing buffer, input outside",
                  call_mem(&H, FAKE_ROOT_ID, RELEASE, missing, GPA_END, OUT, 0),
                  HV_STATUS_INVALID_ALIGNMENT);
    assert_unchanged(&H, "misplaced blocks with bad contents");
}

static void invalid_hypercall_input_beats_invalid_alignment_and_gpa_faults(void **state)
{
    uint32_t w[8] = {LOCAL, 4, 1, 1, 0};
    (void)state;

    host_up(&H, S_STANDBY);
    world_take(&H, &before);
    expect_status("Init with a reserved bit and a misaligned input",
                  call_mem(&H, FAKE_ROOT_ID, INIT, w, IN + 4, OUT, 1ull << 20),
                  HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect_status("Map with a rep count and an unreadable input",
                  call_mem(&H, FAKE_ROOT_ID, MAP, w, NOACCESS, OUT, 1ull << 32),
                  HV_STATUS_INVALID_HYPERCALL_INPUT);
    expect_status("fast Map with an unreadable input GPA in RDX",
                  hc(&H, FAKE_ROOT_ID, fake_rcx(MAP, true), NOACCESS, OUT),
                  HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_unchanged(&H, "bad input values with bad blocks");
}

static void invalid_alignment_beats_gpa_fault(void **state)
{
    uint32_t w[8] = {LOCAL, 4, 1, 1, 0};
    (void)state;

    host_up(&H, S_STANDBY);
    world_take(&H, &before);
    expect_status("Init misaligned in an unreadable page",
                  call_mem(&H, FAKE_ROOT_ID, INIT, w, NOACCESS + 4, OUT, 0),
                  HV_STATUS_INVALID_ALIGNMENT);
    expect_status("Init crossing from an unreadable page",
                  call_mem(&H, FAKE_ROOT_ID, INIT, w, NOACCESS + 4096 - 8, OUT, 0),
                  HV_STATUS_INVALID_ALIGNMENT);
    expect_status("Map with unreadable input and misaligned output",
                  call_mem(&H, FAKE_ROOT_ID, MAP, w, NOACCESS, OUT + 4, 0),
                  HV_STATUS_INVALID_ALIGNMENT);
    expect_status("Map with output misaligned in a read-only page",
                  call_mem(&H, FAKE_ROOT_ID, MAP, w, IN, RO + 4, 0), HV_STATUS_INVALID_ALIGNMENT);
    assert_unchanged(&H, "misaligned blocks in faulting pages");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(unknown_call_codes_are_invalid_hypercall_code_and_change_nothing, hosts_down),
        cmocka_unit_test_teardown(unknown_call_code_is_reported_before_bad_input_value_bits, hosts_down),
        cmocka_unit_test_teardown(every_reserved_input_bit_is_invalid_hypercall_input_for_every_call, hosts_down),
        cmocka_unit_test_teardown(non_zero_rep_count_is_invalid_hypercall_input_for_every_call, hosts_down),
        cmocka_unit_test_teardown(non_zero_rep_start_index_is_invalid_hypercall_input_for_every_call, hosts_down),
        cmocka_unit_test_teardown(variable_header_size_in_bits_26_17_is_invalid_hypercall_input, hosts_down),
        cmocka_unit_test_teardown(fast_initialize_is_invalid_hypercall_input_and_changes_nothing, hosts_down),
        cmocka_unit_test_teardown(fast_map_is_invalid_hypercall_input_and_writes_no_output, hosts_down),
        cmocka_unit_test_teardown(seven_fast_calls_give_identical_results_and_state_in_fast_and_memory_form, hosts_down),
        cmocka_unit_test_teardown(memory_form_of_fast_calls_ignores_the_output_gpa, hosts_down),
        cmocka_unit_test_teardown(misaligned_input_gpa_is_invalid_alignment_for_every_memory_form_call, hosts_down),
        cmocka_unit_test_teardown(input_block_crossing_a_page_is_invalid_alignment, hosts_down),
        cmocka_unit_test_teardown(input_gpa_outside_the_partition_is_invalid_alignment, hosts_down),
        cmocka_unit_test_teardown(input_in_an_unreadable_page_is_a_gpa_fault_and_changes_nothing, hosts_down),
        cmocka_unit_test_teardown(map_output_in_a_read_only_page_is_a_gpa_fault_and_changes_nothing, hosts_down),
        cmocka_unit_test_teardown(map_output_running_into_a_read_only_page_is_invalid_alignment, hosts_down),
        cmocka_unit_test_teardown(map_output_in_a_read_only_page_faults_before_the_group_is_looked_up, hosts_down),
        cmocka_unit_test_teardown(map_output_gpa_not_8_aligned_is_invalid_alignment_before_anything_else, hosts_down),
        cmocka_unit_test_teardown(map_output_gpa_outside_the_partition_is_invalid_alignment_before_anything_else, hosts_down),
        cmocka_unit_test_teardown(result_value_holds_only_the_status_for_every_outcome, hosts_down),
        cmocka_unit_test_teardown(finalize_ignores_the_padding_in_the_upper_half_of_rdx, hosts_down),
        cmocka_unit_test_teardown(initialize_ignores_its_padding_field, hosts_down),
        cmocka_unit_test_teardown(set_sources_ignores_its_padding_field, hosts_down),
        cmocka_unit_test_teardown(eight_byte_fast_calls_ignore_r8, hosts_down),
        cmocka_unit_test_teardown(invalid_hypercall_code_beats_access_denied_for_a_child, hosts_down),
        cmocka_unit_test_teardown(invalid_hypercall_input_beats_access_denied_for_a_child, hosts_down),
        cmocka_unit_test_teardown(invalid_alignment_beats_access_denied_for_a_child_memory_call, hosts_down),
        cmocka_unit_test_teardown(gpa_fault_beats_access_denied_for_a_child, hosts_down),
        cmocka_unit_test_teardown(invalid_alignment_beats_invalid_parameter_and_state_checks, hosts_down),
        cmocka_unit_test_teardown(invalid_hypercall_input_beats_invalid_alignment_and_gpa_faults, hosts_down),
        cmocka_unit_test_teardown(invalid_alignment_beats_gpa_fault, hosts_down),
    };
    return cmocka_run_group_tests_name("engine_dispatch", tests, NULL, NULL);
}
