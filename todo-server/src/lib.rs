//! The todo server: the HTTP host of `todo-core`, its storage adapters (SQLite, the embedded
//! default, and PostgreSQL) and the outbox that carries every change's events.

pub mod bus;
pub mod config;
pub mod consumers;
pub mod dapr;
pub mod http;
pub mod kafka;
pub mod reminders;
pub mod serve;
pub mod storage;
pub mod system;
