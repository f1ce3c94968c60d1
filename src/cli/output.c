/* SPDX-License-Identifier: MIT */
/*
 * What the commands share about their outputs: an output never lands
 * inside its own input, and stdout's errors are never ignored.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "hvlog/trace/trace.h" /* HVLOG_TRACE_META_FILE */

static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The directory part of @path (trailing slashes ignored), malloc'd: "." for "x". */
static char *parent_of(const char *path)
{
    size_t len = strlen(path);
    char *dir;

    while (len > 1 && path[len - 1] == '/')
        len--;
    while (len > 0 && path[len - 1] != '/')
        len--;
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len == 0)
        return strdup(".");
    dir = malloc(len + 1);
    if (dir) {
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    return dir;
}

bool cli_output_outside_input(const char *cmd, const char *input, const char *output)
{
    struct stat in, in_dir, out, st;
    bool have_dir = false;
    char *dir;
    int fd;

    if (stat(input, &in) != 0)
        return true; /* the reader reports it */
    if (S_ISDIR(in.st_mode)) {
        in_dir = in;
        have_dir = true;
    } else if (S_ISREG(in.st_mode)) {
        /* TRACE/hvlog-trace.json stands for its directory. */
        const char *base = strrchr(input, '/');
        if (strcmp(base ? base + 1 : input, HVLOG_TRACE_META_FILE) == 0) {
            dir = parent_of(input);
            have_dir = dir && stat(dir, &in_dir) == 0;
            free(dir);
        }
    }
    if (stat(output, &out) == 0 && (same_file(&out, &in) || (have_dir && same_file(&out, &in_dir)))) {
        cli_error("%s: %s: is the input %s itself; choose another output", cmd, output, input);
        return false;
    }
    if (!have_dir)
        return true;
    /* Walk up from the output's directory by "..", by device and inode, so
     * that no spelling (symbolic links, "a/../b", bind mounts) hides that
     * the output would be written inside the input (issue 13, A12). */
    dir = parent_of(output);
    fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    free(dir);
    for (int depth = 0; fd >= 0 && depth < 4096; depth++) {
        int up;

        if (fstat(fd, &st) != 0)
            break;
        if (same_file(&st, &in_dir)) {
            close(fd);
            cli_error("%s: %s: is inside the input trace %s; choose another output", cmd, output,
                      input);
            return false;
        }
        up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        close(fd);
        fd = up;
        if (fd >= 0) {
            struct stat parent;
            if (fstat(fd, &parent) != 0 || same_file(&parent, &st))
                break; /* the root: its ".." is itself */
        }
    }
    if (fd >= 0)
        close(fd);
    /* An output directory that does not exist yet cannot be opened: the
     * export fails to create its temporary there and destroys nothing. */
    return true;
}

int cli_finish_stdout(const char *cmd, int status)
{
    int e = 0;

    /* Data still in stdio's buffer goes out now, where its error can be
     * seen; an earlier short write left the error flag. Closing catches
     * what only close(2) reports (NFS). gnulib's close_stdout does the same. */
    bool failed = false;

    if (fflush(stdout) != 0) {
        failed = true;
        e = errno;
    }
    /* The error flag alone: a write failed earlier, its errno long gone. */
    failed = failed || ferror(stdout);
    if (fclose(stdout) != 0 && !failed) {
        failed = true;
        e = errno;
    }
    if (!failed || status != CLI_EXIT_OK)
        return status; /* a failing command has said why; one line only */
    cli_error("%s%swriting to stdout failed%s%s", cmd ? cmd : "", cmd ? ": " : "",
              e ? ": " : " (output lost)", e ? strerror(e) : "");
    return CLI_EXIT_FAILURE;
}
