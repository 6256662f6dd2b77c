//! The activity log entry: one per mutation, with old and new values.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{ActivityId, TaskId, UserId};

/// Field values as a JSON object (`{"completed": false}`).
pub type Values = serde_json::Map<String, serde_json::Value>;

/// What a mutation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ActivityAction {
    /// A task was created (also the next instance of a recurring task).
    TaskCreated,
    /// Fields of a task changed (including un-completing it).
    TaskUpdated,
    /// A task was completed.
    TaskCompleted,
    /// A task was deleted.
    TaskDeleted,
    /// A tag was attached to a task.
    TagAttached,
    /// A tag was detached from a task.
    TagDetached,
    /// A tag was created.
    TagCreated,
    /// A tag was renamed or recolored.
    TagUpdated,
    /// A tag was deleted (and detached from its tasks).
    TagDeleted,
    /// A reminder was set (or replaced).
    ReminderSet,
    /// A reminder was cancelled.
    ReminderCancelled,
    /// A reminder fired.
    ReminderSent,
}

impl ActivityAction {
    /// The API name, e.g. `task-completed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ActivityAction::TaskCreated => "task-created",
            ActivityAction::TaskUpdated => "task-updated",
            ActivityAction::TaskCompleted => "task-completed",
            ActivityAction::TaskDeleted => "task-deleted",
            ActivityAction::TagAttached => "tag-attached",
            ActivityAction::TagDetached => "tag-detached",
            ActivityAction::TagCreated => "tag-created",
            ActivityAction::TagUpdated => "tag-updated",
            ActivityAction::TagDeleted => "tag-deleted",
            ActivityAction::ReminderSet => "reminder-set",
            ActivityAction::ReminderCancelled => "reminder-cancelled",
            ActivityAction::ReminderSent => "reminder-sent",
        }
    }

    /// Every action.
    pub const ALL: [ActivityAction; 12] = [
        ActivityAction::TaskCreated,
        ActivityAction::TaskUpdated,
        ActivityAction::TaskCompleted,
        ActivityAction::TaskDeleted,
        ActivityAction::TagAttached,
        ActivityAction::TagDetached,
        ActivityAction::TagCreated,
        ActivityAction::TagUpdated,
        ActivityAction::TagDeleted,
        ActivityAction::ReminderSet,
        ActivityAction::ReminderCancelled,
        ActivityAction::ReminderSent,
    ];

    /// Parses an API name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

impl fmt::Display for ActivityAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a user's activity log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityEntry {
    /// Assigned by the store.
    pub id: ActivityId,
    /// Whose activity.
    pub user_id: UserId,
    /// The task it concerns, if any (tag CRUD concerns none).
    pub task_id: Option<TaskId>,
    /// What happened.
    pub action: ActivityAction,
    /// Values before (only the changed fields for updates; `None` for creations).
    pub old_values: Option<Values>,
    /// Values after (`None` for deletions of tags).
    pub new_values: Option<Values>,
    /// When.
    pub created_at: DateTime<Utc>,
}
