#!/usr/bin/env bash
# CI for the Java adapter and its serve suite (issue 20). From the repository root:
#
#   conformance/adapters/java/ci.sh path/to/alipay-cancel-kit
#
# Installs the JDK and Debian's Jackson and JUnit 5 jars when missing, builds once, then:
# the whole catalogue through the adapter in exec and persistent mode, each with and without
# --tls (exit 0, no FAIL, no ERROR, no SKIPPED: the adapter declares tls and all three ids);
# `fuzz --persistent --cases 2000 --seed 7`, beside the reference adapter's speed on the same
# cases; and the JUnit serve suite under `serve --exec`, over HTTP and HTTPS.
set -euo pipefail

kit="${1:?usage: conformance/adapters/java/ci.sh KIT_BIN}"
[ -x "$kit" ] || { echo "ci.sh: $kit is not an executable" >&2; exit 2; }
kit="$(cd "$(dirname "$kit")" && pwd)/$(basename "$kit")"
[ -f schema/result-codes.json ] || { echo "ci.sh: run from the repository root" >&2; exit 2; }
here=conformance/adapters/java
libs="${JAVA_LIBS:-/usr/share/java}"

step() { printf '\n== java: %s\n' "$*"; }
started=$SECONDS

step "toolchain"
missing=()
command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
[ -r "$libs/jackson-databind.jar" ] || missing+=(libjackson2-databind-java)
[ -r "$libs/junit-platform-console-standalone.jar" ] || missing+=(junit5)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
javac -version
install_done=$SECONDS

# Built before the first run: the kit's capabilities probe allows 15 s, and a first build
# (javac, then the class-data training run) can take longer on a busy machine.
step "build (cached by source hash)"
"$here/build.sh" main
"$here/build.sh" test

# Exec mode starts a JVM per scenario, about 0.4 s of CPU each: a few more jobs than cores
# keep the CPU busy while other scenarios wait on their gateways' timeouts.
catalogue() {
    local log
    log="$(mktemp)"
    step "run $*"
    if ! "$kit" run --client "$here/adapter" --quiet --color never "$@" >"$log" 2>&1; then
        cat "$log"
        echo "ci.sh: run $* failed" >&2
        exit 1
    fi
    tail -n 1 "$log"
    if ! grep -Eq '^71 scenarios: 71 PASS, 0 NON_STRICT, 0 FAIL, 0 ERROR, 0 SKIPPED' "$log"; then
        cat "$log"
        echo "ci.sh: run $*: expected 71 PASS" >&2
        exit 1
    fi
    rm -f "$log"
}
catalogue --jobs 4
# Over TLS, fault/timeout and retry/timeout-then-success give the client 300 ms for connect,
# handshake and request; a cold JVM's first TLS handshake (ECDHE and the certificate path in
# Java code, not yet compiled) has run past that with four JVMs starting at once on a busy
# 2-core machine, and then no request reaches the gateway (a MUST failure). Two jobs here.
catalogue --jobs 2 --tls
catalogue --persistent
catalogue --persistent --tls

# C2 for a long persistent run: RSA signing runs on its BigInteger intrinsics (about 4x
# faster than C1's code). Six jobs: each is a JVM, and the kit's default (12 per core)
# starves them on a small machine. A fuzz case's limit is 200 ms x 5 + the margin, and the
# first case of each process carries the JVM's start: six starting at once on a busy 2-core
# machine took longer than the default 5 s margin, so the Java run gets 15 s.
fuzz() {
    local client="$1" log
    log="$(mktemp)"
    shift
    if ! "$kit" fuzz --client "$client" --persistent --cases 2000 --seed 7 --jobs 6 --color never "$@" >"$log" 2>&1; then
        cat "$log"
        echo "ci.sh: fuzz of $client failed" >&2
        exit 1
    fi
    grep -E '^(PASS|warning)' "$log"
    rm -f "$log"
}
step "fuzz --persistent --cases 2000 --seed 7: the Java adapter"
fuzz "JAVA_ADAPTER_OPTS=-XX:TieredStopAtLevel=4 $here/adapter" --time-limit-margin-ms 15000
step "fuzz --persistent --cases 2000 --seed 7: the reference adapter, same cases, for comparison"
fuzz "$kit reference-adapter"

# serve prints its ready line (keys included) on standard output, then the suite's output.
step "serve suite (JUnit 5) under serve --exec, HTTP"
ALIPAY_KIT_BIN="$kit" "$kit" serve --port 0 --exec "$here/serve-tests" | grep -v '^{"url"'
step "serve suite (JUnit 5) under serve --exec, HTTPS"
ALIPAY_KIT_BIN="$kit" "$kit" serve --tls --port 0 --exec "$here/serve-tests" | grep -v '^{"url"'

step "done: $((SECONDS - install_done)) s after the toolchain step ($((SECONDS - started)) s in all)"
