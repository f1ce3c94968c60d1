/* SPDX-License-Identifier: MIT */
/*
 * The lttng-relayd producer protocol, version 2.10, byte for byte.
 *
 * Everything on the wire is big-endian and packed (lttng-tools
 * src/common/sessiond-comm/relayd.h, LTTNG_PACKED structs converted with
 * htobe*). Each message below is a host struct plus a field table; the
 * compiler checks that the rows tile the message (HVLOG_WIRE_CHECK_PACKED)
 * and the table generates NAME_load / NAME_store through hvlog_*_be* only.
 * Messages that start with fixed-size name fields (CREATE_SESSION,
 * ADD_STREAM) are a name region followed by an integer tail.
 *
 * Where each fact comes from (lttng-tools, stable-2.13, read not copied):
 *   - command numbers: src/common/sessiond-comm/sessiond-comm.h,
 *     enum lttcomm_relayd_command;
 *   - LTTNG_OK = 10: include/lttng/lttng-error.h;
 *   - message layouts: src/common/sessiond-comm/relayd.h (the _2_4 create
 *     session and _2_2 add stream forms are the ones relayd reads from a
 *     peer whose minor is 4..10: src/bin/lttng-relayd/main.c,
 *     relay_create_session and relay_add_stream);
 *   - the 80-byte index from minor 8 on (64 bytes below):
 *     lttcomm_relayd_index_len and relayd_send_index in
 *     src/common/relayd/relayd.c;
 *   - the name limits (255, 64, 264, 4096): RELAYD_COMM_* in relayd.h;
 *   - the 128 MiB control payload limit: configure.ac,
 *     DEFAULT_NETWORK_RELAYD_CTRL_MAX_PAYLOAD_SIZE.
 */
#ifndef HVLOG_LIVE_RELAYD_WIRE_H
#define HVLOG_LIVE_RELAYD_WIRE_H

#include <stdint.h>

#include "hvlog/abi/wire.h"

/* The protocol version hvlog speaks: 2.10, the last without trace chunks
 * (2.11 adds CREATE_TRACE_CHUNK and variable-length names). relayd adapts
 * to the lower minor of the two (relay_send_version). */
#define RELAYD_PROTO_MAJOR 2u
#define RELAYD_PROTO_MINOR 10u
/* Index of 80 bytes (stream_instance_id, packet_seq_num) from minor 8. */
#define RELAYD_PROTO_MINOR_MIN 8u

#define RELAYD_LTTNG_OK 10u /* include/lttng/lttng-error.h: a success reply */

/* Commands used by a 2.10 producer. Columns: name, number. */
#define RELAYD_COMMAND_TABLE(X)     \
    X(RELAYD_ADD_STREAM, 1)         \
    X(RELAYD_CREATE_SESSION, 2)     \
    X(RELAYD_VERSION, 5)            \
    X(RELAYD_SEND_METADATA, 6)      \
    X(RELAYD_CLOSE_STREAM, 7)       \
    X(RELAYD_SEND_INDEX, 13)        \
    X(RELAYD_STREAMS_SENT, 16)

enum relayd_command {
#define RELAYD_X_COMMAND_ENUM(name, value) name = (value),
    RELAYD_COMMAND_TABLE(RELAYD_X_COMMAND_ENUM)
#undef RELAYD_X_COMMAND_ENUM
};

/* The largest payload relayd accepts on its control connection; bigger
 * metadata is sent in several SEND_METADATA commands (append-only). */
#define RELAYD_CTRL_MAX_PAYLOAD 134217728u
/* What hvlog puts in one SEND_METADATA: well below the limit. */
#define RELAYD_METADATA_CHUNK (1u << 20)

/* Name fields of the 2.4..2.10 forms, NUL-terminated inside. */
#define RELAYD_SESSION_NAME_BYTES 255u /* RELAYD_COMM_LTTNG_NAME_MAX_2_4 */
#define RELAYD_HOSTNAME_BYTES 64u      /* RELAYD_COMM_LTTNG_HOST_NAME_MAX_2_4 */
#define RELAYD_CHANNEL_NAME_BYTES 264u /* RELAYD_COMM_DEFAULT_STREAM_NAME_LEN */
#define RELAYD_PATHNAME_BYTES 4096u    /* RELAYD_COMM_LTTNG_PATH_MAX */

/* lttcomm_relayd_hdr (24): every control command starts with it. */
struct relayd_cmd_hdr {
    uint64_t circuit_id;  /* unused by relayd: 0 */
    uint64_t data_size;   /* payload bytes after this header */
    uint32_t cmd;         /* enum relayd_command */
    uint32_t cmd_version; /* 0 */
};
#define RELAYD_CMD_HDR_FIELDS(X, T) \
    X(T, circuit_id, 0, 64)         \
    X(T, data_size, 8, 64)          \
    X(T, cmd, 16, 32)               \
    X(T, cmd_version, 20, 32)
HVLOG_WIRE_CHECK_PACKED(relayd_cmd_hdr, RELAYD_CMD_HDR_FIELDS, 24)
HVLOG_WIRE_CODEC_BE(relayd_cmd_hdr, RELAYD_CMD_HDR_FIELDS)

/* lttcomm_relayd_data_hdr (32): before each packet on the data port. */
struct relayd_data_hdr {
    uint64_t circuit_id;   /* 0 */
    uint64_t stream_id;    /* the handle ADD_STREAM returned */
    uint64_t net_seq_num;  /* per stream, from 0 */
    uint32_t data_size;    /* bytes that follow */
    uint32_t padding_size; /* zero bytes relayd appends itself */
};
#define RELAYD_DATA_HDR_FIELDS(X, T) \
    X(T, circuit_id, 0, 64)          \
    X(T, stream_id, 8, 64)           \
    X(T, net_seq_num, 16, 64)        \
    X(T, data_size, 24, 32)          \
    X(T, padding_size, 28, 32)
HVLOG_WIRE_CHECK_PACKED(relayd_data_hdr, RELAYD_DATA_HDR_FIELDS, 32)
HVLOG_WIRE_CODEC_BE(relayd_data_hdr, RELAYD_DATA_HDR_FIELDS)

/* lttcomm_relayd_version (8): VERSION's payload and its reply. */
struct relayd_version {
    uint32_t major;
    uint32_t minor;
};
#define RELAYD_VERSION_FIELDS(X, T) \
    X(T, major, 0, 32)              \
    X(T, minor, 4, 32)
HVLOG_WIRE_CHECK_PACKED(relayd_version, RELAYD_VERSION_FIELDS, 8)
HVLOG_WIRE_CODEC_BE(relayd_version, RELAYD_VERSION_FIELDS)

/* lttcomm_relayd_create_session_2_4 (327): session_name[255],
 * hostname[64], then this tail. */
struct relayd_create_session_tail {
    uint32_t live_timer; /* µs; > 0 makes the session live */
    uint32_t snapshot;   /* 0 */
};
#define RELAYD_CREATE_SESSION_TAIL_FIELDS(X, T) \
    X(T, live_timer, 0, 32)                     \
    X(T, snapshot, 4, 32)
HVLOG_WIRE_CHECK_PACKED(relayd_create_session_tail, RELAYD_CREATE_SESSION_TAIL_FIELDS, 8)
HVLOG_WIRE_CODEC_BE(relayd_create_session_tail, RELAYD_CREATE_SESSION_TAIL_FIELDS)
#define RELAYD_CREATE_SESSION_BYTES 327u
_Static_assert(RELAYD_SESSION_NAME_BYTES + RELAYD_HOSTNAME_BYTES +
                       relayd_create_session_tail_WIRE_SIZE == RELAYD_CREATE_SESSION_BYTES,
               "create_session_2_4: names then tail");

/* lttcomm_relayd_status_session (12): CREATE_SESSION's reply below 2.11. */
struct relayd_status_session {
    uint64_t session_id;
    uint32_t ret_code;
};
#define RELAYD_STATUS_SESSION_FIELDS(X, T) \
    X(T, session_id, 0, 64)                \
    X(T, ret_code, 8, 32)
HVLOG_WIRE_CHECK_PACKED(relayd_status_session, RELAYD_STATUS_SESSION_FIELDS, 12)
HVLOG_WIRE_CODEC_BE(relayd_status_session, RELAYD_STATUS_SESSION_FIELDS)

/* lttcomm_relayd_add_stream_2_2 (4376): channel_name[264],
 * pathname[4096], then this tail. */
struct relayd_add_stream_tail {
    uint64_t tracefile_size;  /* 0: one file, no rotation */
    uint64_t tracefile_count; /* 0 */
};
#define RELAYD_ADD_STREAM_TAIL_FIELDS(X, T) \
    X(T, tracefile_size, 0, 64)             \
    X(T, tracefile_count, 8, 64)
HVLOG_WIRE_CHECK_PACKED(relayd_add_stream_tail, RELAYD_ADD_STREAM_TAIL_FIELDS, 16)
HVLOG_WIRE_CODEC_BE(relayd_add_stream_tail, RELAYD_ADD_STREAM_TAIL_FIELDS)
#define RELAYD_ADD_STREAM_BYTES 4376u
_Static_assert(RELAYD_CHANNEL_NAME_BYTES + RELAYD_PATHNAME_BYTES +
                       relayd_add_stream_tail_WIRE_SIZE == RELAYD_ADD_STREAM_BYTES,
               "add_stream_2_2: names then tail");

/* lttcomm_relayd_status_stream (12): ADD_STREAM's reply. */
struct relayd_status_stream {
    uint64_t handle;
    uint32_t ret_code;
};
#define RELAYD_STATUS_STREAM_FIELDS(X, T) \
    X(T, handle, 0, 64)                   \
    X(T, ret_code, 8, 32)
HVLOG_WIRE_CHECK_PACKED(relayd_status_stream, RELAYD_STATUS_STREAM_FIELDS, 12)
HVLOG_WIRE_CODEC_BE(relayd_status_stream, RELAYD_STATUS_STREAM_FIELDS)

/* lttcomm_relayd_generic_reply (4): STREAMS_SENT, SEND_INDEX, CLOSE_STREAM. */
struct relayd_generic_reply {
    uint32_t ret_code;
};
#define RELAYD_GENERIC_REPLY_FIELDS(X, T) X(T, ret_code, 0, 32)
HVLOG_WIRE_CHECK_PACKED(relayd_generic_reply, RELAYD_GENERIC_REPLY_FIELDS, 4)
HVLOG_WIRE_CODEC_BE(relayd_generic_reply, RELAYD_GENERIC_REPLY_FIELDS)

/* lttcomm_relayd_metadata_payload (12): SEND_METADATA's payload starts
 * with it, the TSDL text follows. No reply. */
struct relayd_metadata_payload {
    uint64_t stream_id;    /* the metadata stream's handle */
    uint32_t padding_size; /* 0 */
};
#define RELAYD_METADATA_PAYLOAD_FIELDS(X, T) \
    X(T, stream_id, 0, 64)                   \
    X(T, padding_size, 8, 32)
HVLOG_WIRE_CHECK_PACKED(relayd_metadata_payload, RELAYD_METADATA_PAYLOAD_FIELDS, 12)
HVLOG_WIRE_CODEC_BE(relayd_metadata_payload, RELAYD_METADATA_PAYLOAD_FIELDS)

/* lttcomm_relayd_close_stream (16). */
struct relayd_close_stream {
    uint64_t stream_id;
    uint64_t last_net_seq_num; /* UINT64_MAX: no packet was sent */
};
#define RELAYD_CLOSE_STREAM_FIELDS(X, T) \
    X(T, stream_id, 0, 64)               \
    X(T, last_net_seq_num, 8, 64)
HVLOG_WIRE_CHECK_PACKED(relayd_close_stream, RELAYD_CLOSE_STREAM_FIELDS, 16)
HVLOG_WIRE_CODEC_BE(relayd_close_stream, RELAYD_CLOSE_STREAM_FIELDS)

/* lttcomm_relayd_index (80 from minor 8): SEND_INDEX's payload. */
struct relayd_index {
    uint64_t relay_stream_id;   /* the stream handle */
    uint64_t net_seq_num;       /* pairs it with the data packet */
    uint64_t packet_size;       /* bits; 0 makes it a live beacon */
    uint64_t content_size;      /* bits */
    uint64_t timestamp_begin;   /* clock cycles, as in the packet context */
    uint64_t timestamp_end;
    uint64_t events_discarded;
    uint64_t stream_id;         /* CTF stream class id */
    uint64_t stream_instance_id;
    uint64_t packet_seq_num;
};
#define RELAYD_INDEX_FIELDS(X, T)   \
    X(T, relay_stream_id, 0, 64)    \
    X(T, net_seq_num, 8, 64)        \
    X(T, packet_size, 16, 64)       \
    X(T, content_size, 24, 64)      \
    X(T, timestamp_begin, 32, 64)   \
    X(T, timestamp_end, 40, 64)     \
    X(T, events_discarded, 48, 64)  \
    X(T, stream_id, 56, 64)         \
    X(T, stream_instance_id, 64, 64) \
    X(T, packet_seq_num, 72, 64)
HVLOG_WIRE_CHECK_PACKED(relayd_index, RELAYD_INDEX_FIELDS, 80)
HVLOG_WIRE_CODEC_BE(relayd_index, RELAYD_INDEX_FIELDS)

#endif /* HVLOG_LIVE_RELAYD_WIRE_H */
