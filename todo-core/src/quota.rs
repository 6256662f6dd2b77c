//! Per-user quotas: how much one user may keep, so that no user can make the service slow or
//! full for the others.
//!
//! - **Tasks, tags, conversations** are refused beyond their limit ([`Error::QuotaExceeded`],
//!   HTTP 409 `QUOTA_EXCEEDED`). The check and the insert happen in one unit of work that
//!   serializes with the user's other counting units ([`crate::ports::StoreTx::count_tasks`]),
//!   so concurrent creates never pass the limit together.
//! - **A recurring task's next instance** is created even at the tasks limit: completing a task
//!   never loses its series. So that completions cannot grow a user's tasks without bound, a
//!   completion that would create the next instance while the user holds
//!   [`Quotas::series_ceiling`] tasks (twice the limit) is refused with the same error; the
//!   task stays open and nothing is lost.
//! - **Reminder history**: replacing a reminder keeps the old row (cancelled); beyond
//!   [`Quotas::reminder_history`] sent or cancelled rows per task the oldest are deleted (pruning,
//!   not refusing: a user expects to be able to move a reminder as often as they like).
//! - **Activity log**: beyond [`Quotas::activity_entries`] entries per user the oldest are
//!   deleted, in batches (every [`Quotas::activity_prune_step`] entries written), so a user holds
//!   at most about that many.
//!
//! A limit of 0 means unlimited.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Error;
use crate::ids::{ConversationId, UserId};
use crate::ports::{ConversationStore, PutOutcome};

/// What a quota limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaKind {
    /// Tasks per user (open and completed).
    Tasks,
    /// Tags per user.
    Tags,
    /// Live conversation documents per user.
    Conversations,
}

impl QuotaKind {
    /// The name in error bodies: `tasks`, `tags`, `conversations`.
    pub fn as_str(self) -> &'static str {
        match self {
            QuotaKind::Tasks => "tasks",
            QuotaKind::Tags => "tags",
            QuotaKind::Conversations => "conversations",
        }
    }
}

impl fmt::Display for QuotaKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The per-user limits (0 = unlimited). [`Quotas::default`] holds the defaults below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Tasks per user, open and completed.
    pub tasks: u64,
    /// Tags per user.
    pub tags: u64,
    /// Live conversation documents per user.
    pub conversations: u64,
    /// Sent or cancelled reminder rows kept per task (the pending one is not counted); older
    /// ones are deleted.
    pub reminder_history: u64,
    /// Activity entries kept per user; older ones are deleted.
    pub activity_entries: u64,
}

impl Quotas {
    /// Default tasks per user.
    pub const DEFAULT_TASKS: u64 = 10_000;
    /// Default tags per user.
    pub const DEFAULT_TAGS: u64 = 500;
    /// Default live conversations per user.
    pub const DEFAULT_CONVERSATIONS: u64 = 1_000;
    /// Default sent or cancelled reminders kept per task.
    pub const DEFAULT_REMINDER_HISTORY: u64 = 20;
    /// Default activity entries kept per user.
    pub const DEFAULT_ACTIVITY_ENTRIES: u64 = 100_000;

    /// No limit at all.
    pub const UNLIMITED: Quotas = Quotas {
        tasks: 0,
        tags: 0,
        conversations: 0,
        reminder_history: 0,
        activity_entries: 0,
    };

    /// The limit of a kind (0 = unlimited).
    pub fn limit(&self, kind: QuotaKind) -> u64 {
        match kind {
            QuotaKind::Tasks => self.tasks,
            QuotaKind::Tags => self.tags,
            QuotaKind::Conversations => self.conversations,
        }
    }

    /// `Ok` when a user who holds `used` of `kind` may add one more, else
    /// [`Error::QuotaExceeded`].
    pub fn check(&self, kind: QuotaKind, used: u64) -> Result<(), Error> {
        let limit = self.limit(kind);
        if limit != 0 && used >= limit {
            return Err(Error::QuotaExceeded { quota: kind, limit });
        }
        Ok(())
    }

    /// The number of tasks at which completing a recurring task is refused rather than
    /// creating its next instance: twice the tasks limit (0 = unlimited).
    pub fn series_ceiling(&self) -> u64 {
        self.tasks.saturating_mul(2)
    }

    /// How many activity entries are written between two prunings of a user's log (by entry
    /// id): a sixteenth of the limit, at most 1,024, so a pruning (which walks the user's
    /// newest `activity_entries`) costs little per entry written. 0 when unlimited.
    pub fn activity_prune_step(&self) -> u64 {
        if self.activity_entries == 0 {
            return 0;
        }
        (self.activity_entries / 16).clamp(1, 1024)
    }
}

/// Writes a conversation document ([`ConversationStore::put_conversation`]) within the
/// conversations quota: a write that would create a new document while the user holds
/// `quotas.conversations` live ones is refused with [`Error::QuotaExceeded`]; overwriting an
/// existing one always goes through.
///
/// A conversation store has no units of work, so two creations may pass the first count
/// together: each counts again after writing and takes its own new document back (a delete
/// conditional on the version it wrote) when the user went over the limit. Both may be
/// refused then, never both kept.
///
/// # Errors
/// [`Error::QuotaExceeded`], or the store's error.
pub async fn put_conversation_within<S: ConversationStore>(
    store: &S,
    quotas: &Quotas,
    user: &UserId,
    id: &ConversationId,
    doc: &serde_json::Value,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PutOutcome, Error> {
    let limit = quotas.conversations;
    // With `if_match` the write only ever replaces a live document.
    let may_create = if_match.is_none() && limit != 0;
    if !may_create || store.get_conversation(user, id, now).await?.is_some() {
        return Ok(store.put_conversation(user, id, doc, if_match, now).await?);
    }
    quotas.check(
        QuotaKind::Conversations,
        store.count_conversations(user, now).await?,
    )?;
    let outcome = store.put_conversation(user, id, doc, None, now).await?;
    if let PutOutcome::Written { etag } = &outcome
        && store.count_conversations(user, now).await? > limit
    {
        store.delete_conversation(user, id, Some(etag), now).await?;
        return Err(Error::QuotaExceeded {
            quota: QuotaKind::Conversations,
            limit,
        });
    }
    Ok(outcome)
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            tasks: Self::DEFAULT_TASKS,
            tags: Self::DEFAULT_TAGS,
            conversations: Self::DEFAULT_CONVERSATIONS,
            reminder_history: Self::DEFAULT_REMINDER_HISTORY,
            activity_entries: Self::DEFAULT_ACTIVITY_ENTRIES,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_refuses_at_the_limit_and_zero_is_unlimited() {
        let q = Quotas {
            tasks: 2,
            ..Quotas::UNLIMITED
        };
        assert!(q.check(QuotaKind::Tasks, 1).is_ok());
        assert_eq!(
            q.check(QuotaKind::Tasks, 2),
            Err(Error::QuotaExceeded {
                quota: QuotaKind::Tasks,
                limit: 2
            })
        );
        assert!(q.check(QuotaKind::Tags, u64::MAX).is_ok());
        assert_eq!(q.series_ceiling(), 4);
    }

    #[test]
    fn activity_prune_step_is_bounded() {
        assert_eq!(Quotas::default().activity_prune_step(), 1024);
        let small = Quotas {
            activity_entries: 10,
            ..Quotas::UNLIMITED
        };
        assert_eq!(small.activity_prune_step(), 1);
        assert_eq!(Quotas::UNLIMITED.activity_prune_step(), 0);
    }
}
