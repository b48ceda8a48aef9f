#!/usr/bin/env bash
# The static binary against the glibc one, side by side in one run (README, "Install"):
# `fuzz` cases/s (the reference adapter, persistent, and in process) and `serve` requests/s
# (benches/serve.rs), alternating the two builds ROUNDS times (default 3), since a shared
# machine swings by a tenth between runs minutes apart. Prints each round and the medians,
# and the static build's ratio to the glibc build's (target: within 15 %).
#
# Usage: benches/static.sh            (builds both)
#        GLIBC=path STATIC=path [SERVE_BENCH=path] benches/static.sh
# Environment: ROUNDS (3), CASES (2000 fuzz cases per measurement), REQUESTS (10000 for serve).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-3}
cases=${CASES:-2000}
export REQUESTS=${REQUESTS:-10000}
if [ -z "${GLIBC:-}" ]; then
    cargo build --release --quiet --bin alipay-cancel-kit
    GLIBC=target/release/alipay-cancel-kit
fi
if [ -z "${STATIC:-}" ]; then
    cargo build --release --quiet --target x86_64-unknown-linux-musl --features static --bin alipay-cancel-kit
    STATIC=target/x86_64-unknown-linux-musl/release/alipay-cancel-kit
fi
# The serve benchmark's own load generator (benches/serve.rs), built once for both builds;
# SERVE_BENCH=path reuses one built before.
if [ -z "${SERVE_BENCH:-}" ]; then
    SERVE_BENCH=$(cargo bench --bench serve --no-run --message-format=json \
        | python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "serve":
        print(m["executable"])')
fi

fuzz_rate() { # BIN [fuzz args...]: cases/s, from fuzz's closing line
    local bin=$1
    shift
    "$bin" fuzz --seed 42 --cases "$cases" --color never "$@" \
        | sed -n 's/^PASS: .*, \([0-9]*\) cases\/s;.*/\1/p'
}
serve_rate() { # BIN: requests/s of serve under benches/serve.rs's load
    KIT=$1 "$SERVE_BENCH" 2>/dev/null \
        | awk '/^alipay-cancel-kit serve/ { print int($(NF-2)) }'
}

declare -A results
echo "cores: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-6s %-7s %18s %18s %14s\n' round build "fuzz persistent/s" "fuzz in-process/s" "serve req/s"
for round in $(seq "$rounds"); do
    for build in glibc static; do
        if [ "$build" = glibc ]; then bin=$GLIBC; else bin=$STATIC; fi
        persistent=$(fuzz_rate "$bin" --client "$bin reference-adapter" --persistent)
        inprocess=$(fuzz_rate "$bin" -j 16)
        serve=$(serve_rate "$bin")
        results[$build,persistent]+="$persistent "
        results[$build,inprocess]+="$inprocess "
        results[$build,serve]+="$serve "
        printf '%-6s %-7s %18s %18s %14s\n' "$round" "$build" "${persistent:-FAILED}" "${inprocess:-FAILED}" "${serve:-FAILED}"
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
printf '%-20s %10s %10s %8s\n' median glibc static ratio
status=0
for what in persistent inprocess serve; do
    g=$(echo "${results[glibc,$what]}" | median)
    s=$(echo "${results[static,$what]}" | median)
    ratio=$(awk -v g="$g" -v s="$s" 'BEGIN { if (g > 0) printf "%.2f", s / g; else print "n/a" }')
    printf '%-20s %10s %10s %8s\n' "$what" "$g" "$s" "$ratio"
    awk -v r="$ratio" 'BEGIN { exit !(r >= 0.85) }' || status=1
done
[ "$status" = 0 ] && echo "the static build is within 15 % of the glibc build on every measure" \
    || echo "the static build is more than 15 % behind on a measure above"
exit "$status"
