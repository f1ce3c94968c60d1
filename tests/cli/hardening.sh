#!/bin/sh
# hardening.sh HVLOG WORKDIR CASE: the CLI against a hostile or careless
# user (issue 13). Each CASE is one CTest test; every refusal must be exit 1
# (2 for usage), one line on stderr, and destroy nothing.
set -eu
hvlog=$1 work=$2 case=$3
fail() { echo "hardening $case: $*" >&2; exit 1; }
src=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work"; mkdir -p "$work"
cd "$work"

# expect_refusal RC PATTERN CMD...: CMD exits RC with one stderr line matching PATTERN.
expect_refusal() {
    want_rc=$1 pattern=$2; shift 2
    set +e
    "$@" > stdout 2> stderr
    rc=$?
    set -e
    [ $rc -eq "$want_rc" ] || fail "'$*': exit $rc, expected $want_rc (stderr: $(cat stderr))"
    [ "$(wc -l < stderr)" -eq 1 ] || fail "'$*': stderr is not one line: $(cat stderr)"
    grep -Eq -- "$pattern" stderr || fail "'$*': unexpected message: $(cat stderr)"
}

"$hvlog" record -q -o T --events 500 --lps 2

case $case in
force-replaces-only-ours)
    # A6: a directory with a "metadata" (or hvlog-trace.json) and a file of
    # the user's own is not an output of ours: --force refuses, keeps both.
    mkdir c; echo x > c/metadata; echo y > c/thesis.tex
    expect_refusal 1 "^hvlog: export: c: holds 'thesis.tex', which hvlog does not write there; not replacing it$" \
        "$hvlog" export T --format ctf -o c --force
    [ "$(cat c/thesis.tex)" = y ] && [ "$(cat c/metadata)" = x ] || fail "ctf: c was changed"
    # The same beside a real export: the export's own files stay too.
    "$hvlog" export T --format ctf -o real > /dev/null
    echo y > real/notes
    before=$(ls real | sort | tr '\n' ' ')
    expect_refusal 1 "holds 'notes', which hvlog does not write there" \
        "$hvlog" export T --format ctf -o real --force
    [ "$(ls real | sort | tr '\n' ' ')" = "$before" ] || fail "ctf: real was changed"
    # A stream-like name hvlog never prints (leading zero) is foreign too.
    rm real/notes; echo z > real/local_lp007
    expect_refusal 1 "holds 'local_lp007'" "$hvlog" export T --format ctf -o real --force
    rm real/local_lp007
    # A trace directory: hvlog-trace.json beside a foreign file.
    mkdir t; echo '{}' > t/hvlog-trace.json; echo y > t/thesis.tex
    expect_refusal 1 "^hvlog: record: t: holds 'thesis.tex', which hvlog does not write there; not replacing it$" \
        "$hvlog" record -q -o t --force --events 10
    [ "$(cat t/thesis.tex)" = y ] || fail "record: t was changed"
    # What hvlog wrote itself is still replaced.
    "$hvlog" export T --format ctf -o real --force > /dev/null || fail "ctf: could not replace its own export"
    "$hvlog" record -q -o T --force --events 10 || fail "record: could not replace its own trace"
    left=$(ls -A | grep '^\.' || true)
    [ -z "$left" ] || fail "left behind: $left"
    ;;
output-inside-input)
    # A12: an output equal to the input, or inside it, is refused before
    # anything is written, whatever the spelling; the input stays whole.
    sum() { (cd T && cat hvlog-trace.json local.buffers global.buffers | cksum); }
    ls -A T > T.list; before=$(sum)
    mkdir T/sub; ln -s T link
    for out in T/local.buffers T/hvlog-trace.json T/new.json link/local.buffers T/sub/../local.buffers; do
        expect_refusal 1 "^hvlog: export: $out: is inside the input trace T; choose another output$" \
            "$hvlog" export T --format perfetto-json -o "$out" --force
    done
    expect_refusal 1 "^hvlog: export: T/sub/x: is inside the input trace T; choose another output$" \
        "$hvlog" export T --format ctf -o T/sub/x --force
    expect_refusal 1 "^hvlog: export: link/x: is inside the input trace link/hvlog-trace.json; choose another output$" \
        "$hvlog" export link/hvlog-trace.json --format ctf -o link/x --force
    for out in T T/ link "$work/T" T/sub/..; do
        expect_refusal 1 "^hvlog: export: $out: is the input T itself; choose another output$" \
            "$hvlog" export T --format ctf -o "$out" --force
    done
    rmdir T/sub
    [ "$(sum)" = "$before" ] && ls -A T | cmp -s - T.list || fail "the input was changed"
    # A raw buffer file as input: the output cannot be that same file.
    cp T/local.buffers raw; ln raw raw2
    expect_refusal 1 "^hvlog: export: raw2: is the input raw itself; choose another output$" \
        "$hvlog" export raw --format perfetto-json -o raw2 --force
    cmp -s raw T/local.buffers || fail "the raw input was changed"
    # Beside the input is fine.
    "$hvlog" export T --format perfetto-json -o T.json > /dev/null || fail "an output beside the input was refused"
    ;;
stdout-full)
    # A8: every command that prints fails, exit 1, one line, when its
    # output cannot be written (a full disk: /dev/full).
    [ -w /dev/full ] || { echo "SKIP: no /dev/full"; exit 77; }
    demo=$src/examples/demo.hvs
    for c in "stats T" "stats --json T" "info T" "abi" "abi types" "script $demo" "decode T" "decode --json T" \
             "help" "help stats" "--version" "export T --format perfetto-json -o x.json" "record -o T2 --events 10"; do
        expect_refusal 1 "^hvlog: (${c%% *}: )?writing (to stdout|the output) failed" sh -c "\"\$0\" $c > /dev/full" "$hvlog"
    done
    ;;
script-lines)
    # A9: a NUL byte makes its own line an error, and only that line; long
    # lines run up to the documented 65,536 bytes; a longer one is one error.
    printf 'msg vp=0\000 vp=1\nmsg vp=1\n' > nul.hvs
    set +e; "$hvlog" script nul.hvs > out; rc=$?; set -e
    [ $rc -eq 1 ] || fail "NUL: exit $rc"
    printf 'error: line 1 holds a NUL byte\nempty\n' | cmp -s - out || fail "NUL: got $(cat out)"
    pad() { printf "%-$1s#\n" "$2"; } # a line of $1 + 1 bytes, the command first
    { pad 4094 "msg vp=0"; pad 4095 "msg vp=1"; pad 65535 "msg vp=0"; pad 65536 "msg vp=0"; echo "msg vp=1"; } > long.hvs
    set +e; "$hvlog" script long.hvs > out; rc=$?; set -e
    [ $rc -eq 1 ] || fail "long lines: exit $rc"
    printf 'empty\nempty\nempty\nerror: line 4 is longer than 65536 bytes\nempty\n' | cmp -s - out || fail "long lines: got $(cat out)"
    ;;
script-cost)
    # A10: one log line offers at most 4 GiB (count x (16 + bytes)); more
    # is one error line, at once, and nothing logged.
    printf 'log lp=0 type=1 count=100000000 bytes=1048576\nlog lp=0 type=1 count=1000 bytes=1048576\n' > cost.hvs
    set +e; "$hvlog" script cost.hvs > out; rc=$?; set -e
    [ $rc -eq 1 ] || fail "exit $rc"
    printf 'error: count=100000000 events of 1048592 bytes is more than the 4 GiB one log line may offer\nrecorded=0 lost=0 dropped=1000\n' |
        cmp -s - out || fail "got $(cat out)"
    ;;
long-names)
    # Issue 13: an output name up to the file system's limit works (the
    # temporary beside it used to add ~30 bytes and fail from ~225 bytes
    # on); a longer one is refused naming the name, not its directory.
    max=$(getconf NAME_MAX .)
    name() { printf "%${1}s" "" | tr ' ' n; }
    n1=$(name $((max - 15))) n2=$(name "$max") n3=$(name $((max - 5))).json
    "$hvlog" record -q -o "$n1" --events 10 || fail "record -o a name of $((max - 15)) bytes"
    "$hvlog" export T --format ctf -o "$n2" > /dev/null || fail "export -o a name of $max bytes"
    "$hvlog" export T --format perfetto-json -o "$n3" > /dev/null || fail "export -o a file name of $max bytes"
    "$hvlog" record -q -o "$n1" --force --events 10 || fail "record --force over a long name"
    expect_refusal 1 "^hvlog: export: $(name $((max + 1))): the name is $((max + 1)) bytes long, more than the $max this file system allows$" \
        "$hvlog" export T --format ctf -o "$(name $((max + 1)))"
    expect_refusal 1 "^hvlog: record: d/$(name $((max + 1))): the name is $((max + 1)) bytes long" \
        "$hvlog" record -q -o "d/$(name $((max + 1)))"
    left=$(ls -A | grep '^\.' || true)
    [ -z "$left" ] || fail "left behind: $left"
    ;;
*) fail "unknown case" ;;
esac
echo "hardening $case: ok"
