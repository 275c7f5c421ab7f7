//! The one error type of kefu's JSON API.
//!
//! Every failure answers `{"error": {"code": "...", "message": "...", "fields": {...}}}`
//! with a stable, machine-readable `code` and a human `message`; `fields` appears on
//! validation failures. A 5xx never carries internals: the cause is logged, and the
//! client gets a generic message.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::{AuthError, TokenError};
use crate::directory::FieldErrors;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    #[error("your role does not allow this action")]
    Forbidden,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// A well-formed request the server cannot act on, with its own code.
    #[error("{message}")]
    Unprocessable { code: &'static str, message: String },
    /// A 422 with its own code and per-field messages (e.g. a flow that cannot be
    /// published, keyed by JSON pointer).
    #[error("{message}")]
    InvalidWith {
        code: &'static str,
        message: String,
        fields: FieldErrors,
    },
    #[error("{message}")]
    Status {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    #[error("too many failed attempts; try again later")]
    TooManyRequests(Duration),
    /// The server cannot take this request now; the client may retry (503 with
    /// `Retry-After: 1`).
    #[error("{0}")]
    Unavailable(String),
    #[error("an internal error occurred")]
    Internal(#[from] anyhow::Error),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation_failed`, `email_taken`.
    pub code: String,
    /// A human-readable explanation.
    pub message: String,
    /// Per-field messages, keyed by field path, on validation failures.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub fields: Option<FieldErrors>,
}

impl Error {
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: message.into(),
        }
    }

    pub fn bad_request_status(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::Status {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized { .. } => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Unprocessable { .. } | Self::InvalidWith { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::Status { status, .. } => *status,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized { code, .. }
            | Self::Conflict { code, .. }
            | Self::BadRequest { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::InvalidWith { code, .. }
            | Self::Status { code, .. } => code,
            Self::Forbidden => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::Validation(_) => "validation_failed",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::TooManyRequests(_) => "too_many_attempts",
            Self::Unavailable(_) => "server_busy",
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = ?cause, "request failed");
        }
        let status = self.status();
        let retry_after = match &self {
            Self::TooManyRequests(wait) => Some(wait.as_secs().max(1)),
            Self::Unavailable(_) => Some(1),
            _ => None,
        };
        let code = self.code().to_owned();
        let message = self.to_string();
        let fields = match self {
            Self::Validation(fields) | Self::InvalidWith { fields, .. } => Some(fields),
            _ => None,
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                error: ErrorDetail {
                    code,
                    message,
                    fields,
                },
            }),
        )
            .into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::NotFound("resource"),
            StoreError::Conflict { code, message } => Self::Conflict { code, message },
            StoreError::Invalid(fields) => Self::Validation(fields),
            StoreError::Db(db) => Self::Internal(db.into()),
        }
    }
}

impl From<FieldErrors> for Error {
    fn from(fields: FieldErrors) -> Self {
        Self::Validation(fields)
    }
}

impl From<TokenError> for Error {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Expired => Self::unauthorized("token_expired", e.to_string()),
            TokenError::Invalid => Self::unauthorized("invalid_token", e.to_string()),
        }
    }
}

impl From<AuthError> for Error {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::InvalidCredentials => {
                Self::unauthorized("invalid_credentials", e.to_string())
            }
            AuthError::Throttled(wait) => Self::TooManyRequests(wait),
            AuthError::Busy => Self::Unavailable(e.to_string()),
            AuthError::InvalidRefreshToken => {
                Self::unauthorized("invalid_refresh_token", e.to_string())
            }
            AuthError::RefreshTokenReused => {
                Self::unauthorized("refresh_token_reused", e.to_string())
            }
            AuthError::Store(s) => s.into(),
            AuthError::Internal(i) => Self::Internal(i),
        }
    }
}

/// Maps a store "not found" to a 404 naming the resource.
pub trait NotFoundAs<T> {
    fn or_not_found(self, what: &'static str) -> Result<T, Error>;
}

impl<T> NotFoundAs<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &'static str) -> Result<T, Error> {
        self.map_err(|e| match e {
            StoreError::NotFound => Error::NotFound(what),
            other => other.into(),
        })
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
