//! The HTTP API, black-box: every route, every error code, cross-user isolation, aliases,
//! pagination, bad input and recurring completion. Each test of the [`matrix!`] runs three
//! times: against the router in-process over the in-memory store (`memory::*`, with a manual
//! clock), and against the real `todo-server` binary over HTTP, each test with its own server,
//! on a fresh SQLite file (`sqlite_binary::*`) and on a fresh PostgreSQL database
//! (`postgres_binary::*`, skipped without `TEST_DATABASE_URL`). The tests that need the
//! in-process service (a failing store, a tiny body limit) run in-process only.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;
mod support_http;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::Request;
use serde_json::{Value, json};
use support::server::Server;
use support_http::{FailingStore, SECRET, TestApp, app, app_with, t0, token};
use todo_core::error::StoreError;

/// The real binary over the embedded default (a SQLite file in a fresh working directory), with
/// the tests' secret and no rate limit.
fn sqlite_binary() -> TestApp {
    let server = Server::start_in_temp_dir("todo-http-sqlite", &[("TODO_JWT_SECRET", secret())]);
    TestApp::over_http(&server.base.clone(), server)
}

/// The real binary over a fresh PostgreSQL database; `None` (skipped) without
/// `TEST_DATABASE_URL`, see [`support::pg_url`].
async fn postgres_binary() -> Option<TestApp> {
    support::pg_url()?;
    let url = support::fresh_pg_database().await;
    let server = Server::start_in_temp_dir(
        "todo-http-pg",
        &[("DATABASE_URL", &url), ("TODO_JWT_SECRET", secret())],
    );
    Some(TestApp::over_http(&server.base.clone(), server))
}

fn secret() -> &'static str {
    std::str::from_utf8(SECRET).unwrap()
}

/// Runs each `async fn name(app: &TestApp)` as `memory::name`, `sqlite_binary::name` and
/// `postgres_binary::name`.
macro_rules! matrix {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(&super::app()).await;
                }
            )*
        }
        mod sqlite_binary {
            $(
                #[tokio::test]
                async fn $name() {
                    super::$name(&super::sqlite_binary()).await;
                }
            )*
        }
        mod postgres_binary {
            $(
                #[tokio::test]
                async fn $name() {
                    if let Some(app) = super::postgres_binary().await {
                        super::$name(&app).await;
                    }
                }
            )*
        }
    };
}

matrix!(
    task_crud_with_the_contract_shapes,
    patch_complete_toggles_or_sets,
    recurring_completion_through_patch_creates_exactly_one_next_instance,
    task_tags_attach_and_detach,
    reminders_set_show_and_cancel,
    tag_routes,
    activity_logs_page_newest_first,
    list_query_errors_are_400,
    search_filter_and_sort_through_http,
    pagination_walks_every_task_once,
    bad_task_input_is_rejected_and_writes_nothing,
    bad_update_input_is_rejected_and_writes_nothing,
    auth_errors,
    cross_user_isolation_on_every_route,
    legacy_prefix_serves_the_same_routes,
    routing_errors_use_the_error_format,
    request_ids_are_propagated_or_generated,
    a_user_named_v1_works_under_both_prefixes,
);

const A: &str = "alice";
const B: &str = "bob";

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn set(ks: &[&str]) -> BTreeSet<String> {
    ks.iter().map(|s| (*s).to_owned()).collect()
}

const TASK_KEYS: &[&str] = &[
    "id",
    "user_id",
    "title",
    "description",
    "completed",
    "completed_at",
    "due_datetime",
    "priority",
    "recurrence_pattern",
    "rrule",
    "recurrence_end_date",
    "timezone",
    "parent_task_id",
    "next_task_id",
    "created_at",
    "updated_at",
    "tags",
    "reminder",
];

async fn task_crud_with_the_contract_shapes(app: &TestApp) {
    let tag = app.create_tag(A, "work").await;
    let task = app
        .create_task(
            A,
            json!({
                "title": "  Complete project report ",
                "description": "Final report for Q4",
                "due_datetime": "2099-02-20T16:00:00+01:00",
                "priority": "High",
                "recurrence_pattern": "weekly",
                "recurrence_end_date": "2099-06-30T23:59:59Z",
                "timezone": "Europe/Berlin",
                "tag_ids": [tag["id"]]
            }),
        )
        .await;
    assert_eq!(keys(&task), set(TASK_KEYS));
    assert_eq!(task["user_id"], A);
    assert_eq!(task["title"], "Complete project report");
    assert_eq!(task["description"], "Final report for Q4");
    assert_eq!(task["completed"], false);
    assert_eq!(task["completed_at"], Value::Null);
    assert_eq!(task["due_datetime"], "2099-02-20T15:00:00Z");
    assert_eq!(task["priority"], "High");
    assert_eq!(task["recurrence_pattern"], "weekly");
    assert_eq!(task["rrule"], Value::Null);
    assert_eq!(task["recurrence_end_date"], "2099-06-30T23:59:59Z");
    assert_eq!(task["timezone"], "Europe/Berlin");
    assert_eq!(task["parent_task_id"], Value::Null);
    assert_eq!(task["next_task_id"], Value::Null);
    app.assert_clock_time(&task["created_at"], t0());
    assert_eq!(task["updated_at"], task["created_at"]);
    assert_eq!(
        task["tags"],
        json!([{ "id": tag["id"], "name": "work", "color": "#3B82F6" }])
    );
    assert_eq!(task["reminder"], Value::Null);
    let id = task["id"].as_i64().unwrap();
    let path = format!("/api/v1/{A}/tasks/{id}");

    let got = app.call("GET", &path, A, None).await;
    assert_eq!(got.ok(200), &task);

    let list = app
        .call("GET", &format!("/api/v1/{A}/tasks"), A, None)
        .await;
    let list = list.ok(200);
    assert_eq!(keys(list), set(&["tasks", "total", "limit", "offset"]));
    assert_eq!(list["total"], 1);
    assert_eq!(list["limit"], 50);
    assert_eq!(list["offset"], 0);
    assert_eq!(list["tasks"][0], task);

    let upd = app
        .call(
            "PUT",
            &path,
            A,
            Some(json!({ "title": "Updated", "description": null, "priority": "Low" })),
        )
        .await;
    let upd = upd.ok(200);
    assert_eq!(keys(upd), set(TASK_KEYS));
    assert_eq!(upd["title"], "Updated");
    assert_eq!(upd["description"], Value::Null);
    assert_eq!(upd["priority"], "Low");
    assert_eq!(upd["due_datetime"], "2099-02-20T15:00:00Z");

    // RRULE tasks show pattern "none" plus the rule.
    let rr = app
        .create_task(
            A,
            json!({ "title": "rr", "due_datetime": "2099-03-02T09:00:00Z", "rrule": "FREQ=WEEKLY;BYDAY=MO,WE" }),
        )
        .await;
    assert_eq!(rr["recurrence_pattern"], "none");
    assert_eq!(rr["rrule"], "FREQ=WEEKLY;BYDAY=MO,WE");
    assert_eq!(rr["timezone"], "UTC");
    assert_eq!(rr["priority"], "Medium");

    let del = app.call("DELETE", &path, A, None).await;
    assert_eq!(del.status, 204);
    assert_eq!(del.body, Value::Null);
    app.call("GET", &path, A, None)
        .await
        .assert_error(404, "NOT_FOUND");
    // Documented: a second delete answers 404.
    app.call("DELETE", &path, A, None)
        .await
        .assert_error(404, "NOT_FOUND");
}

async fn patch_complete_toggles_or_sets(app: &TestApp) {
    let t = app.create_task(A, json!({ "title": "x" })).await;
    let path = format!("/api/v1/{A}/tasks/{}/complete", t["id"]);
    let r = app.call("PATCH", &path, A, None).await;
    assert_eq!(r.ok(200)["completed"], true);
    app.assert_clock_time(&r.body["completed_at"], t0());
    let r = app.call("PATCH", &path, A, None).await;
    assert_eq!(r.ok(200)["completed"], false);
    assert_eq!(r.body["completed_at"], Value::Null);
    for want in [true, true, false, false] {
        let r = app
            .call("PATCH", &path, A, Some(json!({ "completed": want })))
            .await;
        assert_eq!(r.ok(200)["completed"], want);
    }
    // `{}` and `{"completed": null}` toggle as well.
    let r = app.call("PATCH", &path, A, Some(json!({}))).await;
    assert_eq!(r.ok(200)["completed"], true);
    let r = app
        .call("PATCH", &path, A, Some(json!({ "completed": null })))
        .await;
    assert_eq!(r.ok(200)["completed"], false);
    // Wrong types and unknown fields.
    app.call("PATCH", &path, A, Some(json!({ "completed": "yes" })))
        .await
        .assert_error(422, "VALIDATION_ERROR");
    app.call("PATCH", &path, A, Some(json!({ "done": true })))
        .await
        .assert_error(422, "VALIDATION_ERROR");
    app.raw(
        "PATCH",
        &path,
        A,
        Some("text/plain"),
        "{\"completed\":true}",
    )
    .await
    .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    app.raw(
        "PATCH",
        &path,
        A,
        Some("application/json"),
        "{\"completed\":",
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");
}

async fn recurring_completion_through_patch_creates_exactly_one_next_instance(app: &TestApp) {
    let t = app
        .create_task(
            A,
            json!({ "title": "daily", "due_datetime": "2099-02-16T08:00:00Z", "recurrence_pattern": "daily" }),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    let path = format!("/api/v1/{A}/tasks/{id}/complete");
    let done = app.call("PATCH", &path, A, None).await;
    let done = done.ok(200).clone();
    assert_eq!(done["completed"], true);
    let next_id = done["next_task_id"].as_i64().expect("next_task_id set");
    let next = app
        .call("GET", &format!("/api/v1/{A}/tasks/{next_id}"), A, None)
        .await;
    let next = next.ok(200);
    assert_eq!(next["parent_task_id"], id);
    assert_eq!(next["due_datetime"], "2099-02-17T08:00:00Z");
    assert_eq!(next["completed"], false);
    assert_eq!(next["recurrence_pattern"], "daily");

    // Completing again, re-opening and completing, never creates a second one.
    app.call("PATCH", &path, A, Some(json!({ "completed": true })))
        .await
        .ok(200);
    app.call("PATCH", &path, A, None).await.ok(200); // re-open
    let again = app.call("PATCH", &path, A, None).await;
    assert_eq!(again.ok(200)["next_task_id"], next_id);
    let list = app
        .call("GET", &format!("/api/v1/{A}/tasks?limit=100"), A, None)
        .await;
    assert_eq!(list.ok(200)["total"], 2);
}

async fn task_tags_attach_and_detach(app: &TestApp) {
    let tag = app.create_tag(A, "urgent").await;
    let t = app.create_task(A, json!({ "title": "x" })).await;
    let path = format!("/api/v1/{A}/tasks/{}/tags", t["id"]);
    let r = app
        .call("POST", &path, A, Some(json!({ "tag_id": tag["id"] })))
        .await;
    let r = r.ok(201);
    assert_eq!(keys(r), set(TASK_KEYS));
    assert_eq!(
        r["tags"],
        json!([{ "id": tag["id"], "name": "urgent", "color": "#3B82F6" }])
    );
    app.call("POST", &path, A, Some(json!({ "tag_id": tag["id"] })))
        .await
        .assert_error(409, "CONFLICT");
    app.call("POST", &path, A, Some(json!({ "tag_id": 9999 })))
        .await
        .assert_error(404, "NOT_FOUND");
    app.call("POST", &path, A, Some(json!({})))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    app.call("POST", &path, A, Some(json!({ "tag_id": "1" })))
        .await
        .assert_error(422, "VALIDATION_ERROR");
    app.call("POST", &path, A, Some(json!({ "tag_id": -1 })))
        .await
        .assert_error(422, "VALIDATION_ERROR");
    let r = app
        .call("DELETE", &format!("{path}/{}", tag["id"]), A, None)
        .await;
    assert_eq!(r.ok(200)["tags"], json!([]));
    app.call("DELETE", &format!("{path}/abc"), A, None)
        .await
        .assert_error(400, "VALIDATION_ERROR");
}

async fn reminders_set_show_and_cancel(app: &TestApp) {
    let t = app
        .create_task(
            A,
            json!({ "title": "x", "due_datetime": "2099-02-20T15:00:00Z" }),
        )
        .await;
    let path = format!("/api/v1/{A}/tasks/{}/reminder", t["id"]);
    let r = app
        .call(
            "POST",
            &path,
            A,
            Some(json!({ "reminder_time": "2099-02-20T14:30:00Z", "reminder_type": "due_date" })),
        )
        .await;
    let r = r.ok(201).clone();
    assert_eq!(
        keys(&r),
        set(&[
            "id",
            "task_id",
            "reminder_time",
            "reminder_type",
            "status",
            "created_at"
        ])
    );
    assert_eq!(r["task_id"], t["id"]);
    assert_eq!(r["reminder_time"], "2099-02-20T14:30:00Z");
    assert_eq!(r["reminder_type"], "due_date");
    assert_eq!(r["status"], "pending");
    app.assert_clock_time(&r["created_at"], t0());
    let task = app
        .call("GET", &format!("/api/v1/{A}/tasks/{}", t["id"]), A, None)
        .await;
    assert_eq!(task.ok(200)["reminder"], r);

    // Bad input: past time, unknown type, wrong type, missing field.
    for (body, status) in [
        (json!({ "reminder_time": "2020-01-01T00:00:00Z" }), 400),
        (
            json!({ "reminder_time": "2099-02-20T14:30:00Z", "reminder_type": "sometimes" }),
            400,
        ),
        (json!({ "reminder_time": "not a date" }), 400),
        (json!({ "reminder_time": 5 }), 422),
        (json!({}), 400),
    ] {
        app.call("POST", &path, A, Some(body))
            .await
            .assert_error(status, "VALIDATION_ERROR");
    }

    let c = app.call("DELETE", &path, A, None).await;
    let c = c.ok(200);
    assert_eq!(keys(c), set(&["id", "status", "cancelled_at"]));
    assert_eq!(c["id"], r["id"]);
    assert_eq!(c["status"], "cancelled");
    app.assert_clock_time(&c["cancelled_at"], t0());
    let c = c.clone();
    // Cancelling again is idempotent: the same answer, nothing written.
    let before = app.activity_total(A).await;
    let again = app.call("DELETE", &path, A, None).await;
    assert_eq!(again.ok(200), &c);
    assert_eq!(app.activity_total(A).await, before);
    let shown = app
        .call("GET", &format!("/api/v1/{A}/tasks/{}", t["id"]), A, None)
        .await;
    assert_eq!(shown.ok(200)["reminder"], Value::Null);
    // A task that never had a reminder: 404.
    let bare = app.create_task(A, json!({ "title": "bare" })).await;
    app.call(
        "DELETE",
        &format!("/api/v1/{A}/tasks/{}/reminder", bare["id"]),
        A,
        None,
    )
    .await
    .assert_error(404, "NOT_FOUND");

    // A completed task takes no new reminder.
    app.call(
        "PATCH",
        &format!("/api/v1/{A}/tasks/{}/complete", t["id"]),
        A,
        None,
    )
    .await
    .ok(200);
    app.call(
        "POST",
        &path,
        A,
        Some(json!({ "reminder_time": "2099-02-20T14:30:00Z" })),
    )
    .await
    .assert_error(409, "CONFLICT");
}

async fn tag_routes(app: &TestApp) {
    let tag = app
        .call(
            "POST",
            &format!("/api/v1/{A}/tags"),
            A,
            Some(json!({ "name": "personal", "color": "#10b981" })),
        )
        .await;
    let tag = tag.ok(201).clone();
    assert_eq!(
        keys(&tag),
        set(&["id", "user_id", "name", "color", "created_at"])
    );
    assert_eq!(tag["user_id"], A);
    assert_eq!(tag["name"], "personal");
    assert_eq!(tag["color"], "#10B981");
    app.assert_clock_time(&tag["created_at"], t0());
    app.call(
        "POST",
        &format!("/api/v1/{A}/tags"),
        A,
        Some(json!({ "name": "PERSONAL" })),
    )
    .await
    .assert_error(409, "CONFLICT");
    for (body, status) in [
        (json!({ "name": "" }), 400),
        (json!({ "name": "x".repeat(51) }), 400),
        (json!({ "name": "ok", "color": "blue" }), 400),
        (json!({ "name": 1 }), 422),
        (json!({ "name": "ok", "extra": 1 }), 422),
    ] {
        app.call("POST", &format!("/api/v1/{A}/tags"), A, Some(body))
            .await
            .assert_error(status, "VALIDATION_ERROR");
    }
    app.create_task(A, json!({ "title": "t", "tag_ids": [tag["id"]] }))
        .await;
    let list = app.call("GET", &format!("/api/v1/{A}/tags"), A, None).await;
    assert_eq!(
        list.ok(200),
        &json!({ "tags": [{ "id": tag["id"], "name": "personal", "color": "#10B981", "task_count": 1 }] })
    );
    let path = format!("/api/v1/{A}/tags/{}", tag["id"]);
    let upd = app
        .call(
            "PUT",
            &path,
            A,
            Some(json!({ "name": "home", "color": "#EF4444" })),
        )
        .await;
    let upd = upd.ok(200);
    assert_eq!(
        keys(upd),
        set(&["id", "user_id", "name", "color", "created_at"])
    );
    assert_eq!(upd["name"], "home");
    assert_eq!(upd["color"], "#EF4444");
    let del = app.call("DELETE", &path, A, None).await;
    assert_eq!(del.status, 204);
    app.call("DELETE", &path, A, None)
        .await
        .assert_error(404, "NOT_FOUND");
    app.call("PUT", &path, A, Some(json!({ "name": "again" })))
        .await
        .assert_error(404, "NOT_FOUND");
    let list = app
        .call("GET", &format!("/api/v1/{A}/tasks"), A, None)
        .await;
    assert_eq!(list.ok(200)["tasks"][0]["tags"], json!([]));
}

async fn activity_logs_page_newest_first(app: &TestApp) {
    let t = app
        .create_task(A, json!({ "title": "report", "priority": "High" }))
        .await;
    app.call(
        "PATCH",
        &format!("/api/v1/{A}/tasks/{}/complete", t["id"]),
        A,
        None,
    )
    .await
    .ok(200);
    let r = app
        .call("GET", &format!("/api/v1/{A}/activity-logs"), A, None)
        .await;
    let r = r.ok(200);
    assert_eq!(keys(r), set(&["activity_logs", "total", "limit", "offset"]));
    assert_eq!(r["total"], 2);
    assert_eq!(r["limit"], 20);
    assert_eq!(r["offset"], 0);
    let first = &r["activity_logs"][0];
    assert_eq!(
        keys(first),
        set(&[
            "id",
            "user_id",
            "task_id",
            "action",
            "old_values",
            "new_values",
            "created_at"
        ])
    );
    assert_eq!(first["action"], "task-completed");
    assert_eq!(first["old_values"]["completed"], false);
    assert_eq!(first["new_values"]["completed"], true);
    assert_eq!(first["task_id"], t["id"]);
    assert_eq!(r["activity_logs"][1]["action"], "task-created");
    assert_eq!(r["activity_logs"][1]["old_values"], Value::Null);
    assert_eq!(r["activity_logs"][1]["new_values"]["title"], "report");

    let p = app
        .call(
            "GET",
            &format!("/api/v1/{A}/activity-logs?limit=1&offset=1"),
            A,
            None,
        )
        .await;
    let p = p.ok(200);
    assert_eq!(p["limit"], 1);
    assert_eq!(p["offset"], 1);
    assert_eq!(p["activity_logs"].as_array().unwrap().len(), 1);
    assert_eq!(p["activity_logs"][0]["action"], "task-created");
    for q in ["limit=0", "limit=101", "offset=-1", "limit=abc"] {
        app.call("GET", &format!("/api/v1/{A}/activity-logs?{q}"), A, None)
            .await
            .assert_error(400, "VALIDATION_ERROR");
    }
}

async fn list_query_errors_are_400(app: &TestApp) {
    for q in [
        "limit=0",
        "limit=101",
        "offset=-5",
        "sort_by=bogus",
        "sort_order=up",
        "status=done",
        "priority=Urgent",
        "due_date_start=yesterday",
        "tags=a,b",
    ] {
        let r = app
            .call("GET", &format!("/api/v1/{A}/tasks?{q}"), A, None)
            .await;
        let d = r.assert_error(400, "VALIDATION_ERROR");
        assert!(d["field"].is_string(), "{q}: {d}");
        assert!(d["errors"].as_array().is_some_and(|e| !e.is_empty()));
    }
}

async fn search_filter_and_sort_through_http(app: &TestApp) {
    app.create_task(A, json!({ "title": "Write report", "priority": "High" }))
        .await;
    app.create_task(A, json!({ "title": "Buy milk 🥛", "priority": "Low" }))
        .await;
    app.create_task(A, json!({ "title": "'; DROP TABLE tasks; --" }))
        .await;
    let r = app
        .call(
            "GET",
            &format!("/api/v1/{A}/tasks?search=REPORT&priority=High,Medium"),
            A,
            None,
        )
        .await;
    let r = r.ok(200);
    assert_eq!(r["total"], 1);
    assert_eq!(r["tasks"][0]["title"], "Write report");
    let r = app
        .call(
            "GET",
            &format!("/api/v1/{A}/tasks?search=%F0%9F%A5%9B"),
            A,
            None,
        )
        .await;
    assert_eq!(r.ok(200)["tasks"][0]["title"], "Buy milk 🥛");
    let r = app
        .call(
            "GET",
            &format!("/api/v1/{A}/tasks?search=%27%3B+DROP+TABLE"),
            A,
            None,
        )
        .await;
    assert_eq!(r.ok(200)["total"], 1);
    let r = app
        .call(
            "GET",
            &format!("/api/v1/{A}/tasks?sort_by=title&sort_order=asc"),
            A,
            None,
        )
        .await;
    let titles: Vec<_> = r.ok(200)["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        titles,
        ["'; DROP TABLE tasks; --", "Buy milk 🥛", "Write report"]
    );
}

async fn pagination_walks_every_task_once(app: &TestApp) {
    for i in 0..23 {
        let due = if i % 3 == 0 {
            Value::Null
        } else {
            json!(format!("2099-03-{:02}T10:00:00Z", 1 + i % 5))
        };
        let prio = ["High", "Medium", "Low"][i % 3];
        app.create_task(
            A,
            json!({ "title": format!("task {}", i % 4), "due_datetime": due, "priority": prio }),
        )
        .await;
        // Ties in `created_at` in-process; the binary's clock moves by itself.
        if let (0, Some(clock)) = (i % 2, app.try_clock()) {
            clock.advance(chrono::Duration::seconds(1));
        }
    }
    for sort in ["created_at", "due_datetime", "priority", "title"] {
        for order in ["asc", "desc"] {
            let mut seen = Vec::new();
            let mut offset = 0;
            loop {
                let r = app
                    .call(
                        "GET",
                        &format!(
                            "/api/v1/{A}/tasks?sort_by={sort}&sort_order={order}&limit=4&offset={offset}"
                        ),
                        A,
                        None,
                    )
                    .await;
                let r = r.ok(200);
                assert_eq!(r["total"], 23);
                let page = r["tasks"].as_array().unwrap();
                if page.is_empty() {
                    break;
                }
                seen.extend(page.iter().map(|t| t["id"].as_i64().unwrap()));
                offset += 4;
            }
            let unique: BTreeSet<_> = seen.iter().collect();
            assert_eq!(seen.len(), 23, "{sort} {order}: no overlap");
            assert_eq!(unique.len(), 23, "{sort} {order}: no skip");
        }
    }
}

async fn bad_task_input_is_rejected_and_writes_nothing(app: &TestApp) {
    let tag = app.create_tag(A, "mine").await;
    let other = app.create_tag(B, "theirs").await;
    let before = app.activity_total(A).await;
    let path = format!("/api/v1/{A}/tasks");
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({}), 400, "title"),
        (json!({ "title": "   " }), 400, "title"),
        (json!({ "title": "x".repeat(201) }), 400, "title"),
        (json!({ "title": "🦀".repeat(201) }), 400, "title"),
        (
            json!({ "title": "x", "description": "d".repeat(4001) }),
            400,
            "description",
        ),
        (json!({ "title": 5 }), 422, "title"),
        (json!({ "title": ["a"] }), 422, "title"),
        (json!({ "title": "x", "completed": true }), 422, "completed"),
        (json!({ "title": "x", "nope": 1 }), 422, "nope"),
        (
            json!({ "title": "x", "priority": "Urgent" }),
            400,
            "priority",
        ),
        (json!({ "title": "x", "priority": 1 }), 422, "priority"),
        (
            json!({ "title": "x", "due_datetime": "2026-13-45T00:00:00Z" }),
            400,
            "due_datetime",
        ),
        (
            json!({ "title": "x", "due_datetime": "2026-02-20 15:00" }),
            400,
            "due_datetime",
        ),
        (
            json!({ "title": "x", "due_datetime": "2026-02-20T15:00:00" }),
            400,
            "due_datetime",
        ),
        (
            json!({ "title": "x", "due_datetime": "2020-01-01T00:00:00Z" }),
            400,
            "due_datetime",
        ),
        (
            json!({ "title": "x", "recurrence_pattern": "hourly", "due_datetime": "2099-02-20T15:00:00Z" }),
            400,
            "recurrence_pattern",
        ),
        (
            json!({ "title": "x", "recurrence_pattern": "daily" }),
            400,
            "due_datetime",
        ),
        (
            json!({ "title": "x", "rrule": "FREQ=SOMETIMES", "due_datetime": "2099-02-20T15:00:00Z" }),
            400,
            "rrule",
        ),
        (
            json!({ "title": "x", "timezone": "Mars/Olympus", "due_datetime": "2099-02-20T15:00:00Z" }),
            400,
            "timezone",
        ),
        (json!({ "title": "x", "tag_ids": [9999] }), 422, "tag_ids"),
        (
            json!({ "title": "x", "tag_ids": [other["id"]] }),
            422,
            "tag_ids",
        ),
        (json!({ "title": "x", "tag_ids": ["1"] }), 422, "tag_ids[0]"),
        (
            json!({ "title": "x", "tag_ids": [tag["id"], "'; DROP TABLE tags; --"] }),
            422,
            "tag_ids[1]",
        ),
        (json!([]), 422, "body"),
        (json!("title"), 422, "body"),
        (json!(null), 422, "body"),
    ];
    for (body, status, field) in cases {
        let r = app.call("POST", &path, A, Some(body.clone())).await;
        let d = r.assert_error(status, "VALIDATION_ERROR");
        assert_eq!(d["field"], field, "{body}: {d}");
        assert!(!d["errors"].as_array().unwrap().is_empty());
        let e = &d["errors"][0];
        assert_eq!(keys(e), set(&["field", "code", "message"]));
    }
    // Malformed JSON -> 400; wrong or missing content type -> 415.
    for raw in [
        "{",
        "{\"title\": }",
        "nul",
        "{\"title\":\"x\"} trailing",
        "\u{0}",
    ] {
        app.raw("POST", &path, A, Some("application/json"), raw)
            .await
            .assert_error(400, "VALIDATION_ERROR");
    }
    app.raw("POST", &path, A, Some("application/json"), "")
        .await
        .assert_error(400, "VALIDATION_ERROR");
    app.raw("POST", &path, A, None, "{\"title\":\"x\"}")
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    app.raw("POST", &path, A, Some("text/plain"), "{\"title\":\"x\"}")
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    app.raw(
        "POST",
        &path,
        A,
        Some("application/x-www-form-urlencoded"),
        "title=x",
    )
    .await
    .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    // Deep nesting is malformed, not a crash.
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    app.raw("POST", &path, A, Some("application/json"), deep)
        .await
        .assert_error(400, "VALIDATION_ERROR");
    // Too large -> 413, with and without Content-Length.
    let big = json!({ "title": "x", "description": "d".repeat(70_000) }).to_string();
    app.raw("POST", &path, A, Some("application/json"), big.clone())
        .await
        .assert_error(413, "PAYLOAD_TOO_LARGE");
    let stream = Body::from_stream(futures_util::stream::iter(
        big.into_bytes()
            .chunks(1000)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    ));
    let req = Request::builder()
        .method("POST")
        .uri(&path)
        .header("authorization", format!("Bearer {}", token(A)))
        .header("content-type", "application/json")
        .body(stream)
        .unwrap();
    app.send(req).await.assert_error(413, "PAYLOAD_TOO_LARGE");

    // Nothing was written.
    assert_eq!(app.activity_total(A).await, before);
    let list = app.call("GET", &path, A, None).await;
    assert_eq!(list.ok(200)["total"], 0);

    // Metacharacters and emoji in valid input are stored verbatim; charset parameters are fine.
    let r = app
        .raw(
            "POST",
            &path,
            A,
            Some("application/json; charset=utf-8"),
            json!({ "title": "Robert'); DROP TABLE tasks;-- 🎉", "description": "%_\\ \" <script>", "priority": "low" })
                .to_string(),
        )
        .await;
    let r = r.ok(201);
    assert_eq!(r["title"], "Robert'); DROP TABLE tasks;-- 🎉");
    assert_eq!(r["description"], "%_\\ \" <script>");
    let ok = app
        .create_task(A, json!({ "title": "🦀".repeat(200) }))
        .await;
    assert_eq!(ok["title"].as_str().unwrap().chars().count(), 200);
}

async fn bad_update_input_is_rejected_and_writes_nothing(app: &TestApp) {
    let t = app.create_task(A, json!({ "title": "keep" })).await;
    let path = format!("/api/v1/{A}/tasks/{}", t["id"]);
    let before = app.activity_total(A).await;
    for (body, status) in [
        (json!({ "title": null }), 400),
        (json!({ "title": "" }), 400),
        (json!({ "title": 7 }), 422),
        (json!({ "priority": "urgent!" }), 400),
        (json!({ "due_datetime": "tomorrow" }), 400),
        (json!({ "recurrence_pattern": "daily" }), 400),
        (json!({ "tag_ids": [12345] }), 422),
        (json!({ "id": 5 }), 422),
        (json!(42), 422),
    ] {
        app.call("PUT", &path, A, Some(body.clone()))
            .await
            .assert_error(status, "VALIDATION_ERROR");
    }
    assert_eq!(app.activity_total(A).await, before);
    let got = app.call("GET", &path, A, None).await;
    assert_eq!(got.ok(200), &t);
}

async fn auth_errors(app: &TestApp) {
    let path = format!("/api/v1/{A}/tasks");
    let send = |auth: Option<String>| {
        let mut b = Request::builder().uri(&path);
        if let Some(a) = auth {
            b = b.header("authorization", a);
        }
        b.body(Body::empty()).unwrap()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sign = |claims: Value, secret: &[u8]| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret),
        )
        .unwrap()
    };
    let expired = sign(
        json!({ "sub": A, "exp": now - 120, "iat": now - 3600 }),
        SECRET,
    );
    let no_exp = sign(json!({ "sub": A }), SECRET);
    let no_sub = sign(json!({ "exp": now + 600 }), SECRET);
    let bad_sub = sign(json!({ "sub": "has space", "exp": now + 600 }), SECRET);
    let wrong_secret = sign(json!({ "sub": A, "exp": now + 600 }), b"other");
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &json!({ "sub": A, "exp": now + 600 }),
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    for auth in [
        None,
        Some(String::new()),
        Some("Bearer".to_owned()),
        Some("Bearer ".to_owned()),
        Some(format!("Basic {}", token(A))),
        Some("Bearer not.a.jwt".to_owned()),
        Some(format!("Bearer {expired}")),
        Some(format!("Bearer {no_exp}")),
        Some(format!("Bearer {no_sub}")),
        Some(format!("Bearer {bad_sub}")),
        Some(format!("Bearer {wrong_secret}")),
        Some(format!("Bearer {hs512}")),
    ] {
        app.send(send(auth.clone()))
            .await
            .assert_error(401, "UNAUTHORIZED");
    }
    // Within the leeway (5 s by default) an expired token still passes.
    let just_expired = sign(json!({ "sub": A, "exp": now - 1 }), SECRET);
    app.send(send(Some(format!("Bearer {just_expired}"))))
        .await
        .ok(200);
    // Case-insensitive scheme.
    app.send(send(Some(format!("bearer {}", token(A)))))
        .await
        .ok(200);
    // Another user's token -> 403; an invalid user id in the path -> 400.
    app.call("GET", &path, B, None)
        .await
        .assert_error(403, "FORBIDDEN");
    let long = "u".repeat(300);
    app.call("GET", &format!("/api/v1/{long}/tasks"), A, None)
        .await
        .assert_error(400, "VALIDATION_ERROR");
    app.call("GET", "/api/v1/a%20b/tasks", A, None)
        .await
        .assert_error(400, "VALIDATION_ERROR");
    // Auth is checked before the body: no token + bad body -> 401.
    let req = Request::builder()
        .method("POST")
        .uri(&path)
        .header("content-type", "text/plain")
        .body(Body::from("x"))
        .unwrap();
    app.send(req).await.assert_error(401, "UNAUTHORIZED");
}

async fn cross_user_isolation_on_every_route(app: &TestApp) {
    let tag_a = app.create_tag(A, "a-tag").await;
    let task_a = app
        .create_task(
            A,
            json!({ "title": "secret", "due_datetime": "2099-02-20T15:00:00Z", "tag_ids": [tag_a["id"]] }),
        )
        .await;
    app.call(
        "POST",
        &format!("/api/v1/{A}/tasks/{}/reminder", task_a["id"]),
        A,
        Some(json!({ "reminder_time": "2099-02-20T14:00:00Z" })),
    )
    .await
    .ok(201);
    let tag_b = app.create_tag(B, "b-tag").await;
    let task_b = app.create_task(B, json!({ "title": "mine" })).await;
    let a_before = app
        .call(
            "GET",
            &format!("/api/v1/{A}/tasks/{}", task_a["id"]),
            A,
            None,
        )
        .await
        .body;
    let a_activity = app.activity_total(A).await;

    let (ta, ga, tb, gb) = (&task_a["id"], &tag_a["id"], &task_b["id"], &tag_b["id"]);
    let remind = json!({ "reminder_time": "2099-02-20T14:00:00Z" });
    // B on B's own path, naming A's ids: 404 everywhere.
    let b_routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/tasks/{ta}"), None),
        (
            "PUT",
            format!("/tasks/{ta}"),
            Some(json!({ "title": "pwned" })),
        ),
        ("PATCH", format!("/tasks/{ta}/complete"), None),
        ("DELETE", format!("/tasks/{ta}"), None),
        (
            "POST",
            format!("/tasks/{ta}/tags"),
            Some(json!({ "tag_id": gb })),
        ),
        (
            "POST",
            format!("/tasks/{tb}/tags"),
            Some(json!({ "tag_id": ga })),
        ),
        ("DELETE", format!("/tasks/{ta}/tags/{ga}"), None),
        ("DELETE", format!("/tasks/{tb}/tags/{ga}"), None),
        (
            "POST",
            format!("/tasks/{ta}/reminder"),
            Some(remind.clone()),
        ),
        ("DELETE", format!("/tasks/{ta}/reminder"), None),
        (
            "PUT",
            format!("/tags/{ga}"),
            Some(json!({ "name": "pwned" })),
        ),
        ("DELETE", format!("/tags/{ga}"), None),
    ];
    for (m, p, body) in &b_routes {
        for prefix in ["/api/v1", "/api"] {
            let r = app
                .call(m, &format!("{prefix}/{B}{p}"), B, body.clone())
                .await;
            r.assert_error(404, "NOT_FOUND");
        }
    }
    // Referencing A's tag in B's task body is 422 (unknown tag id).
    app.call(
        "PUT",
        &format!("/api/v1/{B}/tasks/{tb}"),
        B,
        Some(json!({ "tag_ids": [ga] })),
    )
    .await
    .assert_error(422, "VALIDATION_ERROR");
    // B's lists show only B's things.
    let l = app
        .call("GET", &format!("/api/v1/{B}/tasks"), B, None)
        .await;
    assert_eq!(l.ok(200)["total"], 1);
    assert_eq!(l.body["tasks"][0]["id"], *tb);
    let l = app
        .call("GET", &format!("/api/v1/{B}/tasks?tags={ga}"), B, None)
        .await;
    assert_eq!(l.ok(200)["total"], 0);
    let tags = app.call("GET", &format!("/api/v1/{B}/tags"), B, None).await;
    assert_eq!(tags.ok(200)["tags"].as_array().unwrap().len(), 1);
    assert_eq!(tags.body["tags"][0]["id"], *gb);
    let act = app
        .call(
            "GET",
            &format!("/api/v1/{B}/activity-logs?limit=100"),
            B,
            None,
        )
        .await;
    for e in act.ok(200)["activity_logs"].as_array().unwrap() {
        assert_eq!(e["user_id"], B);
    }

    // B's token on A's path: 403 on every route, also for the list routes.
    let mut a_routes = b_routes.clone();
    a_routes.extend([
        ("GET", "/tasks".to_owned(), None),
        ("POST", "/tasks".to_owned(), Some(json!({ "title": "x" }))),
        ("GET", "/tags".to_owned(), None),
        ("POST", "/tags".to_owned(), Some(json!({ "name": "x" }))),
        ("GET", "/activity-logs".to_owned(), None),
    ]);
    for (m, p, body) in &a_routes {
        for prefix in ["/api/v1", "/api"] {
            let r = app
                .call(m, &format!("{prefix}/{A}{p}"), B, body.clone())
                .await;
            r.assert_error(403, "FORBIDDEN");
        }
    }

    // A's data is untouched.
    let a_after = app
        .call("GET", &format!("/api/v1/{A}/tasks/{ta}"), A, None)
        .await;
    assert_eq!(a_after.ok(200), &a_before);
    assert_eq!(a_after.body["reminder"]["status"], "pending");
    assert_eq!(app.activity_total(A).await, a_activity);
    let tags = app.call("GET", &format!("/api/v1/{A}/tags"), A, None).await;
    assert_eq!(tags.ok(200)["tags"][0]["name"], "a-tag");
}

async fn legacy_prefix_serves_the_same_routes(app: &TestApp) {
    let tag = app
        .call(
            "POST",
            &format!("/api/{A}/tags"),
            A,
            Some(json!({ "name": "old" })),
        )
        .await;
    let tag = tag.ok(201).clone();
    let t = app
        .call(
            "POST",
            &format!("/api/{A}/tasks"),
            A,
            Some(json!({ "title": "legacy", "due_datetime": "2099-02-20T15:00:00Z" })),
        )
        .await;
    let t = t.ok(201).clone();
    let id = &t["id"];
    app.call("GET", &format!("/api/{A}/tasks"), A, None)
        .await
        .ok(200);
    app.call("GET", &format!("/api/{A}/tasks/{id}"), A, None)
        .await
        .ok(200);
    app.call(
        "PUT",
        &format!("/api/{A}/tasks/{id}"),
        A,
        Some(json!({ "priority": "High" })),
    )
    .await
    .ok(200);
    app.call(
        "POST",
        &format!("/api/{A}/tasks/{id}/tags"),
        A,
        Some(json!({ "tag_id": tag["id"] })),
    )
    .await
    .ok(201);
    app.call(
        "DELETE",
        &format!("/api/{A}/tasks/{id}/tags/{}", tag["id"]),
        A,
        None,
    )
    .await
    .ok(200);
    app.call(
        "POST",
        &format!("/api/{A}/tasks/{id}/reminder"),
        A,
        Some(json!({ "reminder_time": "2099-02-20T14:00:00Z" })),
    )
    .await
    .ok(201);
    app.call("DELETE", &format!("/api/{A}/tasks/{id}/reminder"), A, None)
        .await
        .ok(200);
    app.call("PATCH", &format!("/api/{A}/tasks/{id}/complete"), A, None)
        .await
        .ok(200);
    app.call("GET", &format!("/api/{A}/tags"), A, None)
        .await
        .ok(200);
    app.call(
        "PUT",
        &format!("/api/{A}/tags/{}", tag["id"]),
        A,
        Some(json!({ "color": "#000000" })),
    )
    .await
    .ok(200);
    let act = app
        .call("GET", &format!("/api/{A}/activity-logs"), A, None)
        .await;
    assert!(act.ok(200)["total"].as_u64().unwrap() >= 8);
    assert_eq!(
        app.call("DELETE", &format!("/api/{A}/tags/{}", tag["id"]), A, None)
            .await
            .status,
        204
    );
    assert_eq!(
        app.call("DELETE", &format!("/api/{A}/tasks/{id}"), A, None)
            .await
            .status,
        204
    );
    // The same data under both prefixes.
    let v1 = app
        .call("GET", &format!("/api/v1/{A}/tasks"), A, None)
        .await;
    let old = app.call("GET", &format!("/api/{A}/tasks"), A, None).await;
    assert_eq!(v1.body, old.body);
}

async fn routing_errors_use_the_error_format(app: &TestApp) {
    let r = app.call("GET", "/nope", A, None).await;
    r.assert_error(404, "NOT_FOUND");
    app.call("GET", &format!("/api/v1/{A}/unknown"), A, None)
        .await
        .assert_error(404, "NOT_FOUND");
    let r = app
        .call("PATCH", &format!("/api/v1/{A}/tasks"), A, None)
        .await;
    r.assert_error(405, "METHOD_NOT_ALLOWED");
    assert!(r.headers.contains_key("allow"));
    app.call("GET", &format!("/api/v1/{A}/tasks/1/complete"), A, None)
        .await
        .assert_error(405, "METHOD_NOT_ALLOWED");
    for bad in ["abc", "0", "-3", "99999999999999999999999", "1.5"] {
        let r = app
            .call("GET", &format!("/api/v1/{A}/tasks/{bad}"), A, None)
            .await;
        let d = r.assert_error(400, "VALIDATION_ERROR");
        assert_eq!(d["field"], "task_id");
    }
    let d = app
        .call("PUT", &format!("/api/v1/{A}/tags/x"), A, Some(json!({})))
        .await;
    assert_eq!(d.assert_error(400, "VALIDATION_ERROR")["field"], "tag_id");
    // Invalid UTF-8 in a percent-encoded path segment.
    app.call("GET", &format!("/api/v1/{A}/tasks/%FF"), A, None)
        .await
        .assert_error(400, "VALIDATION_ERROR");
    app.call("GET", &format!("/api/v1/{A}/tasks/404"), A, None)
        .await
        .assert_error(404, "NOT_FOUND");
}

async fn request_ids_are_propagated_or_generated(app: &TestApp) {
    let req = |rid: Option<&str>| {
        let mut b = Request::builder()
            .uri(format!("/api/v1/{A}/tasks/77"))
            .header("authorization", format!("Bearer {}", token(A)));
        if let Some(r) = rid {
            b = b.header("x-request-id", r);
        }
        b.body(Body::empty()).unwrap()
    };
    let r = app.send(req(Some("abc-123_x.y:z"))).await;
    assert_eq!(r.headers["x-request-id"], "abc-123_x.y:z");
    assert_eq!(r.assert_error(404, "NOT_FOUND")["resource"], "task");
    assert_eq!(r.body["error"]["request_id"], "abc-123_x.y:z");
    for bad in ["has space", "<script>", &"x".repeat(200)] {
        let r = app.send(req(Some(bad))).await;
        let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
        assert_ne!(id, bad);
        assert_eq!(id.len(), 36, "a UUID: {id}");
        assert_eq!(r.body["error"]["request_id"], id);
    }
    let a = app.send(req(None)).await;
    let b = app.send(req(None)).await;
    assert_ne!(a.headers["x-request-id"], b.headers["x-request-id"]);
    // Successful responses carry it too.
    let ok = app
        .call("GET", &format!("/api/v1/{A}/tasks"), A, None)
        .await;
    assert!(ok.headers.contains_key("x-request-id"));
    // The error timestamp is the service clock.
    app.assert_clock_time(&a.body["error"]["timestamp"], t0());
}

#[tokio::test]
async fn store_failures_map_to_503_409_500_without_leaking() {
    let store = FailingStore::default();
    let app = app_with(store.clone(), 64 * 1024);
    let path = format!("/api/v1/{A}/tasks");
    let cases = [
        (
            StoreError::Unavailable("pg: connection refused at 10.0.0.5".into()),
            503,
            "UNAVAILABLE",
        ),
        (
            StoreError::Conflict("serialization failure on tasks".into()),
            409,
            "CONFLICT",
        ),
        (
            StoreError::Other("syntax error at or near SELECT * FROM secrets".into()),
            500,
            "INTERNAL",
        ),
    ];
    for (err, status, code) in cases {
        *store.fail.lock().unwrap() = Some(err);
        for r in [
            app.call("GET", &path, A, None).await,
            app.call("POST", &path, A, Some(json!({ "title": "x" })))
                .await,
            app.call("GET", &format!("/api/v1/{A}/tags"), A, None).await,
        ] {
            r.assert_error(status, code);
            let text = r.body.to_string();
            for secret in ["10.0.0.5", "serialization", "SELECT", "secrets"] {
                assert!(!text.contains(secret), "leaked {secret}: {text}");
            }
        }
    }
    *store.fail.lock().unwrap() = None;
    app.call("GET", &path, A, None).await.ok(200);
}

#[tokio::test]
async fn body_limit_is_configurable() {
    let app = app_with(todo_core::memory::MemoryStore::new(), 100);
    let path = format!("/api/v1/{A}/tasks");
    app.call("POST", &path, A, Some(json!({ "title": "small" })))
        .await
        .ok(201);
    let r = app
        .call("POST", &path, A, Some(json!({ "title": "x".repeat(150) })))
        .await;
    assert_eq!(r.assert_error(413, "PAYLOAD_TOO_LARGE")["limit_bytes"], 100);
    assert_eq!(
        app.activity_total(A).await,
        1,
        "only the small task was written"
    );
}

#[tokio::test]
async fn body_limit_is_configurable_in_the_binary() {
    // The binary takes at least 1024 bytes (`TODO_BODY_LIMIT`).
    let server = Server::start_in_temp_dir(
        "todo-http-limit",
        &[("TODO_JWT_SECRET", secret()), ("TODO_BODY_LIMIT", "1024")],
    );
    let app: TestApp = TestApp::over_http(&server.base.clone(), server);
    let path = format!("/api/v1/{A}/tasks");
    app.call(
        "POST",
        &path,
        A,
        Some(json!({ "title": "small", "description": "d".repeat(900) })),
    )
    .await
    .ok(201);
    let r = app
        .call(
            "POST",
            &path,
            A,
            Some(json!({ "title": "big", "description": "d".repeat(1100) })),
        )
        .await;
    assert_eq!(
        r.assert_error(413, "PAYLOAD_TOO_LARGE")["limit_bytes"],
        1024
    );
    assert_eq!(
        app.activity_total(A).await,
        1,
        "only the small task was written"
    );
}

/// With recurring tasks switched off (`TODO_FEATURE_RECURRING=false`), the switch judges what
/// the parser makes of the input: `"None"` (any spelling of `none`) does not repeat and is
/// accepted, on create and on update; a pattern or an RRULE that repeats is refused.
#[tokio::test]
async fn the_recurring_switch_judges_the_parsed_recurrence() {
    use std::sync::Arc;
    use todo_core::ports::{ManualClock, SequentialIds};
    use todo_core::service::TaskService;
    use todo_server::config::Features;
    use todo_server::http::{AppState, AuthConfig, router};

    let clock = Arc::new(ManualClock::new(t0()));
    let service = Arc::new(TaskService::new(
        todo_core::memory::MemoryStore::new(),
        Arc::clone(&clock),
        SequentialIds::new(),
    ));
    let features = Features {
        recurring: false,
        ..Features::default()
    };
    let state = AppState::new(Arc::clone(&service), AuthConfig::new(SECRET.to_vec()))
        .with_features(features);
    let app = TestApp::in_process(router(state), service, clock);
    let tasks = format!("/api/v1/{A}/tasks");
    let due = "2099-01-01T09:00:00Z";

    for none in ["None", " NONE ", "none"] {
        let body = json!({ "title": "plain", "recurrence_pattern": none, "due_datetime": due });
        let created = app.call("POST", &tasks, A, Some(body)).await;
        assert_eq!(created.ok(201)["recurrence_pattern"], "none", "{none:?}");
    }
    for repeats in [
        json!({ "title": "standup", "recurrence_pattern": "daily", "due_datetime": due }),
        json!({ "title": "standup", "recurrence_pattern": " Weekly", "due_datetime": due }),
        json!({ "title": "standup", "rrule": "FREQ=DAILY", "due_datetime": due }),
    ] {
        let refused = app.call("POST", &tasks, A, Some(repeats.clone())).await;
        let details = refused.assert_error(400, "VALIDATION_ERROR");
        assert_eq!(details["field"], "recurrence_pattern", "{repeats}");
    }

    let id = app.create_task(A, json!({ "title": "plain" })).await["id"].clone();
    let task = format!("{tasks}/{id}");
    let none = json!({ "recurrence_pattern": "None", "due_datetime": due });
    app.call("PUT", &task, A, Some(none)).await.ok(200);
    let cleared = json!({ "recurrence_pattern": null, "rrule": null });
    app.call("PUT", &task, A, Some(cleared)).await.ok(200);
    let written = app.activity_total(A).await;
    let daily = json!({ "recurrence_pattern": "daily" });
    let refused = app.call("PUT", &task, A, Some(daily)).await;
    assert_eq!(
        refused.assert_error(400, "VALIDATION_ERROR")["field"],
        "recurrence_pattern"
    );
    assert_eq!(
        app.call("GET", &task, A, None).await.ok(200)["recurrence_pattern"],
        "none",
        "the refused update changed nothing"
    );
    assert_eq!(app.activity_total(A).await, written, "and wrote nothing");
}

#[tokio::test]
async fn issued_tokens_name_their_user() {
    let cfg = todo_server::http::AuthConfig::new(SECRET.to_vec());
    let user = todo_core::ids::UserId::parse("user-uuid-1").unwrap();
    let t =
        todo_server::http::issue_token(SECRET, &user, std::time::Duration::from_secs(60)).unwrap();
    assert_eq!(cfg.verify(&t).unwrap(), user);
    let other = todo_server::http::AuthConfig::new(b"different".to_vec());
    assert!(other.verify(&t).is_err());
    assert_eq!(
        todo_server::http::AuthConfig::new(SECRET.to_vec())
            .with_leeway_secs(500)
            .leeway_secs(),
        30
    );
}

async fn a_user_named_v1_works_under_both_prefixes(app: &TestApp) {
    let t = app.create_task("v1", json!({ "title": "x" })).await;
    let r = app.call("GET", "/api/v1/tasks", "v1", None).await;
    assert_eq!(r.ok(200)["tasks"][0]["id"], t["id"]);
    let r = app.call("GET", "/api/v1/v1/tasks", "v1", None).await;
    assert_eq!(r.ok(200)["tasks"][0]["id"], t["id"]);
    app.call("GET", "/api/v1/tasks", A, None)
        .await
        .assert_error(403, "FORBIDDEN");
}
