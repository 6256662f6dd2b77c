//! Shared by the Kafka tests: the rule for tests without a broker, a broker process of a test's
//! own ([`Broker`]), HTTP calls to the spawned server, and a reader of a topic.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use todo_events::kafka::{EventHandler, HandlerError, KafkaConfig, KafkaConsumer};
use todo_events::{EventEnvelope, Topic};

use super::server::Server;

/// The JWT secret of the servers of the Kafka tests.
pub const SECRET: &str = "a-test-secret-of-the-kafka-tests-0123456789";

/// The shared broker for tests (`TEST_KAFKA_BROKERS`). Without it the Kafka tests are skipped
/// with a line on stderr — unless `CI=true`, where a missing broker is a failure.
pub fn brokers() -> Option<String> {
    super::required_service("TEST_KAFKA_BROKERS", "Kafka tests need a broker")
}

/// A fresh topic prefix, so that tests sharing a broker do not see each other's events.
pub fn prefix() -> String {
    format!("t{}.", uuid::Uuid::new_v4().simple())
}

/// An HTTP client that returns error statuses as answers.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A request as the user of `token`: the status and the JSON body of the answer (`null` when
/// the body is not JSON).
pub fn send(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let url = format!("{}{path}", server.base);
    let auth = format!("Bearer {token}");
    let mut r = match (method, body) {
        ("GET", _) => agent().get(&url).header("Authorization", &auth).call(),
        ("DELETE", _) => agent().delete(&url).header("Authorization", &auth).call(),
        ("POST", Some(b)) => agent()
            .post(&url)
            .header("Authorization", &auth)
            .send_json(b),
        ("PATCH", Some(b)) => agent()
            .patch(&url)
            .header("Authorization", &auth)
            .send_json(b),
        ("PUT", Some(b)) => agent()
            .put(&url)
            .header("Authorization", &auth)
            .send_json(b),
        other => panic!("unsupported {other:?}"),
    }
    .unwrap();
    let status = r.status().as_u16();
    (status, r.body_mut().read_json().unwrap_or(Value::Null))
}

/// A request that must succeed; the JSON body of the answer.
pub fn call(server: &Server, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let (status, body) = send(server, method, path, token, body);
    assert!((200..300).contains(&status), "{method} {path}: {status}");
    body
}

/// Waits (at most 20 s) until `check` holds.
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Collects what a consumer receives.
#[derive(Default, Clone)]
struct Collect(Arc<Mutex<Vec<EventEnvelope>>>);

impl EventHandler for Collect {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        self.0.lock().unwrap().push(event.clone());
        Ok(())
    }
}

/// Consumes `topic` (from the beginning) until `n` events arrived or 20 s passed.
pub fn consume(cfg: &KafkaConfig, topic: Topic, n: usize) -> Vec<EventEnvelope> {
    consume_until(cfg, topic, Duration::from_secs(20), move |got| {
        got.len() >= n
    })
}

/// Consumes `topic` (from the beginning) until what arrived satisfies `done` or `timeout`
/// passed; what arrived, in the order of arrival.
pub fn consume_until(
    cfg: &KafkaConfig,
    topic: Topic,
    timeout: Duration,
    done: impl Fn(&[EventEnvelope]) -> bool + Send + 'static,
) -> Vec<EventEnvelope> {
    let cfg = cfg.clone();
    super::run(async move {
        let consumer =
            KafkaConsumer::new(&cfg, &format!("{}test-reader", cfg.topic_prefix), &[topic])
                .unwrap();
        let got = Collect::default();
        let seen = got.clone();
        let enough = async move {
            let deadline = Instant::now() + timeout;
            while !done(&seen.0.lock().unwrap()) && Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        consumer.run(&got, enough).await;
        got.0.lock().unwrap().clone()
    })
}

/// The configuration of a test client of `brokers` with the topic prefix `prefix`.
pub fn kafka_cfg(brokers: &str, prefix: &str) -> KafkaConfig {
    let mut cfg = KafkaConfig::new(brokers, "todo-server-tests");
    cfg.topic_prefix = prefix.to_owned();
    cfg
}

/// A broker process of the test's own (tansu, memory storage, from `scripts/kafka.sh install`),
/// for tests that pause, kill or restart it. Killed when dropped.
pub struct Broker {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The port it listens on (a restarted broker takes the same one).
    pub port: u16,
    log: PathBuf,
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tansu() -> PathBuf {
    let cache = std::env::var("TODO_CACHE").map_or_else(
        |_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/todo"),
        PathBuf::from,
    );
    let bin = cache.join("tansu/bin/tansu");
    assert!(
        bin.exists(),
        "no broker binary at {} (run scripts/kafka.sh install)",
        bin.display()
    );
    bin
}

impl Broker {
    /// Starts a broker on a free loopback port.
    pub fn start() -> Broker {
        Broker::start_on(free_port())
    }

    /// Starts a broker on `port` (empty: the memory engine keeps nothing) and waits (at most
    /// 10 s) until it accepts connections; tries again while the port is still taken.
    pub fn start_on(port: u16) -> Broker {
        let bin = tansu();
        let url = format!("tcp://127.0.0.1:{port}");
        let log =
            std::env::temp_dir().join(format!("todo-tansu-{port}-{}.log", uuid::Uuid::new_v4()));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut child = Command::new(&bin)
                .args([
                    "broker",
                    "--listener-url",
                    &url,
                    "--advertised-listener-url",
                    &url,
                ])
                .args(["--storage-engine", "memory://tansu/"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap();
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Broker {
                        child,
                        addr: format!("127.0.0.1:{port}"),
                        port,
                        log,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let status = child.wait().unwrap();
            let out = std::fs::read_to_string(&log).unwrap_or_default();
            assert!(
                Instant::now() < deadline,
                "the broker did not answer on port {port} ({status}): {out}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {signal} {pid}");
    }

    /// Freezes the broker (SIGSTOP): connections stay open, nothing is answered; it keeps its
    /// data.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused broker go on (SIGCONT).
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// Kills the broker (SIGKILL) and waits for it; its data is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.log);
    }
}
