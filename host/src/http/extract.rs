//! Extractors that turn a request into checked inputs, answering kefu's own error body
//! when they cannot: JSON bodies, query strings, path ids, and the caller's identity.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::error::Error;
use crate::directory::{FieldErrors, Role};
use crate::sessions::Visibility;
use crate::state::AppState;
use crate::store::auth_sessions::{self, Origin};
use crate::store::{TenantId, agents};

/// A JSON body. Malformed JSON is a 400 `invalid_json`; well-formed JSON of the wrong
/// shape is a 422 naming the offending field; a body over the limit is a 413.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json"
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(Error::UnsupportedMediaType);
        }
        let limit = body_limit(&req);
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge(limit)
            } else {
                Error::bad_request("invalid_body", rejection.body_text())
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

/// The configured limit, for the message of a 413.
fn body_limit(req: &Request) -> usize {
    req.extensions()
        .get::<BodyLimit>()
        .map(|l| l.0)
        .unwrap_or(0)
}

/// The body limit in force, put in request extensions by the router.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes).map_err(|inner| {
        Error::bad_request(
            "invalid_json",
            format!("the body is not valid JSON: {inner}"),
        )
    })?;
    whole_numbers(&mut value);
    serde_path_to_error::deserialize::<_, T>(value).map_err(|err| {
        let path = err.path().to_string();
        let field = if path == "." { "body".to_owned() } else { path };
        Error::Validation(FieldErrors::single(
            field,
            strip_position(&err.into_inner().to_string()),
        ))
    })
}

/// JSON has one kind of number, and to JSON Schema (so to the OpenAPI document) `5.0` is
/// the integer 5: a client whose language writes whole numbers that way must not be
/// refused where an integer is expected. The parser's depth limit bounds the recursion.
fn whole_numbers(value: &mut serde_json::Value) {
    use serde_json::{Number, Value};
    // Beyond 2^53 a float no longer names one integer.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    match value {
        Value::Number(n) if n.is_f64() => {
            if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT) {
                // Exact: `f` is whole and within ±2^53.
                *n = if f < 0.0 {
                    Number::from(f as i64)
                } else {
                    Number::from(f as u64)
                };
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(members) => members.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// serde's messages end with " at line 1 column 42", which says nothing to a client
/// that gets the field name alongside.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// A query string; an unknown or malformed parameter is a 422 naming it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|err| {
                let path = err.path().to_string();
                let field = if path == "." {
                    "query".to_owned()
                } else {
                    path
                };
                Error::Validation(FieldErrors::single(field, err.into_inner().to_string()))
            })
    }
}

/// A resource id in the path. Anything that is not a UUID cannot name a resource, so
/// it is a 404 like any other unknown id.
#[derive(Debug, Clone, Copy)]
pub struct Id(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| Error::NotFound("resource"))?;
        Uuid::parse_str(&raw)
            .map(Id)
            .map_err(|_| Error::NotFound("resource"))
    }
}

/// The signed-in caller: a verified access token whose sign-in session is live and
/// whose agent is active.
#[derive(Debug, Clone, Copy)]
pub struct Auth {
    pub agent_id: Uuid,
    pub tenant: TenantId,
    /// The role as stored now, not as it was when the token was issued.
    pub role: Role,
    pub session_id: Uuid,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        if let Some(auth) = parts.extensions.get::<Auth>() {
            return Ok(*auth);
        }
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            Error::unauthorized(
                "missing_token",
                "an access token is required (Authorization: Bearer …)",
            )
        })?;
        let token = header
            .to_str()
            .ok()
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 4096)
            .ok_or_else(|| {
                Error::unauthorized(
                    "invalid_token",
                    "the Authorization header must be `Bearer <token>`",
                )
            })?;
        let claims = state.auth.keys().verify(token)?;
        let tenant = TenantId(claims.tenant);
        let live = auth_sessions::live(&state.db, tenant, claims.sid, claims.sub)
            .await?
            .ok_or_else(|| {
                Error::unauthorized("token_revoked", "this sign-in has ended; log in again")
            })?;
        let auth = Auth {
            agent_id: claims.sub,
            tenant,
            role: live.role,
            session_id: claims.sid,
        };
        parts.extensions.insert(auth);
        Ok(auth)
    }
}

impl Auth {
    /// Which sessions, agents and queues the caller may read (`sessions::visibility`).
    pub async fn visibility(&self, state: &AppState) -> Result<Visibility, Error> {
        let groups = match self.role {
            Role::Admin => Vec::new(),
            Role::Supervisor | Role::Agent => {
                agents::groups_of(&state.db, self.tenant, self.agent_id).await?
            }
        };
        Ok(Visibility::of(self.role, self.agent_id, groups))
    }
}

/// A signed-in admin; anyone else gets 403.
#[derive(Debug, Clone, Copy)]
pub struct Admin(pub Auth);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let auth = Auth::from_request_parts(parts, state).await?;
        if !auth.role.includes(Role::Admin) {
            return Err(Error::Forbidden);
        }
        Ok(Admin(auth))
    }
}

/// A signed-in supervisor or admin; an agent gets 403. What a supervisor then sees is
/// limited to their groups by [`Auth::visibility`].
#[derive(Debug, Clone, Copy)]
pub struct Supervisor(pub Auth);

impl FromRequestParts<AppState> for Supervisor {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let auth = Auth::from_request_parts(parts, state).await?;
        if !auth.role.includes(Role::Supervisor) {
            return Err(Error::Forbidden);
        }
        Ok(Supervisor(auth))
    }
}

/// Where a request comes from: the peer address (or `X-Forwarded-For` behind a
/// trusted proxy) and the user agent.
#[derive(Debug, Clone, Default)]
pub struct ClientOrigin(pub Origin);

impl FromRequestParts<AppState> for ClientOrigin {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let forwarded = if state.config.http.trust_forwarded_for {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        } else {
            None
        };
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(ClientOrigin(Origin {
            client_ip: forwarded.or(peer),
            user_agent,
        }))
    }
}
