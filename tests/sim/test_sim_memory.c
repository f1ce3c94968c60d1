/* SPDX-License-Identifier: MIT */
/*
 * Machine memory (src/sim/memory.c): the pool (deposit, withdraw,
 * contiguous first-fit runs, scattered frames when the pool is fragmented
 * or the sim scatters, strict and loose domains, accounting), the
 * root's read-only view (overlays appear and vanish; a store faults), guest
 * accesses by GPA and memory intercepts (§3.4, §5.5, Q-GPA, DEC-MAPGPA).
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim/sim_internal.h"
#include "sim_root.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define GLOBAL HvEventLogTypeGlobalSystemEvents
#define RAM 16u     /* fixed RAM pages per domain in these tests */
#define DEPOSIT 64u /* deposit frames per domain */

static struct hvlog_sim *make_sim(uint32_t domains, uint32_t pool)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct hvlog_sim *sim = NULL;

    c.domains = domains;
    c.root_ram_pages = RAM;
    c.deposit_frames = DEPOSIT;
    c.pool_pages = pool;
    c.lockstep = true;
    assert_int_equal(hvlog_sim_create(&c, &sim), 0);
    return sim;
}

/* GPA of deposit frame @k of domain @d (layout: sim.h head comment). */
static uint64_t deposit_gpa(uint32_t d, uint32_t k)
{
    return ((uint64_t)d * (RAM + DEPOSIT) + RAM + k) * HV_PAGE_SIZE;
}

/* ---- the pool ---- */

static void deposit_and_withdraw_move_frames_between_root_ram_and_the_pool(void **state)
{
    struct hvlog_sim *sim = make_sim(2, 16);
    uint8_t buf[8];
    (void)state;

    assert_int_equal(hvlog_sim_domain_count(sim), 2);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 16);
    assert_int_equal(hvlog_sim_pool_free(sim, 1), 16);
    /* Deposited frames leave the root's view; the rest of its RAM stays. */
    assert_null(hvlog_sim_root_view(sim, deposit_gpa(0, 0), 8));
    assert_non_null(hvlog_sim_root_view(sim, deposit_gpa(0, 16), 8));
    assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_ROOT_ID, deposit_gpa(0, 15), buf, 8),
                     HVLOG_GPA_FAULT);

    assert_int_equal(hvlog_sim_deposit(sim, 0, DEPOSIT - 16), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), DEPOSIT);
    assert_null(hvlog_sim_root_view(sim, deposit_gpa(0, DEPOSIT - 1), 8));
    /* No more frames to give: refused, nothing changes. */
    assert_int_equal(hvlog_sim_deposit(sim, 0, 1), -1);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), DEPOSIT);
    assert_int_equal(hvlog_sim_pool_free(sim, 1), 16);

    /* Withdraw gives frames back as root RAM, zeroed. */
    assert_int_equal(hvlog_sim_withdraw(sim, 0, DEPOSIT - 4), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 4);
    {
        const uint8_t *v = hvlog_sim_root_view(sim, deposit_gpa(0, 4), HV_PAGE_SIZE);
        assert_non_null(v);
        for (uint32_t i = 0; i < HV_PAGE_SIZE; i++)
            assert_int_equal(v[i], 0);
    }
    assert_int_equal(hvlog_sim_withdraw(sim, 0, 5), -1);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 4);
    assert_int_equal(hvlog_sim_withdraw(sim, 0, 4), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 0);

    /* A domain that does not exist. */
    assert_int_equal(hvlog_sim_deposit(sim, 2, 1), -1);
    assert_int_equal(hvlog_sim_withdraw(sim, 2, 1), -1);
    assert_int_equal(hvlog_sim_pool_free(sim, 2), 0);
    hvlog_sim_destroy(sim);
}

static void pages_alloc_gives_contiguous_first_fit_runs(void **state)
{
    struct hvlog_sim *sim = make_sim(1, 16);
    struct hvlog_pages a, b, c, d, e;
    (void)state;

    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, true, 3, &a), 0);
    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, true, 2, &b), 0);
    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, true, 4, &c), 0);
    /* One run each, back to back, host addresses contiguous. */
    assert_int_equal(hvlog__sim_pages_frame(sim, &b, 0), hvlog__sim_pages_frame(sim, &a, 0) + 3);
    assert_int_equal(hvlog__sim_pages_frame(sim, &c, 0), hvlog__sim_pages_frame(sim, &b, 0) + 2);
    assert_ptr_equal(b.hva, a.hva + 3 * HV_PAGE_SIZE);
    assert_int_equal(hvlog__sim_pages_frame(sim, &a, 0) * HV_PAGE_SIZE, deposit_gpa(0, 0));
    /* Not zeroed: poisoned, the engine must zero what it uses. */
    assert_int_equal(a.hva[0], 0xA5);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 16 - 9);

    /* A hole of 2: a run of 3 goes past it, a run of 2 fills it. */
    hvlog__sim_pages_free(sim, &b);
    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, true, 3, &d), 0);
    assert_int_equal(hvlog__sim_pages_frame(sim, &d, 0), hvlog__sim_pages_frame(sim, &c, 0) + 4);
    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, true, 2, &e), 0);
    assert_int_equal(hvlog__sim_pages_frame(sim, &e, 0), hvlog__sim_pages_frame(sim, &a, 0) + 3);
    /* 16 - 3 - 4 - 3 - 2 = 4 free, but no run of 5. */
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 4);
    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, true, 5, &b), -1);
    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, false, 0, &b), -1);

    hvlog__sim_pages_free(sim, &a);
    hvlog__sim_pages_free(sim, &c);
    hvlog__sim_pages_free(sim, &d);
    hvlog__sim_pages_free(sim, &e);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 16);
    hvlog_sim_destroy(sim);
}

static void strict_allocation_stays_in_its_domain_and_loose_falls_back(void **state)
{
    struct hvlog_sim *sim = make_sim(2, 4);
    struct hvlog_pages a, b;
    (void)state;

    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, true, 4, &a), 0);
    assert_int_equal(a.domain, 0);
    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, true, 1, &b), -1);
    /* Loose: the requested domain first, then any other. */
    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, false, 2, &b), 0);
    assert_int_equal(b.domain, 1);
    assert_int_equal(hvlog__sim_pages_frame(sim, &b, 0) * HV_PAGE_SIZE, deposit_gpa(1, 0));
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 1), 2);
    /* An unknown domain: strict fails, loose takes any. */
    hvlog__sim_pages_free(sim, &b);
    assert_int_equal(hvlog__sim_pages_alloc(sim, 7, true, 1, &b), -1);
    assert_int_equal(hvlog__sim_pages_alloc(sim, 7, false, 1, &b), 0);
    assert_int_equal(b.domain, 1);
    hvlog__sim_pages_free(sim, &b);
    hvlog__sim_pages_free(sim, &a);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 4);
    assert_int_equal(hvlog_sim_pool_free(sim, 1), 4);
    hvlog_sim_destroy(sim);
}

static void create_takes_buffer_pages_from_the_domain_it_names(void **state)
{
    struct hvlog_sim *sim = make_sim(2, 8);
    struct sim_root r;
    struct hvlog_buffer_info info;
    const uint32_t valid = HV_PROXIMITY_FLAG_VALID, preferred = HV_PROXIMITY_FLAG_PREFERRED;
    (void)state;

    root_attach(&r, sim);
    /* DEC-POOL: Initialize costs one page (domain 0). */
    assert_int_equal(root_init(&r, LOCAL, 8, 3, 1, 0), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 7);
    /* Valid, not preferred: that domain only. */
    assert_int_equal(root_create(&r, LOCAL, 0, 1, valid), 0);
    assert_int_equal(hvlog_engine_buffer_info(hvlog_sim_engine(sim), LOCAL, 0, &info), 0);
    assert_int_equal(info.pages.domain, 1);
    assert_int_equal(hvlog_sim_pool_free(sim, 1), 5);
    assert_int_equal(root_create(&r, LOCAL, 1, 1, valid), 0);
    assert_int_equal(root_create(&r, LOCAL, 2, 1, valid), HV_STATUS_INSUFFICIENT_MEMORY);
    /* Preferred: domain 1 is short, domain 0 will do. */
    assert_int_equal(root_create(&r, LOCAL, 2, 1, valid | preferred), 0);
    assert_int_equal(hvlog_engine_buffer_info(hvlog_sim_engine(sim), LOCAL, 2, &info), 0);
    assert_int_equal(info.pages.domain, 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 4);
    /* An unknown domain is the engine's INVALID_PARAMETER (DEC-PROX). */
    assert_int_equal(root_create(&r, LOCAL, 3, 2, valid), HV_STATUS_INVALID_PARAMETER);

    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(root_fast(&r, HvCallHvDeleteEventLogBuffer, LOCAL, i, 0), 0);
    assert_int_equal(root_fast(&r, HvCallHvFinalizeEventLogBufferGroup, LOCAL, 0, 0), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 8);
    assert_int_equal(hvlog_sim_pool_free(sim, 1), 8);
    hvlog_sim_destroy(sim);
}

static void withdraw_takes_only_free_pool_frames(void **state)
{
    struct hvlog_sim *sim = make_sim(1, 4);
    struct hvlog_pages a;
    (void)state;

    assert_int_equal(hvlog__sim_pages_alloc(sim, 0, true, 3, &a), 0);
    assert_int_equal(hvlog_sim_withdraw(sim, 0, 2), -1);
    assert_int_equal(hvlog_sim_withdraw(sim, 0, 1), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 0);
    /* The engine's pages kept their content (only free frames are scrubbed). */
    assert_int_equal(a.hva[0], 0xA5);
    hvlog__sim_pages_free(sim, &a);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 3);
    hvlog_sim_destroy(sim);
}

/* ---- overlays and the root's view ---- */

static void mapped_buffers_appear_read_only_and_vanish_when_unmapped(void **state)
{
    struct hvlog_sim *sim = make_sim(1, 16);
    struct sim_root r;
    struct hvlog_buffer_info info;
    const uint8_t *view;
    uint8_t probe[8];
    (void)state;

    root_attach(&r, sim);
    assert_int_equal(root_init(&r, LOCAL, 4, 2, 1, 0), 0);
    assert_int_equal(root_create(&r, LOCAL, 3, 0, 0), 0);
    assert_int_equal(hvlog_engine_buffer_info(hvlog_sim_engine(sim), LOCAL, 3, &info), 0);
    /* Standby: pool pages, invisible to the root. */
    assert_null(hvlog_sim_root_view(sim, hvlog__sim_pages_frame(sim, &info.pages, 0) * HV_PAGE_SIZE, 8));

    assert_int_equal(root_map(&r, LOCAL, 3), 0);
    /* DEC-MAPGPA: the GPA pages are the machine frames. */
    assert_int_equal(r.gpa[LOCAL][3], hvlog__sim_pages_frame(sim, &info.pages, 0) * HV_PAGE_SIZE);
    view = root_buffer(&r, LOCAL, 3);
    assert_non_null(view);
    assert_int_equal(hvlog_load_le32(view + 4), 3); /* BufferIndex */
    assert_int_equal(root_state(&r, LOCAL, 3), HvEventLogBufferStateFree);
    /* Both pages; not one byte beyond. */
    assert_non_null(hvlog_sim_root_view(sim, r.gpa[LOCAL][3], 2 * HV_PAGE_SIZE));
    assert_null(hvlog_sim_root_view(sim, r.gpa[LOCAL][3], 2 * HV_PAGE_SIZE + 1));
    /* Guest accesses: an overlay reads, and a write is an intercept. */
    assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_ROOT_ID, r.gpa[LOCAL][3], probe, 8),
                     HVLOG_GPA_OK);
    assert_int_equal(hvlog_sim_intercepts(sim), 0);
    assert_int_equal(hvlog_sim_gpa_write(sim, HVLOG_SIM_ROOT_ID, r.gpa[LOCAL][3] + 8, probe, 8),
                     HVLOG_GPA_FAULT);
    assert_int_equal(hvlog_sim_intercepts(sim), 1);
    assert_int_equal(hvlog_load_le32(view + 8), 0); /* EventsLost untouched */

    {
        uint64_t gpa = r.gpa[LOCAL][3];
        assert_int_equal(root_unmap(&r, LOCAL, 3), 0);
        assert_null(hvlog_sim_root_view(sim, gpa, 8));
        assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_ROOT_ID, gpa, probe, 8), HVLOG_GPA_FAULT);
    }
    hvlog_sim_destroy(sim);
}

static void a_store_through_the_root_view_faults(void **state)
{
    struct hvlog_sim *sim = make_sim(1, 16);
    struct sim_root r;
    const uint8_t *view;
    uint8_t *scratch;
    uint64_t scratch_gpa;
    (void)state;

    root_attach(&r, sim);
    assert_int_equal(root_init(&r, GLOBAL, 2, 1, 1, 0), 0);
    assert_int_equal(root_create(&r, GLOBAL, 0, 0, 0), 0);
    assert_int_equal(root_map(&r, GLOBAL, 0), 0);
    view = root_buffer(&r, GLOBAL, 0);
    assert_non_null(view);

    /* The overlay: the store dies of SIGSEGV, the byte is unchanged. */
    assert_int_equal(root_child_signal(root_store_one, view + 12), SIGSEGV);
    assert_int_equal(hvlog_load_le32(view + 12), 0);
    /* The view is read-only everywhere, RAM included: the root writes its
     * RAM through its own writable pointers, never through the view. */
    scratch_gpa = hvlog_sim_root_page(sim, 2, &scratch);
    scratch[0] = 7;
    assert_int_equal(hvlog_sim_root_view(sim, scratch_gpa, 1)[0], 7);
    assert_int_equal(root_child_signal(root_store_one, hvlog_sim_root_view(sim, scratch_gpa, 1)),
                     SIGSEGV);
    /* A read is fine. */
    assert_int_equal(root_child_signal(root_load_one, view), 0);
    hvlog_sim_destroy(sim);
}

static void a_read_through_an_old_pointer_after_unmap_faults(void **state)
{
    struct hvlog_sim *sim = make_sim(1, 16);
    struct sim_root r;
    const uint8_t *view;
    (void)state;

    root_attach(&r, sim);
    assert_int_equal(root_init(&r, GLOBAL, 2, 1, 1, 0), 0);
    assert_int_equal(root_create(&r, GLOBAL, 1, 0, 0), 0);
    assert_int_equal(root_map(&r, GLOBAL, 1), 0);
    view = root_buffer(&r, GLOBAL, 1);
    assert_int_equal(root_child_signal(root_load_one, view), 0);
    assert_int_equal(root_unmap(&r, GLOBAL, 1), 0);
    /* §5.6: Unmap revokes the read access itself, not just the pointer. */
    assert_int_equal(root_child_signal(root_load_one, view), SIGSEGV);
    /* Mapped again: readable again. */
    assert_int_equal(root_map(&r, GLOBAL, 1), 0);
    assert_int_equal(root_child_signal(root_load_one, view), 0);
    hvlog_sim_destroy(sim);
}

/* ---- guest memory by GPA and intercepts ---- */

static void guest_accesses_by_gpa_follow_the_frame_kinds(void **state)
{
    struct hvlog_sim *sim = make_sim(2, 8);
    uint8_t in[16] = "0123456789abcde", out[16];
    uint64_t root_end = 2ull * (RAM + DEPOSIT) * HV_PAGE_SIZE;
    uint64_t child_end = (uint64_t)HVLOG_SIM_CHILD_RAM_PAGES * HV_PAGE_SIZE;
    (void)state;

    /* Root RAM: fixed and not-deposited deposit frames, both ways. */
    assert_int_equal(hvlog_sim_gpa_write(sim, HVLOG_SIM_ROOT_ID, 0x1008, in, 16), HVLOG_GPA_OK);
    assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_ROOT_ID, 0x1008, out, 16), HVLOG_GPA_OK);
    assert_memory_equal(in, out, 16);
    assert_int_equal(hvlog_sim_gpa_write(sim, HVLOG_SIM_ROOT_ID, deposit_gpa(1, 8), in, 16),
                     HVLOG_GPA_OK);
    /* A range that ends in a pool page faults, and nothing is copied. */
    memset(out, 0, sizeof out);
    assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_ROOT_ID, deposit_gpa(1, 0) - 8, out, 16),
                     HVLOG_GPA_FAULT);
    assert_int_equal(out[0], 0);
    assert_int_equal(hvlog_sim_gpa_write(sim, HVLOG_SIM_ROOT_ID, deposit_gpa(0, 7), in, 1),
                     HVLOG_GPA_FAULT);
    assert_int_equal(hvlog_sim_intercepts(sim), 2);
    /* Outside the GPA space: out of range, no intercept. */
    assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_ROOT_ID, root_end - 8, out, 16),
                     HVLOG_GPA_OUT_OF_RANGE);
    assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_ROOT_ID, UINT64_MAX - 4, out, 16),
                     HVLOG_GPA_OUT_OF_RANGE);
    /* A child's own RAM is at its GPA 0, separate from the root's. */
    assert_int_equal(hvlog_sim_gpa_write(sim, HVLOG_SIM_FIRST_CHILD_ID, 0x1008, "child", 6),
                     HVLOG_GPA_OK);
    assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_ROOT_ID, 0x1008, out, 16), HVLOG_GPA_OK);
    assert_memory_equal(in, out, 16);
    assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_FIRST_CHILD_ID, 0x1008, out, 6), HVLOG_GPA_OK);
    assert_string_equal((char *)out, "child");
    assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_FIRST_CHILD_ID, child_end, out, 1),
                     HVLOG_GPA_OUT_OF_RANGE);
    assert_int_equal(hvlog_sim_gpa_read(sim, HVLOG_SIM_FIRST_CHILD_ID + 1, 0, out, 1),
                     HVLOG_GPA_OUT_OF_RANGE);
    assert_int_equal(hvlog_sim_intercepts(sim), 2);
    hvlog_sim_destroy(sim);
}

static void blocks_the_caller_cannot_access_raise_memory_intercepts(void **state)
{
    struct hvlog_sim *sim = make_sim(1, 16);
    struct sim_root r;
    uint8_t *in;
    uint64_t in_gpa = hvlog_sim_root_page(sim, 0, &in);
    (void)state;

    root_attach(&r, sim);
    assert_int_equal(root_init(&r, LOCAL, 4, 1, 1, 0), 0);
    assert_int_equal(root_create(&r, LOCAL, 0, 0, 0), 0);
    assert_int_equal(root_create(&r, LOCAL, 1, 0, 0), 0);
    assert_int_equal(root_map(&r, LOCAL, 0), 0);

    /* Map's output on an overlay page (readable, not writable): Q-GPA. */
    hvlog_store_le32(in, LOCAL);
    hvlog_store_le32(in + 4, 1);
    assert_int_equal(root_map_at(&r, LOCAL, 1, in_gpa, r.gpa[LOCAL][0] + 256), ROOT_INTERCEPT);
    assert_int_equal(hvlog_sim_intercepts(sim), 1);
    /* Input in a pool page. */
    assert_int_equal(root_map_at(&r, LOCAL, 1, deposit_gpa(0, 15), 0), ROOT_INTERCEPT);
    assert_int_equal(hvlog_sim_intercepts(sim), 2);
    /* Input on an overlay page is readable: the engine reads garbage and
     * answers with a status (§3.4 calls this undefined; no intercept). */
    assert_int_not_equal(root_map_at(&r, LOCAL, 1, r.gpa[LOCAL][0], 0), ROOT_INTERCEPT);
    /* Outside the GPA space: a status, not an intercept. */
    assert_int_equal(root_map_at(&r, LOCAL, 1, in_gpa, 1ull << 40), HV_STATUS_INVALID_ALIGNMENT);
    assert_int_equal(hvlog_sim_intercepts(sim), 2);
    /* Nothing changed: buffer 1 is still Standby, and maps fine now. */
    assert_int_equal(root_map(&r, LOCAL, 1), 0);
    hvlog_sim_destroy(sim);
}

static void children_and_impossible_callers_are_answered(void **state)
{
    struct hvlog_sim *sim = make_sim(1, 16);
    uint64_t child = HVLOG_SIM_FIRST_CHILD_ID;
    uint8_t in[8];
    uint64_t rax;
    (void)state;

    /* A child's fast call: not the root. */
    rax = hvlog_sim_hypercall(sim, child, 1, HvCallHvFlushEventLogBuffer | HV_HYPERCALL_FAST_BIT,
                              LOCAL, 0);
    assert_int_equal(hv_hypercall_result_status(rax), HV_STATUS_ACCESS_DENIED);
    /* A child's memory call with its input in its own RAM. */
    hvlog_store_le32(in, LOCAL);
    hvlog_store_le32(in + 4, 0);
    assert_int_equal(hvlog_sim_gpa_write(sim, child, 0x2000, in, 8), HVLOG_GPA_OK);
    rax = hvlog_sim_hypercall(sim, child, 0, HvCallHvMapEventLogBuffer, 0x2000, 0x3000);
    assert_int_equal(hv_hypercall_result_status(rax), HV_STATUS_ACCESS_DENIED);
    /* Callers that cannot exist. */
    rax = hvlog_sim_hypercall(sim, child + 1, 0, HvCallHvFlushEventLogBuffer | HV_HYPERCALL_FAST_BIT,
                              LOCAL, 0);
    assert_int_equal(hv_hypercall_result_status(rax), HV_STATUS_INVALID_PARTITION_ID);
    rax = hvlog_sim_hypercall(sim, HVLOG_SIM_ROOT_ID, 2,
                              HvCallHvFlushEventLogBuffer | HV_HYPERCALL_FAST_BIT, LOCAL, 0);
    assert_int_equal(hv_hypercall_result_status(rax), HV_STATUS_INVALID_VP_INDEX);
    assert_int_equal(hvlog_sim_intercepts(sim), 0);
    hvlog_sim_destroy(sim);
}

static void pool_pages_are_conserved_over_a_group_lifetime(void **state)
{
    struct hvlog_sim *sim = make_sim(2, 32);
    struct sim_root r;
    (void)state;

    root_attach(&r, sim);
    root_prepare(&r, LOCAL, 6, 4, 2);
    root_prepare(&r, GLOBAL, 2, 1, 1);
    assert_int_equal(hvlog_sim_pool_free(sim, 0) + hvlog_sim_pool_free(sim, 1), 64 - 2 - 24 - 2);
    for (uint32_t type = 0; type < 2; type++) {
        uint32_t n = type == LOCAL ? 6 : 2;
        for (uint32_t i = 0; i < n; i++) {
            assert_int_equal(root_unmap(&r, type, i), 0);
            assert_int_equal(root_fast(&r, HvCallHvDeleteEventLogBuffer, type, i, 0), 0);
        }
        assert_int_equal(root_fast(&r, HvCallHvFinalizeEventLogBufferGroup, type, 0, 0), 0);
    }
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 32);
    assert_int_equal(hvlog_sim_pool_free(sim, 1), 32);
    /* Destroy with buffers still created gives them back too (ASan: no leak). */
    root_prepare(&r, LOCAL, 3, 2, 1);
    hvlog_sim_destroy(sim);
}

static void bad_configurations_are_refused(void **state)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct hvlog_sim *sim = NULL;
    (void)state;

    c.lps = 0;
    assert_int_equal(hvlog_sim_create(&c, &sim), -1);
    c = hvlog_sim_config_default();
    c.lps = HVLOG_SIM_MAX_LPS + 1;
    assert_int_equal(hvlog_sim_create(&c, &sim), -1);
    c = hvlog_sim_config_default();
    c.domains = 0;
    assert_int_equal(hvlog_sim_create(&c, &sim), -1);
    c = hvlog_sim_config_default();
    c.root_ram_pages = HVLOG_SIM_ROOT_SCRATCH_PAGES + c.lps; /* one short */
    assert_int_equal(hvlog_sim_create(&c, &sim), -1);
    c = hvlog_sim_config_default();
    c.deposit_frames = c.pool_pages - 1;
    assert_int_equal(hvlog_sim_create(&c, &sim), -1);
    c = hvlog_sim_config_default();
    c.profile.abi = (enum hvlog_abi_profile)2; /* no such profile: the engine refuses it */
    assert_int_equal(hvlog_sim_create(&c, &sim), -1);
    assert_null(sim);
    assert_int_equal(hvlog_sim_create(NULL, &sim), -1);
    hvlog_sim_destroy(NULL);

    c = hvlog_sim_config_default();
    assert_int_equal(hvlog_sim_create(&c, &sim), 0);
    assert_int_equal(hvlog_sim_lp_count(sim), 2);
    assert_int_equal(hvlog_sim_seed(sim), 1);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 4096);
    assert_int_equal(hvlog_sim_root_page(sim, HVLOG_SIM_ROOT_SCRATCH_PAGES, NULL), 0);
    assert_int_not_equal(hvlog_sim_root_page(sim, 0, NULL), 0);
    hvlog_sim_destroy(sim);
}

static void root_ops_bind_the_roots_side_of_the_sim(void **state)
{
    struct hvlog_sim *sim = make_sim(2, 8);
    struct hvlog_root_ops ops;
    uint8_t *hva, *mine;
    uint64_t rax;
    (void)state;

    hvlog_sim_root_ops(sim, &ops);
    assert_int_equal(ops.vp_count, 2);
    assert_int_equal(ops.domain_count, 2);
    assert_int_equal(ops.scratch_page(sim, 1, &hva), hvlog_sim_root_page(sim, 1, &mine));
    assert_ptr_equal(hva, mine);
    assert_ptr_equal(ops.view(sim, 0x1000, 8), hvlog_sim_root_view(sim, 0x1000, 8));
    rax = ops.hypercall(sim, 1, HvCallHvFlushEventLogBuffer | HV_HYPERCALL_FAST_BIT, LOCAL, 0);
    assert_int_equal(hv_hypercall_result_status(rax), HV_STATUS_OPERATION_DENIED);
    assert_null(ops.message_page(sim, 0));
    assert_int_not_equal(hvlog_sim_synic_enable(sim, 0, 0x40), 0);
    assert_ptr_equal(ops.message_page(sim, 0), hvlog_sim_sim_page(sim, 0));
    ops.eom(sim, 0);
    assert_int_equal(ops.deposit(sim, 1, 4), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 1), 12);
    hvlog_sim_destroy(sim);
}

/* ---- buffers whose pages are not one run (§5.3, §5.5, DEC-MAPGPA) ---- */

/* Map with the output in scratch page 2: the page list as the root gets it. */
static void map_pages(struct sim_root *r, uint32_t type, uint32_t index, uint32_t pages,
                      uint64_t *gpa_page)
{
    uint8_t *out;
    uint64_t out_gpa = hvlog_sim_root_page(r->sim, 2, &out);

    assert_int_equal(root_map_at(r, type, index, 0, out_gpa), 0);
    for (uint32_t k = 0; k < pages; k++)
        gpa_page[k] = hvlog_load_le64(out + 8 * k);
}

/*
 * Regression: the sim used to answer Create with INSUFFICIENT_MEMORY when
 * the pool held the pages but no run of adjacent ones (§5.3 fails only when
 * the pool "cannot supply BufferPages pages"). A fragmented pool now
 * supplies scattered frames; Map returns them page by page, and what the
 * engine writes across a page boundary reaches the frames the root reads.
 */
static void a_fragmented_pool_supplies_a_buffer_from_scattered_frames(void **state)
{
    struct hvlog_sim *sim = make_sim(1, 8);
    struct sim_root r;
    uint64_t gpa_page[3];
    uint8_t payload[5000], entry[16];
    const uint8_t *page[3];
    (void)state;

    root_attach(&r, sim);
    /* DEC-POOL: one page per group; then six one-page buffers fill the
     * pool, and deleting every other one leaves three single free frames. */
    assert_int_equal(root_init(&r, LOCAL, 6, 1, 1, 0), 0);
    assert_int_equal(root_init(&r, GLOBAL, 1, 3, 1, 0), 0);
    for (uint32_t i = 0; i < 6; i++)
        assert_int_equal(root_create(&r, LOCAL, i, 0, 0), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 0);
    for (uint32_t i = 0; i < 6; i += 2)
        assert_int_equal(root_fast(&r, HvCallHvDeleteEventLogBuffer, LOCAL, i, 0), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 3);

    assert_int_equal(root_create(&r, GLOBAL, 0, 0, 0), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 0);
    map_pages(&r, GLOBAL, 0, 3, gpa_page);
    for (uint32_t k = 0; k < 3; k++) {
        page[k] = hvlog_sim_root_view(sim, gpa_page[k] << HV_PAGE_SHIFT, HV_PAGE_SIZE);
        assert_non_null(page[k]);
        if (k)
            assert_int_not_equal(gpa_page[k], gpa_page[k - 1] + 1);
    }
    assert_int_equal(hvlog_load_le32(page[0] + 4), 0); /* BufferIndex */
    assert_int_equal(hvlog_load_le32(page[0] + 52), GLOBAL); /* Type */

    /* One entry from byte 72 of page 0 well into page 1. */
    for (uint32_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(i * 7u + 1u);
    assert_int_equal(root_sources(&r, GLOBAL, ~0ull), 0);
    assert_int_equal(hvlog_sim_log(sim, 0, GLOBAL, 1, 0x0101, 9, payload, sizeof payload),
                     HVLOG_LOG_RECORDED);
    memcpy(entry, page[0] + HV_EVENTLOG_BUFFER_HEADER_SIZE, sizeof entry);
    assert_int_equal(hvlog_load_le32(entry), 9); /* Context */
    for (uint32_t i = 0; i < sizeof payload; i++) {
        uint32_t at = HV_EVENTLOG_BUFFER_HEADER_SIZE + 16 + i;

        assert_int_equal(page[at / HV_PAGE_SIZE][at % HV_PAGE_SIZE], payload[i]);
    }

    assert_int_equal(root_sources(&r, GLOBAL, 0), 0);
    assert_int_equal(root_fast(&r, HvCallHvFlushEventLogBuffer, GLOBAL, 0, 0), 0);
    (void)root_drain(&r, NULL); /* nobody listens: the buffer stays Ready/Complete */
    hvlog_sim_destroy(sim);      /* the engine gives scattered pages back */
}

/* scatter_pages: every multi-page buffer is a page list; Map returns it,
 * each page appears read-only, and Unmap revokes each. */
static void scatter_pages_maps_each_buffer_as_a_page_list(void **state)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct hvlog_sim *sim = NULL;
    struct sim_root r;
    uint64_t gpa_page[4][4];
    uint32_t apart = 0;
    (void)state;

    c.lockstep = true;
    c.scatter_pages = true;
    c.pool_pages = 64;
    assert_int_equal(hvlog_sim_create(&c, &sim), 0);
    root_attach(&r, sim);
    assert_int_equal(root_init(&r, LOCAL, 4, 4, 1, 0), 0);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(root_create(&r, LOCAL, i, 0, 0), 0);
        map_pages(&r, LOCAL, i, 4, gpa_page[i]);
        for (uint32_t k = 0; k < 4; k++) {
            const uint8_t *v =
                hvlog_sim_root_view(sim, gpa_page[i][k] << HV_PAGE_SHIFT, HV_PAGE_SIZE);

            assert_non_null(v);
            if (k == 0)
                assert_int_equal(hvlog_load_le32(v + 4), i); /* BufferIndex */
            apart += k && gpa_page[i][k] != gpa_page[i][k - 1] + 1;
            /* No frame is in two buffers. */
            for (uint32_t j = 0; j <= i; j++) {
                for (uint32_t l = 0; l < (j == i ? k : 4); l++)
                    assert_int_not_equal(gpa_page[j][l], gpa_page[i][k]);
            }
        }
    }
    assert_true(apart > 0); /* the seed drew a page list that is not a run */
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 64 - 1 - 16);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(root_unmap(&r, LOCAL, i), 0);
        for (uint32_t k = 0; k < 4; k++)
            assert_null(hvlog_sim_root_view(sim, gpa_page[i][k] << HV_PAGE_SHIFT, 8));
        assert_int_equal(root_fast(&r, HvCallHvDeleteEventLogBuffer, LOCAL, i, 0), 0);
    }
    assert_int_equal(root_fast(&r, HvCallHvFinalizeEventLogBufferGroup, LOCAL, 0, 0), 0);
    assert_int_equal(hvlog_sim_pool_free(sim, 0), 64);
    hvlog_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deposit_and_withdraw_move_frames_between_root_ram_and_the_pool),
        cmocka_unit_test(pages_alloc_gives_contiguous_first_fit_runs),
        cmocka_unit_test(strict_allocation_stays_in_its_domain_and_loose_falls_back),
        cmocka_unit_test(create_takes_buffer_pages_from_the_domain_it_names),
        cmocka_unit_test(withdraw_takes_only_free_pool_frames),
        cmocka_unit_test(a_fragmented_pool_supplies_a_buffer_from_scattered_frames),
        cmocka_unit_test(scatter_pages_maps_each_buffer_as_a_page_list),
        cmocka_unit_test(mapped_buffers_appear_read_only_and_vanish_when_unmapped),
        cmocka_unit_test(a_store_through_the_root_view_faults),
        cmocka_unit_test(a_read_through_an_old_pointer_after_unmap_faults),
        cmocka_unit_test(guest_accesses_by_gpa_follow_the_frame_kinds),
        cmocka_unit_test(blocks_the_caller_cannot_access_raise_memory_intercepts),
        cmocka_unit_test(children_and_impossible_callers_are_answered),
        cmocka_unit_test(pool_pages_are_conserved_over_a_group_lifetime),
        cmocka_unit_test(bad_configurations_are_refused),
        cmocka_unit_test(root_ops_bind_the_roots_side_of_the_sim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
