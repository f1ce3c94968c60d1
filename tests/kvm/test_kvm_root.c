/* SPDX-License-Identifier: MIT */
/*
 * The root is a real guest (hvlog/kvm/kvm.h hvlog_kvm_root_*; issue 15
 * items 2-3): the guest root program, built freestanding from hvlog's own
 * client, prepares the group through the hypercall page, drains the ready
 * lists it finds in its SIM page, and hands every released buffer to the
 * VMM through its ring and doorbell, while a child VM's vCPUs (the LPs)
 * log their exits.
 *
 *   - conservation per LP: entries the VMM received + EventsLost (+ what
 *     the engine still holds for the next buffer) == exits logged, and the
 *     guest's own counts agree with what reached the VMM;
 *   - the guest is interrupt-driven (§8.5): SINT0 was injected as a real
 *     interrupt and its handler ran once per injection, the messages the
 *     guest handled are the engine's notifications, and it drained only
 *     when woken by one (rounds <= interrupts); a buffer completed while
 *     the guest idles in HLT reaches the VMM before stop (the interrupt
 *     woke the main loop, not the conclude), and stop wakes a guest that
 *     waits for nothing;
 *   - a guest store to a mapped buffer is refused: the §5.5 intercept is
 *     counted and the byte reads back unchanged in the guest;
 *   - teardown leaves no VM fd and no thread behind;
 *   - a guest that loops without an exit after the stop word is stopped
 *     by force once stop's deadline passed: stop returns, fails, says so
 *     in one line, and leaves nothing behind (no fd, thread or signal);
 *   - a guest whose Initialize fails is reported (step, status), a #GP in
 *     the guest is taken by its handler and reported with its RIP, and a
 *     sim without room for the guest is refused, nothing left open.
 *
 * Without a usable /dev/kvm the program prints why and exits 77 (CTest
 * SKIP_RETURN_CODE). LABEL kvm; time budget: about 2 s, 120 s at most.
 */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "hvlog/abi/catalog.h"
#include "hvlog/hvlog.h"
#include "hvlog/kvm/kvm.h"
#include "hvlog/sim/sim.h"
#include "hvlog/trace/walk.h"
#include "kvm_test_util.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define MAX_LPS 4
#define LOOP 16u /* the default mix's operations per guest loop */

struct got {
    uint64_t buffers, bytes, bad_buffers, not_exits;
    uint64_t entries[MAX_LPS];
    uint64_t events_lost[MAX_LPS];
};

static bool is_exit(void *arg, const struct hvlog_entry *e)
{
    struct got *g = arg;

    switch (e->entry_type) {
    case HV_TR_IM_IO_PORT_WRITE:
    case HV_TR_IM_IO_PORT_READ:
    case HV_TR_IM_MEMORY_INTERCEPT:
    case HV_TR_IM_MSR_READ:
    case HV_TR_IM_MSR_WRITE:
    case HV_TR_IM_HLT:
        break;
    default:
        g->not_exits++;
    }
    return true;
}

/* The VMM's side of the ring: each buffer the guest released, checked
 * again here (the guest is not trusted), counted per LP. */
static void on_buffer(void *arg, uint32_t type, uint32_t index, const uint8_t *bytes, size_t len)
{
    struct got *g = arg;
    struct hvlog_walk_expect expect = {type, index, UINT32_MAX, (uint32_t)len};
    struct hvlog_buffer_summary s;

    __atomic_fetch_add(&g->buffers, 1, __ATOMIC_RELEASE); /* the test thread may watch it */
    g->bytes += len;
    if (hvlog_buffer_walk(bytes, len, HVLOG_ABI_2013, &expect, &s, is_exit, g) != HVLOG_WALK_OK ||
        s.logical_processor >= MAX_LPS) {
        g->bad_buffers++;
        return;
    }
    g->entries[s.logical_processor] += s.entries;
    g->events_lost[s.logical_processor] += s.events_lost;
}

static struct hvlog_sim *sim_up(uint32_t lps)
{
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct hvlog_sim *sim;

    cfg.lps = lps;
    cfg.children = 1;
    cfg.pool_pages = 512;
    cfg.root_ram_pages = HVLOG_KVM_ROOT_RAM_PAGES;
    assert_int_equal(hvlog_sim_create(&cfg, &sim), 0);
    return sim;
}

static struct hvlog_kvm_root_config root_config(uint32_t buffers, struct got *g)
{
    struct hvlog_kvm_root_config rc;

    memset(&rc, 0, sizeof rc);
    rc.abi = HVLOG_ABI_2013;
    rc.groups[LOCAL] = (struct hvlog_kvm_root_group){
        .enabled = true, .buffers = buffers, .pages = 1, .threshold = 1,
        .time_basis = HvEventLogEntryTimeReference, .mode = HvEventLogModeRegular,
        .system_time = 0, .sources = ~0ull};
    rc.buffer = on_buffer;
    rc.arg = g;
    return rc;
}

static void nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The LPs run @loops guest loops each while the guest root drains. */
static void test_guest_root_conservation(void **state)
{
    const uint32_t lps = 2;
    const uint64_t loops = 200;
    struct hvlog_sim *sim = sim_up(lps);
    struct got *g = calloc(1, sizeof *g);
    struct hvlog_kvm_root_config rc;
    struct hvlog_kvm_config kc = hvlog_kvm_config_default(lps);
    struct hvlog_kvm_root *root = NULL;
    struct hvlog_kvm *kvm = NULL;
    struct hvlog_kvm_root_result res;
    uint64_t entries = 0, lost = 0, notifications = 0;
    char why[256] = "";

    (void)state;
    assert_non_null(g);
    rc = root_config(16, g);
    if (hvlog_kvm_root_start(sim, &rc, &root, why, sizeof why) != 0)
        fail_msg("root: %s", why);
    /* The reference time the guest read at Initialize (the trace's
     * anchor) is known as soon as start returns. */
    hvlog_kvm_root_result(root, LOCAL, &res);
    assert_true(res.reference_time_known);
    kc.exits_per_vcpu = loops * LOOP;
    if (hvlog_kvm_create(sim, &kc, &kvm, why, sizeof why) != 0)
        fail_msg("child: %s", why);
    assert_int_equal(hvlog_kvm_start(kvm), 0);
    while (hvlog_kvm_running(kvm))
        nap_ms(1);
    hvlog_kvm_stop(kvm);
    if (hvlog_kvm_error(kvm))
        fail_msg("child: %s", hvlog_kvm_error(kvm));
    if (hvlog_kvm_root_stop(root, why, sizeof why) != 0)
        fail_msg("root: %s", why);
    assert_int_equal(g->bad_buffers, 0);
    assert_int_equal(g->not_exits, 0);
    assert_true(g->buffers > 0);
    for (uint32_t lp = 0; lp < lps; lp++) {
        struct hvlog_kvm_counts c;
        struct hvlog_scope_stats st;

        hvlog_kvm_counts(kvm, lp, &c);
        assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(sim), LOCAL, lp, &st), 0);
        assert_int_equal(c.exits_total, loops * LOOP);
        assert_int_equal(c.logged, c.exits_total);
        /* §7.4: read + EventsLost (+ losses the engine holds for the
         * next buffer, which never came) == logged. */
        if (g->entries[lp] + g->events_lost[lp] + st.lost_pending != c.logged)
            fail_msg("LP %u: %llu read + %llu lost + %u pending != %llu logged", lp,
                     (unsigned long long)g->entries[lp], (unsigned long long)g->events_lost[lp],
                     st.lost_pending, (unsigned long long)c.logged);
        assert_int_equal(g->events_lost[lp] + st.lost_pending, c.lost);
        notifications += st.notifications;
        entries += g->entries[lp];
        lost += g->events_lost[lp];
    }
    /* The guest's client counted what the VMM received, no more, no less. */
    hvlog_kvm_root_result(root, LOCAL, &res);
    if (getenv("HVLOG_TEST_VERBOSE"))
        printf("guest root: %llu interrupts (%llu injected, %llu raised), %llu rounds, "
               "%llu messages, %llu notifications, %llu buffers, %llu entries, %llu lost, "
               "chain %u\n",
               (unsigned long long)res.interrupts, (unsigned long long)res.injected,
               (unsigned long long)hvlog_sim_sint_interrupts(sim, 0),
               (unsigned long long)res.polls, (unsigned long long)res.messages,
               (unsigned long long)notifications, (unsigned long long)res.buffers,
               (unsigned long long)res.entries, (unsigned long long)res.events_lost,
               res.longest_chain);
    assert_int_equal(res.buffers, g->buffers);
    assert_int_equal(res.bytes, g->bytes);
    assert_int_equal(res.entries, entries);
    assert_int_equal(res.events_lost, lost);
    assert_int_equal(res.corrupt, 0);
    assert_int_equal(res.release_failures, 0);
    assert_true(res.messages > 0); /* read from the SIM page it enabled */
    assert_true(res.reference_time_known);
    assert_int_equal(hvlog_kvm_root_refused_writes(root), 0);
    /* §8.5, interrupt-driven: every message the engine posted reached the
     * guest's slot and was handled; SINT0 came as real interrupts (the
     * handler's entries are the VMM's injections, edges may coalesce, so
     * at most one per raise); and each drain of the main loop followed
     * one (the conclude drains on its own, polling, as §9 does; whether
     * the main loop drained before stop depends on the threads' timing,
     * so test_sint0_wakes_the_idle_guest asserts that). */
    assert_int_equal(res.messages, notifications);
    assert_true(res.interrupts > 0);
    assert_int_equal(res.interrupts, res.injected);
    assert_true(res.injected <= hvlog_sim_sint_interrupts(sim, 0));
    assert_true(res.polls <= res.interrupts);
    hvlog_kvm_root_destroy(root);
    hvlog_kvm_destroy(kvm);
    hvlog_sim_destroy(sim);
    free(g);
}

/* §8.5: the guest idles in `sti; hlt` with nothing to poll for; this
 * thread logs as LP 0 until a buffer completes; the sim fills the SINT0
 * slot and raises the vector; the VMM ends the guest's HLT and injects it;
 * the handler's count wakes the main loop, which drains and hands the
 * buffer over, all before stop is asked. Then stop wakes the idle guest. */
static void test_sint0_wakes_the_idle_guest(void **state)
{
    struct hvlog_sim *sim = sim_up(1);
    struct got *g = calloc(1, sizeof *g);
    struct hvlog_kvm_root_config rc;
    struct hvlog_kvm_root *root = NULL;
    struct hvlog_kvm_root_result res;
    struct hvlog_scope_stats st;
    uint8_t payload[64];
    uint64_t logged = 0, lost = 0;
    uint64_t deadline;
    struct timespec now;
    char why[256] = "";

    (void)state;
    assert_non_null(g);
    memset(payload, 0x5A, sizeof payload);
    rc = root_config(4, g);
    if (hvlog_kvm_root_start(sim, &rc, &root, why, sizeof why) != 0)
        fail_msg("root: %s", why);
    nap_ms(5); /* let it reach its HLT (not needed to pass, only to mean it) */
    /* 1-page buffers: 100 events of 64 bytes complete at least one. */
    for (uint32_t i = 0; i < 100; i++) {
        enum hvlog_log_result r = hvlog_sim_log(sim, 0, LOCAL, 1, 0x20, i, payload, sizeof payload);

        assert_true(r == HVLOG_LOG_RECORDED || r == HVLOG_LOG_LOST);
        logged++;
        lost += r == HVLOG_LOG_LOST;
    }
    /* Wait (60 s at most: a bound, not a timing) for the handover. */
    clock_gettime(CLOCK_MONOTONIC, &now);
    deadline = (uint64_t)now.tv_sec + 60;
    while (__atomic_load_n(&g->buffers, __ATOMIC_ACQUIRE) == 0) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((uint64_t)now.tv_sec > deadline)
            fail_msg("the guest root drained nothing in 60 s");
        nap_ms(1);
    }
    if (hvlog_kvm_root_stop(root, why, sizeof why) != 0)
        fail_msg("root: %s", why);
    hvlog_kvm_root_result(root, LOCAL, &res);
    assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(sim), LOCAL, 0, &st), 0);
    if (getenv("HVLOG_TEST_VERBOSE"))
        printf("idle guest: %llu interrupts, %llu rounds, %llu messages, %llu buffers\n",
               (unsigned long long)res.interrupts, (unsigned long long)res.polls,
               (unsigned long long)res.messages, (unsigned long long)res.buffers);
    assert_true(res.polls >= 1);      /* the main loop drained ... */
    assert_true(res.interrupts >= 1); /* ... after an interrupt woke it */
    assert_true(res.polls <= res.interrupts);
    assert_int_equal(res.interrupts, res.injected);
    assert_int_equal(res.messages, st.notifications);
    assert_int_equal(g->bad_buffers, 0);
    assert_int_equal(res.buffers, g->buffers);
    /* §7.4 on LP 0: read + EventsLost (+ pending) == logged. */
    assert_int_equal(g->entries[0] + g->events_lost[0] + st.lost_pending, logged);
    assert_int_equal(g->events_lost[0] + st.lost_pending, lost);
    hvlog_kvm_root_destroy(root);
    hvlog_sim_destroy(sim);
    free(g);
}

/* §5.5: the guest stores into a mapped buffer; the store exits (read-only
 * slot), the VMM refuses it and the sim counts the intercept. */
static void test_guest_write_to_mapped_buffer_refused(void **state)
{
    struct hvlog_sim *sim = sim_up(1);
    struct got g;
    struct hvlog_kvm_root_config rc;
    struct hvlog_kvm_root *root = NULL;
    uint64_t intercepts_before = hvlog_sim_intercepts(sim);
    char why[256] = "";

    (void)state;
    memset(&g, 0, sizeof g);
    rc = root_config(4, &g);
    rc.poke_mapped_buffer = true;
    if (hvlog_kvm_root_start(sim, &rc, &root, why, sizeof why) != 0)
        fail_msg("root: %s", why);
    if (hvlog_kvm_root_stop(root, why, sizeof why) != 0)
        fail_msg("root: %s", why);
    assert_int_equal(hvlog_kvm_root_refused_writes(root), 1);
    assert_int_equal(hvlog_sim_intercepts(sim), intercepts_before + 1);
    assert_true(hvlog_kvm_root_poke_unchanged(root));
    hvlog_kvm_root_destroy(root);
    hvlog_sim_destroy(sim);
}

/* ---- teardown ---- */

static void test_guest_root_teardown_leaves_nothing(void **state)
{
    struct hvlog_sim *sim = sim_up(2);
    struct got g;
    struct hvlog_kvm_root_config rc;
    struct hvlog_kvm_root *root = NULL;
    uint32_t kvm_before = 0, kvm_during = 0, kvm_after = 0;
    uint32_t fds_before, threads_before;
    char why[256] = "";

    (void)state;
    memset(&g, 0, sizeof g);
    rc = root_config(4, &g);
    fds_before = count_dir("/proc/self/fd", &kvm_before);
    threads_before = count_dir("/proc/self/task", NULL);
    if (hvlog_kvm_root_start(sim, &rc, &root, why, sizeof why) != 0)
        fail_msg("root: %s", why);
    nap_ms(20);
    /* Really there while it runs: /dev/kvm, the VM, its vCPU; its thread. */
    count_dir("/proc/self/fd", &kvm_during);
    assert_true(kvm_during >= kvm_before + 3);
    assert_true(count_dir("/proc/self/task", NULL) >= threads_before + 1);
    if (hvlog_kvm_root_stop(root, why, sizeof why) != 0)
        fail_msg("root: %s", why);
    hvlog_kvm_root_destroy(root);
    assert_int_equal(count_dir("/proc/self/fd", &kvm_after), fds_before);
    assert_int_equal(kvm_after, kvm_before);
    assert_int_equal(count_dir("/proc/self/task", NULL), threads_before);
    hvlog_sim_destroy(sim);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Stop's deadline (root_vm.c's head comment): on the stop word the guest
 * loops for ever without an exit (config.spin_at_stop), so only a kick
 * ends its KVM_RUN. stop waits the deadline out, kicks, and returns -1
 * with the cause. This thread installs no handler for any signal: a kick
 * delivered to it (or to any thread outside KVM_RUN) would end the test
 * by its default action, and none may be left pending here. Time: the
 * 200 ms deadline; the 20 s bound only catches a stop that hangs. */
static void test_stop_forces_a_guest_that_never_exits(void **state)
{
    const uint32_t deadline_ms = 200;
    struct hvlog_sim *sim = sim_up(1);
    struct got g;
    struct hvlog_kvm_root_config rc;
    struct hvlog_kvm_root *root = NULL;
    uint32_t kvm_before = 0, kvm_after = 0, fds_before, threads_before;
    uint64_t t0, elapsed_ns;
    sigset_t pending;
    char why[256] = "", want[128];

    (void)state;
    memset(&g, 0, sizeof g);
    rc = root_config(4, &g);
    rc.stop_deadline_ms = deadline_ms;
    rc.spin_at_stop = true;
    fds_before = count_dir("/proc/self/fd", &kvm_before);
    threads_before = count_dir("/proc/self/task", NULL);
    if (hvlog_kvm_root_start(sim, &rc, &root, why, sizeof why) != 0)
        fail_msg("root: %s", why);
    t0 = mono_ns();
    assert_int_equal(hvlog_kvm_root_stop(root, why, sizeof why), -1);
    elapsed_ns = mono_ns() - t0;
    if (getenv("HVLOG_TEST_VERBOSE"))
        printf("forced stop after %llu ms: %s\n", (unsigned long long)(elapsed_ns / 1000000u), why);
    snprintf(want, sizeof want, "the guest root did not stop within %u ms; stopped by force",
             deadline_ms);
    if (strcmp(why, want) != 0)
        fail_msg("reason: %s", why);
    /* It had its deadline; a stop that hung would not be here (20 s: a
     * bound on a stuck kick, not a timing). */
    assert_true(elapsed_ns >= deadline_ms * 1000000ull);
    assert_true(elapsed_ns < deadline_ms * 1000000ull + 20000000000ull);
    /* The guest never concluded: nothing more than start's handover. */
    assert_int_equal(g.bad_buffers, 0);
    hvlog_kvm_root_destroy(root);
    assert_int_equal(count_dir("/proc/self/fd", &kvm_after), fds_before);
    assert_int_equal(kvm_after, kvm_before);
    assert_int_equal(count_dir("/proc/self/task", NULL), threads_before);
    assert_int_equal(sigpending(&pending), 0);
    for (int sig = 1; sig <= SIGRTMAX; sig++)
        assert_false(sigismember(&pending, sig));
    hvlog_sim_destroy(sim);
}

/* A sim whose fixed RAM cannot hold the guest is refused, nothing left open. */
static void test_small_root_ram_refused(void **state)
{
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct hvlog_sim *sim;
    struct got g;
    struct hvlog_kvm_root_config rc;
    struct hvlog_kvm_root *root = NULL;
    uint32_t fds_before;
    char why[256] = "";

    (void)state;
    memset(&g, 0, sizeof g);
    assert_int_equal(hvlog_sim_create(&cfg, &sim), 0);
    fds_before = count_dir("/proc/self/fd", NULL);
    rc = root_config(4, &g);
    assert_int_equal(hvlog_kvm_root_start(sim, &rc, &root, why, sizeof why), -1);
    assert_null(root);
    assert_non_null(strstr(why, "fixed RAM"));
    assert_int_equal(count_dir("/proc/self/fd", NULL), fds_before);
    hvlog_sim_destroy(sim);
}

/* A group the hypervisor refuses (no buffers): the guest's Initialize
 * fails, it says so on its control page and stops; start reports the step
 * and the status in one line and leaves nothing open. */
static void test_guest_failure_reported(void **state)
{
    struct hvlog_sim *sim = sim_up(1);
    struct got g;
    struct hvlog_kvm_root_config rc;
    struct hvlog_kvm_root *root = NULL;
    uint32_t kvm_before = 0, kvm_after = 0, fds_before, threads_before;
    char why[256] = "";

    (void)state;
    memset(&g, 0, sizeof g);
    rc = root_config(0, &g);
    fds_before = count_dir("/proc/self/fd", &kvm_before);
    threads_before = count_dir("/proc/self/task", NULL);
    assert_int_equal(hvlog_kvm_root_start(sim, &rc, &root, why, sizeof why), -1);
    assert_null(root);
    if (getenv("HVLOG_TEST_VERBOSE"))
        printf("refused: %s\n", why);
    if (!strstr(why, "failed in prepare (status 0x"))
        fail_msg("reason: %s", why);
    assert_null(strchr(why, '\n'));
    assert_int_equal(count_dir("/proc/self/fd", &kvm_after), fds_before);
    assert_int_equal(kvm_after, kvm_before);
    assert_int_equal(count_dir("/proc/self/task", NULL), threads_before);
    hvlog_sim_destroy(sim);
}

/* The guest's IDT has a #GP gate: an undefined synthetic MSR read is the
 * VMM's #GP, the handler reports the RIP (inside the program's image) and
 * stops; start says so in one line and leaves nothing open. */
static void test_guest_gp_reported(void **state)
{
    struct hvlog_sim *sim = sim_up(1);
    struct got g;
    struct hvlog_kvm_root_config rc;
    struct hvlog_kvm_root *root = NULL;
    uint32_t fds_before, threads_before;
    unsigned long long rip = 0;
    const char *at;
    char why[256] = "";

    (void)state;
    memset(&g, 0, sizeof g);
    rc = root_config(4, &g);
    rc.read_undefined_msr = true;
    fds_before = count_dir("/proc/self/fd", NULL);
    threads_before = count_dir("/proc/self/task", NULL);
    assert_int_equal(hvlog_kvm_root_start(sim, &rc, &root, why, sizeof why), -1);
    assert_null(root);
    if (getenv("HVLOG_TEST_VERBOSE"))
        printf("#GP: %s\n", why);
    at = strstr(why, "failed in #GP at RIP (status 0x");
    if (!at)
        fail_msg("reason: %s", why);
    rip = strtoull(at + strlen("failed in #GP at RIP (status 0x"), NULL, 16);
    /* guest_root_abi.h: the program is at 16 MiB + 64 KiB, under 1 MiB long. */
    assert_true(rip >= 0x1010000ull && rip < 0x1110000ull);
    assert_int_equal(count_dir("/proc/self/fd", NULL), fds_before);
    assert_int_equal(count_dir("/proc/self/task", NULL), threads_before);
    hvlog_sim_destroy(sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_root_conservation),
        cmocka_unit_test(test_sint0_wakes_the_idle_guest),
        cmocka_unit_test(test_guest_write_to_mapped_buffer_refused),
        cmocka_unit_test(test_guest_root_teardown_leaves_nothing),
        cmocka_unit_test(test_stop_forces_a_guest_that_never_exits),
        cmocka_unit_test(test_small_root_ram_refused),
        cmocka_unit_test(test_guest_failure_reported),
        cmocka_unit_test(test_guest_gp_reported),
    };
    char why[256];

    if (hvlog_kvm_probe(why, sizeof why) != 0) {
        printf("SKIP: the KVM host cannot run here: %s\n", why);
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
