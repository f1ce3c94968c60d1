#!/bin/sh
# record_snapshot.sh HVLOG WORKDIR: the flight recorder (record --snapshot,
# issue 17 item 5). A recording from the simulated host (fixed seed) with a
# 32 KiB ring of 4 KiB buffers is asked for two snapshots by `hvlog
# snapshot PID`, then stopped by SIGINT. Asserted:
# - `hvlog snapshot` prints DIR/snapshot-001 then -002; SIGINT adds -003
#   (reason "stop"); nothing hidden and no control file is left;
# - each snapshot reads alone (stats, decode) and holds at most SIZE bytes
#   of buffers, and its "snapshot" member's per-(type, LP) buffers, entries
#   and EventsLost are what `hvlog stats` counts in it;
# - per row, entries + overwritten_entries (every entry released before the
#   snapshot) never shrinks from one snapshot to the next;
# - in the last snapshot, per LP: entries + overwritten_entries + host lost
#   == host logged (every event read, lost or overwritten), and the
#   EventsLost the root saw (in it + overwritten) is at most host lost;
# - refusals, one line each and nothing created: `hvlog snapshot` of a
#   process that is not hvlog, of a plain recording, of no process; a bad
#   or too small --snapshot-size; --snapshot-size alone; --from a device;
#   a second recorder into a live one's directory; an existing directory
#   without --force. A recorder killed outright is replaced with --force.
# Budget: about 5 s.
set -eu
hvlog=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
fail() { echo "record_snapshot: $*" >&2; exit 1; }
dir="$work/fr"
size=32768

# Wait (at most ~10 s) until $1 exists.
wait_file() {
    i=0
    while [ ! -e "$1" ]; do
        [ $i -lt 200 ] || fail "$1 never appeared"
        sleep 0.05; i=$((i + 1))
    done
}

# One line on stderr and exit $1 from `hvlog ARGS...` (after $1 and $2: the
# expected text).
refused() {
    want_rc=$1 want=$2; shift 2
    rc=0; "$hvlog" "$@" > "$work/out" 2> "$work/err" || rc=$?
    [ $rc -eq "$want_rc" ] || fail "$*: exit $rc, not $want_rc: $(cat "$work/err")"
    [ "$(wc -l < "$work/err")" -eq 1 ] || fail "$*: not one line: $(cat "$work/err")"
    grep -q -- "$want" "$work/err" || fail "$*: no '$want' in: $(cat "$work/err")"
}

"$hvlog" record -o "$dir" --snapshot --snapshot-size 32K --lps 2 --seed 7 --pages 1 \
    --buffers 2 --threshold 1 --rate 100000 --duration 60000 2> "$work/rec.err" > "$work/rec.out" &
pid=$!
wait_file "$dir/hvlog-snapshot.ctl"
sleep 0.3
p1=$("$hvlog" snapshot $pid) || fail "first hvlog snapshot failed"
[ "$p1" = "$dir/snapshot-001" ] || fail "first snapshot printed '$p1'"
sleep 0.3
p2=$("$hvlog" snapshot $pid --timeout 10000) || fail "second hvlog snapshot failed"
[ "$p2" = "$dir/snapshot-002" ] || fail "second snapshot printed '$p2'"
# A second flight recorder into the same directory is refused.
refused 1 "a live hvlog record --snapshot writes" record -o "$dir" --snapshot --force --events 10
# A plain recording is not a flight recorder.
"$hvlog" record -o "$work/plain" --lps 1 --duration 60000 --rate 1000 --quiet &
plain=$!
wait_file "$work/plain/hvlog-trace.json"
refused 1 "not an hvlog recording in snapshot mode" snapshot $plain
kill -INT $plain; wait $plain || fail "the plain recording failed"
kill -INT $pid
rc=0; wait $pid || rc=$?
[ $rc -eq 0 ] || fail "record exited $rc: $(cat "$work/rec.err")"
[ "$(ls "$dir")" = "snapshot-001
snapshot-002
snapshot-003" ] || fail "the directory holds: $(ls -a "$dir")"
hidden=$(find "$dir" -name '.*' | head -3)
[ -z "$hidden" ] || fail "hidden names left: $hidden"

for n in 001 002 003; do
    s="$dir/snapshot-$n"
    "$hvlog" stats --json "$s" > "$work/stats-$n.json" || fail "stats of snapshot $n failed"
    "$hvlog" decode "$s" > /dev/null || fail "decode of snapshot $n failed"
done
# info shows the accounting (and its JSON is the file's).
"$hvlog" info "$dir/snapshot-003" | grep -q '^snapshot: *number 3 (stop) of a flight recorder, ring of 32768 bytes$' ||
    fail "info does not show the snapshot"
"$hvlog" info --json "$dir/snapshot-003" | python3 -c '
import json, sys
i = json.load(sys.stdin)["snapshot"]
f = json.load(open(sys.argv[1]))["snapshot"]
names = ["global", "local", "system"]
assert i["sequence"] == f["sequence"] and len(i["lps"]) == len(f["lps"])
for a, b in zip(i["lps"], f["lps"]):
    assert a["type"] == names[b["type"]] and all(a[k] == b[k] for k in b if k != "type"), (a, b)
' "$dir/snapshot-003/hvlog-trace.json" || fail "info --json does not show the snapshot's rows"
python3 - "$dir" "$work" "$size" << 'EOF' || fail "accounting (above)"
import json, os, sys
d, work, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = {"global": 0, "local": 1, "system": 2}
prev = {}
for n in ("001", "002", "003"):
    s = os.path.join(d, "snapshot-" + n)
    meta = json.load(open(os.path.join(s, "hvlog-trace.json")))
    sn = meta["snapshot"]
    assert sn["sequence"] == int(n), (n, sn["sequence"])
    assert sn["reason"] == ("stop" if n == "003" else "request"), (n, sn["reason"])
    assert sn["ring_bytes"] == size
    data = sum(os.path.getsize(os.path.join(s, f)) for f in os.listdir(s) if f.endswith(".buffers"))
    assert data <= size, ("snapshot %s holds %d bytes of buffers" % (n, data))
    # The metadata's counts are the snapshot's content.
    stats = json.load(open(os.path.join(work, "stats-%s.json" % n)))
    seen = {(names[x["type"]], x["lp"]): x for x in stats["streams"]}
    for r in sn["lps"]:
        key = (r["type"], r["lp"])
        got = seen.pop(key, {"buffers": 0, "events": 0, "events_lost": 0})
        assert (r["buffers"], r["entries"], r["events_lost"]) == \
            (got["buffers"], got["events"], got["events_lost"]), (n, r, got)
        released = r["entries"] + r["overwritten_entries"]
        assert released >= prev.get(key, 0), (n, key, released, prev.get(key))
        prev[key] = released
    assert not seen, ("streams without a snapshot row", n, seen)
    assert sum(r["buffers"] for r in sn["lps"]) == meta["closing"]["buffers"]
# The last snapshot: every event read, lost or overwritten.
host = {r["lp"]: r for r in meta["host"]["lp_counts"]}
rows = {r["lp"]: r for r in sn["lps"] if r["type"] == 1}
assert sorted(rows) == sorted(host) == [0, 1], (sorted(rows), sorted(host))
for lp, h in host.items():
    r = rows[lp]
    assert r["overwritten_buffers"] > 0, ("the ring never wrapped", r)
    assert r["entries"] + r["overwritten_entries"] + h["lost"] == h["logged"], (lp, r, h)
    assert r["events_lost"] + r["overwritten_events_lost"] <= h["lost"], (lp, r, h)
EOF

# Refusals.
sleep 60 &
other=$!
refused 1 "not an hvlog recording in snapshot mode" snapshot $other
kill $other; wait $other 2> /dev/null || true
refused 1 "no process" snapshot 2147483647
refused 2 "snapshot-size takes a size" record -o "$work/bad" --snapshot --snapshot-size 12Q
refused 2 "snapshot-size takes a size" record -o "$work/bad" --snapshot --snapshot-size 0
refused 2 "needs --snapshot" record -o "$work/bad" --snapshot-size 1M
refused 1 "cannot hold one 16384-byte buffer" record -o "$work/bad" --snapshot --snapshot-size 8K
refused 2 "not a real root's device" record -o "$work/bad" --snapshot --from /dev/null
refused 1 "exists" record -o "$dir" --snapshot --events 10
[ ! -e "$work/bad" ] || fail "a refused recording left $work/bad"
# A flight recorder killed outright leaves its control file; the next one
# (--force) replaces it, and leaves nothing of it behind.
k="$work/killed"
"$hvlog" record -o "$k" --snapshot --lps 1 --duration 60000 --rate 1000 --quiet &
kpid=$!
wait_file "$k/hvlog-snapshot.ctl"
kill -KILL $kpid; wait $kpid 2> /dev/null || true
refused 1 "exists" record -o "$k" --snapshot --events 10
"$hvlog" record -o "$k" --snapshot --force --lps 1 --events 100 --quiet || fail "--force after a killed recorder"
[ "$(ls -A "$k")" = "snapshot-001" ] || fail "after a killed recorder: $(ls -A "$k")"
echo "record_snapshot: ok"
