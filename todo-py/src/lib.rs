//! Python bindings of the todo core: the extension module `todo_core._todo_core`, wrapped by
//! the Python package `todo_core` (see `python/todo_core/`).
//!
//! Every rule lives in `todo-core` and `todo-events`; this crate only converts between Python
//! objects and the core's types and maps the core's errors to Python exceptions
//! (the `errors` module). It is built with maturin (`pyproject.toml`); `cargo build` alone makes a
//! library that is not importable.

mod convert;
mod errors;
mod events;
mod query;
mod recurrence;
mod task;
mod validate;

use pyo3::prelude::*;

/// The native part of `todo_core`; import `todo_core` instead.
#[pymodule]
#[pyo3(name = "_todo_core")]
fn todo_core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(validate::validate, m)?)?;
    m.add_function(wrap_pyfunction!(validate::validate_task_create, m)?)?;
    m.add_function(wrap_pyfunction!(validate::validate_task_update, m)?)?;
    m.add_function(wrap_pyfunction!(validate::validate_tag_create, m)?)?;
    m.add_function(wrap_pyfunction!(validate::validate_tag_update, m)?)?;
    m.add_function(wrap_pyfunction!(validate::validate_reminder, m)?)?;
    m.add_class::<recurrence::PySeries>()?;
    m.add_function(wrap_pyfunction!(recurrence::next_occurrences, m)?)?;
    m.add_function(wrap_pyfunction!(recurrence::next_due, m)?)?;
    m.add_class::<query::PyQuery>()?;
    m.add_class::<query::PyPage>()?;
    m.add_class::<query::PyTaskSet>()?;
    m.add_function(wrap_pyfunction!(query::query_tasks, m)?)?;
    m.add_function(wrap_pyfunction!(query::parse_query, m)?)?;
    m.add_function(wrap_pyfunction!(query::format_datetime, m)?)?;
    m.add_function(wrap_pyfunction!(events::build_event, m)?)?;
    m.add_function(wrap_pyfunction!(events::decode_event, m)?)?;
    m.add_function(wrap_pyfunction!(events::event_schema, m)?)?;
    m.add_function(wrap_pyfunction!(events::event_schema_errors, m)?)?;
    m.add_function(wrap_pyfunction!(events::event_topics, m)?)?;
    Ok(())
}
