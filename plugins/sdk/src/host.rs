//! What kefu offers a module during a call: its log, the tenant's clock and the live
//! state of skill-group queues. Nothing else is reachable: no files, no network, no
//! environment.
//!
//! Inside a component these functions talk to kefu. Compiled natively (a module's
//! `cargo test`), they answer from the [fake host](crate::testing::FakeHost) of the
//! current thread instead, so a step that logs, reads the clock or looks at a queue
//! can be tested without WebAssembly.

#[cfg(not(target_arch = "wasm32"))]
use crate::testing::fake as host;
#[cfg(target_arch = "wasm32")]
use crate::wit::kefu::flow::host;
use crate::{LocalTime, LogLevel, QueueStatus};

/// Writes `message` to kefu's log at `level`, tagged with the module, session and
/// node. kefu keeps a limited number of lines per step and may shorten long ones.
pub fn log(level: LogLevel, message: &str) {
    host::log(level, message);
}

/// Writes `message` to kefu's log at the trace level.
pub fn trace(message: &str) {
    log(LogLevel::Trace, message);
}

/// Writes `message` to kefu's log at the debug level.
pub fn debug(message: &str) {
    log(LogLevel::Debug, message);
}

/// Writes `message` to kefu's log at the info level.
pub fn info(message: &str) {
    log(LogLevel::Info, message);
}

/// Writes `message` to kefu's log at the warn level.
pub fn warn(message: &str) {
    log(LogLevel::Warn, message);
}

/// Writes `message` to kefu's log at the error level.
pub fn error(message: &str) {
    log(LogLevel::Error, message);
}

/// The current time in the session's tenant's time zone.
pub fn now() -> LocalTime {
    host::now()
}

/// The live queue of the tenant's skill group `skill_group_id`; `None` if the tenant
/// has no such group.
pub fn skill_group_queue(skill_group_id: &str) -> Option<QueueStatus> {
    host::skill_group_queue(skill_group_id)
}
