//! The Kafka relay under faults, against a broker of each test's own (tansu, started here:
//! the shared broker of `TEST_KAFKA_BROKERS` must not be paused or killed; the tests are skipped
//! when that variable is unset, except with `CI=true`): a paused broker, a broker restarted empty,
//! a server killed while it relays. Writes never wait for the broker; no event is lost; each
//! user's events keep their order (duplicates are allowed: at-least-once).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use support::kafka::{Broker, SECRET, agent, brokers, consume_until, kafka_cfg, prefix, send};
use support::server::{Server, temp_dir};
use todo_events::{EventEnvelope, Topic};

/// How long a test waits for the events it expects.
const WAIT: Duration = Duration::from_secs(30);

fn server_env<'a>(brokers: &'a str, prefix: &'a str) -> [(&'a str, &'a str); 3] {
    [
        ("KAFKA_BROKERS", brokers),
        ("KAFKA_TOPIC_PREFIX", prefix),
        ("TODO_JWT_SECRET", SECRET),
    ]
}

/// Creates a task for `user`: the answer must be 201; its id.
fn create(server: &Server, user: &str, token: &str, n: usize) -> i64 {
    let (status, body) = send(
        server,
        "POST",
        &format!("/api/v1/{user}/tasks"),
        token,
        Some(json!({"title": format!("Task {n}")})),
    );
    assert_eq!(status, 201, "creating task {n} of {user}: {body}");
    body["id"].as_i64().unwrap()
}

/// The task ids of `user`'s task-created events, in the order of arrival, each event once (the
/// first time it arrived).
fn created_ids(got: &[EventEnvelope], user: &str) -> Vec<i64> {
    let mut seen = HashSet::new();
    got.iter()
        .filter(|e| e.user_id().as_str() == user && e.event_type().as_str() == "task-created")
        .filter(|e| seen.insert(e.event_id.to_string()))
        .map(|e| e.data.task_id().unwrap().get())
        .collect()
}

/// Whether every id of `want` (per user) arrived in a task-created event.
fn all_arrived(got: &[EventEnvelope], want: &HashMap<String, Vec<i64>>) -> bool {
    want.iter().all(|(user, ids)| {
        let have: HashSet<i64> = created_ids(got, user).into_iter().collect();
        ids.iter().all(|id| have.contains(id))
    })
}

/// The last lines of the server's stderr (its log).
fn server_log(server: &Server) -> String {
    let log = std::fs::read_to_string(server.dir.join("server.stderr")).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// The server's relay metrics (outbox depth, delivered events), for failure messages.
fn relay_metrics(server: &Server) -> String {
    let Ok(mut r) = agent().get(&format!("{}/metrics", server.base)).call() else {
        return "(no answer from /metrics)".to_owned();
    };
    r.body_mut()
        .read_to_string()
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("todo_outbox_depth") || l.starts_with("todo_events_delivered"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Consumes `task-events` of `prefix` on `brokers` until every expected task-created event
/// arrived (at most [`WAIT`]), then checks that, per user, the expected ids arrived in the order
/// of creation: the others (`only_expected == false`: events from before a fault may be there
/// or not) are left out of the comparison.
fn expect_created(
    server: &mut Server,
    brokers: &str,
    prefix: &str,
    want: &HashMap<String, Vec<i64>>,
    only_expected: bool,
) {
    let started = Instant::now();
    let expected = want.clone();
    let got = consume_until(
        &kafka_cfg(brokers, prefix),
        Topic::TaskEvents,
        WAIT,
        move |got| all_arrived(got, &expected),
    );
    eprintln!("consumed {} events in {:?}", got.len(), started.elapsed());
    let log = server_log(server);
    let metrics = relay_metrics(server);
    let exited = server.exited();
    assert!(
        exited.is_none(),
        "the server exited ({exited:?}); its log ends with:\n{log}"
    );
    for (user, ids) in want {
        let wanted: HashSet<i64> = ids.iter().copied().collect();
        let arrived: Vec<i64> = created_ids(&got, user)
            .into_iter()
            .filter(|id| !only_expected || wanted.contains(id))
            .collect();
        let missing: Vec<&i64> = ids.iter().filter(|id| !arrived.contains(id)).collect();
        assert!(
            missing.is_empty(),
            "{user}: task-created events never arrived for {missing:?} (arrived: {arrived:?}); \
             relay: {metrics}; the server's log ends with:\n{log}"
        );
        let in_order: Vec<i64> = arrived
            .into_iter()
            .filter(|id| wanted.contains(id))
            .collect();
        assert_eq!(
            &in_order, ids,
            "{user}: each event (duplicates removed) in the order of creation; the server's log \
             ends with:\n{log}"
        );
    }
}

#[test]
fn writes_succeed_while_the_broker_is_paused_and_every_event_arrives_after() {
    if brokers().is_none() {
        return;
    }
    let broker = Broker::start();
    let prefix = prefix();
    let mut server =
        Server::start_in_temp_dir("todo-kafka-pause", &server_env(&broker.addr, &prefix));
    let users = ["ann", "ben"];
    let tokens: Vec<String> = users.iter().map(|u| server.token(u)).collect();
    let mut want: HashMap<String, Vec<i64>> = HashMap::new();
    for n in 0..3 {
        for (user, token) in users.iter().zip(&tokens) {
            let id = create(&server, user, token, n);
            want.entry((*user).to_owned()).or_default().push(id);
        }
    }
    broker.pause();
    let paused = Instant::now();
    for n in 3..23 {
        for (user, token) in users.iter().zip(&tokens) {
            let id = create(&server, user, token, n);
            want.entry((*user).to_owned()).or_default().push(id);
        }
    }
    eprintln!(
        "40 tasks created in {:?} with the broker paused",
        paused.elapsed()
    );
    // Readiness says the brokers do not answer (the relay meanwhile hangs on the frozen
    // broker).
    let (status, body) = send(&server, "GET", "/readyz", "", None);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "UNAVAILABLE");
    broker.resume();
    expect_created(&mut server, &broker.addr, &prefix, &want, false);
    let (status, body) = send(&server, "GET", "/readyz", "", None);
    assert_eq!((status, &body["broker"]), (200, &json!("ok")), "{body}");
}

#[test]
fn a_broker_restarted_empty_gets_its_topics_back_and_the_outbox_drains() {
    if brokers().is_none() {
        return;
    }
    let mut broker = Broker::start();
    let prefix = prefix();
    let mut server =
        Server::start_in_temp_dir("todo-kafka-restart", &server_env(&broker.addr, &prefix));
    let users = ["cat", "dan"];
    let tokens: Vec<String> = users.iter().map(|u| server.token(u)).collect();
    for n in 0..3 {
        for (user, token) in users.iter().zip(&tokens) {
            create(&server, user, token, n);
        }
    }
    // Let these go out to the old broker: they are lost with it.
    std::thread::sleep(Duration::from_millis(500));
    broker.kill();
    let mut want: HashMap<String, Vec<i64>> = HashMap::new();
    for n in 3..13 {
        for (user, token) in users.iter().zip(&tokens) {
            let id = create(&server, user, token, n);
            want.entry((*user).to_owned()).or_default().push(id);
        }
    }
    // The relay fails against the missing broker for a while.
    std::thread::sleep(Duration::from_secs(1));
    let port = broker.port;
    drop(broker);
    let broker = Broker::start_on(port);
    // The memory broker comes back without topics. tansu then answers metadata requests for the
    // topics the clients knew with a nameless entry, on which librdkafka 2.12 crashes (a NULL
    // topic name in rd_kafka_metadata_cache_find: found with gdb); a real Kafka keeps its topics
    // across a restart. So the test puts the topics back at once, as an operator's provisioning
    // would; the relay's own re-creation after a failed publish stays the fallback.
    support::run(todo_events::kafka::ensure_topics(&kafka_cfg(
        &broker.addr,
        &prefix,
    )))
    .unwrap();
    expect_created(&mut server, &broker.addr, &prefix, &want, true);
}

#[test]
fn a_server_killed_mid_relay_loses_nothing() {
    if brokers().is_none() {
        return;
    }
    let broker = Broker::start();
    let prefix = prefix();
    let env = server_env(&broker.addr, &prefix);
    let dir = temp_dir("todo-kafka-kill");
    let mut server = Server::start_with(&dir, &env);
    let users = ["eve", "fay", "gus", "hal"];
    let created = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = users
        .iter()
        .map(|user| {
            let user = (*user).to_owned();
            let token = server.token(&user);
            let url = format!("{}/api/v1/{user}/tasks", server.base);
            let created = Arc::clone(&created);
            std::thread::spawn(move || {
                let mut ids = Vec::new();
                for n in 0..50 {
                    // Requests fail once the server is killed: the writer stops there.
                    let Ok(mut r) = agent()
                        .post(&url)
                        .header("Authorization", &format!("Bearer {token}"))
                        .send_json(json!({"title": format!("Task {n}")}))
                    else {
                        break;
                    };
                    assert_eq!(r.status().as_u16(), 201, "creating task {n} of {user}");
                    let body: serde_json::Value = r.body_mut().read_json().unwrap();
                    ids.push(body["id"].as_i64().unwrap());
                    created.fetch_add(1, Ordering::SeqCst);
                }
                (user, ids)
            })
        })
        .collect();
    // Kill it in the middle of the writes: the relay is busy with the latest commits.
    let deadline = Instant::now() + Duration::from_secs(20);
    while created.load(Ordering::SeqCst) < 120 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    server.kill();
    let want: HashMap<String, Vec<i64>> = writers.into_iter().map(|w| w.join().unwrap()).collect();
    let total: usize = want.values().map(Vec::len).sum();
    eprintln!("{total} tasks created before the kill");
    assert!(total >= 120, "only {total} tasks were created");
    let mut server = Server::start_with(&dir, &env);
    expect_created(&mut server, &broker.addr, &prefix, &want, false);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}
