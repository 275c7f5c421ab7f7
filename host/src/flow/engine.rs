//! The flow engine: runs one turn of a session's flow.
//!
//! A turn starts with what woke the session (it arrived, the user wrote, a wait
//! timed out, it came back from the queue) and steps nodes until one waits for the
//! user, suspends (queued for an agent), or the session ends. Each step's actions are
//! collected, in order, for the caller to carry out; the session's flow state
//! ([`FlowState`]: current node, variables, each module's private state) is updated
//! in place, so that the caller stores it with the turn's effects in one transaction.
//!
//! A failed step never stops the session: the flow leaves the node by its `error`
//! edge when it has one, and otherwise falls back safely, to the channel's default
//! skill group or, without one, by ending the session with end status 0. A turn that
//! steps more than its step limit is a runaway loop and fails the same way; so does
//! one whose module calls run longer than the turn's time in all. What a turn may
//! send, and what a session may hold (its variables and modules' private states), is
//! bounded too: a step that would go beyond fails without being applied.
//!
//! The engine knows nothing of the database, HTTP or wasmtime: nodes are stepped
//! through [`NodeRunner`].

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::graph::ERROR_EXIT;
use super::revisions::{PinnedNode, Revision};
use super::step::{
    Action, Next, Outgoing, SessionInfo, StepInput, StepOutput, SurveyAction, Trigger, Variable,
};
use crate::plugin::{FailureKind, StepFailure};

/// The longest label of a satisfaction rating (the record keeps it as given).
pub const MAX_SURVEY_LABEL: usize = 64;
/// The longest comment on a satisfaction rating.
pub const MAX_SURVEY_COMMENT: usize = 2000;
/// Most variables a session may hold.
pub const MAX_VARIABLES: usize = 200;
/// The longest wait a module may ask for: 7 days.
pub const MAX_WAIT_MS: u64 = 7 * 24 * 3600 * 1000;
/// The priority of a fallback transfer.
pub const FALLBACK_PRIORITY: u8 = 5;
/// The end status of a session ended abnormally (TCCC).
pub const END_ABNORMAL: u16 = 0;

/// A session's position in its flow, stored with the session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowState {
    /// The node the session is at; `None` before the flow starts and once the session
    /// has left it (a fallback transfer).
    pub node: Option<String>,
    /// The session's variables: name → JSON value as text.
    pub variables: BTreeMap<String, String>,
    /// Each node's private module state from its last step.
    #[serde(with = "states")]
    pub node_states: BTreeMap<String, Vec<u8>>,
    /// Turns run so far.
    pub turns: u32,
    /// Steps that failed so far.
    pub failures: u32,
}

mod states {
    use std::collections::BTreeMap;

    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        map: &BTreeMap<String, Vec<u8>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        map.iter()
            .map(|(k, v)| (k, STANDARD.encode(v)))
            .collect::<BTreeMap<_, _>>()
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, Vec<u8>>, D::Error> {
        BTreeMap::<String, String>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| {
                STANDARD
                    .decode(v)
                    .map(|b| (k, b))
                    .map_err(serde::de::Error::custom)
            })
            .collect()
    }
}

/// How a turn left the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A node waits for the user's reply, until `until` when it has a timeout.
    Waiting { until: Option<DateTime<Utc>> },
    /// A node suspended: the session stays on it until something resumes it.
    Suspended,
    /// The session is to be queued for a skill group (the node suspends meanwhile).
    Transfer { skill_group_id: Uuid, priority: u8 },
    /// The session ends.
    Ended { end_status: u16 },
}

/// A step that failed, and where the flow went instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFailure {
    pub node: String,
    pub kind: FailureKind,
    pub message: String,
    /// `true` when the node's `error` edge was taken; otherwise the fallback.
    pub took_error_exit: bool,
}

/// Everything a turn did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// Messages to send to the user, in order.
    pub sends: Vec<Outgoing>,
    /// Satisfaction-survey events, in order.
    pub surveys: Vec<SurveyAction>,
    pub outcome: Outcome,
    pub failures: Vec<NodeFailure>,
    /// Steps run.
    pub steps: u32,
    /// Bytes of the messages sent so far.
    pub sent_bytes: u64,
}

/// Steps nodes for the engine, and checks what they ask for.
#[async_trait::async_trait]
pub trait NodeRunner: Send + Sync {
    /// Runs one step of `node` (configured with `config`, JSON text).
    async fn step(
        &self,
        node: &PinnedNode,
        config: &str,
        input: StepInput,
    ) -> Result<StepOutput, StepFailure>;

    /// The skill group a transfer names, when it is a group of the session's tenant.
    async fn skill_group(&self, id: &str) -> Option<Uuid>;
}

/// What the engine needs to know about the session beyond its flow state.
#[derive(Debug, Clone)]
pub struct TurnContext<'a> {
    pub session: SessionInfo,
    pub revision: &'a Revision,
    /// The channel's default skill group, for the fallback.
    pub fallback_group: Option<Uuid>,
    pub max_steps: u32,
    /// How long the turn's steps may take in all.
    pub max_time: std::time::Duration,
    /// Most bytes of messages the turn may send.
    pub max_sent_bytes: u64,
    /// Most bytes the session's variables and modules' states may hold together.
    pub max_state_bytes: u64,
    pub now: DateTime<Utc>,
}

/// Runs one turn. `trigger` goes to the current node, or to the start node when the
/// session has not entered the flow yet.
pub async fn run_turn(
    ctx: &TurnContext<'_>,
    runner: &dyn NodeRunner,
    state: &mut FlowState,
    trigger: Trigger,
) -> Turn {
    let mut turn = Turn {
        sends: Vec::new(),
        surveys: Vec::new(),
        outcome: Outcome::Suspended,
        failures: Vec::new(),
        steps: 0,
        sent_bytes: 0,
    };
    let started = std::time::Instant::now();
    state.turns = state.turns.saturating_add(1);
    let graph = &ctx.revision.graph;
    let mut trigger = trigger;
    let mut current = match &state.node {
        Some(node) => node.clone(),
        None => {
            trigger = Trigger::Entered;
            graph.start.clone()
        }
    };
    loop {
        if turn.steps >= ctx.max_steps {
            let failure = StepFailure::new(
                FailureKind::InvalidOutput,
                format!(
                    "the flow ran {} steps in one turn without waiting: a runaway loop",
                    turn.steps
                ),
            );
            turn.outcome = fail(ctx, state, &mut turn, &current, failure, false);
            return turn;
        }
        if turn.steps > 0 && started.elapsed() >= ctx.max_time {
            let failure = StepFailure::new(
                FailureKind::Deadline,
                format!(
                    "the turn's steps ran for over {} ms without waiting",
                    ctx.max_time.as_millis()
                ),
            );
            turn.outcome = fail(ctx, state, &mut turn, &current, failure, false);
            return turn;
        }
        turn.steps += 1;
        state.node = Some(current.clone());
        let (Some(pinned), Some(node)) = (ctx.revision.node(&current), graph.node(&current)) else {
            let failure = StepFailure::new(
                FailureKind::InvalidOutput,
                format!("the revision has no node {current:?}"),
            );
            turn.outcome = fail(ctx, state, &mut turn, &current, failure, false);
            return turn;
        };
        let input = StepInput {
            session: ctx.session.clone(),
            node_id: current.clone(),
            trigger: std::mem::replace(&mut trigger, Trigger::Entered),
            config: node.config.to_string(),
            prepared: None,
            variables: state
                .variables
                .iter()
                .map(|(name, value)| Variable {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            state: state.node_states.get(&current).cloned(),
            turn: state.turns,
        };
        let config = input.config.clone();
        let applied = match runner.step(pinned, &config, input).await {
            Ok(output) => apply(ctx, runner, state, &mut turn, &current, output).await,
            Err(failure) => Err(failure),
        };
        let next =
            match applied {
                Ok(Step::Stop(outcome)) => {
                    turn.outcome = outcome;
                    return turn;
                }
                Ok(Step::Exit(exit)) => graph
                    .target(&current, &exit)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        StepFailure::new(
                            FailureKind::InvalidOutput,
                            format!("the node left by {exit:?}, which leads nowhere"),
                        )
                    }),
                Err(failure) => Err(failure),
            };
        match next {
            Ok(to) => current = to,
            Err(failure) => {
                state.failures = state.failures.saturating_add(1);
                match graph.target(&current, ERROR_EXIT) {
                    Some(to) => {
                        record(&mut turn, &current, &failure, true);
                        current = to.to_owned();
                    }
                    None => {
                        turn.outcome = fail(ctx, state, &mut turn, &current, failure, false);
                        return turn;
                    }
                }
            }
        }
    }
}

/// What a successful step means for the turn.
enum Step {
    Exit(String),
    Stop(Outcome),
}

/// Carries out a step's output on the flow state and the turn.
async fn apply(
    ctx: &TurnContext<'_>,
    runner: &dyn NodeRunner,
    state: &mut FlowState,
    turn: &mut Turn,
    node: &str,
    output: StepOutput,
) -> Result<Step, StepFailure> {
    // Check everything before changing anything, so that a refused step leaves the
    // session as it was.
    let mut transfer = None;
    let mut end = None;
    let mut variables = state.variables.clone();
    for action in &output.actions {
        match action {
            Action::Transfer(t) => {
                let Some(group) = runner.skill_group(&t.skill_group_id).await else {
                    return Err(StepFailure::new(
                        FailureKind::InvalidOutput,
                        format!("no skill group {:?} in this tenant", t.skill_group_id),
                    ));
                };
                transfer = Some((group, t.priority));
            }
            Action::EndSession { end_status } => end = Some(*end_status),
            Action::SetVariable(v) => {
                variables.insert(v.name.clone(), v.value.clone());
            }
            Action::UnsetVariable { name } => {
                variables.remove(name);
            }
            Action::Survey {
                survey:
                    SurveyAction::Record {
                        score,
                        label,
                        comment,
                    },
            } => {
                if !(1..=5).contains(score)
                    || label.chars().count() > MAX_SURVEY_LABEL
                    || comment
                        .as_ref()
                        .is_some_and(|c| c.chars().count() > MAX_SURVEY_COMMENT)
                {
                    return Err(StepFailure::new(
                        FailureKind::InvalidOutput,
                        format!(
                            "a rating is a score from 1 to 5 with a label of at most {MAX_SURVEY_LABEL} and a comment of at most {MAX_SURVEY_COMMENT} characters"
                        ),
                    ));
                }
            }
            Action::Send { .. } | Action::Survey { .. } => {}
        }
    }
    if variables.len() > MAX_VARIABLES {
        return Err(StepFailure::new(
            FailureKind::OversizedOutput,
            format!("a session may hold at most {MAX_VARIABLES} variables"),
        ));
    }
    let held = state_bytes(
        &variables,
        &state.node_states,
        node,
        output.state.as_deref(),
    );
    if held > ctx.max_state_bytes {
        return Err(StepFailure::new(
            FailureKind::OversizedOutput,
            format!(
                "the session would hold {held} bytes of variables and module states, over {}",
                ctx.max_state_bytes
            ),
        ));
    }
    let sent: u64 = output
        .actions
        .iter()
        .map(|a| match a {
            Action::Send { message } => outgoing_bytes(message),
            _ => 0,
        })
        .sum();
    if turn.sent_bytes + sent > ctx.max_sent_bytes {
        return Err(StepFailure::new(
            FailureKind::OversizedOutput,
            format!(
                "the turn would send more than {} bytes of messages",
                ctx.max_sent_bytes
            ),
        ));
    }
    turn.sent_bytes += sent;
    state.variables = variables;
    for action in output.actions {
        match action {
            Action::Send { message } => turn.sends.push(message),
            Action::Survey { survey } => turn.surveys.push(survey),
            _ => {}
        }
    }
    match output.state {
        Some(s) => state.node_states.insert(node.to_owned(), s),
        None => state.node_states.remove(node),
    };
    if let Some(end_status) = end {
        return Ok(Step::Stop(Outcome::Ended { end_status }));
    }
    if let Some((skill_group_id, priority)) = transfer {
        return Ok(Step::Stop(Outcome::Transfer {
            skill_group_id,
            priority,
        }));
    }
    Ok(match output.next {
        Next::Exit { exit } => Step::Exit(exit),
        Next::Wait { timeout_ms } => Step::Stop(Outcome::Waiting {
            until: (timeout_ms > 0).then(|| {
                ctx.now + chrono::Duration::milliseconds(timeout_ms.min(MAX_WAIT_MS) as i64)
            }),
        }),
        Next::Suspend => Step::Stop(Outcome::Suspended),
    })
}

/// What a session would hold: its variables, and every node's state with `node`'s
/// replaced by `new_state`.
fn state_bytes(
    variables: &BTreeMap<String, String>,
    states: &BTreeMap<String, Vec<u8>>,
    node: &str,
    new_state: Option<&[u8]>,
) -> u64 {
    let vars: usize = variables.iter().map(|(k, v)| k.len() + v.len()).sum();
    let others: usize = states
        .iter()
        .filter(|(k, _)| k.as_str() != node)
        .map(|(k, v)| k.len() + v.len())
        .sum();
    (vars + others + new_state.map_or(0, |s| node.len() + s.len())) as u64
}

fn outgoing_bytes(message: &Outgoing) -> u64 {
    let len = match message {
        Outgoing::Text { text } => text.len(),
        Outgoing::Menu { title, choices } => {
            title.len()
                + choices
                    .iter()
                    .map(|c| c.id.len() + c.label.len())
                    .sum::<usize>()
        }
        Outgoing::Custom(c) => c.data.len() + c.desc.len() + c.ext.len(),
    };
    len as u64
}

fn record(turn: &mut Turn, node: &str, failure: &StepFailure, took_error_exit: bool) {
    tracing::warn!(
        node,
        kind = failure.kind.as_str(),
        message = %failure.message,
        error_exit = took_error_exit,
        "flow step failed"
    );
    turn.failures.push(NodeFailure {
        node: node.to_owned(),
        kind: failure.kind,
        message: failure.message.clone(),
        took_error_exit,
    });
}

/// The safe fallback when a node fails without an `error` edge: the channel's default
/// skill group, or the end with status 0. The session leaves the flow.
fn fail(
    ctx: &TurnContext<'_>,
    state: &mut FlowState,
    turn: &mut Turn,
    node: &str,
    failure: StepFailure,
    took_error_exit: bool,
) -> Outcome {
    record(turn, node, &failure, took_error_exit);
    state.node = None;
    match ctx.fallback_group {
        Some(skill_group_id) => Outcome::Transfer {
            skill_group_id,
            priority: FALLBACK_PRIORITY,
        },
        None => Outcome::Ended {
            end_status: END_ABNORMAL,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::flow::graph::Graph;
    use crate::flow::revisions::RevisionSummary;
    use crate::flow::step::Transfer;

    type Answer = dyn Fn(&str, &StepInput) -> Result<StepOutput, StepFailure> + Send + Sync;

    /// A scripted runner: each node answers from a closure of its trigger.
    struct Script {
        answer: Box<Answer>,
        group: Uuid,
        seen: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl NodeRunner for Script {
        async fn step(
            &self,
            node: &PinnedNode,
            _config: &str,
            input: StepInput,
        ) -> Result<StepOutput, StepFailure> {
            self.seen
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(node.id.clone());
            (self.answer)(&node.id, &input)
        }

        async fn skill_group(&self, id: &str) -> Option<Uuid> {
            (id == self.group.to_string()).then_some(self.group)
        }
    }

    fn revision(graph: serde_json::Value) -> Revision {
        let graph: Graph = serde_json::from_value(graph).unwrap_or_else(|e| panic!("{e}"));
        let nodes = graph
            .nodes
            .iter()
            .map(|n| PinnedNode {
                id: n.id.clone(),
                plugin_id: Uuid::nil(),
                module: n.module.clone(),
                version: "1.0.0".into(),
                exits: vec![],
                waits: true,
            })
            .collect();
        Revision {
            id: Uuid::nil(),
            flow_id: Uuid::nil(),
            summary: RevisionSummary {
                number: 1,
                restored_from: None,
                note: String::new(),
                published_by: None,
                published_at: Utc::now(),
            },
            graph,
            nodes,
        }
    }

    fn exit(name: &str) -> StepOutput {
        StepOutput {
            actions: vec![],
            next: Next::Exit { exit: name.into() },
            state: None,
        }
    }

    fn say(text: &str, next: Next) -> StepOutput {
        StepOutput {
            actions: vec![Action::Send {
                message: Outgoing::Text { text: text.into() },
            }],
            next,
            state: Some(text.as_bytes().to_vec()),
        }
    }

    fn ctx(revision: &Revision, fallback: Option<Uuid>) -> TurnContext<'_> {
        TurnContext {
            session: SessionInfo::default(),
            revision,
            fallback_group: fallback,
            max_steps: 20,
            max_time: std::time::Duration::from_secs(10),
            max_sent_bytes: 1024,
            max_state_bytes: 1024,
            now: Utc::now(),
        }
    }

    fn three_nodes(error_edge: bool) -> Revision {
        let mut edges = vec![
            serde_json::json!({"from": "a", "exit": "next", "to": "b"}),
            serde_json::json!({"from": "b", "exit": "next", "to": "c"}),
        ];
        if error_edge {
            edges.push(serde_json::json!({"from": "b", "exit": "error", "to": "c"}));
        }
        revision(serde_json::json!({
            "start": "a",
            "nodes": [{"id": "a", "module": "m"}, {"id": "b", "module": "m"}, {"id": "c", "module": "end"}],
            "edges": edges,
        }))
    }

    fn script(
        answer: impl Fn(&str, &StepInput) -> Result<StepOutput, StepFailure> + Send + Sync + 'static,
    ) -> Script {
        Script {
            answer: Box::new(answer),
            group: Uuid::now_v7(),
            seen: Mutex::default(),
        }
    }

    #[tokio::test]
    async fn a_turn_runs_from_the_start_until_a_node_waits_and_resumes_there() {
        let rev = three_nodes(false);
        let runner = script(|node, input| {
            Ok(match (node, &input.trigger) {
                ("a", Trigger::Entered) => say(
                    "hello",
                    Next::Exit {
                        exit: "next".into(),
                    },
                ),
                ("b", Trigger::Entered) => say("menu", Next::Wait { timeout_ms: 60_000 }),
                ("b", Trigger::UserMessage(_)) => {
                    assert_eq!(input.state.as_deref(), Some(&b"menu"[..]));
                    exit("next")
                }
                ("c", _) => StepOutput {
                    actions: vec![Action::EndSession { end_status: 1 }],
                    next: Next::Suspend,
                    state: None,
                },
                other => panic!("unexpected {other:?}"),
            })
        });
        let mut state = FlowState::default();
        let c = ctx(&rev, None);
        let turn = run_turn(&c, &runner, &mut state, Trigger::Entered).await;
        assert_eq!(turn.sends.len(), 2);
        assert_eq!(
            turn.outcome,
            Outcome::Waiting {
                until: Some(c.now + chrono::Duration::seconds(60))
            }
        );
        assert_eq!(state.node.as_deref(), Some("b"));
        let turn = run_turn(
            &c,
            &runner,
            &mut state,
            Trigger::UserMessage(Default::default()),
        )
        .await;
        assert_eq!(turn.outcome, Outcome::Ended { end_status: 1 });
        assert_eq!(state.turns, 2);
        assert!(!state.node_states.contains_key("b"));
    }

    #[tokio::test]
    async fn a_failed_step_takes_the_error_edge_when_there_is_one() {
        let rev = three_nodes(true);
        let runner = script(|node, _| match node {
            "a" => Ok(exit("next")),
            "b" => Err(StepFailure::new(FailureKind::OutOfFuel, "spun")),
            _ => Ok(StepOutput {
                actions: vec![Action::EndSession { end_status: 1 }],
                next: Next::Suspend,
                state: None,
            }),
        });
        let mut state = FlowState::default();
        let turn = run_turn(&ctx(&rev, None), &runner, &mut state, Trigger::Entered).await;
        assert_eq!(turn.outcome, Outcome::Ended { end_status: 1 });
        assert_eq!(turn.failures.len(), 1);
        assert!(turn.failures[0].took_error_exit);
        assert_eq!(turn.failures[0].kind, FailureKind::OutOfFuel);
        assert_eq!(state.failures, 1);
    }

    #[tokio::test]
    async fn without_an_error_edge_a_failure_falls_back_to_the_default_group_or_ends_with_0() {
        let rev = three_nodes(false);
        let runner = script(|node, _| match node {
            "a" => Ok(say(
                "hi",
                Next::Exit {
                    exit: "next".into(),
                },
            )),
            _ => Err(StepFailure::new(FailureKind::Trap, "panicked")),
        });
        let mut state = FlowState::default();
        let turn = run_turn(&ctx(&rev, None), &runner, &mut state, Trigger::Entered).await;
        assert_eq!(turn.outcome, Outcome::Ended { end_status: 0 });
        assert_eq!(
            turn.sends.len(),
            1,
            "what was said before the failure stays said"
        );
        assert_eq!(state.node, None);

        let group = runner.group;
        let mut state = FlowState::default();
        let turn = run_turn(
            &ctx(&rev, Some(group)),
            &runner,
            &mut state,
            Trigger::Entered,
        )
        .await;
        assert_eq!(
            turn.outcome,
            Outcome::Transfer {
                skill_group_id: group,
                priority: FALLBACK_PRIORITY
            }
        );
    }

    #[tokio::test]
    async fn an_unknown_skill_group_or_exit_fails_the_step_without_applying_it() {
        let rev = three_nodes(false);
        let runner = script(|node, _| match node {
            "a" => Ok(StepOutput {
                actions: vec![
                    Action::SetVariable(Variable {
                        name: "x".into(),
                        value: "1".into(),
                    }),
                    Action::Transfer(Transfer {
                        skill_group_id: "nobody".into(),
                        priority: 1,
                    }),
                ],
                next: Next::Suspend,
                state: None,
            }),
            _ => unreachable!(),
        });
        let mut state = FlowState::default();
        let turn = run_turn(&ctx(&rev, None), &runner, &mut state, Trigger::Entered).await;
        assert_eq!(turn.outcome, Outcome::Ended { end_status: 0 });
        assert!(state.variables.is_empty(), "a refused step changes nothing");
        assert_eq!(turn.failures[0].kind, FailureKind::InvalidOutput);

        let runner = script(|_, _| Ok(exit("sideways")));
        let mut state = FlowState::default();
        let turn = run_turn(&ctx(&rev, None), &runner, &mut state, Trigger::Entered).await;
        assert_eq!(turn.outcome, Outcome::Ended { end_status: 0 });
        assert!(turn.failures[0].message.contains("sideways"));
    }

    #[tokio::test]
    async fn a_rating_out_of_range_fails_the_step_and_a_valid_one_is_kept_for_the_record() {
        let rev = three_nodes(false);
        let rated = |score: u8, label: &str| StepOutput {
            actions: vec![Action::Survey {
                survey: SurveyAction::Record {
                    score,
                    label: label.into(),
                    comment: None,
                },
            }],
            next: Next::Suspend,
            state: None,
        };
        for (score, label) in [
            (0, "差"),
            (6, "超好"),
            (5, &*"好".repeat(MAX_SURVEY_LABEL + 1)),
        ] {
            let output = rated(score, label);
            let runner = script(move |_, _| Ok(output.clone()));
            let mut state = FlowState::default();
            let turn = run_turn(&ctx(&rev, None), &runner, &mut state, Trigger::Entered).await;
            assert!(turn.surveys.is_empty(), "score {score}");
            assert_eq!(turn.failures[0].kind, FailureKind::InvalidOutput);
        }
        let output = rated(4, "满意");
        let runner = script(move |_, _| Ok(output.clone()));
        let mut state = FlowState::default();
        let turn = run_turn(&ctx(&rev, None), &runner, &mut state, Trigger::Entered).await;
        assert!(turn.failures.is_empty());
        assert_eq!(
            turn.surveys,
            [SurveyAction::Record {
                score: 4,
                label: "满意".into(),
                comment: None
            }]
        );
    }

    #[tokio::test]
    async fn a_loop_that_never_waits_is_stopped_by_the_step_limit() {
        let rev = revision(serde_json::json!({
            "start": "a",
            "nodes": [{"id": "a", "module": "m"}, {"id": "b", "module": "m"}],
            "edges": [{"from": "a", "exit": "next", "to": "b"}, {"from": "b", "exit": "next", "to": "a"}],
        }));
        let runner = script(|_, _| Ok(exit("next")));
        let mut state = FlowState::default();
        let c = ctx(&rev, None);
        let turn = run_turn(&c, &runner, &mut state, Trigger::Entered).await;
        assert_eq!(turn.steps, c.max_steps);
        assert_eq!(turn.outcome, Outcome::Ended { end_status: 0 });
        assert!(turn.failures[0].message.contains("runaway"));
    }

    #[test]
    fn flow_state_survives_a_round_trip_through_json() {
        let mut state = FlowState {
            node: Some("menu".into()),
            ..FlowState::default()
        };
        state.variables.insert("order".into(), "\"A1\"".into());
        state.node_states.insert("menu".into(), vec![0, 159, 255]);
        let text = serde_json::to_string(&state).unwrap_or_default();
        let back: FlowState = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, state);
    }
}
