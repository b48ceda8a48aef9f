#!/bin/sh
# Fuzz throughput (README, "Fuzzing"): cases per second of `alipay-cancel-kit fuzz` against
# the reference client in process, and against the reference adapter
# (`alipay-cancel-kit reference-adapter`) in persistent and exec mode. Every case starts a
# gateway, signs and checks every exchange; the figures are wall-clock cases per second
# (shrinking excluded; the reference client passes, so nothing shrinks) and, where
# /usr/bin/time exists, CPU milliseconds per case (the kit and its adapter processes).
#
# Usage: benches/fuzz.sh [CASES] [JOBS]    (defaults: 3000 cases, 12 jobs per core, as fuzz's own default)
# BIN=path/to/alipay-cancel-kit benches/fuzz.sh times that binary instead of building one.
# BEFORE=path/to/an/earlier/build benches/fuzz.sh alternates the two, ROUNDS times (default 3),
# before then after: on a shared machine the same binary swings by a tenth between runs
# minutes apart, so a change is measured only against its before under the same load.
set -eu
cd "$(dirname "$0")/.."
if [ -n "${BIN:-}" ]; then
    bin=$BIN
else
    cargo build --release --quiet --bin alipay-cancel-kit
    bin=target/release/alipay-cancel-kit
fi
cases=${1:-3000}
cores=$(nproc 2>/dev/null || echo 2)
jobs=${2:-$((12 * cores))}
seed=${SEED:-42}
echo "cores: $cores; load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?'); seed $seed"

bench() {
    label=$1
    n=$2
    shift 2
    out=$(mktemp)
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f '%U %S' -o "$out.cpu" "$bin" fuzz --seed "$seed" --cases "$n" --color never "$@" >"$out"
    else
        "$bin" fuzz --seed "$seed" --cases "$n" --color never "$@" >"$out"
    fi
    rate=$(sed -n 's/^PASS: .*, \([0-9]*\) cases\/s;.*/\1/p' "$out")
    cpu=""
    if [ -f "$out.cpu" ]; then
        cpu=$(awk -v n="$n" '{ printf "; CPU %.1f ms/case (kit + adapters)", ($1 + $2) * 1000 / n }' "$out.cpu")
    fi
    printf '%-12s %6s cases: %5s cases/s%s\n' "$label" "$n" "${rate:-FAILED}" "$cpu"
    [ -n "$rate" ] || cat "$out"
    rm -f "$out" "$out.cpu"
}

all_modes() {
    bench in-process "$cases" -j 16
    bench persistent "$cases" --client "$bin reference-adapter" --persistent -j "$jobs"
    bench exec "$((cases / 10))" --client "$bin reference-adapter" -j "$jobs"
}

if [ -z "${BEFORE:-}" ]; then
    all_modes
    exit 0
fi
after=$bin
round=1
while [ "$round" -le "${ROUNDS:-3}" ]; do
    for side in before after; do
        if [ "$side" = before ]; then bin=$BEFORE; else bin=$after; fi
        echo "round $round, $side ($bin); load average: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')"
        all_modes
    done
    round=$((round + 1))
done
