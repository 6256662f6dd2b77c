//! Tag routes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use todo_core::input::{CreateTagInput, UpdateTagInput};

use super::auth::AuthUser;
use super::dto::{TagCountDto, TagDto, TagListDto};
use super::error::ApiError;
use super::extract::{JsonBody, PathIds};
use super::openapi::{self, ErrorBody};
use super::{AppState, AppStore};

type Result<T> = std::result::Result<T, ApiError>;

/// `GET /tags` -> `{tags: [{id,name,color,task_count}]}`.
#[utoipa::path(
    get,
    path = "/api/v1/{user_id}/tags",
    operation_id = "list_tags",
    tag = "tags",
    params(openapi::UserPath),
    responses(
        (status = 200, description = "The user's tags with the number of tasks carrying each", body = TagListDto),
        openapi::BadRequest,
        openapi::AuthedErrors
    )
)]
pub async fn list<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
) -> Result<Json<TagListDto>> {
    let tags = st.service.list_tags(&user).await?;
    Ok(Json(TagListDto {
        tags: tags.iter().map(TagCountDto::from).collect(),
    }))
}

/// `POST /tags` -> 201 tag (409 for a name the user has, case-insensitively).
#[utoipa::path(
    post,
    path = "/api/v1/{user_id}/tags",
    operation_id = "create_tag",
    tag = "tags",
    params(openapi::UserPath),
    request_body = openapi::CreateTagInput,
    responses(
        (status = 201, description = "The new tag", body = TagDto),
        openapi::BadRequest,
        (status = 409, description = "`CONFLICT`: the user has a tag of this name (case-insensitively). `QUOTA_EXCEEDED`: the user holds as many tags as the quota allows (`details`: `{\"quota\": \"tags\", \"limit\": 500}`)", body = ErrorBody),
        openapi::TooLarge,
        openapi::NotJson,
        openapi::Unprocessable,
        openapi::AuthedErrors
    )
)]
pub async fn create<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    JsonBody(input): JsonBody<CreateTagInput>,
) -> Result<(StatusCode, Json<TagDto>)> {
    let tag = st.service.create_tag(&user, &input).await?;
    Ok((StatusCode::CREATED, Json(TagDto::from(&tag))))
}

/// `PUT /tags/{tag_id}` -> the tag.
#[utoipa::path(
    put,
    path = "/api/v1/{user_id}/tags/{tag_id}",
    operation_id = "update_tag",
    tag = "tags",
    params(openapi::UserPath, ("tag_id" = i64, Path, minimum = 1, description = "The tag")),
    request_body = openapi::UpdateTagInput,
    responses(
        (status = 200, description = "The updated tag", body = TagDto),
        openapi::BadRequest,
        openapi::NotFound,
        (status = 409, description = "`CONFLICT`: the user has another tag of this name (case-insensitively)", body = ErrorBody),
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
    JsonBody(input): JsonBody<UpdateTagInput>,
) -> Result<Json<TagDto>> {
    let tag = st.service.update_tag(&user, ids.tag_id()?, &input).await?;
    Ok(Json(TagDto::from(&tag)))
}

/// `DELETE /tags/{tag_id}` -> 204 (detaches it from its tasks; a second delete -> 404).
#[utoipa::path(
    delete,
    path = "/api/v1/{user_id}/tags/{tag_id}",
    operation_id = "delete_tag",
    tag = "tags",
    params(openapi::UserPath, ("tag_id" = i64, Path, minimum = 1, description = "The tag")),
    responses(
        (status = 204, description = "Deleted and detached from its tasks (a second delete answers 404)"),
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
    st.service.delete_tag(&user, ids.tag_id()?).await?;
    Ok(StatusCode::NO_CONTENT)
}
