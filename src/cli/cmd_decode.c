/* SPDX-License-Identifier: MIT */
/*
 * `hvlog decode`: every entry of a trace, like babeltrace2's pretty output
 * (time, delta, LP, the entry's name from the §4.8 catalogue, Context and
 * fields), or JSON lines.
 *
 * The trace layer does the reading: hvlog_trace_merge gives the entries of
 * every (group, LP) stream in time order on one clock, with bounded memory
 * and one open file per group, and each group's clock converts times
 * (hvlog/trace/clock.h). This file reads and filters; decode_print.c
 * formats. A buffer with losses is
 * preceded by a line saying how many events were lost, on which LP,
 * between which times; time going back on an LP gets a marker line and a
 * negative delta; a buffer that cannot be read again is reported on stderr
 * with its loss, and makes the exit status 1 unless --skip-corrupt.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/decode.h"
#include "cli/opts.h"
#include "hvlog/hvlog.h"

static bool wanted(const struct decoder *d, const struct hvlog_trace_item *it)
{
    const struct filter *f = &d->filter;

    if (f->lp >= 0 && (uint32_t)f->lp != it->lp)
        return false;
    if (f->entry_type >= 0 && (uint16_t)f->entry_type != it->entry.entry_type)
        return false;
    return it->entry.time_stamp >= f->begin && it->entry.time_stamp <= f->end;
}

/* One item of the merge. */
/* Inline in both loops (merge, records): it runs once per entry. */
static inline __attribute__((always_inline)) void decode_item(struct decoder *d,
                                                             const struct hvlog_trace_item *it)
{
    switch (it->kind) {
    case HVLOG_TRACE_ITEM_CLOCK: /* issue 12, bug 3: never one delta across clocks */
        decode_print_clock(d, it);
        break;
    case HVLOG_TRACE_ITEM_LOST:
        decode_print_lost(d, it);
        break;
    case HVLOG_TRACE_ITEM_DROPPED: /* issue 12, bug 4: reported, with its loss */
        cli_error("decode: %s; %" PRIu64 " entries and %" PRIu64 " lost events of LP %" PRIu32 " not shown",
                  it->message, it->entries, it->lost, it->lp);
        d->dropped++;
        break;
    case HVLOG_TRACE_ITEM_ENTRY:
        decode_note_entry(d, it);
        if (wanted(d, it))
            decode_show_entry(d, it);
        break;
    }
}

/*
 * A records file (issue 14: the diaglog fd's SystemDiagnostics records),
 * after the buffers' entries: its times are whole Unix seconds, a clock
 * the buffers' cannot be merged with to the 100 ns, so it comes as a
 * section of its own behind a marker line, as any other clock does (issue
 * 12, bug 3). Records name no LP: --lp leaves them out.
 */
static int decode_records(struct decoder *d, uint32_t host, uint32_t type)
{
    static const struct hvlog_trace_clock unix_seconds = {
        .basis = UINT32_MAX, /* no time basis of the spec: never one clock with a group's */
        .freq_hz = 1,
        .anchored = true,
        .anchor_filetime = HVLOG_FILETIME_UNIX_EPOCH,
        .name = "Unix seconds",
    };
    struct hvlog_trace_item it = {.kind = HVLOG_TRACE_ITEM_ENTRY, .clock = &unix_seconds, .host = host};
    struct hvlog_trace_records_cursor *c;
    enum hvlog_export_status st;

    if (d->filter.lp >= 0)
        return 0;
    if (!d->cat[type]) { /* the buffers' groups did not need this type's names */
        if (!(d->cat[type] = malloc(sizeof(*d->cat[type]))))
            return snprintf(d->err.message, sizeof d->err.message, "out of memory"), -1;
        hvlog_trace_catalog_init(d->cat[type], type);
    }
    if (hvlog_trace_records_open(d->hosts.reader[host], type, &c, &d->err) != HVLOG_EXPORT_OK)
        return -1;
    out_str(&d->out, d->json ? "{\"records\":\"" : "[--- ");
    out_str(&d->out, hvlog_trace_group_short(type));
    out_str(&d->out, d->json ? "\",\"clock\":\"unix_seconds\"}\n"
                             : " records (the diaglog's), on the Unix clock in whole seconds ---]\n");
    d->have_first = false;
    d->records = true;
    while ((st = hvlog_trace_records_next(c, &it.entry, &d->err)) == HVLOG_EXPORT_OK) {
        decode_item(d, &it);
        if (d->out.failed) {
            st = HVLOG_EXPORT_IO;
            snprintf(d->err.message, sizeof d->err.message, "writing the output failed");
            break;
        }
    }
    d->records = false;
    if (st == HVLOG_EXPORT_END && hvlog_trace_records_torn(c))
        cli_error("decode: note: %s: the last %" PRIu64 " bytes are a record cut short; left out",
                  hvlog_trace_records_file_path(c), hvlog_trace_records_torn(c));
    hvlog_trace_records_close(c);
    return st == HVLOG_EXPORT_END ? 0 : -1;
}

static void report_skipped(void *arg, const char *message)
{
    (void)arg;
    cli_error("decode: skipped: %s", message);
}

/* The traces are open (d->hosts): merge them and print. */
static int decode_run(struct decoder *d, const struct hvlog_trace_merge_options *mo)
{
    struct hvlog_trace_item it;
    enum hvlog_export_status st;

    for (uint32_t h = 0; h < d->hosts.count; h++)
        cli_note_torn("decode", d->hosts.reader[h]);
    if (hvlog_trace_merge_open_hosts((const struct hvlog_trace_reader *const *)d->hosts.reader,
                                     d->hosts.offset_ns, d->hosts.count, mo, &d->merge,
                                     &d->err) != HVLOG_EXPORT_OK)
        return -1;
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        const struct hvlog_trace_clock *c = hvlog_trace_merge_clock(d->merge, t);

        if (c && d->style == STYLE_RELATIVE &&
            hvlog_trace_clock_need_ns(c, "decode --time relative", &d->err) != HVLOG_EXPORT_OK)
            return -1;
        if (c && !(d->cat[t] = malloc(sizeof(*d->cat[t]))))
            return snprintf(d->err.message, sizeof d->err.message, "out of memory"), -1;
        if (c)
            hvlog_trace_catalog_init(d->cat[t], t);
    }
    while ((st = hvlog_trace_merge_next(d->merge, &it, &d->err)) == HVLOG_EXPORT_OK) {
        decode_item(d, &it);
        /* Everything goes through d->out, whose flush marks a short
         * fwrite: stdout's own error flag is read once, at the end. */
        if (d->out.failed)
            return snprintf(d->err.message, sizeof d->err.message, "writing the output failed"), -1;
    }
    if (st != HVLOG_EXPORT_END)
        return -1;
    for (uint32_t h = 0; h < d->hosts.count; h++) {
        const struct hvlog_trace_meta *m = hvlog_trace_reader_meta(d->hosts.reader[h]);

        for (uint32_t i = 0; i < m->records_count; i++) {
            if (mo->types && !(mo->types & (1u << m->records[i].type)))
                continue;
            if (decode_records(d, h, m->records[i].type) != 0)
                return -1;
        }
    }
    return 0;
}

static bool parse_time_style(const char *s, enum time_style *out)
{
    static const char *const names[] = {"local", "utc", "relative", "raw"};

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(s, names[i]) == 0)
            return *out = (enum time_style)i, true;
    }
    cli_error("decode: --time takes local, utc, relative or raw, not '%s'", s);
    return false;
}

static bool parse_event(const char *arg, int32_t *out)
{
    const struct hvlog_entry_type_info *info = hvlog_entry_type_find(arg);
    uint64_t v;
    char *end;

    if (info)
        return *out = info->entry_type, true;
    (void)strtoull(arg, &end, 0);
    if (*arg == '\0' || *end != '\0') { /* a name, not a number */
        cli_error("decode: --event '%s' names no entry type, or several ('hvlog abi entries' lists them)", arg);
        return false;
    }
    if (!cli_number("decode", "--event", arg, 0, 0xFFFF, &v))
        return false;
    return *out = (int32_t)v, true;
}

int cli_cmd_decode(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},        {"lp", required_argument, NULL, 'l'},
        {"type", required_argument, NULL, 't'},  {"event", required_argument, NULL, 'e'},
        {"begin", required_argument, NULL, 'b'}, {"end", required_argument, NULL, 'E'},
        {"time", required_argument, NULL, 'T'},  {"skip-corrupt", no_argument, NULL, 'k'},
        {"tsc-hz", required_argument, NULL, 'H'}, {"clock-offset", required_argument, NULL, 'O'},
        {NULL, 0, NULL, 0},
    };
    struct hvlog_trace_merge_options mo = {.report = report_skipped};
    bool usage;
    struct decoder d;
    uint64_t v;
    uint32_t type;
    int opt, status = CLI_EXIT_OK;

    memset(&d, 0, sizeof d);
    d.filter = (struct filter){.lp = -1, .entry_type = -1, .begin = 0, .end = UINT64_MAX};
    while ((opt = cli_getopt("decode", argc, argv, "", longopts)) != -1) {
        bool ok = true;

        switch (opt) {
        case 'j': d.json = true; break;
        case 'k': d.skip_corrupt = mo.skip_corrupt = true; break;
        /* Current-ABI LPs are 16-bit (§11.4). */
        case 'l': ok = cli_number("decode", "--lp", optarg, 0, 65535, &v); d.filter.lp = (int64_t)v; break;
        case 't': ok = cli_log_type("decode", optarg, &type); mo.types |= ok ? 1u << type : 0; break;
        case 'e': ok = parse_event(optarg, &d.filter.entry_type); break;
        case 'b': ok = cli_number("decode", "--begin", optarg, 0, UINT64_MAX, &d.filter.begin); break;
        case 'E': ok = cli_number("decode", "--end", optarg, 0, UINT64_MAX, &d.filter.end); break;
        case 'T': ok = parse_time_style(optarg, &d.style); break;
        case 'H': ok = cli_number("decode", "--tsc-hz", optarg, 1, UINT64_MAX, &mo.tsc_frequency_hz); break;
        case 'O': ok = cli_hosts_add_offset("decode", &d.hosts, optarg); break;
        default: return CLI_EXIT_USAGE; /* cli_getopt said why */
        }
        if (!ok)
            return CLI_EXIT_USAGE;
    }
    if (!cli_operands("decode", argc, 1, CLI_HOSTS_MAX, "hvlog decode TRACE... [options]"))
        return CLI_EXIT_USAGE;
    if (!cli_hosts_open("decode", &d.hosts, argv + optind, argc - optind, &usage)) {
        cli_hosts_close(&d.hosts);
        return usage ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    d.out.bytes = malloc(OUT_BUFFER_BYTES);
    d.frags = calloc(JSON_SLOTS, sizeof *d.frags);
    if (!d.out.bytes || !d.frags) {
        snprintf(d.err.message, sizeof d.err.message, "out of memory");
        status = CLI_EXIT_FAILURE;
    } else if (decode_run(&d, &mo) != 0) {
        status = CLI_EXIT_FAILURE;
    }
    if (d.out.bytes)
        out_flush(&d.out);
    if (status == CLI_EXIT_OK && (d.out.failed || fflush(stdout) != 0 || ferror(stdout))) {
        snprintf(d.err.message, sizeof d.err.message, "writing the output failed");
        status = CLI_EXIT_FAILURE;
    }
    if (status != CLI_EXIT_OK)
        cli_error("decode: %s", d.err.message);
    else if (d.dropped && !d.skip_corrupt)
        status = CLI_EXIT_FAILURE; /* each said on stderr: the output lacks them */
    hvlog_trace_merge_close(d.merge);
    cli_hosts_close(&d.hosts);
    for (uint32_t i = 0; d.frags && i < JSON_SLOTS; i++)
        free(d.frags[i].text);
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++)
        free(d.cat[t]);
    free(d.frags);
    free(d.out.bytes);
    return status;
}
