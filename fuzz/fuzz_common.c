/* SPDX-License-Identifier: MIT */
/* Shared by the trace-side harnesses (fuzz_common.h). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp, pwrite: the libFuzzer build has no project flags */
#endif
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "hvlog/trace/trace.h"
#include "../tests/export/synth.h"

static char work[256];

void fz_die(const char *harness, const char *what)
{
    fprintf(stderr, "%s: %s\n", harness, what);
    abort();
}

static void cleanup(void)
{
    synth_rmtree(work);
}

const char *fz_workdir(const char *harness)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");

    if (work[0])
        return work;
    snprintf(work, sizeof work, "%s/hvlog-%s-XXXXXX", base ? base : "/tmp", harness);
    if (!mkdtemp(work))
        fz_die(harness, "cannot create a work directory");
    atexit(cleanup);
    return work;
}

void fz_write_file(const char *path, const uint8_t *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");

    if (!f || fwrite(bytes, 1, len, f) != len || fclose(f) != 0)
        fz_die("fuzz", "cannot write an input file");
}

size_t fz_write_trace_dir(const char *harness, const char *dir, unsigned mode, const uint8_t *data,
                          size_t size, const char *second)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t meta_len = nul ? (size_t)(nul - data) : size;
    const uint8_t *rest = nul ? nul + 1 : data + size;
    size_t rest_len = (size_t)(data + size - rest);
    char path[512];

    if (mkdir(dir, (mode_t)mode) != 0)
        fz_die(harness, "cannot create the trace directory");
    snprintf(path, sizeof path, "%s/hvlog-trace.json", dir);
    fz_write_file(path, data, meta_len);
    snprintf(path, sizeof path, "%s/local.buffers", dir);
    fz_write_file(path, rest, rest_len);
    snprintf(path, sizeof path, "%s/%s", dir, second);
    fz_write_file(path, rest, rest_len);
    return meta_len;
}

int fz_build_trace(const uint8_t *data, size_t size, const char *dir)
{
    struct synth_spec specs[3];
    struct synth_expect expects[3];
    uint32_t types[3], n = 0;
    uint8_t mask;
    size_t at = 1;

    if (size < 4)
        return -1;
    mask = data[0] & 7u ? data[0] & 7u : 2u;
    for (uint32_t type = 0; type < 3; type++) {
        const uint8_t *g;
        struct synth_spec *s = &specs[n];

        if (!(mask & (1u << type)))
            continue;
        if (size - at < 3)
            break;
        g = data + at;
        at += 3;
        memset(s, 0, sizeof *s);
        s->type = type;
        s->lps = type == 0 ? 1u : 1u + (g[0] & 3u);
        s->buffers_per_lp = 1u + (g[0] >> 2 & 3u);
        s->pages = 1u + (g[0] >> 4 & 1u);
        s->convention = g[0] & 0x20u ? HVLOG_ABI_CURRENT : HVLOG_ABI_2013;
        s->loss = g[0] & 0x40u;
        s->swap_release = g[0] & 0x80u;
        s->max_entries = g[1] & 0x3Fu;
        s->time_basis = (uint32_t)(g[1] >> 6) % 3u;
        s->backwards = (enum synth_backwards)(g[2] % 3u);
        types[n++] = type;
    }
    if (n == 0 || synth_write_groups(specs, n, dir, expects) != 0)
        return -1;
    /* 2026-01-01 as a FILETIME, and a 3 GHz TSC: synth's values. */
    if (data[0] & 8u)
        synth_edit_meta(dir, "134116992000000000", "0");
    if (data[0] & 16u)
        synth_edit_meta(dir, "\"tsc_frequency_hz\":3000000000", "\"tsc_frequency_hz\":0");
    for (int op = 0; op < 16 && size - at >= 6; op++, at += 6) {
        const uint8_t *d = data + at;
        uint32_t off = (uint32_t)d[1] | (uint32_t)d[2] << 8 | (uint32_t)d[3] << 16 |
                       (uint32_t)d[4] << 24;
        char *path = synth_path(dir, hvlog_trace_group_file(types[d[0] % n]));
        int fd = path ? open(path, O_RDWR) : -1;
        struct stat st;

        if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0) {
            off %= (uint32_t)st.st_size;
            if (d[5] == 0) {
                if (ftruncate(fd, off) != 0)
                    fz_die("fuzz", "cannot truncate a group file");
            } else {
                uint8_t b;
                if (pread(fd, &b, 1, off) != 1)
                    fz_die("fuzz", "cannot read a group file");
                b ^= d[5];
                if (pwrite(fd, &b, 1, off) != 1)
                    fz_die("fuzz", "cannot damage a group file");
            }
        }
        if (fd >= 0)
            close(fd);
        free(path);
    }
    return 0;
}

static bool count_entry(void *arg, const struct hvlog_entry *e)
{
    (void)e;
    (*(uint64_t *)arg)++;
    return true;
}

uint64_t fz_readable_entries(const char *harness, const struct hvlog_trace_reader *r,
                             uint64_t *per_type, bool *complete)
{
    const struct hvlog_trace_meta *meta = hvlog_trace_reader_meta(r);
    uint64_t entries = 0;

    if (complete)
        *complete = true;
    for (uint32_t i = 0; i < meta->group_count; i++) {
        struct hvlog_trace_cursor *c;
        struct hvlog_trace_buffer b;
        enum hvlog_export_status st;

        if (hvlog_trace_cursor_open(r, meta->groups[i].type, &c, NULL) != HVLOG_EXPORT_OK) {
            if (complete)
                *complete = false;
            continue;
        }
        do {
            uint64_t n = 0;
            st = hvlog_trace_cursor_next(c, &b, count_entry, &n, NULL);
            if (st == HVLOG_EXPORT_OK) {
                entries += n;
                if (per_type)
                    per_type[meta->groups[i].type % 3] += n;
            } else if (n != 0) {
                fz_die(harness, "entries delivered from a rejected buffer");
            }
        } while (st == HVLOG_EXPORT_OK || st == HVLOG_EXPORT_CORRUPT ||
                 st == HVLOG_EXPORT_TRUNCATED);
        hvlog_trace_cursor_close(c);
    }
    return entries;
}

uint64_t fz_check_perfetto_json(const char *harness, const char *path)
{
    json_error_t jerr;
    /* Any JSON number: jansson's integers stop at INT64_MAX. */
    json_t *root = json_load_file(path, JSON_DECODE_INT_AS_REAL, &jerr), *events;
    uint64_t instants = 0;
    size_t i;
    json_t *ev;

    if (!root) {
        fprintf(stderr, "%s: the Perfetto JSON does not parse: %s (line %d)\n", harness,
                jerr.text, jerr.line);
        abort();
    }
    events = json_object_get(root, "traceEvents");
    if (!json_is_object(root) || !json_is_array(events))
        fz_die(harness, "the Perfetto JSON has no traceEvents array");
    json_array_foreach(events, i, ev) {
        const char *ph = json_string_value(json_object_get(ev, "ph"));
        if (!json_is_object(ev) || !ph)
            fz_die(harness, "a Perfetto JSON event is not an object with \"ph\"");
        instants += strcmp(ph, "i") == 0;
    }
    json_decref(root);
    return instants;
}

/* ---- protobuf wire format ---- */

enum pb_msg {
    PB_LEAF,
    PB_TRACE,
    PB_PACKET,
    PB_CLOCK_SNAPSHOT,
    PB_CLOCK,
    PB_TRACK_EVENT,
    PB_DEBUG_ANNOTATION,
    PB_INTERNED_DATA,
    PB_INTERNED_STRING,
    PB_PACKET_DEFAULTS,
    PB_TRACK_EVENT_DEFAULTS,
    PB_TRACK_DESCRIPTOR,
};

/* Which length-delimited fields hold a message, from Perfetto's
 * trace_packet.proto and friends (field numbers as perfetto_proto.c uses
 * them; every other length-delimited field is a string or bytes). */
static enum pb_msg pb_child(enum pb_msg parent, uint64_t field)
{
    switch (parent) {
    case PB_TRACE:
        return field == 1 ? PB_PACKET : PB_LEAF;
    case PB_PACKET:
        return field == 6    ? PB_CLOCK_SNAPSHOT
               : field == 11 ? PB_TRACK_EVENT
               : field == 12 ? PB_INTERNED_DATA
               : field == 59 ? PB_PACKET_DEFAULTS
               : field == 60 ? PB_TRACK_DESCRIPTOR
                             : PB_LEAF;
    case PB_CLOCK_SNAPSHOT:
        return field == 1 ? PB_CLOCK : PB_LEAF;
    case PB_TRACK_EVENT:
        return field == 4 ? PB_DEBUG_ANNOTATION : PB_LEAF;
    case PB_INTERNED_DATA:
        return field >= 1 && field <= 3 ? PB_INTERNED_STRING : PB_LEAF;
    case PB_PACKET_DEFAULTS:
        return field == 11 ? PB_TRACK_EVENT_DEFAULTS : PB_LEAF;
    default:
        return PB_LEAF;
    }
}

struct pb_walk {
    const char *harness;
    uint64_t track_events;
};

static bool pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 70; shift += 7) {
        uint8_t b;
        if (*p >= end)
            return false;
        b = *(*p)++;
        if (shift == 63 && b > 1)
            return false; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7Fu) << shift;
        if (!(b & 0x80u)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static void pb_message(struct pb_walk *w, enum pb_msg kind, const uint8_t *p, const uint8_t *end,
                       unsigned depth)
{
    if (depth > 8)
        fz_die(w->harness, "protobuf: messages nest deeper than the exporter writes");
    if (kind == PB_TRACK_EVENT)
        w->track_events++;
    while (p < end) {
        uint64_t key, v;

        if (!pb_varint(&p, end, &key) || key >> 3 == 0 || key >> 3 > 536870911u)
            fz_die(w->harness, "protobuf: a bad field key");
        switch (key & 7u) {
        case 0:
            if (!pb_varint(&p, end, &v))
                fz_die(w->harness, "protobuf: a varint runs past its message");
            break;
        case 1:
        case 5:
            if ((size_t)(end - p) < ((key & 7u) == 1 ? 8u : 4u))
                fz_die(w->harness, "protobuf: a fixed field runs past its message");
            p += (key & 7u) == 1 ? 8 : 4;
            break;
        case 2:
            if (!pb_varint(&p, end, &v) || v > (uint64_t)(end - p))
                fz_die(w->harness, "protobuf: a length runs past its message");
            if (pb_child(kind, key >> 3) != PB_LEAF)
                pb_message(w, pb_child(kind, key >> 3), p, p + v, depth + 1);
            p += v;
            break;
        default:
            fz_die(w->harness, "protobuf: a wire type the exporter never writes");
        }
    }
}

uint64_t fz_check_perfetto_proto(const char *harness, const char *path)
{
    struct pb_walk w = {harness, 0};
    FILE *f = fopen(path, "rb");
    uint8_t *bytes;
    long len;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        fz_die(harness, "cannot read the Perfetto protobuf back");
    bytes = malloc(len ? (size_t)len : 1u);
    if (!bytes || fread(bytes, 1, (size_t)len, f) != (size_t)len)
        fz_die(harness, "cannot read the Perfetto protobuf back");
    fclose(f);
    pb_message(&w, PB_TRACE, bytes, bytes + len, 0);
    free(bytes);
    return w.track_events;
}
