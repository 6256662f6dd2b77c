//! The web page at `/`: static files from `web/static/` embedded in the binary (the page, its
//! script and style, and the WebAssembly modules built by `scripts/build-wasm.sh`, committed under
//! `web/static/pkg/` so that building the server never needs the wasm toolchain).
//!
//! Also, for the embedded default only, [`dev_token_router`]: `POST /dev/token?user_id=...` gives
//! a token to a caller on the loopback interface, for the page's "Get a dev token" button. The
//! host merges it only when asked to (`TODO_DEV_TOKEN=on`), which the configuration allows only
//! when it generated the JWT secret itself on a loopback address (a local, single-machine setup);
//! proxied requests (`Forwarded`, `X-Forwarded-*`, `X-Real-IP`, `Via`) get 403.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, Query};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;
use todo_core::UserId;

use super::error::ErrorCode;
use super::{ApiError, issue_token};

macro_rules! static_file {
    ($path:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../web/static/",
            $path
        ))
    };
}

/// The served files: URL path below `/app/`, media type, content.
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        static_file!("app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        static_file!("style.css"),
    ),
    (
        "pkg/todo_wasm_query.js",
        "text/javascript; charset=utf-8",
        static_file!("pkg/todo_wasm_query.js"),
    ),
    (
        "pkg/todo_wasm_query_bg.wasm",
        "application/wasm",
        static_file!("pkg/todo_wasm_query_bg.wasm"),
    ),
    (
        "pkg/todo_wasm.js",
        "text/javascript; charset=utf-8",
        static_file!("pkg/todo_wasm.js"),
    ),
    (
        "pkg/todo_wasm_bg.wasm",
        "application/wasm",
        static_file!("pkg/todo_wasm_bg.wasm"),
    ),
];

const INDEX: &[u8] = static_file!("index.html");

/// Scripts only from this origin (and WebAssembly compiled from them), no inline script, no
/// framing: a token pasted into the page cannot be read by anything it did not serve.
const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
    connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn respond(media_type: &'static str, body: &'static [u8]) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    // The files change with the binary: revalidate instead of caching stale modules.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    res
}

/// `GET /`: the page.
pub async fn index() -> Response {
    let mut res = respond("text/html; charset=utf-8", INDEX);
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// `GET /app/{*file}`: the page's script, style and WebAssembly modules.
pub async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == file) {
        Some((_, media_type, body)) => respond(media_type, body),
        None => ApiError::not_found(format!("no file {file:?} in the page")).into_response(),
    }
}

/// How long a dev token is valid.
const DEV_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

#[derive(Deserialize)]
struct DevTokenQuery {
    user_id: Option<String>,
}

/// `POST /dev/token?user_id=<id>`: a 24-hour token for that user, to a caller on the loopback
/// interface; anyone else gets 403. Merge it into the app only when the server generated its
/// own JWT secret (the embedded default), never with a configured secret: it would let any
/// local process sign in as any user. Generic over the router's state so that it can be merged
/// into [`super::routes`] before [`super::finish`] (error format, request id, metrics).
pub fn dev_token_router<S: Clone + Send + Sync + 'static>(secret: Vec<u8>) -> Router<S> {
    Router::new().route(
        "/dev/token",
        post(
            move |peer: Option<Extension<ConnectInfo<SocketAddr>>>,
                  headers: axum::http::HeaderMap,
                  Query(q): Query<DevTokenQuery>| {
                let secret = secret.clone();
                async move { dev_token(&secret, peer, &headers, q) }
            },
        ),
    )
}

/// Whether the request names this machine in `Host` (a page of another site whose name was made
/// to resolve to 127.0.0.1, DNS rebinding, names its own host and gets nothing).
fn local_host(headers: &axum::http::HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

/// Whether a proxy forwarded the request: a reverse proxy on this machine connects from
/// loopback and may pass the client's `Host` on, but says so in one of these headers.
fn proxied(headers: &axum::http::HeaderMap) -> bool {
    [
        "forwarded",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-real-ip",
        "via",
    ]
    .iter()
    .any(|h| headers.contains_key(*h))
}

fn dev_token(
    secret: &[u8],
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &axum::http::HeaderMap,
    q: DevTokenQuery,
) -> Result<Response, ApiError> {
    let local = peer.is_some_and(|Extension(ConnectInfo(addr))| addr.ip().is_loopback())
        && local_host(headers)
        && !proxied(headers);
    if !local {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden,
            "dev tokens are given only to callers on this machine",
        ));
    }
    let user = UserId::parse(q.user_id.as_deref().unwrap_or_default()).map_err(|e| {
        ApiError::validation(
            StatusCode::BAD_REQUEST,
            &todo_core::ValidationErrors::from(e),
        )
    })?;
    // The detail goes to the log; the answer says no more than any other internal error.
    let token = issue_token(secret, &user, DEV_TOKEN_TTL).map_err(|e| {
        tracing::error!(error = %e, "dev token: the token cannot be signed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "internal error",
        )
    })?;
    let mut res = Json(json!({
        "user_id": user.as_str(),
        "token": token,
        "expires_in": DEV_TOKEN_TTL.as_secs(),
    }))
    .into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::http::AuthConfig;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    async fn body(res: Response) -> Vec<u8> {
        res.into_body().collect().await.unwrap().to_bytes().to_vec()
    }

    #[tokio::test]
    async fn serves_the_page_and_its_modules() {
        let res = index().await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            res.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("'wasm-unsafe-eval'")
        );
        assert!(
            String::from_utf8(body(res).await)
                .unwrap()
                .contains("app/app.js")
        );
        let wasm = asset(axum::extract::Path("pkg/todo_wasm_query_bg.wasm".into())).await;
        assert_eq!(wasm.headers()[header::CONTENT_TYPE], "application/wasm");
        assert_eq!(&body(wasm).await[..4], b"\0asm");
        let missing = asset(axum::extract::Path("../Cargo.toml".into())).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    fn dev_request(peer: Option<&str>, user: &str) -> Request<Body> {
        dev_request_to("127.0.0.1:8080", peer, user)
    }

    fn dev_request_to(host: &str, peer: Option<&str>, user: &str) -> Request<Body> {
        let mut req = Request::post(format!("/dev/token?user_id={user}"))
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap();
        if let Some(p) = peer {
            req.extensions_mut()
                .insert(ConnectInfo(p.parse::<SocketAddr>().unwrap()));
        }
        req
    }

    #[tokio::test]
    async fn dev_tokens_only_for_local_callers() {
        let app: Router = dev_token_router(SECRET.to_vec());
        let res = app
            .clone()
            .oneshot(dev_request(Some("127.0.0.1:5000"), "alice"))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let v: serde_json::Value = serde_json::from_slice(&body(res).await).unwrap();
        let user = AuthConfig::new(SECRET)
            .verify(v["token"].as_str().unwrap())
            .unwrap();
        assert_eq!(user.as_str(), "alice");
        for peer in [Some("10.1.2.3:5000"), None] {
            let res = app
                .clone()
                .oneshot(dev_request(peer, "alice"))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
        }
        // A loopback caller through another site's name (DNS rebinding) gets nothing.
        for host in [
            "evil.example:8080",
            "evil.example",
            "localhost.evil.example:8080",
        ] {
            let res = app
                .clone()
                .oneshot(dev_request_to(host, Some("127.0.0.1:5000"), "alice"))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{host}");
        }
        for host in ["localhost:8080", "[::1]:8080", "127.0.0.1"] {
            let res = app
                .clone()
                .oneshot(dev_request_to(host, Some("127.0.0.1:5000"), "alice"))
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{host}");
        }
        // A proxy on this machine connects from loopback and passes the client's Host on, but
        // names itself or the client: nothing for it.
        for (name, value) in [
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=203.0.113.9"),
            ("x-real-ip", "203.0.113.9"),
            ("via", "1.1 nginx"),
            ("x-forwarded-host", "localhost"),
        ] {
            let mut req = dev_request(Some("127.0.0.1:5000"), "alice");
            req.headers_mut()
                .insert(name, HeaderValue::from_static(value));
            let res = app.clone().oneshot(req).await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{name}");
        }
        let res = app
            .oneshot(dev_request(Some("[::1]:5000"), ""))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    }
}
