"""A typed use of every binding: `mypy --strict` checks it against the stub (scripts/python.sh)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

import todo_core
from todo_core import Page, Query, Series, TaskSet, ValidationError


def validation() -> Dict[str, Any]:
    now = datetime(2030, 1, 1, tzinfo=timezone.utc)
    draft: Dict[str, Any] = todo_core.validate_task_create({"title": "Pay rent"}, now=now)
    todo_core.validate("tag_create", {"name": "work"})
    todo_core.validate_task_update({"title": "x"})
    todo_core.validate_tag_create({"name": "x"})
    todo_core.validate_tag_update({"color": "#000000"})
    todo_core.validate_reminder({"reminder_time": "2030-01-02T00:00:00Z"}, now="2030-01-01T00:00:00Z")
    try:
        todo_core.validate_task_create({})
    except ValidationError as e:
        field: str = e.field
        code: str = e.code
        status: int = e.status
        body: Dict[str, Any] = e.to_dict()
        details: List[Dict[str, str]] = e.details
        print(field, code, status, body, details)
    return draft


def recurrence() -> List[datetime]:
    start = datetime(2026, 1, 31, 9, tzinfo=timezone.utc)
    s = Series(pattern="monthly", start=start, timezone="Europe/Berlin")
    r = Series(rrule="FREQ=WEEKLY;BYDAY=MO", start=start, end=None)
    nxt: Optional[datetime] = s.next_after(start)
    many: List[datetime] = s.upcoming(start, 3) + r.upcoming(start, 2)
    each: List[Optional[datetime]] = s.next_after_each([start])
    name: str = s.timezone
    due: Optional[datetime] = todo_core.next_due({"id": 1})
    print(nxt, each, name, due)
    return many + todo_core.next_occurrences(pattern="daily", start=start, after=start, n=2)


class Row:
    id: int
    title: str
    created_at: datetime


def query(rows: List[Row]) -> List[Row]:
    page: Page[Row] = todo_core.query_tasks(rows, {"sort_by": "title", "limit": 10})
    q: Query = todo_core.parse_query([("status", "pending")])
    again: Page[Row] = TaskSet(rows).query(q)
    total: int = page.total + again.offset + q.limit
    dicts: Page[Dict[str, Any]] = todo_core.query_tasks([{"id": 1}], None)
    print(total, dicts.to_dict(), q.to_params(), todo_core.format_datetime("2026-01-01T00:00:00Z"))
    return [r for r in page]


def events(task: Dict[str, Any]) -> Dict[str, Any]:
    e: Dict[str, Any] = todo_core.build_event("task-created", task, tag_names=[])
    todo_core.build_event("task-updated", task, previous=task)
    decoded = todo_core.decode_event(b"{}", check_schema=False)
    errors: List[str] = todo_core.event_schema_errors(e)
    topics: List[str] = todo_core.event_topics("task-created")
    schema: Dict[str, Any] = todo_core.event_schema("task-deleted")
    try:
        todo_core.decode_event("{}")
    except todo_core.EventError as err:
        code: str = err.code
        print(code)
    print(errors, topics, schema)
    return decoded
