//! The server with Dapr (`DAPR_GRPC_PORT`), against the Dapr STAND-IN sidecar (`dapr-standin`:
//! daprd cannot run here; the stand-in implements the calls the server makes with Dapr's
//! documented semantics and calls the app back over HTTP as daprd does). The real binary is
//! spawned with the stand-in's port; the stand-in is attached to the binary's port.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use dapr_standin::{DeliveryOutcome, StandIn, StandInOptions};
use serde_json::{Value, json};
use support::kafka::{SECRET, call};
use support::server::Server;
use todo_events::{EventEnvelope, EventType, Topic};

const WAIT: Duration = Duration::from_secs(20);

/// A stand-in (default components) and the binary wired to it.
async fn start(extra: &[(&str, &str)]) -> (StandIn, Server) {
    let dapr = StandIn::start(StandInOptions::default()).await.unwrap();
    let port = dapr.grpc_port().to_string();
    let mut env = vec![
        ("DAPR_GRPC_PORT", port.as_str()),
        ("TODO_JWT_SECRET", SECRET),
    ];
    env.extend_from_slice(extra);
    let server = tokio::task::block_in_place(|| Server::start_in_temp_dir("todo-dapr", &env));
    dapr.attach_app(app_addr(&server)).await.unwrap();
    (dapr, server)
}

fn app_addr(server: &Server) -> SocketAddr {
    server.base.trim_start_matches("http://").parse().unwrap()
}

/// A blocking HTTP call that must succeed, off the async workers.
fn api(server: &Server, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    tokio::task::block_in_place(|| call(server, method, path, token, body))
}

fn token(server: &Server, user: &str) -> String {
    tokio::task::block_in_place(|| server.token(user))
}

/// The events published on `topic`, decoded.
fn published_on(dapr: &StandIn, topic: Topic) -> Vec<(EventEnvelope, BTreeMap<String, String>)> {
    dapr.published()
        .into_iter()
        .filter(|p| p.topic == topic.name())
        .map(|p| {
            assert_eq!(p.pubsub, "kafka-pubsub");
            assert_eq!(p.content_type, "application/json");
            (todo_events::decode(&p.data).unwrap(), p.metadata)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dapr_standin_every_event_is_published_in_order_and_delivered_to_the_subscriptions() {
    let (dapr, server) = start(&[]).await;
    let subs: Value = tokio::task::block_in_place(|| {
        support::kafka::agent()
            .get(&format!("{}/dapr/subscribe", server.base))
            .call()
            .unwrap()
            .body_mut()
            .read_json()
            .unwrap()
    });
    assert_eq!(
        subs,
        json!([
            {"pubsubname": "kafka-pubsub", "topic": "task-events", "route": "/dapr/events/task-events", "deadLetterTopic": "task-events.dlq"},
            {"pubsubname": "kafka-pubsub", "topic": "activity-logs", "route": "/dapr/events/activity-logs", "deadLetterTopic": "activity-logs.dlq"},
            {"pubsubname": "kafka-pubsub", "topic": "task-updates", "route": "/dapr/events/task-updates", "deadLetterTopic": "task-updates.dlq"},
            {"pubsubname": "kafka-pubsub", "topic": "reminders", "route": "/dapr/events/reminders", "deadLetterTopic": "reminders.dlq"},
        ])
    );

    // Two users' changes, the sidecar refusing the first publishes (the relay tries again).
    dapr.fail_next_publishes(3);
    let mut expected: BTreeMap<&str, Vec<(EventType, i64)>> = BTreeMap::new();
    for user in ["ann", "ben"] {
        let tok = token(&server, user);
        for n in 0..3 {
            let t = api(
                &server,
                "POST",
                &format!("/api/v1/{user}/tasks"),
                &tok,
                Some(json!({"title": format!("t{n}")})),
            );
            expected
                .entry(user)
                .or_default()
                .push((EventType::TaskCreated, t["id"].as_i64().unwrap()));
        }
    }
    let ann = token(&server, "ann");
    let daily = api(
        &server,
        "POST",
        "/api/v1/ann/tasks",
        &ann,
        Some(
            json!({"title": "standup", "recurrence_pattern": "daily", "due_datetime": "2030-01-01T09:00:00Z"}),
        ),
    );
    let id = daily["id"].as_i64().unwrap();
    api(
        &server,
        "PATCH",
        &format!("/api/v1/ann/tasks/{id}/complete"),
        &ann,
        Some(json!({"completed": true})),
    );
    let events = expected.get_mut("ann").unwrap();
    events.push((EventType::TaskCreated, id));

    let total = 8; // 6 + standup created + completed, at least (the next instance adds more)
    dapr.wait_for("task events published", WAIT, |d| {
        d.published()
            .iter()
            .filter(|p| p.topic == "task-events")
            .count()
            > total
    })
    .await;
    let task_events = published_on(&dapr, Topic::TaskEvents);
    for (event, meta) in &task_events {
        assert_eq!(meta["cloudevent.id"], event.event_id.to_string());
        assert_eq!(meta["cloudevent.type"], event.event_type().as_str());
        assert_eq!(meta["partitionKey"], event.key());
    }
    for (user, want) in &expected {
        let got: Vec<(EventType, i64)> = task_events
            .iter()
            .filter(|(e, _)| e.key() == *user && e.event_type() == EventType::TaskCreated)
            .map(|(e, _)| (e.event_type(), task_id(e)))
            .take(want.len())
            .collect();
        assert_eq!(&got, want, "{user}'s events in commit order");
    }
    // Every task event also went to task-updates, with the same ids.
    let updates: Vec<String> = published_on(&dapr, Topic::TaskUpdates)
        .iter()
        .map(|(e, _)| e.event_id.to_string())
        .collect();
    let events_ids: Vec<String> = task_events
        .iter()
        .map(|(e, _)| e.event_id.to_string())
        .collect();
    assert_eq!(updates, events_ids);

    // Each was delivered back to the server's subscription and acknowledged; the server's own
    // task-completed did not create a second next instance.
    dapr.wait_for("every task event acknowledged", WAIT, |d| {
        let ok = d
            .deliveries()
            .iter()
            .filter(|x| x.topic == "task-events" && x.outcome == DeliveryOutcome::Success)
            .count();
        ok >= d
            .published()
            .iter()
            .filter(|p| p.topic == "task-events")
            .count()
    })
    .await;
    let list = api(
        &server,
        "GET",
        "/api/v1/ann/tasks?search=standup&status=all",
        &ann,
        None,
    );
    assert_eq!(
        list["total"], 2,
        "the completed task and one next instance: {list}"
    );
    assert!(dapr.dead_letters().is_empty(), "{:?}", dapr.dead_letters());
}

fn task_id(e: &EventEnvelope) -> i64 {
    let v: Value = serde_json::from_str(&e.to_json().unwrap()).unwrap();
    v["data"]["task_id"].as_i64().unwrap()
}
