//! The consumers of the contract this server runs, whatever delivers their events (Kafka
//! consumer groups, Dapr subscriptions): each applies an event of another service to the
//! database exactly once per event (`StoreTx::claim_event` in the same transaction as the
//! effect), or hands it to this process's real-time subscribers.
//!
//! - the recurring-task creator (`task-events`): a `task-completed` event creates the task's next
//!   instance if it never had one ([`TaskService::apply_task_completed`]);
//! - the activity-log writer (`activity-logs`): an `activity-log-created` event of another service
//!   is written to the user's log ([`TaskService::apply_activity_log`]); this server's own entries
//!   are already there;
//! - the real-time fan-out (`task-updates`, `reminders`): every event goes to this process's
//!   subscribers ([`EventBus::subscribe`]), once (recent event ids are remembered).

use std::future::Future;
use std::sync::Arc;

use todo_core::error::Error;
use todo_core::ports::{NewActivity, Store};
use todo_core::service::TaskService;
use todo_events::{EventData, EventEnvelope, EventHandler, HandlerError};

use crate::bus::EventBus;

/// The consumer name (and group name suffix) of the recurring-task creator.
pub const RECURRING_TASK_CREATOR: &str = "recurring-task-creator";
/// The consumer name (and group name suffix) of the activity-log writer.
pub const ACTIVITY_LOG_WRITER: &str = "activity-log-writer";

/// What a failed use case means for a consumed event: a storage failure may pass (the database
/// is unavailable or busy): try again, a bounded number of times; anything else is about the
/// event itself: give up (dead-letter topic).
fn handler_error(e: Error) -> HandlerError {
    match e {
        Error::Store(s) => HandlerError::Retryable(s.to_string()),
        other => HandlerError::Permanent(other.to_string()),
    }
}

/// Applies `task-completed` events: [`RECURRING_TASK_CREATOR`].
pub struct RecurringTaskCreator<S: Store>(pub Arc<TaskService<S>>);

impl<S: Store> EventHandler for RecurringTaskCreator<S> {
    fn handle(
        &self,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let service = Arc::clone(&self.0);
        let id = event.event_id;
        let completed = match &event.data {
            EventData::TaskCompleted(c) => Some((c.user_id.clone(), c.task_id)),
            _ => None,
        };
        async move {
            let Some((user, task)) = completed else {
                return Ok(());
            };
            service
                .apply_task_completed(RECURRING_TASK_CREATOR, id, &user, task)
                .await
                .map(|_| ())
                .map_err(handler_error)
        }
    }
}

/// Applies `activity-log-created` events: [`ACTIVITY_LOG_WRITER`].
pub struct ActivityLogWriter<S: Store>(pub Arc<TaskService<S>>);

impl<S: Store> EventHandler for ActivityLogWriter<S> {
    fn handle(
        &self,
        event: &EventEnvelope,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send {
        let service = Arc::clone(&self.0);
        let id = event.event_id;
        let entry = match &event.data {
            EventData::ActivityLogCreated(a) => Some(NewActivity {
                user_id: a.user_id.clone(),
                task_id: a.task_id,
                action: a.action,
                old_values: a.old_values.clone(),
                new_values: a.new_values.clone(),
                created_at: a.created_at.unwrap_or(event.timestamp),
            }),
            _ => None,
        };
        async move {
            let Some(entry) = entry else {
                return Ok(());
            };
            service
                .apply_activity_log(ACTIVITY_LOG_WRITER, id, entry)
                .await
                .map(|_| ())
                .map_err(handler_error)
        }
    }
}

/// Hands `task-updates` and `reminders` events to this process's subscribers (real-time
/// clients): each replica consumes them in a group of its own, so a client connected to one
/// replica sees the changes made on another. An event delivered again (at-least-once: a relay
/// retry, a rebalance) is pushed once: the bus drops recent repeats ([`EventBus::fan_out`]).
pub struct FanOut {
    bus: EventBus,
}

impl FanOut {
    /// A fan-out into `bus`.
    pub fn new(bus: EventBus) -> Self {
        FanOut { bus }
    }
}

impl EventHandler for FanOut {
    async fn handle(&self, event: &EventEnvelope) -> Result<(), HandlerError> {
        self.bus.fan_out(event.clone());
        Ok(())
    }
}
