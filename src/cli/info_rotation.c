/* SPDX-License-Identifier: MIT */
/*
 * `hvlog info TRACE` of a rotated recording's parent (record --max-size,
 * docs/trace-format.md section 1.1): the manifest, its kept chunks in
 * order with each one's state and counts, what the rotated-out chunks
 * held per type and LP, and the whole recording's closing statistics and
 * host truths. The other readers read the kept chunks as one trace
 * (hvlog_trace_open of the parent); stats prints what was rotated out with
 * the printers here (cli_print_rotated_out, cli_json_rotated_out).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/trace/json.h"
#include "hvlog/trace/rotate.h"
#include "hvlog/trace/trace.h"

/* One kept chunk as info sees it. */
struct chunk_view {
    char name[32];
    enum hvlog_trace_state state;
    uint64_t buffers;       /* whole buffers in its files */
    uint64_t entries;       /* its closing statistics' (finished chunks) */
    bool closed;
    char error[sizeof(((struct hvlog_export_error *)0)->message)]; /* "" unless it could not be opened */
};

static void print_escaped(FILE *f, const char *s)
{
    size_t len = strlen(s);
    char *text = malloc(4 * len + 1);

    if (!text) {
        fputs("(out of memory)", f);
        return;
    }
    (void)hvlog_escape_text(text, s, len);
    fputs(text, f);
    free(text);
}

static void view_chunk(const char *path, uint64_t index, struct chunk_view *v)
{
    struct hvlog_export_error err = {0};
    struct hvlog_trace_reader *reader;
    char *dir;
    size_t n;

    memset(v, 0, sizeof(*v));
    hvlog_trace_chunk_name(index, v->name, sizeof v->name);
    n = strlen(path) + strlen(v->name) + 2;
    dir = malloc(n);
    if (!dir) {
        snprintf(v->error, sizeof v->error, "out of memory");
        return;
    }
    snprintf(dir, n, "%s/%s", path, v->name);
    if (hvlog_trace_open(dir, &reader, &err) != HVLOG_EXPORT_OK) {
        snprintf(v->error, sizeof v->error, "%s", err.message);
        free(dir);
        return;
    }
    free(dir);
    {
        const struct hvlog_trace_meta *m = hvlog_trace_reader_meta(reader);

        for (uint32_t i = 0; i < m->group_count; i++) {
            struct hvlog_trace_cursor *c;

            if (hvlog_trace_cursor_open(reader, m->groups[i].type, &c, &err) != HVLOG_EXPORT_OK) {
                snprintf(v->error, sizeof v->error, "%s", err.message);
                break;
            }
            v->buffers += hvlog_trace_cursor_count(c);
            hvlog_trace_cursor_close(c);
        }
        v->closed = m->closed;
        v->entries = m->stats.entries;
    }
    v->state = hvlog_trace_dir_state(reader);
    hvlog_trace_close(reader);
}

/* The recording as a whole: finished when the manifest has its closing
 * part; being written while a chunk's recorder holds its lock; else died. */
static const char *rotation_state(const struct hvlog_trace_rotation *rot,
                                  const struct chunk_view *views)
{
    if (rot->closed)
        return hvlog_trace_state_name(HVLOG_TRACE_STATE_FINISHED);
    for (uint64_t i = 0; i < rot->chunk_count; i++) {
        if (!views[i].error[0] && views[i].state == HVLOG_TRACE_STATE_RECORDING)
            return hvlog_trace_state_name(HVLOG_TRACE_STATE_RECORDING);
    }
    return hvlog_trace_state_name(HVLOG_TRACE_STATE_DIED);
}

static void json_counts(struct hvlog_json_writer *w, const struct hvlog_trace_rotation_counts *c)
{
    hvlog_json_member_u64(w, "buffers", c->buffers);
    hvlog_json_member_u64(w, "entries", c->entries);
    hvlog_json_member_u64(w, "events_lost", c->events_lost);
}

void cli_json_rotated_out(struct hvlog_json_writer *w, const struct hvlog_trace_rotation *rot)
{
    hvlog_json_key(w, "rotated_out");
    hvlog_json_array_begin(w);
    for (uint32_t i = 0; i < rot->type_count; i++) {
        const struct hvlog_trace_rotation_type *t = &rot->types[i];

        hvlog_json_object_begin(w);
        hvlog_json_member_string(w, "type", hvlog_trace_group_short(t->type));
        json_counts(w, &t->total);
        hvlog_json_key(w, "lps");
        hvlog_json_array_begin(w);
        for (uint32_t k = 0; k < t->lp_count; k++) {
            hvlog_json_object_begin(w);
            hvlog_json_member_u64(w, "lp", t->lps[k].lp);
            json_counts(w, &t->lps[k].counts);
            hvlog_json_object_end(w);
        }
        hvlog_json_array_end(w);
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
}

void cli_print_rotated_out(const struct hvlog_trace_rotation *rot)
{
    for (uint32_t i = 0; i < rot->type_count; i++) {
        const struct hvlog_trace_rotation_type *t = &rot->types[i];

        printf("rotated out: %s: %" PRIu64 " buffers, %" PRIu64 " events, %" PRIu64
               " lost in headers\n",
               hvlog_trace_group_short(t->type), t->total.buffers, t->total.entries,
               t->total.events_lost);
        for (uint32_t k = 0; k < t->lp_count; k++)
            printf("             %s lp %" PRIu32 ": %" PRIu64 " buffers, %" PRIu64 " events, %" PRIu64
                   " lost in headers\n",
                   hvlog_trace_group_short(t->type), t->lps[k].lp, t->lps[k].counts.buffers,
                   t->lps[k].counts.entries, t->lps[k].counts.events_lost);
    }
}

static void info_json(const char *path, const struct hvlog_trace_rotation *rot,
                      const struct chunk_view *views)
{
    struct hvlog_json_writer *w = hvlog_json_writer_create(hvlog_json_sink_file, stdout,
                                                           HVLOG_JSON_PRETTY);

    if (!w)
        return;
    hvlog_json_object_begin(w);
    hvlog_json_member_string(w, "trace", path);
    hvlog_json_key(w, "rotated");
    hvlog_json_bool(w, true);
    hvlog_json_member_string(w, "state", rotation_state(rot, views));
    hvlog_json_member_u64(w, "max_size", rot->max_bytes);
    hvlog_json_member_u64(w, "rotate", rot->keep);
    hvlog_json_member_u64(w, "first_chunk", rot->first_chunk);
    hvlog_json_key(w, "chunks");
    hvlog_json_array_begin(w);
    for (uint64_t i = 0; i < rot->chunk_count; i++) {
        const struct chunk_view *v = &views[i];

        hvlog_json_object_begin(w);
        hvlog_json_member_string(w, "name", v->name);
        hvlog_json_member_u64(w, "index", rot->chunks[i]);
        if (v->error[0]) {
            hvlog_json_member_string(w, "error", v->error);
        } else {
            hvlog_json_member_string(w, "state", hvlog_trace_state_name(v->state));
            hvlog_json_member_u64(w, "buffers", v->buffers);
            if (v->closed)
                hvlog_json_member_u64(w, "entries", v->entries);
        }
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
    cli_json_rotated_out(w, rot);
    if (rot->closed) {
        hvlog_json_key(w, "closing");
        hvlog_json_object_begin(w);
#define JSON_CLOSING(field) hvlog_json_member_u64(w, #field, rot->stats.field);
        HVLOG_TRACE_CLOSING_COUNTERS(JSON_CLOSING)
#undef JSON_CLOSING
        hvlog_json_object_end(w);
    }
    hvlog_json_key(w, "lp_counts");
    hvlog_json_array_begin(w);
    for (uint32_t i = 0; i < rot->lp_count; i++)
        cli_json_lp_counts(w, &rot->lps[i]);
    hvlog_json_array_end(w);
    hvlog_json_object_end(w);
    hvlog_json_writer_close(w);
    fputc('\n', stdout);
}

static void info_text(const char *path, const struct hvlog_trace_rotation *rot,
                      const struct chunk_view *views)
{
    fputs("trace:       ", stdout);
    print_escaped(stdout, path);
    printf(" (a rotated recording: chunks of at most %" PRIu64 " bytes, ", rot->max_bytes);
    if (rot->keep)
        printf("the last %" PRIu32 " kept)\n", rot->keep);
    else
        printf("all kept)\n");
    printf("state:       %s\n", rotation_state(rot, views));
    printf("chunks:      %" PRIu64 " kept, %" PRIu64 " rotated out (each chunk is a trace; decode, "
           "stats and export read the kept ones as one)\n",
           rot->chunk_count, rot->first_chunk);
    for (uint64_t i = 0; i < rot->chunk_count; i++) {
        const struct chunk_view *v = &views[i];

        printf("chunk:       %s: ", v->name);
        if (v->error[0]) {
            print_escaped(stdout, v->error);
            fputc('\n', stdout);
            continue;
        }
        printf("%s, %" PRIu64 " buffers", hvlog_trace_state_name(v->state), v->buffers);
        if (v->closed)
            printf(", %" PRIu64 " events", v->entries);
        fputc('\n', stdout);
    }
    cli_print_rotated_out(rot);
    if (rot->closed)
        printf("client saw:  %" PRIu64 " events in %" PRIu64 " buffers, %" PRIu64
               " lost in headers, %" PRIu64 " corrupt; %" PRIu64 " ready messages, longest ready "
               "list %" PRIu64 " (the whole recording)\n",
               rot->stats.entries, rot->stats.buffers, rot->stats.events_lost, rot->stats.corrupt,
               rot->stats.messages, rot->stats.longest_chain);
    for (uint32_t i = 0; i < rot->lp_count; i++)
        cli_print_lp_counts(&rot->lps[i]);
}

int cli_info_rotation(const char *path, bool json)
{
    struct hvlog_export_error err = {0};
    struct hvlog_trace_rotation rot;
    struct chunk_view *views;

    if (hvlog_trace_rotation_read(path, &rot, &err) != HVLOG_EXPORT_OK) {
        cli_error("info: %s", err.message);
        hvlog_trace_rotation_release(&rot);
        return CLI_EXIT_FAILURE;
    }
    views = calloc(rot.chunk_count + 1, sizeof(*views));
    if (!views) {
        cli_error("info: out of memory");
        hvlog_trace_rotation_release(&rot);
        return CLI_EXIT_FAILURE;
    }
    for (uint64_t i = 0; i < rot.chunk_count; i++)
        view_chunk(path, rot.chunks[i], &views[i]);
    if (json)
        info_json(path, &rot, views);
    else
        info_text(path, &rot, views);
    free(views);
    hvlog_trace_rotation_release(&rot);
    return CLI_EXIT_OK;
}
