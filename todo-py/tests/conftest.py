"""Shared helpers: the workspace's test vectors (the same files the Rust tests read)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path(__file__).resolve().parents[2] / "test-vectors"


def load(name: str) -> Any:
    with open(VECTORS / name, encoding="utf-8") as f:
        return json.load(f)


def at(text: str) -> datetime:
    """An RFC 3339 instant with `Z` as an aware datetime (fromisoformat takes `Z` only from 3.11)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


@pytest.fixture(scope="session")
def vectors() -> Path:
    return VECTORS
