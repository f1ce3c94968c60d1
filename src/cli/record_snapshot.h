/* SPDX-License-Identifier: MIT */
/*
 * `hvlog record --snapshot`: the flight recorder (record_snapshot.c, issue
 * 17 item 5). The released buffers go to a ring in memory bounded by
 * --snapshot-size instead of the trace; SIGUSR1 (`hvlog snapshot PID`) and
 * the end of the recording write the ring as a complete trace,
 * DIR/snapshot-NNN, on a writer thread. Every function is called by the
 * recording's main thread (the client's thread).
 */
#ifndef HVLOG_CLI_RECORD_SNAPSHOT_H
#define HVLOG_CLI_RECORD_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/client/client.h"
#include "hvlog/sim/sim.h"
#include "hvlog/trace/trace.h"
#include "hvlog/trace/walk.h"

/* The control file a snapshot recording keeps open in DIR: `hvlog snapshot
 * PID` finds it among the process's open files (/proc/PID/fd). */
#define RECORD_SNAPSHOT_CONTROL "hvlog-snapshot.ctl"
#define RECORD_SNAPSHOT_DEFAULT_BYTES (64ull << 20)
#define RECORD_SNAPSHOT_MAX_BYTES (1ull << 40)

/* The control file's text, as record_snapshot.c writes it. */
struct record_snapshot_ctl {
    long pid;              /* the recording's */
    uint64_t started;      /* the last snapshot started, 0 = none */
    uint64_t done;         /* the last one finished, 0 = none */
    char outcome[8];       /* of done: "none", "ok" or "failed" */
};

/* record_snapshot_ctl_read - read and parse the control file open on @fd
 * (under a shared flock: the recorder rewrites it in place under an
 * exclusive one). False when it is not one. */
bool record_snapshot_ctl_read(int fd, struct record_snapshot_ctl *st);

struct record_snapshot_options {
    bool enabled;        /* --snapshot */
    uint64_t ring_bytes; /* --snapshot-size; 0 = the default */
    bool compress;       /* --compress: every snapshot written with HVLOG_TRACE_COMPRESS */
};

struct record_snapshot;

/* record_snapshot_check - the options make sense with the output @out and
 * the source (@real_root: --from a device, which the flight recorder does
 * not take yet). False after one line (a usage error). */
bool record_snapshot_check(const struct record_snapshot_options *o, const char *out, bool real_root);

/* record_snapshot_parse_size - --snapshot-size's SIZE (one line if bad). */
bool record_snapshot_parse_size(const char *text, uint64_t *bytes);

/*
 * record_snapshot_open - make @dir the snapshot directory (created; an
 * existing one only with @force, and never a trace), catch SIGUSR1 and
 * write the control file. @buffer_bytes is the largest buffer the
 * recording can release: the ring must hold one. NULL after one line.
 */
struct record_snapshot *record_snapshot_open(const char *dir, const struct record_snapshot_options *o,
                                             uint64_t buffer_bytes, bool force, bool quiet,
                                             unsigned file_mode, long long uid, long long gid);

/*
 * record_snapshot_start - the recording's opening metadata (copied), and
 * where intermediate snapshots read the host's truths (@sim, @lps) and the
 * client's counts (@client); starts the writer thread. False after a line.
 */
bool record_snapshot_start(struct record_snapshot *s, const struct hvlog_trace_meta *meta,
                           struct hvlog_sim *sim, uint32_t lps, struct hvlog_client *client);

/* record_snapshot_buffer - keep a released buffer in the ring (NULL @s: no-op). */
void record_snapshot_buffer(struct record_snapshot *s, const struct hvlog_buffer_summary *sum,
                            const uint8_t *bytes, size_t len);

/* record_snapshot_tick - take a snapshot if one was asked for and the
 * writer is free; report one that finished (NULL @s: no-op). */
void record_snapshot_tick(struct record_snapshot *s);

/*
 * record_snapshot_finish - the recording stopped: the last snapshot, with
 * @meta's host rows and client statistics (the final truths); waits for
 * it. False after one line when it could not be written.
 */
bool record_snapshot_finish(struct record_snapshot *s, const struct hvlog_trace_meta *meta);

/* record_snapshot_destroy - stop the writer, free the ring, remove the
 * control file (and @dir when nothing was written in it). NULL: no-op. */
void record_snapshot_destroy(struct record_snapshot *s);

#endif
