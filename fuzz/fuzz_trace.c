/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the trace layer and every exporter. The input is
 * a trace: arbitrary bytes as a raw buffer file or as a trace directory
 * (metadata text, a NUL, then the data), or a recipe that the trace writer
 * turns into a valid multi-group trace (global, local and system.buffers)
 * which is then damaged (fuzz_common.h). Whatever the bytes, nothing may
 * crash, hang or leak, and:
 *   - fill order (hvlog_trace_fill_order) lists the buffers by LP, then
 *     TimeStamp, then file position, and holds exactly the entries the
 *     cursor accepts;
 *   - the merge gives every entry of the fill-order index once, and every
 *     EventsLost once, each stream's entries in fill order, with "time
 *     went back" exactly where a stream's time goes back;
 *   - decode's formatter (src/cli/decode_print.c) prints each item as
 *     whole lines: text without control characters, JSON lines that
 *     jansson parses as objects;
 *   - an export that fails leaves nothing behind; one that succeeds wrote
 *     every entry the reader accepts (skip_corrupt), and its output parses
 *     back: the Perfetto JSON through jansson, the Perfetto protobuf
 *     through a wire-format walker (fuzz_common.c), with one instant or
 *     TrackEvent at least per entry.
 *
 * Input: byte 0 selects the mode (bit 2 set: a recipe, bits 0-1 ignored;
 * else bit 0: 0 = raw file, 1 = directory), bit 1 also exports (always
 * for a recipe), bits 3-4 pick decode's time style; the rest is the
 * content.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdir, lstat: the libFuzzer build has no project flags */
#endif
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/decode.h"
#include "fuzz_common.h"
#include "hvlog/export/ctf.h"
#include "hvlog/export/perfetto.h"
#include "hvlog/trace/trace.h"
#include "../tests/export/synth.h" /* synth_rmtree, synth_dir_entries */

#define H "fuzz_trace"

static const char *work;

/* HVLOG_FUZZ_STATS=1: how often each export succeeded, printed at exit (to
 * see that a corpus reaches the parse-backs, not only the refusals). */
static unsigned long stat_runs, stat_opened, stat_ok[3], stat_events;

static void print_stats(void)
{
    fprintf(stderr, H ": %lu inputs, %lu traces opened, exports ok: CTF %lu, JSON %lu, protobuf %lu, "
            "%lu events exported\n", stat_runs, stat_opened, stat_ok[0], stat_ok[1], stat_ok[2],
            stat_events);
}

/* ---- fill order ---- */

struct order_totals {
    uint64_t entries, lost;
    bool complete; /* every group indexed */
};

static void check_fill_order(const struct hvlog_trace_reader *r, const uint64_t per_type[3],
                             struct order_totals *tot)
{
    const struct hvlog_trace_meta *meta = hvlog_trace_reader_meta(r);

    memset(tot, 0, sizeof *tot);
    tot->complete = true;
    for (uint32_t i = 0; i < meta->group_count; i++) {
        struct hvlog_trace_cursor *c;
        struct hvlog_trace_slot *slots = NULL;
        uint64_t count = 0, skipped = 0, entries = 0;

        if (hvlog_trace_cursor_open(r, meta->groups[i].type, &c, NULL) != HVLOG_EXPORT_OK) {
            tot->complete = false;
            continue;
        }
        if (hvlog_trace_fill_order(c, true, NULL, NULL, &slots, &count, &skipped, NULL) !=
            HVLOG_EXPORT_OK) {
            tot->complete = false;
            hvlog_trace_cursor_close(c);
            continue;
        }
        if (count > hvlog_trace_cursor_count(c))
            fz_die(H, "fill order indexed more buffers than the file holds");
        for (uint64_t k = 0; k < count; k++) {
            const struct hvlog_trace_slot *a = &slots[k - (k > 0)], *b = &slots[k];
            if (k > 0 && (a->lp > b->lp || (a->lp == b->lp && a->time_stamp > b->time_stamp) ||
                          (a->lp == b->lp && a->time_stamp == b->time_stamp &&
                           a->file_index >= b->file_index)))
                fz_die(H, "fill order is not (LP, TimeStamp, file position)");
            entries += b->entries;
            tot->lost += b->events_lost;
        }
        if (entries != per_type[meta->groups[i].type % 3])
            fz_die(H, "fill order and the cursor disagree on the entries");
        tot->entries += entries;
        free(slots);
        hvlog_trace_cursor_close(c);
    }
}

/* ---- the merge, printed by decode's formatter ---- */

struct stream_time {
    uint32_t key; /* 1 + (type << 16 | lp) */
    uint64_t last;
};

#define MAX_TRACKED 1024u

struct merge_run {
    struct decoder text, json;
    struct stream_time streams[MAX_TRACKED];
    uint32_t nstreams;
    uint64_t entries, lost, dropped;
};

static void decoder_init(struct decoder *d, bool json, enum time_style style)
{
    memset(d, 0, sizeof *d);
    d->json = json;
    d->style = style;
    d->filter = (struct filter){.lp = -1, .entry_type = -1, .begin = 0, .end = UINT64_MAX};
    d->out.bytes = malloc(OUT_BUFFER_BYTES);
    d->frags = calloc(JSON_SLOTS, sizeof *d->frags);
    if (!d->out.bytes || !d->frags)
        fz_die(H, "out of memory");
}

static void decoder_free(struct decoder *d)
{
    for (uint32_t i = 0; i < JSON_SLOTS; i++)
        free(d->frags[i].text);
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++)
        free(d->cat[t]);
    free(d->frags);
    free(d->out.bytes);
}

/* What cmd_decode.c's decode_item does with an item, unfiltered (its
 * steps, from decode.h). */
static void print_item(struct decoder *d, const struct hvlog_trace_item *it)
{
    if (!d->cat[it->group->type % HVLOG_TRACE_MAX_GROUPS]) {
        struct hvlog_trace_catalog *cat = malloc(sizeof *cat);
        if (!cat)
            fz_die(H, "out of memory");
        hvlog_trace_catalog_init(cat, it->group->type);
        d->cat[it->group->type % HVLOG_TRACE_MAX_GROUPS] = cat;
    }
    d->out.len = 0;
    switch (it->kind) {
    case HVLOG_TRACE_ITEM_CLOCK:
        decode_print_clock(d, it);
        break;
    case HVLOG_TRACE_ITEM_LOST:
        decode_print_lost(d, it);
        break;
    case HVLOG_TRACE_ITEM_DROPPED:
        break;
    case HVLOG_TRACE_ITEM_ENTRY:
        decode_note_entry(d, it);
        decode_show_entry(d, it);
        break;
    }
    if (d->out.failed)
        fz_die(H, "the formatter failed");
    if (d->out.len && d->out.bytes[d->out.len - 1] != '\n')
        fz_die(H, "the formatter left a line unfinished");
    for (size_t at = 0; at < d->out.len;) {
        const char *line = d->out.bytes + at;
        const char *nl = memchr(line, '\n', d->out.len - at);
        size_t n = (size_t)(nl - line);

        if (d->json) {
            json_error_t jerr;
            /* JSON numbers of any size: decode prints u64 time stamps. */
            json_t *v = json_loadb(line, n, JSON_DECODE_INT_AS_REAL, &jerr);
            if (!json_is_object(v)) {
                fprintf(stderr, H ": decode --json printed a line that is not an object (%s): %.*s\n",
                        jerr.text, (int)(n > 300 ? 300 : n), line);
                abort();
            }
            json_decref(v);
        } else {
            for (size_t k = 0; k < n; k++)
                if ((unsigned char)line[k] < 0x20 || line[k] == 0x7F)
                    fz_die(H, "decode printed a control character");
        }
        at += n + 1;
    }
}

static void check_stream_time(struct merge_run *m, const struct hvlog_trace_item *it)
{
    uint32_t key = 1u + ((it->group->type << 16) | (it->lp & 0xFFFFu));
    struct stream_time *s = NULL;

    for (uint32_t i = 0; i < m->nstreams && !s; i++)
        if (m->streams[i].key == key)
            s = &m->streams[i];
    if (!s) {
        if (m->nstreams == MAX_TRACKED)
            return;
        s = &m->streams[m->nstreams++];
        s->key = key;
        s->last = it->entry.time_stamp;
        if (it->back)
            fz_die(H, "time went back at a stream's first entry");
        return;
    }
    if (it->back != (it->entry.time_stamp < s->last))
        fz_die(H, "the merge's \"time went back\" does not match the stream's times");
    if (it->back && it->back_from != s->last)
        fz_die(H, "the merge's back_from is not the stream's previous time");
    s->last = it->entry.time_stamp;
}

static void check_merge(const struct hvlog_trace_reader *r, const struct order_totals *tot,
                        uint8_t mode)
{
    static const enum time_style styles[] = {STYLE_UTC, STYLE_RAW, STYLE_RELATIVE, STYLE_LOCAL};
    struct hvlog_trace_merge_options mo = {.skip_corrupt = true};
    struct hvlog_trace_merge *merge;
    struct hvlog_trace_item it;
    enum hvlog_export_status st;
    struct merge_run *m = calloc(1, sizeof *m);
    enum time_style style = styles[mode >> 3 & 3u];

    if (!m)
        fz_die(H, "out of memory");
    if (hvlog_trace_merge_open(r, &mo, &merge, NULL) != HVLOG_EXPORT_OK) {
        free(m);
        return;
    }
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS && style == STYLE_RELATIVE; t++) {
        const struct hvlog_trace_clock *c = hvlog_trace_merge_clock(merge, t);
        if (c && hvlog_trace_clock_need_ns(c, "decode", NULL) != HVLOG_EXPORT_OK)
            style = STYLE_RAW; /* decode refuses relative times without ns */
    }
    decoder_init(&m->text, false, style);
    decoder_init(&m->json, true, style);
    while ((st = hvlog_trace_merge_next(merge, &it, NULL)) == HVLOG_EXPORT_OK) {
        switch (it.kind) {
        case HVLOG_TRACE_ITEM_ENTRY:
            m->entries++;
            check_stream_time(m, &it);
            break;
        case HVLOG_TRACE_ITEM_LOST:
            m->lost += it.lost;
            break;
        case HVLOG_TRACE_ITEM_DROPPED:
            m->dropped++;
            break;
        case HVLOG_TRACE_ITEM_CLOCK:
            if (hvlog_trace_merge_one_clock(merge))
                fz_die(H, "a clock change in a merge on one clock");
            break;
        }
        print_item(&m->text, &it);
        print_item(&m->json, &it);
    }
    if (st != HVLOG_EXPORT_END)
        fz_die(H, "the merge failed after it opened");
    if (tot->complete && m->dropped == 0 && (m->entries != tot->entries || m->lost != tot->lost)) {
        fprintf(stderr, H ": the merge gave %llu entries and %llu lost, fill order %llu and %llu\n",
                (unsigned long long)m->entries, (unsigned long long)m->lost,
                (unsigned long long)tot->entries, (unsigned long long)tot->lost);
        abort();
    }
    hvlog_trace_merge_close(merge);
    decoder_free(&m->text);
    decoder_free(&m->json);
    free(m);
}

/* ---- exports ---- */

/* @complete: every group's cursor opened, so @entries is the whole trace's. */
static void export_all(const struct hvlog_trace_reader *r, uint64_t entries, bool complete)
{
    struct hvlog_export_options opt = {.skip_corrupt = true};
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    char out[300];
    int before = synth_dir_entries(work);

    snprintf(out, sizeof out, "%s/out.ctf", work);
    if (hvlog_export_ctf(r, out, &opt, &sum, &err) == HVLOG_EXPORT_OK) {
        stat_ok[0]++;
        if (complete && sum.events != entries)
            fz_die(H, "the CTF export lost or invented entries");
        synth_rmtree(out);
    } else if (synth_dir_entries(work) != before) {
        fz_die(H, "a failed CTF export left something behind");
    }
    snprintf(out, sizeof out, "%s/out.json", work);
    if (hvlog_export_perfetto(r, out, &opt, &sum, &err) == HVLOG_EXPORT_OK) {
        stat_ok[1]++;
        if (complete && sum.events != entries)
            fz_die(H, "the Perfetto export lost or invented entries");
        if (fz_check_perfetto_json(H, out) < sum.events)
            fz_die(H, "the Perfetto JSON holds fewer instants than entries exported");
        unlink(out);
    } else if (synth_dir_entries(work) != before) {
        fz_die(H, "a failed Perfetto export left something behind");
    }
    snprintf(out, sizeof out, "%s/out.pftrace", work);
    if (hvlog_export_perfetto_proto(r, out, &opt, &sum, &err) == HVLOG_EXPORT_OK) {
        stat_ok[2]++;
        stat_events += sum.events;
        if (complete && sum.events != entries)
            fz_die(H, "the Perfetto protobuf export lost or invented entries");
        if (fz_check_perfetto_proto(H, out) < sum.events)
            fz_die(H, "the Perfetto protobuf holds fewer TrackEvents than entries exported");
        unlink(out);
    } else if (synth_dir_entries(work) != before) {
        fz_die(H, "a failed Perfetto protobuf export left something behind");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct hvlog_trace_reader *r = NULL;
    char path[300];
    uint8_t mode;

    if (size < 1)
        return 0;
    if (!work && getenv("HVLOG_FUZZ_STATS"))
        atexit(print_stats);
    work = fz_workdir("fuzz-trace");
    stat_runs++;
    mode = data[0];
    data++;
    size--;
    snprintf(path, sizeof path, "%s/t", work);
    if (mode & 4) {
        if (fz_build_trace(data, size, path) != 0)
            return 0;
        mode |= 2;
    } else if (mode & 1) {
        /* A directory: metadata text, a NUL, then the data of every group file. */
        size_t meta_len = fz_write_trace_dir(H, path, 0777, data, size, "global.buffers");
        struct hvlog_trace_meta meta;

        hvlog_trace_meta_parse((const char *)data, meta_len, &meta, NULL);
        hvlog_trace_meta_release(&meta);
    } else {
        snprintf(path, sizeof path, "%s/raw", work);
        fz_write_file(path, data, size);
    }
    if (hvlog_trace_open(path, &r, NULL) == HVLOG_EXPORT_OK) {
        uint64_t per_type[3] = {0, 0, 0};
        stat_opened++;
        bool complete;
        uint64_t entries = fz_readable_entries(H, r, per_type, &complete);
        struct order_totals tot;

        check_fill_order(r, per_type, &tot);
        check_merge(r, &tot, mode);
        if (mode & 2)
            export_all(r, entries, complete);
        hvlog_trace_close(r);
    }
    synth_rmtree(path);
    if (synth_dir_entries(work) != 0)
        fz_die(H, "files left in the work directory");
    return 0;
}
