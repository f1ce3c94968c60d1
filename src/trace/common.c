/* SPDX-License-Identifier: MIT */
/* Export statuses (from their one table), the error report, small strings,
 * opening an input file safely. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/trace_internal.h"
#include "hvlog/trace/common.h"

struct status_row {
    enum hvlog_export_status status;
    const char *name;
    const char *text;
};

static const struct status_row status_rows[] = {
#define ROW(name, value, text) {name, #name, text},
    HVLOG_EXPORT_STATUS_TABLE(ROW)
#undef ROW
};

static const struct status_row *status_row(enum hvlog_export_status status)
{
    for (size_t i = 0; i < sizeof status_rows / sizeof status_rows[0]; i++) {
        if (status_rows[i].status == status)
            return &status_rows[i];
    }
    return NULL;
}

const char *hvlog_export_status_name(enum hvlog_export_status status)
{
    const struct status_row *row = status_row(status);
    return row ? row->name : NULL;
}

const char *hvlog_export_status_text(enum hvlog_export_status status)
{
    const struct status_row *row = status_row(status);
    return row ? row->text : NULL;
}

enum hvlog_export_status hvlog__export_fail(struct hvlog_export_error *err,
                                            enum hvlog_export_status status, const char *fmt, ...)
{
    va_list ap;

    if (!err)
        return status;
    err->status = status;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return status;
}

void hvlog__export_report(hvlog_export_report_fn report, void *arg, const char *fmt, ...)
{
    char line[HVLOG_EXPORT_MESSAGE_MAX];
    va_list ap;

    if (!report)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    report(arg, line);
}

size_t hvlog__export_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF; /* the second byte's range */
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80; /* no overlong 3-byte forms */
        hi = c == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        lo = c == 0xF0 ? 0x90 : 0x80; /* no overlong 4-byte forms */
        hi = c == 0xF4 ? 0x8F : 0xBF; /* nothing above U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return len;
}

char *hvlog__export_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);

    if (copy)
        memcpy(copy, s, n);
    return copy;
}

char *hvlog__export_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);

    if (path)
        snprintf(path, n, "%s/%s", dir, name);
    return path;
}

int hvlog__export_open_regular(const char *path, struct stat *st)
{
    /* O_NONBLOCK: opening a FIFO for reading waits for a writer, a device
     * may wait too; the type is checked on the descriptor, not the name,
     * so nothing can be swapped in between (issue 13, A1). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    int flags;

    if (fd < 0)
        return -1;
    if (fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        return -2;
    }
    flags = fcntl(fd, F_GETFL);
    if (flags >= 0)
        (void)fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    return fd;
}

size_t hvlog_escape_text(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *o = out;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f) {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15u];
        } else if (c == '\\') {
            *o++ = '\\';
            *o++ = '\\';
        } else if (c == 0xc2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
                   (unsigned char)s[i + 1] <= 0x9f) {
            c = (unsigned char)s[++i];
            memcpy(o, "\\u00", 4);
            o += 4;
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15u];
        } else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return (size_t)(o - out);
}
