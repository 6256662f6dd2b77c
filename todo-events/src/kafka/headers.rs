//! The names of the Kafka record headers the adapter writes.

/// The envelope's `event_id` (a UUID), on every published record.
pub const EVENT_ID: &str = "event_id";
/// The envelope's `event_type`, on every published record.
pub const EVENT_TYPE: &str = "event_type";
/// The envelope's `version`, on every published record.
pub const VERSION: &str = "version";
/// `application/json`, on every published record.
pub const CONTENT_TYPE: &str = "content-type";
/// The value of [`CONTENT_TYPE`].
pub const APPLICATION_JSON: &str = "application/json";

/// Dead-letter record: why the message could not be handled, as text.
pub const DLQ_REASON: &str = "dlq-reason";
/// Dead-letter record: a stable code, [`crate::Error::code`] for a message that could not be
/// decoded, [`super::HANDLER_FAILED`] or [`super::HANDLER_REJECTED`] for a handler's failure.
pub const DLQ_ERROR_CODE: &str = "dlq-error-code";
/// Dead-letter record: the topic the message was consumed from.
pub const DLQ_ORIGINAL_TOPIC: &str = "dlq-original-topic";
/// Dead-letter record: the partition the message was consumed from.
pub const DLQ_ORIGINAL_PARTITION: &str = "dlq-original-partition";
/// Dead-letter record: the offset of the message in that partition.
pub const DLQ_ORIGINAL_OFFSET: &str = "dlq-original-offset";
/// Dead-letter record: how many times the handler was called (0 when decoding failed).
pub const DLQ_ATTEMPTS: &str = "dlq-attempts";
