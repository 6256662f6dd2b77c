//! An in-memory store: the reference adapter of the storage port, used by tests and by hosts
//! that need no persistence. Units of work run one at a time (an async lock, like a row lock
//! held for the whole unit), work on a private copy of the state, and publish it on commit;
//! reads outside a unit see the last committed state and never wait for writers. The state is
//! made of persistent maps (`imbl`), so a copy costs O(1) and a write O(log n).

use std::sync::{Arc, Mutex, PoisonError};

use futures_util::lock::{Mutex as AsyncMutex, OwnedMutexGuard};
use imbl::OrdMap as BTreeMap;

use crate::error::StoreError;
use crate::events::DomainEvent;
use chrono::{DateTime, Utc};

use crate::ids::{ActivityId, ConversationId, EventId, ReminderId, TagId, TaskId, UserId};
use crate::model::{ActivityEntry, Reminder, ReminderStatus, Tag, Task};
use crate::ports::{
    ActivityPage, ConversationStore, DeleteOutcome, NewActivity, NewReminder, NewTag, NewTask,
    OutboxEntry, ParkedEvent, PutOutcome, Store, StoreTx, StoredDoc, TagWithCount,
    conversation_cutoff, conversation_etag, conversation_expired, conversation_first_version,
    conversation_version,
};
use crate::ports::{
    IdempotencyClaim, IdempotencyKey, IdempotencyStore, RequestFingerprint, StoredResponse,
    idempotency_cutoff, idempotency_lock_cutoff,
};
use crate::query::{self, Page, TaskQuery};

#[derive(Debug, Clone, Default)]
struct State {
    tasks: BTreeMap<TaskId, Task>,
    tags: BTreeMap<TagId, Tag>,
    reminders: BTreeMap<ReminderId, Reminder>,
    activity: BTreeMap<ActivityId, ActivityEntry>,
    /// Undelivered outbox entries by `seq`; delivered ones are dropped.
    outbox: BTreeMap<u64, OutboxEntry>,
    next_seq: u64,
    /// Every event appended to the outbox (delivered or not), by `seq`.
    log: imbl::OrdMap<u64, OutboxEntry>,
    /// The `seq` of every event appended to the outbox.
    appended: imbl::OrdMap<EventId, u64>,
    /// Parked entries (in `log`, not in `outbox`) by `seq`: when and why.
    parked: imbl::OrdMap<u64, (DateTime<Utc>, String)>,
    /// `(consumer, event)` pairs applied by idempotent consumers.
    processed: imbl::OrdSet<(String, EventId)>,
    next_task: i64,
    next_tag: i64,
    next_reminder: i64,
    next_activity: i64,
}

impl State {
    fn next(counter: &mut i64) -> i64 {
        *counter += 1;
        *counter
    }

    fn task(&self, user: &UserId, id: TaskId) -> Option<&Task> {
        self.tasks.get(&id).filter(|t| &t.user_id == user)
    }

    fn tag_key_taken(&self, user: &UserId, key: &str, except: Option<TagId>) -> bool {
        self.tags
            .values()
            .any(|t| &t.user_id == user && Some(t.id) != except && t.name.key() == key)
    }
}

/// The in-memory store. Cheap to clone: clones share the same data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    committed: Arc<Mutex<Arc<State>>>,
    writer: Arc<AsyncMutex<()>>,
    /// Conversation documents, apart from the task state (no units of work).
    conversations: Arc<Mutex<std::collections::BTreeMap<(UserId, ConversationId), Conversation>>>,
    /// Idempotency records, apart from the task state (no units of work).
    idempotency: Arc<Mutex<std::collections::BTreeMap<(UserId, IdempotencyKey), IdemRecord>>>,
}

/// A stored conversation document.
#[derive(Debug, Clone)]
struct Conversation {
    doc: serde_json::Value,
    version: i64,
    updated_at: DateTime<Utc>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn snapshot(&self) -> Arc<State> {
        self.committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Whether a live document satisfies `if_match` (`"*"` or its version tag).
fn matches(c: &Conversation, if_match: &str) -> bool {
    if_match == "*" || conversation_version(if_match) == Some(c.version)
}

impl ConversationStore for MemoryStore {
    async fn get_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredDoc>, StoreError> {
        let map = self
            .conversations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(map
            .get(&(user.clone(), id.clone()))
            .filter(|c| !conversation_expired(c.updated_at, now))
            .map(|c| StoredDoc {
                doc: c.doc.clone(),
                etag: conversation_etag(c.version),
                updated_at: c.updated_at,
            }))
    }

    async fn put_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        doc: &serde_json::Value,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<PutOutcome, StoreError> {
        let mut map = self
            .conversations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = (user.clone(), id.clone());
        let current = map.get(&key);
        let live = current.filter(|c| !conversation_expired(c.updated_at, now));
        if let Some(tag) = if_match
            && !live.is_some_and(|c| matches(c, tag))
        {
            return Ok(PutOutcome::PreconditionFailed);
        }
        let version = match current {
            Some(c) => c.version + 1,
            None => conversation_first_version(now),
        };
        map.insert(
            key,
            Conversation {
                doc: doc.clone(),
                version,
                updated_at: now,
            },
        );
        let cutoff = conversation_cutoff(now);
        map.retain(|(u, _), c| u != user || c.updated_at >= cutoff);
        Ok(PutOutcome::Written {
            etag: conversation_etag(version),
        })
    }

    async fn delete_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DeleteOutcome, StoreError> {
        let mut map = self
            .conversations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let key = (user.clone(), id.clone());
        let outcome = match map
            .get(&key)
            .filter(|c| !conversation_expired(c.updated_at, now))
        {
            None => DeleteOutcome::NotFound,
            Some(c) if if_match.is_some_and(|tag| !matches(c, tag)) => {
                DeleteOutcome::PreconditionFailed
            }
            Some(_) => DeleteOutcome::Deleted,
        };
        if outcome == DeleteOutcome::Deleted {
            map.remove(&key);
        }
        Ok(outcome)
    }

    async fn list_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ConversationId, DateTime<Utc>)>, StoreError> {
        let map = self
            .conversations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<(ConversationId, DateTime<Utc>)> = map
            .iter()
            .filter(|((u, _), c)| u == user && !conversation_expired(c.updated_at, now))
            .map(|((_, id), c)| (id.clone(), c.updated_at))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }

    async fn count_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let map = self
            .conversations
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(map
            .iter()
            .filter(|((u, _), c)| u == user && !conversation_expired(c.updated_at, now))
            .count() as u64)
    }
}

/// A unit of work of the [`MemoryStore`].
#[derive(Debug)]
pub struct MemoryTx {
    store: MemoryStore,
    work: State,
    _guard: OwnedMutexGuard<()>,
}

impl Store for MemoryStore {
    type Tx = MemoryTx;

    async fn begin(&self) -> Result<MemoryTx, StoreError> {
        let guard = self.writer.clone().lock_owned().await;
        let work = (*self.snapshot()).clone();
        Ok(MemoryTx {
            store: self.clone(),
            work,
            _guard: guard,
        })
    }

    async fn task(&self, user: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        Ok(self.snapshot().task(user, id).cloned())
    }

    async fn list_tasks(&self, user: &UserId, q: &TaskQuery) -> Result<Page<Task>, StoreError> {
        let state = self.snapshot();
        let mine: Vec<&Task> = state
            .tasks
            .values()
            .filter(|t| &t.user_id == user)
            .collect();
        let owned: Vec<Task> = mine.into_iter().cloned().collect();
        Ok(query::apply(q, &owned).map(Task::clone))
    }

    async fn tags(&self, user: &UserId, ids: &[TagId]) -> Result<Vec<Tag>, StoreError> {
        let state = self.snapshot();
        Ok(ids
            .iter()
            .filter_map(|id| state.tags.get(id).filter(|t| &t.user_id == user).cloned())
            .collect())
    }

    async fn list_tags(&self, user: &UserId) -> Result<Vec<TagWithCount>, StoreError> {
        let state = self.snapshot();
        let mut tags: Vec<TagWithCount> = state
            .tags
            .values()
            .filter(|t| &t.user_id == user)
            .map(|t| TagWithCount {
                tag: t.clone(),
                task_count: state
                    .tasks
                    .values()
                    .filter(|task| &task.user_id == user && task.tag_ids.contains(&t.id))
                    .count() as u64,
            })
            .collect();
        tags.sort_by(|a, b| {
            a.tag
                .name
                .key()
                .cmp(&b.tag.name.key())
                .then(a.tag.id.cmp(&b.tag.id))
        });
        Ok(tags)
    }

    async fn list_activity(
        &self,
        user: &UserId,
        limit: u32,
        offset: u64,
    ) -> Result<ActivityPage, StoreError> {
        let state = self.snapshot();
        let mut mine: Vec<&ActivityEntry> = state
            .activity
            .values()
            .filter(|a| &a.user_id == user)
            .collect();
        mine.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        let total = mine.len() as u64;
        let entries = mine
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(limit as usize)
            .cloned()
            .collect();
        Ok(ActivityPage { entries, total })
    }

    async fn pending_reminders(
        &self,
        user: &UserId,
        tasks: &[TaskId],
    ) -> Result<Vec<Reminder>, StoreError> {
        let state = self.snapshot();
        Ok(state
            .reminders
            .values()
            .filter(|r| {
                &r.user_id == user
                    && r.status == ReminderStatus::Pending
                    && tasks.contains(&r.task_id)
            })
            .cloned()
            .collect())
    }

    async fn undelivered_events_after(
        &self,
        after: u64,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let state = self.snapshot();
        Ok(state
            .outbox
            .range(after.saturating_add(1)..)
            .map(|(_, e)| e)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn user_events_after(
        &self,
        user: &UserId,
        after: EventId,
        limit: u32,
    ) -> Result<Option<Vec<OutboxEntry>>, StoreError> {
        let state = self.snapshot();
        let Some(&from) = state.appended.get(&after) else {
            return Ok(None);
        };
        if state
            .log
            .get(&from)
            .is_none_or(|e| &e.event.user_id != user)
        {
            return Ok(None);
        }
        Ok(Some(
            state
                .log
                .range(from.saturating_add(1)..)
                .filter(|(seq, e)| &e.event.user_id == user && !state.parked.contains_key(*seq))
                .map(|(_, e)| e)
                .take(limit as usize)
                .cloned()
                .collect(),
        ))
    }

    async fn next_reminders(&self, limit: u32) -> Result<Vec<Reminder>, StoreError> {
        let state = self.snapshot();
        let mut pending: Vec<Reminder> = state
            .reminders
            .values()
            .filter(|r| r.status == ReminderStatus::Pending)
            .cloned()
            .collect();
        pending.sort_by_key(|r| (r.reminder_time, r.id));
        pending.truncate(limit as usize);
        Ok(pending)
    }

    async fn prune_delivered_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let _guard = self.writer.clone().lock_owned().await;
        let mut state = (*self.snapshot()).clone();
        let old: Vec<u64> = state
            .log
            .iter()
            .filter(|(seq, e)| {
                e.event.occurred_at < before
                    && !state.outbox.contains_key(*seq)
                    && !state.parked.contains_key(*seq)
            })
            .map(|(seq, _)| *seq)
            .collect();
        for seq in &old {
            state.log.remove(seq);
        }
        *self
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(state);
        Ok(old.len() as u64)
    }

    async fn park_event(
        &self,
        seq: u64,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let _guard = self.writer.clone().lock_owned().await;
        let mut state = (*self.snapshot()).clone();
        if state.outbox.remove(&seq).is_none() {
            return Ok(false);
        }
        state.parked.insert(seq, (at, reason.to_owned()));
        *self
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(state);
        Ok(true)
    }

    async fn parked_events(&self, limit: u32) -> Result<Vec<ParkedEvent>, StoreError> {
        let state = self.snapshot();
        Ok(state
            .parked
            .iter()
            .filter_map(|(seq, (at, reason))| {
                let e = state.log.get(seq)?;
                Some(ParkedEvent {
                    seq: *seq,
                    event_id: e.event.id,
                    user_id: e.event.user_id.clone(),
                    event_type: e.event.payload.event_type().to_owned(),
                    occurred_at: e.event.occurred_at,
                    parked_at: *at,
                    reason: reason.clone(),
                })
            })
            .take(limit as usize)
            .collect())
    }

    async fn count_parked_events(&self) -> Result<u64, StoreError> {
        Ok(self.snapshot().parked.len() as u64)
    }

    async fn prune_parked_events(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let _guard = self.writer.clone().lock_owned().await;
        let mut state = (*self.snapshot()).clone();
        let old: Vec<u64> = state
            .parked
            .iter()
            .filter(|(_, (at, _))| *at < before)
            .map(|(seq, _)| *seq)
            .collect();
        for seq in &old {
            state.parked.remove(seq);
            state.log.remove(seq);
        }
        *self
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(state);
        Ok(old.len() as u64)
    }

    async fn mark_delivered(&self, seqs: &[u64]) -> Result<(), StoreError> {
        let _guard = self.writer.clone().lock_owned().await;
        let mut state = (*self.snapshot()).clone();
        for seq in seqs {
            state.outbox.remove(seq);
        }
        *self
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(state);
        Ok(())
    }
}

impl StoreTx for MemoryTx {
    async fn task(&mut self, user: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
        Ok(self.work.task(user, id).cloned())
    }

    async fn insert_task(&mut self, new: NewTask) -> Result<Task, StoreError> {
        let mut task = new.task;
        if let Some(parent) = task.parent_task_id
            && self
                .work
                .tasks
                .values()
                .any(|t| t.parent_task_id == Some(parent))
        {
            return Err(StoreError::UniqueViolation(format!(
                "task {parent} already has a next instance"
            )));
        }
        task.id = TaskId::new(State::next(&mut self.work.next_task));
        self.work.tasks.insert(task.id, task.clone());
        Ok(task)
    }

    async fn update_task(&mut self, task: &Task) -> Result<(), StoreError> {
        match self.work.tasks.get_mut(&task.id) {
            Some(t) if t.user_id == task.user_id => {
                *t = task.clone();
                Ok(())
            }
            _ => Err(StoreError::Other(format!(
                "task {} does not exist",
                task.id
            ))),
        }
    }

    async fn delete_task(&mut self, user: &UserId, id: TaskId) -> Result<bool, StoreError> {
        if self.work.task(user, id).is_none() {
            return Ok(false);
        }
        self.work.tasks.remove(&id);
        self.work.reminders = self
            .work
            .reminders
            .clone()
            .into_iter()
            .filter(|(_, r)| r.task_id != id)
            .collect();
        Ok(true)
    }

    async fn tags(&mut self, user: &UserId, ids: &[TagId]) -> Result<Vec<Tag>, StoreError> {
        Ok(ids
            .iter()
            .filter_map(|id| {
                self.work
                    .tags
                    .get(id)
                    .filter(|t| &t.user_id == user)
                    .cloned()
            })
            .collect())
    }

    async fn tag_by_key(&mut self, user: &UserId, key: &str) -> Result<Option<Tag>, StoreError> {
        Ok(self
            .work
            .tags
            .values()
            .find(|t| &t.user_id == user && t.name.key() == key)
            .cloned())
    }

    async fn insert_tag(&mut self, new: NewTag) -> Result<Tag, StoreError> {
        if self.work.tag_key_taken(&new.user_id, &new.name.key(), None) {
            return Err(StoreError::UniqueViolation(format!(
                "tag name {:?} exists",
                new.name.as_str()
            )));
        }
        let tag = Tag {
            id: TagId::new(State::next(&mut self.work.next_tag)),
            user_id: new.user_id,
            name: new.name,
            color: new.color,
            created_at: new.created_at,
        };
        self.work.tags.insert(tag.id, tag.clone());
        Ok(tag)
    }

    async fn update_tag(&mut self, tag: &Tag) -> Result<(), StoreError> {
        if self
            .work
            .tag_key_taken(&tag.user_id, &tag.name.key(), Some(tag.id))
        {
            return Err(StoreError::UniqueViolation(format!(
                "tag name {:?} exists",
                tag.name.as_str()
            )));
        }
        match self.work.tags.get_mut(&tag.id) {
            Some(t) if t.user_id == tag.user_id => {
                *t = tag.clone();
                Ok(())
            }
            _ => Err(StoreError::Other(format!("tag {} does not exist", tag.id))),
        }
    }

    async fn delete_tag(&mut self, user: &UserId, id: TagId) -> Result<bool, StoreError> {
        if self.work.tags.get(&id).is_none_or(|t| &t.user_id != user) {
            return Ok(false);
        }
        self.work.tags.remove(&id);
        let tagged: Vec<TaskId> = self
            .work
            .tasks
            .values()
            .filter(|t| t.tag_ids.contains(&id))
            .map(|t| t.id)
            .collect();
        for task in tagged {
            if let Some(t) = self.work.tasks.get_mut(&task) {
                t.tag_ids.retain(|&x| x != id);
            }
        }
        Ok(true)
    }

    async fn tasks_with_tag(
        &mut self,
        user: &UserId,
        id: TagId,
    ) -> Result<Vec<TaskId>, StoreError> {
        Ok(self
            .work
            .tasks
            .values()
            .filter(|t| &t.user_id == user && t.tag_ids.contains(&id))
            .map(|t| t.id)
            .collect())
    }

    async fn reminders_of(
        &mut self,
        user: &UserId,
        task: TaskId,
    ) -> Result<Vec<Reminder>, StoreError> {
        Ok(self
            .work
            .reminders
            .values()
            .filter(|r| &r.user_id == user && r.task_id == task)
            .cloned()
            .collect())
    }

    async fn reminder(
        &mut self,
        user: &UserId,
        id: ReminderId,
    ) -> Result<Option<Reminder>, StoreError> {
        Ok(self
            .work
            .reminders
            .get(&id)
            .filter(|r| &r.user_id == user)
            .cloned())
    }

    async fn insert_reminder(&mut self, new: NewReminder) -> Result<Reminder, StoreError> {
        let exists = self
            .work
            .reminders
            .values()
            .any(|r| r.task_id == new.task_id && r.status == ReminderStatus::Pending);
        if exists {
            return Err(StoreError::UniqueViolation(format!(
                "task {} has a pending reminder",
                new.task_id
            )));
        }
        if self.work.task(&new.user_id, new.task_id).is_none() {
            return Err(StoreError::Other(format!(
                "task {} does not exist",
                new.task_id
            )));
        }
        let r = Reminder {
            id: ReminderId::new(State::next(&mut self.work.next_reminder)),
            task_id: new.task_id,
            user_id: new.user_id,
            reminder_time: new.reminder_time,
            reminder_type: new.reminder_type,
            status: ReminderStatus::Pending,
            created_at: new.created_at,
            sent_at: None,
            cancelled_at: None,
        };
        self.work.reminders.insert(r.id, r.clone());
        Ok(r)
    }

    async fn transition_reminder(
        &mut self,
        reminder: &Reminder,
        from: ReminderStatus,
    ) -> Result<bool, StoreError> {
        match self.work.reminders.get_mut(&reminder.id) {
            Some(r) if r.user_id == reminder.user_id && r.status == from => {
                *r = reminder.clone();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn insert_activity(&mut self, new: NewActivity) -> Result<ActivityEntry, StoreError> {
        let entry = ActivityEntry {
            id: ActivityId::new(State::next(&mut self.work.next_activity)),
            user_id: new.user_id,
            task_id: new.task_id,
            action: new.action,
            old_values: new.old_values,
            new_values: new.new_values,
            created_at: new.created_at,
        };
        self.work.activity.insert(entry.id, entry.clone());
        Ok(entry)
    }

    async fn count_tasks(&mut self, user: &UserId) -> Result<u64, StoreError> {
        // Units run one at a time here: no lock needed for the count to hold until commit.
        Ok(self
            .work
            .tasks
            .values()
            .filter(|t| &t.user_id == user)
            .count() as u64)
    }

    async fn count_tags(&mut self, user: &UserId) -> Result<u64, StoreError> {
        Ok(self
            .work
            .tags
            .values()
            .filter(|t| &t.user_id == user)
            .count() as u64)
    }

    async fn prune_reminders(
        &mut self,
        user: &UserId,
        task: TaskId,
        keep: u64,
    ) -> Result<u64, StoreError> {
        // Newest first (ids increase), the pending one left out.
        let old: Vec<ReminderId> = self
            .work
            .reminders
            .values()
            .rev()
            .filter(|r| &r.user_id == user && r.task_id == task)
            .filter(|r| r.status != ReminderStatus::Pending)
            .skip(usize::try_from(keep).unwrap_or(usize::MAX))
            .map(|r| r.id)
            .collect();
        for id in &old {
            self.work.reminders.remove(id);
        }
        Ok(old.len() as u64)
    }

    async fn prune_activity(&mut self, user: &UserId, keep: u64) -> Result<u64, StoreError> {
        let mut mine: Vec<(chrono::DateTime<Utc>, ActivityId)> = self
            .work
            .activity
            .values()
            .filter(|a| &a.user_id == user)
            .map(|a| (a.created_at, a.id))
            .collect();
        let keep = usize::try_from(keep).unwrap_or(usize::MAX);
        if mine.len() <= keep {
            return Ok(0);
        }
        // Newest first, as the log is listed; everything after the first `keep` goes.
        mine.sort_unstable_by(|a, b| b.cmp(a));
        let old = &mine[keep..];
        for (_, id) in old {
            self.work.activity.remove(id);
        }
        Ok(old.len() as u64)
    }

    async fn claim_event(
        &mut self,
        consumer: &str,
        event: EventId,
        _at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(self
            .work
            .processed
            .insert((consumer.to_owned(), event))
            .is_none())
    }

    async fn event_in_outbox(&mut self, event: EventId) -> Result<bool, StoreError> {
        Ok(self.work.appended.contains_key(&event))
    }

    async fn append_event(&mut self, event: &DomainEvent) -> Result<(), StoreError> {
        self.work.next_seq += 1;
        let seq = self.work.next_seq;
        let entry = OutboxEntry {
            seq,
            event: event.clone(),
        };
        self.work.appended.insert(event.id, seq);
        self.work.log.insert(seq, entry.clone());
        self.work.outbox.insert(seq, entry);
        Ok(())
    }

    async fn commit(self) -> Result<(), StoreError> {
        let mut committed = self
            .store
            .committed
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        *committed = Arc::new(self.work);
        Ok(())
    }
}

/// A stored idempotency record: the first request's fingerprint and start, and its response
/// once it ran (`None`: in progress).
#[derive(Debug, Clone)]
struct IdemRecord {
    fingerprint: RequestFingerprint,
    created_at: DateTime<Utc>,
    response: Option<StoredResponse>,
}

impl IdempotencyStore for MemoryStore {
    async fn begin_idempotent(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
        fingerprint: &RequestFingerprint,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<IdempotencyClaim, StoreError> {
        let mut map = self
            .idempotency
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let id = (user.clone(), key.clone());
        if let Some(r) = map.get(&id) {
            let expired = r.created_at < idempotency_cutoff(now, ttl);
            let abandoned =
                r.response.is_none() && r.created_at < idempotency_lock_cutoff(now, ttl);
            if !expired && !abandoned {
                return Ok(if &r.fingerprint != fingerprint {
                    IdempotencyClaim::Mismatch
                } else {
                    match &r.response {
                        Some(resp) => IdempotencyClaim::Replay(resp.clone()),
                        None => IdempotencyClaim::InProgress,
                    }
                });
            }
        }
        map.insert(
            id,
            IdemRecord {
                fingerprint: fingerprint.clone(),
                created_at: now,
                response: None,
            },
        );
        Ok(IdempotencyClaim::Started)
    }

    async fn complete_idempotent(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
        claimed_at: DateTime<Utc>,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let mut map = self
            .idempotency
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(r) = map.get_mut(&(user.clone(), key.clone()))
            && r.response.is_none()
            && r.created_at == claimed_at
        {
            r.response = Some(response.clone());
        }
        Ok(())
    }

    async fn release_idempotent(
        &self,
        user: &UserId,
        key: &IdempotencyKey,
        claimed_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut map = self
            .idempotency
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let id = (user.clone(), key.clone());
        if map
            .get(&id)
            .is_some_and(|r| r.response.is_none() && r.created_at == claimed_at)
        {
            map.remove(&id);
        }
        Ok(())
    }

    async fn prune_idempotency_keys(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let mut map = self
            .idempotency
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let n = map.len();
        map.retain(|_, r| r.created_at >= before);
        Ok((n - map.len()) as u64)
    }
}
