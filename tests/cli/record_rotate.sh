#!/bin/sh
# record_rotate.sh HVLOG WORKDIR [FAKE_MSHV_LIB]: `hvlog record --max-size SIZE --rotate N`
# (issue 17 item 5). Every chunk is at most SIZE bytes (its files), at most
# N remain, each reads on its own (info, stats, decode, export), and every
# buffer is accounted for: per LP, the kept chunks' events + the rotated-out
# events + lost == logged (the simulator's truths, rotation.json's host
# section), and per type the kept + rotated-out buffers and events equal
# what the client saw. Bad combinations: one line, a non-zero exit, nothing
# written. SIGINT mid-recording leaves only whole, finished chunks; SIGKILL
# leaves whole chunks that decode. info of the parent lists the chunks
# (rotate_read.sh reads the parent as one trace). With FAKE_MSHV_LIB (the
# emulated /dev/mshv_diag, tests/capture/fake_mshv.c), the same rotation of
# a real root's recording, conserved against the emulated host's report.
# Time budget: about 10 s.
set -eu
hvlog=$1 work=$2 fake=${3:-}
rm -rf "$work"; mkdir -p "$work"
fail() { echo "record_rotate: $*" >&2; exit 1; }

# check DIR SIZE KEEP finished|died: the rotation's invariants (above).
check() {
    python3 - "$hvlog" "$@" <<'EOF'
import json, os, re, subprocess, sys
hvlog, top, size, keep, want = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def fail(msg):
    sys.exit("record_rotate: %s: %s" % (top, msg))
rot = json.load(open(os.path.join(top, "rotation.json")))
if rot["format"] != "hvlog-rotation" or rot["max_size"] != size or rot["rotate"] != keep:
    fail("manifest says %r" % {k: rot[k] for k in ("format", "max_size", "rotate")})
# SIGKILL may leave a writer's hidden temporaries (docs/trace-format.md
# section 1: a few system calls wide, more often met with many chunks);
# readers skip them. A finished recording has none.
hidden = lambda names: [n for n in names if n.startswith(".")]
names = sorted(n for n in os.listdir(top) if n != "rotation.json")
if want != "died" and hidden(names):
    fail("hidden names %r" % hidden(names))
names = [n for n in names if not n.startswith(".")]
chunks = []
for n in names:
    m = re.fullmatch(r"chunk-(\d{6,})", n)
    if not m or not os.path.isdir(os.path.join(top, n)):
        fail("unexpected name %r beside the chunks" % n)
    # A recorder killed between the manifest and the deletion leaves a
    # chunk below first_chunk, which readers skip (counted rotated out).
    if want != "died" or int(m.group(1)) >= rot["first_chunk"]:
        chunks.append(int(m.group(1)))
if not chunks:
    fail("no chunk kept")
if chunks != list(range(rot["first_chunk"], rot["first_chunk"] + len(chunks))):
    fail("chunks %r do not follow first_chunk %d" % (chunks, rot["first_chunk"]))
# Killed between a new chunk's start and the oldest's deletion: one more;
# two more if the rotation's thread was two chunks behind (rotate.c,
# ROT_FINISHING).
if keep and len(chunks) > keep + 2 * (want == "died"):
    fail("%d chunks kept, --rotate %d" % (len(chunks), keep))
kept = {}      # (type, lp) -> [buffers, events, lost]
for i, c in enumerate(chunks):
    d = os.path.join(top, "chunk-%06d" % c)
    files = os.listdir(d)
    bad = [f for f in files if f != "hvlog-trace.json" and not f.endswith(".buffers")
           and not (want == "died" and f.startswith(".hvlog-trace.json.tmp-"))]
    if bad:
        fail("%s holds %r" % (d, bad))
    total = sum(os.path.getsize(os.path.join(d, f)) for f in files)
    if total > size:
        fail("%s holds %d bytes, more than %d" % (d, total, size))
    info = json.loads(subprocess.run([hvlog, "info", "--json", d], check=True,
                                     stdout=subprocess.PIPE).stdout)
    last = i == len(chunks) - 1
    state = want if last else "finished"
    # Killed between a chunk's commit and the next one's start: finished.
    # Killed while the rotation's thread was finishing the one or two
    # chunks before the last (their commits run beside the new chunk's
    # appends): those died too, whole. No other may.
    finishing = i >= len(chunks) - 3 and want == "died" and info["state"] == "died"
    if info["state"] != state and not finishing and \
            not (last and want == "died" and info["state"] == "finished"):
        fail("%s is %r, not %r" % (d, info["state"], state))
    stats = json.loads(subprocess.run([hvlog, "stats", "--json", d], check=True,
                                      stdout=subprocess.PIPE).stdout)
    if info["state"] == "finished" and info["closing"]["entries"] != sum(s["events"] for s in stats["streams"]):
        fail("%s: its closing entries are not its events" % d)
    for s in stats["streams"]:
        k = kept.setdefault((s["type"], s["lp"]), [0, 0, 0])
        k[0] += s["buffers"]; k[1] += s["events"]; k[2] += s["events_lost"]
    subprocess.run([hvlog, "decode", d], check=True, stdout=subprocess.DEVNULL)
out = {}
for t in rot["rotated_out"]:
    name = {0: "global", 1: "local", 2: "system"}[t["type"]]
    if sum(l["buffers"] for l in t["lps"]) != t["buffers"]:
        fail("rotated-out %s: the LPs' buffers do not add up" % name)
    for l in t["lps"]:
        out[(name, l["lp"])] = [l["buffers"], l["entries"], l["events_lost"]]
if keep == 0 and out:
    fail("nothing is rotated out without --rotate")
if want == "died":
    if "closing" in rot:
        fail("a killed recording's manifest has a closing part")
    sys.exit(0)
closing = rot["closing"]
both = lambda i: sum(v[i] for v in kept.values()) + sum(v[i] for v in out.values())
if both(0) != closing["buffers"] or both(1) != closing["entries"]:
    fail("kept + rotated out = %d buffers, %d events; the client saw %d, %d"
         % (both(0), both(1), closing["buffers"], closing["entries"]))
lps = rot["host"]["lp_counts"]
if not lps:
    fail("no host truths")
for lp in lps:
    key = ("local", lp["lp"])
    events = kept.get(key, [0, 0, 0])[1] + out.get(key, [0, 0, 0])[1]
    if events + lp["lost"] + lp["overwritten"] != lp["logged"]:
        fail("LP %d: %d events kept or rotated out + %d lost != %d logged"
             % (lp["lp"], events, lp["lost"], lp["logged"]))
print("%s: %d chunks kept from %d, %d buffers rotated out" % (top, len(chunks), rot["first_chunk"],
      sum(v[0] for v in out.values())))
EOF
}

# refused CODE PATTERN ARGS...: exit CODE, exactly one line on stderr
# matching PATTERN, and nothing at $work/bad (nor hidden names).
refused() {
    code=$1 pattern=$2; shift 2
    rc=0; "$hvlog" record --quiet --events 100 "$@" 2> "$work/err" || rc=$?
    [ $rc -eq "$code" ] || fail "record $*: exit $rc, not $code: $(cat "$work/err")"
    [ "$(wc -l < "$work/err")" -eq 1 ] || fail "record $*: not one line: $(cat "$work/err")"
    grep -q -- "$pattern" "$work/err" || fail "record $*: said $(cat "$work/err")"
    [ ! -e "$work/bad" ] || fail "record $*: left $work/bad"
    [ -z "$(find "$work" -maxdepth 1 -name '.*')" ] || fail "record $*: left hidden names"
}

# 1. Accounting, three LPs on two worker threads, the last 3 chunks kept.
t=$work/rot3
"$hvlog" record -o "$t" --lps 3 --threads 2 --seed 7 --events 4000 --rate 200000 --pages 1 \
    --buffers 12 --max-size 24K --rotate 3 --quiet
check "$t" 24576 3 finished
[ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["first_chunk"])' "$t/rotation.json")" -gt 0 ] ||
    fail "the rotation test rotated nothing out"
# --rotate 1 and the global group rotated out too (--global 300).
"$hvlog" record -o "$work/rot1" --lps 2 --seed 9 --events 3000 --rate 200000 --pages 1 --buffers 8 \
    --global 300 --max-size 20K --rotate 1 --quiet
check "$work/rot1" 20480 1 finished
grep -q '"type": 0' "$work/rot1/rotation.json" || fail "no global buffer was rotated out"
# --max-size alone keeps every chunk, from chunk-000000.
"$hvlog" record -o "$work/all" --lps 2 --seed 5 --events 3000 --rate 200000 --pages 1 --buffers 8 \
    --max-size 32K --quiet
check "$work/all" 32768 0 finished
[ -d "$work/all/chunk-000001" ] || fail "--max-size alone made one chunk only"

# 2. The parent: info lists the chunks (text and JSON); the other readers
# read it as one trace (rotate_read.sh).
"$hvlog" info "$t" > "$work/info.txt"
grep -q "^chunks: *3 kept" "$work/info.txt" || fail "info: $(cat "$work/info.txt")"
grep -q "^rotated out: local" "$work/info.txt" || fail "info does not say what was rotated out"
"$hvlog" info --json "$t" | python3 -c '
import json, sys
i = json.load(sys.stdin)
assert i["rotated"] and i["state"] == "finished" and len(i["chunks"]) == 3, i
assert all(c["state"] == "finished" for c in i["chunks"]), i' || fail "info --json of the parent"
# A chunk exports on its own.
last=$(ls -d "$t"/chunk-* | tail -n 1)
"$hvlog" export "$last" --format ctf -o "$work/ctf" 2> /dev/null || fail "export of $last failed"
# top takes a chunk, not the parent (a live rotation moves on): one line, exit 1.
rc=0; "$hvlog" top "$t" -b -n 1 < /dev/null > "$work/top.out" 2> "$work/err" || rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q "a rotated recording; watch its newest chunk" "$work/err" ||
    fail "top of a rotated recording: exit $rc: $(cat "$work/err")"
"$hvlog" top "$last" -b -n 1 < /dev/null > /dev/null 2>&1 || fail "top of $last failed"

# 3. Bad combinations: one line, exit 2 (usage) or 1, nothing written.
refused 2 "needs --max-size" -o "$work/bad" --rotate 3
refused 2 "needs -o" --relayd net://127.0.0.1 --max-size 1M
refused 2 "takes a size" -o "$work/bad" --max-size 12Q
refused 2 "takes a size" -o "$work/bad" --max-size 0
refused 2 "out of range" -o "$work/bad" --max-size 1M --rotate 0
refused 2 "out of range" -o "$work/bad" --max-size 1M --rotate 257
refused 2 "not with --diaglog" -o "$work/bad" --from /dev/null --diaglog --max-size 1M
refused 1 "cannot hold one 16384-byte buffer" -o "$work/bad" --pages 4 --max-size 16K
refused 1 "exists" -o "$t" --max-size 1M
check "$t" 24576 3 finished # untouched

# --force replaces a rotated recording (by another, or by a plain trace,
# and back), but never one holding a file of someone else's.
"$hvlog" record -o "$work/all" --force --lps 1 --seed 3 --events 2000 --rate 200000 --pages 1 \
    --buffers 8 --max-size 16K --rotate 2 --quiet
check "$work/all" 16384 2 finished
"$hvlog" record -o "$work/all" --force --lps 1 --events 100 --quiet
[ -f "$work/all/hvlog-trace.json" ] && [ ! -e "$work/all/rotation.json" ] || fail "--force: no plain trace"
"$hvlog" record -o "$work/all" --force --lps 1 --seed 3 --events 2000 --rate 200000 --pages 1 \
    --buffers 8 --max-size 16K --rotate 2 --quiet
check "$work/all" 16384 2 finished
last=$(ls -d "$work/all"/chunk-* | tail -n 1)
echo mine > "$last/notes.txt"
rc=0; "$hvlog" record -o "$work/all" --force --events 100 --quiet 2> "$work/err" || rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q "notes.txt.*not replacing" "$work/err" ||
    fail "--force over a rotation holding a foreign file: exit $rc: $(cat "$work/err")"
[ -f "$last/notes.txt" ] || fail "--force removed a foreign file"
[ -z "$(find "$work" -maxdepth 1 -name '.*')" ] || fail "--force left hidden names"

# 4. SIGINT mid-recording: exit 0, only whole, finished chunks, the
# accounting holds, nothing hidden.
wait_chunks() { # DIR: until a chunk was rotated out (at most ~10 s)
    i=0
    while [ $i -lt 200 ]; do
        grep -q '"first_chunk": [1-9]' "$1/rotation.json" 2> /dev/null && return 0
        sleep 0.05; i=$((i + 1))
    done
    fail "$1 never rotated a chunk out"
}
pid=
trap '[ -z "$pid" ] || kill -KILL $pid 2> /dev/null || true' EXIT
t=$work/int
"$hvlog" record -o "$t" --lps 2 --duration 60000 --rate 20000 --pages 1 --buffers 8 \
    --max-size 32K --rotate 2 --quiet 2> "$work/int.err" &
pid=$!
wait_chunks "$t"
# --force never replaces a rotation being written (its chunk holds the lock).
rc=0; "$hvlog" record -o "$t" --force --events 100 --quiet 2> "$work/err" || rc=$?
[ $rc -eq 1 ] && grep -q "a live hvlog record is writing it" "$work/err" ||
    fail "--force over a live rotation: exit $rc: $(cat "$work/err")"
kill -INT $pid
rc=0; wait $pid || rc=$?
pid=
[ $rc -eq 0 ] || fail "SIGINT: record exited $rc: $(cat "$work/int.err")"
check "$t" 32768 2 finished
[ -z "$(find "$t" -name '.*')" ] || fail "SIGINT left hidden names: $(find "$t" -name '.*')"

# 5. SIGKILL: every kept chunk reads, the earlier ones finished, the last
# died (and the one or two before it, if the rotation's thread was
# committing them); the manifest has no closing part.
t=$work/kill
"$hvlog" record -o "$t" --lps 2 --duration 60000 --rate 20000 --pages 1 --buffers 8 \
    --max-size 32K --rotate 2 --quiet &
pid=$!
wait_chunks "$t"
kill -KILL $pid; wait $pid 2> /dev/null || true
pid=
check "$t" 32768 2 died
"$hvlog" info "$t" | grep -q "^state: *died" || fail "info of a killed rotation does not say died"
# 6. A real root's recording (--from the emulated /dev/mshv_diag): every
# chunk bounded and readable; per LP, kept + rotated-out events and
# EventsLost + the driver's discarded, stranded and pending terms == logged.
if [ -n "$fake" ] && [ ! -e /dev/mshv_diag ]; then
    rc=0
    HVLOG_FAKE_MSHV_REPORT="$work/mshv.report" LD_PRELOAD="$fake" \
        "$hvlog" record --from /dev/mshv_diag -o "$work/mshv" --quiet --duration 1500 --threshold 1 \
        --max-size 40K --rotate 2 > /dev/null 2> "$work/mshv.err" || rc=$?
    if [ $rc -ne 0 ] && grep -q "not a Hyper-V root partition" "$work/mshv.err"; then
        echo "record_rotate: note: the emulated device did not load; --from a device not tested"
    else
        [ $rc -eq 0 ] || fail "record --from the emulated device: exit $rc: $(cat "$work/mshv.err")"
        python3 - "$hvlog" "$work/mshv" "$work/mshv.report" <<'EOF' || fail "--from a device: see above"
import json, os, subprocess, sys
hvlog, top, report = sys.argv[1:]
rot = json.load(open(os.path.join(top, "rotation.json")))
assert rot["first_chunk"] > 0 and "closing" in rot and "host" not in rot, rot
chunks = sorted(n for n in os.listdir(top) if n.startswith("chunk-"))
assert 0 < len(chunks) <= 2, chunks
read, lost = {}, {}
for c in chunks:
    d = os.path.join(top, c)
    assert sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)) <= 40960, d
    st = json.loads(subprocess.run([hvlog, "stats", "--json", d], check=True,
                                   stdout=subprocess.PIPE).stdout)
    for x in st["streams"]:
        read[x["lp"]] = read.get(x["lp"], 0) + x["events"]
        lost[x["lp"]] = lost.get(x["lp"], 0) + x["events_lost"]
for t in rot["rotated_out"]:
    for l in t["lps"]:
        read[l["lp"]] = read.get(l["lp"], 0) + l["entries"]
        lost[l["lp"]] = lost.get(l["lp"], 0) + l["events_lost"]
host = {}
for line in open(report):
    f = line.split()
    if f and f[0] == "lp":
        host[int(f[1])] = {f[i]: int(f[i + 1]) for i in range(2, len(f) - 1, 2)}
assert host, "no report from the emulated host"
for lp, h in host.items():
    terms = (read.get(lp, 0), lost.get(lp, 0), h["discarded_entries"], h["discarded_lost"],
             h["stranded_entries"], h["stranded_lost"], h["lost_pending"])
    assert sum(terms) == h["logged"], ("lp", lp, terms, "logged", h["logged"])
print("%s: %d chunks kept from %d (a real root's recording)" % (top, len(chunks), rot["first_chunk"]))
EOF
    fi
fi
echo "record_rotate: ok"
