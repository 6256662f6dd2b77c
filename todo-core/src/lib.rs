//! The pure domain of the todo platform: entities and validated values, recurrence, the list
//! query engine, domain events, the ports (storage, clock, ids) and the use-case service.
//!
//! No I/O happens here: the crate builds for wasm32 and inside Python, and every host (the
//! server, the Python bindings, the WASM module) gives the same answer for the same input.

pub mod error;
pub mod events;
pub mod ids;
pub mod input;
pub mod memory;
pub mod model;
pub mod ports;
pub mod query;
pub mod quota;
pub mod recurrence;
pub mod service;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;

pub use error::{Error, ErrorCode, FieldError, StoreError, ValidationErrors};
pub use ids::{ActivityId, ConversationId, EventId, ReminderId, TagId, TaskId, UserId};
