//! The outbox relay and the in-process event bus. The relay ([`EventBus::run`]) drains the
//! outbox in order, hands each batch to an [`EventPublisher`] and marks it delivered once the
//! publisher accepted it. In the embedded default the publisher is the bus itself: every event
//! goes to the subscribers of this process (real-time fan-out). With Kafka configured it is the
//! Kafka producer (`crate::kafka`).
//!
//! An event the publisher refuses for good ([`PublishError::Rejected`]: larger than
//! `TODO_EVENT_MAX_BYTES`, not encodable, refused by the broker as too large or invalid) is
//! parked ([`Store::park_event`]): logged, counted (`todo_events_parked_total{reason}`) and kept
//! in the outbox for an operator, while the relay goes on with the events after it. A poison
//! event never blocks the outbox; an outage ([`PublishError::Unavailable`]) is retried.

use std::sync::Arc;
use std::time::Duration;

use prometheus::{Gauge, IntCounter, IntCounterVec, IntGauge, Opts};
use todo_core::error::{PublishError, Rejection};
use todo_core::ports::{DEFAULT_MAX_EVENT_BYTES, EventPublisher, OutboxEntry, Store};
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
/// How often the relay counts the parked events for `todo_outbox_parked` (also after it parks).
const PARKED_COUNT_EVERY: Duration = Duration::from_secs(60);
/// Parked events are kept this many times the event retention (`TODO_EVENT_RETENTION`, so 7
/// days by default) after they were parked: an operator inspects them
/// (`todo-server outbox parked`) before they go.
pub const PARKED_RETENTION_FACTOR: u32 = 7;

/// A handle to the bus: subscribe to events, or wake the drainer after a commit.
#[derive(Debug, Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<EventEnvelope>>,
    seen: Arc<std::sync::Mutex<Recent>>,
    wake: Arc<Notify>,
    metrics: BusMetrics,
    /// The largest encoded event this bus hands to its subscribers (as a publisher).
    max_event_bytes: usize,
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
    /// `todo_events_parked_total{reason}`: events the relay parked because the publisher refused
    /// them for good (`too_large`, `unencodable`, `invalid`).
    pub parked: IntCounterVec,
    /// `todo_outbox_parked`: parked events in the outbox (all replicas) as of the relay's last
    /// count (every minute and after it parks one).
    pub parked_now: IntGauge,
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
            parked: IntCounterVec::new(
                Opts::new(
                    "todo_events_parked_total",
                    "Outbox events the relay parked (dead-lettered) because the publisher \
                     refused them for good",
                ),
                &["reason"],
            )
            .expect("valid metric"),
            parked_now: IntGauge::new(
                "todo_outbox_parked",
                "Parked (dead-lettered) events in the outbox as of the relay's last count",
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
            max_event_bytes: DEFAULT_MAX_EVENT_BYTES,
        }
    }

    /// As a publisher, refuses (so the relay parks) events whose encoding is longer than
    /// `bytes` (`TODO_EVENT_MAX_BYTES`): the same limit as the broker publishers', so that an
    /// event behaves the same whichever publisher the server runs with.
    #[must_use]
    pub fn with_max_event_bytes(mut self, bytes: usize) -> Self {
        self.max_event_bytes = bytes;
        self
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
            match published {
                Ok(()) => {}
                Err(PublishError::Rejected(refused)) => {
                    self.park(store, &batch, &refused).await?;
                    // The rest of the batch, before and after the parked events, is offered
                    // again from the head of the outbox, in order (what went out before a
                    // broker's refusal goes out twice; consumers skip it by `event_id`).
                    batch = store.undelivered_events(BATCH).await?;
                    if !lease.held().await {
                        return Ok(delivered);
                    }
                    continue;
                }
                Err(e @ PublishError::Unavailable(_)) => return Err(e.into()),
            }
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

    /// Parks the events of `batch` that the publisher refused for good: each is logged (without
    /// its payload) and counted. Fails when none of them is in the batch (a publisher that
    /// names other events would otherwise have the relay loop on the same batch).
    async fn park<S: Store>(
        &self,
        store: &S,
        batch: &[OutboxEntry],
        refused: &[Rejection],
    ) -> Result<(), RelayError> {
        let mut parked_any = false;
        for r in refused {
            let Some(entry) = batch.iter().find(|e| e.seq == r.seq) else {
                continue;
            };
            let reason = format!("{}: {}", r.reason, r.detail);
            let now = chrono::Utc::now();
            if store.park_event(r.seq, &reason, now).await? {
                self.metrics
                    .parked
                    .with_label_values(&[r.reason.as_str()])
                    .inc();
                tracing::error!(
                    seq = r.seq,
                    event_id = %entry.event.id.get(),
                    event_type = entry.event.payload.event_type(),
                    user_id = %entry.event.user_id.as_str(),
                    reason = r.reason.as_str(),
                    bytes = r.bytes,
                    detail = %r.detail,
                    "event bus: the publisher refused an event for good; parked in the outbox, \
                     the events after it go on"
                );
            }
            parked_any = true;
        }
        if !parked_any {
            return Err(RelayError::Publish(PublishError::Unavailable(format!(
                "the publisher refused events that are not in the batch: {}",
                PublishError::Rejected(refused.to_vec())
            ))));
        }
        self.count_parked(store).await;
        Ok(())
    }

    /// Sets `todo_outbox_parked` from the store (a failure leaves it as it was).
    async fn count_parked<S: Store>(&self, store: &S) {
        match store.count_parked_events().await {
            Ok(n) => self
                .metrics
                .parked_now
                .set(i64::try_from(n).unwrap_or(i64::MAX)),
            Err(e) => tracing::warn!(error = %e, "event bus: counting parked events failed"),
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
        let mut counted: Option<tokio::time::Instant> = None;
        loop {
            if counted.is_none_or(|at| at.elapsed() >= PARKED_COUNT_EVERY) {
                self.count_parked(&store).await;
                counted = Some(tokio::time::Instant::now());
            }
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
        let checked = todo_events::relay::checked_envelopes(batch, self.max_event_bytes)?;
        for (n, (_, event)) in checked.into_iter().enumerate() {
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
/// retention says (`TODO_EVENT_RETENTION`). Parked entries go [`PARKED_RETENTION_FACTOR`] times
/// the retention after they were parked. Any replica may run it (the delete is idempotent).
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
        // A retention too long to subtract keeps parked events for good.
        let parked_before =
            chrono::Duration::from_std(retention.saturating_mul(PARKED_RETENTION_FACTOR))
                .ok()
                .and_then(|keep| chrono::Utc::now().checked_sub_signed(keep));
        if let Some(parked_before) = parked_before {
            match store.prune_parked_events(parked_before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    pruned = n,
                    "outbox: parked events past {PARKED_RETENTION_FACTOR} times the retention \
                     deleted"
                ),
                Err(e) => tracing::warn!(error = %e, "outbox: pruning parked events failed"),
            }
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

    /// A publisher that refuses some events for good (by event id) and fails a number of times
    /// first; records what it accepted, in order.
    #[derive(Default)]
    struct Picky {
        refuse: std::collections::HashSet<todo_core::EventId>,
        outages: std::sync::atomic::AtomicUsize,
        accepted: std::sync::Mutex<Vec<todo_core::EventId>>,
        offered: std::sync::Mutex<Vec<todo_core::EventId>>,
    }

    impl EventPublisher for Picky {
        async fn publish(&self, batch: &[OutboxEntry]) -> Result<(), PublishError> {
            self.offered
                .lock()
                .unwrap()
                .extend(batch.iter().map(|e| e.event.id));
            if self
                .outages
                .fetch_update(
                    std::sync::atomic::Ordering::SeqCst,
                    std::sync::atomic::Ordering::SeqCst,
                    |n| n.checked_sub(1),
                )
                .is_ok()
            {
                return Err(PublishError::Unavailable("broker down (test)".into()));
            }
            let refused: Vec<Rejection> = batch
                .iter()
                .filter(|e| self.refuse.contains(&e.event.id))
                .map(|e| Rejection {
                    seq: e.seq,
                    reason: todo_core::error::RejectReason::TooLarge,
                    detail: "too large (test)".into(),
                    bytes: Some(2_000_000),
                })
                .collect();
            if !refused.is_empty() {
                return Err(PublishError::Rejected(refused));
            }
            self.accepted
                .lock()
                .unwrap()
                .extend(batch.iter().map(|e| e.event.id));
            Ok(())
        }
    }

    /// Two users' tasks: `n` creates alternating between `a` and `b` (two events each).
    async fn outbox_of(
        n: usize,
        description: impl Fn(usize) -> Option<String>,
    ) -> TaskService<MemoryStore> {
        let svc = TaskService::new(
            MemoryStore::new(),
            ManualClock::new(Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap()),
            SequentialIds::new(),
        );
        for i in 0..n {
            let u = UserId::parse(if i % 2 == 0 { "a" } else { "b" }).unwrap();
            let input = CreateTaskInput {
                title: Some(format!("t{i}")),
                description: description(i),
                ..Default::default()
            };
            svc.create_task(&u, &input).await.unwrap();
        }
        svc
    }

    fn parked_total(bus: &EventBus) -> u64 {
        bus.metrics().parked.with_label_values(&["too_large"]).get()
    }

    #[tokio::test]
    async fn a_refused_event_is_parked_once_and_the_ones_after_it_go_on_in_order() {
        let svc = outbox_of(6, |_| None).await;
        let all = svc.store().undelivered_events(100).await.unwrap();
        assert_eq!(all.len(), 12);
        // The first task-created event of user a (the 2nd event), and one of b later on.
        let poison = [all[1].event.id, all[7].event.id];
        let publisher = Picky {
            refuse: poison.into_iter().collect(),
            ..Default::default()
        };
        let bus = EventBus::new();
        assert_eq!(
            bus.drain_once(svc.store(), &publisher).await.unwrap(),
            10,
            "every other event delivered in one pass"
        );
        let expected: Vec<_> = all
            .iter()
            .map(|e| e.event.id)
            .filter(|id| !poison.contains(id))
            .collect();
        assert_eq!(
            *publisher.accepted.lock().unwrap(),
            expected,
            "in outbox order"
        );
        assert_eq!(parked_total(&bus), 2);
        assert_eq!(bus.metrics().parked_now.get(), 2);
        let parked = svc.store().parked_events(10).await.unwrap();
        assert_eq!(
            parked.iter().map(|p| p.event_id).collect::<Vec<_>>(),
            poison
        );
        assert!(parked[0].reason.starts_with("too_large: "), "{parked:?}");
        // Nothing is left and nothing is parked twice.
        assert_eq!(bus.drain_once(svc.store(), &publisher).await.unwrap(), 0);
        assert_eq!(parked_total(&bus), 2);
        assert!(svc.store().undelivered_events(10).await.unwrap().is_empty());
        let offered = publisher.offered.lock().unwrap();
        for id in poison {
            assert_eq!(
                offered.iter().filter(|o| **o == id).count(),
                1,
                "a parked event is not offered again"
            );
        }
    }

    #[tokio::test]
    async fn an_outage_is_retried_not_parked() {
        let svc = outbox_of(2, |_| None).await;
        let publisher = Picky {
            outages: 2.into(),
            ..Default::default()
        };
        let bus = EventBus::new();
        for _ in 0..2 {
            let e = bus.drain_once(svc.store(), &publisher).await.unwrap_err();
            assert!(
                matches!(e, RelayError::Publish(PublishError::Unavailable(_))),
                "{e}"
            );
        }
        assert_eq!(parked_total(&bus), 0);
        assert_eq!(svc.store().undelivered_events(10).await.unwrap().len(), 4);
        assert_eq!(bus.drain_once(svc.store(), &publisher).await.unwrap(), 4);
        assert_eq!(publisher.accepted.lock().unwrap().len(), 4);
        assert_eq!(svc.store().count_parked_events().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_publisher_naming_other_events_does_not_loop() {
        struct Confused;
        impl EventPublisher for Confused {
            async fn publish(&self, _: &[OutboxEntry]) -> Result<(), PublishError> {
                Err(PublishError::Rejected(vec![Rejection {
                    seq: 999_999,
                    reason: todo_core::error::RejectReason::Invalid,
                    detail: "not in the batch".into(),
                    bytes: None,
                }]))
            }
        }
        let svc = outbox_of(1, |_| None).await;
        let bus = EventBus::new();
        let e = bus.drain_once(svc.store(), &Confused).await.unwrap_err();
        assert!(e.to_string().contains("not in the batch"), "{e}");
        assert_eq!(svc.store().undelivered_events(10).await.unwrap().len(), 2);
        assert_eq!(svc.store().count_parked_events().await.unwrap(), 0);
    }

    #[tokio::test]
    async fn the_bus_parks_events_over_its_size_limit_and_fans_out_the_rest() {
        // Task 1 (user b) has a long description: its two events (activity, created) exceed
        // the limit; the others are small.
        let svc = outbox_of(4, |i| (i == 1).then(|| "d".repeat(3000))).await;
        let all = svc.store().undelivered_events(100).await.unwrap();
        let bus = EventBus::new().with_max_event_bytes(2048);
        let mut rx = bus.subscribe();
        assert_eq!(bus.drain_once(svc.store(), &bus).await.unwrap(), 6);
        let mut got = Vec::new();
        while let Ok(e) = rx.try_recv() {
            got.push(e.event_id);
        }
        let big = [all[2].event.id, all[3].event.id];
        let expected: Vec<_> = all
            .iter()
            .map(|e| e.event.id)
            .filter(|id| !big.contains(id))
            .collect();
        assert_eq!(got, expected);
        assert_eq!(parked_total(&bus), 2);
        let parked = svc.store().parked_events(10).await.unwrap();
        assert_eq!(parked.iter().map(|p| p.event_id).collect::<Vec<_>>(), big);
        assert!(
            parked[1].reason.contains("over the limit of 2048"),
            "{parked:?}"
        );
        assert_eq!(parked[1].event_type, "task-created");
    }
}
