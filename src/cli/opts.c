/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/trace/trace.h" /* hvlog_trace_group_short */

bool cli_number(const char *cmd, const char *name, const char *text, uint64_t min, uint64_t max,
                uint64_t *out)
{
    char *end;
    uint64_t v;

    if (!text || !*text || *text == '-') {
        cli_error("%s: %s needs a number", cmd, name);
        return false;
    }
    errno = 0;
    v = strtoull(text, &end, 0);
    if (errno || *end) {
        cli_error("%s: %s '%s' is not a number", cmd, name, text);
        return false;
    }
    if (v < min || v > max) {
        cli_error("%s: %s %s is out of range (%llu..%llu)", cmd, name, text,
                  (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    *out = v;
    return true;
}

/* "1 TiB" for whole binary units, else the byte count: for the range in a message. */
static void size_text(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"TiB", "GiB", "MiB", "KiB"};

    for (unsigned i = 0; i < 4; i++) {
        unsigned shift = 40 - 10 * i;
        if (bytes >= (1ull << shift) && bytes % (1ull << shift) == 0) {
            snprintf(buf, len, "%llu %s", (unsigned long long)(bytes >> shift), units[i]);
            return;
        }
    }
    snprintf(buf, len, "%llu bytes", (unsigned long long)bytes);
}

bool cli_size(const char *cmd, const char *name, const char *text, uint64_t min, uint64_t max,
              uint64_t *out)
{
    char *end, hi[32];
    uint64_t v;

    errno = 0;
    v = strtoull(text, &end, 10);
    if (!errno && end != text && text[0] != '-' && text[0] != '+' && text[0] != ' ') {
        uint64_t unit = 1;

        if (*end == 'K' || *end == 'k')
            unit = 1ull << 10;
        else if (*end == 'M' || *end == 'm')
            unit = 1ull << 20;
        else if (*end == 'G' || *end == 'g')
            unit = 1ull << 30;
        if (unit != 1)
            end++;
        if (*end == '\0' && v <= max / unit && v * unit >= min) {
            *out = v * unit;
            return true;
        }
    }
    size_text(max, hi, sizeof hi);
    if (min <= 1)
        cli_error("%s: %s takes a size such as 4096, 512K, 64M or 1G (at most %s), not '%s'", cmd,
                  name, hi, text);
    else {
        char lo[32];

        size_text(min, lo, sizeof lo);
        cli_error("%s: %s takes a size such as 4096, 512K, 64M or 1G (%s to %s), not '%s'", cmd,
                  name, lo, hi, text);
    }
    return false;
}

bool cli_log_type(const char *cmd, const char *text, uint32_t *out)
{
    for (uint32_t t = 0; t < HVLOG_TYPE_COUNT; t++) {
        const char *spec = hvlog_eventlog_type_name(t), *group = hvlog_trace_group_short(t);
        if ((group && strcasecmp(text, group) == 0) || (spec && strcasecmp(text, spec) == 0)) {
            *out = t;
            return true;
        }
    }
    if (text[0] >= '0' && text[0] <= '9') {
        uint64_t v;
        if (!cli_number(cmd, "type", text, 0, 2, &v))
            return false;
        *out = (uint32_t)v;
        return true;
    }
    cli_error("%s: unknown event-log type '%s' (local, global, system, 0..2, or a spec name)", cmd,
              text);
    return false;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
    static char **current; /* the argv being parsed: a new one starts over */
    char shorts[64];
    int opt;

    if (!argv || argc < 1)
        return -1;
    if (argv != current) {
        current = argv;
        optind = 1;
    }
    opterr = 0;
    /* A leading ':' tells a missing value (':') from an unknown option ('?'). */
    snprintf(shorts, sizeof shorts, ":%s", shortopts ? shortopts : "");
    opt = getopt_long(argc, argv, shorts, longopts, NULL);
    if (opt == -1) {
        current = NULL;
        return -1;
    }
    if (opt == ':') {
        cli_error("%s: option '%s' needs a value (see 'hvlog help %s')", cmd, argv[optind - 1], cmd);
        current = NULL;
        return '?';
    }
    if (opt == '?') {
        const char *arg = argv[optind - 1];

        if (strncmp(arg, "--", 2) == 0 && strchr(arg, '='))
            cli_error("%s: option '%s' is unknown or takes no value (see 'hvlog help %s')", cmd, arg, cmd);
        else if (strncmp(arg, "--", 2) == 0 || !optopt)
            cli_error("%s: unknown option '%s' (see 'hvlog help %s')", cmd, arg, cmd);
        else
            cli_error("%s: unknown option '-%c' (see 'hvlog help %s')", cmd, optopt, cmd);
        current = NULL;
        return '?';
    }
    return opt;
}

bool cli_operands(const char *cmd, int argc, int min, int max, const char *usage)
{
    int n = argc - optind;

    if (n >= min && n <= max)
        return true;
    cli_error("%s: usage: %s", cmd, usage);
    return false;
}

char *cli_command_line(int argc, char **argv)
{
    size_t len = strlen("hvlog") + 1, used;
    char *s;

    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    s = malloc(len);
    if (!s)
        return NULL;
    used = (size_t)snprintf(s, len, "hvlog");
    for (int i = 0; i < argc && used < len; i++)
        used += (size_t)snprintf(s + used, len - used, " %s", argv[i]);
    return s;
}
