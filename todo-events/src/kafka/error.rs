//! The one error type of the Kafka adapter.

use thiserror::Error;

/// Why a Kafka operation failed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KafkaError {
    /// A client (producer, consumer, admin) could not be created or configured.
    #[error("could not create the Kafka {what}: {source}")]
    Client {
        /// Which client.
        what: &'static str,
        /// What librdkafka said.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// Creating a topic failed (other than because it already exists).
    #[error("could not create topic {topic}: {reason}")]
    CreateTopic {
        /// The topic (or the topics, comma-separated, when the whole request failed).
        topic: String,
        /// What the broker or librdkafka said.
        reason: String,
    },
    /// An envelope could not be serialized.
    #[error("could not encode event {event_id}: {source}")]
    Encode {
        /// The event.
        event_id: String,
        /// Why.
        #[source]
        source: crate::Error,
    },
    /// A record was not acknowledged by the brokers (or could not be enqueued).
    #[error("delivery to {topic} failed: {source}")]
    Delivery {
        /// The topic of the record.
        topic: String,
        /// What librdkafka said.
        #[source]
        source: rdkafka::error::KafkaError,
    },
    /// The producer went away before the record's delivery was reported.
    #[error("delivery to {topic} was cancelled (the producer was dropped)")]
    Cancelled {
        /// The topic of the record.
        topic: String,
    },
    /// Flushing the producer did not finish in time.
    #[error("flushing the producer failed: {0}")]
    Flush(#[source] rdkafka::error::KafkaError),
    /// No broker answered (readiness).
    #[error("no Kafka broker answers: {0}")]
    Unreachable(String),
}

impl KafkaError {
    /// Whether the client or the brokers refused a record for good, and why: the record is too
    /// large (`MSG_SIZE_TOO_LARGE`, `INVALID_MSG_SIZE`) or invalid (`INVALID_RECORD`). Sending
    /// it again cannot succeed; anything else (a broker down, a timeout, a fatal producer
    /// error) may pass on a later attempt and is `None`.
    pub fn refusal(&self) -> Option<todo_core::error::RejectReason> {
        use rdkafka::error::KafkaError as Rd;
        use rdkafka::types::RDKafkaErrorCode as Code;
        use todo_core::error::RejectReason;
        let KafkaError::Delivery { source, .. } = self else {
            return None;
        };
        match source {
            Rd::MessageProduction(Code::MessageSizeTooLarge | Code::InvalidMessageSize) => {
                Some(RejectReason::TooLarge)
            }
            Rd::MessageProduction(Code::InvalidRecord) => Some(RejectReason::Invalid),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::error::KafkaError as Rd;
    use rdkafka::types::RDKafkaErrorCode as Code;
    use todo_core::error::RejectReason;

    use super::KafkaError;

    fn delivery(code: Code) -> KafkaError {
        KafkaError::Delivery {
            topic: "t".into(),
            source: Rd::MessageProduction(code),
        }
    }

    #[test]
    fn refusals_are_told_from_outages() {
        assert_eq!(
            delivery(Code::MessageSizeTooLarge).refusal(),
            Some(RejectReason::TooLarge)
        );
        assert_eq!(
            delivery(Code::InvalidRecord).refusal(),
            Some(RejectReason::Invalid)
        );
        for transient in [
            Code::MessageTimedOut,
            Code::AllBrokersDown,
            Code::BrokerTransportFailure,
            Code::NotLeaderForPartition,
            Code::UnknownTopicOrPartition,
            Code::Fatal,
        ] {
            assert_eq!(delivery(transient).refusal(), None, "{transient:?}");
        }
        assert_eq!(KafkaError::Cancelled { topic: "t".into() }.refusal(), None);
    }
}
