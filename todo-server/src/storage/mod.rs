//! Storage adapters of the ports `todo_core::ports::{Store, StoreTx, ConversationStore,
//! IdempotencyStore}`: SQLite (the embedded default) and PostgreSQL, with sqlx's runtime query
//! API (no live database at build time).
//!
//! Both share their SQL (`shared.rs`, expanded once per dialect), their row mapping
//! (`rows.rs`) and their error mapping (`error.rs`). The schemas live in `migrations/sqlite`
//! and `migrations/postgres` (reversible).

mod conversations;
mod error;
mod idempotency;
pub mod lease;
pub mod postgres;
mod rows;
mod shared;
pub mod sqlite;

pub use lease::{PgRelayLease, RelayLease, SoleRelay};
pub use postgres::{PgStore, PgTx};
pub use sqlite::{SqliteStore, SqliteTx};
