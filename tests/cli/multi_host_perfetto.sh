#!/bin/sh
# Several traces in one Perfetto file (issue 17): `export A B --format
# perfetto` (protobuf) and `--format perfetto-json`. The protobuf is read by
# protoc against our field-number subset and replayed event by event against
# the JSON (tests/export/perfetto_proto_check.py: host tracks with their type
# tracks under them); the JSON is checked against each trace alone (every
# entry of each host, in order, under that host's processes) and against
# `decode A B --time utc` (each entry's time on the timeline, plus the
# origin, is decode's wall-clock time); --clock-offset moves one host.
# Usage: multi_host_perfetto.sh HVLOG PROTOC EXPORT_TEST_DIR WORKDIR
set -eu
hvlog=$1
protoc=$2
export_dir=$3
work=$4
fail() { echo "multi_host_perfetto: $*" >&2; exit 1; }
rm -rf "$work"; mkdir -p "$work"; cd "$work"

"$hvlog" record -o A --lps 2 --events 3000 --seed 1 --quiet
"$hvlog" record -o B --lps 1 --events 2000 --seed 2 --buffers 2 --quiet
"$hvlog" export A B --format perfetto -o ab.pftrace > out.txt
"$hvlog" export A B --format perfetto-json -o ab.json > /dev/null
"$hvlog" decode A B --json --time utc > ab.jsonl
"$hvlog" stats --json A B > ab-stats.json
events=$(python3 -c 'import json; print(json.load(open("ab-stats.json"))["events"])')
grep -q "exported $events events" out.txt || fail "export A B (protobuf): $(cat out.txt), stats $events"

python3 - <<'PY' || fail "the JSON of A B is not the two traces on one timeline"
import json, decimal
doc = json.load(open("ab.json"), parse_float=decimal.Decimal)
hosts = doc["otherData"]["hosts"]
assert [h["host"] for h in hosts] == ["vm", "vm~2"], hosts
origin = int(doc["otherData"]["timeline"]["origin_unix_ns"])
procs = {e["pid"]: e["args"]["name"] for e in doc["traceEvents"]
         if e["ph"] == "M" and e["name"] == "process_name"}
assert sorted(procs.values()) == ["vm: GlobalSystemEvents", "vm: LocalDiagnostics",
                                  "vm~2: GlobalSystemEvents", "vm~2: LocalDiagnostics"], procs
got = {}
for e in doc["traceEvents"]:
    if e["ph"] != "i":
        continue
    host = procs[e["pid"]].split(":")[0]
    ns = origin + int(decimal.Decimal(e["ts"]) * 1000)
    s = (ns // 100) % (86400 * 10**7)
    t = "%02d:%02d:%02d.%07d" % (s // 36000000000, s // 600000000 % 60, s // 10000000 % 60,
                                 s % 10000000)
    got.setdefault((host, e["cat"], e["tid"]), []).append((e["name"], t))
want = {}
for line in open("ab.jsonl"):
    r = json.loads(line)
    if "event" in r:
        want.setdefault((r["host"], r["type"], r["lp"]), []).append((r["event"], r["time"]))
assert got.keys() == want.keys(), (sorted(got), sorted(want))
for k in want:
    assert got[k] == want[k], (k, len(got[k]), len(want[k]),
                               next((a, b) for a, b in zip(got[k], want[k]) if a != b))
stats = json.load(open("ab-stats.json"))
assert sum(len(v) for v in got.values()) == stats["events"], stats["events"]
PY

# The protobuf: the same tracks and events as the JSON, under host tracks.
python3 "$export_dir/perfetto_proto_check.py" "$protoc" "$export_dir" ab.pftrace ab.json > check.txt ||
    { rc=$?; [ $rc -eq 77 ] && { cat check.txt; exit 77; }; fail "protobuf against JSON"; }
grep -q "^perfetto_proto_check: $events events" check.txt || fail "$(cat check.txt)"

# --clock-offset: B an hour later puts every entry of B after all of A's.
"$hvlog" export A B --format perfetto-json --clock-offset B=3600000000000 -o off.json > /dev/null
python3 - <<'PY' || fail "--clock-offset B=1h did not move B after A"
import json, decimal
doc = json.load(open("off.json"), parse_float=decimal.Decimal)
procs = {e["pid"]: e["args"]["name"] for e in doc["traceEvents"] if e["ph"] == "M"
         and e["name"] == "process_name"}
ts = {}
for e in doc["traceEvents"]:
    if e["ph"] == "i":
        ts.setdefault(procs[e["pid"]].split(":")[0], []).append(decimal.Decimal(e["ts"]))
assert min(ts["vm~2"]) > max(ts["vm"]) + 3500 * 10**6, (min(ts["vm~2"]), max(ts["vm"]))
assert doc["otherData"]["hosts"][1]["clock_offset_ns"] == 3600000000000
PY
"$hvlog" export A B --format perfetto --clock-offset vm~2=-5 -o off.pftrace > /dev/null ||
    fail "--clock-offset by host name"
echo "multi_host_perfetto: two hosts in one Perfetto file (protobuf and JSON) on one timeline"
