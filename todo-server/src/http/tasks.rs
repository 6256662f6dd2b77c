//! Task routes: parse, call the service, map errors.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use todo_core::error::{Error, ErrorCode, FieldError};
use todo_core::ids::TagId;
use todo_core::input::{CreateTaskInput, InputBody, SetReminderInput, UpdateTaskInput};
use todo_core::query::TaskQuery;

use super::auth::AuthUser;
use super::dto::{CancelledReminderDto, ReminderDto, TaskDto, TaskListDto};
use super::error::ApiError;
use super::extract::{JsonBody, OptionalJsonBody, PathIds, QueryPairs};
use super::openapi::{self, ErrorBody, TaskListQuery};
use super::{AppState, AppStore};

type Result<T> = std::result::Result<T, ApiError>;

/// Body of `POST /tasks/{task_id}/tags`: `{"tag_id": <id>}`.
#[derive(Debug, Clone, Deserialize)]
pub struct AttachTagInput {
    /// The tag to attach (required).
    #[serde(default)]
    pub tag_id: Option<TagId>,
}

impl InputBody for AttachTagInput {
    const FIELDS: &'static [&'static str] = &["tag_id"];
}

/// Optional body of `PATCH /tasks/{task_id}/complete`: `{"completed": bool}`; absent (or
/// `null`) toggles.
#[derive(Debug, Clone, Deserialize)]
pub struct CompleteInput {
    /// The state to set; `None` toggles.
    #[serde(default)]
    pub completed: Option<bool>,
}

impl InputBody for CompleteInput {
    const FIELDS: &'static [&'static str] = &["completed"];
}

/// `POST /tasks` -> 201 task.
#[utoipa::path(
    post,
    path = "/api/v1/{user_id}/tasks",
    operation_id = "create_task",
    tag = "tasks",
    params(openapi::UserPath),
    request_body = openapi::CreateTaskInput,
    responses(
        (status = 201, description = "The new task (tags expanded, `reminder` or null)", body = TaskDto),
        openapi::BadRequest,
        openapi::ConflictOrQuota,
        openapi::TooLarge,
        openapi::NotJson,
        openapi::Unprocessable,
        openapi::AuthedErrors
    )
)]
pub async fn create<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    JsonBody(input): JsonBody<CreateTaskInput>,
) -> Result<(StatusCode, Json<TaskDto>)> {
    // The core judges the switch on the validated input; with recurring tasks on there is
    // nothing to judge, and the service validates the input itself.
    if !st.features.recurring {
        let draft = input
            .validate(st.service.clock().now())
            .map_err(Error::from)?;
        draft
            .check_recurring_switch(st.features.recurring)
            .map_err(Error::from)?;
    }
    let view = st.service.create_task(&user, &input).await?;
    Ok((StatusCode::CREATED, Json(TaskDto::from(&view))))
}

/// `GET /tasks` -> `{tasks,total,limit,offset}`.
#[utoipa::path(
    get,
    path = "/api/v1/{user_id}/tasks",
    operation_id = "list_tasks",
    tag = "tasks",
    params(openapi::UserPath, TaskListQuery),
    responses(
        (status = 200, description = "A page of tasks", body = TaskListDto),
        openapi::BadRequest,
        openapi::AuthedErrors
    )
)]
pub async fn list<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    query: QueryPairs,
) -> Result<Json<TaskListDto>> {
    let q = TaskQuery::from_pairs(query.iter())
        .map_err(|e| ApiError::validation(StatusCode::BAD_REQUEST, &e))?;
    let page = st.service.list_tasks(&user, &q).await?;
    Ok(Json(TaskListDto {
        tasks: page.items.iter().map(TaskDto::from).collect(),
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    }))
}

/// `GET /tasks/{task_id}`.
#[utoipa::path(
    get,
    path = "/api/v1/{user_id}/tasks/{task_id}",
    operation_id = "get_task",
    tag = "tasks",
    params(openapi::UserPath, ("task_id" = i64, Path, minimum = 1, description = "The task")),
    responses(
        (status = 200, description = "The task", body = TaskDto),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::AuthedErrors
    )
)]
pub async fn get_one<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
) -> Result<Json<TaskDto>> {
    let view = st.service.get_task(&user, ids.task_id()?).await?;
    Ok(Json(TaskDto::from(&view)))
}

/// `PUT /tasks/{task_id}`: partial update.
#[utoipa::path(
    put,
    path = "/api/v1/{user_id}/tasks/{task_id}",
    operation_id = "update_task",
    tag = "tasks",
    params(openapi::UserPath, ("task_id" = i64, Path, minimum = 1, description = "The task")),
    request_body = openapi::UpdateTaskInput,
    responses(
        (status = 200, description = "The updated task", body = TaskDto),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::ConflictOrQuota,
        openapi::TooLarge,
        openapi::NotJson,
        openapi::Unprocessable,
        openapi::AuthedErrors
    )
)]
pub async fn update<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
    JsonBody(input): JsonBody<UpdateTaskInput>,
) -> Result<Json<TaskDto>> {
    // As in `create`: the core judges the switch on the validated update.
    if !st.features.recurring {
        let patch = input.validate().map_err(Error::from)?;
        patch
            .check_recurring_switch(st.features.recurring)
            .map_err(Error::from)?;
    }
    let view = st
        .service
        .update_task(&user, ids.task_id()?, &input)
        .await?;
    Ok(Json(TaskDto::from(&view)))
}

/// `PATCH /tasks/{task_id}/complete`: toggles, or sets `{"completed": bool}`.
#[utoipa::path(
    patch,
    path = "/api/v1/{user_id}/tasks/{task_id}/complete",
    operation_id = "complete_task",
    tag = "tasks",
    params(openapi::UserPath, ("task_id" = i64, Path, minimum = 1, description = "The task")),
    request_body(content = openapi::CompleteInput, description = "Optional: `{\"completed\": bool}` sets the state; no body toggles", content_type = "application/json"),
    responses(
        (status = 200, description = "The task after toggling (or setting) completion; completing a recurring task creates its next instance (`next_task_id`)", body = TaskDto),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::ConflictOrQuota,
        openapi::TooLarge,
        openapi::NotJson,
        openapi::Unprocessable,
        openapi::AuthedErrors
    )
)]
pub async fn complete<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
    OptionalJsonBody(input): OptionalJsonBody<CompleteInput>,
) -> Result<Json<TaskDto>> {
    let id = ids.task_id()?;
    let completed = input.and_then(|i| i.completed);
    let view = st.service.set_completed(&user, id, completed).await?;
    Ok(Json(TaskDto::from(&view)))
}

/// `DELETE /tasks/{task_id}` -> 204 (a second delete -> 404).
#[utoipa::path(
    delete,
    path = "/api/v1/{user_id}/tasks/{task_id}",
    operation_id = "delete_task",
    tag = "tasks",
    params(openapi::UserPath, ("task_id" = i64, Path, minimum = 1, description = "The task")),
    responses(
        (status = 204, description = "Deleted (a second delete answers 404)"),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::Conflict,
        openapi::AuthedErrors
    )
)]
pub async fn remove<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
) -> Result<StatusCode> {
    st.service.delete_task(&user, ids.task_id()?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /tasks/{task_id}/tags` `{"tag_id"}` -> 201 task (409 if attached already).
#[utoipa::path(
    post,
    path = "/api/v1/{user_id}/tasks/{task_id}/tags",
    operation_id = "attach_tag",
    tag = "tasks",
    params(openapi::UserPath, ("task_id" = i64, Path, minimum = 1, description = "The task")),
    request_body = openapi::AttachTagInput,
    responses(
        (status = 201, description = "The task with the tag attached", body = TaskDto),
        openapi::BadRequest,
        openapi::NotFound,
        (status = 409, description = "`CONFLICT`: the tag is attached already, or the task carries 50 tags already", body = ErrorBody),
        openapi::TooLarge,
        openapi::NotJson,
        openapi::Unprocessable,
        openapi::AuthedErrors
    )
)]
pub async fn attach_tag<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
    JsonBody(input): JsonBody<AttachTagInput>,
) -> Result<(StatusCode, Json<TaskDto>)> {
    let id = ids.task_id()?;
    let tag = input.tag_id.ok_or_else(|| {
        ApiError::validation(
            StatusCode::BAD_REQUEST,
            &FieldError::new("tag_id", ErrorCode::Required, "tag_id is required").into(),
        )
    })?;
    let view = st.service.attach_tag(&user, id, tag).await?;
    Ok((StatusCode::CREATED, Json(TaskDto::from(&view))))
}

/// `DELETE /tasks/{task_id}/tags/{tag_id}` -> the task.
#[utoipa::path(
    delete,
    path = "/api/v1/{user_id}/tasks/{task_id}/tags/{tag_id}",
    operation_id = "detach_tag",
    tag = "tasks",
    params(openapi::UserPath, ("task_id" = i64, Path, minimum = 1, description = "The task"), ("tag_id" = i64, Path, minimum = 1, description = "The tag")),
    responses(
        (status = 200, description = "The task without the tag", body = TaskDto),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::Conflict,
        openapi::AuthedErrors
    )
)]
pub async fn detach_tag<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
) -> Result<Json<TaskDto>> {
    let view = st
        .service
        .detach_tag(&user, ids.task_id()?, ids.tag_id()?)
        .await?;
    Ok(Json(TaskDto::from(&view)))
}

/// `POST /tasks/{task_id}/reminder` -> 201 reminder.
#[utoipa::path(
    post,
    path = "/api/v1/{user_id}/tasks/{task_id}/reminder",
    operation_id = "set_reminder",
    tag = "tasks",
    params(openapi::UserPath, ("task_id" = i64, Path, minimum = 1, description = "The task")),
    request_body = openapi::SetReminderInput,
    responses(
        (status = 201, description = "The pending reminder (it replaces a pending one)", body = ReminderDto),
        openapi::BadRequest,
        openapi::NotFound,
        (status = 409, description = "`CONFLICT`: the task is completed (it takes no reminder), or it was changed concurrently", body = ErrorBody),
        openapi::TooLarge,
        openapi::NotJson,
        openapi::Unprocessable,
        openapi::AuthedErrors
    )
)]
pub async fn set_reminder<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
    JsonBody(input): JsonBody<SetReminderInput>,
) -> Result<(StatusCode, Json<ReminderDto>)> {
    refuse_reminders(&st)?;
    let r = st
        .service
        .set_reminder(&user, ids.task_id()?, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(ReminderDto::from(&r))))
}

/// `DELETE /tasks/{task_id}/reminder` -> `{id, status: "cancelled", cancelled_at}`.
#[utoipa::path(
    delete,
    path = "/api/v1/{user_id}/tasks/{task_id}/reminder",
    operation_id = "cancel_reminder",
    tag = "tasks",
    params(openapi::UserPath, ("task_id" = i64, Path, minimum = 1, description = "The task")),
    responses(
        (status = 200, description = "The cancelled reminder", body = CancelledReminderDto),
        openapi::BadRequest,
        openapi::NotFound,
        openapi::Conflict,
        openapi::AuthedErrors
    )
)]
pub async fn cancel_reminder<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    ids: PathIds,
) -> Result<Json<CancelledReminderDto>> {
    refuse_reminders(&st)?;
    let r = st.service.cancel_reminder(&user, ids.task_id()?).await?;
    Ok(Json(CancelledReminderDto::from(&r)))
}

/// 404 when reminders are switched off (`TODO_FEATURE_REMINDERS`).
fn refuse_reminders<S>(st: &AppState<S>) -> Result<()> {
    if st.features.reminders {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "reminders are switched off on this server",
        ))
    }
}
