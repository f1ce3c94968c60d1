/* SPDX-License-Identifier: MIT */
/*
 * Bounded recordings (issue 17 item 5, docs/trace-format.md section 1.1):
 * a recording cut into chunks of at most a given size, of which the last N
 * are kept.
 *
 *     TRACE/rotation.json        the rotation's manifest (below)
 *     TRACE/chunk-000004/        a complete trace directory (format v2)
 *     TRACE/chunk-000005/        ... the one being written, locked
 *
 * Each chunk is an ordinary recording (hvlog_trace_writer_start/_commit):
 * readable on its own by every reader, whole at every moment. A writer
 * made rotating with hvlog_trace_writer_rotate keeps the writer's API: its
 * appends go to the current chunk, which is committed and the next one
 * started when the next buffer would take it past the size; with a keep
 * count, the oldest chunk is then rotated out. What a rotated-out chunk
 * held (buffers, entries and EventsLost per log type and LP) is added to
 * the manifest, rewritten atomically (a rename) *before* the chunk is
 * deleted: every buffer the recorder took is in a kept chunk or counted
 * rotated out, never both, never neither.
 *
 * Threads: as the writer's, one thread at a time per writer. A rotating
 * writer has a thread of its own (started by _start, joined by _commit or
 * _abort, taking no signal) that commits full chunks and rotates out the
 * oldest while appends go on into the next chunk; two full chunks at most
 * wait for it (then an append that starts a chunk waits), so at most
 * keep + 2 chunks exist at once. Its failure is the writer's sticky
 * failure, returned by the next append or at the latest by _commit.
 */
#ifndef HVLOG_TRACE_ROTATE_H
#define HVLOG_TRACE_ROTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlog/trace/common.h"
#include "hvlog/trace/trace.h"
#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

#define HVLOG_TRACE_ROTATION_FORMAT "hvlog-rotation"
#define HVLOG_TRACE_ROTATION_VERSION 1u
#define HVLOG_TRACE_ROTATION_FILE "rotation.json"
#define HVLOG_TRACE_CHUNK_PREFIX "chunk-" /* then the chunk's number, at least 6 digits */
/* LPs counted one by one in the manifest; a buffer naming a higher LP is
 * counted in its type's totals only. */
#define HVLOG_TRACE_ROTATION_MAX_LPS 65536u
/* Kept chunks read as one trace at most (hvlog_trace_open of the parent):
 * each group's cursor holds a descriptor and a buffer per chunk. */
#define HVLOG_TRACE_ROTATION_MAX_CHUNKS 256u

/**
 * hvlog_trace_writer_rotate - make @w, fresh from hvlog_trace_writer_create
 * (and _access), a rotating recording: its directory becomes the parent of
 * chunks of at most @max_bytes each (data files plus the chunk's closing
 * metadata, counted at its largest), of which the last @keep are kept
 * (0: all). Every chunk's writer is created with @w's create flags (less
 * HVLOG_TRACE_FORCE, which applies to the parent only), so a flag that
 * changes how files are written applies to every chunk. Then only
 * _start, _append, _buffers, _commit and _abort may follow; _start refuses
 * (HVLOG_EXPORT_INVALID, nothing left behind) a @max_bytes that cannot
 * hold the largest buffer of its metadata's groups plus a chunk's
 * metadata, and a metadata with a records file (records are not rotated).
 * _commit writes the manifest's closing part from its metadata: the
 * client's statistics and the host section's per-LP counters, which
 * describe the whole recording; each chunk's own closing statistics
 * count its own buffers, entries and EventsLost.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_writer_rotate(struct hvlog_trace_writer *w,
                                                            uint64_t max_bytes, uint32_t keep,
                                                            struct hvlog_export_error *err);

/* Buffers, entries and EventsLost of one log type, or of one LP of it. */
struct hvlog_trace_rotation_counts {
    uint64_t buffers;
    uint64_t entries;
    uint64_t events_lost;
};

/* What rotated-out chunks held, per LP of one log type. */
struct hvlog_trace_rotation_lp {
    uint32_t lp;
    struct hvlog_trace_rotation_counts counts;
};

struct hvlog_trace_rotation_type {
    uint32_t type;                           /* HV_EVENTLOG_TYPE */
    struct hvlog_trace_rotation_counts total; /* every rotated-out buffer of the type */
    uint32_t lp_count;
    struct hvlog_trace_rotation_lp *lps;     /* ascending LP; those with buffers */
};

/* A rotated recording's manifest, and the chunks found beside it. */
struct hvlog_trace_rotation {
    uint64_t max_bytes;      /* per chunk */
    uint32_t keep;           /* 0 = every chunk kept */
    uint64_t first_chunk;    /* chunks 0 .. first_chunk - 1 were rotated out */
    uint32_t type_count;     /* rotated out, per log type that had any */
    struct hvlog_trace_rotation_type types[HVLOG_TRACE_MAX_GROUPS];
    bool closed;             /* the recording finished: stats and lps below are set */
    struct {                 /* what the recording client saw, the whole recording */
        uint64_t messages, buffers, longest_chain, entries, events_lost, corrupt;
    } stats;
    uint32_t lp_count;       /* the host section's truths, the whole recording */
    struct hvlog_trace_lp *lps;
    uint64_t chunk_count;    /* kept chunks found in the directory, ascending */
    uint64_t *chunks;        /* their numbers (each >= first_chunk) */
};

/** hvlog_trace_is_rotated - true when @path is a directory holding
 * rotation.json (a rotated recording's parent). */
HVLOG_API bool hvlog_trace_is_rotated(const char *path);

/** hvlog_trace_chunk_name - "chunk-NNNNNN" of chunk @index into @buf
 * (@size bytes, 32 is enough). */
HVLOG_API void hvlog_trace_chunk_name(uint64_t index, char *buf, size_t size);

/**
 * hvlog_trace_rotation_read - read @dir's rotation.json (checked as
 * strictly as hvlog-trace.json: types, ranges, at most 16 MiB) and list its
 * kept chunks (directories named chunk-N with N >= first_chunk; one the
 * manifest counts as rotated out, left by a recorder killed between the
 * manifest and the deletion, is not listed). @out must be released with
 * hvlog_trace_rotation_release whatever the result.
 */
HVLOG_API enum hvlog_export_status hvlog_trace_rotation_read(const char *dir,
                                                            struct hvlog_trace_rotation *out,
                                                            struct hvlog_export_error *err);
HVLOG_API void hvlog_trace_rotation_release(struct hvlog_trace_rotation *rot);

/*
 * Reading a rotated recording as one trace (docs/trace-format.md section
 * 1.1). hvlog_trace_open of the parent directory reads its manifest and
 * opens its kept chunks, in order, as one reader: one host's trace whose
 * group files are the chunks' one after the other (file indexes run on
 * from chunk to chunk). Every reader of a trace reads it unchanged. Its
 * metadata is the chunks' opening part (every chunk copies the
 * recording's) with their closing counts summed, closed when every chunk
 * is; with a closed manifest, messages, longest_chain and the host's
 * per-LP truths (lps) are the manifest's, the whole recording's. A kept
 * chunk that cannot be opened, or whose groups were initialized otherwise
 * than the first's, fails the open with one line.
 */

/** hvlog_trace_reader_chunk - true when @r reads one chunk of a rotated
 * recording (a directory named as the writer names chunks, in a directory
 * holding rotation.json), with its number in *@index (may be NULL). */
HVLOG_API bool hvlog_trace_reader_chunk(const struct hvlog_trace_reader *r, uint64_t *index);

/** hvlog_trace_same_recording - true when @a and @b read chunks of one
 * rotated recording: the same parent directory and the same Initialize of
 * every group (inputs and anchors), which every chunk copies from the
 * recording's opening metadata and two recordings never share. */
HVLOG_API bool hvlog_trace_same_recording(const struct hvlog_trace_reader *a,
                                          const struct hvlog_trace_reader *b);

/**
 * hvlog_trace_join - one reader of the @count chunk readers @readers, all
 * of one recording (hvlog_trace_same_recording), in the recording's order
 * whatever theirs: as hvlog_trace_open of the parent reads its kept chunks,
 * without the manifest's counts. Its path names what it reads
 * ("TRACE/chunk-000002..chunk-000004"). The readers are taken in every
 * case (closed on failure); the same chunk twice is refused
 * (HVLOG_EXPORT_INVALID).
 */
HVLOG_API enum hvlog_export_status hvlog_trace_join(struct hvlog_trace_reader *const *readers,
                                                   uint32_t count, struct hvlog_trace_reader **out,
                                                   struct hvlog_export_error *err);

/** hvlog_trace_reader_rotation - the manifest of the rotated recording @r
 * was opened from (its lps moved into the reader's metadata; its chunks
 * the kept ones @r reads), or NULL. */
HVLOG_API const struct hvlog_trace_rotation *
hvlog_trace_reader_rotation(const struct hvlog_trace_reader *r);

HVLOG_END_DECLS

#endif /* HVLOG_TRACE_ROTATE_H */
