/* SPDX-License-Identifier: MIT */
/*
 * Several traces on one timeline (issue 17, "traces of several hosts"):
 * the operands of decode, stats and export, each opened, named and given
 * its --clock-offset. One trace is the common case and changes nothing.
 */
#ifndef HVLOG_CLI_HOSTS_H
#define HVLOG_CLI_HOSTS_H

#include <stdbool.h>
#include <stdint.h>

#include "hvlog/trace/merge.h"
#include "hvlog/trace/trace.h"

#define CLI_HOSTS_MAX HVLOG_TRACE_MERGE_MAX_HOSTS
#define CLI_HOST_NAME_MAX 96u /* a host name, or a trace's base name, and a "~N" */

struct cli_hosts {
    uint32_t count;
    const char *path[CLI_HOSTS_MAX];
    struct hvlog_trace_reader *reader[CLI_HOSTS_MAX];
    /* The host's name: the trace's root.hostname, else the trace's base
     * name; a name two traces share gets "~N" (N: the host's place)
     * on the later ones. Bytes outside printable ASCII are shown as '?'. */
    char name[CLI_HOSTS_MAX][CLI_HOST_NAME_MAX];
    char json[CLI_HOSTS_MAX][CLI_HOST_NAME_MAX + 2]; /* the name as a JSON string, quoted */
    int64_t offset_ns[CLI_HOSTS_MAX];
    /* --clock-offset HOST=NS, kept until the traces are open. */
    uint32_t offset_count;
    const char *offset_spec[CLI_HOSTS_MAX];
};

/* cli_hosts_add_offset - keep one --clock-offset HOST=NS (false: one line, a usage error). */
bool cli_hosts_add_offset(const char *cmd, struct cli_hosts *h, const char *spec);

/*
 * cli_hosts_open - open the @n traces @paths, join the chunks of one
 * rotated recording named one by one into one host (its path then the
 * recording's directory), name them and apply the offsets kept (a HOST
 * matches a name or an operand as given). False
 * after one line "hvlog: CMD: ..." (the exit status is @*usage ? 2 : 1).
 */
bool cli_hosts_open(const char *cmd, struct cli_hosts *h, char **paths, int n, bool *usage);

void cli_hosts_close(struct cli_hosts *h);

#endif /* HVLOG_CLI_HOSTS_H */
