//! Kafka topics (Dapr pub/sub topics) and the message key.
//!
//! The names are `pub const` so that the Helm chart and the Dapr components can be checked
//! against them.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;
use crate::event_type::EventType;

/// All task mutations (`task-created`, `task-updated`, `task-completed`, `task-deleted`).
pub const TASK_EVENTS: &str = "task-events";
/// The same task events again, for real-time fan-out to WebSocket / SSE clients.
pub const TASK_UPDATES: &str = "task-updates";
/// `reminder-triggered` events.
pub const REMINDERS: &str = "reminders";
/// `activity-log-created` events.
pub const ACTIVITY_LOGS: &str = "activity-logs";

/// Appended to a topic's name to name its dead-letter topic.
pub const DLQ_SUFFIX: &str = ".dlq";
/// Dead-letter topic of [`TASK_EVENTS`].
pub const TASK_EVENTS_DLQ: &str = "task-events.dlq";
/// Dead-letter topic of [`TASK_UPDATES`].
pub const TASK_UPDATES_DLQ: &str = "task-updates.dlq";
/// Dead-letter topic of [`REMINDERS`].
pub const REMINDERS_DLQ: &str = "reminders.dlq";
/// Dead-letter topic of [`ACTIVITY_LOGS`].
pub const ACTIVITY_LOGS_DLQ: &str = "activity-logs.dlq";

/// A topic of the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// [`TASK_EVENTS`].
    TaskEvents,
    /// [`TASK_UPDATES`].
    TaskUpdates,
    /// [`REMINDERS`].
    Reminders,
    /// [`ACTIVITY_LOGS`].
    ActivityLogs,
}

impl Topic {
    /// Every topic.
    pub const ALL: [Topic; 4] = [
        Topic::TaskEvents,
        Topic::TaskUpdates,
        Topic::Reminders,
        Topic::ActivityLogs,
    ];

    /// The topic's name.
    pub const fn name(self) -> &'static str {
        match self {
            Topic::TaskEvents => TASK_EVENTS,
            Topic::TaskUpdates => TASK_UPDATES,
            Topic::Reminders => REMINDERS,
            Topic::ActivityLogs => ACTIVITY_LOGS,
        }
    }

    /// The name of its dead-letter topic, `<name>.dlq`.
    pub const fn dlq_name(self) -> &'static str {
        match self {
            Topic::TaskEvents => TASK_EVENTS_DLQ,
            Topic::TaskUpdates => TASK_UPDATES_DLQ,
            Topic::Reminders => REMINDERS_DLQ,
            Topic::ActivityLogs => ACTIVITY_LOGS_DLQ,
        }
    }

    /// The event types published to this topic.
    pub fn event_types(self) -> impl Iterator<Item = EventType> {
        EventType::ALL
            .into_iter()
            .filter(move |t| t.topics().contains(&self))
    }

    /// Parses a topic name (not a dead-letter name); [`Error::UnknownTopic`] otherwise.
    pub fn parse(name: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| Error::UnknownTopic {
                found: name.to_owned(),
            })
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Topic {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Topic::parse(s)
    }
}

/// The topics an event of `event_type` is published to: task events go to `task-events` and
/// `task-updates`, `reminder-triggered` to `reminders`, `activity-log-created` to `activity-logs`.
pub const fn topics_for(event_type: EventType) -> &'static [Topic] {
    event_type.topics()
}
