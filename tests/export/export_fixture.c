/* SPDX-License-Identifier: MIT */
/*
 * export_fixture OUTDIR: the synthetic traces and their exports that the
 * babeltrace2 / python3-bt2 / golden-file tests read (CTest fixture
 * "export_outputs"). For each case NAME it writes NAME.trace (or NAME.raw),
 * NAME.ctf, NAME.json (Perfetto JSON), NAME.pftrace (Perfetto protobuf)
 * and NAME.expect.json; then inputs only:
 * raw files mixing log types (mixed-*.raw) and traces the exporters must
 * refuse (back-*.trace); last a trace with buffers the exports skip
 * (bad-entries.*).
 *
 * export_fixture OUTDIR scale: only the "scale" case, 2,048 LPs of one
 * buffer each (issue 16): its CTF export has 2,048 stream files, read by
 * babeltrace2 under the default `ulimit -n 1024` (test label "scale").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hvlog/abi/eventlog.h"
#include "hvlog/export/ctf.h"
#include "hvlog/export/perfetto.h"
#include "synth.h"

struct fixture_case {
    const char *name;
    bool raw;
    struct synth_spec spec;
};

static const struct fixture_case cases[] = {
    {"small", false, {1, 2, 3, 1, 4, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER}},
    {"big", false, {1, 4, 40, 2, 1000, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, true, SYNTH_IN_ORDER}},
    {"current", true, {1, 3, 6, 1, 60, HVLOG_ABI_CURRENT, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER}},
    {"tsc", false, {1, 2, 5, 1, 50, HVLOG_ABI_2013, HvEventLogEntryTimeTsc, true, false, SYNTH_IN_ORDER}},
    {"global", false, {0, 1, 5, 1, 30, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER}},
};

static char *path_of(const char *dir, const char *name, const char *suffix)
{
    size_t n = strlen(dir) + strlen(name) + strlen(suffix) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s%s", dir, name, suffix);
    return p;
}

/* Export DIR/NAME<suffix> to DIR/NAME.ctf, DIR/NAME.json and DIR/NAME.pftrace. */
static int export_case(const char *dir, const char *name, const char *suffix)
{
    struct hvlog_trace_reader *r = NULL;
    struct hvlog_export_options opt = {.force = true};
    struct hvlog_export_error err;
    char *input = path_of(dir, name, suffix);
    char *ctf = path_of(dir, name, ".ctf");
    char *json = path_of(dir, name, ".json");
    char *pftrace = path_of(dir, name, ".pftrace");
    int rc = -1;

    if (input && ctf && json && pftrace) {
        if (hvlog_trace_open(input, &r, &err) == HVLOG_EXPORT_OK &&
            hvlog_export_ctf(r, ctf, &opt, NULL, &err) == HVLOG_EXPORT_OK &&
            hvlog_export_perfetto(r, json, &opt, NULL, &err) == HVLOG_EXPORT_OK &&
            hvlog_export_perfetto_proto(r, pftrace, &opt, NULL, &err) == HVLOG_EXPORT_OK)
            rc = 0;
        else
            fprintf(stderr, "export_fixture: %s: %s\n", name, err.message);
    }
    hvlog_trace_close(r);
    free(input);
    free(ctf);
    free(json);
    free(pftrace);
    return rc;
}

static int run_case(const char *dir, const struct fixture_case *c)
{
    struct synth_expect expect;
    char *input = path_of(dir, c->name, c->raw ? ".raw" : ".trace");
    char *exp = path_of(dir, c->name, ".expect.json");
    int rc = -1;

    if (!input || !exp)
        goto out;
    if ((c->raw ? synth_write_raw(&c->spec, input, &expect)
                : synth_write_trace(&c->spec, input, &expect)) != 0) {
        fprintf(stderr, "export_fixture: %s: cannot write the input\n", c->name);
        goto out;
    }
    if (export_case(dir, c->name, c->raw ? ".raw" : ".trace") == 0)
        rc = synth_write_expect(&c->spec, &expect, exp);
out:
    free(input);
    free(exp);
    return rc;
}

/* Two groups in one trace, both on the reference clock: one CTF trace,
 * two stream classes, merged by time. Checked with `reads` and `counter`. */
static int run_two_groups(const char *dir)
{
    static const struct synth_spec specs[2] = {
        {1, 2, 4, 1, 20, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER},
        {0, 1, 4, 1, 20, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER},
    };
    struct synth_expect expect[2], both;
    char *input = path_of(dir, "two", ".trace");
    char *exp = path_of(dir, "two", ".expect.json");
    int rc = -1;

    if (input && exp && synth_write_groups(specs, 2, input, expect) == 0 &&
        export_case(dir, "two", ".trace") == 0) {
        both = expect[0];
        both.total_events += expect[1].total_events;
        both.total_lost += expect[1].total_lost;
        both.total_buffers += expect[1].total_buffers;
        rc = synth_write_expect(&specs[0], &both, exp);
    }
    free(input);
    free(exp);
    return rc;
}

/* Two groups on the QPC basis at 25 MHz, anchored (qpc_frequency_hz,
 * qpc_at_init): absolute CTF clocks that babeltrace2 merges; hvlog decode
 * shows their wall-clock time (golden qpc-utc.txt). */
static int run_qpc_pair(const char *dir)
{
    static const struct synth_spec specs[2] = {
        {1, 2, 2, 1, 6, HVLOG_ABI_CURRENT, HvEventLogEntryTimeQpc, true, false, SYNTH_IN_ORDER},
        {0, 1, 2, 1, 4, HVLOG_ABI_CURRENT, HvEventLogEntryTimeQpc, true, false, SYNTH_IN_ORDER},
    };
    struct synth_expect expect[2], both;
    char *input = path_of(dir, "qpc", ".trace");
    char *exp = path_of(dir, "qpc", ".expect.json");
    int rc = -1;

    if (input && exp && synth_write_groups(specs, 2, input, expect) == 0 &&
        synth_edit_meta(input, "\"qpc_frequency_hz\": 10000000", "\"qpc_frequency_hz\": 25000000") == 1 &&
        export_case(dir, "qpc", ".trace") == 0) {
        both = expect[0];
        both.total_events += expect[1].total_events;
        both.total_lost += expect[1].total_lost;
        both.total_buffers += expect[1].total_buffers;
        rc = synth_write_expect(&specs[0], &both, exp);
    }
    free(input);
    free(exp);
    return rc;
}

/* Bare files of local and global buffers interleaved (hvlog decode reads
 * them; checked by decode_check.sh and the decode golden files):
 * mixed-2013.raw, mixed-current.raw, and mixed-both.raw whose local buffers
 * are in the current convention and 2 pages, its global ones 2013 and 1. */
static int run_mixed(const char *dir)
{
    static const struct {
        const char *name;
        struct synth_spec specs[2];
    } mixed[] = {
        {"mixed-2013",
         {{1, 2, 3, 1, 6, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER},
          {0, 1, 3, 1, 4, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER}}},
        {"mixed-current",
         {{1, 2, 3, 1, 6, HVLOG_ABI_CURRENT, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER},
          {0, 1, 3, 1, 4, HVLOG_ABI_CURRENT, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER}}},
        {"mixed-both",
         {{1, 2, 3, 2, 5, HVLOG_ABI_CURRENT, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER},
          {0, 1, 3, 1, 4, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER}}},
    };
    int rc = 0;

    for (size_t i = 0; i < sizeof mixed / sizeof mixed[0] && rc == 0; i++) {
        struct synth_expect expect[2], both;
        char *input = path_of(dir, mixed[i].name, ".raw");
        char *exp = path_of(dir, mixed[i].name, ".expect.json");

        rc = -1;
        if (input && exp && synth_write_raw_mixed(mixed[i].specs, 2, input, expect) == 0) {
            both = expect[0];
            both.total_events += expect[1].total_events;
            both.total_lost += expect[1].total_lost;
            both.total_buffers += expect[1].total_buffers;
            rc = synth_write_expect(&mixed[i].specs[0], &both, exp);
        }
        free(input);
        free(exp);
    }
    return rc;
}

/* Traces whose time goes back on LP 0 (invalid input for both exports). */
static int run_backwards(const char *dir)
{
    static const struct {
        const char *name;
        enum synth_backwards where;
    } backs[] = {{"back-in-buffer", SYNTH_BACK_IN_BUFFER}, {"back-across", SYNTH_BACK_ACROSS_BUFFERS}};
    int rc = 0;

    for (size_t i = 0; i < sizeof backs / sizeof backs[0] && rc == 0; i++) {
        struct synth_spec spec = {1, 2, 4, 1, 10, HVLOG_ABI_2013, HvEventLogEntryTimeReference,
                                  true, false, backs[i].where};
        struct synth_expect expect;
        char *input = path_of(dir, backs[i].name, ".trace");

        rc = input ? synth_write_trace(&spec, input, &expect) : -1;
        free(input);
    }
    return rc;
}

/*
 * A trace with two buffers whose headers are fine and whose entries are
 * not (LP 0's third in fill order, LP 1's first, which has a loss), and
 * its export with skip_corrupt: bad-entries.trace, .ctf, .json, .pftrace and
 * .expect.json (what is left once the two are skipped). babeltrace2 reads
 * the CTF; tests/cli/export_corrupt.sh exports the trace through the CLI.
 */
static int run_bad_entries(const char *dir)
{
    static const struct synth_spec spec = {
        1, 3, 6, 1, 30, HVLOG_ABI_2013, HvEventLogEntryTimeReference, true, true, SYNTH_IN_ORDER};
    struct hvlog_export_options opt = {.force = true, .skip_corrupt = true};
    struct hvlog_export_summary sum;
    struct hvlog_export_error err;
    struct hvlog_trace_reader *r = NULL;
    struct synth_expect expect;
    char *input = path_of(dir, "bad-entries", ".trace");
    char *ctf = path_of(dir, "bad-entries", ".ctf");
    char *json = path_of(dir, "bad-entries", ".json");
    char *pftrace = path_of(dir, "bad-entries", ".pftrace");
    char *exp = path_of(dir, "bad-entries", ".expect.json");
    int rc = -1;

    if (!input || !ctf || !json || !pftrace || !exp || synth_write_trace(&spec, input, &expect) != 0 ||
        synth_break_entries(input, 1, 0, 2, NULL, &expect) != 0 ||
        synth_break_entries(input, 1, 1, 0, NULL, &expect) != 0) {
        fprintf(stderr, "export_fixture: bad-entries: cannot write the input\n");
    } else if (hvlog_trace_open(input, &r, &err) != HVLOG_EXPORT_OK ||
               hvlog_export_ctf(r, ctf, &opt, &sum, &err) != HVLOG_EXPORT_OK ||
               sum.corrupt_skipped != 2 ||
               hvlog_export_perfetto(r, json, &opt, &sum, &err) != HVLOG_EXPORT_OK ||
               sum.corrupt_skipped != 2 ||
               hvlog_export_perfetto_proto(r, pftrace, &opt, &sum, &err) != HVLOG_EXPORT_OK ||
               sum.corrupt_skipped != 2) {
        fprintf(stderr, "export_fixture: bad-entries: %s\n", err.message);
    } else {
        rc = synth_write_expect(&spec, &expect, exp);
    }
    hvlog_trace_close(r);
    free(input);
    free(ctf);
    free(json);
    free(pftrace);
    free(exp);
    return rc;
}

/* One buffer of 8 entries per LP, with loss, in the current convention. */
static const struct fixture_case scale_case = {
    "scale", false, {1, SYNTH_MAX_LPS, 1, 1, 8, HVLOG_ABI_CURRENT, HvEventLogEntryTimeReference, true, false, SYNTH_IN_ORDER}};

int main(int argc, char **argv)
{
    bool scale = argc == 3 && strcmp(argv[2], "scale") == 0;

    if (argc != 2 && !scale) {
        fprintf(stderr, "usage: export_fixture OUTDIR [scale]\n");
        return 2;
    }
    if (mkdir(argv[1], 0777) != 0) {
        struct stat st;
        if (stat(argv[1], &st) != 0 || !S_ISDIR(st.st_mode)) {
            perror(argv[1]);
            return 1;
        }
    }
    if (scale) {
        if (run_case(argv[1], &scale_case) != 0)
            return 1;
        printf("export_fixture: the scale case written to %s\n", argv[1]);
        return 0;
    }
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (run_case(argv[1], &cases[i]) != 0)
            return 1;
    }
    if (run_two_groups(argv[1]) != 0 || run_qpc_pair(argv[1]) != 0 || run_mixed(argv[1]) != 0 ||
        run_backwards(argv[1]) != 0 || run_bad_entries(argv[1]) != 0)
        return 1;
    printf("export_fixture: %zu cases written to %s\n", sizeof cases / sizeof cases[0] + 8, argv[1]);
    return 0;
}
