//! Runs the shared list-query vectors (`test-vectors/query.json`) through the in-memory engine.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use todo_core::TaskId;
use todo_core::UserId;
use todo_core::model::Task;
use todo_core::query::vectors::VectorFile;
use todo_core::query::{Page, TaskQuery, apply};

const VECTORS: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../test-vectors/query.json"
));

fn engine(q: &TaskQuery, tasks: &[Task]) -> Page<TaskId> {
    apply(q, tasks).map(|t| t.id)
}

fn load() -> VectorFile {
    VectorFile::from_json(VECTORS).expect("query.json parses")
}

#[test]
fn every_vector_passes_through_the_engine() {
    let file = load();
    let user = UserId::parse("vector-user").unwrap();
    let failures = file.run_all(&user, engine);
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        file.cases.len(),
        failures.join("\n")
    );
}

#[test]
fn the_file_has_the_promised_coverage() {
    let file = load();
    assert!(file.cases.len() >= 200, "only {} cases", file.cases.len());
    let errors = file.cases.iter().filter(|c| c.errors.is_some()).count();
    let hand = file
        .cases
        .iter()
        .filter(|c| !c.name.starts_with("gen_"))
        .count();
    assert!(errors >= 30, "only {errors} error cases");
    assert!(hand >= 100, "only {hand} hand-written cases");
    // Every case names an existing dataset, and every dataset row is a valid task.
    let user = UserId::parse("vector-user").unwrap();
    for name in file.datasets.keys() {
        file.tasks(name, &user).unwrap();
    }
    for c in &file.cases {
        assert!(file.datasets.contains_key(&c.dataset), "{}", c.name);
        assert!(c.expected.is_some() != c.errors.is_some(), "{}", c.name);
    }
    // Every error code the parser can give for the list query appears.
    for code in [
        "unknown_field",
        "duplicate",
        "invalid_value",
        "invalid_format",
        "out_of_range",
        "inconsistent",
        "too_long",
    ] {
        assert!(
            file.cases
                .iter()
                .flat_map(|c| c.errors.iter().flatten())
                .any(|e| e.code == code),
            "no case for {code}"
        );
    }
}

#[test]
fn the_runner_reports_a_wrong_engine() {
    // The runner must catch an implementation that ignores ties, paging or errors.
    let file = load();
    let user = UserId::parse("vector-user").unwrap();
    let reversed = file.run_all(&user, |q, t| {
        let mut p = engine(q, t);
        p.items.reverse();
        p
    });
    assert!(
        reversed.len() > 50,
        "reversing pages went unnoticed: {}",
        reversed.len()
    );
    let unpaged = file.run_all(&user, |q, t| {
        let mut p = engine(
            &TaskQuery {
                offset: 0,
                ..q.clone()
            },
            t,
        );
        p.offset = q.offset;
        p
    });
    assert!(
        unpaged.iter().any(|f| f.starts_with("offset_past_end")),
        "{unpaged:?}"
    );
}
