#!/usr/bin/env bash
# Run the official protocol test suites against tests/official/app.py.
#
#   scripts/official-suites.sh ENGINE_IO_PROTOCOL SOCKET_IO_PROTOCOL [RUNS]
#
# Each argument is a checkout of socketio/engine.io-protocol or
# socketio/socket.io-protocol (or its test-suite/ folder) whose test-suite/
# already has its npm dependencies installed (`npm ci` there): this script
# downloads nothing. The suites expect a server at localhost:3000; each run
# serves the app on a free 127.0.0.1 port instead and runs a copy of each
# suite pointed at it. HOST_MODES (default "door aiohttp") says which hosts
# serve the app: realtime's own front door, a plain aiohttp site, or both.
#
# WebSocket events: in a browser (the suites' index.html) every WebSocket
# event is a task of its own, so a test that awaits one message and then
# listens for the next sees every message. Under Node the suites use ws 8.5,
# which dispatches all the frames of one TCP read in one go: a message that
# shares a read with the one awaited reaches no listener, and the test waits
# for a message that already passed. Which frames share a read is up to the
# network (Node's own socket.io server fails those cases now and then too),
# so by default the copy's node-imports.js gives ws the browser's behaviour:
# each message and close event in a task of its own, in order.
# WS_EVENTS=ws runs the suites' own node-imports.js unchanged.
#
# Exits non-zero if any case fails in any run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  sed -n '2,26p' "$0" >&2
  exit 2
fi
runs=${3:-1}
python=${PYTHON:-.venv/bin/python}
host_modes=${HOST_MODES:-door aiohttp}

suite_dir() {
  local dir=$1
  [ -f "$dir/test-suite.js" ] || dir="$dir/test-suite"
  if [ ! -f "$dir/test-suite.js" ] || [ ! -x "$dir/node_modules/.bin/mocha" ]; then
    echo "no test suite with installed dependencies in $1 (run npm ci in its test-suite/)" >&2
    exit 2
  fi
  (cd "$dir" && pwd)
}
suites=("$(suite_dir "$1")" "$(suite_dir "$2")")

# The suites' node-imports.js, with a WebSocket whose events are tasks.
browser_events() {
  cat <<'JS'
import fetch from "node-fetch";
import { WebSocket as WsWebSocket } from "ws";
import chai from "chai";
import chaiString from "chai-string";

chai.use(chaiString);

class WebSocket extends WsWebSocket {
  emit(type, ...args) {
    if (type === "message" || type === "close") {
      setImmediate(() => super.emit(type, ...args));
      return true;
    }
    return super.emit(type, ...args);
  }
}

globalThis.fetch = fetch;
globalThis.WebSocket = WebSocket;
globalThis.chai = chai;
JS
}

work=$(mktemp -d)
app_pid=""
stop_app() {
  if [ -n "$app_pid" ]; then
    kill "$app_pid" 2>/dev/null || true
    wait "$app_pid" 2>/dev/null || true
    app_pid=""
  fi
}
trap 'stop_app; rm -rf "$work"' EXIT

passed=0
failed=0
for run in $(seq 1 "$runs"); do
  for mode in $host_modes; do
    "$python" -m tests.official.app --port 0 --host-mode "$mode" >"$work/app.out" 2>"$work/app.err" &
    app_pid=$!
    port=""
    for _ in $(seq 1 100); do
      port=$(sed -n 's/^listening on \([0-9]*\)$/\1/p' "$work/app.out")
      [ -n "$port" ] && break
      kill -0 "$app_pid" 2>/dev/null || break
      sleep 0.1
    done
    if [ -z "$port" ]; then
      echo "the app did not start:" >&2
      cat "$work/app.err" >&2
      exit 1
    fi
    for suite in "${suites[@]}"; do
      name=$(basename "$(dirname "$suite")")
      copy="$work/$name"
      rm -rf "$copy"
      mkdir -p "$copy"
      cp "$suite"/*.js "$suite/package.json" "$copy/"
      ln -s "$suite/node_modules" "$copy/node_modules"
      sed -i "s#http://localhost:3000#http://127.0.0.1:$port#" "$copy/test-suite.js"
      if [ "${WS_EVENTS:-browser}" = browser ]; then
        browser_events >"$copy/node-imports.js"
      fi
      if (cd "$copy" && node_modules/.bin/mocha --reporter dot test-suite.js) >"$work/out" 2>&1; then
        result=pass
      else
        result=FAIL
      fi
      counts=$(grep -Eo '[0-9]+ (passing|failing)' "$work/out" | tr '\n' ' ')
      echo "run $run, $mode, $name: $result ($counts)"
      p=$(grep -Eo '[0-9]+ passing' "$work/out" | grep -Eo '[0-9]+' || echo 0)
      f=$(grep -Eo '[0-9]+ failing' "$work/out" | grep -Eo '[0-9]+' || echo 0)
      passed=$((passed + p))
      failed=$((failed + f))
      if [ "$result" = FAIL ]; then
        sed -n '/failing/,$p' "$work/out" | head -60
        [ "$f" = 0 ] && failed=$((failed + 1)) && cat "$work/out"
      fi
    done
    stop_app
  done
done
echo "official suites: $passed passed, $failed failed"
[ "$failed" = 0 ]
