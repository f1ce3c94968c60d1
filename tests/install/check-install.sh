#!/bin/sh
# check-install.sh BUILD_DIR PREFIX CC CONSUMER_C CMAKE
set -eu
build=$1 prefix=$2 cc=$3 consumer=$4 cmake=$5
rm -rf "$prefix"
"$cmake" --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name hvlog.pc | head -n1)")
[ -f "$pcdir/hvlog.pc" ] || { echo "no hvlog.pc installed"; exit 1; }
export PKG_CONFIG_PATH="$pcdir"
work="$prefix/consumer"
mkdir -p "$work"
# Shared library, through pkg-config; run it with the installed library only.
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror -o "$work/consumer" "$consumer" $(pkg-config --cflags --libs hvlog)
LD_LIBRARY_PATH="$(pkg-config --variable=libdir hvlog)" "$work/consumer"
# Static library, through pkg-config --static: a fully static program, so
# libhvlog.a is the only hvlog there is, and a private dependency missing
# from hvlog.pc (Requires.private: jansson, Libs.private: -pthread) fails
# the link.
# shellcheck disable=SC2046
"$cc" -std=c11 -Wall -Werror -static -o "$work/consumer-static" "$consumer" \
    $(pkg-config --cflags --libs --static hvlog)
"$work/consumer-static"
# The shared object is versioned: libhvlog.so -> .so.MAJOR -> .so.X.Y.Z.
libdir=$(pkg-config --variable=libdir hvlog)
[ -L "$libdir/libhvlog.so" ] && ls "$libdir"/libhvlog.so.0 >/dev/null
# The license is installed with the package (share/doc/hvlog), as it is in the tree.
cmp -s "$prefix/share/doc/hvlog/LICENSE" "$(dirname "$consumer")/../../LICENSE" ||
    { echo "LICENSE not installed as share/doc/hvlog/LICENSE"; exit 1; }
# The man pages (built by scdoc) and the bash completion are installed.
for page in man1/hvlog.1 man1/hvlog-record.1 man1/hvlog-export.1 man5/hvlog-trace.5; do
    [ -s "$prefix/share/man/$page" ] || { echo "man page share/man/$page not installed"; exit 1; }
done
[ -s "$prefix/share/bash-completion/completions/hvlog" ] ||
    { echo "bash completion not installed as share/bash-completion/completions/hvlog"; exit 1; }
# Symbols of every installed library (issue 15; docs/embedding.md, "Symbols"):
# each global name that libhvlog.a, libhvlog.so, libhvlog-engine.a and
# libhvlog-engine.so define is hvlog_ (public) or hvlog__ (internal), since a
# static archive cannot hide symbols; plus the deliberate hv_ names that
# docs/embedding.md lists (none today: hv_* in the headers are spec
# constants, wire structs and static inline helpers), plus the names the
# linker itself may add to a shared object. The shared objects export no
# internal but the three the inline hvlog_log() calls.
hv_allowed='' # docs/embedding.md's list, as an ERE alternation ('' = none)
linker_made='^(_init|_fini|_edata|_end|__bss_start)$'
pkg_libdir=$(pkg-config --variable=libdir hvlog-engine)
for lib in "$libdir/libhvlog.a" "$libdir/libhvlog.so" \
           "$pkg_libdir/libhvlog-engine.a" "$pkg_libdir/libhvlog-engine.so"; do
    [ -f "$lib" ] || { echo "$lib not installed"; exit 1; }
    case $lib in
    *.a) names=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 {print $3}' | sort -u) ;;
    *) names=$(nm -D --defined-only "$lib" | awk 'NF == 3 {print $3}' | sort -u) ;;
    esac
    [ -n "$names" ] || { echo "$lib: nm found no symbol"; exit 1; }
    bad=$(printf '%s\n' "$names" | grep -v '^hvlog_' | grep -Ev "$linker_made" |
          { if [ -n "$hv_allowed" ]; then grep -Ev "^($hv_allowed)$"; else cat; fi; } || true)
    [ -z "$bad" ] || { echo "$lib defines names outside hvlog_:" $bad; exit 1; }
    case $lib in
    *.so)
        bad=$(printf '%s\n' "$names" | grep '^hvlog__' |
              grep -Ev '^hvlog__log_(slow|complete_full|nested)$' || true)
        [ -z "$bad" ] || { echo "$lib exports internals:" $bad; exit 1; } ;;
    esac
done
# libhvlog-engine, the freestanding engine, has its own pkg-config file.
pkg-config --exists hvlog-engine || { echo "no hvlog-engine.pc installed"; exit 1; }
[ -f "$(pkg-config --variable=libdir hvlog-engine)/libhvlog-engine.a" ] &&
    [ -L "$(pkg-config --variable=libdir hvlog-engine)/libhvlog-engine.so" ] &&
    pkg-config --libs hvlog-engine | grep -q -- '-lhvlog-engine' ||
    { echo "hvlog-engine.pc does not lead to libhvlog-engine"; exit 1; }
# The CMake package config.
mkdir -p "$work/cmake-src"
cp "$consumer" "$work/cmake-src/consumer.c"
cat > "$work/cmake-src/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(hvlog 0.1 REQUIRED)
add_executable(consumer consumer.c)
target_link_libraries(consumer PRIVATE hvlog::hvlog_static)
CM
"$cmake" -S "$work/cmake-src" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
"$cmake" --build "$work/cmake-build" >/dev/null
"$work/cmake-build/consumer"
echo "install check ok"
