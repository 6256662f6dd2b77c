//! Input of the use cases, as it arrives (JSON bodies, Python dicts, JS objects), and its
//! validation into typed drafts and patches. Every host validates through here, so a bad value
//! gets the same field error everywhere.
//!
//! Inputs keep values as raw strings where the syntax is ours to check (dates, enums), so that a
//! bad value is reported with its field name rather than as a generic deserialization error.
//! Unknown fields are rejected (`deny_unknown_fields`).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::{Collector, ErrorCode, FieldError, ValidationErrors};
use crate::ids::TagId;
use crate::model::task::{MAX_TAGS_PER_TASK, check_schedule};
use crate::model::{
    Color, Description, Priority, RRuleText, Recurrence, ReminderType, TagName, TaskTitle,
    TimeZone, parse_instant,
};
use crate::recurrence::Series;

/// How far in the past a new task's `due_datetime` (or a reminder time) may lie, to allow for
/// clock skew between client and server and for the time a request travels.
pub const PAST_GRACE: Duration = Duration::seconds(60);

/// Deserializes a field that distinguishes "absent" (`None`) from explicit `null` (`Some(None)`).
fn explicit<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// The body of "create task".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskInput {
    /// Required: 1-200 characters after trimming.
    #[serde(default)]
    pub title: Option<String>,
    /// At most 4000 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// RFC 3339 with offset, not in the past.
    #[serde(default)]
    pub due_datetime: Option<String>,
    /// `High|Medium|Low`, default `Medium`.
    #[serde(default)]
    pub priority: Option<String>,
    /// `daily|weekly|monthly|none`.
    #[serde(default)]
    pub recurrence_pattern: Option<String>,
    /// An RFC 5545 RRULE instead of the pattern.
    #[serde(default)]
    pub rrule: Option<String>,
    /// No occurrence after this instant.
    #[serde(default)]
    pub recurrence_end_date: Option<String>,
    /// IANA zone for recurrence, default UTC.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Tags to attach; they must exist and belong to the user.
    #[serde(default)]
    pub tag_ids: Option<Vec<i64>>,
}

/// A validated new task (without id, owner and timestamps).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskDraft {
    /// Title.
    pub title: TaskTitle,
    /// Description.
    pub description: Option<Description>,
    /// Due date.
    pub due_datetime: Option<DateTime<Utc>>,
    /// Priority.
    pub priority: Priority,
    /// Recurrence.
    pub recurrence: Recurrence,
    /// End of the series.
    pub recurrence_end_date: Option<DateTime<Utc>>,
    /// Zone for recurrence.
    pub timezone: TimeZone,
    /// Tags, ascending, deduplicated; not yet checked for existence.
    pub tag_ids: Vec<TagId>,
}

fn parse_tag_ids(c: &mut Collector, raw: &[i64]) -> Vec<TagId> {
    let mut ids = Vec::with_capacity(raw.len());
    for &n in raw {
        if n > 0 {
            ids.push(TagId::new(n));
        } else {
            c.push(FieldError::new(
                "tag_ids",
                ErrorCode::InvalidValue,
                format!("tag_ids must hold positive tag ids; got {n}"),
            ));
        }
    }
    ids.sort_unstable();
    ids.dedup();
    // Counted after dropping duplicates: `[3, 3]` is one tag.
    if ids.len() > MAX_TAGS_PER_TASK {
        c.push(FieldError::new(
            "tag_ids",
            ErrorCode::TooLong,
            format!(
                "tag_ids may name at most {MAX_TAGS_PER_TASK} tags; it names {}",
                ids.len()
            ),
        ));
    }
    ids
}

/// Combines `recurrence_pattern` and `rrule` (at most one of them may say the task repeats).
fn parse_recurrence(
    c: &mut Collector,
    pattern: Option<&str>,
    rrule: Option<&str>,
) -> Option<Recurrence> {
    let pattern = match pattern {
        Some(p) => c.take(Recurrence::parse_pattern(p))?,
        None => Recurrence::None,
    };
    let rule = match rrule {
        Some(r) => Some(c.take(RRuleText::parse(r))?),
        None => None,
    };
    match (pattern, rule) {
        (p, None) => Some(p),
        (Recurrence::None, Some(r)) => Some(Recurrence::Rule(r)),
        (_, Some(_)) => {
            c.push(FieldError::new(
                "rrule",
                ErrorCode::Inconsistent,
                "give either recurrence_pattern or rrule, not both",
            ));
            None
        }
    }
}

/// Checks an RRULE against its series start (DTSTART), the one check that needs both.
fn check_rule(
    c: &mut Collector,
    recurrence: &Recurrence,
    tz: TimeZone,
    due: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) {
    if let (Recurrence::Rule(_), Some(due)) = (recurrence, due) {
        c.take(Series::new(recurrence.clone(), tz, due, end));
    }
}

impl CreateTaskInput {
    /// Validates the input at time `now`; all field errors are reported together.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<TaskDraft, ValidationErrors> {
        let mut c = Collector::new();
        let title = match &self.title {
            Some(t) => c.take(TaskTitle::parse(t)),
            None => {
                c.push(FieldError::new(
                    "title",
                    ErrorCode::Required,
                    "title is required",
                ));
                None
            }
        };
        let description = match &self.description {
            Some(d) => c.take(Description::parse(d)).map(Some),
            None => Some(None),
        };
        let due = match &self.due_datetime {
            Some(s) => match c.take(parse_instant("due_datetime", s)) {
                Some(t) if t < now - PAST_GRACE => {
                    c.push(FieldError::new(
                        "due_datetime",
                        ErrorCode::InPast,
                        "due_datetime must not be in the past",
                    ));
                    None
                }
                Some(t) => Some(Some(t)),
                None => None,
            },
            None => Some(None),
        };
        let priority = match &self.priority {
            Some(p) => c.take(Priority::parse("priority", p)),
            None => Some(Priority::default()),
        };
        let recurrence = parse_recurrence(
            &mut c,
            self.recurrence_pattern.as_deref(),
            self.rrule.as_deref(),
        );
        let end = match &self.recurrence_end_date {
            Some(s) => c.take(parse_instant("recurrence_end_date", s)).map(Some),
            None => Some(None),
        };
        let timezone = match &self.timezone {
            Some(z) => c.take(TimeZone::parse(z)),
            None => Some(TimeZone::UTC),
        };
        let tag_ids = parse_tag_ids(&mut c, self.tag_ids.as_deref().unwrap_or(&[]));
        if let (Some(r), Some(d), Some(e), Some(z)) = (&recurrence, due, end, timezone) {
            check_schedule(&mut c, r, d, e);
            check_rule(&mut c, r, z, d, e);
        }
        match (title, description, due, priority, recurrence, end, timezone) {
            (
                Some(title),
                Some(description),
                Some(due),
                Some(priority),
                Some(recurrence),
                Some(end),
                Some(timezone),
            ) if c.is_ok() => Ok(TaskDraft {
                title,
                description,
                due_datetime: due,
                priority,
                recurrence,
                recurrence_end_date: end,
                timezone,
                tag_ids,
            }),
            _ => Err(c.into_errors()),
        }
    }
}

/// The body of "update task": every field optional; an explicit `null` clears a nullable field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskInput {
    /// New title (`null` is rejected: a task always has a title).
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub title: Option<Option<String>>,
    /// New description, or `null` to clear it.
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<Option<String>>,
    /// Completion (goes through the completion rules, so completing a recurring task creates its next instance).
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub completed: Option<Option<bool>>,
    /// New due date, or `null` to clear it (not allowed for a recurring task). A past date is allowed on update.
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub due_datetime: Option<Option<String>>,
    /// New priority (`null` resets to `Medium`).
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub priority: Option<Option<String>>,
    /// New pattern (`null` means `none`).
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub recurrence_pattern: Option<Option<String>>,
    /// New RRULE, or `null` to clear it.
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub rrule: Option<Option<String>>,
    /// New end of series, or `null` to clear it.
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub recurrence_end_date: Option<Option<String>>,
    /// New zone (`null` means UTC).
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub timezone: Option<Option<String>>,
    /// The complete new set of tags (`null` or `[]` detaches all).
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub tag_ids: Option<Option<Vec<i64>>>,
}

/// A validated update: `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TaskPatch {
    /// New title.
    pub title: Option<TaskTitle>,
    /// New description (`Some(None)` clears).
    pub description: Option<Option<Description>>,
    /// New completion state.
    pub completed: Option<bool>,
    /// New due date (`Some(None)` clears).
    pub due_datetime: Option<Option<DateTime<Utc>>>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New recurrence. Present when either `recurrence_pattern` or `rrule` was given.
    pub recurrence: Option<RecurrencePatch>,
    /// New end of series (`Some(None)` clears).
    pub recurrence_end_date: Option<Option<DateTime<Utc>>>,
    /// New zone.
    pub timezone: Option<TimeZone>,
    /// New tag set.
    pub tag_ids: Option<Vec<TagId>>,
}

/// How an update changes recurrence: the two API fields are merged with the task's current
/// recurrence by the service, since `{"rrule": null}` alone must keep a `weekly` pattern.
#[derive(Debug, Clone, PartialEq)]
pub struct RecurrencePatch {
    /// `Some(Recurrence::None | Pattern)` when `recurrence_pattern` was given.
    pub pattern: Option<Recurrence>,
    /// `Some(None)` clears the rule, `Some(Some(r))` sets it, `None` leaves it.
    pub rrule: Option<Option<RRuleText>>,
}

impl RecurrencePatch {
    /// The recurrence after applying this patch to `current`.
    pub fn apply(&self, current: &Recurrence) -> Result<Recurrence, FieldError> {
        let inconsistent = || {
            FieldError::new(
                "rrule",
                ErrorCode::Inconsistent,
                "give either recurrence_pattern or rrule, not both",
            )
        };
        match (&self.pattern, &self.rrule) {
            (Some(p), Some(Some(_))) if p.is_recurring() => Err(inconsistent()),
            (_, Some(Some(r))) => Ok(Recurrence::Rule(r.clone())),
            // The API shows an RRULE task as `recurrence_pattern: "none"` plus `rrule`; a client
            // that only knows patterns echoes "none" back. Only `rrule: null` removes a rule.
            (Some(Recurrence::None), None) if matches!(current, Recurrence::Rule(_)) => {
                Ok(current.clone())
            }
            (Some(p), _) => Ok(p.clone()),
            (None, Some(None)) => Ok(match current {
                Recurrence::Rule(_) => Recurrence::None,
                other => other.clone(),
            }),
            (None, None) => Ok(current.clone()),
        }
    }
}

/// The recurring-task switch (`TODO_FEATURE_RECURRING`), one rule for creates and updates:
/// with recurring tasks switched off, input that makes a task repeat is refused on
/// `recurrence_pattern`. What repeats is what the parser made of the input (`"None"`,
/// `" NONE "` and `null` do not); a task that repeats already keeps its series.
fn check_recurring_switch(
    recurring_on: bool,
    makes_recurring: bool,
) -> Result<(), ValidationErrors> {
    if makes_recurring && !recurring_on {
        return Err(FieldError::new(
            "recurrence_pattern",
            ErrorCode::InvalidValue,
            "recurring tasks are switched off on this server",
        )
        .into());
    }
    Ok(())
}

impl TaskDraft {
    /// The recurring-task switch on this new task: refused when recurring tasks are switched
    /// off (`recurring_on` false) and the task repeats, by a pattern or an RRULE.
    pub fn check_recurring_switch(&self, recurring_on: bool) -> Result<(), ValidationErrors> {
        check_recurring_switch(recurring_on, self.recurrence.is_recurring())
    }
}

impl TaskPatch {
    /// The recurring-task switch on this update: refused when recurring tasks are switched off
    /// (`recurring_on` false) and the update sets a repeating pattern or an RRULE (a pattern of
    /// `none` and `null`s never make a task repeat).
    pub fn check_recurring_switch(&self, recurring_on: bool) -> Result<(), ValidationErrors> {
        let repeats = self.recurrence.as_ref().is_some_and(|r| {
            r.pattern.as_ref().is_some_and(Recurrence::is_recurring)
                || matches!(r.rrule, Some(Some(_)))
        });
        check_recurring_switch(recurring_on, repeats)
    }
}

impl UpdateTaskInput {
    /// Validates the fields that can be checked on their own; the service checks the result
    /// against the task (a recurring task keeps a due date, the RRULE against its start, ...).
    pub fn validate(&self) -> Result<TaskPatch, ValidationErrors> {
        let mut c = Collector::new();
        let mut p = TaskPatch::default();
        match &self.title {
            Some(Some(t)) => p.title = c.take(TaskTitle::parse(t)),
            Some(None) => c.push(FieldError::new(
                "title",
                ErrorCode::Required,
                "title cannot be null: a task always has a title",
            )),
            None => {}
        }
        if let Some(d) = &self.description {
            p.description = match d {
                Some(d) => c.take(Description::parse(d)).map(Some),
                None => Some(None),
            };
        }
        if let Some(done) = self.completed {
            match done {
                Some(v) => p.completed = Some(v),
                None => c.push(FieldError::new(
                    "completed",
                    ErrorCode::Required,
                    "completed cannot be null",
                )),
            }
        }
        if let Some(d) = &self.due_datetime {
            p.due_datetime = match d {
                Some(s) => c.take(parse_instant("due_datetime", s)).map(Some),
                None => Some(None),
            };
        }
        if let Some(pr) = &self.priority {
            p.priority = match pr {
                Some(s) => c.take(Priority::parse("priority", s)),
                None => Some(Priority::default()),
            };
        }
        if self.recurrence_pattern.is_some() || self.rrule.is_some() {
            let pattern = match &self.recurrence_pattern {
                Some(Some(s)) => c.take(Recurrence::parse_pattern(s)).map(Some),
                Some(None) => Some(Some(Recurrence::None)),
                None => Some(None),
            };
            let rrule = match &self.rrule {
                Some(Some(s)) => c.take(RRuleText::parse(s)).map(|r| Some(Some(r))),
                Some(None) => Some(Some(None)),
                None => Some(None),
            };
            if let (Some(pattern), Some(rrule)) = (pattern, rrule) {
                let patch = RecurrencePatch { pattern, rrule };
                // Catch "both given" here already, independent of the task.
                if let Err(e) = patch.apply(&Recurrence::None) {
                    c.push(e);
                }
                p.recurrence = Some(patch);
            }
        }
        if let Some(e) = &self.recurrence_end_date {
            p.recurrence_end_date = match e {
                Some(s) => c.take(parse_instant("recurrence_end_date", s)).map(Some),
                None => Some(None),
            };
        }
        if let Some(z) = &self.timezone {
            p.timezone = match z {
                Some(s) => c.take(TimeZone::parse(s)),
                None => Some(TimeZone::UTC),
            };
        }
        if let Some(t) = &self.tag_ids {
            p.tag_ids = Some(parse_tag_ids(&mut c, t.as_deref().unwrap_or(&[])));
        }
        c.finish().map(|()| p)
    }
}

/// Checks a task's schedule after an update: recurring needs a due date, end not before due,
/// and an RRULE that works from the series start.
pub fn check_task_schedule(
    recurrence: &Recurrence,
    timezone: TimeZone,
    due: Option<DateTime<Utc>>,
    series_start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> Result<(), ValidationErrors> {
    let mut c = Collector::new();
    check_schedule(&mut c, recurrence, due, end);
    if c.is_ok() {
        check_rule(&mut c, recurrence, timezone, series_start.or(due), end);
    }
    c.finish()
}

/// The body of "create tag".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateTagInput {
    /// Required: 1-50 characters after trimming.
    #[serde(default)]
    pub name: Option<String>,
    /// `#RRGGBB`, default `#3B82F6`.
    #[serde(default)]
    pub color: Option<String>,
}

/// A validated new tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagDraft {
    /// Name.
    pub name: TagName,
    /// Color.
    pub color: Color,
}

impl CreateTagInput {
    /// Validates the input.
    pub fn validate(&self) -> Result<TagDraft, ValidationErrors> {
        let mut c = Collector::new();
        let name = match &self.name {
            Some(n) => c.take(TagName::parse(n)),
            None => {
                c.push(FieldError::new(
                    "name",
                    ErrorCode::Required,
                    "name is required",
                ));
                None
            }
        };
        let color = match &self.color {
            Some(s) => c.take(Color::parse(s)),
            None => Some(Color::default()),
        };
        match (name, color) {
            (Some(name), Some(color)) if c.is_ok() => Ok(TagDraft { name, color }),
            _ => Err(c.into_errors()),
        }
    }
}

/// The body of "update tag": name and/or color.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTagInput {
    /// New name.
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Option<String>>,
    /// New color (`null` resets to the default).
    #[serde(
        default,
        deserialize_with = "explicit",
        skip_serializing_if = "Option::is_none"
    )]
    pub color: Option<Option<String>>,
}

/// A validated tag update.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagPatch {
    /// New name.
    pub name: Option<TagName>,
    /// New color.
    pub color: Option<Color>,
}

impl UpdateTagInput {
    /// Validates the input.
    pub fn validate(&self) -> Result<TagPatch, ValidationErrors> {
        let mut c = Collector::new();
        let mut p = TagPatch::default();
        match &self.name {
            Some(Some(n)) => p.name = c.take(TagName::parse(n)),
            Some(None) => c.push(FieldError::new(
                "name",
                ErrorCode::Required,
                "name cannot be null",
            )),
            None => {}
        }
        match &self.color {
            Some(Some(s)) => p.color = c.take(Color::parse(s)),
            Some(None) => p.color = Some(Color::default()),
            None => {}
        }
        c.finish().map(|()| p)
    }
}

/// The body of "set reminder".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetReminderInput {
    /// Required: RFC 3339 with offset, in the future.
    #[serde(default)]
    pub reminder_time: Option<String>,
    /// `due_date` (default) or `custom`.
    #[serde(default)]
    pub reminder_type: Option<String>,
}

/// A validated reminder request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderDraft {
    /// When it fires.
    pub reminder_time: DateTime<Utc>,
    /// What it is anchored to.
    pub reminder_type: ReminderType,
}

impl SetReminderInput {
    /// Validates the input at time `now`: the time must not be in the past.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<ReminderDraft, ValidationErrors> {
        let mut c = Collector::new();
        let time = match &self.reminder_time {
            Some(s) => match c.take(parse_instant("reminder_time", s)) {
                Some(t) if t < now - PAST_GRACE => {
                    c.push(FieldError::new(
                        "reminder_time",
                        ErrorCode::InPast,
                        "reminder_time must not be in the past",
                    ));
                    None
                }
                other => other,
            },
            None => {
                c.push(FieldError::new(
                    "reminder_time",
                    ErrorCode::Required,
                    "reminder_time is required",
                ));
                None
            }
        };
        let kind = match &self.reminder_type {
            Some(s) => c.take(ReminderType::parse(s)),
            None => Some(ReminderType::default()),
        };
        match (time, kind) {
            (Some(reminder_time), Some(reminder_type)) if c.is_ok() => Ok(ReminderDraft {
                reminder_time,
                reminder_type,
            }),
            _ => Err(c.into_errors()),
        }
    }
}

/// An input body with a fixed set of field names.
pub trait InputBody: serde::de::DeserializeOwned {
    /// The fields it accepts.
    const FIELDS: &'static [&'static str];
}

impl InputBody for CreateTaskInput {
    const FIELDS: &'static [&'static str] = &[
        "title",
        "description",
        "due_datetime",
        "priority",
        "recurrence_pattern",
        "rrule",
        "recurrence_end_date",
        "timezone",
        "tag_ids",
    ];
}

impl InputBody for UpdateTaskInput {
    const FIELDS: &'static [&'static str] = &[
        "title",
        "description",
        "completed",
        "due_datetime",
        "priority",
        "recurrence_pattern",
        "rrule",
        "recurrence_end_date",
        "timezone",
        "tag_ids",
    ];
}

impl InputBody for CreateTagInput {
    const FIELDS: &'static [&'static str] = &["name", "color"];
}

impl InputBody for UpdateTagInput {
    const FIELDS: &'static [&'static str] = &["name", "color"];
}

impl InputBody for SetReminderInput {
    const FIELDS: &'static [&'static str] = &["reminder_time", "reminder_type"];
}

/// [`parse_input`] for hosts that answer with the use cases' [`crate::Error`]: the errors become
/// [`crate::Error::Unprocessable`] (HTTP 422), as the contract wants for unknown fields and wrong types,
/// while a body's rule violations found by `validate` are [`crate::Error::Validation`] (HTTP 400).
pub fn parse_body<T: InputBody>(value: &serde_json::Value) -> Result<T, crate::error::Error> {
    parse_input(value).map_err(crate::error::Error::Unprocessable)
}

/// Reads an input body from a JSON value with field-level errors: a body that is not an
/// object, unknown fields (each named, code `unknown_field`), and values of the wrong JSON type
/// (named by their path, code `invalid_format`). Hosts answer these with HTTP 422.
pub fn parse_input<T: InputBody>(value: &serde_json::Value) -> Result<T, ValidationErrors> {
    let Some(obj) = value.as_object() else {
        return Err(FieldError::new(
            "body",
            ErrorCode::InvalidFormat,
            "the body must be a JSON object",
        )
        .into());
    };
    let mut c = Collector::new();
    for key in obj.keys() {
        if !T::FIELDS.contains(&key.as_str()) {
            c.push(FieldError::new(
                key.as_str(),
                ErrorCode::UnknownField,
                format!(
                    "unknown field {key:?}; expected one of: {}",
                    T::FIELDS.join(", ")
                ),
            ));
        }
    }
    c.finish()?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        let inner = e.into_inner().to_string();
        FieldError::new(
            field.as_str(),
            ErrorCode::InvalidFormat,
            format!("{field}: {inner}"),
        )
        .into()
    })
}

impl Serialize for TaskDraft {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(9))?;
        m.serialize_entry("title", &self.title)?;
        m.serialize_entry("description", &self.description)?;
        m.serialize_entry(
            "due_datetime",
            &self.due_datetime.map(crate::model::format_instant),
        )?;
        m.serialize_entry("priority", &self.priority)?;
        m.serialize_entry("recurrence_pattern", self.recurrence.pattern_str())?;
        m.serialize_entry("rrule", &self.recurrence.rrule())?;
        m.serialize_entry(
            "recurrence_end_date",
            &self.recurrence_end_date.map(crate::model::format_instant),
        )?;
        m.serialize_entry("timezone", &self.timezone)?;
        m.serialize_entry("tag_ids", &self.tag_ids)?;
        m.end()
    }
}

impl Serialize for TagDraft {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("color", &self.color)?;
        m.end()
    }
}

impl Serialize for ReminderDraft {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry(
            "reminder_time",
            &crate::model::format_instant(self.reminder_time),
        )?;
        m.serialize_entry("reminder_type", self.reminder_type.as_str())?;
        m.end()
    }
}

impl Serialize for TagPatch {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        if let Some(n) = &self.name {
            m.serialize_entry("name", n)?;
        }
        if let Some(c) = &self.color {
            m.serialize_entry("color", c)?;
        }
        m.end()
    }
}

impl Serialize for TaskPatch {
    /// Only the fields the patch changes; `null` for a field it clears.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let fmt = |d: &Option<DateTime<Utc>>| d.map(crate::model::format_instant);
        let mut m = s.serialize_map(None)?;
        if let Some(v) = &self.title {
            m.serialize_entry("title", v)?;
        }
        if let Some(v) = &self.description {
            m.serialize_entry("description", v)?;
        }
        if let Some(v) = &self.completed {
            m.serialize_entry("completed", v)?;
        }
        if let Some(v) = &self.due_datetime {
            m.serialize_entry("due_datetime", &fmt(v))?;
        }
        if let Some(v) = &self.priority {
            m.serialize_entry("priority", v)?;
        }
        if let Some(r) = &self.recurrence {
            if let Some(p) = &r.pattern {
                m.serialize_entry("recurrence_pattern", p.pattern_str())?;
            }
            if let Some(rule) = &r.rrule {
                m.serialize_entry("rrule", rule)?;
            }
        }
        if let Some(v) = &self.recurrence_end_date {
            m.serialize_entry("recurrence_end_date", &fmt(v))?;
        }
        if let Some(v) = &self.timezone {
            m.serialize_entry("timezone", v)?;
        }
        if let Some(v) = &self.tag_ids {
            m.serialize_entry("tag_ids", v)?;
        }
        m.end()
    }
}

/// The kinds of input that [`validate_json`] knows, named as in the shared validation vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// [`CreateTaskInput`].
    TaskCreate,
    /// [`UpdateTaskInput`].
    TaskUpdate,
    /// [`CreateTagInput`].
    TagCreate,
    /// [`UpdateTagInput`].
    TagUpdate,
    /// [`SetReminderInput`].
    Reminder,
}

/// Reads and validates a JSON input of the given kind at time `now`, returning the normalized
/// value as JSON (trimmed title, canonical priority, UTC instants, upper-case color, sorted tag
/// ids, ...). This is what the Python and WASM hosts expose as "validate".
pub fn validate_json(
    kind: InputKind,
    value: &serde_json::Value,
    now: DateTime<Utc>,
) -> Result<serde_json::Value, ValidationErrors> {
    fn out<T: Serialize>(v: &T) -> Result<serde_json::Value, ValidationErrors> {
        serde_json::to_value(v).map_err(|e| {
            FieldError::new(
                "body",
                ErrorCode::InvalidValue,
                format!("cannot render: {e}"),
            )
            .into()
        })
    }
    match kind {
        InputKind::TaskCreate => out(&parse_input::<CreateTaskInput>(value)?.validate(now)?),
        InputKind::TaskUpdate => out(&parse_input::<UpdateTaskInput>(value)?.validate()?),
        InputKind::TagCreate => out(&parse_input::<CreateTagInput>(value)?.validate()?),
        InputKind::TagUpdate => out(&parse_input::<UpdateTagInput>(value)?.validate()?),
        InputKind::Reminder => out(&parse_input::<SetReminderInput>(value)?.validate(now)?),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// serde names the fields a struct accepts in its unknown-field error; `FIELDS` must list
    /// exactly those, or `parse_input` would reject a real field or let an unknown one through.
    fn serde_fields<T: InputBody>() -> Vec<String> {
        let err = serde_json::from_value::<T>(serde_json::json!({"__nope__": 1}))
            .err()
            .unwrap()
            .to_string();
        // "unknown field `x`, expected one of `a`, `b`, `c`" or "..., expected `a` or `b`"
        let list = err.split(", expected ").nth(1).unwrap();
        let list = list.trim_start_matches("one of ").replace(" or ", ",");
        list.split(',')
            .map(|f| f.trim().trim_matches('`').to_owned())
            .filter(|f| !f.is_empty())
            .collect()
    }

    fn check<T: InputBody>() {
        let mut want = serde_fields::<T>();
        want.sort();
        let mut got: Vec<String> = T::FIELDS.iter().map(|f| (*f).to_owned()).collect();
        got.sort();
        assert_eq!(got, want, "{}", std::any::type_name::<T>());
    }

    #[test]
    fn field_lists_match_the_structs() {
        check::<CreateTaskInput>();
        check::<UpdateTaskInput>();
        check::<CreateTagInput>();
        check::<UpdateTagInput>();
        check::<SetReminderInput>();
    }

    #[test]
    fn parse_body_errors_are_unprocessable() {
        let e =
            parse_body::<CreateTagInput>(&serde_json::json!({"name": "x", "id": 1})).unwrap_err();
        match e {
            crate::error::Error::Unprocessable(v) => assert_eq!(v.first().field, "id"),
            other => panic!("{other:?}"),
        }
        let e = parse_body::<CreateTagInput>(&serde_json::json!({"name": 5})).unwrap_err();
        assert!(
            matches!(e, crate::error::Error::Unprocessable(ref v) if v.first().field == "name")
        );
    }
}
