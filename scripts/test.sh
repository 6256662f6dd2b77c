#!/usr/bin/env bash
# The project's whole test suite: formatting, lints, the purity check of the core, and every test.
# CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
# The Kafka broker is built once per machine (~13 min cold): start that build now, beside the
# checks below, and wait for it before the tests.
kafka_install_log=$(mktemp -t todo-kafka-install.XXXXXX)
scripts/kafka.sh install >"$kafka_install_log" 2>&1 &
kafka_install_pid=$!
# cargo-deny likewise (~5 min cold); a failed build here is retried, loudly, by the check below.
scripts/supply-chain.sh install >/dev/null 2>&1 &
supply_chain_install_pid=$!
kafka_started=""
cleanup() {
  rm -f "${log:-}" "${pylog:-}" "$kafka_install_log"
  if [ -n "$kafka_started" ]; then scripts/kafka.sh stop || true; fi
}
trap cleanup EXIT
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== rustdoc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
echo "== todo-core / todo-events stay free of I/O crates"
scripts/check-core-deps.sh
echo "== supply chain: cargo deny (licenses, bans, sources; advisories when the database is available)"
wait "$supply_chain_install_pid" || true; scripts/supply-chain.sh
echo "== todo-core / todo-events build for wasm32"
scripts/wasm-toolchain.sh check -p todo-core -p todo-events
echo "== cargo test (PostgreSQL tests use TEST_DATABASE_URL; under CI=true they fail without it)"
if [ -z "${TEST_DATABASE_URL:-}" ]; then
  if url=$(scripts/postgres.sh); then
    export TEST_DATABASE_URL="$url"
  elif [ "${CI:-}" = true ]; then
    echo "PostgreSQL is required under CI" >&2
    exit 1
  else
    echo "warning: no PostgreSQL; its tests will be skipped" >&2
  fi
fi
echo "== Kafka broker (scripts/kafka.sh; Kafka tests use TEST_KAFKA_BROKERS; under CI=true they fail without it)"
if [ -z "${TEST_KAFKA_BROKERS:-}" ]; then
  already=$(scripts/kafka.sh status 2>/dev/null || true)
  if wait "$kafka_install_pid" && brokers=$(scripts/kafka.sh start); then
    export TEST_KAFKA_BROKERS="$brokers"
    # Stop it at the end only if this run started it.
    [ -n "$already" ] || kafka_started=1
    echo "broker at $brokers"
  else
    cat "$kafka_install_log" >&2
    if [ "${CI:-}" = true ]; then
      echo "a Kafka broker is required under CI" >&2
      exit 1
    fi
    echo "warning: no Kafka broker; its tests will be skipped" >&2
  fi
fi
log=$(mktemp -t todo-test.XXXXXX)
cargo test --workspace --all-features 2>&1 | tee "$log"
echo "== todo-wasm: wasm32 build, wasm-bindgen packages, tests under Node with the shared vectors (scripts/build-wasm.sh)"
scripts/build-wasm.sh
echo "== the web page in headless Chromium against the real server, and the module benchmark (scripts/browser-test.sh)"
scripts/browser-test.sh
echo "== schemathesis: the running API against its own OpenAPI document (bounded, fixed seed)"
SCHEMATHESIS_SEED="${SCHEMATHESIS_SEED:-20261128}" scripts/schemathesis.sh
echo "== the Helm chart and Dapr components (scripts/helm-check.sh: lint, strict schemas, checkov, names)"
scripts/helm-check.sh
echo "== the Python bindings (scripts/python.sh: wheel, mypy, pytest)"
pylog=$(mktemp -t todo-py-test.XXXXXX)
scripts/python.sh 2>&1 | tee "$pylog"
# One closing line for the whole run (cargo's per-binary lines and pytest's summary are above).
rust=$(awk '/^test result:/ {p += $4; f += $6} END {printf "%d %d", p, f}' "$log")
py=$(grep -Eo '[0-9]+ passed' "$pylog" | tail -n 1 | cut -d' ' -f1)

echo "tests: ${rust% *} Rust and ${py:-0} Python passed, ${rust#* } failed"
