//! Runs the shared recurrence vectors (`test-vectors/recurrence.json`) against the engine.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use todo_core::FieldError;
use todo_core::model::{RRuleText, Recurrence, TimeZone, parse_instant};
use todo_core::recurrence::Series;

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../test-vectors/recurrence.json"
);

fn text<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key]
        .as_str()
        .unwrap_or_else(|| panic!("case {} lacks string {key}", case["name"]))
}

/// The case's result, or why it could not be run.
fn run(case: &Value) -> Result<(), String> {
    let after = parse_instant("after", text(case, "after")).map_err(|e| e.to_string())?;
    let n = case["n"].as_u64().ok_or("n must be a count")? as usize;
    let expected = case["expected"]
        .as_array()
        .ok_or("expected must be a list")?
        .iter()
        .map(|v| parse_instant("expected", v.as_str().unwrap_or_default()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let error = match case.get("error") {
        None => None,
        Some(e) => Some(e.as_str().ok_or("error must be a field name")?),
    };
    if error.is_some() && !expected.is_empty() {
        return Err("a rejected series has no expected dates".into());
    }
    match (series(case)?, error) {
        (Ok(series), None) => {
            let got = series.upcoming(after, n);
            if got != expected {
                return Err(format!("expected {expected:?}, got {got:?}"));
            }
            Ok(())
        }
        (Err(e), Some(field)) if e.field == field => Ok(()),
        (Err(e), _) => Err(format!("rejected: {e}")),
        (Ok(_), Some(field)) => Err(format!("expected an error on {field}, got a series")),
    }
}

/// The case's series, or the engine's reason to reject it; `Err` when the case is malformed.
fn series(case: &Value) -> Result<Result<Series, FieldError>, String> {
    let recurrence = match (case.get("recurrence_pattern"), case.get("rrule")) {
        (Some(p), None) => Recurrence::parse_pattern(p.as_str().unwrap_or_default()),
        (None, Some(r)) => RRuleText::parse(r.as_str().unwrap_or_default()).map(Recurrence::Rule),
        _ => return Err("needs exactly one of recurrence_pattern and rrule".into()),
    };
    let tz = TimeZone::parse(text(case, "timezone")).map_err(|e| e.to_string())?;
    let start = parse_instant("start", text(case, "start")).map_err(|e| e.to_string())?;
    let end = match &case["end"] {
        Value::Null => None,
        v => Some(parse_instant("end", v.as_str().unwrap_or_default()).map_err(|e| e.to_string())?),
    };
    Ok(recurrence.and_then(|r| Series::new(r, tz, start, end)))
}

#[test]
fn all_vectors_pass() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(PATH).unwrap_or_else(|e| panic!("reading {PATH}: {e}")),
    )
    .unwrap();
    assert!(
        doc["format"].as_str().is_some_and(|f| !f.is_empty()),
        "the file documents its format"
    );
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 150, "only {} cases", cases.len());
    let mut names: Vec<&str> = cases.iter().map(|c| text(c, "name")).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names are unique");
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|c| run(c).err().map(|e| format!("{}: {e}", text(c, "name"))))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} vectors fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
