//! What every abuse case needs: the real binary on each database, a token, HTTP calls that
//! never fail on a status, and the process's measured peak memory.

use std::time::Duration;

use serde_json::Value;

use crate::support::server::Server;
use crate::support::{fresh_pg_database, pg_url, run};

/// The databases every case runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    /// The embedded default: a SQLite file in the server's working directory.
    Sqlite,
    /// A fresh PostgreSQL database on `TEST_DATABASE_URL`.
    Postgres,
}

/// The databases available here: SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set
/// (required under `CI=true`: see `support::required_service`).
pub fn databases() -> Vec<Db> {
    let mut dbs = vec![Db::Sqlite];
    if pg_url().is_some() {
        dbs.push(Db::Postgres);
    }
    dbs
}

/// The real binary on `db`, in a fresh temp directory, with `env` on top of the test defaults
/// (rate limit off unless `env` sets it). PostgreSQL gets a fresh database and a JWT secret.
pub fn start(db: Db, prefix: &str, env: &[(&str, &str)]) -> Server {
    let mut all: Vec<(String, String)> = Vec::new();
    if db == Db::Postgres {
        all.push(("DATABASE_URL".into(), run(fresh_pg_database())));
        all.push((
            "TODO_JWT_SECRET".into(),
            "abuse-suite-secret-0123456789abcdef".into(),
        ));
    }
    all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let refs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    Server::start_in_temp_dir(&format!("todo-abuse-{prefix}"), &refs)
}

/// An HTTP agent that returns every status as a response and gives up after `timeout`.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .build()
        .into()
}

/// A call with a bearer token and an optional JSON body: (status, body as JSON or Null).
pub fn call(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    call_with(server, method, path, token, body, &[])
}

/// [`call`] with extra headers.
pub fn call_with(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
    headers: &[(&str, &str)],
) -> (u16, Value) {
    let url = format!("{}{path}", server.base);
    let agent = agent(Duration::from_secs(60));
    let auth = format!("Bearer {token}");
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(&url)
        .header("authorization", &auth);
    let req = headers.iter().fold(req, |r, (k, v)| r.header(*k, *v));
    let res = match body {
        Some(b) => agent.run(
            req.header("content-type", "application/json")
                .body(serde_json::to_vec(b).unwrap())
                .unwrap(),
        ),
        None => agent.run(req.body(()).unwrap()),
    }
    .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = res.status().as_u16();
    let text = res.into_body().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `POST /api/v1/{user}/tasks`: (status, body).
pub fn create_task(server: &Server, user: &str, token: &str, body: &Value) -> (u16, Value) {
    call(
        server,
        "POST",
        &format!("/api/v1/{user}/tasks"),
        token,
        Some(body),
    )
}

/// The user's task count (`total` of a one-item page).
pub fn total_tasks(server: &Server, user: &str, token: &str) -> u64 {
    let (status, page) = call(
        server,
        "GET",
        &format!("/api/v1/{user}/tasks?limit=1"),
        token,
        None,
    );
    assert_eq!(status, 200, "{page}");
    page["total"].as_u64().unwrap()
}

/// The server's `host:port`, for raw TCP clients.
pub fn addr(server: &Server) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

/// The `error.code` of an error body.
pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

/// The process's peak resident memory so far, in MiB (`VmHWM`).
pub fn peak_rss_mib(server: &Server) -> f64 {
    proc_kib(server, "VmHWM") / 1024.0
}

/// The process's resident memory now, in MiB (`VmRSS`).
pub fn rss_mib(server: &Server) -> f64 {
    proc_kib(server, "VmRSS") / 1024.0
}

fn proc_kib(server: &Server, field: &str) -> f64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kib| kib.parse::<f64>().ok())
        .unwrap_or(0.0)
}

/// One line the suite prints for RELIABILITY.md: `reliability: <case> <db> <measurements>`.
pub fn report(case: &str, db: Db, what: &str) {
    eprintln!("reliability: {case} [{db:?}] {what}");
}
