//! Publishing envelopes with the idempotent producer.

use std::time::Duration;

use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::message::{Header, OwnedHeaders, ToBytes};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;

use todo_core::error::RejectReason;

use super::config::KafkaConfig;
use super::error::KafkaError;
use super::headers;
use crate::codec;
use crate::envelope::EventEnvelope;

/// How long to wait before enqueuing again when librdkafka's local queue is full.
const QUEUE_FULL_PAUSE: Duration = Duration::from_millis(10);

/// Why [`KafkaPublisher::publish_encoded`] failed.
#[derive(Debug)]
pub struct BatchFailure {
    /// The first failure, in batch order.
    pub first: KafkaError,
    /// The events whose records were refused for good ([`KafkaError::refusal`]), in batch
    /// order (an event with several topics may appear once per topic).
    pub refused: Vec<Refused>,
}

/// An event of a batch whose record was refused for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// Its index in the batch.
    pub index: usize,
    /// Why, as a class.
    pub reason: RejectReason,
    /// Why, for people.
    pub detail: String,
}

/// Publishes envelopes to their topics: an rdkafka `FutureProducer` with the idempotent producer
/// (`enable.idempotence=true`, `acks=all`), so that retries inside librdkafka neither duplicate
/// nor reorder records of a partition.
pub struct KafkaPublisher {
    producer: FutureProducer,
    cfg: KafkaConfig,
}

impl std::fmt::Debug for KafkaPublisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaPublisher")
            .field("brokers", &self.cfg.brokers)
            .field("topic_prefix", &self.cfg.topic_prefix)
            .finish_non_exhaustive()
    }
}

impl KafkaPublisher {
    /// Creates the producer (it connects in the background).
    pub fn new(cfg: &KafkaConfig) -> Result<Self, KafkaError> {
        let producer = cfg
            .client_config(&[
                ("enable.idempotence", "true"),
                // A record that fails while later ones of its partition succeed would leave a
                // gap that a retry of the batch fills out of order: make that a fatal error
                // instead (the caller then replaces the producer and sends the batch again).
                ("enable.gapless.guarantee", "true"),
                ("acks", "all"),
                ("linger.ms", "5"),
                ("message.timeout.ms", "30000"),
            ])
            .create()
            .map_err(|source| KafkaError::Client {
                what: "producer",
                source,
            })?;
        Ok(KafkaPublisher {
            producer,
            cfg: cfg.clone(),
        })
    }

    /// Sends every envelope of `batch` to each of its topics ([`EventEnvelope::topics`]), keyed by
    /// user id, with the headers `event_id`, `event_type`, `version` and `content-type`.
    ///
    /// All records are enqueued first, in batch order, then their acknowledgements are awaited.
    /// `Ok` means every record was acknowledged by the brokers; otherwise the first failure is
    /// returned and the caller retries the whole batch later (consumers absorb the duplicates).
    pub async fn publish(&self, batch: &[EventEnvelope]) -> Result<(), KafkaError> {
        let encoded = batch
            .iter()
            .map(|e| {
                codec::encode(e).map_err(|source| KafkaError::Encode {
                    event_id: e.event_id.to_string(),
                    source,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let records: Vec<_> = batch
            .iter()
            .zip(&encoded)
            .map(|(e, p)| (e, p.as_slice()))
            .collect();
        self.publish_encoded(&records).await.map_err(|f| f.first)
    }

    /// [`KafkaPublisher::publish`] for envelopes already encoded (each with its payload), telling
    /// which ones failed: on an error, every record was enqueued (up to the first that could not
    /// be) and awaited, and the failure names the first error and every event whose record the
    /// client or the brokers refused for good ([`KafkaError::refusal`]).
    pub async fn publish_encoded(
        &self,
        batch: &[(&EventEnvelope, &[u8])],
    ) -> Result<(), BatchFailure> {
        let mut pending = Vec::new();
        let mut failures = Vec::new();
        'enqueue: for (index, (envelope, payload)) in batch.iter().enumerate() {
            let event_id = envelope.event_id.to_string();
            let version = envelope.version.to_string();
            let headers = OwnedHeaders::new_with_capacity(4)
                .insert(header(headers::EVENT_ID, &event_id))
                .insert(header(headers::EVENT_TYPE, envelope.event_type().as_str()))
                .insert(header(headers::VERSION, &version))
                .insert(header(headers::CONTENT_TYPE, headers::APPLICATION_JSON));
            for topic in envelope.topics() {
                let topic = self.cfg.topic_name(*topic);
                let record = FutureRecord::to(&topic)
                    .key(envelope.key())
                    .payload(*payload)
                    .headers(headers.clone());
                match self.enqueue(record).await {
                    Ok(delivery) => pending.push((index, topic, delivery)),
                    // What was enqueued is still awaited (to learn which records the brokers
                    // refused); nothing after this one is sent.
                    Err(e) => {
                        failures.push((index, e));
                        break 'enqueue;
                    }
                }
            }
        }
        for (index, topic, delivery) in pending {
            if let Err(e) = delivered(topic, delivery).await {
                failures.push((index, e));
            }
        }
        // In batch order (an enqueue failure was pushed before the deliveries were awaited).
        failures.sort_by_key(|(index, _)| *index);
        let refused = failures
            .iter()
            .filter_map(|(index, e)| {
                e.refusal().map(|reason| Refused {
                    index: *index,
                    reason,
                    detail: e.to_string(),
                })
            })
            .collect();
        match failures.into_iter().next() {
            None => Ok(()),
            Some((_, first)) => Err(BatchFailure { first, refused }),
        }
    }

    /// The producer's fatal error, if it has one (e.g. the broker lost the idempotent producer's
    /// state, as a broker restarted empty does): such a producer fails every send from then on,
    /// and only a new one can publish again.
    pub fn fatal_error(&self) -> Option<String> {
        self.producer
            .client()
            .fatal_error()
            .map(|(code, reason)| format!("{code:?}: {reason}"))
    }

    /// Waits until every enqueued record was delivered or failed, at most `timeout`. This blocks
    /// the calling thread (use it at shutdown, or from `spawn_blocking`).
    pub fn flush(&self, timeout: Duration) -> Result<(), KafkaError> {
        self.producer.flush(timeout).map_err(KafkaError::Flush)
    }

    /// Sends one record with the given key, payload and headers and waits for its acknowledgement.
    pub(crate) async fn send_raw(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        payload: Option<&[u8]>,
        headers: OwnedHeaders,
    ) -> Result<(), KafkaError> {
        let mut record = FutureRecord::<[u8], [u8]>::to(topic).headers(headers);
        record.key = key;
        record.payload = payload;
        let delivery = self.enqueue(record).await?;
        delivered(topic.to_owned(), delivery).await
    }

    /// Enqueues a record, waiting while librdkafka's local queue is full.
    async fn enqueue<K, P>(
        &self,
        mut record: FutureRecord<'_, K, P>,
    ) -> Result<DeliveryFuture, KafkaError>
    where
        K: ToBytes + ?Sized,
        P: ToBytes + ?Sized,
    {
        loop {
            match self.producer.send_result(record) {
                Ok(delivery) => return Ok(delivery),
                Err((RdKafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    tokio::time::sleep(QUEUE_FULL_PAUSE).await;
                }
                Err((source, r)) => {
                    return Err(KafkaError::Delivery {
                        topic: r.topic.to_owned(),
                        source,
                    });
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

async fn delivered(topic: String, delivery: DeliveryFuture) -> Result<(), KafkaError> {
    match delivery.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((source, _))) => Err(KafkaError::Delivery { topic, source }),
        Err(_) => Err(KafkaError::Cancelled { topic }),
    }
}
