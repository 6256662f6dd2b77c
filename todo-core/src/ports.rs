//! The ports: what the domain needs from the world, as traits that adapters implement.
//!
//! A [`Store`] opens units of work ([`StoreTx`]); a unit of work writes a change, its activity
//! entries and its domain events, and makes all of them visible together on
//! [`StoreTx::commit`]. Dropping a unit of work without committing discards everything it wrote.
//! Every method is scoped by user: a store never returns another user's rows.
//!
//! What SQL adapters must keep in mind:
//! - `parent_task_id`, `next_task_id` and an activity entry's `task_id` are plain references, not
//!   foreign keys: deleting a task leaves them as they are (the audit trail and the "created
//!   once" guard outlive the task).
//! - A unit of work serializes with other units that touch the same task: PostgreSQL locks the
//!   rows it reads in a unit (`SELECT ... FOR UPDATE`); SQLite runs units as `BEGIN IMMEDIATE`.
//! - Sorting by tag name or title compares the stored lowercased keys bytewise (`COLLATE "C"` on
//!   PostgreSQL, `BINARY` on SQLite), computed in Rust ([`TagName::key`],
//!   [`crate::query::title_key`], [`crate::query::search_text`]), never with SQL's `lower()`.

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Duration, Utc};

use crate::error::StoreError;
use crate::events::DomainEvent;
use crate::ids::{ConversationId, EventId, ReminderId, TagId, TaskId, UserId};
use crate::model::{
    ActivityAction, ActivityEntry, Color, Reminder, ReminderStatus, ReminderType, Tag, TagName,
    Task, Values, normalize_instant,
};
use crate::query::{Page, TaskQuery};

/// The current time.
pub trait Clock: Send + Sync {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// A shared clock reads the clock it shares (a test keeps an `Arc<ManualClock>` to move the
/// time of the service it handed a clone to).
impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> DateTime<Utc> {
        (**self).now()
    }
}

/// A source of fresh event ids (UUIDs). The server uses random v4 UUIDs; tests use a sequence.
pub trait IdSource: Send + Sync {
    /// A new, never-before-returned event id.
    fn event_id(&self) -> EventId;
}

/// A task to insert; the store assigns the id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// Everything but the id (`task.id` is ignored).
    pub task: Task,
}

/// A tag to insert; the store assigns the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTag {
    /// The owner.
    pub user_id: UserId,
    /// The name (unique per user case-insensitively: the store enforces it too).
    pub name: TagName,
    /// The color.
    pub color: Color,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A reminder to insert; the store assigns the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReminder {
    /// The task.
    pub task_id: TaskId,
    /// The owner.
    pub user_id: UserId,
    /// When it fires.
    pub reminder_time: DateTime<Utc>,
    /// What it is anchored to.
    pub reminder_type: ReminderType,
    /// When it was set.
    pub created_at: DateTime<Utc>,
}

/// An activity entry to insert; the store assigns the id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActivity {
    /// Whose activity.
    pub user_id: UserId,
    /// The task it concerns, if any.
    pub task_id: Option<TaskId>,
    /// What happened.
    pub action: ActivityAction,
    /// Values before.
    pub old_values: Option<Values>,
    /// Values after.
    pub new_values: Option<Values>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The largest encoded event (the JSON envelope) a publisher sends by default: 900 KiB, under
/// Kafka's default `message.max.bytes` (1 MB) with room for the record's headers and key. A
/// larger event is refused for good ([`crate::error::PublishError::Rejected`]) before it is
/// sent, and parked by the relay. Servers make it configurable (`TODO_EVENT_MAX_BYTES`).
pub const DEFAULT_MAX_EVENT_BYTES: usize = 900 * 1024;

/// Where the outbox relay hands committed events: the in-process bus of the embedded default,
/// Kafka, Dapr pub/sub.
pub trait EventPublisher: Send + Sync {
    /// Publishes the batch in order. `Ok` only when every event was accepted (for a broker:
    /// acknowledged); the relay then marks them delivered. On
    /// [`Unavailable`](crate::error::PublishError::Unavailable) the relay offers the same batch
    /// again later: an event may be published more than once (consumers skip the ones they have
    /// seen, by `event_id`), never lost and never out of order for a user.
    ///
    /// On [`Rejected`](crate::error::PublishError::Rejected) the events named are refused for
    /// good (too large, cannot be encoded, refused by the broker as invalid); the others of the
    /// batch may or may not have been published. The relay parks the named ones
    /// ([`Store::park_event`]) and offers the rest again. A publisher should check what it can
    /// before sending anything (encoding, size), so that a refusal costs no duplicates.
    fn publish(
        &self,
        batch: &[OutboxEntry],
    ) -> impl Future<Output = Result<(), crate::error::PublishError>> + Send;
}

/// A domain event in the outbox, with its position.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    /// Position in the outbox: increasing in commit order.
    pub seq: u64,
    /// The event.
    pub event: DomainEvent,
}

/// An outbox event the relay parked (dead-lettered) because the publisher refused it for good:
/// what an operator sees of it, without the payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedEvent {
    /// Position in the outbox.
    pub seq: u64,
    /// The event's id.
    pub event_id: EventId,
    /// Whose event.
    pub user_id: UserId,
    /// The event type, e.g. `task-created`.
    pub event_type: String,
    /// When the event occurred.
    pub occurred_at: DateTime<Utc>,
    /// When the relay parked it.
    pub parked_at: DateTime<Utc>,
    /// Why (the publisher's refusal, for people).
    pub reason: String,
}

/// A tag with the number of tasks it is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagWithCount {
    /// The tag.
    pub tag: Tag,
    /// How many of the user's tasks carry it.
    pub task_count: u64,
}

/// A page of the activity log, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityPage {
    /// The entries of this page.
    pub entries: Vec<ActivityEntry>,
    /// All entries of the user.
    pub total: u64,
}

/// Persistent storage of tasks, tags, reminders, activity and the event outbox.
pub trait Store: Send + Sync {
    /// A unit of work.
    type Tx: StoreTx + Send;

    /// Opens a unit of work.
    fn begin(&self) -> impl Future<Output = Result<Self::Tx, StoreError>> + Send;

    /// One task of the user.
    fn task(
        &self,
        user: &UserId,
        id: TaskId,
    ) -> impl Future<Output = Result<Option<Task>, StoreError>> + Send;

    /// The user's tasks that match the query: exactly what [`crate::query::apply`] returns for
    /// the same tasks (same order, same total).
    fn list_tasks(
        &self,
        user: &UserId,
        query: &TaskQuery,
    ) -> impl Future<Output = Result<Page<Task>, StoreError>> + Send;

    /// The user's tags with their task counts, ordered by [`TagName::key`] bytewise, ties by id.
    fn list_tags(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<TagWithCount>, StoreError>> + Send;

    /// Tags of the user by id, in the order of `ids`; ids that do not exist (or are another
    /// user's) are left out. A plain read (no locks): what a task view shows.
    fn tags(
        &self,
        user: &UserId,
        ids: &[TagId],
    ) -> impl Future<Output = Result<Vec<Tag>, StoreError>> + Send;

    /// The user's activity log, newest first (ties by id, newest first).
    fn list_activity(
        &self,
        user: &UserId,
        limit: u32,
        offset: u64,
    ) -> impl Future<Output = Result<ActivityPage, StoreError>> + Send;

    /// The pending reminders of the given tasks of the user.
    fn pending_reminders(
        &self,
        user: &UserId,
        tasks: &[TaskId],
    ) -> impl Future<Output = Result<Vec<Reminder>, StoreError>> + Send;

    /// Committed outbox entries not yet marked delivered (nor parked) with a `seq` above `after`, ascending
    /// by `seq`, at most `limit`. `seq` increases in the order events were appended (within a
    /// unit, and across units of one user, which serialize); a relay publishes them in this
    /// order, then marks them. `after` lets a relay read the next batch while the previous one
    /// is still being published.
    fn undelivered_events_after(
        &self,
        after: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send;

    /// The head of the outbox: [`Store::undelivered_events_after`] from the start.
    fn undelivered_events(
        &self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send {
        self.undelivered_events_after(0, limit)
    }

    /// The user's outbox events committed after the event `after` (delivered or not, parked
    /// ones left out), ascending by `seq`, at most `limit`; `None` when `after` is not in the
    /// outbox (unknown, another user's, or pruned): a real-time client that asked to resume from
    /// it must resync.
    fn user_events_after(
        &self,
        user: &UserId,
        after: EventId,
        limit: u32,
    ) -> impl Future<Output = Result<Option<Vec<OutboxEntry>>, StoreError>> + Send;

    /// The pending reminders of every user, earliest `reminder_time` first (ties by id), at
    /// most `limit`: what a reminder scheduler fires next.
    fn next_reminders(
        &self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Reminder>, StoreError>> + Send;

    /// Deletes the outbox entries that were delivered and occurred before `before` (the end of
    /// the event retention: a real-time client cannot resume from them any more); undelivered
    /// ones stay whatever their age. The number deleted.
    fn prune_delivered_events(
        &self,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Marks outbox entries delivered (after the broker or the in-process bus took them);
    /// unknown or already delivered `seq`s are ignored. Delivered entries may be pruned later.
    fn mark_delivered(&self, seqs: &[u64]) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Parks (dead-letters) an undelivered outbox entry that the publisher refused for good:
    /// from then on it is neither undelivered ([`Store::undelivered_events_after`]) nor
    /// replayed ([`Store::user_events_after`] skips it), and it is kept with `reason` and `at`
    /// for an operator ([`Store::parked_events`]) until [`Store::prune_parked_events`].
    /// `false` when `seq` is unknown, delivered or parked already.
    fn park_event(
        &self,
        seq: u64,
        reason: &str,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The parked entries, oldest `seq` first, at most `limit`.
    fn parked_events(
        &self,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<ParkedEvent>, StoreError>> + Send;

    /// How many entries are parked.
    fn count_parked_events(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes the parked entries parked before `before`; the number deleted. (Parked entries
    /// are not pruned by [`Store::prune_delivered_events`]: they are kept longer.)
    fn prune_parked_events(
        &self,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// A unit of work. Reads see the unit's own writes. Nothing is visible to others before `commit`.
pub trait StoreTx: Send {
    /// One task of the user. On stores with row locks the row stays locked until the unit ends,
    /// so that two units completing one task run one after the other.
    fn task(
        &mut self,
        user: &UserId,
        id: TaskId,
    ) -> impl Future<Output = Result<Option<Task>, StoreError>> + Send;

    /// Inserts a task with its tag links; returns it with its new id (`new.task.id` is ignored).
    /// Fails with [`StoreError::UniqueViolation`] when a task with the same `parent_task_id`
    /// exists (a unique index: the last guard behind "the next instance is created once").
    fn insert_task(
        &mut self,
        new: NewTask,
    ) -> impl Future<Output = Result<Task, StoreError>> + Send;

    /// Writes every field of an existing task, tag links included.
    fn update_task(&mut self, task: &Task) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a task with its tag links and reminders; `false` if it did not exist.
    fn delete_task(
        &mut self,
        user: &UserId,
        id: TaskId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Tags of the user by id, in the order of `ids`; ids that do not exist (or are another user's)
    /// are left out. On stores with row locks the rows stay locked (`FOR SHARE`) until the unit
    /// ends, so that a tag cannot be deleted under a unit that attaches it.
    fn tags(
        &mut self,
        user: &UserId,
        ids: &[TagId],
    ) -> impl Future<Output = Result<Vec<Tag>, StoreError>> + Send;

    /// The user's tag whose name has this key ([`TagName::key`]).
    fn tag_by_key(
        &mut self,
        user: &UserId,
        key: &str,
    ) -> impl Future<Output = Result<Option<Tag>, StoreError>> + Send;

    /// Inserts a tag. Fails with [`StoreError::UniqueViolation`] when the user has a tag with the same key.
    fn insert_tag(&mut self, new: NewTag) -> impl Future<Output = Result<Tag, StoreError>> + Send;

    /// Writes name and color of an existing tag. Same uniqueness rule as `insert_tag`.
    fn update_tag(&mut self, tag: &Tag) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes a tag and detaches it from every task; `false` if it did not exist.
    fn delete_tag(
        &mut self,
        user: &UserId,
        id: TagId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The ids of the user's tasks that carry the tag, ascending.
    fn tasks_with_tag(
        &mut self,
        user: &UserId,
        id: TagId,
    ) -> impl Future<Output = Result<Vec<TaskId>, StoreError>> + Send;

    /// Every reminder of a task (pending, sent and cancelled), ascending by id.
    fn reminders_of(
        &mut self,
        user: &UserId,
        task: TaskId,
    ) -> impl Future<Output = Result<Vec<Reminder>, StoreError>> + Send;

    /// A reminder by id.
    fn reminder(
        &mut self,
        user: &UserId,
        id: ReminderId,
    ) -> impl Future<Output = Result<Option<Reminder>, StoreError>> + Send;

    /// Inserts a pending reminder. Fails with [`StoreError::UniqueViolation`] when the task has a
    /// pending one already.
    fn insert_reminder(
        &mut self,
        new: NewReminder,
    ) -> impl Future<Output = Result<Reminder, StoreError>> + Send;

    /// Writes every field of a reminder (status, `reminder_time`, timestamps), only if its stored
    /// status is still `from`. Returns whether it was: this is how firing claims a reminder
    /// exactly once, and how a pending reminder is moved (`from` = pending, new time).
    fn transition_reminder(
        &mut self,
        reminder: &Reminder,
        from: ReminderStatus,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Appends an activity entry; returns it with its id.
    fn insert_activity(
        &mut self,
        new: NewActivity,
    ) -> impl Future<Output = Result<ActivityEntry, StoreError>> + Send;

    /// How many tasks the user has (open and completed), this unit's writes included: what a
    /// quota check counts ([`crate::quota`]). On stores where units of one user run side by
    /// side, it first takes a per-user quota lock held until the unit ends, so two units that
    /// count and then insert run one after the other and cannot both pass a limit. A unit
    /// should count before it locks rows, so that the lock order is the same everywhere.
    fn count_tasks(
        &mut self,
        user: &UserId,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// How many tags the user has; takes the same per-user quota lock as
    /// [`StoreTx::count_tasks`].
    fn count_tags(&mut self, user: &UserId)
    -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes the task's sent and cancelled reminders except the `keep` newest (by id); the
    /// pending one is never deleted. The number deleted.
    fn prune_reminders(
        &mut self,
        user: &UserId,
        task: TaskId,
        keep: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Deletes the user's activity entries except the `keep` newest (in the order of
    /// [`Store::list_activity`]: `created_at`, then id). The number deleted.
    fn prune_activity(
        &mut self,
        user: &UserId,
        keep: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Records that `consumer` applied the event `event` in this unit: `true` the first time,
    /// `false` when that consumer's record of the event is already committed (a redelivery: the
    /// caller skips the effect). Concurrent units claiming the same pair: one gets `true`, the
    /// others `false` once it commits (or `true` if it rolls back). The record commits or rolls
    /// back with the unit's other writes.
    fn claim_event(
        &mut self,
        consumer: &str,
        event: EventId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Whether the event was written to this store's outbox (by any unit, delivered or not):
    /// a consumer uses it to tell the events of this service from another service's.
    fn event_in_outbox(
        &mut self,
        event: EventId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Appends a domain event to the outbox.
    fn append_event(
        &mut self,
        event: &DomainEvent,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Makes every write of this unit visible, atomically.
    fn commit(self) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How long a conversation document lives after its last write: 90 days. An older document
/// reads as missing and may be pruned at any time.
pub const CONVERSATION_RETENTION: Duration = Duration::days(90);

/// The largest conversation document, serialized as compact JSON: 256 KiB.
pub const MAX_CONVERSATION_BYTES: usize = 256 * 1024;

/// Whether a document last written at `updated_at` has expired at `now`
/// (older than [`CONVERSATION_RETENTION`]).
pub fn conversation_expired(updated_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    updated_at < conversation_cutoff(now)
}

/// The oldest `updated_at` of a live document at `now`.
pub fn conversation_cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - CONVERSATION_RETENTION
}

/// A stored conversation document with its version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDoc {
    /// The document (a JSON object).
    pub doc: serde_json::Value,
    /// The opaque version tag (unquoted); changes on every write.
    pub etag: String,
    /// The time of the last write.
    pub updated_at: DateTime<Utc>,
}

/// What a conditional write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PutOutcome {
    /// The document was written; its new version tag.
    Written {
        /// The new version tag (unquoted).
        etag: String,
    },
    /// `if_match` did not name the current version (or there is no live document).
    PreconditionFailed,
}

/// What a (conditional) delete did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The document existed (and matched `if_match`) and is gone.
    Deleted,
    /// There is no live document.
    NotFound,
    /// The document exists but `if_match` did not name its current version.
    PreconditionFailed,
}

/// Conversation state (the chatbot's memory): one JSON document per user and conversation id,
/// with optimistic concurrency and a retention of [`CONVERSATION_RETENTION`] since the last
/// write.
///
/// `if_match` is a version tag as returned in [`StoredDoc::etag`] / [`PutOutcome::Written`], or
/// `"*"` for "any live document". A write with `if_match` succeeds only when the live document
/// has that version, atomically (no lost update between two writers with the same version).
/// Documents older than the retention at `now` are invisible (reads miss, `if_match` fails, a
/// write without `if_match` starts over); stores prune them best-effort on writes.
pub trait ConversationStore: Send + Sync {
    /// The live document, if any.
    fn get_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<StoredDoc>, StoreError>> + Send;

    /// Writes the document: unconditionally (create or overwrite) without `if_match`, else only
    /// over the live document with that version. `now` becomes its `updated_at`.
    fn put_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        doc: &serde_json::Value,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<PutOutcome, StoreError>> + Send;

    /// Deletes the live document (only the one with that version, with `if_match`).
    fn delete_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<DeleteOutcome, StoreError>> + Send;

    /// The user's live conversations with their last write, newest first (ties by id).
    fn list_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<(ConversationId, DateTime<Utc>)>, StoreError>> + Send;

    /// How many live conversations the user has at `now` (what the conversations quota
    /// counts, [`crate::quota`]).
    fn count_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The version tag of a stored version number: `v<n>`.
pub fn conversation_etag(version: i64) -> String {
    format!("v{version}")
}

/// The version number named by a tag made by [`conversation_etag`]; `None` for `"*"` or a tag
/// that no store made (it matches no version).
pub fn conversation_version(etag: &str) -> Option<i64> {
    etag.strip_prefix('v')?.parse().ok()
}

/// The first version of a new document: the write time in microseconds, so that a document
/// deleted and created again does not reuse its old tags.
pub fn conversation_first_version(now: DateTime<Utc>) -> i64 {
    now.timestamp_micros()
}

/// The default time an idempotency key and its stored response are kept: 24 hours (servers
/// make it configurable: `TODO_IDEMPOTENCY_TTL`).
pub const DEFAULT_IDEMPOTENCY_TTL: Duration = Duration::hours(24);

/// How long a key may stay "in progress" (its first request running) before a retry may take
/// it over: 2 minutes, well beyond a request's time limit. It only matters when the process
/// that ran the first request died before it could store or release the key; without it such
/// a key would answer 409 until it expires.
pub const IDEMPOTENCY_LOCK_TIMEOUT: Duration = Duration::minutes(2);

/// The largest response body that is stored for replay: 64 KiB. A larger one is not stored
/// (the key is released, so a retry runs again); the responses of this API are a few KiB.
pub const MAX_IDEMPOTENT_BODY_BYTES: usize = 64 * 1024;

/// A client's `Idempotency-Key`: 1-255 visible ASCII characters (`!` to `~`), compared
/// exactly (case-sensitive). Unique per user, not globally: two users' keys never meet.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The longest accepted key, in characters.
    pub const MAX_LEN: usize = 255;

    /// The field named by a validation error: the header.
    pub const FIELD: &'static str = "Idempotency-Key";

    /// Validates a key.
    ///
    /// # Errors
    /// Empty, longer than [`Self::MAX_LEN`], or with a character outside `!`..=`~`.
    pub fn parse(s: &str) -> Result<Self, crate::error::FieldError> {
        use crate::error::{ErrorCode, FieldError};
        if s.is_empty() {
            return Err(FieldError::new(
                Self::FIELD,
                ErrorCode::Required,
                "Idempotency-Key must not be empty",
            ));
        }
        if s.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                Self::FIELD,
                ErrorCode::TooLong,
                format!(
                    "Idempotency-Key must be at most {} characters",
                    Self::MAX_LEN
                ),
            ));
        }
        if !s.bytes().all(|c| c.is_ascii_graphic()) {
            return Err(FieldError::new(
                Self::FIELD,
                ErrorCode::InvalidFormat,
                "Idempotency-Key may only contain visible ASCII characters (no spaces)",
            ));
        }
        Ok(IdempotencyKey(s.to_owned()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What identifies the request a key was first used with (method, path, a hash of the body),
/// as computed by the host: a retry must carry the same one to get the stored response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestFingerprint(String);

impl RequestFingerprint {
    /// Wraps a fingerprint the host computed (e.g. a hex SHA-256).
    pub fn new(fingerprint: impl Into<String>) -> Self {
        RequestFingerprint(fingerprint.into())
    }

    /// The fingerprint as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A response kept for replay: its status, the headers that matter (content type, location)
/// and its body, byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// The HTTP status.
    pub status: u16,
    /// Header names (lower case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// What [`IdempotencyStore::begin_idempotent`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyClaim {
    /// The key was free (unknown, expired, or abandoned in progress): it is now marked in
    /// progress for this request, which runs and then completes or releases it.
    Started,
    /// The key's request ran with the same fingerprint: its stored response.
    Replay(StoredResponse),
    /// The key is in progress for the same request (a concurrent retry): try again shortly.
    InProgress,
    /// The key was used with a different request (another fingerprint).
    Mismatch,
}

/// Idempotency keys (`Idempotency-Key` on `POST`): per user and key, the fingerprint of the
/// request that first used the key and, once it ran, its response; kept for a time-to-live
/// from the first use, then invisible and pruned.
///
/// The protocol: [`begin_idempotent`](Self::begin_idempotent) inserts an in-progress marker
/// if the key is free (atomically: of concurrent callers with one key exactly one gets
/// [`IdempotencyClaim::Started`]); the winner runs the request, then stores its response with
/// [`complete_idempotent`](Self::complete_idempotent) or frees the key with
/// [`release_idempotent`](Self::release_idempotent) (a failure that a retry may repair). A
/// marker older than [`IDEMPOTENCY_LOCK_TIMEOUT`] counts as abandoned and may be taken over.
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` of `user` for a request with `fingerprint` at `now`; records older than
    /// `ttl` count as absent.
    fn begin_idempotent(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
        fingerprint: &RequestFingerprint,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> impl Future<Output = Result<IdempotencyClaim, StoreError>> + Send;

    /// Stores the response of the request that holds the in-progress marker of `key`, the claim
    /// begun at `claimed_at` (the `now` given to [`begin_idempotent`](Self::begin_idempotent));
    /// does nothing when the key is not in progress (released, or completed already) or was
    /// taken over by a later claim meanwhile.
    fn complete_idempotent(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
        claimed_at: DateTime<Utc>,
        response: &StoredResponse,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Removes the in-progress marker of `key` claimed at `claimed_at` (the request failed in
    /// a way a retry may repair); a completed record, or one taken over by a later claim, is
    /// left alone.
    fn release_idempotent(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
        claimed_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes the records (completed or not) first used before `before`; the number deleted.
    fn prune_idempotency_keys(
        &self,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
}

/// The oldest first use of a live idempotency record at `now` (older ones count as absent).
pub fn idempotency_cutoff(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now - ttl
}

/// The oldest start of an in-progress marker that still holds its key at `now`: older ones
/// are abandoned ([`IDEMPOTENCY_LOCK_TIMEOUT`], or the TTL when that is shorter).
pub fn idempotency_lock_cutoff(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    now - IDEMPOTENCY_LOCK_TIMEOUT.min(ttl)
}

/// The system clock is the hosts' business (core has no I/O); this clock is set by hand, for
/// tests and for replaying.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock that reads `t` until moved.
    pub fn new(t: DateTime<Utc>) -> Self {
        ManualClock(Mutex::new(normalize_instant(t)))
    }

    /// Sets the time.
    pub fn set(&self, t: DateTime<Utc>) {
        if let Ok(mut g) = self.0.lock() {
            *g = normalize_instant(t);
        }
    }

    /// Moves the time forward.
    pub fn advance(&self, d: Duration) {
        if let Ok(mut g) = self.0.lock() {
            *g += d;
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        match self.0.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }
}

/// Event ids `00000000-0000-4000-8000-000000000001`, `...02`, ...: deterministic, for tests and replays.
#[derive(Debug, Default)]
pub struct SequentialIds(AtomicU64);

impl SequentialIds {
    /// Starts at 1.
    pub fn new() -> Self {
        Self::default()
    }
}

impl IdSource for SequentialIds {
    fn event_id(&self) -> EventId {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        let raw = (0x4000u128 << 64) | (0x8000u128 << 48) | u128::from(n);
        EventId::new(uuid::Uuid::from_u128(raw))
    }
}
