//! Domain events become envelopes with the contract's shape, and encode/decode round-trips them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::{Value, json};
use todo_core::events::{DomainEvent, EventPayload, TaskChange, TaskSnapshot};
use todo_core::ids::{TaskId, UserId};
use todo_events::{Error, EventData, EventEnvelope, EventType, decode, encode};

#[test]
fn encode_then_decode_gives_the_same_envelope() {
    for e in common::envelopes() {
        let bytes = encode(&e).unwrap();
        assert_eq!(decode(&bytes).unwrap(), e, "{}", e.event_type());
        assert_eq!(EventEnvelope::from_json(&e.to_json().unwrap()).unwrap(), e);
        // serde's Deserialize goes through decode
        let via_serde: EventEnvelope = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(via_serde, e);
    }
}

#[test]
fn envelope_shape_is_the_plans() {
    for (d, e) in common::domain_events().iter().zip(common::envelopes()) {
        let text = e.to_json().unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 5);
        // keys written in the plan's order
        let at: Vec<usize> = ["event_type", "event_id", "timestamp", "version", "data"]
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]) && at[0] == 1, "{text}");
        assert_eq!(
            json["event_type"],
            d.payload.event_type(),
            "same name as core"
        );
        assert_eq!(json["event_id"], d.id.get().hyphenated().to_string());
        assert_eq!(json["data"]["user_id"], "user-123");
        let ts = json["timestamp"].as_str().unwrap();
        assert!(ts.ends_with('Z'), "{ts}");
        assert_eq!(ts, todo_core::model::format_instant(d.occurred_at));
        assert_eq!(e.data.task_id(), d.payload.task_id());
    }
}

#[test]
fn task_created_carries_the_task() {
    let json = common::sample_json(EventType::TaskCreated);
    assert_eq!(
        json["data"],
        json!({
            "task_id": 123,
            "user_id": "user-123",
            "title": "Complete project report",
            "description": "Final report for Q4\nwith appendix",
            "completed": false,
            "due_datetime": "2026-02-20T15:00:00Z",
            "priority": "High",
            "recurrence_pattern": "weekly",
            "recurrence_end_date": "2026-06-30T23:59:59Z",
            "tags": ["work", "Urgent"],
            "rrule": null,
            "timezone": "Europe/Berlin",
            "series_start": "2026-02-20T15:00:00Z",
            "parent_task_id": null,
            "tag_ids": [2, 5],
            "created_at": "2026-02-15T10:00:00.123456Z"
        })
    );
}

#[test]
fn rrule_tasks_say_none_and_give_the_rule() {
    let e = &common::envelopes()[2];
    let json = serde_json::to_value(e).unwrap();
    assert_eq!(json["data"]["recurrence_pattern"], "none");
    assert_eq!(json["data"]["rrule"], "FREQ=WEEKLY;BYDAY=MO,WE");
    assert_eq!(json["data"]["parent_task_id"], 40);
    let EventData::TaskCreated(d) = &e.data else {
        panic!()
    };
    assert_eq!(d.recurrence(), common::rrule_task().recurrence);
}

#[test]
fn a_consumer_can_rebuild_the_completed_task_from_the_event_alone() {
    // what a recurring-task service in another process does: decode, then hand core the task
    let e = common::envelopes()
        .into_iter()
        .find(|e| e.event_type() == EventType::TaskCompleted)
        .unwrap();
    let decoded = decode(&encode(&e).unwrap()).unwrap();
    let EventData::TaskCompleted(d) = decoded.data else {
        panic!()
    };
    assert_eq!(d.to_task().unwrap(), common::completed_weekly_task());
    assert_eq!(d.next_task_id, Some(TaskId::new(124)));
    let tags: Vec<&str> = d.tags.iter().map(|t| t.as_str()).collect();
    assert_eq!(tags, ["work", "Urgent"]);
}

#[test]
fn reminder_and_activity_data() {
    let r = common::sample_json(EventType::ReminderTriggered);
    assert_eq!(
        r["data"],
        json!({
            "reminder_id": 456, "task_id": 123, "user_id": "user-123",
            "reminder_time": "2026-02-20T14:30:00Z", "task_title": "Complete project report",
            "task_due_datetime": "2026-02-20T15:00:00Z", "priority": "High"
        })
    );
    assert_eq!(r["timestamp"], "2026-02-20T14:30:00.500Z");
    let a = common::sample_json(EventType::ActivityLogCreated);
    assert_eq!(
        a["data"],
        json!({
            "log_id": 789, "user_id": "user-123", "task_id": 123, "action": "task-completed",
            "old_values": {"completed": false}, "new_values": {"completed": true},
            "created_at": "2026-02-20T14:30:00Z"
        })
    );
    let tag_entry = serde_json::to_value(&common::envelopes()[10]).unwrap();
    assert_eq!(tag_entry["data"]["task_id"], Value::Null);
    assert_eq!(tag_entry["data"]["old_values"], Value::Null);
    let d = common::sample_json(EventType::TaskDeleted);
    assert_eq!(
        d["data"],
        json!({"task_id": 7, "user_id": "user-123", "title": "Buy milk"})
    );
}

#[test]
fn from_domain_rejects_an_entity_of_another_user() {
    let mut event: DomainEvent = common::domain_events().remove(0);
    event.user_id = UserId::parse("someone-else").unwrap();
    let err = EventEnvelope::from_domain(&event).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Malformed {
                event_type: "task-created",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn from_domain_checks_the_contract_rules() {
    let mut event = common::domain_events().remove(3);
    event.payload = EventPayload::TaskUpdated(TaskChange {
        task_id: TaskId::new(123),
        changed_fields: vec!["priority".into()],
        old_values: json!({"priority": "High"}).as_object().unwrap().clone(),
        new_values: json!({"priority": "Low", "title": "sneaked in"})
            .as_object()
            .unwrap()
            .clone(),
    });
    let err = EventEnvelope::try_from(&event).unwrap_err();
    assert!(
        matches!(&err, Error::Malformed { reason, .. } if reason.contains("title")),
        "{err}"
    );

    let mut event = common::domain_events().remove(0);
    event.payload = EventPayload::TaskCreated(TaskSnapshot {
        task: common::weekly_task(),
        tag_names: vec!["only-one".into()],
    });
    assert_eq!(
        EventEnvelope::from_domain(&event).unwrap_err().code(),
        "MALFORMED"
    );
}

#[test]
fn decoded_instants_are_utc_whatever_the_offset() {
    let mut json = common::sample_json(EventType::TaskDeleted);
    json["timestamp"] = "2026-02-17T09:00:00+01:00".into();
    let e = todo_events::decode_value(json).unwrap();
    assert_eq!(e.timestamp, common::at("2026-02-17T08:00:00Z"));
    assert_eq!(
        serde_json::to_value(&e).unwrap()["timestamp"],
        "2026-02-17T08:00:00Z"
    );
}
