//! # todo-events
//!
//! The wire contract of the todo platform's events: versioned envelopes, one typed payload per
//! event type, the topics they go to, and a JSON Schema per event type. Pure (no I/O), so the
//! server, the Python bindings and the WASM module share it. The Kafka adapter is behind the
//! `kafka` feature (below), the Dapr adapter behind `dapr` (`dapr` module).
//!
//! ## The envelope
//!
//! ```json
//! {"event_type": "task-created", "event_id": "6f1c…", "timestamp": "2026-02-15T10:00:00Z",
//!  "version": "1.0", "data": {"task_id": 123, "user_id": "user-123", …}}
//! ```
//!
//! [`EventEnvelope`] is that shape with `data` typed by event type ([`EventData`]). Core's
//! [`todo_core::events::DomainEvent`] becomes an envelope with [`EventEnvelope::from_domain`];
//! [`encode`] writes it and [`decode`] reads it back with every check. Instants are written as
//! RFC 3339 in UTC with a `Z` suffix.
//!
//! | event type | `data` | topics |
//! |---|---|---|
//! | `task-created` | [`TaskCreated`] | `task-events`, `task-updates` |
//! | `task-updated` | [`TaskUpdated`] | `task-events`, `task-updates` |
//! | `task-completed` | [`TaskCompleted`] | `task-events`, `task-updates` |
//! | `task-deleted` | [`TaskDeleted`] | `task-events`, `task-updates` |
//! | `reminder-triggered` | [`ReminderTriggered`] | `reminders` |
//! | `activity-log-created` | [`ActivityLogCreated`] | `activity-logs` |
//!
//! The message key is the user id ([`EventEnvelope::key`]), so a user's events keep their order.
//! Each topic has a dead-letter topic `<topic>.dlq` ([`Topic::dlq_name`]).
//!
//! ## Versions
//!
//! Produced events carry `"version": "1.0"`. [`decode`] accepts major 1 with any minor and patch
//! and rejects another major with [`Error::UnsupportedVersion`] (consumers route those to the
//! dead-letter topic) and a malformed version with [`Error::InvalidVersion`]. Payload structs
//! are strict (`deny_unknown_fields`); keys this crate does not know are dropped before parsing
//! only when the event's minor is newer than 0, because a newer minor may add keys and nothing
//! else. See [`version`].
//!
//! ## Schemas
//!
//! `schemas/<event-type>.json` (draft 2020-12) describe each envelope, with formats (`uuid`,
//! `date-time`), enums and the same strictness rule; [`schema()`] returns them. The tests check
//! that every event this crate produces validates against its schema, and that hand-written
//! invalid events fail both the schema and [`decode`].
//!
//! ```
//! use todo_events::{decode, encode, EventType, Topic};
//!
//! let json = br#"{"event_type":"task-deleted","event_id":"0b8e4a52-6f0c-4d55-9a38-1f4f62c2a3b1",
//!   "timestamp":"2026-02-15T10:00:00Z","version":"1.0",
//!   "data":{"task_id":123,"user_id":"user-123","title":"Complete project report"}}"#;
//! let event = decode(json)?;
//! assert_eq!(event.event_type(), EventType::TaskDeleted);
//! assert_eq!(event.topics(), &[Topic::TaskEvents, Topic::TaskUpdates]);
//! assert_eq!(event.key(), "user-123");
//! assert_eq!(decode(&encode(&event)?)?, event);
//! # Ok::<(), todo_events::Error>(())
//! ```

//! ## The `kafka` feature
//!
//! `todo-events = { features = ["kafka"] }` adds the `kafka` module (rdkafka with its bundled
//! librdkafka, and tokio; default features stay I/O-free): `kafka::ensure_topics` creates the
//! topics and their dead-letter topics, `kafka::KafkaPublisher` publishes batches of envelopes
//! with the idempotent producer and reports success only once every record is acknowledged, and
//! `kafka::KafkaConsumer` feeds decoded events to a `kafka::EventHandler` with bounded retries,
//! dead-letters what cannot be decoded or handled (with `dlq-*` headers) and commits offsets only
//! after that. `kafka::KafkaConfig::topic_prefix` lets tests use their own topics. The tests in
//! `tests/kafka.rs` run against a real broker given by `TEST_KAFKA_BROKERS`
//! (`scripts/kafka.sh start`).

#![warn(missing_docs)]

pub mod codec;
#[cfg(feature = "dapr")]
pub mod dapr;
pub mod envelope;
pub mod error;
pub mod event_type;
pub mod handler;
#[cfg(feature = "kafka")]
pub mod kafka;
pub mod payload;
#[cfg(any(feature = "kafka", feature = "dapr"))]
pub mod relay;
mod rfc3339;
pub mod schema;
pub mod topic;
pub mod version;

pub use codec::{ENVELOPE_FIELDS, decode, decode_value, encode};
pub use envelope::EventEnvelope;
pub use error::Error;
pub use event_type::EventType;
pub use handler::{EventHandler, HandlerError};
pub use payload::{
    ActivityLogCreated, EventData, ReminderTriggered, TaskCompleted, TaskCreated, TaskDeleted,
    TaskUpdated,
};
pub use schema::schema;
pub use topic::{Topic, topics_for};
pub use version::{CURRENT_VERSION, Compatibility, SUPPORTED_MAJOR, SchemaVersion};
