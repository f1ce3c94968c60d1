#!/bin/sh
# record_faults.sh HVLOG SHIM WORKDIR: write-side fault injection for
# `hvlog record` (issue 13, item 4). With the LD_PRELOAD shim
# (write_fault.c), every k-th write to the trace's files fails with ENOSPC
# or EIO, or is short. Expected:
#   - ENOSPC, EIO: exit 1 and one line on stderr naming the file and the
#     reason; nothing hidden left behind; and when the trace had already
#     appeared, it reads (info: died; stats and decode succeed);
#   - short writes: written in full anyway (exit 0, a finished trace whose
#     files hold every buffer written);
#   - the same, recording with --compress (a unit cut off as a buffer is);
#   - `hvlog export` (CTF, Perfetto) under ENOSPC and EIO: exit 1, one line,
#     nothing left (all or nothing).
# The recording cannot lose events whatever the scheduling (64 one-page
# buffers hold more than the 2 x 3000 small events), so it always makes
# about 50 writes and every k below is reached.
# Skips (77) when the shim cannot take effect (a sanitizer's own write
# interceptor comes first).
set -eu
hvlog=$1 shim=$2 work=$3
rm -rf "$work"; mkdir -p "$work"
fail() { echo "record_faults: $kind every $k: $*" >&2; exit 1; }
kind=- k=-

run() { # run KIND K DIR: record into DIR/t with the fault armed for DIR
    # shellcheck disable=SC2086 # $extra: no flag, or one
    env LD_PRELOAD="$shim" HVLOG_FAULT="$1" HVLOG_FAULT_EVERY="$2" HVLOG_FAULT_MATCH="$3/" \
        HVLOG_FAULT_LOG="$work/faults.log" \
        "$hvlog" record -o "$3/t" --lps 2 --events 3000 --rate 0 --buffers 64 --pages 1 \
        --threshold 1 --payload 0 --seed 9 --quiet $extra \
        > "$3.out" 2> "$3.err"
}
extra=

kind=enospc k=1
mkdir "$work/probe"
set +e; run enospc 1 "$work/probe"; set -e
[ -s "$work/faults.log" ] || { echo "record_faults: SKIP: the write shim is not in effect (sanitizer build?)"; exit 77; }

for extra in "" --compress; do
for kind in enospc eio; do
    for k in 1 2 3 5 8 13 21; do
        d="$work/$kind-$k$extra"; mkdir "$d"
        faults=$(wc -l < "$work/faults.log")
        rc=0; run $kind $k "$d" || rc=$?
        [ "$(wc -l < "$work/faults.log")" -gt "$faults" ] || fail "no fault was injected (too few writes)"
        [ $rc -eq 1 ] || fail "exit $rc, stderr: $(cat "$d.err")"
        [ "$(wc -l < "$d.err")" -eq 1 ] || fail "not one line: $(cat "$d.err")"
        case $kind in
        enospc) grep -q "No space left on device" "$d.err" || fail "no reason: $(cat "$d.err")" ;;
        eio) grep -q "Input/output error" "$d.err" || fail "no reason: $(cat "$d.err")" ;;
        esac
        grep -q "^hvlog: record: .*$d/t" "$d.err" || fail "the line does not name the file: $(cat "$d.err")"
        hidden=$(find "$d" -name '.*' | head -3)
        [ -z "$hidden" ] || fail "hidden names left behind: $hidden"
        if [ -e "$d/t" ]; then
            "$hvlog" info --json "$d/t" > "$d.info" || fail "info failed on what was left"
            grep -q '"state": "died"' "$d.info" || fail "what was left is not 'died': $(grep state "$d.info")"
            "$hvlog" stats "$d/t" > /dev/null 2> "$d.stats.err" || fail "stats failed: $(cat "$d.stats.err")"
            "$hvlog" decode "$d/t" > /dev/null 2> "$d.decode.err" || fail "decode failed: $(cat "$d.decode.err")"
        fi
    done
done

kind=short
for k in 1 2 3; do
    d="$work/short-$k$extra"; mkdir "$d"
    rc=0; run short $k "$d" || rc=$?
    [ $rc -eq 0 ] || fail "exit $rc: $(cat "$d.err")"
    "$hvlog" info --json "$d/t" > "$d.info"
    python3 - "$d.info" <<'PY' || fail "short writes lost data: $(cat "$d.info")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["state"] == "finished", d["state"]
for g in d["groups"]:
    assert g["buffers_in_file"] == g["buffers_written"] and g["torn_bytes"] == 0, g
PY
    "$hvlog" decode "$d/t" > /dev/null || fail "decode failed"
done
done
extra=
# Exports stay all or nothing under the same faults: exit 1, one line, no
# output and nothing hidden (the reason in the line is the export's to give).
for fmt in ctf perfetto perfetto-json; do
    # The protobuf writer writes 256 KiB at a time: too few writes for every fifth.
    ks="1 2 5"; [ "$fmt" = perfetto ] && ks="1 2"
    for kind in enospc eio; do
        for k in $ks; do
            d="$work/export-$fmt-$kind-$k"; mkdir "$d"
            faults=$(wc -l < "$work/faults.log")
            rc=0
            env LD_PRELOAD="$shim" HVLOG_FAULT=$kind HVLOG_FAULT_EVERY=$k HVLOG_FAULT_MATCH="$d/" \
                HVLOG_FAULT_LOG="$work/faults.log" \
                "$hvlog" export "$work/short-1/t" --format $fmt -o "$d/out" > /dev/null 2> "$d.err" || rc=$?
            [ "$(wc -l < "$work/faults.log")" -gt "$faults" ] || fail "export $fmt: no fault was injected"
            [ $rc -eq 1 ] && [ "$(wc -l < "$d.err")" -eq 1 ] || fail "export $fmt: exit $rc, $(cat "$d.err")"
            [ -z "$(ls -A "$d")" ] || fail "export $fmt: left $(ls -A "$d")"
        done
    done
done
echo "record_faults: ENOSPC and EIO give one line and a readable trace; short writes lose nothing; exports leave nothing"
