//! Per-user quotas of the task service (`todo_core::quota`), on the in-memory store: what is
//! refused, what is pruned, and what a recurring series may still do at the limit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Duration, TimeZone, Utc};
use futures_executor::block_on;
use todo_core::error::Error;
use todo_core::ids::{TaskId, UserId};
use todo_core::input::{CreateTagInput, CreateTaskInput, SetReminderInput};
use todo_core::memory::MemoryStore;
use todo_core::model::{ActivityAction, ReminderStatus};
use todo_core::ports::{ManualClock, SequentialIds, Store, StoreTx};
use todo_core::query::ActivityQuery;
use todo_core::quota::{QuotaKind, Quotas};
use todo_core::service::TaskService;

type Svc = TaskService<MemoryStore>;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap()
}

fn svc(quotas: Quotas) -> Svc {
    TaskService::new(
        MemoryStore::new(),
        ManualClock::new(now()),
        SequentialIds::new(),
    )
    .with_quotas(quotas)
}

fn alice() -> UserId {
    UserId::parse("alice").unwrap()
}

fn create(s: &Svc, body: serde_json::Value) -> Result<TaskId, Error> {
    let input: CreateTaskInput = serde_json::from_value(body).unwrap();
    block_on(s.create_task(&alice(), &input)).map(|v| v.task.id)
}

fn daily(s: &Svc, title: &str) -> TaskId {
    create(
        s,
        serde_json::json!({"title": title, "due_datetime": "2030-01-02T09:00:00Z",
            "recurrence_pattern": "daily"}),
    )
    .unwrap()
}

fn task_count(s: &Svc) -> u64 {
    let mut tx = block_on(s.store().begin()).unwrap();
    block_on(tx.count_tasks(&alice())).unwrap()
}

fn log(s: &Svc, limit: u32) -> todo_core::ports::ActivityPage {
    let q = ActivityQuery {
        limit: todo_core::query::Limit::new(limit).unwrap(),
        offset: 0,
    };
    block_on(s.activity(&alice(), &q)).unwrap()
}

#[test]
fn the_error_names_the_quota_and_its_limit() {
    let e = Error::QuotaExceeded {
        quota: QuotaKind::Tasks,
        limit: 20,
    };
    assert_eq!(
        e.to_string(),
        "the tasks quota is reached: at most 20 tasks per user; delete some to make room"
    );
}

#[test]
fn defaults_are_the_documented_ones() {
    let d = Quotas::default();
    assert_eq!(
        (
            d.tasks,
            d.tags,
            d.conversations,
            d.reminder_history,
            d.activity_entries
        ),
        (10_000, 500, 1_000, 20, 100_000)
    );
    let s = TaskService::new(
        MemoryStore::new(),
        ManualClock::new(now()),
        SequentialIds::new(),
    );
    assert_eq!(*s.quotas(), d, "the constructor applies the defaults");
}

/// At the tasks quota the series goes on (its next instance is created beyond the quota); at
/// twice the quota a completion that would create one more is refused, and nothing changes.
#[test]
fn a_series_outgrows_the_tasks_quota_up_to_twice_it() {
    let s = svc(Quotas {
        tasks: 2,
        ..Quotas::default()
    });
    let a = daily(&s, "standup");
    let b = daily(&s, "water plants");
    assert!(matches!(
        create(&s, serde_json::json!({"title": "one more"})),
        Err(Error::QuotaExceeded {
            quota: QuotaKind::Tasks,
            limit: 2
        })
    ));
    let a2 = block_on(s.set_completed(&alice(), a, Some(true)))
        .unwrap()
        .task
        .next_task_id
        .expect("the series goes on at the quota");
    block_on(s.set_completed(&alice(), b, Some(true))).unwrap();
    assert_eq!(task_count(&s), 4, "twice the quota");
    let refused = block_on(s.set_completed(&alice(), a2, Some(true))).unwrap_err();
    assert_eq!(
        refused,
        Error::QuotaExceeded {
            quota: QuotaKind::Tasks,
            limit: 2
        }
    );
    let still = block_on(s.get_task(&alice(), a2)).unwrap();
    assert!(
        !still.task.completed,
        "the refused completion wrote nothing"
    );
    assert_eq!(task_count(&s), 4);
    // Deleting a completed instance makes room for the series again.
    block_on(s.delete_task(&alice(), a)).unwrap();
    let done = block_on(s.set_completed(&alice(), a2, Some(true))).unwrap();
    assert!(done.task.next_task_id.is_some());
}

/// Attaching and detaching write an activity entry naming only the tag: its size does not grow
/// with the number of tags the task has.
#[test]
fn tag_activity_names_only_the_changed_tag() {
    let s = svc(Quotas::default());
    let t = create(&s, serde_json::json!({"title": "x"})).unwrap();
    let mut sizes = Vec::new();
    let mut last = None;
    for i in 0..40 {
        let tag = block_on(s.create_tag(
            &alice(),
            &CreateTagInput {
                name: Some(format!("tag-{i}")),
                color: None,
            },
        ))
        .unwrap();
        block_on(s.attach_tag(&alice(), t, tag.id)).unwrap();
        let entry = log(&s, 1).entries.remove(0);
        assert_eq!(entry.action, ActivityAction::TagAttached);
        assert_eq!(entry.old_values, None);
        assert_eq!(
            serde_json::Value::Object(entry.new_values.clone().unwrap()),
            serde_json::json!({"tag_id": tag.id.get()})
        );
        sizes.push(serde_json::to_vec(&entry).unwrap().len());
        last = Some(tag.id);
    }
    assert!(
        sizes.last().unwrap() - sizes.first().unwrap() <= 2,
        "entries do not grow with the tag count: {sizes:?}"
    );
    let tag = last.unwrap();
    let view = block_on(s.detach_tag(&alice(), t, tag)).unwrap();
    assert_eq!(view.task.tag_ids.len(), 39);
    let entry = log(&s, 1).entries.remove(0);
    assert_eq!(entry.action, ActivityAction::TagDetached);
    assert_eq!(
        serde_json::Value::Object(entry.old_values.unwrap()),
        serde_json::json!({"tag_id": tag.get()})
    );
    assert_eq!(entry.new_values, None);
}

/// Each replacement of a reminder leaves a cancelled row; only the newest
/// `reminder_history` of them are kept, with the pending one.
#[test]
fn reminder_history_is_pruned_not_refused() {
    let s = svc(Quotas {
        reminder_history: 3,
        ..Quotas::default()
    });
    let t = create(
        &s,
        serde_json::json!({"title": "x", "due_datetime": "2030-02-01T09:00:00Z"}),
    )
    .unwrap();
    for i in 0..10 {
        let at = now() + Duration::hours(i + 1);
        let input = SetReminderInput {
            reminder_time: Some(todo_core::model::format_instant(at)),
            reminder_type: Some("custom".into()),
        };
        block_on(s.set_reminder(&alice(), t, &input)).unwrap();
    }
    let mut tx = block_on(s.store().begin()).unwrap();
    let rows = block_on(tx.reminders_of(&alice(), t)).unwrap();
    let statuses: Vec<_> = rows.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        vec![
            ReminderStatus::Cancelled,
            ReminderStatus::Cancelled,
            ReminderStatus::Cancelled,
            ReminderStatus::Pending
        ]
    );
    assert_eq!(
        rows[3].reminder_time,
        now() + Duration::hours(10),
        "the newest is the pending one"
    );
}

/// Beyond `activity_entries` the oldest entries of the user go (pruned every
/// `activity_prune_step` entries: every entry for a limit this small).
#[test]
fn the_activity_log_keeps_the_newest_entries() {
    let s = svc(Quotas {
        activity_entries: 10,
        ..Quotas::default()
    });
    let mut ids = Vec::new();
    for i in 0..25 {
        ids.push(create(&s, serde_json::json!({"title": format!("t{i}")})).unwrap());
    }
    let page = log(&s, 100);
    assert_eq!(page.total, 10);
    assert_eq!(page.entries[0].task_id, Some(ids[24]), "the newest stays");
    assert_eq!(page.entries[9].task_id, Some(ids[15]));
}
