/* SPDX-License-Identifier: MIT */
/*
 * The lttng-relayd producer client (hvlog/live/relayd.h).
 *
 * Two TCP connections to relayd:
 *
 *   control  VERSION, CREATE_SESSION, ADD_STREAM..., STREAMS_SENT,
 *            SEND_METADATA..., SEND_INDEX after each packet, CLOSE_STREAM
 *            (each command: 24-byte header + payload; every command but
 *            SEND_METADATA has a reply, read before the next command
 *            except SEND_INDEX's: see "Pipelined indexes")
 *   data     per packet: 32-byte data header + the packet bytes, no reply
 *
 * A packet and its index travel on different connections; relayd pairs
 * them by (stream handle, net_seq_num) whatever order they arrive in
 * (src/bin/lttng-relayd/stream.c, stream_add_index; main.c,
 * relay_process_data_receive_payload). hvlog sends the packet first, then
 * the index, as LTTng's consumer does.
 *
 * I/O: both sockets are non-blocking; every call computes one deadline
 * (now + timeout_ms) and waits with poll() for what it needs, so a relayd
 * that stops reading or answering costs at most timeout_ms, and one that
 * is gone shows as an error of send or recv (MSG_NOSIGNAL: no SIGPIPE).
 * The first such failure breaks the connection (see the header).
 *
 * Pipelined indexes: waiting for each SEND_INDEX reply puts a round trip
 * through relayd's worker thread under every packet: with two producers
 * keeping two CPUs busy, the sender fell behind by 5 to 20 % of the
 * buffers, and by none once the replies were read late (docs/live.md;
 * bench/RESULTS.md, "Recording end to end"). relayd answers a
 * connection's commands in order, so SEND_INDEX (a beacon too) does not
 * wait: its reply is owed, read once it has come, and waited for only
 * when HVLOG_RELAYD_INDEXES_IN_FLIGHT are owed or before another
 * command's reply. A refusal then shows on a later call, and breaks the
 * connection as any refusal does.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "hvlog/live/relayd.h"
#include "live/relayd_wire.h"

struct hvlog_relayd_stream {
    struct hvlog_relayd *owner;       /* the connection it was added on */
    struct hvlog_relayd_stream *next; /* the connection's list, newest first */
    uint64_t handle;                  /* relayd's id, from ADD_STREAM */
    uint64_t next_seq;                /* net_seq_num of the next packet */
    uint64_t ctf_stream_id;           /* of the last packet: a beacon repeats it */
    bool metadata;
    bool closed;
    char name[RELAYD_CHANNEL_NAME_BYTES];
};

struct hvlog_relayd {
    int ctrl_fd;               /* -1 once broken */
    int data_fd;
    uint32_t timeout_ms;
    uint32_t minor;            /* agreed protocol minor */
    uint64_t session_id;
    bool broken;
    char ctrl_peer[300];       /* "HOST:PORT", for messages */
    char data_peer[300];
    char broken_message[HVLOG_RELAYD_MESSAGE_MAX];
    struct hvlog_relayd_stream *streams;
    uint32_t owed;             /* SEND_INDEX replies not read yet */
    uint32_t owed_part;        /* bytes of the next one already read */
    uint8_t owed_bytes[relayd_generic_reply_WIRE_SIZE];
};

/* ---- statuses and messages ---- */

const char *hvlog_relayd_status_name(enum hvlog_relayd_status status)
{
    switch (status) {
#define HVLOG_X_RELAYD_STATUS_NAME(name, value, text) \
    case name:                                        \
        return #name;
        HVLOG_RELAYD_STATUS_TABLE(HVLOG_X_RELAYD_STATUS_NAME)
#undef HVLOG_X_RELAYD_STATUS_NAME
    }
    return NULL;
}

const char *hvlog_relayd_status_text(enum hvlog_relayd_status status)
{
    switch (status) {
#define HVLOG_X_RELAYD_STATUS_TEXT(name, value, text) \
    case name:                                        \
        return text;
        HVLOG_RELAYD_STATUS_TABLE(HVLOG_X_RELAYD_STATUS_TEXT)
#undef HVLOG_X_RELAYD_STATUS_TEXT
    }
    return NULL;
}

/* "ADD_STREAM" for RELAYD_ADD_STREAM: the table's name without its prefix. */
static const char *command_name(enum relayd_command cmd)
{
    switch (cmd) {
#define RELAYD_X_COMMAND_NAME(name, value) \
    case name:                             \
        return &(#name)[sizeof "RELAYD_" - 1];
        RELAYD_COMMAND_TABLE(RELAYD_X_COMMAND_NAME)
#undef RELAYD_X_COMMAND_NAME
    }
    return "?";
}

__attribute__((format(printf, 3, 4))) static enum hvlog_relayd_status
set_error(struct hvlog_relayd_error *err, enum hvlog_relayd_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;

        err->status = status;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

static enum hvlog_relayd_status ok(struct hvlog_relayd_error *err)
{
    if (err) {
        err->status = HVLOG_RELAYD_OK;
        err->message[0] = '\0';
    }
    return HVLOG_RELAYD_OK;
}

static void close_fds(struct hvlog_relayd *r)
{
    if (r->ctrl_fd >= 0)
        close(r->ctrl_fd);
    if (r->data_fd >= 0)
        close(r->data_fd);
    r->ctrl_fd = -1;
    r->data_fd = -1;
}

/* An I/O or protocol failure: the connection is broken from now on. The
 * message is kept so that later calls can say what broke it. */
__attribute__((format(printf, 4, 5))) static enum hvlog_relayd_status
fail(struct hvlog_relayd *r, struct hvlog_relayd_error *err, enum hvlog_relayd_status status,
     const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->broken_message, sizeof r->broken_message, fmt, ap);
    va_end(ap);
    r->broken = true;
    close_fds(r);
    return set_error(err, status, "%s", r->broken_message);
}

static enum hvlog_relayd_status check_usable(const struct hvlog_relayd *r,
                                             struct hvlog_relayd_error *err)
{
    if (!r)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: no connection");
    if (r->broken)
        return set_error(err, HVLOG_RELAYD_BROKEN, "%s", r->broken_message);
    return HVLOG_RELAYD_OK;
}

/* ---- the URL ---- */

/* A port: decimal digits only, 1..65535. */
static bool parse_port(const char *p, size_t n, uint16_t *out)
{
    unsigned long v = 0;

    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
        return false;
    *out = (uint16_t)v;
    return true;
}

enum hvlog_relayd_status hvlog_relayd_parse_url(const char *url,
                                                struct hvlog_relayd_config *config,
                                                char *host_buf, size_t host_size,
                                                struct hvlog_relayd_error *err)
{
    static const char scheme[] = "net://";
    const char *host, *rest, *colon;
    size_t host_len;
    uint16_t ports[2] = {HVLOG_RELAYD_DEFAULT_CONTROL_PORT, HVLOG_RELAYD_DEFAULT_DATA_PORT};

    if (!url || !config || !host_buf || host_size == 0)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: no URL or no place for it");
    if (strncmp(url, scheme, sizeof scheme - 1) != 0)
        return set_error(err, HVLOG_RELAYD_INVALID,
                         "relayd URL \"%s\": expected net://HOST[:CTRL[:DATA]]", url);
    host = url + sizeof scheme - 1;
    if (host[0] == '[') { /* [IPv6] */
        const char *end = strchr(host, ']');

        if (!end || end == host + 1)
            return set_error(err, HVLOG_RELAYD_INVALID,
                             "relayd URL \"%s\": an IPv6 address ends with ']'", url);
        host_len = (size_t)(end - host - 1);
        host++;
        rest = end + 1;
    } else {
        host_len = strcspn(host, ":/");
        rest = host + host_len;
    }
    if (host_len == 0)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd URL \"%s\": no host", url);
    if (host_len >= host_size)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd URL \"%s\": the host is too long",
                         url);
    for (int i = 0; i < 2 && *rest == ':'; i++) {
        size_t n;

        rest++;
        colon = strchr(rest, ':');
        n = colon ? (size_t)(colon - rest) : strlen(rest);
        if (!parse_port(rest, n, &ports[i]))
            return set_error(err, HVLOG_RELAYD_INVALID,
                             "relayd URL \"%s\": \"%.*s\" is not a port (1-65535)", url,
                             (int)(n > 32 ? 32 : n), rest);
        rest += n;
    }
    if (*rest != '\0')
        return set_error(err, HVLOG_RELAYD_INVALID,
                         "relayd URL \"%s\": unexpected \"%s\" after the ports", url, rest);
    memcpy(host_buf, host, host_len);
    host_buf[host_len] = '\0';
    config->host = host_buf;
    config->control_port = ports[0];
    config->data_port = ports[1];
    return ok(err);
}

/* ---- deadline-bounded socket I/O ---- */

enum io_result { IO_DONE, IO_TIMEOUT, IO_ERROR, IO_CLOSED };

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until @fd is ready for @events or the deadline passes. */
static enum io_result wait_fd(int fd, short events, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - now_ms();
        struct pollfd p = {.fd = fd, .events = events};
        int n;

        if (left <= 0)
            return IO_TIMEOUT;
        n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return IO_DONE; /* ready, or an error the next call reports */
        if (n < 0 && errno != EINTR)
            return IO_ERROR;
    }
}

/* After a send or recv on non-blocking @fd failed with errno: IO_DONE to
 * try again (EINTR, or @fd became ready for @events), else why to stop. */
static enum io_result retry_after(int fd, short events, int64_t deadline_ms)
{
    if (errno == EINTR)
        return IO_DONE;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
        return IO_ERROR;
    return wait_fd(fd, events, deadline_ms);
}

/* Send every byte of @iov (at most 4 pieces; they are consumed). */
static enum io_result send_all(int fd, struct iovec *iov, int count, int64_t deadline_ms)
{
    while (count > 0) {
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)count};
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0) {
            enum io_result w = retry_after(fd, POLLOUT, deadline_ms);

            if (w != IO_DONE)
                return w;
            continue;
        }
        while (count > 0 && (size_t)n >= iov->iov_len) {
            n -= (ssize_t)iov->iov_len;
            iov++;
            count--;
        }
        if (count > 0) {
            iov->iov_base = (uint8_t *)iov->iov_base + n;
            iov->iov_len -= (size_t)n;
        }
    }
    return IO_DONE;
}

static enum io_result recv_all(int fd, void *buf, size_t len, int64_t deadline_ms)
{
    uint8_t *p = buf;

    while (len > 0) {
        ssize_t n = recv(fd, p, len, MSG_DONTWAIT);

        if (n == 0)
            return IO_CLOSED;
        if (n < 0) {
            enum io_result w = retry_after(fd, POLLIN, deadline_ms);

            if (w != IO_DONE)
                return w;
            continue;
        }
        p += n;
        len -= (size_t)n;
    }
    return IO_DONE;
}

/* The reason of a failed send_all/recv_all, for a message. */
static const char *io_reason(enum io_result res, int saved_errno, uint32_t timeout_ms, char *buf,
                             size_t size)
{
    switch (res) {
    case IO_TIMEOUT:
        snprintf(buf, size, "no progress within %u ms", timeout_ms);
        break;
    case IO_CLOSED:
        snprintf(buf, size, "relayd closed the connection");
        break;
    case IO_ERROR:
    case IO_DONE:
        snprintf(buf, size, "%s", strerror(saved_errno));
        break;
    }
    return buf;
}

static enum hvlog_relayd_status io_status(enum io_result res)
{
    return res == IO_TIMEOUT ? HVLOG_RELAYD_TIMEOUT : HVLOG_RELAYD_IO;
}

/* Connect to @host:@port within the deadline; the socket stays
 * non-blocking, with TCP_NODELAY: every control command waits for its
 * reply, and Nagle's delay would stall each one. */
static enum hvlog_relayd_status connect_one(const char *host, uint16_t port, int64_t deadline_ms,
                                            uint32_t timeout_ms, int *fd_out, char *why,
                                            size_t why_size)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *list = NULL;
    char service[8];
    enum hvlog_relayd_status st = HVLOG_RELAYD_CONNECT;
    int rc;

    snprintf(service, sizeof service, "%u", (unsigned)port);
    rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        snprintf(why, why_size, "%s", gai_strerror(rc));
        return HVLOG_RELAYD_RESOLVE;
    }
    snprintf(why, why_size, "no address");
    for (const struct addrinfo *a = list; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        int soerr = 0, one = 1;
        socklen_t solen = sizeof soerr;

        if (fd < 0) {
            snprintf(why, why_size, "socket: %s", strerror(errno));
            continue;
        }
        if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
            snprintf(why, why_size, "fcntl: %s", strerror(errno));
            close(fd);
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
            if (errno != EINPROGRESS) {
                snprintf(why, why_size, "%s", strerror(errno));
                close(fd);
                continue;
            }
            enum io_result w = wait_fd(fd, POLLOUT, deadline_ms);
            if (w == IO_TIMEOUT) {
                snprintf(why, why_size, "no answer within %u ms", timeout_ms);
                st = HVLOG_RELAYD_TIMEOUT;
                close(fd);
                break; /* the deadline is spent for every address */
            }
            if (w != IO_DONE || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &solen) < 0 ||
                soerr != 0) {
                snprintf(why, why_size, "%s", strerror(soerr ? soerr : errno));
                close(fd);
                continue;
            }
        }
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        *fd_out = fd;
        freeaddrinfo(list);
        return HVLOG_RELAYD_OK;
    }
    freeaddrinfo(list);
    return st;
}

/* ---- commands ---- */

/* Read owed SEND_INDEX replies and check each: with @wait, until @keep are
 * left (blocking until the deadline); without, those that have come. */
static enum hvlog_relayd_status settle_replies(struct hvlog_relayd *r, struct hvlog_relayd_error *err,
                                               bool wait, uint32_t keep, int64_t deadline)
{
    enum { W = relayd_generic_reply_WIRE_SIZE };
    uint8_t buf[HVLOG_RELAYD_INDEXES_IN_FLIGHT * W];
    char reason[128];

    if (wait) {
        /* No ACK of ours held back while we wait: a small reply of
         * relayd's may be waiting for it (docs/live.md). */
        int on = 1;

        (void)setsockopt(r->ctrl_fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
    }
    while (r->owed > keep) {
        size_t want = (size_t)(r->owed - keep) * W - r->owed_part;
        ssize_t n = recv(r->ctrl_fd, buf, want < sizeof buf ? want : sizeof buf, MSG_DONTWAIT);
        enum io_result res = n == 0 ? IO_CLOSED : IO_DONE;

        if (n < 0 && !wait && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0)
            res = retry_after(r->ctrl_fd, POLLIN, deadline);
        if (res != IO_DONE)
            return fail(r, err, io_status(res), "relayd %s: SEND_INDEX: no reply: %s", r->ctrl_peer,
                        io_reason(res, errno, r->timeout_ms, reason, sizeof reason));
        for (ssize_t i = 0; i < n; i++) {
            struct relayd_generic_reply reply;

            r->owed_bytes[r->owed_part++] = buf[i];
            if (r->owed_part < W)
                continue;
            relayd_generic_reply_load(&reply, r->owed_bytes);
            r->owed_part = 0;
            r->owed--;
            if (reply.ret_code != RELAYD_LTTNG_OK)
                return fail(r, err, HVLOG_RELAYD_REFUSED,
                            "relayd %s: SEND_INDEX: reply %u, not LTTNG_OK (%u)", r->ctrl_peer,
                            reply.ret_code, RELAYD_LTTNG_OK);
        }
    }
    return HVLOG_RELAYD_OK;
}

/*
 * Send command @cmd with the payload pieces @payload (the 24-byte header
 * is put in front here) and, when @reply_len > 0, read its reply into
 * @reply. @what names the object for the message ("\"local_lp0\"", or "").
 */
static enum hvlog_relayd_status command(struct hvlog_relayd *r, struct hvlog_relayd_error *err,
                                        enum relayd_command cmd, const char *what,
                                        const struct iovec *payload, int pieces, void *reply,
                                        size_t reply_len)
{
    uint8_t hdr_bytes[relayd_cmd_hdr_WIRE_SIZE];
    struct relayd_cmd_hdr hdr = {.cmd = (uint32_t)cmd};
    struct iovec iov[4];
    int64_t deadline = now_ms() + r->timeout_ms;
    enum io_result res;
    char reason[128];

    iov[0].iov_base = hdr_bytes;
    iov[0].iov_len = sizeof hdr_bytes;
    for (int i = 0; i < pieces; i++) {
        iov[i + 1] = payload[i];
        hdr.data_size += payload[i].iov_len;
    }
    relayd_cmd_hdr_store(hdr_bytes, &hdr);
    res = send_all(r->ctrl_fd, iov, pieces + 1, deadline);
    if (res != IO_DONE)
        return fail(r, err, io_status(res), "relayd %s: %s%s%s: send: %s", r->ctrl_peer,
                    command_name(cmd), what[0] ? " " : "", what,
                    io_reason(res, errno, r->timeout_ms, reason, sizeof reason));
    if (reply_len == 0)
        return HVLOG_RELAYD_OK;
    if (r->owed) { /* the replies come in order: the owed ones first */
        enum hvlog_relayd_status st = settle_replies(r, err, true, 0, deadline);

        if (st != HVLOG_RELAYD_OK)
            return st;
    }
    res = recv_all(r->ctrl_fd, reply, reply_len, deadline);
    if (res != IO_DONE)
        return fail(r, err, io_status(res), "relayd %s: %s%s%s: no reply: %s", r->ctrl_peer,
                    command_name(cmd), what[0] ? " " : "", what,
                    io_reason(res, errno, r->timeout_ms, reason, sizeof reason));
    return HVLOG_RELAYD_OK;
}

/* A reply's ret_code that is not LTTNG_OK: relayd refused the command and,
 * for most commands, has already dropped the connection's state. */
static enum hvlog_relayd_status check_ret(struct hvlog_relayd *r, struct hvlog_relayd_error *err,
                                          enum relayd_command cmd, const char *what,
                                          uint32_t ret_code)
{
    if (ret_code == RELAYD_LTTNG_OK)
        return HVLOG_RELAYD_OK;
    return fail(r, err, HVLOG_RELAYD_REFUSED, "relayd %s: %s%s%s: reply %u, not LTTNG_OK (%u)",
                r->ctrl_peer, command_name(cmd), what[0] ? " " : "", what, ret_code,
                RELAYD_LTTNG_OK);
}

/* A command whose reply is lttcomm_relayd_generic_reply (STREAMS_SENT,
 * CLOSE_STREAM; SEND_INDEX's is read by settle_replies): sent, its reply
 * read and checked. */
static enum hvlog_relayd_status command_generic(struct hvlog_relayd *r,
                                                struct hvlog_relayd_error *err,
                                                enum relayd_command cmd, const char *what,
                                                const struct iovec *payload, int pieces)
{
    uint8_t in[relayd_generic_reply_WIRE_SIZE] = {0};
    struct relayd_generic_reply reply;
    enum hvlog_relayd_status st = command(r, err, cmd, what, payload, pieces, in, sizeof in);

    if (st != HVLOG_RELAYD_OK)
        return st;
    relayd_generic_reply_load(&reply, in);
    return check_ret(r, err, cmd, what, reply.ret_code);
}

/* CREATE_SESSION and ADD_STREAM start with two fixed-size name fields:
 * each name goes in with its NUL (its length was checked), the rest of
 * @msg stays zero. Returns where the message's integer tail starts. */
static uint8_t *put_names(uint8_t *msg, const char *first, size_t first_bytes,
                          const char *second, size_t second_bytes)
{
    memcpy(msg, first, strlen(first) + 1);
    memcpy(msg + first_bytes, second, strlen(second) + 1);
    return msg + first_bytes + second_bytes;
}

static enum hvlog_relayd_status do_version(struct hvlog_relayd *r, struct hvlog_relayd_error *err)
{
    uint8_t out[relayd_version_WIRE_SIZE], in[relayd_version_WIRE_SIZE] = {0};
    struct relayd_version mine = {.major = RELAYD_PROTO_MAJOR, .minor = RELAYD_PROTO_MINOR};
    struct relayd_version theirs;
    struct iovec iov = {.iov_base = out, .iov_len = sizeof out};
    enum hvlog_relayd_status st;

    relayd_version_store(out, &mine);
    st = command(r, err, RELAYD_VERSION, "", &iov, 1, in, sizeof in);
    if (st != HVLOG_RELAYD_OK)
        return st;
    relayd_version_load(&theirs, in);
    /* relay_send_version: majors must match; both use the lower minor. */
    if (theirs.major != RELAYD_PROTO_MAJOR || theirs.minor < RELAYD_PROTO_MINOR_MIN)
        return fail(r, err, HVLOG_RELAYD_VERSION,
                    "relayd %s: VERSION: relayd speaks %u.%u, hvlog needs %u.%u to %u.x",
                    r->ctrl_peer, theirs.major, theirs.minor, RELAYD_PROTO_MAJOR,
                    RELAYD_PROTO_MINOR_MIN, RELAYD_PROTO_MAJOR);
    r->minor = theirs.minor < RELAYD_PROTO_MINOR ? theirs.minor : RELAYD_PROTO_MINOR;
    return HVLOG_RELAYD_OK;
}

static enum hvlog_relayd_status do_create_session(struct hvlog_relayd *r,
                                                  const struct hvlog_relayd_config *c,
                                                  uint32_t live_timer_us,
                                                  struct hvlog_relayd_error *err)
{
    uint8_t msg[RELAYD_CREATE_SESSION_BYTES] = {0};
    uint8_t in[relayd_status_session_WIRE_SIZE] = {0};
    struct relayd_create_session_tail tail = {.live_timer = live_timer_us, .snapshot = 0};
    struct relayd_status_session reply;
    struct iovec iov = {.iov_base = msg, .iov_len = sizeof msg};
    enum hvlog_relayd_status st;
    char what[RELAYD_SESSION_NAME_BYTES + RELAYD_HOSTNAME_BYTES + 16];

    relayd_create_session_tail_store(put_names(msg, c->session_name, RELAYD_SESSION_NAME_BYTES,
                                               c->hostname, RELAYD_HOSTNAME_BYTES),
                                     &tail);
    snprintf(what, sizeof what, "\"%s\" of host \"%s\"", c->session_name, c->hostname);
    st = command(r, err, RELAYD_CREATE_SESSION, what, &iov, 1, in, sizeof in);
    if (st != HVLOG_RELAYD_OK)
        return st;
    relayd_status_session_load(&reply, in);
    st = check_ret(r, err, RELAYD_CREATE_SESSION, what, reply.ret_code);
    if (st == HVLOG_RELAYD_OK)
        r->session_id = reply.session_id;
    return st;
}

/* relayd's is_name_path_safe (src/bin/lttng-relayd/session.c): a session
 * or host name becomes a directory name. */
static bool name_is_path_safe(const char *name)
{
    return name[0] != '\0' && name[0] != '.' && !strchr(name, '/') && !strchr(name, '\\');
}

static enum hvlog_relayd_status check_name(const char *what, const char *name, size_t max,
                                           struct hvlog_relayd_error *err)
{
    if (!name)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: no %s given", what);
    if (strlen(name) > max)
        return set_error(err, HVLOG_RELAYD_INVALID,
                         "relayd: %s \"%.40s...\" is longer than %zu bytes", what, name, max);
    if (!name_is_path_safe(name))
        return set_error(err, HVLOG_RELAYD_INVALID,
                         "relayd: %s \"%s\" must be non-empty, without '/' or '\\', "
                         "not start with '.'",
                         what, name);
    return HVLOG_RELAYD_OK;
}

enum hvlog_relayd_status hvlog_relayd_connect(const struct hvlog_relayd_config *config,
                                              struct hvlog_relayd **out,
                                              struct hvlog_relayd_error *err)
{
    struct hvlog_relayd *r;
    const char *host;
    uint16_t cport, dport;
    uint32_t live_timer;
    int64_t deadline;
    enum hvlog_relayd_status st;
    char why[200];

    if (!out)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: no place for the connection");
    *out = NULL;
    if (!config)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: no configuration");
    st = check_name("hostname", config->hostname, HVLOG_RELAYD_HOSTNAME_MAX, err);
    if (st == HVLOG_RELAYD_OK)
        st = check_name("session name", config->session_name, HVLOG_RELAYD_SESSION_NAME_MAX, err);
    if (st != HVLOG_RELAYD_OK)
        return st;
    host = config->host && config->host[0] ? config->host : "127.0.0.1";
    cport = config->control_port ? config->control_port : HVLOG_RELAYD_DEFAULT_CONTROL_PORT;
    dport = config->data_port ? config->data_port : HVLOG_RELAYD_DEFAULT_DATA_PORT;
    live_timer = config->live_timer_us ? config->live_timer_us : HVLOG_RELAYD_DEFAULT_LIVE_TIMER_US;

    r = calloc(1, sizeof *r);
    if (!r)
        return set_error(err, HVLOG_RELAYD_NOMEM, "relayd: out of memory");
    r->ctrl_fd = -1;
    r->data_fd = -1;
    r->timeout_ms = config->timeout_ms ? config->timeout_ms : HVLOG_RELAYD_DEFAULT_TIMEOUT_MS;
    snprintf(r->ctrl_peer, sizeof r->ctrl_peer, "%s:%u", host, (unsigned)cport);
    snprintf(r->data_peer, sizeof r->data_peer, "%s:%u", host, (unsigned)dport);

    deadline = now_ms() + r->timeout_ms;
    st = connect_one(host, cport, deadline, r->timeout_ms, &r->ctrl_fd, why, sizeof why);
    if (st != HVLOG_RELAYD_OK) {
        set_error(err, st, "relayd %s: control connection: %s", r->ctrl_peer, why);
        goto fail;
    }
    st = connect_one(host, dport, deadline, r->timeout_ms, &r->data_fd, why, sizeof why);
    if (st != HVLOG_RELAYD_OK) {
        set_error(err, st, "relayd %s: data connection: %s", r->data_peer, why);
        goto fail;
    }
    st = do_version(r, err);
    if (st == HVLOG_RELAYD_OK)
        st = do_create_session(r, config, live_timer, err);
    if (st != HVLOG_RELAYD_OK)
        goto fail;
    *out = r;
    return ok(err);
fail:
    hvlog_relayd_destroy(r);
    return st;
}

/* A channel name becomes a file name in relayd's output. */
static enum hvlog_relayd_status check_stream_names(const char *channel, const char *path,
                                                   struct hvlog_relayd_error *err)
{
    enum hvlog_relayd_status st =
        check_name("channel name", channel, HVLOG_RELAYD_CHANNEL_NAME_MAX, err);

    if (st != HVLOG_RELAYD_OK)
        return st;
    if (!path || !path[0] || path[0] == '/')
        return set_error(err, HVLOG_RELAYD_INVALID,
                         "relayd: stream \"%s\": the path must be relative and non-empty", channel);
    if (strlen(path) > HVLOG_RELAYD_PATHNAME_MAX)
        return set_error(err, HVLOG_RELAYD_INVALID,
                         "relayd: stream \"%s\": the path is longer than %u bytes", channel,
                         HVLOG_RELAYD_PATHNAME_MAX);
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");

        if (n == 2 && p[0] == '.' && p[1] == '.')
            return set_error(err, HVLOG_RELAYD_INVALID,
                             "relayd: stream \"%s\": the path \"%s\" walks up with \"..\"",
                             channel, path);
        p += n;
        if (*p == '/')
            p++;
    }
    return HVLOG_RELAYD_OK;
}

enum hvlog_relayd_status hvlog_relayd_add_stream(struct hvlog_relayd *relayd,
                                                 const char *channel_name, const char *pathname,
                                                 struct hvlog_relayd_stream **out,
                                                 struct hvlog_relayd_error *err)
{
    uint8_t in[relayd_status_stream_WIRE_SIZE] = {0};
    struct relayd_add_stream_tail tail = {0};
    struct relayd_status_stream reply;
    struct hvlog_relayd_stream *s;
    struct iovec iov;
    enum hvlog_relayd_status st;
    char what[RELAYD_CHANNEL_NAME_BYTES + 2];
    uint8_t *buf; /* 4376 bytes: on the heap, not the stack */

    if (!out)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: no place for the stream");
    *out = NULL;
    st = check_usable(relayd, err);
    if (st == HVLOG_RELAYD_OK)
        st = check_stream_names(channel_name, pathname, err);
    if (st != HVLOG_RELAYD_OK)
        return st;
    buf = calloc(1, RELAYD_ADD_STREAM_BYTES);
    s = calloc(1, sizeof *s);
    if (!buf || !s) {
        free(buf);
        free(s);
        return set_error(err, HVLOG_RELAYD_NOMEM, "relayd: out of memory");
    }
    relayd_add_stream_tail_store(put_names(buf, channel_name, RELAYD_CHANNEL_NAME_BYTES, pathname,
                                           RELAYD_PATHNAME_BYTES),
                                 &tail);
    iov.iov_base = buf;
    iov.iov_len = RELAYD_ADD_STREAM_BYTES;
    snprintf(what, sizeof what, "\"%s\"", channel_name);
    st = command(relayd, err, RELAYD_ADD_STREAM, what, &iov, 1, in, sizeof in);
    free(buf);
    if (st == HVLOG_RELAYD_OK) {
        relayd_status_stream_load(&reply, in);
        st = check_ret(relayd, err, RELAYD_ADD_STREAM, what, reply.ret_code);
    }
    if (st != HVLOG_RELAYD_OK) {
        free(s);
        return st;
    }
    s->owner = relayd;
    s->handle = reply.handle;
    /* src/bin/lttng-relayd/stream.c: the channel named "metadata" is the
     * trace's metadata stream. */
    s->metadata = strcmp(channel_name, "metadata") == 0;
    snprintf(s->name, sizeof s->name, "%s", channel_name);
    s->next = relayd->streams;
    relayd->streams = s;
    *out = s;
    return ok(err);
}

enum hvlog_relayd_status hvlog_relayd_streams_sent(struct hvlog_relayd *relayd,
                                                   struct hvlog_relayd_error *err)
{
    enum hvlog_relayd_status st = check_usable(relayd, err);

    if (st == HVLOG_RELAYD_OK)
        st = command_generic(relayd, err, RELAYD_STREAMS_SENT, "", NULL, 0);
    return st == HVLOG_RELAYD_OK ? ok(err) : st;
}

/* The stream is this connection's, open, and of the kind the call needs. */
static enum hvlog_relayd_status check_stream(const struct hvlog_relayd *r,
                                             const struct hvlog_relayd_stream *s, bool metadata,
                                             const char *call, struct hvlog_relayd_error *err)
{
    enum hvlog_relayd_status st = check_usable(r, err);

    if (st != HVLOG_RELAYD_OK)
        return st;
    if (!s || s->owner != r)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: %s: not a stream of this connection",
                         call);
    if (s->closed)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: %s: stream \"%s\" is closed", call,
                         s->name);
    if (s->metadata != metadata)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: %s: stream \"%s\" is %s", call,
                         s->name, s->metadata ? "the metadata stream" : "not a metadata stream");
    return HVLOG_RELAYD_OK;
}

enum hvlog_relayd_status hvlog_relayd_send_metadata(struct hvlog_relayd *relayd,
                                                    struct hvlog_relayd_stream *stream,
                                                    const void *text, size_t len,
                                                    struct hvlog_relayd_error *err)
{
    const uint8_t *p = text;
    enum hvlog_relayd_status st = check_stream(relayd, stream, true, "SEND_METADATA", err);

    if (st != HVLOG_RELAYD_OK)
        return st;
    if (len > 0 && !text)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: SEND_METADATA: no text");
    /* relay_recv_metadata: the payload is the 12-byte stream id and padding,
     * then the text; relayd appends it to the metadata file, no reply. */
    while (len > 0) {
        uint8_t head[relayd_metadata_payload_WIRE_SIZE];
        struct relayd_metadata_payload mp = {.stream_id = stream->handle, .padding_size = 0};
        size_t n = len < RELAYD_METADATA_CHUNK ? len : RELAYD_METADATA_CHUNK;
        struct iovec iov[2] = {{.iov_base = head, .iov_len = sizeof head},
                               {.iov_base = (void *)p, .iov_len = n}};

        relayd_metadata_payload_store(head, &mp);
        st = command(relayd, err, RELAYD_SEND_METADATA, "", iov, 2, NULL, 0);
        if (st != HVLOG_RELAYD_OK)
            return st;
        p += n;
        len -= n;
    }
    return ok(err);
}

/* SEND_INDEX; its reply is owed (head comment, "Pipelined indexes"). */
static enum hvlog_relayd_status send_index(struct hvlog_relayd *r, struct hvlog_relayd_stream *s,
                                           const struct relayd_index *index,
                                           struct hvlog_relayd_error *err)
{
    uint8_t out[relayd_index_WIRE_SIZE];
    struct iovec iov = {.iov_base = out, .iov_len = sizeof out};
    char what[RELAYD_CHANNEL_NAME_BYTES + 2];
    enum hvlog_relayd_status st;

    relayd_index_store(out, index);
    snprintf(what, sizeof what, "\"%s\"", s->name);
    st = command(r, err, RELAYD_SEND_INDEX, what, &iov, 1, NULL, 0);
    if (st != HVLOG_RELAYD_OK)
        return st;
    r->owed++;
    st = settle_replies(r, err, false, 0, 0);
    if (st == HVLOG_RELAYD_OK && r->owed >= HVLOG_RELAYD_INDEXES_IN_FLIGHT)
        st = settle_replies(r, err, true, HVLOG_RELAYD_INDEXES_IN_FLIGHT / 2, now_ms() + r->timeout_ms);
    return st;
}

enum hvlog_relayd_status hvlog_relayd_send_packet(struct hvlog_relayd *relayd,
                                                  struct hvlog_relayd_stream *stream,
                                                  const void *bytes, size_t len,
                                                  const struct hvlog_relayd_index *index,
                                                  struct hvlog_relayd_error *err)
{
    uint8_t hdr_bytes[relayd_data_hdr_WIRE_SIZE];
    struct relayd_data_hdr hdr = {0};
    struct relayd_index wire;
    struct iovec iov[2];
    uint64_t packet_bytes, content_bytes;
    enum io_result res;
    enum hvlog_relayd_status st = check_stream(relayd, stream, false, "SEND_PACKET", err);

    if (st != HVLOG_RELAYD_OK)
        return st;
    if (!bytes || !index)
        return set_error(err, HVLOG_RELAYD_INVALID, "relayd: packet of \"%s\": no bytes or index",
                         stream->name);
    packet_bytes = index->packet_size_bits / 8;
    content_bytes = (index->content_size_bits + 7) / 8;
    /* A zero packet_size is a beacon to relayd (stream_add_index), and the
     * padding relayd writes is packet - data, which must fit 32 bits. */
    if (index->packet_size_bits == 0 || index->packet_size_bits % 8 != 0 ||
        index->content_size_bits > index->packet_size_bits || len < content_bytes ||
        len > packet_bytes || packet_bytes > UINT32_MAX)
        return set_error(err, HVLOG_RELAYD_INVALID,
                         "relayd: packet %llu of \"%s\": %zu bytes do not fit packet_size %llu "
                         "and content_size %llu bits",
                         (unsigned long long)stream->next_seq, stream->name, len,
                         (unsigned long long)index->packet_size_bits,
                         (unsigned long long)index->content_size_bits);

    hdr.stream_id = stream->handle;
    hdr.net_seq_num = stream->next_seq;
    hdr.data_size = (uint32_t)len;
    hdr.padding_size = (uint32_t)(packet_bytes - len);
    relayd_data_hdr_store(hdr_bytes, &hdr);
    iov[0].iov_base = hdr_bytes;
    iov[0].iov_len = sizeof hdr_bytes;
    iov[1].iov_base = (void *)bytes;
    iov[1].iov_len = len;
    res = send_all(relayd->data_fd, iov, 2, now_ms() + relayd->timeout_ms);
    if (res != IO_DONE) {
        char reason[128];

        return fail(relayd, err, io_status(res), "relayd %s: packet %llu of \"%s\": send: %s",
                    relayd->data_peer, (unsigned long long)stream->next_seq, stream->name,
                    io_reason(res, errno, relayd->timeout_ms, reason, sizeof reason));
    }

    wire.relay_stream_id = stream->handle;
    wire.net_seq_num = stream->next_seq;
    wire.packet_size = index->packet_size_bits;
    wire.content_size = index->content_size_bits;
    wire.timestamp_begin = index->timestamp_begin;
    wire.timestamp_end = index->timestamp_end;
    wire.events_discarded = index->events_discarded;
    wire.stream_id = index->stream_id;
    wire.stream_instance_id = index->stream_instance_id;
    wire.packet_seq_num = index->packet_seq_num;
    stream->next_seq++; /* the packet is relayd's now, whatever the index does */
    stream->ctf_stream_id = index->stream_id;
    st = send_index(relayd, stream, &wire, err);
    return st == HVLOG_RELAYD_OK ? ok(err) : st;
}

enum hvlog_relayd_status hvlog_relayd_send_beacon(struct hvlog_relayd *relayd,
                                                  struct hvlog_relayd_stream *stream,
                                                  uint64_t timestamp_end,
                                                  struct hvlog_relayd_error *err)
{
    struct relayd_index wire = {0};
    enum hvlog_relayd_status st = check_stream(relayd, stream, false, "beacon", err);

    if (st != HVLOG_RELAYD_OK)
        return st;
    /* consumer-timer.c send_empty_index: only stream_id and timestamp_end
     * are set; net_seq_num is that of the last packet (UINT64_MAX if none). */
    wire.relay_stream_id = stream->handle;
    wire.net_seq_num = stream->next_seq - 1;
    wire.timestamp_end = timestamp_end;
    wire.stream_id = stream->ctf_stream_id;
    st = send_index(relayd, stream, &wire, err);
    return st == HVLOG_RELAYD_OK ? ok(err) : st;
}

enum hvlog_relayd_status hvlog_relayd_close_stream(struct hvlog_relayd *relayd,
                                                   struct hvlog_relayd_stream *stream,
                                                   struct hvlog_relayd_error *err)
{
    uint8_t out[relayd_close_stream_WIRE_SIZE];
    struct relayd_close_stream msg;
    struct iovec iov = {.iov_base = out, .iov_len = sizeof out};
    enum hvlog_relayd_status st = check_usable(relayd, err);
    char what[RELAYD_CHANNEL_NAME_BYTES + 2];

    if (st != HVLOG_RELAYD_OK)
        return st;
    if (!stream || stream->owner != relayd || stream->closed)
        return set_error(err, HVLOG_RELAYD_INVALID,
                         "relayd: CLOSE_STREAM: not an open stream of this connection");
    /* The last packet's net_seq_num; next_seq 0 wraps to UINT64_MAX, "no
     * packet", which relayd needs to close at once (try_stream_close). */
    msg.stream_id = stream->handle;
    msg.last_net_seq_num = stream->next_seq - 1;
    relayd_close_stream_store(out, &msg);
    snprintf(what, sizeof what, "\"%s\"", stream->name);
    st = command_generic(relayd, err, RELAYD_CLOSE_STREAM, what, &iov, 1);
    if (st != HVLOG_RELAYD_OK)
        return st; /* the connection is broken: the stream with it */
    stream->closed = true;
    return ok(err);
}

uint64_t hvlog_relayd_session_id(const struct hvlog_relayd *relayd)
{
    return relayd ? relayd->session_id : 0;
}

uint32_t hvlog_relayd_protocol_minor(const struct hvlog_relayd *relayd)
{
    return relayd ? relayd->minor : 0;
}

uint64_t hvlog_relayd_stream_packets(const struct hvlog_relayd_stream *stream)
{
    return stream ? stream->next_seq : 0;
}

void hvlog_relayd_destroy(struct hvlog_relayd *relayd)
{
    if (!relayd)
        return;
    close_fds(relayd);
    while (relayd->streams) {
        struct hvlog_relayd_stream *s = relayd->streams;

        relayd->streams = s->next;
        free(s);
    }
    free(relayd);
}
