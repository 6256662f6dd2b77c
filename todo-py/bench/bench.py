"""Bindings vs idiomatic pure Python, in one run: filter+sort of 10,000 task dicts and 10,000
next-occurrence computations. Run with the venv of scripts/python.sh after a release build:

    TODO_PY_PROFILE=release scripts/python.sh && ~/.cache/todo/venv-py/bin/python todo-py/bench/bench.py
"""

from __future__ import annotations

import platform
import random
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulestr

import todo_core

N = 10_000
UTC = timezone.utc
PRIORITY_RANK = {"High": 3, "Medium": 2, "Low": 1}
WORDS = ["report", "milk", "bank", "plants", "rent", "invoice", "dentist", "garden", "taxes", "car"]


def best_of(fn: Callable[[], Any], repeat: int) -> Tuple[float, Any]:
    """The best wall time of `repeat` runs in milliseconds (and the last result)."""
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return min(times), result


# --- filter + sort -----------------------------------------------------------------------------


def make_tasks(rng: random.Random) -> List[Dict[str, Any]]:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    tasks = []
    for i in range(1, N + 1):
        words = rng.sample(WORDS, 3)
        tasks.append(
            {
                "id": i,
                "title": f"{words[0].capitalize()} {words[1]} #{i}",
                "description": f"about the {words[2]}" if i % 3 else None,
                "completed": rng.random() < 0.3,
                "due_datetime": base + timedelta(minutes=rng.randrange(0, 500_000)) if rng.random() < 0.8 else None,
                "priority": rng.choice(["High", "Medium", "Low"]),
                "tag_ids": rng.sample(range(1, 8), rng.randrange(0, 3)),
                "created_at": base - timedelta(seconds=rng.randrange(0, 10_000_000)),
            }
        )
    return tasks


PARAMS = {"status": "pending", "priority": "High,Medium", "sort_by": "due_datetime", "sort_order": "asc", "limit": "50"}


def python_filter_sort(tasks: List[Dict[str, Any]]) -> Tuple[List[int], int]:
    """The same query, as a legacy service writes it: a comprehension and sorted()."""
    allowed = {"High", "Medium"}
    hits = [t for t in tasks if not t["completed"] and t["priority"] in allowed]
    with_due = sorted((t for t in hits if t["due_datetime"] is not None), key=lambda t: (t["due_datetime"], t["id"]))
    without = sorted((t for t in hits if t["due_datetime"] is None), key=lambda t: t["id"])
    ordered = with_due + without
    return [t["id"] for t in ordered[:50]], len(hits)


SEARCH_PARAMS = {"search": "report bank", "sort_by": "title", "sort_order": "asc", "limit": "50"}


def python_search_sort(tasks: List[Dict[str, Any]]) -> Tuple[List[int], int]:
    words = ["report", "bank"]
    hits = [t for t in tasks if all(w in f"{t['title']}\n{t['description'] or ''}".casefold() for w in words)]
    ordered = sorted(hits, key=lambda t: (t["title"].casefold(), t["id"]))
    return [t["id"] for t in ordered[:50]], len(hits)


# --- next occurrences --------------------------------------------------------------------------

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"]
KINDS = ["daily", "weekly", "monthly", "rrule"]
RRULE = "FREQ=WEEKLY;BYDAY=MO,WE,FR"
AFTER = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)


def make_series(rng: random.Random) -> List[Tuple[str, str, datetime]]:
    out = []
    for i in range(N):
        local = datetime(2025, rng.randrange(1, 13), rng.randrange(1, 29), rng.randrange(6, 21), rng.choice([0, 15, 30, 45]))
        if i % 16 == 0:
            local = local.replace(day=31, month=1)  # month-end clamping cases
        zone = ZONES[i % len(ZONES)]
        out.append((KINDS[i % len(KINDS)], zone, local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)))
    return out


STEPS = {"daily": relativedelta(days=1), "weekly": relativedelta(weeks=1)}


def python_next_after(kind: str, zone: str, start: datetime, after: datetime) -> Optional[datetime]:
    """Idiomatic dateutil: wall-clock arithmetic in the zone with relativedelta, rrulestr for RRULEs."""
    tz = ZoneInfo(zone)
    local_start = start.astimezone(tz).replace(tzinfo=None)
    local_after = after.astimezone(tz).replace(tzinfo=None)
    if kind == "rrule":
        nxt = rrulestr(RRULE, dtstart=local_start).after(local_after)
        return None if nxt is None else nxt.replace(tzinfo=tz).astimezone(UTC)
    if kind == "monthly":
        months = max(0, (local_after.year - local_start.year) * 12 + local_after.month - local_start.month - 1)
        while True:
            cand = (local_start + relativedelta(months=months)).replace(tzinfo=tz).astimezone(UTC)
            if cand > after:
                return cand
            months += 1
    step = STEPS[kind]
    days = max(0, (local_after - local_start).days - 7)
    cand_local = local_start + relativedelta(days=days - days % (7 if kind == "weekly" else 1))
    while True:
        cand = cand_local.replace(tzinfo=tz).astimezone(UTC)
        if cand > after:
            return cand
        cand_local += step


def main() -> None:
    rng = random.Random(20261128)
    tasks = make_tasks(rng)
    series = make_series(rng)
    print(f"Python {platform.python_version()} ({sys.implementation.name}), todo_core {todo_core.__version__}, N = {N}")

    rows = []

    # filter + sort
    py_ms, py_res = best_of(lambda: python_filter_sort(tasks), 7)
    rs_ms, page = best_of(lambda: todo_core.query_tasks(tasks, PARAMS), 7)
    ts = todo_core.TaskSet(tasks)
    set_ms, set_page = best_of(lambda: ts.query(PARAMS), 7)
    build_ms, _ = best_of(lambda: todo_core.TaskSet(tasks), 3)
    assert ([t["id"] for t in page.items], page.total) == py_res, "the pure-Python query disagrees"
    assert [t["id"] for t in set_page.items] == py_res[0]
    rows.append(("filter+sort, pure Python (comprehension + sorted)", py_ms, 1.0))
    rows.append(("filter+sort, query_tasks(dicts, params) (reads the dicts each call)", rs_ms, py_ms / rs_ms))
    rows.append(("filter+sort, TaskSet.query(params) (dicts read once)", set_ms, py_ms / set_ms))
    rows.append(("  (building the TaskSet: reading 10,000 dicts)", build_ms, float("nan")))

    py_ms, py_res = best_of(lambda: python_search_sort(tasks), 7)
    rs_ms, page = best_of(lambda: todo_core.query_tasks(tasks, SEARCH_PARAMS), 7)
    set_ms, set_page = best_of(lambda: ts.query(SEARCH_PARAMS), 7)
    assert ([t["id"] for t in page.items], page.total) == py_res, "the pure-Python search disagrees"
    rows.append(("search+sort, pure Python (casefold + sorted)", py_ms, 1.0))
    rows.append(("search+sort, query_tasks(dicts, params)", rs_ms, py_ms / rs_ms))
    rows.append(("search+sort, TaskSet.query(params)", set_ms, py_ms / set_ms))

    # next occurrences
    def python_all() -> List[Optional[datetime]]:
        return [python_next_after(k, z, s, AFTER) for k, z, s in series]

    def rust_all() -> List[Optional[datetime]]:
        out = []
        for k, z, s in series:
            if k == "rrule":
                out.append(todo_core.Series(rrule=RRULE, start=s, timezone=z).next_after(AFTER))
            else:
                out.append(todo_core.Series(pattern=k, start=s, timezone=z).next_after(AFTER))
        return out

    built = [
        todo_core.Series(rrule=RRULE, start=s, timezone=z) if k == "rrule" else todo_core.Series(pattern=k, start=s, timezone=z)
        for k, z, s in series
    ]

    def rust_prebuilt() -> List[Optional[datetime]]:
        return [s.next_after(AFTER) for s in built]

    py_ms, py_out = best_of(python_all, 3)
    rs_ms, rs_out = best_of(rust_all, 3)
    pre_ms, pre_out = best_of(rust_prebuilt, 3)
    mismatches = sum(1 for a, b in zip(py_out, rs_out) if a != b)
    assert rs_out == pre_out
    rows.append(("next occurrence, pure Python (zoneinfo + relativedelta/rrulestr)", py_ms, 1.0))
    rows.append(("next occurrence, Series(...).next_after(after) per task", rs_ms, py_ms / rs_ms))
    rows.append(("next occurrence, next_after on 10,000 prebuilt Series", pre_ms, py_ms / pre_ms))

    width = max(len(r[0]) for r in rows)
    print(f"{'what':<{width}}  {'best ms':>9}  {'speed-up':>8}")
    for name, ms, x in rows:
        speed = "" if x != x else f"{x:7.1f}x"
        print(f"{name:<{width}}  {ms:9.2f}  {speed:>8}")
    print(f"next-occurrence results differing between pure Python and the core: {mismatches} of {N}")


if __name__ == "__main__":
    main()
