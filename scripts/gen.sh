#!/usr/bin/env bash
# Regenerates everything under proto/gen from the .proto files. Needs only node_modules:
# buf and protoc-gen-ts_proto ship inside npm packages, so this works offline.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf proto/gen
npx --no-install buf lint
npx --no-install buf generate
npx --no-install buf build --path proto/skiff -o -#format=json | node scripts/gen-schema.mjs proto/gen/schema.ts
