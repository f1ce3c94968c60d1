#!/bin/sh
# man-lint.sh HVLOG MANDIR OUTDIR: build every man page from its scdoc source
# and lint it, then check the pages against the program itself, so they
# cannot drift from the code:
#   - `scdoc < X.scd > OUTDIR/X` succeeds and `mandoc -T lint -W error`
#     reports nothing (errors only: scdoc's output always draws style
#     warnings, such as "skipping paragraph macro", at -W warning);
#   - each page's title line names its file (X.N.scd starts with "X(N)");
#   - every command listed by `hvlog --help` has a page, hvlog-CMD.1.scd
#     (`help` is documented in hvlog.1.scd), and hvlog.1 refers to it;
#   - every long option in `hvlog help CMD` appears in that command's page,
#     and those of `hvlog --help` in hvlog.1.scd.
# Every problem is reported, one line each, before the script fails.
set -eu
hvlog=$1 mandir=$2 out=$3
problems=0
problem() { echo "man-lint: $*" >&2; problems=$((problems + 1)); }

for tool in scdoc mandoc; do
    command -v "$tool" > /dev/null 2>&1 || { echo "man-lint: $tool not found (run scripts/deps)" >&2; exit 1; }
done
rm -rf "$out"
mkdir -p "$out"

# ---- build and lint ---------------------------------------------------------
found=0
for src in "$mandir"/*.scd; do
    [ -f "$src" ] || continue
    found=$((found + 1))
    page=$(basename "$src" .scd)            # hvlog-record.1
    name=${page%.*} section=${page##*.}     # hvlog-record, 1
    title=$(head -n 1 "$src")
    case $title in
        "$name($section)"*) ;;
        *) problem "$src: title line is '$title', not '$name($section)'" ;;
    esac
    if ! scdoc < "$src" > "$out/$page" 2> "$out/$page.err"; then
        problem "$src: scdoc failed: $(head -n 1 "$out/$page.err")"
        continue
    fi
    rm -f "$out/$page.err"
    [ -s "$out/$page" ] || { problem "$src: scdoc wrote nothing"; continue; }
    if ! lint=$(mandoc -T lint -W error "$out/$page" 2>&1) || [ -n "$lint" ]; then
        problem "$out/$page: mandoc -T lint -W error reported:"
        printf '%s\n' "$lint" >&2
    fi
done
[ "$found" -gt 0 ] || problem "no *.scd pages in $mandir"

# ---- pages against the program ----------------------------------------------
# long_options_missing PAGE TEXT: each --option of TEXT must appear in PAGE as
# a whole word (so --type does not count for --types).
long_options_missing() {
    for opt in $(printf '%s\n' "$2" | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        grep -Eq -- "(^|[^a-z0-9-])$opt([^a-z0-9-]|\$)" "$1" ||
            problem "$1: does not document $opt (from: $3)"
    done
}

top=$("$hvlog" --help) || problem "'hvlog --help' failed"
overview="$mandir/hvlog.1.scd"
if [ -f "$overview" ]; then
    long_options_missing "$overview" "$(printf '%s\n' "$top" | head -n 1)" "hvlog --help"
else
    problem "$overview: missing (the overview page)"
fi
# The command table: the lines after "commands:", "  NAME  summary".
commands=$(printf '%s\n' "$top" | awk '/^commands:/ {f = 1; next} f && /^  [a-z]/ {print $1} f && /^$/ {exit}')
[ -n "$commands" ] || problem "no commands found in 'hvlog --help'"
for cmd in $commands; do
    if [ "$cmd" = help ]; then
        page=$overview
        grep -q -- '\*help\*' "$page" 2> /dev/null || problem "$page: does not document 'hvlog help'"
    else
        page="$mandir/hvlog-$cmd.1.scd"
        [ -f "$page" ] || { problem "$page: missing (command '$cmd' has no page)"; continue; }
        grep -q -- "\*hvlog-$cmd\*(1)" "$overview" 2> /dev/null ||
            problem "$overview: does not refer to hvlog-$cmd(1)"
    fi
    if ! usage=$("$hvlog" help "$cmd"); then
        problem "'hvlog help $cmd' failed"
        continue
    fi
    long_options_missing "$page" "$usage" "hvlog help $cmd"
done

if [ "$problems" -gt 0 ]; then
    echo "man-lint: $problems problem(s)" >&2
    exit 1
fi
echo "man-lint: $found pages built and linted, $(printf '%s\n' "$commands" | wc -l) commands checked"
