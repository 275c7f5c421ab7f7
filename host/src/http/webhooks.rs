//! `/api/v1/webhooks`: a tenant's webhook endpoints (admins only): create, read,
//! change, delete, rotate the signing secret with an overlap, send a test ping, list
//! the recent deliveries of an endpoint and deliver one again. Delivery itself is
//! `webhooks::worker`'s.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{Error, ErrorBody, NotFoundAs, Result};
use super::extract::{Admin, Id, Json, Query};
use crate::directory::FieldErrors;
use crate::outbound;
use crate::state::AppState;
use crate::store::webhooks::{self as store, EndpointChange, NewEndpoint};
use crate::webhooks::sign::new_secret;
use crate::webhooks::{Delivery, Endpoint, EventType, events};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(get_endpoint, update_endpoint, delete_endpoint))
        .routes(routes!(rotate_secret))
        .routes(routes!(ping_endpoint))
        .routes(routes!(list_deliveries))
        .routes(routes!(redeliver))
}

/// Longest endpoint URL.
const MAX_URL_BYTES: usize = 2048;
/// Longest description, in characters.
const MAX_DESCRIPTION_CHARS: usize = 200;
/// The longest a rotated-out secret may keep signing: a day.
const MAX_OVERLAP_SECS: u64 = 86_400;

fn check_url(state: &AppState, errors: &mut FieldErrors, url: &str) {
    if url.len() > MAX_URL_BYTES {
        errors.add("url", format!("must be at most {MAX_URL_BYTES} bytes"));
    } else if let Err(e) = outbound::check_url(url, &state.config.outbound) {
        errors.add("url", e.to_string());
    }
}

fn check_types(errors: &mut FieldErrors, types: &[String]) {
    if types.is_empty() || types.len() > EventType::ALL.len() {
        errors.add("event_types", "name 1 or more event types, or [\"*\"]");
        return;
    }
    for t in types {
        if t != "*" && EventType::parse(t).is_none() {
            errors.add("event_types", format!("{t:?} is not an event type"));
        }
    }
}

fn check_description(errors: &mut FieldErrors, text: &str) {
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        errors.add(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    /// Where events are POSTed: http(s), no redirects followed.
    #[schema(min_length = 1, max_length = 2048, format = "uri")]
    pub url: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub description: String,
    /// Event types to send (e.g. `session.ended`), or `["*"]` for all.
    #[schema(min_items = 1, max_items = 13)]
    pub event_types: Vec<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateEndpoint {
    #[schema(min_length = 1, max_length = 2048, format = "uri")]
    pub url: Option<String>,
    #[schema(max_length = 200)]
    pub description: Option<String>,
    #[schema(min_items = 1, max_items = 13)]
    pub event_types: Option<Vec<String>>,
    /// Enabling an endpoint kefu disabled (it answered 410) clears the reason.
    pub enabled: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// How long the current secret keeps signing beside the new one, in seconds
    /// (0 to 86400; default 86400).
    #[schema(minimum = 0, maximum = 86400)]
    pub overlap_secs: Option<u64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Pinged {
    /// The test event's id: its `webhook-id`, and its row in the deliveries.
    pub event_id: Uuid,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `delivered` or `failed`.
    #[param(pattern = "^(pending|delivered|failed)$")]
    pub status: Option<String>,
    /// At most this many, newest first (1–100, default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
}

/// The tenant's endpoints.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    responses((status = 200, body = Vec<Endpoint>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn list_endpoints(
    State(state): State<AppState>,
    Admin(auth): Admin,
) -> Result<axum::Json<Vec<Endpoint>>> {
    let list = store::list(&state.db, auth.tenant).await?;
    Ok(axum::Json(list.iter().map(|e| e.view(false)).collect()))
}

/// Registers an endpoint; the answer holds its signing secret, shown only this once.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    request_body = CreateEndpoint,
    responses((status = 201, body = Endpoint), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn create_endpoint(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Json(body): Json<CreateEndpoint>,
) -> Result<(StatusCode, axum::Json<Endpoint>)> {
    let mut errors = FieldErrors::new();
    check_url(&state, &mut errors, &body.url);
    check_types(&mut errors, &body.event_types);
    check_description(&mut errors, &body.description);
    errors.into_result()?;
    let secret = new_secret().map_err(|e| Error::Internal(anyhow::anyhow!(e)))?;
    let created = store::create(
        &state.db,
        auth.tenant,
        NewEndpoint {
            url: body.url,
            description: body.description,
            event_types: body.event_types,
            enabled: body.enabled,
            secret,
        },
        state.config.webhooks.max_endpoints_per_tenant,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(created.view(true))))
}

/// One endpoint (its secret masked).
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, body = Endpoint), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn get_endpoint(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<axum::Json<Endpoint>> {
    let e = store::get(&state.db, auth.tenant, id)
        .await
        .or_not_found("webhook endpoint")?;
    Ok(axum::Json(e.view(false)))
}

/// Changes an endpoint.
#[utoipa::path(
    patch,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    request_body = UpdateEndpoint,
    responses((status = 200, body = Endpoint), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn update_endpoint(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(body): Json<UpdateEndpoint>,
) -> Result<axum::Json<Endpoint>> {
    let mut errors = FieldErrors::new();
    if let Some(url) = &body.url {
        check_url(&state, &mut errors, url);
    }
    if let Some(types) = &body.event_types {
        check_types(&mut errors, types);
    }
    if let Some(d) = &body.description {
        check_description(&mut errors, d);
    }
    errors.into_result()?;
    let e = store::update(
        &state.db,
        auth.tenant,
        id,
        EndpointChange {
            url: body.url,
            description: body.description,
            event_types: body.event_types,
            enabled: body.enabled,
        },
    )
    .await
    .or_not_found("webhook endpoint")?;
    Ok(axum::Json(e.view(false)))
}

/// Deletes an endpoint and its deliveries.
#[utoipa::path(
    delete,
    path = "/api/v1/webhooks/{id}",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn delete_endpoint(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<StatusCode> {
    store::delete(&state.db, auth.tenant, id)
        .await
        .or_not_found("webhook endpoint")?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, shown in this answer only; the old one keeps signing beside
/// it for `overlap_secs`, so receivers can switch without losing events.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/rotate-secret",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    request_body = RotateSecret,
    responses((status = 200, body = Endpoint), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn rotate_secret(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(body): Json<RotateSecret>,
) -> Result<axum::Json<Endpoint>> {
    let overlap = body.overlap_secs.unwrap_or(MAX_OVERLAP_SECS);
    if overlap > MAX_OVERLAP_SECS {
        let mut errors = FieldErrors::new();
        errors.add(
            "overlap_secs",
            format!("must be at most {MAX_OVERLAP_SECS}"),
        );
        errors.into_result()?;
    }
    let secret = new_secret().map_err(|e| Error::Internal(anyhow::anyhow!(e)))?;
    let until = Utc::now() + chrono::Duration::seconds(overlap as i64);
    let e = store::rotate(&state.db, auth.tenant, id, secret, until)
        .await
        .or_not_found("webhook endpoint")?;
    Ok(axum::Json(e.view(true)))
}

/// Sends a `webhook.test` event to the endpoint through the outbox like any other
/// (a disabled endpoint gets it once enabled).
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/test",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 202, body = Pinged), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn ping_endpoint(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
) -> Result<(StatusCode, axum::Json<Pinged>)> {
    let event = events::test(id, Utc::now());
    store::enqueue_to(&state.db, auth.tenant, id, &event)
        .await
        .or_not_found("webhook endpoint")?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Pinged { event_id: event.id }),
    ))
}

/// The endpoint's recent deliveries, newest first: status, attempts, the last
/// answer's status code and latency.
#[utoipa::path(
    get,
    path = "/api/v1/webhooks/{id}/deliveries",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Endpoint id"), DeliveryQuery),
    responses((status = 200, body = Vec<Delivery>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn list_deliveries(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Query(q): Query<DeliveryQuery>,
) -> Result<axum::Json<Vec<Delivery>>> {
    let mut errors = FieldErrors::new();
    if q.status
        .as_deref()
        .is_some_and(|s| !matches!(s, "pending" | "delivered" | "failed"))
    {
        errors.add("status", "must be pending, delivered or failed");
    }
    if q.limit.is_some_and(|l| l == 0 || l > 100) {
        errors.add("limit", "must be between 1 and 100");
    }
    errors.into_result()?;
    store::get(&state.db, auth.tenant, id)
        .await
        .or_not_found("webhook endpoint")?;
    let list = store::deliveries(
        &state.db,
        auth.tenant,
        id,
        q.status.as_deref(),
        q.limit.unwrap_or(50),
    )
    .await?;
    Ok(axum::Json(list))
}

/// Delivers an event to the endpoint again, at once and in its place in the
/// endpoint's order, whatever became of it before.
#[utoipa::path(
    post,
    path = "/api/v1/webhooks/{id}/deliveries/{event_id}/redeliver",
    tag = "webhooks",
    security(("bearer" = ["admin"])),
    params(
        ("id" = Uuid, Path, description = "Endpoint id"),
        ("event_id" = Uuid, Path, description = "Event id (`webhook-id`)"),
    ),
    responses((status = 202), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn redeliver(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Path((id, event)): Path<(String, String)>,
) -> Result<StatusCode> {
    let (Ok(id), Ok(event)) = (Uuid::parse_str(&id), Uuid::parse_str(&event)) else {
        return Err(Error::NotFound("delivery"));
    };
    store::redeliver(&state.db, auth.tenant, id, event)
        .await
        .or_not_found("delivery")?;
    Ok(StatusCode::ACCEPTED)
}
