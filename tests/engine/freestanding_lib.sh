# freestanding_lib.sh: sourced by check-engine-symbols.sh and
# check-client-freestanding.sh (not run on its own).
#
# freestanding_archive CC LIB_A STUB_C WORKDIR WHAT: every object of the
# static archive LIB_A links into a freestanding program with nothing beside
# it but STUB_C (an entry point and memcpy/memset/memmove/memcmp), and the
# archive leaves no other symbol undefined (nm -u, less what it defines
# itself). Leaves the archive's global names in WORKDIR/defined. WHAT names
# the archive in a failure; the caller's fail() reports it.
freestanding_allowed='^(memcpy|memset|memmove|memcmp)$'

freestanding_archive() {
    fa_cc=$1 fa_lib=$2 fa_stub=$3 fa_work=$4 fa_what=$5
    mkdir -p "$fa_work"
    # --whole-archive: every object, used or not, must link.
    "$fa_cc" -ffreestanding -fno-builtin -fno-stack-protector -nostdlib -static -no-pie \
        -o "$fa_work/freestanding" "$fa_stub" -Wl,--whole-archive "$fa_lib" -Wl,--no-whole-archive ||
        fail "$fa_what does not link with only memcpy/memset/memmove/memcmp"
    nm -g --defined-only "$fa_lib" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u > "$fa_work/defined"
    nm -u "$fa_lib" 2>/dev/null | awk 'NF == 2 {print $2}' | sort -u > "$fa_work/undefined"
    fa_extra=$(comm -23 "$fa_work/undefined" "$fa_work/defined" | grep -Ev "$freestanding_allowed" || true)
    [ -z "$fa_extra" ] || fail "$fa_what needs: $fa_extra"
}
