//! The envelope around every event, and how core's domain events become envelopes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use todo_core::events::{DomainEvent, EventPayload, ReminderFired, TaskChange, TaskSnapshot};
use todo_core::ids::{EventId, TaskId, UserId};
use todo_core::model::{ActivityEntry, Recurrence, RecurrencePattern, TagName, TaskTitle};

use crate::codec;
use crate::error::Error;
use crate::event_type::EventType;
use crate::payload::{
    ActivityLogCreated, EventData, ReminderTriggered, TaskCompleted, TaskCreated, TaskDeleted,
    TaskUpdated,
};
use crate::rfc3339;
use crate::topic::Topic;
use crate::version::SchemaVersion;

/// One event on the wire:
/// `{"event_type", "event_id", "timestamp", "version", "data"}` (keys in that order).
#[derive(Debug, Clone, PartialEq)]
pub struct EventEnvelope {
    /// Unique per event; consumers skip an id they have already processed.
    pub event_id: EventId,
    /// When the event happened.
    pub timestamp: DateTime<Utc>,
    /// The contract version; [`SchemaVersion::CURRENT`] for produced events, as received for decoded ones.
    pub version: SchemaVersion,
    /// The payload; its variant is the `event_type`.
    pub data: EventData,
}

impl EventEnvelope {
    /// Wraps `data` with the current version.
    pub fn new(event_id: EventId, timestamp: DateTime<Utc>, data: EventData) -> Self {
        EventEnvelope {
            event_id,
            timestamp,
            version: SchemaVersion::CURRENT,
            data,
        }
    }

    /// Builds the wire event for a domain event, checking the contract's rules on the way, so that
    /// everything this returns is accepted by [`crate::decode`] and by the event type's schema.
    ///
    /// Fails with [`Error::Malformed`] when the domain event breaks the contract (e.g. an entity
    /// of another user than the event's).
    pub fn from_domain(event: &DomainEvent) -> Result<Self, Error> {
        let user = &event.user_id;
        let data = match &event.payload {
            EventPayload::TaskCreated(s) => EventData::TaskCreated(task_created(s, user)?),
            EventPayload::TaskUpdated(c) => EventData::TaskUpdated(task_updated(c, user)),
            EventPayload::TaskCompleted {
                snapshot,
                next_task_id,
            } => EventData::TaskCompleted(task_completed(
                snapshot,
                *next_task_id,
                user,
                event.occurred_at,
            )?),
            EventPayload::TaskDeleted { snapshot } => {
                EventData::TaskDeleted(task_deleted(snapshot, user)?)
            }
            EventPayload::ReminderTriggered(r) => {
                EventData::ReminderTriggered(reminder_triggered(r, user)?)
            }
            EventPayload::ActivityLogCreated(a) => {
                EventData::ActivityLogCreated(activity_log_created(a, user)?)
            }
        };
        data.check()?;
        Ok(EventEnvelope::new(event.id, event.occurred_at, data))
    }

    /// The event type.
    pub fn event_type(&self) -> EventType {
        self.data.event_type()
    }

    /// The user the event belongs to.
    pub fn user_id(&self) -> &UserId {
        self.data.user_id()
    }

    /// The message key (the user id), so that a user's events stay in order on one partition.
    pub fn key(&self) -> &str {
        self.data.user_id().as_str()
    }

    /// The topics the event is published to.
    pub fn topics(&self) -> &'static [Topic] {
        self.event_type().topics()
    }

    /// The event as JSON text.
    pub fn to_json(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|e| Error::Encode {
            reason: e.to_string(),
        })
    }

    /// Parses JSON text, as [`crate::decode`] does.
    pub fn from_json(json: &str) -> Result<Self, Error> {
        codec::decode(json.as_bytes())
    }
}

impl TryFrom<&DomainEvent> for EventEnvelope {
    type Error = Error;
    fn try_from(event: &DomainEvent) -> Result<Self, Error> {
        EventEnvelope::from_domain(event)
    }
}

impl Serialize for EventEnvelope {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            event_type: &'static str,
            event_id: EventId,
            #[serde(with = "rfc3339::instant")]
            timestamp: DateTime<Utc>,
            version: SchemaVersion,
            data: &'a EventData,
        }
        Wire {
            event_type: self.event_type().as_str(),
            event_id: self.event_id,
            timestamp: self.timestamp,
            version: self.version,
            data: &self.data,
        }
        .serialize(s)
    }
}

/// Deserializing goes through [`crate::decode_value`], with all its checks.
impl<'de> Deserialize<'de> for EventEnvelope {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        codec::decode_value(value).map_err(serde::de::Error::custom)
    }
}

fn same_user(event_type: EventType, owner: &UserId, user: &UserId) -> Result<(), Error> {
    if owner == user {
        Ok(())
    } else {
        Err(Error::malformed(
            event_type.as_str(),
            format!("the entity belongs to user {owner:?} but the domain event to {user:?}"),
        ))
    }
}

fn tag_names(event_type: EventType, names: &[String]) -> Result<Vec<TagName>, Error> {
    names
        .iter()
        .map(|n| {
            TagName::parse(n)
                .map_err(|e| Error::malformed(event_type.as_str(), format!("tags: {e}")))
        })
        .collect()
}

fn task_created(s: &TaskSnapshot, user: &UserId) -> Result<TaskCreated, Error> {
    let t = &s.task;
    same_user(EventType::TaskCreated, &t.user_id, user)?;
    Ok(TaskCreated {
        task_id: t.id,
        user_id: user.clone(),
        title: t.title.clone(),
        description: t.description.clone(),
        completed: t.completed,
        due_datetime: t.due_datetime,
        priority: t.priority,
        recurrence_pattern: pattern_of(&t.recurrence),
        recurrence_end_date: t.recurrence_end_date,
        tags: tag_names(EventType::TaskCreated, &s.tag_names)?,
        rrule: t.recurrence.rrule().cloned(),
        timezone: t.timezone,
        series_start: t.series_start,
        parent_task_id: t.parent_task_id,
        tag_ids: t.tag_ids.clone(),
        created_at: Some(t.created_at),
    })
}

fn task_updated(c: &TaskChange, user: &UserId) -> TaskUpdated {
    TaskUpdated {
        task_id: c.task_id,
        user_id: user.clone(),
        changed_fields: c.changed_fields.clone(),
        old_values: c.old_values.clone(),
        new_values: c.new_values.clone(),
    }
}

fn task_completed(
    s: &TaskSnapshot,
    next_task_id: Option<TaskId>,
    user: &UserId,
    occurred_at: DateTime<Utc>,
) -> Result<TaskCompleted, Error> {
    let t = &s.task;
    same_user(EventType::TaskCompleted, &t.user_id, user)?;
    Ok(TaskCompleted {
        task_id: t.id,
        user_id: user.clone(),
        completed: t.completed,
        // A completed task always has `completed_at` (core's invariant); the event's own time is
        // the same instant should a snapshot ever lack it.
        completed_at: t.completed_at.unwrap_or(occurred_at),
        title: t.title.clone(),
        description: t.description.clone(),
        priority: t.priority,
        due_datetime: t.due_datetime,
        recurrence_pattern: pattern_of(&t.recurrence),
        rrule: t.recurrence.rrule().cloned(),
        recurrence_end_date: t.recurrence_end_date,
        series_start: t.series_start,
        timezone: t.timezone,
        parent_task_id: t.parent_task_id,
        tags: tag_names(EventType::TaskCompleted, &s.tag_names)?,
        tag_ids: t.tag_ids.clone(),
        created_at: t.created_at,
        next_task_id,
    })
}

fn task_deleted(s: &TaskSnapshot, user: &UserId) -> Result<TaskDeleted, Error> {
    same_user(EventType::TaskDeleted, &s.task.user_id, user)?;
    Ok(TaskDeleted {
        task_id: s.task.id,
        user_id: user.clone(),
        title: s.task.title.clone(),
    })
}

fn reminder_triggered(r: &ReminderFired, user: &UserId) -> Result<ReminderTriggered, Error> {
    let task_title = TaskTitle::parse(&r.task_title).map_err(|e| {
        Error::malformed(
            EventType::ReminderTriggered.as_str(),
            format!("task_title: {e}"),
        )
    })?;
    Ok(ReminderTriggered {
        reminder_id: r.reminder_id,
        task_id: r.task_id,
        user_id: user.clone(),
        reminder_time: r.reminder_time,
        task_title,
        task_due_datetime: r.task_due_datetime,
        priority: r.priority,
    })
}

fn activity_log_created(a: &ActivityEntry, user: &UserId) -> Result<ActivityLogCreated, Error> {
    same_user(EventType::ActivityLogCreated, &a.user_id, user)?;
    Ok(ActivityLogCreated {
        log_id: a.id,
        user_id: user.clone(),
        task_id: a.task_id,
        action: a.action,
        old_values: a.old_values.clone(),
        new_values: a.new_values.clone(),
        created_at: Some(a.created_at),
    })
}

fn pattern_of(r: &Recurrence) -> Option<RecurrencePattern> {
    match r {
        Recurrence::Pattern(p) => Some(*p),
        _ => None,
    }
}
