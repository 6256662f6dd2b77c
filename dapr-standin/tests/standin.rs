//! The stand-in driven the way the project's adapters drive daprd: the real `dapr::Client` (or the
//! raw generated gRPC client, to see status codes) on one side, a tiny axum app on the other.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use dapr::client::{JobBuilder, TonicClientWithAuth};
use dapr::dapr::proto::common::v1::{
    Etag, HttpExtension, InvokeRequest, StateItem, StateOptions, http_extension::Verb,
    state_options::StateConcurrency,
};
use dapr::dapr::proto::runtime::v1::{
    DeleteStateRequest, ExecuteStateTransactionRequest, GetJobRequest, GetMetadataRequest,
    GetSecretRequest, InvokeServiceRequest, Job, PublishEventRequest, SaveStateRequest,
    ScheduleJobRequest, TransactionalStateOperation, TryLockRequest, dapr_client::DaprClient,
};
use dapr_standin::{DeliveryOutcome, Retry, StandIn, StandInOptions};
use prost::Message as _;
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

const PUBSUB: &str = "kafka-pubsub";
const STORE: &str = "conversation-state";
const WAIT: Duration = Duration::from_secs(2);

/// A request the test app received.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// How the test app answers a request: given it and how many earlier requests hit the same path.
type Responder = Arc<dyn Fn(&Received, usize) -> (u16, String) + Send + Sync>;

#[derive(Clone)]
struct TestApp {
    subscriptions: Value,
    respond: Responder,
    received: Arc<Mutex<Vec<Received>>>,
}

impl TestApp {
    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn received_on(&self, path: &str) -> Vec<Received> {
        self.received()
            .into_iter()
            .filter(|r| r.path == path)
            .collect()
    }
}

async fn handle(State(app): State<TestApp>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.uri.path() == "/dapr/subscribe" {
        return axum::Json(app.subscriptions.clone()).into_response();
    }
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let received = Received {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body: body.to_vec(),
    };
    let earlier = {
        let mut all = app.received.lock().unwrap();
        let earlier = all.iter().filter(|r| r.path == received.path).count();
        all.push(received.clone());
        earlier
    };
    let (status, body) = (app.respond)(&received, earlier);
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap())
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap()
}

/// Starts an app on a free port with these subscriptions and this responder.
async fn spawn_app(
    subscriptions: Value,
    respond: impl Fn(&Received, usize) -> (u16, String) + Send + Sync + 'static,
) -> (SocketAddr, TestApp) {
    let app = TestApp {
        subscriptions,
        respond: Arc::new(respond),
        received: Arc::default(),
    };
    let router = Router::new().fallback(handle).with_state(app.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, app)
}

fn ok(_: &Received, _: usize) -> (u16, String) {
    (200, String::new())
}

fn fast_options() -> StandInOptions {
    StandInOptions {
        delivery_retry: Retry {
            attempts: 3,
            interval: Duration::from_millis(20),
        },
        job_retry: Retry {
            attempts: 3,
            interval: Duration::from_millis(50),
        },
        ..StandInOptions::default()
    }
}

async fn client(standin: &StandIn) -> dapr::Client<TonicClientWithAuth> {
    dapr::Client::<TonicClientWithAuth>::connect_with_address(standin.endpoint())
        .await
        .unwrap()
}

async fn raw(standin: &StandIn) -> DaprClient<Channel> {
    DaprClient::connect(standin.endpoint()).await.unwrap()
}

fn subscription(topic: &str, route: &str) -> Value {
    json!({"pubsubname": PUBSUB, "topic": topic, "route": route})
}

async fn publish(standin: &StandIn, topic: &str, data: Value, metadata: &[(&str, &str)]) {
    let metadata: HashMap<String, String> = metadata
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    client(standin)
        .await
        .publish_event(
            PUBSUB,
            topic,
            "application/json",
            serde_json::to_vec(&data).unwrap(),
            Some(metadata),
        )
        .await
        .unwrap();
}

// ---------------------------------------------------------------- pub/sub

#[tokio::test]
async fn a_published_event_reaches_the_route_as_a_cloud_event() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    // Published before the app is there: queued until it attaches.
    publish(
        &standin,
        "task-events",
        json!({"event_type": "task-created", "task_id": 1}),
        &[("cloudevent.id", "evt-1"), ("partitionKey", "alice")],
    )
    .await;
    let (addr, app) = spawn_app(
        json!([{"pubsubname": PUBSUB, "topic": "task-events", "routes": {"default": "/events/tasks", "rules": []}}]),
        ok,
    )
    .await;
    standin.attach_app(addr).await.unwrap();
    standin
        .wait_for("the delivery", WAIT, |s| s.deliveries().len() == 1)
        .await;

    let received = app.received_on("/events/tasks");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].method, "POST");
    assert_eq!(
        received[0].headers["content-type"],
        "application/cloudevents+json"
    );
    let event = received[0].json();
    assert_eq!(event["id"], "evt-1");
    assert_eq!(event["source"], "todo-server");
    assert_eq!(event["type"], "com.dapr.event.sent");
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["datacontenttype"], "application/json");
    assert_eq!(
        event["data"],
        json!({"event_type": "task-created", "task_id": 1})
    );
    assert_eq!(event["topic"], "task-events");
    assert_eq!(event["pubsubname"], PUBSUB);
    for field in ["traceid", "traceparent", "tracestate"] {
        assert!(event[field].is_string(), "{field} missing");
    }
    DateTime::parse_from_rfc3339(event["time"].as_str().unwrap()).unwrap();

    let published = standin.published();
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].topic, "task-events");
    assert_eq!(published[0].content_type, "application/json");
    assert_eq!(published[0].metadata["partitionKey"], "alice");
    let delivery = &standin.deliveries()[0];
    assert_eq!(delivery.route, "/events/tasks");
    assert_eq!(delivery.cloud_event_id, "evt-1");
    assert_eq!(delivery.attempt, 1);
    assert_eq!(delivery.outcome, DeliveryOutcome::Success);
}

#[tokio::test]
async fn text_and_binary_payloads_are_wrapped_like_daprd_does() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let (addr, app) = spawn_app(json!([subscription("t", "/t")]), ok).await;
    standin.attach_app(addr).await.unwrap();
    let mut dapr = client(&standin).await;
    dapr.publish_event(PUBSUB, "t", "text/plain", b"hello".to_vec(), None)
        .await
        .unwrap();
    dapr.publish_event(
        PUBSUB,
        "t",
        "application/octet-stream",
        vec![0xff, 0x00],
        None,
    )
    .await
    .unwrap();
    standin
        .wait_for("two deliveries", WAIT, |s| s.deliveries().len() == 2)
        .await;
    let received = app.received_on("/t");
    let text = received[0].json();
    assert_eq!(text["data"], "hello");
    assert_eq!(text["datacontenttype"], "text/plain");
    let binary = received[1].json();
    assert_eq!(binary["data_base64"], "/wA=");
    assert!(binary.get("data").is_none());
    assert_ne!(text["id"], binary["id"], "a fresh id per event");
}

#[tokio::test]
async fn unknown_pubsub_and_injected_failures_are_errors() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let mut raw = raw(&standin).await;
    let request = |pubsub: &str| PublishEventRequest {
        pubsub_name: pubsub.to_owned(),
        topic: "task-events".to_owned(),
        data: b"{}".to_vec(),
        data_content_type: "application/json".to_owned(),
        metadata: HashMap::new(),
    };
    let err = raw.publish_event(request("redis")).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("pubsub redis is not found"));

    standin.fail_next_publishes(2);
    for _ in 0..2 {
        let err = raw.publish_event(request(PUBSUB)).await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable);
    }
    raw.publish_event(request(PUBSUB)).await.unwrap();
    assert_eq!(
        standin.published().len(),
        1,
        "failed publishes are not recorded"
    );
}

#[tokio::test]
async fn retry_then_success_takes_two_attempts() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let (addr, _app) = spawn_app(json!([subscription("t", "/t")]), |_, n| {
        if n == 0 {
            (200, r#"{"status":"RETRY"}"#.to_owned())
        } else {
            (200, r#"{"status":"success"}"#.to_owned())
        }
    })
    .await;
    standin.attach_app(addr).await.unwrap();
    publish(&standin, "t", json!({"n": 1}), &[]).await;
    standin
        .wait_for("the second attempt", WAIT, |s| s.deliveries().len() == 2)
        .await;
    let outcomes: Vec<_> = standin
        .deliveries()
        .into_iter()
        .map(|d| (d.attempt, d.outcome))
        .collect();
    assert_eq!(
        outcomes,
        [(1, DeliveryOutcome::Retry), (2, DeliveryOutcome::Success)]
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(standin.deliveries().len(), 2);
    assert!(standin.dead_letters().is_empty());
}

#[tokio::test]
async fn exhausted_retries_go_to_the_dead_letter_topic() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let subscriptions = json!([
        {"pubsubname": PUBSUB, "topic": "t", "route": "/t", "deadLetterTopic": "t.dlq"},
        subscription("t.dlq", "/dlq"),
    ]);
    let (addr, app) = spawn_app(subscriptions, |r, _| {
        if r.path == "/t" {
            (200, r#"{"status":"RETRY"}"#.to_owned())
        } else {
            (200, String::new())
        }
    })
    .await;
    standin.attach_app(addr).await.unwrap();
    publish(&standin, "t", json!({"n": 1}), &[("cloudevent.id", "e1")]).await;
    standin
        .wait_for("the dead letter delivery", WAIT, |s| {
            s.deliveries().iter().any(|d| d.topic == "t.dlq")
        })
        .await;

    let on_t: Vec<_> = standin
        .deliveries()
        .into_iter()
        .filter(|d| d.topic == "t")
        .collect();
    assert_eq!(on_t.len(), 3, "delivery_retry.attempts");
    assert!(on_t.iter().all(|d| d.outcome == DeliveryOutcome::Retry));
    let dead = standin.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].topic, "t.dlq");
    assert_eq!(dead[0].original_topic, "t");
    let original = app.received_on("/t")[0].body.clone();
    assert_eq!(dead[0].body, original);
    let dlq = app.received_on("/dlq");
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].body, original, "the same CloudEvent");
    assert_eq!(dlq[0].json()["id"], "e1");
}

#[tokio::test]
async fn drop_dead_letters_at_once_and_404_drops() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let subscriptions = json!([
        {"pubsubname": PUBSUB, "topic": "dropped", "route": "/dropped", "deadLetterTopic": "dlq"},
        {"pubsubname": PUBSUB, "topic": "missing", "route": "/missing", "deadLetterTopic": "dlq"},
    ]);
    let (addr, _app) = spawn_app(subscriptions, |r, _| match r.path.as_str() {
        "/dropped" => (200, r#"{"status":"DROP"}"#.to_owned()),
        _ => (404, String::new()),
    })
    .await;
    standin.attach_app(addr).await.unwrap();

    let event = br#"{"id":"raw-1","specversion":"1.0","data":{}}"#.to_vec();
    let outcome = standin.deliver_raw(PUBSUB, "dropped", event.clone()).await;
    assert_eq!(outcome, DeliveryOutcome::Drop);
    let dead = standin.dead_letters();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, event);
    assert_eq!(dead[0].topic, "dlq");

    let outcome = standin.deliver_raw(PUBSUB, "missing", event).await;
    assert_eq!(outcome, DeliveryOutcome::NotFound);
    assert_eq!(standin.dead_letters().len(), 1, "404 drops, no dead letter");
    let attempts: Vec<_> = standin
        .deliveries()
        .into_iter()
        .map(|d| (d.topic, d.attempt, d.cloud_event_id))
        .collect();
    assert_eq!(
        attempts,
        [
            ("dropped".to_owned(), 1, "raw-1".to_owned()),
            ("missing".to_owned(), 1, "raw-1".to_owned())
        ]
    );

    assert_eq!(
        standin.deliver_raw(PUBSUB, "nobody", b"{}".to_vec()).await,
        DeliveryOutcome::NoSubscriber
    );
}

#[tokio::test]
async fn raw_bodies_are_delivered_as_is_and_other_failures_are_retried() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let (addr, app) = spawn_app(json!([subscription("t", "/t")]), |_, n| match n {
        0 => (503, String::new()),
        1 => (200, "not json".to_owned()),
        _ => (200, "{}".to_owned()),
    })
    .await;
    standin.attach_app(addr).await.unwrap();
    let outcome = standin
        .deliver_raw(PUBSUB, "t", b"not even json".to_vec())
        .await;
    assert_eq!(outcome, DeliveryOutcome::Success);
    let received = app.received_on("/t");
    assert_eq!(received.len(), 3);
    assert!(received.iter().all(|r| r.body == b"not even json"));
    let outcomes: Vec<_> = standin
        .deliveries()
        .into_iter()
        .map(|d| d.outcome)
        .collect();
    assert_eq!(outcomes[0], DeliveryOutcome::HttpStatus(503));
    assert!(matches!(outcomes[1], DeliveryOutcome::Failed(_)));
    assert_eq!(outcomes[2], DeliveryOutcome::Success);
}

#[tokio::test]
async fn order_is_kept_per_subscription_through_retries() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    // Every message fails its first attempt: the next one must wait for the retry.
    let (addr, app) = spawn_app(json!([subscription("t", "/t")]), |_, n| {
        if n % 2 == 0 {
            (500, String::new())
        } else {
            (200, String::new())
        }
    })
    .await;
    for i in 0..5 {
        let id = format!("m{i}");
        publish(&standin, "t", json!({"i": i}), &[("cloudevent.id", &id)]).await;
    }
    standin.attach_app(addr).await.unwrap();
    standin
        .wait_for("ten attempts", WAIT, |s| s.deliveries().len() == 10)
        .await;
    let ids: Vec<String> = app
        .received_on("/t")
        .iter()
        .map(|r| r.json()["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        ["m0", "m0", "m1", "m1", "m2", "m2", "m3", "m3", "m4", "m4"]
    );
}

#[tokio::test]
async fn detached_app_keeps_messages_queued_until_an_app_attaches_again() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let (first, first_app) = spawn_app(json!([subscription("t", "/t")]), ok).await;
    standin.attach_app(first).await.unwrap();
    publish(&standin, "t", json!({"n": 1}), &[]).await;
    standin
        .wait_for("the first delivery", WAIT, |s| s.deliveries().len() == 1)
        .await;

    standin.detach_app();
    publish(&standin, "t", json!({"n": 2}), &[]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        standin.deliveries().len(),
        1,
        "nothing delivered while detached"
    );

    // The app restarted on another port, with another route.
    let (second, second_app) = spawn_app(json!([subscription("t", "/v2/t")]), ok).await;
    standin.attach_app(second).await.unwrap();
    standin
        .wait_for("the queued delivery", WAIT, |s| s.deliveries().len() == 2)
        .await;
    assert_eq!(first_app.received_on("/t").len(), 1);
    let received = second_app.received_on("/v2/t");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].json()["data"], json!({"n": 2}));
}

// ---------------------------------------------------------------- state

fn item(key: &str, value: &str, etag: Option<&str>) -> StateItem {
    StateItem {
        key: key.to_owned(),
        value: value.as_bytes().to_vec(),
        etag: etag.map(|e| Etag {
            value: e.to_owned(),
        }),
        ..StateItem::default()
    }
}

async fn save(raw: &mut DaprClient<Channel>, item: StateItem) -> Result<(), tonic::Status> {
    raw.save_state(SaveStateRequest {
        store_name: STORE.to_owned(),
        states: vec![item],
    })
    .await
    .map(|_| ())
}

#[tokio::test]
async fn state_etags_guard_concurrent_writes() {
    let standin = StandIn::start(StandInOptions::default()).await.unwrap();
    let mut dapr = client(&standin).await;
    let mut raw = raw(&standin).await;

    let missing = dapr.get_state(STORE, "conv-1", None).await.unwrap();
    assert!(missing.data.is_empty());
    assert!(missing.etag.is_empty());

    dapr.save_state(STORE, "conv-1", b"v1".to_vec(), None, None, None)
        .await
        .unwrap();
    let v1 = dapr.get_state(STORE, "conv-1", None).await.unwrap();
    assert_eq!(v1.data, b"v1");
    assert!(!v1.etag.is_empty());

    save(&mut raw, item("conv-1", "v2", Some(&v1.etag)))
        .await
        .unwrap();
    let (value, v2_etag) = standin.state(STORE, "conv-1").unwrap();
    assert_eq!(value, b"v2");
    assert_ne!(v2_etag, v1.etag, "a new etag on every write");

    let stale = save(&mut raw, item("conv-1", "v3", Some(&v1.etag)))
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::Aborted);
    assert!(stale.message().contains("etag mismatch"), "{stale:?}");
    let garbage = save(&mut raw, item("conv-1", "v3", Some("not-an-etag")))
        .await
        .unwrap_err();
    assert_eq!(garbage.code(), Code::Aborted);
    let on_missing = save(&mut raw, item("conv-2", "v1", Some(&v1.etag)))
        .await
        .unwrap_err();
    assert_eq!(on_missing.code(), Code::Aborted);

    let first_write = |key: &str| StateItem {
        options: Some(StateOptions {
            concurrency: StateConcurrency::ConcurrencyFirstWrite as i32,
            consistency: 0,
        }),
        ..item(key, "first", None)
    };
    let taken = save(&mut raw, first_write("conv-1")).await.unwrap_err();
    assert_eq!(taken.code(), Code::Aborted);
    save(&mut raw, first_write("conv-3")).await.unwrap();
    assert_eq!(standin.state(STORE, "conv-1").unwrap().0, b"v2");

    let delete = |etag: &str| DeleteStateRequest {
        store_name: STORE.to_owned(),
        key: "conv-1".to_owned(),
        etag: Some(Etag {
            value: etag.to_owned(),
        }),
        ..DeleteStateRequest::default()
    };
    let err = raw.delete_state(delete(&v1.etag)).await.unwrap_err();
    assert_eq!(err.code(), Code::Aborted);
    raw.delete_state(delete(&v2_etag)).await.unwrap();
    assert_eq!(standin.state(STORE, "conv-1"), None);
    dapr.delete_state(STORE, "never-there", None).await.unwrap();

    let err = raw
        .get_state(dapr::dapr::proto::runtime::v1::GetStateRequest {
            store_name: "statestore".to_owned(),
            key: "k".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(
        err.message()
            .contains("state store statestore is not found")
    );
}

#[tokio::test]
async fn state_transactions_are_all_or_nothing() {
    let standin = StandIn::start(StandInOptions::default()).await.unwrap();
    let mut raw = raw(&standin).await;
    save(&mut raw, item("b", "b1", None)).await.unwrap();
    let (_, b_etag) = standin.state(STORE, "b").unwrap();
    let transaction = |b_etag: &str| ExecuteStateTransactionRequest {
        store_name: STORE.to_owned(),
        operations: vec![
            TransactionalStateOperation {
                operation_type: "upsert".to_owned(),
                request: Some(item("a", "a1", None)),
            },
            TransactionalStateOperation {
                operation_type: "delete".to_owned(),
                request: Some(item("b", "", Some(b_etag))),
            },
        ],
        metadata: HashMap::new(),
    };

    let err = raw
        .execute_state_transaction(transaction("stale"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Internal);
    assert_eq!(standin.state(STORE, "a"), None, "nothing applied");
    assert!(standin.state(STORE, "b").is_some());

    raw.execute_state_transaction(transaction(&b_etag))
        .await
        .unwrap();
    assert_eq!(standin.state(STORE, "a").unwrap().0, b"a1");
    assert_eq!(standin.state(STORE, "b"), None);
}

#[tokio::test]
async fn state_with_a_ttl_expires() {
    let standin = StandIn::start(StandInOptions::default()).await.unwrap();
    let mut dapr = client(&standin).await;
    let ttl = HashMap::from([("ttlInSeconds".to_owned(), "1".to_owned())]);
    dapr.save_state(STORE, "short", b"x".to_vec(), None, Some(ttl), None)
        .await
        .unwrap();
    dapr.save_state(STORE, "long", b"y".to_vec(), None, None, None)
        .await
        .unwrap();
    let fresh = dapr.get_state(STORE, "short", None).await.unwrap();
    assert_eq!(fresh.data, b"x");
    assert!(fresh.metadata.contains_key("ttlExpireTime"));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = dapr.get_state(STORE, "short", None).await.unwrap();
    assert!(expired.data.is_empty());
    assert!(expired.etag.is_empty());
    assert_eq!(standin.state(STORE, "long").unwrap().0, b"y");
}

// ---------------------------------------------------------------- secrets

#[tokio::test]
async fn secrets_are_found_by_store_and_name() {
    let secret = BTreeMap::from([
        ("jwt-secret".to_owned(), "s3cr3t".to_owned()),
        ("database-url".to_owned(), "postgres://db".to_owned()),
    ]);
    let standin = StandIn::start(StandInOptions {
        secret_stores: BTreeMap::from([(
            "kubernetes".to_owned(),
            BTreeMap::from([("todo-secrets".to_owned(), secret)]),
        )]),
        ..StandInOptions::default()
    })
    .await
    .unwrap();
    let mut dapr = client(&standin).await;
    let found = dapr.get_secret("kubernetes", "todo-secrets").await.unwrap();
    assert_eq!(found.data["jwt-secret"], "s3cr3t");
    assert_eq!(found.data["database-url"], "postgres://db");
    let bulk = dapr.get_bulk_secret("kubernetes", None).await.unwrap();
    assert_eq!(bulk.data["todo-secrets"].secrets.len(), 2);

    let mut raw = raw(&standin).await;
    let get = |store: &str, key: &str| GetSecretRequest {
        store_name: store.to_owned(),
        key: key.to_owned(),
        metadata: HashMap::new(),
    };
    let missing = raw
        .get_secret(get("kubernetes", "other"))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    assert!(missing.message().contains("secret other not found"));
    let unknown = raw
        .get_secret(get("vault", "todo-secrets"))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
}

// ---------------------------------------------------------------- jobs

fn string_value(text: &str) -> prost_types::Any {
    prost_types::Any {
        type_url: "type.googleapis.com/google.protobuf.StringValue".to_owned(),
        value: text.to_owned().encode_to_vec(),
    }
}

#[tokio::test]
async fn a_job_fires_at_its_due_time() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let (addr, app) = spawn_app(json!([]), ok).await;
    standin.attach_app(addr).await.unwrap();
    let mut dapr = client(&standin).await;
    let job = JobBuilder::new("reminder-42")
        .with_due_time("300ms")
        .with_data(string_value(r#"{"task_id":42}"#))
        .build();
    dapr.schedule_job(job, None).await.unwrap();
    let scheduled = standin.jobs();
    assert_eq!(scheduled.len(), 1);
    assert_eq!(scheduled[0].name, "reminder-42");
    let fetched = dapr.get_job("reminder-42").await.unwrap().job.unwrap();
    assert_eq!(fetched.due_time.as_deref(), Some("300ms"));

    standin
        .wait_for("the job trigger", WAIT, |s| !s.job_triggers().is_empty())
        .await;
    let trigger = &standin.job_triggers()[0];
    assert_eq!(trigger.name, "reminder-42");
    assert_eq!(trigger.result, Ok(200));
    assert!(trigger.fired_at >= trigger.due, "{trigger:?}");
    assert!(
        trigger.fired_at - trigger.due < chrono::Duration::milliseconds(200),
        "{trigger:?}"
    );
    let received = app.received_on("/job/reminder-42");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].method, "POST");
    assert_eq!(received[0].headers["content-type"], "application/json");
    assert_eq!(
        received[0].json(),
        json!({"@type": "type.googleapis.com/google.protobuf.StringValue", "value": r#"{"task_id":42}"#})
    );
    standin
        .wait_for("the job to be gone", WAIT, |s| s.jobs().is_empty())
        .await;
}

#[tokio::test]
async fn a_job_at_an_rfc3339_time_fires_then() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let (addr, _app) = spawn_app(json!([]), ok).await;
    standin.attach_app(addr).await.unwrap();
    let due: DateTime<Utc> = Utc::now() + chrono::Duration::milliseconds(250);
    let mut dapr = client(&standin).await;
    #[allow(deprecated)]
    dapr.schedule_job_alpha1(
        JobBuilder::new("at-time")
            .with_due_time(&due.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .build(),
        None,
    )
    .await
    .unwrap();
    standin
        .wait_for("the job trigger", WAIT, |s| !s.job_triggers().is_empty())
        .await;
    let trigger = &standin.job_triggers()[0];
    assert_eq!(trigger.due, due.with_timezone(&Utc).trunc_subsecs_ms());
    assert!(trigger.fired_at >= trigger.due);
}

trait TruncMs {
    fn trunc_subsecs_ms(self) -> Self;
}

impl TruncMs for DateTime<Utc> {
    fn trunc_subsecs_ms(self) -> Self {
        use chrono::SubsecRound as _;
        self.trunc_subsecs(3)
    }
}

#[tokio::test]
async fn scheduling_an_existing_job_needs_overwrite() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let mut raw = raw(&standin).await;
    let schedule = |data: &str, overwrite: bool| ScheduleJobRequest {
        job: Some(Job {
            name: "nightly".to_owned(),
            due_time: Some("1h".to_owned()),
            data: Some(string_value(data)),
            ..Job::default()
        }),
        overwrite,
    };
    raw.schedule_job(schedule("one", false)).await.unwrap();
    let err = raw.schedule_job(schedule("two", false)).await.unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    raw.schedule_job(schedule("three", true)).await.unwrap();
    let job = raw
        .get_job(GetJobRequest {
            name: "nightly".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    assert_eq!(job.data, Some(string_value("three")));
    assert_eq!(standin.jobs().len(), 1);

    let cron_only = ScheduleJobRequest {
        job: Some(Job {
            name: "cron".to_owned(),
            schedule: Some("@every 1m".to_owned()),
            ..Job::default()
        }),
        overwrite: false,
    };
    let err = raw.schedule_job(cron_only).await.unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);
    let neither = ScheduleJobRequest {
        job: Some(Job {
            name: "nothing".to_owned(),
            ..Job::default()
        }),
        overwrite: false,
    };
    let err = raw.schedule_job(neither).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
}

#[tokio::test]
async fn a_deleted_job_never_fires() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let (addr, app) = spawn_app(json!([]), ok).await;
    standin.attach_app(addr).await.unwrap();
    let mut dapr = client(&standin).await;
    dapr.schedule_job(
        JobBuilder::new("cancelled").with_due_time("150ms").build(),
        None,
    )
    .await
    .unwrap();
    dapr.delete_job("cancelled").await.unwrap();
    dapr.delete_job("cancelled").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(standin.job_triggers().is_empty());
    assert!(app.received().is_empty());
    assert!(standin.jobs().is_empty());
    let err = raw(&standin)
        .await
        .get_job(GetJobRequest {
            name: "cancelled".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
}

#[tokio::test]
async fn a_failing_job_callback_is_retried_then_given_up() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let (addr, app) = spawn_app(json!([]), |_, _| (500, String::new())).await;
    standin.attach_app(addr).await.unwrap();
    let mut dapr = client(&standin).await;
    dapr.schedule_job(JobBuilder::new("flaky").with_due_time("10ms").build(), None)
        .await
        .unwrap();
    standin
        .wait_for("the job to be given up", WAIT, |s| s.jobs().is_empty())
        .await;
    let triggers = standin.job_triggers();
    assert_eq!(triggers.len(), 3, "job_retry.attempts");
    assert!(triggers.iter().all(|t| t.result == Ok(500)));
    assert_eq!(
        triggers.iter().map(|t| t.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(triggers[1].fired_at - triggers[0].fired_at >= chrono::Duration::milliseconds(50));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.received_on("/job/flaky").len(), 3);
}

#[tokio::test]
async fn a_job_s_own_failure_policy_wins() {
    use dapr::dapr::proto::common::v1::{
        JobFailurePolicy, JobFailurePolicyConstant, JobFailurePolicyDrop,
        job_failure_policy::Policy,
    };
    let standin = StandIn::start(fast_options()).await.unwrap();
    let (addr, _app) = spawn_app(json!([]), |_, _| (500, String::new())).await;
    standin.attach_app(addr).await.unwrap();
    let mut raw = raw(&standin).await;
    let job = |name: &str, policy: Policy| ScheduleJobRequest {
        job: Some(Job {
            name: name.to_owned(),
            due_time: Some("10ms".to_owned()),
            failure_policy: Some(JobFailurePolicy {
                policy: Some(policy),
            }),
            ..Job::default()
        }),
        overwrite: false,
    };
    raw.schedule_job(job("drop", Policy::Drop(JobFailurePolicyDrop {})))
        .await
        .unwrap();
    let constant = JobFailurePolicyConstant {
        interval: Some(prost_types::Duration {
            seconds: 0,
            nanos: 10_000_000,
        }),
        max_retries: Some(4),
    };
    raw.schedule_job(job("constant", Policy::Constant(constant)))
        .await
        .unwrap();
    standin
        .wait_for("both jobs to be given up", WAIT, |s| s.jobs().is_empty())
        .await;
    let attempts = |name: &str| {
        standin
            .job_triggers()
            .iter()
            .filter(|t| t.name == name)
            .count()
    };
    assert_eq!(attempts("drop"), 1);
    assert_eq!(attempts("constant"), 5, "1 + max_retries");
}

#[tokio::test]
async fn a_job_due_without_an_app_retries_until_one_attaches() {
    let standin = StandIn::start(fast_options()).await.unwrap();
    let mut dapr = client(&standin).await;
    dapr.schedule_job(JobBuilder::new("early").with_due_time("10ms").build(), None)
        .await
        .unwrap();
    standin
        .wait_for("a failed attempt", WAIT, |s| !s.job_triggers().is_empty())
        .await;
    assert!(standin.job_triggers()[0].result.is_err());
    let (addr, app) = spawn_app(json!([]), ok).await;
    standin.attach_app(addr).await.unwrap();
    standin
        .wait_for("the job to be done", WAIT, |s| s.jobs().is_empty())
        .await;
    assert_eq!(app.received_on("/job/early").len(), 1);
    assert_eq!(standin.job_triggers().last().unwrap().result, Ok(200));
}

// ---------------------------------------------------------------- invocation, metadata, the rest

#[tokio::test]
async fn invoke_service_forwards_the_request_and_maps_errors() {
    let standin = StandIn::start(StandInOptions::default()).await.unwrap();
    let (addr, app) = spawn_app(json!([]), |r, _| {
        if r.path == "/missing" {
            (404, r#"{"error":"no such thing"}"#.to_owned())
        } else {
            (200, r#"{"echo":true}"#.to_owned())
        }
    })
    .await;
    standin.attach_app(addr).await.unwrap();
    let mut raw = raw(&standin).await;
    let invoke = |id: &str, method: &str| {
        let mut request = tonic::Request::new(InvokeServiceRequest {
            id: id.to_owned(),
            message: Some(InvokeRequest {
                method: method.to_owned(),
                data: Some(prost_types::Any {
                    type_url: String::new(),
                    value: br#"{"title":"Pay rent"}"#.to_vec(),
                }),
                content_type: "application/json".to_owned(),
                http_extension: Some(HttpExtension {
                    verb: Verb::Put as i32,
                    querystring: "a=1&b=two".to_owned(),
                }),
            }),
        });
        request
            .metadata_mut()
            .insert("authorization", "Bearer t0ken".parse().unwrap());
        request
    };

    let response = raw
        .invoke_service(invoke("todo-server", "api/v1/alice/tasks/1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.data.unwrap().value, br#"{"echo":true}"#);
    assert_eq!(response.content_type, "application/json");
    let received = &app.received_on("/api/v1/alice/tasks/1")[0];
    assert_eq!(received.method, "PUT");
    assert_eq!(received.query.as_deref(), Some("a=1&b=two"));
    assert_eq!(received.body, br#"{"title":"Pay rent"}"#);
    assert_eq!(received.headers["authorization"], "Bearer t0ken");
    assert_eq!(received.headers["content-type"], "application/json");
    assert!(!received.headers.contains_key("te"));

    let err = raw
        .invoke_service(invoke("todo-server", "missing"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    assert!(err.message().contains("no such thing"));
    let err = raw
        .invoke_service(invoke("billing", "x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);

    let invocations = standin.invocations();
    assert_eq!(invocations.len(), 2);
    assert_eq!(invocations[0].verb, "PUT");
    assert_eq!(invocations[0].status, 200);
    assert_eq!(invocations[1].method, "missing");
    assert_eq!(invocations[1].status, 404);

    // The SDK's own call: no HTTP extension, so POST.
    let mut dapr = client(&standin).await;
    dapr.invoke_service("todo-server", "hello", None)
        .await
        .unwrap();
    assert_eq!(app.received_on("/hello")[0].method, "POST");
}

#[tokio::test]
async fn metadata_names_the_app_and_its_components() {
    let standin = StandIn::start(StandInOptions::default()).await.unwrap();
    let mut dapr = client(&standin).await;
    dapr.set_metadata("owner", "tests").await.unwrap();
    let metadata = raw(&standin)
        .await
        .get_metadata(GetMetadataRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(metadata.id, "todo-server");
    let components: Vec<_> = metadata
        .registered_components
        .iter()
        .map(|c| (c.name.as_str(), c.r#type.as_str()))
        .collect();
    assert_eq!(
        components,
        [
            ("kafka-pubsub", "pubsub.kafka"),
            ("conversation-state", "state.postgresql")
        ]
    );
    assert_eq!(metadata.extended_metadata["owner"], "tests");
}

#[tokio::test]
async fn calls_the_stand_in_does_not_implement_are_unimplemented() {
    let standin = StandIn::start(StandInOptions::default()).await.unwrap();
    let err = raw(&standin)
        .await
        .try_lock_alpha1(TryLockRequest {
            store_name: "lock".to_owned(),
            resource_id: "r".to_owned(),
            lock_owner: "me".to_owned(),
            expiry_in_seconds: 5,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unimplemented);
    assert!(
        err.message()
            .contains("not implemented by the todo Dapr stand-in")
    );
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let standin = StandIn::start(StandInOptions::default()).await.unwrap();
    let endpoint = standin.endpoint();
    assert!(endpoint.ends_with(&standin.grpc_port().to_string()));
    let mut connected = raw(&standin).await;
    connected.get_metadata(GetMetadataRequest {}).await.unwrap();

    let clone = standin.clone();
    drop(standin);
    connected
        .get_metadata(GetMetadataRequest {})
        .await
        .expect("a clone keeps it running");

    clone.shutdown();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(connected.get_metadata(GetMetadataRequest {}).await.is_err());
    assert!(DaprClient::connect(endpoint).await.is_err());
}
