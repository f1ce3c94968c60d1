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
            "$hvlog" export T --format perfetto -o "$out" --force
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
        "$hvlog" export raw --format perfetto -o raw2 --force
    cmp -s raw T/local.buffers || fail "the raw input was changed"
    # Beside the input is fine.
    "$hvlog" export T --format perfetto -o T.json > /dev/null || fail "an output beside the input was refused"
    ;;
stdout-full)
    # A8: every command that prints fails, exit 1, one line, when its
    # output cannot be written (a full disk: /dev/full).
    [ -w /dev/full ] || { echo "SKIP: no /dev/full"; exit 77; }
    demo=$src/examples/demo.hvs
    for c in "stats T" "stats --json T" "info T" "abi" "abi types" "script $demo" "decode T" "decode --json T" \
             "help" "help stats" "--version" "export T --format perfetto -o x.json" "record -o T2 --events 10"; do
        expect_refusal 1 "^hvlog: (${c%% *}: )?writing (to stdout|the output) failed" sh -c "\"\$0\" $c > /dev/full" "$hvlog"
    done
    ;;
*) fail "unknown case" ;;
esac
echo "hardening $case: ok"
