//! Domain events: what happened, recorded in the same unit of work as the change itself.
//! `todo-events` turns them into versioned envelopes for the wire.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, ReminderId, TaskId, UserId};
use crate::model::{ActivityEntry, Priority, Task, Values};

/// A task's state with its tags' names, as carried by `task-created` and `task-completed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSnapshot {
    /// The task.
    pub task: Task,
    /// The names of its tags, in `task.tag_ids` order.
    pub tag_names: Vec<String>,
}

/// What changed in a task: only the changed fields, with their values before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskChange {
    /// The task.
    pub task_id: TaskId,
    /// Names of the changed fields, in the order of the task's JSON shape.
    pub changed_fields: Vec<String>,
    /// Their values before.
    pub old_values: Values,
    /// Their values after.
    pub new_values: Values,
}

/// A reminder that fired.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReminderFired {
    /// The reminder.
    pub reminder_id: ReminderId,
    /// Its task.
    pub task_id: TaskId,
    /// When it was meant to fire.
    pub reminder_time: DateTime<Utc>,
    /// The task's title.
    pub task_title: String,
    /// The task's due date.
    pub task_due_datetime: Option<DateTime<Utc>>,
    /// The task's priority.
    pub priority: Priority,
}

/// The kinds of domain events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
// Exhaustive on purpose: a new kind must break todo-events' build until it has a wire form.
pub enum EventPayload {
    /// A task was created.
    TaskCreated(TaskSnapshot),
    /// Fields of a task changed.
    TaskUpdated(TaskChange),
    /// A task was completed; `next_task_id` is the next instance created for a recurring task.
    TaskCompleted {
        /// The completed task.
        snapshot: TaskSnapshot,
        /// The next instance, when one was created.
        next_task_id: Option<TaskId>,
    },
    /// A task was deleted.
    TaskDeleted {
        /// The deleted task as it was.
        snapshot: TaskSnapshot,
    },
    /// A reminder fired.
    ReminderTriggered(ReminderFired),
    /// An activity-log entry was written.
    ActivityLogCreated(ActivityEntry),
}

impl EventPayload {
    /// The contract's `event_type` name.
    pub fn event_type(&self) -> &'static str {
        match self {
            EventPayload::TaskCreated(_) => "task-created",
            EventPayload::TaskUpdated(_) => "task-updated",
            EventPayload::TaskCompleted { .. } => "task-completed",
            EventPayload::TaskDeleted { .. } => "task-deleted",
            EventPayload::ReminderTriggered(_) => "reminder-triggered",
            EventPayload::ActivityLogCreated(_) => "activity-log-created",
        }
    }

    /// The task the event concerns, if any.
    pub fn task_id(&self) -> Option<TaskId> {
        match self {
            EventPayload::TaskCreated(s) => Some(s.task.id),
            EventPayload::TaskUpdated(c) => Some(c.task_id),
            EventPayload::TaskCompleted { snapshot, .. }
            | EventPayload::TaskDeleted { snapshot } => Some(snapshot.task.id),
            EventPayload::ReminderTriggered(r) => Some(r.task_id),
            EventPayload::ActivityLogCreated(a) => a.task_id,
        }
    }
}

/// One domain event: its id (for idempotent consumers), when it happened, whose it is, and what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    /// Unique; consumers skip an id they have processed.
    pub id: EventId,
    /// When it happened (the unit of work's clock reading).
    pub occurred_at: DateTime<Utc>,
    /// The user it belongs to (the message key on the wire).
    pub user_id: UserId,
    /// What happened.
    pub payload: EventPayload,
}
