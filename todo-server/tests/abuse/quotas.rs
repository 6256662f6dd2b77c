//! Quotas (issue 14, case 5): one user cannot fill the database. Against the real binary on
//! SQLite and PostgreSQL with small quotas from the environment: creates beyond the quota get
//! 409 `QUOTA_EXCEEDED` with `{quota, limit}`, a delete frees a slot, other users are not
//! affected, concurrent creates at the edge never pass the quota, a recurring series goes on at
//! the quota, and attaching tags writes activity entries that do not grow with the tag count.

use std::time::Instant;

use serde_json::{Value, json};

use crate::common::{self, Db};
use crate::support::server::Server;

const TASKS: usize = 20;
const TAGS: usize = 45;
const CONVERSATIONS: usize = 3;

fn start(db: Db) -> Server {
    common::start(
        db,
        "quotas",
        &[
            ("TODO_QUOTA_TASKS", &TASKS.to_string()),
            ("TODO_QUOTA_TAGS", &TAGS.to_string()),
            ("TODO_QUOTA_CONVERSATIONS", &CONVERSATIONS.to_string()),
        ],
    )
}

fn assert_quota(status: u16, body: &Value, quota: &str, limit: usize) {
    assert_eq!(status, 409, "{body}");
    assert_eq!(common::code(body), "QUOTA_EXCEEDED", "{body}");
    assert_eq!(
        body["error"]["details"],
        json!({ "quota": quota, "limit": limit })
    );
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(quota) && message.contains(&limit.to_string()),
        "the message names the quota and its limit: {message}"
    );
}

#[test]
fn the_tasks_quota_holds_for_one_user_and_under_concurrency() {
    for db in common::databases() {
        let server = start(db);
        let alice = server.token("alice");
        let bob = server.token("bob");
        let started = Instant::now();
        let (status, series) = common::create_task(
            &server,
            "alice",
            &alice,
            &json!({ "title": "standup", "due_datetime": "2099-01-05T09:00:00Z",
                     "recurrence_pattern": "daily" }),
        );
        assert_eq!(status, 201, "{series}");
        let mut ids = Vec::new();
        for i in 1..TASKS {
            let (status, t) = common::create_task(
                &server,
                "alice",
                &alice,
                &json!({ "title": format!("t{i}") }),
            );
            assert_eq!(status, 201, "task {i}: {t}");
            ids.push(t["id"].as_i64().unwrap());
        }
        let fill = started.elapsed();
        let (status, body) =
            common::create_task(&server, "alice", &alice, &json!({ "title": "one more" }));
        assert_quota(status, &body, "tasks", TASKS);
        let (status, body) =
            common::create_task(&server, "bob", &bob, &json!({ "title": "bob's" }));
        assert_eq!(status, 201, "another user is not affected: {body}");

        // A delete frees a slot.
        let (status, _) = common::call(
            &server,
            "DELETE",
            &format!("/api/v1/alice/tasks/{}", ids.pop().unwrap()),
            &alice,
            None,
        );
        assert_eq!(status, 204);
        let (status, t) = common::create_task(
            &server,
            "alice",
            &alice,
            &json!({ "title": "in the freed slot" }),
        );
        assert_eq!(status, 201, "{t}");
        ids.push(t["id"].as_i64().unwrap());

        // At the quota, completing the recurring task still creates its next instance.
        let (status, done) = common::call(
            &server,
            "PATCH",
            &format!("/api/v1/alice/tasks/{}/complete", series["id"]),
            &alice,
            None,
        );
        assert_eq!(status, 200, "{done}");
        assert!(done["next_task_id"].is_i64(), "the series goes on: {done}");
        assert_eq!(
            common::total_tasks(&server, "alice", &alice),
            TASKS as u64 + 1
        );

        // Back to 10 tasks, then 30 concurrent creates: exactly 10 pass.
        for id in ids.drain(..11) {
            let (status, _) = common::call(
                &server,
                "DELETE",
                &format!("/api/v1/alice/tasks/{id}"),
                &alice,
                None,
            );
            assert_eq!(status, 204);
        }
        assert_eq!(common::total_tasks(&server, "alice", &alice), 10);
        let race = Instant::now();
        let statuses: Vec<(u16, Value)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..30)
                .map(|i| {
                    let (server, alice) = (&server, &alice);
                    s.spawn(move || {
                        common::create_task(
                            server,
                            "alice",
                            alice,
                            &json!({ "title": format!("race {i}") }),
                        )
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let race = race.elapsed();
        let created = statuses.iter().filter(|(s, _)| *s == 201).count();
        for (status, body) in statuses.iter().filter(|(s, _)| *s != 201) {
            assert_quota(*status, body, "tasks", TASKS);
        }
        assert_eq!(created, 10, "exactly the free slots were taken");
        assert_eq!(common::total_tasks(&server, "alice", &alice), TASKS as u64);
        common::report(
            "quotas/tasks",
            db,
            &format!(
                "quota {TASKS}: {TASKS} creates in {fill:?}, the next one 409 QUOTA_EXCEEDED; \
                 30 concurrent creates with 10 free slots: {created} x 201, {} x 409 in {race:?}, \
                 {TASKS} tasks afterwards; peak RSS {:.1} MiB",
                30 - created,
                common::peak_rss_mib(&server)
            ),
        );
    }
}

#[test]
fn tags_and_conversations_quotas_and_tag_activity_stays_small() {
    for db in common::databases() {
        let server = start(db);
        let alice = server.token("alice");
        let bob = server.token("bob");
        let mut tags = Vec::new();
        for i in 0..TAGS {
            let (status, tag) = common::call(
                &server,
                "POST",
                "/api/v1/alice/tags",
                &alice,
                Some(&json!({ "name": format!("tag-{i}") })),
            );
            assert_eq!(status, 201, "{tag}");
            tags.push(tag["id"].as_i64().unwrap());
        }
        let (status, body) = common::call(
            &server,
            "POST",
            "/api/v1/alice/tags",
            &alice,
            Some(&json!({ "name": "one more" })),
        );
        assert_quota(status, &body, "tags", TAGS);
        let (status, _) = common::call(
            &server,
            "POST",
            "/api/v1/bob/tags",
            &bob,
            Some(&json!({ "name": "one more" })),
        );
        assert_eq!(status, 201, "another user is not affected");

        // Attaching 40 tags: each activity entry names the one tag attached.
        let (status, task) =
            common::create_task(&server, "alice", &alice, &json!({ "title": "tagged" }));
        assert_eq!(status, 201);
        let path = format!("/api/v1/alice/tasks/{}/tags", task["id"]);
        let mut sizes = Vec::new();
        for tag in &tags[..40] {
            let (status, body) = common::call(
                &server,
                "POST",
                &path,
                &alice,
                Some(&json!({ "tag_id": tag })),
            );
            assert_eq!(status, 201, "{body}");
            let (status, log) = common::call(
                &server,
                "GET",
                "/api/v1/alice/activity-logs?limit=1",
                &alice,
                None,
            );
            assert_eq!(status, 200);
            let entry = &log["activity_logs"][0];
            assert_eq!(entry["action"], "tag-attached", "{log}");
            assert_eq!(entry["new_values"], json!({ "tag_id": tag }));
            sizes.push(serde_json::to_vec(entry).unwrap().len());
        }
        let (first, last) = (sizes[0], sizes[39]);
        assert!(
            last <= first + 8,
            "the 40th attach's entry ({last} B) is not larger than the first's ({first} B) but for its ids"
        );
        let total: usize = sizes.iter().sum();

        // Conversations: three, then 409; overwriting one is fine; a delete frees a slot.
        let conv = |id: &str, method: &str| {
            common::call(
                &server,
                method,
                &format!("/api/v1/alice/conversations/{id}"),
                &alice,
                (method == "PUT").then_some(&json!({ "messages": [] })),
            )
        };
        for i in 0..CONVERSATIONS {
            assert_eq!(conv(&format!("c{i}"), "PUT").0, 200);
        }
        let (status, body) = conv("c-extra", "PUT");
        assert_quota(status, &body, "conversations", CONVERSATIONS);
        assert_eq!(
            conv("c-extra", "GET").0,
            404,
            "the refused document is not kept"
        );
        assert_eq!(conv("c0", "PUT").0, 200, "overwriting is not creating");
        assert_eq!(conv("c0", "DELETE").0, 204);
        assert_eq!(conv("c-extra", "PUT").0, 200);
        common::report(
            "quotas/tags+conversations",
            db,
            &format!(
                "tags quota {TAGS}: the next tag 409; 40 tag attaches: activity entry {first} B \
                 (1st) .. {last} B (40th), {total} B in all (the old full-list entries grew by \
                 ~2 ids per attach); conversations quota {CONVERSATIONS}: the next one 409, \
                 overwrite 200; peak RSS {:.1} MiB",
                common::peak_rss_mib(&server)
            ),
        );
    }
}
