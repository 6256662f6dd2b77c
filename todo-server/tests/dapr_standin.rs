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
use support::kafka::{SECRET, call, send};
use support::server::Server;
use todo_events::dapr::jobs::ReminderJob;
use todo_events::dapr::{DaprJobs, Sidecar, SidecarOptions};
use todo_events::{EventEnvelope, EventType, Topic};

const WAIT: Duration = Duration::from_secs(20);

/// An instant `ms` from now, as the API writes them.
fn at(ms: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::milliseconds(ms))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A year in milliseconds: "some time ahead" that stays ahead whenever the tests run.
const YEAR: i64 = 365 * 24 * 3600 * 1000;

/// A stand-in (default components) and the binary wired to it.
async fn start(extra: &[(&str, &str)]) -> (StandIn, Server) {
    let dapr = StandIn::start(StandInOptions::default()).await.unwrap();
    let port = dapr.grpc_port().to_string();
    // The stand-in and the server share this machine's loopback: local use, where the sidecar's
    // routes may go without APP_API_TOKEN (the tests that set one say so).
    let mut env = vec![
        ("DAPR_GRPC_PORT", port.as_str()),
        ("TODO_JWT_SECRET", SECRET),
        ("TODO_DAPR_ALLOW_NO_APP_TOKEN", "true"),
    ];
    env.extend_from_slice(extra);
    let server = tokio::task::block_in_place(|| Server::start_in_temp_dir("todo-dapr", &env));
    dapr.attach_app(app_addr(&server)).await.unwrap();
    (dapr, server)
}

/// Whether every message published on `topic` was delivered and acknowledged.
fn settled(d: &StandIn, topic: &str) -> bool {
    let published = d.published().iter().filter(|p| p.topic == topic).count();
    let done = d
        .deliveries()
        .iter()
        .filter(|x| x.topic == topic && x.outcome == DeliveryOutcome::Success)
        .count();
    done >= published
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
        Some(json!({"title": "standup", "recurrence_pattern": "daily", "due_datetime": at(YEAR)})),
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
    // Every task event also went to task-updates (right after it), with the same ids.
    let count =
        |d: &StandIn, topic: &str| d.published().iter().filter(|p| p.topic == topic).count();
    dapr.wait_for("task-updates caught up", WAIT, |d| {
        count(d, "task-updates") >= task_events.len()
    })
    .await;
    let ids = |topic: Topic| -> Vec<String> {
        published_on(&dapr, topic)
            .iter()
            .map(|(e, _)| e.event_id.to_string())
            .take(task_events.len())
            .collect()
    };
    assert_eq!(ids(Topic::TaskUpdates), ids(Topic::TaskEvents));

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

/// A CloudEvent as the sidecar delivers it, around an event of another service.
fn cloud_event(envelope: &Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "specversion": "1.0",
        "id": envelope["event_id"],
        "source": "legacy-api",
        "type": "com.dapr.event.sent",
        "datacontenttype": "application/json",
        "data": envelope,
        "topic": "activity-logs",
        "pubsubname": "kafka-pubsub",
    }))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dapr_standin_redelivered_events_apply_once_and_poison_is_dead_lettered() {
    let (dapr, server) = start(&[]).await;
    let cat = token(&server, "cat");
    let t = api(
        &server,
        "POST",
        "/api/v1/cat/tasks",
        &cat,
        Some(json!({"title": "water plants"})),
    );
    let foreign = json!({
        "event_type": "activity-log-created",
        "event_id": uuid::Uuid::new_v4().to_string(),
        "timestamp": "2026-02-15T10:00:00Z",
        "version": "1.0",
        "data": {"log_id": 789, "user_id": "cat", "task_id": t["id"], "action": "task-completed",
                 "old_values": {"completed": false}, "new_values": {"completed": true}},
    });
    // At least once: the same event three times, as a CloudEvent and raw.
    for body in [
        cloud_event(&foreign),
        cloud_event(&foreign),
        serde_json::to_vec(&foreign).unwrap(),
    ] {
        assert_eq!(
            dapr.deliver_raw("kafka-pubsub", "activity-logs", body)
                .await,
            DeliveryOutcome::Success
        );
    }
    let log = api(&server, "GET", "/api/v1/cat/activity-logs", &cat, None);
    let copies = log["activity_logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "task-completed")
        .count();
    assert_eq!(copies, 1, "written once: {log}");

    // The server's own task-completed, delivered again three times: still one next instance.
    let daily = api(
        &server,
        "POST",
        "/api/v1/cat/tasks",
        &cat,
        Some(json!({"title": "feed cat", "recurrence_pattern": "daily", "due_datetime": at(YEAR)})),
    );
    let id = daily["id"].as_i64().unwrap();
    api(
        &server,
        "PATCH",
        &format!("/api/v1/cat/tasks/{id}/complete"),
        &cat,
        Some(json!({"completed": true})),
    );
    dapr.wait_for("task-completed published", WAIT, |d| {
        d.published().iter().any(|p| {
            p.topic == "task-events" && String::from_utf8_lossy(&p.data).contains("task-completed")
        })
    })
    .await;
    let completed = dapr
        .published()
        .into_iter()
        .find(|p| {
            p.topic == "task-events" && String::from_utf8_lossy(&p.data).contains("task-completed")
        })
        .unwrap();
    let envelope: Value = serde_json::from_slice(&completed.data).unwrap();
    for _ in 0..3 {
        assert_eq!(
            dapr.deliver_raw("kafka-pubsub", "task-events", cloud_event(&envelope))
                .await,
            DeliveryOutcome::Success
        );
    }
    let list = api(
        &server,
        "GET",
        "/api/v1/cat/tasks?search=feed&status=all",
        &cat,
        None,
    );
    assert_eq!(
        list["total"], 2,
        "the completed task and one next instance: {list}"
    );

    // Poison: not an event, and an event of an unknown major version: dropped to the DLQ.
    let mut newer = foreign.clone();
    newer["version"] = json!("2.0");
    newer["event_id"] = json!(uuid::Uuid::new_v4().to_string());
    for body in [b"{not json".to_vec(), cloud_event(&newer)] {
        assert_eq!(
            dapr.deliver_raw("kafka-pubsub", "activity-logs", body)
                .await,
            DeliveryOutcome::Drop
        );
    }
    let dead = dapr.dead_letters();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(
        dead.iter()
            .all(|d| d.topic == "activity-logs.dlq" && d.original_topic == "activity-logs")
    );
    // ...and consumption goes on.
    let mut again = foreign.clone();
    again["event_id"] = json!(uuid::Uuid::new_v4().to_string());
    assert_eq!(
        dapr.deliver_raw("kafka-pubsub", "activity-logs", cloud_event(&again))
            .await,
        DeliveryOutcome::Success
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dapr_standin_conversations_live_in_the_state_store_with_etags() {
    let (dapr, server) = start(&[]).await;
    let dan = token(&server, "dan");
    let url = |id: &str| format!("/api/v1/dan/conversations/{id}");
    let put = |id: &str, if_match: Option<&str>, doc: Value| {
        let req = support::kafka::agent()
            .put(&format!("{}{}", server.base, url(id)))
            .header("authorization", &format!("Bearer {dan}"));
        let req = match if_match {
            Some(m) => req.header("if-match", m),
            None => req,
        };
        let mut res = req.send_json(doc).unwrap();
        let etag = res
            .headers()
            .get("etag")
            .map(|v| v.to_str().unwrap().to_owned());
        (
            res.status().as_u16(),
            etag,
            res.body_mut().read_json::<Value>().ok(),
        )
    };
    let (status, etag, _) = tokio::task::block_in_place(|| {
        put(
            "c1",
            None,
            json!({"messages": [{"role": "user", "content": "hi"}]}),
        )
    });
    assert!(status == 200 || status == 201, "{status}");
    let etag = etag.unwrap();
    // In the Dapr state store, not the database.
    let (raw, _) = dapr
        .state("conversation-state", "conversation/dan/c1")
        .expect("stored through Dapr");
    let stored: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(stored["doc"]["messages"][0]["content"], "hi");
    let got = api(&server, "GET", &url("c1"), &dan, None);
    assert_eq!(got["messages"][0]["content"], "hi");

    // Eight writers with the same version: one wins, the others get 412.
    let statuses: Vec<u16> = tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|n| {
                    let put = &put;
                    let etag = etag.clone();
                    s.spawn(move || put("c1", Some(&etag), json!({"n": n})).0)
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    });
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 412).count(),
        7,
        "{statuses:?}"
    );
    // Eight writers of eight conversations: they race on the user's index, and all win.
    let statuses: Vec<u16> = tokio::task::block_in_place(|| {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|n| {
                    let put = &put;
                    s.spawn(move || put(&format!("race{n}"), None, json!({"n": n})).0)
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        })
    });
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 201),
        "{statuses:?}"
    );
    let list = api(&server, "GET", "/api/v1/dan/conversations", &dan, None);
    assert_eq!(list["conversations"].as_array().unwrap().len(), 9, "{list}");
    for n in 0..8 {
        let (status, _) = tokio::task::block_in_place(|| {
            send(&server, "DELETE", &url(&format!("race{n}")), &dan, None)
        });
        assert_eq!(status, 204);
    }

    let (status, _, _) = tokio::task::block_in_place(|| put("c2", None, json!({"messages": []})));
    assert!(status == 200 || status == 201);
    let list = api(&server, "GET", "/api/v1/dan/conversations", &dan, None);
    let ids: Vec<&str> = list["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["conversation_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["c2", "c1"], "newest first: {list}");
    // Another user sees none of it.
    let eve = token(&server, "eve");
    let (status, _) = tokio::task::block_in_place(|| {
        send(&server, "GET", &url("c1").replace("dan", "eve"), &eve, None)
    });
    assert_eq!(status, 404);
    let (status, _) =
        tokio::task::block_in_place(|| send(&server, "DELETE", &url("c1"), &dan, None));
    assert_eq!(status, 204);
    assert!(
        dapr.state("conversation-state", "conversation/dan/c1")
            .is_none()
    );
    let list = api(&server, "GET", "/api/v1/dan/conversations", &dan, None);
    assert_eq!(list["conversations"].as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dapr_standin_reminders_are_dapr_jobs_that_fire_once() {
    let (dapr, server) = start(&[]).await;
    let fay = token(&server, "fay");
    let t = api(
        &server,
        "POST",
        "/api/v1/fay/tasks",
        &fay,
        Some(json!({"title": "call mum", "due_datetime": at(YEAR + 3_600_000)})),
    );
    let id = t["id"].as_i64().unwrap();
    let job_name = format!("reminder-{id}");
    // A reminder set: its job appears (kept in step from the task's activity).
    api(
        &server,
        "POST",
        &format!("/api/v1/fay/tasks/{id}/reminder"),
        &fay,
        Some(json!({"reminder_time": at(YEAR), "reminder_type": "custom"})),
    );
    let later = chrono::Utc::now() + chrono::Duration::milliseconds(YEAR - 60_000);
    dapr.wait_for("the job is scheduled", WAIT, |d| {
        d.jobs().iter().any(|j| j.name == job_name && j.due > later) && settled(d, "activity-logs")
    })
    .await;
    // A stale job (scheduled for an earlier time, its move not applied yet) comes now: the
    // reminder is not fired early, and the job is put back at the reminder's time.
    let sidecar = Sidecar::connect(&SidecarOptions {
        endpoint: dapr.endpoint(),
        api_token: None,
        wait: WAIT,
    })
    .await
    .unwrap();
    let jobs = DaprJobs::new(sidecar);
    let pending = api(
        &server,
        "GET",
        &format!("/api/v1/fay/tasks/{id}"),
        &fay,
        None,
    );
    let stale = ReminderJob {
        user_id: todo_core::ids::UserId::parse("fay").unwrap(),
        task_id: todo_core::ids::TaskId::new(id),
        reminder_id: todo_core::ids::ReminderId::new(pending["reminder"]["id"].as_i64().unwrap()),
    };
    jobs.schedule(&stale, chrono::Utc::now()).await.unwrap();
    dapr.wait_for("the stale job came", WAIT, |d| !d.job_triggers().is_empty())
        .await;
    dapr.wait_for("the job is back at the reminder's time", WAIT, |d| {
        d.jobs().iter().any(|j| j.name == job_name && j.due > later)
    })
    .await;
    let task = api(
        &server,
        "GET",
        &format!("/api/v1/fay/tasks/{id}"),
        &fay,
        None,
    );
    assert_eq!(
        task["reminder"]["status"], "pending",
        "not fired early: {task}"
    );
    // Cancelled: the job is deleted.
    tokio::task::block_in_place(|| {
        send(
            &server,
            "DELETE",
            &format!("/api/v1/fay/tasks/{id}/reminder"),
            &fay,
            None,
        )
    });
    dapr.wait_for("the job is deleted", WAIT, |d| d.jobs().is_empty())
        .await;
    // Set again, due now: the sidecar calls back and the reminder fires.
    let r = api(
        &server,
        "POST",
        &format!("/api/v1/fay/tasks/{id}/reminder"),
        &fay,
        Some(json!({"reminder_time": at(700), "reminder_type": "custom"})),
    );
    let reminder = todo_core::ids::ReminderId::new(r["id"].as_i64().unwrap());
    dapr.wait_for("the job fired", WAIT, |d| d.job_triggers().len() == 2)
        .await;
    let trigger = &dapr.job_triggers()[1];
    assert_eq!(trigger.name, job_name);
    assert_eq!(trigger.result, Ok(200));
    let task = api(
        &server,
        "GET",
        &format!("/api/v1/fay/tasks/{id}"),
        &fay,
        None,
    );
    assert_eq!(
        task["reminder"],
        Value::Null,
        "no pending reminder any more: {task}"
    );
    dapr.wait_for("reminder-triggered published", WAIT, |d| {
        d.published().iter().any(|p| p.topic == "reminders")
    })
    .await;
    let (fired, _) = published_on(&dapr, Topic::Reminders).remove(0);
    let fired: Value = serde_json::from_str(&fired.to_json().unwrap()).unwrap();
    assert_eq!(fired["data"]["reminder_id"], reminder.get());
    assert_eq!(fired["data"]["task_id"], id);

    // The callback again (a job scheduled twice, a retry): not pending any more: no effect.
    let job = ReminderJob {
        user_id: todo_core::ids::UserId::parse("fay").unwrap(),
        task_id: todo_core::ids::TaskId::new(id),
        reminder_id: reminder,
    };
    jobs.schedule(&job, chrono::Utc::now()).await.unwrap();
    dapr.wait_for("the callback again", WAIT, |d| d.job_triggers().len() == 3)
        .await;
    assert_eq!(dapr.job_triggers()[2].result, Ok(200));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        dapr.published()
            .iter()
            .filter(|p| p.topic == "reminders")
            .count(),
        1
    );

    // A callback that is not one of this server's jobs: 400 in the error format.
    let (status, body) = tokio::task::block_in_place(|| {
        send(
            &server,
            "POST",
            "/job/reminder-1",
            "",
            Some(json!({"value": "nope"})),
        )
    });
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "VALIDATION_ERROR");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dapr_standin_secrets_come_from_the_secret_store_at_start() {
    let dir = support::server::temp_dir("todo-dapr-secrets");
    let db = dir.join("from-secret.db");
    let secret = "a-secret-from-the-dapr-secret-store-0123456789";
    let mut secrets = BTreeMap::new();
    secrets.insert(
        "todo-secrets".to_owned(),
        BTreeMap::from([
            ("TODO_JWT_SECRET".to_owned(), secret.to_owned()),
            (
                "DATABASE_URL".to_owned(),
                format!("sqlite://{}", db.display()),
            ),
            ("UNRELATED".to_owned(), "ignored".to_owned()),
        ]),
    );
    let dapr = StandIn::start(StandInOptions {
        secret_stores: BTreeMap::from([("kubernetes-secrets".to_owned(), secrets)]),
        ..StandInOptions::default()
    })
    .await
    .unwrap();
    let port = dapr.grpc_port().to_string();
    let env = [
        ("DAPR_GRPC_PORT", port.as_str()),
        ("DAPR_SECRET_STORE", "kubernetes-secrets"),
        ("TODO_DAPR_ALLOW_NO_APP_TOKEN", "true"),
    ];
    let server = tokio::task::block_in_place(|| Server::start_with(&dir, &env));
    assert!(db.exists(), "the database URL came from the secret store");
    let user = todo_core::ids::UserId::parse("gus").unwrap();
    let tok =
        todo_server::http::issue_token(secret.as_bytes(), &user, Duration::from_secs(60)).unwrap();
    api(&server, "GET", "/api/v1/gus/tasks", &tok, None);

    // A secret that is not there: the start fails, naming it.
    let out = tokio::task::block_in_place(|| {
        std::process::Command::new(env!("CARGO_BIN_EXE_todo-server"))
            .current_dir(&dir)
            .env_clear()
            .env("TODO_ADDR", "127.0.0.1:0")
            .env("DAPR_GRPC_PORT", &port)
            .env("DAPR_SECRET_STORE", "kubernetes-secrets")
            .env("DAPR_SECRET_NAME", "missing")
            .env("TODO_DAPR_ALLOW_NO_APP_TOKEN", "true")
            .output()
            .unwrap()
    });
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("GetSecret") && stderr.contains("missing"),
        "{stderr}"
    );
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dapr_standin_invokes_the_api_and_guards_the_sidecar_routes() {
    let dapr = StandIn::start(StandInOptions {
        app_api_token: Some("sidecar-token".to_owned()),
        ..StandInOptions::default()
    })
    .await
    .unwrap();
    let port = dapr.grpc_port().to_string();
    let env = [
        ("DAPR_GRPC_PORT", port.as_str()),
        ("TODO_JWT_SECRET", SECRET),
        ("APP_API_TOKEN", "sidecar-token"),
    ];
    let server = tokio::task::block_in_place(|| Server::start_in_temp_dir("todo-dapr", &env));
    dapr.attach_app(app_addr(&server)).await.unwrap();
    // Service invocation (the frontend -> backend path of the plan) through the sidecar, with
    // the caller's JWT forwarded.
    let hal = token(&server, "hal");
    let mut raw = dapr::dapr::proto::runtime::v1::dapr_client::DaprClient::connect(dapr.endpoint())
        .await
        .unwrap();
    let invoke = |auth: String| {
        let mut req = tonic::Request::new(dapr::dapr::proto::runtime::v1::InvokeServiceRequest {
            id: "todo-server".to_owned(),
            message: Some(dapr::dapr::proto::common::v1::InvokeRequest {
                method: "api/v1/hal/tasks".to_owned(),
                data: Some(prost_types::Any {
                    type_url: String::new(),
                    value: br#"{"title":"via dapr"}"#.to_vec(),
                }),
                content_type: "application/json".to_owned(),
                http_extension: Some(dapr::dapr::proto::common::v1::HttpExtension {
                    verb: dapr::dapr::proto::common::v1::http_extension::Verb::Post as i32,
                    querystring: String::new(),
                }),
            }),
        });
        req.metadata_mut()
            .insert("authorization", auth.parse().unwrap());
        req
    };
    let ok = raw
        .invoke_service(invoke(format!("Bearer {hal}")))
        .await
        .unwrap()
        .into_inner();
    let task: Value = serde_json::from_slice(&ok.data.unwrap().value).unwrap();
    assert_eq!(task["title"], "via dapr");
    let denied = raw
        .invoke_service(invoke("Bearer nope".to_owned()))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::Unauthenticated);

    // The sidecar's routes want APP_API_TOKEN (the stand-in sent it when it read the
    // subscriptions; a caller without it is refused).
    let (status, body) =
        tokio::task::block_in_place(|| send(&server, "GET", "/dapr/subscribe", "", None));
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    for (method, path, body) in [
        ("GET", "/dapr/subscribe", None),
        ("POST", "/dapr/events/task-events", Some(json!({}))),
        ("POST", "/job/reminder-1", Some(json!({}))),
    ] {
        let status = tokio::task::block_in_place(|| {
            let agent = support::kafka::agent();
            let url = format!("{}{path}", server.base);
            let res = match body {
                None => agent.get(&url).header("dapr-api-token", "wrong").call(),
                Some(b) => agent
                    .post(&url)
                    .header("dapr-api-token", "sidecar-tokeX")
                    .send_json(b),
            };
            res.unwrap().status().as_u16()
        });
        assert_eq!(status, 401, "{method} {path} with a wrong token");
    }
    let subs = tokio::task::block_in_place(|| {
        support::kafka::agent()
            .get(&format!("{}/dapr/subscribe", server.base))
            .header("dapr-api-token", "sidecar-token")
            .call()
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(subs, 200);

    // Readiness includes the sidecar.
    let ready = api(&server, "GET", "/readyz", "", None);
    assert_eq!(ready["sidecar"], "ok");
    dapr.shutdown();
    let (status, _) = tokio::task::block_in_place(|| send(&server, "GET", "/readyz", "", None));
    assert_eq!(status, 503);
}

#[test]
fn without_dapr_the_sidecar_routes_are_not_found() {
    let server = Server::start_in_temp_dir("todo-no-dapr", &[]);
    let (status, body) = send(&server, "GET", "/dapr/subscribe", "", None);
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "NOT_FOUND");
}
