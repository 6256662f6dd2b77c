//! The server's Dapr side (`DAPR_GRPC_PORT`): what the sidecar gives the server, and what the
//! server answers the sidecar.
//!
//! - Events: without `KAFKA_BROKERS`, the outbox relay publishes through Dapr pub/sub
//!   ([`DaprPublisher`]); the [consumers](crate::consumers) receive their topics through the
//!   subscriptions the server declares at `GET /dapr/subscribe` (each with its `<topic>.dlq`
//!   dead-letter topic) at `POST /dapr/events/<topic>`, answering `SUCCESS`, `RETRY` (a
//!   transient failure: Dapr delivers again) or `DROP` (never: Dapr dead-letters it).
//! - Conversations live in the Dapr state store ([`DaprConversations`]).
//! - Secrets: `TODO_JWT_SECRET` and `DATABASE_URL` from the secret store at start
//!   ([`secret_overlay`]).
//! - Jobs: each task with a pending reminder has a job at the reminder's time, kept in step by
//!   [`crate::reminders::ReminderJobSync`] on the `activity-logs` subscription; the job calls
//!   back `POST /job/reminder-<task id>`, which fires the reminder once
//!   ([`todo_core::service::TaskService::fire_reminder`]).
//! - Service invocation: other apps call this server's HTTP API through their sidecar; nothing
//!   to do here.
//!
//! The Dapr routes are only served when Dapr is configured; with `APP_API_TOKEN` set they
//! require the sidecar's `dapr-api-token` header.

use std::collections::BTreeMap;

use prometheus::{IntCounterVec, Opts};
use todo_events::Topic;
use todo_events::dapr::subscription::Subscription;
use todo_events::dapr::{
    DaprConversations, DaprError, DaprJobs, DaprPublisher, Sidecar, SidecarOptions,
};

use crate::bus::EventBus;
use crate::config::DaprSettings;
use crate::consumers::FanOut;
use crate::http::Metrics;

/// The secret keys the server reads from the Dapr secret store, by the variable they replace.
pub const SECRET_KEYS: [&str; 2] = ["TODO_JWT_SECRET", "DATABASE_URL"];

/// Connects to the sidecar, waiting for it (`DAPR_WAIT_SECS`).
///
/// # Errors
/// The sidecar did not answer in time.
pub async fn connect(settings: &DaprSettings) -> Result<Sidecar, DaprError> {
    Sidecar::connect(&SidecarOptions {
        endpoint: settings.endpoint.clone(),
        api_token: settings.api_token.clone(),
        wait: settings.wait,
    })
    .await
}

/// The variables the secret store holds for this server ([`SECRET_KEYS`] found in the secret
/// `DAPR_SECRET_NAME`), to read in place of the environment's; empty without
/// `DAPR_SECRET_STORE`.
///
/// # Errors
/// The secret store or the secret does not exist.
pub async fn secret_overlay(
    sidecar: &Sidecar,
    settings: &DaprSettings,
) -> Result<BTreeMap<String, String>, DaprError> {
    let Some(store) = &settings.secret_store else {
        return Ok(BTreeMap::new());
    };
    let mut secret = todo_events::dapr::read_secret(sidecar, store, &settings.secret_name).await?;
    secret.retain(|k, _| SECRET_KEYS.contains(&k.as_str()));
    Ok(secret)
}

/// What the HTTP layer needs when Dapr is configured.
pub struct DaprInbound {
    /// The sidecar (readiness checks it).
    pub sidecar: Sidecar,
    /// The subscriptions declared at `GET /dapr/subscribe`.
    pub subscriptions: Vec<Subscription>,
    /// Required in the `dapr-api-token` header of the sidecar's calls, when set.
    pub app_api_token: Option<String>,
    /// Where `task-updates` and `reminders` go (this process's real-time subscribers).
    pub fan_out: FanOut,
    /// Woken after a job callback fired a reminder (its event is in the outbox).
    pub bus: EventBus,
    /// Conversations in the Dapr state store.
    pub conversations: DaprConversations,
    /// Reminder jobs (kept in step with the tasks' activity).
    pub jobs: DaprJobs,
    /// `todo_dapr_deliveries_total{topic, status}`.
    pub deliveries: IntCounterVec,
    /// `todo_dapr_job_callbacks_total{outcome}`.
    pub job_callbacks: IntCounterVec,
}

impl DaprInbound {
    /// The inbound side on this sidecar, with its counters registered in `metrics`.
    ///
    /// # Errors
    /// The counters are registered already.
    pub fn new(
        sidecar: &Sidecar,
        settings: &DaprSettings,
        bus: &EventBus,
        metrics: &Metrics,
    ) -> Result<Self, prometheus::Error> {
        let deliveries = IntCounterVec::new(
            Opts::new(
                "todo_dapr_deliveries_total",
                "Events delivered by Dapr pub/sub, by topic and the answer given",
            ),
            &["topic", "status"],
        )?;
        let job_callbacks = IntCounterVec::new(
            Opts::new(
                "todo_dapr_job_callbacks_total",
                "Dapr job callbacks, by outcome (fired, skipped, rejected, failed)",
            ),
            &["outcome"],
        )?;
        metrics.register(Box::new(deliveries.clone()))?;
        metrics.register(Box::new(job_callbacks.clone()))?;
        Ok(DaprInbound {
            sidecar: sidecar.clone(),
            subscriptions: subscriptions(settings),
            app_api_token: settings.app_api_token.clone(),
            fan_out: FanOut::new(bus.clone()),
            bus: bus.clone(),
            conversations: DaprConversations::new(sidecar.clone(), settings.state_store.clone()),
            jobs: DaprJobs::new(sidecar.clone()),
            deliveries,
            job_callbacks,
        })
    }
}

/// The subscriptions: the recurring-task creator's `task-events` and the activity-log writer's
/// `activity-logs` on `DAPR_PUBSUB_NAME`, the fan-out's `task-updates` and `reminders` on
/// `DAPR_FANOUT_PUBSUB_NAME`.
pub fn subscriptions(settings: &DaprSettings) -> Vec<Subscription> {
    vec![
        Subscription::to(&settings.pubsub, Topic::TaskEvents),
        Subscription::to(&settings.pubsub, Topic::ActivityLogs),
        Subscription::to(&settings.fanout_pubsub, Topic::TaskUpdates),
        Subscription::to(&settings.fanout_pubsub, Topic::Reminders),
    ]
}

/// The relay's publisher on `DAPR_PUBSUB_NAME`.
pub fn publisher(sidecar: &Sidecar, settings: &DaprSettings) -> DaprPublisher {
    DaprPublisher::new(sidecar.clone(), settings.pubsub.clone())
}
