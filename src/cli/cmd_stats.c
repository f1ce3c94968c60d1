/* SPDX-License-Identifier: MIT */
/*
 * `hvlog stats`: events, bytes, buffers and losses per group and LP, and
 * the metadata's per-LP counters.
 *
 * stats needs no fill order: one sequential pass over each group file,
 * every buffer checked by the walker once (hvlog_trace_cursor_next) and
 * counted into its LP's row. A buffer that fails stops the command with
 * the reader's message (stats never skips corruption).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/hosts.h"
#include "cli/opts.h"
#include "hvlog/hvlog.h"
#include "hvlog/trace/json.h"
#include "hvlog/trace/rotate.h"
#include "hvlog/trace/trace.h"

struct stats_row {
    uint32_t type, lp;
    uint64_t buffers, entries, bytes_data, lost;
};

struct stats {
    const struct hvlog_trace_reader *reader;
    const struct hvlog_trace_meta *meta;
    struct stats_row *rows;
    uint32_t count;
    struct hvlog_export_error err;
    uint64_t records[HVLOG_TRACE_MAX_RECORDS]; /* whole records per records file */
};

/* The row of @lp among rows @first.. (the group being scanned, sorted by
 * LP), added if new. */
static struct stats_row *stats_row(struct stats *s, uint32_t first, uint32_t type, uint32_t lp)
{
    uint32_t at = first;
    struct stats_row *more;

    while (at < s->count && s->rows[at].lp < lp)
        at++;
    if (at < s->count && s->rows[at].lp == lp)
        return &s->rows[at];
    more = realloc(s->rows, ((size_t)s->count + 1) * sizeof(*more));
    if (!more)
        return NULL;
    s->rows = more;
    memmove(&more[at + 1], &more[at], (s->count - at) * sizeof(*more));
    s->count++;
    memset(&more[at], 0, sizeof more[at]);
    more[at].type = type;
    more[at].lp = lp;
    return &more[at];
}

static int stats_scan(struct stats *s, const struct hvlog_trace_reader *reader)
{
    s->reader = reader;
    s->meta = hvlog_trace_reader_meta(s->reader);
    cli_note_torn("stats", s->reader);
    for (uint32_t gi = 0; gi < s->meta->group_count; gi++) {
        const struct hvlog_trace_group *g = &s->meta->groups[gi];
        uint32_t first = s->count;
        struct hvlog_trace_cursor *c;
        struct hvlog_trace_buffer b;
        enum hvlog_export_status st;
        struct stats_row *r = NULL;

        if (hvlog_trace_cursor_open(s->reader, g->type, &c, &s->err) != HVLOG_EXPORT_OK)
            return -1;
        for (;;) {
            st = hvlog_trace_cursor_next(c, &b, NULL, NULL, &s->err);
            if (st != HVLOG_EXPORT_OK)
                break;
            if (!r || r->lp != b.summary.logical_processor)
                r = stats_row(s, first, g->type, b.summary.logical_processor);
            if (!r) {
                snprintf(s->err.message, sizeof s->err.message, "out of memory");
                st = HVLOG_EXPORT_NOMEM;
                break;
            }
            r->buffers++;
            r->entries += b.summary.entries;
            r->bytes_data += b.summary.data_end - HV_EVENTLOG_BUFFER_HEADER_SIZE;
            r->lost += b.summary.events_lost;
        }
        hvlog_trace_cursor_close(c);
        if (st != HVLOG_EXPORT_END)
            return -1;
    }
    /* The diaglog's records (issue 14), each Size checked as decode reads them. */
    for (uint32_t i = 0; i < s->meta->records_count; i++) {
        if (hvlog_trace_records_scan(reader, s->meta->records[i].type, &s->records[i], NULL,
                                     &s->err) != HVLOG_EXPORT_OK)
            return -1;
    }
    return 0;
}

/* The totals of one trace's streams. */
static struct stats_row stats_total(const struct stats *s)
{
    struct stats_row t = {0};

    for (uint32_t i = 0; i < s->count; i++) {
        t.buffers += s->rows[i].buffers;
        t.entries += s->rows[i].entries;
        t.bytes_data += s->rows[i].bytes_data;
        t.lost += s->rows[i].lost;
    }
    return t;
}

/*
 * A rotated recording read from its directory (issue 17): per LP, the
 * accounting of every event its host logged, where the host's truths give
 * it (a simulated host; the manifest closed): the LocalDiagnostics events
 * kept (the rows read) + rotated out (the manifest's) + lost (never
 * written) + overwritten (Circular mode) == logged. The LP counters count
 * the local log only: the producers log there.
 */
struct lp_account {
    uint64_t kept, rotated_out, lost, overwritten, logged;
};

static struct lp_account account_lp(const struct stats *s, const struct hvlog_trace_rotation *rot,
                                    const struct hvlog_trace_lp *lp)
{
    struct lp_account a = {0, 0, lp->lost, lp->overwritten, lp->logged};

    for (uint32_t i = 0; i < s->count; i++) {
        if (s->rows[i].type == HvEventLogTypeLocalDiagnostics && s->rows[i].lp == lp->lp)
            a.kept += s->rows[i].entries;
    }
    for (uint32_t i = 0; i < rot->type_count; i++) {
        for (uint32_t k = 0; rot->types[i].type == HvEventLogTypeLocalDiagnostics && k < rot->types[i].lp_count; k++) {
            if (rot->types[i].lps[k].lp == lp->lp)
                a.rotated_out += rot->types[i].lps[k].counts.entries;
        }
    }
    return a;
}

static bool account_balanced(const struct lp_account *a)
{
    return a->kept + a->rotated_out + a->lost + a->overwritten == a->logged;
}

static void json_accounting(struct hvlog_json_writer *w, const struct stats *s,
                            const struct hvlog_trace_rotation *rot)
{
    hvlog_json_key(w, "accounting");
    hvlog_json_array_begin(w);
    for (uint32_t i = 0; rot->closed && i < s->meta->lp_count; i++) {
        struct lp_account a = account_lp(s, rot, &s->meta->lps[i]);

        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "lp", s->meta->lps[i].lp);
        hvlog_json_member_u64(w, "kept", a.kept);
        hvlog_json_member_u64(w, "rotated_out", a.rotated_out);
        hvlog_json_member_u64(w, "lost", a.lost);
        hvlog_json_member_u64(w, "overwritten", a.overwritten);
        hvlog_json_member_u64(w, "logged", a.logged);
        hvlog_json_key(w, "balanced");
        hvlog_json_bool(w, account_balanced(&a));
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
}

static void print_accounting(const struct stats *s, const struct hvlog_trace_rotation *rot)
{
    if (!rot->closed || s->meta->lp_count == 0)
        return;
    printf("\nper LP, local events kept + rotated out + lost + overwritten == logged:\n");
    for (uint32_t i = 0; i < s->meta->lp_count; i++) {
        struct lp_account a = account_lp(s, rot, &s->meta->lps[i]);

        printf("%4" PRIu32 " %10" PRIu64 " + %10" PRIu64 " + %10" PRIu64 " + %10" PRIu64 " %s %10" PRIu64 "%s\n",
               s->meta->lps[i].lp, a.kept, a.rotated_out, a.lost, a.overwritten,
               account_balanced(&a) ? "==" : "!=", a.logged,
               account_balanced(&a) ? "" : "  (not accounted for)");
    }
}

/* Which chunks were read, and what the others held (the manifest's). */
static void print_rotation(const struct hvlog_trace_rotation *rot)
{
    char first[32], last[32];

    hvlog_trace_chunk_name(rot->chunks[0], first, sizeof first);
    hvlog_trace_chunk_name(rot->chunks[rot->chunk_count - 1], last, sizeof last);
    printf("\n%" PRIu64 " chunks kept (%s..%s) and read above as one trace; %" PRIu64
           " rotated out%s\n",
           rot->chunk_count, first, last, rot->first_chunk, rot->type_count ? ":" : "");
    cli_print_rotated_out(rot);
}

static void json_totals(struct hvlog_json_writer *w, const struct stats_row *t)
{
    hvlog_json_member_u64(w, "events", t->entries);
    hvlog_json_member_u64(w, "bytes", t->bytes_data);
    hvlog_json_member_u64(w, "buffers", t->buffers);
    hvlog_json_member_u64(w, "events_lost", t->lost);
}

/* One trace's object; @host (NULL for one trace) names it among several. */
static void print_json(struct hvlog_json_writer *w, const struct stats *s, const char *path,
                       const char *host)
{
    const struct hvlog_trace_rotation *rot = hvlog_trace_reader_rotation(s->reader);

    hvlog_json_object_begin(w);
    hvlog_json_member_string(w, "trace", path);
    if (host) {
        struct stats_row t = stats_total(s);

        hvlog_json_member_string(w, "host", host);
        json_totals(w, &t);
    }
    hvlog_json_member_u64(w, "messages", s->meta->stats.messages);
    hvlog_json_member_u64(w, "longest_ready_list", s->meta->stats.longest_chain);
    hvlog_json_key(w, "streams");
    hvlog_json_array_begin(w);
    for (uint32_t i = 0; i < s->count; i++) {
        const struct stats_row *r = &s->rows[i];

        hvlog_json_object_begin(w);
        hvlog_json_member_string(w, "type", hvlog_trace_group_short(r->type));
        hvlog_json_member_u64(w, "lp", r->lp);
        hvlog_json_member_u64(w, "events", r->entries);
        hvlog_json_member_u64(w, "bytes", r->bytes_data);
        hvlog_json_member_u64(w, "buffers", r->buffers);
        hvlog_json_member_u64(w, "events_lost", r->lost);
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
    if (s->meta->records_count) {
        hvlog_json_key(w, "records");
        hvlog_json_array_begin(w);
        for (uint32_t i = 0; i < s->meta->records_count; i++) {
            hvlog_json_object_begin(w);
            hvlog_json_member_string(w, "type", hvlog_trace_group_short(s->meta->records[i].type));
            hvlog_json_member_string(w, "file", s->meta->records[i].file);
            hvlog_json_member_u64(w, "records", s->records[i]);
            hvlog_json_object_end(w);
        }
        hvlog_json_array_end(w);
    }
    if (rot) { /* a rotated recording's directory */
        hvlog_json_key(w, "chunks");
        hvlog_json_array_begin(w);
        for (uint64_t i = 0; i < rot->chunk_count; i++)
            hvlog_json_u64(w, rot->chunks[i]);
        hvlog_json_array_end(w);
        hvlog_json_member_u64(w, "first_chunk", rot->first_chunk);
        cli_json_rotated_out(w, rot);
    }
    hvlog_json_key(w, "lps");
    hvlog_json_array_begin(w);
    for (uint32_t i = 0; i < s->meta->lp_count; i++)
        cli_json_lp_counts(w, &s->meta->lps[i]);
    hvlog_json_array_end(w);
    if (rot)
        json_accounting(w, s, rot);
    cli_json_relayd(w, s->meta); /* record --relayd: sent and lost for relayd, per stream */
    hvlog_json_object_end(w);
}

/* One row of the host section's table: an LP's counters, or their sum. */
static void print_lp_row(const char *label, const struct hvlog_trace_lp *lp)
{
    printf("%4s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 "\n",
           label, lp->logged, lp->recorded, lp->lost, lp->lost_no_buffer, lp->lost_too_large,
           lp->overwritten);
}

static void print_text(const struct stats *s, const char *path, const char *host)
{
    const struct hvlog_trace_rotation *rot = hvlog_trace_reader_rotation(s->reader);

    if (host) {
        struct stats_row t = stats_total(s);

        printf("host %s (%s): %" PRIu64 " events, %" PRIu64 " bytes, %" PRIu64 " buffers, %" PRIu64
               " events lost\n",
               host, path, t.entries, t.bytes_data, t.buffers, t.lost);
    }
    printf("%-7s %4s %10s %12s %8s %10s\n", "type", "lp", "events", "bytes", "buffers", "lost");
    for (uint32_t i = 0; i < s->count; i++) {
        const struct stats_row *r = &s->rows[i];

        printf("%-7s %4" PRIu32 " %10" PRIu64 " %12" PRIu64 " %8" PRIu64 " %10" PRIu64 "\n",
               hvlog_trace_group_short(r->type), r->lp, r->entries, r->bytes_data, r->buffers, r->lost);
    }
    for (uint32_t i = 0; i < s->meta->records_count; i++)
        printf("%-7s %4s %10" PRIu64 " records (%s, the diaglog's: no LP, no EventsLost)\n",
               hvlog_trace_group_short(s->meta->records[i].type), "-", s->records[i],
               s->meta->records[i].file);
    if (rot)
        print_rotation(rot);
    if (s->meta->lp_count)
        printf("\n%4s %10s %10s %10s %12s %12s %12s\n", "lp", "logged", "recorded", "lost", "no-buffer",
               "too-large", "overwritten");
    for (uint32_t i = 0; i < s->meta->lp_count; i++) {
        char label[16];

        snprintf(label, sizeof label, "%" PRIu32, s->meta->lps[i].lp);
        print_lp_row(label, &s->meta->lps[i]);
    }
    if (s->meta->lp_count > 1) {
        /* Issue 16: with thousands of LPs the loss by cause must show at a
         * glance, not only row by row. */
        struct hvlog_trace_lp all = {0};

        for (uint32_t i = 0; i < s->meta->lp_count; i++) {
            const struct hvlog_trace_lp *lp = &s->meta->lps[i];

            all.logged += lp->logged;
            all.recorded += lp->recorded;
            all.lost += lp->lost;
            all.lost_no_buffer += lp->lost_no_buffer;
            all.lost_too_large += lp->lost_too_large;
            all.overwritten += lp->overwritten;
        }
        print_lp_row("all", &all);
    }
    if (rot)
        print_accounting(s, rot);
    printf("\nready messages: %" PRIu64 ", longest ready list: %" PRIu64 " buffers\n",
           s->meta->stats.messages, s->meta->stats.longest_chain);
    cli_print_relayd(s->meta, true);
}

int cli_cmd_stats(int argc, char **argv)
{
    static const struct option longopts[] = {{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
    struct cli_hosts *hosts = calloc(1, sizeof(*hosts));
    struct hvlog_json_writer *w = NULL;
    struct stats_row all = {0};
    bool json = false, usage;
    int status = CLI_EXIT_OK, opt;

    if (!hosts) {
        cli_error("stats: out of memory");
        return CLI_EXIT_FAILURE;
    }
    while ((opt = cli_getopt("stats", argc, argv, "", longopts)) != -1) {
        if (opt != 'j') {
            free(hosts);
            return CLI_EXIT_USAGE; /* cli_getopt said why */
        }
        json = true;
    }
    if (!cli_operands("stats", argc, 1, CLI_HOSTS_MAX, "hvlog stats [--json] TRACE...")) {
        free(hosts);
        return CLI_EXIT_USAGE;
    }
    if (!cli_hosts_open("stats", hosts, argv + optind, argc - optind, &usage)) {
        cli_hosts_close(hosts);
        free(hosts);
        return usage ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
    }
    if (json) {
        w = hvlog_json_writer_create(hvlog_json_sink_file, stdout, HVLOG_JSON_PRETTY);
        if (hosts->count > 1) { /* {"hosts":[...], totals} */
            hvlog_json_object_begin(w);
            hvlog_json_key(w, "hosts");
            hvlog_json_array_begin(w);
        }
    }
    for (uint32_t h = 0; h < hosts->count && status == CLI_EXIT_OK; h++) {
        const char *host = hosts->count > 1 ? hosts->name[h] : NULL;
        struct stats s;

        memset(&s, 0, sizeof s);
        if (stats_scan(&s, hosts->reader[h]) != 0) {
            cli_error("stats: %s", s.err.message);
            status = CLI_EXIT_FAILURE;
        } else {
            struct stats_row t = stats_total(&s);

            all.entries += t.entries;
            all.bytes_data += t.bytes_data;
            all.buffers += t.buffers;
            all.lost += t.lost;
            if (json)
                print_json(w, &s, hosts->path[h], host);
            else
                print_text(&s, hosts->path[h], host);
            if (!json && h + 1 < hosts->count)
                fputc('\n', stdout);
        }
        free(s.rows);
    }
    if (status == CLI_EXIT_OK && hosts->count > 1) {
        if (json) {
            hvlog_json_array_end(w);
            json_totals(w, &all);
            hvlog_json_object_end(w);
        } else {
            printf("\nall %" PRIu32 " hosts: %" PRIu64 " events, %" PRIu64 " bytes, %" PRIu64
                   " buffers, %" PRIu64 " events lost\n",
                   hosts->count, all.entries, all.bytes_data, all.buffers, all.lost);
        }
    }
    if (w) {
        hvlog_json_writer_close(w);
        if (status == CLI_EXIT_OK)
            fputc('\n', stdout);
    }
    cli_hosts_close(hosts);
    free(hosts);
    return status;
}
