//! Recurrence preview: the next dates of a pattern or RRULE in a time zone
//! (`todo_core::recurrence::Series`).

use serde::Deserialize;
use todo_core::model::{RRuleText, Recurrence, TimeZone, format_instant, parse_instant};
use todo_core::recurrence::{MAX_UPCOMING, Series};
use wasm_bindgen::prelude::*;

use crate::errors;

/// A series as the API's task fields name it (or as the shared recurrence vectors do).
#[derive(Deserialize)]
struct SeriesSpec {
    #[serde(default, alias = "pattern")]
    recurrence_pattern: Option<String>,
    #[serde(default)]
    rrule: Option<String>,
    #[serde(default)]
    timezone: Option<String>,
    #[serde(alias = "due_datetime")]
    start: String,
    #[serde(default, alias = "recurrence_end_date")]
    end: Option<String>,
}

fn series_of(spec: SeriesSpec) -> Result<Series, JsValue> {
    let recurrence = match (spec.recurrence_pattern.as_deref(), spec.rrule.as_deref()) {
        (_, Some(r)) => RRuleText::parse(r).map(Recurrence::Rule),
        (Some(p), _) => Recurrence::parse_pattern(p),
        (None, _) => Ok(Recurrence::None),
    }
    .map_err(errors::field)?;
    let tz = match spec.timezone.as_deref() {
        Some(z) => TimeZone::parse(z).map_err(errors::field)?,
        None => TimeZone::UTC,
    };
    let start = parse_instant("due_datetime", &spec.start).map_err(errors::field)?;
    let end = match spec.end.as_deref() {
        Some(e) => Some(parse_instant("recurrence_end_date", e).map_err(errors::field)?),
        None => None,
    };
    Series::new(recurrence, tz, start, end).map_err(errors::field)
}

/// The first `n` (at most 1000) occurrences strictly after `after` of the series
/// `{recurrence_pattern | rrule, timezone, due_datetime | start, recurrence_end_date | end}`,
/// as RFC 3339 UTC strings; fewer when the series ends, none for a task that does not recur.
#[wasm_bindgen(js_name = nextOccurrences, unchecked_return_type = "string[]")]
pub fn next_occurrences(
    #[wasm_bindgen(unchecked_param_type = "SeriesSpec")] series: JsValue,
    after: &str,
    n: usize,
) -> Result<JsValue, JsValue> {
    let spec: SeriesSpec = serde_wasm_bindgen::from_value(series)
        .map_err(|e| errors::type_error(&format!("not a series: {e}")))?;
    let series = series_of(spec)?;
    let after = parse_instant("after", after).map_err(errors::field)?;
    let out: js_sys::Array = series
        .upcoming(after, n.min(MAX_UPCOMING))
        .into_iter()
        .map(|t| JsValue::from_str(&format_instant(t)))
        .collect();
    Ok(out.into())
}
