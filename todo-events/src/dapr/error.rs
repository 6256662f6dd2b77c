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

    /// Whether the sidecar refused a published event for good, and why: only when it says the
    /// message is too large (its gRPC limit, "received message larger than max", or the
    /// broker's, "message too large"). Other refusals are not taken as the event's fault: an
    /// `InvalidArgument` also means a missing pub/sub component or topic, which would refuse
    /// every event alike (they are retried until the configuration is fixed).
    pub fn refusal(&self) -> Option<todo_core::error::RejectReason> {
        let DaprError::Call { message, .. } = self else {
            return None;
        };
        let message = message.to_ascii_lowercase();
        ["too large", "larger than max", "too_large", "toolarge"]
            .iter()
            .any(|w| message.contains(w))
            .then_some(todo_core::error::RejectReason::TooLarge)
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

#[cfg(test)]
mod tests {
    use super::DaprError;
    use todo_core::error::RejectReason;

    fn call(code: tonic::Code, message: &str) -> DaprError {
        DaprError::call("PublishEvent", &tonic::Status::new(code, message))
    }

    #[test]
    fn only_size_refusals_are_for_good() {
        for (code, message) in [
            (
                tonic::Code::ResourceExhausted,
                "grpc: received message larger than max (5000000 vs. 4194304)",
            ),
            (
                tonic::Code::Internal,
                "error when publish to topic task-events: kafka server: Message was too large",
            ),
        ] {
            assert_eq!(
                call(code, message).refusal(),
                Some(RejectReason::TooLarge),
                "{message}"
            );
        }
        for (code, message) in [
            (
                tonic::Code::InvalidArgument,
                "pubsub kafka-pubsub is not found",
            ),
            (tonic::Code::Unavailable, "connection refused"),
            (tonic::Code::Internal, "error when publish: broker down"),
        ] {
            assert_eq!(call(code, message).refusal(), None, "{message}");
        }
    }
}
