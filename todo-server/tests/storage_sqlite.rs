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

    /// A unit that handed the writer on and was then cancelled (its client went away) while
    /// the next unit fails: the failing unit commits the released work of the group instead of
    /// leaving the group open (invisible to readers, holding the write lock) until some later
    /// unit comes.
    #[test]
    fn a_group_whose_waiting_unit_was_cancelled_is_committed_by_the_next_unit() {
        support::run(async {
            let path = support::sqlite_path();
            let store = SqliteStore::connect(&support::sqlite_url(&path))
                .await
                .unwrap();
            let u = UserId::parse("hal").unwrap();
            let mut a = store.begin().await.unwrap();
            let a_task = a
                .insert_task(NewTask {
                    task: plain_task(&u, "a"),
                })
                .await
                .unwrap();
            // B queues for the writer while A holds it.
            let b = tokio::spawn({
                let store = store.clone();
                async move { store.begin().await.unwrap() }
            });
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            // A releases its savepoint and hands the writer to B; A is cancelled while it
            // waits for the group's commit.
            let mut b = tokio::select! {
                r = a.commit() => panic!("A must hand the writer on, not commit: {r:?}"),
                b = b => b.unwrap(),
            };
            b.insert_task(NewTask {
                task: plain_task(&u, "b"),
            })
            .await
            .unwrap();
            drop(b); // B fails
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
            while store.task(&u, a_task.id).await.unwrap().is_none() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "A's released work stayed uncommitted"
                );
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            assert_eq!(titles(&store, &u).await, ["a"], "B's work was rolled back");
            support::remove_sqlite(&path);
        });
    }
}
