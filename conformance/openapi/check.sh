#!/usr/bin/env bash
# schema/openapi.json in the OpenAPI tool chain: a real OpenAPI 3.1 validator
# (openapi-spec-validator, from PyPI), then Prism (@stoplight/prism-cli, from the npm registry)
# mocking it on a free loopback port, answering every row of the result-code table by name and
# refusing a body that breaks the request schema.
#
#   conformance/openapi/check.sh [WORKDIR]     (WORKDIR defaults to target/openapi)
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-target/openapi}
mkdir -p "$WORK"

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check openapi-spec-validator==0.9.0
"$WORK/venv/bin/openapi-spec-validator" schema/openapi.json

npm install --silent --no-audit --no-fund --no-save --prefix "$WORK/prism" @stoplight/prism-cli@5.14.2
python3 conformance/openapi/prism_check.py "$WORK/prism/node_modules/.bin/prism" schema/openapi.json
