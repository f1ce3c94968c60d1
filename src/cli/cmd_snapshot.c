/* SPDX-License-Identifier: MIT */
/*
 * `hvlog snapshot PID`: ask a flight recorder (`hvlog record --snapshot`,
 * record_snapshot.c) for a snapshot and print where it was written.
 *
 * The recording is recognised by the control file it keeps open,
 * DIR/hvlog-snapshot.ctl, found among PID's open files (/proc/PID/fd): no
 * guess from a command line, and a PID that is not a snapshot recording
 * (another program, a plain `hvlog record`) holds no such file. Its text
 * names its PID (checked) and the last snapshot started and finished. The
 * command reads it, sends SIGUSR1, and waits (--timeout, 10 s by default)
 * until a snapshot started after that reading has finished: that one
 * holds the ring as of the request or later. It keeps its own descriptor
 * of the control file, so a recording that stops meanwhile (its last
 * snapshot then serves the request) is still read to the end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/record_snapshot.h"

/* The control file PID holds open: its path into @path. */
static bool find_control(long pid, char *path, size_t len)
{
    char fd_dir[64];
    struct dirent *de;
    DIR *d;
    static const char suffix[] = "/" RECORD_SNAPSHOT_CONTROL;
    bool found = false;

    snprintf(fd_dir, sizeof fd_dir, "/proc/%ld/fd", pid);
    d = opendir(fd_dir);
    if (!d) {
        if (errno == ENOENT)
            cli_error("snapshot: no process %ld", pid);
        else
            cli_error("snapshot: cannot look at process %ld's open files: %s", pid, strerror(errno));
        return false;
    }
    while (!found && (de = readdir(d)) != NULL) {
        ssize_t n;

        if (de->d_name[0] == '.')
            continue;
        n = readlinkat(dirfd(d), de->d_name, path, len - 1);
        if (n <= 0 || (size_t)n >= len - 1)
            continue;
        path[n] = '\0';
        found = (size_t)n >= sizeof suffix - 1 &&
                strcmp(path + n - (sizeof suffix - 1), suffix) == 0;
    }
    closedir(d);
    if (!found)
        cli_error("snapshot: process %ld is not an hvlog recording in snapshot mode "
                  "(hvlog record --snapshot)", pid);
    return found;
}

int cli_cmd_snapshot(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    uint64_t pid, timeout_ms = 10000, want;
    struct record_snapshot_ctl st;
    char path[PATH_MAX], snap[PATH_MAX + 32];
    struct timespec nap = {0, 10000000}; /* 10 ms between looks */
    uint64_t waited_ms = 0;
    int opt, fd, status = CLI_EXIT_FAILURE;

    while ((opt = cli_getopt("snapshot", argc, argv, "", longopts)) != -1) {
        switch (opt) {
        case 't': if (!cli_number("snapshot", "--timeout (ms)", optarg, 1, 3600000, &timeout_ms)) return CLI_EXIT_USAGE; break;
        default: return CLI_EXIT_USAGE;
        }
    }
    if (!cli_operands("snapshot", argc, 1, 1, "hvlog snapshot PID [--timeout MS]"))
        return CLI_EXIT_USAGE;
    if (!cli_number("snapshot", "PID", argv[optind], 1, INT_MAX, &pid))
        return CLI_EXIT_USAGE;
    if (!find_control((long)pid, path, sizeof path))
        return CLI_EXIT_FAILURE;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        cli_error("snapshot: %s: %s", path, strerror(errno));
        return CLI_EXIT_FAILURE;
    }
    if (!record_snapshot_ctl_read(fd, &st) || st.pid != (long)pid) {
        cli_error("snapshot: %s: not the control file of process %" PRIu64, path, pid);
        goto out;
    }
    want = st.started + 1;
    if (kill((pid_t)pid, SIGUSR1) != 0) {
        cli_error("snapshot: cannot signal process %" PRIu64 ": %s", pid, strerror(errno));
        goto out;
    }
    for (;;) {
        if (!record_snapshot_ctl_read(fd, &st)) {
            cli_error("snapshot: %s: unreadable", path);
            goto out;
        }
        if (st.done >= want)
            break;
        if (waited_ms >= timeout_ms) {
            cli_error("snapshot: no snapshot from process %" PRIu64 " within %" PRIu64 " ms", pid,
                      timeout_ms);
            goto out;
        }
        /* A recording gone without finishing one (killed): say so now. */
        if (kill((pid_t)pid, 0) != 0 && errno == ESRCH && st.started < want) {
            cli_error("snapshot: process %" PRIu64 " ended before taking the snapshot", pid);
            goto out;
        }
        nanosleep(&nap, NULL);
        waited_ms += 10;
    }
    /* The control file's directory holds the snapshots. */
    if (strrchr(path, '/'))
        *strrchr(path, '/') = '\0';
    snprintf(snap, sizeof snap, "%s/snapshot-%03" PRIu64, path, want);
    /* Sequences finish in order: when a later one finished too, the
     * directory says whether @want was written. */
    if ((st.done == want && strcmp(st.outcome, "ok") != 0) || access(snap, F_OK) != 0) {
        cli_error("snapshot: process %" PRIu64 " could not write %s (its stderr says why)", pid,
                  snap);
        goto out;
    }
    printf("%s\n", snap);
    status = CLI_EXIT_OK;
out:
    close(fd);
    return status;
}
