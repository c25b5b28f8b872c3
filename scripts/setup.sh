#!/usr/bin/env bash
# Installs everything Wisp needs on a fresh Debian machine: system packages (Java and
# Maven for the embedded database, Chromium for end-to-end tests, Redis for the
# multi-node tests), npm packages, the embedded database launcher and the widget.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install these packages first: ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup: installing npm packages"
npm ci --no-audit --no-fund --loglevel=error
npm run build
# The webhook tests also verify deliveries with Python's standardwebhooks package, as the README shows.
if ! .venv-webhooks/bin/python -c 'import standardwebhooks' >/dev/null 2>&1; then
  echo "setup: installing Python's standardwebhooks for the webhook tests"
  python3 -m venv .venv-webhooks
  .venv-webhooks/bin/pip install --quiet "standardwebhooks==1.1.0"
fi
echo "setup: done"
