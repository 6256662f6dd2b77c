//! The SQL of the conversation port (`todo_core::ports::ConversationStore`), as a macro expanded
//! once per dialect after `sql_store!` (it uses that expansion's `Db`, `DbRow`, `enc_ts`, `ts`
//! and the store's `pool`).
//!
//! Optimistic concurrency is one statement: a conditional write is
//! `UPDATE ... WHERE version = $n AND updated_at >= <cutoff>`, so of two writers holding the same
//! version exactly one changes the row (PostgreSQL re-checks the condition after waiting for the
//! row lock; SQLite has one writer at a time). A write without a tag is an upsert. Documents
//! older than the retention are filtered out of every read and pruned (the user's) on writes.

macro_rules! sql_conversation_store {
    ($Store:ident) => {
        mod conversation_sql {
            use chrono::{DateTime, Utc};
            use sqlx::Row;
            use sqlx::types::Json;
            use todo_core::ports::{
                ConversationStore, DeleteOutcome, PutOutcome, StoredDoc, conversation_cutoff,
                conversation_etag, conversation_first_version, conversation_version,
            };
            use todo_core::{ConversationId, StoreError, UserId};

            use super::{$Store, enc_ts, ts};
            use $crate::storage::error::{corrupt, map_err};

            impl $Store {
                /// Best-effort: removes the user's expired documents.
                async fn prune_conversations(&self, user: &UserId, now: DateTime<Utc>) {
                    let done = sqlx::query(
                        "DELETE FROM conversations WHERE user_id = $1 AND updated_at < $2",
                    )
                    .bind(user.as_str())
                    .bind(enc_ts(conversation_cutoff(now)))
                    .execute(&self.pool)
                    .await;
                    if let Err(e) = done {
                        tracing::warn!(error = %e, "pruning expired conversations failed");
                    }
                }

                /// Whether the user has a live document with this id.
                async fn conversation_exists(
                    &self,
                    user: &UserId,
                    id: &ConversationId,
                    now: DateTime<Utc>,
                ) -> Result<bool, StoreError> {
                    let n: Option<i64> = sqlx::query_scalar(
                        "SELECT version FROM conversations \
                         WHERE user_id = $1 AND conversation_id = $2 AND updated_at >= $3",
                    )
                    .bind(user.as_str())
                    .bind(id.as_str())
                    .bind(enc_ts(conversation_cutoff(now)))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                    Ok(n.is_some())
                }
            }

            impl ConversationStore for $Store {
                async fn get_conversation(
                    &self,
                    user: &UserId,
                    id: &ConversationId,
                    now: DateTime<Utc>,
                ) -> Result<Option<StoredDoc>, StoreError> {
                    let row = sqlx::query(
                        "SELECT doc, version, updated_at FROM conversations \
                         WHERE user_id = $1 AND conversation_id = $2 AND updated_at >= $3",
                    )
                    .bind(user.as_str())
                    .bind(id.as_str())
                    .bind(enc_ts(conversation_cutoff(now)))
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(map_err)?;
                    let Some(row) = row else { return Ok(None) };
                    let doc: Json<serde_json::Value> = row.try_get("doc").map_err(map_err)?;
                    let version: i64 = row.try_get("version").map_err(map_err)?;
                    Ok(Some(StoredDoc {
                        doc: doc.0,
                        etag: conversation_etag(version),
                        updated_at: ts(&row, "updated_at")?,
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
                    let version: Option<i64> = match if_match {
                        None => sqlx::query_scalar(
                            "INSERT INTO conversations \
                             (user_id, conversation_id, doc, version, updated_at) \
                             VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (user_id, conversation_id) DO UPDATE SET \
                             doc = excluded.doc, version = conversations.version + 1, \
                             updated_at = excluded.updated_at \
                             RETURNING version",
                        )
                        .bind(user.as_str())
                        .bind(id.as_str())
                        .bind(Json(doc))
                        .bind(conversation_first_version(now))
                        .bind(enc_ts(now))
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?,
                        Some("*") => sqlx::query_scalar(
                            "UPDATE conversations SET doc = $3, version = version + 1, \
                             updated_at = $4 \
                             WHERE user_id = $1 AND conversation_id = $2 AND updated_at >= $5 \
                             RETURNING version",
                        )
                        .bind(user.as_str())
                        .bind(id.as_str())
                        .bind(Json(doc))
                        .bind(enc_ts(now))
                        .bind(enc_ts(conversation_cutoff(now)))
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?,
                        Some(tag) => {
                            let Some(expected) = conversation_version(tag) else {
                                return Ok(PutOutcome::PreconditionFailed);
                            };
                            sqlx::query_scalar(
                                "UPDATE conversations SET doc = $3, version = version + 1, \
                                 updated_at = $4 \
                                 WHERE user_id = $1 AND conversation_id = $2 \
                                 AND updated_at >= $5 AND version = $6 \
                                 RETURNING version",
                            )
                            .bind(user.as_str())
                            .bind(id.as_str())
                            .bind(Json(doc))
                            .bind(enc_ts(now))
                            .bind(enc_ts(conversation_cutoff(now)))
                            .bind(expected)
                            .fetch_optional(&self.pool)
                            .await
                            .map_err(map_err)?
                        }
                    };
                    let Some(version) = version else {
                        return Ok(PutOutcome::PreconditionFailed);
                    };
                    self.prune_conversations(user, now).await;
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
                    let cutoff = enc_ts(conversation_cutoff(now));
                    let expected = match if_match {
                        None | Some("*") => None,
                        Some(tag) => match conversation_version(tag) {
                            Some(v) => Some(v),
                            None => {
                                return Ok(if self.conversation_exists(user, id, now).await? {
                                    DeleteOutcome::PreconditionFailed
                                } else {
                                    DeleteOutcome::NotFound
                                });
                            }
                        },
                    };
                    let done = match expected {
                        None => sqlx::query(
                            "DELETE FROM conversations \
                             WHERE user_id = $1 AND conversation_id = $2 AND updated_at >= $3",
                        )
                        .bind(user.as_str())
                        .bind(id.as_str())
                        .bind(cutoff)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err)?,
                        Some(v) => sqlx::query(
                            "DELETE FROM conversations \
                             WHERE user_id = $1 AND conversation_id = $2 AND updated_at >= $3 \
                             AND version = $4",
                        )
                        .bind(user.as_str())
                        .bind(id.as_str())
                        .bind(cutoff)
                        .bind(v)
                        .execute(&self.pool)
                        .await
                        .map_err(map_err)?,
                    };
                    let outcome = if done.rows_affected() > 0 {
                        DeleteOutcome::Deleted
                    } else if expected.is_some() && self.conversation_exists(user, id, now).await?
                    {
                        DeleteOutcome::PreconditionFailed
                    } else {
                        DeleteOutcome::NotFound
                    };
                    self.prune_conversations(user, now).await;
                    Ok(outcome)
                }

                async fn list_conversations(
                    &self,
                    user: &UserId,
                    now: DateTime<Utc>,
                ) -> Result<Vec<(ConversationId, DateTime<Utc>)>, StoreError> {
                    let rows = sqlx::query(
                        "SELECT conversation_id, updated_at FROM conversations \
                         WHERE user_id = $1 AND updated_at >= $2",
                    )
                    .bind(user.as_str())
                    .bind(enc_ts(conversation_cutoff(now)))
                    .fetch_all(&self.pool)
                    .await
                    .map_err(map_err)?;
                    let mut out = Vec::with_capacity(rows.len());
                    for row in &rows {
                        let raw: String = row.try_get("conversation_id").map_err(map_err)?;
                        let id = ConversationId::parse(&raw)
                            .map_err(|e| corrupt("conversation_id", e))?;
                        out.push((id, ts(row, "updated_at")?));
                    }
                    // Ids compare bytewise here, whatever the database's collation.
                    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                    Ok(out)
                }

                async fn count_conversations(
                    &self,
                    user: &UserId,
                    now: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    // `conversations_user_updated` answers it.
                    let n: i64 = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM conversations WHERE user_id = $1 AND updated_at >= $2",
                    )
                    .bind(user.as_str())
                    .bind(enc_ts(conversation_cutoff(now)))
                    .fetch_one(&self.pool)
                    .await
                    .map_err(map_err)?;
                    Ok(u64::try_from(n).unwrap_or(0))
                }
            }
        }
    };
}

pub(crate) use sql_conversation_store;
