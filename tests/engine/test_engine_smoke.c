/* SPDX-License-Identifier: MIT */
/* The facility end to end on the fake host: prepare, log, notify, drain, conclude. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_host.h"

static void lifecycle_from_prepare_to_conclude_returns_every_page(void **state)
{
    struct fake_host h;
    uint32_t type, index, chain[8];
    int n;
    (void)state;

    assert_int_equal(fake_host_init(&h, 2, 1, 4096, NULL), 0);
    fake_setup_group(&h, HvEventLogTypeLocalDiagnostics, 4, 1, 1, FAKE_ALL_SOURCES);
    assert_int_equal(fake_pool_used(&h), 1 + 4);
    assert_int_equal(fake_state(&h, 1, 0), HvEventLogBufferStateFree);

    /* 4096 - 72 = 4024 bytes of room; 32-byte entries (16 payload): 125 fit. */
    for (uint32_t i = 0; i < 125; i++)
        assert_int_equal(fake_log(&h, 0, 1, 16, i), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_state(&h, 1, 0), HvEventLogBufferStateInUse);
    /* 72 + 4000 from the buffer start (§4.4), 4000 from the header's end (§11.4, D9). */
    assert_int_equal(fake_header(&h, 1, 0).next_buffer_offset, fake_next_offset(&h, 125 * 32));
    /* The 126th does not fit: buffer 0 completes, threshold 1 notifies. */
    assert_int_equal(fake_log(&h, 0, 1, 16, 125), HVLOG_LOG_RECORDED);
    assert_int_equal(fake_state(&h, 1, 0), HvEventLogBufferStateReady);
    assert_int_equal(fake_state(&h, 1, 1), HvEventLogBufferStateInUse);
    assert_true(fake_take_message(&h, 0, &type, &index));
    assert_int_equal(type, 1);
    assert_int_equal(index, 0);
    n = fake_chain(&h, 1, index, chain, 8);
    assert_int_equal(n, 1);
    assert_int_equal(fake_release(&h, 1, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&h, 1, 0), HvEventLogBufferStateFree);

    /* Conclude: disable, flush the InUse buffer, release, unmap, delete, finalize. */
    assert_int_equal(fake_sources(&h, 1, 0), HV_STATUS_SUCCESS);
    assert_int_equal(fake_flush(&h, 1, 1), HV_STATUS_SUCCESS);
    assert_int_equal(fake_state(&h, 1, 1), HvEventLogBufferStateReady);
    assert_true(fake_take_message(&h, 0, &type, &index));
    assert_int_equal(index, 1);
    assert_int_equal(fake_release(&h, 1, 1), HV_STATUS_SUCCESS);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(fake_unmap(&h, 1, i), HV_STATUS_SUCCESS);
        assert_int_equal(fake_delete(&h, 1, i), HV_STATUS_SUCCESS);
    }
    assert_int_equal(fake_finalize(&h, 1), HV_STATUS_SUCCESS);
    assert_int_equal(fake_pool_used(&h), 0);
    fake_host_fini(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lifecycle_from_prepare_to_conclude_returns_every_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
