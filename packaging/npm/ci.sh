#!/usr/bin/env bash
# CI for the npm packages (issue 19): from the two tarballs alone, in a scratch project outside
# the checkout, installed offline: `npx alipay-cancel-kit run` (the whole catalogue, exit 0),
# a node:test suite on startGateway() over HTTP and HTTPS, and one on fromEnvironment() under
# `npx alipay-cancel-kit serve --exec`, over HTTP and HTTPS.
#
#   packaging/npm/build.sh BIN OUTDIR && packaging/npm/ci.sh OUTDIR
set -euo pipefail

OUT=${1:?usage: packaging/npm/ci.sh OUTDIR (holding the tarballs from packaging/npm/build.sh)}
OUT=$(cd "$OUT" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
step() { printf '==> npm: %s\n' "$*"; }

if ! command -v npm >/dev/null; then
  step "installing nodejs and npm (Debian)"
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi

LAUNCHER=$(ls "$OUT"/alipay-cancel-kit-[0-9]*.tgz)
PLATFORM=$(ls "$OUT"/alipay-cancel-kit-linux-x64-*.tgz)
for f in "$LAUNCHER" "$PLATFORM"; do
  step "$(basename "$f"): $(stat -c %s "$f") bytes"
done

SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
cd "$SCRATCH"
# No checkout anywhere: the test and its client are copied in; the environment forgets the kit.
cp "$HERE/test/gateway.test.mjs" "$HERE/test/exec.test.mjs" "$ROOT/conformance/adapters/node/cancel-client.mjs" .
cp "$ROOT/conformance/adapters/node/adapter.mjs" .
printf '{"name":"scratch","private":true,"type":"module"}\n' >package.json
unset ALIPAY_CANCEL_KIT_BINARY ALIPAY_CANCEL_KIT ALIPAY_KIT_BIN NODE_PATH
export npm_config_cache="$SCRATCH/.npm-cache" npm_config_update_notifier=false

step "npm install --offline (the two tarballs only)"
npm install --offline --no-audit --no-fund --loglevel=error "$PLATFORM" "$LAUNCHER"
test -x node_modules/@alipay-cancel-kit/linux-x64/bin/alipay-cancel-kit

step "npx alipay-cancel-kit --version"
npx --offline alipay-cancel-kit --version

step "npx alipay-cancel-kit run (the whole catalogue, built-in client)"
npx --offline alipay-cancel-kit run --quiet | tail -n 1

step "npx alipay-cancel-kit run --client 'node adapter.mjs' --persistent --tls"
npx --offline alipay-cancel-kit run --client "node adapter.mjs" --persistent --tls --quiet | tail -n 1

step "node --test gateway.test.mjs (startGateway over HTTP and HTTPS)"
node --test --test-reporter=dot gateway.test.mjs

for tls in "" "--tls"; do
  step "npx alipay-cancel-kit serve --port 0 $tls --exec 'node --test exec.test.mjs' (fromEnvironment)"
  out=$(mktemp)
  rc=0
  npx --offline alipay-cancel-kit serve --port 0 $tls --exec "node --test --test-reporter=dot exec.test.mjs" >"$out" 2>&1 || rc=$?
  grep -v '"merchantPrivateKey"' "$out" || true  # the ready line holds the private key
  rm -f "$out"
  [ "$rc" -eq 0 ] || { echo "npm: the serve --exec suite failed ($tls), exit $rc" >&2; exit 1; }
done

step "ok"
