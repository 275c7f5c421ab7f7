//! The built-in `end` flow module: optionally sends a last message, then ends the
//! session with a TCCC end status.
//!
//! Configuration: `{ "end_status": 1, "message": "Goodbye!" }`, both optional
//! (`end_status` defaults to 1, normal end; without `message` nothing is sent).
//!
//! The module has no exits: once the session has ended, the flow has nowhere to go.
//! Its step answers `suspend` after the end-session action, so the session stays on
//! this node until kefu closes it.

use kefu_flow_sdk::{Error, FlowModule, Input, ModuleInfo, Output, Trigger, json};
use serde::Deserialize;

/// The TCCC end statuses a flow may end a session with.
const END_STATUSES: [u16; 8] = [0, 1, 3, 17, 100, 101, 102, 108];

/// The end status of a normal end.
const NORMAL_END: u16 = 1;

/// The node configuration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The TCCC end status recorded on the session.
    #[serde(default = "normal_end")]
    end_status: u16,
    /// Sent to the user before the session ends, unless empty.
    #[serde(default)]
    message: Option<String>,
}

fn normal_end() -> u16 {
    NORMAL_END
}

struct End;

impl FlowModule for End {
    type Config = Config;

    fn describe() -> ModuleInfo {
        ModuleInfo::new("end", "1.0.0")
            .description("Ends the session, optionally after a last message.")
            .config_schema(json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "end_status": {
                        "description": "The TCCC end status recorded on the session (1 normal end, 3 no agent, 108 timeout, ...).",
                        "type": "integer",
                        "enum": END_STATUSES,
                        "default": NORMAL_END
                    },
                    "message": {
                        "description": "Sent to the user before the session ends; nothing is sent when absent or empty.",
                        "type": ["string", "null"]
                    }
                },
                "additionalProperties": false
            }))
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        if END_STATUSES.contains(&config.end_status) {
            return Ok(());
        }
        let allowed: Vec<String> = END_STATUSES.iter().map(u16::to_string).collect();
        Err(Error::config(
            "/end_status",
            format!(
                "unknown end status {}; expected one of {}",
                config.end_status,
                allowed.join(", ")
            ),
        ))
    }

    /// The node suspends once the session has ended: it never leaves.
    fn waits(_config: &Config) -> bool {
        true
    }

    fn step(input: Input<Config>) -> Result<Output, Error> {
        let config = input.config();
        let mut output = Output::suspend();
        // The message is for the session's arrival only: should kefu step the node
        // again, the session is ended again without repeating it.
        if matches!(input.trigger(), Trigger::Entered)
            && let Some(message) = config.message.as_deref().filter(|m| !m.is_empty())
        {
            output = output.send_text(input.render(message));
        }
        Ok(output.end_session(config.end_status))
    }
}

kefu_flow_sdk::export!(End);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(end_status: u16) -> Config {
        Config {
            end_status,
            message: None,
        }
    }

    #[test]
    fn accepts_the_known_end_statuses_only() {
        for status in END_STATUSES {
            assert!(End::validate_config(&config(status)).is_ok());
        }
        let err = End::validate_config(&config(2)).unwrap_err();
        assert_eq!(err.problems().len(), 1);
        assert_eq!(err.problems()[0].path, "/end_status");
        assert_eq!(
            err.problems()[0].message,
            "unknown end status 2; expected one of 0, 1, 3, 17, 100, 101, 102, 108"
        );
    }

    #[test]
    fn describes_itself_without_exits() {
        let info = End::describe();
        assert_eq!(
            (info.name.as_str(), info.version.as_str()),
            ("end", "1.0.0")
        );
        assert!(info.exits.is_empty());
        assert!(
            info.config_schema
                .contains(r#""enum":[0,1,3,17,100,101,102,108]"#)
        );
    }
}
