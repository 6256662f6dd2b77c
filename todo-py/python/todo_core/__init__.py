"""The todo platform's core, from Rust: the same rules as the server, in Python.

- Validation of request bodies: :func:`validate_task_create`, :func:`validate_task_update`,
  :func:`validate_tag_create`, :func:`validate_tag_update`, :func:`validate_reminder` (or
  :func:`validate` with a kind). Plain dicts in, normalized dicts out; bad input raises
  :class:`ValidationError` (a ``ValueError``) with ``field``, ``code`` and every ``details``
  entry of the HTTP error body.
- Recurrence: :class:`Series` (``next_after``, ``upcoming``), :func:`next_occurrences`, and
  :func:`next_due` (the due date of the instance that completing a recurring task creates).
  Aware ``datetime`` in and out; a naive datetime raises :class:`ValidationError`.
- The list query: :func:`query_tasks` (search, filter, sort, page a list of task dicts or
  SQLModel rows with the HTTP API's parameters), :class:`Query`, :class:`TaskSet` (rows read
  once, queried often), :class:`Page`.
- Events: :func:`build_event` (the wire event of a task change), :func:`decode_event` (an
  incoming event checked for version, shape and JSON Schema; :class:`EventError` with a routing
  code otherwise), :func:`event_schema`, :func:`event_schema_errors`, :func:`event_topics`.
"""

from ._exceptions import EventError, TodoError, ValidationError
from ._todo_core import (
    Page,
    Query,
    Series,
    TaskSet,
    __version__,
    build_event,
    decode_event,
    event_schema,
    event_schema_errors,
    event_topics,
    format_datetime,
    next_due,
    next_occurrences,
    parse_query,
    query_tasks,
    validate,
    validate_reminder,
    validate_tag_create,
    validate_tag_update,
    validate_task_create,
    validate_task_update,
)

__all__ = [
    "EventError",
    "Page",
    "Query",
    "Series",
    "TaskSet",
    "TodoError",
    "ValidationError",
    "__version__",
    "build_event",
    "decode_event",
    "event_schema",
    "event_schema_errors",
    "event_topics",
    "format_datetime",
    "next_due",
    "next_occurrences",
    "parse_query",
    "query_tasks",
    "validate",
    "validate_reminder",
    "validate_tag_create",
    "validate_tag_update",
    "validate_task_create",
    "validate_task_update",
]
