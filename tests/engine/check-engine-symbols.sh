#!/bin/sh
# check-engine-symbols.sh CC LIB_A LIB_SO STUB_C WORKDIR
#
# libhvlog-engine (docs/embedding.md) as a hypervisor links it:
#  1. the static archive, whole, links into a freestanding program with
#     nothing but memcpy/memset/memmove/memcmp (and an entry point) beside it;
#  2. neither library leaves any other symbol undefined (nm -u);
#  3. every global symbol the archive defines is hvlog_-prefixed (public
#     hvlog_*, internal hvlog__*): a static archive cannot hide symbols;
#  4. the shared library exports the public API only: hvlog_* names, the
#     engine's entry points among them, and no hvlog__* internal but the two
#     that the inline hvlog_log() calls.
set -eu
cc=$1 lib_a=$2 lib_so=$3 stub=$4 work=$5
fail() { echo "check-engine-symbols: $*"; exit 1; }
. "$(dirname "$0")/freestanding_lib.sh"

# 1, 2. A freestanding link of every object in the archive; its undefined
# symbols (minus what it defines itself); then the .so's.
freestanding_archive "$cc" "$lib_a" "$stub" "$work" "libhvlog-engine.a"
extra=$(nm -u -D "$lib_so" | awk '{print $2}' | grep -Ev "$freestanding_allowed" || true)
[ -z "$extra" ] || fail "libhvlog-engine.so needs: $extra"

# 3. The archive's global names.
extra=$(grep -v '^hvlog_' "$work/defined" || true)
[ -z "$extra" ] || fail "libhvlog-engine.a defines names outside hvlog_: $extra"

# 4. The shared library's exports.
nm -D --defined-only "$lib_so" | awk '{print $3}' | sort -u > "$work/exported"
extra=$(grep -v '^hvlog_' "$work/exported" || true)
[ -z "$extra" ] || fail "libhvlog-engine.so exports names outside hvlog_: $extra"
extra=$(grep '^hvlog__' "$work/exported" | grep -Ev '^hvlog__log_(slow|complete_full|nested)$' || true)
[ -z "$extra" ] || fail "libhvlog-engine.so exports internals: $extra"
for name in hvlog_engine_size hvlog_engine_init hvlog_engine_create hvlog_engine_destroy \
    hvlog_engine_hypercall hvlog_engine_logger hvlog_engine_message_delivered \
    hvlog__log_slow hvlog_status_name; do
    grep -qx "$name" "$work/exported" || fail "libhvlog-engine.so does not export $name"
done
echo "check-engine-symbols: $(wc -l < "$work/exported") exported, undefined only memcpy/memset/memmove/memcmp"
