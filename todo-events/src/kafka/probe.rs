//! Whether the brokers answer: the readiness check of a server on Kafka.

use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};

use super::config::KafkaConfig;
use super::error::KafkaError;

/// A client kept for asking the cluster for its metadata (cheap to clone).
#[derive(Clone)]
pub struct BrokerProbe {
    client: Arc<BaseConsumer>,
}

impl std::fmt::Debug for BrokerProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerProbe").finish_non_exhaustive()
    }
}

impl BrokerProbe {
    /// A probe of the configuration's brokers.
    ///
    /// # Errors
    /// The client cannot be created (bad configuration).
    pub fn new(cfg: &KafkaConfig) -> Result<Self, KafkaError> {
        let client: BaseConsumer =
            cfg.client_config(&[])
                .create()
                .map_err(|source| KafkaError::Client {
                    what: "readiness probe",
                    source,
                })?;
        Ok(BrokerProbe {
            client: Arc::new(client),
        })
    }

    /// Asks a broker for the cluster's metadata, waiting at most `timeout`.
    ///
    /// # Errors
    /// No broker answered in time.
    pub async fn check(&self, timeout: Duration) -> Result<(), KafkaError> {
        let client = Arc::clone(&self.client);
        tokio::task::spawn_blocking(move || client.fetch_metadata(None, timeout).map(|_| ()))
            .await
            .map_err(|e| KafkaError::Unreachable(e.to_string()))?
            .map_err(|e| KafkaError::Unreachable(e.to_string()))
    }
}
