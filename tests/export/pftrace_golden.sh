#!/bin/sh
# pftrace_golden.sh PROTOC PROTO_DIR OUT.pftrace GOLDEN [--update]: the
# export of a small synthetic trace, decoded by protoc against our subset
# (perfetto_subset.proto), equals the checked-in text byte for byte: the
# packet layout, interning and delta times cannot change unnoticed.
# Exit 77 (skip) without protoc. --update rewrites GOLDEN.
set -eu
protoc=$1 proto_dir=$2 trace=$3 golden=$4
command -v "$protoc" > /dev/null 2>&1 || { echo "SKIP: $protoc not found (Debian: protobuf-compiler)"; exit 77; }
decoded=$("$protoc" --decode=hvlog.perfetto_subset.Trace -I "$proto_dir" perfetto_subset.proto < "$trace")
if [ "${5:-}" = "--update" ]; then
    printf '%s\n' "$decoded" > "$golden"
    echo "pftrace_golden: wrote $golden"
    exit 0
fi
printf '%s\n' "$decoded" | diff -u "$golden" - || { echo "pftrace_golden: $trace differs from $golden"; exit 1; }
echo "pftrace_golden: $trace matches $golden"
