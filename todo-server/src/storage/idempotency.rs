//! The SQL of the idempotency port (`todo_core::ports::IdempotencyStore`), as a macro expanded
//! once per dialect after `sql_store!` (it uses that expansion's `DbRow`, `enc_ts`, `ts`,
//! `begin_unit` and the unit's `conn` / `finish`).
//!
//! Claiming a key is an insert-if-absent: `INSERT ... ON CONFLICT (user_id, idem_key) DO
//! UPDATE ... WHERE <the stored record is expired or abandoned> RETURNING`, so of concurrent
//! first uses exactly one inserts (PostgreSQL makes the others wait for its commit, then finds
//! the record live; SQLite has one writer). A loser reads the record: same fingerprint and a
//! response -> replay, no response -> in progress, another fingerprint -> mismatch. A replay is
//! answered by a plain read first, without queueing for the writer. Writes go through units of
//! work, so on SQLite they queue with the other writers (group commit) instead of meeting the
//! writer's lock in the busy handler.

macro_rules! sql_idempotency_store {
    ($Store:ident) => {
        mod idempotency_sql {
            use chrono::{DateTime, Duration, Utc};
            use sqlx::Row;
            use todo_core::ports::{
                IdempotencyClaim, IdempotencyKey, IdempotencyStore, RequestFingerprint,
                StoredResponse, idempotency_cutoff, idempotency_lock_cutoff,
            };
            use todo_core::{StoreError, UserId};

            use super::{$Store, DbRow, begin_unit, enc_ts, ts};
            use $crate::storage::error::{corrupt, map_err};

            const SELECT: &str = "SELECT fingerprint, created_at, status, headers, body \
                FROM idempotency_keys WHERE user_id = $1 AND idem_key = $2";

            /// The claim a stored record gives a request with `fingerprint`; `None` when the
            /// record no longer holds its key (older than `cutoff`, or in progress since before
            /// `lock_cutoff`).
            fn claim_of(
                row: &DbRow,
                fingerprint: &RequestFingerprint,
                cutoff: DateTime<Utc>,
                lock_cutoff: DateTime<Utc>,
            ) -> Result<Option<IdempotencyClaim>, StoreError> {
                let created_at = ts(row, "created_at")?;
                let status: Option<i32> = row.try_get("status").map_err(map_err)?;
                if created_at < cutoff || (status.is_none() && created_at < lock_cutoff) {
                    return Ok(None);
                }
                let stored: String = row.try_get("fingerprint").map_err(map_err)?;
                if stored != fingerprint.as_str() {
                    return Ok(Some(IdempotencyClaim::Mismatch));
                }
                let Some(status) = status else {
                    return Ok(Some(IdempotencyClaim::InProgress));
                };
                let status =
                    u16::try_from(status).map_err(|e| corrupt("idempotent response status", e))?;
                let headers: Option<String> = row.try_get("headers").map_err(map_err)?;
                let headers: Vec<(String, String)> =
                    serde_json::from_str(headers.as_deref().unwrap_or("[]"))
                        .map_err(|e| corrupt("idempotent response headers", e))?;
                let body: Option<Vec<u8>> = row.try_get("body").map_err(map_err)?;
                Ok(Some(IdempotencyClaim::Replay(StoredResponse {
                    status,
                    headers,
                    body: body.unwrap_or_default(),
                })))
            }

            impl IdempotencyStore for $Store {
                async fn begin_idempotent(
                    &self,
                    user: &UserId,
                    key: &IdempotencyKey,
                    fingerprint: &RequestFingerprint,
                    now: DateTime<Utc>,
                    ttl: Duration,
                ) -> Result<IdempotencyClaim, StoreError> {
                    let cutoff = idempotency_cutoff(now, ttl);
                    let lock_cutoff = idempotency_lock_cutoff(now, ttl);
                    let row = sqlx::query(SELECT)
                        .bind(user.as_str())
                        .bind(key.as_str())
                        .fetch_optional(&self.pool)
                        .await
                        .map_err(map_err)?;
                    if let Some(row) = row
                        && let Some(claim) = claim_of(&row, fingerprint, cutoff, lock_cutoff)?
                    {
                        return Ok(claim);
                    }
                    // The record may go between the insert that found it and the read (released
                    // or pruned): then the insert is tried again.
                    for _ in 0..3 {
                        let mut tx = begin_unit(self).await?;
                        let inserted = sqlx::query(
                            "INSERT INTO idempotency_keys \
                             (user_id, idem_key, fingerprint, created_at, status, headers, body) \
                             VALUES ($1, $2, $3, $4, NULL, NULL, NULL) \
                             ON CONFLICT (user_id, idem_key) DO UPDATE SET \
                             fingerprint = excluded.fingerprint, \
                             created_at = excluded.created_at, \
                             status = NULL, headers = NULL, body = NULL \
                             WHERE idempotency_keys.created_at < $5 \
                             OR (idempotency_keys.status IS NULL \
                             AND idempotency_keys.created_at < $6) \
                             RETURNING user_id",
                        )
                        .bind(user.as_str())
                        .bind(key.as_str())
                        .bind(fingerprint.as_str())
                        .bind(enc_ts(now))
                        .bind(enc_ts(cutoff))
                        .bind(enc_ts(lock_cutoff))
                        .fetch_optional(tx.conn()?)
                        .await
                        .map_err(map_err)?;
                        let found = if inserted.is_some() {
                            None
                        } else {
                            sqlx::query(SELECT)
                                .bind(user.as_str())
                                .bind(key.as_str())
                                .fetch_optional(tx.conn()?)
                                .await
                                .map_err(map_err)?
                        };
                        tx.finish().await?;
                        if inserted.is_some() {
                            return Ok(IdempotencyClaim::Started);
                        }
                        if let Some(row) = found
                            && let Some(claim) =
                                claim_of(&row, fingerprint, cutoff, lock_cutoff)?
                        {
                            return Ok(claim);
                        }
                    }
                    Err(StoreError::Conflict(
                        "the idempotency key kept changing under the claim".to_owned(),
                    ))
                }

                async fn complete_idempotent(
                    &self,
                    user: &UserId,
                    key: &IdempotencyKey,
                    claimed_at: DateTime<Utc>,
                    response: &StoredResponse,
                ) -> Result<(), StoreError> {
                    let headers = serde_json::to_string(&response.headers)
                        .map_err(|e| StoreError::Other(e.to_string()))?;
                    let mut tx = begin_unit(self).await?;
                    sqlx::query(
                        "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 \
                         WHERE user_id = $1 AND idem_key = $2 AND status IS NULL \
                         AND created_at = $6",
                    )
                    .bind(user.as_str())
                    .bind(key.as_str())
                    .bind(i32::from(response.status))
                    .bind(headers)
                    .bind(response.body.as_slice())
                    .bind(enc_ts(claimed_at))
                    .execute(tx.conn()?)
                    .await
                    .map_err(map_err)?;
                    tx.finish().await
                }

                async fn release_idempotent(
                    &self,
                    user: &UserId,
                    key: &IdempotencyKey,
                    claimed_at: DateTime<Utc>,
                ) -> Result<(), StoreError> {
                    let mut tx = begin_unit(self).await?;
                    sqlx::query(
                        "DELETE FROM idempotency_keys \
                         WHERE user_id = $1 AND idem_key = $2 AND status IS NULL \
                         AND created_at = $3",
                    )
                    .bind(user.as_str())
                    .bind(key.as_str())
                    .bind(enc_ts(claimed_at))
                    .execute(tx.conn()?)
                    .await
                    .map_err(map_err)?;
                    tx.finish().await
                }

                async fn prune_idempotency_keys(
                    &self,
                    before: DateTime<Utc>,
                ) -> Result<u64, StoreError> {
                    let mut tx = begin_unit(self).await?;
                    let done = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                        .bind(enc_ts(before))
                        .execute(tx.conn()?)
                        .await
                        .map_err(map_err)?;
                    tx.finish().await?;
                    Ok(done.rows_affected())
                }
            }
        }
    };
}

pub(crate) use sql_idempotency_store;
