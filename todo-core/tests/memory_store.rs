//! The in-memory store passes the store conformance suite.

#![allow(clippy::unwrap_used, clippy::expect_used)]

fn run<F: std::future::Future>(f: F) -> F::Output {
    futures_executor::block_on(f)
}

todo_core::store_conformance_tests!(async { todo_core::memory::MemoryStore::new() }, run);
todo_core::conversation_store_conformance_tests!(
    async { todo_core::memory::MemoryStore::new() },
    run
);
