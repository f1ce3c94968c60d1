/* SPDX-License-Identifier: MIT */
/*
 * The SynIC of the root's VPs (src/sim/synic.c, spec §8.4, §8.5, §4.7):
 * registers at reset and their #GP rules, the slot copy (header plus
 * PayloadSize bytes), interrupts and masking, MessagePending and EOM, the
 * engine told when its message buffer is free, ineligible VPs, Finalize
 * withdrawing a queued message, the host's SINT hook (hvlog_sim_set_sint_hook).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim_root.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define GLOBAL HvEventLogTypeGlobalSystemEvents
#define VECTOR 0x40

static struct hvlog_sim *make_sim(uint32_t lps)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct hvlog_sim *sim = NULL;

    c.lps = lps;
    c.pool_pages = 64;
    c.lockstep = true;
    assert_int_equal(hvlog_sim_create(&c, &sim), 0);
    return sim;
}

static uint64_t rdmsr(struct hvlog_sim *sim, uint32_t vp, uint32_t msr)
{
    uint64_t v = 0xDEAD;

    assert_int_equal(hvlog_sim_rdmsr(sim, vp, msr, &v), 0);
    return v;
}

static struct hvlog_group_info group(struct hvlog_sim *sim, uint32_t type)
{
    struct hvlog_group_info g;

    assert_int_equal(hvlog_engine_group_info(hvlog_sim_engine(sim), type, &g), 0);
    return g;
}

/* LP @lp logs one event of @type and the root flushes the buffer it went
 * into: one Ready list, one notification. Returns the buffer index. */
static uint32_t log_and_flush(struct sim_root *r, uint32_t lp, uint32_t type)
{
    struct hvlog_scope_stats st;
    uint64_t payload = 0x1122334455667788ull;

    assert_int_equal(hvlog_sim_log(r->sim, lp, type, 1, 0x20, 0, &payload, 8), HVLOG_LOG_RECORDED);
    assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(r->sim), type,
                                              type == LOCAL ? lp : 0, &st), 0);
    assert_int_equal(root_fast(r, HvCallHvFlushEventLogBuffer, type, st.active_index, 0), 0);
    return st.active_index;
}

static void registers_reset_masked_and_refuse_bad_writes(void **state)
{
    struct hvlog_sim *sim = make_sim(2);
    uint64_t v;
    (void)state;

    for (uint32_t s = 0; s < 16; s++)
        assert_int_equal(rdmsr(sim, 1, HV_X64_MSR_SINT0 + s), HV_SINT_MASKED);
    assert_int_equal(rdmsr(sim, 0, HV_X64_MSR_SCONTROL), 0);
    assert_int_equal(rdmsr(sim, 0, HV_X64_MSR_SIMP), 0);
    assert_int_equal(rdmsr(sim, 0, HV_X64_MSR_SVERSION), 1);
    assert_int_equal(rdmsr(sim, 0, HV_X64_MSR_EOM), 0);

    /* SINT vectors 0..15 are #GP, masked or not; nothing changes. */
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SINT0, 15), -1);
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SINT0, HV_SINT_MASKED | 15), -1);
    assert_int_equal(rdmsr(sim, 0, HV_X64_MSR_SINT0), HV_SINT_MASKED);
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SINT15, 16 | HV_SINT_AUTO_EOI), 0);
    assert_int_equal(rdmsr(sim, 0, HV_X64_MSR_SINT15), 16 | HV_SINT_AUTO_EOI);

    /* SVERSION is read-only; unknown MSRs and VPs are #GP. */
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SVERSION, 2), -1);
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, 0x40000085, 0), -1);
    assert_int_equal(hvlog_sim_rdmsr(sim, 0, 0x40000085, &v), -1);
    assert_int_equal(hvlog_sim_wrmsr(sim, 2, HV_X64_MSR_SCONTROL, 1), -1);
    assert_int_equal(hvlog_sim_rdmsr(sim, 2, HV_X64_MSR_SCONTROL, &v), -1);

    /* SIMP must point at the root's fixed RAM (not a pool page, not outside). */
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SIMP, (1ull << 40) | HV_SIMP_ENABLE), -1);
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SIMP, (128ull << 12) | HV_SIMP_ENABLE), -1);
    assert_int_equal(rdmsr(sim, 0, HV_X64_MSR_SIMP), 0);
    assert_null(hvlog_sim_sim_page(sim, 0));
    /* A disabled SIMP may hold any GPA. */
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SIMP, 1ull << 40), 0);
    assert_null(hvlog_sim_sim_page(sim, 0));
    hvlog_sim_destroy(sim);
}

static void enabling_the_sim_page_zeroes_it(void **state)
{
    struct hvlog_sim *sim = make_sim(1);
    uint8_t *page;
    uint64_t gpa = hvlog_sim_root_page(sim, 3, &page);
    (void)state;

    memset(page, 0xCC, HV_PAGE_SIZE);
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SIMP, gpa | HV_SIMP_ENABLE), 0);
    assert_ptr_equal(hvlog_sim_sim_page(sim, 0), page);
    for (uint32_t i = 0; i < HV_PAGE_SIZE; i++)
        assert_int_equal(page[i], 0);
    /* The default SIM page of VP 0: the page after the scratch pages. */
    assert_int_equal(hvlog_sim_synic_enable(sim, 0, VECTOR),
                     hvlog_sim_root_page(sim, HVLOG_SIM_ROOT_SCRATCH_PAGES - 1, NULL) + HV_PAGE_SIZE);
    assert_int_equal(hvlog_sim_synic_enable(sim, 0, 3), 0); /* vector < 16 */
    hvlog_sim_destroy(sim);
}

static void a_message_is_copied_with_payload_size_bytes_only(void **state)
{
    struct hvlog_sim *sim = make_sim(1);
    struct sim_root r;
    struct root_msg m;
    uint8_t *slot;
    uint32_t index;
    (void)state;

    root_attach(&r, sim);
    assert_int_not_equal(hvlog_sim_synic_enable(sim, 0, VECTOR), 0);
    slot = hvlog_sim_sim_page(sim, 0);
    /* Bytes of "an older message" past the 8-byte payload. */
    memset(slot + 24, 0xEE, HV_MESSAGE_SIZE - 24);
    root_prepare(&r, LOCAL, 2, 1, 2);
    assert_int_equal(root_sources(&r, LOCAL, ~0ull), 0);
    index = log_and_flush(&r, 0, LOCAL);

    /* §4.7 with DEC-MSGHDR. */
    assert_int_equal(hvlog_load_le32(slot), HvMessageTypeEventLogBufferComplete);
    assert_int_equal(slot[4], 8);
    assert_int_equal(slot[5], 0);
    assert_int_equal(hvlog_load_le64(slot + 8), 0);
    assert_int_equal(hvlog_load_le32(slot + 16), LOCAL);
    assert_int_equal(hvlog_load_le32(slot + 20), index);
    for (uint32_t i = 24; i < HV_MESSAGE_SIZE; i++)
        assert_int_equal(slot[i], 0xEE);
    /* Only SINT0's slot is touched. */
    for (uint32_t i = HV_MESSAGE_SIZE; i < HV_PAGE_SIZE; i++)
        assert_int_equal(slot[i], 0);
    assert_int_equal(hvlog_sim_sint_interrupts(sim, 0), 1);
    /* The buffer is Ready and the group's message buffer free (DELIVERED). */
    assert_int_equal(root_state(&r, LOCAL, index), HvEventLogBufferStateReady);
    assert_false(group(sim, LOCAL).message_busy);

    assert_true(root_take_message(sim, 0, &m));
    assert_false(m.pending);
    assert_false(root_take_message(sim, 0, &m));
    hvlog_sim_destroy(sim);
}

static void a_masked_sint_takes_the_message_without_an_interrupt(void **state)
{
    struct hvlog_sim *sim = make_sim(1);
    struct sim_root r;
    struct root_msg m;
    (void)state;

    root_attach(&r, sim);
    assert_int_not_equal(hvlog_sim_synic_enable(sim, 0, VECTOR), 0);
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SINT0, HV_SINT_MASKED | VECTOR), 0);
    root_prepare(&r, GLOBAL, 2, 1, 1);
    assert_int_equal(root_sources(&r, GLOBAL, ~0ull), 0);
    log_and_flush(&r, 0, GLOBAL);
    /* §8.5: the interrupt is lost, the message is not. */
    assert_int_equal(hvlog_sim_sint_interrupts(sim, 0), 0);
    assert_true(root_take_message(sim, 0, &m));
    assert_int_equal(m.type, GLOBAL);
    hvlog_sim_destroy(sim);
}

static void waiting_messages_set_pending_and_eom_delivers_the_next(void **state)
{
    struct hvlog_sim *sim = make_sim(1);
    struct sim_root r;
    struct root_msg m;
    uint32_t first, second, third;
    uint8_t *slot;
    (void)state;

    root_attach(&r, sim);
    assert_int_not_equal(hvlog_sim_synic_enable(sim, 0, VECTOR), 0);
    slot = hvlog_sim_sim_page(sim, 0);
    root_prepare(&r, GLOBAL, 4, 1, 1);
    assert_int_equal(root_sources(&r, GLOBAL, ~0ull), 0);

    first = log_and_flush(&r, 0, GLOBAL);  /* into the slot at once */
    assert_false(group(sim, GLOBAL).message_busy);
    second = log_and_flush(&r, 0, GLOBAL); /* slot busy: queued, MessagePending */
    assert_true(group(sim, GLOBAL).message_busy);
    assert_int_equal(slot[5] & HV_MESSAGE_FLAG_PENDING, HV_MESSAGE_FLAG_PENDING);
    third = log_and_flush(&r, 0, GLOBAL);  /* message buffer busy: the list waits (DEC-MSGBUF) */
    assert_int_equal(root_state(&r, GLOBAL, third), HvEventLogBufferStateComplete);
    assert_int_equal(group(sim, GLOBAL).due_lists, 1);
    assert_int_equal(hvlog_sim_sint_interrupts(sim, 0), 1);

    /* The root handles the first; pending, so EOM: the second is copied,
     * the engine learns its buffer is free and posts the third. */
    assert_true(root_take_message(sim, 0, &m));
    assert_int_equal(m.index, first);
    assert_true(m.pending);
    assert_int_equal(hvlog_sim_sint_interrupts(sim, 0), 2);
    assert_int_equal(root_state(&r, GLOBAL, third), HvEventLogBufferStateReady);
    assert_true(group(sim, GLOBAL).message_busy);
    assert_int_equal(slot[5] & HV_MESSAGE_FLAG_PENDING, HV_MESSAGE_FLAG_PENDING);

    assert_true(root_take_message(sim, 0, &m));
    assert_int_equal(m.index, second);
    assert_true(m.pending);
    assert_false(group(sim, GLOBAL).message_busy);
    assert_true(root_take_message(sim, 0, &m));
    assert_int_equal(m.index, third);
    assert_false(m.pending);
    assert_false(root_take_message(sim, 0, &m));
    assert_int_equal(hvlog_sim_sint_interrupts(sim, 0), 3);

    /* EOM with nothing waiting, or with the slot busy, does nothing. */
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_EOM, 0), 0);
    assert_false(root_take_message(sim, 0, &m));
    hvlog_sim_destroy(sim);
}

static void an_ineligible_vp_gets_nothing_and_enabling_one_kicks_the_engine(void **state)
{
    struct hvlog_sim *sim = make_sim(2);
    struct sim_root r;
    struct root_msg m;
    uint32_t index;
    (void)state;

    root_attach(&r, sim);
    root_prepare(&r, LOCAL, 4, 1, 1);
    assert_int_equal(root_sources(&r, LOCAL, ~0ull), 0);
    /* LP 1's list: VP 1 has no SynIC, nor has anyone. */
    index = log_and_flush(&r, 1, LOCAL);
    assert_int_equal(root_state(&r, LOCAL, index), HvEventLogBufferStateReady);
    assert_true(group(sim, LOCAL).message_busy);

    /* SCONTROL alone does not make VP 0 eligible (§8.4: SIMP too). */
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SCONTROL, 1), 0);
    assert_true(group(sim, LOCAL).message_busy);
    /* SIMP enabled: eligible, the engine is kicked, and LP 1's list goes
     * to the lowest eligible VP (DEC-TARGET). */
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SIMP,
                                     hvlog_sim_root_page(sim, 3, NULL) | HV_SIMP_ENABLE), 0);
    assert_true(root_take_message(sim, 0, &m));
    assert_int_equal(m.index, index);
    assert_false(group(sim, LOCAL).message_busy);

    /* Disabled again: refused, retried by the poll once enabled. */
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SCONTROL, 0), 0);
    index = log_and_flush(&r, 0, LOCAL);
    assert_false(root_take_message(sim, 0, &m));
    assert_int_not_equal(hvlog_sim_synic_enable(sim, 1, VECTOR), 0);
    assert_true(root_take_message(sim, 1, &m));
    assert_int_equal(m.index, index);
    hvlog_sim_destroy(sim);
}

static void a_refused_post_is_retried_by_the_poll(void **state)
{
    struct hvlog_sim *sim = make_sim(1);
    struct sim_root r;
    struct root_msg m;
    uint32_t index;
    (void)state;

    root_attach(&r, sim);
    assert_int_not_equal(hvlog_sim_synic_enable(sim, 0, VECTOR), 0);
    root_prepare(&r, GLOBAL, 2, 1, 1);
    assert_int_equal(root_sources(&r, GLOBAL, ~0ull), 0);
    hvlog_sim_fail_after(sim, HVLOG_SIM_FAULT_POST, 1);
    index = log_and_flush(&r, 0, GLOBAL);
    /* Ready, the message built, but not in the slot. */
    assert_int_equal(root_state(&r, GLOBAL, index), HvEventLogBufferStateReady);
    assert_false(root_take_message(sim, 0, &m));
    hvlog_sim_poll(sim);
    assert_true(root_take_message(sim, 0, &m));
    assert_int_equal(m.index, index);
    hvlog_sim_destroy(sim);
}

static void finalize_withdraws_a_queued_message(void **state)
{
    struct hvlog_sim *sim = make_sim(1);
    struct sim_root r;
    struct root_msg m;
    uint32_t first, second;
    (void)state;

    root_attach(&r, sim);
    assert_int_not_equal(hvlog_sim_synic_enable(sim, 0, VECTOR), 0);
    root_prepare(&r, GLOBAL, 2, 1, 1);
    assert_int_equal(root_sources(&r, GLOBAL, ~0ull), 0);
    first = log_and_flush(&r, 0, GLOBAL);
    second = log_and_flush(&r, 0, GLOBAL);
    assert_true(group(sim, GLOBAL).message_busy); /* the second waits in the FIFO */

    /* Tear down without reading: Q-UNMAPREADY, then DEC-FINMSG. */
    assert_int_equal(root_sources(&r, GLOBAL, 0), 0);
    assert_int_equal(root_unmap(&r, GLOBAL, first), 0);
    assert_int_equal(root_unmap(&r, GLOBAL, second), 0);
    assert_int_equal(root_fast(&r, HvCallHvDeleteEventLogBuffer, GLOBAL, first, 0), 0);
    assert_int_equal(root_fast(&r, HvCallHvDeleteEventLogBuffer, GLOBAL, second, 0), 0);
    assert_int_equal(root_fast(&r, HvCallHvFinalizeEventLogBufferGroup, GLOBAL, 0, 0), 0);

    /* The first was copied before; EOM finds nothing waiting. */
    assert_true(root_take_message(sim, 0, &m));
    assert_int_equal(m.index, first);
    assert_true(m.pending);
    assert_false(root_take_message(sim, 0, &m));
    assert_int_equal(hvlog_sim_sint_interrupts(sim, 0), 1);
    hvlog_sim_destroy(sim);
}

struct edges {
    uint32_t count;
    uint32_t vp, sint, vector;
    uint32_t index[4]; /* Payload.BufferIndex of each message */
};

static void edges_hook(void *ctx, uint32_t vp, uint32_t sint, uint8_t vector,
                       const struct hv_message *msg)
{
    struct edges *e = ctx;

    e->vp = vp;
    e->sint = sint;
    e->vector = vector;
    if (e->count < 4)
        e->index[e->count] = hvlog_load_le32((const uint8_t *)msg + 20);
    e->count++;
}

/* The host's interrupt controller learns each edge, in the slot's order,
 * with the SINT's vector and the message; a masked SINT raises none. */
static void the_sint_hook_sees_each_edge_in_slot_order(void **state)
{
    struct hvlog_sim *sim = make_sim(2);
    struct sim_root r;
    struct root_msg m;
    struct edges e = {0};
    uint32_t first, second;
    (void)state;

    root_attach(&r, sim);
    assert_int_equal(hvlog_sim_set_sint_hook(sim, 2, edges_hook, &e), -1);
    assert_int_equal(hvlog_sim_set_sint_hook(sim, 0, edges_hook, &e), 0);
    assert_int_not_equal(hvlog_sim_synic_enable(sim, 0, VECTOR), 0);
    root_prepare(&r, GLOBAL, 4, 1, 1);
    assert_int_equal(root_sources(&r, GLOBAL, ~0ull), 0);

    first = log_and_flush(&r, 0, GLOBAL);
    second = log_and_flush(&r, 0, GLOBAL); /* queued: no edge yet */
    assert_int_equal(e.count, 1);
    assert_true(root_take_message(sim, 0, &m)); /* EOM: the second's edge */
    assert_int_equal(e.count, 2);
    assert_int_equal(e.index[0], first);
    assert_int_equal(e.index[1], second);
    assert_int_equal(e.vp, 0);
    assert_int_equal(e.sint, HV_EVENTLOG_SINT);
    assert_int_equal(e.vector, VECTOR);
    assert_int_equal(hvlog_sim_sint_interrupts(sim, 0), 2);
    assert_true(root_take_message(sim, 0, &m));

    /* Masked: the message arrives, no edge, no hook. */
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SINT0, HV_SINT_MASKED | VECTOR), 0);
    log_and_flush(&r, 0, GLOBAL);
    assert_int_equal(e.count, 2);
    assert_true(root_take_message(sim, 0, &m));

    /* Removed: edges are counted, nobody is told. */
    assert_int_equal(hvlog_sim_wrmsr(sim, 0, HV_X64_MSR_SINT0, VECTOR), 0);
    assert_int_equal(hvlog_sim_set_sint_hook(sim, 0, NULL, NULL), 0);
    log_and_flush(&r, 0, GLOBAL);
    assert_int_equal(e.count, 2);
    assert_int_equal(hvlog_sim_sint_interrupts(sim, 0), 3);
    hvlog_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registers_reset_masked_and_refuse_bad_writes),
        cmocka_unit_test(enabling_the_sim_page_zeroes_it),
        cmocka_unit_test(a_message_is_copied_with_payload_size_bytes_only),
        cmocka_unit_test(a_masked_sint_takes_the_message_without_an_interrupt),
        cmocka_unit_test(waiting_messages_set_pending_and_eom_delivers_the_next),
        cmocka_unit_test(an_ineligible_vp_gets_nothing_and_enabling_one_kicks_the_engine),
        cmocka_unit_test(a_refused_post_is_retried_by_the_poll),
        cmocka_unit_test(finalize_withdraws_a_queued_message),
        cmocka_unit_test(the_sint_hook_sees_each_edge_in_slot_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
