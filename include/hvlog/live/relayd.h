/* SPDX-License-Identifier: MIT */
/*
 * A producer client of LTTng's relay daemon (lttng-relayd): hvlog streams
 * CTF packets to it, and babeltrace2 or Trace Compass read the session live
 * from it (net://HOST:LIVE/host/HOSTNAME/SESSION) while relayd also writes
 * the trace to its output directory. docs/live.md tells how, and which
 * lttng-tools file each protocol fact comes from.
 *
 * hvlog speaks protocol 2.10 (no trace chunks): two TCP connections, the
 * control one (commands and their replies) and the data one (packets).
 *
 *   hvlog_relayd_connect          VERSION, CREATE_SESSION (live timer > 0)
 *   hvlog_relayd_add_stream       ADD_STREAM, once per stream; the trace's
 *                                 metadata stream is the one named "metadata"
 *   hvlog_relayd_streams_sent     STREAMS_SENT: viewers see the streams
 *   hvlog_relayd_send_metadata    SEND_METADATA, TSDL text, append-only
 *   hvlog_relayd_send_packet      data header + packet on the data port,
 *                                 then SEND_INDEX (paired by net_seq_num)
 *   hvlog_relayd_send_beacon      an index of size 0: "nothing until then"
 *   hvlog_relayd_close_stream     CLOSE_STREAM with the last net_seq_num
 *   hvlog_relayd_destroy          closes both connections
 *
 * The protocol has no authentication and no encryption: see docs/live.md
 * for an ssh tunnel.
 *
 * Failures: every call returns a status, and when the caller passes a
 * struct hvlog_relayd_error, one line of English naming the relayd, the
 * command and the reason. Every reply is checked (LTTNG_OK = 10). A relayd
 * that goes away gives HVLOG_RELAYD_IO (never SIGPIPE: every send uses
 * MSG_NOSIGNAL); one that stops answering gives HVLOG_RELAYD_TIMEOUT after
 * the configured time, never a hang. After any I/O or protocol failure the
 * connection is broken: both sockets are closed, and every later call but
 * destroy returns HVLOG_RELAYD_BROKEN with the first failure's message. To
 * go on, destroy the handle and connect again (a new relayd session).
 * SEND_INDEX does not wait for its reply (send_packet, send_beacon): up to
 * HVLOG_RELAYD_INDEXES_IN_FLIGHT replies are read later, so relayd's
 * refusal of an index is returned by a later call, the next command with a
 * reply (close_stream) at the latest.
 *
 * Threads: one connection is used by one thread at a time. Every call may
 * block up to timeout_ms for each wait it makes (send_packet: the packet,
 * the index and, with HVLOG_RELAYD_INDEXES_IN_FLIGHT owed, the replies);
 * a recorder calls it from a thread of its own, never from the one that
 * drains buffers.
 */
#ifndef HVLOG_LIVE_RELAYD_H
#define HVLOG_LIVE_RELAYD_H

#include <stddef.h>
#include <stdint.h>

#include "hvlog/visibility.h"

HVLOG_BEGIN_DECLS

/* Columns: name, value, one-line meaning. */
#define HVLOG_RELAYD_STATUS_TABLE(X)                                                  \
    X(HVLOG_RELAYD_OK, 0, "ok")                                                       \
    X(HVLOG_RELAYD_INVALID, 1, "invalid argument")                                    \
    X(HVLOG_RELAYD_NOMEM, 2, "out of memory")                                         \
    X(HVLOG_RELAYD_RESOLVE, 3, "the relay daemon's address does not resolve")        \
    X(HVLOG_RELAYD_CONNECT, 4, "cannot connect to the relay daemon")                  \
    X(HVLOG_RELAYD_IO, 5, "the connection to the relay daemon failed")               \
    X(HVLOG_RELAYD_TIMEOUT, 6, "the relay daemon did not answer in time")            \
    X(HVLOG_RELAYD_VERSION, 7, "the relay daemon speaks an incompatible protocol")   \
    X(HVLOG_RELAYD_REFUSED, 8, "the relay daemon refused a command")                 \
    X(HVLOG_RELAYD_BROKEN, 9, "the connection broke earlier")

enum hvlog_relayd_status {
#define HVLOG_X_RELAYD_STATUS_ENUM(name, value, text) name = (value),
    HVLOG_RELAYD_STATUS_TABLE(HVLOG_X_RELAYD_STATUS_ENUM)
#undef HVLOG_X_RELAYD_STATUS_ENUM
};

/** hvlog_relayd_status_name - "HVLOG_RELAYD_IO", or NULL outside the table. */
HVLOG_API const char *hvlog_relayd_status_name(enum hvlog_relayd_status status);
/** hvlog_relayd_status_text - the table's one-line meaning, or NULL. */
HVLOG_API const char *hvlog_relayd_status_text(enum hvlog_relayd_status status);

#define HVLOG_RELAYD_MESSAGE_MAX 512u

/* The report of a failing call: its status and one line ("relayd
 * 127.0.0.1:5342: ADD_STREAM \"local_lp0\": reply 2, not LTTNG_OK (10)"). */
struct hvlog_relayd_error {
    enum hvlog_relayd_status status;
    char message[HVLOG_RELAYD_MESSAGE_MAX];
};

#define HVLOG_RELAYD_DEFAULT_CONTROL_PORT 5342u /* lttng-tools configure.ac */
#define HVLOG_RELAYD_DEFAULT_DATA_PORT 5343u
#define HVLOG_RELAYD_DEFAULT_LIVE_PORT 5344u    /* the viewers' port; not used here */
#define HVLOG_RELAYD_DEFAULT_TIMEOUT_MS 5000u
#define HVLOG_RELAYD_DEFAULT_LIVE_TIMER_US 1000000u
#define HVLOG_RELAYD_HOSTNAME_MAX 63u      /* bytes, without the NUL (protocol 2.10) */
#define HVLOG_RELAYD_SESSION_NAME_MAX 254u
#define HVLOG_RELAYD_CHANNEL_NAME_MAX 263u
#define HVLOG_RELAYD_PATHNAME_MAX 4095u

/* Where and what to connect. Zero members take the defaults. */
struct hvlog_relayd_config {
    const char *host;         /* name or address of the relayd; NULL = "127.0.0.1" */
    uint16_t control_port;    /* 0 = 5342 */
    uint16_t data_port;       /* 0 = 5343 */
    /* The viewer's names: net://HOST:LIVE/host/<hostname>/<session_name>.
     * Each must be "path-safe" as relayd requires (it refuses the session
     * otherwise): not empty, no '/' or '\\', not starting with '.'. Both
     * are required. */
    const char *hostname;     /* at most HVLOG_RELAYD_HOSTNAME_MAX bytes */
    const char *session_name; /* at most HVLOG_RELAYD_SESSION_NAME_MAX bytes */
    uint32_t live_timer_us;   /* the producer's flush period; 0 = 1 s. Must
                               * be > 0: relayd refuses live viewers of a
                               * session created with 0 (NOT_LIVE). */
    uint32_t timeout_ms;      /* bound of each call (connect, send, reply);
                               * 0 = 5000. Resolving a host name (DNS) is
                               * not bounded by it: give an address where
                               * that matters. */
};

/**
 * hvlog_relayd_parse_url - read "net://HOST[:CTRL[:DATA]]", the form of
 * `hvlog record --relayd` (and of `lttng create --set-url`), into @config's
 * host and ports; a port left out takes its default (5342, 5343). HOST is
 * a name, an IPv4 address or a bracketed IPv6 one ("net://[::1]:5342").
 * The host is copied into @host_buf (@host_size bytes) and config->host
 * points there. Other members of @config are left alone. Refuses anything
 * else with HVLOG_RELAYD_INVALID and one line in @err (may be NULL).
 */
HVLOG_API enum hvlog_relayd_status hvlog_relayd_parse_url(const char *url,
                                                          struct hvlog_relayd_config *config,
                                                          char *host_buf, size_t host_size,
                                                          struct hvlog_relayd_error *err);

struct hvlog_relayd;
struct hvlog_relayd_stream;

/**
 * hvlog_relayd_connect - open the control and data connections, agree on
 * the protocol version (VERSION: hvlog offers 2.10, both sides use the
 * lower minor, and hvlog refuses below 2.8), and create the live session
 * (CREATE_SESSION). On success *@out is the connection; on failure *@out
 * is NULL, nothing stays open, and @err (may be NULL) says why.
 */
HVLOG_API enum hvlog_relayd_status hvlog_relayd_connect(const struct hvlog_relayd_config *config,
                                                        struct hvlog_relayd **out,
                                                        struct hvlog_relayd_error *err);

/**
 * hvlog_relayd_add_stream - ADD_STREAM. @channel_name names the stream's
 * file ("local_lp0"); the name "metadata" makes it the trace's metadata
 * stream, which takes send_metadata and no packets. @pathname is the
 * directory of the trace under relayd's output (relative, no ".."
 * component); every stream of one trace, its metadata included, has the
 * same one ("HOSTNAME/SESSION" is a good choice). The stream belongs to
 * the connection and is freed by hvlog_relayd_destroy. Viewers see new
 * streams only after hvlog_relayd_streams_sent.
 */
HVLOG_API enum hvlog_relayd_status hvlog_relayd_add_stream(struct hvlog_relayd *relayd,
                                                           const char *channel_name,
                                                           const char *pathname,
                                                           struct hvlog_relayd_stream **out,
                                                           struct hvlog_relayd_error *err);

/** hvlog_relayd_streams_sent - STREAMS_SENT: publish the streams added so
 * far to viewers. Call it again after adding more. */
HVLOG_API enum hvlog_relayd_status hvlog_relayd_streams_sent(struct hvlog_relayd *relayd,
                                                             struct hvlog_relayd_error *err);

/**
 * hvlog_relayd_send_metadata - append @len bytes of TSDL text to the
 * metadata stream @stream (SEND_METADATA; split into pieces of at most
 * 1 MiB). Metadata is append-only: send the whole text once, then only
 * what is added to it. relayd sends no reply to this command, so a refusal
 * shows as a failure of the next call that waits for one.
 */
HVLOG_API enum hvlog_relayd_status hvlog_relayd_send_metadata(struct hvlog_relayd *relayd,
                                                              struct hvlog_relayd_stream *stream,
                                                              const void *text, size_t len,
                                                              struct hvlog_relayd_error *err);

/* What SEND_INDEX says of a packet: the values of its CTF packet context
 * and header, as the packet itself holds them. */
struct hvlog_relayd_index {
    uint64_t packet_size_bits;   /* > 0, a multiple of 8 */
    uint64_t content_size_bits;  /* <= packet_size_bits */
    uint64_t timestamp_begin;    /* clock cycles of the stream's clock */
    uint64_t timestamp_end;
    uint64_t events_discarded;   /* the context's running count */
    uint64_t stream_id;          /* CTF stream class id */
    uint64_t stream_instance_id;
    uint64_t packet_seq_num;
};

/* SEND_INDEX replies that may be owed at once: the call that would owe
 * more waits until half of them have come. */
#define HVLOG_RELAYD_INDEXES_IN_FLIGHT 256u

/**
 * hvlog_relayd_send_packet - send one CTF packet of data stream @stream:
 * the 32-byte data header and @len bytes on the data connection, then
 * SEND_INDEX with @index on the control connection, paired with the packet
 * by the stream's next net_seq_num (0, 1, 2, ...: kept by the connection).
 * @len is at least the content (content_size_bits / 8, rounded up) and at
 * most the packet (packet_size_bits / 8); relayd writes the zero padding
 * between them itself. @len must fit 32 bits.
 */
HVLOG_API enum hvlog_relayd_status hvlog_relayd_send_packet(struct hvlog_relayd *relayd,
                                                            struct hvlog_relayd_stream *stream,
                                                            const void *bytes, size_t len,
                                                            const struct hvlog_relayd_index *index,
                                                            struct hvlog_relayd_error *err);

/**
 * hvlog_relayd_send_beacon - tell viewers that data stream @stream has no
 * event before @timestamp_end (clock cycles): an index of packet_size 0
 * (LTTng's live timer sends the same for an empty stream,
 * src/common/consumer/consumer-timer.c). Without it a viewer waits on an
 * idle stream instead of moving on. relayd uses a beacon only once the
 * stream has had a packet.
 */
HVLOG_API enum hvlog_relayd_status hvlog_relayd_send_beacon(struct hvlog_relayd *relayd,
                                                            struct hvlog_relayd_stream *stream,
                                                            uint64_t timestamp_end,
                                                            struct hvlog_relayd_error *err);

/**
 * hvlog_relayd_close_stream - CLOSE_STREAM with the net_seq_num of the
 * stream's last packet, or UINT64_MAX when it had none (always the case of
 * the metadata stream: closed with 0, relayd keeps waiting for data and the
 * viewer never ends). No call on @stream may follow; it stays owned by the
 * connection.
 */
HVLOG_API enum hvlog_relayd_status hvlog_relayd_close_stream(struct hvlog_relayd *relayd,
                                                             struct hvlog_relayd_stream *stream,
                                                             struct hvlog_relayd_error *err);

/** hvlog_relayd_session_id - the id relayd gave the session. */
HVLOG_API uint64_t hvlog_relayd_session_id(const struct hvlog_relayd *relayd);
/** hvlog_relayd_protocol_minor - the protocol minor both sides use (8..10). */
HVLOG_API uint32_t hvlog_relayd_protocol_minor(const struct hvlog_relayd *relayd);
/** hvlog_relayd_stream_packets - packets sent on @stream so far. */
HVLOG_API uint64_t hvlog_relayd_stream_packets(const struct hvlog_relayd_stream *stream);

/**
 * hvlog_relayd_destroy - close both connections and free everything,
 * streams included. Streams not closed are closed by relayd when it sees
 * the control connection go (it keeps what it received). NULL is a no-op.
 */
HVLOG_API void hvlog_relayd_destroy(struct hvlog_relayd *relayd);

HVLOG_END_DECLS

#endif /* HVLOG_LIVE_RELAYD_H */
