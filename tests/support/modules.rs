//! Drives flow modules as the flow engine does: the real components from `plugins/`,
//! loaded into kefu's real plugin runtime, stepped through scripted conversations.
//!
//! The host imports answer from a [`World`] the test controls: the time (so that
//! opening hours can be tested at any hour) and each skill group's queue.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use kefu::flow::{
    self, Action, ConfigProblem, ExitInfo, ModuleError, Next, NodeInfo, Outgoing, QueueStatus,
    ResumeReason, StepOutput, SurveyAction, Trigger, UserMessage, Variable,
};
use kefu::plugin::{
    HostServices, Limits, Module, Origin, Runtime, RuntimeConfig, StepContext, StepFailure,
};
use serde_json::Value;

/// What the host imports answer: the clock and the skill groups' queues.
#[derive(Debug)]
pub struct World {
    now: Mutex<DateTime<Utc>>,
    queues: Mutex<HashMap<String, QueueStatus>>,
}

impl World {
    /// Sets the clock (UTC).
    pub fn set_now(&self, now: DateTime<Utc>) {
        *self.now.lock().unwrap() = now;
    }

    /// Sets the clock from a local date and time in `zone` (`"2026-11-23 09:30"`).
    pub fn set_local(&self, zone: &str, local: &str) {
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M").unwrap();
        let at = tz.from_local_datetime(&naive).single().unwrap();
        self.set_now(at.with_timezone(&Utc));
    }

    /// Makes `group` exist with this queue.
    pub fn set_queue(&self, group: &str, status: QueueStatus) {
        self.queues.lock().unwrap().insert(group.to_owned(), status);
    }
}

/// The host imports, answered from a [`World`].
struct Host(Arc<World>);

#[async_trait::async_trait]
impl HostServices for Host {
    async fn queue_status(&self, _tenant: &str, group: &str) -> Option<QueueStatus> {
        self.0.queues.lock().unwrap().get(group).copied()
    }

    fn now(&self) -> DateTime<Utc> {
        self.0.now()
    }
}

/// kefu's plugin runtime with the built-in modules loaded.
pub struct Harness {
    pub runtime: Arc<Runtime>,
    pub world: Arc<World>,
    modules: Mutex<HashMap<String, Arc<Module>>>,
}

impl Harness {
    /// A runtime with default limits, the clock at 2026-11-23 10:00 UTC (a Monday) and
    /// no skill groups.
    pub fn new() -> Self {
        let world = Arc::new(World {
            now: Mutex::new(Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap()),
            queues: Mutex::new(HashMap::new()),
        });
        let config = RuntimeConfig {
            max_instances: 16,
            ..RuntimeConfig::default()
        };
        let runtime = Arc::new(Runtime::new(config, Arc::new(Host(world.clone()))).unwrap());
        Self {
            runtime,
            world,
            modules: Mutex::new(HashMap::new()),
        }
    }

    /// The built-in module `name` (its crate is `kefu-module-<name>`), loaded once.
    pub async fn module(&self, name: &str) -> Arc<Module> {
        if let Some(m) = self.modules.lock().unwrap().get(name) {
            return m.clone();
        }
        let crate_name = format!("kefu-module-{name}");
        let (_, path) = kefu::builtin_plugins::MODULES
            .iter()
            .find(|(c, _)| *c == crate_name)
            .unwrap_or_else(|| panic!("no built-in module {crate_name} in plugins/"));
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let module = Arc::new(
            self.runtime
                .load(Arc::new(bytes), &Limits::default(), Origin::Builtin, None)
                .await
                .unwrap_or_else(|e| panic!("{name} does not load: {e}")),
        );
        self.modules
            .lock()
            .unwrap()
            .insert(name.to_owned(), module.clone());
        module
    }

    /// `validate-config` of module `name`: the node's exits, or the problems.
    pub async fn validate(
        &self,
        name: &str,
        config: &Value,
    ) -> Result<Vec<ExitInfo>, Vec<ConfigProblem>> {
        self.validate_node(name, config)
            .await
            .map(|node| node.exits)
    }

    /// `validate-config` of module `name`: what the node looks like, or the problems.
    pub async fn validate_node(
        &self,
        name: &str,
        config: &Value,
    ) -> Result<NodeInfo, Vec<ConfigProblem>> {
        let module = self.module(name).await;
        match self
            .runtime
            .validate_config(
                &module,
                &StepContext::default(),
                &Limits::default(),
                &config.to_string(),
            )
            .await
        {
            Ok(node) => Ok(node),
            Err(StepFailure {
                module_error: Some(ModuleError::InvalidConfig(problems)),
                ..
            }) => Err(problems),
            Err(other) => panic!("validate-config of {name} failed: {other}"),
        }
    }

    /// A conversation of one session on a node of module `name` with `config`, which
    /// must be valid; `prepare` has run, as the engine runs it once per revision.
    pub async fn conversation(&self, name: &str, config: Value) -> Conversation<'_> {
        let module = self.module(name).await;
        let config = config.to_string();
        let exits = match self
            .validate(name, &serde_json::from_str(&config).unwrap())
            .await
        {
            Ok(exits) => exits,
            Err(problems) => panic!("invalid configuration for {name}: {problems:?}"),
        };
        let prepared = self
            .runtime
            .prepare(
                &module,
                &StepContext::default(),
                &Limits::default(),
                &config,
            )
            .await
            .unwrap_or_else(|e| panic!("prepare of {name} failed: {e}"));
        Conversation {
            harness: self,
            module,
            config,
            prepared,
            exits,
            variables: Vec::new(),
            state: None,
            turn: 0,
            session: flow::SessionInfo {
                id: "session-1".into(),
                tenant_id: "tenant-1".into(),
                channel_id: "channel-1".into(),
                user_id: "user_42".into(),
                user_nickname: "小明".into(),
            },
            time_zone: "Asia/Shanghai".into(),
        }
    }
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

/// One session on one node: keeps the variables, the module's private state and the
/// turn between steps, as the flow engine does.
pub struct Conversation<'h> {
    harness: &'h Harness,
    pub module: Arc<Module>,
    pub config: String,
    pub prepared: Vec<u8>,
    /// The node's exits, as `validate-config` answered.
    pub exits: Vec<ExitInfo>,
    pub variables: Vec<Variable>,
    pub state: Option<Vec<u8>>,
    pub turn: u32,
    pub session: flow::SessionInfo,
    /// The tenant's time zone.
    pub time_zone: String,
}

impl Conversation<'_> {
    /// Sets a session variable to a JSON value.
    pub fn set_variable(&mut self, name: &str, value: Value) {
        self.variables.retain(|v| v.name != name);
        self.variables.push(Variable {
            name: name.to_owned(),
            value: value.to_string(),
        });
    }

    /// A session variable's JSON value.
    pub fn variable(&self, name: &str) -> Option<Value> {
        self.variables
            .iter()
            .find(|v| v.name == name)
            .map(|v| serde_json::from_str(&v.value).unwrap())
    }

    /// The session arrives on the node.
    pub async fn enter(&mut self) -> Step {
        self.step(Trigger::Entered).await.expect("entry step")
    }

    /// The user writes `text`.
    pub async fn say(&mut self, text: &str) -> Step {
        self.try_say(text).await.expect("step")
    }

    /// The user writes `text`; a failed step is returned, not a panic.
    pub async fn try_say(&mut self, text: &str) -> Result<Step, StepFailure> {
        let sent_at_ms = self.harness.world.now().timestamp_millis();
        self.step(Trigger::UserMessage(UserMessage {
            elements: vec![flow::MessageElement::Text(text.to_owned())],
            text: text.to_owned(),
            sent_at_ms,
        }))
        .await
    }

    /// The user sends a message of other elements (`TIMCustomElem`, images, …).
    pub async fn send(&mut self, message: UserMessage) -> Step {
        self.step(Trigger::UserMessage(message))
            .await
            .expect("step")
    }

    /// The wait the module asked for timed out.
    pub async fn time_out(&mut self) -> Step {
        self.step(Trigger::WaitTimedOut)
            .await
            .expect("timeout step")
    }

    /// The session comes back to the node.
    pub async fn resume(&mut self, reason: ResumeReason) -> Step {
        self.step(Trigger::Resumed(reason))
            .await
            .expect("resume step")
    }

    /// One step with `trigger`. Applies the variable actions, keeps the state and
    /// counts the turn; on leaving by an exit, the next step is an entry again.
    pub async fn step(&mut self, trigger: Trigger) -> Result<Step, StepFailure> {
        let ctx = StepContext {
            tenant_id: self.session.tenant_id.clone(),
            time_zone: self.time_zone.clone(),
            session_id: self.session.id.clone(),
            node_id: "node-1".into(),
            exits: Some(self.exits.iter().map(|e| e.name.clone()).collect()),
            turn_log: None,
        };
        if matches!(trigger, Trigger::Entered) {
            self.state = None;
            self.turn = 0;
        }
        let input = flow::StepInput {
            session: self.session.clone(),
            node_id: ctx.node_id.clone(),
            trigger,
            config: self.config.clone(),
            prepared: (!self.prepared.is_empty()).then(|| self.prepared.clone()),
            variables: self.variables.clone(),
            state: self.state.clone(),
            turn: self.turn,
        };
        let output = self
            .harness
            .runtime
            .step(&self.module, &ctx, &Limits::default(), input)
            .await?;
        for action in &output.actions {
            match action {
                Action::SetVariable(v) => {
                    self.variables.retain(|x| x.name != v.name);
                    self.variables.push(v.clone());
                }
                Action::UnsetVariable { name } => self.variables.retain(|x| &x.name != name),
                _ => {}
            }
        }
        self.state = output.state.clone();
        self.turn += 1;
        if matches!(output.next, Next::Exit { .. }) {
            self.state = None;
            self.turn = 0;
        }
        Ok(Step(output))
    }
}

impl World {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap()
    }
}

/// What one step answered, with accessors for what tests look at.
#[derive(Debug, Clone)]
pub struct Step(pub StepOutput);

impl Step {
    /// The texts sent, in order.
    pub fn texts(&self) -> Vec<String> {
        self.messages()
            .into_iter()
            .filter_map(|m| match m {
                Outgoing::Text { text } => Some(text.clone()),
                _ => None,
            })
            .collect()
    }

    /// Every message sent, in order.
    pub fn messages(&self) -> Vec<&Outgoing> {
        self.0
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Send { message } => Some(message),
                _ => None,
            })
            .collect()
    }

    /// The first menu sent: its title and `(id, label)` choices.
    pub fn menu(&self) -> Option<(String, Vec<(String, String)>)> {
        self.messages().into_iter().find_map(|m| match m {
            Outgoing::Menu { title, choices } => Some((
                title.clone(),
                choices
                    .iter()
                    .map(|c| (c.id.clone(), c.label.clone()))
                    .collect(),
            )),
            _ => None,
        })
    }

    /// The exit taken, if the step left the node.
    pub fn exit(&self) -> Option<&str> {
        match &self.0.next {
            Next::Exit { exit } => Some(exit),
            _ => None,
        }
    }

    /// The wait's timeout in milliseconds, if the step waits for the user.
    pub fn wait_ms(&self) -> Option<u64> {
        match self.0.next {
            Next::Wait { timeout_ms } => Some(timeout_ms),
            _ => None,
        }
    }

    /// Whether the step stays on the node until the session is resumed.
    pub fn suspended(&self) -> bool {
        matches!(self.0.next, Next::Suspend)
    }

    /// The transfer asked for: skill group and priority.
    pub fn transfer(&self) -> Option<(String, u8)> {
        self.0.actions.iter().find_map(|a| match a {
            Action::Transfer(t) => Some((t.skill_group_id.clone(), t.priority)),
            _ => None,
        })
    }

    /// The end status the session was ended with.
    pub fn end_status(&self) -> Option<u16> {
        self.0.actions.iter().find_map(|a| match a {
            Action::EndSession { end_status } => Some(*end_status),
            _ => None,
        })
    }

    /// The survey actions, in order.
    pub fn survey(&self) -> Vec<SurveyAction> {
        self.0
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::Survey { survey } => Some(survey.clone()),
                _ => None,
            })
            .collect()
    }

    /// The variables set by this step, name → JSON value.
    pub fn set_variables(&self) -> Vec<(String, Value)> {
        self.0
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::SetVariable(v) => {
                    Some((v.name.clone(), serde_json::from_str(&v.value).unwrap()))
                }
                _ => None,
            })
            .collect()
    }
}
