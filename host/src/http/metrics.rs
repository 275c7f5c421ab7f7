//! `GET /metrics`: Prometheus text format, when `metrics.enabled` is set — on the
//! API's address, or on `metrics.listen` alone — optionally behind a bearer token.
//! Also the middleware that counts and times every HTTP request by route template.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::registry::Registry;
use sea_orm::{DatabaseBackend, DatabaseConnection};

use crate::metrics::{METRICS, PoolLabels, QueueLabels, Scraped, StatusLabels};
use crate::state::AppState;
use crate::store::{stats, webhooks};

/// The `/metrics` route, with the state it reads.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", axum::routing::get(scrape))
        .with_state(state)
}

/// Counts and times a request under its route template (never its raw path: ids
/// would make the label values unbounded).
pub async fn track(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    crate::metrics::http_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = &state.config.metrics.bearer_token else {
        return true;
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    // Compared in constant time: the token guards the endpoint.
    given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            "a bearer token is required\n",
        )
            .into_response();
    }
    let mut registry = Registry::default();
    METRICS.register(&mut registry);
    let scraped = Scraped::default();
    if let Err(e) = read_gauges(&state.db, &scraped, state.config.database.max_connections).await {
        // The process's own figures are still worth having.
        tracing::warn!(error = %e, "reading metrics from the database failed");
    }
    scraped.register(&mut registry);
    let mut body = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut body, &registry) {
        tracing::error!(error = %e, "encoding metrics failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

async fn read_gauges(
    db: &DatabaseConnection,
    out: &Scraped,
    max_connections: u32,
) -> Result<(), crate::store::StoreError> {
    let now = chrono::Utc::now();
    for (tenant, group, n, oldest) in stats::queues(db).await? {
        let labels = QueueLabels {
            tenant,
            skill_group: group.to_string(),
        };
        out.queue_sessions.get_or_create(&labels).set(n);
        let wait = oldest.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
        out.queue_oldest.get_or_create(&labels).set(wait);
    }
    for (status, n) in stats::agents_by_status(db).await? {
        out.agents.get_or_create(&StatusLabels { status }).set(n);
    }
    out.im_outbox.set(stats::im_outbox_pending(db).await?);
    out.webhook_outbox.set(webhooks::pending_count(db).await?);
    let (size, idle) = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let p = db.get_postgres_connection_pool();
            (p.size(), p.num_idle())
        }
        _ => {
            let p = db.get_sqlite_connection_pool();
            (p.size(), p.num_idle())
        }
    };
    let idle = idle.min(size as usize) as i64;
    out.pool
        .get_or_create(&PoolLabels { state: "idle" })
        .set(idle);
    out.pool
        .get_or_create(&PoolLabels { state: "in_use" })
        .set(i64::from(size) - idle);
    out.pool_max.set(i64::from(max_connections));
    Ok(())
}
