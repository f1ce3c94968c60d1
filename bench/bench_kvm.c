/* SPDX-License-Identifier: MIT */
/*
 * bench_kvm: what hvlog adds to one VM exit (issue 15 item 4).
 *
 *   bench_kvm [EXITS [ROUNDS]]   (default 200000 exits, 5 rounds)
 *
 * One vCPU of the KVM host (hvlog/kvm/kvm.h) runs the default guest mix
 * for EXITS exits, flat out, twice per round, interleaved: once with the
 * exit loop logging nothing (no_log: KVM_RUN, decode the exit, answer it),
 * once logging every exit through hvlog_sim_log() -> hvlog_log() while the
 * root client drains the buffers in this thread. Wall time from start to
 * the last exit, divided by EXITS; the median and range over the rounds,
 * and the difference of the medians: hvlog's cost per exit.
 *
 * Prints one Markdown table row per variant and a summary line. Exit 77
 * when KVM is unusable. Not run by bench/run (it needs /dev/kvm).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hvlog/client/client.h"
#include "hvlog/hvlog.h"
#include "hvlog/kvm/kvm.h"
#include "hvlog/sim/sim.h"

#define MAX_ROUNDS 50

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One run: wall ns per exit; the vCPU's counts (KVM_RUN and logging time). */
static double run_once(uint64_t exits, bool log, struct hvlog_kvm_counts *c)
{
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct hvlog_sim *sim = NULL;
    struct hvlog_client *client = NULL;
    struct hvlog_root_ops ops;
    struct hvlog_client_config cc;
    struct hvlog_kvm *kvm = NULL;
    struct hvlog_kvm_config kc = hvlog_kvm_config_default(1);
    struct hvlog_group_params p = {HvEventLogTypeLocalDiagnostics, 64, 16, 2,
                                   HvEventLogEntryTimeReference, 0, 0, HvEventLogModeRegular};
    char why[256];
    uint64_t t0, t1;

    cfg.lps = 1;
    cfg.pool_pages = 2048;
    if (hvlog_sim_create(&cfg, &sim) != 0 || !hvlog_sim_synic_enable(sim, 0, 0x40)) {
        fprintf(stderr, "bench_kvm: cannot create the host\n");
        exit(1);
    }
    hvlog_sim_root_ops(sim, &ops);
    cc = (struct hvlog_client_config){.ops = &ops, .ctx = sim, .abi = HVLOG_ABI_2013};
    if (hvlog_client_create(&cc, &client) != 0 ||
        hvlog_client_prepare(client, &p) != HV_STATUS_SUCCESS ||
        hvlog_client_set_sources(client, HvEventLogTypeLocalDiagnostics, ~0ull) !=
            HV_STATUS_SUCCESS) {
        fprintf(stderr, "bench_kvm: cannot prepare the group\n");
        exit(1);
    }
    kc.exits_per_vcpu = exits;
    kc.no_log = !log;
    kc.timing = true; /* both variants: the clock reads cost both the same */
    if (hvlog_kvm_create(sim, &kc, &kvm, why, sizeof why) != 0) {
        fprintf(stderr, "bench_kvm: %s\n", why);
        exit(1);
    }
    t0 = now_ns();
    if (hvlog_kvm_start(kvm) != 0) {
        fprintf(stderr, "bench_kvm: cannot start the vCPU\n");
        exit(1);
    }
    while (hvlog_kvm_running(kvm)) {
        if (!hvlog_client_poll(client, 0, NULL, NULL)) {
            struct timespec nap = {0, 50000};
            nanosleep(&nap, NULL);
        }
    }
    t1 = now_ns();
    hvlog_kvm_stop(kvm);
    if (hvlog_kvm_error(kvm)) {
        fprintf(stderr, "bench_kvm: %s\n", hvlog_kvm_error(kvm));
        exit(1);
    }
    hvlog_kvm_counts(kvm, 0, c);
    hvlog_client_conclude(client, HvEventLogTypeLocalDiagnostics, NULL, NULL);
    hvlog_kvm_destroy(kvm);
    hvlog_client_destroy(client);
    hvlog_sim_destroy(sim);
    return (double)(t1 - t0) / (double)exits;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    uint64_t exits = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    double bare[MAX_ROUNDS], logged[MAX_ROUNDS], run[MAX_ROUNDS], in_log[MAX_ROUNDS];
    uint64_t lost = 0;
    struct hvlog_kvm_counts c;
    char why[256];

    if (hvlog_kvm_probe(why, sizeof why) != 0) {
        printf("SKIP: %s\n", why);
        return 77;
    }
    if (exits == 0 || rounds < 1 || rounds > MAX_ROUNDS) {
        fprintf(stderr, "usage: bench_kvm [EXITS [ROUNDS (1..%d)]]\n", MAX_ROUNDS);
        return 2;
    }
    run_once(exits / 10 ? exits / 10 : 1, true, &c); /* warm-up */
    for (int r = 0; r < rounds; r++) {
        bare[r] = run_once(exits, false, &c);
        logged[r] = run_once(exits, true, &c);
        run[r] = (double)c.run_ns / (double)exits;
        in_log[r] = (double)c.log_ns / (double)exits;
        lost += c.lost;
    }
    qsort(bare, (size_t)rounds, sizeof bare[0], cmp_double);
    qsort(logged, (size_t)rounds, sizeof logged[0], cmp_double);
    qsort(run, (size_t)rounds, sizeof run[0], cmp_double);
    qsort(in_log, (size_t)rounds, sizeof in_log[0], cmp_double);
    printf("| variant | ns/exit median (min-max) | what |\n|---|---|---|\n");
    printf("| exit loop, no logging | %.0f (%.0f-%.0f) | wall / exits: KVM_RUN, decode, answer |\n",
           bare[rounds / 2], bare[0], bare[rounds - 1]);
    printf("| exit loop, every exit logged | %.0f (%.0f-%.0f) | wall / exits, the root draining "
           "meanwhile |\n",
           logged[rounds / 2], logged[0], logged[rounds - 1]);
    printf("| inside KVM_RUN (logged runs) | %.0f (%.0f-%.0f) | the exit itself: entry, exit, back "
           "to user space |\n",
           run[rounds / 2], run[0], run[rounds - 1]);
    printf("| inside the logging call (logged runs) | %.0f (%.0f-%.0f) | hvlog_sim_log: LP mailbox "
           "lock + hvlog_log() |\n",
           in_log[rounds / 2], in_log[0], in_log[rounds - 1]);
    printf("\n%llu exits x %d rounds, 1 vCPU, default mix; %llu events lost; "
           "wall difference of the medians %.0f ns/exit\n",
           (unsigned long long)exits, rounds, (unsigned long long)lost,
           logged[rounds / 2] - bare[rounds / 2]);
    return 0;
}
