//! The real `todo-server` binary as a child process: started on a free port in a working
//! directory of its own, stopped with SIGTERM (or when dropped, so that a failing test leaks
//! no process).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// A running `todo-server` binary.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`, read from the first line the server prints.
    pub base: String,
    /// The working directory (the embedded default keeps `todo.db` there).
    pub dir: PathBuf,
    env: Vec<(String, String)>,
    /// Whether the working directory is removed when the server is dropped.
    owns_dir: bool,
}

/// A fresh, empty directory in the temp directory.
pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

impl Server {
    /// Starts the binary in `dir` with nothing configured but a free port (and the rate limit
    /// off).
    pub fn start(dir: &Path) -> Server {
        Server::start_with(dir, &[])
    }

    /// Starts the binary in `dir` with these environment variables (after the defaults, so
    /// they win).
    pub fn start_with(dir: &Path, env: &[(&str, &str)]) -> Server {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        let log = dir.join("server.stderr");
        let mut child = Command::new(env!("CARGO_BIN_EXE_todo-server"))
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TODO_ADDR", "127.0.0.1:0")
            // Off unless a test turns it on (its own env comes after).
            .env("TODO_RATE_LIMIT_PER_MIN", "0")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let Some(Ok(first)) = lines.next() else {
            let status = child.wait().unwrap();
            let stderr = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("todo-server did not start ({status}): {stderr}");
        };
        // "todo-server listening on http://127.0.0.1:PORT (SQLite file todo.db)"
        let base = first
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in the first line: {first}"))
            .to_owned();
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            base,
            dir: dir.to_owned(),
            env,
            owns_dir: false,
        }
    }

    /// Starts the binary in a fresh temp directory that is removed when the server is dropped.
    pub fn start_in_temp_dir(prefix: &str, env: &[(&str, &str)]) -> Server {
        let mut server = Server::start_with(&temp_dir(prefix), env);
        server.owns_dir = true;
        server
    }

    /// A token for `user` minted by the binary's `token` command with the server's secret.
    pub fn token(&self, user: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_todo-server"))
            .args(["token", "--user", user, "--ttl", "10m"])
            .current_dir(&self.dir)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    }

    /// The process id (for measuring it: `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's stderr so far (its JSON log lines).
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.join("server.stderr")).unwrap_or_default()
    }

    /// The exit status if the process has exited (it should not have), `None` while it runs.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Kills the process (SIGKILL: no graceful shutdown) and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and waits (at most 10 s) for the exit.
    pub fn stop(mut self) -> ExitStatus {
        self.terminate().expect("server did not stop on SIGTERM")
    }

    /// SIGTERM, then the exit status within 10 s; never panics (it runs in `drop`).
    fn terminate(&mut self) -> Option<ExitStatus> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Some(status);
        }
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.terminate().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
