//! `Idempotency-Key` on POST, in-process over the in-memory store with a manual clock: replays
//! byte for byte, mismatches, invalid keys, keys per user, stored errors, released keys after a
//! 5xx, in-progress keys, the TTL, and the OpenAPI document. (The abuse suite runs the same
//! against the real binary on SQLite and PostgreSQL, concurrently.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support_http;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use support_http::{FailingStore, TestApp, app, app_with, token};
use todo_core::error::StoreError;
use todo_core::ids::UserId;
use todo_core::ports::Clock as _;
use todo_core::ports::{
    DEFAULT_IDEMPOTENCY_TTL, IDEMPOTENCY_LOCK_TIMEOUT, IdempotencyClaim, IdempotencyKey,
    IdempotencyStore, Store,
};
use todo_core::query::TaskQuery;
use tower::ServiceExt;

/// A raw answer: status, headers, body bytes.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Raw {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    fn replayed(&self) -> bool {
        self.headers
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true")
    }
}

async fn post<S>(app: &TestApp<S>, user: &str, path: &str, key: Option<&str>, body: &Value) -> Raw {
    let mut b = Request::post(path)
        .header("authorization", format!("Bearer {}", token(user)))
        .header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("idempotency-key", k);
    }
    let req = b
        .body(Body::from(serde_json::to_vec(body).unwrap()))
        .unwrap();
    let resp = app.router().clone().oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    Raw {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes().to_vec(),
    }
}

async fn task_count<S: Store>(app: &TestApp<S>, user: &str) -> u64 {
    app.service()
        .store()
        .list_tasks(&UserId::parse(user).unwrap(), &TaskQuery::default())
        .await
        .unwrap()
        .total
}

fn error_field(r: &Raw) -> String {
    r.json()["error"]["details"]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_byte_for_byte_and_creates_nothing() {
    let app = app();
    let body = json!({"title": "Pay rent", "priority": "High"});
    let first = post(&app, "alice", "/api/v1/alice/tasks", Some("k-1"), &body).await;
    assert_eq!(first.status, 201);
    assert!(!first.replayed());
    for _ in 0..5 {
        let again = post(&app, "alice", "/api/v1/alice/tasks", Some("k-1"), &body).await;
        assert_eq!(again.status, 201);
        assert!(again.replayed());
        assert_eq!(again.body, first.body, "byte for byte");
        assert_eq!(
            again.headers.get("content-type"),
            first.headers.get("content-type")
        );
        assert_ne!(
            again.headers.get("x-request-id"),
            first.headers.get("x-request-id"),
            "the retry has its own request id"
        );
    }
    assert_eq!(task_count(&app, "alice").await, 1);
    assert_eq!(app.activity_total("alice").await, 1);

    // Without a key, or with another, a POST runs.
    post(&app, "alice", "/api/v1/alice/tasks", None, &body).await;
    post(&app, "alice", "/api/v1/alice/tasks", None, &body).await;
    post(&app, "alice", "/api/v1/alice/tasks", Some("k-2"), &body).await;
    assert_eq!(task_count(&app, "alice").await, 4);
}

#[tokio::test]
async fn every_post_of_a_user_takes_a_key() {
    let app = app();
    let tag = post(
        &app,
        "alice",
        "/api/v1/alice/tags",
        Some("t"),
        &json!({"name": "work"}),
    )
    .await;
    assert_eq!(tag.status, 201);
    let again = post(
        &app,
        "alice",
        "/api/v1/alice/tags",
        Some("t"),
        &json!({"name": "work"}),
    )
    .await;
    assert!(
        again.replayed(),
        "not 409 for a name taken by the first request"
    );
    assert_eq!((again.status, &again.body), (tag.status, &tag.body));
    let tag_id = tag.json()["id"].as_i64().unwrap();

    let task = post(
        &app,
        "alice",
        "/api/alice/tasks",
        Some("t"),
        &json!({"title": "x"}),
    )
    .await;
    assert_eq!(
        task.status, 422,
        "the same key on another path is a mismatch"
    );
    let task = post(
        &app,
        "alice",
        "/api/alice/tasks",
        Some("task"),
        &json!({"title": "x"}),
    )
    .await;
    assert_eq!(task.status, 201, "the older prefix takes keys too");
    let id = task.json()["id"].as_i64().unwrap();

    let path = format!("/api/v1/alice/tasks/{id}/tags");
    let attach = post(&app, "alice", &path, Some("a"), &json!({"tag_id": tag_id})).await;
    assert_eq!(attach.status, 201);
    let again = post(&app, "alice", &path, Some("a"), &json!({"tag_id": tag_id})).await;
    assert!(again.replayed(), "not 409 already attached");
    assert_eq!((again.status, &again.body), (attach.status, &attach.body));

    let path = format!("/api/v1/alice/tasks/{id}/reminder");
    let body = json!({"reminder_time": "2026-03-01T09:00:00Z", "reminder_type": "custom"});
    let set = post(&app, "alice", &path, Some("r"), &body).await;
    assert_eq!(set.status, 201);
    let again = post(&app, "alice", &path, Some("r"), &body).await;
    assert!(again.replayed());
    assert_eq!(again.body, set.body, "the same reminder, not a replacement");
}

#[tokio::test]
async fn the_same_key_with_another_request_is_refused() {
    let app = app();
    let path = "/api/v1/alice/tasks";
    let first = post(&app, "alice", path, Some("k"), &json!({"title": "one"})).await;
    assert_eq!(first.status, 201);
    let other = post(&app, "alice", path, Some("k"), &json!({"title": "two"})).await;
    assert_eq!(other.status, 422);
    assert_eq!(other.json()["error"]["code"], "VALIDATION_ERROR");
    assert_eq!(error_field(&other), "Idempotency-Key");
    assert!(!other.replayed());
    let query = post(
        &app,
        "alice",
        "/api/v1/alice/tasks?x=1",
        Some("k"),
        &json!({"title": "one"}),
    )
    .await;
    assert_eq!(query.status, 422, "the query is part of the request");
    assert_eq!(task_count(&app, "alice").await, 1);
}

#[tokio::test]
async fn keys_must_be_1_to_255_visible_ascii_characters() {
    let app = app();
    let body = json!({"title": "x"});
    let long = "k".repeat(256);
    for bad in ["", "has space", "tab\there", long.as_str()] {
        let r = post(&app, "alice", "/api/v1/alice/tasks", Some(bad), &body).await;
        assert_eq!(r.status, 400, "{bad:?}");
        assert_eq!(r.json()["error"]["code"], "VALIDATION_ERROR");
        assert_eq!(error_field(&r), "Idempotency-Key", "{bad:?}");
    }
    let non_ascii = Request::post("/api/v1/alice/tasks")
        .header("authorization", format!("Bearer {}", token("alice")))
        .header("content-type", "application/json")
        .header(
            "idempotency-key",
            axum::http::HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap(),
        )
        .body(Body::from(r#"{"title":"x"}"#))
        .unwrap();
    app.send(non_ascii)
        .await
        .assert_error(400, "VALIDATION_ERROR");
    let twice = Request::post("/api/v1/alice/tasks")
        .header("authorization", format!("Bearer {}", token("alice")))
        .header("content-type", "application/json")
        .header("idempotency-key", "a")
        .header("idempotency-key", "b")
        .body(Body::from(r#"{"title":"x"}"#))
        .unwrap();
    app.send(twice).await.assert_error(400, "VALIDATION_ERROR");
    assert_eq!(task_count(&app, "alice").await, 0);

    let longest = "~".repeat(255);
    let ok = post(&app, "alice", "/api/v1/alice/tasks", Some(&longest), &body).await;
    assert_eq!(ok.status, 201);
    // Without a token: 401 before the key is looked at; another user's path: 403.
    let anon = Request::post("/api/v1/alice/tasks")
        .header("content-type", "application/json")
        .header("idempotency-key", "")
        .body(Body::from(r#"{"title":"x"}"#))
        .unwrap();
    app.send(anon).await.assert_error(401, "UNAUTHORIZED");
    let r = post(&app, "alice", "/api/v1/bob/tasks", Some("k"), &body).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn keys_are_per_user() {
    let app = app();
    let body = json!({"title": "same"});
    let a = post(&app, "alice", "/api/v1/alice/tasks", Some("shared"), &body).await;
    let b = post(&app, "bob", "/api/v1/bob/tasks", Some("shared"), &body).await;
    assert_eq!(
        (a.status, b.status),
        (StatusCode::CREATED, StatusCode::CREATED)
    );
    assert!(!b.replayed(), "bob's key is his own");
    assert_eq!(b.json()["user_id"], "bob");
    assert_eq!(task_count(&app, "alice").await, 1);
    assert_eq!(task_count(&app, "bob").await, 1);
}

#[tokio::test]
async fn client_errors_are_stored_rendered_and_other_answers_release_the_key() {
    let app = app();
    let path = "/api/v1/alice/tasks";
    let bad = post(&app, "alice", path, Some("e"), &json!({"title": ""})).await;
    assert_eq!(bad.status, 400);
    let id = bad.json()["error"]["request_id"].clone();
    assert!(id.is_string(), "the stored error is the rendered one: {id}");
    let again = post(&app, "alice", path, Some("e"), &json!({"title": ""})).await;
    assert!(again.replayed());
    assert_eq!(
        again.body, bad.body,
        "the first request's id and time, byte for byte"
    );

    // A name taken: 409 is not stored (it asks for a retry), the key stays free.
    post(
        &app,
        "alice",
        "/api/v1/alice/tags",
        None,
        &json!({"name": "dup"}),
    )
    .await;
    let taken = post(
        &app,
        "alice",
        "/api/v1/alice/tags",
        Some("c"),
        &json!({"name": "dup"}),
    )
    .await;
    assert_eq!(taken.status, 409);
    let retry = post(
        &app,
        "alice",
        "/api/v1/alice/tags",
        Some("c"),
        &json!({"name": "dup"}),
    )
    .await;
    assert_eq!(retry.status, 409);
    assert!(!retry.replayed());
}

#[tokio::test]
async fn a_5xx_releases_the_key_so_that_a_retry_runs() {
    let store = FailingStore::default();
    let app = app_with(store.clone(), 64 * 1024);
    let body = json!({"title": "while the database is down"});
    *store.fail.lock().unwrap() = Some(StoreError::Unavailable("down (test)".into()));
    let down = post(&app, "alice", "/api/v1/alice/tasks", Some("k"), &body).await;
    assert_eq!(down.status, 503);
    *store.fail.lock().unwrap() = None;
    let up = post(&app, "alice", "/api/v1/alice/tasks", Some("k"), &body).await;
    assert_eq!(up.status, 201);
    assert!(!up.replayed(), "the retry ran");
    let again = post(&app, "alice", "/api/v1/alice/tasks", Some("k"), &body).await;
    assert!(again.replayed());
    assert_eq!(task_count(&app, "alice").await, 1);
}

#[tokio::test]
async fn a_retry_while_the_first_runs_gets_409_until_the_lock_timeout() {
    let app = app();
    let path = "/api/v1/alice/tasks";
    let body = json!({"title": "slow"});
    // The first request's claim, as the layer makes it, held by a request that never ends.
    let print = todo_server::http::idempotency::fingerprint(
        &axum::http::Method::POST,
        &path.parse().unwrap(),
        &serde_json::to_vec(&body).unwrap(),
    );
    let (alice, key) = (
        UserId::parse("alice").unwrap(),
        IdempotencyKey::parse("k").unwrap(),
    );
    let now = app.clock().now();
    let claim = app
        .service()
        .store()
        .begin_idempotent(&alice, &key, &print, now, DEFAULT_IDEMPOTENCY_TTL)
        .await
        .unwrap();
    assert_eq!(claim, IdempotencyClaim::Started);
    let busy = post(&app, "alice", path, Some("k"), &body).await;
    assert_eq!(busy.status, 409);
    assert_eq!(busy.json()["error"]["code"], "CONFLICT");
    assert_eq!(busy.headers.get("retry-after").unwrap(), "1");
    let other = post(&app, "alice", path, Some("k"), &json!({"title": "other"})).await;
    assert_eq!(
        other.status, 422,
        "another request with the key is a mismatch even now"
    );
    assert_eq!(task_count(&app, "alice").await, 0);

    // The process that held it died: after the lock timeout a retry takes the key over.
    app.clock()
        .advance(IDEMPOTENCY_LOCK_TIMEOUT + chrono::Duration::seconds(1));
    let taken = post(&app, "alice", path, Some("k"), &body).await;
    assert_eq!(taken.status, 201);
    assert_eq!(task_count(&app, "alice").await, 1);
}

#[tokio::test]
async fn a_key_is_kept_for_the_ttl() {
    let app = app();
    let path = "/api/v1/alice/tasks";
    let body = json!({"title": "daily"});
    post(&app, "alice", path, Some("k"), &body).await;
    let clock = app.clock();
    clock.advance(DEFAULT_IDEMPOTENCY_TTL - chrono::Duration::seconds(1));
    assert!(post(&app, "alice", path, Some("k"), &body).await.replayed());
    clock.advance(chrono::Duration::seconds(2));
    let later = post(&app, "alice", path, Some("k"), &body).await;
    assert_eq!(later.status, 201);
    assert!(!later.replayed(), "an expired key is free again");
    assert_eq!(task_count(&app, "alice").await, 2);
}

#[tokio::test]
async fn other_methods_ignore_the_header() {
    let app = app();
    let task = app.create_task("alice", json!({"title": "x"})).await;
    let id = task["id"].as_i64().unwrap();
    for _ in 0..2 {
        let req = Request::put(format!("/api/v1/alice/tasks/{id}"))
            .header("authorization", format!("Bearer {}", token("alice")))
            .header("content-type", "application/json")
            .header("idempotency-key", "not looked at: PUT is idempotent")
            .body(Body::from(r#"{"priority":"Low"}"#))
            .unwrap();
        let r = app.send(req).await;
        assert_eq!(r.status, 200);
        assert!(r.headers.get("idempotent-replayed").is_none());
    }
}

#[tokio::test]
async fn the_document_declares_the_header_on_every_post() {
    let app = app();
    let r = app
        .send(Request::get("/openapi.json").body(Body::empty()).unwrap())
        .await;
    let doc = r.ok(200);
    let mut posts = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let Some(op) = item.get("post") else { continue };
        posts += 1;
        let header = op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["in"] == "header" && p["name"] == "Idempotency-Key")
            .unwrap_or_else(|| panic!("POST {path}: no Idempotency-Key"));
        assert_eq!(header["required"], false);
        assert_eq!(header["schema"]["maxLength"], 255);
        assert!(op["responses"]["201"]["headers"]["Idempotent-Replayed"].is_object());
        let conflict = op["responses"]["409"]["description"].as_str().unwrap();
        assert!(conflict.contains("Idempotency-Key"), "{path}: {conflict}");
    }
    assert_eq!(posts, 4, "tasks, tags of a task, reminder, tags");
}
