/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "engine_test_util.h"

uint32_t scope_of(uint32_t type, uint32_t lp)
{
    return type == LOCAL ? lp : 0;
}

struct hvlog_scope_stats stats(struct fake_host *h, uint32_t type, uint32_t scope)
{
    struct hvlog_scope_stats s;

    assert_int_equal(hvlog_engine_scope_stats(h->engine, type, scope, &s), 0);
    return s;
}

struct hvlog_group_info group(struct fake_host *h, uint32_t type)
{
    struct hvlog_group_info g;

    assert_int_equal(hvlog_engine_group_info(h->engine, type, &g), 0);
    return g;
}

uint8_t *buffer_bytes(struct fake_host *h, uint32_t type, uint32_t index)
{
    struct hvlog_buffer_info b;

    assert_int_equal(hvlog_engine_buffer_info(h->engine, type, index, &b), 0);
    assert_true(b.exists);
    return b.pages.hva;
}

uint32_t active(struct fake_host *h, uint32_t type, uint32_t lp)
{
    return stats(h, type, scope_of(type, lp)).active_index;
}

uint32_t fill_one(struct fake_host *h, uint32_t lp, uint32_t type)
{
    struct hv_eventlog_buffer_header hd;
    uint32_t index;

    assert_int_equal(fake_log(h, lp, type, 8, 1), HVLOG_LOG_RECORDED);
    index = active(h, type, lp);
    assert_int_not_equal(index, NONE_IDX);
    hd = fake_header(h, type, index);
    assert_int_equal(fake_log(h, lp, type, hd.buffer_size - hd.next_buffer_offset - 16, 2),
                     HVLOG_LOG_RECORDED);
    assert_int_equal(active(h, type, lp), NONE_IDX);
    return index;
}

struct hvlog_buffer_info assert_created_buffer(struct fake_host *h, uint32_t type, uint32_t index,
                                               uint32_t pages)
{
    struct hvlog_buffer_info b;
    const struct hv_eventlog_buffer_header *hd = &b.header;

    assert_int_equal(hvlog_engine_buffer_info(h->engine, type, index, &b), 0);
    assert_true(b.exists);
    assert_int_equal(b.state, HvEventLogBufferStateStandby);
    assert_int_equal(b.pages.count, pages);
    /* BufferSize and NextBufferOffset: §4.4 (whole buffer, from its start) or
     * §11.4 / D9 (data area, from the end of the header). */
    assert_int_equal(hd->buffer_size, fake_buffer_size_field(h, pages));
    assert_int_equal(hd->buffer_index, index);
    assert_int_equal(hd->type, type);
    assert_int_equal(hd->buffer_state, HvEventLogBufferStateStandby);
    assert_int_equal(hd->next_buffer_offset, fake_next_offset(h, 0));
    assert_int_equal(hd->next_buffer_index, HV_EVENTLOG_BUFFER_INDEX_NONE);
    /* DEC-HDRFIELDS: Alignment 8 in the 2013 layout; the current one has no
     * Alignment byte - bytes 40..41 are a u16 LogicalProcessor (§11.4, D9). */
    assert_int_equal(hd->alignment, fake_current(h) ? 0 : 8);
    assert_int_equal(hd->logger_id, type);  /* DEC-HDRFIELDS */
    assert_int_equal(hd->events_lost, 0);
    assert_int_equal(hd->reference_counter, 0);
    assert_int_equal(hd->time_stamp, 0);
    assert_int_equal(hd->reserved1, 0);
    assert_int_equal(hd->reserved2, 0);
    assert_int_equal(hd->logical_processor, 0);
    assert_int_equal(hd->reserved3, 0); /* LpSequenceNumber in §11.4: no LP took it yet */
    assert_int_equal(hd->reserved4, 0);
    for (size_t i = HV_EVENTLOG_BUFFER_HEADER_SIZE; i < (size_t)pages * HV_PAGE_SIZE; i++) {
        if (b.pages.hva[i] != 0)
            fail_msg("buffer %u byte %zu is 0x%02x, not zero", index, i, b.pages.hva[i]);
    }
    return b;
}
