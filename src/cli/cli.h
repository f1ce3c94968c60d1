/* SPDX-License-Identifier: MIT */
/* The hvlog command: shared declarations of its subcommands. */
#ifndef HVLOG_CLI_CLI_H
#define HVLOG_CLI_CLI_H

#include <stdio.h>

/* Documented exit codes (docs/cli.md). */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,
    CLI_EXIT_USAGE = 2,
};

struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
    const char *usage;
};

int cli_cmd_abi(int argc, char **argv);
int cli_cmd_script(int argc, char **argv);
int cli_cmd_record(int argc, char **argv);
int cli_cmd_decode(int argc, char **argv);
int cli_cmd_stats(int argc, char **argv);
int cli_cmd_export(int argc, char **argv);
int cli_cmd_info(int argc, char **argv);

/* Print "hvlog: <message>" as one line on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct hvlog_trace_reader;
/* One note on stderr per group of @reader whose file ends in a torn buffer
 * that the reader leaves out (an unfinished recording, docs/trace-format.md
 * section 1). In cmd_export.c, next to info. */
void cli_note_torn(const char *cmd, const struct hvlog_trace_reader *reader);

#endif /* HVLOG_CLI_CLI_H */
