#!/bin/sh
# hardening.sh HVLOG WORKDIR CASE: the CLI against a hostile or careless
# user (issue 13). Each CASE is one CTest test; every refusal must be exit 1
# (2 for usage), one line on stderr, and destroy nothing.
set -eu
hvlog=$1 work=$2 case=$3
fail() { echo "hardening $case: $*" >&2; exit 1; }
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
*) fail "unknown case" ;;
esac
echo "hardening $case: ok"
