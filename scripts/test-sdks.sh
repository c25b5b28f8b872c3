#!/usr/bin/env bash
# Runs the Python, Go and Ruby SDKs' tests against one live Wisp server: sdk/harness/start.ts starts the
# test model server and Wisp on the embedded database, writes what the tests need to a file and stays up
# until this script stops it. Reports go to reports/sdk-*.{xml,json,txt} for scripts/test-summary.mjs.
# Exits non-zero when any SDK's tests failed. Needs `npm run setup` first (Python venv, Ruby, Go modules).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

WORK=$(mktemp -d)
HARNESS_JSON="$WORK/harness.json"
cleanup() {
  if [ -n "${HARNESS_PID:-}" ]; then kill "$HARNESS_PID" 2>/dev/null; wait "$HARNESS_PID" 2>/dev/null; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

node scripts/build-embedded-db.mjs --if-missing
node --import tsx sdk/harness/start.ts "$HARNESS_JSON" >"$WORK/harness.log" 2>&1 &
HARNESS_PID=$!
for _ in $(seq 1 240); do
  [ -f "$HARNESS_JSON" ] && break
  if ! kill -0 "$HARNESS_PID" 2>/dev/null; then
    echo "test-sdks: the harness exited before it was ready" >&2
    cat "$WORK/harness.log" >&2
    exit 1
  fi
  sleep 0.25
done
[ -f "$HARNESS_JSON" ] || { echo "test-sdks: the harness was not ready in 60 s" >&2; cat "$WORK/harness.log" >&2; exit 1; }
export WISP_HARNESS="$HARNESS_JSON"
mkdir -p reports
failed=()

echo "test-sdks: Python"
(cd sdk/python && .venv/bin/python -m pytest -q -p no:cacheprovider --junitxml="$ROOT/reports/sdk-python.xml") || failed+=(python)

echo "test-sdks: Go"
(cd sdk/go && go test -count=1 -json ./... >"$ROOT/reports/sdk-go.json")
go_status=$?
node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
  process.stdout.write(lines.filter((l) => l.Action === "output").map((l) => l.Output).join(""));
' "$ROOT/reports/sdk-go.json" | grep -Ev '^(=== RUN|=== PAUSE|=== CONT)' || true
[ "$go_status" -eq 0 ] || failed+=(go)

echo "test-sdks: Ruby"
(cd sdk/ruby && ruby -Ilib -Itest -e 'Dir["test/*_test.rb"].sort.each { |f| require_relative f }') | tee "$ROOT/reports/sdk-ruby.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=(ruby)

if [ "${#failed[@]}" -gt 0 ]; then
  echo "test-sdks: failed: ${failed[*]}" >&2
  exit 1
fi
echo "test-sdks: every SDK passed"
