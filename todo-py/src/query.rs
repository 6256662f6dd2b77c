//! The list query: `TaskQuery::from_pairs` (the HTTP API's parameters) and the engine's `apply`
//! (search, filter, sort, page) over task dicts or row objects.

use chrono::{DateTime, Utc};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyList, PyString, PyTuple};
use todo_core::ErrorCode;
use todo_core::ids::{TagId, TaskId};
use todo_core::model::{Priority, format_instant};
use todo_core::query::{Page, QueryRow, SortKey, StatusFilter, TaskQuery, apply};

use crate::convert::{instant_of, to_datetime};
use crate::errors::{self, BAD_REQUEST};

/// From this many tasks on, the engine runs with the GIL released.
const DETACH_AT: usize = 256;

/// What the engine reads of one task, copied out of the Python object, and the object's position.
type Row = QueryRow<usize>;

/// Which fields of the rows a query needs: those it searches, filters or sorts on (the id,
/// which breaks ties, always). A field a query does not mention cannot change its page, so
/// `query_tasks` reads only these; a `TaskSet` reads every field, for any later query.
#[derive(Debug, Clone, Copy)]
struct Needs {
    text: bool,
    completed: bool,
    due: bool,
    priority: bool,
    tags: bool,
    created: bool,
}

impl Needs {
    const ALL: Needs = Needs {
        text: true,
        completed: true,
        due: true,
        priority: true,
        tags: true,
        created: true,
    };

    fn of(q: &TaskQuery) -> Needs {
        Needs {
            text: !q.search.is_empty() || q.sort_by == SortKey::Title,
            completed: q.status != StatusFilter::All,
            due: q.due_start.is_some() || q.due_end.is_some() || q.sort_by == SortKey::DueDatetime,
            priority: !q.priorities.is_empty() || q.sort_by == SortKey::Priority,
            tags: q.tags.is_some(),
            created: q.sort_by == SortKey::CreatedAt,
        }
    }
}

/// Reads one row: `tasks[i]` as a dict (keys) or any other object (attributes).
struct RowReader<'a, 'py> {
    obj: &'a Bound<'py, PyAny>,
    dict: Option<&'a Bound<'py, PyDict>>,
    position: usize,
}

impl<'py> RowReader<'_, 'py> {
    fn get(&self, key: &Bound<'py, PyString>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let v = match self.dict {
            Some(d) => d.get_item(key)?,
            None => self.obj.getattr_opt(key)?,
        };
        Ok(v.filter(|v| !v.is_none()))
    }

    fn get_if(
        &self,
        needed: bool,
        key: &Bound<'py, PyString>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        if needed { self.get(key) } else { Ok(None) }
    }

    fn name(&self, field: &str) -> String {
        format!("tasks[{}].{field}", self.position)
    }

    fn bad(&self, field: &str, code: ErrorCode, message: &str) -> PyErr {
        let name = self.name(field);
        errors::field_error(self.obj.py(), &name, code, format!("{name} {message}"))
    }

    fn required(&self, key: &Bound<'py, PyString>, field: &str) -> PyResult<Bound<'py, PyAny>> {
        self.get(key)?
            .ok_or_else(|| self.bad(field, ErrorCode::Required, "is required"))
    }

    fn string(&self, field: &str, v: &Bound<'py, PyAny>) -> PyResult<String> {
        match v.cast::<PyString>() {
            Ok(s) => Ok(s.to_cow()?.into_owned()),
            Err(_) => Err(self.bad(field, ErrorCode::InvalidFormat, "must be a str")),
        }
    }

    fn instant(&self, field: &str, v: &Bound<'py, PyAny>) -> PyResult<DateTime<Utc>> {
        if let Ok(dt) = v.cast::<pyo3::types::PyDateTime>() {
            return instant_of(dt)?.ok_or_else(|| {
                self.bad(
                    field,
                    ErrorCode::InvalidFormat,
                    "must be a timezone-aware datetime; got a naive datetime",
                )
            });
        }
        if let Ok(s) = v.cast::<PyString>() {
            let name = self.name(field);
            return todo_core::model::parse_instant(&name, &s.to_cow()?)
                .map_err(|e| errors::field(v.py(), e));
        }
        Err(self.bad(
            field,
            ErrorCode::InvalidFormat,
            "must be an aware datetime or an RFC 3339 string",
        ))
    }

    fn read(&self, needs: Needs) -> PyResult<Row> {
        let py = self.obj.py();
        let k_id = intern!(py, "id");
        let k_title = intern!(py, "title");
        let k_description = intern!(py, "description");
        let k_completed = intern!(py, "completed");
        let k_due = intern!(py, "due_datetime");
        let k_priority = intern!(py, "priority");
        let k_tag_ids = intern!(py, "tag_ids");
        let k_created = intern!(py, "created_at");

        let id = self.required(k_id, "id")?;
        let id = match id.cast::<PyInt>() {
            Ok(n) if !id.is_instance_of::<PyBool>() => TaskId::new(n.extract::<i64>()?),
            _ => return Err(self.bad("id", ErrorCode::InvalidFormat, "must be an int")),
        };
        let (title, description) = if needs.text {
            let title = self.string("title", &self.required(k_title, "title")?)?;
            let description = match self.get(k_description)? {
                Some(d) => Some(self.string("description", &d)?),
                None => None,
            };
            (title, description)
        } else {
            (String::new(), None)
        };
        let completed = match self.get_if(needs.completed, k_completed)? {
            Some(c) => match c.cast::<PyBool>() {
                Ok(b) => b.is_true(),
                Err(_) => {
                    return Err(self.bad("completed", ErrorCode::InvalidFormat, "must be a bool"));
                }
            },
            None => false,
        };
        let due = match self.get_if(needs.due, k_due)? {
            Some(d) => Some(self.instant("due_datetime", &d)?),
            None => None,
        };
        let priority = match self.get_if(needs.priority, k_priority)? {
            Some(p) => {
                let s = self.string("priority", &p)?;
                let name = self.name("priority");
                Priority::parse(&name, &s).map_err(|e| errors::field(py, e))?
            }
            None => Priority::default(),
        };
        let tag_ids = match self.get_if(needs.tags, k_tag_ids)? {
            Some(list) => {
                let mut ids = Vec::new();
                for item in list.try_iter()? {
                    let item = item?;
                    match item.extract::<i64>() {
                        Ok(n) if !item.is_instance_of::<PyBool>() => ids.push(TagId::new(n)),
                        _ => {
                            return Err(self.bad(
                                "tag_ids",
                                ErrorCode::InvalidFormat,
                                "must hold ints",
                            ));
                        }
                    }
                }
                ids
            }
            None => Vec::new(),
        };
        let created_at = if needs.created {
            self.instant("created_at", &self.required(k_created, "created_at")?)?
        } else {
            DateTime::<Utc>::UNIX_EPOCH
        };
        Ok(Row {
            extra: self.position,
            id,
            title,
            description,
            completed,
            due,
            priority,
            tag_ids,
            created_at,
        })
    }
}

/// Copies the rows out of `tasks` (any iterable) and keeps the objects for the result page.
fn read_rows(tasks: &Bound<'_, PyAny>, needs: Needs) -> PyResult<(Vec<Row>, Vec<Py<PyAny>>)> {
    let mut rows = Vec::new();
    let mut objects = Vec::new();
    for (position, obj) in tasks.try_iter()?.enumerate() {
        let obj = obj?;
        let dict = obj.cast::<PyDict>().ok();
        let row = RowReader {
            obj: &obj,
            dict,
            position,
        }
        .read(needs)?;
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

/// Tasks read once for many queries: the rows are copied out of the objects when the set is
/// built, so each `query` runs the engine only (with the GIL released for large sets).
#[pyclass(name = "TaskSet", module = "todo_core", frozen)]
pub struct PyTaskSet {
    rows: Vec<Row>,
    objects: Vec<Py<PyAny>>,
}

#[pymethods]
impl PyTaskSet {
    #[new]
    fn new(tasks: &Bound<'_, PyAny>) -> PyResult<Self> {
        let (rows, objects) = read_rows(tasks, Needs::ALL)?;
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
/// `priority` (`High|Medium|Low`), `tag_ids`; instants are aware datetimes or RFC 3339 strings.
/// Only the fields the query searches, filters or sorts on (and `id`) are read and checked.
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
    let (rows, objects) = read_rows(tasks, Needs::of(&q))?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn needs(pairs: &[(&str, &str)]) -> Needs {
        Needs::of(&TaskQuery::from_pairs(pairs.iter().copied()).unwrap())
    }

    /// Lazy reading is only sound if every parameter that looks at a field makes it read.
    #[test]
    fn every_parameter_reads_the_fields_it_looks_at() {
        let none = needs(&[("sort_by", "due_datetime"), ("limit", "5"), ("offset", "1")]);
        assert!(none.due && !none.text && !none.completed && !none.priority && !none.tags);
        assert!(!none.created);
        assert!(needs(&[]).created);
        assert!(needs(&[("search", "x")]).text);
        assert!(needs(&[("sort_by", "title")]).text);
        assert!(needs(&[("status", "pending")]).completed);
        assert!(!needs(&[("status", "all")]).completed);
        assert!(needs(&[("priority", "High")]).priority);
        assert!(needs(&[("sort_by", "priority")]).priority);
        assert!(needs(&[("due_date_start", "2026-01-01T00:00:00Z")]).due);
        assert!(needs(&[("due_date_end", "2026-01-01T00:00:00Z")]).due);
        assert!(needs(&[("tags", "1")]).tags);
    }

    /// A parameter the core learns later must be added to `Needs::of`: this lists the ones it knows.
    #[test]
    fn the_core_has_no_parameter_needs_does_not_know() {
        let known = [
            "search",
            "status",
            "priority",
            "due_date_start",
            "due_date_end",
            "tags",
            "tags_mode",
            "sort_by",
            "sort_order",
            "limit",
            "offset",
        ];
        assert_eq!(todo_core::query::PARAMETERS, known);
    }
}
