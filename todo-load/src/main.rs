//! `todo-load`: drives a RUNNING todo-server on a loopback address with N concurrent HTTP/1.1
//! connections and M users, for a duration or a request count, and reports throughput and latency
//! percentiles per operation.
//!
//! ```sh
//! todo-load --url http://127.0.0.1:8080 --secret "$TODO_JWT_SECRET" --op create --connections 16
//! todo-load --url http://127.0.0.1:8080 --server-bin target/release/todo-server --op list --seed-tasks 1000
//! ```
//!
//! Tokens are signed here (HS256, `--secret`, the server's `TODO_JWT_SECRET`) or minted with
//! `todo-server token --user <id>` (`--server-bin`, which must see the server's configuration in
//! its environment). Only loopback URLs are accepted, and every run is bounded in time and count.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// Upper bounds that keep a run finite and the machine usable.
const MAX_CONNECTIONS: usize = 1024;
const MAX_USERS: usize = 10_000;
const MAX_DURATION_S: f64 = 600.0;
const MAX_REQUESTS: u64 = 10_000_000;
const MAX_SEED_TOTAL: usize = 1_000_000;
/// Each request gives up after this long (counted as a `timeout` error).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Words the seeded tasks are made of; `search` looks for one of them.
const WORDS: [&str; 8] = [
    "report", "budget", "invoice", "meeting", "garden", "travel", "review", "plan",
];
const PRIORITIES: [&str; 3] = ["High", "Medium", "Low"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OpArg {
    Create,
    Update,
    Complete,
    List,
    Search,
    Mix,
}

/// One kind of request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Create = 0,
    Update = 1,
    Complete = 2,
    List = 3,
    Search = 4,
}

const OPS: [Op; 5] = [Op::Create, Op::Update, Op::Complete, Op::List, Op::Search];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Update => "update",
            Op::Complete => "complete",
            Op::List => "list",
            Op::Search => "search",
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Load generator for a running todo-server (loopback only)."
)]
struct Cli {
    /// The server, e.g. http://127.0.0.1:8080 (loopback addresses only).
    #[arg(long)]
    url: String,
    /// Concurrent HTTP/1.1 connections (one request in flight on each).
    #[arg(long, default_value_t = 16)]
    connections: usize,
    /// Number of users; requests are spread over them.
    #[arg(long, default_value_t = 1)]
    users: usize,
    /// User ids are PREFIX0, PREFIX1, ...
    #[arg(long, default_value = "load")]
    user_prefix: String,
    /// The server's JWT secret (TODO_JWT_SECRET): tokens are signed here (HS256).
    #[arg(long, conflicts_with = "server_bin")]
    secret: Option<String>,
    /// A todo-server binary: tokens are minted with `todo-server token --user <id>` (it reads the
    /// server's configuration from this process's environment).
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// What to send: one operation, or a mix (40% list, 20% search, 20% create, 10% update,
    /// 10% complete).
    #[arg(long, value_enum, default_value = "mix")]
    op: OpArg,
    /// How long to measure, in seconds (at most 600).
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Stop after this many measured requests (or at --duration, whichever comes first).
    #[arg(long)]
    requests: Option<u64>,
    /// Unmeasured requests before measuring, in seconds (ignored with --requests).
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Tasks created per user before the run (default: 0 for create, 1000 otherwise).
    #[arg(long)]
    seed_tasks: Option<usize>,
    /// Threads of the load generator's runtime (1 leaves the other cores to the server).
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Print the result as JSON on stdout (the progress still goes to stderr).
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = if cli.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.threads.min(64))
            .enable_all()
            .build()
    };
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("todo-load: runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("todo-load: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The validated settings of a run.
struct Settings {
    addr: SocketAddr,
    host: String,
    ops: Vec<(Op, u32)>,
    users: Vec<User>,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    requests: Option<u64>,
    seed: usize,
}

struct User {
    id: String,
    token: String,
    /// Ids of the seeded tasks (targets of update/complete).
    tasks: Mutex<Vec<i64>>,
}

async fn run(cli: Cli) -> Result<(), String> {
    let (addr, host) = parse_loopback_url(&cli.url)?;
    if cli.connections == 0 || cli.connections > MAX_CONNECTIONS {
        return Err(format!("--connections must be 1..={MAX_CONNECTIONS}"));
    }
    if cli.users == 0 || cli.users > MAX_USERS {
        return Err(format!("--users must be 1..={MAX_USERS}"));
    }
    if !(cli.duration > 0.0 && cli.duration <= MAX_DURATION_S) {
        return Err(format!(
            "--duration must be in (0, {MAX_DURATION_S}] seconds"
        ));
    }
    if !(0.0..=60.0).contains(&cli.warmup) {
        return Err("--warmup must be 0..=60 seconds".into());
    }
    if let Some(n) = cli.requests
        && (n == 0 || n > MAX_REQUESTS)
    {
        return Err(format!("--requests must be 1..={MAX_REQUESTS}"));
    }
    let ops = match cli.op {
        OpArg::Create => vec![(Op::Create, 1)],
        OpArg::Update => vec![(Op::Update, 1)],
        OpArg::Complete => vec![(Op::Complete, 1)],
        OpArg::List => vec![(Op::List, 1)],
        OpArg::Search => vec![(Op::Search, 1)],
        OpArg::Mix => vec![
            (Op::List, 40),
            (Op::Search, 20),
            (Op::Create, 20),
            (Op::Update, 10),
            (Op::Complete, 10),
        ],
    };
    let seed = cli
        .seed_tasks
        .unwrap_or(if cli.op == OpArg::Create { 0 } else { 1000 });
    if seed.saturating_mul(cli.users) > MAX_SEED_TOTAL {
        return Err(format!(
            "--users x --seed-tasks must be at most {MAX_SEED_TOTAL}"
        ));
    }
    if seed == 0
        && ops
            .iter()
            .any(|(o, _)| matches!(o, Op::Update | Op::Complete))
    {
        return Err("update/complete need seeded tasks (--seed-tasks >= 1)".into());
    }
    let mut users = Vec::with_capacity(cli.users);
    for i in 0..cli.users {
        let id = format!("{}{i}", cli.user_prefix);
        let token = match (&cli.secret, &cli.server_bin) {
            (Some(secret), _) => sign_token(secret, &id)?,
            (None, Some(bin)) => mint_token(bin, &id).await?,
            (None, None) => return Err("give --secret or --server-bin to get tokens".into()),
        };
        users.push(User {
            id,
            token,
            tasks: Mutex::new(Vec::new()),
        });
    }
    let settings = Arc::new(Settings {
        addr,
        host,
        ops,
        users,
        connections: cli.connections,
        duration: Duration::from_secs_f64(cli.duration),
        warmup: if cli.requests.is_some() {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(cli.warmup)
        },
        requests: cli.requests,
        seed,
    });

    // Reachable, and a todo-server?
    let mut probe = Conn::new(&settings);
    let (status, _) = probe
        .send(Method::GET, "/healthz", None, None)
        .await
        .map_err(|e| format!("{}: {e}", cli.url))?;
    if !status.is_success() {
        return Err(format!("{}/healthz answered {status}", cli.url));
    }

    if seed > 0 {
        seed_tasks(&settings).await?;
    }
    let result = measure(&settings).await;
    if cli.json {
        println!("{}", report_json(&cli, &settings, &result));
    } else {
        print!("{}", report_text(&cli, &settings, &result));
    }
    Ok(())
}

/// `http://HOST:PORT[/]` with a loopback HOST; gives the address and the Host header.
fn parse_loopback_url(url: &str) -> Result<(SocketAddr, String), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| format!("{url}: only http:// URLs are supported"))?;
    let authority = rest.trim_end_matches('/');
    if authority.contains('/') || authority.contains('@') || authority.is_empty() {
        return Err(format!("{url}: expected http://HOST:PORT"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, p) = v6
            .split_once("]:")
            .ok_or_else(|| format!("{url}: expected http://[::1]:PORT"))?;
        (h, p)
    } else {
        authority
            .rsplit_once(':')
            .ok_or_else(|| format!("{url}: the port is required"))?
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("{url}: bad port {port:?}"))?;
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.parse()
            .map_err(|_| format!("{url}: {host:?} is not an IP address or localhost"))?
    };
    if !ip.is_loopback() {
        return Err(format!(
            "{url}: refusing a non-loopback address (todo-load only drives local servers)"
        ));
    }
    Ok((SocketAddr::new(ip, port), authority.to_owned()))
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    sub: &'a str,
    exp: u64,
    iat: u64,
}

fn sign_token(secret: &str, user: &str) -> Result<String, String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_secs();
    let claims = Claims {
        sub: user,
        exp: now + 3600,
        iat: now,
    };
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .map_err(|e| format!("signing a token: {e}"))
}

async fn mint_token(bin: &PathBuf, user: &str) -> Result<String, String> {
    let out = tokio::process::Command::new(bin)
        .args(["token", "--user", user, "--ttl", "2h"])
        .env("RUST_LOG", "error")
        .output()
        .await
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} token --user {user}: {}",
            bin.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let token = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if token.is_empty() {
        return Err(format!("{} token printed nothing", bin.display()));
    }
    Ok(token)
}

/// One HTTP/1.1 connection, re-established when the server closes it.
struct Conn {
    addr: SocketAddr,
    host: String,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn {
    fn new(s: &Settings) -> Self {
        Conn {
            addr: s.addr,
            host: s.host.clone(),
            sender: None,
        }
    }

    async fn connect(&mut self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// Sends one request; the status and the body, or a transport error.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<(StatusCode, Bytes), String> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        if sender.ready().await.is_err() {
            sender = self.connect().await?;
        }
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.host);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(b))
            }
            None => Full::new(Bytes::new()),
        };
        let req = req.body(body).map_err(|e| e.to_string())?;
        let res = sender
            .send_request(req)
            .await
            .map_err(|e| format!("request: {e}"))?;
        let status = res.status();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| format!("response body: {e}"))?
            .to_bytes();
        self.sender = Some(sender);
        Ok((status, body))
    }
}

/// A small xorshift generator (no need for cryptographic randomness here).
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap_or(0)
    }
}

fn create_body(rng: &mut Rng, n: u64) -> Vec<u8> {
    let w1 = WORDS[rng.below(WORDS.len())];
    let w2 = WORDS[rng.below(WORDS.len())];
    let p = PRIORITIES[rng.below(PRIORITIES.len())];
    json!({
        "title": format!("Load {w1} task {n}"),
        "description": format!("Created by todo-load: {w2} notes for item {n}"),
        "priority": p,
    })
    .to_string()
    .into_bytes()
}

/// Creates `seed` tasks per user, `connections` at a time; keeps their ids.
async fn seed_tasks(s: &Arc<Settings>) -> Result<(), String> {
    let total = s.users.len() * s.seed;
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(Mutex::new(None::<String>));
    let started = Instant::now();
    eprintln!(
        "todo-load: seeding {} task(s) for each of {} user(s)...",
        s.seed,
        s.users.len()
    );
    let mut workers = Vec::new();
    for w in 0..s.connections.min(total) {
        let (s, next, failed) = (s.clone(), next.clone(), failed.clone());
        workers.push(tokio::spawn(async move {
            let mut conn = Conn::new(&s);
            let mut rng = Rng::new(w as u64 + 7);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total || failed.lock().map(|f| f.is_some()).unwrap_or(true) {
                    return;
                }
                let user = &s.users[i % s.users.len()];
                let path = format!("/api/v1/{}/tasks", user.id);
                let body = create_body(&mut rng, i as u64);
                let res = conn
                    .send(Method::POST, &path, Some(&user.token), Some(body))
                    .await;
                let err = match res {
                    Ok((st, b)) if st.is_success() => {
                        match serde_json::from_slice::<Value>(&b)
                            .ok()
                            .and_then(|v| v.get("id").and_then(Value::as_i64))
                        {
                            Some(id) => {
                                if let Ok(mut t) = user.tasks.lock() {
                                    t.push(id);
                                }
                                None
                            }
                            None => Some(format!("created task without an id: {st}")),
                        }
                    }
                    Ok((st, b)) => Some(format!(
                        "POST {path} -> {st}: {}",
                        String::from_utf8_lossy(&b[..b.len().min(300)])
                    )),
                    Err(e) => Some(format!("POST {path}: {e}")),
                };
                if let Some(e) = err {
                    if let Ok(mut f) = failed.lock() {
                        f.get_or_insert(e);
                    }
                    return;
                }
            }
        }));
    }
    for w in workers {
        w.await.map_err(|e| e.to_string())?;
    }
    if let Some(e) = failed.lock().ok().and_then(|mut f| f.take()) {
        return Err(format!("seeding failed: {e}"));
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "todo-load: seeded {total} task(s) in {secs:.1} s ({:.0}/s)",
        total as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// What one worker measured.
#[derive(Default)]
struct Stats {
    /// Latencies in microseconds of the successful requests, per op.
    lat: [Vec<u32>; 5],
    /// Failed requests by status ("404", "io", "timeout"), per op.
    errors: [BTreeMap<String, u64>; 5],
}

struct Outcome {
    stats: Stats,
    elapsed: Duration,
}

async fn measure(s: &Arc<Settings>) -> Outcome {
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(s.warmup.is_zero()));
    let done = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let issued = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for w in 0..s.connections {
        let s = s.clone();
        let (stop, measuring, done, errors, issued) = (
            stop.clone(),
            measuring.clone(),
            done.clone(),
            errors.clone(),
            issued.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut conn = Conn::new(&s);
            let mut rng = Rng::new(w as u64 * 7919 + 1);
            let mut stats = Stats::default();
            let weight: u32 = s.ops.iter().map(|(_, w)| w).sum();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let recording = measuring.load(Ordering::Relaxed);
                if recording
                    && let Some(limit) = s.requests
                    && issued.fetch_add(1, Ordering::Relaxed) >= limit
                {
                    break;
                }
                let mut pick = u32::try_from(rng.below(weight as usize)).unwrap_or(0);
                let mut op = s.ops[0].0;
                for (o, wt) in &s.ops {
                    if pick < *wt {
                        op = *o;
                        break;
                    }
                    pick -= wt;
                }
                let user = &s.users[rng.below(s.users.len())];
                n += 1;
                let (method, path, body) = match op {
                    Op::Create => (
                        Method::POST,
                        format!("/api/v1/{}/tasks", user.id),
                        Some(create_body(&mut rng, (w as u64) << 40 | n)),
                    ),
                    Op::Update | Op::Complete => {
                        let id = user
                            .tasks
                            .lock()
                            .ok()
                            .and_then(|t| t.get(rng.below(t.len())).copied())
                            .unwrap_or(1);
                        if op == Op::Update {
                            let w1 = WORDS[rng.below(WORDS.len())];
                            let body = json!({
                                "title": format!("Updated {w1} task {n}"),
                                "priority": PRIORITIES[rng.below(PRIORITIES.len())],
                            });
                            (
                                Method::PUT,
                                format!("/api/v1/{}/tasks/{id}", user.id),
                                Some(body.to_string().into_bytes()),
                            )
                        } else {
                            (
                                Method::PATCH,
                                format!("/api/v1/{}/tasks/{id}/complete", user.id),
                                None,
                            )
                        }
                    }
                    Op::List => (Method::GET, format!("/api/v1/{}/tasks", user.id), None),
                    Op::Search => (
                        Method::GET,
                        format!(
                            "/api/v1/{}/tasks?search={}",
                            user.id,
                            WORDS[rng.below(WORDS.len())]
                        ),
                        None,
                    ),
                };
                let t0 = Instant::now();
                let res = tokio::time::timeout(
                    REQUEST_TIMEOUT,
                    conn.send(method, &path, Some(&user.token), body),
                )
                .await;
                let micros = u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX);
                let err = match res {
                    Ok(Ok((st, _))) if st.is_success() => None,
                    Ok(Ok((st, _))) => Some(st.as_u16().to_string()),
                    Ok(Err(_)) => Some("io".to_owned()),
                    Err(_) => {
                        conn.sender = None;
                        Some("timeout".to_owned())
                    }
                };
                if !recording {
                    continue;
                }
                done.fetch_add(1, Ordering::Relaxed);
                match err {
                    None => stats.lat[op as usize].push(micros),
                    Some(e) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        *stats.errors[op as usize].entry(e).or_default() += 1;
                    }
                }
            }
            (stats, Instant::now())
        }));
    }

    // Warm-up, then the measured window with a progress line every second.
    if !s.warmup.is_zero() {
        eprintln!("todo-load: warming up for {:.1} s", s.warmup.as_secs_f64());
        tokio::time::sleep(s.warmup).await;
        measuring.store(true, Ordering::Relaxed);
    }
    let started = Instant::now();
    let mut next_print = started + Duration::from_secs(1);
    let mut last = 0u64;
    loop {
        let now = Instant::now();
        if now >= started + s.duration || workers.iter().all(|w| w.is_finished()) {
            break;
        }
        if now >= next_print {
            let d = done.load(Ordering::Relaxed);
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "todo-load: [{secs:5.1} s] {d} requests, {:.0}/s overall, {}/s last second, {} errors",
                d as f64 / secs.max(1e-9),
                d - last,
                errors.load(Ordering::Relaxed)
            );
            last = d;
            next_print += Duration::from_secs(1);
        }
        let wake = next_print.min(started + s.duration);
        tokio::time::sleep(
            wake.saturating_duration_since(now)
                .min(Duration::from_millis(20)),
        )
        .await;
    }
    stop.store(true, Ordering::Relaxed);
    let mut total = Stats::default();
    let mut finished = started;
    for w in workers {
        if let Ok((st, at)) = w.await {
            finished = finished.max(at);
            for i in 0..OPS.len() {
                total.lat[i].extend_from_slice(&st.lat[i]);
                for (k, v) in &st.errors[i] {
                    *total.errors[i].entry(k.clone()).or_default() += v;
                }
            }
        }
    }
    for l in &mut total.lat {
        l.sort_unstable();
    }
    // The last measured request ended when the last worker did.
    Outcome {
        stats: total,
        elapsed: finished.saturating_duration_since(started),
    }
}

/// One operation's summary.
struct Summary {
    op: &'static str,
    ok: u64,
    errors: u64,
    per_s: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    max: f64,
    by_status: BTreeMap<String, u64>,
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

fn summaries(o: &Outcome) -> Vec<Summary> {
    let secs = o.elapsed.as_secs_f64().max(1e-9);
    OPS.iter()
        .enumerate()
        .filter_map(|(i, op)| {
            let lat = &o.stats.lat[i];
            let errors: u64 = o.stats.errors[i].values().sum();
            let ok = lat.len() as u64;
            (ok + errors > 0).then(|| Summary {
                op: op.name(),
                ok,
                errors,
                per_s: ok as f64 / secs,
                p50: percentile(lat, 0.50),
                p95: percentile(lat, 0.95),
                p99: percentile(lat, 0.99),
                max: percentile(lat, 1.0),
                by_status: o.stats.errors[i].clone(),
            })
        })
        .collect()
}

fn report_text(cli: &Cli, s: &Settings, o: &Outcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "todo-load: {} connection(s), {} user(s), {} seeded task(s) each, {:.1} s measured",
        s.connections,
        s.users.len(),
        s.seed,
        o.elapsed.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "{:<9} {:>9} {:>10} {:>8} {:>8} {:>8} {:>8} {:>7}  errors by status",
        "op", "ok", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors"
    );
    for m in summaries(o) {
        let by: Vec<String> = m
            .by_status
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        let _ = writeln!(
            out,
            "{:<9} {:>9} {:>10.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>7}  {}",
            m.op,
            m.ok,
            m.per_s,
            m.p50,
            m.p95,
            m.p99,
            m.max,
            m.errors,
            by.join(", ")
        );
    }
    let _ = cli;
    out
}

fn report_json(cli: &Cli, s: &Settings, o: &Outcome) -> String {
    let ops: serde_json::Map<String, Value> = summaries(o)
        .into_iter()
        .map(|m| {
            (
                m.op.to_owned(),
                json!({
                    "ok": m.ok,
                    "errors": m.errors,
                    "per_s": (m.per_s * 10.0).round() / 10.0,
                    "p50_ms": m.p50,
                    "p95_ms": m.p95,
                    "p99_ms": m.p99,
                    "max_ms": m.max,
                    "errors_by_status": m.by_status,
                }),
            )
        })
        .collect();
    json!({
        "url": cli.url,
        "op": format!("{:?}", cli.op).to_lowercase(),
        "connections": s.connections,
        "users": s.users.len(),
        "seed_tasks": s.seed,
        "seconds": (o.elapsed.as_secs_f64() * 1000.0).round() / 1000.0,
        "ops": ops,
    })
    .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        assert_eq!(
            parse_loopback_url("http://127.0.0.1:8080").unwrap().0,
            "127.0.0.1:8080".parse().unwrap()
        );
        assert!(parse_loopback_url("http://localhost:1/").is_ok());
        assert!(parse_loopback_url("http://[::1]:8080").is_ok());
        for bad in [
            "http://10.0.0.1:8080",
            "http://example.com:80",
            "https://127.0.0.1:8080",
            "http://127.0.0.1",
            "http://127.0.0.1:8080/api",
            "http://0.0.0.0:8080",
        ] {
            assert!(parse_loopback_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let v: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert!((percentile(&v, 0.5) - 50.0).abs() < 1e-9);
        assert!((percentile(&v, 0.95) - 95.0).abs() < 1e-9);
        assert!((percentile(&v, 1.0) - 100.0).abs() < 1e-9);
        assert!(percentile(&[], 0.5).abs() < 1e-9);
    }
}
