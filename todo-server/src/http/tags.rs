//! Tag routes.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use todo_core::input::{CreateTagInput, UpdateTagInput};
use todo_core::ports::{Clock, IdSource, Store};

use super::AppState;
use super::auth::AuthUser;
use super::dto::{TagCountDto, TagDto, TagListDto};
use super::error::ApiError;
use super::extract::{JsonBody, PathIds};

type Result<T> = std::result::Result<T, ApiError>;

/// `GET /tags` -> `{tags: [{id,name,color,task_count}]}`.
pub async fn list<S: Store + 'static, C: Clock + 'static, I: IdSource + 'static>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S, C, I>>,
) -> Result<Json<TagListDto>> {
    let tags = st.service.list_tags(&user).await?;
    Ok(Json(TagListDto {
        tags: tags.iter().map(TagCountDto::from).collect(),
    }))
}

/// `POST /tags` -> 201 tag (409 for a name the user has, case-insensitively).
pub async fn create<S: Store + 'static, C: Clock + 'static, I: IdSource + 'static>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S, C, I>>,
    JsonBody(input): JsonBody<CreateTagInput>,
) -> Result<(StatusCode, Json<TagDto>)> {
    let tag = st.service.create_tag(&user, &input).await?;
    Ok((StatusCode::CREATED, Json(TagDto::from(&tag))))
}

/// `PUT /tags/{tag_id}` -> the tag.
pub async fn update<S: Store + 'static, C: Clock + 'static, I: IdSource + 'static>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S, C, I>>,
    ids: PathIds,
    JsonBody(input): JsonBody<UpdateTagInput>,
) -> Result<Json<TagDto>> {
    let tag = st.service.update_tag(&user, ids.tag_id()?, &input).await?;
    Ok(Json(TagDto::from(&tag)))
}

/// `DELETE /tags/{tag_id}` -> 204 (detaches it from its tasks; a second delete -> 404).
pub async fn remove<S: Store + 'static, C: Clock + 'static, I: IdSource + 'static>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S, C, I>>,
    ids: PathIds,
) -> Result<StatusCode> {
    st.service.delete_tag(&user, ids.tag_id()?).await?;
    Ok(StatusCode::NO_CONTENT)
}
