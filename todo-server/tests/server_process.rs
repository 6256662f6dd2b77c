//! Black-box: the real `todo-server` binary, started the way a user starts it (no
//! configuration but a free port and a fresh working directory), answers over real HTTP, mints
//! tokens, keeps its generated secret, and stops gracefully on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod support;

use support::server::{Server, temp_dir};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

#[test]
fn embedded_default_serves_and_stops_gracefully() {
    let dir = temp_dir("todo-proc");
    let server = Server::start(&dir);
    assert!(
        dir.join("todo.db").exists(),
        "the SQLite file is in the working directory"
    );
    assert!(
        dir.join("todo.db.jwt-secret").exists(),
        "the generated secret is kept beside it"
    );
    let a = agent();
    let token = server.token("alice");
    let auth = format!("Bearer {token}");

    let r = a.get(format!("{}/healthz", server.base)).call().unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers().contains_key("x-request-id"));
    let ready: Value = a
        .get(format!("{}/readyz", server.base))
        .call()
        .unwrap()
        .body_mut()
        .read_json()
        .unwrap();
    assert_eq!(ready["database"], "ok");

    let mut r = a
        .post(format!("{}/api/v1/alice/tasks", server.base))
        .header("Authorization", &auth)
        .send_json(json!({"title": "Standup", "due_datetime": "2030-01-02T09:00:00Z", "recurrence_pattern": "daily"}))
        .unwrap();
    assert_eq!(r.status(), 201);
    let task: Value = r.body_mut().read_json().unwrap();
    let id = task["id"].as_i64().unwrap();

    let mut r = a
        .patch(format!("{}/api/alice/tasks/{id}/complete", server.base))
        .header("Authorization", &auth)
        .send_empty()
        .unwrap();
    assert_eq!(r.status(), 200);
    let done: Value = r.body_mut().read_json().unwrap();
    assert_eq!(done["completed"], true);
    let next = done["next_task_id"].as_i64().unwrap();

    let mut r = a
        .get(format!("{}/api/v1/alice/tasks?status=pending", server.base))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    let page: Value = r.body_mut().read_json().unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["tasks"][0]["id"], next);
    assert_eq!(page["tasks"][0]["due_datetime"], "2030-01-03T09:00:00Z");

    // Another user's token on alice's path: 403 in the error format.
    let bob = format!("Bearer {}", server.token("bob"));
    let mut r = a
        .get(format!("{}/api/v1/alice/tasks", server.base))
        .header("Authorization", &bob)
        .call()
        .unwrap();
    assert_eq!(r.status(), 403);
    let err: Value = r.body_mut().read_json().unwrap();
    assert_eq!(err["error"]["code"], "FORBIDDEN");

    // The binary's /metrics: request counters by route template, and the event bus's
    // outbox depth and delivered events (the bus drains in the background).
    let deadline = Instant::now() + Duration::from_secs(10);
    let metrics = loop {
        let text = a
            .get(format!("{}/metrics", server.base))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        let drained = text.lines().any(|l| l == "todo_outbox_depth 0")
            && text
                .lines()
                .any(|l| l.starts_with("todo_events_delivered_total ") && !l.ends_with(" 0"));
        if drained || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(metrics.contains("todo_outbox_depth 0"), "{metrics}");
    assert!(
        metrics.contains(
            "http_requests_total{method=\"POST\",route=\"/api/v1/{user_id}/tasks\",status=\"201\"} 1"
        ),
        "{metrics}"
    );
    assert!(
        !metrics.contains("todo_events_delivered_total 0"),
        "{metrics}"
    );

    let status = server.stop();
    assert!(status.success(), "graceful stop exits 0, got {status:?}");

    // The data and the secret survive a restart: the old token still works.
    let server = Server::start(&dir);
    let mut r = agent()
        .get(format!("{}/api/v1/alice/tasks", server.base))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    assert_eq!(r.status(), 200);
    let page: Value = r.body_mut().read_json().unwrap();
    assert_eq!(page["total"], 2);
    assert!(server.stop().success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn postgres_concurrent_completions_over_http_create_one_instance() {
    let Some(_) = support::pg_url() else { return };
    let url = support::run(support::fresh_pg_database());
    let dir = temp_dir("todo-proc-pg");
    let secret = "a-test-secret-that-is-long-enough-0123456789";
    let server = Server::start_with(&dir, &[("DATABASE_URL", &url), ("TODO_JWT_SECRET", secret)]);
    assert!(
        !dir.join("todo.db").exists(),
        "PostgreSQL, not the embedded default"
    );
    let auth = format!("Bearer {}", server.token("carol"));
    let mut r = agent()
        .post(format!("{}/api/v1/carol/tasks", server.base))
        .header("Authorization", &auth)
        .send_json(json!({"title": "Backup", "due_datetime": "2030-01-02T09:00:00Z", "rrule": "FREQ=WEEKLY;BYDAY=MO,WE"}))
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.body_mut().read_json::<Value>().unwrap()["id"]
        .as_i64()
        .unwrap();

    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (base, auth) = (server.base.clone(), auth.clone());
            std::thread::spawn(move || {
                agent()
                    .patch(format!("{base}/api/v1/carol/tasks/{id}/complete"))
                    .header("Authorization", &auth)
                    .send_json(json!({"completed": true}))
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    let mut r = agent()
        .get(format!("{}/api/v1/carol/tasks?sort_order=asc", server.base))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    let page: Value = r.body_mut().read_json().unwrap();
    assert_eq!(page["total"], 2, "exactly one next instance: {page}");
    assert_eq!(page["tasks"][1]["parent_task_id"], id);
    assert_eq!(page["tasks"][1]["due_datetime"], "2030-01-07T09:00:00Z");
    let mut r = agent()
        .get(format!(
            "{}/api/v1/carol/activity-logs?limit=100",
            server.base
        ))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    let log: Value = r.body_mut().read_json().unwrap();
    let completed = log["activity_logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "task-completed")
        .count();
    assert_eq!(completed, 1);
    assert!(server.stop().success());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn switched_off_features_are_refused_clearly() {
    let server = Server::start_in_temp_dir(
        "todo-features",
        &[
            ("TODO_FEATURE_REMINDERS", "false"),
            ("TODO_FEATURE_REALTIME", "false"),
            ("TODO_FEATURE_RECURRING", "false"),
        ],
    );
    let auth = format!("Bearer {}", server.token("ann"));
    let post = |path: &str, body: serde_json::Value| {
        let mut r = agent()
            .post(format!("{}{path}", server.base))
            .header("Authorization", &auth)
            .send_json(body)
            .unwrap();
        (
            r.status().as_u16(),
            r.body_mut().read_json::<serde_json::Value>().unwrap(),
        )
    };
    let (status, body) = post(
        "/api/v1/ann/tasks",
        serde_json::json!({"title": "standup", "recurrence_pattern": "daily", "due_datetime": "2099-01-01T09:00:00Z"}),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["details"]["field"], "recurrence_pattern");
    let (status, task) = post("/api/v1/ann/tasks", serde_json::json!({"title": "plain"}));
    assert_eq!(status, 201, "{task}");
    let (status, body) = post(
        &format!("/api/v1/ann/tasks/{}/reminder", task["id"]),
        serde_json::json!({"reminder_time": "2098-01-01T09:00:00Z", "reminder_type": "custom"}),
    );
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"]["code"], "NOT_FOUND");
    let r = agent()
        .get(format!("{}/api/v1/ann/events", server.base))
        .header("Authorization", &auth)
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 503, "real time is off");
}

#[test]
fn sigterm_stops_the_server_with_an_event_stream_open() {
    use std::io::{Read, Write};
    let server = Server::start_in_temp_dir("todo-sse-stop", &[]);
    let token = server.token("ann");
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = std::net::TcpStream::connect(&addr).unwrap();
    write!(
        stream,
        "GET /api/v1/ann/events HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut head = [0u8; 64];
    let n = stream.read(&mut head).unwrap();
    assert!(
        String::from_utf8_lossy(&head[..n]).starts_with("HTTP/1.1 200"),
        "the stream is open"
    );
    // The stream stays open while the server stops: it ends it instead of waiting for it.
    let status = server.stop();
    assert!(status.success(), "{status}");
}
