#!/bin/sh
# roundtrip.sh HVLOG WORKDIR: record a small trace, check what hvlog reports
# about it against itself and against babeltrace2 reading the CTF export.
set -eu
hvlog=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
fail() { echo "roundtrip: $*" >&2; exit 1; }

# Few buffers and no pacing: losses happen, and must be accounted for.
"$hvlog" record -o "$work/t" --lps 2 --events 20000 --rate 0 --buffers 4 --seed 7 --quiet
[ -f "$work/t/hvlog-trace.json" ] || fail "no trace written"

"$hvlog" stats --json "$work/t" > "$work/stats.json"
events=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(s["events"] for s in d["streams"]))' "$work/stats.json")
lost=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(s["events_lost"] for s in d["streams"]))' "$work/stats.json")
# Per LP: events in the trace + EventsLost in headers + loss never written
# into a header (after the last buffer) == logged. The trace holds the first
# two; the metadata the producers' counts.
python3 - "$work/stats.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
# Per-LP rows are LocalDiagnostics (its scopes are the LPs).
for l in d["lps"]:
    local = [s for s in d["streams"] if s["type"] == "local" and s["lp"] == l["lp"]]
    events = sum(s["events"] for s in local)
    assert l["recorded"] + l["lost"] == l["logged"], l
    assert l["lost_no_buffer"] + l["lost_too_large"] == l["lost"], l
    assert events == l["recorded"], ("lp", l["lp"], "trace", events, "recorded", l["recorded"])
PY

"$hvlog" decode "$work/t" > "$work/decode.txt"
lines=$(grep -vc '^\[lost' "$work/decode.txt" || true)
[ "$lines" -eq "$events" ] || fail "decode printed $lines events, stats counted $events"

# --event by short name ("CPUID"), full name and number select the same lines.
"$hvlog" decode "$work/t" --event CPUID > "$work/cpuid1.txt"
"$hvlog" decode "$work/t" --event HV_TR_IM_CPUID > "$work/cpuid2.txt"
"$hvlog" decode "$work/t" --event 0x27 > "$work/cpuid3.txt"
[ -s "$work/cpuid1.txt" ] && cmp -s "$work/cpuid1.txt" "$work/cpuid2.txt" &&
    cmp -s "$work/cpuid1.txt" "$work/cpuid3.txt" || fail "--event CPUID, HV_TR_IM_CPUID and 0x27 differ"
grep -v '^\[lost' "$work/cpuid1.txt" | grep -vq 'HV_TR_IM_CPUID' && fail "--event CPUID let other events through"

"$hvlog" export "$work/t" --format ctf -o "$work/ctf" > /dev/null
babeltrace2 "$work/ctf" > "$work/bt.txt" 2> "$work/bt.err" || fail "babeltrace2 failed: $(head -3 "$work/bt.err")"
grep -q ERROR "$work/bt.err" && fail "babeltrace2 reported an error"
counted=$(babeltrace2 -c sink.utils.counter "$work/ctf" 2>/dev/null | awk '/Event messages/ {n=$1} END {print n}')
[ "$counted" -eq "$events" ] || fail "babeltrace2 counted $counted events, hvlog $events"

# Perfetto: per track (pid = 1 + log type, tid = LP) the instant events are
# stats' events of that (type, LP), the track is named, its lost counter
# ends at stats' events_lost, and its times are decode's raw time stamps
# (reference basis: ts in microseconds = stamp / 10), in order.
"$hvlog" export "$work/t" --format perfetto-json -o "$work/t.json" > /dev/null
"$hvlog" decode "$work/t" --json > "$work/decode.jsonl"
python3 - "$work/t.json" "$work/stats.json" "$work/decode.jsonl" <<'PY' || fail "Perfetto export disagrees with stats or decode"
import json, sys
from collections import defaultdict
pf = json.load(open(sys.argv[1]))
st = json.load(open(sys.argv[2]))
types = {"global": 0, "local": 1, "system": 2}
inst, names, lost, ts = defaultdict(int), {}, defaultdict(int), defaultdict(list)
for e in pf["traceEvents"]:
    k = (e["pid"], e["tid"])
    if e["ph"] == "i":
        inst[k] += 1
        ts[k].append(round(e["ts"] * 10))
    elif e["ph"] == "M" and e["name"] == "thread_name":
        names[k] = e["args"]["name"]
    elif e["ph"] == "C":
        lost[k] = e["args"]["lost"]
want = {(1 + types[s["type"]], s["lp"]): s for s in st["streams"]}
assert set(inst) == {k for k, s in want.items() if s["events"]}, (sorted(inst), sorted(want))
raw = defaultdict(list)
for line in open(sys.argv[3]):
    d = json.loads(line)
    if "ts" in d:
        raw[(1 + types[d["type"]], d["lp"])].append(d["ts"])
for k, s in want.items():
    assert inst[k] == s["events"], (k, inst[k], s)
    assert lost[k] == s["events_lost"], (k, lost[k], s)
    if s["events"]:
        assert names[k] == "LP %d" % s["lp"], (k, names.get(k))
        assert ts[k] == sorted(ts[k]), ("track goes back", k)
        assert sorted(ts[k]) == sorted(raw[k]), ("times differ from decode", k)
PY
# The default Perfetto export is protobuf; protoc (when installed) reads it.
"$hvlog" export "$work/t" --format perfetto -o "$work/t.pftrace" > /dev/null
if command -v protoc > /dev/null 2>&1; then
    protoc --decode_raw < "$work/t.pftrace" > /dev/null || fail "protoc --decode_raw cannot read the Perfetto export"
fi

# Bad input: one line on stderr, the documented exit code, nothing left behind.
set +e
"$hvlog" export "$work/t" --format ctf -o "$work/ctf" > /dev/null 2> "$work/err1"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$work/err1")" -eq 1 ] || fail "existing output: exit $rc, $(cat "$work/err1")"
"$hvlog" decode "$work/nonexistent" > /dev/null 2> "$work/err2"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$work/err2")" -eq 1 ] || fail "missing trace: exit $rc"
head -c 5000 "$work/t/local.buffers" > "$work/truncated.buffers"
"$hvlog" export "$work/truncated.buffers" --format ctf -o "$work/ctf2" > /dev/null 2> "$work/err3"; rc=$?
[ $rc -eq 1 ] && [ ! -e "$work/ctf2" ] || fail "truncated input: exit $rc, output left: $(ls "$work")"
"$hvlog" record --lps 0 -o "$work/x" 2> "$work/err4"; rc=$?
[ $rc -eq 2 ] && [ ! -e "$work/x" ] || fail "bad option: exit $rc"
"$hvlog" record -o "$work/t" --events 10 --quiet 2> "$work/err5"; rc=$?
[ $rc -eq 1 ] || fail "record over an existing trace without --force: exit $rc"
"$hvlog" decode "$work/t" --event WRITE > /dev/null 2> "$work/err6"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l < "$work/err6")" -eq 1 ] || fail "ambiguous --event WRITE: exit $rc"
set -e
echo "roundtrip: $events events, $lost lost; babeltrace2 agrees"
