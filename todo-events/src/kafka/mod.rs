//! The Kafka edge adapter (cargo feature `kafka`): topic creation, an idempotent publisher and a
//! consumer with bounded retries and dead-letter topics, on rdkafka (bundled librdkafka) and tokio.
//!
//! - [`ensure_topics`] creates the four topics and their `<topic>.dlq` dead-letter topics.
//! - [`KafkaPublisher::publish`] sends a batch of envelopes to every topic of each event, keyed by
//!   user id, and succeeds only when every record was acknowledged (`acks=all`, idempotent
//!   producer); on an error the caller keeps the batch and retries it later.
//! - [`KafkaConsumer::run`] decodes each message, calls an [`EventHandler`] with bounded retries,
//!   sends what cannot be handled to the dead-letter topic (with `dlq-*` headers, see
//!   [`headers`]) and commits each offset only once the message was handled or dead-lettered.
//!
//! Delivery is at least once: consumers skip an `event_id` they have already processed.

mod admin;
mod config;
mod consumer;
mod error;
pub mod headers;
mod probe;
mod publisher;

pub use crate::handler::{EventHandler, HandlerError};
pub use admin::ensure_topics;
pub use config::KafkaConfig;
pub use consumer::{
    ConsumerStats, HANDLER_FAILED, HANDLER_REJECTED, KafkaConsumer, RetryPolicy, StartAt,
};
pub use error::KafkaError;
pub use probe::BrokerProbe;
pub use publisher::{BatchFailure, KafkaPublisher, Refused};
