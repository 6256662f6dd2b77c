#!/usr/bin/env python3
"""Writes query-rows.json: task rows as hosts hand them to the query engine -> the page, or the
rejected fields of the first bad row.

The rows are read by the one row reader of the core (todo_core::query::row), which every binding
calls: Python dicts and objects, JavaScript objects. Cases where the bindings used to answer
differently (an empty or blank title, duplicate tag ids, the API's `tags` objects, the error
kinds) are here. Every expectation below is written by hand, not computed by the code under
test. Run: python3 test-vectors/gen_query_rows.py > test-vectors/query-rows.json
"""
import json

cases = []
C0 = "2026-01-01T00:00:00Z"


def row(id, title="Task", **kw):
    r = {"id": id, "title": title, "created_at": f"2026-01-01T00:00:{id % 60:02d}Z"}
    r.update(kw)
    return r


def drop(r, *keys):
    return {k: v for k, v in r.items() if k not in keys}


def ok(name, rows, query, ids, total=None):
    cases.append({"name": name, "rows": rows, "query": query,
                  "expected": {"ids": ids, "total": len(ids) if total is None else total}})


def err(name, rows, query, *errors):
    cases.append({"name": name, "rows": rows, "query": query,
                  "errors": [{"field": f, "code": c} for f, c in errors]})


# --- rows that are read -----------------------------------------------------------------------
ok("title is trimmed before sorting",
   [row(1, "  zebra  "), row(2, "Apple"), row(3, "\tmango")],
   {"sort_by": "title", "sort_order": "asc"}, [2, 3, 1])
ok("duplicate tag ids are one tag (all)",
   [row(1, tag_ids=[3, 3, 1]), row(2, tag_ids=[3, 3]), row(3, tag_ids=[1, 1])],
   {"tags": "1,3", "tags_mode": "all"}, [1])
ok("duplicate tag ids are one tag (any)",
   [row(1, tag_ids=[3, 3, 1]), row(2, tag_ids=[3, 3]), row(3, tag_ids=[1, 1])],
   {"tags": "1", "sort_order": "asc"}, [1, 3])
ok("tag ids in any order",
   [row(1, tag_ids=[9, 2, 5]), row(2, tag_ids=[5])], {"tags": "2,9", "tags_mode": "all"}, [1])
ok("the API's tags objects give the tag ids",
   [row(1, tags=[{"id": 4, "name": "home", "color": "#FF0000"}, {"id": 2, "name": "x", "color": "#000000"}]),
    row(2, tags=[]), row(3, tags=[{"id": 2, "name": "x", "color": "#000000"}])],
   {"tags": "4"}, [1])
ok("tag_ids wins over tags",
   [row(1, tag_ids=[1], tags=[{"id": 2, "name": "x", "color": "#000000"}])],
   {"tags": "2"}, [])
ok("tag_ids wins over tags (its ids match)",
   [row(1, tag_ids=[1], tags=[{"id": 2, "name": "x", "color": "#000000"}])],
   {"tags": "1"}, [1])
ok("null tag_ids falls back to tags",
   [row(1, tag_ids=None, tags=[{"id": 2, "name": "x", "color": "#000000"}])],
   {"tags": "2"}, [1])
ok("missing optional fields take their defaults",
   [row(1), row(2, completed=True), row(3, priority="Low")],
   {"status": "pending", "priority": "Medium"}, [1])
ok("a missing due date is outside every range",
   [row(1), row(2, due_datetime="2026-03-01T09:00:00Z")],
   {"due_date_end": "2026-12-31T00:00:00Z"}, [2])
ok("null fields are missing fields",
   [row(1, description=None, completed=None, due_datetime=None, priority=None, tag_ids=None),
    row(2, priority="High")],
   {"priority": "Medium", "status": "pending", "search": "task"}, [1])
ok("priority names are case-insensitive and trimmed",
   [row(1, priority="high"), row(2, priority=" LOW "), row(3, priority="Medium")],
   {"sort_by": "priority", "sort_order": "desc"}, [1, 3, 2])
ok("instants with an offset are the same instant in UTC",
   [row(1, due_datetime="2026-03-01T10:00:00+01:00"), row(2, due_datetime="2026-03-01T09:00:01Z")],
   {"due_date_start": "2026-03-01T09:00:00Z", "due_date_end": "2026-03-01T09:00:00Z"}, [1])
ok("search reads the title and the description",
   [row(1, "Pay RENT", description="Flat 3B"), row(2, "Pay rent"), row(3, "flat 3b", description="rent")],
   {"search": "rent 3b", "sort_order": "asc"}, [1, 3])
ok("search folds every character on its own",
   [row(1, "ΟΔΟΣΟΣ"), row(2, "ÉCOLE", description="Straße"), row(3, "odos")],
   {"search": "οδοσ", "sort_order": "asc"}, [1])
ok("search folds the description too",
   [row(1, "ÉCOLE", description="Straße"), row(2, "école")],
   {"search": "école STRAẞE", "sort_order": "asc"}, [1])
ok("an empty description is accepted",
   [row(1, "a", description=""), row(2, "b", description=None)],
   {"search": "a"}, [1])
ok("a description keeps its line breaks and tabs",
   [row(1, "a", description="first\n\tsecond")], {"search": "second"}, [1])

# --- rows that are rejected: the rejected fields of the first bad row --------------------------
# In every case the bad row's bad fields are all ones the query looks at, so a reader that reads
# only those (Python's query_tasks) and one that reads every field (a TaskSet) agree.
err("empty title", [row(1), row(2, "")], {"search": "task"}, ("tasks[1].title", "required"))
err("empty title (sorted by title)", [row(1, "")], {"sort_by": "title"}, ("tasks[0].title", "required"))
err("blank title", [row(1, "   ")], {"search": "x"}, ("tasks[0].title", "required"))
err("title with a line break", [row(1, "a\nb")], {"search": "a"}, ("tasks[0].title", "invalid_format"))
err("title of 201 characters", [row(1, "x" * 201)], {"search": "x"}, ("tasks[0].title", "too_long"))
err("title missing", [drop(row(1), "title")], {"search": "x"}, ("tasks[0].title", "required"))
err("title null", [row(1, None)], {"sort_by": "title"}, ("tasks[0].title", "required"))
err("title not a string", [row(1, 5)], {"search": "x"}, ("tasks[0].title", "invalid_format"))
err("description with a control character", [row(1, description="a\u0007b")], {"search": "a"},
    ("tasks[0].description", "invalid_format"))
err("description of 4001 characters", [row(1, description="y" * 4001)], {"search": "y"},
    ("tasks[0].description", "too_long"))
err("description not a string", [row(1, description=3)], {"search": "x"},
    ("tasks[0].description", "invalid_format"))
err("id missing", [row(1), drop(row(2), "id")], {}, ("tasks[1].id", "required"))
err("id null", [{**row(1), "id": None}], {}, ("tasks[0].id", "required"))
err("id a string", [{**row(1), "id": "1"}], {}, ("tasks[0].id", "invalid_format"))
err("id a fraction", [{**row(1), "id": 1.5}], {}, ("tasks[0].id", "invalid_format"))
err("id beyond 64 bits", [{**row(1), "id": 10**20}], {}, ("tasks[0].id", "invalid_format"))
err("id zero", [{**row(1), "id": 0}], {}, ("tasks[0].id", "invalid_value"))
err("id negative", [{**row(1), "id": -5}], {}, ("tasks[0].id", "invalid_value"))
err("tag id zero", [row(1, tag_ids=[2, 0])], {"tags": "2"}, ("tasks[0].tag_ids", "invalid_value"))
err("tag_ids not a list", [row(1, tag_ids=7)], {"tags": "7"}, ("tasks[0].tag_ids", "invalid_format"))
err("tag_ids holding a string", [row(1, tag_ids=["1"])], {"tags": "1"}, ("tasks[0].tag_ids", "invalid_format"))
err("tags object without an integer id", [row(1, tags=[{"id": "x", "name": "x"}])], {"tags": "1"},
    ("tasks[0].tags", "invalid_format"))
err("tags object with id zero", [row(1, tags=[{"id": 0, "name": "x"}])], {"tags": "1"},
    ("tasks[0].tags", "invalid_value"))
err("completed not a boolean", [row(1, completed="yes")], {"status": "pending"},
    ("tasks[0].completed", "invalid_format"))
err("priority unknown", [row(1, priority="Urgent")], {"priority": "High"},
    ("tasks[0].priority", "invalid_value"))
err("priority not a string", [row(1, priority=3)], {"sort_by": "priority"},
    ("tasks[0].priority", "invalid_format"))
err("due date without an offset", [row(1, due_datetime="2026-03-01T09:00:00")], {"sort_by": "due_datetime"},
    ("tasks[0].due_datetime", "invalid_format"))
err("due date not a string", [row(1, due_datetime=20260301)], {"due_date_start": C0},
    ("tasks[0].due_datetime", "invalid_format"))
err("created_at missing", [drop(row(1), "created_at")], {}, ("tasks[0].created_at", "required"))
err("created_at not a date", [row(1, created_at="soon")], {}, ("tasks[0].created_at", "invalid_format"))
err("every rejected field of the row",
    [row(1), {**row(2, "", priority="Urgent", completed=1), "id": 0}],
    {"search": "x", "priority": "High", "status": "completed"},
    ("tasks[1].id", "invalid_value"), ("tasks[1].title", "required"),
    ("tasks[1].completed", "invalid_format"), ("tasks[1].priority", "invalid_value"))

names = [c["name"] for c in cases]
assert len(names) == len(set(names)), "case names must be unique"

doc = {
    "format": (
        "Shared vectors of the query-row reader (todo_core::query::row): task rows as hosts hand them "
        "to the list query (Python dicts or objects, JavaScript objects). Each case: 'rows' (the rows, "
        "in order), 'query' (parameter -> string, or -> array of strings: the parameter repeated, as "
        "in query.json), and 'expected' {ids: the page's task ids in order, total} or 'errors': every "
        "{field, code} of the first rejected row, compared as a set. In an error case the other rows "
        "are valid in every field and the rejected fields are all ones the query looks at, so reading "
        "only those fields or every field gives the same errors. Written by "
        "test-vectors/gen_query_rows.py; do not edit by hand."
    ),
    "cases": cases,
}
# One case a line, as in query.json.
lines = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases)
print("{\n " + json.dumps("format") + ": " + json.dumps(doc["format"], ensure_ascii=False)
      + ',\n "cases": [\n' + lines + "\n ]\n}")
