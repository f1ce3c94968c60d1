/* SPDX-License-Identifier: MIT */
/*
 * CTF 1.8 export, for babeltrace2 2.0 and Trace Compass (research note
 * §1.1; docs/trace-format.md "CTF export" has the full layout).
 *
 *   OUT/metadata        plain-text TSDL, "/ * CTF 1.8 * /", written last
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

HVLOG_END_DECLS

#endif /* HVLOG_EXPORT_CTF_H */
