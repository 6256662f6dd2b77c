//! Consuming events: decode, handle with bounded retries, dead-letter, commit.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::message::{BorrowedMessage, Header, OwnedHeaders};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::config::{KafkaConfig, dlq_of};
use super::error::KafkaError;
use super::headers;
use super::publisher::KafkaPublisher;
use crate::codec;
use crate::envelope::EventEnvelope;
use crate::handler::{EventHandler, HandlerError};
use crate::topic::Topic;

/// `dlq-error-code` of a message whose handler kept failing with [`HandlerError::Retryable`].
pub const HANDLER_FAILED: &str = "HANDLER_FAILED";
/// `dlq-error-code` of a message whose handler failed with [`HandlerError::Permanent`].
pub const HANDLER_REJECTED: &str = "HANDLER_REJECTED";

/// How often and how patiently a failing handler is called again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls of the handler at most, the first one included (at least 1).
    pub attempts: u32,
    /// Pause after the first failure; doubled after each further one.
    pub initial_backoff: Duration,
    /// The longest pause.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, pauses of 50 ms, 100 ms, 200 ms, 400 ms (capped at 2 s).
    fn default() -> Self {
        RetryPolicy {
            attempts: 5,
            initial_backoff: Duration::from_millis(50),
            max_backoff: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// The pause after `failures` failed calls (1 or more).
    fn backoff(&self, failures: u32) -> Duration {
        let factor = 2u32.saturating_pow(failures.saturating_sub(1));
        self.initial_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Counters of a running consumer, shared with the caller ([`KafkaConsumer::stats`]).
#[derive(Debug, Default)]
pub struct ConsumerStats {
    processed: AtomicU64,
    dead_lettered: AtomicU64,
}

impl ConsumerStats {
    /// Messages the handler handled (and whose offsets were then committed).
    pub fn processed(&self) -> u64 {
        self.processed.load(Ordering::Relaxed)
    }

    /// Messages sent to a dead-letter topic.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered.load(Ordering::Relaxed)
    }
}

/// A consumer-group member reading some of the topics (an rdkafka `StreamConsumer` with manual
/// commits, starting from the earliest offset when the group has none).
pub struct KafkaConsumer {
    consumer: StreamConsumer,
    dlq: KafkaPublisher,
    retry: RetryPolicy,
    stats: Arc<ConsumerStats>,
}

impl std::fmt::Debug for KafkaConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConsumer")
            .field("retry", &self.retry)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// The outcome of one message that was not handled.
struct DeadLetter {
    reason: String,
    code: &'static str,
    attempts: u32,
}

/// Where a consumer group without committed offsets starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAt {
    /// The earliest message the topic still holds (consumers that must see everything).
    Earliest,
    /// Messages produced from now on (e.g. a replica's real-time fan-out).
    Latest,
}

impl KafkaConsumer {
    /// Joins consumer group `group_id` and subscribes to `topics` (named with the configuration's
    /// prefix; they must exist, see [`super::ensure_topics`]). A group without committed offsets
    /// starts at the earliest message.
    pub fn new(cfg: &KafkaConfig, group_id: &str, topics: &[Topic]) -> Result<Self, KafkaError> {
        Self::starting_at(cfg, group_id, topics, StartAt::Earliest)
    }

    /// [`KafkaConsumer::new`], choosing where a group without committed offsets starts.
    pub fn starting_at(
        cfg: &KafkaConfig,
        group_id: &str,
        topics: &[Topic],
        start: StartAt,
    ) -> Result<Self, KafkaError> {
        let reset = match start {
            StartAt::Earliest => "earliest",
            StartAt::Latest => "latest",
        };
        let consumer: StreamConsumer = cfg
            .client_config(&[
                ("group.id", group_id),
                ("enable.auto.commit", "false"),
                ("auto.offset.reset", reset),
                // A fetch waits at most this long for data (librdkafka's default is 500 ms,
                // which a broker may spend in full before answering: the latency floor).
                ("fetch.wait.max.ms", "10"),
            ])
            .create()
            .map_err(|source| KafkaError::Client {
                what: "consumer",
                source,
            })?;
        let names: Vec<String> = topics.iter().map(|t| cfg.topic_name(*t)).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        consumer
            .subscribe(&names)
            .map_err(|source| KafkaError::Client {
                what: "consumer subscription",
                source,
            })?;
        Ok(KafkaConsumer {
            consumer,
            dlq: KafkaPublisher::new(cfg)?,
            retry: RetryPolicy::default(),
            stats: Arc::default(),
        })
    }

    /// Replaces the retry policy ([`RetryPolicy::default`] otherwise).
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The counters, readable while [`KafkaConsumer::run`] runs.
    pub fn stats(&self) -> Arc<ConsumerStats> {
        Arc::clone(&self.stats)
    }

    /// Consumes until `shutdown` completes.
    ///
    /// Each message is decoded with [`codec::decode`]; one that cannot be decoded (not JSON,
    /// another major version, unknown type, malformed) goes to its topic's dead-letter topic at
    /// once. A decoded event is given to `handler`, again with backoff after a
    /// [`HandlerError::Retryable`] failure up to [`RetryPolicy::attempts`] calls; when they are
    /// used up, or after a [`HandlerError::Permanent`] failure, it is dead-lettered. A dead-letter
    /// record keeps the original key and payload bytes and headers, and adds the `dlq-*` headers
    /// of [`headers`](super::headers); writing it is retried until it is acknowledged.
    ///
    /// The message's offset is committed only after the handler succeeded or the dead-letter
    /// record was acknowledged. A message in progress when `shutdown` completes is abandoned
    /// uncommitted, so it comes again later. Errors of the client (receiving, committing) are
    /// logged and consumption goes on.
    pub async fn run<H: EventHandler>(self, handler: &H, shutdown: impl Future<Output = ()>) {
        let mut shutdown = pin!(shutdown);
        // The next offset of every partition, as far as messages were processed.
        let mut done = TopicPartitionList::new();
        'consume: loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break 'consume,
                received = self.consumer.recv() => match received {
                    Ok(message) => {
                        tokio::select! {
                            biased;
                            () = &mut shutdown => break 'consume,
                            () = self.process(&message, handler) => {
                                note_processed(&mut done, &message);
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "kafka receive failed");
                        tokio::select! {
                            biased;
                            () = &mut shutdown => break 'consume,
                            () = tokio::time::sleep(self.retry.initial_backoff) => {}
                        }
                    }
                },
            }
        }
        // The commits of the run were asynchronous: make the last ones stick before leaving,
        // for the partitions this consumer still owns (another member may be further on in a
        // partition that was moved to it).
        let owned = self.consumer.assignment().unwrap_or_default();
        let mut last = TopicPartitionList::new();
        for e in done.elements() {
            if owned.find_partition(e.topic(), e.partition()).is_some() {
                let _ = last.add_partition_offset(e.topic(), e.partition(), e.offset());
            }
        }
        if last.count() > 0
            && let Err(e) = self.consumer.commit(&last, CommitMode::Sync)
        {
            tracing::warn!(error = %e, "kafka final offset commit failed; some messages will come again");
        }
    }

    /// Handles or dead-letters one message, then commits its offset.
    async fn process<H: EventHandler>(&self, message: &BorrowedMessage<'_>, handler: &H) {
        let outcome = match codec::decode(message.payload().unwrap_or_default()) {
            Ok(event) => self.handle(&event, handler).await,
            Err(e) => Err(DeadLetter {
                reason: e.to_string(),
                code: e.code(),
                attempts: 0,
            }),
        };
        match outcome {
            Ok(()) => {
                self.stats.processed.fetch_add(1, Ordering::Relaxed);
            }
            Err(dead) => {
                self.dead_letter(message, &dead).await;
                self.stats.dead_lettered.fetch_add(1, Ordering::Relaxed);
            }
        }
        // Asynchronous: the commits of one partition go out in order, and a commit lost in a
        // crash only means a redelivery, which the handlers absorb (they are idempotent).
        if let Err(e) = self.consumer.commit_message(message, CommitMode::Async) {
            tracing::warn!(
                error = %e,
                topic = message.topic(),
                partition = message.partition(),
                offset = message.offset(),
                "kafka offset commit failed; the message will come again"
            );
        }
    }

    /// Calls the handler with the retry policy.
    async fn handle<H: EventHandler>(
        &self,
        event: &EventEnvelope,
        handler: &H,
    ) -> Result<(), DeadLetter> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match handler.handle(event).await {
                Ok(()) => return Ok(()),
                Err(HandlerError::Retryable(reason)) if attempts < self.retry.attempts => {
                    tracing::debug!(
                        event_id = %event.event_id, attempts, %reason, "handler failed; retrying"
                    );
                    tokio::time::sleep(self.retry.backoff(attempts)).await;
                }
                Err(HandlerError::Retryable(reason)) => {
                    return Err(DeadLetter {
                        reason: format!("handler failed {attempts} times: {reason}"),
                        code: HANDLER_FAILED,
                        attempts,
                    });
                }
                Err(HandlerError::Permanent(reason)) => {
                    return Err(DeadLetter {
                        reason: format!("handler rejected the event: {reason}"),
                        code: HANDLER_REJECTED,
                        attempts,
                    });
                }
            }
        }
    }

    /// Writes the message to its topic's dead-letter topic, again until it is acknowledged.
    async fn dead_letter(&self, message: &BorrowedMessage<'_>, dead: &DeadLetter) {
        let topic = dlq_of(message.topic());
        let partition = message.partition().to_string();
        let offset = message.offset().to_string();
        let attempts = dead.attempts.to_string();
        tracing::warn!(
            dlq = %topic,
            partition = message.partition(),
            offset = message.offset(),
            code = dead.code,
            reason = %dead.reason,
            "dead-lettering a kafka message"
        );
        let mut failures = 0;
        loop {
            let headers = message
                .headers()
                .map_or_else(OwnedHeaders::new, |h| h.detach())
                .insert(header(headers::DLQ_REASON, &dead.reason))
                .insert(header(headers::DLQ_ERROR_CODE, dead.code))
                .insert(header(headers::DLQ_ORIGINAL_TOPIC, message.topic()))
                .insert(header(headers::DLQ_ORIGINAL_PARTITION, &partition))
                .insert(header(headers::DLQ_ORIGINAL_OFFSET, &offset))
                .insert(header(headers::DLQ_ATTEMPTS, &attempts));
            match self
                .dlq
                .send_raw(&topic, message.key(), message.payload(), headers)
                .await
            {
                Ok(()) => return,
                Err(e) => {
                    failures += 1;
                    tracing::warn!(error = %e, dlq = %topic, "dead-letter write failed; retrying");
                    tokio::time::sleep(self.retry.backoff(failures)).await;
                }
            }
        }
    }
}

fn header<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}

/// Records that `message` was processed: its partition's next offset is the one after it.
fn note_processed(done: &mut TopicPartitionList, message: &BorrowedMessage<'_>) {
    let next = Offset::Offset(message.offset() + 1);
    let (topic, partition) = (message.topic(), message.partition());
    let noted = if done.find_partition(topic, partition).is_some() {
        done.set_partition_offset(topic, partition, next)
    } else {
        done.add_partition_offset(topic, partition, next)
    };
    if let Err(e) = noted {
        tracing::warn!(error = %e, topic, partition, "kafka: offset not noted for the final commit");
    }
}
