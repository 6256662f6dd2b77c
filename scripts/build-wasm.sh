#!/usr/bin/env bash
# Builds the todo-wasm packages and the page's copy of the modules, and runs the module's tests
# under Node (details in docs/wasm.md):
#   target/todo-wasm/web/     --target web: todo_wasm (full) and todo_wasm_query (list query only);
#                             ES modules with a package.json for npm and bundlers
#   target/todo-wasm/nodejs/  --target nodejs: todo_wasm (CommonJS)
#   web/static/pkg/           the web modules, served by todo-server at /app/pkg/ (committed: the
#                             server embeds them, and its build must not need this toolchain)
# Installs what it needs once: Debian's wasm32 toolchain (scripts/wasm-toolchain.sh),
# wasm-bindgen-cli at the Cargo.lock version (~/.cache/todo/wasm-bindgen), binaryen from npm
# (web/node_modules; Debian's wasm-opt produces modules that fail to load).
# Environment: BUILD_WASM_TESTS=0 skips the tests, WASM_OPT=0 skips binaryen.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
cache="$HOME/.cache/todo"

scripts/wasm-toolchain.sh

# wasm-bindgen-cli must be exactly the version of the wasm-bindgen crate in Cargo.lock.
ver=$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/^version = "|"$/, ""); print; exit }' Cargo.lock)
bin="$cache/wasm-bindgen/bin"
if ! "$bin/wasm-bindgen" --version 2>/dev/null | grep -qx "wasm-bindgen $ver"; then
  echo "build-wasm: installing wasm-bindgen-cli $ver (~5 min, once)"
  # Not --locked: its lockfile pins a crate this registry index lacks (see shared/setup).
  cargo install --quiet --force wasm-bindgen-cli --version "$ver" --root "$cache/wasm-bindgen"
fi
export PATH="$bin:$PATH"

# npm tools (binaryen, playwright-core), reinstalled only when the lockfile changed.
stamp=web/node_modules/.package-lock.sha256
want=$(sha256sum web/package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
fi

wasm_target="${WASM_TARGET_DIR:-$cache/wasm-target}"
version=$(awk -F'"' '/^\[workspace.package\]/ { p = 1 } p && /^version/ { print $2; exit }' Cargo.toml)
out=target/todo-wasm
mkdir -p "$out/web" "$out/nodejs"
# Two modules: todo_wasm (everything) and todo_wasm_query (the list query only: no time zone
# database, no RRULE parser), which a page loads first.
for variant in todo_wasm todo_wasm_query; do
  echo "== build $variant (release, wasm32)"
  # Each variant in its own profile (own output directory), so that a warm run rebuilds neither.
  args=(--release)
  dir=release
  if [ "$variant" = todo_wasm_query ]; then
    args=(--config 'profile.wasm-query.inherits="release"' --profile wasm-query --no-default-features)
    dir=wasm-query
  fi
  # Size and speed: LTO, one codegen unit, abort on panic (the module never unwinds into JS).
  for p in RELEASE WASM_QUERY; do
    export "CARGO_PROFILE_${p}_LTO=true" "CARGO_PROFILE_${p}_CODEGEN_UNITS=1" \
      "CARGO_PROFILE_${p}_PANIC=abort" "CARGO_PROFILE_${p}_OPT_LEVEL=${WASM_OPT_LEVEL:-3}"
  done
  scripts/wasm-toolchain.sh build --quiet -p todo-wasm --lib "${args[@]}"
  wasm="$wasm_target/wasm32-unknown-unknown/$dir/todo_wasm.wasm"
  targets=(web nodejs)
  [ "$variant" = todo_wasm ] || targets=(web)
  # wasm-bindgen and binaryen (slow on the large module) only when the module changed.
  key="$(sha256sum "$wasm" | cut -d' ' -f1) $ver opt=${WASM_OPT:-1}"
  for t in "${targets[@]}"; do
    stamp_file="$out/$t/.$variant.stamp"
    if [ "$(cat "$stamp_file" 2>/dev/null)" = "$key" ] && [ -f "$out/$t/${variant}_bg.wasm" ]; then
      continue
    fi
    wasm-bindgen "$wasm" --target "$t" --out-dir "$out/$t" --out-name "$variant"
    if [ "${WASM_OPT:-1}" != 0 ]; then
      web/node_modules/.bin/wasm-opt -O3 --enable-reference-types --enable-bulk-memory \
        --enable-nontrapping-float-to-int --enable-sign-ext --enable-multivalue \
        --enable-mutable-globals "$out/$t/${variant}_bg.wasm" -o "$out/$t/${variant}_bg.wasm.opt"
      mv "$out/$t/${variant}_bg.wasm.opt" "$out/$t/${variant}_bg.wasm"
    fi
    echo "$key" >"$stamp_file"
  done
done

# package.json: the web package can be published to npm and used by a bundler as is.
cat >"$out/web/package.json" <<JSON
{
  "name": "todo-wasm",
  "version": "$version",
  "description": "The todo core in WebAssembly: list query, validation and recurrence in the browser.",
  "license": "MIT OR Apache-2.0",
  "type": "module",
  "main": "todo_wasm.js",
  "module": "todo_wasm.js",
  "types": "todo_wasm.d.ts",
  "files": ["todo_wasm.js", "todo_wasm.d.ts", "todo_wasm_bg.wasm", "todo_wasm_bg.wasm.d.ts",
            "todo_wasm_query.js", "todo_wasm_query.d.ts", "todo_wasm_query_bg.wasm", "todo_wasm_query_bg.wasm.d.ts"],
  "exports": {
    ".": { "types": "./todo_wasm.d.ts", "default": "./todo_wasm.js" },
    "./query": { "types": "./todo_wasm_query.d.ts", "default": "./todo_wasm_query.js" },
    "./todo_wasm_bg.wasm": "./todo_wasm_bg.wasm",
    "./todo_wasm_query_bg.wasm": "./todo_wasm_query_bg.wasm"
  },
  "sideEffects": ["./snippets/*"]
}
JSON
cat >"$out/nodejs/package.json" <<JSON
{
  "name": "todo-wasm-node",
  "version": "$version",
  "description": "The todo core in WebAssembly for Node.js (CommonJS).",
  "license": "MIT OR Apache-2.0",
  "main": "todo_wasm.js",
  "types": "todo_wasm.d.ts",
  "files": ["todo_wasm.js", "todo_wasm.d.ts", "todo_wasm_bg.wasm", "todo_wasm_bg.wasm.d.ts"],
  "exports": { ".": { "types": "./todo_wasm.d.ts", "default": "./todo_wasm.js" } }
}
JSON

mkdir -p web/static/pkg
for v in todo_wasm todo_wasm_query; do
  for f in "$v.js" "${v}_bg.wasm" "$v.d.ts"; do
    cmp -s "$out/web/$f" "web/static/pkg/$f" || cp "$out/web/$f" "web/static/pkg/$f"
  done
  size=$(wc -c <"$out/web/${v}_bg.wasm")
  gz=$(gzip -9 -c "$out/web/${v}_bg.wasm" | wc -c)
  echo "build-wasm: $v ${size} bytes, ${gz} gzipped"
done
# The query module is what the page needs to list and filter: it must stay small.
[ "$gz" -le 153600 ] || { echo "build-wasm: todo_wasm_query exceeds 150 KB gzipped" >&2; exit 1; }

echo "== node: the nodejs package loads and queries"
node -e '
const w = require(process.argv[1]);
const set = new w.TaskSet([{ id: 1, title: "Pay rent", created_at: "2026-01-01T00:00:00Z" }]);
const p = set.query("search=RENT");
if (p.total !== 1 || p.items[0].id !== 1) throw new Error("unexpected page " + JSON.stringify(p));
try { set.query({ limit: 0 }); throw new Error("no error"); }
catch (e) { if (!(e instanceof Error) || e.field !== "limit") throw e; }
' "$root/$out/nodejs/todo_wasm.js"

if [ "${BUILD_WASM_TESTS:-1}" != 0 ]; then
  echo "== wasm-bindgen-test under node (incl. the shared test vectors)"
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
    scripts/wasm-toolchain.sh test -p todo-wasm 2>&1 | grep -v "^ *\(Compiling\|Running\|Doc-tests\)" | grep -v "^$"
fi
