//! The trait a module implements, and its connection to the `kefu:flow` exports.

use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::wit::exports::kefu::flow::module::Guest;
use crate::wit::kefu::flow::types::{ModuleError, NodeInfo, StepInput, StepOutput};
use crate::{Error, ExitInfo, Input, ModuleInfo, Output, config};

/// A conversation-flow module. Register the type with [`export!`](crate::export).
///
/// Every function runs in a fresh instance of the component, so there is no `self`:
/// what a module remembers between steps travels in its private state
/// ([`Output::state`], [`Input::state`]).
pub trait FlowModule {
    /// The node configuration, deserialized from the JSON the flow editor saved. A
    /// blank configuration reads as `{}`.
    type Config: DeserializeOwned;

    /// Name, version, configuration schema and exits. Must not depend on anything.
    fn describe() -> ModuleInfo;

    /// Checks a configuration that deserialized into [`Self::Config`].
    ///
    /// kefu first deserializes the configuration; a value serde refuses is reported
    /// with its JSON pointer (e.g. `/choices/2/label`) and serde's message, and this
    /// function is not called. The default accepts every configuration that
    /// deserializes; override it for checks serde cannot express, answering with
    /// [`Error::config`] or [`Error::invalid_config`].
    fn validate_config(config: &Self::Config) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }

    /// The exits a node with this (valid) configuration can leave by. The default is
    /// the exits [`describe`](Self::describe) lists; a module whose exits depend on
    /// its configuration (a branch per configured condition) answers those too. kefu
    /// refuses a step that leaves by an exit not in this list.
    fn exits(config: &Self::Config) -> Vec<ExitInfo> {
        let _ = config;
        Self::describe().exits
    }

    /// Whether a node with this configuration may wait for the user or suspend
    /// ([`Output::wait`], [`Output::suspend`]) rather than always leave by an exit at
    /// once. kefu refuses a flow with a loop that passes through no waiting node, so a
    /// module that waits must say so. The default is `false`.
    fn waits(config: &Self::Config) -> bool {
        let _ = config;
        false
    }

    /// Turns a valid configuration into the bytes every step receives through
    /// [`Input::prepared`] (write them with [`encode`](crate::encode)). kefu calls it
    /// once per flow revision and node. The default prepares nothing.
    fn prepare(config: &Self::Config) -> Result<Vec<u8>, Error> {
        let _ = config;
        Ok(Vec::new())
    }

    /// Handles one event of one session: what woke the module is
    /// [`Input::trigger`]; the answer is the actions to carry out and what happens
    /// next. An error makes the flow take the node's `error` exit.
    fn step(input: Input<Self::Config>) -> Result<Output, Error>;
}

/// Implements the `kefu:flow/module` exports for a [`FlowModule`].
#[doc(hidden)]
pub struct Adapter<M>(PhantomData<fn() -> M>);

impl<M: FlowModule> Guest for Adapter<M> {
    fn describe() -> ModuleInfo {
        M::describe()
    }

    fn validate_config(config: String) -> Result<NodeInfo, ModuleError> {
        let config = config::parse::<M::Config>(&config).map_err(Error::into_wit)?;
        M::validate_config(&config).map_err(Error::into_wit)?;
        Ok(NodeInfo {
            exits: M::exits(&config),
            waits: M::waits(&config),
        })
    }

    fn prepare(config: String) -> Result<Vec<u8>, ModuleError> {
        config::parse::<M::Config>(&config)
            .and_then(|config| M::prepare(&config))
            .map_err(Error::into_wit)
    }

    fn step(input: StepInput) -> Result<StepOutput, ModuleError> {
        step::<M>(input).map_err(Error::into_wit)
    }
}

/// One step through the module, refusing a wait the module did not declare: kefu
/// relies on [`FlowModule::waits`] to keep flows from looping without the user, so a
/// module that forgot it fails its first waiting step (and its first test) saying so.
pub(crate) fn step<M: FlowModule>(input: StepInput) -> Result<StepOutput, Error> {
    let input = Input::<M::Config>::new(input)?;
    let waits = M::waits(input.config());
    let output = M::step(input)?;
    if !waits && !matches!(output.next, crate::Next::Exit(_)) {
        return Err(Error::failed(
            "the step waits, but `FlowModule::waits` says this node never does: override `waits` to answer true",
        ));
    }
    Ok(output)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::wit::kefu::flow::types::SessionInfo;
    use crate::{Action, Next, Outgoing, Trigger, UserMessage, Variable};

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Config {
        #[serde(default)]
        limit: u32,
    }

    struct Counter;

    impl FlowModule for Counter {
        type Config = Config;

        fn describe() -> ModuleInfo {
            ModuleInfo::new("counter", "1.0.0").exit("done", "")
        }

        fn waits(_: &Config) -> bool {
            true
        }

        fn validate_config(config: &Config) -> Result<(), Error> {
            if config.limit == 0 {
                return Err(Error::config("/limit", "must be positive"));
            }
            Ok(())
        }

        fn step(input: Input<Config>) -> Result<Output, Error> {
            let count = input.state::<u32>()?.unwrap_or(0) + 1;
            let base = input.variable::<u32>("base")?.unwrap_or(0);
            let output = if count >= input.config().limit {
                Output::exit("done")
            } else {
                Output::wait_ms(1000)
            };
            output
                .send_text(input.text().unwrap_or_default())
                .set_variable("total", base + count)?
                .state(&count)
        }
    }

    fn input(config: &str, state: Option<&[u8]>, base: Option<&str>) -> StepInput {
        StepInput {
            session: SessionInfo {
                id: "s".into(),
                tenant_id: "t".into(),
                channel_id: "c".into(),
                user_id: "u".into(),
                user_nickname: String::new(),
            },
            node_id: "n".into(),
            trigger: Trigger::UserMessage(UserMessage {
                elements: Vec::new(),
                text: "hi".into(),
                sent_at_ms: 0,
            }),
            config: config.into(),
            prepared: None,
            variables: base
                .map(|value| Variable {
                    name: "base".into(),
                    value: value.into(),
                })
                .into_iter()
                .collect(),
            state: state.map(<[u8]>::to_vec),
            turn: 1,
        }
    }

    fn problems(err: ModuleError) -> Vec<(String, String)> {
        match err {
            ModuleError::InvalidConfig(problems) => {
                problems.into_iter().map(|p| (p.path, p.message)).collect()
            }
            ModuleError::Failed(reason) => panic!("failed: {reason}"),
        }
    }

    #[test]
    fn validates_by_deserializing_then_checking() {
        type A = Adapter<Counter>;
        let node = A::validate_config(r#"{"limit":2}"#.into()).unwrap();
        assert_eq!(node.exits.len(), 1);
        assert_eq!(node.exits[0].name, "done");
        assert!(node.waits);
        let err = A::validate_config(r#"{"limit":"x"}"#.into()).unwrap_err();
        assert_eq!(problems(err)[0].0, "/limit");
        let err = A::validate_config("{}".into()).unwrap_err();
        assert_eq!(
            problems(err),
            [("/limit".to_owned(), "must be positive".to_owned())]
        );
        assert_eq!(
            A::prepare(r#"{"limit":2}"#.into()).unwrap(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn steps_with_typed_state_and_variables() {
        type A = Adapter<Counter>;
        let out = A::step(input(r#"{"limit":3}"#, Some(b"1"), Some("40"))).unwrap();
        assert!(matches!(out.next, Next::Wait(1000)));
        assert_eq!(out.state.as_deref(), Some(&b"2"[..]));
        assert!(matches!(&out.actions[0], Action::Send(Outgoing::Text(t)) if t == "hi"));
        assert!(matches!(&out.actions[1], Action::SetVariable(v) if v.value == "42"));

        let out = A::step(input(r#"{"limit":3}"#, Some(b"2"), None)).unwrap();
        assert!(matches!(out.next, Next::Exit(ref e) if e == "done"));
    }

    #[test]
    fn bad_state_variable_or_config_fails_the_step() {
        type A = Adapter<Counter>;
        let failed = |err| match err {
            ModuleError::Failed(reason) => reason,
            ModuleError::InvalidConfig(_) => panic!("not a failed step"),
        };
        let reason = failed(A::step(input(r#"{"limit":3}"#, Some(b"{"), None)).unwrap_err());
        assert!(reason.starts_with("state: "), "{reason}");
        let reason = failed(A::step(input(r#"{"limit":3}"#, None, Some("\"x\""))).unwrap_err());
        assert!(reason.starts_with("variable `base`: "), "{reason}");
        let reason = failed(A::step(input(r#"{"limit":-1}"#, None, None)).unwrap_err());
        assert!(reason.contains("/limit"), "{reason}");
    }
}
