//! The server's Kafka side (`KAFKA_BROKERS`): the outbox relay publishes to Kafka instead of the
//! in-process bus, and the server runs the consumers of the contract that apply events of other
//! services to its database, each exactly once per event (`StoreTx::claim_event` in the same
//! transaction as the effect):
//!
//! - the recurring-task creator (`task-events`): a `task-completed` event creates the task's next
//!   instance if it never had one ([`TaskService::apply_task_completed`]);
//! - the activity-log writer (`activity-logs`): an `activity-log-created` event of another service
//!   is written to the user's log ([`TaskService::apply_activity_log`]); this server's own entries
//!   are already there.
//!
//! - the real-time fan-out (`task-updates`, `reminders`, a group per replica starting at the
//!   latest message): every event goes to this process's subscribers ([`EventBus::subscribe`]),
//!   once (recent event ids are remembered).
//!
//! Events that cannot be decoded, and events whose effect keeps failing, go to the topic's
//! dead-letter topic (`todo_events::kafka::KafkaConsumer`).

use std::future::Future;
use std::sync::Arc;

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{IntCounterVec, Opts};
use todo_core::EventId;
use todo_core::error::{Error, PublishError};
use todo_core::ports::{Clock, EventPublisher, IdSource, NewActivity, OutboxEntry, Store};
use todo_core::service::TaskService;
use todo_events::kafka::{
    ConsumerStats, EventHandler, HandlerError, KafkaConfig, KafkaConsumer, KafkaError,
    KafkaPublisher, StartAt, ensure_topics,
};
use todo_events::{EventData, EventEnvelope, Topic};
use tokio::task::JoinHandle;

use crate::bus::EventBus;
use crate::config::KafkaSettings;

/// The consumer name (and group name suffix) of the recurring-task creator.
pub const RECURRING_TASK_CREATOR: &str = "recurring-task-creator";
/// The consumer name (and group name suffix) of the activity-log writer.
pub const ACTIVITY_LOG_WRITER: &str = "activity-log-writer";

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
pub struct KafkaRelay {
    /// Replaced when it has a fatal error (see [`KafkaPublisher::fatal_error`]).
    publisher: tokio::sync::RwLock<KafkaPublisher>,
    cfg: KafkaConfig,
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
        })
    }
}

impl EventPublisher for KafkaRelay {
    async fn publish(&self, batch: &[OutboxEntry]) -> Result<(), PublishError> {
        let mut envelopes = Vec::with_capacity(batch.len());
        for entry in batch {
            match EventEnvelope::from_domain(&entry.event) {
                Ok(e) => envelopes.push(e),
                // A domain event that breaks the contract is a bug of this server; publishing
                // the rest must not wait for it. It stays in the outbox table for inspection.
                Err(e) => tracing::error!(
                    seq = entry.seq,
                    event_id = %entry.event.id.get(),
                    error = %e,
                    "relay: an outbox event breaks the contract; skipped"
                ),
            }
        }
        let published = self.publisher.read().await.publish(&envelopes).await;
        let Err(e) = published else {
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
        Err(PublishError(e.to_string()))
    }
}

/// What a failed use case means for a consumed event: a storage failure may pass (the database
/// is unavailable or busy): try again, a bounded number of times; anything else is about the
/// event itself: give up (dead-letter topic).
fn handler_error(e: Error) -> HandlerError {
    match e {
        Error::Store(s) => HandlerError::Retryable(s.to_string()),
        other => HandlerError::Permanent(other.to_string()),
    }
}

/// Applies `task-completed` events: [`RECURRING_TASK_CREATOR`].
pub struct RecurringTaskCreator<S: Store, C: Clock, I: IdSource>(pub Arc<TaskService<S, C, I>>);

impl<S: Store, C: Clock, I: IdSource> EventHandler for RecurringTaskCreator<S, C, I> {
    fn handle(
        &self,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let service = Arc::clone(&self.0);
        let id = event.event_id;
        let completed = match &event.data {
            EventData::TaskCompleted(c) => Some((c.user_id.clone(), c.task_id)),
            _ => None,
        };
        async move {
            let Some((user, task)) = completed else {
                return Ok(());
            };
            service
                .apply_task_completed(RECURRING_TASK_CREATOR, id, &user, task)
                .await
                .map(|_| ())
                .map_err(handler_error)
        }
    }
}

/// Applies `activity-log-created` events: [`ACTIVITY_LOG_WRITER`].
pub struct ActivityLogWriter<S: Store, C: Clock, I: IdSource>(pub Arc<TaskService<S, C, I>>);

impl<S: Store, C: Clock, I: IdSource> EventHandler for ActivityLogWriter<S, C, I> {
    fn handle(
        &self,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let service = Arc::clone(&self.0);
        let id = event.event_id;
        let entry = match &event.data {
            EventData::ActivityLogCreated(a) => Some(NewActivity {
                user_id: a.user_id.clone(),
                task_id: a.task_id,
                action: a.action,
                old_values: a.old_values.clone(),
                new_values: a.new_values.clone(),
                created_at: a.created_at.unwrap_or(event.timestamp),
            }),
            _ => None,
        };
        async move {
            let Some(entry) = entry else {
                return Ok(());
            };
            service
                .apply_activity_log(ACTIVITY_LOG_WRITER, id, entry)
                .await
                .map(|_| ())
                .map_err(handler_error)
        }
    }
}

/// Hands `task-updates` and `reminders` events to this process's subscribers (real-time
/// clients): each replica consumes them in a group of its own, so a client connected to one
/// replica sees the changes made on another. An event delivered again (at-least-once: a relay
/// retry, a rebalance) within the last [`FAN_OUT_MEMORY`] events is not pushed twice.
pub struct FanOut {
    bus: EventBus,
    seen: std::sync::Mutex<Recent>,
}

/// How many recent event ids the fan-out remembers to drop redeliveries.
pub const FAN_OUT_MEMORY: usize = 65_536;

/// The most recent event ids, oldest first.
#[derive(Default)]
struct Recent {
    order: std::collections::VecDeque<EventId>,
    ids: std::collections::HashSet<EventId>,
}

impl Recent {
    /// Remembers `id`; `false` when it was remembered already.
    fn first_time(&mut self, id: EventId) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > FAN_OUT_MEMORY {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
        true
    }
}

impl FanOut {
    /// A fan-out into `bus`.
    pub fn new(bus: EventBus) -> Self {
        FanOut {
            bus,
            seen: std::sync::Mutex::new(Recent::default()),
        }
    }
}

impl EventHandler for FanOut {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        let first = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .first_time(event.event_id);
        if first {
            self.bus.fan_out(event.clone());
        }
        Ok(())
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
pub fn spawn_consumers<S, C, I, F>(
    settings: &KafkaSettings,
    service: &Arc<TaskService<S, C, I>>,
    bus: &EventBus,
    shutdown: impl Fn() -> F,
) -> Result<Consumers, KafkaError>
where
    S: Store + 'static,
    C: Clock + 'static,
    I: IdSource + 'static,
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn id(n: u128) -> EventId {
        EventId::new(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn recent_ids_drop_repeats_and_forget_the_oldest() {
        let mut r = Recent::default();
        assert!(r.first_time(id(1)));
        assert!(!r.first_time(id(1)));
        for n in 2..=FAN_OUT_MEMORY as u128 {
            assert!(r.first_time(id(n)));
        }
        assert!(!r.first_time(id(1)), "still remembered at the limit");
        assert!(r.first_time(id(0)), "one more pushes the oldest out");
        assert!(r.first_time(id(1)), "forgotten");
        assert_eq!(r.order.len(), FAN_OUT_MEMORY);
        assert_eq!(r.ids.len(), FAN_OUT_MEMORY);
    }
}
