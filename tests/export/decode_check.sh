#!/bin/sh
# decode_check.sh HVLOG TRACE EXPECT_JSON: `hvlog decode` prints one line per
# entry and `hvlog stats` counts every entry, as the synthetic trace's
# expectation says (total_events), in either header convention. Run under
# CTest's timeout: a reader that steps wrongly between entries never ends.
set -eu
hvlog=$1 trace=$2 expect=$3
want=$(sed -n 's/^ *"total_events": *\([0-9]*\).*/\1/p' "$expect")
[ -n "$want" ] || { echo "no total_events in $expect"; exit 1; }
lines=$("$hvlog" decode "$trace" | grep -vc '^\[lost' || true)
[ "$lines" -eq "$want" ] || { echo "decode printed $lines entries, expected $want"; exit 1; }
counted=$("$hvlog" stats "$trace" | awk '$1 == "local" || $1 == "global" || $1 == "system" { n += $3 } END { print n + 0 }')
[ "$counted" -eq "$want" ] || { echo "stats counted $counted entries, expected $want"; exit 1; }
echo "decode and stats: $want entries"
