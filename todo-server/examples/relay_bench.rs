//! Relay throughput (BENCHMARKS.md, "Outbox relay to Kafka"): a pre-filled outbox of N events
//! (default 100,000) on a fresh SQLite file, drained to a real broker by the server's relay
//! (`EventBus::drain_once` with `KafkaRelay`), next to the ceiling of the same broker: a bare
//! rdkafka producer sending the same number of records of the same size, in the same run.
//!
//! `cargo run --release -p todo-server --example relay_bench -- BROKERS [EVENTS]`
//! (e.g. `BROKERS=$(scripts/kafka.sh start)`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use todo_core::conformance::plain_task;
use todo_core::events::{DomainEvent, EventPayload, TaskSnapshot};
use todo_core::ids::{EventId, TaskId, UserId};
use todo_core::ports::{Store, StoreTx};
use todo_events::kafka::{EventHandler, HandlerError, KafkaConsumer};
use todo_events::{EventEnvelope, Topic};
use todo_server::bus::EventBus;
use todo_server::config::KafkaSettings;
use todo_server::kafka::{KafkaRelay, kafka_config};
use todo_server::storage::{SoleRelay, SqliteStore};

fn event(n: u64) -> DomainEvent {
    let user = UserId::parse(&format!("user{}", n % 100)).unwrap();
    let now = Utc::now();
    let mut task = plain_task(&user, &format!("Write the quarterly report {n}"));
    task.id = TaskId::new(i64::try_from(n + 1).unwrap());
    task.created_at = now;
    task.updated_at = now;
    DomainEvent {
        id: EventId::new(uuid::Uuid::new_v4()),
        occurred_at: now,
        user_id: user,
        payload: EventPayload::TaskCreated(TaskSnapshot {
            task,
            tag_names: Vec::new(),
        }),
    }
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let brokers = args.next().expect("usage: relay_bench BROKERS [EVENTS]");
    let n: u64 = args.next().map_or(100_000, |s| s.parse().unwrap());
    let prefix = format!("bench{}.", uuid::Uuid::new_v4().simple());

    // The outbox: N task-created events of 100 users, written in units of 1,000.
    let path = std::env::temp_dir().join(format!("relay-bench-{}.db", uuid::Uuid::new_v4()));
    let store = SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let started = Instant::now();
    let mut sample = None;
    for chunk in 0..n.div_ceil(1000) {
        let mut tx = store.begin().await.unwrap();
        for i in chunk * 1000..((chunk + 1) * 1000).min(n) {
            let e = event(i);
            sample.get_or_insert_with(|| e.clone());
            tx.append_event(&e).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    println!(
        "outbox filled: {n} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let sample = EventEnvelope::from_domain(&sample.unwrap()).unwrap();
    let payload = todo_events::encode(&sample).unwrap();
    let records_per_event = sample.topics().len() as u64;

    let settings = KafkaSettings {
        brokers: brokers.clone(),
        topic_prefix: prefix.clone(),
        partitions: 3,
        replication: 1,
        retention_ms: None,
    };
    let relay = KafkaRelay::connect(&settings).await.unwrap();

    // The ceiling: a bare idempotent producer, the same number of records of the same size,
    // keyed over 100 users, all enqueued, then all acknowledgements awaited.
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let topic = format!("{prefix}task-events");
    let records = n * records_per_event;
    let started = Instant::now();
    let mut pending = Vec::with_capacity(usize::try_from(records).unwrap());
    for i in 0..records {
        let key = format!("user{}", i % 100);
        loop {
            match producer.send_result(FutureRecord::to(&topic).key(&key).payload(&payload)) {
                Ok(f) => {
                    pending.push(f);
                    break;
                }
                Err((_, _)) => tokio::time::sleep(Duration::from_millis(5)).await,
            }
        }
    }
    for f in pending {
        f.await.unwrap().unwrap();
    }
    let bare = started.elapsed().as_secs_f64();
    println!(
        "bare rdkafka producer: {records} records of {} bytes in {bare:.2} s = {:.0} records/s",
        payload.len(),
        records as f64 / bare
    );

    // Where a relay pass spends its time, on one batch (not marked: the drain below repeats it).
    {
        use todo_core::ports::EventPublisher;
        let t = Instant::now();
        let batch = store.undelivered_events(5000).await.unwrap();
        let read = t.elapsed();
        let t = Instant::now();
        relay.publish(&batch).await.unwrap();
        let publish = t.elapsed();
        println!(
            "one batch of {}: read {:.1} ms, publish (encode + acks) {:.1} ms",
            batch.len(),
            read.as_secs_f64() * 1e3,
            publish.as_secs_f64() * 1e3
        );
    }

    // The relay: drain the whole outbox (batches of 500: publish, await the acks, mark delivered).
    let bus = EventBus::new();
    let started = Instant::now();
    let delivered = bus.drain_once(&store, &relay).await.unwrap();
    // (The batch timed above was published once more by this drain: n + 5,000 in all.)
    let relayed = started.elapsed().as_secs_f64();
    assert_eq!(delivered as u64, n);
    println!(
        "relay: {n} events ({} records) in {relayed:.2} s = {:.0} events/s, {:.0} records/s ({:.0} % of the bare producer's records/s)",
        n * records_per_event,
        n as f64 / relayed,
        (n * records_per_event) as f64 / relayed,
        100.0 * bare / relayed
    );

    // End to end: events written one unit at a time (about 500/s) while the relay runs (woken
    // after each commit, as the server does), received by a consumer of `task-events`; the
    // latency is receive time minus the event's time (the commit). Fresh topics, so that the
    // consumer has no backlog to read first.
    let settings = KafkaSettings {
        topic_prefix: format!("{prefix}live."),
        ..settings
    };
    let prefix = settings.topic_prefix.clone();
    let relay = KafkaRelay::connect(&settings).await.unwrap();
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let consumer = KafkaConsumer::new(
        &kafka_config(&settings),
        &format!("{prefix}latency"),
        &[Topic::TaskEvents],
    )
    .unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };
    let skip_before = Utc::now();
    let handler = Latency {
        since: skip_before,
        got: Arc::clone(&latencies),
    };
    let consuming = tokio::spawn({
        let stop = stopped();
        async move { consumer.run(&handler, stop).await }
    });
    let relay_task = tokio::spawn(bus.clone().run(
        store.clone(),
        relay,
        SoleRelay,
        Duration::from_millis(200),
        stopped(),
    ));
    tokio::time::sleep(Duration::from_secs(3)).await; // the consumer joins its group
    let live = 2_000u64;
    let mut tick = tokio::time::interval(Duration::from_millis(2));
    for i in 0..live {
        tick.tick().await;
        let mut tx = store.begin().await.unwrap();
        tx.append_event(&event(n + i)).await.unwrap();
        tx.commit().await.unwrap();
        bus.wake();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while (latencies.lock().unwrap().len() as u64) < live && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop_tx.send(true);
    let _ = relay_task.await;
    let _ = consuming.await;
    let mut l = latencies.lock().unwrap().clone();
    assert!(!l.is_empty(), "the consumer received nothing");
    l.sort_unstable_by(f64::total_cmp);
    let pct = |p: f64| l[((l.len() as f64 * p) as usize).min(l.len() - 1)];
    println!(
        "end to end (commit -> consumer), {} of {live} events: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        l.len(),
        pct(0.50),
        pct(0.95),
        pct(0.99)
    );
    let _ = std::fs::remove_file(&path);
}

/// Records, for each event newer than `since`, how long after its time it arrived (ms).
struct Latency {
    since: chrono::DateTime<Utc>,
    got: Arc<Mutex<Vec<f64>>>,
}

impl EventHandler for Latency {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        if event.timestamp > self.since {
            let ms = (Utc::now() - event.timestamp)
                .num_microseconds()
                .unwrap_or(0) as f64
                / 1e3;
            self.got.lock().unwrap().push(ms);
        }
        Ok(())
    }
}
