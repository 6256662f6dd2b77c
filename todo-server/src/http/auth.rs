//! Authentication: HS256 JWTs with `sub` = user id and `exp` enforced, checked against the
//! `{user_id}` of the path.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{FromRequestParts, Path};
use axum::http::header;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use todo_core::ids::UserId;

use super::error::ApiError;
use super::{AppState, AppStore};

/// The largest accepted clock leeway for `exp`, in seconds.
pub const MAX_LEEWAY_SECS: u64 = 30;

/// How tokens are checked: the HS256 secret and the leeway on `exp`.
#[derive(Clone)]
pub struct AuthConfig {
    secret: Vec<u8>,
    leeway_secs: u64,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("secret", &"<redacted>")
            .field("leeway_secs", &self.leeway_secs)
            .finish()
    }
}

impl AuthConfig {
    /// The default leeway on `exp`, in seconds.
    pub const DEFAULT_LEEWAY_SECS: u64 = 5;

    /// A configuration with the given HS256 secret and the default leeway.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        AuthConfig {
            secret: secret.into(),
            leeway_secs: Self::DEFAULT_LEEWAY_SECS,
        }
    }

    /// Sets the leeway on `exp` (at most [`MAX_LEEWAY_SECS`]; larger values are clamped).
    #[must_use]
    pub fn with_leeway_secs(mut self, secs: u64) -> Self {
        self.leeway_secs = secs.min(MAX_LEEWAY_SECS);
        self
    }

    /// The leeway on `exp` in seconds.
    pub fn leeway_secs(&self) -> u64 {
        self.leeway_secs
    }

    /// The user a bearer token names, if it is valid (signature, `exp`, `sub`).
    pub fn verify(&self, token: &str) -> Result<UserId, AuthError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = self.leeway_secs;
        v.validate_exp = true;
        v.set_required_spec_claims(&["exp", "sub"]);
        let data =
            jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&self.secret), &v)
                .map_err(|e| match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                    _ => AuthError::Invalid,
                })?;
        UserId::parse(&data.claims.sub).map_err(|_| AuthError::Invalid)
    }
}

/// The claims of a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user id.
    pub sub: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issued at, seconds since the Unix epoch (optional when verifying).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

/// Why a token was refused, or could not be issued.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Malformed, badly signed, without `sub`/`exp`, or naming an invalid user id.
    #[error("invalid token")]
    Invalid,
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// Signing failed.
    #[error("cannot sign token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
    /// The system clock is before 1970.
    #[error("system clock is before the Unix epoch")]
    Clock,
}

/// Issues an HS256 token for `user`, valid for `ttl` from now (what `todo-server token` prints).
pub fn issue_token(secret: &[u8], user: &UserId, ttl: Duration) -> Result<String, AuthError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_err(|_| AuthError::Clock)?
        .as_secs();
    let claims = Claims {
        sub: user.as_str().to_owned(),
        exp: now.saturating_add(ttl.as_secs()),
        iat: Some(now),
    };
    Ok(jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )?)
}

/// The authenticated user, who is the `{user_id}` of the path. Extracting it answers 401 for a
/// missing/invalid/expired token, 400 for an invalid `{user_id}` and 403 for another user's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthUser(pub UserId);

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token> header"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| ApiError::unauthorized("Authorization must be: Bearer <token>"))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::unauthorized(
            "Authorization must be: Bearer <token>",
        ));
    }
    Ok(token)
}

impl<S: AppStore> FromRequestParts<AppState<S>> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState<S>,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let user = state.auth.verify(token).map_err(|e| match e {
            AuthError::Expired => ApiError::unauthorized("the token has expired"),
            _ => ApiError::unauthorized("the token is invalid"),
        })?;
        let params = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(super::extract::path_rejection)?;
        let raw = params
            .get("user_id")
            .ok_or_else(|| ApiError::not_found("no such route"))?;
        let path_user = UserId::parse(raw)
            .map_err(|e| ApiError::validation(axum::http::StatusCode::BAD_REQUEST, &e.into()))?;
        if path_user != user {
            return Err(ApiError::forbidden());
        }
        Ok(AuthUser(user))
    }
}
