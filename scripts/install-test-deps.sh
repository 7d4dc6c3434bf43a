#!/usr/bin/env bash
# What the tests need beyond Python packages: the official npm clients, the
# client's build tools, and Debian's chromium for the browser tests.
set -euo pipefail
cd "$(dirname "$0")/.."

for dir in tests/interop client_js; do
  if [ -f "$dir/package-lock.json" ]; then
    npm ci --silent --no-audit --no-fund --prefix "$dir" >/dev/null
  fi
done

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

