/* SPDX-License-Identifier: MIT */
/*
 * Perfetto exports: Chrome trace-event JSON (hvlog_export_perfetto), for
 * ui.perfetto.dev and chrome://tracing (research note §1.3;
 * docs/trace-format.md "Perfetto export"), and Perfetto's native protobuf
 * format (hvlog_export_perfetto_proto, below), 2.4 to 3.4 times smaller.
 *
 *   {"displayTimeUnit":"ns",
 *    "otherData":{"tool":"hvlog", ... clocks and anchors ...},
 *    "traceEvents":[
 *      {"ph":"M","name":"process_name","pid":2,"tid":0,"args":{"name":"LocalDiagnostics"}},
 *      {"ph":"M","name":"thread_name","pid":2,"tid":3,"args":{"name":"LP 3"}},
 *      {"ph":"C","name":"events lost LP 3","pid":2,"tid":3,"ts":100.0,"args":{"lost":0}},
 *      {"ph":"i","s":"t","name":"HV_TR_IM_CPUID","cat":"local","ts":1234.5,"pid":2,"tid":3,
 *       "args":{"context":"0x0","rip":"0xfffff800","eax":"0x1","ecx":"0x0"}}, ...]}
 *
 * One process per group (pid = 1 + log type), one thread track per LP
 * (tid = LP), every entry an instant event on its LP's track in fill order,
 * and per LP a counter track "events lost LP N" holding the running total
 * of EventsLost, stepped where each gap was. Parameters are hex strings
 * (64-bit values do not survive JavaScript numbers). ts is in microseconds
 * and printed exactly with integer arithmetic: 100 ns ticks as <us>.<tenth>,
 * TSC ticks converted to ns as <us>.<3 digits>.
 */
#ifndef HVLOG_EXPORT_PERFETTO_H
#define HVLOG_EXPORT_PERFETTO_H

#include "hvlog/visibility.h"
#include "hvlog/export/common.h"
#include "hvlog/trace/trace.h"

HVLOG_BEGIN_DECLS

/**
 * hvlog_export_perfetto - write the groups of @r selected by @options
 * (NULL: defaults) as one JSON file @out_file, streamed (constant memory
 * besides the fill-order index), staged beside it and renamed when
 * complete. An existing @out_file is refused unless options->force.
 * @summary may be NULL.
 */
HVLOG_API enum hvlog_export_status hvlog_export_perfetto(const struct hvlog_trace_reader *r,
                                                        const char *out_file,
                                                        const struct hvlog_export_options *options,
                                                        struct hvlog_export_summary *summary,
                                                        struct hvlog_export_error *err);

/**
 * hvlog_export_perfetto_proto - the same content as hvlog_export_perfetto,
 * as one file @out_file in Perfetto's native protobuf trace format (a
 * sequence of TracePacket: one track per log type, under it one track per
 * LP and its "events lost LP N" counter track; entries as TrackEvent
 * instants with interned names and their parameters as debug annotations;
 * timestamps in ns; docs/trace-format.md has the layout). Streamed, staged
 * and refused exactly as hvlog_export_perfetto. @summary may be NULL.
 */
HVLOG_API enum hvlog_export_status hvlog_export_perfetto_proto(const struct hvlog_trace_reader *r,
                                                              const char *out_file,
                                                              const struct hvlog_export_options *options,
                                                              struct hvlog_export_summary *summary,
                                                              struct hvlog_export_error *err);

/**
 * hvlog_export_perfetto_hosts, hvlog_export_perfetto_proto_hosts - the
 * same exports of @count traces (1..HVLOG_TRACE_MERGE_MAX_HOSTS) of several hosts as one timeline
 * (issue 17). Each host is one level above its log types: in the JSON a
 * process per (host, log type) named "HOST: LocalDiagnostics" (pid = 16 x
 * host index + 1 + type); in the protobuf a track named HOST with its
 * type tracks under it. Times are on the Unix clock: ns since the earliest
 * host's hypervisor start (otherData.timeline in the JSON, the
 * BOOTTIME/REALTIME ClockSnapshot in the protobuf give its Unix time),
 * each host moved by its clock_offset_ns. A group without a wall-clock
 * anchor is refused (HVLOG_EXPORT_UNSUPPORTED, one line naming it): its
 * times cannot be put on that clock. @count 1 is exactly the one-trace
 * export (no host level, no Unix clock; its clock_offset_ns must be 0).
 * options->clock_offset_ns is not used (each host has its own).
 */
HVLOG_API enum hvlog_export_status hvlog_export_perfetto_hosts(const struct hvlog_export_host *hosts,
                                                              uint32_t count, const char *out_file,
                                                              const struct hvlog_export_options *options,
                                                              struct hvlog_export_summary *summary,
                                                              struct hvlog_export_error *err);
HVLOG_API enum hvlog_export_status hvlog_export_perfetto_proto_hosts(
    const struct hvlog_export_host *hosts, uint32_t count, const char *out_file,
    const struct hvlog_export_options *options, struct hvlog_export_summary *summary,
    struct hvlog_export_error *err);

HVLOG_END_DECLS

#endif /* HVLOG_EXPORT_PERFETTO_H */
