//! The migrations go up, down and up again on both databases. Undoing `0001_init` drops every
//! table, so the data written before the down migration is gone afterwards: that is expected
//! (a down migration of the initial schema is a reset, not a data-preserving step).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use todo_core::UserId;
use todo_core::conformance::{plain_task, t0};
use todo_core::model::{Color, TagName};
use todo_core::ports::{NewTag, NewTask, Store, StoreTx};
use todo_core::query::TaskQuery;

const TABLES: [&str; 7] = [
    "tasks",
    "tags",
    "task_tags",
    "reminders",
    "activity_logs",
    "outbox",
    "conversations",
];

/// Writes a tagged task through the store and checks it is listed.
async fn write_and_list<S: Store>(store: &S) {
    let u = UserId::parse("alice").unwrap();
    let mut tx = store.begin().await.unwrap();
    let tag = tx
        .insert_tag(NewTag {
            user_id: u.clone(),
            name: TagName::parse("work").unwrap(),
            color: Color::default(),
            created_at: t0(),
        })
        .await
        .unwrap();
    let mut task = plain_task(&u, "migrated");
    task.tag_ids = vec![tag.id];
    let task = tx.insert_task(NewTask { task }).await.unwrap();
    tx.commit().await.unwrap();
    let page = store.list_tasks(&u, &TaskQuery::default()).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.items[0], task);
    assert_eq!(store.list_tags(&u).await.unwrap()[0].task_count, 1);
}

async fn count_tasks<S: Store>(store: &S) -> u64 {
    let u = UserId::parse("alice").unwrap();
    store
        .list_tasks(&u, &TaskQuery::default())
        .await
        .unwrap()
        .total
}

#[test]
fn sqlite_up_down_up() {
    support::run(async {
        let path = support::sqlite_path();
        let store = todo_server::storage::SqliteStore::connect(&support::sqlite_url(&path))
            .await
            .unwrap();
        write_and_list(&store).await;

        todo_server::storage::sqlite::MIGRATOR
            .undo(store.pool(), 0)
            .await
            .unwrap();
        for table in TABLES {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1",
            )
            .bind(table)
            .fetch_one(store.pool())
            .await
            .unwrap();
            assert_eq!(n, 0, "table {table} dropped by the down migration");
        }
        let left: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sqlite_master WHERE type IN ('table', 'index') \
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap();
        assert_eq!(left, 0, "nothing of the schema is left");

        store.migrate().await.unwrap();
        // The down migration of 0001 dropped the tables: the old data is gone, as expected.
        assert_eq!(count_tasks(&store).await, 0);
        write_and_list(&store).await;
        store.pool().close().await;
        support::remove_sqlite(&path);
    });
}

#[test]
fn postgres_up_down_up() {
    support::run_pg(async {
        let store = support::fresh_pg().await;
        write_and_list(&store).await;

        todo_server::storage::postgres::MIGRATOR
            .undo(store.pool(), 0)
            .await
            .unwrap();
        for table in TABLES {
            let exists: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = $1)",
            )
            .bind(table)
            .fetch_one(store.pool())
            .await
            .unwrap();
            assert!(!exists, "table {table} dropped by the down migration");
        }

        store.migrate().await.unwrap();
        // The down migration of 0001 dropped the tables: the old data is gone, as expected.
        assert_eq!(count_tasks(&store).await, 0);
        write_and_list(&store).await;
    });
}
