//! The outbox relay and the in-process event bus. The relay ([`EventBus::run`]) drains the
//! outbox in order, hands each batch to an [`EventPublisher`] and marks it delivered once the
//! publisher accepted it. In the embedded default the publisher is the bus itself: every event
//! goes to the subscribers of this process (real-time fan-out). With Kafka configured it is the
//! Kafka producer (`crate::kafka`).

use std::sync::Arc;
use std::time::Duration;

use prometheus::{Gauge, IntCounter, IntGauge};
use todo_core::error::PublishError;
use todo_core::ports::{EventPublisher, OutboxEntry, Store};
use todo_events::EventEnvelope;
use tokio::sync::{Notify, broadcast};

use crate::storage::{RelayLease, SoleRelay};

/// How many events a slow subscriber may lag behind before it misses some (and is told so by
/// `broadcast::error::RecvError::Lagged`): more than a relay batch, which is handed over at once.
const CHANNEL_CAPACITY: usize = 16_384;
/// How many recent event ids the bus remembers to drop a redelivery (a relay batch published
/// again after its mark-delivered write failed, a Kafka rebalance).
pub const RECENT_MEMORY: usize = 65_536;
/// After a pass that delivered something, how long the bus waits before the next pass. An
/// idle bus drains at once when woken; a busy one at most every `COALESCE`.
const COALESCE: Duration = Duration::from_millis(5);
/// How many outbox entries one relay batch takes (one publish, one mark-delivered write).
const BATCH: u32 = 5000;

/// A handle to the bus: subscribe to events, or wake the drainer after a commit.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<EventEnvelope>>,
    seen: Arc<std::sync::Mutex<Recent>>,
    wake: Arc<Notify>,
    metrics: BusMetrics,
}

/// What the bus reports: the outbox depth it last saw and the events it delivered. The
/// collectors belong to no registry; [`crate::http::Metrics::register_bus`] adds them to one
/// (each app instance has its own registry, so tests in one process do not interfere).
#[derive(Debug, Clone)]
pub struct BusMetrics {
    /// `todo_outbox_depth`: undelivered events as of the bus's last look at the outbox: the
    /// size of the batch it read (the head of the outbox, at most 500), 0 once a pass emptied
    /// it. When delivery fails it keeps the batch size, so a stuck outbox shows.
    pub outbox_depth: IntGauge,
    /// `todo_events_delivered_total`: events handed to the subscribers and marked delivered.
    pub delivered: IntCounter,
    /// `todo_relay_lag_seconds`: how long the oldest undelivered event had waited at the last
    /// look at the outbox (0 once a pass emptied it). Grows while the publisher (the broker) is
    /// unavailable.
    pub lag_seconds: Gauge,
}

impl BusMetrics {
    fn new() -> Self {
        #[allow(clippy::expect_used)] // constant, valid names and help texts
        BusMetrics {
            outbox_depth: IntGauge::new(
                "todo_outbox_depth",
                "Undelivered events in the outbox as of the event bus's last look",
            )
            .expect("valid metric"),
            delivered: IntCounter::new(
                "todo_events_delivered_total",
                "Events delivered by the event bus and marked delivered in the outbox",
            )
            .expect("valid metric"),
            lag_seconds: Gauge::new(
                "todo_relay_lag_seconds",
                "Age of the oldest undelivered outbox event at the relay's last look",
            )
            .expect("valid metric"),
        }
    }
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus with no subscribers yet.
    pub fn new() -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        EventBus {
            sender,
            seen: Arc::new(std::sync::Mutex::new(Recent::default())),
            wake: Arc::new(Notify::new()),
            metrics: BusMetrics::new(),
        }
    }

    /// The bus's collectors (outbox depth, delivered events), to register in a registry.
    pub fn metrics(&self) -> &BusMetrics {
        &self.metrics
    }

    /// Receives every event delivered from now on (as on the wire), in outbox order: from this
    /// process's relay in the embedded default, from the fan-out consumer with Kafka.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<EventEnvelope>> {
        self.sender.subscribe()
    }

    /// Hands an event to this process's subscribers, once: an event id seen among the last
    /// [`RECENT_MEMORY`] is dropped.
    pub fn fan_out(&self, event: EventEnvelope) {
        let first = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .first_time(event.event_id);
        if first {
            // No subscriber is not an error: the event is delivered to nobody.
            let _ = self.sender.send(Arc::new(event));
        }
    }

    /// Asks the drainer to look at the outbox now (called after a unit of work committed).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Delivers what the outbox holds to `publisher` until it is empty; returns how many events
    /// went out. Updates the outbox depth gauge and the delivered counter ([`BusMetrics`]).
    pub async fn drain_once<S: Store, P: EventPublisher>(
        &self,
        store: &S,
        publisher: &P,
    ) -> Result<usize, RelayError> {
        self.drain(store, publisher, &mut SoleRelay).await
    }

    /// [`EventBus::drain_once`] while `lease` is held: checked before every batch, so that a
    /// replica that lost the lease stops within one batch.
    async fn drain<S: Store, P: EventPublisher, L: RelayLease>(
        &self,
        store: &S,
        publisher: &P,
        lease: &mut L,
    ) -> Result<usize, RelayError> {
        let mut delivered = 0;
        if !lease.held().await {
            return Ok(delivered);
        }
        let mut batch = store.undelivered_events(BATCH).await?;
        loop {
            let (Some(oldest), Some(newest)) = (batch.first(), batch.last()) else {
                self.metrics.outbox_depth.set(0);
                self.metrics.lag_seconds.set(0.0);
                return Ok(delivered);
            };
            let waited = chrono::Utc::now() - oldest.event.occurred_at;
            self.metrics
                .lag_seconds
                .set(waited.num_milliseconds().max(0) as f64 / 1000.0);
            let n = batch.len();
            let full = n >= BATCH as usize;
            // What is known to wait: this batch (the head of the outbox, at most BATCH).
            self.metrics
                .outbox_depth
                .set(i64::try_from(n).unwrap_or(i64::MAX));
            // While this batch is being published, read the next one.
            let after = newest.seq;
            let (published, next) = tokio::join!(publisher.publish(&batch), async {
                if full {
                    store.undelivered_events_after(after, BATCH).await
                } else {
                    Ok(Vec::new())
                }
            });
            published?;
            let seqs: Vec<u64> = batch.iter().map(|e| e.seq).collect();
            store.mark_delivered(&seqs).await?;
            delivered += n;
            self.metrics.delivered.inc_by(n as u64);
            if !full {
                // A short batch was the whole outbox (as of the read); a commit since then
                // woke the bus for another pass.
                self.metrics.outbox_depth.set(0);
                self.metrics.lag_seconds.set(0.0);
                return Ok(delivered);
            }
            batch = next?;
            // An event with a lower `seq` may have become visible after the read-ahead (on
            // PostgreSQL, `seq` is taken at insert, not at commit): then start again from the
            // head, so that nothing overtakes it.
            if let (Some(head), Some(first)) =
                (store.undelivered_events(1).await?.first(), batch.first())
                && head.seq < first.seq
            {
                batch = store.undelivered_events(BATCH).await?;
            }
            if !lease.held().await {
                return Ok(delivered);
            }
        }
    }

    /// Drains the outbox to `publisher` whenever woken, and at least every `interval` (events
    /// committed by another process on the same database, or a wake-up that was missed), until
    /// `shutdown` resolves. Undelivered events stay in the outbox across restarts.
    ///
    /// Only while `lease` is held: of several replicas on one database, one relays (a standby
    /// checks the lease every `interval`).
    pub async fn run<S: Store, P: EventPublisher, L: RelayLease>(
        self,
        store: S,
        publisher: P,
        mut lease: L,
        interval: Duration,
        shutdown: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            // A standby replica (no lease) delivers nothing and waits like an idle one.
            let delivered = match self.drain(&store, &publisher, &mut lease).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "event bus: draining the outbox failed; retrying");
                    0
                }
            };
            if delivered > 0 {
                // Under a stream of commits, gather what arrives in the next moment into one
                // read and one mark-delivered write, instead of a pair per commit.
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(COALESCE) => {}
                }
            }
            tokio::select! {
                () = &mut shutdown => return,
                () = self.wake.notified() => {}
                () = tokio::time::sleep(interval) => {}
            }
        }
    }
}

/// Why a relay pass stopped: reading or marking the outbox failed, or publishing did.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The outbox could not be read or marked.
    #[error(transparent)]
    Store(#[from] todo_core::StoreError),
    /// The publisher did not accept the batch.
    #[error(transparent)]
    Publish(#[from] PublishError),
}

/// The in-process bus as a publisher: every event goes to this process's subscribers.
impl EventPublisher for EventBus {
    async fn publish(&self, batch: &[OutboxEntry]) -> Result<(), PublishError> {
        for (n, event) in todo_events::relay::envelopes(batch).into_iter().enumerate() {
            self.fan_out(event);
            // Let the subscribers read along a large batch instead of lagging behind it.
            if n % 256 == 255 {
                tokio::task::yield_now().await;
            }
        }
        Ok(())
    }
}

/// How often [`prune_outbox`] runs.
pub const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Deletes delivered outbox entries older than `retention`, at start and every [`PRUNE_EVERY`],
/// until `shutdown` resolves: they are the real-time replay's event log, kept as long as the
/// retention says (`TODO_EVENT_RETENTION`). Any replica may run it (the delete is idempotent).
pub async fn prune_outbox<S: Store>(
    store: S,
    retention: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let before = chrono::Utc::now() - chrono::Duration::from_std(retention).unwrap_or_default();
        match store.prune_delivered_events(before).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                pruned = n,
                "outbox: delivered events past the retention deleted"
            ),
            Err(e) => tracing::warn!(error = %e, "outbox: pruning failed; tried again later"),
        }
        tokio::select! {
            () = &mut shutdown => return,
            () = tokio::time::sleep(PRUNE_EVERY) => {}
        }
    }
}

/// The most recent event ids, oldest first.
#[derive(Debug, Default)]
struct Recent {
    order: std::collections::VecDeque<todo_core::EventId>,
    ids: std::collections::HashSet<todo_core::EventId>,
}

impl Recent {
    /// Remembers `id`; `false` when it was remembered already.
    fn first_time(&mut self, id: todo_core::EventId) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > RECENT_MEMORY
            && let Some(old) = self.order.pop_front()
        {
            self.ids.remove(&old);
        }
        true
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn id(n: u128) -> todo_core::EventId {
        todo_core::EventId::new(uuid::Uuid::from_u128(n))
    }

    #[test]
    fn recent_ids_drop_repeats_and_forget_the_oldest() {
        let mut r = Recent::default();
        assert!(r.first_time(id(1)));
        assert!(!r.first_time(id(1)));
        for n in 2..=RECENT_MEMORY as u128 {
            assert!(r.first_time(id(n)));
        }
        assert!(!r.first_time(id(1)), "still remembered at the limit");
        assert!(r.first_time(id(0)), "one more pushes the oldest out");
        assert!(r.first_time(id(1)), "forgotten");
        assert_eq!(r.order.len(), RECENT_MEMORY);
        assert_eq!(r.ids.len(), RECENT_MEMORY);
    }
    use chrono::{TimeZone, Utc};
    use todo_core::ids::UserId;
    use todo_core::input::CreateTaskInput;
    use todo_core::memory::MemoryStore;
    use todo_core::ports::{ManualClock, SequentialIds};
    use todo_core::service::TaskService;

    #[tokio::test]
    async fn delivers_in_order_once_and_marks_delivered() {
        let svc = TaskService::new(
            MemoryStore::new(),
            ManualClock::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()),
            SequentialIds::new(),
        );
        let u = UserId::parse("u").unwrap();
        for t in ["a", "b"] {
            let input = CreateTaskInput {
                title: Some(t.into()),
                ..Default::default()
            };
            svc.create_task(&u, &input).await.unwrap();
        }
        let bus = EventBus::new();
        let mut rx = bus.subscribe();
        assert_eq!(bus.drain_once(svc.store(), &bus).await.unwrap(), 4);
        assert_eq!(
            bus.drain_once(svc.store(), &bus).await.unwrap(),
            0,
            "marked delivered"
        );
        let mut got = Vec::new();
        while let Ok(e) = rx.try_recv() {
            got.push(e.event_type().as_str());
        }
        assert_eq!(
            got,
            [
                "activity-log-created",
                "task-created",
                "activity-log-created",
                "task-created"
            ]
        );
        assert!(svc.store().undelivered_events(10).await.unwrap().is_empty());
    }
}
