#!/bin/sh
# check-client-freestanding.sh CC LIB_A STUB_C WORKDIR
#
# The root client as the KVM host's guest root links it (issue 15): the
# freestanding archive of client.c, the walker and the abi helpers links
# into a program with nothing beside it but memcpy/memset/memmove/memcmp
# and an entry point, and needs no other symbol (nm -u).
set -eu
cc=$1 lib_a=$2 stub=$3 work=$4
fail() { echo "check-client-freestanding: $*"; exit 1; }
. "$(dirname "$0")/../engine/freestanding_lib.sh"
freestanding_archive "$cc" "$lib_a" "$stub" "$work" "the client objects"
for name in hvlog_client_init hvlog_client_prepare hvlog_client_poll hvlog_client_conclude \
    hvlog_buffer_walk; do
    grep -qx "$name" "$work/defined" || fail "the client objects do not define $name"
done
if grep -qx hvlog_client_create "$work/defined"; then
    fail "hvlog_client_create (calloc/free) is in the freestanding objects"
fi
echo "check-client-freestanding: $(wc -l < "$work/defined") defined, undefined only memcpy/memset/memmove/memcmp"
