//! Secrets from a Dapr secret store.

use std::collections::BTreeMap;

use dapr::dapr::proto::runtime::v1::GetSecretRequest;

use super::client::Sidecar;
use super::error::DaprError;

/// The keys of the secret `name` in the secret store `store` (with the Kubernetes secret store,
/// the data of the Kubernetes Secret of that name).
///
/// # Errors
/// The store or the secret does not exist, or the sidecar does not answer.
pub async fn read_secret(
    sidecar: &Sidecar,
    store: &str,
    name: &str,
) -> Result<BTreeMap<String, String>, DaprError> {
    let answer = sidecar
        .raw()
        .get_secret(GetSecretRequest {
            store_name: store.to_owned(),
            key: name.to_owned(),
            metadata: Default::default(),
        })
        .await
        .map_err(|s| DaprError::call("GetSecret", &s))?;
    Ok(answer.into_inner().data.into_iter().collect())
}
