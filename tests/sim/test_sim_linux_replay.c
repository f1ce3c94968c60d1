/* SPDX-License-Identifier: MIT */
/*
 * The Linux root driver's trace client, replayed on the simulated host
 * (issue #8 item 3): the exact call sequence of research/real-clients.md
 * §1.1 (mshv_trace), its SynIC handling (§1.3) and its byte layouts (§2),
 * under the current-ABI profile, while LP threads log LocalDiagnostics
 * events. Written by us from the research note's facts; no driver code.
 *
 * One root thread plays the driver's three actors in turn:
 *   - the ISR: SINT0's slot of each VP; on a buffers-ready message it walks
 *     the chain through the READ-ONLY MAPPED HEADERS (queue head,
 *     NextBufferIndex, stop at 0xFFFFFFFF), then clears the slot, fences and
 *     writes EOM if MessagePending;
 *   - read(): copies each queued buffer whole (header and every data page),
 *     checks 72 + BufferSize == buffer bytes, then Release (fast 8). It
 *     takes a few buffers per turn, so the ISR runs ahead of it;
 *   - the ioctls: CREATE, START, STOP, DESTROY, with the forms of §1.1.
 *
 * Asserted: no call fails; no buffer is ever on two chains or queued twice;
 * each completion is read once (or released unread by STOP 4); no header is
 * left InUse after STOP; and per LP
 *
 *   entries read + EventsLost of the buffers read
 *     + entries and EventsLost of buffers STOP 4 released unread
 *     + events still pending as lost (the engine's lost_pending) == logged.
 *
 * The STOP path releases what the mapped header says Complete (§1.1 STOP 4),
 * which the current profile's preset allows (release_from_complete, spec
 * §12.1, D13, [MAR-TRACE]); the replay sets no knob.
 * Invariants, not timings; the seed (HVLOG_SIM_SEED) is printed first.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "hvlog/hvlog.h"
#include "hvlog/sim/sim.h"
#include "linux_abi.h"
#include "sim_root.h"

/* ---- this run ---- */

#define LOCAL LINUX_LOCAL_DIAGNOSTICS /* every call of the trace client names it */

#define LPS 2u
#define DOMAINS 2u
#define POOL 256u
#define COUNT 16u
#define PAGES 2u
#define BUFFER_BYTES (PAGES * 4096u)
#define THRESHOLD 2u
#define READ_TARGET 160u  /* buffers read() copies before STOP */
#define READER_BATCH 3u   /* buffers read() takes per turn */
#define TRACE_FLAGS 0x3FFFFF00ull /* the HV_TR groups BM..GENERIC; bit 0 ("extended") clear */
#define SYSTEM_TIME 0x01DB000000000000ull
#define GARBAGE 0x5EEDF00DDEADBEEFull /* what a register nobody wrote may hold */
#define SEQ_MAX 65536u
#define STOP_WAIT_NS 1000000000ull /* §1.1 STOP 3: at most 1 s */

struct lp_tally {
    uint64_t entries_read, lost_read;      /* in buffers read() copied */
    uint64_t entries_unread, lost_unread;  /* in buffers STOP 4 released */
    uint64_t buffers_read, buffers_unread;
    uint64_t expect_context;               /* next Context, losses included */
    uint32_t last_sequence;                /* LpSequenceNumber of the last buffer read */
    uint8_t *sequence_seen;                /* [SEQ_MAX] */
};

struct replay {
    struct hvlog_sim *sim;
    uint64_t seed;
    bool unmap_in_memory_form;
    uint8_t *in;                 /* the per-CPU input page (scratch page 0) */
    uint64_t in_gpa;
    uint8_t *map_out;            /* the driver's private Map output page */
    uint64_t map_out_gpa;
    const uint8_t *view[COUNT];  /* read-only view of each whole buffer */
    bool queued[COUNT];
    uint32_t queue[COUNT], queue_head, queue_len;
    uint8_t copy[BUFFER_BYTES];  /* what read() hands to user space */
    struct lp_tally lp[LPS];
    uint64_t calls, messages, chains, failures;
};

static void report(struct replay *t, const char *what, uint32_t a, uint32_t b)
{
    if (t->failures++ < 10)
        fprintf(stderr, "linux replay (seed 0x%llx): %s (%u, %u)\n", (unsigned long long)t->seed,
                what, a, b);
}

/* ---- hypercalls, as the Linux wrappers issue them ---- */

/* Every call of the replay must succeed: the driver tolerates nothing. */
static void call(struct replay *t, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    uint64_t rax = hvlog_sim_hypercall(t->sim, HVLOG_SIM_ROOT_ID, 0, rcx, rdx, r8);

    t->calls++;
    assert_int_not_equal(rax, HVLOG_SIM_INTERCEPT);
    if ((rax & 0xFFFFu) != 0)
        fprintf(stderr, "linux replay: call 0x%04llx (rdx 0x%llx) failed with 0x%llx\n",
                (unsigned long long)(rcx & 0xFFFFu), (unsigned long long)rdx,
                (unsigned long long)(rax & 0xFFFFu));
    assert_int_equal(rax & 0xFFFFu, 0);
}

/* hv_do_fast_hypercall8: RDX only; R8 is not an input and holds whatever it held. */
static void fast8(struct replay *t, uint16_t code, uint32_t index)
{
    call(t, code | LINUX_FAST_BIT, LOCAL | ((uint64_t)index << 32), GARBAGE);
}

/* SetSources, memory form: the input zeroed over the struct size first (§1.1 START). */
static void set_sources_input(struct replay *t, uint64_t flags)
{
    memset(t->in, 0, LINUX_SET_SOURCES_BYTES);
    hvlog_store_le32(t->in, LOCAL);
    hvlog_store_le32(t->in + 4, 0); /* group count 0: legacy flags */
    hvlog_store_le64(t->in + 8, flags);
}

static void set_sources(struct replay *t, uint64_t flags)
{
    set_sources_input(t, flags);
    call(t, LINUX_CALL_SET_SOURCES, t->in_gpa, 0);
}

/* ---- the mapped headers ---- */

static uint32_t header_u32(const struct replay *t, uint32_t index, uint32_t at)
{
    /* The hypervisor stores these fields while the root reads them. */
    return __atomic_load_n((const uint32_t *)(const void *)(t->view[index] + at), __ATOMIC_ACQUIRE);
}

/* ---- CREATE (§1.1 CREATE 1-3) ---- */

static void trace_create(struct replay *t)
{
    /* 1: packed 28-byte Initialize; the per-CPU page is not cleared first,
     * so bytes 28.. hold whatever the page held. Output GPA 0. */
    memset(t->in, 0xA5, 4096);
    hvlog_store_le16(t->in + 0, LOCAL);
    hvlog_store_le16(t->in + 2, 0); /* mode Regular */
    hvlog_store_le32(t->in + 4, COUNT);
    hvlog_store_le32(t->in + 8, BUFFER_BYTES); /* size in bytes */
    hvlog_store_le32(t->in + 12, THRESHOLD);
    hvlog_store_le32(t->in + 16, 0); /* time basis: reference */
    hvlog_store_le64(t->in + 20, SYSTEM_TIME);
    call(t, LINUX_CALL_INITIALIZE, t->in_gpa, 0);

    /* 2: Create, fast 16, every index; proximity all zero ("no node"). */
    for (uint32_t i = 0; i < COUNT; i++)
        call(t, LINUX_CALL_CREATE | LINUX_FAST_BIT, LOCAL | ((uint64_t)i << 32), 0);

    /* 3: Map, memory form, partition SELF, output into a private page; the
     * page numbers become a read-only view of the buffer. */
    for (uint32_t i = 0; i < COUNT; i++) {
        uint64_t first;

        hvlog_store_le32(t->in + 0, LOCAL);
        hvlog_store_le32(t->in + 4, i);
        hvlog_store_le64(t->in + 8, LINUX_PARTITION_SELF);
        memset(t->map_out, 0xCC, 4096);
        call(t, LINUX_CALL_MAP, t->in_gpa, t->map_out_gpa);
        first = hvlog_load_le64(t->map_out);
        for (uint32_t k = 0; k < PAGES; k++) {
            uint64_t page = hvlog_load_le64(t->map_out + 8 * k);
            /* Each page is root-visible memory; the sim returns one run,
             * so page 0's view covers the buffer (our stand-in for vmap). */
            assert_non_null(hvlog_sim_root_view(t->sim, page << 12, 4096));
            assert_int_equal(page, first + k);
        }
        t->view[i] = hvlog_sim_root_view(t->sim, first << 12, BUFFER_BYTES);
        assert_non_null(t->view[i]);
        assert_int_equal(header_u32(t, i, LINUX_H_STATE), LINUX_STATE_FREE);
    }
}

/* ---- the ISR (§1.3) and the message handler (§1.1 "How it finds") ---- */

static void buffer_complete(struct replay *t, uint32_t log_type, uint32_t index)
{
    uint32_t walked = 0;

    /* The driver drops such messages; for us each is an engine error. */
    if (log_type != LOCAL || index >= COUNT) {
        report(t, "message for no buffer of ours", log_type, index);
        return;
    }
    if (t->queued[index]) { /* the driver would ignore the whole message */
        report(t, "message names a buffer already queued", index, 0);
        return;
    }
    t->chains++;
    /* Through the read-only mapped headers, at message time, before any
     * Release of this chain. */
    for (uint32_t i = index; i != LINUX_INDEX_NONE; i = header_u32(t, i, LINUX_H_NEXT_INDEX)) {
        if (i >= COUNT || t->queued[i] || ++walked > COUNT) {
            report(t, "chain leaves range, repeats or reaches a queued buffer", index, i);
            return;
        }
        if (header_u32(t, i, LINUX_H_STATE) != LINUX_STATE_READY)
            report(t, "delivered buffer is not Ready", i, header_u32(t, i, LINUX_H_STATE));
        t->queued[i] = true;
        t->queue[(t->queue_head + t->queue_len++) % COUNT] = i;
    }
}

/* One SINT0 slot: returns whether it held a message. */
static bool isr(struct replay *t, uint32_t vp)
{
    uint8_t *slot = hvlog_sim_sim_page(t->sim, vp); /* SINT0 is slot 0 */
    uint32_t *message_type;

    assert_non_null(slot);
    message_type = (uint32_t *)(void *)slot;
    switch (__atomic_load_n(message_type, __ATOMIC_ACQUIRE)) {
    case 0:
        return false;
    case LINUX_MSG_BUFFER_COMPLETE:
        buffer_complete(t, hvlog_load_le32(slot + LINUX_M_LOG_TYPE),
                        hvlog_load_le32(slot + LINUX_M_BUFFER_INDEX));
        break;
    default:
        report(t, "unexpected message type", vp, __atomic_load_n(message_type, __ATOMIC_RELAXED));
        break;
    }
    t->messages++;
    /* After handling: HVMSG_NONE, full barrier, EOM if MessagePending. */
    __atomic_store_n(message_type, 0, __ATOMIC_SEQ_CST);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(slot + LINUX_M_FLAGS, __ATOMIC_SEQ_CST) & LINUX_MSG_PENDING)
        assert_int_equal(hvlog_sim_wrmsr(t->sim, vp, LINUX_MSR_EOM, 0), 0);
    return true;
}

static uint32_t isr_all(struct replay *t)
{
    uint32_t n = 0;

    for (uint32_t vp = 0; vp < LPS; vp++)
        n += isr(t, vp);
    return n;
}

/* ---- read(): copy whole buffers, then Release ---- */

/* Walk a copied buffer's entries: count them, check Context per LP. */
static uint64_t entries_of(struct replay *t, const uint8_t *b, struct lp_tally *lp, bool check)
{
    uint32_t end = LINUX_HEADER_BYTES + hvlog_load_le32(b + LINUX_H_NEXT_OFFSET);
    uint64_t n = 0;

    for (uint32_t off = LINUX_HEADER_BYTES; off < end;) {
        uint32_t size = hvlog_load_le16(b + off + LINUX_E_SIZE);

        if (size < LINUX_ENTRY_HEADER_BYTES || size % 8 != 0 || off + size > end) {
            report(t, "entry size", hvlog_load_le32(b + LINUX_H_BUFFER_INDEX), size);
            break;
        }
        if (check) {
            if (hvlog_load_le32(b + off + LINUX_E_CONTEXT) != (uint32_t)lp->expect_context)
                report(t, "Context does not step by one plus EventsLost",
                       hvlog_load_le32(b + LINUX_H_BUFFER_INDEX),
                       hvlog_load_le32(b + off + LINUX_E_CONTEXT));
            lp->expect_context++;
        }
        n++;
        off += size;
    }
    return n;
}

/* The buffer's LP and LpSequenceNumber, checked; NULL when out of range. */
static struct lp_tally *tally_of(struct replay *t, const uint8_t *b, uint32_t *sequence)
{
    uint32_t lp = hvlog_load_le16(b + LINUX_H_LP);

    *sequence = hvlog_load_le32(b + LINUX_H_LP_SEQUENCE);
    if (lp >= LPS || *sequence == 0 || *sequence >= SEQ_MAX || t->lp[lp].sequence_seen[*sequence]) {
        report(t, "LogicalProcessor or LpSequenceNumber", lp, *sequence);
        return NULL;
    }
    t->lp[lp].sequence_seen[*sequence] = 1;
    return &t->lp[lp];
}

static uint32_t reader(struct replay *t, uint32_t max)
{
    uint32_t n = 0;

    for (; n < max && t->queue_len; n++) {
        uint32_t i = t->queue[t->queue_head], sequence;
        struct lp_tally *lp;

        t->queue_head = (t->queue_head + 1) % COUNT;
        t->queue_len--;
        memcpy(t->copy, t->view[i], BUFFER_BYTES); /* header + every data page */
        /* The driver's WARN: BufferSize is the data area. */
        assert_int_equal(LINUX_HEADER_BYTES + hvlog_load_le32(t->copy + LINUX_H_BUFFER_SIZE),
                         BUFFER_BYTES);
        if (hvlog_load_le32(t->copy + LINUX_H_BUFFER_INDEX) != i ||
            hvlog_load_le32(t->copy + LINUX_H_TYPE) != LOCAL ||
            hvlog_load_le32(t->copy + LINUX_H_STATE) != LINUX_STATE_READY ||
            hvlog_load_le32(t->copy + LINUX_H_NEXT_OFFSET) > BUFFER_BYTES - LINUX_HEADER_BYTES)
            report(t, "header of a queued buffer", i, hvlog_load_le32(t->copy + LINUX_H_STATE));
        lp = tally_of(t, t->copy, &sequence);
        if (lp) {
            /* Per LP, buffers arrive in the order the LP took them. */
            if (sequence != lp->last_sequence + 1)
                report(t, "LpSequenceNumber does not step by one", i, sequence);
            lp->last_sequence = sequence;
            lp->lost_read += hvlog_load_le32(t->copy + LINUX_H_EVENTS_LOST);
            lp->expect_context += hvlog_load_le32(t->copy + LINUX_H_EVENTS_LOST);
            lp->entries_read += entries_of(t, t->copy, lp, true);
            lp->buffers_read++;
        }
        fast8(t, LINUX_CALL_RELEASE, i);
        t->queued[i] = false;
    }
    return n;
}

static uint64_t buffers_read(const struct replay *t)
{
    uint64_t n = 0;

    for (uint32_t lp = 0; lp < LPS; lp++)
        n += t->lp[lp].buffers_read;
    return n;
}

/* ---- STOP (§1.1 STOP 1-4) ---- */

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool any_in_use(const struct replay *t)
{
    for (uint32_t i = 0; i < COUNT; i++) {
        if (header_u32(t, i, LINUX_H_STATE) == LINUX_STATE_IN_USE)
            return true;
    }
    return false;
}

static void trace_stop(struct replay *t)
{
    uint64_t deadline;

    set_sources(t, 0);
    for (uint32_t i = 0; i < COUNT; i++) {
        if (header_u32(t, i, LINUX_H_STATE) == LINUX_STATE_IN_USE)
            fast8(t, LINUX_CALL_FLUSH, i);
    }
    /* 3: re-check on each completion message, at most 1 s (-ETIME). The
     * flushes are done when Flush returns, so this ends at once. */
    deadline = mono_ns() + STOP_WAIT_NS;
    while (any_in_use(t) && mono_ns() < deadline) {
        if (!isr_all(t))
            sched_yield();
    }
    assert_false(any_in_use(t));
    /* 4: release what the mapped header says Complete. read() never sees
     * those; count what they hold before they go. */
    for (uint32_t i = 0; i < COUNT; i++) {
        uint32_t sequence;
        struct lp_tally *lp;

        if (header_u32(t, i, LINUX_H_STATE) != LINUX_STATE_COMPLETE)
            continue;
        if (t->queued[i])
            report(t, "STOP 4 releases a buffer read() holds", i, 0);
        lp = tally_of(t, t->view[i], &sequence);
        if (lp) {
            lp->lost_unread += hvlog_load_le32(t->view[i] + LINUX_H_EVENTS_LOST);
            lp->entries_unread += entries_of(t, t->view[i], lp, false);
            lp->buffers_unread++;
        }
        fast8(t, LINUX_CALL_RELEASE, i);
    }
}

/* ---- DESTROY (§1.1 DESTROY 1-3) ---- */

static void trace_destroy(struct replay *t)
{
    for (uint32_t i = 0; i < COUNT; i++) {
        if (t->unmap_in_memory_form) { /* as diaglog issues it */
            hvlog_store_le32(t->in + 0, LOCAL);
            hvlog_store_le32(t->in + 4, i);
            hvlog_store_le64(t->in + 8, LINUX_PARTITION_SELF);
            call(t, LINUX_CALL_UNMAP, t->in_gpa, 0);
        } else { /* fast 16: partition SELF in R8 */
            call(t, LINUX_CALL_UNMAP | LINUX_FAST_BIT, LOCAL | ((uint64_t)i << 32),
                 LINUX_PARTITION_SELF);
        }
        t->view[i] = NULL; /* the view is gone: its pages fault now */
    }
    for (uint32_t i = 0; i < COUNT; i++)
        fast8(t, LINUX_CALL_DELETE, i);
    /* An on-stack union with only the type set: the high half is garbage. */
    call(t, LINUX_CALL_FINALIZE | LINUX_FAST_BIT, LOCAL | (GARBAGE << 32), GARBAGE);
}

/* ---- one run ---- */

enum run_mode {
    FLAT_OUT,  /* LP threads log as fast as they can */
    PACED,     /* LP threads log PACED_RATE events per second */
    LOCK_STEP, /* no threads: the LPs log when stepped, then a burst nobody reads */
};
#define PACED_RATE 20000u
#define STEP_EVENTS 40u    /* lock-step: events per LP between two reader turns */
#define STEP_TARGET 40u    /* lock-step: buffers read before the burst */
#define BURST_EVENTS 4000u /* lock-step: per LP, about twice what the buffers hold */

static uint64_t tick(void *ctx)
{
    return ++*(uint64_t *)ctx;
}

static void replay_run(uint64_t seed, enum run_mode mode, bool unmap_in_memory_form)
{
    static const char *const mode_names[] = {"flat out", "paced", "lock-step"};
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct hvlog_sim_workload w = {
        .events_per_lp = 0, /* until stopped */
        .rate_per_lp = mode == PACED ? PACED_RATE : 0,
        .payload_max = 40};
    struct replay *t = calloc(1, sizeof(*t));
    struct hvlog_scope_stats st[LPS];
    struct hvlog_group_info g;
    uint64_t clock = 0;
    char why[160];

    fprintf(stderr, "linux replay: seed 0x%llx, %s, unmap %s\n", (unsigned long long)seed,
            mode_names[mode], unmap_in_memory_form ? "memory form" : "fast 16");
    assert_non_null(t);
    t->seed = seed;
    t->unmap_in_memory_form = unmap_in_memory_form;
    for (uint32_t lp = 0; lp < LPS; lp++) {
        t->lp[lp].sequence_seen = calloc(SEQ_MAX, 1);
        assert_non_null(t->lp[lp].sequence_seen);
    }
    c.lps = LPS;
    c.domains = DOMAINS;
    c.pool_pages = POOL;
    c.children = 2;
    c.seed = seed;
    c.profile = hvlog_profile_preset(HVLOG_ABI_CURRENT); /* D13 on: STOP releases Complete */
    if (mode == LOCK_STEP) {
        c.lockstep = true;
        c.clock = tick;
        c.clock_ctx = &clock;
    }
    assert_int_equal(hvlog_sim_create(&c, &t->sim), 0);
    t->in_gpa = hvlog_sim_root_page(t->sim, 0, &t->in);
    t->map_out_gpa = hvlog_sim_root_page(t->sim, 2, &t->map_out);

    /* The root's SynIC, set up at boot on every VP. */
    for (uint32_t vp = 0; vp < LPS; vp++)
        assert_int_not_equal(hvlog_sim_synic_enable(t->sim, vp, 0x50), 0);
    if (mode != LOCK_STEP)
        assert_int_equal(hvlog_sim_start(t->sim, &w), 0);

    trace_create(t);
    set_sources(t, TRACE_FLAGS); /* START */
    while (buffers_read(t) < (mode == LOCK_STEP ? STEP_TARGET : READ_TARGET)) {
        uint32_t n;

        if (mode == LOCK_STEP) {
            for (uint32_t lp = 0; lp < LPS; lp++)
                hvlog_sim_step(t->sim, lp, STEP_EVENTS, &w);
        }
        n = isr_all(t);
        n += reader(t, READER_BATCH);
        if (!n)
            sched_yield();
    }
    if (mode == LOCK_STEP) {
        /* Nobody reads: every buffer fills; lists wait Complete for the
         * group's one message buffer, and events are lost. */
        for (uint32_t lp = 0; lp < LPS; lp++)
            hvlog_sim_step(t->sim, lp, BURST_EVENTS, &w);
    }
    trace_stop(t);
    /* read() goes on until the trace is disabled and its queue is empty;
     * messages still queued in the SynIC arrive meanwhile. */
    for (;;) {
        uint32_t n = isr_all(t);

        n += reader(t, COUNT);
        if (!n && t->queue_len == 0)
            break;
    }
    assert_int_equal(hvlog_engine_group_info(hvlog_sim_engine(t->sim), LOCAL, &g), 0);
    assert_false(g.message_busy);
    assert_int_equal(g.due_lists, 0);
    for (uint32_t i = 0; i < COUNT; i++)
        assert_int_equal(header_u32(t, i, LINUX_H_STATE), LINUX_STATE_FREE);
    for (uint32_t lp = 0; lp < LPS; lp++)
        assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(t->sim), LOCAL, lp,
                                                  &st[lp]), 0);
    assert_int_equal(hvlog_engine_check(hvlog_sim_engine(t->sim), why, sizeof why), 0);

    trace_destroy(t);
    for (uint32_t d = 0; d < DOMAINS; d++)
        assert_int_equal(hvlog_sim_pool_free(t->sim, d), POOL);
    hvlog_sim_stop(t->sim); /* the counts are exact from here */

    for (uint32_t lp = 0; lp < LPS; lp++) {
        struct lp_tally *l = &t->lp[lp];
        struct hvlog_sim_lp_counts n;

        hvlog_sim_lp_counts(t->sim, lp, &n);
        fprintf(stderr, "linux replay: LP %u: logged %llu; read %llu entries in %llu buffers "
                "(EventsLost %llu); STOP released %llu entries in %llu buffers (EventsLost %llu); "
                "lost pending %u\n", lp, (unsigned long long)n.logged[LOCAL],
                (unsigned long long)l->entries_read, (unsigned long long)l->buffers_read,
                (unsigned long long)l->lost_read, (unsigned long long)l->entries_unread,
                (unsigned long long)l->buffers_unread, (unsigned long long)l->lost_unread,
                st[lp].lost_pending);
        assert_int_equal(l->entries_read + l->lost_read + l->entries_unread + l->lost_unread +
                             st[lp].lost_pending,
                         n.logged[LOCAL]);
        assert_int_equal(l->entries_read + l->entries_unread, n.recorded[LOCAL]);
        /* Each completion read once, or released unread by STOP 4: the
         * LP's buffers numbered 1..N by LpSequenceNumber, each seen once. */
        assert_int_equal(l->buffers_read + l->buffers_unread, st[lp].buffers_completed);
        for (uint64_t k = 1; k <= st[lp].buffers_completed; k++)
            assert_int_equal(l->sequence_seen[k], 1);
        assert_int_equal(n.logged[HvEventLogTypeGlobalSystemEvents], 0);
    }
    fprintf(stderr, "linux replay: %llu calls, %llu messages, %llu chains\n",
            (unsigned long long)t->calls, (unsigned long long)t->messages,
            (unsigned long long)t->chains);
    assert_true(buffers_read(t) > 0);
    if (mode == LOCK_STEP) { /* STOP 4 met Complete buffers and skipped Ready ones */
        assert_true(t->lp[0].buffers_unread + t->lp[1].buffers_unread > 0);
        assert_true(t->lp[0].lost_read + t->lp[1].lost_read + st[0].lost_pending +
                        st[1].lost_pending > 0);
    }
    assert_int_equal(t->failures, 0);
    assert_int_equal(hvlog_sim_intercepts(t->sim), 0);
    hvlog_sim_destroy(t->sim);
    for (uint32_t lp = 0; lp < LPS; lp++)
        free(t->lp[lp].sequence_seen);
    free(t);
}

/* ---- STOP 1 and an event in flight ---- */

/*
 * The stop path flushes what the mapped headers say InUse right after
 * SetSources(0) returns, then waits for nothing else (§1.1 STOP 2-3). So an
 * event an LP began under the old mask must be over when SetSources
 * returns: otherwise it may take a Free buffer after the root looked, and
 * the stop waits out its second and fails (the replay found this; spec
 * Q-CONC, §5.7). Here the event is held inside hvlog_log() - in its clock
 * call, past the mask check - while another thread disables the sources.
 */
struct in_flight {
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool armed, entered, released;
    uint64_t now;
    struct hvlog_sim *sim;
    struct replay *t;
    enum hvlog_log_result logged;  /* the held event's result */
    uint64_t disable_rax;          /* SetSources(0)'s result value */
    uint64_t recorded_at_return;   /* LP 0's recorded count when SetSources returned */
};

static uint64_t gated_clock(void *ctx)
{
    struct in_flight *f = ctx;
    uint64_t now;

    pthread_mutex_lock(&f->lock);
    if (f->armed) { /* the held event: past the mask check, not yet written */
        f->armed = false;
        f->entered = true;
        pthread_cond_broadcast(&f->cv);
        while (!f->released)
            pthread_cond_wait(&f->cv, &f->lock);
    }
    now = ++f->now;
    pthread_mutex_unlock(&f->lock);
    return now;
}

/* Threads other than the test's record what they see; the test asserts. */
static void *log_one(void *arg)
{
    struct in_flight *f = arg;
    uint64_t payload = 7;

    f->logged = hvlog_sim_log(f->sim, 0, LOCAL, 0x400, 0x001A, 1, &payload, 8);
    return NULL;
}

static void *disable(void *arg)
{
    struct in_flight *f = arg;
    struct hvlog_sim_lp_counts n;

    f->disable_rax = hvlog_sim_hypercall(f->sim, HVLOG_SIM_ROOT_ID, 0, LINUX_CALL_SET_SOURCES,
                                         f->t->in_gpa, 0);
    hvlog_sim_lp_counts(f->sim, 0, &n);
    f->recorded_at_return = n.recorded[LOCAL];
    return NULL;
}

static void set_sources_zero_returns_after_an_event_in_flight(void **state)
{
    struct in_flight f = {.lock = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct replay *t = calloc(1, sizeof(*t));
    struct hvlog_group_info g;
    pthread_t logger, root;
    uint64_t payload = 7;
    (void)state;

    assert_non_null(t);
    c.lps = LPS;
    c.lockstep = true;
    c.profile.abi = HVLOG_ABI_CURRENT;
    c.clock = gated_clock;
    c.clock_ctx = &f;
    assert_int_equal(hvlog_sim_create(&c, &t->sim), 0);
    f.sim = t->sim;
    f.t = t;
    t->in_gpa = hvlog_sim_root_page(t->sim, 0, &t->in);
    t->map_out_gpa = hvlog_sim_root_page(t->sim, 2, &t->map_out);
    trace_create(t);
    set_sources(t, TRACE_FLAGS);
    /* LP 0 has an InUse buffer with room: the next event is the hot path. */
    assert_int_equal(hvlog_sim_log(t->sim, 0, LOCAL, 0x400, 0x001A, 0, &payload, 8),
                     HVLOG_LOG_RECORDED);

    pthread_mutex_lock(&f.lock);
    f.armed = true;
    pthread_mutex_unlock(&f.lock);
    assert_int_equal(pthread_create(&logger, NULL, log_one, &f), 0);
    pthread_mutex_lock(&f.lock);
    while (!f.entered)
        pthread_cond_wait(&f.cv, &f.lock);
    pthread_mutex_unlock(&f.lock);
    /* The event is in flight; the root disables the sources. */
    set_sources_input(t, 0);
    assert_int_equal(pthread_create(&root, NULL, disable, &f), 0);
    do {
        sched_yield();
        assert_int_equal(hvlog_engine_group_info(hvlog_sim_engine(t->sim), LOCAL, &g), 0);
    } while (g.source_mask != 0);
    for (int i = 0; i < 100; i++)
        sched_yield(); /* let a SetSources that does not wait return now */
    pthread_mutex_lock(&f.lock);
    f.released = true;
    pthread_cond_broadcast(&f.cv);
    pthread_mutex_unlock(&f.lock);
    assert_int_equal(pthread_join(logger, NULL), 0);
    assert_int_equal(pthread_join(root, NULL), 0);
    assert_int_equal(f.logged, HVLOG_LOG_RECORDED);
    assert_int_equal(f.disable_rax, 0);
    /* SetSources(0) returned after the event: the stop path's flush sees it. */
    assert_int_equal(f.recorded_at_return, 2);
    hvlog_sim_destroy(t->sim);
    free(t);
}

/* Flat out: the ISR runs ahead of read(), LPs lose events for want of
 * buffers, STOP meets InUse buffers of running LPs. */
static void mshv_trace_flat_out_with_fast_unmap_reads_every_completion_once(void **state)
{
    (void)state;
    replay_run(root_seed(0x11AC), FLAT_OUT, false);
}

/* Paced: read() keeps up; DESTROY unmaps in memory form as diaglog does. */
static void mshv_trace_paced_with_memory_unmap_reads_every_completion_once(void **state)
{
    (void)state;
    replay_run(root_seed(0x11AC) + 1, PACED, true);
}

/* Lock-step, the same every run: STOP 4 releases the Complete buffers
 * read() never saw and leaves the Ready ones read() still holds. */
static void mshv_trace_lock_step_stop_releases_only_complete_buffers(void **state)
{
    (void)state;
    replay_run(root_seed(0x11AC) + 2, LOCK_STEP, false);
    replay_run(root_seed(0x11AC) + 3, LOCK_STEP, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mshv_trace_flat_out_with_fast_unmap_reads_every_completion_once),
        cmocka_unit_test(mshv_trace_paced_with_memory_unmap_reads_every_completion_once),
        cmocka_unit_test(mshv_trace_lock_step_stop_releases_only_complete_buffers),
        cmocka_unit_test(set_sources_zero_returns_after_an_event_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
