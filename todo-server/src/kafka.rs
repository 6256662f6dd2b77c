//! The server's Kafka side (`KAFKA_BROKERS`): the outbox relay publishes to Kafka instead of the
//! in-process bus, and the server runs the [consumers](crate::consumers) in consumer groups:
//! the recurring-task creator on `task-events`, the activity-log writer on `activity-logs`, and
//! the real-time fan-out on `task-updates` and `reminders` (a group per replica, starting at the
//! latest message).
//!
//! Events that cannot be decoded, and events whose effect keeps failing, go to the topic's
//! dead-letter topic (`todo_events::kafka::KafkaConsumer`).

use std::future::Future;
use std::sync::Arc;

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounterVec, Opts};
use todo_core::error::{PublishError, Rejection};
use todo_core::ports::{DEFAULT_MAX_EVENT_BYTES, EventPublisher, OutboxEntry, Store};
use todo_core::service::TaskService;
use todo_events::Topic;
use todo_events::kafka::{
    BatchFailure, ConsumerStats, KafkaConfig, KafkaConsumer, KafkaError, KafkaPublisher, StartAt,
    ensure_topics,
};
use todo_events::relay::Encoded;
use tokio::task::JoinHandle;

use crate::bus::EventBus;
use crate::config::KafkaSettings;
use crate::consumers::{
    ACTIVITY_LOG_WRITER, ActivityLogWriter, FanOut, RECURRING_TASK_CREATOR, RecurringTaskCreator,
};

/// The adapter's configuration from the server's settings.
pub fn kafka_config(settings: &KafkaSettings) -> KafkaConfig {
    let mut cfg = KafkaConfig::new(settings.brokers.clone(), "todo-server");
    cfg.topic_prefix.clone_from(&settings.topic_prefix);
    cfg.partitions = settings.partitions;
    cfg.replication = settings.replication;
    cfg.retention_ms = settings.retention_ms;
    cfg
}

/// The consumer group of one of this server's consumers: every replica of the server shares it,
/// so each event is applied by one of them.
pub fn group_id(settings: &KafkaSettings, consumer: &str) -> String {
    format!("{}todo-server.{consumer}", settings.topic_prefix)
}

/// The outbox relay's publisher on Kafka.
///
/// An event that breaks the contract, or whose encoding is larger than the limit
/// ([`KafkaRelay::with_max_event_bytes`], default [`DEFAULT_MAX_EVENT_BYTES`]), is refused
/// before anything of the batch is sent; a record the client or the brokers refuse for good
/// (too large for the broker's `message.max.bytes`, invalid) is refused after the batch was
/// awaited ([`PublishError::Rejected`]: the relay parks it). Every other failure is
/// [`PublishError::Unavailable`] and the relay tries the batch again.
pub struct KafkaRelay {
    /// Replaced when it has a fatal error (see [`KafkaPublisher::fatal_error`]).
    publisher: tokio::sync::RwLock<KafkaPublisher>,
    cfg: KafkaConfig,
    max_event_bytes: usize,
}

impl KafkaRelay {
    /// Creates the topics that are missing (or fails naming the topic), then the producer.
    ///
    /// # Errors
    /// The broker cannot be reached, or a topic cannot be created.
    pub async fn connect(settings: &KafkaSettings) -> Result<Self, KafkaError> {
        let cfg = kafka_config(settings);
        ensure_topics(&cfg).await?;
        Ok(KafkaRelay {
            publisher: tokio::sync::RwLock::new(KafkaPublisher::new(&cfg)?),
            cfg,
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        })
    }

    /// Refuses events whose encoding is longer than `bytes` (`TODO_EVENT_MAX_BYTES`).
    #[must_use]
    pub fn with_max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
    }
}

impl EventPublisher for KafkaRelay {
    async fn publish(&self, batch: &[OutboxEntry]) -> Result<(), PublishError> {
        let encoded = todo_events::relay::encode_batch(batch, self.max_event_bytes)?;
        let records: Vec<_> = encoded
            .iter()
            .map(|e| (&e.envelope, e.payload.as_slice()))
            .collect();
        let published = self.publisher.read().await.publish_encoded(&records).await;
        let Err(failure) = published else {
            return Ok(());
        };
        // A broker that restarted empty has lost the topics: create them again, so that the
        // next attempt can succeed.
        if let Err(t) = ensure_topics(&self.cfg).await {
            tracing::warn!(error = %t, "relay: the topics cannot be created");
        }
        // ...and the idempotent producer's state: a producer with a fatal error never sends
        // again, so the next attempt gets a new one.
        let mut publisher = self.publisher.write().await;
        if let Some(fatal) = publisher.fatal_error() {
            match KafkaPublisher::new(&self.cfg) {
                Ok(fresh) => {
                    tracing::warn!(error = %fatal, "relay: the producer failed fatally; replaced");
                    *publisher = fresh;
                }
                Err(n) => tracing::warn!(error = %n, "relay: a new producer cannot be created"),
            }
        }
        Err(publish_error(&encoded, failure))
    }
}

/// The relay's error for a failed batch: the records refused for good name their events (each
/// once), else the batch is to be tried again.
fn publish_error(encoded: &[Encoded], failure: BatchFailure) -> PublishError {
    let mut refused: Vec<Rejection> = Vec::new();
    for r in failure.refused {
        let Some(e) = encoded.get(r.index) else {
            continue;
        };
        // A record within what any task event may weigh that is refused as too large points
        // at the cluster (a topic's max.message.bytes below a producer batch), not at the
        // event: parking it would park every event. Retried, and said loudly.
        if r.reason == todo_core::error::RejectReason::TooLarge
            && e.payload.len() <= todo_core::model::task::MAX_TASK_EVENT_BYTES
        {
            tracing::error!(
                seq = e.seq,
                bytes = e.payload.len(),
                detail = %r.detail,
                "relay: the brokers refuse a small event as too large; check the topics' \
                 max.message.bytes and the producer's batch size (not parked; retried)"
            );
            continue;
        }
        if refused.iter().all(|seen| seen.seq != e.seq) {
            refused.push(Rejection {
                seq: e.seq,
                reason: r.reason,
                detail: r.detail,
                bytes: Some(e.payload.len()),
            });
        }
    }
    if refused.is_empty() {
        PublishError::Unavailable(failure.first.to_string())
    } else {
        PublishError::Rejected(refused)
    }
}

/// The consumers' counters as Prometheus metrics, read at each scrape:
/// `todo_consumer_processed_total{consumer}` and `todo_consumer_dead_lettered_total{consumer}`.
pub struct ConsumerMetrics {
    stats: Vec<(&'static str, Arc<ConsumerStats>)>,
    processed: IntCounterVec,
    dead_lettered: IntCounterVec,
    /// One scrape at a time (the vectors are rebuilt from the counters for each).
    scrape: std::sync::Mutex<()>,
}

impl ConsumerMetrics {
    #[allow(clippy::expect_used)] // constant, valid names
    fn new(stats: Vec<(&'static str, Arc<ConsumerStats>)>) -> Self {
        let vec = |name: &str, help: &str| {
            IntCounterVec::new(Opts::new(name, help), &["consumer"]).expect("valid metric")
        };
        ConsumerMetrics {
            stats,
            processed: vec(
                "todo_consumer_processed_total",
                "Kafka messages a consumer of this server applied (offset committed after)",
            ),
            dead_lettered: vec(
                "todo_consumer_dead_lettered_total",
                "Kafka messages a consumer of this server sent to a dead-letter topic",
            ),
            scrape: std::sync::Mutex::new(()),
        }
    }
}

impl Collector for ConsumerMetrics {
    fn desc(&self) -> Vec<&Desc> {
        let mut d = self.processed.desc();
        d.extend(self.dead_lettered.desc());
        d
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let _one = self
            .scrape
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.processed.reset();
        self.dead_lettered.reset();
        for (name, s) in &self.stats {
            self.processed
                .with_label_values(&[*name])
                .inc_by(s.processed());
            self.dead_lettered
                .with_label_values(&[*name])
                .inc_by(s.dead_lettered());
        }
        let mut families = self.processed.collect();
        families.extend(self.dead_lettered.collect());
        families
    }
}

/// The running consumers: their tasks and their metrics.
pub struct Consumers {
    /// One task per consumer; each ends after the shutdown.
    pub tasks: Vec<JoinHandle<()>>,
    /// Their counters, to register in the server's registry.
    pub metrics: ConsumerMetrics,
}

/// Starts this server's consumers; each stops when `shutdown` resolves.
///
/// # Errors
/// A consumer cannot be created (bad configuration).
pub fn spawn_consumers<S, F>(
    settings: &KafkaSettings,
    service: &Arc<TaskService<S>>,
    bus: &EventBus,
    shutdown: impl Fn() -> F,
) -> Result<Consumers, KafkaError>
where
    S: Store + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let cfg = kafka_config(settings);
    let creator = KafkaConsumer::new(
        &cfg,
        &group_id(settings, RECURRING_TASK_CREATOR),
        &[Topic::TaskEvents],
    )?;
    let writer = KafkaConsumer::new(
        &cfg,
        &group_id(settings, ACTIVITY_LOG_WRITER),
        &[Topic::ActivityLogs],
    )?;
    // This replica's own group (a new one per start): every replica sees every event, from
    // now on.
    let fan_out = KafkaConsumer::starting_at(
        &cfg,
        &group_id(
            settings,
            &format!("fan-out.{}", uuid::Uuid::new_v4().simple()),
        ),
        &[Topic::TaskUpdates, Topic::Reminders],
        StartAt::Latest,
    )?;
    let fan_out_handler = FanOut::new(bus.clone());
    let creator_handler = RecurringTaskCreator(Arc::clone(service));
    let writer_handler = ActivityLogWriter(Arc::clone(service));
    let stop_creator = shutdown();
    let stop_writer = shutdown();
    let stop_fan_out = shutdown();
    let metrics = ConsumerMetrics::new(vec![
        (RECURRING_TASK_CREATOR, creator.stats()),
        (ACTIVITY_LOG_WRITER, writer.stats()),
        ("fan-out", fan_out.stats()),
    ]);
    Ok(Consumers {
        tasks: vec![
            tokio::spawn(async move { creator.run(&creator_handler, stop_creator).await }),
            tokio::spawn(async move { writer.run(&writer_handler, stop_writer).await }),
            tokio::spawn(async move { fan_out.run(&fan_out_handler, stop_fan_out).await }),
        ],
        metrics,
    })
}
