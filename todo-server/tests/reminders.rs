//! Exact-time reminders with the embedded scheduler: the real binary fires a reminder at its
//! time, once; one that came due while no server ran fires at the next start; two servers on
//! one PostgreSQL database fire each reminder once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use chrono::{SecondsFormat, Utc};
use serde_json::{Value, json};
use support::kafka::{SECRET, call};
use support::server::{Server, temp_dir};

/// Creates a task of `user` with a custom reminder `in_ms` from now; the task id.
fn task_with_reminder(server: &Server, user: &str, token: &str, in_ms: i64) -> i64 {
    let t = call(
        server,
        "POST",
        &format!("/api/v1/{user}/tasks"),
        token,
        Some(json!({"title": "remind me"})),
    );
    let id = t["id"].as_i64().unwrap();
    let at = (Utc::now() + chrono::Duration::milliseconds(in_ms))
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    call(
        server,
        "POST",
        &format!("/api/v1/{user}/tasks/{id}/reminder"),
        token,
        Some(json!({"reminder_time": at, "reminder_type": "custom"})),
    );
    id
}

/// The user's `reminder-sent` activity entries, by task id.
fn sent(server: &Server, user: &str, token: &str) -> Vec<i64> {
    let log = call(
        server,
        "GET",
        &format!("/api/v1/{user}/activity-logs?limit=100"),
        token,
        None,
    );
    let mut ids: Vec<i64> = log["activity_logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "reminder-sent")
        .map(|e| e["task_id"].as_i64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

/// Waits until `check` holds, at most the contract's 10 s after `from` (plus slack for a slow
/// machine: this is about firing at all, not about lateness, which the benchmark measures).
fn within_contract(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_reminder_fires_at_its_time_once() {
    let server = Server::start_in_temp_dir("todo-rem", &[("TODO_JWT_SECRET", SECRET)]);
    let tok = server.token("ann");
    let later = task_with_reminder(&server, "ann", &tok, 60_000);
    let id = task_with_reminder(&server, "ann", &tok, 2_500);
    assert_eq!(
        sent(&server, "ann", &tok),
        Vec::<i64>::new(),
        "not before its time"
    );
    within_contract("the reminder fired", || {
        sent(&server, "ann", &tok) == vec![id]
    });
    let task = call(
        &server,
        "GET",
        &format!("/api/v1/ann/tasks/{id}"),
        &tok,
        None,
    );
    assert_eq!(task["reminder"], Value::Null, "no longer pending: {task}");
    let pending = call(
        &server,
        "GET",
        &format!("/api/v1/ann/tasks/{later}"),
        &tok,
        None,
    );
    assert_eq!(pending["reminder"]["status"], "pending");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(sent(&server, "ann", &tok), vec![id], "once");
}

#[test]
fn a_cancelled_or_moved_reminder_follows_the_change() {
    let server = Server::start_in_temp_dir("todo-rem-move", &[("TODO_JWT_SECRET", SECRET)]);
    let tok = server.token("bob");
    let cancelled = task_with_reminder(&server, "bob", &tok, 1_000);
    support::kafka::send(
        &server,
        "DELETE",
        &format!("/api/v1/bob/tasks/{cancelled}/reminder"),
        &tok,
        None,
    );
    // Moved earlier: a new reminder replaces the pending one, one minute -> now.
    let moved = task_with_reminder(&server, "bob", &tok, 60_000);
    let at = (Utc::now() + chrono::Duration::milliseconds(500))
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    call(
        &server,
        "POST",
        &format!("/api/v1/bob/tasks/{moved}/reminder"),
        &tok,
        Some(json!({"reminder_time": at, "reminder_type": "custom"})),
    );
    within_contract("the moved reminder fired", || {
        sent(&server, "bob", &tok) == vec![moved]
    });
    std::thread::sleep(Duration::from_millis(1_000));
    assert_eq!(
        sent(&server, "bob", &tok),
        vec![moved],
        "the cancelled one never fires"
    );
}

#[test]
fn a_due_date_reminder_moves_with_its_task() {
    let server = Server::start_in_temp_dir("todo-rem-due", &[("TODO_JWT_SECRET", SECRET)]);
    let tok = server.token("eve");
    let in_ms = |ms: i64| {
        (Utc::now() + chrono::Duration::milliseconds(ms))
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    };
    let hour = 3_600_000;
    let t = call(
        &server,
        "POST",
        "/api/v1/eve/tasks",
        &tok,
        Some(json!({"title": "dentist", "due_datetime": in_ms(2 * hour)})),
    );
    let id = t["id"].as_i64().unwrap();
    // Half an hour before the due time.
    call(
        &server,
        "POST",
        &format!("/api/v1/eve/tasks/{id}/reminder"),
        &tok,
        Some(json!({"reminder_time": in_ms(2 * hour - hour / 2), "reminder_type": "due_date"})),
    );
    // The appointment moves to half an hour and two seconds from now: the reminder follows.
    let moved = call(
        &server,
        "PUT",
        &format!("/api/v1/eve/tasks/{id}"),
        &tok,
        Some(json!({"due_datetime": in_ms(hour / 2 + 2_000)})),
    );
    assert_eq!(moved["reminder"]["status"], "pending", "{moved}");
    within_contract("the moved reminder fired", || {
        sent(&server, "eve", &tok) == vec![id]
    });
}

#[test]
fn a_reminder_due_while_no_server_ran_fires_at_the_next_start() {
    let dir = temp_dir("todo-rem-restart");
    let env = [("TODO_JWT_SECRET", SECRET)];
    let server = Server::start_with(&dir, &env);
    let tok = server.token("cat");
    let id = task_with_reminder(&server, "cat", &tok, 1_000);
    server.stop();
    std::thread::sleep(Duration::from_millis(1_500));
    let server = Server::start_with(&dir, &env);
    within_contract("fired after the restart", || {
        sent(&server, "cat", &tok) == vec![id]
    });
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn two_servers_on_one_postgres_database_fire_each_reminder_once() {
    let Some(_) = support::pg_url() else { return };
    let url = support::run(support::fresh_pg_database());
    let env = [("DATABASE_URL", url.as_str()), ("TODO_JWT_SECRET", SECRET)];
    let a = Server::start_in_temp_dir("todo-rem-pg-a", &env);
    let b = Server::start_in_temp_dir("todo-rem-pg-b", &env);
    let tok = a.token("dan");
    let mut ids: Vec<i64> = (0..12)
        .map(|n| {
            let server = if n % 2 == 0 { &a } else { &b };
            task_with_reminder(server, "dan", &tok, 1_000 + 50 * n)
        })
        .collect();
    ids.sort_unstable();
    within_contract("every reminder fired", || {
        sent(&a, "dan", &tok).len() >= ids.len()
    });
    std::thread::sleep(Duration::from_millis(1_000));
    assert_eq!(
        sent(&b, "dan", &tok),
        ids,
        "each once, by one of the two servers"
    );
}
