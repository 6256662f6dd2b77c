//! Where the brokers are and how topics are named and created.

use rdkafka::ClientConfig;

use crate::topic::{DLQ_SUFFIX, Topic};

/// The adapter's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaConfig {
    /// `bootstrap.servers`, e.g. `127.0.0.1:9092` (comma-separated).
    pub brokers: String,
    /// `client.id` of the producers and consumers.
    pub client_id: String,
    /// Put before every topic name: empty in production; tests use a random prefix so that they
    /// never share topics.
    pub topic_prefix: String,
    /// Partitions of the topics [`super::ensure_topics`] creates (default 3).
    pub partitions: i32,
    /// Replication factor of the topics [`super::ensure_topics`] creates (default 1).
    pub replication: i32,
    /// `retention.ms` of the created topics; `None` keeps the broker's default.
    pub retention_ms: Option<i64>,
    /// Further librdkafka properties (e.g. `security.protocol`), set on every client after the
    /// adapter's own, so they can override them.
    pub properties: Vec<(String, String)>,
}

impl KafkaConfig {
    /// A configuration with the defaults: no prefix, 3 partitions, replication 1, the broker's
    /// retention, no extra properties.
    pub fn new(brokers: impl Into<String>, client_id: impl Into<String>) -> Self {
        KafkaConfig {
            brokers: brokers.into(),
            client_id: client_id.into(),
            topic_prefix: String::new(),
            partitions: 3,
            replication: 1,
            retention_ms: None,
            properties: Vec::new(),
        }
    }

    /// The Kafka topic name of `topic`: prefix + name.
    pub fn topic_name(&self, topic: Topic) -> String {
        format!("{}{}", self.topic_prefix, topic.name())
    }

    /// The dead-letter topic name of `topic`: prefix + name + `.dlq`.
    pub fn dlq_name(&self, topic: Topic) -> String {
        format!("{}{}", self.topic_prefix, topic.dlq_name())
    }

    /// A client configuration with the brokers, the client id and `settings`, then
    /// [`KafkaConfig::properties`].
    pub(crate) fn client_config(&self, settings: &[(&str, &str)]) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id);
        for (k, v) in settings {
            c.set(*k, *v);
        }
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        c
    }
}

/// The dead-letter topic of a (prefixed) topic name.
pub(crate) fn dlq_of(topic_name: &str) -> String {
    format!("{topic_name}{DLQ_SUFFIX}")
}
