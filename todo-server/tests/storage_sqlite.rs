//! The SQLite store passes the store conformance suite, and serializes concurrent completions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{fresh_sqlite, run};

todo_core::store_conformance_tests!(fresh_sqlite(), run);

mod conversations {
    use super::support::{fresh_sqlite, run};

    todo_core::conversation_store_conformance_tests!(fresh_sqlite(), run);
}

mod concurrency {
    use super::support;

    #[test]
    fn concurrent_completions_create_one_instance() {
        support::run(async {
            let path = support::sqlite_path();
            let store = todo_server::storage::SqliteStore::connect(&support::sqlite_url(&path))
                .await
                .unwrap();
            support::concurrent_completions(store, 8).await;
            support::remove_sqlite(&path);
        });
    }
}
