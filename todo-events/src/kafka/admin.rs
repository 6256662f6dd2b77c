//! Creating the topics.

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::types::RDKafkaErrorCode;

use super::config::KafkaConfig;
use super::error::KafkaError;
use crate::topic::Topic;

/// Creates the four topics and their dead-letter topics when they are missing, with the
/// configuration's partitions, replication and retention. A topic that already exists is left
/// as it is; any other failure is an error naming the topic.
pub async fn ensure_topics(cfg: &KafkaConfig) -> Result<(), KafkaError> {
    let admin: AdminClient<DefaultClientContext> =
        cfg.client_config(&[])
            .create()
            .map_err(|source| KafkaError::Client {
                what: "admin client",
                source,
            })?;
    let names: Vec<String> = Topic::ALL
        .into_iter()
        .flat_map(|t| [cfg.topic_name(t), cfg.dlq_name(t)])
        .collect();
    let retention = cfg.retention_ms.map(|ms| ms.to_string());
    let topics: Vec<NewTopic<'_>> = names
        .iter()
        .map(|name| {
            let topic = NewTopic::new(
                name,
                cfg.partitions,
                TopicReplication::Fixed(cfg.replication),
            );
            match &retention {
                Some(ms) => topic.set("retention.ms", ms),
                None => topic,
            }
        })
        .collect();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
    let results =
        admin
            .create_topics(&topics, &opts)
            .await
            .map_err(|e| KafkaError::CreateTopic {
                topic: names.join(", "),
                reason: e.to_string(),
            })?;
    for result in results {
        match result {
            Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((topic, code)) => {
                return Err(KafkaError::CreateTopic {
                    topic,
                    reason: code.to_string(),
                });
            }
        }
    }
    Ok(())
}
