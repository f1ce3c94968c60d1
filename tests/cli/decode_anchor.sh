#!/bin/sh
# decode_anchor.sh HVLOG WORKDIR: every group of a trace shares the machine's
# reference clock, but each has its own SystemTime anchor, taken a few
# microseconds apart. decode and the CTF export must place all groups on one
# wall clock, so decode's merged output never runs backwards on it. The global group's
# anchor is moved 100 us late here, to make a disagreement certain.
set -eu
hvlog=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
fail() { echo "decode_anchor: $*" >&2; exit 1; }

"$hvlog" record -o "$work/t" --lps 2 --events 4000 --rate 200000 --global 200 --seed 3 --quiet
python3 - "$work/t/hvlog-trace.json" <<'PY'
import json, sys
path = sys.argv[1]
meta = json.load(open(path))
for g in meta["groups"]:
    if g["type"] == 0:
        g["system_time"] += 1000  # 100 us later than the local group's anchor says
json.dump(meta, open(path, "w"))
PY
"$hvlog" decode "$work/t" --time utc > "$work/utc.txt"
grep -q 'HV_EVENTLOG_' "$work/utc.txt" || fail "no global events to compare"
python3 - "$work/utc.txt" <<'PY'
import re, sys
last = None
for n, line in enumerate(open(sys.argv[1]), 1):
    m = re.match(r"\[(\d\d):(\d\d):(\d\d)\.(\d{7})\]", line)
    if not m:
        continue
    h, mi, s, f = map(int, m.groups())
    t = ((h * 60 + mi) * 60 + s) * 10**7 + f
    if last is not None and t < last and last - t < 12 * 3600 * 10**7:  # not midnight
        sys.exit(f"decode_anchor: line {n} goes back on the wall clock: {line.strip()}")
    last = t
PY
# The CTF export gives both reference clocks the same anchor (the largest
# offset, which the shifted global group has), so babeltrace2 merges them in
# the order the reference time says.
"$hvlog" export "$work/t" --format ctf -o "$work/ctf" > /dev/null
python3 - "$work/ctf/metadata" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
clocks = re.findall(r"clock \{\s*name = (\w+);.*?offset_s = (-?\d+);\s*offset = (\d+);", text, re.S)
ref = {name: (int(s), int(c)) for name, s, c in clocks if name.endswith("_ref")}
if len(ref) != 2 or len(set(ref.values())) != 1:
    sys.exit(f"decode_anchor: the reference clocks' anchors differ: {ref}")
PY
echo "decode_anchor: one wall clock for every group"
