/* SPDX-License-Identifier: MIT */
/*
 * `hvlog top` without TRACE: run the simulated host in-process and be its
 * root partition through the client library, as `hvlog record` does, but
 * keep no buffers (issue 17, item 3; the source "the simulated host").
 *
 * Here everything the issue asks for is known: the client counts what it
 * reads (events, bytes, EventsLost per released buffer) and the ready
 * messages; the simulator's engine, queried as a test or tool may
 * (hvlog_engine_buffer_info, _scope_stats, "any thread"), gives each
 * buffer's state now and the producers' losses by cause. Those two come
 * from the simulator itself: a real root knows neither (STYLE habit 17),
 * which is why the trace source shows "-" for them.
 *
 * One thread: the loop that draws also is the root. Between refreshes
 * top_sim_pump polls every root VP's SINT0 as record's loop does, so the
 * root keeps up with the LPs while the view waits.
 *
 * The host setup is record's own (sim_root.c), with one domain, one
 * child, the reference time basis, the 2013 profile and Regular mode.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/sim_root.h"
#include "cli/top.h"
#include "hvlog/abi/calls.h"
#include "hvlog/client/client.h"
#include "hvlog/engine/engine.h"
#include "hvlog/hvlog.h"
#include "hvlog/sim/sim.h"

struct top_sim {
    struct hvlog_sim *sim;
    struct hvlog_client *client;
    struct sim_root root; /* owns sim and client */
    uint32_t lps;
    bool global;          /* a GlobalSystemEvents group was prepared */
    uint64_t stop_ns;     /* 0: no --duration */
    bool started;         /* the workload runs (until conclude) */
    bool done;            /* stopped and concluded */
    struct top_sample acc; /* what the client read, cumulative */
    struct top_row *row;  /* the stream of the buffer being read (sink) */
    bool nomem;
};

/* The client's sink: count each buffer into its stream's row, then each
 * entry of it (the client calls buffer before that buffer's entries). */
static void sink_buffer(void *arg, const struct hvlog_buffer_summary *s, const uint8_t *bytes,
                        size_t len)
{
    struct top_sim *t = arg;

    (void)bytes;
    (void)len;
    t->row = top_sample_row(&t->acc, s->type, s->logical_processor);
    if (!t->row) {
        t->nomem = true;
        return;
    }
    t->row->buffers++;
    t->row->bytes += s->data_end - HV_EVENTLOG_BUFFER_HEADER_SIZE;
    t->row->lost += s->events_lost;
}

static bool sink_entry(void *arg, const struct hvlog_entry *e)
{
    struct top_sim *t = arg;

    (void)e;
    if (t->row)
        t->row->events++;
    return true;
}

static void sink_corrupt(void *arg, uint32_t type, uint32_t index, const char *reason)
{
    struct top_sim *t = arg;

    (void)type;
    (void)index;
    (void)reason;
    t->acc.corrupt++;
    t->row = NULL;
}

static const struct hvlog_client_sink top_sink = {NULL, sink_buffer, sink_entry, sink_corrupt};

bool top_sim_open(const struct top_sim_config *config, struct top_sim **out, char *why,
                  size_t why_len)
{
    /* Record's host with one domain and one child, the reference time
     * basis, the 2013 profile, Regular mode, every source; no trace is
     * written, so no wall-clock anchor is needed: SystemTime 0. */
    const struct sim_root_config rc = {
        .lps = (uint32_t)config->lps, .domains = 1, .children = 1, .seed = config->seed,
        .abi = HVLOG_ABI_2013, .buffers = (uint32_t)config->buffers,
        .pages = (uint32_t)config->pages, .threshold = (uint32_t)config->threshold,
        .basis = HvEventLogEntryTimeReference, .mode = HvEventLogModeRegular,
        .global = config->global_pm != 0, .local_sources = UINT64_MAX,
        .global_sources = UINT64_MAX};
    struct hvlog_sim_workload wl;
    struct top_sim *t = calloc(1, sizeof(*t));

    *out = NULL;
    if (!t) {
        snprintf(why, why_len, "out of memory");
        return false;
    }
    t->lps = rc.lps;
    t->global = rc.global;
    if (!sim_root_open(&rc, &t->root, why, why_len)) {
        if (!t->root.sim) /* top's own words: its one domain goes unsaid */
            snprintf(why, why_len, "cannot create the simulated host (%u LPs)", t->lps);
        top_sim_close(t);
        return false;
    }
    t->sim = t->root.sim;
    t->client = t->root.client;
    wl = (struct hvlog_sim_workload){.rate_per_lp = (uint32_t)config->rate,
                                     .payload_max = (uint32_t)config->payload,
                                     .global_per_mille = (uint32_t)config->global_pm};
    if (hvlog_sim_start(t->sim, &wl) != 0) {
        snprintf(why, why_len, "the workload was refused (payload %llu, rate %llu)",
                 (unsigned long long)config->payload, (unsigned long long)config->rate);
        top_sim_close(t);
        return false;
    }
    t->started = true;
    if (config->duration_ms)
        t->stop_ns = top_now_ns() + config->duration_ms * 1000000u;
    t->acc.state = "running";
    *out = t;
    return true;
}

/* §9 Conclude: stop the LPs, flush and drain every group, so that what
 * was logged is read (and counted) before the last sample. */
static void conclude(struct top_sim *t)
{
    if (t->done || !t->started)
        return;
    hvlog_sim_stop(t->sim);
    hvlog_client_conclude(t->client, HvEventLogTypeLocalDiagnostics, &top_sink, t);
    if (t->global)
        hvlog_client_conclude(t->client, HvEventLogTypeGlobalSystemEvents, &top_sink, t);
    t->done = true;
    t->acc.done = true;
    t->acc.state = "finished";
}

void top_sim_pump(struct top_sim *t, uint64_t until_ns)
{
    for (;;) {
        uint64_t now = top_now_ns();
        uint32_t handled = 0;

        if (t->done || now >= until_ns)
            return;
        if ((t->stop_ns && now >= t->stop_ns) || !hvlog_sim_running(t->sim)) {
            conclude(t);
            return;
        }
        for (uint32_t vp = 0; vp < t->lps; vp++)
            handled += hvlog_client_poll(t->client, vp, &top_sink, t);
        if (!handled) {
            struct timespec nap = {0, 200000}; /* nothing ready: let the LPs run */
            nanosleep(&nap, NULL);
        }
    }
}

/* Each buffer's state now, into the rows of @s: InUse by its owner LP,
 * Ready by the LP its header names. */
static bool count_states(struct top_sim *t, uint32_t type, struct top_sample *s)
{
    struct hvlog_engine *engine = hvlog_sim_engine(t->sim);
    struct hvlog_group_info gi;

    if (hvlog_engine_group_info(engine, type, &gi) != 0 || !gi.initialized)
        return true;
    for (uint32_t i = 0; i < gi.maximum_buffer_count; i++) {
        struct hvlog_buffer_info bi;
        struct top_row *r;
        uint32_t lp;

        if (hvlog_engine_buffer_info(engine, type, i, &bi) != 0 || !bi.exists)
            continue;
        if (bi.state == HvEventLogBufferStateInUse)
            lp = bi.owner_lp == UINT32_MAX ? 0 : bi.owner_lp; /* global: its one scope, 0 */
        else if (bi.state == HvEventLogBufferStateReady)
            lp = bi.header.logical_processor;
        else
            continue;
        r = top_sample_row(s, type, lp);
        if (!r)
            return false;
        if (bi.state == HvEventLogBufferStateInUse)
            r->inuse++;
        else
            r->ready++;
    }
    return true;
}

/* The producers' losses by cause, per scope: an LP for LocalDiagnostics,
 * the one global scope (shown as LP 0) for GlobalSystemEvents. */
static bool count_causes(struct top_sim *t, uint32_t type, uint32_t scopes, struct top_sample *s)
{
    for (uint32_t scope = 0; scope < scopes; scope++) {
        struct hvlog_scope_stats sc;
        struct top_row *r;

        if (hvlog_engine_scope_stats(hvlog_sim_engine(t->sim), type, scope, &sc) != 0)
            continue;
        r = top_sample_row(s, type, scope);
        if (!r)
            return false;
        r->lost_no_buffer = sc.events_lost_no_buffer;
        r->lost_too_large = sc.events_lost_too_large;
    }
    return true;
}

bool top_sim_sample(struct top_sim *t, struct top_sample *s, char *why, size_t why_len)
{
    struct hvlog_client_stats cs;
    bool ok;

    if (t->nomem || !top_sample_copy(s, &t->acc)) {
        snprintf(why, why_len, "out of memory");
        return false;
    }
    s->known = TOP_KNOWN_MESSAGES | TOP_KNOWN_CAUSES | TOP_KNOWN_STATES;
    hvlog_client_stats(t->client, HvEventLogTypeLocalDiagnostics, &cs);
    s->messages = cs.messages;
    if (t->global) {
        hvlog_client_stats(t->client, HvEventLogTypeGlobalSystemEvents, &cs);
        s->messages += cs.messages;
    }
    ok = count_causes(t, HvEventLogTypeLocalDiagnostics, t->lps, s) &&
         count_states(t, HvEventLogTypeLocalDiagnostics, s);
    if (ok && t->global)
        ok = count_causes(t, HvEventLogTypeGlobalSystemEvents, 1, s) &&
             count_states(t, HvEventLogTypeGlobalSystemEvents, s);
    if (!ok) {
        snprintf(why, why_len, "out of memory");
        return false;
    }
    s->at_ns = top_now_ns();
    return true;
}

void top_sim_close(struct top_sim *t)
{
    if (!t)
        return;
    conclude(t); /* stops the LP threads before the host goes */
    sim_root_close(&t->root);
    top_sample_free(&t->acc);
    free(t);
}
