//! `/api/v1/auth`: log in, refresh, log out, and `/api/v1/me`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, NotFoundAs, Result};
use super::extract::{Auth, ClientOrigin, Json};
use crate::auth::TokenPair;
use crate::directory::Agent;
use crate::state::AppState;
use crate::store::agents;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The tenant's slug (the instance the agent signs in to).
    pub tenant: String,
    pub email: String,
    pub password: String,
}

/// Signs in and returns an access token and a refresh token.
///
/// Repeated failures for one account or from one address are slowed down: past the
/// threshold the answer is 429 with `Retry-After`.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 422, body = ErrorBody),
        (status = 429, description = "`too_many_attempts`, with `Retry-After`", body = ErrorBody),
        (status = 503, description = "`server_busy`: too many password checks at once; retry after `Retry-After`", body = ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientOrigin(origin): ClientOrigin,
    Json(req): Json<LoginRequest>,
) -> Result<axum::Json<TokenPair>> {
    let pair = state
        .auth
        .login(&req.tenant, &req.email, &req.password, origin)
        .await?;
    Ok(axum::Json(pair))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// Exchanges a refresh token for a new pair. Each refresh token works once; presenting
/// a spent one revokes its whole sign-in session.
#[utoipa::path(
    post,
    path = "/api/v1/auth/refresh",
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenPair),
        (status = 401, description = "`invalid_refresh_token` or `refresh_token_reused`", body = ErrorBody),
    )
)]
async fn refresh(
    State(state): State<AppState>,
    Json(req): Json<RefreshRequest>,
) -> Result<axum::Json<TokenPair>> {
    Ok(axum::Json(state.auth.refresh(&req.refresh_token).await?))
}

/// Ends the caller's sign-in session: its access and refresh tokens stop working.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody))
)]
async fn logout(State(state): State<AppState>, auth: Auth) -> Result<StatusCode> {
    state.auth.logout(auth.tenant, auth.session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in agent's own record.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = Agent), (status = 401, body = ErrorBody))
)]
async fn me(State(state): State<AppState>, auth: Auth) -> Result<axum::Json<Agent>> {
    let agent = agents::get(&state.db, auth.tenant, auth.agent_id)
        .await
        .or_not_found("agent")?;
    Ok(axum::Json(agent))
}
