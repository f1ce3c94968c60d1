/* SPDX-License-Identifier: MIT */
/*
 * Behaviour of the current-ABI profile (spec §11) that the 2013 profile does
 * not have: Circular mode (§11.1), the §11.4 header (BufferSize, data-relative
 * NextBufferOffset, the u16 LogicalProcessor, LpSequenceNumber), the QPC time
 * basis (§11.5) and the SystemDiagnostics ring (§11.6, D24) with its embedding
 * API hvlog_engine_system_diag_start().
 *
 * Every test makes its engines with an explicit profile (it does not follow
 * HVLOG_TEST_ABI), so this executable runs once; where the 2013 profile is the
 * point of comparison (ring refusal, header bytes), it builds a 2013 engine.
 * After every test the engine's invariants hold (hvlog_engine_check).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "engine_test_util.h"
#include "fake_host.h"

#define SYSDIAG HvEventLogTypeSystemDiagnostics
#define SUCCESS HV_STATUS_SUCCESS

enum { STANDBY = HvEventLogBufferStateStandby, FREE = HvEventLogBufferStateFree,
       INUSE = HvEventLogBufferStateInUse, COMPLETE = HvEventLogBufferStateComplete,
       READY = HvEventLogBufferStateReady };

static struct fake_host host;
static struct fake_snapshot snap_before, snap_after;

static struct hvlog_profile profile_of(enum hvlog_abi_profile abi)
{
    return hvlog_profile_preset(abi);
}

static void up(struct fake_host *h, uint32_t lps, int64_t pool, enum hvlog_abi_profile abi)
{
    struct hvlog_profile p = profile_of(abi);

    assert_int_equal(fake_host_init(h, lps, 1, pool, &p), 0);
}

static void assert_engine_ok(struct fake_host *h)
{
    char why[160];

    if (hvlog_engine_check(h->engine, why, sizeof why) != 0)
        fail_msg("hvlog_engine_check: %s", why);
}

static int host_down(void **state)
{
    (void)state;
    if (host.engine) {
        assert_engine_ok(&host);
        fake_host_fini(&host);
    }
    return 0;
}

static struct hvlog_buffer_info binfo(struct fake_host *h, uint32_t type, uint32_t index)
{
    struct hvlog_buffer_info b;

    assert_int_equal(hvlog_engine_buffer_info(h->engine, type, index, &b), 0);
    return b;
}

/* A Circular (or Regular) group of @count one-page buffers, all mapped, enabled. */
static void circular_group(struct fake_host *h, uint32_t type, uint32_t mode, uint32_t count,
                           uint32_t threshold)
{
    assert_int_equal(fake_init_mode(h, type, mode, count, 1, threshold, 0), SUCCESS);
    assert_int_equal(group(h, type).mode, mode);
    for (uint32_t i = 0; i < count; i++) {
        assert_int_equal(fake_create(h, type, i, 0, 0), SUCCESS);
        assert_int_equal(fake_map(h, type, i, NULL), SUCCESS);
    }
    assert_int_equal(fake_sources(h, type, FAKE_ALL_SOURCES), SUCCESS);
}

/* ---- §11.1 Circular mode --------------------------------------------------------- */

/*
 * Threshold 1 and a message nobody takes (DEC-MSGBUF): buffer a goes Ready,
 * b and c stay Complete on LP 0's due list. With no Free buffer, the next
 * event reuses b - the scope's oldest Complete buffer - and counts its two
 * entries as overwritten; a (Ready) is never touched.
 */
static void circular_mode_reuses_the_oldest_complete_buffer_and_counts_what_it_overwrote(
    void **state)
{
    uint32_t a, b, c, type, index, chain[4];
    struct hv_eventlog_buffer_header ha;
    struct hvlog_scope_stats st;
    (void)state;

    up(&host, 1, 4096, HVLOG_ABI_CURRENT);
    circular_group(&host, LOCAL, HvEventLogModeCircular, 3, 1);
    a = fill_one(&host, 0, LOCAL); /* two entries each */
    b = fill_one(&host, 0, LOCAL);
    c = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_state(&host, LOCAL, a), READY);
    assert_int_equal(fake_state(&host, LOCAL, b), COMPLETE);
    assert_int_equal(fake_state(&host, LOCAL, c), COMPLETE);
    assert_int_equal(group(&host, LOCAL).free_count, 0);
    ha = fake_header(&host, LOCAL, a);
    assert_engine_ok(&host);

    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 7), HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, LOCAL, 0), b);
    assert_int_equal(fake_state(&host, LOCAL, b), INUSE);
    assert_int_equal(fake_header(&host, LOCAL, b).next_buffer_offset, 24); /* §11.4: reset */
    assert_int_equal(fake_header(&host, LOCAL, b).events_lost, 0);
    st = stats(&host, LOCAL, 0);
    assert_int_equal(st.events_overwritten, 2);       /* exactly b's entries */
    assert_int_equal(st.events_lost_no_buffer, 0);     /* not a loss... */
    assert_int_equal(st.lost_pending, 0);              /* ...and not in EventsLost */
    assert_int_equal(st.pending_count, 1);             /* b left the list; c stays */
    /* The Ready buffer is untouched. */
    assert_int_equal(fake_state(&host, LOCAL, a), READY);
    {
        struct hv_eventlog_buffer_header now = fake_header(&host, LOCAL, a);
        assert_memory_equal(&ha, &now, sizeof ha);
    }
    assert_engine_ok(&host);

    /* The waiting list is served without b. */
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, a);
    assert_true(fake_take_message(&host, 0, &type, &index));
    assert_int_equal(index, c);
    assert_int_equal(fake_chain(&host, LOCAL, index, chain, 4), 1);
    assert_engine_ok(&host);
}

/* Filling the reused buffer and reusing again: each reuse adds exactly the
 * entries of the buffer it discards. */
static void circular_mode_counts_overwritten_entries_across_several_reuses(void **state)
{
    uint32_t before;
    (void)state;

    up(&host, 1, 4096, HVLOG_ABI_CURRENT);
    circular_group(&host, LOCAL, HvEventLogModeCircular, 2, 2);
    /* Threshold 2 = count: the second completion notifies; take nothing so
     * the message buffer stays busy and later lists wait Complete. */
    fill_one(&host, 0, LOCAL);
    fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_queued(&host, 0), 1);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    for (uint32_t i = 0; i < 2; i++)
        assert_int_equal(fake_release(&host, LOCAL, i), SUCCESS);
    /* Now three small entries into one buffer, 5 into the other, with the
     * message buffer busy by a third list. */
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(fake_log(&host, 0, LOCAL, 8, i), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_flush(&host, LOCAL, active(&host, LOCAL, 0)), SUCCESS); /* Ready */
    for (uint32_t i = 0; i < 5; i++)
        assert_int_equal(fake_log(&host, 0, LOCAL, 8, i), HVLOG_LOG_RECORDED);
    before = active(&host, LOCAL, 0);
    /* Complete it without notifying: fill the rest. */
    {
        struct hv_eventlog_buffer_header hd = fake_header(&host, LOCAL, before);
        assert_int_equal(fake_log(&host, 0, LOCAL, hd.buffer_size - hd.next_buffer_offset - 16, 9),
                         HVLOG_LOG_RECORDED);
    }
    assert_int_equal(fake_state(&host, LOCAL, before), COMPLETE);
    /* One list is queued, so this Complete buffer waits; the other is Ready. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 10), HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, LOCAL, 0), before);
    assert_int_equal(stats(&host, LOCAL, 0).events_overwritten, 6);
    assert_engine_ok(&host);
}

/* A Circular scope reuses only its own Complete buffers: LP 1 with none of
 * its own loses the event although LP 0 has Complete buffers. */
static void circular_mode_never_takes_another_lps_complete_buffer(void **state)
{
    uint32_t a, b;
    (void)state;

    up(&host, 2, 4096, HVLOG_ABI_CURRENT);
    circular_group(&host, LOCAL, HvEventLogModeCircular, 2, 2);
    a = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 0), HVLOG_LOG_RECORDED);
    b = active(&host, LOCAL, 0);
    assert_int_equal(fake_state(&host, LOCAL, a), COMPLETE);
    assert_int_equal(fake_log(&host, 1, LOCAL, 8, 0), HVLOG_LOG_LOST);
    assert_int_equal(stats(&host, LOCAL, 1).events_lost_no_buffer, 1);
    assert_int_equal(stats(&host, LOCAL, 1).lost_pending, 1);
    assert_int_equal(stats(&host, LOCAL, 1).events_overwritten, 0);
    assert_int_equal(fake_state(&host, LOCAL, a), COMPLETE);
    assert_int_equal(active(&host, LOCAL, 0), b);
    assert_engine_ok(&host);
}

/* Ready buffers are the root's (§6.3): a Circular group with only Ready and
 * InUse buffers loses the event, counted in EventsLost as in Regular mode. */
static void circular_mode_never_reuses_ready_buffers(void **state)
{
    uint32_t a, b;
    (void)state;

    up(&host, 1, 4096, HVLOG_ABI_CURRENT);
    circular_group(&host, GLOBAL, HvEventLogModeCircular, 2, 1);
    a = fill_one(&host, 0, GLOBAL);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    b = fill_one(&host, 0, GLOBAL);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    assert_int_equal(fake_state(&host, GLOBAL, a), READY);
    assert_int_equal(fake_state(&host, GLOBAL, b), READY);
    assert_int_equal(fake_log(&host, 0, GLOBAL, 8, 0), HVLOG_LOG_LOST);
    assert_int_equal(fake_log(&host, 0, GLOBAL, 8, 1), HVLOG_LOG_LOST);
    assert_int_equal(stats(&host, GLOBAL, 0).events_lost_no_buffer, 2);
    assert_int_equal(stats(&host, GLOBAL, 0).events_overwritten, 0);
    assert_int_equal(fake_state(&host, GLOBAL, a), READY);
    assert_int_equal(fake_release(&host, GLOBAL, a), SUCCESS);
    assert_int_equal(fake_log(&host, 0, GLOBAL, 8, 2), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header(&host, GLOBAL, a).events_lost, 2);
    assert_engine_ok(&host);
}

/* The same situation as the first test in a Regular group: the event is lost. */
static void regular_mode_loses_the_event_where_circular_would_reuse(void **state)
{
    uint32_t b, c;
    (void)state;

    up(&host, 1, 4096, HVLOG_ABI_CURRENT);
    circular_group(&host, LOCAL, HvEventLogModeRegular, 3, 1);
    fill_one(&host, 0, LOCAL);
    b = fill_one(&host, 0, LOCAL);
    c = fill_one(&host, 0, LOCAL);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 7), HVLOG_LOG_LOST);
    assert_int_equal(stats(&host, LOCAL, 0).events_lost_no_buffer, 1);
    assert_int_equal(stats(&host, LOCAL, 0).events_overwritten, 0);
    assert_int_equal(fake_state(&host, LOCAL, b), COMPLETE);
    assert_int_equal(fake_state(&host, LOCAL, c), COMPLETE);
    assert_engine_ok(&host);
}

/* ---- §11.4 the header ------------------------------------------------------------- */

static void current_header_has_data_area_size_and_data_relative_offset(void **state)
{
    struct hv_eventlog_buffer_header hd;
    (void)state;

    up(&host, 1, 4096, HVLOG_ABI_CURRENT);
    circular_group(&host, LOCAL, HvEventLogModeRegular, 2, 2);
    hd = fake_header(&host, LOCAL, 0);
    assert_int_equal(hd.buffer_size, 4096 - 72);
    assert_int_equal(hd.next_buffer_offset, 0);
    assert_int_equal(hd.alignment, 0); /* no Alignment byte: high byte of the u16 LP */
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 0), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header(&host, LOCAL, 0).next_buffer_offset, 24);
    /* The first entry sits right after the header (data offset 0). */
    assert_int_equal(hvlog_load_le32(buffer_bytes(&host, LOCAL, 0) + 72), 0);     /* context */
    assert_int_equal(hvlog_load_le16(buffer_bytes(&host, LOCAL, 0) + 72 + 4), 24); /* size */
    /* Filled to the last byte: NextBufferOffset = BufferSize. */
    assert_int_equal(fake_log(&host, 0, LOCAL, 4024 - 24 - 16, 1), HVLOG_LOG_RECORDED);
    hd = fake_header(&host, LOCAL, 0);
    assert_int_equal(hd.buffer_state, COMPLETE);
    assert_int_equal(hd.next_buffer_offset, 4024);
    assert_int_equal(hd.next_buffer_offset, hd.buffer_size);
    assert_engine_ok(&host);
}

static void lp_sequence_number_counts_each_lps_buffers_since_initialize(void **state)
{
    uint32_t x;
    (void)state;

    up(&host, 2, 4096, HVLOG_ABI_CURRENT);
    circular_group(&host, LOCAL, HvEventLogModeRegular, 8, 8);
    for (uint32_t n = 1; n <= 3; n++) {
        x = fill_one(&host, 0, LOCAL);
        assert_int_equal(fake_header_current(&host, LOCAL, x).lp_sequence_number, n);
        assert_int_equal(fake_header_current(&host, LOCAL, x).logical_processor, 0);
    }
    for (uint32_t n = 1; n <= 2; n++) {
        x = fill_one(&host, 1, LOCAL);
        assert_int_equal(fake_header_current(&host, LOCAL, x).lp_sequence_number, n);
        assert_int_equal(fake_header_current(&host, LOCAL, x).logical_processor, 1);
    }
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 0), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header_current(&host, LOCAL, active(&host, LOCAL, 0)).lp_sequence_number,
                     4);

    /* The global type numbers its one scope, LP 0, whichever LP logs. */
    circular_group(&host, GLOBAL, HvEventLogModeRegular, 4, 4);
    x = fill_one(&host, 1, GLOBAL);
    assert_int_equal(fake_header_current(&host, GLOBAL, x).lp_sequence_number, 1);
    assert_int_equal(fake_header_current(&host, GLOBAL, x).logical_processor, 0);
    x = fill_one(&host, 0, GLOBAL);
    assert_int_equal(fake_header_current(&host, GLOBAL, x).lp_sequence_number, 2);
    assert_engine_ok(&host);
}

static void lp_sequence_number_starts_again_after_finalize_and_initialize(void **state)
{
    uint32_t x;
    (void)state;

    up(&host, 1, 4096, HVLOG_ABI_CURRENT);
    circular_group(&host, GLOBAL, HvEventLogModeRegular, 2, 2);
    fill_one(&host, 0, GLOBAL);
    fill_one(&host, 0, GLOBAL);
    assert_true(fake_take_message(&host, 0, NULL, NULL));
    assert_int_equal(fake_sources(&host, GLOBAL, 0), SUCCESS);
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(fake_release(&host, GLOBAL, i), SUCCESS);
        assert_int_equal(fake_unmap(&host, GLOBAL, i), SUCCESS);
        assert_int_equal(fake_delete(&host, GLOBAL, i), SUCCESS);
    }
    assert_int_equal(fake_finalize(&host, GLOBAL), SUCCESS);
    circular_group(&host, GLOBAL, HvEventLogModeRegular, 2, 2);
    x = fill_one(&host, 0, GLOBAL);
    assert_int_equal(fake_header_current(&host, GLOBAL, x).lp_sequence_number, 1);
    assert_engine_ok(&host);
}

/* §11.4 (D9): a u16 LogicalProcessor. The engine supports 2048 LPs; the fake
 * host delivers messages to VPs < FAKE_MAX_VPS only, so a list of LP n >= 16
 * goes to the lowest eligible VP (§8.4 DEC-TARGET). */
static void logical_processor_is_a_u16_for_lps_above_255(void **state)
{
    static const uint32_t lps[] = {255, 256, 299, 1023, 1024, HVLOG_MAX_LPS - 1};
    uint32_t x, type, index;
    (void)state;

    up(&host, HVLOG_MAX_LPS, 1 << 16, HVLOG_ABI_CURRENT);
    circular_group(&host, LOCAL, HvEventLogModeRegular, 8, 1);
    for (size_t k = 0; k < sizeof lps / sizeof lps[0]; k++) {
        x = fill_one(&host, lps[k], LOCAL);
        assert_int_equal(fake_header_current(&host, LOCAL, x).logical_processor, lps[k]);
        assert_int_equal(fake_header_lp(&host, LOCAL, x), lps[k]);
        assert_int_equal(fake_header_current(&host, LOCAL, x).lp_sequence_number, 1);
        assert_int_equal(binfo(&host, LOCAL, x).owner_lp, lps[k]);
        assert_true(fake_take_message(&host, 0, &type, &index)); /* VP 0: §8.4 fallback */
        assert_int_equal(index, x);
        assert_int_equal(fake_release(&host, LOCAL, x), SUCCESS);
    }
    assert_engine_ok(&host);
}

/* The 2013 header has a u8 LogicalProcessor and an Alignment byte: an LP above
 * 255 keeps only its low byte there and Alignment stays 8 (§4.4, D9). */
static void the_2013_header_keeps_the_low_byte_of_a_large_lp_and_alignment_8(void **state)
{
    uint32_t x;
    (void)state;

    up(&host, 300, 1 << 16, HVLOG_ABI_2013);
    assert_int_equal(fake_init(&host, LOCAL, 2, 1, 2, 0), SUCCESS);
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(fake_create(&host, LOCAL, i, 0, 0), SUCCESS);
        assert_int_equal(fake_map(&host, LOCAL, i, NULL), SUCCESS);
    }
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), SUCCESS);
    x = fill_one(&host, 299, LOCAL);
    assert_int_equal(fake_header(&host, LOCAL, x).logical_processor, 299 & 0xFF);
    assert_int_equal(fake_header(&host, LOCAL, x).alignment, 8);
    assert_int_equal(fake_header(&host, LOCAL, x).reserved3, 0); /* no LpSequenceNumber */
    assert_int_equal(binfo(&host, LOCAL, x).owner_lp, 299);
    assert_engine_ok(&host);
}

/* §11.5: QPC entries are stamped with the partition reference time. */
static void qpc_time_basis_stamps_entries_with_reference_time(void **state)
{
    uint64_t before, after, stamp;
    (void)state;

    up(&host, 1, 4096, HVLOG_ABI_CURRENT);
    assert_int_equal(fake_init(&host, LOCAL, 2, 1, 2, HvEventLogEntryTimeQpc), SUCCESS);
    assert_int_equal(group(&host, LOCAL).time_basis, HvEventLogEntryTimeQpc);
    for (uint32_t i = 0; i < 2; i++) {
        assert_int_equal(fake_create(&host, LOCAL, i, 0, 0), SUCCESS);
        assert_int_equal(fake_map(&host, LOCAL, i, NULL), SUCCESS);
    }
    assert_int_equal(fake_sources(&host, LOCAL, FAKE_ALL_SOURCES), SUCCESS);
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 0), HVLOG_LOG_RECORDED);
    before = host.now;
    assert_int_equal(fake_log(&host, 0, LOCAL, 8, 1), HVLOG_LOG_RECORDED);
    after = host.now;
    stamp = hvlog_load_le64(buffer_bytes(&host, LOCAL, 0) + 72 + 24 + 8);
    assert_true(stamp > before && stamp <= after); /* the fake clock ticks per read */
    assert_engine_ok(&host);
}

/* ---- §11.6 the SystemDiagnostics ring ----------------------------------------------- */

#define RING 3u

static void ring_up(struct fake_host *h)
{
    up(h, 2, 4096, HVLOG_ABI_CURRENT);
    assert_int_equal(hvlog_engine_system_diag_start(h->engine, RING, 1, FAKE_ALL_SOURCES), 0);
}

static void ring_start_makes_free_buffers_linked_in_a_ring_with_no_bookkeeping_page(
    void **state)
{
    uint32_t count = 0, pages = 0;
    struct hvlog_group_info gi;
    (void)state;

    ring_up(&host);
    assert_int_equal(hvlog_engine_system_diag_geometry(host.engine, &count, &pages), 0);
    assert_int_equal(count, RING);
    assert_int_equal(pages, 1);
    gi = group(&host, SYSDIAG);
    assert_true(gi.initialized);
    assert_false(gi.local);
    assert_int_equal(gi.buffers_created, RING);
    assert_int_equal(gi.source_mask, FAKE_ALL_SOURCES);
    assert_int_equal(fake_pool_used(&host), RING); /* the buffers only */
    for (uint32_t i = 0; i < RING; i++) {
        struct hvlog_buffer_info b = binfo(&host, SYSDIAG, i);
        assert_true(b.exists);
        assert_int_equal(b.state, FREE);
        assert_false(b.root_mapped);
        assert_int_equal(b.header.buffer_size, 4096 - 72);
        assert_int_equal(b.header.next_buffer_index, (i + 1) % RING);
        assert_int_equal(b.header.type, SYSDIAG);
    }
    assert_false(binfo(&host, SYSDIAG, RING).exists);
    assert_engine_ok(&host);
}

static void ring_fills_in_rotation_with_increasing_timestamps_and_no_messages(void **state)
{
    uint64_t last = 0;
    uint32_t order[7];
    (void)state;

    ring_up(&host);
    for (uint32_t k = 0; k < 7; k++) {
        struct hv_eventlog_buffer_header hd;

        order[k] = fill_one(&host, k % 2, SYSDIAG);
        assert_int_equal(order[k], k % RING);
        hd = fake_header(&host, SYSDIAG, order[k]);
        assert_int_equal(hd.buffer_state, COMPLETE);
        assert_true(hd.time_stamp > last); /* strictly: the reader's generation */
        last = hd.time_stamp;
        assert_int_equal(hd.next_buffer_index, (order[k] + 1) % RING); /* the ring order stays */
        assert_int_equal(hd.next_buffer_offset, hd.buffer_size);
        assert_engine_ok(&host);
    }
    assert_int_equal(host.posts, 0);
    assert_int_equal(stats(&host, SYSDIAG, 0).pending_count, 0);
    /* Each reuse discarded a full buffer of two entries (fill_one). */
    assert_int_equal(stats(&host, SYSDIAG, 0).events_overwritten, 2 * (7 - RING));
    assert_int_equal(stats(&host, SYSDIAG, 0).events_lost_no_buffer, 0);
}

/* The diaglog reader stops at the first entry of Type 0 (§11.6, D10): a
 * reused buffer's data area is zeroed, so no old entry follows the new ones. */
/*
 * §11.6: a reused ring buffer's data area reads zero past its valid
 * entries, cleared lazily as it fills (log.c, ring_zero_ahead): after every
 * event, [NextBufferOffset, 2 x NextBufferOffset + 16) reads zero - so the
 * entry header past the last entry has Type 0 - and from half full on the
 * whole rest does. The take itself does not clear the buffer.
 */
static void assert_ring_tail_zero(const uint8_t *data, uint32_t next, uint32_t data_bytes)
{
    uint64_t to = 2ull * next + HV_EVENTLOG_ENTRY_HEADER_SIZE;

    if (to > data_bytes || 2ull * next >= data_bytes)
        to = data_bytes; /* half full: everything */
    for (uint32_t i = next; i < to; i++) {
        if (data[i] != 0)
            fail_msg("data byte %u of the reused ring buffer is 0x%02x (NextBufferOffset %u)", i,
                     data[i], next);
    }
    if (next + HV_EVENTLOG_ENTRY_HEADER_SIZE <= data_bytes)
        assert_int_equal(hvlog_load_le16(data + next + 6), 0); /* no entry type after the last */
}

static void ring_zeroes_the_data_area_of_a_reused_buffer(void **state)
{
    const uint32_t data_bytes = HV_PAGE_SIZE - HV_EVENTLOG_BUFFER_HEADER_SIZE;
    const uint8_t *data;
    uint32_t x, next, seq = 5, stale = 0;
    (void)state;

    ring_up(&host);
    for (uint32_t k = 0; k < RING; k++)
        fill_one(&host, 0, SYSDIAG);
    assert_int_equal(fake_log(&host, 0, SYSDIAG, 8, seq++), HVLOG_LOG_RECORDED);
    x = active(&host, SYSDIAG, 0);
    assert_int_equal(x, 0);
    data = buffer_bytes(&host, SYSDIAG, x) + HV_EVENTLOG_BUFFER_HEADER_SIZE;
    next = fake_header(&host, SYSDIAG, x).next_buffer_offset;
    assert_int_equal(next, 24);
    assert_ring_tail_zero(data, next, data_bytes);
    /* Lazy: the last generation's bytes further on are still there. */
    for (uint32_t i = 2 * next + HV_EVENTLOG_ENTRY_HEADER_SIZE; i < data_bytes; i++)
        stale += data[i] != 0;
    assert_true(stale > 0);
    /* Fill it: the rule holds after every event, and the tail is clean from half full. */
    while (active(&host, SYSDIAG, 0) == x) {
        assert_int_equal(fake_log(&host, 0, SYSDIAG, 8, seq++), HVLOG_LOG_RECORDED);
        if (active(&host, SYSDIAG, 0) != x)
            break;
        next = fake_header(&host, SYSDIAG, x).next_buffer_offset;
        assert_ring_tail_zero(data, next, data_bytes);
        if (2 * next >= data_bytes)
            assert_ring_tail_zero(data, next, data_bytes); /* the whole rest */
    }
    assert_engine_ok(&host);
}

/*
 * A generation that completes early (the next entry does not fit) leaves
 * old bytes it had not yet cleared; the next generation of that buffer must
 * still read zero past its entries.
 */
static void ring_reuse_after_an_early_completion_still_reads_zero_past_the_entries(void **state)
{
    const uint32_t data_bytes = HV_PAGE_SIZE - HV_EVENTLOG_BUFFER_HEADER_SIZE;
    const uint8_t *data;
    uint32_t next;
    (void)state;

    ring_up(&host);
    for (uint32_t k = 0; k < RING; k++)
        fill_one(&host, 0, SYSDIAG); /* every buffer full of old entries */
    /* Generation 2 of buffer 0: one small entry, then one that does not fit. */
    assert_int_equal(fake_log(&host, 0, SYSDIAG, 8, 1), HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, SYSDIAG, 0), 0);
    assert_int_equal(fake_log(&host, 0, SYSDIAG, data_bytes - 16 - 16, 2), HVLOG_LOG_RECORDED);
    assert_int_equal(active(&host, SYSDIAG, 0), 1);
    assert_int_equal(fake_state(&host, SYSDIAG, 0), COMPLETE);
    /* Round the ring again to buffer 0: generation 3, one small entry. */
    while (active(&host, SYSDIAG, 0) != 0)
        assert_int_equal(fake_log(&host, 0, SYSDIAG, 512, 3), HVLOG_LOG_RECORDED);
    data = buffer_bytes(&host, SYSDIAG, 0) + HV_EVENTLOG_BUFFER_HEADER_SIZE;
    next = fake_header(&host, SYSDIAG, 0).next_buffer_offset;
    assert_ring_tail_zero(data, next, data_bytes);
    /* Fill to half: from there the whole rest reads zero. */
    while (2 * next < data_bytes) {
        assert_int_equal(fake_log(&host, 0, SYSDIAG, 8, 4), HVLOG_LOG_RECORDED);
        assert_int_equal(active(&host, SYSDIAG, 0), 0);
        next = fake_header(&host, SYSDIAG, 0).next_buffer_offset;
        assert_ring_tail_zero(data, next, data_bytes);
    }
    assert_engine_ok(&host);
}

static void ring_map_and_unmap_change_only_the_roots_view(void **state)
{
    uint64_t gpa[1];
    uint32_t x;
    (void)state;

    ring_up(&host);
    assert_int_equal(fake_log(&host, 0, SYSDIAG, 8, 0), HVLOG_LOG_RECORDED);
    x = active(&host, SYSDIAG, 0);
    /* Map of the InUse buffer and of a Free one: both in service already. */
    assert_int_equal(fake_map(&host, SYSDIAG, x, gpa), SUCCESS);
    assert_int_equal(gpa[0], 0x100000ull + ((uint64_t)(uintptr_t)binfo(&host, SYSDIAG, x).pages.hva >> 12));
    assert_true(binfo(&host, SYSDIAG, x).root_mapped);
    assert_int_equal(fake_state(&host, SYSDIAG, x), INUSE);
    assert_int_equal(fake_map(&host, SYSDIAG, 2, NULL), SUCCESS);
    assert_int_equal(fake_state(&host, SYSDIAG, 2), FREE);
    assert_int_equal(host.overlays_mapped, 2);
    assert_int_equal(group(&host, SYSDIAG).free_count, 0); /* the ring keeps no free list */
    /* Mapped twice: denied, nothing changes. */
    fake_snapshot(&host, &snap_before);
    assert_int_equal(fake_map(&host, SYSDIAG, x, NULL), HV_STATUS_OPERATION_DENIED);
    fake_snapshot(&host, &snap_after);
    assert_int_equal(fake_snapshot_diff(&snap_before, &snap_after), 0);
    /* Unmap: the view goes, the ring keeps filling it. */
    assert_int_equal(fake_unmap(&host, SYSDIAG, x), SUCCESS);
    assert_false(binfo(&host, SYSDIAG, x).root_mapped);
    assert_int_equal(fake_state(&host, SYSDIAG, x), INUSE);
    assert_int_equal(host.overlays_mapped, 1);
    assert_int_equal(fake_log(&host, 0, SYSDIAG, 8, 1), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_header(&host, SYSDIAG, x).next_buffer_offset, 48);
    /* Not mapped: Unmap answers unmap_state_status (ACCESS_DENIED by default). */
    fake_snapshot(&host, &snap_before);
    assert_int_equal(fake_unmap(&host, SYSDIAG, x), HV_STATUS_ACCESS_DENIED);
    assert_int_equal(fake_unmap(&host, SYSDIAG, 1), HV_STATUS_ACCESS_DENIED);
    fake_snapshot(&host, &snap_after);
    assert_int_equal(fake_snapshot_diff(&snap_before, &snap_after), 0);
    /* Mapped again after the unmap. */
    assert_int_equal(fake_map(&host, SYSDIAG, x, NULL), SUCCESS);
    assert_true(binfo(&host, SYSDIAG, x).root_mapped);
    assert_engine_ok(&host);
}

/* §11.6: every call but Map and Unmap is OPERATION_DENIED on the ring,
 * Initialize INVALID_PARAMETER; none changes anything. */
static void ring_refuses_every_other_call_and_changes_nothing(void **state)
{
    (void)state;

    ring_up(&host);
    assert_int_equal(fake_log(&host, 0, SYSDIAG, 8, 0), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_map(&host, SYSDIAG, 0, NULL), SUCCESS);
    fake_snapshot(&host, &snap_before);
    assert_int_equal(fake_init(&host, SYSDIAG, 4, 1, 1, 0), HV_STATUS_INVALID_PARAMETER);
    assert_int_equal(fake_finalize(&host, SYSDIAG), HV_STATUS_OPERATION_DENIED);
    assert_int_equal(fake_create(&host, SYSDIAG, 2, 0, 0), HV_STATUS_OPERATION_DENIED);
    assert_int_equal(fake_delete(&host, SYSDIAG, 1), HV_STATUS_OPERATION_DENIED);
    assert_int_equal(fake_sources(&host, SYSDIAG, 0), HV_STATUS_OPERATION_DENIED);
    for (uint32_t i = 0; i < RING; i++) {
        assert_int_equal(fake_release(&host, SYSDIAG, i), HV_STATUS_OPERATION_DENIED);
        assert_int_equal(fake_flush(&host, SYSDIAG, i), HV_STATUS_OPERATION_DENIED);
    }
    fake_snapshot(&host, &snap_after);
    assert_int_equal(fake_snapshot_diff(&snap_before, &snap_after), 0);
    assert_int_equal(host.posts, 0);
    assert_engine_ok(&host);
}

static void ring_start_is_refused_under_the_2013_profile(void **state)
{
    (void)state;

    up(&host, 1, 4096, HVLOG_ABI_2013);
    assert_int_equal(hvlog_engine_system_diag_start(host.engine, RING, 1, 1), -1);
    assert_false(group(&host, SYSDIAG).initialized);
    assert_int_equal(fake_pool_used(&host), 0);
    assert_int_equal(hvlog_engine_system_diag_geometry(host.engine, &(uint32_t){0}, &(uint32_t){0}),
                     -1);
    assert_engine_ok(&host);
}

static void ring_start_twice_is_refused_and_keeps_the_first_ring(void **state)
{
    uint32_t count = 0, pages = 0;
    (void)state;

    ring_up(&host);
    fill_one(&host, 0, SYSDIAG);
    fake_snapshot(&host, &snap_before);
    assert_int_equal(hvlog_engine_system_diag_start(host.engine, 5, 2, 0), -1);
    fake_snapshot(&host, &snap_after);
    assert_int_equal(fake_snapshot_diff(&snap_before, &snap_after), 0);
    assert_int_equal(hvlog_engine_system_diag_geometry(host.engine, &count, &pages), 0);
    assert_int_equal(count, RING);
    assert_int_equal(pages, 1);
    assert_int_equal(fake_pool_used(&host), RING);
    assert_engine_ok(&host);
}

static void ring_start_with_a_bad_geometry_is_refused(void **state)
{
    static const uint32_t bad[][2] = {{0, 1}, {513, 1}, {1, 0}, {1, 513}, {0xFFFFFFFFu, 1},
                                      {1, 0xFFFFFFFFu}};
    (void)state;

    up(&host, 1, 1 << 20, HVLOG_ABI_CURRENT);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(hvlog_engine_system_diag_start(host.engine, bad[k][0], bad[k][1], 1), -1);
        assert_false(group(&host, SYSDIAG).initialized);
        assert_int_equal(fake_pool_used(&host), 0);
        assert_engine_ok(&host);
    }
    /* The extremes are fine. */
    assert_int_equal(hvlog_engine_system_diag_start(host.engine, 1, 512, 1), 0);
    assert_int_equal(fake_pool_used(&host), 1);
    assert_engine_ok(&host);
}

static void ring_start_that_exhausts_the_pool_keeps_nothing(void **state)
{
    int64_t free_before;
    (void)state;

    up(&host, 1, 5, HVLOG_ABI_CURRENT); /* 5 pages: two 2-page buffers, not three */
    free_before = host.pool_free[0];
    assert_int_equal(hvlog_engine_system_diag_start(host.engine, 3, 2, 1), -1);
    assert_int_equal(host.pool_free[0], free_before);
    assert_int_equal(fake_pool_used(&host), 0);
    assert_false(group(&host, SYSDIAG).initialized);
    for (uint32_t i = 0; i < 3; i++)
        assert_false(binfo(&host, SYSDIAG, i).exists);
    assert_int_equal(fake_map(&host, SYSDIAG, 0, NULL), HV_STATUS_OPERATION_DENIED);
    assert_engine_ok(&host);
    /* An injected failure on the last buffer: likewise. */
    host.fail_alloc_after = 2;
    assert_int_equal(hvlog_engine_system_diag_start(host.engine, 2, 1, 1), -1);
    assert_int_equal(host.pool_free[0], free_before);
    assert_int_equal(fake_pool_used(&host), 0);
    assert_engine_ok(&host);
    /* What fits still starts. */
    assert_int_equal(hvlog_engine_system_diag_start(host.engine, 2, 2, 1), 0);
    assert_int_equal(host.pool_free[0], free_before - 4);
    assert_engine_ok(&host);
}

/* ---- §12.1 preset: the Linux root driver's STOP and DESTROY (issue 14, D13) ---- */

/*
 * LP 0 fills exactly one buffer (one entry of the whole data area: step 6
 * completes it) and logs nothing more: its only buffer is Complete on its
 * pending list, below the threshold of 4, and it has no InUse buffer.
 */
static void one_complete_buffer_below_threshold(struct fake_host *h)
{
    const uint32_t data_area = HV_PAGE_SIZE - HV_EVENTLOG_BUFFER_HEADER_SIZE;

    circular_group(h, LOCAL, HvEventLogModeRegular, 4, 4);
    assert_int_equal(fake_log(h, 0, LOCAL, data_area - HV_EVENTLOG_ENTRY_HEADER_SIZE, 1),
                     HVLOG_LOG_RECORDED);
    assert_int_equal(active(h, LOCAL, 0), HV_EVENTLOG_BUFFER_INDEX_NONE);
    assert_int_equal(stats(h, LOCAL, 0).pending_count, 1);
    assert_int_equal(fake_state(h, LOCAL, 0), COMPLETE);
    assert_int_equal(fake_queued(h, 0), 0); /* below the threshold: no message */
}

/*
 * The driver's STOP (research real-clients §1.1): sources off; Flush every
 * index whose mapped header says InUse; Release every index whose header
 * says Complete. Returns how many Releases succeeded.
 */
static uint32_t linux_stop(struct fake_host *h, uint32_t count)
{
    uint32_t released = 0;

    assert_int_equal(fake_sources(h, LOCAL, 0), SUCCESS);
    for (uint32_t i = 0; i < count; i++) {
        if (fake_header(h, LOCAL, i).buffer_state == INUSE)
            (void)fake_flush(h, LOCAL, i); /* logged, ignored */
    }
    for (uint32_t i = 0; i < count; i++) {
        if (fake_header(h, LOCAL, i).buffer_state == COMPLETE)
            released += fake_release(h, LOCAL, i) == SUCCESS; /* logged, ignored */
    }
    return released;
}

/* The driver's DESTROY: Unmap all, Delete all, Finalize; stops at the first error. */
static hv_status_t linux_destroy(struct fake_host *h, uint32_t count)
{
    hv_status_t st;

    for (uint32_t i = 0; i < count; i++) {
        if ((st = fake_unmap(h, LOCAL, i)) != SUCCESS)
            return st;
    }
    for (uint32_t i = 0; i < count; i++) {
        if ((st = fake_delete(h, LOCAL, i)) != SUCCESS)
            return st;
    }
    return fake_finalize(h, LOCAL);
}

static void linux_stop_then_destroy_never_wedges_under_the_current_preset(void **state)
{
    (void)state;
    up(&host, 2, 4096, HVLOG_ABI_CURRENT); /* the preset, no knob touched */
    one_complete_buffer_below_threshold(&host);

    assert_int_equal(linux_stop(&host, 4), 1);
    assert_int_equal(fake_state(&host, LOCAL, 0), FREE); /* D13: off its list */
    assert_int_equal(stats(&host, LOCAL, 0).pending_count, 0);
    assert_engine_ok(&host);
    assert_int_equal(linux_destroy(&host, 4), SUCCESS);
    assert_false(group(&host, LOCAL).initialized);
    assert_int_equal(fake_pool_used(&host), 0); /* every page back in the pool */
    /* The next Initialize (after kexec) finds the group free. */
    assert_int_equal(fake_init_mode(&host, LOCAL, HvEventLogModeRegular, 4, 1, 4, 0), SUCCESS);
}

/* What the preset prevents: with the knob off, the same sequence wedges for good. */
static void linux_stop_then_destroy_wedges_with_release_from_complete_off(void **state)
{
    struct hvlog_profile p = hvlog_profile_preset(HVLOG_ABI_CURRENT);
    (void)state;

    assert_true(p.release_from_complete);
    assert_false(hvlog_profile_preset(HVLOG_ABI_2013).release_from_complete);
    p.release_from_complete = false;
    assert_int_equal(fake_host_init(&host, 2, 1, 4096, &p), 0);
    one_complete_buffer_below_threshold(&host);

    assert_int_equal(linux_stop(&host, 4), 0); /* Release of Complete: OPERATION_DENIED */
    assert_int_equal(fake_state(&host, LOCAL, 0), COMPLETE);
    assert_int_equal(linux_destroy(&host, 4), HV_STATUS_ACCESS_DENIED); /* Unmap of Complete */
    assert_true(group(&host, LOCAL).initialized);
    assert_int_equal(fake_init_mode(&host, LOCAL, HvEventLogModeRegular, 4, 1, 4, 0),
                     HV_STATUS_OBJECT_IN_USE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(circular_mode_reuses_the_oldest_complete_buffer_and_counts_what_it_overwrote, host_down),
        cmocka_unit_test_teardown(circular_mode_counts_overwritten_entries_across_several_reuses, host_down),
        cmocka_unit_test_teardown(circular_mode_never_takes_another_lps_complete_buffer, host_down),
        cmocka_unit_test_teardown(circular_mode_never_reuses_ready_buffers, host_down),
        cmocka_unit_test_teardown(regular_mode_loses_the_event_where_circular_would_reuse, host_down),
        cmocka_unit_test_teardown(current_header_has_data_area_size_and_data_relative_offset, host_down),
        cmocka_unit_test_teardown(lp_sequence_number_counts_each_lps_buffers_since_initialize, host_down),
        cmocka_unit_test_teardown(lp_sequence_number_starts_again_after_finalize_and_initialize, host_down),
        cmocka_unit_test_teardown(logical_processor_is_a_u16_for_lps_above_255, host_down),
        cmocka_unit_test_teardown(the_2013_header_keeps_the_low_byte_of_a_large_lp_and_alignment_8, host_down),
        cmocka_unit_test_teardown(qpc_time_basis_stamps_entries_with_reference_time, host_down),
        cmocka_unit_test_teardown(ring_start_makes_free_buffers_linked_in_a_ring_with_no_bookkeeping_page, host_down),
        cmocka_unit_test_teardown(ring_fills_in_rotation_with_increasing_timestamps_and_no_messages, host_down),
        cmocka_unit_test_teardown(ring_zeroes_the_data_area_of_a_reused_buffer, host_down),
        cmocka_unit_test_teardown(ring_reuse_after_an_early_completion_still_reads_zero_past_the_entries, host_down),
        cmocka_unit_test_teardown(ring_map_and_unmap_change_only_the_roots_view, host_down),
        cmocka_unit_test_teardown(ring_refuses_every_other_call_and_changes_nothing, host_down),
        cmocka_unit_test_teardown(ring_start_is_refused_under_the_2013_profile, host_down),
        cmocka_unit_test_teardown(ring_start_twice_is_refused_and_keeps_the_first_ring, host_down),
        cmocka_unit_test_teardown(ring_start_with_a_bad_geometry_is_refused, host_down),
        cmocka_unit_test_teardown(ring_start_that_exhausts_the_pool_keeps_nothing, host_down),
        cmocka_unit_test_teardown(linux_stop_then_destroy_never_wedges_under_the_current_preset, host_down),
        cmocka_unit_test_teardown(linux_stop_then_destroy_wedges_with_release_from_complete_off, host_down),
    };
    return cmocka_run_group_tests_name("engine_current", tests, NULL, NULL);
}
