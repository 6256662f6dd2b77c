//! Idempotency keys: a client that retries a `POST` after a timeout sends the same
//! `Idempotency-Key` and gets the first answer again instead of a second task (IETF draft "The
//! Idempotency-Key HTTP Header Field"; what Stripe does).
//!
//! - Every `POST` under `/api/v1/{user_id}/...` and `/api/{user_id}/...` accepts the header:
//!   1-255 visible ASCII characters (else 400 `VALIDATION_ERROR`, field `Idempotency-Key`).
//!   Without it nothing changes. The key is per user (the verified token's, which is the path's):
//!   two users never share one.
//! - First use: an in-progress marker is inserted if the key is free (atomically), the request
//!   runs, and its answer (status, `content-type` / `location` / `etag`, the body as sent) is
//!   stored with the request's fingerprint: SHA-256 over the method, the path with its query
//!   and the body bytes.
//! - A retry with the same key and fingerprint gets the stored answer byte for byte (an error
//!   body keeps the first request's `request_id` and `timestamp`; the `x-request-id` header is
//!   the retry's own) plus `Idempotent-Replayed: true`, and creates nothing.
//! - The same key with another request: 422 `VALIDATION_ERROR` (field `Idempotency-Key`). A
//!   retry while the first request still runs: 409 `CONFLICT` with `Retry-After: 1`.
//! - Stored are 2xx and 4xx answers, except 408, 409 and 429 (they ask for a retry). A request
//!   that started runs to its end in a task of its own and keeps its answer even when the
//!   request timeout answered 503 first or the client went away (releasing the key then could
//!   let a retry create a second task). A 5xx of the handler (a database outage) or an answer
//!   body over [`MAX_IDEMPOTENT_BODY_BYTES`] releases the key: a retry runs again.
//! - Records live for `TODO_IDEMPOTENCY_TTL` (default 24 h) from the first use and are pruned
//!   every [`PRUNE_EVERY`] ([`prune_keys`]). How many a user can hold is bounded by the rate
//!   limit: at most `TODO_RATE_LIMIT_PER_MIN` x 60 x 24 (144,000 at the defaults) records of at
//!   most 64 KiB each, in practice a few hundred bytes.
//!
//! The layer runs inside the rate limit (a replay counts as a request; a limited request claims
//! no key) and outside an inner `finish_errors`, so a stored error is the rendered one.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde_json::json;
use sha2::{Digest, Sha256};
use todo_core::error::{Error, ErrorCode, FieldError};
use todo_core::ids::UserId;
use todo_core::ports::{
    IdempotencyClaim, IdempotencyKey, IdempotencyStore, MAX_IDEMPOTENT_BODY_BYTES,
    RequestFingerprint, StoredResponse,
};
use todo_core::service::TaskService;

use super::auth::AuthUser;
use super::error::{self, ApiError};
use super::{AppState, AppStore};

/// The request header.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// The header on a replayed answer (`true`).
pub const IDEMPOTENT_REPLAYED_HEADER: &str = "idempotent-replayed";

/// The headers of an answer that are stored with it; the others are the transport's
/// (`content-length`) or the retry's own (`x-request-id`).
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// How often expired records are pruned (as the outbox: [`crate::bus::PRUNE_EVERY`]).
pub const PRUNE_EVERY: Duration = crate::bus::PRUNE_EVERY;

/// Whether the route is one of a user's (`POST` there takes a key).
fn is_user_route(req: &Request) -> bool {
    req.extensions().get::<MatchedPath>().is_some_and(|p| {
        let p = p.as_str();
        p.starts_with("/api/v1/{user_id}/") || p.starts_with("/api/{user_id}/")
    })
}

fn invalid_key(e: FieldError) -> ApiError {
    ApiError::validation(StatusCode::BAD_REQUEST, &e.into())
}

/// The request's key: 400 when it is given twice or is not 1-255 visible ASCII characters.
fn key_of(headers: &HeaderMap) -> Result<IdempotencyKey, ApiError> {
    let mut values = headers.get_all(IDEMPOTENCY_KEY_HEADER).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(invalid_key(FieldError::new(
            IdempotencyKey::FIELD,
            ErrorCode::Duplicate,
            "give Idempotency-Key once",
        )));
    };
    IdempotencyKey::parse(&String::from_utf8_lossy(value.as_bytes())).map_err(invalid_key)
}

/// SHA-256 (hex) of the method, the path with its query and the body. Method and path hold no
/// newline, so the separators make the input unambiguous.
pub fn fingerprint(method: &Method, uri: &axum::http::Uri, body: &[u8]) -> RequestFingerprint {
    let mut h = Sha256::new();
    h.update(method.as_str().as_bytes());
    h.update(b"\n");
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    h.update(path.as_bytes());
    h.update(b"\n");
    h.update(body);
    RequestFingerprint::new(format!("{:x}", h.finalize()))
}

/// Whether an answer with `status` is kept for replay: success and client errors that a retry
/// of the same request would get again; not 408, 409 and 429 (they say "retry"), not 5xx.
fn storable(status: StatusCode) -> bool {
    status.is_success()
        || (status.is_client_error()
            && !matches!(
                status,
                StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS
            ))
}

/// The stored answer, with `Idempotent-Replayed: true`.
fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut resp = Response::new(Body::from(stored.body));
    *resp.status_mut() = status;
    for (name, value) in stored.headers {
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            (Ok(n), Ok(v)) => {
                resp.headers_mut().append(n, v);
            }
            _ => tracing::warn!(header = %name, "stored idempotent answer: header skipped"),
        }
    }
    resp.headers_mut().insert(
        HeaderName::from_static(IDEMPOTENT_REPLAYED_HEADER),
        HeaderValue::from_static("true"),
    );
    resp
}

/// 409 `CONFLICT` with `Retry-After: 1`: the first request with the key still runs.
fn in_progress() -> Response {
    let mut e = ApiError::new(
        StatusCode::CONFLICT,
        error::ErrorCode::Conflict,
        "a request with this Idempotency-Key is still in progress; retry in a second",
    );
    e.details = json!({ "field": IdempotencyKey::FIELD, "retry_after_secs": 1 });
    let mut resp = e.into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
}

/// 422 `VALIDATION_ERROR`: the key was used with another request.
fn mismatch() -> Response {
    ApiError::validation(
        StatusCode::UNPROCESSABLE_ENTITY,
        &FieldError::new(
            IdempotencyKey::FIELD,
            ErrorCode::Inconsistent,
            "this Idempotency-Key was used with a different request (method, path or body); \
             use a new key for a new request",
        )
        .into(),
    )
    .into_response()
}

/// The claim on a key while its request runs: released when dropped before it is completed
/// (the request failed, panicked, or its client went away and the server dropped it).
struct Claim<S: AppStore> {
    service: Option<Arc<TaskService<S>>>,
    user: UserId,
    key: IdempotencyKey,
    /// When the claim was begun: completing or releasing touches only this claim's record,
    /// not one a retry took over after the lock timeout.
    claimed_at: chrono::DateTime<chrono::Utc>,
}

impl<S: AppStore> Claim<S> {
    /// Stores the answer; the claim stays armed meanwhile, so that a cancelled store releases
    /// the key (a release never removes a completed record).
    async fn complete(mut self, response: &StoredResponse) {
        if let Some(service) = &self.service {
            match service
                .store()
                .complete_idempotent(&self.user, &self.key, self.claimed_at, response)
                .await
            {
                // Stored: nothing to release.
                Ok(()) => self.service = None,
                // Left in progress: a retry gets 409 until the lock timeout, then runs again.
                Err(e) => tracing::warn!(error = %e, "idempotency: storing the answer failed"),
            }
        }
    }

    /// Frees the key now (a retry runs the request again).
    async fn release(mut self) {
        if let Some(service) = self.service.take() {
            release(&service, &self.user, &self.key, self.claimed_at).await;
        }
    }
}

async fn release<S: AppStore>(
    service: &TaskService<S>,
    user: &UserId,
    key: &IdempotencyKey,
    claimed_at: chrono::DateTime<chrono::Utc>,
) {
    if let Err(e) = service
        .store()
        .release_idempotent(user, key, claimed_at)
        .await
    {
        // The marker holds the key until the lock timeout; then a retry runs again.
        tracing::warn!(error = %e, "idempotency: releasing a key failed");
    }
}

impl<S: AppStore> Drop for Claim<S> {
    fn drop(&mut self) {
        if let Some(service) = self.service.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let (user, key, at) = (self.user.clone(), self.key.clone(), self.claimed_at);
            rt.spawn(async move { release(&service, &user, &key, at).await });
        }
    }
}

/// Middleware: the idempotency of `POST`s with an `Idempotency-Key` (see the module).
pub async fn idempotency<S: AppStore>(
    State(state): State<AppState<S>>,
    req: Request,
    next: Next,
) -> Response {
    if req.method() != Method::POST
        || !req.headers().contains_key(IDEMPOTENCY_KEY_HEADER)
        || !is_user_route(&req)
    {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    // The same answers as the handler's own extractor (401, 400, 403), before any storage work.
    let user = match AuthUser::from_request_parts(&mut parts, &state).await {
        Ok(AuthUser(user)) => user,
        Err(e) => return e.into_response(),
    };
    let key = match key_of(&parts.headers) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    // The same answers as the handlers' extractors (413 above the limit); the fingerprint needs
    // the whole body.
    let body = match super::extract::read_limited(body, &parts.headers, state.body_limit).await {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let print = fingerprint(&parts.method, &parts.uri, &body);
    let service = Arc::clone(&state.service);
    let now = service.clock().now();
    let claim = service
        .store()
        .begin_idempotent(&user, &key, &print, now, state.idempotency_ttl)
        .await;
    match claim {
        Ok(IdempotencyClaim::Started) => {}
        Ok(IdempotencyClaim::Replay(stored)) => return replay(stored),
        Ok(IdempotencyClaim::InProgress) => return in_progress(),
        Ok(IdempotencyClaim::Mismatch) => return mismatch(),
        Err(e) => return ApiError::from(Error::Store(e)).into_response(),
    }
    let claim = Claim {
        service: Some(service),
        user,
        key,
        claimed_at: now,
    };
    // Once started, the request runs to its end in a task of its own and its answer is kept,
    // even when its caller is dropped (the request timeout, a client gone): releasing the key
    // then would let a retry create a second task when the first one had committed.
    let request = Request::from_parts(parts, Body::from(body));
    match tokio::spawn(run_and_record(claim, next, request)).await {
        Ok(resp) => resp,
        // A panic: the claim was dropped with the task, which released the key.
        Err(e) => {
            tracing::error!(error = %e, "idempotency: the request's task failed");
            ApiError::from(Error::Store(todo_core::StoreError::Other(
                "the request failed".into(),
            )))
            .into_response()
        }
    }
}

/// Runs the request and stores its answer under the claimed key (or releases the key when the
/// answer asks for a retry).
async fn run_and_record<S: AppStore>(claim: Claim<S>, next: Next, request: Request) -> Response {
    let resp = next.run(request).await;
    if !storable(resp.status()) {
        claim.release().await;
        return resp;
    }
    let (parts, body) = resp.into_parts();
    // The handlers' answers are in memory already (JSON values); collecting them costs a copy.
    let bytes = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, "idempotency: the answer could not be read");
            claim.release().await;
            return ApiError::from(Error::Store(todo_core::StoreError::Other(e.to_string())))
                .into_response();
        }
    };
    if bytes.len() > MAX_IDEMPOTENT_BODY_BYTES {
        tracing::warn!(
            bytes = bytes.len(),
            "idempotency: answer too large to store; key released"
        );
        claim.release().await;
    } else {
        let stored = StoredResponse {
            status: parts.status.as_u16(),
            headers: KEPT_HEADERS
                .iter()
                .flat_map(|name| {
                    parts.headers.get_all(name).iter().filter_map(|v| {
                        v.to_str()
                            .ok()
                            .map(|v| (name.as_str().to_owned(), v.to_owned()))
                    })
                })
                .collect(),
            body: bytes.to_vec(),
        };
        claim.complete(&stored).await;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// Deletes idempotency records first used more than `ttl` ago, at start and every
/// [`PRUNE_EVERY`], until `shutdown` completes (as [`crate::bus::prune_outbox`] does for the
/// outbox).
pub async fn prune_keys<S: IdempotencyStore>(
    store: S,
    ttl: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    loop {
        let before = chrono::Utc::now()
            .checked_sub_signed(ttl)
            .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
        match store.prune_idempotency_keys(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "idempotency keys past their TTL deleted"),
            Err(e) => {
                tracing::warn!(error = %e, "idempotency keys: pruning failed; tried again later")
            }
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(PRUNE_EVERY) => {}
        }
    }
}
