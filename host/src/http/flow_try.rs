//! `POST /api/v1/flows/{id}/try`: the flow editor's "try it". One turn of a flow's
//! draft (or of a published revision) runs with the installed modules exactly as a
//! session's turn would, but no session exists: nothing is stored, no message is
//! delivered, no agent is offered anything, and the channel's real sessions are not
//! touched. The flow's state (current node, variables, modules' private states) goes
//! back to the client, which sends it with the next turn. Every step is reported:
//! its node, module, the exit it took and its actions.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::error::{Error, ErrorBody, NotFoundAs, Result};
use super::extract::{Admin, Id, Json};
use crate::directory::FieldErrors;
use crate::flow::catalog;
use crate::flow::engine::{self, FlowState, NodeRunner, Outcome, TurnContext};
use crate::flow::revisions::{PinnedNode, Revision, RevisionSummary};
use crate::flow::{self, Action, Next, Outgoing, StepInput, StepOutput};
use crate::plugin::logs::LogBudget;
use crate::plugin::{FailureKind, StepFailure};
use crate::sessions::steps::RegistryRunner;
use crate::state::AppState;
use crate::store::TenantId;
use crate::store::{flows, tenants};

/// Longest message a tester may type.
const MAX_TEXT_CHARS: usize = 4000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(try_flow))
}

/// One turn of a trial chat.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TryTurn {
    /// The revision to try; absent or null for the saved draft.
    #[serde(default)]
    pub revision: Option<i32>,
    /// The state the previous turn answered; absent or null to start over.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub state: Option<serde_json::Value>,
    pub input: TryInput,
}

/// What wakes the flow this turn.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum TryInput {
    /// The trial session arrives (the flow starts at its start node).
    Entered,
    /// The tester writes.
    UserMessage {
        #[schema(min_length = 1, max_length = 4000)]
        text: String,
    },
    /// The wait of the current node ran out.
    WaitTimedOut,
}

/// What one turn did.
#[derive(Debug, Serialize, ToSchema)]
pub struct TryAnswer {
    pub steps: Vec<TryStep>,
    /// The messages the user would receive, in order.
    pub sends: Vec<Outgoing>,
    pub outcome: TryOutcome,
    /// The node the flow is at after the turn.
    pub node: Option<String>,
    /// Send this back with the next turn.
    #[schema(value_type = Object)]
    pub state: serde_json::Value,
}

/// One step of the turn.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TryStep {
    pub node: String,
    pub module: String,
    pub version: String,
    /// The exit the step left by, when it left.
    pub exit: Option<String>,
    /// Whether it waits for the user.
    pub waits: bool,
    pub actions: Vec<Action>,
    pub failure: Option<TryFailure>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TryFailure {
    pub kind: FailureKind,
    pub message: String,
}

/// How the turn left the trial session.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TryOutcome {
    Waiting,
    Suspended,
    /// The session would be queued for this group (nothing is queued).
    Transfer {
        skill_group_id: Uuid,
        priority: u8,
    },
    Ended {
        end_status: u16,
    },
}

/// Runs one turn of the flow's draft or of one of its revisions, without a session.
#[utoipa::path(
    post,
    path = "/api/v1/flows/{id}/try",
    tag = "flows",
    security(("bearer" = ["admin"])),
    params(("id" = Uuid, Path, description = "Flow id")),
    request_body = TryTurn,
    responses(
        (status = 200, body = TryAnswer),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`flow_invalid` (the draft has problems) or `validation_failed`", body = ErrorBody),
    )
)]
async fn try_flow(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Id(id): Id,
    Json(turn): Json<TryTurn>,
) -> Result<axum::Json<TryAnswer>> {
    let limits = &state.config.sessions;
    let mut flow_state: FlowState = match turn.state {
        None | Some(serde_json::Value::Null) => FlowState::default(),
        Some(v) => {
            if v.to_string().len() as u64 > limits.max_flow_state_bytes * 2 {
                return Err(FieldErrors::single("state", "larger than a session may hold").into());
            }
            serde_json::from_value(v)
                .map_err(|_| FieldErrors::single("state", "not a state this endpoint answered"))?
        }
    };
    let trigger = match turn.input {
        TryInput::Entered => {
            flow_state = FlowState::default();
            flow::Trigger::Entered
        }
        TryInput::UserMessage { text } => {
            if text.trim().is_empty() || text.chars().count() > MAX_TEXT_CHARS {
                return Err(FieldErrors::single(
                    "input.text",
                    format!("1 to {MAX_TEXT_CHARS} characters"),
                )
                .into());
            }
            flow::Trigger::UserMessage(flow::UserMessage {
                elements: vec![flow::MessageElement::Text(text.clone())],
                text,
                sent_at_ms: Utc::now().timestamp_millis(),
            })
        }
        TryInput::WaitTimedOut => flow::Trigger::WaitTimedOut,
    };
    let revision = match turn.revision {
        Some(number) => flows::revision(&state.db, auth.tenant, id, number)
            .await
            .or_not_found("revision")?,
        None => draft_revision(&state, auth.tenant, id).await?,
    };
    let tenant = tenants::get(&state.db, auth.tenant).await?;
    let session_id = format!("try-{}", Uuid::now_v7());
    let runner = TryRunner {
        inner: RegistryRunner {
            registry: &state.plugins,
            groups: &state.router.signals().groups,
            db: &state.db,
            tenant: auth.tenant,
            time_zone: tenant.time_zone,
            session_id: session_id.clone(),
            turn_log: Arc::new(LogBudget::new(crate::plugin::logs::PER_TURN)),
        },
        steps: Mutex::new(Vec::new()),
    };
    let ctx = TurnContext {
        session: flow::SessionInfo {
            id: session_id,
            tenant_id: auth.tenant.0.to_string(),
            channel_id: String::new(),
            user_id: format!("try-{}", auth.agent_id),
            user_nickname: "Tester".into(),
        },
        revision: &revision,
        fallback_group: None,
        max_steps: limits.max_steps_per_turn,
        max_time: std::time::Duration::from_millis(limits.max_turn_ms),
        max_sent_bytes: limits.max_turn_output_bytes,
        max_state_bytes: limits.max_flow_state_bytes,
        now: Utc::now(),
    };
    let done = engine::run_turn(&ctx, &runner, &mut flow_state, trigger).await;
    let steps = runner.steps.into_inner().unwrap_or_else(|p| p.into_inner());
    let outcome = match done.outcome {
        Outcome::Waiting { .. } => TryOutcome::Waiting,
        Outcome::Suspended => TryOutcome::Suspended,
        Outcome::Transfer {
            skill_group_id,
            priority,
        } => TryOutcome::Transfer {
            skill_group_id,
            priority,
        },
        Outcome::Ended { end_status } => TryOutcome::Ended { end_status },
    };
    Ok(axum::Json(TryAnswer {
        steps,
        sends: done.sends,
        outcome,
        node: flow_state.node.clone(),
        state: serde_json::to_value(&flow_state).map_err(|e| Error::Internal(e.into()))?,
    }))
}

/// The saved draft as a revision that exists nowhere but in this request, pinned to
/// the modules installed now; refused while the draft has problems.
async fn draft_revision(state: &AppState, tenant: TenantId, id: Uuid) -> Result<Revision> {
    let flow = flows::get(&state.db, tenant, id)
        .await
        .or_not_found("flow")?;
    let verdict = catalog::check(&state.plugins, tenant, &flow.draft).await?;
    if !verdict.valid {
        return Err(super::flows::invalid_flow(&verdict.problems));
    }
    Ok(Revision {
        id: Uuid::nil(),
        flow_id: id,
        summary: RevisionSummary {
            number: 0,
            restored_from: None,
            note: String::new(),
            published_by: None,
            published_at: Utc::now(),
        },
        graph: flow.draft,
        nodes: verdict.nodes,
    })
}

/// Steps nodes as a session's turn does, and keeps what each step did for the answer.
struct TryRunner<'a> {
    inner: RegistryRunner<'a>,
    steps: Mutex<Vec<TryStep>>,
}

#[async_trait::async_trait]
impl NodeRunner for TryRunner<'_> {
    async fn step(
        &self,
        node: &PinnedNode,
        config: &str,
        input: StepInput,
    ) -> std::result::Result<StepOutput, StepFailure> {
        let answer = self.inner.step(node, config, input).await;
        let mut step = TryStep {
            node: node.id.clone(),
            module: node.module.clone(),
            version: node.version.clone(),
            exit: None,
            waits: false,
            actions: Vec::new(),
            failure: None,
        };
        match &answer {
            Ok(out) => {
                step.actions = out.actions.clone();
                match &out.next {
                    Next::Exit { exit } => step.exit = Some(exit.clone()),
                    Next::Wait { .. } => step.waits = true,
                    Next::Suspend => {}
                }
            }
            Err(f) => {
                step.exit = Some(crate::flow::graph::ERROR_EXIT.into());
                step.failure = Some(TryFailure {
                    kind: f.kind,
                    message: f.message.clone(),
                });
            }
        }
        self.steps
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(step);
        answer
    }

    async fn skill_group(&self, id: &str) -> Option<Uuid> {
        self.inner.skill_group(id).await
    }
}
