#!/usr/bin/env bash
# The page end to end in headless Chromium against the real server: starts target/debug/todo-server
# (embedded default, fresh SQLite database in a temp dir, a free port), runs web/tests/browser.mjs
# (sign in, create, filter through the WebAssembly module, live updates, screenshots in
# target/browser-test/) and the benchmark web/bench/bench.mjs (the module against hand-written JS
# on 10,000 tasks; fails only if they disagree), then stops the server.
# Needs the page's modules in web/static/pkg/ (committed; scripts/build-wasm.sh rebuilds them).
# Installs Chromium (apt) and playwright-core (npm, web/node_modules) when they are missing.
# Environment: BENCH=0 skips the benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ ! -x /usr/bin/chromium ]; then
  echo "browser-test: installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
stamp=web/node_modules/.package-lock.sha256
want=$(sha256sum web/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

cargo build --quiet -p todo-server
server="$root/target/debug/todo-server"

work=$(mktemp -d -t todo-browser.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export TODO_ADDR="127.0.0.1:$port" DATABASE_URL="sqlite://$work/todo.db" TODO_RATE_LIMIT_PER_MIN=0 TODO_DEV_TOKEN=on
export RUST_LOG="${RUST_LOG:-warn}"
(cd "$work" && exec "$server" >"$work/server.log" 2>&1) &
pid=$!
for _ in $(seq 1 100); do
  curl -fsS "http://$TODO_ADDR/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "http://$TODO_ADDR/healthz" >/dev/null || { echo "browser-test: the server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
token=$(cd "$work" && "$server" token --user alice)

status=0
BASE_URL="http://$TODO_ADDR" TODO_USER=alice TODO_TOKEN="$token" OUT_DIR="$root/target/browser-test" \
  node web/tests/browser.mjs || status=$?
if [ "$status" = 0 ] && [ "${BENCH:-1}" != 0 ]; then
  BASE_URL="http://$TODO_ADDR" node web/bench/bench.mjs || status=$?
fi
if [ "$status" != 0 ]; then
  echo "browser-test: failed; the server's log:" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
