//! The stand-in's shared state: one lock over everything a call or a background task reads or
//! writes, a change signal for the delivery workers, and the tasks to stop on shutdown.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;
use tokio::task::AbortHandle;

use crate::jobs::ScheduledJob;
use crate::options::StandInOptions;
use crate::pubsub::{Subscription, TopicKey, TopicLog};
use crate::records::{DeadLettered, Delivery, Invocation, JobTrigger, Published};
use crate::state::StoredState;

/// Everything the gRPC handlers and the background tasks share.
pub(crate) struct Inner {
    pub(crate) opts: StandInOptions,
    shared: Mutex<Shared>,
    /// Bumped on every change a waiting delivery may be waiting for (publish, attach, detach).
    changed: watch::Sender<u64>,
    tasks: Mutex<Vec<AbortHandle>>,
    stopped: AtomicBool,
}

/// The mutable part, under one lock: calls are small and tests are not load tests.
#[derive(Default)]
pub(crate) struct Shared {
    pub(crate) app: Option<SocketAddr>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) topics: HashMap<TopicKey, TopicLog>,
    pub(crate) workers: HashSet<TopicKey>,
    pub(crate) published: Vec<Published>,
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) dead_letters: Vec<DeadLettered>,
    pub(crate) fail_publishes: usize,
    pub(crate) stores: HashMap<String, HashMap<String, StoredState>>,
    pub(crate) etag_counter: u64,
    pub(crate) jobs: BTreeMap<String, ScheduledJob>,
    pub(crate) job_generation: u64,
    pub(crate) job_triggers: Vec<JobTrigger>,
    pub(crate) invocations: Vec<Invocation>,
    pub(crate) extended_metadata: BTreeMap<String, String>,
}

impl Inner {
    pub(crate) fn new(opts: StandInOptions) -> Self {
        let stores = opts
            .state_stores
            .iter()
            .map(|name| (name.clone(), HashMap::new()))
            .collect();
        Self {
            opts,
            shared: Mutex::new(Shared {
                stores,
                ..Shared::default()
            }),
            changed: watch::Sender::new(0),
            tasks: Mutex::new(Vec::new()),
            stopped: AtomicBool::new(false),
        }
    }

    /// The shared state. A panicking holder leaves plain data behind, so poisoning is ignored.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Wakes every task waiting in [`Inner::changes`].
    pub(crate) fn bump(&self) {
        self.changed.send_modify(|v| *v = v.wrapping_add(1));
    }

    /// A receiver that wakes on the next [`Inner::bump`].
    pub(crate) fn changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Runs a background task that shutdown stops.
    pub(crate) fn spawn<F>(&self, fut: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let handle = tokio::spawn(fut).abort_handle();
        if self.stopped.load(Ordering::SeqCst) {
            handle.abort();
            return;
        }
        self.tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(handle);
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    /// Resolves once [`Inner::shutdown`] ran.
    pub(crate) async fn stopped(&self) {
        let mut changes = self.changes();
        loop {
            changes.borrow_and_update();
            if self.is_stopped() || changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// Stops the server, the delivery workers and the job timers.
    pub(crate) fn shutdown(&self) {
        if self.stopped.swap(true, Ordering::SeqCst) {
            return;
        }
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            task.abort();
        }
        let mut shared = self.lock();
        for (_, job) in std::mem::take(&mut shared.jobs) {
            job.timer.abort();
        }
        drop(shared);
        self.bump();
    }
}

/// The service tonic serves: the generated `Dapr` impl in `service.rs` delegates to the handlers.
pub(crate) struct DaprService {
    pub(crate) inner: Arc<Inner>,
}
