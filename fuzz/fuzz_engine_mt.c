/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness: LP threads log while the fuzzer drives the root
 * (issue 13: fuzz_engine's host is single-threaded, so LPs logging
 * concurrently with root calls were never fuzzed). Built for TSan as well
 * (HVLOG_FUZZ_SANITIZE=thread, fuzz/README.md), where a data race in the
 * engine is a finding.
 *
 * The host is the stress test's (tests/engine/test_engine_stress.c): a
 * locked message FIFO, an atomic clock, and run_on_lp through a mailbox
 * each LP thread serves between two events (spec Q-CONC). The input is a
 * configuration and a list of phases. In a phase every LP thread logs its
 * quota while the root thread runs the phase's operations (drain a ready
 * list and release or unmap, flush a buffer, sources off/on, kick, yield,
 * map Standby buffers again). At the end of a phase the LP threads stop:
 * at that quiescent point the engine's invariants hold
 * (hvlog_engine_check) and every event is accounted for, per LP:
 *     recorded = entries read + entries still in InUse/Complete/Ready buffers
 *     lost     = EventsLost read + EventsLost of those buffers + lost_pending
 * (lost per scope: each LP of a local type, the machine for a global one),
 * and what hvlog_log() returned matches the scope counters. A phase may
 * also conclude (sources off, flush, drain everything): then nothing is
 * left in buffers and read = recorded exactly.
 *
 * Input: byte 0: bit 0 global type, bit 1 current profile (§11), bits 2-3
 * threshold; byte 1: buffers (2..17); then phases of 4 bytes (events per
 * LP / 4, payload length limit, flags: bit 0 conclude; operation count)
 * followed by that many operation bytes.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* the libFuzzer build has no project flags */
#endif
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_host.h"
#include "hvlog/engine/engine.h"
#include "hvlog/engine/log.h"
#include "hvlog/hvlog.h"
#include "hvlog/trace/walk.h"

#define LPS 2u
#define MAX_BUFFERS 17u
#define ROOT_ID 1ull
#define SRC 0x2ull
#define MAX_PHASES 6u
#define QUEUE 64u

static void die(const char *what)
{
    fprintf(stderr, "fuzz_engine_mt: %s\n", what);
    abort();
}

struct mailbox {
    pthread_mutex_t lock;
    pthread_cond_t done_cv;
    void (*fn)(void *);
    void *arg;
    int pending; /* atomic */
    bool online; /* guarded by lock */
};

struct mt {
    struct hvlog_engine *engine;
    struct hvlog_logger *logger;
    struct hvlog_host_ops ops;
    enum hvlog_abi_profile abi;
    uint32_t type, buffers;
    uint64_t clock; /* atomic */
    pthread_mutex_t queue_lock;
    struct hv_message queue[QUEUE];
    uint32_t queue_head, queue_len;
    struct mailbox mailbox[LPS];
    /* Phase control: the root sets quota and bumps phase; LPs count done. */
    pthread_mutex_t phase_lock;
    pthread_cond_t phase_cv;
    uint32_t phase, done, quota, max_len;
    bool quit;
    /* Per LP, written by its thread only while logging, read at quiescence. */
    uint64_t logged[LPS], recorded[LPS], lost[LPS], seq[LPS];
    /* The root's view. */
    uint64_t read[LPS], lost_seen[LPS];
    uint8_t root_mem[2 * 4096];
};

static struct mt m;

static uint64_t mt_clock(void *ctx)
{
    (void)ctx;
    return __atomic_add_fetch(&m.clock, 1, __ATOMIC_RELAXED);
}

static int mt_alloc(void *ctx, uint32_t domain, bool strict, uint32_t count, struct hvlog_pages *out)
{
    (void)ctx, (void)strict;
    out->hva = aligned_alloc(4096, (size_t)count * 4096);
    if (!out->hva)
        return -1;
    out->count = count;
    out->domain = domain;
    out->handle = 0;
    return 0;
}

static void mt_free(void *ctx, const struct hvlog_pages *p)
{
    (void)ctx;
    free(p->hva);
}

static void *mt_mem_alloc(void *ctx, size_t bytes)
{
    (void)ctx;
    return malloc(bytes);
}

static void mt_mem_free(void *ctx, void *memory)
{
    (void)ctx;
    free(memory);
}

static void mt_relax(void *ctx)
{
    (void)ctx;
    sched_yield();
}

static enum hvlog_post_result mt_post(void *ctx, uint32_t vp, const struct hv_message *msg,
                                      uint64_t token)
{
    enum hvlog_post_result r = HVLOG_POST_REFUSED;
    (void)ctx, (void)vp, (void)token;

    pthread_mutex_lock(&m.queue_lock);
    if (m.queue_len < QUEUE) {
        m.queue[(m.queue_head + m.queue_len++) % QUEUE] = *msg;
        r = HVLOG_POST_DELIVERED;
    }
    pthread_mutex_unlock(&m.queue_lock);
    return r;
}

static void mt_run_on_lp(void *ctx, uint32_t lp, void (*fn)(void *), void *arg)
{
    struct mailbox *mb = &m.mailbox[lp];
    (void)ctx;

    pthread_mutex_lock(&mb->lock);
    if (!mb->online) {
        fn(arg); /* the LP is not logging: the mutex is the exclusion */
    } else {
        mb->fn = fn;
        mb->arg = arg;
        __atomic_store_n(&mb->pending, 1, __ATOMIC_RELEASE);
        while (mb->fn)
            pthread_cond_wait(&mb->done_cv, &mb->lock);
    }
    pthread_mutex_unlock(&mb->lock);
}

static void mailbox_serve(struct mailbox *mb)
{
    pthread_mutex_lock(&mb->lock);
    if (mb->fn) {
        mb->fn(mb->arg);
        mb->fn = NULL;
        __atomic_store_n(&mb->pending, 0, __ATOMIC_RELAXED);
        pthread_cond_broadcast(&mb->done_cv);
    }
    pthread_mutex_unlock(&mb->lock);
}

static enum hvlog_gpa_result mt_probe(void *ctx, uint64_t part, uint64_t gpa, uint32_t len, bool w)
{
    (void)ctx, (void)part, (void)w;
    return gpa + len <= sizeof m.root_mem ? HVLOG_GPA_OK : HVLOG_GPA_OUT_OF_RANGE;
}

static enum hvlog_gpa_result mt_read(void *ctx, uint64_t part, uint64_t gpa, void *dst, uint32_t len)
{
    enum hvlog_gpa_result r = mt_probe(ctx, part, gpa, len, false);
    if (r == HVLOG_GPA_OK)
        memcpy(dst, m.root_mem + gpa, len);
    return r;
}

static enum hvlog_gpa_result mt_write(void *ctx, uint64_t part, uint64_t gpa, const void *src,
                                      uint32_t len)
{
    enum hvlog_gpa_result r = mt_probe(ctx, part, gpa, len, true);
    if (r == HVLOG_GPA_OK)
        memcpy(m.root_mem + gpa, src, len);
    return r;
}

/* ---- the LPs ---- */

static void *lp_thread(void *p)
{
    uint32_t lp = (uint32_t)(uintptr_t)p, seen = 0;
    struct mailbox *mb = &m.mailbox[lp];
    uint8_t payload[256];

    for (;;) {
        uint32_t quota, max_len;

        pthread_mutex_lock(&m.phase_lock);
        while (m.phase == seen && !m.quit)
            pthread_cond_wait(&m.phase_cv, &m.phase_lock);
        if (m.quit) {
            pthread_mutex_unlock(&m.phase_lock);
            return NULL;
        }
        seen = m.phase;
        quota = m.quota;
        max_len = m.max_len;
        pthread_mutex_unlock(&m.phase_lock);
        pthread_mutex_lock(&mb->lock);
        mb->online = true;
        pthread_mutex_unlock(&mb->lock);
        for (uint32_t i = 0; i < quota; i++) {
            uint32_t seq = (uint32_t)m.seq[lp]++;
            uint32_t len = 8 + (seq * 2654435761u >> 8) % max_len;
            enum hvlog_log_result r;

            if (__atomic_load_n(&mb->pending, __ATOMIC_ACQUIRE))
                mailbox_serve(mb);
            if (i % 64 == 63)
                sched_yield();
            hvlog_store_le32(payload, lp);
            hvlog_store_le32(payload + 4, seq);
            for (uint32_t k = 8; k < len; k++)
                payload[k] = (uint8_t)(lp * 7 + seq + k);
            r = hvlog_log(m.logger, lp, m.type, SRC, 0x20, seq, payload, len);
            m.logged[lp]++;
            if (r == HVLOG_LOG_RECORDED)
                m.recorded[lp]++;
            else if (r == HVLOG_LOG_LOST)
                m.lost[lp]++;
        }
        pthread_mutex_lock(&mb->lock);
        mb->online = false;
        pthread_mutex_unlock(&mb->lock);
        mailbox_serve(mb);
        pthread_mutex_lock(&m.phase_lock);
        m.done++;
        pthread_cond_broadcast(&m.phase_cv);
        pthread_mutex_unlock(&m.phase_lock);
    }
}

/* ---- the root ---- */

static hv_status_t fast_call(uint16_t code, uint32_t index)
{
    struct hvlog_caller caller = {.partition_id = ROOT_ID, .vp_index = 0};
    struct hvlog_hypercall call = {.rcx = code | HV_HYPERCALL_FAST_BIT};
    const uint32_t w[8] = {m.type, index};
    uint8_t in[FAKE_INPUT_MAX];

    hvlog_fast_pack(in, fake_encode(m.abi, code, w, in), &call.rdx, &call.r8);
    hvlog_engine_hypercall(m.engine, &caller, &call);
    return hv_hypercall_result_status(call.rax);
}

static hv_status_t mem_call(uint16_t code, const uint32_t w[8])
{
    struct hvlog_caller caller = {.partition_id = ROOT_ID, .vp_index = 0};
    struct hvlog_hypercall call = {.rcx = code, .rdx = 0, .r8 = 4096};
    uint8_t in[FAKE_INPUT_MAX];
    uint32_t len = fake_encode(m.abi, code, w, in);

    memcpy(m.root_mem, in, len);
    hvlog_engine_hypercall(m.engine, &caller, &call);
    return hv_hypercall_result_status(call.rax);
}

static void sources(uint64_t mask)
{
    struct hvlog_caller caller = {.partition_id = ROOT_ID};
    /* The 16-byte fast form both profiles accept (§11.3). */
    struct hvlog_hypercall call = {.rcx = HvCallHvSetEventLogGroupSources | HV_HYPERCALL_FAST_BIT,
                                   .rdx = m.type, .r8 = mask};
    hvlog_engine_hypercall(m.engine, &caller, &call);
    if (hv_hypercall_result_status(call.rax) != HV_STATUS_SUCCESS)
        die("SetEventLogGroupSources failed");
}

static void map(uint32_t index)
{
    const uint32_t w[8] = {m.type, index};
    if (mem_call(HvCallHvMapEventLogBuffer, w) != HV_STATUS_SUCCESS)
        die("map of a Standby buffer failed");
}

static void remap_standby(void)
{
    for (uint32_t i = 0; i < m.buffers; i++) {
        struct hvlog_buffer_info info;
        hvlog_engine_buffer_info(m.engine, m.type, i, &info);
        if (info.state == HvEventLogBufferStateStandby)
            map(i);
    }
}

struct count {
    uint64_t entries[LPS];
};

static bool count_entry(void *arg, const struct hvlog_entry *e)
{
    struct count *c = arg;
    uint32_t lp, seq;

    if (e->payload_len < 8)
        die("an entry without the LP's payload");
    lp = hvlog_load_le32(e->payload);
    seq = hvlog_load_le32(e->payload + 4);
    if (lp >= LPS || seq != e->context || e->entry_type != 0x20 ||
        (m.type == HvEventLogTypeLocalDiagnostics && lp != e->logical_processor))
        die("an entry from the wrong LP, or with the wrong context");
    for (uint32_t k = 8; k < e->payload_len; k++)
        if (e->payload[k] != (uint8_t)(lp * 7 + seq + k) && e->payload[k] != 0)
            die("a payload pattern broken");
    c->entries[lp]++;
    return true;
}

/* Walk a buffer the LPs no longer write (Ready, or anything at quiescence). */
static void walk(uint32_t index, uint32_t state, struct count *c, uint64_t lost_seen[LPS])
{
    struct hvlog_buffer_info info;
    struct hvlog_buffer_summary s;
    struct hvlog_walk_expect x = {m.type, index, state, UINT32_MAX};
    enum hvlog_walk_error err;

    hvlog_engine_buffer_info(m.engine, m.type, index, &info);
    if (!info.exists)
        die("a chain names a buffer that does not exist");
    err = hvlog_buffer_walk(info.pages.hva, (size_t)info.pages.count * 4096, m.abi, &x, &s,
                            count_entry, c);
    if (err != HVLOG_WALK_OK) {
        fprintf(stderr, "fuzz_engine_mt: buffer %u (state %u): %s\n", index, state,
                hvlog_walk_error_text(err));
        abort();
    }
    lost_seen[m.type == HvEventLogTypeLocalDiagnostics ? s.logical_processor % LPS : 0] +=
        s.events_lost;
}

static bool take_message(struct hv_message *out)
{
    bool got = false;

    pthread_mutex_lock(&m.queue_lock);
    if (m.queue_len) {
        *out = m.queue[m.queue_head];
        m.queue_head = (m.queue_head + 1) % QUEUE;
        m.queue_len--;
        got = true;
    }
    pthread_mutex_unlock(&m.queue_lock);
    return got;
}

/* Take one ready list, read every buffer, release it (or unmap it). */
static bool drain_one(bool unmap_some)
{
    struct hv_message msg;
    struct hv_eventlog_message_payload pl;
    uint32_t seen[MAX_BUFFERS], n = 0;
    struct count c;

    if (!take_message(&msg))
        return false;
    memset(&c, 0, sizeof c);
    hv_eventlog_message_payload_load(&pl, (const uint8_t *)&msg + HV_MESSAGE_HEADER_SIZE);
    if (pl.event_log_type != m.type)
        die("a ready list of another type");
    for (uint32_t i = pl.buffer_index; i != HV_EVENTLOG_BUFFER_INDEX_NONE;) {
        struct hvlog_buffer_info info;

        if (i >= m.buffers || n == m.buffers)
            die("a ready list leaves the group or loops");
        for (uint32_t k = 0; k < n; k++)
            if (seen[k] == i)
                die("a buffer twice in one ready list");
        seen[n++] = i;
        walk(i, HvEventLogBufferStateReady, &c, m.lost_seen);
        hvlog_engine_buffer_info(m.engine, m.type, i, &info);
        i = info.header.next_buffer_index;
    }
    for (uint32_t lp = 0; lp < LPS; lp++)
        m.read[lp] += c.entries[lp];
    for (uint32_t k = 0; k < n; k++) {
        uint16_t code = unmap_some && k % 2 ? HvCallHvUnmapEventLogBuffer
                                            : HvCallHvReleaseEventLogBuffer;
        if (fast_call(code, seen[k]) != HV_STATUS_SUCCESS)
            die("release or unmap of a Ready buffer failed");
    }
    return true;
}

static void root_op(uint8_t op)
{
    switch (op % 8) {
    case 0: drain_one(false); break;
    case 1: drain_one(true); remap_standby(); break;
    case 2: fast_call(HvCallHvFlushEventLogBuffer, (uint32_t)(op >> 3) % m.buffers); break;
    case 3: sources(0); break;
    case 4: sources(FAKE_ALL_SOURCES); break;
    case 5: hvlog_engine_kick(m.engine); break;
    case 6:
        for (uint32_t i = 0; i < (uint32_t)(op >> 3); i++)
            sched_yield();
        break;
    default: remap_standby(); break;
    }
}

/* The quiescent point: no LP logs; every event is somewhere. */
static void check_conservation(bool concluded)
{
    struct count c;
    uint64_t lost_held[LPS] = {0}, lost_total[LPS] = {0};
    uint32_t scopes = m.type == HvEventLogTypeLocalDiagnostics ? LPS : 1;
    char why[160];

    if (hvlog_engine_check(m.engine, why, sizeof why) != 0)
        die(why);
    memset(&c, 0, sizeof c);
    for (uint32_t i = 0; i < m.buffers; i++) {
        struct hvlog_buffer_info info;
        hvlog_engine_buffer_info(m.engine, m.type, i, &info);
        if (info.state == HvEventLogBufferStateInUse ||
            info.state == HvEventLogBufferStateComplete ||
            info.state == HvEventLogBufferStateReady)
            walk(i, info.state, &c, lost_held);
    }
    for (uint32_t lp = 0; lp < LPS; lp++) {
        if (m.read[lp] + c.entries[lp] != m.recorded[lp]) {
            fprintf(stderr, "fuzz_engine_mt: LP %u recorded %llu, read %llu, held %llu\n", lp,
                    (unsigned long long)m.recorded[lp], (unsigned long long)m.read[lp],
                    (unsigned long long)c.entries[lp]);
            abort();
        }
        if (concluded && c.entries[lp] != 0)
            die("entries left in buffers after the group was drained");
        lost_total[m.type == HvEventLogTypeLocalDiagnostics ? lp : 0] += m.lost[lp];
    }
    for (uint32_t sc = 0; sc < scopes; sc++) {
        struct hvlog_scope_stats st;

        if (hvlog_engine_scope_stats(m.engine, m.type, sc, &st) != 0)
            die("no scope stats");
        if (st.events_lost_no_buffer + st.events_lost_too_large + st.events_lost_nested !=
            lost_total[sc])
            die("the scope's loss counters differ from what hvlog_log() returned");
        if (m.lost_seen[sc] + lost_held[sc] + st.lost_pending != lost_total[sc]) {
            fprintf(stderr,
                    "fuzz_engine_mt: scope %u lost %llu: EventsLost read %llu, held %llu, "
                    "pending %u\n",
                    sc, (unsigned long long)lost_total[sc], (unsigned long long)m.lost_seen[sc],
                    (unsigned long long)lost_held[sc], st.lost_pending);
            abort();
        }
    }
}

static void conclude(void)
{
    sources(0);
    for (int round = 0; round < 4; round++) {
        for (uint32_t i = 0; i < m.buffers; i++)
            fast_call(HvCallHvFlushEventLogBuffer, i);
        while (drain_one(false))
            ;
        remap_standby();
    }
}

static void run_phase(uint32_t quota, uint32_t max_len, const uint8_t *ops, uint32_t nops)
{
    pthread_mutex_lock(&m.phase_lock);
    m.quota = quota;
    m.max_len = max_len;
    m.done = 0;
    m.phase++;
    pthread_cond_broadcast(&m.phase_cv);
    pthread_mutex_unlock(&m.phase_lock);
    for (uint32_t k = 0; k < nops; k++)
        root_op(ops[k]);
    for (;;) {
        bool all;

        pthread_mutex_lock(&m.phase_lock);
        all = m.done == LPS;
        pthread_mutex_unlock(&m.phase_lock);
        if (all)
            break;
        /* Keep the ready lists moving while the LPs finish. */
        if (!drain_one(false))
            sched_yield();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pthread_t threads[LPS];
    struct hvlog_engine_config cfg;
    struct hvlog_profile profile;
    uint32_t w[8] = {0};
    size_t at = 2;

    if (size < 2)
        return 0;
    memset(&m, 0, sizeof m);
    m.type = data[0] & 1 ? HvEventLogTypeGlobalSystemEvents : HvEventLogTypeLocalDiagnostics;
    m.abi = data[0] & 2 ? HVLOG_ABI_CURRENT : HVLOG_ABI_2013;
    m.buffers = 2 + data[1] % 16u;
    profile = hvlog_profile_preset(m.abi);
    pthread_mutex_init(&m.queue_lock, NULL);
    pthread_mutex_init(&m.phase_lock, NULL);
    pthread_cond_init(&m.phase_cv, NULL);
    m.ops = (struct hvlog_host_ops){
        .size = sizeof(struct hvlog_host_ops), .mem_alloc = mt_mem_alloc, .mem_free = mt_mem_free,
        .relax = mt_relax, .ref_time_100ns = mt_clock, .pages_alloc = mt_alloc, .pages_free = mt_free,
        .gpa_probe = mt_probe, .gpa_read = mt_read, .gpa_write = mt_write,
        .post_message = mt_post, .run_on_lp = mt_run_on_lp,
    };
    cfg = (struct hvlog_engine_config){.size = sizeof(cfg), .lp_count = LPS, .root_vp_count = LPS,
                                       .root_partition_id = ROOT_ID, .profile = profile,
                                       .ops = &m.ops, .ctx = &m};
    if (hvlog_engine_create(&cfg, &m.engine) != 0)
        die("engine create failed");
    m.logger = hvlog_engine_logger(m.engine);
    w[0] = m.type;
    w[1] = m.buffers;
    w[2] = 1;                    /* one page per buffer */
    w[3] = 1 + (data[0] >> 2 & 3u) % (m.buffers - 1); /* threshold, below the count */
    if (mem_call(HvCallHvInitializeEventLogBufferGroup, w) != HV_STATUS_SUCCESS)
        die("Initialize failed");
    for (uint32_t i = 0; i < m.buffers; i++) {
        struct hvlog_caller caller = {.partition_id = ROOT_ID};
        struct hvlog_hypercall call = {.rcx = HvCallHvCreateEventLogBuffer | HV_HYPERCALL_FAST_BIT,
                                       .rdx = ((uint64_t)i << 32) | m.type};
        hvlog_engine_hypercall(m.engine, &caller, &call);
        if (hv_hypercall_result_status(call.rax) != HV_STATUS_SUCCESS)
            die("Create failed");
        map(i);
    }
    sources(FAKE_ALL_SOURCES);
    for (uint32_t lp = 0; lp < LPS; lp++) {
        pthread_mutex_init(&m.mailbox[lp].lock, NULL);
        pthread_cond_init(&m.mailbox[lp].done_cv, NULL);
        if (pthread_create(&threads[lp], NULL, lp_thread, (void *)(uintptr_t)lp) != 0)
            die("no LP thread");
    }
    for (uint32_t phase = 0; phase < MAX_PHASES && size - at >= 4; phase++) {
        const uint8_t *ph = data + at;
        uint32_t nops = ph[3] % 48u;

        at += 4;
        if (nops > size - at)
            nops = (uint32_t)(size - at);
        run_phase(4u * ph[0], 1 + ph[1] % 200u, data + at, nops);
        at += nops;
        if (ph[2] & 1) {
            conclude();
            check_conservation(true);
            sources(FAKE_ALL_SOURCES);
        } else {
            check_conservation(false);
        }
    }
    pthread_mutex_lock(&m.phase_lock);
    m.quit = true;
    pthread_cond_broadcast(&m.phase_cv);
    pthread_mutex_unlock(&m.phase_lock);
    for (uint32_t lp = 0; lp < LPS; lp++)
        pthread_join(threads[lp], NULL);
    conclude(); /* its flushes still go through the (offline) mailboxes */
    check_conservation(true);
    hvlog_engine_destroy(m.engine);
    for (uint32_t lp = 0; lp < LPS; lp++) {
        pthread_mutex_destroy(&m.mailbox[lp].lock);
        pthread_cond_destroy(&m.mailbox[lp].done_cv);
    }
    pthread_mutex_destroy(&m.queue_lock);
    pthread_mutex_destroy(&m.phase_lock);
    pthread_cond_destroy(&m.phase_cv);
    return 0;
}
