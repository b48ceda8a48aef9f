#!/usr/bin/env bash
# The example adapters' fuzz speed beside the reference adapter's, one after another in one
# run (README, "The example adapters' speed"): `fuzz --persistent --cases N --seed 7` through
# each. Each adapter's toolchain must be there (conformance/adapters/<language>/ci.sh installs
# it); an adapter whose toolchain is missing is reported as such, not timed.
#
# Usage: benches/adapters.sh [CASES]     (default 2000)
# KIT=path/to/alipay-cancel-kit times that binary (default: target/release, built here).
set -euo pipefail
cd "$(dirname "$0")/.."
cases=${1:-2000}
if [ -z "${KIT:-}" ]; then
    cargo build --release --quiet --bin alipay-cancel-kit
    KIT=target/release/alipay-cancel-kit
fi
python_venv=target/bench-adapters/venv
if [ ! -x "$python_venv/bin/python3" ]; then
    python3 -m venv "$python_venv"
    "$python_venv/bin/pip" install --quiet --disable-pip-version-check \
        -r conformance/adapters/python/requirements.txt
fi
echo "cores: $(nproc); load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %10s %s\n' adapter "cases/s" "load average after"
row() { # LABEL TOOL COMMAND
    local label=$1 tool=$2 command=$3 out rate
    if ! command -v "$tool" >/dev/null 2>&1; then
        printf '%-40s %10s\n' "$label" "no $tool"
        return
    fi
    out=$("$KIT" fuzz --seed 7 --cases "$cases" --persistent --color never --client "$command" 2>&1) || true
    rate=$(printf '%s\n' "$out" | sed -n 's/^PASS: .*, \([0-9]*\) cases\/s;.*/\1/p')
    printf '%-40s %10s %s\n' "$label" "${rate:-FAILED}" "$(cut -d' ' -f1 /proc/loadavg)"
    [ -n "$rate" ] || printf '%s\n' "$out" | tail -5
}
row "reference-adapter (Rust)" "$KIT" "$KIT reference-adapter"
row "go (conformance/adapters/go/adapter)" go conformance/adapters/go/adapter
row "php (conformance/adapters/php/adapter)" php conformance/adapters/php/adapter
row "java (conformance/adapters/java/adapter)" java conformance/adapters/java/adapter
row "node (conformance/adapters/node/adapter)" node conformance/adapters/node/adapter
row "python (conformance/adapters/python)" "$python_venv/bin/python3" "$python_venv/bin/python3 conformance/adapters/python/adapter.py"
