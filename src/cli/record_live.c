/* SPDX-License-Identifier: MIT */
/*
 * `hvlog record --relayd` (record_live.h; issue 17; docs/live.md).
 *
 *   recording thread                      sender thread (this file only)
 *   ----------------                      -------------
 *   record_live_buffer: copy the buffer   pop an item
 *     into the queue, or count it lost     buffer: hvlog_ctf_packet_encode,
 *     (queue full: --relayd-buffer)          ADD_STREAM the first time,
 *   record_live_tick, once a period:         send_packet (data + SEND_INDEX)
 *     read "now" in the time basis,        mark: a beacon on every stream
 *     flush InUse buffers (§5.9),          relayd gone: keep the queue, retry
 *     queue the previous period's "now"      CONNECT once a second
 *     as a mark                            stop: drain, linger, CLOSE_STREAM
 *
 * Why the mark of the period before: a beacon says "this stream has no
 * event before T", and a packet older than a beacon already sent makes
 * babeltrace2's muxer stop. T is read before a flush round; every event
 * older than T is then in a buffer that the flush made Ready, and the
 * recording's loop releases those well within the next period; only then
 * is T queued, behind them, so the sender sends their packets first. At
 * the end, after the groups are concluded, nothing more can come, and the
 * mark is the time then.
 *
 * Locking: one mutex, mu, guards the queue, the pending losses and the
 * stopping flag; cv wakes the sender (an item, stopping). The relayd
 * connection and the CTF writer belong to the sender alone once it runs
 * (before that, to record_live_start), and its counters are read by the
 * recording's thread only after pthread_join.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "cli/record_live.h"
#include "hvlog/abi/eventlog.h"
#include "hvlog/abi/root.h"
#include "hvlog/client/client.h"
#include "hvlog/export/ctf.h"
#include "hvlog/live/relayd.h"
#include "hvlog/trace/trace.h"
#include "hvlog/trace/walk.h"

#define LIVE_RETRY_NS 1000000000ull  /* a reconnect attempt a second */
#define LIVE_BEACON_NS 100000000ull  /* beacons while lingering */
#define LIVE_HOLD_POLL_NS 10000000L
#define LIVE_HOLD_MAX_POLLS 6000     /* 60 s */
#define LIVE_ENCODE_LINES 10u        /* encoder refusals printed, then only counted */

enum item_kind { ITEM_BUFFER, ITEM_MARK };

struct live_item {
    struct live_item *next;
    enum item_kind kind;
    uint32_t type, lp;               /* ITEM_BUFFER: its stream */
    uint32_t entries;                /* ITEM_BUFFER: its entries (the client's count) */
    uint64_t mark[HVLOG_TYPE_COUNT]; /* ITEM_MARK: "now" per log type, 0 = none */
    size_t len;
    uint8_t bytes[];                 /* ITEM_BUFFER: the buffer as released */
};

/* Events lost on a stream before they became a packet, not yet told to
 * the CTF writer (it belongs to the sender). */
struct live_drop {
    uint32_t type, lp;
    uint64_t events;
};

/* A data stream on the current relayd connection. */
struct live_stream {
    uint64_t instance_id;            /* type << 32 | LP, as the packets say */
    uint32_t type;
    struct hvlog_relayd_stream *out; /* NULL: not added on this connection */
    uint64_t last_end;               /* the latest timestamp_end sent */
};

struct record_live {
    /* Set by record_live_start, read-only afterwards. */
    struct hvlog_relayd_config cfg;
    char host[256], hostname[HVLOG_RELAYD_HOSTNAME_MAX + 1];
    char session[HVLOG_RELAYD_SESSION_NAME_MAX + 1], path[HVLOG_RELAYD_PATHNAME_MAX + 1];
    char url[600];
    const struct hvlog_trace_meta *meta;
    uint32_t basis;
    const struct hvlog_root_ops *ops;
    void *ctx;
    uint64_t period_ns, bound_bytes;
    uint32_t types;           /* bit per log type streamed */
    bool quiet;
    bool no_flush;            /* record_live_options.no_flush */

    /* The recording's thread only. */
    uint64_t next_tick_ns;
    uint64_t prev_mark[HVLOG_TYPE_COUNT];
    bool prev_mark_set;

    /* Guarded by mu. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct live_item *head, *tail;
    uint64_t queued_bytes;
    struct live_drop *drops;
    size_t drop_count, drop_cap;
    bool stopping;
    bool drained;   /* the sender has sent or counted every buffer (record_live_drain) */
    bool committed; /* the local trace is closed: the sender may linger and close */
    pthread_cond_t done_cv; /* wakes record_live_drain when drained */
    /* Per stream: events sent and lost by cause (one row per type and LP,
     * the closing metadata's "relayd" section). Both threads count here. */
    struct hvlog_trace_relayd_stream *acct;
    size_t acct_count, acct_cap;
    bool acct_short; /* a row could not be added (out of memory): the counts are short */
    uint64_t full_buffers; /* lost: the queue was full */

    /* The sender's (record_live_start's before it runs). */
    struct hvlog_ctf_writer *writer;
    struct hvlog_relayd *relayd;       /* NULL while relayd is gone */
    struct hvlog_relayd_stream *metadata;
    struct live_stream *streams;
    size_t stream_count, stream_cap;
    uint64_t next_retry_ns;
    bool final_attempt;
    uint64_t packets;
    uint64_t send_buffers;   /* lost: relayd did not take the packet */
    uint64_t end_buffers;    /* lost: still queued when relayd stayed gone */
    uint64_t encode_buffers; /* lost: the encoder refused the buffer */
    uint64_t breaks, reconnects, failed_attempts;

    pthread_t thread;
    bool thread_started;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void nap_ns(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

/* mu held. The accounting row of stream (@type, @lp), added if new; NULL
 * (and acct_short) when it cannot be. */
static struct hvlog_trace_relayd_stream *acct_row(struct record_live *l, uint32_t type, uint32_t lp)
{
    for (size_t i = 0; i < l->acct_count; i++) {
        if (l->acct[i].type == type && l->acct[i].lp == lp)
            return &l->acct[i];
    }
    if (l->acct_count == l->acct_cap) {
        size_t cap = l->acct_cap ? l->acct_cap * 2 : 16;
        struct hvlog_trace_relayd_stream *more = realloc(l->acct, cap * sizeof(*more));

        if (!more) {
            l->acct_short = true;
            return NULL;
        }
        l->acct = more;
        l->acct_cap = cap;
    }
    l->acct[l->acct_count] = (struct hvlog_trace_relayd_stream){.type = type, .lp = lp};
    return &l->acct[l->acct_count++];
}

/* The causes of acct's rows, by member (HVLOG_TRACE_RELAYD_COUNTERS). */
enum acct_cause { ACCT_SENT, ACCT_QUEUE_FULL, ACCT_SEND_FAILED, ACCT_UNSENT_AT_END, ACCT_ENCODER };

/* mu held. */
static void acct_add_locked(struct record_live *l, uint32_t type, uint32_t lp, enum acct_cause c,
                            uint64_t events)
{
    struct hvlog_trace_relayd_stream *r = acct_row(l, type, lp);

    if (!r)
        return;
    switch (c) {
    case ACCT_SENT: r->sent += events; break;
    case ACCT_QUEUE_FULL: r->lost_queue_full += events; break;
    case ACCT_SEND_FAILED: r->lost_send_failed += events; break;
    case ACCT_UNSENT_AT_END: r->lost_unsent_at_end += events; break;
    case ACCT_ENCODER: r->lost_encoder += events; break;
    }
}

static void acct_add(struct record_live *l, uint32_t type, uint32_t lp, enum acct_cause c,
                     uint64_t events)
{
    pthread_mutex_lock(&l->mu);
    acct_add_locked(l, type, lp, c, events);
    pthread_mutex_unlock(&l->mu);
}

#if defined(__x86_64__)
#include <x86intrin.h>
static uint64_t read_tsc(void)
{
    return __rdtsc();
}
#else
static uint64_t read_tsc(void)
{
    return 0; /* no beacons on the TSC basis here */
}
#endif

/* "Now" in the groups' time basis, the clock of every CTF stream: the
 * reference counter (also the QPC's, §11.5: 10 MHz off reference time) or
 * the TSC. 0 when it cannot be read: no beacon then. */
static uint64_t now_in_basis(const struct record_live *l)
{
    if (l->basis == HvEventLogEntryTimeTsc)
        return read_tsc();
    return l->ops && l->ops->read_reference_time ? l->ops->read_reference_time(l->ctx, 0) : 0;
}

/* ---- options ---- */

bool record_live_parse_size(const char *text, uint64_t *bytes)
{
    return cli_size("record", "--relayd-buffer", text, 1, UINT64_C(1) << 40, bytes);
}

bool record_live_check(const struct record_live_options *o)
{
    struct hvlog_relayd_config cfg = {0};
    struct hvlog_relayd_error err;
    char host[256];

    if (!o->url) {
        if (o->hostname || o->session || o->buffer_bytes)
            cli_error("record: --hostname, --session and --relayd-buffer need --relayd");
        return !(o->hostname || o->session || o->buffer_bytes);
    }
    if (hvlog_relayd_parse_url(o->url, &cfg, host, sizeof host, &err) != HVLOG_RELAYD_OK) {
        cli_error("record: --relayd: %s", err.message);
        return false;
    }
    return true;
}

/* The session's default name: -o's last component, else hvlog-DATE-TIME
 * (as `lttng create` names a session auto-DATE-TIME). relayd refuses a
 * name that is not path-safe; connect says so in one line. */
static void default_session(const struct record_live_options *o, char *buf, size_t size)
{
    if (o->output) {
        size_t len = strlen(o->output);
        const char *base;

        while (len > 1 && o->output[len - 1] == '/')
            len--;
        base = o->output + len;
        while (base > o->output && base[-1] != '/')
            base--;
        snprintf(buf, size, "%.*s", (int)(o->output + len - base), base);
    } else {
        time_t t = time(NULL);
        struct tm tm;

        localtime_r(&t, &tm);
        strftime(buf, size, "hvlog-%Y%m%d-%H%M%S", &tm);
    }
}

/* ---- the sender's relayd session ---- */

static void relayd_gone(struct record_live *l, const struct hvlog_relayd_error *err)
{
    bool ending;

    hvlog_relayd_destroy(l->relayd);
    l->relayd = NULL;
    l->metadata = NULL;
    for (size_t i = 0; i < l->stream_count; i++)
        l->streams[i].out = NULL;
    l->breaks++;
    l->next_retry_ns = now_ns() + LIVE_RETRY_NS;
    pthread_mutex_lock(&l->mu);
    ending = l->stopping;
    pthread_mutex_unlock(&l->mu);
    if (ending) { /* closing: nothing more to keep or to reconnect for */
        fprintf(stderr, "hvlog: record: %s\n", err->message);
        return;
    }
    fprintf(stderr, "hvlog: record: %s; the recording goes on, keeping up to %" PRIu64
                    " KiB of buffers for relayd (--relayd-buffer), and reconnects\n",
            err->message, l->bound_bytes >> 10);
}

static struct live_stream *stream_find(struct record_live *l, uint64_t instance_id, uint32_t type)
{
    for (size_t i = 0; i < l->stream_count; i++)
        if (l->streams[i].instance_id == instance_id)
            return &l->streams[i];
    if (l->stream_count == l->stream_cap) {
        size_t cap = l->stream_cap ? l->stream_cap * 2 : 16;
        struct live_stream *more = realloc(l->streams, cap * sizeof(*more));

        if (!more)
            return NULL;
        l->streams = more;
        l->stream_cap = cap;
    }
    l->streams[l->stream_count] = (struct live_stream){.instance_id = instance_id, .type = type};
    return &l->streams[l->stream_count++];
}

/* ADD_STREAM of (@type, @lp) on this connection, under the file name
 * `hvlog export --format ctf` gives it ("local_lp0"). */
static bool add_data_stream(struct record_live *l, uint32_t type, uint32_t lp,
                            struct live_stream **out, struct hvlog_relayd_error *err)
{
    struct live_stream *s = stream_find(l, ((uint64_t)type << 32) | lp, type);
    const char *group = hvlog_trace_group_short(type);
    char name[64];

    *out = s;
    if (!s) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return false;
    }
    if (s->out)
        return true;
    snprintf(name, sizeof name, "%s_lp%" PRIu32, group ? group : "type", lp);
    return hvlog_relayd_add_stream(l->relayd, name, l->path, &s->out, err) == HVLOG_RELAYD_OK;
}

/* A session on relayd: the metadata stream, the data streams known now,
 * and the whole TSDL text (every class of the catalogue: the packets that
 * follow may use any). Known streams: one per LP of LocalDiagnostics, and
 * LP 0 of the global type (the LP its buffers name in the simulator); a
 * stream not known here is added, and published, with its first packet.
 * They are added before STREAMS_SENT, as LTTng adds its per-CPU streams:
 * babeltrace2 2.0.4 attached to a session without data streams never
 * reads the streams published after it attached (seen with relayd
 * 2.13.9: it asks for new streams again and again and never for an
 * index). */
static enum hvlog_relayd_status session_open(struct record_live *l, struct hvlog_relayd_error *err)
{
    enum hvlog_relayd_status st;
    size_t len = 0;
    const char *text = hvlog_ctf_writer_metadata(l->writer, false, &len);

    if (!text) {
        snprintf(err->message, sizeof err->message, "the CTF metadata cannot be written (out of memory)");
        err->status = HVLOG_RELAYD_NOMEM;
        return HVLOG_RELAYD_NOMEM;
    }
    st = hvlog_relayd_connect(&l->cfg, &l->relayd, err);
    if (st == HVLOG_RELAYD_OK)
        st = hvlog_relayd_add_stream(l->relayd, "metadata", l->path, &l->metadata, err);
    for (uint32_t g = 0; g < l->meta->group_count && st == HVLOG_RELAYD_OK; g++) {
        uint32_t type = l->meta->groups[g].type;
        uint32_t lps = type == HvEventLogTypeLocalDiagnostics ? l->meta->root.vps : 1;

        if (!(l->types & (1u << type)))
            continue;

        for (uint32_t lp = 0; lp < lps && st == HVLOG_RELAYD_OK; lp++) {
            struct live_stream *s;

            if (!add_data_stream(l, type, lp, &s, err))
                st = err->status ? err->status : HVLOG_RELAYD_NOMEM;
        }
    }
    if (st == HVLOG_RELAYD_OK)
        st = hvlog_relayd_streams_sent(l->relayd, err);
    if (st == HVLOG_RELAYD_OK)
        st = hvlog_relayd_send_metadata(l->relayd, l->metadata, text, len, err);
    if (st != HVLOG_RELAYD_OK) {
        hvlog_relayd_destroy(l->relayd);
        l->relayd = NULL;
        l->metadata = NULL;
    }
    return st;
}

/* Send one packet; false when relayd failed (@err says why). */
static bool send_one(struct record_live *l, const struct hvlog_ctf_packet *pk,
                     struct hvlog_relayd_error *err)
{
    struct live_stream *s = stream_find(l, pk->stream_instance_id, (uint32_t)pk->stream_id);
    struct hvlog_relayd_index ix;

    if (s && !s->out) {
        if (!add_data_stream(l, (uint32_t)pk->stream_id, pk->lp, &s, err) ||
            hvlog_relayd_streams_sent(l->relayd, err) != HVLOG_RELAYD_OK)
            return false;
    }
    if (!s) {
        snprintf(err->message, sizeof err->message, "out of memory");
        return false;
    }
    ix = (struct hvlog_relayd_index){pk->packet_size,     pk->content_size,     pk->timestamp_begin,
                                     pk->timestamp_end,   pk->events_discarded, pk->stream_id,
                                     pk->stream_instance_id, pk->packet_seq_num};
    if (hvlog_relayd_send_packet(l->relayd, s->out, pk->bytes, pk->len, &ix, err) != HVLOG_RELAYD_OK)
        return false;
    if (pk->timestamp_end > s->last_end)
        s->last_end = pk->timestamp_end;
    l->packets++;
    acct_add(l, (uint32_t)pk->stream_id, pk->lp, ACCT_SENT, pk->events);
    return true;
}

/* The losses the recording's thread counted, told to the CTF writer so
 * each stream's next packet carries them in events_discarded. */
static void apply_drops(struct record_live *l)
{
    struct live_drop *drops;
    size_t n;

    pthread_mutex_lock(&l->mu);
    drops = l->drops;
    n = l->drop_count;
    l->drops = NULL;
    l->drop_count = l->drop_cap = 0;
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < n; i++)
        (void)hvlog_ctf_writer_discard(l->writer, drops[i].type, drops[i].lp, drops[i].events, NULL);
    free(drops);
}

static void send_buffer(struct record_live *l, const struct live_item *it)
{
    struct hvlog_ctf_packet pk[2];
    struct hvlog_export_error xerr;
    struct hvlog_relayd_error err = {0};
    uint32_t count = 0;

    apply_drops(l);
    if (hvlog_ctf_packet_encode(l->writer, it->type, it->bytes, it->len, pk, &count, &xerr) !=
        HVLOG_EXPORT_OK) {
        if (l->encode_buffers++ < LIVE_ENCODE_LINES)
            fprintf(stderr, "hvlog: record: relayd: a buffer not sent: %s\n", xerr.message);
        acct_add(l, it->type, it->lp, ACCT_ENCODER, it->entries);
        return;
    }
    for (uint32_t i = 0; i < count; i++) {
        if (!send_one(l, &pk[i], &err)) {
            uint32_t lp = pk[i].lp;
            uint64_t lost = 0;

            for (uint32_t k = i; k < count; k++) {
                lost += pk[k].events;
                acct_add(l, it->type, pk[k].lp, ACCT_SEND_FAILED, pk[k].events);
            }
            l->send_buffers++;
            (void)hvlog_ctf_writer_discard(l->writer, it->type, lp, lost, NULL);
            relayd_gone(l, &err);
            return;
        }
    }
}

/* Beacons: "no event before mark" on every stream that has had a packet
 * on this connection (relayd ignores a beacon before that). */
static void send_beacons(struct record_live *l, const uint64_t mark[HVLOG_TYPE_COUNT])
{
    struct hvlog_relayd_error err = {0};

    for (size_t i = 0; i < l->stream_count && l->relayd; i++) {
        struct live_stream *s = &l->streams[i];
        uint64_t t = s->type < HVLOG_TYPE_COUNT ? mark[s->type] : 0;

        if (!s->out || hvlog_relayd_stream_packets(s->out) == 0 || t <= s->last_end)
            continue;
        if (hvlog_relayd_send_beacon(l->relayd, s->out, t, &err) != HVLOG_RELAYD_OK)
            relayd_gone(l, &err);
    }
}

/* The test hooks' rendezvous (docs/live.md "Tests"): create PATH.ready,
 * then wait until PATH exists, at most 60 s, sending beacons at @mark
 * meanwhile when @mark is given. */
static void rendezvous(struct record_live *l, const char *path, const uint64_t *mark)
{
    char ready[4200];
    FILE *f;
    uint64_t last_beacon = 0;

    snprintf(ready, sizeof ready, "%s.ready", path);
    f = fopen(ready, "w");
    if (!f) {
        fprintf(stderr, "hvlog: record: %s: %s\n", ready, strerror(errno));
        return;
    }
    fclose(f);
    for (int i = 0; i < LIVE_HOLD_MAX_POLLS; i++) {
        struct stat st;

        if (stat(path, &st) == 0)
            return;
        if (mark && l->relayd && now_ns() - last_beacon >= LIVE_BEACON_NS) {
            send_beacons(l, mark);
            last_beacon = now_ns();
        }
        nap_ns(LIVE_HOLD_POLL_NS);
    }
    fprintf(stderr, "hvlog: record: %s never appeared\n", path);
}

/* The end: viewers get time to read the last packets before the streams
 * close (relayd 2.13 drops a closed stream from its viewers; docs/live.md),
 * with beacons at the last mark; then CLOSE_STREAM for each data stream
 * and the metadata last (UINT64_MAX: it had no packet). */
static void session_close(struct record_live *l, const uint64_t mark[HVLOG_TYPE_COUNT])
{
    struct hvlog_relayd_error err = {0};
    const char *hook = getenv("HVLOG_TEST_RELAYD_LINGER");

    if (hook && *hook) {
        rendezvous(l, hook, mark);
    } else {
        uint64_t until = now_ns() + 2 * l->period_ns;

        while (l->relayd && now_ns() < until) {
            send_beacons(l, mark);
            nap_ns((long)LIVE_BEACON_NS);
        }
    }
    for (size_t i = 0; i < l->stream_count && l->relayd; i++) {
        if (l->streams[i].out &&
            hvlog_relayd_close_stream(l->relayd, l->streams[i].out, &err) != HVLOG_RELAYD_OK)
            relayd_gone(l, &err);
    }
    if (l->relayd && hvlog_relayd_close_stream(l->relayd, l->metadata, &err) != HVLOG_RELAYD_OK)
        relayd_gone(l, &err);
}

static void *sender_main(void *arg)
{
    struct record_live *l = arg;
    uint64_t last_mark[HVLOG_TYPE_COUNT] = {0};

    pthread_mutex_lock(&l->mu);
    for (;;) {
        struct live_item *it;

        if (!l->relayd) {
            uint64_t now = now_ns();
            struct hvlog_relayd_error err = {0};

            if (l->stopping && l->final_attempt)
                break;
            if (now < l->next_retry_ns && !l->stopping) {
                uint64_t wake = l->next_retry_ns;
                struct timespec ts;

                clock_gettime(CLOCK_REALTIME, &ts);
                wake = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec +
                       (wake - now);
                ts = (struct timespec){(time_t)(wake / 1000000000ull), (long)(wake % 1000000000ull)};
                pthread_cond_timedwait(&l->cv, &l->mu, &ts);
                continue;
            }
            l->final_attempt = l->stopping;
            pthread_mutex_unlock(&l->mu);
            if (session_open(l, &err) == HVLOG_RELAYD_OK) {
                l->reconnects++;
                fprintf(stderr, "hvlog: record: relayd: reconnected; a new session %" PRIu64
                                " (viewers attach again to %s)\n",
                        hvlog_relayd_session_id(l->relayd), l->url);
            } else {
                l->failed_attempts++;
                l->next_retry_ns = now_ns() + LIVE_RETRY_NS;
            }
            pthread_mutex_lock(&l->mu);
            continue;
        }
        it = l->head;
        if (it) {
            l->head = it->next;
            if (!l->head)
                l->tail = NULL;
            l->queued_bytes -= it->len;
            pthread_mutex_unlock(&l->mu);
            if (it->kind == ITEM_BUFFER) {
                send_buffer(l, it);
            } else {
                memcpy(last_mark, it->mark, sizeof last_mark);
                send_beacons(l, it->mark);
            }
            free(it);
            pthread_mutex_lock(&l->mu);
            continue;
        }
        if (l->stopping)
            break;
        pthread_cond_wait(&l->cv, &l->mu);
    }
    /* What relayd never took: counted, then freed. */
    while (l->head) {
        struct live_item *it = l->head;

        l->head = it->next;
        if (it->kind == ITEM_BUFFER) {
            l->end_buffers++;
            acct_add_locked(l, it->type, it->lp, ACCT_UNSENT_AT_END, it->entries);
        } else {
            memcpy(last_mark, it->mark, sizeof last_mark);
        }
        free(it);
    }
    l->tail = NULL;
    l->queued_bytes = 0;
    /* No flush (a real root): no clock gave marks; the end's is the data's
     * own, the latest packet end of each type: nothing more can come. */
    for (size_t i = 0; l->no_flush && i < l->stream_count; i++) {
        const struct live_stream *s = &l->streams[i];

        if (s->type < HVLOG_TYPE_COUNT && s->last_end > last_mark[s->type])
            last_mark[s->type] = s->last_end;
    }
    /* Every buffer is sent or counted: the counts are final (the close
     * below sends no data). The recording writes them into its trace's
     * closing metadata, and only then may the viewers' linger begin. */
    l->drained = true;
    pthread_cond_broadcast(&l->done_cv);
    while (!l->committed)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    if (l->relayd)
        session_close(l, last_mark);
    return NULL;
}

/* ---- the recording's side ---- */

struct record_live *record_live_start(const struct record_live_options *o,
                                      const struct hvlog_trace_meta *meta, uint32_t basis,
                                      const struct hvlog_root_ops *ops, void *ctx)
{
    struct record_live *l = calloc(1, sizeof(*l));
    struct hvlog_export_error xerr;
    struct hvlog_relayd_error err = {0};
    const char *hook;

    if (!l) {
        cli_error("record: out of memory");
        return NULL;
    }
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    pthread_cond_init(&l->done_cv, NULL);
    l->meta = meta;
    l->basis = basis;
    l->ops = ops;
    l->ctx = ctx;
    l->quiet = o->quiet;
    l->no_flush = o->no_flush;
    l->bound_bytes = o->buffer_bytes ? o->buffer_bytes : RECORD_LIVE_DEFAULT_BUFFER;
    if (hvlog_relayd_parse_url(o->url, &l->cfg, l->host, sizeof l->host, &err) != HVLOG_RELAYD_OK) {
        cli_error("record: --relayd: %s", err.message);
        goto fail;
    }
    if (o->hostname) {
        snprintf(l->hostname, sizeof l->hostname, "%s", o->hostname);
        if (strlen(o->hostname) >= sizeof l->hostname) {
            cli_error("record: --hostname '%s' is longer than relayd takes (%u bytes)", o->hostname,
                      HVLOG_RELAYD_HOSTNAME_MAX);
            goto fail;
        }
    } else if (gethostname(l->hostname, sizeof l->hostname) != 0 ||
               memchr(l->hostname, '\0', sizeof l->hostname) == NULL) {
        cli_error("record: this machine's name does not fit relayd's %u bytes: give --hostname",
                  HVLOG_RELAYD_HOSTNAME_MAX);
        goto fail;
    }
    if (o->session)
        snprintf(l->session, sizeof l->session, "%s", o->session);
    else
        default_session(o, l->session, sizeof l->session);
    l->cfg.hostname = l->hostname;
    l->cfg.session_name = l->session;
    /* LTTng's live timer default, 1 s: the flush period and relayd's. */
    l->cfg.live_timer_us = HVLOG_RELAYD_DEFAULT_LIVE_TIMER_US;
    l->period_ns = (uint64_t)l->cfg.live_timer_us * 1000u;
    /* relayd's path of the trace, under its -o: HOSTNAME/SESSION. */
    snprintf(l->path, sizeof l->path, "%s/%s", l->hostname, l->session);
    snprintf(l->url, sizeof l->url, "net://%s%s%s/host/%s/%s",
             strchr(l->host, ':') ? "[" : "", l->host, strchr(l->host, ':') ? "]" : "",
             l->hostname, l->session);

    /* Every group, as one CTF trace; when babeltrace2 could not merge
     * their clocks (two TSC groups: export says "export one log type"),
     * LocalDiagnostics alone, said in one line. */
    l->types = UINT32_MAX;
    if (hvlog_ctf_writer_begin(meta, l->hostname, false, 0, 0, &l->writer, &xerr) ==
        HVLOG_EXPORT_UNSUPPORTED) {
        char why[sizeof xerr.message];

        snprintf(why, sizeof why, "%s", xerr.message);
        l->types = 1u << HvEventLogTypeLocalDiagnostics;
        if (hvlog_ctf_writer_begin(meta, l->hostname, false, l->types, 0, &l->writer, &xerr) ==
            HVLOG_EXPORT_OK)
            fprintf(stderr, "hvlog: record: --relayd streams LocalDiagnostics only: %s\n", why);
    }
    if (!l->writer) {
        cli_error("record: --relayd: %s", xerr.message);
        goto fail;
    }
    if (session_open(l, &err) != HVLOG_RELAYD_OK) {
        cli_error("record: %s", err.message);
        goto fail;
    }
    if (!o->quiet)
        fprintf(stderr, "hvlog: record: live at %s (relayd's live port, 5344 unless it was "
                        "started with another)%s\n", l->url,
                o->no_flush ? "; a real root's data arrives as its buffers fill (the mshv_diag "
                              "uapi has no flush), so viewers lag by up to a buffer per LP"
                            : "");
    /* Test hook: hold before anything is logged, so that a viewer can
     * attach first (babeltrace2 reads from when it attached). */
    hook = getenv("HVLOG_TEST_RELAYD_HOLD");
    if (hook && *hook)
        rendezvous(l, hook, NULL);
    if (pthread_create(&l->thread, NULL, sender_main, l) != 0) {
        cli_error("record: --relayd: cannot start the sender thread");
        goto fail;
    }
    l->thread_started = true;
    l->next_tick_ns = now_ns() + l->period_ns;
    return l;
fail:
    record_live_destroy(l);
    return NULL;
}

/* mu held. A pending loss on (type, lp), for the sender's writer. */
static void note_drop(struct record_live *l, uint32_t type, uint32_t lp, uint64_t events)
{
    for (size_t i = 0; i < l->drop_count; i++) {
        if (l->drops[i].type == type && l->drops[i].lp == lp) {
            l->drops[i].events += events;
            return;
        }
    }
    if (l->drop_count == l->drop_cap) {
        size_t cap = l->drop_cap ? l->drop_cap * 2 : 16;
        struct live_drop *more = realloc(l->drops, cap * sizeof(*more));

        if (!more)
            return; /* still counted in full_buffers; only the viewer's gap is missed */
        l->drops = more;
        l->drop_cap = cap;
    }
    l->drops[l->drop_count++] = (struct live_drop){type, lp, events};
}

void record_live_buffer(struct record_live *l, const struct hvlog_buffer_summary *s,
                        const uint8_t *bytes, size_t len)
{
    struct live_item *it = NULL;
    bool fits;

    if (!l || s->type >= 32 || !(l->types & (1u << s->type)))
        return;
    pthread_mutex_lock(&l->mu);
    fits = l->queued_bytes + len <= l->bound_bytes;
    pthread_mutex_unlock(&l->mu);
    if (fits && (it = malloc(sizeof(*it) + len)) != NULL) {
        *it = (struct live_item){.kind = ITEM_BUFFER, .type = s->type,
                                 .lp = s->logical_processor, .entries = s->entries, .len = len};
        memcpy(it->bytes, bytes, len);
    }
    pthread_mutex_lock(&l->mu);
    /* Only this thread adds to the queue: what fitted still fits. */
    if (it) {
        if (l->tail)
            l->tail->next = it;
        else
            l->head = it;
        l->tail = it;
        l->queued_bytes += len;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        return;
    }
    pthread_mutex_unlock(&l->mu);
    {
        uint64_t events = s->entries; /* a buffer not sent: its events are lost */

        pthread_mutex_lock(&l->mu);
        l->full_buffers++;
        acct_add_locked(l, s->type, s->logical_processor, ACCT_QUEUE_FULL, events);
        note_drop(l, s->type, s->logical_processor, events);
        pthread_mutex_unlock(&l->mu);
    }
}

/* Queue a mark (coalesced with a mark at the tail: one is enough). */
static void queue_mark(struct record_live *l, const uint64_t mark[HVLOG_TYPE_COUNT])
{
    struct live_item *it;

    pthread_mutex_lock(&l->mu);
    if (l->tail && l->tail->kind == ITEM_MARK) {
        memcpy(l->tail->mark, mark, sizeof l->tail->mark);
        pthread_mutex_unlock(&l->mu);
        return;
    }
    pthread_mutex_unlock(&l->mu);
    it = calloc(1, sizeof(*it));
    if (!it)
        return; /* no beacon this period */
    it->kind = ITEM_MARK;
    memcpy(it->mark, mark, sizeof it->mark);
    pthread_mutex_lock(&l->mu);
    if (l->tail)
        l->tail->next = it;
    else
        l->head = it;
    l->tail = it;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void record_live_tick(struct record_live *l, struct hvlog_client *client)
{
    uint64_t now = now_ns(), mark[HVLOG_TYPE_COUNT] = {0};

    if (!l || now < l->next_tick_ns)
        return;
    l->next_tick_ns = now + l->period_ns;
    for (uint32_t g = 0; g < l->meta->group_count; g++) {
        uint32_t type = l->meta->groups[g].type;

        if (type < HVLOG_TYPE_COUNT)
            mark[type] = now_in_basis(l);
        /* §5.9: a flush makes the InUse buffer Ready and notifies, even
         * below the threshold. */
        hvlog_client_flush_all(client, type);
    }
    if (l->prev_mark_set)
        queue_mark(l, l->prev_mark);
    memcpy(l->prev_mark, mark, sizeof mark);
    l->prev_mark_set = true;
}

void record_live_drain(struct record_live *l, struct hvlog_trace_meta *closing)
{
    if (!l || !l->thread_started)
        return;
    pthread_mutex_lock(&l->mu);
    if (!l->stopping) {
        uint64_t mark[HVLOG_TYPE_COUNT] = {0};

        pthread_mutex_unlock(&l->mu);
        /* The groups are concluded: every event is in a queued buffer.
         * No flush: the sender takes the mark from the data instead. */
        for (uint32_t g = 0; g < l->meta->group_count && !l->no_flush; g++)
            if (l->meta->groups[g].type < HVLOG_TYPE_COUNT)
                mark[l->meta->groups[g].type] = now_in_basis(l);
        queue_mark(l, mark);
        pthread_mutex_lock(&l->mu);
        l->stopping = true;
        pthread_cond_signal(&l->cv);
    }
    while (!l->drained)
        pthread_cond_wait(&l->done_cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    /* Drained: the sender counts nothing more, so the rows are stable. */
    if (closing) {
        closing->relayd_present = true;
        closing->relayd.url = l->url;
        closing->relayd.breaks = l->breaks;
        closing->relayd.reconnects = l->reconnects;
        closing->relayd.stream_count = (uint32_t)l->acct_count;
        closing->relayd.streams = l->acct;
    }
}

void record_live_summary(const struct record_live *l, FILE *f)
{
    struct hvlog_trace_relayd_stream t;

    if (!l)
        return;
    t = hvlog_trace_relayd_total(l->acct, l->acct_count);
    fprintf(f, "; relayd: %" PRIu64 " sent, %" PRIu64 " lost on the way", t.sent,
            hvlog_trace_relayd_lost(&t));
}

void record_live_finish(struct record_live *l)
{
    struct hvlog_trace_relayd_stream t;
    uint64_t lost_buffers, lost_events;

    if (!l || !l->thread_started)
        return;
    record_live_drain(l, NULL);
    pthread_mutex_lock(&l->mu);
    l->committed = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    l->thread_started = false;

    /* Losses by cause, every one visible (even with --quiet). */
    t = hvlog_trace_relayd_total(l->acct, l->acct_count);
    lost_buffers = l->full_buffers + l->send_buffers + l->end_buffers + l->encode_buffers;
    lost_events = hvlog_trace_relayd_lost(&t);
    if (!l->quiet || lost_buffers || l->breaks)
        fprintf(stderr, "hvlog: record: relayd: sent %" PRIu64 " events in %" PRIu64
                        " packets to %s; %s\n",
                t.sent, l->packets, l->url,
                lost_buffers ? "some were lost on the way:" : "nothing lost on the way");
    if (lost_buffers)
        fprintf(stderr, "hvlog: record: relayd: %" PRIu64 " events lost in all (the local trace, if "
                        "any, has them; its closing metadata counts them per stream)\n",
                lost_events);
    if (l->full_buffers)
        fprintf(stderr, "hvlog: record: relayd: lost %" PRIu64 " events in %" PRIu64
                        " buffers: --relayd-buffer (%" PRIu64 " bytes) was full\n",
                t.lost_queue_full, l->full_buffers, l->bound_bytes);
    if (l->send_buffers)
        fprintf(stderr, "hvlog: record: relayd: lost %" PRIu64 " events in %" PRIu64
                        " packet%s relayd did not take\n",
                t.lost_send_failed, l->send_buffers, l->send_buffers == 1 ? "" : "s");
    if (l->end_buffers)
        fprintf(stderr, "hvlog: record: relayd: lost %" PRIu64 " events in %" PRIu64
                        " buffers still queued when the recording ended and relayd could not be "
                        "reached\n",
                t.lost_unsent_at_end, l->end_buffers);
    if (l->encode_buffers)
        fprintf(stderr, "hvlog: record: relayd: lost %" PRIu64 " events in %" PRIu64
                        " buffers the CTF encoder refused\n",
                t.lost_encoder, l->encode_buffers);
    if (l->acct_short)
        fprintf(stderr, "hvlog: record: relayd: out of memory: the per-stream counts are short\n");
    if (l->breaks)
        fprintf(stderr, "hvlog: record: relayd: the connection broke %" PRIu64 " time%s; %" PRIu64
                        " reconnect%s, %" PRIu64 " failed attempt%s\n",
                l->breaks, l->breaks == 1 ? "" : "s", l->reconnects, l->reconnects == 1 ? "" : "s",
                l->failed_attempts, l->failed_attempts == 1 ? "" : "s");
}

void record_live_destroy(struct record_live *l)
{
    if (!l)
        return;
    if (l->thread_started) {
        pthread_mutex_lock(&l->mu);
        l->stopping = true;
        l->final_attempt = true;
        l->committed = true;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    while (l->head) {
        struct live_item *it = l->head;
        l->head = it->next;
        free(it);
    }
    free(l->drops);
    free(l->acct);
    free(l->streams);
    hvlog_relayd_destroy(l->relayd);
    hvlog_ctf_writer_end(l->writer);
    pthread_cond_destroy(&l->cv);
    pthread_cond_destroy(&l->done_cv);
    pthread_mutex_destroy(&l->mu);
    free(l);
}
