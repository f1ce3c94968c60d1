#!/bin/sh
# rotate_read.sh HVLOG WORKDIR: a rotated recording reads as ONE trace of
# one host (issue 17 item 5).
#   1. decode DIR: the kept chunks' entries, each LP's local stream exactly
#      the chunks' streams one after the other, the whole in time order, and
#      as a whole the same entries and losses as decoding each chunk (no
#      host column; a loss at a chunk's start knows the LP's time before it);
#   2. stats DIR: per (type, LP) the chunks' events, buffers and losses
#      summed; what was rotated out as rotation.json has it; per LP kept +
#      rotated out + lost + overwritten == logged (checked here too);
#   3. export DIR: one CTF trace babeltrace2 counts as stats does, and
#      one Perfetto file of each kind, the same events;
#   4. chunks named one by one are one host, in any order; a chunk of
#      another recording stays a host of its own;
#   5. a torn manifest, a chunk that is no trace, a corrupt buffer in a
#      middle chunk, the same chunk twice: one line, exit 1, no output.
# (A chunk rotated out between listing and reading: test_trace_rotate.)
# Time budget: about 5 s.
set -eu
hvlog=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
fail() { echo "rotate_read: $*" >&2; exit 1; }

t=$work/rot
"$hvlog" record -o "$t" --lps 3 --threads 2 --seed 7 --events 6000 --rate 50000 --pages 1 \
    --buffers 12 --global 300 --max-size 24K --rotate 4 --quiet
"$hvlog" record -o "$work/other" --lps 2 --seed 9 --events 2000 --rate 200000 --pages 1 \
    --buffers 8 --max-size 24K --rotate 2 --quiet
chunks=$(ls -d "$t"/chunk-*)
[ "$(echo "$chunks" | wc -l)" -ge 3 ] || fail "fewer than 3 chunks kept: $chunks"

# 1-3. decode, stats and export of the parent against its chunks.
"$hvlog" decode --json "$t" > "$work/dir.jsonl"
"$hvlog" decode "$t" > "$work/dir.txt"
"$hvlog" stats --json "$t" > "$work/dir.stats"
"$hvlog" stats "$t" > "$work/dir.stats.txt"
for c in $chunks; do
    "$hvlog" decode --json "$c" >> "$work/chunks.jsonl"
    "$hvlog" decode "$c" >> "$work/chunks.txt"
    "$hvlog" stats --json "$c" > "$work/$(basename "$c").stats"
done
[ "$(wc -l < "$work/dir.txt")" -eq "$(wc -l < "$work/chunks.txt")" ] ||
    fail "decode of the parent has $(wc -l < "$work/dir.txt") lines, its chunks $(wc -l < "$work/chunks.txt")"
"$hvlog" export "$t" --format ctf -o "$work/ctf" > "$work/ctf.out"
"$hvlog" export "$t" --format perfetto -o "$work/trace.pftrace" > "$work/pf.out"
"$hvlog" export "$t" --format perfetto-json -o "$work/trace.json" > "$work/pfj.out"
python3 - "$t" "$work" <<'EOF'
import glob, json, os, re, sys
top, work = sys.argv[1], sys.argv[2]
def fail(msg):
    sys.exit("rotate_read: %s" % msg)
dir_lines = open(os.path.join(work, "dir.jsonl")).read().splitlines()
cat_lines = open(os.path.join(work, "chunks.jsonl")).read().splitlines()
def entries(lines):
    return sorted(l for l in lines if '"ts"' in l)
if not dir_lines or entries(dir_lines) != entries(cat_lines):
    fail("decode of the parent is not the chunks' entries (%d vs %d lines)" % (len(dir_lines), len(cat_lines)))
# A loss line: the same loss, before the same entry; the parent knows the
# LP's time before the gap from the chunk before ("after"), a chunk alone
# not always.
def losses(lines):
    return sorted((e["lost"], e["lp"], e["events"], e["before"]) for e in map(json.loads, lines) if "lost" in e)
if losses(dir_lines) != losses(cat_lines) or len(dir_lines) != len(cat_lines):
    fail("decode of the parent has other loss lines than its chunks")
for e in map(json.loads, dir_lines):
    if "lost" in e and e.get("after", 0) > e["before"]:
        fail("a loss after the entry it precedes: %r" % e)
def streams(lines):
    out = {}
    for l in lines:
        e = json.loads(l)
        if "ts" in e:
            if "host" in e:
                fail("a host column for one recording: %s" % l)
            out.setdefault((e.get("type"), e.get("lp")), []).append(l)
    return out
s_dir, s_cat = streams(dir_lines), streams(cat_lines)
# An LP fills one local buffer at a time: its stream is its chunks' one
# after the other. The global log's buffers may be released out of the
# order they were filled in, across a chunk boundary too; one trace orders
# them as filled (hvlog_trace_fill_order), as an unrotated recording would.
for k in set(s_dir) | set(s_cat):
    if k[0] == "local" and s_dir.get(k) != s_cat.get(k):
        fail("stream %r of the parent is not its chunks' one after the other" % (k,))
    if sorted(s_dir.get(k, [])) != sorted(s_cat.get(k, [])):
        fail("stream %r of the parent has other entries than its chunks'" % (k,))
ts = [json.loads(l)["ts"] for l in dir_lines if '"ts"' in l]
if any(b < a for a, b in zip(ts, ts[1:])):
    fail("decode of the parent is not in time order")
if len(s_dir) < 3 or not any(k[0] == "global" for k in s_dir):
    fail("too few streams to mean anything: %r" % sorted(s_dir))

rot = json.load(open(os.path.join(top, "rotation.json")))
if rot["first_chunk"] == 0:
    fail("nothing was rotated out")
st = json.load(open(os.path.join(work, "dir.stats")))
if "hosts" in st or "host" in st:
    fail("stats of the parent is not one host")
want = {}
for f in sorted(glob.glob(os.path.join(work, "chunk-*.stats"))):
    for s in json.load(open(f))["streams"]:
        w = want.setdefault((s["type"], s["lp"]), [0, 0, 0, 0])
        for i, k in enumerate(("events", "bytes", "buffers", "events_lost")):
            w[i] += s[k]
got = {(s["type"], s["lp"]): [s["events"], s["bytes"], s["buffers"], s["events_lost"]] for s in st["streams"]}
if got != want:
    fail("stats of the parent %r, the chunks summed %r" % (got, want))
if st["rotated_out"] != [{"type": {0: "global", 1: "local"}[t["type"]], "buffers": t["buffers"],
                          "entries": t["entries"], "events_lost": t["events_lost"], "lps": t["lps"]}
                         for t in rot["rotated_out"]]:
    fail("stats' rotated_out %r is not the manifest's %r" % (st["rotated_out"], rot["rotated_out"]))
if st["first_chunk"] != rot["first_chunk"] or \
        st["chunks"] != [int(re.search(r"(\d+)$", c).group(1)) for c in sorted(glob.glob(os.path.join(top, "chunk-*")))]:
    fail("stats names chunks %r from %d" % (st["chunks"], st["first_chunk"]))
out = {(t["type"], l["lp"]): l["entries"] for t in rot["rotated_out"] for l in t["lps"]}
acc = {a["lp"]: a for a in st["accounting"]}
lps = rot["host"]["lp_counts"]
if len(acc) != len(lps) or not lps:
    fail("accounting rows %r for %d LPs" % (st["accounting"], len(lps)))
for lp in lps:
    kept = got.get(("local", lp["lp"]), [0])[0]
    rotated = out.get((1, lp["lp"]), 0)
    a = acc[lp["lp"]]
    if (a["kept"], a["rotated_out"], a["lost"], a["logged"]) != (kept, rotated, lp["lost"], lp["logged"]) \
            or not a["balanced"] or kept + rotated + lp["lost"] + lp["overwritten"] != lp["logged"]:
        fail("LP %d: accounting %r; kept %d, rotated out %d, host %r" % (lp["lp"], a, kept, rotated, lp))
text = open(os.path.join(work, "dir.stats.txt")).read()
if "rotated out: local:" not in text or " != " in text or \
        len(re.findall(r"(?m)^ *\d+ +\d+ \+ .* == +\d+$", text)) != len(lps):
    fail("stats' text lacks the rotated-out or accounting lines:\n" + text)
events = sum(v[0] for v in got.values())
for f in ("ctf.out", "pf.out", "pfj.out"):
    said = open(os.path.join(work, f)).read()
    if not said.startswith("hvlog: exported %d events " % events):
        fail("%s: %s (stats: %d events)" % (f, said.strip(), events))
open(os.path.join(work, "events"), "w").write("%d\n" % events)
EOF
events=$(cat "$work/events")
if command -v babeltrace2 > /dev/null 2>&1; then
    counted=$(babeltrace2 -c sink.utils.counter "$work/ctf" 2>/dev/null | awk '/Event messages/ {n=$1} END {print n}')
    [ "$counted" = "$events" ] || fail "babeltrace2 counted ${counted:-no} events in the CTF of the parent, stats $events"
else
    echo "rotate_read: note: no babeltrace2; the CTF export checked by its summary only"
fi

# 4. Chunks named one by one: one host, whatever the order; another
# recording's chunk is a second host.
set -- $chunks
first=$1 second=$2
"$hvlog" stats --json "$second" "$first" > "$work/two.stats"
"$hvlog" decode --json "$first" "$second" > "$work/two.jsonl"
set -- "$work"/other/chunk-*
"$hvlog" stats --json "$first" "$1" "$second" > "$work/mixed.stats"
python3 - "$work" "$(basename "$first")" "$(basename "$second")" <<'EOF'
import json, os, sys
work, a, b = sys.argv[1:]
def fail(msg):
    sys.exit("rotate_read: %s" % msg)
two = json.load(open(os.path.join(work, "two.stats")))
if "hosts" in two:
    fail("two chunks of one recording are %d hosts" % len(two["hosts"]))
want = {}
for c in (a, b):
    for s in json.load(open(os.path.join(work, c + ".stats")))["streams"]:
        want[(s["type"], s["lp"])] = want.get((s["type"], s["lp"]), 0) + s["events"]
got = {(s["type"], s["lp"]): s["events"] for s in two["streams"]}
if got != want:
    fail("two chunks: %r, their sum %r" % (got, want))
if not two["trace"].endswith("%s..%s" % (a, b)) or "rotated_out" in two:
    fail("two chunks read as %r" % two["trace"])
if any("host" in json.loads(l) for l in open(os.path.join(work, "two.jsonl"))):
    fail("decode of two chunks of one recording has a host column")
mixed = json.load(open(os.path.join(work, "mixed.stats")))
if [h["host"] for h in mixed.get("hosts", [])] != ["vm", "vm~2"] or \
        mixed["hosts"][0]["events"] != sum(want.values()):
    fail("a chunk of another recording: %r" % [(h["host"], h["trace"]) for h in mixed.get("hosts", [])])
EOF

# 5. Damage: one line, exit 1, nothing written.
# refused PATTERN DIR: decode, stats and each export of DIR refuse it.
refused() {
    pattern=$1 dir=$2
    for cmd in decode stats "export --format ctf -o $work/out" "export --format perfetto -o $work/out" \
            "export --format perfetto-json -o $work/out"; do
        rc=0; $hvlog $cmd "$dir" > /dev/null 2> "$work/err" || rc=$?
        [ $rc -eq 1 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q -- "$pattern" "$work/err" ||
            fail "$cmd $dir: exit $rc: $(cat "$work/err")"
        [ ! -e "$work/out" ] || fail "$cmd $dir wrote $work/out"
        [ -z "$(find "$work" -maxdepth 1 -name '.*')" ] || fail "$cmd $dir left hidden names"
    done
}
d=$work/torn; cp -r "$t" "$d"
head -c 100 "$t/rotation.json" > "$d/rotation.json"
refused "rotation.json: not JSON" "$d"
d=$work/nometa; cp -r "$t" "$d"
set -- "$d"/chunk-*
rm "$2/hvlog-trace.json"
refused "$(basename "$2"): not an hvlog trace" "$d"
d=$work/corrupt; cp -r "$t" "$d"
set -- "$d"/chunk-*
# The BufferSize of the second chunk's first local buffer.
printf '\377\377\377\377' | dd of="$2/local.buffers" bs=1 conv=notrunc 2> /dev/null
refused "$(basename "$2")/local.buffers: buffer 0 at byte 0" "$d"
rc=0; "$hvlog" stats "$first" "$first" > /dev/null 2> "$work/err" || rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q "the same chunk given twice" "$work/err" ||
    fail "the same chunk twice: exit $rc: $(cat "$work/err")"

# info of the parent still lists its chunks.
"$hvlog" info "$t" | grep -q "^chunks: .*read the kept ones as one" || fail "info of the parent"
echo "rotate_read: ok ($events events in $(echo "$chunks" | wc -l) chunks read as one trace)"
