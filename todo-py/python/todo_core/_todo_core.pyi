"""Type stub of the native module `todo_core._todo_core` (written by hand; keep in step with src/)."""

from __future__ import annotations

import uuid
from datetime import datetime, tzinfo
from typing import (
    Any,
    Dict,
    Generic,
    Iterable,
    Iterator,
    List,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Tuple,
    TypeVar,
    Union,
    overload,
)

__version__: str

T = TypeVar("T")

JSON = Union[None, bool, int, float, str, List[Any], Dict[str, Any]]
#: An instant: an aware datetime, or an RFC 3339 string with offset.
Instant = Union[datetime, str]
InputKind = Literal["task_create", "task_update", "tag_create", "tag_update", "reminder"]
TaskEventType = Literal["task-created", "task-updated", "task-completed", "task-deleted"]
EventType = Literal[
    "task-created",
    "task-updated",
    "task-completed",
    "task-deleted",
    "reminder-triggered",
    "activity-log-created",
]

#: Query parameters: a mapping, (name, value) pairs, a Query, or Starlette's QueryParams.
Params = Union["Query", Mapping[str, Any], Iterable[Tuple[str, Any]]]

# Validation ---------------------------------------------------------------------------------

def validate(kind: InputKind, data: Mapping[str, Any], *, now: Optional[Instant] = None) -> Dict[str, Any]:
    """Validates a request body of the given kind; returns it normalized. Raises ValidationError."""

def validate_task_create(data: Mapping[str, Any], *, now: Optional[Instant] = None) -> Dict[str, Any]:
    """Validates the body of "create task"; returns the normalized draft."""

def validate_task_update(data: Mapping[str, Any]) -> Dict[str, Any]:
    """Validates the body of "update task"; returns the given fields, normalized."""

def validate_tag_create(data: Mapping[str, Any]) -> Dict[str, Any]:
    """Validates the body of "create tag"."""

def validate_tag_update(data: Mapping[str, Any]) -> Dict[str, Any]:
    """Validates the body of "update tag"."""

def validate_reminder(data: Mapping[str, Any], *, now: Optional[Instant] = None) -> Dict[str, Any]:
    """Validates the body of "set reminder"."""

# Recurrence ---------------------------------------------------------------------------------

class Series:
    """A recurring series: a pattern or an RRULE from `start` in `timezone`, up to `end`."""

    @overload
    def __init__(
        self,
        *,
        start: Instant,
        pattern: Literal["daily", "weekly", "monthly", "none"],
        timezone: Union[str, tzinfo, None] = None,
        end: Optional[Instant] = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        *,
        start: Instant,
        rrule: str,
        timezone: Union[str, tzinfo, None] = None,
        end: Optional[Instant] = None,
    ) -> None: ...
    @overload
    def __init__(
        self,
        *,
        start: Instant,
        pattern: Optional[str] = None,
        rrule: Optional[str] = None,
        timezone: Union[str, tzinfo, None] = None,
        end: Optional[Instant] = None,
    ) -> None: ...
    def next_after(self, after: Instant) -> Optional[datetime]:
        """The first occurrence strictly after `after` (aware, UTC), or None."""
    def upcoming(self, after: Instant, n: int) -> List[datetime]:
        """The first `n` (at most 1000) occurrences strictly after `after`."""
    def next_after_each(self, afters: Iterable[Instant]) -> List[Optional[datetime]]:
        """`next_after` for each instant, computed with the GIL released."""
    @property
    def start(self) -> datetime: ...
    @property
    def end(self) -> Optional[datetime]: ...
    @property
    def timezone(self) -> str: ...
    @property
    def pattern(self) -> str: ...
    @property
    def rrule(self) -> Optional[str]: ...

def next_occurrences(
    *,
    start: Instant,
    after: Instant,
    n: int = 1,
    pattern: Optional[str] = None,
    rrule: Optional[str] = None,
    timezone: Union[str, tzinfo, None] = None,
    end: Optional[Instant] = None,
) -> List[datetime]:
    """`Series(...).upcoming(after, n)`."""

def next_due(task: Any) -> Optional[datetime]:
    """The due date of the next instance that completing `task` (dict or row) creates, or None."""

# The list query -----------------------------------------------------------------------------

class Query:
    """A validated list query, from the HTTP API's parameters."""

    def __init__(self, params: Optional[Params] = None) -> None: ...
    def to_params(self) -> List[Tuple[str, str]]:
        """The parameters that give this query back (defaults left out)."""
    @property
    def search(self) -> List[str]: ...
    @property
    def status(self) -> Literal["all", "pending", "completed"]: ...
    @property
    def priorities(self) -> List[str]: ...
    @property
    def due_date_start(self) -> Optional[datetime]: ...
    @property
    def due_date_end(self) -> Optional[datetime]: ...
    @property
    def tags(self) -> List[int]: ...
    @property
    def tags_mode(self) -> Literal["any", "all"]: ...
    @property
    def sort_by(self) -> Literal["created_at", "due_datetime", "priority", "title"]: ...
    @property
    def sort_order(self) -> Literal["asc", "desc"]: ...
    @property
    def limit(self) -> int: ...
    @property
    def offset(self) -> int: ...
    def __eq__(self, other: object) -> bool: ...

class Page(Generic[T]):
    """One page: the given objects in order, the number of all matches, limit and offset."""

    @property
    def items(self) -> List[T]: ...
    @property
    def total(self) -> int: ...
    @property
    def limit(self) -> int: ...
    @property
    def offset(self) -> int: ...
    def __len__(self) -> int: ...
    def __iter__(self) -> Iterator[T]: ...
    def to_dict(self) -> Dict[str, Any]:
        """`{"items", "total", "limit", "offset"}`."""

class TaskSet(Generic[T]):
    """Tasks read once (dicts or rows), queried many times."""

    def __init__(self, tasks: Iterable[T]) -> None: ...
    def query(self, params: Optional[Params] = None) -> Page[T]:
        """Searches, filters, sorts and pages the set."""
    def __len__(self) -> int: ...

def query_tasks(tasks: Iterable[T], params: Optional[Params] = None) -> Page[T]:
    """Searches, filters, sorts and pages `tasks` (dicts or rows) as the list endpoint does."""

def parse_query(params: Optional[Params] = None) -> Query:
    """Parses the list endpoint's query parameters."""

def format_datetime(value: Instant) -> str:
    """The instant as the API writes it: RFC 3339 in UTC with `Z`."""

# Events -------------------------------------------------------------------------------------

def build_event(
    event_type: TaskEventType,
    task: Any,
    *,
    previous: Any = None,
    tag_names: Optional[Sequence[str]] = None,
    next_task_id: Optional[int] = None,
    event_id: Union[uuid.UUID, str, None] = None,
    occurred_at: Optional[Instant] = None,
) -> Dict[str, Any]:
    """The wire event (envelope dict) of a task change."""

def decode_event(event: Union[bytes, bytearray, str, Mapping[str, Any]], *, check_schema: bool = True) -> Dict[str, Any]:
    """Checks an incoming event (version, shape, schema); raises EventError with a routing code."""

def event_schema_errors(
    event: Union[bytes, bytearray, str, Mapping[str, Any]], event_type: Optional[EventType] = None
) -> List[str]:
    """The JSON Schema errors of `event` against its own (or `event_type`'s) schema; empty when valid."""

def event_schema(event_type: EventType) -> Dict[str, Any]:
    """The JSON Schema of an event type's envelope."""

def event_topics(event_type: EventType) -> List[str]:
    """The topics an event type is published to."""
