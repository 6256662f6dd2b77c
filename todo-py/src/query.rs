//! The list query: `TaskQuery::from_pairs` (the HTTP API's parameters) and the engine's `apply`
//! (search, filter, sort, page) over task dicts or row objects.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyDict, PyInt, PyList, PyString, PyTuple};
use todo_core::model::format_instant;
use todo_core::query::row::{Raw, RawInstant};
use todo_core::query::{Fields, Page, QueryRow, RowInput, TaskQuery, apply};

use crate::convert::{instant_of, to_datetime};
use crate::errors::{self, BAD_REQUEST};

/// From this many tasks on, the engine runs with the GIL released.
const DETACH_AT: usize = 256;

/// One task as the core's row reader made it, with the object's position.
type Row = QueryRow<usize>;

/// What a Python value is, for the message of a value of the wrong type.
fn found(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".to_owned())
}

/// A raw field from `v` (`None`: missing) read by `f` (`None`: another type).
fn raw<'py, T>(
    v: Option<Bound<'py, PyAny>>,
    f: impl FnOnce(&Bound<'py, PyAny>) -> PyResult<Option<T>>,
) -> PyResult<Raw<T>> {
    let Some(v) = v else {
        return Ok(Raw::Missing);
    };
    Ok(match f(&v)? {
        Some(x) => Raw::Value(x),
        None => Raw::WrongType(found(&v)),
    })
}

/// An `int` (not a `bool`) that fits in 64 bits.
fn int(v: &Bound<'_, PyAny>) -> PyResult<Option<i64>> {
    if v.cast::<PyInt>().is_err() || v.is_instance_of::<PyBool>() {
        return Ok(None);
    }
    Ok(v.extract::<i64>().ok())
}

/// A `str` (or a subclass, such as a `str` enum).
fn text(v: &Bound<'_, PyAny>) -> PyResult<Option<String>> {
    match v.cast::<PyString>() {
        Ok(s) => Ok(Some(s.to_cow()?.into_owned())),
        Err(_) => Ok(None),
    }
}

fn boolean(v: &Bound<'_, PyAny>) -> PyResult<Option<bool>> {
    Ok(v.cast::<PyBool>().ok().map(|b| b.is_true()))
}

/// An aware `datetime` or a `str`; a naive `datetime` is reported as such.
fn instant(v: &Bound<'_, PyAny>) -> PyResult<Raw<RawInstant>> {
    if let Ok(dt) = v.cast::<PyDateTime>() {
        return Ok(match instant_of(dt)? {
            Some(t) => Raw::Value(RawInstant::At(t)),
            None => Raw::WrongType("a naive datetime (without tzinfo)".to_owned()),
        });
    }
    Ok(match text(v)? {
        Some(s) => Raw::Value(RawInstant::Text(s)),
        None => Raw::WrongType(found(v)),
    })
}

/// Reads one row: `tasks[i]` as a dict (keys) or any other object (attributes).
struct RowReader<'a, 'py> {
    obj: &'a Bound<'py, PyAny>,
    dict: Option<&'a Bound<'py, PyDict>>,
}

impl<'py> RowReader<'_, 'py> {
    /// The value of `key`; `None` when it is absent or `None`.
    fn get(&self, key: &Bound<'py, PyString>) -> PyResult<Option<Bound<'py, PyAny>>> {
        get_in(self.obj, self.dict, key)
    }

    fn instant(&self, key: &Bound<'py, PyString>) -> PyResult<Raw<RawInstant>> {
        match self.get(key)? {
            Some(v) => instant(&v),
            None => Ok(Raw::Missing),
        }
    }

    /// A list of ids: `int`s, or with `key`, dicts or objects whose `key` is an `int`. Any
    /// iterable but a `str` is a list.
    fn ids(
        &self,
        v: Option<Bound<'py, PyAny>>,
        key: Option<&Bound<'py, PyString>>,
    ) -> PyResult<Raw<Vec<i64>>> {
        let Some(v) = v else {
            return Ok(Raw::Missing);
        };
        let wrong = || Ok(Raw::WrongType(found(&v)));
        if v.is_instance_of::<PyString>() {
            return wrong();
        }
        let Ok(items) = v.try_iter() else {
            return wrong();
        };
        let mut out = Vec::new();
        for item in items {
            let item = item?;
            let id = match key {
                None => Some(item),
                Some(k) => get_in(&item, item.cast::<PyDict>().ok(), k)?,
            };
            match id.as_ref().map(int).transpose()?.flatten() {
                Some(n) => out.push(n),
                None => return wrong(),
            }
        }
        Ok(Raw::Value(out))
    }

    /// The fields in `fields` (and the id) as the core's row reader takes them.
    fn input(&self, fields: Fields) -> PyResult<RowInput> {
        let py = self.obj.py();
        let mut r = RowInput {
            id: raw(self.get(intern!(py, "id"))?, int)?,
            ..RowInput::default()
        };
        if fields.text {
            r.title = raw(self.get(intern!(py, "title"))?, text)?;
            r.description = raw(self.get(intern!(py, "description"))?, text)?;
        }
        if fields.completed {
            r.completed = raw(self.get(intern!(py, "completed"))?, boolean)?;
        }
        if fields.due {
            r.due_datetime = self.instant(intern!(py, "due_datetime"))?;
        }
        if fields.priority {
            r.priority = raw(self.get(intern!(py, "priority"))?, text)?;
        }
        if fields.tags {
            r.tag_ids = self.ids(self.get(intern!(py, "tag_ids"))?, None)?;
            if r.tag_ids == Raw::Missing {
                // The API's `tags` (dicts, or tag rows with an `id`), read only without `tag_ids`.
                r.tags = self.ids(self.get(intern!(py, "tags"))?, Some(intern!(py, "id")))?;
            }
        }
        if fields.created {
            r.created_at = self.instant(intern!(py, "created_at"))?;
        }
        Ok(r)
    }
}

/// `key` of a dict, or the attribute of any other object; `None` when absent or `None`.
fn get_in<'py>(
    obj: &Bound<'py, PyAny>,
    dict: Option<&Bound<'py, PyDict>>,
    key: &Bound<'py, PyString>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let v = match dict {
        Some(d) => d.get_item(key)?,
        None => obj.getattr_opt(key)?,
    };
    Ok(v.filter(|v| !v.is_none()))
}

/// Reads the rows out of `tasks` (any iterable) with the core's row reader, only the fields in
/// `fields`, and keeps the objects for the result page.
fn read_rows(tasks: &Bound<'_, PyAny>, fields: Fields) -> PyResult<(Vec<Row>, Vec<Py<PyAny>>)> {
    let py = tasks.py();
    let mut rows = Vec::new();
    let mut objects = Vec::new();
    for (position, obj) in tasks.try_iter()?.enumerate() {
        let obj = obj?;
        let dict = obj.cast::<PyDict>().ok();
        let input = RowReader { obj: &obj, dict }.input(fields)?;
        let row = input
            .read(position, fields, position)
            .map_err(|e| errors::validation(py, &e, BAD_REQUEST))?;
        rows.push(row);
        objects.push(obj.unbind());
    }
    Ok((rows, objects))
}

/// Runs the engine over `rows`, releasing the GIL for large inputs; the page holds positions.
fn run(py: Python<'_>, q: &TaskQuery, rows: &[Row]) -> Page<usize> {
    let go = || apply(q, rows).map(|r| r.extra);
    if rows.len() >= DETACH_AT {
        py.detach(go)
    } else {
        go()
    }
}

fn page_of(py: Python<'_>, page: Page<usize>, objects: &[Py<PyAny>]) -> PyResult<PyPage> {
    let items = PyList::empty(py);
    for i in page.items {
        if let Some(o) = objects.get(i) {
            items.append(o.bind(py))?;
        }
    }
    Ok(PyPage {
        items: items.unbind(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
}

/// One parameter value as the text the HTTP API would receive.
fn param_text(v: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_cow()?.into_owned());
    }
    if v.cast::<PyInt>().is_ok() && !v.is_instance_of::<PyBool>() {
        return Ok(v.extract::<i64>()?.to_string());
    }
    Err(errors::type_error(
        "a query parameter value must be a str or an int",
        v,
    ))
}

/// The query parameters of `params` as `(name, value)` pairs, in order.
fn param_pairs(params: &Bound<'_, PyAny>) -> PyResult<Vec<(String, String)>> {
    let py = params.py();
    let mut out = Vec::new();
    // Starlette's QueryParams: `multi_items()` keeps repeated parameters.
    if params.hasattr(intern!(py, "multi_items"))? {
        for item in params
            .call_method0(intern!(py, "multi_items"))?
            .try_iter()?
        {
            let (k, v): (String, Bound<'_, PyAny>) = item?.extract()?;
            out.push((k, param_text(&v)?));
        }
        return Ok(out);
    }
    let items = if params.hasattr(intern!(py, "items"))? {
        params.call_method0(intern!(py, "items"))?
    } else {
        params.clone()
    };
    for item in items.try_iter()? {
        let item = item?;
        let pair = item
            .cast::<PyTuple>()
            .map_err(|_| errors::type_error("expected (name, value) pairs", &item))?;
        let (k, v): (String, Bound<'_, PyAny>) = pair.extract()?;
        if v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok() {
            for one in v.try_iter()? {
                out.push((k.clone(), param_text(&one?)?));
            }
        } else {
            out.push((k, param_text(&v)?));
        }
    }
    Ok(out)
}

/// A query from `None` (defaults), a `Query`, a mapping of parameters or `(name, value)` pairs.
fn query_arg(py: Python<'_>, params: Option<&Bound<'_, PyAny>>) -> PyResult<TaskQuery> {
    match params {
        None => Ok(TaskQuery::default()),
        Some(p) if p.is_none() => Ok(TaskQuery::default()),
        Some(p) => {
            if let Ok(q) = p.cast::<PyQuery>() {
                return Ok(q.get().0.clone());
            }
            let pairs = param_pairs(p)?;
            TaskQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .map_err(|e| errors::validation(py, &e, BAD_REQUEST))
        }
    }
}

/// A validated list query, parsed from the HTTP API's parameters (`search`, `status`,
/// `priority`, `due_date_start`, `due_date_end`, `tags`, `tags_mode`, `sort_by`, `sort_order`,
/// `limit`, `offset`).
///
/// `params` is a mapping (a value may be a list: the parameter repeated), a sequence of
/// `(name, value)` pairs, or Starlette's `request.query_params`. Bad parameters raise
/// `ValidationError` with one detail per problem, as the server's 400 body.
#[pyclass(name = "Query", module = "todo_core", frozen, eq)]
#[derive(PartialEq)]
pub struct PyQuery(TaskQuery);

#[pymethods]
impl PyQuery {
    #[new]
    #[pyo3(signature = (params=None))]
    fn new(py: Python<'_>, params: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        query_arg(py, params).map(PyQuery)
    }

    /// The parameters that give this query back (defaults left out), as `(name, value)` pairs.
    fn to_params(&self) -> Vec<(String, String)> {
        self.0.to_pairs()
    }

    /// The lowercased search words (empty: no search).
    #[getter]
    fn search(&self) -> Vec<String> {
        self.0.search.clone()
    }

    /// `all`, `pending` or `completed`.
    #[getter]
    fn status(&self) -> &'static str {
        self.0.status.as_str()
    }

    /// The allowed priorities (empty: any).
    #[getter]
    fn priorities(&self) -> Vec<&'static str> {
        self.0.priorities.iter().map(|p| p.as_str()).collect()
    }

    /// Inclusive lower bound on the due date.
    #[getter]
    fn due_date_start<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.due_start.map(|t| to_datetime(py, t)).transpose()
    }

    /// Inclusive upper bound on the due date.
    #[getter]
    fn due_date_end<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.due_end.map(|t| to_datetime(py, t)).transpose()
    }

    /// The tag ids of the tag filter, ascending (empty: no tag filter).
    #[getter]
    fn tags(&self) -> Vec<i64> {
        self.0
            .tags
            .as_ref()
            .map(|t| t.ids().iter().map(|id| id.get()).collect())
            .unwrap_or_default()
    }

    /// `any` or `all`.
    #[getter]
    fn tags_mode(&self) -> &'static str {
        self.0.tags.as_ref().map_or("any", |t| t.mode().as_str())
    }

    /// `created_at`, `due_datetime`, `priority` or `title`.
    #[getter]
    fn sort_by(&self) -> &'static str {
        self.0.sort_by.as_str()
    }

    /// `asc` or `desc`.
    #[getter]
    fn sort_order(&self) -> &'static str {
        self.0.sort_order.as_str()
    }

    /// Page size (1-100).
    #[getter]
    fn limit(&self) -> u32 {
        self.0.limit.get()
    }

    /// Items skipped before the page.
    #[getter]
    fn offset(&self) -> u64 {
        self.0.offset
    }

    fn __repr__(&self) -> String {
        let parts: Vec<String> = self
            .0
            .to_pairs()
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("Query({})", parts.join(", "))
    }
}

/// One page of a list query: `items` (the given objects, in order), `total` (all matches),
/// `limit` and `offset` — the HTTP API's `{tasks, total, limit, offset}`.
#[pyclass(name = "Page", module = "todo_core", frozen, get_all)]
pub struct PyPage {
    /// The tasks of this page, the same objects that were passed in.
    items: Py<PyList>,
    /// How many tasks match in all.
    total: u64,
    /// The page size asked for.
    limit: u32,
    /// The offset asked for.
    offset: u64,
}

#[pymethods]
impl PyPage {
    fn __len__(&self, py: Python<'_>) -> usize {
        self.items.bind(py).len()
    }

    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        Ok(self.items.bind(py).try_iter()?.into_any())
    }

    /// `{"items": [...], "total", "limit", "offset"}`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("items", self.items.bind(py).get_slice(0, usize::MAX))?;
        d.set_item("total", self.total)?;
        d.set_item("limit", self.limit)?;
        d.set_item("offset", self.offset)?;
        Ok(d)
    }

    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "Page(items=<{} tasks>, total={}, limit={}, offset={})",
            self.items.bind(py).len(),
            self.total,
            self.limit,
            self.offset
        )
    }
}

/// Tasks read once for many queries: the rows are read out of the objects (every field, by the
/// core's row reader, which also keeps each task's search text) when the set is built, so each
/// `query` runs the engine only (with the GIL released for large sets).
#[pyclass(name = "TaskSet", module = "todo_core", frozen)]
pub struct PyTaskSet {
    rows: Vec<Row>,
    objects: Vec<Py<PyAny>>,
}

#[pymethods]
impl PyTaskSet {
    #[new]
    fn new(tasks: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (rows, objects) = read_rows(tasks, Fields::ALL)?;
        Ok(PyTaskSet { rows, objects })
    }

    /// Searches, filters, sorts and pages the set (see `query_tasks`).
    #[pyo3(signature = (params=None))]
    fn query(&self, py: Python<'_>, params: Option<&Bound<'_, PyAny>>) -> PyResult<PyPage> {
        let q = query_arg(py, params)?;
        let page = run(py, &q, &self.rows);
        page_of(py, page, &self.objects)
    }

    fn __len__(&self) -> usize {
        self.rows.len()
    }

    fn __repr__(&self) -> String {
        format!("TaskSet(<{} tasks>)", self.rows.len())
    }
}

/// Searches, filters, sorts and pages `tasks` exactly as the server's list endpoint does.
///
/// `tasks` is an iterable of dicts or objects with attributes (SQLModel rows) with `id` (int),
/// `title` (str), `created_at` and optionally `description`, `completed`, `due_datetime`,
/// `priority` (`High|Medium|Low`), `tag_ids` (or the API's `tags`: dicts or rows with an `id`);
/// instants are aware datetimes or RFC 3339 strings. The rows are read by the core's row reader
/// (`todo_core::query::row`), with the rules of a stored task (title trimmed, 1-200 characters;
/// ids >= 1; duplicate tag ids are one tag), exactly as the WASM module reads its rows. Only the
/// fields the query searches, filters or sorts on (and `id`) are read and checked.
/// `params` is a `Query`, a mapping of the HTTP API's query parameters, `(name, value)` pairs,
/// Starlette's `request.query_params`, or `None` for the defaults. Returns a `Page` whose
/// `items` are the given objects. Raises `ValidationError` for bad parameters or rows.
#[pyfunction]
#[pyo3(signature = (tasks, params=None))]
pub fn query_tasks(
    py: Python<'_>,
    tasks: &Bound<'_, PyAny>,
    params: Option<&Bound<'_, PyAny>>,
) -> PyResult<PyPage> {
    let q = query_arg(py, params)?;
    let (rows, objects) = read_rows(tasks, Fields::of(&q))?;
    let page = run(py, &q, &rows);
    page_of(py, page, &objects)
}

/// Parses the list endpoint's query parameters into a `Query` (see `Query`).
#[pyfunction]
#[pyo3(signature = (params=None))]
pub fn parse_query(py: Python<'_>, params: Option<&Bound<'_, PyAny>>) -> PyResult<PyQuery> {
    query_arg(py, params).map(PyQuery)
}

/// The instant as the API writes it (RFC 3339, UTC, `Z`), for callers that build parameters.
#[pyfunction]
pub fn format_datetime(value: &Bound<'_, PyAny>) -> PyResult<String> {
    crate::convert::instant_arg(value, "value").map(format_instant)
}
