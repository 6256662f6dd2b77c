//! Per-user rate limiting of the API (`TODO_RATE_LIMIT_PER_MIN`, default 100, 0 = off).
//!
//! - The key is the subject of a *verified* token ([`super::observe::VerifiedUser`]: the
//!   bearer token, or `?token=` as WebSocket and SSE clients send it, so real-time upgrades
//!   count too); an unverified `sub` is never trusted.
//! - Only `/api/...` is limited. Health, readiness, metrics, the OpenAPI document and the docs
//!   are not.
//! - A request without a valid token is not limited here: it is answered 401 by the
//!   authentication before any database work, and a per-IP limit belongs to the proxy in front
//!   (behind one, the peer address is the proxy's).
//! - The algorithm is `governor`'s GCRA: a user may send up to `N` requests at once, then one
//!   every `60/N` seconds. Above that: 429 `RATE_LIMITED` in the contract's error body, with
//!   `Retry-After` (whole seconds, at least 1) and `details.retry_after_secs`.
//! - The limiter lives in the app's state: each app instance (each test) has its own.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde_json::json;
use todo_core::ids::UserId;

use super::error::{ApiError, ErrorCode};
use super::observe::VerifiedUser;
use super::{AppState, AppStore};

/// The default limit: requests per minute and user.
pub const DEFAULT_PER_MINUTE: u32 = 100;

/// How many checks pass between two clean-ups of users idle long enough to be forgotten.
const RETAIN_EVERY: u64 = 4096;

/// A per-user limit of requests per minute.
#[derive(Debug)]
pub struct UserRateLimiter {
    per_minute: NonZeroU32,
    limiter: DefaultKeyedRateLimiter<UserId>,
    checks: AtomicU64,
}

impl UserRateLimiter {
    /// A limit of `per_minute` requests per minute and user; `None` for 0 (no limit).
    pub fn per_minute(per_minute: u32) -> Option<Self> {
        let n = NonZeroU32::new(per_minute)?;
        Some(UserRateLimiter {
            per_minute: n,
            limiter: governor::RateLimiter::dashmap(Quota::per_minute(n)),
            checks: AtomicU64::new(0),
        })
    }

    /// The configured requests per minute.
    pub fn limit(&self) -> u32 {
        self.per_minute.get()
    }

    /// Counts a request of `user`: `Err(wait)` when it is over the limit.
    pub fn check(&self, user: &UserId) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(user)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// 429 `RATE_LIMITED` with `Retry-After`.
fn rate_limited(limit: u32, wait: Duration) -> Response {
    // Whole seconds, rounded up, at least 1.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        format!("more than {limit} requests per minute; retry in {secs} s"),
    );
    e.details = json!({ "limit_per_minute": limit, "retry_after_secs": secs });
    let mut resp = e.into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

/// Middleware: answers 429 to a user over the limit on `/api/...`; passes everything else.
pub async fn limit<S: AppStore>(
    State(state): State<AppState<S>>,
    req: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = &state.rate_limit
        && req.uri().path().starts_with("/api/")
        && let Some(VerifiedUser(user)) = req.extensions().get::<VerifiedUser>()
        && let Err(wait) = limiter.check(user)
    {
        return rate_limited(limiter.limit(), wait);
    }
    next.run(req).await
}
