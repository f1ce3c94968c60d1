/* SPDX-License-Identifier: MIT */
/* Synthetic traces for the export tests (synth.h). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L /* mkdtemp: the libFuzzer build has no project flags */
#endif
#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hvlog/abi/catalog.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/layout.h"
#include "hvlog/trace/json.h"
#include "synth.h"

const struct synth_backwards_case synth_backwards_cases[SYNTH_BACKWARDS_CASES] = {
    {SYNTH_BACK_IN_BUFFER, ": time goes backwards inside the buffer: the entry at byte "},
    {SYNTH_BACK_ACROSS_BUFFERS,
     ": the buffer starts before the previous one of its LP ends: the entry at byte 72 "},
};

/* 2026-01-01T00:00:00Z as a FILETIME. */
#define SYNTH_SYSTEM_TIME 134116992000000000ull
#define SYNTH_REF_AT_INIT 5000ull
#define SYNTH_BUFFER_COUNT 64u
#define SYNTH_TSC_PER_TICK 300u /* a 3 GHz TSC: 300 cycles per 100 ns */

static const uint16_t local_types[] = {0x001A, 0x0027, 0x0025, 0x00B0, 0x002C, 0x00E0};
static const uint16_t global_types[] = {0x4101, 0x2103, 0x4001};

static uint32_t param_count(uint32_t log_type, uint16_t entry_type)
{
    const struct hvlog_entry_type_info *info = hvlog_entry_type_info(log_type, entry_type);
    uint32_t n = 0;

    if (!info || !info->params[0])
        return 0;
    for (const char *p = info->params; *p; p++)
        n += *p == ',';
    return n + 1;
}

struct lp_state {
    uint64_t t;   /* reference time, 100 ns */
    uint32_t seq; /* entries so far */
};

/* Fill one buffer of LP @lp (its @b-th); returns the entries written. */
static uint32_t fill_buffer(const struct synth_spec *spec, uint8_t *buf, uint32_t bytes,
                            uint32_t lp, uint32_t b, struct lp_state *st,
                            struct synth_expect *expect)
{
    const bool current = spec->convention == HVLOG_ABI_CURRENT;
    const uint16_t *types = spec->type == 0 ? global_types : local_types;
    const uint32_t ntypes = spec->type == 0 ? 3u : 6u;
    uint32_t off = HV_EVENTLOG_BUFFER_HEADER_SIZE, n = 0;
    uint32_t lost = !spec->loss ? 0 : b % 3 == 2 ? b : b == 0 && lp == 1 ? 3 : 0;
    uint64_t header_ts;

    memset(buf, 0, bytes);
    st->t += 5;
    header_ts = st->t;
    while (n < spec->max_entries) {
        uint32_t seq = st->seq;
        uint32_t context = lp << 20 | seq;
        bool unknown = seq % 7 == 6;
        uint16_t type = unknown ? SYNTH_UNKNOWN_TYPE : types[seq % ntypes];
        uint32_t params = unknown ? 0 : param_count(spec->type, type);
        uint32_t payload = unknown ? 12u : params * 8u + (seq % 11 == 10 ? 8u : 0u);
        uint32_t size = 16u + payload;
        uint32_t step = (size + 7u) & ~7u;
        struct hv_eventlog_entry_header eh;
        uint64_t ts;

        if (off + step > bytes)
            break;
        st->t += seq % 4 == 3 ? 0u : 1u + seq % 5u;
        ts = st->t;
        if (spec->backwards == SYNTH_BACK_IN_BUFFER && lp == 0 && b == 1 && n == 2)
            ts -= 20; /* steps are at most 5: this is before the previous entry */
        if (spec->backwards == SYNTH_BACK_ACROSS_BUFFERS && lp == 0 && b == 2)
            ts -= 4 * spec->max_entries + 20; /* before buffer 1's last entry, every entry of
                                               * the buffer still after the one before it */
        if (spec->time_basis == HvEventLogEntryTimeTsc)
            ts *= SYNTH_TSC_PER_TICK;
        eh.context = context;
        /* D10: in the current convention Size may leave the padding out. */
        eh.size = (uint16_t)(current ? size : step);
        eh.type = type;
        eh.time_stamp = ts;
        hv_eventlog_entry_header_store(buf + off, &eh);
        if (unknown) {
            for (uint32_t i = 0; i < payload; i++)
                buf[off + 16 + i] = (uint8_t)(seq + i);
            expect->escape[lp]++;
        } else {
            for (uint32_t j = 0; j < params; j++)
                hvlog_store_le64(buf + off + 16 + 8 * j, (uint64_t)context * 256 + j);
            if (payload > params * 8)
                hvlog_store_le64(buf + off + 16 + 8 * params, 0xE0E0E0E0E0E0E0E0ull ^ seq);
        }
        off += step;
        st->seq++;
        n++;
    }
    if (current) {
        struct hv_eventlog_buffer_header_current h = {
            .buffer_size = bytes - HV_EVENTLOG_BUFFER_HEADER_SIZE,
            .buffer_index = (lp + b * spec->lps) % SYNTH_BUFFER_COUNT,
            .events_lost = lost,
            .time_stamp = header_ts,
            .logical_processor = (uint16_t)lp,
            .logger_id = (uint16_t)spec->type,
            .buffer_state = HvEventLogBufferStateReady,
            .next_buffer_offset = off - HV_EVENTLOG_BUFFER_HEADER_SIZE,
            .type = spec->type,
            .next_buffer_index = HV_EVENTLOG_BUFFER_INDEX_NONE,
            .lp_sequence_number = b,
        };
        hv_eventlog_buffer_header_current_store(buf, &h);
    } else {
        struct hv_eventlog_buffer_header h = {
            .buffer_size = bytes,
            .buffer_index = (lp + b * spec->lps) % SYNTH_BUFFER_COUNT,
            .events_lost = lost,
            .time_stamp = header_ts,
            .logical_processor = (uint8_t)lp,
            .alignment = 8,
            .logger_id = (uint16_t)spec->type,
            .buffer_state = HvEventLogBufferStateReady,
            .next_buffer_offset = off,
            .type = spec->type,
            .next_buffer_index = HV_EVENTLOG_BUFFER_INDEX_NONE,
        };
        hv_eventlog_buffer_header_store(buf, &h);
    }
    expect->events[lp] += n;
    expect->lost[lp] += lost;
    expect->buffers[lp]++;
    expect->total_events += n;
    expect->total_lost += lost;
    expect->total_buffers++;
    return n;
}

int synth_generate(const struct synth_spec *spec, synth_buffer_fn fn, void *arg,
                   struct synth_expect *expect)
{
    const uint32_t bytes = spec->pages * HV_PAGE_SIZE;
    const size_t total = (size_t)spec->lps * spec->buffers_per_lp;
    struct lp_state st[SYNTH_MAX_LPS];
    uint8_t *all;
    int rc = 0;

    memset(expect, 0, sizeof(*expect));
    if (spec->lps == 0 || spec->lps > SYNTH_MAX_LPS || (spec->type == 0 && spec->lps != 1))
        return -1;
    all = calloc(total ? total : 1, bytes);
    if (!all)
        return -1;
    for (uint32_t lp = 0; lp < spec->lps; lp++) {
        st[lp].t = 10000u + lp * 13u;
        st[lp].seq = 0;
        for (uint32_t b = 0; b < spec->buffers_per_lp; b++)
            fill_buffer(spec, all + ((size_t)lp * spec->buffers_per_lp + b) * bytes, bytes, lp, b,
                        &st[lp], expect);
    }
    /* Release order: round robin over the LPs; with swap_release, each
     * LP's buffers 2 and 3 are released the other way round. */
    for (uint32_t b = 0; b < spec->buffers_per_lp && rc == 0; b++) {
        for (uint32_t lp = 0; lp < spec->lps && rc == 0; lp++) {
            uint32_t pick = b;
            if (spec->swap_release && spec->buffers_per_lp > 3 && (b == 2 || b == 3))
                pick = b == 2 ? 3 : 2;
            rc = fn(arg, all + ((size_t)lp * spec->buffers_per_lp + pick) * bytes, bytes);
        }
    }
    free(all);
    return rc;
}

void synth_meta(const struct synth_spec *spec, struct hvlog_trace_meta *meta)
{
    struct hvlog_trace_group *g = &meta->groups[0];

    memset(meta, 0, sizeof(*meta));
    meta->version = HVLOG_TRACE_FORMAT_VERSION;
    snprintf(meta->abi_profile, sizeof meta->abi_profile, "%s",
             spec->convention == HVLOG_ABI_CURRENT ? "current" : "2013");
    meta->command_line = (char *)"hvlog record --synthetic";
    meta->host_present = true; /* a simulated host: its geometry and seed */
    meta->host.lps = spec->lps;
    meta->host.domains = 1;
    meta->host.seed = 42;
    meta->tsc_frequency_hz = spec->time_basis == HvEventLogEntryTimeTsc ? 3000000000u : 0u;
    meta->group_count = 1;
    g->type = spec->type;
    g->convention = spec->convention;
    g->buffer_count = SYNTH_BUFFER_COUNT;
    g->buffer_pages = spec->pages;
    g->threshold = 1;
    g->time_basis = spec->time_basis;
    g->system_time = SYNTH_SYSTEM_TIME;
    g->reference_time_at_init = SYNTH_REF_AT_INIT;
    g->sources = 0xFFFFFFFFFFFFFFFFull;
    if (spec->time_basis == HvEventLogEntryTimeQpc) {
        /* As hvlog record writes it: hvlog's engine stamps QPC with the
         * reference time (§11.5), 10 MHz, the same value at Initialize. */
        meta->qpc_frequency_hz = 10000000u;
        g->qpc_at_init = SYNTH_REF_AT_INIT;
        g->qpc_at_init_known = true;
    }
}

static int append_to_writer(void *arg, const uint8_t *bytes, uint32_t len)
{
    void **a = arg;
    return hvlog_trace_writer_append(a[0], *(const uint32_t *)a[1], bytes, len, NULL) ==
                   HVLOG_EXPORT_OK
               ? 0
               : -1;
}

int synth_write_groups(const struct synth_spec *specs, uint32_t n, const char *dir,
                       struct synth_expect *expects)
{
    struct hvlog_trace_writer *w;
    struct hvlog_trace_meta meta, one;
    struct hvlog_trace_lp lps[SYNTH_MAX_LPS];
    struct hvlog_export_error err;

    if (n == 0 || n > HVLOG_TRACE_MAX_GROUPS)
        return -1;
    if (hvlog_trace_writer_create(dir, HVLOG_TRACE_FORCE, &w, &err) != HVLOG_EXPORT_OK) {
        fprintf(stderr, "synth: %s\n", err.message);
        return -1;
    }
    synth_meta(&specs[0], &meta);
    meta.group_count = n;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t type = specs[i].type;
        void *args[2] = {w, &type};

        if (synth_generate(&specs[i], append_to_writer, args, &expects[i]) != 0) {
            hvlog_trace_writer_abort(w);
            return -1;
        }
        synth_meta(&specs[i], &one);
        meta.groups[i] = one.groups[0];
        if (one.tsc_frequency_hz)
            meta.tsc_frequency_hz = one.tsc_frequency_hz;
        if (one.qpc_frequency_hz)
            meta.qpc_frequency_hz = one.qpc_frequency_hz;
        meta.stats.buffers += expects[i].total_buffers;
    }
    /* The LP counters describe the first group. */
    for (uint32_t lp = 0; lp < specs[0].lps; lp++) {
        const struct synth_expect *e = &expects[0];
        lps[lp] = (struct hvlog_trace_lp){lp, e->events[lp] + e->lost[lp], e->events[lp],
                                          e->lost[lp], e->lost[lp], 0, 0};
    }
    meta.lps = lps;
    meta.lp_count = specs[0].lps;
    meta.stats.messages = meta.stats.buffers;
    meta.stats.longest_chain = 1;
    if (hvlog_trace_writer_commit(w, &meta, &err) != HVLOG_EXPORT_OK) {
        fprintf(stderr, "synth: %s\n", err.message);
        return -1;
    }
    return 0;
}

int synth_write_trace(const struct synth_spec *spec, const char *dir, struct synth_expect *expect)
{
    return synth_write_groups(spec, 1, dir, expect);
}

static int append_to_file(void *arg, const uint8_t *bytes, uint32_t len)
{
    return fwrite(bytes, 1, len, arg) == len ? 0 : -1;
}

int synth_write_raw(const struct synth_spec *spec, const char *path, struct synth_expect *expect)
{
    FILE *f = fopen(path, "wb");
    int rc;

    if (!f)
        return -1;
    rc = synth_generate(spec, append_to_file, f, expect);
    if (fclose(f) != 0)
        rc = -1;
    return rc;
}

/* The buffers of one spec, collected in release order. */
struct buffer_list {
    uint8_t *bytes;
    uint32_t len, count, cap;
};

static int append_to_list(void *arg, const uint8_t *bytes, uint32_t len)
{
    struct buffer_list *l = arg;

    if (l->count == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 8;
        uint8_t *more = realloc(l->bytes, (size_t)cap * len);
        if (!more)
            return -1;
        l->bytes = more;
        l->cap = cap;
    }
    memcpy(l->bytes + (size_t)l->count * len, bytes, len);
    l->len = len;
    l->count++;
    return 0;
}

int synth_write_raw_mixed(const struct synth_spec *specs, uint32_t n, const char *path,
                          struct synth_expect *expects)
{
    struct buffer_list lists[HVLOG_TRACE_MAX_GROUPS];
    uint32_t most = 0;
    FILE *f;
    int rc = 0;

    if (n == 0 || n > HVLOG_TRACE_MAX_GROUPS)
        return -1;
    memset(lists, 0, sizeof lists);
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        rc = synth_generate(&specs[i], append_to_list, &lists[i], &expects[i]);
        if (lists[i].count > most)
            most = lists[i].count;
    }
    f = rc == 0 ? fopen(path, "wb") : NULL;
    if (!f)
        rc = -1;
    for (uint32_t b = 0; b < most && rc == 0; b++) {
        for (uint32_t i = 0; i < n && rc == 0; i++) {
            if (b < lists[i].count &&
                fwrite(lists[i].bytes + (size_t)b * lists[i].len, 1, lists[i].len, f) != lists[i].len)
                rc = -1;
        }
    }
    if (f && fclose(f) != 0)
        rc = -1;
    for (uint32_t i = 0; i < n; i++)
        free(lists[i].bytes);
    return rc;
}

int synth_write_expect(const struct synth_spec *spec, const struct synth_expect *expect,
                       const char *path)
{
    FILE *f = fopen(path, "w");
    struct hvlog_json_writer *w;

    if (!f)
        return -1;
    w = hvlog_json_writer_create(hvlog_json_sink_file, f, HVLOG_JSON_PRETTY);
    hvlog_json_object_begin(w);
    hvlog_json_member_u64(w, "type", spec->type);
    hvlog_json_member_u64(w, "time_basis", spec->time_basis);
    hvlog_json_member_u64(w, "total_events", expect->total_events);
    hvlog_json_member_u64(w, "total_discarded", expect->total_lost);
    hvlog_json_member_u64(w, "total_buffers", expect->total_buffers);
    hvlog_json_member_u64(w, "unknown_type", SYNTH_UNKNOWN_TYPE);
    hvlog_json_key(w, "lps");
    hvlog_json_array_begin(w);
    for (uint32_t lp = 0; lp < spec->lps; lp++) {
        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "lp", lp);
        hvlog_json_member_u64(w, "events", expect->events[lp]);
        hvlog_json_member_u64(w, "discarded", expect->lost[lp]);
        hvlog_json_member_u64(w, "buffers", expect->buffers[lp]);
        hvlog_json_member_u64(w, "escape", expect->escape[lp]);
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
    hvlog_json_object_end(w);
    if (hvlog_json_writer_close(w) != HVLOG_EXPORT_OK) {
        fclose(f);
        return -1;
    }
    return fclose(f) == 0 ? 0 : -1;
}

int synth_setup_tmp(void **state)
{
    *state = synth_tmpdir();
    return *state ? 0 : -1;
}

int synth_teardown_tmp(void **state)
{
    synth_rmtree(*state);
    free(*state);
    return 0;
}

struct hvlog_trace_reader *synth_open(const char *base, const struct synth_spec *spec,
                                      struct synth_expect *expect)
{
    char *dir = synth_path(base, "t");
    struct hvlog_trace_reader *r = NULL;
    struct hvlog_export_error err;

    if (dir && synth_write_trace(spec, dir, expect) == 0 &&
        hvlog_trace_open(dir, &r, &err) != HVLOG_EXPORT_OK)
        fprintf(stderr, "synth: %s\n", err.message);
    free(dir);
    return r;
}

static bool count_escape(void *arg, const struct hvlog_entry *e)
{
    *(uint64_t *)arg += e->entry_type == SYNTH_UNKNOWN_TYPE;
    return true;
}

int synth_break_entries(const char *dir, uint32_t type, uint32_t lp, uint32_t nth,
                        struct hvlog_trace_slot *victim, struct synth_expect *expect)
{
    struct hvlog_trace_reader *r = NULL;
    struct hvlog_trace_cursor *c = NULL;
    struct hvlog_trace_slot *slots = NULL, found = {0};
    struct hvlog_trace_buffer b;
    struct hvlog_export_error err;
    uint64_t n = 0, escape = 0, offset = 0;
    uint8_t size[2] = {8, 0}; /* entry Size, u16 little-endian */
    bool have = false;
    FILE *f;
    int rc = -1;

    if (hvlog_trace_open(dir, &r, &err) != HVLOG_EXPORT_OK ||
        hvlog_trace_cursor_open(r, type, &c, &err) != HVLOG_EXPORT_OK ||
        hvlog_trace_fill_order(c, true, NULL, NULL, &slots, &n, NULL, &err) != HVLOG_EXPORT_OK)
        goto out;
    for (uint64_t i = 0; i < n && !have; i++) {
        if (slots[i].lp == lp && nth-- == 0) {
            found = slots[i];
            have = true;
        }
    }
    if (!have || found.entries == 0 ||
        hvlog_trace_cursor_read(c, found.file_index, &b, count_escape, &escape, &err) != HVLOG_EXPORT_OK)
        goto out;
    offset = b.file_offset + HV_EVENTLOG_BUFFER_HEADER_SIZE +
             offsetof(struct hv_eventlog_entry_header, size);
    f = fopen(hvlog_trace_cursor_file(c), "r+b");
    if (!f)
        goto out;
    if (fseek(f, (long)offset, SEEK_SET) == 0 && fwrite(size, 1, sizeof size, f) == sizeof size)
        rc = 0;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && victim)
        *victim = found;
    if (rc == 0 && expect) {
        expect->events[lp] -= found.entries;
        expect->total_events -= found.entries;
        expect->escape[lp] -= escape;
        expect->lost[lp] -= found.events_lost;
        expect->total_lost -= found.events_lost;
        expect->buffers[lp]--;
        expect->total_buffers--;
    }
out:
    free(slots);
    hvlog_trace_cursor_close(c);
    hvlog_trace_close(r);
    return rc;
}

char *synth_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *path = synth_path(base && *base ? base : "/tmp", "hvlog-export-test-XXXXXX");

    if (path && !mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

void synth_rmtree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *de;

    if (lstat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        unlink(path);
        return;
    }
    d = opendir(path);
    while (d && (de = readdir(d)) != NULL) {
        char *child;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        child = synth_path(path, de->d_name);
        if (child)
            synth_rmtree(child);
        free(child);
    }
    if (d)
        closedir(d);
    rmdir(path);
}

char *synth_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int synth_dir_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;

    if (!d)
        return -1;
    while ((de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    closedir(d);
    return n;
}

bool synth_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int synth_edit_meta(const char *dir, const char *from, const char *to)
{
    char *path = synth_path(dir, HVLOG_TRACE_META_FILE);
    size_t flen = strlen(from), tlen = strlen(to);
    char *text = NULL;
    const char *p;
    long len;
    int hits = 0;
    FILE *f = path ? fopen(path, "rb") : NULL;

    if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
        !(text = malloc((size_t)len + 1)) || fread(text, 1, (size_t)len, f) != (size_t)len) {
        if (f)
            fclose(f);
        free(text);
        free(path);
        return -1;
    }
    fclose(f);
    text[len] = '\0';
    f = fopen(path, "wb");
    for (p = text; f && *p;) {
        const char *at = strstr(p, from);
        size_t keep = at ? (size_t)(at - p) : strlen(p);

        fwrite(p, 1, keep, f);
        if (!at)
            break;
        fwrite(to, 1, tlen, f);
        p = at + flen;
        hits++;
    }
    if (!f || ferror(f))
        hits = -1;
    if (f && fclose(f) != 0)
        hits = -1;
    free(text);
    free(path);
    return hits;
}

int synth_capture(void *arg, const uint8_t *bytes, uint32_t len)
{
    struct synth_captured *c = arg;
    uint8_t *grown = realloc(c->bytes, (size_t)(c->count + 1) * len);

    if (!grown)
        return -1;
    c->bytes = grown;
    memcpy(c->bytes + (size_t)c->count * len, bytes, len);
    c->len = len;
    c->count++;
    return 0;
}
