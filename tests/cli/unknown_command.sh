#!/bin/sh
# unknown_command.sh HVLOG: an unknown command is a usage error, exit 2,
# with exactly one line on stderr and nothing on stdout; a near miss names
# the closest commands, as git's "did you mean" does.
set -u
hvlog=$1
fail() { echo "unknown_command: $*" >&2; exit 1; }

check() { # check WANT_LINE ARGS...
    want=$1; shift
    out=$("$hvlog" "$@" 2>/dev/null)
    err=$("$hvlog" "$@" 2>&1 >/dev/null)
    "$hvlog" "$@" >/dev/null 2>&1
    rc=$?
    [ $rc -eq 2 ] || fail "'$*': exit $rc, expected 2"
    [ -z "$out" ] || fail "'$*': wrote to stdout: $out"
    [ "$err" = "$want" ] || fail "'$*': stderr '$err', expected '$want'"
}

check "hvlog: unknown command 'frobnicate' (see 'hvlog --help')" frobnicate
check "hvlog: unknown command 'x' (see 'hvlog --help')" x
for typo in stast:stats stat:stats exprot:export inf:info ifno:info hepl:help ab:abi recrod:record; do
    check "hvlog: unknown command '${typo%:*}'; did you mean '${typo#*:}'? (see 'hvlog --help')" "${typo%:*}"
done
check "hvlog: help: unknown command 'stast'; did you mean 'stats'? (see 'hvlog --help')" help stast
echo "unknown_command: ok"
