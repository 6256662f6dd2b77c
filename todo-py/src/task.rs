//! Reading a task from Python (a dict, or an object with attributes such as a SQLModel row)
//! into the core's `Task`, through the core's own JSON shape and invariant checks.

use pyo3::prelude::*;
use pyo3::types::{PyDateTime, PyDict};
use serde_json::{Map, Value};
use todo_core::ErrorCode;
use todo_core::model::{Task, format_instant};

use crate::convert::{instant_of, to_json};
use crate::errors;

/// The fields of the task's JSON shape (`todo_core::model::Task`'s serde form).
const TASK_FIELDS: [&str; 18] = [
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "due_datetime",
    "priority",
    "recurrence_pattern",
    "rrule",
    "recurrence_end_date",
    "series_start",
    "timezone",
    "parent_task_id",
    "next_task_id",
    "tag_ids",
    "created_at",
    "updated_at",
];

/// The value of `name` in a dict (its key) or another object (its attribute); `None` when absent.
pub fn field<'py>(obj: &Bound<'py, PyAny>, name: &str) -> PyResult<Option<Bound<'py, PyAny>>> {
    match obj.cast::<PyDict>() {
        Ok(d) => d.get_item(name),
        Err(_) => obj.getattr_opt(name),
    }
}

/// A field value as JSON; datetimes must be aware (a naive one is a `ValidationError` on the field).
fn field_json(v: &Bound<'_, PyAny>, name: &str) -> PyResult<Value> {
    if let Ok(dt) = v.cast::<PyDateTime>() {
        return match instant_of(dt)? {
            Some(t) => Ok(Value::String(format_instant(t))),
            None => Err(errors::field_error(
                v.py(),
                name,
                ErrorCode::InvalidFormat,
                format!("{name} must be a timezone-aware datetime; got a naive datetime"),
            )),
        };
    }
    to_json(v)
}

/// The task that `obj` describes. Keys or attributes other than the task's fields are ignored
/// (a row may carry more columns); absent optional fields take the core's defaults. A value the
/// core rejects is a `ValidationError` naming `what` and the field.
pub fn read_task(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Task> {
    let mut map = Map::new();
    for name in TASK_FIELDS {
        if let Some(v) = field(obj, name)? {
            map.insert(name.to_owned(), field_json(&v, name)?);
        }
    }
    serde_path_to_error::deserialize::<_, Task>(Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            what.to_owned()
        } else {
            format!("{what}.{path}")
        };
        let reason = e.into_inner().to_string();
        errors::field_error(
            obj.py(),
            &field,
            ErrorCode::InvalidValue,
            format!("{field}: {reason}"),
        )
    })
}
