/* SPDX-License-Identifier: MIT */
/*
 * End to end on the simulated host: LP threads run child workloads flat out
 * while the root (this thread) takes notifications from its SIM pages,
 * walks each Ready list through its read-only view, checks every entry,
 * releases, and flushes buffers of running LPs. Afterwards, per LP:
 *
 *     local entries read + sum(EventsLost) + lost still pending == logged
 *
 * and machine-wide for the global type; inside each LP's stream, Context
 * steps by one except across a buffer boundary, where it jumps by exactly
 * that buffer's EventsLost; payloads follow the catalogue and the extra
 * byte pattern. Then the conclude procedure (§9) returns every pool page.
 * Invariants, not timings. Seed: HVLOG_SIM_SEED, printed first.
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim_root.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define GLOBAL HvEventLogTypeGlobalSystemEvents
#define LPS 2u
#define DOMAINS 2u
#define POOL 128u
#define LOCAL_BUFFERS 12u
#define GLOBAL_BUFFERS 4u
#define EVENTS_PER_LP 20000u

struct e2e {
    struct sim_root r;
    uint64_t seed;
    uint64_t read[LPS], lost_seen[LPS];
    uint64_t expect_context[LPS];    /* next local Context per LP, lost events included */
    uint64_t global_read, global_lost_seen;
    uint64_t buffers, failures;
};

static void report(struct e2e *t, const char *what, uint32_t index)
{
    if (t->failures++ < 10)
        fprintf(stderr, "sim e2e (seed 0x%llx): %s (buffer %u)\n", (unsigned long long)t->seed,
                what, index);
}

static void on_buffer(void *ctx, uint32_t type, const struct hv_eventlog_buffer_header *h)
{
    struct e2e *t = ctx;

    t->buffers++;
    if (type == GLOBAL) {
        t->global_lost_seen += h->events_lost;
        return;
    }
    if (h->logical_processor >= LPS) {
        report(t, "local buffer of no LP", h->buffer_index);
        return;
    }
    /* §7.4: the events lost since this LP's previous buffer completed. */
    t->lost_seen[h->logical_processor] += h->events_lost;
    t->expect_context[h->logical_processor] += h->events_lost;
}

/* The workload's payload: one u64 per parameter, then the extra bytes. */
static bool payload_ok(uint32_t type, const struct hv_eventlog_entry_header *e, const uint8_t *data,
                       uint32_t lp)
{
    const struct hvlog_entry_type_info *row = hvlog_entry_type_info(type, e->type);
    uint32_t len = e->size - HV_EVENTLOG_ENTRY_HEADER_SIZE, params = 0, k = 0;
    const char *name;

    if (!row || (type == GLOBAL) != (e->type == HV_EVENTLOG_PARTITION_CREATED ||
                                     e->type == HV_EVENTLOG_PARTITION_DELETED))
        return false;
    for (name = row->params; *name; params++) {
        if (8 * (params + 1) > len)
            return false;
        if (strncmp(name, "thread_id", 9) == 0 && type == LOCAL &&
            hvlog_load_le64(data + 8 * params) != lp)
            return false;
        name += strcspn(name, ",");
        name += *name == ',';
    }
    for (uint32_t i = 8 * params; i < len && data[i]; i++, k++) {
        if (data[i] != hvlog_sim_extra_byte(e->context, k))
            return false;
    }
    /* Then zero padding to the 8-byte Size. */
    return e->size == ((HV_EVENTLOG_ENTRY_HEADER_SIZE + 8 * params + k + 7) & ~7u);
}

static void on_entry(void *ctx, uint32_t type, const struct hv_eventlog_buffer_header *h,
                     const struct hv_eventlog_entry_header *e, const uint8_t *data)
{
    struct e2e *t = ctx;
    uint32_t lp = h->logical_processor;

    if (type == GLOBAL) {
        t->global_read++;
        if (!payload_ok(type, e, data, 0))
            report(t, "global payload broken", h->buffer_index);
        return;
    }
    if (lp >= LPS)
        return;
    if (e->context != (uint32_t)t->expect_context[lp])
        report(t, "Context does not step by one plus EventsLost", h->buffer_index);
    t->expect_context[lp] = (uint64_t)e->context + 1;
    t->read[lp]++;
    if (!payload_ok(type, e, data, lp))
        report(t, "local payload broken", h->buffer_index);
}

/* Flush what the root sees InUse or Complete: lists below the threshold
 * are notified too (§5.9). */
static void flush_active(struct sim_root *r, uint32_t type, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        uint32_t s = root_state(r, type, i);
        if (s == HvEventLogBufferStateInUse || s == HvEventLogBufferStateComplete)
            assert_int_equal(root_fast(r, HvCallHvFlushEventLogBuffer, type, i, 0), 0);
    }
}

static bool all_free(struct sim_root *r)
{
    for (uint32_t i = 0; i < LOCAL_BUFFERS; i++) {
        if (root_state(r, LOCAL, i) != HvEventLogBufferStateFree)
            return false;
    }
    for (uint32_t i = 0; i < GLOBAL_BUFFERS; i++) {
        if (root_state(r, GLOBAL, i) != HvEventLogBufferStateFree)
            return false;
    }
    return true;
}

static void run(uint64_t seed, uint32_t rate)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct hvlog_sim *sim = NULL;
    struct e2e *t = calloc(1, sizeof(*t));
    struct root_reader reader = {.on_buffer = on_buffer, .on_entry = on_entry, .ctx = t};
    struct hvlog_sim_workload w = {
        .events_per_lp = EVENTS_PER_LP, .rate_per_lp = rate, .payload_min = 0, .payload_max = 48,
        .global_per_mille = 20};
    uint64_t messages = 0, flushes = 0, global_logged = 0, global_lost = 0;
    uint32_t round = 0;
    char why[128];

    fprintf(stderr, "sim e2e: seed 0x%llx, %u events/s per LP (0: flat out)\n",
            (unsigned long long)seed, rate);
    assert_non_null(t);
    t->seed = seed;
    c.lps = LPS;
    c.domains = DOMAINS;
    c.pool_pages = POOL;
    c.children = 2;
    c.seed = seed;
    assert_int_equal(hvlog_sim_create(&c, &sim), 0);
    root_attach(&t->r, sim);

    /* The root driver starts: SynIC on every VP, then §9 prepare. */
    for (uint32_t vp = 0; vp < LPS; vp++)
        assert_int_not_equal(hvlog_sim_synic_enable(sim, vp, 0x40 + vp), 0);
    root_prepare(&t->r, LOCAL, LOCAL_BUFFERS, 1, 2);
    root_prepare(&t->r, GLOBAL, GLOBAL_BUFFERS, 1, 1);
    assert_int_equal(root_sources(&t->r, LOCAL, ~0ull), 0);
    assert_int_equal(root_sources(&t->r, GLOBAL, ~0ull), 0);

    assert_int_equal(hvlog_sim_start(sim, &w), 0);
    while (hvlog_sim_running(sim)) {
        uint32_t n = root_drain(&t->r, &reader);

        messages += n;
        /* Now and then, take a running LP's buffer away (run_on_lp). */
        if (++round % 1024 == 0) {
            uint32_t i = (round / 1024) % LOCAL_BUFFERS;
            if (root_state(&t->r, LOCAL, i) == HvEventLogBufferStateInUse) {
                assert_int_equal(root_fast(&t->r, HvCallHvFlushEventLogBuffer, LOCAL, i, 0), 0);
                flushes++;
            }
        }
        if (!n)
            sched_yield();
    }
    hvlog_sim_stop(sim);

    /* §9 conclude: disable, flush, drain until every buffer is Free. */
    assert_int_equal(root_sources(&t->r, LOCAL, 0), 0);
    assert_int_equal(root_sources(&t->r, GLOBAL, 0), 0);
    for (uint32_t pass = 0; pass < 64 && !all_free(&t->r); pass++) {
        flush_active(&t->r, LOCAL, LOCAL_BUFFERS);
        flush_active(&t->r, GLOBAL, GLOBAL_BUFFERS);
        while (root_drain(&t->r, &reader))
            messages++;
    }
    assert_true(all_free(&t->r));

    for (uint32_t lp = 0; lp < LPS; lp++) {
        struct hvlog_sim_lp_counts n;
        struct hvlog_scope_stats st;

        hvlog_sim_lp_counts(sim, lp, &n);
        assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(sim), LOCAL, lp, &st), 0);
        fprintf(stderr, "sim e2e: LP %u: logged %llu local, %llu global; read %llu; EventsLost %llu; "
                "pending %u\n", lp, (unsigned long long)n.logged[LOCAL],
                (unsigned long long)n.logged[GLOBAL], (unsigned long long)t->read[lp],
                (unsigned long long)t->lost_seen[lp], st.lost_pending);
        assert_int_equal(n.logged[LOCAL] + n.logged[GLOBAL] + n.dropped[LOCAL] + n.dropped[GLOBAL],
                         EVENTS_PER_LP);
        assert_int_equal(n.dropped[LOCAL] + n.dropped[GLOBAL], 0);
        assert_int_equal(t->read[lp] + t->lost_seen[lp] + st.lost_pending, n.logged[LOCAL]);
        assert_int_equal(t->read[lp], n.recorded[LOCAL]);
        assert_int_equal(t->expect_context[lp] + st.lost_pending, n.logged[LOCAL]);
        global_logged += n.logged[GLOBAL];
        global_lost += n.lost[GLOBAL];
    }
    {
        struct hvlog_scope_stats st;
        assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(sim), GLOBAL, 0, &st), 0);
        assert_int_equal(t->global_read + t->global_lost_seen + st.lost_pending, global_logged);
        assert_int_equal(t->global_lost_seen + st.lost_pending, global_lost);
    }
    fprintf(stderr, "sim e2e: %llu messages, %llu buffers read, %llu flushes of running LPs, "
            "%llu global entries\n", (unsigned long long)messages, (unsigned long long)t->buffers,
            (unsigned long long)flushes, (unsigned long long)t->global_read);
    assert_true(t->read[0] + t->read[1] > 0);
    assert_int_equal(t->failures, 0);
    assert_int_equal(hvlog_engine_check(hvlog_sim_engine(sim), why, sizeof why), 0);

    /* Unmap, delete, finalize: every pool page comes back. */
    for (uint32_t i = 0; i < LOCAL_BUFFERS; i++) {
        assert_int_equal(root_unmap(&t->r, LOCAL, i), 0);
        assert_int_equal(root_fast(&t->r, HvCallHvDeleteEventLogBuffer, LOCAL, i, 0), 0);
    }
    for (uint32_t i = 0; i < GLOBAL_BUFFERS; i++) {
        assert_int_equal(root_unmap(&t->r, GLOBAL, i), 0);
        assert_int_equal(root_fast(&t->r, HvCallHvDeleteEventLogBuffer, GLOBAL, i, 0), 0);
    }
    assert_int_equal(root_fast(&t->r, HvCallHvFinalizeEventLogBufferGroup, LOCAL, 0, 0), 0);
    assert_int_equal(root_fast(&t->r, HvCallHvFinalizeEventLogBufferGroup, GLOBAL, 0, 0), 0);
    for (uint32_t d = 0; d < DOMAINS; d++)
        assert_int_equal(hvlog_sim_pool_free(sim, d), POOL);
    assert_int_equal(hvlog_sim_intercepts(sim), 0);
    hvlog_sim_destroy(sim);
    free(t);
}

static void lp_threads_and_a_root_on_synic_conserve_every_event(void **state)
{
    uint64_t seed = root_seed(0x51A1);
    (void)state;

    /* Flat out, the root falls behind and loss dominates; paced, the root
     * keeps up, flushes running LPs and sees MessagePending under load. */
    run(seed, 0);
    run(seed + 1, 50000);
    run(seed + 2, 20000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lp_threads_and_a_root_on_synic_conserve_every_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
