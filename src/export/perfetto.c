/* SPDX-License-Identifier: MIT */
/*
 * Chrome trace-event JSON export (hvlog/export/perfetto.h), through the
 * streaming JSON writer: the document is never held in memory.
 *
 * Tracks are written LP by LP, each in fill order, and a track's ts never
 * decreases: input whose time goes back within one LP's stream, inside a
 * buffer or from one buffer to the next, is refused (HVLOG_EXPORT_TIME),
 * as the CTF export refuses it, rather than written as a track that runs
 * backwards (the trace-event format promises nothing for one, and a
 * viewer that does not sort draws it wrong). The check is one compare per
 * entry.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export_internal.h"
#include "hvlog/abi/catalog.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "hvlog/trace/json.h"
#include "hvlog/export/perfetto.h"
#include "hvlog/trace/clock.h"
#include "hvlog/version.h"

/* Several hosts (issue 17): host h's processes are pid 16 h + 1 + type. */
#define PIDS_PER_HOST 16u
_Static_assert(HVLOG_TYPE_COUNT < PIDS_PER_HOST, "a host's pids overlap the next host's");

struct pf_export {
    const struct hvlog_trace_reader *reader; /* the host being written */
    struct hvlog_export_error *err;
    struct hvlog_json_writer *w;
    struct hvlog_trace_catalog *catalog;
    const struct export_perfetto_timeline *tl;
    struct hvlog_trace_clock clock; /* of the group being written */
    uint64_t shift_ns;   /* what the timeline adds to its ns (several hosts) */
    uint64_t tsc_hz;     /* --tsc-hz, 0 = the trace's */
    uint32_t pid;
    struct export_track_walk k; /* the track and buffer being written (perfetto_walk.c) */
};

static int sink_fd(void *arg, const char *bytes, size_t len)
{
    return hvlog__export_write_all(*(const int *)arg, bytes, len);
}

/* ts in microseconds, exact: 100 ns ticks -> one decimal; others -> ns ->
 * three; several hosts: ns on the timeline (export_perfetto_timeline) -> three. */
static void put_ts(struct pf_export *x, uint64_t ticks)
{
    uint64_t ns;

    hvlog_json_key(x->w, "ts");
    if (x->clock.freq_hz == HVLOG_REFERENCE_HZ && !x->tl->hosts) {
        hvlog_json_decimal(x->w, ticks, 1);
        return;
    }
    ns = hvlog_trace_clock_scale(&x->clock, ticks, 1000000000u);
    hvlog_json_decimal(x->w, ns > UINT64_MAX - x->shift_ns ? UINT64_MAX : ns + x->shift_ns, 3);
}

static void put_counter(void *arg, uint64_t ts)
{
    struct pf_export *x = arg;
    char name[48];

    snprintf(name, sizeof name, "events lost LP %u", x->k.lp);
    hvlog_json_object_begin(x->w);
    hvlog_json_member_string(x->w, "ph", "C");
    hvlog_json_member_string(x->w, "name", name);
    hvlog_json_member_u64(x->w, "pid", x->pid);
    hvlog_json_member_u64(x->w, "tid", x->k.lp);
    put_ts(x, ts);
    hvlog_json_key(x->w, "args");
    hvlog_json_object_begin(x->w);
    hvlog_json_member_u64(x->w, "lost", x->k.lost_total);
    hvlog_json_object_end(x->w);
    hvlog_json_object_end(x->w);
}

static void put_metadata_event(struct pf_export *x, const char *what, uint32_t tid, const char *name)
{
    hvlog_json_object_begin(x->w);
    hvlog_json_member_string(x->w, "ph", "M");
    hvlog_json_member_string(x->w, "name", what);
    hvlog_json_member_u64(x->w, "pid", x->pid);
    hvlog_json_member_u64(x->w, "tid", tid);
    hvlog_json_key(x->w, "args");
    hvlog_json_object_begin(x->w);
    hvlog_json_member_string(x->w, "name", name);
    hvlog_json_object_end(x->w);
    hvlog_json_object_end(x->w);
}

/* The track's thread_name, before the first thing written on it. */
static void track_name(void *arg)
{
    struct pf_export *x = arg;
    char track[32];

    snprintf(track, sizeof track, "LP %u", x->k.lp);
    put_metadata_event(x, "thread_name", x->k.lp, track);
}

static bool put_entry(void *arg, const struct hvlog_entry *e)
{
    struct pf_export *x = arg;
    const struct hvlog_trace_class *cls = hvlog_trace_catalog_find(x->catalog, e->entry_type);
    struct hvlog_json_writer *w = x->w;

    hvlog_json_object_begin(w);
    hvlog_json_member_string(w, "ph", "i");
    hvlog_json_member_string(w, "s", "t");
    if (cls && e->payload_len >= cls->param_count * 8u) {
        hvlog_json_member_string(w, "name", cls->info->name);
    } else {
        char name[32];
        snprintf(name, sizeof name, "entry 0x%04x", e->entry_type);
        hvlog_json_member_string(w, "name", name);
    }
    hvlog_json_member_string(w, "cat", hvlog_trace_group_short(x->k.group->type));
    put_ts(x, e->time_stamp);
    hvlog_json_member_u64(w, "pid", x->pid);
    hvlog_json_member_u64(w, "tid", x->k.lp);
    hvlog_json_key(w, "args");
    hvlog_json_object_begin(w);
    hvlog_json_member_hex(w, "context", e->context);
    if (cls && e->payload_len >= cls->param_count * 8u) {
        uint32_t extra = e->payload_len - cls->param_count * 8u;

        for (uint32_t i = 0; i < cls->param_count; i++) {
            uint64_t v = hvlog_load_le64(e->payload + (size_t)8 * i);
            hvlog_json_member_hex(w, cls->params[i], v);
        }
        if (extra) {
            hvlog_json_key(w, "extra");
            hvlog_json_hex_bytes(w, e->payload + (size_t)cls->param_count * 8u, extra);
        }
    } else {
        hvlog_json_member_hex(w, "entry_type", e->entry_type);
        hvlog_json_member_u64(w, "size", e->size);
        hvlog_json_key(w, "data");
        hvlog_json_hex_bytes(w, e->payload, e->payload_len);
    }
    hvlog_json_object_end(w);
    hvlog_json_object_end(w);
    return hvlog_json_writer_ok(w);
}

static bool write_ok(void *arg, int *error)
{
    const struct pf_export *x = arg;

    if (hvlog_json_writer_ok(x->w))
        return true;
    *error = hvlog_json_writer_sink_error(x->w);
    return false;
}

static const struct export_track_ops pf_ops = {track_name, put_counter, put_entry, write_ok};

static enum hvlog_export_status write_group(struct pf_export *x, const struct export_perfetto_host *h,
                                           uint32_t host, struct export_group_plan *plan)
{
    const char *name = hvlog_eventlog_type_name(plan->group->type);
    char process[160];

    hvlog__export_perfetto_clock(x->tl, h, plan->group, x->tsc_hz, &x->clock, &x->shift_ns);
    x->pid = PIDS_PER_HOST * host + 1 + plan->group->type;
    hvlog_trace_catalog_init(x->catalog, plan->group->type);
    if (!name)
        name = "event log";
    if (h->name) /* several hosts: the host names its processes */
        snprintf(process, sizeof process, "%s: %s", h->name, name);
    put_metadata_event(x, "process_name", 0, h->name ? process : name);
    return hvlog__export_track_walk_group(&x->k, plan);
}

/* What otherData.groups[].ts_unit says ts counts, for group @g. */
static const char *ts_unit(const struct pf_export *x, const struct hvlog_trace_group *g)
{
    struct hvlog_trace_clock c;

    hvlog_trace_clock_init(&c, hvlog_trace_reader_meta(x->reader), g, x->tsc_hz);
    if (g->time_basis == HvEventLogEntryTimeTsc)
        return "microseconds of TSC ticks at tsc_frequency_hz (or --tsc-hz)";
    if (g->time_basis != HvEventLogEntryTimeQpc)
        return "microseconds of 100 ns ticks since hypervisor start";
    if (!c.freq_assumed)
        return "microseconds of QPC ticks at qpc_frequency_hz";
    return "microseconds of QPC ticks at 10 MHz (qpc_frequency_hz not recorded: assumed)";
}

/* One trace's part of otherData: where it came from and its groups' clocks. */
static void put_trace_data(struct pf_export *x, const struct export_perfetto_host *h,
                           uint32_t host)
{
    const struct hvlog_trace_meta *meta = hvlog_trace_reader_meta(h->reader);
    const struct export_group_plan *plans = h->plans;
    uint32_t count = h->count;
    struct hvlog_json_writer *w = x->w;

    x->reader = h->reader;
    hvlog_json_member_string(w, "source", hvlog_trace_reader_path(h->reader));
    hvlog_json_member_string(w, "abi_profile", meta->abi_profile);
    hvlog_json_member_u64(w, "tsc_frequency_hz", meta->tsc_frequency_hz);
    hvlog_json_member_u64(w, "qpc_frequency_hz", meta->qpc_frequency_hz);
    hvlog_json_key(w, "groups");
    hvlog_json_array_begin(w);
    for (uint32_t i = 0; i < count; i++) {
        const struct hvlog_trace_group *g = plans[i].group;
        const char *basis = hvlog_time_basis_name(g->time_basis);

        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "pid", PIDS_PER_HOST * host + 1 + g->type);
        hvlog_json_member_u64(w, "type", g->type);
        hvlog_json_member_string(w, "time_basis", basis ? basis : "unknown");
        if (!x->tl->hosts) /* several: the timeline's ts_unit */
            hvlog_json_member_string(w, "ts_unit", ts_unit(x, g));
        hvlog_json_member_u64(w, "system_time", g->system_time);
        hvlog_json_member_u64(w, "reference_time_at_init", g->reference_time_at_init);
        /* The QPC anchor: the entry at QPC q happened at FILETIME
         * system_time + (q - qpc_at_init) x 10^7 / qpc_frequency_hz. */
        if (g->qpc_at_init_known)
            hvlog_json_member_u64(w, "qpc_at_init", g->qpc_at_init);
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
}

static void put_other_data(struct pf_export *x, const struct export_perfetto_host *hosts,
                           uint32_t host_count)
{
    struct hvlog_json_writer *w = x->w;

    hvlog_json_key(w, "otherData");
    hvlog_json_object_begin(w);
    hvlog_json_member_string(w, "tool", "hvlog");
    hvlog_json_member_string(w, "hvlog_version", hvlog_version());
    if (!x->tl->hosts) {
        put_trace_data(x, &hosts[0], 0);
        hvlog_json_object_end(w);
        return;
    }
    /* Several hosts (issue 17): one timeline, ts from origin_unix_ns. */
    hvlog_json_key(w, "timeline");
    hvlog_json_object_begin(w);
    hvlog_json_member_string(w, "ts_unit",
                             "microseconds since origin_unix_ns on the Unix clock (each host's "
                             "wall-clock anchor, moved by its clock_offset_ns)");
    hvlog_json_member_u64(w, "origin_unix_ns", (uint64_t)x->tl->origin_unix_ns);
    hvlog_json_object_end(w);
    hvlog_json_key(w, "hosts");
    hvlog_json_array_begin(w);
    for (uint32_t h = 0; h < host_count; h++) {
        hvlog_json_object_begin(w);
        hvlog_json_member_string(w, "host", hosts[h].name);
        hvlog_json_key(w, "clock_offset_ns");
        hvlog_json_i64(w, hosts[h].offset_ns);
        put_trace_data(x, &hosts[h], h);
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
    hvlog_json_object_end(w);
}

static enum hvlog_export_status run(void *arg, const struct hvlog_export_options *opt,
                                    const struct export_perfetto_timeline *tl,
                                    struct export_perfetto_host *hosts, uint32_t host_count,
                                    struct hvlog_export_summary *summary)
{
    struct pf_export *x = arg;
    const char *out_file = x->k.out_path;
    struct export_staged_file out;
    enum hvlog_export_status st;

    x->k.summary = summary;
    x->tl = tl;
    x->tsc_hz = opt->tsc_frequency_hz;
    x->catalog = malloc(sizeof(*x->catalog));
    if (!x->catalog)
        return hvlog__export_fail(x->err, HVLOG_EXPORT_NOMEM, "out of memory");
    st = hvlog__export_staged_file_begin(&out, out_file, opt->force, x->err);
    if (st != HVLOG_EXPORT_OK)
        return st;
    x->w = hvlog_json_writer_create(sink_fd, &out.fd, 0);
    if (!x->w) {
        hvlog__export_staged_file_abort(&out);
        return hvlog__export_fail(x->err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    hvlog_json_object_begin(x->w);
    hvlog_json_member_string(x->w, "displayTimeUnit", "ns");
    put_other_data(x, hosts, host_count);
    hvlog_json_key(x->w, "traceEvents");
    hvlog_json_array_begin(x->w);
    for (uint32_t h = 0; h < host_count && st == HVLOG_EXPORT_OK; h++) {
        x->reader = hosts[h].reader;
        for (uint32_t i = 0; i < hosts[h].count && st == HVLOG_EXPORT_OK; i++)
            st = write_group(x, &hosts[h], h, &hosts[h].plans[i]);
    }
    hvlog_json_array_end(x->w);
    hvlog_json_object_end(x->w);
    summary->bytes_out = hvlog_json_writer_bytes(x->w);
    if (hvlog_json_writer_close(x->w) != HVLOG_EXPORT_OK && st == HVLOG_EXPORT_OK)
        st = hvlog__export_fail(x->err, HVLOG_EXPORT_IO, "%s: write failed: %s", out_file, strerror(errno));
    x->w = NULL;
    if (st != HVLOG_EXPORT_OK) {
        hvlog__export_staged_file_abort(&out);
        return st;
    }
    return hvlog__export_staged_file_commit(&out, opt->force, x->err);
}

enum hvlog_export_status hvlog_export_perfetto_hosts(const struct hvlog_export_host *hosts,
                                                    uint32_t count, const char *out_file,
                                                    const struct hvlog_export_options *options,
                                                    struct hvlog_export_summary *summary,
                                                    struct hvlog_export_error *err)
{
    struct pf_export x;
    enum hvlog_export_status st;

    memset(&x, 0, sizeof x);
    x.err = err;
    x.k.ops = &pf_ops;
    x.k.arg = &x;
    x.k.out_path = out_file;
    x.k.err = err;
    st = hvlog__export_perfetto_run(hosts, count, out_file, options, summary, err, run, &x);
    free(x.catalog);
    return st;
}

enum hvlog_export_status hvlog_export_perfetto(const struct hvlog_trace_reader *r,
                                              const char *out_file,
                                              const struct hvlog_export_options *options,
                                              struct hvlog_export_summary *summary,
                                              struct hvlog_export_error *err)
{
    const struct hvlog_export_host one = {r, NULL, 0};

    return hvlog_export_perfetto_hosts(r ? &one : NULL, 1, out_file, options, summary, err);
}
