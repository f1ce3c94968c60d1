/* SPDX-License-Identifier: MIT */
/* The hvlog command: shared declarations of its subcommands. */
#ifndef HVLOG_CLI_CLI_H
#define HVLOG_CLI_CLI_H

#include <stdbool.h>
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
int cli_cmd_snapshot(int argc, char **argv);
int cli_cmd_top(int argc, char **argv);

/* `hvlog info` of a rotated recording's parent directory @path (record
 * --max-size): its chunks and what was rotated out. In info_rotation.c. */
int cli_info_rotation(const char *path, bool json);

/* Print "hvlog: <message>" as one line on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct hvlog_trace_reader;
/* One note on stderr per group of @reader whose file ends in a torn buffer
 * that the reader leaves out (an unfinished recording, docs/trace-format.md
 * section 1). In cmd_export.c, next to info. */
void cli_note_torn(const char *cmd, const struct hvlog_trace_reader *reader);

struct hvlog_json_writer;
struct hvlog_trace_lp;
/* One host-section row as `hvlog info` prints it ("lp 0      logged ..."). */
void cli_print_lp_counts(const struct hvlog_trace_lp *lp);
/* One LP's host-section counters as a JSON object (lp, logged, recorded,
 * lost, lost_no_buffer, lost_too_large, overwritten): the same members in
 * info --json and stats --json. In cmd_export.c, next to info. */
void cli_json_lp_counts(struct hvlog_json_writer *w, const struct hvlog_trace_lp *lp);
struct hvlog_trace_meta;
/* A recording's relayd section (closing.relayd: what `record --relayd`
 * sent and lost, per stream and by cause), when it has one: as the member
 * "relayd" of the open JSON object (info --json, stats --json), or as
 * text, the totals in one line and with @per_stream a row per stream
 * (info: totals; stats: the table). In cmd_export.c, next to info. */
void cli_json_relayd(struct hvlog_json_writer *w, const struct hvlog_trace_meta *m);
void cli_print_relayd(const struct hvlog_trace_meta *m, bool per_stream);
struct hvlog_trace_rotation;
/* What a rotated recording's rotated-out chunks held, per log type and LP
 * (its manifest's "rotated_out"): as the member "rotated_out" of the open
 * JSON object, or as text lines "rotated out: local: ...". info and
 * stats of the recording's directory. In info_rotation.c. */
void cli_json_rotated_out(struct hvlog_json_writer *w, const struct hvlog_trace_rotation *rot);
void cli_print_rotated_out(const struct hvlog_trace_rotation *rot);
/*
 * cli_output_outside_input - false, after one line "hvlog: CMD: ...", when
 * writing @output would replace @input or land inside it (the input a
 * trace directory, its hvlog-trace.json or a raw file); compared by device
 * and inode, never by spelling. True otherwise (also when a path does not
 * exist yet: the command then reports it).
 */
bool cli_output_outside_input(const char *cmd, const char *input, const char *output);

/*
 * cli_finish_stdout - flush and close stdout when command @cmd (NULL: none)
 * is done, returning its exit status: @status, or CLI_EXIT_FAILURE after
 * one line "hvlog: CMD: writing to stdout failed: REASON" when @status was
 * a success but some output never reached its file (issue 13, A8: a full
 * disk, /dev/full). main() calls it once, for every command.
 */
int cli_finish_stdout(const char *cmd, int status);

#endif /* HVLOG_CLI_CLI_H */
