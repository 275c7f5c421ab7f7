//! kefu's HTTP interface: the routers, the extractors, the error type and the OpenAPI
//! document.
//!
//! Handlers translate HTTP into calls on `directory`, `auth` and `store` and back; they
//! hold no business rules. Each resource has its own `router()`, merged here. Routes are
//! registered through `utoipa_axum`, so a route cannot exist without its entry in
//! `/api/v1/openapi.json`.

pub mod agents;
pub mod auth;
pub mod bodies;
pub mod channels;
pub mod error;
pub mod extract;
pub mod flow_try;
pub mod flows;
pub mod health;
pub mod metrics;
pub mod openapi;
pub mod plugins;
pub mod quick_replies;
pub mod records;
pub mod routing;
pub mod sessions;
pub mod skill_groups;
pub mod stats;
pub mod webhooks;
pub mod workbench;
pub mod workbench_desk;
pub mod workbench_ws;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

pub use error::{Error, Result};

use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kefu API",
        description = "Online customer service: agents, skill groups, flows and sessions.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign in, refresh and sign out"),
        (name = "agents", description = "Admins manage agents"),
        (name = "skill-groups", description = "Admins manage skill groups and their routing settings"),
        (name = "flows", description = "Admins edit, check, publish and roll back conversation service flows"),
        (name = "channels", description = "Admins manage channels: virtual accounts bound to a flow and an IM app"),
        (name = "sessions", description = "Sessions and their transcripts"),
        (name = "plugins", description = "Admins install and manage flow modules (WebAssembly components)"),
        (name = "workbench", description = "The agent's own status, sessions and actions"),
        (name = "quick-replies", description = "Canned responses: the tenant's shared list and each agent's own"),
        (name = "health", description = "Probes"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `/api/v1/auth/login`. An operation's security \
                         requirement names the least role it needs: none (any signed-in \
                         account), `supervisor` (supervisors and admins) or `admin`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every route of the API, with the OpenAPI document that describes them.
pub fn api(max_component_bytes: usize) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = routes(max_component_bytes);
    // Runs once every route has put its operation in the document.
    openapi::CommonResponses.modify(&mut doc);
    (router, doc)
}

fn routes(max_component_bytes: usize) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(plugins::router(max_component_bytes))
        .merge(health::router())
        .merge(auth::router())
        .merge(agents::router())
        .merge(skill_groups::router())
        .merge(flows::router())
        .merge(flow_try::router())
        .merge(channels::router())
        .merge(sessions::router())
        .merge(routing::router())
        .merge(workbench::router())
        .merge(workbench_desk::router())
        .merge(quick_replies::router())
        .merge(records::router())
        .merge(stats::router())
        .merge(webhooks::router())
        .split_for_parts()
}

/// The complete application router.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api(state.config.plugins.max_component_bytes);
    let doc = std::sync::Arc::new(doc);
    let limit = state.config.http.max_body_bytes;
    let metrics = &state.config.metrics;
    let scrape =
        (metrics.enabled && metrics.listen.is_none()).then(|| metrics::router(state.clone()));
    let app = api
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = doc.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async { Error::NotFound("route") })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(middleware::from_fn(move |req, next| {
            tag_body_limit(limit, req, next)
        }))
        .layer(DefaultBodyLimit::max(limit))
        // IM's endpoints bound their bodies themselves, answering in IM's format.
        .merge(crate::im::router())
        .merge(workbench_ws::router())
        .merge(crate::web::router())
        .route_layer(middleware::from_fn(metrics::track))
        .layer(TraceLayer::new_for_http())
        .with_state(state);
    match scrape {
        Some(scrape) => app.merge(scrape),
        None => app,
    }
}

/// Lets the JSON extractor name the limit in its 413 message.
async fn tag_body_limit(limit: usize, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(extract::BodyLimit(limit));
    next.run(req).await
}
