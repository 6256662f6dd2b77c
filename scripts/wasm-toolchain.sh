#!/usr/bin/env bash
# Installs what a wasm32 build needs on this kind of machine (rustup has no wasm32 std here):
# Debian's rustc-web (1.96) with the std sources, built with -Zbuild-std, linked by wasm-ld-22.
# Skips the install when it is already there. Its build output is cached outside the clone
# (WASM_TARGET_DIR, default ~/.cache/todo/wasm-target) so that a warm CI is fast. Run it with
# arguments to run that cargo with the right environment, e.g.
#   scripts/wasm-toolchain.sh build --release -p todo-core
set -euo pipefail
need=()
[ -x /usr/bin/rustc ] && /usr/bin/rustc --version | grep -q '^rustc 1\.9[6-9]' || need+=(rustc-web cargo-web)
[ -d /usr/lib/rustlib/src/rust/library ] || need+=(rust-web-src)
command -v wasm-ld-22 >/dev/null || need+=(lld-22)
if [ ${#need[@]} -gt 0 ]; then
  echo "wasm-toolchain: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if [ $# -gt 0 ]; then
  cd "$(dirname "$0")/.."
  RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 \
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22 \
  CARGO_TARGET_DIR="${WASM_TARGET_DIR:-$HOME/.cache/todo/wasm-target}" \
    exec /usr/bin/cargo "$@" --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
fi
