/* SPDX-License-Identifier: MIT */
/* hvlog: the command. Global options, then a subcommand from the table. */
#include <stdarg.h>
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
    {"record", cli_cmd_record, "record a trace from the simulated host (docs/cli.md)",
     "hvlog record -o|--output DIR [-f|--force] [-q|--quiet] [--lps N] [--domains D] [--children N] [--seed S]\n"
     "       [--events N | --duration MS] [--rate EVENTS_PER_S] [--payload BYTES] [--global PER_MILLE]\n"
     "       [--buffers N] [--pages P] [--threshold H] [--basis ref|tsc|qpc] [--sources all|MASK|hc,im,...]\n"
     "       [--abi 2013|current] [--mode regular|circular]"},
    {"decode", cli_cmd_decode, "print a trace's events, merged by time, or as JSON lines",
     "hvlog decode TRACE [--json] [--lp N] [--type local|global|system|0..2] [--event NAME|0xTYPE]\n"
     "       [--begin T] [--end T] [--time local|utc|relative|raw] [--skip-corrupt]"},
    {"stats", cli_cmd_stats, "events, bytes, buffers and losses per type and LP",
     "hvlog stats [--json] TRACE"},
    {"export", cli_cmd_export, "write a trace as CTF 1.8 (babeltrace2, Trace Compass) or for Perfetto",
     "hvlog export TRACE --format ctf|perfetto|perfetto-proto|perfetto-json -o|--output OUT\n"
     "       [-f|--force] [--skip-corrupt] [--type local|global|system|0..2]"},
    {"info", cli_cmd_info, "what a trace holds: its metadata and files", "hvlog info TRACE"},
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
        cli_error("help: unknown command '%s'", argv[1]);
        return CLI_EXIT_USAGE;
    }
    printf("usage: %s\n%s\n", cmd->usage, cmd->summary);
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
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
        cli_error("unknown command '%s' (try 'hvlog --help')", argv[1]);
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
