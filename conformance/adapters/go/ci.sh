#!/usr/bin/env bash
# CI for the Go example adapter (conformance/adapters/go/): installs Debian's Go when `go` is
# missing, then, from the repository root:
#   1. gofmt, go vet and the unit tests (-short: no gateway needed);
#   2. the whole catalogue through the adapter in exec and persistent mode, with and without
#      --tls: every scenario must PASS (the adapter declares `tls`, so none is SKIPPED);
#   3. fuzz --persistent --cases 2000 --seed 7, and the reference adapter on the same cases
#      for comparison (cases/s of both printed);
#   4. the serve suite (go test) under `serve --exec`, over HTTP and over HTTPS.
# Standard library only: no module proxy, no toolchain download, no network. The Go caches
# and the adapter's build live under target/go/.
# Usage: conformance/adapters/go/ci.sh KIT_BINARY [OUT]   (OUT: reports, default target/ci/go)
set -euo pipefail
kit_arg=${1:?usage: conformance/adapters/go/ci.sh KIT_BINARY [OUT]}
kit="$(cd "$(dirname "$kit_arg")" && pwd)/$(basename "$kit_arg")"
cd "$(dirname "$0")/../../.."
out=${2:-target/ci/go}
mkdir -p "$out"

step() { printf '== go: [%3d s] %s\n' "$((SECONDS - ${started:-$SECONDS}))" "$*"; }
fail() { printf 'go: FAILED: %s\n' "$*" >&2; exit 1; }

if ! command -v go >/dev/null 2>&1; then
    step "installing golang-go (Debian)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
fi
step "$(go version)"
started=$SECONDS

export GOCACHE="$PWD/target/go/cache" GOPATH="$PWD/target/go/path"
export GOTOOLCHAIN=local GOPROXY=off GOFLAGS= GOWORK=off
export ALIPAY_KIT_ADAPTER_CACHE="$PWD/target/go/adapter"
export ALIPAY_KIT_BIN="$kit" # the serve suite reads the result-code table from the kit
adapter=conformance/adapters/go/adapter

step "gofmt, go vet, unit tests"
unformatted=$(cd conformance/adapters/go && gofmt -l .)
[ -z "$unformatted" ] || fail "not gofmt'ed: $unformatted"
(cd conformance/adapters/go && go vet ./... && go test -short -count=1 ./...)

step "build (the launcher's first run) and capabilities"
caps=$("$adapter" --capabilities)
[ "$caps" = '["tls"]' ] || fail "--capabilities printed $caps, expected [\"tls\"]"

for mode in exec persistent exec-tls persistent-tls; do
    flags=()
    case $mode in persistent*) flags+=(--persistent) ;; esac
    case $mode in *-tls) flags+=(--tls) ;; esac
    step "catalogue, $mode"
    rc=0
    "$kit" run --client "$adapter" "${flags[@]}" --quiet --color never \
        --report-json "$out/run-$mode.json" --junit "$out/run-$mode.xml" >"$out/run-$mode.txt" 2>&1 || rc=$?
    summary=$(tail -n 1 "$out/run-$mode.txt")
    echo "$summary"
    # Every scenario PASS: `N scenarios: N PASS, 0 NON_STRICT, 0 FAIL, 0 ERROR, 0 SKIPPED`.
    if [ "$rc" != 0 ] || ! grep -Eq '^([0-9]+) scenarios: \1 PASS,' <<<"$summary"; then
        cat "$out/run-$mode.txt" >&2
        fail "catalogue, $mode: exit $rc"
    fi
done

fuzz() { # fuzz NAME CLIENT: 2000 pinned cases, persistent; prints the PASS line
    local rc=0
    "$kit" fuzz --client "$2" --persistent --cases 2000 --seed 7 --color never >"$out/fuzz-$1.txt" 2>&1 || rc=$?
    grep -E '^PASS: ' "$out/fuzz-$1.txt" | sed "s/^/$1: /" || true
    if [ "$rc" != 0 ]; then
        cat "$out/fuzz-$1.txt" >&2
        fail "fuzz, $1: exit $rc"
    fi
}
step "fuzz --persistent --cases 2000 --seed 7: the Go adapter, then the reference adapter"
fuzz go "$adapter"
fuzz reference "$kit reference-adapter"

for tls in http https; do
    flags=()
    [ "$tls" = https ] && flags+=(--tls)
    step "serve suite (go test) under serve --exec, $tls"
    rc=0
    "$kit" serve --port 0 "${flags[@]}" --junit "$out/serve-$tls.xml" \
        --exec "cd conformance/adapters/go && go test -count=1 ./..." \
        >"$out/serve-$tls.txt" 2>&1 || rc=$?
    grep -E '^(ok|FAIL|---)|serve: stopped' "$out/serve-$tls.txt" || true
    if [ "$rc" != 0 ]; then
        cat "$out/serve-$tls.txt" >&2
        fail "serve suite, $tls: exit $rc"
    fi
done

step "done in $((SECONDS - started)) s (after the toolchain install)"
