#!/bin/sh
# Memory bounds (README, "Memory bounds"): the kit's peak resident set size, as
# `/usr/bin/time -v` reports it, on inputs meant to make it grow:
#
#   - a client that sends a 64 MiB request body to the gateway (by Content-Length, then
#     chunked): refused with HTTP 413 after 1 MiB; bound about 100 MB;
#   - an adapter that prints a 64 MiB outcome line (exec, then persistent mode): ERROR at
#     once; bound about 100 MB;
#   - `head -c 300M /dev/zero | alipay-cancel-kit validate -`, a 300 MB line without a line
#     break: reported as too large; bound about 64 MB.
#
# `time -v` reports the largest process it waited for, adapters included (here they are
# small: they stream what they send). Needs /usr/bin/time (Debian/Ubuntu: `apt-get install
# time`) and python3 (the huge-body client).
#
# Usage: benches/memory.sh    (KIT=path/to/alipay-cancel-kit to skip the release build)
set -eu
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/time ]; then
    echo "benches/memory.sh needs /usr/bin/time (Debian/Ubuntu: apt-get install time)" >&2
    exit 2
fi
if [ -z "${KIT:-}" ]; then
    cargo build --release --quiet --bin alipay-cancel-kit
    KIT=target/release/alipay-cancel-kit
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The huge-body client: reads the instruction, sends 64 MiB in 64 KiB pieces (never holding
# more), reads the answer, surfaces UNKNOWN.
cat >"$work/huge-body.py" <<'PY'
import json, socket, sys
if "--capabilities" in sys.argv:
    print("[]"); sys.exit(0)
chunked = "--chunked" in sys.argv
instruction = json.loads(sys.stdin.readline())
host, port = instruction["gateway"]["url"].split("//")[1].split(":")
piece, pieces = b" " * 65536, 1024
s = socket.create_connection((host, int(port)))
framing = "transfer-encoding: chunked" if chunked else "content-length: %d" % (len(piece) * pieces)
s.sendall(("POST /ams/api/v1/payments/cancel HTTP/1.1\r\nhost: %s\r\n"
           "content-type: application/json\r\n%s\r\n\r\n" % (host, framing)).encode())
try:
    for _ in range(pieces):
        s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
    if chunked:
        s.sendall(b"0\r\n\r\n")
except OSError:
    pass
status = s.makefile("rb").readline().decode().strip()
print("answer: " + status, file=sys.stderr)
print(json.dumps({"outcome": "UNKNOWN"}))
PY

peak() {
    awk -F': ' '/Maximum resident set size/ { printf "%.1f MB", $2 / 1024 }' "$1"
}

measure() {
    label=$1
    shift
    /usr/bin/time -v -o "$work/time" "$@" >"$work/out" 2>"$work/err" || true
    printf '%-44s peak RSS %s\n' "$label" "$(peak "$work/time")"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
measure "gateway, 64 MiB body by Content-Length" \
    "$KIT" run -s result/SUCCESS --color never --client "python3 $work/huge-body.py"
grep -q "body-size" "$work/out" || { echo "expected a 413:"; cat "$work/out"; exit 1; }
measure "gateway, 64 MiB body chunked" \
    "$KIT" run -s result/SUCCESS --color never --client "python3 $work/huge-body.py --chunked"
grep -q "body-size" "$work/out" || { echo "expected a 413:"; cat "$work/out"; exit 1; }
flood="head -c 67108864 /dev/zero | tr '\\0' x"
measure "64 MiB outcome line, exec mode" \
    "$KIT" run -s result/SUCCESS --color never --client "$flood; sleep 30"
grep -q "longer than" "$work/out" || { echo "expected an over-long line:"; cat "$work/out"; exit 1; }
measure "64 MiB outcome line, persistent mode" \
    "$KIT" run -s result/SUCCESS --color never --persistent --client "read line; $flood; sleep 30"
grep -q "longer than" "$work/out" || { echo "expected an over-long line:"; cat "$work/out"; exit 1; }
measure "validate, 300 MB line without a line break" \
    sh -c "head -c 300M /dev/zero | '$KIT' validate -"
grep -q "at most 1048576 bytes" "$work/out" || { echo "expected a too-large line:"; cat "$work/out"; exit 1; }
