#!/bin/sh
# decode_golden.sh HVLOG FIXTURE_DIR GOLDEN_DIR [--update]: `hvlog decode`
# output, text and --json, on deterministic synthetic traces
# (tests/export/export_fixture.c), compared byte for byte with the files in
# GOLDEN_DIR. Any change of the output format fails here; after an
# intended change, run with --update and review the diff of the goldens.
#
# Cases: a 2-LP trace with losses, escape-class entries and extra bytes
# (small.trace; UTC wall clock from its anchor, so no time zone leaks in),
# the same as JSON lines, one LP in raw time, two groups merged by time
# (two.trace, relative times), two QPC groups at 25 MHz on the wall clock
# from their QPC anchor (qpc.trace), and a raw file of local (current convention,
# 2 pages) and global (2013, 1 page) buffers interleaved (mixed-both.raw).
set -eu
hvlog=$1 fixture=$2 golden=$3 update=${4:-}
status=0
export TZ=UTC LC_ALL=C

check() { # NAME ARGS...: decode ARGS into NAME, compare with the golden
    name=$1; shift
    out=$(mktemp)
    "$hvlog" decode "$@" > "$out"
    if [ "$update" = "--update" ]; then
        cp "$out" "$golden/$name"
        echo "updated $golden/$name"
    elif ! cmp -s "$golden/$name" "$out"; then
        echo "decode_golden: hvlog decode $* differs from $golden/$name:"
        diff -u "$golden/$name" "$out" | head -40
        status=1
    fi
    rm -f "$out"
}

check small-utc.txt "$fixture/small.trace" --time utc
check small-utc.jsonl "$fixture/small.trace" --time utc --json
check small-lp1-raw.txt "$fixture/small.trace" --time raw --lp 1
check two-relative.txt "$fixture/two.trace" --time relative
check two-relative.jsonl "$fixture/two.trace" --time relative --json
check mixed-both.txt "$fixture/mixed-both.raw"
check qpc-utc.txt "$fixture/qpc.trace" --time utc
check mixed-both.jsonl "$fixture/mixed-both.raw" --json
[ $status -eq 0 ] && echo "decode_golden: every output matches its golden file"
exit $status
