#!/usr/bin/env bash
# Load benchmark of todo-server (BENCHMARKS.md, "todo-server under load").
#
# Builds the release binaries, then for SQLite (a fresh temp dir) and PostgreSQL (a fresh database
# on 127.0.0.1:5432, user postgres, trust auth) starts the server on a free loopback port and drives
# it with todo-load: create, and list/search of one user with 1,000 tasks, at 16 and 64 connections.
# On PostgreSQL it measures the database's own ceiling with pgbench running the same statements
# (the create transaction of storage/shared.rs, the list query) at the same client counts.
# Prints a table, each figure with its ratio to the pgbench ceiling, and the server's RSS.
#
# Environment: BENCH_SECONDS (per run, default 12), BENCH_CONNECTIONS (default "16 64"),
# BENCH_BACKENDS (default "sqlite postgres"), PGHOST/PGPORT/PGUSER (default 127.0.0.1/5432/postgres),
# BENCH_KEEP_DB (set: keep the PostgreSQL database todo_bench_load afterwards, to look at plans).
# The rate limit is switched off for the run (TODO_RATE_LIMIT_PER_MIN=0); the per-user quotas stay at
# their defaults (the runs stay far below them), so a create pays for its quota count as in production.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${BENCH_SECONDS:-12}
CONNECTIONS=${BENCH_CONNECTIONS:-"16 64"}
BACKENDS=${BENCH_BACKENDS:-"sqlite postgres"}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432} PGUSER=${PGUSER:-postgres}
PGDB=todo_bench_load
SEED=1000

for tool in jq awk; do
    command -v "$tool" >/dev/null || { echo "bench-server: $tool is required" >&2; exit 1; }
done
if [[ " $BACKENDS " == *" postgres "* ]]; then
    for tool in psql pgbench; do
        command -v "$tool" >/dev/null || {
            echo "bench-server: $tool is missing (apt-get install -y postgresql-client)" >&2
            exit 1
        }
    done
fi

echo "== building release binaries" >&2
cargo build --release -q -p todo-server -p todo-load
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
SERVER="$TARGET_DIR/release/todo-server"
LOAD="$TARGET_DIR/release/todo-load"

WORK=$(mktemp -d -t todo-bench.XXXXXX)
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

TODO_JWT_SECRET="bench-$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
export TODO_JWT_SECRET TODO_RATE_LIMIT_PER_MIN=0 RUST_LOG=warn

RESULTS="$WORK/results.tsv" # backend  what  connections  per_s  p50  p95  p99  errors
: >"$RESULTS"
RSS_LINES=()

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# start_server DATABASE_URL: starts the server on a free port (TODO_ADDR port 0, read from its
# banner) and sets SERVER_PID and URL.
start_server() {
    local log="$WORK/server-$RANDOM"
    TODO_ADDR=127.0.0.1:0 DATABASE_URL="$1" "$SERVER" >"$log.out" 2>"$log.err" &
    SERVER_PID=$!
    URL=""
    for _ in $(seq 1 150); do
        URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$log.out" 2>/dev/null | head -n1 || true)
        [[ -n "$URL" ]] && break
        kill -0 "$SERVER_PID" 2>/dev/null || break
        sleep 0.2
    done
    if [[ -z "$URL" ]]; then
        echo "bench-server: the server did not start:" >&2
        cat "$log.err" >&2
        exit 1
    fi
    sleep 1 # let it settle before the idle RSS
}

stop_server() {
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
}

# load BACKEND OP CONNECTIONS USERS PREFIX SEED: one todo-load run, a line in $RESULTS.
load() {
    local backend=$1 op=$2 conns=$3 users=$4 prefix=$5 seed=$6
    local out="$WORK/load-$backend-$op-$conns.json"
    echo "== $backend: $op, $conns connections" >&2
    "$LOAD" --url "$URL" --secret "$TODO_JWT_SECRET" --op "$op" --connections "$conns" \
        --users "$users" --user-prefix "$prefix" --seed-tasks "$seed" \
        --duration "$SECONDS_PER_RUN" --json >"$out"
    jq -r --arg b "$backend" --arg w "$op" --arg c "$conns" \
        '.ops[$w] | [$b, $w, $c, .per_s, .p50_ms, .p95_ms, .p99_ms, .errors] | @tsv' \
        "$out" >>"$RESULTS"
}

# server_runs BACKEND: the todo-load runs against the running server.
server_runs() {
    local backend=$1 seeded=0
    local idle
    idle=$(rss_kb "$SERVER_PID")
    for c in $CONNECTIONS; do
        load "$backend" create "$c" 100 create 0
    done
    for c in $CONNECTIONS; do
        # One user with $SEED tasks, seeded by the first run.
        if [[ $seeded == 0 ]]; then
            load "$backend" list "$c" 1 list "$SEED"
            seeded=1
        else
            load "$backend" list "$c" 1 list 0
        fi
        load "$backend" search "$c" 1 list 0
    done
    RSS_LINES+=("$backend|$idle|$(rss_kb "$SERVER_PID")")
}

# pgbench_run WHAT CONNECTIONS SCRIPT [-D ...]: one pgbench run, a line in $RESULTS.
pgbench_run() {
    local what=$1 conns=$2 script=$3
    shift 3
    local prefix="$WORK/pgb-$what-$conns"
    # As the server does: statements prepared, but a list query with search words planned for
    # its parameters each time (storage/postgres.rs, LIST_PREPARED).
    local mode=prepared
    [[ "$what" != search ]] || mode=extended
    echo "== pgbench: $what, $conns clients" >&2
    (cd "$WORK" && pgbench -n -M "$mode" -c "$conns" -j 2 -T "$SECONDS_PER_RUN" \
        -f "$script" -l --log-prefix="$prefix" "$@" "$PGDB" >"$prefix.out" 2>&1) || {
        cat "$prefix.out" >&2
        exit 1
    }
    local tps
    tps=$(awk '/^tps = / {print $3; exit}' "$prefix.out")
    # Per-transaction latencies (µs, third field) from the logs -> p50/p95/p99 in ms.
    cat "$prefix".* 2>/dev/null | awk '{print $3}' | sort -n | awk -v b=pgbench -v w="$what" \
        -v c="$conns" -v tps="$tps" -v out="$prefix.out" '
        { v[NR] = $1 }
        function pct(p,  r) { r = int(p * NR); if (r < p * NR) r++; if (r < 1) r = 1; return v[r] / 1000 }
        END {
            failed = 0
            while ((getline line < out) > 0) if (line ~ /^number of failed transactions/) { split(line, a, ": "); failed = a[2] + 0 }
            printf "%s\t%s\t%s\t%.1f\t%.3f\t%.3f\t%.3f\t%d\n", b, w, c, tps, pct(0.5), pct(0.95), pct(0.99), failed
        }' >>"$RESULTS"
    rm -f "$prefix".[0-9]*
}

sql_quote() { printf "%s" "$1" | sed "s/'/''/g"; }

# ---------------------------------------------------------------- SQLite
if [[ " $BACKENDS " == *" sqlite "* ]]; then
    mkdir -p "$WORK/sqlite"
    start_server "sqlite://$WORK/sqlite/todo.db"
    server_runs sqlite
    stop_server
fi

# ---------------------------------------------------------------- PostgreSQL
if [[ " $BACKENDS " == *" postgres "* ]]; then
    psql -q -v ON_ERROR_STOP=1 -d postgres -c "DROP DATABASE IF EXISTS $PGDB" -c "CREATE DATABASE $PGDB"
    start_server "postgres://$PGUSER@$PGHOST:$PGPORT/$PGDB"
    server_runs postgres
    stop_server

    # The create transaction, with the values a real create wrote (from the rows the server left).
    row() { psql -d "$PGDB" -AtX -c "$1"; }
    TITLE=$(row "SELECT title FROM tasks WHERE user_id LIKE 'create%' ORDER BY id DESC LIMIT 1")
    DESCR=$(row "SELECT description FROM tasks WHERE user_id LIKE 'create%' ORDER BY id DESC LIMIT 1")
    SEARCH=$(row "SELECT search_text FROM tasks WHERE user_id LIKE 'create%' ORDER BY id DESC LIMIT 1")
    TKEY=$(row "SELECT title_key FROM tasks WHERE user_id LIKE 'create%' ORDER BY id DESC LIMIT 1")
    ACTION=$(row "SELECT action FROM activity_logs WHERE user_id LIKE 'create%' ORDER BY id DESC LIMIT 1")
    NEWV=$(row "SELECT new_values::text FROM activity_logs WHERE user_id LIKE 'create%' ORDER BY id DESC LIMIT 1")
    ETYPE=$(row "SELECT event_type FROM outbox WHERE user_id LIKE 'create%' ORDER BY seq DESC LIMIT 1")
    PAYLOAD=$(row "SELECT payload::text FROM outbox WHERE user_id LIKE 'create%' ORDER BY seq DESC LIMIT 1")
    # Same statements as storage/shared.rs (insert_task, insert_activity, write_events) in one
    # transaction; the JSON values are parameters, as sqlx binds them.
    cat >"$WORK/create.sql" <<EOF
BEGIN;
INSERT INTO tasks (user_id, title, description, completed, completed_at, due_datetime, priority, priority_rank, recurrence_pattern, rrule, recurrence_end_date, series_start, timezone, parent_task_id, next_task_id, created_at, updated_at, search_text, title_key) VALUES (:uid, :title, :descr, false, NULL, NULL, 'Medium', 2, 'none', NULL, NULL, NULL, 'UTC', NULL, NULL, now(), now(), :search, :tkey) ON CONFLICT (parent_task_id) WHERE parent_task_id IS NOT NULL DO NOTHING RETURNING id \gset
INSERT INTO activity_logs (user_id, task_id, action, old_values, new_values, created_at) VALUES (:uid, :id, '$(sql_quote "$ACTION")', NULL, :newv, now()) RETURNING id;
INSERT INTO outbox (event_id, user_id, event_type, payload, created_at) VALUES (gen_random_uuid(), :uid, '$(sql_quote "$ETYPE")', :payload, now());
COMMIT;
EOF
    COLS="t.id, t.user_id, t.title, t.description, t.completed, t.completed_at, t.due_datetime, t.priority, t.recurrence_pattern, t.rrule, t.recurrence_end_date, t.series_start, t.timezone, t.parent_task_id, t.next_task_id, t.created_at, t.updated_at, (SELECT string_agg(tt.tag_id::text, ',') FROM task_tags tt WHERE tt.task_id = t.id) AS tag_ids"
    ORDER="ORDER BY t.created_at DESC, t.id DESC"
    # The list query of storage/shared.rs (list_tasks) with the default query: created_at desc, 50:
    # the page's ids by a subquery, the total by an uncorrelated subquery.
    list_sql() { # $1: the WHERE clause
        echo "SELECT $COLS, (SELECT COUNT(*) FROM tasks t WHERE $1) AS total_count FROM tasks t WHERE t.id IN (SELECT t.id FROM tasks t WHERE $1 $ORDER LIMIT 50 OFFSET 0) $ORDER;"
    }
    list_sql "t.user_id = :uid" >"$WORK/list.sql"
    list_sql "t.user_id = :uid AND t.search_text LIKE :pat ESCAPE '\\'" >"$WORK/search.sql"
    psql -q -d "$PGDB" -c "VACUUM ANALYZE"
    for c in $CONNECTIONS; do
        pgbench_run create "$c" "$WORK/create.sql" -D uid=pgbench -D "title=$TITLE" -D "descr=$DESCR" \
            -D "search=$SEARCH" -D "tkey=$TKEY" -D "newv=$NEWV" -D "payload=$PAYLOAD"
    done
    # Fresh statistics after the rows pgbench's create runs added (as autovacuum would, sooner
    # or later, during the list runs).
    psql -q -d "$PGDB" -c "ANALYZE"
    for c in $CONNECTIONS; do
        pgbench_run list "$c" "$WORK/list.sql" -D uid=list0
        pgbench_run search "$c" "$WORK/search.sql" -D uid=list0 -D "pat=%report%"
    done
    [[ -n "${BENCH_KEEP_DB:-}" ]] || psql -q -d postgres -c "DROP DATABASE IF EXISTS $PGDB"
fi

# ---------------------------------------------------------------- report
echo
echo "todo-server under load ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), ${SECONDS_PER_RUN} s per run)"
echo
echo "| backend | operation | connections | req/s | p50 ms | p95 ms | p99 ms | errors | pgbench tx/s | ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|"
while IFS=$'\t' read -r b w c per p50 p95 p99 err; do
    [[ "$b" == pgbench ]] && continue
    ceil="" ratio=""
    if [[ "$b" == postgres ]]; then
        ceil=$(awk -F'\t' -v w="$w" -v c="$c" '$1 == "pgbench" && $2 == w && $3 == c {print $4}' "$RESULTS")
        [[ -n "$ceil" ]] && ratio=$(awk -v a="$per" -v b="$ceil" 'BEGIN { if (b > 0) printf "%.0f %%", 100 * a / b }')
    fi
    printf "| %s | %s | %s | %.0f | %.2f | %.2f | %.2f | %s | %s | %s |\n" \
        "$b" "$w" "$c" "$per" "$p50" "$p95" "$p99" "$err" "${ceil:-—}" "${ratio:-—}"
done <"$RESULTS"
if grep -q '^pgbench' "$RESULTS"; then
    echo
    echo "| pgbench script | clients | tx/s | p50 ms | p95 ms | p99 ms | failed |"
    echo "|---|---|---|---|---|---|---|"
    awk -F'\t' '$1 == "pgbench" { printf "| %s | %s | %.0f | %.2f | %.2f | %.2f | %s |\n", $2, $3, $4, $5, $6, $7, $8 }' "$RESULTS"
fi
echo
echo "| backend | server RSS idle after start | RSS after the load |"
echo "|---|---|---|"
for line in "${RSS_LINES[@]}"; do
    IFS='|' read -r b idle after <<<"$line"
    awk -v b="$b" -v i="$idle" -v a="$after" 'BEGIN { printf "| %s | %.1f MB | %.1f MB |\n", b, i / 1024, a / 1024 }'
done
