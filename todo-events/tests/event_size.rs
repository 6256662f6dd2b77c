//! The largest task the validation rules allow makes events well under the size budget
//! `MAX_TASK_EVENT_BYTES` (issue 14: 5,600 tags on one task made a 1.1 MB `task-created` that
//! Kafka refused). The task is built through the real use cases, with every field at its limit in
//! the characters that take most bytes on the wire, so a new field or a raised limit that breaks
//! the budget fails here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{TimeZone, Utc};
use futures_executor::block_on;
use todo_core::ids::UserId;
use todo_core::input::{CreateTagInput, CreateTaskInput, SetReminderInput, UpdateTaskInput};
use todo_core::memory::MemoryStore;
use todo_core::model::recurrence::MAX_COUNT;
use todo_core::model::task::{MAX_TAGS_PER_TASK, MAX_TASK_EVENT_BYTES};
use todo_core::model::{Description, RRuleText, TagName, TaskTitle};
use todo_core::ports::{ManualClock, SequentialIds, Store};
use todo_core::service::TaskService;
use todo_events::{EventEnvelope, EventType, encode};

/// `n` characters that take four bytes each in UTF-8 (and in JSON, which does not escape them),
/// varied by `seed` so that names stay distinct.
fn wide(n: usize, seed: u32) -> String {
    (0..n)
        .map(|i| char::from_u32(0x1F300 + (seed * 7 + i as u32) % 0x300).unwrap())
        .collect()
}

/// The longest accepted rule text: 1000 characters (`INTERVAL` padded with zeros).
fn longest_rule() -> String {
    let head = "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=8,12,17;BYMINUTE=0,30;";
    let tail = format!(";COUNT={MAX_COUNT}");
    let pad = RRuleText::MAX_LEN - head.len() - "INTERVAL=1".len() - tail.len();
    format!("{head}INTERVAL={}1{tail}", "0".repeat(pad))
}

#[test]
fn the_largest_task_makes_events_within_the_budget() {
    assert_eq!(MAX_TASK_EVENT_BYTES, 64 * 1024);
    let now = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
    let s = TaskService::new(
        MemoryStore::new(),
        ManualClock::new(now),
        SequentialIds::new(),
    );
    let user = UserId::parse(&wide(UserId::MAX_LEN, 99)).unwrap();
    // Two full sets of tags with the longest names, so an update can swap every one.
    let tags: Vec<i64> = (0..2 * MAX_TAGS_PER_TASK as u32)
        .map(|i| {
            let input = CreateTagInput {
                name: Some(wide(TagName::MAX_LEN, i)),
                color: Some("#ABCDEF".into()),
            };
            block_on(s.create_tag(&user, &input)).unwrap().id.get()
        })
        .collect();
    let (first, second) = tags.split_at(MAX_TAGS_PER_TASK);
    let rule = longest_rule();
    assert_eq!(rule.len(), RRuleText::MAX_LEN);
    let zone = "America/Argentina/ComodRivadavia";
    let create: CreateTaskInput = serde_json::from_value(serde_json::json!({
        "title": wide(TaskTitle::MAX_LEN, 1),
        "description": wide(Description::MAX_LEN, 2),
        "due_datetime": "2030-01-02T08:00:00.123456789Z",
        "priority": "High",
        "rrule": rule,
        "recurrence_end_date": "2099-12-31T23:59:59.999999999Z",
        "timezone": zone,
        "tag_ids": first,
    }))
    .unwrap();
    let task = block_on(s.create_task(&user, &create)).unwrap();
    assert_eq!(task.tags.len(), MAX_TAGS_PER_TASK);
    block_on(s.set_reminder(
        &user,
        task.task.id,
        &SetReminderInput {
            reminder_time: Some("2030-01-02T07:00:00.123456789Z".into()),
            reminder_type: None,
        },
    ))
    .unwrap();
    // Every field changes, each to another value at its limit: a `task-updated` carries both.
    let update: UpdateTaskInput = serde_json::from_value(serde_json::json!({
        "title": wide(TaskTitle::MAX_LEN, 3),
        "description": wide(Description::MAX_LEN, 4),
        "due_datetime": "2030-01-03T08:00:00.987654321Z",
        "priority": "Low",
        "rrule": longest_rule().replace("BYHOUR=8,12,17", "BYHOUR=9,13,18"),
        "recurrence_end_date": "2098-12-31T23:59:59.999999999Z",
        "timezone": "America/Argentina/Buenos_Aires",
        "tag_ids": second,
    }))
    .unwrap();
    let task = block_on(s.update_task(&user, task.task.id, &update)).unwrap();
    let done = block_on(s.set_completed(&user, task.task.id, Some(true))).unwrap();
    assert!(done.task.next_task_id.is_some());
    block_on(s.delete_task(&user, done.task.id)).unwrap();

    let outbox = block_on(s.store().undelivered_events(10_000)).unwrap();
    let mut largest: Vec<(EventType, usize)> = Vec::new();
    for entry in &outbox {
        let env = EventEnvelope::from_domain(&entry.event).unwrap();
        let bytes = encode(&env).unwrap().len();
        assert!(
            bytes < MAX_TASK_EVENT_BYTES,
            "{:?} is {bytes} bytes, over the budget of {MAX_TASK_EVENT_BYTES}",
            env.event_type()
        );
        match largest.iter_mut().find(|(t, _)| *t == env.event_type()) {
            Some((_, b)) => *b = (*b).max(bytes),
            None => largest.push((env.event_type(), bytes)),
        }
    }
    for wanted in [
        EventType::TaskCreated,
        EventType::TaskUpdated,
        EventType::TaskCompleted,
        EventType::TaskDeleted,
        EventType::ActivityLogCreated,
    ] {
        assert!(
            largest.iter().any(|(t, _)| *t == wanted),
            "{wanted:?} occurred: {largest:?}"
        );
    }
    // The figures, for RELIABILITY.md.
    eprintln!("largest encoded events of the largest task: {largest:?}");
}
