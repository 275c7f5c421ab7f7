//! The plugin runtime: flow modules as sandboxed WebAssembly components.
//!
//! Owns the wasmtime engine (configured once), the only `bindgen!` site, per-module
//! limits, the compile cache, step execution with failure containment, per-module
//! metrics, and the registry of installed modules. Must not know about HTTP; of the
//! database it knows only its own tables.
//!
//! A module can never take the server down: what it uploads is read before it is
//! compiled, and compiled on a bounded pool; every call ends within its limits (fuel,
//! an epoch deadline that also makes it yield, host imports that charge for their
//! work, clocks that cannot sleep, a host-side timeout), `StoreLimits` caps memory,
//! host-side checks bound what it returns, instance slots are shared fairly between
//! tenants and modules, and every call runs in a fresh instance so nothing leaks
//! between sessions or tenants. A failed call is reported as a [`StepFailure`]; the
//! flow engine decides where the session goes next.

pub mod bindings;
pub mod compile;
pub mod convert;
mod failures;
pub mod imports;
pub mod inspect;
pub mod limits;
pub mod logs;
pub mod metrics;
pub mod registry;
pub mod runtime;
pub mod slots;
pub mod verdicts;

pub use bindings::StepContext;
pub use compile::{CompileBounds, LoadError, Origin};
pub use limits::Limits;
pub use logs::LogBudget;
pub use metrics::{MetricsSnapshot, ModuleMetrics};
pub use registry::Registry;
pub use runtime::{Module, Runtime, RuntimeConfig};

use serde::Serialize;
use utoipa::ToSchema;

use crate::flow::{ModuleError, QueueStatus};

/// What the host imports need from the rest of kefu.
#[async_trait::async_trait]
pub trait HostServices: Send + Sync + 'static {
    /// The live queue of a skill group of `tenant`; `None` when there is no such group.
    async fn queue_status(&self, tenant: &str, skill_group_id: &str) -> Option<QueueStatus>;

    /// The current time, for the `now` import (in the tenant's time zone). The
    /// server's clock; tests and simulations may answer another.
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
    }
}

/// Why a step (or `describe`, `validate-config`, `prepare`) failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Used all its fuel.
    OutOfFuel,
    /// Ran past its wall-clock deadline.
    Deadline,
    /// Tried to grow memory beyond its limit.
    OutOfMemory,
    /// Trapped: a panic, `unreachable`, a stack overflow, an invalid memory access.
    Trap,
    /// Returned more than its limits allow.
    OversizedOutput,
    /// Returned something meaningless (an unknown exit, an invalid value).
    InvalidOutput,
    /// Reported an error itself (`module-error`).
    ModuleError,
    /// The server had no capacity to run it (too many concurrent instances).
    Capacity,
}

impl FailureKind {
    pub const ALL: [FailureKind; 8] = [
        Self::OutOfFuel,
        Self::Deadline,
        Self::OutOfMemory,
        Self::Trap,
        Self::OversizedOutput,
        Self::InvalidOutput,
        Self::ModuleError,
        Self::Capacity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OutOfFuel => "out_of_fuel",
            Self::Deadline => "deadline",
            Self::OutOfMemory => "out_of_memory",
            Self::Trap => "trap",
            Self::OversizedOutput => "oversized_output",
            Self::InvalidOutput => "invalid_output",
            Self::ModuleError => "module_error",
            Self::Capacity => "capacity",
        }
    }
}

/// A contained failure of one call into a module.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind:?}: {message}")]
pub struct StepFailure {
    pub kind: FailureKind,
    pub message: String,
    /// The module's own error, when it reported one.
    pub module_error: Option<ModuleError>,
}

impl StepFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            module_error: None,
        }
    }
}
