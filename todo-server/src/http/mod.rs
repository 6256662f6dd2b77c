//! HTTP: the REST API of the contract over axum, for every store, clock and id source.
//!
//! - [`router`] serves every route under `/api/v1/{user_id}/...` and the same under
//!   `/api/{user_id}/...` (older clients).
//! - Auth ([`auth`]): `Authorization: Bearer <JWT>` (HS256, `sub` = user id, `exp` enforced).
//!   No/invalid/expired token -> 401 `UNAUTHORIZED`; an invalid `{user_id}` path segment -> 400
//!   `VALIDATION_ERROR` (field `user_id`); a token for another user -> 403 `FORBIDDEN`.
//! - Errors ([`error`]): every error response, including axum's own rejections, unknown routes
//!   (404) and wrong methods (405), has the body
//!   `{"error": {"code","message","details","request_id","timestamp"}}`.
//! - Every response carries `x-request-id` (a valid incoming one is kept, else a UUID).
//! - A second `DELETE` of a task or tag answers 404 (the first one removed it).
//! - Conversation state ([`conversations`]) goes through the store's `ConversationStore` port:
//!   the router needs a store that implements it next to `Store` (every adapter does).
//! - `GET /metrics` (Prometheus text, unauthenticated) and a JSON log line per request
//!   ([`observe`]); per-user rate limit of `/api/...` with 429 `RATE_LIMITED` ([`ratelimit`]).
//! - `Idempotency-Key` on every `POST` of a user's routes ([`idempotency`]): a retry gets the
//!   first answer again; the router needs a store that implements `IdempotencyStore` (every
//!   adapter does).

pub mod activity;
pub mod auth;
pub mod conversations;
pub mod dapr;
pub mod dto;
pub mod error;
pub mod extract;
pub mod health;
pub mod idempotency;
pub mod observe;
pub mod openapi;
pub mod ratelimit;
pub mod realtime;
pub mod tags;
pub mod tasks;
pub mod web;

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};
use axum::routing::{delete, get, patch, post};
use todo_core::ports::{ConversationStore, IdempotencyStore, Store};
use todo_core::service::TaskService;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use todo_events::kafka::BrokerProbe;

use crate::config::Features;
use crate::dapr::DaprInbound;

pub use auth::{AuthConfig, AuthError, Claims, issue_token};
pub use error::ApiError;
pub use observe::Metrics;
pub use ratelimit::UserRateLimiter;

/// The header that carries the request id.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The default limit of a request body: 64 KiB.
pub const DEFAULT_BODY_LIMIT: usize = 64 * 1024;

/// The longest incoming `x-request-id` that is kept; a longer or odd one is replaced by a UUID.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// What the HTTP layer needs of its store: the use cases' ports, the conversations and the
/// idempotency keys. Every store that has them is one (`MemoryStore`, the SQL stores).
pub trait AppStore: Store + ConversationStore + IdempotencyStore + Clone + 'static {}

impl<T: Store + ConversationStore + IdempotencyStore + Clone + 'static> AppStore for T {}

/// What every handler needs: the service, the auth configuration and the limits.
pub struct AppState<S> {
    /// The use cases.
    pub service: Arc<TaskService<S>>,
    /// How tokens are checked.
    pub auth: Arc<AuthConfig>,
    /// The largest accepted request body in bytes (413 above it).
    pub body_limit: usize,
    /// How long an `Idempotency-Key` and its stored answer are kept ([`idempotency`]).
    pub idempotency_ttl: chrono::Duration,
    /// This instance's metrics (`GET /metrics`).
    pub metrics: Metrics,
    /// The per-user rate limit of `/api/...`, if any (none by default).
    pub rate_limit: Option<Arc<UserRateLimiter>>,
    /// The Dapr side, when Dapr is configured: the sidecar's routes and the conversations in
    /// the Dapr state store.
    pub dapr: Option<Arc<DaprInbound>>,
    /// The Kafka brokers' probe, when Kafka is configured (`/readyz` asks it).
    pub kafka: Option<BrokerProbe>,
    /// The features switched on (all by default).
    pub features: Features,
    /// The real-time push (WebSocket and SSE), when the app has an event bus; without it the
    /// real-time routes answer 503.
    pub realtime: Option<Arc<realtime::Realtime>>,
    /// How long one request may take to be answered (503 `UNAVAILABLE` after it); streams
    /// (WebSocket, SSE) are not cut by it once their response has started.
    pub request_timeout: std::time::Duration,
}

/// The default of [`AppState::request_timeout`]: 30 s.
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

impl<S> Clone for AppState<S> {
    fn clone(&self) -> Self {
        AppState {
            service: Arc::clone(&self.service),
            auth: Arc::clone(&self.auth),
            body_limit: self.body_limit,
            idempotency_ttl: self.idempotency_ttl,
            metrics: self.metrics.clone(),
            rate_limit: self.rate_limit.clone(),
            dapr: self.dapr.clone(),
            kafka: self.kafka.clone(),
            features: self.features,
            realtime: self.realtime.clone(),
            request_timeout: self.request_timeout,
        }
    }
}

impl<S> AppState<S> {
    /// A state with the default body limit ([`DEFAULT_BODY_LIMIT`]), fresh metrics and no
    /// rate limit.
    pub fn new(service: Arc<TaskService<S>>, auth: AuthConfig) -> Self {
        AppState {
            service,
            auth: Arc::new(auth),
            body_limit: DEFAULT_BODY_LIMIT,
            idempotency_ttl: todo_core::ports::DEFAULT_IDEMPOTENCY_TTL,
            metrics: Metrics::new(),
            rate_limit: None,
            dapr: None,
            kafka: None,
            features: Features::default(),
            realtime: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// Switches features off (`TODO_FEATURE_*`).
    #[must_use]
    pub fn with_features(mut self, features: Features) -> Self {
        self.features = features;
        self
    }

    /// Checks the Kafka brokers in `/readyz`.
    #[must_use]
    pub fn with_kafka_probe(mut self, probe: BrokerProbe) -> Self {
        self.kafka = Some(probe);
        self
    }

    /// Serves the Dapr sidecar's routes and keeps conversations in the Dapr state store.
    #[must_use]
    pub fn with_dapr(mut self, dapr: DaprInbound) -> Self {
        self.dapr = Some(Arc::new(dapr));
        self
    }

    /// Pushes the events of `bus` to real-time clients (WebSocket and SSE, [`realtime`]).
    #[must_use]
    pub fn with_bus(self, bus: crate::bus::EventBus) -> Self {
        self.with_realtime(realtime::Realtime::new(bus))
    }

    /// Pushes events to real-time clients as `realtime` is set up (e.g. a shorter ping).
    #[must_use]
    pub fn with_realtime(mut self, realtime: realtime::Realtime) -> Self {
        self.realtime = Some(Arc::new(realtime));
        self
    }

    /// Uses these metrics (e.g. with the event bus registered in them).
    #[must_use]
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Limits every user to `per_minute` requests per minute on `/api/...`; 0 turns the limit
    /// off ([`ratelimit`]).
    #[must_use]
    pub fn with_rate_limit(mut self, per_minute: u32) -> Self {
        self.rate_limit = UserRateLimiter::per_minute(per_minute).map(Arc::new);
        self
    }

    /// Answers 503 `UNAVAILABLE` to a request not answered within `timeout` (reading its body
    /// included).
    #[must_use]
    pub fn with_request_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Keeps `Idempotency-Key`s and their answers for `ttl` (default 24 h; [`idempotency`]).
    #[must_use]
    pub fn with_idempotency_ttl(mut self, ttl: std::time::Duration) -> Self {
        self.idempotency_ttl =
            chrono::Duration::from_std(ttl).unwrap_or(todo_core::ports::DEFAULT_IDEMPOTENCY_TTL);
        self
    }

    /// Sets the largest accepted request body in bytes.
    #[must_use]
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }
}

/// The routes of one user, relative to `/api/v1/{user_id}` (and `/api/{user_id}`).
fn user_routes<S: AppStore>() -> Router<AppState<S>> {
    Router::new()
        .route("/tasks", post(tasks::create::<S>).get(tasks::list::<S>))
        .route(
            "/tasks/{task_id}",
            get(tasks::get_one::<S>)
                .put(tasks::update::<S>)
                .delete(tasks::remove::<S>),
        )
        .route("/tasks/{task_id}/complete", patch(tasks::complete::<S>))
        .route("/tasks/{task_id}/tags", post(tasks::attach_tag::<S>))
        .route(
            "/tasks/{task_id}/tags/{tag_id}",
            delete(tasks::detach_tag::<S>),
        )
        .route(
            "/tasks/{task_id}/reminder",
            post(tasks::set_reminder::<S>).delete(tasks::cancel_reminder::<S>),
        )
        .route("/tags", get(tags::list::<S>).post(tags::create::<S>))
        .route(
            "/tags/{tag_id}",
            axum::routing::put(tags::update::<S>).delete(tags::remove::<S>),
        )
        .route("/activity-logs", get(activity::list::<S>))
        .route("/conversations", get(conversations::list::<S>))
        .route(
            "/conversations/{conversation_id}",
            get(conversations::get_one::<S>)
                .put(conversations::put::<S>)
                .delete(conversations::remove::<S>),
        )
}

/// Keeps an incoming `x-request-id` only when it is short and made of safe characters, so that
/// it can be echoed in headers, bodies and logs; otherwise a fresh UUID is generated.
async fn sanitize_request_id(mut req: Request) -> Request {
    let name = HeaderName::from_static(REQUEST_ID_HEADER);
    let valid = req.headers().get_all(&name).iter().count() == 1
        && req.headers().get(&name).is_some_and(valid_request_id);
    if !valid {
        req.headers_mut().remove(&name);
    }
    req
}

fn valid_request_id(v: &HeaderValue) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= MAX_REQUEST_ID_LEN
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.' | b':'))
}

/// The routes of the contract under both prefixes (`/api/v1/{user_id}` and `/api/{user_id}`),
/// without the error and request-id layers: for a caller that merges more routes before
/// calling [`finish`]. Most callers want [`router`].
pub fn routes<S: AppStore>() -> Router<AppState<S>> {
    Router::new()
        .route("/dapr/subscribe", get(dapr::subscribe::<S>))
        .route("/dapr/events/{topic}", post(dapr::deliver::<S>))
        .route("/job/{name}", post(dapr::job::<S>))
        .route("/", get(web::index))
        .route("/app/{*file}", get(web::asset))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz::<S>))
        .route("/metrics", get(observe::metrics::<S>))
        .route("/api/ws/{user_id}", get(realtime::websocket::<S>))
        .route("/api/v1/ws/{user_id}", get(realtime::websocket::<S>))
        .route("/api/v1/{user_id}/events", get(realtime::events::<S>))
        .route("/api/{user_id}/events", get(realtime::events::<S>))
        .route(openapi::OPENAPI_PATH, get(openapi::openapi_json))
        .route(openapi::DOCS_PATH, get(openapi::docs_index))
        .route("/docs/", get(openapi::docs_index))
        .route("/docs/{*file}", get(openapi::docs_asset))
        .nest("/api/v1/{user_id}", user_routes())
        .nest("/api/{user_id}", user_routes())
}

/// Completes a router: 404 `NOT_FOUND` for unknown routes, every error response (also 405,
/// 413, axum's rejections) in the contract's format, `x-request-id` on every response, the
/// per-user rate limit, metrics and one log line per request ([`observe`]). Layers apply to the
/// routes present when this is called, so merge every route in first.
pub fn finish<S: AppStore>(routes: Router<AppState<S>>, state: AppState<S>) -> Router {
    let name = HeaderName::from_static(REQUEST_ID_HEADER);
    routes
        .fallback(error::not_found)
        // `Idempotency-Key` on POST: inside the request timeout and the rate limit, around a
        // `finish_errors` of its own, so that a stored error answer is the rendered one.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::finish_errors::<S>,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotency::<S>,
        ))
        // Inside the outer `finish_errors`, which gives its bare 503 the error format; a request
        // with an `Idempotency-Key` that times out still runs to its end and keeps its answer
        // for the retry (`idempotency`).
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            state.request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit::<S>,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error::finish_errors::<S>,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::observe::<S>,
        ))
        .layer(PropagateRequestIdLayer::new(name.clone()))
        .layer(SetRequestIdLayer::new(name, MakeRequestUuid))
        .layer(axum::middleware::map_request(sanitize_request_id))
        .with_state(state)
}

/// The REST API of the contract: every route under `/api/v1/{user_id}` and `/api/{user_id}`,
/// the error format on every error (also for unknown routes and wrong methods), and
/// `x-request-id` on every response. Equals `finish(routes(), state)`.
pub fn router<S: AppStore>(state: AppState<S>) -> Router {
    finish(routes(), state)
}
