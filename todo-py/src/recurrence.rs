//! Recurrence: the next occurrences of a pattern or RRULE in a time zone (`todo_core::recurrence`).

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyList;
use todo_core::model::{RRuleText, Recurrence, TimeZone, format_instant};
use todo_core::recurrence::{MAX_UPCOMING, Series};

use crate::convert::{instant_arg, opt_instant_arg, timezone_arg, to_datetime};
use crate::errors;
use crate::task::read_task;

/// Above this many occurrences, the computation runs with the GIL released.
const DETACH_AT: usize = 16;

/// A recurring series: a `pattern` (`daily`, `weekly`, `monthly`) or an RFC 5545 `rrule`
/// (without DTSTART), its first due instant `start` (the DTSTART), an IANA `timezone` in which
/// wall-clock times are kept across DST, and an inclusive `end`.
///
/// Instants are aware `datetime` objects (or RFC 3339 strings with offset); a naive datetime
/// raises `ValidationError`. Results are aware datetimes in UTC.
#[pyclass(name = "Series", module = "todo_core", frozen)]
pub struct PySeries(Series);

#[pymethods]
impl PySeries {
    #[new]
    #[pyo3(signature = (*, start, pattern=None, rrule=None, timezone=None, end=None))]
    fn new(
        py: Python<'_>,
        start: &Bound<'_, PyAny>,
        pattern: Option<&str>,
        rrule: Option<&str>,
        timezone: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let recurrence = match (pattern, rrule) {
            (Some(p), None) => Recurrence::parse_pattern(p),
            (None, Some(r)) => RRuleText::parse(r).map(Recurrence::Rule),
            _ => {
                return Err(PyTypeError::new_err(
                    "give exactly one of pattern= and rrule=",
                ));
            }
        }
        .map_err(|e| errors::field(py, e))?;
        let tz = match timezone {
            Some(z) if !z.is_none() => timezone_arg(z)?,
            _ => TimeZone::UTC,
        };
        let start = instant_arg(start, "start")?;
        let end = opt_instant_arg(end, "end")?;
        Series::new(recurrence, tz, start, end)
            .map(PySeries)
            .map_err(|e| errors::field(py, e))
    }

    /// The first occurrence strictly after `after`, or `None` when the series has ended.
    fn next_after<'py>(
        &self,
        py: Python<'py>,
        after: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let after = instant_arg(after, "after")?;
        self.0
            .next_after(after)
            .map(|t| to_datetime(py, t))
            .transpose()
    }

    /// The first `n` occurrences strictly after `after` (at most 1000; fewer when the series ends).
    #[pyo3(signature = (after, n))]
    fn upcoming<'py>(
        &self,
        py: Python<'py>,
        after: &Bound<'py, PyAny>,
        n: usize,
    ) -> PyResult<Bound<'py, PyList>> {
        let after = instant_arg(after, "after")?;
        let times = if n > DETACH_AT {
            py.detach(|| self.0.upcoming(after, n))
        } else {
            self.0.upcoming(after, n)
        };
        let list = PyList::empty(py);
        for t in times {
            list.append(to_datetime(py, t)?)?;
        }
        Ok(list)
    }

    /// For each instant of `afters`, the first occurrence strictly after it (or `None`); with
    /// the GIL released while computing.
    fn next_after_each<'py>(
        &self,
        py: Python<'py>,
        afters: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let mut input = Vec::new();
        for a in afters.try_iter()? {
            input.push(instant_arg(&a?, "after")?);
        }
        let out: Vec<_> = py.detach(|| input.iter().map(|a| self.0.next_after(*a)).collect());
        let list = PyList::empty(py);
        for t in out {
            match t {
                Some(t) => list.append(to_datetime(py, t)?)?,
                None => list.append(py.None())?,
            }
        }
        Ok(list)
    }

    /// The first due instant (DTSTART), in UTC.
    #[getter]
    fn start<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_datetime(py, self.0.start())
    }

    /// The inclusive end, if any.
    #[getter]
    fn end<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.0.end().map(|t| to_datetime(py, t)).transpose()
    }

    /// The IANA zone name.
    #[getter]
    fn timezone(&self) -> &'static str {
        self.0.timezone().name()
    }

    /// `daily`, `weekly`, `monthly`, or `none` for an RRULE (as the API shows it).
    #[getter]
    fn pattern(&self) -> &'static str {
        self.0.recurrence().pattern_str()
    }

    /// The RRULE, if the series has one.
    #[getter]
    fn rrule(&self) -> Option<String> {
        self.0.recurrence().rrule().map(|r| r.as_str().to_owned())
    }

    fn __repr__(&self) -> String {
        let what = match self.0.recurrence().rrule() {
            Some(r) => format!("rrule={:?}", r.as_str()),
            None => format!("pattern={:?}", self.0.recurrence().pattern_str()),
        };
        let end = self
            .0
            .end()
            .map_or_else(|| "None".to_owned(), |e| format!("{:?}", format_instant(e)));
        format!(
            "Series({what}, start={:?}, timezone={:?}, end={end})",
            format_instant(self.0.start()),
            self.0.timezone().name()
        )
    }
}

/// The first `n` occurrences strictly after `after` of a series (see `Series`): at most 1000,
/// fewer when the series ends. A shortcut for `Series(...).upcoming(after, n)`.
#[pyfunction]
#[pyo3(signature = (*, start, after, n=1, pattern=None, rrule=None, timezone=None, end=None))]
#[allow(clippy::too_many_arguments)]
pub fn next_occurrences<'py>(
    py: Python<'py>,
    start: &Bound<'py, PyAny>,
    after: &Bound<'py, PyAny>,
    n: usize,
    pattern: Option<&str>,
    rrule: Option<&str>,
    timezone: Option<&Bound<'py, PyAny>>,
    end: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    if n > MAX_UPCOMING {
        return Err(PyValueError::new_err(format!(
            "n must be at most {MAX_UPCOMING}"
        )));
    }
    PySeries::new(py, start, pattern, rrule, timezone, end)?.upcoming(py, after, n)
}

/// The due date of the next instance that completing `task` creates, or `None` (the task does
/// not repeat, or its series has ended): the first occurrence of the task's series (from its
/// `series_start`, in its `timezone`, up to `recurrence_end_date`) after its `due_datetime`.
///
/// `task` is a dict or an object with the task's attributes (a SQLModel row), in the shape of
/// the API's task (`id`, `user_id`, `title`, `due_datetime`, `recurrence_pattern`, `rrule`,
/// `series_start`, `timezone`, `created_at`, `updated_at`, ...).
#[pyfunction]
pub fn next_due<'py>(
    py: Python<'py>,
    task: &Bound<'py, PyAny>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let task = read_task(task, "task")?;
    let Some(due) = task.due_datetime else {
        return Ok(None);
    };
    let series = Series::for_task(&task).map_err(|e| errors::field(py, e))?;
    series
        .and_then(|s| s.next_after(due))
        .map(|t| to_datetime(py, t))
        .transpose()
}
