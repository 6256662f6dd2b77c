//! The JSON Schemas (draft 2020-12) of the events, one per event type, kept in `schemas/` and
//! embedded here so that consumers (and other languages, through the files) validate against the
//! same text.
//!
//! Each schema describes the whole envelope of its event type for major version 1. Unknown keys
//! are rejected for minor version 0 and allowed for a newer minor (a conditional `propertyNames`
//! rule), matching [`crate::decode`].

use crate::event_type::EventType;

/// The schema of `task-created`.
pub const TASK_CREATED_SCHEMA: &str = include_str!("../schemas/task-created.json");
/// The schema of `task-updated`.
pub const TASK_UPDATED_SCHEMA: &str = include_str!("../schemas/task-updated.json");
/// The schema of `task-completed`.
pub const TASK_COMPLETED_SCHEMA: &str = include_str!("../schemas/task-completed.json");
/// The schema of `task-deleted`.
pub const TASK_DELETED_SCHEMA: &str = include_str!("../schemas/task-deleted.json");
/// The schema of `reminder-triggered`.
pub const REMINDER_TRIGGERED_SCHEMA: &str = include_str!("../schemas/reminder-triggered.json");
/// The schema of `activity-log-created`.
pub const ACTIVITY_LOG_CREATED_SCHEMA: &str = include_str!("../schemas/activity-log-created.json");

/// The JSON Schema of an event type's envelope, as JSON text.
pub const fn schema(event_type: EventType) -> &'static str {
    match event_type {
        EventType::TaskCreated => TASK_CREATED_SCHEMA,
        EventType::TaskUpdated => TASK_UPDATED_SCHEMA,
        EventType::TaskCompleted => TASK_COMPLETED_SCHEMA,
        EventType::TaskDeleted => TASK_DELETED_SCHEMA,
        EventType::ReminderTriggered => REMINDER_TRIGGERED_SCHEMA,
        EventType::ActivityLogCreated => ACTIVITY_LOG_CREATED_SCHEMA,
    }
}

/// The file name of an event type's schema in `schemas/`, e.g. `task-created.json`.
pub fn schema_file_name(event_type: EventType) -> String {
    format!("{}.json", event_type.as_str())
}
