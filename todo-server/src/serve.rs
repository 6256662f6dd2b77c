//! The HTTP listener: accepts connections up to a cap, closes those whose request head does not
//! arrive in time (slowloris) or that sit idle between requests, and shuts down gracefully.
//!
//! `axum::serve` has none of these limits: a client sending half a header a second held a
//! connection (and the shutdown) as long as it liked. This is hyper's HTTP/1.1 connection with a
//! timer, a deadline for the first bytes, a semaphore of connection permits and a
//! graceful-shutdown watcher. HTTP/2 is not served: nothing here needs it (the Dapr sidecar and
//! the ingress speak HTTP/1.1 to the app), and an idle HTTP/2 connection that answers pings
//! would have no deadline.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;

use crate::config::Limits;

/// How long accepting pauses after an error such as "too many open files", so that the loop
/// does not spin while the process is out of descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` within `limits` until `shutdown` completes, then stops accepting
/// and waits for the open connections to finish (the caller bounds that wait). Handlers see the
/// peer address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        // hyper starts this timer when it waits for a request head, the first one and the next
        // one on a kept-alive connection: a slow or idle head is closed either way.
        .header_read_timeout(limits.header_timeout);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed; pausing");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let builder = Arc::clone(&builder);
        let watcher = graceful.watcher();
        let header_timeout = limits.header_timeout;
        tokio::spawn(async move {
            // hyper's header timer starts only once it has told HTTP/1 from HTTP/2 by the first
            // bytes: a client that sends none (or half the HTTP/2 preface) would hold its
            // permit for ever.
            if !first_bytes(&stream, header_timeout).await {
                drop(permit);
                return;
            }
            let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                let app = app.clone();
                async move { Ok::<_, Infallible>(unwrap_infallible(app.oneshot(req).await)) }
            });
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            if let Err(e) = watcher.watch(conn).await {
                tracing::debug!(peer = %peer, error = %e, "connection closed with an error");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// The start of the HTTP/2 connection preface: while a client's first bytes match it, the
/// protocol is not known yet.
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Whether the client sent enough for the protocol to be told within `timeout` (false: it sent
/// nothing, closed, or dribbled the HTTP/2 preface).
async fn first_bytes(stream: &tokio::net::TcpStream, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = [0u8; 24];
    loop {
        let peeked = tokio::time::timeout_at(deadline, stream.peek(&mut buf)).await;
        let n = match peeked {
            Ok(Ok(n)) if n > 0 => n,
            _ => return false,
        };
        if n >= H2_PREFACE.len() || buf[..n] != H2_PREFACE[..n] {
            return true;
        }
        // Bytes that could still be the preface: wait for more (peek returns at once while
        // unread bytes are there).
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of a result that cannot fail (a `Router` never does).
fn unwrap_infallible<T>(result: Result<T, Infallible>) -> T {
    match result {
        Ok(t) => t,
        Err(never) => match never {},
    }
}
