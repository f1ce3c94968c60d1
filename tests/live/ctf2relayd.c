/* SPDX-License-Identifier: MIT */
/*
 * ctf2relayd: stream an existing CTF trace directory, as `hvlog export
 * --format ctf` writes it, to lttng-relayd through the live layer. It is
 * the test-side producer of tests/live/relayd.sh, and a model of what
 * `hvlog record --relayd` does with each packet.
 *
 *   ctf2relayd [options] HOST CTRL_PORT DATA_PORT HOSTNAME SESSION CTF_DIR
 *     --pace-ms N       sleep N ms between rounds of packets (default 0)
 *     --timeout-ms N    the client's bound per call (default 5000)
 *     --live-timer-us N the session's live timer (default 100000)
 *     --hold PATH       after N packets (--hold-after, default 0: after the
 *                       metadata), create PATH.ready and wait until PATH
 *                       exists (at most 60 s): the test attaches a viewer,
 *                       or kills relayd, at a point it knows
 *     --hold-after N
 *     --linger PATH     after the last packet, before closing any stream,
 *                       create PATH.ready and wait until PATH exists (at
 *                       most 60 s). relayd 2.13 drops a stream's files from
 *                       its viewers when the stream closes (try_stream_close
 *                       puts its trace chunk), and babeltrace2 2.0.4 ends
 *                       when the producer's connection goes (GET_NEW_STREAMS
 *                       -> HUP): a viewer that has not read every packet by
 *                       then never will. A test that wants every event
 *                       keeps the streams open until the viewer has them.
 *
 * Order: ADD_STREAM for "metadata" and each stream file (sorted by name),
 * STREAMS_SENT, the metadata text, then the packets round-robin over the
 * streams (one packet of each stream per round, as a live recording
 * interleaves them); a stream that has sent its last packet gets a beacon
 * each round at "now", the latest timestamp_end sent on any stream (hvlog's
 * exports put every stream on the same reference clock), so a viewer never
 * waits on it: a live viewer emits an event only once every stream has
 * data or a beacon past its time;
 * then CLOSE_STREAM for each data stream and for the metadata last.
 *
 * Each packet's index comes from the packet itself, read where the
 * exporter writes it (src/export/ctf.c, docs/trace-format.md): header
 * magic u32 @0 (0xC1FC1FC1, little-endian), stream_id u32 @20,
 * stream_instance_id u64 @24; context packet_size @32, content_size @40
 * (bits), timestamp_begin @48, timestamp_end @56, events_discarded @64,
 * packet_seq_num @72.
 *
 * Prints "ctf2relayd: sent P packets of S streams (M metadata bytes)" and
 * exits 0; a relayd failure prints one line and exits 1; bad usage or
 * input exits 2.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "hvlog/abi/le.h"
#include "hvlog/live/relayd.h"

#define CTF_MAGIC 0xC1FC1FC1u
#define HEAD_BYTES 88u /* packet header (32) + the context fields read here (56) */
#define MAX_STREAMS 1024u

struct in_stream {
    char name[256];
    FILE *f;
    uint64_t left;          /* file bytes not yet read */
    struct hvlog_relayd_stream *out;
};

static int usage(void)
{
    fprintf(stderr, "usage: ctf2relayd [--pace-ms N] [--timeout-ms N] [--live-timer-us N] "
                    "[--hold PATH [--hold-after N]] [--linger PATH] HOST CTRL_PORT DATA_PORT HOSTNAME SESSION "
                    "CTF_DIR\n");
    return 2;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct in_stream *)a)->name, ((const struct in_stream *)b)->name);
}

/* Read the whole metadata file; its size bounds the allocation. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf;

    if (!f)
        return NULL;
    if (fstat(fileno(f), &st) < 0 || st.st_size <= 0 || (buf = malloc((size_t)st.st_size)) == NULL) {
        fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, (size_t)st.st_size, f);
    fclose(f);
    if (*len != (size_t)st.st_size) {
        free(buf);
        return NULL;
    }
    return buf;
}

enum next_result { NEXT_SENT, NEXT_END, NEXT_BAD_INPUT, NEXT_RELAYD };

/* Read the next packet of @s and send it. */
static enum next_result send_next(struct hvlog_relayd *r, struct in_stream *s, uint8_t **buf,
                                  size_t *cap, uint64_t *now_ts, struct hvlog_relayd_error *err)
{
    struct hvlog_relayd_index ix;
    uint8_t head[HEAD_BYTES];
    size_t len;

    if (s->left == 0)
        return NEXT_END;
    if (s->left < HEAD_BYTES || fread(head, 1, HEAD_BYTES, s->f) != HEAD_BYTES) {
        fprintf(stderr, "ctf2relayd: %s: truncated packet header\n", s->name);
        return NEXT_BAD_INPUT;
    }
    if (hvlog_load_le32(head) != CTF_MAGIC) {
        fprintf(stderr, "ctf2relayd: %s: bad packet magic\n", s->name);
        return NEXT_BAD_INPUT;
    }
    ix.stream_id = hvlog_load_le32(head + 20);
    ix.stream_instance_id = hvlog_load_le64(head + 24);
    ix.packet_size_bits = hvlog_load_le64(head + 32);
    ix.content_size_bits = hvlog_load_le64(head + 40);
    ix.timestamp_begin = hvlog_load_le64(head + 48);
    ix.timestamp_end = hvlog_load_le64(head + 56);
    ix.events_discarded = hvlog_load_le64(head + 64);
    ix.packet_seq_num = hvlog_load_le64(head + 72);
    /* The header's size is a claim: it must fit what the file holds. */
    if (ix.packet_size_bits % 8 != 0 || ix.packet_size_bits / 8 < HEAD_BYTES ||
        ix.packet_size_bits / 8 > s->left || ix.content_size_bits > ix.packet_size_bits) {
        fprintf(stderr, "ctf2relayd: %s: packet size %llu bits does not fit the file\n", s->name,
                (unsigned long long)ix.packet_size_bits);
        return NEXT_BAD_INPUT;
    }
    len = (size_t)(ix.packet_size_bits / 8);
    if (len > *cap) {
        uint8_t *n = realloc(*buf, len);
        if (!n) {
            fprintf(stderr, "ctf2relayd: out of memory\n");
            return NEXT_BAD_INPUT;
        }
        *buf = n;
        *cap = len;
    }
    memcpy(*buf, head, HEAD_BYTES);
    if (fread(*buf + HEAD_BYTES, 1, len - HEAD_BYTES, s->f) != len - HEAD_BYTES) {
        fprintf(stderr, "ctf2relayd: %s: truncated packet\n", s->name);
        return NEXT_BAD_INPUT;
    }
    s->left -= len;
    if (ix.timestamp_end > *now_ts)
        *now_ts = ix.timestamp_end;
    if (hvlog_relayd_send_packet(r, s->out, *buf, len, &ix, err) != HVLOG_RELAYD_OK)
        return NEXT_RELAYD;
    return NEXT_SENT;
}

/* Beacons at @now_ts for every data stream that has had a packet. */
static int beacon_all(struct hvlog_relayd *r, struct in_stream *streams, unsigned n,
                      uint64_t now_ts, struct hvlog_relayd_error *err)
{
    for (unsigned i = 0; i < n; i++)
        if (hvlog_relayd_stream_packets(streams[i].out) > 0 &&
            hvlog_relayd_send_beacon(r, streams[i].out, now_ts, err) != HVLOG_RELAYD_OK)
            return -1;
    return 0;
}

/* The --hold / --linger rendezvous: say we are here, wait for the go (at
 * most 60 s). While waiting, every 100 ms, a beacon on each stream, as a
 * live timer would send: relayd ignores a beacon while the stream's last
 * packet is still in flight on the data connection (stream_add_index), so
 * one beacon right after the last packet is not enough. Returns 0, -1 for
 * a relayd failure (@err says it), -2 for a rendezvous failure. */
static int hold(const char *path, struct hvlog_relayd *r, struct in_stream *streams, unsigned n,
                uint64_t now_ts, struct hvlog_relayd_error *err)
{
    char ready[4200];
    FILE *f;

    snprintf(ready, sizeof ready, "%s.ready", path);
    f = fopen(ready, "w");
    if (!f) {
        fprintf(stderr, "ctf2relayd: %s: %s\n", ready, strerror(errno));
        return -2;
    }
    fclose(f);
    for (int i = 0; i < 6000; i++) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = 10000000L};
        struct stat st;

        if (stat(path, &st) == 0)
            return 0;
        if (i % 10 == 9 && beacon_all(r, streams, n, now_ts, err) < 0)
            return -1;
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "ctf2relayd: %s never appeared\n", path);
    return -2;
}

static int relayd_failed(const struct hvlog_relayd_error *err)
{
    fprintf(stderr, "ctf2relayd: %s\n", err->message);
    return 1;
}

int main(int argc, char **argv)
{
    struct hvlog_relayd_config cfg = {.live_timer_us = 100000};
    struct hvlog_relayd_error err = {0};
    struct hvlog_relayd *r = NULL;
    struct hvlog_relayd_stream *meta = NULL;
    static struct in_stream streams[MAX_STREAMS];
    unsigned nstreams = 0, done = 0;
    long pace_ms = 0;
    const char *hold_path = NULL, *linger_path = NULL;
    uint64_t hold_after = 0;
    char path[4096], dirpath[600], *text = NULL;
    size_t text_len = 0, cap = 0;
    uint8_t *buf = NULL;
    uint64_t packets = 0, now_ts = 0;
    int argi = 1, rc = 2;
    DIR *dir;
    struct dirent *de;

    while (argi < argc && strncmp(argv[argi], "--", 2) == 0) {
        if (argi + 1 >= argc)
            return usage();
        if (strcmp(argv[argi], "--pace-ms") == 0)
            pace_ms = strtol(argv[argi + 1], NULL, 10);
        else if (strcmp(argv[argi], "--timeout-ms") == 0)
            cfg.timeout_ms = (uint32_t)strtoul(argv[argi + 1], NULL, 10);
        else if (strcmp(argv[argi], "--hold") == 0)
            hold_path = argv[argi + 1];
        else if (strcmp(argv[argi], "--linger") == 0)
            linger_path = argv[argi + 1];
        else if (strcmp(argv[argi], "--hold-after") == 0)
            hold_after = strtoull(argv[argi + 1], NULL, 10);
        else if (strcmp(argv[argi], "--live-timer-us") == 0)
            cfg.live_timer_us = (uint32_t)strtoul(argv[argi + 1], NULL, 10);
        else
            return usage();
        argi += 2;
    }
    if (argc - argi != 6)
        return usage();
    cfg.host = argv[argi];
    cfg.control_port = (uint16_t)strtoul(argv[argi + 1], NULL, 10);
    cfg.data_port = (uint16_t)strtoul(argv[argi + 2], NULL, 10);
    cfg.hostname = argv[argi + 3];
    cfg.session_name = argv[argi + 4];
    snprintf(dirpath, sizeof dirpath, "%s", argv[argi + 5]);

    /* The input: metadata text and every stream file of the directory. */
    snprintf(path, sizeof path, "%s/metadata", dirpath);
    text = read_file(path, &text_len);
    if (!text) {
        fprintf(stderr, "ctf2relayd: %s: cannot read the metadata\n", path);
        return 2;
    }
    dir = opendir(dirpath);
    if (!dir) {
        fprintf(stderr, "ctf2relayd: %s: %s\n", dirpath, strerror(errno));
        goto out;
    }
    while ((de = readdir(dir)) != NULL) {
        struct in_stream *s;
        struct stat st;

        if (de->d_name[0] == '.' || strcmp(de->d_name, "metadata") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dirpath, de->d_name);
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (nstreams == MAX_STREAMS) {
            fprintf(stderr, "ctf2relayd: %s: more than %u streams\n", dirpath, MAX_STREAMS);
            closedir(dir);
            goto out;
        }
        s = &streams[nstreams++];
        snprintf(s->name, sizeof s->name, "%s", de->d_name);
        s->left = (uint64_t)st.st_size;
        s->f = fopen(path, "rb");
        if (!s->f) {
            fprintf(stderr, "ctf2relayd: %s: %s\n", path, strerror(errno));
            closedir(dir);
            goto out;
        }
    }
    closedir(dir);
    qsort(streams, nstreams, sizeof streams[0], by_name);

    /* Session, streams (all under HOSTNAME/SESSION), metadata. */
    snprintf(path, sizeof path, "%s/%s", cfg.hostname, cfg.session_name);
    if (hvlog_relayd_connect(&cfg, &r, &err) != HVLOG_RELAYD_OK ||
        hvlog_relayd_add_stream(r, "metadata", path, &meta, &err) != HVLOG_RELAYD_OK)
        goto relayd_error;
    for (unsigned i = 0; i < nstreams; i++)
        if (hvlog_relayd_add_stream(r, streams[i].name, path, &streams[i].out, &err) !=
            HVLOG_RELAYD_OK)
            goto relayd_error;
    if (hvlog_relayd_streams_sent(r, &err) != HVLOG_RELAYD_OK ||
        hvlog_relayd_send_metadata(r, meta, text, text_len, &err) != HVLOG_RELAYD_OK)
        goto relayd_error;

    /* Packets, one per stream per round; beacons for the streams done. */
    while (done < nstreams) {
        done = 0;
        for (unsigned i = 0; i < nstreams; i++) {
            struct in_stream *s = &streams[i];
            enum next_result nr;

            if (hold_path && packets == hold_after) {
                int h = hold(hold_path, r, streams, nstreams, now_ts, &err);

                if (h == -1)
                    goto relayd_error;
                if (h < 0) {
                    rc = 2;
                    goto out;
                }
                hold_path = NULL;
            }
            nr = send_next(r, s, &buf, &cap, &now_ts, &err);

            if (nr == NEXT_RELAYD)
                goto relayd_error;
            if (nr == NEXT_BAD_INPUT) {
                rc = 2;
                goto out;
            }
            if (nr == NEXT_SENT) {
                packets++;
                continue;
            }
            done++;
            if (hvlog_relayd_stream_packets(s->out) > 0 &&
                hvlog_relayd_send_beacon(r, s->out, now_ts, &err) != HVLOG_RELAYD_OK)
                goto relayd_error;
        }
        if (pace_ms > 0 && done < nstreams) {
            struct timespec ts = {.tv_sec = pace_ms / 1000, .tv_nsec = (pace_ms % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    if (linger_path) {
        int h = hold(linger_path, r, streams, nstreams, now_ts, &err);

        if (h == -1)
            goto relayd_error;
        if (h < 0) {
            rc = 2;
            goto out;
        }
    }
    for (unsigned i = 0; i < nstreams; i++)
        if (hvlog_relayd_close_stream(r, streams[i].out, &err) != HVLOG_RELAYD_OK)
            goto relayd_error;
    if (hvlog_relayd_close_stream(r, meta, &err) != HVLOG_RELAYD_OK)
        goto relayd_error;
    printf("ctf2relayd: sent %llu packets of %u streams (%zu metadata bytes)\n",
           (unsigned long long)packets, nstreams, text_len);
    rc = 0;
    goto out;
relayd_error:
    rc = relayd_failed(&err);
out:
    hvlog_relayd_destroy(r);
    for (unsigned i = 0; i < nstreams; i++)
        if (streams[i].f)
            fclose(streams[i].f);
    free(buf);
    free(text);
    return rc;
}
