//! The abuse and fault suite (issue 14): each case is what a hostile user with a valid token, or
//! a careless client, does to the real `todo-server` binary, on SQLite and on PostgreSQL (and the
//! broker where events are involved), and what the service must do instead of stalling,
//! crashing or losing data. The figures each case prints (peak RSS, time) are the ones recorded
//! in RELIABILITY.md.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../support/mod.rs"]
mod support;

mod common;

mod connections;
mod dapr_trust;
mod events;
mod fail_closed;
mod idempotency;
mod postgres_tls;
mod quotas;
mod realtime;
mod rrule;
