//! Conversation state over HTTP with the in-memory store: create, read with `ETag`, conditional
//! writes and deletes (`If-Match`), the list, isolation between users, the limits and the
//! 90-day retention.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support_http;

use axum::body::Body;
use axum::http::{Method, Request};
use chrono::Duration;
use serde_json::{Value, json};
use support_http::{Resp, TestApp, app, token};
use todo_core::memory::MemoryStore;

const A: &str = "alice";
const B: &str = "bob";

/// A request as `user` with an optional `If-Match` and an optional JSON body.
async fn req(
    app: &TestApp<MemoryStore>,
    method: &str,
    path: &str,
    user: &str,
    if_match: Option<&str>,
    body: Option<&Value>,
) -> Resp {
    let mut b = Request::builder()
        .method(Method::from_bytes(method.as_bytes()).unwrap())
        .uri(path)
        .header("authorization", format!("Bearer {}", token(user)));
    if let Some(tag) = if_match {
        b = b.header("if-match", tag);
    }
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            Body::from(serde_json::to_vec(v).unwrap())
        }
        None => Body::empty(),
    };
    app.send(b.body(body).unwrap()).await
}

fn etag(r: &Resp) -> String {
    r.headers["etag"].to_str().unwrap().to_owned()
}

const C1: &str = "/api/v1/alice/conversations/chat-1";

fn doc(n: i64) -> Value {
    json!({"messages": [{"role": "user", "content": format!("message {n}"), "timestamp": "2026-02-15T10:00:00Z"}], "n": n})
}

#[tokio::test]
async fn create_read_and_conditional_update() {
    let app = app();
    let r = req(&app, "GET", C1, A, None, None).await;
    let details = r.assert_error(404, "NOT_FOUND");
    assert_eq!(details["resource"], "conversation");

    let r = req(&app, "PUT", C1, A, None, Some(&doc(1))).await;
    let body = r.ok(200).clone();
    let e1 = etag(&r);
    assert!(
        e1.starts_with('"') && e1.ends_with('"') && e1.len() > 2,
        "{e1}"
    );
    assert_eq!(body["etag"], e1.as_str());
    assert_eq!(body["conversation_id"], "chat-1");
    assert_eq!(body["updated_at"], "2026-02-15T10:00:00Z");

    let r = req(&app, "GET", C1, A, None, None).await;
    assert_eq!(r.ok(200), &doc(1));
    assert_eq!(etag(&r), e1);
    // The alias answers too.
    let r = req(
        &app,
        "GET",
        "/api/alice/conversations/chat-1",
        A,
        None,
        None,
    )
    .await;
    assert_eq!(r.ok(200), &doc(1));

    // Conditional update with the current tag.
    let r = req(&app, "PUT", C1, A, Some(&e1), Some(&doc(2))).await;
    r.ok(200);
    let e2 = etag(&r);
    assert_ne!(e1, e2);
    // A stale tag: 412, nothing written.
    let r = req(&app, "PUT", C1, A, Some(&e1), Some(&doc(3))).await;
    r.assert_error(412, "PRECONDITION_FAILED");
    // Weak tags never match (strong comparison).
    let weak = format!("W/{e2}");
    let r = req(&app, "PUT", C1, A, Some(&weak), Some(&doc(3))).await;
    r.assert_error(412, "PRECONDITION_FAILED");
    let r = req(&app, "GET", C1, A, None, None).await;
    assert_eq!((r.ok(200), etag(&r)), (&doc(2), e2.clone()));

    // `*`: any existing document; none for a missing one.
    let r = req(&app, "PUT", C1, A, Some("*"), Some(&doc(4))).await;
    r.ok(200);
    let e4 = etag(&r);
    let r = req(
        &app,
        "PUT",
        "/api/v1/alice/conversations/new-one",
        A,
        Some("*"),
        Some(&doc(1)),
    )
    .await;
    r.assert_error(412, "PRECONDITION_FAILED");

    // Without If-Match: overwrite.
    let r = req(&app, "PUT", C1, A, None, Some(&doc(5))).await;
    r.ok(200);
    let e5 = etag(&r);
    assert_ne!(e4, e5);
    let r = req(&app, "GET", C1, A, None, None).await;
    assert_eq!((r.ok(200), etag(&r)), (&doc(5), e5));
}

#[tokio::test]
async fn delete_with_and_without_if_match() {
    let app = app();
    let r = req(&app, "PUT", C1, A, None, Some(&doc(1))).await;
    let e1 = etag(&r);
    let r = req(&app, "PUT", C1, A, None, Some(&doc(2))).await;
    let e2 = etag(&r);
    let r = req(&app, "DELETE", C1, A, Some(&e1), None).await;
    r.assert_error(412, "PRECONDITION_FAILED");
    let r = req(&app, "DELETE", C1, A, Some(&e2), None).await;
    assert_eq!(r.status.as_u16(), 204);
    assert_eq!(r.body, Value::Null);
    let r = req(&app, "GET", C1, A, None, None).await;
    r.assert_error(404, "NOT_FOUND");
    let r = req(&app, "DELETE", C1, A, None, None).await;
    r.assert_error(404, "NOT_FOUND");

    req(&app, "PUT", C1, A, None, Some(&doc(3))).await.ok(200);
    let r = req(&app, "DELETE", C1, A, None, None).await;
    assert_eq!(r.status.as_u16(), 204);
}

#[tokio::test]
async fn list_newest_first() {
    let app = app();
    let r = req(&app, "GET", "/api/v1/alice/conversations", A, None, None).await;
    assert_eq!(r.ok(200), &json!({"conversations": []}));
    for id in ["a", "b", "c"] {
        req(
            &app,
            "PUT",
            &format!("/api/v1/alice/conversations/{id}"),
            A,
            None,
            Some(&doc(1)),
        )
        .await
        .ok(200);
        app.clock().advance(Duration::minutes(1));
    }
    req(
        &app,
        "PUT",
        "/api/v1/alice/conversations/a",
        A,
        None,
        Some(&doc(2)),
    )
    .await
    .ok(200);
    let r = req(&app, "GET", "/api/v1/alice/conversations", A, None, None).await;
    assert_eq!(
        r.ok(200),
        &json!({"conversations": [
            {"conversation_id": "a", "updated_at": "2026-02-15T10:03:00Z"},
            {"conversation_id": "c", "updated_at": "2026-02-15T10:02:00Z"},
            {"conversation_id": "b", "updated_at": "2026-02-15T10:01:00Z"},
        ]})
    );
}

#[tokio::test]
async fn users_are_isolated() {
    let app = app();
    req(&app, "PUT", C1, A, None, Some(&doc(1))).await.ok(200);
    // Bob's token on Alice's path: 403, for every method.
    for method in ["GET", "PUT", "DELETE"] {
        let body = (method == "PUT").then(|| doc(9));
        let r = req(&app, method, C1, B, None, body.as_ref()).await;
        r.assert_error(403, "FORBIDDEN");
    }
    let r = req(&app, "GET", "/api/v1/alice/conversations", B, None, None).await;
    r.assert_error(403, "FORBIDDEN");
    // Bob's own namespace does not see Alice's conversation.
    let bob = "/api/v1/bob/conversations/chat-1";
    req(&app, "GET", bob, B, None, None)
        .await
        .assert_error(404, "NOT_FOUND");
    req(&app, "DELETE", bob, B, None, None)
        .await
        .assert_error(404, "NOT_FOUND");
    let r = req(&app, "GET", "/api/v1/bob/conversations", B, None, None).await;
    assert_eq!(r.ok(200), &json!({"conversations": []}));
    let r = req(&app, "GET", C1, A, None, None).await;
    assert_eq!(r.ok(200), &doc(1));
}

#[tokio::test]
async fn bad_input() {
    let app = app();
    // Too large: 413 (the limit is 256 KiB, above the default body limit of 64 KiB).
    let big = json!({"blob": "x".repeat(256 * 1024)});
    let r = req(&app, "PUT", C1, A, None, Some(&big)).await;
    r.assert_error(413, "PAYLOAD_TOO_LARGE");
    let fits = json!({"blob": "x".repeat(200 * 1024)});
    req(&app, "PUT", C1, A, None, Some(&fits)).await.ok(200);
    // Not an object: 422.
    for v in [json!([1, 2]), json!("text"), json!(3), json!(null)] {
        let r = req(&app, "PUT", C1, A, None, Some(&v)).await;
        let d = r.assert_error(422, "VALIDATION_ERROR");
        assert_eq!(d["field"], "body", "{v}");
    }
    // Malformed JSON: 400; no JSON content type: 415.
    let r = app
        .raw("PUT", C1, A, Some("application/json"), "{not json")
        .await;
    r.assert_error(400, "VALIDATION_ERROR");
    let r = app.raw("PUT", C1, A, Some("text/plain"), "{}").await;
    r.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    // Invalid ids: 400 naming the field.
    let long = "x".repeat(129);
    for bad in ["bad%20id", "a%2Fb", "caf%C3%A9", long.as_str()] {
        let path = format!("/api/v1/alice/conversations/{bad}");
        for method in ["GET", "DELETE"] {
            let r = req(&app, method, &path, A, None, None).await;
            let d = r.assert_error(400, "VALIDATION_ERROR");
            assert_eq!(d["field"], "conversation_id", "{method} {bad}");
        }
        let r = req(&app, "PUT", &path, A, None, Some(&doc(1))).await;
        let d = r.assert_error(400, "VALIDATION_ERROR");
        assert_eq!(d["field"], "conversation_id", "{bad}");
    }
    let ok = "A-z_0.9:x".to_owned() + &"y".repeat(119);
    assert_eq!(ok.len(), 128);
    req(
        &app,
        "PUT",
        &format!("/api/v1/alice/conversations/{ok}"),
        A,
        None,
        Some(&doc(1)),
    )
    .await
    .ok(200);
}

#[tokio::test]
async fn expired_documents_are_gone() {
    let app = app();
    let r = req(&app, "PUT", C1, A, None, Some(&doc(1))).await;
    let e1 = etag(&r);
    app.clock().advance(Duration::days(89));
    req(&app, "GET", C1, A, None, None).await.ok(200);
    app.clock().advance(Duration::days(2));
    req(&app, "GET", C1, A, None, None)
        .await
        .assert_error(404, "NOT_FOUND");
    let r = req(&app, "GET", "/api/v1/alice/conversations", A, None, None).await;
    assert_eq!(r.ok(200), &json!({"conversations": []}));
    req(&app, "PUT", C1, A, Some(&e1), Some(&doc(2)))
        .await
        .assert_error(412, "PRECONDITION_FAILED");
    // Written again, it lives another 90 days.
    req(&app, "PUT", C1, A, None, Some(&doc(3))).await.ok(200);
    let r = req(&app, "GET", C1, A, None, None).await;
    assert_eq!(r.ok(200), &doc(3));
}
