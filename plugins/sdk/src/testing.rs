//! Testing a module natively, without WebAssembly or a server: `cargo test` of the
//! module's crate, in its unit tests or in its own `tests/`.
//!
//! A [`Runner`] holds one node of one session: it checks the configuration as kefu's
//! `validate-config` would, prepares it, and steps the module as the flow engine
//! does — handing back the private state, applying variables, counting turns and
//! starting afresh after an exit. Each [`Runner`] has a [`FakeHost`] that answers the
//! module's `host` calls (`now`, `log`, `skill-group-queue`) on the test's thread.
//!
//! ```
//! use kefu_flow_sdk::testing::Runner;
//! use kefu_flow_sdk::{Error, FlowModule, Input, ModuleInfo, NoConfig, Output, Trigger};
//!
//! struct Echo;
//!
//! impl FlowModule for Echo {
//!     type Config = NoConfig;
//!     fn describe() -> ModuleInfo {
//!         ModuleInfo::new("echo", "1.0.0").exit("next", "After the echo")
//!     }
//!     fn waits(_: &NoConfig) -> bool {
//!         true
//!     }
//!     fn step(input: Input<NoConfig>) -> Result<Output, Error> {
//!         Ok(match input.trigger() {
//!             Trigger::Entered => Output::wait_ms(1_000).send_text("say something"),
//!             _ => Output::exit("next").send_text(input.text().unwrap_or_default()),
//!         })
//!     }
//! }
//!
//! let mut node = Runner::<Echo>::new("{}").unwrap();
//! assert_eq!(node.enter().unwrap().texts(), ["say something"]);
//! let out = node.say("hello").unwrap();
//! assert_eq!(out.texts(), ["hello"]);
//! assert_eq!(out.left_by(), Some("next"));
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;

use crate::wit::kefu::flow::types::StepInput;
use crate::{
    Action, ConfigProblem, Error, FlowModule, LocalTime, LogLevel, MessageElement, Next, NodeInfo,
    Outgoing, Output, QueueStatus, ResumeReason, Session, Trigger, UserMessage, Variable,
};

/// What the `host` imports answer in a native test.
#[derive(Debug, Clone)]
pub struct FakeHost {
    /// What `host::now` answers.
    pub now: LocalTime,
    /// What `host::skill_group_queue` answers, by skill group id.
    pub queues: HashMap<String, QueueStatus>,
    /// Every line the module logged, in order.
    pub logs: Vec<(LogLevel, String)>,
}

impl Default for FakeHost {
    /// Monday 2026-11-23 10:00 in Asia/Shanghai; no skill groups; no logs.
    fn default() -> Self {
        Self {
            now: LocalTime {
                unix_ms: 1_795_399_200_000,
                time_zone: "Asia/Shanghai".into(),
                utc_offset_secs: 8 * 3600,
                year: 2026,
                month: 11,
                day: 23,
                hour: 10,
                minute: 0,
                second: 0,
                weekday: 1,
            },
            queues: HashMap::new(),
            logs: Vec::new(),
        }
    }
}

thread_local! {
    static HOST: RefCell<FakeHost> = RefCell::new(FakeHost::default());
}

/// The current thread's fake host: what the `host` functions use natively.
pub fn with_host<R>(f: impl FnOnce(&mut FakeHost) -> R) -> R {
    HOST.with(|host| f(&mut host.borrow_mut()))
}

/// The `host` imports as a native build answers them.
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) mod fake {
    use super::with_host;
    use crate::{LocalTime, LogLevel, QueueStatus};

    pub fn log(level: LogLevel, message: &str) {
        with_host(|h| h.logs.push((level, message.to_owned())));
    }

    pub fn now() -> LocalTime {
        with_host(|h| h.now.clone())
    }

    pub fn skill_group_queue(id: &str) -> Option<QueueStatus> {
        with_host(|h| h.queues.get(id).cloned())
    }
}

/// One node of one session, stepped as kefu steps it.
pub struct Runner<M> {
    config: String,
    node: NodeInfo,
    prepared: Option<Vec<u8>>,
    session: Session,
    variables: BTreeMap<String, String>,
    state: Option<Vec<u8>>,
    turn: u32,
    module: PhantomData<fn() -> M>,
}

impl<M> std::fmt::Debug for Runner<M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("config", &self.config)
            .field("variables", &self.variables)
            .field("turn", &self.turn)
            .finish_non_exhaustive()
    }
}

impl<M: FlowModule> Runner<M> {
    /// A node configured with `config` (JSON), checked and prepared as kefu would:
    /// an invalid configuration answers the problems `validate-config` reports.
    pub fn new(config: &str) -> Result<Self, Vec<ConfigProblem>> {
        let problems = |e: Error| match e.problems() {
            [] => vec![ConfigProblem::new("", e.to_string())],
            p => p.to_vec(),
        };
        let parsed = crate::config::parse::<M::Config>(config).map_err(problems)?;
        M::validate_config(&parsed).map_err(problems)?;
        let node = NodeInfo {
            exits: M::exits(&parsed),
            waits: M::waits(&parsed),
        };
        let prepared = M::prepare(&parsed).map_err(problems)?;
        with_host(|h| *h = FakeHost::default());
        Ok(Self {
            config: config.to_owned(),
            node,
            prepared: (!prepared.is_empty()).then_some(prepared),
            session: Session {
                id: "session-1".into(),
                tenant_id: "tenant-1".into(),
                channel_id: "channel-1".into(),
                user_id: "user-1".into(),
                user_nickname: String::new(),
            },
            variables: BTreeMap::new(),
            state: None,
            turn: 0,
            module: PhantomData,
        })
    }

    /// What `validate-config` answered: the node's exits and whether it waits.
    pub fn node(&self) -> &NodeInfo {
        &self.node
    }

    /// Sets the end user's nickname.
    pub fn nickname(mut self, nickname: &str) -> Self {
        self.session.user_nickname = nickname.to_owned();
        self
    }

    /// Sets a session variable (any serializable value).
    pub fn set_variable(&mut self, name: &str, value: impl serde::Serialize) -> &mut Self {
        let json = serde_json::to_string(&value).unwrap_or_else(|_| "null".into());
        self.variables.insert(name.to_owned(), json);
        self
    }

    /// The session variable `name`, as its JSON value.
    pub fn variable(&self, name: &str) -> Option<serde_json::Value> {
        self.variables
            .get(name)
            .and_then(|v| serde_json::from_str(v).ok())
    }

    /// The fake host of this test's thread: set the clock or a queue, read the logs.
    pub fn host<R>(&self, f: impl FnOnce(&mut FakeHost) -> R) -> R {
        with_host(f)
    }

    /// The session arrives on the node.
    pub fn enter(&mut self) -> Result<Output, Error> {
        self.state = None;
        self.turn = 0;
        self.step(Trigger::Entered)
    }

    /// The user writes `text`.
    pub fn say(&mut self, text: &str) -> Result<Output, Error> {
        self.step(Trigger::UserMessage(UserMessage {
            elements: vec![MessageElement::Text(text.to_owned())],
            text: text.to_owned(),
            sent_at_ms: self.host(|h| h.now.unix_ms),
        }))
    }

    /// The wait the module asked for times out.
    pub fn time_out(&mut self) -> Result<Output, Error> {
        self.step(Trigger::WaitTimedOut)
    }

    /// The session comes back to the node.
    pub fn resume(&mut self, reason: ResumeReason) -> Result<Output, Error> {
        self.step(Trigger::Resumed(reason))
    }

    /// One step with `trigger`, as the flow engine runs it: the output is checked
    /// (an exit the node does not have, or a wait it did not declare, fails the step),
    /// variables are applied, and the state is kept for the next step, or dropped
    /// after an exit.
    pub fn step(&mut self, trigger: Trigger) -> Result<Output, Error> {
        let input = StepInput {
            session: self.session.clone(),
            node_id: "node-1".into(),
            trigger,
            config: self.config.clone(),
            prepared: self.prepared.clone(),
            variables: self
                .variables
                .iter()
                .map(|(name, value)| Variable {
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            state: self.state.take(),
            turn: self.turn,
        };
        let output = crate::module::step::<M>(input)?;
        if let Next::Exit(exit) = &output.next
            && !self.node.exits.iter().any(|e| &e.name == exit)
        {
            return Err(Error::failed(format!(
                "the step leaves by `{exit}`, which the node does not declare"
            )));
        }
        for action in &output.actions {
            match action {
                Action::SetVariable(v) => {
                    self.variables.insert(v.name.clone(), v.value.clone());
                }
                Action::UnsetVariable(name) => {
                    self.variables.remove(name);
                }
                _ => {}
            }
        }
        if let Next::Exit(_) = output.next {
            self.turn = 0;
        } else {
            self.state = output.state.clone();
            self.turn += 1;
        }
        Ok(output)
    }
}

impl Output {
    /// The texts the step sends, in order.
    pub fn texts(&self) -> Vec<&str> {
        self.actions
            .iter()
            .filter_map(|a| match a {
                Action::Send(Outgoing::Text(text)) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The exit the step leaves by, if it leaves.
    pub fn left_by(&self) -> Option<&str> {
        match &self.next {
            Next::Exit(exit) => Some(exit),
            _ => None,
        }
    }

    /// How long the step waits for the user, if it waits.
    pub fn waits_ms(&self) -> Option<u64> {
        match self.next {
            Next::Wait(ms) => Some(ms),
            _ => None,
        }
    }
}
