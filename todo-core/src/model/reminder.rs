//! The reminder entity.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{ErrorCode, FieldError};
use crate::ids::{ReminderId, TaskId, UserId};

/// What a reminder is anchored to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderType {
    /// Before the task's due date; it moves with the due date and carries over to the next
    /// instance of a recurring task at the same offset.
    #[default]
    DueDate,
    /// At a fixed instant chosen by the user.
    Custom,
}

impl ReminderType {
    /// The API name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReminderType::DueDate => "due_date",
            ReminderType::Custom => "custom",
        }
    }

    /// Parses `due_date` or `custom`.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s.trim() {
            "due_date" => Ok(ReminderType::DueDate),
            "custom" => Ok(ReminderType::Custom),
            _ => Err(FieldError::new(
                "reminder_type",
                ErrorCode::InvalidValue,
                format!("reminder_type must be due_date or custom; got {s:?}"),
            )),
        }
    }
}

impl fmt::Display for ReminderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a reminder is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderStatus {
    /// Waiting for its time.
    Pending,
    /// Fired.
    Sent,
    /// Cancelled by the user, or by a change to its task.
    Cancelled,
}

impl ReminderStatus {
    /// The API name.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReminderStatus::Pending => "pending",
            ReminderStatus::Sent => "sent",
            ReminderStatus::Cancelled => "cancelled",
        }
    }

    /// Parses a stored status.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "pending" => Ok(ReminderStatus::Pending),
            "sent" => Ok(ReminderStatus::Sent),
            "cancelled" => Ok(ReminderStatus::Cancelled),
            _ => Err(FieldError::new(
                "status",
                ErrorCode::InvalidValue,
                format!("status must be pending, sent or cancelled; got {s:?}"),
            )),
        }
    }
}

/// A reminder of a task. A task has at most one pending reminder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// Assigned by the store.
    pub id: ReminderId,
    /// The task it reminds of.
    pub task_id: TaskId,
    /// The owner (the task's owner).
    pub user_id: UserId,
    /// When it fires.
    pub reminder_time: DateTime<Utc>,
    /// What it is anchored to.
    pub reminder_type: ReminderType,
    /// Where it is in its life.
    pub status: ReminderStatus,
    /// When it was set.
    pub created_at: DateTime<Utc>,
    /// When it fired.
    pub sent_at: Option<DateTime<Utc>>,
    /// When it was cancelled.
    pub cancelled_at: Option<DateTime<Utc>>,
}
