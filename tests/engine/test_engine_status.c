/* SPDX-License-Identifier: MIT */
/*
 * Every status row of spec §5.1-§5.9, table-driven, on the fake host.
 *
 * A row is: a setup (which groups and buffers exist, in which state, how the
 * pool or the host is rigged), a caller, one hypercall with its input, and
 * the HV_STATUS the spec's table gives. Each row is its own cmocka test,
 * named after the behaviour it pins down.
 *
 * After every failing call (and every success the spec calls a no-op) the
 * whole observable world must be unchanged: the engine snapshot
 * (fake_snapshot_diff == 0), every byte of both partitions' guest memory -
 * so nothing reached the output page - and the pool. A success row names an
 * effect check that verifies the §5 "Effects" paragraph and then that
 * nothing else moved.
 *
 * Checks not covered here - the generic ABI of §3 (codes, input value,
 * alignment, GPA faults, fast/memory forms) - live in test_engine_dispatch.c.
 *
 * Both ABI profiles run this table (tests/engine/CMakeLists.txt registers the
 * executable twice; HVLOG_TEST_ABI=current selects the current one). A row's
 * .w are the 2013 input words; fake_encode() lays them out as the engine's
 * profile reads them (§11.1-§11.3) and the call goes in that profile's
 * canonical form. Where the spec gives the current profile another answer,
 * the row says so with CUR(status) and a comment naming the spec row; rows
 * that exist in one profile only carry .only. Current-only rows marked .raw
 * give their words in the current layout itself (Mode, BufferSizeInBytes,
 * PartitionId, GroupCount cannot be said in 2013 words).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "engine_test_util.h"
#include "fake_host.h"

/* ---- vocabulary ------------------------------------------------------------ */

#define INIT HvCallHvInitializeEventLogBufferGroup
#define FINALIZE HvCallHvFinalizeEventLogBufferGroup
#define CREATE HvCallHvCreateEventLogBuffer
#define DELETE HvCallHvDeleteEventLogBuffer
#define MAP HvCallHvMapEventLogBuffer
#define UNMAP HvCallHvUnmapEventLogBuffer
#define SOURCES HvCallHvSetEventLogGroupSources
#define RELEASE HvCallHvReleaseEventLogBuffer
#define FLUSH HvCallHvFlushEventLogBuffer

#define SUCCESS HV_STATUS_SUCCESS
#define ACCESS_DENIED HV_STATUS_ACCESS_DENIED
#define INVALID_PARAMETER HV_STATUS_INVALID_PARAMETER
#define OPERATION_DENIED HV_STATUS_OPERATION_DENIED
#define INSUFFICIENT_MEMORY HV_STATUS_INSUFFICIENT_MEMORY
#define OBJECT_IN_USE HV_STATUS_OBJECT_IN_USE
#define INVALID_ALIGNMENT HV_STATUS_INVALID_ALIGNMENT
#define INVALID_PARTITION_ID HV_STATUS_INVALID_PARTITION_ID

#define GLOBAL HvEventLogTypeGlobalSystemEvents /* 0 */
#define LOCAL HvEventLogTypeLocalDiagnostics    /* 1 */
#define VALID HV_PROXIMITY_FLAG_VALID
#define PREFERRED HV_PROXIMITY_FLAG_PREFERRED
#define NO_INDEX 0xFFFFFFFFu

/* The standard group: 4 buffers of 2 pages, threshold 2 (so one Complete
 * buffer is not yet notified), reference time basis. */
#define COUNT 4u
#define PAGES 2u
#define THRESHOLD 2u
/* A payload whose entry fills a standard buffer exactly: 8192 - 72 - 16. */
#define FILL_PAYLOAD (PAGES * HV_PAGE_SIZE - HV_EVENTLOG_BUFFER_HEADER_SIZE - HV_EVENTLOG_ENTRY_HEADER_SIZE)

/* Init's SystemTime as two words (offset 24, DEC-INITLAYOUT). */
#define ST_LO 0x89ABCDEFu
#define ST_HI 0x01D90000u

#define LPS 2u
#define DOMAINS 2u
#define POOL_PAGES 4096

/* Guest-memory addresses used by the Map placement rows. */
#define IN FAKE_IN_GPA
#define OUT FAKE_OUT_GPA

/* ---- setups ------------------------------------------------------------------ */

enum setup {
    S_NONE,                  /* no group initialized */
    S_POOL_EMPTY,            /* no group; the pool is empty */
    S_POOL_ONE,              /* no group; one page in the whole pool */
    S_ALLOC_FAILS,           /* no group; the next allocation fails */
    S_GROUP,                 /* LOCAL initialized (standard geometry), no buffers */
    S_GROUP_GLOBAL,          /* GLOBAL initialized (standard geometry), no buffers */
    S_GROUP_ENABLED,         /* S_GROUP, sources ~0 */
    S_GROUP_POOL_EMPTY,      /* S_GROUP, then the pool emptied */
    S_GROUP_POOL_SHORT,      /* S_GROUP, then 1 page per domain (< BufferPages) */
    S_GROUP_DOMAIN1_EMPTY,   /* S_GROUP, domain 1 emptied, domain 0 full */
    S_GROUP_ALLOC_FAILS,     /* S_GROUP, the next allocation fails */
    S_DELETED,               /* S_GROUP, buffer 0 created then deleted */
    S_STANDBY,               /* S_GROUP, buffer 0 created (Standby) */
    S_STANDBY_GLOBAL,        /* S_GROUP_GLOBAL, buffer 0 created */
    S_STANDBY_POOL_EMPTY,    /* S_STANDBY, then the pool emptied */
    S_STANDBY_OVERLAY_FAILS, /* S_STANDBY, the next overlay_map fails */
    S_STANDBY_512,           /* LOCAL of 512-page buffers, buffer 0 created */
    S_UNMAPPED,              /* S_STANDBY, mapped, then unmapped again */
    S_FREE,                  /* S_STANDBY, mapped (Free) */
    S_FREE_OVERLAY_FAILS,    /* S_FREE, the next overlay_map fails */
    S_INUSE,                 /* S_FREE, sources on, one event on LP 0: InUse */
    S_COMPLETE,              /* S_FREE, sources on, one event that fills it: Complete */
    S_READY,                 /* S_COMPLETE, flushed: Ready, its message queued */
    /* Current profile only (§11.6): the SystemDiagnostics ring, 2 x 1 page. */
    S_RING,                  /* started, nothing mapped by the root */
    S_RING_MAPPED,           /* started, buffer 0 mapped by the root */
};

enum caller { ROOT = 0, CHILD, PID_INVALID, PID_SELF };

enum knob {
    K_DEFAULT = 0,
    K_UNMAP_OPERATION_DENIED, /* §12.1 unmap_state_status = OPERATION_DENIED */
    K_THRESHOLD_ZERO,         /* §12.1 threshold_zero */
    K_RELEASE_FROM_COMPLETE,  /* §12.1 release_from_complete */
    K_RELEASE_FROM_COMPLETE_OFF, /* the same knob off: the 2013 preset, under either profile */
};

/* ---- the world before and after a call ------------------------------------- */

struct world {
    struct fake_snapshot snap;
    uint8_t root_mem[FAKE_GUEST_PAGES * 4096];
    uint8_t child_mem[FAKE_GUEST_PAGES * 4096];
    int64_t pool_used;
    uint32_t posts;
};

static struct fake_host H;
static struct world before, after, expected;

static void world_take(struct fake_host *h, struct world *w)
{
    fake_snapshot(h, &w->snap);
    memcpy(w->root_mem, h->root_mem, sizeof w->root_mem);
    memcpy(w->child_mem, h->child_mem, sizeof w->child_mem);
    w->pool_used = fake_pool_used(h);
    w->posts = h->posts;
}

static int64_t pool_total(const struct fake_snapshot *s)
{
    int64_t n = 0;

    for (uint32_t d = 0; d < FAKE_MAX_DOMAINS; d++)
        n += s->pool_free[d];
    return n;
}

/* The first byte where two memories differ outside [skip_lo, skip_hi), or -1. */
static long first_difference(const uint8_t *a, const uint8_t *b, size_t len, uint64_t skip_lo,
                             uint64_t skip_hi)
{
    for (size_t i = 0; i < len; i++) {
        if (i >= skip_lo && i < skip_hi)
            continue;
        if (a[i] != b[i])
            return (long)i;
    }
    return -1;
}

/* @e (engine state) must equal the world now; guest memory must equal @b's
 * except root bytes [skip_lo, skip_hi). */
static void assert_world_is(const char *what, const struct world *e, const struct world *b,
                            uint64_t skip_lo, uint64_t skip_hi)
{
    int diff;
    long at;

    world_take(&H, &after);
    diff = fake_snapshot_diff(&e->snap, &after.snap);
    if (diff != 0)
        fail_msg("%s: the engine snapshot differs from the expected one (fake_snapshot_diff = %d)",
                 what, diff);
    at = first_difference(b->root_mem, after.root_mem, sizeof after.root_mem, skip_lo, skip_hi);
    if (at >= 0)
        fail_msg("%s: root guest memory written at GPA 0x%lx", what, (unsigned long)at);
    at = first_difference(b->child_mem, after.child_mem, sizeof after.child_mem, 0, 0);
    if (at >= 0)
        fail_msg("%s: child guest memory written at GPA 0x%lx", what, (unsigned long)at);
    if (e->pool_used != after.pool_used)
        fail_msg("%s: pool allocations outstanding %lld, expected %lld", what,
                 (long long)after.pool_used, (long long)e->pool_used);
}

static void assert_unchanged(const char *what)
{
    assert_world_is(what, &before, &before, 0, 0);
}

/* ---- the rows ------------------------------------------------------------------ */

struct row;
typedef void (*effect_fn)(const struct row *r);

/* Which profiles a row belongs to. */
enum only { BOTH = 0, ONLY_2013, ONLY_CURRENT };

struct row {
    const char *name;
    enum setup setup;
    enum caller caller;
    enum knob knob;
    uint16_t code;
    uint32_t w[8];     /* 2013 input words (or, with .raw, current-layout words) */
    uint64_t in_gpa;   /* memory calls: 0 = FAKE_IN_GPA */
    uint64_t out_gpa;  /* Map: 0 = FAKE_OUT_GPA */
    hv_status_t expect;
    effect_fn effect;  /* success rows: the §5 effects; NULL = must change nothing */
    enum only only;
    bool raw;          /* .w is already in the current layout (current-only rows) */
    struct {           /* the current profile's answer, where the spec gives another */
        bool set;
        hv_status_t status;
        effect_fn effect;
    } cur;
};

static bool current_profile(void)
{
    return fake_test_abi() == HVLOG_ABI_CURRENT;
}

static hv_status_t row_expect(const struct row *r)
{
    return current_profile() && r->cur.set ? r->cur.status : r->expect;
}

static effect_fn row_effect(const struct row *r)
{
    return current_profile() && r->cur.set ? r->cur.effect : r->effect;
}

static uint64_t caller_id(enum caller c)
{
    switch (c) {
    case CHILD: return FAKE_CHILD_ID;
    case PID_INVALID: return HV_PARTITION_ID_INVALID;
    case PID_SELF: return HV_PARTITION_ID_SELF;
    default: return FAKE_ROOT_ID;
    }
}

static uint64_t row_in_gpa(const struct row *r)
{
    return r->in_gpa ? r->in_gpa : IN;
}

static uint64_t row_out_gpa(const struct row *r)
{
    return r->out_gpa ? r->out_gpa : OUT;
}

static uint64_t row_mask(const struct row *r)
{
    return r->w[2] | ((uint64_t)r->w[3] << 32);
}

/* ---- effects of successful calls (§5 "Effects") --------------------------------- */

/* The Initialize fields of a row, from 2013 words or (raw) current words (§11.1). */
struct init_fields {
    uint32_t type, mode, count, pages, threshold, basis;
    uint64_t system_time;
};

static struct init_fields row_init(const struct row *r)
{
    struct init_fields f = {r->w[0], 0, r->w[1], r->w[2], r->w[3], r->w[4],
                            r->w[6] | ((uint64_t)r->w[7] << 32)};

    if (current_profile()) { /* Type u16 + Mode u16 in the first word (§11.1) */
        f.type = r->w[0] & 0xFFFF;
        f.mode = r->w[0] >> 16;
    }
    if (r->raw) { /* BufferSizeInBytes @8, SystemTime @20 */
        f.pages = r->w[2] / HV_PAGE_SIZE;
        f.system_time = r->w[5] | ((uint64_t)r->w[6] << 32);
    }
    return f;
}

static void effect_init(const struct row *r)
{
    struct init_fields f = row_init(r);
    uint32_t type = f.type;
    struct hvlog_group_info gi;

    assert_int_equal(hvlog_engine_group_info(H.engine, type, &gi), 0);
    assert_true(gi.initialized);
    assert_int_equal(gi.local, type == LOCAL);
    assert_int_equal(gi.maximum_buffer_count, f.count);
    assert_int_equal(gi.buffer_pages, f.pages);
    assert_int_equal(gi.threshold, f.threshold);
    assert_int_equal(gi.time_basis, f.basis);
    assert_int_equal(gi.mode, f.mode);
    assert_int_equal(gi.system_time, f.system_time);
    assert_int_equal(gi.source_mask, 0);    /* disabled */
    assert_int_equal(gi.buffers_created, 0); /* no buffers */
    assert_int_equal(gi.free_count, 0);
    assert_false(gi.message_busy);
    assert_int_equal(gi.due_lists, 0);
    /* DEC-POOL: exactly one bookkeeping page. */
    world_take(&H, &after);
    assert_int_equal(pool_total(&before.snap) - pool_total(&after.snap), 1);

    expected = before;
    expected.snap.group[type] = gi;
    memcpy(expected.snap.pool_free, after.snap.pool_free, sizeof expected.snap.pool_free);
    expected.pool_used = before.pool_used + 1;
    assert_world_is(r->name, &expected, &before, 0, 0);
}

static void effect_finalize(const struct row *r)
{
    uint32_t type = r->w[0];
    struct hvlog_group_info gi;

    assert_int_equal(hvlog_engine_group_info(H.engine, type, &gi), 0);
    assert_false(gi.initialized);
    assert_int_equal(gi.source_mask, 0);
    world_take(&H, &after);
    assert_int_equal(pool_total(&after.snap) - pool_total(&before.snap), 1); /* DEC-POOL */

    expected = before;
    expected.snap.group[type] = gi;
    memcpy(expected.snap.pool_free, after.snap.pool_free, sizeof expected.snap.pool_free);
    expected.pool_used = before.pool_used - 1;
    assert_world_is(r->name, &expected, &before, 0, 0);
    /* The type may be initialized again. */
    assert_int_equal(fake_init(&H, type, 1, 1, 1, 0), SUCCESS);
}

static void effect_create(const struct row *r)
{
    uint32_t type = r->w[0], index = r->w[1], id = r->w[2], flags = r->w[3];
    struct hvlog_buffer_info info;
    struct hvlog_group_info gi;

    assert_int_equal(hvlog_engine_buffer_info(H.engine, type, index, &info), 0);
    assert_int_equal(hvlog_engine_group_info(H.engine, type, &gi), 0);
    /* §5.3 header, Standby, zeroed pages. */
    assert_created_buffer(&H, type, index, gi.buffer_pages);
    /* Proximity: remembered; Valid without Preferred must come from that domain. */
    assert_int_equal(info.domain_valid, (flags & VALID) != 0);
    if (flags & VALID)
        assert_int_equal(info.domain, id);
    world_take(&H, &after);
    /* DEC-POOL: exactly BufferPages pages. */
    assert_int_equal(pool_total(&before.snap) - pool_total(&after.snap), gi.buffer_pages);
    if ((flags & VALID) && !(flags & PREFERRED)) {
        assert_int_equal(info.pages.domain, id);
        assert_int_equal(before.snap.pool_free[id] - after.snap.pool_free[id], gi.buffer_pages);
    }
    assert_int_equal(gi.buffers_created, before.snap.group[type].buffers_created + 1);

    expected = before;
    expected.snap.group[type].buffers_created++;
    expected.snap.buffer[type][index] = after.snap.buffer[type][index];
    memcpy(expected.snap.pool_free, after.snap.pool_free, sizeof expected.snap.pool_free);
    expected.pool_used = before.pool_used + 1;
    assert_world_is(r->name, &expected, &before, 0, 0);
}

static void effect_delete(const struct row *r)
{
    uint32_t type = r->w[0], index = r->w[1];
    uint32_t pages = before.snap.group[type].buffer_pages;

    assert_int_equal(fake_state(&H, type, index), 0xFF); /* gone */
    world_take(&H, &after);
    /* The pages go back to the pool they came from. */
    assert_int_equal(pool_total(&after.snap) - pool_total(&before.snap), pages);
    assert_int_equal(after.snap.group[type].buffers_created,
                     before.snap.group[type].buffers_created - 1);

    expected = before;
    expected.snap.group[type].buffers_created--;
    expected.snap.buffer[type][index] = after.snap.buffer[type][index];
    memcpy(expected.snap.pool_free, after.snap.pool_free, sizeof expected.snap.pool_free);
    expected.pool_used = before.pool_used - 1;
    assert_world_is(r->name, &expected, &before, 0, 0);
    /* The index is free for a later Create. */
    assert_int_equal(fake_create(&H, type, index, 0, 0), SUCCESS);
}

static void effect_map(const struct row *r)
{
    uint32_t type = r->w[0], index = r->w[1];
    uint64_t out = row_out_gpa(r);
    struct hvlog_buffer_info info;
    uint32_t pages;

    assert_int_equal(hvlog_engine_buffer_info(H.engine, type, index, &info), 0);
    pages = info.pages.count;
    assert_int_equal(info.state, HvEventLogBufferStateFree);
    assert_int_equal(info.header.buffer_state, HvEventLogBufferStateFree);
    /* Output: exactly BufferPages page numbers, element k = page k (the fake
     * host's overlay numbering), nothing before or beyond. */
    for (uint32_t k = 0; k < pages; k++) {
        uint64_t want = 0x100000ull + ((uint64_t)(uintptr_t)info.pages.hva >> 12) + k;
        assert_int_equal(hvlog_load_le64(H.root_mem + out + (size_t)k * 8), want);
    }
    world_take(&H, &after);
    assert_int_equal(after.snap.overlays_mapped, before.snap.overlays_mapped + 1);
    assert_int_equal(after.snap.group[type].free_count, before.snap.group[type].free_count + 1);

    expected = before;
    expected.snap.group[type].free_count++;
    expected.snap.buffer[type][index] = after.snap.buffer[type][index];
    expected.snap.overlays_mapped++;
    memcpy(expected.snap.out_page, after.snap.out_page, sizeof expected.snap.out_page);
    /* Map costs no pool page (DEC-POOL): pool_free is compared unchanged. */
    assert_world_is(r->name, &expected, &before, out, out + (uint64_t)pages * 8);
}

static void effect_unmap(const struct row *r)
{
    uint32_t type = r->w[0], index = r->w[1];
    bool was_free = before.snap.buffer[type][index].state == HvEventLogBufferStateFree;

    assert_int_equal(fake_state(&H, type, index), HvEventLogBufferStateStandby);
    assert_int_equal(fake_header(&H, type, index).buffer_state, HvEventLogBufferStateStandby);
    world_take(&H, &after);
    assert_int_equal(after.snap.overlays_mapped, before.snap.overlays_mapped - 1);

    expected = before;
    if (was_free) /* it leaves the free list */
        expected.snap.group[type].free_count--;
    expected.snap.buffer[type][index] = after.snap.buffer[type][index];
    expected.snap.overlays_mapped--;
    assert_world_is(r->name, &expected, &before, 0, 0);
}

static void effect_sources(const struct row *r)
{
    uint32_t type = r->w[0];
    struct hvlog_group_info gi;

    assert_int_equal(hvlog_engine_group_info(H.engine, type, &gi), 0);
    /* DEC-SRC: the mask is replaced, undefined bits included; nothing else
     * moves (no pre-allocation, disabling does not flush). */
    assert_int_equal(gi.source_mask, row_mask(r));
    expected = before;
    expected.snap.group[type].source_mask = row_mask(r);
    assert_world_is(r->name, &expected, &before, 0, 0);
}

static void effect_release(const struct row *r)
{
    uint32_t type = r->w[0], index = r->w[1];
    struct hv_eventlog_buffer_header hd = fake_header(&H, type, index);

    assert_int_equal(fake_state(&H, type, index), HvEventLogBufferStateFree);
    assert_int_equal(hd.buffer_state, HvEventLogBufferStateFree);
    assert_int_equal(hd.next_buffer_index, HV_EVENTLOG_BUFFER_INDEX_NONE);
    world_take(&H, &after);
    assert_int_equal(after.snap.group[type].free_count, before.snap.group[type].free_count + 1);

    expected = before;
    expected.snap.group[type].free_count++;
    expected.snap.buffer[type][index] = after.snap.buffer[type][index];
    assert_world_is(r->name, &expected, &before, 0, 0);
}

static void effect_flush_notifies(const struct row *r)
{
    uint32_t type = r->w[0], index = r->w[1], mtype = 0xFFFF, mindex = 0xFFFF;
    struct hv_eventlog_buffer_header hd = fake_header(&H, type, index);

    /* §5.9 steps 1-2: the buffer is Complete, then its list Ready at once
     * whatever the threshold, and one message names it. */
    assert_int_equal(fake_state(&H, type, index), HvEventLogBufferStateReady);
    assert_int_equal(hd.buffer_state, HvEventLogBufferStateReady);
    assert_int_equal(hd.next_buffer_index, HV_EVENTLOG_BUFFER_INDEX_NONE);
    world_take(&H, &after);
    assert_int_equal(after.posts, before.posts + 1);
    assert_true(after.snap.group[type].message_busy);

    expected = before;
    expected.snap.group[type].message_busy = true;
    expected.snap.buffer[type][index] = after.snap.buffer[type][index];
    memcpy(expected.snap.queue_len, after.snap.queue_len, sizeof expected.snap.queue_len);
    assert_world_is(r->name, &expected, &before, 0, 0);

    assert_true(fake_take_message(&H, 0, &mtype, &mindex));
    assert_int_equal(mtype, type);
    assert_int_equal(mindex, index);
}

/* Release from Complete under the release_from_complete knob (D13). */
static void effect_release_complete(const struct row *r)
{
    uint32_t type = r->w[0], index = r->w[1];
    struct hvlog_scope_stats st;

    effect_release(r);
    assert_int_equal(hvlog_engine_scope_stats(H.engine, type, 0, &st), 0);
    assert_int_equal(st.pending_count, 0); /* it left its pending list */
    (void)index;
}

/* ---- the table -------------------------------------------------------------------- */

/* A row: behaviour name (the test's name), setup, caller, code, expected status,
 * then designated fields (.w input words, .knob, .in_gpa, .out_gpa, .effect). */
#define ROW(nm, st, cl, cd, ex, ...) \
    {.name = #nm, .setup = (st), .caller = (cl), .code = (cd), .expect = (ex), __VA_ARGS__}

#define INIT_OK(type) .w = {(type), COUNT, PAGES, THRESHOLD, 0, 0, ST_LO, ST_HI}

/* The current profile's answer where the spec gives it another (a comment on
 * the row names the spec row), and rows of one profile only. */
#define CUR(st) .cur = {true, (st), NULL}
#define CUR_OK(fn) .cur = {true, SUCCESS, (fn)}
#define CURRENT_ONLY .only = ONLY_CURRENT
/* Current layout words (§11.1): Type | Mode << 16, Count, BufferSizeInBytes,
 * Threshold, TimeBasis, SystemTime low @20, high @24, ignored bytes 28..31. */
#define INIT_CUR(type, mode, count, bytes, threshold, basis) \
    .raw = true, .w = {(type) | (mode) << 16, (count), (bytes), (threshold), (basis), ST_LO, ST_HI, 0}
/* §11.2: Type, Index, PartitionId. */
#define PID_LO(pid) ((uint32_t)(pid))
#define PID_HI(pid) ((uint32_t)((uint64_t)(pid) >> 32))
#define MAP_CUR(type, index, pid) .raw = true, .w = {(type), (index), PID_LO(pid), PID_HI(pid)}
#define SYSDIAG HvEventLogTypeSystemDiagnostics /* 2: a type of the current profile (D6) */
#define SELF HV_PARTITION_ID_SELF

static const struct row rows[] = {
    /* ==== §5.1 HvInitializeEventLogBufferGroup ==== */
    ROW(init_by_child_partition_is_access_denied_and_changes_nothing,
        S_NONE, CHILD, INIT, ACCESS_DENIED, INIT_OK(LOCAL)),
    ROW(init_by_child_with_invalid_type_is_access_denied_not_invalid_parameter,
        S_NONE, CHILD, INIT, ACCESS_DENIED, INIT_OK(2)),
    ROW(init_by_child_with_zero_buffer_count_is_access_denied_not_invalid_parameter,
        S_NONE, CHILD, INIT, ACCESS_DENIED, .w = {LOCAL, 0, PAGES, THRESHOLD, 0}),
    ROW(init_by_child_of_initialized_group_is_access_denied_not_object_in_use,
        S_GROUP, CHILD, INIT, ACCESS_DENIED, INIT_OK(LOCAL)),
    ROW(init_by_child_with_empty_pool_is_access_denied_not_insufficient_memory,
        S_POOL_EMPTY, CHILD, INIT, ACCESS_DENIED, INIT_OK(LOCAL)),
    ROW(init_of_type_2_is_invalid_parameter_and_initializes_nothing,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, INIT_OK(2)),
    ROW(init_of_type_3_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, INIT_OK(3)),
    ROW(init_of_type_0xffffffff_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, INIT_OK(0xFFFFFFFFu)),
    ROW(init_with_maximum_buffer_count_0_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, 0, PAGES, 1, 0}),
    ROW(init_with_maximum_buffer_count_513_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, 513, PAGES, 1, 0}),
    ROW(init_with_maximum_buffer_count_0xffffffff_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, 0xFFFFFFFFu, PAGES, 1, 0}),
    ROW(init_with_buffer_pages_0_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, COUNT, 0, 1, 0}),
    ROW(init_with_buffer_pages_513_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, COUNT, 513, 1, 0}),
    ROW(init_with_buffer_pages_0x80000000_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, COUNT, 0x80000000u, 1, 0}),
    ROW(init_with_threshold_0_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, COUNT, PAGES, 0, 0}),
    ROW(init_with_threshold_above_buffer_count_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, COUNT, PAGES, COUNT + 1, 0}),
    ROW(init_with_threshold_0xffffffff_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, 512, PAGES, 0xFFFFFFFFu, 0}),
    /* §11.5: QPC (2) is a time basis of the current profile. */
    ROW(init_with_time_basis_2_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, COUNT, PAGES, 1, 2, 0, ST_LO, ST_HI},
        CUR_OK(effect_init)),
    ROW(init_with_time_basis_3_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, COUNT, PAGES, 1, 3}),
    ROW(init_with_time_basis_0xffffffff_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, COUNT, PAGES, 1, 0xFFFFFFFFu}),
    ROW(init_of_initialized_group_is_object_in_use_and_keeps_its_geometry,
        S_GROUP, ROOT, INIT, OBJECT_IN_USE, INIT_OK(LOCAL)),
    ROW(init_of_initialized_group_with_other_geometry_is_object_in_use,
        S_GROUP, ROOT, INIT, OBJECT_IN_USE, .w = {LOCAL, 512, 512, 512, 1, 0, 1, 2}),
    ROW(init_of_initialized_group_with_buffers_is_object_in_use,
        S_READY, ROOT, INIT, OBJECT_IN_USE, INIT_OK(LOCAL)),
    ROW(init_of_initialized_group_with_bad_count_reports_invalid_parameter_first,
        S_GROUP, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, 0, PAGES, 1, 0}),
    ROW(init_of_initialized_group_with_empty_pool_is_object_in_use_first,
        S_GROUP_POOL_EMPTY, ROOT, INIT, OBJECT_IN_USE, INIT_OK(LOCAL)),
    ROW(init_with_empty_pool_is_insufficient_memory,
        S_POOL_EMPTY, ROOT, INIT, INSUFFICIENT_MEMORY, INIT_OK(LOCAL)),
    ROW(init_when_the_pool_allocation_fails_is_insufficient_memory,
        S_ALLOC_FAILS, ROOT, INIT, INSUFFICIENT_MEMORY, INIT_OK(GLOBAL)),
    /* §11.5: basis 2 is valid in the current profile, so only the pool fails. */
    ROW(init_with_empty_pool_and_bad_time_basis_reports_invalid_parameter_first,
        S_POOL_EMPTY, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, COUNT, PAGES, 1, 2},
        CUR(INSUFFICIENT_MEMORY)),
    ROW(init_with_empty_pool_and_time_basis_3_reports_invalid_parameter_first,
        S_POOL_EMPTY, ROOT, INIT, INVALID_PARAMETER, .w = {LOCAL, COUNT, PAGES, 1, 3}),
    ROW(init_with_threshold_0_succeeds_under_threshold_zero_knob,
        S_NONE, ROOT, INIT, SUCCESS, .knob = K_THRESHOLD_ZERO,
        .w = {LOCAL, COUNT, PAGES, 0, 0, 0, ST_LO, ST_HI}, .effect = effect_init),
    ROW(init_with_threshold_above_count_is_invalid_parameter_even_under_threshold_zero_knob,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, .knob = K_THRESHOLD_ZERO,
        .w = {LOCAL, COUNT, PAGES, COUNT + 1, 0}),
    ROW(init_with_smallest_geometry_succeeds_and_takes_exactly_one_pool_page,
        S_NONE, ROOT, INIT, SUCCESS, .w = {LOCAL, 1, 1, 1, 0, 0, ST_LO, ST_HI},
        .effect = effect_init),
    ROW(init_with_largest_geometry_succeeds_and_takes_exactly_one_pool_page,
        S_NONE, ROOT, INIT, SUCCESS, .w = {LOCAL, 512, 512, 512, 1, 0, ST_LO, ST_HI},
        .effect = effect_init),
    ROW(init_of_global_type_succeeds_and_takes_exactly_one_pool_page,
        S_NONE, ROOT, INIT, SUCCESS, .w = {GLOBAL, COUNT, PAGES, 1, 1, 0, 0, 0},
        .effect = effect_init),
    ROW(init_of_global_type_beside_initialized_local_type_succeeds,
        S_GROUP, ROOT, INIT, SUCCESS, INIT_OK(GLOBAL), .effect = effect_init),
    ROW(init_with_a_one_page_pool_succeeds,
        S_POOL_ONE, ROOT, INIT, SUCCESS, INIT_OK(LOCAL), .effect = effect_init),

    /* ==== §5.2 HvFinalizeEventLogBufferGroup ==== */
    ROW(finalize_by_child_partition_is_access_denied_and_changes_nothing,
        S_GROUP, CHILD, FINALIZE, ACCESS_DENIED, .w = {LOCAL}),
    ROW(finalize_by_child_of_uninitialized_group_is_access_denied_not_operation_denied,
        S_NONE, CHILD, FINALIZE, ACCESS_DENIED, .w = {LOCAL}),
    ROW(finalize_by_child_with_invalid_type_is_access_denied_not_invalid_parameter,
        S_NONE, CHILD, FINALIZE, ACCESS_DENIED, .w = {2}),
    ROW(finalize_by_partition_id_0_is_access_denied,
        S_GROUP, PID_INVALID, FINALIZE, ACCESS_DENIED, .w = {LOCAL}),
    ROW(finalize_by_partition_id_self_is_access_denied,
        S_GROUP, PID_SELF, FINALIZE, ACCESS_DENIED, .w = {LOCAL}),
    /* D6: type 2 exists in the current profile; it is the hypervisor's
     * (§11.6) and not initialized here: the group rows answer. */
    ROW(finalize_of_type_2_is_invalid_parameter,
        S_GROUP, ROOT, FINALIZE, INVALID_PARAMETER, .w = {2}, CUR(OPERATION_DENIED)),
    ROW(finalize_of_type_0xffffffff_is_invalid_parameter,
        S_GROUP, ROOT, FINALIZE, INVALID_PARAMETER, .w = {0xFFFFFFFFu}),
    ROW(finalize_of_uninitialized_group_is_operation_denied,
        S_NONE, ROOT, FINALIZE, OPERATION_DENIED, .w = {LOCAL}),
    ROW(finalize_of_the_other_uninitialized_type_is_operation_denied,
        S_GROUP, ROOT, FINALIZE, OPERATION_DENIED, .w = {GLOBAL}),
    ROW(finalize_with_non_zero_source_mask_is_operation_denied,
        S_GROUP_ENABLED, ROOT, FINALIZE, OPERATION_DENIED, .w = {LOCAL}),
    ROW(finalize_with_a_standby_buffer_is_operation_denied,
        S_STANDBY, ROOT, FINALIZE, OPERATION_DENIED, .w = {LOCAL}),
    ROW(finalize_with_a_free_buffer_is_operation_denied,
        S_FREE, ROOT, FINALIZE, OPERATION_DENIED, .w = {LOCAL}),
    ROW(finalize_with_a_ready_buffer_is_operation_denied,
        S_READY, ROOT, FINALIZE, OPERATION_DENIED, .w = {LOCAL}),
    ROW(finalize_of_initialized_group_succeeds_and_returns_its_bookkeeping_page,
        S_GROUP, ROOT, FINALIZE, SUCCESS, .w = {LOCAL}, .effect = effect_finalize),
    ROW(finalize_of_global_group_succeeds_and_returns_its_bookkeeping_page,
        S_GROUP_GLOBAL, ROOT, FINALIZE, SUCCESS, .w = {GLOBAL}, .effect = effect_finalize),
    ROW(finalize_after_the_last_buffer_was_deleted_succeeds,
        S_DELETED, ROOT, FINALIZE, SUCCESS, .w = {LOCAL}, .effect = effect_finalize),

    /* ==== §5.3 HvCreateEventLogBuffer ==== */
    ROW(create_by_child_partition_is_access_denied_and_changes_nothing,
        S_GROUP, CHILD, CREATE, ACCESS_DENIED, .w = {LOCAL, 0, 0, 0}),
    ROW(create_by_child_in_uninitialized_group_is_access_denied_not_operation_denied,
        S_NONE, CHILD, CREATE, ACCESS_DENIED, .w = {LOCAL, 0, 0, 0}),
    ROW(create_by_child_with_invalid_type_is_access_denied_not_invalid_parameter,
        S_NONE, CHILD, CREATE, ACCESS_DENIED, .w = {2, 0, 0, 0}),
    ROW(create_by_child_of_existing_index_is_access_denied_not_invalid_parameter,
        S_STANDBY, CHILD, CREATE, ACCESS_DENIED, .w = {LOCAL, 0, 0, 0}),
    ROW(create_by_partition_id_0_is_access_denied,
        S_GROUP, PID_INVALID, CREATE, ACCESS_DENIED, .w = {LOCAL, 0, 0, 0}),
    ROW(create_of_type_2_is_invalid_parameter, /* D6, §11.6 */
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {2, 0, 0, 0}, CUR(OPERATION_DENIED)),
    ROW(create_of_type_0xffffffff_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {0xFFFFFFFFu, 0, 0, 0}),
    ROW(create_in_uninitialized_group_is_operation_denied,
        S_NONE, ROOT, CREATE, OPERATION_DENIED, .w = {LOCAL, 0, 0, 0}),
    ROW(create_in_uninitialized_group_with_reserved_flags_is_operation_denied_first,
        S_NONE, ROOT, CREATE, OPERATION_DENIED, .w = {LOCAL, 0, 0, 0x7FFFFFFEu}),
    ROW(create_with_proximity_flag_bit_1_set_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, 0, 0x2}),
    ROW(create_with_proximity_flag_bit_30_set_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, 0, 0x40000000u}),
    ROW(create_with_all_reserved_proximity_flags_set_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, 0, 0x7FFFFFFEu}),
    ROW(create_with_every_proximity_flag_set_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, 0, 0xFFFFFFFFu}),
    ROW(create_with_reserved_flag_beside_valid_known_domain_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, 0, VALID | 0x100}),
    ROW(create_with_valid_unknown_domain_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, DOMAINS, VALID}),
    ROW(create_with_valid_preferred_unknown_domain_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, 7, VALID | PREFERRED}),
    ROW(create_with_valid_domain_0xffffffff_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, 0xFFFFFFFFu, VALID}),
    ROW(create_with_index_equal_to_maximum_count_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, COUNT, 0, 0}),
    ROW(create_with_index_0xffffffff_is_invalid_parameter,
        S_GROUP, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, NO_INDEX, 0, 0}),
    ROW(create_of_existing_standby_index_is_invalid_parameter,
        S_STANDBY, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, 0, 0}),
    ROW(create_of_existing_ready_index_is_invalid_parameter,
        S_READY, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, 0, 0}),
    ROW(create_of_existing_index_with_empty_pool_is_invalid_parameter_first,
        S_STANDBY_POOL_EMPTY, ROOT, CREATE, INVALID_PARAMETER, .w = {LOCAL, 0, 0, 0}),
    ROW(create_with_empty_pool_is_insufficient_memory,
        S_GROUP_POOL_EMPTY, ROOT, CREATE, INSUFFICIENT_MEMORY, .w = {LOCAL, 0, 0, 0}),
    ROW(create_with_pool_smaller_than_buffer_pages_is_insufficient_memory,
        S_GROUP_POOL_SHORT, ROOT, CREATE, INSUFFICIENT_MEMORY, .w = {LOCAL, 1, 0, 0}),
    ROW(create_when_the_pool_allocation_fails_is_insufficient_memory,
        S_GROUP_ALLOC_FAILS, ROOT, CREATE, INSUFFICIENT_MEMORY, .w = {LOCAL, 2, 0, 0}),
    ROW(create_from_required_domain_with_empty_domain_pool_is_insufficient_memory,
        S_GROUP_DOMAIN1_EMPTY, ROOT, CREATE, INSUFFICIENT_MEMORY, .w = {LOCAL, 0, 1, VALID}),
    ROW(create_succeeds_standby_with_initialized_header_and_takes_buffer_pages,
        S_GROUP, ROOT, CREATE, SUCCESS, .w = {LOCAL, 0, 0, 0}, .effect = effect_create),
    ROW(create_of_the_last_index_succeeds,
        S_GROUP, ROOT, CREATE, SUCCESS, .w = {LOCAL, COUNT - 1, 0, 0}, .effect = effect_create),
    ROW(create_with_valid_known_domain_takes_pages_from_that_domain,
        S_GROUP, ROOT, CREATE, SUCCESS, .w = {LOCAL, 1, 1, VALID}, .effect = effect_create),
    ROW(create_with_preferred_domain_falls_back_when_that_domain_is_empty,
        S_GROUP_DOMAIN1_EMPTY, ROOT, CREATE, SUCCESS, .w = {LOCAL, 0, 1, VALID | PREFERRED},
        .effect = effect_create),
    ROW(create_ignores_the_domain_id_when_valid_is_clear,
        S_GROUP, ROOT, CREATE, SUCCESS, .w = {LOCAL, 0, 9, PREFERRED}, .effect = effect_create),
    ROW(create_in_global_group_succeeds_with_logger_id_0,
        S_GROUP_GLOBAL, ROOT, CREATE, SUCCESS, .w = {GLOBAL, 0, 0, 0}, .effect = effect_create),
    ROW(create_while_logging_is_enabled_succeeds,
        S_GROUP_ENABLED, ROOT, CREATE, SUCCESS, .w = {LOCAL, 3, 0, 0}, .effect = effect_create),
    ROW(create_of_a_deleted_index_succeeds,
        S_DELETED, ROOT, CREATE, SUCCESS, .w = {LOCAL, 0, 0, 0}, .effect = effect_create),

    /* ==== §5.4 HvDeleteEventLogBuffer ==== */
    ROW(delete_by_child_partition_is_access_denied_and_changes_nothing,
        S_STANDBY, CHILD, DELETE, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(delete_by_child_in_uninitialized_group_is_access_denied_not_operation_denied,
        S_NONE, CHILD, DELETE, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(delete_by_child_with_invalid_type_is_access_denied_not_invalid_parameter,
        S_NONE, CHILD, DELETE, ACCESS_DENIED, .w = {2, 0}),
    ROW(delete_by_child_of_missing_buffer_is_access_denied_not_invalid_parameter,
        S_GROUP, CHILD, DELETE, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(delete_of_type_2_is_invalid_parameter, /* D6, §11.6 */
        S_STANDBY, ROOT, DELETE, INVALID_PARAMETER, .w = {2, 0}, CUR(OPERATION_DENIED)),
    ROW(delete_of_type_0xffffffff_is_invalid_parameter,
        S_STANDBY, ROOT, DELETE, INVALID_PARAMETER, .w = {0xFFFFFFFFu, 0}),
    ROW(delete_in_uninitialized_group_is_operation_denied,
        S_NONE, ROOT, DELETE, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(delete_of_never_created_buffer_is_invalid_parameter,
        S_STANDBY, ROOT, DELETE, INVALID_PARAMETER, .w = {LOCAL, 1}),
    ROW(delete_of_index_equal_to_maximum_count_is_invalid_parameter,
        S_STANDBY, ROOT, DELETE, INVALID_PARAMETER, .w = {LOCAL, COUNT}),
    ROW(delete_of_index_0xffffffff_is_invalid_parameter,
        S_STANDBY, ROOT, DELETE, INVALID_PARAMETER, .w = {LOCAL, NO_INDEX}),
    ROW(delete_of_free_buffer_is_operation_denied,
        S_FREE, ROOT, DELETE, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(delete_of_inuse_buffer_is_operation_denied,
        S_INUSE, ROOT, DELETE, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(delete_of_complete_buffer_is_operation_denied,
        S_COMPLETE, ROOT, DELETE, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(delete_of_ready_buffer_is_operation_denied,
        S_READY, ROOT, DELETE, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(delete_of_standby_buffer_succeeds_and_returns_its_pages,
        S_STANDBY, ROOT, DELETE, SUCCESS, .w = {LOCAL, 0}, .effect = effect_delete),
    ROW(delete_of_unmapped_buffer_succeeds_and_returns_its_pages,
        S_UNMAPPED, ROOT, DELETE, SUCCESS, .w = {LOCAL, 0}, .effect = effect_delete),
    ROW(delete_of_standby_512_page_buffer_returns_512_pages,
        S_STANDBY_512, ROOT, DELETE, SUCCESS, .w = {LOCAL, 0}, .effect = effect_delete),

    /* ==== §5.5 HvMapEventLogBuffer ==== */
    ROW(map_by_child_partition_is_access_denied_and_writes_no_output,
        S_STANDBY, CHILD, MAP, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(map_by_child_in_uninitialized_group_is_access_denied_not_operation_denied,
        S_NONE, CHILD, MAP, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(map_by_child_with_invalid_type_is_access_denied_not_invalid_parameter,
        S_NONE, CHILD, MAP, ACCESS_DENIED, .w = {2, 0}),
    ROW(map_by_child_with_output_crossing_a_page_is_access_denied_before_the_size_is_known,
        S_STANDBY, CHILD, MAP, ACCESS_DENIED, .w = {LOCAL, 0}, .out_gpa = OUT + 4096 - 8),
    ROW(map_of_type_2_is_invalid_parameter, /* D6; no ring started: not initialized */
        S_STANDBY, ROOT, MAP, INVALID_PARAMETER, .w = {2, 0}, CUR(OPERATION_DENIED)),
    ROW(map_of_type_0xffffffff_is_invalid_parameter,
        S_STANDBY, ROOT, MAP, INVALID_PARAMETER, .w = {0xFFFFFFFFu, 0}),
    ROW(map_in_uninitialized_group_is_operation_denied,
        S_NONE, ROOT, MAP, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(map_in_uninitialized_group_with_output_crossing_a_page_is_operation_denied_first,
        S_NONE, ROOT, MAP, OPERATION_DENIED, .w = {LOCAL, 0}, .out_gpa = OUT + 4096 - 8),
    ROW(map_of_never_created_buffer_is_invalid_parameter,
        S_STANDBY, ROOT, MAP, INVALID_PARAMETER, .w = {LOCAL, 1}),
    ROW(map_of_index_equal_to_maximum_count_is_invalid_parameter,
        S_STANDBY, ROOT, MAP, INVALID_PARAMETER, .w = {LOCAL, COUNT}),
    ROW(map_of_index_0xffffffff_is_invalid_parameter,
        S_STANDBY, ROOT, MAP, INVALID_PARAMETER, .w = {LOCAL, NO_INDEX}),
    ROW(map_of_missing_buffer_with_output_crossing_a_page_is_invalid_parameter_first,
        S_GROUP, ROOT, MAP, INVALID_PARAMETER, .w = {LOCAL, 0}, .out_gpa = OUT + 4096 - 8),
    ROW(map_with_two_page_output_crossing_a_page_is_invalid_alignment,
        S_STANDBY, ROOT, MAP, INVALID_ALIGNMENT, .w = {LOCAL, 0}, .out_gpa = OUT + 4096 - 8),
    ROW(map_of_512_page_buffer_with_unaligned_output_page_is_invalid_alignment,
        S_STANDBY_512, ROOT, MAP, INVALID_ALIGNMENT, .w = {LOCAL, 0}, .out_gpa = OUT + 8),
    ROW(map_of_512_page_buffer_with_output_in_last_qword_is_invalid_alignment,
        S_STANDBY_512, ROOT, MAP, INVALID_ALIGNMENT, .w = {LOCAL, 0}, .out_gpa = OUT + 4088),
    ROW(map_with_output_equal_to_input_is_invalid_alignment,
        S_STANDBY, ROOT, MAP, INVALID_ALIGNMENT, .w = {LOCAL, 0}, .in_gpa = IN, .out_gpa = IN),
    ROW(map_with_output_overlapping_the_input_from_below_is_invalid_alignment,
        S_STANDBY, ROOT, MAP, INVALID_ALIGNMENT, .w = {LOCAL, 0}, .in_gpa = IN + 8,
        .out_gpa = IN),
    ROW(map_with_output_overlapping_the_input_from_above_is_invalid_alignment,
        S_STANDBY, ROOT, MAP, INVALID_ALIGNMENT, .w = {LOCAL, 0}, .in_gpa = IN + 16,
        .out_gpa = IN + 8),
    ROW(map_of_free_buffer_with_output_crossing_a_page_is_invalid_alignment_first,
        S_FREE, ROOT, MAP, INVALID_ALIGNMENT, .w = {LOCAL, 0}, .out_gpa = OUT + 4096 - 8),
    ROW(map_of_free_buffer_is_operation_denied,
        S_FREE, ROOT, MAP, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(map_of_inuse_buffer_is_operation_denied,
        S_INUSE, ROOT, MAP, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(map_of_complete_buffer_is_operation_denied,
        S_COMPLETE, ROOT, MAP, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(map_of_ready_buffer_is_operation_denied,
        S_READY, ROOT, MAP, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(map_of_free_buffer_when_overlay_would_fail_is_operation_denied_first,
        S_FREE_OVERLAY_FAILS, ROOT, MAP, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(map_when_the_overlay_cannot_be_built_is_insufficient_memory,
        S_STANDBY_OVERLAY_FAILS, ROOT, MAP, INSUFFICIENT_MEMORY, .w = {LOCAL, 0}),
    ROW(map_of_standby_buffer_succeeds_free_and_writes_exactly_buffer_pages_numbers,
        S_STANDBY, ROOT, MAP, SUCCESS, .w = {LOCAL, 0}, .effect = effect_map),
    ROW(map_with_output_ending_exactly_at_the_page_end_succeeds,
        S_STANDBY, ROOT, MAP, SUCCESS, .w = {LOCAL, 0}, .out_gpa = OUT + 4096 - 16,
        .effect = effect_map),
    /* §11.2: the current Map input is 16 bytes, so IN + 8 overlaps it. */
    ROW(map_with_output_right_after_the_input_succeeds,
        S_STANDBY, ROOT, MAP, SUCCESS, .w = {LOCAL, 0}, .in_gpa = IN, .out_gpa = IN + 8,
        .effect = effect_map, CUR(INVALID_ALIGNMENT)),
    ROW(map_with_output_right_after_a_16_byte_input_succeeds,
        S_STANDBY, ROOT, MAP, SUCCESS, .w = {LOCAL, 0}, .in_gpa = IN, .out_gpa = IN + 16,
        .effect = effect_map),
    ROW(map_with_output_right_before_the_input_succeeds,
        S_STANDBY, ROOT, MAP, SUCCESS, .w = {LOCAL, 0}, .in_gpa = IN + 16, .out_gpa = IN,
        .effect = effect_map),
    ROW(map_of_512_page_buffer_fills_a_page_aligned_output_page,
        S_STANDBY_512, ROOT, MAP, SUCCESS, .w = {LOCAL, 0}, .effect = effect_map),
    ROW(map_of_global_buffer_succeeds,
        S_STANDBY_GLOBAL, ROOT, MAP, SUCCESS, .w = {GLOBAL, 0}, .effect = effect_map),
    ROW(map_of_unmapped_buffer_maps_it_again,
        S_UNMAPPED, ROOT, MAP, SUCCESS, .w = {LOCAL, 0}, .effect = effect_map),

    /* ==== §5.6 HvUnmapEventLogBuffer ==== */
    ROW(unmap_by_child_partition_is_access_denied_and_changes_nothing,
        S_FREE, CHILD, UNMAP, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(unmap_by_child_in_uninitialized_group_is_access_denied_not_operation_denied,
        S_NONE, CHILD, UNMAP, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(unmap_by_child_with_invalid_type_is_access_denied_not_invalid_parameter,
        S_NONE, CHILD, UNMAP, ACCESS_DENIED, .w = {2, 0}),
    ROW(unmap_by_partition_id_self_is_access_denied,
        S_FREE, PID_SELF, UNMAP, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(unmap_of_type_2_is_invalid_parameter, /* D6; no ring started: not initialized */
        S_FREE, ROOT, UNMAP, INVALID_PARAMETER, .w = {2, 0}, CUR(OPERATION_DENIED)),
    ROW(unmap_of_type_0xffffffff_is_invalid_parameter,
        S_FREE, ROOT, UNMAP, INVALID_PARAMETER, .w = {0xFFFFFFFFu, 0}),
    ROW(unmap_in_uninitialized_group_is_operation_denied,
        S_NONE, ROOT, UNMAP, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(unmap_of_never_created_buffer_is_invalid_parameter,
        S_FREE, ROOT, UNMAP, INVALID_PARAMETER, .w = {LOCAL, 1}),
    ROW(unmap_of_index_equal_to_maximum_count_is_invalid_parameter,
        S_FREE, ROOT, UNMAP, INVALID_PARAMETER, .w = {LOCAL, COUNT}),
    ROW(unmap_of_index_0xffffffff_is_invalid_parameter,
        S_FREE, ROOT, UNMAP, INVALID_PARAMETER, .w = {LOCAL, NO_INDEX}),
    ROW(unmap_of_standby_buffer_is_access_denied_and_changes_nothing,
        S_STANDBY, ROOT, UNMAP, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(unmap_of_inuse_buffer_is_access_denied_and_changes_nothing,
        S_INUSE, ROOT, UNMAP, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(unmap_of_complete_buffer_is_access_denied_and_changes_nothing,
        S_COMPLETE, ROOT, UNMAP, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(unmap_of_standby_buffer_is_operation_denied_under_unmap_state_status_knob,
        S_STANDBY, ROOT, UNMAP, OPERATION_DENIED, .knob = K_UNMAP_OPERATION_DENIED,
        .w = {LOCAL, 0}),
    ROW(unmap_of_inuse_buffer_is_operation_denied_under_unmap_state_status_knob,
        S_INUSE, ROOT, UNMAP, OPERATION_DENIED, .knob = K_UNMAP_OPERATION_DENIED,
        .w = {LOCAL, 0}),
    ROW(unmap_of_complete_buffer_is_operation_denied_under_unmap_state_status_knob,
        S_COMPLETE, ROOT, UNMAP, OPERATION_DENIED, .knob = K_UNMAP_OPERATION_DENIED,
        .w = {LOCAL, 0}),
    ROW(unmap_of_missing_buffer_stays_invalid_parameter_under_unmap_state_status_knob,
        S_FREE, ROOT, UNMAP, INVALID_PARAMETER, .knob = K_UNMAP_OPERATION_DENIED,
        .w = {LOCAL, 1}),
    ROW(unmap_by_child_stays_access_denied_under_unmap_state_status_knob,
        S_FREE, CHILD, UNMAP, ACCESS_DENIED, .knob = K_UNMAP_OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(unmap_of_free_buffer_succeeds_standby_and_revokes_the_overlay,
        S_FREE, ROOT, UNMAP, SUCCESS, .w = {LOCAL, 0}, .effect = effect_unmap),
    ROW(unmap_of_ready_buffer_succeeds_standby_and_revokes_the_overlay,
        S_READY, ROOT, UNMAP, SUCCESS, .w = {LOCAL, 0}, .effect = effect_unmap),
    ROW(unmap_of_free_buffer_succeeds_under_unmap_state_status_knob,
        S_FREE, ROOT, UNMAP, SUCCESS, .knob = K_UNMAP_OPERATION_DENIED, .w = {LOCAL, 0},
        .effect = effect_unmap),

    /* ==== §5.7 HvSetEventLogGroupSources ==== */
    ROW(set_sources_by_child_partition_is_access_denied_and_changes_nothing,
        S_GROUP, CHILD, SOURCES, ACCESS_DENIED, .w = {LOCAL, 0, 1, 0}),
    ROW(set_sources_by_child_in_uninitialized_group_is_access_denied_not_operation_denied,
        S_NONE, CHILD, SOURCES, ACCESS_DENIED, .w = {LOCAL, 0, 1, 0}),
    ROW(set_sources_by_child_with_invalid_type_is_access_denied_not_invalid_parameter,
        S_NONE, CHILD, SOURCES, ACCESS_DENIED, .w = {2, 0, 1, 0}),
    /* §11.3: the current SetSources is a memory call, and partition 0 has no
     * GPA space on the fake host: §3.5 step 3 (input out of range) answers
     * before the caller check. */
    ROW(set_sources_by_partition_id_0_is_access_denied,
        S_GROUP, PID_INVALID, SOURCES, ACCESS_DENIED, .w = {LOCAL, 0, 2, 0},
        CUR(INVALID_ALIGNMENT)),
    ROW(set_sources_of_type_2_is_invalid_parameter, /* D6, §11.6 */
        S_GROUP, ROOT, SOURCES, INVALID_PARAMETER, .w = {2, 0, 2, 0}, CUR(OPERATION_DENIED)),
    ROW(set_sources_of_type_0xffffffff_is_invalid_parameter,
        S_GROUP, ROOT, SOURCES, INVALID_PARAMETER, .w = {0xFFFFFFFFu, 0, 0, 0}),
    ROW(set_sources_in_uninitialized_group_is_operation_denied,
        S_NONE, ROOT, SOURCES, OPERATION_DENIED, .w = {LOCAL, 0, 2, 0}),
    ROW(set_sources_to_zero_in_uninitialized_group_is_operation_denied,
        S_NONE, ROOT, SOURCES, OPERATION_DENIED, .w = {LOCAL, 0, 0, 0}),
    ROW(set_sources_of_the_other_uninitialized_type_is_operation_denied,
        S_GROUP, ROOT, SOURCES, OPERATION_DENIED, .w = {GLOBAL, 0, 2, 0}),
    /* §11.3, D5/D7: in the current profile mask bit 0 is the "extended"
     * flag, and only the legacy form (bit 0 clear) is implemented. */
    ROW(set_sources_succeeds_and_replaces_the_mask,
        S_GROUP, ROOT, SOURCES, SUCCESS, .w = {LOCAL, 0, 0x1, 0x1}, .effect = effect_sources,
        CUR(INVALID_PARAMETER)),
    ROW(set_sources_stores_undefined_mask_bits,
        S_GROUP, ROOT, SOURCES, SUCCESS, .w = {LOCAL, 0, 0xFFFFFFFFu, 0xFFFFFFFFu},
        .effect = effect_sources, CUR(INVALID_PARAMETER)),
    ROW(set_sources_with_bit_0_clear_succeeds_and_replaces_the_mask,
        S_GROUP, ROOT, SOURCES, SUCCESS, .w = {LOCAL, 0, 0x2, 0x1}, .effect = effect_sources),
    ROW(set_sources_stores_every_bit_but_bit_0,
        S_GROUP, ROOT, SOURCES, SUCCESS, .w = {LOCAL, 0, 0xFFFFFFFEu, 0xFFFFFFFFu},
        .effect = effect_sources),
    ROW(set_sources_to_zero_disables_the_group,
        S_GROUP_ENABLED, ROOT, SOURCES, SUCCESS, .w = {LOCAL, 0, 0, 0}, .effect = effect_sources),
    ROW(set_sources_to_zero_leaves_the_inuse_buffer_inuse,
        S_INUSE, ROOT, SOURCES, SUCCESS, .w = {LOCAL, 0, 0, 0}, .effect = effect_sources),
    ROW(set_sources_of_global_group_succeeds, /* §11.3: bit 0 is "extended" */
        S_GROUP_GLOBAL, ROOT, SOURCES, SUCCESS, .w = {GLOBAL, 0, 0x3, 0},
        .effect = effect_sources, CUR(INVALID_PARAMETER)),
    ROW(set_sources_of_global_group_with_bit_0_clear_succeeds,
        S_GROUP_GLOBAL, ROOT, SOURCES, SUCCESS, .w = {GLOBAL, 0, 0x6, 0},
        .effect = effect_sources),

    /* ==== §5.8 HvReleaseEventLogBuffer ==== */
    ROW(release_by_child_partition_is_access_denied_and_changes_nothing,
        S_READY, CHILD, RELEASE, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(release_by_child_in_uninitialized_group_is_access_denied_not_operation_denied,
        S_NONE, CHILD, RELEASE, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(release_by_child_with_invalid_type_is_access_denied_not_invalid_parameter,
        S_NONE, CHILD, RELEASE, ACCESS_DENIED, .w = {2, 0}),
    ROW(release_by_partition_id_self_is_access_denied,
        S_READY, PID_SELF, RELEASE, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(release_of_type_2_is_invalid_parameter, /* D6, §11.6 */
        S_READY, ROOT, RELEASE, INVALID_PARAMETER, .w = {2, 0}, CUR(OPERATION_DENIED)),
    ROW(release_of_type_0xffffffff_is_invalid_parameter,
        S_READY, ROOT, RELEASE, INVALID_PARAMETER, .w = {0xFFFFFFFFu, 0}),
    ROW(release_in_uninitialized_group_is_operation_denied,
        S_NONE, ROOT, RELEASE, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(release_of_never_created_buffer_is_operation_denied,
        S_READY, ROOT, RELEASE, OPERATION_DENIED, .w = {LOCAL, 1}),
    ROW(release_of_index_equal_to_maximum_count_is_operation_denied,
        S_READY, ROOT, RELEASE, OPERATION_DENIED, .w = {LOCAL, COUNT}),
    ROW(release_of_index_0xffffffff_is_operation_denied,
        S_READY, ROOT, RELEASE, OPERATION_DENIED, .w = {LOCAL, NO_INDEX}),
    ROW(release_of_standby_buffer_is_operation_denied,
        S_STANDBY, ROOT, RELEASE, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(release_of_free_buffer_is_operation_denied,
        S_FREE, ROOT, RELEASE, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(release_of_inuse_buffer_is_operation_denied,
        S_INUSE, ROOT, RELEASE, OPERATION_DENIED, .w = {LOCAL, 0}),
    /* §12.1: the preset decides; the current profile's turns the knob on (D13). */
    ROW(release_of_complete_buffer_follows_the_profile_preset,
        S_COMPLETE, ROOT, RELEASE, OPERATION_DENIED, .w = {LOCAL, 0},
        CUR_OK(effect_release_complete)),
    ROW(release_of_complete_buffer_is_operation_denied_with_release_from_complete_off,
        S_COMPLETE, ROOT, RELEASE, OPERATION_DENIED, .knob = K_RELEASE_FROM_COMPLETE_OFF,
        .w = {LOCAL, 0}),
    ROW(release_of_inuse_buffer_stays_operation_denied_under_release_from_complete_knob,
        S_INUSE, ROOT, RELEASE, OPERATION_DENIED, .knob = K_RELEASE_FROM_COMPLETE,
        .w = {LOCAL, 0}),
    ROW(release_of_ready_buffer_succeeds_free_with_no_next_index,
        S_READY, ROOT, RELEASE, SUCCESS, .w = {LOCAL, 0}, .effect = effect_release),
    ROW(release_of_complete_buffer_succeeds_under_release_from_complete_knob,
        S_COMPLETE, ROOT, RELEASE, SUCCESS, .knob = K_RELEASE_FROM_COMPLETE, .w = {LOCAL, 0},
        .effect = effect_release_complete),

    /* ==== §5.9 HvFlushEventLogBuffer ==== */
    ROW(flush_by_child_partition_is_access_denied_and_changes_nothing,
        S_INUSE, CHILD, FLUSH, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(flush_by_child_in_uninitialized_group_is_access_denied_not_operation_denied,
        S_NONE, CHILD, FLUSH, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(flush_by_child_with_invalid_type_is_access_denied_not_invalid_parameter,
        S_NONE, CHILD, FLUSH, ACCESS_DENIED, .w = {2, 0}),
    ROW(flush_by_child_of_missing_buffer_is_access_denied_not_invalid_parameter,
        S_GROUP, CHILD, FLUSH, ACCESS_DENIED, .w = {LOCAL, COUNT}),
    ROW(flush_by_partition_id_0_is_access_denied,
        S_COMPLETE, PID_INVALID, FLUSH, ACCESS_DENIED, .w = {LOCAL, 0}),
    ROW(flush_of_type_2_is_invalid_parameter, /* D6, §11.6 */
        S_INUSE, ROOT, FLUSH, INVALID_PARAMETER, .w = {2, 0}, CUR(OPERATION_DENIED)),
    ROW(flush_of_type_0xffffffff_is_invalid_parameter,
        S_INUSE, ROOT, FLUSH, INVALID_PARAMETER, .w = {0xFFFFFFFFu, 0}),
    ROW(flush_in_uninitialized_group_is_operation_denied,
        S_NONE, ROOT, FLUSH, OPERATION_DENIED, .w = {LOCAL, 0}),
    ROW(flush_of_index_equal_to_maximum_count_is_invalid_parameter,
        S_INUSE, ROOT, FLUSH, INVALID_PARAMETER, .w = {LOCAL, COUNT}),
    ROW(flush_of_index_0xffffffff_is_invalid_parameter,
        S_INUSE, ROOT, FLUSH, INVALID_PARAMETER, .w = {LOCAL, NO_INDEX}),
    ROW(flush_of_never_created_buffer_is_invalid_parameter,
        S_INUSE, ROOT, FLUSH, INVALID_PARAMETER, .w = {LOCAL, 1}),
    ROW(flush_of_index_in_empty_group_is_invalid_parameter,
        S_GROUP, ROOT, FLUSH, INVALID_PARAMETER, .w = {LOCAL, 0}),
    ROW(flush_of_standby_buffer_succeeds_and_changes_nothing,
        S_STANDBY, ROOT, FLUSH, SUCCESS, .w = {LOCAL, 0}),
    ROW(flush_of_free_buffer_succeeds_and_changes_nothing,
        S_FREE, ROOT, FLUSH, SUCCESS, .w = {LOCAL, 0}),
    ROW(flush_of_ready_buffer_succeeds_and_changes_nothing,
        S_READY, ROOT, FLUSH, SUCCESS, .w = {LOCAL, 0}),
    ROW(flush_of_inuse_buffer_makes_it_ready_and_posts_one_message,
        S_INUSE, ROOT, FLUSH, SUCCESS, .w = {LOCAL, 0}, .effect = effect_flush_notifies),
    ROW(flush_of_complete_buffer_below_threshold_makes_it_ready_and_posts_one_message,
        S_COMPLETE, ROOT, FLUSH, SUCCESS, .w = {LOCAL, 0}, .effect = effect_flush_notifies),

    /* ==== §11 current profile only: rows the 2013 ABI cannot express ==== */

    /* §11.1 Initialize: Mode (checked right after Type), BufferSizeInBytes. */
    ROW(init_with_mode_2_is_invalid_parameter_and_initializes_nothing,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(LOCAL, 2, COUNT, PAGES * 4096, THRESHOLD, 0)),
    ROW(init_with_mode_0xffff_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(LOCAL, 0xFFFF, COUNT, PAGES * 4096, THRESHOLD, 0)),
    ROW(init_with_mode_2_of_initialized_group_is_invalid_parameter_not_object_in_use,
        S_GROUP, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(LOCAL, 2, COUNT, PAGES * 4096, THRESHOLD, 0)),
    ROW(init_with_mode_2_and_empty_pool_is_invalid_parameter_not_insufficient_memory,
        S_POOL_EMPTY, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(GLOBAL, 2, COUNT, PAGES * 4096, THRESHOLD, 0)),
    ROW(init_by_child_with_mode_2_is_access_denied,
        S_NONE, CHILD, INIT, ACCESS_DENIED, CURRENT_ONLY,
        INIT_CUR(LOCAL, 2, COUNT, PAGES * 4096, THRESHOLD, 0)),
    ROW(init_of_type_3_with_mode_2_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(3, 2, COUNT, PAGES * 4096, THRESHOLD, 0)),
    ROW(init_in_circular_mode_succeeds_and_records_the_mode,
        S_NONE, ROOT, INIT, SUCCESS, CURRENT_ONLY, .effect = effect_init,
        INIT_CUR(LOCAL, 1, COUNT, PAGES * 4096, THRESHOLD, 0)),
    ROW(init_of_global_type_in_circular_mode_succeeds,
        S_NONE, ROOT, INIT, SUCCESS, CURRENT_ONLY, .effect = effect_init,
        INIT_CUR(GLOBAL, 1, COUNT, PAGES * 4096, THRESHOLD, 1)),
    ROW(init_with_buffer_size_1_byte_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY, INIT_CUR(LOCAL, 0, COUNT, 1, 1, 0)),
    ROW(init_with_buffer_size_4095_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(LOCAL, 0, COUNT, 4095, 1, 0)),
    ROW(init_with_buffer_size_4097_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(LOCAL, 0, COUNT, 4097, 1, 0)),
    ROW(init_with_buffer_size_2_mib_plus_8_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(LOCAL, 0, COUNT, 2097160, 1, 0)),
    ROW(init_with_buffer_size_2_mib_plus_a_page_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(LOCAL, 0, COUNT, 2097152 + 4096, 1, 0)),
    ROW(init_with_buffer_size_0xfffff000_is_invalid_parameter,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(LOCAL, 0, COUNT, 0xFFFFF000u, 1, 0)),
    ROW(init_with_buffer_size_of_2_mib_succeeds_as_512_pages,
        S_NONE, ROOT, INIT, SUCCESS, CURRENT_ONLY, .effect = effect_init,
        INIT_CUR(LOCAL, 0, 1, 2097152, 1, 2)),
    ROW(init_ignores_bytes_28_to_31_of_the_padded_block,
        S_NONE, ROOT, INIT, SUCCESS, CURRENT_ONLY, .effect = effect_init, .raw = true,
        .w = {LOCAL, COUNT, PAGES * 4096, THRESHOLD, 1, ST_LO, ST_HI, 0xFFFFFFFFu}),
    ROW(init_of_system_diagnostics_is_invalid_parameter_even_with_a_valid_geometry,
        S_NONE, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(SYSDIAG, 0, COUNT, PAGES * 4096, THRESHOLD, 0)),
    ROW(init_of_system_diagnostics_with_its_ring_running_is_invalid_parameter,
        S_RING, ROOT, INIT, INVALID_PARAMETER, CURRENT_ONLY,
        INIT_CUR(SYSDIAG, 0, COUNT, PAGES * 4096, THRESHOLD, 0)),

    /* §11.2 Map and Unmap: PartitionId is SELF or the root's id, checked
     * right after the Type row (before "group not initialized"). */
    ROW(map_with_partition_id_0_is_invalid_partition_id_and_writes_no_output,
        S_STANDBY, ROOT, MAP, INVALID_PARTITION_ID, CURRENT_ONLY, MAP_CUR(LOCAL, 0, 0)),
    ROW(map_naming_a_child_partition_is_invalid_partition_id,
        S_STANDBY, ROOT, MAP, INVALID_PARTITION_ID, CURRENT_ONLY,
        MAP_CUR(LOCAL, 0, FAKE_CHILD_ID)),
    ROW(map_naming_self_minus_1_is_invalid_partition_id,
        S_STANDBY, ROOT, MAP, INVALID_PARTITION_ID, CURRENT_ONLY, MAP_CUR(LOCAL, 0, SELF - 1)),
    ROW(map_with_bad_partition_in_uninitialized_group_is_invalid_partition_id_first,
        S_NONE, ROOT, MAP, INVALID_PARTITION_ID, CURRENT_ONLY, MAP_CUR(LOCAL, 0, 0)),
    ROW(map_with_bad_partition_of_missing_buffer_is_invalid_partition_id_first,
        S_STANDBY, ROOT, MAP, INVALID_PARTITION_ID, CURRENT_ONLY, MAP_CUR(LOCAL, 3, 0)),
    ROW(map_with_bad_partition_of_free_buffer_is_invalid_partition_id_first,
        S_FREE, ROOT, MAP, INVALID_PARTITION_ID, CURRENT_ONLY, MAP_CUR(LOCAL, 0, 0)),
    ROW(map_with_bad_partition_and_output_crossing_a_page_is_invalid_partition_id_first,
        S_STANDBY, ROOT, MAP, INVALID_PARTITION_ID, CURRENT_ONLY, MAP_CUR(LOCAL, 0, 0),
        .out_gpa = OUT + 4096 - 8),
    ROW(map_with_bad_partition_and_type_3_is_invalid_parameter,
        S_STANDBY, ROOT, MAP, INVALID_PARAMETER, CURRENT_ONLY, MAP_CUR(3, 0, 0)),
    ROW(map_by_child_with_bad_partition_is_access_denied,
        S_STANDBY, CHILD, MAP, ACCESS_DENIED, CURRENT_ONLY, MAP_CUR(LOCAL, 0, 0)),
    ROW(map_naming_the_root_by_its_id_succeeds,
        S_STANDBY, ROOT, MAP, SUCCESS, CURRENT_ONLY, MAP_CUR(LOCAL, 0, FAKE_ROOT_ID),
        .effect = effect_map),
    ROW(unmap_with_partition_id_0_is_invalid_partition_id,
        S_FREE, ROOT, UNMAP, INVALID_PARTITION_ID, CURRENT_ONLY, MAP_CUR(LOCAL, 0, 0)),
    ROW(unmap_naming_a_child_partition_is_invalid_partition_id,
        S_READY, ROOT, UNMAP, INVALID_PARTITION_ID, CURRENT_ONLY,
        MAP_CUR(LOCAL, 0, FAKE_CHILD_ID)),
    ROW(unmap_with_bad_partition_in_uninitialized_group_is_invalid_partition_id_first,
        S_NONE, ROOT, UNMAP, INVALID_PARTITION_ID, CURRENT_ONLY, MAP_CUR(LOCAL, 0, 0)),
    ROW(unmap_with_bad_partition_of_standby_buffer_is_invalid_partition_id_first,
        S_STANDBY, ROOT, UNMAP, INVALID_PARTITION_ID, CURRENT_ONLY, MAP_CUR(LOCAL, 0, 0)),
    ROW(unmap_with_bad_partition_and_type_3_is_invalid_parameter,
        S_FREE, ROOT, UNMAP, INVALID_PARAMETER, CURRENT_ONLY, MAP_CUR(3, 0, 0)),
    ROW(unmap_by_child_with_bad_partition_is_access_denied,
        S_FREE, CHILD, UNMAP, ACCESS_DENIED, CURRENT_ONLY, MAP_CUR(LOCAL, 0, 0)),
    ROW(unmap_naming_the_root_by_its_id_succeeds,
        S_FREE, ROOT, UNMAP, SUCCESS, CURRENT_ONLY, MAP_CUR(LOCAL, 0, FAKE_ROOT_ID),
        .effect = effect_unmap),

    /* §11.3 SetSources: GroupCount 0 and ConfigurationFlags bit 0 clear,
     * checked right after the Type row. */
    ROW(set_sources_with_group_count_1_is_invalid_parameter,
        S_GROUP, ROOT, SOURCES, INVALID_PARAMETER, CURRENT_ONLY, .w = {LOCAL, 1, 0x2, 0}),
    ROW(set_sources_with_group_count_0xffffffff_is_invalid_parameter,
        S_GROUP_ENABLED, ROOT, SOURCES, INVALID_PARAMETER, CURRENT_ONLY,
        .w = {LOCAL, 0xFFFFFFFFu, 0, 0}),
    ROW(set_sources_with_extended_flag_is_invalid_parameter,
        S_GROUP, ROOT, SOURCES, INVALID_PARAMETER, CURRENT_ONLY, .w = {LOCAL, 0, 0x1, 0}),
    ROW(set_sources_with_group_count_in_uninitialized_group_is_invalid_parameter_first,
        S_NONE, ROOT, SOURCES, INVALID_PARAMETER, CURRENT_ONLY, .w = {LOCAL, 1, 0x2, 0}),
    ROW(set_sources_with_extended_flag_in_uninitialized_group_is_invalid_parameter_first,
        S_NONE, ROOT, SOURCES, INVALID_PARAMETER, CURRENT_ONLY, .w = {LOCAL, 0, 0x1, 0}),
    ROW(set_sources_by_child_with_group_count_is_access_denied,
        S_GROUP, CHILD, SOURCES, ACCESS_DENIED, CURRENT_ONLY, .w = {LOCAL, 1, 0x1, 0}),
    ROW(set_sources_with_mode_bits_7_1_and_no_extended_flag_stores_them_as_a_mask,
        S_GROUP, ROOT, SOURCES, SUCCESS, CURRENT_ONLY, .w = {LOCAL, 0, 0xFE, 0},
        .effect = effect_sources),

    /* §11.6 SystemDiagnostics: the root may only Map and Unmap the ring. */
    ROW(finalize_of_system_diagnostics_ring_is_operation_denied,
        S_RING, ROOT, FINALIZE, OPERATION_DENIED, CURRENT_ONLY, .w = {SYSDIAG}),
    ROW(create_in_system_diagnostics_ring_is_operation_denied,
        S_RING, ROOT, CREATE, OPERATION_DENIED, CURRENT_ONLY, .w = {SYSDIAG, 3, 0, 0}),
    ROW(delete_of_system_diagnostics_buffer_is_operation_denied,
        S_RING, ROOT, DELETE, OPERATION_DENIED, CURRENT_ONLY, .w = {SYSDIAG, 0}),
    ROW(set_sources_of_system_diagnostics_ring_is_operation_denied,
        S_RING, ROOT, SOURCES, OPERATION_DENIED, CURRENT_ONLY, .w = {SYSDIAG, 0, 0, 0}),
    ROW(release_of_system_diagnostics_buffer_is_operation_denied,
        S_RING_MAPPED, ROOT, RELEASE, OPERATION_DENIED, CURRENT_ONLY, .w = {SYSDIAG, 0}),
    ROW(flush_of_system_diagnostics_buffer_is_operation_denied,
        S_RING_MAPPED, ROOT, FLUSH, OPERATION_DENIED, CURRENT_ONLY, .w = {SYSDIAG, 0}),
    ROW(map_of_system_diagnostics_buffer_already_mapped_is_operation_denied,
        S_RING_MAPPED, ROOT, MAP, OPERATION_DENIED, CURRENT_ONLY, .w = {SYSDIAG, 0}),
    ROW(map_of_system_diagnostics_index_beyond_the_ring_is_invalid_parameter,
        S_RING, ROOT, MAP, INVALID_PARAMETER, CURRENT_ONLY, .w = {SYSDIAG, 2}),
    ROW(map_of_system_diagnostics_buffer_with_bad_partition_is_invalid_partition_id,
        S_RING, ROOT, MAP, INVALID_PARTITION_ID, CURRENT_ONLY, MAP_CUR(SYSDIAG, 0, 0)),
    ROW(unmap_of_system_diagnostics_buffer_not_mapped_is_access_denied,
        S_RING_MAPPED, ROOT, UNMAP, ACCESS_DENIED, CURRENT_ONLY, .w = {SYSDIAG, 1}),
    ROW(unmap_of_system_diagnostics_buffer_not_mapped_follows_unmap_state_status_knob,
        S_RING, ROOT, UNMAP, OPERATION_DENIED, CURRENT_ONLY, .knob = K_UNMAP_OPERATION_DENIED,
        .w = {SYSDIAG, 0}),
    ROW(unmap_of_system_diagnostics_index_beyond_the_ring_is_invalid_parameter,
        S_RING_MAPPED, ROOT, UNMAP, INVALID_PARAMETER, CURRENT_ONLY, .w = {SYSDIAG, 2}),
    ROW(map_of_system_diagnostics_by_child_is_access_denied,
        S_RING, CHILD, MAP, ACCESS_DENIED, CURRENT_ONLY, .w = {SYSDIAG, 0}),
};

#define ROW_COUNT (sizeof rows / sizeof rows[0])

/* ---- arranging a setup ------------------------------------------------------------ */

static void empty_pool(struct fake_host *h, int64_t pages_per_domain)
{
    for (uint32_t d = 0; d < FAKE_MAX_DOMAINS; d++)
        h->pool_free[d] = pages_per_domain;
}

static void arrange(struct fake_host *h, enum setup s)
{
    switch (s) {
    case S_NONE:
        return;
    case S_POOL_EMPTY:
        empty_pool(h, 0);
        return;
    case S_POOL_ONE:
        empty_pool(h, 0);
        h->pool_free[1] = 1;
        return;
    case S_ALLOC_FAILS:
        h->fail_alloc_after = 1;
        return;
    case S_GROUP_GLOBAL:
        assert_int_equal(fake_init(h, GLOBAL, COUNT, PAGES, THRESHOLD, 0), SUCCESS);
        return;
    case S_STANDBY_GLOBAL:
        arrange(h, S_GROUP_GLOBAL);
        assert_int_equal(fake_create(h, GLOBAL, 0, 0, 0), SUCCESS);
        return;
    case S_STANDBY_512:
        assert_int_equal(fake_init(h, LOCAL, COUNT, 512, 1, 0), SUCCESS);
        assert_int_equal(fake_create(h, LOCAL, 0, 0, 0), SUCCESS);
        return;
    case S_RING:
    case S_RING_MAPPED:
        assert_true(fake_current(h));
        assert_int_equal(hvlog_engine_system_diag_start(h->engine, 2, 1, FAKE_ALL_SOURCES), 0);
        if (s == S_RING_MAPPED)
            assert_int_equal(fake_map(h, SYSDIAG, 0, NULL), SUCCESS);
        return;
    default:
        break;
    }

    /* Everything else builds on the standard LOCAL group. */
    assert_int_equal(fake_init(h, LOCAL, COUNT, PAGES, THRESHOLD, 0), SUCCESS);
    switch (s) {
    case S_GROUP:
        return;
    case S_GROUP_ENABLED:
        assert_int_equal(fake_sources(h, LOCAL, FAKE_ALL_SOURCES), SUCCESS);
        return;
    case S_GROUP_POOL_EMPTY:
        empty_pool(h, 0);
        return;
    case S_GROUP_POOL_SHORT:
        empty_pool(h, PAGES - 1);
        return;
    case S_GROUP_DOMAIN1_EMPTY:
        h->pool_free[1] = 0;
        return;
    case S_GROUP_ALLOC_FAILS:
        h->fail_alloc_after = 1;
        return;
    default:
        break;
    }

    assert_int_equal(fake_create(h, LOCAL, 0, 0, 0), SUCCESS);
    switch (s) {
    case S_STANDBY:
        return;
    case S_DELETED:
        assert_int_equal(fake_delete(h, LOCAL, 0), SUCCESS);
        return;
    case S_STANDBY_POOL_EMPTY:
        empty_pool(h, 0);
        return;
    case S_STANDBY_OVERLAY_FAILS:
        h->fail_overlay_after = 1;
        return;
    default:
        break;
    }

    assert_int_equal(fake_map(h, LOCAL, 0, NULL), SUCCESS);
    assert_int_equal(fake_state(h, LOCAL, 0), HvEventLogBufferStateFree);
    switch (s) {
    case S_FREE:
        return;
    case S_UNMAPPED:
        assert_int_equal(fake_unmap(h, LOCAL, 0), SUCCESS);
        return;
    case S_FREE_OVERLAY_FAILS:
        h->fail_overlay_after = 1;
        return;
    default:
        break;
    }

    assert_int_equal(fake_sources(h, LOCAL, FAKE_ALL_SOURCES), SUCCESS);
    switch (s) {
    case S_INUSE:
        assert_int_equal(fake_log(h, 0, LOCAL, 16, 1), HVLOG_LOG_RECORDED);
        assert_int_equal(fake_state(h, LOCAL, 0), HvEventLogBufferStateInUse);
        return;
    case S_COMPLETE:
    case S_READY:
        /* One entry that fills the buffer exactly: completed at once (§7.3
         * step 6); threshold 2 keeps the list from being notified. */
        assert_int_equal(fake_log(h, 0, LOCAL, FILL_PAYLOAD, 1), HVLOG_LOG_RECORDED);
        assert_int_equal(fake_state(h, LOCAL, 0), HvEventLogBufferStateComplete);
        assert_int_equal(fake_queued(h, 0), 0);
        if (s == S_READY) {
            assert_int_equal(fake_flush(h, LOCAL, 0), SUCCESS);
            assert_int_equal(fake_state(h, LOCAL, 0), HvEventLogBufferStateReady);
            assert_int_equal(fake_queued(h, 0), 1);
        }
        return;
    default:
        fail_msg("unknown setup %d", (int)s);
    }
}

/* ---- running a row ------------------------------------------------------------------ */

static struct hvlog_profile knob_profile(enum knob k)
{
    struct hvlog_profile p = fake_profile_default();

    switch (k) {
    case K_UNMAP_OPERATION_DENIED:
        p.unmap_state_status = HV_STATUS_OPERATION_DENIED;
        break;
    case K_THRESHOLD_ZERO:
        p.threshold_zero = true;
        break;
    case K_RELEASE_FROM_COMPLETE:
        p.release_from_complete = true;
        break;
    case K_RELEASE_FROM_COMPLETE_OFF:
        p.release_from_complete = false;
        break;
    default:
        break;
    }
    return p;
}

static int host_down(void **state)
{
    (void)state;
    if (H.engine)
        fake_host_fini(&H);
    return 0;
}

static void run_row(void **state)
{
    const struct row *r = *state;
    struct hvlog_profile profile = knob_profile(r->knob);
    uint64_t partition = caller_id(r->caller);
    struct hvlog_caller caller = {.partition_id = partition, .vp_index = 0};
    struct hvlog_hypercall call = {.rax = 0xDEADBEEFCAFEF00Dull};
    enum hvlog_hypercall_outcome outcome;
    hv_status_t expect = row_expect(r);
    effect_fn effect = row_effect(r);
    uint8_t bytes[FAKE_INPUT_MAX] = {0};
    uint32_t len;

    assert_int_equal(fake_host_init(&H, LPS, DOMAINS, POOL_PAGES, &profile), 0);
    arrange(&H, r->setup);

    if (r->raw) {
        len = fake_input_len(H.abi, r->code);
        for (uint32_t i = 0; i < 8 && 4 * i < len; i++)
            hvlog_store_le32(bytes + 4 * i, r->w[i]);
    } else {
        len = fake_encode(H.abi, r->code, r->w, bytes);
    }
    if (fake_canonical_memory(&H, r->code)) {
        uint8_t *mem = r->caller == CHILD ? H.child_mem : H.root_mem;
        /* The output page starts with a pattern so that any write shows. */
        memset(mem + OUT, 0xCC, 4096);
        memcpy(mem + row_in_gpa(r), bytes, len);
        call.rcx = fake_rcx(r->code, false);
        call.rdx = row_in_gpa(r);
        call.r8 = row_out_gpa(r);
    } else {
        memset(H.root_mem + OUT, 0xCC, 4096);
        call.rcx = fake_rcx(r->code, true);
        assert_true(hvlog_fast_pack(bytes, len, &call.rdx, &call.r8));
    }
    world_take(&H, &before);

    outcome = hvlog_engine_hypercall(H.engine, &caller, &call);

    if (outcome != HVLOG_HYPERCALL_DONE)
        fail_msg("%s: the call ended in a GPA fault at 0x%llx, expected status 0x%04x", r->name,
                 (unsigned long long)call.fault_gpa, r->expect);
    if (hv_hypercall_result_status(call.rax) != expect)
        fail_msg("%s (%s profile): status 0x%04x (%s), expected 0x%04x (%s)", r->name,
                 fake_abi_name(H.abi), hv_hypercall_result_status(call.rax),
                 hvlog_status_name(hv_hypercall_result_status(call.rax)), expect,
                 hvlog_status_name(expect));
    /* §3.2: reps completed 0, reserved bits 0. */
    assert_int_equal(call.rax, (uint64_t)expect);

    if (expect != SUCCESS || !effect)
        assert_unchanged(r->name); /* a failing call (or a no-op) changes nothing */
    else
        effect(r);
    /* Whatever happened, the engine's structures agree. */
    {
        char why[160];
        if (hvlog_engine_check(H.engine, why, sizeof why) != 0)
            fail_msg("%s: hvlog_engine_check: %s", r->name, why);
    }
}

/* ---- main ------------------------------------------------------------------------------ */

static struct CMUnitTest tests[ROW_COUNT];

int main(void)
{
    enum only skip = current_profile() ? ONLY_2013 : ONLY_CURRENT;
    size_t n = 0;

    for (size_t i = 0; i < ROW_COUNT; i++) {
        if (rows[i].only == skip)
            continue;
        tests[n++] = (struct CMUnitTest){
            .name = rows[i].name,
            .test_func = run_row,
            .teardown_func = host_down,
            .initial_state = (void *)&rows[i],
        };
    }
    printf("engine_status: %zu rows under the %s profile\n", n,
           fake_abi_name(fake_test_abi()));
    return _cmocka_run_group_tests(current_profile() ? "engine_status_current" : "engine_status",
                                   tests, n, NULL, NULL);
}
