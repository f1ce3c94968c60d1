/* SPDX-License-Identifier: MIT */
/*
 * `hvlog record --relayd`: stream the recording live to lttng-relayd
 * (issue 17, docs/live.md). The recording's thread hands each released
 * buffer to record_live_buffer, which copies it into a bounded queue and
 * returns; a sender thread of its own turns each buffer into a CTF packet
 * (hvlog_ctf_packet_encode) and sends it with its index. A relayd that is
 * slow or gone therefore never stops or slows the recording: what the
 * queue cannot hold is counted lost, under causes of its own.
 *
 * Threads: every record_live_* call is made by the recording's thread.
 */
#ifndef HVLOG_CLI_RECORD_LIVE_H
#define HVLOG_CLI_RECORD_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct hvlog_buffer_summary;
struct hvlog_client;
struct hvlog_root_ops;
struct hvlog_trace_meta;

/* What the options say; NULL/0 members take the defaults. */
struct record_live_options {
    const char *url;          /* --relayd net://HOST[:CTRL[:DATA]]; NULL: not live */
    const char *hostname;     /* --hostname; NULL: gethostname() */
    const char *session;      /* --session; NULL: from @output, else hvlog-DATE-TIME */
    const char *output;       /* -o, or NULL */
    uint64_t buffer_bytes;    /* --relayd-buffer; 0: RECORD_LIVE_DEFAULT_BUFFER */
    bool quiet;
    /* A real root (--from /dev/mshv_diag): the uapi has no flush, so data
     * arrives as buffers fill, record_live_tick is never called, and no
     * beacon is sent while recording (an InUse buffer may hold events
     * older than any "now"); the last beacons' time comes from the data. */
    bool no_flush;
};

#define RECORD_LIVE_DEFAULT_BUFFER (64ull << 20)

struct record_live;

/**
 * record_live_check - the options' errors a recording must not start with
 * (a bad URL, a name relayd would refuse): one line on stderr, false.
 */
bool record_live_check(const struct record_live_options *o);

/**
 * record_live_parse_size - "64M", "1G", "4096": --relayd-buffer's SIZE.
 */
bool record_live_parse_size(const char *text, uint64_t *bytes);

/**
 * record_live_start - connect to relayd, create the live session, send the
 * metadata of @meta (which must outlive the handle) and start the sender.
 * @basis is the time basis of the groups; @ops/@ctx read the reference time
 * for the beacons. Prints the viewer's URL. Returns NULL after one line on
 * stderr when relayd cannot be reached at the start (the recording does
 * not begin).
 */
struct record_live *record_live_start(const struct record_live_options *o,
                                      const struct hvlog_trace_meta *meta, uint32_t basis,
                                      const struct hvlog_root_ops *ops, void *ctx);

/** record_live_buffer - queue a copy of one released buffer (never blocks
 * on relayd). NULL @live is a no-op. */
void record_live_buffer(struct record_live *live, const struct hvlog_buffer_summary *s,
                        const uint8_t *bytes, size_t len);

/**
 * record_live_tick - the live timer, called from the recording's loop:
 * once a period it flushes every InUse buffer of @client's groups
 * (HvFlushEventLogBuffer, §5.9) so that data flows, and passes the
 * beacons' time on. NULL @live is a no-op.
 */
void record_live_tick(struct record_live *live, struct hvlog_client *client);

/**
 * record_live_drain - after the groups were concluded: send what is
 * queued (bounded: a relayd that is gone gets one more attempt) and wait
 * until every buffer is sent or counted lost. Then, when @closing is not
 * NULL, fill its relayd section (per stream: events sent, and lost by
 * cause; docs/live.md "Losses") for the local trace's closing metadata;
 * the rows stay the handle's, valid until record_live_destroy. The viewers'
 * linger waits for record_live_finish, so the trace is closed first.
 * NULL @live is a no-op.
 */
void record_live_drain(struct record_live *live, struct hvlog_trace_meta *closing);

/** record_live_summary - "; relayd: N sent, M lost on the way", for
 * record's closing line (after record_live_drain). NULL is a no-op. */
void record_live_summary(const struct record_live *live, FILE *f);

/**
 * record_live_finish - record_live_drain if not done, then beacons while
 * viewers read the last packets, close the streams, stop the sender, and
 * print what was sent and lost, by cause. NULL is a no-op.
 */
void record_live_finish(struct record_live *live);

/** record_live_destroy - free everything (stops the sender if needed). */
void record_live_destroy(struct record_live *live);

#endif /* HVLOG_CLI_RECORD_LIVE_H */
