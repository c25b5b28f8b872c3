#!/usr/bin/env bash
# Installs everything Wisp needs on a fresh Debian machine: system packages (Java and
# Maven for the embedded database, Chromium for end-to-end tests, Redis for the
# multi-node tests), the openai Python package, npm packages, the embedded database launcher and the widget.
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

# The OpenAI-compatible endpoint is tested with OpenAI's official Python client too.
if ! python3 -c 'import openai' >/dev/null 2>&1; then
  echo "setup: installing the openai Python package"
  python3 -m pip install --quiet openai
fi

echo "setup: installing npm packages"
npm ci --no-audit --no-fund --loglevel=error
npm run build
echo "setup: done"
