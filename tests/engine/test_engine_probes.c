/* SPDX-License-Identifier: MIT */
/*
 * The legacy probes of research/real-clients.md §1.5 (hvlib PowerShell
 * examples: pre-mode layouts, memory form) and the Linux quirks of §1.1/§2.3,
 * each under both ABI profiles with the deliberate result:
 *
 *   probe                                   2013 profile        current profile
 *   24-byte Initialize {u32 Type 0, Max 1,  one 1-page buffer;  INVALID_PARAMETER: the
 *     Pages 1, Threshold, Basis 0, Pad}     SystemTime = bytes  bytes read as Mode 0 and
 *                                           24..31 of the page  BufferSizeInBytes 1 (§11.1)
 *   8-byte Map / Unmap (memory, zeros       accepted            INVALID_PARTITION_ID: the
 *     after; fast with R8 0 or garbage)                         PartitionId @8 (§11.2)
 *   16-byte fast SetSources {Type, 0, Flags} accepted           accepted: GroupCount = pad = 0
 *     ... with pad != 0                     accepted (ignored)  INVALID_PARAMETER (§11.3)
 *   Flush {Type, VpIndex}, flush_index=vp   accepted            accepted (D1)
 *   Finalize, garbage in RDX[63:32]         accepted            accepted (§5.2 padding)
 *
 * Registered once per profile (tests/engine/CMakeLists.txt); each probe
 * branches on fake_current() where the answers differ. A failing probe must
 * change nothing (snapshot), and the engine's invariants hold after each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "engine_test_util.h"
#include "fake_host.h"

#define SUCCESS HV_STATUS_SUCCESS
#define IN FAKE_IN_GPA
#define OUT FAKE_OUT_GPA
#define INIT HvCallHvInitializeEventLogBufferGroup

static struct fake_host host;
static struct fake_snapshot snap_before, snap_after;

static int host_down(void **state)
{
    char why[160];
    (void)state;

    if (host.engine) {
        if (hvlog_engine_check(host.engine, why, sizeof why) != 0)
            fail_msg("hvlog_engine_check: %s", why);
        fake_host_fini(&host);
    }
    return 0;
}

static void snap(void)
{
    fake_snapshot(&host, &snap_before);
}

static void assert_unchanged(const char *what)
{
    int diff;

    fake_snapshot(&host, &snap_after);
    diff = fake_snapshot_diff(&snap_before, &snap_after);
    if (diff != 0)
        fail_msg("%s: a failing call changed the engine (diff %d)", what, diff);
}

static hv_status_t mem_call(uint16_t code, uint64_t rdx)
{
    return fake_call(&host, FAKE_ROOT_ID, 0, fake_rcx(code, false), rdx, OUT, NULL);
}

static hv_status_t fast_call(uint16_t code, uint64_t rdx, uint64_t r8)
{
    return fake_call(&host, FAKE_ROOT_ID, 0, fake_rcx(code, true), rdx, r8, NULL);
}

/* hvlib's 24-byte 0x60: Type u32 0, Max 1, Pages 1, Threshold, Basis 0, Pad
 * 0; the page holds @tail at bytes 24..31 (whatever followed the input). */
static hv_status_t probe_init(uint32_t threshold, uint64_t tail)
{
    const uint32_t words[6] = {0, 1, 1, threshold, 0, 0};

    memset(host.root_mem + IN, 0, 64);
    for (uint32_t i = 0; i < 6; i++)
        hvlog_store_le32(host.root_mem + IN + 4 * i, words[i]);
    hvlog_store_le64(host.root_mem + IN + 24, tail);
    return mem_call(INIT, IN);
}

static void check_probe_init(uint32_t threshold)
{
    const uint64_t tail = 0x1122334455667788ull;
    struct hvlog_group_info gi;

    snap();
    if (fake_current(&host)) {
        /* §11.1: Type u16 0, Mode u16 0, BufferSizeInBytes 1 - not a multiple
         * of 4096: INVALID_PARAMETER, nothing initialized. */
        assert_int_equal(probe_init(threshold, tail), HV_STATUS_INVALID_PARAMETER);
        assert_unchanged("24-byte Initialize (current)");
        return;
    }
    /* §5.1 DEC-INITLAYOUT: one 1-page buffer; the engine reads the padded
     * 32-byte block, so SystemTime is whatever bytes 24..31 hold. */
    assert_int_equal(probe_init(threshold, tail), SUCCESS);
    gi = group(&host, GLOBAL);
    assert_true(gi.initialized);
    assert_int_equal(gi.maximum_buffer_count, 1);
    assert_int_equal(gi.buffer_pages, 1);
    assert_int_equal(gi.threshold, threshold);
    assert_int_equal(gi.time_basis, 0);
    assert_int_equal(gi.system_time, tail);
    /* It is a working group: the probe's Create and Map follow. */
    assert_int_equal(fake_create(&host, GLOBAL, 0, 0, 0), SUCCESS);
    assert_int_equal(fake_map(&host, GLOBAL, 0, NULL), SUCCESS);
}

static void hvlib_24_byte_initialize_with_threshold_1(void **state)
{
    (void)state;
    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    check_probe_init(1);
}

/* hvlib sends Threshold 0: INVALID_PARAMETER in both profiles by default
 * (DEC-THRESH); with threshold_zero the profiles differ as above. */
static void hvlib_24_byte_initialize_with_threshold_0(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    snap();
    assert_int_equal(probe_init(0, 0), HV_STATUS_INVALID_PARAMETER);
    assert_unchanged("24-byte Initialize with Threshold 0");
    fake_host_fini(&host);

    p.threshold_zero = true;
    assert_int_equal(fake_host_init(&host, 1, 1, 4096, &p), 0);
    check_probe_init(0);
}

/* A LocalDiagnostics buffer 0 in Standby (Map probe) or Free (Unmap probe). */
static void standby_buffer(bool mapped)
{
    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 2, 1, 1, 0), SUCCESS);
    assert_int_equal(fake_create(&host, LOCAL, 0, 0, 0), SUCCESS);
    if (mapped)
        assert_int_equal(fake_map(&host, LOCAL, 0, NULL), SUCCESS);
}

/* 8 bytes {Type, Index} at IN, zeros after (the rest of a cleared page). */
static void put_8_byte_input(void)
{
    memset(host.root_mem + IN, 0, 64);
    hvlog_store_le32(host.root_mem + IN, LOCAL);
    hvlog_store_le32(host.root_mem + IN + 4, 0);
}

static void eight_byte_map_in_memory_form(void **state)
{
    (void)state;

    standby_buffer(false);
    put_8_byte_input();
    snap();
    if (fake_current(&host)) {
        /* §11.2: bytes 8..15 are PartitionId 0, neither SELF nor the root. */
        assert_int_equal(mem_call(HvCallHvMapEventLogBuffer, IN), HV_STATUS_INVALID_PARTITION_ID);
        assert_unchanged("8-byte Map (current)");
        assert_int_equal(fake_state(&host, LOCAL, 0), HvEventLogBufferStateStandby);
    } else {
        assert_int_equal(mem_call(HvCallHvMapEventLogBuffer, IN), SUCCESS);
        assert_int_equal(fake_state(&host, LOCAL, 0), HvEventLogBufferStateFree);
    }
}

static void eight_byte_unmap_in_memory_form(void **state)
{
    (void)state;

    standby_buffer(true);
    put_8_byte_input();
    snap();
    if (fake_current(&host)) {
        assert_int_equal(mem_call(HvCallHvUnmapEventLogBuffer, IN),
                         HV_STATUS_INVALID_PARTITION_ID); /* §11.2 */
        assert_unchanged("8-byte memory Unmap (current)");
    } else {
        assert_int_equal(mem_call(HvCallHvUnmapEventLogBuffer, IN), SUCCESS);
        assert_int_equal(fake_state(&host, LOCAL, 0), HvEventLogBufferStateStandby);
    }
}

/* Fast Unmap with only RDX meant: R8 is 0, or whatever the caller left. */
static void eight_byte_fast_unmap_with_r8_zero_or_garbage(void **state)
{
    static const uint64_t r8s[] = {0, 0xA5A5A5A5A5A5A5A5ull, FAKE_CHILD_ID};
    (void)state;

    for (size_t k = 0; k < sizeof r8s / sizeof r8s[0]; k++) {
        standby_buffer(true);
        snap();
        if (fake_current(&host)) {
            /* §11.2: R8 is the PartitionId. */
            assert_int_equal(fast_call(HvCallHvUnmapEventLogBuffer, LOCAL, r8s[k]),
                             HV_STATUS_INVALID_PARTITION_ID);
            assert_unchanged("8-byte fast Unmap (current)");
        } else {
            /* §3.3: an 8-byte input is RDX alone. */
            assert_int_equal(fast_call(HvCallHvUnmapEventLogBuffer, LOCAL, r8s[k]), SUCCESS);
            assert_int_equal(fake_state(&host, LOCAL, 0), HvEventLogBufferStateStandby);
        }
        host_down(NULL);
    }
    /* R8 = SELF or the root's id is the current form and works in both. */
    standby_buffer(true);
    assert_int_equal(fast_call(HvCallHvUnmapEventLogBuffer, LOCAL, HV_PARTITION_ID_SELF), SUCCESS);
    assert_int_equal(fake_map(&host, LOCAL, 0, NULL), SUCCESS);
    assert_int_equal(fast_call(HvCallHvUnmapEventLogBuffer, LOCAL, FAKE_ROOT_ID), SUCCESS);
}

static void sixteen_byte_fast_set_sources_with_zero_padding_is_accepted(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 2, 1, 1, 0), SUCCESS);
    /* §11.3: the current profile reads GroupCount = the padding = 0. */
    assert_int_equal(fast_call(HvCallHvSetEventLogGroupSources, LOCAL, 0x0000000100000002ull),
                     SUCCESS);
    assert_int_equal(group(&host, LOCAL).source_mask, 0x0000000100000002ull);
    assert_int_equal(fast_call(HvCallHvSetEventLogGroupSources, LOCAL, 0), SUCCESS);
    assert_int_equal(group(&host, LOCAL).source_mask, 0);
}

static void sixteen_byte_fast_set_sources_with_non_zero_padding(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, LOCAL, 2, 1, 1, 0), SUCCESS);
    snap();
    if (fake_current(&host)) {
        /* §11.3: the padding is GroupCount, which must be 0. */
        assert_int_equal(fast_call(HvCallHvSetEventLogGroupSources,
                                   LOCAL | 0x0000000700000000ull, 0x2),
                         HV_STATUS_INVALID_PARAMETER);
        assert_unchanged("SetSources with GroupCount 7 (current)");
    } else {
        /* §5.7: the padding is ignored. */
        assert_int_equal(fast_call(HvCallHvSetEventLogGroupSources,
                                   LOCAL | 0x0000000700000000ull, 0x2),
                         SUCCESS);
        assert_int_equal(group(&host, LOCAL).source_mask, 0x2);
    }
}

/* D1, §12.1 flush_index = vp: hvlib names the second field VpIndex. */
static void flush_with_a_vp_index_under_flush_index_vp(void **state)
{
    struct hvlog_profile p = fake_profile_default();
    uint32_t x, type, index;
    (void)state;

    p.flush_index = HVLOG_FLUSH_INDEX_VP;
    assert_int_equal(fake_host_init(&host, 2, 1, 4096, &p), 0);
    fake_setup_group(&host, LOCAL, 4, 1, 4, FAKE_ALL_SOURCES);
    assert_int_equal(fake_log(&host, 1, LOCAL, 8, 0), HVLOG_LOG_RECORDED);
    x = active(&host, LOCAL, 1);
    assert_int_not_equal(x, 1); /* the field is not this buffer's index */
    assert_int_equal(fake_flush(&host, LOCAL, 1), SUCCESS); /* VP 1 = LP 1 */
    assert_int_equal(fake_state(&host, LOCAL, x), HvEventLogBufferStateReady);
    assert_true(fake_take_message(&host, 1, &type, &index));
    assert_int_equal(index, x);
    /* A VP that does not exist. */
    snap();
    assert_int_equal(fake_flush(&host, LOCAL, 5), HV_STATUS_INVALID_PARAMETER);
    assert_unchanged("Flush of VP 5");
}

/* Linux leaves the upper half of Finalize's RDX unwritten (research §1.1). */
static void finalize_with_garbage_in_the_high_half_of_rdx_is_accepted(void **state)
{
    (void)state;

    assert_int_equal(fake_host_init(&host, 1, 1, 4096, NULL), 0);
    assert_int_equal(fake_init(&host, GLOBAL, 1, 1, 1, 0), SUCCESS);
    assert_int_equal(fast_call(HvCallHvFinalizeEventLogBufferGroup,
                               GLOBAL | 0xDEADBEEF00000000ull, 0xFFFFFFFFFFFFFFFFull),
                     SUCCESS);
    assert_false(group(&host, GLOBAL).initialized);
    assert_int_equal(fake_pool_used(&host), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(hvlib_24_byte_initialize_with_threshold_1, host_down),
        cmocka_unit_test_teardown(hvlib_24_byte_initialize_with_threshold_0, host_down),
        cmocka_unit_test_teardown(eight_byte_map_in_memory_form, host_down),
        cmocka_unit_test_teardown(eight_byte_unmap_in_memory_form, host_down),
        cmocka_unit_test_teardown(eight_byte_fast_unmap_with_r8_zero_or_garbage, host_down),
        cmocka_unit_test_teardown(sixteen_byte_fast_set_sources_with_zero_padding_is_accepted, host_down),
        cmocka_unit_test_teardown(sixteen_byte_fast_set_sources_with_non_zero_padding, host_down),
        cmocka_unit_test_teardown(flush_with_a_vp_index_under_flush_index_vp, host_down),
        cmocka_unit_test_teardown(finalize_with_garbage_in_the_high_half_of_rdx_is_accepted, host_down),
    };
    return cmocka_run_group_tests_name(fake_test_abi() == HVLOG_ABI_CURRENT ? "engine_probes_current"
                                                                            : "engine_probes",
                                       tests, NULL, NULL);
}
