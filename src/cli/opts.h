/* SPDX-License-Identifier: MIT */
/* Command-line helpers shared by the subcommands: numbers, time, errors. */
#ifndef HVLOG_CLI_OPTS_H
#define HVLOG_CLI_OPTS_H

#include <stdbool.h>
#include <stdint.h>

/* Parse @text as a decimal or 0x number in [min, max] into @out; on failure
 * print one line "hvlog: CMD: NAME ..." and return false. */
bool cli_number(const char *cmd, const char *name, const char *text, uint64_t min, uint64_t max,
                uint64_t *out);

/*
 * cli_size - parse @text as a byte count: digits with an optional K, M or G
 * suffix (powers of 1024), in [@min, @max] bytes, into @out; on failure one
 * line "hvlog: CMD: NAME takes a size such as 4096, 512K, 64M or 1G (...)"
 * and false. The one size parser of every option (--relayd-buffer, --max-size).
 */
bool cli_size(const char *cmd, const char *name, const char *text, uint64_t min, uint64_t max,
              uint64_t *out);

/* Parse a log type: "local", "global", "system", a number, or a spec name. */
bool cli_log_type(const char *cmd, const char *text, uint32_t *out);

struct option; /* <getopt.h> */

/*
 * cli_getopt - the one option parser of every command: the next option of
 * @argv (argv[0] is the command's name, @cmd) as getopt_long finds it with
 * @shortopts and @longopts, in GNU order, so options may stand before or
 * after the operands (`hvlog stats TRACE --json`) and "--" ends them. The
 * first call for an argv starts from argv[1]. Returns the option's value,
 * with its argument in optarg; -1 when none is left (the operands are then
 * argv[optind..argc-1], in order); or '?' after one line on stderr
 * ("hvlog: CMD: unknown option '--x' (see 'hvlog help CMD')", or "option
 * '--lp' needs a value"): the caller returns CLI_EXIT_USAGE.
 */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/*
 * cli_operands - true when @min..@max operands follow the options (after
 * cli_getopt returned -1); else one line "hvlog: CMD: usage: USAGE" and
 * false (a usage error, exit 2).
 */
bool cli_operands(const char *cmd, int argc, int min, int max, const char *usage);


/*
 * cli_command_line - "hvlog ARG..." of a command's @argc arguments (argv[0]
 * its name), malloc'd, for a trace's metadata (command_line); NULL when out
 * of memory.
 */
char *cli_command_line(int argc, char **argv);

#endif /* HVLOG_CLI_OPTS_H */
