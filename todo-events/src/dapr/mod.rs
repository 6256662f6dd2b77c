//! The Dapr edge adapter (cargo feature `dapr`): Dapr's building blocks over the sidecar's gRPC
//! API, with the `dapr` crate's generated client.
//!
//! - [`DaprPublisher`]: the outbox relay's publisher on Dapr pub/sub: each event to each of its
//!   topics, in order, with the CloudEvent id set to the `event_id` and the user id as the
//!   partition key.
//! - [`subscription`]: the app side of Dapr pub/sub: the subscriptions the app declares at
//!   `GET /dapr/subscribe` (with `<topic>.dlq` dead-letter topics), reading an event out of a
//!   CloudEvents delivery, and the `SUCCESS` / `RETRY` / `DROP` answer for a handler's outcome.
//! - [`DaprConversations`]: the conversation state store ([`todo_core::ports::ConversationStore`])
//!   on a Dapr state store, with Dapr's etags for optimistic concurrency.
//! - [`read_secret`]: a secret (several keys) from a Dapr secret store.
//! - [`DaprJobs`] and [`jobs`]: reminders as Dapr jobs (`POST /job/{name}` callbacks).
//!
//! [`Sidecar::connect`] waits for the sidecar (it may start after the app) and is shared by all
//! of them. Service invocation needs nothing here: other apps reach this server's HTTP API
//! through their own sidecar (`/v1.0/invoke/<app-id>/method/...`).
//!
//! The Dapr runtime cannot run in this project's test environment: the adapters are tested
//! against a stand-in sidecar (the `dapr-standin` crate) that implements the calls they make
//! with Dapr's documented semantics.

mod client;
mod error;
pub mod jobs;
mod publisher;
mod secrets;
mod state;
pub mod subscription;

pub use client::{Sidecar, SidecarOptions};
pub use error::DaprError;
pub use jobs::DaprJobs;
pub use publisher::DaprPublisher;
pub use secrets::read_secret;
pub use state::DaprConversations;

/// Standard base64 as Dapr writes it (`data_base64`, an `Any`'s bytes), padding optional.
pub(crate) fn base64_decode(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD_NO_PAD.decode(s.trim_end_matches('='))
}
