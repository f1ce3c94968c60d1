/* SPDX-License-Identifier: MIT */
/*
 * `hvlog record`: run the simulated host with LP threads, be its root
 * partition through the client library, and write every buffer the root
 * releases, byte for byte, to a trace directory (docs/trace-format.md).
 *
 * --abi picks the ABI profile (spec §11) of both sides at once: the sim's
 * engine and the client speak the same one, as a real root driver has to
 * match its hypervisor. The trace says which (abi_profile, and each
 * group's header_convention), so readers take the headers as written.
 *
 * The trace holds what a root partition knows (format version 2): the
 * Initialize inputs it sent, the reference counter its client read at
 * Initialize, the headers it released and the counts its client saw. The
 * simulator's own counters (logged, recorded, loss by cause, overwritten)
 * and its geometry and seed go to the optional host section only; nothing
 * is read back from the engine. The recording is crash-safe (the writer's
 * start/commit, docs/trace-format.md section 1): SIGINT, SIGTERM and
 * SIGHUP stop it cleanly; SIGKILL leaves a trace that decodes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/record_live.h"
#include "cli/record_kvm.h"
#include "cli/record_mshv.h"
#include "cli/record_rotate.h"
#include "cli/record_snapshot.h"
#include "cli/sim_root.h"
#include "hvlog/capture/mshv.h"
#include "hvlog/abi/calls.h"
#include "hvlog/client/client.h"
#include "hvlog/trace/clock.h"
#include "hvlog/trace/trace.h"
#include "hvlog/hvlog.h"
#include "hvlog/sim/sim.h"

static volatile sig_atomic_t interrupted;

static void on_stop_signal(int sig)
{
    interrupted = sig;
}

/* SIGINT, SIGTERM and SIGHUP all end the recording like --duration does:
 * the loop stops, the groups are concluded and the closing statistics
 * written (issue 13, A7). No SA_RESTART: a nap ends at once. */
static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};

static void catch_stop_signals(struct sigaction old[3])
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < 3; i++)
        sigaction(stop_signals[i], &sa, &old[i]);
}

static void restore_stop_signals(const struct sigaction old[3])
{
    for (size_t i = 0; i < 3; i++)
        sigaction(stop_signals[i], &old[i], NULL);
}

/* A11: run through sudo, the trace belongs to the user who asked (as perf
 * does): SUDO_UID/SUDO_GID, when root and both are plain numbers. */
static void sudo_owner(long long *uid, long long *gid)
{
    const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
    uint64_t vu, vg;
    char *end;

    *uid = *gid = -1;
    if (geteuid() != 0 || !u || !g || !*u || !*g)
        return;
    errno = 0;
    vu = strtoull(u, &end, 10);
    if (errno || *end || vu > UINT32_MAX - 1)
        return;
    vg = strtoull(g, &end, 10);
    if (errno || *end || vg > UINT32_MAX - 1)
        return;
    *uid = (long long)vu;
    *gid = (long long)vg;
}

/* --file-mode: octal permissions of the trace's files, 0..0777. */
static bool parse_file_mode(const char *text, unsigned *mode)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(text, &end, 8);
    if (errno || end == text || *end || text[0] == '-' || v > 0777 || (v & 0600) != 0600) {
        cli_error("record: --file-mode takes octal permissions that let the owner read and "
                  "write (0600..0777), not '%s'", text);
        return false;
    }
    *mode = (unsigned)v;
    return true;
}

struct recording {
    struct hvlog_trace_writer *writer; /* NULL: --relayd only, no -o */
    struct record_live *live;          /* --relayd, or NULL */
    struct record_snapshot *snap;      /* --snapshot (then writer is NULL), or NULL */
    struct hvlog_export_error err;
    bool failed;
    uint64_t buffers, bytes, entries;
};

/* The client's sink: every released buffer goes to the trace as it is. */
static void keep_buffer(void *arg, const struct hvlog_buffer_summary *s, const uint8_t *bytes,
                        size_t len)
{
    struct recording *rec = arg;

    rec->entries += s->entries;
    record_live_buffer(rec->live, s, bytes, len);
    record_snapshot_buffer(rec->snap, s, bytes, len);
    if (rec->failed)
        return;
    if (rec->writer &&
        hvlog_trace_writer_append(rec->writer, s->type, bytes, len, &rec->err) != HVLOG_EXPORT_OK) {
        rec->failed = true;
        return;
    }
    rec->buffers++;
    rec->bytes += len;
}

/* No entry callback: the client counts a buffer's entries as it checks it. */
static const struct hvlog_client_sink sink = {NULL, keep_buffer, NULL, NULL};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
#include <x86intrin.h>
/* The sim's TSC is the CPU's; its rate, measured against CLOCK_MONOTONIC. */
static uint64_t tsc_frequency(void)
{
    uint64_t t0 = now_ns(), c0 = __rdtsc(), t1, c1;
    struct timespec pause = {0, 20000000};

    nanosleep(&pause, NULL);
    t1 = now_ns();
    c1 = __rdtsc();
    return t1 > t0 ? (c1 - c0) * 1000000000ull / (t1 - t0) : 0;
}
#else
static uint64_t tsc_frequency(void)
{
    return 0;
}
#endif

/* --sources: "all" (UINT64_MAX here; the profile trims it later), a
 * number, or group names ("hc,im,sch"). */
static bool parse_sources(const char *text, uint64_t *mask)
{
    char copy[256], *save = NULL;

    if (strcmp(text, "all") == 0) {
        *mask = UINT64_MAX;
        return true;
    }
    if (text[0] >= '0' && text[0] <= '9')
        return cli_number("record", "--sources", text, 1, UINT64_MAX, mask);
    snprintf(copy, sizeof copy, "%s", text);
    *mask = 0;
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        const struct hvlog_enable_flag_info *f = hvlog_enable_flag_find(HvEventLogTypeLocalDiagnostics, name);
        if (!f) {
            cli_error("record: unknown source group '%s' (see 'hvlog abi flags')", name);
            return false;
        }
        *mask |= f->value;
    }
    return true;
}

/* The mask SetSources sends: "all" (UINT64_MAX) is every bit in 2013, and
 * every bit but the "extended" flag, bit 0, in the current profile (D5). */
static uint64_t source_mask(enum hvlog_abi_profile abi, uint64_t sources)
{
    if (abi == HVLOG_ABI_CURRENT && sources == UINT64_MAX)
        return UINT64_MAX & ~HV_EVENTLOG_EXTENDED_TRACE_FLAG;
    return sources;
}

static void progress(const struct recording *rec, uint64_t lost, uint64_t start_ns, bool final)
{
    double secs = (double)(now_ns() - start_ns) / 1e9;

    fprintf(stderr, "\r\033[Krecording: %" PRIu64 " events, %" PRIu64 " buffers, %" PRIu64
                    " lost, %.0f events/s%s",
            rec->entries, rec->buffers, lost, secs > 0 ? (double)rec->entries / secs : 0.0,
            final ? "\n" : "");
}

/* All types: what the progress line and the summary report. */
static uint64_t lost_so_far(struct hvlog_sim *sim, uint32_t lps)
{
    uint64_t lost = 0;
    for (uint32_t lp = 0; lp < lps; lp++) {
        struct hvlog_sim_lp_counts c;
        hvlog_sim_lp_counts(sim, lp, &c);
        for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++)
            lost += c.lost[t];
    }
    return lost;
}

int cli_cmd_record(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"lps", required_argument, NULL, 'l'},      {"domains", required_argument, NULL, 'D'},
        {"children", required_argument, NULL, 'c'}, {"seed", required_argument, NULL, 's'},
        {"events", required_argument, NULL, 'n'},   {"duration", required_argument, NULL, 'd'},
        {"rate", required_argument, NULL, 'r'},     {"payload", required_argument, NULL, 'p'},
        {"buffers", required_argument, NULL, 'b'},  {"pages", required_argument, NULL, 'P'},
        {"threshold", required_argument, NULL, 't'}, {"basis", required_argument, NULL, 'B'},
        {"sources", required_argument, NULL, 'S'},  {"global", required_argument, NULL, 'g'},
        {"output", required_argument, NULL, 'o'},   {"force", no_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},          {"abi", required_argument, NULL, 'A'},
        {"mode", required_argument, NULL, 'M'},     {"file-mode", required_argument, NULL, 'F'},
        {"relayd", required_argument, NULL, 1001},  {"hostname", required_argument, NULL, 1002},
        {"session", required_argument, NULL, 1003}, {"relayd-buffer", required_argument, NULL, 1004},
        {"threads", required_argument, NULL, 'T'},
        {"from", required_argument, NULL, 'X'},
        {"diaglog", no_argument, NULL, 'Y'},
        {"snapshot", no_argument, NULL, 1005},     {"snapshot-size", required_argument, NULL, 1006},
        {"reuse", no_argument, NULL, 'U'},          {"reset", no_argument, NULL, 'Z'},
        {"compress", no_argument, NULL, 1007},
        {"max-size", required_argument, NULL, 1008}, {"rotate", required_argument, NULL, 1009},
        {NULL, 0, NULL, 0},
    };
    uint64_t lps = 4, domains = 1, children = 1, seed = 1, events = 0, duration_ms = 2000;
    uint64_t rate = 100000, payload = 32, buffers = 0, pages = 4, threshold = 2, global_pm = 5;
    uint64_t sources = UINT64_MAX, threads = 0;
    uint32_t basis = HvEventLogEntryTimeReference, mode = HvEventLogModeRegular;
    enum hvlog_abi_profile abi = HVLOG_ABI_2013;
    bool mode_given = false;
    const char *out = NULL;
    bool force = false, quiet = false, events_given = false;
    unsigned compress = 0; /* --compress: HVLOG_TRACE_COMPRESS (docs/trace-format.md section 1) */
    struct record_live_options live_opts = {0};
    struct record_snapshot_options snap_opts = {0};
    struct record_rotate_options rotate_opts = {0};
    struct hvlog_sim *sim = NULL;
    struct hvlog_client *client = NULL;
    struct sim_root root = {0};
    struct recording rec = {0};
    struct hvlog_trace_meta meta;
    struct hvlog_trace_lp *lp_rows = NULL;
    struct hvlog_sim_workload wl;
    uint64_t start, last_draw = 0, lost_total = 0, overwritten_total = 0;
    uint32_t lost_lps = 0;
    const struct hvlog_group_params *params = root.params;
    struct sigaction old_actions[3];
    unsigned file_mode = HVLOG_TRACE_FILE_MODE;
    long long owner_uid, owner_gid;
    int opt, status = CLI_EXIT_FAILURE;
    bool tty, caught = false;
    bool from_kvm = false; /* --from kvm: the LPs are a KVM child's vCPUs (record_kvm.c) */
    struct record_kvm *kvm = NULL;
    /* --from: "sim" (NULL) or a device path (issue #14: record_mshv.c). */
    struct record_mshv_args dev = {.existing = 0, .sources = UINT64_MAX};
    bool duration_given = false;

    while ((opt = cli_getopt("record", argc, argv, "o:fq", longopts)) != -1) {
        switch (opt) {
        case 'l': if (!cli_number("record", "--lps", optarg, 1, HVLOG_SIM_MAX_LPS, &lps)) return CLI_EXIT_USAGE; break;
        case 'D': if (!cli_number("record", "--domains", optarg, 1, HVLOG_SIM_MAX_DOMAINS, &domains)) return CLI_EXIT_USAGE; break;
        case 'c': if (!cli_number("record", "--children", optarg, 0, HVLOG_SIM_MAX_CHILDREN, &children)) return CLI_EXIT_USAGE; break;
        case 's': if (!cli_number("record", "--seed", optarg, 0, UINT64_MAX, &seed)) return CLI_EXIT_USAGE; break;
        case 'n': if (!cli_number("record", "--events", optarg, 1, UINT64_MAX, &events)) return CLI_EXIT_USAGE; events_given = true; break;
        case 'd': if (!cli_number("record", "--duration (ms)", optarg, 1, 3600000, &duration_ms)) return CLI_EXIT_USAGE; duration_given = true; break;
        case 'r': if (!cli_number("record", "--rate", optarg, 0, 100000000, &rate)) return CLI_EXIT_USAGE; break;
        case 'p': if (!cli_number("record", "--payload", optarg, 0, 4096, &payload)) return CLI_EXIT_USAGE; break;
        case 'b': if (!cli_number("record", "--buffers", optarg, 1, HV_EVENTLOG_MAX_BUFFER_COUNT, &buffers)) return CLI_EXIT_USAGE; break;
        case 'P': if (!cli_number("record", "--pages", optarg, 1, HV_EVENTLOG_MAX_BUFFER_PAGES, &pages)) return CLI_EXIT_USAGE; break;
        case 't': if (!cli_number("record", "--threshold", optarg, 1, HV_EVENTLOG_MAX_BUFFER_COUNT, &threshold)) return CLI_EXIT_USAGE; break;
        case 'g': if (!cli_number("record", "--global (per mille)", optarg, 0, 1000, &global_pm)) return CLI_EXIT_USAGE; break;
        case 'B':
            if (strcmp(optarg, "ref") == 0 || strcmp(optarg, "reference") == 0)
                basis = HvEventLogEntryTimeReference;
            else if (strcmp(optarg, "tsc") == 0)
                basis = HvEventLogEntryTimeTsc;
            else if (strcmp(optarg, "qpc") == 0) /* §11.5; checked against --abi below */
                basis = HvEventLogEntryTimeQpc;
            else {
                cli_error("record: --basis takes ref, tsc or qpc, not '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'A':
            if (strcmp(optarg, "2013") == 0)
                abi = HVLOG_ABI_2013;
            else if (strcmp(optarg, "current") == 0)
                abi = HVLOG_ABI_CURRENT;
            else {
                cli_error("record: --abi takes 2013 or current, not '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            break;
        case 'M':
            if (strcmp(optarg, "regular") == 0)
                mode = HvEventLogModeRegular;
            else if (strcmp(optarg, "circular") == 0)
                mode = HvEventLogModeCircular;
            else {
                cli_error("record: --mode takes regular or circular, not '%s'", optarg);
                return CLI_EXIT_USAGE;
            }
            mode_given = true;
            break;
        case 'S': if (!parse_sources(optarg, &sources)) return CLI_EXIT_USAGE; break;
        case 'F': if (!parse_file_mode(optarg, &file_mode)) return CLI_EXIT_USAGE; break;
        case 1001: live_opts.url = optarg; break;
        case 1002: live_opts.hostname = optarg; break;
        case 1003: live_opts.session = optarg; break;
        case 1004: if (!record_live_parse_size(optarg, &live_opts.buffer_bytes)) return CLI_EXIT_USAGE; break;
        case 1005: snap_opts.enabled = true; break;
        case 1006: if (!record_snapshot_parse_size(optarg, &snap_opts.ring_bytes)) return CLI_EXIT_USAGE; break;
        case 1007: compress = HVLOG_TRACE_COMPRESS; break;
        case 1008: case 1009: if (!record_rotate_option(&rotate_opts, opt == 1009, optarg)) return CLI_EXIT_USAGE; break;
        case 'T': if (!cli_number("record", "--threads", optarg, 1, HVLOG_SIM_MAX_THREADS, &threads)) return CLI_EXIT_USAGE; break;
        case 'X': /* sim, kvm, or a real root's device path (record_mshv.c) */
            from_kvm = strcmp(optarg, "kvm") == 0;
            dev.device = strcmp(optarg, "sim") == 0 || from_kvm ? NULL : optarg;
            break;
        case 'Y': dev.diaglog = true; break;
        case 'U': dev.existing = dev.existing ? -1 : HVLOG_CAPTURE_REUSE; break;
        case 'Z': dev.existing = dev.existing ? -1 : HVLOG_CAPTURE_RESET; break;
        case 'o': out = optarg; break;
        case 'f': force = true; break;
        case 'q': quiet = true; break;
        default: return CLI_EXIT_USAGE; /* cli_getopt said why */
        }
    }
    if (optind < argc) {
        cli_error("record: unexpected argument '%s'", argv[optind]);
        return CLI_EXIT_USAGE;
    }
    if (!out && !live_opts.url) {
        cli_error("record: the trace directory is required (-o DIR), unless --relayd streams it");
        return CLI_EXIT_USAGE;
    }
    if (compress && !out) {
        cli_error("record: --compress compresses the trace directory, and --relayd alone writes none "
                  "(add -o DIR)");
        return CLI_EXIT_USAGE;
    }
    if (snap_opts.enabled && rotate_opts.max_bytes) {
        cli_error("record: --snapshot writes whole snapshots, --max-size rotates one recording: "
                  "choose one");
        return CLI_EXIT_USAGE;
    }
    snap_opts.compress = compress != 0;
    if (!record_live_check(&live_opts) || !record_rotate_check(&rotate_opts, out, dev.diaglog) ||
        !record_snapshot_check(&snap_opts, out, dev.device || dev.diaglog || dev.existing))
        return CLI_EXIT_USAGE;
    if (live_opts.url && (snap_opts.enabled || rotate_opts.max_bytes)) {
        /* What relayd was sent and lost goes into one trace's closing
         * metadata; a rotated recording and a flight recorder have no such
         * place yet, and losses must not go unreported. */
        cli_error("record: --relayd streams one recording: not with %s yet",
                  snap_opts.enabled ? "--snapshot" : "--max-size");
        return CLI_EXIT_USAGE;
    }
    if ((dev.device || dev.diaglog || dev.existing) && from_kvm) {
        cli_error("record: --diaglog, --reuse and --reset are for a real root's device, not --from kvm");
        return CLI_EXIT_USAGE;
    }
    if (from_kvm && live_opts.url) {
        cli_error("record: --relayd does not stream a --from kvm recording yet (its root is a guest)");
        return CLI_EXIT_USAGE;
    }
    if (dev.device || dev.diaglog || dev.existing) {
        dev = (struct record_mshv_args){dev.device, out, force, quiet, file_mode, -1, -1,
            duration_given ? duration_ms : 0, events, buffers, pages, threshold, basis, mode,
            sources, dev.diaglog, dev.existing, argc, argv, compress, &rotate_opts,
            live_opts.url ? &live_opts : NULL};
        sudo_owner(&dev.owner_uid, &dev.owner_gid);
        return cli_record_mshv(&dev);
    }
    if (buffers == 0)
        buffers = lps * 4 > HV_EVENTLOG_MAX_BUFFER_COUNT ? HV_EVENTLOG_MAX_BUFFER_COUNT : lps * 4;
    if (threshold > buffers) {
        cli_error("record: --threshold %" PRIu64 " exceeds --buffers %" PRIu64, threshold, buffers);
        return CLI_EXIT_USAGE;
    }
    /* What only the current layouts can say (§11.1, §11.5, §11.4). */
    if (abi == HVLOG_ABI_2013 && lps > HVLOG_SIM_MAX_LPS_2013) {
        cli_error("record: --lps %" PRIu64 " needs --abi current (the 2013 buffer header names "
                  "its LP in 8 bits, so LPs %u and above could not be told apart)",
                  lps, HVLOG_SIM_MAX_LPS_2013);
        return CLI_EXIT_USAGE;
    }
    if (abi == HVLOG_ABI_2013 && mode_given) {
        cli_error("record: --mode needs --abi current (the 2013 Initialize has no Mode field)");
        return CLI_EXIT_USAGE;
    }
    if (abi == HVLOG_ABI_2013 && basis == HvEventLogEntryTimeQpc) {
        cli_error("record: --basis qpc needs --abi current (the 2013 time bases are ref and tsc)");
        return CLI_EXIT_USAGE;
    }
    /* D5/D7: in the current SetSources, bit 0 of the mask is the "extended"
     * flag, which the hypervisor refuses; "all" means every other bit. */
    if (abi == HVLOG_ABI_CURRENT && sources != UINT64_MAX &&
        (sources & HV_EVENTLOG_EXTENDED_TRACE_FLAG)) {
        cli_error("record: --sources 0x%" PRIx64 " has bit 0, the current ABI's \"extended\" flag "
                  "(spec D5): not a source under --abi current", sources);
        return CLI_EXIT_USAGE;
    }
    if (from_kvm && !record_kvm_usable()) /* before anything is written */
        return CLI_EXIT_FAILURE;
    memset(&meta, 0, sizeof meta);
    sudo_owner(&owner_uid, &owner_gid);
    if (out && snap_opts.enabled && /* the flight recorder: a ring, no trace file */
        !(rec.snap = record_snapshot_open(out, &snap_opts, pages * HV_PAGE_SIZE, force, quiet,
                                          file_mode, owner_uid, owner_gid)))
        return CLI_EXIT_FAILURE;
    if (out && !rec.snap &&
        (hvlog_trace_writer_create(out, (force ? HVLOG_TRACE_FORCE : 0) | compress, &rec.writer, &rec.err) !=
                    HVLOG_EXPORT_OK ||
                hvlog_trace_writer_access(rec.writer, file_mode, owner_uid, owner_gid, &rec.err) !=
                    HVLOG_EXPORT_OK ||
                !record_rotate_apply(&rotate_opts, rec.writer, &rec.err))) {
        cli_error("record: %s", rec.err.message);
        hvlog_trace_writer_abort(rec.writer);
        return CLI_EXIT_FAILURE;
    }
    /* Caught from here on, so that nothing staged is left behind by a
     * signal during setup either. */
    interrupted = 0;
    catch_stop_signals(old_actions);
    caught = true;

    lp_rows = calloc(lps, sizeof *lp_rows);
    if (!lp_rows) {
        cli_error("record: out of memory");
        goto out;
    }
    {
        /* SystemTime is read just before each Initialize, and the client
         * reads the reference counter right after it (root ops
         * read_reference_time): that pair is the trace's wall-clock anchor,
         * so it must not be taken before another group's prepare. */
        const struct sim_root_config rc = {
            .lps = (uint32_t)lps, .domains = (uint32_t)domains, .children = (uint32_t)children,
            .threads = (uint32_t)threads, .seed = seed, .abi = abi,
            .buffers = (uint32_t)buffers, .pages = (uint32_t)pages,
            .threshold = (uint32_t)threshold, .basis = basis, .mode = mode,
            .global = global_pm != 0, .local_sources = source_mask(abi, sources),
            .global_sources = source_mask(abi, UINT64_MAX), .anchor = true,
            .guest_root = from_kvm}; /* --from kvm: the root is a KVM guest (record_kvm_root.c) */
        char why[256];

        if (!sim_root_open(&rc, &root, why, sizeof why)) {
            cli_error("record: %s", why);
            goto out;
        }
        sim = root.sim;
        client = root.client;
    }

    /* The opening metadata: everything a root knows before it logs. */
    meta.version = HVLOG_TRACE_FORMAT_VERSION;
    snprintf(meta.hvlog_version, sizeof meta.hvlog_version, "%s", hvlog_version());
    snprintf(meta.abi_profile, sizeof meta.abi_profile, "%s",
             abi == HVLOG_ABI_CURRENT ? "current" : "2013");
    meta.command_line = cli_command_line(argc, argv);
    meta.root.vps = root.ops.vp_count;
    meta.root.domains = root.ops.domain_count;
    /* The root's own name: several traces on one timeline are told apart
     * by it (hvlog decode A B), and relayd lists the host by it, so
     * --hostname names both. gethostname truncates silently: made a C
     * string whatever it did. */
    if (live_opts.hostname)
        snprintf(meta.root.hostname, sizeof meta.root.hostname, "%s", live_opts.hostname);
    else if (gethostname(meta.root.hostname, sizeof meta.root.hostname - 1) != 0)
        meta.root.hostname[0] = '\0';
    meta.root.hostname[sizeof meta.root.hostname - 1] = '\0';
    /* The simulator's geometry and seed: host section (the counters are
     * added at the end). */
    meta.host_present = true;
    meta.host.lps = (uint32_t)lps;
    meta.host.domains = (uint32_t)domains;
    meta.host.children = (uint32_t)children;
    meta.host.seed = seed;
    meta.tsc_frequency_hz = basis == HvEventLogEntryTimeTsc ? tsc_frequency() : 0;
    /* §11.5: on Hyper-V a partition's QPC runs off its reference time, so
     * under the current profile the QPC ticks at 10 MHz and the reference
     * counter the root read at Initialize is its QPC then. Only the
     * current profile has the QPC basis; 2013 traces say nothing of it. */
    if (abi == HVLOG_ABI_CURRENT)
        meta.qpc_frequency_hz = 10000000u;
    for (uint32_t type = 0; type < 2; type++) {
        const struct hvlog_group_params *p = &params[type];
        struct hvlog_trace_group *g;
        uint64_t ref = 0;
        bool known;

        if (type == HvEventLogTypeGlobalSystemEvents && !global_pm)
            continue;
        known = sim_root_init_reference_time(&root, type, &ref);
        g = &meta.groups[meta.group_count++];
        g->type = type;
        g->convention = abi == HVLOG_ABI_CURRENT ? HVLOG_ABI_CURRENT : HVLOG_ABI_2013;
        g->mode = p->mode;
        g->buffer_count = p->buffer_count;
        g->buffer_pages = p->buffer_pages;
        g->threshold = p->threshold;
        g->time_basis = p->time_basis;
        /* No reference time, no anchor: SystemTime alone places nothing. */
        g->system_time = known ? p->system_time : 0;
        g->reference_time_at_init = ref;
        g->qpc_at_init = ref;
        g->qpc_at_init_known = known && abi == HVLOG_ABI_CURRENT;
        g->sources = source_mask(abi, type == HvEventLogTypeLocalDiagnostics ? sources : UINT64_MAX);
    }
    if (interrupted) { /* stopped before anything was logged: nothing to keep */
        cli_error("record: stopped by signal %d before recording began", (int)interrupted);
        goto out;
    }
    live_opts.output = out;
    live_opts.quiet = quiet;
    if (live_opts.url && !(rec.live = record_live_start(&live_opts, &meta, basis, &root.ops, sim)))
        goto out;
    if (rec.writer && hvlog_trace_writer_start(rec.writer, &meta, &rec.err) != HVLOG_EXPORT_OK) {
        rec.writer = NULL; /* start frees it on failure */
        cli_error("record: %s", rec.err.message);
        goto out;
    }
    if (rec.snap && !record_snapshot_start(rec.snap, &meta, sim, (uint32_t)lps, client))
        goto out;

    wl = (struct hvlog_sim_workload){.events_per_lp = events, .rate_per_lp = (uint32_t)rate,
                                     .payload_min = 0, .payload_max = (uint32_t)payload,
                                     .local_sources = sources == UINT64_MAX ? 0 : sources,
                                     .global_per_mille = (uint32_t)global_pm,
                                     /* the LPs stop on time even while a write holds
                                      * this loop up (--from kvm: the loop's check) */
                                     .duration_ns = events_given ? 0 : duration_ms * 1000000ull};
    tty = !quiet && isatty(STDERR_FILENO);
    if (!record_lps_start(sim, &wl, from_kvm, &kvm))
        goto out;
    start = now_ns();
    /* The root's loop: take ready messages on every VP, keep the buffers. */
    while (record_lps_running(sim, kvm) && !interrupted && !rec.failed) {
        uint64_t t = now_ns();
        uint32_t handled = sim_root_poll(&root, &sink, &rec);

        record_live_tick(rec.live, client);
        record_snapshot_tick(rec.snap);
        if (!events_given && t - start >= duration_ms * 1000000ull)
            break;
        if (tty && t - last_draw >= 100000000ull) { /* at most 10 redraws a second */
            progress(&rec, lost_so_far(sim, (uint32_t)lps), start, false);
            last_draw = t;
        }
        if (!handled) {
            struct timespec nap = {0, 200000}; /* nothing ready: let the LPs run */
            nanosleep(&nap, NULL);
        }
    }
    if (!record_lps_stop(sim, kvm, rec.err.message, sizeof rec.err.message))
        rec.failed = true; /* a vCPU failed: the buffers so far stay in the trace */
    /* §9 Conclude: disable, flush, drain into the trace, tear down. The
     * stop signals stay caught until the closing statistics are written. */
    {
        char why[256];

        if (!sim_root_conclude(&root, &sink, &rec, why, sizeof why) && !rec.failed) {
            snprintf(rec.err.message, sizeof rec.err.message, "--from kvm: %s", why);
            rec.failed = true;
        }
    }
    if (rec.failed) {
        /* The trace keeps every whole buffer written before the failure
         * (abort below leaves it, with no closing statistics). */
        cli_error("record: %s", rec.err.message);
        goto out;
    }
    if (tty)
        progress(&rec, lost_so_far(sim, (uint32_t)lps), start, true);

    {
        /* Closing statistics: what the client saw, summed over the groups. */
        struct hvlog_client_stats cs[2];

        sim_root_stats(&root, HvEventLogTypeLocalDiagnostics, &cs[0]);
        sim_root_stats(&root, HvEventLogTypeGlobalSystemEvents, &cs[1]);
        meta.stats.messages = cs[0].messages + cs[1].messages;
        meta.stats.buffers = cs[0].buffers + cs[1].buffers;
        meta.stats.longest_chain = cs[0].longest_chain > cs[1].longest_chain ? cs[0].longest_chain
                                                                              : cs[1].longest_chain;
        meta.stats.entries = cs[0].entries + cs[1].entries;
        meta.stats.events_lost = cs[0].events_lost + cs[1].events_lost;
        meta.stats.corrupt = cs[0].corrupt + cs[1].corrupt;
    }
    /* The host section's counters: the simulator's truths, which only it
     * (and its engine) can give; readers use them to cross-check. */
    sim_root_lp_counts(sim, (uint32_t)lps, lp_rows);
    for (uint32_t lp = 0; lp < lps; lp++) {
        struct hvlog_sim_lp_counts c;

        hvlog_sim_lp_counts(sim, lp, &c);
        lost_total += c.lost[0] + c.lost[1];
        lost_lps += c.lost[0] + c.lost[1] != 0;
        overwritten_total += lp_rows[lp].overwritten;
    }
    meta.lp_count = (uint32_t)lps;
    meta.lps = lp_rows;
    /* --relayd: what it sent and lost, per stream, into the closing metadata. */
    record_live_drain(rec.live, &meta);
    if (rec.snap && !record_snapshot_finish(rec.snap, &meta))
        goto out;
    if (rec.writer && hvlog_trace_writer_commit(rec.writer, &meta, &rec.err) != HVLOG_EXPORT_OK) {
        rec.writer = NULL; /* commit frees it in every case */
        cli_error("record: %s", rec.err.message);
        goto out;
    }
    rec.writer = NULL;
    /* The trace is complete; relayd gets its last packets, and viewers
     * time to read them (docs/live.md), after it. */
    record_live_finish(rec.live);
    if (interrupted && !quiet)
        fprintf(stderr, "hvlog: record: stopped by signal %d; the trace is complete\n",
                (int)interrupted);
    if (!quiet) {
        printf("hvlog: recorded %" PRIu64 " events (%.1f MB of buffers) in %" PRIu64
               " buffers to %s; ",
               rec.entries, (double)rec.bytes / 1e6, rec.buffers, out ? out : "relayd");
        if (lost_total)
            printf("%" PRIu64 " events lost on %" PRIu32 " LP%s (raise --buffers or lower --threshold)",
                   lost_total, lost_lps, lost_lps == 1 ? "" : "s");
        else
            printf("0 events lost");
        if (mode == HvEventLogModeCircular)
            printf("; %" PRIu64 " LocalDiagnostics events overwritten (circular)", overwritten_total);
        record_live_summary(rec.live, stdout);
        printf("\n");
    }
    status = CLI_EXIT_OK;
out:
    hvlog_trace_writer_abort(rec.writer);
    record_live_destroy(rec.live);
    record_snapshot_destroy(rec.snap);
    free(meta.command_line);
    free(lp_rows);
    hvlog_client_destroy(root.client);
    root.client = NULL;
    record_kvm_destroy(kvm); /* after the client, before the host, as ever */
    sim_root_close(&root);
    if (caught)
        restore_stop_signals(old_actions);
    return status;
}
