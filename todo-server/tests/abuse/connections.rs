//! Slowloris and connection floods: clients that open connections and send their request head
//! a byte at a time, or nothing at all. The server closes a connection whose head has not
//! arrived within `TODO_HEADER_TIMEOUT`, holds at most `TODO_MAX_CONNECTIONS`, answers a request
//! that takes longer than `TODO_REQUEST_TIMEOUT` with 503, and a shutdown is never held by them.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::common::{self, Db};
use crate::support::server::Server;

/// A connection that sends half a request head and then one header byte every `every`.
fn slow_head(server: &Server) -> TcpStream {
    let mut s = TcpStream::connect(common::addr(server)).unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .unwrap();
    s
}

/// Sends a byte every 500 ms until the server closes the connection; how long that took
/// (None: still open after `give_up`).
fn dribble_until_closed(mut s: TcpStream, give_up: Duration) -> Option<Duration> {
    let start = Instant::now();
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let mut buf = [0u8; 512];
    while start.elapsed() < give_up {
        if s.write_all(b"a").is_err() {
            return Some(start.elapsed());
        }
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            // The server may answer the broken head with an error before closing.
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

/// A plain request on a fresh connection: the status and how long it took.
fn healthz(server: &Server) -> (u16, Duration) {
    let start = Instant::now();
    let agent = common::agent(Duration::from_secs(30));
    let status = agent
        .get(format!("{}/healthz", server.base))
        .call()
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    (status, start.elapsed())
}

#[test]
fn a_slow_request_head_is_cut_at_the_header_timeout() {
    for db in common::databases() {
        let server = common::start(db, "slowloris", &[("TODO_HEADER_TIMEOUT", "2s")]);
        let closed = dribble_until_closed(slow_head(&server), Duration::from_secs(20))
            .expect("a head sent a byte every 500 ms must be cut");
        assert!(
            closed >= Duration::from_millis(1500) && closed < Duration::from_secs(6),
            "closed after {closed:?} (header timeout 2 s)"
        );
        // An idle kept-alive connection (a request answered, then nothing) is closed too.
        let mut idle = TcpStream::connect(common::addr(&server)).unwrap();
        idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .unwrap();
        idle.set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let start = Instant::now();
        let mut all = Vec::new();
        let _ = idle.read_to_end(&mut all);
        let idle_for = start.elapsed();
        assert!(
            String::from_utf8_lossy(&all).starts_with("HTTP/1.1 200"),
            "answered first"
        );
        assert!(
            idle_for < Duration::from_secs(6),
            "idle connection kept {idle_for:?}"
        );
        common::report(
            "slowloris",
            db,
            &format!(
                "slow head closed after {closed:?}; idle keep-alive closed after {idle_for:?}; peak RSS {:.1} MiB",
                common::peak_rss_mib(&server)
            ),
        );
    }
}

#[test]
fn connections_that_send_nothing_or_half_an_http2_preface_are_cut_too() {
    for db in common::databases() {
        let server = common::start(
            db,
            "silent",
            &[
                ("TODO_HEADER_TIMEOUT", "2s"),
                ("TODO_MAX_CONNECTIONS", "20"),
            ],
        );
        // More silent connections than the cap, and some that start the HTTP/2 preface.
        let mut held: Vec<TcpStream> = (0..30)
            .map(|_| TcpStream::connect(common::addr(&server)).unwrap())
            .collect();
        for _ in 0..10 {
            let mut s = TcpStream::connect(common::addr(&server)).unwrap();
            s.write_all(b"PRI * HTTP/2.0\r\n").unwrap();
            held.push(s);
        }
        let (status, took) = healthz(&server);
        assert_eq!(status, 200);
        assert!(
            took < Duration::from_secs(10),
            "a normal request waited {took:?}"
        );
        // Each of the first ones was closed by the server.
        let start = Instant::now();
        let mut s = held.remove(0);
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "closed without an answer");
        assert!(start.elapsed() < Duration::from_secs(5));
        common::report(
            "silent connections",
            db,
            &format!(
                "40 connections sending nothing or half the HTTP/2 preface, cap 20: a normal request answered in {took:?}"
            ),
        );
    }
}

#[test]
fn a_flood_of_slow_connections_neither_stops_others_nor_holds_the_shutdown() {
    for db in common::databases() {
        let server = common::start(
            db,
            "conn-flood",
            &[
                ("TODO_HEADER_TIMEOUT", "2s"),
                ("TODO_MAX_CONNECTIONS", "50"),
            ],
        );
        // 200 connections, 4 times the cap, each holding half a head.
        let slow: Vec<TcpStream> = (0..200)
            .filter_map(|_| {
                let mut s = TcpStream::connect(common::addr(&server)).ok()?;
                s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").ok()?;
                Some(s)
            })
            .collect();
        assert!(slow.len() >= 150, "the kernel accepted the connections");
        // Others are still served: the slow ones are cut at the header timeout and the
        // waiting ones get their turn.
        let (status, took) = healthz(&server);
        assert_eq!(status, 200);
        assert!(
            took < Duration::from_secs(12),
            "a normal request waited {took:?}"
        );
        let rss = common::peak_rss_mib(&server);
        // A shutdown while slow connections are open is not held by them.
        let more: Vec<TcpStream> = (0..40)
            .filter_map(|_| {
                let mut s = TcpStream::connect(common::addr(&server)).ok()?;
                s.write_all(b"GET /healthz HTTP/1.1\r\n").ok()?;
                Some(s)
            })
            .collect();
        let start = Instant::now();
        let status = server.stop();
        let stop_took = start.elapsed();
        assert!(status.success(), "{status}");
        assert!(
            stop_took < Duration::from_secs(5),
            "shutdown took {stop_took:?}"
        );
        drop((slow, more));
        common::report(
            "connection flood",
            db,
            &format!(
                "200 slow heads, cap 50: a normal request answered in {took:?}; stop with 40 open: {stop_took:?}; peak RSS {rss:.1} MiB"
            ),
        );
    }
}

#[test]
fn a_request_whose_body_never_comes_gets_503_at_the_request_timeout() {
    let db = Db::Sqlite;
    let server = common::start(
        db,
        "req-timeout",
        &[
            ("TODO_REQUEST_TIMEOUT", "2s"),
            ("TODO_HEADER_TIMEOUT", "10s"),
        ],
    );
    let token = server.token("slow");
    let mut s = TcpStream::connect(common::addr(&server)).unwrap();
    write!(
        s,
        "POST /api/v1/slow/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"title\":"
    )
    .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let start = Instant::now();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).unwrap_or(0);
    let took = start.elapsed();
    let head = String::from_utf8_lossy(&buf[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 503"), "{head}");
    assert!(
        head.contains("\"UNAVAILABLE\""),
        "in the error format: {head}"
    );
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    common::report(
        "request timeout",
        db,
        &format!("a body that never comes: 503 after {took:?}"),
    );
}
