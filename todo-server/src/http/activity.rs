//! The activity log route.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use todo_core::query::ActivityQuery;

use super::auth::AuthUser;
use super::dto::{ActivityDto, ActivityListDto};
use super::error::ApiError;
use super::extract::QueryPairs;
use super::openapi::{self, PageQuery};
use super::{AppState, AppStore};

/// `GET /activity-logs?limit&offset` -> `{activity_logs,total,limit,offset}`, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/{user_id}/activity-logs",
    operation_id = "list_activity",
    tag = "activity",
    params(openapi::UserPath, PageQuery),
    responses(
        (status = 200, description = "A page of the activity log, newest first", body = ActivityListDto),
        super::openapi::BadRequest,
        super::openapi::AuthedErrors
    )
)]
pub async fn list<S: AppStore>(
    AuthUser(user): AuthUser,
    State(st): State<AppState<S>>,
    query: QueryPairs,
) -> Result<Json<ActivityListDto>, ApiError> {
    let q = ActivityQuery::from_pairs(query.iter())
        .map_err(|e| ApiError::validation(StatusCode::BAD_REQUEST, &e))?;
    let page = st.service.activity(&user, &q).await?;
    Ok(Json(ActivityListDto {
        activity_logs: page.entries.iter().map(ActivityDto::from).collect(),
        total: page.total,
        limit: q.limit.get(),
        offset: q.offset,
    }))
}
