"""Events: the shared cases through decode and schema, and envelopes built from task changes."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any

import pytest

import todo_core
from conftest import load

CASES = load("events/cases.json")["cases"]
PLAN = ["task-created", "task-updated", "reminder-triggered", "activity-log-created"]


def outcome(event: Any, check_schema: bool) -> str:
    try:
        todo_core.decode_event(event, check_schema=check_schema)
    except todo_core.EventError as e:
        return e.code
    return "ok"


def test_the_cases_cover_every_code() -> None:
    assert len(CASES) >= 40
    assert {c["decode"] for c in CASES} >= {"ok", "MALFORMED", "UNSUPPORTED_VERSION", "INVALID_VERSION", "UNKNOWN_EVENT_TYPE"}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    event = case["event"]
    assert outcome(event, check_schema=False) == case["decode"]
    assert outcome(json.dumps(event).encode(), check_schema=False) == case["decode"]
    assert outcome(json.dumps(event), check_schema=True) == case["decode"]
    errors = todo_core.event_schema_errors(event, case["schema"])
    assert (errors == []) == case["schema_valid"], errors


@pytest.mark.parametrize("name", PLAN)
def test_the_plans_examples(name: str) -> None:
    raw = (load(f"events/plan/{name}.json"))
    event = todo_core.decode_event(raw)
    assert event["event_type"] == name
    assert event["version"] == "1.0"
    assert event["data"]["task_id"] == 123
    assert event["data"]["user_id"] == "user-uuid"
    assert todo_core.event_schema_errors(raw) == []


def test_schema_errors_name_the_problem() -> None:
    event = dict(load("events/plan/task-created.json"))
    event["version"] = 1
    errors = todo_core.event_schema_errors(event)
    assert errors and any("version" in e for e in errors)
    with pytest.raises(todo_core.EventError) as info:
        todo_core.event_schema_errors({"data": {}})
    assert info.value.code == "UNKNOWN_EVENT_TYPE"


def test_not_json_and_unknown_type() -> None:
    with pytest.raises(todo_core.EventError) as info:
        todo_core.decode_event(b"{nope")
    assert info.value.code == "NOT_JSON"
    assert isinstance(info.value, ValueError)
    with pytest.raises(todo_core.EventError) as info:
        todo_core.event_schema("task-exploded")  # type: ignore[arg-type]
    assert info.value.code == "UNKNOWN_EVENT_TYPE"


TASK: dict[str, Any] = {
    "id": 123,
    "user_id": "user-123",
    "title": "Complete project report",
    "description": "Final report for Q4",
    "priority": "High",
    "due_datetime": datetime(2026, 2, 20, 15, tzinfo=timezone.utc),
    "recurrence_pattern": "weekly",
    "timezone": "Europe/Berlin",
    "tag_ids": [5, 2],
    "created_at": datetime(2026, 2, 15, 10, tzinfo=timezone.utc),
    "updated_at": datetime(2026, 2, 15, 10, tzinfo=timezone.utc),
}
WHEN = datetime(2026, 2, 20, 14, 30, tzinfo=timezone.utc)
EVENT_ID = uuid.UUID("3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c")


def test_task_created() -> None:
    e = todo_core.build_event("task-created", TASK, tag_names=["urgent", "work"], event_id=EVENT_ID, occurred_at=WHEN)
    assert e["event_type"] == "task-created"
    assert e["event_id"] == str(EVENT_ID)
    assert e["timestamp"] == "2026-02-20T14:30:00Z"
    assert e["version"] == "1.0"
    assert e["data"]["task_id"] == 123 and e["data"]["user_id"] == "user-123"
    assert e["data"]["tag_ids"] == [2, 5] and e["data"]["tags"] == ["urgent", "work"]
    assert e["data"]["recurrence_pattern"] == "weekly"
    assert todo_core.event_schema_errors(e) == []
    assert todo_core.decode_event(json.dumps(e)) == e


def test_task_updated_lists_only_changed_fields() -> None:
    after = dict(TASK, priority="Low", completed=False, title="Complete the report")
    e = todo_core.build_event("task-updated", after, previous=TASK, occurred_at=WHEN)
    assert e["data"]["changed_fields"] == ["priority", "title"]
    assert e["data"]["old_values"] == {"priority": "High", "title": "Complete project report"}
    assert e["data"]["new_values"] == {"priority": "Low", "title": "Complete the report"}
    assert todo_core.decode_event(e) == e
    with pytest.raises(ValueError, match="previous"):
        todo_core.build_event("task-updated", after)


def test_task_completed_and_deleted() -> None:
    done = dict(TASK, completed=True, completed_at=WHEN)
    e = todo_core.build_event("task-completed", done, tag_names=["urgent", "work"], next_task_id=124, occurred_at=WHEN)
    assert e["data"]["next_task_id"] == 124 and e["data"]["completed"] is True
    assert todo_core.decode_event(e)["data"]["next_task_id"] == 124
    uuid.UUID(e["event_id"])  # a fresh random id
    d = todo_core.build_event("task-deleted", TASK, tag_names=["urgent", "work"], occurred_at=WHEN)
    assert d["event_type"] == "task-deleted" and d["data"]["title"] == TASK["title"]
    assert todo_core.event_schema_errors(d) == []


def test_build_event_errors() -> None:
    with pytest.raises(todo_core.EventError) as info:
        todo_core.build_event("task-created", TASK, tag_names=["only-one"], occurred_at=WHEN)
    assert info.value.code == "MALFORMED"
    with pytest.raises(ValueError, match="task events"):
        todo_core.build_event("reminder-triggered", TASK)
    with pytest.raises(todo_core.ValidationError) as info2:
        todo_core.build_event("task-created", dict(TASK, due_datetime=None), tag_names=["a", "b"])
    assert info2.value.field == "task"
    with pytest.raises(todo_core.ValidationError) as info2:
        todo_core.build_event("task-created", TASK, tag_names=["a", "b"], event_id="not-a-uuid")
    assert info2.value.field == "event_id"
    with pytest.raises(todo_core.ValidationError) as info2:
        todo_core.build_event("task-created", TASK, tag_names=["a", "b"], occurred_at=datetime(2026, 1, 1))
    assert info2.value.field == "occurred_at"


def test_schema_and_topics() -> None:
    schema = todo_core.event_schema("task-created")
    assert schema["$schema"].endswith("2020-12/schema")
    assert todo_core.event_topics("reminder-triggered") == ["reminders"]
    assert todo_core.event_topics("task-deleted") == ["task-events", "task-updates"]
