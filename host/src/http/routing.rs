//! Views of routing: the tenant's reception settings (admins), a skill group's queue in
//! order, and agents' live status with time spent in each status per day (admins, and
//! supervisors for their own skill groups and their members).

use axum::extract::State;
use chrono::{NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{Error, ErrorBody, NotFoundAs, Result};
use super::extract::{Admin, Id, Json, Query, Supervisor};
use crate::directory::{FieldErrors, Page, PageRequest};
use crate::routing::status::{Shown, StatusView, TenantRouting, TenantRoutingPatch};
use crate::sessions::{Session, Visibility};
use crate::state::AppState;
use crate::store::{agents, assign, presence, skill_groups, tenants};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, update_settings))
        .routes(routes!(group_queue))
        .routes(routes!(agent_status))
        .routes(routes!(monitor_agents))
}

/// The tenant's reception settings.
#[utoipa::path(
    get,
    path = "/api/v1/routing/settings",
    tag = "routing",
    security(("bearer" = ["admin"])),
    responses((status = 200, body = TenantRouting), (status = 403, body = ErrorBody))
)]
async fn get_settings(
    State(state): State<AppState>,
    Admin(auth): Admin,
) -> Result<axum::Json<TenantRouting>> {
    Ok(axum::Json(
        presence::tenant_routing(&state.db, auth.tenant).await?,
    ))
}

/// Changes the tenant's reception settings; absent fields keep their value.
#[utoipa::path(
    put,
    path = "/api/v1/routing/settings",
    tag = "routing",
    security(("bearer" = ["admin"])),
    request_body = TenantRoutingPatch,
    responses((status = 200, body = TenantRouting), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn update_settings(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Json(patch): Json<TenantRoutingPatch>,
) -> Result<axum::Json<TenantRouting>> {
    let mut settings = presence::tenant_routing(&state.db, auth.tenant).await?;
    patch.apply(&mut settings)?;
    presence::save_tenant_routing(&state.db, auth.tenant, &settings).await?;
    Ok(axum::Json(settings))
}

/// A session's place in its queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueEntry {
    /// 1 is served next.
    pub position: u64,
    pub session: Session,
}

/// A skill group's queue in the order it is served: priority first (higher first),
/// then arrival.
#[utoipa::path(
    get,
    path = "/api/v1/skill-groups/{id}/queue",
    tag = "routing",
    security(("bearer" = ["supervisor"])),
    params(("id" = Uuid, Path, description = "Skill group id"), PageRequest),
    responses((status = 200, body = Page<QueueEntry>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn group_queue(
    State(state): State<AppState>,
    Supervisor(auth): Supervisor,
    Id(id): Id,
    Query(page): Query<PageRequest>,
) -> Result<axum::Json<Page<QueueEntry>>> {
    let mut errors = FieldErrors::new();
    page.validate(&mut errors);
    errors.into_result()?;
    skill_groups::get(&state.db, auth.tenant, id)
        .await
        .or_not_found("skill group")?;
    if !auth.visibility(&state).await?.sees_group(id) {
        return Err(Error::NotFound("skill group"));
    }
    let found = assign::queue_page(&state.db, auth.tenant, id, page).await?;
    let mut position = page.offset();
    Ok(axum::Json(found.map(|session| {
        position += 1;
        QueueEntry { position, session }
    })))
}

/// Which day to report.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DayQuery {
    /// `YYYY-MM-DD` in the tenant's time zone; default today.
    #[param(format = Date)]
    pub date: Option<String>,
}

/// An agent's status and the seconds spent in each status on one day.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgentDay {
    pub agent_id: Uuid,
    #[serde(flatten)]
    pub status: StatusView,
    pub date: NaiveDate,
    /// Seconds per status (`free`, `notReady`, `rest`, `busy`, `afterCallWork`, `offline`).
    #[schema(value_type = Object)]
    pub seconds: std::collections::BTreeMap<String, i64>,
}

/// An agent's status now and the time spent in each status on a day.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}/status",
    tag = "routing",
    security(("bearer" = ["supervisor"])),
    params(("id" = Uuid, Path, description = "Agent id"), DayQuery),
    responses((status = 200, body = AgentDay), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn agent_status(
    State(state): State<AppState>,
    Supervisor(auth): Supervisor,
    Id(id): Id,
    Query(q): Query<DayQuery>,
) -> Result<axum::Json<AgentDay>> {
    let agent = agents::get(&state.db, auth.tenant, id)
        .await
        .or_not_found("agent")?;
    let groups: Vec<Uuid> = agent
        .skill_groups
        .iter()
        .map(|m| m.skill_group_id)
        .collect();
    if !auth.visibility(&state).await?.sees_agent(id, &groups) {
        return Err(Error::NotFound("agent"));
    }
    let tenant = tenants::get(&state.db, auth.tenant).await?;
    let tz: chrono_tz::Tz = tenant
        .time_zone
        .parse()
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let now = Utc::now();
    let date = match &q.date {
        Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
            Error::Validation(FieldErrors::single("date", "must be a date, YYYY-MM-DD"))
        })?,
        None => now.with_timezone(&tz).date_naive(),
    };
    let start_of = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|t| tz.from_local_datetime(&t).earliest())
            .map(|t| t.with_timezone(&Utc))
    };
    let (Some(from), Some(to)) = (start_of(date), date.succ_opt().and_then(start_of)) else {
        return Err(Error::Validation(FieldErrors::single(
            "date",
            "is out of range",
        )));
    };
    let cutoff = state.router.signals().cutoff(now);
    let status = presence::view(&state.db, auth.tenant, id, cutoff, now).await?;
    let seconds = presence::status_seconds(&state.db, auth.tenant, id, from, to, now).await?;
    Ok(axum::Json(AgentDay {
        agent_id: id,
        status,
        date,
        seconds: Shown::ALL
            .into_iter()
            .map(|s| (s.as_str().to_owned(), seconds.get(&s).copied().unwrap_or(0)))
            .collect(),
    }))
}

/// One agent on the monitoring board.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitoredAgent {
    pub agent_id: Uuid,
    pub name: String,
    #[serde(flatten)]
    pub status: StatusView,
}

/// A page of the board.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonitorBoard {
    pub items: Vec<MonitoredAgent>,
    /// Agents that match, across all pages.
    pub total: u64,
    pub page: u64,
    pub page_size: u64,
}

/// Most agents `agent_ids` may name.
const MAX_BOARD_IDS: usize = 100;

/// Query of the board: paging and filters, flat as a query string is.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// Page number, from 1. Default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u64>,
    /// Agents per page, 1–100. Default 100.
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<u64>,
    /// Text the agent's name contains, any case.
    #[param(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub q: Option<String>,
    /// Only agents shown in this status.
    pub status: Option<Shown>,
    /// Only members of this skill group.
    pub skill_group_id: Option<Uuid>,
    /// Only these agents: up to 100 ids, separated by commas.
    #[param(
        max_length = 3699,
        pattern = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(,[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}){0,99}$"
    )]
    pub agent_ids: Option<String>,
}

/// The tenant's active agents who ever opened the workbench, by name, a page at a
/// time, with their live status (for a supervisor, the members of their groups and
/// themselves).
#[utoipa::path(
    get,
    path = "/api/v1/monitor/agents",
    tag = "routing",
    security(("bearer" = ["supervisor"])),
    params(BoardQuery),
    responses(
        (status = 200, body = MonitorBoard),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn monitor_agents(
    State(state): State<AppState>,
    Supervisor(auth): Supervisor,
    Query(query): Query<BoardQuery>,
) -> Result<axum::Json<MonitorBoard>> {
    let page = PageRequest {
        page: query.page.unwrap_or(1),
        page_size: query.page_size.unwrap_or(crate::directory::MAX_PAGE_SIZE),
    };
    let mut errors = FieldErrors::new();
    page.validate(&mut errors);
    let mut q = query.q;
    crate::directory::validate::optional_text(&mut errors, "q", &mut q, 64);
    let ids: Option<Vec<Uuid>> = match query.agent_ids.as_deref() {
        None => None,
        Some(list) => {
            let ids: Vec<Option<Uuid>> = list
                .split(',')
                .filter(|id| !id.trim().is_empty())
                .map(|id| Uuid::parse_str(id.trim()).ok())
                .collect();
            if ids.iter().any(Option::is_none) {
                errors.add("agent_ids", "must be agent ids separated by commas");
            } else if ids.len() > MAX_BOARD_IDS {
                errors.add("agent_ids", format!("at most {MAX_BOARD_IDS} ids"));
            }
            Some(ids.into_iter().flatten().collect())
        }
    };
    errors.into_result()?;
    let who = auth.visibility(&state).await?;
    let within = match &who {
        Visibility::All => None,
        Visibility::Groups { agent, groups } => Some((*agent, groups.as_slice())),
        Visibility::Own { agent, .. } => Some((*agent, &[][..])),
    };
    let filter = presence::BoardFilter {
        q: q.as_deref(),
        status: query.status,
        skill_group: query.skill_group_id,
        agents: ids.as_deref(),
        within,
    };
    let cutoff = state.router.signals().cutoff(Utc::now());
    let (board, total) = presence::board(&state.db, auth.tenant, cutoff, &filter, page).await?;
    let items = board
        .into_iter()
        .map(|(agent_id, name, p)| MonitoredAgent {
            agent_id,
            name,
            status: p.view(),
        })
        .collect();
    Ok(axum::Json(MonitorBoard {
        items,
        total,
        page: page.page,
        page_size: page.page_size,
    }))
}
