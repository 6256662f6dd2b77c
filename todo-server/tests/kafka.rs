//! The server with Kafka (`KAFKA_BROKERS`), against a real broker (`TEST_KAFKA_BROKERS`, from
//! `scripts/kafka.sh start`; skipped when unset, except with `CI=true`): the real binary relays
//! its outbox to the topics, keyed by user and in order, and its consumers apply events of other
//! services exactly once however often they are delivered. Each test has its own topic prefix.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::kafka::{SECRET, brokers, call, consume, eventually, kafka_cfg, prefix};
use support::server::Server;
use todo_core::events::{DomainEvent, EventPayload, TaskSnapshot};
use todo_core::ids::{ActivityId, EventId, TaskId, UserId};
use todo_core::model::{ActivityAction, ActivityEntry};
use todo_core::ports::{Store, StoreTx};
use todo_events::kafka::KafkaPublisher;
use todo_events::{EventEnvelope, Topic};
use todo_server::storage::PgStore;

#[test]
fn the_relay_publishes_every_event_keyed_by_user_and_in_order() {
    let Some(brokers) = brokers() else { return };
    let prefix = prefix();
    let server = Server::start_in_temp_dir(
        "todo-kafka",
        &[
            ("KAFKA_BROKERS", &brokers),
            ("KAFKA_TOPIC_PREFIX", &prefix),
            ("TODO_JWT_SECRET", SECRET),
        ],
    );
    let mut expected: Vec<(String, i64, &str)> = Vec::new();
    for user in ["ann", "ben"] {
        let token = server.token(user);
        let t = call(
            &server,
            "POST",
            &format!("/api/v1/{user}/tasks"),
            &token,
            Some(
                json!({"title": "Standup", "due_datetime": "2099-01-02T09:00:00Z", "recurrence_pattern": "daily"}),
            ),
        );
        let id = t["id"].as_i64().unwrap();
        call(
            &server,
            "PUT",
            &format!("/api/v1/{user}/tasks/{id}"),
            &token,
            Some(json!({"title": "Daily standup"})),
        );
        let done = call(
            &server,
            "PATCH",
            &format!("/api/v1/{user}/tasks/{id}/complete"),
            &token,
            Some(json!({"completed": true})),
        );
        let next = done["next_task_id"].as_i64().unwrap();
        expected.extend([
            (user.to_owned(), id, "task-created"),
            (user.to_owned(), id, "task-updated"),
            (user.to_owned(), id, "task-completed"),
            (user.to_owned(), next, "task-created"),
        ]);
    }
    let cfg = kafka_cfg(&brokers, &prefix);
    let got = consume(&cfg, Topic::TaskEvents, expected.len());
    for user in ["ann", "ben"] {
        let mine: Vec<(i64, &str)> = got
            .iter()
            .filter(|e| e.user_id().as_str() == user)
            .map(|e| (e.data.task_id().unwrap().get(), e.event_type().as_str()))
            .collect();
        let want: Vec<(i64, &str)> = expected
            .iter()
            .filter(|(u, _, _)| u == user)
            .map(|(_, id, t)| (*id, *t))
            .collect();
        assert_eq!(
            mine, want,
            "{user}: every event once, in the order of the changes"
        );
    }
    // The activity-log writer consumed this server's own activity-log-created events (one per
    // change, as many as the task events) and wrote nothing more: the log has one entry per
    // change.
    eventually("the activity-log writer consumed every entry", || {
        metric(
            &server,
            "todo_consumer_processed_total{consumer=\"activity-log-writer\"}",
        )
        .is_some_and(|n| n >= got.len() as f64)
    });
    let token = server.token("ann");
    let log = call(
        &server,
        "GET",
        "/api/v1/ann/activity-logs?limit=100",
        &token,
        None,
    );
    let actions: Vec<&str> = log["activity_logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    let own = got.iter().filter(|e| e.user_id().as_str() == "ann").count();
    assert_eq!(actions.len(), own, "{actions:?}");
}

/// Another service (sharing the database) completed a recurring task without creating its next
/// instance, and announced it; the event arrives three times. The server creates the next
/// instance once. Another service's activity entry, delivered three times, is written once.
#[test]
fn events_of_another_service_apply_once_however_often_delivered() {
    let Some(brokers) = brokers() else { return };
    let Some(_) = support::pg_url() else { return };
    let url = support::run(support::fresh_pg_database());
    let prefix = prefix();
    let server = Server::start_in_temp_dir(
        "todo-kafka-pg",
        &[
            ("DATABASE_URL", &url),
            ("KAFKA_BROKERS", &brokers),
            ("KAFKA_TOPIC_PREFIX", &prefix),
            ("TODO_JWT_SECRET", SECRET),
        ],
    );
    let token = server.token("cat");
    let t = call(
        &server,
        "POST",
        "/api/v1/cat/tasks",
        &token,
        Some(
            json!({"title": "Water plants", "due_datetime": "2099-01-02T09:00:00Z", "rrule": "FREQ=WEEKLY;BYDAY=MO"}),
        ),
    );
    let id = TaskId::new(t["id"].as_i64().unwrap());
    let user = UserId::parse("cat").unwrap();
    let cfg = kafka_cfg(&brokers, &prefix);
    support::run(async {
        let store = PgStore::connect(&url).await.unwrap();
        // The other service completes the task in the shared database.
        let mut task = store.task(&user, id).await.unwrap().unwrap();
        task.completed = true;
        task.completed_at = Some(chrono::Utc::now());
        let mut tx = store.begin().await.unwrap();
        tx.update_task(&task).await.unwrap();
        tx.commit().await.unwrap();
        let completed = DomainEvent {
            id: EventId::new(uuid::Uuid::new_v4()),
            occurred_at: chrono::Utc::now(),
            user_id: user.clone(),
            payload: EventPayload::TaskCompleted {
                snapshot: TaskSnapshot {
                    task,
                    tag_names: Vec::new(),
                },
                next_task_id: None,
            },
        };
        let logged = DomainEvent {
            id: EventId::new(uuid::Uuid::new_v4()),
            occurred_at: chrono::Utc::now(),
            user_id: user.clone(),
            payload: EventPayload::ActivityLogCreated(ActivityEntry {
                id: ActivityId::new(987_654),
                user_id: user.clone(),
                task_id: Some(id),
                action: ActivityAction::TaskUpdated,
                old_values: None,
                new_values: None,
                created_at: chrono::Utc::now(),
            }),
        };
        let completed = EventEnvelope::from_domain(&completed).unwrap();
        let logged = EventEnvelope::from_domain(&logged).unwrap();
        let publisher = KafkaPublisher::new(&cfg).unwrap();
        publisher
            .publish(&[
                completed.clone(),
                logged.clone(),
                completed.clone(),
                logged.clone(),
                completed,
                logged,
            ])
            .await
            .unwrap();
    });
    eventually("the next instance", || {
        let page = call(&server, "GET", "/api/v1/cat/tasks", &token, None);
        page["total"] == 2
    });
    let entries = || {
        call(
            &server,
            "GET",
            "/api/v1/cat/activity-logs?limit=100",
            &token,
            None,
        )["activity_logs"]
            .as_array()
            .unwrap()
            .clone()
    };
    eventually("the foreign activity entry", || {
        entries()
            .iter()
            .any(|e| e["action"] == "task-updated" && e["new_values"].is_null())
    });
    // Let the redeliveries arrive; they must change nothing.
    std::thread::sleep(Duration::from_secs(2));
    let page = call(
        &server,
        "GET",
        "/api/v1/cat/tasks?sort_order=asc",
        &token,
        None,
    );
    assert_eq!(page["total"], 2, "{page}");
    assert_eq!(page["tasks"][1]["parent_task_id"], id.get());
    assert_eq!(page["tasks"][1]["due_datetime"], "2099-01-05T09:00:00Z");
    let foreign = entries()
        .iter()
        .filter(|e| e["action"] == "task-updated" && e["new_values"].is_null())
        .count();
    assert_eq!(foreign, 1);
    // The consumers' counters on /metrics: each delivery was processed (the repeats as no-ops),
    // none dead-lettered.
    let value = |line_start: &str| -> f64 {
        metric(&server, line_start).unwrap_or_else(|| panic!("{line_start} missing"))
    };
    for consumer in ["recurring-task-creator", "activity-log-writer"] {
        assert!(
            value(&format!(
                "todo_consumer_processed_total{{consumer=\"{consumer}\"}}"
            )) >= 3.0
        );
        assert_eq!(
            value(&format!(
                "todo_consumer_dead_lettered_total{{consumer=\"{consumer}\"}}"
            )),
            0.0
        );
    }
}

/// The value of the server's metric line that starts with `line_start` (name and labels).
fn metric(server: &Server, line_start: &str) -> Option<f64> {
    let text = support::kafka::agent()
        .get(format!("{}/metrics", server.base))
        .call()
        .ok()?
        .body_mut()
        .read_to_string()
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(line_start))
        .and_then(|v| v.trim().parse().ok())
}

/// The real-time fan-out with Kafka: every replica consumes `task-updates` in a group of its
/// own, so each replica's subscribers get every change, in order, whichever replica made it,
/// and once, however often it is delivered. Two in-process buses stand for two replicas.
#[test]
fn every_replica_fans_out_every_task_update_in_order() {
    use todo_events::kafka::{KafkaConsumer, StartAt, ensure_topics};
    use todo_server::bus::EventBus;
    use todo_server::consumers::FanOut;

    let Some(brokers) = brokers() else { return };
    let cfg = kafka_cfg(&brokers, &prefix());
    support::run(async move {
        ensure_topics(&cfg).await.unwrap();
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let replicas: Vec<EventBus> = (0..2).map(|_| EventBus::new()).collect();
        let mut received: Vec<_> = replicas.iter().map(EventBus::subscribe).collect();
        for (i, bus) in replicas.iter().enumerate() {
            let group = format!("{}fan-out-{i}", cfg.topic_prefix);
            let consumer =
                KafkaConsumer::starting_at(&cfg, &group, &[Topic::TaskUpdates], StartAt::Latest)
                    .unwrap();
            let handler = FanOut::new(bus.clone());
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                consumer
                    .run(&handler, async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await;
            });
        }
        let user = UserId::parse("dot").unwrap();
        let created = |n: i64| {
            let mut task = todo_core::conformance::plain_task(&user, &format!("task {n}"));
            task.id = TaskId::new(n);
            EventEnvelope::from_domain(&DomainEvent {
                id: EventId::new(uuid::Uuid::new_v4()),
                occurred_at: chrono::Utc::now(),
                user_id: user.clone(),
                payload: EventPayload::TaskCreated(TaskSnapshot {
                    task,
                    tag_names: Vec::new(),
                }),
            })
            .unwrap()
        };
        let publisher = KafkaPublisher::new(&cfg).unwrap();
        // A group that starts at the latest message sees what comes after it joined: probe
        // until both replicas received something.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut joined = [false, false];
        while !joined.iter().all(|j| *j) {
            assert!(
                std::time::Instant::now() < deadline,
                "the replicas never joined"
            );
            publisher.publish(&[created(999)]).await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            for (j, rx) in joined.iter_mut().zip(received.iter_mut()) {
                while rx.try_recv().is_ok() {
                    *j = true;
                }
            }
        }
        let batch: Vec<EventEnvelope> = (1..=5).map(created).collect();
        // Every event delivered three times: pushed once.
        for _ in 0..3 {
            publisher.publish(&batch).await.unwrap();
        }
        for rx in &mut received {
            let mut got = Vec::new();
            while got.len() < batch.len() {
                let e = tokio::time::timeout(Duration::from_secs(20), rx.recv())
                    .await
                    .expect("fan-out within 20 s")
                    .unwrap();
                // Late probes may still come first.
                if e.data.task_id() != Some(TaskId::new(999)) {
                    got.push(e.event_id);
                }
            }
            let want: Vec<EventId> = batch.iter().map(|e| e.event_id).collect();
            assert_eq!(got, want, "every event, in order, on every replica");
        }
        // Nothing more comes: the redeliveries were dropped (probes aside).
        tokio::time::sleep(Duration::from_millis(500)).await;
        for rx in &mut received {
            while let Ok(e) = rx.try_recv() {
                assert_eq!(
                    e.data.task_id(),
                    Some(TaskId::new(999)),
                    "pushed twice: {e:?}"
                );
            }
        }
        let _ = stop_tx.send(true);
    });
}
