/* SPDX-License-Identifier: MIT */
/*
 * HvFlushEventLogBuffer, the founding call (spec §5.9, seed
 * shared/seeds/HvFlushEventLogBuffer.txt): InUse -> Complete -> Ready with a
 * message whatever the threshold, the whole pending list, the target VP
 * (DEC-TARGET), the no-op states, the statuses, and the knobs flush_scope and
 * flush_index (§12.1, D1, D18).
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
static struct fake_snapshot snap_before, snap_after;
static uint8_t saved[4096];

/* Log one small event on @lp; returns the scope's InUse buffer. */
static uint32_t log_small(struct fake_host *h, uint32_t lp, uint32_t type, uint32_t seq)
{
    assert_int_equal(fake_log(h, lp, type, 8 + seq % 17, seq), HVLOG_LOG_RECORDED);
    return active(h, type, lp);
}

static uint32_t total_queued(const struct fake_host *h)
{
    uint32_t n = 0;

    for (uint32_t vp = 0; vp < FAKE_MAX_VPS; vp++)
        n += fake_queued(h, vp);
    return n;
}

/* ---- InUse ----------------------------------------------------------------------- */

static void flush_of_in_use_delivers_it_ready_with_its_data_intact_to_the_owners_vp(void **state)
{
    struct hv_eventlog_buffer_header before, after;
    uint32_t x, type, index, chain[4];
    struct hvlog_scope_stats st;
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES); /* threshold 4: never reached here */
    x = log_small(&host, 0, LOCAL, 1);
    assert_int_equal(log_small(&host, 0, LOCAL, 2), x);
    assert_int_equal(log_small(&host, 0, LOCAL, 3), x);
    before = fake_header(&host, LOCAL, x);
    assert_int_equal(before.buffer_state, INUSE);
    memcpy(saved, buffer_bytes(&host, LOCAL, x), 72 + fake_data_bytes(&host, &before));

    assert_int_equal(fake_flush(&host, LOCAL, x), HV_STATUS_SUCCESS);
    after = fake_header(&host, LOCAL, x);
    assert_int_equal(after.buffer_state, READY);
    assert_int_equal(after.next_buffer_offset, before.next_buffer_offset);
    assert_int_equal(after.next_buffer_index, NONE_IDX);
    assert_int_equal(after.time_stamp, before.time_stamp);
    assert_int_equal(after.events_lost, before.events_lost);
    assert_memory_equal(buffer_bytes(&host, LOCAL, x) + 72, saved + 72,
                        fake_data_bytes(&host, &before));
    st = stats(&host, LOCAL, 0);
    assert_int_equal(st.active_index, NONE_IDX);
    assert_int_equal(st.pending_count, 0);
    assert_int_equal(st.buffers_completed, 1);
    assert_int_equal(st.notifications, 1);

    /* One message, to VP 0 (LP 0's VP), naming the buffer. */
    assert_int_equal(fake_queued(&host, 0), 1);
    assert_int_equal(fake_queued(&host, 1), 0);
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(type, LOCAL);
    assert_int_equal(index, x);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 4), 1);
    /* Flushing it again is a no-op (Ready). */
    assert_int_equal(fake_flush(&host, LOCAL, x), HV_STATUS_SUCCESS);
    assert_int_equal(total_queued(&host), 0);
    assert_int_equal(host.posts, 1);
    fake_host_fini(&host);
}

/*
 * §5.9: "An InUse buffer with no entries may be flushed; it is delivered with
 * only its header." hvlog_log() always writes its entry right after T5, so an
 * empty InUse buffer cannot be produced through the API; the test rewinds the
 * scope (struct hvlog__scope, hvlog/engine/log.h) and NextBufferOffset to the
 * instant between T5 and the first entry.
 */
static void flush_of_in_use_without_entries_delivers_only_its_header(void **state)
{
    struct hvlog__scope *s;
    uint32_t x, type, index;
    uint8_t *b;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 2, 1, 2, FAKE_ALL_SOURCES);
    x = log_small(&host, 0, LOCAL, 0);
    s = &host.logger->types[LOCAL].scopes[0];
    b = buffer_bytes(&host, LOCAL, x);
    /* The scope counts from where NextBufferOffset does: the buffer start
     * (§4.4) or the end of the header (§11.4, D9). */
    assert_ptr_equal(s->buffer, b + fake_offset_base(&host));
    s->offset = fake_next_offset(&host, 0);
    hvlog_store_le32(b + 48, fake_next_offset(&host, 0));
    assert_int_equal(fake_header(&host, LOCAL, x).next_buffer_offset, fake_next_offset(&host, 0));

    assert_int_equal(fake_flush(&host, LOCAL, x), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, x), READY);
    assert_int_equal(fake_header(&host, LOCAL, x).next_buffer_offset, fake_next_offset(&host, 0));
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, x);
    fake_host_fini(&host);
}

/* The flushed InUse buffer joins the tail of its LP's list, which goes whole. */
static void flush_of_in_use_delivers_the_complete_buffers_before_it_in_one_chain(void **state)
{
    uint32_t a, b, x, type, index, chain[4];
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, LOCAL);
    b = fill_one(&host, 0, LOCAL);
    x = log_small(&host, 0, LOCAL, 5);
    assert_int_equal(fake_state(&host, LOCAL, a), COMPLETE);
    assert_int_equal(host.posts, 0);

    assert_int_equal(fake_flush(&host, LOCAL, x), HV_STATUS_SUCCESS);
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, a);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 4), 3);
    assert_int_equal(chain[0], a);
    assert_int_equal(chain[1], b);
    assert_int_equal(chain[2], x);
    for (int i = 0; i < 3; i++)
        assert_int_equal(fake_state(&host, LOCAL, chain[i]), READY);
    assert_int_equal(total_queued(&host), 0);
    fake_host_fini(&host);
}

/* ---- Complete -------------------------------------------------------------------- */

static void flush_of_complete_below_threshold_delivers_the_whole_list_not_in_use(void **state)
{
    uint32_t a, b, c, x, type, index, chain[8];
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 8, FAKE_ALL_SOURCES);
    a = fill_one(&host, 0, LOCAL);
    b = fill_one(&host, 0, LOCAL);
    c = fill_one(&host, 0, LOCAL);
    x = log_small(&host, 0, LOCAL, 1);
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 3);

    /* Name the middle one: its list goes, not only it. */
    assert_int_equal(fake_flush(&host, LOCAL, b), HV_STATUS_SUCCESS);
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 0);
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, a);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 8), 3);
    assert_int_equal(chain[0], a);
    assert_int_equal(chain[1], b);
    assert_int_equal(chain[2], c);
    /* The named buffer was Complete: the InUse one is not flushed. */
    assert_int_equal(fake_state(&host, LOCAL, x), INUSE);
    assert_int_equal(active(&host, LOCAL, 0), x);
    assert_int_equal(total_queued(&host), 0);
    fake_host_fini(&host);
}

/* ---- another LP's buffer (DEC-TARGET) -------------------------------------------- */

static void flush_from_vp0_of_lp1s_buffer_posts_to_lp1s_vp(void **state)
{
    uint32_t x0, x1, c1, type, index, chain[4];
    (void)state;

    assert_int_equal(fake_host_init(&host, 2, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 8, FAKE_ALL_SOURCES);
    x0 = log_small(&host, 0, LOCAL, 0);
    x1 = log_small(&host, 1, LOCAL, 1);
    assert_int_equal(fake_header(&host, LOCAL, x1).logical_processor, 1);

    assert_int_equal(fake_flush_from(&host, 0, LOCAL, x1), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, x1), READY);
    assert_int_equal(fake_queued(&host, 0), 0);
    assert_int_equal(fake_queued(&host, 1), 1);
    assert_true(fake_take_message(&host, 1, &type, &index));
    assert_int_equal(index, x1);
    /* LP 0's buffer is untouched. */
    assert_int_equal(fake_state(&host, LOCAL, x0), INUSE);
    assert_int_equal(active(&host, LOCAL, 0), x0);
    assert_int_equal(active(&host, LOCAL, 1), NONE_IDX);

    /* Likewise for a Complete list of LP 1 flushed from VP 0. */
    c1 = fill_one(&host, 1, LOCAL);
    assert_int_equal(fake_flush_from(&host, 0, LOCAL, c1), HV_STATUS_SUCCESS);
    assert_int_equal(fake_queued(&host, 0), 0);
    assert_true(fake_take_message(&host, 1, &type, &index));
    assert_int_equal(index, c1);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 4), 1);
    fake_host_fini(&host);
}

static void flush_of_a_local_list_whose_vp_is_ineligible_posts_to_the_lowest_eligible(void **state)
{
    uint32_t x, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 3, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES);
    x = log_small(&host, 2, LOCAL, 0);
    host.vp_ineligible[2] = true;
    host.vp_ineligible[0] = true;
    assert_int_equal(fake_flush_from(&host, 2, LOCAL, x), HV_STATUS_SUCCESS);
    assert_int_equal(fake_queued(&host, 1), 1);
    assert_true(fake_take_message(&host, 1, NULL, &index));
    assert_int_equal(index, x);
    fake_host_fini(&host);
}

/* ---- no-ops and errors ----------------------------------------------------------- */

static void flush_of_free_ready_or_standby_succeeds_and_changes_nothing(void **state)
{
    uint32_t ready, free_one, standby = 7, posts;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 1, FAKE_ALL_SOURCES);
    ready = fill_one(&host, 0, LOCAL);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    free_one = 5;
    assert_int_equal(fake_unmap(&host, LOCAL, standby), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, ready), READY);
    assert_int_equal(fake_state(&host, LOCAL, free_one), FREE);
    assert_int_equal(fake_state(&host, LOCAL, standby), STANDBY);
    /* An InUse buffer exists too: none of these flushes may touch it. */
    (void)log_small(&host, 0, LOCAL, 3);

    posts = host.posts;
    fake_snapshot(&host, &snap_before);
    assert_int_equal(fake_flush(&host, LOCAL, ready), HV_STATUS_SUCCESS);
    assert_int_equal(fake_flush(&host, LOCAL, free_one), HV_STATUS_SUCCESS);
    assert_int_equal(fake_flush(&host, LOCAL, standby), HV_STATUS_SUCCESS);
    fake_snapshot(&host, &snap_after);
    assert_int_equal(fake_snapshot_diff(&snap_before, &snap_after), 0);
    assert_int_equal(host.posts, posts);
    assert_int_equal(total_queued(&host), 0);
    fake_host_fini(&host);
}

static void flush_of_an_index_not_created_or_at_or_above_maximum_is_invalid_parameter(void **state)
{
    static const uint32_t bad[] = {3, 5, 6, 511, 512, 0x10000, NONE_IDX};
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 6, 1, 1, 0), HV_STATUS_SUCCESS);
    for (uint32_t i = 0; i < 3; i++) {
        assert_int_equal(fake_create(&host, LOCAL, i, 0, 0), HV_STATUS_SUCCESS);
        assert_int_equal(fake_map(&host, LOCAL, i, NULL), HV_STATUS_SUCCESS);
    }
    assert_int_equal(fake_create(&host, LOCAL, 4, 0, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_delete(&host, LOCAL, 4), HV_STATUS_SUCCESS); /* deleted = not created */
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), HV_STATUS_SUCCESS);
    (void)log_small(&host, 0, LOCAL, 0);

    fake_snapshot(&host, &snap_before);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        assert_int_equal(fake_flush(&host, LOCAL, bad[k]), HV_STATUS_INVALID_PARAMETER);
    assert_int_equal(fake_flush(&host, LOCAL, 4), HV_STATUS_INVALID_PARAMETER);
    fake_snapshot(&host, &snap_after);
    assert_int_equal(fake_snapshot_diff(&snap_before, &snap_after), 0);
    assert_int_equal(host.posts, 0);
    fake_host_fini(&host);
}

static void flush_of_an_uninitialized_group_is_operation_denied(void **state)
{
    uint64_t rdx, r8;
    uint8_t in[8];
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_flush(&host, LOCAL, 0), HV_STATUS_OPERATION_DENIED);
    fake_setup_group(&host, LOCAL, 2, 1, 1, FAKE_ALL_SOURCES);
    /* The other type is still uninitialized, whatever the index. */
    assert_int_equal(fake_flush(&host, GLOBAL, 0), HV_STATUS_OPERATION_DENIED);
    assert_int_equal(fake_flush(&host, GLOBAL, 600), HV_STATUS_OPERATION_DENIED);
    /* §5 common rows: Type beyond the profile's maximum, and a caller that is
     * not the root. SystemDiagnostics (2) is a type of the current profile
     * (D6), whose Flush is OPERATION_DENIED (§11.6: the root only maps it). */
    assert_int_equal(fake_flush(&host, HvEventLogTypeSystemDiagnostics, 0),
                     fake_current(&host) ? HV_STATUS_OPERATION_DENIED
                                         : HV_STATUS_INVALID_PARAMETER);
    assert_int_equal(fake_flush(&host, 3, 0), HV_STATUS_INVALID_PARAMETER);
    hv_input_eventlog_buffer_store(in, &(struct hv_input_eventlog_buffer){LOCAL, 0});
    hvlog_fast_pack(in, 8, &rdx, &r8);
    assert_int_equal(fake_call(&host, FAKE_CHILD_ID, 0, fake_rcx(HvCallHvFlushEventLogBuffer, true),
                               rdx, r8, NULL),
                     HV_STATUS_ACCESS_DENIED);

    /* Torn down and finalized: denied again. */
    assert_int_equal(fake_sources(&host, LOCAL, 0), HV_STATUS_SUCCESS);
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(fake_unmap(&host, LOCAL, i), HV_STATUS_SUCCESS);
        assert_int_equal(fake_delete(&host, LOCAL, i), HV_STATUS_SUCCESS);
    }
    assert_int_equal(fake_finalize(&host, LOCAL), HV_STATUS_SUCCESS);
    assert_int_equal(fake_flush(&host, LOCAL, 0), HV_STATUS_OPERATION_DENIED);
    assert_int_equal(host.posts, 0);
    fake_host_fini(&host);
}

static void after_a_flush_the_next_event_takes_a_new_buffer(void **state)
{
    struct hv_eventlog_buffer_header hd;
    uint32_t x, y;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES);
    x = log_small(&host, 0, LOCAL, 0);
    assert_int_equal(fake_flush(&host, LOCAL, x), HV_STATUS_SUCCESS);
    assert_int_equal(active(&host, LOCAL, 0), NONE_IDX);

    assert_int_equal(hvlog_log(host.logger, 0, LOCAL, SOURCE, 0x30, 99, NULL, 0), HVLOG_LOG_RECORDED);
    y = active(&host, LOCAL, 0);
    assert_int_not_equal(y, x);
    hd = fake_header(&host, LOCAL, y);
    assert_int_equal(hd.buffer_state, INUSE);
    assert_int_equal(hd.next_buffer_offset, fake_next_offset(&host, 16));
    assert_int_equal(hvlog_load_le32(buffer_bytes(&host, LOCAL, y) + 72), 99);
    /* The flushed buffer kept its content and its state. */
    assert_int_equal(fake_state(&host, LOCAL, x), READY);
    assert_int_equal(fake_header(&host, LOCAL, x).next_buffer_offset, fake_next_offset(&host, 24));
    fake_host_fini(&host);
}

/* Conclude (§9): logging disabled, the InUse buffer stays InUse until flushed. */
static void flush_after_sources_disabled_still_delivers_the_in_use_buffer(void **state)
{
    uint32_t x, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    fake_setup_group(&host, LOCAL, 2, 1, 2, FAKE_ALL_SOURCES);
    x = log_small(&host, 0, LOCAL, 0);
    assert_int_equal(fake_sources(&host, LOCAL, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 1), HVLOG_LOG_DROPPED);
    assert_int_equal(fake_state(&host, LOCAL, x), INUSE); /* DEC-SRC: disabling does not flush */
    assert_int_equal(stats(&host, LOCAL, 0).lost_pending, 0); /* a drop is not a loss */
    assert_int_equal(stats(&host, LOCAL, 0).events_lost_no_buffer, 0);
    assert_int_equal(fake_flush(&host, LOCAL, x), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, x), READY);
    assert_true(fake_take_message(&host, 0, NULL, &index));
    assert_int_equal(index, x);
    fake_host_fini(&host);
}

/* ---- knob flush_scope = type (D18) ----------------------------------------------- */

static void knob_flush_scope_type_flushes_every_in_use_buffer_and_every_list(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    uint32_t x0, c1, x1, type, index, chain[4], named;
    (void)state;

    p.flush_scope = HVLOG_FLUSH_SCOPE_TYPE;
    assert_int_equal(fake_host_init(&host, 3, 1, 4096, &p), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 8, FAKE_ALL_SOURCES);
    x0 = log_small(&host, 0, LOCAL, 0);
    c1 = fill_one(&host, 1, LOCAL);
    x1 = log_small(&host, 1, LOCAL, 1);
    named = 7; /* a Free buffer: under this knob the named index only has to exist */
    assert_int_equal(fake_state(&host, LOCAL, named), FREE);

    assert_int_equal(fake_flush_from(&host, 2, LOCAL, named), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, x0), READY);
    assert_int_equal(fake_state(&host, LOCAL, named), FREE);
    for (uint32_t lp = 0; lp < 3; lp++)
        assert_int_equal(active(&host, LOCAL, lp), NONE_IDX);
    /* One message per list, each to its LP's VP. The group has one message
     * buffer (DEC-MSGBUF): LP 1's list, x1 appended, waits Complete and due. */
    assert_int_equal(fake_state(&host, LOCAL, c1), COMPLETE);
    assert_int_equal(fake_state(&host, LOCAL, x1), COMPLETE);
    assert_int_equal(stats(&host, LOCAL, 1).pending_count, 2);
    assert_int_equal(group(&host, LOCAL).due_lists, 1);
    assert_int_equal(total_queued(&host), 1);
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, x0);
    assert_int_equal(fake_state(&host, LOCAL, c1), READY);
    assert_int_equal(fake_state(&host, LOCAL, x1), READY);
    for (uint32_t lp = 0; lp < 3; lp++)
        assert_int_equal(stats(&host, LOCAL, lp).pending_count, 0);
    assert_true(fake_take_message(&host, 1, &type, &index));
    assert_int_equal(index, c1);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 4), 2);
    assert_int_equal(chain[1], x1);
    assert_int_equal(total_queued(&host), 0); /* LP 2 had nothing */
    assert_int_equal(host.posts, 2);
    fake_host_fini(&host);
}

static void knob_flush_scope_type_on_the_global_group_flushes_its_buffer_and_list(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    uint32_t c, x, index, chain[4];
    (void)state;

    p.flush_scope = HVLOG_FLUSH_SCOPE_TYPE;
    assert_int_equal(fake_host_init(&host, 2, 1, 4096, &p), 0);
    fake_setup_group(&host, GLOBAL, 4, 1, 4, FAKE_ALL_SOURCES);
    c = fill_one(&host, 0, GLOBAL);
    x = log_small(&host, 1, GLOBAL, 0);
    assert_int_equal(fake_flush_from(&host, 1, GLOBAL, 3), HV_STATUS_SUCCESS); /* 3 is Free */
    assert_true(fake_take_message(&host, 1, NULL, &index));
    assert_int_equal(index, c);
    assert_int_equal(fake_chain(&host, GLOBAL, index, chain, 4), 2);
    assert_int_equal(chain[1], x);
    fake_host_fini(&host);
}

/* ---- knob flush_index = vp (D1) --------------------------------------------------- */

static void knob_flush_index_vp_flushes_that_lps_buffer_and_list(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    uint32_t x0, c1, x1, index, chain[4];
    (void)state;

    p.flush_index = HVLOG_FLUSH_INDEX_VP;
    assert_int_equal(fake_host_init(&host, 3, 1, 4096, &p), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 8, FAKE_ALL_SOURCES);
    x0 = log_small(&host, 0, LOCAL, 0);   /* buffer 0 */
    c1 = fill_one(&host, 1, LOCAL);       /* buffer 1 */
    x1 = log_small(&host, 1, LOCAL, 1);   /* buffer 2 */
    assert_int_equal(x0, 0);
    assert_int_equal(c1, 1);

    /* Field 1 is VP 1 (LP 1), not buffer 1. */
    assert_int_equal(fake_flush(&host, LOCAL, 1), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, c1), READY);
    assert_int_equal(fake_state(&host, LOCAL, x1), READY);
    assert_int_equal(fake_state(&host, LOCAL, x0), INUSE);
    assert_int_equal(fake_queued(&host, 0), 0);
    assert_true(fake_take_message(&host, 1, NULL, &index));
    assert_int_equal(index, c1);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 4), 2);
    assert_int_equal(chain[1], x1);

    /* VP 2 has nothing: success, no message. VP 0: LP 0's buffer. */
    assert_int_equal(fake_flush(&host, LOCAL, 2), HV_STATUS_SUCCESS);
    assert_int_equal(total_queued(&host), 0);
    assert_int_equal(fake_flush(&host, LOCAL, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, LOCAL, x0), READY);
    assert_true(fake_take_message(&host, 0, NULL, &index));
    assert_int_equal(index, x0);
    fake_host_fini(&host);
}

static void knob_flush_index_vp_rejects_an_unknown_vp_even_if_a_buffer_has_that_index(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    (void)state;

    p.flush_index = HVLOG_FLUSH_INDEX_VP;
    assert_int_equal(fake_host_init(&host, 3, 1, 4096, &p), 0);
    fake_setup_group(&host, LOCAL, 8, 1, 8, FAKE_ALL_SOURCES);
    (void)log_small(&host, 0, LOCAL, 0);
    fake_snapshot(&host, &snap_before);
    /* Buffer 3 exists, VP 3 does not. */
    assert_int_equal(fake_flush(&host, LOCAL, 3), HV_STATUS_INVALID_PARAMETER);
    assert_int_equal(fake_flush(&host, LOCAL, 7), HV_STATUS_INVALID_PARAMETER);
    assert_int_equal(fake_flush(&host, LOCAL, NONE_IDX), HV_STATUS_INVALID_PARAMETER);
    fake_snapshot(&host, &snap_after);
    assert_int_equal(fake_snapshot_diff(&snap_before, &snap_after), 0);
    assert_int_equal(host.posts, 0);
    fake_host_fini(&host);
}

/* ---- the global type's target VP (DEC-TARGET) ------------------------------------- */

static void global_flush_posts_to_the_flushing_vp_not_the_lp_that_logged(void **state)
{
    uint32_t x, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 3, 1, 4096, NULL), 0);
    fake_setup_group(&host, GLOBAL, 4, 1, 4, FAKE_ALL_SOURCES);
    x = log_small(&host, 2, GLOBAL, 0);
    assert_int_equal(fake_flush_from(&host, 1, GLOBAL, x), HV_STATUS_SUCCESS);
    assert_int_equal(fake_queued(&host, 2), 0);
    assert_true(fake_take_message(&host, 1, NULL, &index));
    assert_int_equal(index, x);
    fake_host_fini(&host);
}

static void global_flush_from_an_ineligible_vp_posts_to_the_lowest_eligible(void **state)
{
    uint32_t x, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 3, 1, 4096, NULL), 0);
    fake_setup_group(&host, GLOBAL, 4, 1, 4, FAKE_ALL_SOURCES);
    x = log_small(&host, 0, GLOBAL, 0);
    host.vp_ineligible[1] = true;
    assert_int_equal(fake_flush_from(&host, 1, GLOBAL, x), HV_STATUS_SUCCESS);
    assert_true(fake_take_message(&host, 0, NULL, &index));
    assert_int_equal(index, x);

    x = log_small(&host, 0, GLOBAL, 1);
    host.vp_ineligible[0] = true;
    assert_int_equal(fake_flush_from(&host, 1, GLOBAL, x), HV_STATUS_SUCCESS);
    assert_int_equal(fake_queued(&host, 0), 0);
    assert_int_equal(fake_queued(&host, 1), 0);
    assert_true(fake_take_message(&host, 2, NULL, &index));
    assert_int_equal(index, x);
    fake_host_fini(&host);
}

static void global_flush_with_no_eligible_vp_readies_the_buffers_and_posts_on_kick(void **state)
{
    struct hvlog_group_info g;
    uint32_t c, x, index, chain[4];
    (void)state;

    assert_int_equal(fake_host_init(&host, 3, 1, 4096, NULL), 0);
    fake_setup_group(&host, GLOBAL, 4, 1, 4, FAKE_ALL_SOURCES);
    c = fill_one(&host, 2, GLOBAL);
    x = log_small(&host, 2, GLOBAL, 0);
    for (uint32_t vp = 0; vp < 3; vp++)
        host.vp_ineligible[vp] = true;

    assert_int_equal(fake_flush_from(&host, 1, GLOBAL, x), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&host, GLOBAL, c), READY);
    assert_int_equal(fake_state(&host, GLOBAL, x), READY);
    assert_int_equal(total_queued(&host), 0);
    g = group(&host, GLOBAL);
    assert_true(g.message_busy);

    /* Still none eligible: a kick changes nothing. */
    hvlog_engine_kick(host.engine);
    assert_int_equal(total_queued(&host), 0);
    assert_int_equal(host.posts, 0);

    /* VP 2 becomes eligible (VP 1, the flusher, is not): the message goes there. */
    host.vp_ineligible[2] = false;
    hvlog_engine_kick(host.engine);
    assert_int_equal(host.posts, 1);
    assert_true(fake_take_message(&host, 2, NULL, &index));
    assert_int_equal(index, c);
    assert_int_equal(fake_chain(&host, GLOBAL, index, chain, 4), 2);
    assert_int_equal(chain[1], x);
    assert_false(group(&host, GLOBAL).message_busy);
    fake_host_fini(&host);
}

static void global_flush_with_no_eligible_vp_goes_to_the_flusher_once_it_is_eligible(void **state)
{
    uint32_t x, index;
    (void)state;

    assert_int_equal(fake_host_init(&host, 3, 1, 4096, NULL), 0);
    fake_setup_group(&host, GLOBAL, 4, 1, 4, FAKE_ALL_SOURCES);
    x = log_small(&host, 0, GLOBAL, 0);
    for (uint32_t vp = 0; vp < 3; vp++)
        host.vp_ineligible[vp] = true;
    assert_int_equal(fake_flush_from(&host, 2, GLOBAL, x), HV_STATUS_SUCCESS);
    assert_int_equal(total_queued(&host), 0);
    for (uint32_t vp = 0; vp < 3; vp++)
        host.vp_ineligible[vp] = false;
    hvlog_engine_kick(host.engine);
    assert_int_equal(fake_queued(&host, 0), 0);
    assert_true(fake_take_message(&host, 2, NULL, &index));
    assert_int_equal(index, x);
    fake_host_fini(&host);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flush_of_in_use_delivers_it_ready_with_its_data_intact_to_the_owners_vp),
        cmocka_unit_test(flush_of_in_use_without_entries_delivers_only_its_header),
        cmocka_unit_test(flush_of_in_use_delivers_the_complete_buffers_before_it_in_one_chain),
        cmocka_unit_test(flush_of_complete_below_threshold_delivers_the_whole_list_not_in_use),
        cmocka_unit_test(flush_from_vp0_of_lp1s_buffer_posts_to_lp1s_vp),
        cmocka_unit_test(flush_of_a_local_list_whose_vp_is_ineligible_posts_to_the_lowest_eligible),
        cmocka_unit_test(flush_of_free_ready_or_standby_succeeds_and_changes_nothing),
        cmocka_unit_test(flush_of_an_index_not_created_or_at_or_above_maximum_is_invalid_parameter),
        cmocka_unit_test(flush_of_an_uninitialized_group_is_operation_denied),
        cmocka_unit_test(after_a_flush_the_next_event_takes_a_new_buffer),
        cmocka_unit_test(flush_after_sources_disabled_still_delivers_the_in_use_buffer),
        cmocka_unit_test(knob_flush_scope_type_flushes_every_in_use_buffer_and_every_list),
        cmocka_unit_test(knob_flush_scope_type_on_the_global_group_flushes_its_buffer_and_list),
        cmocka_unit_test(knob_flush_index_vp_flushes_that_lps_buffer_and_list),
        cmocka_unit_test(knob_flush_index_vp_rejects_an_unknown_vp_even_if_a_buffer_has_that_index),
        cmocka_unit_test(global_flush_posts_to_the_flushing_vp_not_the_lp_that_logged),
        cmocka_unit_test(global_flush_from_an_ineligible_vp_posts_to_the_lowest_eligible),
        cmocka_unit_test(global_flush_with_no_eligible_vp_readies_the_buffers_and_posts_on_kick),
        cmocka_unit_test(global_flush_with_no_eligible_vp_goes_to_the_flusher_once_it_is_eligible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
