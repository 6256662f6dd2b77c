"""Recurrence: the shared vectors through `Series`, and the datetime contract."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Optional

import pytest
from zoneinfo import ZoneInfo

import todo_core
from conftest import at, load

FILE = load("recurrence.json")


def series(case: dict[str, Any]) -> todo_core.Series:
    end: Optional[datetime] = at(case["end"]) if case["end"] is not None else None
    return todo_core.Series(
        pattern=case.get("recurrence_pattern"),
        rrule=case.get("rrule"),
        timezone=case["timezone"],
        start=at(case["start"]),
        end=end,
    )


def test_the_vector_file_is_complete() -> None:
    assert len(FILE["cases"]) >= 150
    assert any("error" in c for c in FILE["cases"])


@pytest.mark.parametrize("case", FILE["cases"], ids=[c["name"] for c in FILE["cases"]])
def test_vector(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(todo_core.ValidationError) as info:
            series(case)
        assert info.value.field == case["error"]
        return
    got = series(case).upcoming(at(case["after"]), case["n"])
    assert got == [at(t) for t in case["expected"]]
    assert all(t.tzinfo is timezone.utc for t in got)


def test_monthly_on_the_31st_in_berlin() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 1, 31, 9, 0, tzinfo=berlin)
    s = todo_core.Series(pattern="monthly", start=start, timezone=berlin)
    got = [t.astimezone(berlin) for t in s.upcoming(start, 3)]
    assert [(t.month, t.day, t.hour) for t in got] == [(2, 28, 9), (3, 31, 9), (4, 30, 9)]
    assert s.next_after(start) == got[0]
    assert s.timezone == "Europe/Berlin" and s.pattern == "monthly" and s.rrule is None
    assert s.start == start and s.end is None
    assert "monthly" in repr(s)


def test_rrule_and_end_are_inclusive() -> None:
    start = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)
    end = datetime(2026, 1, 19, 9, tzinfo=timezone.utc)
    s = todo_core.Series(rrule="FREQ=WEEKLY;BYDAY=MO", start=start, end=end)
    assert s.upcoming(start, 10) == [start + timedelta(days=7), end]
    assert s.next_after(end) is None
    assert s.rrule == "FREQ=WEEKLY;BYDAY=MO" and s.pattern == "none"


def test_next_after_each_matches_next_after() -> None:
    s = todo_core.Series(pattern="daily", start=datetime(2026, 3, 1, 1, 30, tzinfo=timezone.utc), timezone="America/New_York")
    afters = [datetime(2026, 3, d, 12, tzinfo=timezone.utc) for d in range(1, 20)]
    assert s.next_after_each(afters) == [s.next_after(a) for a in afters]


def test_next_occurrences_shortcut() -> None:
    start = datetime(2026, 1, 1, 8, tzinfo=timezone.utc)
    got = todo_core.next_occurrences(pattern="weekly", start=start, after=start, n=2)
    assert got == [start + timedelta(days=7), start + timedelta(days=14)]
    with pytest.raises(ValueError):
        todo_core.next_occurrences(pattern="weekly", start=start, after=start, n=1001)


def test_naive_datetimes_are_rejected_with_the_argument_name() -> None:
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.Series(pattern="daily", start=datetime(2026, 1, 1))
    assert (info.value.field, info.value.code) == ("start", "invalid_format")
    assert "naive" in info.value.message
    s = todo_core.Series(pattern="daily", start=datetime(2026, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(todo_core.ValidationError) as info:
        s.next_after(datetime(2026, 1, 1))
    assert info.value.field == "after"


def test_bad_arguments() -> None:
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(TypeError):
        todo_core.Series(pattern="daily", rrule="FREQ=DAILY", start=start)
    with pytest.raises(TypeError):
        todo_core.Series(start=start)
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.Series(pattern="hourly", start=start)
    assert info.value.field == "recurrence_pattern"
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.Series(pattern="daily", start=start, timezone="Mars/Olympus")
    assert info.value.field == "timezone"
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.Series(rrule="FREQ=MINUTELY", start=start)
    assert info.value.field == "rrule"
    with pytest.raises(TypeError):
        todo_core.Series(pattern="daily", start=start, timezone=5)  # type: ignore[arg-type]


def task(**overrides: Any) -> dict[str, Any]:
    t: dict[str, Any] = {
        "id": 7,
        "user_id": "alice",
        "title": "Pay rent",
        "due_datetime": datetime(2026, 1, 31, 17, tzinfo=timezone.utc),
        "recurrence_pattern": "monthly",
        "timezone": "Europe/Berlin",
        "created_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
        "updated_at": datetime(2026, 1, 1, tzinfo=timezone.utc),
    }
    t.update(overrides)
    return t


def test_next_due_of_a_recurring_task() -> None:
    assert todo_core.next_due(task()) == datetime(2026, 2, 28, 17, tzinfo=timezone.utc)
    # A later instance keeps the series' day of month (series_start).
    later = task(due_datetime=datetime(2026, 2, 28, 17, tzinfo=timezone.utc), series_start=datetime(2026, 1, 31, 17, tzinfo=timezone.utc))
    assert todo_core.next_due(later) == datetime(2026, 3, 31, 16, tzinfo=timezone.utc)
    assert todo_core.next_due(task(recurrence_pattern="none")) is None
    ended = task(recurrence_end_date=datetime(2026, 2, 1, tzinfo=timezone.utc))
    assert todo_core.next_due(ended) is None


def test_next_due_reads_objects_and_rejects_bad_tasks() -> None:
    class Row:
        def __init__(self, **kw: Any) -> None:
            self.__dict__.update(kw)
            self.extra_column = "ignored"

    assert todo_core.next_due(Row(**task())) == datetime(2026, 2, 28, 17, tzinfo=timezone.utc)
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.next_due(task(due_datetime=None))
    assert info.value.field.startswith("task")
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.next_due(task(due_datetime=datetime(2026, 1, 31, 17)))
    assert info.value.field == "due_datetime"
