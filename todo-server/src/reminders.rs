//! Exact-time reminders: who fires them.
//!
//! - Embedded (the default, and with Kafka): [`run_scheduler`], durable in the database. It reads
//!   the earliest pending reminders ([`Store::next_reminders`]), fires the due ones and sleeps
//!   until the next one's time: a timer, woken early when a request may have changed reminders
//!   and rescanning every [`RESCAN`] for those other replicas created. Firing is
//!   [`TaskService::fire_reminder`]: a conditional update from `pending` to `sent` with the
//!   `reminder-triggered` event in the same transaction, so among several replicas on one
//!   database each reminder fires once. Reminders that came due while no server ran fire at
//!   start.
//! - Dapr (`DAPR_GRPC_PORT`): Dapr's Jobs API. [`ReminderJobSync`] keeps one job per task with a
//!   pending reminder, at its time, following the task's activity (`activity-log-created`:
//!   every change of a task or its reminder has one), and the job's callback fires the reminder
//!   (`POST /job/{name}`, [`crate::http::dapr::job`]).

use std::sync::Arc;
use std::time::Duration;

use todo_core::ids::{ReminderId, TaskId, UserId};
use todo_core::ports::Store;
use todo_core::service::TaskService;
use todo_events::dapr::DaprJobs;
use todo_events::dapr::jobs::ReminderJob;
use todo_events::{EventData, EventEnvelope, EventHandler, HandlerError};
use tokio::sync::Notify;

use crate::bus::EventBus;

/// How often the embedded scheduler reads the pending reminders again without being woken:
/// reminders created on another replica are seen at the latest then.
pub const RESCAN: Duration = Duration::from_secs(5);

/// Reminders read per pass (the due ones are fired; the first later one sets the timer; a
/// batch that was all due is followed by another at once).
const BATCH: u32 = 64;

/// How late the scheduler fires a reminder beside Dapr's jobs, which fire them on time.
pub const BACKSTOP_GRACE: Duration = Duration::from_secs(30);

/// Reminders fired at the same time.
const CONCURRENCY: usize = 16;

/// The embedded scheduler; returns when `shutdown` resolves. It fires each reminder `grace`
/// after its time: zero when it is the scheduler, [`BACKSTOP_GRACE`] beside Dapr's jobs (it
/// then fires only what the jobs missed: a job lost, or a reminder older than the sidecar).
/// `wake` makes it read the pending reminders again now (after a request that may have set,
/// moved or cancelled one).
pub async fn run_scheduler<S>(
    service: Arc<TaskService<S>>,
    bus: EventBus,
    wake: Arc<Notify>,
    grace: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) where
    S: Store + 'static,
{
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let pause = match pass(&service, &bus, grace).await {
            Ok(pause) => pause,
            Err(e) => {
                tracing::warn!(error = %e, "reminders: reading the pending reminders failed");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = &mut shutdown => return,
            () = wake.notified() => {}
            () = tokio::time::sleep(pause) => {}
        }
    }
}

/// Fires what is due; the pause until the next reminder (at most [`RESCAN`]).
async fn pass<S>(
    service: &Arc<TaskService<S>>,
    bus: &EventBus,
    grace: Duration,
) -> Result<Duration, todo_core::error::StoreError>
where
    S: Store + 'static,
{
    loop {
        // What is due for this scheduler: the reminders `grace` late.
        let now = service.clock().now() - chrono::Duration::from_std(grace).unwrap_or_default();
        let next = service.store().next_reminders(BATCH).await?;
        let due: Vec<(UserId, ReminderId)> = next
            .iter()
            .filter(|r| r.reminder_time <= now)
            .map(|r| (r.user_id.clone(), r.id))
            .collect();
        if due.is_empty() {
            let pause = next
                .first()
                .map(|r| (r.reminder_time - now).to_std().unwrap_or_default())
                .unwrap_or(RESCAN);
            return Ok(pause.min(RESCAN));
        }
        let mut firing = tokio::task::JoinSet::new();
        let mut fired = 0usize;
        for (user, id) in due {
            if firing.len() >= CONCURRENCY {
                fired += usize::from(firing.join_next().await.is_some_and(joined));
            }
            let service = Arc::clone(service);
            firing.spawn(async move {
                match service.fire_reminder(&user, id).await {
                    Ok(fired) => fired,
                    Err(e) => {
                        tracing::warn!(reminder = id.get(), error = %e, "reminders: firing failed; tried again");
                        false
                    }
                }
            });
        }
        while let Some(f) = firing.join_next().await {
            fired += usize::from(joined(f));
        }
        if fired == 0 {
            // Nothing could be fired (each failed, or another replica was faster): do not spin.
            return Ok(Duration::from_millis(200));
        }
        // Read again: for the timer, or for more that are due than one batch held.
        bus.wake();
    }
}

/// Whether a firing task fired its reminder (a panic is logged, not fired).
fn joined(result: Result<bool, tokio::task::JoinError>) -> bool {
    result.unwrap_or_else(|e| {
        tracing::error!(error = %e, "reminders: a firing task failed");
        false
    })
}

/// Keeps the Dapr reminder jobs in step with the tasks: for each `activity-log-created` event
/// of a task, the task's job is scheduled at its pending reminder's time, or deleted when it
/// has none (cancelled, fired, task completed or deleted). Idempotent: it reads the task's
/// reminder as it is now, so a redelivered or late event changes nothing wrong.
pub struct ReminderJobSync<S: Store> {
    /// The use cases (to read the task's pending reminder).
    pub service: Arc<TaskService<S>>,
    /// The Jobs API.
    pub jobs: DaprJobs,
}

impl<S: Store> ReminderJobSync<S> {
    /// Schedules or deletes the task's job.
    ///
    /// # Errors
    /// The database or the sidecar failed (retry).
    pub async fn sync(&self, user: &UserId, task: TaskId) -> Result<(), HandlerError> {
        let retry = |e: &dyn std::fmt::Display| HandlerError::Retryable(e.to_string());
        let pending = |service: Arc<TaskService<S>>| async move {
            service
                .store()
                .pending_reminders(user, &[task])
                .await
                .map(|p| p.into_iter().next())
        };
        let mut current = pending(Arc::clone(&self.service))
            .await
            .map_err(|e| retry(&e))?;
        // Two syncs of one task may interleave (a cancel and a new reminder delivered out of
        // order): after acting, read again; whoever acts last acts on the final state.
        for _ in 0..8 {
            let outcome = match &current {
                Some(r) => {
                    let job = ReminderJob {
                        user_id: user.clone(),
                        task_id: task,
                        reminder_id: r.id,
                    };
                    self.jobs.schedule(&job, r.reminder_time).await
                }
                None => self.jobs.delete(task).await,
            };
            outcome.map_err(|e| retry(&e))?;
            let now = pending(Arc::clone(&self.service))
                .await
                .map_err(|e| retry(&e))?;
            if now == current {
                return Ok(());
            }
            current = now;
        }
        Err(HandlerError::Retryable(format!(
            "the reminder of task {} kept changing",
            task.get()
        )))
    }
}

impl<S: Store> EventHandler for ReminderJobSync<S> {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        match &event.data {
            EventData::ActivityLogCreated(a) => match a.task_id {
                Some(task) => self.sync(&a.user_id, task).await,
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}
