#!/usr/bin/env bash
# Runs the full catalogue against both releases of the official Python SDK (installed by
# setup.sh into DIR), each with its committed baseline. Exits non-zero when a release's
# results drift from its baseline in either direction: a failure not listed, or a listed
# scenario that now passes. Reports go to OUT (default target/ci).
# The gateway serves HTTPS throughout (--tls): the SDK speaks only HTTPS.
# Usage: check.sh DIR [KIT_BINARY] [OUT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: check.sh DIR [KIT_BINARY] [OUT]}
kit=${2:-target/release/alipay-cancel-kit}
out=${3:-target/ci}
mkdir -p "$out"

status=0
for release in global-open-sdk-python-1.7.1 global-alipay-sdk-python-1.0.1; do
    version=${release##*-}
    echo "== python-sdk $release"
    "$kit" run --tls --color never --quiet \
        --client "'$dir/$release/bin/python' '$here/adapter.py'" \
        --baseline "$here/baseline-$version.json" \
        --report-json "$out/python-sdk-$version.json" \
        --junit "$out/python-sdk-$version.xml" || status=1
done
exit $status
