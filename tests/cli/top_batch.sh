#!/bin/sh
# top_batch.sh HVLOG WORKDIR: `hvlog top` in plain-text mode (issue 17,
# item 3) following a recording while `hvlog record` writes it:
#   - usage errors exit 2 and a missing trace exits 1, one stderr line each;
#   - without TRACE, the simulated host in-process shows every column;
#   - with stdout not a terminal, top prints one block per interval without
#     --batch, with the column headers and a row per LP, says "being
#     written" while the recorder runs and stops by itself after a last
#     "finished" block, exit 0;
#   - the events total grows from block to block and its last value, and
#     the last block's messages, equal `hvlog stats` of the finished trace;
#   - --batch -n 2 prints exactly two blocks of a live recording; a finished
#     trace gives one block and exit 0;
#   - a buffer whose header lies is left out and counted as corrupt.
set -eu
hvlog=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
fail() { echo "top_batch: $*" >&2; exit 1; }

# ---- refusals ---------------------------------------------------------------
rc=0; "$hvlog" top -b "$work" "$work" > /dev/null 2> "$work/err" || rc=$?
[ $rc -eq 2 ] || fail "two operands: exit $rc, not 2"
[ "$(wc -l < "$work/err")" -eq 1 ] || fail "two operands: not one line: $(cat "$work/err")"
rc=0; "$hvlog" top --interval 50 "$work" > /dev/null 2> "$work/err" || rc=$?
[ $rc -eq 2 ] || fail "--interval 50 (more than 10 refreshes a second): exit $rc, not 2"
grep -q -- '--interval' "$work/err" || fail "--interval 50: the line does not name it: $(cat "$work/err")"
rc=0; "$hvlog" top -b "$work/nosuch" > "$work/out" 2> "$work/err" || rc=$?
[ $rc -eq 1 ] || fail "missing trace: exit $rc, not 1"
[ "$(wc -l < "$work/err")" -eq 1 ] || fail "missing trace: not one line: $(cat "$work/err")"
[ ! -s "$work/out" ] || fail "missing trace: something on stdout"

# ---- following a recording ----------------------------------------------------
t="$work/t"
"$hvlog" record -o "$t" --lps 2 --rate 20000 --duration 4000 --pages 1 --quiet 2> "$work/record.err" &
record=$!
i=0
while [ ! -f "$t/hvlog-trace.json" ]; do
    [ $i -lt 400 ] || fail "the recording never appeared"
    sleep 0.05; i=$((i + 1))
done
"$hvlog" top --batch -n 2 --interval 200 "$t" > "$work/two" 2> "$work/two.err" &
two=$!
rc=0; "$hvlog" top --interval 200 "$t" > "$work/out" 2> "$work/top.err" || rc=$?
[ $rc -eq 0 ] || fail "top exited $rc: $(cat "$work/top.err")"
rc=0; wait $record || rc=$?
[ $rc -eq 0 ] || fail "record exited $rc: $(cat "$work/record.err")"
rc=0; wait $two || rc=$?
[ $rc -eq 0 ] || fail "top -n 2 exited $rc: $(cat "$work/two.err")"
[ ! -s "$work/top.err" ] || fail "top wrote to stderr: $(cat "$work/top.err")"

blocks=$(grep -c '^hvlog top - ' "$work/out")
[ "$blocks" -ge 2 ] || fail "$blocks blocks, expected one per interval"
[ "$(grep -c '^type  *lp  *events/s  *bytes/s  *lost/s  *nobuf/s  *large/s  *ready  *inuse$' "$work/out")" -eq "$blocks" ] ||
    fail "not one header line per block"
grep -q '^hvlog top - .* - being written - ' "$work/out" || fail "no block says 'being written'"
tail_state=$(grep '^hvlog top - ' "$work/out" | tail -n 1)
case $tail_state in *" - finished - "*) ;; *) fail "the last block is not 'finished': $tail_state" ;; esac
[ "$(grep -c ' - finished - ' "$work/out")" -eq 1 ] || fail "top did not stop after the recording finished"
grep -Eq '^local +0 +[0-9]+ ' "$work/out" || fail "no row for LP 0"
grep -Eq '^local +1 +[0-9]+ ' "$work/out" || fail "no row for LP 1"
# A rate somewhere above zero while the recording ran (20000 events/s per LP offered).
grep -Eq '^all +- +[1-9][0-9]* ' "$work/out" || fail "no events/s above zero"

# The totals grow and end where stats ends.
grep '^total: ' "$work/out" | sed 's/^total: \([0-9]*\) events.*/\1/' > "$work/totals"
first=$(head -n 1 "$work/totals") last=$(tail -n 1 "$work/totals")
[ "$first" -lt "$last" ] || fail "the events total did not move: $first then $last"
sort -n -c "$work/totals" || fail "the events total went down: $(tr '\n' ' ' < "$work/totals")"
"$hvlog" stats --json "$t" > "$work/stats.json"
want=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(s["events"] for s in d["streams"]))' "$work/stats.json")
[ "$last" -eq "$want" ] || fail "top's last total is $last events, stats says $want"
messages=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["messages"])' "$work/stats.json")
grep ' - finished - ' -A 1 "$work/out" | grep -q "; messages $messages\$" ||
    fail "the finished block does not show the $messages ready messages"

# -n 2 of a live recording: exactly two blocks.
[ "$(grep -c '^hvlog top - ' "$work/two")" -eq 2 ] || fail "-n 2 printed $(grep -c '^hvlog top - ' "$work/two") blocks"

# A finished trace: one block, its totals, exit 0.
rc=0; "$hvlog" top -b -n 5 --interval 100 "$t" > "$work/done" || rc=$?
[ $rc -eq 0 ] || fail "top of a finished trace exited $rc"
[ "$(grep -c '^hvlog top - .* - finished - ' "$work/done")" -eq 1 ] || fail "a finished trace is not one finished block"
grep -q "^total: $want events, " "$work/done" || fail "a finished trace's total is not $want events"
# A buffer whose header lies (BufferSize 0xffffffff) is left out and
# counted as corrupt; the rest is still shown, exit 0.
cp -r "$t" "$work/bad"
printf '\377\377\377\377' | dd of="$work/bad/local.buffers" bs=1 seek=0 conv=notrunc 2> /dev/null
rc=0; "$hvlog" top -b --interval 100 "$work/bad" > "$work/bad.out" 2> "$work/bad.err" || rc=$?
[ $rc -eq 0 ] || fail "a corrupt buffer: exit $rc: $(cat "$work/bad.err")"
grep -Eq '^total: [0-9]+ events, .* 1 corrupt; ' "$work/bad.out" || fail "a corrupt buffer is not counted: $(grep '^total' "$work/bad.out")"
bad_total=$(sed -n 's/^total: \([0-9]*\) events.*/\1/p' "$work/bad.out")
[ "$bad_total" -lt "$want" ] && [ "$bad_total" -gt 0 ] || fail "with one buffer left out, $bad_total events of $want"
echo "top_batch: $blocks blocks of the trace, $want events"

# ---- the simulated host, in-process ---------------------------------------------
# Everything is known there: the cause columns and buffer states are numbers,
# not "-", and messages count. Flat out into 4 one-page buffers loses events
# for want of a free buffer; --duration ends it with a "finished" block in
# which every buffer was drained (inuse 0), exit 0.
rc=0; "$hvlog" top --batch --interval 200 --duration 1000 --lps 2 --rate 0 --buffers 4 --pages 1 \
    --threshold 1 > "$work/sim" 2> "$work/sim.err" || rc=$?
[ $rc -eq 0 ] || fail "top of the simulated host exited $rc: $(cat "$work/sim.err")"
grep -q '^hvlog top - simulated host - running - ' "$work/sim" || fail "sim: no 'running' block"
[ "$(grep -c '^hvlog top - simulated host - finished - ' "$work/sim")" -eq 1 ] ||
    fail "sim: not one 'finished' block at the end"
grep -Eq '^local +1 +[0-9]+ +[0-9.]+ [KMG]?i?B +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$' "$work/sim" ||
    fail "sim: LP 1's row does not have a number in every column"
grep -Eq '^all +- +[0-9]+ +[0-9.]+ [KMG]?i?B +[0-9]+ +[1-9][0-9]* ' "$work/sim" ||
    fail "sim: flat out into 4 buffers, no events lost for want of a buffer"
grep '^total: ' "$work/sim" | tail -n 1 | grep -Eq ' [1-9][0-9]* lost, 0 corrupt; messages [1-9]' ||
    fail "sim: the last totals show no EventsLost or no messages"
grep -A 20 ' - finished - ' "$work/sim" | grep -Eq '^all +- .* 0 +0$' ||
    fail "sim: buffers still Ready or InUse after the run was concluded"
rc=0; "$hvlog" top "$t" --lps 2 > /dev/null 2> "$work/err" || rc=$?
[ $rc -eq 2 ] || fail "TRACE with a simulated host's option: exit $rc, not 2"
grep -q -- '--lps' "$work/err" || fail "TRACE with --lps: the line does not name it"
echo "top_batch: the simulated host shows every column"
