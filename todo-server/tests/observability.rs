//! Observability and protection of the HTTP layer: `/metrics` (route templates, never raw ids;
//! outbox depth and delivered events from the event bus; build info), the per-user rate limit
//! (429 `RATE_LIMITED` with `Retry-After`, other users unaffected, 0 = off, probes not limited)
//! and the JSON access log line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support_http;

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::json;
use support_http::{FailingStore, SECRET, TestApp, t0};
use todo_core::ids::UserId;
use todo_core::memory::MemoryStore;
use todo_core::ports::{ManualClock, SequentialIds, Store};
use todo_core::service::TaskService;
use todo_server::bus::EventBus;
use todo_server::http::{AppState, AppStore, AuthConfig, Metrics, router};
use tower::ServiceExt;

/// An app over `store` with the given rate limit and metrics.
fn app_on<S: AppStore>(store: S, rate_limit: u32, metrics: Metrics) -> TestApp<S> {
    let clock = Arc::new(ManualClock::new(t0()));
    let service = Arc::new(TaskService::new(
        store,
        Arc::clone(&clock),
        SequentialIds::new(),
    ));
    let state = AppState::new(Arc::clone(&service), AuthConfig::new(SECRET.to_vec()))
        .with_metrics(metrics)
        .with_rate_limit(rate_limit);
    TestApp::in_process(router(state), service, clock)
}

fn app_limited(rate_limit: u32) -> TestApp<MemoryStore> {
    app_on(MemoryStore::new(), rate_limit, Metrics::new())
}

/// `GET /metrics` without a token: status, content type and the text.
async fn scrape<S: Store + 'static>(app: &TestApp<S>) -> String {
    let req = Request::get("/metrics").body(Body::empty()).unwrap();
    let resp = app.router().clone().oneshot(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// The value of the series whose line starts with `series` (name and labels, exactly).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')?
            .trim()
            .parse()
            .ok()
    })
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_never_by_raw_path() {
    let app = app_limited(0);
    let task = app
        .create_task("alice", json!({"title": "secret-title-7"}))
        .await;
    let id = task["id"].as_i64().unwrap();
    for _ in 0..3 {
        app.call("GET", &format!("/api/v1/alice/tasks/{id}"), "alice", None)
            .await
            .ok(200);
    }
    app.call("GET", "/api/v1/alice/tasks/424242", "alice", None)
        .await
        .assert_error(404, "NOT_FOUND");
    app.call("GET", "/api/alice/tasks", "alice", None)
        .await
        .ok(200);
    app.call("GET", "/no/such/route/9876", "alice", None)
        .await
        .assert_error(404, "NOT_FOUND");
    app.call("BREW", "/api/v1/alice/tasks", "alice", None).await;

    let text = scrape(&app).await;
    let one = "route=\"/api/v1/{user_id}/tasks/{task_id}\"";
    assert_eq!(
        value(
            &text,
            &format!("http_requests_total{{method=\"GET\",{one},status=\"200\"}}")
        ),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            &format!("http_requests_total{{method=\"GET\",{one},status=\"404\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &text,
            "http_requests_total{method=\"POST\",route=\"/api/v1/{user_id}/tasks\",status=\"201\"}"
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &text,
            "http_requests_total{method=\"GET\",route=\"/api/{user_id}/tasks\",status=\"200\"}"
        ),
        Some(1.0),
        "the legacy prefix is its own template"
    );
    assert_eq!(
        value(
            &text,
            "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"}"
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains("method=\"OTHER\""),
        "odd methods are folded: {text}"
    );
    assert_eq!(
        value(
            &text,
            &format!("http_request_duration_seconds_count{{method=\"GET\",{one},status=\"200\"}}")
        ),
        Some(3.0)
    );
    assert!(text.contains("# TYPE http_request_duration_seconds histogram"));
    for raw in ["alice", "424242", "9876", "BREW", "secret-title"] {
        let leaked: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| Some(&l[l.find('{')?..=l.rfind('}')?]))
            .filter(|labels| labels.contains(raw))
            .collect();
        assert!(leaked.is_empty(), "{raw:?} in a label: {leaked:?}");
    }
    let id_label = format!("/{id}");
    assert!(
        !text.lines().any(|l| l.contains(&id_label)),
        "no raw task id in a label"
    );
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        value(
            &text,
            &format!("todo_build_info{{name=\"todo-server\",version=\"{version}\"}}")
        ),
        Some(1.0),
        "{text}"
    );
    // The scrape itself is counted on its own route, once the next scrape looks.
    let again = scrape(&app).await;
    assert_eq!(
        value(
            &again,
            "http_requests_total{method=\"GET\",route=\"/metrics\",status=\"200\"}"
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn apps_in_one_process_keep_their_own_metrics() {
    let a = app_limited(0);
    let b = app_limited(0);
    a.call("GET", "/api/v1/alice/tasks", "alice", None)
        .await
        .ok(200);
    let text_b = scrape(&b).await;
    assert!(
        !text_b.contains("route=\"/api/v1/{user_id}/tasks\""),
        "{text_b}"
    );
    let text_a = scrape(&a).await;
    assert_eq!(
        value(
            &text_a,
            "http_requests_total{method=\"GET\",route=\"/api/v1/{user_id}/tasks\",status=\"200\"}"
        ),
        Some(1.0)
    );
}

#[tokio::test]
async fn outbox_depth_shows_a_stuck_outbox_and_goes_to_zero_after_the_bus_drains() {
    let store = FailingStore::default();
    let bus = EventBus::new();
    let metrics = Metrics::new();
    metrics.register_bus(&bus).unwrap();
    assert!(metrics.register_bus(&bus).is_err(), "registered once");
    let app = app_on(store.clone(), 0, metrics);

    let text = scrape(&app).await;
    assert_eq!(value(&text, "todo_outbox_depth"), Some(0.0), "{text}");
    assert_eq!(value(&text, "todo_events_delivered_total"), Some(0.0));

    for t in ["a", "b", "c"] {
        app.create_task("alice", json!({ "title": t })).await;
    }
    let waiting = store.inner.undelivered_events(1000).await.unwrap().len();
    assert!(waiting >= 3, "every create records events: {waiting}");

    store.stuck_outbox.store(true, Ordering::SeqCst);
    assert!(bus.drain_once(&store, &bus).await.is_err());
    let text = scrape(&app).await;
    assert_eq!(
        value(&text, "todo_outbox_depth"),
        Some(waiting as f64),
        "a stuck outbox shows: {text}"
    );
    assert_eq!(value(&text, "todo_events_delivered_total"), Some(0.0));
    // The events were made at the service clock's t0 (2026-02-15): they have waited since.
    assert!(
        value(&text, "todo_relay_lag_seconds").unwrap() > 86_400.0,
        "the oldest event's age: {text}"
    );

    store.stuck_outbox.store(false, Ordering::SeqCst);
    assert_eq!(bus.drain_once(&store, &bus).await.unwrap(), waiting);
    let text = scrape(&app).await;
    assert_eq!(value(&text, "todo_outbox_depth"), Some(0.0), "{text}");
    assert_eq!(value(&text, "todo_relay_lag_seconds"), Some(0.0), "{text}");
    assert_eq!(
        value(&text, "todo_events_delivered_total"),
        Some(waiting as f64)
    );
    assert!(text.contains("# TYPE todo_outbox_depth gauge"));
    assert!(text.contains("# TYPE todo_events_delivered_total counter"));
}

#[tokio::test]
async fn the_request_over_the_limit_is_429_with_retry_after_and_other_users_are_unaffected() {
    let app = app_limited(3);
    for _ in 0..3 {
        app.call("GET", "/api/v1/alice/tasks", "alice", None)
            .await
            .ok(200);
    }
    let r = app
        .call(
            "POST",
            "/api/v1/alice/tasks",
            "alice",
            Some(json!({"title": "x"})),
        )
        .await;
    let details = r.assert_error(429, "RATE_LIMITED").clone();
    let retry: u64 = r.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "one request per 20 s: {retry}");
    assert_eq!(details["limit_per_minute"], 3);
    assert_eq!(details["retry_after_secs"], retry);
    assert_eq!(
        app.service()
            .store()
            .undelivered_events(100)
            .await
            .unwrap()
            .len(),
        0,
        "the limited request did nothing"
    );
    // The legacy prefix shares the user's budget.
    app.call("GET", "/api/alice/tasks", "alice", None)
        .await
        .assert_error(429, "RATE_LIMITED");

    // Another user has a budget of their own.
    for _ in 0..3 {
        app.call("GET", "/api/v1/bob/tasks", "bob", None)
            .await
            .ok(200);
    }
    app.call("GET", "/api/v1/bob/tasks", "bob", None)
        .await
        .assert_error(429, "RATE_LIMITED");

    // Probes and metrics are not limited, even with a limited user's token.
    for _ in 0..5 {
        app.call("GET", "/healthz", "alice", None).await.ok(200);
        app.call("GET", "/readyz", "alice", None).await.ok(200);
    }
    let text = scrape(&app).await;
    assert_eq!(
        value(
            &text,
            "http_requests_total{method=\"POST\",route=\"/api/v1/{user_id}/tasks\",status=\"429\"}"
        ),
        Some(1.0),
        "429s are counted: {text}"
    );

    // A request without a valid token is not counted against anyone: it is 401.
    let req = Request::get("/api/v1/carol/tasks")
        .header("authorization", "Bearer not-a-token")
        .body(Body::empty())
        .unwrap();
    app.send(req).await.assert_error(401, "UNAUTHORIZED");
    // A token signed with another secret naming alice is not alice.
    let forged = todo_server::http::issue_token(
        b"another-secret-another-secret-xx",
        &UserId::parse("alice").unwrap(),
        std::time::Duration::from_secs(60),
    )
    .unwrap();
    let req = Request::get("/api/v1/alice/tasks")
        .header("authorization", format!("Bearer {forged}"))
        .body(Body::empty())
        .unwrap();
    app.send(req).await.assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn a_limit_of_zero_turns_limiting_off() {
    let app = app_limited(0);
    for _ in 0..150 {
        app.call("GET", "/api/v1/alice/tasks", "alice", None)
            .await
            .ok(200);
    }
}

#[tokio::test]
async fn the_default_state_is_not_limited() {
    let app = support_http::app();
    for _ in 0..120 {
        app.call("GET", "/api/v1/alice/tasks", "alice", None)
            .await
            .ok(200);
    }
}
