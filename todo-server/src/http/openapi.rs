//! The OpenAPI 3 document of the REST API, generated from the handlers' annotations
//! (`#[utoipa::path]`) and the response shapes ([`super::dto`]), served at `GET /openapi.json`,
//! with Swagger UI (vendored, works offline) at `GET /docs`.
//!
//! The request bodies are defined in `todo-core`, which does not depend on utoipa; the schema
//! types here mirror them field by field (the tests compare the field names with the core's
//! `InputBody::FIELDS`). They are documentation only: the handlers deserialize the core's types.

use std::sync::{Arc, LazyLock};

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::openapi::Required;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoParams, Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::Config;

use super::{activity, conversations, health, tags, tasks};

/// The name of the bearer security scheme in the document.
pub const BEARER: &str = "bearer";

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// Where Swagger UI is served.
pub const DOCS_PATH: &str = "/docs";

const DESCRIPTION: &str = "The REST API of the todo platform.\n\n\
Every route of a user is listed under the canonical prefix `/api/v1/{user_id}/...`; the same \
routes also answer under `/api/{user_id}/...` (older clients), which are not listed separately.\n\n\
Authentication: `Authorization: Bearer <JWT>` (HS256, `sub` = the user id, `exp` enforced); \
`todo-server token --user <id>` prints one. No or an invalid token -> 401; a token for another \
user than `{user_id}` -> 403; a resource of another user is indistinguishable from a missing \
one -> 404. A second `DELETE` of a task or tag answers 404.\n\n\
Every error has the body `{\"error\": {\"code\", \"message\", \"details\", \"request_id\", \
\"timestamp\"}}`; every response carries `x-request-id`. Instants are RFC 3339; responses give \
them in UTC with `Z`.\n\n\
Every `POST` of a user's routes accepts an `Idempotency-Key` header: a retry with the same key \
and request gets the first answer again (`Idempotent-Replayed: true`) instead of creating twice.";

/// The document's source: every annotated handler and the schemas they use.
#[derive(OpenApi)]
#[openapi(
    info(title = "todo", description = DESCRIPTION),
    paths(
        tasks::create,
        tasks::list,
        tasks::get_one,
        tasks::update,
        tasks::complete,
        tasks::remove,
        tasks::attach_tag,
        tasks::detach_tag,
        tasks::set_reminder,
        tasks::cancel_reminder,
        tags::list,
        tags::create,
        tags::update,
        tags::remove,
        activity::list,
        conversations::list,
        conversations::get_one,
        conversations::put,
        conversations::remove,
        health::healthz,
        health::readyz,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    security(("bearer" = [])),
    modifiers(&BearerScheme, &IdempotencyKeyHeader),
    tags(
        (name = "tasks", description = "Tasks, their tags and reminders"),
        (name = "tags", description = "The user's tags"),
        (name = "activity", description = "The activity log"),
        (name = "conversations", description = "Conversation state of the chatbot (JSON documents with ETag / If-Match; kept 90 days after the last write)"),
        (name = "health", description = "Probes (unauthenticated)"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer (JWT) security scheme that the document requires (`security` above; the
/// probes override it with `security(())`), and states the requirement on every operation that
/// has none of its own, as it did when each annotation repeated it; marks the body of
/// `PATCH .../complete` optional.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A JWT (HS256) whose `sub` is the user id"))
                    .build(),
            ),
        );
        let required = openapi.security.clone();
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.options,
                &mut item.head,
                &mut item.patch,
                &mut item.trace,
            ];
            for op in operations.into_iter().flatten() {
                if op.security.is_none() {
                    op.security.clone_from(&required);
                }
            }
        }
        // `PATCH .../complete` takes its body optionally (no body toggles); the annotation
        // cannot say so without also allowing a JSON `null`, which is rejected.
        let complete = openapi
            .paths
            .paths
            .get_mut("/api/v1/{user_id}/tasks/{task_id}/complete")
            .and_then(|item| item.patch.as_mut())
            .and_then(|op| op.request_body.as_mut());
        if let Some(body) = complete {
            body.required = Some(Required::False);
        }
    }
}

/// Declares `Idempotency-Key` on every `POST` of a user's routes ([`super::idempotency`]): the
/// header, `Idempotent-Replayed` on the success answers, and what 409 and 422 also mean there.
/// Added here once instead of on each handler's annotation, as the layer serves them all.
struct IdempotencyKeyHeader;

impl Modify for IdempotencyKeyHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::{HeaderBuilder, ObjectBuilder, RefOr, Type};
        let key = ParameterBuilder::new()
            .name("Idempotency-Key")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "Makes a retry safe: 1-255 visible ASCII characters chosen by the client (e.g. a \
                 UUID), unique per request and user. The first request with a key runs and its \
                 answer (2xx, or a 4xx other than 408/409/429) is kept for \
                 `TODO_IDEMPOTENCY_TTL` (default 24 h); a retry with the same key and the same \
                 request (method, path, body) gets that answer again, byte for byte, with \
                 `Idempotent-Replayed: true`, and changes nothing. The same key with another \
                 request: 422; while the first request still runs: 409 with `Retry-After: 1`. \
                 A 5xx is not kept: a retry runs again. Invalid key: 400.",
            ))
            .schema(Some(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .max_length(Some(255))
                    .pattern(Some("^[!-~]{1,255}$"))
                    .examples(["3f0c2a9e-8d1b-4c55-9a43-0b7e6f1d2c10"]),
            ))
            .build();
        let replayed = HeaderBuilder::new()
            .schema(
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(["true"])),
            )
            .description(Some(
                "`true` when the answer is the stored answer of an earlier request with the same \
                 `Idempotency-Key`",
            ))
            .build();
        for (path, item) in openapi.paths.paths.iter_mut() {
            if !path.starts_with("/api/v1/{user_id}/") {
                continue;
            }
            let Some(op) = item.post.as_mut() else {
                continue;
            };
            op.parameters.get_or_insert_with(Vec::new).push(key.clone());
            for (status, response) in &mut op.responses.responses {
                let RefOr::T(response) = response else {
                    continue;
                };
                match status.as_str() {
                    s if s.starts_with('2') => {
                        response
                            .headers
                            .insert("Idempotent-Replayed".to_owned(), replayed.clone());
                    }
                    "409" => response.description.push_str(
                        "; or `CONFLICT` with `Retry-After: 1`: a request with this \
                         `Idempotency-Key` is still in progress",
                    ),
                    "422" => response.description.push_str(
                        "; or this `Idempotency-Key` was used with a different request \
                         (`details.field` = `Idempotency-Key`)",
                    ),
                    "400" => response
                        .description
                        .push_str("; or an invalid `Idempotency-Key`"),
                    _ => {}
                }
            }
        }
    }
}

/// The document as a value.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| {
    document()
        .to_pretty_json()
        .unwrap_or_else(|_| "{}".to_owned())
});

/// `GET /openapi.json`: the document (unauthenticated).
pub async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT_JSON.as_str(),
    )
        .into_response()
}

static SWAGGER_CONFIG: LazyLock<Arc<Config<'static>>> =
    LazyLock::new(|| Arc::new(Config::new([OPENAPI_PATH])));

fn swagger_file(tail: &str) -> Response {
    match utoipa_swagger_ui::serve(tail, Arc::clone(&SWAGGER_CONFIG)) {
        Ok(Some(file)) => {
            let mut bytes = file.bytes.into_owned();
            if tail.is_empty() && file.content_type.starts_with("text/html") {
                // Served at `/docs` (no trailing slash): relative asset URLs must resolve below it.
                let html = String::from_utf8_lossy(&bytes).replacen(
                    "<head>",
                    &format!("<head>\n    <base href=\"{DOCS_PATH}/\" />"),
                    1,
                );
                bytes = html.into_bytes();
            }
            ([(header::CONTENT_TYPE, file.content_type)], bytes).into_response()
        }
        Ok(None) => super::error::ApiError::not_found("no such route").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "swagger ui");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// `GET /docs` and `GET /docs/`: Swagger UI over `/openapi.json` (unauthenticated).
pub async fn docs_index() -> Response {
    swagger_file("")
}

/// `GET /docs/{*file}`: Swagger UI's assets (vendored in the binary).
pub async fn docs_asset(Path(file): Path<String>) -> Response {
    swagger_file(&file)
}

// ---------------------------------------------------------------------------------------------
// Schemas

/// The error responses every authenticated `/api` operation can give, listed once for all of
/// them (`responses(..., AuthedErrors)`). Only the document uses it; no handler returns it.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub enum AuthedErrors {
    /// 401.
    #[response(
        status = 401,
        description = "`UNAUTHORIZED`: no, malformed, badly signed or expired token"
    )]
    Unauthorized(ErrorBody),
    /// 403.
    #[response(
        status = 403,
        description = "`FORBIDDEN`: the token is for another user"
    )]
    Forbidden(ErrorBody),
    /// 429.
    #[response(
        status = 429,
        description = "`RATE_LIMITED`: too many requests of this user (see `Retry-After`)"
    )]
    RateLimited(ErrorBody),
    /// 500.
    #[response(status = 500, description = "`INTERNAL`")]
    Internal(ErrorBody),
    /// 503.
    #[response(
        status = 503,
        description = "`UNAVAILABLE`: the database does not answer; retry later"
    )]
    Unavailable(ErrorBody),
}

/// One error response that many operations give with the same meaning, listed once:
/// `responses(..., openapi::NotFound, ...)`. Only the document uses them.
macro_rules! error_response {
    ($(#[$doc:meta])* $name:ident, $status:literal, $description:literal) => {
        $(#[$doc])*
        #[derive(utoipa::IntoResponses)]
        #[allow(dead_code)]
        pub enum $name {
            /// The error body.
            #[response(status = $status, description = $description)]
            Error(ErrorBody),
        }
    };
}

error_response!(
    /// 400 of an operation whose input is path/query parameters and a JSON body.
    BadRequest,
    400,
    "`VALIDATION_ERROR`: a bad path parameter, query parameter, malformed JSON or a field that breaks a rule"
);
error_response!(
    /// 404 of an operation on one resource.
    NotFound,
    404,
    "`NOT_FOUND`: no such resource of this user"
);
error_response!(
    /// 409 of an operation that changes a resource.
    Conflict,
    409,
    "`CONFLICT`: the resource was changed concurrently; retry"
);
error_response!(
    /// 409 of an operation that creates a task, a tag or a conversation (directly, or as the
    /// next instance of a recurring task): also the per-user quota.
    ConflictOrQuota,
    409,
    "`CONFLICT`: the resource was changed concurrently; retry. `QUOTA_EXCEEDED`: the user holds as many tasks, tags or conversations as the quota allows (`details`: `{\"quota\": \"tasks\", \"limit\": 10000}`); completing a recurring task is refused once the user holds twice the tasks quota"
);
error_response!(
    /// 413 of an operation with a JSON body.
    TooLarge,
    413,
    "`PAYLOAD_TOO_LARGE`: the body is larger than the limit"
);
error_response!(
    /// 415 of an operation with a JSON body.
    NotJson,
    415,
    "`UNSUPPORTED_MEDIA_TYPE`: a body without `Content-Type: application/json`"
);
error_response!(
    /// 422 of an operation with a task or tag body.
    Unprocessable,
    422,
    "`VALIDATION_ERROR`: the body has the wrong shape, unknown fields, or names tags that do not exist"
);

/// The error body of every error response.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// `{"code","message","details","request_id","timestamp"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// `VALIDATION_ERROR`, `UNAUTHORIZED`, `FORBIDDEN`, `NOT_FOUND`, `CONFLICT`,
    /// `QUOTA_EXCEEDED`, `PAYLOAD_TOO_LARGE`, `UNSUPPORTED_MEDIA_TYPE`, `RATE_LIMITED`,
    /// `UNAVAILABLE`, `INTERNAL`, ...
    #[schema(example = "VALIDATION_ERROR")]
    pub code: String,
    /// For people.
    pub message: String,
    /// Structured details (e.g. `{"field", "errors": [{"field","code","message"}]}` for
    /// validation errors, `{"resource","id"}` for a missing resource), or `null`.
    #[schema(required = true, value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
    /// The request id (also in the `x-request-id` header).
    #[schema(required = true)]
    pub request_id: Option<String>,
    /// When the error was answered (RFC 3339, UTC).
    #[schema(format = DateTime)]
    pub timestamp: String,
}

/// `GET /healthz`: `{"status": "ok"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Liveness {
    /// `ok`.
    #[schema(example = "ok")]
    pub status: String,
}

/// `GET /readyz`: `{"status": "ready", "database": "ok", "broker": "ok" | "none", "sidecar": "ok" | "none"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Readiness {
    /// `ready`.
    #[schema(example = "ready")]
    pub status: String,
    /// `ok`.
    #[schema(example = "ok")]
    pub database: String,
    /// `ok`: the Kafka brokers answer; `none`: Kafka is not configured.
    #[schema(example = "none")]
    pub broker: String,
    /// `ok`: the Dapr sidecar answers; `none`: Dapr is not configured.
    #[schema(example = "none")]
    pub sidecar: String,
}

/// A task's priority.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
pub enum Priority {
    /// High.
    High,
    /// Medium (the default).
    Medium,
    /// Low.
    Low,
}

/// A recurrence pattern (`none` also for a task that repeats by `rrule`).
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecurrencePattern {
    /// Every day.
    Daily,
    /// Every week.
    Weekly,
    /// Every month (29th-31st: the month's last day when shorter).
    Monthly,
    /// No pattern.
    None,
}

/// What a reminder is anchored to.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReminderType {
    /// Follows its task's due date.
    DueDate,
    /// Stays put.
    Custom,
}

/// A reminder's state.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReminderStatus {
    /// Waiting.
    Pending,
    /// Fired.
    Sent,
    /// Cancelled.
    Cancelled,
}

/// Which tasks a list shows.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatusFilter {
    /// All.
    All,
    /// Not completed.
    Pending,
    /// Completed.
    Completed,
}

/// How `tags` filters.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TagsMode {
    /// A task with any of the tags.
    Any,
    /// A task with all of the tags.
    All,
}

/// The sort key of a list.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Creation time (default).
    CreatedAt,
    /// Due time (tasks without one last in both orders).
    DueDatetime,
    /// High > Medium > Low.
    Priority,
    /// Case-insensitive.
    Title,
}

/// The sort order.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Ascending.
    Asc,
    /// Descending (default).
    Desc,
}

/// The body of `POST /tasks` (mirrors `todo_core::input::CreateTaskInput`). Unknown fields are
/// rejected (422).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTaskInput {
    /// Required: 1-200 characters after trimming.
    #[schema(min_length = 1, max_length = 200, example = "Pay rent")]
    pub title: String,
    /// At most 4000 characters.
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// RFC 3339 with offset, not in the past.
    #[schema(format = DateTime)]
    pub due_datetime: Option<String>,
    /// Default `Medium` (matched case-insensitively).
    pub priority: Option<Priority>,
    /// Default `none`; a recurring task needs a `due_datetime`.
    pub recurrence_pattern: Option<RecurrencePattern>,
    /// An RFC 5545 RRULE instead of the pattern, e.g. `FREQ=WEEKLY;BYDAY=MO,WE`: at most 1000
    /// characters, hourly at most, at most 96 times a day and 62 values per day-level list and
    /// in `BYSETPOS` (beyond that 400 `too_complex`).
    #[schema(example = "FREQ=WEEKLY;BYDAY=MO,WE")]
    pub rrule: Option<String>,
    /// No occurrence after this instant (inclusive).
    #[schema(format = DateTime)]
    pub recurrence_end_date: Option<String>,
    /// IANA zone in which recurrence is computed, default `UTC`.
    #[schema(example = "Europe/Berlin")]
    pub timezone: Option<String>,
    /// Tags to attach, at most 50 distinct (else 400); they must exist and belong to the user
    /// (else 422).
    pub tag_ids: Option<Vec<i64>>,
}

/// The body of `PUT /tasks/{task_id}` (mirrors `todo_core::input::UpdateTaskInput`): every
/// field optional; an explicit `null` clears a nullable field. Unknown fields are rejected (422).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTaskInput {
    /// New title, 1-200 characters after trimming (`null` is rejected).
    #[schema(min_length = 1, max_length = 200, nullable = false)]
    pub title: Option<String>,
    /// New description, or `null` to clear it.
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    /// Completion (completing a recurring task creates its next instance).
    pub completed: Option<bool>,
    /// New due date, or `null` to clear it (not for a recurring task); a past date is allowed.
    #[schema(format = DateTime)]
    pub due_datetime: Option<String>,
    /// New priority (`null` resets to `Medium`).
    pub priority: Option<Priority>,
    /// New pattern (`null` means `none`; `none` keeps an RRULE, only `"rrule": null` removes it).
    pub recurrence_pattern: Option<RecurrencePattern>,
    /// New RRULE (the limits of `POST /tasks`), or `null` to clear it.
    pub rrule: Option<String>,
    /// New end of series, or `null` to clear it.
    #[schema(format = DateTime)]
    pub recurrence_end_date: Option<String>,
    /// New IANA zone (`null` means UTC).
    pub timezone: Option<String>,
    /// The complete new set of tags, at most 50 distinct (`null` or `[]` detaches all).
    pub tag_ids: Option<Vec<i64>>,
}

/// The body of `POST /tags` (mirrors `todo_core::input::CreateTagInput`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTagInput {
    /// Required: 1-50 characters after trimming, unique per user case-insensitively (else 409).
    #[schema(min_length = 1, max_length = 50, example = "work")]
    pub name: String,
    /// `#RRGGBB`, default `#3B82F6`.
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$", example = "#3B82F6")]
    pub color: Option<String>,
}

/// The body of `PUT /tags/{tag_id}` (mirrors `todo_core::input::UpdateTagInput`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTagInput {
    /// New name (`null` is rejected).
    #[schema(min_length = 1, max_length = 50, nullable = false)]
    pub name: Option<String>,
    /// New color `#RRGGBB` (`null` resets to the default).
    #[schema(pattern = "^#[0-9A-Fa-f]{6}$")]
    pub color: Option<String>,
}

/// The body of `POST /tasks/{task_id}/reminder` (mirrors `todo_core::input::SetReminderInput`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetReminderInput {
    /// Required: RFC 3339 with offset, not in the past.
    #[schema(format = DateTime)]
    pub reminder_time: String,
    /// Default `due_date`.
    pub reminder_type: Option<ReminderType>,
}

/// The body of `POST /tasks/{task_id}/tags` (mirrors [`tasks::AttachTagInput`]).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachTagInput {
    /// The tag to attach (required).
    #[schema(minimum = 1)]
    pub tag_id: i64,
}

/// The optional body of `PATCH /tasks/{task_id}/complete` (mirrors [`tasks::CompleteInput`]):
/// absent or `null` toggles.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteInput {
    /// The state to set; absent or `null` toggles.
    pub completed: Option<bool>,
}

/// The query of `GET /tasks`. Unknown parameters are rejected (400).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskListQuery {
    /// Words that must all occur (case-insensitively) in the title or the description.
    pub search: Option<String>,
    /// `all` (default), `pending` or `completed`.
    #[param(inline)]
    pub status: Option<StatusFilter>,
    /// One priority or a comma list (`High,Medium`), matched case-insensitively.
    #[param(example = "High,Medium")]
    pub priority: Option<String>,
    /// Due at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub due_date_start: Option<String>,
    /// Due at or before this instant (RFC 3339).
    #[param(format = DateTime)]
    pub due_date_end: Option<String>,
    /// A comma list of tag ids; a task matches if it has any of them (`tags_mode=all`: all).
    #[param(example = "1,2")]
    pub tags: Option<String>,
    /// `any` (default) or `all`.
    #[param(inline)]
    pub tags_mode: Option<TagsMode>,
    /// `created_at` (default), `due_datetime`, `priority` or `title`; ties broken by id.
    #[param(inline)]
    pub sort_by: Option<SortKey>,
    /// `asc` or `desc` (default).
    #[param(inline)]
    pub sort_order: Option<SortOrder>,
    /// Page size, 1-100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Offset of the page (default 0).
    #[param(minimum = 0)]
    pub offset: Option<u64>,
}

/// The `{user_id}` path parameter of every route of a user: `params(openapi::UserPath, ...)`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct UserPath {
    /// The user; must equal the token's `sub` (else 403)
    pub user_id: String,
}

/// The query of `GET /activity-logs`. Unknown parameters are rejected (400).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// Offset of the page (default 0).
    #[param(minimum = 0)]
    pub offset: Option<u64>,
}
