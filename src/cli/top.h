/* SPDX-License-Identifier: MIT */
/*
 * `hvlog top`: a live view of a recording (issue 17, item 3). Split by
 * concern: a source takes samples (cumulative counters, top_trace.c
 * follows a trace directory being written), the view turns two samples
 * into rates and lines (top_view.c), and cmd_top.c runs the loop, on a
 * terminal through ncurses or as plain text blocks.
 *
 * A sample holds what its source can know, and says what it cannot: a
 * trace's files hold the released buffers' headers and entries (events,
 * bytes, EventsLost), never the buffers' states, the ready messages or
 * the loss by cause, which only the recording client and the hypervisor
 * see. The view prints "-" for those (docs/cli.md, hvlog-top(1)).
 */
#ifndef HVLOG_CLI_TOP_H
#define HVLOG_CLI_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One stream: a log type and an LP, counted since the recording began. */
struct top_row {
    uint32_t type, lp;
    uint64_t events;  /* entries of the buffers released so far */
    uint64_t bytes;   /* entry bytes, [72, NextBufferOffset) of each buffer */
    uint64_t buffers; /* buffers released */
    uint64_t lost;    /* sum of the buffers' EventsLost */
    /* TOP_KNOWN_CAUSES: the producers' losses by cause (§7.3, §7.4),
     * counted when they happen, not when a buffer carries them. */
    uint64_t lost_no_buffer, lost_too_large;
    /* TOP_KNOWN_STATES: the stream's buffers Ready (released to the root,
     * not yet read back) and InUse now; not cumulative. */
    uint32_t ready, inuse;
};

/* What a sample knows beyond the rows (bits of top_sample.known). */
enum top_known {
    TOP_KNOWN_MESSAGES = 1u << 0, /* messages: the client's ready messages */
    TOP_KNOWN_CAUSES = 1u << 1,   /* rows' lost_no_buffer, lost_too_large */
    TOP_KNOWN_STATES = 1u << 2,   /* rows' ready, inuse */
};

/* One look at the source: cumulative counters, rows sorted by type then LP. */
struct top_sample {
    struct top_row *rows;
    uint32_t count, cap;
    uint64_t corrupt;     /* buffers that failed the walker's checks, left out */
    uint64_t messages;    /* with TOP_KNOWN_MESSAGES */
    unsigned known;       /* enum top_known bits */
    const char *state;    /* "being written", "finished", "died", "raw" */
    bool done;            /* the source will not grow any more */
    uint64_t at_ns;       /* CLOCK_MONOTONIC when taken */
};

/* The row of (@type, @lp) in @s, added (zeroed, in order) if new; NULL
 * when out of memory. */
struct top_row *top_sample_row(struct top_sample *s, uint32_t type, uint32_t lp);
/* Copy @from into @to (growing @to's rows); false when out of memory. */
bool top_sample_copy(struct top_sample *to, const struct top_sample *from);
void top_sample_free(struct top_sample *s);
uint64_t top_now_ns(void);

/* ---- the trace source (top_trace.c) ---- */

struct top_trace;

/*
 * top_trace_open - follow the trace directory (or raw file) @path. False
 * after one line in @why (@why_len bytes): no such trace, not a trace.
 */
bool top_trace_open(const char *path, struct top_trace **out, char *why, size_t why_len);
/*
 * top_trace_sample - read the buffers appended since the last sample (the
 * whole buffers only: a torn one is read once whole) into the cumulative
 * @s. False after one line in @why on a read error.
 */
bool top_trace_sample(struct top_trace *t, struct top_sample *s, char *why, size_t why_len);
void top_trace_close(struct top_trace *t);

/* ---- the simulated host (top_sim.c) ---- */

/* What `hvlog top` without TRACE runs: record's workload options. */
struct top_sim_config {
    uint64_t lps, seed, rate, payload, buffers, pages, threshold, global_pm;
    uint64_t duration_ms; /* 0: until the user quits */
};

struct top_sim;

/* top_sim_open - create the simulated host and be its root, as `hvlog
 * record` does, keeping no buffers; the workload starts. False after one
 * line in @why. */
bool top_sim_open(const struct top_sim_config *config, struct top_sim **out, char *why,
                  size_t why_len);
/* top_sim_pump - be the root until @until_ns (CLOCK_MONOTONIC): take the
 * ready messages and read and release the buffers, counting them. */
void top_sim_pump(struct top_sim *t, uint64_t until_ns);
/* top_sim_sample - the counts so far, the buffers' states and the losses
 * by cause now, into @s. */
bool top_sim_sample(struct top_sim *t, struct top_sample *s, char *why, size_t why_len);
void top_sim_close(struct top_sim *t);

/* ---- the view (top_view.c) ---- */

/* Called once per line of a block, @bold for headers. */
typedef void (*top_line_fn)(void *arg, const char *line, bool bold);

/*
 * top_view_render - one block: a title line (@name, the sample's state,
 * @elapsed_ns since start), the totals, the column headers and one row
 * per stream with its rates between @prev and @cur (per second over
 * their time apart; @prev NULL: no rates yet, "-"), then the legend.
 */
void top_view_render(const char *name, const struct top_sample *prev, const struct top_sample *cur,
                     uint64_t elapsed_ns, top_line_fn line, void *arg);

#endif /* HVLOG_CLI_TOP_H */
