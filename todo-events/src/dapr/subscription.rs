//! The app side of Dapr pub/sub: the programmatic subscriptions (`GET /dapr/subscribe`), the
//! event inside a CloudEvents delivery, and the answer Dapr expects.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec;
use crate::envelope::EventEnvelope;
use crate::handler::HandlerError;
use crate::topic::Topic;

/// The path prefix of the routes Dapr delivers to: `/dapr/events/<topic>`.
pub const ROUTE_PREFIX: &str = "/dapr/events/";

/// One entry of the app's `GET /dapr/subscribe` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// The pub/sub component.
    pub pubsubname: String,
    /// The topic.
    pub topic: String,
    /// Where Dapr delivers (`POST`).
    pub route: String,
    /// Where Dapr forwards what cannot be delivered (retries exhausted, or `DROP`).
    pub dead_letter_topic: String,
}

impl Subscription {
    /// The subscription of `topic` on `pubsub`, delivered to `/dapr/events/<topic>`, with the
    /// contract's dead-letter topic `<topic>.dlq`.
    pub fn to(pubsub: &str, topic: Topic) -> Self {
        Subscription {
            pubsubname: pubsub.to_owned(),
            topic: topic.name().to_owned(),
            route: format!("{ROUTE_PREFIX}{}", topic.name()),
            dead_letter_topic: topic.dlq_name().to_owned(),
        }
    }
}

/// The app's answer to a delivery (the body `{"status": ...}` of a 200 response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DeliveryStatus {
    /// Handled (or seen before): acknowledge.
    Success,
    /// Failed for now: Dapr delivers it again (its resiliency policy), then dead-letters it.
    Retry,
    /// Can never be handled: Dapr drops it to the subscription's dead-letter topic.
    Drop,
}

/// The body of a 200 answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAnswer {
    /// What Dapr should do with the message.
    pub status: DeliveryStatus,
}

impl DeliveryStatus {
    /// The answer for a handler's outcome: a transient failure is retried by Dapr, a permanent
    /// one is dropped to the dead-letter topic.
    pub fn of(outcome: &Result<(), HandlerError>) -> Self {
        match outcome {
            Ok(()) => DeliveryStatus::Success,
            Err(HandlerError::Retryable(_)) => DeliveryStatus::Retry,
            Err(HandlerError::Permanent(_)) => DeliveryStatus::Drop,
        }
    }
}

/// The event a delivery carries: the `data` (or `data_base64`) of a CloudEvents 1.0 envelope,
/// or the body itself when the message was published raw (no `specversion`). Decoded with every
/// check of [`codec::decode`] (schema rules, supported major version).
///
/// # Errors
/// The body is not JSON, holds no event, or the event fails [`codec::decode`].
pub fn event_of_delivery(body: &[u8]) -> Result<EventEnvelope, crate::Error> {
    let Ok(Value::Object(mut ce)) = serde_json::from_slice::<Value>(body) else {
        return codec::decode(body);
    };
    if !ce.contains_key("specversion") {
        return codec::decode_value(Value::Object(ce));
    }
    match (ce.remove("data"), ce.remove("data_base64")) {
        (Some(Value::String(s)), _) => codec::decode(s.as_bytes()),
        (Some(data), _) if !data.is_null() => codec::decode_value(data),
        (_, Some(Value::String(b64))) => codec::decode(&base64_decode(&b64)?),
        _ => codec::decode(b"null"),
    }
}

/// Standard base64 (padding optional).
fn base64_decode(s: &str) -> Result<Vec<u8>, crate::Error> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| crate::Error::NotJson {
            reason: format!("data_base64 is not base64: {e}"),
        })
}
