#!/usr/bin/env bash
# The README's test command: installs what is missing, checks generated code, type-checks,
# lints and runs every test (unit, integration on real etcd, end-to-end on real containerd).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/deps.sh
export npm_config_update_notifier=false

ensure_apt "${SKIFF_APT_TEST[@]}" "${SKIFF_APT_RUNTIME[@]}" "${SKIFF_APT_BUILD[@]}"
ensure_node_modules

echo "skiff: checking generated code is up to date (scripts/gen.sh)"
bash scripts/gen.sh >/dev/null
if git rev-parse --git-dir >/dev/null 2>&1 && ! git diff --quiet -- proto/gen; then
  git --no-pager diff --stat -- proto/gen
  echo "skiff: proto/gen differs from what the .proto files generate: run scripts/gen.sh and commit" >&2
  exit 1
fi

build
echo "skiff: lint"
npx --no-install eslint --max-warnings=0 .
echo "skiff: import cycles (madge)"
# shellcheck disable=SC2046
npx --no-install madge --circular --no-spinner $(ls -d proto control-plane node-agent cli test bench 2>/dev/null)

echo "skiff: tests"
report=$(mktemp)
set +e
npx --no-install vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
set -e
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' "$report" || true
rm -f "$report"
exit $rc
