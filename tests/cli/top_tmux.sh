#!/bin/sh
# top_tmux.sh HVLOG WORKDIR: `hvlog top` on a real terminal, driven through
# tmux (issue 17, item 3), following a recording being written:
#   - it takes the alternate screen and draws the column headers, a row per
#     LP and the totals, and the events total moves from refresh to refresh;
#   - q quits with exit 0, and so does Ctrl-C;
#   - either way the terminal is restored: the alternate screen is left (the
#     shell's earlier line shows again, top's lines do not), and the tty is
#     back in canonical mode with echo (stty).
# Exit 77 (CTest SKIP) when tmux is missing: this test never passes
# without having run.
set -eu
hvlog=$1 work=$2
command -v tmux > /dev/null 2>&1 || { echo "SKIP: tmux not found (Debian: tmux; scripts/deps)"; exit 77; }
rm -rf "$work"; mkdir -p "$work"
fail() {
    echo "top_tmux: $*" >&2
    [ -n "${sock:-}" ] && tmux -S "$sock" capture-pane -p -t top 2> /dev/null | sed 's/^/  | /' >&2
    exit 1
}
# A socket path short enough for AF_UNIX, whatever the build directory.
sockdir=$(mktemp -d /tmp/hvlog-top.XXXXXX)
sock=""
record=""
cleanup() {
    for s in "$sockdir"/tmux-*; do
        [ -S "$s" ] && tmux -S "$s" kill-server 2> /dev/null || true
    done
    [ -n "$record" ] && kill "$record" 2> /dev/null || true
    rm -rf "$sockdir"
}
trap cleanup EXIT

t="$work/t"
"$hvlog" record -o "$t" --lps 2 --rate 20000 --duration 60000 --pages 1 --quiet &
record=$!
i=0
while [ ! -f "$t/hvlog-trace.json" ]; do
    [ $i -lt 400 ] || fail "the recording never appeared"
    sleep 0.05; i=$((i + 1))
done

pane() { tmux -S "$sock" capture-pane -p -t top; }
# wait_for WHAT CMD...: poll (at most ~15 s) until CMD succeeds.
wait_for() {
    what=$1; shift
    i=0
    until "$@"; do
        [ $i -lt 300 ] || fail "timed out waiting for $what"
        sleep 0.05; i=$((i + 1))
    done
}
pane_has() { pane | grep -Eq -- "$1"; }
total() { pane | sed -n 's/^total: \([0-9]*\) events.*/\1/p'; }
moved() { now=$(total); [ -n "$now" ] && [ "$now" -gt "$1" ]; }
alternate() { [ "$(tmux -S "$sock" display -p -t top '#{alternate_on}')" = "$1" ]; }

# check_quit KEY N SOURCE...: start `hvlog top SOURCE...` in a fresh session,
# check what it draws, press KEY, check the exit status and the restored
# terminal.
# Each check has its own tmux server: a server whose last session ended
# exits, and a new session on its socket may meet it dying.
check_quit() {
    key=$1 n=$2 sock=$sockdir/tmux-$2
    shift 2
    tmux -S "$sock" -f /dev/null new-session -d -s top -x 100 -y 30 \
        "printf 'before-top\n'; '$hvlog' top --interval 200 $*; echo top-exit=\$?; stty -a; sleep 600"
    wait_for "top's column headers" pane_has '^type +lp +events/s +bytes/s +lost/s +nobuf/s +large/s +ready +inuse'
    alternate 1 || fail "$key: top did not take the alternate screen"
    pane_has '^hvlog top - .* - (being written|running) - ' || fail "$key: no title saying 'being written' or 'running'"
    wait_for "a row for LP 0" pane_has '^local +0 +[0-9]+ '
    pane_has '^local +1 +[0-9]+ ' || fail "$key: no row for LP 1"
    pane_has '^all +- +[0-9]+ ' || fail "$key: no total row"
    pane_has 'q: quit' || fail "$key: no key help"
    first=$(total)
    [ -n "$first" ] || fail "$key: no totals line"
    wait_for "the events total to move past $first" moved "$first"
    pane > "$work/pane-$n"
    tmux -S "$sock" send-keys -t top "$key"
    wait_for "top to exit after $key" pane_has '^top-exit='
    pane_has '^top-exit=0$' || fail "$key: top did not exit 0"
    alternate 0 || fail "$key: the alternate screen is still on"
    pane_has '^before-top$' || fail "$key: the screen before top is not back"
    ! pane_has 'events/s' || fail "$key: top's lines are still on the screen"
    pane_has '(^| )icanon( |$)' || fail "$key: the tty is not back in canonical mode"
    pane_has '(^| )echo( |$)' || fail "$key: echo is not back on"
    tmux -S "$sock" kill-server
}
check_quit q 1 "'$t'"
check_quit C-c 2 "'$t'"
# The simulated host in-process: every column a number, buffer states too.
check_quit q 3 --lps 2 --rate 20000 --pages 1
grep -q '^hvlog top - simulated host - running - ' "$work/pane-3" || fail "sim: no 'running' title"
grep -Eq '^local +1 +[0-9]+ +[0-9.]+ [KMG]?i?B +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+$' "$work/pane-3" ||
    fail "sim: LP 1's row does not have a number in every column: $(grep '^local' "$work/pane-3")"
grep -Eq '^total: .*; messages [1-9][0-9]* \([0-9]+/s\)$' "$work/pane-3" || fail "sim: no ready messages counted"
echo "top_tmux: q and Ctrl-C quit with exit 0 and restore the terminal (trace and simulated host)"
