#!/bin/sh
# record_relayd_usage.sh HVLOG WORKDIR: `hvlog record --relayd` refusals,
# no relayd needed. Each is one line on stderr, the documented exit code,
# and no trace directory left behind:
#   usage (2): a URL not net://HOST[:CTRL[:DATA]], --hostname / --session /
#              --relayd-buffer without --relayd, a --relayd-buffer of 0 or
#              junk, no -o and no --relayd;
#   failure (1): nobody listening at the relayd's control port (checked
#              before anything is logged), a hostname relayd would refuse.
set -eu
hvlog=$1 work=$2
rm -rf "$work"; mkdir -p "$work"
# A port nobody listens on: bound by the kernel, then closed.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2> /dev/null || echo 1)

fail() { echo "record_relayd_usage.sh: $*" >&2; exit 1; }

# refused EXIT PATTERN ARGS...: record ARGS exits EXIT with one line matching PATTERN.
refused() {
    want=$1 pattern=$2; shift 2
    rc=0
    "$hvlog" record "$@" --duration 50 > "$work/out" 2> "$work/err" || rc=$?
    [ "$rc" -eq "$want" ] || fail "record $*: exit $rc, not $want: $(cat "$work/err")"
    [ "$(wc -l < "$work/err")" -eq 1 ] || fail "record $*: not one line: $(cat "$work/err")"
    grep -q "$pattern" "$work/err" || fail "record $*: '$(cat "$work/err")' does not say '$pattern'"
    [ ! -e "$work/t" ] || fail "record $*: left $work/t behind"
    ls -a "$work" | grep -q '^\.t\.tmp' && fail "record $*: left a staging directory"
    echo "exit $rc: $(cat "$work/err")"
}

refused 2 "expected net://" -o "$work/t" --relayd http://127.0.0.1
refused 2 "is not a port" -o "$work/t" --relayd "net://127.0.0.1:99999"
refused 2 "need --relayd" -o "$work/t" --hostname h
refused 2 "need --relayd" -o "$work/t" --session s
refused 2 "need --relayd" -o "$work/t" --relayd-buffer 1M
refused 2 "relayd-buffer takes a size" -o "$work/t" --relayd net://127.0.0.1 --relayd-buffer 0
refused 2 "relayd-buffer takes a size" -o "$work/t" --relayd net://127.0.0.1 --relayd-buffer 12Q
refused 2 "unless --relayd" --lps 1
refused 1 "control connection" -o "$work/t" --relayd "net://127.0.0.1:$port"
refused 1 "control connection" --relayd "net://127.0.0.1:$port"
refused 1 "hostname" -o "$work/t" --relayd "net://127.0.0.1:$port" --hostname .hidden
# A real root's recording streams a copy of its trace: -o is required.
refused 2 "needs -o DIR, with --relayd too" --from /dev/mshv_diag --relayd "net://127.0.0.1:$port"
