//! The one error type of the Kafka adapter.

use thiserror::Error;

/// Why a Kafka operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KafkaError {
    /// A client (producer, consumer, admin) could not be created or configured.
    #[error("could not create the Kafka {what}: {source}")]
    Client {
        /// Which client.
        what: &'static str,
        /// What librdkafka said.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// Creating a topic failed (other than because it already exists).
    #[error("could not create topic {topic}: {reason}")]
    CreateTopic {
        /// The topic (or the topics, comma-separated, when the whole request failed).
        topic: String,
        /// What the broker or librdkafka said.
        reason: String,
    },
    /// An envelope could not be serialized.
    #[error("could not encode event {event_id}: {source}")]
    Encode {
        /// The event.
        event_id: String,
        /// Why.
        #[source]
        source: crate::Error,
    },
    /// A record was not acknowledged by the brokers (or could not be enqueued).
    #[error("delivery to {topic} failed: {source}")]
    Delivery {
        /// The topic of the record.
        topic: String,
        /// What librdkafka said.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The producer went away before the record's delivery was reported.
    #[error("delivery to {topic} was cancelled (the producer was dropped)")]
    Cancelled {
        /// The topic of the record.
        topic: String,
    },
    /// Flushing the producer did not finish in time.
    #[error("flushing the producer failed: {0}")]
    Flush(#[source] rdkafka::error::KafkaError),
    /// No broker answered (readiness).
    #[error("no Kafka broker answers: {0}")]
    Unreachable(String),
}
