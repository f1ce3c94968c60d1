#!/bin/sh
# trace_bugs.sh HVLOG FIXTURE_DIR WORK: regression tests of issue 12's bugs
# and issue 13's A4, through the command (the library-level ones are in
# tests/trace/test_trace_merge.c):
#   1. a current-convention entry with an unpadded Size: payload is Size - 16
#      in decode and in the Perfetto export alike (no padding as a parameter);
#   2. time going back on an LP: a marker line and a negative delta, never a
#      wrapped number;
#   3. groups of two bases that share no clock (reference, TSC of unknown
#      frequency): never interleaved by raw stamp, a marker where the clock
#      changes, TSC times labelled as ticks; exports refuse without --tsc-hz;
#   A4. 1100 LPs decode under a 64-file limit, and --lp takes a 16-bit LP;
#   a loss before any entry decodes with --time relative (fuzz_decode).
set -eu
hvlog=$1 fixture=$2 work=$3
rm -rf "$work"; mkdir -p "$work"
export TZ=UTC LC_ALL=C
fail() { echo "trace_bugs: $*"; exit 1; }

# Raw buffers, current convention (BufferSize = bytes - 72, offsets from the
# end of the header, LP u16): buffers.py OUT LPS ENTRIES_PER_LP [SIZE20]
cat > "$work/buffers.py" <<'PY'
import struct, sys
out, lps, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
size20 = len(sys.argv) > 4
with open(out, "wb") as f:
    for lp in range(lps):
        data = b""
        for i in range(per):
            if size20:  # HV_TR_IM_HLT (0x25) with Size 20: 4 data bytes, then padding
                data += struct.pack("<IHHQ", 7, 20, 0x25, 1000 + i) + bytes.fromhex("11223344aabbccdd")
            else:
                data += struct.pack("<IHHQ", i, 24, 0x25, 1000 + 10 * i + lp) + struct.pack("<Q", lp)
        head = struct.pack("<IIII", 4096 - 72, 0, 0, 0) + struct.pack("<QQQ", 900, 0, 0) \
            + struct.pack("<HHI", lp, 1, 3) + struct.pack("<IIII", len(data), 1, 0xFFFFFFFF, 0) \
            + struct.pack("<Q", 0)
        assert len(head) == 72
        f.write((head + data).ljust(4096, b"\0"))
PY

# ---- bug 1 ----
python3 "$work/buffers.py" "$work/hlt.raw" 1 1 size20
"$hvlog" decode "$work/hlt.raw" --time raw > "$work/hlt.txt"
grep -q 'lp 0 HV_TR_IM_HLT: { context = 7, extra = 4 bytes }' "$work/hlt.txt" ||
    fail "bug 1: decode of a Size=20 HLT: $(cat "$work/hlt.txt")"
"$hvlog" export "$work/hlt.raw" --format perfetto-json -o "$work/hlt.json" > /dev/null
python3 - "$work/hlt.json" <<'PY' || fail "bug 1: the Perfetto export reads padding as data"
import json, sys
ev = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e["ph"] == "i"]
assert len(ev) == 1, ev
a = ev[0]["args"]
assert "rip" not in a and a.get("data") == "11223344" and a.get("size") == 20, a
PY

# ---- bug 2 ----
"$hvlog" decode "$fixture/back-in-buffer.trace" --time raw > "$work/back.txt"
grep -q '^\[time goes back on LP 0 (local): raw time 10034 -> 10017\]$' "$work/back.txt" ||
    fail "bug 2: no marker line"
grep -q '^\[10017\] (-0.0000017) lp 0 ' "$work/back.txt" || fail "bug 2: no negative delta"
! grep -q '18446744\|1844674407' "$work/back.txt" || fail "bug 2: a wrapped delta"
"$hvlog" decode "$fixture/back-in-buffer.trace" --json | grep -q '^{"back":"local","lp":0,"from":10034,"to":10017}$' ||
    fail "bug 2: no JSON marker"

# ---- bug 3 ----
cp -r "$fixture/two.trace" "$work/mixed.trace"
python3 - "$work/mixed.trace/hvlog-trace.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for g in m["groups"]:
    if g["type"] == 0:
        g["time_basis"] = 1  # the global group on the TSC, frequency unknown
m["tsc_frequency_hz"] = 0
json.dump(m, open(sys.argv[1], "w"))
PY
"$hvlog" decode "$work/mixed.trace" --json > "$work/mixed.jsonl"
python3 - "$work/mixed.jsonl" <<'PY' || fail "bug 3: reference and TSC entries interleaved or unlabelled"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
kinds = ["clock" if "clock" in l else l.get("type") for l in lines if "ts" in l or "clock" in l]
cut = kinds.index("clock")
assert kinds.count("clock") == 1, kinds
assert set(kinds[:cut]) == {"local"} and set(kinds[cut + 1:]) == {"global"}, kinds
assert all(l["time"].endswith(" ticks") for l in lines if l.get("type") == "global" and "ts" in l)
PY
"$hvlog" decode "$work/mixed.trace" | grep -q '^\[--- the entries below are on the tsc clock' ||
    fail "bug 3: no clock marker in text"
if "$hvlog" decode "$work/mixed.trace" --time relative > /dev/null 2> "$work/rel.err"; then
    fail "bug 3: --time relative of an unknown TSC frequency was accepted"
fi
grep -q 'give it with --tsc-hz' "$work/rel.err" || fail "bug 3: relative: $(cat "$work/rel.err")"
"$hvlog" decode "$work/mixed.trace" --time relative --tsc-hz 1000000000 > /dev/null ||
    fail "bug 3: --tsc-hz not taken"
if "$hvlog" export "$work/mixed.trace" --format perfetto-json -o "$work/mixed.json" 2> "$work/pf.err"; then
    fail "bug 3: Perfetto export of an unknown TSC frequency accepted"
fi
[ "$(wc -l < "$work/pf.err")" -eq 1 ] && grep -q -- '--tsc-hz' "$work/pf.err" ||
    fail "bug 3: refusal: $(cat "$work/pf.err")"
[ ! -e "$work/mixed.json" ] || fail "bug 3: the refused export left output"
"$hvlog" export "$work/mixed.trace" --format perfetto-json --tsc-hz 1000000000 -o "$work/mixed.json" > /dev/null ||
    fail "bug 3: Perfetto export with --tsc-hz failed"

# ---- A4 ----
python3 "$work/buffers.py" "$work/many.raw" 1100 3
n=$(sh -c "ulimit -n 64; exec \"$hvlog\" decode \"$work/many.raw\" --time raw" | wc -l) ||
    fail "A4: 1100 LPs under 64 open files"
[ "$n" -eq 3300 ] || fail "A4: $n lines, not 3300"
[ "$("$hvlog" decode "$work/many.raw" --lp 1099 | wc -l)" -eq 3 ] || fail "A4: --lp 1099"
if "$hvlog" decode "$work/many.raw" --lp 65536 2>/dev/null; then fail "A4: --lp 65536 accepted"; fi

# ---- a loss before any entry, --time relative (fuzz_decode's finding) ----
# One buffer holding only EventsLost: the loss line has no first entry to be
# relative to; decode read a NULL clock and crashed.
python3 - "$work/lost-only.raw" <<'PY'
import struct, sys
head = struct.pack("<IIII", 4096 - 72, 0, 5, 0) + struct.pack("<QQQ", 900, 0, 0) \
    + struct.pack("<HHI", 0, 1, 3) + struct.pack("<IIII", 0, 1, 0xFFFFFFFF, 0) + struct.pack("<Q", 0)
open(sys.argv[1], "wb").write(head.ljust(4096, b"\0"))
PY
"$hvlog" decode "$work/lost-only.raw" --time relative > "$work/lost.out" ||
    fail "loss first: decode --time relative failed"
grep -q '^\[lost 5 events on LP 0 (local) between ' "$work/lost.out" ||
    fail "loss first: $(cat "$work/lost.out")"
echo "trace_bugs: bugs 1-3, A4 and a leading loss behave"
