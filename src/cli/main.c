/* SPDX-License-Identifier: MIT */
/* hvlog: the command. Global options, then a subcommand from the table. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "hvlog/version.h"

static int cmd_help(int argc, char **argv);

static const struct cli_command commands[] = {
    {"abi", cli_cmd_abi, "print the hypercall ABI tables (calls, statuses, types)",
     "hvlog abi [calls|statuses|types|states|entries|flags]"},
    {"script", cli_cmd_script, "drive a fresh simulated host one command per line (docs/script.md)",
     "hvlog script [--abi 2013|current] [--lps N] [--domains D] [--pool-pages N] [--children N] [FILE|-]"},
    {"record", cli_cmd_record, "record a trace from the simulated host or a real root's /dev/mshv_diag (docs/cli.md)",
     "hvlog record -o|--output DIR [-f|--force] [-q|--quiet] [--lps N] [--domains D] [--children N] [--seed S]\n"
     "       [--events N | --duration MS] [--rate EVENTS_PER_S] [--payload BYTES] [--global PER_MILLE]\n"
     "       [--buffers N] [--pages P] [--threshold H] [--basis ref|tsc|qpc] [--sources all|MASK|hc,im,...]\n"
     "       [--abi 2013|current] [--mode regular|circular] [--file-mode OCTAL] [--compress] [--threads N]\n"
     "       [--max-size SIZE [--rotate N]]   (chunks of at most SIZE, the last N kept)\n"
     "       [--snapshot [--snapshot-size SIZE]]   (flight recorder: DIR/snapshot-NNN on SIGUSR1 and at the end)\n"
     "       [--from sim|kvm|/dev/mshv_diag [--diaglog] [--reuse | --reset]]\n"
     "       [--relayd net://HOST[:CTRL[:DATA]] [--hostname NAME] [--session NAME] [--relayd-buffer SIZE]]\n"
     "       (no output directory with a relayd: the recording goes to relayd only)"},
    {"snapshot", cli_cmd_snapshot, "write a flight recorder's snapshot now (hvlog record --snapshot)",
     "hvlog snapshot PID [--timeout MS]"},
    {"decode", cli_cmd_decode, "print a trace's events, merged by time, or as JSON lines",
     "hvlog decode TRACE... [--json] [--lp N] [--type local|global|system|0..2] [--event NAME|0xTYPE]\n"
     "       [--begin T] [--end T] [--time local|utc|relative|raw] [--skip-corrupt] [--tsc-hz HZ]\n"
     "       [--clock-offset HOST=NS]...   (several traces: merged by wall-clock time, host column)"},
    {"stats", cli_cmd_stats, "events, bytes, buffers and losses per type and LP",
     "hvlog stats [--json] TRACE...   (several traces: per host, and their totals;\n"
     "       a rotated recording's directory: its kept chunks as one trace, and what was rotated out)"},
    {"export", cli_cmd_export, "write a trace as CTF 1.8 (babeltrace2, Trace Compass) or for Perfetto",
     "hvlog export TRACE... --format ctf|perfetto|perfetto-proto|perfetto-json -o|--output OUT\n"
     "       [-f|--force] [--skip-corrupt] [--type local|global|system|0..2] [--lp N] [--begin T] [--end T]\n"
     "       [--tsc-hz HZ] [--clock-offset HOST=NS]...   (several traces: ctf only, OUT/HOST per trace)"},
    {"info", cli_cmd_info, "what a trace holds: its metadata, files and recording state",
     "hvlog info [--json] TRACE"},
    {"top", cli_cmd_top, "a live view of a recording: events/s, bytes/s, losses per type and LP",
     "hvlog top [TRACE] [-b|--batch] [-n|--iterations N] [--interval MS]\n"
     "       [--lps N] [--seed S] [--rate EVENTS_PER_S] [--payload BYTES] [--buffers N] [--pages P]\n"
     "       [--threshold H] [--global PER_MILLE] [--duration MS]"},
    {"help", cmd_help, "show help for hvlog or one of its commands", "hvlog help [COMMAND]"},
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("hvlog: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

/* Optimal string alignment distance between @a and @b (edits: insert,
 * delete, substitute, swap two neighbours), for "did you mean". Both at
 * most NAME_CAP bytes; longer words get SIZE_MAX (nothing is close). */
#define NAME_CAP 32u
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[NAME_CAP + 1][NAME_CAP + 1];

    if (la > NAME_CAP || lb > NAME_CAP)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

/*
 * "hvlog: unknown command 'X'", with the closest commands when some are
 * close, as git does ("did you mean"): those at the smallest distance, if
 *  it is at most 2 and at most half the word (so 'x' suggests nothing).
 * One line, on stderr.
 */
static void unknown_command(const char *context, const char *name)
{
    size_t best = SIZE_MAX;
    char hint[256] = "";

    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        size_t dist = edit_distance(name, commands[i].name);
        if (dist < best)
            best = dist;
    }
    if (best <= 2 && best * 2 <= strlen(name)) {
        size_t used = 0;
        unsigned matches = 0;

        for (size_t i = 0; i < COMMAND_COUNT; i++) {
            if (edit_distance(name, commands[i].name) != best)
                continue;
            used += (size_t)snprintf(hint + used, sizeof hint - used, "%s'%s'",
                                     matches ? " or " : "; did you mean ", commands[i].name);
            matches++;
            if (used >= sizeof hint)
                break;
        }
        if (used < sizeof hint)
            snprintf(hint + used, sizeof hint - used, "?");
    }
    cli_error("%sunknown command '%s'%s (see 'hvlog --help')", context, name, hint);
}

static void print_usage(FILE *out)
{
    fprintf(out, "usage: hvlog [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`hvlog help COMMAND` shows a command's usage.\n");
}

static int cmd_help(int argc, char **argv)
{
    const struct cli_command *cmd;

    if (argc < 2) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    cmd = find_command(argv[1]);
    if (!cmd) {
        unknown_command("help: ", argv[1]);
        return CLI_EXIT_USAGE;
    }
    printf("usage: %s\n%s\n", cmd->usage, cmd->summary);
    return CLI_EXIT_OK;
}

static int run(int argc, char **argv)
{
    const struct cli_command *cmd;

    if (argc < 2) {
        print_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("hvlog %s\n", hvlog_version());
        return CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        print_usage(stdout);
        return CLI_EXIT_OK;
    }
    cmd = find_command(argv[1]);
    if (!cmd) {
        unknown_command("", argv[1]);
        return CLI_EXIT_USAGE;
    }
    /* `hvlog CMD ... --help ...` is `hvlog help CMD`, wherever it stands
     * (a script's own lines come from a file, never from argv). */
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            char *help_argv[] = {"help", argv[1], NULL};
            return cmd_help(2, help_argv);
        }
    }
    return cmd->run(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    int status = run(argc, argv);

    /* Every command's output, checked in one place: a command that
     * printed to a full disk did not succeed. */
    return cli_finish_stdout(argc >= 2 && find_command(argv[1]) ? argv[1] : NULL, status);
}
