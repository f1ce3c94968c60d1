/* SPDX-License-Identifier: MIT */
/*
 * What a hypervisor embedding the engine relies on (docs/embedding.md):
 * memory it gives the engine itself (hvlog_engine_size + hvlog_engine_init),
 * the size fields that version the configuration structs, and the
 * HVLOG_BUG_ON policy - warn once, mark the group broken, stop recording
 * into it, count it - instead of an assert.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/engine_internal.h"
#include "engine_test_util.h"
#include "fake_host.h"

static struct fake_host host;

static struct hvlog_engine_config config_of(const struct fake_host *h, uint32_t lps)
{
    return (struct hvlog_engine_config){
        .size = sizeof(struct hvlog_engine_config),
        .lp_count = lps,
        .root_vp_count = lps,
        .root_partition_id = FAKE_ROOT_ID,
        .profile = fake_profile_default(),
        .ops = &h->ops,
        .ctx = (void *)h,
    };
}

/* The host's own memory: no mem_alloc, the engine lives where it is put. */
static void an_engine_in_memory_of_the_hosts_own_works_without_an_allocation_hook(void **state)
{
    struct hvlog_engine_config cfg;
    struct hvlog_engine *e = NULL, *saved;
    size_t bytes;
    void *memory;
    (void)state;

    assert_int_equal(fake_host_init(&host, 4, 1, 4096, NULL), 0);
    saved = host.engine;
    host.ops.mem_alloc = NULL;
    host.ops.mem_free = NULL;
    cfg = config_of(&host, 4);
    assert_int_equal(hvlog_engine_create(&cfg, &e), -1); /* no hook: create is refused */
    bytes = hvlog_engine_size(&cfg);
    assert_true(bytes >= sizeof(struct hvlog_engine));
    memory = aligned_alloc(HVLOG_ENGINE_ALIGN, bytes);
    assert_non_null(memory);
    memset(memory, 0xA5, bytes); /* init must not rely on zeroed memory */
    assert_int_equal(hvlog_engine_init(&cfg, memory, bytes - 1, &e), -1);         /* too small */
    assert_int_equal(hvlog_engine_init(&cfg, (char *)memory + 8, bytes, &e), -1); /* misaligned */
    assert_int_equal(hvlog_engine_init(&cfg, memory, bytes, &e), 0);
    assert_ptr_equal(e, memory);

    /* The engine works: a group, an event, a message. */
    host.engine = e;
    host.logger = hvlog_engine_logger(e);
    fake_setup_group(&host, LOCAL, 2, 1, 1, FAKE_ALL_SOURCES);
    (void)fill_one(&host, 1, LOCAL);
    assert_true(fake_take_message(&host, 1, NULL, NULL));
    {
        char why[160];
        assert_int_equal(hvlog_engine_check(e, why, sizeof why), 0);
    }
    /* Destroy gives the buffers back; the memory is the host's again. */
    hvlog_engine_destroy(e);
    assert_int_equal(fake_pool_used(&host), 0);
    free(memory);
    host.engine = saved;
    host.logger = hvlog_engine_logger(saved);
    fake_host_fini(&host);
}

/* A struct of another version is refused rather than misread. */
static void a_config_or_ops_of_another_size_is_refused(void **state)
{
    struct hvlog_engine_config cfg;
    struct hvlog_engine *e = NULL;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 64, NULL), 0);
    cfg = config_of(&host, 2);
    assert_int_not_equal(hvlog_engine_size(&cfg), 0);
    cfg.size = sizeof(cfg) - 8;
    assert_int_equal(hvlog_engine_size(&cfg), 0);
    assert_int_equal(hvlog_engine_create(&cfg, &e), -1);
    cfg.size = 0;
    assert_int_equal(hvlog_engine_create(&cfg, &e), -1);
    cfg = config_of(&host, 2);
    host.ops.size = sizeof(host.ops) + 8;
    assert_int_equal(hvlog_engine_size(&cfg), 0);
    assert_int_equal(hvlog_engine_create(&cfg, &e), -1);
    host.ops.size = sizeof(host.ops);
    host.ops.mem_free = NULL; /* mem_alloc without mem_free */
    assert_int_equal(hvlog_engine_create(&cfg, &e), -1);
    assert_null(e);
    fake_host_fini(&host);
}

/*
 * An engine bug (here provoked: a transition the state machine does not
 * have) warns once, marks the group broken and stops recording into it; the
 * group refuses to be enabled again; every hit is counted; other groups are
 * untouched. Nothing aborts.
 */
static void an_engine_bug_warns_once_breaks_the_group_stops_recording_and_counts(void **state)
{
    struct hvlog_group *g;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 2, 1, 2, FAKE_ALL_SOURCES);
    fake_setup_group(&host, GLOBAL, 2, 1, 2, FAKE_ALL_SOURCES);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 1), HVLOG_LOG_RECORDED);
    g = &host.engine->groups[LOCAL];

    hvlog__spin_lock(host.engine, &g->lock);
    hvlog__buffer_transition(g, 1, T8_THRESHOLD); /* Free -> Ready: no such transition */
    hvlog__spin_unlock(&g->lock);
    assert_int_equal(host.warnings, 1);
    assert_int_equal(host.last_warning_type, LOCAL);
    assert_non_null(host.last_warning);
    assert_true(group(&host, LOCAL).broken);
    assert_int_equal(group(&host, LOCAL).bugs, 1);
    assert_int_equal(group(&host, LOCAL).source_mask, 0);
    assert_int_equal(fake_state(&host, LOCAL, 1), HvEventLogBufferStateFree); /* left alone */
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 2), HVLOG_LOG_DROPPED);    /* stopped */
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_OPERATION_DENIED);

    hvlog__spin_lock(host.engine, &g->lock);
    hvlog__buffer_transition(g, 1, T8_THRESHOLD);
    hvlog__spin_unlock(&g->lock);
    assert_int_equal(host.warnings, 1); /* once */
    assert_int_equal(group(&host, LOCAL).bugs, 2);

    /* The other group records on. */
    assert_false(group(&host, GLOBAL).broken);
    assert_int_equal(fake_log(&host, 0, GLOBAL, 8, 3), HVLOG_LOG_RECORDED);
    /* The broken group can still be taken down: sources off is allowed. */
    assert_int_equal(fake_sources(&host, LOCAL, 0), HV_STATUS_SUCCESS);
    fake_host_fini(&host);
}

/* ---- the nesting guard (log.h) ------------------------------------------------------ */

static uint32_t interrupt_type, interrupt_lp;

/* An interrupt handler that logs: lands inside hvlog_log() (the clock read). */
static void interrupt_logs(struct fake_host *h)
{
    h->nested_result = fake_log(h, interrupt_lp, interrupt_type, 8, 99);
}

static uint32_t entries_in(struct fake_host *h, uint32_t type, uint32_t index)
{
    return fake_data_bytes(h, &(struct hv_eventlog_buffer_header){
                                  .next_buffer_offset =
                                      fake_header(h, type, index).next_buffer_offset}) /
           24u; /* every entry here has an 8-byte payload */
}

/*
 * A log call that interrupts another of the same type on the same LP is
 * lost by a cause of its own, counted, and reported in EventsLost of the
 * scope's next buffer; the interrupted call is recorded whole. With the
 * hot path (local type, room in the buffer) and with the slow path (the
 * call that takes a buffer), for a local and for a global type - where,
 * without the guard, the interrupt would spin forever on the global
 * scope's lock its own LP holds.
 */
static void a_log_call_that_interrupts_another_on_its_lp_is_lost_and_counted(void **state)
{
    static const uint32_t types[] = {LOCAL, GLOBAL};
    (void)state;

    for (size_t k = 0; k < 2; k++) {
        uint32_t type = types[k], first, next;

        assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
        fake_setup_group(&host, type, 4, 1, 4, FAKE_ALL_SOURCES);
        interrupt_type = type;
        interrupt_lp = 1;

        /* Slow path (no buffer yet: the call takes one, under locks). */
        host.on_clock = interrupt_logs;
        assert_int_equal(fake_log(&host, 1, type, 8, 1), HVLOG_LOG_RECORDED);
        assert_int_equal(host.nested_result, HVLOG_LOG_LOST);
        /* Hot path (room in the buffer; for the global type, its fast case). */
        host.on_clock = interrupt_logs;
        assert_int_equal(fake_log(&host, 1, type, 8, 2), HVLOG_LOG_RECORDED);
        assert_int_equal(host.nested_result, HVLOG_LOG_LOST);
        assert_int_equal(stats(&host, type, scope_of(type, 1)).events_lost_nested, 2);
        assert_int_equal(stats(&host, type, scope_of(type, 1)).events_lost_no_buffer, 0);

        /* The interrupted calls are whole: two entries, EventsLost 0. */
        first = active(&host, type, 1);
        assert_int_not_equal(first, NONE_IDX);
        assert_int_equal(entries_in(&host, type, first), 2);
        assert_int_equal(fake_header(&host, type, first).events_lost, 0);
        /* Another LP, and the same LP outside an interrupt, log as usual. */
        if (type == LOCAL)
            assert_int_equal(fake_log(&host, 0, type, 8, 3), HVLOG_LOG_RECORDED);
        assert_int_equal(fake_flush(&host, type, first), HV_STATUS_SUCCESS);
        assert_int_equal(fake_log(&host, 1, type, 8, 4), HVLOG_LOG_RECORDED);
        next = active(&host, type, 1);
        assert_int_not_equal(next, first);
        /* §7.4: the two nested losses go into EventsLost of the next buffer. */
        assert_int_equal(fake_header(&host, type, next).events_lost, 2);
        {
            char why[160];
            assert_int_equal(hvlog_engine_check(host.engine, why, sizeof why), 0);
        }
        fake_host_fini(&host);
    }
}

/*
 * A global type's nested losses on different LPs all belong to its one
 * scope: counted once each, put into EventsLost of its next buffer
 * together, and never again into a later one (the take reads one counter,
 * not every LP's).
 */
static void nested_losses_of_a_global_type_on_several_lps_go_into_one_events_lost_once(void **state)
{
    uint32_t first, second, third;
    (void)state;

    assert_int_equal(fake_host_init(&host, 3, 1, 4096, NULL), 0);
    fake_setup_group(&host, GLOBAL, 4, 1, 4, FAKE_ALL_SOURCES);
    interrupt_type = GLOBAL;
    for (uint32_t lp = 0; lp < 3; lp++) {
        interrupt_lp = lp;
        host.on_clock = interrupt_logs;
        assert_int_equal(fake_log(&host, lp, GLOBAL, 8, lp), HVLOG_LOG_RECORDED);
        assert_int_equal(host.nested_result, HVLOG_LOG_LOST);
    }
    assert_int_equal(stats(&host, GLOBAL, 0).events_lost_nested, 3);
    first = active(&host, GLOBAL, 0);
    assert_int_equal(fake_header(&host, GLOBAL, first).events_lost, 0);
    assert_int_equal(fake_flush(&host, GLOBAL, first), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 2, GLOBAL, 8, 10), HVLOG_LOG_RECORDED);
    second = active(&host, GLOBAL, 2);
    assert_int_not_equal(second, first);
    assert_int_equal(fake_header(&host, GLOBAL, second).events_lost, 3);
    assert_int_equal(fake_flush(&host, GLOBAL, second), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 0, GLOBAL, 8, 11), HVLOG_LOG_RECORDED);
    third = active(&host, GLOBAL, 0);
    assert_int_not_equal(third, second);
    assert_int_equal(fake_header(&host, GLOBAL, third).events_lost, 0);
    assert_int_equal(stats(&host, GLOBAL, 0).events_lost_nested, 3);
    {
        char why[160];
        assert_int_equal(hvlog_engine_check(host.engine, why, sizeof why), 0);
    }
    fake_host_fini(&host);
}

/* The guard is per type: an interrupt that logs another type is recorded. */
static void an_interrupt_that_logs_another_type_on_the_same_lp_is_recorded(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES);
    fake_setup_group(&host, GLOBAL, 4, 1, 4, FAKE_ALL_SOURCES);
    interrupt_type = GLOBAL;
    interrupt_lp = 0;
    host.on_clock = interrupt_logs;
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 1), HVLOG_LOG_RECORDED);
    assert_int_equal(host.nested_result, HVLOG_LOG_RECORDED);
    assert_int_equal(stats(&host, LOCAL, 0).events_lost_nested, 0);
    assert_int_equal(stats(&host, GLOBAL, 0).events_lost_nested, 0);
    assert_int_equal(entries_in(&host, GLOBAL, active(&host, GLOBAL, 0)), 1);
    fake_host_fini(&host);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(an_engine_in_memory_of_the_hosts_own_works_without_an_allocation_hook),
        cmocka_unit_test(a_config_or_ops_of_another_size_is_refused),
        cmocka_unit_test(an_engine_bug_warns_once_breaks_the_group_stops_recording_and_counts),
        cmocka_unit_test(a_log_call_that_interrupts_another_on_its_lp_is_lost_and_counted),
        cmocka_unit_test(nested_losses_of_a_global_type_on_several_lps_go_into_one_events_lost_once),
        cmocka_unit_test(an_interrupt_that_logs_another_type_on_the_same_lp_is_recorded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
