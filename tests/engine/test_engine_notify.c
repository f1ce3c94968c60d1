/* SPDX-License-Identifier: MIT */
/*
 * Threshold and notification (spec §8), the message bytes (§4.7), lost events
 * (§7.4, Q-LOSTSAT) and the entry bytes of the logging path (§4.5, §7.3).
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
#include <string.h>
#include <cmocka.h>

#include "engine_test_util.h"
#include "fake_host.h"


enum { STANDBY = HvEventLogBufferStateStandby, FREE = HvEventLogBufferStateFree,
       INUSE = HvEventLogBufferStateInUse, COMPLETE = HvEventLogBufferStateComplete,
       READY = HvEventLogBufferStateReady };

static struct fake_host host;

static uint32_t total_queued(const struct fake_host *h)
{
    uint32_t n = 0;

    for (uint32_t vp = 0; vp < FAKE_MAX_VPS; vp++)
        n += fake_queued(h, vp);
    return n;
}

/* ---- threshold ------------------------------------------------------------------ */

static void threshold_one_notifies_each_completed_buffer_at_once(void **state)
{
    uint32_t type, index, chain[4];
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 1, FAKE_ALL_SOURCES);
    for (uint32_t k = 0; k < 6; k++) {
        uint32_t b = fill_one(&host, 0, LOCAL);
        assert_int_equal(fake_state(&host, LOCAL, b), READY);
        assert_int_equal(fake_queued(&host, 0), 1);
        assert_true(fake_take_message(&host, 0, &type, &index));
        assert_int_equal(type, LOCAL);
        assert_int_equal(index, b);
        assert_int_equal(fake_chain(&host, LOCAL, index, chain, 4), 1);
        assert_int_equal(fake_release(&host, LOCAL, b), HV_STATUS_SUCCESS);
    }
    assert_int_equal(stats(&host, LOCAL, 0).notifications, 6);
    assert_int_equal(stats(&host, LOCAL, 0).buffers_completed, 6);
    fake_host_fini(&host);
}

static void threshold_equal_to_buffer_count_waits_for_all_chained_in_completion_order(void **state)
{
    static const uint32_t map_order[] = {2, 0, 3, 1};
    uint32_t type, index, chain[8];
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 4, 1, 4, 0), HV_STATUS_SUCCESS);
    for (uint32_t i = 0; i < 4; i++)
        assert_int_equal(fake_create(&host, LOCAL, i, 0, 0), HV_STATUS_SUCCESS);
    for (uint32_t k = 0; k < 4; k++)
        assert_int_equal(fake_map(&host, LOCAL, map_order[k], NULL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);

    for (uint32_t k = 0; k < 3; k++) {
        assert_int_equal(fill_one(&host, 0, LOCAL), map_order[k]);
        assert_int_equal(fake_state(&host, LOCAL, map_order[k]), COMPLETE);
        assert_int_equal(host.posts, 0);
    }
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 3);
    assert_int_equal(fill_one(&host, 0, LOCAL), map_order[3]);
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, map_order[0]);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 8), 4);
    for (uint32_t k = 0; k < 4; k++) {
        assert_int_equal(chain[k], map_order[k]);
        assert_int_equal(fake_state(&host, LOCAL, chain[k]), READY);
    }
    assert_int_equal(fake_header(&host, LOCAL, map_order[3]).next_buffer_index, NONE_IDX);
    /* No Free buffer is left until the root releases: events are lost. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 0), HVLOG_LOG_LOST);
    fake_host_fini(&host);
}

static void a_list_grows_past_the_threshold_while_the_message_buffer_is_busy(void **state)
{
    uint32_t a, b, c, d, type, index, chain[8];
    struct hvlog_group_info g;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 1, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_queued(&host, 0), 1); /* left in the queue: buffer busy */
    b = fill_one(&host, 0, LOCAL);
    c = fill_one(&host, 0, LOCAL);
    d = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_state(&host, LOCAL, b), COMPLETE);
    assert_int_equal(fake_state(&host, LOCAL, d), COMPLETE);
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 3);
    g = group(&host, LOCAL);
    assert_true(g.message_busy);
    assert_int_equal(g.due_lists, 1);
    assert_int_equal(host.posts, 1);

    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, a);
    /* The message buffer freed: the grown list goes whole, in order. */
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, b);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 8), 3);
    assert_int_equal(chain[0], b);
    assert_int_equal(chain[1], c);
    assert_int_equal(chain[2], d);
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 0);
    assert_int_equal(group(&host, LOCAL).due_lists, 0);
    assert_false(group(&host, LOCAL).message_busy);
    fake_host_fini(&host);
}

static void due_lists_are_served_fifo_in_the_order_they_became_due(void **state)
{
    uint32_t first, l2, l1, l0, type, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 3, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 1, FAKE_ALL_SOURCES);
    first = fill_one(&host, 0, LOCAL); /* posted to VP 0, not taken */
    l2 = fill_one(&host, 2, LOCAL);    /* due 1st */
    l1 = fill_one(&host, 1, LOCAL);    /* due 2nd */
    l0 = fill_one(&host, 0, LOCAL);    /* due 3rd */
    assert_int_equal(group(&host, LOCAL).due_lists, 3);
    assert_int_equal(total_queued(&host), 1);

    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, first);
    assert_int_equal(total_queued(&host), 1);
    assert_true(fake_take_message(&host, 2, &type, &index));
    assert_int_equal(index, l2);
    assert_int_equal(total_queued(&host), 1);
    assert_true(fake_take_message(&host, 1, &type, &index));
    assert_int_equal(index, l1);
    assert_int_equal(total_queued(&host), 1);
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, l0);
    assert_int_equal(total_queued(&host), 0);
    assert_int_equal(group(&host, LOCAL).due_lists, 0);
    fake_host_fini(&host);
}

static void a_local_list_whose_vp_is_ineligible_goes_to_the_lowest_eligible_vp(void **state)
{
    uint32_t b, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 4, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 1, FAKE_ALL_SOURCES);
    host.vp_ineligible[3] = true;
    host.vp_ineligible[0] = true;
    b = fill_one(&host, 3, LOCAL);
    assert_int_equal(fake_queued(&host, 3), 0);
    assert_true(fake_take_message(&host, 1, NULL, &index));
    assert_int_equal(index, b);
    fake_host_fini(&host);
}

static void a_global_list_due_by_threshold_goes_to_the_vp_of_the_lp_that_completed_it(void **state)
{
    uint32_t a, b, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 3, 1, 4096, NULL), 0);
    fake_setup_group(&host, GLOBAL, 4, 1, 2, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, GLOBAL);
    b = fill_one(&host, 2, GLOBAL);
    assert_int_equal(fake_queued(&host, 0), 0);
    assert_true(fake_take_message(&host, 2, NULL, &index));
    assert_int_equal(index, a);
    assert_int_equal(fake_header(&host, GLOBAL, a).next_buffer_index, b);
    /* Its VP ineligible: the lowest eligible one. */
    host.vp_ineligible[1] = true;
    host.vp_ineligible[0] = true;
    a = fill_one(&host, 1, GLOBAL);
    (void)fill_one(&host, 1, GLOBAL);
    assert_true(fake_take_message(&host, 2, NULL, &index));
    assert_int_equal(index, a);
    fake_host_fini(&host);
}

/* ---- the message (§4.7) ----------------------------------------------------------- */

static void expect_message_bytes(const struct hv_message *m, uint32_t type, uint32_t index)
{
    uint8_t want[256];

    memset(want, 0, sizeof want);
    hvlog_store_le32(want + 0, 0x80000040u); /* HvMessageTypeEventLogBufferComplete */
    want[4] = 8;                             /* PayloadSize (DEC-MSGHDR) */
    want[5] = 0;                             /* MessageFlags */
    /* 6..7 Reserved, 8..15 Sender: 0 */
    hvlog_store_le32(want + 16, type);
    hvlog_store_le32(want + 20, index);
    assert_int_equal(sizeof *m, 256);
    assert_memory_equal((const uint8_t *)m, want, 256);
}

static void message_bytes_are_exactly_as_section_4_7_says(void **state)
{
    static const uint32_t map_order[] = {5, 2, 0};
    uint32_t b;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 8, 1, 1, 0), HV_STATUS_SUCCESS);
    for (uint32_t k = 0; k < 3; k++) {
        assert_int_equal(fake_create(&host, LOCAL, map_order[k], 0, 0), HV_STATUS_SUCCESS);
        assert_int_equal(fake_map(&host, LOCAL, map_order[k], NULL), HV_STATUS_SUCCESS);
    }
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);
    b = fill_one(&host, 1, LOCAL);
    assert_int_equal(b, 5);
    assert_int_equal(fake_queued(&host, 1), 1);
    expect_message_bytes(host.queue[1][0], LOCAL, 5);
    assert_true(fake_take_message(&host, 1, NULL, NULL));
    /* The group's message buffer is reused: still exact. */
    b = fill_one(&host, 0, LOCAL);
    expect_message_bytes(host.queue[0][0], LOCAL, b);
    assert_true(fake_take_message(&host, 0, NULL, NULL));

    /* The global type, index 3. */
    fake_setup_group(&host, GLOBAL, 4, 1, 4, FAKE_ALL_SOURCES);
    assert_int_equal(fake_unmap(&host, GLOBAL, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_unmap(&host, GLOBAL, 1), HV_STATUS_SUCCESS);
    assert_int_equal(fake_unmap(&host, GLOBAL, 2), HV_STATUS_SUCCESS);
    b = fill_one(&host, 1, GLOBAL);
    assert_int_equal(b, 3);
    assert_int_equal(fake_flush_from(&host, 0, GLOBAL, b), HV_STATUS_SUCCESS);
    expect_message_bytes(host.queue[0][0], GLOBAL, 3);
    fake_host_fini(&host);
}

/* ---- many lists: every buffer in at most one outstanding chain -------------------- */

static uint32_t lcg_state;
static uint32_t lcg(void)
{
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return lcg_state >> 8;
}

#define DRAIN_LPS 3u
#define DRAIN_BUFS 12u

struct drain {
    bool outstanding[DRAIN_BUFS]; /* delivered in a chain, not yet released */
    uint64_t delivered_buffers;
    uint64_t delivered_entries;
    uint64_t events_lost_in_headers;
    uint64_t messages;
};

/* Walk a delivered chain the way a root would (§8.6), checking it. */
static void drain_walk(struct drain *d, uint32_t vp, uint32_t type, uint32_t first)
{
    uint32_t chain[DRAIN_BUFS];
    int n = fake_chain(&host, type, first, chain, DRAIN_BUFS);

    assert_true(n >= 1);
    d->messages++;
    for (int k = 0; k < n; k++) {
        struct hv_eventlog_buffer_header hd = fake_header(&host, type, chain[k]);
        const uint8_t *b = buffer_bytes(&host, type, chain[k]);

        if (d->outstanding[chain[k]])
            fail_msg("buffer %u delivered again while still outstanding", chain[k]);
        d->outstanding[chain[k]] = true;
        d->delivered_buffers++;
        assert_int_equal(hd.buffer_state, READY);
        assert_int_equal(hd.logical_processor, vp); /* local: LP n <-> VP n */
        d->events_lost_in_headers += hd.events_lost;
        /* Entries end at 72 + the data bytes NextBufferOffset counts (§4.4, §11.4). */
        uint32_t end = HV_EVENTLOG_BUFFER_HEADER_SIZE + fake_data_bytes(&host, &hd);
        for (uint32_t off = 72; off < end;) {
            uint16_t size = hvlog_load_le16(b + off + 4);
            assert_true(size >= 16 && size % 8 == 0);
            off += size;
            assert_true(off <= end);
            d->delivered_entries++;
        }
    }
}

static bool drain_take_one(struct drain *d)
{
    for (uint32_t vp = 0; vp < DRAIN_LPS; vp++) {
        uint32_t type, index;
        if (fake_queued(&host, vp) && fake_take_message(&host, vp, &type, &index)) {
            drain_walk(d, vp, type, index);
            return true;
        }
    }
    return false;
}

static void drain_release_some(struct drain *d, uint32_t one_in)
{
    for (uint32_t i = 0; i < DRAIN_BUFS; i++) {
        if (d->outstanding[i] && lcg() % one_in == 0) {
            assert_int_equal(fake_release(&host, LOCAL, i), HV_STATUS_SUCCESS);
            d->outstanding[i] = false;
        }
    }
}

static void no_buffer_is_ever_in_two_outstanding_chains_while_draining_many_lists(void **state)
{
    static struct drain d;
    uint64_t recorded = 0, lost = 0, lost_stats = 0, pending = 0, completed = 0,
             notifications = 0;
    (void)state;

    memset(&d, 0, sizeof d);
    lcg_state = 12345;
    assert_int_equal(fake_host_init(&host, DRAIN_LPS, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, DRAIN_BUFS, 1, 2, FAKE_ALL_SOURCES);

    for (uint32_t step = 0; step < 20000; step++) {
        uint32_t r = lcg(), lp = r % DRAIN_LPS, action = (r >> 4) % 100;

        if (action < 80) {
            switch (fake_log(&host, lp, LOCAL, lcg() % 700, step)) {
            case HVLOG_LOG_RECORDED: recorded++; break;
            case HVLOG_LOG_LOST: lost++; break;
            default: fail_msg("dropped with every source enabled");
            }
        } else if (action < 92) {
            (void)drain_take_one(&d);
        } else if (action < 97) {
            drain_release_some(&d, 2);
        } else {
            uint32_t vp = lcg() % DRAIN_LPS;
            assert_int_equal(fake_flush_from(&host, vp, LOCAL, lcg() % DRAIN_BUFS),
                             HV_STATUS_SUCCESS);
        }
    }
    /* Conclude: flush whatever is InUse or Complete, drain, release. */
    for (int round = 0; round < 64; round++) {
        bool busy = false;
        while (drain_take_one(&d))
            busy = true;
        drain_release_some(&d, 1);
        for (uint32_t i = 0; i < DRAIN_BUFS; i++) {
            uint32_t st = fake_state(&host, LOCAL, i);
            if (st == INUSE || st == COMPLETE) {
                assert_int_equal(fake_flush(&host, LOCAL, i), HV_STATUS_SUCCESS);
                busy = true;
            }
        }
        if (!busy)
            break;
    }
    for (uint32_t i = 0; i < DRAIN_BUFS; i++)
        assert_int_equal(fake_state(&host, LOCAL, i), FREE);
    assert_int_equal(total_queued(&host), 0);

    for (uint32_t lp = 0; lp < DRAIN_LPS; lp++) {
        struct hvlog_scope_stats st = stats(&host, LOCAL, lp);
        lost_stats += st.events_lost_no_buffer + st.events_lost_too_large;
        completed += st.buffers_completed;
        notifications += st.notifications;
        pending += st.lost_pending; /* for the next buffer, not yet delivered */
    }
    assert_true(d.messages > 100);
    assert_int_equal(d.messages, notifications);
    assert_int_equal(d.delivered_buffers, completed);
    assert_int_equal(d.delivered_entries, recorded);
    assert_int_equal(lost_stats, lost);
    assert_true(lost > 0);
    assert_int_equal(d.events_lost_in_headers + pending, lost);
    fake_host_fini(&host);
}

/* ---- refused posts, Finalize ------------------------------------------------------- */

/* VP @vp's SINT0 FIFO is full: the fake host refuses every post to it. */
static void vp_queue_full(struct fake_host *h, uint32_t vp, bool full)
{
    h->queue_len[vp] = full ? FAKE_QUEUE_DEPTH : 0;
}

static void a_refused_post_is_retried_on_kick(void **state)
{
    uint32_t a, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 1, FAKE_ALL_SOURCES);
    vp_queue_full(&host, 0, true);
    a = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_state(&host, LOCAL, a), READY);
    assert_int_equal(host.posts, 0);
    assert_true(group(&host, LOCAL).message_busy);

    hvlog_engine_kick(host.engine); /* still refused */
    assert_int_equal(host.posts, 0);
    vp_queue_full(&host, 0, false);
    hvlog_engine_kick(host.engine);
    assert_int_equal(host.posts, 1);
    assert_int_equal(fake_queued(&host, 0), 1);
    assert_true(fake_take_message(&host, 0, NULL, &index));
    assert_int_equal(index, a);
    assert_false(group(&host, LOCAL).message_busy);
    fake_host_fini(&host);
}

/* refuse_post_after: one injected refusal; after a kick the message is there, once. */
static void an_injected_refusal_loses_no_notification(void **state)
{
    uint32_t a, b, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 1, FAKE_ALL_SOURCES);
    host.refuse_post_after = 1;
    a = fill_one(&host, 0, LOCAL);
    hvlog_engine_kick(host.engine);
    assert_int_equal(host.refuse_post_after, 0); /* the refusal did happen */
    assert_int_equal(host.posts, 1);
    assert_int_equal(fake_queued(&host, 0), 1);
    assert_true(fake_take_message(&host, 0, NULL, &index));
    assert_int_equal(index, a);
    b = fill_one(&host, 0, LOCAL);
    assert_true(fake_take_message(&host, 0, NULL, &index));
    assert_int_equal(index, b);
    assert_int_equal(total_queued(&host), 0);
    fake_host_fini(&host);
}

static void a_refused_post_keeps_its_turn_and_nothing_is_lost(void **state)
{
    uint32_t a, b, c, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 1, FAKE_ALL_SOURCES);
    vp_queue_full(&host, 0, true);
    a = fill_one(&host, 0, LOCAL); /* refused */
    b = fill_one(&host, 1, LOCAL); /* due behind a */
    c = fill_one(&host, 0, LOCAL); /* due behind b */
    hvlog_engine_kick(host.engine);
    assert_int_equal(host.posts, 0); /* b may not overtake: one message buffer */
    assert_int_equal(fake_state(&host, LOCAL, b), COMPLETE);
    assert_int_equal(group(&host, LOCAL).due_lists, 2);

    vp_queue_full(&host, 0, false);
    hvlog_engine_kick(host.engine);
    /* a first, then b, then c; each delivered exactly once. */
    assert_true(fake_take_message(&host, 0, NULL, &index));
    assert_int_equal(index, a);
    assert_true(fake_take_message(&host, 1, NULL, &index));
    assert_int_equal(index, b);
    assert_true(fake_take_message(&host, 0, NULL, &index));
    assert_int_equal(index, c);
    assert_int_equal(total_queued(&host), 0);
    assert_int_equal(host.posts, 3);
    fake_host_fini(&host);
}

static void teardown_group(struct fake_host *h, uint32_t type, uint32_t count)
{
    assert_int_equal(fake_sources(h, type, 0), HV_STATUS_SUCCESS);
    for (uint32_t i = 0; i < count; i++) {
        if (fake_state(h, type, i) == READY)
            assert_int_equal(fake_release(h, type, i), HV_STATUS_SUCCESS);
        assert_int_equal(fake_unmap(h, type, i), HV_STATUS_SUCCESS);
        assert_int_equal(fake_delete(h, type, i), HV_STATUS_SUCCESS);
    }
    assert_int_equal(fake_finalize(h, type), HV_STATUS_SUCCESS);
}

static void finalize_withdraws_a_notification_still_queued(void **state)
{
    uint32_t index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 2, 1, 1, FAKE_ALL_SOURCES);
    (void)fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_queued(&host, 0), 1);
    teardown_group(&host, LOCAL, 2);
    assert_int_equal(host.withdrawals, 1);
    assert_int_equal(fake_queued(&host, 0), 0);
    assert_false(group(&host, LOCAL).initialized);
    assert_false(group(&host, LOCAL).message_busy);

    /* A new group of the type notifies normally. */
    fake_setup_group(&host, LOCAL, 2, 1, 1, FAKE_ALL_SOURCES);
    (void)fill_one(&host, 0, LOCAL);
    assert_true(fake_take_message(&host, 0, NULL, &index));
    assert_int_equal(index, 0);
    assert_int_equal(host.withdrawals, 1);
    fake_host_fini(&host);
}

static void finalize_drops_a_refused_notification_so_kick_posts_nothing(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 2, 1, 1, FAKE_ALL_SOURCES);
    vp_queue_full(&host, 0, true);
    (void)fill_one(&host, 0, LOCAL);
    assert_true(group(&host, LOCAL).message_busy);
    teardown_group(&host, LOCAL, 2);
    assert_int_equal(host.withdrawals, 0); /* the host never held it */
    vp_queue_full(&host, 0, false);
    hvlog_engine_kick(host.engine);
    assert_int_equal(host.posts, 0);
    assert_int_equal(total_queued(&host), 0);
    fake_host_fini(&host);
}

/*
 * The generation question (issue 13 item 3): SynIC has copied the message
 * into the slot, but the host has not yet told the engine when the root
 * finalizes the group (its withdraw finds nothing: the copy is done) and
 * initializes it again, and a new message is queued. The late delivery
 * names the old message; it must not free the new one. Were it freed, the
 * next due list (LP 1's) would be built into the message buffer the host
 * still holds for LP 0, and LP 0's notification would be lost.
 */
static void a_late_delivery_of_a_withdrawn_message_does_not_free_the_next_groups_message(
    void **state)
{
    struct hv_message copy;
    struct hv_eventlog_message_payload pl;
    uint64_t old_token, new_token;
    uint32_t index, a;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 1, FAKE_ALL_SOURCES);
    (void)fill_one(&host, 0, LOCAL);
    assert_true(fake_copy_message(&host, 0, &copy, &old_token)); /* delivery in flight */
    teardown_group(&host, LOCAL, 4);
    assert_int_equal(host.withdrawals, 0); /* the copy was done: nothing to withdraw */

    fake_setup_group(&host, LOCAL, 4, 1, 1, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, LOCAL);     /* queued to VP 0 */
    (void)fill_one(&host, 1, LOCAL);   /* due, waits for the message buffer */
    assert_int_equal(fake_queued(&host, 0), 1);
    new_token = host.queue_token[0][0];
    assert_int_not_equal(new_token, old_token);
    assert_int_equal(group(&host, LOCAL).due_lists, 1);

    hvlog_engine_message_delivered(host.engine, old_token); /* the late one */
    assert_true(group(&host, LOCAL).message_busy);
    assert_int_equal(group(&host, LOCAL).due_lists, 1);
    assert_int_equal(fake_queued(&host, 1), 0);
    hv_eventlog_message_payload_load(&pl, (const uint8_t *)host.queue[0][0] + HV_MESSAGE_HEADER_SIZE);
    assert_int_equal(pl.buffer_index, a); /* the message the host holds is unchanged */

    /* The real delivery frees it, and LP 1's list follows. */
    assert_true(fake_take_message(&host, 0, NULL, &index));
    assert_int_equal(index, a);
    assert_int_equal(fake_queued(&host, 1), 1);
    assert_int_equal(group(&host, LOCAL).due_lists, 0);
    fake_host_fini(&host);
}

/* ---- lost events (§7.4) -------------------------------------------------------------- */

static void lost_events_are_counted_per_lp_into_the_next_in_use_header(void **state)
{
    uint32_t a, b, c;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 2, 1, 1, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, LOCAL);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    b = fill_one(&host, 0, LOCAL);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    assert_int_equal(fake_state(&host, LOCAL, a), READY);
    assert_int_equal(fake_state(&host, LOCAL, b), READY);
    assert_int_equal(group(&host, LOCAL).free_count, 0);

    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(fake_log(&host, 0, LOCAL, 8, i), HVLOG_LOG_LOST);
    for (uint32_t i = 0; i < 2; i++)
        assert_int_equal(fake_log(&host, 1, LOCAL, 8, i), HVLOG_LOG_LOST);
    assert_int_equal(stats(&host, LOCAL, 0).events_lost_no_buffer, 5);
    assert_int_equal(stats(&host, LOCAL, 0).lost_pending, 5);
    assert_int_equal(stats(&host, LOCAL, 1).events_lost_no_buffer, 2);
    assert_int_equal(stats(&host, LOCAL, 1).lost_pending, 2);

    assert_int_equal(fake_release(&host, LOCAL, a), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 9), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header(&host, LOCAL, a).events_lost, 5);
    assert_int_equal(stats(&host, LOCAL, 0).lost_pending, 0);
    assert_int_equal(stats(&host, LOCAL, 0).events_lost_no_buffer, 5);
    assert_int_equal(stats(&host, LOCAL, 1).lost_pending, 2); /* independent */

    assert_int_equal(fake_release(&host, LOCAL, b), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 1, LOCAL, 8, 9), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header(&host, LOCAL, b).events_lost, 2);
    assert_int_equal(fake_header(&host, LOCAL, b).logical_processor, 1);
    assert_int_equal(stats(&host, LOCAL, 1).lost_pending, 0);

    /* The count resets: the next buffer of LP 0 reports no loss. */
    c = fill_one(&host, 0, LOCAL);
    assert_int_equal(c, a);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    assert_int_equal(fake_release(&host, LOCAL, a), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 10), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header(&host, LOCAL, a).events_lost, 0);
    fake_host_fini(&host);
}

static void too_large_entries_are_lost_counted_apart_and_reported_in_events_lost(void **state)
{
    struct hvlog_scope_stats st;
    uint32_t a, b;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES);
    /* BufferSize - 72 - 16 = 4008 is the largest payload; 4009 never fits. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 4009, 0), HVLOG_LOG_LOST);
    assert_int_equal(fake_log(&host, 0, LOCAL, 60000, 0), HVLOG_LOG_LOST);
    st = stats(&host, LOCAL, 0);
    assert_int_equal(st.events_lost_too_large, 2);
    assert_int_equal(st.events_lost_no_buffer, 0);
    assert_int_equal(st.lost_pending, 2);
    assert_int_equal(st.active_index, NONE_IDX); /* no buffer taken for it */
    assert_int_equal(group(&host, LOCAL).free_count, 4);

    assert_int_equal(fake_log(&host, 0, LOCAL, 4008, 1), HVLOG_LOG_RECORDED);
    a = 0;
    assert_int_equal(fake_header(&host, LOCAL, a).events_lost, 2);
    assert_int_equal(fake_header(&host, LOCAL, a).next_buffer_offset, fake_next_offset(&host, 4096 - 72));
    assert_int_equal(fake_state(&host, LOCAL, a), COMPLETE);

    /* Lost while a buffer is InUse: that buffer stays InUse; the next one reports it. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 2), HVLOG_LOG_RECORDED);
    b = active(&host, LOCAL, 0);
    assert_int_equal(fake_log(&host, 0, LOCAL, 4009, 3), HVLOG_LOG_LOST);
    assert_int_equal(active(&host, LOCAL, 0), b);
    assert_int_equal(fake_state(&host, LOCAL, b), INUSE);
    assert_int_equal(fake_header(&host, LOCAL, b).events_lost, 0);
    assert_int_equal(fake_header(&host, LOCAL, b).next_buffer_offset, fake_next_offset(&host, 24));
    assert_int_equal(fake_flush(&host, LOCAL, b), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 4), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header(&host, LOCAL, active(&host, LOCAL, 0)).events_lost, 1);
    assert_int_equal(stats(&host, LOCAL, 0).events_lost_too_large, 3);
    fake_host_fini(&host);
}

static void the_largest_entry_is_65528_bytes_even_in_a_2_mib_buffer(void **state)
{
    struct hv_eventlog_buffer_header hd;
    uint32_t x;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 1, 512, 1, FAKE_ALL_SOURCES);
    assert_int_equal(fake_log(&host, 0, LOCAL, 65513, 0), HVLOG_LOG_LOST); /* 65536 */
    assert_int_equal(stats(&host, LOCAL, 0).events_lost_too_large, 1);
    assert_int_equal(stats(&host, LOCAL, 0).active_index, NONE_IDX);
    assert_int_equal(fake_log(&host, 0, LOCAL, 65512, 1), HVLOG_LOG_RECORDED); /* 65528 */
    x = active(&host, LOCAL, 0);
    hd = fake_header(&host, LOCAL, x);
    assert_int_equal(hd.buffer_size, fake_buffer_size_field(&host, 512)); /* §4.4 / §11.4, D9 */
    assert_int_equal(hd.next_buffer_offset, fake_next_offset(&host, 65528));
    assert_int_equal(hd.events_lost, 1);
    assert_int_equal(hvlog_load_le16(buffer_bytes(&host, LOCAL, x) + 72 + 4), 65528);
    fake_host_fini(&host);
}

/*
 * §7.3 step 2 / §2.3 (largest entry 65528, Size is a UINT16), on the inline
 * path: the InUse buffer (over 16 pages) has room for a 65536-byte entry, yet
 * it must be lost and counted as too large, not recorded with Size 0.
 * (Regression: at HEAD b6a0b2a the fast path of hvlog_log() only checked the
 * room left, include/hvlog/engine/log.h:141.)
 */
static void an_entry_over_65528_bytes_is_lost_even_when_the_in_use_buffer_has_room(void **state)
{
    uint32_t x;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 1, 512, 1, FAKE_ALL_SOURCES);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 0), HVLOG_LOG_RECORDED);
    x = active(&host, LOCAL, 0);
    assert_int_equal(fake_log(&host, 0, LOCAL, 65513, 1), HVLOG_LOG_LOST); /* 65536 */
    assert_int_equal(stats(&host, LOCAL, 0).events_lost_too_large, 1);
    assert_int_equal(fake_header(&host, LOCAL, x).next_buffer_offset, fake_next_offset(&host, 24));
    assert_int_equal(fake_log(&host, 0, LOCAL, 65512, 2), HVLOG_LOG_RECORDED); /* 65528 fits */
    assert_int_equal(hvlog_load_le16(buffer_bytes(&host, LOCAL, x) + 72 + 24 + 4), 65528);
    fake_host_fini(&host);
}

static void lost_counter_saturates_at_0xffffffff(void **state)
{
    struct hvlog__scope *s;
    uint32_t a;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 1, 1, 1, FAKE_ALL_SOURCES);
    a = fill_one(&host, 1, LOCAL);
    assert_true(fake_take_message(&host, 1, NULL, NULL));
    /* Rather than losing 4 billion events: start the scope near the top. */
    s = &host.logger->types[LOCAL].scopes[1];
    s->lost_pending = 0xFFFFFFFDu;
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(fake_log(&host, 1, LOCAL, 8, i), HVLOG_LOG_LOST);
    assert_int_equal(fake_log(&host, 1, LOCAL, 5000, 9), HVLOG_LOG_LOST); /* too large */
    assert_int_equal(stats(&host, LOCAL, 1).lost_pending, 0xFFFFFFFFu);
    assert_int_equal(stats(&host, LOCAL, 1).events_lost_no_buffer, 5);
    assert_int_equal(stats(&host, LOCAL, 1).events_lost_too_large, 1);
    assert_int_equal(stats(&host, LOCAL, 0).lost_pending, 0);

    assert_int_equal(fake_release(&host, LOCAL, a), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 1, LOCAL, 8, 10), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header(&host, LOCAL, a).events_lost, 0xFFFFFFFFu);
    assert_int_equal(stats(&host, LOCAL, 1).lost_pending, 0);
    fake_host_fini(&host);
}

/* ---- entry bytes (§4.5, §7.3 step 5) ------------------------------------------------ */

static void entries_are_packed_8_aligned_with_zero_padding_and_ordered_timestamps(void **state)
{
    static uint8_t payload[64];
    struct hv_eventlog_buffer_header hd;
    uint64_t prev;
    uint32_t x, off, n = 0;
    const uint8_t *b;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 1, 1, 1, FAKE_ALL_SOURCES);
    /* Dirty the only buffer with a first use: 62 entries of 64 bytes, 0xEE
     * everywhere, no padding. */
    memset(payload, 0xEE, sizeof payload);
    for (uint32_t i = 0; i < 62; i++)
        assert_int_equal(hvlog_log(host.logger, 0, LOCAL, SOURCE, 0xEEEE, 0xEEEEEEEEu, payload, 48),
                         HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header(&host, LOCAL, 0).next_buffer_offset, fake_next_offset(&host, 62 * 64));
    assert_int_equal(fake_flush(&host, LOCAL, 0), HV_STATUS_SUCCESS);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    assert_int_equal(fake_release(&host, LOCAL, 0), HV_STATUS_SUCCESS);

    /* Second use: payloads of 0..24 bytes, data 0x5A, types and contexts distinct. */
    memset(payload, 0x5A, sizeof payload);
    for (uint32_t len = 0; len <= 24; len++)
        assert_int_equal(hvlog_log(host.logger, 0, LOCAL, SOURCE, (uint16_t)(0x100 + len),
                                   0xC0DE0000u + len, payload, len),
                         HVLOG_LOG_RECORDED);
    x = active(&host, LOCAL, 0);
    assert_int_equal(x, 0);
    hd = fake_header(&host, LOCAL, x);
    b = buffer_bytes(&host, LOCAL, x);
    prev = hd.time_stamp;
    for (off = 72; off < HV_EVENTLOG_BUFFER_HEADER_SIZE + fake_data_bytes(&host, &hd); n++) {
        struct hv_eventlog_entry_header e;
        uint32_t len = n;

        hv_eventlog_entry_header_load(&e, b + off);
        assert_int_equal(off % 8, 0);
        assert_int_equal(e.context, 0xC0DE0000u + len);
        assert_int_equal(e.type, 0x100 + len);
        assert_int_equal(e.size, (16 + len + 7) / 8 * 8);
        assert_true(e.time_stamp >= prev); /* non-decreasing, not before the buffer */
        prev = e.time_stamp;
        for (uint32_t i = 0; i < len; i++)
            assert_int_equal(b[off + 16 + i], 0x5A);
        for (uint32_t i = 16 + len; i < e.size; i++)
            assert_int_equal(b[off + i], 0); /* DEC-PAD, over old 0xEE bytes */
        off += e.size;
    }
    assert_int_equal(n, 25);
    assert_int_equal(off, HV_EVENTLOG_BUFFER_HEADER_SIZE + fake_data_bytes(&host, &hd));
    fake_host_fini(&host);
}

static void global_entries_from_several_lps_keep_non_decreasing_timestamps(void **state)
{
    struct hv_eventlog_buffer_header hd;
    uint64_t prev;
    uint32_t x, off, n = 0;
    const uint8_t *b;
    (void)state;

    assert_int_equal(fake_host_init(&host, 3, 1, 4096, NULL), 0);
    fake_setup_group(&host, GLOBAL, 2, 1, 2, FAKE_ALL_SOURCES);
    static const uint8_t payload[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (uint32_t i = 0; i < 30; i++)
        assert_int_equal(hvlog_log(host.logger, i % 3, GLOBAL, SOURCE, 0x4101, i, payload, (i % 8) + 1),
                         HVLOG_LOG_RECORDED);
    x = active(&host, GLOBAL, 0);
    hd = fake_header(&host, GLOBAL, x);
    b = buffer_bytes(&host, GLOBAL, x);
    prev = hd.time_stamp;
    for (off = 72; off < HV_EVENTLOG_BUFFER_HEADER_SIZE + fake_data_bytes(&host, &hd); n++) {
        struct hv_eventlog_entry_header e;
        hv_eventlog_entry_header_load(&e, b + off);
        assert_int_equal(e.context, n);
        assert_int_equal(e.size, 24);
        assert_true(e.time_stamp >= prev);
        prev = e.time_stamp;
        off += e.size;
    }
    assert_int_equal(n, 30);
    fake_host_fini(&host);
}

/* ---- eager completion (§7.3 step 6) -------------------------------------------------- */

static void a_buffer_with_fewer_than_16_bytes_left_completes_at_once(void **state)
{
    uint32_t x;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 8, FAKE_ALL_SOURCES);

    /* First entry of a buffer (slow path): 4016 bytes leave 8. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 4000, 0), HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, LOCAL, 0), NONE_IDX);
    assert_int_equal(fake_state(&host, LOCAL, 0), COMPLETE);
    assert_int_equal(fake_header(&host, LOCAL, 0).next_buffer_offset, fake_next_offset(&host, 4088 - 72));

    /* A later entry (the inline path): 24 + 3992 leave 8. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 1), HVLOG_LOG_RECORDED);
    x = active(&host, LOCAL, 0);
    assert_int_equal(fake_log(&host, 0, LOCAL, 3976, 2), HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, LOCAL, 0), NONE_IDX);
    assert_int_equal(fake_state(&host, LOCAL, x), COMPLETE);
    assert_int_equal(fake_header(&host, LOCAL, x).next_buffer_offset, fake_next_offset(&host, 4088 - 72));

    /* Exactly 16 left: stays InUse; a 16-byte entry then fills it to the byte. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 3992, 3), HVLOG_LOG_RECORDED); /* 4008 */
    x = active(&host, LOCAL, 0);
    assert_int_not_equal(x, NONE_IDX);
    assert_int_equal(fake_state(&host, LOCAL, x), INUSE);
    assert_int_equal(fake_header(&host, LOCAL, x).next_buffer_offset, fake_next_offset(&host, 4080 - 72));
    assert_int_equal(fake_log(&host, 0, LOCAL, 0, 4), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_state(&host, LOCAL, x), COMPLETE);
    assert_int_equal(fake_header(&host, LOCAL, x).next_buffer_offset, fake_next_offset(&host, 4096 - 72));

    /* Exactly 16 left, then 24 bytes: T6 at the next event (§7.3 step 3). */
    assert_int_equal(fake_log(&host, 0, LOCAL, 3992, 5), HVLOG_LOG_RECORDED);
    x = active(&host, LOCAL, 0);
    assert_int_equal(fake_log(&host, 0, LOCAL, 1, 6), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_state(&host, LOCAL, x), COMPLETE);
    assert_int_equal(fake_header(&host, LOCAL, x).next_buffer_offset, fake_next_offset(&host, 4080 - 72));
    assert_int_not_equal(active(&host, LOCAL, 0), x);
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 4);
    fake_host_fini(&host);
}

static void a_global_buffer_with_fewer_than_16_bytes_left_completes_at_once(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, GLOBAL, 2, 1, 2, FAKE_ALL_SOURCES);
    assert_int_equal(fake_log(&host, 1, GLOBAL, 8, 0), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_log(&host, 0, GLOBAL, 3976, 1), HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, GLOBAL, 0), NONE_IDX);
    assert_int_equal(fake_state(&host, GLOBAL, 0), COMPLETE);
    assert_int_equal(fake_header(&host, GLOBAL, 0).next_buffer_offset, fake_next_offset(&host, 4088 - 72));
    fake_host_fini(&host);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threshold_one_notifies_each_completed_buffer_at_once),
        cmocka_unit_test(threshold_equal_to_buffer_count_waits_for_all_chained_in_completion_order),
        cmocka_unit_test(a_list_grows_past_the_threshold_while_the_message_buffer_is_busy),
        cmocka_unit_test(due_lists_are_served_fifo_in_the_order_they_became_due),
        cmocka_unit_test(a_local_list_whose_vp_is_ineligible_goes_to_the_lowest_eligible_vp),
        cmocka_unit_test(a_global_list_due_by_threshold_goes_to_the_vp_of_the_lp_that_completed_it),
        cmocka_unit_test(message_bytes_are_exactly_as_section_4_7_says),
        cmocka_unit_test(no_buffer_is_ever_in_two_outstanding_chains_while_draining_many_lists),
        cmocka_unit_test(a_refused_post_is_retried_on_kick),
        cmocka_unit_test(an_injected_refusal_loses_no_notification),
        cmocka_unit_test(a_refused_post_keeps_its_turn_and_nothing_is_lost),
        cmocka_unit_test(finalize_withdraws_a_notification_still_queued),
        cmocka_unit_test(finalize_drops_a_refused_notification_so_kick_posts_nothing),
        cmocka_unit_test(a_late_delivery_of_a_withdrawn_message_does_not_free_the_next_groups_message),
        cmocka_unit_test(lost_events_are_counted_per_lp_into_the_next_in_use_header),
        cmocka_unit_test(too_large_entries_are_lost_counted_apart_and_reported_in_events_lost),
        cmocka_unit_test(the_largest_entry_is_65528_bytes_even_in_a_2_mib_buffer),
        cmocka_unit_test(an_entry_over_65528_bytes_is_lost_even_when_the_in_use_buffer_has_room),
        cmocka_unit_test(lost_counter_saturates_at_0xffffffff),
        cmocka_unit_test(entries_are_packed_8_aligned_with_zero_padding_and_ordered_timestamps),
        cmocka_unit_test(global_entries_from_several_lps_keep_non_decreasing_timestamps),
        cmocka_unit_test(a_buffer_with_fewer_than_16_bytes_left_completes_at_once),
        cmocka_unit_test(a_global_buffer_with_fewer_than_16_bytes_left_completes_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
