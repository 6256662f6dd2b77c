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

/// The relay lease: one holder among the replicas on a database; a standby takes it over when
/// the holder goes away (its connection closes).
mod relay_lease {
    use super::support;
    use todo_server::storage::{PgRelayLease, RelayLease};

    #[test]
    fn one_replica_holds_the_lease_and_another_takes_over() {
        support::run_pg(async {
            let url = support::fresh_pg_database().await;
            let mut a = PgRelayLease::new(&url).unwrap();
            let mut b = PgRelayLease::new(&url).unwrap();
            assert!(a.held().await);
            assert!(!b.held().await, "taken by a");
            assert!(a.held().await, "still a's");
            drop(a);
            // b tries again at most once a second.
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !b.held().await {
                assert!(std::time::Instant::now() < deadline, "b never took over");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            let mut c = PgRelayLease::new(&url).unwrap();
            assert!(!c.held().await, "now b's");
        });
    }
}
