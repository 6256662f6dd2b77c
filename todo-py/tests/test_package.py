"""The package: metadata, docs, stub and exports."""

from __future__ import annotations

import pydoc
import re
from importlib import metadata
from pathlib import Path

import todo_core

ROOT = Path(__file__).resolve().parents[2]


def workspace_version() -> str:
    text = (ROOT / "Cargo.toml").read_text(encoding="utf-8")
    m = re.search(r'\[workspace\.package\][^\[]*?version = "([^"]+)"', text, re.S)
    assert m
    return m.group(1)


def test_version_comes_from_the_workspace() -> None:
    assert todo_core.__version__ == workspace_version()
    assert metadata.version("todo-core") == workspace_version()


def test_package_metadata() -> None:
    meta = metadata.metadata("todo-core")
    assert meta["Requires-Python"] == ">=3.9"
    assert "MIT" in (meta.get("License-Expression") or meta.get("License") or "")
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.9" in classifiers


def test_typed_package_ships_its_stub() -> None:
    pkg = Path(todo_core.__file__).parent
    assert (pkg / "py.typed").exists()
    assert (pkg / "_todo_core.pyi").exists()


def test_every_export_is_documented() -> None:
    for name in todo_core.__all__:
        obj = getattr(todo_core, name)
        if name != "__version__":
            assert obj.__doc__ and obj.__doc__.strip(), name
    text = pydoc.render_doc(todo_core, renderer=pydoc.plaintext)
    for word in ("validate_task_create", "query_tasks", "Series", "build_event", "ValidationError"):
        assert word in text


def test_stub_lists_every_native_name() -> None:
    stub = (Path(todo_core.__file__).parent / "_todo_core.pyi").read_text(encoding="utf-8")
    from todo_core import _todo_core

    for name in dir(_todo_core):
        if not name.startswith("_"):
            assert re.search(rf"^(def|class) {name}\b", stub, re.M), name
