/* SPDX-License-Identifier: MIT */
/*
 * `hvlog decode` in two files: cmd_decode.c reads (options, the trace
 * layer's merge, filters) and decode_print.c formats (time columns, text
 * and JSON lines). This is what they share.
 */
#ifndef HVLOG_CLI_DECODE_H
#define HVLOG_CLI_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cli/hosts.h"
#include "cli/out.h"
#include "hvlog/trace/catalog.h"
#include "hvlog/trace/merge.h"

enum time_style { STYLE_LOCAL, STYLE_UTC, STYLE_RELATIVE, STYLE_RAW };

#define UNIT_HZ HVLOG_REFERENCE_HZ /* times and deltas are shown in 100 ns */
#define JSON_SLOTS 1024u

struct filter {
    int64_t lp;          /* -1: all */
    int32_t entry_type;  /* -1: all */
    uint64_t begin, end; /* raw time stamps, inclusive */
};

/* --json: a line's constant parts for one entry type, escaped once:
 * ,"event":"NAME","entry_type":N,"context":   then per parameter
 * "p":"0x (with a leading comma after the first). */
struct json_frag {
    uint32_t key; /* 1 + (log type << 16 | entry type); 0 = empty */
    char *text;
    uint32_t key_at[HVLOG_TRACE_MAX_PARAMS + 1]; /* [0] = length of the head */
};

struct decoder {
    struct cli_hosts hosts; /* the traces; a host column when there are several */
    struct hvlog_trace_merge *merge;
    enum time_style style;
    bool json, skip_corrupt;
    struct filter filter;
    bool have_first;
    uint64_t first_time, prev_time;
    const struct hvlog_trace_clock *first_clock, *prev_clock;
    struct out_buffer out;
    struct hvlog_trace_catalog *cat[HVLOG_TRACE_MAX_GROUPS];
    struct json_frag *frags; /* JSON_SLOTS, direct-mapped */
    bool tc_valid;           /* the last second's "HH:MM:SS" */
    time_t tc_secs;
    char tc_hms[16];
    size_t tc_len;
    uint64_t dropped;
    bool records;            /* printing a records file: entries name no LP */
    struct hvlog_export_error err;
};

/* Text lines: the entry (with its delta from the previous one printed),
 * a gap's lost events, time going back on an LP. JSON lines with --json. */
void decode_print_entry(struct decoder *d, const struct hvlog_trace_item *it);
void decode_print_lost(struct decoder *d, const struct hvlog_trace_item *it);
void decode_print_back(struct decoder *d, const struct hvlog_trace_item *it);

/* decode's steps for one item of the merge, shared by cmd_decode.c's
 * decode_item and fuzz/fuzz_trace.c; inline, as they run once per entry. */

/* A change of clock (issue 12, bug 3): never one delta across clocks. */
static inline void decode_print_clock(struct decoder *d, const struct hvlog_trace_item *it)
{
    out_str(&d->out, d->json ? "{\"clock\":\"" : "[--- the entries below are on the ");
    out_str(&d->out, it->clock->name);
    out_str(&d->out, d->json ? "\"}\n" : " clock, which cannot be put on the clock above ---]\n");
    d->have_first = false;
}

/* Every entry, shown or not: the first of a clock is where the deltas start. */
static inline __attribute__((always_inline)) void decode_note_entry(struct decoder *d,
                                                                    const struct hvlog_trace_item *it)
{
    if (!d->have_first) {
        d->first_time = d->prev_time = it->entry.time_stamp;
        d->first_clock = d->prev_clock = it->clock;
        d->have_first = true;
    }
}

/* An entry shown: time going back first, then its line; the next delta
 * is from it. */
static inline __attribute__((always_inline)) void decode_show_entry(struct decoder *d,
                                                                    const struct hvlog_trace_item *it)
{
    if (it->back)
        decode_print_back(d, it);
    decode_print_entry(d, it);
    d->prev_time = it->entry.time_stamp;
    d->prev_clock = it->clock;
}

#endif /* HVLOG_CLI_DECODE_H */
