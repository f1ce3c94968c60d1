/* SPDX-License-Identifier: MIT */
/*
 * `hvlog top TRACE`: a live view of a recording (issue 17, item 3): per
 * log type and LP, events/s, bytes/s and lost events/s, refreshed every
 * --interval (at least 100 ms: at most 10 times a second).
 *
 * On a terminal (stdin and stdout both TTYs, no --batch) it draws through
 * ncurses (Debian libncurses-dev), never hand-written escape codes, and
 * quits on q or Ctrl-C (SIGINT, SIGTERM, SIGHUP), restoring the terminal
 * with endwin() on every way out. Otherwise, or with --batch (top -b),
 * it prints one plain-text block per interval, the same lines, and stops
 * after --iterations blocks, on a signal, or once the recording is no
 * longer being written (after a last block). Exit 0 for each of those.
 *
 * Two sources (docs/cli.md "top"): a trace directory that `hvlog record`
 * is writing (top_trace.c; what the files do not hold is shown as "-"),
 * or, without TRACE, the simulated host run in-process with record's
 * workload options (top_sim.c), which knows everything. The loop only
 * sees struct top_source.
 */
#include <curses.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/top.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/sim/sim.h"

/* One line, for usage errors; `hvlog help top` has the whole usage (main.c). */
#define TOP_USAGE "hvlog top [TRACE] [OPTIONS] (see 'hvlog help top')"

/* At most 10 refreshes a second (issue 17). */
#define TOP_INTERVAL_MIN_MS 100u
#define TOP_INTERVAL_DEFAULT_MS 1000u

static volatile sig_atomic_t top_stop;

static void on_stop(int sig)
{
    top_stop = sig;
}

/* No SA_RESTART: a sleep or a wait for a key ends at once, and the loop
 * leaves through its one exit, which restores the terminal. Installed
 * before ncurses starts, so ncurses leaves these signals to us. */
static const int top_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define TOP_SIGNALS (sizeof top_signals / sizeof top_signals[0])

static void catch_signals(struct sigaction old[TOP_SIGNALS])
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < TOP_SIGNALS; i++)
        sigaction(top_signals[i], &sa, &old[i]);
}

static void restore_signals(const struct sigaction old[TOP_SIGNALS])
{
    for (size_t i = 0; i < TOP_SIGNALS; i++)
        sigaction(top_signals[i], &old[i], NULL);
}

/* What the loop samples: one of the two sources, behind three calls. */
struct top_source {
    void *impl;
    bool (*sample)(void *impl, struct top_sample *s, char *why, size_t why_len);
    /* Keep the source going until @until_ns: the simulated host's root
     * reads its buffers meanwhile; a trace needs nothing (a nap). */
    void (*pump)(void *impl, uint64_t until_ns);
    void (*close)(void *impl);
};

/* Sleep until @deadline_ns (CLOCK_MONOTONIC), or until a signal. */
static void nap_until(uint64_t deadline_ns)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
    ts.tv_nsec = (long)(deadline_ns % 1000000000u);
    while (!top_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

static bool trace_sample(void *impl, struct top_sample *s, char *why, size_t why_len)
{
    return top_trace_sample(impl, s, why, why_len);
}

static void trace_pump(void *impl, uint64_t until_ns)
{
    (void)impl;
    nap_until(until_ns);
}

static void trace_close(void *impl)
{
    top_trace_close(impl);
}

static bool sim_sample(void *impl, struct top_sample *s, char *why, size_t why_len)
{
    return top_sim_sample(impl, s, why, why_len);
}

static void sim_pump(void *impl, uint64_t until_ns)
{
    top_sim_pump(impl, until_ns);
}

static void sim_close(void *impl)
{
    top_sim_close(impl);
}

struct top_run {
    const char *name;
    struct top_source source;
    struct top_sample prev, cur;
    bool have_prev;
    uint64_t start_ns, interval_ns;
    uint64_t iterations; /* 0: no limit */
    char why[512];
};

/* The next sample, the current one kept as the previous. */
static bool take_sample(struct top_run *run)
{
    if (!top_sample_copy(&run->prev, &run->cur)) {
        snprintf(run->why, sizeof run->why, "out of memory");
        return false;
    }
    run->have_prev = true;
    return run->source.sample(run->source.impl, &run->cur, run->why, sizeof run->why);
}

/* Keep the source going until @deadline_ns, in slices of at most 20 ms
 * so that a signal (and, on a terminal, a key: @keys) is seen soon.
 * False when the user asked to quit. */
#define TOP_SLICE_NS 20000000u
static bool wait_until(struct top_run *run, uint64_t deadline_ns, bool (*keys)(struct top_run *))
{
    uint64_t now;

    while (!top_stop && (now = top_now_ns()) < deadline_ns) {
        uint64_t until = deadline_ns - now > TOP_SLICE_NS ? now + TOP_SLICE_NS : deadline_ns;

        run->source.pump(run->source.impl, until);
        if (keys && !keys(run))
            return false;
    }
    return !top_stop;
}

static void render(struct top_run *run, top_line_fn line, void *arg)
{
    top_view_render(run->name, run->have_prev ? &run->prev : NULL, &run->cur,
                    run->cur.at_ns - run->start_ns, line, arg);
}

/* ---- plain text ---- */

static void text_line(void *arg, const char *line, bool bold)
{
    (void)arg;
    (void)bold;
    puts(line);
}

static int run_text(struct top_run *run)
{
    uint64_t next = run->start_ns;

    for (uint64_t n = 0; run->iterations == 0 || n < run->iterations; n++) {
        next += run->interval_ns;
        if (!wait_until(run, next, NULL))
            break;
        if (!take_sample(run)) {
            cli_error("top: %s", run->why);
            return CLI_EXIT_FAILURE;
        }
        render(run, text_line, NULL);
        putchar('\n');
        fflush(stdout);
        if (run->cur.done)
            break;
    }
    return CLI_EXIT_OK;
}

/* ---- the terminal (ncurses) ---- */

struct screen_pos {
    int row;
};

static void curses_line(void *arg, const char *line, bool bold)
{
    struct screen_pos *pos = arg;

    if (pos->row >= LINES)
        return;
    if (bold)
        attron(A_BOLD);
    mvaddnstr(pos->row, 0, line, COLS);
    if (bold)
        attroff(A_BOLD);
    pos->row++;
}

static void draw(struct top_run *run)
{
    struct screen_pos pos = {0};

    erase();
    render(run, curses_line, &pos);
    if (pos.row < LINES)
        mvaddnstr(LINES - 1, 0, "q: quit", COLS);
    refresh();
}

/* The keys pressed since the last look: false on q (or a ^C the tty
 * passed through); a resize redraws the last sample (no new sample: at
 * most 10 a second). */
static bool curses_keys(struct top_run *run)
{
    int ch;

    while ((ch = getch()) != ERR) {
        if (ch == 'q' || ch == 'Q' || ch == 3)
            return false;
        if (ch == KEY_RESIZE)
            draw(run);
    }
    return true;
}

static int run_curses(struct top_run *run)
{
    SCREEN *screen = newterm(NULL, stdout, stdin);
    uint64_t next = run->start_ns, shown = 0;
    int status = CLI_EXIT_OK;

    if (!screen) {
        const char *term = getenv("TERM");

        cli_error("top: cannot drive the terminal '%s'; use --batch", term ? term : "");
        return CLI_EXIT_FAILURE;
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE); /* wait_until's slices do the waiting */
    curs_set(0);
    draw(run);
    for (;;) {
        next += run->interval_ns;
        if (!wait_until(run, next, curses_keys))
            break;
        if (!take_sample(run)) {
            status = CLI_EXIT_FAILURE;
            break;
        }
        draw(run);
        if (run->iterations && ++shown >= run->iterations)
            break;
    }
    endwin();
    delscreen(screen);
    if (status != CLI_EXIT_OK)
        cli_error("top: %s", run->why); /* after endwin: on the restored terminal */
    return status;
}

/* Record's workload options (docs/cli.md "record"), for the simulated host. */
static bool sim_option(int opt, struct top_sim_config *c)
{
    switch (opt) {
    case 'l': return cli_number("top", "--lps", optarg, 1, HVLOG_SIM_MAX_LPS, &c->lps);
    case 's': return cli_number("top", "--seed", optarg, 0, UINT64_MAX, &c->seed);
    case 'r': return cli_number("top", "--rate", optarg, 0, 100000000, &c->rate);
    case 'p': return cli_number("top", "--payload", optarg, 0, 4096, &c->payload);
    case 'B': return cli_number("top", "--buffers", optarg, 1, HV_EVENTLOG_MAX_BUFFER_COUNT, &c->buffers);
    case 'P': return cli_number("top", "--pages", optarg, 1, HV_EVENTLOG_MAX_BUFFER_PAGES, &c->pages);
    case 't': return cli_number("top", "--threshold", optarg, 1, HV_EVENTLOG_MAX_BUFFER_COUNT, &c->threshold);
    case 'g': return cli_number("top", "--global (per mille)", optarg, 0, 1000, &c->global_pm);
    case 'd': return cli_number("top", "--duration (ms)", optarg, 1, 3600000, &c->duration_ms);
    default: return false;
    }
}

static bool open_source(struct top_run *run, const char *trace, const struct top_sim_config *sim)
{
    if (trace) {
        struct top_trace *t;

        if (!top_trace_open(trace, &t, run->why, sizeof run->why))
            return false;
        run->name = trace;
        run->source = (struct top_source){t, trace_sample, trace_pump, trace_close};
    } else {
        struct top_sim *t;

        if (!top_sim_open(sim, &t, run->why, sizeof run->why))
            return false;
        run->name = "simulated host";
        run->source = (struct top_source){t, sim_sample, sim_pump, sim_close};
    }
    return true;
}

int cli_cmd_top(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"batch", no_argument, NULL, 'b'},         {"iterations", required_argument, NULL, 'n'},
        {"interval", required_argument, NULL, 'i'}, {"lps", required_argument, NULL, 'l'},
        {"seed", required_argument, NULL, 's'},    {"rate", required_argument, NULL, 'r'},
        {"payload", required_argument, NULL, 'p'}, {"buffers", required_argument, NULL, 'B'},
        {"pages", required_argument, NULL, 'P'},   {"threshold", required_argument, NULL, 't'},
        {"global", required_argument, NULL, 'g'},  {"duration", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0},
    };
    /* record's defaults (cmd_record.c), but no end: until the user quits. */
    struct top_sim_config sim = {.lps = 4, .seed = 1, .rate = 100000, .payload = 32, .pages = 4,
                                 .threshold = 2, .global_pm = 5};
    struct sigaction old[TOP_SIGNALS];
    struct top_run run;
    uint64_t interval_ms = TOP_INTERVAL_DEFAULT_MS;
    const char *sim_given = NULL;
    bool batch = false;
    int opt, status;

    memset(&run, 0, sizeof run);
    while ((opt = cli_getopt("top", argc, argv, "bn:", longopts)) != -1) {
        switch (opt) {
        case 'b':
            batch = true;
            break;
        case 'n':
            if (!cli_number("top", "--iterations", optarg, 1, UINT32_MAX, &run.iterations))
                return CLI_EXIT_USAGE;
            break;
        case 'i':
            if (!cli_number("top", "--interval", optarg, TOP_INTERVAL_MIN_MS, 3600000u, &interval_ms))
                return CLI_EXIT_USAGE;
            break;
        case '?':
            return CLI_EXIT_USAGE; /* cli_getopt said why */
        default:
            if (!sim_option(opt, &sim))
                return CLI_EXIT_USAGE;
            for (const struct option *o = longopts; o->name; o++)
                sim_given = o->val == opt ? o->name : sim_given;
            break;
        }
    }
    if (!cli_operands("top", argc, 0, 1, TOP_USAGE))
        return CLI_EXIT_USAGE;
    if (optind < argc && sim_given) {
        cli_error("top: --%s is an option of the simulated host, which takes no TRACE", sim_given);
        return CLI_EXIT_USAGE;
    }
    if (sim.buffers == 0)
        sim.buffers = sim.lps * 4 > HV_EVENTLOG_MAX_BUFFER_COUNT ? HV_EVENTLOG_MAX_BUFFER_COUNT : sim.lps * 4;
    if (sim.threshold > sim.buffers) {
        cli_error("top: --threshold %llu exceeds --buffers %llu", (unsigned long long)sim.threshold,
                  (unsigned long long)sim.buffers);
        return CLI_EXIT_USAGE;
    }
    run.interval_ns = interval_ms * 1000000u;
    top_stop = 0;
    catch_signals(old);
    if (!open_source(&run, optind < argc ? argv[optind] : NULL, &sim)) {
        restore_signals(old);
        cli_error("top: %s", run.why);
        return CLI_EXIT_FAILURE;
    }
    run.start_ns = top_now_ns();
    /* The first sample reads what is there already: the rates start from it. */
    if (!run.source.sample(run.source.impl, &run.cur, run.why, sizeof run.why)) {
        cli_error("top: %s", run.why);
        status = CLI_EXIT_FAILURE;
    } else if (batch || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
        status = run_text(&run);
    } else {
        status = run_curses(&run);
    }
    run.source.close(run.source.impl);
    restore_signals(old);
    top_sample_free(&run.prev);
    top_sample_free(&run.cur);
    return status;
}
