/* SPDX-License-Identifier: MIT */
/*
 * The root client on the simulated host, end to end: prepare, log, drain
 * over SynIC, conclude; conservation over many seeds; a slow reader; SynIC
 * pressure; allocation failure at every step of prepare; LP threads.
 * Seeds are printed on failure (cmocka prints the test's stderr).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hvlog/client/client.h"
#include "hvlog/hvlog.h"
#include "hvlog/sim/sim.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define GLOBAL HvEventLogTypeGlobalSystemEvents
#define MAX_LPS 4

struct world {
    struct hvlog_sim *sim;
    struct hvlog_client *client;
    struct hvlog_root_ops ops;
    uint32_t lps;
};

/* What the sink saw, per LP. */
struct seen {
    uint64_t entries[MAX_LPS];
    uint64_t events_lost[MAX_LPS];
    uint32_t next_seq[HVLOG_TYPE_COUNT][MAX_LPS];
    uint64_t buffers, messages, corrupt, bad_payload, out_of_order;
    uint64_t checksum_mismatch;
    bool check_pattern;
};

static void world_up(struct world *w, uint32_t lps, uint32_t domains, uint64_t seed, bool lockstep)
{
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct hvlog_client_config cc;

    cfg.lps = lps;
    cfg.domains = domains;
    cfg.seed = seed;
    cfg.lockstep = lockstep;
    cfg.pool_pages = 512;
    cfg.root_ram_pages = 2048;
    memset(w, 0, sizeof(*w));
    w->lps = lps;
    assert_int_equal(hvlog_sim_create(&cfg, &w->sim), 0);
    for (uint32_t vp = 0; vp < lps; vp++)
        assert_int_not_equal(hvlog_sim_synic_enable(w->sim, vp, 0x40), 0);
    hvlog_sim_root_ops(w->sim, &w->ops);
    cc = (struct hvlog_client_config){.ops = &w->ops, .ctx = w->sim};
    assert_int_equal(hvlog_client_create(&cc, &w->client), 0);
}

static void world_down(struct world *w)
{
    hvlog_client_destroy(w->client);
    hvlog_sim_destroy(w->sim);
}

static uint32_t pool_total(struct world *w)
{
    uint32_t n = 0;
    for (uint32_t d = 0; d < hvlog_sim_domain_count(w->sim); d++)
        n += hvlog_sim_pool_free(w->sim, d);
    return n;
}

/* Payload of event @seq of @lp: u32 lp, u32 seq, then a byte pattern. */
static uint32_t make_payload(uint8_t *p, uint32_t lp, uint32_t seq, uint32_t len)
{
    hvlog_store_le32(p, lp);
    hvlog_store_le32(p + 4, seq);
    for (uint32_t i = 8; i < len; i++)
        p[i] = (uint8_t)(lp * 13 + seq + i);
    return len;
}

static bool on_entry(void *arg, const struct hvlog_entry *e)
{
    struct seen *s = arg;
    uint32_t lp = e->logical_processor, seq;

    if (lp >= MAX_LPS)
        return false;
    s->entries[lp]++;
    if (!s->check_pattern)
        return true;
    if (e->payload_len < 8 || hvlog_load_le32(e->payload) != lp) {
        s->bad_payload++;
        return true;
    }
    seq = hvlog_load_le32(e->payload + 4);
    if (seq != e->context)
        s->bad_payload++;
    /* Per LP, sequence numbers only go up (lost events leave gaps). */
    if (seq < s->next_seq[e->log_type][lp])
        s->out_of_order++;
    s->next_seq[e->log_type][lp] = seq + 1;
    for (uint32_t i = 8; i + 8 <= e->payload_len; i++) {
        /* Bytes past the logged length are padding (zero); we logged
         * lengths that are multiples of 8, so every byte is pattern. */
        if (e->payload[i] != (uint8_t)(lp * 13 + seq + i)) {
            s->bad_payload++;
            break;
        }
    }
    return true;
}

static void on_buffer(void *arg, const struct hvlog_buffer_summary *b, const uint8_t *bytes, size_t len)
{
    struct seen *s = arg;
    (void)bytes, (void)len;
    s->buffers++;
    if (b->logical_processor < MAX_LPS)
        s->events_lost[b->logical_processor] += b->events_lost;
}

static void on_message(void *arg, uint32_t vp, uint32_t type, uint32_t first)
{
    (void)vp, (void)type, (void)first;
    ((struct seen *)arg)->messages++;
}

static void on_corrupt(void *arg, uint32_t type, uint32_t index, const char *why)
{
    (void)type;
    fprintf(stderr, "corrupt buffer %u: %s\n", index, why);
    ((struct seen *)arg)->corrupt++;
}

static const struct hvlog_client_sink sink = {on_message, on_buffer, on_entry, on_corrupt};

/* A LocalDiagnostics group (static storage: tests are single-threaded here). */
static const struct hvlog_group_params *local_params(uint32_t count, uint32_t pages,
                                                     uint32_t threshold)
{
    static struct hvlog_group_params p;

    p = (struct hvlog_group_params){.type = LOCAL, .buffer_count = count, .buffer_pages = pages,
                                    .threshold = threshold, .time_basis = 0,
                                    .system_time = 0x01DB000000000000ull};
    return &p;
}

static void poll_all(struct world *w, struct seen *s)
{
    for (uint32_t vp = 0; vp < w->lps; vp++)
        hvlog_client_poll(w->client, vp, &sink, s);
}

/* ---- tests ---- */

static void prepare_log_drain_conclude_returns_every_page(void **state)
{
    struct world w;
    struct seen s = {.check_pattern = true};
    uint8_t payload[64];
    uint32_t before;
    struct hvlog_client_stats st;
    (void)state;

    world_up(&w, 2, 2, 1, true);
    before = pool_total(&w);
    assert_int_equal(hvlog_client_prepare(w.client, local_params(8, 1, 2)), HV_STATUS_SUCCESS);
    /* DEC-POOL: one bookkeeping page and one page per buffer. */
    assert_int_equal(pool_total(&w), before - 1 - 8);
    assert_int_equal(hvlog_client_set_sources(w.client, LOCAL, ~0ull), HV_STATUS_SUCCESS);
    for (uint32_t seq = 0; seq < 500; seq++) {
        for (uint32_t lp = 0; lp < 2; lp++) {
            make_payload(payload, lp, seq, 40);
            assert_int_equal(hvlog_sim_log(w.sim, lp, LOCAL, 1, 0x1A, seq, payload, 40),
                             HVLOG_LOG_RECORDED);
        }
        poll_all(&w, &s);
    }
    assert_int_equal(hvlog_client_conclude(w.client, LOCAL, &sink, &s), HV_STATUS_SUCCESS);
    assert_int_equal(s.entries[0], 500);
    assert_int_equal(s.entries[1], 500);
    assert_int_equal(s.bad_payload + s.out_of_order + s.corrupt, 0);
    hvlog_client_stats(w.client, LOCAL, &st);
    assert_int_equal(st.entries, 1000);
    assert_int_equal(st.release_failures, 0);
    assert_true(st.messages > 0);
    assert_int_equal(pool_total(&w), before);
    world_down(&w);
}

/* Per LP: entries delivered + EventsLost + lost not yet written == logged. */
static void conservation_holds_over_many_seeds(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        struct world w;
        struct seen s = {.check_pattern = true};
        uint64_t logged[MAX_LPS] = {0};
        uint32_t rng = (uint32_t)seed * 2654435761u;
        uint8_t payload[256];

        world_up(&w, 3, 1 + (uint32_t)(seed % 2), seed, true);
        assert_int_equal(hvlog_client_prepare(w.client, local_params(6, 1, 1 + (uint32_t)(seed % 3))),
                         HV_STATUS_SUCCESS);
        hvlog_client_set_sources(w.client, LOCAL, ~0ull);
        for (uint32_t step = 0; step < 3000; step++) {
            uint32_t lp, len;
            rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
            lp = rng % 3;
            len = 8 * (1 + (rng >> 8) % 24);
            make_payload(payload, lp, (uint32_t)logged[lp], len);
            hvlog_sim_log(w.sim, lp, LOCAL, 1, 0x20, (uint32_t)logged[lp], payload, len);
            logged[lp]++;
            if ((rng >> 20) % 16 == 0) /* the root gets to run now and then */
                poll_all(&w, &s);
            if ((rng >> 24) % 64 == 0)
                hvlog_client_flush(w.client, 0, LOCAL, (rng >> 4) % 6);
        }
        assert_int_equal(hvlog_client_conclude(w.client, LOCAL, &sink, &s), HV_STATUS_SUCCESS);
        for (uint32_t lp = 0; lp < 3; lp++) {
            struct hvlog_scope_stats sc;
            hvlog_engine_scope_stats(hvlog_sim_engine(w.sim), LOCAL, lp, &sc);
            if (s.entries[lp] + s.events_lost[lp] + sc.lost_pending != logged[lp])
                fprintf(stderr, "seed %llu lp %u: read %llu + lost %llu + pending %u != logged %llu\n",
                        (unsigned long long)seed, lp, (unsigned long long)s.entries[lp],
                        (unsigned long long)s.events_lost[lp], sc.lost_pending,
                        (unsigned long long)logged[lp]);
            assert_int_equal(s.entries[lp] + s.events_lost[lp] + sc.lost_pending, logged[lp]);
        }
        assert_int_equal(s.bad_payload + s.out_of_order + s.corrupt, 0);
        world_down(&w);
    }
}

/* A root that never reads: buffers stay Ready, later events are lost and
 * counted, and nothing in a Ready buffer changes until it is released. */
static uint64_t checksum(const uint8_t *p, size_t len)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static void a_slow_reader_loses_events_and_ready_buffers_do_not_change(void **state)
{
    struct world w;
    struct seen s = {0};
    uint8_t payload[64] = {0};
    uint64_t sums[4];
    uint32_t count;
    (void)state;

    world_up(&w, 1, 1, 7, true);
    assert_int_equal(hvlog_client_prepare(w.client, local_params(4, 1, 1)), HV_STATUS_SUCCESS);
    hvlog_client_set_sources(w.client, LOCAL, ~0ull);
    /* Fill all four buffers and more: 3 go Ready (threshold 1), the 4th is InUse. */
    for (uint32_t i = 0; i < 4 * 70; i++)
        hvlog_sim_log(w.sim, 0, LOCAL, 1, 0x1A, i, payload, 48);
    for (uint32_t i = 0; i < 4; i++) {
        const uint64_t *pages = hvlog_client_buffer_pages(w.client, LOCAL, i, &count);
        sums[i] = checksum(hvlog_sim_root_view(w.sim, pages[0] << 12, 4096), 4096);
    }
    /* Keep logging while nobody reads: the rest is lost. */
    for (uint32_t i = 0; i < 1000; i++)
        hvlog_sim_log(w.sim, 0, LOCAL, 1, 0x1A, i, payload, 48);
    {
        struct hvlog_scope_stats sc;
        hvlog_engine_scope_stats(hvlog_sim_engine(w.sim), LOCAL, 0, &sc);
        assert_true(sc.events_lost_no_buffer > 0);
        assert_true(sc.lost_pending > 0);
    }
    for (uint32_t i = 0; i < 4; i++) {
        const uint64_t *pages = hvlog_client_buffer_pages(w.client, LOCAL, i, &count);
        const uint8_t *v = hvlog_sim_root_view(w.sim, pages[0] << 12, 4096);
        if (hvlog_load_le32(v + 44) == HvEventLogBufferStateReady)
            assert_true(checksum(v, 4096) == sums[i]);
    }
    /* Reading now: the next buffer taken says how many were lost. */
    poll_all(&w, &s);
    hvlog_sim_log(w.sim, 0, LOCAL, 1, 0x1A, 0, payload, 48);
    assert_int_equal(hvlog_client_conclude(w.client, LOCAL, &sink, &s), HV_STATUS_SUCCESS);
    assert_true(s.events_lost[0] > 0);
    assert_int_equal(s.corrupt, 0);
    world_down(&w);
}

/* Several lists due before the root clears its slot: the SynIC queues them,
 * sets MessagePending, and EOM brings in the next; none lost or doubled. */
static void synic_pressure_delivers_every_list_once(void **state)
{
    struct world w;
    struct seen s = {0};
    uint8_t payload[32] = {0};
    uint8_t *slot;
    (void)state;

    world_up(&w, 1, 1, 9, true);
    /* Threshold 1: every completed buffer is a list of its own. A global
     * type's lists wait behind the local one's in SINT0's FIFO. */
    assert_int_equal(hvlog_client_prepare(w.client, local_params(8, 1, 1)), HV_STATUS_SUCCESS);
    hvlog_client_set_sources(w.client, LOCAL, ~0ull);
    assert_int_equal(hvlog_client_prepare(w.client, &(struct hvlog_group_params){
        .type = GLOBAL, .buffer_count = 4, .buffer_pages = 1, .threshold = 1}), HV_STATUS_SUCCESS);
    hvlog_client_set_sources(w.client, GLOBAL, ~0ull);
    for (uint32_t i = 0; i < 3 * 120; i++) {
        hvlog_sim_log(w.sim, 0, LOCAL, 1, 0x1A, i, payload, 16);
        hvlog_sim_log(w.sim, 0, GLOBAL, 4, 0x4101, i, payload, 16);
    }
    slot = hvlog_sim_sim_page(w.sim, 0);
    assert_non_null(slot);
    assert_int_equal(hvlog_load_le32(slot), HvMessageTypeEventLogBufferComplete);
    assert_int_equal(slot[5] & HV_MESSAGE_FLAG_PENDING, HV_MESSAGE_FLAG_PENDING);
    assert_true(hvlog_sim_sint_interrupts(w.sim, 0) >= 1);
    poll_all(&w, &s);
    assert_int_equal(hvlog_load_le32(slot), HvMessageTypeNone);
    {
        struct hvlog_client_stats l, g;
        hvlog_client_stats(w.client, LOCAL, &l);
        hvlog_client_stats(w.client, GLOBAL, &g);
        /* 360 32-byte entries per type: 125 fit a page, so two buffers of
         * each type completed (each a list of its own) and a third is InUse. */
        assert_int_equal(l.buffers, 2);
        assert_int_equal(g.buffers, 2);
        assert_int_equal(s.messages, 4);
        assert_int_equal(l.messages + g.messages, s.messages);
        assert_int_equal(l.release_failures + g.release_failures, 0);
    }
    assert_int_equal(hvlog_client_conclude(w.client, LOCAL, &sink, &s), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_conclude(w.client, GLOBAL, &sink, &s), HV_STATUS_SUCCESS);
    assert_int_equal(s.entries[0], 2 * 360);
    assert_int_equal(s.corrupt, 0);
    world_down(&w);
}

/* A client that does not deposit, so an injected failure fails prepare. */
static void client_without_deposits(struct world *w)
{
    struct hvlog_client_config cc;

    hvlog_client_destroy(w->client);
    w->ops.deposit = NULL;
    cc = (struct hvlog_client_config){.ops = &w->ops, .ctx = w->sim};
    assert_int_equal(hvlog_client_create(&cc, &w->client), 0);
}

/* Every allocation prepare makes, failed in turn: prepare fails cleanly,
 * every page comes back, and the next prepare succeeds. */
static void allocation_failure_at_every_step_of_prepare_unwinds(void **state)
{
    (void)state;
    /* Prepare of 6 buffers allocates 1 + 6 times (bookkeeping, buffers). */
    for (uint32_t k = 1; k <= 1 + 6; k++) {
        struct world w;
        uint32_t before;

        world_up(&w, 2, 2, 100 + k, true);
        client_without_deposits(&w);
        before = pool_total(&w);
        hvlog_sim_fail_after(w.sim, HVLOG_SIM_FAULT_ALLOC, k);
        assert_int_equal(hvlog_client_prepare(w.client, local_params(6, 2, 1)),
                         HV_STATUS_INSUFFICIENT_MEMORY);
        hvlog_sim_fail_after(w.sim, HVLOG_SIM_FAULT_ALLOC, 0);
        {
            struct hvlog_group_info gi;
            hvlog_engine_group_info(hvlog_sim_engine(w.sim), LOCAL, &gi);
            assert_false(gi.initialized);
        }
        assert_int_equal(pool_total(&w), before);
        assert_int_equal(hvlog_client_prepare(w.client, local_params(6, 2, 1)), HV_STATUS_SUCCESS);
        assert_int_equal(hvlog_client_conclude(w.client, LOCAL, NULL, NULL), HV_STATUS_SUCCESS);
        world_down(&w);
    }
    for (uint32_t k = 1; k <= 6; k++) {
        struct world w;
        uint32_t before;

        world_up(&w, 2, 1, 200 + k, true);
        before = pool_total(&w);
        hvlog_sim_fail_after(w.sim, HVLOG_SIM_FAULT_MAP, k);
        assert_int_equal(hvlog_client_prepare(w.client, local_params(6, 1, 1)),
                         HV_STATUS_INSUFFICIENT_MEMORY);
        assert_int_equal(pool_total(&w), before);
        hvlog_sim_fail_after(w.sim, HVLOG_SIM_FAULT_MAP, 0);
        assert_int_equal(hvlog_client_prepare(w.client, local_params(6, 1, 1)), HV_STATUS_SUCCESS);
        assert_int_equal(hvlog_client_conclude(w.client, LOCAL, NULL, NULL), HV_STATUS_SUCCESS);
        world_down(&w);
    }
}

/* An empty pool: the client deposits and retries, within its limit. */
static void insufficient_memory_is_answered_with_a_deposit(void **state)
{
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct hvlog_client_config cc;
    struct hvlog_root_ops ops;
    struct hvlog_sim *sim;
    struct hvlog_client *client;
    struct hvlog_client_stats st;
    (void)state;

    cfg.lps = 1;
    cfg.pool_pages = 0;      /* an empty pool ... */
    cfg.deposit_frames = 64; /* ... and root RAM the client may deposit */
    cfg.root_ram_pages = 256;
    cfg.lockstep = true;
    assert_int_equal(hvlog_sim_create(&cfg, &sim), 0);
    hvlog_sim_root_ops(sim, &ops);
    cc = (struct hvlog_client_config){.ops = &ops, .ctx = sim};
    assert_int_equal(hvlog_client_create(&cc, &client), 0);
    assert_int_equal(hvlog_client_prepare(client, local_params(4, 2, 1)), HV_STATUS_SUCCESS);
    hvlog_client_stats(client, LOCAL, &st);
    assert_int_equal(st.deposits, 1 + 4 * 2);
    assert_int_equal(hvlog_client_conclude(client, LOCAL, NULL, NULL), HV_STATUS_SUCCESS);
    hvlog_client_destroy(client);
    hvlog_sim_destroy(sim);
}

/* LP threads run the workload while this thread is the root. */
static void lp_threads_and_the_client_conserve_every_event(void **state)
{
    struct world w;
    struct seen s = {0};
    struct hvlog_sim_workload wl = {.events_per_lp = 20000, .payload_min = 0, .payload_max = 64};
    (void)state;

    world_up(&w, 2, 1, 42, false);
    assert_int_equal(hvlog_client_prepare(w.client, local_params(16, 1, 2)), HV_STATUS_SUCCESS);
    hvlog_client_set_sources(w.client, LOCAL, ~0ull);
    assert_int_equal(hvlog_sim_start(w.sim, &wl), 0);
    while (hvlog_sim_running(w.sim))
        poll_all(&w, &s);
    hvlog_sim_stop(w.sim);
    assert_int_equal(hvlog_client_conclude(w.client, LOCAL, &sink, &s), HV_STATUS_SUCCESS);
    for (uint32_t lp = 0; lp < 2; lp++) {
        struct hvlog_sim_lp_counts c;
        struct hvlog_scope_stats sc;
        hvlog_sim_lp_counts(w.sim, lp, &c);
        hvlog_engine_scope_stats(hvlog_sim_engine(w.sim), LOCAL, lp, &sc);
        assert_int_equal(c.recorded[LOCAL] + c.lost[LOCAL], c.logged[LOCAL]);
        assert_int_equal(s.entries[lp], c.recorded[LOCAL]);
        assert_int_equal(s.events_lost[lp] + sc.lost_pending, c.lost[LOCAL]);
    }
    assert_int_equal(s.corrupt, 0);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(prepare_log_drain_conclude_returns_every_page),
        cmocka_unit_test(conservation_holds_over_many_seeds),
        cmocka_unit_test(a_slow_reader_loses_events_and_ready_buffers_do_not_change),
        cmocka_unit_test(synic_pressure_delivers_every_list_once),
        cmocka_unit_test(allocation_failure_at_every_step_of_prepare_unwinds),
        cmocka_unit_test(insufficient_memory_is_answered_with_a_deposit),
        cmocka_unit_test(lp_threads_and_the_client_conserve_every_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
