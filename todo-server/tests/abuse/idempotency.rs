//! Retried creates (issue 14, case 9): a client that retries `POST /tasks` after a timeout must
//! not make duplicates. Against the real binary on SQLite and PostgreSQL: the same
//! `Idempotency-Key` sent 5 times in a row, and 10 times at once, makes exactly one task and
//! gets the same body every time (`Idempotent-Replayed: true` on the repeats); the same key with
//! another body is refused (422); keys are per user; without a key two POSTs make two tasks.
//! Prints the time of a create and of a replay.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{self, Db};
use crate::support::server::Server;

/// What the tests look at of an answer.
struct Answer {
    status: u16,
    replayed: bool,
    retry_after: Option<u64>,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// `POST /api/v1/{user}/tasks` with an optional `Idempotency-Key`, read as raw bytes.
fn create(server: &Server, user: &str, token: &str, key: Option<&str>, body: &Value) -> Answer {
    let agent = common::agent(Duration::from_secs(60));
    let mut req = ureq::http::Request::builder()
        .method("POST")
        .uri(format!("{}/api/v1/{user}/tasks", server.base))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json");
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    let res = agent
        .run(req.body(serde_json::to_vec(body).unwrap()).unwrap())
        .unwrap();
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let replayed = header("idempotent-replayed").as_deref() == Some("true");
    let retry_after = header("retry-after").and_then(|v| v.parse().ok());
    let status = res.status().as_u16();
    let body = res.into_body().read_to_vec().unwrap();
    Answer {
        status,
        replayed,
        retry_after,
        body,
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The key of a retried create, sent like a client that retries until it gets an answer: on
/// 409 (the first attempt still runs) it waits `Retry-After` and tries again.
fn create_until_answered(
    server: &Server,
    user: &str,
    token: &str,
    key: &str,
    body: &Value,
) -> (Answer, u32) {
    let mut conflicts = 0;
    loop {
        let a = create(server, user, token, Some(key), body);
        if a.status != 409 {
            return (a, conflicts);
        }
        conflicts += 1;
        assert!(conflicts < 30, "still in progress after 30 tries");
        let wait = a.retry_after.expect("409 with Retry-After");
        assert_eq!(wait, 1, "Retry-After: 1");
        std::thread::sleep(Duration::from_secs(wait));
    }
}

fn sequential_retries(db: Db, server: &Server, alice: &str) {
    let body = json!({ "title": "Pay rent", "priority": "High" });
    let started = Instant::now();
    let first = create(server, "alice", alice, Some("retry-1"), &body);
    let create_time = started.elapsed();
    assert_eq!(first.status, 201, "{}", first.json());
    assert!(!first.replayed);
    for _ in 0..5 {
        let again = create(server, "alice", alice, Some("retry-1"), &body);
        assert_eq!(again.status, 201, "{}", again.json());
        assert!(again.replayed, "Idempotent-Replayed: true");
        assert_eq!(again.body, first.body, "the same body, byte for byte");
    }
    assert_eq!(
        common::total_tasks(server, "alice", alice),
        1,
        "exactly one task"
    );

    // Timing: replays of that key against creates without one.
    let mut replays = Vec::new();
    let mut creates = vec![create_time];
    let mut plain = Vec::new();
    for i in 0..50 {
        let t = Instant::now();
        let a = create(server, "alice", alice, Some("retry-1"), &body);
        replays.push(t.elapsed());
        assert!(a.replayed && a.body == first.body);
        let t = Instant::now();
        let a = create(server, "alice", alice, Some(&format!("timing-{i}")), &body);
        creates.push(t.elapsed());
        assert_eq!((a.status, a.replayed), (201, false));
        let t = Instant::now();
        let a = create(server, "alice", alice, None, &body);
        plain.push(t.elapsed());
        assert_eq!((a.status, a.replayed), (201, false));
    }
    assert_eq!(common::total_tasks(server, "alice", alice), 101);
    common::report(
        "idempotency",
        db,
        &format!(
            "create without a key p50 {:.2} ms, with a new key p50 {:.2} ms; replay p50 {:.2} \
             ms, max {:.2} ms (50 each)",
            millis(median(plain)),
            millis(median(creates)),
            millis(median(replays.clone())),
            millis(replays.iter().copied().max().unwrap()),
        ),
    );
}

fn concurrent_retries(db: Db, server: &Server, alice: &str) {
    let before = common::total_tasks(server, "alice", alice);
    let body = json!({ "title": "Sent ten times at once" });
    let started = Instant::now();
    let answers: Vec<(Answer, u32)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..10)
            .map(|_| s.spawn(|| create_until_answered(server, "alice", alice, "burst-1", &body)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let elapsed = started.elapsed();
    let first = &answers[0].0;
    for (a, _) in &answers {
        assert_eq!(a.status, 201, "{}", a.json());
        assert_eq!(a.body, first.body, "every attempt gets the same task");
    }
    let replays = answers.iter().filter(|(a, _)| a.replayed).count();
    assert_eq!(replays, 9, "one attempt ran, the others were replays");
    let conflicts: u32 = answers.iter().map(|(_, c)| c).sum();
    assert_eq!(
        common::total_tasks(server, "alice", alice),
        before + 1,
        "exactly one task from 10 concurrent attempts"
    );
    common::report(
        "idempotency",
        db,
        &format!(
            "10 concurrent attempts with one key: 1 task, {replays} replays, {conflicts} x 409 \
             (in progress, retried after Retry-After), all answered in {:.0} ms",
            millis(elapsed)
        ),
    );
}

fn mismatch_and_users(server: &Server, alice: &str, bob: &str) {
    let other = create(
        server,
        "alice",
        alice,
        Some("retry-1"),
        &json!({ "title": "Something else" }),
    );
    assert_eq!(other.status, 422, "{}", other.json());
    let body = other.json();
    assert_eq!(common::code(&body), "VALIDATION_ERROR", "{body}");
    assert_eq!(
        body["error"]["details"]["field"], "Idempotency-Key",
        "{body}"
    );

    // Bob's "retry-1" is his own: a task of his, not alice's answer.
    let before = common::total_tasks(server, "alice", alice);
    let same = json!({ "title": "Pay rent", "priority": "High" });
    let b = create(server, "bob", bob, Some("retry-1"), &same);
    assert_eq!(b.status, 201, "{}", b.json());
    assert!(!b.replayed);
    assert_eq!(b.json()["user_id"], "bob");
    assert_eq!(common::total_tasks(server, "bob", bob), 1);
    assert_eq!(common::total_tasks(server, "alice", alice), before);
}

fn without_a_key(server: &Server, bob: &str) {
    let body = json!({ "title": "No key" });
    for _ in 0..2 {
        let a = create(server, "bob", bob, None, &body);
        assert_eq!((a.status, a.replayed), (201, false));
    }
    assert_eq!(
        common::total_tasks(server, "bob", bob),
        3,
        "without a key every POST creates"
    );
}

#[test]
fn retried_creates_make_one_task() {
    for db in common::databases() {
        let server = common::start(db, "idempotency", &[]);
        let alice = server.token("alice");
        let bob = server.token("bob");
        sequential_retries(db, &server, &alice);
        concurrent_retries(db, &server, &alice);
        mismatch_and_users(&server, &alice, &bob);
        without_a_key(&server, &bob);
        common::report(
            "idempotency",
            db,
            &format!("peak RSS {:.1} MiB", common::peak_rss_mib(&server)),
        );
    }
}
