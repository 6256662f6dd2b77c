//! The HTTP/1.1 client towards the app, one connection per request (as simple as daprd's calls
//! need to be in a test).

use std::net::SocketAddr;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// A call that takes longer than this counts as failed (a hung app must not hang a test forever).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The app's answer.
pub(crate) struct HttpResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// Sends one request to the app at `addr`; `path` includes the query string. `token` (the
/// stand-in's `app_api_token`) goes in the `dapr-api-token` header, as daprd sends it.
pub(crate) async fn request(
    addr: SocketAddr,
    token: Option<&str>,
    method: Method,
    path: &str,
    mut headers: HeaderMap,
    body: Vec<u8>,
) -> Result<HttpResponse, String> {
    if let Some(token) = token {
        let value = HeaderValue::from_str(token).map_err(|e| format!("app_api_token: {e}"))?;
        headers.insert("dapr-api-token", value);
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, send(addr, method, path, headers, body)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer from {addr} within {REQUEST_TIMEOUT:?}")),
    }
}

async fn send(
    addr: SocketAddr,
    method: Method,
    path: &str,
    headers: HeaderMap,
    body: Vec<u8>,
) -> Result<HttpResponse, String> {
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect to {addr}: {e}"))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP handshake with {addr}: {e}"))?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "connection to the app ended");
        }
    });
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("bad request to {path}: {e}"))?;
    request.headers_mut().extend(headers);
    let host = HeaderValue::from_str(&addr.to_string()).map_err(|e| e.to_string())?;
    request.headers_mut().insert(header::HOST, host);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("request to {addr}{path}: {e}"))?;
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map_err(|e| format!("reading the answer of {addr}{path}: {e}"))?
        .to_bytes()
        .to_vec();
    Ok(HttpResponse {
        status: parts.status,
        headers: parts.headers,
        body,
    })
}

/// A header map with just a content type.
pub(crate) fn content_type(value: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers
}
