/* SPDX-License-Identifier: MIT */
/*
 * The buffer state machine (spec §6): every transition T1-T11 with the header
 * fields it writes, the legality matrix of §6.2 cell by cell (and the knobs
 * release_from_complete / unmap_state_status of §12.1), the FIFO free list
 * and the domain preference of DEC-SELECT (§7.2), and the global class (§7.1).
 *
 * Every source state is built through the public API only: hypercalls on the
 * fake host and hvlog_log().
 *
 * The suite runs under both ABI profiles (tests/engine/CMakeLists.txt). Header
 * values that differ are written with the fake host's helpers, which branch on
 * the profile: NextBufferOffset as fake_next_offset(data bytes) and BufferSize
 * as fake_buffer_size_field(pages) (§4.4 vs §11.4, D9); masks as
 * FAKE_ALL_SOURCES and events of SOURCE (bit 0 is the current "extended"
 * flag, §11.3, D5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine_test_util.h"
#include "fake_host.h"

#define GONE 0xFFu /* fake_state() of a buffer that does not exist */

enum { STANDBY = HvEventLogBufferStateStandby, FREE = HvEventLogBufferStateFree,
       INUSE = HvEventLogBufferStateInUse, COMPLETE = HvEventLogBufferStateComplete,
       READY = HvEventLogBufferStateReady };

/* fake_host and snapshots are large: keep them off the stack. */
static struct fake_host host;
static struct fake_snapshot snap_before, snap_after;

static struct hvlog_buffer_info binfo(struct fake_host *h, uint32_t type, uint32_t index)
{
    struct hvlog_buffer_info b;

    assert_int_equal(hvlog_engine_buffer_info(h->engine, type, index, &b), 0);
    return b;
}

/*
 * Record events on @lp until the scope's current buffer is exactly full, so
 * §7.3 step 6 completes it (T6). Returns the index of the buffer filled.
 */
static void create_map(struct fake_host *h, uint32_t type, uint32_t index)
{
    assert_int_equal(fake_create(h, type, index, 0, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_map(h, type, index, NULL), HV_STATUS_SUCCESS);
}

/* ---- T1..T11, one by one, with the header fields each writes ---------------- */

static void t1_create_makes_a_zeroed_standby_buffer_with_its_identity_in_the_header(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 8, 2, 1, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, 5), GONE);
    assert_int_equal(fake_create(&host, LOCAL, 5, 0, 0), HV_STATUS_SUCCESS);

    /* §5.3: the header and zeroed pages. */
    assert_created_buffer(&host, LOCAL, 5, 2);
    /* Standby: the logging path ignores it. */
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 0), HVLOG_LOG_LOST);
    assert_int_equal(fake_state(&host, LOCAL, 5), STANDBY);
    fake_host_fini(&host);
}

static void t2_delete_of_standby_frees_the_pages_and_the_index(void **state)
{
    int64_t used;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 4, 3, 1, 0), HV_STATUS_SUCCESS);
    used = fake_pool_used(&host);
    assert_int_equal(fake_create(&host, LOCAL, 2, 0, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_pool_used(&host), used + 1);
    assert_int_equal(host.pool_free[0], 4096 - 1 - 3);
    assert_int_equal(group(&host, LOCAL).buffers_created, 1);

    assert_int_equal(fake_delete(&host, LOCAL, 2), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, 2), GONE);
    assert_int_equal(fake_pool_used(&host), used);
    assert_int_equal(host.pool_free[0], 4096 - 1);
    assert_int_equal(group(&host, LOCAL).buffers_created, 0);
    /* The index is free for a later Create. */
    assert_int_equal(fake_create(&host, LOCAL, 2, 0, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, 2), STANDBY);
    fake_host_fini(&host);
}

static void t3_map_makes_standby_free_and_returns_the_overlay_page_numbers(void **state)
{
    uint64_t gpa[4] = {0};
    struct hvlog_buffer_info b;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 4, 3, 1, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_create(&host, LOCAL, 1, 0, 0), HV_STATUS_SUCCESS);
    assert_int_equal(group(&host, LOCAL).free_count, 0);
    assert_int_equal(fake_map(&host, LOCAL, 1, gpa), HV_STATUS_SUCCESS);

    b = binfo(&host, LOCAL, 1);
    assert_int_equal(b.state, FREE);
    assert_int_equal(b.header.buffer_state, FREE);
    assert_int_equal(group(&host, LOCAL).free_count, 1);
    assert_int_equal(host.overlays_mapped, 1);
    /* Page k of the buffer, as the fake host's overlay_map numbered it. */
    for (uint32_t k = 0; k < 3; k++)
        assert_int_equal(gpa[k], 0x100000ull + ((uint64_t)(uintptr_t)b.pages.hva >> 12) + k);
    assert_int_equal(gpa[3], 0);
    /* Free: the next event may take it at once. */
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 0), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_state(&host, LOCAL, 1), INUSE);
    fake_host_fini(&host);
}

static void t4_unmap_of_free_goes_to_standby_and_leaves_the_free_list(void **state)
{
    struct hvlog_buffer_info b;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 1, 1, 1, FAKE_ALL_SOURCES);
    assert_int_equal(group(&host, LOCAL).free_count, 1);
    assert_int_equal(host.overlays_mapped, 1);

    assert_int_equal(fake_unmap(&host, LOCAL, 0), HV_STATUS_SUCCESS);
    b = binfo(&host, LOCAL, 0);
    assert_int_equal(b.state, STANDBY);
    assert_int_equal(b.header.buffer_state, STANDBY);
    assert_int_equal(group(&host, LOCAL).free_count, 0);
    assert_int_equal(host.overlays_mapped, 0);
    /* No longer on the free list: an event finds no buffer. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 0), HVLOG_LOG_LOST);
    assert_int_equal(stats(&host, LOCAL, 0).events_lost_no_buffer, 1);
    assert_int_equal(fake_state(&host, LOCAL, 0), STANDBY);
    fake_host_fini(&host);
}

/*
 * T5 writes NextBufferOffset, TimeStamp, EventsLost, LogicalProcessor and
 * NextBufferIndex. The buffer taken here was unmapped while Ready at the head
 * of a chain (T11) and mapped again, so its header still carries old values.
 */
static void t5_take_writes_offset_timestamp_lost_count_lp_and_clears_the_chain_link(void **state)
{
    struct hv_eventlog_buffer_header hd;
    uint32_t first, second, third, chain[4], type, index;
    uint64_t before;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 3, 1, 3, FAKE_ALL_SOURCES);
    first = fill_one(&host, 1, LOCAL);
    second = fill_one(&host, 1, LOCAL);
    assert_int_equal(fake_flush(&host, LOCAL, first), HV_STATUS_SUCCESS);
    assert_true(fake_take_message(&host, 1, &type, &index));
    assert_int_equal(index, first);
    assert_int_equal(fake_chain(&host, LOCAL, first, chain, 4), 2);
    assert_int_equal(chain[1], second);

    /* T11: unmapped while Ready; buffer `second` keeps its place. */
    assert_int_equal(fake_unmap(&host, LOCAL, first), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, second), READY);
    third = fill_one(&host, 1, LOCAL);
    assert_int_not_equal(third, first);
    /* No Free buffer: three events of LP 1 are lost. */
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(fake_log(&host, 1, LOCAL, 8, i), HVLOG_LOG_LOST);
    assert_int_equal(stats(&host, LOCAL, 1).lost_pending, 3);

    assert_int_equal(fake_map(&host, LOCAL, first, NULL), HV_STATUS_SUCCESS);
    before = host.now;
    assert_int_equal(hvlog_log(host.logger, 1, LOCAL, ~0ull, 0x22, 7, "abcdefgh", 8),
                     HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, LOCAL, 1), first);
    hd = fake_header(&host, LOCAL, first);
    assert_int_equal(hd.buffer_state, INUSE);
    assert_int_equal(hd.next_buffer_offset, fake_next_offset(&host, 24)); /* empty at T5, then one 24-byte entry */
    assert_true(hd.time_stamp > before);
    assert_true(hd.time_stamp <= hvlog_load_le64(binfo(&host, LOCAL, first).pages.hva + 72 + 8));
    assert_int_equal(hd.events_lost, 3);
    assert_int_equal(hd.logical_processor, 1);
    assert_int_equal(hd.next_buffer_index, NONE_IDX);
    assert_int_equal(binfo(&host, LOCAL, first).owner_lp, 1);
    assert_int_equal(stats(&host, LOCAL, 1).lost_pending, 0);
    fake_host_fini(&host);
}

static void t6_an_entry_that_does_not_fit_completes_the_buffer_and_moves_on(void **state)
{
    struct hv_eventlog_buffer_header hd;
    uint32_t a, b;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES);
    /* 4024 bytes of room: two 2000-byte entries leave 24. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 1984, 0), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_log(&host, 0, LOCAL, 1984, 1), HVLOG_LOG_RECORDED);
    a = active(&host, LOCAL, 0);
    assert_int_equal(fake_header(&host, LOCAL, a).next_buffer_offset, fake_next_offset(&host, 4000));
    /* 32 bytes do not fit into 24. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 16, 2), HVLOG_LOG_RECORDED);
    b = active(&host, LOCAL, 0);
    assert_int_not_equal(a, b);
    hd = fake_header(&host, LOCAL, a);
    assert_int_equal(hd.buffer_state, COMPLETE);
    assert_int_equal(hd.next_buffer_offset, fake_next_offset(&host, 4000)); /* untouched */
    assert_int_equal(fake_header(&host, LOCAL, b).next_buffer_offset, fake_next_offset(&host, 32));
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 1);
    assert_int_equal(stats(&host, LOCAL, 0).buffers_completed, 1);
    assert_int_equal(host.posts, 0); /* below threshold */
    fake_host_fini(&host);
}

/*
 * T7 on its own: while the group's message buffer is busy (DEC-MSGBUF) a
 * flushed buffer stays Complete on its list; it turns Ready (T9) when the
 * message buffer frees.
 */
static void t7_flush_of_in_use_makes_it_complete_then_t9_ready_once_delivered(void **state)
{
    uint32_t first, x, type, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 1, FAKE_ALL_SOURCES);
    first = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_state(&host, LOCAL, first), READY);
    assert_int_equal(fake_queued(&host, 0), 1); /* not taken: message buffer busy */

    assert_int_equal(fake_log(&host, 1, LOCAL, 40, 0), HVLOG_LOG_RECORDED);
    x = active(&host, LOCAL, 1);
    assert_int_equal(fake_flush(&host, LOCAL, x), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, x), COMPLETE);
    assert_int_equal(fake_header(&host, LOCAL, x).next_buffer_offset, fake_next_offset(&host, 56));
    assert_int_equal(active(&host, LOCAL, 1), NONE_IDX);
    assert_int_equal(stats(&host, LOCAL, 1).pending_count, 1);
    assert_int_equal(group(&host, LOCAL).due_lists, 1);
    assert_int_equal(fake_queued(&host, 1), 0);

    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, first);
    assert_int_equal(fake_state(&host, LOCAL, x), READY);
    assert_int_equal(fake_header(&host, LOCAL, x).next_buffer_index, NONE_IDX);
    assert_int_equal(fake_queued(&host, 1), 1);
    assert_true(fake_take_message(&host, 1, &type, &index));
    assert_int_equal(index, x);
    fake_host_fini(&host);
}

static void t8_threshold_makes_the_list_ready_chained_in_completion_order(void **state)
{
    uint32_t a, b, c, type, index, chain[4];
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 3, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, LOCAL);
    b = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_state(&host, LOCAL, a), COMPLETE);
    assert_int_equal(fake_state(&host, LOCAL, b), COMPLETE);
    assert_int_equal(host.posts, 0);
    c = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_state(&host, LOCAL, a), READY);
    assert_int_equal(fake_state(&host, LOCAL, b), READY);
    assert_int_equal(fake_state(&host, LOCAL, c), READY);
    assert_int_equal(fake_header(&host, LOCAL, a).next_buffer_index, b);
    assert_int_equal(fake_header(&host, LOCAL, b).next_buffer_index, c);
    assert_int_equal(fake_header(&host, LOCAL, c).next_buffer_index, NONE_IDX);
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 0);
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(type, LOCAL);
    assert_int_equal(index, a);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 4), 3);
    fake_host_fini(&host);
}

static void t9_flush_of_a_complete_buffer_makes_its_list_ready_below_threshold(void **state)
{
    uint32_t a, b, type, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, LOCAL);
    b = fill_one(&host, 0, LOCAL);
    /* The second buffer names the list. */
    assert_int_equal(fake_flush(&host, LOCAL, b), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, a), READY);
    assert_int_equal(fake_state(&host, LOCAL, b), READY);
    assert_int_equal(fake_header(&host, LOCAL, a).next_buffer_index, b);
    assert_int_equal(fake_header(&host, LOCAL, b).next_buffer_index, NONE_IDX);
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, a);
    fake_host_fini(&host);
}

static void t10_release_makes_ready_free_clears_the_link_and_appends_to_the_free_tail(void **state)
{
    uint32_t a, b, c, d;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 2, FAKE_ALL_SOURCES); /* free list 0,1,2,3 */
    a = fill_one(&host, 0, LOCAL);
    b = fill_one(&host, 0, LOCAL);
    assert_int_equal(a, 0);
    assert_int_equal(b, 1);
    assert_int_equal(fake_header(&host, LOCAL, a).next_buffer_index, b);
    assert_true(fake_take_message(&host, 0, NULL, NULL));

    /* Released in reverse order: 1 then 0, behind 2 and 3. */
    assert_int_equal(fake_release(&host, LOCAL, b), HV_STATUS_SUCCESS);
    assert_int_equal(fake_release(&host, LOCAL, a), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, a), FREE);
    assert_int_equal(fake_header(&host, LOCAL, a).buffer_state, FREE);
    assert_int_equal(fake_header(&host, LOCAL, a).next_buffer_index, NONE_IDX);
    assert_int_equal(fake_header(&host, LOCAL, b).next_buffer_index, NONE_IDX);
    assert_int_equal(group(&host, LOCAL).free_count, 4);

    c = fill_one(&host, 0, LOCAL);
    d = fill_one(&host, 0, LOCAL);
    assert_int_equal(c, 2);
    assert_int_equal(d, 3);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    assert_int_equal(fill_one(&host, 0, LOCAL), 1);
    assert_int_equal(fill_one(&host, 0, LOCAL), 0);
    fake_host_fini(&host);
}

static void t11_unmap_of_ready_goes_to_standby_and_leaves_the_chain_alone(void **state)
{
    uint32_t a, b, c;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 3, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, LOCAL);
    b = fill_one(&host, 0, LOCAL);
    c = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_header(&host, LOCAL, a).next_buffer_index, b);
    assert_int_equal(host.overlays_mapped, 4);

    assert_int_equal(fake_unmap(&host, LOCAL, b), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, b), STANDBY);
    assert_int_equal(fake_header(&host, LOCAL, b).buffer_state, STANDBY);
    assert_int_equal(host.overlays_mapped, 3);
    /* Q-UNMAPREADY: a still points at b; c is still Ready. */
    assert_int_equal(fake_header(&host, LOCAL, a).next_buffer_index, b);
    assert_int_equal(fake_state(&host, LOCAL, a), READY);
    assert_int_equal(fake_state(&host, LOCAL, c), READY);
    /* Standby: not on the free list, may be deleted. */
    assert_int_equal(group(&host, LOCAL).free_count, 1);
    assert_int_equal(fake_delete(&host, LOCAL, b), HV_STATUS_SUCCESS);
    fake_host_fini(&host);
}

/* ---- §6.2 legality matrix, cell by cell ---------------------------------------- */

enum src_state { SRC_STANDBY, SRC_FREE, SRC_INUSE, SRC_COMPLETE, SRC_READY, SRC_NONE, SRC_COUNT };
static const char *const src_names[SRC_COUNT] = {"Standby", "Free", "InUse", "Complete", "Ready",
                                                  "no such buffer"};
enum op { OP_MAP, OP_FLUSH, OP_RELEASE, OP_UNMAP, OP_DELETE, OP_CREATE };
static const char *const op_names[] = {"Map", "Flush", "Release", "Unmap", "Delete", "Create"};

#define TARGET 0u /* the buffer index every cell operates on */

/*
 * A local group of 4 one-page buffers, threshold 2, on a 1-LP host, with
 * buffer TARGET in @s. Buffers 1..3 are created and mapped behind it.
 */
static void build_state(struct fake_host *h, enum src_state s, const struct hvlog_profile *p)
{
    assert_int_equal(fake_host_init(h, 1, 1, 4096, p), 0);
    assert_int_equal(fake_init(h, LOCAL, 4, 1, 2, 0), HV_STATUS_SUCCESS);
    if (s != SRC_NONE)
        assert_int_equal(fake_create(h, LOCAL, TARGET, 0, 0), HV_STATUS_SUCCESS);
    if (s != SRC_NONE && s != SRC_STANDBY)
        assert_int_equal(fake_map(h, LOCAL, TARGET, NULL), HV_STATUS_SUCCESS);
    for (uint32_t i = 1; i < 4; i++)
        create_map(h, LOCAL, i);
    assert_int_equal(fake_sources(h, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);
    switch (s) {
    case SRC_INUSE: /* one logged event: the head of the free list goes InUse */
        assert_int_equal(fake_log(h, 0, LOCAL, 8, 0), HVLOG_LOG_RECORDED);
        assert_int_equal(fake_state(h, LOCAL, TARGET), INUSE);
        break;
    case SRC_COMPLETE: /* one completed buffer, below the threshold of 2 */
        assert_int_equal(fill_one(h, 0, LOCAL), TARGET);
        assert_int_equal(fake_state(h, LOCAL, TARGET), COMPLETE);
        break;
    case SRC_READY:
        assert_int_equal(fill_one(h, 0, LOCAL), TARGET);
        assert_int_equal(fake_flush(h, LOCAL, TARGET), HV_STATUS_SUCCESS);
        assert_int_equal(fake_state(h, LOCAL, TARGET), READY);
        assert_true(fake_take_message(h, 0, NULL, NULL));
        break;
    case SRC_STANDBY:
        assert_int_equal(fake_state(h, LOCAL, TARGET), STANDBY);
        break;
    case SRC_FREE:
        assert_int_equal(fake_state(h, LOCAL, TARGET), FREE);
        break;
    default:
        assert_int_equal(fake_state(h, LOCAL, TARGET), GONE);
        break;
    }
}

static hv_status_t run_op(struct fake_host *h, enum op op)
{
    switch (op) {
    case OP_MAP: return fake_map(h, LOCAL, TARGET, NULL);
    case OP_FLUSH: return fake_flush(h, LOCAL, TARGET);
    case OP_RELEASE: return fake_release(h, LOCAL, TARGET);
    case OP_UNMAP: return fake_unmap(h, LOCAL, TARGET);
    case OP_DELETE: return fake_delete(h, LOCAL, TARGET);
    default: return fake_create(h, LOCAL, TARGET, 0, 0);
    }
}

#define NOOP 0xFEu /* expected: SUCCESS, and nothing observable changes */

struct cell {
    enum op op;
    enum src_state src;
    hv_status_t status;
    uint32_t result; /* resulting state, GONE, or NOOP; ignored on failure (state unchanged) */
};

static void check_cell(const struct cell *c, const struct hvlog_profile *p)
{
    hv_status_t st;
    uint32_t posts;
    int diff;

    build_state(&host, c->src, p);
    fake_snapshot(&host, &snap_before);
    posts = host.posts;
    st = run_op(&host, c->op);
    fake_snapshot(&host, &snap_after);
    diff = fake_snapshot_diff(&snap_before, &snap_after);
    if (st != c->status)
        fail_msg("%s of %s: status 0x%x, expected 0x%x", op_names[c->op], src_names[c->src], st,
                 c->status);
    if (c->status != HV_STATUS_SUCCESS || c->result == NOOP) {
        /* A failing call, or a no-op: nothing changed, no message. */
        if (diff != 0 || host.posts != posts)
            fail_msg("%s of %s: state changed (diff %d, posts %u->%u)", op_names[c->op],
                     src_names[c->src], diff, posts, host.posts);
    } else {
        uint32_t now = fake_state(&host, LOCAL, TARGET);
        if (now != c->result)
            fail_msg("%s of %s: state %u, expected %u", op_names[c->op], src_names[c->src], now,
                     c->result);
        if (c->result != GONE && fake_header(&host, LOCAL, TARGET).buffer_state != c->result)
            fail_msg("%s of %s: header BufferState %u", op_names[c->op], src_names[c->src],
                     fake_header(&host, LOCAL, TARGET).buffer_state);
        if (c->op == OP_FLUSH) { /* "list -> Ready + message" */
            uint32_t index = 0;
            if (host.posts != posts + 1 || !fake_take_message(&host, 0, NULL, &index) ||
                index != TARGET)
                fail_msg("Flush of %s: no message naming buffer %u", src_names[c->src], TARGET);
        }
    }
    fake_host_fini(&host);
}

static void check_cells(const struct cell *cells, size_t n, const struct hvlog_profile *p)
{
    for (size_t i = 0; i < n; i++)
        check_cell(&cells[i], p);
}

#define OK HV_STATUS_SUCCESS
#define OPD HV_STATUS_OPERATION_DENIED
#define INV HV_STATUS_INVALID_PARAMETER
#define ACC HV_STATUS_ACCESS_DENIED

static void matrix_map_row(void **state)
{
    static const struct cell cells[] = {
        {OP_MAP, SRC_STANDBY, OK, FREE},   {OP_MAP, SRC_FREE, OPD, 0},
        {OP_MAP, SRC_INUSE, OPD, 0},       {OP_MAP, SRC_COMPLETE, OPD, 0},
        {OP_MAP, SRC_READY, OPD, 0},       {OP_MAP, SRC_NONE, INV, 0},
    };
    (void)state;
    check_cells(cells, sizeof cells / sizeof cells[0], NULL);
}

static void matrix_flush_row(void **state)
{
    static const struct cell cells[] = {
        {OP_FLUSH, SRC_STANDBY, OK, NOOP},  {OP_FLUSH, SRC_FREE, OK, NOOP},
        {OP_FLUSH, SRC_INUSE, OK, READY},   {OP_FLUSH, SRC_COMPLETE, OK, READY},
        {OP_FLUSH, SRC_READY, OK, NOOP},    {OP_FLUSH, SRC_NONE, INV, 0},
    };
    (void)state;
    check_cells(cells, sizeof cells / sizeof cells[0], NULL);
}

static void matrix_release_row(void **state)
{
    /* Release x Complete follows the profile's preset of release_from_complete
     * (§12.1, D13): refused under 2013, Free under current. */
    const bool from_complete = fake_profile_default().release_from_complete;
    const struct cell cells[] = {
        {OP_RELEASE, SRC_STANDBY, OPD, 0}, {OP_RELEASE, SRC_FREE, OPD, 0},
        {OP_RELEASE, SRC_INUSE, OPD, 0},
        {OP_RELEASE, SRC_COMPLETE, from_complete ? OK : OPD, from_complete ? FREE : 0},
        {OP_RELEASE, SRC_READY, OK, FREE}, {OP_RELEASE, SRC_NONE, OPD, 0},
    };
    (void)state;
    assert_int_equal(from_complete, fake_test_abi() == HVLOG_ABI_CURRENT);
    check_cells(cells, sizeof cells / sizeof cells[0], NULL);
}

static void matrix_unmap_row(void **state)
{
    static const struct cell cells[] = {
        {OP_UNMAP, SRC_STANDBY, ACC, 0},      {OP_UNMAP, SRC_FREE, OK, STANDBY},
        {OP_UNMAP, SRC_INUSE, ACC, 0},        {OP_UNMAP, SRC_COMPLETE, ACC, 0},
        {OP_UNMAP, SRC_READY, OK, STANDBY},   {OP_UNMAP, SRC_NONE, INV, 0},
    };
    (void)state;
    check_cells(cells, sizeof cells / sizeof cells[0], NULL);
}

static void matrix_delete_row(void **state)
{
    static const struct cell cells[] = {
        {OP_DELETE, SRC_STANDBY, OK, GONE}, {OP_DELETE, SRC_FREE, OPD, 0},
        {OP_DELETE, SRC_INUSE, OPD, 0},     {OP_DELETE, SRC_COMPLETE, OPD, 0},
        {OP_DELETE, SRC_READY, OPD, 0},     {OP_DELETE, SRC_NONE, INV, 0},
    };
    (void)state;
    check_cells(cells, sizeof cells / sizeof cells[0], NULL);
}

static void matrix_create_same_index_row(void **state)
{
    static const struct cell cells[] = {
        {OP_CREATE, SRC_STANDBY, INV, 0},  {OP_CREATE, SRC_FREE, INV, 0},
        {OP_CREATE, SRC_INUSE, INV, 0},    {OP_CREATE, SRC_COMPLETE, INV, 0},
        {OP_CREATE, SRC_READY, INV, 0},    {OP_CREATE, SRC_NONE, OK, STANDBY},
    };
    (void)state;
    check_cells(cells, sizeof cells / sizeof cells[0], NULL);
}

/* The "no such buffer" column also covers indices at or above MaximumBufferCount. */
static void matrix_index_at_or_above_maximum_is_no_such_buffer(void **state)
{
    static const struct {
        enum op op;
        hv_status_t status;
    } rows[] = {{OP_MAP, INV}, {OP_FLUSH, INV}, {OP_RELEASE, OPD},
                {OP_UNMAP, INV}, {OP_DELETE, INV}, {OP_CREATE, INV}};
    static const uint32_t indices[] = {4, 5, 511, 512, 0xFFFFFFFFu};
    (void)state;

    build_state(&host, SRC_FREE, NULL);
    fake_snapshot(&host, &snap_before);
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        for (size_t k = 0; k < sizeof indices / sizeof indices[0]; k++) {
            hv_status_t st;
            uint32_t i = indices[k];

            switch (rows[r].op) {
            case OP_MAP: st = fake_map(&host, LOCAL, i, NULL); break;
            case OP_FLUSH: st = fake_flush(&host, LOCAL, i); break;
            case OP_RELEASE: st = fake_release(&host, LOCAL, i); break;
            case OP_UNMAP: st = fake_unmap(&host, LOCAL, i); break;
            case OP_DELETE: st = fake_delete(&host, LOCAL, i); break;
            default: st = fake_create(&host, LOCAL, i, 0, 0); break;
            }
            if (st != rows[r].status)
                fail_msg("%s of index %u (Max 4): 0x%x", op_names[rows[r].op], i, st);
        }
    }
    fake_snapshot(&host, &snap_after);
    assert_int_equal(fake_snapshot_diff(&snap_before, &snap_after), 0);
    fake_host_fini(&host);
}

/*
 * §3.4, STYLE habit 5: the output page passes Map's probe, then goes away
 * before the write (the host changed the root's memory meanwhile). Map
 * raises the intercept for it and changes nothing: the buffer stays
 * Standby, off the free list, with no overlay; the same Map then succeeds.
 */
static void t3_map_whose_output_write_fails_changes_nothing_and_raises_the_intercept(void **state)
{
    enum hvlog_hypercall_outcome outcome;
    uint8_t in[16];
    char why[160];
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 256, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 4, 2, 1, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_create(&host, LOCAL, 0, 0, 0), HV_STATUS_SUCCESS);
    memset(host.root_mem + FAKE_OUT_GPA, 0xCC, 4096);
    memset(in, 0, sizeof in);
    hvlog_store_le32(in, LOCAL);
    hvlog_store_le64(in + 8, HV_PARTITION_ID_SELF); /* read only by the current profile */
    memcpy(host.root_mem + FAKE_IN_GPA, in, sizeof in);
    fake_snapshot(&host, &snap_before);

    host.fail_write_after = 1;
    assert_int_equal(fake_call(&host, FAKE_ROOT_ID, 0, fake_rcx(HvCallHvMapEventLogBuffer, false),
                               FAKE_IN_GPA, FAKE_OUT_GPA, &outcome),
                     0xFFFF);
    assert_int_equal(outcome, HVLOG_HYPERCALL_GPA_FAULT);
    fake_snapshot(&host, &snap_after);
    assert_int_equal(fake_snapshot_diff(&snap_before, &snap_after), 0);
    assert_int_equal(fake_state(&host, LOCAL, 0), STANDBY);
    assert_int_equal(group(&host, LOCAL).free_count, 0);
    assert_int_equal(host.overlays_mapped, 0);
    if (hvlog_engine_check(host.engine, why, sizeof why) != 0)
        fail_msg("hvlog_engine_check: %s", why);

    assert_int_equal(fake_map(&host, LOCAL, 0, NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, 0), FREE);
    assert_int_equal(host.overlays_mapped, 1);
    fake_host_fini(&host);
}

/* ---- knobs (§12.1) -------------------------------------------------------------- */

static void knob_unmap_state_status_operation_denied_replaces_access_denied(void **state)
{
    static const struct cell cells[] = {
        {OP_UNMAP, SRC_STANDBY, OPD, 0},      {OP_UNMAP, SRC_FREE, OK, STANDBY},
        {OP_UNMAP, SRC_INUSE, OPD, 0},        {OP_UNMAP, SRC_COMPLETE, OPD, 0},
        {OP_UNMAP, SRC_READY, OK, STANDBY},   {OP_UNMAP, SRC_NONE, INV, 0},
    };
    struct hvlog_profile p = fake_profile_default();
    (void)state;

    p.unmap_state_status = HV_STATUS_OPERATION_DENIED;
    check_cells(cells, sizeof cells / sizeof cells[0], &p);
}

static void knob_release_from_complete_frees_it_and_takes_it_off_its_pending_list(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    uint32_t a, b, c, type, index, chain[4];
    (void)state;

    p.release_from_complete = true;
    /* The matrix row with the knob: only Complete changes. */
    {
        static const struct cell cells[] = {
            {OP_RELEASE, SRC_STANDBY, OPD, 0}, {OP_RELEASE, SRC_FREE, OPD, 0},
            {OP_RELEASE, SRC_INUSE, OPD, 0},   {OP_RELEASE, SRC_COMPLETE, OK, FREE},
            {OP_RELEASE, SRC_READY, OK, FREE}, {OP_RELEASE, SRC_NONE, OPD, 0},
        };
        check_cells(cells, sizeof cells / sizeof cells[0], &p);
    }

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, &p), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, LOCAL);
    b = fill_one(&host, 0, LOCAL);
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 2);

    assert_int_equal(fake_release(&host, LOCAL, b), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, b), FREE);
    assert_int_equal(fake_header(&host, LOCAL, b).next_buffer_index, NONE_IDX);
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 1);
    assert_int_equal(group(&host, LOCAL).free_count, 3);

    /* b is at the tail of the free list: the next buffer is another one. */
    c = fill_one(&host, 0, LOCAL);
    assert_int_not_equal(c, b);
    assert_int_equal(fake_state(&host, LOCAL, b), FREE);
    assert_int_equal(fake_flush(&host, LOCAL, a), HV_STATUS_SUCCESS);
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, a);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 4), 2);
    assert_int_equal(chain[0], a);
    assert_int_equal(chain[1], c); /* b is not in the chain */
    assert_int_equal(fake_state(&host, LOCAL, b), FREE);
    fake_host_fini(&host);
}

/* Releasing every buffer of a list that is due but waiting for the message
 * buffer (knob on): the list is empty when served, and no message is sent for it. */
static void knob_release_from_complete_of_a_waiting_list_sends_no_empty_message(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    uint32_t a, b;
    (void)state;

    p.release_from_complete = true;
    assert_int_equal(fake_host_init(&host, 1, 1, 4096, &p), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 1, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, LOCAL);                /* Ready, message queued */
    b = fill_one(&host, 0, LOCAL);                /* Complete, due, waiting */
    assert_int_equal(fake_state(&host, LOCAL, b), COMPLETE);
    assert_int_equal(fake_release(&host, LOCAL, b), HV_STATUS_SUCCESS);
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 0);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    assert_int_equal(fake_queued(&host, 0), 0);
    assert_int_equal(host.posts, 1);
    assert_int_equal(fake_state(&host, LOCAL, a), READY);
    assert_false(group(&host, LOCAL).message_busy);
    fake_host_fini(&host);
}

/* ---- §7.2 free list and DEC-SELECT ----------------------------------------------- */

static void free_list_is_fifo_in_map_order(void **state)
{
    static const uint32_t order[] = {3, 1, 0, 2};
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 4, 1, 4, 0), HV_STATUS_SUCCESS);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(fake_create(&host, LOCAL, i, 0, 0), HV_STATUS_SUCCESS);
    for (uint32_t k = 0; k < 4; k++)
        assert_int_equal(fake_map(&host, LOCAL, order[k], NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);
    for (uint32_t k = 0; k < 4; k++)
        assert_int_equal(fill_one(&host, 0, LOCAL), order[k]);
    fake_host_fini(&host);
}

static void free_list_unmap_from_the_middle_keeps_the_order_of_the_rest(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES); /* 0,1,2,3 */
    assert_int_equal(fake_unmap(&host, LOCAL, 1), HV_STATUS_SUCCESS);
    assert_int_equal(fake_map(&host, LOCAL, 1, NULL), HV_STATUS_SUCCESS); /* 0,2,3,1 */
    assert_int_equal(fill_one(&host, 0, LOCAL), 0);
    assert_int_equal(fill_one(&host, 0, LOCAL), 2);
    assert_int_equal(fill_one(&host, 0, LOCAL), 3);
    assert_int_equal(fill_one(&host, 0, LOCAL), 1);
    fake_host_fini(&host);
}

/* 2 domains; LP n is in domain n % 2 (fake host). */
static void create_in_domain(struct fake_host *h, uint32_t index, uint32_t domain, bool valid)
{
    assert_int_equal(fake_create(h, LOCAL, index, valid ? domain : 0,
                                 valid ? HV_PROXIMITY_FLAG_VALID : 0),
                     HV_STATUS_SUCCESS);
    assert_int_equal(binfo(h, LOCAL, index).domain_valid, valid);
    if (valid)
        assert_int_equal(binfo(h, LOCAL, index).domain, domain);
}

static void select_local_prefers_a_buffer_of_the_lps_domain(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 2, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 8, 1, 8, 0), HV_STATUS_SUCCESS);
    create_in_domain(&host, 0, 0, true);
    create_in_domain(&host, 1, 0, true);
    create_in_domain(&host, 2, 1, true);
    create_in_domain(&host, 3, 1, true);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(fake_map(&host, LOCAL, i, NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);

    /* LP 1 (domain 1) skips the two domain-0 buffers at the head. */
    assert_int_equal(fake_log(&host, 1, LOCAL, 8, 0), HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, LOCAL, 1), 2);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 0), HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, LOCAL, 0), 0);
    /* Next ones keep to the domain, in FIFO order. */
    assert_int_equal(fill_one(&host, 1, LOCAL), 2);
    assert_int_equal(fill_one(&host, 1, LOCAL), 3);
    assert_int_equal(fill_one(&host, 0, LOCAL), 0);
    assert_int_equal(fill_one(&host, 0, LOCAL), 1);
    fake_host_fini(&host);
}

static void select_local_takes_a_buffer_created_without_domain_as_matching(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 2, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 8, 1, 8, 0), HV_STATUS_SUCCESS);
    create_in_domain(&host, 0, 0, true);
    create_in_domain(&host, 4, 0, false);
    create_in_domain(&host, 2, 1, true);
    assert_int_equal(fake_map(&host, LOCAL, 0, NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_map(&host, LOCAL, 4, NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_map(&host, LOCAL, 2, NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);
    /* Free list 0(d0), 4(any), 2(d1): LP 1 takes 4, the first that suits it. */
    assert_int_equal(fill_one(&host, 1, LOCAL), 4);
    assert_int_equal(fill_one(&host, 1, LOCAL), 2);
    fake_host_fini(&host);
}

static void select_local_falls_back_to_the_head_of_another_domain(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 2, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 8, 1, 8, 0), HV_STATUS_SUCCESS);
    create_in_domain(&host, 5, 0, true);
    create_in_domain(&host, 3, 0, true);
    assert_int_equal(fake_map(&host, LOCAL, 5, NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_map(&host, LOCAL, 3, NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);
    assert_int_equal(fill_one(&host, 1, LOCAL), 5);
    assert_int_equal(fake_header(&host, LOCAL, 5).logical_processor, 1);
    assert_int_equal(fill_one(&host, 1, LOCAL), 3);
    assert_int_equal(stats(&host, LOCAL, 1).events_lost_no_buffer, 0);
    fake_host_fini(&host);
}

static void select_local_strict_domain_loses_the_event_rather_than_fall_back(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    (void)state;

    p.local_strict_domain = true;
    assert_int_equal(fake_host_init(&host, 2, 2, 4096, &p), 0);
    assert_int_equal(fake_init(&host, LOCAL, 8, 1, 8, 0), HV_STATUS_SUCCESS);
    create_in_domain(&host, 0, 0, true);
    create_in_domain(&host, 1, 0, true);
    assert_int_equal(fake_map(&host, LOCAL, 0, NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_map(&host, LOCAL, 1, NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);

    assert_int_equal(fake_log(&host, 1, LOCAL, 8, 0), HVLOG_LOG_LOST);
    assert_int_equal(stats(&host, LOCAL, 1).events_lost_no_buffer, 1);
    assert_int_equal(stats(&host, LOCAL, 1).lost_pending, 1);
    assert_int_equal(fake_state(&host, LOCAL, 0), FREE);
    assert_int_equal(fake_state(&host, LOCAL, 1), FREE);
    /* LP 0 (domain 0) still gets them. */
    assert_int_equal(fill_one(&host, 0, LOCAL), 0);
    /* A buffer of domain 1, or of no domain, serves LP 1 and carries its loss. */
    create_in_domain(&host, 6, 0, false);
    assert_int_equal(fake_map(&host, LOCAL, 6, NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 1, LOCAL, 8, 1), HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, LOCAL, 1), 6);
    assert_int_equal(fake_header(&host, LOCAL, 6).events_lost, 1);
    fake_host_fini(&host);
}

/* ---- §7.1 the global class --------------------------------------------------- */

static uint32_t count_in_state(struct fake_host *h, uint32_t type, uint32_t st)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < HV_EVENTLOG_MAX_BUFFER_COUNT; i++)
        n += fake_state(h, type, i) == st;
    return n;
}

static void global_class_has_one_in_use_buffer_machine_wide_with_lp_zero(void **state)
{
    struct hv_eventlog_buffer_header hd;
    struct hvlog_scope_stats st;
    uint32_t a, b;
    (void)state;

    assert_int_equal(fake_host_init(&host, 3, 1, 4096, NULL), 0);
    fake_setup_group(&host, GLOBAL, 4, 1, 4, FAKE_ALL_SOURCES);
    assert_false(group(&host, GLOBAL).local);
    /* LP 2 starts it: LogicalProcessor is 0 all the same. */
    assert_int_equal(fake_log(&host, 2, GLOBAL, 8, 0), HVLOG_LOG_RECORDED);
    a = active(&host, GLOBAL, 2);
    assert_int_not_equal(a, NONE_IDX);
    assert_int_equal(fake_header(&host, GLOBAL, a).logical_processor, 0);
    assert_int_equal(binfo(&host, GLOBAL, a).owner_lp, UINT32_MAX);
    /* Every LP appends to the same buffer. */
    assert_int_equal(fake_log(&host, 0, GLOBAL, 8, 1), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_log(&host, 1, GLOBAL, 8, 2), HVLOG_LOG_RECORDED);
    assert_int_equal(count_in_state(&host, GLOBAL, INUSE), 1);
    hd = fake_header(&host, GLOBAL, a);
    assert_int_equal(hd.next_buffer_offset, fake_next_offset(&host, 3 * 24));
    /* One scope only. */
    assert_int_equal(hvlog_engine_scope_stats(host.engine, GLOBAL, 1, &st), -1);

    /* Filled from LP 1, the next buffer is again the single InUse one. */
    assert_int_equal(fill_one(&host, 1, GLOBAL), a);
    assert_int_equal(fake_log(&host, 1, GLOBAL, 8, 3), HVLOG_LOG_RECORDED);
    b = active(&host, GLOBAL, 0);
    assert_int_not_equal(b, a);
    assert_int_equal(count_in_state(&host, GLOBAL, INUSE), 1);
    assert_int_equal(fake_header(&host, GLOBAL, b).logical_processor, 0);
    assert_int_equal(stats(&host, GLOBAL, 0).pending_count, 1);
    fake_host_fini(&host);
}

static void global_class_lost_events_are_one_machine_wide_counter(void **state)
{
    uint32_t a, b;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, GLOBAL, 2, 1, 2, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, GLOBAL);
    b = fill_one(&host, 1, GLOBAL);
    assert_true(fake_take_message(&host, 1, NULL, NULL)); /* the LP that filled it */
    assert_int_equal(fake_log(&host, 0, GLOBAL, 8, 0), HVLOG_LOG_LOST);
    assert_int_equal(fake_log(&host, 1, GLOBAL, 8, 0), HVLOG_LOG_LOST);
    assert_int_equal(stats(&host, GLOBAL, 0).events_lost_no_buffer, 2);
    assert_int_equal(fake_release(&host, GLOBAL, b), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 1, GLOBAL, 8, 0), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header(&host, GLOBAL, b).events_lost, 2);
    assert_int_equal(fake_state(&host, GLOBAL, a), READY);
    fake_host_fini(&host);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t1_create_makes_a_zeroed_standby_buffer_with_its_identity_in_the_header),
        cmocka_unit_test(t3_map_whose_output_write_fails_changes_nothing_and_raises_the_intercept),
        cmocka_unit_test(t2_delete_of_standby_frees_the_pages_and_the_index),
        cmocka_unit_test(t3_map_makes_standby_free_and_returns_the_overlay_page_numbers),
        cmocka_unit_test(t4_unmap_of_free_goes_to_standby_and_leaves_the_free_list),
        cmocka_unit_test(t5_take_writes_offset_timestamp_lost_count_lp_and_clears_the_chain_link),
        cmocka_unit_test(t6_an_entry_that_does_not_fit_completes_the_buffer_and_moves_on),
        cmocka_unit_test(t7_flush_of_in_use_makes_it_complete_then_t9_ready_once_delivered),
        cmocka_unit_test(t8_threshold_makes_the_list_ready_chained_in_completion_order),
        cmocka_unit_test(t9_flush_of_a_complete_buffer_makes_its_list_ready_below_threshold),
        cmocka_unit_test(t10_release_makes_ready_free_clears_the_link_and_appends_to_the_free_tail),
        cmocka_unit_test(t11_unmap_of_ready_goes_to_standby_and_leaves_the_chain_alone),
        cmocka_unit_test(matrix_map_row),
        cmocka_unit_test(matrix_flush_row),
        cmocka_unit_test(matrix_release_row),
        cmocka_unit_test(matrix_unmap_row),
        cmocka_unit_test(matrix_delete_row),
        cmocka_unit_test(matrix_create_same_index_row),
        cmocka_unit_test(matrix_index_at_or_above_maximum_is_no_such_buffer),
        cmocka_unit_test(knob_unmap_state_status_operation_denied_replaces_access_denied),
        cmocka_unit_test(knob_release_from_complete_frees_it_and_takes_it_off_its_pending_list),
        cmocka_unit_test(knob_release_from_complete_of_a_waiting_list_sends_no_empty_message),
        cmocka_unit_test(free_list_is_fifo_in_map_order),
        cmocka_unit_test(free_list_unmap_from_the_middle_keeps_the_order_of_the_rest),
        cmocka_unit_test(select_local_prefers_a_buffer_of_the_lps_domain),
        cmocka_unit_test(select_local_takes_a_buffer_created_without_domain_as_matching),
        cmocka_unit_test(select_local_falls_back_to_the_head_of_another_domain),
        cmocka_unit_test(select_local_strict_domain_loses_the_event_rather_than_fall_back),
        cmocka_unit_test(global_class_has_one_in_use_buffer_machine_wide_with_lp_zero),
        cmocka_unit_test(global_class_lost_events_are_one_machine_wide_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
