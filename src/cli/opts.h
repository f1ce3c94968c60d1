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

/* Parse a log type: "local", "global", "system", a number, or a spec name. */
bool cli_log_type(const char *cmd, const char *text, uint32_t *out);

#endif /* HVLOG_CLI_OPTS_H */
