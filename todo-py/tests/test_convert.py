"""Datetimes across the boundary: exact to the microsecond, any tzinfo, naive rejected."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from zoneinfo import ZoneInfo

import todo_core
from conftest import at


def test_instants_survive_exactly_across_years_offsets_and_microseconds() -> None:
    rng = random.Random(7)
    for _ in range(2000):
        offset = timezone(timedelta(minutes=rng.randrange(-14 * 60, 14 * 60 + 1)))
        dt = datetime(
            rng.randrange(2, 9999), rng.randrange(1, 13), rng.randrange(1, 29),
            rng.randrange(24), rng.randrange(60), rng.randrange(60), rng.choice([0, 1, 999, 500_000, 999_999, rng.randrange(10**6)]),
            tzinfo=offset,
        )
        text = todo_core.format_datetime(dt)
        assert text.endswith("Z")
        assert at(text) == dt, (dt, text)


def test_zoneinfo_gaps_and_folds_follow_python() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    first = datetime(2026, 10, 25, 2, 30, tzinfo=berlin)  # fold=0: still summer time
    second = first.replace(fold=1)
    assert todo_core.format_datetime(first) == "2026-10-25T00:30:00Z"
    assert todo_core.format_datetime(second) == "2026-10-25T01:30:00Z"


def test_utc_results_and_string_instants() -> None:
    s = todo_core.Series(pattern="daily", start="2026-01-01T09:00:00+01:00")
    assert s.start == datetime(2026, 1, 1, 8, tzinfo=timezone.utc)
    assert s.start.tzinfo is timezone.utc
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.Series(pattern="daily", start="2026-01-01T09:00:00")
    assert (info.value.field, info.value.code) == ("start", "invalid_format")


def test_a_tzinfo_without_offset_counts_as_naive() -> None:
    class Floating(timezone.__base__):  # type: ignore[misc,name-defined]
        def utcoffset(self, dt: object) -> None:
            return None

        def tzname(self, dt: object) -> None:
            return None

        def dst(self, dt: object) -> None:
            return None

    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.format_datetime(datetime(2026, 1, 1, tzinfo=Floating()))
    assert "naive" in info.value.message
