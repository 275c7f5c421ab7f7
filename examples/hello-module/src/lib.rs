//! A small flow module: greets the user by name, asks whether they want a human, and
//! leaves by `human` or `bot` depending on the answer (or `bot` after a minute of
//! silence).

use kefu_flow_sdk::{Error, FlowModule, Input, ModuleInfo, Output, Trigger, json};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The question asked after the greeting.
    #[serde(default = "default_question")]
    question: String,
}

fn default_question() -> String {
    "Would you like to talk to a person? (yes/no)".into()
}

struct Hello;

impl FlowModule for Hello {
    type Config = Config;

    fn describe() -> ModuleInfo {
        ModuleInfo::new("hello", "1.0.0")
            .description("Greets the user and asks whether they want a human.")
            .config_schema(json!({
                "type": "object",
                "properties": { "question": { "type": "string" } },
                "additionalProperties": false
            }))
            .exit("human", "The user asked for a person.")
            .exit("bot", "The user declined, or did not answer.")
    }

    fn step(input: Input<Config>) -> Result<Output, Error> {
        Ok(match input.trigger() {
            Trigger::Entered => {
                let name = &input.session().user_nickname;
                Output::wait_ms(60_000)
                    .send_text(format!("Hello {name}!"))
                    .send_menu(&input.config().question, [("yes", "Yes"), ("no", "No")])
            }
            Trigger::UserMessage(m) => {
                let text = m.text.trim().to_lowercase();
                let wants_human = ["yes", "y", "是", "人工", "human"].contains(&text.as_str());
                Output::exit(if wants_human { "human" } else { "bot" })
            }
            Trigger::WaitTimedOut | Trigger::Resumed(_) => Output::exit("bot"),
        })
    }
}

kefu_flow_sdk::export!(Hello);
