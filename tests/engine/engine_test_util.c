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
