/* SPDX-License-Identifier: MIT */
/* `hvlog abi`: the ABI tables as the library knows them, printed from the
 * same X-macro tables that the engine and the decoders use. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "hvlog/hvlog.h"

static void print_calls(void)
{
    const struct hvlog_call_info *c;

    printf("%-6s  %-32s  %-10s  %-6s  %8s  %-6s  %8s  %s\n", "code", "call", "verb", "2013",
           "in-2013", "cur.", "in-cur.", "output");
    for (size_t i = 0; (c = hvlog_call_info_at(i)) != NULL; i++)
        printf("0x%04X  %-32s  %-10s  %-6s  %8u  %-6s  %8u  %s\n", c->code, c->name,
               c->short_name, hvlog_call_convention_name(c->convention_2013), c->input_bytes_2013,
               hvlog_call_convention_name(c->convention_current), c->input_bytes_current,
               c->has_output ? "GpaPages[BufferPages]" : "-");
}

static void print_statuses(void)
{
    for (unsigned v = 0; v <= 0xFFFF; v++) {
        const char *name = hvlog_status_name((hv_status_t)v);
        if (name)
            printf("0x%04X  %-42s  %s\n", v, name, hvlog_status_text((hv_status_t)v));
    }
}

static void print_enum(const char *title, const char *(*name)(uint32_t), uint32_t max)
{
    printf("%s:", title);
    for (uint32_t v = 0; v <= max; v++) {
        const char *n = name(v);
        if (n)
            printf(" %" PRIu32 "=%s", v, n);
    }
    printf("\n");
}

static void print_entries(void)
{
    const struct hvlog_entry_type_info *e;

    for (size_t i = 0; (e = hvlog_entry_type_at(i)) != NULL; i++)
        printf("%-18s 0x%04X  %-40s  group 0x%016" PRIX64 "  (%s)\n",
               hvlog_eventlog_type_name(e->log_type), e->entry_type, e->name, e->group, e->params);
}

static void print_flags(void)
{
    const struct hvlog_enable_flag_info *f;

    for (size_t i = 0; (f = hvlog_enable_flag_at(i)) != NULL; i++)
        printf("%-18s 0x%016" PRIX64 "  %-38s  %s\n", hvlog_eventlog_type_name(f->log_type),
               f->value, f->name, f->short_name);
}

int cli_cmd_abi(int argc, char **argv)
{
    static const struct option no_options[] = {{NULL, 0, NULL, 0}};
    const char *what;

    if (cli_getopt("abi", argc, argv, "", no_options) != -1)
        return CLI_EXIT_USAGE; /* cli_getopt said why */
    if (!cli_operands("abi", argc, 0, 1, "hvlog abi [calls|statuses|types|states|entries|flags]"))
        return CLI_EXIT_USAGE;
    what = optind < argc ? argv[optind] : "calls";
    if (strcmp(what, "calls") == 0) {
        printf("hvlog %s: the event-log hypercalls\n", hvlog_version());
        print_calls();
    } else if (strcmp(what, "statuses") == 0) {
        print_statuses();
    } else if (strcmp(what, "types") == 0) {
        print_enum("log types", hvlog_eventlog_type_name, 16);
        print_enum("time bases", hvlog_time_basis_name, 16);
        print_enum("modes", hvlog_eventlog_mode_name, 16);
    } else if (strcmp(what, "states") == 0) {
        print_enum("buffer states", hvlog_buffer_state_name, 16);
    } else if (strcmp(what, "entries") == 0) {
        print_entries();
    } else if (strcmp(what, "flags") == 0) {
        print_flags();
    } else {
        cli_error("abi: unknown table '%s' (calls, statuses, types, states, entries, flags)", what);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}
