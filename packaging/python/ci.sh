#!/usr/bin/env bash
# CI for the Python artifact: builds the wheel from KIT_BIN into OUTDIR, checks it as an
# installer and PyPI would (RECORD hashes, tags, metadata), installs it with the official SDK
# 1.7.1 into a fresh virtual environment, then runs from there, with no checkout on sys.path:
# the plugin's self-tests, and the SDK's pytest suite (conformance/serve-example/) over HTTP
# and HTTPS, with the fixture starting serve itself and under `serve --exec`.
#
# Usage (from anywhere; relative paths are taken from the repository root, where it runs):
#   packaging/python/ci.sh OUTDIR SDK_VENV_DIR KIT_BIN
#     OUTDIR        where the wheel is written (alipay_cancel_kit-*.whl)
#     SDK_VENV_DIR  the venv conformance/adapters/python-sdk/setup.sh made for 1.7.1: its
#                   `pip freeze` pins the fresh venv's SDK and dependencies
#     KIT_BIN       the kit's binary: the static musl build (a dynamically linked one makes a
#                   linux_x86_64 wheel, for this machine only, and says so)
# Leaves the fresh venv at target/ci/python-wheel/venv (the wheel, the SDK, pytest) for the
# `proxy:` step of .ci/run, and under target/ci/python-wheel/ the logs, and the journals and
# reports (JSON, JUnit) of the two `serve --exec` runs, exec.* and exec--tls.*. The checking
# tools (twine, check-wheel-contents, wheel) are kept in ~/.cache/alipay-cancel-kit/python-tools
# and installed only when missing.
set -euo pipefail
out=${1:?usage: ci.sh OUTDIR SDK_VENV_DIR KIT_BIN}
sdk=${2:?usage: ci.sh OUTDIR SDK_VENV_DIR KIT_BIN}
kit=${3:?usage: ci.sh OUTDIR SDK_VENV_DIR KIT_BIN}
cd "$(dirname "$0")/../.."
root=$PWD
abs() { case $1 in /*) echo "$1" ;; *) echo "$root/$1" ;; esac; }
out=$(abs "$out"); sdk=$(abs "$sdk"); kit=$(abs "$kit")
work=$root/target/ci/python-wheel
# The checking tools outlive the checkout (a CI run is a fresh clone on a kept machine):
# twine alone pulls in keyring and cryptography, half a minute to install.
tools=${XDG_CACHE_HOME:-$HOME/.cache}/alipay-cancel-kit/python-tools
venv=$work/venv
step() { printf -- '-- python [%3ds]: %s\n' "$SECONDS" "$*"; }
fail() { echo "python: $*" >&2; exit 1; }
pip_quiet=(--quiet --disable-pip-version-check)

[ -x "$kit" ] || fail "$kit is not an executable file"
[ -x "$sdk/bin/python" ] || fail "$sdk is not a venv (run conformance/adapters/python-sdk/setup.sh first)"
rm -rf "$work"
mkdir -p "$out" "$work/run"

step "build the wheel from $kit"
rm -f "$out"/alipay_cancel_kit-*.whl
if python3 "$root/packaging/python/build_wheel.py" "$kit" "$out" > "$work/wheel-path" 2> "$work/build.err"; then
    :
elif grep -q "is dynamically linked" "$work/build.err"; then
    echo "python: $kit is dynamically linked: building a linux_x86_64 wheel for this machine only (ship the static musl build)"
    ALLOW_DYNAMIC=1 "$root/packaging/python/build.sh" "$kit" "$out" > "$work/wheel-path"
else
    cat "$work/build.err" >&2
    exit 1
fi
wheel=$(cat "$work/wheel-path")
python3 - "$wheel" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    size = sum(info.file_size for info in wheel.infolist())
print("python: %s: %.1f MB compressed (%d bytes), %.1f MB installed" % (
    os.path.basename(sys.argv[1]), os.path.getsize(sys.argv[1]) / 1e6, os.path.getsize(sys.argv[1]), size / 1e6))
PY

step "check the wheel: wheel unpack (RECORD hashes), check-wheel-contents, twine check"
if ! "$tools/bin/python" -c 'import twine, check_wheel_contents, wheel' 2> /dev/null; then
    python3 -m venv "$tools"
    "$tools/bin/pip" install "${pip_quiet[@]}" --no-compile twine==7.0.0 check-wheel-contents==0.6.3 wheel==0.48.0
fi
"$tools/bin/python" -m wheel unpack --dest "$work/unpacked" "$wheel" > /dev/null
script=$(echo "$work"/unpacked/*/alipay_cancel_kit-*.data/scripts/alipay-cancel-kit)
[ "$(stat -c %a "$script")" = 755 ] || fail "the unpacked script's mode is $(stat -c %a "$script"), not 755"
cmp -s "$script" "$kit" || fail "the wheel's binary is not $kit"
"$tools/bin/check-wheel-contents" "$wheel"
"$tools/bin/twine" check --strict "$wheel"

step "install the wheel and the official SDK 1.7.1 (pinned as in $sdk) into a fresh venv"
"$sdk/bin/pip" freeze --disable-pip-version-check > "$work/constraints.txt"
grep -q '^global-open-sdk-python==1.7.1$' "$work/constraints.txt" || fail "$sdk holds no global-open-sdk-python 1.7.1"
python3 -m venv "$venv"
# --no-compile: byte-compiling every module of the SDK's dependencies doubled the install's time.
"$venv/bin/pip" install "${pip_quiet[@]}" --no-compile -c "$work/constraints.txt" \
    "$wheel" global-open-sdk-python==1.7.1 pytest==9.2.0
py=("$venv/bin/python" -I)   # isolated: no PYTHONPATH, no user site, no current folder on sys.path

step "the command, python -m, and the package from site-packages (from a folder outside the checkout)"
cd "$work/run"
PATH="$venv/bin:$PATH" alipay-cancel-kit --version | grep -qx "alipay-cancel-kit [0-9.]*" || fail "alipay-cancel-kit --version"
[ "$(PATH="$venv/bin:$PATH" command -v alipay-cancel-kit)" = "$venv/bin/alipay-cancel-kit" ] || fail "the venv's bin/ has no alipay-cancel-kit"
"${py[@]}" -m alipay_cancel_kit scenarios --magic > "$work/magic.txt"
grep -q '^kit:result/ORDER_NOT_EXIST' "$work/magic.txt" || fail "python -m alipay_cancel_kit scenarios --magic lists no kit:result/ORDER_NOT_EXIST"
site=$("${py[@]}" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
package=$("${py[@]}" -c 'import os, alipay_cancel_kit; print(os.path.dirname(alipay_cancel_kit.__file__))')
[ "$package" = "$site/alipay_cancel_kit" ] || fail "alipay_cancel_kit was imported from $package, not from $site"
echo "python: alipay_cancel_kit from $package; the binary $venv/bin/alipay-cancel-kit"

# pytest from a temporary folder as rootdir, the test files imported without touching
# sys.path, and the plugin's own header line proving which copy was loaded.
pytest_run() { # pytest_run LOG ARGS...: runs the venv's pytest, output in LOG, fails loudly
    local log=$1; shift
    if ! "${py[@]}" -m pytest -p no:cacheprovider --rootdir "$work/run" --import-mode=importlib "$@" > "$log" 2>&1; then
        cat "$log" >&2
        fail "pytest $* failed (log: $log)"
    fi
    grep -q "^alipay-cancel-kit: plugin $site/alipay_cancel_kit; " "$log" \
        || { cat "$log" >&2; fail "the plugin was not loaded from $site"; }
    tail -n 1 "$log"
}

step "the wheel builder's tests and the plugin's self-tests (pytester)"
pytest_run "$work/selftest.log" -p pytester "$root/packaging/python/tests"

suite=$root/conformance/serve-example
step "the SDK suite, the fixture starting serve: HTTP"
pytest_run "$work/sdk-http.log" "$suite"
grep -q "serve started from $venv/bin/alipay-cancel-kit" "$work/sdk-http.log" || fail "the fixture did not start the wheel's binary"
step "the SDK suite, the fixture starting serve: HTTPS (--cancel-kit-tls)"
pytest_run "$work/sdk-https.log" --cancel-kit-tls "$suite"
grep -q "^alipay-cancel-kit serve https://localhost:[0-9]*: .* 0 broke a MUST check" "$work/sdk-https.log" || fail "no HTTPS serve summary"

for tls in "" --tls; do
    step "the SDK suite under serve ${tls:-(HTTP)} --exec: the fixture takes the gateway from the environment"
    log=$work/sdk-exec${tls}.log
    status=0
    "$venv/bin/alipay-cancel-kit" serve $tls --port 0 --journal "$work/exec${tls}.ndjson" \
        --report-json "$work/exec${tls}.json" --junit "$work/exec${tls}.xml" \
        --exec "$venv/bin/python -I -m pytest -p no:cacheprovider --rootdir $work/run --import-mode=importlib $suite" \
        > "$log" 2>&1 || status=$?
    [ "$status" = 0 ] || { cat "$log" >&2; fail "serve $tls --exec pytest exited $status"; }
    grep -q "the gateway from the environment, http" "$log" || { cat "$log" >&2; fail "the fixture did not use the gateway serve --exec started"; }
    grep -q "^alipay-cancel-kit serve http" "$log" && fail "the fixture started a serve of its own under --exec"
    [ "$(wc -l < "$work/exec${tls}.ndjson")" -ge 20 ] || fail "serve $tls journaled fewer than 20 exchanges"
    "$venv/bin/alipay-cancel-kit" validate --kind request "$work/exec${tls}.ndjson" > /dev/null
    grep -E '[0-9]+ passed' "$log" | tail -n 1
done
echo "python: the wheel $(basename "$wheel") passed; venv with the SDK and the plugin: $venv"
