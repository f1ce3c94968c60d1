#!/bin/sh
# compress.sh HVLOG LOCKSTEP_REF WORKDIR: compressed traces (issue 17 item
# 5, `hvlog record --compress`, docs/trace-format.md section 1).
#   1. The same lock-step recording written plain and compressed reads the
#      same: decode (text and JSON), stats, and the three exports are byte
#      for byte identical; `zstd -d` of the group file is the plain file.
#   2. `hvlog record --compress` from the simulator: format version 3, the
#      group says "zstd", and every event the host says it recorded decodes.
#   3. A torn last unit: an error in a finished trace; left out with a note
#      in an unfinished one, which then reads as if the unit were absent.
#   4. A damaged frame, a frame claiming a huge content size, a prefix
#      whose copy of the header lies: that buffer alone is refused (one
#      line naming it) by decode, and by the exports, whose index reads
#      the copy; --skip-corrupt reads the others.
#   5. A damaged prefix: everything before it reads; the rest is reported.
#   6. A compression this hvlog does not know is refused in one line.
#   7. --compress reaches the other writers: every chunk of a rotated
#      recording and every snapshot of the flight recorder is compressed
#      and reads as a trace of its own; --compress with --snapshot and
#      --max-size together is refused (one of the two modes).
set -eu
hvlog=$1 ref=$2 work=$3
fail() { echo "compress: $*" >&2; exit 1; }
rm -rf "$work"; mkdir -p "$work/p" "$work/c"

# ---- 1. lock-step round trip ----
"$ref" 5 3 20000 48 "$work/p/t" plain
"$ref" 5 3 20000 48 "$work/c/t" compress
[ -f "$work/c/t/local.buffers.zst" ] && [ ! -e "$work/c/t/local.buffers" ] || fail "no local.buffers.zst"
plain_bytes=$(wc -c < "$work/p/t/local.buffers")
comp_bytes=$(wc -c < "$work/c/t/local.buffers.zst")
[ "$comp_bytes" -lt "$plain_bytes" ] || fail "compressed $comp_bytes bytes, plain $plain_bytes"
for side in p c; do
    (
        cd "$work/$side"
        "$hvlog" decode t > decode.txt
        "$hvlog" decode --json t > decode.json
        "$hvlog" stats t > stats.txt
        "$hvlog" stats --json t > stats.json
        for f in ctf perfetto perfetto-json; do "$hvlog" export t --format $f -o "e.$f" > /dev/null; done
    ) || fail "reading the $side trace failed"
done
for f in decode.txt decode.json stats.txt stats.json e.ctf e.perfetto e.perfetto-json; do
    diff -r "$work/p/$f" "$work/c/$f" > /dev/null || fail "$f differs between the plain and the compressed trace"
done
[ "$(wc -l < "$work/p/decode.txt")" -eq 60000 ] || fail "decode gave $(wc -l < "$work/p/decode.txt") lines, not 60000"
if command -v zstd > /dev/null; then
    zstd -q -dc "$work/c/t/local.buffers.zst" | cmp -s - "$work/p/t/local.buffers" ||
        fail "zstd -d of local.buffers.zst is not local.buffers"
fi
python3 - "$work/c/t/hvlog-trace.json" <<'EOF' || fail "the metadata does not say version 3 and zstd"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == 3, d["version"]
assert [(g["file"], g["compression"]) for g in d["groups"]] == [("local.buffers.zst", "zstd")], d["groups"]
EOF

# ---- 2. hvlog record --compress ----
"$hvlog" record --compress --lps 2 --events 30000 --global 0 --seed 3 -o "$work/rec" -q
"$hvlog" info --json "$work/rec" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["state"] == "finished", d["state"]
assert [g["compression"] for g in d["groups"]] == ["zstd"], d["groups"]' || fail "info of a compressed recording"
recorded=$(python3 -c 'import json,sys; print(sum(l["recorded"] for l in json.load(open(sys.argv[1]))["host"]["lp_counts"]))' "$work/rec/hvlog-trace.json")
[ "$("$hvlog" decode "$work/rec" | grep -cv "^\[lost ")" -eq "$recorded" ] || fail "decode of the recording is not the $recorded events recorded"

# ---- helpers: rewrite units of a compressed group file ----
# units.py FILE CMD ARGS: cut N (keep the first N units), trunc BYTES,
# flip K (a byte in frame K), huge K (frame K replaced by one claiming
# 2^40 bytes), copy K (a byte of unit K's header copy: its TimeStamp),
# prefix K (unit K's magic broken). Prints unit K's offset (trunc: the
# new length). A unit: magic, 76, N, the buffer's 72-byte header, frame.
cat > "$work/units.py" <<'EOF'
import struct, sys
path, cmd = sys.argv[1], sys.argv[2]
arg = int(sys.argv[3])
data = bytearray(open(path, "rb").read())
P = 84
units, off = [], 0
while off < len(data):
    magic, size, n = struct.unpack_from("<III", data, off)
    assert magic == 0x184D2A5E and size == 76, (off, hex(magic))
    units.append((off, n))
    off += P + n
if cmd == "cut":
    data = data[:units[arg][0]]
elif cmd == "trunc":
    data = data[:len(data) - arg]
elif cmd == "flip":
    o, n = units[arg]
    data[o + P + n // 2] ^= 0x5A
elif cmd == "copy":
    o, n = units[arg]
    data[o + 12 + 8] ^= 0x01  # TimeStamp, 8 bytes in: still a header that passes
elif cmd == "huge":
    o, n = units[arg]
    # A raw 16-byte block, but a header saying 2^40 bytes (single segment, 8-byte size).
    frame = b"\x28\xb5\x2f\xfd" + bytes([0xE0]) + struct.pack("<Q", 1 << 40) + \
        bytes([(16 << 3) | 1, 0, 0]) + bytes(16)
    data = data[:o] + struct.pack("<III", 0x184D2A5E, 76, len(frame)) + data[o + 12:o + P] + frame + \
        data[o + P + n:]
elif cmd == "prefix":
    o, n = units[arg]
    data[o] ^= 0xFF
print(units[arg][0] if cmd != "trunc" else len(data))
open(path, "wb").write(data)
EOF
unclose() {
    python3 - "$1/hvlog-trace.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d.pop("closing", None)
for g in d["groups"]:
    g.pop("buffers_written", None)
json.dump(d, open(sys.argv[1], "w"))
EOF
}
copy() { rm -rf "$work/$1"; cp -r "$work/c/t" "$work/$1"; }
z=local.buffers.zst

# ---- 3. a torn last unit ----
copy torn
python3 "$work/units.py" "$work/torn/$z" trunc 100 > /dev/null
if "$hvlog" decode "$work/torn" > /dev/null 2> "$work/torn.err"; then fail "a finished trace with a torn unit decoded"; fi
grep -q "truncated: the last [0-9]* bytes are less than one whole compressed buffer" "$work/torn.err" ||
    fail "torn unit in a finished trace: $(cat "$work/torn.err")"
unclose "$work/torn"
"$hvlog" decode "$work/torn" > "$work/torn.txt" 2> "$work/torn.err" || fail "an unfinished trace with a torn unit: $(cat "$work/torn.err")"
[ "$(wc -l < "$work/torn.err")" -eq 1 ] && grep -q "left out" "$work/torn.err" || fail "no one-line note: $(cat "$work/torn.err")"
units=$(python3 -c 'import struct,sys
d=open(sys.argv[1],"rb").read(); o=n=0
while o < len(d): o += 84 + struct.unpack_from("<I", d, o + 8)[0]; n += 1
print(n)' "$work/c/t/$z")
copy cut
python3 "$work/units.py" "$work/cut/$z" cut $((units - 1)) > /dev/null
unclose "$work/cut"
"$hvlog" decode "$work/cut" > "$work/cut.txt"
cmp -s "$work/torn.txt" "$work/cut.txt" || fail "a torn last unit does not read as if it were absent"
[ "$(wc -l < "$work/cut.txt")" -lt 60000 ] || fail "the cut trace holds every event"

# ---- 4. a damaged frame, a frame claiming 2^40 bytes, a lying header copy ----
for how in flip huge copy; do
    copy $how
    at=$(python3 "$work/units.py" "$work/$how/$z" $how 5)
    if "$hvlog" decode "$work/$how" > /dev/null 2> "$work/$how.err"; then fail "$how: decoded"; fi
    [ "$(wc -l < "$work/$how.err")" -eq 1 ] || fail "$how: not one line: $(cat "$work/$how.err")"
    case $how in
    flip) why="its zstd frame does not decompress to the buffer" ;;
    huge) why="its zstd frame says 1099511627776 bytes, but the group's buffers are 16384 bytes" ;;
    copy) why="the copy of its header in its prefix is not its header" ;;
    esac
    grep -Fq "$work/$how/$z: buffer 5 at byte $((at + 84)): $why" "$work/$how.err" ||
        fail "$how: unexpected message: $(cat "$work/$how.err")"
    "$hvlog" decode --skip-corrupt "$work/$how" > "$work/$how.txt" 2> "$work/$how.err" || fail "$how --skip-corrupt: exit $?"
    n=$(wc -l < "$work/$how.txt")
    [ "$n" -gt 55000 ] && [ "$n" -lt 60000 ] || fail "$how --skip-corrupt: $n events"
    "$hvlog" stats --json "$work/$how" > /dev/null 2>&1 && fail "$how: stats succeeded"
    for f in ctf perfetto; do
        if "$hvlog" export "$work/$how" --format $f -o "$work/$how.$f" > /dev/null 2> "$work/$how.$f.err"; then
            fail "$how: export $f succeeded"
        fi
        grep -Fq "$work/$how/$z: buffer 5 at byte $((at + 84)): " "$work/$how.$f.err" ||
            fail "$how: export $f: $(cat "$work/$how.$f.err")"
        [ ! -e "$work/$how.$f" ] || fail "$how: export $f left output"
        "$hvlog" export "$work/$how" --format $f -o "$work/$how.$f" --skip-corrupt > /dev/null 2>&1 ||
            fail "$how: export $f --skip-corrupt"
    done
done

# ---- 5. a damaged prefix ----
copy prefix
at=$(python3 "$work/units.py" "$work/prefix/$z" prefix 9)
if "$hvlog" decode "$work/prefix" > /dev/null 2> "$work/prefix.err"; then fail "prefix: decoded"; fi
grep -Fq "$work/prefix/$z: byte $at is not the start of an hvlog zstd frame; the" "$work/prefix.err" ||
    fail "prefix: unexpected message: $(cat "$work/prefix.err")"
"$hvlog" decode --skip-corrupt "$work/prefix" > "$work/prefix.txt" 2> /dev/null || fail "prefix --skip-corrupt"
copy first9
python3 "$work/units.py" "$work/first9/$z" cut 9 > /dev/null
unclose "$work/first9"
"$hvlog" decode "$work/first9" > "$work/first9.txt"
cmp -s "$work/prefix.txt" "$work/first9.txt" || fail "prefix: what precedes it does not read whole"

# ---- 6. an unknown compression ----
copy lz4
sed -i 's/"compression": "zstd"/"compression": "lz4"/' "$work/lz4/hvlog-trace.json"
if "$hvlog" stats "$work/lz4" > /dev/null 2> "$work/lz4.err"; then fail "lz4: read"; fi
[ "$(wc -l < "$work/lz4.err")" -eq 1 ] && grep -q 'compression: neither "zstd" nor "none"' "$work/lz4.err" ||
    fail "lz4: $(cat "$work/lz4.err")"
# ---- 7. rotated chunks and snapshots ----
"$hvlog" record -o "$work/rot" --compress --lps 2 --seed 3 --events 6000 --rate 200000 --pages 1 \
    --buffers 8 --max-size 24K --rotate 2 --quiet
chunks=0
for d in "$work/rot"/chunk-*; do
    chunks=$((chunks + 1))
    [ -f "$d/local.buffers.zst" ] && [ ! -e "$d/local.buffers" ] || fail "rotate: $d is not compressed"
    "$hvlog" stats "$d" > /dev/null || fail "rotate: $d does not read"
done
[ "$chunks" -ge 1 ] && [ "$chunks" -le 2 ] || fail "rotate: $chunks chunks kept (1..2 expected)"
"$hvlog" record -o "$work/snap" --compress --snapshot --snapshot-size 32K --lps 2 --seed 3 --pages 1 \
    --buffers 8 --events 6000 --rate 200000 --quiet
[ -f "$work/snap/snapshot-001/local.buffers.zst" ] || fail "snapshot: snapshot-001 is not compressed"
"$hvlog" decode "$work/snap/snapshot-001" > "$work/snap.txt" || fail "snapshot: does not decode"
[ -s "$work/snap.txt" ] || fail "snapshot: no events"
if "$hvlog" record -o "$work/both" --snapshot --max-size 1M --events 10 --quiet 2> "$work/both.err"; then
    fail "--snapshot with --max-size was taken"
fi
[ "$(wc -l < "$work/both.err")" -eq 1 ] && [ ! -e "$work/both" ] || fail "both: $(cat "$work/both.err")"

echo "compress: round trip identical ($plain_bytes -> $comp_bytes bytes), record --compress, torn, damaged and lying frames"
