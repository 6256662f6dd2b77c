"""Validation: the shared vectors through the bindings, and the error shape."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import todo_core
from conftest import at, load

FILE = load("validation.json")
NOW = at(FILE["now"])


def test_the_vector_file_is_complete() -> None:
    assert len(FILE["cases"]) >= 150
    kinds = {c["kind"] for c in FILE["cases"]}
    assert kinds == {"task_create", "task_update", "tag_create", "tag_update", "reminder"}


@pytest.mark.parametrize("case", FILE["cases"], ids=[c["name"] for c in FILE["cases"]])
def test_vector(case: dict[str, Any]) -> None:
    expected = case["expected"]
    if "ok" in expected:
        assert todo_core.validate(case["kind"], case["input"], now=NOW) == expected["ok"]
    else:
        with pytest.raises(todo_core.ValidationError) as info:
            todo_core.validate(case["kind"], case["input"], now=NOW)
        got = [{"field": d["field"], "code": d["code"]} for d in info.value.details]
        assert got == expected["errors"]


def test_the_typed_functions_match_the_generic_one() -> None:
    body = {"title": " Pay rent ", "priority": "High", "due_datetime": "2030-01-31T18:00:00+01:00"}
    assert todo_core.validate_task_create(body, now=NOW) == todo_core.validate("task_create", body, now=NOW)
    assert todo_core.validate_task_update({"title": " x "}) == {"title": "x"}
    assert todo_core.validate_tag_create({"name": "Work", "color": "#ff0000"}) == {"name": "Work", "color": "#FF0000"}
    assert todo_core.validate_tag_update({"color": "#00aa00"}) == {"color": "#00AA00"}
    reminder = todo_core.validate_reminder({"reminder_time": "2030-01-02T09:00:00+02:00"}, now=NOW)
    assert reminder == {"reminder_time": "2030-01-02T07:00:00Z", "reminder_type": "due_date"}
    custom = todo_core.validate_reminder({"reminder_time": "2030-01-02T07:00:00Z", "reminder_type": "custom"}, now=NOW)
    assert custom["reminder_type"] == "custom"


def test_error_carries_field_code_details_and_http_body() -> None:
    with pytest.raises(ValueError) as info:
        todo_core.validate_task_create({"title": "", "priority": "Urgent"}, now=NOW)
    e = info.value
    assert isinstance(e, todo_core.ValidationError)
    assert isinstance(e, todo_core.TodoError)
    assert (e.field, e.code, e.status) == ("title", "required", 400)
    assert [d["field"] for d in e.details] == ["title", "priority"]
    assert all(d["message"] for d in e.details)
    body = e.to_dict()["error"]
    assert body["code"] == "VALIDATION_ERROR"
    assert body["details"] == e.details
    assert "priority" in str(e)


def test_shape_errors_are_422_like_the_server() -> None:
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.validate_task_create({"title": "x", "owner": "bob"}, now=NOW)
    assert (info.value.field, info.value.code, info.value.status) == ("owner", "unknown_field", 422)
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.validate_task_create({"title": 5}, now=NOW)
    assert (info.value.field, info.value.status) == ("title", 422)
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.validate_task_create(["not", "an", "object"], now=NOW)  # type: ignore[arg-type]
    assert (info.value.field, info.value.code) == ("body", "invalid_format")


def test_aware_datetimes_are_accepted_as_instants() -> None:
    due = datetime(2030, 1, 31, 18, 0, tzinfo=timezone(timedelta(hours=1)))
    out = todo_core.validate_task_create({"title": "x", "due_datetime": due}, now=NOW)
    assert out["due_datetime"] == "2030-01-31T17:00:00Z"


def test_naive_datetime_input_is_a_field_error() -> None:
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.validate_task_create({"title": "x", "due_datetime": datetime(2030, 1, 1)}, now=NOW)
    assert (info.value.field, info.value.code) == ("due_datetime", "invalid_format")


def test_now_decides_what_is_in_the_past() -> None:
    body = {"title": "x", "due_datetime": "2030-01-01T08:00:00Z"}
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.validate_task_create(body, now=NOW)
    assert info.value.code == "in_past"
    assert todo_core.validate_task_create(body, now=NOW - timedelta(days=1))["due_datetime"] == body["due_datetime"]
    # Without now=, the current time is used: a date long past is rejected.
    with pytest.raises(todo_core.ValidationError):
        todo_core.validate_task_create({"title": "x", "due_datetime": "2001-01-01T00:00:00Z"})


def test_naive_now_is_rejected() -> None:
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.validate_task_create({"title": "x"}, now=datetime(2030, 1, 1))
    assert info.value.field == "now"


def test_unknown_kind_and_unconvertible_values() -> None:
    with pytest.raises(ValueError, match="unknown input kind"):
        todo_core.validate("task", {"title": "x"})
    with pytest.raises(TypeError):
        todo_core.validate_task_create({"title": object()}, now=NOW)
    with pytest.raises(TypeError):
        todo_core.validate_task_create({1: "x"}, now=NOW)  # type: ignore[dict-item]
