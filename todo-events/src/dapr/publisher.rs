//! The outbox relay's publisher on Dapr pub/sub.

use std::collections::HashMap;

use dapr::dapr::proto::runtime::v1::PublishEventRequest;
use todo_core::error::{PublishError, Rejection};
use todo_core::ports::{DEFAULT_MAX_EVENT_BYTES, EventPublisher, OutboxEntry};

use super::client::Sidecar;
use super::error::DaprError;
use crate::codec;
use crate::envelope::EventEnvelope;

/// Publishes each event to each of its topics through the sidecar's pub/sub component, one at
/// a time in outbox order (so a user's events keep their order), and succeeds only when the
/// sidecar accepted every one (for Kafka: the broker acknowledged it). The CloudEvent Dapr
/// wraps around the envelope gets the `event_id` as its id and the event type as its type; the
/// user id is the partition key (Kafka message key).
///
/// As the outbox relay's publisher, it refuses for good (the relay parks them) the events that
/// break the contract or whose encoding is longer than the limit
/// ([`DaprPublisher::with_max_event_bytes`], default [`DEFAULT_MAX_EVENT_BYTES`]), before
/// anything of the batch is sent, and an event the sidecar refuses as too large
/// ([`DaprError::refusal`]). Every other failure (a missing component, the sidecar or the
/// broker down) is retried: it would refuse every event alike.
#[derive(Debug, Clone)]
pub struct DaprPublisher {
    sidecar: Sidecar,
    pubsub: String,
    max_event_bytes: usize,
}

impl DaprPublisher {
    /// A publisher on the pub/sub component `pubsub`.
    pub fn new(sidecar: Sidecar, pubsub: impl Into<String>) -> Self {
        DaprPublisher {
            sidecar,
            pubsub: pubsub.into(),
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }

    /// Refuses events whose encoding is longer than `bytes` (`TODO_EVENT_MAX_BYTES`).
    #[must_use]
    pub fn with_max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
    }

    /// Publishes the envelopes in order; stops at the first failure.
    ///
    /// # Errors
    /// The sidecar refused one (the ones before it were published).
    pub async fn publish_envelopes(&self, events: &[EventEnvelope]) -> Result<(), DaprError> {
        for event in events {
            let data = codec::encode(event).map_err(|source| DaprError::Encode {
                event_id: event.event_id.to_string(),
                source,
            })?;
            self.publish_one(event, data).await?;
        }
        Ok(())
    }

    /// Publishes one encoded envelope to each of its topics.
    async fn publish_one(&self, event: &EventEnvelope, data: Vec<u8>) -> Result<(), DaprError> {
        let mut raw = self.sidecar.raw();
        let metadata = HashMap::from([
            ("partitionKey".to_owned(), event.key().to_owned()),
            ("cloudevent.id".to_owned(), event.event_id.to_string()),
            (
                "cloudevent.type".to_owned(),
                event.event_type().as_str().to_owned(),
            ),
        ]);
        for topic in event.topics() {
            raw.publish_event(PublishEventRequest {
                pubsub_name: self.pubsub.clone(),
                topic: topic.name().to_owned(),
                data: data.clone(),
                data_content_type: "application/json".to_owned(),
                metadata: metadata.clone(),
            })
            .await
            .map_err(|s| DaprError::call("PublishEvent", &s))?;
        }
        Ok(())
    }
}

impl EventPublisher for DaprPublisher {
    async fn publish(&self, batch: &[OutboxEntry]) -> Result<(), PublishError> {
        for e in crate::relay::encode_batch(batch, self.max_event_bytes)? {
            let bytes = e.payload.len();
            if let Err(err) = self.publish_one(&e.envelope, e.payload).await {
                return Err(match err.refusal() {
                    Some(reason) => PublishError::Rejected(vec![Rejection {
                        seq: e.seq,
                        reason,
                        detail: err.to_string(),
                        bytes: Some(bytes),
                    }]),
                    None => PublishError::Unavailable(err.to_string()),
                });
            }
        }
        Ok(())
    }
}
