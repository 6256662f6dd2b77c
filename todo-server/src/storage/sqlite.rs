//! The SQLite adapter: the embedded default. One file, WAL mode (readers never wait for the
//! writer), foreign keys on, a busy timeout; units of work run as `BEGIN IMMEDIATE`
//! transactions, so they take the write lock up front and serialize with each other.
//! Timestamps are stored as INTEGER microseconds since the epoch.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use todo_core::EventId;
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::conversations::sql_conversation_store;
use super::error::{corrupt, map_migrate_err};
use super::shared::sql_store;

type Db = sqlx::Sqlite;

const FOR_UPDATE: &str = "";
const FOR_SHARE: &str = "";
const TAG_IDS: &str = "(SELECT group_concat(tt.tag_id) FROM task_tags tt WHERE tt.task_id = t.id)";
const TITLE_ORDER: &str = "t.title_key";
const NAME_KEY_ORDER: &str = "g.name_key";

/// How long a statement waits for another connection's write lock before failing with
/// `StoreError::Conflict`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// The migrations of the SQLite schema (`migrations/sqlite`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

/// The SQLite store: a pool of readers and one writer connection. Cheap to clone (clones
/// share both).
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The connection of this process's units of work (see [`Writer`]).
    writer: Arc<Mutex<Writer>>,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database at `url` (`sqlite://path/to/todo.db`,
    /// `sqlite:todo.db`, ...) and runs the migrations.
    ///
    /// # Errors
    /// `StoreError::Unavailable` when the file cannot be opened; `Other` when migrating fails.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, 16).await
    }

    /// [`SqliteStore::connect`] with a pool of at most `max_connections`.
    ///
    /// # Errors
    /// As [`SqliteStore::connect`].
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(map_err)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections.max(1))
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let store = Self::from_pool(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// A store over an existing pool (not migrated: call [`SqliteStore::migrate`]). The pool's
    /// connections should have foreign keys on and a busy timeout.
    pub fn from_pool(pool: SqlitePool) -> Self {
        SqliteStore {
            pool,
            writer: Arc::new(Mutex::new(Writer::default())),
        }
    }

    /// Applies the pending migrations.
    ///
    /// # Errors
    /// `StoreError::Other` when a migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(map_migrate_err)
    }

    /// The pool.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn enc_ts(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

fn dec_ts(micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt("timestamp", micros))
}

fn ts(row: &DbRow, col: &str) -> Result<DateTime<Utc>, StoreError> {
    dec_ts(row.try_get(col).map_err(map_err)?)
}

fn ts_opt(row: &DbRow, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    let v: Option<i64> = row.try_get(col).map_err(map_err)?;
    v.map(dec_ts).transpose()
}

fn enc_event_id(id: EventId) -> String {
    id.get().to_string()
}

/// The connection all units of work of this process write through, behind an async lock
/// held for the whole unit. SQLite has one writer at a time anyway: queueing here is fair and
/// avoids both the busy handler's sleeps and a pool round trip per unit. `BEGIN IMMEDIATE`
/// still waits (up to the busy timeout) for writers of other processes.
#[derive(Debug, Default)]
struct Writer {
    /// Opened on first use.
    conn: Option<SqliteConnection>,
    /// A transaction may be open: a unit was dropped without commit, or its commit failed.
    /// The next user rolls it back first.
    open: bool,
}

impl Writer {
    async fn rollback_if_open(&mut self) {
        if self.open {
            if let Some(conn) = self.conn.as_mut() {
                if sqlx::query("ROLLBACK").execute(&mut *conn).await.is_err() {
                    // The connection is in an unknown state: open a new one next time.
                    self.conn = None;
                }
            }
            self.open = false;
        }
    }
}

/// A unit of work: a `BEGIN IMMEDIATE` transaction on the writer connection. Dropping it
/// without commit rolls back (right away on a tokio runtime, else when the next unit starts).
pub struct SqliteTx {
    writer: Option<OwnedMutexGuard<Writer>>,
    /// Outbox events appended in this unit, written on commit.
    events: Vec<DomainEvent>,
}

impl std::fmt::Debug for SqliteTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteTx")
    }
}

fn gone() -> StoreError {
    StoreError::Other("the unit of work has ended".to_owned())
}

impl SqliteTx {
    fn conn(&mut self) -> Result<&mut SqliteConnection, StoreError> {
        self.writer
            .as_mut()
            .and_then(|w| w.conn.as_mut())
            .ok_or_else(gone)
    }

    async fn finish(mut self) -> Result<(), StoreError> {
        let mut w = self.writer.take().ok_or_else(gone)?;
        let conn = w.conn.as_mut().ok_or_else(gone)?;
        let done = async {
            write_events(&mut *conn, &self.events).await?;
            sqlx::query("COMMIT")
                .execute(&mut *conn)
                .await
                .map_err(map_err)
        }
        .await;
        match done {
            Ok(_) => w.open = false,
            // Release the write lock now rather than when the next unit starts.
            Err(_) => w.rollback_if_open().await,
        }
        done.map(|_| ())
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(mut w) = self.writer.take() {
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move { w.rollback_if_open().await });
            }
        }
    }
}

async fn begin_unit(store: &SqliteStore) -> Result<SqliteTx, StoreError> {
    let mut w = Arc::clone(&store.writer).lock_owned().await;
    w.rollback_if_open().await;
    if w.conn.is_none() {
        let options = store.pool.connect_options();
        w.conn = Some(options.connect().await.map_err(map_err)?);
    }
    let conn = w.conn.as_mut().ok_or_else(gone)?;
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    w.open = true;
    Ok(SqliteTx {
        writer: Some(w),
        events: Vec::new(),
    })
}

sql_conversation_store!(SqliteStore);
sql_store!(SqliteStore, SqliteTx);
