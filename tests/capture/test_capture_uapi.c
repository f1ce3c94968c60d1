/* SPDX-License-Identifier: MIT */
/*
 * hvlog/abi/mshv_uapi.h against the system's own ioctl encoding: each
 * number computed by hvlog equals what <linux/ioctl.h>'s _IO/_IOR/_IOW make
 * of the uapi's (type, nr, struct), checked by the compiler; the struct's
 * fields sit where research/real-clients.md §1.1 puts them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/ioctl.h>
#include <cmocka.h>

#include "hvlog/abi/mshv_uapi.h"

_Static_assert(HVLOG_MSHV_GET_TRACE_FD == _IO(0xB9, 1), "GET_TRACE_FD");
_Static_assert(HVLOG_MSHV_GET_DIAGLOG_FD == _IO(0xB9, 2), "GET_DIAGLOG_FD");
_Static_assert(HVLOG_MSHV_TRACE_STATE_CREATE == _IOW(0xBA, 0, struct hvlog_mshv_trace_config),
               "CREATE");
_Static_assert(HVLOG_MSHV_TRACE_STATE_INFO == _IOR(0xBA, 1, struct hvlog_mshv_trace_config),
               "INFO");
_Static_assert(HVLOG_MSHV_TRACE_STATE_DESTROY == _IO(0xBA, 2), "DESTROY");
_Static_assert(HVLOG_MSHV_TRACE_STATE_ATTACH == _IO(0xBA, 3), "ATTACH");
_Static_assert(HVLOG_MSHV_TRACE_STATE_DETACH == _IO(0xBA, 4), "DETACH");
_Static_assert(HVLOG_MSHV_TRACE_START == _IO(0xBA, 5), "START");
_Static_assert(HVLOG_MSHV_TRACE_STOP == _IO(0xBA, 6), "STOP");

/* The uapi's struct as a C compiler lays it out (no explicit padding):
 * our named padding must not move anything. */
struct uapi_layout {
    uint32_t mode, max_buffers_count, pages_per_buffer, buffers_threshold, time_basis;
    uint64_t system_time;
};
_Static_assert(sizeof(struct uapi_layout) == sizeof(struct hvlog_mshv_trace_config), "size");
_Static_assert(offsetof(struct uapi_layout, system_time) ==
                   offsetof(struct hvlog_mshv_trace_config, system_time), "system_time");

static void every_ioctl_has_its_uapi_name(void **state)
{
    unsigned rows = 0;
    (void)state;
#define ROW(number, name) \
    assert_true((number) != 0); \
    assert_true(name[0] == 'M'); \
    rows++;
    HVLOG_MSHV_IOCTL_TABLE(ROW)
#undef ROW
    assert_int_equal(rows, 9);
}

static void all_groups_is_bm_through_generic(void **state)
{
    (void)state;
    /* HV_TR_GROUP_BM (0x100) .. HV_TR_GROUP_GENERIC (0x20000000), 22 groups. */
    assert_int_equal(__builtin_popcountll(HVLOG_MSHV_TR_ALL_GROUPS), 22);
    assert_int_equal(HVLOG_MSHV_TR_ALL_GROUPS & HVLOG_MSHV_TR_EXTENDED, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_ioctl_has_its_uapi_name),
        cmocka_unit_test(all_groups_is_bm_through_generic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
