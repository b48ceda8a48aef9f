#!/usr/bin/env bash
# Writes the alipay-cancel-kit wheel into OUTDIR from a binary already built (the static
# x86_64-unknown-linux-musl build): no compiler, the standard library's zipfile only.
# Set ALLOW_DYNAMIC=1 to wrap a dynamically linked build as a local-only linux_x86_64 wheel.
# Usage: packaging/python/build.sh BIN OUTDIR      (prints the wheel's path)
set -euo pipefail
bin=${1:?usage: build.sh BIN OUTDIR}
out=${2:?usage: build.sh BIN OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
args=()
[ "${ALLOW_DYNAMIC:-0}" = 1 ] && args+=(--allow-dynamic)
exec python3 "$here/build_wheel.py" "$bin" "$out" "${args[@]}"
