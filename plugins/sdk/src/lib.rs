//! Write kefu conversation-flow modules in Rust.
//!
//! A flow module is a WebAssembly component that kefu runs for one node of a
//! conversation flow. This crate turns the `kefu:flow` interface into a plain Rust
//! trait, [`FlowModule`], and one registration macro, [`export!`]:
//!
//! ```
//! use kefu_flow_sdk::{Error, FlowModule, Input, ModuleInfo, NoConfig, Output};
//!
//! struct Hello;
//!
//! impl FlowModule for Hello {
//!     type Config = NoConfig;
//!
//!     fn describe() -> ModuleInfo {
//!         ModuleInfo::new("hello", "1.0.0").exit("next", "After the greeting")
//!     }
//!
//!     fn step(input: Input<NoConfig>) -> Result<Output, Error> {
//!         let greeting = format!("hello {}", input.session().user_nickname);
//!         Ok(Output::exit("next").send_text(greeting))
//!     }
//! }
//!
//! kefu_flow_sdk::export!(Hello);
//! ```
//!
//! A module with a configuration names a `serde::Deserialize` type; kefu's
//! `validate-config` reports what serde refuses with the JSON pointer of the value,
//! and [`FlowModule::validate_config`] adds what serde cannot check. A step looks at
//! what woke the module and answers with actions and what happens next:
//!
//! ```
//! use kefu_flow_sdk::{Error, FlowModule, Input, ModuleInfo, Output, Trigger, json};
//!
//! #[derive(serde::Deserialize)]
//! struct Config {
//!     reply: String,
//! }
//!
//! struct Parrot;
//!
//! impl FlowModule for Parrot {
//!     type Config = Config;
//!
//!     fn describe() -> ModuleInfo {
//!         ModuleInfo::new("parrot", "1.0.0")
//!             .config_schema(json!({ "type": "object", "required": ["reply"] }))
//!             .exit("next", "After the user's first message")
//!     }
//!
//!     fn validate_config(config: &Config) -> Result<(), Error> {
//!         if config.reply.is_empty() {
//!             return Err(Error::config("/reply", "must not be empty"));
//!         }
//!         Ok(())
//!     }
//!
//!     fn step(input: Input<Config>) -> Result<Output, Error> {
//!         Ok(match input.trigger() {
//!             Trigger::Entered => Output::wait_ms(60_000),
//!             _ => Output::exit("next").send_text(&input.config().reply),
//!         })
//!     }
//! }
//!
//! kefu_flow_sdk::export!(Parrot);
//! ```
//!
//! The module's crate is a `cdylib` built with
//! `cargo build --release --target wasm32-wasip2`; the `.wasm` it produces is the
//! component kefu installs.
//!
//! # How kefu runs a module
//!
//! Every call runs in a fresh instance: nothing a module keeps in memory survives
//! from one step to the next. What a module must remember between steps of a session
//! on its node it returns with [`Output::state`], and reads back with
//! [`Input::state`]. Work that depends only on the node configuration can be done
//! once per flow revision in [`FlowModule::prepare`] and read in every step with
//! [`Input::prepared`].

#![warn(missing_docs)]

mod wit {
    #![allow(missing_docs)]

    wit_bindgen::generate!({
        path: "../../wit",
        world: "flow-module",
        pub_export_macro: true,
        export_macro_name: "__export_flow_module",
        default_bindings_module: "kefu_flow_sdk::__private::bindings",
    });
}

mod config;
mod error;
mod exits;
pub mod host;
mod info;
mod input;
mod module;
mod output;
pub mod template;
pub mod testing;
pub mod text;

pub use config::NoConfig;
pub use error::Error;
pub use exits::Exits;
pub use input::Input;
pub use module::FlowModule;
pub use output::{decode, encode};
/// Derives the JSON Schema of a configuration type: see [`ModuleInfo::config_schema_of`].
pub use schemars::{self, JsonSchema};

/// A JSON value, as configuration schemas and variables are written.
pub use serde_json::Value;
/// Builds a [`Value`] from JSON-like syntax, e.g. for [`ModuleInfo::config_schema`].
pub use serde_json::json;

/// The session a step runs for: its id, tenant, channel and end user.
pub use wit::kefu::flow::types::SessionInfo as Session;
/// The result of a step: actions, what happens next, and the private state.
pub use wit::kefu::flow::types::StepOutput as Output;
/// The data types of `kefu:flow`, as the host sends and receives them.
pub use wit::kefu::flow::types::{
    Action, Choice, ConfigProblem, CustomElement, ExitInfo, LocalTime, LogLevel, Menu,
    MessageElement, ModuleInfo, Next, NodeInfo, OtherElement, Outgoing, QueueStatus, ResumeReason,
    SurveyAction, SurveyResult, Transfer, Trigger, UserMessage, Variable,
};

/// Registers a type implementing [`FlowModule`] as the module of this component.
///
/// Call it exactly once, at the top level of the module's `cdylib` crate:
///
/// ```ignore
/// kefu_flow_sdk::export!(MyModule);
/// ```
#[macro_export]
macro_rules! export {
    ($module:ty) => {
        // The component's exports exist only in the WebAssembly build: natively the
        // crate is a plain library that its own tests (and `tests/`) link against.
        // Natively the module is reached through its trait only (by its tests):
        // naming the trait's functions keeps it from reading as dead code.
        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            let _ = <$module as $crate::FlowModule>::describe;
            let _ = <$module as $crate::FlowModule>::step;
        };
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            type __KefuFlowModule = $crate::__private::Adapter<$module>;
            $crate::__private::bindings::__export_flow_module!(
                __KefuFlowModule with_types_in $crate::__private::bindings
            );
        };
    };
}

/// A [`ModuleInfo`] named `name` at the version of the calling crate
/// (`CARGO_PKG_VERSION`), so that a release's version is said once, in `Cargo.toml`.
#[macro_export]
macro_rules! module_info {
    ($name:expr) => {
        $crate::ModuleInfo::new($name, env!("CARGO_PKG_VERSION"))
    };
}

/// What [`export!`] expands to. Not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::module::Adapter;

    /// The generated bindings and export macro (`default_bindings_module`).
    pub mod bindings {
        pub use crate::wit::__export_flow_module;
        pub use crate::wit::exports;
    }
}
