#!/bin/sh
# record_states.sh HVLOG WORKDIR: what `hvlog info` says of a recording
# being written, finished and died; SIGINT, SIGTERM and SIGHUP stop record
# cleanly; a torn last buffer is left out with a note (unfinished) but is
# an error in a finished trace, as is a file cut at a buffer boundary;
# version-1 traces read; info escapes control characters (A5), fails on a
# missing data file, takes --json; files are 0700/0600 under umask 000 and
# --file-mode widens them (A11).
set -eu
hvlog=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
fail() { echo "record_states: $*" >&2; exit 1; }
state() { "$hvlog" info --json "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'; }
# Wait (at most ~10 s) until $1 exists and is being written.
wait_recording() {
    i=0
    while [ $i -lt 200 ]; do
        if [ -f "$1/hvlog-trace.json" ] && [ "$(state "$1" 2> /dev/null)" = "being written" ]; then
            return 0
        fi
        sleep 0.05; i=$((i + 1))
    done
    fail "$1 never showed as being written"
}

# Each stop signal: exit 0, a finished trace, the closing statistics, and
# nothing hidden beside it.
for sig in INT TERM HUP; do
    t="$work/sig$sig"
    "$hvlog" record -o "$t" --lps 2 --duration 60000 --rate 20000 --quiet 2> "$t.err" &
    pid=$!
    wait_recording "$t"
    kill -$sig $pid
    rc=0; wait $pid || rc=$?
    [ $rc -eq 0 ] || fail "SIG$sig: record exited $rc: $(cat "$t.err")"
    [ "$(state "$t")" = finished ] || fail "SIG$sig: the trace is not finished"
    grep -q '"closing"' "$t/hvlog-trace.json" || fail "SIG$sig: no closing statistics"
    "$hvlog" decode "$t" > /dev/null || fail "SIG$sig: decode failed"
done
hidden=$(find "$work" -name '.*' | head -3)
[ -z "$hidden" ] || fail "signals left hidden names: $hidden"

# Died: SIGKILL while being written. The whole buffers read; a torn last
# buffer is left out with one note on stderr, and stats still succeed.
t="$work/died"
"$hvlog" record -o "$t" --lps 2 --duration 60000 --rate 20000 --quiet &
pid=$!
wait_recording "$t"
# --force never replaces a trace that is being written.
set +e
"$hvlog" record -o "$t" --force --events 10 --quiet 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] && grep -q "a live hvlog record is writing it" "$work/err" ||
    fail "record --force over a live recording: exit $rc, $(cat "$work/err")"
sleep 0.3
kill -KILL $pid; wait $pid 2> /dev/null || true
[ "$(state "$t")" = died ] || fail "a killed recording is not 'died'"
"$hvlog" info "$t" | grep -q '^state: *died' || fail "info text does not say died"
"$hvlog" stats --json "$t" > "$work/died.stats" || fail "stats of a died trace failed"
before=$(python3 -c 'import json,sys; print(sum(s["events"] for s in json.load(open(sys.argv[1]))["streams"]))' "$work/died.stats")
head -c 1000 /dev/urandom >> "$t/local.buffers"
"$hvlog" stats --json "$t" > "$work/died.stats2" 2> "$work/died.err" || fail "stats with a torn buffer failed: $(cat "$work/died.err")"
after=$(python3 -c 'import json,sys; print(sum(s["events"] for s in json.load(open(sys.argv[1]))["streams"]))' "$work/died.stats2")
[ "$before" -eq "$after" ] || fail "a torn buffer changed the count: $before, then $after"
[ "$(wc -l < "$work/died.err")" -eq 1 ] && grep -q "note: .*local.buffers: the last 1000 bytes" "$work/died.err" ||
    fail "no one-line note for the torn buffer: $(cat "$work/died.err")"
"$hvlog" decode "$t" > /dev/null 2> "$work/died.err2" || fail "decode with a torn buffer failed"
"$hvlog" info --json "$t" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert [g["torn_bytes"] for g in d["groups"] if g["type"] == 1] == [1000], d' ||
    fail "info does not show the torn bytes"

# Finished: a torn tail, or a whole buffer missing, is an error.
t="$work/fin"
"$hvlog" record -o "$t" --lps 2 --events 3000 --rate 0 --seed 4 --quiet
[ "$(state "$t")" = finished ] || fail "a finished recording is not 'finished'"
cp -r "$t" "$work/fin-torn"; head -c 100 /dev/zero >> "$work/fin-torn/local.buffers"
if "$hvlog" stats "$work/fin-torn" > /dev/null 2> "$work/err"; then fail "a finished trace with a torn tail passed"; fi
grep -q truncated "$work/err" || fail "torn tail of a finished trace: $(cat "$work/err")"
cp -r "$t" "$work/fin-cut"
size=$(stat -c %s "$t/local.buffers")
truncate -s $((size - 16384)) "$work/fin-cut/local.buffers"
if "$hvlog" stats "$work/fin-cut" > /dev/null 2> "$work/err"; then fail "a finished trace missing a buffer passed"; fi
grep -q "but the recording wrote" "$work/err" || fail "cut at a boundary: $(cat "$work/err")"

# Version 1 (as hvlog wrote it before format 2) reads in every command.
mkdir "$work/v1"; cp "$t"/*.buffers "$work/v1/"
python3 - "$t/hvlog-trace.json" "$work/v1/hvlog-trace.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["version"] = 1
del m["root"]
for g in m["groups"]:
    del g["mode"], g["buffers_written"]
m["lps"] = m["host"].pop("lp_counts")
c = m.pop("closing")
m["stats"] = {k: c[k] for k in ("messages", "buffers", "longest_chain")}
json.dump(m, open(sys.argv[2], "w"), indent=2)
PY
"$hvlog" info "$work/v1" > "$work/v1.info" || fail "info of a version-1 trace failed"
grep -q "^format: *hvlog-trace 1," "$work/v1.info" && grep -q "^state: *finished" "$work/v1.info" &&
    grep -q "^host: *present" "$work/v1.info" || fail "info of version 1: $(cat "$work/v1.info")"
"$hvlog" decode "$t" > "$work/v2.txt"; "$hvlog" decode "$work/v1" > "$work/v1.txt" || fail "decode of version 1 failed"
cmp -s "$work/v1.txt" "$work/v2.txt" || fail "version 1 and 2 of one trace decode differently"
"$hvlog" stats --json "$work/v1" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["lps"]) == 2 and d["messages"] > 0, d' ||
    fail "stats of version 1 lost the per-LP rows or the delivery counts"
"$hvlog" export "$work/v1" --format ctf -o "$work/v1.ctf" > /dev/null || fail "CTF export of version 1 failed"

# A5: control characters in trace strings never reach the terminal raw.
mkdir "$work/esc"; cp "$t"/*.buffers "$work/esc/"
python3 - "$t/hvlog-trace.json" "$work/esc/hvlog-trace.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["command_line"] = "hvlog \u001b]0;X\u0007\u001b[2J \u009b31m back\\slash"
m["hvlog_version"] = "0.1\u001b[5m"
json.dump(m, open(sys.argv[2], "w"))
PY
"$hvlog" info "$work/esc" > "$work/esc.out" || fail "info of escapes failed"
if LC_ALL=C grep -q "$(printf '\033')" "$work/esc.out" || LC_ALL=C grep -q "$(printf '\007')" "$work/esc.out" ||
    LC_ALL=C grep -q "$(printf '\302\233')" "$work/esc.out"; then
    fail "info printed a control character raw"
fi
grep -qF 'hvlog \x1b]0;X\x07\x1b[2J \u009b31m back\\slash' "$work/esc.out" || fail "command line not escaped as expected: $(grep command "$work/esc.out")"
grep -qF 'recorded by hvlog 0.1\x1b[5m,' "$work/esc.out" || fail "hvlog_version not escaped"
"$hvlog" info --json "$work/esc" > "$work/esc.json"
LC_ALL=C grep -q "$(printf '\033')" "$work/esc.json" && fail "info --json printed ESC raw"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["command_line"].startswith("hvlog \x1b]0;X"), d' "$work/esc.json" ||
    fail "info --json does not round-trip the command line"

# info: options after TRACE; a missing data file is an error (one line, exit 1);
# so is a standard output that cannot be written.
"$hvlog" info "$t" --json > /dev/null || fail "info TRACE --json refused"
if [ -w /dev/full ]; then
    for opt in "" --json; do
        # shellcheck disable=SC2086
        if "$hvlog" info $opt "$t" > /dev/full 2> "$work/err"; then fail "info $opt > /dev/full exited 0"; fi
        grep -q "No space left on device" "$work/err" || fail "info $opt > /dev/full: $(cat "$work/err")"
    done
fi
cp -r "$t" "$work/nofile"; rm "$work/nofile/global.buffers"
set +e
"$hvlog" info "$work/nofile" > /dev/null 2> "$work/err"; rc=$?
set -e
[ $rc -eq 1 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q global.buffers "$work/err" ||
    fail "missing data file: exit $rc, $(cat "$work/err")"

# A11: private whatever the umask; --file-mode widens exactly.
(umask 000 && "$hvlog" record -o "$work/priv" --events 100 --quiet)
[ "$(stat -c %a "$work/priv")" = 700 ] || fail "trace directory is $(stat -c %a "$work/priv"), not 700"
for f in "$work/priv"/*; do
    [ "$(stat -c %a "$f")" = 600 ] || fail "$f is $(stat -c %a "$f"), not 600"
done
(umask 077 && "$hvlog" record -o "$work/wide" --events 100 --quiet --file-mode 0640)
[ "$(stat -c %a "$work/wide")" = 750 ] || fail "--file-mode 0640: directory $(stat -c %a "$work/wide")"
for f in "$work/wide"/*; do
    [ "$(stat -c %a "$f")" = 640 ] || fail "--file-mode 0640: $f is $(stat -c %a "$f")"
done
set +e
"$hvlog" record -o "$work/bad" --file-mode 0044 --events 10 2> "$work/err"; rc=$?
set -e
[ $rc -eq 2 ] && [ ! -e "$work/bad" ] || fail "--file-mode 0044: exit $rc"
# Under sudo the trace goes to the invoking user (only checkable as root).
if [ "$(id -u)" = 0 ]; then
    SUDO_UID=12345 SUDO_GID=23456 "$hvlog" record -o "$work/sudo" --events 100 --quiet
    for f in "$work/sudo" "$work/sudo"/*; do
        [ "$(stat -c %u:%g "$f")" = 12345:23456 ] || fail "under sudo $f is owned by $(stat -c %u:%g "$f")"
    done
fi
echo "record_states: signals, states, torn buffers, version 1, escapes and modes as documented"
