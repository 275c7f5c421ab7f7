//! How a failed call is named: a trap or host error becomes a [`StepFailure`] of a
//! known kind, with the module's own words (its stderr, a panic message) kept short.

use wasmtime::Trap;

use super::bindings;
use super::compile::first_line;
use super::convert;
use super::{FailureKind, StepFailure};

pub(super) fn module_failure(e: bindings::guest::ModuleError) -> StepFailure {
    let err = convert::module_error(e);
    StepFailure {
        kind: FailureKind::ModuleError,
        message: err.to_string(),
        module_error: Some(err),
    }
}

/// Names the kind of a trap or host error.
pub(super) fn classify(e: &wasmtime::Error, stderr: &[u8]) -> StepFailure {
    let kind = match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => FailureKind::OutOfFuel,
        Some(Trap::Interrupt) => FailureKind::Deadline,
        Some(_) => FailureKind::Trap,
        None => {
            let chain = format!("{e:#}");
            if chain.contains("growing memory") || chain.contains("memory growth") {
                FailureKind::OutOfMemory
            } else if chain.contains("maximum concurrent") || chain.contains("instance limit") {
                FailureKind::Capacity
            } else if chain.contains("fuel allocated for hostcalls") {
                FailureKind::OversizedOutput
            } else {
                FailureKind::Trap
            }
        }
    };
    let mut message = match kind {
        FailureKind::OutOfFuel => "ran out of fuel".to_owned(),
        FailureKind::Deadline => "ran past its deadline".to_owned(),
        FailureKind::OutOfMemory => "tried to use more memory than allowed".to_owned(),
        _ => first_line(e),
    };
    let said = String::from_utf8_lossy(stderr);
    let said = said.trim();
    if !said.is_empty() {
        message.push_str(": ");
        message.push_str(&said.chars().take(1024).collect::<String>());
    }
    StepFailure::new(kind, message)
}
