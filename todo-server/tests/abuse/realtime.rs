//! Real-time streams as a hostile user opens them: more WebSocket and SSE streams than anyone
//! needs, upgrades faster than the rate limit, and resumes from far back without reading.
//! Streams are capped per user (`TODO_MAX_STREAMS_PER_USER`) and in all (`TODO_MAX_STREAMS`),
//! every upgrade counts against the user's rate limit, and a resuming stream holds at most one
//! page of missed events in memory.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{self, Db};
use crate::support::server::Server;

/// Opens a WebSocket (raw upgrade request) and returns the status and the open socket.
fn ws(server: &Server, user: &str, token: &str) -> (u16, TcpStream) {
    let mut s = TcpStream::connect(common::addr(server)).unwrap();
    write!(
        s,
        "GET /api/v1/ws/{user}?token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    )
    .unwrap();
    (status_of(&mut s), s)
}

/// Opens an SSE stream (optionally resuming after `since`) and returns the status and socket.
fn sse(server: &Server, user: &str, token: &str, since: Option<&str>) -> (u16, TcpStream) {
    let mut s = TcpStream::connect(common::addr(server)).unwrap();
    let resume = since
        .map(|id| format!("Last-Event-ID: {id}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET /api/v1/{user}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nAccept: text/event-stream\r\n{resume}\r\n"
    )
    .unwrap();
    (status_of(&mut s), s)
}

/// Reads the status line of a response (only the first bytes: the rest stays unread).
fn status_of(s: &mut TcpStream) -> u16 {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 12];
    s.read_exact(&mut buf).unwrap();
    String::from_utf8_lossy(&buf[9..12]).parse().unwrap()
}

#[test]
fn streams_are_capped_per_user_and_in_all() {
    for db in common::databases() {
        let server = common::start(
            db,
            "streams",
            &[
                ("TODO_MAX_STREAMS_PER_USER", "3"),
                ("TODO_MAX_STREAMS", "5"),
            ],
        );
        let (mallory, alice) = (server.token("mallory"), server.token("alice"));
        let mut held = Vec::new();
        for _ in 0..2 {
            let (status, s) = ws(&server, "mallory", &mallory);
            assert_eq!(status, 101);
            held.push(s);
        }
        let (status, s) = sse(&server, "mallory", &mallory, None);
        assert_eq!(status, 200, "SSE and WebSocket share the cap");
        held.push(s);
        for _ in 0..50 {
            assert_eq!(
                ws(&server, "mallory", &mallory).0,
                429,
                "over the per-user cap"
            );
            assert_eq!(sse(&server, "mallory", &mallory, None).0, 429);
        }
        // Another user is not affected, until the process-wide cap.
        let (status, s) = ws(&server, "alice", &alice);
        assert_eq!(status, 101);
        held.push(s);
        let (status, s) = sse(&server, "alice", &alice, None);
        assert_eq!(status, 200);
        held.push(s);
        assert_eq!(ws(&server, "alice", &alice).0, 503, "over the total cap");
        // Closing a stream gives its place back.
        drop(held.remove(0));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, s) = ws(&server, "mallory", &mallory);
            if status == 101 {
                held.push(s);
                break;
            }
            assert!(Instant::now() < deadline, "the place was never given back");
            std::thread::sleep(Duration::from_millis(100));
        }
        common::report(
            "stream caps",
            db,
            &format!(
                "100 streams over the cap refused (429/503), another user served; peak RSS {:.1} MiB",
                common::peak_rss_mib(&server)
            ),
        );
    }
}

#[test]
fn upgrades_count_against_the_rate_limit() {
    let db = Db::Sqlite;
    let server = common::start(db, "ws-rate", &[("TODO_RATE_LIMIT_PER_MIN", "3")]);
    let token = server.token("mallory");
    let mut statuses = Vec::new();
    for _ in 0..10 {
        let (status, s) = ws(&server, "mallory", &token);
        statuses.push(status);
        drop(s);
    }
    assert_eq!(&statuses[..3], &[101, 101, 101], "{statuses:?}");
    assert!(statuses[3..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(sse(&server, "mallory", &token, None).0, 429);
    // Another user has their own budget.
    let other = server.token("alice");
    assert_eq!(ws(&server, "alice", &other).0, 101);
    common::report(
        "upgrade rate",
        db,
        &format!("10 upgrades at 3/min: {statuses:?}"),
    );
}

#[test]
fn resuming_streams_that_do_not_read_hold_little_memory() {
    for db in common::databases() {
        let server = common::start(db, "replay-mem", &[("TODO_MAX_STREAMS_PER_USER", "30")]);
        let token = server.token("mallory");
        let description = "x".repeat(2000);
        // The stream resumes after this event, then misses 4,000 task-created events of
        // ~2.5 KB each.
        let since = first_event_id(&server, &token);
        let threads: Vec<_> = (0..8)
            .map(|t| {
                let (base_server, token, description) =
                    (&server, token.clone(), description.clone());
                let base = base_server.base.clone();
                std::thread::spawn(move || {
                    let agent = common::agent(Duration::from_secs(60));
                    for i in 0..500 {
                        let res = agent
                            .post(format!("{base}/api/v1/mallory/tasks"))
                            .header("authorization", &format!("Bearer {token}"))
                            .send_json(
                                json!({"title": format!("t{t}-{i}"), "description": description}),
                            )
                            .unwrap();
                        assert_eq!(res.status().as_u16(), 201);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        std::thread::sleep(Duration::from_secs(1));
        let before = common::rss_mib(&server);
        let start = Instant::now();
        let streams: Vec<TcpStream> = (0..20)
            .map(|_| {
                let (status, s) = sse(&server, "mallory", &token, Some(&since));
                assert_eq!(status, 200);
                s
            })
            .collect();
        std::thread::sleep(Duration::from_secs(3));
        let after = common::rss_mib(&server);
        let grew = after - before;
        // Before: every stream held all its missed messages (~10 MB each here).
        assert!(grew < 60.0, "20 resuming streams grew RSS by {grew:.1} MiB");
        // And another user is served meanwhile.
        let alice = server.token("alice");
        let (status, _) = common::call(&server, "GET", "/api/v1/alice/tasks", &alice, None);
        assert_eq!(status, 200);
        // They are replaying (not told to resync): the first stream starts with missed events.
        let mut first = streams.into_iter().next().unwrap();
        let mut text = String::new();
        let mut buf = [0u8; 8192];
        while text.matches("event: task-created").count() < 3 {
            let n = first.read(&mut buf).unwrap();
            assert!(n > 0, "the stream ended: {text}\n{}", server.stderr());
            text.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
        assert!(!text.contains("resync"), "{text}");
        common::report(
            "replay memory",
            db,
            &format!(
                "20 SSE resumes of 4,000 missed ~2.5 KB events, not reading: RSS {before:.1} -> {after:.1} MiB in {:?}; peak {:.1} MiB",
                start.elapsed(),
                common::peak_rss_mib(&server)
            ),
        );
    }
}

/// The event id of a task created now, read from a live SSE stream (the API shows no event
/// ids).
fn first_event_id(server: &Server, token: &str) -> String {
    let (status, mut s) = sse(server, "mallory", token, None);
    assert_eq!(status, 200);
    let (code, _) = common::call(
        server,
        "POST",
        "/api/v1/mallory/tasks",
        token,
        Some(&json!({"title": "marker"})),
    );
    assert_eq!(code, 201);
    // The body starts after the response head; its first `id:` line is the event's id (the
    // head has an `x-request-id`, which is no event id).
    let mut text = String::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some((_, body)) = text.split_once("\r\n\r\n")
            && let Some(id) = body.lines().find_map(|l| l.strip_prefix("id:"))
            && body.contains("event: task-created")
        {
            return id.trim().to_owned();
        }
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "the stream ended: {text}");
        text.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
}
