//! The access log: one JSON line per request with route, status, user and request id, and no
//! secrets. In a test binary of its own: tracing caches per-callsite interest process-wide, so
//! tests on other threads without a subscriber would make this one flaky.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support_http;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::Request;
use serde_json::Value;
use support_http::{SECRET, TestApp, t0, token};
use todo_core::memory::MemoryStore;
use todo_core::ports::{ManualClock, SequentialIds};
use todo_core::service::TaskService;
use todo_server::http::{AppState, AuthConfig, Metrics, router};

fn app_limited(rate_limit: u32) -> TestApp<MemoryStore> {
    let clock = Arc::new(ManualClock::new(t0()));
    let service = Arc::new(TaskService::new(
        MemoryStore::new(),
        Arc::clone(&clock),
        SequentialIds::new(),
    ));
    let state = AppState::new(Arc::clone(&service), AuthConfig::new(SECRET.to_vec()))
        .with_metrics(Metrics::new())
        .with_rate_limit(rate_limit);
    TestApp::in_process(router(state), service, clock)
}

/// A writer that collects what the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn one_json_log_line_per_request_with_route_status_user_and_request_id() {
    let out = Captured::default();
    let writer = out.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || writer.clone())
        .finish();
    // The test runtime is single-threaded: the default subscriber covers every await below.
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = app_limited(0);
    let tok = token("alice");
    let req = Request::get("/api/v1/alice/tasks/77")
        .header("authorization", format!("Bearer {tok}"))
        .header("x-request-id", "req-log-1")
        .body(Body::empty())
        .unwrap();
    app.send(req).await.assert_error(404, "NOT_FOUND");
    let req = Request::get("/healthz?token=sneaky")
        .header("x-request-id", "req-log-2")
        .body(Body::empty())
        .unwrap();
    app.send(req).await.ok(200);

    let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|v: &Value| v["target"] == "todo_server::access")
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    let f = &lines[0]["fields"];
    assert_eq!(f["method"], "GET");
    assert_eq!(f["route"], "/api/v1/{user_id}/tasks/{task_id}");
    assert_eq!(f["status"], 404);
    assert_eq!(f["request_id"], "req-log-1");
    assert_eq!(f["user_id"], "alice");
    assert!(f["latency_ms"].as_f64().unwrap() >= 0.0);
    let g = &lines[1]["fields"];
    assert_eq!(g["route"], "/healthz");
    assert_eq!(g["status"], 200);
    assert_eq!(g["request_id"], "req-log-2");
    assert!(g.get("user_id").is_none(), "no user without a token: {g}");
    assert!(!text.contains(&tok), "no token in the logs");
    assert!(!text.contains("sneaky"), "no query string in the logs");
    assert!(!text.contains("/tasks/77"), "no raw path in the logs");
}
