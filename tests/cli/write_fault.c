/* SPDX-License-Identifier: MIT */
/*
 * write_fault.so: write-side fault injection for the CLI tests (issue 13,
 * item 4), loaded with LD_PRELOAD. Every k-th write(2) to a file whose path
 * contains HVLOG_FAULT_MATCH fails the way HVLOG_FAULT says:
 *
 *   enospc   -1, errno ENOSPC (a full disk)
 *   eio      -1, errno EIO (a failing disk)
 *   short    writes half the bytes and returns that (legal; callers loop)
 *
 * HVLOG_FAULT_EVERY=k (default 1). Each injected fault appends one line to
 * HVLOG_FAULT_LOG, so a test can tell that the shim was active (under a
 * sanitizer the executable's own write interceptor comes first and the
 * shim never runs: the test then skips). Not built with the sanitizers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef ssize_t (*write_fn)(int, const void *, size_t);

static unsigned long matching_writes;

static int fault_applies(int fd)
{
    const char *match = getenv("HVLOG_FAULT_MATCH");
    char link[64], path[4096];
    ssize_t n;

    if (!match || !*match)
        return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = '\0';
    return strstr(path, match) != NULL;
}

static write_fn real_write(void)
{
    static write_fn fn;

    if (!fn)
        fn = (write_fn)dlsym(RTLD_NEXT, "write");
    return fn;
}

static void note(const char *what, int fd, size_t len)
{
    const char *log = getenv("HVLOG_FAULT_LOG");
    char line[128];
    int lfd, n;

    if (!log)
        return;
    lfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (lfd < 0)
        return;
    n = snprintf(line, sizeof line, "%s fd %d len %zu write %lu\n", what, fd, len, matching_writes);
    if (n > 0)
        (void)real_write()(lfd, line, (size_t)n);
    close(lfd);
}

__attribute__((visibility("default"))) ssize_t write(int fd, const void *buf, size_t len)
{
    const char *kind = getenv("HVLOG_FAULT");
    unsigned long every = strtoul(getenv("HVLOG_FAULT_EVERY") ? getenv("HVLOG_FAULT_EVERY") : "1",
                                  NULL, 10);

    if (!kind || !fault_applies(fd) || ++matching_writes % (every ? every : 1) != 0)
        return real_write()(fd, buf, len);
    note(kind, fd, len);
    if (strcmp(kind, "enospc") == 0) {
        errno = ENOSPC;
        return -1;
    }
    if (strcmp(kind, "eio") == 0) {
        errno = EIO;
        return -1;
    }
    return real_write()(fd, buf, len > 1 ? len / 2 : len); /* short */
}
