/* SPDX-License-Identifier: MIT */
/*
 * The root client on the simulated host, end to end: prepare, log, drain
 * over SynIC, conclude; conservation over many seeds; a slow reader; SynIC
 * pressure; allocation failure at every step of prepare; LP threads.
 * Seeds are printed on failure (cmocka prints the test's stderr).
 *
 * Every end-to-end test runs once per ABI profile (spec §11): the test's
 * state is the profile, which the sim and the client are both given. Then
 * the profile-specific ones: the bytes of every call against the research
 * tables (a tap on the root ops), Circular mode, and a mismatched pair.
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
/* A mask both profiles accept: every bit but bit 0, which the current
 * SetSources reads as the "extended" flag and refuses (D5, D7). */
#define ALL_SOURCES (~HV_EVENTLOG_EXTENDED_TRACE_FLAG)
#define HC HV_TR_GROUP_HC /* the source bit the tests' events carry */

struct world {
    struct hvlog_sim *sim;
    struct hvlog_client *client;
    struct hvlog_root_ops ops;
    uint32_t lps;
    enum hvlog_abi_profile abi;
};

/* The profile a parameterized test runs in (its cmocka state). */
static const enum hvlog_abi_profile abi_2013 = HVLOG_ABI_2013;
static const enum hvlog_abi_profile abi_current = HVLOG_ABI_CURRENT;

static enum hvlog_abi_profile abi_of(void **state)
{
    return *(const enum hvlog_abi_profile *)*state;
}

/* The header convention a profile's hypervisor writes (D9). */
static enum hvlog_abi_profile convention_of(enum hvlog_abi_profile abi)
{
    return abi;
}

/* What the sink saw, per LP. */
struct seen {
    uint64_t entries[MAX_LPS];
    uint64_t events_lost[MAX_LPS];
    uint32_t next_seq[HVLOG_TYPE_COUNT][MAX_LPS];
    uint64_t buffers, messages, corrupt, bad_payload, out_of_order;
    uint64_t checksum_mismatch;
    uint64_t wrong_convention; /* buffers summarized with another convention */
    enum hvlog_abi_profile convention;
    uint32_t last_seq[MAX_LPS]; /* context of the last entry seen per LP */
    bool check_pattern;
};

static void world_up(struct world *w, uint32_t lps, uint32_t domains, uint64_t seed,
                         bool lockstep, enum hvlog_abi_profile abi)
{
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct hvlog_client_config cc;

    cfg.profile.abi = abi;
    cfg.lps = lps;
    cfg.domains = domains;
    cfg.seed = seed;
    cfg.lockstep = lockstep;
    cfg.pool_pages = 512;
    cfg.root_ram_pages = 2048;
    memset(w, 0, sizeof(*w));
    w->lps = lps;
    w->abi = abi;
    assert_int_equal(hvlog_sim_create(&cfg, &w->sim), 0);
    for (uint32_t vp = 0; vp < lps; vp++)
        assert_int_not_equal(hvlog_sim_synic_enable(w->sim, vp, 0x40), 0);
    hvlog_sim_root_ops(w->sim, &w->ops);
    cc = (struct hvlog_client_config){.ops = &w->ops, .ctx = w->sim, .abi = abi};
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
    s->last_seq[lp] = e->context;
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
    s->wrong_convention += b->convention != s->convention;
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
    struct seen s = {.check_pattern = true, .convention = convention_of(abi_of(state))};
    uint8_t payload[64];
    uint32_t before;
    struct hvlog_client_stats st;

    world_up(&w, 2, 2, 1, true, abi_of(state));
    before = pool_total(&w);
    assert_int_equal(hvlog_client_prepare(w.client, local_params(8, 1, 2)), HV_STATUS_SUCCESS);
    /* DEC-POOL: one bookkeeping page and one page per buffer. */
    assert_int_equal(pool_total(&w), before - 1 - 8);
    assert_int_equal(hvlog_client_set_sources(w.client, LOCAL, ALL_SOURCES), HV_STATUS_SUCCESS);
    for (uint32_t seq = 0; seq < 500; seq++) {
        for (uint32_t lp = 0; lp < 2; lp++) {
            make_payload(payload, lp, seq, 40);
            assert_int_equal(hvlog_sim_log(w.sim, lp, LOCAL, HC, 0x1A, seq, payload, 40),
                             HVLOG_LOG_RECORDED);
        }
        poll_all(&w, &s);
    }
    assert_int_equal(hvlog_client_conclude(w.client, LOCAL, &sink, &s), HV_STATUS_SUCCESS);
    assert_int_equal(s.entries[0], 500);
    assert_int_equal(s.entries[1], 500);
    assert_int_equal(s.bad_payload + s.out_of_order + s.corrupt + s.wrong_convention, 0);
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
    for (uint64_t seed = 1; seed <= 24; seed++) {
        struct world w;
        struct seen s = {.check_pattern = true, .convention = convention_of(abi_of(state))};
        uint64_t logged[MAX_LPS] = {0};
        uint32_t rng = (uint32_t)seed * 2654435761u;
        uint8_t payload[256];

        world_up(&w, 3, 1 + (uint32_t)(seed % 2), seed, true, abi_of(state));
        assert_int_equal(hvlog_client_prepare(w.client, local_params(6, 1, 1 + (uint32_t)(seed % 3))),
                         HV_STATUS_SUCCESS);
        assert_int_equal(hvlog_client_set_sources(w.client, LOCAL, ALL_SOURCES), HV_STATUS_SUCCESS);
        for (uint32_t step = 0; step < 3000; step++) {
            uint32_t lp, len;
            rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
            lp = rng % 3;
            len = 8 * (1 + (rng >> 8) % 24);
            make_payload(payload, lp, (uint32_t)logged[lp], len);
            hvlog_sim_log(w.sim, lp, LOCAL, HC, 0x20, (uint32_t)logged[lp], payload, len);
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
        assert_int_equal(s.bad_payload + s.out_of_order + s.corrupt + s.wrong_convention, 0);
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
    struct seen s = {.convention = convention_of(abi_of(state))};
    uint8_t payload[64] = {0};
    uint64_t sums[4];
    uint32_t count;

    world_up(&w, 1, 1, 7, true, abi_of(state));
    assert_int_equal(hvlog_client_prepare(w.client, local_params(4, 1, 1)), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_set_sources(w.client, LOCAL, ALL_SOURCES), HV_STATUS_SUCCESS);
    /* Fill all four buffers and more: 3 go Ready (threshold 1), the 4th is InUse. */
    for (uint32_t i = 0; i < 4 * 70; i++)
        hvlog_sim_log(w.sim, 0, LOCAL, HC, 0x1A, i, payload, 48);
    for (uint32_t i = 0; i < 4; i++) {
        const uint64_t *pages = hvlog_client_buffer_pages(w.client, LOCAL, i, &count);
        sums[i] = checksum(hvlog_sim_root_view(w.sim, pages[0] << 12, 4096), 4096);
    }
    /* Keep logging while nobody reads: the rest is lost. */
    for (uint32_t i = 0; i < 1000; i++)
        hvlog_sim_log(w.sim, 0, LOCAL, HC, 0x1A, i, payload, 48);
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
    hvlog_sim_log(w.sim, 0, LOCAL, HC, 0x1A, 0, payload, 48);
    assert_int_equal(hvlog_client_conclude(w.client, LOCAL, &sink, &s), HV_STATUS_SUCCESS);
    assert_true(s.events_lost[0] > 0);
    assert_int_equal(s.corrupt + s.wrong_convention, 0);
    world_down(&w);
}

/* Several lists due before the root clears its slot: the SynIC queues them,
 * sets MessagePending, and EOM brings in the next; none lost or doubled. */
static void synic_pressure_delivers_every_list_once(void **state)
{
    struct world w;
    struct seen s = {.convention = convention_of(abi_of(state))};
    uint8_t payload[32] = {0};
    uint8_t *slot;

    world_up(&w, 1, 1, 9, true, abi_of(state));
    /* Threshold 1: every completed buffer is a list of its own. A global
     * type's lists wait behind the local one's in SINT0's FIFO. */
    assert_int_equal(hvlog_client_prepare(w.client, local_params(8, 1, 1)), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_set_sources(w.client, LOCAL, ALL_SOURCES), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_prepare(w.client, &(struct hvlog_group_params){
        .type = GLOBAL, .buffer_count = 4, .buffer_pages = 1, .threshold = 1}), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_set_sources(w.client, GLOBAL, ALL_SOURCES), HV_STATUS_SUCCESS);
    for (uint32_t i = 0; i < 3 * 120; i++) {
        hvlog_sim_log(w.sim, 0, LOCAL, HC, 0x1A, i, payload, 16);
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
    assert_int_equal(s.corrupt + s.wrong_convention, 0);
    world_down(&w);
}

/* A client that does not deposit, so an injected failure fails prepare. */
static void client_without_deposits(struct world *w)
{
    struct hvlog_client_config cc;

    hvlog_client_destroy(w->client);
    w->ops.deposit = NULL;
    cc = (struct hvlog_client_config){.ops = &w->ops, .ctx = w->sim, .abi = w->abi};
    assert_int_equal(hvlog_client_create(&cc, &w->client), 0);
}

/* Every allocation prepare makes, failed in turn: prepare fails cleanly,
 * every page comes back, and the next prepare succeeds. */
static void allocation_failure_at_every_step_of_prepare_unwinds(void **state)
{
    /* Prepare of 6 buffers allocates 1 + 6 times (bookkeeping, buffers). */
    for (uint32_t k = 1; k <= 1 + 6; k++) {
        struct world w;
        uint32_t before;

        world_up(&w, 2, 2, 100 + k, true, abi_of(state));
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

        world_up(&w, 2, 1, 200 + k, true, abi_of(state));
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

    cfg.profile.abi = abi_of(state);
    cfg.lps = 1;
    cfg.pool_pages = 0;      /* an empty pool ... */
    cfg.deposit_frames = 64; /* ... and root RAM the client may deposit */
    cfg.root_ram_pages = 256;
    cfg.lockstep = true;
    assert_int_equal(hvlog_sim_create(&cfg, &sim), 0);
    hvlog_sim_root_ops(sim, &ops);
    cc = (struct hvlog_client_config){.ops = &ops, .ctx = sim, .abi = abi_of(state)};
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
    struct seen s = {.convention = convention_of(abi_of(state))};
    struct hvlog_sim_workload wl = {.events_per_lp = 20000, .payload_min = 0, .payload_max = 64};

    world_up(&w, 2, 1, 42, false, abi_of(state));
    assert_int_equal(hvlog_client_prepare(w.client, local_params(16, 1, 2)), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_set_sources(w.client, LOCAL, ALL_SOURCES), HV_STATUS_SUCCESS);
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
    assert_int_equal(s.corrupt + s.wrong_convention, 0);
    world_down(&w);
}

/* ---- the profiles themselves ---- */

/*
 * A tap on the root ops: every hypercall the client issues, with the input
 * bytes of a memory call as they stood in its input page. Everything is
 * forwarded to the sim untouched.
 */
#define TAP_MAX_CALLS 32
#define TAP_INPUT_BYTES HV_INPUT_SET_SOURCES_CURRENT_SIZE

struct tapped_call {
    uint64_t rcx, rdx, r8;
    uint8_t input[TAP_INPUT_BYTES]; /* memory calls only */
};

struct tap {
    struct hvlog_root_ops inner;
    void *inner_ctx;
    struct tapped_call calls[TAP_MAX_CALLS];
    uint32_t n;
};

static uint64_t tap_hypercall(void *ctx, uint32_t vp, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    struct tap *t = ctx;

    if (t->n < TAP_MAX_CALLS) {
        struct tapped_call *c = &t->calls[t->n];
        uint8_t *page;

        *c = (struct tapped_call){rcx, rdx, r8, {0}};
        if (!(rcx & HV_HYPERCALL_FAST_BIT) && t->inner.scratch_page(t->inner_ctx, 0, &page) == rdx)
            memcpy(c->input, page, sizeof c->input);
    }
    t->n++;
    return t->inner.hypercall(t->inner_ctx, vp, rcx, rdx, r8);
}

static uint64_t tap_scratch(void *ctx, uint32_t index, uint8_t **hva)
{
    struct tap *t = ctx;
    return t->inner.scratch_page(t->inner_ctx, index, hva);
}

static const uint8_t *tap_view(void *ctx, uint64_t gpa, uint32_t len)
{
    struct tap *t = ctx;
    return t->inner.view(t->inner_ctx, gpa, len);
}

static uint8_t *tap_message_page(void *ctx, uint32_t vp)
{
    struct tap *t = ctx;
    return t->inner.message_page(t->inner_ctx, vp);
}

static void tap_eom(void *ctx, uint32_t vp)
{
    struct tap *t = ctx;
    t->inner.eom(t->inner_ctx, vp);
}

/* A world whose client issues its calls through @t. */
static void world_tapped(struct world *w, struct tap *t, enum hvlog_abi_profile abi)
{
    struct hvlog_client_config cc;

    world_up(w, 1, 1, 3, true, abi);
    hvlog_client_destroy(w->client);
    memset(t, 0, sizeof(*t));
    t->inner = w->ops;
    t->inner_ctx = w->sim;
    w->ops = (struct hvlog_root_ops){.hypercall = tap_hypercall, .scratch_page = tap_scratch,
                                     .view = tap_view, .message_page = tap_message_page,
                                     .eom = tap_eom, .vp_count = t->inner.vp_count,
                                     .domain_count = t->inner.domain_count};
    cc = (struct hvlog_client_config){.ops = &w->ops, .ctx = t, .abi = abi};
    assert_int_equal(hvlog_client_create(&cc, &w->client), 0);
}

/* "01 00 ..." (spaces ignored) into @out; returns the byte count. */
static uint32_t unhex(const char *hex, uint8_t *out, uint32_t cap)
{
    uint32_t n = 0;

    for (const char *p = hex; *p;) {
        unsigned byte = 0;

        if (*p == ' ') {
            p++;
            continue;
        }
        assert_true(n < cap);
        assert_int_equal(sscanf(p, "%2x", &byte), 1);
        out[n++] = (uint8_t)byte;
        p += 2;
    }
    return n;
}

/* One call as the client must issue it: a fast call's RDX and R8, or a
 * memory call's input bytes (@hex, then zeros up to @zero_to) and whether
 * it names an output page (R8 != 0). */
struct expected_call {
    uint16_t code;
    bool fast;
    uint64_t rdx, r8;       /* fast */
    const char *hex;        /* memory */
    uint32_t zero_to;       /* memory: bytes after @hex that must be zero, up to here */
    bool output;            /* memory: an output GPA is passed */
};

#define SELF HV_PARTITION_ID_SELF
#define FAST(code, rdx, r8) {(code), true, (rdx), (r8), NULL, 0, false}
#define MEM(code, hex, zero_to, output) {(code), false, 0, 0, (hex), (zero_to), (output)}
#define TYPE_INDEX(i) (1ull | (uint64_t)(i) << 32) /* LocalDiagnostics, buffer i */

/*
 * The calls of prepare (2 buffers of 2 pages, threshold 1, SystemTime
 * 0x01DB000000000000), SetSources(HC), one event, Flush 0, the drain
 * (Release 0) and conclude, in order.
 *
 * Current: research real-clients.md §1.1, the Linux mshv_trace table, row
 * by row: Initialize memory with the packed 28 bytes and output GPA 0
 * (CREATE 1; Mode 1 = Circular @2, BufferSizeInBytes 0x2000 @8, SystemTime
 * @20); Create fast16 with an all-zero ProximityInfo in R8 (CREATE 2); Map
 * memory {type, index, SELF} with an output page (CREATE 3); SetSources
 * memory, 544 bytes zeroed, GroupCount 0, flags @8, output GPA 0 (START,
 * STOP 1); Flush and Release fast8 (STOP 2, data); Unmap fast16 with SELF
 * in R8 (DESTROY 1); Delete fast8 (DESTROY 2); Finalize fast8 (DESTROY 3).
 */
static const struct expected_call current_calls[] = {
    MEM(0x0060, "0100 0100 02000000 00200000 01000000 00000000 000000000000DB01", 0, false),
    FAST(0x0062, TYPE_INDEX(0), 0),
    MEM(0x0064, "01000000 00000000 FFFFFFFFFFFFFFFF", 0, true),
    FAST(0x0062, TYPE_INDEX(1), 0),
    MEM(0x0064, "01000000 01000000 FFFFFFFFFFFFFFFF", 0, true),
    MEM(0x0066, "01000000 00000000 0004000000000000", 544, false),
    FAST(0x0068, TYPE_INDEX(0), 0),
    FAST(0x0067, TYPE_INDEX(0), 0),
    MEM(0x0066, "01000000 00000000 0000000000000000", 544, false),
    FAST(0x0065, TYPE_INDEX(0), SELF),
    FAST(0x0063, TYPE_INDEX(0), 0),
    FAST(0x0065, TYPE_INDEX(1), SELF),
    FAST(0x0063, TYPE_INDEX(1), 0),
    FAST(0x0061, 1, 0),
};

/* 2013: spec §5.1-§5.9 and research §2.2-§2.3, "T13" columns: Initialize
 * 32 bytes (BufferPages @8, padding, SystemTime @24), Map {type, index}
 * 8 bytes, SetSources fast {type, pad} {EnableFlags}, Unmap fast8. */
static const struct expected_call calls_2013[] = {
    MEM(0x0060, "01000000 02000000 02000000 01000000 00000000 00000000 000000000000DB01", 0, false),
    FAST(0x0062, TYPE_INDEX(0), 0),
    MEM(0x0064, "01000000 00000000", 0, true),
    FAST(0x0062, TYPE_INDEX(1), 0),
    MEM(0x0064, "01000000 01000000", 0, true),
    FAST(0x0066, 1, HV_TR_GROUP_HC),
    FAST(0x0068, TYPE_INDEX(0), 0),
    FAST(0x0067, TYPE_INDEX(0), 0),
    FAST(0x0066, 1, 0),
    FAST(0x0065, TYPE_INDEX(0), 0),
    FAST(0x0063, TYPE_INDEX(0), 0),
    FAST(0x0065, TYPE_INDEX(1), 0),
    FAST(0x0063, TYPE_INDEX(1), 0),
    FAST(0x0061, 1, 0),
};

static void every_call_carries_the_bytes_of_the_profiles_table(void **state)
{
    const enum hvlog_abi_profile abi = abi_of(state);
    const struct expected_call *want = abi == HVLOG_ABI_CURRENT ? current_calls : calls_2013;
    const size_t count = abi == HVLOG_ABI_CURRENT ? sizeof current_calls / sizeof current_calls[0]
                                                       : sizeof calls_2013 / sizeof calls_2013[0];
    struct hvlog_group_params p = *local_params(2, 2, 1);
    struct seen s = {.convention = convention_of(abi)};
    uint8_t payload[16] = {0};
    struct world w;
    struct tap *t = calloc(1, sizeof *t);

    assert_non_null(t);
    world_tapped(&w, t, abi);
    /* Mode only exists in the current layout; Circular shows where it goes. */
    p.mode = abi == HVLOG_ABI_CURRENT ? HvEventLogModeCircular : HvEventLogModeRegular;
    assert_int_equal(hvlog_client_prepare(w.client, &p), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_set_sources(w.client, LOCAL, HC), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_sim_log(w.sim, 0, LOCAL, HC, 0x1A, 0, payload, 16), HVLOG_LOG_RECORDED);
    assert_int_equal(hvlog_client_flush(w.client, 0, LOCAL, 0), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_poll(w.client, 0, &sink, &s), 1);
    assert_int_equal(hvlog_client_conclude(w.client, LOCAL, &sink, &s), HV_STATUS_SUCCESS);
    assert_int_equal(s.entries[0], 1);
    assert_int_equal(s.corrupt + s.wrong_convention, 0);

    assert_int_equal(t->n, count);
    for (size_t k = 0; k < count; k++) {
        const struct tapped_call *got = &t->calls[k];
        uint8_t bytes[TAP_INPUT_BYTES];

        uint32_t n = want[k].fast ? 0 : unhex(want[k].hex, bytes, sizeof bytes);
        bool zeros = true;

        for (uint32_t b = n; b < want[k].zero_to; b++)
            zeros = zeros && got->input[b] == 0;
        /* §3.1: the bare call code, Fast as the row says, nothing else. */
        if (got->rcx != (want[k].code | (want[k].fast ? HV_HYPERCALL_FAST_BIT : 0)) ||
            (want[k].fast ? got->rdx != want[k].rdx || got->r8 != want[k].r8
                          : memcmp(got->input, bytes, n) != 0 || !zeros ||
                                (got->r8 != 0) != want[k].output))
            fprintf(stderr, "call %zu (0x%04x) differs from its row\n", k, (unsigned)want[k].code);
        assert_int_equal(got->rcx, want[k].code | (want[k].fast ? HV_HYPERCALL_FAST_BIT : 0));
        if (want[k].fast) {
            assert_int_equal(got->rdx, want[k].rdx);
            assert_int_equal(got->r8, want[k].r8);
        } else {
            assert_memory_equal(got->input, bytes, n);
            assert_true(zeros);
            assert_int_equal(got->r8 != 0, want[k].output);
        }
    }
    world_down(&w);
    free(t);
}

/* The 2013 Initialize has no Mode: a Circular group is refused by the
 * client itself, before any call. */
static void circular_mode_is_refused_under_2013_without_a_call(void **state)
{
    struct hvlog_group_params p = *local_params(2, 1, 1);
    struct world w;
    struct tap *t = calloc(1, sizeof *t);
    (void)state;

    assert_non_null(t);
    world_tapped(&w, t, HVLOG_ABI_2013);
    p.mode = HvEventLogModeCircular;
    assert_int_equal(hvlog_client_prepare(w.client, &p), HV_STATUS_INVALID_PARAMETER);
    assert_int_equal(t->n, 0);
    p.mode = HvEventLogModeRegular;
    assert_int_equal(hvlog_client_prepare(w.client, &p), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_conclude(w.client, LOCAL, NULL, NULL), HV_STATUS_SUCCESS);
    world_down(&w);
    free(t);
}

/*
 * §11.1 [DEC] Circular mode against Regular, same events: LP 1 holds one
 * buffer InUse, LP 0 cycles through the other three, and its list
 * (threshold 4) is never due, so no reader frees a buffer. Regular loses
 * the newest events; Circular overwrites the oldest and keeps the newest.
 * Either way: read + EventsLost + lost pending + overwritten == logged.
 */
static void circular_mode_keeps_the_newest_events_and_counts_the_overwritten(void **state)
{
    const uint32_t logged = 1000;
    (void)state;

    for (uint32_t mode = HvEventLogModeRegular; mode <= HvEventLogModeCircular; mode++) {
        struct hvlog_group_params p = *local_params(4, 1, 4);
        struct seen s = {.check_pattern = true, .convention = HVLOG_ABI_CURRENT};
        struct hvlog_scope_stats sc;
        uint8_t payload[40];
        struct world w;

        world_up(&w, 2, 1, 11, true, HVLOG_ABI_CURRENT);
        p.mode = mode;
        assert_int_equal(hvlog_client_prepare(w.client, &p), HV_STATUS_SUCCESS);
        assert_int_equal(hvlog_client_set_sources(w.client, LOCAL, HC), HV_STATUS_SUCCESS);
        make_payload(payload, 1, 0, 40);
        assert_int_equal(hvlog_sim_log(w.sim, 1, LOCAL, HC, 0x1A, 0, payload, 40), HVLOG_LOG_RECORDED);
        for (uint32_t seq = 0; seq < logged; seq++) {
            make_payload(payload, 0, seq, 40);
            hvlog_sim_log(w.sim, 0, LOCAL, HC, 0x1A, seq, payload, 40);
            poll_all(&w, &s); /* nothing is due: the reader cannot help */
        }
        hvlog_engine_scope_stats(hvlog_sim_engine(w.sim), LOCAL, 0, &sc);
        if (mode == HvEventLogModeCircular) {
            assert_true(sc.events_overwritten > 0);
            assert_int_equal(sc.events_lost_no_buffer, 0);
        } else {
            assert_int_equal(sc.events_overwritten, 0);
            assert_true(sc.events_lost_no_buffer > 0);
        }
        assert_int_equal(s.buffers, 0);
        assert_int_equal(hvlog_client_conclude(w.client, LOCAL, &sink, &s), HV_STATUS_SUCCESS);
        hvlog_engine_scope_stats(hvlog_sim_engine(w.sim), LOCAL, 0, &sc);
        assert_int_equal(s.entries[0] + s.events_lost[0] + sc.lost_pending + sc.events_overwritten,
                         logged);
        assert_int_equal(s.entries[1], 1);
        if (mode == HvEventLogModeCircular)
            assert_int_equal(s.last_seq[0], logged - 1); /* the newest survive */
        else
            assert_true(s.last_seq[0] < logged - 1);     /* the newest were lost */
        assert_int_equal(s.bad_payload + s.out_of_order + s.corrupt + s.wrong_convention, 0);
        world_down(&w);
    }
}

/* A client must speak its hypervisor's profile: the other layout's
 * Initialize is refused (2013 BufferPages read as BufferSizeInBytes is no
 * page multiple; the packed block read as 2013 has BufferPages 4096 > 512),
 * and nothing is left behind. */
static void a_client_of_the_other_profile_is_refused_at_initialize(void **state)
{
    for (int k = 0; k < 2; k++) {
        enum hvlog_abi_profile hv = k ? HVLOG_ABI_CURRENT : HVLOG_ABI_2013;
        enum hvlog_abi_profile root = k ? HVLOG_ABI_2013 : HVLOG_ABI_CURRENT;
        struct hvlog_client_config cc;
        struct world w;
        uint32_t before;
        (void)state;

        world_up(&w, 1, 1, 5, true, hv);
        hvlog_client_destroy(w.client);
        cc = (struct hvlog_client_config){.ops = &w.ops, .ctx = w.sim, .abi = root};
        assert_int_equal(hvlog_client_create(&cc, &w.client), 0);
        before = pool_total(&w);
        assert_int_equal(hvlog_client_prepare(w.client, local_params(2, 1, 1)),
                         HV_STATUS_INVALID_PARAMETER);
        assert_int_equal(pool_total(&w), before);
        world_down(&w);
    }
}

static void a_client_config_with_an_unknown_profile_is_refused(void **state)
{
    struct world w;
    struct hvlog_client *c = NULL;
    struct hvlog_client_config cc;
    (void)state;

    world_up(&w, 1, 1, 5, true, HVLOG_ABI_2013);
    cc = (struct hvlog_client_config){.ops = &w.ops, .ctx = w.sim, .abi = (enum hvlog_abi_profile)2};
    assert_int_equal(hvlog_client_create(&cc, &c), -1);
    assert_null(c);
    world_down(&w);
}

int main(void)
{
/* One row per profile: NAME/2013 and NAME/current, the profile as the state. */
#define BOTH_PROFILES(fn)                                                  \
    {#fn "/2013", fn, NULL, NULL, (void *)&abi_2013},                      \
    {#fn "/current", fn, NULL, NULL, (void *)&abi_current}
    const struct CMUnitTest tests[] = {
        BOTH_PROFILES(prepare_log_drain_conclude_returns_every_page),
        BOTH_PROFILES(conservation_holds_over_many_seeds),
        BOTH_PROFILES(a_slow_reader_loses_events_and_ready_buffers_do_not_change),
        BOTH_PROFILES(synic_pressure_delivers_every_list_once),
        BOTH_PROFILES(allocation_failure_at_every_step_of_prepare_unwinds),
        BOTH_PROFILES(insufficient_memory_is_answered_with_a_deposit),
        BOTH_PROFILES(lp_threads_and_the_client_conserve_every_event),
        BOTH_PROFILES(every_call_carries_the_bytes_of_the_profiles_table),
        cmocka_unit_test(circular_mode_is_refused_under_2013_without_a_call),
        cmocka_unit_test(circular_mode_keeps_the_newest_events_and_counts_the_overwritten),
        cmocka_unit_test(a_client_of_the_other_profile_is_refused_at_initialize),
        cmocka_unit_test(a_client_config_with_an_unknown_profile_is_refused),
    };
#undef BOTH_PROFILES
    return cmocka_run_group_tests(tests, NULL, NULL);
}
