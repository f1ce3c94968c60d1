/* SPDX-License-Identifier: MIT */
/*
 * The Linux root driver's diaglog client, replayed on the simulated host
 * (issue #8 item 3): the read loop of research/real-clients.md §1.2 over
 * the hypervisor's own SystemDiagnostics ring (type 2, spec §11.6), under
 * the current-ABI profile. Written by us from the note's facts.
 *
 *   geometry   HvGetSystemProperty(28), memory form (the sim answers it)
 *   map        MapEventLogBuffer for every index, memory form, partition
 *              SELF; every returned page number must be root-visible
 *              memory; one read-only view per buffer (the driver's vmap)
 *   poll       start at the buffer with the smallest TimeStamp greater
 *              than the last one read; read records while the offset is
 *              below NextBufferOffset (counted from the end of the
 *              header), the next at offset + round_up(Size, 8), stopping
 *              at a record of Type 0; once the buffer is Complete, re-check
 *              the offset, then follow NextBufferIndex and accept that
 *              buffer only once its TimeStamp is newer
 *   exit       UnmapEventLogBuffer for every index, memory form
 *
 * Asserted: records come out in time order, each once; with the ring
 * unable to lap the reader (lock-step, the reader polling between steps;
 * or LP threads whose whole output fits in the ring) every record logged
 * is read exactly once; after the root unmaps, the ring keeps filling and
 * the old view faults; a store through the view faults.
 */
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hvlog/hvlog.h"
#include "hvlog/sim/sim.h"
#include "linux_abi.h"
#include "sim_root.h"

#define RING LINUX_SYSTEM_DIAGNOSTICS /* the type diaglog reads */
#define ENTRY_HEADER LINUX_ENTRY_HEADER_BYTES
#define GET_PROPERTY LINUX_CALL_GET_SYSTEM_PROPERTY
#define LPS 2u
#define MAX_RING 64u

/* ---- the reader ---- */

struct diaglog {
    struct hvlog_sim *sim;
    uint64_t seed;
    uint32_t count, pages, data_bytes;
    uint64_t gpa[MAX_RING];            /* page 0 of each buffer */
    const uint8_t *view[MAX_RING];     /* read-only, the whole buffer */
    uint32_t current;                  /* the buffer being read, or LINUX_INDEX_NONE */
    uint32_t offset;                   /* from the end of its header */
    uint64_t generation;               /* its TimeStamp: the last one read */
    uint64_t buffers, laps, records, failures;
    uint64_t last_time;                /* the last record's TimeStamp */
    uint64_t next_context[LPS];        /* per LP: the records it logged so far */
    uint8_t record[ENTRY_HEADER + 8 + 64]; /* one record, copied whole */
};

static void report(struct diaglog *t, const char *what, uint64_t a, uint64_t b)
{
    if (t->failures++ < 10)
        fprintf(stderr, "diaglog (seed 0x%llx): %s (%llu, %llu)\n", (unsigned long long)t->seed,
                what, (unsigned long long)a, (unsigned long long)b);
}

static uint64_t time_stamp(const struct diaglog *t, uint32_t i)
{
    return __atomic_load_n((const uint64_t *)(const void *)(t->view[i] + LINUX_H_TIME_STAMP),
                           __ATOMIC_ACQUIRE);
}

static uint32_t header_u32(const struct diaglog *t, uint32_t i, uint32_t at)
{
    return __atomic_load_n((const uint32_t *)(const void *)(t->view[i] + at), __ATOMIC_ACQUIRE);
}

/* A record copied out: the sim's SystemDiagnostics record (sim.h). */
static void consume(struct diaglog *t, const uint8_t *r, uint32_t size)
{
    uint32_t context = hvlog_load_le32(r + LINUX_E_CONTEXT);
    uint64_t when = hvlog_load_le64(r + LINUX_E_TIME_STAMP), lp;

    t->records++;
    if (hvlog_load_le16(r + LINUX_E_TYPE) != HVLOG_SIM_DIAG_ENTRY_TYPE || size < ENTRY_HEADER + 8) {
        report(t, "not a diagnostic record", hvlog_load_le16(r + LINUX_E_TYPE), size);
        return;
    }
    if (when < t->last_time)
        report(t, "records out of time order", when, t->last_time);
    t->last_time = when;
    lp = hvlog_load_le64(r + ENTRY_HEADER);
    if (lp >= LPS) {
        report(t, "record of no LP", lp, context);
        return;
    }
    /* Each LP's records in its order, none missing, none twice. */
    if (context != t->next_context[lp])
        report(t, "record read twice or missed", context, t->next_context[lp]);
    t->next_context[lp] = (uint64_t)context + 1;
    for (uint32_t k = 0; ENTRY_HEADER + 8 + k < size && r[ENTRY_HEADER + 8 + k]; k++) {
        if (r[ENTRY_HEADER + 8 + k] != hvlog_sim_extra_byte(context, k)) {
            report(t, "payload", context, k);
            break;
        }
    }
}

/* Records of the current buffer from the read offset up to NextBufferOffset. */
static void read_records(struct diaglog *t)
{
    const uint8_t *data = t->view[t->current] + LINUX_HEADER_BYTES;
    uint32_t end = header_u32(t, t->current, LINUX_H_NEXT_OFFSET);

    while (t->offset < end && t->offset + ENTRY_HEADER <= t->data_bytes) {
        const uint8_t *r = data + t->offset;
        uint32_t size = hvlog_load_le16(r + LINUX_E_SIZE);
        uint32_t step = (size + 7u) & ~7u;

        if (hvlog_load_le16(r + LINUX_E_TYPE) == 0)
            break; /* a record of Type 0 ends the scan */
        if (step < ENTRY_HEADER || step > sizeof t->record || t->offset + step > end) {
            report(t, "record size", t->current, size);
            break;
        }
        memcpy(t->record, r, step); /* whole or not at all */
        if (time_stamp(t, t->current) != t->generation) {
            t->laps++; /* the ring reused the buffer under the reader */
            break;
        }
        consume(t, t->record, size);
        t->offset += step;
    }
}

/* One poll of the driver's loop. */
static void poll_ring(struct diaglog *t)
{
    if (t->current == LINUX_INDEX_NONE) {
        uint32_t best = LINUX_INDEX_NONE;

        /* A scan is not a snapshot: while it reads buffer 5, buffers 0-4
         * it already passed as unwritten may have been filled. Every buffer
         * taken before the oldest one found was stamped before it, so a
         * second scan sees them: scan until the choice stands. (The driver
         * scans once; at start-up it would begin a few buffers late.) */
        for (uint32_t pick = LINUX_INDEX_NONE - 1; pick != best;) {
            pick = best;
            for (uint32_t i = 0; i < t->count; i++) {
                uint64_t s = time_stamp(t, i);
                if (s > t->generation && (best == LINUX_INDEX_NONE || s < time_stamp(t, best)))
                    best = i;
            }
        }
        if (best == LINUX_INDEX_NONE)
            return; /* nothing logged yet */
        /* The ring fills in index order from 0 and never laps the reader
         * here, so the oldest buffer is buffer 0. */
        if (t->buffers == 0 && best != 0)
            report(t, "first poll starts past buffer 0 (index, its TimeStamp)", best,
                   time_stamp(t, best));
        t->current = best;
        t->offset = 0;
        t->generation = time_stamp(t, best);
        t->buffers++;
    }
    for (;;) {
        uint32_t next;

        read_records(t);
        if (header_u32(t, t->current, LINUX_H_STATE) != LINUX_STATE_COMPLETE)
            return;
        __atomic_signal_fence(__ATOMIC_SEQ_CST); /* the driver's compiler barrier */
        read_records(t);                         /* then the offset once more */
        next = header_u32(t, t->current, LINUX_H_NEXT_INDEX);
        if (next >= t->count) {
            report(t, "NextBufferIndex leaves the ring", t->current, next);
            return;
        }
        if (time_stamp(t, next) <= t->generation)
            return; /* not written since: wait for a newer TimeStamp */
        t->current = next;
        t->offset = 0;
        t->generation = time_stamp(t, next);
        t->buffers++;
    }
}

/* ---- the root's calls ---- */

static uint64_t call(struct diaglog *t, uint64_t rcx, uint64_t rdx, uint64_t r8)
{
    return hvlog_sim_hypercall(t->sim, HVLOG_SIM_ROOT_ID, 0, rcx, rdx, r8);
}

/* HvGetSystemProperty(28), memory form: input and output in per-CPU pages. */
static uint64_t get_property(struct hvlog_sim *sim, uint64_t partition, uint64_t rcx,
                             uint32_t property, uint32_t *count, uint32_t *pages)
{
    uint8_t *in, *out;
    uint64_t in_gpa = hvlog_sim_root_page(sim, 0, &in);
    uint64_t out_gpa = hvlog_sim_root_page(sim, 1, &out);
    uint64_t rax;

    hvlog_store_le32(in, property);
    hvlog_store_le32(in + 4, 0);
    memset(out, 0xEE, 8);
    rax = hvlog_sim_hypercall(sim, partition, 0, rcx, in_gpa, out_gpa);
    *count = hvlog_load_le32(out);
    *pages = hvlog_load_le32(out + 4);
    return rax;
}

/* Map/Unmap input {Type, Index, PartitionId} in the per-CPU input page. */
static uint64_t map_input(struct diaglog *t, uint32_t index)
{
    uint8_t *in;
    uint64_t gpa = hvlog_sim_root_page(t->sim, 0, &in);

    hvlog_store_le32(in, RING);
    hvlog_store_le32(in + 4, index);
    hvlog_store_le64(in + 8, LINUX_PARTITION_SELF);
    return gpa;
}

static void diaglog_open(struct diaglog *t, struct hvlog_sim *sim, uint64_t seed)
{
    uint8_t *out;
    uint64_t out_gpa;

    memset(t, 0, sizeof(*t));
    t->sim = sim;
    t->seed = seed;
    t->current = LINUX_INDEX_NONE;
    assert_int_equal(get_property(sim, HVLOG_SIM_ROOT_ID, GET_PROPERTY,
                                  LINUX_PROPERTY_DIAGNOSTICS_LOG_BUFFERS, &t->count, &t->pages),
                     0);
    assert_true(t->count >= 1 && t->count <= MAX_RING && t->pages >= 1);
    t->data_bytes = t->pages * 4096u - LINUX_HEADER_BYTES;
    out_gpa = hvlog_sim_root_page(sim, 1, &out);
    for (uint32_t i = 0; i < t->count; i++) {
        uint64_t first;

        assert_int_equal(call(t, LINUX_CALL_MAP, map_input(t, i), out_gpa), 0);
        first = hvlog_load_le64(out);
        for (uint32_t k = 0; k < t->pages; k++) {
            uint64_t page = hvlog_load_le64(out + 8 * k);
            /* Valid root-visible memory, or the driver unmaps and fails;
             * one run, so page 0's view is the whole buffer. */
            assert_non_null(hvlog_sim_root_view(sim, page << 12, 4096));
            assert_int_equal(page, first + k);
        }
        t->gpa[i] = first << 12;
        t->view[i] = hvlog_sim_root_view(sim, t->gpa[i], t->pages * 4096u);
        assert_non_null(t->view[i]);
    }
}

/* Exit: Unmap every index, memory form, going on past errors. */
static void diaglog_close(struct diaglog *t)
{
    uint64_t first_error = 0;

    for (uint32_t i = 0; i < t->count; i++) {
        uint64_t rax = call(t, LINUX_CALL_UNMAP, map_input(t, i), 0);
        if (rax != 0 && first_error == 0)
            first_error = rax;
    }
    assert_int_equal(first_error, 0);
}

static uint64_t tick(void *ctx)
{
    return ++*(uint64_t *)ctx;
}

static struct hvlog_sim *make_sim(uint32_t ring, uint32_t pages, bool lockstep, uint64_t seed,
                                  uint64_t *clock)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct hvlog_sim *sim = NULL;

    c.lps = LPS;
    c.pool_pages = 512;
    c.seed = seed;
    c.lockstep = lockstep;
    c.profile.abi = HVLOG_ABI_CURRENT;
    c.system_diag_buffers = ring;
    c.system_diag_pages = pages;
    if (clock) {
        c.clock = tick;
        c.clock_ctx = clock;
    }
    assert_int_equal(hvlog_sim_create(&c, &sim), 0);
    return sim;
}

/*
 * Per LP: every record logged to the ring was recorded, and the reader's
 * Context count for that LP reached it (consume() checked the steps); the
 * LP's @events_per_lp were those records and dropped events of type @other
 * (RING: none). Returns the records all LPs logged.
 * Exact once no LP runs.
 */
static uint64_t every_record_read_once(struct diaglog *t, uint64_t events_per_lp, uint32_t other)
{
    uint64_t logged = 0;

    for (uint32_t lp = 0; lp < LPS; lp++) {
        struct hvlog_sim_lp_counts n;

        hvlog_sim_lp_counts(t->sim, lp, &n);
        assert_int_equal(n.logged[RING] +
                             (other == RING ? 0 : n.dropped[other]),
                         events_per_lp);
        assert_int_equal(n.recorded[RING], n.logged[RING]);
        assert_int_equal(t->next_context[lp], n.logged[RING]);
        logged += n.logged[RING];
    }
    return logged;
}

/* ---- tests ---- */

#define STEP_RING 4u
#define STEPS 600u
#define EVENTS_PER_STEP 24u /* x 2 LPs x <= 56 bytes: under one 1-page buffer per round */

/* Lock-step: the LPs log a little, the reader polls, many times over; the
 * ring wraps again and again and never laps the reader. */
static void lockstep_reader_reads_every_record_once_in_time_order(void **state)
{
    uint64_t clock = 0, seed = root_seed(0xD1A6);
    struct hvlog_sim *sim = make_sim(STEP_RING, 1, true, seed, &clock);
    struct hvlog_sim_workload w = {.system_per_mille = 1000, .payload_max = 32};
    struct diaglog *t = malloc(sizeof(*t));
    char why[160];
    (void)state;

    fprintf(stderr, "diaglog lock-step: seed 0x%llx\n", (unsigned long long)seed);
    assert_non_null(t);
    diaglog_open(t, sim, seed);
    assert_int_equal(t->count, STEP_RING);
    assert_int_equal(t->pages, 1);
    poll_ring(t); /* nothing yet: every TimeStamp is 0 */
    assert_int_equal(t->records, 0);
    for (uint32_t s = 0; s < STEPS; s++) {
        for (uint32_t lp = 0; lp < LPS; lp++)
            hvlog_sim_step(sim, lp, EVENTS_PER_STEP, &w);
        poll_ring(t);
    }
    assert_int_equal(every_record_read_once(t, STEPS * EVENTS_PER_STEP, RING),
                     LPS * STEPS * EVENTS_PER_STEP);
    fprintf(stderr, "diaglog lock-step: %llu records in %llu buffers of a ring of %u\n",
            (unsigned long long)t->records, (unsigned long long)t->buffers, t->count);
    assert_int_equal(t->records, LPS * STEPS * EVENTS_PER_STEP);
    assert_true(t->buffers > 10 * STEP_RING); /* the ring wrapped many times */
    assert_int_equal(t->laps, 0);
    assert_int_equal(t->failures, 0);
    assert_int_equal(hvlog_engine_check(hvlog_sim_engine(sim), why, sizeof why), 0);

    /* The view is read-only: a store dies, the byte is unchanged. */
    {
        uint8_t before = t->view[1][LINUX_HEADER_BYTES + 5];
        assert_int_equal(root_child_signal(root_store_one, t->view[1] + LINUX_HEADER_BYTES + 5),
                         SIGSEGV);
        assert_int_equal(t->view[1][LINUX_HEADER_BYTES + 5], before);
        assert_int_equal(root_child_signal(root_load_one, t->view[1]), 0);
    }

    diaglog_close(t);
    /* The root's view is gone; the hypervisor's ring is not. */
    {
        struct hvlog_buffer_info info;
        uint64_t newest = 0, newest_after = 0;
        struct hvlog_sim_lp_counts before, after;

        for (uint32_t i = 0; i < t->count; i++) {
            assert_null(hvlog_sim_root_view(sim, t->gpa[i], 8));
            assert_int_equal(hvlog_engine_buffer_info(hvlog_sim_engine(sim), RING, i,
                                                      &info), 0);
            assert_false(info.root_mapped);
            if (info.header_current.time_stamp > newest)
                newest = info.header_current.time_stamp;
        }
        assert_int_equal(root_child_signal(root_load_one, t->view[0]), SIGSEGV);
        hvlog_sim_lp_counts(sim, 0, &before);
        hvlog_sim_step(sim, 0, 4 * 4096 / 56, &w); /* enough to take new buffers */
        hvlog_sim_lp_counts(sim, 0, &after);
        assert_int_equal(after.recorded[RING] - before.recorded[RING],
                         4 * 4096 / 56);
        for (uint32_t i = 0; i < t->count; i++) {
            assert_int_equal(hvlog_engine_buffer_info(hvlog_sim_engine(sim), RING, i,
                                                      &info), 0);
            if (info.header_current.time_stamp > newest_after)
                newest_after = info.header_current.time_stamp;
        }
        assert_true(newest_after > newest);
        /* Unmapped once: a second Unmap is refused (D14's status). */
        assert_int_equal(hv_hypercall_result_status(call(t, LINUX_CALL_UNMAP, map_input(t, 0), 0)),
                         HV_STATUS_ACCESS_DENIED);
        assert_int_equal(hvlog_engine_check(hvlog_sim_engine(sim), why, sizeof why), 0);
    }
    assert_int_equal(hvlog_sim_intercepts(sim), 0);
    hvlog_sim_destroy(sim);
    free(t);
}

#define THREAD_RING 64u
#define THREAD_EVENTS 1500u

/* LP threads log concurrently with the reader; their whole output fits in
 * the ring (64 buffers of >= 71 records of <= 56 bytes > 2 x 1500), so the
 * ring cannot lap the reader however the threads are scheduled. */
static void concurrent_reader_reads_every_record_once_in_time_order(void **state)
{
    uint64_t seed = root_seed(0xD1A6) + 1;
    struct hvlog_sim *sim = make_sim(THREAD_RING, 1, false, seed, NULL);
    struct hvlog_sim_workload w = {
        .events_per_lp = THREAD_EVENTS, .system_per_mille = 800, .payload_max = 32};
    struct diaglog *t = malloc(sizeof(*t));
    uint64_t logged = 0;
    char why[160];
    (void)state;

    fprintf(stderr, "diaglog threads: seed 0x%llx\n", (unsigned long long)seed);
    assert_non_null(t);
    diaglog_open(t, sim, seed);
    assert_int_equal(t->count, THREAD_RING);
    assert_int_equal(hvlog_sim_start(sim, &w), 0);
    while (hvlog_sim_running(sim)) {
        poll_ring(t);
        sched_yield();
    }
    hvlog_sim_stop(sim);
    poll_ring(t); /* what the last buffer, still InUse, holds */
    /* The rest were LocalDiagnostics events, dropped: no group. */
    logged = every_record_read_once(t, THREAD_EVENTS, HvEventLogTypeLocalDiagnostics);
    fprintf(stderr, "diaglog threads: %llu records in %llu buffers\n",
            (unsigned long long)t->records, (unsigned long long)t->buffers);
    assert_int_equal(t->records, logged);
    assert_int_equal(t->laps, 0);
    assert_int_equal(t->failures, 0);
    assert_int_equal(hvlog_engine_check(hvlog_sim_engine(sim), why, sizeof why), 0);
    diaglog_close(t);
    assert_int_equal(hvlog_sim_intercepts(sim), 0);
    hvlog_sim_destroy(sim);
    free(t);
}

/* The sim's HvGetSystemProperty (sim.h): the ring's geometry, with the
 * engine's check order. */
static void get_system_property_28_answers_the_ring_geometry(void **state)
{
    struct hvlog_sim *sim = make_sim(3, 2, true, 1, NULL);
    struct hvlog_sim *plain;
    struct hvlog_sim_config c = hvlog_sim_config_default();
    uint32_t count, pages;
    uint8_t *in, child_in[8] = {LINUX_PROPERTY_DIAGNOSTICS_LOG_BUFFERS};
    uint64_t in_gpa = hvlog_sim_root_page(sim, 0, &in), out_gpa = hvlog_sim_root_page(sim, 1, NULL);
    struct diaglog *t = malloc(sizeof(*t));
    (void)state;

    assert_non_null(t);
#define STATUS(rax) hv_hypercall_result_status(rax)
    assert_int_equal(get_property(sim, HVLOG_SIM_ROOT_ID, GET_PROPERTY,
                                  LINUX_PROPERTY_DIAGNOSTICS_LOG_BUFFERS, &count, &pages), 0);
    assert_int_equal(count, 3);
    assert_int_equal(pages, 2);
    /* Refused: the output stays as it was (0xEE bytes). */
    assert_int_equal(STATUS(get_property(sim, HVLOG_SIM_ROOT_ID, GET_PROPERTY | 0x10000,
                                         LINUX_PROPERTY_DIAGNOSTICS_LOG_BUFFERS, &count, &pages)),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_int_equal(count, 0xEEEEEEEEu);
    assert_int_equal(STATUS(get_property(sim, HVLOG_SIM_ROOT_ID,
                                         GET_PROPERTY | (1ull << 32),
                                         LINUX_PROPERTY_DIAGNOSTICS_LOG_BUFFERS, &count, &pages)),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_int_equal(STATUS(get_property(sim, HVLOG_SIM_ROOT_ID, GET_PROPERTY, 27,
                                         &count, &pages)),
                     HV_STATUS_INVALID_PARAMETER);
    assert_int_equal(count, 0xEEEEEEEEu);
    hvlog_store_le32(in, LINUX_PROPERTY_DIAGNOSTICS_LOG_BUFFERS);
    assert_int_equal(STATUS(hvlog_sim_hypercall(sim, HVLOG_SIM_ROOT_ID, 0, GET_PROPERTY,
                                                in_gpa + 4, out_gpa)),
                     HV_STATUS_INVALID_ALIGNMENT);
    assert_int_equal(STATUS(hvlog_sim_hypercall(sim, HVLOG_SIM_ROOT_ID, 0, GET_PROPERTY,
                                                in_gpa, 1ull << 52)),
                     HV_STATUS_INVALID_ALIGNMENT);
    /* A child, from its own RAM: the root's call only. */
    assert_int_equal(hvlog_sim_gpa_write(sim, HVLOG_SIM_FIRST_CHILD_ID, 0, child_in, 8),
                     HVLOG_GPA_OK);
    assert_int_equal(STATUS(hvlog_sim_hypercall(sim, HVLOG_SIM_FIRST_CHILD_ID, 0,
                                                GET_PROPERTY, 0, 8)),
                     HV_STATUS_ACCESS_DENIED);
    /* Output into a read-only overlay (a mapped ring buffer): an intercept. */
    diaglog_open(t, sim, 1);
    assert_int_equal(hvlog_sim_hypercall(sim, HVLOG_SIM_ROOT_ID, 0, GET_PROPERTY,
                                         in_gpa, t->gpa[0]),
                     HVLOG_SIM_INTERCEPT);
    assert_int_equal(hvlog_sim_intercepts(sim), 1);
    diaglog_close(t);
    hvlog_sim_destroy(sim);

    /* No ring: nothing to map. A ring needs the current profile. */
    c.lockstep = true;
    c.profile.abi = HVLOG_ABI_CURRENT;
    assert_int_equal(hvlog_sim_create(&c, &plain), 0);
    assert_int_equal(get_property(plain, HVLOG_SIM_ROOT_ID, GET_PROPERTY,
                                  LINUX_PROPERTY_DIAGNOSTICS_LOG_BUFFERS, &count, &pages), 0);
    assert_int_equal(count, 0);
    assert_int_equal(pages, 0);
    hvlog_sim_destroy(plain);
    c.profile = hvlog_profile_default();
    c.system_diag_buffers = 2;
    c.system_diag_pages = 1;
    assert_int_equal(hvlog_sim_create(&c, &plain), -1);
    c.profile.abi = HVLOG_ABI_CURRENT;
    c.system_diag_pages = 0; /* the engine's geometry check */
    assert_int_equal(hvlog_sim_create(&c, &plain), -1);
#undef STATUS
    free(t);
}

/* Records of Type @type in the mapped ring (every buffer, header to
 * NextBufferOffset); the last one's payload copied to @payload. */
static uint32_t ring_records_of_type(const struct diaglog *t, uint16_t type, uint8_t *payload,
                                     uint32_t payload_len)
{
    uint32_t found = 0;

    for (uint32_t i = 0; i < t->count; i++) {
        const uint8_t *data = t->view[i] + LINUX_HEADER_BYTES;
        uint32_t end = header_u32(t, i, LINUX_H_NEXT_OFFSET);

        for (uint32_t off = 0; off + ENTRY_HEADER <= end && off + ENTRY_HEADER <= t->data_bytes;) {
            uint32_t size = hvlog_load_le16(data + off + LINUX_E_SIZE);

            if (hvlog_load_le16(data + off + LINUX_E_TYPE) == 0 || size < ENTRY_HEADER)
                break;
            if (hvlog_load_le16(data + off + LINUX_E_TYPE) == type) {
                found++;
                assert_int_equal(size, ENTRY_HEADER + payload_len);
                assert_int_equal(hvlog_load_le32(data + off + LINUX_E_CONTEXT), 0);
                memcpy(payload, data + off + ENTRY_HEADER, payload_len);
            }
            off += (size + 7u) & ~7u;
        }
    }
    return found;
}

/* HvCallLogHypervisorSystemConfig (0x00F8), as mshv_diaglog issues it after
 * mapping (research §1.2): one hvlog-defined configuration record into the
 * ring (sim.h documents it), success; a refused call writes nothing. */
static void log_system_config_writes_one_configuration_record(void **state)
{
    struct hvlog_sim *sim = make_sim(3, 1, true, 1, NULL), *plain;
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct diaglog *t = malloc(sizeof(*t));
    uint8_t payload[HVLOG_SIM_CONFIG_PAYLOAD_BYTES];
    const uint64_t code = HVLOG_SIM_CALL_LOG_SYSTEM_CONFIG;
    (void)state;

    assert_non_null(t);
#define STATUS(rax) hv_hypercall_result_status(rax)
    diaglog_open(t, sim, 1);
    assert_int_equal(ring_records_of_type(t, HVLOG_SIM_CONFIG_ENTRY_TYPE, payload, sizeof payload), 0);
    /* The driver's form: memory, no input, no output (GPAs 0), from VP 1. */
    assert_int_equal(STATUS(hvlog_sim_hypercall(sim, HVLOG_SIM_ROOT_ID, 1, code, 0, 0)),
                     HV_STATUS_SUCCESS);
    assert_int_equal(ring_records_of_type(t, HVLOG_SIM_CONFIG_ENTRY_TYPE, payload, sizeof payload), 1);
    assert_int_equal(hvlog_load_le32(payload + 0), HVLOG_SIM_CONFIG_RECORD_VERSION);
    assert_int_equal(hvlog_load_le32(payload + 4), 1); /* current profile */
    assert_int_equal(hvlog_load_le32(payload + 8), LPS);
    assert_int_equal(hvlog_load_le32(payload + 12), 1);
    assert_int_equal(hvlog_load_le32(payload + 16), 3);
    assert_int_equal(hvlog_load_le32(payload + 20), 1);
    assert_string_equal((const char *)payload + 24, hvlog_version());
    /* Refused, nothing written: a bit above the code, a child caller. */
    assert_int_equal(STATUS(hvlog_sim_hypercall(sim, HVLOG_SIM_ROOT_ID, 0, code | 0x10000, 0, 0)),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_int_equal(STATUS(hvlog_sim_hypercall(sim, HVLOG_SIM_ROOT_ID, 0, code | (1ull << 32), 0, 0)),
                     HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_int_equal(STATUS(hvlog_sim_hypercall(sim, HVLOG_SIM_FIRST_CHILD_ID, 0, code, 0, 0)),
                     HV_STATUS_ACCESS_DENIED);
    assert_int_equal(ring_records_of_type(t, HVLOG_SIM_CONFIG_ENTRY_TYPE, payload, sizeof payload), 1);
    /* Each call writes one more. */
    assert_int_equal(STATUS(hvlog_sim_hypercall(sim, HVLOG_SIM_ROOT_ID, 0, code, 0, 0)),
                     HV_STATUS_SUCCESS);
    assert_int_equal(ring_records_of_type(t, HVLOG_SIM_CONFIG_ENTRY_TYPE, payload, sizeof payload), 2);
    diaglog_close(t);
    hvlog_sim_destroy(sim);

    /* No ring: nothing to write into (our choice, sim.h). */
    c.lockstep = true;
    c.profile.abi = HVLOG_ABI_CURRENT;
    assert_int_equal(hvlog_sim_create(&c, &plain), 0);
    assert_int_equal(STATUS(hvlog_sim_hypercall(plain, HVLOG_SIM_ROOT_ID, 0, code, 0, 0)),
                     HV_STATUS_INVALID_PARAMETER);
    hvlog_sim_destroy(plain);
#undef STATUS
    free(t);
}

/* The workload's share of ring records: with the global share, at most 1000. */
static void workloads_with_too_large_a_ring_share_are_refused(void **state)
{
    struct hvlog_sim *sim = make_sim(2, 1, false, 1, NULL);
    struct hvlog_sim_workload w = {.events_per_lp = 10, .global_per_mille = 600,
                                   .system_per_mille = 401};
    (void)state;

    assert_int_equal(hvlog_sim_start(sim, &w), -1);
    w.system_per_mille = 1001;
    w.global_per_mille = 0;
    assert_int_equal(hvlog_sim_start(sim, &w), -1);
    /* Only ring records: no local row needed. */
    w.system_per_mille = 1000;
    w.local_sources = 0x1; /* no catalogue row */
    assert_int_equal(hvlog_sim_start(sim, &w), 0);
    hvlog_sim_stop(sim);
    hvlog_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lockstep_reader_reads_every_record_once_in_time_order),
        cmocka_unit_test(concurrent_reader_reads_every_record_once_in_time_order),
        cmocka_unit_test(get_system_property_28_answers_the_ring_geometry),
        cmocka_unit_test(workloads_with_too_large_a_ring_share_are_refused),
        cmocka_unit_test(log_system_config_writes_one_configuration_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
