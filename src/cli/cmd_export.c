/* SPDX-License-Identifier: MIT */
/* `hvlog export` and `hvlog info`: a trace to CTF or Perfetto (protobuf or JSON); a trace's metadata. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h> /* strcasecmp */
#include <sys/stat.h>
#include <unistd.h>
#include <sys/resource.h>

#include "cli/cli.h"
#include "cli/hosts.h"
#include "cli/opts.h"
#include "hvlog/export/ctf.h"
#include "hvlog/trace/json.h"
#include "hvlog/export/perfetto.h"
#include "hvlog/trace/rotate.h"
#include "hvlog/trace/trace.h"
#include "hvlog/hvlog.h"

/*
 * One stream file per (type, LP) (docs/trace-format.md section 6), and
 * babeltrace2 2.0.4 opens every stream file of a trace at once, then fails
 * with "Too many open files" (bench/RESULTS.md, issue 16: 2,048 stream files under
 * the default `ulimit -n 1024`). hvlog's export writes one file at a time,
 * so it needs no more itself; the reader does: say what to set when the
 * soft limit is too low for it (64 for babeltrace2's own files).
 */
#define READER_SPARE_FILES 64u

static void note_open_files(const char *out, uint64_t streams)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
        streams + READER_SPARE_FILES <= (uint64_t)rl.rlim_cur)
        return;
    fprintf(stderr, "hvlog: note: babeltrace2 opens all %" PRIu64 " stream files of %s at once; "
                    "run it with 'ulimit -n %" PRIu64 "' or more (the limit is %llu here)\n",
            streams, out, streams + READER_SPARE_FILES, (unsigned long long)rl.rlim_cur);
}

/* The export formats: a new one is one row here and its library call. */
typedef enum hvlog_export_status (*export_fn)(const struct hvlog_trace_reader *r, const char *out,
                                              const struct hvlog_export_options *options,
                                              struct hvlog_export_summary *summary,
                                              struct hvlog_export_error *err);
typedef enum hvlog_export_status (*export_hosts_fn)(const struct hvlog_export_host *hosts,
                                                    uint32_t count, const char *out,
                                                    const struct hvlog_export_options *options,
                                                    struct hvlog_export_summary *summary,
                                                    struct hvlog_export_error *err);
static const struct export_format {
    const char *name;
    export_fn run;
    export_hosts_fn run_hosts; /* several traces in one file; NULL: one CTF trace per host */
    const char *streams; /* what summary.streams counts */
    bool binary;         /* refuses an output named *.json */
} formats[] = {
    {"ctf", hvlog_export_ctf, NULL, "streams", false},
    /* "perfetto" is Perfetto's own protobuf format (issue 18): the JSON is
     * four times the buffers and the UI fails on it past about 1 GB. */
    {"perfetto", hvlog_export_perfetto_proto, hvlog_export_perfetto_proto_hosts, "tracks", true},
    {"perfetto-proto", hvlog_export_perfetto_proto, hvlog_export_perfetto_proto_hosts, "tracks",
     true},
    {"perfetto-json", hvlog_export_perfetto, hvlog_export_perfetto_hosts, "tracks", false},
};
#define FORMAT_COUNT (sizeof formats / sizeof formats[0])

static const struct export_format *find_format(const char *name)
{
    for (size_t i = 0; i < FORMAT_COUNT; i++) {
        if (strcmp(formats[i].name, name) == 0)
            return &formats[i];
    }
    return NULL;
}

static void report_skipped(void *arg, const char *message)
{
    (void)arg;
    cli_error("export: skipped: %s", message);
}

/* Remove @dir, which export_hosts made: directories of plain files. */
static void remove_tree(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    const struct dirent *de;

    while (d && depth < 4 && (de = readdir(d)) != NULL) {
        char path[PATH_MAX];
        struct stat st;

        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            (size_t)snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= sizeof path)
            continue;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            remove_tree(path, depth + 1);
        else
            (void)unlink(path);
    }
    if (d)
        closedir(d);
    (void)rmdir(dir);
}

/*
 * Several traces (issue 17). Perfetto: one file, every host on the Unix
 * clock (the library refuses a group without a wall-clock anchor). CTF:
 * one CTF trace per host, each in its own directory OUT/HOST, which babeltrace2 reads as one trace collection and
 * merges by time. Every group must be on the Unix clock (the CTF clocks are
 * then absolute, which is what lets babeltrace2 merge traces of different
 * hosts). All or nothing: written into a hidden directory beside OUT and
 * renamed into place; an existing OUT is never replaced.
 */
static int export_hosts(const struct export_format *fmt, const struct cli_hosts *hosts,
                        const char *out, const struct hvlog_export_options *options,
                        struct hvlog_export_summary *total)
{
    char tmp[PATH_MAX], sub[PATH_MAX];
    const char *slash = strrchr(out, '/');
    struct stat st;

    if (fmt->run_hosts) { /* Perfetto: one file, a track (JSON: processes) per host */
        struct hvlog_export_host in[CLI_HOSTS_MAX];
        struct hvlog_export_error err = {0};

        for (uint32_t h = 0; h < hosts->count; h++) {
            in[h] = (struct hvlog_export_host){hosts->reader[h], hosts->name[h], hosts->offset_ns[h]};
            cli_note_torn("export", hosts->reader[h]);
        }
        if (fmt->run_hosts(in, hosts->count, out, options, total, &err) != HVLOG_EXPORT_OK) {
            cli_error("export: %s", err.message);
            return CLI_EXIT_FAILURE;
        }
        return CLI_EXIT_OK;
    }
    if (options->force || lstat(out, &st) == 0) {
        cli_error("export: %s: %s", out,
                  options->force ? "--force does not apply to several traces; remove OUT first"
                                 : "exists; not replacing it");
        return options->force ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    for (uint32_t h = 0; h < hosts->count; h++) {
        struct hvlog_export_error err = {0};

        if (hvlog_trace_need_wall_clock(hosts->reader[h], options->types, options->tsc_frequency_hz,
                                        &err) != HVLOG_EXPORT_OK) {
            cli_error("export: %s", err.message);
            return CLI_EXIT_FAILURE;
        }
    }
    /* The sweep's pattern (.NAME.tmp-PID-N-HEX), should this process die. */
    if ((size_t)snprintf(tmp, sizeof tmp, "%.*s.%s.tmp-%ld-0-0", slash ? (int)(slash - out + 1) : 0,
                         out, slash ? slash + 1 : out, (long)getpid()) >= sizeof tmp ||
        mkdir(tmp, 0777) != 0) {
        cli_error("export: %s: %s", out, strerror(errno ? errno : ENAMETOOLONG));
        return CLI_EXIT_FAILURE;
    }
    for (uint32_t h = 0; h < hosts->count; h++) {
        struct hvlog_export_options o = *options;
        struct hvlog_export_summary s = {0};
        struct hvlog_export_error err = {0};

        o.clock_offset_ns = hosts->offset_ns[h];
        cli_note_torn("export", hosts->reader[h]);
        if ((size_t)snprintf(sub, sizeof sub, "%.*s/%s", PATH_MAX - (int)CLI_HOST_NAME_MAX - 2, tmp,
                             hosts->name[h]) >= sizeof sub) {
            cli_error("export: %s: the path is too long", tmp);
            remove_tree(tmp, 0);
            return CLI_EXIT_FAILURE;
        }
        if (fmt->run(hosts->reader[h], sub, &o, &s, &err) != HVLOG_EXPORT_OK) {
            cli_error("export: %s: %s", hosts->path[h], err.message);
            remove_tree(tmp, 0);
            return CLI_EXIT_FAILURE;
        }
        total->buffers += s.buffers;
        total->events += s.events;
        total->events_lost += s.events_lost;
        total->events_lost_outside += s.events_lost_outside;
        total->corrupt_skipped += s.corrupt_skipped;
        total->streams += s.streams;
    }
    if (rename(tmp, out) != 0) {
        cli_error("export: %s: %s; not replacing it", out, strerror(errno));
        remove_tree(tmp, 0);
        return CLI_EXIT_FAILURE;
    }
    return CLI_EXIT_OK;
}

int cli_cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'F'}, {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},        {"skip-corrupt", no_argument, NULL, 'k'},
        {"type", required_argument, NULL, 't'},   {"tsc-hz", required_argument, NULL, 'H'},
        {"clock-offset", required_argument, NULL, 'O'},
        {"begin", required_argument, NULL, 'b'},  {"end", required_argument, NULL, 'E'},
        {"lp", required_argument, NULL, 'l'},     {NULL, 0, NULL, 0},
    };
    static struct cli_hosts hosts; /* large; one command per process */
    const struct export_format *fmt;
    struct hvlog_export_options options = {0};
    struct hvlog_export_summary summary = {0};
    struct hvlog_export_error err = {0};
    const char *format = NULL, *out = NULL;
    uint32_t type;
    uint64_t v;
    size_t len;
    bool usage;
    int opt;

    /* A window as decode's (issue 18): raw TimeStamps, both inclusive. */
    options.begin = 0;
    options.end = UINT64_MAX;

    while ((opt = cli_getopt("export", argc, argv, "o:f", longopts)) != -1) {
        switch (opt) {
        case 'F': format = optarg; break;
        case 'o': out = optarg; break;
        case 'f': options.force = true; break;
        case 'k': options.skip_corrupt = true; break;
        case 't':
            if (!cli_log_type("export", optarg, &type))
                return CLI_EXIT_USAGE;
            options.types |= 1u << type;
            break;
        case 'H':
            if (!cli_number("export", "--tsc-hz", optarg, 1, UINT64_MAX, &options.tsc_frequency_hz))
                return CLI_EXIT_USAGE;
            break;
        case 'O':
            if (!cli_hosts_add_offset("export", &hosts, optarg))
                return CLI_EXIT_USAGE;
            break;
        case 'b':
        case 'E':
            if (!cli_number("export", opt == 'b' ? "--begin" : "--end", optarg, 0, UINT64_MAX,
                            opt == 'b' ? &options.begin : &options.end))
                return CLI_EXIT_USAGE;
            options.window = true;
            break;
        case 'l': /* current-ABI LPs are 16-bit (§11.4), as decode's --lp */
            if (!cli_number("export", "--lp", optarg, 0, 65535, &v))
                return CLI_EXIT_USAGE;
            options.lp_only = true;
            options.lp = (uint32_t)v;
            break;
        default: return CLI_EXIT_USAGE; /* cli_getopt said why */
        }
    }
    if (optind >= argc || argc - optind > (int)CLI_HOSTS_MAX || !format || !out) {
        cli_error("export: usage: hvlog export TRACE... --format ctf|perfetto|perfetto-proto|perfetto-json -o OUT");
        return CLI_EXIT_USAGE;
    }
    if (!(fmt = find_format(format))) {
        char names[128] = "";

        for (size_t i = 0; i < FORMAT_COUNT; i++)
            snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                     formats[i].name);
        cli_error("export: unknown format '%s' (%s)", format, names);
        return CLI_EXIT_USAGE;
    }
    if (options.begin > options.end) {
        cli_error("export: --begin %" PRIu64 " is after --end %" PRIu64, options.begin, options.end);
        return CLI_EXIT_USAGE;
    }
    len = strlen(out);
    if (fmt->binary && len >= 5 && strcasecmp(out + len - 5, ".json") == 0) {
        cli_error("export: %s: a protobuf trace under a .json name; for JSON use --format perfetto-json",
                  out);
        return CLI_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++) {
        if (!cli_output_outside_input("export", argv[i], out))
            return CLI_EXIT_FAILURE;
    }
    options.report = report_skipped;
    if (!cli_hosts_open("export", &hosts, argv + optind, argc - optind, &usage)) {
        cli_hosts_close(&hosts);
        return usage ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    if (hosts.count > 1) {
        int status = export_hosts(fmt, &hosts, out, &options, &summary);

        cli_hosts_close(&hosts);
        if (status != CLI_EXIT_OK)
            return status;
    } else {
        enum hvlog_export_status st;

        cli_note_torn("export", hosts.reader[0]);
        options.clock_offset_ns = hosts.offset_ns[0];
        if (options.clock_offset_ns && fmt->run != hvlog_export_ctf) {
            cli_error("export: --clock-offset with one trace applies to --format ctf only");
            cli_hosts_close(&hosts);
            return CLI_EXIT_USAGE;
        }
        st = fmt->run(hosts.reader[0], out, &options, &summary, &err);
        cli_hosts_close(&hosts);
        if (st != HVLOG_EXPORT_OK) {
            cli_error("export: %s", err.message);
            return CLI_EXIT_FAILURE;
        }
    }
    printf("hvlog: exported %" PRIu64 " events from %" PRIu64 " buffers to %s (%s, %" PRIu64
           " %s); %" PRIu64 " events lost",
           summary.events, summary.buffers, out, fmt->name, summary.streams, fmt->streams,
           summary.events_lost);
    if (options.window)
        printf(" in the window, %" PRIu64 " outside it", summary.events_lost_outside);
    if (summary.corrupt_skipped)
        printf(", %" PRIu64 " corrupt buffers skipped", summary.corrupt_skipped);
    printf("\n");
    if (fmt->run == hvlog_export_ctf)
        note_open_files(out, summary.streams);
    return CLI_EXIT_OK;
}

/*
 * Trace-derived text for a terminal (issue 13, A5): a trace copied from
 * another host may hold anything its metadata's strings can, escape
 * sequences included. C0 controls, DEL and C1 controls (U+0080..U+009F,
 * which some terminals obey too) are printed as \xNN or \u00NN, and a
 * backslash as \\, so nothing in a trace can move the cursor, retitle the
 * window or clear the screen. Everything else (valid UTF-8, as the parser
 * checked) is printed as it is: hvlog_escape_text, the one escaping.
 */
static void print_escaped(FILE *f, const char *s)
{
    size_t len = s ? strlen(s) : 0;
    char *text = malloc(4 * len + 1);

    if (!text) {
        fputs("(out of memory)", f);
        return;
    }
    (void)hvlog_escape_text(text, s ? s : "", len);
    fputs(text, f);
    free(text);
}

void cli_note_torn(const char *cmd, const struct hvlog_trace_reader *reader)
{
    const struct hvlog_trace_meta *m = hvlog_trace_reader_meta(reader);

    for (uint32_t i = 0; m && i < m->group_count; i++) {
        struct hvlog_trace_cursor *c;
        uint64_t torn;

        if (hvlog_trace_cursor_open(reader, m->groups[i].type, &c, NULL) != HVLOG_EXPORT_OK)
            continue; /* the command itself reports it */
        torn = hvlog_trace_cursor_torn(c);
        if (torn) {
            fprintf(stderr, "hvlog: %s: note: ", cmd);
            print_escaped(stderr, hvlog_trace_cursor_file(c));
            fprintf(stderr, ": the last %" PRIu64 " bytes are a buffer the unfinished recording "
                            "did not write whole; left out\n", torn);
        }
        hvlog_trace_cursor_close(c);
    }
    /* Records files (SystemDiagnostics from the diaglog fd): info counts
     * them, decode prints them and stats counts them; the exports do not
     * read them yet, and say so rather than leave them out silently. */
    for (uint32_t i = 0; m && i < m->records_count && strcmp(cmd, "export") == 0; i++)
        fprintf(stderr, "hvlog: %s: note: %s has SystemDiagnostics records (%s), which %s "
                        "does not read yet; 'hvlog info' counts them\n",
                cmd, hvlog_trace_reader_path(reader), m->records[i].file, cmd);
}

void cli_print_lp_counts(const struct hvlog_trace_lp *lp)
{
    printf("lp %-3" PRIu32 "      logged %" PRIu64 ", recorded %" PRIu64 ", lost %" PRIu64
           " (no buffer %" PRIu64 ", too large %" PRIu64 "), overwritten %" PRIu64 "\n",
           lp->lp, lp->logged, lp->recorded, lp->lost, lp->lost_no_buffer, lp->lost_too_large,
           lp->overwritten);
}

void cli_json_lp_counts(struct hvlog_json_writer *w, const struct hvlog_trace_lp *lp)
{
    hvlog_json_object_begin(w);
    hvlog_json_member_u64(w, "lp", lp->lp);
    /* overwritten (Circular mode): in recorded, no longer in the trace. */
#define JSON_LP_COUNTER(field) hvlog_json_member_u64(w, #field, lp->field);
    HVLOG_TRACE_LP_COUNTERS(JSON_LP_COUNTER)
#undef JSON_LP_COUNTER
    hvlog_json_object_end(w);
}

void cli_json_relayd(struct hvlog_json_writer *w, const struct hvlog_trace_meta *m)
{
    struct hvlog_trace_relayd_stream t;

    if (!m->relayd_present)
        return;
    t = hvlog_trace_relayd_total(m->relayd.streams, m->relayd.stream_count);
    hvlog_json_key(w, "relayd");
    hvlog_json_object_begin(w);
    if (m->relayd.url)
        hvlog_json_member_string(w, "url", m->relayd.url);
    hvlog_json_member_u64(w, "sent", t.sent);
    hvlog_json_member_u64(w, "lost", hvlog_trace_relayd_lost(&t));
    hvlog_json_member_u64(w, "breaks", m->relayd.breaks);
    hvlog_json_member_u64(w, "reconnects", m->relayd.reconnects);
    hvlog_json_key(w, "streams");
    hvlog_json_array_begin(w);
    for (uint32_t i = 0; i < m->relayd.stream_count; i++) {
        const struct hvlog_trace_relayd_stream *s = &m->relayd.streams[i];
        const char *type = hvlog_trace_group_short(s->type);

        hvlog_json_object_begin(w);
        hvlog_json_member_string(w, "type", type ? type : "?");
        hvlog_json_member_u64(w, "lp", s->lp);
#define JSON_COUNTER(field) hvlog_json_member_u64(w, #field, s->field);
        HVLOG_TRACE_RELAYD_COUNTERS(JSON_COUNTER)
#undef JSON_COUNTER
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
    hvlog_json_object_end(w);
}

static void print_relayd_row(const char *type, const char *lp,
                             const struct hvlog_trace_relayd_stream *s)
{
    printf("relayd %-7s %4s %10" PRIu64 " %10" PRIu64 " %11" PRIu64 " %12" PRIu64 " %10" PRIu64 "\n", type,
           lp, s->sent, s->lost_queue_full, s->lost_send_failed, s->lost_unsent_at_end,
           s->lost_encoder);
}

void cli_print_relayd(const struct hvlog_trace_meta *m, bool per_stream)
{
    struct hvlog_trace_relayd_stream t;

    if (!m->relayd_present)
        return;
    t = hvlog_trace_relayd_total(m->relayd.streams, m->relayd.stream_count);
    fputs(per_stream ? "\nrelayd:      " : "relayd:      ", stdout);
    print_escaped(stdout, m->relayd.url ? m->relayd.url : "?");
    printf(": sent %" PRIu64 " events, %" PRIu64 " lost for relayd (queue full %" PRIu64
           ", send failed %" PRIu64 ", unsent at the end %" PRIu64 ", encoder %" PRIu64
           "); connection breaks %" PRIu64 ", reconnects %" PRIu64 "\n",
           t.sent, hvlog_trace_relayd_lost(&t), t.lost_queue_full, t.lost_send_failed,
           t.lost_unsent_at_end, t.lost_encoder, m->relayd.breaks, m->relayd.reconnects);
    if (!per_stream)
        return;
    /* Rows begin "relayd": the stream table above begins with the type. */
    printf("relayd %-7s %4s %10s %10s %11s %12s %10s\n", "type", "lp", "sent", "queue-full", "send-failed",
           "unsent-end", "encoder");
    for (uint32_t i = 0; i < m->relayd.stream_count; i++) {
        const struct hvlog_trace_relayd_stream *s = &m->relayd.streams[i];
        const char *type = hvlog_trace_group_short(s->type);
        char lp[16];

        snprintf(lp, sizeof lp, "%" PRIu32, s->lp);
        print_relayd_row(type ? type : "?", lp, s);
    }
}

/* One group as info sees it: the file's whole buffers and torn tail. */
struct info_group {
    uint64_t buffers, torn;
};

static void info_json(const struct hvlog_trace_reader *reader, enum hvlog_trace_state state,
                      const struct info_group *files)
{
    const struct hvlog_trace_meta *m = hvlog_trace_reader_meta(reader);
    struct hvlog_json_writer *w = hvlog_json_writer_create(hvlog_json_sink_file, stdout,
                                                           HVLOG_JSON_PRETTY);
    bool raw = hvlog_trace_reader_is_raw(reader);

    if (!w)
        return;
    hvlog_json_object_begin(w);
    hvlog_json_member_string(w, "trace", hvlog_trace_reader_path(reader));
    hvlog_json_key(w, "raw");
    hvlog_json_bool(w, raw);
    hvlog_json_member_u64(w, "format_version", m->version);
    hvlog_json_member_string(w, "state", hvlog_trace_state_name(state));
    hvlog_json_key(w, "host_section");
    hvlog_json_bool(w, m->host_present);
    if (!raw) {
        hvlog_json_member_string(w, "hvlog_version", m->hvlog_version);
        hvlog_json_member_string(w, "abi_profile", m->abi_profile);
        if (m->command_line)
            hvlog_json_member_string(w, "command_line", m->command_line);
        hvlog_json_key(w, "root");
        hvlog_json_object_begin(w);
        if (m->root.hostname[0])
            hvlog_json_member_string(w, "hostname", m->root.hostname);
        hvlog_json_member_u64(w, "vps", m->root.vps);
        hvlog_json_member_u64(w, "domains", m->root.domains);
        hvlog_json_object_end(w);
        hvlog_json_member_u64(w, "tsc_frequency_hz", m->tsc_frequency_hz);
        hvlog_json_member_u64(w, "qpc_frequency_hz", m->qpc_frequency_hz);
    }
    hvlog_json_key(w, "groups");
    hvlog_json_array_begin(w);
    for (uint32_t i = 0; i < m->group_count; i++) {
        const struct hvlog_trace_group *g = &m->groups[i];
        const char *name = hvlog_eventlog_type_name(g->type);

        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "type", g->type);
        hvlog_json_member_string(w, "name", name ? name : "?");
        hvlog_json_member_string(w, "file", g->file);
        hvlog_json_member_string(w, "compression",
                                 g->compression == HVLOG_TRACE_COMPRESSION_ZSTD ? "zstd" : "none");
        hvlog_json_member_string(w, "header_convention",
                                 g->convention == HVLOG_ABI_CURRENT ? "current" : "2013");
        hvlog_json_member_u64(w, "buffers_in_file", files[i].buffers);
        hvlog_json_member_u64(w, "torn_bytes", files[i].torn);
        if (g->buffers_written_known)
            hvlog_json_member_u64(w, "buffers_written", g->buffers_written);
        hvlog_json_member_u64(w, "buffer_pages", g->buffer_pages);
        hvlog_json_member_u64(w, "buffer_count", g->buffer_count);
        hvlog_json_member_u64(w, "threshold", g->threshold);
        hvlog_json_member_u64(w, "mode", g->mode);
        hvlog_json_member_u64(w, "time_basis", g->time_basis);
        hvlog_json_member_u64(w, "system_time", g->system_time);
        hvlog_json_member_u64(w, "reference_time_at_init", g->reference_time_at_init);
        if (g->qpc_at_init_known)
            hvlog_json_member_u64(w, "qpc_at_init", g->qpc_at_init);
        hvlog_json_key(w, "reference_anchor");
        hvlog_json_bool(w, !g->no_reference_anchor);
        hvlog_json_member_hex(w, "sources", g->sources);
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
    if (m->records_count) {
        hvlog_json_key(w, "records");
        hvlog_json_array_begin(w);
        for (uint32_t i = 0; i < m->records_count; i++) {
            const struct hvlog_trace_records *r = &m->records[i];
            uint64_t count = 0, torn = 0;

            (void)hvlog_trace_records_scan(reader, r->type, &count, &torn, NULL);
            hvlog_json_object_begin(w);
            hvlog_json_member_u64(w, "type", r->type);
            hvlog_json_member_string(w, "file", r->file);
            hvlog_json_member_string(w, "time_unit", "unix_seconds");
            hvlog_json_member_u64(w, "records_in_file", count);
            hvlog_json_member_u64(w, "torn_bytes", torn);
            if (r->records_written_known)
                hvlog_json_member_u64(w, "records_written", r->records_written);
            hvlog_json_object_end(w);
        }
        hvlog_json_array_end(w);
    }
    if (m->closed && !raw) {
        hvlog_json_key(w, "closing");
        hvlog_json_object_begin(w);
#define JSON_CLOSING(field) hvlog_json_member_u64(w, #field, m->stats.field);
        HVLOG_TRACE_CLOSING_COUNTERS(JSON_CLOSING)
#undef JSON_CLOSING
        cli_json_relayd(w, m);
        hvlog_json_object_end(w);
    }
    if (m->snapshot_present) {
        /* A flight recorder's snapshot (record --snapshot): its accounting. */
        hvlog_json_key(w, "snapshot");
        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "sequence", m->snapshot.sequence);
        hvlog_json_member_string(w, "reason", m->snapshot.reason);
        hvlog_json_member_u64(w, "ring_bytes", m->snapshot.ring_bytes);
        hvlog_json_key(w, "lps");
        hvlog_json_array_begin(w);
        for (uint32_t i = 0; i < m->snapshot.row_count; i++) {
            const struct hvlog_trace_snapshot_lp *r = &m->snapshot.rows[i];

            hvlog_json_object_begin(w);
            hvlog_json_member_string(w, "type", hvlog_trace_group_short(r->type));
            hvlog_json_member_u64(w, "lp", r->lp);
#define JSON_SNAPSHOT(field) hvlog_json_member_u64(w, #field, r->field);
            HVLOG_TRACE_SNAPSHOT_COUNTERS(JSON_SNAPSHOT)
#undef JSON_SNAPSHOT
            hvlog_json_object_end(w);
        }
        hvlog_json_array_end(w);
        hvlog_json_object_end(w);
    }
    if (m->host_present) {
        hvlog_json_key(w, "host");
        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "lps", m->host.lps);
        hvlog_json_member_u64(w, "domains", m->host.domains);
        hvlog_json_member_u64(w, "children", m->host.children);
        hvlog_json_member_u64(w, "seed", m->host.seed);
        hvlog_json_key(w, "lp_counts");
        hvlog_json_array_begin(w);
        for (uint32_t i = 0; i < m->lp_count; i++)
            cli_json_lp_counts(w, &m->lps[i]);
        hvlog_json_array_end(w);
        hvlog_json_object_end(w);
    }
    hvlog_json_object_end(w);
    hvlog_json_writer_close(w);
    fputc('\n', stdout);
}

static void info_text(const struct hvlog_trace_reader *reader, enum hvlog_trace_state state,
                      const struct info_group *files)
{
    const struct hvlog_trace_meta *m = hvlog_trace_reader_meta(reader);

    fputs("trace:       ", stdout);
    print_escaped(stdout, hvlog_trace_reader_path(reader));
    printf("%s\n", hvlog_trace_reader_is_raw(reader) ? " (raw buffer file)" : "");
    if (!hvlog_trace_reader_is_raw(reader)) {
        printf("format:      hvlog-trace %" PRIu32 ", recorded by hvlog ", m->version);
        print_escaped(stdout, m->hvlog_version);
        printf(", ABI profile %s\n", m->abi_profile); /* "2013" or "current": checked */
        printf("state:       %s%s\n", hvlog_trace_state_name(state),
               state == HVLOG_TRACE_STATE_DIED
                   ? " (no closing statistics and no live recorder: killed, or stopped by a "
                     "write error; its whole buffers decode)"
               : state == HVLOG_TRACE_STATE_RECORDING ? " (a live hvlog record holds its lock)"
                                                       : "");
        if (m->command_line) {
            fputs("command:     ", stdout);
            print_escaped(stdout, m->command_line);
            fputc('\n', stdout);
        }
        if (m->root.hostname[0]) {
            fputs("host name:   ", stdout);
            print_escaped(stdout, m->root.hostname);
            fputc('\n', stdout);
        }
        if (m->root.vps)
            printf("root:        %" PRIu32 " VPs, %" PRIu32 " proximity domains\n", m->root.vps,
                   m->root.domains);
        if (m->tsc_frequency_hz)
            printf("TSC:         %" PRIu64 " Hz\n", m->tsc_frequency_hz);
        if (m->qpc_frequency_hz)
            printf("QPC:         %" PRIu64 " Hz\n", m->qpc_frequency_hz);
        if (m->closed)
            printf("delivery:    %" PRIu64 " ready messages, %" PRIu64 " buffers, longest ready list %" PRIu64
                   "\n", m->stats.messages, m->stats.buffers, m->stats.longest_chain);
        if (m->closed && m->version >= 2)
            printf("client saw:  %" PRIu64 " events, %" PRIu64 " lost in headers, %" PRIu64
                   " corrupt\n", m->stats.entries, m->stats.events_lost, m->stats.corrupt);
        cli_print_relayd(m, false);
        if (m->host_present)
            printf("host:        present (simulator: %" PRIu32 " LPs, %" PRIu32 " domains, %" PRIu32
                   " children, seed %" PRIu64 "; for cross-checks only)\n",
                   m->host.lps, m->host.domains, m->host.children, m->host.seed);
        else
            printf("host:        none (what a root knows only)\n");
        if (m->snapshot_present) {
            printf("snapshot:    number %" PRIu64 " (", m->snapshot.sequence);
            print_escaped(stdout, m->snapshot.reason);
            printf(") of a flight recorder, ring of %" PRIu64 " bytes\n", m->snapshot.ring_bytes);
        }
        for (uint32_t i = 0; m->snapshot_present && i < m->snapshot.row_count; i++) {
            const struct hvlog_trace_snapshot_lp *r = &m->snapshot.rows[i];

            printf("snapshot %-6s lp %-3" PRIu32 " %" PRIu64 " buffers, %" PRIu64 " events, %" PRIu64
                   " lost in it; overwritten before it: %" PRIu64 " buffers, %" PRIu64 " events, %" PRIu64
                   " lost\n",
                   hvlog_trace_group_short(r->type) ? hvlog_trace_group_short(r->type) : "?", r->lp,
                   r->buffers, r->entries, r->events_lost, r->overwritten_buffers,
                   r->overwritten_entries, r->overwritten_events_lost);
        }
    }
    for (uint32_t i = 0; i < m->group_count; i++) {
        const struct hvlog_trace_group *g = &m->groups[i];

        printf("group:       %s (type %" PRIu32 "), ",
               hvlog_eventlog_type_name(g->type) ? hvlog_eventlog_type_name(g->type) : "?", g->type);
        print_escaped(stdout, g->file);
        printf(": %" PRIu64 " buffers of %" PRIu32 " pages in the file", files[i].buffers,
               g->buffer_pages);
        if (g->buffers_written_known)
            printf(" (%" PRIu64 " written)", g->buffers_written);
        if (g->compression == HVLOG_TRACE_COMPRESSION_ZSTD)
            printf(", zstd-compressed");
        if (files[i].torn)
            printf(", %" PRIu64 " bytes of a torn last buffer left out", files[i].torn);
        printf("; count %" PRIu32 ", threshold %" PRIu32 ", time basis %s, mode %s, sources 0x%" PRIx64,
               g->buffer_count, g->threshold,
               hvlog_time_basis_name(g->time_basis) ? hvlog_time_basis_name(g->time_basis) : "?",
               g->mode == 1 ? "circular" : "regular", g->sources);
        if (g->qpc_at_init_known)
            printf(", QPC at Initialize %" PRIu64, g->qpc_at_init);
        printf("\n");
        if (g->no_reference_anchor)
            printf("anchor:      none for %s: the recorder could not read the reference counter "
                   "(/dev/cpu/N/msr), so wall-clock time comes from SystemTime alone (the "
                   "recording's start); entry times are the hypervisor's own\n",
                   hvlog_trace_group_short(g->type) ? hvlog_trace_group_short(g->type) : "?");
    }
    for (uint32_t i = 0; i < m->records_count; i++) {
        const struct hvlog_trace_records *r = &m->records[i];
        struct hvlog_export_error err = {0};
        uint64_t count = 0, torn = 0;
        enum hvlog_export_status st = hvlog_trace_records_scan(reader, r->type, &count, &torn, &err);

        printf("records:     %s (type %" PRIu32 "), ",
               hvlog_eventlog_type_name(r->type) ? hvlog_eventlog_type_name(r->type) : "?", r->type);
        print_escaped(stdout, r->file);
        printf(": %" PRIu64 " records in the file", count);
        if (r->records_written_known)
            printf(" (%" PRIu64 " written)", r->records_written);
        if (torn)
            printf(", %" PRIu64 " bytes of a torn last record left out", torn);
        printf("; TimeStamp in Unix seconds (the diaglog driver's rewrite)%s%s\n",
               st == HVLOG_EXPORT_OK ? "" : "; ", st == HVLOG_EXPORT_OK ? "" : err.message);
    }
    for (uint32_t i = 0; i < m->lp_count; i++)
        cli_print_lp_counts(&m->lps[i]);
}

int cli_cmd_info(int argc, char **argv)
{
    struct hvlog_export_error err = {0};
    struct hvlog_trace_reader *reader;
    const struct hvlog_trace_meta *m;
    struct info_group files[HVLOG_TRACE_MAX_GROUPS] = {{0}};
    enum hvlog_trace_state state;
    const char *path = NULL;
    bool json = false;

    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    int opt;

    while ((opt = cli_getopt("info", argc, argv, "", longopts)) != -1) {
        if (opt != 'j')
            return CLI_EXIT_USAGE; /* cli_getopt said why */
        json = true;
    }
    if (!cli_operands("info", argc, 1, 1, "hvlog info [--json] TRACE"))
        return CLI_EXIT_USAGE;
    path = argv[optind];
    if (hvlog_trace_is_rotated(path)) /* record --max-size's parent: its chunks */
        return cli_info_rotation(path, json);
    if (hvlog_trace_open(path, &reader, &err) != HVLOG_EXPORT_OK) {
        cli_error("info: %s", err.message);
        return CLI_EXIT_FAILURE;
    }
    m = hvlog_trace_reader_meta(reader);
    /* Every data file the metadata names must be there: a missing one is
     * an error, never "0 buffers" (issue 13, smaller ones). */
    for (uint32_t i = 0; i < m->group_count; i++) {
        struct hvlog_trace_cursor *c;

        if (hvlog_trace_cursor_open(reader, m->groups[i].type, &c, &err) != HVLOG_EXPORT_OK) {
            cli_error("info: %s", err.message);
            hvlog_trace_close(reader);
            return CLI_EXIT_FAILURE;
        }
        files[i].buffers = hvlog_trace_cursor_count(c);
        files[i].torn = hvlog_trace_cursor_torn(c);
        hvlog_trace_cursor_close(c);
    }
    state = hvlog_trace_dir_state(reader);
    if (json)
        info_json(reader, state, files);
    else
        info_text(reader, state, files);
    hvlog_trace_close(reader);
    return CLI_EXIT_OK; /* main's cli_finish_stdout says whether stdout took it all (A8) */
}
