#!/usr/bin/env bash
# CI for the Node example adapter (issue 20): the catalogue through it in exec and persistent
# mode, with and without --tls; fuzz in persistent mode with a pinned seed; the node:test serve
# suite under `serve --exec`, over HTTP and HTTPS. Runs from the repository root.
#
#   conformance/adapters/node/ci.sh KIT_BIN
set -euo pipefail

KIT=${1:?usage: conformance/adapters/node/ci.sh KIT_BIN}
KIT=$(cd "$(dirname "$KIT")" && pwd)/$(basename "$KIT")
cd "$(dirname "$0")/../../.."
ADAPTER=conformance/adapters/node/adapter
SUITE=conformance/adapters/node/serve-test/

step() { printf '==> node: %s\n' "$*"; }

if ! command -v node >/dev/null; then
  step "installing nodejs (Debian)"
  apt-get update -qq && apt-get install -y -qq nodejs >/dev/null
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 18 ]; then
  echo "node: Node $major is too old: the adapter and its suites need Node 18 or later (node:test)" >&2
  exit 1
fi
step "node $(node --version)"

step "node --test conformance/adapters/node/test/ (the client's parts, the golden vectors)"
node --test --test-reporter=dot conformance/adapters/node/test/

# The catalogue: exit 0 and no FAIL or ERROR line in the summary.
catalogue() {
  step "run --client $ADAPTER $*"
  local out
  out=$(mktemp)
  if ! "$KIT" run --client "$ADAPTER" --quiet "$@" >"$out" 2>&1; then
    cat "$out"; rm -f "$out"; echo "node: run $* failed" >&2; return 1
  fi
  tail -n 1 "$out"
  if grep -Eq '^(FAIL|ERROR)\b| [1-9][0-9]* (FAIL|ERROR)\b' "$out"; then
    cat "$out"; rm -f "$out"; echo "node: run $* reported FAIL or ERROR" >&2; return 1
  fi
  rm -f "$out"
}
catalogue
catalogue --persistent
catalogue --tls
catalogue --persistent --tls

step "fuzz --persistent --cases 2000 --seed 7"
out=$(mktemp)
if ! "$KIT" fuzz --client "$ADAPTER" --persistent --cases 2000 --seed 7 >"$out" 2>&1; then
  cat "$out"; rm -f "$out"; echo "node: fuzz failed" >&2; exit 1
fi
grep -E 'cases/s' "$out"; rm -f "$out"

# The ready line (it holds the private key) is kept out of the log; the suite's report stays.
for tls in "" "--tls"; do
  step "serve --port 0 $tls --exec 'node --test $SUITE'"
  out=$(mktemp)
  rc=0
  ALIPAY_CANCEL_KIT=$KIT "$KIT" serve --port 0 $tls \
    --exec "node --test --test-reporter=dot $SUITE" >"$out" 2>&1 || rc=$?
  grep -v '"merchantPrivateKey"' "$out" || true
  rm -f "$out"
  [ "$rc" -eq 0 ] || { echo "node: the serve suite failed ($tls), exit $rc" >&2; exit 1; }
done
step "ok"
