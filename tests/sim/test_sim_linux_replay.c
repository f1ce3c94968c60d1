/* SPDX-License-Identifier: MIT */
/*
 * The Linux root driver's trace client, replayed on the simulated host
 * (issue #8 item 3, made faithful by issue #14 item 2): the exact call
 * sequence of research/real-clients.md §1.1 (mshv_trace), its SynIC
 * handling (§1.3) and its byte layouts (§2), under the current-ABI
 * profile's preset, while the LPs log LocalDiagnostics events. Written by
 * us from the research note's facts and from reading the driver's
 * behaviour; no driver code.
 *
 * The driver's actors run as they do in a kernel, concurrently:
 *   - the ISR thread: SINT0's slot of every VP. A buffers-ready message is
 *     dropped while no trace fd is attached (before ATTACH, after DETACH),
 *     when its type or index is wrong, or when its first buffer is queued;
 *     otherwise the chain is walked through the READ-ONLY MAPPED HEADERS
 *     (queue head, NextBufferIndex, stop at 0xFFFFFFFF) onto the queue
 *     (the driver's spinlock). Then the slot is cleared, fenced, EOM if
 *     MessagePending;
 *   - the reader thread: ATTACH makes it the only reader; its read()s ask
 *     for any number of bytes (seeded, 1 .. two buffers). read() copies the
 *     queue's buffers as one stream from the file offset, page by page from
 *     the page list Map returned (our vmap), checks 72 + BufferSize ==
 *     buffer bytes, and issues Release (fast 8) once a buffer's last byte
 *     went out, FROM THE VP THE READER RUNS ON (seeded per read(): the task
 *     migrates). With nothing queued it sleeps while the trace is enabled;
 *     once STOP disabled it and the queue is empty it returns 0 at once -
 *     buffers whose message comes later are stranded. In user space the
 *     stream is cut back into whole buffers and decoded;
 *   - the control thread (the test): CREATE, START, STOP, DETACH, DESTROY
 *     with the forms and rules of §1.1, and the LPs in lock-step mode.
 *
 * Every buffer the LPs complete ends in exactly one of three places, and
 * the test finds each one (per LP, by LpSequenceNumber):
 *   read       read() copied it whole and its Release succeeded;
 *   discarded  STOP 4 saw Complete in its header and its Release succeeded
 *              (read() never sees it);
 *   stranded   Ready at DESTROY: its message came after read()'s EOF, or
 *              after DETACH (dropped), or the chain to it was cut; DESTROY
 *              unmaps it (Unmap accepts Ready, §5.6);
 * and events lost but not yet stored in any header's EventsLost are the
 * engine's lost_pending. Conservation, per LP, each term printed and asserted:
 *   entries + EventsLost read + entries + EventsLost discarded
 *     + entries + EventsLost stranded + lost_pending == logged.
 *
 * The driver's own race, tolerated as the driver tolerates it: STOP 4 reads
 * "Complete" and then releases, while the ISR's EOM may let the engine
 * deliver that very list meanwhile (Complete -> Ready). Whichever Release
 * succeeds owns the buffer; the other side's Release fails (the driver
 * logs and ignores it), and a chain walked through a buffer STOP 4 freed
 * is cut there. Such events are counted ("stop races") and printed.
 *
 * Also asserted: no call of CREATE, START, STOP 1 or DESTROY fails; no
 * buffer is on two chains or queued twice; nothing is InUse or Complete at
 * DESTROY (Unmap would refuse it and the state would stay: issue #14's
 * wedge); read()s were partial and Releases came from more than one VP;
 * with the ISR held across STOP (lock-step runs), buffers were discarded
 * and stranded, and messages dropped after DETACH.
 *
 * Invariants, not timings (waits are bounded only to turn a hang into a
 * failure); the seed (HVLOG_SIM_SEED) is printed first.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#define READ_TARGET 160u  /* buffers read before STOP */
#define TRACE_FLAGS 0x3FFFFF00ull /* the HV_TR groups BM..GENERIC; bit 0 ("extended") clear */
#define SYSTEM_TIME 0x01DB000000000000ull
#define GARBAGE 0x5EEDF00DDEADBEEFull /* what a register nobody wrote may hold */
#define SEQ_MAX 65536u
#define STOP_WAIT_NS 1000000000ull  /* §1.1 STOP 3: at most 1 s */
#define HANG_NS 60000000000ull      /* a wait that long is a hang: fail */

/* Buffers one actor took out of the stream of one LP. */
struct lp_tally {
    uint64_t entries, lost, buffers;
    uint8_t *seen;  /* [SEQ_MAX]: LpSequenceNumbers this actor took */
};

/* What the reader decodes besides the tally (reader thread only). */
struct lp_reader {
    uint64_t expect_context;  /* next Context, losses included */
    uint32_t last_sequence;   /* LpSequenceNumber of the last buffer read */
};

enum run_mode {
    FLAT_OUT,  /* LP threads log as fast as they can */
    PACED,     /* LP threads log PACED_RATE events per second */
    LOCK_STEP, /* the control thread steps the LPs, then a burst nobody reads */
};
#define PACED_RATE 20000u
#define STEP_EVENTS 40u    /* lock-step: events per LP per step */
#define STEP_TARGET 40u    /* lock-step: buffers read before the burst */
#define BURST_EVENTS 4000u /* lock-step: per LP, about twice what the buffers hold */

struct run_options {
    enum run_mode mode;
    bool unmap_in_memory_form; /* DESTROY's Unmap as diaglog issues it */
    bool scatter;              /* the sim hands out page lists (hvlog_sim_config.scatter_pages) */
    /* lock-step: the ISR is held from the burst until after read()'s EOF;
     * then DETACH comes before the ISR runs again (every later message is
     * dropped), or after it has handled them (they queue, unread). */
    bool detach_before_isr;
    /* lock-step: the ISR runs again between STOP 4's look at the first
     * Complete header and its Release, and the engine delivers every due
     * list meanwhile: the driver's race, made to happen. */
    bool isr_in_stop4;
};

struct replay {
    struct hvlog_sim *sim;
    uint64_t seed;
    struct run_options o;
    /* control thread only */
    uint8_t *in;                 /* the per-CPU input page (scratch page 0) */
    uint64_t in_gpa;
    uint8_t *map_out;            /* the driver's private Map output page */
    uint64_t map_out_gpa;
    uint64_t calls;
    struct lp_tally discarded[LPS], stranded[LPS];
    /* written by CREATE before any other actor runs, then read-only: the
     * page list of each buffer and a read-only view of each page */
    uint64_t gpa_page[COUNT][PAGES];
    const uint8_t *page[COUNT][PAGES];

    /* q_lock: the driver's queue spinlock and wait queue. Guards state,
     * attached, enabled, queued[], the queue, started. */
    pthread_mutex_t q_lock;
    pthread_cond_t q_cv;         /* a buffer was queued, or enabled/attached changed */
    bool state, attached, enabled, started;
    bool stopping;               /* STOP began (the race is possible from here) */
    bool queued[COUNT];
    uint32_t queue[COUNT], queue_head, queue_len;

    /* the ISR thread; isr_lock guards isr_hold and isr_parked */
    pthread_t isr;
    pthread_mutex_t isr_lock;
    pthread_cond_t isr_cv;
    bool isr_hold, isr_parked;
    atomic_bool isr_quit;
    uint64_t messages, chains, dropped_detached, walk_races; /* ISR only; read after join */

    /* the reader thread */
    pthread_t reader;
    uint64_t rng;                /* reader only: read sizes and VPs */
    int64_t ctb;                 /* read(): the buffer being copied, or -1 */
    uint64_t pos;                /* read(): the file offset */
    uint8_t done[COUNT];         /* read(): Release results of buffers copied whole, FIFO */
    uint32_t done_head, done_len;
    uint8_t staging[BUFFER_BYTES]; /* user space: the buffer being reassembled */
    uint32_t staged;
    uint64_t reads, partial_reads, bytes;
    uint64_t releases_by_vp[LPS];
    uint64_t read_races;         /* buffers copied whose Release STOP 4 won */
    uint64_t sequence_skips;
    struct lp_tally read[LPS];
    struct lp_reader rd[LPS];
    atomic_uint_fast64_t buffers_read;

    atomic_uint_fast64_t failures;
};

static void report(struct replay *t, const char *what, uint32_t a, uint32_t b)
{
    if (atomic_fetch_add(&t->failures, 1) < 10)
        fprintf(stderr, "linux replay (seed 0x%llx): %s (%u, %u)\n", (unsigned long long)t->seed,
                what, a, b);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* An idle poller's pause (the ISR between interrupts, the STOP wait). */
static void pause_us(long us)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000l};

    nanosleep(&ts, NULL);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull); /* splitmix64 */

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* ---- hypercalls, as the Linux wrappers issue them ---- */

/* Any thread: the status, or 0xFFFF for an intercept (reported). */
static uint16_t call_status(struct replay *t, uint32_t vp, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    uint64_t rax = hvlog_sim_hypercall(t->sim, HVLOG_SIM_ROOT_ID, vp, rcx, rdx, r8);

    if (rax == HVLOG_SIM_INTERCEPT) {
        report(t, "hypercall raised an intercept", (uint32_t)(rcx & 0xFFFFu), vp);
        return 0xFFFFu;
    }
    return (uint16_t)(rax & 0xFFFFu);
}

/* Control thread: every call of CREATE, START, STOP 1-2 and DESTROY must
 * succeed (the driver turns any failure into an errno). */
static void call(struct replay *t, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    uint16_t s = call_status(t, 0, rcx, rdx, r8);

    t->calls++;
    if (s != 0)
        fprintf(stderr, "linux replay: call 0x%04llx (rdx 0x%llx) failed with 0x%x\n",
                (unsigned long long)(rcx & 0xFFFFu), (unsigned long long)rdx, s);
    assert_int_equal(s, 0);
}

/* hv_do_fast_hypercall8 from @vp: RDX only; R8 is not an input and holds
 * whatever it held. Returns the status: Release and Flush failures are
 * logged and ignored by the driver. */
static uint16_t fast8(struct replay *t, uint32_t vp, uint16_t code, uint32_t index)
{
    return call_status(t, vp, code | LINUX_FAST_BIT, LOCAL | ((uint64_t)index << 32), GARBAGE);
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

/* ---- the mapped buffers: page lists (our vmap) ---- */

static uint32_t header_u32(const struct replay *t, uint32_t index, uint32_t at)
{
    /* The hypervisor stores these fields while the root reads them. */
    return __atomic_load_n((const uint32_t *)(const void *)(t->page[index][0] + at),
                           __ATOMIC_ACQUIRE);
}

/* Copy bytes [at, at + len) of buffer @index through its page list. */
static void buffer_copy(const struct replay *t, uint32_t index, uint32_t at, uint8_t *dst,
                        uint32_t len)
{
    while (len) {
        uint32_t in_page = at % 4096u, n = 4096u - in_page < len ? 4096u - in_page : len;

        memcpy(dst, t->page[index][at / 4096u] + in_page, n);
        dst += n;
        at += n;
        len -= n;
    }
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

    /* 3: Map, memory form, partition SELF, output into a private page: one
     * GPA page number per page, in any order the host chose. The driver
     * vmaps that list; we keep a read-only view of each page. */
    for (uint32_t i = 0; i < COUNT; i++) {
        hvlog_store_le32(t->in + 0, LOCAL);
        hvlog_store_le32(t->in + 4, i);
        hvlog_store_le64(t->in + 8, LINUX_PARTITION_SELF);
        memset(t->map_out, 0xCC, 4096);
        call(t, LINUX_CALL_MAP, t->in_gpa, t->map_out_gpa);
        for (uint32_t k = 0; k < PAGES; k++) {
            t->gpa_page[i][k] = hvlog_load_le64(t->map_out + 8 * k);
            t->page[i][k] = hvlog_sim_root_view(t->sim, t->gpa_page[i][k] << 12, 4096);
            assert_non_null(t->page[i][k]);
        }
        assert_int_equal(header_u32(t, i, LINUX_H_STATE), LINUX_STATE_FREE);
    }
    pthread_mutex_lock(&t->q_lock);
    t->state = true;
    pthread_mutex_unlock(&t->q_lock);
}

/* Buffers whose page list is not one run of GPA pages. */
static uint32_t scattered_buffers(const struct replay *t)
{
    uint32_t n = 0;

    for (uint32_t i = 0; i < COUNT; i++) {
        for (uint32_t k = 1; k < PAGES; k++) {
            if (t->gpa_page[i][k] != t->gpa_page[i][k - 1] + 1) {
                n++;
                break;
            }
        }
    }
    return n;
}

/* ---- the ISR thread (§1.3) and the message handler (§1.1 "How it finds") ---- */

static void buffer_complete(struct replay *t, uint32_t log_type, uint32_t index)
{
    uint32_t walked = 0;

    pthread_mutex_lock(&t->q_lock);
    if (!t->state || !t->attached) { /* no trace fd to give it to: dropped */
        t->dropped_detached++;
        pthread_mutex_unlock(&t->q_lock);
        return;
    }
    /* The driver drops these too; for us each is an engine error. */
    if (log_type != LOCAL || index >= COUNT) {
        pthread_mutex_unlock(&t->q_lock);
        report(t, "message for no buffer of ours", log_type, index);
        return;
    }
    if (t->queued[index]) { /* the driver would ignore the whole message */
        pthread_mutex_unlock(&t->q_lock);
        report(t, "message names a buffer already queued", index, 0);
        return;
    }
    t->chains++;
    /* Through the read-only mapped headers, at message time. */
    for (uint32_t i = index; i != LINUX_INDEX_NONE; i = header_u32(t, i, LINUX_H_NEXT_INDEX)) {
        uint32_t st;

        if (i >= COUNT || t->queued[i] || ++walked > COUNT) {
            report(t, "chain leaves range, repeats or reaches a queued buffer", index, i);
            break;
        }
        st = header_u32(t, i, LINUX_H_STATE);
        if (st != LINUX_STATE_READY) {
            /* Only STOP 4 can have freed a delivered buffer (the race in
             * the head comment); its Release cut the chain here. */
            if (st != LINUX_STATE_FREE || !t->stopping)
                report(t, "delivered buffer is not Ready", i, st);
            t->walk_races++;
            break;
        }
        t->queued[i] = true;
        t->queue[(t->queue_head + t->queue_len++) % COUNT] = i;
    }
    pthread_cond_broadcast(&t->q_cv);
    pthread_mutex_unlock(&t->q_lock);
}

/* One SINT0 slot: returns whether it held a message. */
static bool isr_slot(struct replay *t, uint32_t vp)
{
    uint8_t *slot = hvlog_sim_sim_page(t->sim, vp); /* SINT0 is slot 0 */
    uint32_t *message_type = (uint32_t *)(void *)slot;

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
    if (__atomic_load_n(slot + LINUX_M_FLAGS, __ATOMIC_SEQ_CST) & LINUX_MSG_PENDING) {
        if (hvlog_sim_wrmsr(t->sim, vp, LINUX_MSR_EOM, 0) != 0)
            report(t, "EOM refused", vp, 0);
    }
    return true;
}

static void *isr_thread(void *arg)
{
    struct replay *t = arg;

    while (!atomic_load(&t->isr_quit)) {
        bool any = false;

        pthread_mutex_lock(&t->isr_lock);
        while (t->isr_hold) { /* interrupts held off: the slots wait */
            t->isr_parked = true;
            pthread_cond_broadcast(&t->isr_cv);
            pthread_cond_wait(&t->isr_cv, &t->isr_lock);
        }
        t->isr_parked = false;
        pthread_mutex_unlock(&t->isr_lock);
        for (uint32_t vp = 0; vp < LPS; vp++)
            any |= isr_slot(t, vp);
        if (!any)
            pause_us(20);
    }
    return NULL;
}

/* Control thread: hold the ISR off, and return once it is not in a handler. */
static void isr_hold(struct replay *t, bool hold)
{
    pthread_mutex_lock(&t->isr_lock);
    t->isr_hold = hold;
    pthread_cond_broadcast(&t->isr_cv);
    while (hold && !t->isr_parked)
        pthread_cond_wait(&t->isr_cv, &t->isr_lock);
    pthread_mutex_unlock(&t->isr_lock);
}

/* ---- buffers as user space decodes them ---- */

/* Walk a buffer's entries: count them, check Context per LP when asked. */
static uint64_t entries_of(struct replay *t, const uint8_t *b, struct lp_reader *rd)
{
    uint32_t end = LINUX_HEADER_BYTES + hvlog_load_le32(b + LINUX_H_NEXT_OFFSET);
    uint64_t n = 0;

    for (uint32_t off = LINUX_HEADER_BYTES; off < end;) {
        uint32_t size = hvlog_load_le16(b + off + LINUX_E_SIZE);

        if (size < LINUX_ENTRY_HEADER_BYTES || size % 8 != 0 || off + size > end) {
            report(t, "entry size", hvlog_load_le32(b + LINUX_H_BUFFER_INDEX), size);
            break;
        }
        if (rd) {
            if (hvlog_load_le32(b + off + LINUX_E_CONTEXT) != (uint32_t)rd->expect_context)
                report(t, "Context does not step by one plus EventsLost",
                       hvlog_load_le32(b + LINUX_H_BUFFER_INDEX),
                       hvlog_load_le32(b + off + LINUX_E_CONTEXT));
            rd->expect_context++;
        }
        n++;
        off += size;
    }
    return n;
}

/* Count buffer @b (a copy) into @tally[its LP]; returns the LP, or LPS
 * when its LogicalProcessor or LpSequenceNumber is out of range. */
static uint32_t tally_buffer(struct replay *t, const uint8_t *b, struct lp_tally *tally,
                             struct lp_reader *rd)
{
    uint32_t lp = hvlog_load_le16(b + LINUX_H_LP);
    uint32_t sequence = hvlog_load_le32(b + LINUX_H_LP_SEQUENCE);

    if (lp >= LPS || sequence == 0 || sequence >= SEQ_MAX || tally[lp].seen[sequence]) {
        report(t, "LogicalProcessor or LpSequenceNumber", lp, sequence);
        return LPS;
    }
    tally[lp].seen[sequence] = 1;
    tally[lp].buffers++;
    tally[lp].lost += hvlog_load_le32(b + LINUX_H_EVENTS_LOST);
    if (rd) {
        /* Per LP, buffers arrive in the order the LP took them; a gap is
         * a buffer STOP 4 won the race for (checked at the end). */
        if (sequence <= rd[lp].last_sequence)
            report(t, "LpSequenceNumber goes back", lp, sequence);
        if (sequence != rd[lp].last_sequence + 1) {
            t->sequence_skips++;
            rd[lp].expect_context = hvlog_load_le32(b + LINUX_HEADER_BYTES + LINUX_E_CONTEXT);
        } else {
            rd[lp].expect_context += hvlog_load_le32(b + LINUX_H_EVENTS_LOST);
        }
        rd[lp].last_sequence = sequence;
    }
    tally[lp].entries += entries_of(t, b, rd ? &rd[lp] : NULL);
    return lp;
}

/* A buffer's content straight from its mapped pages (control thread). */
static void tally_mapped(struct replay *t, uint32_t index, struct lp_tally *tally)
{
    static uint8_t b[BUFFER_BYTES]; /* control thread only */

    buffer_copy(t, index, 0, b, BUFFER_BYTES);
    (void)tally_buffer(t, b, tally, NULL);
}

/* ---- read() of the trace fd ---- */

/*
 * The driver's read(): up to @size bytes of the stream into @dst, issuing
 * Release from @vp. Returns the bytes copied; 0 is end of file (disabled
 * and nothing queued); -1 is EIO (a header whose BufferSize is not the
 * data area). With bytes copied and nothing queued it waits on while the
 * trace is enabled, as the driver's loop does.
 */
static int64_t trace_read(struct replay *t, uint8_t *dst, uint32_t size, uint32_t vp)
{
    uint32_t copied = 0;

    while (copied < size) {
        uint32_t offset, n;

        if (t->ctb < 0) {
            pthread_mutex_lock(&t->q_lock);
            while (!t->queue_len && t->enabled)
                pthread_cond_wait(&t->q_cv, &t->q_lock);
            if (!t->queue_len) { /* disabled and empty: the end, at once */
                pthread_mutex_unlock(&t->q_lock);
                return copied;
            }
            t->ctb = t->queue[t->queue_head];
            t->queue_head = (t->queue_head + 1) % COUNT;
            t->queue_len--;
            t->queued[t->ctb] = false;
            pthread_mutex_unlock(&t->q_lock);
        }
        /* The driver's WARN: BufferSize is the data area. */
        if (LINUX_HEADER_BYTES + header_u32(t, (uint32_t)t->ctb, LINUX_H_BUFFER_SIZE) !=
            BUFFER_BYTES) {
            report(t, "72 + BufferSize is not the buffer size", (uint32_t)t->ctb,
                   header_u32(t, (uint32_t)t->ctb, LINUX_H_BUFFER_SIZE));
            return -1;
        }
        offset = (uint32_t)(t->pos % BUFFER_BYTES);
        n = BUFFER_BYTES - offset < size - copied ? BUFFER_BYTES - offset : size - copied;
        buffer_copy(t, (uint32_t)t->ctb, offset, dst + copied, n);
        copied += n;
        t->pos += n;
        if (offset + n == BUFFER_BYTES) {
            /* Its last byte went out: Release, from the reader's VP. */
            uint16_t s = fast8(t, vp, LINUX_CALL_RELEASE, (uint32_t)t->ctb);

            t->releases_by_vp[vp]++;
            t->done[(t->done_head + t->done_len++) % COUNT] = s == 0;
            t->ctb = -1;
        }
    }
    return copied;
}

/* User space: a whole buffer came out of the stream. */
static void reader_buffer(struct replay *t)
{
    const uint8_t *b = t->staging;
    bool released = t->done[t->done_head];

    t->done_head = (t->done_head + 1) % COUNT;
    t->done_len--;
    if (!released) {
        /* STOP 4 released it first (the race): its bytes may be a Free
         * buffer's, and it is STOP 4's to count. */
        t->read_races++;
        return;
    }
    if (hvlog_load_le32(b + LINUX_H_TYPE) != LOCAL ||
        hvlog_load_le32(b + LINUX_H_STATE) != LINUX_STATE_READY ||
        hvlog_load_le32(b + LINUX_H_BUFFER_INDEX) >= COUNT ||
        hvlog_load_le32(b + LINUX_H_NEXT_OFFSET) > BUFFER_BYTES - LINUX_HEADER_BYTES) {
        report(t, "header of a buffer read", hvlog_load_le32(b + LINUX_H_BUFFER_INDEX),
               hvlog_load_le32(b + LINUX_H_STATE));
        return;
    }
    if (tally_buffer(t, b, t->read, t->rd) < LPS)
        atomic_fetch_add(&t->buffers_read, 1);
}

static void *reader_thread(void *arg)
{
    static uint8_t buf[2 * BUFFER_BYTES]; /* reader thread only */
    struct replay *t = arg;

    /* ATTACH: this task becomes the trace's only reader. */
    pthread_mutex_lock(&t->q_lock);
    t->attached = true;
    pthread_cond_broadcast(&t->q_cv);
    while (!t->started) /* read() before START would be an immediate EOF */
        pthread_cond_wait(&t->q_cv, &t->q_lock);
    pthread_mutex_unlock(&t->q_lock);

    for (;;) {
        /* Any size: a byte, a header's worth, a buffer, or up to two. */
        uint64_t r = rng_next(&t->rng);
        uint32_t size = r % 4 == 0 ? BUFFER_BYTES : 1 + (uint32_t)((r >> 8) % (2 * BUFFER_BYTES));
        uint32_t vp = (uint32_t)((r >> 40) % LPS); /* where the task runs this time */
        int64_t n = trace_read(t, buf, size, vp);

        if (n <= 0)
            break;
        t->reads++;
        t->partial_reads += (uint32_t)n % BUFFER_BYTES != 0;
        t->bytes += (uint64_t)n;
        for (int64_t at = 0; at < n;) {
            uint32_t take = BUFFER_BYTES - t->staged;

            if ((int64_t)take > n - at)
                take = (uint32_t)(n - at);
            memcpy(t->staging + t->staged, buf + at, take);
            t->staged += take;
            at += take;
            if (t->staged == BUFFER_BYTES) {
                reader_buffer(t);
                t->staged = 0;
            }
        }
    }
    /* The stream ends on a buffer boundary: STOP leaves read() the rest of
     * the buffer it was copying. */
    if (t->staged != 0)
        report(t, "end of file inside a buffer", t->staged, 0);
    return NULL;
}

/* ---- STOP (§1.1 STOP 1-4) ---- */

static bool any_in_use(const struct replay *t)
{
    for (uint32_t i = 0; i < COUNT; i++) {
        if (header_u32(t, i, LINUX_H_STATE) == LINUX_STATE_IN_USE)
            return true;
    }
    return false;
}

/* isr_in_stop4: a Complete buffer on a due list (not its LP's newest
 * Complete one, which may sit on the pending list below the threshold and
 * is never delivered), or COUNT when there is none. */
static uint32_t due_complete_buffer(const struct replay *t)
{
    uint32_t newest[LPS] = {0};

    for (uint32_t i = 0; i < COUNT; i++) {
        uint32_t lp = hvlog_load_le16(t->page[i][0] + LINUX_H_LP);

        if (header_u32(t, i, LINUX_H_STATE) == LINUX_STATE_COMPLETE && lp < LPS &&
            header_u32(t, i, LINUX_H_LP_SEQUENCE) > newest[lp])
            newest[lp] = header_u32(t, i, LINUX_H_LP_SEQUENCE);
    }
    for (uint32_t i = 0; i < COUNT; i++) {
        uint32_t lp = hvlog_load_le16(t->page[i][0] + LINUX_H_LP);

        if (header_u32(t, i, LINUX_H_STATE) == LINUX_STATE_COMPLETE && lp < LPS &&
            header_u32(t, i, LINUX_H_LP_SEQUENCE) < newest[lp])
            return i;
    }
    return COUNT;
}

/* isr_in_stop4: let the ISR run until the engine delivered every due list. */
static void isr_runs_until_delivered(struct replay *t)
{
    uint64_t hang = mono_ns() + HANG_NS;
    struct hvlog_group_info g;

    isr_hold(t, false);
    do {
        hvlog_sim_poll(t->sim);
        assert_int_equal(hvlog_engine_group_info(hvlog_sim_engine(t->sim), LOCAL, &g), 0);
        assert_true(mono_ns() < hang);
    } while (g.due_lists != 0 || g.message_busy);
}

static uint64_t trace_stop(struct replay *t)
{
    uint64_t deadline, races = 0;
    uint32_t target = COUNT;

    pthread_mutex_lock(&t->q_lock);
    t->stopping = true;
    pthread_mutex_unlock(&t->q_lock);
    set_sources(t, 0);
    for (uint32_t i = 0; i < COUNT; i++) {
        if (header_u32(t, i, LINUX_H_STATE) == LINUX_STATE_IN_USE)
            (void)fast8(t, 0, LINUX_CALL_FLUSH, i);
    }
    /* 3: until no mapped header says InUse, at most 1 s (else -ETIME). A
     * Flush is done when it returns, so this ends at once. */
    deadline = mono_ns() + STOP_WAIT_NS;
    while (any_in_use(t) && mono_ns() < deadline)
        pause_us(100);
    assert_false(any_in_use(t));
    if (t->o.isr_in_stop4) {
        target = due_complete_buffer(t);
        assert_int_not_equal(target, COUNT);
    }
    /* 4: release what the mapped header says Complete. read() never sees
     * those: discarded. Copied before the Release, counted only if the
     * Release succeeds (else read() won the buffer: the race). */
    for (uint32_t i = 0; i < COUNT; i++) {
        static uint8_t b[BUFFER_BYTES]; /* control thread only */

        if (header_u32(t, i, LINUX_H_STATE) != LINUX_STATE_COMPLETE)
            continue;
        buffer_copy(t, i, 0, b, BUFFER_BYTES);
        if (i == target) /* STOP 4 looked; the list is delivered before it releases */
            isr_runs_until_delivered(t);
        if (fast8(t, 0, LINUX_CALL_RELEASE, i) == 0)
            (void)tally_buffer(t, b, t->discarded, NULL);
        else
            races++;
    }
    pthread_mutex_lock(&t->q_lock);
    t->enabled = false;
    pthread_cond_broadcast(&t->q_cv);
    pthread_mutex_unlock(&t->q_lock);
    return races;
}

/* ---- DETACH and DESTROY (§1.1 DESTROY 1-3) ---- */

/* The driver's DETACH: EBUSY while the trace is enabled. */
static void trace_detach(struct replay *t)
{
    pthread_mutex_lock(&t->q_lock);
    assert_false(t->enabled);
    t->attached = false; /* the ISR drops every message from here */
    pthread_mutex_unlock(&t->q_lock);
}

static void trace_destroy(struct replay *t)
{
    pthread_mutex_lock(&t->q_lock);
    assert_false(t->attached); /* the driver answers EBUSY while attached */
    pthread_mutex_unlock(&t->q_lock);
    /* 1: Unmap every buffer, Ready ones included (§5.6): the stranded ones
     * go with their pages. Any failure would leave the state for good. */
    for (uint32_t i = 0; i < COUNT; i++) {
        if (t->o.unmap_in_memory_form) { /* as diaglog issues it */
            hvlog_store_le32(t->in + 0, LOCAL);
            hvlog_store_le32(t->in + 4, i);
            hvlog_store_le64(t->in + 8, LINUX_PARTITION_SELF);
            call(t, LINUX_CALL_UNMAP, t->in_gpa, 0);
        } else { /* fast 16: partition SELF in R8 */
            call(t, LINUX_CALL_UNMAP | LINUX_FAST_BIT, LOCAL | ((uint64_t)i << 32),
                 LINUX_PARTITION_SELF);
        }
        for (uint32_t k = 0; k < PAGES; k++)
            t->page[i][k] = NULL; /* the view is gone: its pages fault now */
    }
    for (uint32_t i = 0; i < COUNT; i++)
        call(t, LINUX_CALL_DELETE | LINUX_FAST_BIT, LOCAL | ((uint64_t)i << 32), GARBAGE);
    /* An on-stack union with only the type set: the high half is garbage. */
    call(t, LINUX_CALL_FINALIZE | LINUX_FAST_BIT, LOCAL | (GARBAGE << 32), GARBAGE);
    pthread_mutex_lock(&t->q_lock);
    t->state = false;
    pthread_mutex_unlock(&t->q_lock);
}

/* ---- one run ---- */

static uint64_t tick(void *ctx)
{
    return __atomic_add_fetch((uint64_t *)ctx, 1, __ATOMIC_RELAXED);
}

/* Nothing more can reach a slot: the group's message buffer is free, no
 * list is due, every slot is empty. Bounded, so a hang fails. */
static void wait_quiet(struct replay *t)
{
    uint64_t deadline = mono_ns() + HANG_NS;

    for (;;) {
        struct hvlog_group_info g;
        bool quiet;

        hvlog_sim_poll(t->sim);
        assert_int_equal(hvlog_engine_group_info(hvlog_sim_engine(t->sim), LOCAL, &g), 0);
        quiet = !g.message_busy && g.due_lists == 0;
        for (uint32_t vp = 0; vp < LPS && quiet; vp++)
            quiet = __atomic_load_n((uint32_t *)(void *)hvlog_sim_sim_page(t->sim, vp),
                                    __ATOMIC_ACQUIRE) == 0;
        if (quiet)
            return;
        assert_true(mono_ns() < deadline);
        pause_us(100);
    }
}

static struct replay *replay_new(uint64_t seed, const struct run_options *o, bool lockstep,
                                 uint64_t *clock)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct replay *t = calloc(1, sizeof(*t));

    assert_non_null(t);
    t->seed = seed;
    t->o = *o;
    t->rng = seed ^ 0x5EAD5EADull;
    t->ctb = -1;
    pthread_mutex_init(&t->q_lock, NULL);
    pthread_cond_init(&t->q_cv, NULL);
    pthread_mutex_init(&t->isr_lock, NULL);
    pthread_cond_init(&t->isr_cv, NULL);
    for (uint32_t lp = 0; lp < LPS; lp++) {
        t->read[lp].seen = calloc(SEQ_MAX, 1);
        t->discarded[lp].seen = calloc(SEQ_MAX, 1);
        t->stranded[lp].seen = calloc(SEQ_MAX, 1);
        assert_true(t->read[lp].seen && t->discarded[lp].seen && t->stranded[lp].seen);
    }
    c.lps = LPS;
    c.domains = DOMAINS;
    c.pool_pages = POOL;
    c.children = 2;
    c.seed = seed;
    c.scatter_pages = o->scatter;
    c.profile = hvlog_profile_preset(HVLOG_ABI_CURRENT); /* D13 on: STOP releases Complete */
    if (lockstep) {
        c.lockstep = true;
        c.clock = tick;
        c.clock_ctx = clock;
    }
    assert_int_equal(hvlog_sim_create(&c, &t->sim), 0);
    t->in_gpa = hvlog_sim_root_page(t->sim, 0, &t->in);
    t->map_out_gpa = hvlog_sim_root_page(t->sim, 2, &t->map_out);
    return t;
}

static void replay_free(struct replay *t)
{
    hvlog_sim_destroy(t->sim);
    for (uint32_t lp = 0; lp < LPS; lp++) {
        free(t->read[lp].seen);
        free(t->discarded[lp].seen);
        free(t->stranded[lp].seen);
    }
    pthread_mutex_destroy(&t->q_lock);
    pthread_cond_destroy(&t->q_cv);
    pthread_mutex_destroy(&t->isr_lock);
    pthread_cond_destroy(&t->isr_cv);
    free(t);
}

static void replay_run(uint64_t seed, struct run_options o)
{
    static const char *const mode_names[] = {"flat out", "paced", "lock-step"};
    struct hvlog_sim_workload w = {
        .events_per_lp = 0, /* until stopped */
        .rate_per_lp = o.mode == PACED ? PACED_RATE : 0,
        .payload_max = 40};
    uint64_t clock = 0, stop_races, vps_used = 0;
    struct replay *t;
    struct hvlog_scope_stats st[LPS];
    struct hvlog_sim_lp_counts n[LPS];
    char why[160];

    fprintf(stderr, "linux replay: seed 0x%llx, %s, unmap %s, pages %s%s\n",
            (unsigned long long)seed, mode_names[o.mode],
            o.unmap_in_memory_form ? "memory form" : "fast 16",
            o.scatter ? "scattered" : "one run",
            o.mode != LOCK_STEP  ? ""
            : o.isr_in_stop4     ? ", the ISR runs inside STOP 4"
            : o.detach_before_isr ? ", DETACH before the ISR"
                                  : ", DETACH after the ISR");
    t = replay_new(seed, &o, o.mode == LOCK_STEP, &clock);

    /* The root's SynIC, set up at boot on every VP; its ISR from then on. */
    for (uint32_t vp = 0; vp < LPS; vp++)
        assert_int_not_equal(hvlog_sim_synic_enable(t->sim, vp, 0x50), 0);
    assert_int_equal(pthread_create(&t->isr, NULL, isr_thread, t), 0);
    if (o.mode != LOCK_STEP)
        assert_int_equal(hvlog_sim_start(t->sim, &w), 0);

    trace_create(t); /* MSHV_TRACE_STATE_CREATE */
    if (o.scatter)
        assert_true(scattered_buffers(t) > 0);
    /* The reader ATTACHes; then START. */
    assert_int_equal(pthread_create(&t->reader, NULL, reader_thread, t), 0);
    pthread_mutex_lock(&t->q_lock);
    while (!t->attached)
        pthread_cond_wait(&t->q_cv, &t->q_lock);
    pthread_mutex_unlock(&t->q_lock);
    set_sources(t, TRACE_FLAGS); /* MSHV_TRACE_START */
    pthread_mutex_lock(&t->q_lock);
    t->enabled = t->started = true;
    pthread_cond_broadcast(&t->q_cv);
    pthread_mutex_unlock(&t->q_lock);

    {
        uint64_t deadline = mono_ns() + HANG_NS;

        while (atomic_load(&t->buffers_read) < (o.mode == LOCK_STEP ? STEP_TARGET : READ_TARGET)) {
            if (o.mode == LOCK_STEP) {
                for (uint32_t lp = 0; lp < LPS; lp++)
                    hvlog_sim_step(t->sim, lp, STEP_EVENTS, &w);
            } else {
                pause_us(200);
            }
            assert_true(mono_ns() < deadline);
        }
    }
    if (o.mode == LOCK_STEP) {
        /* Interrupts held off: every buffer fills, lists wait Complete for
         * the group's one message buffer, events are lost. */
        isr_hold(t, true);
        for (uint32_t lp = 0; lp < LPS; lp++)
            hvlog_sim_step(t->sim, lp, BURST_EVENTS, &w);
    }
    stop_races = trace_stop(t); /* MSHV_TRACE_STOP */
    /* read() returns 0 as soon as its queue is empty. */
    assert_int_equal(pthread_join(t->reader, NULL), 0);
    if (o.mode == LOCK_STEP && o.detach_before_isr)
        trace_detach(t);
    if (o.mode == LOCK_STEP && t->isr_hold)
        isr_hold(t, false);
    wait_quiet(t); /* the messages still on their way */
    if (!(o.mode == LOCK_STEP && o.detach_before_isr))
        trace_detach(t);
    atomic_store(&t->isr_quit, true);
    assert_int_equal(pthread_join(t->isr, NULL), 0);

    /* Before DESTROY: what is not Free is stranded. Nothing may be InUse
     * or Complete now: Unmap would refuse it and the state would stay. */
    for (uint32_t i = 0; i < COUNT; i++) {
        uint32_t s = header_u32(t, i, LINUX_H_STATE);

        if (s == LINUX_STATE_READY)
            tally_mapped(t, i, t->stranded);
        else
            assert_int_equal(s, LINUX_STATE_FREE);
    }
    for (uint32_t lp = 0; lp < LPS; lp++)
        assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(t->sim), LOCAL, lp,
                                                  &st[lp]), 0);
    assert_int_equal(hvlog_engine_check(hvlog_sim_engine(t->sim), why, sizeof why), 0);
    trace_destroy(t); /* MSHV_TRACE_STATE_DESTROY */
    for (uint32_t d = 0; d < DOMAINS; d++)
        assert_int_equal(hvlog_sim_pool_free(t->sim, d), POOL);
    hvlog_sim_stop(t->sim); /* the counts are exact from here */

    for (uint32_t vp = 0; vp < LPS; vp++)
        vps_used += t->releases_by_vp[vp] != 0;
    fprintf(stderr, "linux replay: %llu calls, %llu messages (%llu dropped after DETACH), "
            "%llu chains; %llu read()s, %llu of them partial, %llu bytes; Release from VP 0: "
            "%llu, VP 1: %llu; stop races: %llu lost by STOP 4, %llu by read(), %llu chains cut\n",
            (unsigned long long)t->calls, (unsigned long long)t->messages,
            (unsigned long long)t->dropped_detached, (unsigned long long)t->chains,
            (unsigned long long)t->reads, (unsigned long long)t->partial_reads,
            (unsigned long long)t->bytes, (unsigned long long)t->releases_by_vp[0],
            (unsigned long long)t->releases_by_vp[1], (unsigned long long)stop_races,
            (unsigned long long)t->read_races, (unsigned long long)t->walk_races);
    for (uint32_t lp = 0; lp < LPS; lp++) {
        const struct lp_tally *r = &t->read[lp], *d = &t->discarded[lp], *s = &t->stranded[lp];

        hvlog_sim_lp_counts(t->sim, lp, &n[lp]);
        fprintf(stderr, "linux replay: LP %u: logged %llu == read %llu + EventsLost read %llu "
                "+ discarded by STOP %llu + EventsLost discarded %llu + stranded %llu "
                "+ EventsLost stranded %llu + lost pending %u (buffers: %llu read, %llu "
                "discarded, %llu stranded, of %llu)\n", lp,
                (unsigned long long)n[lp].logged[LOCAL], (unsigned long long)r->entries,
                (unsigned long long)r->lost, (unsigned long long)d->entries,
                (unsigned long long)d->lost, (unsigned long long)s->entries,
                (unsigned long long)s->lost, st[lp].lost_pending,
                (unsigned long long)r->buffers, (unsigned long long)d->buffers,
                (unsigned long long)s->buffers, (unsigned long long)st[lp].buffers_completed);
        assert_int_equal(r->entries + r->lost + d->entries + d->lost + s->entries + s->lost +
                             st[lp].lost_pending,
                         n[lp].logged[LOCAL]);
        assert_int_equal(r->entries + d->entries + s->entries, n[lp].recorded[LOCAL]);
        /* Each completion in exactly one place: the LP's buffers numbered
         * 1..N by LpSequenceNumber, each seen once in all three. */
        assert_int_equal(r->buffers + d->buffers + s->buffers, st[lp].buffers_completed);
        for (uint64_t k = 1; k <= st[lp].buffers_completed; k++)
            assert_int_equal(r->seen[k] + d->seen[k] + s->seen[k], 1);
        assert_int_equal(n[lp].logged[HvEventLogTypeGlobalSystemEvents], 0);
    }
    assert_true(atomic_load(&t->buffers_read) > 0);
    /* read() was asked for sizes that cut buffers, and Release came from
     * whichever VP the reader ran on. */
    assert_true(t->partial_reads > 0);
    assert_true(vps_used > 1);
    /* A skipped LpSequenceNumber, a cut chain or a lost Release only ever
     * come from the STOP 4 race. */
    if (stop_races + t->read_races + t->walk_races == 0)
        assert_int_equal(t->sequence_skips, 0);
    if (o.isr_in_stop4) {
        /* STOP 4 released a buffer the engine delivered meanwhile: one side
         * lost a Release, or a chain was cut. */
        assert_true(stop_races + t->read_races + t->walk_races > 0);
    } else if (o.mode == LOCK_STEP) {
        /* The ISR was held across STOP: STOP 4 met Complete buffers, events
         * were lost, and the list in the slot came after read()'s EOF. */
        uint64_t discarded = 0, stranded = 0, lost = 0;

        for (uint32_t lp = 0; lp < LPS; lp++) {
            discarded += t->discarded[lp].buffers;
            stranded += t->stranded[lp].buffers;
            lost += t->read[lp].lost + st[lp].lost_pending + t->discarded[lp].lost +
                    t->stranded[lp].lost;
        }
        assert_true(discarded > 0);
        assert_true(stranded > 0);
        assert_true(lost > 0);
        assert_int_equal(stop_races + t->read_races + t->walk_races, 0);
        if (o.detach_before_isr)
            assert_true(t->dropped_detached > 0);
        else
            assert_int_equal(t->dropped_detached, 0);
    }
    assert_int_equal(atomic_load(&t->failures), 0);
    assert_int_equal(hvlog_sim_intercepts(t->sim), 0);
    replay_free(t);
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
    pthread_mutex_init(&t->q_lock, NULL);
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
    pthread_mutex_destroy(&t->q_lock);
    free(t);
}

/* Flat out: LPs lose events for want of buffers, STOP meets InUse
 * buffers of running LPs, the ISR and read() race STOP 4. */
static void mshv_trace_flat_out_accounts_for_every_completion_once(void **state)
{
    (void)state;
    replay_run(root_seed(0x11AC), (struct run_options){.mode = FLAT_OUT, .scatter = true});
}

/* Paced: read() keeps up; DESTROY unmaps in memory form as diaglog does;
 * buffers are one run of pages (the sim's default). */
static void mshv_trace_paced_with_memory_unmap_accounts_for_every_completion_once(void **state)
{
    (void)state;
    replay_run(root_seed(0x11AC) + 1,
               (struct run_options){.mode = PACED, .unmap_in_memory_form = true});
}

/* Lock-step with the ISR held across STOP: STOP 4 discards the Complete
 * buffers, read() ends before the last lists' messages, which are then
 * dropped after DETACH, or queued unread before it; DESTROY unmaps them
 * Ready. */
static void mshv_trace_stop_discards_complete_and_strands_late_lists(void **state)
{
    (void)state;
    replay_run(root_seed(0x11AC) + 2, (struct run_options){.mode = LOCK_STEP, .scatter = true,
                                                           .detach_before_isr = true});
    replay_run(root_seed(0x11AC) + 3,
               (struct run_options){.mode = LOCK_STEP, .unmap_in_memory_form = true,
                                    .scatter = true});
}

/* The driver's STOP 4 reads "Complete", then releases: a list delivered
 * in between is released under read()'s feet. The successful Release owns
 * the buffer; the count stays exact. */
static void mshv_trace_stop4_racing_a_delivery_still_accounts_for_every_completion(void **state)
{
    (void)state;
    replay_run(root_seed(0x11AC) + 4,
               (struct run_options){.mode = LOCK_STEP, .scatter = true, .isr_in_stop4 = true});
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(mshv_trace_flat_out_accounts_for_every_completion_once),
        cmocka_unit_test(mshv_trace_paced_with_memory_unmap_accounts_for_every_completion_once),
        cmocka_unit_test(mshv_trace_stop_discards_complete_and_strands_late_lists),
        cmocka_unit_test(mshv_trace_stop4_racing_a_delivery_still_accounts_for_every_completion),
        cmocka_unit_test(set_sources_zero_returns_after_an_event_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
