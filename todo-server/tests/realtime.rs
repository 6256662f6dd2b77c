//! Real time over a real socket: the app (in-memory store, the in-process bus and its relay, as
//! in the embedded default) served on a free port; WebSocket clients are tokio-tungstenite,
//! mutations go through the REST API, SSE is read from a raw HTTP/1.1 response.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use todo_core::ids::{EventId, ReminderId, UserId};
use todo_core::memory::MemoryStore;
use todo_core::ports::Store;
use todo_core::service::TaskService;
use todo_events::EventEnvelope;
use todo_server::bus::EventBus;
use todo_server::http::realtime::{Channel, Push, Realtime};
use todo_server::http::{AppState, AuthConfig, issue_token, router};
use todo_server::storage::SoleRelay;
use todo_server::system::{RandomIds, SystemClock};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const SECRET: &[u8] = b"test-secret-of-the-realtime-tests-0123456789";
/// How long a test waits for a message that must come.
const WAIT: Duration = Duration::from_secs(3);
/// How long a test listens for a message that must not come.
const QUIET: Duration = Duration::from_millis(300);

type Service = TaskService<MemoryStore>;
type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The app on a free port, its relay delivering into the bus every few milliseconds.
struct App {
    addr: String,
    service: Arc<Service>,
    bus: EventBus,
    realtime: Option<Arc<Realtime>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl App {
    async fn start() -> App {
        App::start_with(|state, bus| state.with_bus(bus)).await
    }

    async fn start_with(
        setup: impl FnOnce(AppState<MemoryStore>, EventBus) -> AppState<MemoryStore>,
    ) -> App {
        let store = MemoryStore::new();
        let service = Arc::new(TaskService::new(store.clone(), SystemClock, RandomIds));
        let bus = EventBus::new();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(bus.clone().run(
            store,
            bus.clone(),
            SoleRelay,
            Duration::from_millis(5),
            async move {
                let _ = stopped.await;
            },
        ));
        let state = setup(
            AppState::new(Arc::clone(&service), AuthConfig::new(SECRET.to_vec())),
            bus.clone(),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let realtime = state.realtime.clone();
        tokio::spawn(async move { axum::serve(listener, router(state)).await });
        App {
            addr,
            service,
            bus,
            realtime,
            _stop: stop,
        }
    }

    async fn ws(&self, user: &str) -> Ws {
        self.ws_url(&format!("/api/v1/ws/{user}?token={}", token(user)))
            .await
    }

    async fn ws_url(&self, path_and_query: &str) -> Ws {
        let url = format!("ws://{}{path_and_query}", self.addr);
        tokio_tungstenite::connect_async(url).await.unwrap().0
    }

    /// A WebSocket subscribed to `channels`, after the server's acknowledgement.
    async fn subscribed(&self, user: &str, channels: &[&str]) -> Ws {
        let mut ws = self.ws(user).await;
        subscribe(&mut ws, channels).await;
        ws
    }

    /// A REST call as `user`: status and JSON body.
    async fn call(
        &self,
        method: &str,
        path: &str,
        user: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        http(&self.addr, method, path, &token(user), body).await
    }

    async fn create_task(&self, user: &str, title: &str) -> i64 {
        let (status, body) = self
            .call(
                "POST",
                &format!("/api/v1/{user}/tasks"),
                user,
                Some(json!({ "title": title })),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["id"].as_i64().unwrap()
    }

    /// The user's pushed events (task updates and reminders) after `since`, from the outbox:
    /// what a client resuming from `since` must receive, in order.
    async fn pushed_after(&self, user: &str, since: EventId) -> Vec<EventId> {
        let entries = self
            .service
            .store()
            .user_events_after(&UserId::parse(user).unwrap(), since, 100_000)
            .await
            .unwrap()
            .unwrap();
        entries
            .iter()
            .filter_map(|e| Push::from_envelope(&EventEnvelope::from_domain(&e.event).unwrap()))
            .map(|p| p.event_id)
            .collect()
    }
}

/// A REST call with a bearer token over a fresh connection: status and JSON body.
async fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr)
        .header("authorization", format!("Bearer {token}"));
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let body = body.map_or_else(Body::empty, |b| Body::from(b.to_string()));
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let resp = sender.send_request(req.body(body).unwrap()).await.unwrap();
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn token(user: &str) -> String {
    issue_token(
        SECRET,
        &UserId::parse(user).unwrap(),
        Duration::from_secs(600),
    )
    .unwrap()
}

async fn subscribe(ws: &mut Ws, channels: &[&str]) {
    send_json(ws, json!({ "action": "subscribe", "channels": channels })).await;
    let ack = next_json(ws).await;
    assert_eq!(ack["event_type"], "subscribed", "{ack}");
}

async fn send_json(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// The next data message (pings and pongs skipped); panics on close or after [`WAIT`].
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a message within the wait")
            .expect("the socket is open")
            .unwrap();
        match msg {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("expected a text message, got {other:?}"),
        }
    }
}

/// Asserts that no data message arrives for [`QUIET`].
async fn assert_quiet(ws: &mut Ws) {
    let deadline = tokio::time::Instant::now() + QUIET;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return,
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(other) => panic!("expected silence, got {other:?}"),
        }
    }
}

/// The close frame that ends the socket (after any text messages, returned too).
async fn until_close(ws: &mut Ws) -> (Vec<Value>, Option<(CloseCode, String)>) {
    let mut texts = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("closed in time")
        {
            Some(Ok(Message::Text(t))) => texts.push(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(frame))) => {
                return (texts, frame.map(|f| (f.code, f.reason.to_string())));
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => return (texts, None),
        }
    }
}

fn event_id(v: &Value) -> EventId {
    EventId::new(uuid::Uuid::parse_str(v["event_id"].as_str().unwrap()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sockets_of_one_user_see_each_others_changes_in_order_and_other_users_see_nothing() {
    let app = App::start().await;
    let mut a = app.subscribed("alice", &["task-updates"]).await;
    let mut b = app
        .subscribed("alice", &["task-updates", "reminders"])
        .await;
    let mut bob = app.subscribed("bob", &["task-updates", "reminders"]).await;

    // Client A creates, client B changes, completes and deletes.
    let id = app.create_task("alice", "Pay rent").await;
    let path = format!("/api/v1/alice/tasks/{id}");
    let (s, _) = app
        .call("PUT", &path, "alice", Some(json!({ "priority": "High" })))
        .await;
    assert_eq!(s, 200);
    let (s, _) = app
        .call("PATCH", &format!("{path}/complete"), "alice", None)
        .await;
    assert_eq!(s, 200);
    let (s, _) = app.call("DELETE", &path, "alice", None).await;
    assert!(s == 200 || s == 204, "{s}");

    let expected = [
        "task-created",
        "task-updated",
        "task-completed",
        "task-deleted",
    ];
    let mut seen = Vec::new();
    for ws in [&mut a, &mut b] {
        let mut got = Vec::new();
        for _ in expected {
            got.push(next_json(ws).await);
        }
        let types: Vec<&str> = got
            .iter()
            .map(|m| m["event_type"].as_str().unwrap())
            .collect();
        assert_eq!(types, expected);
        assert!(got.iter().all(|m| m["data"]["task_id"] == id));
        seen.push(got.iter().map(event_id).collect::<Vec<_>>());
    }
    assert_eq!(seen[0], seen[1], "both sockets got the same events");
    // They are the outbox's task events of alice, in commit order.
    let first = seen[0][0];
    assert_eq!(app.pushed_after("alice", first).await, seen[0][1..]);

    // Bob's socket got none of it: his own change is the first thing it sees.
    let bobs = app.create_task("bob", "Bob's task").await;
    let m = next_json(&mut bob).await;
    assert_eq!(m["event_type"], "task-created");
    assert_eq!(m["data"]["task_id"], bobs);
    assert_eq!(m["data"]["user_id"], "bob");
    assert_quiet(&mut bob).await;
    assert_quiet(&mut a).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_have_the_plans_format_and_channels_filter() {
    let app = App::start().await;
    let mut tasks_only = app.subscribed("alice", &["task-updates"]).await;
    let mut reminders_only = app.subscribed("alice", &["reminders"]).await;
    let mut nothing_yet = app.ws("alice").await;

    let (s, body) = app
        .call(
            "POST",
            "/api/v1/alice/tasks",
            "alice",
            Some(json!({ "title": "Report", "due_datetime": "2030-02-20T15:00:00Z" })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let (s, _) = app
        .call(
            "PUT",
            &format!("/api/v1/alice/tasks/{id}"),
            "alice",
            Some(json!({ "priority": "High" })),
        )
        .await;
    assert_eq!(s, 200);
    let created = next_json(&mut tasks_only).await;
    assert_eq!(created["event_type"], "task-created");
    let updated = next_json(&mut tasks_only).await;
    let keys: Vec<&String> = updated.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 4, "{updated}");
    assert_eq!(updated["event_type"], "task-updated");
    assert!(updated["timestamp"].as_str().unwrap().ends_with('Z'));
    uuid::Uuid::parse_str(updated["event_id"].as_str().unwrap()).unwrap();
    let data = &updated["data"];
    assert_eq!(data["task_id"], id);
    assert_eq!(data["user_id"], "alice");
    assert!(
        data["changed_fields"]
            .as_array()
            .unwrap()
            .contains(&json!("priority")),
        "{data}"
    );
    assert_eq!(data["new_values"]["priority"], "High");

    // A reminder fires: only the reminders channel gets it, as the plan's `reminder` message.
    // It is set a moment ahead (it must be in the future) and fired once due.
    let due = chrono::Utc::now() + chrono::Duration::milliseconds(1200);
    let (s, body) = app
        .call(
            "POST",
            &format!("/api/v1/alice/tasks/{id}/reminder"),
            "alice",
            Some(json!({
                "reminder_time": due.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "reminder_type": "custom"
            })),
        )
        .await;
    assert_eq!(s, 201, "{body}");
    let reminder_id = ReminderId::parse("reminder_id", &body["id"].to_string()).unwrap();
    let alice = UserId::parse("alice").unwrap();
    let wait = (due - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(50)).await;
    assert!(
        app.service
            .fire_reminder(&alice, reminder_id)
            .await
            .unwrap()
    );
    app.bus.wake();
    let r = next_json(&mut reminders_only).await;
    assert_eq!(r["event_type"], "reminder", "{r}");
    assert_eq!(
        r["data"],
        json!({
            "reminder_id": body["id"],
            "task_id": id,
            "task_title": "Report",
            "due_datetime": "2030-02-20T15:00:00Z",
        })
    );
    uuid::Uuid::parse_str(r["event_id"].as_str().unwrap()).unwrap();
    assert!(r["timestamp"].is_string());
    // The task channel saw the reminder's task event? No: setting a reminder is no task event,
    // and the reminder is not on task-updates.
    assert_quiet(&mut tasks_only).await;
    assert_quiet(&mut reminders_only).await;
    // A socket that never subscribed is sent nothing.
    assert_quiet(&mut nothing_yet).await;

    // Unsubscribing stops a channel.
    send_json(
        &mut tasks_only,
        json!({ "action": "unsubscribe", "channels": ["task-updates"] }),
    )
    .await;
    let ack = next_json(&mut tasks_only).await;
    assert_eq!(ack["event_type"], "unsubscribed");
    assert_eq!(ack["data"]["channels"], json!([]));
    app.create_task("alice", "after unsubscribe").await;
    assert_quiet(&mut tasks_only).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replay_after_reconnect_has_no_gap_and_no_duplicate() {
    let app = Arc::new(App::start().await);
    let mut ws = app.subscribed("alice", &["task-updates"]).await;
    app.create_task("alice", "one").await;
    app.create_task("alice", "two").await;
    let _ = next_json(&mut ws).await;
    let last = event_id(&next_json(&mut ws).await);
    drop(ws);

    // Changes while disconnected, and more while reconnecting.
    for i in 0..5 {
        app.create_task("alice", &format!("offline {i}")).await;
    }
    let writer = {
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            for i in 0..30 {
                app.create_task("alice", &format!("racing {i}")).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(5)).await;
    let mut ws = app
        .ws_url(&format!(
            "/api/ws/alice?token={}&since={last}",
            token("alice")
        ))
        .await;
    subscribe(&mut ws, &["task-updates", "reminders"]).await;
    writer.await.unwrap();
    let expected = app.pushed_after("alice", last).await;
    assert_eq!(expected.len(), 35);
    let mut got = Vec::new();
    while got.len() < expected.len() {
        let m = next_json(&mut ws).await;
        assert_eq!(m["event_type"], "task-created", "{m}");
        got.push(event_id(&m));
    }
    assert_eq!(got, expected, "every missed event once, in order");
    assert_quiet(&mut ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_since_gets_a_resync_then_live_events() {
    let app = App::start().await;
    let unknown = uuid::Uuid::new_v4();
    let mut ws = app
        .ws_url(&format!(
            "/api/v1/ws/alice?token={}&since={unknown}",
            token("alice")
        ))
        .await;
    subscribe(&mut ws, &["task-updates"]).await;
    let m = next_json(&mut ws).await;
    assert_eq!(m["event_type"], "resync");
    assert_eq!(m["data"]["reason"], "unknown_since");
    let id = app.create_task("alice", "live").await;
    let m = next_json(&mut ws).await;
    assert_eq!(m["event_type"], "task-created");
    assert_eq!(m["data"]["task_id"], id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_messages_get_an_error_frame() {
    let app = App::start().await;

    // Not JSON: error frame, then close 1008.
    let mut ws = app.ws("alice").await;
    ws.send(Message::text("hello")).await.unwrap();
    let (texts, close) = until_close(&mut ws).await;
    assert_eq!(texts.len(), 1);
    assert_eq!(texts[0]["event_type"], "error");
    assert_eq!(texts[0]["data"]["code"], "INVALID_MESSAGE");
    assert!(texts[0]["data"]["message"].is_string());
    assert_eq!(close.unwrap().0, CloseCode::Policy);

    // JSON with an unknown action: the same.
    let mut ws = app.ws("alice").await;
    send_json(&mut ws, json!({ "action": "shout", "channels": [] })).await;
    let (texts, close) = until_close(&mut ws).await;
    assert_eq!(texts[0]["data"]["code"], "INVALID_MESSAGE");
    assert_eq!(close.unwrap().0, CloseCode::Policy);

    // Binary: the same.
    let mut ws = app.ws("alice").await;
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    let (texts, close) = until_close(&mut ws).await;
    assert_eq!(texts[0]["event_type"], "error");
    assert_eq!(close.unwrap().0, CloseCode::Policy);

    // A well-formed subscribe naming an unknown channel: error frame, the socket stays open and
    // nothing of that message is applied.
    let mut ws = app.ws("alice").await;
    send_json(
        &mut ws,
        json!({ "action": "subscribe", "channels": ["task-updates", "gossip"] }),
    )
    .await;
    let e = next_json(&mut ws).await;
    assert_eq!(e["event_type"], "error");
    assert_eq!(e["data"]["code"], "INVALID_MESSAGE");
    assert!(e["data"]["message"].as_str().unwrap().contains("gossip"));
    app.create_task("alice", "not subscribed yet").await;
    assert_quiet(&mut ws).await;
    subscribe(&mut ws, &["task-updates"]).await;
    let id = app.create_task("alice", "subscribed").await;
    let m = next_json(&mut ws).await;
    assert_eq!(m["data"]["task_id"], id);
}

/// The status and error code of a refused WebSocket handshake.
async fn refused(app: &App, path_and_query: &str) -> (u16, Value) {
    let url = format!("ws://{}{path_and_query}", app.addr);
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => panic!("the handshake should be refused: {path_and_query}"),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            let body = resp.body().clone().unwrap_or_default();
            (
                resp.status().as_u16(),
                serde_json::from_slice(&body).unwrap(),
            )
        }
        Err(e) => panic!("unexpected error: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_and_parameters_are_refused_before_the_upgrade() {
    let app = App::start().await;
    let cases = [
        ("/api/v1/ws/alice".to_owned(), 401, "UNAUTHORIZED"),
        (
            "/api/v1/ws/alice?token=garbage".to_owned(),
            401,
            "UNAUTHORIZED",
        ),
        (
            format!(
                "/api/v1/ws/alice?token={}",
                issue_token(
                    b"another-secret-another-secret-0123456789",
                    &UserId::parse("alice").unwrap(),
                    Duration::from_secs(60)
                )
                .unwrap()
            ),
            401,
            "UNAUTHORIZED",
        ),
        (
            format!("/api/v1/ws/alice?token={}", token("bob")),
            403,
            "FORBIDDEN",
        ),
        (
            format!("/api/ws/alice?token={}", token("bob")),
            403,
            "FORBIDDEN",
        ),
        (
            format!("/api/v1/ws/alice?token={}&since=not-an-id", token("alice")),
            400,
            "VALIDATION_ERROR",
        ),
    ];
    for (path, status, code) in cases {
        let (s, body) = refused(&app, &path).await;
        assert_eq!(s, status, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
        assert!(body["error"]["request_id"].is_string(), "{body}");
    }
    // A plain GET (no upgrade) with a good token: 400 in the error format, no upgrade.
    let (s, body) = app
        .call(
            "GET",
            &format!("/api/v1/ws/alice?token={}", token("alice")),
            "alice",
            None,
        )
        .await;
    assert!(s == 400 || s == 426, "{s}");
    assert!(body["error"]["code"].is_string(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_bus_the_routes_answer_503() {
    let app = App::start_with(|state, _| state).await;
    let (s, body) = refused(&app, &format!("/api/v1/ws/alice?token={}", token("alice"))).await;
    assert_eq!(s, 503);
    assert_eq!(body["error"]["code"], "UNAVAILABLE");
    let (s, body) = app.call("GET", "/api/v1/alice/events", "alice", None).await;
    assert_eq!(s, 503);
    assert_eq!(body["error"]["code"], "UNAVAILABLE");
}

/// A synthetic `task-deleted` event of `user`, straight onto the bus.
fn deleted_event(user: &str, task_id: i64) -> EventEnvelope {
    todo_events::decode_value(json!({
        "event_type": "task-deleted",
        "event_id": uuid::Uuid::new_v4(),
        "timestamp": "2030-01-01T00:00:00Z",
        "version": "1.0",
        "data": { "task_id": task_id, "user_id": user, "title": "gone" }
    }))
    .unwrap()
}

// One runtime thread: the dispatcher fills the queues before any socket task runs.
#[tokio::test]
async fn a_slow_client_is_told_to_resync_and_closed_without_holding_up_others() {
    let app = App::start_with(|state, bus| {
        state.with_realtime(Realtime::new(bus).with_queue_capacity(4))
    })
    .await;
    let mut slow = app.subscribed("alice", &["task-updates"]).await;
    let mut other = app.subscribed("bob", &["task-updates"]).await;
    for i in 1..=50 {
        app.bus.fan_out(deleted_event("alice", i));
    }
    app.bus.fan_out(deleted_event("bob", 7));
    let (texts, close) = until_close(&mut slow).await;
    let last = texts.last().unwrap();
    assert_eq!(last["event_type"], "resync", "{texts:?}");
    assert_eq!(last["data"]["reason"], "too_slow");
    assert!(
        texts.len() <= 5,
        "at most the queue, then resync: {texts:?}"
    );
    assert_eq!(close.unwrap().0, CloseCode::Again);
    // Bob's socket was not affected.
    let m = next_json(&mut other).await;
    assert_eq!(m["data"]["task_id"], 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pings_flow_and_a_silent_peer_is_closed() {
    let app = App::start_with(|state, bus| {
        state.with_realtime(Realtime::new(bus).with_ping_interval(Duration::from_millis(100)))
    })
    .await;
    // A live client (tungstenite answers pings while it reads) stays connected.
    let mut live = app.subscribed("alice", &["task-updates"]).await;
    let mut pings = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
    while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, live.next()).await {
        assert!(matches!(msg, Message::Ping(_)), "{msg:?}");
        pings += 1;
    }
    assert!(pings >= 3, "{pings} pings");
    let id = app.create_task("alice", "still here").await;
    assert_eq!(next_json(&mut live).await["data"]["task_id"], id);

    // A client that does not read (so never answers) is closed after two intervals.
    let mut silent = app.subscribed("alice", &["task-updates"]).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let (_, close) = until_close(&mut silent).await;
    // Closed in time either way; the close frame itself can be lost: reading the queued pings
    // makes the client answer them on a socket the server has closed, and the reset that
    // comes back discards what the client had not read yet.
    if let Some((code, reason)) = close {
        assert_eq!(code, CloseCode::Away);
        assert_eq!(reason, "no pong");
    }
}

/// Reads an SSE response until `n` events (comments skipped) or the wait ends.
async fn sse_events(
    app: &App,
    headers: &[(&str, String)],
    query: &str,
    n: usize,
) -> (u16, Vec<(Option<String>, String, Value)>) {
    let stream = TcpStream::connect(&app.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let mut req = Request::builder()
        .uri(format!("/api/v1/alice/events{query}"))
        .header("host", &app.addr);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    let resp = sender
        .send_request(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    if status != 200 {
        return (status, Vec::new());
    }
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.into_body();
    let mut buf = String::new();
    let mut events = Vec::new();
    while events.len() < n {
        let frame = tokio::time::timeout(WAIT, body.frame())
            .await
            .expect("an SSE event within the wait")
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            buf.push_str(std::str::from_utf8(&data).unwrap());
        }
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (mut id, mut event, mut data) = (None, String::new(), String::new());
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_owned();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.trim_start());
                }
            }
            if !data.is_empty() {
                events.push((id, event, serde_json::from_str(&data).unwrap()));
            }
        }
    }
    (status, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sse_streams_and_replays_after_last_event_id() {
    let app = Arc::new(App::start().await);
    let auth = ("authorization", format!("Bearer {}", token("alice")));
    for i in 0..4 {
        app.create_task("alice", &format!("t{i}")).await;
    }
    // An event to resume from, learnt live; the three after it are replayed, then a live one
    // follows.
    let first_ws = {
        let mut ws = app.subscribed("alice", &["task-updates"]).await;
        let id = app.create_task("alice", "marker").await;
        // Events committed just before the subscription may still be relayed after it.
        loop {
            let m = next_json(&mut ws).await;
            if m["data"]["task_id"] == id {
                break event_id(&m);
            }
        }
    };
    for i in 0..3 {
        app.create_task("alice", &format!("after {i}")).await;
    }
    let expected = app.pushed_after("alice", first_ws).await;
    assert_eq!(expected.len(), 3);
    let live = {
        let app = Arc::clone(&app);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            app.create_task("alice", "live").await
        })
    };
    let (status, events) = sse_events(
        &app,
        &[auth.clone(), ("last-event-id", first_ws.to_string())],
        "",
        4,
    )
    .await;
    assert_eq!(status, 200);
    let ids: Vec<String> = events[..3]
        .iter()
        .map(|(id, _, _)| id.clone().unwrap())
        .collect();
    let expected: Vec<String> = expected.iter().map(ToString::to_string).collect();
    assert_eq!(ids, expected, "the missed events, in order");
    for (id, event, data) in &events {
        assert_eq!(event, "task-created");
        assert_eq!(data["event_type"], "task-created");
        assert_eq!(data["event_id"].as_str(), id.as_deref());
    }
    let live_id = live.await.unwrap();
    assert_eq!(events[3].2["data"]["task_id"], live_id);

    // `?token=` (EventSource cannot set headers) with `?since=`, and an unknown since.
    let (status, events) = sse_events(
        &app,
        &[],
        &format!("?token={}&since={}", token("alice"), uuid::Uuid::new_v4()),
        1,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(events[0].1, "resync");
    assert_eq!(events[0].2["data"]["reason"], "unknown_since");

    // Refusals: no token, another user's token, a bad Last-Event-ID, an unknown channel.
    let (s, _) = sse_events(&app, &[], "", 0).await;
    assert_eq!(s, 401);
    let (s, _) = sse_events(
        &app,
        &[("authorization", format!("Bearer {}", token("bob")))],
        "",
        0,
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = sse_events(&app, &[auth.clone(), ("last-event-id", "x".into())], "", 0).await;
    assert_eq!(s, 400);
    let (s, _) = sse_events(&app, &[auth], "?channels=gossip", 0).await;
    assert_eq!(s, 400);
}

#[test]
fn channel_names_are_the_topics() {
    assert_eq!(Channel::parse("task-updates"), Some(Channel::TaskUpdates));
    assert_eq!(Channel::parse("reminders"), Some(Channel::Reminders));
    assert_eq!(Channel::parse("activity-logs"), None);
    let activity = todo_events::decode_value(json!({
        "event_type": "activity-log-created",
        "event_id": uuid::Uuid::new_v4(),
        "timestamp": "2030-01-01T00:00:00Z",
        "version": "1.0",
        "data": { "log_id": 1, "user_id": "alice", "task_id": null, "action": "tag-created",
                  "old_values": null, "new_values": {"name": "x"} }
    }))
    .unwrap();
    assert!(
        Push::from_envelope(&activity).is_none(),
        "activity is not pushed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_pushes_its_changes_and_resumes() {
    let server = support::server::Server::start_in_temp_dir("realtime", &[]);
    let addr = server.base.trim_start_matches("http://").to_owned();
    let tok = server.token("alice");
    let url = format!("ws://{addr}/api/v1/ws/alice?token={tok}");
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    subscribe(&mut ws, &["task-updates"]).await;
    let path = "/api/v1/alice/tasks";
    let (s, first) = http(&addr, "POST", path, &tok, Some(json!({ "title": "one" }))).await;
    assert_eq!(s, 201, "{first}");
    let m = next_json(&mut ws).await;
    assert_eq!(m["event_type"], "task-created");
    assert_eq!(m["data"]["task_id"], first["id"]);
    drop(ws);

    // Missed while away, replayed after `since` from the SQLite outbox.
    let (s, second) = http(&addr, "POST", path, &tok, Some(json!({ "title": "two" }))).await;
    assert_eq!(s, 201);
    let since = m["event_id"].as_str().unwrap();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{url}&since={since}"))
        .await
        .unwrap();
    subscribe(&mut ws, &["task-updates"]).await;
    let m = next_json(&mut ws).await;
    assert_eq!(m["event_type"], "task-created");
    assert_eq!(m["data"]["task_id"], second["id"]);
    assert_quiet(&mut ws).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_sockets_and_streams_and_refuses_new_ones() {
    let app = App::start().await;
    let mut ws = app.subscribed("alice", &["task-updates"]).await;
    // An open SSE response.
    let stream = TcpStream::connect(&app.addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = Request::builder()
        .uri("/api/v1/alice/events")
        .header("host", &app.addr)
        .header("authorization", format!("Bearer {}", token("alice")))
        .body(Body::empty())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = resp.into_body();

    app.realtime.as_ref().unwrap().shutdown();
    let (_, close) = until_close(&mut ws).await;
    let (code, reason) = close.unwrap();
    assert_eq!(code, CloseCode::Away);
    assert_eq!(reason, "server shutting down");
    // The SSE body ends (instead of holding a graceful shutdown forever).
    tokio::time::timeout(WAIT, body.collect())
        .await
        .expect("the SSE stream ends")
        .unwrap();
    let (s, body) = refused(&app, &format!("/api/v1/ws/alice?token={}", token("alice"))).await;
    assert_eq!(s, 503, "{body}");
}
