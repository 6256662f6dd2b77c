//! How a stand-in is configured: its app id, its components and its retry policies.

use std::collections::BTreeMap;
use std::time::Duration;

/// The stand-in's configuration: what daprd would read from its components and resiliency files.
#[derive(Debug, Clone, PartialEq)]
pub struct StandInOptions {
    /// The app id the stand-in serves (`source` of CloudEvents, the only id `InvokeService` reaches).
    pub app_id: String,
    /// Names of the known pub/sub components.
    pub pubsubs: Vec<String>,
    /// Names of the known state stores.
    pub state_stores: Vec<String>,
    /// Secret stores: store name -> secret name -> key -> value.
    pub secret_stores: BTreeMap<String, BTreeMap<String, BTreeMap<String, String>>>,
    /// Retries of a pub/sub delivery the app did not accept.
    pub delivery_retry: Retry,
    /// Retries of a job callback that failed, unless the job carries its own failure policy.
    pub job_retry: Retry,
    /// daprd's `APP_API_TOKEN`: sent to the app as the `dapr-api-token` header on every call.
    pub app_api_token: Option<String>,
}

impl Default for StandInOptions {
    fn default() -> Self {
        Self {
            app_id: "todo-server".to_owned(),
            pubsubs: vec!["kafka-pubsub".to_owned()],
            state_stores: vec!["conversation-state".to_owned()],
            secret_stores: BTreeMap::new(),
            delivery_retry: Retry::default(),
            // Dapr's default job failure policy is constant 1 s with 3 retries; tests want it faster.
            job_retry: Retry {
                attempts: 4,
                interval: Duration::from_millis(200),
            },
            app_api_token: None,
        }
    }
}

/// A constant retry policy: `attempts` in all (the first one included), `interval` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first one included (0 counts as 1).
    pub attempts: u32,
    /// The pause between two attempts.
    pub interval: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Self {
            attempts: 3,
            interval: Duration::from_millis(50),
        }
    }
}
