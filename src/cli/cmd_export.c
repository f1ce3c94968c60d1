/* SPDX-License-Identifier: MIT */
/* `hvlog export` and `hvlog info`: a trace to CTF or Perfetto (protobuf or JSON); a trace's metadata. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h> /* strcasecmp */

#include "cli/cli.h"
#include "cli/opts.h"
#include "hvlog/export/ctf.h"
#include "hvlog/export/perfetto.h"
#include "hvlog/export/trace.h"
#include "hvlog/hvlog.h"

static void report_skipped(void *arg, const char *message)
{
    (void)arg;
    cli_error("export: skipped: %s", message);
}

int cli_cmd_export(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"format", required_argument, NULL, 'F'}, {"output", required_argument, NULL, 'o'},
        {"force", no_argument, NULL, 'f'},        {"skip-corrupt", no_argument, NULL, 'k'},
        {"type", required_argument, NULL, 't'},   {NULL, 0, NULL, 0},
    };
    struct hvlog_export_options options = {0};
    struct hvlog_export_summary summary = {0};
    struct hvlog_export_error err = {0};
    struct hvlog_trace_reader *reader;
    const char *format = NULL, *out = NULL, *trace;
    enum hvlog_export_status st;
    uint32_t type;
    size_t len;
    int opt;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "o:f", longopts, NULL)) != -1) {
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
        default:
            cli_error("export: unknown or incomplete option '%s' (see 'hvlog help export')", argv[optind - 1]);
            return CLI_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || !format || !out) {
        cli_error("export: usage: hvlog export TRACE --format ctf|perfetto|perfetto-proto|perfetto-json -o OUT");
        return CLI_EXIT_USAGE;
    }
    /* "perfetto" is Perfetto's own protobuf format (issue 18): the JSON is
     * four times the buffers and the UI fails on it past about 1 GB. */
    if (strcmp(format, "perfetto") == 0)
        format = "perfetto-proto";
    if (strcmp(format, "ctf") != 0 && strcmp(format, "perfetto-proto") != 0 &&
        strcmp(format, "perfetto-json") != 0) {
        cli_error("export: unknown format '%s' (ctf, perfetto, perfetto-proto, perfetto-json)", format);
        return CLI_EXIT_USAGE;
    }
    len = strlen(out);
    if (strcmp(format, "perfetto-proto") == 0 && len >= 5 && strcasecmp(out + len - 5, ".json") == 0) {
        cli_error("export: %s: a protobuf trace under a .json name; for JSON use --format perfetto-json",
                  out);
        return CLI_EXIT_USAGE;
    }
    trace = argv[optind];
    options.report = report_skipped;
    if (hvlog_trace_open(trace, &reader, &err) != HVLOG_EXPORT_OK) {
        cli_error("export: %s", err.message);
        return CLI_EXIT_FAILURE;
    }
    if (strcmp(format, "ctf") == 0)
        st = hvlog_export_ctf(reader, out, &options, &summary, &err);
    else if (strcmp(format, "perfetto-json") == 0)
        st = hvlog_export_perfetto(reader, out, &options, &summary, &err);
    else
        st = hvlog_export_perfetto_proto(reader, out, &options, &summary, &err);
    hvlog_trace_close(reader);
    if (st != HVLOG_EXPORT_OK) {
        cli_error("export: %s", err.message);
        return CLI_EXIT_FAILURE;
    }
    printf("hvlog: exported %" PRIu64 " events from %" PRIu64 " buffers to %s (%s, %" PRIu64
           " %s); %" PRIu64 " events lost",
           summary.events, summary.buffers, out, format, summary.streams,
           strcmp(format, "ctf") == 0 ? "streams" : "tracks", summary.events_lost);
    if (summary.corrupt_skipped)
        printf(", %" PRIu64 " corrupt buffers skipped", summary.corrupt_skipped);
    printf("\n");
    return CLI_EXIT_OK;
}

int cli_cmd_info(int argc, char **argv)
{
    struct hvlog_export_error err = {0};
    struct hvlog_trace_reader *reader;
    const struct hvlog_trace_meta *m;

    if (argc != 2) {
        cli_error("info: usage: hvlog info TRACE");
        return CLI_EXIT_USAGE;
    }
    if (hvlog_trace_open(argv[1], &reader, &err) != HVLOG_EXPORT_OK) {
        cli_error("info: %s", err.message);
        return CLI_EXIT_FAILURE;
    }
    m = hvlog_trace_reader_meta(reader);
    printf("trace:       %s%s\n", hvlog_trace_reader_path(reader),
           hvlog_trace_reader_is_raw(reader) ? " (raw buffer file)" : "");
    if (!hvlog_trace_reader_is_raw(reader)) {
        printf("format:      hvlog-trace %" PRIu32 ", recorded by hvlog %s, ABI profile %s\n",
               m->version, m->hvlog_version, m->abi_profile);
        if (m->command_line)
            printf("command:     %s\n", m->command_line);
        printf("host:        %" PRIu32 " LPs, %" PRIu32 " domains, %" PRIu32 " children, seed %" PRIu64 "\n",
               m->host.lps, m->host.domains, m->host.children, m->host.seed);
        if (m->tsc_frequency_hz)
            printf("TSC:         %" PRIu64 " Hz\n", m->tsc_frequency_hz);
        if (m->qpc_frequency_hz)
            printf("QPC:         %" PRIu64 " Hz\n", m->qpc_frequency_hz);
        printf("delivery:    %" PRIu64 " ready messages, %" PRIu64 " buffers, longest ready list %" PRIu64 "\n",
               m->stats.messages, m->stats.buffers, m->stats.longest_chain);
    }
    for (uint32_t i = 0; i < m->group_count; i++) {
        const struct hvlog_trace_group *g = &m->groups[i];
        struct hvlog_trace_cursor *c;
        uint64_t buffers = 0;

        if (hvlog_trace_cursor_open(reader, g->type, &c, &err) == HVLOG_EXPORT_OK) {
            buffers = hvlog_trace_cursor_count(c);
            hvlog_trace_cursor_close(c);
        }
        printf("group:       %s (type %" PRIu32 "), %s: %" PRIu64 " buffers of %" PRIu32
               " pages in the file; count %" PRIu32 ", threshold %" PRIu32 ", time basis %s, sources 0x%" PRIx64,
               hvlog_eventlog_type_name(g->type) ? hvlog_eventlog_type_name(g->type) : "?", g->type,
               g->file, buffers, g->buffer_pages, g->buffer_count, g->threshold,
               hvlog_time_basis_name(g->time_basis) ? hvlog_time_basis_name(g->time_basis) : "?",
               g->sources);
        if (g->qpc_at_init_known)
            printf(", QPC at Initialize %" PRIu64, g->qpc_at_init);
        printf("\n");
    }
    for (uint32_t i = 0; i < m->lp_count; i++) {
        const struct hvlog_trace_lp *lp = &m->lps[i];
        printf("lp %-3" PRIu32 "      logged %" PRIu64 ", recorded %" PRIu64 ", lost %" PRIu64
               " (no buffer %" PRIu64 ", too large %" PRIu64 "), overwritten %" PRIu64 "\n",
               lp->lp, lp->logged, lp->recorded, lp->lost, lp->lost_no_buffer, lp->lost_too_large,
               lp->overwritten);
    }
    hvlog_trace_close(reader);
    return CLI_EXIT_OK;
}
