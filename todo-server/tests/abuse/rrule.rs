//! RRULE cost (issue 14, case 1): one `POST /tasks` with
//! `FREQ=YEARLY;BYDAY=MO,...,SU;BYHOUR=0,...,23;BYMINUTE=0,...,59;BYSECOND=0,...,59` (465
//! characters, every second of the year: 31.6 million candidates per period) took ~10 s of CPU
//! and ~1.5 GB, and completing such a task expanded it while holding the writer. Now such a rule
//! is refused with 400 `too_complex` before anything expands it, on create and on update, in
//! milliseconds and without memory; a task at the limits (96 times a day on every day of the
//! year) is created, completed and updated; and another user is answered all the while.
//! Against the real binary on SQLite and PostgreSQL.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{self, Db};
use crate::support::server::Server;

/// The attack: every second of every day of the year.
fn attack() -> String {
    let list = |n: u32| (0..n).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
    format!(
        "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR={};BYMINUTE={};BYSECOND={}",
        list(24),
        list(60),
        list(60)
    )
}

/// Every hour at `:00`, `:15`, `:30`, `:45`: the 96 times a day the limit allows.
const QUARTERS: &str = "BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;\
                        BYMINUTE=0,15,30,45";

/// Another user's ordinary requests in a loop until stopped: how many, the slowest, and any
/// that failed.
struct Bystander {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<(usize, Duration, Vec<String>)>,
}

impl Bystander {
    fn start(server: &Server) -> Bystander {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let base = server.base.clone();
        let token = server.token("bob");
        let handle = std::thread::spawn(move || {
            let agent = common::agent(Duration::from_secs(60));
            let (mut n, mut slowest, mut failures) = (0, Duration::ZERO, Vec::new());
            // At least a few requests, however fast the other user's calls were answered.
            while n < 5 || !flag.load(Ordering::Relaxed) {
                let t = Instant::now();
                let res = if n % 2 == 0 {
                    agent
                        .post(format!("{base}/api/v1/bob/tasks"))
                        .header("authorization", &format!("Bearer {token}"))
                        .send_json(json!({"title": format!("bob {n}")}))
                } else {
                    agent
                        .get(format!("{base}/api/v1/bob/tasks?limit=5"))
                        .header("authorization", &format!("Bearer {token}"))
                        .call()
                };
                slowest = slowest.max(t.elapsed());
                match res {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => failures.push(format!("status {}", r.status())),
                    Err(e) => failures.push(e.to_string()),
                }
                n += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            (n, slowest, failures)
        });
        Bystander { stop, handle }
    }

    /// Stops the loop: (requests, slowest).
    fn finish(self, db: Db) -> (usize, Duration) {
        self.stop.store(true, Ordering::Relaxed);
        let (n, slowest, failures) = self.handle.join().unwrap();
        assert!(
            failures.is_empty(),
            "[{db:?}] bob's requests failed: {failures:?}"
        );
        assert!(n >= 5, "[{db:?}] bob was answered ({n} requests)");
        (n, slowest)
    }
}

/// A 400 `VALIDATION_ERROR` on `rrule` with code `too_complex` whose message names the limit.
fn assert_too_complex(status: u16, body: &Value, limit: &str) {
    assert_eq!(status, 400, "{body}");
    assert_eq!(common::code(body), "VALIDATION_ERROR", "{body}");
    let details = &body["error"]["details"];
    assert_eq!(details["field"], "rrule", "{body}");
    assert_eq!(details["errors"][0]["code"], "too_complex", "{body}");
    let message = details["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(limit), "{message}");
}

#[test]
fn the_attack_rule_is_refused_at_once_on_create_and_update() {
    let rule = attack();
    assert_eq!(rule.len(), 465);
    for db in common::databases() {
        let server = common::start(db, "rrule-attack", &[]);
        let alice = server.token("alice");
        let (status, task) = common::create_task(
            &server,
            "alice",
            &alice,
            &json!({"title": "daily", "due_datetime": "2099-01-05T09:00:00Z", "rrule": "FREQ=DAILY"}),
        );
        assert_eq!(status, 201, "{task}");
        let id = task["id"].as_i64().unwrap();
        let bob = Bystander::start(&server);
        let started = Instant::now();
        let mut slowest = Duration::ZERO;
        for _ in 0..5 {
            let t = Instant::now();
            let (status, body) = common::create_task(
                &server,
                "alice",
                &alice,
                &json!({"title": "attack", "due_datetime": "2099-01-05T09:00:00Z", "rrule": rule}),
            );
            slowest = slowest.max(t.elapsed());
            assert_too_complex(status, &body, "at most 96");
            let t = Instant::now();
            let (status, body) = common::call(
                &server,
                "PUT",
                &format!("/api/v1/alice/tasks/{id}"),
                &alice,
                Some(&json!({"rrule": rule})),
            );
            slowest = slowest.max(t.elapsed());
            assert_too_complex(status, &body, "at most 96");
        }
        let total = started.elapsed();
        let (bob_requests, bob_slowest) = bob.finish(db);
        assert!(
            slowest < Duration::from_millis(500),
            "[{db:?}] refused in {slowest:?}"
        );
        let peak = common::peak_rss_mib(&server);
        assert!(peak < 200.0, "[{db:?}] peak RSS {peak:.1} MiB");
        // Nothing was stored: the task keeps its rule.
        let (_, got) = common::call(
            &server,
            "GET",
            &format!("/api/v1/alice/tasks/{id}"),
            &alice,
            None,
        );
        assert_eq!(got["rrule"], "FREQ=DAILY");
        let (_, page) = common::call(&server, "GET", "/api/v1/alice/tasks", &alice, None);
        assert_eq!(page["total"], 1, "{page}");
        common::report(
            "rrule-attack",
            db,
            &format!(
                "10 attack rules (5 POST, 5 PUT) refused 400 too_complex in {} ms (slowest {} \
                 ms); bob answered {bob_requests} times meanwhile (slowest {} ms); peak RSS \
                 {peak:.1} MiB",
                total.as_millis(),
                slowest.as_millis(),
                bob_slowest.as_millis()
            ),
        );
    }
}

#[test]
fn the_limits_are_exact_and_a_task_at_them_is_created_and_completed() {
    let setpos: Vec<String> = (1..=31).chain(-31..=-1).map(|i| i.to_string()).collect();
    let at_limit = [
        format!("FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;{QUARTERS};COUNT=100000"),
        format!(
            "FREQ=YEARLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;{QUARTERS};BYSETPOS={}",
            setpos.join(",")
        ),
    ];
    for db in common::databases() {
        let server = common::start(db, "rrule-limits", &[]);
        let alice = server.token("alice");
        // One more time a day, or one more BYSETPOS value, is refused.
        let (status, body) = common::create_task(
            &server,
            "alice",
            &alice,
            &json!({"title": "t", "due_datetime": "2099-01-05T09:00:00Z",
                    "rrule": format!("FREQ=DAILY;{QUARTERS};BYSECOND=0,30")}),
        );
        assert_too_complex(status, &body, "192 times a day");
        let (status, body) = common::create_task(
            &server,
            "alice",
            &alice,
            &json!({"title": "t", "due_datetime": "2099-01-05T09:00:00Z",
                    "rrule": format!("FREQ=YEARLY;BYDAY=MO;BYSETPOS=32,{}", setpos.join(","))}),
        );
        assert_too_complex(status, &body, "BYSETPOS has 63 distinct values");
        let bob = Bystander::start(&server);
        let mut slowest = Duration::ZERO;
        let started = Instant::now();
        for rule in &at_limit {
            let t = Instant::now();
            let (status, task) = common::create_task(
                &server,
                "alice",
                &alice,
                &json!({"title": "dense", "due_datetime": "2099-01-05T09:00:00Z",
                        "timezone": "Europe/Berlin", "rrule": rule}),
            );
            slowest = slowest.max(t.elapsed());
            assert_eq!(status, 201, "[{db:?}] {rule}: {task}");
            let id = task["id"].as_i64().unwrap();
            let t = Instant::now();
            let (status, done) = common::call(
                &server,
                "PATCH",
                &format!("/api/v1/alice/tasks/{id}/complete"),
                &alice,
                None,
            );
            slowest = slowest.max(t.elapsed());
            assert_eq!(status, 200, "[{db:?}] {done}");
            let next = done["next_task_id"].as_i64().unwrap();
            // Completing through PUT, with a title change in the same request.
            let t = Instant::now();
            let (status, updated) = common::call(
                &server,
                "PUT",
                &format!("/api/v1/alice/tasks/{next}"),
                &alice,
                Some(&json!({"title": "dense, renamed", "completed": true})),
            );
            slowest = slowest.max(t.elapsed());
            assert_eq!(status, 200, "[{db:?}] {updated}");
            let third = updated["next_task_id"].as_i64().unwrap();
            let (_, second) = common::call(
                &server,
                "GET",
                &format!("/api/v1/alice/tasks/{next}"),
                &alice,
                None,
            );
            let (_, third) = common::call(
                &server,
                "GET",
                &format!("/api/v1/alice/tasks/{third}"),
                &alice,
                None,
            );
            if rule.contains("COUNT") {
                assert_eq!(second["due_datetime"], "2099-01-05T09:15:00Z", "{second}");
                assert_eq!(third["due_datetime"], "2099-01-05T09:30:00Z", "{third}");
            } else {
                // The first 31 and the last 31 times of the year: after Jan 5, Dec 31 from
                // 16:15 local (15:15 UTC).
                assert_eq!(second["due_datetime"], "2099-12-31T15:15:00Z", "{second}");
                assert_eq!(third["due_datetime"], "2099-12-31T15:30:00Z", "{third}");
            }
        }
        let total = started.elapsed();
        let (bob_requests, bob_slowest) = bob.finish(db);
        let peak = common::peak_rss_mib(&server);
        assert!(
            slowest < Duration::from_secs(2),
            "[{db:?}] slowest call {slowest:?}"
        );
        assert!(peak < 200.0, "[{db:?}] peak RSS {peak:.1} MiB");
        common::report(
            "rrule-limits",
            db,
            &format!(
                "2 tasks at the limits (96 times a day every day, COUNT=100000 / 62 BYSETPOS) \
                 created, completed twice: {} ms in all, slowest call {} ms; bob answered \
                 {bob_requests} times meanwhile (slowest {} ms); peak RSS {peak:.1} MiB",
                total.as_millis(),
                slowest.as_millis(),
                bob_slowest.as_millis()
            ),
        );
    }
}
