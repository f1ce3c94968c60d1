#!/bin/sh
# record_mshv.sh HVLOG FAKE_LIB WORKDIR: `hvlog record --from /dev/mshv_diag`
# end to end against the emulated device (tests/capture/fake_mshv.c, an
# LD_PRELOAD library; issue #14 items 3-4):
#   - record (trace + diaglog), decode, stats, export CTF, babeltrace2 reads
#     it and counts what stats counts; per LP, conservation against the
#     emulated host's report: events read + EventsLost read + discarded by
#     STOP + stranded + lost pending == logged;
#   - the time anchor: with /dev/cpu/N/msr the trace is anchored, without
#     it the metadata and `info` say there is no reference anchor;
#   - the diaglog records file: info counts it, the configuration record
#     of HvCallLogHypervisorSystemConfig (0x00F8) is in it;
#   - every refusal: one line on stderr, exit 1 (2 for usage), no trace;
#   - --reuse / --reset against a state a dead recorder left behind;
#   - a driver that returns short reads and EINTR: same conservation;
#   - EIO, an early end of file, a buffer cut short, a buffer of the wrong
#     size: one clear line, exit 1, and the trace keeps every whole buffer
#     read before it;
#   - --events and SIGINT stop the recording, which ends finished.
# LD_PRELOAD is given to hvlog alone (never to a shell or env: the library
# takes itself out of LD_PRELOAD for child processes, and in a sanitizer
# tree only the instrumented hvlog carries the runtime it needs).
# Time budget: about 20 s on the shared 2-core machine.
set -eu
hvlog=$1 fake=$2 work=$3
rm -rf "$work"; mkdir -p "$work"
fail() { echo "record_mshv: $*" >&2; exit 1; }
dev=/dev/mshv_diag
[ -e "$dev" ] && { echo "record_mshv: SKIP: a real $dev exists here; this test emulates it"; exit 77; }

# rec NAME ARGS...: record into $work/NAME through the emulated device.
rec() {
    name=$1; shift
    set +e
    HVLOG_FAKE_MSHV_REPORT="$work/$name.report" LD_PRELOAD="$fake" \
        "$hvlog" record --from "$dev" -o "$work/$name" --quiet "$@" \
        > "$work/$name.out" 2> "$work/$name.err"
    rc=$?
    set -e
}

# conserve NAME: per LP, the trace's events and EventsLost plus the host's
# discarded / stranded / pending terms equal what the host logged.
conserve() {
    "$hvlog" stats --json "$work/$1" > "$work/$1.stats" 2> /dev/null
    python3 - "$work/$1.stats" "$work/$1.report" <<'PY' || fail "$1: conservation does not hold"
import json, sys
st = json.load(open(sys.argv[1]))
host = {}
for line in open(sys.argv[2]):
    f = line.split()
    if f and f[0] == "lp":
        host[int(f[1])] = {f[i]: int(f[i + 1]) for i in range(2, len(f) - 1, 2)}
assert host, "no report from the emulated host"
for lp, h in host.items():
    s = [x for x in st["streams"] if x["type"] == "local" and x["lp"] == lp]
    read = sum(x["events"] for x in s)
    lost = sum(x["events_lost"] for x in s)
    terms = (read, lost, h["discarded_entries"], h["discarded_lost"], h["stranded_entries"],
             h["stranded_lost"], h["lost_pending"])
    assert sum(terms) == h["logged"], ("lp", lp, "read, lost, discarded, discarded_lost, "
                                       "stranded, stranded_lost, pending", terms, "logged", h["logged"])
print("lps", len(host), "events", sum(x["events"] for x in st["streams"]))
PY
}

one_line() { # one_line NAME WANT_RC PATTERN: exit code, one stderr line matching
    [ "$rc" -eq "$2" ] || fail "$1: exit $rc, want $2: $(cat "$work/$1.err")"
    [ "$(wc -l < "$work/$1.err")" -eq 1 ] || fail "$1: not one line on stderr: $(cat "$work/$1.err")"
    grep -q -- "$3" "$work/$1.err" || fail "$1: '$3' not in: $(cat "$work/$1.err")"
}

# ---- the whole path, anchored, with the diaglog ----
HVLOG_FAKE_MSHV_MSR=1; export HVLOG_FAKE_MSHV_MSR
rec t --duration 1500 --diaglog --threshold 1
if [ $rc -ne 0 ] && grep -q "not a Hyper-V root partition" "$work/t.err"; then
    echo "record_mshv: SKIP: the emulated device did not load into hvlog (LD_PRELOAD refused in this build: $(head -1 "$work/t.err"))"
    exit 77
fi
[ $rc -eq 0 ] || fail "record: exit $rc: $(cat "$work/t.err")"
conserve t > "$work/t.conserve"
events=$(python3 -c 'import json,sys; print(sum(s["events"] for s in json.load(open(sys.argv[1]))["streams"]))' "$work/t.stats")
[ "$events" -gt 0 ] || fail "no events recorded"
"$hvlog" decode "$work/t" > "$work/t.decode" 2> /dev/null
# The buffers' entries: the lines before the records' marker, less the loss lines.
lines=$(sed '/^\[--- system records/,$d' "$work/t.decode" | grep -vc '^\[lost' || true)
[ "$lines" -eq "$events" ] || fail "decode printed $lines events, stats counted $events"
"$hvlog" export "$work/t" --format ctf -o "$work/t.ctf" > /dev/null 2>&1 || fail "CTF export failed"
babeltrace2 "$work/t.ctf" > /dev/null 2> "$work/bt.err" || fail "babeltrace2: $(head -3 "$work/bt.err")"
counted=$(babeltrace2 -c sink.utils.counter "$work/t.ctf" 2>/dev/null | awk '/Event messages/ {n=$1} END {print n}')
[ "$counted" -eq "$events" ] || fail "babeltrace2 counted $counted events, stats $events"
"$hvlog" info "$work/t" > "$work/t.info"
grep -q '^state: *finished' "$work/t.info" || fail "info: not finished"
grep -q '^host: *none' "$work/t.info" || fail "info: a host section in a real root's trace"
grep -q '^anchor:' "$work/t.info" && fail "info: no anchor, though /dev/cpu/0/msr answered"
python3 - "$work/t" <<'PY' || fail "metadata or records file wrong"
import json, struct, sys
d = sys.argv[1]
m = json.load(open(d + "/hvlog-trace.json"))
assert "host" not in m, "host section"
g = m["groups"][0]
assert g["type"] == 1 and g["header_convention"] == "current" and g["threshold"] == 1, g
assert g.get("reference_anchor", True) is True and g["system_time"] > 0, g
r = m["records"][0]
assert r["file"] == "system.records" and r["time_unit"] == "unix_seconds", r
b = open(d + "/system.records", "rb").read()
n, off, types = 0, 0, {}
while off + 16 <= len(b):
    ctx, size, typ, ts = struct.unpack_from("<IHHQ", b, off)
    assert size >= 16 and off + size <= len(b), ("record", n, size)
    types[typ] = types.get(typ, 0) + 1
    off += size
    n += 1
assert off == len(b), "torn records file"
assert n == r["records_written"], (n, r)
assert types.get(0x1D02) == 1, ("one configuration record (0x00F8)", types)
PY
grep -q "^records: .* ($(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"][0]["records_written"])' "$work/t/hvlog-trace.json") written)" "$work/t.info" ||
    fail "info does not count the records"
# decode prints every record after the buffers' entries, behind a marker,
# each with its catalogue name and no LP; the exports say they leave them out.
"$hvlog" decode "$work/t" --json > "$work/t.jsonl" || fail "decode of a trace with records failed"
python3 - "$work/t" "$work/t.jsonl" <<'PY' || fail "decode does not print the records"
import json, sys
m = json.load(open(sys.argv[1] + "/hvlog-trace.json"))
rows = [json.loads(l) for l in open(sys.argv[2])]
at = [i for i, r in enumerate(rows) if r.get("records") == "system"]
assert len(at) == 1, "one records marker"
recs = rows[at[0] + 1:]
assert all(r.get("record") is True and "lp" not in r for r in recs), recs[:2]
assert len(recs) == m["records"][0]["records_written"], (len(recs), m["records"][0])
assert sum(1 for r in recs if r["entry_type"] == 0x1D02) == 1, "the configuration record"
assert not any(r.get("record") for r in rows[:at[0]]), "records before the marker"
PY
"$hvlog" decode "$work/t" --lp 0 | grep -q "records" && fail "decode --lp 0 printed records (they name no LP)"
"$hvlog" stats --json "$work/t" | python3 -c '
import json, sys
s = json.load(sys.stdin); m = json.load(open(sys.argv[1] + "/hvlog-trace.json"))
assert s["records"] == [{"type": "system", "file": "system.records", "records": m["records"][0]["records_written"]}], s["records"]
' "$work/t" || fail "stats does not count the records"
rm -rf "$work/t.ctf"
"$hvlog" export "$work/t" --format ctf -o "$work/t.ctf" 2>&1 > /dev/null | grep -q "system.records.*does not read yet" ||
    fail "export does not say it leaves the records out"

# ---- no /dev/cpu/N/msr: no reference anchor, and info says so ----
unset HVLOG_FAKE_MSHV_MSR
rec noanchor --duration 500
[ $rc -eq 0 ] || fail "record without msr: exit $rc: $(cat "$work/noanchor.err")"
"$hvlog" info "$work/noanchor" | grep -q '^anchor: *none for local.*SystemTime alone' ||
    fail "info does not say there is no reference anchor"
grep -q '"reference_anchor": false' "$work/noanchor/hvlog-trace.json" || fail "metadata keeps no anchor flag"
"$hvlog" decode "$work/noanchor" > /dev/null || fail "decode of an unanchored trace"
HVLOG_FAKE_MSHV_MSR=1; export HVLOG_FAKE_MSHV_MSR

# ---- refusals: one line, exit 1, nothing left ----
refuse() { # refuse NAME PATTERN ENV...
    name=$1 pattern=$2; shift 2
    for kv in "$@"; do export "$kv"; done
    rec "$name" --duration 300
    for kv in "$@"; do unset "${kv%%=*}"; done
    one_line "$name" 1 "$pattern"
    [ ! -e "$work/$name" ] || fail "$name: a trace was left behind"
}
refuse missing "not a Hyper-V root partition, or the mshv_diag driver is not loaded" HVLOG_FAKE_MSHV_MISSING=1
refuse eacces "needs root" HVLOG_FAKE_MSHV_EACCES=1
refuse eperm "needs root" HVLOG_FAKE_MSHV_OPEN=EPERM
refuse ebusy "another tracer is attached" HVLOG_FAKE_MSHV_FAIL=MSHV_TRACE_STATE_ATTACH:EBUSY
refuse eexist "use --reuse to attach to it or --reset to destroy it first" HVLOG_FAKE_MSHV_LEFTOVER=1
kernel=$(uname -r)
refuse enotty "MSHV_GET_TRACE_FD: .*kernel $kernel" HVLOG_FAKE_MSHV_FAIL=MSHV_GET_TRACE_FD:ENOTTY
refuse einval "MSHV_TRACE_STATE_CREATE: .*kernel $kernel" HVLOG_FAKE_MSHV_FAIL=MSHV_TRACE_STATE_CREATE:EINVAL
refuse startinval "MSHV_TRACE_START: .*kernel $kernel" HVLOG_FAKE_MSHV_FAIL=MSHV_TRACE_START:EINVAL
set +e
"$hvlog" record --diaglog -o "$work/usage" 2> "$work/usage.err"; rc=$?
set -e
one_line usage 2 "need --from DEVICE"
set +e
"$hvlog" record --from "$dev" --reuse --reset -o "$work/usage" 2> "$work/usage.err"; rc=$?
set -e
one_line usage 2 "exclude each other"

# ---- a state left behind: --reuse attaches to it, --reset replaces it ----
export HVLOG_FAKE_MSHV_LEFTOVER=1
rec reuse --duration 700 --reuse
[ $rc -eq 0 ] || fail "--reuse: exit $rc: $(cat "$work/reuse.err")"
python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["groups"][0]; assert (g["buffer_count"], g["buffer_pages"]) == (8, 2), g' \
    "$work/reuse/hvlog-trace.json" || fail "--reuse did not keep the state's configuration"
rec reset --duration 700 --reset --buffers 12
[ $rc -eq 0 ] || fail "--reset: exit $rc: $(cat "$work/reset.err")"
python3 -c 'import json,sys; g=json.load(open(sys.argv[1]))["groups"][0]; assert (g["buffer_count"], g["buffer_pages"]) == (12, 4), g' \
    "$work/reset/hvlog-trace.json" || fail "--reset did not create ours"
conserve reset > /dev/null
unset HVLOG_FAKE_MSHV_LEFTOVER

# ---- short reads and EINTR from the driver: nothing lost ----
HVLOG_FAKE_MSHV_SHORT=1000 HVLOG_FAKE_MSHV_EINTR=2; export HVLOG_FAKE_MSHV_SHORT HVLOG_FAKE_MSHV_EINTR
rec short --duration 1000
unset HVLOG_FAKE_MSHV_SHORT HVLOG_FAKE_MSHV_EINTR
[ $rc -eq 0 ] || fail "short reads and EINTR: exit $rc: $(cat "$work/short.err")"
conserve short > /dev/null
"$hvlog" decode "$work/short" > /dev/null || fail "decode after short reads"

# ---- what the driver can do wrong mid-run: one line, what was read stays ----
broken() { # broken NAME KNOB=N PATTERN WHOLE_BUFFERS_KEPT
    name=$1 knob=$2 pattern=$3 kept=$4
    export "$knob"
    rec "$name" --duration 3000 --threshold 1
    unset "${knob%%=*}"
    one_line "$name" 1 "$pattern"
    "$hvlog" info --json "$work/$name" > "$work/$name.info" || fail "$name: info failed on what was kept"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=d["groups"][0]["buffers_in_file"]; assert n == int(sys.argv[2]), (n, sys.argv[2])' \
        "$work/$name.info" "$kept" || fail "$name: the trace does not keep the $kept buffers read before"
    "$hvlog" decode "$work/$name" > /dev/null || fail "$name: decode failed on what was kept"
}
broken eio HVLOG_FAKE_MSHV_EIO=3 "Input/output error.*2 buffers" 2
broken eof HVLOG_FAKE_MSHV_EOF=2 "end of file before STOP" 2
broken truncate HVLOG_FAKE_MSHV_TRUNCATE=2 "end of file .* bytes into a" 1
broken wrongsize HVLOG_FAKE_MSHV_WRONG_SIZE=2 "72 + BufferSize .* is not the buffer size" 1

# ---- --events and a signal end the recording, finished ----
rec events --events 500 --duration 60000
[ $rc -eq 0 ] || fail "--events: exit $rc: $(cat "$work/events.err")"
n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["closing"]["entries"])' "$work/events/hvlog-trace.json")
[ "$n" -ge 500 ] || fail "--events 500 stopped after $n events"
LD_PRELOAD="$fake" "$hvlog" record --from "$dev" -o "$work/sig" --quiet > /dev/null 2> "$work/sig.err" &
pid=$!
i=0
while [ ! -s "$work/sig/local.buffers" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid
set +e; wait $pid; rc=$?; set -e
[ $rc -eq 0 ] || fail "SIGINT: exit $rc: $(cat "$work/sig.err")"
"$hvlog" info "$work/sig" | grep -q '^state: *finished' || fail "SIGINT: the trace is not finished"

echo "record_mshv: $events events, conservation holds per LP; every refusal and fault checked"
