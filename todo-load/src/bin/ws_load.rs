//! `ws_load`: real-time push under load. Opens N WebSockets to one todo-server (spread over U
//! users, each subscribed to `task-updates`), creates tasks over REST at a steady rate and
//! measures, for every socket of the task's user, the time from sending the mutation to
//! receiving its push (p50/p95/p99/max), plus the server's resident memory (`VmRSS` of
//! `/proc/<pid>/status`) before and with the sockets open.
//!
//! ```sh
//! cargo build --release -p todo-server -p todo-load
//! ulimit -n 20000
//! target/release/ws_load --spawn target/release/todo-server --sockets 10000 --users 100
//! target/release/ws_load --url http://127.0.0.1:8080 --secret "$TODO_JWT_SECRET" --pid $PID
//! ```
//!
//! With `--spawn` the server runs in a fresh temp directory (embedded SQLite, in-process bus,
//! rate limit off) and is stopped at the end. Only loopback URLs are accepted.

use std::io::{BufRead, BufReader};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use http::{Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const MAX_SOCKETS: usize = 20_000;
const MAX_MUTATIONS: usize = 100_000;
/// A push that has not arrived this long after the last mutation counts as missing.
const DRAIN: Duration = Duration::from_secs(5);

#[derive(Parser, Debug)]
#[command(
    version,
    about = "WebSocket push latency and server memory under N open sockets."
)]
struct Cli {
    /// The server, e.g. http://127.0.0.1:8080 (loopback only); not with --spawn.
    #[arg(long, conflicts_with = "spawn", required_unless_present = "spawn")]
    url: Option<String>,
    /// The server's JWT secret (TODO_JWT_SECRET), to sign tokens; not with --spawn.
    #[arg(long, conflicts_with = "spawn", required_unless_present = "spawn")]
    secret: Option<String>,
    /// The server's pid, to read its memory from /proc (with --url).
    #[arg(long, conflicts_with = "spawn")]
    pid: Option<u32>,
    /// Start this todo-server binary in a temp directory and stop it at the end.
    #[arg(long)]
    spawn: Option<PathBuf>,
    /// Open WebSockets.
    #[arg(long, default_value_t = 1000)]
    sockets: usize,
    /// Users the sockets are spread over (socket i belongs to user i % users).
    #[arg(long, default_value_t = 100)]
    users: usize,
    /// Tasks created (one mutation each), round-robin over the users.
    #[arg(long, default_value_t = 500)]
    mutations: usize,
    /// Mutations per second.
    #[arg(long, default_value_t = 50.0)]
    rate: f64,
    /// Concurrent WebSocket handshakes while opening the sockets.
    #[arg(long, default_value_t = 256)]
    connect_concurrency: usize,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ws_load: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ws_load: {e}");
            ExitCode::FAILURE
        }
    }
}

/// A server this tool started; killed when dropped.
struct Spawned {
    child: Child,
    dir: PathBuf,
}

impl Drop for Spawned {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn spawn_server(bin: &PathBuf, secret: &str) -> Result<(Spawned, String), String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!("ws-load-{nanos}"));
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut child = Command::new(bin)
        .current_dir(&dir)
        .env("TODO_ADDR", "127.0.0.1:0")
        .env("TODO_JWT_SECRET", secret)
        .env("TODO_RATE_LIMIT_PER_MIN", "0")
        // Many sockets per user on purpose: the stream caps are not what is measured.
        .env("TODO_MAX_STREAMS_PER_USER", "100000")
        .env("TODO_MAX_STREAMS", "100000")
        .env("TODO_MAX_CONNECTIONS", "100000")
        .env("TODO_QUOTA_TASKS", "0")
        .env("RUST_LOG", "warn")
        .env_remove("KAFKA_BROKERS")
        .env_remove("DATABASE_URL")
        .env_remove("DAPR_GRPC_PORT")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let first = match lines.next() {
        Some(Ok(l)) => l,
        _ => {
            let _ = child.kill();
            return Err("the server printed nothing".into());
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .ok_or_else(|| format!("no URL in: {first}"))?
        .to_owned();
    Ok((Spawned { child, dir }, url))
}

fn loopback(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("the URL must start with http://")?
        .trim_end_matches('/');
    let addr: SocketAddr = rest
        .parse()
        .map_err(|_| format!("not host:port with an IP: {rest}"))?;
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_loopback() => Ok(addr),
        IpAddr::V6(ip) if ip.is_loopback() => Ok(addr),
        _ => Err("only loopback addresses are accepted".into()),
    }
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

fn sign(secret: &str, user: &str) -> Result<String, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({ "sub": user, "exp": now + 3600, "iat": now }),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| e.to_string())
}

/// What the readers share: when each mutation was sent, and the latencies seen.
struct Shared {
    start: Instant,
    /// Per mutation: nanoseconds after `start` when its request was sent (0: not yet).
    sent_at: Vec<AtomicU64>,
    latencies_us: Mutex<Vec<u64>>,
    received: AtomicUsize,
}

async fn run(cli: Cli) -> Result<(), String> {
    if cli.sockets == 0 || cli.sockets > MAX_SOCKETS {
        return Err(format!("--sockets must be 1..={MAX_SOCKETS}"));
    }
    if cli.users == 0 || cli.users > cli.sockets.max(1) {
        return Err("--users must be 1..=--sockets".into());
    }
    if cli.mutations == 0 || cli.mutations > MAX_MUTATIONS {
        return Err(format!("--mutations must be 1..={MAX_MUTATIONS}"));
    }
    if !(cli.rate > 0.0 && cli.rate <= 10_000.0) {
        return Err("--rate must be in (0, 10000]".into());
    }
    let (spawned, url, secret, pid) = match &cli.spawn {
        Some(bin) => {
            let secret = format!("ws-load-secret-{}-0123456789abcdef", std::process::id());
            let (s, url) = spawn_server(bin, &secret)?;
            let pid = s.child.id();
            (Some(s), url, secret, Some(pid))
        }
        None => (
            None,
            cli.url.clone().unwrap_or_default(),
            cli.secret.clone().unwrap_or_default(),
            cli.pid,
        ),
    };
    let addr = loopback(&url)?;
    let users: Vec<(String, String)> = (0..cli.users)
        .map(|i| {
            let id = format!("wsload{i}");
            sign(&secret, &id).map(|t| (id, t))
        })
        .collect::<Result<_, _>>()?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_idle = rss_kib(pid);

    let shared = Arc::new(Shared {
        start: Instant::now(),
        sent_at: (0..cli.mutations).map(|_| AtomicU64::new(0)).collect(),
        latencies_us: Mutex::new(Vec::with_capacity(
            cli.mutations * cli.sockets / cli.users + 16,
        )),
        received: AtomicUsize::new(0),
    });

    // Open the sockets, `connect_concurrency` handshakes at a time; each subscribes and waits
    // for the acknowledgement before it counts as open.
    eprintln!("ws_load: opening {} sockets to {addr} ...", cli.sockets);
    let opening = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(cli.connect_concurrency.max(1)));
    let mut opened = Vec::with_capacity(cli.sockets);
    for i in 0..cli.sockets {
        let (user, token) = users[i % cli.users].clone();
        let gate = Arc::clone(&gate);
        let shared = Arc::clone(&shared);
        opened.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            let ws_url = format!("ws://{addr}/api/v1/ws/{user}?token={token}");
            let config = WebSocketConfig::default()
                .read_buffer_size(8 * 1024)
                .write_buffer_size(0);
            let (mut ws, _) =
                tokio_tungstenite::connect_async_with_config(ws_url, Some(config), false)
                    .await
                    .map_err(|e| format!("socket {i}: {e}"))?;
            ws.send(Message::text(
                json!({"action": "subscribe", "channels": ["task-updates"]}).to_string(),
            ))
            .await
            .map_err(|e| e.to_string())?;
            loop {
                match ws.next().await {
                    Some(Ok(Message::Text(t))) if t.contains("\"subscribed\"") => break,
                    Some(Ok(_)) => {}
                    other => return Err(format!("socket {i}: no subscription: {other:?}")),
                }
            }
            drop(permit);
            Ok::<_, String>(tokio::spawn(read_pushes(ws, shared)))
        }));
    }
    let mut readers = Vec::with_capacity(cli.sockets);
    for h in opened {
        readers.push(h.await.map_err(|e| e.to_string())??);
    }
    let open_secs = opening.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_open = rss_kib(pid);
    eprintln!(
        "ws_load: {} sockets open in {open_secs:.1} s; {} mutations at {}/s ...",
        cli.sockets, cli.mutations, cli.rate
    );

    // Mutations over one keep-alive HTTP/1.1 connection, at a steady rate.
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            eprintln!("ws_load: the mutation connection failed: {e:?}");
        }
    });
    let period = Duration::from_secs_f64(1.0 / cli.rate);
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut http_us = Vec::with_capacity(cli.mutations);
    for m in 0..cli.mutations {
        tick.tick().await;
        let (user, token) = &users[m % cli.users];
        let body = json!({ "title": format!("wsload {m}") }).to_string();
        let req = Request::builder()
            .method(Method::POST)
            .uri(format!("/api/v1/{user}/tasks"))
            .header(header::HOST, addr.to_string())
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let sent = shared.start.elapsed();
        shared.sent_at[m].store(
            u64::try_from(sent.as_nanos()).unwrap_or(u64::MAX).max(1),
            Ordering::Release,
        );
        // The previous exchange must be finished on the connection before the next request.
        sender
            .ready()
            .await
            .map_err(|e| format!("mutation {m}: {e}"))?;
        let resp = sender
            .send_request(req)
            .await
            .map_err(|e| format!("mutation {m}: {e}"))?;
        let status = resp.status();
        let _ = resp.into_body().collect().await;
        if status.as_u16() != 201 {
            return Err(format!("mutation {m}: HTTP {status}"));
        }
        http_us
            .push(u64::try_from((shared.start.elapsed() - sent).as_micros()).unwrap_or(u64::MAX));
    }
    let expected = cli.mutations * (cli.sockets / cli.users)
        + (0..cli.mutations)
            .filter(|m| m % cli.users < cli.sockets % cli.users)
            .count();
    let deadline = Instant::now() + DRAIN;
    while shared.received.load(Ordering::Acquire) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let rss_end = rss_kib(pid);
    for r in &readers {
        r.abort();
    }
    let mut lat = shared.latencies_us.lock().map_err(|_| "poisoned")?.clone();
    lat.sort_unstable();
    http_us.sort_unstable();
    let received = shared.received.load(Ordering::Acquire);
    let pct = |v: &[u64], p: f64| -> f64 {
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        v[i] as f64 / 1000.0
    };
    let mib = |k: Option<u64>| k.map_or(f64::NAN, |k| k as f64 / 1024.0);
    let result = json!({
        "sockets": cli.sockets,
        "users": cli.users,
        "mutations": cli.mutations,
        "rate_per_s": cli.rate,
        "pushes_expected": expected,
        "pushes_received": received,
        "open_secs": open_secs,
        "push_latency_ms": {
            "p50": pct(&lat, 0.50), "p95": pct(&lat, 0.95), "p99": pct(&lat, 0.99),
            "max": lat.last().map_or(f64::NAN, |v| *v as f64 / 1000.0),
        },
        "mutation_http_ms": { "p50": pct(&http_us, 0.50), "p95": pct(&http_us, 0.95), "p99": pct(&http_us, 0.99) },
        "server_rss_mib": { "idle": mib(rss_idle), "sockets_open": mib(rss_open), "end": mib(rss_end) },
    });
    if cli.json {
        println!("{result}");
    } else {
        println!(
            "sockets {} over {} users, {} mutations at {}/s (opened in {open_secs:.1} s)",
            cli.sockets, cli.users, cli.mutations, cli.rate
        );
        println!(
            "pushes: {received} of {expected}; mutation -> push latency ms: p50 {:.2}  p95 {:.2}  p99 {:.2}  max {:.2}",
            pct(&lat, 0.50),
            pct(&lat, 0.95),
            pct(&lat, 0.99),
            lat.last().map_or(f64::NAN, |v| *v as f64 / 1000.0)
        );
        println!(
            "mutation HTTP ms: p50 {:.2}  p95 {:.2}  p99 {:.2}",
            pct(&http_us, 0.50),
            pct(&http_us, 0.95),
            pct(&http_us, 0.99)
        );
        println!(
            "server RSS MiB: idle {:.1}, {} sockets open {:.1}, end {:.1}",
            mib(rss_idle),
            cli.sockets,
            mib(rss_open),
            mib(rss_end)
        );
    }
    drop(spawned);
    if received < expected {
        return Err(format!("{} pushes missing", expected - received));
    }
    Ok(())
}

/// Reads a socket's pushes and records each one's latency (from its mutation's send time).
async fn read_pushes(
    mut ws: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    shared: Arc<Shared>,
) {
    while let Some(Ok(msg)) = ws.next().await {
        let Message::Text(text) = msg else { continue };
        let now = shared.start.elapsed();
        let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        if v["event_type"] != "task-created" {
            continue;
        }
        let Some(m) = v["data"]["title"]
            .as_str()
            .and_then(|t| t.strip_prefix("wsload "))
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let Some(sent) = shared.sent_at.get(m).map(|a| a.load(Ordering::Acquire)) else {
            continue;
        };
        if sent == 0 {
            continue;
        }
        let us = (u64::try_from(now.as_nanos()).unwrap_or(u64::MAX)).saturating_sub(sent) / 1000;
        if let Ok(mut l) = shared.latencies_us.lock() {
            l.push(us);
        }
        shared.received.fetch_add(1, Ordering::AcqRel);
    }
}
