#!/bin/sh
# SPDX-License-Identifier: MIT
# bt_scale.sh CTF EXPECT: a 2,048-LP CTF export (export_fixture OUT scale)
# read by babeltrace2 under the file limit docs/trace-format.md section 6
# documents (stream files + 64), and every event's cpu_id checked against
# the LP its Context names (synth.h: Context = lp << 20 | sequence).
# Exits 77 (SKIP) when the hard limit does not allow that many files.
# Time budget: about 20 s (babeltrace2 opens 2,048 files; the box is shared).
set -u
ctf=$1 expect=$2
bt=${BABELTRACE2:-babeltrace2}
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
fail() { echo "bt_scale: $*"; head -n 20 "$err"; exit 1; }
streams=$(ls "$ctf" | grep -c '_lp[0-9]*$')
[ "$streams" -ge 2048 ] || fail "$ctf has $streams stream files, not 2,048"
need=$((streams + 64))
if ! ulimit -n "$need" 2>/dev/null; then
    echo "bt_scale: SKIP: the hard limit on open files is below $need ($(ulimit -Hn))"
    exit 77
fi
"$bt" "$ctf" >"$out" 2>"$err" || fail "babeltrace2 exited $? under ulimit -n $need"
if grep -q ERROR "$err"; then fail "babeltrace2 printed ERROR"; fi
want=$(sed -n 's/.*"total_events": *\([0-9]*\).*/\1/p' "$expect")
# Every event line: cpu_id = N ... context = 0xX, X >> 20 == N; and all
# 2,048 LPs seen.
awk -v want="$want" '
    / cpu_id = / {
        n++
        match($0, /cpu_id = [0-9]+/); lp = substr($0, RSTART + 9, RLENGTH - 9) + 0
        if (!match($0, /context = 0x[0-9A-Fa-f]+/)) { print "no context: " $0; bad++; next }
        ctx = substr($0, RSTART + 12, RLENGTH - 12)
        v = 0
        for (i = 1; i <= length(ctx); i++)
            v = v * 16 + index("0123456789ABCDEF", toupper(substr(ctx, i, 1))) - 1
        if (int(v / 1048576) != lp) { if (bad < 5) print "cpu_id " lp " but context 0x" ctx; bad++ }
        seen[lp] = 1
    }
    END {
        for (k in seen) lps++
        printf "bt_scale: %d events on %d LPs, %d with a wrong cpu_id\n", n, lps, bad
        exit !(bad == 0 && n == want && lps == 2048)
    }' "$out" || fail "events, LPs or cpu_id wrong (want $want events on 2048 LPs)"
