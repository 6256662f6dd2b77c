//! Configuration from the environment (the contract's variables), with the embedded default
//! needing none of them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (the embedded default).
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl Database {
    /// Where the data lives, for messages: the SQLite file, or PostgreSQL's host, database and
    /// `sslmode` (never the user's password).
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(path) => format!("SQLite file {}", path.display()),
            Database::Postgres(url) => {
                let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
                let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
                let location = location.rsplit_once('@').map_or(location, |(_, l)| l);
                let sslmode = query
                    .split('&')
                    .find_map(|kv| kv.strip_prefix("sslmode="))
                    .unwrap_or("prefer");
                format!("PostgreSQL at {location} (sslmode={sslmode})")
            }
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("{var}: {reason}")]
    Invalid {
        /// The variable.
        var: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A variable that this setup needs is not set.
    #[error("{var} must be set: {why}")]
    Missing {
        /// The variable.
        var: &'static str,
        /// Why it is needed.
        why: &'static str,
    },
    /// A secret store is configured but neither it nor the environment holds this key.
    #[error(
        "{key} is not in the Dapr secret store {store:?} (DAPR_SECRET_NAME) nor in the \
         environment: with a secret store, the server does not fall back to defaults"
    )]
    MissingSecret {
        /// The key (`DATABASE_URL` or `TODO_JWT_SECRET`).
        key: &'static str,
        /// The secret store.
        store: String,
    },
    /// The generated secret of the embedded default could not be read or written.
    #[error("JWT secret file {path}: {source}")]
    SecretFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The server's configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TODO_ADDR`, default `127.0.0.1:8080`.
    pub addr: SocketAddr,
    /// `DATABASE_URL`, default the SQLite file `todo.db` in the working directory.
    pub database: Database,
    /// `TODO_JWT_SECRET`; the embedded default generates one and keeps it beside its database.
    pub jwt_secret: String,
    /// `TODO_BODY_LIMIT` in bytes, default 64 KiB.
    pub body_limit: usize,
    /// Where the generated secret is kept, when it was generated (for the start-up message).
    pub secret_file: Option<PathBuf>,
    /// `TODO_RATE_LIMIT_PER_MIN`: requests per minute and user on `/api/...`, default 100;
    /// 0 turns the limit off.
    pub rate_limit_per_min: u32,
    /// `KAFKA_BROKERS` and its companions: events go to Kafka instead of the in-process bus.
    pub kafka: Option<KafkaSettings>,
    /// `DAPR_GRPC_PORT` (or `DAPR_GRPC_ENDPOINT`) and companions: the Dapr adapters.
    pub dapr: Option<DaprSettings>,
    /// `TODO_FEATURE_*`: parts of the platform that can be switched off.
    pub features: Features,
    /// `TODO_EVENT_RETENTION` (default 24 h, e.g. `7d`): how long delivered events stay in the
    /// outbox, from which real-time clients resume.
    pub event_retention: std::time::Duration,
    /// `TODO_IDEMPOTENCY_TTL` (default 24 h, e.g. `48h`): how long an `Idempotency-Key` and the
    /// answer stored with it are kept (a retry within it gets the first answer again).
    pub idempotency_ttl: std::time::Duration,
    /// `TODO_EVENT_MAX_BYTES` (default 900 KiB, [`todo_core::ports::DEFAULT_MAX_EVENT_BYTES`],
    /// at least 1024): the largest encoded event the relay publishes; a larger one is parked in
    /// the outbox (dead-lettered) and the events after it go on.
    pub event_max_bytes: usize,
    /// `TODO_DEV_TOKEN` (default off): the page's "Get a dev token" route (`POST /dev/token`).
    /// Only with the embedded default's generated secret on a loopback address; the route also
    /// refuses proxied requests.
    pub dev_token: bool,
    /// Connection and time limits of the HTTP server (`TODO_HEADER_TIMEOUT`,
    /// `TODO_REQUEST_TIMEOUT`, `TODO_MAX_CONNECTIONS`, ...).
    pub limits: Limits,
    /// Per-user quotas (`TODO_QUOTA_TASKS` 10,000, `TODO_QUOTA_TAGS` 500,
    /// `TODO_QUOTA_CONVERSATIONS` 1,000, `TODO_QUOTA_ACTIVITY` 100,000 entries kept,
    /// `TODO_QUOTA_REMINDER_HISTORY` 20 sent or cancelled reminders kept per task; 0 =
    /// unlimited): see `todo_core::quota`.
    pub quotas: todo_core::quota::Quotas,
}

/// How much of the server one client can hold, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `TODO_HEADER_TIMEOUT` (default 10 s): a connection whose request head has not arrived
    /// completely within this time is closed (slowloris), and so is a kept-alive connection
    /// that waits this long for its next request.
    pub header_timeout: std::time::Duration,
    /// `TODO_REQUEST_TIMEOUT` (default 30 s): a request (reading its body and answering it) that
    /// takes longer gets 503 `UNAVAILABLE`; WebSocket and SSE streams are not cut by it.
    pub request_timeout: std::time::Duration,
    /// `TODO_MAX_CONNECTIONS` (default 10,000): open TCP connections; more wait in the kernel's
    /// backlog until one closes.
    pub max_connections: usize,
    /// `TODO_MAX_STREAMS_PER_USER` (default 10): open WebSocket + SSE streams per user; one more
    /// gets 429 `RATE_LIMITED`.
    pub max_streams_per_user: usize,
    /// `TODO_MAX_STREAMS` (default 5,000): open WebSocket + SSE streams in all; one more gets
    /// 503 `UNAVAILABLE`.
    pub max_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_timeout: std::time::Duration::from_secs(10),
            request_timeout: std::time::Duration::from_secs(30),
            max_connections: 10_000,
            max_streams_per_user: 10,
            max_streams: 5_000,
        }
    }
}

/// The parts of the platform a deployment can switch off (`TODO_FEATURE_<NAME>=false`; each is
/// on by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    /// `TODO_FEATURE_REMINDERS`: off, no reminder fires (no scheduler, Dapr job callbacks are
    /// refused) and `POST`/`DELETE /tasks/{id}/reminder` answer 404.
    pub reminders: bool,
    /// `TODO_FEATURE_REALTIME`: off, the WebSocket and SSE routes answer 503.
    pub realtime: bool,
    /// `TODO_FEATURE_RECURRING`: off, a task cannot be made recurring (400 on
    /// `recurrence_pattern`/`rrule`); existing recurring tasks keep their series.
    pub recurring: bool,
}

impl Default for Features {
    fn default() -> Self {
        Features {
            reminders: true,
            realtime: true,
            recurring: true,
        }
    }
}

/// The Dapr adapters' settings (`DAPR_*`). The sidecar's injector sets `DAPR_GRPC_PORT` and
/// `DAPR_HTTP_PORT`; the names of the components default to the ones in `dapr/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaprSettings {
    /// `DAPR_GRPC_ENDPOINT` (`http://host:port`), else `http://127.0.0.1:$DAPR_GRPC_PORT`.
    pub endpoint: String,
    /// `DAPR_API_TOKEN`: sent to the sidecar, when it requires one.
    pub api_token: Option<String>,
    /// `APP_API_TOKEN`: what the sidecar sends with its calls to this app (`dapr-api-token`
    /// header), required on the Dapr routes when set.
    pub app_api_token: Option<String>,
    /// `DAPR_PUBSUB_NAME` (default `kafka-pubsub`): the pub/sub component events go through
    /// (when `KAFKA_BROKERS` is not set) and the consumers' subscriptions are on.
    pub pubsub: String,
    /// `DAPR_FANOUT_PUBSUB_NAME` (default: `DAPR_PUBSUB_NAME`): the pub/sub component of the
    /// real-time fan-out's subscriptions (`task-updates`, `reminders`); in a deployment, one
    /// whose consumer group is the pod's own, so that every replica gets every event.
    pub fanout_pubsub: String,
    /// `DAPR_STATE_STORE` (default `conversation-state`): the state store of conversations.
    pub state_store: String,
    /// `DAPR_SECRET_STORE` (default: none): read `TODO_JWT_SECRET` and `DATABASE_URL` from the
    /// secret `DAPR_SECRET_NAME` of this secret store at start.
    pub secret_store: Option<String>,
    /// `DAPR_SECRET_NAME` (default `todo-secrets`).
    pub secret_name: String,
    /// `DAPR_WAIT_SECS` (default 60): how long the start waits for the sidecar.
    pub wait: std::time::Duration,
}

impl DaprSettings {
    /// The Dapr settings alone (they are needed before the rest: the secret store may hold
    /// some of the other variables).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, ConfigError> {
        let get = |k: &str| {
            var(k)
                .filter(|v| !v.trim().is_empty())
                .map(|v| v.trim().to_owned())
        };
        let endpoint = match (get("DAPR_GRPC_ENDPOINT"), get("DAPR_GRPC_PORT")) {
            // Plaintext only: the sidecar is in the pod (TLS to a remote sidecar is not built in).
            (Some(e), _) if e.starts_with("http://") => e,
            (Some(e), _) => {
                return Err(ConfigError::Invalid {
                    var: "DAPR_GRPC_ENDPOINT",
                    reason: format!(
                        "{e:?}: only http://host:port (the sidecar in the pod) is supported; TLS endpoints are not"
                    ),
                });
            }
            (None, Some(p)) => {
                let port: u16 = p.parse().map_err(|_| ConfigError::Invalid {
                    var: "DAPR_GRPC_PORT",
                    reason: format!("{p:?} is not a port number"),
                })?;
                format!("http://127.0.0.1:{port}")
            }
            (None, None) if get("DAPR_HTTP_PORT").is_some() => {
                return Err(ConfigError::Missing {
                    var: "DAPR_GRPC_PORT",
                    why: "the Dapr adapters use the sidecar's gRPC API (DAPR_HTTP_PORT alone is not enough)",
                });
            }
            (None, None) => return Ok(None),
        };
        let pubsub = get("DAPR_PUBSUB_NAME").unwrap_or_else(|| "kafka-pubsub".to_owned());
        Ok(Some(DaprSettings {
            endpoint,
            api_token: get("DAPR_API_TOKEN"),
            app_api_token: get("APP_API_TOKEN"),
            fanout_pubsub: get("DAPR_FANOUT_PUBSUB_NAME").unwrap_or_else(|| pubsub.clone()),
            pubsub,
            state_store: get("DAPR_STATE_STORE").unwrap_or_else(|| "conversation-state".to_owned()),
            secret_store: get("DAPR_SECRET_STORE"),
            secret_name: get("DAPR_SECRET_NAME").unwrap_or_else(|| "todo-secrets".to_owned()),
            wait: std::time::Duration::from_secs(
                positive(
                    &|k: &str| var(k).filter(|v| !v.trim().is_empty()),
                    "DAPR_WAIT_SECS",
                )?
                .unwrap_or(60),
            ),
        }))
    }
}

/// The Kafka adapter's settings (`KAFKA_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSettings {
    /// `KAFKA_BROKERS`: `host:port[,host:port...]`.
    pub brokers: String,
    /// `KAFKA_TOPIC_PREFIX` (default empty): put before every topic and consumer group name, to
    /// share a cluster between installations (and tests).
    pub topic_prefix: String,
    /// `KAFKA_PARTITIONS` (default 3): partitions of the topics the server creates.
    pub partitions: i32,
    /// `KAFKA_REPLICATION` (default 1): replication factor of the topics the server creates.
    pub replication: i32,
    /// `KAFKA_RETENTION_MS` (default: the broker's): retention of the topics the server creates.
    pub retention_ms: Option<i64>,
}

/// The default of `TODO_RATE_LIMIT_PER_MIN`.
pub const DEFAULT_RATE_LIMIT_PER_MIN: u32 = 100;

/// The file name of the embedded default's database.
pub const DEFAULT_SQLITE_FILE: &str = "todo.db";

impl Config {
    /// Reads the configuration through `var` (the process environment in `main`, a map in tests).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let get = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        let addr = match get("TODO_ADDR") {
            Some(a) => a.trim().parse().map_err(|e| ConfigError::Invalid {
                var: "TODO_ADDR",
                reason: format!("{a:?} is not host:port ({e})"),
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
        };
        let dapr = DaprSettings::from_vars(&var)?;
        // With a secret store the deployment keeps its secrets there: a key missing from it (and
        // from the environment) stops the start instead of falling back to a local SQLite file
        // and a generated secret.
        if let Some(store) = dapr.as_ref().and_then(|d| d.secret_store.as_deref()) {
            for key in ["DATABASE_URL", "TODO_JWT_SECRET"] {
                if get(key).is_none() {
                    return Err(ConfigError::MissingSecret {
                        key,
                        store: store.to_owned(),
                    });
                }
            }
        }
        let database = match get("DATABASE_URL") {
            // Listening beyond this machine is a deployment: it names its database.
            None if !addr.ip().is_loopback() => {
                return Err(ConfigError::Missing {
                    var: "DATABASE_URL",
                    why: "the server listens beyond this machine (TODO_ADDR is not a loopback \
                          address); name the database (sqlite://FILE or postgres://...) instead \
                          of the embedded default's ./todo.db",
                });
            }
            None => Database::Sqlite(PathBuf::from(DEFAULT_SQLITE_FILE)),
            Some(u) => parse_database(u.trim())?,
        };
        let body_limit = bytes(&get, "TODO_BODY_LIMIT", 64 * 1024)?;
        let rate_limit_per_min = match get("TODO_RATE_LIMIT_PER_MIN") {
            None => DEFAULT_RATE_LIMIT_PER_MIN,
            Some(v) => v.trim().parse::<u32>().map_err(|_| ConfigError::Invalid {
                var: "TODO_RATE_LIMIT_PER_MIN",
                reason: format!("{v:?} is not a number of requests per minute (0 = off)"),
            })?,
        };
        let idempotency_ttl = duration(&get, "TODO_IDEMPOTENCY_TTL", DEFAULT_IDEMPOTENCY_TTL)?;
        let event_retention = duration(
            &get,
            "TODO_EVENT_RETENTION",
            std::time::Duration::from_secs(24 * 3600),
        )?;
        let event_max_bytes = bytes(
            &get,
            "TODO_EVENT_MAX_BYTES",
            todo_core::ports::DEFAULT_MAX_EVENT_BYTES,
        )?;
        let (jwt_secret, secret_file) = match (get("TODO_JWT_SECRET"), &database) {
            (Some(s), _) if s.len() < 32 => {
                return Err(ConfigError::Invalid {
                    var: "TODO_JWT_SECRET",
                    reason: "must be at least 32 characters".into(),
                });
            }
            (Some(s), _) => (s, None),
            (None, Database::Sqlite(_)) if !addr.ip().is_loopback() => {
                return Err(ConfigError::Missing {
                    var: "TODO_JWT_SECRET",
                    why: "the server listens beyond this machine (TODO_ADDR is not a loopback \
                          address); a generated secret is only for a local, single-machine setup",
                });
            }
            (None, Database::Sqlite(path)) => {
                let file = secret_path(path);
                (load_or_create_secret(&file)?, Some(file))
            }
            (None, Database::Postgres(_)) => {
                return Err(ConfigError::Missing {
                    var: "TODO_JWT_SECRET",
                    why: "only the embedded SQLite default generates its own secret",
                });
            }
        };
        let kafka = kafka_settings(&get)?;
        if let Some(d) = &dapr
            && d.app_api_token.is_none()
            && !flag_off_by_default(&get, "TODO_DAPR_ALLOW_NO_APP_TOKEN")?
        {
            return Err(ConfigError::Missing {
                var: "APP_API_TOKEN",
                why: "with Dapr, the sidecar's routes (/dapr/*, /job/*) must be told apart from \
                      other callers in the namespace; set TODO_DAPR_ALLOW_NO_APP_TOKEN=true only \
                      for local use (then they accept loopback callers only)",
            });
        }
        let dev_token = flag_off_by_default(&get, "TODO_DEV_TOKEN")?;
        if dev_token && (secret_file.is_none() || !addr.ip().is_loopback()) {
            return Err(ConfigError::Invalid {
                var: "TODO_DEV_TOKEN",
                reason: "dev tokens are only for the embedded default (a generated JWT secret and \
                         a loopback TODO_ADDR)"
                    .into(),
            });
        }
        let limits = limits(&get)?;
        let quotas = quotas(&get)?;
        let features = Features {
            reminders: flag(&get, "TODO_FEATURE_REMINDERS")?,
            realtime: flag(&get, "TODO_FEATURE_REALTIME")?,
            recurring: flag(&get, "TODO_FEATURE_RECURRING")?,
        };
        Ok(Config {
            addr,
            database,
            jwt_secret,
            body_limit,
            secret_file,
            rate_limit_per_min,
            kafka,
            dapr,
            features,
            event_retention,
            idempotency_ttl,
            event_max_bytes,
            dev_token,
            limits,
            quotas,
        })
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_vars(|k| std::env::var(k).ok())
    }
}

/// The default of `TODO_IDEMPOTENCY_TTL`: 24 hours.
pub const DEFAULT_IDEMPOTENCY_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

fn kafka_settings(
    get: &impl Fn(&str) -> Option<String>,
) -> Result<Option<KafkaSettings>, ConfigError> {
    let Some(brokers) = get("KAFKA_BROKERS") else {
        return Ok(None);
    };
    Ok(Some(KafkaSettings {
        brokers: brokers.trim().to_owned(),
        topic_prefix: get("KAFKA_TOPIC_PREFIX")
            .unwrap_or_default()
            .trim()
            .to_owned(),
        partitions: positive(get, "KAFKA_PARTITIONS")?.unwrap_or(3),
        replication: positive(get, "KAFKA_REPLICATION")?.unwrap_or(1),
        retention_ms: positive(get, "KAFKA_RETENTION_MS")?,
    }))
}

/// A feature switch: on unless set to `false`/`0`/`off`/`no` (`true`/`1`/`on`/`yes` are on).
fn flag(get: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<bool, ConfigError> {
    match get(var).map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        None | Some("true" | "1" | "on" | "yes") => Ok(true),
        Some("false" | "0" | "off" | "no") => Ok(false),
        Some(other) => Err(ConfigError::Invalid {
            var,
            reason: format!("{other:?} is not true or false"),
        }),
    }
}

/// A switch that is off unless set to `true`/`1`/`on`/`yes`.
fn flag_off_by_default(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<bool, ConfigError> {
    if get(var).is_none() {
        return Ok(false);
    }
    flag(get, var)
}

fn duration(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: std::time::Duration,
) -> Result<std::time::Duration, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => humantime::parse_duration(v.trim())
            .ok()
            .filter(|d| !d.is_zero())
            .ok_or_else(|| ConfigError::Invalid {
                var,
                reason: format!("{v:?} is not a duration such as 30s, 24h or 7d"),
            }),
    }
}

/// A variable holding a number of bytes >= 1024, or `default`.
fn bytes(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
    default: usize,
) -> Result<usize, ConfigError> {
    match get(var) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1024)
            .ok_or_else(|| ConfigError::Invalid {
                var,
                reason: format!("{v:?} is not a number of bytes >= 1024"),
            }),
    }
}

fn limits(get: &impl Fn(&str) -> Option<String>) -> Result<Limits, ConfigError> {
    let d = Limits::default();
    Ok(Limits {
        header_timeout: duration(get, "TODO_HEADER_TIMEOUT", d.header_timeout)?,
        request_timeout: duration(get, "TODO_REQUEST_TIMEOUT", d.request_timeout)?,
        max_connections: positive(get, "TODO_MAX_CONNECTIONS")?.unwrap_or(d.max_connections),
        max_streams_per_user: positive(get, "TODO_MAX_STREAMS_PER_USER")?
            .unwrap_or(d.max_streams_per_user),
        max_streams: positive(get, "TODO_MAX_STREAMS")?.unwrap_or(d.max_streams),
    })
}

/// The per-user quotas: each `TODO_QUOTA_*` a whole number, 0 = unlimited.
fn quotas(get: &impl Fn(&str) -> Option<String>) -> Result<todo_core::quota::Quotas, ConfigError> {
    let d = todo_core::quota::Quotas::default();
    let read = |var: &'static str, default: u64| -> Result<u64, ConfigError> {
        get(var).map_or(Ok(default), |v| {
            v.trim().parse::<u64>().map_err(|_| ConfigError::Invalid {
                var,
                reason: format!("{v:?} is not a whole number (0 = unlimited)"),
            })
        })
    };
    Ok(todo_core::quota::Quotas {
        tasks: read("TODO_QUOTA_TASKS", d.tasks)?,
        tags: read("TODO_QUOTA_TAGS", d.tags)?,
        conversations: read("TODO_QUOTA_CONVERSATIONS", d.conversations)?,
        activity_entries: read("TODO_QUOTA_ACTIVITY", d.activity_entries)?,
        reminder_history: read("TODO_QUOTA_REMINDER_HISTORY", d.reminder_history)?,
    })
}

/// A variable holding a whole number >= 1, if set.
fn positive<N: std::str::FromStr + PartialOrd + From<u8>>(
    get: &impl Fn(&str) -> Option<String>,
    var: &'static str,
) -> Result<Option<N>, ConfigError> {
    get(var)
        .map(|v| {
            v.trim()
                .parse::<N>()
                .ok()
                .filter(|n| *n >= N::from(1))
                .ok_or_else(|| ConfigError::Invalid {
                    var,
                    reason: format!("{v:?} is not a whole number >= 1"),
                })
        })
        .transpose()
}

fn parse_database(url: &str) -> Result<Database, ConfigError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Database::Postgres(url.to_owned()));
    }
    if let Some(rest) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        let path = rest.split('?').next().unwrap_or(rest);
        if path.is_empty() || path == ":memory:" {
            return Err(ConfigError::Invalid {
                var: "DATABASE_URL",
                reason: "a SQLite database must be a file (e.g. sqlite://todo.db)".into(),
            });
        }
        return Ok(Database::Sqlite(PathBuf::from(path)));
    }
    Err(ConfigError::Invalid {
        var: "DATABASE_URL",
        reason: format!("{url:?}: expected postgres://... or sqlite://FILE"),
    })
}

/// The generated secret lives beside the database: `todo.db` -> `todo.db.jwt-secret`.
fn secret_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".jwt-secret");
    db.with_file_name(name)
}

fn load_or_create_secret(file: &Path) -> Result<String, ConfigError> {
    let err = |source| ConfigError::SecretFile {
        path: file.to_owned(),
        source,
    };
    match std::fs::read_to_string(file) {
        Ok(s) if s.trim().len() >= 32 => {
            keep_private(file).map_err(err)?;
            return Ok(s.trim().to_owned());
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(err(e)),
    }
    let secret = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    write_private(file, &secret).map_err(err)?;
    Ok(secret)
}

/// Creates the embedded default's SQLite file readable by its owner only (mode 0600), before
/// SQLite opens it: SQLite gives its `-wal` and `-shm` files the database file's mode. An
/// existing file that others can read is made private too.
pub fn prepare_sqlite_file(path: &Path) -> std::io::Result<()> {
    if !path.exists() {
        write_private(path, "")?;
    }
    keep_private(path)
}

/// Takes group and other permissions away from `file` (a secret or the database).
#[cfg(unix)]
fn keep_private(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(file)?.permissions().mode();
    if mode & 0o077 != 0 {
        tracing::warn!(file = %file.display(), "was readable by others; made private (0600)");
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn keep_private(_file: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn write_private(file: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(file)?;
    f.write_all(secret.as_bytes())
}

#[cfg(not(unix))]
fn write_private(file: &Path, secret: &str) -> std::io::Result<()> {
    std::fs::write(file, secret)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn cfg(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        Config::from_vars(|k| m.get(k).cloned())
    }

    #[test]
    fn quotas_default_and_read_with_zero_as_unlimited() {
        let pg = [
            ("DATABASE_URL", "postgres://u@h/db"),
            ("TODO_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
        ];
        let d = cfg(&pg).unwrap();
        assert_eq!(d.quotas, todo_core::quota::Quotas::default());
        let mut vars = pg.to_vec();
        vars.extend([
            ("TODO_QUOTA_TASKS", " 20 "),
            ("TODO_QUOTA_TAGS", "0"),
            ("TODO_QUOTA_CONVERSATIONS", "3"),
        ]);
        let q = cfg(&vars).unwrap().quotas;
        assert_eq!((q.tasks, q.tags, q.conversations), (20, 0, 3));
        vars.push(("TODO_QUOTA_ACTIVITY", "-1"));
        let e = cfg(&vars).unwrap_err();
        assert!(e.to_string().contains("TODO_QUOTA_ACTIVITY"), "{e}");
    }

    #[test]
    fn embedded_default_generates_and_keeps_a_secret() {
        let dir = std::env::temp_dir().join(format!("todo-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("x.db");
        let url = format!("sqlite://{}", db.display());
        let a = cfg(&[("DATABASE_URL", &url)]).unwrap();
        assert_eq!(a.database, Database::Sqlite(db.clone()));
        assert_eq!(a.addr.to_string(), "127.0.0.1:8080");
        assert!(a.jwt_secret.len() >= 32);
        let b = cfg(&[("DATABASE_URL", &url)]).unwrap();
        assert_eq!(a.jwt_secret, b.jwt_secret, "kept beside the database");
        assert_eq!(b.secret_file, Some(dir.join("x.db.jwt-secret")));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn postgres_needs_a_secret_and_bad_values_are_named() {
        let e = cfg(&[("DATABASE_URL", "postgres://u@h/db")]).unwrap_err();
        assert!(matches!(
            e,
            ConfigError::Missing {
                var: "TODO_JWT_SECRET",
                ..
            }
        ));
        let ok = cfg(&[
            ("DATABASE_URL", "postgres://u@h/db"),
            ("TODO_JWT_SECRET", &"s".repeat(32)),
        ])
        .unwrap();
        assert_eq!(ok.database, Database::Postgres("postgres://u@h/db".into()));
        assert_eq!(ok.rate_limit_per_min, DEFAULT_RATE_LIMIT_PER_MIN);
        let off = cfg(&[
            ("DATABASE_URL", "postgres://u@h/db"),
            ("TODO_JWT_SECRET", &"s".repeat(32)),
            ("TODO_RATE_LIMIT_PER_MIN", " 0 "),
        ])
        .unwrap();
        assert_eq!(off.rate_limit_per_min, 0);
        assert_eq!(off.kafka, None, "no KAFKA_BROKERS: the in-process bus");
        assert_eq!(
            off.features,
            Features::default(),
            "every feature on by default"
        );
        let some = cfg(&[
            ("DATABASE_URL", "postgres://u@h/db"),
            ("TODO_JWT_SECRET", &"s".repeat(32)),
            ("TODO_FEATURE_REMINDERS", "false"),
            ("TODO_FEATURE_REALTIME", " Off "),
            ("TODO_FEATURE_RECURRING", "1"),
        ])
        .unwrap();
        assert_eq!(
            some.features,
            Features {
                reminders: false,
                realtime: false,
                recurring: true
            }
        );
        assert_eq!(some.idempotency_ttl, DEFAULT_IDEMPOTENCY_TTL);
        let ttl = cfg(&[
            ("DATABASE_URL", "postgres://u@h/db"),
            ("TODO_JWT_SECRET", &"s".repeat(32)),
            ("TODO_IDEMPOTENCY_TTL", "48h"),
        ])
        .unwrap();
        assert_eq!(
            ttl.idempotency_ttl,
            std::time::Duration::from_secs(48 * 3600)
        );
        let e = cfg(&[
            ("DATABASE_URL", "postgres://u@h/db"),
            ("TODO_JWT_SECRET", &"s".repeat(32)),
            ("TODO_FEATURE_REMINDERS", "maybe"),
        ])
        .unwrap_err();
        assert!(e.to_string().contains("TODO_FEATURE_REMINDERS"), "{e}");
        for (k, v) in [
            ("TODO_ADDR", "nope"),
            ("DATABASE_URL", "mysql://x"),
            ("DATABASE_URL", "sqlite::memory:"),
            ("TODO_BODY_LIMIT", "12"),
            ("TODO_RATE_LIMIT_PER_MIN", "-1"),
            ("TODO_RATE_LIMIT_PER_MIN", "lots"),
            ("TODO_JWT_SECRET", "short"),
            ("TODO_EVENT_RETENTION", "soon"),
            ("TODO_EVENT_RETENTION", "0s"),
            ("TODO_IDEMPOTENCY_TTL", "a day"),
            ("TODO_IDEMPOTENCY_TTL", "0s"),
            ("TODO_EVENT_MAX_BYTES", "100"),
            ("TODO_EVENT_MAX_BYTES", "1mb"),
        ] {
            let e = cfg(&[(k, v), ("DATABASE_URL", "postgres://u@h/db")]
                .iter()
                .rev()
                .copied()
                .collect::<Vec<_>>())
            .unwrap_err();
            assert!(e.to_string().contains(k), "{k}={v}: {e}");
        }
    }

    #[test]
    fn database_descriptions_never_show_the_password() {
        let d =
            Database::Postgres("postgres://app:s3cret@db.example:5432/todo?sslmode=require".into());
        assert_eq!(
            d.describe(),
            "PostgreSQL at db.example:5432/todo (sslmode=require)"
        );
        let d = Database::Postgres("postgresql://db/todo".into());
        assert_eq!(d.describe(), "PostgreSQL at db/todo (sslmode=prefer)");
    }

    #[test]
    fn fails_closed_without_secrets() {
        // Beyond loopback, no embedded default database, no generated secret.
        let e = cfg(&[
            ("TODO_ADDR", "0.0.0.0:8080"),
            ("TODO_JWT_SECRET", &"s".repeat(32)),
        ])
        .unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Missing {
                    var: "DATABASE_URL",
                    ..
                }
            ),
            "{e}"
        );
        let e = cfg(&[
            ("TODO_ADDR", "0.0.0.0:8080"),
            ("DATABASE_URL", "sqlite://x.db"),
        ])
        .unwrap_err();
        assert!(
            matches!(
                e,
                ConfigError::Missing {
                    var: "TODO_JWT_SECRET",
                    ..
                }
            ),
            "{e}"
        );
        // A secret store that lacks a key: no fallback to the SQLite file or a generated secret.
        let secret = "s".repeat(32);
        for (present, missing) in [
            (("TODO_JWT_SECRET", secret.as_str()), "DATABASE_URL"),
            (("DATABASE_URL", "postgres://u@h/db"), "TODO_JWT_SECRET"),
        ] {
            let e = cfg(&[
                ("DAPR_GRPC_PORT", "50001"),
                ("APP_API_TOKEN", "t"),
                ("DAPR_SECRET_STORE", "kubernetes-secrets"),
                present,
            ])
            .unwrap_err();
            assert!(
                matches!(&e, ConfigError::MissingSecret { key, .. } if *key == missing),
                "{e}"
            );
            assert!(e.to_string().contains("kubernetes-secrets"), "{e}");
        }
        // Dapr without the app token: refused unless allowed for local use.
        let base = [
            ("DATABASE_URL", "postgres://u@h/db"),
            ("TODO_JWT_SECRET", secret.as_str()),
            ("DAPR_GRPC_PORT", "50001"),
        ];
        let e = cfg(&base).unwrap_err();
        assert!(e.to_string().contains("APP_API_TOKEN"), "{e}");
        let mut allowed = base.to_vec();
        allowed.push(("TODO_DAPR_ALLOW_NO_APP_TOKEN", "true"));
        assert!(cfg(&allowed).is_ok());
    }

    #[test]
    fn dev_tokens_need_the_opt_in_and_the_embedded_default() {
        let dir = std::env::temp_dir().join(format!("todo-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("x.db").display());
        assert!(
            !cfg(&[("DATABASE_URL", &url)]).unwrap().dev_token,
            "off by default"
        );
        assert!(
            cfg(&[("DATABASE_URL", &url), ("TODO_DEV_TOKEN", "on")])
                .unwrap()
                .dev_token
        );
        let secret = "s".repeat(32);
        for vars in [
            vec![
                ("DATABASE_URL", url.as_str()),
                ("TODO_JWT_SECRET", secret.as_str()),
            ],
            vec![
                ("DATABASE_URL", url.as_str()),
                ("TODO_ADDR", "0.0.0.0:8080"),
                ("TODO_JWT_SECRET", secret.as_str()),
            ],
        ] {
            let mut vars = vars;
            vars.push(("TODO_DEV_TOKEN", "true"));
            let e = cfg(&vars).unwrap_err();
            assert!(e.to_string().contains("TODO_DEV_TOKEN"), "{vars:?}: {e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn secret_and_database_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("todo-cfg-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let db = dir.join("x.db");
        prepare_sqlite_file(&db).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&db), 0o600);
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        prepare_sqlite_file(&db).unwrap();
        assert_eq!(
            mode(&db),
            0o600,
            "an existing readable file is made private"
        );
        let url = format!("sqlite://{}", db.display());
        let c = cfg(&[("DATABASE_URL", &url)]).unwrap();
        let secret = c.secret_file.unwrap();
        assert_eq!(mode(&secret), 0o600);
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o644)).unwrap();
        cfg(&[("DATABASE_URL", &url)]).unwrap();
        assert_eq!(mode(&secret), 0o600);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn limits_default_and_parse() {
        let secret = "s".repeat(32);
        let base = [
            ("DATABASE_URL", "postgres://u@h/db"),
            ("TODO_JWT_SECRET", secret.as_str()),
        ];
        assert_eq!(cfg(&base).unwrap().limits, Limits::default());
        let mut vars = base.to_vec();
        vars.extend([
            ("TODO_HEADER_TIMEOUT", "2s"),
            ("TODO_REQUEST_TIMEOUT", "5s"),
            ("TODO_MAX_CONNECTIONS", "50"),
            ("TODO_MAX_STREAMS_PER_USER", "3"),
        ]);
        let l = cfg(&vars).unwrap().limits;
        assert_eq!(l.header_timeout, std::time::Duration::from_secs(2));
        assert_eq!(l.request_timeout, std::time::Duration::from_secs(5));
        assert_eq!((l.max_connections, l.max_streams_per_user), (50, 3));
        for (k, v) in [
            ("TODO_HEADER_TIMEOUT", "0s"),
            ("TODO_REQUEST_TIMEOUT", "soon"),
            ("TODO_MAX_CONNECTIONS", "0"),
            ("TODO_MAX_STREAMS", "-1"),
        ] {
            let mut vars = base.to_vec();
            vars.push((k, v));
            let e = cfg(&vars).unwrap_err();
            assert!(e.to_string().contains(k), "{k}={v}: {e}");
        }
    }

    #[test]
    fn kafka_settings_come_with_kafka_brokers() {
        let base = [("TODO_JWT_SECRET", "s".repeat(32))];
        let with = |extra: &[(&str, &str)]| {
            let mut vars: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
            vars.push(("DATABASE_URL", "postgres://u@h/db"));
            vars.extend_from_slice(extra);
            cfg(&vars)
        };
        let k = with(&[("KAFKA_BROKERS", " 127.0.0.1:9092 ")])
            .unwrap()
            .kafka
            .unwrap();
        assert_eq!(
            k,
            KafkaSettings {
                brokers: "127.0.0.1:9092".into(),
                topic_prefix: String::new(),
                partitions: 3,
                replication: 1,
                retention_ms: None,
            }
        );
        let k = with(&[
            ("KAFKA_BROKERS", "a:1,b:2"),
            ("KAFKA_TOPIC_PREFIX", "staging."),
            ("KAFKA_PARTITIONS", "12"),
            ("KAFKA_RETENTION_MS", "86400000"),
        ])
        .unwrap()
        .kafka
        .unwrap();
        assert_eq!(
            (k.topic_prefix.as_str(), k.partitions, k.retention_ms),
            ("staging.", 12, Some(86_400_000))
        );
        for (var, bad) in [
            ("KAFKA_PARTITIONS", "0"),
            ("KAFKA_PARTITIONS", "many"),
            ("KAFKA_REPLICATION", "-1"),
            ("KAFKA_RETENTION_MS", "1.5"),
        ] {
            let e = with(&[("KAFKA_BROKERS", "a:1"), (var, bad)]).unwrap_err();
            assert!(e.to_string().contains(var), "{var}={bad}: {e}");
        }
    }

    #[test]
    fn dapr_is_on_with_the_sidecars_grpc_port_and_its_names_default_to_dapr_dir() {
        let get = |vars: &'static [(&'static str, &'static str)]| {
            DaprSettings::from_vars(move |k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        assert_eq!(get(&[]).unwrap(), None);
        let d = get(&[("DAPR_GRPC_PORT", "50001"), ("DAPR_HTTP_PORT", "3500")])
            .unwrap()
            .unwrap();
        assert_eq!(d.endpoint, "http://127.0.0.1:50001");
        assert_eq!(
            (
                d.pubsub.as_str(),
                d.fanout_pubsub.as_str(),
                d.state_store.as_str()
            ),
            ("kafka-pubsub", "kafka-pubsub", "conversation-state")
        );
        assert_eq!(
            (d.secret_store, d.secret_name.as_str()),
            (None, "todo-secrets")
        );
        assert_eq!(d.wait, std::time::Duration::from_secs(60));
        let d = get(&[
            ("DAPR_GRPC_PORT", "50001"),
            ("DAPR_GRPC_ENDPOINT", "http://sidecar:50001"),
            ("DAPR_FANOUT_PUBSUB_NAME", "kafka-pubsub-fanout"),
            ("DAPR_SECRET_STORE", "kubernetes-secrets"),
            ("APP_API_TOKEN", "t"),
            ("DAPR_WAIT_SECS", "5"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(
            d.endpoint, "http://sidecar:50001",
            "the endpoint wins over the port"
        );
        assert_eq!(d.fanout_pubsub, "kafka-pubsub-fanout");
        assert_eq!(d.secret_store.as_deref(), Some("kubernetes-secrets"));
        assert_eq!(d.app_api_token.as_deref(), Some("t"));
        assert_eq!(d.wait, std::time::Duration::from_secs(5));
        for (vars, var) in [
            (&[("DAPR_HTTP_PORT", "3500")][..], "DAPR_GRPC_PORT"),
            (&[("DAPR_GRPC_PORT", "x")][..], "DAPR_GRPC_PORT"),
            (
                &[("DAPR_GRPC_ENDPOINT", "https://sidecar:443")][..],
                "DAPR_GRPC_ENDPOINT",
            ),
            (
                &[("DAPR_GRPC_PORT", "1"), ("DAPR_WAIT_SECS", "0")][..],
                "DAPR_WAIT_SECS",
            ),
        ] {
            let e = get(vars).unwrap_err();
            assert!(e.to_string().contains(var), "{vars:?}: {e}");
        }
    }
}
