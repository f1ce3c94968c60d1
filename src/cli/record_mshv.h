/* SPDX-License-Identifier: MIT */
/*
 * `hvlog record --from /dev/mshv_diag`: record a real Linux root's event
 * log through the mshv_diag driver (issue #14 item 3; the capture layer,
 * hvlog/capture/mshv.h, makes the system calls). cmd_record.c parses the
 * options and hands them here.
 */
#ifndef HVLOG_CLI_RECORD_MSHV_H
#define HVLOG_CLI_RECORD_MSHV_H

#include <stdbool.h>
#include <stdint.h>

struct record_live_options;

/* What `hvlog record` parsed, for the device source. */
struct record_mshv_args {
    const char *device;       /* the --from path (any path names the device) */
    const char *out;          /* -o */
    bool force, quiet;
    unsigned file_mode;
    long long owner_uid, owner_gid; /* -1: unchanged */
    uint64_t duration_ms;     /* 0: until a stop signal */
    uint64_t events;          /* 0: no limit; else stop once that many were read */
    uint64_t buffers;         /* 0: the capture's default (16) */
    uint64_t pages, threshold;
    uint32_t basis, mode;
    uint64_t sources;         /* UINT64_MAX: every group of the driver's mask */
    bool diaglog;             /* also read the SystemDiagnostics records */
    int existing;             /* enum hvlog_capture_existing; -1: both --reuse and --reset */
    int argc;                 /* the command line, for the metadata */
    char **argv;
    unsigned writer_flags;    /* more hvlog_trace_writer_create flags: HVLOG_TRACE_COMPRESS */
    const struct record_rotate_options *rotate; /* --max-size/--rotate (record_rotate.h), or NULL */
    const struct record_live_options *live; /* --relayd: also stream it live; NULL: not */
};

/** cli_record_mshv - the whole recording; returns a CLI exit code. */
int cli_record_mshv(const struct record_mshv_args *args);

#endif /* HVLOG_CLI_RECORD_MSHV_H */
