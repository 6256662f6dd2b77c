//! Use-case behaviour of the task service, on the in-memory store.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures_executor::block_on;
use todo_core::error::{Error, ErrorCode};
use todo_core::events::EventPayload;
use todo_core::ids::{TagId, TaskId, UserId};
use todo_core::input::{
    CreateTagInput, CreateTaskInput, SetReminderInput, UpdateTagInput, UpdateTaskInput,
};
use todo_core::memory::MemoryStore;
use todo_core::model::{ActivityAction, ReminderStatus};
use todo_core::ports::{ManualClock, SequentialIds, Store};
use todo_core::query::{ActivityQuery, Limit, TaskQuery};
use todo_core::service::TaskService;

type Svc = TaskService<MemoryStore>;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap()
}

fn svc() -> Svc {
    svc_with_clock().0
}

/// A service and its clock, to move the time.
fn svc_with_clock() -> (Svc, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(now()));
    let s = TaskService::new(MemoryStore::new(), clock.clone(), SequentialIds::new());
    (s, clock)
}

fn alice() -> UserId {
    UserId::parse("alice").unwrap()
}

fn create(s: &Svc, body: serde_json::Value) -> Result<todo_core::service::TaskView, Error> {
    let input: CreateTaskInput = serde_json::from_value(body).unwrap();
    block_on(s.create_task(&alice(), &input))
}

fn update(
    s: &Svc,
    id: TaskId,
    body: serde_json::Value,
) -> Result<todo_core::service::TaskView, Error> {
    let input: UpdateTaskInput = serde_json::from_value(body).unwrap();
    block_on(s.update_task(&alice(), id, &input))
}

fn all_tasks(s: &Svc) -> Vec<todo_core::model::Task> {
    let q = TaskQuery {
        sort_order: todo_core::query::SortOrder::Asc,
        limit: Limit::new(100).unwrap(),
        ..TaskQuery::default()
    };
    block_on(s.store().list_tasks(&alice(), &q)).unwrap().items
}

fn event_types(s: &Svc) -> Vec<&'static str> {
    block_on(s.store().undelivered_events(10_000))
        .unwrap()
        .iter()
        .map(|e| e.event.payload.event_type())
        .filter(|t| *t != "activity-log-created")
        .collect()
}

fn tag(s: &Svc, name: &str) -> TagId {
    block_on(s.create_tag(
        &alice(),
        &CreateTagInput {
            name: Some(name.into()),
            color: None,
        },
    ))
    .unwrap()
    .id
}

#[test]
fn create_validates_and_expands_tags() {
    let s = svc();
    let work = tag(&s, "work");
    let v = create(
        &s,
        serde_json::json!({"title": "  Report ", "priority": "high", "tag_ids": [work], "due_datetime": "2030-01-05T10:00:00Z"}),
    )
    .unwrap();
    assert_eq!(v.task.title.as_str(), "Report");
    assert_eq!(v.tags.len(), 1);
    assert_eq!(v.tags[0].name.as_str(), "work");
    assert_eq!(v.reminder, None);
    assert_eq!(v.task.created_at, now());

    let err = create(&s, serde_json::json!({"title": "x", "tag_ids": [work, 99]})).unwrap_err();
    match err {
        Error::Unprocessable(e) => {
            assert_eq!(e.first().field, "tag_ids");
            assert_eq!(e.first().code, ErrorCode::UnknownReference);
            assert!(e.first().message.contains("99"));
        }
        other => panic!("want 422, got {other:?}"),
    }
    let err = create(&s, serde_json::json!({"title": ""})).unwrap_err();
    assert!(matches!(err, Error::Validation(_)));
    assert_eq!(all_tasks(&s).len(), 1, "failed creates wrote nothing");
}

#[test]
fn another_users_tags_are_unknown() {
    let s = svc();
    let bob = UserId::parse("bob").unwrap();
    let bobs = block_on(s.create_tag(
        &bob,
        &CreateTagInput {
            name: Some("b".into()),
            color: None,
        },
    ))
    .unwrap();
    let err = create(&s, serde_json::json!({"title": "x", "tag_ids": [bobs.id]})).unwrap_err();
    assert!(matches!(err, Error::Unprocessable(_)));
    let t = create(&s, serde_json::json!({"title": "mine"})).unwrap();
    assert!(matches!(
        block_on(s.get_task(&bob, t.task.id)),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        block_on(s.delete_task(&bob, t.task.id)),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        block_on(s.attach_tag(&alice(), t.task.id, bobs.id)),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn update_records_only_changed_fields_and_null_clears() {
    let s = svc();
    let t = create(
        &s,
        serde_json::json!({"title": "a", "description": "d", "due_datetime": "2030-01-05T10:00:00Z"}),
    )
    .unwrap();
    let v = update(
        &s,
        t.task.id,
        serde_json::json!({"title": "b", "description": null, "priority": "Medium"}),
    )
    .unwrap();
    assert_eq!(v.task.title.as_str(), "b");
    assert_eq!(v.task.description, None);
    assert_eq!(
        v.task.due_datetime, t.task.due_datetime,
        "absent fields unchanged"
    );
    let log = block_on(s.activity(
        &alice(),
        &ActivityQuery::from_pairs([("limit", "10")]).unwrap(),
    ))
    .unwrap();
    let e = &log.entries[0];
    assert_eq!(e.action, ActivityAction::TaskUpdated);
    let keys: Vec<&String> = e.new_values.as_ref().unwrap().keys().collect();
    assert_eq!(keys, ["description", "title"], "priority did not change");
    assert_eq!(e.old_values.as_ref().unwrap()["title"], "a");
    assert_eq!(e.old_values.as_ref().unwrap()["description"], "d");
    assert_eq!(
        e.new_values.as_ref().unwrap()["description"],
        serde_json::Value::Null
    );
    let outbox = block_on(s.store().undelivered_events(100)).unwrap();
    let Some(EventPayload::TaskUpdated(change)) = outbox
        .iter()
        .map(|e| &e.event.payload)
        .rfind(|p| p.event_type() == "task-updated")
    else {
        panic!("no task-updated event");
    };
    assert_eq!(change.changed_fields, ["description", "title"]);

    // A no-op update writes nothing.
    let before = block_on(s.store().undelivered_events(1000)).unwrap().len();
    update(&s, t.task.id, serde_json::json!({"title": "b"})).unwrap();
    assert_eq!(
        block_on(s.store().undelivered_events(1000)).unwrap().len(),
        before
    );
}

#[test]
fn recurring_task_cannot_lose_its_due_date() {
    let s = svc();
    let t = create(
        &s,
        serde_json::json!({"title": "a", "due_datetime": "2030-01-05T10:00:00Z", "recurrence_pattern": "daily"}),
    )
    .unwrap();
    let err = update(&s, t.task.id, serde_json::json!({"due_datetime": null})).unwrap_err();
    match err {
        Error::Validation(e) => assert_eq!(e.first().field, "due_datetime"),
        other => panic!("{other:?}"),
    }
    // Clearing recurrence and due together is fine.
    let v = update(
        &s,
        t.task.id,
        serde_json::json!({"due_datetime": null, "recurrence_pattern": "none"}),
    )
    .unwrap();
    assert!(!v.task.is_recurring());
    assert_eq!(v.task.series_start, None);
    // `{"rrule": null}` keeps a pattern.
    let t = create(
        &s,
        serde_json::json!({"title": "w", "due_datetime": "2030-01-05T10:00:00Z", "recurrence_pattern": "weekly"}),
    )
    .unwrap();
    let v = update(&s, t.task.id, serde_json::json!({"rrule": null})).unwrap();
    assert_eq!(v.task.recurrence.pattern_str(), "weekly");
}

#[test]
fn completing_a_recurring_task_creates_the_next_instance_once() {
    let s = svc();
    let work = tag(&s, "work");
    let t = create(
        &s,
        serde_json::json!({"title": "Pay rent", "description": "flat", "priority": "High", "tag_ids": [work],
            "due_datetime": "2030-01-31T17:00:00Z", "recurrence_pattern": "monthly", "timezone": "Europe/Berlin"}),
    )
    .unwrap();
    let id = t.task.id;
    let done = block_on(s.set_completed(&alice(), id, Some(true))).unwrap();
    assert!(done.task.completed);
    assert_eq!(done.task.completed_at, Some(now()));
    let tasks = all_tasks(&s);
    assert_eq!(tasks.len(), 2);
    let next = &tasks[1];
    assert_eq!(next.parent_task_id, Some(id));
    assert_eq!(next.title.as_str(), "Pay rent");
    assert_eq!(next.description.as_ref().unwrap().as_str(), "flat");
    assert_eq!(next.tag_ids, vec![work]);
    assert!(!next.completed);
    // Jan 31 18:00 Berlin -> Feb 28 18:00 Berlin (17:00Z).
    assert_eq!(
        next.due_datetime,
        Some(Utc.with_ymd_and_hms(2030, 2, 28, 17, 0, 0).unwrap())
    );
    assert_eq!(
        next.series_start, t.task.series_start,
        "the series keeps its start"
    );

    // Completing again, toggling back and completing, and replaying: nothing new.
    block_on(s.set_completed(&alice(), id, Some(true))).unwrap();
    block_on(s.set_completed(&alice(), id, None)).unwrap();
    block_on(s.set_completed(&alice(), id, None)).unwrap();
    assert_eq!(
        block_on(s.create_next_instance(&alice(), id)).unwrap(),
        None
    );
    assert_eq!(all_tasks(&s).len(), 2);
    let completed = event_types(&s)
        .iter()
        .filter(|t| **t == "task-completed")
        .count();
    assert_eq!(completed, 2, "completed, reopened, completed again");

    // The next instance continues the series: Feb 28 -> Mar 31 (the original day returns).
    let next_id = next.id;
    block_on(s.set_completed(&alice(), next_id, Some(true))).unwrap();
    let tasks = all_tasks(&s);
    assert_eq!(tasks.len(), 3);
    assert_eq!(
        tasks[2].due_datetime,
        Some(Utc.with_ymd_and_hms(2030, 3, 31, 16, 0, 0).unwrap()),
        "18:00 CEST"
    );
}

#[test]
fn series_ends_at_end_date() {
    let s = svc();
    let t = create(
        &s,
        serde_json::json!({"title": "x", "due_datetime": "2030-01-02T09:00:00Z", "recurrence_pattern": "daily",
            "recurrence_end_date": "2030-01-03T09:00:00Z"}),
    )
    .unwrap();
    block_on(s.set_completed(&alice(), t.task.id, Some(true))).unwrap();
    let tasks = all_tasks(&s);
    assert_eq!(tasks.len(), 2, "Jan 3 09:00 is within the inclusive end");
    block_on(s.set_completed(&alice(), tasks[1].id, Some(true))).unwrap();
    assert_eq!(all_tasks(&s).len(), 2, "nothing after the end date");
}

#[test]
fn update_completed_goes_through_completion() {
    let s = svc();
    let t = create(
        &s,
        serde_json::json!({"title": "x", "due_datetime": "2030-01-02T09:00:00Z", "rrule": "FREQ=WEEKLY;BYDAY=MO,WE"}),
    )
    .unwrap();
    let v = update(
        &s,
        t.task.id,
        serde_json::json!({"completed": true, "priority": "Low"}),
    )
    .unwrap();
    assert!(v.task.completed);
    let tasks = all_tasks(&s);
    assert_eq!(tasks.len(), 2);
    // 2030-01-02 is a Wednesday; next is Monday 2030-01-07.
    assert_eq!(
        tasks[1].due_datetime,
        Some(Utc.with_ymd_and_hms(2030, 1, 7, 9, 0, 0).unwrap())
    );
    assert_eq!(tasks[1].priority.as_str(), "Low");
}

#[test]
fn reminders_set_replace_cancel_and_carry_over() {
    let s = svc();
    let t = create(
        &s,
        serde_json::json!({"title": "x", "due_datetime": "2030-01-02T09:00:00Z", "recurrence_pattern": "weekly"}),
    )
    .unwrap();
    let id = t.task.id;
    let set = |time: &str, kind: Option<&str>| {
        block_on(s.set_reminder(
            &alice(),
            id,
            &SetReminderInput {
                reminder_time: Some(time.into()),
                reminder_type: kind.map(Into::into),
            },
        ))
    };
    let err = set("2030-01-02T09:30:00Z", None).unwrap_err();
    assert!(
        matches!(err, Error::Validation(ref e) if e.first().field == "reminder_time"),
        "{err:?}"
    );
    let first = set("2030-01-02T08:00:00Z", None).unwrap();
    let second = set("2030-01-02T08:30:00Z", None).unwrap();
    assert_ne!(first.id, second.id);
    let view = block_on(s.get_task(&alice(), id)).unwrap();
    assert_eq!(
        view.reminder.as_ref().map(|r| r.id),
        Some(second.id),
        "one pending reminder"
    );

    // Moving the due date moves a due_date reminder by the same amount.
    let v = update(
        &s,
        id,
        serde_json::json!({"due_datetime": "2030-01-03T09:00:00Z"}),
    )
    .unwrap();
    assert_eq!(
        v.reminder.as_ref().unwrap().reminder_time,
        Utc.with_ymd_and_hms(2030, 1, 3, 8, 30, 0).unwrap()
    );

    // Completing cancels it; the next instance gets one 30 minutes before its due time.
    block_on(s.set_completed(&alice(), id, Some(true))).unwrap();
    let tasks = all_tasks(&s);
    let next = block_on(s.get_task(&alice(), tasks[1].id)).unwrap();
    assert_eq!(
        next.task.due_datetime,
        Some(Utc.with_ymd_and_hms(2030, 1, 10, 9, 0, 0).unwrap())
    );
    assert_eq!(
        next.reminder.as_ref().unwrap().reminder_time,
        Utc.with_ymd_and_hms(2030, 1, 10, 8, 30, 0).unwrap()
    );

    // Cancel is idempotent; a task that never had a reminder gives 404.
    let c1 = block_on(s.cancel_reminder(&alice(), next.task.id)).unwrap();
    assert_eq!(c1.status, ReminderStatus::Cancelled);
    assert_eq!(c1.cancelled_at, Some(now()));
    let c2 = block_on(s.cancel_reminder(&alice(), next.task.id)).unwrap();
    assert_eq!(c1, c2);
    let plain = create(&s, serde_json::json!({"title": "no reminder"})).unwrap();
    assert!(matches!(
        block_on(s.cancel_reminder(&alice(), plain.task.id)),
        Err(Error::NotFound { .. })
    ));
    // A due_date reminder needs a due date.
    let err = block_on(s.set_reminder(
        &alice(),
        plain.task.id,
        &SetReminderInput {
            reminder_time: Some("2030-01-02T08:00:00Z".into()),
            reminder_type: None,
        },
    ))
    .unwrap_err();
    assert!(matches!(err, Error::Validation(ref e) if e.first().field == "reminder_type"));
}

#[test]
fn a_reminder_fires_once() {
    let (s, clock) = svc_with_clock();
    let t = create(
        &s,
        serde_json::json!({"title": "x", "due_datetime": "2030-01-02T09:00:00Z"}),
    )
    .unwrap();
    let r = block_on(s.set_reminder(
        &alice(),
        t.task.id,
        &SetReminderInput {
            reminder_time: Some("2030-01-02T08:00:00Z".into()),
            reminder_type: Some("custom".into()),
        },
    ))
    .unwrap();
    assert!(
        !block_on(s.fire_reminder(&alice(), r.id)).unwrap(),
        "not before its time"
    );
    clock.set(r.reminder_time);
    assert!(block_on(s.fire_reminder(&alice(), r.id)).unwrap());
    assert!(!block_on(s.fire_reminder(&alice(), r.id)).unwrap(), "once");
    let fired: Vec<_> = block_on(s.store().undelivered_events(100))
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event.payload {
            EventPayload::ReminderTriggered(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].task_title, "x");
    assert_eq!(fired[0].reminder_id, r.id);
    assert_eq!(
        block_on(s.get_task(&alice(), t.task.id)).unwrap().reminder,
        None
    );
}

#[test]
fn tags_attach_detach_and_crud() {
    let s = svc();
    let work = tag(&s, "Work");
    let t = create(&s, serde_json::json!({"title": "x"})).unwrap();
    let v = block_on(s.attach_tag(&alice(), t.task.id, work)).unwrap();
    assert_eq!(v.task.tag_ids, vec![work]);
    assert!(matches!(
        block_on(s.attach_tag(&alice(), t.task.id, work)),
        Err(Error::Conflict { .. })
    ));
    assert!(matches!(
        block_on(s.attach_tag(&alice(), t.task.id, TagId::new(999))),
        Err(Error::NotFound { .. })
    ));
    let dup = block_on(s.create_tag(
        &alice(),
        &CreateTagInput {
            name: Some("WORK".into()),
            color: None,
        },
    ));
    assert!(matches!(dup, Err(Error::Conflict { .. })));
    let home = tag(&s, "home");
    let renamed = block_on(s.update_tag(
        &alice(),
        home,
        &UpdateTagInput {
            name: Some(Some("work".into())),
            color: None,
        },
    ));
    assert!(matches!(renamed, Err(Error::Conflict { .. })));
    let recolored = block_on(s.update_tag(
        &alice(),
        work,
        &UpdateTagInput {
            name: Some(Some("work".into())),
            color: Some(Some("#ef4444".into())),
        },
    ))
    .unwrap();
    assert_eq!(recolored.name.as_str(), "work");
    assert_eq!(recolored.color.as_str(), "#EF4444");
    let tags = block_on(s.list_tags(&alice())).unwrap();
    assert_eq!(
        tags.iter().find(|t| t.tag.id == work).unwrap().task_count,
        1
    );

    block_on(s.delete_tag(&alice(), work)).unwrap();
    assert!(
        block_on(s.get_task(&alice(), t.task.id))
            .unwrap()
            .task
            .tag_ids
            .is_empty()
    );
    assert!(matches!(
        block_on(s.delete_tag(&alice(), work)),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        block_on(s.detach_tag(&alice(), t.task.id, work)),
        Err(Error::NotFound { .. })
    ));
    let types = event_types(&s);
    assert_eq!(
        types.iter().filter(|t| **t == "task-updated").count(),
        2,
        "attach, and detach by delete"
    );
}

#[test]
fn delete_is_recorded_and_second_delete_is_not_found() {
    let s = svc();
    let t = create(&s, serde_json::json!({"title": "bye"})).unwrap();
    block_on(s.delete_task(&alice(), t.task.id)).unwrap();
    assert!(matches!(
        block_on(s.delete_task(&alice(), t.task.id)),
        Err(Error::NotFound { .. })
    ));
    assert_eq!(event_types(&s), ["task-created", "task-deleted"]);
    let log = block_on(s.activity(
        &alice(),
        &ActivityQuery::from_pairs([("limit", "10")]).unwrap(),
    ))
    .unwrap();
    assert_eq!(log.entries[0].action, ActivityAction::TaskDeleted);
    assert_eq!(log.entries[0].old_values.as_ref().unwrap()["title"], "bye");
}

#[test]
fn every_event_has_a_fresh_id_and_the_clock_time() {
    let (s, clock) = svc_with_clock();
    clock.advance(Duration::minutes(5));
    create(&s, serde_json::json!({"title": "a"})).unwrap();
    create(&s, serde_json::json!({"title": "b"})).unwrap();
    let out = block_on(s.store().undelivered_events(100)).unwrap();
    let mut ids: Vec<_> = out.iter().map(|e| e.event.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), out.len());
    assert!(
        out.iter()
            .all(|e| e.event.occurred_at == now() + Duration::minutes(5))
    );
    assert!(out.iter().all(|e| e.event.user_id == alice()));
}

fn set_reminder(
    s: &Svc,
    id: TaskId,
    time: &str,
    kind: Option<&str>,
) -> Result<todo_core::model::Reminder, Error> {
    block_on(s.set_reminder(
        &alice(),
        id,
        &SetReminderInput {
            reminder_time: Some(time.into()),
            reminder_type: kind.map(Into::into),
        },
    ))
}

#[test]
fn a_deleted_next_instance_is_never_recreated() {
    let s = svc();
    let t = create(
        &s,
        serde_json::json!({"title": "x", "due_datetime": "2030-01-02T09:00:00Z", "recurrence_pattern": "daily"}),
    )
    .unwrap();
    let id = t.task.id;
    let done = block_on(s.set_completed(&alice(), id, Some(true))).unwrap();
    let next = done
        .task
        .next_task_id
        .expect("the parent records its next instance");
    block_on(s.delete_task(&alice(), next)).unwrap();
    block_on(s.set_completed(&alice(), id, Some(false))).unwrap();
    block_on(s.set_completed(&alice(), id, Some(true))).unwrap();
    assert_eq!(
        block_on(s.create_next_instance(&alice(), id)).unwrap(),
        None
    );
    assert_eq!(all_tasks(&s).len(), 1, "only the completed task is left");
}

/// Another service completes `task` in the shared store, without creating its next instance.
fn complete_elsewhere<S: Store>(
    s: &todo_core::service::TaskService<S>,
    task: &todo_core::model::Task,
) {
    use todo_core::ports::StoreTx;
    let mut completed = task.clone();
    completed.completed = true;
    completed.completed_at = Some(now());
    let mut tx = block_on(s.store().begin()).unwrap();
    block_on(tx.update_task(&completed)).unwrap();
    block_on(tx.commit()).unwrap();
}

#[test]
fn a_task_completed_elsewhere_gets_its_next_instance_once() {
    // Another service completed the task in the shared store without creating the next
    // instance; its task-completed event reaches us (twice).
    let s = svc();
    let t = create(
        &s,
        serde_json::json!({"title": "x", "due_datetime": "2030-01-02T09:00:00Z", "recurrence_pattern": "weekly"}),
    )
    .unwrap();
    let id = t.task.id;
    set_reminder(&s, id, "2030-01-02T08:45:00Z", None).unwrap();
    complete_elsewhere(&s, &t.task);
    let next = block_on(s.create_next_instance(&alice(), id))
        .unwrap()
        .expect("created");
    assert_eq!(next.task.parent_task_id, Some(id));
    assert_eq!(
        next.task.due_datetime,
        Some(Utc.with_ymd_and_hms(2030, 1, 9, 9, 0, 0).unwrap())
    );
    assert_eq!(
        next.reminder.as_ref().map(|r| r.reminder_time),
        Some(Utc.with_ymd_and_hms(2030, 1, 9, 8, 45, 0).unwrap()),
        "the reminder carries over at the same offset"
    );
    assert_eq!(
        block_on(s.get_task(&alice(), id)).unwrap().reminder,
        None,
        "the old one is cancelled"
    );
    assert_eq!(
        block_on(s.get_task(&alice(), id))
            .unwrap()
            .task
            .next_task_id,
        Some(next.task.id)
    );
    assert_eq!(
        block_on(s.create_next_instance(&alice(), id)).unwrap(),
        None,
        "replay"
    );
    assert_eq!(all_tasks(&s).len(), 2);
    // Not completed, or not recurring: nothing.
    let plain = create(&s, serde_json::json!({"title": "p"})).unwrap();
    assert_eq!(
        block_on(s.create_next_instance(&alice(), plain.task.id)).unwrap(),
        None
    );
    assert_eq!(
        block_on(s.create_next_instance(&alice(), next.task.id)).unwrap(),
        None
    );
}

#[test]
fn a_consumed_task_completed_event_applies_once() {
    // The recurring-task creator consumes task-completed events: the first delivery of an
    // event creates the next instance; a redelivery of the same event has no effect, even after
    // that instance was deleted (the claim, not the task, decides).
    let s = svc();
    let t = create(
        &s,
        serde_json::json!({"title": "x", "due_datetime": "2030-01-02T09:00:00Z", "recurrence_pattern": "daily"}),
    )
    .unwrap();
    let id = t.task.id;
    complete_elsewhere(&s, &t.task);
    let event = todo_core::EventId::new(uuid::Uuid::from_u128(7));
    let next = block_on(s.apply_task_completed("recurring-task-creator", event, &alice(), id))
        .unwrap()
        .expect("created");
    assert_eq!(next.task.parent_task_id, Some(id));
    assert_eq!(
        block_on(s.apply_task_completed("recurring-task-creator", event, &alice(), id)).unwrap(),
        None,
        "redelivered"
    );
    assert_eq!(all_tasks(&s).len(), 2);
    // An event for a task of nobody's is claimed too (a redelivery does not look again).
    let other = todo_core::EventId::new(uuid::Uuid::from_u128(8));
    let missing = TaskId::new(9_999);
    assert_eq!(
        block_on(s.apply_task_completed("recurring-task-creator", other, &alice(), missing))
            .unwrap(),
        None
    );
    use todo_core::ports::StoreTx;
    let mut tx = block_on(s.store().begin()).unwrap();
    assert!(!block_on(tx.claim_event("recurring-task-creator", other, now())).unwrap());
    assert!(!block_on(tx.claim_event("recurring-task-creator", event, now())).unwrap());
}

#[test]
fn a_consumed_activity_log_event_is_written_once_and_own_events_never() {
    use todo_core::ports::NewActivity;
    let s = svc();
    let foreign = todo_core::EventId::new(uuid::Uuid::from_u128(41));
    let entry = NewActivity {
        user_id: alice(),
        task_id: None,
        action: ActivityAction::TagCreated,
        old_values: None,
        new_values: None,
        created_at: now(),
    };
    let before = block_on(s.activity(&alice(), &ActivityQuery::default()))
        .unwrap()
        .total;
    let written = block_on(s.apply_activity_log("activity-log-writer", foreign, entry.clone()))
        .unwrap()
        .expect("written");
    assert_eq!(written.action, ActivityAction::TagCreated);
    assert_eq!(
        block_on(s.apply_activity_log("activity-log-writer", foreign, entry.clone())).unwrap(),
        None,
        "redelivered"
    );
    // This service's own activity-log-created event (in its outbox): already in the log.
    create(&s, serde_json::json!({"title": "mine"})).unwrap();
    let own = block_on(s.store().undelivered_events(100))
        .unwrap()
        .into_iter()
        .find(|e| e.event.payload.event_type() == "activity-log-created")
        .expect("own event");
    assert_eq!(
        block_on(s.apply_activity_log("activity-log-writer", own.event.id, entry)).unwrap(),
        None
    );
    let after = block_on(s.activity(&alice(), &ActivityQuery::default()))
        .unwrap()
        .total;
    assert_eq!(
        after,
        before + 2,
        "the foreign entry once, and the create's own"
    );
}

#[test]
fn a_reminder_the_user_cancelled_is_not_carried_over_but_a_sent_one_is() {
    let (s, clock) = svc_with_clock();
    let mk = |s: &Svc| {
        create(
            s,
            serde_json::json!({"title": "x", "due_datetime": "2030-01-03T09:00:00Z", "recurrence_pattern": "daily"}),
        )
        .unwrap()
        .task
        .id
    };
    // Sent, then the user set another and cancelled it: nothing carries over.
    let a = mk(&s);
    let r = set_reminder(&s, a, "2030-01-02T10:00:00Z", Some("custom")).unwrap();
    clock.set(r.reminder_time);
    assert!(block_on(s.fire_reminder(&alice(), r.id)).unwrap());
    set_reminder(&s, a, "2030-01-03T08:00:00Z", None).unwrap();
    block_on(s.cancel_reminder(&alice(), a)).unwrap();
    let done = block_on(s.set_completed(&alice(), a, Some(true))).unwrap();
    let next = block_on(s.get_task(&alice(), done.task.next_task_id.unwrap())).unwrap();
    assert_eq!(next.reminder, None);
    // Sent and nothing after it: it carries over (23 h before the due time).
    let b = mk(&s);
    let r = set_reminder(&s, b, "2030-01-02T10:00:00Z", Some("custom")).unwrap();
    clock.set(r.reminder_time);
    assert!(block_on(s.fire_reminder(&alice(), r.id)).unwrap());
    let done = block_on(s.set_completed(&alice(), b, Some(true))).unwrap();
    let next = block_on(s.get_task(&alice(), done.task.next_task_id.unwrap())).unwrap();
    let carried = next.reminder.expect("carried over");
    assert_eq!(
        carried.reminder_time,
        Utc.with_ymd_and_hms(2030, 1, 3, 10, 0, 0).unwrap()
    );
    assert_eq!(carried.reminder_type.as_str(), "custom");
    // A completed task takes no new reminder.
    let err = set_reminder(&s, b, "2030-01-05T08:00:00Z", Some("custom")).unwrap_err();
    assert!(matches!(err, Error::Conflict { .. }), "{err:?}");
}

#[test]
fn a_client_that_echoes_pattern_none_keeps_the_rrule() {
    let s = svc();
    let t = create(
        &s,
        serde_json::json!({"title": "x", "due_datetime": "2030-01-02T09:00:00Z", "rrule": "FREQ=WEEKLY;BYDAY=MO,WE"}),
    )
    .unwrap();
    let v = update(
        &s,
        t.task.id,
        serde_json::json!({"title": "y", "recurrence_pattern": "none"}),
    )
    .unwrap();
    assert_eq!(
        v.task.recurrence.rrule().map(|r| r.as_str()),
        Some("FREQ=WEEKLY;BYDAY=MO,WE")
    );
    let v = update(&s, t.task.id, serde_json::json!({"rrule": null})).unwrap();
    assert!(!v.task.is_recurring(), "rrule: null removes the rule");
    assert_eq!(v.task.series_start, None);
    assert_eq!(v.task.due_datetime, t.task.due_datetime);
}

#[test]
fn moving_one_instance_keeps_the_series() {
    let s = svc();
    // Monthly on Jan 31 (UTC): the Feb 28 instance moved by an hour; the next is Mar 31.
    let t = create(
        &s,
        serde_json::json!({"title": "m", "due_datetime": "2030-01-31T10:00:00Z", "recurrence_pattern": "monthly"}),
    )
    .unwrap();
    let feb = block_on(s.set_completed(&alice(), t.task.id, Some(true)))
        .unwrap()
        .task
        .next_task_id
        .unwrap();
    let v = update(
        &s,
        feb,
        serde_json::json!({"due_datetime": "2030-02-28T11:00:00Z"}),
    )
    .unwrap();
    assert_eq!(
        v.task.series_start, t.task.series_start,
        "the series keeps its start"
    );
    let mar = block_on(s.set_completed(&alice(), feb, Some(true)))
        .unwrap()
        .task
        .next_task_id
        .unwrap();
    let mar = block_on(s.get_task(&alice(), mar)).unwrap();
    assert_eq!(
        mar.task.due_datetime,
        Some(Utc.with_ymd_and_hms(2030, 3, 31, 10, 0, 0).unwrap())
    );

    // COUNT=2: moving the second instance does not buy a third.
    let t = create(
        &s,
        serde_json::json!({"title": "c", "due_datetime": "2030-01-02T09:00:00Z", "rrule": "FREQ=DAILY;COUNT=2"}),
    )
    .unwrap();
    let second = block_on(s.set_completed(&alice(), t.task.id, Some(true)))
        .unwrap()
        .task
        .next_task_id
        .unwrap();
    update(
        &s,
        second,
        serde_json::json!({"due_datetime": "2030-01-03T10:00:00Z"}),
    )
    .unwrap();
    let done = block_on(s.set_completed(&alice(), second, Some(true))).unwrap();
    assert_eq!(done.task.next_task_id, None, "the series ended after COUNT");

    // Moving the first instance moves the whole series.
    let t = create(
        &s,
        serde_json::json!({"title": "w", "due_datetime": "2030-01-02T09:00:00Z", "recurrence_pattern": "weekly"}),
    )
    .unwrap();
    let v = update(
        &s,
        t.task.id,
        serde_json::json!({"due_datetime": "2030-01-03T07:00:00Z"}),
    )
    .unwrap();
    assert_eq!(v.task.series_start, v.task.due_datetime);
    let next = block_on(s.set_completed(&alice(), t.task.id, Some(true)))
        .unwrap()
        .task
        .next_task_id
        .unwrap();
    let next = block_on(s.get_task(&alice(), next)).unwrap();
    assert_eq!(
        next.task.due_datetime,
        Some(Utc.with_ymd_and_hms(2030, 1, 10, 7, 0, 0).unwrap())
    );
}

#[test]
fn a_due_date_reminder_is_cancelled_when_the_due_date_goes() {
    let s = svc();
    let t = create(
        &s,
        serde_json::json!({"title": "x", "due_datetime": "2030-01-05T09:00:00Z"}),
    )
    .unwrap();
    set_reminder(&s, t.task.id, "2030-01-05T08:00:00Z", None).unwrap();
    let custom = create(
        &s,
        serde_json::json!({"title": "y", "due_datetime": "2030-01-05T09:00:00Z"}),
    )
    .unwrap();
    set_reminder(&s, custom.task.id, "2030-01-04T08:00:00Z", Some("custom")).unwrap();
    let v = update(&s, t.task.id, serde_json::json!({"due_datetime": null})).unwrap();
    assert_eq!(v.reminder, None, "no due date, no due_date reminder");
    // Moved into the past: cancelled too.
    set_reminder(&s, custom.task.id, "2030-01-04T08:00:00Z", Some("custom")).unwrap();
    let w = create(
        &s,
        serde_json::json!({"title": "z", "due_datetime": "2030-01-05T09:00:00Z"}),
    )
    .unwrap();
    set_reminder(&s, w.task.id, "2030-01-05T08:00:00Z", None).unwrap();
    let v = update(
        &s,
        w.task.id,
        serde_json::json!({"due_datetime": "2030-01-01T09:30:00Z"}),
    )
    .unwrap();
    assert_eq!(v.reminder, None);
    // A custom reminder stays where it is.
    let v = update(
        &s,
        custom.task.id,
        serde_json::json!({"due_datetime": "2030-01-07T09:00:00Z"}),
    )
    .unwrap();
    assert_eq!(
        v.reminder.map(|r| r.reminder_time),
        Some(Utc.with_ymd_and_hms(2030, 1, 4, 8, 0, 0).unwrap())
    );
}

#[test]
fn activity_query_defaults_to_20_and_checks_its_parameters() {
    let q = ActivityQuery::from_pairs([]).unwrap();
    assert_eq!((q.limit.get(), q.offset), (20, 0));
    let q = ActivityQuery::from_pairs([("limit", "100"), ("offset", "3")]).unwrap();
    assert_eq!((q.limit.get(), q.offset), (100, 3));
    for (pairs, field, code) in [
        (vec![("limit", "0")], "limit", ErrorCode::OutOfRange),
        (vec![("limit", "101")], "limit", ErrorCode::OutOfRange),
        (vec![("offset", "-1")], "offset", ErrorCode::OutOfRange),
        (vec![("limit", "x")], "limit", ErrorCode::InvalidFormat),
        (
            vec![("limit", "5"), ("limit", "6")],
            "limit",
            ErrorCode::Duplicate,
        ),
        (
            vec![("sort_by", "title")],
            "sort_by",
            ErrorCode::UnknownField,
        ),
    ] {
        let e = ActivityQuery::from_pairs(pairs.clone()).unwrap_err();
        assert_eq!(
            (e.first().field.as_str(), e.first().code),
            (field, code),
            "{pairs:?}"
        );
    }
    let s = svc();
    for i in 0..25 {
        create(&s, serde_json::json!({"title": format!("t{i}")})).unwrap();
    }
    let page = block_on(s.activity(&alice(), &ActivityQuery::default())).unwrap();
    assert_eq!((page.entries.len(), page.total), (20, 25));
}

fn field_error(e: Error) -> (String, ErrorCode, String) {
    match e {
        Error::Validation(v) => {
            let f = v.first();
            (f.field.clone(), f.code, f.message.clone())
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
}

/// A task carries at most `MAX_TAGS_PER_TASK` tags (issue 14: 5,600 tags made one event larger
/// than Kafka takes): more in `tag_ids` is a 400 on `tag_ids`, duplicates count once, and
/// attaching one more is a 409.
#[test]
fn tags_per_task_are_capped() {
    use todo_core::model::task::MAX_TAGS_PER_TASK;
    assert_eq!(MAX_TAGS_PER_TASK, 50);
    let s = svc();
    let tags: Vec<TagId> = (0..=MAX_TAGS_PER_TASK)
        .map(|i| tag(&s, &format!("tag{i}")))
        .collect();
    let ids = |n: usize| -> Vec<i64> { tags[..n].iter().map(|t| t.get()).collect() };
    let (field, code, message) =
        field_error(create(&s, serde_json::json!({"title": "t", "tag_ids": ids(51)})).unwrap_err());
    assert_eq!((field.as_str(), code), ("tag_ids", ErrorCode::TooLong));
    assert!(
        message.contains("at most 50 tags; it names 51"),
        "{message}"
    );
    // 50 distinct ids, each twice: 50 tags.
    let mut doubled = ids(50);
    doubled.extend(ids(50));
    let t = create(&s, serde_json::json!({"title": "t", "tag_ids": doubled})).unwrap();
    assert_eq!(t.task.tag_ids.len(), 50);
    assert_eq!(t.tags.len(), 50);
    let (field, code, _) =
        field_error(update(&s, t.task.id, serde_json::json!({"tag_ids": ids(51)})).unwrap_err());
    assert_eq!((field.as_str(), code), ("tag_ids", ErrorCode::TooLong));
    // Attaching the 51st: a conflict that names the limit; an attached one is still "attached".
    match block_on(s.attach_tag(&alice(), t.task.id, tags[50])) {
        Err(Error::Conflict { message }) => {
            assert!(message.contains("already carries 50 tags"), "{message}");
            assert!(message.contains("(50)"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    match block_on(s.attach_tag(&alice(), t.task.id, tags[0])) {
        Err(Error::Conflict { message }) => assert!(message.contains("already attached")),
        other => panic!("{other:?}"),
    }
    // Detach one, and the 51st fits.
    block_on(s.detach_tag(&alice(), t.task.id, tags[0])).unwrap();
    let v = block_on(s.attach_tag(&alice(), t.task.id, tags[50])).unwrap();
    assert_eq!(v.task.tag_ids.len(), 50);
    assert_eq!(all_tasks(&s)[0].tag_ids.len(), 50);
}

/// The attack rule of issue 14 (465 characters, 31.6 million candidates a year) is refused on
/// create and update, at once, naming the limit.
#[test]
fn an_rrule_beyond_the_cost_limits_is_refused_on_create_and_update() {
    let list = |n: u32| (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    let attack = format!(
        "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={};BYMINUTE={};BYSECOND={}",
        list(24),
        list(60),
        list(60)
    );
    let s = svc();
    let started = std::time::Instant::now();
    let body =
        serde_json::json!({"title": "t", "due_datetime": "2030-01-02T09:00:00Z", "rrule": attack});
    let (field, code, message) = field_error(create(&s, body).unwrap_err());
    assert_eq!((field.as_str(), code), ("rrule", ErrorCode::TooComplex));
    assert!(message.contains("at most 96"), "{message}");
    let t = create(
        &s,
        serde_json::json!({"title": "t", "due_datetime": "2030-01-02T09:00:00Z", "rrule": "FREQ=DAILY"}),
    )
    .unwrap();
    let (field, code, _) =
        field_error(update(&s, t.task.id, serde_json::json!({"rrule": attack})).unwrap_err());
    assert_eq!((field.as_str(), code), ("rrule", ErrorCode::TooComplex));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert_eq!(all_tasks(&s).len(), 1);
}

/// A task at the cost limits (96 times a day on every day of the year, and the longest
/// `BYSETPOS`) is created, completed (its next instance a quarter of an hour later) and updated.
#[test]
fn a_task_at_the_rrule_limits_is_created_completed_and_updated() {
    let quarters = "BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;\
                    BYMINUTE=0,15,30,45";
    let setpos: Vec<String> = (1..=31).chain(-31..=-1).map(|i| i.to_string()).collect();
    let day =
        |mo: u32, d: u32, h: u32, m: u32| Some(Utc.with_ymd_and_hms(2030, mo, d, h, m, 0).unwrap());
    for (rule, second, third_due) in [
        (
            format!("FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;{quarters}"),
            day(1, 2, 9, 15),
            day(1, 2, 9, 30),
        ),
        (
            format!("FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;{quarters};COUNT=100000"),
            day(1, 2, 9, 15),
            day(1, 2, 9, 30),
        ),
        // The first 31 and the last 31 of the year's 35,040 times: after the start (Jan 2),
        // the last 31 (Dec 31 from 16:15 local, 15:15 UTC).
        (
            format!(
                "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;{quarters};BYSETPOS={}",
                setpos.join(",")
            ),
            day(12, 31, 15, 15),
            day(12, 31, 15, 30),
        ),
    ] {
        let s = svc();
        let t = create(
            &s,
            serde_json::json!({"title": "t", "due_datetime": "2030-01-02T09:00:00Z",
                               "timezone": "Europe/Berlin", "rrule": rule}),
        )
        .unwrap_or_else(|e| panic!("{rule}: {e}"));
        let done = block_on(s.set_completed(&alice(), t.task.id, Some(true))).unwrap();
        let next = done.task.next_task_id.expect(&rule);
        let next = block_on(s.get_task(&alice(), next)).unwrap();
        assert_eq!(next.task.due_datetime, second, "{rule}");
        // An update that completes in the same request goes through the same path.
        let v = update(
            &s,
            next.task.id,
            serde_json::json!({"title": "u", "completed": true}),
        )
        .unwrap();
        let third = block_on(s.get_task(&alice(), v.task.next_task_id.unwrap())).unwrap();
        assert_eq!(third.task.due_datetime, third_due, "{rule}");
    }
}
