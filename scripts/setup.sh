#!/usr/bin/env bash
# Installs everything Wisp needs on a fresh Debian machine: system packages (Java,
# Maven and patch for the embedded database, Chromium for end-to-end tests, Redis for the
# multi-node tests, Python's venv and Ruby with minitest for the SDKs' tests), the openai Python package,
# npm packages, the embedded database launcher, the widget, and the SDKs' Python packages and Go modules.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || missing+=(maven)
command -v patch >/dev/null 2>&1 || missing+=(patch)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
command -v ruby >/dev/null 2>&1 || missing+=(ruby)
ruby -e 'require "minitest"' >/dev/null 2>&1 || missing+=(ruby-minitest)
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

# The SDKs' tests: Python packages in a venv of their own (reinstalled when the requirements change).
SDK_VENV=sdk/python/.venv
if ! cmp -s sdk/python/requirements-dev.txt "$SDK_VENV/requirements-dev.txt"; then
  echo "setup: installing the Python SDK's packages into $SDK_VENV"
  [ -x "$SDK_VENV/bin/python" ] || python3 -m venv "$SDK_VENV"
  "$SDK_VENV/bin/pip" install --quiet --disable-pip-version-check -r sdk/python/requirements-dev.txt
  cp sdk/python/requirements-dev.txt "$SDK_VENV/requirements-dev.txt"
fi
if command -v go >/dev/null 2>&1; then
  echo "setup: downloading the Go SDK's modules and its model generator"
  (cd sdk/go && go mod download && go run "$(sed -n 's/^OAPI_CODEGEN=//p' ../../scripts/generate-sdks.sh)" -version >/dev/null)
else
  echo "setup: Go is not installed, so the Go SDK's tests cannot run" >&2
fi
echo "setup: done"
