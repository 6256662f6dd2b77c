//! Shared helpers of the HTTP API tests: an app over the in-memory store (or a store that fails
//! on demand) called in-process, or a running server over real HTTP; tokens, and requests that
//! check the contract's invariants on every response.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode};
use chrono::{DateTime, TimeZone as _, Utc};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use todo_core::error::StoreError;
use todo_core::ids::ConversationId;
use todo_core::ids::{TagId, TaskId, UserId};
use todo_core::memory::{MemoryStore, MemoryTx};
use todo_core::model::{Reminder, Tag, Task};
use todo_core::ports::{
    ActivityPage, ConversationStore, DeleteOutcome, ManualClock, OutboxEntry, PutOutcome,
    SequentialIds, Store, StoredDoc, TagWithCount,
};
use todo_core::query::{Page, TaskQuery};
use todo_core::service::TaskService;
use todo_server::http::{AppState, AppStore, AuthConfig, issue_token, router};
use tower::ServiceExt;

/// The tests' JWT secret (the binary wants at least 32 characters).
pub const SECRET: &[u8] = b"test-secret-of-the-http-api-0123456789";

/// The service clock's start: 2026-02-15T10:00:00Z.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 2, 15, 10, 0, 0).unwrap()
}

/// A store that delegates to the in-memory store and fails with a chosen error when told to
/// (`fail`: every read and unit of work), and whose `mark_delivered` fails while
/// `stuck_outbox` is set (a stalled outbox).
#[derive(Clone, Default)]
pub struct FailingStore {
    pub inner: MemoryStore,
    pub fail: Arc<Mutex<Option<StoreError>>>,
    pub stuck_outbox: Arc<std::sync::atomic::AtomicBool>,
}

impl FailingStore {
    fn check(&self) -> Result<(), StoreError> {
        match self.fail.lock().unwrap().clone() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Store for FailingStore {
    type Tx = MemoryTx;

    async fn begin(&self) -> Result<MemoryTx, StoreError> {
        self.check()?;
        self.inner.begin().await
    }
    async fn task(&self, user: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        self.check()?;
        self.inner.task(user, id).await
    }
    async fn list_tasks(&self, user: &UserId, q: &TaskQuery) -> Result<Page<Task>, StoreError> {
        self.check()?;
        self.inner.list_tasks(user, q).await
    }
    async fn list_tags(&self, user: &UserId) -> Result<Vec<TagWithCount>, StoreError> {
        self.check()?;
        self.inner.list_tags(user).await
    }
    async fn tags(&self, user: &UserId, ids: &[TagId]) -> Result<Vec<Tag>, StoreError> {
        self.check()?;
        self.inner.tags(user, ids).await
    }
    async fn list_activity(
        &self,
        user: &UserId,
        limit: u32,
        offset: u64,
    ) -> Result<ActivityPage, StoreError> {
        self.check()?;
        self.inner.list_activity(user, limit, offset).await
    }
    async fn pending_reminders(
        &self,
        user: &UserId,
        tasks: &[TaskId],
    ) -> Result<Vec<Reminder>, StoreError> {
        self.check()?;
        self.inner.pending_reminders(user, tasks).await
    }
    async fn undelivered_events_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        self.inner.undelivered_events_after(after, limit).await
    }
    async fn user_events_after(
        &self,
        user: &UserId,
        after: todo_core::EventId,
        limit: u32,
    ) -> Result<Option<Vec<OutboxEntry>>, StoreError> {
        self.check()?;
        self.inner.user_events_after(user, after, limit).await
    }
    async fn prune_delivered_events(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.prune_delivered_events(before).await
    }
    async fn next_reminders(&self, limit: u32) -> Result<Vec<Reminder>, StoreError> {
        self.check()?;
        self.inner.next_reminders(limit).await
    }
    async fn mark_delivered(&self, seqs: &[u64]) -> Result<(), StoreError> {
        if self.stuck_outbox.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Unavailable("outbox stuck (test)".into()));
        }
        self.inner.mark_delivered(seqs).await
    }
    async fn park_event(
        &self,
        seq: u64,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        self.check()?;
        self.inner.park_event(seq, reason, at).await
    }
    async fn parked_events(
        &self,
        limit: u32,
    ) -> Result<Vec<todo_core::ports::ParkedEvent>, StoreError> {
        self.check()?;
        self.inner.parked_events(limit).await
    }
    async fn count_parked_events(&self) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.count_parked_events().await
    }
    async fn prune_parked_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.prune_parked_events(before).await
    }
}

impl ConversationStore for FailingStore {
    async fn get_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredDoc>, StoreError> {
        self.check()?;
        self.inner.get_conversation(user, id, now).await
    }
    async fn put_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        doc: &Value,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<PutOutcome, StoreError> {
        self.check()?;
        self.inner
            .put_conversation(user, id, doc, if_match, now)
            .await
    }
    async fn delete_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DeleteOutcome, StoreError> {
        self.check()?;
        self.inner
            .delete_conversation(user, id, if_match, now)
            .await
    }
    async fn list_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ConversationId, DateTime<Utc>)>, StoreError> {
        self.check()?;
        self.inner.list_conversations(user, now).await
    }
    async fn count_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.check()?;
        self.inner.count_conversations(user, now).await
    }
}

/// Idempotency keys never fail here: `fail` fails the request's own work, so that a test sees
/// what becomes of its key (released on a 5xx).
impl todo_core::ports::IdempotencyStore for FailingStore {
    async fn begin_idempotent(
        &self,
        user: &UserId,
        key: &todo_core::ports::IdempotencyKey,
        fingerprint: &todo_core::ports::RequestFingerprint,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<todo_core::ports::IdempotencyClaim, StoreError> {
        self.inner
            .begin_idempotent(user, key, fingerprint, now, ttl)
            .await
    }
    async fn complete_idempotent(
        &self,
        user: &UserId,
        key: &todo_core::ports::IdempotencyKey,
        claimed_at: DateTime<Utc>,
        response: &todo_core::ports::StoredResponse,
    ) -> Result<(), StoreError> {
        self.inner
            .complete_idempotent(user, key, claimed_at, response)
            .await
    }
    async fn release_idempotent(
        &self,
        user: &UserId,
        key: &todo_core::ports::IdempotencyKey,
        claimed_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.inner.release_idempotent(user, key, claimed_at).await
    }
    async fn prune_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.inner.prune_idempotency_keys(before).await
    }
}

pub type Service<S> = TaskService<S>;

/// Where a [`TestApp`] sends its requests.
pub enum Transport<S> {
    /// The router, called in-process, with its service kept for inspection and the service's
    /// manual clock.
    InProcess {
        router: Router,
        service: Arc<Service<S>>,
        clock: Arc<ManualClock>,
    },
    /// Real HTTP/1.1 to a server listening at `authority` (`host:port`); `_server` keeps it
    /// running (e.g. a spawned binary that stops when dropped).
    Http {
        authority: String,
        _server: Box<dyn std::any::Any + Send + Sync>,
    },
}

/// The API under test: the router in-process, or a server over real HTTP. Both answer the same
/// requests and get the same checks on every response.
pub struct TestApp<S = MemoryStore> {
    pub transport: Transport<S>,
}

/// A response, its JSON body parsed (`Null` when empty).
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Resp {
    /// Asserts the contract's error body with this status and code; returns `details`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        let e = &self.body["error"];
        assert_eq!(e["code"], code, "body: {}", self.body);
        assert!(e["message"].is_string(), "body: {}", self.body);
        assert!(e.get("details").is_some(), "body: {}", self.body);
        assert!(e["timestamp"].as_str().unwrap().ends_with('Z'));
        let rid = self.headers["x-request-id"].to_str().unwrap();
        assert_eq!(e["request_id"], rid, "request_id in body = header");
        assert_eq!(
            self.headers["content-type"].to_str().unwrap(),
            "application/json"
        );
        assert_eq!(
            self.body.as_object().unwrap().len(),
            1,
            "only the error key: {}",
            self.body
        );
        &e["details"]
    }

    #[track_caller]
    pub fn ok(&self, status: u16) -> &Value {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        &self.body
    }
}

pub fn app() -> TestApp<MemoryStore> {
    app_with(MemoryStore::new(), 64 * 1024)
}

pub fn app_with<S: AppStore>(store: S, body_limit: usize) -> TestApp<S> {
    let clock = Arc::new(ManualClock::new(t0()));
    let service = Arc::new(TaskService::new(
        store,
        Arc::clone(&clock),
        SequentialIds::new(),
    ));
    let state = AppState::new(Arc::clone(&service), AuthConfig::new(SECRET.to_vec()))
        .with_body_limit(body_limit);
    TestApp::in_process(router(state), service, clock)
}

/// One request over a fresh HTTP/1.1 connection to `authority`; the request's path and query
/// are sent as they are (origin form), the body streams as it comes (no `Content-Length`
/// unless the body's size is known).
async fn send_http(authority: &str, mut req: Request<Body>) -> (StatusCode, HeaderMap, Bytes) {
    let stream = tokio::net::TcpStream::connect(authority)
        .await
        .unwrap_or_else(|e| panic!("connect to {authority}: {e}"));
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    let conn = tokio::spawn(conn);
    req.headers_mut()
        .insert("host", HeaderValue::from_str(authority).unwrap());
    let resp = sender.send_request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    drop(sender);
    let _ = conn.await;
    (parts.status, parts.headers, bytes)
}

pub fn token(user: &str) -> String {
    issue_token(
        SECRET,
        &UserId::parse(user).unwrap(),
        Duration::from_secs(3600),
    )
    .unwrap()
}

impl<S> TestApp<S> {
    /// The router, called in-process; `clock` is the service's.
    pub fn in_process(
        router: Router,
        service: Arc<Service<S>>,
        clock: Arc<ManualClock>,
    ) -> TestApp<S> {
        TestApp {
            transport: Transport::InProcess {
                router,
                service,
                clock,
            },
        }
    }

    /// A server listening at `base` (`http://host:port`) over real HTTP, kept running by
    /// `server` as long as the app lives.
    pub fn over_http(base: &str, server: impl std::any::Any + Send + Sync) -> TestApp<S> {
        let authority = base
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("an http:// URL: {base}"))
            .trim_end_matches('/')
            .to_owned();
        TestApp {
            transport: Transport::Http {
                authority,
                _server: Box::new(server),
            },
        }
    }

    /// The router (in-process apps only).
    #[track_caller]
    pub fn router(&self) -> &Router {
        match &self.transport {
            Transport::InProcess { router, .. } => router,
            Transport::Http { .. } => panic!("no in-process router: the app runs over HTTP"),
        }
    }

    /// The service behind the router (in-process apps only).
    #[track_caller]
    pub fn service(&self) -> &Arc<Service<S>> {
        self.try_service()
            .expect("no in-process service: the app runs over HTTP")
    }

    /// The service behind the router, `None` over HTTP.
    pub fn try_service(&self) -> Option<&Arc<Service<S>>> {
        match &self.transport {
            Transport::InProcess { service, .. } => Some(service),
            Transport::Http { .. } => None,
        }
    }

    /// The service's manual clock (in-process apps only).
    #[track_caller]
    pub fn clock(&self) -> &ManualClock {
        self.try_clock()
            .expect("no in-process clock: the app runs over HTTP")
    }

    /// The service's manual clock, `None` over HTTP.
    pub fn try_clock(&self) -> Option<&ManualClock> {
        match &self.transport {
            Transport::InProcess { clock, .. } => Some(clock),
            Transport::Http { .. } => None,
        }
    }

    /// Asserts a timestamp the server took from its clock: exactly `now` of the manual clock
    /// in-process; over HTTP (the system clock) an RFC 3339 UTC timestamp within the last hour.
    #[track_caller]
    pub fn assert_clock_time(&self, value: &Value, in_process_now: DateTime<Utc>) {
        let text = value
            .as_str()
            .unwrap_or_else(|| panic!("a timestamp: {value}"));
        assert!(text.ends_with('Z'), "UTC: {text}");
        let t = DateTime::parse_from_rfc3339(text)
            .unwrap_or_else(|e| panic!("RFC 3339 ({e}): {text}"))
            .with_timezone(&Utc);
        if self.try_service().is_some() {
            assert_eq!(t, in_process_now, "the manual clock: {text}");
        } else {
            let age = Utc::now() - t;
            assert!(
                age >= -chrono::Duration::minutes(1) && age <= chrono::Duration::hours(1),
                "the system clock's recent past: {text}"
            );
        }
    }

    /// Sends a request; checks `x-request-id` on the response.
    pub async fn send(&self, req: Request<Body>) -> Resp {
        let (status, headers, bytes) = match &self.transport {
            Transport::InProcess { router, .. } => {
                let resp = router.clone().oneshot(req).await.unwrap();
                let (parts, body) = resp.into_parts();
                let bytes = body.collect().await.unwrap().to_bytes();
                (parts.status, parts.headers, bytes)
            }
            Transport::Http { authority, .. } => send_http(authority, req).await,
        };
        assert!(
            headers.get("x-request-id").is_some_and(|v| !v.is_empty()),
            "x-request-id on every response ({status})"
        );
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                panic!(
                    "non-JSON body ({status}): {e}: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Resp {
            status,
            headers,
            body,
        }
    }

    /// A request as `user` (bearer token of `user`) with an optional JSON body.
    pub async fn call(&self, method: &str, path: &str, user: &str, body: Option<Value>) -> Resp {
        let mut b = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path)
            .header("authorization", format!("Bearer {}", token(user)));
        let body = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                Body::from(serde_json::to_vec(&v).unwrap())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).unwrap()).await
    }

    /// A request with a raw body and content type.
    pub async fn raw(
        &self,
        method: &str,
        path: &str,
        user: &str,
        content_type: Option<&str>,
        body: impl Into<Body>,
    ) -> Resp {
        let mut b = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).unwrap())
            .uri(path)
            .header("authorization", format!("Bearer {}", token(user)));
        if let Some(ct) = content_type {
            b = b.header("content-type", ct);
        }
        self.send(b.body(body.into()).unwrap()).await
    }

    /// The number of activity entries of a user (every committed mutation writes one).
    pub async fn activity_total(&self, user: &str) -> u64 {
        let r = self
            .call("GET", &format!("/api/v1/{user}/activity-logs"), user, None)
            .await;
        r.ok(200)["total"].as_u64().unwrap()
    }

    pub async fn create_task(&self, user: &str, body: Value) -> Value {
        let r = self
            .call("POST", &format!("/api/v1/{user}/tasks"), user, Some(body))
            .await;
        r.ok(201).clone()
    }

    pub async fn create_tag(&self, user: &str, name: &str) -> Value {
        let r = self
            .call(
                "POST",
                &format!("/api/v1/{user}/tags"),
                user,
                Some(serde_json::json!({ "name": name })),
            )
            .await;
        r.ok(201).clone()
    }
}
