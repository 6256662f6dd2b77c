//! The one reader of the task rows that hosts hand to the query engine.
//!
//! The bindings (Python dicts and SQLModel rows, JavaScript objects) copy a task's raw fields out
//! of their own objects into a [`RowInput`], saying for each field whether it was missing, of the
//! expected type, or of another type; [`RowInput::read`] applies the rules below and gives the
//! engine's [`QueryRow`] or every rejected field. So every host accepts the same rows and names
//! the same errors.
//!
//! **Rules** (those of a stored task, as a store checks one it reads back):
//! - `id`: required; an integer >= 1.
//! - `title`: required; a valid [`TaskTitle`]: trimmed, then 1-200 characters without control
//!   characters (empty or blank is `required`). The row holds the trimmed title.
//! - `description`: optional; a valid [`Description`]: at most 4000 characters, no control
//!   characters other than line breaks and tabs; kept as given.
//! - `completed`: optional boolean, default `false`.
//! - `due_datetime`: optional instant: an RFC 3339 date-time with offset ([`parse_instant`]) or
//!   an instant the host already holds (an aware `datetime`).
//! - `priority`: optional; `High`, `Medium` or `Low`, case-insensitively ([`Priority::parse`]);
//!   default `Medium`.
//! - tags: `tag_ids` (integers), or when it is missing the `id`s of the API's `tags` objects;
//!   optional; every id >= 1; held ascending without duplicates (`[3, 3, 1]` is tags 1 and 3), as
//!   a task holds them.
//! - `created_at`: required instant, as `due_datetime`.
//!
//! Missing and null are the same. A missing required field is `required`; a value of another
//! type than the field's is `invalid_format`; an id below 1 is `invalid_value`; the other codes
//! are those of the field's own rule. Errors name the field `tasks[<position>].<field>`, and
//! every rejected field of the row is reported.
//!
//! **Lazy reading**: only the fields in the given [`Fields`] are read and checked (the id always).
//! [`Fields::of`] a query are those it searches, filters or sorts on, so a host that reads rows
//! for one query may skip the others (they cannot change its page); a host that keeps the rows
//! for many queries reads [`Fields::ALL`]. A field not read holds its default.
//!
//! **Search text**: a row read with the text fields keeps [`search_text`] of its title and
//! description, computed once here; the engine matches search words against it instead of
//! folding the text again for every query.

use chrono::{DateTime, Utc};

use super::{Queryable, SortKey, StatusFilter, TaskQuery, search_text};
use crate::error::{Collector, ErrorCode, FieldError, ValidationErrors};
use crate::ids::{TagId, TaskId};
use crate::model::{Description, Priority, TaskTitle, parse_instant};

/// One raw field as the host found it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Raw<T> {
    /// Absent, or the host's null (`None`, `null`, `undefined`).
    #[default]
    Missing,
    /// A value of the field's type.
    Value(T),
    /// A value of another type; the text says what it was (e.g. `"float"`, `"a naive
    /// datetime"`), for the error message.
    WrongType(String),
}

impl<T> Raw<T> {
    /// `Missing` for `None`, else the value.
    pub fn from_option(v: Option<T>) -> Self {
        v.map_or(Raw::Missing, Raw::Value)
    }
}

/// An instant as a host hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawInstant {
    /// Text, to be read as RFC 3339 with an offset.
    Text(String),
    /// An instant the host already holds (e.g. an aware Python `datetime`).
    At(DateTime<Utc>),
}

/// The raw fields of one task row (see the module documentation for the rules). Build it field by
/// field from [`RowInput::default`] (every field missing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RowInput {
    /// `id`.
    pub id: Raw<i64>,
    /// `title`.
    pub title: Raw<String>,
    /// `description`.
    pub description: Raw<String>,
    /// `completed`.
    pub completed: Raw<bool>,
    /// `due_datetime`.
    pub due_datetime: Raw<RawInstant>,
    /// `priority`.
    pub priority: Raw<String>,
    /// `tag_ids`.
    pub tag_ids: Raw<Vec<i64>>,
    /// The `id` of each of the API's `tags` objects; read only when `tag_ids` is missing.
    pub tags: Raw<Vec<i64>>,
    /// `created_at`.
    pub created_at: Raw<RawInstant>,
}

/// Which fields of the rows are read (the id always is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fields {
    /// `title` and `description`.
    pub text: bool,
    /// `completed`.
    pub completed: bool,
    /// `due_datetime`.
    pub due: bool,
    /// `priority`.
    pub priority: bool,
    /// `tag_ids` / `tags`.
    pub tags: bool,
    /// `created_at`.
    pub created: bool,
}

impl Fields {
    /// Every field: for rows kept for any later query.
    pub const ALL: Fields = Fields {
        text: true,
        completed: true,
        due: true,
        priority: true,
        tags: true,
        created: true,
    };

    /// The fields `q` searches, filters or sorts on. A field a query does not look at cannot
    /// change its page, so rows read with these give the same page as rows read whole.
    pub fn of(q: &TaskQuery) -> Fields {
        Fields {
            text: !q.search.is_empty() || q.sort_by == SortKey::Title,
            completed: q.status != StatusFilter::All,
            due: q.due_start.is_some() || q.due_end.is_some() || q.sort_by == SortKey::DueDatetime,
            priority: !q.priorities.is_empty() || q.sort_by == SortKey::Priority,
            tags: q.tags.is_some(),
            created: q.sort_by == SortKey::CreatedAt,
        }
    }
}

impl RowInput {
    /// The engine's row of `tasks[position]`, reading the fields in `fields`, with the caller's
    /// `extra` (e.g. the object itself or its position) kept beside it; or every rejected field.
    pub fn read<X>(
        self,
        position: usize,
        fields: Fields,
        extra: X,
    ) -> Result<QueryRow<X>, ValidationErrors> {
        let mut r = Reader {
            position,
            errors: Collector::new(),
        };
        let id = r.id(self.id);
        let (title, description) = if fields.text {
            (r.title(self.title), r.description(self.description))
        } else {
            (String::new(), None)
        };
        let completed = if fields.completed {
            r.completed(self.completed)
        } else {
            false
        };
        let due = if fields.due {
            r.instant("due_datetime", self.due_datetime)
        } else {
            None
        };
        let priority = if fields.priority {
            r.priority(self.priority)
        } else {
            Priority::default()
        };
        let tag_ids = if fields.tags {
            match self.tag_ids {
                Raw::Missing => r.tag_ids("tags", self.tags),
                given => r.tag_ids("tag_ids", given),
            }
        } else {
            Vec::new()
        };
        let created_at = if fields.created {
            if self.created_at == Raw::Missing {
                r.missing("created_at");
            }
            r.instant("created_at", self.created_at)
        } else {
            None
        };
        r.errors.finish()?;
        let search = fields
            .text
            .then(|| search_text(&title, description.as_deref()).into_boxed_str());
        Ok(QueryRow {
            id: TaskId::new(id.unwrap_or(0)),
            title,
            description,
            completed,
            due,
            priority,
            tag_ids,
            created_at: created_at.unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
            search,
            extra,
        })
    }
}

/// The state of reading one row: its position (for the names) and the errors so far.
struct Reader {
    position: usize,
    errors: Collector,
}

impl Reader {
    fn name(&self, field: &str) -> String {
        format!("tasks[{}].{field}", self.position)
    }

    fn missing(&mut self, field: &str) {
        let name = self.name(field);
        self.errors.push(FieldError::new(
            &name,
            ErrorCode::Required,
            format!("{name} is required"),
        ));
    }

    fn wrong_type(&mut self, field: &str, expected: &str, found: &str) {
        let name = self.name(field);
        self.errors.push(FieldError::new(
            &name,
            ErrorCode::InvalidFormat,
            format!("{name} must be {expected}; got {found}"),
        ));
    }

    /// A rule's error on the bare field name (`title must ...`), renamed to this row's field.
    fn renamed(&mut self, e: FieldError) {
        let name = self.name(&e.field);
        let message = match e.message.strip_prefix(e.field.as_str()) {
            Some(rest) => format!("{name}{rest}"),
            None => format!("{name}: {}", e.message),
        };
        self.errors.push(FieldError::new(name, e.code, message));
    }

    fn positive(&mut self, field: &str, n: i64) -> bool {
        if n >= 1 {
            return true;
        }
        let name = self.name(field);
        self.errors.push(FieldError::new(
            &name,
            ErrorCode::InvalidValue,
            format!("{name} must hold ids of at least 1; got {n}"),
        ));
        false
    }

    fn id(&mut self, raw: Raw<i64>) -> Option<i64> {
        match raw {
            Raw::Value(n) => self.positive("id", n).then_some(n),
            Raw::Missing => {
                self.missing("id");
                None
            }
            Raw::WrongType(found) => {
                self.wrong_type("id", "an integer", &found);
                None
            }
        }
    }

    fn title(&mut self, raw: Raw<String>) -> String {
        match raw {
            Raw::Value(s) => match TaskTitle::parse(&s) {
                // Trimmed; the given string is kept when trimming changed nothing.
                Ok(t) if t.as_str().len() == s.len() => s,
                Ok(t) => t.as_str().to_owned(),
                Err(e) => {
                    self.renamed(e);
                    String::new()
                }
            },
            Raw::Missing => {
                self.missing("title");
                String::new()
            }
            Raw::WrongType(found) => {
                self.wrong_type("title", "a string", &found);
                String::new()
            }
        }
    }

    fn description(&mut self, raw: Raw<String>) -> Option<String> {
        match raw {
            Raw::Value(s) => match Description::parse(&s) {
                Ok(_) => Some(s),
                Err(e) => {
                    self.renamed(e);
                    None
                }
            },
            Raw::Missing => None,
            Raw::WrongType(found) => {
                self.wrong_type("description", "a string or null", &found);
                None
            }
        }
    }

    fn completed(&mut self, raw: Raw<bool>) -> bool {
        match raw {
            Raw::Value(b) => b,
            Raw::Missing => false,
            Raw::WrongType(found) => {
                self.wrong_type("completed", "a boolean", &found);
                false
            }
        }
    }

    fn priority(&mut self, raw: Raw<String>) -> Priority {
        match raw {
            // Named after the row only on error: most rows have none.
            Raw::Value(s) => Priority::parse("priority", &s).unwrap_or_else(|e| {
                self.renamed(e);
                Priority::default()
            }),
            Raw::Missing => Priority::default(),
            Raw::WrongType(found) => {
                self.wrong_type("priority", "one of High, Medium, Low", &found);
                Priority::default()
            }
        }
    }

    /// An optional instant (`None` when missing or rejected).
    fn instant(&mut self, field: &str, raw: Raw<RawInstant>) -> Option<DateTime<Utc>> {
        match raw {
            Raw::Value(RawInstant::At(t)) => Some(t),
            Raw::Value(RawInstant::Text(s)) => match parse_instant(field, &s) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.renamed(e);
                    None
                }
            },
            Raw::Missing => None,
            Raw::WrongType(found) => {
                self.wrong_type(field, "an RFC 3339 date-time with offset", &found);
                None
            }
        }
    }

    fn tag_ids(&mut self, field: &str, raw: Raw<Vec<i64>>) -> Vec<TagId> {
        match raw {
            Raw::Value(ids) => {
                let mut out = Vec::with_capacity(ids.len());
                for n in ids {
                    if self.positive(field, n) {
                        out.push(TagId::new(n));
                    }
                }
                out.sort_unstable();
                out.dedup();
                out
            }
            Raw::Missing => Vec::new(),
            Raw::WrongType(found) => {
                let expected = if field == "tags" {
                    "a list of tag objects with an integer id"
                } else {
                    "a list of integers"
                };
                self.wrong_type(field, expected, &found);
                Vec::new()
            }
        }
    }
}

/// A task row as the engine reads it, made by [`RowInput::read`] (so its fields follow the rules
/// of this module), with `extra`: what the caller keeps beside it (the object's position, the
/// object itself) to turn the engine's page back into its own items.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryRow<X = ()> {
    id: TaskId,
    title: String,
    description: Option<String>,
    completed: bool,
    due: Option<DateTime<Utc>>,
    priority: Priority,
    tag_ids: Vec<TagId>,
    created_at: DateTime<Utc>,
    /// [`search_text`] of the title and description, when they were read.
    search: Option<Box<str>>,
    /// The caller's.
    pub extra: X,
}

impl<X> Queryable for QueryRow<X> {
    fn id(&self) -> TaskId {
        self.id
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    fn completed(&self) -> bool {
        self.completed
    }
    fn due(&self) -> Option<DateTime<Utc>> {
        self.due
    }
    fn priority(&self) -> Priority {
        self.priority
    }
    fn tag_ids(&self) -> &[TagId] {
        &self.tag_ids
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
    fn search_text(&self) -> Option<&str> {
        self.search.as_deref()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use serde::Deserialize;
    use serde_json::Value;

    use super::*;
    use crate::ids::UserId;
    use crate::query::vectors::{ExpectedError, ExpectedPage, Params, VectorFile};
    use crate::query::{apply, matches};

    const ROWS: &str = include_str!("../../../test-vectors/query-rows.json");
    const QUERY: &str = include_str!("../../../test-vectors/query.json");

    /// A third host: JSON values, read with the same type rules as the bindings (an integer
    /// for ids, a string for text, ...).
    fn raw<T>(v: Option<&Value>, f: impl FnOnce(&Value) -> Option<T>) -> Raw<T> {
        match v {
            None | Some(Value::Null) => Raw::Missing,
            Some(v) => f(v).map_or_else(|| Raw::WrongType(v.to_string()), Raw::Value),
        }
    }

    fn string(v: &Value) -> Option<String> {
        v.as_str().map(str::to_owned)
    }

    fn instant(v: &Value) -> Option<RawInstant> {
        v.as_str().map(|s| RawInstant::Text(s.to_owned()))
    }

    fn ids(v: &Value, of_objects: bool) -> Option<Vec<i64>> {
        v.as_array()?
            .iter()
            .map(|x| if of_objects { x.get("id")? } else { x }.as_i64())
            .collect()
    }

    fn input(row: &Value) -> RowInput {
        RowInput {
            id: raw(row.get("id"), Value::as_i64),
            title: raw(row.get("title"), string),
            description: raw(row.get("description"), string),
            completed: raw(row.get("completed"), Value::as_bool),
            due_datetime: raw(row.get("due_datetime"), instant),
            priority: raw(row.get("priority"), string),
            tag_ids: raw(row.get("tag_ids"), |v| ids(v, false)),
            tags: raw(row.get("tags"), |v| ids(v, true)),
            created_at: raw(row.get("created_at"), instant),
        }
    }

    fn read_all(rows: &[Value], fields: Fields) -> Result<Vec<QueryRow<usize>>, ValidationErrors> {
        rows.iter()
            .enumerate()
            .map(|(i, r)| input(r).read(i, fields, i))
            .collect()
    }

    #[derive(Deserialize)]
    struct RowFile {
        cases: Vec<RowCase>,
    }

    #[derive(Deserialize)]
    struct RowCase {
        name: String,
        rows: Vec<Value>,
        query: Params,
        expected: Option<ExpectedPage>,
        errors: Option<Vec<ExpectedError>>,
    }

    fn outcome(
        q: &TaskQuery,
        rows: &[Value],
        fields: Fields,
    ) -> Result<ExpectedPage, Vec<ExpectedError>> {
        match read_all(rows, fields) {
            Ok(rows) => {
                let page = apply(q, &rows);
                Ok(ExpectedPage {
                    ids: page.items.iter().map(|r| r.id().get()).collect(),
                    total: page.total,
                })
            }
            Err(e) => {
                let mut got: Vec<ExpectedError> = e
                    .errors()
                    .iter()
                    .map(|e| ExpectedError {
                        field: e.field.clone(),
                        code: e.code.as_str().to_owned(),
                    })
                    .collect();
                got.sort();
                Err(got)
            }
        }
    }

    #[test]
    fn the_row_vectors_hold_when_reading_the_querys_fields_or_all() {
        let file: RowFile = serde_json::from_str(ROWS).unwrap();
        assert!(file.cases.len() >= 40);
        let mut failures = Vec::new();
        for case in &file.cases {
            let q = TaskQuery::from_pairs(case.query.pairs()).unwrap();
            let want = match (&case.expected, &case.errors) {
                (Some(page), None) => Ok(page.clone()),
                (None, Some(errors)) => {
                    let mut e = errors.clone();
                    e.sort();
                    Err(e)
                }
                _ => panic!("{}: needs expected or errors", case.name),
            };
            for fields in [Fields::of(&q), Fields::ALL] {
                let got = outcome(&q, &case.rows, fields);
                if got != want {
                    failures.push(format!(
                        "{} ({fields:?}): want {want:?}, got {got:?}",
                        case.name
                    ));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// The rows of `query.json` read as a host reads them give the pages of the tasks.
    #[test]
    fn the_query_vectors_hold_for_rows_read_by_the_reader() {
        let file = VectorFile::from_json(QUERY).unwrap();
        let user = UserId::parse("vector-user").unwrap();
        let mut checked = 0;
        for case in &file.cases {
            let Ok(q) = TaskQuery::from_pairs(case.query.pairs()) else {
                continue;
            };
            let json: Vec<Value> = file.datasets[&case.dataset]
                .iter()
                .map(|r| serde_json::to_value(r).unwrap())
                .collect();
            let tasks = file.tasks(&case.dataset, &user).unwrap();
            let want: Vec<TaskId> = apply(&q, &tasks).items.iter().map(|t| t.id).collect();
            for fields in [Fields::of(&q), Fields::ALL] {
                let rows = read_all(&json, fields).unwrap();
                let page = apply(&q, &rows);
                let got: Vec<TaskId> = page.items.iter().map(|r| r.id()).collect();
                assert_eq!(got, want, "{}", case.name);
                assert_eq!(Some(page.total), case.expected.as_ref().map(|e| e.total));
            }
            checked += 1;
        }
        assert!(checked >= 150);
    }

    fn ok_row() -> RowInput {
        RowInput {
            id: Raw::Value(7),
            title: Raw::Value("  Pay RENT ".into()),
            description: Raw::Value("Flat ÉCOLE".into()),
            completed: Raw::Value(true),
            due_datetime: Raw::Value(RawInstant::Text("2026-03-01T10:00:00+01:00".into())),
            priority: Raw::Value("high".into()),
            tag_ids: Raw::Value(vec![5, 2, 5]),
            tags: Raw::Value(vec![9]),
            created_at: Raw::Value(RawInstant::At(DateTime::<Utc>::UNIX_EPOCH)),
        }
    }

    #[test]
    fn a_row_is_read_with_the_rules_of_a_stored_task() {
        let r = ok_row().read(0, Fields::ALL, "x").unwrap();
        assert_eq!(r.id(), TaskId::new(7));
        assert_eq!(r.title(), "Pay RENT");
        assert_eq!(r.description(), Some("Flat ÉCOLE"));
        assert!(r.completed());
        assert_eq!(
            r.due(),
            Some(parse_instant("t", "2026-03-01T09:00:00Z").unwrap())
        );
        assert_eq!(r.priority(), Priority::High);
        assert_eq!(r.tag_ids(), [TagId::new(2), TagId::new(5)]);
        assert_eq!(r.created_at(), DateTime::<Utc>::UNIX_EPOCH);
        assert_eq!(r.extra, "x");
        // The search text is kept, and it is the engine's definition of it.
        assert_eq!(r.search_text(), Some("pay rent\nflat école"));
        assert_eq!(
            r.search_text(),
            Some(search_text(r.title(), r.description()).as_str())
        );
    }

    #[test]
    fn only_the_fields_asked_for_are_read_and_checked() {
        let bad = RowInput {
            id: Raw::Value(1),
            title: Raw::Value(String::new()),
            description: Raw::WrongType("int".into()),
            completed: Raw::WrongType("str".into()),
            due_datetime: Raw::Value(RawInstant::Text("soon".into())),
            priority: Raw::Value("Urgent".into()),
            tag_ids: Raw::Value(vec![0]),
            tags: Raw::Missing,
            created_at: Raw::Missing,
        };
        let none = Fields {
            text: false,
            completed: false,
            due: false,
            priority: false,
            tags: false,
            created: false,
        };
        let r = bad.clone().read(3, none, ()).unwrap();
        assert_eq!(r.id(), TaskId::new(1));
        assert_eq!(r.search_text(), None);
        let e = bad.read(3, Fields::ALL, ()).unwrap_err();
        let got: Vec<(&str, ErrorCode)> = e
            .errors()
            .iter()
            .map(|e| (e.field.as_str(), e.code))
            .collect();
        assert_eq!(
            got,
            [
                ("tasks[3].title", ErrorCode::Required),
                ("tasks[3].description", ErrorCode::InvalidFormat),
                ("tasks[3].completed", ErrorCode::InvalidFormat),
                ("tasks[3].due_datetime", ErrorCode::InvalidFormat),
                ("tasks[3].priority", ErrorCode::InvalidValue),
                ("tasks[3].tag_ids", ErrorCode::InvalidValue),
                ("tasks[3].created_at", ErrorCode::Required),
            ]
        );
        // Messages name the row's field.
        assert!(
            e.errors()[0]
                .message
                .starts_with("tasks[3].title must be 1-200")
        );
        assert_eq!(
            e.errors()[1].message,
            "tasks[3].description must be a string or null; got int"
        );
    }

    #[test]
    fn the_id_is_always_read() {
        let mut r = ok_row();
        r.id = Raw::Missing;
        let none = Fields {
            text: false,
            completed: false,
            due: false,
            priority: false,
            tags: false,
            created: false,
        };
        let e = r.read(0, none, ()).unwrap_err();
        assert_eq!(e.first().field, "tasks[0].id");
        assert_eq!(e.first().code, ErrorCode::Required);
    }

    fn fields(pairs: &[(&str, &str)]) -> Fields {
        Fields::of(&TaskQuery::from_pairs(pairs.iter().copied()).unwrap())
    }

    /// Lazy reading is only sound if every parameter that looks at a field makes it read.
    #[test]
    fn every_parameter_reads_the_fields_it_looks_at() {
        let none = fields(&[("sort_by", "due_datetime"), ("limit", "5"), ("offset", "1")]);
        assert!(none.due && !none.text && !none.completed && !none.priority && !none.tags);
        assert!(!none.created);
        assert!(fields(&[]).created);
        assert!(fields(&[("search", "x")]).text);
        assert!(fields(&[("sort_by", "title")]).text);
        assert!(fields(&[("status", "pending")]).completed);
        assert!(!fields(&[("status", "all")]).completed);
        assert!(fields(&[("priority", "High")]).priority);
        assert!(fields(&[("sort_by", "priority")]).priority);
        assert!(fields(&[("due_date_start", "2026-01-01T00:00:00Z")]).due);
        assert!(fields(&[("due_date_end", "2026-01-01T00:00:00Z")]).due);
        assert!(fields(&[("tags", "1")]).tags);
    }

    /// A parameter the parser learns later must be added to `Fields::of`: this lists the ones it
    /// knows.
    #[test]
    fn fields_knows_every_parameter() {
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
        assert_eq!(crate::query::PARAMETERS, known);
    }

    #[test]
    fn the_engine_matches_the_kept_search_text() {
        let r = ok_row().read(0, Fields::ALL, ()).unwrap();
        let q = |s: &str| TaskQuery::from_pairs([("search", s)]).unwrap();
        assert!(matches(&q("RENT école"), &r));
        assert!(!matches(&q("rentflat"), &r));
        assert!(!matches(&q("missing"), &r));
    }
}
