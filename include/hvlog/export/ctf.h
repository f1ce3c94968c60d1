/* SPDX-License-Identifier: MIT */
/*
 * CTF 1.8 export, for babeltrace2 2.0 and Trace Compass (research note
 * §1.1; docs/trace-format.md "CTF export" has the full layout).
 *
 *   OUT/metadata        plain-text TSDL, "/ * CTF 1.8 * /", written last
 *                       (the event classes the packets used)
 *   OUT/local_lp0 ...   one stream file per (log type, LP): <group>_lp<N>
 *
 * One CTF packet per buffer, in fill order (per LP, by the header's
 * TimeStamp). Packet context: packet_size, content_size, timestamp_begin,
 * timestamp_end, events_discarded (a running total of the buffers'
 * EventsLost, so babeltrace2 reports each gap where it happened),
 * packet_seq_num, cpu_id (the LP), buffer_index; a stream whose first
 * buffer reports a loss starts with an empty anchor packet (buffer_index
 * 0xFFFFFFFF), since babeltrace2 cannot count a loss in a first packet.
 * Stream class id = log type. One event class per entry type present, id = the entry type, named
 * from the §4.8 catalogue with a u64 field per catalogue parameter (the
 * entry header's Context first, any bytes past the parameters in a
 * trailing _extra sequence); entries of unknown type, or too short for
 * their parameters, go to the escape class (id 0xFFFF, "hvlog:entry") with
 * their raw bytes. Clocks: the reference basis is a 10 MHz clock whose
 * offset puts time 0 at the hypervisor's start on the Unix epoch (from
 * the group's Initialize SystemTime and the reference time then); the QPC
 * basis gets a clock of the trace's qpc_frequency_hz, anchored the same way
 * by the group's qpc_at_init when the metadata has both (else not
 * absolute); the TSC basis gets a clock of the trace's TSC frequency.
 *
 * Input babeltrace2 would reject is refused, with nothing written: time
 * going backwards within a stream (HVLOG_EXPORT_TIME), groups whose clocks
 * babeltrace2 cannot merge (HVLOG_EXPORT_UNSUPPORTED: export one type).
 */
#ifndef HVLOG_EXPORT_CTF_H
#define HVLOG_EXPORT_CTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hvlog/visibility.h"
#include "hvlog/export/common.h"
#include "hvlog/trace/trace.h"

HVLOG_BEGIN_DECLS

#define HVLOG_CTF_ESCAPE_EVENT_ID 0xFFFFu
#define HVLOG_CTF_ESCAPE_EVENT_NAME "hvlog:entry"

/**
 * hvlog_export_ctf - write the groups of @r selected by @options (NULL:
 * defaults) as the CTF 1.8 directory @out_dir, staged beside it and renamed
 * into place when complete. An existing @out_dir is refused unless
 * options->force, and even then replaced only if it is a CTF directory (it
 * holds "metadata" and plain files only) or empty. @summary may be NULL.
 * Context: reads the trace once to index it, once more to convert; memory
 * is two buffers plus the index.
 */
HVLOG_API enum hvlog_export_status hvlog_export_ctf(const struct hvlog_trace_reader *r,
                                                   const char *out_dir,
                                                   const struct hvlog_export_options *options,
                                                   struct hvlog_export_summary *summary,
                                                   struct hvlog_export_error *err);

/*
 * The same CTF, one buffer at a time (issue 12 "a streaming CTF writer"):
 * what hvlog_export_ctf is a loop over, and what live streaming sends to
 * lttng-relayd. Begin with the trace's metadata; the metadata text
 * declares the clocks, stream classes and event classes; each buffer, as
 * it arrives, becomes one packet (two when a stream's first buffer
 * reports a loss: an empty anchor packet first), with the fields a CTF
 * index entry holds. The writer keeps each (type, LP) stream's sequence
 * number, running events_discarded and time, and refuses time going back
 * within a stream (HVLOG_EXPORT_TIME) as the whole-trace export does.
 */
struct hvlog_ctf_writer;

/* One packet, ready to write or send; bytes valid until the next encode. */
struct hvlog_ctf_packet {
    const uint8_t *bytes;
    size_t len;
    uint64_t packet_size;        /* bits */
    uint64_t content_size;       /* bits (= packet_size: packets are tight) */
    uint64_t timestamp_begin;    /* in the stream's clock */
    uint64_t timestamp_end;
    uint64_t events_discarded;   /* running total of the stream's EventsLost */
    uint64_t stream_id;          /* the log type */
    uint64_t stream_instance_id; /* type << 32 | LP */
    uint64_t packet_seq_num;
    uint32_t lp;
    uint64_t events;             /* entries in it (0 for an anchor) */
};

/**
 * hvlog_ctf_writer_begin - a CTF trace for the groups of @meta that
 * @types selects (bit per log type; 0 = all). @name is the trace's name
 * (env.hostname); @raw_input says the input was a raw buffer file;
 * @tsc_hz is --tsc-hz (0: the trace's). Fails as hvlog_export_ctf does for
 * clocks it cannot write or groups babeltrace2 cannot merge. @meta must
 * outlive the writer.
 */
HVLOG_API enum hvlog_export_status hvlog_ctf_writer_begin(const struct hvlog_trace_meta *meta,
                                                         const char *name, bool raw_input,
                                                         uint32_t types, uint64_t tsc_hz,
                                                         struct hvlog_ctf_writer **out,
                                                         struct hvlog_export_error *err);

/**
 * hvlog_ctf_writer_shift_clocks - move every absolute (Unix-anchored)
 * clock of @w by @ns (a host's clock skew, --clock-offset), before any
 * metadata or packet is written. Non-absolute clocks have no Unix time to
 * move. Fails only when the result leaves the years a CTF clock holds.
 */
HVLOG_API enum hvlog_export_status hvlog_ctf_writer_shift_clocks(struct hvlog_ctf_writer *w,
                                                                 int64_t ns);

/**
 * hvlog_ctf_writer_metadata - the TSDL metadata text (NUL-terminated,
 * valid until the next call or the end). @used_only: only the event
 * classes packets have used so far (for a metadata written last); else
 * every class of the catalogue (for a metadata sent first).
 */
HVLOG_API const char *hvlog_ctf_writer_metadata(struct hvlog_ctf_writer *w, bool used_only,
                                               size_t *len);

/**
 * hvlog_ctf_packet_encode - buffer @bytes (@len bytes, of log @type, in
 * the group's convention) as packets of its LP's stream: *@count (1 or 2)
 * packets in @out, in order. The buffer is checked as the reader checks
 * it (HVLOG_EXPORT_CORRUPT); time going back in the stream is
 * HVLOG_EXPORT_TIME. On failure the stream is unchanged.
 */
HVLOG_API enum hvlog_export_status hvlog_ctf_packet_encode(struct hvlog_ctf_writer *w,
                                                          uint32_t type, const uint8_t *bytes,
                                                          size_t len,
                                                          struct hvlog_ctf_packet out[2],
                                                          uint32_t *count,
                                                          struct hvlog_export_error *err);

/**
 * hvlog_ctf_writer_discard - count @events more as discarded on the stream
 * of (@type, @lp): events the hypervisor delivered in a buffer that never
 * became a packet (a live sender's queue was full, or its relayd went
 * away). The stream's next packet carries them in events_discarded, so a
 * viewer reports the gap where it happened (STYLE habit 11). A stream not
 * seen yet is started; its first packet is then preceded by an anchor, as
 * for a first buffer with EventsLost.
 */
HVLOG_API enum hvlog_export_status hvlog_ctf_writer_discard(struct hvlog_ctf_writer *w, uint32_t type,
                                                           uint32_t lp, uint64_t events,
                                                           struct hvlog_export_error *err);

HVLOG_API void hvlog_ctf_writer_end(struct hvlog_ctf_writer *w);

HVLOG_END_DECLS

#endif /* HVLOG_EXPORT_CTF_H */
