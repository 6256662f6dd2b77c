"""The legacy-style app on the bindings, through FastAPI's TestClient on a fresh in-memory SQLite."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

import todo_core

from .app import create_app


@pytest.fixture()
def client() -> Iterator[TestClient]:
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    with TestClient(create_app(engine)) as c:
        yield c


def create(client: TestClient, body: Dict[str, Any], user: str = "alice") -> Dict[str, Any]:
    r = client.post(f"/api/{user}/tasks", json=body)
    assert r.status_code == 201, r.text
    out: Dict[str, Any] = r.json()
    return out


def test_create_normalizes_through_the_core(client: TestClient) -> None:
    t = create(client, {"title": "  Pay rent ", "priority": "High", "due_datetime": "2031-01-31T18:00:00+01:00"})
    assert t["title"] == "Pay rent"
    assert t["due_datetime"] == "2031-01-31T17:00:00Z"
    assert t["priority"] == "High" and t["recurrence_pattern"] == "none" and t["timezone"] == "UTC"


def test_bad_input_gets_the_servers_error_body(client: TestClient) -> None:
    r = client.post("/api/alice/tasks", json={"title": "", "priority": "Urgent", "due_datetime": "2001-01-01T00:00:00Z"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "VALIDATION_ERROR"
    assert [(d["field"], d["code"]) for d in err["details"]] == [("title", "required"), ("due_datetime", "in_past"), ("priority", "invalid_value")]
    r = client.post("/api/alice/tasks", json={"title": "x", "owner": "bob"})
    assert r.status_code == 422
    detail = r.json()["error"]["details"][0]
    assert (detail["field"], detail["code"]) == ("owner", "unknown_field")
    assert "title" in detail["message"]  # it lists the fields that are allowed
    r = client.post("/api/alice/tasks", json={"title": "x", "recurrence_pattern": "weekly"})
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["field"] == "due_datetime"


def test_listing_uses_the_query_engine(client: TestClient) -> None:
    create(client, {"title": "Write report", "priority": "High", "due_datetime": "2031-03-01T09:00:00Z"})
    create(client, {"title": "Buy milk", "priority": "Low"})
    create(client, {"title": "Call the bank about the REPORT", "priority": "Medium", "due_datetime": "2031-02-01T09:00:00Z"})
    create(client, {"title": "Other user's report"}, user="bob")

    r = client.get("/api/alice/tasks", params={"search": "report", "sort_by": "due_datetime", "sort_order": "asc"})
    assert r.status_code == 200
    body = r.json()
    assert [t["title"] for t in body["tasks"]] == ["Call the bank about the REPORT", "Write report"]
    assert (body["total"], body["limit"], body["offset"]) == (2, 50, 0)

    r = client.get("/api/alice/tasks?priority=High,Low&sort_by=title&sort_order=asc&limit=1&offset=1")
    assert [t["title"] for t in r.json()["tasks"]] == ["Write report"]
    assert r.json()["total"] == 2

    # Tasks without a due date sort last in both orders.
    for order in ("asc", "desc"):
        r = client.get(f"/api/alice/tasks?sort_by=due_datetime&sort_order={order}")
        assert r.json()["tasks"][-1]["title"] == "Buy milk"


def test_bad_query_parameters_are_400_with_every_problem(client: TestClient) -> None:
    r = client.get("/api/alice/tasks?limit=0&sort_by=colour&status=pending&status=completed")
    assert r.status_code == 400
    got = sorted((d["field"], d["code"]) for d in r.json()["error"]["details"])
    assert got == [("limit", "out_of_range"), ("sort_by", "invalid_value"), ("status", "duplicate")]


def outbox(client: TestClient) -> List[Dict[str, Any]]:
    events: List[Dict[str, Any]] = client.get("/api/outbox").json()
    return events


def test_completing_a_monthly_task_creates_exactly_one_next_instance(client: TestClient) -> None:
    t = create(client, {"title": "Pay rent", "due_datetime": "2031-01-31T09:00:00+01:00", "recurrence_pattern": "monthly", "timezone": "Europe/Berlin"})
    done = client.patch(f"/api/alice/tasks/{t['id']}/complete").json()
    assert done["completed"] is True and done["completed_at"] is not None
    assert done["next_task_id"] is not None

    tasks = client.get("/api/alice/tasks?status=pending").json()["tasks"]
    assert len(tasks) == 1
    nxt = tasks[0]
    assert nxt["id"] == done["next_task_id"] and nxt["parent_task_id"] == t["id"]
    assert nxt["due_datetime"] == "2031-02-28T08:00:00Z"  # 09:00 in Berlin, clamped to Feb 28
    assert nxt["series_start"] == "2031-01-31T08:00:00Z"

    # Completing again creates nothing more.
    again = client.patch(f"/api/alice/tasks/{t['id']}/complete").json()
    assert again["next_task_id"] == done["next_task_id"]
    assert client.get("/api/alice/tasks").json()["total"] == 2

    # The next instance returns to the 31st (the series' day), at 09:00 summer time.
    third_id = client.patch(f"/api/alice/tasks/{nxt['id']}/complete").json()["next_task_id"]
    third = [x for x in client.get("/api/alice/tasks").json()["tasks"] if x["id"] == third_id][0]
    assert third["due_datetime"] == "2031-03-31T07:00:00Z"


def test_completion_events_are_valid_wire_events(client: TestClient) -> None:
    t = create(client, {"title": "Water plants", "due_datetime": "2031-05-01T07:00:00Z", "recurrence_pattern": "weekly"})
    done = client.patch(f"/api/alice/tasks/{t['id']}/complete").json()
    events = outbox(client)
    assert [e["event_type"] for e in events] == ["task-created", "task-completed", "task-created"]
    for e in events:
        assert todo_core.decode_event(e) == e
    completed = events[1]["data"]
    assert completed["task_id"] == t["id"] and completed["next_task_id"] == done["next_task_id"]
    assert events[2]["data"]["due_datetime"] == "2031-05-08T07:00:00Z"


def test_a_task_that_does_not_repeat_has_no_next_instance(client: TestClient) -> None:
    t = create(client, {"title": "Once", "due_datetime": "2031-05-01T07:00:00Z"})
    done = client.patch(f"/api/alice/tasks/{t['id']}/complete").json()
    assert done["next_task_id"] is None
    assert client.patch("/api/bob/tasks/1/complete").status_code == 404
