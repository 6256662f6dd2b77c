//! Event envelopes (`todo-events`): building the wire event of a task change, and checking an
//! incoming event (version rules, shape, JSON Schema).

use std::sync::OnceLock;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyList, PyString};
use serde_json::Value;
use todo_core::events::{DomainEvent, EventPayload, TaskSnapshot};
use todo_core::ids::{EventId, TaskId};
use todo_core::service::task_diff;
use todo_events::{EventEnvelope, EventType};

use crate::convert::{from_json, now, opt_instant_arg, to_json};
use crate::errors;
use crate::task::read_task;

/// The event types `build_event` makes from a task change.
const TASK_EVENTS: [EventType; 4] = [
    EventType::TaskCreated,
    EventType::TaskUpdated,
    EventType::TaskCompleted,
    EventType::TaskDeleted,
];

fn event_type_arg(py: Python<'_>, name: &str) -> PyResult<EventType> {
    EventType::parse(name).map_err(|e| errors::event(py, &e))
}

/// A UUID given as `uuid.UUID` or str, or a fresh random one (Python's `uuid4`) for `None`.
fn event_id_arg(py: Python<'_>, id: Option<&Bound<'_, PyAny>>) -> PyResult<EventId> {
    let text: String = match id {
        Some(v) if !v.is_none() => v.str()?.to_cow()?.into_owned(),
        _ => py
            .import("uuid")?
            .call_method0("uuid4")?
            .str()?
            .to_cow()?
            .into_owned(),
    };
    uuid::Uuid::parse_str(&text).map(EventId::new).map_err(|_| {
        errors::field_error(
            py,
            "event_id",
            todo_core::ErrorCode::InvalidFormat,
            format!("event_id must be a UUID; got {text:?}"),
        )
    })
}

/// Builds the wire event (the envelope `{"event_type", "event_id", "timestamp", "version",
/// "data"}` as a dict of JSON values) of a task change, exactly as the server publishes it.
///
/// - `event_type`: `task-created`, `task-updated` (needs `previous`, the task before the
///   change; `data` lists the changed fields with old and new values), `task-completed`
///   (`next_task_id`: the next instance of a recurring task, if one was created) or
///   `task-deleted`.
/// - `task`: the task after the change (before it, for `task-deleted`), a dict or an object
///   with the task's attributes; `user_id` is the event's key.
/// - `tag_names`: the names of the task's tags in `tag_ids` order (for the snapshot events).
/// - `event_id` (default: a random UUID), `occurred_at` (aware datetime; default: now).
///
/// Raises `ValidationError` for a task the core rejects and `EventError` when the event would
/// break the contract (e.g. `tag_names` not matching `tag_ids`).
#[pyfunction]
#[pyo3(signature = (event_type, task, *, previous=None, tag_names=None, next_task_id=None, event_id=None, occurred_at=None))]
#[allow(clippy::too_many_arguments)]
pub fn build_event<'py>(
    py: Python<'py>,
    event_type: &str,
    task: &Bound<'py, PyAny>,
    previous: Option<&Bound<'py, PyAny>>,
    tag_names: Option<Vec<String>>,
    next_task_id: Option<i64>,
    event_id: Option<&Bound<'py, PyAny>>,
    occurred_at: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let et = event_type_arg(py, event_type)?;
    if !TASK_EVENTS.contains(&et) {
        return Err(PyValueError::new_err(format!(
            "build_event makes task events (task-created, task-updated, task-completed, \
             task-deleted); got {event_type:?}"
        )));
    }
    let task = read_task(task, "task")?;
    let snapshot = |task| TaskSnapshot {
        task,
        tag_names: tag_names.clone().unwrap_or_default(),
    };
    let user_id = task.user_id.clone();
    let payload = match et {
        EventType::TaskCreated => EventPayload::TaskCreated(snapshot(task)),
        EventType::TaskUpdated => {
            let Some(previous) = previous.filter(|p| !p.is_none()) else {
                return Err(PyValueError::new_err(
                    "task-updated needs previous=, the task before the change",
                ));
            };
            let previous = read_task(previous, "previous")?;
            EventPayload::TaskUpdated(task_diff(&previous, &task))
        }
        EventType::TaskCompleted => EventPayload::TaskCompleted {
            snapshot: snapshot(task),
            next_task_id: next_task_id.map(TaskId::new),
        },
        _ => EventPayload::TaskDeleted {
            snapshot: snapshot(task),
        },
    };
    let occurred_at = match opt_instant_arg(occurred_at, "occurred_at")? {
        Some(t) => t,
        None => now(py)?,
    };
    let event = DomainEvent {
        id: event_id_arg(py, event_id)?,
        occurred_at,
        user_id,
        payload,
    };
    let envelope = EventEnvelope::from_domain(&event).map_err(|e| errors::event(py, &e))?;
    envelope_dict(py, &envelope)
}

fn envelope_dict<'py>(py: Python<'py>, e: &EventEnvelope) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(e)
        .map_err(|err| errors::event_with_code(py, "ENCODE", &err.to_string()))?;
    from_json(py, &value)
}

/// An incoming event as JSON: bytes and str are parsed (not JSON: `NOT_JSON`), anything
/// else is read as a JSON-like value.
fn event_json(py: Python<'_>, event: &Bound<'_, PyAny>) -> PyResult<Value> {
    let text: Option<Vec<u8>> = if let Ok(b) = event.cast::<PyBytes>() {
        Some(b.as_bytes().to_vec())
    } else if let Ok(b) = event.cast::<PyByteArray>() {
        Some(b.to_vec())
    } else if let Ok(s) = event.cast::<PyString>() {
        Some(s.to_cow()?.as_bytes().to_vec())
    } else {
        None
    };
    match text {
        Some(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| errors::event_with_code(py, "NOT_JSON", &e.to_string())),
        None => to_json(event),
    }
}

type Validators = Vec<(EventType, jsonschema::Validator)>;

/// The compiled schemas, built once.
fn validators() -> Result<&'static Validators, String> {
    static CELL: OnceLock<Result<Validators, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        EventType::ALL
            .into_iter()
            .map(|et| {
                let schema: Value = serde_json::from_str(todo_events::schema(et))
                    .map_err(|e| format!("{et}: {e}"))?;
                jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&schema)
                    .map(|v| (et, v))
                    .map_err(|e| format!("{et}: {e}"))
            })
            .collect()
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// The schema errors of `value` against the schema of `event_type`, by default its own
/// `event_type` (empty: valid).
fn schema_errors(py: Python<'_>, value: &Value, event_type: Option<&str>) -> PyResult<Vec<String>> {
    let name = match event_type {
        Some(name) => name,
        None => value
            .get("event_type")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                errors::event_with_code(py, "UNKNOWN_EVENT_TYPE", "the event has no event_type")
            })?,
    };
    let et = event_type_arg(py, name)?;
    let all = validators().map_err(|e| errors::event_with_code(py, "SCHEMA", &e))?;
    let errors = all
        .iter()
        .find(|(t, _)| *t == et)
        .map(|(_, v)| {
            v.iter_errors(value)
                .map(|e| format!("{e} at {}", e.instance_path()))
                .collect()
        })
        .unwrap_or_default();
    Ok(errors)
}

/// Checks an incoming event and returns it as the core reads it (a dict of JSON values, keys
/// the current version does not know dropped for a newer minor version).
///
/// `event` is the message (bytes or str of JSON) or an already parsed dict. In order: it must
/// be JSON (`NOT_JSON`), its `version` `MAJOR.MINOR[.PATCH]` (`INVALID_VERSION`) of major 1
/// (`UNSUPPORTED_VERSION`), its `event_type` known (`UNKNOWN_EVENT_TYPE`), and envelope and
/// `data` of the contract's shape and rules (`MALFORMED`); with `check_schema` (default) it
/// must also validate against the event type's JSON Schema (`MALFORMED`). Raises `EventError`
/// with that code, which says whether to dead-letter the message.
#[pyfunction]
#[pyo3(signature = (event, *, check_schema=true))]
pub fn decode_event<'py>(
    py: Python<'py>,
    event: &Bound<'py, PyAny>,
    check_schema: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let value = event_json(py, event)?;
    let envelope = todo_events::decode_value(value.clone()).map_err(|e| errors::event(py, &e))?;
    if check_schema {
        let problems = schema_errors(py, &value, None)?;
        if !problems.is_empty() {
            return Err(errors::event_with_code(
                py,
                "MALFORMED",
                &format!("the event breaks its JSON Schema: {}", problems.join("; ")),
            ));
        }
    }
    envelope_dict(py, &envelope)
}

/// The JSON Schema errors of `event` (bytes, str or dict) against the schema of
/// `event_type` (default: the event's own `event_type`), with formats checked; an empty list
/// when it is valid. Raises `EventError` when the event is not JSON or the event type is unknown.
#[pyfunction]
#[pyo3(signature = (event, event_type=None))]
pub fn event_schema_errors<'py>(
    py: Python<'py>,
    event: &Bound<'py, PyAny>,
    event_type: Option<&str>,
) -> PyResult<Bound<'py, PyList>> {
    let value = event_json(py, event)?;
    PyList::new(py, schema_errors(py, &value, event_type)?)
}

/// The JSON Schema (draft 2020-12) of an event type's envelope, as a dict.
#[pyfunction]
pub fn event_schema<'py>(py: Python<'py>, event_type: &str) -> PyResult<Bound<'py, PyAny>> {
    let et = event_type_arg(py, event_type)?;
    let value: Value = serde_json::from_str(todo_events::schema(et))
        .map_err(|e| errors::event_with_code(py, "SCHEMA", &e.to_string()))?;
    from_json(py, &value)
}

/// The topics an event type is published to, e.g. `["task-events", "task-updates"]`.
#[pyfunction]
pub fn event_topics(py: Python<'_>, event_type: &str) -> PyResult<Vec<String>> {
    let et = event_type_arg(py, event_type)?;
    Ok(et.topics().iter().map(|t| t.to_string()).collect())
}
