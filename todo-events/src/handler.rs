//! What a consumer does with each event, whatever delivered it (a Kafka consumer group, a Dapr
//! subscription): the one place the adapters' consumers share.

use std::future::Future;

use crate::envelope::EventEnvelope;

/// What a consumer does with each decoded event.
///
/// Delivery is at least once: the same event (same `event_id`) may come again, after a retry,
/// a restart or a republished batch, and the handler must skip it.
pub trait EventHandler: Send + Sync {
    /// Handles one event.
    fn handle(
        &self,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}

/// Why a handler did not handle an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// A transient failure (e.g. the database is unreachable): the event is retried, with
    /// backoff, a bounded number of times, then dead-lettered.
    #[error("retryable: {0}")]
    Retryable(String),
    /// The event can never be handled: it is dead-lettered at once.
    #[error("permanent: {0}")]
    Permanent(String),
}
