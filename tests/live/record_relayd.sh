#!/bin/sh
# record_relayd.sh MODE HVLOG WORKDIR [FAKE_MSHV]: `hvlog record --relayd` against
# Debian's lttng-relayd and babeltrace2, on 127.0.0.1 ports chosen free at
# run time (issue 17).
#
#   live   a recording from the simulated host, read live by
#          `babeltrace2 --input-format=lttng-live`: its event count equals
#          `hvlog stats` of the same run's local trace, and per LP, events
#          read + discarded == logged; relayd's copy on disk reads the same
#   hosts  two concurrent recordings with different --hostname land as two
#          hosts, each on disk with its own recording's count; a recording
#          without -o goes to relayd only, all of it
#   kill   relayd killed mid-recording: the recording goes on, exits 0,
#          and reports the loss; sent + lost == the local trace's events,
#          and per stream in the trace's closing metadata (info, stats);
#          a relayd started again on the same ports gets a new session
#   mshv   a real root's recording (`--from /dev/mshv_diag`, the emulated
#          device tests/capture/fake_mshv.c, LD_PRELOAD FAKE_MSHV) read
#          live: data arrives as buffers fill (the start line says so);
#          babeltrace2 lttng-live's count, relayd's copy on disk and the
#          trace's closing.relayd "sent" all equal `hvlog stats` of the
#          local trace, nothing lost
#
# The recording is held before it logs (HVLOG_TEST_RELAYD_HOLD) so that the
# viewer attaches first, and at the end (HVLOG_TEST_RELAYD_LINGER) until
# the viewer has read everything: docs/live.md says why both are needed.
# Exit 77 (CTest SKIP) when lttng-relayd or babeltrace2 is missing. Every
# wait is bounded; relayd, the recordings and the viewers started here are
# killed on exit, by their pids.
set -eu
mode=$1 hvlog=$2 work=$3 fake=${4:-}

# shellcheck source=relayd_lib.sh
. "$(dirname "$0")/relayd_lib.sh"

fail() {
    echo "record_relayd.sh $mode: $*" >&2
    for f in "$work"/*.err; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 5 "$f" >&2; }
    done
    exit 1
}

listed() { # listed HOSTNAME SESSION
    babeltrace2 --input-format=lttng-live "net://127.0.0.1:$live" 2> /dev/null |
        grep -q "/host/$1/$2 "
}

# babeltrace2's event count of a CTF directory (the counter's last report).
count_dir() {
    babeltrace2 -c sink.utils.counter "$1" 2> /dev/null | awk '/Event messages/ {n = $1} END {print n + 0}'
}

# The local trace's events: the "events" column of `hvlog stats`.
trace_events() {
    "$hvlog" stats "$1" | awk '$1 == "local" || $1 == "global" {n += $3} END {print n + 0}'
}

have_events() { [ "$(live_events "$1")" -ge "$2" ]; }

# record_live NAME HOSTNAME ARGS...: a recording held before it logs and
# at its end; sets $rec_pid. Its stdout/stderr go to NAME.out/NAME.err.
# live_round_trip NAME HOST: with the recording $rec_pid of session NAME
# (hostname HOST) waiting at NAME.go, attach babeltrace2 lttng-live, let
# the recording run, and check the viewer read every event of the local
# trace $work/NAME, which the recording commits before its linger ends:
# its count, in $expected, is the reference.
live_round_trip() {
    timeout 120 stdbuf -oL babeltrace2 --input-format=lttng-live "net://127.0.0.1:$live/host/$2/$1" \
        > "$work/live.txt" 2> "$work/live.err" &
    viewer_pid=$!
    pids="$pids $viewer_pid"
    wait_for 300 "the viewer to attach" sh -c "babeltrace2 --input-format=lttng-live net://127.0.0.1:$live 2>/dev/null | grep '/host/$2/$1 ' | grep -q '1 client(s) connected'"
    touch "$work/$1.go"
    wait_for 600 "the recording's end" test -e "$work/$1.done.ready"
    expected=$(trace_events "$work/$1")
    [ "$expected" -gt 0 ] || fail "the local trace holds no event"
    wait_for 600 "$expected live events (have $(live_events "$work/live.txt"))" \
        have_events "$work/live.txt" "$expected"
    touch "$work/$1.done"
    wait "$rec_pid" || fail "record ($1) exited $?"
    rc=0
    wait "$viewer_pid" || rc=$?
    [ "$rc" -eq 0 ] || fail "babeltrace2 lttng-live exited $rc"
    got=$(live_events "$work/live.txt")
    [ "$got" -eq "$expected" ] || fail "babeltrace2 lttng-live read $got events, hvlog stats says $expected"
}

record_live() {
    name=$1 host=$2; shift 2
    HVLOG_TEST_RELAYD_HOLD="$work/$name.go" HVLOG_TEST_RELAYD_LINGER="$work/$name.done" \
        timeout 120 "$hvlog" record -o "$work/$name" --relayd "net://127.0.0.1:$ctrl:$data" \
        --hostname "$host" "$@" > "$work/$name.out" 2> "$work/$name.err" &
    rec_pid=$!
    pids="$pids $rec_pid"
    wait_for 300 "the $name recording's session" test -e "$work/$name.go.ready"
}

start_relayd
case $mode in
live)
    # --global 0: every event is LocalDiagnostics, whose per-LP counts the
    # trace's host section holds. 2 LPs x 15000 events at 10000/s: ~1.5 s.
    record_live t hvA --lps 2 --global 0 --events 15000 --rate 10000 --buffers 4 --seed 7
    grep -q "live at net://127.0.0.1/host/hvA/t " "$work/t.err" || fail "no viewer URL printed"
    live_round_trip t hvA
    grep -q "nothing lost on the way" "$work/t.err" || fail "record reports a relayd loss"
    # Per LP: babeltrace2 reads every recorded event and reports as
    # discarded every loss the buffers carry (EventsLost), and so
    # read + discarded == logged, but for losses after an LP's last buffer:
    # no buffer carries those (spec §7.4), and the host section alone
    # counts them ("tail" below; usually 0).
    "$hvlog" stats "$work/t" > "$work/stats.txt"
    awk '$1 ~ /^[0-9]+$/ && NF == 7 {print $1, $2, $3, $4}' "$work/stats.txt" > "$work/logged.txt"
    [ "$(wc -l < "$work/logged.txt")" -eq 2 ] || fail "hvlog stats has no per-LP table"
    while read -r lp logged recorded host_lost; do
        read_n=$(grep -c "cpu_id = $lp," "$work/live.txt" || true)
        carried=$(awk -v lp="$lp" '$1 == "local" && $2 == lp {print $6}' "$work/stats.txt")
        # stream ID = 1 << 32 | LP (LocalDiagnostics is log type 1).
        sid=$((4294967296 + lp))
        disc=$(grep "Tracer discarded" "$work/live.err" | grep "stream ID: $sid)" |
            sed 's/.*discarded \([0-9]*\) events*.*/\1/' | awk '{n += $1} END {print n + 0}')
        tail_lost=$((host_lost - carried))
        [ "$read_n" -eq "$recorded" ] || fail "LP $lp: read $read_n live, recorded $recorded"
        [ "$disc" -eq "$carried" ] || fail "LP $lp: babeltrace2 reports $disc discarded, the buffers carry $carried"
        [ $((read_n + disc + tail_lost)) -eq "$logged" ] ||
            fail "LP $lp: read $read_n + discarded $disc + tail $tail_lost != logged $logged"
        echo "LP $lp: read $read_n + discarded $disc (+ tail $tail_lost) == logged $logged"
    done < "$work/logged.txt"
    ondisk=$(count_dir "$work/out/hvA/t")
    [ "$ondisk" -eq "$expected" ] || fail "relayd's copy reads $ondisk events, not $expected"
    echo "live: $got events, on disk: $ondisk, hvlog stats: $expected"
    ;;
hosts)
    # Two recordings of different sizes, the same session name "t".
    mkdir -p "$work/a" "$work/b"
    record_live a/t hostA --lps 2 --events 8000 --rate 8000 --seed 7
    pA=$rec_pid
    # hostB on the TSC basis, with the global group: babeltrace2 cannot
    # merge two TSC clocks, so relayd gets its LocalDiagnostics only.
    record_live b/t hostB --lps 1 --events 3000 --rate 6000 --seed 11 --basis tsc
    pB=$rec_pid
    listed hostA t || fail "relayd does not list host/hostA/t"
    listed hostB t || fail "relayd does not list host/hostB/t"
    touch "$work/a/t.go" "$work/b/t.go"
    wait_for 600 "hostA's end" test -e "$work/a/t.done.ready"
    wait_for 600 "hostB's end" test -e "$work/b/t.done.ready"
    touch "$work/a/t.done" "$work/b/t.done"
    wait "$pA" || fail "hostA's record failed"
    wait "$pB" || fail "hostB's record failed"
    nA=$(trace_events "$work/a/t")
    nB=$("$hvlog" stats "$work/b/t" | awk '$1 == "local" {n += $3} END {print n + 0}')
    grep -q "streams LocalDiagnostics only" "$work/b/t.err" || fail "hostB: no note that only LocalDiagnostics is streamed"
    [ "$nA" -ne "$nB" ] || fail "the two recordings should differ in size"
    dA=$(count_dir "$work/out/hostA/t") dB=$(count_dir "$work/out/hostB/t")
    [ "$dA" -eq "$nA" ] || fail "hostA: relayd's copy reads $dA events, the trace $nA"
    [ "$dB" -eq "$nB" ] || fail "hostB: relayd's copy reads $dB events, the trace $nB"
    echo "two hosts: hostA $dA events, hostB $dB events"
    # --hostname names the local trace's host too (root.hostname).
    "$hvlog" info "$work/a/t" | grep -q '^host name: *hostA$' || fail "trace a/t does not name hostA"
    # Without -o: relayd only, no local trace; the default linger (2 s, no
    # hook) ends it. relayd's copy holds what record says it recorded.
    "$hvlog" record --relayd "net://127.0.0.1:$ctrl:$data" --hostname hostC --session solo \
        --lps 1 --global 0 --events 2000 --rate 4000 > "$work/solo.out" 2> "$work/solo.err" ||
        fail "record without -o failed"
    n=$(sed -n 's/^hvlog: recorded \([0-9]*\) events .* to relayd;.*/\1/p' "$work/solo.out")
    [ -n "$n" ] || fail "record without -o: no summary line: $(cat "$work/solo.out")"
    [ ! -e "$work/solo" ] || fail "record without -o wrote a trace"
    dC=$(count_dir "$work/out/hostC/solo")
    [ "$dC" -eq "$n" ] || fail "relayd only: relayd's copy reads $dC events, record says $n"
    echo "relayd only: $dC events"
    ;;
kill)
    # 4 s at 5000 events/s per LP; relayd dies after the first packets and
    # comes back later on the same ports. --relayd-buffer 64K: the queue
    # overflows meanwhile, so that loss is counted too.
    record_live t hvK --lps 2 --duration 4000 --rate 5000 --relayd-buffer 64K
    touch "$work/t.go"
    wait_for 300 "relayd's first packets" sh -c "test -s '$work/out/hvK/t/local_lp0'"
    kill -9 "$relayd_pid"
    wait "$relayd_pid" 2> /dev/null || true
    relayd_pid=""
    wait_for 300 "record to notice" grep -q "the recording goes on" "$work/t.err"
    kill -0 "$rec_pid" || fail "record stopped when relayd died"
    # Back on the same ports (freed a moment ago; if taken, the test fails
    # with that reason rather than pass).
    launch_relayd "$ctrl" "$data" "$live" || fail "relayd did not start again on $ctrl/$data/$live"
    wait_for 300 "record to reconnect" grep -q "reconnected" "$work/t.err"
    wait_for 600 "the recording's end" test -e "$work/t.done.ready"
    touch "$work/t.done"
    rc=0
    wait "$rec_pid" || rc=$?
    [ "$rc" -eq 0 ] || fail "record exited $rc after relayd died"
    total=$(trace_events "$work/t")
    sent=$(sed -n 's/.*relayd: sent \([0-9]*\) events in.*/\1/p' "$work/t.err")
    lost=$(sed -n 's/.*relayd: \([0-9]*\) events lost in all.*/\1/p' "$work/t.err")
    [ -n "$sent" ] && [ -n "$lost" ] || fail "record does not report what relayd lost"
    [ "$lost" -gt 0 ] || fail "relayd was down for a while, yet nothing is reported lost"
    [ $((sent + lost)) -eq "$total" ] || fail "sent $sent + lost $lost != the trace's $total events"
    grep -q "was full" "$work/t.err" || fail "the full --relayd-buffer is not reported"
    # The local trace's closing metadata holds the same, per stream and by
    # cause: per stream sent + lost for relayd == the stream's events in
    # the trace (hvlog stats), and the totals are record's.
    "$hvlog" stats --json "$work/t" > "$work/stats.json"
    python3 - "$work/stats.json" "$sent" "$lost" <<'PY' || fail "the trace's relayd counts do not add up"
import json, sys
s = json.load(open(sys.argv[1]))
sent, lost = int(sys.argv[2]), int(sys.argv[3])
r = s["relayd"]
causes = ("lost_queue_full", "lost_send_failed", "lost_unsent_at_end", "lost_encoder")
rows = {(x["type"], x["lp"]): x for x in r["streams"]}
events = {(x["type"], x["lp"]): x["events"] for x in s["streams"]}
assert set(rows) == {k for k, v in events.items() if v}, (sorted(rows), events)
for k, x in rows.items():
    dropped = sum(x[c] for c in causes)
    assert x["sent"] + dropped == events[k], (k, x, events[k])
    print(f"{k[0]} LP {k[1]}: sent {x['sent']} + lost for relayd {dropped} == {events[k]} in the trace")
assert (r["sent"], r["lost"]) == (sent, lost), (r["sent"], r["lost"], sent, lost)
assert sum(x["lost_queue_full"] for x in rows.values()) > 0, "no queue-full loss recorded"
assert r["breaks"] >= 1 and r["reconnects"] >= 1, r
PY
    "$hvlog" info "$work/t" | grep -q "^relayd: .* sent $sent events, $lost lost for relayd (queue full [1-9]" ||
        fail "hvlog info does not show the relayd losses: $("$hvlog" info "$work/t" | grep relayd)"
    "$hvlog" stats "$work/t" | grep -q "^relayd local *0 " || fail "hvlog stats has no relayd table"
    grep -q "relayd: $sent sent, $lost lost on the way" "$work/t.out" ||
        fail "record's closing line does not count the relayd loss: $(cat "$work/t.out")"
    echo "relayd killed: $total events recorded, $sent sent, $lost lost; $(grep -c . "$work/t.err") lines:"
    cat "$work/t.err"
    ;;
mshv)
    [ -e /dev/mshv_diag ] && { echo "SKIP: a real /dev/mshv_diag exists here; this test emulates it"; exit 77; }
    # The live streams announced up front are the root's CPUs (its VPs):
    # the emulated host gets as many LPs, each logging.
    cpus=$(getconf _NPROCESSORS_CONF)
    [ "$cpus" -le 16 ] || { echo "SKIP: $cpus CPUs: the emulated host would run $cpus LP threads"; exit 77; }
    # LD_PRELOAD to hvlog alone (the library leaves children out), so no
    # timeout(1) in front: the cleanup kills it by its pid. 2 s of 1-page
    # buffers at 3000 events/s per LP: ~40 buffers/s per LP reach relayd.
    HVLOG_TEST_RELAYD_HOLD="$work/m.go" HVLOG_TEST_RELAYD_LINGER="$work/m.done" \
        HVLOG_FAKE_MSHV_LPS=$cpus HVLOG_FAKE_MSHV_RATE=3000 HVLOG_FAKE_MSHV_MSR=1 LD_PRELOAD="$fake" \
        "$hvlog" record --from /dev/mshv_diag -o "$work/m" --relayd "net://127.0.0.1:$ctrl:$data" \
        --hostname hvM --pages 1 --buffers 16 --duration 2000 > "$work/m.out" 2> "$work/m.err" &
    rec_pid=$!
    pids="$pids $rec_pid"
    wait_for 300 "the mshv recording's session" test -e "$work/m.go.ready"
    grep -q "live at net://127.0.0.1/host/hvM/m .*arrives as its buffers fill (the mshv_diag uapi has no flush)" \
        "$work/m.err" || fail "the start line does not say that data arrives as buffers fill"
    live_round_trip m hvM
    ondisk=$(count_dir "$work/out/hvM/m")
    [ "$ondisk" -eq "$expected" ] || fail "relayd's copy reads $ondisk events, not $expected"
    "$hvlog" stats --json "$work/m" > "$work/m.json"
    python3 - "$work/m.json" <<'PY' || fail "the trace's closing.relayd does not match its events"
import json, sys
s = json.load(open(sys.argv[1]))
r = s["relayd"]
events = {(x["type"], x["lp"]): x["events"] for x in s["streams"]}
sent = {(x["type"], x["lp"]): x["sent"] for x in r["streams"]}
assert r["lost"] == 0, r
assert sent == {k: v for k, v in events.items() if v}, (sent, events)
PY
    grep -q "relayd: $expected sent, 0 lost on the way" "$work/m.out" || fail "closing line: $(cat "$work/m.out")"
    echo "mshv live: $got events, on disk: $ondisk, hvlog stats: $expected"
    ;;
*)
    fail "unknown mode"
    ;;
esac
