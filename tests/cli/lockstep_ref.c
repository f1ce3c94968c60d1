/* SPDX-License-Identifier: MIT */
/*
 * lockstep_ref SEED LPS EVENTS PAYLOAD OUT [plain|compress]: the lock-step
 * rerun of `hvlog record --seed SEED --lps LPS --events EVENTS --payload
 * PAYLOAD --global 0` that the crash test (record_crash.sh) checks a
 * killed recording against. With a sixth argument the simulator's clock
 * is injected too (a counter), so that two runs are the same bytes, and
 * "compress" writes with HVLOG_TRACE_COMPRESS (compress.sh compares them).
 *
 * The simulator draws each LP's events from its own stream, seeded by the
 * seed and the LP index (src/sim/workload.c), and an entry's Context is the
 * LP's sequence number: so the k-th event an LP offers is the same in a
 * threaded `record` and here, whatever the timing. Here the LPs log one
 * event at a time in this thread (lockstep) and the root drains after
 * every event, so nothing is lost: OUT is a trace holding every event each
 * LP offered, in order. The engine and client are the same as record's;
 * only who runs the LPs differs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvlog/client/client.h"
#include "hvlog/trace/trace.h"
#include "hvlog/sim/sim.h"

#define REF_BUFFERS 64u

/* The injected clock: 1 µs a reading, from an arbitrary start. */
static uint64_t counter_clock(void *ctx)
{
    uint64_t *now = ctx;

    return *now += 10;
}

static void keep(void *arg, const struct hvlog_buffer_summary *s, const uint8_t *bytes, size_t len)
{
    struct hvlog_export_error err;

    if (hvlog_trace_writer_append(arg, s->type, bytes, len, &err) != HVLOG_EXPORT_OK) {
        fprintf(stderr, "lockstep_ref: %s\n", err.message);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    struct hvlog_sim_config cfg = hvlog_sim_config_default();
    struct hvlog_sim_workload wl = {0};
    struct hvlog_client_sink sink = {NULL, keep, NULL, NULL};
    struct hvlog_trace_writer *w;
    struct hvlog_export_error err;
    struct hvlog_trace_meta meta = {0};
    struct hvlog_client_config cc;
    struct hvlog_root_ops ops;
    struct hvlog_client *client;
    struct hvlog_sim *sim;
    uint64_t events;
    uint32_t pages = 4;

    static uint64_t now = 1000000;

    if (argc != 6 &&
        !(argc == 7 && (strcmp(argv[6], "compress") == 0 || strcmp(argv[6], "plain") == 0))) {
        fprintf(stderr, "usage: lockstep_ref SEED LPS EVENTS PAYLOAD OUT [plain|compress]\n");
        return 2;
    }
    if (argc == 7) {
        cfg.clock = counter_clock;
        cfg.clock_ctx = &now;
    }
    cfg.seed = strtoull(argv[1], NULL, 0);
    cfg.lps = (uint32_t)strtoul(argv[2], NULL, 0);
    events = strtoull(argv[3], NULL, 0);
    cfg.lockstep = true;
    cfg.pool_pages = (REF_BUFFERS + 4) * pages + 8;
    wl = (struct hvlog_sim_workload){.events_per_lp = events, .rate_per_lp = 0, .payload_min = 0,
                                     .payload_max = (uint32_t)strtoul(argv[4], NULL, 0),
                                     .local_sources = 0, .global_per_mille = 0};
    if (hvlog_sim_create(&cfg, &sim) != 0)
        return 1;
    for (uint32_t vp = 0; vp < cfg.lps; vp++)
        hvlog_sim_synic_enable(sim, vp, 0x40);
    hvlog_sim_root_ops(sim, &ops);
    cc = (struct hvlog_client_config){.ops = &ops, .ctx = sim, .abi = HVLOG_ABI_2013};
    if (hvlog_client_create(&cc, &client) != 0 ||
        hvlog_trace_writer_create(argv[5], argc == 7 && argv[6][0] == 'c' ? HVLOG_TRACE_COMPRESS : 0, &w, &err) !=
            HVLOG_EXPORT_OK)
        return 1;
    {
        struct hvlog_group_params p = {HvEventLogTypeLocalDiagnostics, REF_BUFFERS, pages, 1,
                                       HvEventLogEntryTimeReference, 0, 0, HvEventLogModeRegular};
        if (hvlog_client_prepare(client, &p) != HV_STATUS_SUCCESS ||
            hvlog_client_set_sources(client, HvEventLogTypeLocalDiagnostics, UINT64_MAX) !=
                HV_STATUS_SUCCESS)
            return 1;
    }
    /* One event per LP, then drain: a buffer fills long before the 64 run
     * out, so no event is ever lost. */
    for (uint64_t i = 0; i < events; i++) {
        for (uint32_t lp = 0; lp < cfg.lps; lp++)
            hvlog_sim_step(sim, lp, 1, &wl);
        for (uint32_t vp = 0; vp < cfg.lps; vp++)
            hvlog_client_poll(client, vp, &sink, w);
    }
    hvlog_client_conclude(client, HvEventLogTypeLocalDiagnostics, &sink, w);
    meta.group_count = 1;
    meta.groups[0] = (struct hvlog_trace_group){.type = HvEventLogTypeLocalDiagnostics,
                                                .convention = HVLOG_ABI_2013,
                                                .buffer_count = REF_BUFFERS,
                                                .buffer_pages = pages,
                                                .threshold = 1};
    snprintf(meta.abi_profile, sizeof meta.abi_profile, "2013");
    if (hvlog_trace_writer_commit(w, &meta, &err) != HVLOG_EXPORT_OK) {
        fprintf(stderr, "lockstep_ref: %s\n", err.message);
        return 1;
    }
    for (uint32_t lp = 0; lp < cfg.lps; lp++) {
        struct hvlog_sim_lp_counts c;

        hvlog_sim_lp_counts(sim, lp, &c);
        if (c.lost[HvEventLogTypeLocalDiagnostics] != 0) {
            fprintf(stderr, "lockstep_ref: LP %u lost %llu events\n", lp,
                    (unsigned long long)c.lost[HvEventLogTypeLocalDiagnostics]);
            return 1;
        }
    }
    hvlog_client_destroy(client);
    hvlog_sim_destroy(sim);
    return 0;
}
