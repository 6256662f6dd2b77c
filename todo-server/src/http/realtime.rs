//! Real time: a user's task updates and reminders pushed as they happen, over WebSocket
//! (`WS /api/ws/{user_id}?token=`, also `/api/v1/ws/...`) and as Server-Sent Events
//! (`GET /api/v1/{user_id}/events`, also `/api/{user_id}/events`). `docs/realtime.md` is the
//! protocol for clients.
//!
//! - Auth happens before the upgrade (401 / 400 / 403 in the contract's error format); the
//!   routes answer 503 `UNAVAILABLE` when the app has no event bus ([`super::AppState::with_bus`]).
//! - One dispatcher task per process reads the [`EventBus`] and hands each event of channel
//!   `task-updates` or `reminders` to the bounded queues ([`QUEUE_CAPACITY`]) of its user's
//!   connections, serialized once. A connection whose queue is full is dropped from the hub:
//!   it is told to `resync` and closed, so a slow client never holds up the others.
//! - Resuming (`?since=<event_id>`, `Last-Event-ID`): the connection joins the hub first, then
//!   reads the user's events after `since` from the store's outbox, sends them, and skips the
//!   live events it already replayed, so nothing is missed and nothing comes twice. An unknown
//!   (or pruned) `since`, or more than [`MAX_REPLAY`] missed events, gets a `resync` instead.

use std::collections::{HashMap, HashSet};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::Stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use todo_core::error::StoreError;
use todo_core::ids::{EventId, ReminderId, TaskId, UserId};
use todo_core::model::format_instant;
use todo_core::ports::{OutboxEntry, Store};
use todo_core::service::TaskService;
use todo_events::payload::EventData;
use todo_events::{EventEnvelope, Topic};
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::Instant;

use super::auth::AuthError;
use super::error::{ApiError, ErrorCode};
use super::{AppState, AppStore};
use crate::bus::EventBus;

/// How often the server pings a WebSocket client; a client that sent nothing (not even a
/// pong) for two intervals is closed as dead.
pub const PING_INTERVAL: Duration = Duration::from_secs(30);
/// How many messages may wait for one connection; beyond that the client is too slow: it is
/// told to `resync` and closed.
pub const QUEUE_CAPACITY: usize = 256;
/// The most missed events a resuming client is sent; beyond that it must `resync`.
pub const MAX_REPLAY: usize = 10_000;
/// How often an idle SSE stream sends a keep-alive comment.
pub const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// A write to a WebSocket that takes longer than this ends the connection.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// Events read from the store per replay query; a resuming connection holds at most one page
/// of missed messages at a time (they were all held at once: 20 resuming streams took 230 MB).
const REPLAY_PAGE: u32 = 200;
/// How many resuming connections may count their missed events at the same time (each
/// counting reads up to [`MAX_REPLAY`] events); the others wait their turn.
const CONCURRENT_REPLAY_CHECKS: usize = 4;
/// The default of [`StreamLimits::per_user`].
pub const DEFAULT_STREAMS_PER_USER: usize = 10;
/// The default of [`StreamLimits::total`].
pub const DEFAULT_STREAMS_TOTAL: usize = 5_000;
/// The largest accepted client message (subscribe/unsubscribe are tiny).
const MAX_CLIENT_MESSAGE: usize = 16 * 1024;
/// Per-socket read buffer: small, since clients send little (tungstenite's default is 128 KiB
/// per socket, which 10,000 sockets cannot afford).
const READ_BUFFER: usize = 4 * 1024;
/// A socket whose unsent output exceeds this is failed (its client is not reading).
const MAX_WRITE_BUFFER: usize = 1024 * 1024;

/// A channel a client can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Task events: `task-created`, `task-updated`, `task-completed`, `task-deleted`.
    TaskUpdates,
    /// `reminder` messages (the `reminder-triggered` events).
    Reminders,
}

impl Channel {
    /// Both channels.
    pub const ALL: [Channel; 2] = [Channel::TaskUpdates, Channel::Reminders];

    /// The channel's name on the wire (the Kafka topic it is fed from).
    pub const fn name(self) -> &'static str {
        match self {
            Channel::TaskUpdates => todo_events::topic::TASK_UPDATES,
            Channel::Reminders => todo_events::topic::REMINDERS,
        }
    }

    /// The channel of a name, if any.
    pub fn parse(name: &str) -> Option<Channel> {
        Self::ALL.into_iter().find(|c| c.name() == name)
    }

    /// The channel an event is pushed on, if any (activity-log events are not pushed).
    pub fn of(event: &EventEnvelope) -> Option<Channel> {
        Channel::of_type(event.event_type())
    }

    /// The channel events of this type are pushed on, if any.
    pub fn of_type(event_type: todo_events::EventType) -> Option<Channel> {
        let topics = event_type.topics();
        if topics.contains(&Topic::TaskUpdates) {
            Some(Channel::TaskUpdates)
        } else if topics.contains(&Topic::Reminders) {
            Some(Channel::Reminders)
        } else {
            None
        }
    }

    const fn bit(self) -> u8 {
        match self {
            Channel::TaskUpdates => 1,
            Channel::Reminders => 2,
        }
    }
}

/// A set of channels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Channels(u8);

impl Channels {
    const ALL: Channels = Channels(3);
    fn contains(self, c: Channel) -> bool {
        self.0 & c.bit() != 0
    }
    fn insert(&mut self, c: Channel) {
        self.0 |= c.bit();
    }
    fn remove(&mut self, c: Channel) {
        self.0 &= !c.bit();
    }
    fn is_empty(self) -> bool {
        self.0 == 0
    }
    fn names(self) -> Vec<&'static str> {
        Channel::ALL
            .into_iter()
            .filter(|c| self.contains(*c))
            .map(Channel::name)
            .collect()
    }
}

/// One event as pushed to clients: serialized once, shared by every connection of its user.
#[derive(Debug, Clone)]
pub struct Push {
    /// The event's id (the SSE `id:`, and what `since` names).
    pub event_id: EventId,
    /// Its channel.
    pub channel: Channel,
    /// The message's `event_type` (`reminder` for `reminder-triggered`).
    pub event_type: &'static str,
    /// The message: `{"event_type","event_id","data","timestamp"}`.
    pub text: Utf8Bytes,
}

/// A message's envelope on the wire.
#[derive(Serialize)]
struct Frame<'a, D: Serialize> {
    event_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<EventId>,
    data: D,
    timestamp: String,
}

/// The plan's reminder message data.
#[derive(Serialize)]
struct ReminderData<'a> {
    reminder_id: ReminderId,
    task_id: TaskId,
    task_title: &'a str,
    due_datetime: Option<String>,
}

impl Push {
    /// The message of an event, or `None` when the event is on no channel.
    pub fn from_envelope(event: &EventEnvelope) -> Option<Push> {
        let channel = Channel::of(event)?;
        let timestamp = format_instant(event.timestamp);
        let (event_type, json) = match &event.data {
            EventData::ReminderTriggered(r) => {
                let data = ReminderData {
                    reminder_id: r.reminder_id,
                    task_id: r.task_id,
                    task_title: r.task_title.as_str(),
                    due_datetime: r.task_due_datetime.map(format_instant),
                };
                (
                    "reminder",
                    to_json("reminder", Some(event.event_id), data, timestamp),
                )
            }
            data => {
                let t = event.event_type().as_str();
                (t, to_json(t, Some(event.event_id), data, timestamp))
            }
        };
        Some(Push {
            event_id: event.event_id,
            channel,
            event_type,
            text: Utf8Bytes::from(json?),
        })
    }
}

fn to_json<D: Serialize>(
    event_type: &str,
    event_id: Option<EventId>,
    data: D,
    timestamp: String,
) -> Option<String> {
    let frame = Frame {
        event_type,
        event_id,
        data,
        timestamp,
    };
    match serde_json::to_string(&frame) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, event_type, "realtime: cannot serialize a message");
            None
        }
    }
}

/// A control message (`error`, `resync`, `subscribed`), without `event_id`.
fn control(event_type: &str, data: Value) -> String {
    to_json(event_type, None, data, format_instant(chrono::Utc::now())).unwrap_or_default()
}

/// The `error` message: `{"event_type":"error","data":{"code","message"},"timestamp"}`.
fn error_message(message: &str) -> String {
    control(
        "error",
        serde_json::json!({ "code": ErrorCode::InvalidMessage, "message": message }),
    )
}

/// Why a client must resync (reload its state over REST and reconnect without `since`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resync {
    /// `since` is not one of the user's events in the retained outbox.
    UnknownSince,
    /// More than [`MAX_REPLAY`] events were missed.
    TooFarBehind,
    /// The connection's queue overflowed: the client did not keep up.
    TooSlow,
}

impl Resync {
    fn reason(self) -> &'static str {
        match self {
            Resync::UnknownSince => "unknown_since",
            Resync::TooFarBehind => "too_far_behind",
            Resync::TooSlow => "too_slow",
        }
    }
    fn message(self) -> String {
        let text = match self {
            Resync::UnknownSince => {
                "the event to resume from is unknown or no longer retained; reload and reconnect without since"
            }
            Resync::TooFarBehind => {
                "too many events were missed to replay them; reload and reconnect without since"
            }
            Resync::TooSlow => {
                "the connection fell too far behind and is closed; reload and reconnect"
            }
        };
        control(
            "resync",
            serde_json::json!({ "reason": self.reason(), "message": text }),
        )
    }
}

/// One user's connections: id and the sending side of its bounded queue.
type Queues = Vec<(u64, mpsc::Sender<Push>)>;

/// The connections of every user, each with its bounded queue.
#[derive(Debug, Default)]
struct Hub {
    conns: Mutex<HashMap<UserId, Queues>>,
    next_id: AtomicU64,
    /// The count of open connections (for the log and the tests).
    open: AtomicU64,
}

impl Hub {
    /// Hands `push` to every connection of `user`; a full or closed queue drops the connection
    /// (its receiver then sees the end of the queue: a full one resyncs).
    /// Whether `user` has a connection here.
    fn has(&self, user: &UserId) -> bool {
        self.conns
            .lock()
            .is_ok_and(|conns| conns.contains_key(user))
    }

    fn deliver(&self, user: &UserId, push: &Push) {
        let Ok(mut conns) = self.conns.lock() else {
            return;
        };
        let Some(list) = conns.get_mut(user) else {
            return;
        };
        list.retain(|(_, tx)| tx.try_send(push.clone()).is_ok());
        if list.is_empty() {
            conns.remove(user);
        }
    }

    /// Drops every connection from the hub: each resyncs (the dispatcher lost events).
    fn drop_all(&self) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.clear();
        }
    }

    fn unregister(&self, user: &UserId, id: u64) {
        if let Ok(mut conns) = self.conns.lock()
            && let Some(list) = conns.get_mut(user)
        {
            list.retain(|(i, _)| *i != id);
            if list.is_empty() {
                conns.remove(user);
            }
        }
    }
}

/// The real-time side of the app: the bus it listens to and the connections it feeds.
#[derive(Debug)]
pub struct Realtime {
    bus: EventBus,
    hub: Arc<Hub>,
    dispatcher: OnceLock<()>,
    ping_interval: Duration,
    queue_capacity: usize,
    stop: watch::Sender<bool>,
    streams: Arc<Streams>,
    replay_checks: Arc<tokio::sync::Semaphore>,
}

/// Caps on open real-time streams (WebSocket and SSE together).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    /// Streams one user may hold open; one more gets 429 `RATE_LIMITED`.
    pub per_user: usize,
    /// Streams the process holds open in all; one more gets 503 `UNAVAILABLE`.
    pub total: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            per_user: DEFAULT_STREAMS_PER_USER,
            total: DEFAULT_STREAMS_TOTAL,
        }
    }
}

/// The open streams, per user and in all.
#[derive(Debug, Default)]
struct Streams {
    limits: StreamLimits,
    open: Mutex<(HashMap<UserId, usize>, usize)>,
}

impl Streams {
    /// A place for one more stream of `user`, or the refusal.
    fn acquire(self: &Arc<Self>, user: &UserId) -> Result<StreamSlot, ApiError> {
        // The counts stay right through a panic elsewhere: a poisoned lock is taken anyway.
        let mut open = self
            .open
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (per_user, total) = &mut *open;
        if *total >= self.limits.total {
            let mut e = ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the server holds as many real-time streams as it can; retry later",
            );
            e.details = serde_json::json!({ "limit_streams": self.limits.total });
            return Err(e);
        }
        let mine = per_user.entry(user.clone()).or_default();
        if *mine >= self.limits.per_user {
            let limit = self.limits.per_user;
            let mut e = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                format!("at most {limit} real-time streams may be open per user; close one first"),
            );
            e.details = serde_json::json!({ "limit_streams_per_user": limit });
            return Err(e);
        }
        *mine += 1;
        *total += 1;
        Ok(StreamSlot {
            streams: Arc::clone(self),
            user: user.clone(),
        })
    }
}

/// One open stream's place under the caps; given back when the stream ends.
#[derive(Debug)]
struct StreamSlot {
    streams: Arc<Streams>,
    user: UserId,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        {
            let mut open = self
                .streams
                .open
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let (per_user, total) = &mut *open;
            *total = total.saturating_sub(1);
            if let Some(n) = per_user.get_mut(&self.user) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per_user.remove(&self.user);
                }
            }
        }
    }
}

impl Realtime {
    /// Pushes the events of `bus` ([`PING_INTERVAL`], [`QUEUE_CAPACITY`], the default
    /// [`StreamLimits`]).
    pub fn new(bus: EventBus) -> Self {
        Realtime {
            bus,
            hub: Arc::new(Hub::default()),
            dispatcher: OnceLock::new(),
            ping_interval: PING_INTERVAL,
            queue_capacity: QUEUE_CAPACITY,
            stop: watch::channel(false).0,
            streams: Arc::new(Streams::default()),
            replay_checks: Arc::new(tokio::sync::Semaphore::new(CONCURRENT_REPLAY_CHECKS)),
        }
    }

    /// Caps the open streams per user and in all (`TODO_MAX_STREAMS_PER_USER`,
    /// `TODO_MAX_STREAMS`).
    #[must_use]
    pub fn with_stream_limits(mut self, limits: StreamLimits) -> Self {
        self.streams = Arc::new(Streams {
            limits,
            open: Mutex::default(),
        });
        self
    }

    /// Pings WebSocket clients every `interval` instead (tests).
    #[must_use]
    pub fn with_ping_interval(mut self, interval: Duration) -> Self {
        self.ping_interval = interval.max(Duration::from_millis(10));
        self
    }

    /// Lets `capacity` messages wait per connection instead (tests).
    #[must_use]
    pub fn with_queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity.max(1);
        self
    }

    /// Ends every real-time connection (WebSocket close 1001, SSE stream end) and refuses new
    /// ones: call it on shutdown, since open streams would otherwise hold the graceful
    /// shutdown until their clients leave.
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }

    /// How many connections are subscribed right now.
    pub fn open_connections(&self) -> u64 {
        self.hub.open.load(Ordering::Relaxed)
    }

    /// Joins the hub: from now on every event of `user` lands in the returned queue. Starts
    /// the dispatcher on first use (it subscribes to the bus before this returns).
    fn register(&self, user: &UserId) -> Registration {
        self.dispatcher.get_or_init(|| {
            let hub = Arc::clone(&self.hub);
            let rx = self.bus.subscribe();
            tokio::spawn(dispatch(hub, rx));
        });
        let (tx, rx) = mpsc::channel(self.queue_capacity);
        let id = self.hub.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut conns) = self.hub.conns.lock() {
            conns.entry(user.clone()).or_default().push((id, tx));
        }
        self.hub.open.fetch_add(1, Ordering::Relaxed);
        Registration {
            hub: Arc::clone(&self.hub),
            user: user.clone(),
            id,
            rx,
        }
    }
}

/// Reads the bus and hands every pushed event to its user's connections.
async fn dispatch(hub: Arc<Hub>, mut rx: broadcast::Receiver<Arc<EventEnvelope>>) {
    loop {
        match rx.recv().await {
            Ok(event) => {
                // Only what someone is connected for is turned into a message.
                if !hub.has(event.user_id()) {
                    continue;
                }
                if let Some(push) = Push::from_envelope(&event) {
                    hub.deliver(event.user_id(), &push);
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "realtime: the dispatcher fell behind the bus; every client resyncs"
                );
                hub.drop_all();
            }
            Err(broadcast::error::RecvError::Closed) => {
                hub.drop_all();
                return;
            }
        }
    }
}

/// A connection's place in the hub; leaves it when dropped.
struct Registration {
    hub: Arc<Hub>,
    user: UserId,
    id: u64,
    rx: mpsc::Receiver<Push>,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.unregister(&self.user, self.id);
        self.hub.open.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A resuming client's missed events, read from the store's outbox one page at a time, so
/// that a connection never holds more than [`REPLAY_PAGE`] of them.
struct Replayer {
    user: UserId,
    after: EventId,
    done: bool,
}

impl Replayer {
    fn new(user: &UserId, since: EventId) -> Self {
        Replayer {
            user: user.clone(),
            after: since,
            done: false,
        }
    }

    /// The next page of the user's outbox events after the last one read; `Ok(None)` when the
    /// replay is complete, `Err(Ok(resync))` when `since` is unknown (or was pruned meanwhile).
    async fn next_entries<S: Store>(
        &mut self,
        store: &S,
    ) -> Result<Option<Vec<OutboxEntry>>, Result<Resync, StoreError>> {
        if self.done {
            return Ok(None);
        }
        let page = match store
            .user_events_after(&self.user, self.after, REPLAY_PAGE)
            .await
        {
            Ok(Some(page)) => page,
            Ok(None) => return Err(Ok(Resync::UnknownSince)),
            Err(e) => return Err(Err(e)),
        };
        self.done = page.len() < REPLAY_PAGE as usize;
        if let Some(last) = page.last() {
            self.after = last.event.id;
        }
        Ok(Some(page))
    }

    /// The next page of messages (possibly empty while more pages follow: a page may hold
    /// only events that are not pushed); errors as [`Replayer::next_entries`].
    async fn next_page<S: Store>(
        &mut self,
        store: &S,
    ) -> Result<Option<Vec<Push>>, Result<Resync, StoreError>> {
        let Some(page) = self.next_entries(store).await? else {
            return Ok(None);
        };
        let mut out = Vec::with_capacity(page.len());
        for entry in page {
            match EventEnvelope::from_domain(&entry.event) {
                Ok(event) => out.extend(Push::from_envelope(&event)),
                Err(e) => tracing::error!(
                    seq = entry.seq,
                    error = %e,
                    "realtime: an outbox event breaks the contract; not replayed"
                ),
            }
        }
        Ok(Some(out))
    }
}

/// Whether an outbox event is pushed to real-time clients (by its type alone: counting the
/// missed ones needs no message built).
fn pushed(entry: &OutboxEntry) -> bool {
    todo_events::EventType::parse(entry.event.payload.event_type())
        .is_ok_and(|t| Channel::of_type(t).is_some())
}

/// Whether a client resuming after `since` can be replayed to: `Some(resync)` when `since` is
/// unknown or more than [`MAX_REPLAY`] messages were missed. Counts page by page, keeping
/// none, and at most [`CONCURRENT_REPLAY_CHECKS`] at a time.
async fn replay_check<S: Store>(
    rt: &Realtime,
    store: &S,
    user: &UserId,
    since: EventId,
) -> Result<Option<Resync>, StoreError> {
    let _turn = rt.replay_checks.acquire().await;
    let mut replayer = Replayer::new(user, since);
    let mut missed = 0;
    loop {
        match replayer.next_entries(store).await {
            Ok(Some(page)) => {
                missed += page.iter().filter(|e| pushed(e)).count();
                if missed > MAX_REPLAY {
                    return Ok(Some(Resync::TooFarBehind));
                }
            }
            Ok(None) => return Ok(None),
            Err(Ok(resync)) => return Ok(Some(resync)),
            Err(Err(e)) => return Err(e),
        }
    }
}

/// Forwards live events once, after a replay: the ids already replayed are skipped (each at
/// most once, then forgotten).
///
/// Only the last `cap` replayed ids are kept: an event that comes both ways was committed after
/// the connection joined the hub, so it is among the newest replayed (a user's outbox order is
/// commit order), and no more of them than the connection's queue holds can arrive live before
/// the replay ends (a fuller queue drops the connection). A resume from far back thus keeps a
/// few hundred ids, not up to [`MAX_REPLAY`].
struct Dedup {
    ids: HashSet<EventId>,
    order: std::collections::VecDeque<EventId>,
    cap: usize,
}

impl Dedup {
    fn new(cap: usize) -> Self {
        Dedup {
            ids: HashSet::new(),
            order: std::collections::VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// Remembers a replayed id.
    fn replayed(&mut self, id: EventId) {
        if self.ids.insert(id) {
            self.order.push_back(id);
        }
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.ids.remove(&old);
            }
        }
    }

    fn fresh(&mut self, id: EventId) -> bool {
        self.ids.is_empty() || !self.ids.remove(&id)
    }
}

/// The parameters of the WebSocket route.
#[derive(Debug, Deserialize)]
pub struct WsParams {
    /// The JWT (browsers cannot set headers on a WebSocket).
    pub token: Option<String>,
    /// Resume after this event id.
    pub since: Option<String>,
}

/// The parameters of the SSE route.
#[derive(Debug, Deserialize)]
pub struct SseParams {
    /// The JWT, for `EventSource` (which cannot set headers); `Authorization: Bearer` wins.
    pub token: Option<String>,
    /// Resume after this event id (`Last-Event-ID` wins).
    pub since: Option<String>,
    /// Comma-separated channels (default: both).
    pub channels: Option<String>,
}

/// Checks the token (401) and that the path names its user (400 invalid, 403 another).
fn authenticate(
    auth: &super::AuthConfig,
    token: Option<&str>,
    raw_user: &str,
) -> Result<UserId, ApiError> {
    let token = token
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("missing token"))?;
    let user = auth.verify(token).map_err(|e| match e {
        AuthError::Expired => ApiError::unauthorized("the token has expired"),
        _ => ApiError::unauthorized("the token is invalid"),
    })?;
    let path_user = UserId::parse(raw_user)
        .map_err(|e| ApiError::validation(StatusCode::BAD_REQUEST, &e.into()))?;
    if path_user != user {
        return Err(ApiError::forbidden());
    }
    Ok(user)
}

fn parse_since(raw: Option<&str>, field: &'static str) -> Result<Option<EventId>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    uuid::Uuid::parse_str(raw)
        .map(|u| Some(EventId::new(u)))
        .map_err(|_| {
            let mut e = ApiError::new(
                StatusCode::BAD_REQUEST,
                ErrorCode::ValidationError,
                format!("{field} must be an event id (a UUID)"),
            );
            e.details = serde_json::json!({ "field": field });
            e
        })
}

fn unavailable() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        "real-time updates are not available on this server",
    )
}

fn realtime_of<S>(state: &AppState<S>) -> Result<Arc<Realtime>, ApiError> {
    match &state.realtime {
        Some(rt) if !*rt.stop.borrow() => Ok(Arc::clone(rt)),
        _ => Err(unavailable()),
    }
}

/// Lets a verified user open one more stream: it takes a place under the [`StreamLimits`].
/// (The upgrade itself counted against the user's request rate in the rate-limit middleware,
/// which reads the token from the query too.)
fn admit<S>(
    state: &AppState<S>,
    user: &UserId,
) -> Result<(Arc<Realtime>, StreamSlot), Box<Response>> {
    let rt = realtime_of(state).map_err(|e| Box::new(e.into_response()))?;
    let slot = rt.streams.acquire(user).map_err(|e| {
        let mut res = e.into_response();
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
        }
        Box::new(res)
    })?;
    Ok((rt, slot))
}

/// `WS /api/ws/{user_id}?token=&since=`: authenticates, then upgrades to the push protocol.
pub async fn websocket<S: AppStore>(
    State(state): State<AppState<S>>,
    Path(user_id): Path<String>,
    Query(params): Query<WsParams>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let user = authenticate(&state.auth, params.token.as_deref(), &user_id)?;
    let since = parse_since(params.since.as_deref(), "since")?;
    let (rt, slot) = match admit(&state, &user) {
        Ok(admitted) => admitted,
        Err(refused) => return Ok(*refused),
    };
    let upgrade = match upgrade {
        Ok(u) => u,
        Err(rejection) => {
            let status = rejection.status();
            return Err(ApiError::new(
                status,
                if status.is_client_error() {
                    ErrorCode::BadRequest
                } else {
                    ErrorCode::Internal
                },
                rejection.body_text(),
            ));
        }
    };
    let service = Arc::clone(&state.service);
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_WRITE_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .max_frame_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| async move {
            let store = service.store();
            Session::new(socket, &rt, user, since, slot)
                .run(store)
                .await;
        }))
}

/// What a client may send.
#[derive(Debug, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase", deny_unknown_fields)]
enum ClientMessage {
    Subscribe { channels: Vec<String> },
    Unsubscribe { channels: Vec<String> },
}

/// Why a client message was refused.
enum Refused {
    /// Not JSON, or not one of the messages: the connection is closed (1008).
    Malformed(String),
    /// Well-formed, but naming an unknown channel: the connection stays open.
    UnknownChannel(String),
}

fn parse_client(text: &str) -> Result<(bool, Channels), Refused> {
    let msg: ClientMessage = serde_json::from_str(text).map_err(|e| {
        Refused::Malformed(format!(
            "expected {{\"action\":\"subscribe\"|\"unsubscribe\",\"channels\":[...]}}: {e}"
        ))
    })?;
    let (subscribe, names) = match msg {
        ClientMessage::Subscribe { channels } => (true, channels),
        ClientMessage::Unsubscribe { channels } => (false, channels),
    };
    let mut set = Channels::default();
    for name in &names {
        let c = Channel::parse(name).ok_or_else(|| {
            Refused::UnknownChannel(format!(
                "unknown channel {name:?}; the channels are \"task-updates\" and \"reminders\""
            ))
        })?;
        set.insert(c);
    }
    Ok((subscribe, set))
}

/// One WebSocket connection.
struct Session<'a> {
    socket: WebSocket,
    rt: &'a Realtime,
    user: UserId,
    since: Option<EventId>,
    channels: Channels,
    live: Option<Registration>,
    dedup: Dedup,
    /// Its place under the stream caps, given back when the session ends.
    _slot: StreamSlot,
}

/// How a session ends.
enum End {
    /// Close with this code and reason.
    Close(u16, &'static str),
    /// The peer is gone (or a write failed): nothing more to send.
    Gone,
}

impl<'a> Session<'a> {
    fn new(
        socket: WebSocket,
        rt: &'a Realtime,
        user: UserId,
        since: Option<EventId>,
        slot: StreamSlot,
    ) -> Self {
        Session {
            socket,
            rt,
            user,
            since,
            channels: Channels::default(),
            live: None,
            dedup: Dedup::new(rt.queue_capacity * 2),
            _slot: slot,
        }
    }

    async fn run<S: Store>(mut self, store: &S) {
        let end = self.serve(store).await;
        if let End::Close(code, reason) = end {
            let frame = CloseFrame {
                code,
                reason: Utf8Bytes::from_static(reason),
            };
            let _ = self.send(Message::Close(Some(frame))).await;
        }
    }

    async fn serve<S: Store>(&mut self, store: &S) -> End {
        let period = self.rt.ping_interval;
        let mut ping = tokio::time::interval_at(Instant::now() + period, period);
        let mut heard = Instant::now();
        let mut stop = self.rt.stop.subscribe();
        loop {
            tokio::select! {
                msg = self.socket.recv() => {
                    let Some(Ok(msg)) = msg else { return End::Gone };
                    heard = Instant::now();
                    match msg {
                        Message::Text(text) => {
                            if let Some(end) = self.on_text(store, text.as_str()).await {
                                return end;
                            }
                        }
                        Message::Binary(_) => {
                            let text = error_message("binary messages are not accepted; send JSON text");
                            if !self.send_text(text).await {
                                return End::Gone;
                            }
                            return End::Close(close_code::POLICY, "invalid message");
                        }
                        Message::Ping(_) | Message::Pong(_) => {}
                        Message::Close(_) => return End::Gone,
                    }
                }
                push = next_live(self.live.as_mut()) => {
                    let Some(push) = push else {
                        if !self.send_text(Resync::TooSlow.message()).await {
                            return End::Gone;
                        }
                        return End::Close(close_code::AGAIN, "resync");
                    };
                    if self.dedup.fresh(push.event_id) && self.channels.contains(push.channel)
                        && !self.send(Message::Text(push.text)).await
                    {
                        return End::Gone;
                    }
                }
                _ = ping.tick() => {
                    if heard.elapsed() > period * 2 {
                        return End::Close(close_code::AWAY, "no pong");
                    }
                    if !self.send(Message::Ping(Default::default())).await {
                        return End::Gone;
                    }
                }
                () = stopped(&mut stop) => return End::Close(close_code::AWAY, "server shutting down"),
            }
        }
    }

    /// Handles a text message; `Some` ends the session.
    async fn on_text<S: Store>(&mut self, store: &S, text: &str) -> Option<End> {
        let (subscribe, set) = match parse_client(text) {
            Ok(m) => m,
            Err(Refused::Malformed(m)) => {
                if !self.send_text(error_message(&m)).await {
                    return Some(End::Gone);
                }
                return Some(End::Close(close_code::POLICY, "invalid message"));
            }
            Err(Refused::UnknownChannel(m)) => {
                return (!self.send_text(error_message(&m)).await).then_some(End::Gone);
            }
        };
        for c in Channel::ALL {
            if set.contains(c) {
                if subscribe {
                    self.channels.insert(c);
                } else {
                    self.channels.remove(c);
                }
            }
        }
        let mut resync = None;
        let mut replayer = None;
        if subscribe && !self.channels.is_empty() && self.live.is_none() {
            // Join the hub before reading the replay, so that an event committed meanwhile
            // arrives live (and one in both is skipped live).
            self.live = Some(self.rt.register(&self.user));
            if let Some(since) = self.since.take() {
                match replay_check(self.rt, store, &self.user, since).await {
                    Ok(None) => replayer = Some(Replayer::new(&self.user, since)),
                    Ok(Some(r)) => resync = Some(r),
                    Err(e) => return Some(self.replay_failed(&e).await),
                }
            }
        }
        let ack = control(
            if subscribe {
                "subscribed"
            } else {
                "unsubscribed"
            },
            serde_json::json!({ "channels": self.channels.names() }),
        );
        if !self.send_text(ack).await {
            return Some(End::Gone);
        }
        if let Some(r) = resync
            && !self.send_text(r.message()).await
        {
            return Some(End::Gone);
        }
        let mut replayer = replayer?;
        loop {
            match replayer.next_page(store).await {
                Ok(Some(page)) => {
                    for push in page {
                        self.dedup.replayed(push.event_id);
                        if self.channels.contains(push.channel)
                            && !self.send(Message::Text(push.text)).await
                        {
                            return Some(End::Gone);
                        }
                    }
                }
                Ok(None) => return None,
                // Pruned while it was being replayed.
                Err(Ok(r)) => {
                    return (!self.send_text(r.message()).await).then_some(End::Gone);
                }
                Err(Err(e)) => return Some(self.replay_failed(&e).await),
            }
        }
    }

    /// Tells the client that its missed events cannot be read now, and ends the session.
    async fn replay_failed(&mut self, e: &StoreError) -> End {
        tracing::error!(error = %e, "realtime: reading the replay failed");
        let text = control(
            "error",
            serde_json::json!({
                "code": ErrorCode::Unavailable,
                "message": "the missed events cannot be read now; reconnect later"
            }),
        );
        if !self.send_text(text).await {
            return End::Gone;
        }
        End::Close(close_code::ERROR, "unavailable")
    }

    async fn send_text(&mut self, text: String) -> bool {
        self.send(Message::Text(Utf8Bytes::from(text))).await
    }

    /// Sends a message; `false` when the peer is gone or does not read.
    async fn send(&mut self, msg: Message) -> bool {
        matches!(
            tokio::time::timeout(SEND_TIMEOUT, self.socket.send(msg)).await,
            Ok(Ok(()))
        )
    }
}

/// The next live event of a registered connection; never resolves before the registration.
/// `None`: the hub dropped the connection (its queue overflowed).
async fn next_live(live: Option<&mut Registration>) -> Option<Push> {
    match live {
        Some(r) => r.rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves once the server shuts the real-time side down.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it here.
    let _ = stop.wait_for(|s| *s).await;
}

/// `GET /api/v1/{user_id}/events`: the same messages as Server-Sent Events (`id:` the event
/// id, `event:` the event type, `data:` the WebSocket message), resuming after
/// `Last-Event-ID` (or `?since=`); `?channels=` narrows the channels (default both).
pub async fn events<S: AppStore>(
    State(state): State<AppState<S>>,
    Path(user_id): Path<String>,
    Query(params): Query<SseParams>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let header_token = match headers.get(header::AUTHORIZATION) {
        None => None,
        Some(v) => {
            let v = v
                .to_str()
                .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
            match v.split_once(' ') {
                Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => Some(t),
                _ => {
                    return Err(ApiError::unauthorized(
                        "Authorization must be: Bearer <token>",
                    ));
                }
            }
        }
    };
    let user = authenticate(
        &state.auth,
        header_token.or(params.token.as_deref()),
        &user_id,
    )?;
    let last_event_id = headers
        .get("last-event-id")
        .map(|v| v.to_str().unwrap_or("-"));
    let since = match last_event_id {
        Some(raw) => parse_since(Some(raw), "Last-Event-ID")?,
        None => parse_since(params.since.as_deref(), "since")?,
    };
    let channels = match params.channels.as_deref() {
        None => Channels::ALL,
        Some(list) => {
            let mut set = Channels::default();
            for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let c = Channel::parse(name).ok_or_else(|| {
                    let mut e = ApiError::new(
                        StatusCode::BAD_REQUEST,
                        ErrorCode::ValidationError,
                        format!(
                            "unknown channel {name:?}; the channels are task-updates and reminders"
                        ),
                    );
                    e.details = serde_json::json!({ "field": "channels" });
                    e
                })?;
                set.insert(c);
            }
            if set.is_empty() { Channels::ALL } else { set }
        }
    };
    let (rt, slot) = match admit(&state, &user) {
        Ok(admitted) => admitted,
        Err(refused) => return Ok(*refused),
    };
    let live = rt.register(&user);
    let store = state.service.store();
    let (first, replayer) = match since {
        None => (None, None),
        Some(since) => match replay_check(&rt, store, &user, since).await {
            Ok(None) => (None, Some(Replayer::new(&user, since))),
            Ok(Some(r)) => (Some(r), None),
            Err(e) => return Err(todo_core::Error::Store(e).into()),
        },
    };
    let stream = sse_stream(
        SseState {
            first,
            replayer,
            page: Vec::new().into_iter(),
            dedup: Dedup::new(rt.queue_capacity * 2),
            channels,
            live,
            stop: rt.stop.subscribe(),
            ended: false,
            _slot: slot,
        },
        Arc::clone(&state.service),
    );
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(SSE_KEEP_ALIVE))
        .into_response())
}

struct SseState {
    first: Option<Resync>,
    /// The missed events still to read, when resuming.
    replayer: Option<Replayer>,
    /// The page of missed events being sent.
    page: std::vec::IntoIter<Push>,
    dedup: Dedup,
    channels: Channels,
    live: Registration,
    stop: watch::Receiver<bool>,
    ended: bool,
    /// The stream's place under the caps, given back when the stream ends.
    _slot: StreamSlot,
}

fn sse_event(push: &Push) -> Event {
    Event::default()
        .id(push.event_id.to_string())
        .event(push.event_type)
        .data(push.text.as_str())
}

fn resync_event(r: Resync) -> Event {
    Event::default().event("resync").data(r.message())
}

fn sse_stream<S: AppStore>(
    state: SseState,
    service: Arc<TaskService<S>>,
) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    futures_util::stream::unfold((state, service), |(mut st, service)| async move {
        if st.ended {
            return None;
        }
        if let Some(r) = st.first.take() {
            return Some((Ok(resync_event(r)), (st, service)));
        }
        loop {
            for push in st.page.by_ref() {
                st.dedup.replayed(push.event_id);
                if st.channels.contains(push.channel) {
                    let ev = sse_event(&push);
                    return Some((Ok(ev), (st, service)));
                }
            }
            let Some(replayer) = st.replayer.as_mut() else {
                break;
            };
            match replayer.next_page(service.store()).await {
                Ok(Some(page)) => st.page = page.into_iter(),
                Ok(None) => st.replayer = None,
                Err(Ok(r)) => {
                    st.ended = true;
                    return Some((Ok(resync_event(r)), (st, service)));
                }
                Err(Err(e)) => {
                    tracing::error!(error = %e, "realtime: reading the replay failed");
                    return None;
                }
            }
        }
        loop {
            let push = tokio::select! {
                push = st.live.rx.recv() => push,
                () = stopped(&mut st.stop) => return None,
            };
            let Some(push) = push else {
                st.ended = true;
                return Some((Ok(resync_event(Resync::TooSlow)), (st, service)));
            };
            if st.dedup.fresh(push.event_id) && st.channels.contains(push.channel) {
                return Some((Ok(sse_event(&push)), (st, service)));
            }
        }
    })
}
