//! The routes the Dapr sidecar calls (only with Dapr configured; 404 otherwise): the
//! subscriptions, event deliveries and job callbacks. Not part of the public API (not in the
//! OpenAPI document).

use axum::Json;
use axum::body::Bytes;
use std::net::SocketAddr;

use axum::Extension;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use todo_events::dapr::jobs::ReminderJob;
use todo_events::dapr::subscription::{DeliveryAnswer, DeliveryStatus, event_of_delivery};
use todo_events::{EventHandler, Topic};

use super::error::{ApiError, ErrorCode};
use super::{AppState, AppStore};
use crate::consumers::{
    ACTIVITY_LOG_WRITER, ActivityLogWriter, RECURRING_TASK_CREATOR, RecurringTaskCreator,
};
use crate::dapr::DaprInbound;
use crate::reminders::ReminderJobSync;

/// The header the sidecar sends `APP_API_TOKEN` in.
pub const APP_TOKEN_HEADER: &str = "dapr-api-token";

type Result<T> = std::result::Result<T, ApiError>;

/// Who called: the peer address, when the server was started with connection info.
pub type Peer = Option<Extension<ConnectInfo<SocketAddr>>>;

/// The Dapr side of the state, if Dapr is configured and the caller is the sidecar: with
/// `APP_API_TOKEN`, a call carrying it in `dapr-api-token`; without, a call from the loopback
/// interface (the sidecar shares the pod's network), so that these routes, served on the API's
/// port, cannot be called from outside to fire reminders or forge events.
fn inbound<'a, S>(
    st: &'a AppState<S>,
    headers: &HeaderMap,
    peer: &Peer,
) -> Result<&'a DaprInbound> {
    let dapr = st
        .dapr
        .as_deref()
        .ok_or_else(|| ApiError::not_found("Dapr is not configured on this server"))?;
    let allowed = match &dapr.app_api_token {
        Some(token) => headers
            .get(APP_TOKEN_HEADER)
            .is_some_and(|given| same_secret(given.as_bytes(), token.as_bytes())),
        None => peer
            .as_ref()
            .is_some_and(|Extension(ConnectInfo(addr))| addr.ip().is_loopback()),
    };
    if !allowed {
        return Err(ApiError::unauthorized(format!(
            "only the Dapr sidecar may call this: a valid {APP_TOKEN_HEADER} header (APP_API_TOKEN), or a call from the loopback interface when none is configured"
        )));
    }
    Ok(dapr)
}

/// Equal secrets, compared in time that does not depend on where they differ.
fn same_secret(given: &[u8], want: &[u8]) -> bool {
    given.len() == want.len()
        && given
            .iter()
            .zip(want)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// `GET /dapr/subscribe`: the programmatic subscriptions.
pub async fn subscribe<S>(
    State(st): State<AppState<S>>,
    peer: Peer,
    headers: HeaderMap,
) -> Result<Response> {
    Ok(Json(&inbound(&st, &headers, &peer)?.subscriptions).into_response())
}

/// `POST /dapr/events/{topic}`: one CloudEvents delivery, handled by the topic's consumer.
/// Always 200 with the answer for Dapr (`SUCCESS`, `RETRY`, `DROP`) for a subscribed topic.
pub async fn deliver<S: AppStore>(
    State(st): State<AppState<S>>,
    Path(topic): Path<String>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let dapr = inbound(&st, &headers, &peer)?;
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
pub async fn job<S: AppStore>(
    State(st): State<AppState<S>>,
    Path(name): Path<String>,
    peer: Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let dapr = inbound(&st, &headers, &peer)?;
    if !st.features.reminders {
        return Err(ApiError::not_found(
            "reminders are switched off on this server",
        ));
    }
    let job = ReminderJob::of_callback(&name, &body).map_err(|e| {
        dapr.job_callbacks.with_label_values(&["rejected"]).inc();
        ApiError::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::ValidationError,
            e.to_string(),
        )
    })?;
    match st
        .service
        .fire_reminder(&job.user_id, job.reminder_id)
        .await
    {
        Ok(true) => {
            dapr.job_callbacks.with_label_values(&["fired"]).inc();
            dapr.bus.wake();
            Ok(Json(serde_json::json!({ "status": "fired" })).into_response())
        }
        // Not pending any more, or moved later since the job was scheduled (its activity event
        // not applied yet): put the task's job in step with its reminder now.
        Ok(false) => {
            dapr.job_callbacks.with_label_values(&["skipped"]).inc();
            let sync = ReminderJobSync {
                service: st.service.clone(),
                jobs: dapr.jobs.clone(),
            };
            if let Err(e) = sync.sync(&job.user_id, job.task_id).await {
                tracing::warn!(job = %name, error = %e, "dapr: the reminder job could not be put in step");
            }
            Ok(Json(serde_json::json!({ "status": "skipped" })).into_response())
        }
        Err(e) => {
            dapr.job_callbacks.with_label_values(&["failed"]).inc();
            tracing::warn!(job = %name, error = %e, "dapr: reminder job failed");
            Err(ApiError::from(e))
        }
    }
}
