//! `/api/v1/agent`, the rest of what the workbench page shows: the sessions list with
//! each session's last message, unread count and waiting time (and the recently
//! ended ones), one session, how far the agent has read, internal notes, colleagues
//! with their live status (for a transfer), and the tenant's rest reasons.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::{ErrorBody, Result};
use super::extract::{Auth, Id, Json};
use super::sessions::visible;
use crate::directory::FieldErrors;
use crate::sessions::Session;
use crate::state::AppState;
use crate::store::inbox::{self, Colleague, Summary};
use crate::store::notes::{self, Note};
use crate::store::sessions as store;
use crate::store::{agents, assign, presence};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(my_inbox))
        .routes(routes!(one_session))
        .routes(routes!(mark_read))
        .routes(routes!(session_notes, add_note))
        .routes(routes!(colleagues))
        .routes(routes!(rest_reasons))
}

/// The caller's sessions list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Inbox {
    /// Offered to the caller or served by them, oldest first.
    pub active: Vec<Summary>,
    /// Left the caller in the last day (ended, transferred, in their survey), newest
    /// first, at most 20.
    pub ended: Vec<Summary>,
}

/// The caller's offered and ongoing sessions and the recently ended ones, each with
/// its last message, the user's messages the caller has not read, and since when the
/// user has waited for an answer.
#[utoipa::path(
    get,
    path = "/api/v1/agent/inbox",
    tag = "workbench",
    security(("bearer" = [])),
    responses((status = 200, body = Inbox), (status = 401, body = ErrorBody))
)]
async fn my_inbox(State(state): State<AppState>, auth: Auth) -> Result<axum::Json<Inbox>> {
    let since = Utc::now() - chrono::Duration::days(1);
    let mut active = Vec::new();
    for s in assign::sessions_of(&state.db, auth.tenant, auth.agent_id).await? {
        active.push(inbox::summary(&state.db, auth.agent_id, s).await?);
    }
    let mut ended = Vec::new();
    for s in inbox::ended_of(&state.db, auth.tenant, auth.agent_id, since).await? {
        ended.push(inbox::summary(&state.db, auth.agent_id, s).await?);
    }
    Ok(axum::Json(Inbox { active, ended }))
}

/// One session the caller may read: one offered to them or served by them, or any
/// session of a user they serve or served (the legs before a transfer, the user's
/// earlier sessions). Admins may read any session of the tenant.
#[utoipa::path(
    get,
    path = "/api/v1/agent/sessions/{id}",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody))
)]
async fn one_session(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<axum::Json<Session>> {
    Ok(axum::Json(visible(&state, &auth, id).await?))
}

/// How far the caller has read.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadMark {
    /// The number (`seq`) of the last message read.
    pub seq: u32,
}

/// Records that the caller has read the session up to message `seq` (the unread
/// count of the sessions list). A mark never moves back.
#[utoipa::path(
    put,
    path = "/api/v1/agent/sessions/{id}/read",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = ReadMark,
    responses((status = 204), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn mark_read(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(mark): Json<ReadMark>,
) -> Result<StatusCode> {
    let s = visible(&state, &auth, id).await?;
    if mark.seq > s.message_count {
        return Err(FieldErrors::single(
            "seq",
            format!("the session has {} messages", s.message_count),
        )
        .into());
    }
    inbox::mark_read(&state.db, auth.tenant, id, auth.agent_id, mark.seq).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct NoteList {
    pub items: Vec<Note>,
}

/// Legs of one conversation read back through transfers.
const MAX_LEGS: usize = 20;

/// Internal notes on the session and on the legs before it (a conversation that was
/// transferred), oldest first. Never shown to the user.
#[utoipa::path(
    get,
    path = "/api/v1/agent/sessions/{id}/notes",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, body = NoteList), (status = 404, body = ErrorBody))
)]
async fn session_notes(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<axum::Json<NoteList>> {
    let s = visible(&state, &auth, id).await?;
    let mut legs = vec![s.id];
    let mut parent = s.parent_id;
    while let Some(p) = parent.filter(|_| legs.len() < MAX_LEGS) {
        legs.push(p);
        parent = store::get(&state.db, auth.tenant, p)
            .await
            .ok()
            .and_then(|s| s.parent_id);
    }
    Ok(axum::Json(NoteList {
        items: notes::of_sessions(&state.db, auth.tenant, &legs).await?,
    }))
}

/// A note to write.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNote {
    /// 1–2000 characters, not only white space.
    #[schema(max_length = 2000, pattern = r"^[\s\S]*\S[\s\S]*$")]
    pub text: String,
}

/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Writes an internal note on a session the caller may read: agents and admins see
/// it, the user never does.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{id}/notes",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = NewNote,
    responses((status = 201, body = Note), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn add_note(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(new): Json<NewNote>,
) -> Result<(StatusCode, axum::Json<Note>)> {
    let text = new.text.trim().to_owned();
    if text.is_empty() || text.chars().count() > MAX_NOTE_CHARS {
        return Err(FieldErrors::single(
            "text",
            format!("must be 1 to {MAX_NOTE_CHARS} characters"),
        )
        .into());
    }
    let s = visible(&state, &auth, id).await?;
    let me = agents::get(&state.db, auth.tenant, auth.agent_id).await?;
    let note = notes::add(&state.db, auth.tenant, s.id, (me.id, me.name), text).await?;
    Ok((StatusCode::CREATED, axum::Json(note)))
}

/// The caller's colleagues.
#[derive(Debug, Serialize, ToSchema)]
pub struct ColleagueList {
    pub items: Vec<Colleague>,
}

/// The tenant's active agents with their live status and load, free ones first: whom
/// a session can be transferred to. Names and status only, nothing private.
#[utoipa::path(
    get,
    path = "/api/v1/agent/colleagues",
    tag = "workbench",
    security(("bearer" = [])),
    responses((status = 200, body = ColleagueList), (status = 401, body = ErrorBody))
)]
async fn colleagues(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<axum::Json<ColleagueList>> {
    let cutoff = state.router.signals().cutoff(Utc::now());
    let mut items = inbox::colleagues(&state.db, auth.tenant, cutoff).await?;
    items.retain(|c| c.agent_id != auth.agent_id);
    Ok(axum::Json(ColleagueList { items }))
}

/// The reasons an agent may give for a rest.
#[derive(Debug, Serialize, ToSchema)]
pub struct RestReasons {
    pub items: Vec<String>,
}

/// The tenant's rest reasons, for the status menu.
#[utoipa::path(
    get,
    path = "/api/v1/agent/rest-reasons",
    tag = "workbench",
    security(("bearer" = [])),
    responses((status = 200, body = RestReasons), (status = 401, body = ErrorBody))
)]
async fn rest_reasons(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<axum::Json<RestReasons>> {
    let settings = presence::tenant_routing(&state.db, auth.tenant).await?;
    Ok(axum::Json(RestReasons {
        items: settings.rest_reasons,
    }))
}
