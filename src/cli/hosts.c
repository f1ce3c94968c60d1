/* SPDX-License-Identifier: MIT */
/* Several traces on one timeline: see hosts.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/hosts.h"
#include "hvlog/trace/rotate.h"

bool cli_hosts_add_offset(const char *cmd, struct cli_hosts *h, const char *spec)
{
    const char *eq = strrchr(spec, '=');

    if (!eq || eq == spec || eq[1] == '\0') {
        cli_error("%s: --clock-offset takes HOST=NS (nanoseconds, may be negative), not '%s'", cmd,
                  spec);
        return false;
    }
    if (h->offset_count == CLI_HOSTS_MAX) {
        cli_error("%s: more than %u --clock-offset options", cmd, CLI_HOSTS_MAX);
        return false;
    }
    h->offset_spec[h->offset_count++] = spec;
    return true;
}

/* The trace's base name: "a/b/T/" -> "T". */
static void base_name(const char *path, char *out, size_t size)
{
    size_t end = strlen(path), start;

    while (end > 1 && path[end - 1] == '/')
        end--;
    start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    snprintf(out, size, "%.*s", (int)(end - start), path + start);
}

static void name_host(struct cli_hosts *h, uint32_t i)
{
    const struct hvlog_trace_meta *m = hvlog_trace_reader_meta(h->reader[i]);
    char *name = h->name[i];

    if (m->root.hostname[0])
        snprintf(name, CLI_HOST_NAME_MAX - 12, "%s", m->root.hostname);
    else
        base_name(h->path[i], name, CLI_HOST_NAME_MAX - 12);
    for (char *p = name; *p; p++) {
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '"' || *p == '\\')
            *p = '?'; /* a name from a trace is untrusted: nothing for a terminal or JSON to obey */
    }
    for (uint32_t j = 0; j < i; j++) {
        if (strcmp(h->name[j], name) == 0) {
            snprintf(name + strlen(name), 12, "~%" PRIu32, i + 1);
            break;
        }
    }
    snprintf(h->json[i], sizeof h->json[i], "\"%s\"", name);
}

static bool apply_offsets(const char *cmd, struct cli_hosts *h)
{
    for (uint32_t k = 0; k < h->offset_count; k++) {
        const char *spec = h->offset_spec[k], *eq = strrchr(spec, '=');
        size_t len = (size_t)(eq - spec);
        char *end;
        long long ns;
        uint32_t i;

        for (i = 0; i < h->count; i++) {
            if ((strlen(h->name[i]) == len && strncmp(h->name[i], spec, len) == 0) ||
                (strlen(h->path[i]) == len && strncmp(h->path[i], spec, len) == 0))
                break;
        }
        if (i == h->count) {
            cli_error("%s: --clock-offset '%.*s': no such host among the traces", cmd, (int)len, spec);
            return false;
        }
        errno = 0;
        ns = strtoll(eq + 1, &end, 10);
        if (errno || *end) {
            cli_error("%s: --clock-offset '%s': NS is not a number of nanoseconds", cmd, spec);
            return false;
        }
        h->offset_ns[i] = ns;
    }
    return true;
}

/*
 * Chunks of one rotated recording named one by one are one host, not
 * several (issue 17): each group of them becomes one reader, as the
 * recording's directory reads (hvlog_trace_join), at the place of its
 * first operand. Traces of other recordings stay hosts of their own.
 */
static bool join_chunks(const char *cmd, struct cli_hosts *h)
{
    for (uint32_t i = 0; i < h->count; i++) {
        struct hvlog_trace_reader *group[CLI_HOSTS_MAX], *joined = NULL;
        struct hvlog_export_error err = {0};
        uint32_t k = 1, kept = i + 1;

        if (!hvlog_trace_reader_chunk(h->reader[i], NULL))
            continue;
        group[0] = h->reader[i];
        for (uint32_t j = i + 1; j < h->count; j++) {
            if (hvlog_trace_same_recording(h->reader[i], h->reader[j]))
                group[k++] = h->reader[j];
            else {
                h->path[kept] = h->path[j];
                h->reader[kept++] = h->reader[j];
            }
        }
        if (k == 1)
            continue;
        h->count = kept;
        /* Taken by the join in every case. */
        h->reader[i] = NULL;
        if (hvlog_trace_join(group, k, &joined, &err) != HVLOG_EXPORT_OK) {
            cli_error("%s: %s", cmd, err.message);
            return false;
        }
        h->reader[i] = joined;
        h->path[i] = hvlog_trace_reader_path(joined);
    }
    return true;
}

bool cli_hosts_open(const char *cmd, struct cli_hosts *h, char **paths, int n, bool *usage)
{
    *usage = false;
    if (n < 1 || (unsigned)n > CLI_HOSTS_MAX) {
        cli_error("%s: %d traces; 1 to %u can be read together", cmd, n, CLI_HOSTS_MAX);
        *usage = true;
        return false;
    }
    for (int i = 0; i < n; i++) {
        struct hvlog_export_error err = {0};

        h->path[i] = paths[i];
        if (hvlog_trace_open(paths[i], &h->reader[i], &err) != HVLOG_EXPORT_OK) {
            cli_error("%s: %s", cmd, err.message);
            return false;
        }
        h->count = (uint32_t)i + 1;
    }
    if (!join_chunks(cmd, h))
        return false;
    for (uint32_t i = 0; i < h->count; i++)
        name_host(h, i);
    if (!apply_offsets(cmd, h)) {
        *usage = true;
        return false;
    }
    return true;
}

void cli_hosts_close(struct cli_hosts *h)
{
    for (uint32_t i = 0; i < h->count; i++)
        hvlog_trace_close(h->reader[i]);
    h->count = 0;
}
