//! Fail closed: a deployment whose secrets are missing stops at start with a clear error instead
//! of running on a local SQLite file with a generated secret; the dev-token route exists only
//! when asked for on the embedded default and never answers a proxied request; the files that
//! hold data and secrets are readable by their owner only.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common;
use crate::support::server::temp_dir;

/// Runs the binary in `dir` with only `env` (and PATH); it is expected to exit by itself.
fn start_expecting_exit(dir: &std::path::Path, env: &[(&str, &str)]) -> (Output, Duration) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_todo-server"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (out, start.elapsed())
}

#[test]
fn beyond_loopback_a_missing_database_or_jwt_secret_stops_the_start() {
    let dir = temp_dir("todo-abuse-bind");
    let db = format!("sqlite://{}", dir.join("named.db").display());
    let secret = "s".repeat(40);
    for (env, missing) in [
        (
            vec![("TODO_ADDR", "0.0.0.0:0"), ("DATABASE_URL", db.as_str())],
            "TODO_JWT_SECRET",
        ),
        (
            vec![
                ("TODO_ADDR", "0.0.0.0:0"),
                ("TODO_JWT_SECRET", secret.as_str()),
            ],
            "DATABASE_URL",
        ),
    ] {
        let (out, took) = start_expecting_exit(&dir, &env);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(missing) && stderr.contains("loopback"),
            "{stderr}"
        );
        assert!(
            !dir.join("named.db.jwt-secret").exists(),
            "no secret generated"
        );
        assert!(
            !dir.join("todo.db").exists() && !dir.join("named.db").exists(),
            "no database created"
        );
        common::report(
            "fail closed: bind",
            common::Db::Sqlite,
            &format!("TODO_ADDR=0.0.0.0 without {missing}: exit 2 in {took:?}"),
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_secret_store_without_a_key_stops_the_start() {
    use dapr_standin::{StandIn, StandInOptions};
    let dir = temp_dir("todo-abuse-secrets");
    // The store holds the JWT secret but not DATABASE_URL (and the reverse).
    for (present, value, missing) in [
        ("TODO_JWT_SECRET", "k".repeat(40), "DATABASE_URL"),
        (
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("other.db").display()),
            "TODO_JWT_SECRET",
        ),
    ] {
        let secrets = BTreeMap::from([(
            "todo-secrets".to_owned(),
            BTreeMap::from([(present.to_owned(), value.clone())]),
        )]);
        // The stand-in serves from this runtime's threads: keep it alive while the server runs.
        let rt = tokio::runtime::Runtime::new().unwrap();
        let dapr = rt.block_on(async {
            StandIn::start(StandInOptions {
                secret_stores: BTreeMap::from([("kubernetes-secrets".to_owned(), secrets)]),
                ..StandInOptions::default()
            })
            .await
            .unwrap()
        });
        let port = dapr.grpc_port().to_string();
        let (out, took) = start_expecting_exit(
            &dir,
            &[
                ("TODO_ADDR", "127.0.0.1:0"),
                ("DAPR_GRPC_PORT", &port),
                ("DAPR_SECRET_STORE", "kubernetes-secrets"),
                ("APP_API_TOKEN", "app-token"),
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(missing) && stderr.contains("kubernetes-secrets"),
            "{stderr}"
        );
        assert!(
            !dir.join("todo.db").exists(),
            "no fallback to the embedded SQLite file"
        );
        assert!(!dir.join("other.db").exists());
        assert!(
            !dir.join("todo.db.jwt-secret").exists(),
            "no generated secret"
        );
        common::report(
            "fail closed: secret store",
            common::Db::Sqlite,
            &format!("{missing} missing from the store: exit 2 in {took:?}"),
        );
        dapr.shutdown();
        drop(rt);
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_dev_token_route_needs_the_opt_in_and_refuses_proxies() {
    let agent = common::agent(Duration::from_secs(10));
    let off = crate::support::server::Server::start_in_temp_dir("todo-abuse-dev-off", &[]);
    let status = agent
        .post(format!("{}/dev/token?user_id=alice", off.base))
        .send_empty()
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(status, 404, "not offered without TODO_DEV_TOKEN");
    let on = crate::support::server::Server::start_in_temp_dir(
        "todo-abuse-dev-on",
        &[("TODO_DEV_TOKEN", "on")],
    );
    let url = format!("{}/dev/token?user_id=alice", on.base);
    assert_eq!(
        agent.post(&url).send_empty().unwrap().status().as_u16(),
        200
    );
    // A reverse proxy on this machine (nginx, a tunnel) connects from loopback.
    for (h, v) in [
        ("x-forwarded-for", "198.51.100.7"),
        ("forwarded", "for=198.51.100.7"),
        ("via", "1.1 proxy"),
    ] {
        let status = agent
            .post(&url)
            .header(h, v)
            .send_empty()
            .unwrap()
            .status()
            .as_u16();
        assert_eq!(status, 403, "{h}");
    }
    // Asked for with a configured secret: refused at start.
    let dir = temp_dir("todo-abuse-dev-secret");
    let (out, _) = start_expecting_exit(
        &dir,
        &[
            ("TODO_ADDR", "127.0.0.1:0"),
            ("TODO_DEV_TOKEN", "on"),
            ("TODO_JWT_SECRET", &"s".repeat(40)),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TODO_DEV_TOKEN"));
    std::fs::remove_dir_all(&dir).ok();
}

#[cfg(unix)]
#[test]
fn the_database_and_the_secret_are_private_files() {
    use std::os::unix::fs::PermissionsExt;
    let server = crate::support::server::Server::start_in_temp_dir("todo-abuse-modes", &[]);
    let token = server.token("alice");
    let (status, _) = common::call(
        &server,
        "POST",
        "/api/v1/alice/tasks",
        &token,
        Some(&serde_json::json!({"title": "private"})),
    );
    assert_eq!(status, 201);
    for name in ["todo.db", "todo.db.jwt-secret", "todo.db-wal"] {
        let path = server.dir.join(name);
        let mode = std::fs::metadata(&path)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{name} is {mode:o}");
    }
}
