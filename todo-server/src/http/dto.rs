//! Response shapes of the contract. Instants are RFC 3339 in UTC with `Z`.

use serde::Serialize;
use serde_json::Value;
use todo_core::model::{ActivityEntry, Reminder, Tag, format_instant};
use todo_core::ports::TagWithCount;
use todo_core::service::TaskView;
use utoipa::ToSchema;

fn instant(t: chrono::DateTime<chrono::Utc>) -> String {
    format_instant(t)
}

/// A tag as embedded in a task: `{id,name,color}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TagRef {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `#RRGGBB`.
    pub color: String,
}

/// A pending reminder: `{id, task_id, reminder_time, reminder_type, status, created_at}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReminderDto {
    /// Id.
    pub id: i64,
    /// The task.
    pub task_id: i64,
    /// When it fires.
    #[schema(format = DateTime)]
    pub reminder_time: String,
    /// `due_date` or `custom`.
    #[schema(value_type = super::openapi::ReminderType)]
    pub reminder_type: &'static str,
    /// `pending`, `sent` or `cancelled`.
    #[schema(value_type = super::openapi::ReminderStatus)]
    pub status: &'static str,
    /// When it was set.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Reminder> for ReminderDto {
    fn from(r: &Reminder) -> Self {
        ReminderDto {
            id: r.id.get(),
            task_id: r.task_id.get(),
            reminder_time: instant(r.reminder_time),
            reminder_type: r.reminder_type.as_str(),
            status: r.status.as_str(),
            created_at: instant(r.created_at),
        }
    }
}

/// A cancelled reminder: `{id, status: "cancelled", cancelled_at}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CancelledReminderDto {
    /// Id.
    pub id: i64,
    /// `cancelled`.
    #[schema(value_type = super::openapi::ReminderStatus)]
    pub status: &'static str,
    /// When it was cancelled.
    #[schema(required = true, format = DateTime)]
    pub cancelled_at: Option<String>,
}

impl From<&Reminder> for CancelledReminderDto {
    fn from(r: &Reminder) -> Self {
        CancelledReminderDto {
            id: r.id.get(),
            status: r.status.as_str(),
            cancelled_at: r.cancelled_at.map(instant),
        }
    }
}

/// A task with its tags and pending reminder.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TaskDto {
    /// Id.
    pub id: i64,
    /// Owner.
    pub user_id: String,
    /// Title.
    pub title: String,
    /// Description.
    #[schema(required = true)]
    pub description: Option<String>,
    /// Done?
    pub completed: bool,
    /// When it was completed.
    #[schema(required = true, format = DateTime)]
    pub completed_at: Option<String>,
    /// Due time.
    #[schema(required = true, format = DateTime)]
    pub due_datetime: Option<String>,
    /// `High`, `Medium` or `Low`.
    #[schema(value_type = super::openapi::Priority)]
    pub priority: &'static str,
    /// `daily|weekly|monthly|none` (`none` for an RRULE task).
    #[schema(value_type = super::openapi::RecurrencePattern)]
    pub recurrence_pattern: &'static str,
    /// The RRULE, if any.
    #[schema(required = true)]
    pub rrule: Option<String>,
    /// Last possible occurrence (inclusive).
    #[schema(required = true, format = DateTime)]
    pub recurrence_end_date: Option<String>,
    /// IANA zone.
    #[schema(value_type = String)]
    pub timezone: &'static str,
    /// The task whose completion created this one.
    #[schema(required = true)]
    pub parent_task_id: Option<i64>,
    /// The instance created when this one was completed.
    #[schema(required = true)]
    pub next_task_id: Option<i64>,
    /// Created.
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Last changed.
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Tags.
    pub tags: Vec<TagRef>,
    /// Pending reminder.
    #[schema(required = true)]
    pub reminder: Option<ReminderDto>,
}

impl From<&TaskView> for TaskDto {
    fn from(v: &TaskView) -> Self {
        let t = &v.task;
        TaskDto {
            id: t.id.get(),
            user_id: t.user_id.as_str().to_owned(),
            title: t.title.as_str().to_owned(),
            description: t.description.as_ref().map(|d| d.as_str().to_owned()),
            completed: t.completed,
            completed_at: t.completed_at.map(instant),
            due_datetime: t.due_datetime.map(instant),
            priority: t.priority.as_str(),
            recurrence_pattern: t.recurrence.pattern_str(),
            rrule: t.recurrence.rrule().map(|r| r.as_str().to_owned()),
            recurrence_end_date: t.recurrence_end_date.map(instant),
            timezone: t.timezone.name(),
            parent_task_id: t.parent_task_id.map(|i| i.get()),
            next_task_id: t.next_task_id.map(|i| i.get()),
            created_at: instant(t.created_at),
            updated_at: instant(t.updated_at),
            tags: v
                .tags
                .iter()
                .map(|g| TagRef {
                    id: g.id.get(),
                    name: g.name.as_str().to_owned(),
                    color: g.color.as_str().to_owned(),
                })
                .collect(),
            reminder: v.reminder.as_ref().map(ReminderDto::from),
        }
    }
}

/// A page of tasks: `{tasks,total,limit,offset}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TaskListDto {
    /// The page.
    pub tasks: Vec<TaskDto>,
    /// Matching tasks in all pages.
    pub total: u64,
    /// Page size.
    pub limit: u32,
    /// Offset of the page.
    pub offset: u64,
}

/// A tag: `{id,user_id,name,color,created_at}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TagDto {
    /// Id.
    pub id: i64,
    /// Owner.
    pub user_id: String,
    /// Name.
    pub name: String,
    /// `#RRGGBB`.
    pub color: String,
    /// Created.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&Tag> for TagDto {
    fn from(t: &Tag) -> Self {
        TagDto {
            id: t.id.get(),
            user_id: t.user_id.as_str().to_owned(),
            name: t.name.as_str().to_owned(),
            color: t.color.as_str().to_owned(),
            created_at: instant(t.created_at),
        }
    }
}

/// A tag in the list: `{id,name,color,task_count}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TagCountDto {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// `#RRGGBB`.
    pub color: String,
    /// Tasks carrying it.
    pub task_count: u64,
}

impl From<&TagWithCount> for TagCountDto {
    fn from(t: &TagWithCount) -> Self {
        TagCountDto {
            id: t.tag.id.get(),
            name: t.tag.name.as_str().to_owned(),
            color: t.tag.color.as_str().to_owned(),
            task_count: t.task_count,
        }
    }
}

/// `{tags: [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TagListDto {
    /// The user's tags.
    pub tags: Vec<TagCountDto>,
}

/// An activity entry.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ActivityDto {
    /// Id.
    pub id: i64,
    /// Owner.
    pub user_id: String,
    /// The task it is about, if any.
    #[schema(required = true)]
    pub task_id: Option<i64>,
    /// `task-created`, ...
    #[schema(value_type = String)]
    pub action: &'static str,
    /// Values before (changed fields only for updates).
    #[schema(required = true, value_type = Option<Object>)]
    pub old_values: Option<Value>,
    /// Values after.
    #[schema(required = true, value_type = Option<Object>)]
    pub new_values: Option<Value>,
    /// When.
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<&ActivityEntry> for ActivityDto {
    fn from(e: &ActivityEntry) -> Self {
        ActivityDto {
            id: e.id.get(),
            user_id: e.user_id.as_str().to_owned(),
            task_id: e.task_id.map(|i| i.get()),
            action: e.action.as_str(),
            old_values: e.old_values.clone().map(Value::Object),
            new_values: e.new_values.clone().map(Value::Object),
            created_at: instant(e.created_at),
        }
    }
}

/// A page of the activity log: `{activity_logs,total,limit,offset}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ActivityListDto {
    /// Newest first.
    pub activity_logs: Vec<ActivityDto>,
    /// All entries of the user.
    pub total: u64,
    /// Page size.
    pub limit: u32,
    /// Offset of the page.
    pub offset: u64,
}
