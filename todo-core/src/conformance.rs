//! The store conformance suite: the behaviour every storage adapter (in-memory, SQLite,
//! PostgreSQL) must show. Each case is an `async fn` taking a fresh, empty store and panicking on
//! failure; [`crate::store_conformance_tests!`] turns them into `#[test]`s for one adapter:
//!
//! ```ignore
//! todo_core::store_conformance_tests!(async { MyStore::fresh().await }, my_runtime::block_on);
//! ```
// Test-support code: failing loudly is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use chrono::{DateTime, Duration, TimeZone as _, Utc};

use crate::error::StoreError;
use crate::events::{DomainEvent, EventPayload, TaskChange};
use crate::ids::{ConversationId, EventId, TagId, TaskId, UserId};
use crate::input::{CreateTaskInput, SetReminderInput};
use crate::model::{
    ActivityAction, Color, Description, Priority, RRuleText, Recurrence, RecurrencePattern,
    ReminderStatus, ReminderType, TagName, Task, TaskTitle, TimeZone, Values,
};
use crate::ports::{
    CONVERSATION_RETENTION, ConversationStore, DeleteOutcome, ManualClock, NewActivity,
    NewReminder, NewTag, NewTask, PutOutcome, SequentialIds, Store, StoreTx,
};
use crate::query::TaskQuery;
use crate::service::TaskService;
use serde_json::json;

/// Expands to one `#[test]` per conformance case. `$make` is an expression whose value is a
/// future of a fresh, empty store; `$run` is a function that runs a future to completion.
#[macro_export]
macro_rules! store_conformance_tests {
    ($make:expr, $run:path) => {
        $crate::store_conformance_tests!(@cases $make, $run, [
            task_round_trip,
            uncommitted_work_is_invisible,
            users_are_isolated,
            update_writes_every_field,
            delete_task_removes_links_and_reminders,
            one_next_instance_per_parent,
            tag_names_unique_per_user,
            delete_tag_detaches_and_counts,
            tags_by_id_in_order_of_their_owner,
            reminder_lifecycle,
            activity_newest_first,
            outbox_in_order_until_delivered,
            claims_each_event_once_per_consumer,
            user_events_resume_after_an_event,
            delivered_events_are_pruned_after_the_retention,
            parked_events_are_skipped_and_kept_apart,
            next_reminders_of_all_users_earliest_first,
            reminder_moves_with_its_time,
            query_vectors,
            service_writes_change_activity_and_events_together,
            service_concurrent_completion_creates_one_instance,
            quota_counts_are_per_user_and_see_the_unit,
            reminder_history_is_pruned_oldest_first,
            activity_is_pruned_oldest_first,
            service_refuses_beyond_the_quotas,
            idempotency_replays_the_stored_response,
            idempotency_release_frees_the_key,
            idempotency_keys_expire_and_are_pruned,
            idempotency_concurrent_begins_start_once
        ]);
    };
    (@cases $make:expr, $run:path, [$($case:ident),*]) => {
        $(
            #[test]
            fn $case() {
                $run(async {
                    let store = $make.await;
                    $crate::conformance::$case(store).await
                })
            }
        )*
    };
}

/// 2030-01-01T09:00:00Z: a fixed "now" for the suite.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap()
}

fn user(s: &str) -> UserId {
    UserId::parse(s).unwrap()
}

/// A task of `user` with every optional field empty.
pub fn plain_task(user: &UserId, title: &str) -> Task {
    Task::builder(
        TaskId::new(0),
        user.clone(),
        TaskTitle::parse(title).unwrap(),
        t0(),
    )
    .build()
}

async fn insert<T: StoreTx>(tx: &mut T, task: Task) -> Task {
    tx.insert_task(NewTask { task }).await.unwrap()
}

async fn insert_tag<T: StoreTx>(tx: &mut T, user: &UserId, name: &str) -> crate::model::Tag {
    tx.insert_tag(NewTag {
        user_id: user.clone(),
        name: TagName::parse(name).unwrap(),
        color: Color::default(),
        created_at: t0(),
    })
    .await
    .unwrap()
}

fn event(user: &UserId, n: u128, task: TaskId) -> DomainEvent {
    DomainEvent {
        id: EventId::new(uuid::Uuid::from_u128(n)),
        occurred_at: t0(),
        user_id: user.clone(),
        payload: EventPayload::TaskUpdated(TaskChange {
            task_id: task,
            changed_fields: vec!["title".into()],
            old_values: Values::new(),
            new_values: Values::new(),
        }),
    }
}

/// Every field of a task survives a write and a read, inside the unit and after commit.
pub async fn task_round_trip<S: Store>(store: S) {
    let u = user("alice");
    let mut tx = store.begin().await.unwrap();
    let tag = insert_tag(&mut tx, &u, "work").await;
    let tag2 = insert_tag(&mut tx, &u, "home").await;
    let due =
        Utc.with_ymd_and_hms(2030, 2, 1, 15, 30, 0).unwrap() + Duration::microseconds(123_456);
    let mut t = plain_task(&u, "Write report ✓ «ünïcode»");
    t.description = Some(Description::parse("line 1\nline 2\t% _ 'quotes' \"dq\"").unwrap());
    t.completed = true;
    t.completed_at = Some(t0() + Duration::hours(1));
    t.due_datetime = Some(due);
    t.priority = Priority::High;
    t.recurrence = Recurrence::Rule(RRuleText::parse("FREQ=WEEKLY;BYDAY=MO,WE").unwrap());
    t.recurrence_end_date = Some(due + Duration::days(90));
    t.series_start = Some(due - Duration::days(7));
    t.timezone = TimeZone::parse("Europe/Berlin").unwrap();
    t.tag_ids = vec![tag.id, tag2.id];
    t.tag_ids.sort();
    t.updated_at = t0() + Duration::hours(2);
    let parent = insert(&mut tx, plain_task(&u, "parent")).await;
    t.parent_task_id = Some(parent.id);
    t.next_task_id = Some(TaskId::new(parent.id.get() + 100));
    let stored = insert(&mut tx, t.clone()).await;
    assert!(stored.id.get() > 0, "the store assigns a positive id");
    assert_ne!(stored.id, parent.id);
    let expected = Task { id: stored.id, ..t };
    assert_eq!(stored, expected);
    assert_eq!(
        tx.task(&u, stored.id).await.unwrap().as_ref(),
        Some(&expected),
        "read inside the unit"
    );
    tx.commit().await.unwrap();
    assert_eq!(
        store.task(&u, stored.id).await.unwrap(),
        Some(expected),
        "read after commit"
    );

    let mut tx = store.begin().await.unwrap();
    let mut p = plain_task(&u, "pattern");
    p.recurrence = Recurrence::Pattern(RecurrencePattern::Monthly);
    p.due_datetime = Some(due);
    p.series_start = Some(due);
    let p = insert(&mut tx, p).await;
    tx.commit().await.unwrap();
    assert_eq!(store.task(&u, p.id).await.unwrap(), Some(p));
}

/// Nothing a unit wrote is visible before commit, and a dropped unit leaves no trace.
pub async fn uncommitted_work_is_invisible<S: Store>(store: S) {
    let u = user("alice");
    let mut tx = store.begin().await.unwrap();
    let t = insert(&mut tx, plain_task(&u, "draft")).await;
    tx.append_event(&event(&u, 1, t.id)).await.unwrap();
    assert_eq!(
        store.task(&u, t.id).await.unwrap(),
        None,
        "invisible before commit"
    );
    drop(tx);
    assert_eq!(
        store.task(&u, t.id).await.unwrap(),
        None,
        "gone after rollback"
    );
    assert!(
        store.undelivered_events(100).await.unwrap().is_empty(),
        "no event without its change"
    );
    let page = store.list_tasks(&u, &TaskQuery::default()).await.unwrap();
    assert_eq!(page.total, 0);
}

/// A store never shows, changes or deletes another user's rows.
pub async fn users_are_isolated<S: Store>(store: S) {
    let (a, b) = (user("alice"), user("bob"));
    let mut tx = store.begin().await.unwrap();
    let tag = insert_tag(&mut tx, &a, "work").await;
    let mut t = plain_task(&a, "secret");
    t.tag_ids = vec![tag.id];
    t.due_datetime = Some(t0() + Duration::days(1));
    let t = insert(&mut tx, t).await;
    let r = tx
        .insert_reminder(NewReminder {
            task_id: t.id,
            user_id: a.clone(),
            reminder_time: t0() + Duration::hours(1),
            reminder_type: ReminderType::DueDate,
            created_at: t0(),
        })
        .await
        .unwrap();
    tx.insert_activity(NewActivity {
        user_id: a.clone(),
        task_id: Some(t.id),
        action: ActivityAction::TaskCreated,
        old_values: None,
        new_values: None,
        created_at: t0(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    assert_eq!(store.task(&b, t.id).await.unwrap(), None);
    assert_eq!(
        store
            .list_tasks(&b, &TaskQuery::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(store.list_tags(&b).await.unwrap().is_empty());
    assert_eq!(store.list_activity(&b, 100, 0).await.unwrap().total, 0);
    assert!(
        store
            .pending_reminders(&b, &[t.id])
            .await
            .unwrap()
            .is_empty()
    );
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.task(&b, t.id).await.unwrap(), None);
    assert!(tx.tags(&b, &[tag.id]).await.unwrap().is_empty());
    assert_eq!(tx.tag_by_key(&b, "work").await.unwrap(), None);
    assert!(tx.reminders_of(&b, t.id).await.unwrap().is_empty());
    assert_eq!(tx.reminder(&b, r.id).await.unwrap(), None);
    assert!(tx.tasks_with_tag(&b, tag.id).await.unwrap().is_empty());
    assert!(!tx.delete_task(&b, t.id).await.unwrap());
    assert!(!tx.delete_tag(&b, tag.id).await.unwrap());
    let mut stolen = r.clone();
    stolen.user_id = b.clone();
    stolen.status = ReminderStatus::Cancelled;
    assert!(
        !tx.transition_reminder(&stolen, ReminderStatus::Pending)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    assert!(
        store.task(&a, t.id).await.unwrap().is_some(),
        "alice's task survives bob's delete"
    );
    assert_eq!(store.list_tags(&a).await.unwrap().len(), 1);
    assert_eq!(store.pending_reminders(&a, &[t.id]).await.unwrap().len(), 1);
}

/// `update_task` writes every field, tag links included.
pub async fn update_writes_every_field<S: Store>(store: S) {
    let u = user("alice");
    let mut tx = store.begin().await.unwrap();
    let t1 = insert_tag(&mut tx, &u, "one").await;
    let t2 = insert_tag(&mut tx, &u, "two").await;
    let mut t = plain_task(&u, "before");
    t.tag_ids = vec![t1.id];
    let t = insert(&mut tx, t).await;
    tx.commit().await.unwrap();

    let mut new = t.clone();
    new.title = TaskTitle::parse("after").unwrap();
    new.description = Some(Description::parse("now described").unwrap());
    new.completed = true;
    new.completed_at = Some(t0() + Duration::minutes(5));
    new.due_datetime = Some(t0() + Duration::days(3));
    new.priority = Priority::Low;
    new.recurrence = Recurrence::Pattern(RecurrencePattern::Daily);
    new.series_start = new.due_datetime;
    new.recurrence_end_date = Some(t0() + Duration::days(30));
    new.timezone = TimeZone::parse("America/New_York").unwrap();
    new.tag_ids = vec![t2.id];
    new.updated_at = t0() + Duration::minutes(5);
    let mut tx = store.begin().await.unwrap();
    tx.update_task(&new).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.task(&u, t.id).await.unwrap(), Some(new.clone()));
    let tags = store.list_tags(&u).await.unwrap();
    let count = |id: TagId| tags.iter().find(|t| t.tag.id == id).map(|t| t.task_count);
    assert_eq!(count(t1.id), Some(0));
    assert_eq!(count(t2.id), Some(1));

    // Clearing nullable fields.
    let mut cleared = new.clone();
    cleared.description = None;
    cleared.completed = false;
    cleared.completed_at = None;
    cleared.due_datetime = None;
    cleared.recurrence = Recurrence::None;
    cleared.series_start = None;
    cleared.recurrence_end_date = None;
    cleared.tag_ids = Vec::new();
    let mut tx = store.begin().await.unwrap();
    tx.update_task(&cleared).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(store.task(&u, t.id).await.unwrap(), Some(cleared));
}

/// Deleting a task removes its tag links and reminders; a second delete reports `false`;
/// activity entries of the task stay (they are the audit trail).
pub async fn delete_task_removes_links_and_reminders<S: Store>(store: S) {
    let u = user("alice");
    let mut tx = store.begin().await.unwrap();
    let tag = insert_tag(&mut tx, &u, "work").await;
    let mut t = plain_task(&u, "doomed");
    t.tag_ids = vec![tag.id];
    let t = insert(&mut tx, t).await;
    tx.insert_reminder(NewReminder {
        task_id: t.id,
        user_id: u.clone(),
        reminder_time: t0() + Duration::hours(1),
        reminder_type: ReminderType::Custom,
        created_at: t0(),
    })
    .await
    .unwrap();
    tx.insert_activity(NewActivity {
        user_id: u.clone(),
        task_id: Some(t.id),
        action: ActivityAction::TaskCreated,
        old_values: None,
        new_values: None,
        created_at: t0(),
    })
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_task(&u, t.id).await.unwrap());
    assert!(!tx.delete_task(&u, t.id).await.unwrap(), "second delete");
    tx.commit().await.unwrap();
    assert_eq!(store.task(&u, t.id).await.unwrap(), None);
    assert!(
        store
            .pending_reminders(&u, &[t.id])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.list_tags(&u).await.unwrap()[0].task_count, 0);
    assert_eq!(
        store.list_activity(&u, 10, 0).await.unwrap().total,
        1,
        "audit trail kept"
    );
    let mut tx = store.begin().await.unwrap();
    assert!(tx.tasks_with_tag(&u, tag.id).await.unwrap().is_empty());
    assert!(tx.reminders_of(&u, t.id).await.unwrap().is_empty());
}

/// At most one task may name a given task as its parent: the last guard behind "the next
/// instance is created exactly once". References between tasks are plain values: deleting
/// either end leaves the other's reference as it was.
pub async fn one_next_instance_per_parent<S: Store>(store: S) {
    let u = user("alice");
    let mut tx = store.begin().await.unwrap();
    let parent = insert(&mut tx, plain_task(&u, "weekly")).await;
    let mut child = plain_task(&u, "weekly");
    child.parent_task_id = Some(parent.id);
    let first = insert(&mut tx, child.clone()).await;
    let mut done = parent.clone();
    done.next_task_id = Some(first.id);
    tx.update_task(&done).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let err = tx.insert_task(NewTask { task: child }).await.unwrap_err();
    assert!(matches!(err, StoreError::UniqueViolation(_)), "got {err:?}");
    drop(tx);
    let all = store.list_tasks(&u, &TaskQuery::default()).await.unwrap();
    assert_eq!(all.total, 2);

    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_task(&u, first.id).await.unwrap());
    tx.commit().await.unwrap();
    let kept = store.task(&u, parent.id).await.unwrap().unwrap();
    assert_eq!(
        kept.next_task_id,
        Some(first.id),
        "next_task_id outlives the instance"
    );

    let mut tx = store.begin().await.unwrap();
    let mut second = plain_task(&u, "other series");
    second.parent_task_id = Some(TaskId::new(first.id.get() + 1000));
    let orphan = insert(&mut tx, second).await;
    let mut grandchild = plain_task(&u, "weekly");
    grandchild.parent_task_id = Some(parent.id);
    // The unique rule holds on existing rows only: the deleted instance freed it.
    let again = insert(&mut tx, grandchild).await;
    assert!(tx.delete_task(&u, parent.id).await.unwrap());
    tx.commit().await.unwrap();
    assert_eq!(
        store
            .task(&u, again.id)
            .await
            .unwrap()
            .unwrap()
            .parent_task_id,
        Some(parent.id),
        "parent_task_id outlives the parent"
    );
    assert!(
        store.task(&u, orphan.id).await.unwrap().is_some(),
        "no foreign key on parent_task_id"
    );
}

/// Tag names are unique per user, case-insensitively, on insert and on rename.
pub async fn tag_names_unique_per_user<S: Store>(store: S) {
    let (a, b) = (user("alice"), user("bob"));
    let mut tx = store.begin().await.unwrap();
    let work = insert_tag(&mut tx, &a, "Work").await;
    let home = insert_tag(&mut tx, &a, "home").await;
    insert_tag(&mut tx, &b, "work").await;
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.tag_by_key(&a, "work").await.unwrap().map(|t| t.id),
        Some(work.id)
    );
    let err = tx
        .insert_tag(NewTag {
            user_id: a.clone(),
            name: TagName::parse("WORK").unwrap(),
            color: Color::default(),
            created_at: t0(),
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UniqueViolation(_)), "got {err:?}");
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    let mut renamed = home.clone();
    renamed.name = TagName::parse("wORK").unwrap();
    let err = tx.update_tag(&renamed).await.unwrap_err();
    assert!(matches!(err, StoreError::UniqueViolation(_)), "got {err:?}");
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    let mut recased = work.clone();
    recased.name = TagName::parse("WORK").unwrap();
    recased.color = Color::parse("#ef4444").unwrap();
    tx.update_tag(&recased).await.unwrap();
    tx.commit().await.unwrap();
    let tags = store.list_tags(&a).await.unwrap();
    let names: Vec<&str> = tags.iter().map(|t| t.tag.name.as_str()).collect();
    assert_eq!(names, ["home", "WORK"], "sorted by name case-insensitively");
    assert_eq!(tags[1].tag.color.as_str(), "#EF4444");
}

/// Deleting a tag detaches it from every task; counts follow.
pub async fn delete_tag_detaches_and_counts<S: Store>(store: S) {
    let u = user("alice");
    let mut tx = store.begin().await.unwrap();
    let work = insert_tag(&mut tx, &u, "work").await;
    let home = insert_tag(&mut tx, &u, "home").await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut t = plain_task(&u, &format!("t{i}"));
        t.tag_ids = if i < 2 {
            vec![work.id, home.id]
        } else {
            vec![home.id]
        };
        t.tag_ids.sort();
        ids.push(insert(&mut tx, t).await.id);
    }
    tx.commit().await.unwrap();
    let counts: Vec<(String, u64)> = store
        .list_tags(&u)
        .await
        .unwrap()
        .into_iter()
        .map(|t| (t.tag.name.as_str().to_owned(), t.task_count))
        .collect();
    assert_eq!(counts, [("home".to_owned(), 3), ("work".to_owned(), 2)]);

    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.tasks_with_tag(&u, work.id).await.unwrap(),
        ids[..2].to_vec()
    );
    assert!(tx.delete_tag(&u, work.id).await.unwrap());
    assert!(!tx.delete_tag(&u, work.id).await.unwrap());
    tx.commit().await.unwrap();
    for id in &ids {
        let t = store.task(&u, *id).await.unwrap().unwrap();
        assert_eq!(t.tag_ids, vec![home.id]);
    }
    assert_eq!(store.list_tags(&u).await.unwrap().len(), 1);
}

/// `StoreTx::claim_event`: once per consumer and event, committed with the unit (a rolled-back
/// claim can be made again), independent between consumers.
pub async fn claims_each_event_once_per_consumer<S: Store>(store: S) {
    let (e1, e2) = (
        EventId::new(uuid::Uuid::from_u128(1)),
        EventId::new(uuid::Uuid::from_u128(2)),
    );
    let mut tx = store.begin().await.unwrap();
    assert!(tx.claim_event("writer", e1, t0()).await.unwrap());
    assert!(
        !tx.claim_event("writer", e1, t0()).await.unwrap(),
        "twice in one unit"
    );
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert!(
        !tx.claim_event("writer", e1, t0()).await.unwrap(),
        "redelivered"
    );
    assert!(
        tx.claim_event("creator", e1, t0()).await.unwrap(),
        "another consumer"
    );
    assert!(
        tx.claim_event("writer", e2, t0()).await.unwrap(),
        "another event"
    );
    drop(tx);

    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.claim_event("creator", e1, t0()).await.unwrap(),
        "rolled back before"
    );
    assert!(
        tx.claim_event("writer", e2, t0()).await.unwrap(),
        "rolled back before"
    );
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.claim_event("creator", e1, t0()).await.unwrap());
    assert!(!tx.claim_event("writer", e2, t0()).await.unwrap());
    drop(tx);

    // event_in_outbox: appended events (also in the unit that appends them, and after they
    // were delivered); not a claimed event from elsewhere.
    let u = user("alice");
    let ev = event(&u, 77, TaskId::new(1));
    let mut tx = store.begin().await.unwrap();
    assert!(!tx.event_in_outbox(ev.id).await.unwrap());
    tx.append_event(&ev).await.unwrap();
    assert!(tx.event_in_outbox(ev.id).await.unwrap(), "in its own unit");
    tx.commit().await.unwrap();
    let seqs: Vec<u64> = store
        .undelivered_events(10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    store.mark_delivered(&seqs).await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.event_in_outbox(ev.id).await.unwrap(), "delivered too");
    assert!(!tx.event_in_outbox(e1).await.unwrap());
    drop(tx);
}

/// `Store::tags` reads the user's tags in the order asked, leaving out unknown ids and other
/// users' tags; uncommitted tags are invisible.
pub async fn tags_by_id_in_order_of_their_owner<S: Store>(store: S) {
    let (a, b) = (user("alice"), user("bob"));
    let mut tx = store.begin().await.unwrap();
    let work = insert_tag(&mut tx, &a, "work").await;
    let home = insert_tag(&mut tx, &a, "home").await;
    let bobs = insert_tag(&mut tx, &b, "bobs").await;
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let later = insert_tag(&mut tx, &a, "later").await;
    let names = |tags: Vec<crate::model::Tag>| -> Vec<String> {
        tags.into_iter()
            .map(|t| t.name.as_str().to_owned())
            .collect()
    };
    let missing = TagId::new(work.id.get() + 1000);
    assert_eq!(
        names(
            store
                .tags(&a, &[home.id, missing, work.id, bobs.id, later.id])
                .await
                .unwrap()
        ),
        ["home", "work"]
    );
    assert_eq!(
        names(store.tags(&b, &[work.id, bobs.id]).await.unwrap()),
        ["bobs"]
    );
    assert!(store.tags(&a, &[]).await.unwrap().is_empty());
    tx.commit().await.unwrap();
    assert_eq!(names(store.tags(&a, &[later.id]).await.unwrap()), ["later"]);
}

/// One pending reminder per task; a transition happens only from the expected status, once.
pub async fn reminder_lifecycle<S: Store>(store: S) {
    let u = user("alice");
    let mut tx = store.begin().await.unwrap();
    let t = insert(&mut tx, plain_task(&u, "remind me")).await;
    let new = NewReminder {
        task_id: t.id,
        user_id: u.clone(),
        reminder_time: t0() + Duration::hours(1) + Duration::microseconds(7),
        reminder_type: ReminderType::Custom,
        created_at: t0(),
    };
    let r = tx.insert_reminder(new.clone()).await.unwrap();
    assert_eq!(r.status, ReminderStatus::Pending);
    assert_eq!(r.reminder_time, new.reminder_time);
    let err = tx.insert_reminder(new.clone()).await.unwrap_err();
    assert!(matches!(err, StoreError::UniqueViolation(_)), "got {err:?}");
    tx.commit().await.unwrap();
    assert_eq!(
        store.pending_reminders(&u, &[t.id]).await.unwrap(),
        vec![r.clone()]
    );

    let mut sent = r.clone();
    sent.status = ReminderStatus::Sent;
    sent.sent_at = Some(t0() + Duration::hours(1));
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.transition_reminder(&sent, ReminderStatus::Pending)
            .await
            .unwrap()
    );
    assert!(
        !tx.transition_reminder(&sent, ReminderStatus::Pending)
            .await
            .unwrap(),
        "fires once"
    );
    assert_eq!(tx.reminder(&u, r.id).await.unwrap(), Some(sent.clone()));
    let again = tx.insert_reminder(new).await.unwrap();
    assert_ne!(again.id, r.id);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let all = tx.reminders_of(&u, t.id).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![r.id, again.id]
    );
    assert_eq!(all[0], sent);
}

/// A pending reminder can be moved: `transition_reminder` writes its new time, too.
pub async fn reminder_moves_with_its_time<S: Store>(store: S) {
    let u = user("alice");
    let mut tx = store.begin().await.unwrap();
    let t = insert(&mut tx, plain_task(&u, "move me")).await;
    let r = tx
        .insert_reminder(NewReminder {
            task_id: t.id,
            user_id: u.clone(),
            reminder_time: t0() + Duration::hours(1),
            reminder_type: ReminderType::DueDate,
            created_at: t0(),
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut moved = r.clone();
    moved.reminder_time = t0() + Duration::hours(5) + Duration::microseconds(1);
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.transition_reminder(&moved, ReminderStatus::Pending)
            .await
            .unwrap()
    );
    assert!(
        !tx.transition_reminder(&moved, ReminderStatus::Sent)
            .await
            .unwrap(),
        "wrong from-status"
    );
    tx.commit().await.unwrap();
    assert_eq!(
        store.pending_reminders(&u, &[t.id]).await.unwrap(),
        vec![moved]
    );
}

/// The activity log is newest first (ties by id), paged, with a total.
pub async fn activity_newest_first<S: Store>(store: S) {
    let u = user("alice");
    let mut tx = store.begin().await.unwrap();
    let mut values = Values::new();
    values.insert("completed".into(), serde_json::Value::Bool(true));
    let mut ids = Vec::new();
    for i in 0..5i64 {
        let e = tx
            .insert_activity(NewActivity {
                user_id: u.clone(),
                task_id: if i == 4 {
                    None
                } else {
                    Some(TaskId::new(i + 1))
                },
                action: ActivityAction::TaskCompleted,
                old_values: if i == 0 { None } else { Some(values.clone()) },
                new_values: Some(values.clone()),
                // Entries 1 and 2 share a timestamp: the tie is broken by id.
                created_at: t0() + Duration::seconds(i.min(2) + i / 3),
            })
            .await
            .unwrap();
        ids.push(e.id);
    }
    tx.commit().await.unwrap();
    let page = store.list_activity(&u, 2, 0).await.unwrap();
    assert_eq!(page.total, 5);
    let got: Vec<_> = page.entries.iter().map(|e| e.id).collect();
    assert_eq!(got, vec![ids[4], ids[3]]);
    let page = store.list_activity(&u, 10, 2).await.unwrap();
    let got: Vec<_> = page.entries.iter().map(|e| e.id).collect();
    assert_eq!(got, vec![ids[2], ids[1], ids[0]]);
    assert_eq!(page.entries[2].old_values, None);
    assert_eq!(page.entries[1].old_values, Some(values.clone()));
    assert_eq!(page.entries[0].task_id, Some(TaskId::new(3)));
    assert!(
        store
            .list_activity(&u, 10, 5)
            .await
            .unwrap()
            .entries
            .is_empty()
    );
}

/// Committed outbox entries come out in append order until marked delivered; a rolled-back
/// unit leaves none; marking is idempotent.
/// `Store::user_events_after`: a user's events after one of theirs, delivered or not, in
/// commit order; `None` for an unknown event or another user's.
pub async fn user_events_resume_after_an_event<S: Store>(store: S) {
    let (a, b) = (user("alice"), user("bob"));
    for (n, who) in [(1u128, &a), (2, &b), (3, &a), (4, &a), (5, &b)] {
        let mut tx = store.begin().await.unwrap();
        let t = insert(&mut tx, plain_task(who, "x")).await;
        tx.append_event(&event(who, n, t.id)).await.unwrap();
        tx.commit().await.unwrap();
    }
    let id = |n: u128| EventId::new(uuid::Uuid::from_u128(n));
    let ids = |found: Option<Vec<crate::ports::OutboxEntry>>| -> Option<Vec<u128>> {
        found.map(|f| f.iter().map(|e| e.event.id.get().as_u128()).collect())
    };
    // Delivered events still replay.
    let head = store.undelivered_events(2).await.unwrap();
    store
        .mark_delivered(&head.iter().map(|e| e.seq).collect::<Vec<_>>())
        .await
        .unwrap();
    assert_eq!(
        ids(store.user_events_after(&a, id(1), 100).await.unwrap()),
        Some(vec![3, 4])
    );
    assert_eq!(
        ids(store.user_events_after(&a, id(3), 1).await.unwrap()),
        Some(vec![4])
    );
    assert_eq!(
        ids(store.user_events_after(&a, id(4), 100).await.unwrap()),
        Some(vec![])
    );
    assert_eq!(
        ids(store.user_events_after(&b, id(2), 100).await.unwrap()),
        Some(vec![5])
    );
    assert_eq!(
        ids(store.user_events_after(&b, id(1), 100).await.unwrap()),
        None,
        "alice's"
    );
    assert_eq!(
        ids(store.user_events_after(&a, id(99), 100).await.unwrap()),
        None,
        "unknown"
    );
}

/// `Store::prune_delivered_events`: delivered events older than the cut go (and cannot be resumed
/// from); undelivered ones and newer ones stay.
pub async fn delivered_events_are_pruned_after_the_retention<S: Store>(store: S) {
    let u = user("alice");
    for n in 1..=4u128 {
        let mut tx = store.begin().await.unwrap();
        let t = insert(&mut tx, plain_task(&u, "x")).await;
        let mut e = event(&u, n, t.id);
        e.occurred_at = t0() + Duration::hours(i64::try_from(n).unwrap());
        tx.append_event(&e).await.unwrap();
        tx.commit().await.unwrap();
    }
    let id = |n: u128| EventId::new(uuid::Uuid::from_u128(n));
    // 1 and 2 delivered, 3 not (old but waiting), 4 delivered but new.
    let all = store.undelivered_events(10).await.unwrap();
    store
        .mark_delivered(&[all[0].seq, all[1].seq, all[3].seq])
        .await
        .unwrap();
    let cut = t0() + Duration::hours(3) + Duration::minutes(30);
    assert_eq!(store.prune_delivered_events(cut).await.unwrap(), 2);
    assert_eq!(
        store.prune_delivered_events(cut).await.unwrap(),
        0,
        "nothing left to prune"
    );
    assert_eq!(
        store.user_events_after(&u, id(1), 10).await.unwrap(),
        None,
        "pruned"
    );
    let rest = store
        .user_events_after(&u, id(3), 10)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        rest.iter().map(|e| e.event.id).collect::<Vec<_>>(),
        vec![id(4)]
    );
    let waiting = store.undelivered_events(10).await.unwrap();
    assert_eq!(
        waiting.iter().map(|e| e.event.id).collect::<Vec<_>>(),
        vec![id(3)]
    );
}

/// `Store::park_event`: a parked event is no longer undelivered nor replayed, the events after
/// it are; it is listed and counted, survives the pruning of delivered events, and goes with
/// `Store::prune_parked_events`.
pub async fn parked_events_are_skipped_and_kept_apart<S: Store>(store: S) {
    let (a, b) = (user("alice"), user("bob"));
    for (n, who) in [(1u128, &a), (2, &b), (3, &a), (4, &a)] {
        let mut tx = store.begin().await.unwrap();
        let t = insert(&mut tx, plain_task(who, "x")).await;
        tx.append_event(&event(who, n, t.id)).await.unwrap();
        tx.commit().await.unwrap();
    }
    let id = |n: u128| EventId::new(uuid::Uuid::from_u128(n));
    let ids = |found: &[crate::ports::OutboxEntry]| -> Vec<u128> {
        found.iter().map(|e| e.event.id.get().as_u128()).collect()
    };
    let all = store.undelivered_events(10).await.unwrap();
    assert_eq!(ids(&all), vec![1, 2, 3, 4]);
    let poison = all[2].seq;
    let at = t0() + Duration::hours(10);
    assert!(
        store
            .park_event(poison, "too_large: 2000 bytes", at)
            .await
            .unwrap()
    );
    assert!(
        !store.park_event(poison, "again", at).await.unwrap(),
        "parked already"
    );
    assert!(
        !store.park_event(999_999, "unknown", at).await.unwrap(),
        "unknown seq"
    );
    assert_eq!(
        ids(&store.undelivered_events(10).await.unwrap()),
        vec![1, 2, 4],
        "the events after a parked one still come out, in order"
    );
    assert_eq!(
        ids(&store
            .undelivered_events_after(all[1].seq, 10)
            .await
            .unwrap()),
        vec![4]
    );
    assert_eq!(
        store
            .user_events_after(&a, id(1), 10)
            .await
            .unwrap()
            .map(|f| ids(&f)),
        Some(vec![4]),
        "replay skips the parked event"
    );
    assert_eq!(
        store
            .user_events_after(&a, id(3), 10)
            .await
            .unwrap()
            .map(|f| ids(&f)),
        Some(vec![4]),
        "resuming from a parked event goes on after it"
    );
    let parked = store.parked_events(10).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].seq, poison);
    assert_eq!(parked[0].event_id, id(3));
    assert_eq!(parked[0].user_id, a);
    assert_eq!(parked[0].event_type, all[2].event.payload.event_type());
    assert_eq!(parked[0].occurred_at, t0());
    assert_eq!(parked[0].parked_at, at);
    assert_eq!(parked[0].reason, "too_large: 2000 bytes");
    assert_eq!(store.count_parked_events().await.unwrap(), 1);
    // Marking a parked event delivered does not revive it (only the relay marks, and never a
    // parked one; the store holds the line anyway).
    store.mark_delivered(&[poison]).await.unwrap();
    assert_eq!(store.count_parked_events().await.unwrap(), 1);
    // Delivered ones are pruned; the parked one stays whatever its age.
    let rest: Vec<u64> = store
        .undelivered_events(10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.seq)
        .collect();
    store.mark_delivered(&rest).await.unwrap();
    let later = t0() + Duration::days(365);
    assert_eq!(store.prune_delivered_events(later).await.unwrap(), 3);
    assert_eq!(store.count_parked_events().await.unwrap(), 1);
    assert!(store.undelivered_events(10).await.unwrap().is_empty());
    // Parked ones go by the time they were parked.
    assert_eq!(store.prune_parked_events(at).await.unwrap(), 0);
    assert_eq!(
        store
            .prune_parked_events(at + Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.count_parked_events().await.unwrap(), 0);
    assert!(store.parked_events(10).await.unwrap().is_empty());
    assert_eq!(
        store.user_events_after(&a, id(3), 10).await.unwrap(),
        None,
        "pruned"
    );
}

/// `Store::next_reminders`: pending reminders of every user, earliest first.
pub async fn next_reminders_of_all_users_earliest_first<S: Store>(store: S) {
    let mut made = Vec::new();
    for (who, minutes) in [("alice", 30), ("bob", 10), ("alice", 20), ("carol", 40)] {
        let u = user(who);
        let mut tx = store.begin().await.unwrap();
        let t = insert(&mut tx, plain_task(&u, "x")).await;
        let r = tx
            .insert_reminder(NewReminder {
                task_id: t.id,
                user_id: u,
                reminder_time: t0() + Duration::minutes(minutes),
                reminder_type: ReminderType::Custom,
                created_at: t0(),
            })
            .await
            .unwrap();
        tx.commit().await.unwrap();
        made.push(r);
    }
    // carol's fired: not pending any more.
    let mut sent = made[3].clone();
    sent.status = ReminderStatus::Sent;
    sent.sent_at = Some(t0());
    let mut tx = store.begin().await.unwrap();
    assert!(
        tx.transition_reminder(&sent, ReminderStatus::Pending)
            .await
            .unwrap()
    );
    tx.commit().await.unwrap();
    let next = store.next_reminders(10).await.unwrap();
    assert_eq!(
        next,
        vec![made[1].clone(), made[2].clone(), made[0].clone()]
    );
    assert_eq!(
        store.next_reminders(1).await.unwrap(),
        vec![made[1].clone()]
    );
}

pub async fn outbox_in_order_until_delivered<S: Store>(store: S) {
    let u = user("alice");
    for batch in 0..3u128 {
        let mut tx = store.begin().await.unwrap();
        let t = insert(&mut tx, plain_task(&u, "x")).await;
        tx.append_event(&event(&u, batch * 10 + 1, t.id))
            .await
            .unwrap();
        tx.append_event(&event(&u, batch * 10 + 2, t.id))
            .await
            .unwrap();
        if batch == 1 {
            drop(tx); // rolled back: its events never appear
        } else {
            tx.commit().await.unwrap();
        }
    }
    let all = store.undelivered_events(100).await.unwrap();
    let ids: Vec<u128> = all.iter().map(|e| e.event.id.get().as_u128()).collect();
    assert_eq!(ids, vec![1, 2, 21, 22]);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(
        all[0].event,
        event(&u, 1, all[0].event.payload.task_id().unwrap())
    );
    assert_eq!(store.undelivered_events(1).await.unwrap().len(), 1);
    // The next batch while one is in flight: after a seq.
    assert_eq!(
        store
            .undelivered_events_after(all[1].seq, 100)
            .await
            .unwrap(),
        all[2..].to_vec()
    );
    assert_eq!(
        store.undelivered_events_after(all[0].seq, 2).await.unwrap(),
        all[1..3].to_vec()
    );
    assert!(
        store
            .undelivered_events_after(all[3].seq, 100)
            .await
            .unwrap()
            .is_empty()
    );

    store
        .mark_delivered(&[all[0].seq, all[1].seq])
        .await
        .unwrap();
    store.mark_delivered(&[all[0].seq, 999_999]).await.unwrap();
    let rest = store.undelivered_events(100).await.unwrap();
    assert_eq!(rest, all[2..].to_vec());
    let mut tx = store.begin().await.unwrap();
    let t = insert(&mut tx, plain_task(&u, "y")).await;
    tx.append_event(&event(&u, 31, t.id)).await.unwrap();
    tx.commit().await.unwrap();
    let rest = store.undelivered_events(100).await.unwrap();
    assert_eq!(rest.len(), 3);
    assert!(
        rest[2].seq > all[3].seq,
        "seq keeps increasing after delivery"
    );
    assert_eq!(rest[2].event.id.get().as_u128(), 31);
}

/// The shared query vectors (`test-vectors/query.json`) give the same pages through
/// `Store::list_tasks` as through the core engine. Each dataset is stored for its own user with
/// its own tags; the store's ids are mapped back to the file's ids before comparing.
pub async fn query_vectors<S: Store>(store: S) {
    use std::collections::BTreeMap;

    use crate::query::TagFilter;
    use crate::query::vectors::VectorFile;

    let file = VectorFile::from_json(include_str!("../../test-vectors/query.json")).unwrap();
    /// A dataset in the store: its user, file tag id -> store tag id, store task id -> file task id.
    type Stored = (UserId, BTreeMap<i64, TagId>, BTreeMap<TaskId, i64>);
    let mut stored: BTreeMap<&str, Stored> = BTreeMap::new();
    for (i, name) in file.datasets.keys().enumerate() {
        let u = user(&format!("vectors-{i}"));
        let tasks = file.tasks(name, &u).unwrap();
        let mut tx = store.begin().await.unwrap();
        let mut tag_map = BTreeMap::new();
        let mut all_tags: Vec<i64> = tasks
            .iter()
            .flat_map(|t| t.tag_ids.iter().map(|id| id.get()))
            .collect();
        all_tags.sort_unstable();
        all_tags.dedup();
        for tag in all_tags {
            let created = insert_tag(&mut tx, &u, &format!("tag-{tag}")).await;
            tag_map.insert(tag, created.id);
        }
        let mut task_map = BTreeMap::new();
        let mut rows = tasks.clone();
        rows.sort_by_key(|t| t.id);
        for mut t in rows {
            let file_id = t.id.get();
            t.tag_ids = t.tag_ids.iter().map(|id| tag_map[&id.get()]).collect();
            t.tag_ids.sort_unstable();
            let created = insert(&mut tx, t).await;
            task_map.insert(created.id, file_id);
        }
        tx.commit().await.unwrap();
        stored.insert(name.as_str(), (u, tag_map, task_map));
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &file.cases {
        let Some(want) = &case.expected else { continue };
        let mut q = TaskQuery::from_pairs(case.query.pairs()).unwrap();
        let (u, tags, tasks) = &stored[case.dataset.as_str()];
        if let Some(f) = &q.tags {
            // A tag id the dataset does not use maps to an id no store has.
            let ids = f
                .ids()
                .iter()
                .map(|id| tags.get(&id.get()).copied().unwrap_or(TagId::new(i64::MAX)));
            q.tags = TagFilter::new(ids.collect(), f.mode());
        }
        let page = store.list_tasks(u, &q).await.unwrap();
        let got: Vec<i64> = page.items.iter().map(|t| tasks[&t.id]).collect();
        if got != want.ids || page.total != want.total {
            failures.push(format!(
                "{}: expected ids {:?} total {}, got ids {got:?} total {}",
                case.name, want.ids, want.total, page.total
            ));
        }
        checked += 1;
    }
    assert!(checked >= 100, "only {checked} query vectors ran");
    assert!(
        failures.is_empty(),
        "{} failing query vectors:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn service<S: Store>(store: S) -> TaskService<S> {
    TaskService::new(store, ManualClock::new(t0()), SequentialIds::new())
}

/// A use case's change, activity entry and events are committed together.
pub async fn service_writes_change_activity_and_events_together<S: Store>(store: S) {
    let svc = service(store);
    let u = user("alice");
    let view = svc
        .create_task(
            &u,
            &CreateTaskInput {
                title: Some("Pay rent".into()),
                due_datetime: Some("2030-01-31T18:00:00+01:00".into()),
                recurrence_pattern: Some("monthly".into()),
                timezone: Some("Europe/Berlin".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let id = view.task.id;
    let stored = svc.store().task(&u, id).await.unwrap().unwrap();
    assert_eq!(stored, view.task);
    let log = svc.store().list_activity(&u, 10, 0).await.unwrap();
    assert_eq!(log.total, 1);
    assert_eq!(log.entries[0].action, ActivityAction::TaskCreated);
    let events = svc.store().undelivered_events(100).await.unwrap();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e.event.payload.event_type())
        .collect();
    assert_eq!(kinds, ["activity-log-created", "task-created"]);

    // A failing use case (unknown tag) writes nothing at all.
    let err = svc
        .update_task(
            &u,
            id,
            &crate::input::UpdateTaskInput {
                title: Some(Some("renamed".into())),
                tag_ids: Some(Some(vec![999])),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, crate::Error::Unprocessable(_)), "got {err:?}");
    assert_eq!(
        svc.store()
            .task(&u, id)
            .await
            .unwrap()
            .unwrap()
            .title
            .as_str(),
        "Pay rent"
    );
    assert_eq!(svc.store().undelivered_events(100).await.unwrap().len(), 2);

    let r = svc
        .set_reminder(
            &u,
            id,
            &SetReminderInput {
                reminder_time: Some("2030-01-31T16:30:00Z".into()),
                reminder_type: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(r.status, ReminderStatus::Pending);
    let done = svc.set_completed(&u, id, Some(true)).await.unwrap();
    assert!(done.task.completed);
    assert_eq!(
        done.reminder, None,
        "completing cancels the pending reminder"
    );
    let page = svc
        .store()
        .list_tasks(&u, &TaskQuery::default())
        .await
        .unwrap();
    assert_eq!(page.total, 2, "the next instance exists");
}

/// Two units completing the same recurring task at once create one next instance.
pub async fn service_concurrent_completion_creates_one_instance<S: Store>(store: S) {
    let svc = service(store);
    let u = user("alice");
    let id = create_daily_standup(&svc, &u).await;
    let (a, b) = futures_util::future::join(
        svc.set_completed(&u, id, Some(true)),
        svc.set_completed(&u, id, Some(true)),
    )
    .await;
    assert!(a.unwrap().task.completed);
    assert!(b.unwrap().task.completed);
    assert_completed_once(&svc, &u).await;
}

/// A daily recurring task of `user` (the subject of the concurrent-completion checks, here and
/// in the SQL adapters' tests with truly parallel tasks); its id.
pub async fn create_daily_standup<S: Store>(svc: &TaskService<S>, user: &UserId) -> TaskId {
    svc.create_task(
        user,
        &CreateTaskInput {
            title: Some("Standup".into()),
            due_datetime: Some("2030-01-02T09:00:00Z".into()),
            recurrence_pattern: Some("daily".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .task
    .id
}

/// After any number of completions of [`create_daily_standup`]'s task: exactly one next
/// instance and one `task-completed` event.
pub async fn assert_completed_once<S: Store>(svc: &TaskService<S>, user: &UserId) {
    let all = svc
        .store()
        .list_tasks(user, &TaskQuery::default())
        .await
        .unwrap();
    assert_eq!(all.total, 2, "exactly one next instance");
    let events = svc.store().undelivered_events(10_000).await.unwrap();
    let completed = events
        .iter()
        .filter(|e| e.event.payload.event_type() == "task-completed")
        .count();
    assert_eq!(completed, 1, "one task-completed event");
    let created = events
        .iter()
        .filter(|e| e.event.payload.event_type() == "task-created")
        .count();
    assert_eq!(created, 2, "the task and its one next instance");
}

/// `StoreTx::count_tasks` / `count_tags`: the user's rows only, the unit's own writes included,
/// deletions too.
pub async fn quota_counts_are_per_user_and_see_the_unit<S: Store>(store: S) {
    let (a, b) = (user("alice"), user("bob"));
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.count_tasks(&a).await.unwrap(), 0);
    let t1 = insert(&mut tx, plain_task(&a, "one")).await;
    insert(&mut tx, plain_task(&a, "two")).await;
    insert(&mut tx, plain_task(&b, "bob's")).await;
    insert_tag(&mut tx, &a, "work").await;
    assert_eq!(
        tx.count_tasks(&a).await.unwrap(),
        2,
        "uncommitted rows count"
    );
    assert_eq!(tx.count_tags(&a).await.unwrap(), 1);
    assert_eq!(tx.count_tags(&b).await.unwrap(), 0);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    assert!(tx.delete_task(&a, t1.id).await.unwrap());
    assert_eq!(tx.count_tasks(&a).await.unwrap(), 1);
    assert_eq!(tx.count_tasks(&b).await.unwrap(), 1);
    drop(tx);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(
        tx.count_tasks(&a).await.unwrap(),
        2,
        "the delete rolled back"
    );
}

/// `StoreTx::prune_reminders`: the task's sent and cancelled reminders beyond the newest `keep`
/// go; the pending one, other tasks' and other users' stay.
pub async fn reminder_history_is_pruned_oldest_first<S: Store>(store: S) {
    let (a, b) = (user("alice"), user("bob"));
    let mut tx = store.begin().await.unwrap();
    let t = insert(&mut tx, plain_task(&a, "moved often")).await;
    let other = insert(&mut tx, plain_task(&a, "other")).await;
    let bobs = insert(&mut tx, plain_task(&b, "bob's")).await;
    let new = |task: TaskId, u: &UserId, n: i64| NewReminder {
        task_id: task,
        user_id: u.clone(),
        reminder_time: t0() + Duration::hours(n),
        reminder_type: ReminderType::Custom,
        created_at: t0(),
    };
    let mut ids = Vec::new();
    for n in 0..5 {
        let r = tx.insert_reminder(new(t.id, &a, n)).await.unwrap();
        let mut done = r.clone();
        done.status = if n % 2 == 0 {
            ReminderStatus::Cancelled
        } else {
            ReminderStatus::Sent
        };
        assert!(
            tx.transition_reminder(&done, ReminderStatus::Pending)
                .await
                .unwrap()
        );
        ids.push(r.id);
    }
    let pending = tx.insert_reminder(new(t.id, &a, 9)).await.unwrap();
    for (task, u) in [(other.id, &a), (bobs.id, &b)] {
        let r = tx.insert_reminder(new(task, u, 1)).await.unwrap();
        let mut done = r;
        done.status = ReminderStatus::Cancelled;
        tx.transition_reminder(&done, ReminderStatus::Pending)
            .await
            .unwrap();
    }
    assert_eq!(
        tx.prune_reminders(&b, t.id, 0).await.unwrap(),
        0,
        "not bob's"
    );
    assert_eq!(tx.prune_reminders(&a, t.id, 2).await.unwrap(), 3);
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let left: Vec<_> = tx
        .reminders_of(&a, t.id)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, vec![ids[3], ids[4], pending.id]);
    assert_eq!(tx.reminders_of(&a, other.id).await.unwrap().len(), 1);
    assert_eq!(tx.reminders_of(&b, bobs.id).await.unwrap().len(), 1);
    assert_eq!(tx.prune_reminders(&a, t.id, 2).await.unwrap(), 0);
}

/// `StoreTx::prune_activity`: the user's entries beyond the newest `keep` (by `created_at`,
/// ties by id) go; other users' stay.
pub async fn activity_is_pruned_oldest_first<S: Store>(store: S) {
    let (a, b) = (user("alice"), user("bob"));
    let mut tx = store.begin().await.unwrap();
    let entry = |u: &UserId, secs: i64| NewActivity {
        user_id: u.clone(),
        task_id: None,
        action: ActivityAction::TagCreated,
        old_values: None,
        new_values: None,
        created_at: t0() + Duration::seconds(secs),
    };
    let mut ids = Vec::new();
    // Written out of time order, and entries 2 and 3 share a time (the tie goes by id).
    for secs in [5, 1, 3, 3, 9, 0] {
        ids.push(tx.insert_activity(entry(&a, secs)).await.unwrap().id);
    }
    tx.insert_activity(entry(&b, -10)).await.unwrap();
    assert_eq!(tx.prune_activity(&a, 10).await.unwrap(), 0);
    assert_eq!(tx.prune_activity(&a, 3).await.unwrap(), 3);
    tx.commit().await.unwrap();
    let page = store.list_activity(&a, 10, 0).await.unwrap();
    let got: Vec<_> = page.entries.iter().map(|e| e.id).collect();
    assert_eq!(got, vec![ids[4], ids[0], ids[3]]);
    assert_eq!(store.list_activity(&b, 10, 0).await.unwrap().total, 1);
}

/// The service refuses a task or a tag beyond the user's quota with `QuotaExceeded`; a delete
/// frees a slot; other users are not affected; a series' next instance may go beyond the tasks
/// quota, up to twice it.
pub async fn service_refuses_beyond_the_quotas<S: Store>(store: S) {
    use crate::error::Error;
    use crate::quota::{QuotaKind, Quotas};
    let svc = service(store).with_quotas(Quotas {
        tasks: 2,
        tags: 1,
        ..Quotas::default()
    });
    let (a, b) = (user("alice"), user("bob"));
    let titled = |t: &str| CreateTaskInput {
        title: Some(t.into()),
        ..CreateTaskInput::default()
    };
    let first = svc.create_task(&a, &titled("one")).await.unwrap();
    let series = create_daily_standup(&svc, &a).await;
    let refused = svc.create_task(&a, &titled("three")).await.unwrap_err();
    assert_eq!(
        refused,
        Error::QuotaExceeded {
            quota: QuotaKind::Tasks,
            limit: 2
        }
    );
    svc.create_task(&b, &titled("bob's")).await.unwrap();
    // At the quota, completing the series still creates its next instance (3 tasks now).
    let done = svc.set_completed(&a, series, Some(true)).await.unwrap();
    assert!(done.task.next_task_id.is_some());
    svc.delete_task(&a, first.task.id).await.unwrap();
    assert!(
        svc.create_task(&a, &titled("three")).await.is_err(),
        "3 > 2"
    );
    let tag = |n: &str| crate::input::CreateTagInput {
        name: Some(n.into()),
        color: None,
    };
    let work = svc.create_tag(&a, &tag("work")).await.unwrap();
    assert!(matches!(
        svc.create_tag(&a, &tag("home")).await,
        Err(Error::QuotaExceeded {
            quota: QuotaKind::Tags,
            limit: 1
        })
    ));
    svc.create_tag(&b, &tag("home")).await.unwrap();
    svc.delete_tag(&a, work.id).await.unwrap();
    svc.create_tag(&a, &tag("home")).await.unwrap();
}

/// Expands to one `#[test]` per conversation-store case ([`ConversationStore`]), like
/// [`crate::store_conformance_tests!`]:
///
/// ```ignore
/// todo_core::conversation_store_conformance_tests!(async { MyStore::fresh().await }, block_on);
/// ```
#[macro_export]
macro_rules! conversation_store_conformance_tests {
    ($make:expr, $run:path) => {
        $crate::store_conformance_tests!(@cases $make, $run, [
            conversation_round_trip,
            conversation_conditional_put,
            conversation_delete,
            conversation_users_are_isolated,
            conversation_list_newest_first,
            conversation_retention,
            conversation_concurrent_puts_lose_no_update,
            conversation_count_and_quota
        ]);
    };
}

/// `ConversationStore::count_conversations` counts the user's live documents; the quota
/// (`quota::put_conversation_within`) refuses a new one at the limit but lets existing ones be
/// overwritten.
pub async fn conversation_count_and_quota<S: ConversationStore>(store: S) {
    use crate::quota::{QuotaKind, Quotas, put_conversation_within};
    let (a, b) = (user("alice"), user("bob"));
    let doc = json!({"messages": []});
    let quotas = Quotas {
        conversations: 2,
        ..Quotas::default()
    };
    let put = |u: &UserId, id: &str, at: DateTime<Utc>| {
        let (u, id, doc) = (u.clone(), conv(id), doc.clone());
        let store = &store;
        async move { put_conversation_within(store, &quotas, &u, &id, &doc, None, at).await }
    };
    put(
        &a,
        "old",
        t0() - CONVERSATION_RETENTION - Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(
        store.count_conversations(&a, t0()).await.unwrap(),
        0,
        "expired"
    );
    put(&a, "c1", t0()).await.unwrap();
    put(&a, "c2", t0()).await.unwrap();
    put(&b, "c1", t0()).await.unwrap();
    assert_eq!(store.count_conversations(&a, t0()).await.unwrap(), 2);
    assert_eq!(store.count_conversations(&b, t0()).await.unwrap(), 1);
    assert_eq!(
        put(&a, "c3", t0()).await.unwrap_err(),
        crate::error::Error::QuotaExceeded {
            quota: QuotaKind::Conversations,
            limit: 2
        }
    );
    assert!(
        store
            .get_conversation(&a, &conv("c3"), t0())
            .await
            .unwrap()
            .is_none()
    );
    put(&a, "c2", t0())
        .await
        .expect("overwriting is not creating");
    store
        .delete_conversation(&a, &conv("c1"), None, t0())
        .await
        .unwrap();
    put(&a, "c3", t0()).await.unwrap();
    assert_eq!(store.count_conversations(&a, t0()).await.unwrap(), 2);
}

fn conv(s: &str) -> ConversationId {
    ConversationId::parse(s).unwrap()
}

fn etag_of(o: &PutOutcome) -> String {
    match o {
        PutOutcome::Written { etag } => etag.clone(),
        PutOutcome::PreconditionFailed => panic!("expected a write, got PreconditionFailed"),
    }
}

/// Put without `if_match` creates, then overwrites; get returns the document, tag and time.
pub async fn conversation_round_trip<S: ConversationStore>(store: S) {
    let (a, c) = (user("alice"), conv("chat-1"));
    assert_eq!(store.get_conversation(&a, &c, t0()).await.unwrap(), None);
    let doc = json!({"messages": [{"role": "user", "content": "héllo \"x\"", "timestamp": "2030-01-01T09:00:00Z"}], "n": 1.5, "deep": {"a": [null, true, 12345678901_i64]}});
    let e1 = etag_of(
        &store
            .put_conversation(&a, &c, &doc, None, t0())
            .await
            .unwrap(),
    );
    let got = store.get_conversation(&a, &c, t0()).await.unwrap().unwrap();
    assert_eq!(got.doc, doc);
    assert_eq!(got.etag, e1);
    assert_eq!(got.updated_at, t0());

    let later = t0() + Duration::minutes(5);
    let doc2 = json!({"messages": []});
    let e2 = etag_of(
        &store
            .put_conversation(&a, &c, &doc2, None, later)
            .await
            .unwrap(),
    );
    assert_ne!(e1, e2, "every write changes the tag");
    let got = store
        .get_conversation(&a, &c, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.doc, got.etag, got.updated_at), (doc2, e2, later));
}

/// `if_match` writes only over the current version; `*` over any live document.
pub async fn conversation_conditional_put<S: ConversationStore>(store: S) {
    let (a, c) = (user("alice"), conv("c"));
    let v = |n: i64| json!({ "n": n });
    assert_eq!(
        store
            .put_conversation(&a, &c, &v(0), Some("*"), t0())
            .await
            .unwrap(),
        PutOutcome::PreconditionFailed,
        "`*` needs a document"
    );
    assert_eq!(
        store
            .put_conversation(&a, &c, &v(0), Some("v1"), t0())
            .await
            .unwrap(),
        PutOutcome::PreconditionFailed
    );
    let e1 = etag_of(
        &store
            .put_conversation(&a, &c, &v(1), None, t0())
            .await
            .unwrap(),
    );
    let e2 = etag_of(
        &store
            .put_conversation(&a, &c, &v(2), Some(&e1), t0())
            .await
            .unwrap(),
    );
    assert_ne!(e1, e2);
    for stale in [e1.as_str(), "garbage", "", "v"] {
        assert_eq!(
            store
                .put_conversation(&a, &c, &v(3), Some(stale), t0())
                .await
                .unwrap(),
            PutOutcome::PreconditionFailed,
            "{stale}"
        );
    }
    let got = store.get_conversation(&a, &c, t0()).await.unwrap().unwrap();
    assert_eq!((got.doc, got.etag.clone()), (v(2), e2.clone()));
    let e3 = etag_of(
        &store
            .put_conversation(&a, &c, &v(4), Some("*"), t0())
            .await
            .unwrap(),
    );
    assert_ne!(e3, e2);
    let got = store.get_conversation(&a, &c, t0()).await.unwrap().unwrap();
    assert_eq!((got.doc, got.etag), (v(4), e3));
}

/// Delete: a stale tag fails, the current one (or none) deletes, a second delete misses, and a
/// document created again gets a tag the old one never had.
pub async fn conversation_delete<S: ConversationStore>(store: S) {
    let (a, c) = (user("alice"), conv("c"));
    assert_eq!(
        store.delete_conversation(&a, &c, None, t0()).await.unwrap(),
        DeleteOutcome::NotFound
    );
    let e1 = etag_of(
        &store
            .put_conversation(&a, &c, &json!({}), None, t0())
            .await
            .unwrap(),
    );
    let e2 = etag_of(
        &store
            .put_conversation(&a, &c, &json!({"x": 1}), None, t0())
            .await
            .unwrap(),
    );
    assert_eq!(
        store
            .delete_conversation(&a, &c, Some(&e1), t0())
            .await
            .unwrap(),
        DeleteOutcome::PreconditionFailed
    );
    assert!(
        store
            .get_conversation(&a, &c, t0())
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store
            .delete_conversation(&a, &c, Some(&e2), t0())
            .await
            .unwrap(),
        DeleteOutcome::Deleted
    );
    assert_eq!(store.get_conversation(&a, &c, t0()).await.unwrap(), None);
    assert_eq!(
        store.delete_conversation(&a, &c, None, t0()).await.unwrap(),
        DeleteOutcome::NotFound
    );
    let later = t0() + Duration::seconds(1);
    let e3 = etag_of(
        &store
            .put_conversation(&a, &c, &json!({}), None, later)
            .await
            .unwrap(),
    );
    assert!(e3 != e1 && e3 != e2, "{e1} {e2} {e3}");
    assert_eq!(
        store
            .delete_conversation(&a, &c, None, later)
            .await
            .unwrap(),
        DeleteOutcome::Deleted
    );
}

/// One user never sees, overwrites or deletes another user's document.
pub async fn conversation_users_are_isolated<S: ConversationStore>(store: S) {
    let (a, b, c) = (user("alice"), user("bob"), conv("shared-id"));
    let ea = etag_of(
        &store
            .put_conversation(&a, &c, &json!({"who": "a"}), None, t0())
            .await
            .unwrap(),
    );
    assert_eq!(store.get_conversation(&b, &c, t0()).await.unwrap(), None);
    assert!(store.list_conversations(&b, t0()).await.unwrap().is_empty());
    assert_eq!(
        store
            .put_conversation(&b, &c, &json!({"who": "b"}), Some(&ea), t0())
            .await
            .unwrap(),
        PutOutcome::PreconditionFailed
    );
    assert_eq!(
        store.delete_conversation(&b, &c, None, t0()).await.unwrap(),
        DeleteOutcome::NotFound
    );
    etag_of(
        &store
            .put_conversation(&b, &c, &json!({"who": "b"}), None, t0())
            .await
            .unwrap(),
    );
    let got = store.get_conversation(&a, &c, t0()).await.unwrap().unwrap();
    assert_eq!((got.doc, got.etag), (json!({"who": "a"}), ea));
}

/// The list: the user's live ids, newest write first, ties by id.
pub async fn conversation_list_newest_first<S: ConversationStore>(store: S) {
    let a = user("alice");
    let t = |m: i64| t0() + Duration::minutes(m);
    for (id, m) in [("b", 1), ("a", 1), ("c", 3), ("d", 2)] {
        store
            .put_conversation(&a, &conv(id), &json!({}), None, t(m))
            .await
            .unwrap();
    }
    // Rewriting moves a conversation to the front.
    store
        .put_conversation(&a, &conv("a"), &json!({}), None, t(4))
        .await
        .unwrap();
    let list = store.list_conversations(&a, t(5)).await.unwrap();
    let got: Vec<(&str, DateTime<Utc>)> = list.iter().map(|(id, at)| (id.as_str(), *at)).collect();
    assert_eq!(
        got,
        vec![("a", t(4)), ("c", t(3)), ("d", t(2)), ("b", t(1))]
    );
}

/// Documents expire 90 days after their last write: reads miss, tags stop matching, a write
/// starts over, and expired documents are pruned on writes.
pub async fn conversation_retention<S: ConversationStore>(store: S) {
    let a = user("alice");
    let (old, kept) = (conv("old"), conv("kept"));
    let e_old = etag_of(
        &store
            .put_conversation(&a, &old, &json!({"o": 1}), None, t0())
            .await
            .unwrap(),
    );
    let day89 = t0() + Duration::days(89);
    store
        .put_conversation(&a, &kept, &json!({"k": 1}), None, day89)
        .await
        .unwrap();
    let day90 = t0() + CONVERSATION_RETENTION;
    assert!(
        store
            .get_conversation(&a, &old, day90)
            .await
            .unwrap()
            .is_some(),
        "90 days exactly: alive"
    );
    let day91 = t0() + Duration::days(91);
    assert_eq!(store.get_conversation(&a, &old, day91).await.unwrap(), None);
    let ids: Vec<String> = store
        .list_conversations(&a, day91)
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id.as_str().to_owned())
        .collect();
    assert_eq!(ids, vec!["kept"]);
    assert_eq!(
        store
            .put_conversation(&a, &old, &json!({}), Some(&e_old), day91)
            .await
            .unwrap(),
        PutOutcome::PreconditionFailed
    );
    assert_eq!(
        store
            .put_conversation(&a, &old, &json!({}), Some("*"), day91)
            .await
            .unwrap(),
        PutOutcome::PreconditionFailed
    );
    assert_eq!(
        store
            .delete_conversation(&a, &old, None, day91)
            .await
            .unwrap(),
        DeleteOutcome::NotFound
    );
    // A write (of another conversation) prunes the expired one: gone even for an earlier "now".
    store
        .put_conversation(&a, &kept, &json!({"k": 2}), None, day91)
        .await
        .unwrap();
    assert_eq!(store.get_conversation(&a, &old, t0()).await.unwrap(), None);
    // Writing without a tag starts the expired conversation over.
    let e_new = etag_of(
        &store
            .put_conversation(&a, &old, &json!({"o": 2}), None, day91)
            .await
            .unwrap(),
    );
    assert_ne!(e_new, e_old);
    let got = store
        .get_conversation(&a, &old, day91)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.doc, got.updated_at), (json!({"o": 2}), day91));
}

/// Writers racing with the same tag: exactly one wins; the others get PreconditionFailed.
pub async fn conversation_concurrent_puts_lose_no_update<S: ConversationStore>(store: S) {
    let (a, c) = (user("alice"), conv("race"));
    let e0 = etag_of(
        &store
            .put_conversation(&a, &c, &json!({"n": 0}), None, t0())
            .await
            .unwrap(),
    );
    let docs: Vec<serde_json::Value> = (1..=8).map(|n| json!({ "n": n })).collect();
    let results = futures_util::future::join_all(
        docs.iter()
            .map(|d| store.put_conversation(&a, &c, d, Some(&e0), t0())),
    )
    .await;
    let winners: Vec<(usize, String)> = results
        .into_iter()
        .enumerate()
        .filter_map(|(i, r)| match r {
            Ok(PutOutcome::Written { etag }) => Some((i, etag)),
            Ok(PutOutcome::PreconditionFailed) => None,
            Err(StoreError::Conflict(_)) => None,
            Err(e) => panic!("unexpected error {e:?}"),
        })
        .collect();
    assert_eq!(winners.len(), 1, "{winners:?}");
    let got = store.get_conversation(&a, &c, t0()).await.unwrap().unwrap();
    assert_eq!(got.doc, docs[winners[0].0]);
    assert_eq!(got.etag, winners[0].1);
}

// ---------------------------------------------------------------------------------------------
// Idempotency keys ([`crate::ports::IdempotencyStore`]).

async fn claim_key<S: crate::ports::IdempotencyStore>(
    store: &S,
    u: &UserId,
    k: &crate::ports::IdempotencyKey,
    f: &crate::ports::RequestFingerprint,
    now: DateTime<Utc>,
    ttl: Duration,
) -> crate::ports::IdempotencyClaim {
    store.begin_idempotent(u, k, f, now, ttl).await.unwrap()
}

fn idem_key(s: &str) -> crate::ports::IdempotencyKey {
    crate::ports::IdempotencyKey::parse(s).unwrap()
}

fn fingerprint(s: &str) -> crate::ports::RequestFingerprint {
    crate::ports::RequestFingerprint::new(s)
}

/// A response with headers in a given order and a body that is not UTF-8.
fn stored_response(n: u8) -> crate::ports::StoredResponse {
    crate::ports::StoredResponse {
        status: 201,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("location".into(), format!("/api/v1/alice/tasks/{n}")),
        ],
        body: vec![b'{', 0xff, 0x00, n, b'}'],
    }
}

/// A key is started once; a retry of the same request while it runs is told so, and after
/// completion gets the stored response byte for byte; another request with the key is a
/// mismatch (also while in progress); another user's same key is that user's own.
pub async fn idempotency_replays_the_stored_response<S: crate::ports::IdempotencyStore>(store: S) {
    use crate::ports::IdempotencyClaim as C;
    let ttl = crate::ports::DEFAULT_IDEMPOTENCY_TTL;
    let (a, b, k) = (user("alice"), user("bob"), idem_key("k-1"));
    let (fp, other) = (fingerprint("POST /tasks 1"), fingerprint("POST /tasks 2"));
    assert_eq!(claim_key(&store, &a, &k, &fp, t0(), ttl).await, C::Started);
    assert_eq!(
        claim_key(&store, &a, &k, &fp, t0(), ttl).await,
        C::InProgress
    );
    assert_eq!(
        claim_key(&store, &a, &k, &other, t0(), ttl).await,
        C::Mismatch
    );
    assert_eq!(
        claim_key(&store, &b, &k, &fp, t0(), ttl).await,
        C::Started,
        "keys are per user"
    );

    let resp = stored_response(1);
    store
        .complete_idempotent(&a, &k, t0(), &resp)
        .await
        .unwrap();
    let later = t0() + Duration::minutes(1);
    assert_eq!(
        claim_key(&store, &a, &k, &fp, later, ttl).await,
        C::Replay(resp.clone())
    );
    assert_eq!(
        claim_key(&store, &a, &k, &other, later, ttl).await,
        C::Mismatch
    );
    // Completing again (a late duplicate) changes nothing.
    store
        .complete_idempotent(&a, &k, t0(), &stored_response(2))
        .await
        .unwrap();
    assert_eq!(
        claim_key(&store, &a, &k, &fp, later, ttl).await,
        C::Replay(resp)
    );
    assert_eq!(
        claim_key(&store, &b, &k, &fp, later, ttl).await,
        C::InProgress
    );

    // The largest stored body survives as it is.
    let big = crate::ports::StoredResponse {
        status: 422,
        headers: vec![],
        body: (0..crate::ports::MAX_IDEMPOTENT_BODY_BYTES)
            .map(|i| (i % 251) as u8)
            .collect(),
    };
    let k2 = idem_key("~!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}");
    let long = idem_key(&"x".repeat(crate::ports::IdempotencyKey::MAX_LEN));
    for key in [&k2, &long] {
        let claim = store.begin_idempotent(&a, key, &fp, t0(), ttl).await;
        assert_eq!(claim.unwrap(), C::Started);
        store
            .complete_idempotent(&a, key, t0(), &big)
            .await
            .unwrap();
        let claim = store.begin_idempotent(&a, key, &fp, later, ttl).await;
        assert_eq!(claim.unwrap(), C::Replay(big.clone()));
    }
}

/// Releasing frees an in-progress key (a retry runs again); it leaves a completed one alone.
pub async fn idempotency_release_frees_the_key<S: crate::ports::IdempotencyStore>(store: S) {
    use crate::ports::IdempotencyClaim as C;
    let ttl = crate::ports::DEFAULT_IDEMPOTENCY_TTL;
    let (a, k, fp) = (user("alice"), idem_key("k"), fingerprint("f"));
    assert_eq!(
        store
            .begin_idempotent(&a, &k, &fp, t0(), ttl)
            .await
            .unwrap(),
        C::Started
    );
    store.release_idempotent(&a, &k, t0()).await.unwrap();
    let other = fingerprint("another request");
    assert_eq!(
        store
            .begin_idempotent(&a, &k, &other, t0(), ttl)
            .await
            .unwrap(),
        C::Started,
        "a released key is free for any request"
    );
    let resp = stored_response(3);
    store
        .complete_idempotent(&a, &k, t0(), &resp)
        .await
        .unwrap();
    store.release_idempotent(&a, &k, t0()).await.unwrap();
    assert_eq!(
        store
            .begin_idempotent(&a, &k, &other, t0(), ttl)
            .await
            .unwrap(),
        C::Replay(resp)
    );
    // Releasing or completing an unknown key is no error.
    let unknown = idem_key("never-used");
    store.release_idempotent(&a, &unknown, t0()).await.unwrap();
    store
        .complete_idempotent(&a, &unknown, t0(), &stored_response(4))
        .await
        .unwrap();
    assert_eq!(
        store
            .begin_idempotent(&a, &unknown, &fp, t0(), ttl)
            .await
            .unwrap(),
        C::Started,
        "completing a key that was not in progress stores nothing"
    );
}

/// A record lives for the TTL from its first use: then the key is free again, and pruning
/// deletes it; an in-progress marker older than the lock timeout is taken over.
pub async fn idempotency_keys_expire_and_are_pruned<S: crate::ports::IdempotencyStore>(store: S) {
    use crate::ports::IdempotencyClaim as C;
    let ttl = Duration::hours(1);
    let (a, fp) = (user("alice"), fingerprint("f"));
    let (done, stuck, fresh) = (idem_key("done"), idem_key("stuck"), idem_key("fresh"));
    let resp = stored_response(5);
    assert_eq!(
        store
            .begin_idempotent(&a, &done, &fp, t0(), ttl)
            .await
            .unwrap(),
        C::Started
    );
    store
        .complete_idempotent(&a, &done, t0(), &resp)
        .await
        .unwrap();
    assert_eq!(
        store
            .begin_idempotent(&a, &stuck, &fp, t0(), ttl)
            .await
            .unwrap(),
        C::Started
    );

    // Within the lock timeout the marker holds; after it, a retry takes the key over.
    let lock = crate::ports::IDEMPOTENCY_LOCK_TIMEOUT;
    let before_lock = t0() + lock - Duration::seconds(1);
    assert_eq!(
        claim_key(&store, &a, &stuck, &fp, before_lock, ttl).await,
        C::InProgress
    );
    let after_lock = t0() + lock + Duration::seconds(1);
    assert_eq!(
        claim_key(&store, &a, &stuck, &fp, after_lock, ttl).await,
        C::Started
    );
    assert_eq!(
        claim_key(&store, &a, &stuck, &fp, after_lock, ttl).await,
        C::InProgress
    );
    // The first claim, still running, neither completes nor frees the taken-over record...
    store
        .complete_idempotent(&a, &stuck, t0(), &stored_response(7))
        .await
        .unwrap();
    store.release_idempotent(&a, &stuck, t0()).await.unwrap();
    assert_eq!(
        claim_key(&store, &a, &stuck, &fp, after_lock, ttl).await,
        C::InProgress
    );
    // ...the claim that took it over does.
    let taken = stored_response(8);
    store
        .complete_idempotent(&a, &stuck, after_lock, &taken)
        .await
        .unwrap();
    assert_eq!(
        claim_key(&store, &a, &stuck, &fp, after_lock, ttl).await,
        C::Replay(taken)
    );

    // A completed record replays until the TTL has passed, then the key is free.
    let almost = t0() + ttl - Duration::seconds(1);
    assert_eq!(
        claim_key(&store, &a, &done, &fp, almost, ttl).await,
        C::Replay(resp)
    );
    assert_eq!(
        claim_key(&store, &a, &fresh, &fp, t0() + Duration::minutes(30), ttl).await,
        C::Started
    );
    let expired = t0() + ttl + Duration::seconds(1);
    assert_eq!(
        claim_key(&store, &a, &done, &fp, expired, ttl).await,
        C::Started
    );
    store.release_idempotent(&a, &done, expired).await.unwrap();

    // Pruning deletes what was first used before the cutoff, and only that: left are `stuck`
    // (taken over at t0 + 2 min) and `fresh` (t0 + 30 min); `done` was released.
    let pruned = store
        .prune_idempotency_keys(t0() + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(pruned, 1, "`stuck` goes, `fresh` stays");
    assert_eq!(
        claim_key(&store, &a, &stuck, &fp, after_lock, ttl).await,
        C::Started
    );
    let soon = t0() + Duration::minutes(31);
    assert_eq!(
        claim_key(&store, &a, &fresh, &fp, soon, ttl).await,
        C::InProgress
    );
    let pruned = store
        .prune_idempotency_keys(t0() + Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    assert_eq!(
        claim_key(&store, &a, &fresh, &fp, almost, ttl).await,
        C::Started
    );
}

/// Concurrent first uses of one key: exactly one is started, the others see it in progress.
pub async fn idempotency_concurrent_begins_start_once<S: crate::ports::IdempotencyStore>(store: S) {
    use crate::ports::IdempotencyClaim as C;
    let ttl = crate::ports::DEFAULT_IDEMPOTENCY_TTL;
    let (a, k, fp) = (user("alice"), idem_key("race"), fingerprint("f"));
    let results = futures_util::future::join_all(
        (0..10).map(|_| store.begin_idempotent(&a, &k, &fp, t0(), ttl)),
    )
    .await;
    let mut started = 0;
    for r in results {
        match r {
            Ok(C::Started) => started += 1,
            Ok(C::InProgress) | Err(StoreError::Conflict(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(started, 1);
}
