#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""hvlog export --begin/--end/--lp/--type (issue 18): only the window's events.

    window_check.py HVLOG PROTOC PROTO_DIR FIXTURE_DIR WORKDIR

For each window below, every format is exported with it and judged against
`hvlog decode --json` with the same filters (decode's --begin/--end/--lp
mean the same: raw TimeStamps, both inclusive; a gap's EventsLost belongs
to the window when the entry after the gap is in it):
  - CTF: babeltrace2 (the real reader) prints exactly decode's events, as
    (LP, raw time) pairs read in clock cycles, and reports exactly the
    window's lost events in its "discarded" warnings;
  - Perfetto JSON (parsed exactly, ts as decimals): exactly decode's
    instants, each inside the window, on the window's LPs and types, and
    each LP's "events lost" counter ends at the window's losses;
  - Perfetto protobuf: perfetto_proto_check.py (protoc) finds it equal to
    the JSON, event by event (skipped without protoc, as there);
  - the summary line's "N events lost in the window, M outside it": N is
    the window's, N + M the selected LPs' whole EventsLost (hvlog stats).
A window that holds the whole trace writes the same bytes as no window;
a window that begins after it ends is a usage error (exit 2), an LP the
trace lacks an error (exit 1), each one line on stderr, nothing written.
"""
import decimal
import json
import os
import re
import shutil
import subprocess
import sys

HVLOG, PROTOC, PROTO_DIR, FIXTURE, WORK = sys.argv[1:6]
HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77


def fail(msg):
    print(f"window_check: {msg}", file=sys.stderr)
    sys.exit(1)


def run(args, expect=0):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != expect:
        fail(f"{' '.join(args)}: exit {p.returncode}, expected {expect}: {p.stderr.strip()}")
    return p


def decode(trace, filters):
    """decode's entries [(type, lp, ts)] and its lost events per (type, lp)."""
    out = run([HVLOG, "decode", trace, "--json"] + filters).stdout
    entries, lost = [], {}
    for line in out.splitlines():
        o = json.loads(line)
        if "ts" in o:
            entries.append((o["type"], o["lp"], o["ts"]))
        elif "lost" in o:
            key = (o["lost"], o["lp"])
            lost[key] = lost.get(key, 0) + o["events"]
    return sorted(entries), lost


def stats_lost(trace, types, lp):
    """The whole trace's EventsLost of the selected streams (hvlog stats)."""
    s = json.loads(run([HVLOG, "stats", "--json", trace]).stdout)
    total = 0
    for stream in s["streams"]:
        if (not types or stream["type"] in types) and (lp is None or stream["lp"] == lp):
            total += stream["events_lost"]
    return total


def summary_lost(stdout):
    m = re.search(r"; (\d+) events lost in the window, (\d+) outside it", stdout)
    if not m:
        fail(f"no window losses in the summary line: {stdout.strip()}")
    return int(m.group(1)), int(m.group(2))


def check_ctf(ctf, names, want_entries, want_lost, label):
    bt = shutil.which("babeltrace2") or "babeltrace2"
    p = subprocess.run([bt, "--clock-cycles", ctf], capture_output=True, text=True)
    if p.returncode != 0 or "ERROR" in p.stderr:
        fail(f"{label}: babeltrace2 failed: {p.stderr.strip()[:400]}")
    got = []
    for line in p.stdout.splitlines():
        m = re.match(r"\[(\d+)\] \(\S+\) \S+ \S+: \{ cpu_id = (\d+),", line)
        if not m:
            fail(f"{label}: babeltrace2 line not understood: {line[:200]}")
        got.append((int(m.group(2)), int(m.group(1))))
    want = sorted((lp, ts) for (_, lp, ts) in want_entries)
    if sorted(got) != want:
        fail(f"{label}: babeltrace2 read {len(got)} events, decode's window holds {len(want)}"
             f" (first difference: {next((a, b) for a, b in zip(sorted(got) + [None] * len(want), want + [None] * len(got)) if a != b)})")
    discarded = sum(int(n) for n in re.findall(r"discarded (\d+) events", p.stderr))
    if discarded != want_lost:
        fail(f"{label}: babeltrace2 reports {discarded} discarded events, the window lost {want_lost}")
    return len(got)


def check_json(path, want_entries, lost_by_stream, begin, end, label):
    with open(path) as f:
        doc = json.load(f, parse_float=decimal.Decimal)
    pid_type = {g["pid"]: g for g in doc["otherData"]["groups"]}
    short = {0: "global", 1: "local", 2: "system"}
    got, counters = [], {}
    for ev in doc["traceEvents"]:
        if ev["ph"] not in ("i", "C"):
            continue
        g = pid_type[ev["pid"]]
        # Reference-basis windows only: ts is microseconds of 100 ns ticks, exact.
        if not g["ts_unit"].startswith("microseconds of 100 ns ticks"):
            fail(f"{label}: window tests use reference-basis traces, not {g['ts_unit']}")
        ticks = decimal.Decimal(ev["ts"]) * 10
        if ticks != ticks.to_integral_value():
            fail(f"{label}: ts {ev['ts']} is not a whole tick")
        key = (short[g["type"]], ev["tid"])
        if ev["ph"] == "i":
            if not begin <= ticks <= end:
                fail(f"{label}: instant at tick {ticks} outside the window [{begin}, {end}]")
            got.append((key[0], ev["tid"], int(ticks)))
        else:
            counters[key] = int(ev["args"]["lost"])  # the running total: the last is the sum
    if sorted(got) != want_entries:
        fail(f"{label}: JSON holds {len(got)} instants, decode's window {len(want_entries)}")
    for key in set(counters) | set(lost_by_stream):
        if counters.get(key, 0) != lost_by_stream.get(key, 0):
            fail(f"{label}: {key[0]} LP {key[1]}: counter ends at {counters.get(key, 0)}, the window "
                 f"lost {lost_by_stream.get(key, 0)}")
    return len(got)


def check_proto(pftrace, json_path, label):
    p = subprocess.run([sys.executable, os.path.join(HERE, "perfetto_proto_check.py"), PROTOC,
                        PROTO_DIR, pftrace, json_path], capture_output=True, text=True)
    if p.returncode == SKIP:
        return "protoc missing: protobuf compared by size only"
    if p.returncode != 0:
        fail(f"{label}: perfetto_proto_check: {(p.stdout + p.stderr).strip()}")
    return "protobuf equals the JSON"


def window_case(name, trace, types, lp, begin, end):
    filters = []
    for t in types:
        filters += ["--type", t]
    if lp is not None:
        filters += ["--lp", str(lp)]
    if begin is not None:
        filters += ["--begin", str(begin)]
    if end is not None:
        filters += ["--end", str(end)]
    lo, hi = begin or 0, end if end is not None else 2**64 - 1
    entries, lost = decode(trace, filters)
    want_lost = sum(lost.values())
    whole_lost = stats_lost(trace, types, lp)
    if not entries or whole_lost == 0:
        fail(f"{name}: a weak case: {len(entries)} entries, {want_lost} of {whole_lost} lost")
    outs = {}
    for fmt, ext in (("ctf", "ctf"), ("perfetto", "pftrace"), ("perfetto-json", "json")):
        out = os.path.join(WORK, f"{name}.{ext}")
        stdout = run([HVLOG, "export", trace, "--format", fmt, "-o", out] + filters).stdout
        if f"exported {len(entries)} events " not in stdout:
            fail(f"{name} {fmt}: summary {stdout.strip()!r}, decode's window holds {len(entries)}")
        inside, outside = summary_lost(stdout)
        if inside != want_lost or inside + outside != whole_lost:
            fail(f"{name} {fmt}: {inside} lost in the window and {outside} outside; decode's window "
                 f"lost {want_lost} of the streams' {whole_lost}")
        outs[fmt] = out
    n_ctf = check_ctf(outs["ctf"], None, entries, want_lost, f"{name} ctf")
    n_json = check_json(outs["perfetto-json"], entries, lost, lo, hi, f"{name} perfetto-json")
    proto = check_proto(outs["perfetto"], outs["perfetto-json"], f"{name} perfetto")
    print(f"window_check: {name}: {n_ctf} events and {want_lost} of {whole_lost} lost in the "
          f"window, in CTF (babeltrace2) and JSON; {proto}")


def same_bytes(a, b):
    if os.path.isdir(a):
        fa, fb = sorted(os.listdir(a)), sorted(os.listdir(b))
        return fa == fb and all(same_bytes(os.path.join(a, x), os.path.join(b, x)) for x in fa)
    with open(a, "rb") as x, open(b, "rb") as y:
        return x.read() == y.read()


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    big = os.path.join(FIXTURE, "big.trace")
    two = os.path.join(FIXTURE, "two.trace")
    # One LP of four, a window cutting buffers at both ends: some gaps in
    # it, some outside.
    window_case("big-lp2", big, [], 2, 11100, 20000)
    # Every LP, a window from a time on (no --end).
    window_case("big-from", big, [], None, 30000, None)
    # One type of two (global of local and global), a window up to a time.
    window_case("two-global", two, ["global"], None, None, 10200)
    # A window holding everything changes nothing.
    for fmt, ext in (("ctf", "ctf"), ("perfetto", "pftrace"), ("perfetto-json", "json")):
        a, b = os.path.join(WORK, f"all.{ext}"), os.path.join(WORK, f"all-window.{ext}")
        run([HVLOG, "export", big, "--format", fmt, "-o", a])
        run([HVLOG, "export", big, "--format", fmt, "-o", b, "--begin", "0",
             "--end", str(2**64 - 1)])
        if not same_bytes(a, b):
            fail(f"{fmt}: a window holding the whole trace changed the output")
    # Refusals: one line, nothing written.
    bad = os.path.join(WORK, "bad.json")
    p = run([HVLOG, "export", big, "--format", "perfetto-json", "-o", bad, "--begin", "5",
             "--end", "4"], expect=2)
    if len(p.stderr.splitlines()) != 1 or "--begin 5 is after --end 4" not in p.stderr:
        fail(f"--begin after --end: {p.stderr!r}")
    p = run([HVLOG, "export", big, "--format", "perfetto-json", "-o", bad, "--lp", "77"], expect=1)
    if len(p.stderr.splitlines()) != 1 or "no buffer of LP 77" not in p.stderr:
        fail(f"--lp 77: {p.stderr!r}")
    if os.path.exists(bad):
        fail("a refused window wrote its output")
    print("window_check: a whole-trace window writes the same bytes as none; bad windows refused")


main()
