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

/// Group commit (units as savepoints of one outer transaction): of many concurrent units, the
/// ones that commit are all there — also after reopening the file — and the ones that fail or
/// are dropped leave nothing, without disturbing the others of their group.
mod group_commit {
    use super::support;
    use todo_core::StoreError;
    use todo_core::conformance::plain_task;
    use todo_core::ids::UserId;
    use todo_core::model::{Color, TagName};
    use todo_core::ports::{NewTag, NewTask, Store, StoreTx};
    use todo_core::query::TaskQuery;
    use todo_server::storage::SqliteStore;

    fn tag(user: &UserId, name: &str) -> NewTag {
        NewTag {
            user_id: user.clone(),
            name: TagName::parse(name).unwrap(),
            color: Color::default(),
            created_at: todo_core::conformance::t0(),
        }
    }

    async fn titles(store: &SqliteStore, user: &UserId) -> Vec<String> {
        let q = TaskQuery::from_pairs([
            ("limit", "100"),
            ("sort_by", "title"),
            ("sort_order", "asc"),
        ])
        .unwrap();
        let page = store.list_tasks(user, &q).await.unwrap();
        page.items
            .into_iter()
            .map(|t| t.title.as_str().to_owned())
            .collect()
    }

    #[test]
    fn committed_units_stay_failed_and_dropped_units_leave_nothing() {
        support::run(async {
            let path = support::sqlite_path();
            let url = support::sqlite_url(&path);
            let store = SqliteStore::connect(&url).await.unwrap();
            let u = UserId::parse("grace").unwrap();
            let mut tx = store.begin().await.unwrap();
            tx.insert_tag(tag(&u, "dup")).await.unwrap();
            tx.commit().await.unwrap();

            let units: Vec<_> = (0..60)
                .map(|i| {
                    let (store, u) = (store.clone(), u.clone());
                    tokio::spawn(async move {
                        let mut tx = store.begin().await.unwrap();
                        tx.insert_task(NewTask {
                            task: plain_task(&u, &format!("t{i:02}")),
                        })
                        .await
                        .unwrap();
                        tokio::task::yield_now().await;
                        if i % 5 == 0 {
                            drop(tx);
                            return "dropped";
                        }
                        if i % 7 == 0 {
                            let e = tx.insert_tag(tag(&u, "dup")).await.unwrap_err();
                            assert!(matches!(e, StoreError::UniqueViolation(_)), "{e:?}");
                            drop(tx);
                            return "failed";
                        }
                        tx.commit().await.unwrap();
                        "committed"
                    })
                })
                .collect();
            let mut want = Vec::new();
            for (i, unit) in units.into_iter().enumerate() {
                if unit.await.unwrap() == "committed" {
                    want.push(format!("t{i:02}"));
                }
            }
            // Dropped: the 12 multiples of 5; failed: 7, 14, 21, 28, 42, 49, 56.
            assert_eq!(want.len(), 60 - 12 - 7);
            assert_eq!(titles(&store, &u).await, want);
            assert_eq!(store.list_tags(&u).await.unwrap().len(), 1);

            // Durable: a new store on the same file sees the same.
            let again = SqliteStore::connect(&url).await.unwrap();
            assert_eq!(titles(&again, &u).await, want);
            support::remove_sqlite(&path);
        });
    }
}
