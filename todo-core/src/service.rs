//! The use cases: every mutation runs in one unit of work that writes the change, its activity
//! entry and its domain events, and commits them together.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::{Error, ErrorCode, FieldError, Resource, StoreError, ValidationErrors};
use crate::events::{DomainEvent, EventPayload, ReminderFired, TaskChange, TaskSnapshot};
use crate::ids::{EventId, ReminderId, TagId, TaskId, UserId};
use crate::input::{
    CreateTagInput, CreateTaskInput, SetReminderInput, TaskPatch, UpdateTagInput, UpdateTaskInput,
};
use crate::model::task::MAX_TAGS_PER_TASK;
use crate::model::{
    ActivityAction, ActivityEntry, Reminder, ReminderStatus, ReminderType, Tag, Task, Values,
};
use crate::ports::{
    ActivityPage, Clock, IdSource, NewActivity, NewReminder, NewTag, NewTask, Store, StoreTx,
    TagWithCount,
};
use crate::query::{ActivityQuery, Page, TaskQuery};
use crate::quota::{QuotaKind, Quotas};
use crate::recurrence::forecast::{Forecast, creates_next};

/// How often a unit of work is retried when the store reports a concurrent modification.
const ATTEMPTS: usize = 3;

/// A task with its tags expanded and its pending reminder: what the API returns.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskView {
    /// The task.
    pub task: Task,
    /// Its tags, in `task.tag_ids` order.
    pub tags: Vec<Tag>,
    /// Its pending reminder, if any.
    pub reminder: Option<Reminder>,
}

/// The task service, generic over its store; the clock and the id source are shared trait
/// objects.
#[derive(Clone)]
pub struct TaskService<S> {
    store: S,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdSource>,
    /// The per-user limits ([`crate::quota`]).
    quotas: Quotas,
}

impl<S: std::fmt::Debug> std::fmt::Debug for TaskService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskService")
            .field("store", &self.store)
            .field("quotas", &self.quotas)
            .finish_non_exhaustive()
    }
}

/// The fields of a task as JSON values, for activity entries and change events. Identity and
/// bookkeeping fields are left out.
pub fn task_values(task: &Task) -> Values {
    let mut v = match serde_json::to_value(task) {
        Ok(Value::Object(m)) => m,
        _ => Values::new(),
    };
    for k in ["id", "user_id", "created_at", "updated_at", "series_start"] {
        v.remove(k);
    }
    v
}

/// The fields that differ between two versions of a task (alphabetical), with old and new values.
pub fn task_diff(old: &Task, new: &Task) -> TaskChange {
    let (a, b) = (task_values(old), task_values(new));
    let mut change = TaskChange {
        task_id: new.id,
        changed_fields: Vec::new(),
        old_values: Values::new(),
        new_values: Values::new(),
    };
    for (k, nv) in &b {
        let ov = a.get(k).cloned().unwrap_or(Value::Null);
        if &ov != nv {
            change.changed_fields.push(k.clone());
            change.old_values.insert(k.clone(), ov);
            change.new_values.insert(k.clone(), nv.clone());
        }
    }
    change
}

fn reminder_values(r: &Reminder) -> Values {
    let mut v = Values::new();
    v.insert("reminder_id".into(), Value::from(r.id.get()));
    v.insert(
        "reminder_time".into(),
        Value::from(crate::model::format_instant(r.reminder_time)),
    );
    v.insert(
        "reminder_type".into(),
        Value::from(r.reminder_type.as_str()),
    );
    v.insert("status".into(), Value::from(r.status.as_str()));
    v
}

fn tag_values(t: &Tag) -> Values {
    let mut v = Values::new();
    v.insert("tag_id".into(), Value::from(t.id.get()));
    v.insert("name".into(), Value::from(t.name.as_str()));
    v.insert("color".into(), Value::from(t.color.as_str()));
    v
}

/// The reminder a completed task hands on to its next instance: the latest one, if the user did
/// not cancel it (pending, or sent already). One rule for completion and for replays.
fn carried_reminder(reminders: &[Reminder]) -> Option<&Reminder> {
    reminders
        .iter()
        .max_by_key(|r| r.id)
        .filter(|r| r.status != ReminderStatus::Cancelled)
}

fn unique_to_conflict(e: StoreError, message: &str) -> Error {
    match e {
        StoreError::UniqueViolation(_) => Error::Conflict {
            message: message.to_owned(),
        },
        other => Error::Store(other),
    }
}

/// A task as an update leaves it, before the checks that need the store (tags) or the
/// recurrence engine (the schedule).
fn patched(old: &Task, patch: &TaskPatch) -> Result<Task, Error> {
    let mut new = old.clone();
    if let Some(ids) = &patch.tag_ids {
        new.tag_ids.clone_from(ids);
    }
    if let Some(t) = &patch.title {
        new.title = t.clone();
    }
    if let Some(d) = &patch.description {
        new.description.clone_from(d);
    }
    if let Some(d) = patch.due_datetime {
        new.due_datetime = d;
    }
    if let Some(p) = patch.priority {
        new.priority = p;
    }
    if let Some(r) = &patch.recurrence {
        new.recurrence = r.apply(&old.recurrence).map_err(Error::from)?;
    }
    if let Some(e) = patch.recurrence_end_date {
        new.recurrence_end_date = e;
    }
    if let Some(z) = patch.timezone {
        new.timezone = z;
    }
    // A new rule or zone starts a new series at the (new) due date. Moving the due date
    // moves this instance only (the series keeps its rhythm, its month day and its
    // COUNT), unless it is the series' first instance, it moves before the series start,
    // or the update also states the recurrence.
    let due_moved = new.due_datetime != old.due_datetime;
    let rescheduled = new.recurrence != old.recurrence
        || new.timezone != old.timezone
        || (due_moved
            && (patch.recurrence.is_some()
                || old.due_datetime == old.series_start
                || new.due_datetime < old.series_start));
    if !new.is_recurring() {
        new.series_start = None;
    } else if rescheduled || new.series_start.is_none() {
        new.series_start = new.due_datetime;
    }
    Ok(new)
}

/// A unit of work with the things every mutation records: who, when, fresh event ids.
struct Unit<'a, T> {
    tx: T,
    user: &'a UserId,
    now: DateTime<Utc>,
    ids: &'a dyn IdSource,
    quotas: Quotas,
    /// Recurrence answers computed before the unit began ([`Forecast`]).
    forecast: Forecast,
}

impl<T: StoreTx> Unit<'_, T> {
    async fn emit(&mut self, payload: EventPayload) -> Result<(), Error> {
        let event = DomainEvent {
            id: self.ids.event_id(),
            occurred_at: self.now,
            user_id: self.user.clone(),
            payload,
        };
        Ok(self.tx.append_event(&event).await?)
    }

    /// Writes an activity entry and its `activity-log-created` event.
    async fn record(
        &mut self,
        task_id: Option<TaskId>,
        action: ActivityAction,
        old_values: Option<Values>,
        new_values: Option<Values>,
    ) -> Result<ActivityEntry, Error> {
        let entry = self
            .tx
            .insert_activity(NewActivity {
                user_id: self.user.clone(),
                task_id,
                action,
                old_values,
                new_values,
                created_at: self.now,
            })
            .await?;
        self.prune_activity_after(&entry).await?;
        self.emit(EventPayload::ActivityLogCreated(entry.clone()))
            .await?;
        Ok(entry)
    }

    /// Keeps the user's activity log within its quota: every `activity_prune_step`-th entry
    /// (by id) prunes the user's oldest entries beyond the limit, so the walk over the user's
    /// newest entries that a pruning costs is spread over many writes.
    async fn prune_activity_after(&mut self, entry: &ActivityEntry) -> Result<(), Error> {
        let step = self.quotas.activity_prune_step();
        if step != 0 && entry.id.get().unsigned_abs().is_multiple_of(step) {
            self.tx
                .prune_activity(self.user, self.quotas.activity_entries)
                .await?;
        }
        Ok(())
    }

    /// Fails with [`Error::QuotaExceeded`] when the user holds as many tasks or tags as the
    /// quota allows. Call it first in a unit, before rows are read: on PostgreSQL the count
    /// takes the user's quota lock, held until the unit ends (see [`StoreTx::count_tasks`]).
    async fn check_quota(&mut self, kind: QuotaKind) -> Result<(), Error> {
        if self.quotas.limit(kind) == 0 {
            return Ok(());
        }
        let used = match kind {
            QuotaKind::Tasks => self.tx.count_tasks(self.user).await?,
            QuotaKind::Tags => self.tx.count_tags(self.user).await?,
            // Conversations are not written in units of work (`quota::put_conversation_within`).
            QuotaKind::Conversations => 0,
        };
        self.quotas.check(kind, used)
    }

    /// Fails with [`Error::QuotaExceeded`] (naming the tasks quota) when the user holds
    /// [`Quotas::series_ceiling`] tasks: the next instance of a series may go beyond the tasks
    /// quota, but not without bound.
    async fn check_series_room(&mut self) -> Result<(), Error> {
        let ceiling = self.quotas.series_ceiling();
        if ceiling != 0 && self.tx.count_tasks(self.user).await? >= ceiling {
            return Err(Error::QuotaExceeded {
                quota: QuotaKind::Tasks,
                limit: self.quotas.tasks,
            });
        }
        Ok(())
    }

    /// Writes a task whose tag links changed by one tag, with its `task-updated` event, and an
    /// activity entry that names only that tag (`{"tag_id": 5}`, as `new_values` when attached,
    /// `old_values` when detached): attaching the 40th tag must not copy 40 ids into the log.
    async fn save_tag_change(
        &mut self,
        old: &Task,
        new: &mut Task,
        action: ActivityAction,
        tag: TagId,
    ) -> Result<(), Error> {
        let change = task_diff(old, new);
        new.updated_at = self.now;
        self.tx.update_task(new).await?;
        let named = Values::from_iter([("tag_id".to_owned(), Value::from(tag.get()))]);
        let (old_values, new_values) = match action {
            ActivityAction::TagDetached => (Some(named), None),
            _ => (None, Some(named)),
        };
        self.record(Some(new.id), action, old_values, new_values)
            .await?;
        self.emit(EventPayload::TaskUpdated(change)).await
    }

    async fn load(&mut self, id: TaskId) -> Result<Task, Error> {
        self.tx
            .task(self.user, id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Task, id))
    }

    async fn snapshot(&mut self, task: &Task) -> Result<TaskSnapshot, Error> {
        let tags = self.tx.tags(self.user, &task.tag_ids).await?;
        Ok(TaskSnapshot {
            task: task.clone(),
            tag_names: tags
                .into_iter()
                .map(|t| t.name.as_str().to_owned())
                .collect(),
        })
    }

    async fn view(&mut self, task: Task) -> Result<TaskView, Error> {
        let tags = self.tx.tags(self.user, &task.tag_ids).await?;
        let reminder = self.pending_reminder(task.id).await?;
        Ok(TaskView {
            task,
            tags,
            reminder,
        })
    }

    /// Fails with 422 naming the ids that are not tags of this user.
    async fn check_tags(&mut self, ids: &[TagId]) -> Result<Vec<Tag>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let found = self.tx.tags(self.user, ids).await?;
        let missing: Vec<String> = ids
            .iter()
            .filter(|id| !found.iter().any(|t| t.id == **id))
            .map(ToString::to_string)
            .collect();
        if missing.is_empty() {
            Ok(found)
        } else {
            Err(Error::Unprocessable(
                FieldError::new(
                    "tag_ids",
                    ErrorCode::UnknownReference,
                    format!(
                        "tag_ids name tags that do not exist: {}",
                        missing.join(", ")
                    ),
                )
                .into(),
            ))
        }
    }

    /// Writes a changed task with its activity entry and `task-updated` event. No-op when nothing changed.
    async fn save_change(
        &mut self,
        old: &Task,
        new: &mut Task,
        action: ActivityAction,
    ) -> Result<bool, Error> {
        let change = task_diff(old, new);
        if change.changed_fields.is_empty() {
            return Ok(false);
        }
        new.updated_at = self.now;
        self.tx.update_task(new).await?;
        self.record(
            Some(new.id),
            action,
            Some(change.old_values.clone()),
            Some(change.new_values.clone()),
        )
        .await?;
        self.emit(EventPayload::TaskUpdated(change)).await?;
        Ok(true)
    }

    async fn insert_task(&mut self, task: Task) -> Result<Task, Error> {
        let task = self.tx.insert_task(NewTask { task }).await?;
        self.announce_created(&task).await?;
        Ok(task)
    }

    /// Records the activity entry and the `task-created` event of a task just inserted.
    async fn announce_created(&mut self, task: &Task) -> Result<(), Error> {
        self.record(
            Some(task.id),
            ActivityAction::TaskCreated,
            None,
            Some(task_values(task)),
        )
        .await?;
        let snapshot = self.snapshot(task).await?;
        self.emit(EventPayload::TaskCreated(snapshot)).await
    }

    async fn pending_reminder(&mut self, task: TaskId) -> Result<Option<Reminder>, Error> {
        let reminders = self.tx.reminders_of(self.user, task).await?;
        Ok(reminders
            .into_iter()
            .find(|r| r.status == ReminderStatus::Pending))
    }

    async fn cancel_reminder(&mut self, r: &Reminder) -> Result<Option<Reminder>, Error> {
        let mut cancelled = r.clone();
        cancelled.status = ReminderStatus::Cancelled;
        cancelled.cancelled_at = Some(self.now);
        if !self
            .tx
            .transition_reminder(&cancelled, ReminderStatus::Pending)
            .await?
        {
            return Ok(None);
        }
        self.record(
            Some(r.task_id),
            ActivityAction::ReminderCancelled,
            Some(reminder_values(r)),
            Some(reminder_values(&cancelled)),
        )
        .await?;
        Ok(Some(cancelled))
    }

    async fn add_reminder(
        &mut self,
        task: TaskId,
        time: DateTime<Utc>,
        kind: ReminderType,
        replaced: Option<&Reminder>,
    ) -> Result<Reminder, Error> {
        let r = self
            .tx
            .insert_reminder(NewReminder {
                task_id: task,
                user_id: self.user.clone(),
                reminder_time: time,
                reminder_type: kind,
                created_at: self.now,
            })
            .await?;
        self.record(
            Some(task),
            ActivityAction::ReminderSet,
            replaced.map(reminder_values),
            Some(reminder_values(&r)),
        )
        .await?;
        Ok(r)
    }

    /// Inserts the next instance of a completed recurring task, unless this task has had one
    /// (`next_task_id`, kept even after that instance is deleted) or its series has ended. Its
    /// activity entry and event are written by the caller, after the completion's. The reminder
    /// carries over at the same offset before the due time, if that time has not passed. The
    /// next due date comes from the unit's [`Forecast`], computed before the unit began.
    async fn insert_next(
        &mut self,
        done: &Task,
        carry: Option<&Reminder>,
    ) -> Result<Option<(Task, Option<Reminder>)>, Error> {
        if !creates_next(done) {
            return Ok(None);
        }
        let Some(due) = done.due_datetime else {
            return Ok(None);
        };
        let Some(next_due) = self.forecast.next_due(done).map_err(Error::from)? else {
            return Ok(None);
        };
        let mut next = done.clone();
        next.id = TaskId::new(0);
        next.completed = false;
        next.completed_at = None;
        next.due_datetime = Some(next_due);
        next.parent_task_id = Some(done.id);
        next.next_task_id = None;
        next.created_at = self.now;
        next.updated_at = self.now;
        self.check_series_room().await?;
        let next = self.tx.insert_task(NewTask { task: next }).await?;
        let mut reminder = None;
        if let Some(r) = carry {
            let time = next_due - (due - r.reminder_time);
            if time >= self.now {
                let new = NewReminder {
                    task_id: next.id,
                    user_id: self.user.clone(),
                    reminder_time: time,
                    reminder_type: r.reminder_type,
                    created_at: self.now,
                };
                reminder = Some(self.tx.insert_reminder(new).await?);
            }
        }
        Ok(Some((next, reminder)))
    }

    /// Completes a task: cancels its pending reminder, creates the next instance of a recurring
    /// task (once), and records the completion before the new instance's creation.
    async fn complete(&mut self, task: Task) -> Result<Task, Error> {
        let reminders = self.tx.reminders_of(self.user, task.id).await?;
        let carry = carried_reminder(&reminders).cloned();
        if let Some(pending) = reminders
            .iter()
            .find(|r| r.status == ReminderStatus::Pending)
        {
            self.cancel_reminder(pending).await?;
        }
        let mut new = task.clone();
        new.completed = true;
        new.completed_at = Some(self.now);
        new.updated_at = self.now;
        let next = self.insert_next(&new, carry.as_ref()).await?;
        if let Some((t, _)) = &next {
            new.next_task_id = Some(t.id);
        }
        let change = task_diff(&task, &new);
        self.tx.update_task(&new).await?;
        self.record(
            Some(new.id),
            ActivityAction::TaskCompleted,
            Some(change.old_values),
            Some(change.new_values),
        )
        .await?;
        let snapshot = self.snapshot(&new).await?;
        self.emit(EventPayload::TaskCompleted {
            snapshot,
            next_task_id: next.as_ref().map(|(t, _)| t.id),
        })
        .await?;
        if let Some((t, reminder)) = next {
            self.announce_next(&t, reminder.as_ref()).await?;
        }
        Ok(new)
    }

    async fn announce_next(
        &mut self,
        next: &Task,
        reminder: Option<&Reminder>,
    ) -> Result<(), Error> {
        self.announce_created(next).await?;
        if let Some(r) = reminder {
            self.record(
                Some(next.id),
                ActivityAction::ReminderSet,
                None,
                Some(reminder_values(r)),
            )
            .await?;
        }
        Ok(())
    }

    /// Completes or re-opens a task; completing a recurring task creates its next instance.
    async fn set_completed(&mut self, task: Task, completed: bool) -> Result<Task, Error> {
        if task.completed == completed {
            return Ok(task);
        }
        if completed {
            return self.complete(task).await;
        }
        let mut new = task.clone();
        new.completed = false;
        new.completed_at = None;
        self.save_change(&task, &mut new, ActivityAction::TaskUpdated)
            .await?;
        Ok(new)
    }

    /// Moves a pending `due_date` reminder along with its task's due date, or cancels it when the
    /// due date is cleared or the moved time has passed.
    async fn follow_due_date(&mut self, old: &Task, new: &Task) -> Result<(), Error> {
        if old.due_datetime == new.due_datetime {
            return Ok(());
        }
        let Some(r) = self.pending_reminder(new.id).await? else {
            return Ok(());
        };
        if r.reminder_type != ReminderType::DueDate {
            return Ok(());
        }
        match (old.due_datetime, new.due_datetime) {
            (Some(before), Some(after)) if r.reminder_time + (after - before) >= self.now => {
                let mut moved = r.clone();
                moved.reminder_time = r.reminder_time + (after - before);
                if self
                    .tx
                    .transition_reminder(&moved, ReminderStatus::Pending)
                    .await?
                {
                    self.record(
                        Some(new.id),
                        ActivityAction::ReminderSet,
                        Some(reminder_values(&r)),
                        Some(reminder_values(&moved)),
                    )
                    .await?;
                }
            }
            _ => {
                self.cancel_reminder(&r).await?;
            }
        }
        Ok(())
    }

    async fn commit(self) -> Result<(), Error> {
        Ok(self.tx.commit().await?)
    }
}

impl<S: Store> TaskService<S> {
    /// A service over a store, a clock and an id source.
    pub fn new(store: S, clock: impl Clock + 'static, ids: impl IdSource + 'static) -> Self {
        TaskService {
            store,
            clock: Arc::new(clock),
            ids: Arc::new(ids),
            quotas: Quotas::default(),
        }
    }

    /// The same service with these per-user limits (default: [`Quotas::default`]).
    #[must_use]
    pub fn with_quotas(mut self, quotas: Quotas) -> Self {
        self.quotas = quotas;
        self
    }

    /// The per-user limits.
    pub fn quotas(&self) -> &Quotas {
        &self.quotas
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The clock.
    pub fn clock(&self) -> &dyn Clock {
        &*self.clock
    }

    async fn unit<'a>(&'a self, user: &'a UserId) -> Result<Unit<'a, S::Tx>, Error> {
        Ok(Unit {
            tx: self.store.begin().await?,
            user,
            now: crate::model::normalize_instant(self.clock.now()),
            ids: &*self.ids,
            quotas: self.quotas,
            forecast: Forecast::default(),
        })
    }

    /// Runs a unit of work, again when the store reports a concurrent modification.
    async fn retry<T, F, Fut>(&self, f: F) -> Result<T, Error>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let mut last = None;
        for _ in 0..ATTEMPTS {
            match f().await {
                Err(Error::Store(StoreError::Conflict(m))) => last = Some(m),
                other => return other,
            }
        }
        Err(Error::Store(StoreError::Conflict(last.unwrap_or_default())))
    }

    async fn views(&self, user: &UserId, tasks: Vec<Task>) -> Result<Vec<TaskView>, Error> {
        let mut tag_ids: Vec<TagId> = tasks
            .iter()
            .flat_map(|t| t.tag_ids.iter().copied())
            .collect();
        tag_ids.sort_unstable();
        tag_ids.dedup();
        let tags: HashMap<TagId, Tag> = self
            .store
            .tags(user, &tag_ids)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let ids: Vec<TaskId> = tasks.iter().map(|t| t.id).collect();
        let mut reminders: HashMap<TaskId, Reminder> = self
            .store
            .pending_reminders(user, &ids)
            .await?
            .into_iter()
            .map(|r| (r.task_id, r))
            .collect();
        Ok(tasks
            .into_iter()
            .map(|task| TaskView {
                tags: task
                    .tag_ids
                    .iter()
                    .filter_map(|id| tags.get(id).cloned())
                    .collect(),
                reminder: reminders.remove(&task.id),
                task,
            })
            .collect())
    }

    /// Creates a task.
    pub async fn create_task(
        &self,
        user: &UserId,
        input: &CreateTaskInput,
    ) -> Result<TaskView, Error> {
        let draft = input.validate(self.clock.now())?;
        self.retry(|| async {
            let mut u = self.unit(user).await?;
            u.check_quota(QuotaKind::Tasks).await?;
            let tags = u.check_tags(&draft.tag_ids).await?;
            let recurring = draft.recurrence.is_recurring();
            let task = Task {
                id: TaskId::new(0),
                user_id: user.clone(),
                title: draft.title.clone(),
                description: draft.description.clone(),
                completed: false,
                completed_at: None,
                due_datetime: draft.due_datetime,
                priority: draft.priority,
                recurrence: draft.recurrence.clone(),
                recurrence_end_date: draft.recurrence_end_date,
                series_start: if recurring { draft.due_datetime } else { None },
                timezone: draft.timezone,
                parent_task_id: None,
                next_task_id: None,
                tag_ids: draft.tag_ids.clone(),
                created_at: u.now,
                updated_at: u.now,
            };
            let task = u.insert_task(task).await?;
            // A new task has no reminder yet (reminders are set on an existing task), and its
            // tags are the ones just checked, in the order of `tag_ids`.
            u.commit().await?;
            Ok(TaskView {
                task,
                tags,
                reminder: None,
            })
        })
        .await
    }

    /// One task of the user.
    pub async fn get_task(&self, user: &UserId, id: TaskId) -> Result<TaskView, Error> {
        let task = self
            .store
            .task(user, id)
            .await?
            .ok_or_else(|| Error::not_found(Resource::Task, id))?;
        let mut views = self.views(user, vec![task]).await?;
        views
            .pop()
            .ok_or_else(|| Error::not_found(Resource::Task, id))
    }

    /// The user's tasks matching a query.
    pub async fn list_tasks(
        &self,
        user: &UserId,
        query: &TaskQuery,
    ) -> Result<Page<TaskView>, Error> {
        let page = self.store.list_tasks(user, query).await?;
        let items = self.views(user, page.items).await?;
        Ok(Page {
            items,
            total: page.total,
            limit: page.limit,
            offset: page.offset,
        })
    }

    /// Changes fields of a task; `completed` in the input goes through the completion rules.
    pub async fn update_task(
        &self,
        user: &UserId,
        id: TaskId,
        input: &UpdateTaskInput,
    ) -> Result<TaskView, Error> {
        let patch = input.validate()?;
        self.retry(|| async {
            // The schedule check and the next due date expand the rule: done here, on the task
            // as read before the unit, not while holding the writer.
            let forecast = match self.store.task(user, id).await? {
                Some(old) => match patched(&old, &patch) {
                    Ok(new) if patch.completed == Some(true) => {
                        Forecast::default().checking(&new).completing(&new)
                    }
                    Ok(new) => Forecast::default().checking(&new),
                    Err(_) => Forecast::default(),
                },
                None => Forecast::default(),
            };
            let mut u = self.unit(user).await?;
            u.forecast = forecast;
            let old = u.load(id).await?;
            if let Some(ids) = &patch.tag_ids {
                u.check_tags(ids).await?;
            }
            let mut new = patched(&old, &patch)?;
            u.forecast.check(&new)?;
            u.save_change(&old, &mut new, ActivityAction::TaskUpdated)
                .await?;
            u.follow_due_date(&old, &new).await?;
            let new = match patch.completed {
                Some(c) => u.set_completed(new, c).await?,
                None => new,
            };
            let view = u.view(new).await?;
            u.commit().await?;
            Ok(view)
        })
        .await
    }

    /// Sets completion (`Some`) or toggles it (`None`). Completing a recurring task creates its
    /// next instance exactly once: completing it again, or re-opening and completing it, creates none.
    pub async fn set_completed(
        &self,
        user: &UserId,
        id: TaskId,
        completed: Option<bool>,
    ) -> Result<TaskView, Error> {
        self.retry(|| async {
            // The next due date expands the rule: computed here, from the task as read before
            // the unit, not while holding the writer.
            let forecast = match self.store.task(user, id).await? {
                Some(t) if !t.completed && completed.unwrap_or(true) => {
                    Forecast::default().completing(&t)
                }
                _ => Forecast::default(),
            };
            let mut u = self.unit(user).await?;
            u.forecast = forecast;
            let task = u.load(id).await?;
            let target = completed.unwrap_or(!task.completed);
            let task = u.set_completed(task, target).await?;
            let view = u.view(task).await?;
            u.commit().await?;
            Ok(view)
        })
        .await
    }

    /// Creates the next instance of a completed recurring task if it never had one: the
    /// idempotent path for a `task-completed` event that arrives from another service (which
    /// completed the task without creating its next instance), or arrives again. A task whose
    /// `next_task_id` is set is left alone, even when that instance was deleted since.
    pub async fn create_next_instance(
        &self,
        user: &UserId,
        id: TaskId,
    ) -> Result<Option<TaskView>, Error> {
        self.next_instance_once(user, id, None).await
    }

    /// [`TaskService::create_next_instance`] for a `task-completed` event that `consumer`
    /// received: the event is recorded as applied in the same unit ([`StoreTx::claim_event`]),
    /// so a redelivery of it has no effect at all: the task is only read, before the unit of
    /// work, to compute the next due date there.
    pub async fn apply_task_completed(
        &self,
        consumer: &str,
        event: EventId,
        user: &UserId,
        id: TaskId,
    ) -> Result<Option<TaskView>, Error> {
        self.next_instance_once(user, id, Some((consumer, event)))
            .await
    }

    async fn next_instance_once(
        &self,
        user: &UserId,
        id: TaskId,
        claim: Option<(&str, EventId)>,
    ) -> Result<Option<TaskView>, Error> {
        self.retry(|| async {
            // The next due date expands the rule: computed here, from the task as read before
            // the unit, not while holding the writer.
            let forecast = match self.store.task(user, id).await? {
                Some(t) if t.completed => Forecast::default().completing(&t),
                _ => Forecast::default(),
            };
            let mut u = self.unit(user).await?;
            u.forecast = forecast;
            if let Some((consumer, event)) = claim
                && !u.tx.claim_event(consumer, event, u.now).await?
            {
                return Ok(None);
            }
            let Some(task) = u.tx.task(user, id).await? else {
                // Nothing to do; commit all the same (it keeps the claim of the event).
                u.commit().await?;
                return Ok(None);
            };
            if !task.completed || task.next_task_id.is_some() {
                // Nothing to do; commit all the same (it keeps the claim of the event).
                u.commit().await?;
                return Ok(None);
            }
            let reminders = u.tx.reminders_of(user, id).await?;
            let carry = carried_reminder(&reminders).cloned();
            if let Some(pending) = reminders
                .iter()
                .find(|r| r.status == ReminderStatus::Pending)
            {
                u.cancel_reminder(pending).await?;
            }
            let Some((next, reminder)) = u.insert_next(&task, carry.as_ref()).await? else {
                // Nothing to do; commit all the same (it keeps the claim of the event).
                u.commit().await?;
                return Ok(None);
            };
            let mut parent = task.clone();
            parent.next_task_id = Some(next.id);
            u.save_change(&task, &mut parent, ActivityAction::TaskUpdated)
                .await?;
            u.announce_next(&next, reminder.as_ref()).await?;
            let view = u.view(next).await?;
            u.commit().await?;
            Ok(Some(view))
        })
        .await
    }

    /// Writes an activity entry that another service announced (an `activity-log-created`
    /// event `consumer` received), once per event. Entries of this service's own events are
    /// already in the log (they are in the outbox): nothing is written for them. No event is
    /// emitted for the copy. `None` when nothing was written.
    pub async fn apply_activity_log(
        &self,
        consumer: &str,
        event: EventId,
        entry: NewActivity,
    ) -> Result<Option<ActivityEntry>, Error> {
        self.retry(|| async {
            let mut u = self.unit(&entry.user_id).await?;
            if !u.tx.claim_event(consumer, event, u.now).await? {
                return Ok(None);
            }
            if u.tx.event_in_outbox(event).await? {
                u.commit().await?;
                return Ok(None);
            }
            let written = u.tx.insert_activity(entry.clone()).await?;
            u.prune_activity_after(&written).await?;
            u.commit().await?;
            Ok(Some(written))
        })
        .await
    }

    /// Deletes a task with its reminders and tag links. A second delete is `NotFound`.
    pub async fn delete_task(&self, user: &UserId, id: TaskId) -> Result<(), Error> {
        self.retry(|| async {
            let mut u = self.unit(user).await?;
            let task = u.load(id).await?;
            let snapshot = u.snapshot(&task).await?;
            u.tx.delete_task(user, id).await?;
            u.record(
                Some(id),
                ActivityAction::TaskDeleted,
                Some(task_values(&task)),
                None,
            )
            .await?;
            u.emit(EventPayload::TaskDeleted { snapshot }).await?;
            u.commit().await
        })
        .await
    }

    /// Attaches a tag to a task (409 if attached already).
    pub async fn attach_tag(
        &self,
        user: &UserId,
        id: TaskId,
        tag: TagId,
    ) -> Result<TaskView, Error> {
        self.retry(|| async {
            let mut u = self.unit(user).await?;
            let old = u.load(id).await?;
            if u.tx.tags(user, &[tag]).await?.is_empty() {
                return Err(Error::not_found(Resource::Tag, tag));
            }
            if old.tag_ids.contains(&tag) {
                return Err(Error::Conflict {
                    message: format!("tag {tag} is already attached to task {id}"),
                });
            }
            if old.tag_ids.len() >= MAX_TAGS_PER_TASK {
                return Err(Error::Conflict {
                    message: format!(
                        "task {id} already carries {} tags, the most a task may carry \
                         ({MAX_TAGS_PER_TASK}); detach one first",
                        old.tag_ids.len()
                    ),
                });
            }
            let mut new = old.clone();
            new.tag_ids.push(tag);
            new.tag_ids.sort_unstable();
            u.save_tag_change(&old, &mut new, ActivityAction::TagAttached, tag)
                .await?;
            let view = u.view(new).await?;
            u.commit().await?;
            Ok(view)
        })
        .await
    }

    /// Detaches a tag from a task (404 if it is not attached).
    pub async fn detach_tag(
        &self,
        user: &UserId,
        id: TaskId,
        tag: TagId,
    ) -> Result<TaskView, Error> {
        self.retry(|| async {
            let mut u = self.unit(user).await?;
            let old = u.load(id).await?;
            if !old.tag_ids.contains(&tag) {
                return Err(Error::not_found(Resource::Tag, tag));
            }
            let mut new = old.clone();
            new.tag_ids.retain(|&t| t != tag);
            u.save_tag_change(&old, &mut new, ActivityAction::TagDetached, tag)
                .await?;
            let view = u.view(new).await?;
            u.commit().await?;
            Ok(view)
        })
        .await
    }

    /// Sets the task's reminder, replacing a pending one.
    pub async fn set_reminder(
        &self,
        user: &UserId,
        id: TaskId,
        input: &SetReminderInput,
    ) -> Result<Reminder, Error> {
        let draft = input.validate(self.clock.now())?;
        self.retry(|| async {
            let mut u = self.unit(user).await?;
            let task = u.load(id).await?;
            if task.completed {
                return Err(Error::Conflict {
                    message: format!("task {id} is completed; re-open it to set a reminder"),
                });
            }
            if draft.reminder_type == ReminderType::DueDate {
                match task.due_datetime {
                    None => {
                        return Err(Error::Validation(ValidationErrors::from(FieldError::new(
                            "reminder_type",
                            ErrorCode::Inconsistent,
                            "a due_date reminder needs a task with a due_datetime; use custom",
                        ))));
                    }
                    Some(due) if draft.reminder_time > due => {
                        return Err(Error::Validation(ValidationErrors::from(FieldError::new(
                            "reminder_time",
                            ErrorCode::OutOfRange,
                            "a due_date reminder must not be after the task's due_datetime",
                        ))));
                    }
                    Some(_) => {}
                }
            }
            let replaced = match u.pending_reminder(id).await? {
                Some(r) => u.cancel_reminder(&r).await?,
                None => None,
            };
            let r = u
                .add_reminder(
                    id,
                    draft.reminder_time,
                    draft.reminder_type,
                    replaced.as_ref(),
                )
                .await?;
            // Each replacement leaves a cancelled row: keep the newest few only.
            if u.quotas.reminder_history != 0 {
                u.tx.prune_reminders(user, id, u.quotas.reminder_history)
                    .await?;
            }
            u.commit().await?;
            Ok(r)
        })
        .await
    }

    /// Cancels the task's pending reminder. Cancelling again returns the cancelled reminder
    /// unchanged; a task that never had a reminder gives `NotFound`.
    pub async fn cancel_reminder(&self, user: &UserId, id: TaskId) -> Result<Reminder, Error> {
        self.retry(|| async {
            let mut u = self.unit(user).await?;
            u.load(id).await?;
            let reminders = u.tx.reminders_of(user, id).await?;
            if let Some(p) = reminders
                .iter()
                .find(|r| r.status == ReminderStatus::Pending)
            {
                let cancelled = u.cancel_reminder(p).await?;
                u.commit().await?;
                return cancelled.ok_or_else(|| Error::not_found(Resource::Reminder, p.id));
            }
            match reminders.last() {
                Some(r) if r.status == ReminderStatus::Cancelled => Ok(r.clone()),
                _ => Err(Error::not_found(
                    Resource::Reminder,
                    format!("of task {id}"),
                )),
            }
        })
        .await
    }

    /// Fires a pending reminder that is due: marks it sent and records `reminder-triggered`,
    /// exactly once. `false` when it is not pending any more (fired by another replica,
    /// cancelled, its task deleted) or not due yet (moved later since a scheduler looked at it):
    /// nothing happens then.
    pub async fn fire_reminder(&self, user: &UserId, id: ReminderId) -> Result<bool, Error> {
        self.retry(|| async {
            let mut u = self.unit(user).await?;
            let Some(r) = u.tx.reminder(user, id).await? else {
                return Ok(false);
            };
            if r.status != ReminderStatus::Pending || r.reminder_time > u.now {
                return Ok(false);
            }
            let task = u.load(r.task_id).await?;
            let mut sent = r.clone();
            sent.status = ReminderStatus::Sent;
            sent.sent_at = Some(u.now);
            if !u
                .tx
                .transition_reminder(&sent, ReminderStatus::Pending)
                .await?
            {
                return Ok(false);
            }
            u.record(
                Some(task.id),
                ActivityAction::ReminderSent,
                Some(reminder_values(&r)),
                Some(reminder_values(&sent)),
            )
            .await?;
            u.emit(EventPayload::ReminderTriggered(ReminderFired {
                reminder_id: r.id,
                task_id: task.id,
                reminder_time: r.reminder_time,
                task_title: task.title.as_str().to_owned(),
                task_due_datetime: task.due_datetime,
                priority: task.priority,
            }))
            .await?;
            u.commit().await?;
            Ok(true)
        })
        .await
    }

    /// The user's tags with task counts.
    pub async fn list_tags(&self, user: &UserId) -> Result<Vec<TagWithCount>, Error> {
        Ok(self.store.list_tags(user).await?)
    }

    /// Creates a tag (409 when the user has one with the same name, case-insensitively).
    pub async fn create_tag(&self, user: &UserId, input: &CreateTagInput) -> Result<Tag, Error> {
        let draft = input.validate()?;
        let taken = || Error::Conflict {
            message: format!("a tag named {:?} exists", draft.name.as_str()),
        };
        self.retry(|| async {
            let mut u = self.unit(user).await?;
            u.check_quota(QuotaKind::Tags).await?;
            if u.tx.tag_by_key(user, &draft.name.key()).await?.is_some() {
                return Err(taken());
            }
            let tag =
                u.tx.insert_tag(NewTag {
                    user_id: user.clone(),
                    name: draft.name.clone(),
                    color: draft.color.clone(),
                    created_at: u.now,
                })
                .await
                .map_err(|e| unique_to_conflict(e, "a tag with this name exists"))?;
            u.record(
                None,
                ActivityAction::TagCreated,
                None,
                Some(tag_values(&tag)),
            )
            .await?;
            u.commit().await?;
            Ok(tag)
        })
        .await
    }

    /// Renames or recolors a tag.
    pub async fn update_tag(
        &self,
        user: &UserId,
        id: TagId,
        input: &UpdateTagInput,
    ) -> Result<Tag, Error> {
        let patch = input.validate()?;
        self.retry(|| async {
            let mut u = self.unit(user).await?;
            let old =
                u.tx.tags(user, &[id])
                    .await?
                    .pop()
                    .ok_or_else(|| Error::not_found(Resource::Tag, id))?;
            let mut new = old.clone();
            if let Some(n) = &patch.name {
                if let Some(other) = u.tx.tag_by_key(user, &n.key()).await?
                    && other.id != id
                {
                    return Err(Error::Conflict {
                        message: format!("a tag named {:?} exists", n.as_str()),
                    });
                }
                new.name = n.clone();
            }
            if let Some(c) = &patch.color {
                new.color = c.clone();
            }
            if new == old {
                return Ok(old);
            }
            u.tx.update_tag(&new)
                .await
                .map_err(|e| unique_to_conflict(e, "a tag with this name exists"))?;
            u.record(
                None,
                ActivityAction::TagUpdated,
                Some(tag_values(&old)),
                Some(tag_values(&new)),
            )
            .await?;
            u.commit().await?;
            Ok(new)
        })
        .await
    }

    /// Deletes a tag and detaches it from its tasks (each gets a `task-updated` event).
    pub async fn delete_tag(&self, user: &UserId, id: TagId) -> Result<(), Error> {
        self.retry(|| async {
            let mut u = self.unit(user).await?;
            let tag =
                u.tx.tags(user, &[id])
                    .await?
                    .pop()
                    .ok_or_else(|| Error::not_found(Resource::Tag, id))?;
            let affected = u.tx.tasks_with_tag(user, id).await?;
            let mut before = Vec::with_capacity(affected.len());
            for t in &affected {
                before.push(u.load(*t).await?);
            }
            u.tx.delete_tag(user, id).await?;
            u.record(
                None,
                ActivityAction::TagDeleted,
                Some(tag_values(&tag)),
                None,
            )
            .await?;
            for old in before {
                let mut new = old.clone();
                new.tag_ids.retain(|&t| t != id);
                new.updated_at = u.now;
                u.tx.update_task(&new).await?;
                u.emit(EventPayload::TaskUpdated(task_diff(&old, &new)))
                    .await?;
            }
            u.commit().await
        })
        .await
    }

    /// The user's activity log, newest first.
    pub async fn activity(&self, user: &UserId, q: &ActivityQuery) -> Result<ActivityPage, Error> {
        Ok(self
            .store
            .list_activity(user, q.limit.get(), q.offset)
            .await?)
    }
}
