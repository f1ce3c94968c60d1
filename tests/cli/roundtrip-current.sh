#!/bin/sh
# roundtrip-current.sh HVLOG WORKDIR: `hvlog record --abi current` (spec §11),
# then what hvlog and babeltrace2 make of the trace. The pattern of
# roundtrip.sh, plus what only the current profile has: the metadata names
# the profile and the header convention (docs/trace-format.md), every buffer
# reads with the current convention (BufferSize = total - 72, D9), Circular
# mode and the QPC basis; and the options the 2013 profile refuses.
set -eu
hvlog=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
fail() { echo "roundtrip-current: $*" >&2; exit 1; }

# check_trace DIR MODE: decode, stats, CTF through babeltrace2; per LP,
# events in the trace + lost + overwritten == logged (lps[].overwritten of
# the metadata), overwritten 0 in regular mode and not all 0 in circular.
check_trace() {
    t=$1 mode=$2
    [ -f "$t/hvlog-trace.json" ] || fail "$t: no trace written"
    python3 - "$t/hvlog-trace.json" <<'PY' || fail "$t: metadata does not say current"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["abi_profile"] == "current", m["abi_profile"]
assert m["groups"], "no groups"
for g in m["groups"]:
    assert g["header_convention"] == "current", g
PY
    # Every buffer's header in the current convention: BufferSize = pages x 4096 - 72.
    python3 - "$t" <<'PY' || fail "$t: a buffer header is not in the current convention"
import json, os, struct, sys
t = sys.argv[1]
m = json.load(open(os.path.join(t, "hvlog-trace.json")))
for g in m["groups"]:
    size = g["buffer_pages"] * 4096
    data = open(os.path.join(t, g["file"]), "rb").read()
    assert len(data) % size == 0, (g["file"], len(data))
    for off in range(0, len(data), size):
        buffer_size, = struct.unpack_from("<I", data, off)
        next_offset, = struct.unpack_from("<I", data, off + 48)
        assert buffer_size == size - 72, (g["file"], off, buffer_size)
        assert next_offset <= buffer_size, (g["file"], off, next_offset)
PY
    "$hvlog" stats --json "$t" > "$t.stats.json"
    python3 - "$t.stats.json" "$mode" <<'PY' || fail "$t: stats do not add up"
import json, sys
d = json.load(open(sys.argv[1]))
mode = sys.argv[2]
assert d["lps"], "no per-LP rows"
for l in d["lps"]:
    local = [s for s in d["streams"] if s["type"] == "local" and s["lp"] == l["lp"]]
    events = sum(s["events"] for s in local)
    assert l["recorded"] + l["lost"] == l["logged"], l
    assert l["lost_no_buffer"] + l["lost_too_large"] == l["lost"], l
    # The books balance from the trace alone: what is in it, what was lost
    # and what Circular mode overwrote (recorded counts those, written
    # before they were overwritten) make up what was logged.
    assert events + l["lost"] + l["overwritten"] == l["logged"], ("lp", l["lp"], "trace", events, l)
    if mode == "regular":
        assert l["overwritten"] == 0, l
if mode == "circular":  # the run is made to reuse Complete buffers
    assert any(l["overwritten"] > 0 for l in d["lps"]), d["lps"]
PY
    events=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(s["events"] for s in d["streams"]))' "$t.stats.json")
    [ "$events" -gt 0 ] || fail "$t: no events in the trace"
    "$hvlog" decode "$t" > "$t.decode.txt" || fail "$t: decode failed"
    lines=$(grep -vc '^\[lost' "$t.decode.txt" || true)
    [ "$lines" -eq "$events" ] || fail "$t: decode printed $lines events, stats counted $events"
    "$hvlog" export "$t" --format ctf -o "$t.ctf" > /dev/null || fail "$t: CTF export failed"
    babeltrace2 "$t.ctf" > "$t.bt.txt" 2> "$t.bt.err" || fail "$t: babeltrace2 failed: $(head -3 "$t.bt.err")"
    if grep -q ERROR "$t.bt.err"; then fail "$t: babeltrace2 reported an error"; fi
    counted=$(babeltrace2 -c sink.utils.counter "$t.ctf" 2>/dev/null | awk '/Event messages/ {n=$1} END {print n}')
    [ "$counted" -eq "$events" ] || fail "$t: babeltrace2 counted $counted events, hvlog $events"
    echo "$events"
}

# Regular mode, few buffers, no pacing: losses happen and must be accounted for.
"$hvlog" record --abi current -o "$work/t" --lps 2 --events 20000 --rate 0 --buffers 4 --seed 7 --quiet
regular=$(check_trace "$work/t" regular)

# Circular mode with the QPC basis (both current only), both groups. The
# metadata anchors QPC (qpc_frequency_hz, each group's qpc_at_init), so the
# CTF clocks are absolute and babeltrace2 merges the two groups
# (docs/trace-format.md section 6). Threshold = buffers, paced: an LP's list
# is rarely due, so it usually reuses its Complete buffers (§11.1). The
# summary line counts what was overwritten; the trace keeps it per LP.
"$hvlog" record --abi current --mode circular --basis qpc -o "$work/c" --lps 2 \
    --events 20000 --rate 200000 --buffers 8 --threshold 8 --seed 7 > "$work/c.summary"
circular=$(check_trace "$work/c" circular)
python3 - "$work/c.summary" "$work/c.stats.json" <<'PY' || fail "circular: the summary line and the trace disagree: $(cat "$work/c.summary")"
import json, re, sys
line = open(sys.argv[1]).read()
d = json.load(open(sys.argv[2]))
m = re.search(r"recorded (\d+) events .*; (\d+) events lost.*; (\d+) LocalDiagnostics events overwritten", line)
assert m, line
in_trace, lost, overwritten = map(int, m.groups())
assert in_trace == sum(s["events"] for s in d["streams"]), (in_trace, d["streams"])
assert lost >= sum(l["lost"] for l in d["lps"]), (lost, d["lps"])  # the line adds the global type's
assert overwritten == sum(l["overwritten"] for l in d["lps"]), (overwritten, d["lps"])
PY
python3 - "$work/c/hvlog-trace.json" <<'PY' || fail "circular: the QPC basis or its anchor is not in the metadata"
import json, sys
m = json.load(open(sys.argv[1]))
assert sorted(g["type"] for g in m["groups"]) == [0, 1], m["groups"]
assert all(g["time_basis"] == 2 for g in m["groups"]), m["groups"]
assert m["qpc_frequency_hz"] == 10000000, m.get("qpc_frequency_hz")
# hvlog's engine stamps QPC with the reference time (spec §11.5).
assert all(g["qpc_at_init"] == g["reference_time_at_init"] for g in m["groups"]), m["groups"]
PY
# Both QPC clocks absolute, and babeltrace2 saw events of both groups.
[ "$(grep -c 'absolute = true;' "$work/c.ctf/metadata")" -eq 2 ] ||
    fail "circular: the QPC clocks of the CTF export are not both absolute"
for g in local global; do
    grep -q "name = ${g}_qpc;" "$work/c.ctf/metadata" || fail "circular: no ${g}_qpc clock"
done
babeltrace2 -c sink.utils.counter "$work/c.ctf" > "$work/c.bt.count" 2>&1 || fail "circular: counter failed"
[ "$(awk '/Stream beginning messages/ {print $1}' "$work/c.bt.count")" -eq 3 ] ||
    fail "circular: babeltrace2 did not merge 2 local and 1 global stream: $(cat "$work/c.bt.count")"
# decode shows QPC entries on the wall clock: HH:MM:SS.fffffff, not ticks.
"$hvlog" decode "$work/c" --time utc > "$work/c.utc.txt"
bad=$(grep -v '^\[lost' "$work/c.utc.txt" | grep -cv '^\[[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]\{7\}\]' || true)
[ "$bad" -eq 0 ] || fail "circular: $bad decoded lines without a wall-clock time: $(grep -v '^\[[0-2]' "$work/c.utc.txt" | head -2)"
# The same trace as an older hvlog wrote it (format version 1, before the
# QPC members and overwritten: per-LP rows at the top, "stats", no "root",
# "closing" or "mode") still reads, and its QPC clocks are not anchored:
# CTF refuses to merge them.
mkdir "$work/old"
cp "$work/c/"*.buffers "$work/old/"
python3 - "$work/c/hvlog-trace.json" "$work/old/hvlog-trace.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["version"] = 1
del m["qpc_frequency_hz"], m["root"]
for g in m["groups"]:
    del g["qpc_at_init"], g["mode"], g["buffers_written"]
m["lps"] = m["host"].pop("lp_counts")
for l in m["lps"]:
    del l["overwritten"]
c = m.pop("closing")
m["stats"] = {k: c[k] for k in ("messages", "buffers", "longest_chain")}
json.dump(m, open(sys.argv[2], "w"), indent=2)
PY
"$hvlog" info --json "$work/old" > "$work/old.info.json" || fail "old: info failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format_version"] == 1 and d["state"] == "finished" and d["host_section"], d' \
    "$work/old.info.json" || fail "old: info does not say version 1, finished, with a host section"
"$hvlog" stats --json "$work/old" > "$work/old.stats.json" || fail "old: stats failed"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert all(l["overwritten"] == 0 for l in d["lps"]), d["lps"]' \
    "$work/old.stats.json" || fail "old: an absent overwritten does not read as 0"
"$hvlog" decode "$work/old" --time utc > "$work/old.utc.txt" || fail "old: decode failed"
grep -q '^\[[0-9]*\] ' "$work/old.utc.txt" || fail "old: decode shows a wall-clock time without the anchor"
if "$hvlog" export "$work/old" --format ctf -o "$work/old.ctf" 2> "$work/old.err" > /dev/null; then
    fail "old: two unanchored QPC groups were exported"
fi
grep -q "babeltrace2 cannot merge" "$work/old.err" || fail "old: $(cat "$work/old.err")"
[ ! -e "$work/old.ctf" ] || fail "old: a refused export left $work/old.ctf"

# What the 2013 profile cannot say is a usage error (exit 2, one line, nothing written).
set +e
for args in "--mode circular" "--basis qpc" "--abi current --sources 0x401" "--abi 2014"; do
    # shellcheck disable=SC2086
    "$hvlog" record $args -o "$work/x" --events 10 --quiet 2> "$work/err"; rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && [ ! -e "$work/x" ] ||
        fail "record $args: exit $rc, $(cat "$work/err")"
done
set -e
echo "roundtrip-current: regular $regular events, circular $circular events; babeltrace2 agrees"
