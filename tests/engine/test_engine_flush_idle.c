/* SPDX-License-Identifier: MIT */
/*
 * The idle Flush (issue 15): a Flush that finds nothing to do (spec §5.9
 * step 3: the named buffer is Standby, Free or Ready) is answered without
 * the group lock, from the per-buffer flush view (hvlog__flush_is_noop,
 * src/engine/engine_internal.h), by the dispatcher for the fast form and by
 * the handler for the memory form. These tests pin what that shortcut must
 * not change:
 *  - both forms answer every state, and every error, alike, with the
 *    status and effect of §5.9 / §6.2;
 *  - under the knobs flush_index = vp and flush_scope = type the named
 *    buffer's state does not decide (D1, D18): a Free buffer's index still
 *    flushes;
 *  - while an LP logs, a root that reads BufferState InUse or Complete
 *    (acquire, §6.3) never finds the view saying "nothing to flush": the
 *    stop path's "flush every buffer seen InUse" ([MAR-TRACE]) skips none.
 * hvlog_engine_check() (check.c) verifies the view against every buffer's
 * state after each test.
 *
 * The suite runs under both ABI profiles (tests/engine/CMakeLists.txt).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "engine/engine_internal.h"
#include "engine_test_util.h"
#include "fake_host.h"

enum { STANDBY = HvEventLogBufferStateStandby, FREE = HvEventLogBufferStateFree,
       INUSE = HvEventLogBufferStateInUse, COMPLETE = HvEventLogBufferStateComplete,
       READY = HvEventLogBufferStateReady };

static struct fake_host host;
static struct fake_snapshot snap_before, snap_mid, snap_after;

static void assert_engine_ok(struct fake_host *h)
{
    char why[256];

    if (hvlog_engine_check(h->engine, why, sizeof why) != 0)
        fail_msg("hvlog_engine_check: %s", why);
}

/* Flush in the memory form (§3.4): Type and BufferIndex at the input GPA. */
static hv_status_t flush_memory(struct fake_host *h, uint32_t type, uint32_t index)
{
    uint8_t in[8];

    hvlog_store_le32(in, type);
    hvlog_store_le32(in + 4, index);
    return fake_mem(h, HvCallHvFlushEventLogBuffer, in, sizeof in);
}

static uint32_t log_small(struct fake_host *h, uint32_t lp, uint32_t type, uint32_t seq)
{
    assert_int_equal(fake_log(h, lp, type, 8, seq), HVLOG_LOG_RECORDED);
    return active(h, type, lp);
}

/* ---- both forms alike ------------------------------------------------------------ */

static void both_forms_answer_no_ops_and_errors_alike_and_change_nothing(void **state)
{
    struct flush_case {
        uint32_t type, index;
        hv_status_t status;
    } cases[9];
    uint32_t ready, complete, in_use, n = 0;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 8, FAKE_ALL_SOURCES);
    ready = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_flush(&host, LOCAL, ready), HV_STATUS_SUCCESS);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    complete = fill_one(&host, 0, LOCAL);
    in_use = log_small(&host, 1, LOCAL, 1);
    assert_int_equal(fake_unmap(&host, LOCAL, 7), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, ready), READY);
    assert_int_equal(fake_state(&host, LOCAL, complete), COMPLETE);
    assert_int_equal(fake_state(&host, LOCAL, in_use), INUSE);
    assert_int_equal(fake_state(&host, LOCAL, 6), FREE);
    assert_int_equal(fake_state(&host, LOCAL, 7), STANDBY);

    cases[n++] = (struct flush_case){LOCAL, ready, HV_STATUS_SUCCESS};
    cases[n++] = (struct flush_case){LOCAL, 6, HV_STATUS_SUCCESS};
    cases[n++] = (struct flush_case){LOCAL, 7, HV_STATUS_SUCCESS};
    cases[n++] = (struct flush_case){LOCAL, 8, HV_STATUS_INVALID_PARAMETER};   /* >= Max */
    cases[n++] = (struct flush_case){LOCAL, 512, HV_STATUS_INVALID_PARAMETER}; /* past the view */
    cases[n++] = (struct flush_case){LOCAL, NONE_IDX, HV_STATUS_INVALID_PARAMETER};
    cases[n++] = (struct flush_case){GLOBAL, 0, HV_STATUS_OPERATION_DENIED};   /* not initialized */
    cases[n++] = (struct flush_case){HVLOG_TYPE_COUNT + 5, 0, HV_STATUS_INVALID_PARAMETER};
    for (uint32_t k = 0; k < n; k++) {
        uint32_t posts = host.posts;

        fake_snapshot(&host, &snap_before);
        assert_int_equal(fake_flush(&host, cases[k].type, cases[k].index), cases[k].status);
        fake_snapshot(&host, &snap_mid);
        assert_int_equal(flush_memory(&host, cases[k].type, cases[k].index), cases[k].status);
        fake_snapshot(&host, &snap_after);
        assert_int_equal(fake_snapshot_diff(&snap_before, &snap_mid), 0);
        assert_int_equal(fake_snapshot_diff(&snap_mid, &snap_after), 0);
        assert_int_equal(host.posts, posts);
    }
    assert_engine_ok(&host);

    /* The two that are not no-ops, in the memory form: Complete -> its list
     * Ready (§5.9 step 2), InUse -> Complete -> Ready (steps 1, 2). */
    assert_int_equal(flush_memory(&host, LOCAL, complete), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, complete), READY);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    assert_int_equal(flush_memory(&host, LOCAL, in_use), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, in_use), READY);
    assert_int_equal(active(&host, LOCAL, 1), NONE_IDX);
    assert_true(fake_take_message(&host, 1, NULL, NULL));
    assert_engine_ok(&host);
    /* Released, the buffers are no-ops again: the view follows T10. */
    assert_int_equal(fake_release(&host, LOCAL, in_use), HV_STATUS_SUCCESS);
    fake_snapshot(&host, &snap_before);
    assert_int_equal(flush_memory(&host, LOCAL, in_use), HV_STATUS_SUCCESS);
    assert_int_equal(fake_flush(&host, LOCAL, in_use), HV_STATUS_SUCCESS);
    fake_snapshot(&host, &snap_after);
    assert_int_equal(fake_snapshot_diff(&snap_before, &snap_after), 0);
    assert_engine_ok(&host);
    fake_host_fini(&host);
}

static void a_buffer_taken_again_after_release_is_flushed_again(void **state)
{
    uint32_t first, second, again;
    (void)state;

    /* Two buffers, a FIFO free list (DEC-SELECT): after both are released
     * the LP takes the first again (T10, then T5): its view must follow. */
    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 2, 1, 2, FAKE_ALL_SOURCES);
    first = log_small(&host, 0, LOCAL, 0);
    assert_int_equal(fake_flush(&host, LOCAL, first), HV_STATUS_SUCCESS);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    assert_int_equal(fake_release(&host, LOCAL, first), HV_STATUS_SUCCESS);
    assert_int_equal(fake_flush(&host, LOCAL, first), HV_STATUS_SUCCESS); /* Free: no-op */
    assert_int_equal(fake_state(&host, LOCAL, first), FREE);
    second = log_small(&host, 0, LOCAL, 1);
    assert_int_not_equal(second, first);
    assert_int_equal(fake_flush(&host, LOCAL, second), HV_STATUS_SUCCESS);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    assert_int_equal(fake_release(&host, LOCAL, second), HV_STATUS_SUCCESS);
    again = log_small(&host, 0, LOCAL, 2);
    assert_int_equal(again, first);
    assert_int_equal(fake_flush(&host, LOCAL, first), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, first), READY);
    assert_engine_ok(&host);
    fake_host_fini(&host);
}

/* ---- the knobs: the named buffer's state does not decide -------------------------- */

static void knob_flush_index_vp_flushes_even_when_the_vp_number_is_a_free_buffers_index(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    uint32_t x1;
    (void)state;

    p.flush_index = HVLOG_FLUSH_INDEX_VP;
    assert_int_equal(fake_host_init(&host, 2, 1, 4096, &p), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 8, FAKE_ALL_SOURCES);
    x1 = log_small(&host, 1, LOCAL, 0);
    assert_int_equal(x1, 0);
    assert_int_equal(fake_state(&host, LOCAL, 1), FREE);
    /* D1: field 1 names VP 1, whose LP holds buffer 0 - not Free buffer 1. */
    assert_int_equal(fake_flush(&host, LOCAL, 1), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, x1), READY);
    assert_true(fake_take_message(&host, 1, NULL, NULL));
    assert_engine_ok(&host);
    fake_host_fini(&host);
}

static void knob_flush_scope_type_flushes_through_a_free_buffers_index_in_both_forms(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    uint32_t x0, x1;
    (void)state;

    p.flush_scope = HVLOG_FLUSH_SCOPE_TYPE;
    assert_int_equal(fake_host_init(&host, 1, 1, 4096, &p), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 8, FAKE_ALL_SOURCES);
    x0 = log_small(&host, 0, LOCAL, 0);
    assert_int_equal(fake_state(&host, LOCAL, 5), FREE);
    assert_int_equal(fake_flush(&host, LOCAL, 5), HV_STATUS_SUCCESS); /* D18 */
    assert_int_equal(fake_state(&host, LOCAL, x0), READY);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    x1 = log_small(&host, 0, LOCAL, 1);
    assert_int_equal(flush_memory(&host, LOCAL, 5), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, x1), READY);
    assert_engine_ok(&host);
    fake_host_fini(&host);
}

/* ---- racing the logging path ----------------------------------------------------- */

#define RACE_BUFFERS 8u
#define RACE_EVENTS 600u /* 24-byte entries: under 4 one-page buffers, never Threshold 8 */
#define RACE_ROUNDS 40u

struct race {
    struct fake_host *h;
    int done;           /* atomic: the logger finished */
    unsigned logged;
};

static void *race_logger(void *arg)
{
    struct race *r = arg;

    for (uint32_t seq = 0; seq < RACE_EVENTS; seq++)
        r->logged += fake_log(r->h, 0, LOCAL, 8, seq) == HVLOG_LOG_RECORDED;
    __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

static void a_root_that_sees_in_use_or_complete_never_gets_the_no_op(void **state)
{
    unsigned wrong = 0, seen_busy = 0;
    (void)state;

    /* No root call runs while the LP logs (the fake host has no run_on_lp
     * mailbox; test_engine_stress races real Flushes): the root only reads
     * BufferState as §6.3 has it (acquire) and asks the view. The LP moves
     * buffers Free -> InUse -> Complete only (Threshold is never reached),
     * so a buffer seen InUse or Complete stays out of the no-op states
     * until the round ends. */
    for (uint32_t round = 0; round < RACE_ROUNDS; round++) {
        struct race r = {.h = &host};
        pthread_t t;
        int done;

        assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
        fake_setup_group(&host, LOCAL, RACE_BUFFERS, 1, RACE_BUFFERS, FAKE_ALL_SOURCES);
        assert_int_equal(pthread_create(&t, NULL, race_logger, &r), 0);
        do {
            done = __atomic_load_n(&r.done, __ATOMIC_ACQUIRE);
            for (uint32_t i = 0; i < RACE_BUFFERS; i++) {
                const uint8_t *hdr = host.engine->groups[LOCAL].buffers[i].pages.hva;
                uint32_t s = __atomic_load_n((const uint32_t *)(hdr + HVLOG_HDR_BUFFER_STATE),
                                             __ATOMIC_ACQUIRE);

                if (s == INUSE || s == COMPLETE) {
                    seen_busy++;
                    wrong += hvlog__flush_is_noop(host.engine, LOCAL, i);
                } else {
                    /* Free: the view may say either (a take may be under way). */
                    (void)hvlog__flush_is_noop(host.engine, LOCAL, i);
                }
            }
        } while (!done);
        assert_int_equal(pthread_join(t, NULL), 0);
        assert_int_equal(r.logged, RACE_EVENTS);
        assert_engine_ok(&host);
        fake_host_fini(&host);
    }
    assert_int_equal(wrong, 0);
    assert_true(seen_busy > 0); /* the last look of each round sees the final InUse buffer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(both_forms_answer_no_ops_and_errors_alike_and_change_nothing),
        cmocka_unit_test(a_buffer_taken_again_after_release_is_flushed_again),
        cmocka_unit_test(knob_flush_index_vp_flushes_even_when_the_vp_number_is_a_free_buffers_index),
        cmocka_unit_test(knob_flush_scope_type_flushes_through_a_free_buffers_index_in_both_forms),
        cmocka_unit_test(a_root_that_sees_in_use_or_complete_never_gets_the_no_op),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
