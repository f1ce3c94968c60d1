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
 * The source is a trace directory that `hvlog record` is writing
 * (top_trace.c). What the files do not hold is shown as "-" (top.h).
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

#define TOP_USAGE "hvlog top TRACE [-b|--batch] [-n|--iterations N] [--interval MS]"
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

struct top_run {
    const char *name;
    struct top_trace *source;
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
    return top_trace_sample(run->source, &run->cur, run->why, sizeof run->why);
}

static void render(struct top_run *run, top_line_fn line, void *arg)
{
    top_view_render(run->name, run->have_prev ? &run->prev : NULL, &run->cur,
                    run->cur.at_ns - run->start_ns, line, arg);
}

/* Sleep until @deadline_ns (CLOCK_MONOTONIC), or until a signal. */
static void nap_until(uint64_t deadline_ns)
{
    struct timespec ts;

    ts.tv_sec = (time_t)(deadline_ns / 1000000000u);
    ts.tv_nsec = (long)(deadline_ns % 1000000000u);
    while (!top_stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
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
        nap_until(next);
        if (top_stop)
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

static int run_curses(struct top_run *run)
{
    SCREEN *screen = newterm(NULL, stdout, stdin);
    uint64_t next = run->start_ns, shown = 0;
    int status = CLI_EXIT_OK;
    bool quit = false;

    if (!screen) {
        const char *term = getenv("TERM");

        cli_error("top: cannot drive the terminal '%s'; use --batch", term ? term : "");
        return CLI_EXIT_FAILURE;
    }
    cbreak();
    noecho();
    keypad(stdscr, TRUE);
    curs_set(0);
    draw(run);
    while (!quit && !top_stop) {
        uint64_t now;

        next += run->interval_ns;
        /* Keys between refreshes: q quits at once; a resize redraws the
         * last sample (no new sample: at most 10 a second). */
        while (!quit && !top_stop && (now = top_now_ns()) < next) {
            uint64_t wait_ms = (next - now + 999999u) / 1000000u;
            int ch;

            timeout((int)wait_ms);
            ch = getch();
            if (ch == 'q' || ch == 'Q' || ch == 3 /* ^C, should the tty pass it */)
                quit = true;
            else if (ch == KEY_RESIZE)
                draw(run);
        }
        if (quit || top_stop)
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

int cli_cmd_top(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"batch", no_argument, NULL, 'b'},
        {"iterations", required_argument, NULL, 'n'},
        {"interval", required_argument, NULL, 'i'},
        {NULL, 0, NULL, 0},
    };
    struct sigaction old[TOP_SIGNALS];
    struct top_run run;
    uint64_t interval_ms = TOP_INTERVAL_DEFAULT_MS;
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
        default:
            return CLI_EXIT_USAGE; /* cli_getopt said why */
        }
    }
    if (!cli_operands("top", argc, 1, 1, TOP_USAGE))
        return CLI_EXIT_USAGE;
    run.name = argv[optind];
    run.interval_ns = interval_ms * 1000000u;
    if (!top_trace_open(run.name, &run.source, run.why, sizeof run.why)) {
        cli_error("top: %s", run.why);
        return CLI_EXIT_FAILURE;
    }
    top_stop = 0;
    catch_signals(old);
    run.start_ns = top_now_ns();
    /* The first sample reads what is there already: the rates start from it. */
    if (!top_trace_sample(run.source, &run.cur, run.why, sizeof run.why)) {
        cli_error("top: %s", run.why);
        status = CLI_EXIT_FAILURE;
    } else if (batch || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
        status = run_text(&run);
    } else {
        status = run_curses(&run);
    }
    restore_signals(old);
    top_sample_free(&run.prev);
    top_sample_free(&run.cur);
    top_trace_close(run.source);
    return status;
}
