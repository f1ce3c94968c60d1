/* SPDX-License-Identifier: MIT */
/*
 * hvlog-trace.json: reading it (strictly: every value checked for type and
 * range, unknown members ignored so that a version can grow) and writing it
 * (pretty JSON through the streaming writer). docs/trace-format.md is the
 * reference; the member names below are the format. The text is parsed by
 * hvlog__export_json_read (jansson, strict, u64 integers); this file checks the tree.
 *
 * Version 2 (written) and version 1 (read) differ in where the simulator's
 * truths live: v1 has top-level "lps" and "stats" and a "host" of geometry;
 * v2 moves the per-LP counters into the optional "host" section
 * ("host.lp_counts"), adds "root" and each group's "mode", and has
 * "closing" (the client's counts and each group's "buffers_written") only
 * once the recorder finished. Both fill one struct hvlog_trace_meta.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace_internal.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/trace/json.h"
#include "hvlog/trace/trace.h"
#include "hvlog/version.h"

/* Short group names and data files, by log type (docs/trace-format.md). */
static const struct {
    const char *short_name;
    const char *file;
    const char *zfile; /* compressed (HVLOG_TRACE_COMPRESS) */
} group_names[HVLOG_TRACE_MAX_GROUPS] = {
    [HvEventLogTypeGlobalSystemEvents] = {"global", "global.buffers", "global.buffers.zst"},
    [HvEventLogTypeLocalDiagnostics] = {"local", "local.buffers", "local.buffers.zst"},
    [HvEventLogTypeSystemDiagnostics] = {"system", "system.buffers", "system.buffers.zst"},
};

const char *hvlog_trace_group_file(uint32_t type)
{
    return type < HVLOG_TRACE_MAX_GROUPS ? group_names[type].file : NULL;
}

const char *hvlog_trace_group_file_compressed(uint32_t type)
{
    return type < HVLOG_TRACE_MAX_GROUPS ? group_names[type].zfile : NULL;
}

const char *hvlog_trace_records_file(uint32_t type)
{
    /* §11.6: only SystemDiagnostics comes as records (the diaglog fd). */
    return type == HvEventLogTypeSystemDiagnostics ? "system.records" : NULL;
}

const char *hvlog_trace_group_short(uint32_t type)
{
    return type < HVLOG_TRACE_MAX_GROUPS ? group_names[type].short_name : NULL;
}

const struct hvlog_trace_group *hvlog_trace_meta_group(const struct hvlog_trace_meta *meta,
                                                       uint32_t type)
{
    for (uint32_t i = 0; meta && i < meta->group_count; i++) {
        if (meta->groups[i].type == type)
            return &meta->groups[i];
    }
    return NULL;
}

/* Group @g's wall-clock offset in 100 ns: FILETIME = ticks in 100 ns + it. */
static bool anchor_offset(const struct hvlog_trace_meta *meta, const struct hvlog_trace_group *g,
                          __int128 *offset)
{
    if (g->system_time == 0 || g->no_reference_anchor) /* 0 = unknown */
        return false;
    if (g->time_basis == HvEventLogEntryTimeReference) {
        *offset = (__int128)g->system_time - g->reference_time_at_init;
        return true;
    }
    if (g->time_basis != HvEventLogEntryTimeQpc || meta->qpc_frequency_hz == 0 ||
        !g->qpc_at_init_known)
        return false;
    *offset = (__int128)g->system_time -
              (__int128)g->qpc_at_init * 10000000 / meta->qpc_frequency_hz;
    return true;
}

const struct hvlog_trace_group *hvlog_trace_meta_anchor(const struct hvlog_trace_meta *meta,
                                                        uint32_t basis)
{
    const struct hvlog_trace_group *best = NULL;
    __int128 best_offset = 0, offset;

    for (uint32_t i = 0; meta && i < meta->group_count; i++) {
        const struct hvlog_trace_group *g = &meta->groups[i];

        if (g->time_basis == basis && anchor_offset(meta, g, &offset) &&
            (!best || offset > best_offset)) {
            best = g;
            best_offset = offset;
        }
    }
    return best;
}

void hvlog_trace_meta_release(struct hvlog_trace_meta *meta)
{
    if (!meta)
        return;
    free(meta->command_line);
    free(meta->lps);
    free(meta->snapshot.rows);
    free(meta->relayd.url);
    free(meta->relayd.streams);
    memset(meta, 0, sizeof(*meta));
}

/* The counters' member names: HVLOG_TRACE_*_COUNTERS (hvlog/trace/trace.h). */

/* ---- reading ---- */

struct meta_parse {
    struct hvlog_export_error *err;
    char where[48]; /* "groups[1]" etc., for messages */
};

static enum hvlog_export_status bad(struct meta_parse *mp, const char *key, const char *what)
{
    return hvlog__export_fail(mp->err, HVLOG_EXPORT_BAD_META, "%s%s%s: %s", mp->where,
                       mp->where[0] ? "." : "", key, what);
}

/* An optional unsigned member, at most @max; absent leaves *out as is. */
static enum hvlog_export_status get_u64(struct meta_parse *mp, const json_t *obj,
                                        const char *key, bool required, uint64_t max,
                                        uint64_t *out)
{
    const json_t *n = json_object_get(obj, key);
    uint64_t v;

    if (!n)
        return required ? bad(mp, key, "missing") : HVLOG_EXPORT_OK;
    if (!hvlog__export_json_u64(n, &v))
        return bad(mp, key, "not an unsigned 64-bit integer");
    if (v > max)
        return bad(mp, key, "out of range");
    *out = v;
    return HVLOG_EXPORT_OK;
}

static enum hvlog_export_status get_u32(struct meta_parse *mp, const json_t *obj,
                                        const char *key, bool required, uint32_t max,
                                        uint32_t *out)
{
    uint64_t v = *out;
    enum hvlog_export_status st = get_u64(mp, obj, key, required, max, &v);

    *out = (uint32_t)v;
    return st;
}

/* A string member; NULL when absent (and not required). */
static enum hvlog_export_status get_string(struct meta_parse *mp, const json_t *obj,
                                           const char *key, bool required, const char **out)
{
    const json_t *n = json_object_get(obj, key);

    *out = NULL;
    if (!n)
        return required ? bad(mp, key, "missing") : HVLOG_EXPORT_OK;
    if (!json_is_string(n))
        return bad(mp, key, "not a string");
    *out = json_string_value(n); /* no NUL inside: jansson refuses \u0000 */
    return HVLOG_EXPORT_OK;
}

/* A 64-bit mask as "0x..." (hex digits only) or as a plain number. */
static enum hvlog_export_status get_mask(struct meta_parse *mp, const json_t *obj,
                                         const char *key, uint64_t *out)
{
    const json_t *n = json_object_get(obj, key);
    const char *text = json_string_value(n); /* NULL unless a string */
    size_t len = json_string_length(n);
    uint64_t v = 0;

    if (!n)
        return HVLOG_EXPORT_OK;
    if (json_is_number(n))
        return get_u64(mp, obj, key, false, UINT64_MAX, out);
    if (!text || len < 3 || len > 18 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
        return bad(mp, key, "not a \"0x...\" mask");
    for (size_t i = 2; i < len; i++) {
        char c = text[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (unsigned)(c - 'A' + 10);
        else
            return bad(mp, key, "not a \"0x...\" mask");
        v = v << 4 | d;
    }
    *out = v;
    return HVLOG_EXPORT_OK;
}

static bool plain_file_name(const char *s, size_t len)
{
    if (len == 0 || len >= sizeof(((struct hvlog_trace_group *)0)->file) || s[0] == '.' ||
        strcmp(s, HVLOG_TRACE_META_FILE) == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '/' || s[i] == '\\' || (unsigned char)s[i] < 0x20)
            return false;
    }
    return true;
}

#define TRY(expr)                                     \
    do {                                              \
        enum hvlog_export_status st_ = (expr);        \
        if (st_ != HVLOG_EXPORT_OK)                   \
            return st_;                               \
    } while (0)

static enum hvlog_export_status parse_group(struct meta_parse *mp, const json_t *obj,
                                            struct hvlog_trace_group *g)
{
    const json_t *file = json_object_get(obj, "file");
    const char *conv = NULL;
    uint32_t pages = 0;

    if (!json_is_object(obj))
        return bad(mp, "", "not an object");
    TRY(get_u32(mp, obj, "type", true, HvEventLogTypeMaximumCurrent, &g->type));
    if (!file)
        return bad(mp, "file", "missing");
    if (!json_is_string(file) ||
        !plain_file_name(json_string_value(file), json_string_length(file)))
        return bad(mp, "file", "not a plain file name inside the trace directory");
    memcpy(g->file, json_string_value(file), json_string_length(file) + 1);
    TRY(get_string(mp, obj, "header_convention", true, &conv));
    if (!conv)
        return bad(mp, "header_convention", "missing");
    if (strcmp(conv, "2013") == 0)
        g->convention = HVLOG_ABI_2013;
    else if (strcmp(conv, "current") == 0)
        g->convention = HVLOG_ABI_CURRENT;
    else
        return bad(mp, "header_convention", "neither \"2013\" nor \"current\"");
    TRY(get_u32(mp, obj, "buffer_pages", true, HV_EVENTLOG_MAX_BUFFER_PAGES, &pages));
    if (pages < HV_EVENTLOG_MIN_BUFFER_PAGES)
        return bad(mp, "buffer_pages", "out of range");
    g->buffer_pages = pages;
    TRY(get_u32(mp, obj, "buffer_count", false, HV_EVENTLOG_MAX_BUFFER_COUNT, &g->buffer_count));
    TRY(get_u32(mp, obj, "threshold", false, HV_EVENTLOG_MAX_BUFFER_COUNT, &g->threshold));
    TRY(get_u32(mp, obj, "time_basis", false, HvEventLogEntryTimeMaximumCurrent, &g->time_basis));
    TRY(get_u64(mp, obj, "system_time", false, UINT64_MAX, &g->system_time));
    TRY(get_u64(mp, obj, "reference_time_at_init", false, UINT64_MAX, &g->reference_time_at_init));
    /* Absent is "unknown", which 0 cannot say: 0 is a valid counter value. */
    if (json_object_get(obj, "qpc_at_init")) {
        TRY(get_u64(mp, obj, "qpc_at_init", false, UINT64_MAX, &g->qpc_at_init));
        g->qpc_at_init_known = true;
    }
    TRY(get_u32(mp, obj, "mode", false, HvEventLogModeCircular, &g->mode));
    /* Absent = anchored (every trace before issue #14); only false is written. */
    if (json_object_get(obj, "reference_anchor")) {
        const json_t *a = json_object_get(obj, "reference_anchor");

        if (!json_is_boolean(a))
            return bad(mp, "reference_anchor", "not true or false");
        g->no_reference_anchor = json_is_false(a);
    }
    /* Closing statistics of a version-2 recording; absent while it runs. */
    if (json_object_get(obj, "buffers_written")) {
        TRY(get_u64(mp, obj, "buffers_written", false, UINT64_MAX, &g->buffers_written));
        g->buffers_written_known = true;
    }
    /* Format 3: how the group file holds its buffers. A reader knows
     * every value it accepts; anything else is refused, never guessed. */
    if (json_object_get(obj, "compression")) {
        const char *how = NULL;

        TRY(get_string(mp, obj, "compression", false, &how));
        if (how && strcmp(how, "zstd") == 0)
            g->compression = HVLOG_TRACE_COMPRESSION_ZSTD;
        else if (!how || strcmp(how, "none") != 0)
            return bad(mp, "compression", "neither \"zstd\" nor \"none\" (this hvlog reads no other)");
    }
    return get_mask(mp, obj, "sources", &g->sources);
}

/* v2 "records": the records files (docs/trace-format.md section 3). */
static enum hvlog_export_status parse_records(struct meta_parse *mp, const json_t *arr,
                                              struct hvlog_trace_meta *meta)
{
    size_t count = json_array_size(arr);

    if (!json_is_array(arr) || count > HVLOG_TRACE_MAX_RECORDS)
        return bad(mp, "records", "not an array of at most 1 records file");
    for (uint32_t i = 0; i < count; i++) {
        const json_t *obj = json_array_get(arr, i), *file;
        struct hvlog_trace_records *r = &meta->records[i];
        const char *unit = NULL, *want;

        snprintf(mp->where, sizeof mp->where, "records[%u]", i);
        if (!json_is_object(obj))
            return bad(mp, "", "not an object");
        TRY(get_u32(mp, obj, "type", true, HvEventLogTypeMaximumCurrent, &r->type));
        want = hvlog_trace_records_file(r->type);
        if (!want)
            return bad(mp, "type", "a log type that has no records file");
        file = json_object_get(obj, "file");
        if (!json_is_string(file) || strcmp(json_string_value(file), want) != 0)
            return bad(mp, "file", "not the records file of its type");
        snprintf(r->file, sizeof r->file, "%s", want);
        TRY(get_string(mp, obj, "time_unit", true, &unit));
        if (!unit || strcmp(unit, "unix_seconds") != 0)
            return bad(mp, "time_unit", "not \"unix_seconds\"");
        r->time_unit = HVLOG_TRACE_RECORD_TIME_UNIX_SECONDS;
        if (json_object_get(obj, "records_written")) {
            TRY(get_u64(mp, obj, "records_written", false, UINT64_MAX, &r->records_written));
            r->records_written_known = true;
        }
        meta->records_count = i + 1;
    }
    mp->where[0] = '\0';
    return HVLOG_EXPORT_OK;
}

/* v1 "lps" or v2 "host.lp_counts" (@name, for messages). */
static enum hvlog_export_status parse_lps(struct meta_parse *mp, const char *name,
                                          const json_t *arr, struct hvlog_trace_meta *meta)
{
    size_t count = json_array_size(arr);

    if (!json_is_array(arr))
        return bad(mp, name, "not an array");
    if (count == 0)
        return HVLOG_EXPORT_OK;
    /* From a text below 16 MiB: fewer than 2^32 elements, so i fits 32 bits. */
    meta->lps = calloc(count, sizeof(*meta->lps));
    if (!meta->lps)
        return hvlog__export_fail(mp->err, HVLOG_EXPORT_NOMEM, "out of memory");
    for (uint32_t i = 0; i < count; i++) {
        const json_t *n = json_array_get(arr, i);
        struct hvlog_trace_lp *lp = &meta->lps[i];

        snprintf(mp->where, sizeof mp->where, "%s[%u]", name, i);
        if (!json_is_object(n))
            return bad(mp, "", "not an object");
        lp->lp = i;
        TRY(get_u32(mp, n, "lp", false, UINT32_MAX, &lp->lp));
#define READ_LP_COUNTER(field) TRY(get_u64(mp, n, #field, false, UINT64_MAX, &lp->field));
        HVLOG_TRACE_LP_COUNTERS(READ_LP_COUNTER)
#undef READ_LP_COUNTER
        meta->lp_count = i + 1;
    }
    mp->where[0] = '\0';
    return HVLOG_EXPORT_OK;
}

/* v2 "snapshot" (optional): a flight-recorder snapshot's accounting. */
static enum hvlog_export_status parse_snapshot(struct meta_parse *mp, const json_t *obj,
                                               struct hvlog_trace_meta *meta)
{
    struct hvlog_trace_snapshot *sn = &meta->snapshot;
    const json_t *arr;
    const char *reason = NULL;
    size_t count;

    if (!json_is_object(obj))
        return bad(mp, "snapshot", "not an object");
    snprintf(mp->where, sizeof mp->where, "snapshot");
    TRY(get_u64(mp, obj, "sequence", true, UINT64_MAX, &sn->sequence));
    TRY(get_u64(mp, obj, "ring_bytes", false, UINT64_MAX, &sn->ring_bytes));
    TRY(get_string(mp, obj, "reason", false, &reason));
    if (reason && strlen(reason) >= sizeof sn->reason)
        return bad(mp, "reason", "too long");
    snprintf(sn->reason, sizeof sn->reason, "%s", reason ? reason : "");
    arr = json_object_get(obj, "lps");
    count = json_array_size(arr);
    if (arr && !json_is_array(arr))
        return bad(mp, "lps", "not an array");
    /* From a text below 16 MiB: fewer than 2^32 elements. */
    if (count && !(sn->rows = calloc(count, sizeof *sn->rows)))
        return hvlog__export_fail(mp->err, HVLOG_EXPORT_NOMEM, "out of memory");
    for (uint32_t i = 0; i < count; i++) {
        const json_t *n = json_array_get(arr, i);
        struct hvlog_trace_snapshot_lp *row = &sn->rows[i];

        snprintf(mp->where, sizeof mp->where, "snapshot.lps[%u]", i);
        if (!json_is_object(n))
            return bad(mp, "", "not an object");
        TRY(get_u32(mp, n, "type", true, HvEventLogTypeMaximumCurrent, &row->type));
        TRY(get_u32(mp, n, "lp", true, UINT32_MAX, &row->lp));
#define READ_SNAPSHOT_COUNTER(field) TRY(get_u64(mp, n, #field, false, UINT64_MAX, &row->field));
        HVLOG_TRACE_SNAPSHOT_COUNTERS(READ_SNAPSHOT_COUNTER)
#undef READ_SNAPSHOT_COUNTER
        sn->row_count = i + 1;
    }
    meta->snapshot_present = true;
    mp->where[0] = '\0';
    return HVLOG_EXPORT_OK;
}

/* "closing.relayd" (optional): what a recording streamed to relayd sent and lost. */
static enum hvlog_export_status parse_relayd(struct meta_parse *mp, const json_t *obj,
                                             struct hvlog_trace_meta *meta)
{
    const json_t *arr = json_object_get(obj, "streams"); /* NULL unless obj is an object */
    size_t count = json_array_size(arr);                  /* 0 unless arr is an array */
    const char *url = NULL;

    snprintf(mp->where, sizeof mp->where, "closing.relayd");
    if (!json_is_object(obj))
        return bad(mp, "", "not an object");
    TRY(get_string(mp, obj, "url", false, &url));
    TRY(get_u64(mp, obj, "breaks", false, UINT64_MAX, &meta->relayd.breaks));
    TRY(get_u64(mp, obj, "reconnects", false, UINT64_MAX, &meta->relayd.reconnects));
    if (arr && !json_is_array(arr))
        return bad(mp, "streams", "not an array");
    if (url && !(meta->relayd.url = strdup(url)))
        return hvlog__export_fail(mp->err, HVLOG_EXPORT_NOMEM, "out of memory");
    /* From a text below 16 MiB: fewer than 2^32 elements. */
    if (count && !(meta->relayd.streams = calloc(count, sizeof(*meta->relayd.streams))))
        return hvlog__export_fail(mp->err, HVLOG_EXPORT_NOMEM, "out of memory");
    for (uint32_t i = 0; i < count; i++) {
        const json_t *n = json_array_get(arr, i);
        struct hvlog_trace_relayd_stream *s = &meta->relayd.streams[i];

        snprintf(mp->where, sizeof mp->where, "closing.relayd.streams[%u]", i);
        if (!json_is_object(n))
            return bad(mp, "", "not an object");
        TRY(get_u32(mp, n, "type", true, HVLOG_TYPE_COUNT - 1, &s->type));
        TRY(get_u32(mp, n, "lp", true, UINT32_MAX, &s->lp));
#define READ_RELAYD_COUNTER(field) TRY(get_u64(mp, n, #field, false, UINT64_MAX, &s->field));
        HVLOG_TRACE_RELAYD_COUNTERS(READ_RELAYD_COUNTER)
#undef READ_RELAYD_COUNTER
        meta->relayd.stream_count = i + 1;
    }
    mp->where[0] = '\0';
    meta->relayd_present = true;
    return HVLOG_EXPORT_OK;
}

static enum hvlog_export_status parse_meta(struct meta_parse *mp, const json_t *root,
                                           struct hvlog_trace_meta *meta)
{
    const json_t *n;
    const char *s;
    uint64_t version = 0;
    size_t count;

    if (!json_is_object(root))
        return hvlog__export_fail(mp->err, HVLOG_EXPORT_NOT_TRACE, "not an hvlog trace: not a JSON object");
    TRY(get_string(mp, root, "format", false, &s));
    if (!s || strcmp(s, HVLOG_TRACE_FORMAT) != 0)
        return hvlog__export_fail(mp->err, HVLOG_EXPORT_NOT_TRACE,
                           "not an hvlog trace: \"format\" is not \"" HVLOG_TRACE_FORMAT "\"");
    TRY(get_u64(mp, root, "version", true, UINT64_MAX, &version));
    if (version == 0)
        return bad(mp, "version", "out of range");
    if (version > HVLOG_TRACE_FORMAT_VERSION_MAX)
        return hvlog__export_fail(mp->err, HVLOG_EXPORT_VERSION,
                           "trace format version %llu is newer than this hvlog reads (%u)",
                           (unsigned long long)version, HVLOG_TRACE_FORMAT_VERSION_MAX);
    meta->version = (uint32_t)version;
    TRY(get_string(mp, root, "hvlog_version", false, &s));
    if (s)
        snprintf(meta->hvlog_version, sizeof meta->hvlog_version, "%s", s);
    TRY(get_string(mp, root, "abi_profile", false, &s));
    if (s && strcmp(s, "2013") != 0 && strcmp(s, "current") != 0)
        return bad(mp, "abi_profile", "neither \"2013\" nor \"current\"");
    snprintf(meta->abi_profile, sizeof meta->abi_profile, "%s", s ? s : "2013");
    TRY(get_string(mp, root, "command_line", false, &s));
    if (s && !(meta->command_line = hvlog__export_strdup(s)))
        return hvlog__export_fail(mp->err, HVLOG_EXPORT_NOMEM, "out of memory");
    n = json_object_get(root, "host");
    if (n) {
        snprintf(mp->where, sizeof mp->where, "host");
        if (!json_is_object(n))
            return bad(mp, "", "not an object");
        TRY(get_u32(mp, n, "lps", false, UINT32_MAX, &meta->host.lps));
        TRY(get_u32(mp, n, "domains", false, UINT32_MAX, &meta->host.domains));
        TRY(get_u32(mp, n, "children", false, UINT32_MAX, &meta->host.children));
        TRY(get_u64(mp, n, "seed", false, UINT64_MAX, &meta->host.seed));
        meta->host_present = true;
        if (version >= 2 && json_object_get(n, "lp_counts"))
            TRY(parse_lps(mp, "host.lp_counts", json_object_get(n, "lp_counts"), meta));
        mp->where[0] = '\0';
    }
    if (version >= 2 && (n = json_object_get(root, "root")) != NULL) {
        snprintf(mp->where, sizeof mp->where, "root");
        if (!json_is_object(n))
            return bad(mp, "", "not an object");
        TRY(get_u32(mp, n, "vps", false, UINT32_MAX, &meta->root.vps));
        TRY(get_u32(mp, n, "domains", false, UINT32_MAX, &meta->root.domains));
        /* Optional (added in format 2 without a version bump: older
         * readers ignore it). Several traces on one timeline name their
         * hosts by it. */
        TRY(get_string(mp, n, "hostname", false, &s));
        if (s && strlen(s) >= sizeof meta->root.hostname)
            return bad(mp, "hostname", "longer than a host name (64 bytes)");
        if (s)
            snprintf(meta->root.hostname, sizeof meta->root.hostname, "%s", s);
        mp->where[0] = '\0';
    }
    TRY(get_u64(mp, root, "tsc_frequency_hz", false, UINT64_MAX, &meta->tsc_frequency_hz));
    TRY(get_u64(mp, root, "qpc_frequency_hz", false, UINT64_MAX, &meta->qpc_frequency_hz));
    n = json_object_get(root, "groups");
    count = json_array_size(n);
    if (!json_is_array(n) || count == 0 || count > HVLOG_TRACE_MAX_GROUPS)
        return bad(mp, "groups", "not an array of 1 to 3 groups");
    for (uint32_t i = 0; i < count; i++) {
        snprintf(mp->where, sizeof mp->where, "groups[%u]", i);
        TRY(parse_group(mp, json_array_get(n, i), &meta->groups[i]));
        for (uint32_t j = 0; j < i; j++) {
            if (meta->groups[j].type == meta->groups[i].type)
                return bad(mp, "type", "a second group of the same type");
            if (strcmp(meta->groups[j].file, meta->groups[i].file) == 0)
                return bad(mp, "file", "the same file as another group");
        }
        meta->group_count = i + 1;
    }
    mp->where[0] = '\0';
    n = json_object_get(root, "records");
    if (n && version >= 2)
        TRY(parse_records(mp, n, meta));
    if (version == 1) {
        /* Version 1: the simulator's per-LP counters at the top, and
         * "stats"; a v1 trace was only ever written whole (closed). */
        n = json_object_get(root, "lps");
        if (n) {
            TRY(parse_lps(mp, "lps", n, meta));
            meta->host_present = true;
        }
        meta->closed = true;
        n = json_object_get(root, "stats");
        if (n) {
            snprintf(mp->where, sizeof mp->where, "stats");
            if (!json_is_object(n))
                return bad(mp, "", "not an object");
#define READ_STAT(field) TRY(get_u64(mp, n, #field, false, UINT64_MAX, &meta->stats.field));
            HVLOG_TRACE_STATS_COUNTERS(READ_STAT)
#undef READ_STAT
        }
        return HVLOG_EXPORT_OK;
    }
    n = json_object_get(root, "snapshot");
    if (n)
        TRY(parse_snapshot(mp, n, meta));
    /* Version 2: "closing" is there once the recorder finished. */
    n = json_object_get(root, "closing");
    if (n) {
        snprintf(mp->where, sizeof mp->where, "closing");
        if (!json_is_object(n))
            return bad(mp, "", "not an object");
#define READ_CLOSING(field) TRY(get_u64(mp, n, #field, false, UINT64_MAX, &meta->stats.field));
        HVLOG_TRACE_CLOSING_COUNTERS(READ_CLOSING)
#undef READ_CLOSING
        meta->closed = true;
        n = json_object_get(n, "relayd");
        if (n)
            TRY(parse_relayd(mp, n, meta));
    }
    return HVLOG_EXPORT_OK;
}

enum hvlog_export_status hvlog_trace_meta_parse(const char *text, size_t len,
                                               struct hvlog_trace_meta *out,
                                               struct hvlog_export_error *err)
{
    struct meta_parse mp = {err, ""};
    enum hvlog_export_status status;
    json_t *root;
    char why[HVLOG_EXPORT_MESSAGE_MAX - 64];

    if (!out)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no metadata to fill");
    memset(out, 0, sizeof(*out));
    if (!text)
        return hvlog__export_fail(err, HVLOG_EXPORT_INVALID, "no metadata text");
    if (len > HVLOG_TRACE_META_MAX_BYTES)
        return hvlog__export_fail(err, HVLOG_EXPORT_BAD_META, "metadata larger than %u bytes",
                           HVLOG_TRACE_META_MAX_BYTES);
    status = hvlog__export_json_read(text, len, &root, why, sizeof why);
    if (status == HVLOG_EXPORT_NOMEM)
        return hvlog__export_fail(err, status, "out of memory");
    if (status != HVLOG_EXPORT_OK) {
        /* Text that is not even JSON is not an hvlog trace at all. */
        return hvlog__export_fail(err, HVLOG_EXPORT_NOT_TRACE, "not an hvlog trace: not JSON (%s)",
                           why);
    }
    status = parse_meta(&mp, root, out);
    json_decref(root);
    return status;
}

/* ---- writing ---- */

int hvlog__trace_fd_sink_write(void *arg, const char *bytes, size_t len)
{
    struct hvlog__trace_fd_sink *s = arg;
    int e = hvlog__export_write_all(s->fd, bytes, len);

    if (e != 0 && s->error == 0)
        s->error = e;
    return e;
}

void hvlog__trace_json_closing_counters(struct hvlog_json_writer *w, const struct hvlog_trace_meta *meta)
{
#define WRITE_CLOSING(field) hvlog_json_member_u64(w, #field, meta->stats.field);
    HVLOG_TRACE_CLOSING_COUNTERS(WRITE_CLOSING)
#undef WRITE_CLOSING
}

void hvlog__trace_json_lp_counts(struct hvlog_json_writer *w, const struct hvlog_trace_lp *lps,
                                 uint32_t count)
{
    hvlog_json_key(w, "lp_counts");
    hvlog_json_array_begin(w);
    for (uint32_t i = 0; i < count; i++) {
        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "lp", lps[i].lp);
#define WRITE_LP_COUNTER(field) hvlog_json_member_u64(w, #field, lps[i].field);
        HVLOG_TRACE_LP_COUNTERS(WRITE_LP_COUNTER)
#undef WRITE_LP_COUNTER
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
}

enum hvlog_export_status hvlog__export_meta_write(int fd, const struct hvlog_trace_meta *meta,
                                           struct hvlog_export_error *err)
{
    struct hvlog__trace_fd_sink sink = {fd, 0};
    struct hvlog_json_writer *w = hvlog_json_writer_create(hvlog__trace_fd_sink_write, &sink, HVLOG_JSON_PRETTY);
    enum hvlog_export_status status;
    bool compressed = false;

    for (uint32_t i = 0; i < meta->group_count; i++)
        compressed |= meta->groups[i].compression == HVLOG_TRACE_COMPRESSION_ZSTD;

    if (!w)
        return hvlog__export_fail(err, HVLOG_EXPORT_NOMEM, "out of memory");
    hvlog_json_object_begin(w);
    hvlog_json_member_string(w, "format", HVLOG_TRACE_FORMAT);
    /* Version 3 only when a group is compressed: older readers then
     * refuse the trace by its version, clearly (trace.h). */
    hvlog_json_member_u64(w, "version", compressed ? HVLOG_TRACE_FORMAT_VERSION_COMPRESSED
                                                   : HVLOG_TRACE_FORMAT_VERSION);
    hvlog_json_member_string(w, "hvlog_version",
                             meta->hvlog_version[0] ? meta->hvlog_version : hvlog_version());
    hvlog_json_member_string(w, "abi_profile", meta->abi_profile[0] ? meta->abi_profile : "2013");
    hvlog_json_member_string(w, "command_line", meta->command_line ? meta->command_line : "");
    /* What the root itself knows of the machine (its root ops). */
    hvlog_json_key(w, "root");
    hvlog_json_object_begin(w);
    hvlog_json_member_u64(w, "vps", meta->root.vps);
    hvlog_json_member_u64(w, "domains", meta->root.domains);
    if (meta->root.hostname[0])
        hvlog_json_member_string(w, "hostname", meta->root.hostname);
    hvlog_json_object_end(w);
    hvlog_json_member_u64(w, "tsc_frequency_hz", meta->tsc_frequency_hz);
    hvlog_json_member_u64(w, "qpc_frequency_hz", meta->qpc_frequency_hz);
    hvlog_json_key(w, "groups");
    hvlog_json_array_begin(w);
    for (uint32_t i = 0; i < meta->group_count; i++) {
        const struct hvlog_trace_group *g = &meta->groups[i];
        const char *name = hvlog_eventlog_type_name(g->type);

        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "type", g->type);
        hvlog_json_member_string(w, "name", name ? name : "");
        hvlog_json_member_string(w, "file", g->compression == HVLOG_TRACE_COMPRESSION_ZSTD
                                                ? hvlog_trace_group_file_compressed(g->type)
                                                : hvlog_trace_group_file(g->type));
        if (g->compression == HVLOG_TRACE_COMPRESSION_ZSTD)
            hvlog_json_member_string(w, "compression", "zstd");
        hvlog_json_member_string(w, "header_convention",
                                 g->convention == HVLOG_ABI_CURRENT ? "current" : "2013");
        hvlog_json_member_u64(w, "mode", g->mode);
        hvlog_json_member_u64(w, "buffer_count", g->buffer_count);
        hvlog_json_member_u64(w, "buffer_pages", g->buffer_pages);
        hvlog_json_member_u64(w, "threshold", g->threshold);
        hvlog_json_member_u64(w, "time_basis", g->time_basis);
        hvlog_json_member_u64(w, "system_time", g->system_time);
        hvlog_json_member_u64(w, "reference_time_at_init", g->reference_time_at_init);
        if (g->qpc_at_init_known) /* absent = unknown */
            hvlog_json_member_u64(w, "qpc_at_init", g->qpc_at_init);
        if (g->no_reference_anchor) {
            hvlog_json_key(w, "reference_anchor");
            hvlog_json_bool(w, false);
        }
        hvlog_json_member_hex(w, "sources", g->sources);
        if (meta->closed && g->buffers_written_known)
            hvlog_json_member_u64(w, "buffers_written", g->buffers_written);
        hvlog_json_object_end(w);
    }
    hvlog_json_array_end(w);
    if (meta->records_count > 0) {
        hvlog_json_key(w, "records");
        hvlog_json_array_begin(w);
        for (uint32_t i = 0; i < meta->records_count && i < HVLOG_TRACE_MAX_RECORDS; i++) {
            const struct hvlog_trace_records *r = &meta->records[i];
            const char *file = hvlog_trace_records_file(r->type);

            hvlog_json_object_begin(w);
            hvlog_json_member_u64(w, "type", r->type);
            hvlog_json_member_string(w, "file", file ? file : "");
            hvlog_json_member_string(w, "time_unit", "unix_seconds");
            if (meta->closed && r->records_written_known)
                hvlog_json_member_u64(w, "records_written", r->records_written);
            hvlog_json_object_end(w);
        }
        hvlog_json_array_end(w);
    }
    if (meta->host_present || meta->lp_count > 0) {
        /* The simulator's truths: optional, for cross-checks only. */
        hvlog_json_key(w, "host");
        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "lps", meta->host.lps);
        hvlog_json_member_u64(w, "domains", meta->host.domains);
        hvlog_json_member_u64(w, "children", meta->host.children);
        hvlog_json_member_u64(w, "seed", meta->host.seed);
        if (meta->lp_count > 0)
            hvlog__trace_json_lp_counts(w, meta->lps, meta->lp_count);
        hvlog_json_object_end(w);
    }
    if (meta->snapshot_present) {
        /* The flight recorder's accounting (record --snapshot). */
        const struct hvlog_trace_snapshot *sn = &meta->snapshot;

        hvlog_json_key(w, "snapshot");
        hvlog_json_object_begin(w);
        hvlog_json_member_u64(w, "sequence", sn->sequence);
        hvlog_json_member_string(w, "reason", sn->reason);
        hvlog_json_member_u64(w, "ring_bytes", sn->ring_bytes);
        hvlog_json_key(w, "lps");
        hvlog_json_array_begin(w);
        for (uint32_t i = 0; i < sn->row_count && sn->rows; i++) {
            const struct hvlog_trace_snapshot_lp *row = &sn->rows[i];

            hvlog_json_object_begin(w);
            hvlog_json_member_u64(w, "type", row->type);
            hvlog_json_member_u64(w, "lp", row->lp);
#define WRITE_SNAPSHOT_COUNTER(field) hvlog_json_member_u64(w, #field, row->field);
            HVLOG_TRACE_SNAPSHOT_COUNTERS(WRITE_SNAPSHOT_COUNTER)
#undef WRITE_SNAPSHOT_COUNTER
            hvlog_json_object_end(w);
        }
        hvlog_json_array_end(w);
        hvlog_json_object_end(w);
    }
    if (meta->closed) {
        hvlog_json_key(w, "closing");
        hvlog_json_object_begin(w);
        hvlog__trace_json_closing_counters(w, meta);
        if (meta->relayd_present) {
            hvlog_json_key(w, "relayd");
            hvlog_json_object_begin(w);
            if (meta->relayd.url)
                hvlog_json_member_string(w, "url", meta->relayd.url);
            hvlog_json_member_u64(w, "breaks", meta->relayd.breaks);
            hvlog_json_member_u64(w, "reconnects", meta->relayd.reconnects);
            hvlog_json_key(w, "streams");
            hvlog_json_array_begin(w);
            for (uint32_t i = 0; i < meta->relayd.stream_count; i++) {
                const struct hvlog_trace_relayd_stream *s = &meta->relayd.streams[i];

                hvlog_json_object_begin(w);
                hvlog_json_member_u64(w, "type", s->type);
                hvlog_json_member_u64(w, "lp", s->lp);
#define WRITE_RELAYD_COUNTER(field) hvlog_json_member_u64(w, #field, s->field);
                HVLOG_TRACE_RELAYD_COUNTERS(WRITE_RELAYD_COUNTER)
#undef WRITE_RELAYD_COUNTER
                hvlog_json_object_end(w);
            }
            hvlog_json_array_end(w);
            hvlog_json_object_end(w);
        }
        hvlog_json_object_end(w);
    }
    hvlog_json_object_end(w);
    status = hvlog_json_writer_close(w);
    if (status == HVLOG_EXPORT_IO)
        return hvlog__export_fail(err, status, "%s: write failed: %s", HVLOG_TRACE_META_FILE,
                           strerror(sink.error ? sink.error : EIO));
    if (status != HVLOG_EXPORT_OK)
        return hvlog__export_fail(err, status, "%s: could not be formatted", HVLOG_TRACE_META_FILE);
    return HVLOG_EXPORT_OK;
}
