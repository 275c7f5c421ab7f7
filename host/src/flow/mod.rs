//! Conversation service flows: the vocabulary of a flow step (what a module is told and
//! what it answers), flow graphs, their validation, flows and their revisions as values
//! (`revisions.rs`), publishing them (`catalog.rs`), and the engine that steps a
//! session's nodes.
//!
//! Must not know wasmtime types: `plugin` converts between the WIT interface and the
//! types here.

pub mod catalog;
pub mod engine;
pub mod graph;
pub mod revisions;
pub mod step;

pub use step::{
    Action, Choice, ConfigProblem, CustomElement, ExitInfo, GroupEntry, LocalTime, MessageElement,
    ModuleError, ModuleInfo, Next, NodeInfo, Outgoing, QueueStatus, ResumeReason, SessionInfo,
    StepInput, StepOutput, SurveyAction, Transfer, Trigger, UserMessage, Variable,
};
