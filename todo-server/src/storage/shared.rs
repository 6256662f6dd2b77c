//! The SQL shared by both adapters, as a macro expanded once per dialect (`sqlite.rs`,
//! `postgres.rs`). Both dialects take `$1`-style parameters; what differs is provided by the
//! expanding module:
//!
//! - `type Db` (the sqlx database); the store `$Store` with a `pool` field;
//! - `const FOR_UPDATE`, `FOR_SHARE` (row locks in a unit, empty on SQLite), `TAG_IDS` (an
//!   expression giving the task's tag ids comma-separated), `TITLE_ORDER` / `NAME_KEY_ORDER` (the
//!   bytewise key expressions);
//! - `fn push_search_word(&mut QueryBuilder, &str)` (`AND <t.search_text holds the word>`);
//! - `const LIST_PREPARED: bool`: whether a list query with search words is kept as a prepared
//!   statement (one without is);
//! - `fn enc_ts(DateTime<Utc>) -> _`, `fn ts(&Row, &str)`, `fn ts_opt(&Row, &str)` (timestamps),
//!   `fn enc_event_id(EventId) -> _`;
//! - `async fn lock_user_quota(&mut Connection, &UserId)`: what makes a unit's quota count hold
//!   until it ends (a per-user lock on PostgreSQL; nothing on SQLite, whose units serialize);
//! - the unit of work `$Tx` with `async fn begin_unit(&$Store) -> Result<$Tx, _>`,
//!   `$Tx::conn(&mut self) -> Result<&mut Connection, _>`, `$Tx.events` (the buffered outbox
//!   events) and `$Tx::finish(self)` (writes them with `write_events`, then commits).
//!
//! The list query is built here with [`sqlx::QueryBuilder`] (`push_filters`, `push_order`), so
//! the filter and order semantics of `todo_core::query::engine` are written once.

macro_rules! sql_store {
    ($Store:ident, $Tx:ident) => {
        use chrono::{DateTime, Utc};
        use sqlx::{QueryBuilder, Row};
        use todo_core::events::DomainEvent;
        use todo_core::model::{ActivityEntry, Reminder, ReminderStatus, Tag, Task, Values};
        use todo_core::ports::{
            ActivityPage, NewActivity, NewReminder, NewTag, NewTask, OutboxEntry, Store, StoreTx,
            TagWithCount,
        };
        use todo_core::query::{
            Page, SortKey, SortOrder, StatusFilter, TagsMode, TaskQuery,
        };
        use todo_core::{ReminderId, StoreError, TagId, TaskId, UserId};

        use $crate::storage::error::map_err;
        use $crate::storage::rows::{self, ReminderParts, TaskParts};

        type DbRow = <Db as sqlx::Database>::Row;

        type TaskQueryArgs<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments<'q>>;

        /// Binds a task's stored fields from `title` to `title_key` (with the computed columns),
        /// in the column order that INSERT and UPDATE of a task both use after their own leading
        /// parameters.
        fn bind_task_fields<'q>(q: TaskQueryArgs<'q>, task: &'q Task) -> TaskQueryArgs<'q> {
            let (search_text, title_key, rank) = rows::computed(task);
            q.bind(task.title.as_str())
                .bind(task.description.as_ref().map(|d| d.as_str()))
                .bind(task.completed)
                .bind(task.completed_at.map(enc_ts))
                .bind(task.due_datetime.map(enc_ts))
                .bind(task.priority.as_str())
                .bind(rank)
                .bind(task.recurrence.pattern_str())
                .bind(task.recurrence.rrule().map(|r| r.as_str()))
                .bind(task.recurrence_end_date.map(enc_ts))
                .bind(task.series_start.map(enc_ts))
                .bind(task.timezone.name())
                .bind(task.parent_task_id.map(TaskId::get))
                .bind(task.next_task_id.map(TaskId::get))
                .bind(enc_ts(task.created_at))
                .bind(enc_ts(task.updated_at))
                .bind(search_text)
                .bind(title_key)
        }

        const TASK_COLS: &str = "t.id, t.user_id, t.title, t.description, t.completed, \
            t.completed_at, t.due_datetime, t.priority, t.recurrence_pattern, t.rrule, \
            t.recurrence_end_date, t.series_start, t.timezone, t.parent_task_id, \
            t.next_task_id, t.created_at, t.updated_at";
        const TAG_COLS: &str = "g.id, g.user_id, g.name, g.color, g.created_at";
        const REMINDER_COLS: &str = "id, task_id, user_id, reminder_time, reminder_type, \
            status, created_at, sent_at, cancelled_at";
        const ACTIVITY_COLS: &str =
            "id, user_id, task_id, action, old_values, new_values, created_at";

        fn task_select() -> String {
            format!("SELECT {TASK_COLS}, {TAG_IDS} AS tag_ids FROM tasks t")
        }

        fn task_from_row(row: &DbRow) -> Result<Task, StoreError> {
            let parts = TaskParts {
                id: row.try_get("id").map_err(map_err)?,
                user_id: row.try_get("user_id").map_err(map_err)?,
                title: row.try_get("title").map_err(map_err)?,
                description: row.try_get("description").map_err(map_err)?,
                completed: row.try_get("completed").map_err(map_err)?,
                completed_at: ts_opt(row, "completed_at")?,
                due_datetime: ts_opt(row, "due_datetime")?,
                priority: row.try_get("priority").map_err(map_err)?,
                recurrence_pattern: row.try_get("recurrence_pattern").map_err(map_err)?,
                rrule: row.try_get("rrule").map_err(map_err)?,
                recurrence_end_date: ts_opt(row, "recurrence_end_date")?,
                series_start: ts_opt(row, "series_start")?,
                timezone: row.try_get("timezone").map_err(map_err)?,
                parent_task_id: row.try_get("parent_task_id").map_err(map_err)?,
                next_task_id: row.try_get("next_task_id").map_err(map_err)?,
                tag_ids: row.try_get("tag_ids").map_err(map_err)?,
                created_at: ts(row, "created_at")?,
                updated_at: ts(row, "updated_at")?,
            };
            parts.into_task()
        }

        fn tag_from_row(row: &DbRow) -> Result<Tag, StoreError> {
            rows::tag(
                row.try_get("id").map_err(map_err)?,
                row.try_get("user_id").map_err(map_err)?,
                row.try_get("name").map_err(map_err)?,
                row.try_get("color").map_err(map_err)?,
                ts(row, "created_at")?,
            )
        }

        /// An outbox row (`seq`, `payload`).
        fn outbox_entry(row: &DbRow) -> Result<OutboxEntry, StoreError> {
            let seq: i64 = row.try_get("seq").map_err(map_err)?;
            let payload: sqlx::types::Json<DomainEvent> =
                row.try_get("payload").map_err(map_err)?;
            Ok(OutboxEntry {
                seq: rows::to_u64(seq),
                event: payload.0,
            })
        }

        fn reminder_from_row(row: &DbRow) -> Result<Reminder, StoreError> {
            ReminderParts {
                id: row.try_get("id").map_err(map_err)?,
                task_id: row.try_get("task_id").map_err(map_err)?,
                user_id: row.try_get("user_id").map_err(map_err)?,
                reminder_time: ts(row, "reminder_time")?,
                reminder_type: row.try_get("reminder_type").map_err(map_err)?,
                status: row.try_get("status").map_err(map_err)?,
                created_at: ts(row, "created_at")?,
                sent_at: ts_opt(row, "sent_at")?,
                cancelled_at: ts_opt(row, "cancelled_at")?,
            }
            .into_reminder()
        }

        fn activity_from_row(row: &DbRow) -> Result<ActivityEntry, StoreError> {
            let old: Option<sqlx::types::Json<Values>> =
                row.try_get("old_values").map_err(map_err)?;
            let new: Option<sqlx::types::Json<Values>> =
                row.try_get("new_values").map_err(map_err)?;
            let action: String = row.try_get("action").map_err(map_err)?;
            rows::activity(
                row.try_get("id").map_err(map_err)?,
                row.try_get("user_id").map_err(map_err)?,
                row.try_get("task_id").map_err(map_err)?,
                &action,
                old.map(|j| j.0),
                new.map(|j| j.0),
                ts(row, "created_at")?,
            )
        }

        /// The user's tags with these ids, by id, with a locking clause (`FOR_SHARE` or "").
        fn tags_query(user: &UserId, ids: &[TagId], lock: &str) -> QueryBuilder<'static, Db> {
            let mut qb =
                QueryBuilder::<Db>::new(format!("SELECT {TAG_COLS} FROM tags g WHERE g.user_id = "));
            qb.push_bind(user.as_str().to_owned());
            qb.push(" AND g.id IN (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(id.get());
            }
            qb.push(format!(") ORDER BY g.id{lock}"));
            qb
        }

        /// The tags of `rows` in the order of `ids` (missing ids left out).
        fn tags_in_order(rows: &[DbRow], ids: &[TagId]) -> Result<Vec<Tag>, StoreError> {
            let found = rows.iter().map(tag_from_row).collect::<Result<Vec<_>, _>>()?;
            Ok(ids
                .iter()
                .filter_map(|id| found.iter().find(|t| t.id == *id).cloned())
                .collect())
        }

        /// The WHERE clause of the list query (see `todo_core::query::engine`).
        fn push_filters(qb: &mut QueryBuilder<'static, Db>, user: &UserId, q: &TaskQuery) {
            qb.push(" WHERE t.user_id = ");
            qb.push_bind(user.as_str().to_owned());
            for word in &q.search {
                push_search_word(qb, word);
            }
            match q.status {
                StatusFilter::All => {}
                StatusFilter::Pending => {
                    qb.push(" AND t.completed = ");
                    qb.push_bind(false);
                }
                StatusFilter::Completed => {
                    qb.push(" AND t.completed = ");
                    qb.push_bind(true);
                }
            }
            if !q.priorities.is_empty() {
                qb.push(" AND t.priority IN (");
                let mut sep = qb.separated(", ");
                for p in &q.priorities {
                    sep.push_bind(p.as_str().to_owned());
                }
                qb.push(")");
            }
            if let Some(start) = q.due_start {
                qb.push(" AND t.due_datetime >= ");
                qb.push_bind(enc_ts(start));
            }
            if let Some(end) = q.due_end {
                qb.push(" AND t.due_datetime <= ");
                qb.push_bind(enc_ts(end));
            }
            if let Some(f) = &q.tags {
                match f.mode() {
                    TagsMode::Any => qb.push(
                        " AND EXISTS (SELECT 1 FROM task_tags tt WHERE tt.task_id = t.id \
                         AND tt.tag_id IN (",
                    ),
                    TagsMode::All => qb.push(
                        " AND (SELECT COUNT(*) FROM task_tags tt WHERE tt.task_id = t.id \
                         AND tt.tag_id IN (",
                    ),
                };
                let mut sep = qb.separated(", ");
                for id in f.ids() {
                    sep.push_bind(id.get());
                }
                match f.mode() {
                    TagsMode::Any => qb.push("))"),
                    TagsMode::All => {
                        qb.push(")) = ");
                        qb.push_bind(i64::try_from(f.ids().len()).unwrap_or(i64::MAX))
                    }
                };
            }
        }

        /// The ORDER BY clause: the sort key, nulls last for the due date in both directions,
        /// ties by id in the same direction.
        fn push_order(qb: &mut QueryBuilder<'static, Db>, q: &TaskQuery) {
            let dir = match q.sort_order {
                SortOrder::Asc => "ASC",
                SortOrder::Desc => "DESC",
            };
            let key = match q.sort_by {
                SortKey::CreatedAt => format!("t.created_at {dir}"),
                SortKey::DueDatetime => {
                    format!("(t.due_datetime IS NULL) ASC, t.due_datetime {dir}")
                }
                SortKey::Priority => format!("t.priority_rank {dir}"),
                SortKey::Title => format!("{TITLE_ORDER} {dir}"),
            };
            qb.push(format!(" ORDER BY {key}, t.id {dir}"));
        }

        async fn insert_links<'c, E>(
            executor: E,
            task: i64,
            tags: &[TagId],
        ) -> Result<(), StoreError>
        where
            E: sqlx::Executor<'c, Database = Db>,
        {
            if tags.is_empty() {
                return Ok(());
            }
            let mut qb = QueryBuilder::<Db>::new("INSERT INTO task_tags (task_id, tag_id) ");
            qb.push_values(tags, |mut b, tag| {
                b.push_bind(task).push_bind(tag.get());
            });
            qb.build().execute(executor).await.map_err(map_err)?;
            Ok(())
        }

        /// Writes a unit's outbox events, in order, with as few statements as possible.
        async fn write_events(
            conn: &mut <Db as sqlx::Database>::Connection,
            events: &[DomainEvent],
        ) -> Result<(), StoreError> {
            for chunk in events.chunks(1000) {
                let mut qb = QueryBuilder::<Db>::new(
                    "INSERT INTO outbox (event_id, user_id, event_type, payload, created_at) ",
                );
                qb.push_values(chunk, |mut b, event| {
                    b.push_bind(enc_event_id(event.id))
                        .push_bind(event.user_id.as_str())
                        .push_bind(event.payload.event_type())
                        .push_bind(sqlx::types::Json(event))
                        .push_bind(enc_ts(event.occurred_at));
                });
                qb.build().execute(&mut *conn).await.map_err(map_err)?;
            }
            Ok(())
        }

        impl Store for $Store {
            type Tx = $Tx;

            async fn begin(&self) -> Result<$Tx, StoreError> {
                begin_unit(self).await
            }

            async fn task(&self, user: &UserId, id: TaskId) -> Result<Option<Task>, StoreError> {
                let sql = format!("{} WHERE t.id = $1 AND t.user_id = $2", task_select());
                let row = sqlx::query(&sql)
                    .bind(id.get())
                    .bind(user.as_str())
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                row.as_ref().map(task_from_row).transpose()
            }

            async fn list_tasks(
                &self,
                user: &UserId,
                q: &TaskQuery,
            ) -> Result<Page<Task>, StoreError> {
                // The page's ids first (an index can give them in order, and nothing else is
                // computed for the rows around the page), the total by an uncorrelated subquery
                // (evaluated once), the tag ids only for the page's rows.
                let mut qb = QueryBuilder::<Db>::new(format!(
                    "SELECT {TASK_COLS}, {TAG_IDS} AS tag_ids, (SELECT COUNT(*) FROM tasks t"
                ));
                push_filters(&mut qb, user, q);
                qb.push(") AS total_count FROM tasks t WHERE t.id IN (SELECT t.id FROM tasks t");
                push_filters(&mut qb, user, q);
                push_order(&mut qb, q);
                qb.push(" LIMIT ");
                qb.push_bind(i64::from(q.limit.get()));
                qb.push(" OFFSET ");
                qb.push_bind(rows::to_i64(q.offset));
                qb.push(")");
                push_order(&mut qb, q);
                // See LIST_PREPARED: a search is planned for its words.
                let prepared = LIST_PREPARED || q.search.is_empty();
                let found = qb
                    .build()
                    .persistent(prepared)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
                let total = match found.first() {
                    Some(row) => rows::to_u64(row.try_get("total_count").map_err(map_err)?),
                    None if q.offset == 0 => 0,
                    None => {
                        let mut qb = QueryBuilder::<Db>::new("SELECT COUNT(*) FROM tasks t");
                        push_filters(&mut qb, user, q);
                        let n: i64 = qb
                            .build_query_scalar()
                            .persistent(prepared)
                            .fetch_one(&self.pool)
                            .await
                            .map_err(map_err)?;
                        rows::to_u64(n)
                    }
                };
                let items = found.iter().map(task_from_row).collect::<Result<Vec<_>, _>>()?;
                Ok(Page {
                    items,
                    total,
                    limit: q.limit.get(),
                    offset: q.offset,
                })
            }

            async fn list_tags(&self, user: &UserId) -> Result<Vec<TagWithCount>, StoreError> {
                let sql = format!(
                    "SELECT {TAG_COLS}, (SELECT COUNT(*) FROM task_tags tt WHERE tt.tag_id = g.id) \
                     AS task_count FROM tags g WHERE g.user_id = $1 ORDER BY {NAME_KEY_ORDER}, g.id"
                );
                let found = sqlx::query(&sql)
                    .bind(user.as_str())
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
                found
                    .iter()
                    .map(|row| {
                        Ok(TagWithCount {
                            tag: tag_from_row(row)?,
                            task_count: rows::to_u64(row.try_get("task_count").map_err(map_err)?),
                        })
                    })
                    .collect()
            }

            async fn tags(&self, user: &UserId, ids: &[TagId]) -> Result<Vec<Tag>, StoreError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let found = tags_query(user, ids, "")
                    .build()
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
                tags_in_order(&found, ids)
            }

            async fn list_activity(
                &self,
                user: &UserId,
                limit: u32,
                offset: u64,
            ) -> Result<ActivityPage, StoreError> {
                let sql = format!(
                    "SELECT {ACTIVITY_COLS}, COUNT(*) OVER () AS total_count FROM activity_logs \
                     WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
                );
                let found = sqlx::query(&sql)
                    .bind(user.as_str())
                    .bind(i64::from(limit))
                    .bind(rows::to_i64(offset))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
                let total = match found.first() {
                    Some(row) => rows::to_u64(row.try_get("total_count").map_err(map_err)?),
                    None if offset == 0 => 0,
                    None => {
                        let n: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM activity_logs WHERE user_id = $1",
                        )
                        .bind(user.as_str())
                        .fetch_one(&self.pool)
                        .await
                        .map_err(map_err)?;
                        rows::to_u64(n)
                    }
                };
                let entries = found
                    .iter()
                    .map(activity_from_row)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(ActivityPage { entries, total })
            }

            async fn pending_reminders(
                &self,
                user: &UserId,
                tasks: &[TaskId],
            ) -> Result<Vec<Reminder>, StoreError> {
                if tasks.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<Db>::new(format!(
                    "SELECT {REMINDER_COLS} FROM reminders WHERE status = 'pending' AND user_id = "
                ));
                qb.push_bind(user.as_str().to_owned());
                qb.push(" AND task_id IN (");
                let mut sep = qb.separated(", ");
                for t in tasks {
                    sep.push_bind(t.get());
                }
                qb.push(") ORDER BY id");
                let found = qb.build().fetch_all(&self.pool).await.map_err(map_err)?;
                found.iter().map(reminder_from_row).collect()
            }

            async fn undelivered_events_after(
                &self,
                after: u64,
                limit: u32,
            ) -> Result<Vec<OutboxEntry>, StoreError> {
                let found = sqlx::query(
                    "SELECT seq, payload FROM outbox WHERE delivered_at IS NULL \
                     AND parked_at IS NULL AND seq > $1 ORDER BY seq LIMIT $2",
                )
                .bind(rows::to_i64(after))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                found.iter().map(outbox_entry).collect()
            }

            async fn user_events_after(
                &self,
                user: &UserId,
                after: todo_core::EventId,
                limit: u32,
            ) -> Result<Option<Vec<OutboxEntry>>, StoreError> {
                let from: Option<i64> = sqlx::query_scalar(
                    "SELECT seq FROM outbox WHERE event_id = $1 AND user_id = $2",
                )
                .bind(enc_event_id(after))
                .bind(user.as_str())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                let Some(from) = from else {
                    return Ok(None);
                };
                let found = sqlx::query(
                    "SELECT seq, payload FROM outbox WHERE user_id = $1 AND seq > $2 \
                     AND parked_at IS NULL ORDER BY seq LIMIT $3",
                )
                .bind(user.as_str())
                .bind(from)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                found.iter().map(outbox_entry).collect::<Result<_, _>>().map(Some)
            }

            async fn next_reminders(&self, limit: u32) -> Result<Vec<Reminder>, StoreError> {
                let found = sqlx::query(&format!(
                    "SELECT {REMINDER_COLS} FROM reminders WHERE status = 'pending' \
                     ORDER BY reminder_time, id LIMIT $1"
                ))
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                found.iter().map(reminder_from_row).collect()
            }

            async fn prune_delivered_events(
                &self,
                before: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let mut tx = begin_unit(self).await?;
                let done = sqlx::query(
                    "DELETE FROM outbox WHERE delivered_at IS NOT NULL AND parked_at IS NULL \
                     AND created_at < $1",
                )
                .bind(enc_ts(before))
                .execute(tx.conn()?)
                .await
                .map_err(map_err)?;
                tx.finish().await?;
                Ok(done.rows_affected())
            }

            async fn park_event(
                &self,
                seq: u64,
                reason: &str,
                at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                // Through a unit: on SQLite it queues with the other writers.
                let mut tx = begin_unit(self).await?;
                let done = sqlx::query(
                    "UPDATE outbox SET parked_at = $1, park_reason = $2 \
                     WHERE seq = $3 AND delivered_at IS NULL AND parked_at IS NULL",
                )
                .bind(enc_ts(at))
                .bind(reason)
                .bind(rows::to_i64(seq))
                .execute(tx.conn()?)
                .await
                .map_err(map_err)?;
                tx.finish().await?;
                Ok(done.rows_affected() > 0)
            }

            async fn parked_events(
                &self,
                limit: u32,
            ) -> Result<Vec<todo_core::ports::ParkedEvent>, StoreError> {
                // Not the payload: a parked event may be large, and an operator needs its
                // identity and why it was parked.
                let found = sqlx::query(
                    "SELECT seq, CAST(event_id AS TEXT) AS event_id, user_id, event_type, \
                     created_at, parked_at, park_reason FROM outbox \
                     WHERE parked_at IS NOT NULL ORDER BY seq LIMIT $1",
                )
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
                found
                    .iter()
                    .map(|row| {
                        let seq: i64 = row.try_get("seq").map_err(map_err)?;
                        let event_id: String = row.try_get("event_id").map_err(map_err)?;
                        let event_id = uuid::Uuid::parse_str(&event_id)
                            .map(todo_core::EventId::new)
                            .map_err(|e| $crate::storage::error::corrupt("event_id", e))?;
                        let user_id = rows::user(row.try_get("user_id").map_err(map_err)?)?;
                        let reason: Option<String> =
                            row.try_get("park_reason").map_err(map_err)?;
                        Ok(todo_core::ports::ParkedEvent {
                            seq: rows::to_u64(seq),
                            event_id,
                            user_id,
                            event_type: row.try_get("event_type").map_err(map_err)?,
                            occurred_at: ts(row, "created_at")?,
                            parked_at: ts(row, "parked_at")?,
                            reason: reason.unwrap_or_default(),
                        })
                    })
                    .collect()
            }

            async fn count_parked_events(&self) -> Result<u64, StoreError> {
                let n: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE parked_at IS NOT NULL")
                        .fetch_one(&self.pool)
                        .await
                        .map_err(map_err)?;
                Ok(rows::to_u64(n))
            }

            async fn prune_parked_events(
                &self,
                before: DateTime<Utc>,
            ) -> Result<u64, StoreError> {
                let mut tx = begin_unit(self).await?;
                let done = sqlx::query(
                    "DELETE FROM outbox WHERE parked_at IS NOT NULL AND parked_at < $1",
                )
                .bind(enc_ts(before))
                .execute(tx.conn()?)
                .await
                .map_err(map_err)?;
                tx.finish().await?;
                Ok(done.rows_affected())
            }

            async fn mark_delivered(&self, seqs: &[u64]) -> Result<(), StoreError> {
                if seqs.is_empty() {
                    return Ok(());
                }
                let mut qb = QueryBuilder::<Db>::new("UPDATE outbox SET delivered_at = ");
                qb.push_bind(enc_ts(Utc::now()));
                qb.push(" WHERE delivered_at IS NULL AND parked_at IS NULL AND seq IN (");
                let mut sep = qb.separated(", ");
                for s in seqs {
                    sep.push_bind(rows::to_i64(*s));
                }
                qb.push(")");
                // Through a unit: on SQLite it queues with the other writers.
                let mut tx = begin_unit(self).await?;
                qb.build().execute(tx.conn()?).await.map_err(map_err)?;
                tx.finish().await
            }
        }

        impl $Tx {
            /// A quota count of the user's rows (`sql` counts by `user_id = $1`), after the
            /// user's quota lock, so that the count and the insert after it are not raced.
            async fn count_owned(&mut self, sql: &'static str, user: &UserId) -> Result<u64, StoreError> {
                lock_user_quota(self.conn()?, user).await?;
                let n: i64 = sqlx::query_scalar(sql)
                    .bind(user.as_str())
                    .fetch_one(self.conn()?)
                    .await
                    .map_err(map_err)?;
                Ok(rows::to_u64(n))
            }
        }

        impl StoreTx for $Tx {
            async fn task(
                &mut self,
                user: &UserId,
                id: TaskId,
            ) -> Result<Option<Task>, StoreError> {
                let sql = format!(
                    "{} WHERE t.id = $1 AND t.user_id = $2{FOR_UPDATE}",
                    task_select()
                );
                let row = sqlx::query(&sql)
                    .bind(id.get())
                    .bind(user.as_str())
                    .fetch_optional(self.conn()?)
                    .await
                    .map_err(map_err)?;
                row.as_ref().map(task_from_row).transpose()
            }

            async fn insert_task(&mut self, new: NewTask) -> Result<Task, StoreError> {
                let mut task = new.task;
                let row = bind_task_fields(
                    sqlx::query(
                    "INSERT INTO tasks (user_id, title, description, completed, completed_at, \
                     due_datetime, priority, priority_rank, recurrence_pattern, rrule, \
                     recurrence_end_date, series_start, timezone, parent_task_id, next_task_id, \
                     created_at, updated_at, search_text, title_key) VALUES ($1, $2, $3, $4, $5, \
                     $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
                     ON CONFLICT (parent_task_id) WHERE parent_task_id IS NOT NULL DO NOTHING \
                     RETURNING id",
                    )
                    .bind(task.user_id.as_str()),
                    &task,
                )
                .fetch_optional(self.conn()?)
                .await
                .map_err(map_err)?;
                let id: Option<i64> = row
                    .map(|r| r.try_get::<i64, _>(0))
                    .transpose()
                    .map_err(map_err)?;
                // A conflict is reported without failing the statement: on PostgreSQL a failed
                // statement would abort the whole unit of work.
                let id = id.ok_or_else(|| {
                    StoreError::UniqueViolation(format!(
                        "task {} already has a next instance",
                        task.parent_task_id.map_or(0, TaskId::get)
                    ))
                })?;
                insert_links(self.conn()?, id, &task.tag_ids).await?;
                task.id = TaskId::new(id);
                Ok(task)
            }

            async fn update_task(&mut self, task: &Task) -> Result<(), StoreError> {
                let done = bind_task_fields(
                    sqlx::query(
                    "UPDATE tasks SET title = $3, description = $4, completed = $5, \
                     completed_at = $6, due_datetime = $7, priority = $8, priority_rank = $9, \
                     recurrence_pattern = $10, rrule = $11, recurrence_end_date = $12, \
                     series_start = $13, timezone = $14, parent_task_id = $15, next_task_id = $16, \
                     created_at = $17, updated_at = $18, search_text = $19, title_key = $20 \
                     WHERE id = $1 AND user_id = $2",
                    )
                    .bind(task.id.get())
                    .bind(task.user_id.as_str()),
                    task,
                )
                .execute(self.conn()?)
                .await
                .map_err(map_err)?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::Other(format!("task {} does not exist", task.id)));
                }
                sqlx::query("DELETE FROM task_tags WHERE task_id = $1")
                    .bind(task.id.get())
                    .execute(self.conn()?)
                    .await
                    .map_err(map_err)?;
                insert_links(self.conn()?, task.id.get(), &task.tag_ids).await
            }

            async fn delete_task(&mut self, user: &UserId, id: TaskId) -> Result<bool, StoreError> {
                // Tag links and reminders go with the task (ON DELETE CASCADE).
                let done = sqlx::query("DELETE FROM tasks WHERE id = $1 AND user_id = $2")
                    .bind(id.get())
                    .bind(user.as_str())
                    .execute(self.conn()?)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn tags(&mut self, user: &UserId, ids: &[TagId]) -> Result<Vec<Tag>, StoreError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let found = tags_query(user, ids, FOR_SHARE)
                    .build()
                    .fetch_all(self.conn()?)
                    .await
                    .map_err(map_err)?;
                tags_in_order(&found, ids)
            }

            async fn tag_by_key(
                &mut self,
                user: &UserId,
                key: &str,
            ) -> Result<Option<Tag>, StoreError> {
                let sql = format!(
                    "SELECT {TAG_COLS} FROM tags g WHERE g.user_id = $1 \
                     AND g.name_key = $2{FOR_SHARE}"
                );
                let row = sqlx::query(&sql)
                    .bind(user.as_str())
                    .bind(key)
                    .fetch_optional(self.conn()?)
                    .await
                    .map_err(map_err)?;
                row.as_ref().map(tag_from_row).transpose()
            }

            async fn insert_tag(&mut self, new: NewTag) -> Result<Tag, StoreError> {
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO tags (user_id, name, name_key, color, created_at) \
                     VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (user_id, name_key) DO NOTHING RETURNING id",
                )
                .bind(new.user_id.as_str())
                .bind(new.name.as_str())
                .bind(new.name.key())
                .bind(new.color.as_str())
                .bind(enc_ts(new.created_at))
                .fetch_optional(self.conn()?)
                .await
                .map_err(map_err)?;
                let id = id.ok_or_else(|| {
                    StoreError::UniqueViolation(format!("tag name {:?} exists", new.name.as_str()))
                })?;
                Ok(Tag {
                    id: TagId::new(id),
                    user_id: new.user_id,
                    name: new.name,
                    color: new.color,
                    created_at: new.created_at,
                })
            }

            async fn update_tag(&mut self, tag: &Tag) -> Result<(), StoreError> {
                let done = sqlx::query(
                    "UPDATE tags SET name = $3, name_key = $4, color = $5 \
                     WHERE id = $1 AND user_id = $2 AND NOT EXISTS (SELECT 1 FROM tags o \
                     WHERE o.user_id = $2 AND o.name_key = $4 AND o.id <> $1)",
                )
                .bind(tag.id.get())
                .bind(tag.user_id.as_str())
                .bind(tag.name.as_str())
                .bind(tag.name.key())
                .bind(tag.color.as_str())
                .execute(self.conn()?)
                .await
                .map_err(map_err)?;
                if done.rows_affected() > 0 {
                    return Ok(());
                }
                let exists: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM tags WHERE id = $1 AND user_id = $2)",
                )
                .bind(tag.id.get())
                .bind(tag.user_id.as_str())
                .fetch_one(self.conn()?)
                .await
                .map_err(map_err)?;
                Err(if exists {
                    StoreError::UniqueViolation(format!("tag name {:?} exists", tag.name.as_str()))
                } else {
                    StoreError::Other(format!("tag {} does not exist", tag.id))
                })
            }

            async fn delete_tag(&mut self, user: &UserId, id: TagId) -> Result<bool, StoreError> {
                // Links go with the tag (ON DELETE CASCADE).
                let done = sqlx::query("DELETE FROM tags WHERE id = $1 AND user_id = $2")
                    .bind(id.get())
                    .bind(user.as_str())
                    .execute(self.conn()?)
                    .await
                    .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn tasks_with_tag(
                &mut self,
                user: &UserId,
                id: TagId,
            ) -> Result<Vec<TaskId>, StoreError> {
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT tt.task_id FROM task_tags tt JOIN tasks t ON t.id = tt.task_id \
                     WHERE tt.tag_id = $1 AND t.user_id = $2 ORDER BY tt.task_id",
                )
                .bind(id.get())
                .bind(user.as_str())
                .fetch_all(self.conn()?)
                .await
                .map_err(map_err)?;
                Ok(ids.into_iter().map(TaskId::new).collect())
            }

            async fn reminders_of(
                &mut self,
                user: &UserId,
                task: TaskId,
            ) -> Result<Vec<Reminder>, StoreError> {
                let sql = format!(
                    "SELECT {REMINDER_COLS} FROM reminders WHERE user_id = $1 AND task_id = $2 \
                     ORDER BY id"
                );
                let found = sqlx::query(&sql)
                    .bind(user.as_str())
                    .bind(task.get())
                    .fetch_all(self.conn()?)
                    .await
                    .map_err(map_err)?;
                found.iter().map(reminder_from_row).collect()
            }

            async fn reminder(
                &mut self,
                user: &UserId,
                id: ReminderId,
            ) -> Result<Option<Reminder>, StoreError> {
                let sql = format!(
                    "SELECT {REMINDER_COLS} FROM reminders WHERE user_id = $1 AND id = $2"
                );
                let row = sqlx::query(&sql)
                    .bind(user.as_str())
                    .bind(id.get())
                    .fetch_optional(self.conn()?)
                    .await
                    .map_err(map_err)?;
                row.as_ref().map(reminder_from_row).transpose()
            }

            async fn insert_reminder(&mut self, new: NewReminder) -> Result<Reminder, StoreError> {
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO reminders (task_id, user_id, reminder_time, reminder_type, \
                     status, created_at) \
                     SELECT t.id, t.user_id, $3, $4, 'pending', $5 FROM tasks t \
                     WHERE t.id = $1 AND t.user_id = $2 \
                     ON CONFLICT (task_id) WHERE status = 'pending' DO NOTHING RETURNING id",
                )
                .bind(new.task_id.get())
                .bind(new.user_id.as_str())
                .bind(enc_ts(new.reminder_time))
                .bind(new.reminder_type.as_str())
                .bind(enc_ts(new.created_at))
                .fetch_optional(self.conn()?)
                .await
                .map_err(map_err)?;
                let Some(id) = id else {
                    let exists: bool = sqlx::query_scalar(
                        "SELECT EXISTS (SELECT 1 FROM tasks WHERE id = $1 AND user_id = $2)",
                    )
                    .bind(new.task_id.get())
                    .bind(new.user_id.as_str())
                    .fetch_one(self.conn()?)
                    .await
                    .map_err(map_err)?;
                    return Err(if exists {
                        StoreError::UniqueViolation(format!(
                            "task {} has a pending reminder",
                            new.task_id
                        ))
                    } else {
                        StoreError::Other(format!("task {} does not exist", new.task_id))
                    });
                };
                Ok(Reminder {
                    id: ReminderId::new(id),
                    task_id: new.task_id,
                    user_id: new.user_id,
                    reminder_time: new.reminder_time,
                    reminder_type: new.reminder_type,
                    status: ReminderStatus::Pending,
                    created_at: new.created_at,
                    sent_at: None,
                    cancelled_at: None,
                })
            }

            async fn transition_reminder(
                &mut self,
                reminder: &Reminder,
                from: ReminderStatus,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "UPDATE reminders SET reminder_time = $4, reminder_type = $5, status = $6, \
                     created_at = $7, sent_at = $8, cancelled_at = $9 \
                     WHERE id = $1 AND user_id = $2 AND status = $3",
                )
                .bind(reminder.id.get())
                .bind(reminder.user_id.as_str())
                .bind(from.as_str())
                .bind(enc_ts(reminder.reminder_time))
                .bind(reminder.reminder_type.as_str())
                .bind(reminder.status.as_str())
                .bind(enc_ts(reminder.created_at))
                .bind(reminder.sent_at.map(enc_ts))
                .bind(reminder.cancelled_at.map(enc_ts))
                .execute(self.conn()?)
                .await
                .map_err(map_err)?;
                Ok(done.rows_affected() > 0)
            }

            async fn claim_event(
                &mut self,
                consumer: &str,
                event: todo_core::EventId,
                at: DateTime<Utc>,
            ) -> Result<bool, StoreError> {
                let done = sqlx::query(
                    "INSERT INTO processed_events (consumer, event_id, processed_at) \
                     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(consumer)
                .bind(enc_event_id(event))
                .bind(enc_ts(at))
                .execute(self.conn()?)
                .await
                .map_err(map_err)?;
                Ok(done.rows_affected() == 1)
            }

            async fn event_in_outbox(
                &mut self,
                event: todo_core::EventId,
            ) -> Result<bool, StoreError> {
                // Events of this unit are written at commit; they are in the outbox for the
                // purpose of the question.
                if self.events.iter().any(|e| e.id == event) {
                    return Ok(true);
                }
                let found: Option<i64> =
                    sqlx::query_scalar("SELECT seq FROM outbox WHERE event_id = $1")
                        .bind(enc_event_id(event))
                        .fetch_optional(self.conn()?)
                        .await
                        .map_err(map_err)?;
                Ok(found.is_some())
            }

            async fn insert_activity(
                &mut self,
                new: NewActivity,
            ) -> Result<ActivityEntry, StoreError> {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO activity_logs (user_id, task_id, action, old_values, new_values, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(new.user_id.as_str())
                .bind(new.task_id.map(TaskId::get))
                .bind(new.action.as_str())
                .bind(new.old_values.as_ref().map(sqlx::types::Json))
                .bind(new.new_values.as_ref().map(sqlx::types::Json))
                .bind(enc_ts(new.created_at))
                .fetch_one(self.conn()?)
                .await
                .map_err(map_err)?;
                Ok(ActivityEntry {
                    id: todo_core::ActivityId::new(id),
                    user_id: new.user_id,
                    task_id: new.task_id,
                    action: new.action,
                    old_values: new.old_values,
                    new_values: new.new_values,
                    created_at: new.created_at,
                })
            }

            async fn count_tasks(&mut self, user: &UserId) -> Result<u64, StoreError> {
                self.count_owned("SELECT COUNT(*) FROM tasks WHERE user_id = $1", user)
                    .await
            }

            async fn count_tags(&mut self, user: &UserId) -> Result<u64, StoreError> {
                self.count_owned("SELECT COUNT(*) FROM tags WHERE user_id = $1", user)
                    .await
            }

            async fn prune_reminders(
                &mut self,
                user: &UserId,
                task: TaskId,
                keep: u64,
            ) -> Result<u64, StoreError> {
                // The task's reminders are few (this pruning keeps them so): no index beyond
                // `reminders_task_idx` is needed.
                let done = sqlx::query(
                    "DELETE FROM reminders WHERE user_id = $1 AND task_id = $2 \
                     AND status <> 'pending' AND id NOT IN (SELECT id FROM reminders \
                     WHERE user_id = $1 AND task_id = $2 AND status <> 'pending' \
                     ORDER BY id DESC LIMIT $3)",
                )
                .bind(user.as_str())
                .bind(task.get())
                .bind(i64::try_from(keep).unwrap_or(i64::MAX))
                .execute(self.conn()?)
                .await
                .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn prune_activity(&mut self, user: &UserId, keep: u64) -> Result<u64, StoreError> {
                // The newest entry to delete (walking `activity_logs_user_created_idx` from the
                // newest end), then everything at or before it.
                let cut = sqlx::query(
                    "SELECT created_at, id FROM activity_logs WHERE user_id = $1 \
                     ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET $2",
                )
                .bind(user.as_str())
                .bind(i64::try_from(keep).unwrap_or(i64::MAX))
                .fetch_optional(self.conn()?)
                .await
                .map_err(map_err)?;
                let Some(cut) = cut else { return Ok(0) };
                let at = ts(&cut, "created_at")?;
                let id: i64 = cut.try_get("id").map_err(map_err)?;
                let done = sqlx::query(
                    "DELETE FROM activity_logs WHERE user_id = $1 \
                     AND (created_at < $2 OR (created_at = $2 AND id <= $3))",
                )
                .bind(user.as_str())
                .bind(enc_ts(at))
                .bind(id)
                .execute(self.conn()?)
                .await
                .map_err(map_err)?;
                Ok(done.rows_affected())
            }

            async fn append_event(&mut self, event: &DomainEvent) -> Result<(), StoreError> {
                // Buffered, and written with one statement when the unit commits.
                self.events.push(event.clone());
                Ok(())
            }

            async fn commit(self) -> Result<(), StoreError> {
                self.finish().await
            }
        }
    };
}

pub(crate) use sql_store;
