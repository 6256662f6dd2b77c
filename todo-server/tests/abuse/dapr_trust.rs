//! Dapr trust: with a sidecar configured, the routes the sidecar calls (`/dapr/*`, `/job/*`)
//! must be told apart from any other caller in the namespace, so the server refuses to start
//! without `APP_API_TOKEN` unless local use is allowed explicitly. (Calls with a missing or
//! wrong token are refused with 401: `tests/dapr_standin.rs`,
//! `dapr_standin_invokes_the_api_and_guards_the_sidecar_routes`.)

use std::process::Command;
use std::time::Instant;

use crate::common;
use crate::support::server::temp_dir;

#[test]
fn with_dapr_and_no_app_token_the_start_is_refused() {
    let dir = temp_dir("todo-abuse-dapr-token");
    let start = Instant::now();
    // No sidecar needs to answer: the configuration is refused first.
    let out = Command::new(env!("CARGO_BIN_EXE_todo-server"))
        .current_dir(&dir)
        .env_clear()
        .env("TODO_ADDR", "127.0.0.1:0")
        .env("DAPR_GRPC_PORT", "1")
        .env("TODO_JWT_SECRET", "s".repeat(40))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.join("x.db").display()),
        )
        .output()
        .unwrap();
    let took = start.elapsed();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("APP_API_TOKEN") && stderr.contains("TODO_DAPR_ALLOW_NO_APP_TOKEN"),
        "{stderr}"
    );
    assert!(
        !dir.join("x.db").exists(),
        "refused before opening anything"
    );
    common::report(
        "dapr trust",
        common::Db::Sqlite,
        &format!("Dapr without APP_API_TOKEN: exit 2 in {took:?}"),
    );
    std::fs::remove_dir_all(&dir).ok();
}
