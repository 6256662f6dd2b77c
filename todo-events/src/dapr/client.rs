//! The connection to the sidecar, shared by every building block.

use std::time::Duration;

use dapr::client::ApiTokenInterceptor;
use dapr::dapr::proto::runtime::v1::dapr_client::DaprClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use super::error::DaprError;

/// The generated gRPC client, with the `dapr-api-token` of the configuration on every call.
pub(crate) type Raw = DaprClient<InterceptedService<Channel, ApiTokenInterceptor>>;

/// Where the sidecar is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidecarOptions {
    /// The gRPC endpoint, e.g. `http://127.0.0.1:50001`.
    pub endpoint: String,
    /// Sent as `dapr-api-token` when the sidecar requires one.
    pub api_token: Option<String>,
    /// How long [`Sidecar::connect`] waits for the sidecar to answer.
    pub wait: Duration,
}

/// A connection to the Dapr sidecar (cheap to clone: one HTTP/2 channel).
#[derive(Clone)]
pub struct Sidecar {
    raw: Raw,
    endpoint: String,
}

impl std::fmt::Debug for Sidecar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sidecar")
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Sidecar {
    /// Connects and waits until the sidecar answers (`GetMetadata`), trying again every 250 ms
    /// for up to `opts.wait`: the sidecar may start after the app.
    ///
    /// # Errors
    /// The endpoint is malformed, or the sidecar did not answer in time.
    pub async fn connect(opts: &SidecarOptions) -> Result<Self, DaprError> {
        let connect_err = |reason: String| DaprError::Connect {
            endpoint: opts.endpoint.clone(),
            reason,
        };
        let interceptor = ApiTokenInterceptor::try_new(opts.api_token.clone())
            .map_err(|e| connect_err(format!("DAPR_API_TOKEN: {e}")))?;
        // Lazy: the channel connects (and reconnects after a sidecar restart) on use.
        let channel = Endpoint::from_shared(opts.endpoint.clone())
            .map_err(|e| connect_err(e.to_string()))?
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .connect_lazy();
        let sidecar = Sidecar {
            raw: DaprClient::with_interceptor(channel, interceptor),
            endpoint: opts.endpoint.clone(),
        };
        let deadline = tokio::time::Instant::now() + opts.wait;
        loop {
            match sidecar.app_id().await {
                Ok(_) => return Ok(sidecar),
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    return Err(connect_err(e.to_string()));
                }
                Err(e) => {
                    tracing::info!(endpoint = %opts.endpoint, error = %e, "waiting for the Dapr sidecar");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }

    /// The app id the sidecar serves (its metadata): also the readiness check.
    ///
    /// # Errors
    /// The sidecar does not answer.
    pub async fn app_id(&self) -> Result<String, DaprError> {
        let meta = self
            .raw()
            .get_metadata(dapr::dapr::proto::runtime::v1::GetMetadataRequest {})
            .await
            .map_err(|s| DaprError::call("GetMetadata", &s))?;
        Ok(meta.into_inner().id)
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A handle for one call (clones share the channel).
    pub(crate) fn raw(&self) -> Raw {
        self.raw.clone()
    }
}
