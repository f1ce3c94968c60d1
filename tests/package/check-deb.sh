#!/bin/sh
# SPDX-License-Identifier: MIT
# check-deb.sh SOURCE_DIR WORK_DIR CONSUMER_C CC CMAKE VERSION: the Debian
# packages (debian/), built and checked as a user would get them (issue 18).
#   1. the source tree (its git-visible files) copied to WORK_DIR and built
#      with `dpkg-buildpackage -us -uc -b`: hvlog, libhvlog0, libhvlog-dev,
#      libhvlog-engine0 and libhvlog-engine-dev;
#   2. lintian on the .changes: no error (warnings and overrides shown);
#   3. no file in two packages; the Depends that matter;
#   4. every package unpacked into a clean root (dpkg -x: a chroot or
#      `dpkg --root` would need a Debian base system inside it), then against
#      that root only: `hvlog --version`, `man -w hvlog-record` (MANPATH into
#      the root), the pkg-config consumer (shared and static) and the CMake
#      package, hvlog-engine.pc and the freestanding engine's undefined
#      symbols, and the installed bash completion.
# Exit 77 (SKIP) with the reason when a packaging tool is missing.
set -eu
src=$1 work=$2 consumer=$3 cc=$4 cmake=$5 version=$6
fail() { echo "check-deb: $*" >&2; exit 1; }
for tool in dpkg-buildpackage dh lintian dpkg-deb man; do
    command -v "$tool" > /dev/null 2>&1 || {
        echo "check-deb: SKIP: $tool not found (Debian: dpkg-dev, debhelper, lintian, man-db)"
        exit 77
    }
done
rm -rf "$work"
mkdir -p "$work/src/hvlog-$version" "$work/root"
tree="$work/src/hvlog-$version"

# ---- 1. build -----------------------------------------------------------------
if git -C "$src" rev-parse --git-dir > /dev/null 2>&1; then
    # Tracked and untracked-but-not-ignored files: no build trees, no .git.
    (cd "$src" && git ls-files -z -co --exclude-standard | xargs -0 tar -cf - --no-recursion) |
        tar -C "$tree" -xf -
else
    tar -C "$src" --exclude='./build*' --exclude='./obj-*' --exclude=./.git -cf - . | tar -C "$tree" -xf -
fi
[ -x "$tree/debian/rules" ] || fail "no debian/rules in the copied tree"
if ! (cd "$tree" && DEB_BUILD_OPTIONS="parallel=2 nocheck" dpkg-buildpackage -us -uc -b) \
    > "$work/build.log" 2>&1; then
    tail -n 40 "$work/build.log" >&2
    fail "dpkg-buildpackage failed (log: $work/build.log)"
fi
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
debs=""
for p in hvlog libhvlog0 libhvlog-dev libhvlog-engine0 libhvlog-engine-dev; do
    deb="$work/src/${p}_${version}_$arch.deb"
    [ -f "$deb" ] || fail "dpkg-buildpackage did not build $p ($deb)"
    debs="$debs $deb"
done
echo "check-deb: built$(for d in $debs; do printf ' %s' "$(basename "$d")"; done)"

# ---- 2. lintian -----------------------------------------------------------------
changes="$work/src/hvlog_${version}_$arch.changes"
if ! lintian --allow-root --fail-on error --display-info --show-overrides "$changes" > "$work/lintian.log" 2>&1; then
    cat "$work/lintian.log" >&2
    fail "lintian reports errors"
fi
echo "check-deb: lintian: no errors ($(grep -c '^[WIN]:' "$work/lintian.log" || true) warnings, notes and overrides)"
sed 's/^/check-deb:   /' "$work/lintian.log"

# ---- 3. contents and dependencies -----------------------------------------------
for deb in $debs; do
    dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}'
done | sort | uniq -d > "$work/duplicates"
[ ! -s "$work/duplicates" ] || fail "files in two packages: $(cat "$work/duplicates")"
depends() { dpkg-deb -f "$work/src/${1}_${version}_$arch.deb" Depends; }
depends hvlog | grep -q 'libjansson4' || fail "hvlog does not depend on libjansson4: $(depends hvlog)"
depends hvlog | grep -q 'libzstd1' || fail "hvlog does not depend on libzstd1: $(depends hvlog)"
depends libhvlog-dev | grep -q "libhvlog0 (= $version)" || fail "libhvlog-dev: $(depends libhvlog-dev)"
depends libhvlog-dev | grep -q "libhvlog-engine-dev (= $version)" || fail "libhvlog-dev: $(depends libhvlog-dev)"
depends libhvlog-engine-dev | grep -q "libhvlog-engine0 (= $version)" || fail "libhvlog-engine-dev: $(depends libhvlog-engine-dev)"

# ---- 4. a clean root ------------------------------------------------------------
root="$work/root"
for deb in $debs; do
    dpkg -x "$deb" "$root"
done
usr="$root/usr"
libdir="$usr/lib/$multiarch"
got=$("$usr/bin/hvlog" --version) || fail "the installed hvlog --version failed"
[ "$got" = "hvlog $version" ] || fail "installed hvlog --version says '$got', not 'hvlog $version'"
# The installed program links libhvlog statically: it must not need the build tree.
if ldd "$usr/bin/hvlog" | grep -q "$src"; then fail "the installed hvlog loads a library from the build tree"; fi
page=$(MANPATH="$usr/share/man" man -w hvlog-record) || fail "man -w hvlog-record found nothing under $usr/share/man"
case $page in
"$usr/share/man/man1/hvlog-record.1"*) ;;
*) fail "man -w hvlog-record gave $page, not the root's page" ;;
esac
MANPATH="$usr/share/man" man -w 5 hvlog-trace > /dev/null || fail "man -w 5 hvlog-trace found nothing"
for cmd in $("$usr/bin/hvlog" --help | awk '/^commands:/ {f = 1; next} f && /^  [a-z]/ {print $1} f && /^$/ {exit}'); do
    [ "$cmd" = help ] && continue
    MANPATH="$usr/share/man" man -w "hvlog-$cmd" > /dev/null 2>&1 || fail "command $cmd has no installed man page"
done
echo "check-deb: the installed hvlog says '$got'; man -w hvlog-record: $page"

# pkg-config and CMake, against the root only.
export PKG_CONFIG_PATH="$libdir/pkgconfig"
export PKG_CONFIG_LIBDIR="$libdir/pkgconfig:/usr/lib/$multiarch/pkgconfig:/usr/share/pkgconfig"
[ "$(pkg-config --variable=libdir hvlog)" -ef "$libdir" ] || fail "hvlog.pc's libdir is $(pkg-config --variable=libdir hvlog), not the root's"
mkdir -p "$work/consumer"
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror -o "$work/consumer/shared" "$consumer" $(pkg-config --cflags --libs hvlog)
LD_LIBRARY_PATH="$libdir" "$work/consumer/shared" > /dev/null || fail "the pkg-config consumer (shared) failed"
LD_LIBRARY_PATH="$libdir" ldd "$work/consumer/shared" | grep -q "$libdir/libhvlog.so.0" ||
    fail "the shared consumer did not load the root's libhvlog.so.0"
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror -static -o "$work/consumer/static" "$consumer" \
    $(pkg-config --cflags --libs --static hvlog)
"$work/consumer/static" > /dev/null || fail "the pkg-config consumer (static) failed"
mkdir -p "$work/consumer/cmake-src"
cp "$consumer" "$work/consumer/cmake-src/consumer.c"
cat > "$work/consumer/cmake-src/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(hvlog 0.1 REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE hvlog::hvlog)
CM
"$cmake" -S "$work/consumer/cmake-src" -B "$work/consumer/cmake-build" -DCMAKE_PREFIX_PATH="$usr" \
    > "$work/consumer/cmake.log" 2>&1 || { cat "$work/consumer/cmake.log" >&2; fail "find_package(hvlog) in the root failed"; }
"$cmake" --build "$work/consumer/cmake-build" > /dev/null || fail "the CMake consumer did not build"
LD_LIBRARY_PATH="$libdir" "$work/consumer/cmake-build/consumer" > /dev/null || fail "the CMake consumer failed"
# The freestanding engine: its .pc, and nothing undefined but the four mem* functions.
pkg-config --libs hvlog-engine | grep -q -- '-lhvlog-engine' || fail "hvlog-engine.pc: $(pkg-config --libs hvlog-engine)"
# (An archive's objects call each other: undefined less what the archive defines.)
nm -u "$libdir/libhvlog-engine.a" | awk 'NF == 2 {print $2}' | sort -u > "$work/engine.undefined"
nm --defined-only "$libdir/libhvlog-engine.a" | awk 'NF == 3 {print $3}' | sort -u > "$work/engine.defined"
undefined=$(comm -23 "$work/engine.undefined" "$work/engine.defined" |
    grep -v -x -e memcpy -e memset -e memmove -e memcmp || true)
[ -z "$undefined" ] || fail "the packaged engine needs more than mem*: $undefined"
echo "check-deb: pkg-config (shared, static), find_package(hvlog) and hvlog-engine.pc work from the root"

# The installed completion completes the installed program.
comp="$usr/share/bash-completion/completions/hvlog"
[ -s "$comp" ] || fail "no bash completion at usr/share/bash-completion/completions/hvlog"
reply=$(bash --norc --noprofile -c '. "$1"; COMP_WORDS=("$2" exp); COMP_CWORD=1; _hvlog; echo "${COMPREPLY[*]}"' \
    sh "$comp" "$usr/bin/hvlog")
[ "$reply" = export ] || fail "the installed completion completes 'hvlog exp' to '$reply'"
echo "check-deb: the installed bash completion completes the installed hvlog"
echo "check-deb: ok"
