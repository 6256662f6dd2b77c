//! The PostgreSQL adapter. Units of work are READ COMMITTED transactions that lock the rows
//! they read: tasks `FOR UPDATE`, tags `FOR SHARE`, so two units completing one task run one
//! after the other and a tag cannot be deleted under a unit that attaches it.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use todo_core::EventId;

use super::conversations::sql_conversation_store;
use super::error::map_migrate_err;
use super::idempotency::sql_idempotency_store;
use super::shared::sql_store;

type Db = sqlx::Postgres;

const FOR_UPDATE: &str = " FOR UPDATE OF t";
const FOR_SHARE: &str = " FOR SHARE OF g";
const TAG_IDS: &str =
    "(SELECT string_agg(tt.tag_id::text, ',') FROM task_tags tt WHERE tt.task_id = t.id)";
const TITLE_ORDER: &str = "t.title_key COLLATE \"C\"";
const NAME_KEY_ORDER: &str = "g.name_key COLLATE \"C\"";

/// A list query with search words is planned for its parameters each time (an unnamed
/// statement). A prepared one switches to a generic plan after five runs, and for a search that
/// plan ANDs the user's index with the trigram index, reading every row of every user with the
/// word: 23 ms instead of 0.6 ms for a user with 1,000 tasks among 100,000. Without search
/// words the generic plan is the right one, and planning each time would cost more than the
/// query.
const LIST_PREPARED: bool = false;

/// `AND t.search_text LIKE '%word%'`: the trigram index answers it.
fn push_search_word(qb: &mut sqlx::QueryBuilder<'static, Db>, word: &str) {
    qb.push(" AND t.search_text LIKE ");
    qb.push_bind(super::rows::like_pattern(word));
    qb.push(" ESCAPE '\\'");
}

/// The migrations of the PostgreSQL schema (`migrations/postgres`).
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// The PostgreSQL store. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:5432/db`) and runs the migrations.
    ///
    /// # Errors
    /// `StoreError::Unavailable` when the database cannot be reached; `Other` when migrating fails.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, 10).await
    }

    /// [`PgStore::connect`] with a pool of at most `max_connections`.
    ///
    /// # Errors
    /// As [`PgStore::connect`].
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(map_err)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let store = Self::from_pool(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// A store over an existing pool (not migrated: call [`PgStore::migrate`]).
    pub fn from_pool(pool: PgPool) -> Self {
        PgStore { pool }
    }

    /// Applies the pending migrations.
    ///
    /// # Errors
    /// `StoreError::Other` when a migration fails.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR.run(&self.pool).await.map_err(map_migrate_err)
    }

    /// The pool.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn enc_ts(t: DateTime<Utc>) -> DateTime<Utc> {
    t
}

fn ts(row: &DbRow, col: &str) -> Result<DateTime<Utc>, StoreError> {
    row.try_get(col).map_err(map_err)
}

fn ts_opt(row: &DbRow, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
    row.try_get(col).map_err(map_err)
}

fn enc_event_id(id: EventId) -> uuid::Uuid {
    id.get()
}

/// The class of the per-user outbox locks (`pg_advisory_xact_lock(class, hashtext(user))`):
/// "todo" in ASCII. Two-key advisory locks do not share keys with the relay lease's one-key lock.
const USER_EVENTS_LOCK_CLASS: i32 = 0x746f_646f;

/// The class of the per-user quota locks (`pg_advisory_xact_lock(class, hashtext(user))`):
/// "quot" in ASCII. Apart from the outbox lock: a unit takes it before it locks any row (it
/// counts first), while the outbox lock is taken at commit, after the unit's row locks; sharing
/// one lock would invert that order against units that lock rows and deadlock.
const USER_QUOTA_LOCK_CLASS: i32 = 0x7175_6f74;

/// Makes a unit's quota count hold until it ends: units of one user run side by side here, so
/// two that count and then insert take this per-user transaction lock first and run one after
/// the other (it is re-entrant within a transaction).
async fn lock_user_quota(conn: &mut sqlx::PgConnection, user: &UserId) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
        .bind(USER_QUOTA_LOCK_CLASS)
        .bind(user.as_str())
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// A unit of work: a READ COMMITTED transaction; dropping it rolls back.
pub struct PgTx {
    tx: sqlx::Transaction<'static, Db>,
    /// Outbox events appended in this unit, written on commit.
    events: Vec<DomainEvent>,
}

impl std::fmt::Debug for PgTx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgTx")
    }
}

impl PgTx {
    #[allow(clippy::unnecessary_wraps)]
    fn conn(&mut self) -> Result<&mut sqlx::PgConnection, StoreError> {
        Ok(&mut *self.tx)
    }

    /// Writes the unit's events and commits. Units of one user may run side by side here (they
    /// lock only the rows they touch), and an outbox `seq` is taken at insert but seen at
    /// commit: a per-user transaction lock, taken just before the events get their `seq`, makes
    /// each user's `seq` order their commit order (the relay and the real-time replay rely on
    /// it). Units of different users do not wait for each other.
    async fn finish(mut self) -> Result<(), StoreError> {
        let mut users: Vec<&str> = self.events.iter().map(|e| e.user_id.as_str()).collect();
        users.sort_unstable();
        users.dedup();
        for user in users {
            sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
                .bind(USER_EVENTS_LOCK_CLASS)
                .bind(user)
                .execute(&mut *self.tx)
                .await
                .map_err(map_err)?;
        }
        write_events(&mut self.tx, &self.events).await?;
        self.tx.commit().await.map_err(map_err)
    }
}

async fn begin_unit(store: &PgStore) -> Result<PgTx, StoreError> {
    Ok(PgTx {
        tx: store.pool.begin().await.map_err(map_err)?,
        events: Vec::new(),
    })
}

sql_conversation_store!(PgStore);
sql_idempotency_store!(PgStore);
sql_store!(PgStore, PgTx);
