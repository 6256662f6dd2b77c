//! Test support shared by the storage and process tests: runtimes, fresh SQLite files, fresh
//! PostgreSQL databases, the rule for PostgreSQL tests without a database, the spawned server
//! binary ([`server`]) and the Kafka tests' helpers ([`kafka`]).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::future::Future;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;
use todo_server::storage::{PgStore, SqliteStore};

pub mod kafka;
pub mod server;

/// Runs a future to completion on a fresh multi-thread runtime.
pub fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// The PostgreSQL server for tests (`TEST_DATABASE_URL`). Without it the PostgreSQL tests are
/// skipped with a line on stderr — unless `CI=true`, where a missing database is a failure.
pub fn pg_url() -> Option<String> {
    required_service("TEST_DATABASE_URL", "PostgreSQL tests need a server")
}

/// The address of a service the tests need, from `var`; `None` (the test skips, saying why on
/// stderr) when it is unset — except under `CI=true`, where tests may not be skipped: then it
/// panics.
pub fn required_service(var: &str, why: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{var} must be set when CI=true (these tests may not be skipped)"
            );
            eprintln!("skipped: {var} is not set ({why})");
            None
        }
    }
}

/// Runs a PostgreSQL test on a fresh runtime, or skips it (see [`pg_url`]).
pub fn run_pg<F: Future<Output = ()>>(f: F) {
    if pg_url().is_some() {
        run(f);
    }
}

/// A fresh SQLite file path in the temp directory.
pub fn sqlite_path() -> PathBuf {
    std::env::temp_dir().join(format!("todo_test_{}.db", uuid::Uuid::new_v4().simple()))
}

/// The URL of a SQLite file.
pub fn sqlite_url(path: &std::path::Path) -> String {
    format!("sqlite://{}", path.display())
}

/// A fresh, migrated SQLite store in a new temp file. The file is left in the temp directory
/// (the pool may still hold it open when a test ends); [`remove_sqlite`] removes it, and test
/// files older than ten minutes are removed here, best-effort.
pub async fn fresh_sqlite() -> SqliteStore {
    remove_stale_sqlite_files();
    SqliteStore::connect(&sqlite_url(&sqlite_path()))
        .await
        .expect("fresh sqlite store")
}

fn remove_stale_sqlite_files() {
    let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age.as_secs() > STALE_SECS);
        if stale && name.to_string_lossy().starts_with("todo_test_") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Removes a SQLite database file and its WAL companions, best-effort.
pub fn remove_sqlite(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Replaces the database name of a PostgreSQL URL.
pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{db}?{q}"),
        None => format!("{base}/{db}"),
    }
}

const PG_PREFIX: &str = "todo_test_";

/// Test databases and files older than this are left over from earlier runs.
const STALE_SECS: u64 = 600;

/// Creates a fresh, empty database `todo_test_<unix seconds>_<uuid>` on the test server and
/// returns its URL. Test databases older than an hour are dropped first, best-effort.
pub async fn fresh_pg_database() -> String {
    let url = pg_url().expect("TEST_DATABASE_URL");
    let mut admin = sqlx::PgConnection::connect(&url)
        .await
        .expect("connect to TEST_DATABASE_URL");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let old: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'todo\\_test\\_%'")
            .fetch_all(&mut admin)
            .await
            .unwrap_or_default();
    for name in old {
        let created = name
            .strip_prefix(PG_PREFIX)
            .and_then(|rest| rest.split('_').next())
            .and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|c| c + STALE_SECS < now) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .execute(&mut admin)
                .await;
        }
    }
    let name = format!("{PG_PREFIX}{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let _ = admin.close().await;
    with_database(&url, &name)
}

/// A fresh, migrated PostgreSQL store in a new database.
pub async fn fresh_pg() -> PgStore {
    let url = fresh_pg_database().await;
    PgStore::connect(&url).await.expect("fresh postgres store")
}

/// `n` concurrent completions of one recurring task, each in its own tokio task on the
/// multi-thread runtime: every one succeeds, exactly one next instance and one
/// `task-completed` event exist afterwards.
pub async fn concurrent_completions<S>(store: S, n: usize)
where
    S: todo_core::ports::Store + 'static,
{
    use std::sync::Arc;

    use todo_core::conformance::{assert_completed_once, create_daily_standup, t0};
    use todo_core::ports::{ManualClock, SequentialIds};
    use todo_core::service::TaskService;

    let svc = Arc::new(TaskService::new(
        store,
        ManualClock::new(t0()),
        SequentialIds::new(),
    ));
    let user = todo_core::UserId::parse("alice").unwrap();
    let id = create_daily_standup(&svc, &user).await;
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let svc = Arc::clone(&svc);
            let user = user.clone();
            tokio::spawn(async move { svc.set_completed(&user, id, Some(true)).await })
        })
        .collect();
    for h in handles {
        let done = h.await.expect("join").expect("set_completed");
        assert!(done.task.completed);
    }
    assert_completed_once(&svc, &user).await;
}
