#!/usr/bin/env bash
# Builds every artifact of a release into one folder:
#   OUTDIR/alipay-cancel-kit                 the static Linux binary (x86_64-unknown-linux-musl)
#   OUTDIR/alipay_cancel_kit-*.whl           the Python wheel (the binary and the pytest plugin)
#   OUTDIR/alipay-cancel-kit-*.tgz           the npm launcher (and Node helper)
#   OUTDIR/alipay-cancel-kit-linux-x64-*.tgz the npm platform package (the binary)
#
# Usage: packaging/build.sh OUTDIR
# Needs: rustup's x86_64-unknown-linux-musl target and Debian's musl-tools (installed here
# when missing, as root), perl and make (OpenSSL is compiled from source and linked in),
# python3 (the wheel), npm (the tarballs).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: packaging/build.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
target=x86_64-unknown-linux-musl

if ! rustup target list --installed | grep -qx "$target"; then
    rustup target add "$target"
fi
if ! command -v musl-gcc >/dev/null 2>&1; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq musl-tools >/dev/null
fi

echo "== the static binary ($target, OpenSSL vendored, mimalloc)"
cargo build --locked --release --target "$target" --features static --bin alipay-cancel-kit
bin=target/$target/release/alipay-cancel-kit
# Stripped: the symbols are two fifths of the file, and every package carries it.
strip -o "$out/alipay-cancel-kit" "$bin"
chmod 0755 "$out/alipay-cancel-kit"
# A static binary has no interpreter and no NEEDED entries; a dynamic one fails the release.
if readelf -d "$out/alipay-cancel-kit" 2>/dev/null | grep -q NEEDED \
    || readelf -l "$out/alipay-cancel-kit" | grep -q "Requesting program interpreter"; then
    echo "packaging/build.sh: $out/alipay-cancel-kit links shared libraries:" >&2
    readelf -d "$out/alipay-cancel-kit" | grep NEEDED >&2 || true
    exit 1
fi

echo "== the Python wheel"
packaging/python/build.sh "$out/alipay-cancel-kit" "$out"
echo "== the npm packages"
packaging/npm/build.sh "$out/alipay-cancel-kit" "$out"

echo "== built into $out"
(cd "$out" && ls -l)
