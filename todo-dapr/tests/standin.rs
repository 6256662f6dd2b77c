//! `DaprConversations` against the Dapr STAND-IN sidecar (`dapr-standin`: daprd cannot run here;
//! the stand-in implements the state calls the adapter makes with Dapr's documented semantics:
//! opaque etags, first-write concurrency, all-or-nothing transactions, `ttlInSeconds`).
//!
//! The conversation-store conformance suite of todo-core runs as it does for the SQL stores: each
//! case gets a fresh stand-in, started in-process on its own runtime, with its own state store.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use dapr_standin::{StandIn, StandInOptions};
use serde_json::Value;
use todo_core::error::StoreError;
use todo_core::ids::{ConversationId, UserId};
use todo_core::ports::{ConversationStore, DeleteOutcome, PutOutcome, StoredDoc};
use todo_dapr::{DaprConversations, Sidecar, SidecarOptions};

/// The state store of these tests (not the default name: the adapter must use the one it is given).
const STORE: &str = "standin-conversations";

/// Runs a test on a runtime of its own (the stand-in's server and the client live on it).
fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// `DaprConversations` on a fresh stand-in, which it keeps running as long as it lives.
struct StandInConversations {
    store: DaprConversations,
    standin: StandIn,
}

async fn fresh_standin_store() -> StandInConversations {
    let standin = StandIn::start(StandInOptions {
        state_stores: vec![STORE.to_owned()],
        ..StandInOptions::default()
    })
    .await
    .unwrap();
    let sidecar = Sidecar::connect(&SidecarOptions {
        endpoint: standin.endpoint(),
        api_token: None,
        wait: Duration::from_secs(10),
    })
    .await
    .unwrap();
    StandInConversations {
        store: DaprConversations::new(sidecar, STORE),
        standin,
    }
}

impl ConversationStore for StandInConversations {
    async fn get_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredDoc>, StoreError> {
        self.store.get_conversation(user, id, now).await
    }

    async fn put_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        doc: &Value,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<PutOutcome, StoreError> {
        self.store
            .put_conversation(user, id, doc, if_match, now)
            .await
    }

    async fn delete_conversation(
        &self,
        user: &UserId,
        id: &ConversationId,
        if_match: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<DeleteOutcome, StoreError> {
        self.store
            .delete_conversation(user, id, if_match, now)
            .await
    }

    async fn list_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<(ConversationId, DateTime<Utc>)>, StoreError> {
        self.store.list_conversations(user, now).await
    }

    async fn count_conversations(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.store.count_conversations(user, now).await
    }
}

/// The suite: every case of `todo_core::conversation_store_conformance_tests!`, each test named
/// `dapr_standin_conformance::<case>`.
mod dapr_standin_conformance {
    use super::{fresh_standin_store, run};

    todo_core::conversation_store_conformance_tests!(fresh_standin_store(), run);
}

/// What the suite cannot see: the Dapr keys themselves.
mod dapr_standin_keys {
    use super::{STORE, fresh_standin_store, run};
    use chrono::{Duration, TimeZone as _, Utc};
    use serde_json::{Value, json};
    use todo_core::ids::{ConversationId, UserId};
    use todo_core::ports::{CONVERSATION_RETENTION, ConversationStore, DeleteOutcome};

    fn user(s: &str) -> UserId {
        UserId::parse(s).unwrap()
    }

    fn conv(s: &str) -> ConversationId {
        ConversationId::parse(s).unwrap()
    }

    /// The user's index as stored: `{"<id>": "<updated_at>"}`.
    fn index(standin: &dapr_standin::StandIn, key: &str) -> Option<Value> {
        standin
            .state(STORE, key)
            .map(|(data, _)| serde_json::from_slice(&data).unwrap())
    }

    /// A conversation whose retention ran out (by the app's clock, which Dapr's TTL does not
    /// follow) is deleted from the state store by the next write of the user, document and
    /// index entry together; a live one is left alone.
    #[test]
    fn dapr_standin_expired_documents_are_deleted_on_the_next_write() {
        run(async {
            let s = fresh_standin_store().await;
            let (a, b) = (user("alice"), user("bob"));
            let t0 = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
            let later = t0 + CONVERSATION_RETENTION + Duration::seconds(1);
            for (u, id, at) in [
                (&a, "old", t0),
                (&a, "kept", t0 + Duration::days(1)),
                (&b, "old", t0),
            ] {
                s.put_conversation(u, &conv(id), &json!({}), None, at)
                    .await
                    .unwrap();
            }
            assert!(s.standin.state(STORE, "conversation/alice/old").is_some());

            s.put_conversation(&a, &conv("new"), &json!({}), None, later)
                .await
                .unwrap();
            assert_eq!(s.standin.state(STORE, "conversation/alice/old"), None);
            assert!(s.standin.state(STORE, "conversation/alice/kept").is_some());
            let ids: Vec<String> = index(&s.standin, "conversations/alice")
                .unwrap()
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            assert_eq!(ids, ["kept", "new"]);
            // Another user's documents are not touched by alice's writes.
            assert!(s.standin.state(STORE, "conversation/bob/old").is_some());

            // A delete prunes too.
            let much_later = t0 + Duration::days(1) + CONVERSATION_RETENTION + Duration::seconds(1);
            assert_eq!(
                s.delete_conversation(&a, &conv("new"), None, much_later)
                    .await
                    .unwrap(),
                DeleteOutcome::Deleted
            );
            assert_eq!(s.standin.state(STORE, "conversation/alice/kept"), None);
            assert_eq!(s.standin.state(STORE, "conversation/alice/new"), None);
            assert_eq!(index(&s.standin, "conversations/alice"), Some(json!({})));
        });
    }

    /// One write deletes a bounded number of expired documents (a state store limits the
    /// operations of a transaction): the others stay named in the index, hidden from reads,
    /// and go with the next writes; no document is ever left without its index entry.
    #[test]
    fn dapr_standin_many_expired_documents_go_over_several_writes() {
        run(async {
            let s = fresh_standin_store().await;
            let a = user("alice");
            let t0 = Utc.with_ymd_and_hms(2030, 1, 1, 9, 0, 0).unwrap();
            let later = t0 + CONVERSATION_RETENTION + Duration::seconds(1);
            let old: Vec<String> = (0..40).map(|n| format!("old-{n:02}")).collect();
            for id in &old {
                s.put_conversation(&a, &conv(id), &json!({}), None, t0)
                    .await
                    .unwrap();
            }
            let stored = |id: &str| {
                s.standin
                    .state(STORE, &format!("conversation/alice/{id}"))
                    .is_some()
            };
            let mut left = old.len();
            for n in 0..4 {
                s.put_conversation(&a, &conv("new"), &json!({ "n": n }), None, later)
                    .await
                    .unwrap();
                let index = index(&s.standin, "conversations/alice").unwrap();
                let named: Vec<&String> = old.iter().filter(|id| index.get(id).is_some()).collect();
                let kept: Vec<&String> = old.iter().filter(|id| stored(id)).collect();
                assert_eq!(named, kept, "the index names exactly the documents kept");
                assert!(
                    kept.len() < left || kept.is_empty(),
                    "write {n} pruned nothing"
                );
                left = kept.len();
                if n == 0 {
                    assert!(left > 0, "one write deletes a bounded number of documents");
                }
                assert_eq!(s.count_conversations(&a, later).await.unwrap(), 1);
            }
            assert_eq!(left, 0);
            assert!(stored("new"));
        });
    }
}
