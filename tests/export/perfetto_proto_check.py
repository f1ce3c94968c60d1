#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check hvlog's Perfetto protobuf export with a real protobuf reader.

    perfetto_proto_check.py PROTOC PROTO_DIR OUT.pftrace OUT.json [HVLOG TRACE]

protoc (Debian's protobuf-compiler) reads the file twice: --decode_raw
(any protobuf reader can walk it) and --decode against our field-number
subset tests/export/perfetto_subset.proto (no unknown field anywhere: every
number and wire type is one we meant). The decoded packets are then
replayed as Perfetto's importer would: per sequence, incremental state
from the packet flagged INCREMENTAL_STATE_CLEARED, interned names, the
track defaults, and the delta clock anchored by its ClockSnapshot. What
that yields must equal the JSON export of the same trace (hvlog's other
Perfetto export, parsed exactly: timestamps as decimals, not floats):
  - per LP track, the same instants in the same order, each with its name,
    its time in ns and every argument;
  - the same "events lost LP N" counter samples (time and value), and an
    "EventsLost" marker at each step of the counter, carrying the step;
  - timestamps never decrease on a sequence; iids are never redefined
    differently; every iid used was interned on its sequence.
With HVLOG TRACE (the exported trace), each (type, LP) stream of
`HVLOG stats --json TRACE` has the events and events_lost that the
protobuf holds for that LP.
Exit 0 with one summary line, 1 with the first problem, 77 (skip) when
protoc is missing.
"""
import decimal
import json
import re
import shutil
import subprocess
import sys

SUBSET = "perfetto_subset.proto"
MESSAGE = "hvlog.perfetto_subset.Trace"
SEQ_CLEARED, SEQ_NEEDS = 1, 2
CLOCK_BOOTTIME, CLOCK_DELTA = 6, 64
LOSS_EVENT = "EventsLost"
SKIP = 77  # CTest SKIP_RETURN_CODE


def fail(msg):
    print(f"perfetto_proto_check: {msg}", file=sys.stderr)
    sys.exit(1)


def parse_text(text):
    """protoc's text format -> nested lists of (key, value) pairs."""
    root = []
    stack = [root]
    token = re.compile(r'\s*(?:(\}|([A-Za-z0-9_]+)\s*\{)|([A-Za-z0-9_]+):\s*("(?:[^"\\]|\\.)*"|\S+))')
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = token.fullmatch(line)
        if not m:
            fail(f"decoded text line {lineno} not understood: {line!r}")
        if m.group(1) == "}":
            stack.pop()
        elif m.group(2):
            if m.group(2).isdigit():
                fail(f"unknown field {m.group(2)} (line {lineno}): not in the subset")
            child = []
            stack[-1].append((m.group(2), child))
            stack.append(child)
        else:
            key, value = m.group(3), m.group(4)
            if key.isdigit():
                fail(f"unknown field {key} (line {lineno}): not in the subset")
            if value.startswith('"'):
                value = bytes(value[1:-1], "utf-8").decode("unicode_escape")
            stack[-1].append((key, value))
    if len(stack) != 1:
        fail("decoded text is not balanced")
    return root


def get(msg, key, default=None):
    for k, v in msg:
        if k == key:
            return v
    return default


def get_all(msg, key):
    return [v for k, v in msg if k == key]


class Sequence:
    def __init__(self):
        self.cleared = False
        self.interned = {"event_categories": {}, "event_names": {}, "debug_annotation_names": {}}
        self.default_track = None
        self.clock_id = None
        self.delta_now = None
        self.last_ns = None


def replay(packets):
    """-> (tracks by uuid, instants by track, counters by track)."""
    seqs, tracks, instants, counters = {}, {}, {}, {}
    for n, (key, p) in enumerate(packets):
        if key != "packet":
            fail(f"top-level field {key}")
        seq_id = int(get(p, "trusted_packet_sequence_id", 0))
        if seq_id == 0:
            fail(f"packet {n} has no trusted_packet_sequence_id")
        seq = seqs.setdefault(seq_id, Sequence())
        flags = int(get(p, "sequence_flags", 0))
        if flags & SEQ_CLEARED:
            seqs[seq_id] = seq = Sequence()
            seq.cleared = True
        elif seq_id != 1 and not flags & SEQ_NEEDS:
            fail(f"packet {n} on sequence {seq_id}: no NEEDS_INCREMENTAL_STATE flag")
        if seq_id != 1 and not seq.cleared:
            fail(f"packet {n} on sequence {seq_id} before its INCREMENTAL_STATE_CLEARED")
        defaults = get(p, "trace_packet_defaults")
        if defaults is not None:
            seq.clock_id = int(get(defaults, "timestamp_clock_id"))
            seq.default_track = int(get(get(defaults, "track_event_defaults"), "track_uuid"))
        interned = get(p, "interned_data")
        if interned is not None:
            for kind, table in seq.interned.items():
                for entry in get_all(interned, kind):
                    iid, name = int(get(entry, "iid")), get(entry, "name")
                    if table.get(iid, name) != name:
                        fail(f"sequence {seq_id}: {kind} iid {iid} is '{table[iid]}' and '{name}'")
                    table[iid] = name
        snapshot = get(p, "clock_snapshot")
        if snapshot is not None:
            clocks = {int(get(c, "clock_id")): c for c in get_all(snapshot, "clocks")}
            if CLOCK_DELTA in clocks:
                delta = clocks[CLOCK_DELTA]
                if get(delta, "is_incremental") != "true":
                    fail(f"sequence {seq_id}: clock {CLOCK_DELTA} is not incremental")
                if get(clocks.get(CLOCK_BOOTTIME, []), "timestamp") != get(delta, "timestamp"):
                    fail(f"sequence {seq_id}: the delta clock is not tied to BOOTTIME")
                seq.delta_now = int(get(delta, "timestamp"))
        td = get(p, "track_descriptor")
        if td is not None:
            uuid = int(get(td, "uuid"))
            if uuid in tracks:
                fail(f"track {uuid} described twice")
            parent = get(td, "parent_uuid")
            tracks[uuid] = {"name": get(td, "name"), "parent": int(parent) if parent else None,
                            "counter": get(td, "counter") is not None}
        te = get(p, "track_event")
        if te is None:
            continue
        ts = get(p, "timestamp")
        if ts is None or seq.clock_id != CLOCK_DELTA or seq.delta_now is None:
            fail(f"packet {n}: an event without a delta-clock timestamp")
        seq.delta_now += int(ts)
        ns = seq.delta_now
        if seq.last_ns is not None and ns < seq.last_ns:
            fail(f"sequence {seq_id}: time goes back ({ns} < {seq.last_ns})")
        seq.last_ns = ns
        track = int(get(te, "track_uuid", seq.default_track or 0))
        if track not in tracks:
            fail(f"packet {n}: event on undescribed track {track}")
        etype = get(te, "type")
        if etype == "TYPE_COUNTER":
            if not tracks[track]["counter"]:
                fail(f"packet {n}: counter value on a non-counter track")
            counters.setdefault(track, []).append((ns, int(get(te, "counter_value"))))
            continue
        if etype != "TYPE_INSTANT" or tracks[track]["counter"]:
            fail(f"packet {n}: {etype} event on track {track}")

        def lookup(kind, iid):
            name = seq.interned[kind].get(int(iid))
            if name is None:
                fail(f"packet {n}: {kind} iid {iid} not interned on sequence {seq_id}")
            return name

        cats = [lookup("event_categories", c) for c in get_all(te, "category_iids")]
        args = {}
        for a in get_all(te, "debug_annotations"):
            name = lookup("debug_annotation_names", get(a, "name_iid"))
            for kind in ("pointer_value", "uint_value", "string_value"):
                v = get(a, kind)
                if v is not None:
                    args[name] = v if kind == "string_value" else int(v)
        instants.setdefault(track, []).append(
            (lookup("event_names", get(te, "name_iid")), ns, tuple(cats), args))
    return tracks, instants, counters


def json_side(path):
    with open(path, encoding="utf-8") as f:
        doc = json.loads(f.read(), parse_float=decimal.Decimal, parse_int=decimal.Decimal)
    procs, tracks = {}, {}
    for ev in doc["traceEvents"]:
        if ev["ph"] == "M" and ev["name"] == "process_name":
            procs[ev["pid"]] = ev["args"]["name"]
    for ev in doc["traceEvents"]:
        if ev["ph"] == "M" and ev["name"] != "thread_name":
            continue  # process_name's tid 0 is no track (an --lp export may lack LP 0)
        key = (procs[ev["pid"]], f"LP {ev['tid']}")
        t = tracks.setdefault(key, {"instants": [], "counters": []})
        if ev["ph"] == "M":
            continue
        ns = int(decimal.Decimal(ev["ts"]) * 1000)
        if decimal.Decimal(ev["ts"]) * 1000 != ns:
            fail(f"JSON ts {ev['ts']} is not a whole ns")
        if ev["ph"] == "C":
            t["counters"].append((ns, int(ev["args"]["lost"])))
            continue
        args = {}
        for k, v in ev["args"].items():
            if isinstance(v, str) and v.startswith("0x"):
                args[k] = int(v, 16)
            elif isinstance(v, str):
                args[k] = v
            else:
                args[k] = int(v)
        t["instants"].append((ev["name"], ns, (ev["cat"],), args))
    return tracks


def main():
    if len(sys.argv) not in (5, 7):
        fail("usage: perfetto_proto_check.py PROTOC PROTO_DIR OUT.pftrace OUT.json [HVLOG TRACE]")
    protoc, proto_dir, pftrace, json_path = sys.argv[1:5]
    if not shutil.which(protoc):
        print(f"SKIP: {protoc} not found (Debian: protobuf-compiler; run scripts/deps)")
        sys.exit(SKIP)
    with open(pftrace, "rb") as f:
        raw = f.read()
    r = subprocess.run([protoc, "--decode_raw"], input=raw, capture_output=True)
    if r.returncode != 0 or not r.stdout:
        fail(f"protoc --decode_raw failed: {r.stderr.decode(errors='replace').strip()}")
    r = subprocess.run([protoc, f"--decode={MESSAGE}", "-I", proto_dir, SUBSET], input=raw,
                       capture_output=True)
    if r.returncode != 0:
        fail(f"protoc --decode failed: {r.stderr.decode(errors='replace').strip()}")
    tracks, instants, counters = replay(parse_text(r.stdout.decode("utf-8")))

    # The proto's LP tracks, keyed as the JSON's: (type track name, "LP N");
    # several hosts: a type track's parent is its host's track, and the
    # JSON's process is named "HOST: TYPE".
    proto = {}
    for uuid, t in tracks.items():
        if t["counter"] or t["parent"] is None or not t["name"].startswith("LP "):
            continue
        group = tracks[t["parent"]]
        if group["parent"] is not None:
            host = tracks[group["parent"]]
            if host["parent"] is not None or host["counter"]:
                fail(f"{host['name']}: a host track under another track")
            key = (f"{host['name']}: {group['name']}", t["name"])
        else:
            key = (group["name"], t["name"])
        counter = [u for u, c in tracks.items() if c["parent"] == uuid and c["counter"]]
        if len(counter) != 1 or tracks[counter[0]]["name"] != f"events lost {t['name']}":
            fail(f"{key}: no single 'events lost {t['name']}' counter track under it")
        proto[key] = {"instants": instants.get(uuid, []), "counters": counters.get(counter[0], [])}
    expected = json_side(json_path)
    if set(proto) != set(expected):
        fail(f"tracks differ: protobuf {sorted(proto)}, JSON {sorted(expected)}")
    events = markers = samples = 0
    for key in sorted(proto):
        p, j = proto[key], expected[key]
        entries = [e for e in p["instants"] if e[0] != LOSS_EVENT]
        marks = [e for e in p["instants"] if e[0] == LOSS_EVENT]
        if len(entries) != len(j["instants"]):
            fail(f"{key}: {len(entries)} events in the protobuf, {len(j['instants'])} in the JSON")
        for i, (a, b) in enumerate(zip(entries, j["instants"])):
            if a != b:
                fail(f"{key}: event {i} differs:\n  protobuf {a}\n  JSON     {b}")
        if p["counters"] != j["counters"]:
            fail(f"{key}: counter samples differ:\n  protobuf {p['counters']}\n  JSON     {j['counters']}")
        steps, before = [], 0
        for ns, value in p["counters"]:
            if value != before:
                steps.append((ns, value - before))
            before = value
        got = [(ns, args.get("lost")) for _, ns, _, args in marks]
        if got != steps:
            fail(f"{key}: EventsLost markers {got}, counter steps {steps}")
        events += len(entries)
        markers += len(marks)
        samples += len(p["counters"])

    if len(sys.argv) == 7:
        r = subprocess.run([sys.argv[5], "stats", "--json", sys.argv[6]], capture_output=True)
        if r.returncode != 0:
            fail(f"hvlog stats failed: {r.stderr.decode(errors='replace').strip()}")
        stats = json.loads(r.stdout)
        type_names = {}
        for (proc, _), t in proto.items():
            for _, _, cats, _ in t["instants"]:
                type_names[cats[0]] = proc
        for s in stats["streams"]:
            key = (type_names.get(s["type"]), f"LP {s['lp']}")
            t = proto.get(key)
            if t is None:
                if s["events"] or s["events_lost"]:
                    fail(f"stats has {s['type']} LP {s['lp']}, the protobuf has no track for it")
                continue
            n = len([e for e in t["instants"] if e[0] != LOSS_EVENT])
            lost = t["counters"][-1][1] if t["counters"] else 0
            if (n, lost) != (s["events"], s["events_lost"]):
                fail(f"{key}: stats says {s['events']} events, {s['events_lost']} lost; "
                     f"the protobuf holds {n}, {lost}")
    print(f"perfetto_proto_check: {events} events, {markers} loss markers, {samples} counter "
          f"samples on {len(proto)} LP tracks agree with the JSON export"
          f"{' and stats' if len(sys.argv) == 7 else ''}; {len(raw)} bytes")


if __name__ == "__main__":
    main()
