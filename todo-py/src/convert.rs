//! Conversions between Python values and the core's types: JSON-like values, instants and zones.

use chrono::{DateTime, Utc};
use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyBool, PyDate, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTimeAccess, PyTuple,
    PyTzInfo, PyTzInfoAccess,
};
use serde_json::{Map, Number, Value};
use todo_core::ErrorCode;
use todo_core::model::{TimeZone, format_instant};

use crate::errors;

/// Deepest nesting of containers a value may have (a guard against cycles).
const MAX_DEPTH: usize = 64;

/// A Python value (dict, list, str, int, float, bool, None, datetime) as JSON. An aware
/// `datetime` becomes its RFC 3339 text in UTC; a naive one its ISO text without offset, which
/// the core then rejects with a field error like any other instant without offset.
pub fn to_json(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    to_json_at(obj, 0)
}

fn to_json_at(obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err("the value nests too deeply"));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(n) = obj.extract::<i64>() {
            return Ok(Value::from(n));
        }
        return obj
            .extract::<u64>()
            .map(Value::from)
            .map_err(|_| PyOverflowError::new_err("an integer does not fit in 64 bits"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err("NaN and infinity are not JSON numbers"));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::with_capacity(d.len());
        for (k, v) in d.iter() {
            let key = k
                .cast::<PyString>()
                .map_err(|_| errors::type_error("dict keys must be str", &k))?
                .to_cow()?
                .into_owned();
            map.insert(key, to_json_at(&v, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() {
        let mut out = Vec::new();
        for item in obj.try_iter()? {
            out.push(to_json_at(&item?, depth + 1)?);
        }
        return Ok(Value::Array(out));
    }
    if let Ok(dt) = obj.cast::<PyDateTime>() {
        return Ok(Value::String(match instant_of(dt)? {
            Some(t) => format_instant(t),
            None => obj
                .call_method0(intern!(obj.py(), "isoformat"))?
                .extract()?,
        }));
    }
    if obj.cast::<PyDate>().is_ok() {
        return Ok(Value::String(
            obj.call_method0(intern!(obj.py(), "isoformat"))?
                .extract()?,
        ));
    }
    // Other mappings (e.g. MappingProxyType) are read through their items.
    if obj.hasattr(intern!(obj.py(), "keys"))? && obj.hasattr(intern!(obj.py(), "items"))? {
        let d = PyDict::new(obj.py());
        for item in obj.call_method0(intern!(obj.py(), "items"))?.try_iter()? {
            let (k, v): (Bound<'_, PyAny>, Bound<'_, PyAny>) = item?.extract()?;
            d.set_item(k, v)?;
        }
        return to_json_at(d.as_any(), depth);
    }
    Err(errors::type_error(
        "expected a JSON-like value (dict, list, str, int, float, bool, None or datetime)",
        obj,
    ))
}

/// A JSON value as a Python object (dict, list, str, int, float, bool or None).
pub fn from_json<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(from_json(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, from_json(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

static UTC: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn python_utc(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    UTC.get_or_try_init(py, || {
        py.import(intern!(py, "datetime"))?
            .getattr(intern!(py, "timezone"))?
            .getattr(intern!(py, "utc"))
            .map(Bound::unbind)
    })
    .map(|utc| utc.bind(py))
}

/// The instant of a `datetime`: `None` when it is naive (no tzinfo, or one that gives no offset).
///
/// Under the stable ABI every field of a `datetime` is an attribute lookup, so this asks Python
/// for as little as it can: `timestamp()` (exact to the second however far from 1970, since a
/// double's error there stays far below half a second) and `microsecond` (exact).
pub fn instant_of(dt: &Bound<'_, PyDateTime>) -> PyResult<Option<DateTime<Utc>>> {
    let py = dt.py();
    let Some(tz) = dt.get_tzinfo() else {
        return Ok(None);
    };
    if !tz.is(python_utc(py)?) && dt.call_method0(intern!(py, "utcoffset"))?.is_none() {
        return Ok(None);
    }
    let timestamp: f64 = dt.call_method0(intern!(py, "timestamp"))?.extract()?;
    let micros = dt.get_microsecond();
    let seconds = (timestamp - f64::from(micros) / 1e6).round();
    // Instants of Python's years 1-9999 are about +-3e11 s: well inside i64 and chrono's range.
    if !(-1e12..=1e12).contains(&seconds) {
        return Err(PyValueError::new_err("the datetime is out of range"));
    }
    #[allow(clippy::cast_possible_truncation)]
    let seconds = seconds as i64;
    DateTime::from_timestamp(seconds, micros * 1000)
        .map(Some)
        .ok_or_else(|| PyValueError::new_err("the datetime is out of range"))
}

/// An aware `datetime` (or an RFC 3339 string with offset) given as argument `field`, as an
/// instant; a naive `datetime` or a string without offset is a `ValidationError` on `field`.
pub fn instant_arg(obj: &Bound<'_, PyAny>, field: &str) -> PyResult<DateTime<Utc>> {
    let py = obj.py();
    if let Ok(dt) = obj.cast::<PyDateTime>() {
        return instant_of(dt)?.ok_or_else(|| {
            errors::field_error(
                py,
                field,
                ErrorCode::InvalidFormat,
                format!(
                    "{field} must be a timezone-aware datetime (tzinfo set, e.g. \
                     datetime.timezone.utc or a ZoneInfo); got a naive datetime"
                ),
            )
        });
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return todo_core::model::parse_instant(field, &s.to_cow()?)
            .map_err(|e| errors::field(py, e));
    }
    Err(errors::type_error(
        &format!("{field} must be an aware datetime or an RFC 3339 string"),
        obj,
    ))
}

/// An optional instant argument (`None` stays `None`).
pub fn opt_instant_arg(
    obj: Option<&Bound<'_, PyAny>>,
    field: &str,
) -> PyResult<Option<DateTime<Utc>>> {
    match obj {
        None => Ok(None),
        Some(o) if o.is_none() => Ok(None),
        Some(o) => instant_arg(o, field).map(Some),
    }
}

/// An instant as an aware `datetime` in UTC.
pub fn to_datetime<'py>(py: Python<'py>, t: DateTime<Utc>) -> PyResult<Bound<'py, PyAny>> {
    Ok(t.into_pyobject(py)?.into_any())
}

/// The current time, read from Python's clock (the core has none).
pub fn now(py: Python<'_>) -> PyResult<DateTime<Utc>> {
    let utc = python_utc(py)?;
    let dt = py
        .import(intern!(py, "datetime"))?
        .getattr(intern!(py, "datetime"))?
        .call_method1(intern!(py, "now"), (utc,))?;
    instant_arg(&dt, "now")
}

/// A time zone given by IANA name or as a `zoneinfo.ZoneInfo` (its `key`).
pub fn timezone_arg(obj: &Bound<'_, PyAny>) -> PyResult<TimeZone> {
    let py = obj.py();
    let name: String = if let Ok(s) = obj.cast::<PyString>() {
        s.to_cow()?.into_owned()
    } else if obj.cast::<PyTzInfo>().is_ok() && obj.hasattr(intern!(py, "key"))? {
        obj.getattr(intern!(py, "key"))?.extract()?
    } else if obj.is(python_utc(py)?) {
        "UTC".to_owned()
    } else {
        return Err(PyTypeError::new_err(
            "timezone must be an IANA zone name (str) or a zoneinfo.ZoneInfo",
        ));
    };
    TimeZone::parse(&name).map_err(|e| errors::field(py, e))
}
