#!/usr/bin/env bash
# serve against Prism, side by side in one run (benches/serve.rs): installs Prism 5.14.2 from
# the npm registry under target/prism, builds the release binary, and runs the benchmark.
# Environment passed through: REQUESTS (default 20000), CONNECTIONS (default 32).
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --silent --no-audit --no-fund --no-save --prefix target/prism @stoplight/prism-cli@5.14.2
cargo build --release --quiet
PRISM="$PWD/target/prism/node_modules/.bin/prism" cargo bench --quiet --bench serve
