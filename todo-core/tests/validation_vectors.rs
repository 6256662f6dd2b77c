//! Runs the shared validation vectors (test-vectors/validation.json) through the core.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde::Deserialize;
use serde_json::Value;
use todo_core::input::{InputKind, validate_json};
use todo_core::model::parse_instant;

#[derive(Deserialize)]
struct File {
    now: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    kind: InputKind,
    input: Value,
    expected: Expected,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Expected {
    Ok(Value),
    Errors(Vec<FieldCode>),
}

#[derive(Deserialize, Debug, PartialEq)]
struct FieldCode {
    field: String,
    code: String,
}

#[test]
fn validation_vectors() {
    let text = include_str!("../../test-vectors/validation.json");
    let file: File = serde_json::from_str(text).unwrap();
    let now = parse_instant("now", &file.now).unwrap();
    assert!(file.cases.len() >= 150, "the vector file lost cases");
    let mut failures = Vec::new();
    for case in &file.cases {
        let got = validate_json(case.kind, &case.input, now);
        match (&case.expected, got) {
            (Expected::Ok(want), Ok(out)) if *want == out => {}
            (Expected::Errors(want), Err(errs)) => {
                let got: Vec<FieldCode> = errs
                    .errors()
                    .iter()
                    .map(|e| FieldCode {
                        field: e.field.clone(),
                        code: e.code.as_str().to_owned(),
                    })
                    .collect();
                if *want != got {
                    failures.push(format!("{}: want errors {want:?}, got {got:?}", case.name));
                }
            }
            (want, got) => {
                let want = match want {
                    Expected::Ok(v) => format!("ok {v}"),
                    Expected::Errors(e) => format!("errors {e:?}"),
                };
                failures.push(format!("{}: want {want}, got {got:?}", case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
