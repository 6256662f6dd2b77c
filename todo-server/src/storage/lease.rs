//! The relay lease: among the server replicas on one database, one relays the outbox at a time,
//! so that no event is published out of order for a user. The others stand by and take over
//! when the holder goes away.
//!
//! On PostgreSQL the lease is a session-level advisory lock held on a connection of its own
//! (not from the pool: a pooled connection would keep the lock when returned). When the
//! holder's process dies or its connection breaks, PostgreSQL releases the lock and a standby
//! replica's next try takes it. The embedded SQLite default has one process: it always holds
//! the lease ([`SoleRelay`]).

use std::future::Future;
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};

/// Whether this process may relay the outbox now.
pub trait RelayLease: Send {
    /// `true` while this process holds the lease; tries to take it when free.
    fn held(&mut self) -> impl Future<Output = bool> + Send;
}

/// The lease of a process that relays alone (the embedded SQLite default, the in-memory store).
#[derive(Debug, Default, Clone, Copy)]
pub struct SoleRelay;

impl RelayLease for SoleRelay {
    async fn held(&mut self) -> bool {
        true
    }
}

/// The advisory-lock key of the relay lease ("todo-rel" in ASCII).
pub const RELAY_LOCK_KEY: i64 = 0x746f_646f_2d72_656c;

/// How often a standby replica tries to take the lease.
const RETRY: Duration = Duration::from_secs(1);

/// The PostgreSQL relay lease (see the module docs).
#[derive(Debug)]
pub struct PgRelayLease {
    options: PgConnectOptions,
    conn: Option<PgConnection>,
    holding: bool,
    last_try: Option<Instant>,
}

impl PgRelayLease {
    /// A lease on the database at `url`; nothing is held until [`RelayLease::held`] is asked.
    ///
    /// # Errors
    /// The URL cannot be parsed.
    pub fn new(url: &str) -> Result<Self, sqlx::Error> {
        Ok(PgRelayLease {
            options: PgConnectOptions::from_str(url)?,
            conn: None,
            holding: false,
            last_try: None,
        })
    }

    async fn check(&mut self) -> Result<bool, sqlx::Error> {
        if self.conn.is_none() {
            self.holding = false;
            self.conn = Some(self.options.connect().await?);
        }
        let Some(conn) = self.conn.as_mut() else {
            return Ok(false);
        };
        if self.holding {
            conn.ping().await?;
            return Ok(true);
        }
        self.holding = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(RELAY_LOCK_KEY)
            .fetch_one(conn)
            .await?;
        Ok(self.holding)
    }
}

impl RelayLease for PgRelayLease {
    async fn held(&mut self) -> bool {
        if !self.holding && self.last_try.is_some_and(|t| t.elapsed() < RETRY) {
            return false;
        }
        self.last_try = Some(Instant::now());
        let was = self.holding;
        match self.check().await {
            Ok(now) => {
                if now && !was {
                    tracing::info!("relay lease taken: this replica relays the outbox");
                }
                now
            }
            Err(e) => {
                if was {
                    tracing::warn!(error = %e, "relay lease lost; standing by");
                }
                self.conn = None;
                self.holding = false;
                false
            }
        }
    }
}
