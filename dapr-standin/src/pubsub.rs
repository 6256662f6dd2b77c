//! Pub/sub: `PublishEvent`, the app's programmatic subscriptions (`GET /dapr/subscribe`) and
//! delivery as daprd does it: a CloudEvent per message, in order per subscription, retried per
//! policy, dead-lettered or dropped at the end.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{SecondsFormat, Utc};
use dapr::dapr::proto::runtime::v1::PublishEventRequest;
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Map, Value, json};
use tokio::sync::oneshot;
use tonic::{Request, Response, Status};

use crate::app_client;
use crate::inner::{Inner, Shared};
use crate::records::{DeadLettered, Delivery, DeliveryOutcome, Published};

/// (pub/sub component, topic).
pub(crate) type TopicKey = (String, String);

/// How long `attach_app` keeps asking an app that does not answer yet.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(10);

/// One subscription of the app, as `GET /dapr/subscribe` listed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subscription {
    pub(crate) pubsub: String,
    pub(crate) topic: String,
    pub(crate) route: String,
    pub(crate) dead_letter_topic: Option<String>,
}

impl Subscription {
    fn key(&self) -> TopicKey {
        (self.pubsub.clone(), self.topic.clone())
    }
}

/// Every message of a topic, and how far the app's subscription has consumed it (like a Kafka
/// partition and the app's consumer group offset: kept across detach and re-attach).
#[derive(Default)]
pub(crate) struct TopicLog {
    messages: Vec<QueuedMessage>,
    next: usize,
}

struct QueuedMessage {
    body: Arc<Vec<u8>>,
    id: String,
    /// Told the final outcome (for `deliver_raw`).
    done: Option<oneshot::Sender<DeliveryOutcome>>,
}

/// `PublishEvent`: check the component, wrap the payload in a CloudEvent, queue it, ack.
pub(crate) async fn publish_event(
    inner: &Arc<Inner>,
    request: Request<PublishEventRequest>,
) -> Result<Response<()>, Status> {
    let req = request.into_inner();
    if !inner.opts.pubsubs.contains(&req.pubsub_name) {
        return Err(Status::invalid_argument(format!(
            "pubsub {} is not found",
            req.pubsub_name
        )));
    }
    if req.topic.is_empty() {
        return Err(Status::invalid_argument(format!(
            "topic is empty in pubsub {}",
            req.pubsub_name
        )));
    }
    let content_type = if req.data_content_type.is_empty() {
        "application/json".to_owned()
    } else {
        req.data_content_type.clone()
    };
    let (body, id) = cloud_event(&inner.opts.app_id, &req, &content_type)?;
    {
        let mut shared = inner.lock();
        if shared.fail_publishes > 0 {
            shared.fail_publishes -= 1;
            return Err(Status::unavailable(
                "publish failed: failure injected by the todo Dapr stand-in",
            ));
        }
        shared.published.push(Published {
            pubsub: req.pubsub_name.clone(),
            topic: req.topic.clone(),
            data: req.data.clone(),
            content_type,
            metadata: req.metadata.clone().into_iter().collect(),
        });
        enqueue(&mut shared, (req.pubsub_name, req.topic), body, id, None);
    }
    inner.bump();
    Ok(Response::new(()))
}

/// The CloudEvents 1.0 envelope daprd builds around a published payload, and its id.
fn cloud_event(
    app_id: &str,
    req: &PublishEventRequest,
    content_type: &str,
) -> Result<(Vec<u8>, String), Status> {
    let meta = |name: &str| req.metadata.get(&format!("cloudevent.{name}")).cloned();
    let media_type = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let mut event = if media_type == "application/cloudevents+json" {
        // The app sent a CloudEvent already: daprd keeps it and fills in what is missing.
        match serde_json::from_slice::<Value>(&req.data) {
            Ok(Value::Object(event)) => event,
            _ => {
                return Err(Status::invalid_argument(
                    "the data of a publish with content type application/cloudevents+json must be a JSON object",
                ));
            }
        }
    } else {
        let mut event = Map::new();
        event.insert("datacontenttype".into(), json!(content_type));
        let is_json = media_type == "application/json" || media_type.ends_with("+json");
        match (is_json, serde_json::from_slice::<Value>(&req.data)) {
            (true, Ok(value)) => {
                event.insert("data".into(), value);
            }
            _ => match std::str::from_utf8(&req.data) {
                Ok(text) => {
                    event.insert("data".into(), json!(text));
                }
                Err(_) => {
                    event.insert("data_base64".into(), json!(STANDARD.encode(&req.data)));
                }
            },
        }
        event
    };
    let defaults = [
        (
            "id",
            meta("id").unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        ),
        (
            "source",
            meta("source").unwrap_or_else(|| app_id.to_owned()),
        ),
        (
            "type",
            meta("type").unwrap_or_else(|| "com.dapr.event.sent".to_owned()),
        ),
        ("specversion", "1.0".to_owned()),
        ("datacontenttype", content_type.to_owned()),
        ("traceid", meta("traceid").unwrap_or_default()),
        ("traceparent", meta("traceparent").unwrap_or_default()),
        ("tracestate", meta("tracestate").unwrap_or_default()),
        (
            "time",
            Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        ),
    ];
    for (name, value) in defaults {
        event.entry(name).or_insert_with(|| json!(value));
    }
    event.insert("topic".into(), json!(req.topic));
    event.insert("pubsubname".into(), json!(req.pubsub_name));
    let id = event
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let body = serde_json::to_vec(&Value::Object(event))
        .map_err(|e| Status::internal(format!("encoding the CloudEvent: {e}")))?;
    Ok((body, id))
}

fn enqueue(
    shared: &mut Shared,
    key: TopicKey,
    body: Vec<u8>,
    id: String,
    done: Option<oneshot::Sender<DeliveryOutcome>>,
) {
    shared
        .topics
        .entry(key)
        .or_default()
        .messages
        .push(QueuedMessage {
            body: Arc::new(body),
            id,
            done,
        });
}

/// `StandIn::deliver_raw`: a broker message straight into the delivery path.
pub(crate) async fn deliver_raw(
    inner: &Arc<Inner>,
    pubsub: &str,
    topic: &str,
    body: Vec<u8>,
) -> DeliveryOutcome {
    let (done, outcome) = oneshot::channel();
    {
        let mut shared = inner.lock();
        let subscribed = shared
            .subscriptions
            .iter()
            .any(|s| s.pubsub == pubsub && s.topic == topic);
        if !subscribed {
            return DeliveryOutcome::NoSubscriber;
        }
        let id = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
            .unwrap_or_default();
        enqueue(
            &mut shared,
            (pubsub.to_owned(), topic.to_owned()),
            body,
            id,
            Some(done),
        );
    }
    inner.bump();
    outcome
        .await
        .unwrap_or_else(|_| DeliveryOutcome::Failed("the stand-in stopped".to_owned()))
}

/// `StandIn::attach_app`: read the app's subscriptions, then deliver to it.
pub(crate) async fn attach_app(inner: &Arc<Inner>, app: SocketAddr) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + ATTACH_TIMEOUT;
    let response = loop {
        match app_client::request(
            app,
            inner.opts.app_api_token.as_deref(),
            Method::GET,
            "/dapr/subscribe",
            HeaderMap::new(),
            Vec::new(),
        )
        .await
        {
            Ok(response) => break response,
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(format!(
                    "the app at {app} did not answer GET /dapr/subscribe within {ATTACH_TIMEOUT:?}: {e}"
                ));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    };
    // Like daprd: an app without the endpoint simply has no programmatic subscriptions.
    let subscriptions = if response.status == StatusCode::NOT_FOUND {
        Vec::new()
    } else if response.status.is_success() {
        parse_subscriptions(&response.body)?
    } else {
        return Err(format!(
            "GET /dapr/subscribe answered {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        ));
    };
    tracing::info!(%app, subscriptions = subscriptions.len(), "app attached to the Dapr stand-in");
    {
        let mut shared = inner.lock();
        shared.app = Some(app);
        for subscription in &subscriptions {
            let key = subscription.key();
            if shared.workers.insert(key.clone()) {
                inner.spawn(worker(Arc::clone(inner), key));
            }
        }
        shared.subscriptions = subscriptions;
    }
    inner.bump();
    Ok(())
}

/// The subscriptions in a `GET /dapr/subscribe` answer (first one wins per pub/sub and topic).
fn parse_subscriptions(body: &[u8]) -> Result<Vec<Subscription>, String> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| format!("GET /dapr/subscribe did not answer JSON: {e}"))?;
    let Value::Array(items) = value else {
        return Err("GET /dapr/subscribe did not answer a JSON array".to_owned());
    };
    let mut subscriptions: Vec<Subscription> = Vec::new();
    for item in items {
        let text = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_owned);
        let pubsub = text("pubsubname")
            .or_else(|| text("pubsubName"))
            .ok_or_else(|| format!("subscription without pubsubname: {item}"))?;
        let topic = text("topic").ok_or_else(|| format!("subscription without topic: {item}"))?;
        let routes = item.get("routes");
        let route = text("route")
            .or_else(|| {
                routes
                    .and_then(|r| r.get("default"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .or_else(|| {
                // Rules are not evaluated: a rules-only subscription gets its first rule's path.
                routes
                    .and_then(|r| r.get("rules"))
                    .and_then(Value::as_array)
                    .and_then(|rules| rules.first())
                    .and_then(|rule| rule.get("path"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .filter(|route| !route.is_empty())
            .ok_or_else(|| format!("subscription without route: {item}"))?;
        let route = if route.starts_with('/') {
            route
        } else {
            format!("/{route}")
        };
        let dead_letter_topic = text("deadLetterTopic").filter(|t| !t.is_empty());
        if subscriptions
            .iter()
            .any(|s| s.pubsub == pubsub && s.topic == topic)
        {
            tracing::warn!(%pubsub, %topic, "duplicate subscription ignored");
            continue;
        }
        subscriptions.push(Subscription {
            pubsub,
            topic,
            route,
            dead_letter_topic,
        });
    }
    Ok(subscriptions)
}

/// `StandIn::detach_app`.
pub(crate) fn detach_app(inner: &Inner) {
    inner.lock().app = None;
    inner.bump();
}

/// Delivers one topic's messages to the app's subscription on it, one at a time, in order.
async fn worker(inner: Arc<Inner>, key: TopicKey) {
    let mut changes = inner.changes();
    loop {
        changes.borrow_and_update();
        let next = {
            let shared = inner.lock();
            let subscription = shared
                .subscriptions
                .iter()
                .find(|s| s.pubsub == key.0 && s.topic == key.1)
                .cloned();
            let message = shared
                .topics
                .get(&key)
                .and_then(|log| log.messages.get(log.next))
                .map(|m| (Arc::clone(&m.body), m.id.clone()));
            match (shared.app, subscription, message) {
                (Some(_), Some(subscription), Some(message)) => Some((subscription, message)),
                _ => None,
            }
        };
        let Some((subscription, (body, id))) = next else {
            if changes.changed().await.is_err() || inner.is_stopped() {
                return;
            }
            continue;
        };
        let outcome = deliver_with_retries(&inner, &subscription, &body, &id).await;
        let done = {
            let mut shared = inner.lock();
            shared.topics.get_mut(&key).and_then(|log| {
                let done = log.messages.get_mut(log.next).and_then(|m| m.done.take());
                log.next += 1;
                done
            })
        };
        if let Some(done) = done {
            // The caller of deliver_raw may have given up waiting; nothing to tell then.
            let _ = done.send(outcome);
        }
    }
}

/// One message to one subscription: attempts per the retry policy, then dead letter or drop.
async fn deliver_with_retries(
    inner: &Arc<Inner>,
    subscription: &Subscription,
    body: &Arc<Vec<u8>>,
    id: &str,
) -> DeliveryOutcome {
    let retry = inner.opts.delivery_retry;
    let attempts = retry.attempts.max(1);
    let mut attempt = 0;
    loop {
        let Some(app) = wait_for_app(inner).await else {
            return DeliveryOutcome::Failed("the stand-in stopped".to_owned());
        };
        attempt += 1;
        let outcome = deliver_once(
            app,
            inner.opts.app_api_token.as_deref(),
            &subscription.route,
            body,
        )
        .await;
        inner.lock().deliveries.push(Delivery {
            pubsub: subscription.pubsub.clone(),
            topic: subscription.topic.clone(),
            route: subscription.route.clone(),
            cloud_event_id: id.to_owned(),
            attempt,
            outcome: outcome.clone(),
        });
        match &outcome {
            DeliveryOutcome::Success | DeliveryOutcome::NoSubscriber => return outcome,
            DeliveryOutcome::NotFound => {
                tracing::error!(
                    topic = %subscription.topic,
                    route = %subscription.route,
                    "non-retriable error returned from app while processing pub/sub event: status code 404; dropped"
                );
                return outcome;
            }
            DeliveryOutcome::Drop => {
                dead_letter_or_drop(inner, subscription, body, "the app answered DROP");
                return outcome;
            }
            DeliveryOutcome::Retry
            | DeliveryOutcome::HttpStatus(_)
            | DeliveryOutcome::Failed(_) => {
                if attempt >= attempts {
                    let reason = format!("{attempt} attempts failed, the last one: {outcome:?}");
                    dead_letter_or_drop(inner, subscription, body, &reason);
                    return outcome;
                }
                tokio::time::sleep(retry.interval).await;
            }
        }
    }
}

/// The attached app, once there is one; `None` when the stand-in stops.
async fn wait_for_app(inner: &Inner) -> Option<SocketAddr> {
    let mut changes = inner.changes();
    loop {
        changes.borrow_and_update();
        if inner.is_stopped() {
            return None;
        }
        if let Some(app) = inner.lock().app {
            return Some(app);
        }
        if changes.changed().await.is_err() {
            return None;
        }
    }
}

/// One POST of the CloudEvent to the app, classified like daprd's HTTP subscriber.
async fn deliver_once(
    app: SocketAddr,
    token: Option<&str>,
    route: &str,
    body: &[u8],
) -> DeliveryOutcome {
    let response = match app_client::request(
        app,
        token,
        Method::POST,
        route,
        app_client::content_type("application/cloudevents+json"),
        body.to_vec(),
    )
    .await
    {
        Ok(response) => response,
        Err(e) => return DeliveryOutcome::Failed(e),
    };
    if response.status == StatusCode::NOT_FOUND {
        return DeliveryOutcome::NotFound;
    }
    if !response.status.is_success() {
        return DeliveryOutcome::HttpStatus(response.status.as_u16());
    }
    if response.body.iter().all(u8::is_ascii_whitespace) {
        return DeliveryOutcome::Success;
    }
    let status = match serde_json::from_slice::<Value>(&response.body) {
        Ok(Value::Object(object)) => match object.get("status") {
            None | Some(Value::Null) => None,
            Some(Value::String(status)) => Some(status.to_ascii_uppercase()),
            Some(other) => {
                return DeliveryOutcome::Failed(format!("app answered status {other}"));
            }
        },
        _ => {
            return DeliveryOutcome::Failed(format!(
                "failed unmarshalling app response: {}",
                String::from_utf8_lossy(&response.body)
            ));
        }
    };
    match status.as_deref() {
        None | Some("" | "SUCCESS") => DeliveryOutcome::Success,
        Some("DROP") => DeliveryOutcome::Drop,
        // daprd retries RETRY and any status it does not know.
        Some(_) => DeliveryOutcome::Retry,
    }
}

/// The end of a message the app did not take: its subscription's dead-letter topic, or nowhere.
fn dead_letter_or_drop(
    inner: &Inner,
    subscription: &Subscription,
    body: &Arc<Vec<u8>>,
    reason: &str,
) {
    let Some(dead_letter_topic) = &subscription.dead_letter_topic else {
        tracing::warn!(topic = %subscription.topic, reason, "message dropped");
        return;
    };
    tracing::warn!(topic = %subscription.topic, %dead_letter_topic, reason, "message dead-lettered");
    let id = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_default();
    {
        let mut shared = inner.lock();
        shared.dead_letters.push(DeadLettered {
            pubsub: subscription.pubsub.clone(),
            topic: dead_letter_topic.clone(),
            original_topic: subscription.topic.clone(),
            body: body.to_vec(),
            reason: reason.to_owned(),
        });
        enqueue(
            &mut shared,
            (subscription.pubsub.clone(), dead_letter_topic.clone()),
            body.to_vec(),
            id,
            None,
        );
    }
    inner.bump();
}

/// The subscriptions for `GetMetadata`.
pub(crate) fn metadata_subscriptions(
    shared: &Shared,
) -> Vec<dapr::dapr::proto::runtime::v1::PubsubSubscription> {
    shared
        .subscriptions
        .iter()
        .map(|s| dapr::dapr::proto::runtime::v1::PubsubSubscription {
            pubsub_name: s.pubsub.clone(),
            topic: s.topic.clone(),
            dead_letter_topic: s.dead_letter_topic.clone().unwrap_or_default(),
            ..Default::default()
        })
        .collect()
}
