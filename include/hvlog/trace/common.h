/* SPDX-License-Identifier: MIT */
/*
 * What every function of the trace and export layers shares: its statuses
 * and the one-line error report.
 *
 * These layers read and write files; they never print. A failing call
 * returns a status and, when the caller passed a struct hvlog_export_error,
 * one line of English naming the object (a path, a buffer) and the reason,
 * ready for "hvlog: <message>" on stderr. A failing call leaves no output
 * behind: every file is written under a temporary name and renamed into
 * place only when complete.
 */
#ifndef HVLOG_TRACE_COMMON_H
#define HVLOG_TRACE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

/* Columns: name, value, one-line meaning. */
#define HVLOG_EXPORT_STATUS_TABLE(X)                                                  \
    X(HVLOG_EXPORT_OK, 0, "ok")                                                       \
    X(HVLOG_EXPORT_END, 1, "no more buffers")                                         \
    X(HVLOG_EXPORT_INVALID, 2, "invalid argument")                                    \
    X(HVLOG_EXPORT_EXISTS, 3, "the output exists")                                    \
    X(HVLOG_EXPORT_IO, 4, "input/output error")                                       \
    X(HVLOG_EXPORT_NOMEM, 5, "out of memory")                                         \
    X(HVLOG_EXPORT_NOT_TRACE, 6, "not an hvlog trace or buffer file")                 \
    X(HVLOG_EXPORT_BAD_META, 7, "the trace metadata is malformed")                    \
    X(HVLOG_EXPORT_VERSION, 8, "the trace format version is not supported")          \
    X(HVLOG_EXPORT_CORRUPT, 9, "a buffer failed its checks")                          \
    X(HVLOG_EXPORT_TRUNCATED, 10, "the file ends inside a buffer")                    \
    X(HVLOG_EXPORT_TIME, 11, "time goes backwards or out of range in a stream")       \
    X(HVLOG_EXPORT_UNSUPPORTED, 12, "the input cannot be expressed in this format")

enum hvlog_export_status {
#define HVLOG_X_EXPORT_STATUS_ENUM(name, value, text) name = (value),
    HVLOG_EXPORT_STATUS_TABLE(HVLOG_X_EXPORT_STATUS_ENUM)
#undef HVLOG_X_EXPORT_STATUS_ENUM
};

/** hvlog_export_status_name - "HVLOG_EXPORT_IO", or NULL outside the table. */
HVLOG_API const char *hvlog_export_status_name(enum hvlog_export_status status);
/** hvlog_export_status_text - the table's one-line meaning, or NULL. */
HVLOG_API const char *hvlog_export_status_text(enum hvlog_export_status status);

/**
 * hvlog_escape_text - @len bytes of @s, trace-derived and so untrusted, as
 * text safe for a terminal (issue 13, A5): C0 controls and DEL as \xNN, C1
 * controls (U+0080..U+009F) as \u00NN, a backslash as \\, everything else
 * as it is. Writes at most 4 x @len bytes and a NUL into @out; returns the
 * length written. The one escaping of every reader and command.
 */
HVLOG_API size_t hvlog_escape_text(char *out, const char *s, size_t len);

#define HVLOG_EXPORT_MESSAGE_MAX 512u

/* The report of a failing call: its status and one line naming the object
 * and the reason ("trace/local.buffers: buffer 3 at byte 12288: ..."). */
struct hvlog_export_error {
    enum hvlog_export_status status;
    char message[HVLOG_EXPORT_MESSAGE_MAX];
};

/* Called with one line for every problem an export goes past (a corrupt
 * buffer skipped under skip_corrupt); @arg is the options' report_arg. */
typedef void (*hvlog_export_report_fn)(void *arg, const char *message);

HVLOG_END_DECLS

#endif /* HVLOG_TRACE_COMMON_H */
