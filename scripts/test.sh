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
echo "== cargo test"
cargo test --workspace --all-features
