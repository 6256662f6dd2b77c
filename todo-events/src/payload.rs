//! The `data` of each event type: one struct per type, and [`EventData`], the union of them.
//!
//! Fields the plan's examples show are required (nullable ones must be present as `null`);
//! fields this crate added to 1.0 beyond the plan's examples are optional on input (absent means
//! the default) and always written on output. Unknown fields are rejected, except in events of a
//! newer minor version (see [`crate::version`]).

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use todo_core::ids::{ActivityId, ReminderId, TagId, TaskId, UserId};
use todo_core::model::{
    ActivityAction, Description, Priority, RRuleText, Recurrence, RecurrencePattern, TagName, Task,
    TaskTitle, TimeZone, Values,
};

use crate::error::Error;
use crate::event_type::EventType;
use crate::rfc3339;

/// `task-created`: the new task's full state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskCreated {
    /// The task.
    pub task_id: TaskId,
    /// Its owner.
    pub user_id: UserId,
    /// Its title.
    pub title: TaskTitle,
    /// Its description (`null` when none).
    #[serde(deserialize_with = "nullable")]
    pub description: Option<Description>,
    /// Whether it is done (normally `false`).
    pub completed: bool,
    /// When it is due (`null` when never).
    #[serde(with = "rfc3339::option")]
    pub due_datetime: Option<DateTime<Utc>>,
    /// Its priority.
    pub priority: Priority,
    /// `daily|weekly|monthly`, or `none` (`None`) for a task that does not repeat or repeats by `rrule`.
    #[serde(with = "pattern")]
    pub recurrence_pattern: Option<RecurrencePattern>,
    /// No occurrence after this instant.
    #[serde(with = "rfc3339::option")]
    pub recurrence_end_date: Option<DateTime<Utc>>,
    /// The names of its tags, in `tag_ids` order.
    pub tags: Vec<TagName>,
    /// The RFC 5545 rule it repeats by, instead of `recurrence_pattern`. Optional on input.
    #[serde(default)]
    pub rrule: Option<RRuleText>,
    /// The IANA zone recurrence is computed in. Optional on input (default `UTC`).
    #[serde(default)]
    pub timezone: TimeZone,
    /// The first due date of its series (recurring tasks). Optional on input.
    #[serde(default, with = "rfc3339::option")]
    pub series_start: Option<DateTime<Utc>>,
    /// The task whose completion created this one. Optional on input.
    #[serde(default)]
    pub parent_task_id: Option<TaskId>,
    /// The ids of its tags, ascending; `tags[i]` is the name of `tag_ids[i]`. Optional on input.
    #[serde(default)]
    pub tag_ids: Vec<TagId>,
    /// When it was created. Optional on input.
    #[serde(default, with = "rfc3339::option")]
    pub created_at: Option<DateTime<Utc>>,
}

/// `task-updated`: only the changed fields, with their values before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskUpdated {
    /// The task.
    pub task_id: TaskId,
    /// Its owner.
    pub user_id: UserId,
    /// Names of the changed fields (task JSON field names), without duplicates.
    pub changed_fields: Vec<String>,
    /// Values before; every key is one of `changed_fields`.
    pub old_values: Values,
    /// Values after; every key is one of `changed_fields`.
    pub new_values: Values,
}

/// `task-completed`: the completed task's full state, enough for a consumer in another service
/// to create the next instance of a recurring task from the event alone ([`TaskCompleted::to_task`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskCompleted {
    /// The task.
    pub task_id: TaskId,
    /// Its owner.
    pub user_id: UserId,
    /// Always `true`.
    pub completed: bool,
    /// When it was completed.
    #[serde(with = "rfc3339::instant")]
    pub completed_at: DateTime<Utc>,
    /// Its title.
    pub title: TaskTitle,
    /// Its description (`null` when none).
    #[serde(deserialize_with = "nullable")]
    pub description: Option<Description>,
    /// Its priority.
    pub priority: Priority,
    /// When it was due (`null` when never).
    #[serde(with = "rfc3339::option")]
    pub due_datetime: Option<DateTime<Utc>>,
    /// `daily|weekly|monthly`, or `none` (`None`).
    #[serde(with = "pattern")]
    pub recurrence_pattern: Option<RecurrencePattern>,
    /// The RFC 5545 rule it repeats by (`null` when none).
    #[serde(deserialize_with = "nullable")]
    pub rrule: Option<RRuleText>,
    /// No occurrence after this instant.
    #[serde(with = "rfc3339::option")]
    pub recurrence_end_date: Option<DateTime<Utc>>,
    /// The first due date of its series (`null` for a task that does not repeat).
    #[serde(with = "rfc3339::option")]
    pub series_start: Option<DateTime<Utc>>,
    /// The IANA zone recurrence is computed in.
    pub timezone: TimeZone,
    /// The task whose completion created this one.
    #[serde(deserialize_with = "nullable")]
    pub parent_task_id: Option<TaskId>,
    /// The names of its tags, in `tag_ids` order.
    pub tags: Vec<TagName>,
    /// The ids of its tags, ascending.
    pub tag_ids: Vec<TagId>,
    /// When it was created.
    #[serde(with = "rfc3339::instant")]
    pub created_at: DateTime<Utc>,
    /// The next instance, when the producer already created it (`null` otherwise).
    #[serde(deserialize_with = "nullable")]
    pub next_task_id: Option<TaskId>,
}

/// `task-deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskDeleted {
    /// The task.
    pub task_id: TaskId,
    /// Its owner.
    pub user_id: UserId,
    /// Its title, for notifications.
    pub title: TaskTitle,
}

/// `reminder-triggered`: a reminder's time arrived.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderTriggered {
    /// The reminder.
    pub reminder_id: ReminderId,
    /// Its task.
    pub task_id: TaskId,
    /// The owner.
    pub user_id: UserId,
    /// When it was meant to fire.
    #[serde(with = "rfc3339::instant")]
    pub reminder_time: DateTime<Utc>,
    /// The task's title.
    pub task_title: TaskTitle,
    /// The task's due date (`null` when none).
    #[serde(with = "rfc3339::option")]
    pub task_due_datetime: Option<DateTime<Utc>>,
    /// The task's priority.
    pub priority: Priority,
}

/// `activity-log-created`: an entry of the user's activity log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityLogCreated {
    /// The entry.
    pub log_id: ActivityId,
    /// Whose activity.
    pub user_id: UserId,
    /// The task it concerns (`null` for tag changes).
    #[serde(deserialize_with = "nullable")]
    pub task_id: Option<TaskId>,
    /// What happened.
    pub action: ActivityAction,
    /// Values before (`null` for creations).
    #[serde(deserialize_with = "nullable")]
    pub old_values: Option<Values>,
    /// Values after (`null` for deletions of tags).
    #[serde(deserialize_with = "nullable")]
    pub new_values: Option<Values>,
    /// When the entry was written. Optional on input.
    #[serde(default, with = "rfc3339::option")]
    pub created_at: Option<DateTime<Utc>>,
}

/// The `data` of an envelope, by event type.
#[derive(Debug, Clone, PartialEq)]
pub enum EventData {
    /// `task-created`.
    TaskCreated(TaskCreated),
    /// `task-updated`.
    TaskUpdated(TaskUpdated),
    /// `task-completed`.
    TaskCompleted(TaskCompleted),
    /// `task-deleted`.
    TaskDeleted(TaskDeleted),
    /// `reminder-triggered`.
    ReminderTriggered(ReminderTriggered),
    /// `activity-log-created`.
    ActivityLogCreated(ActivityLogCreated),
}

impl EventData {
    /// The event type.
    pub fn event_type(&self) -> EventType {
        match self {
            EventData::TaskCreated(_) => EventType::TaskCreated,
            EventData::TaskUpdated(_) => EventType::TaskUpdated,
            EventData::TaskCompleted(_) => EventType::TaskCompleted,
            EventData::TaskDeleted(_) => EventType::TaskDeleted,
            EventData::ReminderTriggered(_) => EventType::ReminderTriggered,
            EventData::ActivityLogCreated(_) => EventType::ActivityLogCreated,
        }
    }

    /// The user the event belongs to.
    pub fn user_id(&self) -> &UserId {
        match self {
            EventData::TaskCreated(d) => &d.user_id,
            EventData::TaskUpdated(d) => &d.user_id,
            EventData::TaskCompleted(d) => &d.user_id,
            EventData::TaskDeleted(d) => &d.user_id,
            EventData::ReminderTriggered(d) => &d.user_id,
            EventData::ActivityLogCreated(d) => &d.user_id,
        }
    }

    /// The task the event concerns, if any.
    pub fn task_id(&self) -> Option<TaskId> {
        match self {
            EventData::TaskCreated(d) => Some(d.task_id),
            EventData::TaskUpdated(d) => Some(d.task_id),
            EventData::TaskCompleted(d) => Some(d.task_id),
            EventData::TaskDeleted(d) => Some(d.task_id),
            EventData::ReminderTriggered(d) => Some(d.task_id),
            EventData::ActivityLogCreated(d) => d.task_id,
        }
    }

    /// Checks the rules between fields that serde cannot express.
    pub fn check(&self) -> Result<(), Error> {
        let r = match self {
            EventData::TaskCreated(d) => d.check(),
            EventData::TaskUpdated(d) => d.check(),
            EventData::TaskCompleted(d) => d.check(),
            EventData::TaskDeleted(d) => d.check(),
            EventData::ReminderTriggered(d) => d.check(),
            EventData::ActivityLogCreated(d) => d.check(),
        };
        r.map_err(|reason| Error::malformed(self.event_type().as_str(), reason))
    }
}

impl Serialize for EventData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            EventData::TaskCreated(d) => d.serialize(s),
            EventData::TaskUpdated(d) => d.serialize(s),
            EventData::TaskCompleted(d) => d.serialize(s),
            EventData::TaskDeleted(d) => d.serialize(s),
            EventData::ReminderTriggered(d) => d.serialize(s),
            EventData::ActivityLogCreated(d) => d.serialize(s),
        }
    }
}

/// What the decoder needs to know about each data struct.
pub(crate) trait Data: Serialize + DeserializeOwned + Sized {
    /// Every JSON key of the struct, for dropping unknown keys of a newer minor version.
    const FIELDS: &'static [&'static str];
    /// Rules between fields; the reason on failure.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
    /// Wraps the struct.
    fn into_data(self) -> EventData;
}

impl Data for TaskCreated {
    const FIELDS: &'static [&'static str] = &[
        "task_id",
        "user_id",
        "title",
        "description",
        "completed",
        "due_datetime",
        "priority",
        "recurrence_pattern",
        "recurrence_end_date",
        "tags",
        "rrule",
        "timezone",
        "series_start",
        "parent_task_id",
        "tag_ids",
        "created_at",
    ];
    fn check(&self) -> Result<(), String> {
        positive("task_id", self.task_id.get())?;
        positive_opt("parent_task_id", self.parent_task_id)?;
        check_schedule(
            self.recurrence_pattern,
            self.rrule.as_ref(),
            self.due_datetime,
            self.recurrence_end_date,
        )?;
        check_tags(&self.tags, &self.tag_ids, true)
    }
    fn into_data(self) -> EventData {
        EventData::TaskCreated(self)
    }
}

impl Data for TaskUpdated {
    const FIELDS: &'static [&'static str] = &[
        "task_id",
        "user_id",
        "changed_fields",
        "old_values",
        "new_values",
    ];
    fn check(&self) -> Result<(), String> {
        positive("task_id", self.task_id.get())?;
        for (i, f) in self.changed_fields.iter().enumerate() {
            if f.is_empty() {
                return Err("changed_fields must not contain an empty name".into());
            }
            if self.changed_fields[..i].contains(f) {
                return Err(format!("changed_fields names {f:?} twice"));
            }
        }
        for (name, values) in [
            ("old_values", &self.old_values),
            ("new_values", &self.new_values),
        ] {
            if let Some(k) = values.keys().find(|k| !self.changed_fields.contains(k)) {
                return Err(format!("{name} has {k:?}, which is not in changed_fields"));
            }
        }
        Ok(())
    }
    fn into_data(self) -> EventData {
        EventData::TaskUpdated(self)
    }
}

impl Data for TaskCompleted {
    const FIELDS: &'static [&'static str] = &[
        "task_id",
        "user_id",
        "completed",
        "completed_at",
        "title",
        "description",
        "priority",
        "due_datetime",
        "recurrence_pattern",
        "rrule",
        "recurrence_end_date",
        "series_start",
        "timezone",
        "parent_task_id",
        "tags",
        "tag_ids",
        "created_at",
        "next_task_id",
    ];
    fn check(&self) -> Result<(), String> {
        positive("task_id", self.task_id.get())?;
        positive_opt("parent_task_id", self.parent_task_id)?;
        positive_opt("next_task_id", self.next_task_id)?;
        if !self.completed {
            return Err("completed must be true".into());
        }
        if self.next_task_id == Some(self.task_id) {
            return Err("next_task_id must differ from task_id".into());
        }
        check_schedule(
            self.recurrence_pattern,
            self.rrule.as_ref(),
            self.due_datetime,
            self.recurrence_end_date,
        )?;
        let recurring = self.recurrence_pattern.is_some() || self.rrule.is_some();
        if recurring && self.series_start.is_none() {
            return Err("a recurring task needs series_start".into());
        }
        check_tags(&self.tags, &self.tag_ids, false)
    }
    fn into_data(self) -> EventData {
        EventData::TaskCompleted(self)
    }
}

impl Data for TaskDeleted {
    const FIELDS: &'static [&'static str] = &["task_id", "user_id", "title"];
    fn check(&self) -> Result<(), String> {
        positive("task_id", self.task_id.get())
    }
    fn into_data(self) -> EventData {
        EventData::TaskDeleted(self)
    }
}

impl Data for ReminderTriggered {
    const FIELDS: &'static [&'static str] = &[
        "reminder_id",
        "task_id",
        "user_id",
        "reminder_time",
        "task_title",
        "task_due_datetime",
        "priority",
    ];
    fn check(&self) -> Result<(), String> {
        positive("reminder_id", self.reminder_id.get())?;
        positive("task_id", self.task_id.get())
    }
    fn into_data(self) -> EventData {
        EventData::ReminderTriggered(self)
    }
}

impl Data for ActivityLogCreated {
    const FIELDS: &'static [&'static str] = &[
        "log_id",
        "user_id",
        "task_id",
        "action",
        "old_values",
        "new_values",
        "created_at",
    ];
    fn check(&self) -> Result<(), String> {
        positive("log_id", self.log_id.get())?;
        positive_opt("task_id", self.task_id)
    }
    fn into_data(self) -> EventData {
        EventData::ActivityLogCreated(self)
    }
}

impl TaskCreated {
    /// How the task repeats.
    pub fn recurrence(&self) -> Recurrence {
        recurrence(self.recurrence_pattern, self.rrule.as_ref())
    }
}

impl TaskCompleted {
    /// How the task repeats.
    pub fn recurrence(&self) -> Recurrence {
        recurrence(self.recurrence_pattern, self.rrule.as_ref())
    }

    /// The completed task as core's [`Task`], so that a consumer can compute its next instance
    /// with core's recurrence rules. `updated_at` is taken to be `completed_at`.
    pub fn to_task(&self) -> Result<Task, Error> {
        let task = Task {
            id: self.task_id,
            user_id: self.user_id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            completed: self.completed,
            completed_at: Some(self.completed_at),
            due_datetime: self.due_datetime,
            priority: self.priority,
            recurrence: self.recurrence(),
            recurrence_end_date: self.recurrence_end_date,
            series_start: self.series_start,
            timezone: self.timezone,
            parent_task_id: self.parent_task_id,
            next_task_id: self.next_task_id,
            tag_ids: self.tag_ids.clone(),
            created_at: self.created_at,
            updated_at: self.completed_at,
        };
        task.check_invariants()
            .map_err(|e| Error::malformed(EventType::TaskCompleted.as_str(), e.to_string()))?;
        Ok(task)
    }
}

fn recurrence(pattern: Option<RecurrencePattern>, rrule: Option<&RRuleText>) -> Recurrence {
    match (pattern, rrule) {
        (Some(p), _) => Recurrence::Pattern(p),
        (None, Some(r)) => Recurrence::Rule(r.clone()),
        (None, None) => Recurrence::None,
    }
}

/// Store-assigned ids are positive; core's id types deserialize any integer, so check here.
fn positive(field: &str, raw: i64) -> Result<(), String> {
    if raw > 0 {
        Ok(())
    } else {
        Err(format!("{field} must be a positive integer, got {raw}"))
    }
}

fn positive_opt(field: &str, id: Option<TaskId>) -> Result<(), String> {
    id.map_or(Ok(()), |id| positive(field, id.get()))
}

fn check_schedule(
    pattern: Option<RecurrencePattern>,
    rrule: Option<&RRuleText>,
    due: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) -> Result<(), String> {
    if pattern.is_some() && rrule.is_some() {
        return Err("recurrence_pattern and rrule are exclusive: recurrence_pattern must be none with an rrule".into());
    }
    if (pattern.is_some() || rrule.is_some()) && due.is_none() {
        return Err("a recurring task needs a due_datetime".into());
    }
    if let (Some(due), Some(end)) = (due, end)
        && end < due
    {
        return Err("recurrence_end_date must not be before due_datetime".into());
    }
    Ok(())
}

/// `tag_ids` ascending without duplicates and naming the same tags as `tags`; in `task-created`
/// (`ids_optional`) an absent `tag_ids` is accepted, since the plan's example carries only names.
fn check_tags(tags: &[TagName], tag_ids: &[TagId], ids_optional: bool) -> Result<(), String> {
    if let Some(id) = tag_ids.iter().find(|id| id.get() <= 0) {
        return Err(format!("tag_ids must be positive integers, got {id}"));
    }
    if tag_ids.windows(2).any(|w| w[0] >= w[1]) {
        return Err("tag_ids must be ascending without duplicates".into());
    }
    let ids_absent = ids_optional && tag_ids.is_empty();
    if !ids_absent && tag_ids.len() != tags.len() {
        return Err(format!(
            "tags has {} names but tag_ids has {} ids; tags[i] names tag_ids[i]",
            tags.len(),
            tag_ids.len()
        ));
    }
    Ok(())
}

/// Deserializes a nullable field whose key must be present (serde would default a missing
/// `Option` to `None` without this).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)
}

/// `recurrence_pattern` on the wire: `none`, `daily`, `weekly` or `monthly` (exactly; lower case).
mod pattern {
    use serde::{Deserialize, Deserializer, Serializer};
    use todo_core::model::RecurrencePattern;

    pub(super) fn serialize<S: Serializer>(
        p: &Option<RecurrencePattern>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_str(p.map_or("none", RecurrencePattern::as_str))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<RecurrencePattern>, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "none" => Ok(None),
            "daily" => Ok(Some(RecurrencePattern::Daily)),
            "weekly" => Ok(Some(RecurrencePattern::Weekly)),
            "monthly" => Ok(Some(RecurrencePattern::Monthly)),
            _ => Err(serde::de::Error::custom(format!(
                "recurrence_pattern must be one of none, daily, weekly, monthly; got {s:?}"
            ))),
        }
    }
}
