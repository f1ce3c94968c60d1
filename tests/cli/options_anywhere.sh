#!/bin/sh
# options_anywhere.sh HVLOG WORKDIR: one option parser for every command
# (issue 12, item 5): options stand before or after the operands, "--" ends
# them, and every command words a bad option the same way: exit 2, one
# line "hvlog: CMD: unknown option 'X' (see 'hvlog help CMD')".
set -eu
hvlog=$1 work=$2
fail() { echo "options_anywhere: $*" >&2; exit 1; }
rm -rf "$work"; mkdir -p "$work"; cd "$work"
"$hvlog" record -q -o T --events 200 --lps 2
printf 'msg vp=1\n' > s.hvs

# same_output "A" "B": both command lines succeed and print the same.
same_output() {
    a=$(sh -c "\"\$0\" $1" "$hvlog") || fail "'$1' failed"
    b=$(sh -c "\"\$0\" $2" "$hvlog") || fail "'$2' failed"
    [ "$a" = "$b" ] || fail "'$1' and '$2' differ"
}
same_output "stats --json T" "stats T --json"
same_output "decode --json --lp 1 T" "decode T --lp 1 --json"
same_output "decode --lp=1 T" "decode T --lp=1"
same_output "info T" "info -- T"
same_output "abi types" "abi -- types"
same_output "script --lps 3 s.hvs" "script s.hvs --lps 3"
"$hvlog" export --format perfetto-json -o a.json T > /dev/null || fail "export, options first"
"$hvlog" export T -o b.json --format perfetto-json > /dev/null || fail "export, options last"
cmp -s a.json b.json || fail "export: the two outputs differ"

# expect CMDLINE LINE: exit 2, nothing on stdout, exactly LINE on stderr.
expect() {
    set +e
    out=$(sh -c "\"\$0\" $1" "$hvlog" 2>/dev/null)
    err=$(sh -c "\"\$0\" $1" "$hvlog" 2>&1 >/dev/null)
    sh -c "\"\$0\" $1" "$hvlog" >/dev/null 2>&1
    rc=$?
    set -e
    [ $rc -eq 2 ] || fail "'$1': exit $rc, expected 2"
    [ -z "$out" ] || fail "'$1': wrote to stdout"
    [ "$err" = "$2" ] || fail "'$1': stderr '$err', expected '$2'"
}
for cmd in stats decode info export script abi; do
    expect "$cmd T --bogus" "hvlog: $cmd: unknown option '--bogus' (see 'hvlog help $cmd')"
    expect "$cmd -Z T" "hvlog: $cmd: unknown option '-Z' (see 'hvlog help $cmd')"
done
expect "record -o x --bogus" "hvlog: record: unknown option '--bogus' (see 'hvlog help record')"
expect "decode T --lp" "hvlog: decode: option '--lp' needs a value (see 'hvlog help decode')"
expect "stats T --json=yes" "hvlog: stats: option '--json=yes' is unknown or takes no value (see 'hvlog help stats')"
expect "stats" "hvlog: stats: usage: hvlog stats [--json] TRACE..."
expect "info T T" "hvlog: info: usage: hvlog info [--json] TRACE"
expect "info" "hvlog: info: usage: hvlog info [--json] TRACE"
echo "options_anywhere: ok"
