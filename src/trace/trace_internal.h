/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the trace layer's files (and the export layer's, above
 * it): the error report, file I/O
 * that never stops half-way silently, and staged outputs (written under a
 * temporary name beside the target, renamed into place when complete).
 * Prototypes and small types only.
 */
#ifndef HVLOG_TRACE_INTERNAL_H
#define HVLOG_TRACE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/trace/common.h"
#include "hvlog/trace/walk.h" /* hvlog_entry_fn */

/**
 * hvlog__export_fail - fill @err (may be NULL) with @status and the formatted
 * message; returns @status, so `return hvlog__export_fail(err, ...)` reads well.
 */
enum hvlog_export_status hvlog__export_fail(struct hvlog_export_error *err,
                                            enum hvlog_export_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** hvlog__export_report - format one line and hand it to @report (NULL: dropped). */
void hvlog__export_report(hvlog_export_report_fn report, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * hvlog__export_utf8_len - the length (1..4) of the well-formed UTF-8 sequence at
 * @s (at most @n bytes), or 0 when the bytes are not one: no overlong
 * forms, no surrogates, nothing above U+10FFFF (RFC 3629).
 */
size_t hvlog__export_utf8_len(const unsigned char *s, size_t n);

/** hvlog__export_write_all - write every byte or return an errno value (0 on success). */
int hvlog__export_write_all(int fd, const void *bytes, size_t len);
/** hvlog__export_pread_all - read up to @len bytes at @offset; *@got is how many (short only at EOF). */
int hvlog__export_pread_all(int fd, void *bytes, size_t len, uint64_t offset, size_t *got);

struct stat;
/**
 * hvlog__export_open_regular - open @path for reading, never blocking (a FIFO or
 * a device is not waited on: O_NONBLOCK), and only if it is a regular
 * file (checked with fstat on the descriptor). Returns the descriptor
 * (blocking again), -1 with errno set when open or fstat failed, or -2
 * when @path is not a regular file. *@st receives its fstat.
 */
int hvlog__export_open_regular(const char *path, struct stat *st);

/** hvlog__export_strdup - malloc'd copy of @s, or NULL. */
char *hvlog__export_strdup(const char *s);
/** hvlog__export_join - malloc'd "@dir/@name", or NULL. */
char *hvlog__export_join(const char *dir, const char *name);

/*
 * A staged output directory: files are written into @tmp (a fresh
 * directory beside @final named .<base>.tmp-*), and commit renames @tmp to
 * @final. With @force an existing @final is replaced, but only when it is
 * empty or holds @marker (a file saying "this is one of ours") and plain
 * files only: an unrelated directory is never removed.
 */
struct export_staged_dir {
    char *final;
    char *tmp;
    const char *marker; /* a static string */
    bool force;
};

enum hvlog_export_status hvlog__export_staged_dir_begin(struct export_staged_dir *s, const char *path,
                                                        bool force, const char *marker,
                                                        struct hvlog_export_error *err);
enum hvlog_export_status hvlog__export_staged_dir_commit(struct export_staged_dir *s,
                                                         struct hvlog_export_error *err);
void hvlog__export_staged_dir_abort(struct export_staged_dir *s);
/** hvlog__export_remove_dir - remove the files directly inside @path, then @path
 * (a staged directory holds plain files only). */
void hvlog__export_remove_dir(const char *path);

/* A staged output file: written as @tmp, renamed (force) or linked (no
 * force: never replaces a file that appeared meanwhile) to @final. */
struct export_staged_file {
    char *final;
    char *tmp;
    int fd;
};

enum hvlog_export_status hvlog__export_staged_file_begin(struct export_staged_file *s, const char *path,
                                                         bool force, struct hvlog_export_error *err);
enum hvlog_export_status hvlog__export_staged_file_commit(struct export_staged_file *s, bool force,
                                                          struct hvlog_export_error *err);
void hvlog__export_staged_file_abort(struct export_staged_file *s);

/**
 * hvlog__export_create_file - create @dir/@name (O_EXCL) for writing; returns the
 * fd or -1 with @err filled.
 */
int hvlog__export_create_file(const char *dir, const char *name, struct hvlog_export_error *err);
/**
 * hvlog__export_start_writeback - ask the kernel to start writing @len bytes of
 * @fd from @offset to disk now, without waiting (Linux sync_file_range;
 * elsewhere nothing). A long output calls it as it goes, so the fsync of
 * hvlog__export_close_synced finds little left to write: durability unchanged,
 * the disk busy while the CPU converts (issue 6 "Speed").
 */
void hvlog__export_start_writeback(int fd, uint64_t offset, uint64_t len);
/** hvlog__export_close_synced - fsync and close @fd; errno value or 0. */
int hvlog__export_close_synced(int fd);

/* ---- reading JSON (json_read.c): jansson, strict, with u64 integers ---- */

struct json_t; /* jansson's json_t; only the files that read JSON include <jansson.h> */

#define EXPORT_JSON_MAX_DEPTH 32u /* containers nested below the top value */
/* At most this many objects and arrays, and values in all, in a document
 * (json_read.c, issue 13 A2): a metadata of 65,536 LPs with a dozen
 * members each fits; jansson never builds more. */
#define EXPORT_JSON_MAX_CONTAINERS (4u << 16)
#define EXPORT_JSON_MAX_VALUES (16u << 16)

/**
 * hvlog__export_json_read - parse @len bytes of @text (untrusted) into a jansson
 * tree: RFC 8259 strictly (valid UTF-8, no NUL in strings, no duplicate
 * object keys, nothing after the value), any top-level value, nesting at
 * most EXPORT_JSON_MAX_DEPTH deep, integers up to UINT64_MAX (read them
 * with hvlog__export_json_u64, never json_integer_value).
 * More than EXPORT_JSON_MAX_CONTAINERS containers or EXPORT_JSON_MAX_VALUES
 * values are refused before any is built.
 * Returns HVLOG_EXPORT_OK with *@out set (json_decref() it), or
 * HVLOG_EXPORT_INVALID or HVLOG_EXPORT_NOMEM with *@out NULL and @why
 * holding one line ("line 3, column 7: ':' expected near '1'").
 * Context: any thread; jansson keeps no state between calls.
 */
enum hvlog_export_status hvlog__export_json_read(const char *text, size_t len, struct json_t **out,
                                                 char *why, size_t why_size);

/**
 * hvlog__export_json_u64 - the value of @value, from hvlog__export_json_read, when it is
 * a JSON integer (0..UINT64_MAX as written: no sign, fraction or exponent).
 * False for anything else, NULL included.
 */
bool hvlog__export_json_u64(const struct json_t *value, uint64_t *out);

/* ---- the trace format (trace_meta.c) ---- */


struct hvlog_trace_meta;

/* A JSON writer's sink into a file (hvlog_json_writer_create with
 * hvlog__trace_fd_sink_write and one of these): the first write error's
 * errno is kept, so a failure can say why. trace_meta.c, rotate.c. */
struct hvlog__trace_fd_sink {
    int fd;
    int error;
};
int hvlog__trace_fd_sink_write(void *arg, const char *bytes, size_t len);

struct hvlog_json_writer;
struct hvlog_trace_lp;
struct hvlog_trace_meta;
/* The members of the closing statistics of @meta (HVLOG_TRACE_CLOSING_COUNTERS),
 * inside an object the caller opened: hvlog-trace.json and rotation.json. */
void hvlog__trace_json_closing_counters(struct hvlog_json_writer *w, const struct hvlog_trace_meta *meta);
/* "lp_counts": the host section's per-LP rows (HVLOG_TRACE_LP_COUNTERS). */
void hvlog__trace_json_lp_counts(struct hvlog_json_writer *w, const struct hvlog_trace_lp *lps,
                                 uint32_t count);

/** hvlog__export_meta_write - hvlog-trace.json for @meta, written to @fd. */
enum hvlog_export_status hvlog__export_meta_write(int fd, const struct hvlog_trace_meta *meta,
                                                  struct hvlog_export_error *err);

/* ---- the exporters' header-only index (trace_reader.c) ---- */

struct hvlog_trace_cursor;
struct hvlog_trace_slot;
struct hvlog_trace_buffer;

/**
 * hvlog__export_trace_header_order - hvlog_trace_fill_order (hvlog/trace/trace.h)
 * from the buffers' headers alone (trace_reader.c): 72 bytes read per
 * buffer, not the buffer; the header checked (BufferSize, NextBufferOffset,
 * Type, BufferIndex below MaximumBufferCount when known), the entries not.
 * A buffer whose header passes is indexed with entries = 0 even if its
 * entries are bad: hvlog_trace_cursor_read finds that when it reads the
 * buffer. Corrupt headers and a truncated tail fail, or with @skip_corrupt
 * are reported and counted in *@skipped, as hvlog_trace_fill_order does.
 */
enum hvlog_export_status hvlog__export_trace_header_order(struct hvlog_trace_cursor *c, bool skip_corrupt,
                                                          hvlog_export_report_fn report, void *report_arg,
                                                          struct hvlog_trace_slot **out, uint64_t *count,
                                                          uint64_t *skipped, struct hvlog_export_error *err);

/**
 * hvlog__export_trace_read_slot - hvlog_trace_cursor_read of the buffer the index
 * entry @slot names (trace_reader.c), which must also still have the
 * header the index saw (LP, TimeStamp, BufferIndex, EventsLost), else it
 * is HVLOG_EXPORT_CORRUPT: the file changed between the passes. Checked
 * before any entry reaches @fn.
 */
enum hvlog_export_status hvlog__export_trace_read_slot(struct hvlog_trace_cursor *c,
                                                       const struct hvlog_trace_slot *slot,
                                                       struct hvlog_trace_buffer *out, hvlog_entry_fn fn,
                                                       void *arg, struct hvlog_export_error *err);

/* For the merge (merge.c), which reads a group file through windows of
 * its own with pread: the cursor's descriptor, and where buffer
 * @file_index of its group starts (false: no such buffer). */
int hvlog__export_trace_cursor_fd(const struct hvlog_trace_cursor *c);
/* A rotated recording's cursor reads its chunks' files through a cursor
 * each: the one holding buffer @file_index, and the buffer's index in it
 * (*@local); @c itself for any other cursor; NULL when no part holds it. */
struct hvlog_trace_cursor *hvlog__trace_cursor_part(struct hvlog_trace_cursor *c, uint64_t file_index,
                                                    uint64_t *local);
bool hvlog__export_trace_buffer_offset(const struct hvlog_trace_cursor *c, uint64_t file_index,
                                       uint64_t *offset);

/**
 * hvlog__export_trace_cursor_compressed - true when @c's group file holds zstd
 * frames (zframe.c): its bytes are not at buffer offsets, so the merge
 * reads a buffer whole with hvlog__export_trace_buffer_load, never by pread.
 */
bool hvlog__export_trace_cursor_compressed(const struct hvlog_trace_cursor *c);
/**
 * hvlog__export_trace_buffer_load - buffer @file_index of @c's group, whole,
 * into @dst (the group's buffer bytes long): read, or decompressed and
 * checked against the group's size. 0, or an errno value with @why
 * (may be NULL) saying what is wrong with the buffer.
 */
int hvlog__export_trace_buffer_load(struct hvlog_trace_cursor *c, uint64_t file_index, uint8_t *dst,
                             char *why, size_t why_size);

/* ---- compressed group files (zframe.c, docs/trace-format.md section 1) ---- */

/* A unit's prefix: skippable-frame magic, its size (76), the frame's
 * length, then at EXPORT_ZFRAME_HEADER_AT a copy of the buffer's header. */
#define EXPORT_ZFRAME_PREFIX 84u
#define EXPORT_ZFRAME_HEADER_AT 12u
/* Level of HVLOG_TRACE_COMPRESS: zstd's fastest positive level, so that
 * one worker thread (zworker.c) keeps up with a recording flat out
 * (bench/TRACE-RESULTS.md). */
#define EXPORT_ZFRAME_LEVEL 1

/** hvlog__export_zframe_bound - the most bytes one buffer of @buffer_bytes takes. */
size_t hvlog__export_zframe_bound(uint32_t buffer_bytes);

/* The writer's side: one compression context and its output. */
struct export_zenc;
struct export_zenc *hvlog__export_zenc_create(int level);
void hvlog__export_zenc_free(struct export_zenc *z);
/**
 * hvlog__export_zenc_unit - @len bytes of buffer as one unit (prefix and frame)
 * in *@unit, *@unit_len bytes, valid until the next call. 0 or an errno.
 */
int hvlog__export_zenc_unit(struct export_zenc *z, const uint8_t *bytes, size_t len, const uint8_t **unit,
                     size_t *unit_len);

/*
 * The compression worker (zworker.c): buffers copied into a bounded queue
 * and compressed on a thread of its own, each unit handed to @sink in the
 * order pushed (the file's buffer order is release order). The sink runs
 * on the worker: it writes @unit whole or fills @err.
 */
typedef void (*trace_zworker_sink)(void *ctx, uint32_t type, bool started, const uint8_t *unit,
                                   size_t unit_len, struct hvlog_export_error *err);
struct trace_zworker;
/** hvlog__trace_zworker_create - a started worker using @zenc (still the caller's
 * to free, after destroy). NULL on failure. */
struct trace_zworker *hvlog__trace_zworker_create(struct export_zenc *zenc, trace_zworker_sink sink,
                                           void *ctx);
/** hvlog__trace_zworker_push - queue a copy of @bytes (waits while the queue is
 * full). Not OK: nothing queued; the worker's first failure once it has one. */
enum hvlog_export_status hvlog__trace_zworker_push(struct trace_zworker *z, uint32_t type, bool started,
                                            const uint8_t *bytes, size_t len,
                                            struct hvlog_export_error *err);
/** hvlog__trace_zworker_drain - wait until everything pushed is written; OK or
 * the worker's first failure (in @err). */
enum hvlog_export_status hvlog__trace_zworker_drain(struct trace_zworker *z,
                                             struct hvlog_export_error *err);
/** hvlog__trace_zworker_destroy - stop (writing what is queued, or with
 * !@write_queued dropping it), join and free; @z may be NULL. */
void hvlog__trace_zworker_destroy(struct trace_zworker *z, bool write_queued);

/* Where one buffer's frame is in a compressed group file. */
struct export_zframe {
    uint64_t offset; /* of the zstd frame, after its prefix (whose last 72 bytes
                      * are the header's copy) */
    uint32_t size;   /* the frame's bytes, at most ZSTD_compressBound(buffer) */
};

/**
 * hvlog__export_zframe_scan - step through the prefixes of @fd's @file_size bytes
 * and list the frames found whole (*@table, free() it; *@count). *@end is
 * where the last whole unit ends: bytes after it are a torn unit, or, with
 * *@damaged, bytes that no prefix describes (@why says where). Returns OK,
 * or IO / NOMEM with @why.
 */
enum hvlog_export_status hvlog__export_zframe_scan(int fd, uint64_t file_size, uint32_t buffer_bytes,
                                            struct export_zframe **table, uint64_t *count,
                                            uint64_t *end, bool *damaged, char *why,
                                            size_t why_size);

/* The reader's side: one decompression context. */
struct export_zdec;
struct export_zdec *hvlog__export_zdec_create(void);
void hvlog__export_zdec_free(struct export_zdec *z);
/**
 * hvlog__export_zdec_buffer - decompress the @size-byte @frame into @dst, which
 * holds @buffer_bytes: true only when the frame says exactly that size,
 * is @size bytes long, and decompresses (checksum included) to it. Else
 * false with @why.
 */
bool hvlog__export_zdec_buffer(struct export_zdec *z, const uint8_t *frame, size_t size, uint8_t *dst,
                        uint32_t buffer_bytes, char *why, size_t why_size);
/* ---- rotating recordings (rotate.c, hvlog/trace/rotate.h) ---- */

struct trace_rotation;
struct hvlog_trace_writer;

/* A create flag of the trace layer's own (never in a public header): no
 * stale-temporary sweep beside the new trace (rotate.c's chunks). */
#define TRACE_WRITER_NO_SWEEP 0x80000000u

/* The rotation of a writer at @path created with @flags; see
 * hvlog_trace_writer_rotate. */
enum hvlog_export_status hvlog__trace_rotation_create(const char *path, unsigned flags, uint64_t max_bytes,
                                               uint32_t keep, struct trace_rotation **out,
                                               struct hvlog_export_error *err);
/**
 * hvlog__trace_rotation_start - check the size against @meta, write the manifest
 * into @parent's temporary directory, commit @parent (the rotated trace
 * appears under its name) and start chunk 0, its files @file_mode owned by
 * @uid/@gid (-1: unchanged). On failure nothing is left under the name.
 */
enum hvlog_export_status hvlog__trace_rotation_start(struct trace_rotation *r,
                                              struct export_staged_dir *parent, unsigned file_mode,
                                              long long uid, long long gid,
                                              const struct hvlog_trace_meta *meta,
                                              struct hvlog_export_error *err);
enum hvlog_export_status hvlog__trace_rotation_append(struct trace_rotation *r, uint32_t type,
                                               const uint8_t *bytes, size_t len,
                                               struct hvlog_export_error *err);
uint64_t hvlog__trace_rotation_buffers(const struct trace_rotation *r, uint32_t type);
/* hvlog_trace_writer_flush of the chunk being written. */
enum hvlog_export_status hvlog__trace_rotation_flush(struct trace_rotation *r,
                                              struct hvlog_export_error *err);
/* Commit the last chunk, then the manifest's closing part from @meta. */
enum hvlog_export_status hvlog__trace_rotation_commit(struct trace_rotation *r,
                                               const struct hvlog_trace_meta *meta,
                                               struct hvlog_export_error *err);
/* Free @r (may be NULL); a started chunk stays, whole (writer abort). */
void hvlog__trace_rotation_destroy(struct trace_rotation *r);
struct hvlog_trace_reader;
struct hvlog_trace_rotation;
/* hvlog_trace_open of a rotated recording's parent directory @path: its
 * manifest, then its kept chunks joined into one reader (hvlog__trace_reader_join). */
enum hvlog_export_status hvlog__trace_rotation_open(const char *path, struct hvlog_trace_reader **out,
                                                    struct hvlog_export_error *err);
/* One chunk of a rotated recording read as one trace: its reader and number. */
struct trace_part {
    struct hvlog_trace_reader *reader;
    uint64_t chunk;
};
/*
 * One reader of the @count chunks @parts (in the recording's order;
 * malloc'd and taken, as @rotation's contents when not NULL, in every
 * case), named @path (NULL: out of memory, the join fails and frees), its
 * directory @dir (the recording's, whose lock says whether it is being
 * written): its metadata the chunks' (trace_reader.c, join_meta), with the
 * manifest's whole-recording counts when @rotation is given and closed.
 * Chunks whose groups were not initialized alike are refused
 * (HVLOG_EXPORT_NOT_TRACE).
 */
enum hvlog_export_status hvlog__trace_reader_join(const char *path, const char *dir,
                                                  struct trace_part *parts, uint32_t count,
                                                  struct hvlog_trace_rotation *rotation,
                                                  struct hvlog_trace_reader **out,
                                                  struct hvlog_export_error *err);

#endif /* HVLOG_TRACE_INTERNAL_H */
