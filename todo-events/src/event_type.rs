//! The event types of the contract and their wire names.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::topic::Topic;

/// Wire name of [`EventType::TaskCreated`].
pub const TASK_CREATED: &str = "task-created";
/// Wire name of [`EventType::TaskUpdated`].
pub const TASK_UPDATED: &str = "task-updated";
/// Wire name of [`EventType::TaskCompleted`].
pub const TASK_COMPLETED: &str = "task-completed";
/// Wire name of [`EventType::TaskDeleted`].
pub const TASK_DELETED: &str = "task-deleted";
/// Wire name of [`EventType::ReminderTriggered`].
pub const REMINDER_TRIGGERED: &str = "reminder-triggered";
/// Wire name of [`EventType::ActivityLogCreated`].
pub const ACTIVITY_LOG_CREATED: &str = "activity-log-created";

/// The `event_type` of an envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A task was created.
    TaskCreated,
    /// Fields of a task changed.
    TaskUpdated,
    /// A task was completed.
    TaskCompleted,
    /// A task was deleted.
    TaskDeleted,
    /// A reminder fired.
    ReminderTriggered,
    /// An activity-log entry was written.
    ActivityLogCreated,
}

impl EventType {
    /// Every event type, in contract order.
    pub const ALL: [EventType; 6] = [
        EventType::TaskCreated,
        EventType::TaskUpdated,
        EventType::TaskCompleted,
        EventType::TaskDeleted,
        EventType::ReminderTriggered,
        EventType::ActivityLogCreated,
    ];

    /// The wire name, e.g. `task-created`.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::TaskCreated => TASK_CREATED,
            EventType::TaskUpdated => TASK_UPDATED,
            EventType::TaskCompleted => TASK_COMPLETED,
            EventType::TaskDeleted => TASK_DELETED,
            EventType::ReminderTriggered => REMINDER_TRIGGERED,
            EventType::ActivityLogCreated => ACTIVITY_LOG_CREATED,
        }
    }

    /// Parses a wire name; [`Error::UnknownEventType`] otherwise.
    pub fn parse(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| Error::UnknownEventType {
                found: format!("{s:?}"),
            })
    }

    /// The topics an event of this type is published to (see [`Topic`]).
    pub const fn topics(self) -> &'static [Topic] {
        match self {
            EventType::TaskCreated
            | EventType::TaskUpdated
            | EventType::TaskCompleted
            | EventType::TaskDeleted => &[Topic::TaskEvents, Topic::TaskUpdates],
            EventType::ReminderTriggered => &[Topic::Reminders],
            EventType::ActivityLogCreated => &[Topic::ActivityLogs],
        }
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EventType::parse(s)
    }
}
