//! Case 6: PostgreSQL over TLS. A managed database (Neon, RDS, Cloud SQL) only accepts TLS, and
//! an operator says so in `DATABASE_URL` (`sslmode=require`, or `sslmode=verify-full` with
//! `sslrootcert=` naming the CA). The real binary must connect that way, and must refuse to start,
//! saying why and never printing the password, when the TLS it was asked for cannot be had.
//!
//! The test makes its own cluster with `initdb` (the shared PostgreSQL on 5432 is not ours to
//! reconfigure), a self-signed CA and a server certificate for 127.0.0.1 made with the `openssl`
//! CLI, `ssl=on`, and a `pg_hba.conf` that accepts only `hostssl` connections from 127.0.0.1, so
//! that a server that answers at all is proved to have used TLS; `pg_stat_ssl` and the
//! `log_connections` lines show it as well. The same cluster is then restarted with `ssl=off`
//! for the refusal of `sslmode=require`. Under `CI=true` a missing `initdb` or `openssl` is a
//! failure; elsewhere the test skips, saying so on stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use sqlx::Connection;

use crate::common::{Db, call, report};
use crate::support::run;
use crate::support::server::{Server, temp_dir};

/// The application's role and its password: trust auth ignores the password, but it is in the
/// URL the way an operator's would be, so the test can check that no error message shows it.
const USER: &str = "todo_app";
const PASSWORD: &str = "Pw-never-printed-7f3a";
const DATABASE: &str = "todo";
const SECRET: &str = "postgres-tls-secret-0123456789abcdef";

/// A PostgreSQL cluster of the test's own in a temp directory owned by the `postgres` user when
/// the test runs as root (initdb refuses root). Stopped and removed on drop.
struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_root: bool,
}

impl Cluster {
    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default()
    }

    /// The CA certificate a `verify-full` client trusts.
    fn ca(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    /// A command as the cluster's owner: `runuser -u postgres --` when the test runs as root.
    fn owner_cmd(&self, program: &Path) -> Command {
        if self.as_root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    /// `pg_ctl start` with TLS on or off; waits until the server accepts connections.
    fn start(&self, ssl: bool) {
        let hba = if ssl {
            // Only TLS from loopback: a plain connection finds no pg_hba entry and is refused.
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n"
        } else {
            "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        };
        std::fs::write(self.data().join("pg_hba.conf"), hba).unwrap();
        let opts = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} -c ssl={} \
             -c log_connections=on -c fsync=off",
            self.port,
            self.dir.display(),
            if ssl { "on" } else { "off" },
        );
        let out = self
            .owner_cmd(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.join("postgres.log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_ok("pg_ctl start", &out, &self.log());
    }

    fn stop(&self) {
        let _ = self
            .owner_cmd(&self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "-t", "30", "stop"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }

    /// A URL for `user`/`db` with these query parameters.
    fn url(&self, user: &str, db: &str, query: &str) -> String {
        format!(
            "postgres://{user}:{PASSWORD}@127.0.0.1:{}/{db}?{query}",
            self.port
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn assert_ok(what: &str, out: &Output, extra: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}\n{extra}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sh(program: &str, args: &[&str], dir: &Path) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_ok(&format!("{program} {}", args.join(" ")), &out, "");
}

/// The newest PostgreSQL server binaries on this machine (Debian keeps them per major version).
fn pg_bin() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let major = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((major, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}

fn on_path(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether the test runs as root (then initdb has to run as the `postgres` user).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `initdb`, `openssl` and, as root, a `postgres` user to own the cluster; or `None` (skip,
/// saying why), which is a failure under `CI=true`.
fn tools() -> Option<PathBuf> {
    let bin = pg_bin();
    let postgres_user = || {
        Command::new("id")
            .arg("postgres")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let missing = if bin.is_none() {
        "initdb (no /usr/lib/postgresql/*/bin/initdb)"
    } else if !on_path("openssl") {
        "the openssl CLI"
    } else if is_root() && !postgres_user() {
        "a postgres user to run initdb as (initdb refuses root)"
    } else {
        return bin;
    };
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "postgres_tls: {missing} is required when CI=true (this test may not be skipped)"
    );
    eprintln!("skipped: postgres_tls needs {missing}");
    None
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A self-signed CA and a server certificate for 127.0.0.1 and localhost signed by it.
fn make_certs(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=todo test CA"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    sh("openssl", &ca, dir);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
    sh("openssl", &csr, dir);
    // webpki (rustls) needs a v3 leaf with the address in subjectAltName; the CN is not read.
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
         extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    sh(
        "openssl",
        &[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-extfile",
            "server.ext",
            "-out",
            "server.crt",
        ],
        dir,
    );
}

/// Makes and starts (with TLS) a cluster, with the application's role and database.
fn cluster(bin: PathBuf) -> Cluster {
    let dir = temp_dir("todo-pgtls");
    let as_root = is_root();
    let cluster = Cluster {
        bin,
        dir,
        port: free_port(),
        as_root,
    };
    make_certs(&cluster.dir);
    if as_root {
        // initdb refuses root: the whole directory (data, key, log) belongs to postgres.
        sh("chown", &["-R", "postgres:", "."], &cluster.dir);
    }
    let out = cluster
        .owner_cmd(&cluster.bin.join("initdb"))
        .arg("-D")
        .arg(cluster.data())
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_ok("initdb", &out, "");
    // The server reads these relative to the data directory; the key must be 0600 (it is:
    // openssl writes keys that way) and owned by the server's user (chown above).
    let conf = format!(
        "\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
        cluster.dir.join("server.crt").display(),
        cluster.dir.join("server.key").display()
    );
    let mut pgconf = std::fs::read_to_string(cluster.data().join("postgresql.conf")).unwrap();
    pgconf.push_str(&conf);
    std::fs::write(cluster.data().join("postgresql.conf"), pgconf).unwrap();
    cluster.start(true);
    run(async {
        let mut admin =
            sqlx::PgConnection::connect(&cluster.url("postgres", "postgres", "sslmode=require"))
                .await
                .unwrap();
        sqlx::query(&format!("CREATE ROLE {USER} LOGIN PASSWORD '{PASSWORD}'"))
            .execute(&mut admin)
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {DATABASE} OWNER {USER}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
    });
    cluster
}

/// The binary with `DATABASE_URL` that must not start: its exit status, stderr and the time
/// it took to give up (killed after 90 s, which fails the test).
fn start_refused(database_url: &str) -> (std::process::ExitStatus, String, Duration) {
    let dir = temp_dir("todo-pgtls-refused");
    let t0 = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_todo-server"))
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TODO_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", database_url)
        .env("TODO_JWT_SECRET", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("stderr")).unwrap())
        .spawn()
        .unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if t0.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("todo-server with {database_url:?} neither started nor gave up in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = t0.elapsed();
    let stdout = std::io::read_to_string(child.stdout.take().unwrap()).unwrap_or_default();
    let stderr = std::fs::read_to_string(dir.join("stderr")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !stdout.contains("listening"),
        "the server started with {database_url:?}: {stdout}"
    );
    (status, stderr, elapsed)
}

/// The refusal is a failed start whose last line says what failed: each entry of `what` is a set
/// of alternatives (`"database|postgres"`), one of which it must say. The password never shows.
fn assert_refused_clearly(case: &str, url: &str, what: &[&str]) {
    let (status, stderr, elapsed) = start_refused(url);
    assert!(
        !status.success(),
        "{case}: exit {status}, stderr:\n{stderr}"
    );
    assert!(
        !stderr.contains(PASSWORD),
        "{case}: the password is in the error:\n{stderr}"
    );
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    let lower = last.to_lowercase();
    for w in what {
        assert!(
            w.split('|').any(|alt| lower.contains(alt)),
            "{case}: the error does not say {w:?}: {last}"
        );
    }
    report(
        "postgres-tls",
        Db::Postgres,
        &format!("{case}: refused ({status}) after {elapsed:.1?}: {last}"),
    );
}

/// The real binary on `url` creates and lists a task; returns the server (still running).
fn create_and_list(url: &str) -> Server {
    let server = Server::start_in_temp_dir(
        "todo-pgtls",
        &[("DATABASE_URL", url), ("TODO_JWT_SECRET", SECRET)],
    );
    let token = server.token("alice");
    let (status, created) = call(
        &server,
        "POST",
        "/api/v1/alice/tasks",
        &token,
        Some(&json!({"title": "over TLS"})),
    );
    assert_eq!(status, 201, "create over TLS: {created}");
    let (status, list) = call(&server, "GET", "/api/v1/alice/tasks", &token, None);
    assert_eq!(status, 200, "list over TLS: {list}");
    assert!(
        list.to_string().contains("over TLS"),
        "the created task is not listed: {list}"
    );
    assert!(
        !server.stderr().contains(PASSWORD),
        "the password is in the server's log"
    );
    server
}

/// The application's backends as `pg_stat_ssl` sees them: (with TLS, without TLS), read over a
/// TLS connection of the test's own.
fn app_backends(cluster: &Cluster) -> (i64, i64) {
    run(async {
        let mut admin =
            sqlx::PgConnection::connect(&cluster.url("postgres", "postgres", "sslmode=require"))
                .await
                .unwrap();
        let row: (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl) \
             FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = $1",
        )
        .bind(USER)
        .fetch_one(&mut admin)
        .await
        .unwrap();
        admin.close().await.unwrap();
        row
    })
}

#[test]
fn postgres_over_tls_require_verify_full_and_refusals() {
    let Some(bin) = tools() else { return };
    let t0 = Instant::now();
    let cluster = cluster(bin);
    let setup = t0.elapsed();

    // The server accepts nothing but TLS: a plain connection is turned away by pg_hba.conf, so
    // everything below that works went over TLS.
    let plain = run(sqlx::PgConnection::connect(&cluster.url(
        USER,
        DATABASE,
        "sslmode=disable",
    )));
    let err = plain.expect_err("a plain connection must be refused by hostssl-only pg_hba");
    assert!(err.to_string().contains("no pg_hba.conf entry"), "{err}");

    // sslmode=require: encrypted, the certificate is not checked (what most managed-database
    // connection strings say).
    let t = Instant::now();
    let server = create_and_list(&cluster.url(USER, DATABASE, "sslmode=require"));
    let (tls, plain) = app_backends(&cluster);
    assert!(
        tls >= 1,
        "the server's connections are not in pg_stat_ssl with ssl=true"
    );
    assert_eq!(plain, 0, "the server has connections without TLS");
    let log = cluster.log();
    assert!(
        log.lines()
            .any(|l| l.contains(&format!("user={USER} database={DATABASE}"))
                && l.contains("SSL enabled")),
        "no log_connections line with SSL for the server:\n{log}"
    );
    report(
        "postgres-tls",
        Db::Postgres,
        &format!(
            "sslmode=require: create + list over TLS, {tls} backend(s) with ssl, 0 without, in {:.1?}",
            t.elapsed()
        ),
    );
    drop(server);

    // sslmode=verify-full with the CA: the chain and the host name (127.0.0.1 in the SAN) are
    // checked.
    let t = Instant::now();
    let ca = cluster.ca();
    let server = create_and_list(&cluster.url(
        USER,
        DATABASE,
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    ));
    let (tls, plain) = app_backends(&cluster);
    assert!(
        tls >= 1 && plain == 0,
        "verify-full: {tls} with TLS, {plain} without"
    );
    report(
        "postgres-tls",
        Db::Postgres,
        &format!(
            "sslmode=verify-full + sslrootcert: create + list, in {:.1?}",
            t.elapsed()
        ),
    );
    drop(server);

    // verify-full without the CA: the self-signed chain is not trusted, the start is refused.
    assert_refused_clearly(
        "verify-full without sslrootcert",
        &cluster.url(USER, DATABASE, "sslmode=verify-full"),
        // "store unavailable: error communicating with database: invalid peer certificate:
        // UnknownIssuer"
        &["database|postgres", "certificate", "unknownissuer"],
    );

    // sslmode=require against a server without TLS: refused, not silently downgraded.
    cluster.stop();
    cluster.start(false);
    let plain = run(sqlx::PgConnection::connect(&cluster.url(
        USER,
        DATABASE,
        "sslmode=disable",
    )));
    assert!(plain.is_ok(), "the ssl=off server is up: {:?}", plain.err());
    assert_refused_clearly(
        "sslmode=require against a server without TLS",
        &cluster.url(USER, DATABASE, "sslmode=require"),
        // "store unavailable: error occurred while attempting to establish a TLS connection:
        // server does not support TLS"
        &["tls connection", "does not support tls"],
    );
    report(
        "postgres-tls",
        Db::Postgres,
        &format!(
            "cluster (initdb, certificates, start) {setup:.1?}; whole case {:.1?}",
            t0.elapsed()
        ),
    );
}
