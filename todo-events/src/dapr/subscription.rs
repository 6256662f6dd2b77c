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
        (_, Some(Value::String(b64))) => codec::decode(&super::base64_decode(&b64).map_err(
            |e| crate::Error::NotJson {
                reason: format!("data_base64 is not base64: {e}"),
            },
        )?),
        _ => codec::decode(b"null"),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use base64::Engine;
    use serde_json::json;

    use super::*;

    fn envelope() -> Value {
        json!({"event_type": "task-deleted", "event_id": "0b8e4a52-6f0c-4d55-9a38-1f4f62c2a3b1",
               "timestamp": "2026-02-15T10:00:00Z", "version": "1.0",
               "data": {"task_id": 123, "user_id": "user-123", "title": "Report"}})
    }

    fn cloud_event(data: (&str, Value)) -> Vec<u8> {
        let mut ce = json!({"specversion": "1.0", "id": "x", "source": "s", "type": "t",
                            "datacontenttype": "application/json"});
        ce[data.0] = data.1;
        serde_json::to_vec(&ce).unwrap()
    }

    #[test]
    fn the_event_comes_out_of_every_form_dapr_delivers() {
        let want = codec::decode_value(envelope()).unwrap();
        let text = envelope().to_string();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&text);
        for body in [
            cloud_event(("data", envelope())),
            cloud_event(("data", Value::String(text.clone()))),
            cloud_event(("data_base64", Value::String(b64))),
            text.into_bytes(),
        ] {
            assert_eq!(event_of_delivery(&body).unwrap(), want);
        }
    }

    #[test]
    fn what_holds_no_valid_event_is_an_error() {
        let mut newer = envelope();
        newer["version"] = json!("2.0");
        for body in [
            b"{not json".to_vec(),
            cloud_event(("data", Value::Null)),
            cloud_event(("data_base64", json!("***"))),
            cloud_event(("data", newer)),
        ] {
            assert!(
                event_of_delivery(&body).is_err(),
                "{}",
                String::from_utf8_lossy(&body)
            );
        }
    }

    #[test]
    fn answers_and_subscriptions_have_daprs_shape() {
        assert_eq!(DeliveryStatus::of(&Ok(())), DeliveryStatus::Success);
        assert_eq!(
            DeliveryStatus::of(&Err(HandlerError::Retryable("db".into()))),
            DeliveryStatus::Retry
        );
        assert_eq!(
            DeliveryStatus::of(&Err(HandlerError::Permanent("bad".into()))),
            DeliveryStatus::Drop
        );
        assert_eq!(
            serde_json::to_value(DeliveryAnswer {
                status: DeliveryStatus::Retry
            })
            .unwrap(),
            json!({"status": "RETRY"})
        );
        assert_eq!(
            serde_json::to_value(Subscription::to("ps", Topic::Reminders)).unwrap(),
            json!({"pubsubname": "ps", "topic": "reminders", "route": "/dapr/events/reminders",
                   "deadLetterTopic": "reminders.dlq"})
        );
    }
}
