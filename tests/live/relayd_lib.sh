# shellcheck shell=sh
# relayd_lib.sh: what relayd.sh and record_relayd.sh share, sourced by both
# (`. "$(dirname "$0")/relayd_lib.sh"`) once they have set $work (the test's
# directory, emptied here). Each script defines its own
# fail MESSAGE (it knows which logs say why); the functions below call it.
#
# Gives: exit 77 (CTest SKIP) when lttng-relayd, babeltrace2, stdbuf or
# python3 is missing; $work as an absolute path; LTTNG_HOME inside it;
# $pids and $relayd_pid, killed on exit by their pids; wait_for;
# launch_relayd and start_relayd (sets $ctrl $data $live); live_events.

for tool in lttng-relayd babeltrace2 stdbuf python3; do
    if ! command -v "$tool" > /dev/null 2>&1; then
        echo "SKIP: $tool is not installed (Debian: lttng-tools, babeltrace2, coreutils)"
        exit 77
    fi
done

rm -rf "$work"; mkdir -p "$work"
work=$(cd "$work" && pwd)
# relayd keeps its health socket and lock under $LTTNG_HOME/.lttng: one per
# test, so concurrent tests do not meet.
export LTTNG_HOME="$work/home"
mkdir -p "$LTTNG_HOME"

pids=""
relayd_pid=""
cleanup() {
    # Producers, recordings and viewers run under timeout(1), which passes
    # TERM on.
    for p in $pids; do kill "$p" 2> /dev/null || true; done
    [ -z "$relayd_pid" ] || kill -9 "$relayd_pid" 2> /dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_for TENTHS DESCRIPTION COMMAND...: poll COMMAND every 0.1 s; a
# failure, not a hang, after TENTHS tries.
wait_for() {
    tenths=$1 what=$2; shift 2
    i=0
    while ! "$@" > /dev/null 2>&1; do
        i=$((i + 1))
        [ $i -le "$tenths" ] || fail "gave up waiting for $what"
        sleep 0.1
    done
}

# launch_relayd CTRL DATA LIVE: relayd on those loopback ports, its output
# appended to $work/relayd.log; 0 once its live port serves a viewer, 1
# (relayd killed) when it exits or does not serve within 10 s.
launch_relayd() {
    mkdir -p "$work/out"
    lttng-relayd -o "$work/out" -C "tcp://127.0.0.1:$1" -D "tcp://127.0.0.1:$2" \
        -L "tcp://127.0.0.1:$3" >> "$work/relayd.log" 2>&1 &
    relayd_pid=$!
    i=0
    while [ $i -lt 100 ]; do
        kill -0 "$relayd_pid" 2> /dev/null || break
        if babeltrace2 --input-format=lttng-live "net://127.0.0.1:$3" > /dev/null 2>&1; then
            return 0
        fi
        i=$((i + 1))
        sleep 0.1
    done
    kill -9 "$relayd_pid" 2> /dev/null || true
    wait "$relayd_pid" 2> /dev/null || true
    relayd_pid=""
    return 1
}

# start_relayd: three free ports from the kernel; relayd binds them a moment
# later, so a port taken in between makes relayd exit, and we try again.
start_relayd() {
    for _ in 1 2 3; do
        # shellcheck disable=SC2046 # three numbers, split on purpose
        set -- $(python3 -c 'import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
        ctrl=$1 data=$2 live=$3
        launch_relayd "$ctrl" "$data" "$live" && return 0
    done
    fail "lttng-relayd did not start: $(tail -n 3 "$work/relayd.log")"
}

# The live viewer's events: one pretty line each, starting with "[time]".
live_events() {
    grep -c '^\[' "$1" 2> /dev/null || true
}
