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

# check_trace DIR MODE: decode, stats, CTF through babeltrace2; MODE regular
# requires events + lost == logged per LP, circular allows fewer events in
# the trace than were written (the overwritten ones) but never more.
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
    if mode == "regular":
        assert events == l["recorded"], ("lp", l["lp"], "trace", events, "recorded", l["recorded"])
    else:  # circular: recorded includes entries overwritten later
        assert events <= l["recorded"], ("lp", l["lp"], "trace", events, "recorded", l["recorded"])
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

# Circular mode with the QPC basis (both current only). LocalDiagnostics
# only: the CTF export cannot merge two QPC clocks, which are not absolute
# (docs/trace-format.md section 6). Threshold = buffers, paced: an LP's list
# is rarely due, so it usually reuses its Complete buffers (§11.1). The
# summary line counts what was overwritten; with it the books balance:
# events in the trace + lost + overwritten == logged.
"$hvlog" record --abi current --mode circular --basis qpc --global 0 -o "$work/c" --lps 2 \
    --events 20000 --rate 200000 --buffers 8 --threshold 8 --seed 7 > "$work/c.summary"
circular=$(check_trace "$work/c" circular)
python3 - "$work/c.summary" "$work/c.stats.json" <<'PY' || fail "circular: trace + lost + overwritten != logged: $(cat "$work/c.summary")"
import json, re, sys
line = open(sys.argv[1]).read()
d = json.load(open(sys.argv[2]))
m = re.search(r"recorded (\d+) events .*; (\d+) events lost.*; (\d+) LocalDiagnostics events overwritten", line)
assert m, line
in_trace, lost, overwritten = map(int, m.groups())
assert in_trace == sum(s["events"] for s in d["streams"]), (in_trace, d["streams"])
assert lost == sum(l["lost"] for l in d["lps"]), (lost, d["lps"])
assert in_trace + lost + overwritten == sum(l["logged"] for l in d["lps"]), (in_trace, lost, overwritten)
PY
python3 - "$work/c/hvlog-trace.json" <<'PY' || fail "circular: the QPC basis is not in the metadata"
import json, sys
m = json.load(open(sys.argv[1]))
assert all(g["time_basis"] == 2 for g in m["groups"]), m["groups"]
PY

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
