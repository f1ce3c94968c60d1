#!/bin/sh
# export_refusals.sh HVLOG FIXTURE_DIR WORKDIR: traces whose time goes back
# on one LP (tests/export/export_fixture.c writes back-in-buffer.trace and
# back-across.trace) are refused by both exports: exit 1, one line on stderr
# naming the data file, the buffer, the LP and both times, and nothing left
# in the output's directory -- not even a hidden temporary. An output that
# --force would have replaced stays as it was.
set -eu
hvlog=$1 fixture=$2 work=$3
fail() { echo "export_refusals: $*" >&2; exit 1; }
rm -rf "$work"; mkdir -p "$work"

for trace in back-in-buffer back-across; do
    for format in ctf perfetto perfetto-json; do
        out="$work/out"
        set +e
        "$hvlog" export "$fixture/$trace.trace" --format $format -o "$out" > "$work/stdout" 2> "$work/stderr"
        rc=$?
        set -e
        [ $rc -eq 1 ] || fail "$trace, $format: exit $rc, expected 1"
        [ "$(wc -l < "$work/stderr")" -eq 1 ] || fail "$trace, $format: stderr is not one line: $(cat "$work/stderr")"
        [ ! -s "$work/stdout" ] || fail "$trace, $format: wrote to stdout"
        grep -Eq "^hvlog: export: .*/$trace\.trace/local\.buffers: buffer [0-9]+ at byte [0-9]+ \(local LP 0, BufferIndex [0-9]+\): .*: the entry at byte [0-9]+ has time [0-9]+, before [0-9]+; " "$work/stderr" ||
            fail "$trace, $format: unexpected message: $(cat "$work/stderr")"
        case $trace in
        back-in-buffer) want="time goes backwards inside the buffer" ;;
        *) want="the buffer starts before the previous one of its LP ends" ;;
        esac
        grep -q "$want" "$work/stderr" || fail "$trace, $format: message lacks '$want'"
        # The times: the first is earlier than the one it follows.
        set -- $(sed -n 's/.* has time \([0-9]*\), before \([0-9]*\);.*/\1 \2/p' "$work/stderr")
        [ "$1" -lt "$2" ] || fail "$trace, $format: times $1, $2 do not go back"
        left=$(ls -A "$work" | grep -v -x -e stdout -e stderr || true)
        [ -z "$left" ] || fail "$trace, $format: left behind: $left"
    done
done

# With --force over a good export: refused, and the old output untouched.
"$hvlog" export "$fixture/small.trace" --format perfetto-json -o "$work/good.json" > /dev/null
cp "$work/good.json" "$work/good.copy"
set +e
"$hvlog" export "$fixture/back-across.trace" --format perfetto-json -o "$work/good.json" --force 2> "$work/stderr"
rc=$?
set -e
[ $rc -eq 1 ] || fail "--force over a good output: exit $rc"
cmp -s "$work/good.json" "$work/good.copy" || fail "--force: the old output was changed"
left=$(ls -A "$work" | grep -v -x -e stdout -e stderr -e good.json -e good.copy || true)
[ -z "$left" ] || fail "--force: left behind: $left"

# A protobuf trace is not written under a .json name: a usage error naming
# perfetto-json, before the trace is read, and nothing written.
for format in perfetto perfetto-proto; do
    set +e
    "$hvlog" export "$fixture/small.trace" --format $format -o "$work/x.json" > "$work/stdout" 2> "$work/stderr"
    rc=$?
    "$hvlog" export "$fixture/small.trace" --format $format -o "$work/X.JSON" > /dev/null 2>&1
    rc_upper=$?
    set -e
    [ $rc_upper -eq 2 ] && [ ! -e "$work/X.JSON" ] || fail "$format -o X.JSON: exit $rc_upper, expected 2"
    [ $rc -eq 2 ] || fail "$format -o x.json: exit $rc, expected 2"
    [ "$(wc -l < "$work/stderr")" -eq 1 ] || fail "$format -o x.json: stderr is not one line"
    grep -q -- "--format perfetto-json" "$work/stderr" || fail "$format -o x.json: $(cat "$work/stderr")"
    [ ! -e "$work/x.json" ] || fail "$format -o x.json: wrote x.json"
done
echo "export_refusals: every export refuses time going back, nothing left behind; no protobuf as .json"
