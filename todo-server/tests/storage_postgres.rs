//! The PostgreSQL store passes the store conformance suite, and serializes concurrent
//! completions. Needs `TEST_DATABASE_URL` (skipped without it, failing when `CI=true`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{fresh_pg, run_pg};

todo_core::store_conformance_tests!(fresh_pg(), run_pg);

mod conversations {
    use super::support::{fresh_pg, run_pg};

    todo_core::conversation_store_conformance_tests!(fresh_pg(), run_pg);
}

mod concurrency {
    use super::support;

    #[test]
    fn concurrent_completions_create_one_instance() {
        support::run_pg(async {
            let store = support::fresh_pg().await;
            support::concurrent_completions(store, 8).await;
        });
    }
}
