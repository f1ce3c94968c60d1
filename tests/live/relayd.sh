#!/bin/sh
# relayd.sh MODE HVLOG CTF2RELAYD WORKDIR: the live layer against Debian's
# lttng-relayd and babeltrace2, on 127.0.0.1 ports chosen free at run time.
#
#   live  a recording streamed by ctf2relayd is read live by
#         `babeltrace2 --input-format=lttng-live`, event for event, and
#         relayd's on-disk copy reads the same
#   hosts two concurrent sessions of the same name from two hostnames land
#         as two hosts: each viewer URL reads its own recording
#   kill  relayd killed mid-stream: the producer returns one clean error
#         line (exit 1: no crash, no hang), and a relayd that is not there
#         is refused the same way
#
# Exit 77 (CTest SKIP) when lttng-relayd or babeltrace2 is missing.
# Every wait is bounded (a failure, not a hang); relayd and the viewers are
# started here and always killed on exit, by their pids.
set -eu
mode=$1 hvlog=$2 producer=$3 work=$4

# shellcheck source=relayd_lib.sh
. "$(dirname "$0")/relayd_lib.sh"

fail() {
    echo "relayd.sh $mode: $*" >&2
    [ -f "$work/relayd.log" ] && tail -n 5 "$work/relayd.log" >&2
    exit 1
}

# record NAME ARGS...: a recording exported as CTF; prints babeltrace2's
# event count of the CTF directory (the reference every check compares to).
record() {
    name=$1; shift
    "$hvlog" record -o "$work/$name" "$@" --quiet
    "$hvlog" export "$work/$name" --format ctf -o "$work/$name.ctf" > /dev/null
    count_dir "$work/$name.ctf"
}

count_dir() {
    n=$(babeltrace2 -c sink.utils.counter "$1" 2> /dev/null | awk '/Event messages/ {n = $1} END {print n}')
    [ -n "$n" ] && [ "$n" -gt 0 ] || fail "babeltrace2 counted no event in $1"
    echo "$n"
}

listed() { # listed HOSTNAME SESSION PATTERN: relayd lists the session so
    babeltrace2 --input-format=lttng-live "net://127.0.0.1:$live" 2> /dev/null |
        grep "/host/$1/$2 " | grep -q "$3"
}

have_events() { # have_events FILE N
    [ "$(live_events "$1")" -ge "$2" ]
}

# stream_live HOSTNAME SESSION CTF_DIR: start a producer held before its
# first packet and a viewer of its session; returns once the viewer is
# attached and the producer released. Sets $producer_pid and $viewer_pid.
stream_live() {
    h=$1 s=$2 dir=$3
    timeout 90 "$producer" --hold "$work/$h.go" --linger "$work/$h.done" 127.0.0.1 "$ctrl" "$data" "$h" "$s" \
        "$dir" > "$work/$h.producer.out" 2> "$work/$h.producer.err" &
    producer_pid=$!
    pids="$pids $producer_pid"
    wait_for 300 "the $h producer's session" test -e "$work/$h.go.ready"
    # A viewer sees a stream's packets from when it attaches on (babeltrace2
    # attaches with SEEK_LAST): attach before the first packet.
    timeout 90 stdbuf -oL babeltrace2 --input-format=lttng-live "net://127.0.0.1:$live/host/$h/$s" \
        > "$work/$h.live.txt" 2> "$work/$h.live.err" &
    viewer_pid=$!
    pids="$pids $viewer_pid"
    wait_for 300 "the $h viewer to attach" listed "$h" "$s" "1 client(s) connected"
    touch "$work/$h.go"
}

# finish_live HOSTNAME EXPECTED PRODUCER_PID VIEWER_PID: the viewer has read
# EXPECTED events while the streams were open; then the producer closes
# them and exits 0, and the viewer ends with exactly EXPECTED events.
finish_live() {
    h=$1 expected=$2 ppid=$3 vpid=$4
    wait_for 600 "the $h producer to send every packet" test -e "$work/$h.done.ready"
    wait_for 600 "$expected live events for $h (have $(live_events "$work/$h.live.txt"))" \
        have_events "$work/$h.live.txt" "$expected"
    touch "$work/$h.done"
    wait "$ppid" || fail "the $h producer failed: $(cat "$work/$h.producer.err")"
    rc=0
    wait "$vpid" || rc=$?
    [ "$rc" -ne 124 ] || fail "the $h viewer did not end after the session closed"
    [ "$rc" -eq 0 ] || fail "babeltrace2 lttng-live for $h exited $rc: $(grep -v WARNING "$work/$h.live.err" | head -3)"
    got=$(live_events "$work/$h.live.txt")
    [ "$got" -eq "$expected" ] || fail "$h: babeltrace2 lttng-live read $got events, the CTF directory holds $expected"
    echo "$h: $got events live"
}

start_relayd
case $mode in
live)
    expected=$(record t --lps 2 --events 20000 --rate 0 --buffers 4 --seed 7)
    stream_live hvA rec "$work/t.ctf"
    finish_live hvA "$expected" "$producer_pid" "$viewer_pid"
    # relayd's on-disk copy: the stream path is HOSTNAME/SESSION under -o.
    ondisk=$(count_dir "$work/out/hvA/rec")
    [ "$ondisk" -eq "$expected" ] || fail "relayd's copy reads $ondisk events, the CTF directory $expected"
    echo "on disk: $ondisk events"
    ;;
hosts)
    # Two recordings of different sizes, one session name, two hostnames.
    nA=$(record a --lps 2 --events 20000 --rate 0 --buffers 4 --seed 7)
    nB=$(record b --lps 1 --events 5000 --rate 0 --buffers 8 --seed 11)
    [ "$nA" -ne "$nB" ] || fail "the two recordings should differ in size"
    stream_live hostA twin "$work/a.ctf"
    pA=$producer_pid vA=$viewer_pid
    stream_live hostB twin "$work/b.ctf"
    pB=$producer_pid vB=$viewer_pid
    # Both sessions are open at once, under their own host.
    listed hostA twin "" || fail "relayd does not list host/hostA/twin"
    listed hostB twin "" || fail "relayd does not list host/hostB/twin"
    finish_live hostA "$nA" "$pA" "$vA"
    finish_live hostB "$nB" "$pB" "$vB"
    for h in A B; do
        eval n=\$n$h
        ondisk=$(count_dir "$work/out/host$h/twin")
        [ "$ondisk" -eq "$n" ] || fail "relayd's copy for host$h reads $ondisk events, not $n"
    done
    echo "two hosts: $nA and $nB events"
    ;;
kill)
    record t --lps 2 --events 20000 --rate 0 --buffers 4 --seed 7 > /dev/null
    # Held after 3 packets (beacons go on meanwhile); relayd dies there.
    timeout 60 "$producer" --timeout-ms 3000 --hold "$work/go" --hold-after 3 127.0.0.1 "$ctrl" "$data" \
        hvK rec "$work/t.ctf" > "$work/producer.out" 2> "$work/producer.err" &
    ppid=$!
    pids="$pids $ppid"
    wait_for 300 "the producer's third packet" test -e "$work/go.ready"
    kill -9 "$relayd_pid"
    wait "$relayd_pid" 2> /dev/null || true
    relayd_pid=""
    touch "$work/go"
    rc=0
    wait "$ppid" || rc=$?
    [ "$rc" -ne 124 ] || fail "the producer hangs after relayd died"
    [ "$rc" -eq 1 ] || fail "the producer exited $rc after relayd died, not 1: $(cat "$work/producer.err")"
    [ "$(wc -l < "$work/producer.err")" -eq 1 ] || fail "not one error line: $(cat "$work/producer.err")"
    grep -q "^ctf2relayd: relayd 127.0.0.1:" "$work/producer.err" ||
        fail "the error does not name relayd: $(cat "$work/producer.err")"
    echo "after the kill: $(cat "$work/producer.err")"
    # Nobody listens now: refused at connect, one line, exit 1.
    rc=0
    timeout 60 "$producer" --timeout-ms 3000 127.0.0.1 "$ctrl" "$data" hvK rec "$work/t.ctf" \
        > /dev/null 2> "$work/refused.err" || rc=$?
    [ "$rc" -eq 1 ] && [ "$(wc -l < "$work/refused.err")" -eq 1 ] &&
        grep -q "control connection" "$work/refused.err" ||
        fail "no relayd: exit $rc, $(cat "$work/refused.err")"
    echo "no relayd: $(cat "$work/refused.err")"
    ;;
*)
    fail "unknown mode"
    ;;
esac
