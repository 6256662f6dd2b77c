//! The outbox relay's publisher on Dapr pub/sub.

use std::collections::HashMap;

use dapr::dapr::proto::runtime::v1::PublishEventRequest;
use todo_core::error::PublishError;
use todo_core::ports::{EventPublisher, OutboxEntry};

use super::client::Sidecar;
use super::error::DaprError;
use crate::codec;
use crate::envelope::EventEnvelope;

/// Publishes each event to each of its topics through the sidecar's pub/sub component, one at
/// a time in outbox order (so a user's events keep their order), and succeeds only when the
/// sidecar accepted every one (for Kafka: the broker acknowledged it). The CloudEvent Dapr
/// wraps around the envelope gets the `event_id` as its id and the event type as its type; the
/// user id is the partition key (Kafka message key).
#[derive(Debug, Clone)]
pub struct DaprPublisher {
    sidecar: Sidecar,
    pubsub: String,
}

impl DaprPublisher {
    /// A publisher on the pub/sub component `pubsub`.
    pub fn new(sidecar: Sidecar, pubsub: impl Into<String>) -> Self {
        DaprPublisher {
            sidecar,
            pubsub: pubsub.into(),
        }
    }

    /// Publishes the envelopes in order; stops at the first failure.
    ///
    /// # Errors
    /// The sidecar refused one (the ones before it were published).
    pub async fn publish_envelopes(&self, events: &[EventEnvelope]) -> Result<(), DaprError> {
        let mut raw = self.sidecar.raw();
        for event in events {
            let data = codec::encode(event).map_err(|source| DaprError::Encode {
                event_id: event.event_id.to_string(),
                source,
            })?;
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
        }
        Ok(())
    }
}

impl EventPublisher for DaprPublisher {
    async fn publish(&self, batch: &[OutboxEntry]) -> Result<(), PublishError> {
        self.publish_envelopes(&crate::relay::envelopes(batch))
            .await
            .map_err(|e| PublishError(e.to_string()))
    }
}
