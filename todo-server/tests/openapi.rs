//! The OpenAPI document (`GET /openapi.json`) and Swagger UI (`GET /docs`): the document lists
//! every route of the router with the bearer security and the error responses, its request
//! schemas mirror the core's inputs, and real responses of the router match its schemas.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support_http;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use support_http::{TestApp, app};
use todo_core::input::{
    CreateTagInput, CreateTaskInput, InputBody, SetReminderInput, UpdateTagInput, UpdateTaskInput,
};
use todo_core::memory::MemoryStore;
use todo_server::http::tasks::{AttachTagInput, CompleteInput};
use tower::ServiceExt;

const A: &str = "alice";

/// Every route of the contract served by the router, as (method, path) under the canonical
/// prefix. A route added to the router without an annotation (or annotated with a wrong path)
/// makes `every_route_is_documented` fail.
const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/{user_id}/tasks"),
    ("get", "/api/v1/{user_id}/tasks"),
    ("get", "/api/v1/{user_id}/tasks/{task_id}"),
    ("put", "/api/v1/{user_id}/tasks/{task_id}"),
    ("delete", "/api/v1/{user_id}/tasks/{task_id}"),
    ("patch", "/api/v1/{user_id}/tasks/{task_id}/complete"),
    ("post", "/api/v1/{user_id}/tasks/{task_id}/tags"),
    ("delete", "/api/v1/{user_id}/tasks/{task_id}/tags/{tag_id}"),
    ("post", "/api/v1/{user_id}/tasks/{task_id}/reminder"),
    ("delete", "/api/v1/{user_id}/tasks/{task_id}/reminder"),
    ("get", "/api/v1/{user_id}/tags"),
    ("post", "/api/v1/{user_id}/tags"),
    ("put", "/api/v1/{user_id}/tags/{tag_id}"),
    ("delete", "/api/v1/{user_id}/tags/{tag_id}"),
    ("get", "/api/v1/{user_id}/activity-logs"),
    ("get", "/api/v1/{user_id}/conversations"),
    ("get", "/api/v1/{user_id}/conversations/{conversation_id}"),
    ("put", "/api/v1/{user_id}/conversations/{conversation_id}"),
    (
        "delete",
        "/api/v1/{user_id}/conversations/{conversation_id}",
    ),
    ("get", "/healthz"),
    ("get", "/readyz"),
];

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

async fn get_raw(app: &TestApp<MemoryStore>, path: &str) -> (u16, String, Vec<u8>) {
    let resp = app
        .router()
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, ct, bytes)
}

async fn document(app: &TestApp<MemoryStore>) -> Value {
    let (status, ct, bytes) = get_raw(app, "/openapi.json").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("application/json"), "{ct}");
    serde_json::from_slice(&bytes).expect("the document is JSON")
}

fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if METHODS.contains(&method.as_str()) {
                ops.push((method.clone(), path.clone(), op));
            }
        }
    }
    ops
}

fn concrete(path: &str, prefix: &str) -> String {
    path.replacen("/api/v1/{user_id}", prefix, 1)
        .replace("{task_id}", "999")
        .replace("{tag_id}", "998")
        .replace("{conversation_id}", "chat-997")
}

#[tokio::test]
async fn the_document_is_openapi_3_json() {
    let app = app();
    let doc = document(&app).await;
    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3."), "{version}");
    assert_eq!(doc["info"]["title"], "todo");
    let description = doc["info"]["description"].as_str().unwrap();
    assert!(
        description.contains("/api/{user_id}/"),
        "the aliases are explained: {description}"
    );
    let bearer = &doc["components"]["securitySchemes"]["bearer"];
    assert_eq!(bearer["type"], "http");
    assert_eq!(bearer["scheme"], "bearer");
    assert_eq!(bearer["bearerFormat"], "JWT");
    // Every reference resolves.
    let text = doc.to_string();
    for part in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &part[..part.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "dangling $ref {name}"
        );
    }
    // Operation ids are unique.
    let ids: Vec<&str> = operations(&doc)
        .iter()
        .map(|(_, _, op)| op["operationId"].as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "{ids:?}");
}

#[tokio::test]
async fn every_route_is_documented() {
    let app = app();
    let doc = document(&app).await;
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, expected);

    // The hand list is the router's: every entry is served under both prefixes (no 404 "no
    // such route", no 405).
    for (method, path) in ROUTES {
        let prefixes: &[&str] = if path.starts_with("/api/") {
            &["/api/v1/alice", "/api/alice"]
        } else {
            &[""]
        };
        for prefix in prefixes {
            let uri = concrete(path, prefix);
            let r = app.call(&method.to_uppercase(), &uri, A, None).await;
            assert_ne!(r.status.as_u16(), 405, "{method} {uri}: {}", r.body);
            if r.status.as_u16() == 404 {
                assert_ne!(
                    r.body["error"]["message"], "no such route",
                    "{method} {uri} is not routed"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_operation_has_the_bearer_security_and_the_error_responses() {
    let app = app();
    let doc = document(&app).await;
    for (method, path, op) in operations(&doc) {
        let what = format!("{method} {path}");
        let responses = op["responses"].as_object().unwrap();
        let codes: BTreeSet<&str> = responses.keys().map(String::as_str).collect();
        assert!(
            codes.iter().any(|c| c.starts_with('2')),
            "{what}: a success response"
        );
        let mut expected: Vec<&str> = Vec::new();
        if path.starts_with("/api/") {
            assert_eq!(op["security"], json!([{"bearer": []}]), "{what}");
            expected.extend(["400", "401", "403", "429", "500", "503"]);
            if path.contains("{task_id}") || path.contains("{tag_id}") {
                expected.push("404");
            }
            if op.get("requestBody").is_some() {
                expected.extend(["409", "413", "415", "422"]);
                let body = &op["requestBody"]["content"]["application/json"]["schema"];
                assert!(body.is_object(), "{what}: a JSON request body");
            }
            if method == "delete" {
                expected.push("409");
            }
            let params: BTreeSet<&str> = op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["in"] == "path")
                .map(|p| p["name"].as_str().unwrap())
                .collect();
            let in_path: BTreeSet<&str> = path
                .split('/')
                .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .collect();
            assert_eq!(params, in_path, "{what}: path parameters");
        } else {
            // Probes are unauthenticated.
            assert_eq!(op["security"], json!([{}]), "{what}");
        }
        for code in expected {
            assert!(codes.contains(code), "{what}: response {code} missing");
        }
        for (code, resp) in responses {
            if code.starts_with('4') || code.starts_with('5') {
                assert_eq!(
                    resp["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{what} {code}"
                );
            }
        }
    }
    // The list's query parameters.
    let list = &doc["paths"]["/api/v1/{user_id}/tasks"]["get"]["parameters"];
    let query: BTreeSet<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "query")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let expected: BTreeSet<&str> = [
        "search",
        "status",
        "priority",
        "due_date_start",
        "due_date_end",
        "tags",
        "tags_mode",
        "sort_by",
        "sort_order",
        "limit",
        "offset",
    ]
    .into_iter()
    .collect();
    assert_eq!(query, expected);
}

fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("schema {schema}"))
        .keys()
        .cloned()
        .collect()
}

fn fields(f: &[&str]) -> BTreeSet<String> {
    f.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test]
async fn request_schemas_mirror_the_core_inputs() {
    let app = app();
    let doc = document(&app).await;
    let cases: &[(&str, &[&str])] = &[
        ("CreateTaskInput", CreateTaskInput::FIELDS),
        ("UpdateTaskInput", UpdateTaskInput::FIELDS),
        ("CreateTagInput", CreateTagInput::FIELDS),
        ("UpdateTagInput", UpdateTagInput::FIELDS),
        ("SetReminderInput", SetReminderInput::FIELDS),
        ("AttachTagInput", AttachTagInput::FIELDS),
        ("CompleteInput", CompleteInput::FIELDS),
    ];
    for (schema, f) in cases {
        assert_eq!(properties(&doc, schema), fields(f), "{schema}");
        assert_eq!(
            doc["components"]["schemas"][schema]["additionalProperties"], false,
            "{schema} rejects unknown fields"
        );
    }
}

#[tokio::test]
async fn docs_serve_swagger_ui_offline() {
    let app = app();
    for path in ["/docs", "/docs/"] {
        let (status, ct, bytes) = get_raw(&app, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(ct.starts_with("text/html"), "{path}: {ct}");
        let html = String::from_utf8(bytes).unwrap();
        assert!(html.contains("swagger-ui"), "{html}");
        assert!(html.contains("<base href=\"/docs/\""), "{html}");
    }
    let (status, ct, _) = get_raw(&app, "/docs/swagger-ui.css").await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("text/css"), "{ct}");
    let (status, _, bytes) = get_raw(&app, "/docs/swagger-ui-bundle.js").await;
    assert_eq!(status, 200);
    assert!(bytes.len() > 100_000, "the bundle is vendored");
    let (status, _, bytes) = get_raw(&app, "/docs/swagger-initializer.js").await;
    assert_eq!(status, 200);
    let js = String::from_utf8(bytes).unwrap();
    assert!(js.contains("/openapi.json"), "{js}");
    let (status, _, _) = get_raw(&app, "/docs/no-such-file.js").await;
    assert_eq!(status, 404);
}

/// Resolves `$ref`s.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.strip_prefix("#/components/schemas/").unwrap();
            resolve(doc, &doc["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn allows_null(doc: &Value, schema: &Value) -> bool {
    let s = resolve(doc, schema);
    match &s["type"] {
        Value::String(t) => t == "null",
        Value::Array(ts) => ts.iter().any(|t| t == "null"),
        _ => {
            ["oneOf", "anyOf"].iter().any(|k| {
                s[*k]
                    .as_array()
                    .is_some_and(|v| v.iter().any(|x| allows_null(doc, x)))
            }) || s.as_object().is_some_and(|o| o.is_empty())
                || s.get("nullable") == Some(&Value::Bool(true))
        }
    }
}

/// Checks that the keys of every object in `value` equal the properties of its schema (both
/// ways), recursively; `null` only where the schema allows it.
fn same_keys(doc: &Value, schema: &Value, value: &Value, at: &str) {
    let s = resolve(doc, schema);
    if value.is_null() {
        assert!(allows_null(doc, s), "{at}: null where the schema has {s}");
        return;
    }
    for k in ["oneOf", "anyOf"] {
        if let Some(variants) = s[k].as_array() {
            let non_null: Vec<&Value> = variants
                .iter()
                .filter(|v| resolve(doc, v)["type"] != "null")
                .collect();
            assert_eq!(non_null.len(), 1, "{at}: one non-null variant in {s}");
            return same_keys(doc, non_null[0], value, at);
        }
    }
    match value {
        Value::Object(map) => {
            let Some(props) = s["properties"].as_object() else {
                // A free-form object (`old_values`, `details`).
                return;
            };
            let got: BTreeSet<&String> = map.keys().collect();
            let want: BTreeSet<&String> = props.keys().collect();
            assert_eq!(got, want, "{at}: response keys vs schema properties");
            let required: BTreeSet<&str> = s["required"]
                .as_array()
                .map(|r| r.iter().map(|k| k.as_str().unwrap()).collect())
                .unwrap_or_default();
            let all: BTreeSet<&str> = want.iter().map(|k| k.as_str()).collect();
            assert_eq!(required, all, "{at}: every key of a response is required");
            for (k, v) in map {
                same_keys(doc, &props[k], v, &format!("{at}.{k}"));
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                same_keys(doc, &s["items"], v, &format!("{at}[{i}]"));
            }
        }
        _ => {}
    }
}

/// Validates `value` against `schema` (with the document's components) as JSON Schema 2020-12.
fn schema_errors(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut root = schema.clone();
    root["components"] = doc["components"].clone();
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&root)
        .unwrap();
    validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The response schema of an operation for a status.
fn response_schema<'a>(doc: &'a Value, method: &str, path: &str, status: u16) -> &'a Value {
    let r = &doc["paths"][path][method]["responses"][status.to_string()];
    assert!(r.is_object(), "{method} {path}: no response {status}");
    &r["content"]["application/json"]["schema"]
}

#[tokio::test]
async fn real_responses_match_the_schemas() {
    let app = app();
    let doc = document(&app).await;
    let base = "/api/v1/alice";
    let mut checked = 0;
    let mut check = |method: &str, path: &str, status: u16, body: &Value| {
        let schema = response_schema(&doc, method, path, status);
        same_keys(&doc, schema, body, &format!("{method} {path} {status}"));
        let errors = schema_errors(&doc, schema, body);
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: {errors:?}\n{body}"
        );
        checked += 1;
    };

    let tag = app.create_tag(A, "work").await;
    check("post", "/api/v1/{user_id}/tags", 201, &tag);
    let tag_id = tag["id"].as_i64().unwrap();
    let body = json!({
        "title": "Pay rent",
        "description": "monthly",
        "priority": "High",
        "due_datetime": "2026-03-31T18:00:00+02:00",
        "recurrence_pattern": "monthly",
        "timezone": "Europe/Berlin",
        "tag_ids": [tag_id],
    });
    let task = app.create_task(A, body).await;
    check("post", "/api/v1/{user_id}/tasks", 201, &task);
    let id = task["id"].as_i64().unwrap();
    let plain = app.create_task(A, json!({"title": "plain"})).await;
    check("post", "/api/v1/{user_id}/tasks", 201, &plain);
    let plain_id = plain["id"].as_i64().unwrap();

    let r = app
        .call(
            "POST",
            &format!("{base}/tasks/{id}/reminder"),
            A,
            Some(json!({"reminder_time": "2026-03-30T18:00:00Z", "reminder_type": "custom"})),
        )
        .await;
    check(
        "post",
        "/api/v1/{user_id}/tasks/{task_id}/reminder",
        201,
        r.ok(201),
    );
    let r = app
        .call("GET", &format!("{base}/tasks/{id}"), A, None)
        .await;
    assert!(r.ok(200)["reminder"].is_object());
    check("get", "/api/v1/{user_id}/tasks/{task_id}", 200, &r.body);
    let r = app
        .call("GET", &format!("{base}/tasks?sort_by=title"), A, None)
        .await;
    check("get", "/api/v1/{user_id}/tasks", 200, r.ok(200));
    let r = app
        .call(
            "PUT",
            &format!("{base}/tasks/{plain_id}"),
            A,
            Some(json!({"description": null, "priority": "Low"})),
        )
        .await;
    check("put", "/api/v1/{user_id}/tasks/{task_id}", 200, r.ok(200));
    let r = app
        .call(
            "POST",
            &format!("{base}/tasks/{plain_id}/tags"),
            A,
            Some(json!({"tag_id": tag_id})),
        )
        .await;
    check(
        "post",
        "/api/v1/{user_id}/tasks/{task_id}/tags",
        201,
        r.ok(201),
    );
    let r = app
        .call(
            "DELETE",
            &format!("{base}/tasks/{plain_id}/tags/{tag_id}"),
            A,
            None,
        )
        .await;
    check(
        "delete",
        "/api/v1/{user_id}/tasks/{task_id}/tags/{tag_id}",
        200,
        r.ok(200),
    );
    let r = app
        .call("PATCH", &format!("{base}/tasks/{id}/complete"), A, None)
        .await;
    assert!(r.ok(200)["next_task_id"].is_i64());
    check(
        "patch",
        "/api/v1/{user_id}/tasks/{task_id}/complete",
        200,
        &r.body,
    );
    let next = r.body["next_task_id"].as_i64().unwrap();
    let r = app
        .call("DELETE", &format!("{base}/tasks/{next}/reminder"), A, None)
        .await;
    check(
        "delete",
        "/api/v1/{user_id}/tasks/{task_id}/reminder",
        200,
        r.ok(200),
    );
    let r = app.call("GET", &format!("{base}/tags"), A, None).await;
    check("get", "/api/v1/{user_id}/tags", 200, r.ok(200));
    let r = app
        .call(
            "PUT",
            &format!("{base}/tags/{tag_id}"),
            A,
            Some(json!({"color": "#00ff00"})),
        )
        .await;
    check("put", "/api/v1/{user_id}/tags/{tag_id}", 200, r.ok(200));
    let r = app
        .call("GET", &format!("{base}/activity-logs?limit=100"), A, None)
        .await;
    assert!(r.ok(200)["activity_logs"].as_array().unwrap().len() > 5);
    check("get", "/api/v1/{user_id}/activity-logs", 200, &r.body);
    let conv = "/api/v1/{user_id}/conversations/{conversation_id}";
    let r = app
        .call(
            "PUT",
            &format!("{base}/conversations/chat-1"),
            A,
            Some(json!({"messages": [{"role": "user", "content": "hi"}]})),
        )
        .await;
    check("put", conv, 200, r.ok(200));
    let r = app
        .call("GET", &format!("{base}/conversations"), A, None)
        .await;
    check("get", "/api/v1/{user_id}/conversations", 200, r.ok(200));

    // Errors.
    let r = app
        .call("GET", &format!("{base}/tasks/424242"), A, None)
        .await;
    r.assert_error(404, "NOT_FOUND");
    check("get", "/api/v1/{user_id}/tasks/{task_id}", 404, &r.body);
    let r = app
        .call(
            "POST",
            &format!("{base}/tasks"),
            A,
            Some(json!({"title": ""})),
        )
        .await;
    r.assert_error(400, "VALIDATION_ERROR");
    check("post", "/api/v1/{user_id}/tasks", 400, &r.body);
    let r = app
        .call("POST", &format!("{base}/tasks"), A, Some(json!({"x": 1})))
        .await;
    r.assert_error(422, "VALIDATION_ERROR");
    check("post", "/api/v1/{user_id}/tasks", 422, &r.body);
    let r = app.call("GET", "/api/v1/bob/tags", A, None).await;
    r.assert_error(403, "FORBIDDEN");
    check("get", "/api/v1/{user_id}/tags", 403, &r.body);
    let r = app
        .send(
            Request::get("/api/v1/alice/tags")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    r.assert_error(401, "UNAUTHORIZED");
    check("get", "/api/v1/{user_id}/tags", 401, &r.body);
    let r = app
        .send(
            Request::delete("/api/v1/alice/conversations/chat-1")
                .header(
                    "authorization",
                    format!("Bearer {}", support_http::token(A)),
                )
                .header("if-match", "\"v1\"")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    r.assert_error(412, "PRECONDITION_FAILED");
    check("delete", conv, 412, &r.body);

    // Probes.
    let r = app
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    check("get", "/healthz", 200, r.ok(200));
    let r = app
        .send(Request::get("/readyz").body(Body::empty()).unwrap())
        .await;
    check("get", "/readyz", 200, r.ok(200));
    assert_eq!(checked, 24);

    // The validation is not vacuous: a wrong enum value or type is caught.
    let schema = response_schema(&doc, "post", "/api/v1/{user_id}/tasks", 201);
    let mut bad = task.clone();
    bad["priority"] = json!("Urgent");
    bad["tags"][0]["id"] = json!("1");
    assert_eq!(schema_errors(&doc, schema, &bad).len(), 2, "{bad}");
}
