//! Secrets: read-only stores where a secret name holds several keys (like Kubernetes secrets).

use std::collections::BTreeMap;
use std::sync::Arc;

use dapr::dapr::proto::runtime::v1::{
    GetBulkSecretRequest, GetBulkSecretResponse, GetSecretRequest, GetSecretResponse,
    SecretResponse,
};
use tonic::{Request, Response, Status};

use crate::inner::Inner;

fn store<'a>(
    inner: &'a Inner,
    name: &str,
) -> Result<&'a BTreeMap<String, BTreeMap<String, String>>, Status> {
    inner
        .opts
        .secret_stores
        .get(name)
        .ok_or_else(|| Status::invalid_argument(format!("secret store {name} is not found")))
}

/// `GetSecret`: the key/value map of one secret.
pub(crate) async fn get_secret(
    inner: &Arc<Inner>,
    request: Request<GetSecretRequest>,
) -> Result<Response<GetSecretResponse>, Status> {
    let req = request.into_inner();
    let secret = store(inner, &req.store_name)?
        .get(&req.key)
        .ok_or_else(|| Status::not_found(format!("secret {} not found", req.key)))?;
    Ok(Response::new(GetSecretResponse {
        data: secret.clone().into_iter().collect(),
    }))
}

/// `GetBulkSecret`: every secret of the store.
pub(crate) async fn get_bulk_secret(
    inner: &Arc<Inner>,
    request: Request<GetBulkSecretRequest>,
) -> Result<Response<GetBulkSecretResponse>, Status> {
    let req = request.into_inner();
    let data = store(inner, &req.store_name)?
        .iter()
        .map(|(name, secret)| {
            (
                name.clone(),
                SecretResponse {
                    secrets: secret.clone().into_iter().collect(),
                },
            )
        })
        .collect();
    Ok(Response::new(GetBulkSecretResponse { data }))
}
