"""The list query: the shared vectors through `query_tasks`, rows as dicts and objects."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, Callable

import pytest

import todo_core
from conftest import at, load

FILE = load("query.json")


def pairs(query: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for k, v in query.items():
        out.extend((k, x) for x in (v if isinstance(v, list) else [v]))
    return out


def test_the_vector_file_is_complete() -> None:
    assert len(FILE["cases"]) >= 200
    assert sum(1 for c in FILE["cases"] if "errors" in c) >= 30


@pytest.mark.parametrize("case", FILE["cases"], ids=[c["name"] for c in FILE["cases"]])
def test_vector(case: dict[str, Any]) -> None:
    rows = FILE["datasets"][case["dataset"]]
    if "errors" in case:
        with pytest.raises(todo_core.ValidationError) as info:
            todo_core.query_tasks(rows, pairs(case["query"]))
        got = sorted((d["field"], d["code"]) for d in info.value.details)
        assert got == sorted((e["field"], e["code"]) for e in case["errors"])
        assert info.value.status == 400
        return
    page = todo_core.query_tasks(rows, pairs(case["query"]))
    assert [t["id"] for t in page.items] == case["expected"]["ids"]
    assert page.total == case["expected"]["total"]


class Row:
    """A SQLModel-like row: attributes, aware datetimes, extra columns."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.__dict__.update(data)
        self.user_id = "alice"
        for k in ("due_datetime", "created_at"):
            if isinstance(getattr(self, k), str):
                setattr(self, k, at(getattr(self, k)))


def test_objects_with_attributes_give_the_same_pages_as_dicts() -> None:
    checked = 0
    for case in FILE["cases"]:
        if "expected" not in case:
            continue
        rows = FILE["datasets"][case["dataset"]]
        objects = [Row(r) for r in rows]
        page = todo_core.query_tasks(objects, pairs(case["query"]))
        assert [o.id for o in page.items] == case["expected"]["ids"], case["name"]
        assert all(isinstance(o, Row) for o in page.items)
        checked += 1
    assert checked > 150


def test_str_enums_and_tuples_are_read_like_their_values() -> None:
    import enum

    class Priority(str, enum.Enum):
        HIGH = "High"
        LOW = "Low"

    from types import SimpleNamespace

    rows = [
        SimpleNamespace(id=i, title=f"t{i}", priority=Priority.HIGH if i % 2 else Priority.LOW, tag_ids=(i,), created_at="2026-01-01T00:00:00Z")
        for i in range(1, 7)
    ]
    page = todo_core.query_tasks(rows, {"priority": "High", "tags": "1,3,4", "sort_order": "asc"})
    assert [r.id for r in page.items] == [1, 3]


def test_task_set_gives_the_same_pages() -> None:
    sets = {name: todo_core.TaskSet(rows) for name, rows in FILE["datasets"].items()}
    for case in FILE["cases"]:
        if "expected" in case:
            page = sets[case["dataset"]].query(pairs(case["query"]))
            assert [t["id"] for t in page.items] == case["expected"]["ids"], case["name"]
    assert len(sets["edge"]) == len(FILE["datasets"]["edge"])


def tasks(n: int) -> list[dict[str, Any]]:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    return [
        {
            "id": i,
            "title": f"Task {i}",
            "priority": ["High", "Medium", "Low"][i % 3],
            "completed": i % 4 == 0,
            "due_datetime": base + timedelta(days=i % 10) if i % 5 else None,
            "tag_ids": [i % 3 + 1],
            "created_at": base + timedelta(minutes=i),
        }
        for i in range(1, n + 1)
    ]


def test_parameter_forms() -> None:
    ts = tasks(30)
    as_dict = todo_core.query_tasks(ts, {"priority": "High", "sort_by": "due_datetime", "sort_order": "asc", "limit": 5})
    as_pairs = todo_core.query_tasks(ts, [("priority", "High"), ("sort_by", "due_datetime"), ("sort_order", "asc"), ("limit", "5")])
    as_query = todo_core.query_tasks(ts, todo_core.parse_query({"priority": "High", "sort_by": "due_datetime", "sort_order": "asc", "limit": "5"}))
    ids = [t["id"] for t in as_dict.items]
    assert ids == [t["id"] for t in as_pairs.items] == [t["id"] for t in as_query.items]
    assert len(ids) == 5 and all(ts[i - 1]["priority"] == "High" for i in ids)
    assert as_dict.limit == 5 and as_dict.offset == 0 and as_dict.total == 10
    # A list value repeats the parameter, which the API rejects as a duplicate.
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.query_tasks(ts, {"status": ["pending", "completed"]})
    assert info.value.code == "duplicate"
    default = todo_core.query_tasks(ts)
    assert default.total == 30 and default.limit == 50
    assert [t["id"] for t in default.items] == list(range(30, 0, -1))


def test_starlette_query_params_keep_repeated_parameters() -> None:
    from starlette.datastructures import QueryParams

    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.query_tasks(tasks(3), QueryParams("limit=1&limit=2"))
    assert (info.value.field, info.value.code) == ("limit", "duplicate")
    page = todo_core.query_tasks(tasks(9), QueryParams("status=completed&sort_order=asc"))
    assert [t["id"] for t in page.items] == [4, 8]


def test_query_object() -> None:
    q = todo_core.Query({"search": "Foo  BAR", "priority": "Low,High", "tags": "3,1", "tags_mode": "all", "due_date_start": "2026-01-01T00:00:00+01:00", "sort_by": "title", "limit": "10", "offset": "20"})
    assert q.search == ["foo", "bar"]
    assert set(q.priorities) == {"Low", "High"}
    assert q.tags == [1, 3] and q.tags_mode == "all"
    assert q.due_date_start == datetime(2025, 12, 31, 23, tzinfo=timezone.utc)
    assert q.due_date_end is None
    assert (q.sort_by, q.sort_order, q.limit, q.offset, q.status) == ("title", "desc", 10, 20, "all")
    assert todo_core.Query(q.to_params()) == q
    assert todo_core.Query() == todo_core.Query({})
    assert q != todo_core.Query()
    assert "search" in repr(q)


def test_page_behaves_like_a_sequence_and_dict() -> None:
    page = todo_core.query_tasks(tasks(5), {"limit": "2"})
    assert len(page) == 2
    assert [t["id"] for t in page] == [5, 4]
    d = page.to_dict()
    assert d == {"items": page.items, "total": 5, "limit": 2, "offset": 0}
    assert "total=5" in repr(page)


def test_bad_rows_name_the_row_and_field() -> None:
    rows = tasks(3)
    rows[1]["created_at"] = datetime(2026, 1, 1)
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.query_tasks(rows)
    assert info.value.field == "tasks[1].created_at"
    assert "naive" in info.value.message
    rows = tasks(3)
    del rows[2]["title"]
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.query_tasks(rows, {"search": "task"})
    assert (info.value.field, info.value.code) == ("tasks[2].title", "required")
    rows = tasks(3)
    rows[0]["priority"] = "Urgent"
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.query_tasks(rows, {"sort_by": "priority"})
    assert info.value.field == "tasks[0].priority"
    rows = tasks(3)
    rows[2]["id"] = "3"
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.query_tasks(rows)
    assert info.value.field == "tasks[2].id"
    with pytest.raises(TypeError):
        todo_core.query_tasks(tasks(1), {"limit": 1.5})


def test_only_the_fields_a_query_uses_are_read() -> None:
    rows = tasks(3)
    rows[0]["priority"] = "Urgent"
    del rows[1]["title"]
    # The default query sorts on created_at and id only.
    assert [t["id"] for t in todo_core.query_tasks(rows).items] == [3, 2, 1]
    # A TaskSet reads (and checks) every field, for any later query.
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.TaskSet(rows)
    assert info.value.field == "tasks[0].priority"


def test_large_inputs() -> None:
    ts = tasks(10_000)
    page = todo_core.query_tasks(ts, {"status": "pending", "sort_by": "priority", "sort_order": "desc", "limit": "100"})
    assert page.total == sum(1 for t in ts if not t["completed"])
    assert all(t["priority"] == "High" for t in page.items)


ROWS = load("query-rows.json")


def as_object(value: Any) -> Any:
    """A row as a SQLModel-like object: attributes instead of keys, tags as objects too."""
    if isinstance(value, dict):
        return SimpleNamespace(**{k: as_object(v) for k, v in value.items()})
    if isinstance(value, list):
        return [as_object(v) for v in value]
    return value


def outcome(run: Callable[[], Any]) -> Any:
    """The page's ids and total, or the set of rejected (field, code)."""
    try:
        page = run()
    except todo_core.ValidationError as e:
        assert e.status == 400
        return sorted((d["field"], d["code"]) for d in e.details)
    return {"ids": [t["id"] if isinstance(t, dict) else t.id for t in page.items], "total": page.total}


@pytest.mark.parametrize("case", ROWS["cases"], ids=[c["name"] for c in ROWS["cases"]])
def test_row_vector(case: dict[str, Any]) -> None:
    """The rows the bindings used to read differently (empty titles, duplicate tag ids, the API's
    `tags`, wrong types): the same page or errors as the core's reader and the WASM module give."""
    rows, params = case["rows"], pairs(case["query"])
    want = case["expected"] if "expected" in case else sorted((e["field"], e["code"]) for e in case["errors"])
    objects = [as_object(r) for r in rows]
    assert outcome(lambda: todo_core.query_tasks(rows, params)) == want
    assert outcome(lambda: todo_core.query_tasks(objects, params)) == want
    assert outcome(lambda: todo_core.TaskSet(rows).query(params)) == want


def test_row_rules_of_a_stored_task() -> None:
    base = {"id": 1, "created_at": "2026-01-01T00:00:00Z"}
    # An empty title is refused wherever the title is read; a blank one too.
    for title in ("", "   "):
        with pytest.raises(todo_core.ValidationError) as info:
            todo_core.TaskSet([{**base, "title": title}])
        assert (info.value.field, info.value.code) == ("tasks[0].title", "required")
    # Duplicate tag ids are one tag; the row object is returned as given.
    row = {**base, "title": "x", "tag_ids": [3, 3, 1]}
    page = todo_core.TaskSet([row]).query({"tags": "1,3", "tags_mode": "all"})
    assert page.items == [row] and page.items[0]["tag_ids"] == [3, 3, 1]
    # A list that is a str is not a list of ids.
    with pytest.raises(todo_core.ValidationError) as info:
        todo_core.query_tasks([{**base, "title": "x", "tag_ids": "13"}], {"tags": "1"})
    assert (info.value.field, info.value.code) == ("tasks[0].tag_ids", "invalid_format")
    assert "got str" in info.value.message
    # Tag rows of a relationship (objects with an id) stand for tag_ids.
    tagged = SimpleNamespace(id=2, title="y", created_at="2026-01-01T00:00:00Z", tags=[SimpleNamespace(id=5, name="home")])
    assert todo_core.query_tasks([tagged], {"tags": "5"}).items == [tagged]
