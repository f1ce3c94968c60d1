/* SPDX-License-Identifier: MIT */
/*
 * hvlog trace directories (docs/trace-format.md): writing them, reading
 * them back, and reading bare buffer files.
 *
 *     TRACE/hvlog-trace.json   metadata (struct hvlog_trace_meta)
 *     TRACE/local.buffers      LocalDiagnostics buffers, whole, in release order
 *     TRACE/global.buffers     GlobalSystemEvents buffers, the same way
 *
 * A group file holds the buffers byte for byte as the root released them
 * (the bytes a Linux root's mshv_trace read() returns), BufferSize bytes
 * each, all LPs interleaved. The reader streams a file one buffer at a
 * time (memory stays one buffer, however long the trace), checks every
 * buffer with the walker (hvlog/trace/walk.h) and never trusts a byte.
 *
 * Threads: a writer, a reader and its cursors are used by one thread at a
 * time; distinct readers are independent.
 */
#ifndef HVLOG_TRACE_TRACE_H
#define HVLOG_TRACE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/trace/walk.h"
#include "hvlog/visibility.h"
#include "hvlog/trace/common.h"

HVLOG_BEGIN_DECLS

#define HVLOG_TRACE_FORMAT "hvlog-trace"
/* 2: root-side metadata, an optional host section, closing statistics
 * written at the end of a recording (docs/trace-format.md section 2).
 * 3: version 2 with a group compressed (groups[].compression): written
 * only then, so that a reader that predates compression refuses such a
 * trace ("newer than this hvlog reads") instead of reading zstd frames as
 * buffers. Readers accept 1 to HVLOG_TRACE_FORMAT_VERSION_MAX. */
#define HVLOG_TRACE_FORMAT_VERSION 2u
#define HVLOG_TRACE_FORMAT_VERSION_COMPRESSED 3u
#define HVLOG_TRACE_FORMAT_VERSION_MAX 3u
#define HVLOG_TRACE_META_FILE "hvlog-trace.json"
#define HVLOG_TRACE_MAX_GROUPS HVLOG_TYPE_COUNT /* one per log type */
#define HVLOG_TRACE_META_MAX_BYTES (16u << 20) /* a longer metadata file is refused */

/* Force replacing an existing trace directory (hvlog_trace_writer_create). */
#define HVLOG_TRACE_FORCE 0x1u
/* Write every group's buffers compressed, one zstd frame per buffer
 * (hvlog_trace_writer_create; docs/trace-format.md section 1). Records
 * files stay plain. */
#define HVLOG_TRACE_COMPRESS 0x2u

/* How a group file holds its buffers (groups[].compression). */
#define HVLOG_TRACE_COMPRESSION_NONE 0u /* whole buffers back to back */
#define HVLOG_TRACE_COMPRESSION_ZSTD 1u /* "zstd": one framed zstd frame per buffer */

/* Default permissions of what the trace writer creates (issue 13, A11): a
 * hypervisor trace can be sensitive, so only its owner reads it, as perf
 * does with perf.data. Directories get an x bit wherever a file gets r. */
#define HVLOG_TRACE_FILE_MODE 0600u

/** hvlog_trace_group_file - the data file of log @type ("local.buffers",
 * "global.buffers", "system.buffers"), or NULL for another type. */
HVLOG_API const char *hvlog_trace_group_file(uint32_t type);
/** hvlog_trace_group_file_compressed - the same with ".zst" ("local.buffers.zst"):
 * the name of a group written with HVLOG_TRACE_COMPRESS. */
HVLOG_API const char *hvlog_trace_group_file_compressed(uint32_t type);
/** hvlog_trace_group_short - "local", "global", "system", or NULL. */
HVLOG_API const char *hvlog_trace_group_short(uint32_t type);

/* One buffer group, as the root initialised it (spec §5.1). */
struct hvlog_trace_group {
    uint32_t type;                  /* HV_EVENTLOG_TYPE */
    char file[64];                  /* data file in the trace directory */
    enum hvlog_abi_profile convention; /* D9: "2013" or "current" */
    uint32_t buffer_count;          /* MaximumBufferCount */
    uint32_t buffer_pages;          /* 1..512 */
    uint32_t threshold;
    uint32_t time_basis;            /* HV_EVENTLOG_ENTRY_TIME_BASIS */
    uint64_t system_time;           /* Initialize SystemTime: FILETIME, 100 ns since 1601-01-01; 0 = unknown */
    uint64_t reference_time_at_init; /* reference time (100 ns) when Initialize ran */
    uint64_t sources;               /* enable mask */
    /* QPC (time basis 2, §11.5) when Initialize ran, in ticks of the trace's
     * qpc_frequency_hz: with system_time it anchors QPC entries to wall-clock
     * time. Meaningful only when qpc_at_init_known ("qpc_at_init" present). */
    uint64_t qpc_at_init;
    bool qpc_at_init_known;
    uint32_t mode;                  /* Initialize Mode (§11.1): 0 Regular, 1 Circular; v2 */
    /* Closing statistics (v2, written when the recording finished): whole
     * buffers the recorder appended to the group file. Readers check the
     * file against it. Meaningful only when buffers_written_known. */
    uint64_t buffers_written;
    bool buffers_written_known;
    /* A recorder that could not read the reference counter next to the
     * wall clock (a real root without /dev/cpu/N/msr: `hvlog record --from
     * /dev/mshv_diag`) sets this: reference_time_at_init is unknown, so
     * system_time (Initialize's SystemTime) only dates the recording's
     * start and places no entry on the wall clock. Written as
     * "reference_anchor": false; absent = the anchor is there. */
    bool no_reference_anchor;
    /* HVLOG_TRACE_COMPRESSION_*: "compression": "zstd" (format version 3);
     * absent = none. The writer sets it from HVLOG_TRACE_COMPRESS. */
    uint32_t compression;
};

/*
 * A records file (format version 2, issue #14): SystemDiagnostics records
 * as the Linux diaglog fd returns them (hvlog/abi/mshv_uapi.h): each the
 * 16-byte entry header (§4.5: Context u32, Size u16, Type u16, TimeStamp
 * u64) then Size - 16 payload bytes, back to back with no padding, in the
 * order read. Not buffers: no buffer header, no EventsLost, TimeStamp in
 * the unit time_unit says (the driver rewrites it to Unix seconds).
 * docs/trace-format.md section 3.
 */
#define HVLOG_TRACE_MAX_RECORDS 1u /* one records file: SystemDiagnostics */
#define HVLOG_TRACE_RECORD_TIME_UNIX_SECONDS 1u /* "unix_seconds": the diaglog fd's rewrite */
struct hvlog_trace_records {
    uint32_t type;             /* HV_EVENTLOG_TYPE: HvEventLogTypeSystemDiagnostics */
    char file[64];             /* "system.records" (the writer's name) */
    uint32_t time_unit;        /* HVLOG_TRACE_RECORD_TIME_* */
    uint64_t records_written;  /* closing statistics: records the recorder appended */
    bool records_written_known;
};

/** hvlog_trace_records_file - the records file of log @type
 * ("system.records"), or NULL for a type that has none. */
HVLOG_API const char *hvlog_trace_records_file(uint32_t type);

/* What each LP logged and lost (the simulator's counters, §7.4): part of
 * the optional host section, which only a simulated host can fill. */
struct hvlog_trace_lp {
    uint32_t lp;
    uint64_t logged;         /* events the producers offered */
    uint64_t recorded;       /* events written into buffers */
    uint64_t lost;           /* lost_no_buffer + lost_too_large */
    uint64_t lost_no_buffer;
    uint64_t lost_too_large;
    uint64_t overwritten;    /* Circular mode (§11.1): written, then discarded when the
                              * LP reused a Complete buffer; in recorded, not in the
                              * trace, not in lost. Absent in the file = 0 */
};

/*
 * A flight-recorder snapshot (`hvlog record --snapshot`, docs/trace-format.md
 * section 2): per log type and LP, what the snapshot holds and what the
 * recorder's ring dropped before it was taken. Root-side data: the recorder
 * counts it from the buffers it released, so a real root can write it too.
 * In every snapshot, per row: entries + overwritten_entries = the entries
 * of every buffer released before it; events_lost + overwritten_events_lost
 * = the EventsLost they reported.
 */
struct hvlog_trace_snapshot_lp {
    uint32_t type;                    /* HV_EVENTLOG_TYPE */
    uint32_t lp;                      /* header LogicalProcessor */
    uint64_t buffers;                 /* in this snapshot */
    uint64_t entries;
    uint64_t events_lost;             /* sum of their EventsLost */
    uint64_t overwritten_buffers;     /* released, then dropped from the ring */
    uint64_t overwritten_entries;
    uint64_t overwritten_events_lost;
};

#define HVLOG_TRACE_SNAPSHOT_REASON_MAX 16u
struct hvlog_trace_snapshot {
    uint64_t sequence;     /* 1, 2, ... within one recording */
    uint64_t ring_bytes;   /* the ring's bound (--snapshot SIZE) */
    char reason[HVLOG_TRACE_SNAPSHOT_REASON_MAX]; /* "request" (SIGUSR1) or "stop" */
    uint32_t row_count;
    struct hvlog_trace_snapshot_lp *rows;
};

/*
 * The u64 counters of the metadata's rows, by member name: one table
 * serves every reader and writer of hvlog-trace.json and rotation.json and
 * every printer of them (hvlog info, stats), so they cannot drift.
 *   LP        struct hvlog_trace_lp, the host section's "lp_counts" rows
 *   STATS     the closing statistics of format 1
 *   CLOSING   all of them (format 2)
 *   SNAPSHOT  struct hvlog_trace_snapshot_lp, a snapshot's "lps" rows
 */
#define HVLOG_TRACE_LP_COUNTERS(X) \
    X(logged) X(recorded) X(lost) X(lost_no_buffer) X(lost_too_large) X(overwritten)
#define HVLOG_TRACE_STATS_COUNTERS(X) X(messages) X(buffers) X(longest_chain)
#define HVLOG_TRACE_CLOSING_COUNTERS(X) HVLOG_TRACE_STATS_COUNTERS(X) X(entries) X(events_lost) X(corrupt)
#define HVLOG_TRACE_SNAPSHOT_COUNTERS(X) \
    X(buffers) X(entries) X(events_lost) X(overwritten_buffers) X(overwritten_entries) \
    X(overwritten_events_lost)

/*
 * What a stream (a log type on an LP) of a recording that also streamed
 * live to lttng-relayd (`hvlog record --relayd`, issue 17) sent there, and
 * why the rest did not go (docs/live.md "Losses"): every event of the
 * local trace is sent or lost under exactly one cause, so per stream
 * sent + the four losses == the events of that stream in the trace. The
 * counters' names are the file's member names (HVLOG_TRACE_RELAYD_COUNTERS).
 */
#define HVLOG_TRACE_RELAYD_COUNTERS(X) \
    X(sent) X(lost_queue_full) X(lost_send_failed) X(lost_unsent_at_end) X(lost_encoder)
struct hvlog_trace_relayd_stream {
    uint32_t type, lp;
    uint64_t sent;               /* events in packets relayd took */
    uint64_t lost_queue_full;    /* --relayd-buffer was full: the buffer was not queued */
    uint64_t lost_send_failed;   /* relayd broke while the buffer's packet was sent */
    uint64_t lost_unsent_at_end; /* still queued when the recording ended, relayd gone */
    uint64_t lost_encoder;       /* the CTF packet encoder refused the buffer */
};

/** hvlog_trace_relayd_lost - a stream's events lost for relayd, every cause. */
static inline uint64_t hvlog_trace_relayd_lost(const struct hvlog_trace_relayd_stream *s)
{
    return s->lost_queue_full + s->lost_send_failed + s->lost_unsent_at_end + s->lost_encoder;
}

/** hvlog_trace_relayd_total - the sums of @count rows (type and lp 0). */
static inline struct hvlog_trace_relayd_stream
hvlog_trace_relayd_total(const struct hvlog_trace_relayd_stream *rows, size_t count)
{
    struct hvlog_trace_relayd_stream t = {0, 0, 0, 0, 0, 0, 0};

    for (size_t i = 0; i < count; i++) {
#define HVLOG_TRACE_RELAYD_ADD(field) t.field += rows[i].field;
        HVLOG_TRACE_RELAYD_COUNTERS(HVLOG_TRACE_RELAYD_ADD)
#undef HVLOG_TRACE_RELAYD_ADD
    }
    return t;
}

/*
 * The metadata. For the writer the caller fills it and keeps ownership
 * (the writer only reads it; group file names are set by the writer). A
 * meta from hvlog_trace_meta_parse or a reader owns command_line and lps.
 *
 * Format version 2 separates what a root partition can know (everything
 * but host: the Initialize inputs, the anchors it read itself, what its
 * client saw) from what only a simulated host knows (host, lps), which is
 * optional and only ever used to cross-check. Version 1 files are read
 * into the same structure (their host and lps set host_present).
 */
/* A host name as gethostname(2) gives it (HOST_NAME_MAX 64), with its NUL. */
#define HVLOG_TRACE_HOSTNAME_MAX 65u

struct hvlog_trace_meta {
    uint32_t version;           /* the file's; the writer writes HVLOG_TRACE_FORMAT_VERSION */
    char hvlog_version[32];     /* of the program that recorded */
    char abi_profile[16];       /* "2013" or "current" */
    char *command_line;         /* may be NULL */
    struct {
        uint32_t vps;           /* root VPs the root driver saw (hvlog_root_ops); 0 = unknown */
        uint32_t domains;       /* proximity domains it spread buffers over; 0 = unknown */
        char hostname[HVLOG_TRACE_HOSTNAME_MAX]; /* the root's name for itself; "" = unknown */
    } root;
    bool host_present;          /* the optional host section is there (written when set) */
    struct {
        uint32_t lps;
        uint32_t domains;
        uint32_t children;
        uint64_t seed;
    } host;
    uint64_t tsc_frequency_hz;  /* 0 = unknown */
    uint64_t qpc_frequency_hz;  /* QPC ticks per second (time basis 2); 0 = unknown */
    uint32_t group_count;
    struct hvlog_trace_group groups[HVLOG_TRACE_MAX_GROUPS];
    uint32_t records_count;     /* records files (v2, optional): 0 or 1 */
    struct hvlog_trace_records records[HVLOG_TRACE_MAX_RECORDS];
    uint32_t lp_count;          /* host section: per-LP counters */
    struct hvlog_trace_lp *lps;
    /* Version 2: the closing statistics are present (the recorder finished
     * and rewrote the metadata). A version-1 file is always closed. A
     * recording without them was still being written, or died. */
    bool closed;
    /* A flight-recorder snapshot (optional "snapshot" member, format 2):
     * written when set; a parsed meta owns snapshot.rows. */
    bool snapshot_present;
    struct hvlog_trace_snapshot snapshot;
    struct {                    /* what the recording root's client saw (closing) */
        uint64_t messages;
        uint64_t buffers;
        uint64_t longest_chain;
        uint64_t entries;       /* v2 */
        uint64_t events_lost;   /* v2: sum of the EventsLost of the buffers read */
        uint64_t corrupt;       /* v2: buffers or ready-list links the client refused */
    } stats;
    /* Closing, optional: the recording streamed live to relayd too. The
     * writer only reads url and streams (the caller's); a parsed meta owns
     * them (hvlog_trace_meta_release frees them). */
    bool relayd_present;
    struct {
        char *url;              /* the viewer's URL, net://HOST/host/NAME/SESSION */
        uint64_t breaks;        /* times the connection broke */
        uint64_t reconnects;
        uint32_t stream_count;
        struct hvlog_trace_relayd_stream *streams;
    } relayd;
};

/**
 * hvlog_trace_meta_parse - read the metadata document @text (@len bytes).
 * Checks the format name, the version (newer than this library reads ->
 * HVLOG_EXPORT_VERSION), each group (type 0..2 at most once, a plain file
 * name, a known convention, buffer_pages 1..512, time basis 0..2) and every
 * number's range. @out must be released with hvlog_trace_meta_release()
 * whatever the result.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_meta_parse(const char *text, size_t len,
                                                         struct hvlog_trace_meta *out,
                                                         struct hvlog_export_error *err);
/** hvlog_trace_meta_release - free what a parsed meta owns; zeroes @meta. */
HVLOG_API void hvlog_trace_meta_release(struct hvlog_trace_meta *meta);

/** hvlog_trace_meta_group - the group of log @type in @meta, or NULL. */
HVLOG_API const struct hvlog_trace_group *hvlog_trace_meta_group(const struct hvlog_trace_meta *meta,
                                                                 uint32_t type);

/**
 * hvlog_trace_meta_anchor - the group whose anchor places every group of
 * time basis @basis on the wall clock, or NULL when none can. Groups of one
 * basis read one clock (the machine's reference time, or its QPC), but
 * each anchor was taken on its own, a little after its root read the wall
 * clock; the one read with the least delay gives the latest wall-clock time
 * for a given tick, i.e. the largest offset (docs/trace-format.md section
 * 2). Reference basis: groups with a system_time; QPC: also with
 * qpc_at_init and the trace's qpc_frequency_hz; TSC: never.
 */
HVLOG_API const struct hvlog_trace_group *hvlog_trace_meta_anchor(const struct hvlog_trace_meta *meta,
                                                                  uint32_t basis);

/* ---- writing ---- */

struct hvlog_trace_writer;
struct hvlog_trace_reader;

/**
 * hvlog_trace_writer_create - start a trace in directory @dir. Refuses an
 * existing @dir (HVLOG_EXPORT_EXISTS) unless @flags has HVLOG_TRACE_FORCE;
 * even then only an empty directory or an hvlog trace (one holding
 * hvlog-trace.json and plain files only) is replaced. Everything is written
 * in a temporary directory beside @dir, renamed to @dir by commit; nothing
 * appears under @dir before that. With HVLOG_TRACE_COMPRESS every buffer
 * is appended as one zstd frame (docs/trace-format.md section 1), its
 * group file named hvlog_trace_group_file_compressed, and the metadata
 * says so (format version 3); readers read it transparently. A compressed
 * writer compresses on a worker thread of its own: append queues a copy
 * and returns, commit and abort wait for the queue to be written.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_writer_create(const char *dir, unsigned flags,
                                                            struct hvlog_trace_writer **out,
                                                            struct hvlog_export_error *err);

/**
 * hvlog_trace_writer_append - add one released buffer of log @type: @len
 * bytes (the whole buffer, 4096..2 MiB, a page multiple), written as they
 * are. Every buffer of a type must have the same length. A recording
 * (after _start) and a compressed writer write on a worker thread: append
 * queues a copy and returns (it waits only while the queue is full), and
 * the buffer reaches its file soon after, in append order; a failed write
 * is returned by a later call.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_writer_append(struct hvlog_trace_writer *w,
                                                            uint32_t type, const uint8_t *bytes,
                                                            size_t len,
                                                            struct hvlog_export_error *err);

/**
 * hvlog_trace_writer_append_record - add one record of log @type to its
 * records file: @len bytes, the 16-byte entry header whose Size is @len,
 * then the payload, written as they are. A recording (after _start) takes
 * only a type its metadata's records list names; the file is whole record
 * by record (a failed write is cut off, as a buffer's is).
 */
HVLOG_API enum hvlog_export_status hvlog_trace_writer_append_record(struct hvlog_trace_writer *w,
                                                                   uint32_t type,
                                                                   const uint8_t *bytes,
                                                                   size_t len,
                                                                   struct hvlog_export_error *err);

/**
 * hvlog_trace_writer_flush - wait until every buffer appended so far is in
 * its file (readers see it then). The worker's failure, if any, is
 * returned here and by every later call.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_writer_flush(struct hvlog_trace_writer *w,
                                                           struct hvlog_export_error *err);

/** hvlog_trace_writer_buffers - buffers appended so far for @type. */
HVLOG_API uint64_t hvlog_trace_writer_buffers(const struct hvlog_trace_writer *w, uint32_t type);

/**
 * hvlog_trace_writer_commit - write hvlog-trace.json from @meta, flush
 * every file to disk and rename the directory into place; frees @w in
 * every case (on failure nothing is left behind). @meta must list a group
 * for every type that has buffers; its file names are the writer's.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_writer_commit(struct hvlog_trace_writer *w,
                                                            const struct hvlog_trace_meta *meta,
                                                            struct hvlog_export_error *err);

/** hvlog_trace_writer_abort - remove everything written and free @w (may be
 * NULL). After hvlog_trace_writer_start the trace stays where it is, with
 * every whole buffer appended and no closing statistics (a recorder keeps
 * what it has): its lock is released, so readers see a recording that died. */
HVLOG_API void hvlog_trace_writer_abort(struct hvlog_trace_writer *w);

/**
 * hvlog_trace_writer_access - the permissions and owner of what @w creates,
 * called before anything is appended. @file_mode (0 = HVLOG_TRACE_FILE_MODE)
 * is applied exactly, whatever the umask; directories get an x bit where
 * it has r. @uid and @gid (-1: unchanged) give the files away, as perf does
 * for SUDO_UID/SUDO_GID. Applies to the directory at once.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_writer_access(struct hvlog_trace_writer *w,
                                                            unsigned file_mode, long long uid,
                                                            long long gid,
                                                            struct hvlog_export_error *err);

/**
 * hvlog_trace_writer_start - make the trace a recording that survives a
 * crash (docs/trace-format.md section 1): write @meta (closing statistics
 * left out) and an empty file per group, take an exclusive flock(2) on the
 * directory, and rename it into place now. Every later append goes to the
 * final name, whole, and commit only adds the closing statistics (it
 * rewrites hvlog-trace.json through a rename). The lock is held until
 * commit or abort; hvlog_trace_dir_state tells a reader about it. Types
 * appended later must have a group in @meta.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_writer_start(struct hvlog_trace_writer *w,
                                                           const struct hvlog_trace_meta *meta,
                                                           struct hvlog_export_error *err);

/**
 * hvlog_trace_sweep_stale - in the directory that holds @path, remove the
 * temporaries hvlog writers name .NAME.tmp-PID-N-HEX and .NAME.old-PID-N-HEX
 * (files, or directories of plain files) whose PID no longer exists: what a
 * writer killed before its rename leaves. A name whose PID still runs (or
 * belongs to another user), or that is not exactly that pattern, is left
 * alone. Inside each trace in that directory, also the closing metadata's
 * temporary a recorder killed while finishing leaves
 * (.hvlog-trace.json.tmp-PID-0-0); inside each rotated recording
 * (hvlog/trace/rotate.h), the same temporaries of its chunks and manifest.
 * Returns the number of names removed.
 */
HVLOG_API unsigned hvlog_trace_sweep_stale(const char *path);

/* What a trace directory's recorder is doing (hvlog info). */
enum hvlog_trace_state {
    HVLOG_TRACE_STATE_FINISHED,  /* closing statistics present (every version-1 trace) */
    HVLOG_TRACE_STATE_RECORDING, /* a live process holds the recorder's lock */
    HVLOG_TRACE_STATE_DIED,      /* no closing statistics and no lock: the recorder
                                  * was killed, or stopped on a write error */
    HVLOG_TRACE_STATE_RAW,       /* a raw buffer file: no recorder to speak of */
};

/**
 * hvlog_trace_dir_state - the state of the trace @r reads. Probes the lock
 * first, then reads hvlog-trace.json again, so a recording that finished
 * meanwhile is "finished", never "died".
 */
HVLOG_API enum hvlog_trace_state hvlog_trace_dir_state(const struct hvlog_trace_reader *r);
/** hvlog_trace_state_name - "finished", "being written", "died", "raw". */
HVLOG_API const char *hvlog_trace_state_name(enum hvlog_trace_state state);

/* ---- reading ---- */

struct hvlog_trace_reader;

/**
 * hvlog_trace_open - open @path: a trace directory, its hvlog-trace.json,
 * or a raw file (a bare concatenation of whole buffers as captured
 * elsewhere, of one or several log types: each type found becomes a group
 * whose convention, spec D9, and buffer size come from its first buffer;
 * everything else is unknown). Opening a raw file reads each of its
 * headers once. Foreign files are refused with HVLOG_EXPORT_NOT_TRACE.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_open(const char *path,
                                                   struct hvlog_trace_reader **out,
                                                   struct hvlog_export_error *err);
HVLOG_API void hvlog_trace_close(struct hvlog_trace_reader *r);

/** hvlog_trace_reader_meta - the metadata (synthesised for a raw file). */
HVLOG_API const struct hvlog_trace_meta *hvlog_trace_reader_meta(const struct hvlog_trace_reader *r);
/** hvlog_trace_reader_is_raw - true when @r reads a bare buffer file. */
HVLOG_API bool hvlog_trace_reader_is_raw(const struct hvlog_trace_reader *r);
/** hvlog_trace_reader_path - the path given to hvlog_trace_open. */
HVLOG_API const char *hvlog_trace_reader_path(const struct hvlog_trace_reader *r);

/* One buffer read back. bytes stay valid until the cursor's next call. */
struct hvlog_trace_buffer {
    uint64_t file_index;   /* position in the group file, from 0 (in a raw file of
                            * several types: among all its buffers) */
    uint64_t file_offset;  /* where it starts: file_index x buffer bytes in a group file;
                            * in a compressed one, where its zstd frame starts */
    const uint8_t *bytes;
    size_t len;
    struct hvlog_buffer_summary summary; /* valid when the buffer passed its checks */
};

struct hvlog_trace_cursor;

/**
 * hvlog_trace_cursor_open - a cursor over the buffers of group @type (for a
 * raw file: its one group). Holds one buffer's worth of memory.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_cursor_open(const struct hvlog_trace_reader *r,
                                                          uint32_t type,
                                                          struct hvlog_trace_cursor **out,
                                                          struct hvlog_export_error *err);
HVLOG_API void hvlog_trace_cursor_close(struct hvlog_trace_cursor *c);

/** hvlog_trace_cursor_count - the group's whole buffers in its file. */
HVLOG_API uint64_t hvlog_trace_cursor_count(const struct hvlog_trace_cursor *c);

/**
 * hvlog_trace_cursor_torn - bytes after the last whole buffer that the
 * cursor ignores: a recording that is being written or died may end in a
 * buffer whose append was cut short (docs/trace-format.md section 1); that
 * torn buffer is left out, not reported as TRUNCATED. 0 otherwise. Readers
 * print a note when it is not 0.
 */
HVLOG_API uint64_t hvlog_trace_cursor_torn(const struct hvlog_trace_cursor *c);

/**
 * hvlog_trace_records_scan - count the records of @r's records file of log
 * @type: each one's Size checked (16 .. what is left), never trusted beyond
 * the bytes present. *@count receives the whole records, *@torn (may be
 * NULL) the bytes after the last one (a recording cut short). Returns OK,
 * HVLOG_EXPORT_INVALID when the trace has no such file, HVLOG_EXPORT_CORRUPT
 * for a record whose Size cannot be (*@count then says how many came
 * before it), HVLOG_EXPORT_IO on a read error.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_records_scan(const struct hvlog_trace_reader *r,
                                                           uint32_t type, uint64_t *count,
                                                           uint64_t *torn,
                                                           struct hvlog_export_error *err);

/*
 * Reading a records file record by record (issue 14: the diaglog fd's
 * SystemDiagnostics records). The same checks as hvlog_trace_records_scan,
 * which is a loop over it; memory: one record (at most 64 KiB).
 */
struct hvlog_trace_records_cursor;

/** hvlog_trace_records_open - a cursor over @r's records file of log @type
 * (HVLOG_EXPORT_INVALID when the trace has none; a FIFO or other special
 * file is refused without blocking). */
HVLOG_API enum hvlog_export_status hvlog_trace_records_open(const struct hvlog_trace_reader *r,
                                                           uint32_t type,
                                                           struct hvlog_trace_records_cursor **out,
                                                           struct hvlog_export_error *err);

/**
 * hvlog_trace_records_next - the next record as an entry: log_type @type,
 * logical_processor 0 (a record names no LP), buffer_index 0, offset its
 * byte in the file, time_stamp in the file's time unit (metadata
 * time_unit: Unix seconds), payload valid until the next call. Returns OK;
 * HVLOG_EXPORT_END after the last whole record (a torn tail is left out:
 * hvlog_trace_records_torn); HVLOG_EXPORT_CORRUPT for a Size below 16 (the
 * cursor stops there); HVLOG_EXPORT_IO on a read error.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_records_next(struct hvlog_trace_records_cursor *c,
                                                           struct hvlog_entry *e,
                                                           struct hvlog_export_error *err);

/** hvlog_trace_records_torn - bytes after the last whole record (once END). */
HVLOG_API uint64_t hvlog_trace_records_torn(const struct hvlog_trace_records_cursor *c);

/** hvlog_trace_records_file_path - "TRACE/system.records", for messages. */
HVLOG_API const char *hvlog_trace_records_file_path(const struct hvlog_trace_records_cursor *c);

HVLOG_API void hvlog_trace_records_close(struct hvlog_trace_records_cursor *c);

/** hvlog_trace_cursor_file - the path of the file @c reads (for messages:
 * "TRACE/local.buffers", or the raw file), valid while @c is open. */
HVLOG_API const char *hvlog_trace_cursor_file(const struct hvlog_trace_cursor *c);

/**
 * hvlog_trace_cursor_next - read the next buffer, check it with the walker
 * (type, size, offsets, every entry; BufferIndex below MaximumBufferCount
 * when known) and, if it passes, hand each entry to @fn (may be NULL).
 * Returns HVLOG_EXPORT_OK; HVLOG_EXPORT_END after the last buffer;
 * HVLOG_EXPORT_CORRUPT for a buffer that failed (no entries delivered; the
 * cursor has moved past it, so the caller may report it and go on);
 * HVLOG_EXPORT_TRUNCATED once, at the end, when the file ends inside a
 * buffer; HVLOG_EXPORT_IO on a read error. @out is filled for OK and CORRUPT.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_cursor_next(struct hvlog_trace_cursor *c,
                                                          struct hvlog_trace_buffer *out,
                                                          hvlog_entry_fn fn, void *arg,
                                                          struct hvlog_export_error *err);

/** hvlog_trace_cursor_read - as _next, for the buffer at @file_index; the
 * sequential position is unchanged. */
HVLOG_API enum hvlog_export_status hvlog_trace_cursor_read(struct hvlog_trace_cursor *c,
                                                          uint64_t file_index,
                                                          struct hvlog_trace_buffer *out,
                                                          hvlog_entry_fn fn, void *arg,
                                                          struct hvlog_export_error *err);

/* ---- fill order ---- */

/* One valid buffer of a group, as the fill-order index sees it. */
struct hvlog_trace_slot {
    uint64_t file_index;
    uint64_t time_stamp;  /* header TimeStamp: when the buffer went InUse (100 ns) */
    uint32_t lp;          /* header LogicalProcessor */
    uint32_t events_lost; /* header EventsLost */
    uint32_t entries;
    uint32_t buffer_index;
};

/**
 * hvlog_trace_fill_order - index the buffers of group @type in the order
 * they were filled: by LP, then header TimeStamp, then position in the file
 * (a file holds them in release order, LPs interleaved). One pass over the
 * file from its start (the cursor's sequential position ends past the
 * last buffer); memory is sizeof(struct hvlog_trace_slot) = 32 bytes per
 * buffer, never the buffers themselves. Corrupt or truncated input fails with its status
 * unless @skip_corrupt, which reports each problem through @report (may be
 * NULL) and leaves the buffer out; @skipped (may be NULL) counts them.
 * *@out (free() it) and *@count receive the index.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_fill_order(struct hvlog_trace_cursor *c,
                                                         bool skip_corrupt,
                                                         hvlog_export_report_fn report,
                                                         void *report_arg,
                                                         struct hvlog_trace_slot **out,
                                                         uint64_t *count, uint64_t *skipped,
                                                         struct hvlog_export_error *err);

HVLOG_END_DECLS

#endif /* HVLOG_TRACE_TRACE_H */
