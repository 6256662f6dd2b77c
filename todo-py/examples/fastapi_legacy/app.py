"""A task service in the legacy style (FastAPI + SQLModel on SQLite) that delegates its rules to
the Rust core through `todo_core`: request validation, the list query (search, filters, sort,
pages) and the completion of recurring tasks, with the completion's event in an outbox.

Run it with ``uvicorn examples.fastapi_legacy.app:default_app --factory`` (from todo-py/;
SQLite file ./legacy.db).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional

from fastapi import Body, Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse
from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.engine import Dialect, Engine
from sqlmodel import Field, Session, SQLModel, col, create_engine, select

import todo_core


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware (UTC) datetimes out; SQLite itself keeps no offset."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect: Dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Optional[datetime], dialect: Dialect) -> Optional[datetime]:
        return value.replace(tzinfo=timezone.utc) if value is not None else None


class Task(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: str = Field(index=True)
    title: str
    description: Optional[str] = None
    completed: bool = False
    completed_at: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    due_datetime: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    priority: str = "Medium"
    recurrence_pattern: str = "none"
    rrule: Optional[str] = None
    recurrence_end_date: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    series_start: Optional[datetime] = Field(default=None, sa_type=UTCDateTime)
    timezone: str = "UTC"
    parent_task_id: Optional[int] = None
    next_task_id: Optional[int] = Field(default=None, unique=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class OutboxEvent(SQLModel, table=True):
    """Events waiting to be published (the legacy Kafka producer reads this table)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    event_type: str
    body: str


def instant(text: Optional[str]) -> Optional[datetime]:
    """The core's RFC 3339 `...Z` text as an aware datetime (fromisoformat reads `Z` only from 3.11)."""
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def task_json(t: Task) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for name, value in t.model_dump().items():
        out[name] = todo_core.format_datetime(value) if isinstance(value, datetime) else value
    return out


def now() -> datetime:
    return datetime.now(timezone.utc)


def create_app(engine: Engine) -> FastAPI:
    SQLModel.metadata.create_all(engine)
    app = FastAPI(title="todo (legacy stack on the Rust core)")

    def session() -> Any:
        with Session(engine) as s:
            yield s

    @app.exception_handler(todo_core.ValidationError)
    def validation_failed(request: Request, exc: todo_core.ValidationError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.status)

    @app.post("/api/{user_id}/tasks", status_code=201)
    def create_task(user_id: str, body: Any = Body(...), s: Session = Depends(session)) -> Dict[str, Any]:
        draft = todo_core.validate_task_create(body)
        due = instant(draft["due_datetime"])
        recurring = draft["recurrence_pattern"] != "none" or draft["rrule"] is not None
        at = now()
        task = Task(
            user_id=user_id,
            title=draft["title"],
            description=draft["description"],
            due_datetime=due,
            priority=draft["priority"],
            recurrence_pattern=draft["recurrence_pattern"],
            rrule=draft["rrule"],
            recurrence_end_date=instant(draft["recurrence_end_date"]),
            series_start=due if recurring else None,
            timezone=draft["timezone"],
            created_at=at,
            updated_at=at,
        )
        s.add(task)
        s.flush()
        s.add(OutboxEvent(event_type="task-created", body=json.dumps(todo_core.build_event("task-created", task, occurred_at=at))))
        s.commit()
        s.refresh(task)
        return task_json(task)

    @app.get("/api/{user_id}/tasks")
    def list_tasks(user_id: str, request: Request, s: Session = Depends(session)) -> Dict[str, Any]:
        rows = s.exec(select(Task).where(Task.user_id == user_id)).all()
        page = todo_core.query_tasks(rows, request.query_params)
        return {"tasks": [task_json(t) for t in page.items], "total": page.total, "limit": page.limit, "offset": page.offset}

    @app.patch("/api/{user_id}/tasks/{task_id}/complete")
    def complete_task(user_id: str, task_id: int, s: Session = Depends(session)) -> Dict[str, Any]:
        task = s.get(Task, task_id)
        if task is None or task.user_id != user_id:
            raise HTTPException(status_code=404, detail="task not found")
        if task.completed:
            return task_json(task)
        at = now()
        task.completed, task.completed_at, task.updated_at = True, at, at
        next_task: Optional[Task] = None
        # The core says when the next instance is due; a task creates at most one (next_task_id).
        next_due = todo_core.next_due(task) if task.next_task_id is None else None
        if next_due is not None:
            next_task = Task(
                **task.model_dump(exclude={"id", "completed", "completed_at", "due_datetime", "next_task_id", "parent_task_id", "created_at", "updated_at"}),
                due_datetime=next_due,
                parent_task_id=task.id,
                created_at=at,
                updated_at=at,
            )
            s.add(next_task)
            s.flush()
            task.next_task_id = next_task.id
        s.add(task)
        event = todo_core.build_event("task-completed", task, next_task_id=task.next_task_id if next_task else None, occurred_at=at)
        s.add(OutboxEvent(event_type="task-completed", body=json.dumps(event)))
        if next_task is not None:
            s.add(OutboxEvent(event_type="task-created", body=json.dumps(todo_core.build_event("task-created", next_task, occurred_at=at))))
        s.commit()
        s.refresh(task)
        return task_json(task)

    @app.get("/api/outbox")
    def outbox(s: Session = Depends(session)) -> List[Dict[str, Any]]:
        return [json.loads(e.body) for e in s.exec(select(OutboxEvent).order_by(col(OutboxEvent.id))).all()]

    return app


def default_app() -> FastAPI:
    """The app on the SQLite file ./legacy.db."""
    return create_app(create_engine("sqlite:///legacy.db"))
