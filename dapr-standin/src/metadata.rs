//! Metadata: the app id and the registered components, as `GetMetadata` reports them.

use std::sync::Arc;

use dapr::dapr::proto::runtime::v1::{
    GetMetadataRequest, GetMetadataResponse, RegisteredComponents, SetMetadataRequest,
};
use tonic::{Request, Response, Status};

use crate::inner::Inner;

fn component(name: &str, kind: &str, capabilities: &[&str]) -> RegisteredComponents {
    RegisteredComponents {
        name: name.to_owned(),
        r#type: kind.to_owned(),
        version: "v1".to_owned(),
        capabilities: capabilities.iter().map(|c| (*c).to_owned()).collect(),
    }
}

/// `GetMetadata`: the components are reported with the types this project deploys.
pub(crate) async fn get_metadata(
    inner: &Arc<Inner>,
    request: Request<GetMetadataRequest>,
) -> Result<Response<GetMetadataResponse>, Status> {
    let _ = request;
    let opts = &inner.opts;
    let mut components = Vec::new();
    for name in &opts.pubsubs {
        components.push(component(name, "pubsub.kafka", &[]));
    }
    for name in &opts.state_stores {
        components.push(component(
            name,
            "state.postgresql",
            &["ETAG", "TRANSACTIONAL", "TTL"],
        ));
    }
    for name in opts.secret_stores.keys() {
        components.push(component(name, "secretstores.kubernetes", &[]));
    }
    let shared = inner.lock();
    Ok(Response::new(GetMetadataResponse {
        id: opts.app_id.clone(),
        registered_components: components,
        extended_metadata: shared.extended_metadata.clone().into_iter().collect(),
        subscriptions: crate::pubsub::metadata_subscriptions(&shared),
        runtime_version: "todo-dapr-stand-in".to_owned(),
        ..Default::default()
    }))
}

/// `SetMetadata`: kept as extended metadata.
pub(crate) async fn set_metadata(
    inner: &Arc<Inner>,
    request: Request<SetMetadataRequest>,
) -> Result<Response<()>, Status> {
    let req = request.into_inner();
    inner.lock().extended_metadata.insert(req.key, req.value);
    Ok(Response::new(()))
}
