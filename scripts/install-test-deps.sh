#!/usr/bin/env bash
# What the tests need beyond Python packages: the official npm clients (for Node,
# and their browser bundles for Chromium), the client's build tools, the Node
# cluster peers, the Admin UI, Debian's chromium for the browser tests,
# Debian's redis-server for the cluster tests and Debian's nginx for the
# deployment test.
set -euo pipefail
cd "$(dirname "$0")/.."

for dir in tests/interop tests/cluster tests/browser/adminui tests/browser/clients client_js; do
  if [ -f "$dir/package-lock.json" ]; then
    npm ci --silent --no-audit --no-fund --prefix "$dir" >/dev/null
  fi
done

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || missing+=(nginx)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

