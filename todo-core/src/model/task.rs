//! The task entity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Collector, ErrorCode, FieldError, ValidationErrors};
use crate::ids::{TagId, TaskId, UserId};
use crate::model::priority::Priority;
use crate::model::recurrence::{RRuleText, Recurrence};
use crate::model::text::{Description, TaskTitle};
use crate::model::time::TimeZone;

/// The most tags one task may carry. Every event about a task carries its tag ids, and
/// `task-created`/`task-completed` their names too: with 5,600 tags one `task-created` event
/// was 1.1 MB, more than Kafka takes. 50 tags of the longest names keep a task's largest event
/// (both versions of every field in a `task-updated`) far below [`MAX_TASK_EVENT_BYTES`].
pub const MAX_TAGS_PER_TASK: usize = 50;

/// The size budget of any encoded event about one task (`task-created`, `task-updated`,
/// `task-completed`, `task-deleted` and their activity entries), in bytes: a sixteenth of
/// Kafka's default 1 MB message limit. The largest task the limits allow stays under it; a test
/// in `todo-events` checks that, so that a new field cannot silently break it.
pub const MAX_TASK_EVENT_BYTES: usize = 64 * 1024;

/// A task as stored. Its field values are valid by construction (validated newtypes); the
/// cross-field rules (a recurring task has a due date, the end date is not before it) are kept by
/// [`crate::input`] and the service, and checked again by [`Task::check_invariants`] when a task
/// is read from outside (JSON from a host).
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Assigned by the store.
    pub id: TaskId,
    /// The owner.
    pub user_id: UserId,
    /// The title.
    pub title: TaskTitle,
    /// The description, if any.
    pub description: Option<Description>,
    /// Whether the task is done.
    pub completed: bool,
    /// When it was completed (`None` while pending).
    pub completed_at: Option<DateTime<Utc>>,
    /// When it is due.
    pub due_datetime: Option<DateTime<Utc>>,
    /// Its priority.
    pub priority: Priority,
    /// How it repeats.
    pub recurrence: Recurrence,
    /// No occurrence after this instant.
    pub recurrence_end_date: Option<DateTime<Utc>>,
    /// The first due date of the series this task belongs to (the RRULE's DTSTART, and the day of
    /// month a `monthly` series returns to). `None` for tasks that do not repeat.
    pub series_start: Option<DateTime<Utc>>,
    /// The zone in which recurrence is computed.
    pub timezone: TimeZone,
    /// The task whose completion created this one. A plain reference: it stays when that task is deleted.
    pub parent_task_id: Option<TaskId>,
    /// The next instance that completing this recurring task created. Set once and kept even when
    /// that instance is deleted, so that no completion or replay ever creates a second one.
    pub next_task_id: Option<TaskId>,
    /// Attached tags, ascending and without duplicates.
    pub tag_ids: Vec<TagId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl Task {
    /// Checks the rules that span fields.
    pub fn check_invariants(&self) -> Result<(), ValidationErrors> {
        let mut c = Collector::new();
        check_schedule(
            &mut c,
            &self.recurrence,
            self.due_datetime,
            self.recurrence_end_date,
        );
        if self.recurrence.is_recurring() && self.series_start.is_none() {
            c.push(FieldError::new(
                "series_start",
                ErrorCode::Required,
                "a recurring task needs its series start",
            ));
        }
        if self.completed != self.completed_at.is_some() {
            c.push(FieldError::new(
                "completed_at",
                ErrorCode::Inconsistent,
                "completed_at must be set exactly when completed is true",
            ));
        }
        if self.tag_ids.windows(2).any(|w| w[0] >= w[1]) {
            c.push(FieldError::new(
                "tag_ids",
                ErrorCode::Duplicate,
                "tag_ids must be ascending without duplicates",
            ));
        }
        c.finish()
    }

    /// Whether the task repeats.
    pub fn is_recurring(&self) -> bool {
        self.recurrence.is_recurring()
    }

    /// Starts a task with what every task has: id, owner, title and creation time. Everything
    /// else starts at its default (see [`TaskBuilder`]).
    pub fn builder(
        id: TaskId,
        user_id: UserId,
        title: TaskTitle,
        created_at: DateTime<Utc>,
    ) -> TaskBuilder {
        TaskBuilder {
            task: Task {
                id,
                user_id,
                title,
                description: None,
                completed: false,
                completed_at: None,
                due_datetime: None,
                priority: Priority::default(),
                recurrence: Recurrence::None,
                recurrence_end_date: None,
                series_start: None,
                timezone: TimeZone::default(),
                parent_task_id: None,
                next_task_id: None,
                tag_ids: Vec::new(),
                created_at,
                updated_at: created_at,
            },
        }
    }
}

/// A [`Task`] under construction, from [`Task::builder`]: the one place that spells out a whole
/// task with its defaults, for tests, fixtures and conversions that set only a few fields.
///
/// Defaults: pending (not completed), no description, no due date, [`Priority::default`]
/// (`Medium`), no recurrence, end date or series start, [`TimeZone::default`] (UTC), no parent or
/// next instance, no tags, and `updated_at` = `created_at`. Setters of optional fields take the
/// value or an `Option` of it.
///
/// The setters keep what one field decides for another: [`completed_at`](Self::completed_at) sets
/// `completed` too, [`tag_ids`](Self::tag_ids) sorts and deduplicates, and [`build`](Self::build)
/// gives a recurring task without a series start its due date as series start (as the JSON form
/// does). The rules between values the caller chooses (a recurring task needs a due date, the end
/// date is not before it) are not checked: `build` returns the task as given, never an error, so
/// that tests can build the invalid states they are about. Call [`Task::check_invariants`] on a
/// task built from outside values.
#[derive(Debug, Clone)]
#[must_use]
pub struct TaskBuilder {
    task: Task,
}

impl TaskBuilder {
    /// The description.
    pub fn description(mut self, description: impl Into<Option<Description>>) -> Self {
        self.task.description = description.into();
        self
    }

    /// Completed at `at` (`completed` = true), or pending for `None`.
    pub fn completed_at(mut self, at: impl Into<Option<DateTime<Utc>>>) -> Self {
        self.task.completed_at = at.into();
        self.task.completed = self.task.completed_at.is_some();
        self
    }

    /// The due date.
    pub fn due_datetime(mut self, due: impl Into<Option<DateTime<Utc>>>) -> Self {
        self.task.due_datetime = due.into();
        self
    }

    /// The priority.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.task.priority = priority;
        self
    }

    /// How it repeats.
    pub fn recurrence(mut self, recurrence: Recurrence) -> Self {
        self.task.recurrence = recurrence;
        self
    }

    /// No occurrence after this instant.
    pub fn recurrence_end_date(mut self, end: impl Into<Option<DateTime<Utc>>>) -> Self {
        self.task.recurrence_end_date = end.into();
        self
    }

    /// The first due date of the series (by default the due date, for a recurring task).
    pub fn series_start(mut self, start: impl Into<Option<DateTime<Utc>>>) -> Self {
        self.task.series_start = start.into();
        self
    }

    /// The zone in which recurrence is computed.
    pub fn timezone(mut self, timezone: TimeZone) -> Self {
        self.task.timezone = timezone;
        self
    }

    /// The task whose completion created this one.
    pub fn parent_task_id(mut self, parent: impl Into<Option<TaskId>>) -> Self {
        self.task.parent_task_id = parent.into();
        self
    }

    /// The next instance that completing this task created.
    pub fn next_task_id(mut self, next: impl Into<Option<TaskId>>) -> Self {
        self.task.next_task_id = next.into();
        self
    }

    /// The attached tags, sorted and without duplicates.
    pub fn tag_ids(mut self, tag_ids: impl IntoIterator<Item = TagId>) -> Self {
        let mut tag_ids: Vec<TagId> = tag_ids.into_iter().collect();
        tag_ids.sort_unstable();
        tag_ids.dedup();
        self.task.tag_ids = tag_ids;
        self
    }

    /// When it last changed (by default `created_at`).
    pub fn updated_at(mut self, at: DateTime<Utc>) -> Self {
        self.task.updated_at = at;
        self
    }

    /// The task, unchecked (see [`TaskBuilder`]).
    pub fn build(self) -> Task {
        let mut task = self.task;
        if task.recurrence.is_recurring() && task.series_start.is_none() {
            task.series_start = task.due_datetime;
        }
        task
    }
}

/// Records the cross-field schedule errors: a recurring task needs a due date, and the end date
/// must not be before it.
pub(crate) fn check_schedule(
    c: &mut Collector,
    recurrence: &Recurrence,
    due: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
) {
    if recurrence.is_recurring() && due.is_none() {
        c.push(FieldError::new(
            "due_datetime",
            ErrorCode::Required,
            "a recurring task needs a due_datetime",
        ));
    }
    if let (Some(due), Some(end)) = (due, end)
        && end < due
    {
        c.push(FieldError::new(
            "recurrence_end_date",
            ErrorCode::OutOfRange,
            "recurrence_end_date must not be before due_datetime",
        ));
    }
}

/// The JSON shape of a task, as in the contract (plus `tag_ids`, `series_start`, `completed_at`).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskWire {
    id: TaskId,
    user_id: UserId,
    title: TaskTitle,
    #[serde(default)]
    description: Option<Description>,
    #[serde(default)]
    completed: bool,
    #[serde(default)]
    completed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    due_datetime: Option<DateTime<Utc>>,
    #[serde(default)]
    priority: Priority,
    #[serde(default = "none_str")]
    recurrence_pattern: String,
    #[serde(default)]
    rrule: Option<RRuleText>,
    #[serde(default)]
    recurrence_end_date: Option<DateTime<Utc>>,
    #[serde(default)]
    series_start: Option<DateTime<Utc>>,
    #[serde(default)]
    timezone: TimeZone,
    #[serde(default)]
    parent_task_id: Option<TaskId>,
    #[serde(default)]
    next_task_id: Option<TaskId>,
    #[serde(default)]
    tag_ids: Vec<TagId>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn none_str() -> String {
    "none".to_owned()
}

impl Serialize for Task {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        TaskWire {
            id: self.id,
            user_id: self.user_id.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            completed: self.completed,
            completed_at: self.completed_at,
            due_datetime: self.due_datetime,
            priority: self.priority,
            recurrence_pattern: self.recurrence.pattern_str().to_owned(),
            rrule: self.recurrence.rrule().cloned(),
            recurrence_end_date: self.recurrence_end_date,
            series_start: self.series_start,
            timezone: self.timezone,
            parent_task_id: self.parent_task_id,
            next_task_id: self.next_task_id,
            tag_ids: self.tag_ids.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Task {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let w = TaskWire::deserialize(d)?;
        let recurrence = match (Recurrence::parse_pattern(&w.recurrence_pattern), w.rrule) {
            (Err(e), _) => return Err(D::Error::custom(e)),
            (Ok(Recurrence::None), Some(r)) => Recurrence::Rule(r),
            (Ok(p), None) => p,
            (Ok(_), Some(_)) => {
                return Err(D::Error::custom(
                    "recurrence_pattern and rrule are exclusive: give one of them",
                ));
            }
        };
        let mut tag_ids = w.tag_ids;
        tag_ids.sort_unstable();
        tag_ids.dedup();
        let series_start = match (&recurrence, w.series_start) {
            (Recurrence::None, _) => None,
            (_, Some(s)) => Some(s),
            (_, None) => w.due_datetime,
        };
        let task = Task {
            id: w.id,
            user_id: w.user_id,
            title: w.title,
            description: w.description,
            completed: w.completed,
            completed_at: w.completed_at,
            due_datetime: w.due_datetime,
            priority: w.priority,
            recurrence,
            recurrence_end_date: w.recurrence_end_date,
            series_start,
            timezone: w.timezone,
            parent_task_id: w.parent_task_id,
            next_task_id: w.next_task_id,
            tag_ids,
            created_at: w.created_at,
            updated_at: w.updated_at,
        };
        let task = Task {
            completed_at: match (task.completed, task.completed_at) {
                (true, None) => Some(task.updated_at),
                (false, _) => None,
                (true, at) => at,
            },
            ..task
        };
        task.check_invariants().map_err(D::Error::custom)?;
        Ok(task)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RecurrencePattern, parse_instant};

    fn at(s: &str) -> DateTime<Utc> {
        parse_instant("t", s).unwrap()
    }

    fn start() -> TaskBuilder {
        Task::builder(
            TaskId::new(1),
            UserId::parse("u").unwrap(),
            TaskTitle::parse("t").unwrap(),
            at("2030-01-01T09:00:00Z"),
        )
    }

    #[test]
    fn a_built_task_starts_pending_without_optional_fields() {
        let task = start().build();
        assert_eq!(task.id, TaskId::new(1));
        assert_eq!(task.user_id.as_str(), "u");
        assert_eq!(task.title.as_str(), "t");
        assert_eq!(task.description, None);
        assert!(!task.completed);
        assert_eq!(task.completed_at, None);
        assert_eq!(task.due_datetime, None);
        assert_eq!(task.priority, Priority::Medium);
        assert_eq!(task.recurrence, Recurrence::None);
        assert_eq!(task.recurrence_end_date, None);
        assert_eq!(task.series_start, None);
        assert_eq!(task.timezone, TimeZone::UTC);
        assert_eq!(task.parent_task_id, None);
        assert_eq!(task.next_task_id, None);
        assert!(task.tag_ids.is_empty());
        assert_eq!(task.created_at, at("2030-01-01T09:00:00Z"));
        assert_eq!(task.updated_at, task.created_at);
        assert_eq!(task.check_invariants(), Ok(()));
    }

    #[test]
    fn setters_keep_completion_tags_and_series_start_consistent() {
        let done = start().completed_at(at("2030-01-02T09:00:00Z")).build();
        assert!(done.completed);
        assert_eq!(done.completed_at, Some(at("2030-01-02T09:00:00Z")));
        assert!(!start().completed_at(None).build().completed);

        let tagged = start().tag_ids([5, 2, 5].map(TagId::new)).build().tag_ids;
        assert_eq!(tagged, vec![TagId::new(2), TagId::new(5)]);

        let weekly = start()
            .recurrence(Recurrence::Pattern(RecurrencePattern::Weekly))
            .due_datetime(at("2030-01-03T09:00:00Z"))
            .build();
        assert_eq!(weekly.series_start, Some(at("2030-01-03T09:00:00Z")));
        assert_eq!(weekly.check_invariants(), Ok(()));
        let resumed = start()
            .recurrence(Recurrence::Pattern(RecurrencePattern::Weekly))
            .due_datetime(at("2030-01-10T09:00:00Z"))
            .series_start(at("2030-01-03T09:00:00Z"))
            .build();
        assert_eq!(resumed.series_start, Some(at("2030-01-03T09:00:00Z")));
    }

    #[test]
    fn build_does_not_check_the_rules_between_chosen_values() {
        let task = start()
            .recurrence(Recurrence::Pattern(RecurrencePattern::Daily))
            .build();
        assert_eq!(task.due_datetime, None);
        let errors = task.check_invariants().unwrap_err();
        assert!(errors.to_string().contains("due_datetime"), "{errors}");
    }
}
