//! What a step is given, with typed access to each part.

use serde::de::DeserializeOwned;

use crate::wit::kefu::flow::types::StepInput;
use crate::{Error, Session, Trigger, UserMessage, Variable, config, decode};

/// Everything one step is given: the session, what woke the module, the node's
/// configuration (already deserialized into the module's `Config`), the session's
/// variables, the module's private state and its prepared data.
#[derive(Debug, Clone)]
pub struct Input<C> {
    raw: StepInput,
    config: C,
}

impl<C: DeserializeOwned> Input<C> {
    /// Reads the node configuration of `raw` into `C`. A configuration that passed
    /// `validate-config` only fails here if the module changed its `Config` type; the
    /// step then fails, naming the offending path.
    pub(crate) fn new(raw: StepInput) -> Result<Self, Error> {
        let config = config::parse(&raw.config).map_err(Error::into_failed)?;
        Ok(Self { raw, config })
    }
}

impl<C> Input<C> {
    /// The node configuration.
    pub fn config(&self) -> &C {
        &self.config
    }

    /// Takes the node configuration, dropping the rest of the input.
    pub fn into_config(self) -> C {
        self.config
    }

    /// The session this step runs for.
    pub fn session(&self) -> &Session {
        &self.raw.session
    }

    /// The id of the node in the flow graph.
    pub fn node_id(&self) -> &str {
        &self.raw.node_id
    }

    /// What woke the module.
    pub fn trigger(&self) -> &Trigger {
        &self.raw.trigger
    }

    /// How many steps this node has taken since the session entered it (0 on entry).
    pub fn turn(&self) -> u32 {
        self.raw.turn
    }

    /// The message the user sent, when that is what woke the module.
    pub fn message(&self) -> Option<&UserMessage> {
        match &self.raw.trigger {
            Trigger::UserMessage(message) => Some(message),
            _ => None,
        }
    }

    /// The text of the user's message (its text elements joined with newlines), when
    /// a message is what woke the module.
    pub fn text(&self) -> Option<&str> {
        self.message().map(|message| message.text.as_str())
    }

    /// The session variable `name`, deserialized from its JSON value; `None` when the
    /// session has no such variable. A value that does not fit `T` fails the step.
    pub fn variable<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, Error> {
        let Some(json) = self.variable_json(name) else {
            return Ok(None);
        };
        serde_json::from_str(json)
            .map(Some)
            .map_err(|err| Error::failed(format!("variable `{name}`: {err}")))
    }

    /// The session variable `name` as JSON text; `None` when there is no such variable.
    pub fn variable_json(&self, name: &str) -> Option<&str> {
        self.raw
            .variables
            .iter()
            .find(|variable| variable.name == name)
            .map(|variable| variable.value.as_str())
    }

    /// Every session variable, as name and JSON text.
    pub fn variables(&self) -> &[Variable] {
        &self.raw.variables
    }

    /// The private state the module returned from its previous step on this node
    /// (see [`Output::state`](crate::Output::state)); `None` on entry and when the
    /// previous step returned none.
    pub fn state<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        self.state_bytes()
            .map(|bytes| decode(bytes).map_err(|err| Error::failed(format!("state: {err}"))))
            .transpose()
    }

    /// The private state as the raw bytes kefu stored.
    pub fn state_bytes(&self) -> Option<&[u8]> {
        self.raw.state.as_deref()
    }

    /// What [`FlowModule::prepare`](crate::FlowModule::prepare) returned for this
    /// configuration, decoded with [`decode`]; `None` when it returned nothing.
    pub fn prepared<T: DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        self.prepared_bytes()
            .map(|bytes| decode(bytes).map_err(|err| Error::failed(format!("prepared: {err}"))))
            .transpose()
    }

    /// What [`FlowModule::prepare`](crate::FlowModule::prepare) returned, as bytes;
    /// `None` when it returned nothing.
    pub fn prepared_bytes(&self) -> Option<&[u8]> {
        self.raw
            .prepared
            .as_deref()
            .filter(|bytes| !bytes.is_empty())
    }
}
