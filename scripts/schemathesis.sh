#!/usr/bin/env bash
# Property-based API testing of todo-server against its own OpenAPI document (/openapi.json)
# with Schemathesis. scripts/test.sh runs it (pip needs the network once; the venv is cached).
#
# - A venv under $HOME/.cache/todo/venv with schemathesis (created once, reused).
# - Builds and starts todo-server on a free loopback port with a fresh SQLite database in a temp
#   dir (rate limit off), mints a token for user `fuzz` with `todo-server token --user fuzz`.
# - Runs every operation, authenticated, with `{user_id}` fixed to `fuzz` (another user would
#   only ever get 403), at most SCHEMATHESIS_MAX_EXAMPLES (default 50) cases per operation and
#   phase, checking: no 5xx, status codes, content types and response bodies as documented.
# - Exits non-zero on any failure; the server log and the reports stay in the printed directory
#   when it fails.
#
# Environment: SCHEMATHESIS_MAX_EXAMPLES (default 50), SCHEMATHESIS_SEED (optional, for a
# reproducible run), SCHEMATHESIS_ARGS (more arguments for `schemathesis run`).
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-50}
VENV="$HOME/.cache/todo/venv"
ST="$VENV/bin/schemathesis"

if [[ ! -x "$ST" ]]; then
    echo "== creating $VENV with schemathesis" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
    "$VENV/bin/pip" install -q "schemathesis==4.32.5"
fi
echo "== $("$ST" --version)" >&2

echo "== building todo-server" >&2
cargo build -q -p todo-server
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
SERVER="$TARGET_DIR/debug/todo-server"

WORK=$(mktemp -d -t todo-schemathesis.XXXXXX)
SERVER_PID=""
OK=0
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ "$OK" == 1 ]]; then
        rm -rf "$WORK"
    else
        echo "== kept $WORK (server.log, reports)" >&2
    fi
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
BASE="http://127.0.0.1:$PORT"
export TODO_ADDR="127.0.0.1:$PORT" DATABASE_URL="sqlite://$WORK/todo.db" TODO_RATE_LIMIT_PER_MIN=0
export TODO_JWT_SECRET="schemathesis-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
export RUST_LOG=${RUST_LOG:-warn}

"$SERVER" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited:" >&2; cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.1
done
TOKEN=$("$SERVER" token --user fuzz)

cat >"$WORK/schemathesis.toml" <<'EOF'
[parameters]
"path.user_id" = "fuzz"
EOF

echo "== schemathesis against $BASE/openapi.json (max $MAX_EXAMPLES examples per operation)" >&2
SEED_ARGS=()
[[ -n "${SCHEMATHESIS_SEED:-}" ]] && SEED_ARGS=(--seed "$SCHEMATHESIS_SEED")
START=$(date +%s)
set +e
# shellcheck disable=SC2086
"$ST" --config-file "$WORK/schemathesis.toml" run "$BASE/openapi.json" \
    --url "$BASE" \
    -H "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "$MAX_EXAMPLES" \
    --generation-database none \
    --report junit --report-dir "$WORK/report" \
    --no-color \
    "${SEED_ARGS[@]}" ${SCHEMATHESIS_ARGS:-}
STATUS=$?
set -e
echo "== schemathesis finished in $(($(date +%s) - START)) s with exit code $STATUS" >&2
if grep -q '"level":"ERROR"' "$WORK/server.log"; then
    echo "== server errors logged:" >&2
    grep '"level":"ERROR"' "$WORK/server.log" | head -20 >&2
fi
[[ "$STATUS" == 0 ]] && OK=1
exit "$STATUS"
