//! Service invocation: `InvokeService` to this app, forwarded over HTTP like daprd does.

use std::sync::Arc;

use dapr::dapr::proto::common::v1::{InvokeResponse, http_extension::Verb};
use dapr::dapr::proto::runtime::v1::InvokeServiceRequest;
use http::{HeaderMap, HeaderValue, Method, header};
use tonic::{Code, Request, Response, Status};

use crate::app_client;
use crate::inner::Inner;
use crate::records::Invocation;

/// The gRPC metadata daprd does not pass on to the app as HTTP headers.
fn forwarded(name: &str) -> bool {
    !(name.starts_with(':')
        || name.starts_with("grpc-")
        || matches!(
            name,
            "content-type"
                | "te"
                | "user-agent"
                | "host"
                | "content-length"
                | "connection"
                | "dapr-api-token"
        ))
}

/// The gRPC code for an app's HTTP status (as daprd maps it).
fn code_for(status: u16) -> Code {
    match status {
        400 => Code::InvalidArgument,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::NotFound,
        408 | 504 => Code::DeadlineExceeded,
        409 => Code::Aborted,
        412 => Code::FailedPrecondition,
        416 => Code::OutOfRange,
        429 => Code::ResourceExhausted,
        499 => Code::Cancelled,
        501 => Code::Unimplemented,
        503 => Code::Unavailable,
        500..=599 => Code::Internal,
        _ => Code::Unknown,
    }
}

/// `InvokeService`: `{verb} http://{app}/{method}?{querystring}`, the app's answer back.
pub(crate) async fn invoke_service(
    inner: &Arc<Inner>,
    request: Request<InvokeServiceRequest>,
) -> Result<Response<InvokeResponse>, Status> {
    let (metadata, _, req) = request.into_parts();
    if req.id != inner.opts.app_id {
        return Err(Status::unavailable(format!(
            "failed to invoke, id: {}, err: app id {} not found",
            req.id, req.id
        )));
    }
    let message = req
        .message
        .ok_or_else(|| Status::invalid_argument("invoke request without a message"))?;
    let extension = message.http_extension.unwrap_or_default();
    let verb = match Verb::try_from(extension.verb).unwrap_or(Verb::None) {
        Verb::None => Verb::Post,
        verb => verb,
    };
    let method = Method::from_bytes(verb.as_str_name().as_bytes())
        .map_err(|e| Status::invalid_argument(format!("bad verb: {e}")))?;
    let mut path = format!("/{}", message.method.trim_start_matches('/'));
    if !extension.querystring.is_empty() {
        path.push('?');
        path.push_str(extension.querystring.trim_start_matches('?'));
    }
    let mut headers = HeaderMap::new();
    for (name, value) in &metadata.into_headers() {
        if forwarded(name.as_str()) {
            headers.append(name.clone(), value.clone());
        }
    }
    if !message.content_type.is_empty() {
        let value = HeaderValue::from_str(&message.content_type)
            .map_err(|e| Status::invalid_argument(format!("bad content type: {e}")))?;
        headers.insert(header::CONTENT_TYPE, value);
    }
    let body = message.data.map(|any| any.value).unwrap_or_default();
    let mut record = Invocation {
        method: message.method.clone(),
        verb: verb.as_str_name().to_owned(),
        querystring: extension.querystring.clone(),
        status: 0,
    };
    let app = inner.lock().app;
    let Some(app) = app else {
        inner.lock().invocations.push(record);
        return Err(Status::unavailable(format!(
            "app {} is not attached to the stand-in",
            inner.opts.app_id
        )));
    };
    let response = app_client::request(
        app,
        inner.opts.app_api_token.as_deref(),
        method,
        &path,
        headers,
        body,
    )
    .await;
    let response = match response {
        Ok(response) => response,
        Err(e) => {
            inner.lock().invocations.push(record);
            return Err(Status::unavailable(format!(
                "failed to invoke, id: {}, err: {e}",
                inner.opts.app_id
            )));
        }
    };
    record.status = response.status.as_u16();
    inner.lock().invocations.push(record);
    if !response.status.is_success() {
        return Err(Status::new(
            code_for(response.status.as_u16()),
            format!(
                "received non-successful status code {} from the app: {}",
                response.status.as_u16(),
                String::from_utf8_lossy(&response.body)
            ),
        ));
    }
    let content_type = response
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    Ok(Response::new(InvokeResponse {
        data: Some(prost_types::Any {
            type_url: String::new(),
            value: response.body,
        }),
        content_type,
    }))
}
