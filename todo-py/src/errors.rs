//! The one place where failures of the core become Python exceptions.
//!
//! The exception classes are defined in Python (`todo_core/_exceptions.py`) so that they can be
//! both a `TodoError` and a `ValueError`, carry the HTTP error body's fields as attributes, and be
//! pickled; this module looks them up once and raises them.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyType};
use todo_core::{ErrorCode, FieldError, ValidationErrors};

const EXCEPTIONS: &str = "todo_core._exceptions";

static VALIDATION_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static EVENT_ERROR: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// HTTP status of input that breaks a rule of its own (the server's `Error::Validation`).
pub const BAD_REQUEST: u16 = 400;
/// HTTP status of input of the wrong shape: not an object, unknown field, wrong JSON type.
pub const UNPROCESSABLE: u16 = 422;

/// `todo_core.ValidationError` for the core's field errors, with the HTTP status the server
/// would answer them with.
pub fn validation(py: Python<'_>, errors: &ValidationErrors, status: u16) -> PyErr {
    match build_validation(py, errors.errors(), status) {
        Ok(e) => e,
        Err(e) => e,
    }
}

/// `todo_core.ValidationError` for one field error (status 400).
pub fn field(py: Python<'_>, error: FieldError) -> PyErr {
    validation(py, &ValidationErrors::from(error), BAD_REQUEST)
}

/// A field error built here: for values the bindings cannot hand to the core at all (a naive
/// `datetime`, a task row without an id).
pub fn field_error(
    py: Python<'_>,
    name: &str,
    code: ErrorCode,
    message: impl Into<String>,
) -> PyErr {
    field(py, FieldError::new(name, code, message))
}

fn build_validation(py: Python<'_>, errors: &[FieldError], status: u16) -> PyResult<PyErr> {
    let class = VALIDATION_ERROR.import(py, EXCEPTIONS, "ValidationError")?;
    let details = PyList::empty(py);
    for e in errors {
        let d = PyDict::new(py);
        d.set_item("field", &e.field)?;
        d.set_item("code", e.code.as_str())?;
        d.set_item("message", &e.message)?;
        details.append(d)?;
    }
    let instance = class.call1((details, status))?;
    Ok(PyErr::from_value(instance))
}

/// `todo_core.EventError` for an event that `todo-events` rejects, with its routing code
/// (`MALFORMED`, `UNSUPPORTED_VERSION`, ...).
pub fn event(py: Python<'_>, error: &todo_events::Error) -> PyErr {
    event_with_code(py, error.code(), &error.to_string())
}

/// `todo_core.EventError` with an explicit code.
pub fn event_with_code(py: Python<'_>, code: &str, message: &str) -> PyErr {
    let built = EVENT_ERROR
        .import(py, EXCEPTIONS, "EventError")
        .and_then(|class| class.call1((code, message)));
    match built {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// A `TypeError` for a Python value of a type the bindings do not take.
pub fn type_error(what: &str, got: &Bound<'_, PyAny>) -> PyErr {
    let ty = got
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned());
    PyTypeError::new_err(format!("{what}, got {ty}"))
}
