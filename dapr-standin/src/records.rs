//! What the stand-in records for tests to inspect: publishes, deliveries, dead letters, jobs,
//! invocations.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// An accepted `PublishEvent` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The pub/sub component.
    pub pubsub: String,
    /// The topic.
    pub topic: String,
    /// The payload as the app sent it.
    pub data: Vec<u8>,
    /// The payload's content type (`application/json` when the app gave none).
    pub content_type: String,
    /// The publish metadata (e.g. `cloudevent.id`, `partitionKey`).
    pub metadata: BTreeMap<String, String>,
}

/// One delivery attempt of a message to the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The pub/sub component.
    pub pubsub: String,
    /// The topic the subscription is on.
    pub topic: String,
    /// The app route the message was posted to.
    pub route: String,
    /// The CloudEvent `id` (empty for a raw body without one).
    pub cloud_event_id: String,
    /// 1 for the first attempt of a message, 2 for its first retry, ...
    pub attempt: u32,
    /// What the app answered.
    pub outcome: DeliveryOutcome,
}

/// How the app answered one delivery (or, from `deliver_raw`, the last attempt of a message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// 2xx with an empty body, `{}` or `{"status":"SUCCESS"}`.
    Success,
    /// 2xx `{"status":"RETRY"}` (or an unknown status): retried.
    Retry,
    /// 2xx `{"status":"DROP"}`: dropped (to the dead-letter topic if the subscription has one).
    Drop,
    /// 404: daprd logs an error and drops the message.
    NotFound,
    /// Any other non-2xx status: retried.
    HttpStatus(u16),
    /// The app could not be reached or answered a 2xx body that is not a status object: retried.
    Failed(String),
    /// `deliver_raw` only: the app has no subscription on that topic.
    NoSubscriber,
}

/// A message moved to a dead-letter topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLettered {
    /// The pub/sub component.
    pub pubsub: String,
    /// The dead-letter topic.
    pub topic: String,
    /// The topic the message failed on.
    pub original_topic: String,
    /// The CloudEvent as it was delivered.
    pub body: Vec<u8>,
    /// Why: the app dropped it, or the retries ran out (with the last outcome).
    pub reason: String,
}

/// A job currently scheduled.
#[derive(Debug, Clone, PartialEq)]
pub struct JobInfo {
    /// The job's name.
    pub name: String,
    /// When it fires.
    pub due: DateTime<Utc>,
    /// Its payload.
    pub data: Option<prost_types::Any>,
}

/// One callback attempt of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobTrigger {
    /// The job's name.
    pub name: String,
    /// When it was due.
    pub due: DateTime<Utc>,
    /// When this attempt was made.
    pub fired_at: DateTime<Utc>,
    /// 1 for the first attempt, 2 for the first retry, ...
    pub attempt: u32,
    /// The app's HTTP status, or why the app was not reached.
    pub result: Result<u16, String>,
}

/// An `InvokeService` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The method (path) invoked on the app.
    pub method: String,
    /// The HTTP verb used.
    pub verb: String,
    /// The query string, without `?`.
    pub querystring: String,
    /// The app's HTTP status; 0 when the app was not reached.
    pub status: u16,
}
