/* SPDX-License-Identifier: MIT */
/*
 * The root VP's SynIC on a real vCPU (src/kvm/root_synic.c): the SynIC
 * MSRs trap through an MSR filter to the sim's SynIC, and the SINT0
 * interrupt the sim raises is injected into the guest, whose handler
 * takes each message out of a real SIM page and writes EOM by wrmsr.
 *
 *   - MessagePending and EOM under pressure: the guest flushes buffers
 *     with interrupts off (messages pile up in the SynIC), then this
 *     thread completes buffers far faster than the guest takes their
 *     messages. Every message the SynIC put into the slot reached the
 *     guest exactly once and in the slot's order; the engine's
 *     notifications, the sim's interrupts and the guest's messages agree;
 *     EOMs = messages seen with MessagePending, and MessagePending was
 *     seen; nothing is left queued at the end.
 *   - a SINT0 write with a vector below 16 is a #GP in the guest.
 *   - the interrupt state on its own (no VM): coalescing, the interrupt
 *     window, halts woken by a vector or by a wake.
 *
 * Without a usable /dev/kvm the program prints why and exits 77 (CTest
 * SKIP). LABEL kvm; time budget: about 1 s, 120 s at most (waits are
 * bounded by a 60 s deadline each, never asserted as durations).
 */
#define _GNU_SOURCE
#include <linux/kvm.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "hvlog/abi/hypercall.h"
#include "hvlog/abi/synic.h"
#include "hvlog/hvlog.h"
#include "hvlog/kvm/kvm.h"
#include "kvm/kvm_internal.h"
#include "sim_root.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define GLOBAL HvEventLogTypeGlobalSystemEvents
#define LPS 2u
#define BUFFERS 512u      /* per group: enough that none is reused (no Release) */
#define PRESSURE_ROUNDS 120u /* 240 LOCAL + 120 GLOBAL buffers, within BUFFERS */
#define PAYLOAD_BYTES 480u
#define EVENTS_PER_BUFFER 8u /* entries of 16 + 480 bytes a one-page buffer holds */
#define MAX_FILLS 4096u
#define DEADLINE_NS 60000000000ull

/* What the sim put into the SINT0 slot, in its order (the test's hook). */
struct fills {
    struct hvlog__kvm_root_sint *sint; /* set before the vCPU runs */
    uint64_t msg[MAX_FILLS];           /* EventLogType << 32 | BufferIndex */
    uint32_t count;                    /* atomic: written under the sim's VP lock */
    uint32_t odd;                      /* edges on another SINT or vector */
};

static void fills_hook(void *ctx, uint32_t vp, uint32_t sint, uint8_t vector,
                       const struct hv_message *msg)
{
    struct fills *f = ctx;
    const uint8_t *m = (const uint8_t *)msg;
    uint32_t n = __atomic_load_n(&f->count, __ATOMIC_RELAXED);

    if (sint != HV_EVENTLOG_SINT || vector != KVM_SYNIC_VECTOR || vp != 0)
        f->odd++;
    if (n < MAX_FILLS)
        f->msg[n] = (uint64_t)hvlog_load_le32(m + 16) << 32 | hvlog_load_le32(m + 20);
    __atomic_store_n(&f->count, n + 1, __ATOMIC_RELEASE);
    hvlog__kvm_root_sint_raise(f->sint, vector);
}

struct world {
    struct hvlog_sim *sim;
    struct sim_root root;
    struct hvlog__kvm_synic_vm *vm;
    struct fills *fills;
    pthread_t thread;
    int rc;
    char why[256];
};

static uint64_t data(const struct world *w, uint32_t field)
{
    return __atomic_load_n((const uint64_t *)(const void *)(w->vm->ram + KVM_SYNIC_DATA_GPA + field),
                           __ATOMIC_ACQUIRE);
}

static void store_data(struct world *w, uint32_t field, uint64_t value)
{
    __atomic_store_n((uint64_t *)(void *)(w->vm->ram + KVM_SYNIC_DATA_GPA + field), value,
                     __ATOMIC_RELEASE);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void nap(void)
{
    struct timespec ts = {0, 200000};

    nanosleep(&ts, NULL);
}

static void *vcpu_main(void *arg)
{
    struct world *w = arg;

    w->rc = hvlog__kvm_synic_vm_run(w->vm, w->why, sizeof w->why);
    return NULL;
}

static void kick_handler(int signo)
{
    (void)signo; /* only to take KVM_RUN out of the guest */
}

/* The guest enabled its SynIC (SCONTROL, SIMP, SINT0) by wrmsr. */
static bool guest_synic_on(struct world *w)
{
    uint64_t scontrol = 0, sint0 = 0;

    return hvlog_sim_rdmsr(w->sim, 0, HV_X64_MSR_SCONTROL, &scontrol) == 0 && scontrol == 1 &&
           hvlog_sim_rdmsr(w->sim, 0, HV_X64_MSR_SINT0, &sint0) == 0 && sint0 == KVM_SYNIC_VECTOR;
}

/* Nothing in flight: the guest took every message the slot saw, the
 * slot is empty and no group has a message queued or a list due. */
static bool quiet(struct world *w)
{
    const uint8_t *slot = hvlog_sim_sim_page(w->sim, 0);
    uint32_t types[] = {LOCAL, GLOBAL};

    if (!slot || __atomic_load_n((const uint32_t *)(const void *)slot, __ATOMIC_ACQUIRE) != 0)
        return false;
    if (data(w, KVM_SYNIC_MESSAGES) != __atomic_load_n(&w->fills->count, __ATOMIC_ACQUIRE))
        return false;
    for (uint32_t i = 0; i < 2; i++) {
        struct hvlog_group_info g;

        assert_int_equal(hvlog_engine_group_info(hvlog_sim_engine(w->sim), types[i], &g), 0);
        if (g.message_busy || g.due_lists)
            return false;
    }
    return true;
}

static void wait_until(struct world *w, bool (*cond)(struct world *), const char *what)
{
    uint64_t deadline = now_ns() + DEADLINE_NS;

    while (!cond(w)) {
        if (now_ns() > deadline)
            fail_msg("timed out waiting until %s (vCPU: %s)", what, w->why[0] ? w->why : "running");
        nap();
    }
}

/* Wait until the guest moved data field @field away from @was. */
static void wait_moved(struct world *w, uint32_t field, uint64_t was, const char *what)
{
    uint64_t deadline = now_ns() + DEADLINE_NS;

    while (data(w, field) == was) {
        if (now_ns() > deadline)
            fail_msg("timed out waiting until %s (vCPU: %s)", what, w->why[0] ? w->why : "running");
        nap();
    }
}

/* The guest issues the call table with interrupts off, then idles. */
static void guest_calls(struct world *w, const struct hvlog_kvm_call *calls, uint32_t count)
{
    uint8_t *table = w->vm->ram + KVM_ROOT_TABLE_GPA;
    uint64_t done = data(w, KVM_SYNIC_CMDS_DONE);

    assert_true(count <= HVLOG_KVM_ROOT_MAX_CALLS);
    hvlog_store_le64(table, count);
    for (uint32_t i = 0; i < count; i++) {
        hvlog_store_le64(table + 8 + 32 * i, calls[i].rcx);
        hvlog_store_le64(table + 8 + 32 * i + 8, calls[i].rdx);
        hvlog_store_le64(table + 8 + 32 * i + 16, calls[i].r8);
        hvlog_store_le64(table + 8 + 32 * i + 24, UINT64_MAX);
    }
    store_data(w, KVM_SYNIC_CMD, KVM_SYNIC_CMD_CALLS);
    hvlog__kvm_root_sint_wake(&w->vm->sint);
    wait_moved(w, KVM_SYNIC_CMDS_DONE, done, "the guest ran its calls");
    for (uint32_t i = 0; i < count; i++)
        assert_int_equal(hv_hypercall_result_status(hvlog_load_le64(table + 8 + 32 * i + 24)),
                         HV_STATUS_SUCCESS);
}

/* A Flush row for every buffer InUse now (§5.9: completes it and
 * notifies its list whatever the threshold). Returns the rows. */
static uint32_t flush_rows(struct world *w, struct hvlog_kvm_call *calls)
{
    uint32_t n = 0;

    for (uint32_t t = 0; t < 2; t++) {
        uint32_t type = t == 0 ? LOCAL : GLOBAL;

        for (uint32_t scope = 0; scope < (type == LOCAL ? LPS : 1u); scope++) {
            struct hvlog_scope_stats st;

            assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(w->sim), type, scope, &st), 0);
            if (st.active_index == HV_EVENTLOG_BUFFER_INDEX_NONE)
                continue;
            calls[n++] = (struct hvlog_kvm_call){
                .rcx = HvCallHvFlushEventLogBuffer | HV_HYPERCALL_FAST_BIT,
                .rdx = (uint64_t)st.active_index << 32 | type,
            };
        }
    }
    return n;
}

static void log_events(struct world *w, uint32_t lp, uint32_t type, uint32_t count)
{
    uint8_t payload[PAYLOAD_BYTES];

    memset(payload, 0x5A, sizeof payload);
    for (uint32_t i = 0; i < count; i++) {
        enum hvlog_log_result r = hvlog_sim_log(w->sim, lp, type, 1, 0x20, i, payload, sizeof payload);

        assert_true(r == HVLOG_LOG_RECORDED || r == HVLOG_LOG_LOST);
    }
}

static void test_message_pending_and_eom_under_pressure(void **state)
{
    struct hvlog_sim_config c = hvlog_sim_config_default();
    struct world *w = calloc(1, sizeof *w);
    struct hvlog_kvm_call calls[8];
    struct sigaction sa;
    uint64_t notifications = 0, n, messages;
    uint32_t rows;
    char why[256];
    (void)state;

    assert_non_null(w);
    w->fills = calloc(1, sizeof *w->fills);
    assert_non_null(w->fills);
    c.lps = LPS;
    c.lockstep = true;
    c.children = 0;
    assert_int_equal(hvlog_sim_create(&c, &w->sim), 0);
    root_attach(&w->root, w->sim);
    for (uint32_t t = 0; t < 2; t++) {
        uint32_t type = t == 0 ? LOCAL : GLOBAL;

        /* One page each, threshold 1: every completed buffer is a ready
         * list at once. */
        root_prepare(&w->root, type, BUFFERS, 1, 1);
        assert_int_equal(root_sources(&w->root, type, ~0ull), 0);
    }

    if (hvlog__kvm_synic_vm_create(w->sim, 0, fills_hook, w->fills, &w->vm, why, sizeof why) != 0)
        fail_msg("%s", why);
    w->fills->sint = &w->vm->sint;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = kick_handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
    hvlog__kvm_root_sint_kick_with(&w->vm->sint, SIGUSR1);
    assert_int_equal(pthread_create(&w->thread, NULL, vcpu_main, w), 0);
    wait_until(w, guest_synic_on, "the guest enabled its SynIC");

    /* 1. The guest's own Flushes, interrupts off: the first list takes
     * the slot, the others queue behind it (MessagePending). */
    log_events(w, 0, LOCAL, 3);
    log_events(w, 1, LOCAL, 3);
    log_events(w, 0, GLOBAL, 3);
    rows = flush_rows(w, calls);
    assert_int_equal(rows, 3);
    guest_calls(w, calls, rows);
    wait_until(w, quiet, "the guest took the flushed lists' messages");
    assert_int_equal(data(w, KVM_SYNIC_MESSAGES), 3);
    assert_true(data(w, KVM_SYNIC_PENDING) >= 1);

    /* 2. A guest that spins with interrupts on and never exits: only a
     * kick brings it the interrupt of a message this thread causes. */
    {
        uint64_t spins = data(w, KVM_SYNIC_SPINNING), done = data(w, KVM_SYNIC_CMDS_DONE);

        store_data(w, KVM_SYNIC_TARGET, data(w, KVM_SYNIC_MESSAGES) + 1);
        store_data(w, KVM_SYNIC_CMD, KVM_SYNIC_CMD_SPIN);
        hvlog__kvm_root_sint_wake(&w->vm->sint);
        wait_moved(w, KVM_SYNIC_SPINNING, spins, "the guest spins");
        log_events(w, 0, LOCAL, EVENTS_PER_BUFFER + 1); /* one buffer completes: a message */
        wait_moved(w, KVM_SYNIC_CMDS_DONE, done, "an interrupt reached the spinning guest");
        assert_true(w->vm->sint.kicks >= 1);
        wait_until(w, quiet, "the spinning guest's message was taken");
    }

    /* 3. Pressure from this thread: rounds of about one buffer completed
     * (threshold 1) per LP and type, far faster than the guest takes
     * messages, with a pause for the guest every few rounds so that the
     * lists stay short and the messages many. The guest halts, or runs
     * its handler, meanwhile. */
    for (uint32_t round = 0; round < PRESSURE_ROUNDS; round++) {
        for (uint32_t lp = 0; lp < LPS; lp++)
            log_events(w, lp, LOCAL, EVENTS_PER_BUFFER + 1);
        log_events(w, round % LPS, GLOBAL, EVENTS_PER_BUFFER + 1);
        if (round % 8 == 7)
            wait_until(w, quiet, "the guest caught up");
    }
    wait_until(w, quiet, "the guest took every message of the pressure run");

    /* 4. The guest flushes what is still InUse. */
    rows = flush_rows(w, calls);
    if (rows)
        guest_calls(w, calls, rows);
    wait_until(w, quiet, "the guest took the last messages");

    /* The end: STOP, and the vCPU leaves at `cli; hlt`. */
    store_data(w, KVM_SYNIC_CMD, KVM_SYNIC_CMD_STOP);
    hvlog__kvm_root_sint_wake(&w->vm->sint);
    assert_int_equal(pthread_join(w->thread, NULL), 0);
    if (w->rc != 0)
        fail_msg("vCPU: %s", w->why);

    /* Every message the slot saw reached the guest exactly once, in order. */
    n = w->fills->count;
    messages = data(w, KVM_SYNIC_MESSAGES);
    printf("# %llu messages, %llu with MessagePending, %llu interrupts injected of %llu raised, "
           "%llu spurious, %llu kicks, %llu halts\n",
           (unsigned long long)messages, (unsigned long long)data(w, KVM_SYNIC_PENDING),
           (unsigned long long)w->vm->sint.injected, (unsigned long long)w->vm->sint.raised,
           (unsigned long long)data(w, KVM_SYNIC_SPURIOUS), (unsigned long long)w->vm->sint.kicks,
           (unsigned long long)w->vm->halts);
    assert_int_equal(messages, n);
    assert_true(n <= KVM_SYNIC_LOG_MAX && n <= MAX_FILLS);
    assert_true(n > 3);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t got = hvlog_load_le64(w->vm->ram + KVM_SYNIC_LOG_GPA + 8 * i);

        if (got != w->fills->msg[i])
            fail_msg("message %llu: the guest read 0x%llx, the slot held 0x%llx", (unsigned long long)i,
                     (unsigned long long)got, (unsigned long long)w->fills->msg[i]);
    }
    assert_int_equal(w->fills->odd, 0);
    assert_int_equal(data(w, KVM_SYNIC_BAD), 0);

    /* What the engine posted is what the slot saw: one notification per
     * ready list, one interrupt per slot fill. */
    for (uint32_t scope = 0; scope < LPS; scope++) {
        struct hvlog_scope_stats st;

        assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(w->sim), LOCAL, scope, &st), 0);
        notifications += st.notifications;
    }
    {
        struct hvlog_scope_stats st;

        assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(w->sim), GLOBAL, 0, &st), 0);
        notifications += st.notifications;
    }
    assert_int_equal(notifications, n);
    assert_int_equal(hvlog_sim_sint_interrupts(w->sim, 0), n);
    assert_int_equal(w->vm->sint.raised, n);

    /* Each injection ran the handler once: a message, or a spurious one
     * (a coalesced edge whose message an earlier run took). */
    assert_int_equal(data(w, KVM_SYNIC_INTERRUPTS), w->vm->sint.injected);
    assert_int_equal(data(w, KVM_SYNIC_INTERRUPTS), n + data(w, KVM_SYNIC_SPURIOUS));
    assert_true(w->vm->sint.injected <= w->vm->sint.raised);

    /* EOM: written exactly when MessagePending was seen, and it was. */
    assert_true(data(w, KVM_SYNIC_PENDING) >= 1);
    assert_int_equal(w->vm->eoms, data(w, KVM_SYNIC_PENDING));
    assert_true(w->vm->halts >= 1);

    /* Nothing left queued. */
    assert_true(quiet(w));
    assert_int_equal(hvlog_engine_check(hvlog_sim_engine(w->sim), why, sizeof why), 0);

    /* The bad SINT0 write (vector 5): #GP in the guest, from the sim's -1. */
    assert_int_equal(data(w, KVM_SYNIC_GPS), 1);
    assert_int_equal(w->vm->msr_errors, 1);
    assert_int_equal(data(w, KVM_SYNIC_SVERSION), 1);

    hvlog__kvm_synic_vm_destroy(w->vm);
    hvlog_sim_destroy(w->sim);
    signal(SIGUSR1, SIG_DFL);
    free(w->fills);
    free(w);
}

/* ---- the interrupt state alone: a kvm_run of our own, no vCPU ---- */

static void test_edges_coalesce_and_wait_for_a_window(void **state)
{
    struct hvlog__kvm_root_sint s;
    struct kvm_run run;
    (void)state;

    memset(&run, 0, sizeof run);
    hvlog__kvm_root_sint_init(&s, 0);
    hvlog__kvm_root_sint_raise(&s, KVM_SYNIC_VECTOR);
    hvlog__kvm_root_sint_raise(&s, KVM_SYNIC_VECTOR);
    assert_int_equal(s.raised, 2);

    /* IF clear: nothing injected (no ioctl on the bad fd), a window asked. */
    run.ready_for_interrupt_injection = 1;
    run.if_flag = 0;
    run.immediate_exit = 1;
    assert_int_equal(hvlog__kvm_root_sint_before_run(&s, -1, &run), 0);
    assert_int_equal(run.request_interrupt_window, 1);
    assert_int_equal(run.immediate_exit, 0);
    assert_int_equal(s.injected, 0);

    /* Not ready (an interrupt shadow): the same. */
    run.ready_for_interrupt_injection = 0;
    run.if_flag = 1;
    assert_int_equal(hvlog__kvm_root_sint_before_run(&s, -1, &run), 0);
    assert_int_equal(run.request_interrupt_window, 1);

    /* A vector is pending: a halt returns at once, saying so. */
    assert_true(hvlog__kvm_root_sint_halt(&s));

    /* Ready and IF set: KVM_INTERRUPT is tried (it fails on fd -1), and
     * the vector stays pending: never lost. */
    run.ready_for_interrupt_injection = 1;
    assert_int_equal(hvlog__kvm_root_sint_before_run(&s, -1, &run), -1);
    assert_int_equal(run.request_interrupt_window, 1);
    assert_true(hvlog__kvm_root_sint_halt(&s));
    hvlog__kvm_root_sint_fini(&s);
}

struct waker {
    struct hvlog__kvm_root_sint *s;
    bool vector; /* raise a vector, else wake */
};

static void *wake_later(void *arg)
{
    struct waker *k = arg;

    if (k->vector)
        hvlog__kvm_root_sint_raise(k->s, KVM_SYNIC_VECTOR);
    else
        hvlog__kvm_root_sint_wake(k->s);
    return NULL;
}

static void test_a_halt_ends_with_a_vector_or_a_wake(void **state)
{
    struct hvlog__kvm_root_sint s;
    pthread_t t;
    (void)state;

    hvlog__kvm_root_sint_init(&s, 0);
    for (int vector = 0; vector < 2; vector++) {
        struct waker k = {&s, vector == 1};

        /* The other thread may run before or during the halt: either way
         * the halt ends (the flag and the bit are set under the lock). */
        assert_int_equal(pthread_create(&t, NULL, wake_later, &k), 0);
        assert_int_equal(hvlog__kvm_root_sint_halt(&s), vector == 1);
        assert_int_equal(pthread_join(t, NULL), 0);
    }
    hvlog__kvm_root_sint_fini(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges_coalesce_and_wait_for_a_window),
        cmocka_unit_test(test_a_halt_ends_with_a_vector_or_a_wake),
        cmocka_unit_test(test_message_pending_and_eom_under_pressure),
    };
    char why[256];

    if (hvlog_kvm_probe(why, sizeof why) != 0) {
        printf("SKIP: the KVM host cannot run here: %s\n", why);
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
