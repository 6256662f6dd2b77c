//! State: an in-memory store per configured state store, with Dapr's etag, first-write and TTL
//! semantics and all-or-nothing transactions.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use dapr::dapr::proto::common::v1::{StateItem, state_options::StateConcurrency};
use dapr::dapr::proto::runtime::v1::{
    BulkStateItem, DeleteBulkStateRequest, DeleteStateRequest, ExecuteStateTransactionRequest,
    GetBulkStateRequest, GetBulkStateResponse, GetStateRequest, GetStateResponse, SaveStateRequest,
};
use tonic::{Request, Response, Status};

use crate::inner::{Inner, Shared};

/// A stored value.
#[derive(Debug, Clone)]
pub(crate) struct StoredState {
    pub(crate) value: Vec<u8>,
    pub(crate) etag: String,
    pub(crate) expires_at: Option<DateTime<Utc>>,
}

type Store = HashMap<String, StoredState>;

/// One write, checked against the current etag before it is applied.
struct Write<'a> {
    key: &'a str,
    /// `None` deletes.
    value: Option<&'a [u8]>,
    etag: Option<&'a str>,
    first_write: bool,
    metadata: &'a HashMap<String, String>,
}

fn unknown_store(store: &str) -> Status {
    Status::invalid_argument(format!("state store {store} is not found"))
}

fn etag_mismatch(action: &str, store: &str, key: &str) -> Status {
    // daprd answers Aborted for the state stores' ETagMismatch error.
    Status::aborted(format!(
        "failed {action} state with key {key} in state store {store}: possible etag mismatch. error from state store: etag mismatch"
    ))
}

/// The live item at `key` (an expired one is removed on the way).
fn live<'a>(store: &'a mut Store, key: &str) -> Option<&'a StoredState> {
    let expired = store
        .get(key)
        .and_then(|item| item.expires_at)
        .is_some_and(|at| at <= Utc::now());
    if expired {
        store.remove(key);
    }
    store.get(key)
}

/// The expiry from the `ttlInSeconds` metadata (-1: never, like Dapr).
fn expiry(metadata: &HashMap<String, String>) -> Result<Option<DateTime<Utc>>, Status> {
    let Some(ttl) = metadata.get("ttlInSeconds") else {
        return Ok(None);
    };
    let seconds: i64 = ttl.trim().parse().map_err(|_| {
        Status::invalid_argument(format!("ttlInSeconds must be an integer, got {ttl:?}"))
    })?;
    match seconds {
        -1 => Ok(None),
        s if s < -1 => Err(Status::invalid_argument(format!(
            "ttlInSeconds must be -1 or more, got {s}"
        ))),
        s => Ok(Some(Utc::now() + chrono::Duration::seconds(s))),
    }
}

/// Applies `writes` in order to a copy of the store and swaps it in only if every check passed.
fn apply(
    shared: &mut Shared,
    store_name: &str,
    action: &str,
    writes: &[Write<'_>],
) -> Result<(), Status> {
    let mut counter = shared.etag_counter;
    let store = shared
        .stores
        .get_mut(store_name)
        .ok_or_else(|| unknown_store(store_name))?;
    let mut next = store.clone();
    for write in writes {
        let current = live(&mut next, write.key).map(|item| item.etag.clone());
        let etag = write.etag.filter(|etag| !etag.is_empty());
        let ok = match (etag, &current) {
            (Some(etag), Some(current)) => etag == current,
            (Some(_), None) => false,
            (None, Some(_)) => !(write.first_write && write.value.is_some()),
            (None, None) => true,
        };
        if !ok {
            return Err(etag_mismatch(action, store_name, write.key));
        }
        match write.value {
            Some(value) => {
                counter += 1;
                next.insert(
                    write.key.to_owned(),
                    StoredState {
                        value: value.to_vec(),
                        etag: counter.to_string(),
                        expires_at: expiry(write.metadata)?,
                    },
                );
            }
            None => {
                next.remove(write.key);
            }
        }
    }
    *store = next;
    shared.etag_counter = counter;
    Ok(())
}

fn is_first_write(item: &StateItem) -> bool {
    item.options
        .is_some_and(|o| o.concurrency == StateConcurrency::ConcurrencyFirstWrite as i32)
}

fn upsert(item: &StateItem) -> Result<Write<'_>, Status> {
    if item.key.is_empty() {
        return Err(Status::invalid_argument("state key is empty"));
    }
    Ok(Write {
        key: &item.key,
        value: Some(&item.value),
        etag: item.etag.as_ref().map(|e| e.value.as_str()),
        first_write: is_first_write(item),
        metadata: &item.metadata,
    })
}

fn delete(item: &StateItem) -> Write<'_> {
    Write {
        key: &item.key,
        value: None,
        etag: item.etag.as_ref().map(|e| e.value.as_str()),
        first_write: is_first_write(item),
        metadata: &item.metadata,
    }
}

/// `StandIn::state`.
pub(crate) fn read(inner: &Inner, store: &str, key: &str) -> Option<(Vec<u8>, String)> {
    let mut shared = inner.lock();
    let store = shared.stores.get_mut(store)?;
    live(store, key).map(|item| (item.value.clone(), item.etag.clone()))
}

fn get_one(shared: &mut Shared, store_name: &str, key: &str) -> Result<GetStateResponse, Status> {
    let store = shared
        .stores
        .get_mut(store_name)
        .ok_or_else(|| unknown_store(store_name))?;
    Ok(match live(store, key) {
        Some(item) => GetStateResponse {
            data: item.value.clone(),
            etag: item.etag.clone(),
            metadata: item
                .expires_at
                .map(|at| {
                    (
                        "ttlExpireTime".to_owned(),
                        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    )
                })
                .into_iter()
                .collect(),
        },
        None => GetStateResponse::default(),
    })
}

/// `GetState`: a missing key answers empty data and an empty etag.
pub(crate) async fn get_state(
    inner: &Arc<Inner>,
    request: Request<GetStateRequest>,
) -> Result<Response<GetStateResponse>, Status> {
    let req = request.into_inner();
    let response = get_one(&mut inner.lock(), &req.store_name, &req.key)?;
    Ok(Response::new(response))
}

/// `GetBulkState`.
pub(crate) async fn get_bulk_state(
    inner: &Arc<Inner>,
    request: Request<GetBulkStateRequest>,
) -> Result<Response<GetBulkStateResponse>, Status> {
    let req = request.into_inner();
    let mut shared = inner.lock();
    let items = req
        .keys
        .iter()
        .map(|key| {
            let one = get_one(&mut shared, &req.store_name, key)?;
            Ok(BulkStateItem {
                key: key.clone(),
                data: one.data,
                etag: one.etag,
                metadata: one.metadata,
                error: String::new(),
            })
        })
        .collect::<Result<_, Status>>()?;
    Ok(Response::new(GetBulkStateResponse { items }))
}

/// `SaveState`: every item's etag is checked before any is written.
pub(crate) async fn save_state(
    inner: &Arc<Inner>,
    request: Request<SaveStateRequest>,
) -> Result<Response<()>, Status> {
    let req = request.into_inner();
    let writes = req
        .states
        .iter()
        .map(upsert)
        .collect::<Result<Vec<_>, _>>()?;
    apply(&mut inner.lock(), &req.store_name, "saving", &writes)?;
    Ok(Response::new(()))
}

/// `DeleteState`: a missing key without an etag is fine.
pub(crate) async fn delete_state(
    inner: &Arc<Inner>,
    request: Request<DeleteStateRequest>,
) -> Result<Response<()>, Status> {
    let req = request.into_inner();
    let write = Write {
        key: &req.key,
        value: None,
        etag: req.etag.as_ref().map(|e| e.value.as_str()),
        first_write: false,
        metadata: &req.metadata,
    };
    apply(&mut inner.lock(), &req.store_name, "deleting", &[write])?;
    Ok(Response::new(()))
}

/// `DeleteBulkState`.
pub(crate) async fn delete_bulk_state(
    inner: &Arc<Inner>,
    request: Request<DeleteBulkStateRequest>,
) -> Result<Response<()>, Status> {
    let req = request.into_inner();
    let writes: Vec<_> = req.states.iter().map(delete).collect();
    apply(&mut inner.lock(), &req.store_name, "deleting", &writes)?;
    Ok(Response::new(()))
}

/// `ExecuteStateTransaction`: `upsert` and `delete` operations, all or nothing.
pub(crate) async fn execute_state_transaction(
    inner: &Arc<Inner>,
    request: Request<ExecuteStateTransactionRequest>,
) -> Result<Response<()>, Status> {
    let req = request.into_inner();
    let writes = req
        .operations
        .iter()
        .map(|op| {
            let item = op.request.as_ref().ok_or_else(|| {
                Status::invalid_argument("transaction operation without a request")
            })?;
            match op.operation_type.as_str() {
                "upsert" => upsert(item),
                "delete" => Ok(delete(item)),
                other => Err(Status::invalid_argument(format!(
                    "operation type {other} not supported"
                ))),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    // daprd wraps every failure of a transaction, an etag mismatch included, as Internal
    // (ErrStateTransaction); only SaveState and DeleteState answer Aborted for one.
    apply(
        &mut inner.lock(),
        &req.store_name,
        "executing transaction on",
        &writes,
    )
    .map_err(|s| match s.code() {
        tonic::Code::Aborted => Status::internal(format!(
            "error while executing state transaction: {}",
            s.message()
        )),
        _ => s,
    })?;
    Ok(Response::new(()))
}
