/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for `hvlog decode`'s whole path: the command itself
 * (src/cli/cmd_decode.c: options, the trace layer's merge, filters) and
 * its formatter (src/cli/decode_print.c), linked from src/cli, run in
 * process with fuzzed options on a fuzzed trace, stdout captured in a
 * file. Whatever the bytes:
 *   - the exit status is 0, 1 or 2 and nothing crashes, hangs or leaks;
 *   - every error is one line without control characters (A5: trace-derived
 *     strings are escaped before they reach a terminal);
 *   - the output is whole lines: text without control characters, or with
 *     --json lines that jansson parses as objects;
 *   - with --json, every entry line satisfies --lp, --event, --begin and
 *     --end, and an unfiltered --skip-corrupt decode that succeeds prints
 *     exactly the entries the trace reader accepts.
 *
 * Input: 12 bytes of options, then a trace as fuzz_trace takes it (a mode
 * byte: bit 2 a recipe, fuzz_common.h; else bit 0 raw file or directory).
 * Options: byte 0 bit 0 --json, bit 1 --skip-corrupt, bits 2-3 --time
 * (local, utc, relative, raw), bit 4 --lp byte 1, bit 5 --event bytes 2-3,
 * bit 6 --begin bytes 4-7 and --end = begin + bytes 8-11, bit 7 --tsc-hz
 * (bytes 8-11, at least 1); byte 1 bit 7 with bit 4: --type byte 1 % 4
 * (3: an invalid one).
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* dup, mkdir: the libFuzzer build has no project flags */
#endif
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "fuzz_common.h"
#include "hvlog/trace/trace.h"
#include "../tests/export/synth.h"

#define H "fuzz_decode"

/* main.c's cli_error, checked instead of printed: main.c also holds main().
 * HVLOG_FUZZ_VERBOSE=1 prints the lines. */
void cli_error(const char *fmt, ...)
{
    char line[4096];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        fz_die(H, "an error message failed to format");
    for (const char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F) {
            fprintf(stderr, H ": an error line holds a control character: %s\n", line);
            abort();
        }
    if (getenv("HVLOG_FUZZ_VERBOSE"))
        fprintf(stderr, "hvlog: %s\n", line);
}

/* Entries of the buffers the reader accepts; -1 when a group cannot open. */
static int64_t readable_entries(const char *path)
{
    struct hvlog_trace_reader *r;
    uint64_t entries;
    bool complete;

    if (hvlog_trace_open(path, &r, NULL) != HVLOG_EXPORT_OK)
        return -1;
    entries = fz_readable_entries(H, r, NULL, &complete);
    hvlog_trace_close(r);
    return complete ? (int64_t)entries : -1;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

struct filters {
    bool json, lp_on, event_on, time_on, filtered;
    uint32_t lp, event;
    uint64_t begin, end;
};

/* Runs `hvlog decode ARGS` with stdout in @out; the exit status. */
static int run_decode(int argc, char **argv, const char *out)
{
    int saved, fd, status;

    fflush(stdout);
    saved = dup(STDOUT_FILENO);
    fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (saved < 0 || fd < 0 || dup2(fd, STDOUT_FILENO) < 0)
        fz_die(H, "cannot redirect stdout");
    close(fd);
    optind = 0; /* glibc: start a new argv over whatever state came before */
    status = cli_cmd_decode(argc, argv);
    fflush(stdout);
    clearerr(stdout);
    if (dup2(saved, STDOUT_FILENO) < 0)
        fz_die(H, "cannot restore stdout");
    close(saved);
    return status;
}

/* Checks the captured output; returns the --json entry lines. */
static uint64_t check_output(const char *out, const struct filters *f)
{
    FILE *in = fopen(out, "rb");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t entries = 0;

    if (!in)
        fz_die(H, "cannot read the captured output");
    while ((n = getline(&line, &cap, in)) > 0) {
        if (line[n - 1] != '\n')
            fz_die(H, "decode left its last line unfinished");
        if (f->json) {
            json_error_t jerr;
            /* Any JSON number: jansson's integers stop at INT64_MAX, decode's
             * u64 time stamps do not (as reals, exact to 2^53: enough to
             * compare with the 33-bit --begin/--end range). */
            json_t *v = json_loadb(line, (size_t)n - 1, JSON_DECODE_INT_AS_REAL, &jerr), *ts;

            if (!json_is_object(v)) {
                fprintf(stderr, H ": decode --json printed a line that is not an object (%s): %.*s\n",
                        jerr.text, (int)(n > 300 ? 300 : n), line);
                abort();
            }
            ts = json_object_get(v, "ts");
            if (json_object_get(v, "entry_type")) {
                entries++;
                if (f->lp_on && json_number_value(json_object_get(v, "lp")) != (double)f->lp)
                    fz_die(H, "decode --lp printed another LP's entry");
                if (f->event_on &&
                    json_number_value(json_object_get(v, "entry_type")) != (double)f->event)
                    fz_die(H, "decode --event printed another entry type");
                if (!json_is_number(ts))
                    fz_die(H, "a decode --json entry has no numeric ts");
                if (f->time_on && (json_number_value(ts) < (double)f->begin ||
                                   json_number_value(ts) > (double)f->end))
                    fz_die(H, "decode --begin/--end printed an entry outside the range");
            }
            json_decref(v);
        } else {
            for (ssize_t k = 0; k < n - 1; k++)
                if ((unsigned char)line[k] < 0x20 || line[k] == 0x7F)
                    fz_die(H, "decode printed a control character");
        }
    }
    free(line);
    fclose(in);
    return entries;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const styles[] = {"local", "utc", "relative", "raw"};
    static const char *const types[] = {"global", "local", "system", "3"};
    const char *work;
    char path[300], out[300], lp[16], event[16], begin[24], end[24], hz[16];
    char *argv[20];
    int argc = 0, status;
    struct filters f;
    uint8_t opt, mode;

    if (size < 13)
        return 0;
    work = fz_workdir("fuzz-decode");
    opt = data[0];
    memset(&f, 0, sizeof f);
    argv[argc++] = (char *)"decode";
    f.json = opt & 1u;
    if (f.json)
        argv[argc++] = (char *)"--json";
    if (opt & 2u)
        argv[argc++] = (char *)"--skip-corrupt";
    argv[argc++] = (char *)"--time";
    argv[argc++] = (char *)styles[opt >> 2 & 3u];
    if ((opt & 16u) && (data[1] & 0x80u)) {
        argv[argc++] = (char *)"--type";
        argv[argc++] = (char *)types[data[1] % 4u];
        f.filtered = true;
    } else if (opt & 16u) {
        f.lp_on = f.filtered = true;
        f.lp = data[1];
        snprintf(lp, sizeof lp, "%u", f.lp);
        argv[argc++] = (char *)"--lp";
        argv[argc++] = lp;
    }
    if (opt & 32u) {
        f.event_on = f.filtered = true;
        f.event = (uint32_t)data[2] | (uint32_t)data[3] << 8;
        snprintf(event, sizeof event, "0x%x", f.event);
        argv[argc++] = (char *)"--event";
        argv[argc++] = event;
    }
    if (opt & 64u) {
        f.time_on = f.filtered = true;
        f.begin = le32(data + 4);
        f.end = f.begin + le32(data + 8);
        snprintf(begin, sizeof begin, "%llu", (unsigned long long)f.begin);
        snprintf(end, sizeof end, "%llu", (unsigned long long)f.end);
        argv[argc++] = (char *)"--begin";
        argv[argc++] = begin;
        argv[argc++] = (char *)"--end";
        argv[argc++] = end;
    }
    if (opt & 128u) {
        snprintf(hz, sizeof hz, "%u", le32(data + 8) | 1u);
        argv[argc++] = (char *)"--tsc-hz";
        argv[argc++] = hz;
    }
    data += 12;
    size -= 12;
    mode = data[0];
    data++;
    size--;
    snprintf(path, sizeof path, "%s/t", work);
    if (mode & 4) {
        if (fz_build_trace(data, size, path) != 0)
            return 0;
    } else if (mode & 1) {
        (void)fz_write_trace_dir(H, path, 0700, data, size, "system.buffers");
    } else {
        snprintf(path, sizeof path, "%s/raw", work);
        fz_write_file(path, data, size);
    }
    argv[argc++] = path;
    argv[argc] = NULL;
    snprintf(out, sizeof out, "%s/stdout", work);
    status = run_decode(argc, argv, out);
    if (status < 0 || status > 2)
        fz_die(H, "decode exited with a status docs/cli.md does not list");
    {
        uint64_t printed = check_output(out, &f);
        int64_t readable;

        if (status == 0 && f.json && !f.filtered && (opt & 2u) &&
            (readable = readable_entries(path)) >= 0 && printed != (uint64_t)readable) {
            fprintf(stderr, H ": decode printed %llu entries, the reader accepts %lld\n",
                    (unsigned long long)printed, (long long)readable);
            abort();
        }
    }
    unlink(out);
    synth_rmtree(path);
    if (synth_dir_entries(work) != 0)
        fz_die(H, "files left in the work directory");
    return 0;
}
