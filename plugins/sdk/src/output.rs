//! Building what a step returns: actions, what happens next and the private state.

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::{
    Action, Choice, CustomElement, Error, Input, Menu, Next, Outgoing, Output, SurveyAction,
    SurveyResult, Transfer, Variable,
};

/// Encodes a value as the bytes of a module's private state or prepared data (JSON).
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(value).map_err(|err| Error::failed(format!("cannot encode: {err}")))
}

/// Decodes bytes written by [`encode`].
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|err| Error::failed(format!("cannot decode: {err}")))
}

impl Next {
    /// Leave the node by the exit `name`, one of those [`describe`] lists.
    ///
    /// [`describe`]: crate::FlowModule::describe
    pub fn exit(name: impl Into<String>) -> Self {
        Next::Exit(name.into())
    }

    /// Stay on the node and wait for the user's next message, at most `timeout`
    /// (rounded down to whole milliseconds); then the module is stepped with
    /// [`Trigger::WaitTimedOut`](crate::Trigger::WaitTimedOut).
    pub fn wait(timeout: Duration) -> Self {
        Next::Wait(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX))
    }

    /// Like [`Next::wait`], with the timeout in milliseconds.
    pub fn wait_ms(timeout_ms: u64) -> Self {
        Next::Wait(timeout_ms)
    }

    /// Stay on the node until the session is resumed (after a transfer), when the
    /// module is stepped with [`Trigger::Resumed`](crate::Trigger::Resumed).
    pub fn suspend() -> Self {
        Next::Suspend
    }
}

impl Action {
    /// Send a text message to the end user.
    pub fn send_text(text: impl Into<String>) -> Self {
        Action::Send(Outgoing::Text(text.into()))
    }

    /// Send a menu: a title and choices given as `(id, label)` pairs. The channel shows
    /// them as buttons or a numbered list; the user's answer arrives as a message.
    pub fn send_menu<I, L>(
        title: impl Into<String>,
        choices: impl IntoIterator<Item = (I, L)>,
    ) -> Self
    where
        I: Into<String>,
        L: Into<String>,
    {
        Action::Send(Outgoing::Menu(Menu {
            title: title.into(),
            choices: choices
                .into_iter()
                .map(|(id, label)| Choice {
                    id: id.into(),
                    label: label.into(),
                })
                .collect(),
        }))
    }

    /// Send a custom message element (IM `TIMCustomElem`): `data` (usually JSON),
    /// `desc` and `ext`.
    pub fn send_custom(
        data: impl Into<String>,
        desc: impl Into<String>,
        ext: impl Into<String>,
    ) -> Self {
        Action::Send(Outgoing::Custom(CustomElement {
            data: data.into(),
            desc: desc.into(),
            ext: ext.into(),
        }))
    }

    /// Set the session variable `name` to `value`, serialized as JSON.
    pub fn set_variable(name: impl Into<String>, value: impl Serialize) -> Result<Self, Error> {
        let name = name.into();
        match serde_json::to_string(&value) {
            Ok(value) => Ok(Action::SetVariable(Variable { name, value })),
            Err(err) => Err(Error::failed(format!("variable `{name}`: {err}"))),
        }
    }

    /// Remove the session variable `name`.
    pub fn unset_variable(name: impl Into<String>) -> Self {
        Action::UnsetVariable(name.into())
    }

    /// Queue the session for the skill group `skill_group_id` at the default
    /// priority (5); the flow pauses until the session comes back.
    pub fn transfer(skill_group_id: impl Into<String>) -> Self {
        Self::transfer_with_priority(skill_group_id, 5)
    }

    /// Like [`Action::transfer`], at `priority` (0–10, higher is served first).
    pub fn transfer_with_priority(skill_group_id: impl Into<String>, priority: u8) -> Self {
        Action::Transfer(Transfer {
            skill_group_id: skill_group_id.into(),
            priority,
        })
    }

    /// End the session with a TCCC end status (1 normal, 3 no agent, 108 timeout, …).
    pub fn end_session(end_status: u16) -> Self {
        Action::EndSession(end_status)
    }

    /// Record that the satisfaction survey has been offered to the user (this opens
    /// its validity window).
    pub fn survey_invited() -> Self {
        Action::Survey(SurveyAction::Invited)
    }

    /// Record the user's satisfaction rating on the session's service record: `score`
    /// from 1 (worst) to 5 (best), the score's configured `label`, and a comment.
    pub fn survey_rated(score: u8, label: impl Into<String>, comment: Option<String>) -> Self {
        Action::Survey(SurveyAction::Rated(SurveyResult {
            score,
            label: label.into(),
            comment,
        }))
    }
}

impl Output {
    /// No actions yet, then `next`, and no private state.
    pub fn new(next: Next) -> Self {
        Self {
            actions: Vec::new(),
            next,
            state: None,
        }
    }

    /// Leave the node by the exit `name` (see [`Next::exit`]).
    pub fn exit(name: impl Into<String>) -> Self {
        Self::new(Next::exit(name))
    }

    /// Leave the node by a declared exit (see [`exits!`](crate::exits)): an exit
    /// that is not declared does not compile.
    pub fn leave<E: crate::Exits>(exit: E) -> Self {
        Self::new(Next::exit(exit.name()))
    }

    /// Wait for the user's next message, at most `timeout` (see [`Next::wait`]).
    pub fn wait(timeout: Duration) -> Self {
        Self::new(Next::wait(timeout))
    }

    /// Wait for the user's next message, at most `timeout_ms` milliseconds.
    pub fn wait_ms(timeout_ms: u64) -> Self {
        Self::new(Next::wait_ms(timeout_ms))
    }

    /// Stay on the node until the session is resumed (see [`Next::suspend`]).
    pub fn suspend() -> Self {
        Self::new(Next::suspend())
    }

    /// Adds an action; kefu carries out actions in the order they were added.
    pub fn action(mut self, action: Action) -> Self {
        self.actions.push(action);
        self
    }

    /// Adds several actions, in order.
    pub fn actions(mut self, actions: impl IntoIterator<Item = Action>) -> Self {
        self.actions.extend(actions);
        self
    }

    /// Adds [`Action::send_text`].
    pub fn send_text(self, text: impl Into<String>) -> Self {
        self.action(Action::send_text(text))
    }

    /// Adds [`Action::send_menu`].
    pub fn send_menu<I, L>(
        self,
        title: impl Into<String>,
        choices: impl IntoIterator<Item = (I, L)>,
    ) -> Self
    where
        I: Into<String>,
        L: Into<String>,
    {
        self.action(Action::send_menu(title, choices))
    }

    /// Adds [`Action::send_custom`].
    pub fn send_custom(
        self,
        data: impl Into<String>,
        desc: impl Into<String>,
        ext: impl Into<String>,
    ) -> Self {
        self.action(Action::send_custom(data, desc, ext))
    }

    /// Adds [`Action::set_variable`]; fails if `value` cannot be serialized.
    pub fn set_variable(
        self,
        name: impl Into<String>,
        value: impl Serialize,
    ) -> Result<Self, Error> {
        Ok(self.action(Action::set_variable(name, value)?))
    }

    /// Adds [`Action::unset_variable`].
    pub fn unset_variable(self, name: impl Into<String>) -> Self {
        self.action(Action::unset_variable(name))
    }

    /// Adds [`Action::transfer`].
    pub fn transfer(self, skill_group_id: impl Into<String>) -> Self {
        self.action(Action::transfer(skill_group_id))
    }

    /// Adds [`Action::transfer_with_priority`].
    pub fn transfer_with_priority(self, skill_group_id: impl Into<String>, priority: u8) -> Self {
        self.action(Action::transfer_with_priority(skill_group_id, priority))
    }

    /// Adds [`Action::end_session`].
    pub fn end_session(self, end_status: u16) -> Self {
        self.action(Action::end_session(end_status))
    }

    /// Adds [`Action::survey_invited`].
    pub fn survey_invited(self) -> Self {
        self.action(Action::survey_invited())
    }

    /// Adds [`Action::survey_rated`].
    pub fn survey_rated(
        self,
        score: u8,
        label: impl Into<String>,
        comment: Option<String>,
    ) -> Self {
        self.action(Action::survey_rated(score, label, comment))
    }

    /// Sets the private state the module's next step on this node receives through
    /// [`Input::state`](crate::Input::state), encoded with [`encode`].
    ///
    /// State is not carried over by itself: a step that returns no state leaves the
    /// next step without any, so return it on every step that keeps it.
    pub fn state<T: Serialize + ?Sized>(mut self, state: &T) -> Result<Self, Error> {
        self.state = Some(encode(state)?);
        Ok(self)
    }

    /// Sets the private state as raw bytes.
    pub fn state_bytes(mut self, state: Vec<u8>) -> Self {
        self.state = Some(state);
        self
    }

    /// Passes on the private state `input` brought, unchanged (none if it had none).
    pub fn keep_state<C>(mut self, input: &Input<C>) -> Self {
        self.state = input.state_bytes().map(<[u8]>::to_vec);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_an_output_in_order() {
        let output = Output::wait(Duration::from_secs(60))
            .send_text("hi")
            .set_variable("last", "hi")
            .unwrap()
            .send_menu("pick", [("a", "A"), ("b", "B")])
            .end_session(1)
            .state(&3u32)
            .unwrap();
        assert!(matches!(output.next, Next::Wait(60_000)));
        assert_eq!(output.actions.len(), 4);
        assert!(matches!(&output.actions[0], Action::Send(Outgoing::Text(t)) if t == "hi"));
        assert!(
            matches!(&output.actions[1], Action::SetVariable(v) if v.name == "last" && v.value == "\"hi\"")
        );
        assert!(
            matches!(&output.actions[2], Action::Send(Outgoing::Menu(m)) if m.choices.len() == 2 && m.choices[1].label == "B")
        );
        assert!(matches!(output.actions[3], Action::EndSession(1)));
        assert_eq!(output.state.as_deref(), Some(&b"3"[..]));
    }

    #[test]
    fn next_builders() {
        assert!(matches!(Next::exit("next"), Next::Exit(e) if e == "next"));
        assert!(matches!(Next::wait(Duration::MAX), Next::Wait(u64::MAX)));
        assert!(matches!(Next::suspend(), Next::Suspend));
        assert!(matches!(
            Action::transfer("g1"),
            Action::Transfer(Transfer { priority: 5, .. })
        ));
    }

    #[test]
    fn unserializable_variable_fails() {
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1);
        let err = Action::set_variable("m", &map).unwrap_err();
        assert!(err.to_string().starts_with("variable `m`: "), "{err}");
    }
}
