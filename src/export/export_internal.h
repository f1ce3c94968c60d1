/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the export layer's files: the error report, file I/O
 * that never stops half-way silently, and staged outputs (written under a
 * temporary name beside the target, renamed into place when complete).
 * Prototypes and small types only.
 */
#ifndef HVLOG_EXPORT_INTERNAL_H
#define HVLOG_EXPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/client/walk.h" /* hvlog_entry_fn */
#include "hvlog/export/common.h"

/* FILETIME (100 ns since 1601-01-01) of the Unix epoch, 1970-01-01 UTC. */
#define EXPORT_FILETIME_UNIX_EPOCH 116444736000000000ull

/**
 * export_fail - fill @err (may be NULL) with @status and the formatted
 * message; returns @status, so `return export_fail(err, ...)` reads well.
 */
enum hvlog_export_status export_fail(struct hvlog_export_error *err,
                                     enum hvlog_export_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** export_report - format one line and hand it to @report (NULL: dropped). */
void export_report(hvlog_export_report_fn report, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * export_utf8_len - the length (1..4) of the well-formed UTF-8 sequence at
 * @s (at most @n bytes), or 0 when the bytes are not one: no overlong
 * forms, no surrogates, nothing above U+10FFFF (RFC 3629).
 */
size_t export_utf8_len(const unsigned char *s, size_t n);

/** export_write_all - write every byte or return an errno value (0 on success). */
int export_write_all(int fd, const void *bytes, size_t len);
/** export_pread_all - read up to @len bytes at @offset; *@got is how many (short only at EOF). */
int export_pread_all(int fd, void *bytes, size_t len, uint64_t offset, size_t *got);

/** export_strdup - malloc'd copy of @s, or NULL. */
char *export_strdup(const char *s);
/** export_join - malloc'd "@dir/@name", or NULL. */
char *export_join(const char *dir, const char *name);

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

enum hvlog_export_status export_staged_dir_begin(struct export_staged_dir *s, const char *path,
                                                 bool force, const char *marker,
                                                 struct hvlog_export_error *err);
enum hvlog_export_status export_staged_dir_commit(struct export_staged_dir *s,
                                                  struct hvlog_export_error *err);
void export_staged_dir_abort(struct export_staged_dir *s);

/* A staged output file: written as @tmp, renamed (force) or linked (no
 * force: never replaces a file that appeared meanwhile) to @final. */
struct export_staged_file {
    char *final;
    char *tmp;
    int fd;
};

enum hvlog_export_status export_staged_file_begin(struct export_staged_file *s, const char *path,
                                                  bool force, struct hvlog_export_error *err);
enum hvlog_export_status export_staged_file_commit(struct export_staged_file *s, bool force,
                                                   struct hvlog_export_error *err);
void export_staged_file_abort(struct export_staged_file *s);

/**
 * export_create_file - create @dir/@name (O_EXCL) for writing; returns the
 * fd or -1 with @err filled.
 */
int export_create_file(const char *dir, const char *name, struct hvlog_export_error *err);
/**
 * export_start_writeback - ask the kernel to start writing @len bytes of
 * @fd from @offset to disk now, without waiting (Linux sync_file_range;
 * elsewhere nothing). A long output calls it as it goes, so the fsync of
 * export_close_synced finds little left to write: durability unchanged,
 * the disk busy while the CPU converts (issue 6 "Speed").
 */
void export_start_writeback(int fd, uint64_t offset, uint64_t len);
/** export_close_synced - fsync and close @fd; errno value or 0. */
int export_close_synced(int fd);

/* ---- reading JSON (json_read.c): jansson, strict, with u64 integers ---- */

struct json_t; /* jansson's json_t; only the files that read JSON include <jansson.h> */

#define EXPORT_JSON_MAX_DEPTH 32u /* containers nested below the top value */

/**
 * export_json_read - parse @len bytes of @text (untrusted) into a jansson
 * tree: RFC 8259 strictly (valid UTF-8, no NUL in strings, no duplicate
 * object keys, nothing after the value), any top-level value, nesting at
 * most EXPORT_JSON_MAX_DEPTH deep, integers up to UINT64_MAX (read them
 * with export_json_u64, never json_integer_value).
 * Returns HVLOG_EXPORT_OK with *@out set (json_decref() it), or
 * HVLOG_EXPORT_INVALID or HVLOG_EXPORT_NOMEM with *@out NULL and @why
 * holding one line ("line 3, column 7: ':' expected near '1'").
 * Context: any thread; jansson keeps no state between calls.
 */
enum hvlog_export_status export_json_read(const char *text, size_t len, struct json_t **out,
                                          char *why, size_t why_size);

/**
 * export_json_u64 - the value of @value, from export_json_read, when it is
 * a JSON integer (0..UINT64_MAX as written: no sign, fraction or exponent).
 * False for anything else, NULL included.
 */
bool export_json_u64(const struct json_t *value, uint64_t *out);

/* ---- the trace format (trace_meta.c) ---- */

struct hvlog_trace_meta;

/** export_meta_write - hvlog-trace.json for @meta, written to @fd. */
enum hvlog_export_status export_meta_write(int fd, const struct hvlog_trace_meta *meta,
                                           struct hvlog_export_error *err);

/* ---- what the exporters share (plan.c) ---- */

struct hvlog_trace_reader;
struct hvlog_trace_group;
struct hvlog_trace_cursor;
struct hvlog_trace_slot;
struct hvlog_trace_buffer;
struct hvlog_entry_type_info;

#define EXPORT_MAX_PARAMS 16u
#define EXPORT_PARAM_NAME_MAX 32u

/* One catalogue row of a log type, its parameter names split out. */
struct export_class {
    const struct hvlog_entry_type_info *info;
    uint32_t param_count;
    char params[EXPORT_MAX_PARAMS][EXPORT_PARAM_NAME_MAX];
};

/* The §4.8 catalogue of one log type, indexed by entry type in O(1): the
 * exporters look a class up for every entry. */
struct export_catalog {
    uint8_t slot[65536]; /* entry type -> 1 + index into classes; 0 = not catalogued */
    uint32_t count;
    struct export_class classes[255];
};

void export_catalog_init(struct export_catalog *cat, uint32_t log_type);

static inline const struct export_class *export_catalog_find(const struct export_catalog *cat,
                                                             uint16_t entry_type)
{
    return cat->slot[entry_type] ? &cat->classes[cat->slot[entry_type] - 1] : NULL;
}

/**
 * export_trace_header_order - hvlog_trace_fill_order (hvlog/export/trace.h)
 * from the buffers' headers alone (trace_reader.c): 72 bytes read per
 * buffer, not the buffer; the header checked (BufferSize, NextBufferOffset,
 * Type, BufferIndex below MaximumBufferCount when known), the entries not.
 * A buffer whose header passes is indexed with entries = 0 even if its
 * entries are bad: hvlog_trace_cursor_read finds that when it reads the
 * buffer. Corrupt headers and a truncated tail fail, or with @skip_corrupt
 * are reported and counted in *@skipped, as hvlog_trace_fill_order does.
 */
enum hvlog_export_status export_trace_header_order(struct hvlog_trace_cursor *c, bool skip_corrupt,
                                                   hvlog_export_report_fn report, void *report_arg,
                                                   struct hvlog_trace_slot **out, uint64_t *count,
                                                   uint64_t *skipped, struct hvlog_export_error *err);

/**
 * export_trace_read_slot - hvlog_trace_cursor_read of the buffer the index
 * entry @slot names (trace_reader.c), which must also still have the
 * header the index saw (LP, TimeStamp, BufferIndex, EventsLost), else it
 * is HVLOG_EXPORT_CORRUPT: the file changed between the passes. Checked
 * before any entry reaches @fn.
 */
enum hvlog_export_status export_trace_read_slot(struct hvlog_trace_cursor *c,
                                                const struct hvlog_trace_slot *slot,
                                                struct hvlog_trace_buffer *out, hvlog_entry_fn fn,
                                                void *arg, struct hvlog_export_error *err);

/* A group ready to export: its cursor and its buffers in fill order (every
 * buffer whose header passed; the entries are checked as each is read). */
struct export_group_plan {
    const struct hvlog_trace_group *group;
    struct hvlog_trace_cursor *cursor;
    struct hvlog_trace_slot *slots;
    uint64_t slot_count;
    const struct hvlog_export_options *options; /* the export's: skip_corrupt, report */
};

/**
 * export_plan - the groups of @r that @options select (all when types is
 * 0; asking for a type the trace lacks is an error), each opened and
 * indexed in fill order from the buffer headers (export_trace_header_order).
 * Buffers whose header is corrupt fail unless skip_corrupt (then reported
 * and counted in summary->corrupt_skipped); a buffer whose entries are bad
 * is found by export_read_slot. @options must outlive the plans. Returns
 * the number of plans in *@count; export_plan_free() in every case.
 */
enum hvlog_export_status export_plan(const struct hvlog_trace_reader *r,
                                     const struct hvlog_export_options *options,
                                     struct export_group_plan plans[HVLOG_TYPE_COUNT], uint32_t *count,
                                     struct hvlog_export_summary *summary,
                                     struct hvlog_export_error *err);
void export_plan_free(struct export_group_plan plans[HVLOG_TYPE_COUNT], uint32_t count);

/**
 * export_read_slot - the write pass's read of buffer @slot of @plan: read
 * whole and checked (every entry: the index read its header only;
 * export_trace_read_slot), its entries handed to @fn (none unless the
 * whole buffer passed). A buffer that fails is HVLOG_EXPORT_CORRUPT (or
 * TRUNCATED) with the reader's one-line message in @err; with
 * the plan's skip_corrupt it is instead reported through options->report,
 * counted in @summary->corrupt_skipped, and *@skipped is set: the caller
 * leaves it out as if the index had never held it (no packet, no
 * sequence number, no EventsLost). Returns HVLOG_EXPORT_OK with @b filled
 * when the buffer was read (or skipped), else the failure.
 */
enum hvlog_export_status export_read_slot(struct export_group_plan *plan,
                                          const struct hvlog_trace_slot *slot,
                                          struct hvlog_trace_buffer *b, hvlog_entry_fn fn, void *arg,
                                          bool *skipped, struct hvlog_export_summary *summary,
                                          struct hvlog_export_error *err);

/*
 * Time that goes backwards within one output stream (a CTF stream or a
 * Perfetto track: one log type on one LP). babeltrace2's muxer stops on it
 * and a track viewer draws nonsense, so both exporters refuse such input
 * rather than write a trace nobody can read. The entry callback records
 * what it saw and stops the walk; the message is made once the buffer's
 * position is known.
 */
enum export_time_fault_kind {
    EXPORT_TIME_FAULT_NONE,
    EXPORT_TIME_FAULT_IN_BUFFER,     /* an entry older than the one before it */
    EXPORT_TIME_FAULT_ACROSS_BUFFERS, /* a buffer's first entry older than the stream so far */
};

struct export_time_fault {
    enum export_time_fault_kind kind;
    uint32_t entry_offset; /* the offending entry, from the buffer start */
    uint64_t time;         /* its TimeStamp */
    uint64_t before;       /* the stream's time it went back from */
};

/**
 * export_time_fail - fill @err with HVLOG_EXPORT_TIME for @fault in buffer
 * @b of @plan, one line naming the data file, the buffer, its LP and both
 * times, ending with @consequence ("babeltrace2 would reject the stream").
 * Returns HVLOG_EXPORT_TIME.
 */
enum hvlog_export_status export_time_fail(struct hvlog_export_error *err,
                                          const struct export_group_plan *plan,
                                          const struct hvlog_trace_buffer *b,
                                          const struct export_time_fault *fault,
                                          const char *consequence);

/** export_ticks_to_ns - @ticks of a @freq_hz clock in ns, saturating at UINT64_MAX. */
uint64_t export_ticks_to_ns(uint64_t ticks, uint64_t freq_hz);

#endif /* HVLOG_EXPORT_INTERNAL_H */
