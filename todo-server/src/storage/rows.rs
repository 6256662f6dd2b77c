//! Row <-> domain mapping shared by the SQLite and PostgreSQL adapters: the dialects decode
//! their columns into these plain parts (timestamps already as `DateTime<Utc>`), and these
//! functions rebuild the validated domain values.

use chrono::{DateTime, Utc};
use todo_core::model::{
    ActivityAction, ActivityEntry, Color, Description, Priority, RRuleText, Recurrence, Reminder,
    ReminderStatus, ReminderType, Tag, TagName, Task, TaskTitle, TimeZone, Values,
};
use todo_core::{ActivityId, ReminderId, StoreError, TagId, TaskId, UserId};

use super::error::corrupt;

/// The stored columns of a task, decoded but not yet validated.
pub(crate) struct TaskParts {
    pub id: i64,
    pub user_id: String,
    pub title: String,
    pub description: Option<String>,
    pub completed: bool,
    pub completed_at: Option<DateTime<Utc>>,
    pub due_datetime: Option<DateTime<Utc>>,
    pub priority: String,
    pub recurrence_pattern: String,
    pub rrule: Option<String>,
    pub recurrence_end_date: Option<DateTime<Utc>>,
    pub series_start: Option<DateTime<Utc>>,
    pub timezone: String,
    pub parent_task_id: Option<i64>,
    pub next_task_id: Option<i64>,
    /// Comma-separated tag ids (any order), `None` without tags.
    pub tag_ids: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) fn user(s: String) -> Result<UserId, StoreError> {
    UserId::parse(&s).map_err(|e| corrupt("user_id", e))
}

impl TaskParts {
    pub(crate) fn into_task(self) -> Result<Task, StoreError> {
        let recurrence = match self.rrule {
            Some(r) => {
                Recurrence::Rule(RRuleText::parse_stored(&r).map_err(|e| corrupt("rrule", e))?)
            }
            None => Recurrence::parse_pattern(&self.recurrence_pattern)
                .map_err(|e| corrupt("recurrence_pattern", e))?,
        };
        let mut tag_ids = match self.tag_ids.as_deref() {
            None | Some("") => Vec::new(),
            Some(s) => s
                .split(',')
                .map(|p| p.trim().parse::<i64>().map(TagId::new))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| corrupt("tag ids", e))?,
        };
        tag_ids.sort_unstable();
        tag_ids.dedup();
        Ok(Task {
            id: TaskId::new(self.id),
            user_id: user(self.user_id)?,
            title: TaskTitle::parse(&self.title).map_err(|e| corrupt("title", e))?,
            description: self
                .description
                .map(|d| Description::parse(&d))
                .transpose()
                .map_err(|e| corrupt("description", e))?,
            completed: self.completed,
            completed_at: self.completed_at,
            due_datetime: self.due_datetime,
            priority: Priority::parse("priority", &self.priority)
                .map_err(|e| corrupt("priority", e))?,
            recurrence,
            recurrence_end_date: self.recurrence_end_date,
            series_start: self.series_start,
            timezone: TimeZone::parse(&self.timezone).map_err(|e| corrupt("timezone", e))?,
            parent_task_id: self.parent_task_id.map(TaskId::new),
            next_task_id: self.next_task_id.map(TaskId::new),
            tag_ids,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// The computed columns of a task: `search_text`, `title_key`, `priority_rank`.
pub(crate) fn computed(task: &Task) -> (String, String, i16) {
    (
        todo_core::query::search_text(
            task.title.as_str(),
            task.description.as_ref().map(Description::as_str),
        ),
        todo_core::query::title_key(task.title.as_str()),
        i16::from(task.priority.rank()),
    )
}

/// Builds a tag.
pub(crate) fn tag(
    id: i64,
    user_id: String,
    name: String,
    color: String,
    created_at: DateTime<Utc>,
) -> Result<Tag, StoreError> {
    Ok(Tag {
        id: TagId::new(id),
        user_id: user(user_id)?,
        name: TagName::parse(&name).map_err(|e| corrupt("tag name", e))?,
        color: Color::parse(&color).map_err(|e| corrupt("color", e))?,
        created_at,
    })
}

/// The stored columns of a reminder.
pub(crate) struct ReminderParts {
    pub id: i64,
    pub task_id: i64,
    pub user_id: String,
    pub reminder_time: DateTime<Utc>,
    pub reminder_type: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl ReminderParts {
    pub(crate) fn into_reminder(self) -> Result<Reminder, StoreError> {
        Ok(Reminder {
            id: ReminderId::new(self.id),
            task_id: TaskId::new(self.task_id),
            user_id: user(self.user_id)?,
            reminder_time: self.reminder_time,
            reminder_type: ReminderType::parse(&self.reminder_type)
                .map_err(|e| corrupt("reminder_type", e))?,
            status: ReminderStatus::parse(&self.status).map_err(|e| corrupt("status", e))?,
            created_at: self.created_at,
            sent_at: self.sent_at,
            cancelled_at: self.cancelled_at,
        })
    }
}

/// Builds an activity entry.
pub(crate) fn activity(
    id: i64,
    user_id: String,
    task_id: Option<i64>,
    action: &str,
    old_values: Option<Values>,
    new_values: Option<Values>,
    created_at: DateTime<Utc>,
) -> Result<ActivityEntry, StoreError> {
    Ok(ActivityEntry {
        id: ActivityId::new(id),
        user_id: user(user_id)?,
        task_id: task_id.map(TaskId::new),
        action: ActivityAction::parse(action).ok_or_else(|| corrupt("action", action))?,
        old_values,
        new_values,
        created_at,
    })
}

/// A search word as a `LIKE` pattern: `%word%` with `%`, `_` and `\` escaped (`ESCAPE '\'`).
pub(crate) fn like_pattern(word: &str) -> String {
    let mut p = String::with_capacity(word.len() + 2);
    p.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// A `u64` (offset, count) for SQL's signed 64-bit integers.
pub(crate) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A count read from SQL.
pub(crate) fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn like_escapes() {
        assert_eq!(like_pattern("a%b_c\\d"), "%a\\%b\\_c\\\\d%");
        assert_eq!(like_pattern("plain"), "%plain%");
    }
}
