#!/usr/bin/env bash
# Fails if todo-core (or todo-events with default features) depends on an I/O crate: they must
# stay pure so that they build for wasm32 and inside Python. Checked for the host and for
# wasm32-unknown-unknown (where chrono, through rrule, brings js-sys/wasm-bindgen for its clock,
# which the core never reads: time comes from the Clock port).
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='^(tokio|tokio-[a-z-]+|mio|sqlx|sqlx-[a-z-]+|axum|hyper|hyper-util|reqwest|rdkafka|rdkafka-sys|dapr|tonic|async-std|socket2|libsqlite3-sys|postgres|tokio-postgres|ureq|curl|native-tls|openssl|rustls|pyo3|web-sys|getrandom)$'
host_only='^(wasm-bindgen|wasm-bindgen-[a-z-]+|js-sys)$'
status=0
for pkg in todo-core todo-events; do
  for target in host wasm32-unknown-unknown; do
    if [ "$target" = host ]; then args=(); pattern="$forbidden|$host_only"; else args=(--target "$target"); pattern="$forbidden"; fi
    deps=$(cargo tree -p "$pkg" -e normal --prefix none --format '{p}' "${args[@]}" | awk '{print $1}' | sort -u)
    bad=$(printf '%s\n' "$deps" | grep -E "$pattern" || true)
    if [ -n "$bad" ]; then
      echo "check-core-deps: $pkg ($target) depends on I/O or host crates:" >&2
      printf '  %s\n' $bad >&2
      status=1
    else
      echo "check-core-deps: $pkg ($target): $(printf '%s\n' "$deps" | wc -l) crates, none of them I/O"
    fi
  done
done
exit $status
