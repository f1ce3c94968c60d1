/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: random call sequences against one engine.
 *
 * The input is a little program. Each step is an opcode and its operands:
 * a well-formed call of one of the nine, a raw hypercall (any control value,
 * any registers, random bytes in the input page, root or child caller),
 * logging on some LP, taking and releasing a ready list, a kick, VP
 * eligibility changes, or fault injection. After every step the engine's
 * invariants must hold (hvlog_engine_check) and the pool pages must be
 * accounted for exactly (DEC-POOL); at the end, destroying the engine must
 * return every page. A violation aborts with the reason.
 *
 * The first byte picks the knobs and the ABI profile: bit 6 = the current
 * profile (§11), where the fake host encodes every call in the current
 * layout, well-formed Initializes draw a Mode (Regular, Circular or the
 * invalid 2) and bit 7 starts the SystemDiagnostics ring (§11.6) before the
 * program runs. Inputs with bit 6 clear run exactly as before.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"

#define LPS 3u
#define POOL_PAGES 192

struct program {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct program *pr, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && pr->n; i++, pr->n--, pr->p++)
        v |= (uint64_t)*pr->p << (8 * i);
    return v;
}

static void die(const char *what)
{
    fprintf(stderr, "fuzz_engine: invariant broken: %s\n", what);
    abort();
}

/* DEC-POOL: one page per initialized group, BufferPages per created buffer;
 * the SystemDiagnostics ring (type 2, current profile only) has no
 * bookkeeping page (§11.6: it is the hypervisor's). */
static void check_pool(struct fake_host *h)
{
    int64_t expect_pages = 0, used_pages = 0;

    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++) {
        struct hvlog_group_info gi;
        hvlog_engine_group_info(h->engine, t, &gi);
        if (gi.initialized)
            expect_pages += (t == HvEventLogTypeSystemDiagnostics ? 0 : 1) +
                            (int64_t)gi.buffers_created * gi.buffer_pages;
    }
    for (uint32_t d = 0; d < h->domains; d++)
        used_pages += POOL_PAGES - h->pool_free[d];
    if (used_pages != expect_pages)
        die("pool pages not conserved");
}

static void drain(struct fake_host *h, uint32_t vp, bool release)
{
    uint32_t type, index, chain[HV_EVENTLOG_MAX_BUFFER_COUNT];
    int n;

    if (!fake_take_message(h, vp, &type, &index))
        return;
    n = fake_chain(h, type, index, chain, HV_EVENTLOG_MAX_BUFFER_COUNT);
    for (int i = 0; release && i < n; i++)
        fake_release(h, type, chain[i]);
}

static void step(struct fake_host *h, struct program *pr)
{
    uint32_t op = (uint32_t)take(pr, 1) % 10;
    uint32_t type = (uint32_t)take(pr, 1) % 3;
    uint32_t index = (uint32_t)take(pr, 1) % 20;

    switch (op) {
    case 0: /* a well-formed call */
        switch (take(pr, 1) % 9) {
        case 0: {
            uint32_t count = 1 + (uint32_t)take(pr, 1) % 24, pages = 1 + (uint32_t)take(pr, 1) % 3;
            uint32_t threshold = (uint32_t)take(pr, 1) % 6, basis = (uint32_t)take(pr, 1) % 3;
            /* §11.1: Regular, Circular, or the invalid Mode 2. */
            uint32_t mode = fake_current(h) ? (uint32_t)take(pr, 1) % 3 : 0;

            fake_init_mode(h, type, mode, count, pages, threshold, basis);
            break;
        }
        case 1: fake_finalize(h, type); break;
        case 2: fake_create(h, type, index, (uint32_t)take(pr, 1) % 3, (uint32_t)take(pr, 4)); break;
        case 3: fake_delete(h, type, index); break;
        case 4: fake_map(h, type, index, NULL); break;
        case 5: fake_unmap(h, type, index); break;
        case 6: {
            /* Current profile: ~0 has the "extended" bit 0 (§11.3), refused. */
            uint32_t v = (uint32_t)take(pr, 1) % 4;
            fake_sources(h, type, v == 0 ? 0 : fake_current(h) && v > 1 ? FAKE_ALL_SOURCES : ~0ull);
            break;
        }
        case 7: fake_release(h, type, index); break;
        default: fake_flush_from(h, (uint32_t)take(pr, 1) % LPS, type, index); break;
        }
        break;
    case 1: { /* a raw hypercall, anything goes */
        uint64_t rcx = take(pr, 8), rdx = take(pr, 8), r8 = take(pr, 8);
        uint64_t partition = take(pr, 1) % 4 ? FAKE_ROOT_ID : FAKE_CHILD_ID;
        uint32_t fill = (uint32_t)take(pr, 1);

        if (take(pr, 1) % 2)
            rcx = (rcx & ~0xFFFFull) | (0x60 + rcx % 9); /* mostly our codes */
        if (take(pr, 1) % 2)
            rdx = (rdx % (FAKE_GUEST_PAGES * 4096)) & ~7ull;
        if (take(pr, 1) % 2)
            r8 = (r8 % (FAKE_GUEST_PAGES * 4096)) & ~7ull;
        for (uint32_t i = 0; i < 64; i++)
            h->root_mem[(rdx + i) % sizeof h->root_mem] = (uint8_t)(fill * (i + 1));
        fake_call(h, partition, (uint32_t)take(pr, 1) % 20, rcx, rdx, r8, NULL);
        break;
    }
    case 2:
    case 3: { /* log a burst */
        uint32_t count = 1 + (uint32_t)take(pr, 1) % 64;
        uint32_t len = (uint32_t)take(pr, 2) % (op == 2 ? 200 : 9000);
        for (uint32_t i = 0; i < count; i++)
            fake_log(h, index % LPS, type, len, i);
        break;
    }
    case 4: drain(h, index % LPS, true); break;
    case 5: drain(h, index % LPS, false); break;
    case 6: hvlog_engine_kick(h->engine); break;
    case 7: h->vp_ineligible[index % LPS] = !h->vp_ineligible[index % LPS]; break;
    case 8:
        h->fail_alloc_after = (int)(take(pr, 1) % 4);
        h->fail_overlay_after = (int)(take(pr, 1) % 4);
        h->refuse_post_after = (int)(take(pr, 1) % 4);
        break;
    default: /* finish a group cleanly: flush, drain, release, unmap, delete, finalize */
        fake_sources(h, type, 0);
        for (uint32_t i = 0; i < 20; i++)
            fake_flush(h, type, i);
        for (uint32_t vp = 0; vp < LPS; vp++) {
            while (fake_queued(h, vp))
                drain(h, vp, true);
        }
        for (uint32_t i = 0; i < 20; i++) {
            fake_unmap(h, type, i);
            fake_delete(h, type, i);
        }
        fake_finalize(h, type);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fake_host h;
    struct program pr = {data, size};
    struct hvlog_profile profile = hvlog_profile_default();
    uint32_t knobs = (uint32_t)take(&pr, 1);
    char why[160];

    profile.flush_scope = knobs & 1 ? HVLOG_FLUSH_SCOPE_TYPE : HVLOG_FLUSH_SCOPE_BUFFER;
    profile.flush_index = knobs & 2 ? HVLOG_FLUSH_INDEX_VP : HVLOG_FLUSH_INDEX_BUFFER;
    profile.release_from_complete = knobs & 4;
    profile.threshold_zero = knobs & 8;
    profile.local_strict_domain = knobs & 16;
    profile.unmap_state_status = knobs & 32 ? HV_STATUS_OPERATION_DENIED : HV_STATUS_ACCESS_DENIED;
    profile.abi = knobs & 64 ? HVLOG_ABI_CURRENT : HVLOG_ABI_2013;
    if (fake_host_init(&h, LPS, 2, POOL_PAGES, &profile) != 0)
        die("engine create failed");
    if ((knobs & 192) == 192 &&
        hvlog_engine_system_diag_start(h.engine, 3, 1, FAKE_ALL_SOURCES) != 0)
        die("the SystemDiagnostics ring did not start");
    for (int steps = 0; pr.n && steps < 400; steps++) {
        step(&h, &pr);
        if (hvlog_engine_check(h.engine, why, sizeof why) != 0)
            die(why);
        check_pool(&h);
    }
    fake_host_fini(&h);
    if (h.allocs_outstanding != 0)
        die("destroy did not return every page");
    return 0;
}
