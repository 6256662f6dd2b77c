//! Reminder lateness (BENCHMARKS.md, "Reminders"): N reminders (default 10,000) of 100 users on a
//! fresh SQLite file (or `DATABASE_URL=postgres://...`), due over a 10 s window a few seconds
//! ahead, fired by the server's embedded scheduler (`reminders::run_scheduler` with the real
//! service and clock); lateness = the time the reminder was marked sent minus its time.
//!
//! `cargo run --release -p todo-server --example reminder_bench -- [REMINDERS]`
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use todo_core::conformance::plain_task;
use todo_core::ids::UserId;
use todo_core::model::{Reminder, ReminderStatus, ReminderType};
use todo_core::ports::{NewReminder, Store, StoreTx};
use todo_core::service::TaskService;
use todo_server::bus::EventBus;
use todo_server::storage::{PgStore, SqliteStore};
use todo_server::system::{RandomIds, SystemClock};
use tokio::sync::Notify;

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .map_or(10_000, |s| s.parse().unwrap());
    match std::env::var("DATABASE_URL") {
        Ok(url) if url.starts_with("postgres") => {
            run(PgStore::connect(&url).await.unwrap(), n, "PostgreSQL").await
        }
        _ => {
            let path =
                std::env::temp_dir().join(format!("reminder-bench-{}.db", uuid::Uuid::new_v4()));
            let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            run(store, n, "SQLite").await;
            let _ = std::fs::remove_file(&path);
        }
    }
}

async fn run<S: Store + Clone + 'static>(store: S, n: usize, what: &str) {
    let window = Duration::from_secs(10);
    let start = Utc::now() + chrono::Duration::seconds(4);
    let step = window.as_nanos() / n as u128;
    let mut made: Vec<Reminder> = Vec::with_capacity(n);
    let t = Instant::now();
    for chunk in 0..n.div_ceil(1000) {
        let mut tx = store.begin().await.unwrap();
        for i in chunk * 1000..((chunk + 1) * 1000).min(n) {
            let user = UserId::parse(&format!("user{}", i % 100)).unwrap();
            let task = tx
                .insert_task(todo_core::ports::NewTask {
                    task: plain_task(&user, "remind me"),
                })
                .await
                .unwrap();
            let at =
                start + chrono::Duration::nanoseconds(i64::try_from(step * i as u128).unwrap());
            let r = tx
                .insert_reminder(NewReminder {
                    task_id: task.id,
                    user_id: user,
                    reminder_time: at,
                    reminder_type: ReminderType::Custom,
                    created_at: Utc::now(),
                })
                .await
                .unwrap();
            made.push(r);
        }
        tx.commit().await.unwrap();
    }
    println!(
        "{what}: {n} reminders written in {:?}, due from {start} over {window:?}",
        t.elapsed()
    );
    assert!(Utc::now() < start, "writing took longer than the lead time");

    let service = Arc::new(TaskService::new(store.clone(), SystemClock, RandomIds));
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let scheduler = tokio::spawn(todo_server::reminders::run_scheduler(
        Arc::clone(&service),
        EventBus::new(),
        Arc::new(Notify::new()),
        Duration::ZERO,
        async move {
            let _ = stop_rx.await;
        },
    ));
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        if store.next_reminders(1).await.unwrap().is_empty() {
            break;
        }
    }
    let _ = stop_tx.send(());
    scheduler.await.unwrap();

    let mut late_ms = Vec::with_capacity(n);
    let mut tx = store.begin().await.unwrap();
    for r in &made {
        let now = tx.reminder(&r.user_id, r.id).await.unwrap().unwrap();
        assert_eq!(now.status, ReminderStatus::Sent);
        late_ms.push(
            (now.sent_at.unwrap() - r.reminder_time)
                .num_microseconds()
                .unwrap() as f64
                / 1000.0,
        );
    }
    drop(tx);
    late_ms.sort_by(f64::total_cmp);
    let pct = |p: f64| late_ms[((late_ms.len() as f64 * p).ceil() as usize).saturating_sub(1)];
    println!(
        "{what}: lateness p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms, early {}",
        pct(0.50),
        pct(0.95),
        pct(0.99),
        late_ms[late_ms.len() - 1],
        late_ms.iter().filter(|l| **l < 0.0).count()
    );
}
