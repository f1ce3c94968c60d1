#!/bin/sh
# run-script.sh HVLOG NAME.hvs ACTUAL: one scenario test (tests/scripts/CMakeLists.txt).
#
# Runs `HVLOG script [options from NAME.args] NAME.hvs`, keeps its standard
# output in ACTUAL (left in place for inspection), and passes when
#   - the output is byte for byte NAME.out (else `diff -u` is shown), and
#   - the exit status is the one in NAME.exit, 0 when there is no such file
#     (1 is the status of a script that contains malformed lines on purpose).
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 HVLOG NAME.hvs ACTUAL" >&2
    exit 2
fi
hvlog=$1
script=$2
actual=$3
base=${script%.hvs}

args=
if [ -f "$base.args" ]; then
    args=$(cat "$base.args")
fi
want_status=0
if [ -f "$base.exit" ]; then
    want_status=$(cat "$base.exit")
fi

# $args is split into words on purpose: it holds options like `--lps 4 --domains 2`.
# shellcheck disable=SC2086
"$hvlog" script $args "$script" >"$actual"
status=$?

result=0
if ! diff -u "$base.out" "$actual"; then
    echo "FAIL: output of $script differs from $base.out (actual output kept in $actual)"
    result=1
fi
if [ "$status" -ne "$want_status" ]; then
    echo "FAIL: hvlog script exited with $status, expected $want_status"
    result=1
fi
exit $result
