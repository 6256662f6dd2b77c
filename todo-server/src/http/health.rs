//! Liveness and readiness probes (unauthenticated, outside the `/api` prefix).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::openapi::{ErrorBody, Liveness, Readiness};
use super::{AppState, AppStore};

/// `GET /healthz`: the process is up and serving.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "health",
    responses((status = 200, description = "The process is up", body = Liveness)),
    security(())
)]
pub async fn healthz() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// How long `/readyz` waits for the Kafka brokers.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// `GET /readyz`: the database answers (one round trip to the outbox, the table every write
/// goes through), and the Kafka brokers and the Dapr sidecar when they are configured. 503 `UNAVAILABLE` in the
/// contract's error format otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "health",
    responses(
        (status = 200, description = "The database (and the Kafka brokers, the Dapr sidecar) answer", body = Readiness),
        (status = 503, description = "`UNAVAILABLE`: the database, the brokers or the sidecar do not answer", body = ErrorBody)
    ),
    security(())
)]
pub async fn readyz<S: AppStore>(State(state): State<AppState<S>>) -> Response {
    if let Err(e) = state.service.store().undelivered_events(1).await {
        tracing::warn!(error = %e, "readiness: database check failed");
        // Plain text: the error layer turns it into the contract's error body.
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "the database does not answer",
        )
            .into_response();
    }
    let broker = match &state.kafka {
        None => "none",
        Some(probe) => match probe.check(PROBE_TIMEOUT).await {
            Ok(()) => "ok",
            Err(e) => {
                tracing::warn!(error = %e, "readiness: Kafka check failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the Kafka brokers do not answer",
                )
                    .into_response();
            }
        },
    };
    let sidecar = match &state.dapr {
        None => "none",
        Some(dapr) => match dapr.sidecar.app_id().await {
            Ok(_) => "ok",
            Err(e) => {
                tracing::warn!(error = %e, "readiness: Dapr sidecar check failed");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the Dapr sidecar does not answer",
                )
                    .into_response();
            }
        },
    };
    Json(json!({"status": "ready", "database": "ok", "broker": broker, "sidecar": sidecar}))
        .into_response()
}
