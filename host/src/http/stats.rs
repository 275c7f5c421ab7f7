//! `/api/v1/stats`: session figures per hour or day and per agent over whole local
//! days of the tenant, and the live figures (once, or as a stream of server-sent
//! events whenever they change). For supervisors (their skill groups, by the one
//! visibility rule) and admins. The README's "Statistics" section defines each figure.

use std::collections::HashMap;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use chrono::{NaiveDate, Utc};
use futures_util::Stream;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{Error, ErrorBody, Result};
use super::extract::{Query, Supervisor};
use crate::directory::FieldErrors;
use crate::records::LiveFigures;
use crate::records::buckets::{Interval, Range};
use crate::records::report::{self, AgentReport, SessionReport};
use crate::sessions::Visibility;
use crate::state::AppState;
use crate::store::stats::{self, SessionScope};
use crate::store::{TenantId, tenants};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(session_stats))
        .routes(routes!(agent_stats))
        .routes(routes!(live_stats))
        .routes(routes!(live_stream))
}

/// Live streams one tenant may hold open on this node.
const STREAMS_PER_TENANT: usize = 50;
/// How often a stream looks for a change.
const STREAM_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SessionStatsQuery {
    /// The first local day (YYYY-MM-DD, the tenant's time zone).
    pub from: NaiveDate,
    /// The last local day, included.
    pub to: NaiveDate,
    /// `hour` (at most 31 days) or `day` (at most 366); default `day`.
    pub interval: Option<Interval>,
    pub channel_id: Option<Uuid>,
    pub skill_group_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AgentStatsQuery {
    /// The first local day (YYYY-MM-DD).
    pub from: NaiveDate,
    /// The last local day, included.
    pub to: NaiveDate,
}

async fn range(
    state: &AppState,
    tenant: TenantId,
    from: NaiveDate,
    to: NaiveDate,
    interval: Interval,
) -> Result<Range> {
    let tz: chrono_tz::Tz = tenants::get(&state.db, tenant)
        .await?
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    Range::new(from, to, tz, interval).map_err(|e| {
        let mut errors = FieldErrors::new();
        errors.add("to", e.to_string());
        Error::Validation(errors)
    })
}

/// Session figures per local hour or day, and over the whole range.
#[utoipa::path(
    get,
    path = "/api/v1/stats/sessions",
    tag = "stats",
    security(("bearer" = ["supervisor"])),
    params(SessionStatsQuery),
    responses((status = 200, body = SessionReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn session_stats(
    State(state): State<AppState>,
    Supervisor(auth): Supervisor,
    Query(q): Query<SessionStatsQuery>,
) -> Result<axum::Json<SessionReport>> {
    let interval = q.interval.unwrap_or(Interval::Day);
    let range = range(&state, auth.tenant, q.from, q.to, interval).await?;
    let who = auth.visibility(&state).await?;
    // A supervisor's figures cover their skill groups only.
    let groups = match (&who, q.skill_group_id) {
        (Visibility::All, None) => None,
        (Visibility::All, Some(g)) => Some(vec![g]),
        (Visibility::Groups { groups, .. } | Visibility::Own { groups, .. }, asked) => Some(
            groups
                .iter()
                .copied()
                .filter(|g| asked.is_none_or(|a| a == *g))
                .collect(),
        ),
    };
    let scope = SessionScope {
        channel_id: q.channel_id,
        groups,
    };
    let report = report::sessions(&state.db, auth.tenant, &range, interval, &scope).await?;
    Ok(axum::Json(report))
}

/// Each agent's figures and time per status over whole local days.
#[utoipa::path(
    get,
    path = "/api/v1/stats/agents",
    tag = "stats",
    security(("bearer" = ["supervisor"])),
    params(AgentStatsQuery),
    responses((status = 200, body = AgentReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn agent_stats(
    State(state): State<AppState>,
    Supervisor(auth): Supervisor,
    Query(q): Query<AgentStatsQuery>,
) -> Result<axum::Json<AgentReport>> {
    let range = range(&state, auth.tenant, q.from, q.to, Interval::Day).await?;
    let who = auth.visibility(&state).await?;
    let groups: HashMap<Uuid, Vec<Uuid>> = stats::live_agents(&state.db, auth.tenant)
        .await?
        .into_iter()
        .map(|(id, _, groups)| (id, groups))
        .collect();
    let report = report::agents(&state.db, auth.tenant, &range, &who, &groups, Utc::now()).await?;
    Ok(axum::Json(report))
}

/// What is waiting and who is doing what, now, per skill group and overall.
#[utoipa::path(
    get,
    path = "/api/v1/stats/live",
    tag = "stats",
    security(("bearer" = ["supervisor"])),
    responses((status = 200, body = LiveFigures), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn live_stats(
    State(state): State<AppState>,
    Supervisor(auth): Supervisor,
) -> Result<axum::Json<LiveFigures>> {
    let who = auth.visibility(&state).await?;
    let figures = state.records.figures(&state.db, auth.tenant, &who).await?;
    Ok(axum::Json(figures))
}

/// The live figures as server-sent events: a `live` event at once and whenever they
/// change (looked at every second).
#[utoipa::path(
    get,
    path = "/api/v1/stats/live/stream",
    tag = "stats",
    security(("bearer" = ["supervisor"])),
    responses(
        (status = 200, description = "`text/event-stream` of `live` events, each a LiveFigures", content_type = "text/event-stream"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
async fn live_stream(
    State(state): State<AppState>,
    Supervisor(auth): Supervisor,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let who = auth.visibility(&state).await?;
    let slot = state
        .records
        .open_stream(auth.tenant, STREAMS_PER_TENANT)
        .ok_or_else(|| {
            Error::bad_request_status(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_streams",
                "this tenant has too many live streams open",
            )
        })?;
    let tenant = auth.tenant;
    let start = (state, who, None::<serde_json::Value>, slot, true);
    let stream =
        futures_util::stream::unfold(start, move |(state, who, last, slot, first)| async move {
            let last = last;
            let mut first = first;
            loop {
                if !first {
                    tokio::time::sleep(STREAM_EVERY).await;
                }
                first = false;
                let figures = match state.records.figures(&state.db, tenant, &who).await {
                    Ok(f) => f,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading live figures failed");
                        continue;
                    }
                };
                // `at` changes every time: compare what is counted.
                let mut counted = serde_json::to_value(&figures).unwrap_or_default();
                if let Some(o) = counted.as_object_mut() {
                    o.remove("at");
                }
                if last.as_ref() == Some(&counted) {
                    continue;
                }
                let event = Event::default()
                    .event("live")
                    .json_data(&figures)
                    .unwrap_or_default();
                return Some((Ok(event), (state, who, Some(counted), slot, false)));
            }
        });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
