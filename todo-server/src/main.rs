//! `todo-server`: runs the server (the default), or prints a token for a user.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use clap::{Parser, Subcommand};
use todo_core::ports::{ConversationStore, IdempotencyStore, Store};
use todo_core::service::TaskService;
use todo_events::dapr::Sidecar;
use todo_server::bus::EventBus;
use todo_server::config::{Config, DaprSettings, Database};
use todo_server::dapr::DaprInbound;
use todo_server::http::{self, AppState, AuthConfig, Metrics};
use todo_server::kafka::KafkaRelay;
use todo_server::storage::{PgRelayLease, PgStore, RelayLease, SoleRelay, SqliteStore};
use todo_server::system::{RandomIds, SystemClock};
use tokio::sync::{Notify, watch};

#[derive(Parser)]
#[command(
    version,
    about = "The todo server. Configuration comes from the environment (see README)."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (what happens without a command).
    Serve,
    /// Print a JWT for a user, signed with the configured secret.
    Token {
        /// The user id (the token's `sub`).
        #[arg(long)]
        user: String,
        /// How long the token is valid, e.g. 30m, 24h, 7d.
        #[arg(long, default_value = "24h")]
        ttl: humantime::Duration,
    },
    /// Inspect the event outbox.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// List the parked (dead-lettered) events, oldest first, one JSON object a line: what the
    /// relay refused to publish for good, and why (without the payload).
    Parked {
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let (sidecar, config) = match configure().await {
        Ok(c) => c,
        Err(e) => {
            eprintln!("todo-server: configuration: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Serve) {
        Command::Token { user, ttl } => token(&config, &user, ttl.into()),
        Command::Serve => serve(config, sidecar).await,
        Command::Outbox {
            command: OutboxCommand::Parked { limit },
        } => list_parked(&config, limit).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("todo-server: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long in-flight requests may take after SIGTERM/SIGINT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(15);

/// The configuration from the environment, with `TODO_JWT_SECRET` and `DATABASE_URL` from the
/// Dapr secret store when one is configured (then the sidecar is connected already).
async fn configure() -> Result<(Option<Sidecar>, Config), BoxError> {
    let env = |k: &str| std::env::var(k).ok();
    let Some(dapr) = DaprSettings::from_vars(env)?.filter(|d| d.secret_store.is_some()) else {
        return Ok((None, Config::from_vars(env)?));
    };
    let sidecar = todo_server::dapr::connect(&dapr).await?;
    let secrets = todo_server::dapr::secret_overlay(&sidecar, &dapr).await?;
    tracing::info!(
        keys = ?secrets.keys().collect::<Vec<_>>(),
        store = dapr.secret_store.as_deref().unwrap_or_default(),
        "read secrets from the Dapr secret store"
    );
    let config = Config::from_vars(|k| secrets.get(k).cloned().or_else(|| env(k)))?;
    Ok((Some(sidecar), config))
}

fn token(config: &Config, user: &str, ttl: Duration) -> Result<(), BoxError> {
    let user = todo_core::ids::UserId::parse(user)?;
    let token = http::issue_token(config.jwt_secret.as_bytes(), &user, ttl)?;
    println!("{token}");
    Ok(())
}

/// `todo-server outbox parked`: the parked events of the configured database.
async fn list_parked(config: &Config, limit: u32) -> Result<(), BoxError> {
    let parked = match &config.database {
        Database::Sqlite(path) => {
            let url = format!("sqlite://{}", path.display());
            SqliteStore::connect(&url)
                .await?
                .parked_events(limit)
                .await?
        }
        Database::Postgres(url) => PgStore::connect(url).await?.parked_events(limit).await?,
    };
    for p in parked {
        let line = serde_json::json!({
            "seq": p.seq,
            "event_id": p.event_id.get().to_string(),
            "user_id": p.user_id.as_str(),
            "event_type": p.event_type,
            "occurred_at": p.occurred_at.to_rfc3339(),
            "parked_at": p.parked_at.to_rfc3339(),
            "reason": p.reason,
        });
        println!("{line}");
    }
    Ok(())
}

fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

async fn serve(config: Config, sidecar: Option<Sidecar>) -> Result<(), BoxError> {
    let sidecar = match (&config.dapr, sidecar) {
        (Some(_), Some(s)) => Some(s),
        (Some(d), None) => Some(
            todo_server::dapr::connect(d)
                .await
                .map_err(|e| format!("Dapr: {e}"))?,
        ),
        (None, _) => None,
    };
    match config.database.clone() {
        Database::Sqlite(path) => {
            todo_server::config::prepare_sqlite_file(&path)
                .map_err(|e| format!("SQLite file {}: {e}", path.display()))?;
            let url = format!("sqlite://{}", path.display());
            run(
                SqliteStore::connect(&url).await?,
                SoleRelay,
                config,
                sidecar,
            )
            .await
        }
        Database::Postgres(url) => {
            let lease = PgRelayLease::new(&url)?;
            let store = PgStore::connect(&url)
                .await
                .map_err(|e| format!("{}: {e}", config.database.describe()))?;
            run(store, lease, config, sidecar).await
        }
    }
}

async fn run<
    S: Store + ConversationStore + IdempotencyStore + Clone + 'static,
    L: RelayLease + 'static,
>(
    store: S,
    lease: L,
    config: Config,
    sidecar: Option<Sidecar>,
) -> Result<(), BoxError> {
    let bus = EventBus::new().with_max_event_bytes(config.event_max_bytes);
    let metrics = Metrics::new();
    metrics.register_bus(&bus)?;
    let (stop_tx, _) = watch::channel(false);
    let stopped = {
        let stop_tx = stop_tx.clone();
        move || {
            let mut stop = stop_tx.subscribe();
            async move {
                let _ = stop.wait_for(|s| *s).await;
            }
        }
    };
    let service = Arc::new(
        TaskService::new(store.clone(), SystemClock, RandomIds).with_quotas(config.quotas),
    );
    let interval = Duration::from_millis(200);
    let mut tasks = Vec::new();
    match (&config.kafka, &config.dapr, &sidecar) {
        (None, Some(dapr), Some(sidecar)) => tasks.push(tokio::spawn(
            bus.clone().run(
                store,
                todo_server::dapr::publisher(sidecar, dapr)
                    .with_max_event_bytes(config.event_max_bytes),
                lease,
                interval,
                stopped(),
            ),
        )),
        (None, _, _) => tasks.push(tokio::spawn(bus.clone().run(
            store,
            bus.clone(),
            lease,
            interval,
            stopped(),
        ))),
        (Some(kafka), _, _) => {
            let relay = KafkaRelay::connect(kafka)
                .await
                .map_err(|e| format!("Kafka at {}: {e}", kafka.brokers))?
                .with_max_event_bytes(config.event_max_bytes);
            tasks.push(tokio::spawn(bus.clone().run(
                store,
                relay,
                lease,
                interval,
                stopped(),
            )));
            let consumers = todo_server::kafka::spawn_consumers(kafka, &service, &bus, &stopped)?;
            metrics.register(Box::new(consumers.metrics))?;
            tasks.extend(consumers.tasks);
        }
    }
    let mut state = AppState::new(service, AuthConfig::new(config.jwt_secret.as_bytes()))
        .with_body_limit(config.body_limit)
        .with_idempotency_ttl(config.idempotency_ttl)
        .with_rate_limit(config.rate_limit_per_min)
        .with_request_timeout(config.limits.request_timeout)
        .with_features(config.features);
    if config.features.realtime {
        state = state.with_realtime(
            http::realtime::Realtime::new(bus.clone()).with_stream_limits(
                http::realtime::StreamLimits {
                    per_user: config.limits.max_streams_per_user,
                    total: config.limits.max_streams,
                },
            ),
        );
    }
    if let Some(kafka) = &config.kafka {
        state = state.with_kafka_probe(todo_events::kafka::BrokerProbe::new(
            &todo_server::kafka::kafka_config(kafka),
        )?);
    }
    if let (Some(dapr), Some(sidecar)) = (&config.dapr, &sidecar) {
        state = state.with_dapr(DaprInbound::new(sidecar, dapr, &bus, &metrics)?);
    }
    let state = state.with_metrics(metrics);
    tasks.push(tokio::spawn(http::idempotency::prune_keys(
        state.service.store().clone(),
        config.idempotency_ttl,
        stopped(),
    )));
    tasks.push(tokio::spawn(todo_server::bus::prune_outbox(
        state.service.store().clone(),
        config.event_retention,
        stopped(),
    )));
    // Reminders: the embedded scheduler; when events flow through Dapr pub/sub, Dapr's jobs
    // fire them and the scheduler is only the backstop for what the jobs missed.
    let reminders = Arc::new(Notify::new());
    let grace = match (&config.kafka, &config.dapr) {
        (None, Some(_)) => todo_server::reminders::BACKSTOP_GRACE,
        _ => Duration::ZERO,
    };
    if config.features.reminders {
        tasks.push(tokio::spawn(todo_server::reminders::run_scheduler(
            Arc::clone(&state.service),
            bus.clone(),
            Arc::clone(&reminders),
            grace,
            stopped(),
        )));
    }
    let wake = (bus.clone(), reminders);
    let realtime = state.realtime.clone();
    let mut routes = http::routes();
    if config.dev_token {
        // Opted in on the embedded default (its own generated secret, a loopback address): the
        // page's "get a dev token" button, for loopback callers that are not proxied only.
        routes = routes.merge(http::web::dev_token_router(
            config.jwt_secret.as_bytes().to_vec(),
        ));
    }
    let app: Router =
        http::finish(routes, state).layer(middleware::from_fn(move |req: Request, next: Next| {
            let wake = wake.clone();
            async move { wake_after_mutation(wake, req, next).await }
        }));
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    print_banner(&config, addr);
    let mut stopping = stop_tx.subscribe();
    // Connection cap, header-read and idle timeouts; the peer address for the Dapr routes and
    // the dev token.
    let serve = todo_server::serve::serve(listener, app, config.limits, async move {
        shutdown_signal().await;
        // Open WebSockets and event streams would hold the graceful shutdown forever.
        if let Some(rt) = &realtime {
            rt.shutdown();
        }
        let _ = stop_tx.send(true);
    });
    // A client that stopped reading keeps its response open: in-flight requests get
    // SHUTDOWN_GRACE after the signal, then the server stops anyway.
    tokio::select! {
        () = serve => {}
        () = async {
            let _ = stopping.wait_for(|s| *s).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => tracing::warn!("shutdown: connections still open after {SHUTDOWN_GRACE:?}; closed"),
    }
    for task in tasks {
        let _ = task.await;
    }
    tracing::info!("stopped; undelivered events stay in the outbox");
    Ok(())
}

/// Wakes the event bus and the reminder scheduler after a request that may have committed a
/// change.
async fn wake_after_mutation(
    (bus, reminders): (EventBus, Arc<Notify>),
    req: Request,
    next: Next,
) -> Response {
    let mutating = !req.method().is_safe();
    let res = next.run(req).await;
    if mutating {
        bus.wake();
        reminders.notify_one();
    }
    res
}

fn print_banner(config: &Config, addr: std::net::SocketAddr) {
    let db = match &config.database {
        Database::Sqlite(p) => format!("SQLite file {}", p.display()),
        Database::Postgres(_) => "PostgreSQL".to_owned(),
    };
    println!("todo-server listening on http://{addr} ({db})");
    match (&config.kafka, &config.dapr) {
        (Some(k), _) => println!("events: Kafka at {}", k.brokers),
        (None, Some(d)) => println!("events: Dapr pub/sub {} at {}", d.pubsub, d.endpoint),
        (None, None) => println!(
            "events: in-process bus (set KAFKA_BROKERS for Kafka, DAPR_GRPC_PORT for Dapr)"
        ),
    }
    if let Some(d) = &config.dapr {
        println!(
            "dapr: sidecar {}, conversations in state store {}, job callbacks at /job/{{name}}",
            d.endpoint, d.state_store
        );
    }
    if let Some(f) = &config.secret_file {
        println!("JWT secret generated and kept in {}", f.display());
    }
    println!("get a token:   cargo run -p todo-server -- token --user alice");
    println!(
        "then:          curl -H \"Authorization: Bearer $TOKEN\" http://{addr}/api/v1/alice/tasks"
    );
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}
