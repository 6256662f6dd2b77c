//! The one place where errors become HTTP responses: status, code and the contract's body
//! `{"error": {"code","message","details","request_id","timestamp"}}`.
//!
//! A handler or extractor returns an [`ApiError`]; its response carries the error in its
//! extensions, and [`finish_errors`] (a middleware around every route) renders the final body
//! with the request id and the time. The same middleware turns any other error response that is
//! not JSON yet (axum's own rejections, 404 for unknown routes, 405 for wrong methods, 413 from
//! a body limit) into the same format, so no plain-text error escapes.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use todo_core::error::{Error, StoreError, ValidationErrors};
use todo_core::model::format_instant;

use super::{AppState, AppStore, REQUEST_ID_HEADER};

/// The contract's error codes: `error.code` of every error body (and of the real-time `error`
/// messages). Serialized as [`ErrorCode::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `VALIDATION_ERROR`: a bad parameter or body (400, 422).
    ValidationError,
    /// `BAD_REQUEST`: another client error without a code of its own.
    BadRequest,
    /// `UNAUTHORIZED`: no, malformed, badly signed or expired token (401).
    Unauthorized,
    /// `FORBIDDEN`: a token for another user (403).
    Forbidden,
    /// `NOT_FOUND`: no such resource or route (404).
    NotFound,
    /// `METHOD_NOT_ALLOWED` (405).
    MethodNotAllowed,
    /// `TIMEOUT` (408).
    Timeout,
    /// `CONFLICT`: a concurrent change, a duplicate, a request in progress (409).
    Conflict,
    /// `QUOTA_EXCEEDED`: the user holds as much as the quota allows (409).
    QuotaExceeded,
    /// `PRECONDITION_FAILED`: an `If-Match` that does not match (412).
    PreconditionFailed,
    /// `PAYLOAD_TOO_LARGE` (413).
    PayloadTooLarge,
    /// `UNSUPPORTED_MEDIA_TYPE` (415).
    UnsupportedMediaType,
    /// `RATE_LIMITED` (429).
    RateLimited,
    /// `UNAVAILABLE`: retry later (503).
    Unavailable,
    /// `INTERNAL` (500).
    Internal,
    /// `INVALID_MESSAGE`: a real-time client message that cannot be understood.
    InvalidMessage,
}

impl ErrorCode {
    /// The code on the wire, e.g. `VALIDATION_ERROR`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::ValidationError => "VALIDATION_ERROR",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::Unauthorized => "UNAUTHORIZED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::QuotaExceeded => "QUOTA_EXCEEDED",
            ErrorCode::PreconditionFailed => "PRECONDITION_FAILED",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::InvalidMessage => "INVALID_MESSAGE",
        }
    }
}

impl Serialize for ErrorCode {
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// An error answer: status, machine-readable code, a sentence and optional details.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The contract's code (`VALIDATION_ERROR`, `NOT_FOUND`, ...).
    pub code: ErrorCode,
    /// For people; never holds internals.
    pub message: String,
    /// Structured details (field errors, the missing resource), or `null`.
    pub details: Value,
}

impl ApiError {
    /// An error with the given status, code and message, without details.
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    /// Field errors with the given status (400 for rule violations, 422 for unprocessable bodies).
    pub fn validation(status: StatusCode, errors: &ValidationErrors) -> Self {
        let first = errors.first();
        ApiError {
            status,
            code: ErrorCode::ValidationError,
            message: errors.to_string(),
            details: json!({ "field": first.field, "errors": errors.errors() }),
        }
    }

    /// 401: no, malformed, badly signed or expired token.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, ErrorCode::Unauthorized, message)
    }

    /// 403: a valid token for another user.
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "the token does not grant access to this user's resources",
        )
    }

    /// 404 for a path that names no resource or route.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 413: the body is larger than the limit.
    pub fn payload_too_large(limit: usize) -> Self {
        let mut e = Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            format!("the request body is larger than {limit} bytes"),
        );
        e.details = json!({ "limit_bytes": limit });
        e
    }

    /// 412: an `If-Match` that does not name the current version.
    pub fn precondition_failed() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            ErrorCode::PreconditionFailed,
            "If-Match does not name the current version of the resource",
        )
    }

    /// 415: a body without `Content-Type: application/json`.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "the request body must be JSON with Content-Type: application/json",
        )
    }

    /// The code used for a bare status (an error response produced outside the handlers).
    fn for_status(status: StatusCode) -> Self {
        let code = match status.as_u16() {
            400 | 422 => ErrorCode::ValidationError,
            401 => ErrorCode::Unauthorized,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            408 => ErrorCode::Timeout,
            409 => ErrorCode::Conflict,
            412 => ErrorCode::PreconditionFailed,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            429 => ErrorCode::RateLimited,
            503 => ErrorCode::Unavailable,
            s if s < 500 => ErrorCode::BadRequest,
            _ => ErrorCode::Internal,
        };
        let message = match status.as_u16() {
            404 => "no such route".to_owned(),
            405 => "method not allowed on this route".to_owned(),
            s if s >= 500 => "internal error".to_owned(),
            _ => status
                .canonical_reason()
                .unwrap_or("request rejected")
                .to_owned(),
        };
        Self::new(status, code, message)
    }

    /// The body, with the request id and the time of the answer.
    fn body(&self, request_id: Option<&str>, timestamp: &str) -> Value {
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "details": self.details,
                "request_id": request_id,
                "timestamp": timestamp,
            }
        })
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        match e {
            Error::Validation(v) => ApiError::validation(StatusCode::BAD_REQUEST, &v),
            Error::Unprocessable(v) => ApiError::validation(StatusCode::UNPROCESSABLE_ENTITY, &v),
            Error::NotFound { resource, id } => {
                let mut a = ApiError::not_found(format!("{resource} {id} not found"));
                a.details = json!({ "resource": resource, "id": id });
                a
            }
            Error::Conflict { message } => {
                ApiError::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
            }
            e @ Error::QuotaExceeded { quota, limit } => {
                let mut a = ApiError::new(
                    StatusCode::CONFLICT,
                    ErrorCode::QuotaExceeded,
                    e.to_string(),
                );
                a.details = json!({ "quota": quota, "limit": limit });
                a
            }
            Error::Store(StoreError::Conflict(detail)) => {
                tracing::warn!(%detail, "store conflict after retries");
                ApiError::new(
                    StatusCode::CONFLICT,
                    ErrorCode::Conflict,
                    "the resource was changed concurrently; retry the request",
                )
            }
            Error::Store(StoreError::UniqueViolation(detail)) => {
                tracing::warn!(%detail, "unique violation reached the HTTP layer");
                ApiError::new(
                    StatusCode::CONFLICT,
                    ErrorCode::Conflict,
                    "the change collides with existing data",
                )
            }
            Error::Store(StoreError::Unavailable(detail)) => {
                tracing::error!(%detail, "store unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::Unavailable,
                    "the service is temporarily unavailable; retry later",
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ErrorCode::Internal,
                    "internal error",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    /// A complete response on its own (request id `null`, wall-clock time); [`finish_errors`]
    /// re-renders it with the request id and the service clock.
    fn into_response(self) -> Response {
        let body = self.body(None, &format_instant(chrono::Utc::now()));
        let mut resp = (self.status, Json(body)).into_response();
        resp.extensions_mut().insert(self);
        resp
    }
}

/// The fallback for unknown routes: 404 `NOT_FOUND`.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// Middleware: renders every error response in the contract's format with the request id
/// (from `x-request-id`, set before this runs) and the time of the service clock.
pub async fn finish_errors<S: AppStore>(
    State(state): State<AppState<S>>,
    req: Request,
    next: Next,
) -> Response {
    let request_id = req
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut resp = next.run(req).await;
    let status = resp.status();
    let error = match resp.extensions_mut().remove::<ApiError>() {
        Some(e) => e,
        None if (status.is_client_error() || status.is_server_error())
            && !is_json(resp.headers()) =>
        {
            ApiError::for_status(status)
        }
        None => return resp,
    };
    let timestamp = format_instant(state.service.clock().now());
    let body = error.body(request_id.as_deref(), &timestamp);
    let (mut parts, _) = resp.into_parts();
    parts.status = error.status;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    Response::from_parts(parts, axum::body::Body::from(bytes))
}
