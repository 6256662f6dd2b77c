//! Observability of the HTTP layer: Prometheus metrics (`GET /metrics`) and one structured log
//! line per request.
//!
//! Every app instance has its own [`Metrics`] (a `prometheus::Registry` kept in
//! [`AppState`]), so several routers in one process (the tests) never share counters; nothing
//! is registered globally.
//!
//! Exposed series:
//! - `http_requests_total{method,route,status}` and
//!   `http_request_duration_seconds{method,route,status}` (histogram): `route` is the matched
//!   route template (`/api/v1/{user_id}/tasks/{task_id}`), never the raw path; a request that
//!   matches no route is counted as `route="unmatched"`, and a method outside the standard ones
//!   as `method="OTHER"`, so that clients cannot grow the label sets.
//! - `todo_outbox_depth`, `todo_events_delivered_total`, `todo_relay_lag_seconds`,
//!   `todo_events_parked_total{reason}`, `todo_outbox_parked`: from the relay
//!   ([`crate::bus::BusMetrics`]), once registered with [`Metrics::register_bus`].
//! - `todo_build_info{name,version}` = 1.
//!
//! The log line (`target: "todo_server::access"`, level INFO, WARN for 5xx) has `method`,
//! `route`, `status`, `latency_ms`, `request_id` and `user_id` (the verified token's subject,
//! when the request carries a valid token). The raw path, the query string and the headers are
//! never logged (a token may travel in `?token=`).

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry};
use todo_core::ids::UserId;

use super::{AppState, AppStore, REQUEST_ID_HEADER};
use crate::bus::EventBus;

/// The `route` label of a request that matched no route.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The metrics of one app instance: its registry and the HTTP collectors.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

const LABELS: &[&str] = &["method", "route", "status"];

impl Metrics {
    /// A fresh registry with the HTTP collectors and the build info.
    #[allow(clippy::expect_used)] // constant, valid names; a fresh registry has no duplicates
    pub fn new() -> Self {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by method, route template and status",
            ),
            LABELS,
        )
        .expect("valid metric");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency in seconds by method, route template and status",
            ),
            LABELS,
        )
        .expect("valid metric");
        let build = IntGauge::with_opts(
            Opts::new("todo_build_info", "Build information of the todo server")
                .const_label("name", env!("CARGO_PKG_NAME"))
                .const_label("version", env!("CARGO_PKG_VERSION")),
        )
        .expect("valid metric");
        build.set(1);
        registry
            .register(Box::new(requests.clone()))
            .expect("fresh registry");
        registry
            .register(Box::new(duration.clone()))
            .expect("fresh registry");
        registry.register(Box::new(build)).expect("fresh registry");
        Metrics {
            registry,
            requests,
            duration,
        }
    }

    /// Adds another collector (e.g. the Kafka consumers' counters) to this registry.
    ///
    /// # Errors
    /// A collector of the same names was registered already.
    pub fn register(
        &self,
        collector: Box<dyn prometheus::core::Collector>,
    ) -> Result<(), prometheus::Error> {
        self.registry.register(collector)
    }

    /// Adds the event bus's outbox depth and delivered counter to this registry. Fails when a
    /// bus was registered already.
    pub fn register_bus(&self, bus: &EventBus) -> Result<(), prometheus::Error> {
        let m = bus.metrics();
        self.registry.register(Box::new(m.outbox_depth.clone()))?;
        self.registry.register(Box::new(m.delivered.clone()))?;
        self.registry.register(Box::new(m.lag_seconds.clone()))?;
        self.registry.register(Box::new(m.parked.clone()))?;
        self.registry.register(Box::new(m.parked_now.clone()))?;
        Ok(())
    }

    /// The registry, to add more collectors.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Counts one request and its latency.
    pub fn observe(&self, method: &str, route: &str, status: &str, seconds: f64) {
        let labels = [method, route, status];
        self.requests.with_label_values(&labels).inc();
        self.duration.with_label_values(&labels).observe(seconds);
    }

    /// Everything in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        if let Err(e) = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut buf) {
            tracing::warn!(error = %e, "metrics: encoding failed");
        }
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// `GET /metrics`: the Prometheus text format (unauthenticated).
pub async fn metrics<S: AppStore>(State(state): State<AppState<S>>) -> Response {
    let mut resp = state.metrics.render().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    resp
}

/// The user of a request whose token was verified (signature, `exp`, `sub`), put in the
/// request's extensions by [`observe`] for the rate limiter and the log. It says nothing about
/// the `{user_id}` of the path: [`super::auth::AuthUser`] still checks that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedUser(pub UserId);

/// The subject of a valid `Authorization: Bearer` token, or else of a valid `?token=` (how
/// WebSocket and `EventSource` clients send it), if any: so every request of a user, real-time
/// upgrades included, is rate-limited and logged under that user.
fn verified_user<S>(req: &Request, state: &AppState<S>) -> Option<UserId> {
    let token = match req.headers().get(header::AUTHORIZATION) {
        Some(value) => {
            let (scheme, token) = value.to_str().ok()?.split_once(' ')?;
            if !scheme.eq_ignore_ascii_case("bearer") {
                return None;
            }
            token.trim().to_owned()
        }
        None => form_urlencoded::parse(req.uri().query()?.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.trim().to_owned())?,
    };
    state.auth.verify(&token).ok()
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Middleware: identifies the user of a valid token ([`VerifiedUser`]), then counts the request
/// in the metrics and writes its log line once the response is there.
pub async fn observe<S: AppStore>(
    State(state): State<AppState<S>>,
    mut req: Request,
    next: Next,
) -> Response {
    let start = Instant::now();
    let method = method_label(req.method());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED_ROUTE.to_owned(), |p| p.as_str().to_owned());
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let user = verified_user(&req, &state);
    if let Some(u) = &user {
        req.extensions_mut().insert(VerifiedUser(u.clone()));
    }
    let resp = next.run(req).await;
    let elapsed = start.elapsed();
    let status = resp.status();
    state
        .metrics
        .observe(method, &route, status.as_str(), elapsed.as_secs_f64());
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    let user_id = user.as_ref().map(UserId::as_str);
    if status.is_server_error() {
        tracing::warn!(
            target: "todo_server::access",
            method,
            route = %route,
            status = status.as_u16(),
            latency_ms,
            request_id = request_id.as_deref(),
            user_id,
            "request"
        );
    } else {
        tracing::info!(
            target: "todo_server::access",
            method,
            route = %route,
            status = status.as_u16(),
            latency_ms,
            request_id = request_id.as_deref(),
            user_id,
            "request"
        );
    }
    resp
}
