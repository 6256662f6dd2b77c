//! The one error type of the Dapr adapter.

use thiserror::Error;

/// Why a Dapr operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DaprError {
    /// The sidecar could not be reached (in time).
    #[error("the Dapr sidecar at {endpoint} cannot be reached: {reason}")]
    Connect {
        /// Where it was looked for.
        endpoint: String,
        /// Why not.
        reason: String,
    },
    /// The sidecar answered a call with an error.
    #[error("Dapr {call} failed: {code:?}: {message}")]
    Call {
        /// The call, e.g. `PublishEvent`.
        call: &'static str,
        /// The gRPC status code.
        code: tonic::Code,
        /// The sidecar's message.
        message: String,
    },
    /// Something read from Dapr is not what this server wrote there.
    #[error("Dapr {what} is corrupt: {reason}")]
    Corrupt {
        /// What was read (a state key, a job's data).
        what: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// An event could not be encoded.
    #[error("could not encode event {event_id}: {source}")]
    Encode {
        /// The event.
        event_id: String,
        /// Why.
        #[source]
        source: crate::Error,
    },
}

impl DaprError {
    /// The error of a failed call.
    pub(crate) fn call(call: &'static str, status: &tonic::Status) -> Self {
        DaprError::Call {
            call,
            code: status.code(),
            message: status.message().to_owned(),
        }
    }

    /// Whether the sidecar refused a write for a stale etag (Dapr's `ETagMismatch`, gRPC
    /// `Aborted`).
    pub fn is_etag_mismatch(&self) -> bool {
        matches!(
            self,
            DaprError::Call {
                code: tonic::Code::Aborted,
                ..
            }
        )
    }
}
