//! Conversation state (the chatbot's memory): one JSON object per user and conversation id,
//! through the [`ConversationStore`] port, with optimistic concurrency over `ETag` / `If-Match`
//! (strong tags, RFC 9110: `"v3"`; `If-Match: *` = any existing document) and a retention of
//! 90 days since the last write.
//!
//! - `GET .../conversations/{id}` -> 200, the document itself, with `ETag`; 404 when missing or
//!   expired.
//! - `PUT .../conversations/{id}` -> 200 `{conversation_id, etag, updated_at}` with `ETag`;
//!   without `If-Match` it creates or overwrites, with it only the named version (else 412
//!   `PRECONDITION_FAILED`). The body must be a JSON object (422) of at most 256 KiB
//!   serialized (413).
//! - `DELETE .../conversations/{id}` -> 204; 404 when missing; 412 when `If-Match` does not name
//!   the current version.
//! - `GET .../conversations` -> `{"conversations": [{conversation_id, updated_at}]}`, newest
//!   write first.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use todo_core::error::{Error, ErrorCode, FieldError, StoreError};
use todo_core::ids::{ConversationId, UserId};
use todo_core::model::format_instant;
use todo_core::ports::{
    ConversationStore, DeleteOutcome, MAX_CONVERSATION_BYTES, PutOutcome, Store, StoredDoc,
};
use todo_core::quota::put_conversation_within;
use todo_events::dapr::DaprConversations;
use utoipa::ToSchema;

use super::auth::AuthUser;
use super::error::{self, ApiError};
use super::extract::{PathIds, read_json_value};
use super::openapi::{self, ErrorBody};
use super::{AppState, AppStore};

type Result<T> = std::result::Result<T, ApiError>;

/// The largest accepted request body of `PUT`: pretty-printed JSON may be larger than its
/// compact form, which is what the 256 KiB limit applies to.
const MAX_BODY_BYTES: usize = 2 * MAX_CONVERSATION_BYTES;

/// The answer to a write: `{conversation_id, etag, updated_at}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConversationWrittenDto {
    /// The conversation.
    pub conversation_id: String,
    /// The new version, as in the `ETag` header (quoted).
    pub etag: String,
    /// The time of this write (RFC 3339, UTC).
    pub updated_at: String,
}

/// One entry of the list: `{conversation_id, updated_at}`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConversationSummaryDto {
    /// The conversation.
    pub conversation_id: String,
    /// The time of its last write (RFC 3339, UTC).
    pub updated_at: String,
}

/// The user's conversations, newest write first.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ConversationListDto {
    /// The live conversations.
    pub conversations: Vec<ConversationSummaryDto>,
}

fn store_error(e: todo_core::error::StoreError) -> ApiError {
    ApiError::from(Error::Store(e))
}

fn not_found(id: &ConversationId) -> ApiError {
    let mut e = ApiError::not_found(format!("conversation {id} not found"));
    e.details = json!({ "resource": "conversation", "id": id.as_str() });
    e
}

/// `"<tag>"`, the strong entity tag of a version.
fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

fn etag_header(etag: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(&quoted(etag)).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            error::ErrorCode::Internal,
            "internal error",
        )
    })
}

/// The version named by `If-Match`: `*`, a quoted strong tag (an unquoted one is accepted too),
/// or anything else as given (a weak tag or a list, which match no version: 412).
fn if_match(headers: &HeaderMap) -> Result<Option<String>> {
    let mut values = headers.get_all(header::IF_MATCH).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let bad = || {
        ApiError::validation(
            StatusCode::BAD_REQUEST,
            &FieldError::new(
                "If-Match",
                ErrorCode::InvalidFormat,
                "If-Match must be `*` or an entity tag such as \"v3\"",
            )
            .into(),
        )
    };
    if values.next().is_some() {
        // Several header lines: a list of tags, which never names one version here.
        return Ok(Some(",".to_owned()));
    }
    let raw = first.to_str().map_err(|_| bad())?.trim();
    if raw.is_empty() {
        return Err(bad());
    }
    if raw == "*" {
        return Ok(Some("*".to_owned()));
    }
    match raw.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) if !inner.contains('"') => Ok(Some(inner.to_owned())),
        _ => Ok(Some(raw.to_owned())),
    }
}

/// Whether a value holds a NUL character in a string or key (not storable everywhere).
fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

fn unprocessable(message: &str) -> ApiError {
    ApiError::validation(
        StatusCode::UNPROCESSABLE_ENTITY,
        &FieldError::new("body", ErrorCode::InvalidValue, message).into(),
    )
}

/// `GET /conversations/{conversation_id}` -> the document, with `ETag`.
#[utoipa::path(
    get,
    path = "/api/v1/{user_id}/conversations/{conversation_id}",
    operation_id = "get_conversation",
    tag = "conversations",
    params(
        openapi::UserPath,
        ("conversation_id" = String, Path, description = "The conversation: 1-128 characters of `[A-Za-z0-9_.:-]`")
    ),
    responses(
        (status = 200, description = "The stored JSON object, as written", body = Object,
            headers(("ETag" = String, description = "The current version, a strong entity tag such as `\"v3\"`"))),
        (status = 400, description = "`VALIDATION_ERROR`: a bad path parameter", body = ErrorBody),
        (status = 404, description = "`NOT_FOUND`: no such conversation of this user (or it expired: 90 days after its last write)", body = ErrorBody),
        super::openapi::AuthedErrors
    )
)]
pub async fn get_one<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
) -> Result<Response> {
    let id = ids.conversation_id()?;
    let now = st.service.clock().now();
    let stored = st
        .conversations()
        .get_conversation(&user, &id, now)
        .await
        .map_err(store_error)?
        .ok_or_else(|| not_found(&id))?;
    let mut resp = Json(stored.doc).into_response();
    resp.headers_mut()
        .insert(header::ETAG, etag_header(&stored.etag)?);
    Ok(resp)
}

/// `PUT /conversations/{conversation_id}`: create or overwrite; with `If-Match`, conditional.
#[utoipa::path(
    put,
    path = "/api/v1/{user_id}/conversations/{conversation_id}",
    operation_id = "put_conversation",
    tag = "conversations",
    params(
        openapi::UserPath,
        ("conversation_id" = String, Path, description = "The conversation: 1-128 characters of `[A-Za-z0-9_.:-]`"),
        ("If-Match" = Option<String>, Header, description = "Write only over this version (`\"v3\"` as in `ETag`) or, with `*`, over any existing document; else 412")
    ),
    request_body(content = Object, description = "Any JSON object (e.g. `{\"messages\": [{\"role\", \"content\", \"timestamp\"}]}`), at most 256 KiB serialized", content_type = "application/json"),
    responses(
        (status = 200, description = "Written", body = ConversationWrittenDto,
            headers(("ETag" = String, description = "The new version"))),
        (status = 400, description = "`VALIDATION_ERROR`: a bad path parameter or `If-Match`, malformed or missing JSON", body = ErrorBody),
        super::openapi::ConflictOrQuota,
        (status = 412, description = "`PRECONDITION_FAILED`: `If-Match` does not name the current version (or there is no document)", body = ErrorBody),
        (status = 413, description = "`PAYLOAD_TOO_LARGE`: the document is larger than 256 KiB", body = ErrorBody),
        super::openapi::NotJson,
        (status = 422, description = "`VALIDATION_ERROR`: the body is not a JSON object", body = ErrorBody),
        super::openapi::AuthedErrors
    )
)]
pub async fn put<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
    req: Request,
) -> Result<Response> {
    let id = ids.conversation_id()?;
    let tag = if_match(req.headers())?;
    let doc = read_json_value(req, MAX_BODY_BYTES).await?;
    if !doc.is_object() {
        return Err(unprocessable(
            "the conversation document must be a JSON object",
        ));
    }
    let size = serde_json::to_vec(&doc)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if size > MAX_CONVERSATION_BYTES {
        return Err(ApiError::payload_too_large(MAX_CONVERSATION_BYTES));
    }
    if has_nul(&doc) {
        return Err(unprocessable(
            "the conversation document must not contain NUL characters",
        ));
    }
    let now = st.service.clock().now();
    let outcome = put_conversation_within(
        &st.conversations(),
        st.service.quotas(),
        &user,
        &id,
        &doc,
        tag.as_deref(),
        now,
    )
    .await?;
    let PutOutcome::Written { etag } = outcome else {
        return Err(ApiError::precondition_failed());
    };
    let mut resp = Json(ConversationWrittenDto {
        conversation_id: id.as_str().to_owned(),
        etag: quoted(&etag),
        updated_at: format_instant(now),
    })
    .into_response();
    resp.headers_mut().insert(header::ETAG, etag_header(&etag)?);
    Ok(resp)
}

/// `DELETE /conversations/{conversation_id}` -> 204.
#[utoipa::path(
    delete,
    path = "/api/v1/{user_id}/conversations/{conversation_id}",
    operation_id = "delete_conversation",
    tag = "conversations",
    params(
        openapi::UserPath,
        ("conversation_id" = String, Path, description = "The conversation: 1-128 characters of `[A-Za-z0-9_.:-]`"),
        ("If-Match" = Option<String>, Header, description = "Delete only this version (`\"v3\"`); else 412")
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "`VALIDATION_ERROR`: a bad path parameter or `If-Match`", body = ErrorBody),
        (status = 404, description = "`NOT_FOUND`: no such conversation of this user", body = ErrorBody),
        super::openapi::Conflict,
        (status = 412, description = "`PRECONDITION_FAILED`: `If-Match` does not name the current version", body = ErrorBody),
        super::openapi::AuthedErrors
    )
)]
pub async fn remove<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
    headers: HeaderMap,
) -> Result<StatusCode> {
    let id = ids.conversation_id()?;
    let tag = if_match(&headers)?;
    let now = st.service.clock().now();
    match st
        .conversations()
        .delete_conversation(&user, &id, tag.as_deref(), now)
        .await
        .map_err(store_error)?
    {
        DeleteOutcome::Deleted => Ok(StatusCode::NO_CONTENT),
        DeleteOutcome::NotFound => Err(not_found(&id)),
        DeleteOutcome::PreconditionFailed => Err(ApiError::precondition_failed()),
    }
}

/// `GET /conversations` -> the user's conversations, newest write first.
#[utoipa::path(
    get,
    path = "/api/v1/{user_id}/conversations",
    operation_id = "list_conversations",
    tag = "conversations",
    params(openapi::UserPath),
    responses(
        (status = 200, description = "The user's live conversations, newest write first", body = ConversationListDto),
        (status = 400, description = "`VALIDATION_ERROR`: a bad path parameter", body = ErrorBody),
        super::openapi::AuthedErrors
    )
)]
pub async fn list<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
) -> Result<Json<ConversationListDto>> {
    let now = st.service.clock().now();
    let list = st
        .conversations()
        .list_conversations(&user, now)
        .await
        .map_err(store_error)?;
    Ok(Json(ConversationListDto {
        conversations: list
            .into_iter()
            .map(|(id, at)| ConversationSummaryDto {
                conversation_id: id.as_str().to_owned(),
                updated_at: format_instant(at),
            })
            .collect(),
    }))
}

/// Where conversations live: the Dapr state store when Dapr is configured, else the database.
pub enum Conversations<'a, S> {
    /// The server's database.
    Database(&'a S),
    /// The Dapr state store.
    Dapr(&'a DaprConversations),
}

impl<S: Store> AppState<S> {
    /// The conversation store in use.
    pub fn conversations(&self) -> Conversations<'_, S> {
        match &self.dapr {
            Some(d) => Conversations::Dapr(&d.conversations),
            None => Conversations::Database(self.service.store()),
        }
    }
}

impl<S: ConversationStore> ConversationStore for Conversations<'_, S> {
    async fn get_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        now: DateTime<Utc>,
    ) -> std::result::Result<Option<StoredDoc>, StoreError> {
        match self {
            Conversations::Database(s) => s.get_conversation(user, id, now).await,
            Conversations::Dapr(d) => d.get_conversation(user, id, now).await,
        }
    }

    async fn put_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        doc: &serde_json::Value,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> std::result::Result<PutOutcome, StoreError> {
        match self {
            Conversations::Database(s) => s.put_conversation(user, id, doc, if_match, now).await,
            Conversations::Dapr(d) => d.put_conversation(user, id, doc, if_match, now).await,
        }
    }

    async fn delete_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> std::result::Result<DeleteOutcome, StoreError> {
        match self {
            Conversations::Database(s) => s.delete_conversation(user, id, if_match, now).await,
            Conversations::Dapr(d) => d.delete_conversation(user, id, if_match, now).await,
        }
    }

    async fn list_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> std::result::Result<Vec<(ConversationId, DateTime<Utc>)>, StoreError> {
        match self {
            Conversations::Database(s) => s.list_conversations(user, now).await,
            Conversations::Dapr(d) => d.list_conversations(user, now).await,
        }
    }

    async fn count_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> std::result::Result<u64, StoreError> {
        match self {
            Conversations::Database(s) => s.count_conversations(user, now).await,
            Conversations::Dapr(d) => d.count_conversations(user, now).await,
        }
    }
}
