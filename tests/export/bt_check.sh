#!/bin/sh
# SPDX-License-Identifier: MIT
# bt_check.sh MODE CTF [ARG]: babeltrace2, the real reader, judges an hvlog
# CTF export (research note §1.1).
#   reads   CTF           `babeltrace2 CTF` exits 0 and prints no ERROR
#   counter CTF EXPECT    sink.utils.counter counts as many event messages
#                         as EXPECT (NAME.expect.json) says were written
#   details CTF GOLDEN    sink.text.details prints exactly GOLDEN (less the
#                         tracer_major/minor/patch lines: a release must
#                         not change the golden file)
set -u
mode=$1 ctf=$2
bt=${BABELTRACE2:-babeltrace2}
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail() { echo "bt_check $mode $ctf: $*"; head -n 20 "$err"; exit 1; }
case $mode in
reads)
    "$bt" "$ctf" >"$out" 2>"$err" || fail "babeltrace2 exited $?"
    if grep -q ERROR "$err" "$out"; then fail "babeltrace2 printed ERROR"; fi
    [ -s "$out" ] || fail "babeltrace2 printed no event"
    echo "bt_check: babeltrace2 read $(wc -l <"$out") events from $ctf"
    ;;
counter)
    want=$(sed -n 's/.*"total_events": *\([0-9]*\).*/\1/p' "$3")
    "$bt" "$ctf" -c sink.utils.counter -p 'step=+0,hide-zero=yes' >"$out" 2>"$err" ||
        fail "babeltrace2 exited $?"
    got=$(sed -n 's/^ *\([0-9]*\) Event messages$/\1/p' "$out")
    [ "$got" = "$want" ] || fail "counter saw ${got:-no} event messages, $want were written"
    echo "bt_check: sink.utils.counter saw $got events, as written"
    ;;
details)
    "$bt" "$ctf" -c sink.text.details \
        -p 'with-metadata=no,with-trace-name=no,with-stream-name=no,with-uuid=no,color="never"' \
        >"$out.raw" 2>"$err" || fail "babeltrace2 exited $?"
    grep -v -E '^ +tracer_(major|minor|patch): ' "$out.raw" >"$out"
    rm -f "$out.raw"
    diff -u "$3" "$out" >"$err" || fail "output differs from the golden file $3"
    echo "bt_check: sink.text.details matches $3"
    ;;
*)
    echo "usage: bt_check.sh reads|counter|details CTF [ARG]" >&2
    exit 2
    ;;
esac
