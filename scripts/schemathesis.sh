#!/usr/bin/env bash
# Property-based API checks: schemathesis (--checks all) against the server's own OpenAPI
# document. Starts a server on a fresh embedded database with every limit lifted, uses the
# admin key it prints, and exits non-zero when a check fails. Installs schemathesis from PyPI
# into .venv-schemathesis on first use. SCHEMATHESIS_MAX_EXAMPLES (default 25) bounds the run.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=.venv-schemathesis
if [ ! -x "$VENV/bin/schemathesis" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis>=4.3,<5"
fi

WORK=$(mktemp -d)
LOG="$WORK/server.log"
cleanup() {
  if [ -n "${SERVER_PID:-}" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

node scripts/build-embedded-db.mjs --if-missing
env -i PATH="$PATH" HOME="${HOME:-/tmp}" DATA_DIR="$WORK/data" PORT=0 HOST=127.0.0.1 LOG_LEVEL=info NODE_ENV=test \
  RATE_LIMIT_FREE_PER_MINUTE=0 RATE_LIMIT_FREE_PER_SECOND=0 RATE_LIMIT_PRO_PER_MINUTE=0 RATE_LIMIT_PRO_PER_SECOND=0 \
  RATE_LIMIT_ENTERPRISE_PER_MINUTE=0 RATE_LIMIT_ENTERPRISE_PER_SECOND=0 PUBLIC_RATE_LIMIT_PER_MINUTE=0 \
  MONTHLY_MESSAGE_QUOTA=0 ALLOW_PRIVATE_URLS=false \
  node --import tsx server/index.ts >"$LOG" 2>&1 &
SERVER_PID=$!

URL=""
for _ in $(seq 1 240); do
  URL=$(grep -o '"url":"http://[^"]*","msg":"Wisp is listening' "$LOG" | head -1 | sed 's/"url":"\([^"]*\)".*/\1/' || true)
  [ -n "$URL" ] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$LOG" >&2; exit 1; fi
  sleep 0.5
done
[ -n "$URL" ] || { echo "schemathesis.sh: the server did not start" >&2; cat "$LOG" >&2; exit 1; }
KEY=$(grep -o 'sk_live_[0-9A-Za-z]*' "$LOG" | head -1)
echo "schemathesis.sh: server at $URL"

WISP_SCHEMATHESIS_KEY="$KEY" SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=scripts \
  "$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "$URL/api/v1/openapi.json" \
  --url "$URL" \
  --checks all \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --no-color \
  "$@"
