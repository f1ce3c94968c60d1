/* SPDX-License-Identifier: MIT */
/*
 * What the trace-side harnesses share (fuzz_trace, fuzz_decode): a private
 * work directory, a structured trace builder that turns fuzz bytes into a
 * valid multi-group trace and then damages it, and parse-backs of the
 * Perfetto outputs (JSON through jansson, protobuf through a wire-format
 * walker written here, independent of src/export/pb_write.c).
 */
#ifndef HVLOG_FUZZ_COMMON_H
#define HVLOG_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Abort with a line on stderr: an invariant failed. */
_Noreturn void fz_die(const char *harness, const char *what);

/* A private directory under /dev/shm (or $TMPDIR), removed at exit. */
const char *fz_workdir(const char *harness);

void fz_write_file(const char *path, const uint8_t *bytes, size_t len);

/*
 * fz_write_trace_dir - a trace directory @dir (made with @mode) straight
 * from fuzz bytes: the metadata text up to the first NUL as
 * hvlog-trace.json, the bytes after it as local.buffers and again as
 * @second (another group's file). Returns the metadata text's length.
 */
size_t fz_write_trace_dir(const char *harness, const char *dir, unsigned mode, const uint8_t *data,
                          size_t size, const char *second);

/*
 * fz_build_trace - a trace directory @dir built by the trace writer from
 * the recipe in @data (issue 13: multi-group traces, system.buffers
 * included). Recipe:
 *   byte 0: bits 0-2 which groups (global, local, system; none = local),
 *           bit 3 drops the wall-clock anchors (system_time 0: groups of
 *           several time bases can no longer share one clock), bit 4 drops
 *           the TSC frequency;
 *   3 bytes per group: lps-1 (bits 0-1; global has one LP), buffers per
 *           LP-1 (bits 2-3), pages-1 (bit 4), current convention (bit 5),
 *           EventsLost (bit 6), swapped release (bit 7); entries per buffer
 *           (bits 0-5), time basis (bits 6-7, modulo 3); time going back
 *           (modulo 3);
 *   then up to 16 damages of 6 bytes: group, u32 offset in its file
 *           (modulo the size), XOR byte (0 = truncate the file there).
 * Returns 0 when the trace exists, -1 when the recipe is too short.
 */
int fz_build_trace(const uint8_t *data, size_t size, const char *dir);

struct hvlog_trace_reader;

/* Entries of the buffers the reader's cursors accept, over every group
 * (and per type in @per_type[3], may be NULL); *@complete (may be NULL)
 * false when a group's cursor does not open. Dies when a rejected buffer
 * delivered entries. */
uint64_t fz_readable_entries(const char *harness, const struct hvlog_trace_reader *r,
                             uint64_t *per_type, bool *complete);

/* The Perfetto JSON file @path parses back with jansson: one object with a
 * "traceEvents" array. Returns the number of "ph":"i" events. Dies if not. */
uint64_t fz_check_perfetto_json(const char *harness, const char *path);

/* The Perfetto protobuf file @path is well-formed wire format: every
 * varint ends within 10 bytes, every length fits its parent exactly, wire
 * types are 0/1/2/5, field numbers are >= 1, and the messages the exporter
 * nests (Trace, TracePacket, ClockSnapshot, TrackEvent, DebugAnnotation,
 * InternedData, TracePacketDefaults, TrackDescriptor) parse exactly.
 * Returns the number of TrackEvents. Dies if not. */
uint64_t fz_check_perfetto_proto(const char *harness, const char *path);

#endif /* HVLOG_FUZZ_COMMON_H */
