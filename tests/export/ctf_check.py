#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Read an hvlog CTF export with babeltrace2's Python bindings and check it
against the synthetic trace's expectations (tests/export/synth.h).

    /usr/bin/python3 ctf_check.py CTF_DIR EXPECT_JSON [--skipped]

Debian's python3-bt2 is importable only from /usr/bin/python3. Per LP it
checks: events read + events discarded == events logged; the discarded
count; every field value (Context = lp << 20 | sequence, parameter j =
Context * 256 + j, the escape class's raw bytes); the sequence has no hole
and no repeat (so the packets are in fill order); cpu_id matches the
stream; time never goes back. Exit 0 when every check holds.

--skipped: the export left corrupt buffers out (skip_corrupt), so an LP's
sequence may jump forward past their entries, never back or repeat;
EXPECT_JSON then counts what is left.
"""
import collections
import json
import struct
import sys

import bt2

SPECIAL = ("context", "extra_len", "extra")


def main():
    ctf_dir, expect_path = sys.argv[1], sys.argv[2]
    holes = sys.argv[3:] == ["--skipped"]
    with open(expect_path, encoding="utf-8") as f:
        expect = json.load(f)
    events = collections.Counter()
    escape = collections.Counter()
    discarded = collections.Counter()
    next_seq = collections.defaultdict(int)
    last_ns = {}
    problems = []

    def problem(text):
        if len(problems) < 20:
            problems.append(text)

    for msg in bt2.TraceCollectionMessageIterator(ctf_dir):
        if isinstance(msg, bt2._DiscardedEventsMessageConst):
            if msg.count is None:
                problem(f"stream {msg.stream.id:#x}: a loss babeltrace2 cannot count")
            else:
                discarded[msg.stream.id & 0xFFFFFFFF] += msg.count
            continue
        if not isinstance(msg, bt2._EventMessageConst):
            continue
        ev = msg.event
        lp = int(ev.packet.context_field["cpu_id"])
        if ev.stream.id != (expect["type"] << 32 | lp):
            problem(f"event on stream {ev.stream.id:#x} has cpu_id {lp}")
        ns = msg.default_clock_snapshot.ns_from_origin
        if ns < last_ns.get(lp, ns):
            problem(f"LP {lp}: time goes back to {ns}")
        last_ns[lp] = ns
        fields = ev.payload_field
        ctx = int(fields["context"])
        seq = ctx & 0xFFFFF
        if ctx >> 20 != lp:
            problem(f"LP {lp}: context {ctx:#x} names LP {ctx >> 20}")
        if seq < next_seq[lp] if holes else seq != next_seq[lp]:
            problem(f"LP {lp}: entry {seq} where {next_seq[lp]} was due")
        next_seq[lp] = seq + 1
        events[lp] += 1
        if ev.name == "hvlog:entry":
            escape[lp] += 1
            data = bytes(int(b) for b in fields["data"])
            want = bytes((seq + i) & 0xFF for i in range(12)) + bytes(len(data) - 12)
            if int(fields["entry_type"]) != expect["unknown_type"] or data != want:
                problem(f"LP {lp}: escape entry {seq} has the wrong type or bytes")
            continue
        params = [name for name in fields if name not in SPECIAL]
        for j, name in enumerate(params):
            if int(fields[name]) != ctx * 256 + j:
                problem(f"LP {lp}: {ev.name} entry {seq}: {name} = {int(fields[name]):#x}")
        extra = bytes(int(b) for b in fields["extra"])
        if int(fields["extra_len"]) != len(extra) or (
                extra and extra != struct.pack("<Q", 0xE0E0E0E0E0E0E0E0 ^ seq)):
            problem(f"LP {lp}: {ev.name} entry {seq}: wrong extra bytes")

    for row in expect["lps"]:
        lp = row["lp"]
        if events[lp] != row["events"]:
            problem(f"LP {lp}: {events[lp]} events read, {row['events']} written")
        if discarded[lp] != row["discarded"]:
            problem(f"LP {lp}: {discarded[lp]} discarded, {row['discarded']} lost")
        if events[lp] + discarded[lp] != row["events"] + row["discarded"]:
            problem(f"LP {lp}: read + discarded != logged")
        if escape[lp] != row["escape"]:
            problem(f"LP {lp}: {escape[lp]} escape events, {row['escape']} expected")
    for p in problems:
        print("ctf_check:", p)
    total = sum(events.values())
    print(f"ctf_check: {total} events, {sum(discarded.values())} discarded on "
          f"{len(expect['lps'])} LPs: {'ok' if not problems else 'FAILED'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
