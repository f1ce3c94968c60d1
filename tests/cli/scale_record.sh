#!/bin/sh
# SPDX-License-Identifier: MIT
# scale_record.sh HVLOG DIR: issue 16 end to end at 2,048 LPs under
# --abi current. More LPs log than a group has buffers (512), so some
# lose events for want of one; the trace must show every loss by cause.
#   - per LP: events read from the trace + lost == logged, and
#     lost == lost_no_buffer + lost_too_large (the host section);
#   - loss for no buffer is there, and EventsLost in the trace never
#     exceeds it;
#   - decode --lp N selects an LP above 255 exactly;
#   - decode and CTF export run under a soft limit of 1024 open files;
#   - --lps 2049, and --lps 257 with --abi 2013, are usage errors (exit 2).
# Label "scale"; time budget about 30 s here (a 1.5 s recording, then
# stats, decode and an export of 2,048 stream files on a shared box).
set -eu
hvlog=$1 dir=$2
rm -rf "$dir"
mkdir -p "$dir"
fail() { echo "scale_record: $*"; exit 1; }

"$hvlog" record -o "$dir/t" --lps 2048 --abi current --rate 0 --duration 1500 \
    --pages 1 --threshold 1 --global 0 --quiet || fail "record exited $?"
"$hvlog" stats --json "$dir/t" >"$dir/stats.json" || fail "stats exited $?"
/usr/bin/python3 - "$dir/stats.json" <<'PY' || fail "per-LP counts do not add up"
import json, sys
d = json.load(open(sys.argv[1]))
read = {s["lp"]: s for s in d["streams"] if s["type"] == "local"}
rows = d["lps"]
bad = []
assert len(rows) == 2048, f"{len(rows)} LP rows, not 2048"
no_buffer = 0
for r in rows:
    lp = r["lp"]
    got = read.get(lp, {"events": 0, "events_lost": 0})
    if r["logged"] == 0:
        bad.append(f"LP {lp} logged nothing")
    if got["events"] + r["lost"] != r["logged"]:
        bad.append(f"LP {lp}: read {got['events']} + lost {r['lost']} != logged {r['logged']}")
    if r["lost"] != r["lost_no_buffer"] + r["lost_too_large"]:
        bad.append(f"LP {lp}: lost {r['lost']} is not the sum of its causes")
    if got["events_lost"] > r["lost"]:
        bad.append(f"LP {lp}: EventsLost {got['events_lost']} above the host's lost {r['lost']}")
    no_buffer += r["lost_no_buffer"]
if no_buffer == 0:
    bad.append("no event lost for want of a buffer with 2,048 logging LPs and 512 buffers")
print(f"scale_record: 2048 LPs, {sum(r['logged'] for r in rows)} logged, "
      f"{sum(s['events'] for s in read.values())} read, {no_buffer} lost for no buffer, "
      f"{len(read)} LPs with buffers in the trace")
for b in bad[:10]:
    print(b)
sys.exit(1 if bad else 0)
PY
# The text table's "all" row shows the loss for want of a buffer.
"$hvlog" stats "$dir/t" | awk '$1 == "all" { found = 1; ok = $4 > 0 && $4 == $5 + $6 }
    END { exit !(found && ok) }' || fail "stats has no 'all' row whose lost is no-buffer + too-large > 0"
want=$(/usr/bin/python3 -c "import json,sys; print(sum(s['events'] for s in json.load(open(sys.argv[1]))['streams']))" "$dir/stats.json")
# --lp takes LPs past 255 (the current header's LP is 16 bits): the
# highest LP with events in the trace, decoded alone.
set -- $(/usr/bin/python3 -c "
import json, sys
s = [x for x in json.load(open(sys.argv[1]))['streams'] if x['type'] == 'local' and x['events']]
top = max(s, key=lambda x: x['lp'])
print(top['lp'], top['events'])" "$dir/stats.json")
[ "$1" -ge 256 ] || fail "no LP above 255 has events in the trace (highest: $1)"
got=$("$hvlog" decode --json --lp "$1" "$dir/t" | grep -c '"event":')
[ "$got" -eq "$2" ] || fail "decode --lp $1 printed $got events, the trace holds $2 on LP $1"
(
    ulimit -Sn 1024
    got=$("$hvlog" decode --json "$dir/t" | grep -c '"event":') || fail "decode exited $?"
    [ "$got" -eq "$want" ] || fail "decode printed $got lines, the trace holds $want events"
    "$hvlog" export "$dir/t" --format ctf -o "$dir/ctf" 2>"$dir/export.err" >/dev/null ||
        fail "export exited $?: $(cat "$dir/export.err")"
    grep -q "ulimit -n" "$dir/export.err" || fail "export did not name the file limit babeltrace2 needs"
)
set +e
"$hvlog" record -o "$dir/x" --lps 2049 --abi current --quiet 2>/dev/null
[ $? -eq 2 ] || fail "--lps 2049 was not a usage error"
msg=$("$hvlog" record -o "$dir/x" --lps 257 --abi 2013 --quiet 2>&1)
[ $? -eq 2 ] || fail "--lps 257 --abi 2013 was not a usage error"
case $msg in *"8 bits"*) ;; *) fail "--lps 257 --abi 2013 did not say why: $msg" ;; esac
[ ! -e "$dir/x" ] || fail "a refused record left $dir/x"
echo "scale_record: ok"
