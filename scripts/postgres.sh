#!/usr/bin/env bash
# Makes sure the machine's PostgreSQL answers on 127.0.0.1:5432 (it runs on every machine of this
# kind; this starts the cluster if it is down) and prints the URL tests use.
set -euo pipefail
host=127.0.0.1 port=5432
if ! pg_isready -q -h "$host" -p "$port" 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 || true
  fi
  for _ in $(seq 1 30); do
    pg_isready -q -h "$host" -p "$port" 2>/dev/null && break
    sleep 1
  done
fi
pg_isready -q -h "$host" -p "$port" || { echo "postgres.sh: PostgreSQL does not answer on $host:$port" >&2; exit 1; }
echo "postgres://postgres@$host:$port/postgres"
