//! `/api/v1/channels`: admins manage the customer-service virtual accounts end users
//! write to, each bound to a flow and to its IM app.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{Error, ErrorBody, NotFoundAs, Result};
use super::extract::{Admin, Id, Json, Query};
use crate::auth::service::random_secret;
use crate::directory::{
    ChannelPatch, ChannelSecrets, ChannelView, FieldErrors, NewChannel, Page, PageRequest,
};
use crate::state::AppState;
use crate::store::channels;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_channels, create_channel))
        .routes(routes!(get_channel, update_channel, delete_channel))
        .routes(routes!(rotate_channel_secrets))
}

/// A channel with its secrets, as answered once when they are made.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelWithSecrets {
    #[serde(flatten)]
    pub channel: ChannelView,
    #[serde(flatten)]
    pub secrets: ChannelSecrets,
}

fn generated() -> Result<String> {
    random_secret(24).map_err(Error::Internal)
}

/// Lists the tenant's channels by name.
#[utoipa::path(
    get,
    path = "/api/v1/channels",
    tag = "channels",
    security(("bearer" = ["admin"])),
    params(PageRequest),
    responses((status = 200, body = Page<ChannelView>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn list_channels(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Query(page): Query<PageRequest>,
) -> Result<axum::Json<Page<ChannelView>>> {
    let mut errors = FieldErrors::new();
    page.validate(&mut errors);
    errors.into_result()?;
    let page = channels::list(&state.db, auth.tenant, page).await?;
    Ok(axum::Json(page.map(|c| c.view())))
}

/// Creates a channel. A secret key or callback token left out is generated; they and
/// the web chat identity key are answered in full this once (later only their last
/// characters are shown). The tenant's first channel of an IM app claims the app for
/// the tenant; an app another tenant owns is refused with `im_app_taken`.
#[utoipa::path(
    post,
    path = "/api/v1/channels",
    tag = "channels",
    security(("bearer" = ["admin"])),
    request_body = NewChannel,
    responses(
        (status = 201, body = ChannelWithSecrets),
        (status = 403, body = ErrorBody),
        (status = 409, description = "`channel_name_taken`, `channel_account_taken`, `im_app_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn create_channel(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Json(mut new): Json<NewChannel>,
) -> Result<(StatusCode, axum::Json<ChannelWithSecrets>)> {
    new.validate()?;
    let secrets = ChannelSecrets {
        secret_key: match &new.secret_key {
            Some(k) => k.clone(),
            None => generated()?,
        },
        callback_token: match &new.callback_token {
            Some(t) => t.clone(),
            None => generated()?,
        },
        webchat_identity_secret: generated()?,
    };
    let channel = channels::create(&state.db, auth.tenant, &new, &secrets).await?;
    state.channels_changed();
    tracing::info!(channel_id = %channel.id, by = %auth.agent_id, "channel created");
    Ok((
        StatusCode::CREATED,
        axum::Json(ChannelWithSecrets {
            channel: channel.view(),
            secrets: channel.secrets(),
        }),
    ))
}

/// One channel.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{id}",
    tag = "channels",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Channel id")),
    responses((status = 200, body = ChannelView), (status = 404, body = ErrorBody))
)]
async fn get_channel(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<axum::Json<ChannelView>> {
    Ok(axum::Json(
        channels::get(&state.db, auth.tenant, id)
            .await
            .or_not_found("channel")?
            .view(),
    ))
}

/// Changes a channel: its flow (new sessions start on its live revision; running
/// ones keep theirs), IM settings, egress, web chat, idle time.
#[utoipa::path(
    patch,
    path = "/api/v1/channels/{id}",
    tag = "channels",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Channel id")),
    request_body = ChannelPatch,
    responses(
        (status = 200, body = ChannelView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`channel_name_taken`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn update_channel(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(mut patch): Json<ChannelPatch>,
) -> Result<axum::Json<ChannelView>> {
    patch.validate()?;
    let channel = channels::update(&state.db, auth.tenant, id, &patch)
        .await
        .or_not_found("channel")?;
    state.channels_changed();
    Ok(axum::Json(channel.view()))
}

/// Makes a new secret key, callback token and web chat identity key for a channel and
/// answers them once.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{id}/rotate-secrets",
    tag = "channels",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Channel id")),
    responses((status = 200, body = ChannelWithSecrets), (status = 404, body = ErrorBody))
)]
async fn rotate_channel_secrets(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<axum::Json<ChannelWithSecrets>> {
    let patch = ChannelPatch {
        secret_key: Some(generated()?),
        callback_token: Some(generated()?),
        webchat_identity_secret: Some(generated()?),
        ..ChannelPatch::default()
    };
    let channel = channels::update(&state.db, auth.tenant, id, &patch)
        .await
        .or_not_found("channel")?;
    state.channels_changed();
    tracing::info!(channel_id = %channel.id, by = %auth.agent_id, "channel secrets rotated");
    Ok(axum::Json(ChannelWithSecrets {
        channel: channel.view(),
        secrets: channel.secrets(),
    }))
}

/// Deletes a channel with its sessions and transcripts.
#[utoipa::path(
    delete,
    path = "/api/v1/channels/{id}",
    tag = "channels",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Channel id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = ErrorBody))
)]
async fn delete_channel(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<StatusCode> {
    channels::delete(&state.db, auth.tenant, id)
        .await
        .or_not_found("channel")?;
    state.channels_changed();
    tracing::info!(channel_id = %id, by = %auth.agent_id, "channel deleted");
    Ok(StatusCode::NO_CONTENT)
}
