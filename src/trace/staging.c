/* SPDX-License-Identifier: MIT */
/*
 * Staged outputs: nothing appears under the name the user asked for until
 * it is complete (issue 6: "a failure never leaves a half-written file").
 *
 *   directory:  mkdir  PARENT/.BASE.tmp-PID-N        write files inside
 *               [force: rename BASE -> .BASE.old-PID-N]
 *               rename .BASE.tmp-PID-N -> BASE       remove the old one
 *   file:       open   PARENT/.BASE.tmp-PID-N        write
 *               force: rename -> BASE;  else link -> BASE (EEXIST: refuse), unlink tmp
 *
 * Temporary names start with '.', so a crash leaves only hidden names,
 * which babeltrace2 also ignores inside a CTF directory. Every file is
 * fsync'ed before its rename and the parent directory after it. Names are
 * made unique by PID, a process-wide counter and a clock nonce, and
 * created with O_EXCL / mkdir, so two writers never share a temporary.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* sync_file_range(2), Linux only: hvlog__export_start_writeback */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "trace/trace_internal.h"
#include "hvlog/trace/rotate.h" /* a rotated recording's names */
#include "hvlog/trace/trace.h" /* the group and file names each output writes */

int hvlog__export_write_all(int fd, const void *bytes, size_t len)
{
    const uint8_t *p = bytes;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int hvlog__export_pread_all(int fd, void *bytes, size_t len, uint64_t offset, size_t *got)
{
    uint8_t *p = bytes;
    size_t done = 0;

    while (done < len) {
        ssize_t n = pread(fd, p + done, len - done, (off_t)(offset + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *got = done;
            return errno;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    *got = done;
    return 0;
}

void hvlog__export_start_writeback(int fd, uint64_t offset, uint64_t len)
{
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    /* Only starts the write-out (no wait, no metadata): errors, if any,
     * are reported by the fsync of hvlog__export_close_synced. */
    (void)sync_file_range(fd, (off_t)offset, (off_t)len, SYNC_FILE_RANGE_WRITE);
#else
    (void)fd;
    (void)offset;
    (void)len;
#endif
}

int hvlog__export_close_synced(int fd)
{
    int e = 0;

    if (fsync(fd) != 0 && errno != EINVAL) /* EINVAL: a file that cannot be synced (a pipe) */
        e = errno;
    if (close(fd) != 0 && e == 0)
        e = errno;
    return e;
}

static void sync_dir(const char *path)
{
    int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;

    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* After a successful rename: make it durable, free the names. */
static void finish_commit(const char *parent, char **tmp, char **final)
{
    sync_dir(parent);
    free(*tmp);
    free(*final);
    *tmp = *final = NULL;
}

/* Split @path into its parent directory and last component (both malloc'd). */
static enum hvlog_export_status split_path(const char *path, char **parent, char **base,
                                           struct hvlog_export_error *err)
{
    size_t len = path ? strlen(path) : 0;
    const char *slash;
    size_t start;

    *parent = *base = NULL;
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len == 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "empty output path");
    slash = NULL;
    for (size_t i = 0; i < len; i++) {
        if (path[i] == '/')
            slash = path + i;
    }
    start = slash ? (size_t)(slash - path) + 1 : 0;
    if (len - start == 0 || (len - start == 1 && path[start] == '.') ||
        (len - start == 2 && path[start] == '.' && path[start + 1] == '.'))
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: not a usable output name", path);
    *base = malloc(len - start + 1);
    *parent = slash ? malloc(start + 1) : hvlog__export_strdup(".");
    if (!*base || !*parent) {
        free(*base);
        free(*parent);
        *parent = *base = NULL;
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    memcpy(*base, path + start, len - start);
    (*base)[len - start] = '\0';
    if (slash) {
        /* "/x": the parent is "/", not "". */
        size_t plen = start > 1 ? start - 1 : 1;
        memcpy(*parent, path, plen);
        (*parent)[plen] = '\0';
    }
    return HVLOG_EXPORT_OK;
}

/* The longest part of BASE a temporary name keeps (bytes). */
#define TMP_BASE_KEEP 96u

/* A fresh name PARENT/.BASE.KIND-PID-N-NONCE, created by @make (mkdir or
 * open O_EXCL), which returns >= 0 on success. A BASE longer than
 * TMP_BASE_KEEP is shortened to its first TMP_BASE_KEEP bytes plus '~' and
 * a hash of the whole, so that the temporary fits NAME_MAX whenever BASE
 * does (issue 13: a name of 225..255 bytes used to be refused because of
 * the ~30 bytes this adds). */
static char *unique_name(const char *parent, const char *base, const char *kind,
                         int (*make)(const char *path, void *arg), void *arg, int *result)
{
    static atomic_uint counter;
    size_t base_len = strlen(base);
    int keep = (int)(base_len > TMP_BASE_KEEP ? TMP_BASE_KEEP : base_len);
    char hash[12] = "";

    if (base_len > TMP_BASE_KEEP) {
        uint32_t h = 2166136261u; /* FNV-1a */
        for (size_t i = 0; i < base_len; i++)
            h = (h ^ (uint8_t)base[i]) * 16777619u;
        snprintf(hash, sizeof hash, "~%08x", h);
    }
    for (int attempt = 0; attempt < 100; attempt++) {
        struct timespec ts;
        char *path;
        size_t n;

        clock_gettime(CLOCK_REALTIME, &ts);
        n = strlen(parent) + (size_t)keep + strlen(hash) + strlen(kind) + 64;
        path = malloc(n);
        if (!path) {
            *result = -1;
            errno = ENOMEM;
            return NULL;
        }
        snprintf(path, n, "%s/.%.*s%s.%s-%ld-%u-%lx", parent, keep, base, hash, kind, (long)getpid(),
                 atomic_fetch_add(&counter, 1u), (unsigned long)ts.tv_nsec);
        *result = make(path, arg);
        if (*result >= 0)
            return path;
        free(path);
        if (errno != EEXIST)
            return NULL;
    }
    return NULL;
}

/* Refuse a last component the file system cannot hold, naming it: else
 * the failure would come from the temporary, and blame the directory. */
static enum hvlog_export_status check_name_length(const char *path, const char *parent,
                                                  const char *base, struct hvlog_export_error *err)
{
    long max;

    errno = 0;
    max = pathconf(parent, _PC_NAME_MAX);
    if (max <= 0)
        max = 255; /* unknown: the common limit (Linux NAME_MAX) */
    if (strlen(base) > (size_t)max)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID,
                           "%s: the name is %zu bytes long, more than the %ld this file system allows",
                           path, strlen(base), max);
    return HVLOG_EXPORT_OK;
}

static int make_dir(const char *path, void *arg)
{
    (void)arg;
    return mkdir(path, 0777);
}

static int make_file(const char *path, void *arg)
{
    (void)arg;
    return open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
}

/* Remove the files directly inside @path, and @levels levels of
 * directories below it the same way (never through a symbolic link), then
 * @path itself. */
static void remove_dir_levels(const char *path, unsigned levels)
{
    DIR *d = opendir(path);

    if (d) {
        const struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            struct stat st;
            char *sub;

            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                unlinkat(dirfd(d), de->d_name, 0) == 0 || levels == 0 ||
                fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                !S_ISDIR(st.st_mode) || !(sub = hvlog__export_join(path, de->d_name)))
                continue;
            remove_dir_levels(sub, levels - 1);
            free(sub);
        }
        closedir(d);
    }
    (void)rmdir(path);
}

/* Remove the files directly inside @path, then @path itself; one level
 * of directories too: a rotated recording's chunks (rotate.c), each a
 * directory of plain files. */
static void remove_dir(const char *path)
{
    remove_dir_levels(path, 1);
}

/*
 * The files each kind of output writes, known exactly (issue 13, A6). The
 * marker names the kind: a CTF export is "metadata" plus one stream file
 * "<group>_lp<N>" per LP (ctf.c); a trace is hvlog-trace.json plus one
 * "<group>.buffers" per log type (trace_writer.c). A writer that adds a
 * file adds its name here, or --force will refuse to replace its output.
 */
static bool ctf_file_is_ours(const char *name)
{
    if (strcmp(name, "metadata") == 0)
        return true;
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        const char *group = hvlog_trace_group_short(t);
        size_t len = group ? strlen(group) : 0;
        const char *lp;
        char *end;
        unsigned long v;

        if (!group || strncmp(name, group, len) != 0 || strncmp(name + len, "_lp", 3) != 0)
            continue;
        lp = name + len + 3;
        /* Exactly as ctf.c prints "%u": digits, no sign, no leading zero. */
        if (lp[0] < '0' || lp[0] > '9' || (lp[0] == '0' && lp[1] != '\0'))
            return false;
        errno = 0;
        v = strtoul(lp, &end, 10);
        return errno == 0 && *end == '\0' && v <= UINT32_MAX;
    }
    return false;
}

static bool trace_file_is_ours(const char *name)
{
    static const char meta_tmp[] = "." HVLOG_TRACE_META_FILE ".tmp-";

    if (strcmp(name, HVLOG_TRACE_META_FILE) == 0)
        return true;
    /* The closing metadata of a recording that died while writing it
     * (trace_writer.c, commit_recording). */
    if (strncmp(name, meta_tmp, sizeof meta_tmp - 1) == 0)
        return true;
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        const char *file = hvlog_trace_group_file(t), *zfile = hvlog_trace_group_file_compressed(t);
        if ((file && strcmp(name, file) == 0) || (zfile && strcmp(name, zfile) == 0))
            return true;
    }
    return false;
}

static const struct {
    const char *marker;
    bool (*is_ours)(const char *name);
} output_kinds[] = {
    {"metadata", ctf_file_is_ours},
    {HVLOG_TRACE_META_FILE, trace_file_is_ours},
};

/*
 * May --force replace directory @path? Only when it is empty, or when it
 * holds @marker and every entry in it is a plain file that this kind of
 * output writes (output_kinds; a marker not listed there allows only an
 * empty directory). So a directory where someone put a file of their own,
 * even beside a real export, is never removed: replacing it would unlink
 * that file (issue 13, A6).
 */
static enum hvlog_export_status check_replaceable(const char *path, const char *marker,
                                                  struct hvlog_export_error *err);

/* Is @name in a rotated recording @path (rotation.json beside it: a trace
 * writer's output too, hvlog/trace/rotate.h) one of its chunks, a
 * directory that is itself a replaceable trace? */
static enum hvlog_export_status check_chunk(const char *path, const char *name,
                                            struct hvlog_export_error *err)
{
    static const char prefix[] = HVLOG_TRACE_CHUNK_PREFIX;
    char *sub;
    enum hvlog_export_status status;
    const char *p = name + sizeof prefix - 1;

    if (strncmp(name, prefix, sizeof prefix - 1) != 0 || !*p || strspn(p, "0123456789") != strlen(p))
        return hvlog__export_fail(err, HVLOG_EXPORT_EXISTS,
                           "%s: holds '%s', which is not a plain file; not replacing it", path, name);
    sub = hvlog__export_join(path, name);
    if (!sub)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    status = check_replaceable(sub, HVLOG_TRACE_META_FILE, err);
    free(sub);
    return status;
}

static enum hvlog_export_status check_replaceable(const char *path, const char *marker,
                                                  struct hvlog_export_error *err)
{
    bool (*is_ours)(const char *name) = NULL;
    struct stat st;
    DIR *d;
    bool marked = false, empty = true, rotated;
    enum hvlog_export_status status = HVLOG_EXPORT_OK;

    for (size_t i = 0; i < sizeof(output_kinds) / sizeof(output_kinds[0]); i++) {
        if (strcmp(marker, output_kinds[i].marker) == 0)
            is_ours = output_kinds[i].is_ours;
    }
    if (lstat(path, &st) != 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return hvlog__export_fail(err, HVLOG_EXPORT_EXISTS, "%s: exists and is not a directory; not replacing it",
                           path);
    d = opendir(path);
    if (!d)
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", path, strerror(errno));
    /* A trace writer's output may also be a rotated recording: the
     * manifest, and chunks that are traces themselves. */
    rotated = strcmp(marker, HVLOG_TRACE_META_FILE) == 0 &&
              fstatat(dirfd(d), HVLOG_TRACE_ROTATION_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
              S_ISREG(st.st_mode);
    /* Read it all first, so that a foreign directory is named as such
     * before any one of its files is. */
    for (;;) {
        const struct dirent *de = readdir(d);

        if (!de)
            break;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        empty = false;
        if (strcmp(de->d_name, rotated ? HVLOG_TRACE_ROTATION_FILE : marker) == 0)
            marked = true;
        if (status != HVLOG_EXPORT_OK)
            continue;
        if (rotated && strcmp(de->d_name, HVLOG_TRACE_ROTATION_FILE) == 0)
            continue;
        if (rotated && fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISDIR(st.st_mode))
            status = check_chunk(path, de->d_name, err);
        else if (rotated)
            status = hvlog__export_fail(err, HVLOG_EXPORT_EXISTS,
                                 "%s: holds '%s', which hvlog does not write there; not replacing it",
                                 path, de->d_name);
        else if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            status = hvlog__export_fail(err, HVLOG_EXPORT_EXISTS,
                                 "%s: holds '%s', which is not a plain file; not replacing it", path,
                                 de->d_name);
        else if (!is_ours || !is_ours(de->d_name))
            status = hvlog__export_fail(err, HVLOG_EXPORT_EXISTS,
                                 "%s: holds '%s', which hvlog does not write there; not replacing it",
                                 path, de->d_name);
    }
    closedir(d);
    if (!empty && !marked)
        status = hvlog__export_fail(err, HVLOG_EXPORT_EXISTS,
                             "%s: exists and has no %s, so it is not an output of this kind; "
                             "not replacing it",
                             path, rotated ? HVLOG_TRACE_ROTATION_FILE : marker);
    return status;
}

enum hvlog_export_status hvlog__export_staged_dir_begin(struct export_staged_dir *s, const char *path,
                                                 bool force, const char *marker,
                                                 struct hvlog_export_error *err)
{
    char *parent = NULL, *base = NULL;
    struct stat st;
    enum hvlog_export_status status;
    int made;

    memset(s, 0, sizeof(*s));
    status = split_path(path, &parent, &base, err);
    if (status != HVLOG_EXPORT_OK)
        return status;
    status = check_name_length(path, parent, base, err);
    if (status != HVLOG_EXPORT_OK) {
        free(parent);
        free(base);
        return status;
    }
    if (lstat(path, &st) == 0) {
        if (!force)
            status = hvlog__export_fail(err, HVLOG_EXPORT_EXISTS, "%s: exists; not replacing it without force",
                                 path);
        else
            status = check_replaceable(path, marker, err);
    } else if (errno != ENOENT) {
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", path, strerror(errno));
    }
    if (status == HVLOG_EXPORT_OK) {
        s->tmp = unique_name(parent, base, "tmp", make_dir, NULL, &made);
        if (!s->tmp)
            status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: cannot create a directory there: %s",
                                 parent, strerror(errno));
    }
    if (status == HVLOG_EXPORT_OK) {
        s->final = hvlog__export_strdup(path);
        if (!s->final) {
            remove_dir(s->tmp);
            free(s->tmp);
            s->tmp = NULL;
            status = hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
        }
    }
    s->force = force;
    s->marker = marker;
    free(parent);
    free(base);
    return status;
}

enum hvlog_export_status hvlog__export_staged_dir_commit(struct export_staged_dir *s,
                                                  struct hvlog_export_error *err)
{
    char *parent = NULL, *base = NULL, *old = NULL;
    struct stat st;
    enum hvlog_export_status status;
    int made;

    status = split_path(s->final, &parent, &base, err);
    if (status != HVLOG_EXPORT_OK) {
        hvlog__export_staged_dir_abort(s);
        return status;
    }
    sync_dir(s->tmp);
    if (lstat(s->final, &st) == 0) {
        /* It may have appeared since begin: check again. */
        if (!s->force)
            status = hvlog__export_fail(err, HVLOG_EXPORT_EXISTS, "%s: exists; not replacing it without force",
                                 s->final);
        else
            status = check_replaceable(s->final, s->marker, err);
        if (status == HVLOG_EXPORT_OK) {
            /* rename() onto the empty placeholder replaces it atomically. */
            old = unique_name(parent, base, "old", make_dir, NULL, &made);
            if (!old || rename(s->final, old) != 0) {
                status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: cannot move it aside: %s", s->final,
                                     strerror(errno));
                if (old)
                    (void)rmdir(old);
                free(old);
                old = NULL;
            }
        }
    }
    if (status == HVLOG_EXPORT_OK && rename(s->tmp, s->final) != 0) {
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: cannot rename the finished output into place: %s",
                             s->final, strerror(errno));
        if (old)
            (void)rename(old, s->final);
        free(old);
        old = NULL;
    }
    if (status != HVLOG_EXPORT_OK) {
        free(parent);
        free(base);
        hvlog__export_staged_dir_abort(s);
        return status;
    }
    if (old) {
        remove_dir(old);
        free(old);
    }
    finish_commit(parent, &s->tmp, &s->final);
    free(parent);
    free(base);
    return HVLOG_EXPORT_OK;
}

void hvlog__export_staged_dir_abort(struct export_staged_dir *s)
{
    if (s->tmp)
        remove_dir(s->tmp);
    free(s->tmp);
    free(s->final);
    s->tmp = s->final = NULL;
}

enum hvlog_export_status hvlog__export_staged_file_begin(struct export_staged_file *s, const char *path,
                                                  bool force, struct hvlog_export_error *err)
{
    char *parent = NULL, *base = NULL;
    struct stat st;
    enum hvlog_export_status status;

    memset(s, 0, sizeof(*s));
    s->fd = -1;
    status = split_path(path, &parent, &base, err);
    if (status != HVLOG_EXPORT_OK)
        return status;
    status = check_name_length(path, parent, base, err);
    if (status != HVLOG_EXPORT_OK) {
        free(parent);
        free(base);
        return status;
    }
    if (lstat(path, &st) == 0) {
        if (!force)
            status = hvlog__export_fail(err, HVLOG_EXPORT_EXISTS, "%s: exists; not replacing it without force",
                                 path);
        else if (!S_ISREG(st.st_mode))
            status = hvlog__export_fail(err, HVLOG_EXPORT_EXISTS, "%s: exists and is not a regular file; not replacing it",
                                 path);
    } else if (errno != ENOENT) {
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", path, strerror(errno));
    }
    if (status == HVLOG_EXPORT_OK) {
        s->tmp = unique_name(parent, base, "tmp", make_file, NULL, &s->fd);
        if (!s->tmp) {
            s->fd = -1;
            status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: cannot create a file there: %s", parent,
                                 strerror(errno));
        }
    }
    if (status == HVLOG_EXPORT_OK) {
        s->final = hvlog__export_strdup(path);
        if (!s->final)
            status = hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    free(parent);
    free(base);
    if (status != HVLOG_EXPORT_OK)
        hvlog__export_staged_file_abort(s);
    return status;
}

enum hvlog_export_status hvlog__export_staged_file_commit(struct export_staged_file *s, bool force,
                                                   struct hvlog_export_error *err)
{
    enum hvlog_export_status status = HVLOG_EXPORT_OK;
    int e = hvlog__export_close_synced(s->fd);
    char *parent = NULL, *base = NULL;

    s->fd = -1;
    if (e != 0) {
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", s->final, strerror(e));
    } else if (force) {
        if (rename(s->tmp, s->final) != 0)
            status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: cannot rename the finished output into place: %s",
                                 s->final, strerror(errno));
    } else if (link(s->tmp, s->final) == 0) {
        (void)unlink(s->tmp);
    } else if (errno == EEXIST) {
        status = hvlog__export_fail(err, HVLOG_EXPORT_EXISTS, "%s: exists; not replacing it without force",
                             s->final);
    } else {
        /* A file system without hard links: check, then rename. */
        struct stat st;
        if (lstat(s->final, &st) == 0)
            status = hvlog__export_fail(err, HVLOG_EXPORT_EXISTS, "%s: exists; not replacing it without force",
                                 s->final);
        else if (rename(s->tmp, s->final) != 0)
            status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: cannot rename the finished output into place: %s",
                                 s->final, strerror(errno));
    }
    if (status != HVLOG_EXPORT_OK) {
        hvlog__export_staged_file_abort(s);
        return status;
    }
    split_path(s->final, &parent, &base, NULL);
    finish_commit(parent, &s->tmp, &s->final);
    free(parent);
    free(base);
    return HVLOG_EXPORT_OK;
}

void hvlog__export_staged_file_abort(struct export_staged_file *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    if (s->tmp)
        (void)unlink(s->tmp);
    free(s->tmp);
    free(s->final);
    s->tmp = s->final = NULL;
}

int hvlog__export_create_file(const char *dir, const char *name, struct hvlog_export_error *err)
{
    char *path = hvlog__export_join(dir, name);
    int fd;

    if (!path) {
        hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", path, strerror(errno));
    free(path);
    return fd;
}

void hvlog__export_remove_dir(const char *path)
{
    remove_dir(path);
}
