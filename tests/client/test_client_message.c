/* SPDX-License-Identifier: MIT */
/*
 * The §8.5 root handler's slot protocol, the one copy the client and
 * `hvlog script` share (hvlog_client_message_take / _done), against a SIM
 * page the test owns: what is copied, what is cleared, when EOM is written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hvlog/abi/catalog.h"
#include "hvlog/abi/layout.h"
#include "hvlog/abi/synic.h"
#include "hvlog/client/client.h"

/* A root with one VP whose SIM page is plain memory. */
struct fake_root {
    uint8_t page[HV_SYNIC_MESSAGE_PAGE_SIZE];
    bool sim_enabled;
    unsigned eoms;
    uint32_t last_eom_vp;
};

static uint8_t *fake_message_page(void *ctx, uint32_t vp)
{
    struct fake_root *r = ctx;
    (void)vp;
    return r->sim_enabled ? r->page : NULL;
}

static void fake_eom(void *ctx, uint32_t vp)
{
    struct fake_root *r = ctx;
    r->eoms++;
    r->last_eom_vp = vp;
}

static const struct hvlog_root_ops fake_ops = {
    .message_page = fake_message_page, .eom = fake_eom, .vp_count = 1, .domain_count = 1};

/* Post an event-log message into SINT0's slot as the SynIC would. */
static uint8_t *post(struct fake_root *r, uint32_t type, uint32_t index, bool pending)
{
    uint8_t *slot = r->page + (size_t)HV_EVENTLOG_SINT * HV_MESSAGE_SIZE;
    struct hv_message_header h = {.message_type = HvMessageTypeEventLogBufferComplete,
                                  .payload_size = HV_EVENTLOG_MESSAGE_PAYLOAD_SIZE,
                                  .message_flags = pending ? HV_MESSAGE_FLAG_PENDING : 0};
    struct hv_eventlog_message_payload pl = {.event_log_type = type, .buffer_index = index};

    hv_message_header_store(slot, &h);
    hv_eventlog_message_payload_store(slot + HV_MESSAGE_HEADER_SIZE, &pl);
    return slot;
}

static void no_sim_page_or_an_empty_slot_takes_nothing(void **state)
{
    struct fake_root r = {.sim_enabled = false};
    struct hvlog_root_message m;

    (void)state;
    memset(&m, 0xA5, sizeof m);
    assert_false(hvlog_client_message_take(&fake_ops, &r, 0, &m));
    r.sim_enabled = true;
    assert_false(hvlog_client_message_take(&fake_ops, &r, 0, &m));
    assert_int_equal(m.header.message_type, 0xA5A5A5A5u); /* untouched */
    assert_int_equal(r.eoms, 0);
}

static void a_message_is_copied_out_and_its_slot_cleared(void **state)
{
    struct fake_root r = {.sim_enabled = true};
    struct hvlog_root_message m;
    uint8_t *slot = post(&r, 1, 7, false);

    (void)state;
    assert_true(hvlog_client_message_take(&fake_ops, &r, 0, &m));
    assert_int_equal(m.header.message_type, HvMessageTypeEventLogBufferComplete);
    assert_int_equal(m.header.payload_size, HV_EVENTLOG_MESSAGE_PAYLOAD_SIZE);
    assert_int_equal(m.payload.event_log_type, 1);
    assert_int_equal(m.payload.buffer_index, 7);
    assert_false(m.pending);
    /* MessageType cleared (the SynIC may now copy the next one in); the
     * rest of the slot left as it was (§8.5: readers honour PayloadSize). */
    assert_int_equal(hvlog_load_le32(slot), HvMessageTypeNone);
    assert_int_equal(hvlog_load_le32(slot + HV_MESSAGE_HEADER_SIZE + 4), 7);
    /* Taken once: the slot is empty now. */
    assert_false(hvlog_client_message_take(&fake_ops, &r, 0, &m));
    /* No MessagePending: no EOM. */
    hvlog_client_message_done(&fake_ops, &r, 0, &m);
    assert_int_equal(r.eoms, 0);
}

static void message_pending_makes_done_write_eom_once(void **state)
{
    struct fake_root r = {.sim_enabled = true};
    struct hvlog_root_message m;

    (void)state;
    post(&r, 0, 3, true);
    assert_true(hvlog_client_message_take(&fake_ops, &r, 0, &m));
    assert_true(m.pending);
    assert_int_equal(m.payload.event_log_type, 0);
    assert_int_equal(m.payload.buffer_index, 3);
    assert_int_equal(r.eoms, 0); /* taking is not acting: EOM waits for done */
    hvlog_client_message_done(&fake_ops, &r, 0, &m);
    assert_int_equal(r.eoms, 1);
    assert_int_equal(r.last_eom_vp, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(no_sim_page_or_an_empty_slot_takes_nothing),
        cmocka_unit_test(a_message_is_copied_out_and_its_slot_cleared),
        cmocka_unit_test(message_pending_makes_done_write_eom_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
