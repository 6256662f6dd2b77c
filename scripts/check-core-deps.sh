#!/usr/bin/env bash
# Fails if todo-core (or todo-events with default features) depends on an I/O crate: they must
# stay pure so that they build for wasm32 and inside Python.
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='^(tokio|tokio-[a-z-]+|mio|sqlx|sqlx-[a-z-]+|axum|hyper|hyper-util|reqwest|rdkafka|rdkafka-sys|dapr|tonic|async-std|socket2|libsqlite3-sys|postgres|tokio-postgres|ureq|curl|native-tls|openssl|rustls|pyo3|wasm-bindgen|js-sys|web-sys)$'
status=0
for pkg in todo-core todo-events; do
  deps=$(cargo tree -p "$pkg" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u)
  bad=$(printf '%s\n' "$deps" | grep -E "$forbidden" || true)
  if [ -n "$bad" ]; then
    echo "check-core-deps: $pkg depends on I/O or host crates:" >&2
    printf '  %s\n' $bad >&2
    status=1
  else
    echo "check-core-deps: $pkg: $(printf '%s\n' "$deps" | wc -l) crates, none of them I/O"
  fi
done
exit $status
