//! Conversation state on a Dapr state store: the [`ConversationStore`] port with Dapr's etags.
//!
//! Layout (keys are prefixed with the app id by Dapr): the document of a conversation at
//! `conversation/<user>/<id>` as `{"version", "updated_at", "doc"}`, and the user's index at
//! `conversations/<user>` as `{"<id>": "<updated_at>", ...}` (a state store cannot list keys).
//! Both are written in one state transaction, each with the etag it was read with, so a
//! concurrent writer of either makes the transaction fail and the write is tried again from a
//! fresh read. The version tag the API hands out is a random id kept in the document (Dapr does
//! not return the new etag of a write); a write with `if_match` checks it against the document
//! read, and the document's Dapr etag makes that check atomic with the write. Every write sets
//! Dapr's `ttlInSeconds` to the retention, and reads also hide expired documents.
//!
//! User ids cannot contain `/`, so the first `/` after the prefix ends the user id; `%` and
//! `|` are percent-encoded in keys (Dapr reserves `||` as its key-prefix separator).
//!
//! A transaction that loses a race fails with `Aborted` on some stores and `Internal` on others
//! (daprd wraps every transaction failure): whatever the code, a failed write reads both keys
//! again, and if either changed under it, it was a conflict and is tried again.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use dapr::dapr::proto::common::v1::{Etag, StateItem, StateOptions, state_options};
use dapr::dapr::proto::runtime::v1::{
    ExecuteStateTransactionRequest, GetStateRequest, TransactionalStateOperation,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use todo_core::error::StoreError;
use todo_core::ids::{ConversationId, UserId};
use todo_core::ports::{
    CONVERSATION_RETENTION, ConversationStore, DeleteOutcome, PutOutcome, StoredDoc,
    conversation_expired,
};

use super::client::Sidecar;
use super::error::DaprError;

/// How often a write is tried again after another writer changed the user's index first.
const ATTEMPTS: usize = 32;

/// A stored document.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    version: String,
    updated_at: DateTime<Utc>,
    doc: Value,
}

/// A user's conversations with their last write.
type Index = BTreeMap<String, DateTime<Utc>>;

/// A value read with its Dapr etag (`None`: the key is missing).
struct Read<T> {
    value: Option<T>,
    etag: Option<String>,
}

/// The conversation store on the Dapr state store of that name.
#[derive(Debug, Clone)]
pub struct DaprConversations {
    sidecar: Sidecar,
    store: String,
}

impl DaprConversations {
    /// Conversations in the state store `store` (e.g. `conversation-state`).
    pub fn new(sidecar: Sidecar, store: impl Into<String>) -> Self {
        DaprConversations {
            sidecar,
            store: store.into(),
        }
    }

    async fn read<T: for<'de> Deserialize<'de>>(&self, key: &str) -> Result<Read<T>, DaprError> {
        let answer = self
            .sidecar
            .raw()
            .get_state(GetStateRequest {
                store_name: self.store.clone(),
                key: key.to_owned(),
                ..Default::default()
            })
            .await
            .map_err(|s| DaprError::call("GetState", &s))?
            .into_inner();
        if answer.data.is_empty() {
            return Ok(Read {
                value: None,
                etag: None,
            });
        }
        let value = serde_json::from_slice(&answer.data).map_err(|e| DaprError::Corrupt {
            what: format!("state {key}"),
            reason: e.to_string(),
        })?;
        Ok(Read {
            value: Some(value),
            etag: Some(answer.etag).filter(|e| !e.is_empty()),
        })
    }

    async fn transact(
        &self,
        operations: Vec<TransactionalStateOperation>,
    ) -> Result<(), DaprError> {
        self.sidecar
            .raw()
            .execute_state_transaction(ExecuteStateTransactionRequest {
                store_name: self.store.clone(),
                operations,
                metadata: HashMap::new(),
            })
            .await
            .map_err(|s| DaprError::call("ExecuteStateTransaction", &s))?;
        Ok(())
    }

    /// Whether the document or the user's index changed since they were read with these etags
    /// (so a failed transaction lost a race rather than failed).
    async fn raced(
        &self,
        key: &str,
        doc_etag: &Option<String>,
        user: &UserId,
        index_etag: &Option<String>,
    ) -> Result<bool, StoreError> {
        let doc: Read<Value> = self.read(key).await.map_err(store_error)?;
        let index: Read<Value> = self.read(&index_key(user)).await.map_err(store_error)?;
        Ok(&doc.etag != doc_etag || &index.etag != index_etag)
    }

    async fn live(&self, key: &str, now: DateTime<Utc>) -> Result<Read<Record>, DaprError> {
        let mut read: Read<Record> = self.read(key).await?;
        if read
            .value
            .as_ref()
            .is_some_and(|r| conversation_expired(r.updated_at, now))
        {
            read.value = None;
        }
        Ok(read)
    }
}

fn doc_key(user: &UserId, id: &ConversationId) -> String {
    format!(
        "conversation/{}/{}",
        key_part(user.as_str()),
        key_part(id.as_str())
    )
}

fn index_key(user: &UserId) -> String {
    format!("conversations/{}", key_part(user.as_str()))
}

/// A part of a state key: `%` and `|` percent-encoded (`||` is not allowed in Dapr keys).
fn key_part(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains(['%', '|']) {
        s.replace('%', "%25").replace('|', "%7C").into()
    } else {
        s.into()
    }
}

/// An upsert (with the etag read, or "must not exist yet" when there was none and `guard`).
fn upsert(
    key: String,
    value: &impl Serialize,
    etag: Option<String>,
    guard: bool,
) -> Result<TransactionalStateOperation, StoreError> {
    let value = serde_json::to_vec(value)
        .map_err(|e| StoreError::Other(format!("state {key} cannot be encoded: {e}")))?;
    Ok(TransactionalStateOperation {
        operation_type: "upsert".to_owned(),
        request: Some(StateItem {
            key,
            value,
            options: (etag.is_none() && guard).then(|| StateOptions {
                concurrency: state_options::StateConcurrency::ConcurrencyFirstWrite as i32,
                ..Default::default()
            }),
            etag: etag.map(|value| Etag { value }),
            metadata: HashMap::from([(
                "ttlInSeconds".to_owned(),
                CONVERSATION_RETENTION.num_seconds().to_string(),
            )]),
        }),
    })
}

fn delete(key: String, etag: Option<String>) -> TransactionalStateOperation {
    TransactionalStateOperation {
        operation_type: "delete".to_owned(),
        request: Some(StateItem {
            key,
            etag: etag.map(|value| Etag { value }),
            ..Default::default()
        }),
    }
}

fn store_error(e: DaprError) -> StoreError {
    match e {
        DaprError::Call {
            code: tonic::Code::Unavailable | tonic::Code::DeadlineExceeded,
            ..
        }
        | DaprError::Connect { .. } => StoreError::Unavailable(e.to_string()),
        e if e.is_etag_mismatch() => StoreError::Conflict(e.to_string()),
        e => StoreError::Other(e.to_string()),
    }
}

fn contention(user: &UserId) -> StoreError {
    StoreError::Conflict(format!(
        "the conversations of {} kept changing during {ATTEMPTS} attempts",
        user.as_str()
    ))
}

/// The index without the entries expired at `now`.
fn pruned(index: Option<Index>, now: DateTime<Utc>) -> Index {
    let mut index = index.unwrap_or_default();
    index.retain(|_, at| !conversation_expired(*at, now));
    index
}

impl ConversationStore for DaprConversations {
    async fn get_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredDoc>, StoreError> {
        let read = self
            .live(&doc_key(user, id), now)
            .await
            .map_err(store_error)?;
        Ok(read.value.map(|r| StoredDoc {
            doc: r.doc,
            etag: r.version,
            updated_at: r.updated_at,
        }))
    }

    async fn put_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        doc: &Value,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<PutOutcome, StoreError> {
        let key = doc_key(user, id);
        for _ in 0..ATTEMPTS {
            let current = self.live(&key, now).await.map_err(store_error)?;
            let doc_etag = match (if_match, &current.value) {
                (None, _) => None,
                (Some(_), None) => return Ok(PutOutcome::PreconditionFailed),
                (Some(m), Some(r)) if m != "*" && m != r.version => {
                    return Ok(PutOutcome::PreconditionFailed);
                }
                (Some(_), Some(_)) => current.etag.clone(),
            };
            let index: Read<Index> = self.read(&index_key(user)).await.map_err(store_error)?;
            let mut ids = pruned(index.value, now);
            ids.insert(id.as_str().to_owned(), now);
            let version = uuid::Uuid::new_v4().simple().to_string();
            let record = Record {
                version: version.clone(),
                updated_at: now,
                doc: doc.clone(),
            };
            let ops = vec![
                upsert(key.clone(), &record, doc_etag, false)?,
                upsert(index_key(user), &ids, index.etag.clone(), true)?,
            ];
            match self.transact(ops).await {
                Ok(()) => return Ok(PutOutcome::Written { etag: version }),
                // Another writer got there first: read again (a changed document fails the
                // precondition then; a changed index is merged).
                Err(e) if self.raced(&key, &current.etag, user, &index.etag).await? => {
                    tracing::debug!(error = %e, "conversation write raced; trying again");
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(contention(user))
    }

    async fn delete_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DeleteOutcome, StoreError> {
        let key = doc_key(user, id);
        for _ in 0..ATTEMPTS {
            let current = self.live(&key, now).await.map_err(store_error)?;
            let Some(record) = current.value else {
                return Ok(DeleteOutcome::NotFound);
            };
            if if_match.is_some_and(|m| m != "*" && m != record.version) {
                return Ok(DeleteOutcome::PreconditionFailed);
            }
            let index: Read<Index> = self.read(&index_key(user)).await.map_err(store_error)?;
            let mut ops = vec![delete(key.clone(), current.etag.clone())];
            if index.value.is_some() {
                let mut ids = pruned(index.value, now);
                ids.remove(id.as_str());
                ops.push(upsert(index_key(user), &ids, index.etag.clone(), true)?);
            }
            match self.transact(ops).await {
                Ok(()) => return Ok(DeleteOutcome::Deleted),
                Err(e) if self.raced(&key, &current.etag, user, &index.etag).await? => {
                    tracing::debug!(error = %e, "conversation delete raced; trying again");
                }
                Err(e) => return Err(store_error(e)),
            }
        }
        Err(contention(user))
    }

    async fn list_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ConversationId, DateTime<Utc>)>, StoreError> {
        let index: Read<Index> = self.read(&index_key(user)).await.map_err(store_error)?;
        let mut list = Vec::new();
        for (id, at) in pruned(index.value, now) {
            let id = ConversationId::parse(&id).map_err(|e| {
                store_error(DaprError::Corrupt {
                    what: index_key(user),
                    reason: e.to_string(),
                })
            })?;
            list.push((id, at));
        }
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.as_str().cmp(b.0.as_str())));
        Ok(list)
    }

    async fn count_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        // The user's index names every live conversation (a state store cannot count keys).
        let index: Read<Index> = self.read(&index_key(user)).await.map_err(store_error)?;
        Ok(pruned(index.value, now).len() as u64)
    }
}
