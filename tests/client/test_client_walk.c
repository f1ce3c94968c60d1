/* SPDX-License-Identifier: MIT */
/* The buffer walker: every check of hvlog/trace/walk.h, on hand-built buffers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hvlog/trace/walk.h"
#include "hvlog/hvlog.h"

#define PAGE 4096u
static uint8_t buf[2 * PAGE];

/* A Ready 2013 buffer of one page, index 3, LocalDiagnostics, LP 1. */
static void make_buffer(void)
{
    struct hv_eventlog_buffer_header h = {
        .buffer_size = PAGE, .buffer_index = 3, .events_lost = 7, .time_stamp = 1000,
        .logical_processor = 1, .alignment = 8, .logger_id = 1,
        .buffer_state = HvEventLogBufferStateReady, .next_buffer_offset = 72, .type = 1,
        .next_buffer_index = HV_EVENTLOG_BUFFER_INDEX_NONE,
    };
    memset(buf, 0, sizeof buf);
    hv_eventlog_buffer_header_store(buf, &h);
}

/* Append an entry of @payload bytes (Size rounded up to 8). */
static void add_entry(uint16_t type, uint32_t context, uint32_t payload)
{
    uint32_t off = hvlog_load_le32(buf + 48);
    uint32_t size = (16 + payload + 7) & ~7u;
    struct hv_eventlog_entry_header e = {context, (uint16_t)size, type, 2000 + off};

    hv_eventlog_entry_header_store(buf + off, &e);
    for (uint32_t i = 0; i < payload; i++)
        buf[off + 16 + i] = (uint8_t)(i + 1);
    hvlog_store_le32(buf + 48, off + size);
}

struct seen {
    int n;
    struct hvlog_entry e[8];
};

static bool collect(void *arg, const struct hvlog_entry *e)
{
    struct seen *s = arg;
    if (s->n < 8)
        s->e[s->n] = *e;
    s->n++;
    return true;
}

static void a_clean_buffer_yields_every_entry_in_order(void **state)
{
    struct hvlog_walk_expect expect = {1, 3, HvEventLogBufferStateReady, PAGE};
    struct hvlog_buffer_summary s;
    struct seen seen = {0};
    (void)state;

    make_buffer();
    add_entry(0x1A, 10, 16);
    add_entry(0x27, 11, 3);
    add_entry(0xB0, 12, 0);
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, &expect, &s, collect, &seen),
                     HVLOG_WALK_OK);
    assert_int_equal(seen.n, 3);
    assert_int_equal(seen.e[0].entry_type, 0x1A);
    assert_int_equal(seen.e[0].size, 32);
    assert_int_equal(seen.e[0].payload_len, 16);
    assert_int_equal(seen.e[0].offset, 72);
    assert_int_equal(seen.e[1].context, 11);
    assert_int_equal(seen.e[1].size, 24);
    assert_int_equal(seen.e[1].payload[2], 3);
    assert_int_equal(seen.e[2].size, 16);
    assert_int_equal(seen.e[2].payload_len, 0);
    assert_int_equal(seen.e[2].logical_processor, 1);
    assert_int_equal(s.events_lost, 7);
    assert_int_equal(s.entries, 3); /* the walker's own count, callback or not */
    memset(&s, 0xff, sizeof s);
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, &expect, &s, NULL, NULL),
                     HVLOG_WALK_OK);
    assert_int_equal(s.entries, 3);
    assert_int_equal(hvlog_buffer_summarize(buf, PAGE, HVLOG_ABI_2013, &expect, &s), HVLOG_WALK_OK);
    assert_int_equal(s.entries, 0); /* the header only: no count */
    assert_int_equal(s.data_end, 72 + 32 + 24 + 16);
    assert_int_equal(s.buffer_bytes, PAGE);
}

static void an_empty_buffer_is_valid_and_yields_nothing(void **state)
{
    struct seen seen = {0};
    (void)state;

    make_buffer();
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, NULL, NULL, collect, &seen),
                     HVLOG_WALK_OK);
    assert_int_equal(seen.n, 0);
}

static void every_bad_entry_size_rejects_the_whole_buffer(void **state)
{
    static const uint16_t bad[] = {0, 8, 15, 17, 20, 65535, 65529, 4096};
    (void)state;

    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct hvlog_buffer_summary sum;
        struct seen seen = {0};
        make_buffer();
        add_entry(0x1A, 1, 16);       /* a good entry first: it must not be delivered */
        add_entry(0x1A, 2, 16);
        hvlog_store_le16(buf + 72 + 32 + 4, bad[k]);
        assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, NULL, &sum, collect, &seen),
                         HVLOG_WALK_BAD_ENTRY_SIZE);
        assert_int_equal(seen.n, 0);
        assert_int_equal(sum.entries, 0); /* nor counted */
    }
}

static void a_header_that_lies_is_rejected_with_its_reason(void **state)
{
    struct hvlog_walk_expect expect = {1, 3, HvEventLogBufferStateReady, PAGE};
    (void)state;

    make_buffer();
    assert_int_equal(hvlog_buffer_walk(buf, 71, HVLOG_ABI_2013, NULL, NULL, NULL, NULL),
                     HVLOG_WALK_SHORT);
    assert_int_equal(hvlog_buffer_walk(buf, PAGE - 1, HVLOG_ABI_2013, NULL, NULL, NULL, NULL),
                     HVLOG_WALK_SHORT);
    hvlog_store_le32(buf, PAGE + 8);
    assert_int_equal(hvlog_buffer_walk(buf, sizeof buf, HVLOG_ABI_2013, NULL, NULL, NULL, NULL),
                     HVLOG_WALK_BAD_SIZE);
    hvlog_store_le32(buf, 0);
    assert_int_equal(hvlog_buffer_walk(buf, sizeof buf, HVLOG_ABI_2013, NULL, NULL, NULL, NULL),
                     HVLOG_WALK_BAD_SIZE);
    /* A valid size that is not the one expected has its own error (issue 13). */
    hvlog_store_le32(buf, 2 * PAGE);
    assert_int_equal(hvlog_buffer_walk(buf, sizeof buf, HVLOG_ABI_2013, &expect, NULL, NULL, NULL),
                     HVLOG_WALK_SIZE_MISMATCH);
    assert_non_null(strstr(hvlog_walk_error_text(HVLOG_WALK_SIZE_MISMATCH), "not this group's"));
    make_buffer();
    hvlog_store_le32(buf + 48, 71);
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, NULL, NULL, NULL, NULL),
                     HVLOG_WALK_BAD_OFFSET);
    hvlog_store_le32(buf + 48, PAGE + 1);
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, NULL, NULL, NULL, NULL),
                     HVLOG_WALK_BAD_OFFSET);
    make_buffer();
    hvlog_store_le32(buf + 52, 0);
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, &expect, NULL, NULL, NULL),
                     HVLOG_WALK_BAD_TYPE);
    make_buffer();
    hvlog_store_le32(buf + 4, 4);
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, &expect, NULL, NULL, NULL),
                     HVLOG_WALK_BAD_INDEX);
    make_buffer();
    hvlog_store_le32(buf + 44, HvEventLogBufferStateComplete);
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, &expect, NULL, NULL, NULL),
                     HVLOG_WALK_BAD_STATE);
    assert_non_null(hvlog_walk_error_text(HVLOG_WALK_BAD_STATE));
}

static void an_entry_hanging_past_next_buffer_offset_is_rejected(void **state)
{
    (void)state;
    make_buffer();
    add_entry(0x1A, 1, 16);
    hvlog_store_le32(buf + 48, 72 + 24); /* cuts the 32-byte entry */
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, NULL, NULL, NULL, NULL),
                     HVLOG_WALK_BAD_ENTRY_SIZE);
    hvlog_store_le32(buf + 48, 72 + 8); /* less than an entry header */
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, NULL, NULL, NULL, NULL),
                     HVLOG_WALK_BAD_ENTRY_SIZE);
}

static void the_current_convention_is_recognized_and_normalized(void **state)
{
    struct hvlog_buffer_summary s;
    struct seen seen = {0};
    (void)state;

    /* The same buffer as the current headers write it: BufferSize is the data
     * area, NextBufferOffset counts from the end of the header, LP is u16,
     * and Size may leave out the padding (D9, D10). */
    make_buffer();
    add_entry(0x1A, 1, 16);
    add_entry(0x27, 2, 3);
    hvlog_store_le16(buf + 72 + 32 + 4, 19); /* unpadded: 16 + 3 */
    hvlog_store_le32(buf, PAGE - 72);
    hvlog_store_le32(buf + 48, 32 + 24);
    hvlog_store_le16(buf + 40, 300);
    hvlog_store_le32(buf + 60, 9);
    assert_int_equal(hvlog_header_convention_guess(buf, PAGE), HVLOG_ABI_CURRENT);
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_CURRENT, NULL, &s, collect, &seen),
                     HVLOG_WALK_OK);
    assert_int_equal(s.buffer_bytes, PAGE);
    assert_int_equal(s.data_end, 72 + 56);
    assert_int_equal(s.logical_processor, 300);
    assert_int_equal(s.lp_sequence_number, 9);
    assert_int_equal(seen.n, 2);
    assert_int_equal(s.entries, 2);
    /* Size - 16, not the padded step: padding is not data (issue 12 bug 1). */
    assert_int_equal(seen.e[1].payload_len, 3);

    make_buffer();
    add_entry(0x1A, 1, 16);
    assert_int_equal(hvlog_header_convention_guess(buf, PAGE), HVLOG_ABI_2013);
    hvlog_store_le32(buf, 12345);
    assert_int_equal(hvlog_header_convention_guess(buf, PAGE), -1);
    assert_int_equal(hvlog_header_convention_guess(buf, 10), -1);
}

static bool stop_after_one(void *arg, const struct hvlog_entry *e)
{
    (void)e;
    ++*(int *)arg;
    return false;
}

static void a_callback_can_stop_the_walk(void **state)
{
    int n = 0;
    (void)state;
    make_buffer();
    add_entry(1, 1, 0);
    add_entry(2, 2, 0);
    assert_int_equal(hvlog_buffer_walk(buf, PAGE, HVLOG_ABI_2013, NULL, NULL, stop_after_one, &n),
                     HVLOG_WALK_OK);
    assert_int_equal(n, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_clean_buffer_yields_every_entry_in_order),
        cmocka_unit_test(an_empty_buffer_is_valid_and_yields_nothing),
        cmocka_unit_test(every_bad_entry_size_rejects_the_whole_buffer),
        cmocka_unit_test(a_header_that_lies_is_rejected_with_its_reason),
        cmocka_unit_test(an_entry_hanging_past_next_buffer_offset_is_rejected),
        cmocka_unit_test(the_current_convention_is_recognized_and_normalized),
        cmocka_unit_test(a_callback_can_stop_the_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
