//! The shared test vectors of the list query (`test-vectors/query.json` at the workspace root):
//! the file format as serde types, and a runner that checks one case against any implementation
//! of the list query (the in-memory engine, a storage adapter, ...).
//!
//! The format (also described in the file's `"format"` field):
//! - `datasets`: name -> task rows `{id, title, description|null, completed, due_datetime|null,
//!   priority, tag_ids, created_at}`, instants as RFC 3339 with `Z`, rows in ascending id order
//!   (a store that assigns its own ids keeps the order if it inserts rows in file order and
//!   assigns increasing ids; map the ids back before comparing).
//! - `cases`: `{name, dataset, query, expected}` or `{name, dataset, query, errors}`. `query` maps
//!   a parameter to a string, or to an array of strings meaning the parameter is given once per
//!   element in that order; pairs are passed in document order. `expected` is `{ids, total}`:
//!   the ids of the page in order, and the number of all matches. `errors` lists every expected
//!   `{field, code}` of the failed parse, compared as a set.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Page, TaskQuery};
use crate::error::ValidationErrors;
use crate::ids::{TagId, TaskId, UserId};
use crate::model::{Description, Priority, Task, TaskTitle};

/// The whole vector file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorFile {
    /// A description of the format, for people and other loaders.
    pub format: String,
    /// Named task lists.
    pub datasets: BTreeMap<String, Vec<VectorTask>>,
    /// The cases, each against one dataset.
    pub cases: Vec<VectorCase>,
}

/// One task row of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorTask {
    /// Task id (unique within the dataset).
    pub id: i64,
    /// Title (a valid [`TaskTitle`], already trimmed).
    pub title: String,
    /// Description, if any.
    pub description: Option<String>,
    /// Whether completed.
    pub completed: bool,
    /// Due date, if any.
    pub due_datetime: Option<DateTime<Utc>>,
    /// Priority (`High`, `Medium`, `Low`).
    pub priority: Priority,
    /// Attached tag ids.
    pub tag_ids: Vec<i64>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A parameter's value: given once, or repeated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    /// `name=value`.
    One(String),
    /// `name=a&name=b...`, in this order.
    Many(Vec<String>),
}

/// Query parameters in document order (a JSON object whose values are [`ParamValue`]s).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params(pub Vec<(String, ParamValue)>);

impl Params {
    /// The `(name, value)` pairs as a host would pass them to [`TaskQuery::from_pairs`].
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        let mut out = Vec::new();
        for (k, v) in &self.0 {
            match v {
                ParamValue::One(s) => out.push((k.as_str(), s.as_str())),
                ParamValue::Many(list) => {
                    out.extend(list.iter().map(|s| (k.as_str(), s.as_str())));
                }
            }
        }
        out
    }
}

impl Serialize for Params {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Params {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Params;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of query parameters")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Params, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, ParamValue>()? {
                    out.push((k, v));
                }
                Ok(Params(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// One case: a query against a dataset, and either the page or the parse errors it gives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VectorCase {
    /// Unique name.
    pub name: String,
    /// The dataset's name.
    pub dataset: String,
    /// The query parameters.
    pub query: Params,
    /// The page, when the query is valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<ExpectedPage>,
    /// The errors, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<ExpectedError>>,
}

/// The expected page of a valid query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedPage {
    /// The ids of the page, in order.
    pub ids: Vec<i64>,
    /// The number of all matches.
    pub total: u64,
}

/// One expected parse error.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedError {
    /// The parameter's name.
    pub field: String,
    /// The [`crate::ErrorCode`] in snake_case.
    pub code: String,
}

impl VectorFile {
    /// Parses the file's JSON.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// The dataset as tasks of `user`; an error names the dataset or the invalid row.
    pub fn tasks(&self, dataset: &str, user: &UserId) -> Result<Vec<Task>, String> {
        let rows = self
            .datasets
            .get(dataset)
            .ok_or_else(|| format!("no dataset {dataset:?}"))?;
        rows.iter()
            .map(|r| {
                r.to_task(user)
                    .map_err(|e| format!("dataset {dataset:?} row {}: {e}", r.id))
            })
            .collect()
    }

    /// Runs every case with `run` and returns one message per failing case (empty: all pass).
    pub fn run_all(
        &self,
        user: &UserId,
        mut run: impl FnMut(&TaskQuery, &[Task]) -> Page<TaskId>,
    ) -> Vec<String> {
        let mut tasks: BTreeMap<&str, Result<Vec<Task>, String>> = BTreeMap::new();
        let mut failures = Vec::new();
        for case in &self.cases {
            let ts = tasks
                .entry(case.dataset.as_str())
                .or_insert_with(|| self.tasks(&case.dataset, user));
            let outcome = match ts {
                Ok(ts) => case.check(ts, &mut run),
                Err(e) => Err(e.clone()),
            };
            if let Err(e) = outcome {
                failures.push(format!("{}: {e}", case.name));
            }
        }
        failures
    }
}

impl VectorTask {
    /// The row as a valid, non-recurring task of `user` (`updated_at` = `created_at`, and
    /// `completed_at` = `created_at` when completed).
    pub fn to_task(&self, user: &UserId) -> Result<Task, ValidationErrors> {
        let description = match &self.description {
            Some(d) => Some(Description::parse(d)?),
            None => None,
        };
        let task = Task::builder(
            TaskId::new(self.id),
            user.clone(),
            TaskTitle::parse(&self.title)?,
            self.created_at,
        )
        .description(description)
        .completed_at(self.completed.then_some(self.created_at))
        .due_datetime(self.due_datetime)
        .priority(self.priority)
        .tag_ids(self.tag_ids.iter().copied().map(TagId::new))
        .build();
        task.check_invariants()?;
        Ok(task)
    }
}

impl VectorCase {
    /// Parses the case's query and checks the outcome: the expected errors, or the page that
    /// `run` returns for the query and `tasks` (the case's dataset).
    pub fn check(
        &self,
        tasks: &[Task],
        run: impl FnOnce(&TaskQuery, &[Task]) -> Page<TaskId>,
    ) -> Result<(), String> {
        let parsed = TaskQuery::from_pairs(self.query.pairs());
        match (&self.expected, &self.errors, parsed) {
            (Some(want), None, Ok(q)) => {
                let page = run(&q, tasks);
                let got: Vec<i64> = page.items.iter().map(|id| id.get()).collect();
                if got != want.ids || page.total != want.total {
                    return Err(format!(
                        "expected ids {:?} total {}, got ids {got:?} total {}",
                        want.ids, want.total, page.total
                    ));
                }
                Ok(())
            }
            (None, Some(want), Err(errors)) => {
                let mut got: Vec<ExpectedError> = errors
                    .errors()
                    .iter()
                    .map(|e| ExpectedError {
                        field: e.field.clone(),
                        code: e.code.as_str().to_owned(),
                    })
                    .collect();
                let mut want = want.clone();
                got.sort();
                want.sort();
                if got != want {
                    return Err(format!("expected errors {want:?}, got {got:?}"));
                }
                Ok(())
            }
            (Some(_), None, Err(e)) => Err(format!("expected a page, the query failed: {e}")),
            (None, Some(_), Ok(q)) => Err(format!("expected errors, the query parsed: {q:?}")),
            _ => Err("a case needs exactly one of expected and errors".to_owned()),
        }
    }
}
