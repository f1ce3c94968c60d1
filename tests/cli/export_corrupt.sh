#!/bin/sh
# export_corrupt.sh HVLOG FIXTURE_DIR WORKDIR: a trace with two buffers
# whose headers are fine and whose entries are not (tests/export/
# export_fixture.c writes bad-entries.trace). The exports index buffer
# headers only, so these are found while writing; the user sees what a
# bad buffer always gave:
#   without --skip-corrupt: exit 1, one stderr line naming the data file,
#     the buffer and what is wrong, nothing on stdout, nothing left behind;
#   with it: exit 0, one "skipped:" line per bad buffer (the same text),
#     and the summary counts them.
set -eu
hvlog=$1 fixture=$2 work=$3
fail() { echo "export_corrupt: $*" >&2; exit 1; }
rm -rf "$work"; mkdir -p "$work"
trace="$fixture/bad-entries.trace"
why="an entry's Size is below 16, not a multiple of 8, or runs past the data"

for format in ctf perfetto perfetto-json; do
    out="$work/out"
    set +e
    "$hvlog" export "$trace" --format $format -o "$out" > "$work/stdout" 2> "$work/stderr"
    rc=$?
    set -e
    [ $rc -eq 1 ] || fail "$format: exit $rc, expected 1"
    [ "$(wc -l < "$work/stderr")" -eq 1 ] || fail "$format: stderr is not one line: $(cat "$work/stderr")"
    [ ! -s "$work/stdout" ] || fail "$format: wrote to stdout"
    grep -Fqx "hvlog: export: $trace/local.buffers: $(sed -n 's/.*local\.buffers: \(buffer [0-9]* at byte [0-9]*\): .*/\1/p' "$work/stderr"): $why" "$work/stderr" ||
        fail "$format: unexpected message: $(cat "$work/stderr")"
    first=$(sed 's/^hvlog: export: //' "$work/stderr")
    left=$(ls -A "$work" | grep -v -x -e stdout -e stderr || true)
    [ -z "$left" ] || fail "$format: left behind: $left"

    "$hvlog" export "$trace" --format $format -o "$out" --skip-corrupt > "$work/stdout" 2> "$work/stderr" ||
        fail "$format --skip-corrupt: exit $?"
    [ "$(wc -l < "$work/stderr")" -eq 2 ] || fail "$format --skip-corrupt: not two lines: $(cat "$work/stderr")"
    [ "$(grep -c "^hvlog: export: skipped: $trace/local\.buffers: buffer [0-9]* at byte [0-9]*: $why\$" "$work/stderr")" -eq 2 ] ||
        fail "$format --skip-corrupt: unexpected report: $(cat "$work/stderr")"
    grep -Fqx "hvlog: export: skipped: $first" "$work/stderr" || fail "$format: the refusal's line was not reported"
    grep -q ', 2 corrupt buffers skipped$' "$work/stdout" || fail "$format --skip-corrupt: summary: $(cat "$work/stdout")"
    [ -e "$out" ] || fail "$format --skip-corrupt: no output"
    rm -rf "$out"
done
echo "export_corrupt: bad entries behind good headers refused, or skipped and reported, by every export"
