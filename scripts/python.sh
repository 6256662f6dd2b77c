#!/usr/bin/env bash
# The Python bindings (todo-py): builds the abi3 wheel with maturin, installs it into a cached venv,
# type-checks the stub against a typed usage file (mypy --strict) and runs pytest (the bindings,
# the shared vectors, the FastAPI example). Also installs the wheel into a fresh venv of every
# CPython >= 3.9 it finds, to show the one abi3 wheel works on each.
#
# Environment: TODO_PY_VENV (default ~/.cache/todo/venv-py), TODO_PY_PROFILE (`dev`, the default:
# a debug build, much faster on a cold CI; `release` for the wheel you ship or benchmark),
# CARGO_TARGET_DIR (default: the workspace's target/, so the CI's cargo build is reused).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
venv="${TODO_PY_VENV:-$HOME/.cache/todo/venv-py}"
profile="${TODO_PY_PROFILE:-dev}"
requirements=todo-py/requirements-dev.txt
python="${PYTHON:-python3}"

echo "== todo-py: venv $venv"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
# Install the pinned tools only when the requirements changed since the last install.
stamp="$venv/.todo-requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -r "$requirements"
  echo "$want" >"$stamp"
fi

echo "== todo-py: maturin build ($profile)"
wheels=$(mktemp -d -t todo-py-wheels.XXXXXX)
fresh=$(mktemp -d -t todo-py-fresh.XXXXXX)
trap 'rm -rf "$wheels" "$fresh"' EXIT
build_args=(build --manifest-path todo-py/Cargo.toml --out "$wheels" --interpreter "$venv/bin/python")
if [ "$profile" = release ]; then
  build_args+=(--release)
fi
"$venv/bin/maturin" "${build_args[@]}"
wheel=$(ls "$wheels"/todo_core-*-abi3-*.whl)
"$venv/bin/python" -m pip install --quiet --force-reinstall --no-deps "$wheel"

echo "== todo-py: the wheel in a fresh venv of each CPython >= 3.9 found"
smoke='
import datetime as dt, todo_core as t
assert t.validate_task_create({"title": " x "}, now="2030-01-01T00:00:00Z")["title"] == "x"
s = t.Series(pattern="monthly", start=dt.datetime(2026, 1, 31, 9, tzinfo=dt.timezone.utc))
assert s.next_after(s.start) == dt.datetime(2026, 2, 28, 9, tzinfo=dt.timezone.utc)
assert t.query_tasks([{"id": 1, "title": "a", "created_at": "2026-01-01T00:00:00Z"}], {"search": "A"}).total == 1
try:
    t.validate_tag_create({})
except t.ValidationError as e:
    assert (e.field, e.code) == ("name", "required")
else:
    raise AssertionError("no error")
import sys; print("  ok on", sys.version.split()[0], t.__version__)
'
tried=0
for minor in 9 10 11 12 13 14; do
  # pyenv's installs first: its shims on PATH fail for versions that are not selected.
  interp=$(ls -d "$HOME"/.pyenv/versions/3."$minor".*/bin/python3 2>/dev/null | tail -n 1 || true)
  [ -n "$interp" ] || interp=$(command -v "python3.$minor" || true)
  [ -n "$interp" ] && "$interp" -c 'import venv' >/dev/null 2>&1 || continue
  "$interp" -m venv "$fresh/3.$minor"
  "$fresh/3.$minor/bin/python" -m pip install --quiet --no-index --disable-pip-version-check "$wheel"
  (cd "$fresh" && "$fresh/3.$minor/bin/python" -c "$smoke")
  tried=$((tried + 1))
done
if [ "$tried" -eq 0 ]; then
  echo "no CPython >= 3.9 besides the venv's found" >&2
  exit 1
fi

cd "$root/todo-py"
echo "== todo-py: mypy --strict (the stub against typecheck/usage.py and the example)"
"$venv/bin/mypy" typecheck/usage.py python/todo_core examples/fastapi_legacy/app.py

echo "== todo-py: pytest"
"$venv/bin/python" -m pytest -q -p no:cacheprovider
