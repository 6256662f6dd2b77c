//! Every event the real use cases record turns into a wire event that passes its JSON Schema and
//! decodes back to the same envelope.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use futures_executor::block_on;
use todo_core::ids::UserId;
use todo_core::input::{CreateTagInput, CreateTaskInput, SetReminderInput, UpdateTaskInput};
use todo_core::memory::MemoryStore;
use todo_core::ports::{ManualClock, SequentialIds, Store};
use todo_core::service::TaskService;
use todo_events::{EventEnvelope, EventType, decode, encode};

#[test]
fn events_of_a_full_session_are_valid_on_the_wire() {
    let now = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let s = TaskService::new(MemoryStore::new(), clock.clone(), SequentialIds::new());
    let u = UserId::parse("user-123").unwrap();
    let work = block_on(s.create_tag(
        &u,
        &CreateTagInput {
            name: Some("work".into()),
            color: Some("#ef4444".into()),
        },
    ))
    .unwrap();
    let create: CreateTaskInput = serde_json::from_value(serde_json::json!({
        "title": "Complete project report", "description": "Final report for Q4",
        "due_datetime": "2030-01-31T15:00:00Z", "priority": "High", "recurrence_pattern": "monthly",
        "recurrence_end_date": "2030-06-30T23:59:59Z", "timezone": "Europe/Berlin", "tag_ids": [work.id]
    }))
    .unwrap();
    let t = block_on(s.create_task(&u, &create)).unwrap();
    let rrule: CreateTaskInput = serde_json::from_value(serde_json::json!({
        "title": "Standup", "due_datetime": "2030-01-02T09:00:00Z", "rrule": "FREQ=WEEKLY;BYDAY=MO,WE"
    }))
    .unwrap();
    let standup = block_on(s.create_task(&u, &rrule)).unwrap();
    let r = block_on(s.set_reminder(
        &u,
        t.task.id,
        &SetReminderInput {
            reminder_time: Some("2030-01-31T14:30:00Z".into()),
            reminder_type: None,
        },
    ))
    .unwrap();
    let patch: UpdateTaskInput =
        serde_json::from_value(serde_json::json!({"priority": "Medium", "description": null}))
            .unwrap();
    block_on(s.update_task(&u, t.task.id, &patch)).unwrap();
    clock.set(r.reminder_time);
    assert!(block_on(s.fire_reminder(&u, r.id)).unwrap());
    block_on(s.set_completed(&u, t.task.id, Some(true))).unwrap();
    block_on(s.set_completed(&u, standup.task.id, Some(true))).unwrap();
    block_on(s.set_completed(&u, standup.task.id, Some(false))).unwrap();
    block_on(s.delete_tag(&u, work.id)).unwrap();
    block_on(s.delete_task(&u, standup.task.id)).unwrap();

    let outbox = block_on(s.store().undelivered_events(1000)).unwrap();
    let mut seen = BTreeSet::new();
    for entry in &outbox {
        let env = EventEnvelope::from_domain(&entry.event)
            .unwrap_or_else(|e| panic!("{:?}: {e}", entry.event.payload.event_type()));
        assert_eq!(env.event_id, entry.event.id);
        assert_eq!(env.key(), "user-123");
        let bytes = encode(&env).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(json["version"], "1.0");
        let errors = common::schema_errors(env.event_type(), &json);
        assert!(
            errors.is_empty(),
            "{}: {errors:?}\n{json:#}",
            env.event_type()
        );
        assert_eq!(decode(&bytes).unwrap(), env);
        seen.insert(env.event_type());
    }
    assert_eq!(
        seen.len(),
        EventType::ALL.len(),
        "every event type occurred: {seen:?}"
    );
}
