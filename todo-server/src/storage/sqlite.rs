//! The SQLite adapter: the embedded default. One file, WAL mode (readers never wait for the
//! writer), foreign keys on, a busy timeout; units of work run as `BEGIN IMMEDIATE`
//! transactions, so they take the write lock up front and serialize with each other.
//! Timestamps are stored as INTEGER microseconds since the epoch.

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use todo_core::EventId;
use tokio::sync::{Mutex, OwnedMutexGuard, watch};

use super::conversations::sql_conversation_store;
use super::error::{corrupt, map_migrate_err};
use super::idempotency::sql_idempotency_store;
use super::shared::sql_store;

type Db = sqlx::Sqlite;

const FOR_UPDATE: &str = "";
const FOR_SHARE: &str = "";
const TAG_IDS: &str = "(SELECT group_concat(tt.tag_id) FROM task_tags tt WHERE tt.task_id = t.id)";
const TITLE_ORDER: &str = "t.title_key";
const NAME_KEY_ORDER: &str = "g.name_key";

/// SQLite plans a statement once, with no regard to its parameters: keep it prepared.
const LIST_PREPARED: bool = true;

/// `AND instr(t.search_text, word) > 0`: no index helps a substring, and `instr` (a plain
/// substring test; both sides are case-folded already) costs half of what `LIKE` does.
fn push_search_word(qb: &mut sqlx::QueryBuilder<'static, Db>, word: &str) {
    qb.push(" AND instr(t.search_text, ");
    qb.push_bind(word.to_owned());
    qb.push(") > 0");
}

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
    writer: Arc<WriterShared>,
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
            writer: Arc::new(WriterShared::default()),
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

/// Nothing to lock for a quota count: units of work run one at a time (one writer).
#[allow(clippy::unused_async)]
async fn lock_user_quota(_conn: &mut SqliteConnection, _user: &UserId) -> Result<(), StoreError> {
    Ok(())
}

/// Units of work of one group commit at most this many before the group commits.
const MAX_GROUP: usize = 64;
/// How long a unit whose group has not committed waits before committing the group itself
/// (the unit that was to follow it went away before its turn).
const GROUP_PATIENCE: Duration = Duration::from_millis(5);

/// The connection all units of work of this process write through, behind an async lock
/// held for the whole unit. SQLite has one writer at a time anyway: queueing here is fair and
/// avoids both the busy handler's sleeps and a pool round trip per unit. `BEGIN IMMEDIATE`
/// still waits (up to the busy timeout) for writers of other processes.
///
/// Group commit: a unit is a `SAVEPOINT` inside an outer `BEGIN IMMEDIATE` transaction, the
/// group. When a unit ends well it releases its savepoint; if another unit is already waiting
/// for the writer, it hands the writer on and waits for the group's `COMMIT`, else it commits the
/// group (so do the unit that fills the group to [`MAX_GROUP`], and a unit that waited
/// [`GROUP_PATIENCE`] in vain). No unit reports success before the `COMMIT` of its group
/// succeeded; if that `COMMIT` fails, every unit of the group fails. A unit that fails or is
/// dropped rolls back to its savepoint and leaves the group's other units alone. Under a
/// stream of writes, one commit (one set of WAL frames for the pages they share) serves many.
#[derive(Debug, Default)]
struct Writer {
    /// Opened on first use.
    conn: Option<SqliteConnection>,
    /// A unit's savepoint may be open: a unit was dropped without commit, or its work failed.
    /// The next user rolls it back first.
    open: bool,
    /// The open outer transaction, if any.
    group: Option<Group>,
    /// Numbers the groups (to tell whether a group is still the open one).
    groups: u64,
}

/// An outer transaction and the units that released their savepoints in it.
#[derive(Debug)]
struct Group {
    id: u64,
    /// Units waiting for this group's commit.
    units: usize,
    /// The outcome of the group's `COMMIT` (None until then).
    done: watch::Sender<Option<Result<(), StoreError>>>,
}

/// The writer and the number of units waiting for it.
#[derive(Debug, Default)]
struct WriterShared {
    writer: Arc<Mutex<Writer>>,
    waiting: AtomicUsize,
}

/// Counts a unit as waiting for the writer while it exists (also when its future is dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(n: &'a AtomicUsize) -> Self {
        n.fetch_add(1, Ordering::SeqCst);
        Waiting(n)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Writer {
    async fn exec(&mut self, sql: &str) -> Result<(), StoreError> {
        let conn = self.conn.as_mut().ok_or_else(gone)?;
        sqlx::query(sql)
            .execute(&mut *conn)
            .await
            .map(|_| ())
            .map_err(map_err)
    }

    /// Undoes the savepoint of a unit that did not end well; an outer transaction no unit is
    /// waiting for is rolled back too.
    async fn rollback_if_open(&mut self) {
        if self.open {
            self.open = false;
            let undone = match self.exec("ROLLBACK TO unit").await {
                Ok(()) => self.exec("RELEASE unit").await,
                Err(e) => Err(e),
            };
            if undone.is_err() {
                // The connection is in an unknown state: fail the group, open a new one.
                self.abandon("the group's connection failed").await;
                return;
            }
        }
        if self.group.as_ref().is_some_and(|g| g.units == 0) {
            self.group = None;
            if self.exec("ROLLBACK").await.is_err() {
                self.conn = None;
            }
        }
    }

    /// Commits the open group and tells its units.
    async fn commit_group(&mut self) -> Result<(), StoreError> {
        let Some(group) = self.group.take() else {
            return Ok(());
        };
        let done = self.exec("COMMIT").await;
        if done.is_err() && self.exec("ROLLBACK").await.is_err() {
            self.conn = None;
        }
        group.done.send_replace(Some(done.clone()));
        done
    }

    /// Fails the open group and drops the connection.
    async fn abandon(&mut self, why: &str) {
        if let Some(group) = self.group.take() {
            group
                .done
                .send_replace(Some(Err(StoreError::Unavailable(why.to_owned()))));
        }
        self.conn = None;
    }
}

/// A unit of work: a savepoint in the writer connection's open group (see `Writer`).
/// Dropping it without commit rolls back to its savepoint (right away on a tokio runtime,
/// else when the next unit starts).
pub struct SqliteTx {
    writer: Option<OwnedMutexGuard<Writer>>,
    shared: Arc<WriterShared>,
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
        let released = match write_events(&mut *conn, &self.events).await {
            Ok(()) => w.exec("RELEASE unit").await,
            Err(e) => Err(e),
        };
        if let Err(e) = released {
            settle(w, &self.shared).await;
            return Err(e);
        }
        w.open = false;
        let Some(group) = w.group.as_mut() else {
            return Err(gone());
        };
        group.units += 1;
        let (id, units) = (group.id, group.units);
        let mut done = group.done.subscribe();
        if units >= MAX_GROUP || self.shared.waiting.load(Ordering::SeqCst) == 0 {
            return commit_detached(w).await;
        }
        // Hand the writer to the next unit; the group commits when the last of them ends.
        drop(w);
        loop {
            let outcome = tokio::time::timeout(GROUP_PATIENCE, done.wait_for(Option::is_some))
                .await
                .map(|r| r.map(|v| v.clone()));
            match outcome {
                Ok(Ok(result)) => return result.unwrap_or_else(|| Err(gone())),
                Ok(Err(_)) => {
                    return Err(StoreError::Unavailable(
                        "the outcome of the group commit is unknown".to_owned(),
                    ));
                }
                Err(_) => {
                    // Nobody committed the group yet: commit it if it is still open and no
                    // unit is at work in it (this unit holds the writer then).
                    let mut w = self.shared.lock().await;
                    if w.group.as_ref().is_some_and(|g| g.id == id) {
                        w.rollback_if_open().await;
                        return commit_detached(w).await;
                    }
                }
            }
        }
    }
}

/// Commits the open group in a task of its own: the commit and the news of its outcome to the
/// group's units happen even when the unit that started it is cancelled (its client went away)
/// while `COMMIT` runs.
async fn commit_detached(w: OwnedMutexGuard<Writer>) -> Result<(), StoreError> {
    let mut w = w;
    tokio::spawn(async move { w.commit_group().await })
        .await
        .unwrap_or_else(|e| Err(StoreError::Unavailable(format!("group commit: {e}"))))
}

/// After a unit failed or was dropped: undo its savepoint, and commit the group when it holds
/// other units' released work and no unit waits to go on with it (otherwise it would stay
/// open, holding SQLite's write lock, until the next unit).
async fn settle(mut w: OwnedMutexGuard<Writer>, shared: &WriterShared) {
    w.rollback_if_open().await;
    let others = w.group.as_ref().is_some_and(|g| g.units > 0);
    if others && shared.waiting.load(Ordering::SeqCst) == 0 {
        let _ = commit_detached(w).await;
    }
}

impl WriterShared {
    /// Waits for the writer, counted in `waiting` meanwhile.
    async fn lock(&self) -> OwnedMutexGuard<Writer> {
        let _waiting = Waiting::new(&self.waiting);
        Arc::clone(&self.writer).lock_owned().await
    }
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if let Some(w) = self.writer.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            let shared = Arc::clone(&self.shared);
            rt.spawn(async move { settle(w, &shared).await });
        }
    }
}

async fn begin_unit(store: &SqliteStore) -> Result<SqliteTx, StoreError> {
    let mut w = store.writer.lock().await;
    w.rollback_if_open().await;
    if w.conn.is_none() {
        let options = store.pool.connect_options();
        w.conn = Some(options.connect().await.map_err(map_err)?);
    }
    if w.group.is_none() {
        if let Err(e) = w.exec("BEGIN IMMEDIATE").await {
            // Busy (another process writes): try again later on this connection. Anything
            // else: the connection's state is unknown; open a new one next time.
            if !matches!(e, StoreError::Conflict(_)) {
                w.conn = None;
            }
            return Err(e);
        }
        w.groups += 1;
        let (done, _) = watch::channel(None);
        w.group = Some(Group {
            id: w.groups,
            units: 0,
            done,
        });
    }
    if let Err(e) = w.exec("SAVEPOINT unit").await {
        w.rollback_if_open().await;
        return Err(e);
    }
    w.open = true;
    Ok(SqliteTx {
        writer: Some(w),
        shared: Arc::clone(&store.writer),
        events: Vec::new(),
    })
}

sql_conversation_store!(SqliteStore);
sql_idempotency_store!(SqliteStore);
sql_store!(SqliteStore, SqliteTx);
