//! Validation of request bodies (task, tag, reminder) through `todo_core::input`.

use chrono::{DateTime, Utc};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde::Serialize;
use serde_json::Value;
use todo_core::input::{
    CreateTagInput, CreateTaskInput, InputBody, InputKind, SetReminderInput, UpdateTagInput,
    UpdateTaskInput, parse_input,
};
use todo_core::{ErrorCode, ValidationErrors};

use crate::convert::{from_json, now, opt_instant_arg, to_json};
use crate::errors::{self, BAD_REQUEST, UNPROCESSABLE};

/// The input kinds by their names in the vectors and the stub.
const KINDS: [(&str, InputKind); 5] = [
    ("task_create", InputKind::TaskCreate),
    ("task_update", InputKind::TaskUpdate),
    ("tag_create", InputKind::TagCreate),
    ("tag_update", InputKind::TagUpdate),
    ("reminder", InputKind::Reminder),
];

/// Reads the body like the server does: a shape error (not an object, unknown field, wrong
/// JSON type) is a 422, as `todo_core::input::parse_body` makes it.
fn read<T: InputBody>(py: Python<'_>, value: &Value) -> PyResult<T> {
    parse_input::<T>(value).map_err(|e| errors::validation(py, &e, UNPROCESSABLE))
}

/// A rule broken by a value: a 400.
fn checked<T: Serialize>(py: Python<'_>, r: Result<T, ValidationErrors>) -> PyResult<Value> {
    let draft = r.map_err(|e| errors::validation(py, &e, BAD_REQUEST))?;
    serde_json::to_value(&draft).map_err(|e| {
        errors::field_error(
            py,
            "body",
            ErrorCode::InvalidValue,
            format!("cannot render: {e}"),
        )
    })
}

/// What `todo_core::input::validate_json` does, keeping apart the two statuses it merges.
fn run(py: Python<'_>, kind: InputKind, value: &Value, now: DateTime<Utc>) -> PyResult<Value> {
    match kind {
        InputKind::TaskCreate => checked(py, read::<CreateTaskInput>(py, value)?.validate(now)),
        InputKind::TaskUpdate => checked(py, read::<UpdateTaskInput>(py, value)?.validate()),
        InputKind::TagCreate => checked(py, read::<CreateTagInput>(py, value)?.validate()),
        InputKind::TagUpdate => checked(py, read::<UpdateTagInput>(py, value)?.validate()),
        InputKind::Reminder => checked(py, read::<SetReminderInput>(py, value)?.validate(now)),
    }
}

fn validate_kind<'py>(
    py: Python<'py>,
    kind: InputKind,
    data: &Bound<'py, PyAny>,
    now_arg: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let value = to_json(data)?;
    let now = match opt_instant_arg(now_arg, "now")? {
        Some(t) => t,
        None => now(py)?,
    };
    from_json(py, &run(py, kind, &value, now)?)
}

/// Validates a request body of the given kind and returns it normalized.
///
/// `kind` is one of `task_create`, `task_update`, `tag_create`, `tag_update`, `reminder`.
/// `data` is the body as a dict (aware `datetime` values are accepted for instants). `now`
/// (an aware datetime, default: the current time) is the clock reading for the "not in the
/// past" rules. Returns the normalized body as a dict of JSON values (trimmed title, canonical
/// priority, instants as RFC 3339 UTC strings with `Z`, upper-case color, sorted tag ids).
/// Raises `ValidationError` (a `ValueError`) naming every rejected field and its code.
#[pyfunction]
#[pyo3(signature = (kind, data, *, now=None))]
pub fn validate<'py>(
    py: Python<'py>,
    kind: &str,
    data: &Bound<'py, PyAny>,
    now: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let Some((_, k)) = KINDS.iter().find(|(name, _)| *name == kind) else {
        let names: Vec<&str> = KINDS.iter().map(|(n, _)| *n).collect();
        return Err(PyValueError::new_err(format!(
            "unknown input kind {kind:?}; expected one of: {}",
            names.join(", ")
        )));
    };
    validate_kind(py, *k, data, now)
}

/// Validates the body of "create task" (`title`, `description`, `due_datetime`, `priority`,
/// `recurrence_pattern`, `rrule`, `recurrence_end_date`, `timezone`, `tag_ids`) at time `now`
/// and returns the normalized task draft. Raises `ValidationError`.
#[pyfunction]
#[pyo3(signature = (data, *, now=None))]
pub fn validate_task_create<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    now: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    validate_kind(py, InputKind::TaskCreate, data, now)
}

/// Validates the body of "update task" (every field optional; `None` clears a nullable field)
/// and returns only the given fields, normalized. Raises `ValidationError`.
#[pyfunction]
pub fn validate_task_update<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    validate_kind(py, InputKind::TaskUpdate, data, None)
}

/// Validates the body of "create tag" (`name`, `color`) and returns it normalized.
#[pyfunction]
pub fn validate_tag_create<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    validate_kind(py, InputKind::TagCreate, data, None)
}

/// Validates the body of "update tag" and returns the given fields, normalized.
#[pyfunction]
pub fn validate_tag_update<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    validate_kind(py, InputKind::TagUpdate, data, None)
}

/// Validates the body of "set reminder" (`reminder_time`, `reminder_type`) at time `now`.
#[pyfunction]
#[pyo3(signature = (data, *, now=None))]
pub fn validate_reminder<'py>(
    py: Python<'py>,
    data: &Bound<'py, PyAny>,
    now: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    validate_kind(py, InputKind::Reminder, data, now)
}
