//! A stand-in for the Dapr sidecar (daprd) in tests.
//!
//! daprd cannot run where this project's tests run, so the Dapr adapters are tested against this
//! stand-in: a gRPC server on `127.0.0.1` implementing the dapr crate's generated `Dapr` service
//! for the calls the project makes (pub/sub, state, secrets, jobs, service invocation, metadata),
//! with Dapr's documented semantics, and calling the app back over HTTP the way daprd does
//! (`GET /dapr/subscribe`, CloudEvent deliveries, `POST /job/{name}`). Every other call answers
//! `Unimplemented`. It records what happened (publishes, delivery attempts, dead letters, job
//! triggers, invocations) for tests to assert on.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use dapr_standin::{StandIn, StandInOptions};
//! let dapr = StandIn::start(StandInOptions::default()).await?;
//! let client = dapr::Client::<dapr::client::TonicClientWithAuth>::connect_with_address(dapr.endpoint()).await?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```

mod app_client;
mod inner;
mod invoke;
mod jobs;
mod metadata;
mod options;
mod pubsub;
mod records;
mod secrets;
mod service;
mod state;

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use dapr::dapr::proto::runtime::v1::dapr_server::DaprServer;
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;

use crate::inner::{DaprService, Inner};

pub use crate::options::{Retry, StandInOptions};
pub use crate::records::{
    DeadLettered, Delivery, DeliveryOutcome, Invocation, JobInfo, JobTrigger, Published,
};

/// A running Dapr stand-in. Clones share it; dropping the last clone (or `shutdown`) stops it.
#[derive(Clone)]
pub struct StandIn {
    inner: Arc<Inner>,
    guard: Arc<ShutdownGuard>,
    port: u16,
}

/// Stops the stand-in when the last user handle goes (background tasks hold only `Inner`).
struct ShutdownGuard(Arc<Inner>);

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

impl fmt::Debug for StandIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StandIn")
            .field("endpoint", &self.endpoint())
            .field("app_id", &self.inner.opts.app_id)
            .finish_non_exhaustive()
    }
}

impl StandIn {
    /// Starts the gRPC server on a free port of `127.0.0.1`.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn start(opts: StandInOptions) -> std::io::Result<StandIn> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let inner = Arc::new(Inner::new(opts));
        let service = DaprServer::new(DaprService {
            inner: Arc::clone(&inner),
        });
        let stopped = Arc::clone(&inner);
        let server = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(TcpIncoming::from(listener), async move {
                stopped.stopped().await;
            });
        // Not aborted on shutdown but stopped gracefully, so open client connections are closed too.
        tokio::spawn(async move {
            if let Err(e) = server.await {
                tracing::error!(error = %e, "the Dapr stand-in's gRPC server stopped");
            }
        });
        tracing::info!(port, "Dapr stand-in listening");
        Ok(StandIn {
            guard: Arc::new(ShutdownGuard(Arc::clone(&inner))),
            inner,
            port,
        })
    }

    /// The gRPC port.
    pub fn grpc_port(&self) -> u16 {
        self.port
    }

    /// The gRPC endpoint, `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Stops the server, the deliveries and the job timers (also done when the last clone drops).
    pub fn shutdown(&self) {
        self.guard.0.shutdown();
    }

    /// Like daprd once the app port is open: reads `GET http://{app}/dapr/subscribe` (retrying
    /// until the app answers, up to 10 s), then delivers published messages and fires jobs to the
    /// app. Calling it again (e.g. the app restarted on another port) re-reads the subscriptions.
    ///
    /// # Errors
    /// When the app does not answer in time or its subscriptions cannot be read.
    pub async fn attach_app(&self, app: SocketAddr) -> Result<(), String> {
        pubsub::attach_app(&self.inner, app).await
    }

    /// The app is gone: deliveries wait, messages stay queued, job callbacks fail (and retry).
    pub fn detach_app(&self) {
        pubsub::detach_app(&self.inner);
    }

    /// Every accepted `PublishEvent`, in order.
    pub fn published(&self) -> Vec<Published> {
        self.inner.lock().published.clone()
    }

    /// Every delivery attempt to the app, in order.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.inner.lock().deliveries.clone()
    }

    /// Every message moved to a dead-letter topic, in order.
    pub fn dead_letters(&self) -> Vec<DeadLettered> {
        self.inner.lock().dead_letters.clone()
    }

    /// Injects a broker message on `topic` of `pubsub` (the body is posted as-is, as
    /// `application/cloudevents+json`) through the usual delivery path, and returns the outcome
    /// of its last attempt once it was handled (`NoSubscriber` at once if the app has no
    /// subscription on the topic).
    pub async fn deliver_raw(&self, pubsub: &str, topic: &str, body: Vec<u8>) -> DeliveryOutcome {
        pubsub::deliver_raw(&self.inner, pubsub, topic, body).await
    }

    /// The next `n` `PublishEvent` calls fail with `Unavailable`.
    pub fn fail_next_publishes(&self, n: usize) {
        self.inner.lock().fail_publishes = n;
    }

    /// The jobs currently scheduled, by name.
    pub fn jobs(&self) -> Vec<JobInfo> {
        jobs::scheduled(&self.inner)
    }

    /// Every job callback attempt, in order.
    pub fn job_triggers(&self) -> Vec<JobTrigger> {
        self.inner.lock().job_triggers.clone()
    }

    /// The live value and etag at `key` of state store `store`.
    pub fn state(&self, store: &str, key: &str) -> Option<(Vec<u8>, String)> {
        state::read(&self.inner, store, key)
    }

    /// Every `InvokeService` call, in order.
    pub fn invocations(&self) -> Vec<Invocation> {
        self.inner.lock().invocations.clone()
    }

    /// Polls `f` every 10 ms until it holds.
    ///
    /// # Panics
    /// When `f` does not hold within `timeout` (the message names `what`): a test helper.
    pub async fn wait_for<F: Fn(&StandIn) -> bool>(&self, what: &str, timeout: Duration, f: F) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if f(self) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!("timed out after {timeout:?} waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
