//! Extractors that answer in the contract's error format: path ids, JSON bodies (415, 413,
//! malformed JSON 400, wrong shape 422) and raw query pairs.

use std::collections::HashMap;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use todo_core::error::{ErrorCode, FieldError};
use todo_core::ids::{ConversationId, TagId, TaskId};
use todo_core::input::{InputBody, parse_body};

use super::error::{self, ApiError};
use super::{AppState, AppStore};

/// A path that could not be decoded (e.g. invalid percent-encoding): 400.
pub fn path_rejection(r: PathRejection) -> ApiError {
    tracing::debug!(rejection = %r, "path rejected");
    ApiError::validation(
        StatusCode::BAD_REQUEST,
        &FieldError::new(
            "path",
            ErrorCode::InvalidFormat,
            "the path parameters could not be decoded",
        )
        .into(),
    )
}

/// The path parameters, parsed on demand into ids (400 `VALIDATION_ERROR` naming the parameter
/// when one is not a positive integer).
#[derive(Debug, Clone)]
pub struct PathIds(HashMap<String, String>);

impl PathIds {
    fn id<T>(
        &self,
        name: &str,
        parse: impl Fn(&str, &str) -> Result<T, FieldError>,
    ) -> Result<T, ApiError> {
        let raw = self
            .0
            .get(name)
            .ok_or_else(|| ApiError::not_found("no such route"))?;
        parse(name, raw).map_err(|e| ApiError::validation(StatusCode::BAD_REQUEST, &e.into()))
    }

    /// `{task_id}`.
    pub fn task_id(&self) -> Result<TaskId, ApiError> {
        self.id("task_id", TaskId::parse)
    }

    /// `{tag_id}`.
    pub fn tag_id(&self) -> Result<TagId, ApiError> {
        self.id("tag_id", TagId::parse)
    }

    /// `{conversation_id}` (1-128 characters of `[A-Za-z0-9_.:-]`).
    pub fn conversation_id(&self) -> Result<ConversationId, ApiError> {
        self.id("conversation_id", |_, raw| ConversationId::parse(raw))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PathIds {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(map) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(path_rejection)?;
        Ok(PathIds(map))
    }
}

/// The raw query pairs, percent-decoded (`+` is a space), in order.
#[derive(Debug, Clone, Default)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    /// The pairs as string slices, for `from_pairs`.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let pairs = parts
            .uri
            .query()
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Ok(QueryPairs(pairs))
    }
}

fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(Ok(v)) = headers.get(header::CONTENT_TYPE).map(|v| v.to_str()) else {
        return false;
    };
    let essence = v.split(';').next().unwrap_or_default().trim();
    let Some((ty, sub)) = essence.split_once('/') else {
        return false;
    };
    ty.eq_ignore_ascii_case("application")
        && (sub.eq_ignore_ascii_case("json")
            || sub
                .get(sub.len().saturating_sub(5)..)
                .is_some_and(|s| s.eq_ignore_ascii_case("+json")))
}

/// Reads the body up to `limit` bytes (413 above it, checked on `Content-Length` first); the
/// handlers' extractors and the idempotency layer (which fingerprints the body) read it alike.
pub(crate) async fn read_limited(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
) -> Result<axum::body::Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::payload_too_large(limit));
    }
    match Limited::new(body, limit).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
            Err(ApiError::payload_too_large(limit))
        }
        Err(e) => {
            tracing::debug!(error = %e, "request body could not be read");
            Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                error::ErrorCode::ValidationError,
                "the request body could not be read",
            ))
        }
    }
}

fn malformed(e: &serde_json::Error) -> ApiError {
    ApiError::validation(
        StatusCode::BAD_REQUEST,
        &FieldError::new(
            "body",
            ErrorCode::InvalidFormat,
            format!(
                "the body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
        .into(),
    )
}

/// Reads a required JSON body of any shape: 415 without a JSON `Content-Type`, 413 above
/// `limit` bytes, 400 when empty or malformed.
///
/// # Errors
/// As described.
pub async fn read_json_value(req: Request, limit: usize) -> Result<serde_json::Value, ApiError> {
    if !is_json_content_type(req.headers()) {
        return Err(ApiError::unsupported_media_type());
    }
    let (parts, body) = req.into_parts();
    let bytes = read_limited(body, &parts.headers, limit).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::validation(
            StatusCode::BAD_REQUEST,
            &FieldError::new("body", ErrorCode::Required, "a JSON body is required").into(),
        ));
    }
    serde_json::from_slice(&bytes).map_err(|e| malformed(&e))
}

/// Reads a JSON body of an input type; `None` when the body is empty (an optional body).
async fn read_json<T: InputBody>(req: Request, limit: usize) -> Result<Option<T>, ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = read_limited(body, &parts.headers, limit).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) && !is_json_content_type(&parts.headers) {
        return Ok(None);
    }
    if !is_json_content_type(&parts.headers) {
        return Err(ApiError::unsupported_media_type());
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| malformed(&e))?;
    Ok(Some(parse_body::<T>(&value)?))
}

/// A required JSON body: 415 without a JSON `Content-Type`, 413 above the limit, 400 for
/// malformed or missing JSON, 422 for a body that is not an object, has unknown fields or values
/// of the wrong type.
#[derive(Debug, Clone)]
pub struct JsonBody<T>(pub T);

impl<S: AppStore, T> FromRequest<AppState<S>> for JsonBody<T>
where
    T: InputBody + Send,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState<S>) -> Result<Self, ApiError> {
        if !is_json_content_type(req.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        match read_json::<T>(req, state.body_limit).await? {
            Some(v) => Ok(JsonBody(v)),
            None => Err(ApiError::validation(
                StatusCode::BAD_REQUEST,
                &FieldError::new("body", ErrorCode::Required, "a JSON body is required").into(),
            )),
        }
    }
}

/// An optional JSON body: an empty body is `None`; a non-empty one follows [`JsonBody`]'s rules.
#[derive(Debug, Clone)]
pub struct OptionalJsonBody<T>(pub Option<T>);

impl<S: AppStore, T> FromRequest<AppState<S>> for OptionalJsonBody<T>
where
    T: InputBody + Send,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState<S>) -> Result<Self, ApiError> {
        Ok(OptionalJsonBody(
            read_json::<T>(req, state.body_limit).await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ct(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_str(v).unwrap());
        h
    }

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/merge-patch+json",
        ] {
            assert!(is_json_content_type(&ct(ok)), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/jsonx",
            "application/json-seq",
            "json",
            "text/json",
        ] {
            assert!(!is_json_content_type(&ct(bad)), "{bad}");
        }
        assert!(!is_json_content_type(&HeaderMap::new()));
    }
}
