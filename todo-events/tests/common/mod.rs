//! Realistic domain events built from core types, and schema helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use todo_core::events::{DomainEvent, EventPayload, ReminderFired, TaskChange, TaskSnapshot};
use todo_core::ids::{ActivityId, EventId, ReminderId, TagId, TaskId, UserId};
use todo_core::model::{
    ActivityAction, ActivityEntry, Description, Priority, RRuleText, Recurrence, RecurrencePattern,
    Task, TaskTitle, TimeZone, Values, parse_instant,
};
use todo_events::{EventEnvelope, EventType};

pub fn at(s: &str) -> DateTime<Utc> {
    parse_instant("t", s).unwrap()
}

pub fn user() -> UserId {
    UserId::parse("user-123").unwrap()
}

fn values(v: Value) -> Values {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn event(n: u128, occurred_at: &str, payload: EventPayload) -> DomainEvent {
    DomainEvent {
        id: EventId::new(uuid::Uuid::from_u128(
            0x6f1c_0000_4000_8000_0000_0000_0000_0000 + n,
        )),
        occurred_at: at(occurred_at),
        user_id: user(),
        payload,
    }
}

/// A weekly task in Berlin with two tags, due 2026-02-20 16:00 local.
pub fn weekly_task() -> Task {
    Task::builder(
        TaskId::new(123),
        user(),
        TaskTitle::parse("Complete project report").unwrap(),
        at("2026-02-15T10:00:00.123456Z"),
    )
    .description(Description::parse("Final report for Q4\nwith appendix").unwrap())
    .due_datetime(at("2026-02-20T15:00:00Z"))
    .priority(Priority::High)
    .recurrence(Recurrence::Pattern(RecurrencePattern::Weekly))
    .recurrence_end_date(at("2026-06-30T23:59:59Z"))
    .series_start(at("2026-02-20T15:00:00Z"))
    .timezone(TimeZone::parse("Europe/Berlin").unwrap())
    .tag_ids([TagId::new(2), TagId::new(5)])
    .build()
}

pub fn weekly_snapshot() -> TaskSnapshot {
    TaskSnapshot {
        task: weekly_task(),
        tag_names: vec!["work".into(), "Urgent".into()],
    }
}

/// The weekly task, completed (`updated_at` = `completed_at`, as when the service completes it).
pub fn completed_weekly_task() -> Task {
    Task {
        completed: true,
        completed_at: Some(at("2026-02-20T14:30:00Z")),
        updated_at: at("2026-02-20T14:30:00Z"),
        next_task_id: Some(TaskId::new(124)),
        ..weekly_task()
    }
}

/// A task without due date, description, tags or recurrence.
pub fn plain_task() -> Task {
    Task::builder(
        TaskId::new(7),
        user(),
        TaskTitle::parse("Buy milk").unwrap(),
        at("2026-02-15T09:00:00Z"),
    )
    .build()
}

/// The next instance of an RRULE series, created by completing task 40.
pub fn rrule_task() -> Task {
    Task::builder(
        TaskId::new(41),
        user(),
        TaskTitle::parse("Stand-up notes").unwrap(),
        at("2026-03-02T08:05:00Z"),
    )
    .due_datetime(at("2026-03-04T08:00:00Z"))
    .priority(Priority::Low)
    .recurrence(Recurrence::Rule(
        RRuleText::parse("FREQ=WEEKLY;BYDAY=MO,WE").unwrap(),
    ))
    .series_start(at("2026-03-02T08:00:00Z"))
    .timezone(TimeZone::parse("America/New_York").unwrap())
    .parent_task_id(TaskId::new(40))
    .tag_ids([TagId::new(9)])
    .build()
}

/// One or more realistic domain events of every kind.
pub fn domain_events() -> Vec<DomainEvent> {
    vec![
        event(
            1,
            "2026-02-15T10:00:00.123456Z",
            EventPayload::TaskCreated(weekly_snapshot()),
        ),
        event(
            2,
            "2026-02-15T09:00:00Z",
            EventPayload::TaskCreated(TaskSnapshot {
                task: plain_task(),
                tag_names: vec![],
            }),
        ),
        event(
            3,
            "2026-03-02T08:05:00Z",
            EventPayload::TaskCreated(TaskSnapshot {
                task: rrule_task(),
                tag_names: vec!["team".into()],
            }),
        ),
        event(
            4,
            "2026-02-16T11:00:00Z",
            EventPayload::TaskUpdated(TaskChange {
                task_id: TaskId::new(123),
                changed_fields: vec!["priority".into(), "due_datetime".into()],
                old_values: values(
                    json!({"priority": "High", "due_datetime": "2026-02-20T15:00:00Z"}),
                ),
                new_values: values(json!({"priority": "Medium", "due_datetime": null})),
            }),
        ),
        event(
            5,
            "2026-02-20T14:30:00Z",
            EventPayload::TaskCompleted {
                snapshot: TaskSnapshot {
                    task: completed_weekly_task(),
                    tag_names: vec!["work".into(), "Urgent".into()],
                },
                next_task_id: Some(TaskId::new(124)),
            },
        ),
        event(
            6,
            "2026-02-16T12:00:00Z",
            EventPayload::TaskCompleted {
                snapshot: TaskSnapshot {
                    task: Task {
                        completed: true,
                        completed_at: Some(at("2026-02-16T12:00:00Z")),
                        updated_at: at("2026-02-16T12:00:00Z"),
                        ..plain_task()
                    },
                    tag_names: vec![],
                },
                next_task_id: None,
            },
        ),
        event(
            7,
            "2026-02-17T08:00:00Z",
            EventPayload::TaskDeleted {
                snapshot: TaskSnapshot {
                    task: plain_task(),
                    tag_names: vec![],
                },
            },
        ),
        event(
            8,
            "2026-02-20T14:30:00.5Z",
            EventPayload::ReminderTriggered(ReminderFired {
                reminder_id: ReminderId::new(456),
                task_id: TaskId::new(123),
                reminder_time: at("2026-02-20T14:30:00Z"),
                task_title: "Complete project report".into(),
                task_due_datetime: Some(at("2026-02-20T15:00:00Z")),
                priority: Priority::High,
            }),
        ),
        event(
            9,
            "2026-02-21T07:00:00Z",
            EventPayload::ReminderTriggered(ReminderFired {
                reminder_id: ReminderId::new(457),
                task_id: TaskId::new(7),
                reminder_time: at("2026-02-21T07:00:00Z"),
                task_title: "Buy milk".into(),
                task_due_datetime: None,
                priority: Priority::Medium,
            }),
        ),
        event(
            10,
            "2026-02-20T14:30:00Z",
            EventPayload::ActivityLogCreated(ActivityEntry {
                id: ActivityId::new(789),
                user_id: user(),
                task_id: Some(TaskId::new(123)),
                action: ActivityAction::TaskCompleted,
                old_values: Some(values(json!({"completed": false}))),
                new_values: Some(values(json!({"completed": true}))),
                created_at: at("2026-02-20T14:30:00Z"),
            }),
        ),
        event(
            11,
            "2026-02-15T08:00:00Z",
            EventPayload::ActivityLogCreated(ActivityEntry {
                id: ActivityId::new(790),
                user_id: user(),
                task_id: None,
                action: ActivityAction::TagCreated,
                old_values: None,
                new_values: Some(values(json!({"name": "work", "color": "#3B82F6"}))),
                created_at: at("2026-02-15T08:00:00Z"),
            }),
        ),
    ]
}

/// The envelopes of [`domain_events`].
pub fn envelopes() -> Vec<EventEnvelope> {
    domain_events()
        .iter()
        .map(|e| EventEnvelope::from_domain(e).unwrap())
        .collect()
}

/// The produced JSON of the first event of `event_type`.
pub fn sample_json(event_type: EventType) -> Value {
    let e = envelopes()
        .into_iter()
        .find(|e| e.event_type() == event_type)
        .unwrap();
    serde_json::to_value(&e).unwrap()
}

/// A validator for an event type's schema, with format validation on.
pub fn validator(event_type: EventType) -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(todo_events::schema(event_type)).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// The schema's errors for `instance` (empty when valid).
pub fn schema_errors(event_type: EventType, instance: &Value) -> Vec<String> {
    validator(event_type)
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Reads a file of `test-vectors/events/`.
pub fn vector(name: &str) -> Value {
    let path = format!(
        "{}/../test-vectors/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}
