/* SPDX-License-Identifier: MIT */
/*
 * Fault injection (hvlog_sim_fail_after): the k-th next page allocation,
 * overlay mapping or message post fails, once; the engine answers
 * INSUFFICIENT_MEMORY or retries, and the sim's accounting stays exact.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/sim_internal.h"
#include "sim_root.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define GLOBAL HvEventLogTypeGlobalSystemEvents

static struct hvlog_sim *make_sim(void)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct hvlog_sim *sim = NULL;

    c.pool_pages = 32;
    c.lockstep = true;
    assert_int_equal(hvlog_sim_create(&c, &sim), 0);
    return sim;
}

static void the_kth_allocation_fails_once(void **state)
{
    struct hvlog_sim *sim = make_sim();
    struct sim_root r;
    (void)state;

    root_attach(&r, sim);
    hvlog_sim_fail_after(sim, HVLOG_SIM_FAULT_ALLOC, 3);
    assert_int_equal(root_init(&r, LOCAL, 8, 2, 1, 0), 0);           /* 1st */
    assert_int_equal(root_create(&r, LOCAL, 0, 0, 0), 0);           /* 2nd */
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 32 - 1 - 2);
    assert_int_equal(root_create(&r, LOCAL, 1, 0, 0), HV_STATUS_INSUFFICIENT_MEMORY); /* 3rd */
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 32 - 1 - 2);     /* nothing taken */
    assert_int_equal(root_create(&r, LOCAL, 1, 0, 0), 0);           /* once only */
    /* Armed, then disarmed. */
    hvlog_sim_fail_after(sim, HVLOG_SIM_FAULT_ALLOC, 1);
    hvlog_sim_fail_after(sim, HVLOG_SIM_FAULT_ALLOC, 0);
    assert_int_equal(root_create(&r, LOCAL, 2, 0, 0), 0);
    /* Initialize's one page (DEC-POOL). */
    hvlog_sim_fail_after(sim, HVLOG_SIM_FAULT_ALLOC, 1);
    assert_int_equal(root_init(&r, GLOBAL, 1, 1, 1, 0), HV_STATUS_INSUFFICIENT_MEMORY);
    assert_int_equal(root_init(&r, GLOBAL, 1, 1, 1, 0), 0);
    hvlog_sim_fail_after(sim, (enum hvlog_sim_fault)7, 1); /* no such kind: ignored */
    hvlog_sim_destroy(sim);
}

static void the_kth_overlay_mapping_fails_and_leaves_the_buffer_standby(void **state)
{
    struct hvlog_sim *sim = make_sim();
    struct sim_root r;
    struct hvlog_buffer_info info;
    (void)state;

    root_attach(&r, sim);
    assert_int_equal(root_init(&r, LOCAL, 4, 1, 1, 0), 0);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(root_create(&r, LOCAL, i, 0, 0), 0);
    hvlog_sim_fail_after(sim, HVLOG_SIM_FAULT_MAP, 2);
    assert_int_equal(root_map(&r, LOCAL, 0), 0);
    assert_int_equal(root_map(&r, LOCAL, 1), HV_STATUS_INSUFFICIENT_MEMORY);
    assert_int_equal(hvlog_engine_buffer_info(hvlog_sim_engine(sim), LOCAL, 1, &info), 0);
    assert_int_equal(info.state, HvEventLogBufferStateStandby);
    assert_null(hvlog_sim_root_view(sim, hvlog__sim_pages_frame(sim, &info.pages, 0) * HV_PAGE_SIZE, 8));
    assert_int_equal(r.gpa[LOCAL][1], 0);
    assert_int_equal(root_map(&r, LOCAL, 1), 0);
    assert_int_equal(root_map(&r, LOCAL, 2), 0);
    assert_non_null(root_buffer(&r, LOCAL, 1));
    hvlog_sim_destroy(sim);
}

static void the_kth_post_is_refused_and_retried(void **state)
{
    struct hvlog_sim *sim = make_sim();
    struct sim_root r;
    struct root_msg m;
    uint64_t payload = 1;
    (void)state;

    root_attach(&r, sim);
    assert_int_not_equal(hvlog_sim_synic_enable(sim, 0, 0x40), 0);
    root_prepare(&r, GLOBAL, 4, 1, 1);
    assert_int_equal(root_sources(&r, GLOBAL, ~0ull), 0);
    hvlog_sim_fail_after(sim, HVLOG_SIM_FAULT_POST, 2);
    for (uint32_t i = 0; i < 2; i++) {
        struct hvlog_scope_stats st;
        assert_int_equal(hvlog_sim_log(sim, 0, GLOBAL, 1, 0x4101, i, &payload, 8), HVLOG_LOG_RECORDED);
        hvlog_engine_scope_stats(hvlog_sim_engine(sim), GLOBAL, 0, &st);
        assert_int_equal(root_fast(&r, HvCallHvFlushEventLogBuffer, GLOBAL, st.active_index, 0), 0);
        /* The first is delivered; the second refused, and the next
         * logging call (the LP's deferred work) retries it. */
        if (i == 0) {
            assert_true(root_take_message(sim, 0, &m));
            assert_int_equal(m.index, st.active_index);
        } else {
            assert_false(root_take_message(sim, 0, &m));
            hvlog_sim_log(sim, 1, GLOBAL, 1, 0x4101, 9, &payload, 8);
            assert_true(root_take_message(sim, 0, &m));
            assert_int_equal(m.index, st.active_index);
        }
    }
    hvlog_sim_destroy(sim);
}

/* Prepare with a failure at allocation k, unwind like a root would, and
 * find the pool whole: the sim's accounting matches the engine's. */
static void a_failure_at_every_allocation_leaves_the_pool_whole(void **state)
{
    (void)state;

    for (uint32_t k = 1; k <= 7; k++) {
        struct hvlog_sim *sim = make_sim();
        struct sim_root r;
        uint32_t created = 0;
        bool init_ok;

        root_attach(&r, sim);
        hvlog_sim_fail_after(sim, HVLOG_SIM_FAULT_ALLOC, k);
        init_ok = root_init(&r, LOCAL, 6, 3, 2, 0) == HV_STATUS_SUCCESS;
        for (uint32_t i = 0; init_ok && i < 6; i++) {
            if (root_create(&r, LOCAL, i, 0, 0) != HV_STATUS_SUCCESS)
                break;
            created++;
        }
        /* Allocation 1 is Initialize's page, 2.. the buffers'. */
        assert_int_equal(init_ok, k != 1);
        assert_int_equal(created, init_ok ? k - 2 : 0);
        for (uint32_t i = 0; i < created; i++)
            assert_int_equal(root_fast(&r, HvCallHvDeleteEventLogBuffer, LOCAL, i, 0), 0);
        if (init_ok)
            assert_int_equal(root_fast(&r, HvCallHvFinalizeEventLogBufferGroup, LOCAL, 0, 0), 0);
        assert_int_equal(hvlog_sim_pool_free(sim, 0), 32);
        hvlog_sim_destroy(sim);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_kth_allocation_fails_once),
        cmocka_unit_test(the_kth_overlay_mapping_fails_and_leaves_the_buffer_standby),
        cmocka_unit_test(the_kth_post_is_refused_and_retried),
        cmocka_unit_test(a_failure_at_every_allocation_leaves_the_pool_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
