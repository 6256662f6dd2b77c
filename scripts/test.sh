#!/usr/bin/env bash
# The project's whole test suite: formatting, lints, the purity check of the core, and every test.
# CI runs exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings
echo "== rustdoc -D warnings"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet
echo "== todo-core / todo-events stay free of I/O crates"
scripts/check-core-deps.sh
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
log=$(mktemp -t todo-test.XXXXXX)
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-features 2>&1 | tee "$log"
echo "== schemathesis: the running API against its own OpenAPI document (bounded, fixed seed)"
SCHEMATHESIS_SEED="${SCHEMATHESIS_SEED:-20261128}" scripts/schemathesis.sh
# One closing line for the whole run (cargo's per-binary lines are above).
awk '/^test result:/ {p += $4; f += $6} END {printf "tests: %d passed, %d failed\n", p, f}' "$log"
