/* SPDX-License-Identifier: MIT */
/*
 * The KVM host (hvlog/kvm/kvm.h) on a real /dev/kvm: a child VM whose vCPUs
 * are the LPs, every exit logged, the root client (stage 1: in this
 * process, on the simulated host's root side) draining the buffers.
 *
 *   - conservation per LP: entries read + EventsLost == exits logged, with
 *     a root that drains while the VM runs and with one that does not (so
 *     that buffers run out and events are lost);
 *   - every entry is a real exit: the catalogue's intercept entry, a RIP
 *     inside the guest program, the port / GPA / MSR the program used, and
 *     per kind exactly mix x loops exits;
 *   - teardown leaves no fd and no thread behind;
 *   - configurations the host refuses.
 *
 * The read-only slot still holds its bytes after the guest's stores.
 *
 * Without a usable /dev/kvm the whole program prints why and exits 77
 * (CTest SKIP_RETURN_CODE). LABEL kvm; time budget: about 5 s, 120 s at
 * most (the VM shares two cores with the rest of a parallel CTest run).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "hvlog/abi/hypercall.h"
#include "hvlog/client/client.h"
#include "hvlog/hvlog.h"
#include "hvlog/kvm/kvm.h"
#include "hvlog/sim/sim.h"
#include "kvm_test_util.h"

#define LOCAL HvEventLogTypeLocalDiagnostics
#define MAX_LPS 4
#define LOOP 16u /* the default mix's operations per guest loop */
/* The guest program's extent (src/kvm/guest.c is a few hundred bytes). */
#define CODE_END (HVLOG_KVM_CODE_GPA + 0x400u)

struct world {
    struct hvlog_sim *sim;
    struct hvlog_client *client;
    struct hvlog_root_ops ops;
    struct hvlog_kvm *kvm;
    uint32_t lps;
};

struct seen {
    uint64_t entries[MAX_LPS];
    uint64_t events_lost[MAX_LPS];
    uint64_t by_entry[MAX_LPS][HVLOG_KVM_EXIT_KINDS];
    uint64_t bad; /* entries that are no exit of the program */
    char why[160];
};

static void bad(struct seen *s, const char *what, const struct hvlog_entry *e)
{
    if (!s->bad)
        snprintf(s->why, sizeof s->why, "%s (LP %u, type 0x%x, context %u)", what,
                 e->logical_processor, e->entry_type, e->context);
    s->bad++;
}

static uint64_t param(const struct hvlog_entry *e, uint32_t i)
{
    return e->payload_len >= 8 * (i + 1) ? hvlog_load_le64(e->payload + 8 * i) : UINT64_MAX;
}

/* Each entry: the catalogue row of an exit of the program, with its facts. */
static bool on_entry(void *arg, const struct hvlog_entry *e)
{
    struct seen *s = arg;
    uint32_t lp = e->logical_processor;
    uint64_t rip = param(e, 0);
    int kind = -1;

    if (lp >= MAX_LPS) {
        bad(s, "LP out of range", e);
        return true;
    }
    s->entries[lp]++;
    if (rip < HVLOG_KVM_CODE_GPA || rip >= CODE_END) {
        bad(s, "RIP outside the guest program", e);
        return true;
    }
    switch (e->entry_type) {
    case HV_TR_IM_IO_PORT_WRITE:
        kind = param(e, 1) == HVLOG_KVM_PORT_OUT && param(e, 2) >= 1 ? HVLOG_KVM_IO_OUT : -1;
        break;
    case HV_TR_IM_IO_PORT_READ:
        /* The VMM answers (vCPU << 24 | its exit count). */
        kind = param(e, 1) == HVLOG_KVM_PORT_IN && (param(e, 2) >> 24) == lp ? HVLOG_KVM_IO_IN : -1;
        break;
    case HV_TR_IM_MEMORY_INTERCEPT:
        if (param(e, 1) == HVLOG_KVM_MMIO_GPA)
            kind = param(e, 2) == HVLOG_KVM_ACCESS_WRITE ? HVLOG_KVM_MMIO_WRITE : HVLOG_KVM_MMIO_READ;
        else if (param(e, 1) == HVLOG_KVM_RO_GPA && param(e, 2) == HVLOG_KVM_ACCESS_WRITE)
            kind = HVLOG_KVM_RO_WRITE;
        break;
    case HV_TR_IM_MSR_READ:
        kind = param(e, 1) == HVLOG_KVM_MSR_READ_INDEX ? HVLOG_KVM_MSR_READ : -1;
        break;
    case HV_TR_IM_MSR_WRITE:
        /* wrmsr of (1 << 32) | loop number */
        kind = param(e, 1) == HVLOG_KVM_MSR_WRITE_INDEX && (param(e, 2) >> 32) == 1
                   ? HVLOG_KVM_MSR_WRITE
                   : -1;
        break;
    case HV_TR_IM_HLT:
        kind = e->payload_len == 8 ? HVLOG_KVM_HLT : -1;
        break;
    default:
        break;
    }
    if (kind < 0)
        bad(s, "not an exit of the guest program", e);
    else
        s->by_entry[lp][kind]++;
    return true;
}

static void on_buffer(void *arg, const struct hvlog_buffer_summary *sum, const uint8_t *bytes,
                      size_t len)
{
    struct seen *s = arg;

    (void)bytes;
    (void)len;
    if (sum->type == LOCAL && sum->logical_processor < MAX_LPS)
        s->events_lost[sum->logical_processor] += sum->events_lost;
}

static const struct hvlog_client_sink sink = {NULL, on_buffer, on_entry, NULL};

static void world_up(struct world *w, uint32_t lps, uint32_t buffers)
{
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct hvlog_client_config cc;
    struct hvlog_group_params p = {LOCAL, buffers, 1, 1, HvEventLogEntryTimeReference, 0, 0,
                                   HvEventLogModeRegular};

    memset(w, 0, sizeof *w);
    cfg.lps = lps;
    cfg.children = 1;
    cfg.pool_pages = 512;
    w->lps = lps;
    assert_int_equal(hvlog_sim_create(&cfg, &w->sim), 0);
    for (uint32_t vp = 0; vp < lps; vp++)
        assert_int_not_equal(hvlog_sim_synic_enable(w->sim, vp, 0x40), 0);
    hvlog_sim_root_ops(w->sim, &w->ops);
    cc = (struct hvlog_client_config){.ops = &w->ops, .ctx = w->sim, .abi = HVLOG_ABI_2013};
    assert_int_equal(hvlog_client_create(&cc, &w->client), 0);
    assert_int_equal(hvlog_client_prepare(w->client, &p), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_client_set_sources(w->client, LOCAL, ~0ull), HV_STATUS_SUCCESS);
}

static void world_down(struct world *w)
{
    hvlog_kvm_destroy(w->kvm);
    hvlog_client_destroy(w->client);
    hvlog_sim_destroy(w->sim);
}

static void nap(void)
{
    struct timespec ts = {0, 200000};
    nanosleep(&ts, NULL);
}

/* Run @loops guest loops per vCPU; the root drains meanwhile if @drain. */
static void run_and_check(uint32_t lps, uint32_t buffers, uint64_t loops, bool drain,
                          bool expect_loss)
{
    struct world w;
    struct seen *s = calloc(1, sizeof *s);
    struct hvlog_kvm_config kc = hvlog_kvm_config_default(lps);
    char why[256] = "";
    uint64_t lost_total = 0;

    assert_non_null(s);
    world_up(&w, lps, buffers);
    kc.exits_per_vcpu = loops * LOOP;
    if (hvlog_kvm_create(w.sim, &kc, &w.kvm, why, sizeof why) != 0)
        fail_msg("create: %s", why);
    assert_int_equal(hvlog_kvm_start(w.kvm), 0);
    for (uint32_t round = 0; hvlog_kvm_running(w.kvm); round++) {
        uint32_t handled = 0;

        for (uint32_t vp = 0; drain && vp < lps; vp++)
            handled += hvlog_client_poll(w.client, vp, &sink, s);
        /* Flush now and then while the vCPUs run: the engine's run_on_lp
         * takes InUse buffers from LPs that are in KVM_RUN or logging. */
        if (drain && round % 8 == 7)
            hvlog_client_flush_all(w.client, LOCAL);
        if (!handled)
            nap();
    }
    hvlog_kvm_stop(w.kvm);
    if (hvlog_kvm_error(w.kvm))
        fail_msg("%s", hvlog_kvm_error(w.kvm));
    assert_int_equal(hvlog_client_conclude(w.client, LOCAL, &sink, s), HV_STATUS_SUCCESS);
    if (s->bad)
        fail_msg("%llu bad entries, first: %s", (unsigned long long)s->bad, s->why);
    for (uint32_t lp = 0; lp < lps; lp++) {
        struct hvlog_kvm_counts c;
        struct hvlog_sim_lp_counts sc;
        struct hvlog_scope_stats st;
        uint64_t pending;

        hvlog_kvm_counts(w.kvm, lp, &c);
        hvlog_sim_lp_counts(w.sim, lp, &sc);
        assert_int_equal(hvlog_engine_scope_stats(hvlog_sim_engine(w.sim), LOCAL, lp, &st), 0);
        /* Losses after the last buffer went InUse are in no EventsLost
         * yet: the engine still holds them for the next one (§7.4). */
        pending = st.lost_pending;
        /* Every exit of the budget was handled and logged, by kind. */
        assert_int_equal(c.exits_total, loops * LOOP);
        for (uint32_t k = 0; k < HVLOG_KVM_EXIT_KINDS; k++)
            assert_int_equal(c.exits[k], kc.mix[k] * loops);
        assert_int_equal(c.dropped, 0);
        assert_int_equal(c.logged, c.exits_total);
        assert_int_equal(c.recorded + c.lost, c.logged);
        assert_int_equal(sc.logged[LOCAL], c.logged);
        /* Conservation (§7.4): read + EventsLost (+ still pending) == logged. */
        if (s->entries[lp] + s->events_lost[lp] + pending != c.logged)
            fail_msg("LP %u: %llu read + %llu lost + %llu pending != %llu logged", lp,
                     (unsigned long long)s->entries[lp], (unsigned long long)s->events_lost[lp],
                     (unsigned long long)pending, (unsigned long long)c.logged);
        assert_int_equal(s->events_lost[lp] + pending, c.lost);
        /* What was read, by kind, never exceeds what the guest did. */
        for (uint32_t k = 0; k < HVLOG_KVM_EXIT_KINDS; k++)
            assert_true(s->by_entry[lp][k] <= c.exits[k]);
        lost_total += c.lost;
    }
    {
        /* Every ro_write exit was a refused store: the read-only slot
         * still holds the VMM's pattern. */
        uint8_t page[4096];

        assert_int_equal(hvlog_kvm_gpa_read(w.kvm, HVLOG_KVM_RO_GPA, page, sizeof page), 0);
        for (size_t i = 0; i < sizeof page; i++)
            assert_int_equal(page[i], 0xA5);
        assert_int_equal(hvlog_kvm_gpa_read(w.kvm, HVLOG_KVM_RO_GPA + 1, page, sizeof page), -1);
        assert_int_equal(hvlog_kvm_gpa_read(w.kvm, 0x100000, page, 4), -1);
    }
    {
        /* The mix the program read, in its RAM. */
        uint8_t mix[4 * HVLOG_KVM_EXIT_KINDS];

        assert_int_equal(hvlog_kvm_gpa_read(w.kvm, 0x800, mix, sizeof mix), 0);
        for (uint32_t k = 0; k < HVLOG_KVM_EXIT_KINDS; k++)
            assert_int_equal(hvlog_load_le32(mix + 4 * k), kc.mix[k]);
    }
    if (expect_loss)
        assert_true(lost_total > 0);
    else if (lost_total == 0) /* a busy machine may still lose some: counted above */
        for (uint32_t lp = 0; lp < lps; lp++)
            for (uint32_t k = 0; k < HVLOG_KVM_EXIT_KINDS; k++)
                assert_int_equal(s->by_entry[lp][k], kc.mix[k] * loops);
    world_down(&w);
    free(s);
}

/* The root drains while the VM runs: with enough buffers nothing is lost
 * except what the engine counts, and the two sides agree per LP. */
static void test_conservation_draining(void **state)
{
    (void)state;
    run_and_check(2, 16, 200, true, false);
}

/* The root reads nothing until the VM stops: two one-page buffers fill
 * and every later exit is lost - counted, so the sum still holds. */
static void test_conservation_with_loss(void **state)
{
    (void)state;
    run_and_check(2, 2, 400, false, true);
}

/* ---- teardown ---- */

/* Threads of this process named hvlog-vcpu* (hvlog_kvm_start names the
 * vCPU threads; KVM may add a worker task of its own per VM). */
static uint32_t vcpu_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    uint32_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        char path[300], comm[32] = "";
        FILE *f;

        if (de->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", de->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (fgets(comm, sizeof comm, f) && strncmp(comm, "hvlog-vcpu", 10) == 0)
            n++;
        fclose(f);
    }
    closedir(d);
    return n;
}

static void test_teardown_leaves_nothing(void **state)
{
    struct world w;
    struct hvlog_kvm_config kc = hvlog_kvm_config_default(3);
    char why[256] = "";
    uint32_t kvm_before = 0, kvm_during = 0, kvm_after = 0;
    uint32_t fds_before, threads_before, fds_after, threads_after, threads_during;

    (void)state;
    world_up(&w, 3, 8);
    fds_before = count_dir("/proc/self/fd", &kvm_before);
    threads_before = count_dir("/proc/self/task", NULL);
    kc.exits_per_vcpu = 0; /* until stopped */
    if (hvlog_kvm_create(w.sim, &kc, &w.kvm, why, sizeof why) != 0)
        fail_msg("create: %s", why);
    assert_int_equal(hvlog_kvm_start(w.kvm), 0);
    for (int i = 0; i < 50; i++) {
        for (uint32_t vp = 0; vp < 3; vp++)
            hvlog_client_poll(w.client, vp, NULL, NULL);
        nap();
    }
    /* The checks below can fail: the VM and its threads are really there. */
    count_dir("/proc/self/fd", &kvm_during);
    threads_during = count_dir("/proc/self/task", NULL);
    assert_true(kvm_during >= kvm_before + 2 + 3); /* /dev/kvm, the VM, 3 vCPUs */
    assert_true(threads_during >= threads_before + 3);
    assert_int_equal(vcpu_threads(), 3);
    assert_true(hvlog_kvm_running(w.kvm));
    hvlog_kvm_destroy(w.kvm);
    w.kvm = NULL;
    fds_after = count_dir("/proc/self/fd", &kvm_after);
    threads_after = count_dir("/proc/self/task", NULL);
    assert_int_equal(fds_after, fds_before);
    assert_int_equal(kvm_after, kvm_before);
    assert_int_equal(threads_after, threads_before);
    assert_int_equal(vcpu_threads(), 0);
    world_down(&w);
}

/* ---- the root's hypercalls from a real vCPU (stage 2, first step) ---- */

static uint64_t fast(uint16_t code)
{
    return code | HV_HYPERCALL_FAST_BIT;
}

static hv_status_t status_of(const struct hvlog_kvm_call *c)
{
    return hv_hypercall_result_status(c->rax);
}

/* A root VP on a real vCPU calls the page the VMM wrote: RCX, RDX and R8
 * reach the engine as the guest loaded them, and RAX comes back. */
static void test_root_hypercalls_trap_through_the_page(void **state)
{
    struct world w;
    struct hvlog_group_info gi;
    char why[256] = "";
    const uint64_t mask = 0x0000000000000800ull | 0x0000000000400000ull; /* im, sch */
    struct hvlog_kvm_call calls[] = {
        /* 0: no such call */
        {.rcx = 0x0001},
        /* 1: SetSources (2013: fast, 16 bytes = RDX then R8) on LocalDiagnostics */
        {.rcx = fast(0x0066), .rdx = LOCAL, .r8 = mask},
        /* 2: a reserved bit of the input value */
        {.rcx = fast(0x0066) | (1ull << 20), .rdx = LOCAL, .r8 = 0},
        /* 3: Initialize (memory form) with a misaligned input GPA */
        {.rcx = 0x0060, .rdx = 0x1001, .r8 = 0},
        /* 4: Flush of a buffer the group does not have */
        {.rcx = fast(0x0068), .rdx = LOCAL | (300ull << 32), .r8 = 0},
        /* 5: SetSources of a type that does not exist */
        {.rcx = fast(0x0066), .rdx = 7, .r8 = mask},
    };
    uint32_t n = sizeof calls / sizeof calls[0], fds, kvm_fds = 0, kvm_fds_after = 0;

    (void)state;
    world_up(&w, 2, 4); /* the client initialized LocalDiagnostics, sources all on */
    fds = count_dir("/proc/self/fd", &kvm_fds);
    if (hvlog_kvm_root_calls(w.sim, 1, calls, n, why, sizeof why) != 0)
        fail_msg("root calls: %s", why);
    /* The root VM is gone again. */
    assert_int_equal(count_dir("/proc/self/fd", &kvm_fds_after), fds);
    assert_int_equal(kvm_fds_after, kvm_fds);
    assert_int_equal(status_of(&calls[0]), HV_STATUS_INVALID_HYPERCALL_CODE);
    assert_int_equal(status_of(&calls[1]), HV_STATUS_SUCCESS);
    assert_int_equal(hvlog_engine_group_info(hvlog_sim_engine(w.sim), LOCAL, &gi), 0);
    assert_int_equal(gi.source_mask, mask); /* R8 arrived intact */
    assert_int_equal(status_of(&calls[2]), HV_STATUS_INVALID_HYPERCALL_INPUT);
    assert_int_equal(status_of(&calls[3]), HV_STATUS_INVALID_ALIGNMENT);
    assert_int_not_equal(status_of(&calls[4]), HV_STATUS_SUCCESS);
    assert_int_equal(status_of(&calls[5]), HV_STATUS_INVALID_PARAMETER);
    /* The same registers through the sim's own entry: the same answers. */
    for (uint32_t i = 0; i < n; i++) {
        if (i == 1)
            continue; /* it changed state; its answer is checked above */
        assert_int_equal(calls[i].rax, hvlog_sim_hypercall(w.sim, HVLOG_SIM_ROOT_ID, 1,
                                                          calls[i].rcx, calls[i].rdx, calls[i].r8));
    }
    /* Refused before any VM exists. */
    assert_int_equal(hvlog_kvm_root_calls(w.sim, 2, calls, 1, why, sizeof why), -1);
    assert_int_equal(hvlog_kvm_root_calls(w.sim, 0, calls, 0, why, sizeof why), -1);
    world_down(&w);
}

/* ---- refusals ---- */

static void test_bad_configs_refused(void **state)
{
    struct world w;
    struct hvlog_kvm_config kc = hvlog_kvm_config_default(2);
    char why[256] = "";
    uint32_t fds_before;

    (void)state;
    world_up(&w, 2, 4);
    fds_before = count_dir("/proc/self/fd", NULL);
    memset(kc.mix, 0, sizeof kc.mix);
    assert_int_equal(hvlog_kvm_create(w.sim, &kc, &w.kvm, why, sizeof why), -1);
    assert_non_null(strstr(why, "never exit"));
    kc = hvlog_kvm_config_default(3); /* the host has 2 LPs */
    assert_int_equal(hvlog_kvm_create(w.sim, &kc, &w.kvm, why, sizeof why), -1);
    assert_non_null(strstr(why, "one vCPU per LP"));
    kc = hvlog_kvm_config_default(2);
    kc.mix[HVLOG_KVM_HLT] = 100000;
    assert_int_equal(hvlog_kvm_create(w.sim, &kc, &w.kvm, why, sizeof why), -1);
    assert_null(w.kvm);
    assert_int_equal(count_dir("/proc/self/fd", NULL), fds_before);
    world_down(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conservation_draining),
        cmocka_unit_test(test_conservation_with_loss),
        cmocka_unit_test(test_teardown_leaves_nothing),
        cmocka_unit_test(test_bad_configs_refused),
        cmocka_unit_test(test_root_hypercalls_trap_through_the_page),
    };
    char why[256];

    if (hvlog_kvm_probe(why, sizeof why) != 0) {
        printf("SKIP: the KVM host cannot run here: %s\n", why);
        return 77;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
