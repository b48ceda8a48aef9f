#!/usr/bin/env bash
# Builds the two npm packages of alipay-cancel-kit into OUTDIR, as tarballs (`npm pack`):
#   alipay-cancel-kit-<version>.tgz                 the launcher (bin + the Node helper)
#   alipay-cancel-kit-linux-x64-<version>.tgz       the platform package holding BIN
# The version is the workspace's, read from Cargo.toml, stamped into both package.json files
# (and the launcher's optionalDependencies pin). BIN should be the static x86_64-musl build.
#
#   packaging/npm/build.sh BIN OUTDIR
set -euo pipefail

BIN=${1:?usage: packaging/npm/build.sh BIN OUTDIR}
OUT=${2:?usage: packaging/npm/build.sh BIN OUTDIR}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ -x "$BIN" ] || { echo "npm build: $BIN is not an executable file" >&2; exit 2; }
command -v npm >/dev/null || { echo "npm build: npm is not installed (apt-get install npm)" >&2; exit 2; }

# The [package] version, the first `version = "..."` line of Cargo.toml.
VERSION=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$ROOT/Cargo.toml" | head -n 1)
[ -n "$VERSION" ] || { echo "npm build: no version in $ROOT/Cargo.toml" >&2; exit 2; }
echo "npm build: version $VERSION"

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT

cp -R "$HERE/alipay-cancel-kit" "$STAGE/launcher"
cp -R "$HERE/linux-x64" "$STAGE/linux-x64"
cp "$ROOT/LICENSE"* "$STAGE/launcher/" 2>/dev/null || true
cp "$ROOT/LICENSE"* "$STAGE/linux-x64/" 2>/dev/null || true
mkdir -p "$STAGE/linux-x64/bin"
cp "$BIN" "$STAGE/linux-x64/bin/alipay-cancel-kit"
chmod 755 "$STAGE/linux-x64/bin/alipay-cancel-kit"

# Stamp the version with node (always beside npm), not sed: package.json stays valid JSON.
node - "$STAGE" "$VERSION" <<'JS'
const fs = require('fs');
const [stage, version] = process.argv.slice(2);
for (const dir of ['launcher', 'linux-x64']) {
  const file = `${stage}/${dir}/package.json`;
  const pkg = JSON.parse(fs.readFileSync(file, 'utf8'));
  pkg.version = version;
  for (const name of Object.keys(pkg.optionalDependencies ?? {})) pkg.optionalDependencies[name] = version;
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
}
JS

for dir in linux-x64 launcher; do
  (cd "$STAGE/$dir" && npm pack --silent --pack-destination "$OUT" >/dev/null)
done
ls -l "$OUT"/alipay-cancel-kit-*"$VERSION".tgz | awk '{print "npm build: " $NF ": " $5 " bytes"}'
