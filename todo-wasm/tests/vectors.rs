//! The shared test vectors (`test-vectors/`) through the JS-facing API, under Node
//! (`wasm-bindgen-test`): every case must give what the Rust core gives.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use js_sys::{Array, Reflect};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use todo_core::UserId;
use todo_core::query::vectors::{ExpectedError, ExpectedPage, Params, VectorFile};
use todo_core::query::{TaskQuery, apply};
use todo_wasm::{TaskSet, next_occurrences, parse_query, validate};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

const QUERY: &str = include_str!("../../test-vectors/query.json");
const QUERY_ROWS: &str = include_str!("../../test-vectors/query-rows.json");
const VALIDATION: &str = include_str!("../../test-vectors/validation.json");
const RECURRENCE: &str = include_str!("../../test-vectors/recurrence.json");

fn js<T: Serialize + ?Sized>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .unwrap()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap()
}

#[derive(Deserialize, Debug, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct FieldCode {
    field: String,
    code: String,
}

/// The `{field, code}` list of a thrown `ValidationError`, checking its shape on the way.
fn field_codes(err: &JsValue) -> Vec<FieldCode> {
    assert!(err.is_instance_of::<js_sys::Error>(), "{err:?} is an Error");
    let e: &js_sys::Error = err.unchecked_ref();
    assert_eq!(String::from(e.name()), "ValidationError");
    let all: Vec<FieldCode> = serde_wasm_bindgen::from_value(get(err, "errors")).unwrap();
    assert_eq!(get(err, "field").as_string().unwrap(), all[0].field);
    assert_eq!(get(err, "code").as_string().unwrap(), all[0].code);
    all
}

#[derive(Deserialize)]
struct IdPage {
    ids: Vec<i64>,
    total: u64,
}

#[wasm_bindgen_test]
fn query_vectors_match_the_core() {
    let file = VectorFile::from_json(QUERY).unwrap();
    let user = UserId::parse("vector-user").unwrap();
    let mut sets = BTreeMap::new();
    for (name, rows) in &file.datasets {
        sets.insert(name.clone(), TaskSet::new(js(rows)).unwrap());
    }
    let mut failures = Vec::new();
    for case in &file.cases {
        let set = &sets[&case.dataset];
        let params = js(&case.query);
        let got = set.query_ids(params.clone());
        let core = TaskQuery::from_pairs(case.query.pairs());
        let outcome = match (got, core) {
            (Ok(page), Ok(q)) => {
                let page: IdPage = serde_wasm_bindgen::from_value(page).unwrap();
                let tasks = file.tasks(&case.dataset, &user).unwrap();
                let want = apply(&q, &tasks);
                let want_ids: Vec<i64> = want.items.iter().map(|t| t.id.get()).collect();
                let expected = case.expected.as_ref();
                if page.ids != want_ids || page.total != want.total {
                    Err(format!(
                        "core {want_ids:?}/{}, wasm {:?}/{}",
                        want.total, page.ids, page.total
                    ))
                } else if expected.is_none_or(|e| e.ids != page.ids || e.total != page.total) {
                    Err(format!("vector expects {expected:?}, got {:?}", page.ids))
                } else {
                    // The object page holds the same tasks.
                    let objects = set.query(params).unwrap();
                    let items: Array = get(&objects, "items").unchecked_into();
                    let ids: Vec<i64> = items
                        .iter()
                        .map(|o| get(&o, "id").as_f64().unwrap() as i64)
                        .collect();
                    if ids == page.ids {
                        Ok(())
                    } else {
                        Err(format!("objects {ids:?}"))
                    }
                }
            }
            (Err(err), Err(core)) => {
                let mut got = field_codes(&err);
                let mut want: Vec<FieldCode> = core
                    .errors()
                    .iter()
                    .map(|e| FieldCode {
                        field: e.field.clone(),
                        code: e.code.as_str().to_owned(),
                    })
                    .collect();
                got.sort();
                want.sort();
                if got == want && parse_query(js(&case.query)).is_err() {
                    Ok(())
                } else {
                    Err(format!("errors: core {want:?}, wasm {got:?}"))
                }
            }
            (Ok(_), Err(e)) => Err(format!("wasm accepted what the core rejects: {e}")),
            (Err(e), Ok(_)) => Err(format!("wasm rejected what the core accepts: {e:?}")),
        };
        if let Err(e) = outcome {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    assert!(file.cases.len() >= 200);
    assert!(
        failures.is_empty(),
        "{} of {} query vectors fail:\n{}",
        failures.len(),
        file.cases.len(),
        failures.join("\n")
    );
}

#[derive(Deserialize)]
struct RowFile {
    cases: Vec<RowCase>,
}

#[derive(Deserialize)]
struct RowCase {
    name: String,
    rows: Value,
    query: Params,
    expected: Option<ExpectedPage>,
    errors: Option<Vec<ExpectedError>>,
}

/// The rows of `query-rows.json` (the ones the bindings used to read differently: empty titles,
/// duplicate tag ids, the API's `tags`, wrong types) loaded into a `TaskSet`: the page, or the
/// rejected fields of the first bad row, as the core's reader and the Python bindings give them.
#[wasm_bindgen_test]
fn query_row_vectors_match_the_core() {
    let file: RowFile = serde_json::from_str(QUERY_ROWS).unwrap();
    let mut failures = Vec::new();
    for case in &file.cases {
        let outcome = match (TaskSet::new(js(&case.rows)), &case.expected, &case.errors) {
            (Ok(set), Some(want), None) => {
                let page: IdPage =
                    serde_wasm_bindgen::from_value(set.query_ids(js(&case.query)).unwrap())
                        .unwrap();
                if page.ids == want.ids && page.total == want.total {
                    Ok(())
                } else {
                    Err(format!("want {want:?}, got {:?}/{}", page.ids, page.total))
                }
            }
            (Err(err), None, Some(want)) => {
                let mut got = field_codes(&err);
                let mut want: Vec<FieldCode> = want
                    .iter()
                    .map(|e| FieldCode {
                        field: e.field.clone(),
                        code: e.code.clone(),
                    })
                    .collect();
                got.sort();
                want.sort();
                (got == want)
                    .then_some(())
                    .ok_or_else(|| format!("want {want:?}, got {got:?}"))
            }
            (Ok(_), _, Some(want)) => Err(format!("loaded rows that fail with {want:?}")),
            (Err(err), _, _) => Err(format!("rejected: {err:?}")),
            _ => Err("a case needs exactly one of expected and errors".to_owned()),
        };
        if let Err(e) = outcome {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    assert!(file.cases.len() >= 40);
    assert!(
        failures.is_empty(),
        "{} of {} query-row vectors fail:\n{}",
        failures.len(),
        file.cases.len(),
        failures.join("\n")
    );
}

#[derive(Deserialize)]
struct ValidationFile {
    now: String,
    cases: Vec<ValidationCase>,
}

#[derive(Deserialize)]
struct ValidationCase {
    name: String,
    kind: String,
    input: Value,
    expected: Expected,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expected {
    Ok(Value),
    Errors(Vec<FieldCode>),
}

#[wasm_bindgen_test]
fn validation_vectors_match_the_core() {
    let file: ValidationFile = serde_json::from_str(VALIDATION).unwrap();
    let now = JsValue::from_str(&file.now);
    let mut failures = Vec::new();
    for case in &file.cases {
        let got = validate(&case.kind, js(&case.input), now.clone());
        let ok = match (&case.expected, got) {
            (Expected::Ok(want), Ok(out)) => {
                let out: Value = serde_wasm_bindgen::from_value(out).unwrap();
                (*want == out)
                    .then_some(())
                    .ok_or_else(|| format!("want {want}, got {out}"))
            }
            (Expected::Errors(want), Err(err)) => {
                let got = field_codes(&err);
                (*want == got)
                    .then_some(())
                    .ok_or_else(|| format!("want {want:?}, got {got:?}"))
            }
            (Expected::Ok(want), Err(err)) => {
                Err(format!("want {want}, got {:?}", field_codes(&err)))
            }
            (Expected::Errors(want), Ok(out)) => Err(format!("want {want:?}, got {out:?}")),
        };
        if let Err(e) = ok {
            failures.push(format!("{}: {e}", case.name));
        }
    }
    assert!(file.cases.len() >= 150);
    assert!(
        failures.is_empty(),
        "{} of {} validation vectors fail:\n{}",
        failures.len(),
        file.cases.len(),
        failures.join("\n")
    );
}

#[wasm_bindgen_test]
fn recurrence_vectors_match_the_core() {
    let doc: Value = serde_json::from_str(RECURRENCE).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let after = case["after"].as_str().unwrap();
        let n = case["n"].as_u64().unwrap() as usize;
        let got = next_occurrences(js(case), after, n);
        let ok = match (case.get("error").and_then(Value::as_str), got) {
            (None, Ok(dates)) => {
                let dates: Vec<String> = serde_wasm_bindgen::from_value(dates).unwrap();
                let want: Vec<String> = serde_json::from_value(case["expected"].clone()).unwrap();
                // Compare as instants: the vectors may spell an offset the engine writes as Z.
                let norm = |v: &[String]| -> Vec<i64> {
                    v.iter()
                        .map(|s| {
                            todo_core::model::parse_instant("t", s)
                                .unwrap()
                                .timestamp_millis()
                        })
                        .collect()
                };
                (norm(&dates) == norm(&want))
                    .then_some(())
                    .ok_or_else(|| format!("want {want:?}, got {dates:?}"))
            }
            (Some(field), Err(err)) => {
                let got = get(&err, "field").as_string().unwrap_or_default();
                (got == field)
                    .then_some(())
                    .ok_or_else(|| format!("want an error on {field}, got {got}"))
            }
            (None, Err(err)) => Err(format!("rejected: {:?}", field_codes(&err))),
            (Some(field), Ok(_)) => Err(format!("want an error on {field}, got dates")),
        };
        if let Err(e) = ok {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(cases.len() >= 150);
    assert!(
        failures.is_empty(),
        "{} of {} recurrence vectors fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
