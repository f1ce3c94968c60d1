#!/bin/sh
# Several traces on one timeline (issue 17, item 4): decode, stats and the
# CTF export of two recordings, checked against each trace alone and by
# babeltrace2; a trace without a wall-clock anchor is refused; the clock
# offset moves one host.
# Usage: multi_host.sh HVLOG WORKDIR
set -eu
hvlog=$1
work=$2
fail() { echo "multi_host: $*" >&2; exit 1; }
rm -rf "$work"; mkdir -p "$work"; cd "$work"

"$hvlog" record -o A --lps 2 --events 3000 --seed 1 --quiet
"$hvlog" record -o B --lps 1 --events 2000 --seed 2 --quiet
"$hvlog" record -o C --lps 1 --events 100 --basis tsc --quiet

# decode: every entry of both, each once, in Unix-time order, each with its host.
"$hvlog" decode A B --json --time utc > ab.jsonl
"$hvlog" decode A --json > a.jsonl
"$hvlog" decode B --json > b.jsonl
python3 - <<'PY' || fail "decode A B is not the two traces merged by time"
import json
ab = [json.loads(l) for l in open("ab.jsonl")]
a = [json.loads(l) for l in open("a.jsonl")]
b = [json.loads(l) for l in open("b.jsonl")]
ent = lambda rows: [r for r in rows if "event" in r]
hosts = {r["host"] for r in ent(ab)}
assert len(hosts) == 2, hosts
# Each host's entries, in order, are its trace's entries (same fields).
key = lambda r: (r["type"], r["lp"], r["ts"], r["event"], r["context"])
by = {}
for r in ent(ab):
    by.setdefault(r["host"], []).append(key(r))
first = ent(ab)[0]["host"]
ha, hb = (first, (hosts - {first}).pop())
if sorted(by[ha]) != sorted(key(r) for r in ent(a)):
    ha, hb = hb, ha
assert sorted(by[ha]) == sorted(key(r) for r in ent(a)), "host A's entries"
assert sorted(by[hb]) == sorted(key(r) for r in ent(b)), "host B's entries"
# Merged by wall-clock time: the UTC column never goes back.
times = [r["time"] for r in ent(ab)]
assert times == sorted(times), "decode A B goes back in time"
PY
# The text form names the host on every entry line.
"$hvlog" decode A B > ab.txt
n=$(grep -c ' lp [0-9]* HV_' ab.txt)
[ "$n" -eq "$(grep -c '"event"' ab.jsonl)" ] || fail "text lines $n"
grep -q ') vm~2 lp \|) B lp ' ab.txt || fail "no host column for the second trace: $(head -2 ab.txt)"

# stats: per host, and the totals are the sums.
"$hvlog" stats --json A B > ab-stats.json
"$hvlog" stats --json A > a-stats.json
"$hvlog" stats --json B > b-stats.json
python3 - <<'PY' || fail "stats A B totals"
import json
ab, a, b = (json.load(open(f)) for f in ("ab-stats.json", "a-stats.json", "b-stats.json"))
tot = lambda s, k: sum(r[k] for r in s["streams"])
for k, kk in (("events", "events"), ("events_lost", "events_lost"), ("buffers", "buffers")):
    assert ab[k] == tot(a, kk) + tot(b, kk), (k, ab[k])
assert [h["events"] for h in ab["hosts"]] == [tot(a, "events"), tot(b, "events")]
PY

# export: one CTF trace per host under OUT, merged by babeltrace2.
"$hvlog" export A B --format ctf -o M > /dev/null
[ -d M ] && [ "$(ls M | wc -l)" -eq 2 ] || fail "export A B: $(ls M)"
if command -v babeltrace2 > /dev/null 2>&1; then
    counted=$(babeltrace2 -c sink.utils.counter M 2>/dev/null | awk '/Event messages/ {n=$1} END {print n}')
    want=$(python3 -c 'import json; print(json.load(open("ab-stats.json"))["events"])')
    [ "$counted" -eq "$want" ] || fail "babeltrace2 counted $counted events in M, stats $want"
fi

# A clock offset moves one host: B one hour later puts all of A first.
"$hvlog" decode A B --json --time utc --clock-offset B=3600000000000 > off.jsonl
python3 - <<'PY' || fail "--clock-offset B=1h did not move B after A"
import json
rows = [json.loads(l) for l in open("off.jsonl") if '"event"' in l]
hosts = [r["host"] for r in rows]
first = hosts[0]
switch = sum(1 for x, y in zip(hosts, hosts[1:]) if x != y)
assert switch == 1, switch
PY

# Refusals: one line, no output left behind.
set +e
"$hvlog" decode A C > /dev/null 2> err; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < err)" -eq 1 ] && grep -q "no wall-clock anchor" err || fail "decode A C: $rc $(cat err)"
"$hvlog" export A C --format ctf -o M2 2> err; rc=$?
[ $rc -eq 1 ] && [ ! -e M2 ] && [ -z "$(ls -a | grep '\.tmp-')" ] && grep -q "C: its .* no wall-clock anchor" err ||
    fail "export A C: $rc $(cat err)"
for f in perfetto perfetto-json; do
    "$hvlog" export A C --format $f -o x.out 2> err; rc=$?
    [ $rc -eq 1 ] && [ ! -e x.out ] && [ "$(wc -l < err)" -eq 1 ] && [ -z "$(ls -a | grep '\.tmp')" ] &&
        grep -q "C: its .* no wall-clock anchor" err || fail "export A C --format $f: $rc $(cat err)"
done
"$hvlog" decode A B --clock-offset nosuch=1 > /dev/null 2> err; rc=$?
[ $rc -eq 2 ] && grep -q "no such host" err || fail "--clock-offset nosuch: $rc $(cat err)"
"$hvlog" export A B --format ctf -o M 2> err; rc=$?
[ $rc -eq 1 ] && grep -q "exists" err || fail "export onto an existing M: $rc $(cat err)"
set -e
echo "multi_host: decode, stats and export put two traces on one timeline"
