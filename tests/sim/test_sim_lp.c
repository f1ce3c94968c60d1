/* SPDX-License-Identifier: MIT */
/*
 * Logical processors (src/sim/lp.c, src/sim/workload.c): lock-step runs
 * reproduce byte for byte, workload entries follow the §4.8 catalogue,
 * per-LP counts, the run_on_lp mailbox with running workers (several LPs
 * each: issue 16), paced LPs, and what the LP API refuses.
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
#include <time.h>

#include "sim_root.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define GLOBAL HvEventLogTypeGlobalSystemEvents
#define VECTOR 0x40

static uint64_t tick(void *ctx)
{
    return ++*(uint64_t *)ctx;
}

static struct hvlog_sim *make_sim_threads(uint32_t lps, bool lockstep, uint64_t seed,
                                          uint64_t *clock, uint32_t threads)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct hvlog_sim *sim = NULL;

    c.lps = lps;
    c.threads = threads;
    c.domains = 2;
    c.pool_pages = 256;
    c.children = 3;
    c.seed = seed;
    c.lockstep = lockstep;
    if (clock) {
        c.clock = tick;
        c.clock_ctx = clock;
    }
    assert_int_equal(hvlog_sim_create(&c, &sim), 0);
    for (uint32_t vp = 0; vp < lps; vp++)
        assert_int_not_equal(hvlog_sim_synic_enable(sim, vp, VECTOR), 0);
    return sim;
}

static struct hvlog_sim *make_sim(uint32_t lps, bool lockstep, uint64_t seed, uint64_t *clock)
{
    return make_sim_threads(lps, lockstep, seed, clock, 0);
}

static void prepare(struct sim_root *r, uint32_t type, uint32_t count, uint32_t pages,
                    uint32_t threshold, uint32_t basis)
{
    assert_int_equal(root_init(r, type, count, pages, threshold, basis), 0);
    for (uint32_t i = 0; i < count; i++) {
        assert_int_equal(root_create(r, type, i, i % 2, HV_PROXIMITY_FLAG_VALID), 0);
        assert_int_equal(root_map(r, type, i), 0);
    }
    assert_int_equal(root_sources(r, type, ~0ull), 0);
}

/* Flush every buffer of @type the root sees InUse (§9 conclude, [MAR-TRACE]). */
static void flush_in_use(struct sim_root *r, uint32_t type, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (root_state(r, type, i) == HvEventLogBufferStateInUse)
            assert_int_equal(root_fast(r, HvCallHvFlushEventLogBuffer, type, i, 0), 0);
    }
}

/* ---- lock-step reproducibility ---- */

#define REPRO_LPS 3u
#define REPRO_LOCAL 8u
#define REPRO_GLOBAL 4u

struct repro {
    uint8_t bytes[(REPRO_LOCAL + REPRO_GLOBAL) * HV_PAGE_SIZE];
    uint32_t messages[256][3]; /* vp-ordered (type, first index, buffers) */
    uint32_t message_count;
    struct hvlog_sim_lp_counts counts[REPRO_LPS];
};

static void repro_run(uint64_t seed, struct repro *out)
{
    uint64_t clock = 0;
    struct hvlog_sim *sim = make_sim(REPRO_LPS, true, seed, &clock);
    struct sim_root r;
    struct hvlog_sim_workload w = {.payload_min = 0, .payload_max = 40, .global_per_mille = 100};

    memset(out, 0, sizeof(*out));
    root_attach(&r, sim);
    /* TSC basis too: with an injected clock it is the same clock. */
    prepare(&r, LOCAL, REPRO_LOCAL, 1, 2, HvEventLogEntryTimeTsc);
    prepare(&r, GLOBAL, REPRO_GLOBAL, 1, 1, HvEventLogEntryTimeReference);
    for (uint32_t round = 0; round < 6; round++) {
        for (uint32_t lp = 0; lp < REPRO_LPS; lp++)
            hvlog_sim_step(sim, lp, 150 + 11 * lp + round, &w);
        assert_int_equal(root_fast(&r, HvCallHvFlushEventLogBuffer, LOCAL, round % REPRO_LOCAL, 0), 0);
        /* A root that drains every other round: buffers run out, events are lost. */
        for (uint32_t vp = 0; round % 2 && vp < REPRO_LPS; vp++) {
            struct root_msg m;
            while (root_take_message(sim, vp, &m) && out->message_count < 256) {
                uint32_t *row = out->messages[out->message_count++];
                row[0] = m.type;
                row[1] = m.index;
                row[2] = root_consume_list(&r, m.type, m.index, NULL);
            }
        }
    }
    for (uint32_t i = 0; i < REPRO_LOCAL + REPRO_GLOBAL; i++) {
        uint32_t type = i < REPRO_LOCAL ? LOCAL : GLOBAL;
        uint32_t index = i < REPRO_LOCAL ? i : i - REPRO_LOCAL;
        memcpy(out->bytes + (size_t)i * HV_PAGE_SIZE, root_buffer(&r, type, index), HV_PAGE_SIZE);
    }
    for (uint32_t lp = 0; lp < REPRO_LPS; lp++)
        hvlog_sim_lp_counts(sim, lp, &out->counts[lp]);
    hvlog_sim_destroy(sim);
}

static void lockstep_runs_with_the_same_seed_write_identical_bytes(void **state)
{
    struct repro *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    (void)state;

    assert_non_null(a);
    assert_non_null(b);
    repro_run(0xC0FFEE, a);
    repro_run(0xC0FFEE, b);
    /* The run did something: messages, loss and both types. */
    assert_true(a->message_count > 4);
    assert_true(a->counts[0].logged[GLOBAL] > 0 && a->counts[0].logged[LOCAL] > 0);
    assert_true(a->counts[0].lost[LOCAL] > 0);
    assert_memory_equal(a->bytes, b->bytes, sizeof a->bytes);
    assert_memory_equal(a->messages, b->messages, sizeof a->messages);
    assert_int_equal(a->message_count, b->message_count);
    assert_memory_equal(a->counts, b->counts, sizeof a->counts);
    /* Another seed, other bytes. */
    repro_run(0xC0FFEF, b);
    assert_memory_not_equal(a->bytes, b->bytes, sizeof a->bytes);
    free(a);
    free(b);
}

/* ---- several LPs per worker (issue 16) ---- */

#define MUX_LPS 6u
#define MUX_EVENTS 100u
#define MUX_TURN 16u /* lp.c SIM_TURN_EVENTS: a worker's turn, flat out */
#define MUX_LOCAL 24u
#define MUX_GLOBAL 4u

struct mux {
    uint8_t bytes[(MUX_LOCAL + MUX_GLOBAL) * HV_PAGE_SIZE];
    struct hvlog_sim_lp_counts counts[MUX_LPS];
};

/* MUX_LPS LPs log MUX_EVENTS each, flat out, with room for all of it: on
 * one worker (@worker), or stepped in lock-step in the worker's order
 * (pass after pass, LPs in index order, MUX_TURN events each). The root
 * does nothing until they are done. */
static void mux_run(uint64_t seed, bool worker, struct mux *out)
{
    uint64_t clock = 0;
    struct hvlog_sim *sim = make_sim_threads(MUX_LPS, !worker, seed, &clock, 1);
    struct sim_root r;
    struct hvlog_sim_workload w = {.events_per_lp = MUX_EVENTS, .payload_max = 40,
                                   .global_per_mille = 100};

    memset(out, 0, sizeof(*out));
    root_attach(&r, sim);
    prepare(&r, LOCAL, MUX_LOCAL, 1, MUX_LOCAL, HvEventLogEntryTimeReference);
    prepare(&r, GLOBAL, MUX_GLOBAL, 1, MUX_GLOBAL, HvEventLogEntryTimeReference);
    if (worker) {
        assert_int_equal(hvlog_sim_start(sim, &w), 0);
        while (hvlog_sim_running(sim))
            sched_yield();
        hvlog_sim_stop(sim);
    } else {
        for (uint32_t done = 0; done < MUX_EVENTS; done += MUX_TURN) {
            uint32_t n = MUX_EVENTS - done < MUX_TURN ? MUX_EVENTS - done : MUX_TURN;
            for (uint32_t lp = 0; lp < MUX_LPS; lp++)
                hvlog_sim_step(sim, lp, n, &w);
        }
    }
    flush_in_use(&r, LOCAL, MUX_LOCAL);
    flush_in_use(&r, GLOBAL, MUX_GLOBAL);
    for (uint32_t i = 0; i < MUX_LOCAL + MUX_GLOBAL; i++) {
        uint32_t type = i < MUX_LOCAL ? LOCAL : GLOBAL;
        uint32_t index = i < MUX_LOCAL ? i : i - MUX_LOCAL;
        memcpy(out->bytes + (size_t)i * HV_PAGE_SIZE, root_buffer(&r, type, index), HV_PAGE_SIZE);
    }
    for (uint32_t lp = 0; lp < MUX_LPS; lp++)
        hvlog_sim_lp_counts(sim, lp, &out->counts[lp]);
    hvlog_sim_destroy(sim);
}

static void one_worker_with_several_lps_writes_the_bytes_of_lockstep_in_its_order(void **state)
{
    struct mux *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    (void)state;

    assert_non_null(a);
    assert_non_null(b);
    mux_run(0xBEEF, true, a);
    mux_run(0xBEEF, true, b);
    /* Every event recorded, on both types. */
    for (uint32_t lp = 0; lp < MUX_LPS; lp++) {
        assert_int_equal(a->counts[lp].logged[LOCAL] + a->counts[lp].logged[GLOBAL], MUX_EVENTS);
        assert_int_equal(a->counts[lp].recorded[LOCAL], a->counts[lp].logged[LOCAL]);
        assert_int_equal(a->counts[lp].recorded[GLOBAL], a->counts[lp].logged[GLOBAL]);
    }
    assert_true(a->counts[0].logged[GLOBAL] > 0);
    /* Same seed, same bytes, run after run ... */
    assert_memory_equal(a->bytes, b->bytes, sizeof a->bytes);
    assert_memory_equal(a->counts, b->counts, sizeof a->counts);
    /* ... and the bytes of lock-step stepping in the worker's order. */
    mux_run(0xBEEF, false, b);
    assert_memory_equal(a->bytes, b->bytes, sizeof a->bytes);
    assert_memory_equal(a->counts, b->counts, sizeof a->counts);
    /* Another seed, other bytes. */
    mux_run(0xBEF0, true, b);
    assert_memory_not_equal(a->bytes, b->bytes, sizeof a->bytes);
    free(a);
    free(b);
}

#define MANY_LPS 24u
#define MANY_BUFFERS 32u

/* 24 LPs on 2 workers, 12 each (the TSan build runs this too): the root
 * flushes InUse buffers of running LPs, each through run_on_lp to the
 * worker that owns the LP, until every LP was flushed; every count adds up. */
static void flushes_reach_every_lp_of_workers_that_own_several(void **state)
{
    struct hvlog_sim *sim = make_sim_threads(MANY_LPS, false, 17, NULL, 2);
    struct sim_root r;
    struct hvlog_sim_workload w = {.payload_max = 32, .global_per_mille = 20};
    uint32_t flushed[MANY_LPS] = {0}, reached = 0;
    char why[128];
    (void)state;

    root_attach(&r, sim);
    prepare(&r, LOCAL, MANY_BUFFERS, 1, 2, HvEventLogEntryTimeReference);
    prepare(&r, GLOBAL, 2, 1, 1, HvEventLogEntryTimeReference);
    assert_int_equal(hvlog_sim_start(sim, &w), 0);
    for (uint64_t round = 0; reached < MANY_LPS; round++) {
        assert_true(round < 50000000); /* a root that makes no progress fails, never hangs */
        for (uint32_t i = 0; i < MANY_BUFFERS; i++) {
            uint32_t st = root_state(&r, LOCAL, i);
            if (st == HvEventLogBufferStateInUse) {
                uint8_t lp = root_buffer(&r, LOCAL, i)[40]; /* §4.4, while InUse */
                assert_int_equal(root_fast(&r, HvCallHvFlushEventLogBuffer, LOCAL, i, 0), 0);
                assert_true(lp < MANY_LPS);
                reached += flushed[lp]++ == 0;
            } else if (st == HvEventLogBufferStateComplete) {
                assert_int_equal(root_fast(&r, HvCallHvFlushEventLogBuffer, LOCAL, i, 0), 0);
            }
        }
        if (!root_drain(&r, NULL))
            sched_yield();
    }
    hvlog_sim_stop(sim);
    assert_false(hvlog_sim_running(sim));
    assert_int_equal(hvlog_engine_check(hvlog_sim_engine(sim), why, sizeof why), 0);
    for (uint32_t lp = 0; lp < MANY_LPS; lp++) {
        struct hvlog_sim_lp_counts c;
        hvlog_sim_lp_counts(sim, lp, &c);
        for (uint32_t t = 0; t < 2; t++)
            assert_int_equal(c.recorded[t] + c.lost[t], c.logged[t]);
        assert_true(c.logged[LOCAL] > 0);
    }
    flush_in_use(&r, LOCAL, MANY_BUFFERS);
    hvlog_sim_destroy(sim);
}

/* ---- what the workload writes ---- */

struct decode {
    uint32_t lp;
    uint32_t children;
    uint64_t only_groups;   /* LocalDiagnostics groups allowed, 0 = the default mix */
    uint32_t next_context[HVLOG_TYPE_COUNT];
    uint64_t entries[HVLOG_TYPE_COUNT];
    uint64_t extra_bytes;
};

static void check_entry(void *ctx, uint32_t type, const struct hv_eventlog_buffer_header *h,
                        const struct hv_eventlog_entry_header *e, const uint8_t *data)
{
    struct decode *d = ctx;
    const struct hvlog_entry_type_info *row = hvlog_entry_type_info(type, e->type);
    uint32_t params = 0, extra = 0, data_len = e->size - HV_EVENTLOG_ENTRY_HEADER_SIZE;
    const char *p;

    assert_non_null(row);
    assert_int_equal(h->logical_processor, type == LOCAL ? d->lp : 0);
    if (type == GLOBAL) {
        assert_true(e->type == HV_EVENTLOG_PARTITION_CREATED || e->type == HV_EVENTLOG_PARTITION_DELETED);
    } else if (d->only_groups) {
        assert_true((row->group & d->only_groups) != 0);
    } else {
        /* The default mix: HC, IM (MSR, CR, CPUID, I/O), SCH, PROFILER. */
        assert_true(row->group == 0x400 || row->group == 0x800 || row->group == 0x400000 ||
                    row->group == 0x8000000);
        assert_true(e->type == 0x1A || (e->type >= 0x21 && e->type <= 0x24) ||
                    (e->type >= 0x27 && e->type <= 0x29) || e->type == 0xB0 || e->type == 0xF0);
    }
    /* No loss in this run: Context counts 0, 1, 2, ... per type. */
    assert_int_equal(e->context, d->next_context[type]);
    d->next_context[type]++;

    /* One u64 per parameter name, then the extra bytes, then zero padding. */
    for (p = row->params; *p; p++)
        params += *p == ',';
    params += row->params[0] != '\0';
    for (uint32_t i = 0; i < params; i++) {
        uint64_t v = hvlog_load_le64(data + 8 * i);
        const char *name = row->params;
        for (uint32_t k = 0; k < i; k++)
            name = strchr(name, ',') + 1;
        if (strncmp(name, "thread_id", 9) == 0)
            assert_int_equal(v, d->lp);
        if (strncmp(name, "partition_id", 12) == 0)
            assert_true(v >= HVLOG_SIM_FIRST_CHILD_ID && v < HVLOG_SIM_FIRST_CHILD_ID + d->children);
        if (strncmp(name, "rip", 3) == 0)
            assert_int_equal(v >> 40, 0xFFFFF8);
        if (strncmp(name, "cr", 2) == 0 && (name[2] == ',' || name[2] == '\0'))
            assert_true(v == 0 || v == 3 || v == 4 || v == 8);
    }
    while (8 * params + extra < data_len && data[8 * params + extra] != 0) {
        assert_int_equal(data[8 * params + extra], hvlog_sim_extra_byte(e->context, extra));
        extra++;
    }
    /* Size = 16 + payload rounded up to 8, and the rest is padding. */
    assert_int_equal(e->size, (HV_EVENTLOG_ENTRY_HEADER_SIZE + 8 * params + extra + 7) & ~7u);
    for (uint32_t i = 8 * params + extra; i < data_len; i++)
        assert_int_equal(data[i], 0);
    d->entries[type]++;
    d->extra_bytes += extra;
}

static void workload_entries_follow_the_catalogue(void **state)
{
    uint64_t clock = 0;
    struct hvlog_sim *sim = make_sim(2, true, 7, &clock);
    struct sim_root r;
    struct hvlog_sim_lp_counts c;
    struct decode d = {.lp = 1, .children = 3};
    struct root_reader reader = {.on_entry = check_entry, .ctx = &d};
    struct hvlog_sim_workload w = {.payload_min = 0, .payload_max = 24, .global_per_mille = 250};
    (void)state;

    root_attach(&r, sim);
    prepare(&r, LOCAL, 4, 16, 4, HvEventLogEntryTimeReference);
    prepare(&r, GLOBAL, 2, 16, 2, HvEventLogEntryTimeReference);
    hvlog_sim_step(sim, 1, 500, &w);
    flush_in_use(&r, LOCAL, 4);
    flush_in_use(&r, GLOBAL, 2);
    while (root_drain(&r, &reader))
        ;
    hvlog_sim_lp_counts(sim, 1, &c);
    assert_int_equal(c.logged[LOCAL] + c.logged[GLOBAL], 500);
    assert_int_equal(c.recorded[LOCAL], c.logged[LOCAL]);
    assert_int_equal(c.recorded[GLOBAL], c.logged[GLOBAL]);
    assert_int_equal(d.entries[LOCAL], c.logged[LOCAL]);
    assert_int_equal(d.entries[GLOBAL], c.logged[GLOBAL]);
    /* About a quarter global; extra bytes drawn in [0, 24]. */
    assert_true(c.logged[GLOBAL] > 50 && c.logged[GLOBAL] < 250);
    assert_true(d.extra_bytes > 0 && d.extra_bytes < 500u * 24u);
    /* LP 0 did nothing. */
    hvlog_sim_lp_counts(sim, 0, &c);
    assert_int_equal(c.logged[LOCAL] + c.logged[GLOBAL] + c.dropped[LOCAL], 0);
    hvlog_sim_destroy(sim);
}

static void local_sources_choose_the_catalogue_groups(void **state)
{
    struct hvlog_sim *sim = make_sim(1, true, 3, NULL);
    struct sim_root r;
    struct decode d = {.lp = 0, .children = 3};
    struct root_reader reader = {.on_entry = check_entry, .ctx = &d};
    struct hvlog_sim_workload w = {.local_sources = 0x800}; /* HV_TR_GROUP_IM */
    struct hvlog_sim_lp_counts c;
    (void)state;

    root_attach(&r, sim);
    prepare(&r, LOCAL, 4, 4, 4, HvEventLogEntryTimeReference);
    d.only_groups = 0x800;
    hvlog_sim_step(sim, 0, 100, &w);
    /* No row of the default mix in AM_GVA: any catalogue row of it. */
    w.local_sources = 0x40000;
    d.only_groups = 0x800 | 0x40000;
    hvlog_sim_step(sim, 0, 100, &w);
    flush_in_use(&r, LOCAL, 4);
    while (root_drain(&r, &reader))
        ;
    assert_int_equal(d.entries[LOCAL], 200);

    /* No catalogue row at all (DIAG_ADMIN): a bad workload, nothing logged. */
    w.local_sources = 0x1;
    hvlog_sim_step(sim, 0, 10, &w);
    hvlog_sim_lp_counts(sim, 0, &c);
    assert_int_equal(c.logged[LOCAL], 200);
    hvlog_sim_destroy(sim);
}

static void bad_workloads_and_modes_are_refused(void **state)
{
    struct hvlog_sim *sim = make_sim(2, false, 3, NULL);
    struct hvlog_sim *lockstep = make_sim(1, true, 3, NULL);
    struct hvlog_sim_workload w = {.events_per_lp = 10};
    (void)state;

    w.payload_min = 9;
    w.payload_max = 8;
    assert_int_equal(hvlog_sim_start(sim, &w), -1);
    w.payload_min = 0;
    w.payload_max = HVLOG_SIM_MAX_EXTRA + 1;
    assert_int_equal(hvlog_sim_start(sim, &w), -1);
    w.payload_max = 0;
    w.global_per_mille = 1001;
    assert_int_equal(hvlog_sim_start(sim, &w), -1);
    w.global_per_mille = 0;
    w.local_sources = 0x1;
    assert_int_equal(hvlog_sim_start(sim, &w), -1);
    /* Only global: no local row needed. */
    w.global_per_mille = 1000;
    assert_int_equal(hvlog_sim_start(sim, &w), 0);
    assert_int_equal(hvlog_sim_start(sim, &w), -1); /* already running */
    hvlog_sim_stop(sim);
    hvlog_sim_stop(sim); /* twice is fine */
    assert_false(hvlog_sim_running(sim));
    /* No threads in lock-step mode. */
    w.local_sources = 0;
    assert_int_equal(hvlog_sim_start(lockstep, &w), -1);
    assert_int_equal(hvlog_sim_log(lockstep, 1, LOCAL, 1, 0x20, 0, NULL, 0), HVLOG_LOG_DROPPED);
    assert_int_equal(hvlog_sim_log(lockstep, 0, HVLOG_TYPE_COUNT, 1, 0x20, 0, NULL, 0),
                     HVLOG_LOG_DROPPED);
    hvlog_sim_destroy(sim);
    hvlog_sim_destroy(lockstep);
}

static void counts_split_logged_into_recorded_and_lost_and_keep_dropped_apart(void **state)
{
    struct hvlog_sim *sim = make_sim(2, true, 5, NULL);
    struct sim_root r;
    struct hvlog_sim_lp_counts c;
    struct hvlog_scope_stats st;
    uint8_t big[5000] = {0};
    (void)state;

    root_attach(&r, sim);
    assert_int_equal(root_init(&r, LOCAL, 2, 1, 2, 0), 0);
    assert_int_equal(root_create(&r, LOCAL, 0, 0, 0), 0);
    assert_int_equal(root_map(&r, LOCAL, 0), 0);
    /* Sources off: dropped, not logged. */
    assert_int_equal(hvlog_sim_log(sim, 1, LOCAL, 1, 0x20, 0, big, 8), HVLOG_LOG_DROPPED);
    assert_int_equal(root_sources(&r, LOCAL, 1), 0);
    /* One 1-page buffer: 62 entries of 64 bytes fill it; the rest is lost. */
    for (uint32_t i = 0; i < 70; i++)
        hvlog_sim_log(sim, 1, LOCAL, 1, 0x20, i, big, 48);
    /* Larger than any buffer: lost too (§7.3 step 2). */
    assert_int_equal(hvlog_sim_log(sim, 1, LOCAL, 1, 0x20, 70, big, sizeof big), HVLOG_LOG_LOST);
    hvlog_sim_lp_counts(sim, 1, &c);
    assert_int_equal(c.dropped[LOCAL], 1);
    assert_int_equal(c.logged[LOCAL], 71);
    assert_int_equal(c.recorded[LOCAL], (4096 - 72) / 64);
    assert_int_equal(c.lost[LOCAL], 71 - (4096 - 72) / 64);
    assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(sim), LOCAL, 1, &st), 0);
    assert_int_equal(st.events_lost_no_buffer + st.events_lost_too_large, c.lost[LOCAL]);
    hvlog_sim_lp_counts(sim, 7, &c); /* a bad LP reads as zeros */
    assert_int_equal(c.logged[LOCAL], 0);
    hvlog_sim_destroy(sim);
}

/* ---- threads: the mailbox and pacing ---- */

static void flushes_of_running_lps_go_through_their_mailboxes(void **state)
{
    struct hvlog_sim *sim = make_sim(2, false, 11, NULL);
    struct sim_root r;
    struct hvlog_sim_workload w = {.payload_max = 32, .global_per_mille = 50};
    uint32_t flushed[2] = {0, 0};
    char why[128];
    (void)state;

    root_attach(&r, sim);
    prepare(&r, LOCAL, 8, 1, 4, HvEventLogEntryTimeReference);
    prepare(&r, GLOBAL, 2, 1, 1, HvEventLogEntryTimeReference);
    assert_int_equal(hvlog_sim_start(sim, &w), 0);
    assert_true(hvlog_sim_running(sim));
    /* While LPs log, the root flushes whatever is InUse (run_on_lp for a
     * local buffer: the LP runs the flush between two events) and drains,
     * until it has flushed buffers of each LP 10 times. Buffers keep
     * coming back: a list reaches the threshold, or its LP has an InUse
     * buffer to flush. */
    for (uint64_t round = 0; flushed[0] < 10 || flushed[1] < 10; round++) {
        /* Bounded: a root that stops making progress fails, never hangs. */
        assert_true(round < 50000000);
        for (uint32_t i = 0; i < 8; i++) {
            uint32_t st = root_state(&r, LOCAL, i);
            if (st == HvEventLogBufferStateInUse) {
                /* LogicalProcessor is meaningful while InUse (§4.4). */
                uint8_t lp = root_buffer(&r, LOCAL, i)[40];
                assert_int_equal(root_fast(&r, HvCallHvFlushEventLogBuffer, LOCAL, i, 0), 0);
                assert_true(lp < 2);
                flushed[lp]++;
            } else if (st == HvEventLogBufferStateComplete) {
                /* A list below its threshold whose LP has no InUse buffer
                 * left moves only when a Flush names one of its buffers
                 * (§5.9 step 2); without this, under load, every buffer
                 * can end up waiting on such lists and the LPs only lose. */
                assert_int_equal(root_fast(&r, HvCallHvFlushEventLogBuffer, LOCAL, i, 0), 0);
            }
        }
        if (!root_drain(&r, NULL))
            sched_yield();
    }
    /* A running LP belongs to its thread. */
    assert_int_equal(hvlog_sim_log(sim, 0, LOCAL, 1, 0x20, 0, NULL, 0), HVLOG_LOG_DROPPED);
    hvlog_sim_stop(sim);
    assert_false(hvlog_sim_running(sim));
    assert_int_equal(hvlog_engine_check(hvlog_sim_engine(sim), why, sizeof why), 0);
    for (uint32_t lp = 0; lp < 2; lp++) {
        struct hvlog_sim_lp_counts c;
        hvlog_sim_lp_counts(sim, lp, &c);
        for (uint32_t t = 0; t < 2; t++)
            assert_int_equal(c.recorded[t] + c.lost[t], c.logged[t]);
        assert_true(c.logged[LOCAL] > 0);
    }
    /* Stopped: a flush runs directly (the LP is offline). */
    flush_in_use(&r, LOCAL, 8);
    hvlog_sim_destroy(sim);
}

static void paced_lps_stop_after_their_events(void **state)
{
    struct hvlog_sim *sim = make_sim(2, false, 13, NULL);
    struct sim_root r;
    struct hvlog_sim_workload w = {.events_per_lp = 40, .rate_per_lp = 4000};
    (void)state;

    root_attach(&r, sim);
    prepare(&r, LOCAL, 4, 4, 4, HvEventLogEntryTimeReference);
    assert_int_equal(hvlog_sim_start(sim, &w), 0);
    /* Serve flushes while paced LPs sleep between events. */
    while (hvlog_sim_running(sim)) {
        flush_in_use(&r, LOCAL, 4);
        root_drain(&r, NULL);
        sched_yield();
    }
    hvlog_sim_stop(sim);
    for (uint32_t lp = 0; lp < 2; lp++) {
        struct hvlog_sim_lp_counts c;
        hvlog_sim_lp_counts(sim, lp, &c);
        assert_int_equal(c.logged[LOCAL] + c.dropped[LOCAL], 40);
    }
    /* Started again: a new run of 40 each, which ends by itself again;
     * the counts go on from the first run's (they are per LP, not per run). */
    assert_int_equal(hvlog_sim_start(sim, &w), 0);
    while (hvlog_sim_running(sim)) {
        flush_in_use(&r, LOCAL, 4);
        root_drain(&r, NULL);
        sched_yield();
    }
    hvlog_sim_stop(sim);
    for (uint32_t lp = 0; lp < 2; lp++) {
        struct hvlog_sim_lp_counts c;
        hvlog_sim_lp_counts(sim, lp, &c);
        assert_int_equal(c.logged[LOCAL] + c.dropped[LOCAL], 80);
        assert_int_equal(c.recorded[LOCAL] + c.lost[LOCAL], c.logged[LOCAL]);
    }
    hvlog_sim_destroy(sim);
}

/* A duration ends the LPs by themselves, paced or flat out, with nobody
 * draining: the offered load is the rate over the duration, never more
 * (a paced LP is at most one event ahead of its schedule). */
static void lps_stop_at_their_duration_whoever_drains(void **state)
{
    const uint32_t rate = 20000;
    const uint64_t duration_ns = 100000000ull; /* 100 ms: at most 2,000 events + 1 */
    (void)state;

    for (int paced = 1; paced >= 0; paced--) {
        struct hvlog_sim *sim = make_sim(2, false, 17, NULL);
        struct sim_root r;
        struct hvlog_sim_workload w = {.rate_per_lp = paced ? rate : 0, .duration_ns = duration_ns};
        struct timespec nap = {0, 1000000};
        int waited = 0;

        root_attach(&r, sim);
        prepare(&r, LOCAL, 4, 4, 4, HvEventLogEntryTimeReference);
        assert_int_equal(hvlog_sim_start(sim, &w), 0);
        while (hvlog_sim_running(sim) && waited++ < 30000) /* not a timing: a hang's bound */
            nanosleep(&nap, NULL);
        assert_false(hvlog_sim_running(sim));
        hvlog_sim_stop(sim);
        for (uint32_t lp = 0; lp < 2; lp++) {
            struct hvlog_sim_lp_counts c;

            hvlog_sim_lp_counts(sim, lp, &c);
            /* (none logged is possible: a worker may start after the
             * deadline on a loaded machine) */
            assert_int_equal(c.recorded[LOCAL] + c.lost[LOCAL], c.logged[LOCAL]);
            if (paced)
                assert_true(c.logged[LOCAL] + c.dropped[LOCAL] <= rate * duration_ns / 1000000000ull + 1);
        }
        hvlog_sim_destroy(sim);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lockstep_runs_with_the_same_seed_write_identical_bytes),
        cmocka_unit_test(one_worker_with_several_lps_writes_the_bytes_of_lockstep_in_its_order),
        cmocka_unit_test(flushes_reach_every_lp_of_workers_that_own_several),
        cmocka_unit_test(workload_entries_follow_the_catalogue),
        cmocka_unit_test(local_sources_choose_the_catalogue_groups),
        cmocka_unit_test(bad_workloads_and_modes_are_refused),
        cmocka_unit_test(counts_split_logged_into_recorded_and_lost_and_keep_dropped_apart),
        cmocka_unit_test(flushes_of_running_lps_go_through_their_mailboxes),
        cmocka_unit_test(paced_lps_stop_after_their_events),
        cmocka_unit_test(lps_stop_at_their_duration_whoever_drains),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
