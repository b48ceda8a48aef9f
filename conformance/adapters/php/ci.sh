#!/usr/bin/env bash
# CI for the PHP example adapter (issue 20): Debian's php-cli, php-curl, php-mbstring and
# phpunit, installed when missing; then the unit tests, the whole catalogue through the
# adapter in exec and persistent mode, over HTTP and HTTPS (--tls); fuzz with a pinned seed,
# beside the reference adapter's speed in the same run; and the PHPUnit serve suite under
# `serve --exec`, over HTTP and HTTPS.
#
#   conformance/adapters/php/ci.sh target/release/alipay-cancel-kit
#
# Reports go to target/ci/php/. Exits non-zero on the first failing step.
set -euo pipefail

KIT=${1:?usage: conformance/adapters/php/ci.sh KIT_BIN}
case "$KIT" in /*) ;; *) KIT="$PWD/$KIT" ;; esac
[ -x "$KIT" ] || { echo "ci.sh: $KIT is not an executable kit binary" >&2; exit 2; }
cd "$(dirname "$0")/../../.."

step() { printf '\n== php: %s\n' "$*"; }
fail() { echo "php ci: $*" >&2; exit 1; }

step "Debian packages: php-cli, php-curl, php-mbstring, phpunit (installed when missing)"
missing=()
# The module list is read whole first: `php -m | grep -q` under pipefail fails when grep
# stops reading early and php dies of SIGPIPE.
modules=$(php -m 2>/dev/null || true)
command -v php >/dev/null 2>&1 || missing+=(php-cli)
for ext in curl mbstring; do
    grep -qx "$ext" <<<"$modules" || missing+=("php-$ext")
done
command -v phpunit >/dev/null 2>&1 || missing+=(phpunit)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq php-cli php-curl php-mbstring phpunit >/dev/null
fi
php --version | head -1
phpunit --version | head -1
SECONDS=0

OUT=target/ci/php
mkdir -p "$OUT"
ADAPTER=conformance/adapters/php/adapter
PHPUNIT=(phpunit -c conformance/adapters/php/phpunit.xml)

step "unit tests (golden vectors, request rules, cancelTime)"
"${PHPUNIT[@]}" --testsuite unit

# The whole catalogue in one mode: exit 0, and every scenario PASS (the adapter declares
# every capability, so nothing may be SKIPPED either).
catalogue() {
    local name=$1; shift
    local report="$OUT/run-$name.json" rc=0
    "$KIT" run -q --client "$ADAPTER" "$@" --report-json "$report" --junit "$OUT/run-$name.xml" || rc=$?
    [ "$rc" = 0 ] || fail "run $* exited $rc"
    php -r '$s = json_decode(file_get_contents($argv[1]), true)["summary"];
        printf("%d scenarios: %d PASS, %d NON_STRICT, %d FAIL, %d ERROR, %d SKIPPED\n", $s["total"], $s["PASS"], $s["NON_STRICT"], $s["FAIL"], $s["ERROR"], $s["SKIPPED"]);
        exit($s["FAIL"] + $s["ERROR"] + $s["SKIPPED"] === 0 && $s["total"] > 0 ? 0 : 1);' "$report" \
        || fail "run $*: not every scenario passed (see $report)"
}
step "catalogue, exec mode";              catalogue exec
step "catalogue, persistent mode";        catalogue persistent --persistent
step "catalogue, exec mode, --tls";       catalogue exec-tls --tls
step "catalogue, persistent mode, --tls"; catalogue persistent-tls --persistent --tls

# fuzz prints `PASS: N cases (...) in T s, R cases/s; seed S`, and a warning for each case
# that failed among the others but passed alone (a timeout under load).
fuzz() {
    local name=$1 client=$2 log="$OUT/fuzz-$1.log" rc=0
    "$KIT" fuzz --client "$client" --persistent --cases 2000 --seed 7 --color never >"$log" 2>&1 || rc=$?
    grep -v '^warning: ' "$log" | tail -1
    echo "$(grep -c '^warning: ' "$log" || true) case(s) flaky under load (passed when re-run alone)"
    [ "$rc" = 0 ] || { cat "$log" >&2; fail "fuzz of $name exited $rc"; }
}
rate() { grep -o '[0-9.]* cases/s' "$OUT/fuzz-$1.log" | tail -1; }
step "fuzz --persistent --cases 2000 --seed 7: the PHP adapter"
fuzz php "$ADAPTER"
step "fuzz, the same cases: the reference adapter, for comparison"
fuzz reference "$KIT reference-adapter"

# The suite reads the table from the repository and cross-checks it with the kit's
# `scenarios --magic`; ALIPAY_KIT_BIN tells it which kit (serve --exec may export it too).
export ALIPAY_KIT_BIN="$KIT"
step "PHPUnit serve suite under serve --exec (HTTP)"
"$KIT" serve --port 0 --junit "$OUT/serve-http.xml" \
    --exec "${PHPUNIT[*]} --testsuite serve --log-junit $OUT/phpunit-http.xml" >"$OUT/serve-http.log"
tail -n +2 "$OUT/serve-http.log" | grep -E '^(OK|Tests:)'
step "PHPUnit serve suite under serve --exec --tls (HTTPS)"
"$KIT" serve --tls --port 0 --junit "$OUT/serve-https.xml" \
    --exec "${PHPUNIT[*]} --testsuite serve --log-junit $OUT/phpunit-https.xml" >"$OUT/serve-https.log"
tail -n +2 "$OUT/serve-https.log" | grep -E '^(OK|Tests:)'

step "done in ${SECONDS} s after install; fuzz: PHP adapter $(rate php), reference adapter $(rate reference)"
