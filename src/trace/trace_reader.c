/* SPDX-License-Identifier: MIT */
/*
 * The trace reader (hvlog/trace/trace.h).
 *
 * A group file is a sequence of equal-sized buffers; the stride comes from
 * the metadata (buffer_pages x 4096) or, for a raw file, from the first
 * header. Because the stride is fixed, a buffer whose header lies is
 * skipped by position and the next one is still found: corruption never
 * desynchronises the reader. A cursor owns one stride of memory and reads
 * with pread, so sequential and random access share one path.
 *
 * Checks, in order, for every buffer (nothing in a file is trusted):
 *   1. the whole stride could be read (else the file is truncated);
 *   2. the header, by hvlog_buffer_summarize: BufferSize equal to the
 *      stride, NextBufferOffset inside it, Type the group's;
 *   3. BufferIndex below the group's MaximumBufferCount, when known;
 *   4. every entry, by hvlog_buffer_walk, before the first is handed out.
 * The exporters' index (hvlog__export_trace_header_order) reads the 72-byte header
 * of each buffer only and runs checks 2 and 3: that is all the fill order
 * and a packet's context need, and it spares a whole extra copy of the
 * trace out of the page cache. Check 4 then runs once, when the write pass
 * reads the buffer whole. hvlog_trace_fill_order (hvlog decode) still
 * reads and walks every buffer.
 *
 * A raw file (a bare concatenation of buffers captured elsewhere) may hold
 * several log types, each with its own buffer size and header convention
 * (a global and a local group rarely share a geometry). Opening it reads
 * every header once (raw_scan) and gives each type found a group; when the
 * file turns out to hold more than one type, the reader keeps a table of
 * where each buffer starts and which group it belongs to. A file of one
 * type keeps no table and is read by position, exactly like a group file.
 *
 * A compressed group file (groups[].compression "zstd", zframe.c) holds
 * one prefixed zstd frame per buffer. Opening its cursor steps through the
 * prefixes once and keeps a table of where each frame starts (12 bytes of
 * the file read, 16 bytes of table kept, per buffer); reading buffer i
 * then reads frame i, with the copy of the buffer's header its prefix
 * ends with, into the cursor's frame buffer (at most ZSTD_compressBound of
 * a buffer, plus 72) and decompresses it into the cursor's one buffer,
 * where checks 2 to 4 run as for a plain file. Check 1 becomes the
 * frame's: it must say, and decompress to, exactly the group's buffer
 * size, and the copy must be the header, else that buffer is corrupt and
 * the next is found by its prefix. The header-only index reads the copy.
 * A torn last unit is a torn last buffer; bytes no prefix describes are
 * reported once, at the end, as corrupt.
 *
 * A rotated recording (hvlog/trace/rotate.h) is read as one trace: its
 * reader holds a reader per kept chunk, and each group's cursor a cursor
 * per chunk, whose buffers it numbers on from the chunk before (as if the
 * chunks' group files were one file). Reading buffer i reads it through
 * the chunk's cursor, with every check above; a message about it names the
 * chunk's file and its index there. The merge reads a chunk's file through
 * hvlog__trace_cursor_part.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* SEEK_DATA (lseek(2)): raw_scan steps over holes */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trace/trace_internal.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/le.h"
#include "hvlog/trace/rotate.h"
#include "hvlog/trace/trace.h"

/* Where one buffer of a raw file of several types starts, and its type. */
struct raw_slot {
    uint64_t offset;
    uint32_t type;
};

struct hvlog_trace_reader {
    char *path;     /* as given */
    char *dir;      /* where group files are; NULL for a raw file */
    bool raw;
    struct hvlog_trace_meta meta;
    /* A raw file of several types: every whole buffer in file order (NULL
     * for one type: buffer i starts at i x stride), and the bytes after the
     * last whole buffer, reported by the cursor of type tail_type. */
    struct raw_slot *raw_slots;
    uint64_t raw_count;
    uint64_t raw_tail;
    uint32_t raw_tail_type;
    /* Whole buffers the metadata counts (stats.buffers) beyond those the
     * group files hold: a trace cut exactly at a buffer boundary. Reported
     * by the cursor of the last group, at its end. */
    uint64_t missing, present;
    /* A rotated recording read as one trace (docs/trace-format.md section
     * 1.1, hvlog_trace_join): its chunks' readers in the recording's order
     * and each one's chunk number; every group's cursor reads their group
     * files one after the other. The manifest, when opened from the
     * parent (its lps moved into meta). */
    struct trace_part *parts;
    uint32_t part_count;
    bool rotated;
    struct hvlog_trace_rotation rotation;
};

struct hvlog_trace_cursor {
    int fd;
    char *file;     /* path, for messages */
    uint32_t type;
    enum hvlog_abi_profile convention;
    uint32_t stride;        /* bytes per buffer */
    uint32_t buffer_count;  /* MaximumBufferCount; 0 = unknown */
    uint64_t count;         /* whole buffers of this group in the file */
    uint64_t tail;          /* bytes after the last whole buffer (0 if another group reports them) */
    uint64_t torn;          /* ... ignored instead: an unfinished recording's torn last buffer */
    uint64_t written;       /* closing statistics: buffers the recorder wrote; UINT64_MAX = unknown */
    uint64_t next;          /* sequential position: a file index */
    const struct raw_slot *slots; /* the reader's table (a raw file of several types), or NULL */
    uint64_t slot_count;    /* entries in slots: every buffer of the file */
    bool tail_reported;
    uint64_t missing, present; /* the reader's, on the last group's cursor only */
    bool missing_reported;
    uint8_t *bytes;         /* one stride */
    /* A compressed group file (zframe.c): every whole frame, the
     * decompression context and room for one frame; and the bytes from
     * damaged_at on, which no prefix describes (reported once, at the end). */
    struct export_zframe *frames;
    struct export_zdec *zdec;
    uint8_t *zbuf;
    uint64_t damaged_at, damaged_bytes;
    bool damaged_reported;
    char damaged_why[96];
    /* A rotated recording's (reader parts): one cursor per chunk, the
     * first file index of each (file indexes run on through the chunks, as
     * if their files were one), and the part the sequential position is
     * in. The other members but type, stride, count, torn and file are
     * unused then. */
    struct cursor_part {
        struct hvlog_trace_cursor *cursor;
        uint64_t base;
    } *parts;
    uint32_t part_count, part_next;
};

static const char *convention_name(int convention)
{
    return convention == HVLOG_ABI_CURRENT ? "current" : "2013";
}

/* ---- opening ---- */

static enum hvlog_export_status read_meta(struct hvlog_trace_reader *r,
                                          struct hvlog_export_error *err)
{
    char *path = hvlog__export_join(r->dir, HVLOG_TRACE_META_FILE);
    enum hvlog_export_status status = HVLOG_EXPORT_OK;
    struct stat st;
    char *text = NULL;
    size_t got = 0;
    int fd, e;

    if (!path)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    fd = hvlog__export_open_regular(path, &st);
    if (fd < 0) {
        status = fd == -2   ? hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE, "%s: not a regular file", path)
                 : errno == ENOENT
                     ? hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE,
                                   "%s: not an hvlog trace (no " HVLOG_TRACE_META_FILE ")", r->dir)
                     : hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", path, strerror(errno));
        free(path);
        return status;
    }
    if ((uint64_t)st.st_size > HVLOG_TRACE_META_MAX_BYTES)
        status = hvlog__export_fail(err, HVLOG_EXPORT_BAD_META, "%s: larger than %u bytes", path,
                             HVLOG_TRACE_META_MAX_BYTES);
    else if (!(text = malloc((size_t)st.st_size + 1)))
        status = hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    else if ((e = hvlog__export_pread_all(fd, text, (size_t)st.st_size, 0, &got)) != 0)
        status = hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", path, strerror(e));
    close(fd);
    if (status == HVLOG_EXPORT_OK) {
        struct hvlog_export_error inner = {HVLOG_EXPORT_OK, ""};

        status = hvlog_trace_meta_parse(text, got, &r->meta, &inner);
        if (status != HVLOG_EXPORT_OK)
            hvlog__export_fail(err, status, "%s: %s", path, inner.message);
    }
    free(text);
    free(path);
    return status;
}

/* What one raw header says, when it reads as a buffer header at all. */
static bool raw_header(const uint8_t head[HV_EVENTLOG_BUFFER_HEADER_SIZE], int *convention,
                       uint32_t *type, uint32_t *size)
{
    uint64_t bytes;

    *convention = hvlog_header_convention_guess(head, HV_EVENTLOG_BUFFER_HEADER_SIZE);
    if (*convention < 0)
        return false;
    /* D9: a current BufferSize leaves the 72-byte header out. */
    bytes = hvlog_load_le32(head);
    if (*convention == HVLOG_ABI_CURRENT)
        bytes += HV_EVENTLOG_BUFFER_HEADER_SIZE;
    *type = hvlog_load_le32(head + offsetof(struct hv_eventlog_buffer_header, type));
    *size = (uint32_t)bytes;
    return *type < HVLOG_TRACE_MAX_GROUPS && bytes >= HV_PAGE_SIZE &&
           bytes <= (uint64_t)HV_EVENTLOG_MAX_BUFFER_PAGES * HV_PAGE_SIZE && bytes % HV_PAGE_SIZE == 0;
}

/* Room for one more entry in the table of a raw file of several types. */
static bool raw_table_grow(struct raw_slot **slots, uint64_t n, uint64_t *cap)
{
    struct raw_slot *more;

    if (n < *cap)
        return true;
    *cap = *cap ? *cap * 2 : 256;
    more = *cap <= SIZE_MAX / sizeof(*more) ? realloc(*slots, (size_t)*cap * sizeof(*more)) : NULL;
    if (!more)
        return false;
    *slots = more;
    return true;
}

/*
 * Every header of a raw file, in order, to find its groups. The first
 * buffer of a type fixes that type's size and convention; after it, the
 * type's buffers are stepped over by that size whatever their BufferSize
 * says, so a header that lies desynchronises nothing (the cursor then
 * reports that buffer as corrupt). A header that reads as no buffer at all
 * is counted with the buffer before it and stepped over by its size.
 *
 * Memory and time follow the data, not the file's length (issue 13, A3):
 * while one type has been seen, buffer i is at i x size and no table is
 * kept (it is built the moment a second type appears); and a hole of a
 * sparse file (SEEK_DATA) is stepped over whole, its buffers counted with
 * the type before it, never read one header at a time.
 */
static enum hvlog_export_status raw_scan(struct hvlog_trace_reader *r, int fd, uint64_t file_size,
                                         struct hvlog_export_error *err)
{
    uint32_t size_of[HVLOG_TRACE_MAX_GROUPS] = {0};
    int convention_of[HVLOG_TRACE_MAX_GROUPS] = {0};
    uint64_t off = 0, n = 0, cap = 0;
    struct raw_slot *slots = NULL;
    uint32_t prev = 0, first = 0, groups = 0;
    bool several = false;

    if (file_size < HV_EVENTLOG_BUFFER_HEADER_SIZE)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE,
                           "%s: not an hvlog trace or buffer file (%llu bytes, less than a buffer "
                           "header)",
                           r->path, (unsigned long long)file_size);
    while (off < file_size) {
        uint8_t head[HV_EVENTLOG_BUFFER_HEADER_SIZE];
        uint32_t type = prev, size = 0, t = 0;
        int convention = -1;
        size_t got = 0;

#ifdef SEEK_DATA
        if (off > 0 && !several) {
            /* A hole: its buffers (all zeros) are counted, not read. */
            off_t data = lseek(fd, (off_t)off, SEEK_DATA);
            uint64_t d = data < 0 ? file_size : (uint64_t)data;

            if (d > off + size_of[prev]) {
                uint64_t skip = (d - off) / size_of[prev];

                n += skip;
                off += skip * size_of[prev];
                if (off >= file_size)
                    break;
                if (file_size - off < size_of[prev]) {
                    r->raw_tail = file_size - off;
                    r->raw_tail_type = prev;
                    break;
                }
            }
        }
#endif
        if (file_size - off >= sizeof head) {
            int e = hvlog__export_pread_all(fd, head, sizeof head, off, &got);
            if (e != 0) {
                free(slots);
                return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", r->path, strerror(e));
            }
        }
        if (got == sizeof head && raw_header(head, &convention, &t, &size)) {
            type = t;
            if (size_of[type] == 0) {
                size_of[type] = size;
                convention_of[type] = convention;
                if (groups == 0)
                    first = type;
                groups |= 1u << type;
            }
        } else if (off == 0 && convention >= 0 && t >= HVLOG_TRACE_MAX_GROUPS) {
            free(slots); /* NULL: nothing was indexed yet */
            return hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE,
                               "%s: not an hvlog buffer file (the first buffer's Type is %u)",
                               r->path, t);
        } else if (off == 0) {
            free(slots);
            return hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE,
                               "%s: not an hvlog trace or buffer file (its first 72 bytes are no "
                               "event-log buffer header in either convention)",
                               r->path);
        }
        if (file_size - off < size_of[type]) {
            r->raw_tail = file_size - off;
            r->raw_tail_type = type;
            break;
        }
        if (!several && type != first) {
            /* A second type: from now on every buffer's place is kept. So
             * far buffer i was at i x size of the first type. */
            several = true;
            for (uint64_t i = 0; i < n; i++) {
                if (!raw_table_grow(&slots, i, &cap)) {
                    free(slots);
                    return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory indexing %s", r->path);
                }
                slots[i] = (struct raw_slot){i * size_of[first], first};
            }
        }
        if (several) {
            if (!raw_table_grow(&slots, n, &cap)) {
                free(slots);
                return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory indexing %s", r->path);
            }
            slots[n].offset = off;
            slots[n].type = type;
        }
        n++;
        off += size_of[type];
        prev = type;
    }
    r->meta.group_count = 0;
    for (uint32_t t = 0; t < HVLOG_TRACE_MAX_GROUPS; t++) {
        struct hvlog_trace_group *g;
        const char *base = strrchr(r->path, '/');

        if (!(groups & (1u << t)))
            continue;
        g = &r->meta.groups[r->meta.group_count++];
        g->type = t;
        snprintf(g->file, sizeof g->file, "%s", base ? base + 1 : r->path);
        g->convention = (enum hvlog_abi_profile)convention_of[t];
        g->buffer_pages = size_of[t] / HV_PAGE_SIZE;
    }
    /* The profile follows the file's first buffer (one host, one ABI). */
    snprintf(r->meta.abi_profile, sizeof r->meta.abi_profile, "%s",
             convention_name(convention_of[first]));
    if (several) {
        r->raw_slots = slots;
        r->raw_count = n;
    }
    return HVLOG_EXPORT_OK;
}

/* A bare concatenation of buffers: everything from the first header. */
static enum hvlog_export_status open_raw(struct hvlog_trace_reader *r,
                                         struct hvlog_export_error *err)
{
    enum hvlog_export_status status;
    struct stat st;
    int fd;

    fd = hvlog__export_open_regular(r->path, &st);
    if (fd < 0)
        return fd == -2 ? hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE, "%s: not a regular file", r->path)
                        : hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", r->path, strerror(errno));
    r->raw = true;
    r->meta.version = HVLOG_TRACE_FORMAT_VERSION;
    r->meta.closed = true; /* nothing is being recorded into a raw file */
    status = raw_scan(r, fd, (uint64_t)st.st_size, err);
    close(fd);
    return status;
}

/* How many whole buffers the group files hold, against the metadata's
 * count (issue 13: a cut at a buffer boundary was accepted silently). A
 * file that cannot be looked at counts 0 here; its cursor reports why. */
static void count_present(struct hvlog_trace_reader *r)
{
    uint64_t present = 0;

    for (uint32_t i = 0; i < r->meta.group_count; i++) {
        const struct hvlog_trace_group *g = &r->meta.groups[i];
        char *file;
        struct stat st;

        /* A compressed file's length says nothing of its buffers; a
         * version-3 recording counts them per group (buffers_written). */
        if (g->compression != HVLOG_TRACE_COMPRESSION_NONE)
            return;
        file = hvlog__export_join(r->dir, g->file);
        /* A cut buffer counts: the cursor reports it as the tail. */
        if (file && stat(file, &st) == 0 && S_ISREG(st.st_mode) && g->buffer_pages)
            present += ((uint64_t)st.st_size + (uint64_t)g->buffer_pages * HV_PAGE_SIZE - 1) /
                       ((uint64_t)g->buffer_pages * HV_PAGE_SIZE);
        free(file);
    }
    r->present = present;
    r->missing = r->meta.stats.buffers > present ? r->meta.stats.buffers - present : 0;
}

enum hvlog_export_status hvlog_trace_open(const char *path, struct hvlog_trace_reader **out,
                                         struct hvlog_export_error *err)
{
    struct hvlog_trace_reader *r;
    enum hvlog_export_status status;
    struct stat st;
    const char *base;

    if (!path || !out)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no trace path given");
    *out = NULL;
    if (stat(path, &st) != 0)
        return hvlog__export_fail(err, errno == ENOENT ? HVLOG_EXPORT_NOT_TRACE : HVLOG_EXPORT_IO, "%s: %s",
                           path, strerror(errno));
    r = calloc(1, sizeof(*r));
    if (!r || !(r->path = hvlog__export_strdup(path))) {
        free(r);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (S_ISDIR(st.st_mode)) {
        r->dir = hvlog__export_strdup(path);
        status = r->dir ? read_meta(r, err) : hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
        if (status == HVLOG_EXPORT_NOT_TRACE && hvlog_trace_is_rotated(path)) {
            /* A rotated recording's parent: its kept chunks, one trace. */
            hvlog_trace_close(r);
            return hvlog__trace_rotation_open(path, out, err);
        }
    } else if (S_ISREG(st.st_mode) && strcmp(base, HVLOG_TRACE_META_FILE) == 0) {
        /* TRACE/hvlog-trace.json names the trace directory. */
        size_t n = (size_t)(base - path);
        r->dir = n > 0 ? malloc(n + 1) : hvlog__export_strdup(".");
        if (r->dir && n > 0)
            snprintf(r->dir, n + 1, "%.*s", n == 1 ? 1 : (int)(n - 1), path);
        status = r->dir ? read_meta(r, err) : hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    } else if (S_ISREG(st.st_mode)) {
        status = open_raw(r, err);
    } else {
        status = hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE,
                             "%s: not a trace directory or a regular file", path);
    }
    if (status != HVLOG_EXPORT_OK) {
        hvlog_trace_close(r);
        return status;
    }
    /* A version-2 recording counts its buffers per group (buffers_written,
     * checked by each cursor); older traces only in total. */
    if (!r->raw && !(r->meta.group_count && r->meta.groups[0].buffers_written_known))
        count_present(r);
    *out = r;
    return HVLOG_EXPORT_OK;
}

void hvlog_trace_close(struct hvlog_trace_reader *r)
{
    if (!r)
        return;
    hvlog_trace_meta_release(&r->meta);
    for (uint32_t i = 0; i < r->part_count; i++)
        hvlog_trace_close(r->parts[i].reader);
    free(r->parts);
    hvlog_trace_rotation_release(&r->rotation);
    free(r->raw_slots);
    free(r->path);
    free(r->dir);
    free(r);
}

const struct hvlog_trace_meta *hvlog_trace_reader_meta(const struct hvlog_trace_reader *r)
{
    return r ? &r->meta : NULL;
}

bool hvlog_trace_reader_is_raw(const struct hvlog_trace_reader *r)
{
    return r && r->raw;
}

const char *hvlog_trace_reader_path(const struct hvlog_trace_reader *r)
{
    return r ? r->path : NULL;
}

/* ---- a rotated recording as one trace ---- */

/* Where the last name of directory @dir starts; *@len: its length
 * (trailing slashes left out). */
static const char *last_name(const char *dir, size_t *len)
{
    const char *end = dir + strlen(dir), *base;

    while (end > dir + 1 && end[-1] == '/')
        end--;
    for (base = end; base > dir && base[-1] != '/'; base--)
        ;
    *len = (size_t)(end - base);
    return base;
}

bool hvlog_trace_reader_chunk(const struct hvlog_trace_reader *r, uint64_t *index)
{
    static const char prefix[] = HVLOG_TRACE_CHUNK_PREFIX;
    char canonical[32], *parent;
    const char *base;
    size_t len;
    uint64_t n;
    char *end;
    bool yes;

    if (!r || r->raw || r->parts || !r->dir)
        return false;
    base = last_name(r->dir, &len);
    if (len <= sizeof prefix - 1 || strncmp(base, prefix, sizeof prefix - 1) != 0)
        return false;
    errno = 0;
    n = strtoull(base + sizeof prefix - 1, &end, 10);
    hvlog_trace_chunk_name(n, canonical, sizeof canonical);
    /* Exactly the writer's name, as the manifest's reader lists chunks. */
    if (errno || end != base + len || strlen(canonical) != len || strncmp(canonical, base, len) != 0)
        return false;
    parent = hvlog__export_join(r->dir, "..");
    yes = parent && hvlog_trace_is_rotated(parent);
    free(parent);
    if (yes && index)
        *index = n;
    return yes;
}

/* The same Initialize of every group (its inputs and the anchors read
 * when it ran) on the same root: what every chunk of one recording copies
 * from the recording's opening metadata, and two recordings never share. */
static bool same_opening(const struct hvlog_trace_meta *a, const struct hvlog_trace_meta *b)
{
    if (strcmp(a->root.hostname, b->root.hostname) != 0 || strcmp(a->abi_profile, b->abi_profile) != 0 ||
        a->tsc_frequency_hz != b->tsc_frequency_hz || a->qpc_frequency_hz != b->qpc_frequency_hz ||
        a->group_count != b->group_count)
        return false;
    for (uint32_t i = 0; i < a->group_count; i++) {
        const struct hvlog_trace_group *x = &a->groups[i], *y = &b->groups[i];

        if (x->type != y->type || x->convention != y->convention || x->buffer_count != y->buffer_count ||
            x->buffer_pages != y->buffer_pages || x->threshold != y->threshold ||
            x->time_basis != y->time_basis || x->system_time != y->system_time ||
            x->reference_time_at_init != y->reference_time_at_init || x->sources != y->sources ||
            x->qpc_at_init_known != y->qpc_at_init_known || x->qpc_at_init != y->qpc_at_init ||
            x->mode != y->mode || x->no_reference_anchor != y->no_reference_anchor ||
            x->compression != y->compression)
            return false;
    }
    return true;
}

bool hvlog_trace_same_recording(const struct hvlog_trace_reader *a, const struct hvlog_trace_reader *b)
{
    char *pa, *pb;
    struct stat sa, sb;
    bool yes;

    if (!hvlog_trace_reader_chunk(a, NULL) || !hvlog_trace_reader_chunk(b, NULL) ||
        !same_opening(&a->meta, &b->meta))
        return false;
    pa = hvlog__export_join(a->dir, "..");
    pb = hvlog__export_join(b->dir, "..");
    yes = pa && pb && stat(pa, &sa) == 0 && stat(pb, &sb) == 0 && sa.st_dev == sb.st_dev &&
          sa.st_ino == sb.st_ino;
    free(pa);
    free(pb);
    return yes;
}

/*
 * The joined reader's metadata: the first chunk's opening part (the
 * recording's: every chunk has the same), and what the chunks' closing
 * parts count summed (each counts its own buffers). Closed when every
 * chunk is. Host truths, a snapshot and relayd counters are not a chunk's
 * (the manifest has the host truths: hvlog__trace_reader_join).
 */
static enum hvlog_export_status join_meta(struct hvlog_trace_reader *r, struct hvlog_export_error *err)
{
    const struct hvlog_trace_meta *first = &r->parts[0].reader->meta;
    struct hvlog_trace_meta *m = &r->meta;

    *m = *first;
    m->command_line = NULL;
    m->lps = NULL;
    m->lp_count = 0;
    m->snapshot_present = false;
    memset(&m->snapshot, 0, sizeof m->snapshot);
    m->relayd_present = false;
    memset(&m->relayd, 0, sizeof m->relayd);
    if (first->command_line && !(m->command_line = hvlog__export_strdup(first->command_line)))
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    for (uint32_t i = 1; i < r->part_count; i++) {
        const struct hvlog_trace_meta *p = &r->parts[i].reader->meta;

        m->closed &= p->closed;
        m->stats.messages += p->stats.messages;
        m->stats.buffers += p->stats.buffers;
        m->stats.entries += p->stats.entries;
        m->stats.events_lost += p->stats.events_lost;
        m->stats.corrupt += p->stats.corrupt;
        if (p->stats.longest_chain > m->stats.longest_chain) /* a length: the longest */
            m->stats.longest_chain = p->stats.longest_chain;
        for (uint32_t g = 0; g < m->group_count; g++) {
            m->groups[g].buffers_written_known &= p->groups[g].buffers_written_known;
            m->groups[g].buffers_written += p->groups[g].buffers_written;
        }
    }
    return HVLOG_EXPORT_OK;
}

static void close_parts(struct trace_part *parts, uint32_t count)
{
    for (uint32_t i = 0; parts && i < count; i++)
        hvlog_trace_close(parts[i].reader);
    free(parts);
}

enum hvlog_export_status hvlog__trace_reader_join(const char *path, const char *dir,
                                                 struct trace_part *parts, uint32_t count,
                                                 struct hvlog_trace_rotation *rotation,
                                                 struct hvlog_trace_reader **out,
                                                 struct hvlog_export_error *err)
{
    struct hvlog_trace_reader *r = calloc(1, sizeof(*r));
    enum hvlog_export_status st = HVLOG_EXPORT_OK;

    *out = NULL;
    if (!r) {
        close_parts(parts, count);
        hvlog_trace_rotation_release(rotation);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    r->parts = parts;
    r->part_count = count;
    if (rotation) {
        r->rotation = *rotation;
        r->rotated = true;
        memset(rotation, 0, sizeof(*rotation));
    }
    for (uint32_t i = 1; i < count && st == HVLOG_EXPORT_OK; i++) {
        if (!same_opening(&parts[0].reader->meta, &parts[i].reader->meta))
            st = hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE,
                                    "%s and %s are not chunks of one recording (their groups were "
                                    "initialized differently)",
                                    parts[0].reader->path, parts[i].reader->path);
    }
    if (st == HVLOG_EXPORT_OK && !(path && (r->path = hvlog__export_strdup(path)) &&
                                   (r->dir = hvlog__export_strdup(dir))))
        st = hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    if (st == HVLOG_EXPORT_OK)
        st = join_meta(r, err);
    if (st == HVLOG_EXPORT_OK && r->rotated && r->rotation.closed) {
        /* The whole recording's, which no chunk knows: its client's
         * messages and ready lists, its host's truths per LP. */
        r->meta.stats.messages = r->rotation.stats.messages;
        r->meta.stats.longest_chain = r->rotation.stats.longest_chain;
        r->meta.lps = r->rotation.lps;
        r->meta.lp_count = r->rotation.lp_count;
        r->rotation.lps = NULL;
        r->rotation.lp_count = 0;
    }
    if (st != HVLOG_EXPORT_OK) {
        hvlog_trace_close(r);
        return st;
    }
    *out = r;
    return HVLOG_EXPORT_OK;
}

static int chunk_order(const void *pa, const void *pb)
{
    const struct trace_part *a = pa, *b = pb;

    return (a->chunk > b->chunk) - (a->chunk < b->chunk);
}

enum hvlog_export_status hvlog_trace_join(struct hvlog_trace_reader *const *readers, uint32_t count,
                                         struct hvlog_trace_reader **out,
                                         struct hvlog_export_error *err)
{
    struct trace_part *parts;
    enum hvlog_export_status st;
    char last[32], *path, *parent;
    const char *name;
    size_t name_len, len;

    if (!readers || !out || count == 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no chunks to join");
    *out = NULL;
    parts = calloc(count, sizeof(*parts));
    for (uint32_t i = 0; parts && i < count; i++)
        parts[i].reader = readers[i];
    if (!parts) {
        for (uint32_t i = 0; i < count; i++)
            hvlog_trace_close(readers[i]);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    for (uint32_t i = 0; i < count; i++) {
        if (!hvlog_trace_reader_chunk(parts[i].reader, &parts[i].chunk) ||
            !hvlog_trace_same_recording(parts[0].reader, parts[i].reader)) {
            st = hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s and %s are not chunks of one recording",
                                    parts[0].reader ? parts[0].reader->path : "?",
                                    parts[i].reader ? parts[i].reader->path : "?");
            close_parts(parts, count);
            return st;
        }
    }
    qsort(parts, count, sizeof(*parts), chunk_order); /* the recording's order */
    for (uint32_t i = 1; i < count; i++) {
        if (parts[i].chunk == parts[i - 1].chunk) {
            st = hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: the same chunk given twice",
                                    parts[i].reader->path);
            close_parts(parts, count);
            return st;
        }
    }
    /* Named for what it reads: "TRACE/chunk-000002..chunk-000004" (the
     * first chunk's path, its last name extended); its directory the
     * recording's, "TRACE/chunk-000002/..". */
    name = last_name(parts[0].reader->dir, &name_len);
    len = strlen(parts[0].reader->dir) + sizeof last + 3;
    hvlog_trace_chunk_name(parts[count - 1].chunk, last, sizeof last);
    path = malloc(len);
    if (path)
        snprintf(path, len, "%.*s%s%s", (int)(name - parts[0].reader->dir + name_len),
                 parts[0].reader->dir, count > 1 ? ".." : "", count > 1 ? last : "");
    parent = hvlog__export_join(parts[0].reader->dir, "..");
    /* Without a path the join fails for want of memory, and frees. */
    st = hvlog__trace_reader_join(parent ? path : NULL, parent, parts, count, NULL, out, err);
    free(path);
    free(parent);
    return st;
}

const struct hvlog_trace_rotation *hvlog_trace_reader_rotation(const struct hvlog_trace_reader *r)
{
    return r && r->rotated ? &r->rotation : NULL;
}

/* ---- cursors ---- */

/* A compressed group file: the frame table (zframe.c), and what follows
 * the last whole frame: a torn unit (the tail), or damaged bytes. */
static enum hvlog_export_status open_compressed(struct hvlog_trace_cursor *c, uint64_t file_size,
                                                struct hvlog_export_error *err)
{
    enum hvlog_export_status status;
    uint64_t end = 0;
    bool damaged = false;
    char why[96];

    c->zdec = hvlog__export_zdec_create();
    /* The header's copy and the frame, read together. */
    c->zbuf = malloc(HV_EVENTLOG_BUFFER_HEADER_SIZE + hvlog__export_zframe_bound(c->stride) -
                     EXPORT_ZFRAME_PREFIX);
    if (!c->zdec || !c->zbuf)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    status = hvlog__export_zframe_scan(c->fd, file_size, c->stride, &c->frames, &c->count, &end, &damaged,
                                why, sizeof why);
    if (status != HVLOG_EXPORT_OK)
        return hvlog__export_fail(err, status, "%s: %s", c->file, why);
    if (damaged) {
        c->damaged_at = end;
        c->damaged_bytes = file_size - end;
        snprintf(c->damaged_why, sizeof c->damaged_why, "%s", why);
    } else {
        c->tail = file_size - end;
    }
    return HVLOG_EXPORT_OK;
}

/*
 * A rotated recording's cursor (hvlog_trace_join): one cursor per chunk,
 * its buffers numbered on from the chunk before. A chunk whose group file
 * is gone was rotated out since the recording was opened (a recorder
 * still writing it deletes its oldest chunk as it goes): said so.
 */
static enum hvlog_export_status open_parts(const struct hvlog_trace_reader *r,
                                           const struct hvlog_trace_group *g,
                                           struct hvlog_trace_cursor **out,
                                           struct hvlog_export_error *err)
{
    struct hvlog_trace_cursor *c = calloc(1, sizeof(*c));
    char first[32], last[32];
    size_t len;

    if (!c || !(c->parts = calloc(r->part_count, sizeof(*c->parts)))) {
        hvlog_trace_cursor_close(c);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    c->fd = -1;
    c->type = g->type;
    c->convention = g->convention;
    c->stride = g->buffer_pages * HV_PAGE_SIZE;
    hvlog_trace_chunk_name(r->parts[0].chunk, first, sizeof first);
    hvlog_trace_chunk_name(r->parts[r->part_count - 1].chunk, last, sizeof last);
    /* For messages about the whole: "TRACE/chunk-000002..chunk-000004/local.buffers". */
    len = strlen(r->path) + strlen(first) + strlen(last) + strlen(g->file) + 5;
    if (!(c->file = malloc(len))) {
        hvlog_trace_cursor_close(c);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    snprintf(c->file, len, "%s/%s%s%s/%s", r->path, first, r->part_count > 1 ? ".." : "",
             r->part_count > 1 ? last : "", g->file);
    for (uint32_t i = 0; i < r->part_count; i++) {
        struct hvlog_trace_cursor *part = NULL;
        enum hvlog_export_status st = hvlog_trace_cursor_open(r->parts[i].reader, g->type, &part, err);
        struct stat st_dir;

        if (st != HVLOG_EXPORT_OK || !part) {
            if (stat(r->parts[i].reader->dir, &st_dir) != 0)
                hvlog__export_fail(err, st, "%s: rotated out while it was being read (the recording "
                                            "goes on); read it again",
                                   r->parts[i].reader->dir);
            hvlog_trace_cursor_close(c);
            return st != HVLOG_EXPORT_OK ? st : HVLOG_EXPORT_INVALID;
        }
        c->parts[i] = (struct cursor_part){part, c->count};
        c->part_count = i + 1;
        c->count += part->count;
        c->torn += part->torn;
    }
    *out = c;
    return HVLOG_EXPORT_OK;
}

/* The part of @c holding its buffer @file_index, and the buffer's index
 * there; @c itself when it has no parts; NULL when there is no such buffer.
 * The last part whose first index is at most @file_index: an empty part
 * starts where the next one does. */
static struct hvlog_trace_cursor *part_of(struct hvlog_trace_cursor *c, uint64_t file_index,
                                          uint64_t *local)
{
    uint32_t lo = 0, hi;

    *local = file_index;
    if (!c->parts)
        return c;
    if (file_index >= c->count)
        return NULL;
    for (hi = c->part_count; hi - lo > 1;) {
        uint32_t mid = lo + (hi - lo) / 2;

        if (c->parts[mid].base <= file_index)
            lo = mid;
        else
            hi = mid;
    }
    *local = file_index - c->parts[lo].base;
    return c->parts[lo].cursor;
}

struct hvlog_trace_cursor *hvlog__trace_cursor_part(struct hvlog_trace_cursor *c, uint64_t file_index,
                                                    uint64_t *local)
{
    return part_of(c, file_index, local);
}

enum hvlog_export_status hvlog_trace_cursor_open(const struct hvlog_trace_reader *r, uint32_t type,
                                                struct hvlog_trace_cursor **out,
                                                struct hvlog_export_error *err)
{
    const struct hvlog_trace_group *g;
    struct hvlog_trace_cursor *c;
    struct stat st;

    if (!r || !out)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no trace or no cursor to fill");
    *out = NULL;
    g = hvlog_trace_meta_group(&r->meta, type);
    if (!g)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: no group of log type %u", r->path, type);
    if (r->parts)
        return open_parts(r, g, out, err);
    c = calloc(1, sizeof(*c));
    if (!c)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    c->fd = -1;
    c->file = r->raw ? hvlog__export_strdup(r->path) : hvlog__export_join(r->dir, g->file);
    c->stride = g->buffer_pages * HV_PAGE_SIZE;
    c->bytes = malloc(c->stride);
    if (!c->file || !c->bytes) {
        hvlog_trace_cursor_close(c);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    c->type = type;
    c->convention = g->convention;
    c->buffer_count = g->buffer_count;
    c->fd = hvlog__export_open_regular(c->file, &st);
    if (c->fd < 0) {
        enum hvlog_export_status status =
            c->fd == -2 ? hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE, "%s: not a regular file", c->file)
                        : hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", c->file, strerror(errno));
        c->fd = -1;
        hvlog_trace_cursor_close(c);
        return status;
    }
    if (r->raw_slots) {
        c->slots = r->raw_slots;
        c->slot_count = r->raw_count;
        for (uint64_t i = 0; i < r->raw_count; i++)
            c->count += r->raw_slots[i].type == type;
        c->tail = r->raw_tail_type == type ? r->raw_tail : 0;
    } else if (!r->raw && g->compression == HVLOG_TRACE_COMPRESSION_ZSTD) {
        enum hvlog_export_status status = open_compressed(c, (uint64_t)st.st_size, err);

        if (status != HVLOG_EXPORT_OK) {
            hvlog_trace_cursor_close(c);
            return status;
        }
    } else {
        c->count = (uint64_t)st.st_size / c->stride;
        c->tail = (uint64_t)st.st_size % c->stride;
    }
    if (r->missing && g == &r->meta.groups[r->meta.group_count - 1]) {
        c->missing = r->missing;
        c->present = r->present;
    }
    c->written = UINT64_MAX;
    if (!r->raw && !r->meta.closed) {
        /* A recording being written or died (docs/trace-format.md section
         * 1): its last append may have been cut short. That buffer never
         * reached the file whole, so it is left out, not an error. */
        c->torn = c->tail;
        c->tail = 0;
    } else if (!r->raw && g->buffers_written_known) {
        c->written = g->buffers_written;
    }
    *out = c;
    return HVLOG_EXPORT_OK;
}

void hvlog_trace_cursor_close(struct hvlog_trace_cursor *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->part_count; i++)
        hvlog_trace_cursor_close(c->parts[i].cursor);
    free(c->parts);
    if (c->fd >= 0)
        close(c->fd);
    free(c->file);
    free(c->bytes);
    free(c->frames);
    hvlog__export_zdec_free(c->zdec);
    free(c->zbuf);
    free(c);
}

uint64_t hvlog_trace_cursor_count(const struct hvlog_trace_cursor *c)
{
    return c ? c->count : 0;
}

uint64_t hvlog_trace_cursor_torn(const struct hvlog_trace_cursor *c)
{
    return c ? c->torn : 0;
}

const char *hvlog_trace_cursor_file(const struct hvlog_trace_cursor *c)
{
    return c ? c->file : NULL;
}

static enum hvlog_export_status corrupt(const struct hvlog_trace_cursor *c,
                                        const struct hvlog_trace_buffer *b, const char *why,
                                        struct hvlog_export_error *err)
{
    int guess = hvlog_header_convention_guess(b->bytes, b->len);
    const char *hint = "";

    /* D9: a file in the other convention fails every buffer; say so. */
    if (guess >= 0 && guess != (int)c->convention)
        hint = guess == HVLOG_ABI_CURRENT ? " (its header looks like the current convention)"
                                             : " (its header looks like the 2013 convention)";
    return hvlog__export_fail(err, HVLOG_EXPORT_CORRUPT, "%s: buffer %llu at byte %llu: %s%s", c->file,
                       (unsigned long long)b->file_index, (unsigned long long)b->file_offset, why,
                       hint);
}

/* Where buffer @file_index of @c's group starts; false when the group has
 * no such buffer. */
static bool buffer_offset(const struct hvlog_trace_cursor *c, uint64_t file_index, uint64_t *offset)
{
    if (c->slots ? file_index >= c->slot_count || c->slots[file_index].type != c->type
                 : file_index >= c->count)
        return false;
    *offset = c->slots    ? c->slots[file_index].offset
              : c->frames ? c->frames[file_index].offset
                          : file_index * c->stride;
    return true;
}

/*
 * Check 1: buffer @file_index whole in c->bytes, read or (compressed)
 * decompressed, into @dst (a stride long). 0; EIO with @why when the file
 * is shorter than its table says (TRUNCATED for the caller), EBADMSG with
 * @why when a frame is not the buffer (corrupt; @dst zeroed, so that no
 * convention hint is read into it); another errno from pread.
 */
static int load_buffer(struct hvlog_trace_cursor *c, uint64_t file_index, uint64_t offset,
                       uint8_t *dst, char *why, size_t why_size)
{
    const size_t copy = c->frames ? HV_EVENTLOG_BUFFER_HEADER_SIZE : 0;
    size_t got = 0, want = c->frames ? copy + c->frames[file_index].size : c->stride;
    int e = hvlog__export_pread_all(c->fd, c->frames ? c->zbuf : dst, want, offset - copy, &got);

    if (e != 0)
        return e;
    if (got < want) {
        snprintf(why, why_size, "truncated while reading buffer %llu", (unsigned long long)file_index);
        return EIO;
    }
    if (!c->frames)
        return 0;
    if (!hvlog__export_zdec_buffer(c->zdec, c->zbuf + copy, want - copy, dst, c->stride, why, why_size)) {
        memset(dst, 0, c->stride);
        return EBADMSG;
    }
    /* The index may have read the copy (read_header): it must be the header. */
    if (memcmp(dst, c->zbuf, copy) != 0) {
        snprintf(why, why_size, "the copy of its header in its prefix is not its header");
        memset(dst, 0, c->stride);
        return EBADMSG;
    }
    return 0;
}

/*
 * Checks 2 and 3 of the file comment, on the header at c->bytes (b->bytes):
 * what the index needs (LP, TimeStamp) and the packet context shows
 * (BufferIndex, EventsLost) can be trusted once they pass. The length given
 * to the summary is the stride even when only the header has been read:
 * the buffer has that many bytes in the file (c->count counts whole
 * buffers), hvlog_buffer_summarize reads the 72 header bytes only, and
 * c->bytes is a whole stride long, so nothing past it could be touched.
 */
static enum hvlog_export_status check_header(const struct hvlog_trace_cursor *c,
                                             const struct hvlog_trace_buffer *b,
                                             struct hvlog_buffer_summary *summary,
                                             struct hvlog_export_error *err)
{
    const struct hvlog_walk_expect expect = {c->type, UINT32_MAX, UINT32_MAX, c->stride};
    enum hvlog_walk_error werr;

    werr = hvlog_buffer_summarize(b->bytes, c->stride, c->convention, &expect, summary);
    if (werr == HVLOG_WALK_SIZE_MISMATCH) {
        /* A real size, not the group's (issue 13): say both. */
        char why[128];
        uint64_t says = hvlog_load_le32(b->bytes);

        if (c->convention == HVLOG_ABI_CURRENT)
            says += HV_EVENTLOG_BUFFER_HEADER_SIZE;
        snprintf(why, sizeof why, "BufferSize says %llu bytes, but the group's buffers are %u bytes",
                 (unsigned long long)says, c->stride);
        return corrupt(c, b, why, err);
    }
    if (werr != HVLOG_WALK_OK)
        return corrupt(c, b, hvlog_walk_error_text(werr), err);
    if (c->buffer_count != 0 && summary->buffer_index >= c->buffer_count)
        return corrupt(c, b, "BufferIndex is not below the group's MaximumBufferCount", err);
    return HVLOG_EXPORT_OK;
}

/*
 * Buffer @file_index read whole, checks 1 to 4, then its entries to @fn.
 * With @slot (the index's view of it), a header that no longer says what
 * the index saw is corrupt too, found before any entry is delivered: the
 * file changed between the passes.
 */
static enum hvlog_export_status read_whole(struct hvlog_trace_cursor *c, uint64_t file_index,
                                           const struct hvlog_trace_slot *slot,
                                           struct hvlog_trace_buffer *out, hvlog_entry_fn fn,
                                           void *arg, struct hvlog_export_error *err)
{
    struct hvlog_walk_expect expect;
    struct hvlog_trace_buffer b;
    enum hvlog_export_status st;
    char why[160] = "";
    int e;

    if (!c || !out)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no cursor or no buffer to fill");
    if (c->parts) { /* a rotated recording: the chunk's cursor, its buffer named as the chunk names it */
        uint64_t local;
        struct hvlog_trace_cursor *part = part_of(c, file_index, &local);

        if (!part)
            return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: no %s buffer %llu in the files",
                                      c->file, hvlog_trace_group_short(c->type),
                                      (unsigned long long)file_index);
        st = read_whole(part, local, slot, out, fn, arg, err);
        out->file_index = file_index;
        return st;
    }
    expect = (struct hvlog_walk_expect){c->type, UINT32_MAX, UINT32_MAX, c->stride};
    memset(out, 0, sizeof(*out));
    memset(&b, 0, sizeof b);
    if (!buffer_offset(c, file_index, &b.file_offset))
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: no %s buffer %llu in the file", c->file,
                           hvlog_trace_group_short(c->type), (unsigned long long)file_index);
    b.file_index = file_index;
    b.bytes = c->bytes;
    b.len = c->stride;
    e = load_buffer(c, file_index, b.file_offset, c->bytes, why, sizeof why);
    if (e == EBADMSG) {
        *out = b;
        return corrupt(c, &b, why, err);
    }
    if (e == EIO && why[0])
        return hvlog__export_fail(err, HVLOG_EXPORT_TRUNCATED, "%s: %s", c->file, why);
    if (e != 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", c->file, strerror(e));
    *out = b;
    st = check_header(c, &b, &out->summary, err);
    if (st != HVLOG_EXPORT_OK)
        return st;
    if (slot && (out->summary.logical_processor != slot->lp ||
                 out->summary.time_stamp != slot->time_stamp ||
                 out->summary.buffer_index != slot->buffer_index ||
                 out->summary.events_lost != slot->events_lost))
        return corrupt(c, &b, "its header changed since it was indexed (the file changed)", err);
    {
        struct hvlog_buffer_summary walked;
        enum hvlog_walk_error werr;

        werr = hvlog_buffer_walk(b.bytes, b.len, c->convention, &expect, &walked, fn, arg);
        if (werr != HVLOG_WALK_OK)
            return corrupt(c, &b, hvlog_walk_error_text(werr), err);
        out->summary.entries = walked.entries;
    }
    return HVLOG_EXPORT_OK;
}

int hvlog__export_trace_cursor_fd(const struct hvlog_trace_cursor *c)
{
    return c->fd;
}

bool hvlog__export_trace_cursor_compressed(const struct hvlog_trace_cursor *c)
{
    if (c->parts) /* one recording's chunks: compressed alike (same_opening) */
        return hvlog__export_trace_cursor_compressed(c->parts[0].cursor);
    return c->zdec != NULL; /* created for a compressed group only */
}

int hvlog__export_trace_buffer_load(struct hvlog_trace_cursor *c, uint64_t file_index, uint8_t *dst,
                             char *why, size_t why_size)
{
    uint64_t offset;
    char none[8];
    int e;

    if (!why) {
        why = none;
        why_size = sizeof none;
    }
    why[0] = '\0';
    if (!buffer_offset(c, file_index, &offset)) {
        snprintf(why, why_size, "no longer in the file");
        return ENOENT;
    }
    e = load_buffer(c, file_index, offset, dst, why, why_size);
    if (e != 0 && !why[0])
        snprintf(why, why_size, "%s", strerror(e));
    return e;
}

bool hvlog__export_trace_buffer_offset(const struct hvlog_trace_cursor *c, uint64_t file_index,
                                uint64_t *offset)
{
    return buffer_offset(c, file_index, offset);
}

enum hvlog_export_status hvlog_trace_cursor_read(struct hvlog_trace_cursor *c, uint64_t file_index,
                                                struct hvlog_trace_buffer *out, hvlog_entry_fn fn,
                                                void *arg, struct hvlog_export_error *err)
{
    return read_whole(c, file_index, NULL, out, fn, arg, err);
}

enum hvlog_export_status hvlog__export_trace_read_slot(struct hvlog_trace_cursor *c,
                                                const struct hvlog_trace_slot *slot,
                                                struct hvlog_trace_buffer *out, hvlog_entry_fn fn,
                                                void *arg, struct hvlog_export_error *err)
{
    if (!slot)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no buffer to read");
    return read_whole(c, slot->file_index, slot, out, fn, arg, err);
}

/*
 * The header of buffer @file_index alone (72 bytes read, not the stride),
 * with checks 2 and 3; its entries are not looked at. For the exporters'
 * index pass, whose write pass reads each buffer whole with
 * hvlog_trace_cursor_read and checks the entries then. @out->bytes holds
 * the header only and @out->len is 72.
 */
static enum hvlog_export_status read_header(struct hvlog_trace_cursor *c, uint64_t file_index,
                                            struct hvlog_trace_buffer *out,
                                            struct hvlog_export_error *err)
{
    size_t got = 0;
    int e;

    memset(out, 0, sizeof(*out));
    if (!buffer_offset(c, file_index, &out->file_offset))
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "%s: no %s buffer %llu in the file", c->file,
                           hvlog_trace_group_short(c->type), (unsigned long long)file_index);
    out->file_index = file_index;
    out->bytes = c->bytes;
    /* A compressed buffer's header is read from the copy in its unit's
     * prefix, just before its frame (zframe.c): no decompression here. */
    e = hvlog__export_pread_all(c->fd, c->bytes, HV_EVENTLOG_BUFFER_HEADER_SIZE,
                         c->frames ? out->file_offset - HV_EVENTLOG_BUFFER_HEADER_SIZE
                                   : out->file_offset,
                         &got);
    if (e != 0)
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", c->file, strerror(e));
    if (got < HV_EVENTLOG_BUFFER_HEADER_SIZE)
        return hvlog__export_fail(err, HVLOG_EXPORT_TRUNCATED, "%s: truncated while reading buffer %llu",
                           c->file, (unsigned long long)file_index);
    out->len = HV_EVENTLOG_BUFFER_HEADER_SIZE;
    return check_header(c, out, &out->summary, err);
}

/*
 * The sequential position's next buffer of the group, read whole
 * (hvlog_trace_cursor_read) or, with @header_only, its header alone
 * (read_header; @fn unused); then the tail, once.
 */
static enum hvlog_export_status cursor_step(struct hvlog_trace_cursor *c, bool header_only,
                                            struct hvlog_trace_buffer *out, hvlog_entry_fn fn,
                                            void *arg, struct hvlog_export_error *err)
{
    while (c->part_next < c->part_count) { /* a rotated recording: chunk after chunk */
        const struct cursor_part *p = &c->parts[c->part_next];
        enum hvlog_export_status st = cursor_step(p->cursor, header_only, out, fn, arg, err);

        if (st != HVLOG_EXPORT_END) {
            if (st == HVLOG_EXPORT_OK || st == HVLOG_EXPORT_CORRUPT)
                out->file_index += p->base;
            return st;
        }
        c->part_next++;
    }
    if (c->parts)
        return HVLOG_EXPORT_END;
    if (c->slots) { /* a raw file of several types: this group's buffers only */
        while (c->next < c->slot_count && c->slots[c->next].type != c->type)
            c->next++;
    }
    if (c->next < (c->slots ? c->slot_count : c->count)) {
        uint64_t i = c->next++;
        return header_only ? read_header(c, i, out, err)
                           : hvlog_trace_cursor_read(c, i, out, fn, arg, err);
    }
    if (c->tail != 0 && !c->tail_reported) {
        c->tail_reported = true;
        if (c->frames)
            return hvlog__export_fail(err, HVLOG_EXPORT_TRUNCATED,
                               "%s: truncated: the last %llu bytes are less than one whole "
                               "compressed buffer",
                               c->file, (unsigned long long)c->tail);
        return hvlog__export_fail(err, HVLOG_EXPORT_TRUNCATED,
                           "%s: truncated: %llu bytes at the end are less than one %u-byte buffer",
                           c->file, (unsigned long long)c->tail, c->stride);
    }
    if (c->damaged_bytes != 0 && !c->damaged_reported) {
        /* The framing is lost from there on: nothing after can be found. */
        c->damaged_reported = true;
        return hvlog__export_fail(err, HVLOG_EXPORT_CORRUPT,
                           "%s: %s; the %llu bytes from there on cannot be read", c->file,
                           c->damaged_why, (unsigned long long)c->damaged_bytes);
    }
    if (c->missing && !c->missing_reported) {
        uint64_t counted = c->present + c->missing;

        c->missing_reported = true;
        return hvlog__export_fail(err, HVLOG_EXPORT_TRUNCATED,
                           "%s: truncated at a buffer boundary: the metadata counts %llu buffers, "
                           "the group files hold %llu",
                           c->file, (unsigned long long)counted,
                           (unsigned long long)c->present);
    }
    /* A finished recording says how many buffers it wrote: a file cut at
     * a buffer boundary is truncated too (issue 13, "smaller ones"). */
    if (c->written != UINT64_MAX && c->count < c->written && !c->tail_reported) {
        c->tail_reported = true;
        return hvlog__export_fail(err, HVLOG_EXPORT_TRUNCATED,
                           "%s: truncated: %llu whole buffers, but the recording wrote %llu",
                           c->file, (unsigned long long)c->count, (unsigned long long)c->written);
    }
    return HVLOG_EXPORT_END;
}

enum hvlog_export_status hvlog_trace_cursor_next(struct hvlog_trace_cursor *c,
                                                struct hvlog_trace_buffer *out, hvlog_entry_fn fn,
                                                void *arg, struct hvlog_export_error *err)
{
    if (!c)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no cursor");
    return cursor_step(c, false, out, fn, arg, err);
}

/* ---- fill order ---- */

static int slot_order(const void *pa, const void *pb)
{
    const struct hvlog_trace_slot *a = pa, *b = pb;

    if (a->lp != b->lp)
        return a->lp < b->lp ? -1 : 1;
    if (a->time_stamp != b->time_stamp)
        return a->time_stamp < b->time_stamp ? -1 : 1;
    if (a->file_index != b->file_index)
        return a->file_index < b->file_index ? -1 : 1;
    return 0;
}

/* Back to the first buffer, every end-of-file report owed again. */
static void cursor_rewind(struct hvlog_trace_cursor *c)
{
    c->next = 0;
    c->part_next = 0;
    c->tail_reported = false;
    c->missing_reported = false;
    c->damaged_reported = false;
    for (uint32_t i = 0; i < c->part_count; i++)
        cursor_rewind(c->parts[i].cursor);
}

/*
 * The fill-order index of @c's group. Whole (@header_only false): every
 * buffer read and walked, so the index holds only buffers that pass every
 * check, with their entries counted. Header only: 72 bytes per buffer,
 * checks 2 and 3; a buffer whose entries are bad is in the index (entries
 * 0) and found by whoever reads it whole.
 */
static enum hvlog_export_status fill_order(struct hvlog_trace_cursor *c, bool header_only,
                                           bool skip_corrupt, hvlog_export_report_fn report,
                                           void *report_arg, struct hvlog_trace_slot **out,
                                           uint64_t *count, uint64_t *skipped,
                                           struct hvlog_export_error *err)
{
    struct hvlog_trace_slot *slots = NULL;
    uint64_t n = 0, cap = 0, bad = 0;

    if (!c || !out || !count)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no cursor or no index to fill");
    *out = NULL;
    *count = 0;
    /* Grown as buffers pass, never sized by the file's length: a sparse
     * or hostile file may hold far more buffer-sized runs than buffers
     * (issue 13, A2/A3). */
    cursor_rewind(c);
    for (;;) {
        struct hvlog_trace_buffer b;
        struct hvlog_export_error e;
        enum hvlog_export_status st;

        memset(&b, 0, sizeof b);
        st = cursor_step(c, header_only, &b, NULL, NULL, &e);

        if (st == HVLOG_EXPORT_END)
            break;
        if (st == HVLOG_EXPORT_OK) {
            struct hvlog_trace_slot *sl;

            if (n == cap) {
                struct hvlog_trace_slot *more;

                cap = cap ? cap * 2 : 64;
                more = cap <= SIZE_MAX / sizeof(*more) ? realloc(slots, (size_t)cap * sizeof(*more)) : NULL;
                if (!more) {
                    free(slots);
                    return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory indexing %s", c->file);
                }
                slots = more;
            }
            sl = &slots[n++];
            sl->file_index = b.file_index;
            sl->time_stamp = b.summary.time_stamp;
            sl->lp = b.summary.logical_processor;
            sl->events_lost = b.summary.events_lost;
            sl->entries = b.summary.entries; /* 0 when header_only: no walk */
            sl->buffer_index = b.summary.buffer_index;
            continue;
        }
        if (skip_corrupt && (st == HVLOG_EXPORT_CORRUPT || st == HVLOG_EXPORT_TRUNCATED)) {
            bad++;
            if (report)
                report(report_arg, e.message);
            continue;
        }
        free(slots);
        if (err)
            *err = e;
        return st;
    }
    if (n > 1)
        qsort(slots, (size_t)n, sizeof(*slots), slot_order);
    *out = slots;
    *count = n;
    if (skipped)
        *skipped = bad;
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_fill_order(struct hvlog_trace_cursor *c, bool skip_corrupt,
                                               hvlog_export_report_fn report, void *report_arg,
                                               struct hvlog_trace_slot **out, uint64_t *count,
                                               uint64_t *skipped, struct hvlog_export_error *err)
{
    return fill_order(c, false, skip_corrupt, report, report_arg, out, count, skipped, err);
}

enum hvlog_export_status hvlog__export_trace_header_order(struct hvlog_trace_cursor *c, bool skip_corrupt,
                                                   hvlog_export_report_fn report, void *report_arg,
                                                   struct hvlog_trace_slot **out, uint64_t *count,
                                                   uint64_t *skipped, struct hvlog_export_error *err)
{
    return fill_order(c, true, skip_corrupt, report, report_arg, out, count, skipped, err);
}

/* ---- a recording's state ---- */

enum hvlog_trace_state hvlog_trace_dir_state(const struct hvlog_trace_reader *r)
{
    struct hvlog_trace_reader *again = NULL;
    bool locked = false, closed = false;
    int fd;

    if (!r || r->raw)
        return HVLOG_TRACE_STATE_RAW;
    if (r->meta.closed) /* closing statistics are never taken back */
        return HVLOG_TRACE_STATE_FINISHED;
    /* The recorder holds LOCK_EX on the directory from before it has its
     * name until after the closing metadata is renamed in
     * (trace_writer.c); a shared probe fails only while it lives. */
    fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        locked = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
        close(fd); /* drops the probe's lock, if it got one */
    }
    if (locked)
        return HVLOG_TRACE_STATE_RECORDING;
    /* Unlocked: the recorder is gone, but it may have finished since @r
     * read the metadata; the file says which, now. */
    if (hvlog_trace_open(r->dir, &again, NULL) == HVLOG_EXPORT_OK && again)
        closed = again->meta.closed;
    hvlog_trace_close(again);
    return closed ? HVLOG_TRACE_STATE_FINISHED : HVLOG_TRACE_STATE_DIED;
}

const char *hvlog_trace_state_name(enum hvlog_trace_state state)
{
    switch (state) {
    case HVLOG_TRACE_STATE_FINISHED: return "finished";
    case HVLOG_TRACE_STATE_RECORDING: return "being written";
    case HVLOG_TRACE_STATE_DIED: return "died";
    case HVLOG_TRACE_STATE_RAW: return "raw";
    }
    return "?";
}

/* ---- records files (trace.h, docs/trace-format.md section 3) ---- */

struct hvlog_trace_records_cursor {
    char *file;
    int fd;
    uint32_t type;
    uint64_t size, off;
    bool stopped;
    uint8_t record[65536]; /* one record: Size is 16 bits */
};

enum hvlog_export_status hvlog_trace_records_open(const struct hvlog_trace_reader *r, uint32_t type,
                                                 struct hvlog_trace_records_cursor **out,
                                                 struct hvlog_export_error *err)
{
    const struct hvlog_trace_records *rec = NULL;
    struct hvlog_trace_records_cursor *c;
    struct stat st;

    *out = NULL;
    for (uint32_t i = 0; r && !r->raw && i < r->meta.records_count; i++) {
        if (r->meta.records[i].type == type)
            rec = &r->meta.records[i];
    }
    if (!rec)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "the trace has no records of log type %u",
                           type);
    c = calloc(1, sizeof(*c));
    if (!c || !(c->file = hvlog__export_join(r->dir, rec->file))) {
        free(c);
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    }
    c->type = type;
    c->fd = hvlog__export_open_regular(c->file, &st);
    if (c->fd < 0) {
        enum hvlog_export_status s =
            c->fd == -2 ? hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE, "%s: not a regular file", c->file)
                        : hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: %s", c->file, strerror(errno));
        hvlog_trace_records_close(c);
        return s;
    }
    c->size = (uint64_t)st.st_size;
    *out = c;
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_records_next(struct hvlog_trace_records_cursor *c,
                                                 struct hvlog_entry *e,
                                                 struct hvlog_export_error *err)
{
    struct hv_eventlog_entry_header h;
    size_t got = 0;
    int io;

    if (!c || !e)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no cursor or no entry to fill");
    /* Sizes follow the bytes present (STYLE habit 19): each Size is a
     * claim, checked against what is left of the file. */
    if (c->stopped || c->size - c->off < HV_EVENTLOG_ENTRY_HEADER_SIZE)
        return HVLOG_EXPORT_END;
    io = hvlog__export_pread_all(c->fd, c->record, HV_EVENTLOG_ENTRY_HEADER_SIZE, c->off, &got);
    if (io != 0 || got != HV_EVENTLOG_ENTRY_HEADER_SIZE) {
        c->stopped = true;
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: read failed at byte %llu: %s", c->file,
                           (unsigned long long)c->off, io ? strerror(io) : "the file shrank");
    }
    hv_eventlog_entry_header_load(&h, c->record);
    if (h.size < HV_EVENTLOG_ENTRY_HEADER_SIZE) {
        c->stopped = true;
        return hvlog__export_fail(err, HVLOG_EXPORT_CORRUPT,
                           "%s: the record at byte %llu says Size %u (below 16)", c->file,
                           (unsigned long long)c->off, h.size);
    }
    if (h.size > c->size - c->off) {
        c->stopped = true; /* cut short: torn, left out */
        return HVLOG_EXPORT_END;
    }
    io = hvlog__export_pread_all(c->fd, c->record + HV_EVENTLOG_ENTRY_HEADER_SIZE,
                          h.size - HV_EVENTLOG_ENTRY_HEADER_SIZE, c->off + HV_EVENTLOG_ENTRY_HEADER_SIZE,
                          &got);
    if (io != 0 || got != (size_t)h.size - HV_EVENTLOG_ENTRY_HEADER_SIZE) {
        c->stopped = true;
        return hvlog__export_fail(err, HVLOG_EXPORT_IO, "%s: read failed at byte %llu: %s", c->file,
                           (unsigned long long)c->off, io ? strerror(io) : "the file shrank");
    }
    *e = (struct hvlog_entry){
        .log_type = c->type,
        .offset = (uint32_t)(c->off > UINT32_MAX ? UINT32_MAX : c->off),
        .entry_type = h.type,
        .size = h.size,
        .context = h.context,
        .time_stamp = h.time_stamp,
        .payload = c->record + HV_EVENTLOG_ENTRY_HEADER_SIZE,
        .payload_len = (uint32_t)h.size - HV_EVENTLOG_ENTRY_HEADER_SIZE,
    };
    c->off += h.size;
    return HVLOG_EXPORT_OK;
}

uint64_t hvlog_trace_records_torn(const struct hvlog_trace_records_cursor *c)
{
    return c ? c->size - c->off : 0;
}

const char *hvlog_trace_records_file_path(const struct hvlog_trace_records_cursor *c)
{
    return c ? c->file : "";
}

void hvlog_trace_records_close(struct hvlog_trace_records_cursor *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    free(c->file);
    free(c);
}

enum hvlog_export_status hvlog_trace_records_scan(const struct hvlog_trace_reader *r,
                                                 uint32_t type, uint64_t *count, uint64_t *torn,
                                                 struct hvlog_export_error *err)
{
    struct hvlog_trace_records_cursor *c;
    struct hvlog_entry e;
    enum hvlog_export_status status;

    *count = 0;
    if (torn)
        *torn = 0;
    status = hvlog_trace_records_open(r, type, &c, err);
    if (status != HVLOG_EXPORT_OK || !c)
        return status != HVLOG_EXPORT_OK ? status : HVLOG_EXPORT_INVALID;
    while ((status = hvlog_trace_records_next(c, &e, err)) == HVLOG_EXPORT_OK)
        (*count)++;
    if (status == HVLOG_EXPORT_END) {
        status = HVLOG_EXPORT_OK;
        if (torn)
            *torn = hvlog_trace_records_torn(c);
    }
    hvlog_trace_records_close(c);
    return status;
}
