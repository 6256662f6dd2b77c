//! The one error type of the crate.

use thiserror::Error;

/// Why an event could not be decoded, encoded or built.
///
/// The variants are what a consumer routes on: [`Error::UnsupportedVersion`] and
/// [`Error::UnknownEventType`] go to the dead-letter topic untouched (a newer producer sent them);
/// the others are broken messages.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not JSON, or not a JSON object.
    #[error("event is not a JSON object: {reason}")]
    NotJson {
        /// What the JSON parser said.
        reason: String,
    },
    /// The `version` field is missing or is not `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`.
    #[error("event version {found:?} is not MAJOR.MINOR[.PATCH]")]
    InvalidVersion {
        /// The value found, as JSON text (`null` when missing).
        found: String,
    },
    /// The event has a major version this crate does not understand.
    #[error("event version {found} is not supported (this consumer understands {supported}.x)")]
    UnsupportedVersion {
        /// The version found.
        found: String,
        /// The major version this crate understands.
        supported: u32,
    },
    /// The `event_type` is not one of the known event types.
    #[error("unknown event_type {found:?}")]
    UnknownEventType {
        /// The value found, as JSON text (`null` when missing).
        found: String,
    },
    /// A topic name that is not one of the platform's topics.
    #[error("unknown topic {found:?}")]
    UnknownTopic {
        /// The name given.
        found: String,
    },
    /// The envelope or its `data` does not have the contract's shape (missing, extra or
    /// mistyped field) or breaks a rule between fields.
    #[error("malformed {event_type} event: {reason}")]
    Malformed {
        /// The event type, or `event` when it is not known yet.
        event_type: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Serializing an event failed (does not happen for events built by this crate).
    #[error("could not serialize event: {reason}")]
    Encode {
        /// What the serializer said.
        reason: String,
    },
}

impl Error {
    /// A stable machine-readable code, e.g. for a dead-letter message header or a Python exception.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotJson { .. } => "NOT_JSON",
            Error::InvalidVersion { .. } => "INVALID_VERSION",
            Error::UnsupportedVersion { .. } => "UNSUPPORTED_VERSION",
            Error::UnknownEventType { .. } => "UNKNOWN_EVENT_TYPE",
            Error::UnknownTopic { .. } => "UNKNOWN_TOPIC",
            Error::Malformed { .. } => "MALFORMED",
            Error::Encode { .. } => "ENCODE",
        }
    }

    pub(crate) fn malformed(event_type: &'static str, reason: impl Into<String>) -> Self {
        Error::Malformed {
            event_type,
            reason: reason.into(),
        }
    }
}
