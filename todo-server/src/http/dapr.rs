//! The routes the Dapr sidecar calls (only with Dapr configured; 404 otherwise): the
//! subscriptions, event deliveries and job callbacks. Not part of the public API (not in the
//! OpenAPI document).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use todo_core::ports::{Clock, IdSource, Store};
use todo_events::dapr::jobs::ReminderJob;
use todo_events::dapr::subscription::{DeliveryAnswer, DeliveryStatus, event_of_delivery};
use todo_events::{EventHandler, Topic};

use super::AppState;
use super::error::ApiError;
use crate::consumers::{
    ACTIVITY_LOG_WRITER, ActivityLogWriter, RECURRING_TASK_CREATOR, RecurringTaskCreator,
};
use crate::dapr::DaprInbound;
use crate::reminders::ReminderJobSync;

/// The header the sidecar sends `APP_API_TOKEN` in.
pub const APP_TOKEN_HEADER: &str = "dapr-api-token";

type Result<T> = std::result::Result<T, ApiError>;

/// The Dapr side of the state, if Dapr is configured and the caller is the sidecar.
fn inbound<'a, S, C, I>(st: &'a AppState<S, C, I>, headers: &HeaderMap) -> Result<&'a DaprInbound> {
    let dapr = st
        .dapr
        .as_deref()
        .ok_or_else(|| ApiError::not_found("Dapr is not configured on this server"))?;
    if let Some(token) = &dapr.app_api_token {
        let given = headers.get(APP_TOKEN_HEADER).map(|v| v.as_bytes());
        if given != Some(token.as_bytes()) {
            return Err(ApiError::unauthorized(format!(
                "a valid {APP_TOKEN_HEADER} header is required"
            )));
        }
    }
    Ok(dapr)
}

/// `GET /dapr/subscribe`: the programmatic subscriptions.
pub async fn subscribe<S, C, I>(
    State(st): State<AppState<S, C, I>>,
    headers: HeaderMap,
) -> Result<Response> {
    Ok(Json(&inbound(&st, &headers)?.subscriptions).into_response())
}

/// `POST /dapr/events/{topic}`: one CloudEvents delivery, handled by the topic's consumer.
/// Always 200 with the answer for Dapr (`SUCCESS`, `RETRY`, `DROP`) for a subscribed topic.
pub async fn deliver<S, C, I>(
    State(st): State<AppState<S, C, I>>,
    Path(topic): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response>
where
    S: Store + 'static,
    C: Clock + 'static,
    I: IdSource + 'static,
{
    let dapr = inbound(&st, &headers)?;
    let topic = Topic::parse(&topic)
        .ok()
        .filter(|t| dapr.subscriptions.iter().any(|s| s.topic == t.name()))
        .ok_or_else(|| ApiError::not_found(format!("no subscription of topic {topic:?}")))?;
    let status = match event_of_delivery(&body) {
        Err(e) => {
            tracing::warn!(topic = topic.name(), error = %e, "dapr: undecodable event dropped to the dead-letter topic");
            DeliveryStatus::Drop
        }
        Ok(event) => {
            let outcome = match topic {
                Topic::TaskEvents => {
                    RecurringTaskCreator(st.service.clone())
                        .handle(&event)
                        .await
                }
                Topic::ActivityLogs => {
                    let written = ActivityLogWriter(st.service.clone()).handle(&event).await;
                    let jobs = ReminderJobSync {
                        service: st.service.clone(),
                        jobs: dapr.jobs.clone(),
                    };
                    match written {
                        Ok(()) => jobs.handle(&event).await,
                        failed => failed,
                    }
                }
                Topic::TaskUpdates | Topic::Reminders => dapr.fan_out.handle(&event).await,
            };
            if let Err(e) = &outcome {
                let consumer = match topic {
                    Topic::TaskEvents => RECURRING_TASK_CREATOR,
                    Topic::ActivityLogs => ACTIVITY_LOG_WRITER,
                    _ => "fan-out",
                };
                tracing::warn!(consumer, event_id = %event.event_id, error = %e, "dapr: event not handled");
            }
            DeliveryStatus::of(&outcome)
        }
    };
    let label = match status {
        DeliveryStatus::Success => "SUCCESS",
        DeliveryStatus::Retry => "RETRY",
        DeliveryStatus::Drop => "DROP",
    };
    dapr.deliveries
        .with_label_values(&[topic.name(), label])
        .inc();
    Ok(Json(DeliveryAnswer { status }).into_response())
}

/// `POST /job/{name}`: a reminder job is due: fire the reminder (once; a reminder that is not
/// pending any more, e.g. cancelled or fired by another replica, is left alone). 200 when done;
/// an error status (e.g. 503 while the database is unavailable) makes Dapr call again; 400 for
/// a job that is not one of this server's reminders.
pub async fn job<S, C, I>(
    State(st): State<AppState<S, C, I>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response>
where
    S: Store + 'static,
    C: Clock + 'static,
    I: IdSource + 'static,
{
    let dapr = inbound(&st, &headers)?;
    let job = ReminderJob::of_callback(&name, &body).map_err(|e| {
        dapr.job_callbacks.with_label_values(&["rejected"]).inc();
        ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", e.to_string())
    })?;
    match st
        .service
        .fire_reminder(&job.user_id, job.reminder_id)
        .await
    {
        Ok(fired) => {
            let outcome = if fired { "fired" } else { "not_pending" };
            dapr.job_callbacks.with_label_values(&[outcome]).inc();
            if fired {
                dapr.bus.wake();
            }
            Ok(Json(serde_json::json!({ "status": outcome })).into_response())
        }
        Err(e) => {
            dapr.job_callbacks.with_label_values(&["failed"]).inc();
            tracing::warn!(job = %name, error = %e, "dapr: reminder job failed");
            Err(ApiError::from(e))
        }
    }
}
