/* SPDX-License-Identifier: MIT */
/*
 * The relayd client (hvlog/live/relayd.h) against a scripted fake relayd on
 * 127.0.0.1: the exact bytes of every command, the replies it must refuse,
 * a peer that never answers, one that is not there, and the arguments
 * refused before anything is sent. The real lttng-relayd is exercised by
 * relayd.sh (LABEL relayd).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hvlog/abi/be.h"
#include "hvlog/live/relayd.h"

enum fake_mode {
    FAKE_OK,           /* answers like relayd 2.13 */
    FAKE_REFUSE_ADD,   /* ADD_STREAM replies ret_code 2 */
    FAKE_MAJOR_3,      /* VERSION replies 3.0 */
    FAKE_MINOR_4,      /* VERSION replies 2.4: too old for the 80-byte index */
    FAKE_DIE_AFTER_STREAMS_SENT, /* answers, then closes both connections */
    FAKE_REFUSE_INDEX_2, /* the second SEND_INDEX replies ret_code 2 */
    FAKE_HOLD_INDEX,   /* SEND_INDEX replies held until the client may owe no
                          more, then sent all at once, 3 bytes a send */
    FAKE_SILENT_INDEX, /* SEND_INDEX never replied to */
};

#define LOG_MAX 65536u

/* One fake relayd: two listening sockets and a thread that serves one
 * producer, logging every control command and data packet it receives. */
struct fake {
    enum fake_mode mode;
    int ctrl_listen, data_listen;
    uint16_t ctrl_port, data_port;
    pthread_t thread;
    uint8_t ctrl_log[LOG_MAX]; /* every control byte received */
    size_t ctrl_len;
    uint8_t data_log[LOG_MAX]; /* every data byte received */
    size_t data_len;
};

static int listen_any(uint16_t *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static bool read_full(int fd, uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t r = recv(fd, p, n, 0);
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

static void reply(int fd, const uint8_t *p, size_t n)
{
    (void)send(fd, p, n, MSG_NOSIGNAL);
}

static void reply_ret(int fd, uint32_t ret)
{
    uint8_t b[4];
    hvlog_store_be32(b, ret);
    reply(fd, b, sizeof b);
}

/* @n replies of LTTNG_OK in sends of 3 bytes: replies split anywhere. */
static void send_held(int fd, uint32_t n)
{
    uint8_t all[HVLOG_RELAYD_INDEXES_IN_FLIGHT * 4];

    for (uint32_t i = 0; i < n; i++)
        hvlog_store_be32(all + 4 * i, 10);
    for (size_t off = 0; off < (size_t)n * 4; off += 3) {
        reply(fd, all + off, (size_t)n * 4 - off < 3 ? (size_t)n * 4 - off : 3);
        struct timespec gap = {0, 100000};

        nanosleep(&gap, NULL); /* each its own segment, most of them */
    }
}

static void *fake_serve(void *arg)
{
    struct fake *f = arg;
    int c = accept(f->ctrl_listen, NULL, NULL);
    int d = accept(f->data_listen, NULL, NULL);
    uint64_t next_handle = 100;
    uint32_t indexes = 0, held = 0;

    for (;;) {
        uint8_t *hdr = f->ctrl_log + f->ctrl_len, b[12];
        uint64_t size;
        uint32_t cmd;

        if (f->ctrl_len + 24 > LOG_MAX || !read_full(c, hdr, 24))
            break;
        size = hvlog_load_be64(hdr + 8);
        cmd = hvlog_load_be32(hdr + 16);
        if (f->ctrl_len + 24 + size > LOG_MAX || !read_full(c, hdr + 24, (size_t)size))
            break;
        f->ctrl_len += 24 + (size_t)size;
        switch (cmd) {
        case 5: /* VERSION */
            hvlog_store_be32(b, f->mode == FAKE_MAJOR_3 ? 3 : 2);
            hvlog_store_be32(b + 4, f->mode == FAKE_MAJOR_3 ? 0 : f->mode == FAKE_MINOR_4 ? 4 : 13);
            reply(c, b, 8);
            break;
        case 2: /* CREATE_SESSION */
            hvlog_store_be64(b, 42);
            hvlog_store_be32(b + 8, 10);
            reply(c, b, 12);
            break;
        case 1: /* ADD_STREAM */
            hvlog_store_be64(b, next_handle++);
            hvlog_store_be32(b + 8, f->mode == FAKE_REFUSE_ADD ? 2 : 10);
            reply(c, b, 12);
            break;
        case 13: /* SEND_INDEX: its packet is on the data connection, unless a beacon */
            if (hvlog_load_be64(hdr + 24 + 16) != 0) {
                uint8_t *dh = f->data_log + f->data_len;
                uint32_t n;

                if (f->data_len + 32 > LOG_MAX || !read_full(d, dh, 32))
                    goto out;
                n = hvlog_load_be32(dh + 24);
                if (f->data_len + 32 + n > LOG_MAX || !read_full(d, dh + 32, n))
                    goto out;
                f->data_len += 32 + n;
            }
            indexes++;
            if (f->mode == FAKE_SILENT_INDEX)
                break;
            if (f->mode == FAKE_HOLD_INDEX && indexes <= HVLOG_RELAYD_INDEXES_IN_FLIGHT) {
                if (++held == HVLOG_RELAYD_INDEXES_IN_FLIGHT)
                    send_held(c, held); /* the client waits for them now */
                break;
            }
            reply_ret(c, f->mode == FAKE_REFUSE_INDEX_2 && indexes == 2 ? 2 : 10);
            break;
        case 6: /* SEND_METADATA: no reply */
            break;
        case 16: /* STREAMS_SENT */
            reply_ret(c, 10);
            if (f->mode == FAKE_DIE_AFTER_STREAMS_SENT)
                goto out;
            break;
        default:
            reply_ret(c, 10);
            break;
        }
    }
out:
    close(c);
    close(d);
    return NULL;
}

static struct fake *fake_start(enum fake_mode mode)
{
    struct fake *f = calloc(1, sizeof *f);

    assert_non_null(f);
    f->mode = mode;
    f->ctrl_listen = listen_any(&f->ctrl_port);
    f->data_listen = listen_any(&f->data_port);
    assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
    return f;
}

/* Joins the server: call after the client has closed its connections. */
static void fake_stop(struct fake *f)
{
    pthread_join(f->thread, NULL);
    close(f->ctrl_listen);
    close(f->data_listen);
    free(f);
}

static struct hvlog_relayd_config config_for(uint16_t ctrl, uint16_t data)
{
    struct hvlog_relayd_config c = {
        .host = "127.0.0.1", .control_port = ctrl, .data_port = data,
        .hostname = "hostA", .session_name = "sess", .live_timer_us = 250000,
        .timeout_ms = 2000,
    };
    return c;
}

/* The command at @off of the control log: its number and payload. */
static const uint8_t *command_at(const struct fake *f, size_t *off, uint32_t want_cmd,
                                 uint64_t want_size)
{
    const uint8_t *h = f->ctrl_log + *off;

    assert_true(*off + 24 <= f->ctrl_len);
    assert_int_equal(hvlog_load_be64(h), 0);                /* circuit_id */
    assert_int_equal(hvlog_load_be32(h + 16), want_cmd);
    assert_int_equal(hvlog_load_be64(h + 8), want_size);
    assert_int_equal(hvlog_load_be32(h + 20), 0);           /* cmd_version */
    *off += 24 + (size_t)want_size;
    return h + 24;
}

/* Connected, with one data stream "local_lp0", streams sent. */
static void one_stream_session(const struct hvlog_relayd_config *c, struct hvlog_relayd **r,
                               struct hvlog_relayd_stream **s)
{
    struct hvlog_relayd_error err;

    assert_int_equal(hvlog_relayd_connect(c, r, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_add_stream(*r, "local_lp0", "h/s", s, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_streams_sent(*r, &err), HVLOG_RELAYD_OK);
}

static void a_whole_session_sends_exactly_the_2_10_bytes(void **state)
{
    struct fake *f = fake_start(FAKE_OK);
    struct hvlog_relayd_config c = config_for(f->ctrl_port, f->data_port);
    struct hvlog_relayd *r = NULL;
    struct hvlog_relayd_stream *meta = NULL, *s = NULL;
    struct hvlog_relayd_error err;
    uint8_t packet[40];
    struct hvlog_relayd_index ix = {
        .packet_size_bits = 48 * 8, .content_size_bits = 40 * 8, .timestamp_begin = 1000,
        .timestamp_end = 2000, .events_discarded = 3, .stream_id = 1,
        .stream_instance_id = 0x100000002ull, .packet_seq_num = 7,
    };
    const uint8_t *p;
    size_t off = 0;

    (void)state;
    for (size_t i = 0; i < sizeof packet; i++)
        packet[i] = (uint8_t)i;
    assert_int_equal(hvlog_relayd_connect(&c, &r, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_protocol_minor(r), 10); /* the lower of 10 and 13 */
    assert_int_equal(hvlog_relayd_session_id(r), 42);
    assert_int_equal(hvlog_relayd_add_stream(r, "metadata", "hostA/sess", &meta, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_add_stream(r, "local_lp0", "hostA/sess", &s, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_streams_sent(r, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_send_metadata(r, meta, "/* CTF 1.8 */", 13, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_send_packet(r, s, packet, sizeof packet, &ix, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_stream_packets(s), 1);
    assert_int_equal(hvlog_relayd_send_beacon(r, s, 5000, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_close_stream(r, s, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_close_stream(r, meta, &err), HVLOG_RELAYD_OK);
    hvlog_relayd_destroy(r);
    /* Control: VERSION {2, 10}. */
    p = command_at(f, &off, 5, 8);
    assert_int_equal(hvlog_load_be32(p), 2);
    assert_int_equal(hvlog_load_be32(p + 4), 10);
    /* CREATE_SESSION: name[255], hostname[64], live_timer, snapshot 0. */
    p = command_at(f, &off, 2, 327);
    assert_string_equal((const char *)p, "sess");
    assert_string_equal((const char *)p + 255, "hostA");
    assert_int_equal(hvlog_load_be32(p + 319), 250000);
    assert_int_equal(hvlog_load_be32(p + 323), 0);
    /* ADD_STREAM x2: channel[264], path[4096], tracefile size and count 0. */
    p = command_at(f, &off, 1, 4376);
    assert_string_equal((const char *)p, "metadata");
    assert_string_equal((const char *)p + 264, "hostA/sess");
    assert_int_equal(hvlog_load_be64(p + 4360), 0);
    assert_int_equal(hvlog_load_be64(p + 4368), 0);
    p = command_at(f, &off, 1, 4376);
    assert_string_equal((const char *)p, "local_lp0");
    command_at(f, &off, 16, 0); /* STREAMS_SENT */
    /* SEND_METADATA: {handle 100, padding 0} then the text. */
    p = command_at(f, &off, 6, 12 + 13);
    assert_int_equal(hvlog_load_be64(p), 100);
    assert_int_equal(hvlog_load_be32(p + 8), 0);
    assert_memory_equal(p + 12, "/* CTF 1.8 */", 13);
    /* SEND_INDEX, 80 bytes, paired by net_seq_num 0. */
    p = command_at(f, &off, 13, 80);
    assert_int_equal(hvlog_load_be64(p), 101);
    assert_int_equal(hvlog_load_be64(p + 8), 0);
    assert_int_equal(hvlog_load_be64(p + 16), 48 * 8);
    assert_int_equal(hvlog_load_be64(p + 24), 40 * 8);
    assert_int_equal(hvlog_load_be64(p + 32), 1000);
    assert_int_equal(hvlog_load_be64(p + 40), 2000);
    assert_int_equal(hvlog_load_be64(p + 48), 3);
    assert_int_equal(hvlog_load_be64(p + 56), 1);
    assert_int_equal(hvlog_load_be64(p + 64), 0x100000002ull);
    assert_int_equal(hvlog_load_be64(p + 72), 7);
    /* The beacon: packet_size 0, timestamp_end, the last packet's stream id. */
    p = command_at(f, &off, 13, 80);
    assert_int_equal(hvlog_load_be64(p), 101);
    assert_int_equal(hvlog_load_be64(p + 8), 0);
    assert_int_equal(hvlog_load_be64(p + 16), 0);
    assert_int_equal(hvlog_load_be64(p + 40), 5000);
    assert_int_equal(hvlog_load_be64(p + 56), 1);
    /* CLOSE_STREAM: the data stream's last net_seq_num 0; the metadata's
     * UINT64_MAX (it had no packet). */
    p = command_at(f, &off, 7, 16);
    assert_int_equal(hvlog_load_be64(p), 101);
    assert_int_equal(hvlog_load_be64(p + 8), 0);
    p = command_at(f, &off, 7, 16);
    assert_int_equal(hvlog_load_be64(p), 100);
    assert_true(hvlog_load_be64(p + 8) == UINT64_MAX);
    assert_int_equal(off, f->ctrl_len);
    /* Data: {0, handle 101, net_seq_num 0, data_size 40, padding 8} + bytes. */
    assert_int_equal(f->data_len, 32 + sizeof packet);
    assert_int_equal(hvlog_load_be64(f->data_log), 0);
    assert_int_equal(hvlog_load_be64(f->data_log + 8), 101);
    assert_int_equal(hvlog_load_be64(f->data_log + 16), 0);
    assert_int_equal(hvlog_load_be32(f->data_log + 24), 40);
    assert_int_equal(hvlog_load_be32(f->data_log + 28), 8);
    assert_memory_equal(f->data_log + 32, packet, sizeof packet);
    fake_stop(f);
}

static void a_refused_add_stream_breaks_the_connection_with_one_message(void **state)
{
    struct fake *f = fake_start(FAKE_REFUSE_ADD);
    struct hvlog_relayd_config c = config_for(f->ctrl_port, f->data_port);
    struct hvlog_relayd *r = NULL;
    struct hvlog_relayd_stream *s = (struct hvlog_relayd_stream *)1;
    struct hvlog_relayd_error err;

    (void)state;
    assert_int_equal(hvlog_relayd_connect(&c, &r, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_add_stream(r, "local_lp0", "h/s", &s, &err), HVLOG_RELAYD_REFUSED);
    assert_null(s);
    assert_non_null(strstr(err.message, "ADD_STREAM \"local_lp0\": reply 2, not LTTNG_OK (10)"));
    assert_null(strchr(err.message, '\n'));
    /* Every later call says the connection broke, and why. */
    assert_int_equal(hvlog_relayd_streams_sent(r, &err), HVLOG_RELAYD_BROKEN);
    assert_non_null(strstr(err.message, "reply 2"));
    hvlog_relayd_destroy(r);
    fake_stop(f);
}

/* relayd goes away while a packet is on its way: the send fails with an
 * error, not SIGPIPE (which would end this test program). */
static void a_relayd_gone_mid_packet_is_an_io_error_not_sigpipe(void **state)
{
    struct fake *f = fake_start(FAKE_DIE_AFTER_STREAMS_SENT);
    struct hvlog_relayd_config c = config_for(f->ctrl_port, f->data_port);
    struct hvlog_relayd *r = NULL;
    struct hvlog_relayd_stream *s = NULL;
    struct hvlog_relayd_error err;
    size_t len = 8u << 20; /* more than the socket buffers hold */
    uint8_t *packet = calloc(1, len);
    struct hvlog_relayd_index ix = {.packet_size_bits = (uint64_t)len * 8,
                                    .content_size_bits = (uint64_t)len * 8};

    (void)state;
    assert_non_null(packet);
    one_stream_session(&c, &r, &s);
    fake_stop(f); /* both connections are closed now */
    assert_int_equal(hvlog_relayd_send_packet(r, s, packet, len, &ix, &err), HVLOG_RELAYD_IO);
    assert_non_null(strstr(err.message, "packet 0 of \"local_lp0\": send: "));
    assert_int_equal(hvlog_relayd_send_beacon(r, s, 1, &err), HVLOG_RELAYD_BROKEN);
    hvlog_relayd_destroy(r);
    free(packet);
}

/* A session whose data stream sends @packets packets of 8 bytes. */
static void send_small_packets(struct hvlog_relayd *r, struct hvlog_relayd_stream *s, uint32_t packets,
                               enum hvlog_relayd_status *st, struct hvlog_relayd_error *err)
{
    uint8_t packet[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    struct hvlog_relayd_index ix = {.packet_size_bits = 64, .content_size_bits = 64, .stream_id = 1};

    for (uint32_t i = 0; i < packets; i++) {
        ix.packet_seq_num = i;
        st[i] = hvlog_relayd_send_packet(r, s, packet, sizeof packet, &ix, &err[i]);
    }
}

/* SEND_INDEX replies are read late: a refused one is returned by exactly
 * one call, its own or a later one, with its reason, and the connection
 * is broken after. */
static void a_refused_index_is_returned_by_a_later_call(void **state)
{
    struct fake *f = fake_start(FAKE_REFUSE_INDEX_2);
    struct hvlog_relayd_config c = config_for(f->ctrl_port, f->data_port);
    struct hvlog_relayd *r = NULL;
    struct hvlog_relayd_stream *s = NULL;
    struct hvlog_relayd_error err, errs[4];
    enum hvlog_relayd_status st[5];
    uint32_t refused = 0, broken = 0;

    (void)state;
    one_stream_session(&c, &r, &s);
    send_small_packets(r, s, 4, st, errs);
    st[4] = hvlog_relayd_close_stream(r, s, &err);
    assert_int_equal(st[0], HVLOG_RELAYD_OK);
    /* The second packet's call returns the refusal only if the reply came
     * before it looked (it does not wait); else a later call does. */
    for (int i = 1; i < 5; i++) {
        const char *m = i < 4 ? errs[i].message : err.message;

        if (st[i] == HVLOG_RELAYD_REFUSED) {
            assert_int_equal(refused + broken, 0); /* the first failure */
            assert_non_null(strstr(m, "SEND_INDEX: reply 2, not LTTNG_OK (10)"));
            refused++;
        } else if (st[i] == HVLOG_RELAYD_BROKEN) {
            assert_int_equal(refused, 1);
            assert_non_null(strstr(m, "reply 2"));
            broken++;
        } else {
            assert_int_equal(st[i], HVLOG_RELAYD_OK);
            assert_int_equal(refused, 0);
        }
    }
    assert_int_equal(refused, 1); /* close_stream at the latest */
    hvlog_relayd_destroy(r);
    fake_stop(f);
}

/* A relayd that holds the SEND_INDEX replies: the client owes at most
 * HVLOG_RELAYD_INDEXES_IN_FLIGHT, then waits; replies split across sends
 * are put together; every packet arrives in order. */
static void index_replies_are_owed_up_to_the_bound_and_read_in_pieces(void **state)
{
    struct fake *f = fake_start(FAKE_HOLD_INDEX);
    struct hvlog_relayd_config c = config_for(f->ctrl_port, f->data_port);
    struct hvlog_relayd *r = NULL;
    struct hvlog_relayd_stream *s = NULL;
    struct hvlog_relayd_error err;
    const uint32_t n = HVLOG_RELAYD_INDEXES_IN_FLIGHT + 10;
    enum hvlog_relayd_status *st = calloc(n, sizeof *st);
    struct hvlog_relayd_error *errs = calloc(n, sizeof *errs);
    size_t off = 0;

    (void)state;
    assert_non_null(st);
    assert_non_null(errs);
    one_stream_session(&c, &r, &s);
    send_small_packets(r, s, n, st, errs);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(st[i], HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_close_stream(r, s, &err), HVLOG_RELAYD_OK);
    /* Every packet, in order, each with its net_seq_num (the fake read
     * each with its index, and close_stream had every index's reply). */
    assert_int_equal(f->data_len, (size_t)n * 40);
    for (uint32_t i = 0; i < n; i++, off += 40)
        assert_int_equal(hvlog_load_be64(f->data_log + off + 16), i);
    hvlog_relayd_destroy(r);
    fake_stop(f);
    free(st);
    free(errs);
}

/* A relayd that never answers SEND_INDEX: the call that would owe more
 * than the bound times out, with the reason; nothing hangs. */
static void a_relayd_that_never_answers_indexes_times_out_at_the_bound(void **state)
{
    struct fake *f = fake_start(FAKE_SILENT_INDEX);
    struct hvlog_relayd_config c = config_for(f->ctrl_port, f->data_port);
    struct hvlog_relayd *r = NULL;
    struct hvlog_relayd_stream *s = NULL;
    struct hvlog_relayd_error err;
    const uint32_t n = HVLOG_RELAYD_INDEXES_IN_FLIGHT;
    enum hvlog_relayd_status *st = calloc(n, sizeof *st);
    struct hvlog_relayd_error *errs = calloc(n, sizeof *errs);

    (void)state;
    assert_non_null(st);
    assert_non_null(errs);
    c.timeout_ms = 100;
    one_stream_session(&c, &r, &s);
    send_small_packets(r, s, n, st, errs);
    for (uint32_t i = 0; i + 1 < n; i++)
        assert_int_equal(st[i], HVLOG_RELAYD_OK);
    assert_int_equal(st[n - 1], HVLOG_RELAYD_TIMEOUT);
    assert_non_null(strstr(errs[n - 1].message, "SEND_INDEX: no reply: no progress within 100 ms"));
    assert_int_equal(hvlog_relayd_close_stream(r, s, &err), HVLOG_RELAYD_BROKEN);
    hvlog_relayd_destroy(r);
    fake_stop(f);
    free(st);
    free(errs);
}

static void an_incompatible_version_is_refused_at_connect(void **state)
{
    static const enum fake_mode modes[] = {FAKE_MAJOR_3, FAKE_MINOR_4};

    (void)state;
    for (size_t i = 0; i < 2; i++) {
        struct fake *f = fake_start(modes[i]);
        struct hvlog_relayd_config c = config_for(f->ctrl_port, f->data_port);
        struct hvlog_relayd *r = (struct hvlog_relayd *)1;
        struct hvlog_relayd_error err;

        assert_int_equal(hvlog_relayd_connect(&c, &r, &err), HVLOG_RELAYD_VERSION);
        assert_null(r);
        assert_non_null(strstr(err.message, "VERSION: relayd speaks"));
        fake_stop(f);
    }
}

/* A peer that accepts nothing and answers nothing: the listen backlog
 * completes the connections, VERSION goes out, no reply ever comes. */
static void a_relayd_that_never_answers_times_out(void **state)
{
    uint16_t cport, dport;
    int cl = listen_any(&cport), dl = listen_any(&dport);
    struct hvlog_relayd_config c = config_for(cport, dport);
    struct hvlog_relayd *r = NULL;
    struct hvlog_relayd_error err;

    (void)state;
    c.timeout_ms = 100;
    assert_int_equal(hvlog_relayd_connect(&c, &r, &err), HVLOG_RELAYD_TIMEOUT);
    assert_null(r);
    assert_non_null(strstr(err.message, "VERSION: no reply: no progress within 100 ms"));
    close(cl);
    close(dl);
}

static void nobody_listening_is_a_connect_error(void **state)
{
    uint16_t port;
    int fd = listen_any(&port);
    struct hvlog_relayd_config c;
    struct hvlog_relayd *r = NULL;
    struct hvlog_relayd_error err;

    (void)state;
    close(fd); /* the port is free now: nothing listens there */
    c = config_for(port, port);
    assert_int_equal(hvlog_relayd_connect(&c, &r, &err), HVLOG_RELAYD_CONNECT);
    assert_null(r);
    assert_non_null(strstr(err.message, "control connection: Connection refused"));
}

/* relayd refuses names that are not path-safe; hvlog says so first, and
 * a bad argument does not break a connection. */
static void bad_names_and_sizes_are_refused_before_anything_is_sent(void **state)
{
    static const char *bad_names[] = {"", ".hidden", "a/b", "a\\b",
                                      "0123456789012345678901234567890123456789012345678901234567890123"};
    struct hvlog_relayd_error err;
    struct fake *f;
    struct hvlog_relayd_config c;
    struct hvlog_relayd *r = NULL;
    struct hvlog_relayd_stream *meta = NULL, *s = NULL;
    uint8_t packet[16] = {0};
    struct hvlog_relayd_index ix = {.packet_size_bits = 16 * 8, .content_size_bits = 16 * 8};

    (void)state;
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        c = config_for(1, 1); /* never reached */
        c.hostname = bad_names[i];
        assert_int_equal(hvlog_relayd_connect(&c, &r, &err), HVLOG_RELAYD_INVALID);
        c = config_for(1, 1);
        c.session_name = bad_names[i][0] == '0' ? "ok" : bad_names[i];
        if (bad_names[i][0] != '0')
            assert_int_equal(hvlog_relayd_connect(&c, &r, &err), HVLOG_RELAYD_INVALID);
    }
    c = config_for(1, 1);
    c.hostname = NULL;
    assert_int_equal(hvlog_relayd_connect(&c, &r, &err), HVLOG_RELAYD_INVALID);
    assert_non_null(strstr(err.message, "no hostname"));

    f = fake_start(FAKE_OK);
    c = config_for(f->ctrl_port, f->data_port);
    assert_int_equal(hvlog_relayd_connect(&c, &r, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_add_stream(r, "x", "../up", &s, &err), HVLOG_RELAYD_INVALID);
    assert_int_equal(hvlog_relayd_add_stream(r, "x", "h/../up", &s, &err), HVLOG_RELAYD_INVALID);
    assert_int_equal(hvlog_relayd_add_stream(r, "x", "/abs", &s, &err), HVLOG_RELAYD_INVALID);
    assert_int_equal(hvlog_relayd_add_stream(r, "a/b", "h/s", &s, &err), HVLOG_RELAYD_INVALID);
    assert_int_equal(hvlog_relayd_add_stream(r, "metadata", "h/s", &meta, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_add_stream(r, "local_lp0", "h/s", &s, &err), HVLOG_RELAYD_OK);
    /* Packets: not on the metadata stream, no metadata on a data stream,
     * size 0 is a beacon, more bytes than the packet or fewer than its
     * content do not fit. */
    assert_int_equal(hvlog_relayd_send_packet(r, meta, packet, 16, &ix, &err), HVLOG_RELAYD_INVALID);
    assert_int_equal(hvlog_relayd_send_metadata(r, s, "x", 1, &err), HVLOG_RELAYD_INVALID);
    ix.packet_size_bits = 0;
    assert_int_equal(hvlog_relayd_send_packet(r, s, packet, 16, &ix, &err), HVLOG_RELAYD_INVALID);
    ix.packet_size_bits = 8 * 8;
    ix.content_size_bits = 8 * 8;
    assert_int_equal(hvlog_relayd_send_packet(r, s, packet, 16, &ix, &err), HVLOG_RELAYD_INVALID);
    ix.packet_size_bits = 16 * 8;
    ix.content_size_bits = 12 * 8;
    assert_int_equal(hvlog_relayd_send_packet(r, s, packet, 8, &ix, &err), HVLOG_RELAYD_INVALID);
    assert_non_null(strstr(err.message, "do not fit"));
    assert_int_equal(hvlog_relayd_stream_packets(s), 0);
    /* None of that broke the connection. */
    assert_int_equal(hvlog_relayd_send_packet(r, s, packet, 16, &ix, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_close_stream(r, s, &err), HVLOG_RELAYD_OK);
    assert_int_equal(hvlog_relayd_send_packet(r, s, packet, 16, &ix, &err), HVLOG_RELAYD_INVALID);
    assert_int_equal(hvlog_relayd_close_stream(r, s, &err), HVLOG_RELAYD_INVALID);
    hvlog_relayd_destroy(r);
    fake_stop(f);
}

static void urls_give_host_and_ports_or_one_error(void **state)
{
    static const struct {
        const char *url;
        const char *host; /* NULL: refused */
        uint16_t ctrl, data;
    } rows[] = {
        {"net://collector", "collector", 5342, 5343},
        {"net://10.0.0.2:6000", "10.0.0.2", 6000, 5343},
        {"net://10.0.0.2:6000:6001", "10.0.0.2", 6000, 6001},
        {"net://[::1]", "::1", 5342, 5343},
        {"net://[fe80::1]:1:65535", "fe80::1", 1, 65535},
        {"tcp://host", NULL, 0, 0},
        {"host:5342", NULL, 0, 0},
        {"net://", NULL, 0, 0},
        {"net://:5342", NULL, 0, 0},
        {"net://h:0", NULL, 0, 0},
        {"net://h:65536", NULL, 0, 0},
        {"net://h:12x", NULL, 0, 0},
        {"net://h:1:2:3", NULL, 0, 0},
        {"net://h/path", NULL, 0, 0},
        {"net://[::1", NULL, 0, 0},
        {"net://[]:1", NULL, 0, 0},
        {"net://h:", NULL, 0, 0},
    };
    char host[64];

    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct hvlog_relayd_config c = {.hostname = "kept"};
        struct hvlog_relayd_error err;
        enum hvlog_relayd_status st = hvlog_relayd_parse_url(rows[i].url, &c, host, sizeof host, &err);

        if (!rows[i].host) {
            assert_int_equal(st, HVLOG_RELAYD_INVALID);
            assert_non_null(strstr(err.message, "relayd URL"));
            assert_null(c.host);
            continue;
        }
        assert_int_equal(st, HVLOG_RELAYD_OK);
        assert_string_equal(c.host, rows[i].host);
        assert_int_equal(c.control_port, rows[i].ctrl);
        assert_int_equal(c.data_port, rows[i].data);
        assert_string_equal(c.hostname, "kept");
    }
    {
        struct hvlog_relayd_config c = {0};
        char tiny[4];

        assert_int_equal(hvlog_relayd_parse_url("net://longhost", &c, tiny, sizeof tiny, NULL),
                         HVLOG_RELAYD_INVALID);
    }
}

static void every_status_has_a_name_and_a_text(void **state)
{
    (void)state;
#define CHECK_ROW(name, value, text)                                         \
    assert_string_equal(hvlog_relayd_status_name(name), #name);            \
    assert_string_equal(hvlog_relayd_status_text(name), text);
    HVLOG_RELAYD_STATUS_TABLE(CHECK_ROW)
#undef CHECK_ROW
    assert_null(hvlog_relayd_status_name((enum hvlog_relayd_status)99));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_whole_session_sends_exactly_the_2_10_bytes),
        cmocka_unit_test(a_refused_add_stream_breaks_the_connection_with_one_message),
        cmocka_unit_test(a_relayd_gone_mid_packet_is_an_io_error_not_sigpipe),
        cmocka_unit_test(a_refused_index_is_returned_by_a_later_call),
        cmocka_unit_test(index_replies_are_owed_up_to_the_bound_and_read_in_pieces),
        cmocka_unit_test(a_relayd_that_never_answers_indexes_times_out_at_the_bound),
        cmocka_unit_test(an_incompatible_version_is_refused_at_connect),
        cmocka_unit_test(a_relayd_that_never_answers_times_out),
        cmocka_unit_test(nobody_listening_is_a_connect_error),
        cmocka_unit_test(bad_names_and_sizes_are_refused_before_anything_is_sent),
        cmocka_unit_test(urls_give_host_and_ports_or_one_error),
        cmocka_unit_test(every_status_has_a_name_and_a_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
