//! `/api/v1/agent`: the agent's workbench, always about the caller: status, the
//! sessions offered to or served by the caller, and what the caller does to them.
//! The live side is the WebSocket in `workbench_ws`.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{Error, ErrorBody, Result};
use super::extract::{Auth, Id, Json, Query};
use super::sessions::{TranscriptQuery, transcript, visible};
use crate::directory::{FieldErrors, Page, PageRequest};
use crate::routing::router::{QueueView, StatusError};
use crate::routing::status::{SetStatus, StatusView};
use crate::sessions::{Acting, AgentActionError, Element, Message, Session, Target};
use crate::state::AppState;
use crate::store::agents;
use crate::store::assign::{self, AgentOpError};
use crate::store::sessions as store;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_status, set_status))
        .routes(routes!(my_sessions))
        .routes(routes!(accept_offer))
        .routes(routes!(decline_offer))
        .routes(routes!(session_messages, send_message))
        .routes(routes!(user_history))
        .routes(routes!(transfer_session))
        .routes(routes!(end_session))
        .routes(routes!(send_survey))
        .routes(routes!(my_queues))
}

impl From<StatusError> for Error {
    fn from(e: StatusError) -> Self {
        match e {
            StatusError::Invalid(f) => Error::Validation(f),
            StatusError::Store(e) => e.into(),
        }
    }
}

impl From<AgentOpError> for Error {
    fn from(e: AgentOpError) -> Self {
        match e {
            AgentOpError::NotFound => Error::NotFound("session"),
            AgentOpError::OfferGone => Error::Conflict {
                code: "offer_gone",
                message: "the offer expired, was withdrawn, or is not yours".into(),
            },
            AgentOpError::NotActive => not_active(),
            AgentOpError::AgentUnavailable => unavailable(),
            AgentOpError::Store(e) => e.into(),
        }
    }
}

fn not_active() -> Error {
    Error::Conflict {
        code: "session_not_active",
        message: "the session is not with you (any more)".into(),
    }
}

fn unavailable() -> Error {
    Error::Conflict {
        code: "agent_unavailable",
        message: "that agent is not online, not free, or at their cap".into(),
    }
}

impl From<AgentActionError> for Error {
    fn from(e: AgentActionError) -> Self {
        match e {
            AgentActionError::NotFound => Error::NotFound("session"),
            AgentActionError::NotActive => not_active(),
            AgentActionError::AgentUnavailable => unavailable(),
            AgentActionError::NoSurvey => Error::Conflict {
                code: "no_survey",
                message: "the session's flow has no satisfaction survey node".into(),
            },
            AgentActionError::Invalid(f) => Error::Validation(f),
            AgentActionError::Session(e) => Error::Internal(anyhow::anyhow!(e)),
        }
    }
}

/// The caller's status.
#[utoipa::path(
    get,
    path = "/api/v1/agent/status",
    tag = "workbench",
    security(("bearer" = [])),
    responses((status = 200, body = StatusView), (status = 401, body = ErrorBody))
)]
async fn get_status(State(state): State<AppState>, auth: Auth) -> Result<axum::Json<StatusView>> {
    Ok(axum::Json(
        state.router.status(auth.tenant, auth.agent_id).await?,
    ))
}

/// Sets the caller's status: `free`, `notReady`, or `rest` with one of the tenant's
/// reasons. `busy`, `afterCallWork` and `offline` are derived and cannot be set.
#[utoipa::path(
    put,
    path = "/api/v1/agent/status",
    tag = "workbench",
    security(("bearer" = [])),
    request_body = crate::routing::status::SetStatusBody,
    responses((status = 200, body = StatusView), (status = 422, body = ErrorBody))
)]
async fn set_status(
    State(state): State<AppState>,
    auth: Auth,
    Json(set): Json<SetStatus>,
) -> Result<axum::Json<StatusView>> {
    Ok(axum::Json(
        state
            .router
            .set_status(auth.tenant, auth.agent_id, &set)
            .await?,
    ))
}

/// The caller's sessions.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionList {
    pub items: Vec<Session>,
}

/// The sessions offered to the caller and those the caller serves, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/agent/sessions",
    tag = "workbench",
    security(("bearer" = [])),
    responses((status = 200, body = SessionList), (status = 401, body = ErrorBody))
)]
async fn my_sessions(State(state): State<AppState>, auth: Auth) -> Result<axum::Json<SessionList>> {
    Ok(axum::Json(SessionList {
        items: assign::sessions_of(&state.db, auth.tenant, auth.agent_id).await?,
    }))
}

/// Accepts a session offered to the caller.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{id}/accept",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
async fn accept_offer(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<axum::Json<Session>> {
    Ok(axum::Json(
        state.router.accept(auth.tenant, auth.agent_id, id).await?,
    ))
}

/// Declines a session offered to the caller: it keeps its place in the queue and goes
/// to the next agent, never back to the caller.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{id}/decline",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
async fn decline_offer(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<StatusCode> {
    state.router.decline(auth.tenant, auth.agent_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A message the agent writes.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgentMessage {
    /// 1–10 elements: `{"type":"text","text":…}` or `{"type":"custom","data","desc","ext"}`.
    #[schema(value_type = Vec<super::bodies::AgentElement>, min_items = 1, max_items = 10)]
    pub elements: Vec<serde_json::Value>,
    /// Makes a retry safe: the same id in the same session is stored once (1 to 64 bytes).
    #[serde(default)]
    #[schema(min_length = 1, max_length = 64, pattern = "^[ -~]+$")]
    pub client_id: Option<String>,
}

/// Longest text element, in characters.
pub const MAX_TEXT_CHARS: usize = 2000;
/// Most elements in one message.
pub const MAX_ELEMENTS: usize = 10;
/// Largest custom element field, in bytes.
pub const MAX_CUSTOM_BYTES: usize = 8 * 1024;

impl NewAgentMessage {
    fn validate(self) -> std::result::Result<(Vec<Element>, Option<String>), FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.elements.is_empty() || self.elements.len() > MAX_ELEMENTS {
            errors.add(
                "elements",
                format!("must hold 1 to {MAX_ELEMENTS} elements"),
            );
        }
        let mut out = Vec::new();
        for (i, raw) in self.elements.into_iter().take(MAX_ELEMENTS).enumerate() {
            let field = format!("elements[{i}]");
            let kind = raw
                .get("type")
                .and_then(|t| t.as_str())
                .unwrap_or_default()
                .to_owned();
            let text_of = |key: &str| raw.get(key).and_then(|v| v.as_str()).map(str::to_owned);
            match kind.as_str() {
                "text" => match text_of("text") {
                    Some(t) if !t.trim().is_empty() && t.chars().count() <= MAX_TEXT_CHARS => {
                        out.push(Element::Text { text: t })
                    }
                    _ => errors.add(
                        format!("{field}.text"),
                        format!("must be 1 to {MAX_TEXT_CHARS} characters"),
                    ),
                },
                "custom" => {
                    let data = text_of("data").unwrap_or_default();
                    let desc = text_of("desc").unwrap_or_default();
                    let ext = text_of("ext").unwrap_or_default();
                    if data.is_empty()
                        || [&data, &desc, &ext]
                            .iter()
                            .any(|s| s.len() > MAX_CUSTOM_BYTES)
                    {
                        errors.add(
                            format!("{field}.data"),
                            format!(
                                "data must be set; each field at most {MAX_CUSTOM_BYTES} bytes"
                            ),
                        );
                    } else {
                        out.push(Element::Custom { data, desc, ext });
                    }
                }
                _ => errors.add(format!("{field}.type"), "must be `text` or `custom`"),
            }
        }
        if let Some(c) = &self.client_id
            && (c.is_empty() || c.len() > 64)
        {
            errors.add("client_id", "must be 1 to 64 bytes");
        }
        errors.into_result()?;
        Ok((out, self.client_id))
    }
}

async fn acting(state: &AppState, auth: &Auth) -> Result<Acting> {
    let me = agents::get(&state.db, auth.tenant, auth.agent_id).await?;
    Ok(Acting {
        tenant: auth.tenant,
        agent_id: auth.agent_id,
        nickname: me.nickname,
    })
}

/// Writes to the user of a session the caller serves. A retry with the same
/// `client_id` answers the stored message with 200.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{id}/messages",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = NewAgentMessage,
    responses((status = 201, body = Message), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn send_message(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<NewAgentMessage>,
) -> Result<(StatusCode, axum::Json<Message>)> {
    let (elements, client_id) = body.validate()?;
    let who = acting(&state, &auth).await?;
    let (m, duplicate) = state
        .sessions
        .agent_message(&who, id, elements, client_id)
        .await?;
    let status = if duplicate {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, axum::Json(m)))
}

/// A page of the transcript of a session of the caller (`Limit` ≤ 100, `Offset`, `Order`).
#[utoipa::path(
    get,
    path = "/api/v1/agent/sessions/{id}/messages",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id"), TranscriptQuery),
    responses((status = 200, body = Vec<Message>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn session_messages(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Query(q): Query<TranscriptQuery>,
) -> Result<axum::Json<Vec<Message>>> {
    transcript(&state, &auth, id, &q).await
}

/// The same user's earlier sessions on the same channel, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/agent/sessions/{id}/history",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id"), PageRequest),
    responses((status = 200, body = Page<Session>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn user_history(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Query(page): Query<PageRequest>,
) -> Result<axum::Json<Page<Session>>> {
    let mut errors = FieldErrors::new();
    page.validate(&mut errors);
    errors.into_result()?;
    let s = visible(&state, &auth, id).await?;
    let filter = store::SessionFilter {
        visibility: auth.visibility(&state).await?,
        status: None,
        channel_id: Some(s.channel_id),
        user_id: Some(s.user_id.clone()),
    };
    let mut found = store::list(&state.db, auth.tenant, &filter, page).await?;
    // The session itself is not its own history.
    let before = found.items.len();
    found.items.retain(|x| x.id != s.id);
    found.total -= (before - found.items.len()) as u64;
    Ok(axum::Json(found))
}

/// Where to transfer: exactly one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    #[serde(default)]
    pub agent_id: Option<Uuid>,
    #[serde(default)]
    pub skill_group_id: Option<Uuid>,
    /// A note for whoever takes the session next (≤ 500 characters), shown with the
    /// `assigned` event.
    #[serde(default)]
    pub note: Option<String>,
}

/// A transfer's two legs.
#[derive(Debug, Serialize, ToSchema)]
pub struct Transferred {
    /// The caller's leg, ended with 101.
    pub ended: Session,
    /// The new leg: queued in the group, or with the target agent.
    pub next: Session,
}

/// Transfers a session the caller serves to another agent (who must be online, free
/// and under their cap) or to a skill group's queue.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{id}/transfer",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    request_body = super::bodies::TransferTarget,
    responses((status = 200, body = Transferred), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn transfer_session(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
    Json(body): Json<TransferRequest>,
) -> Result<axum::Json<Transferred>> {
    let target = match (body.agent_id, body.skill_group_id) {
        (Some(a), None) => Target::Agent(a),
        (None, Some(g)) => Target::Group(g),
        _ => {
            return Err(Error::Validation(FieldErrors::single(
                "body",
                "give exactly one of `agent_id` and `skill_group_id`",
            )));
        }
    };
    if body.note.as_ref().is_some_and(|n| n.chars().count() > 500) {
        return Err(Error::Validation(FieldErrors::single(
            "note",
            "must be at most 500 characters",
        )));
    }
    let who = acting(&state, &auth).await?;
    let note = body.note.filter(|n| !n.trim().is_empty());
    let (ended, next) = state
        .sessions
        .agent_transfer(&who, id, target, note)
        .await?;
    Ok(axum::Json(Transferred { ended, next }))
}

/// Ends the caller's part: the session goes back to its flow (a survey, for
/// instance) or ends with 1.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{id}/end",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
async fn end_session(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<axum::Json<Session>> {
    let who = acting(&state, &auth).await?;
    Ok(axum::Json(
        state.sessions.agent_finish(&who, id, false).await?,
    ))
}

/// Ends the caller's part and starts the flow's satisfaction survey.
#[utoipa::path(
    post,
    path = "/api/v1/agent/sessions/{id}/survey",
    tag = "workbench",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 200, body = Session), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
async fn send_survey(
    State(state): State<AppState>,
    auth: Auth,
    Id(id): Id,
) -> Result<axum::Json<Session>> {
    let who = acting(&state, &auth).await?;
    Ok(axum::Json(
        state.sessions.agent_finish(&who, id, true).await?,
    ))
}

/// The caller's queues.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueList {
    pub items: Vec<QueueView>,
}

/// Live figures of the caller's skill groups' queues.
#[utoipa::path(
    get,
    path = "/api/v1/agent/queues",
    tag = "workbench",
    security(("bearer" = [])),
    responses((status = 200, body = QueueList), (status = 401, body = ErrorBody))
)]
async fn my_queues(State(state): State<AppState>, auth: Auth) -> Result<axum::Json<QueueList>> {
    Ok(axum::Json(QueueList {
        items: state.router.queues_of(auth.tenant, auth.agent_id).await?,
    }))
}
