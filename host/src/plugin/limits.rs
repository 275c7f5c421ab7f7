//! How much a module may use in one step. Every installed module has limits; they
//! default to safe values and an admin may tighten or raise them, but never beyond the
//! server-wide maximum.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::directory::FieldErrors;
use crate::directory::validate;

/// Per-step limits of one module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Fuel (roughly, WebAssembly instructions) per step.
    #[schema(minimum = 10000, maximum = 2000000000)]
    pub fuel: u64,
    /// Wall-clock deadline per step, in milliseconds.
    #[schema(minimum = 1, maximum = 5000)]
    pub deadline_ms: u64,
    /// Linear memory the module may grow to, in bytes.
    #[schema(minimum = 1048576, maximum = 268435456)]
    pub memory_bytes: u64,
    /// Total bytes of strings and byte lists in a step's output.
    #[schema(minimum = 1024, maximum = 8388608)]
    pub max_output_bytes: u64,
    /// Actions in a step's output.
    #[schema(minimum = 1, maximum = 1000)]
    pub max_actions: u32,
    /// Bytes of any one string in the output (a message text, a variable value).
    #[schema(minimum = 256, maximum = 1048576)]
    pub max_string_bytes: u64,
    /// Bytes of private state a module may keep between steps.
    #[schema(minimum = 0, maximum = 4194304)]
    pub max_state_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 50_000_000,
            deadline_ms: 100,
            memory_bytes: 32 * 1024 * 1024,
            max_output_bytes: 1024 * 1024,
            max_actions: 100,
            max_string_bytes: 64 * 1024,
            max_state_bytes: 256 * 1024,
        }
    }
}

/// The default deadline of a module that runs an interpreter: CPython or SpiderMonkey
/// is instantiated afresh for every step, which takes tens of milliseconds.
pub const INTERPRETED_DEADLINE_MS: u64 = 1_000;

impl Limits {
    /// The limits a newly installed component starts with: the defaults, with the
    /// deadline an interpreter needs when it runs one (`inspect::interpreter`).
    pub fn for_component(interpreter: Option<&str>) -> Self {
        match interpreter {
            Some(_) => Self {
                deadline_ms: INTERPRETED_DEADLINE_MS,
                ..Self::default()
            },
            None => Self::default(),
        }
    }

    /// The server-wide ceiling: no module's limits may exceed these.
    pub fn server_max() -> Self {
        Self {
            fuel: 2_000_000_000,
            deadline_ms: 5_000,
            memory_bytes: 256 * 1024 * 1024,
            max_output_bytes: 8 * 1024 * 1024,
            max_actions: 1_000,
            max_string_bytes: 1024 * 1024,
            max_state_bytes: 4 * 1024 * 1024,
        }
    }

    /// Limits for `describe`, `validate-config` and `prepare`, which run with the
    /// module's own limits but at least enough to build an index.
    pub fn for_setup(&self, max: &Limits) -> Limits {
        Limits {
            fuel: self.fuel.max(Limits::default().fuel * 10).min(max.fuel),
            deadline_ms: self.deadline_ms.max(2_000).min(max.deadline_ms),
            max_output_bytes: max.max_output_bytes,
            max_string_bytes: max.max_output_bytes,
            max_state_bytes: max.max_state_bytes,
            ..*self
        }
    }

    /// Checks these limits against sane minimums and the server maximum.
    pub fn validate(&self, max: &Limits, errors: &mut FieldErrors) {
        validate::range(errors, "limits.fuel", self.fuel, 10_000, max.fuel);
        validate::range(
            errors,
            "limits.deadline_ms",
            self.deadline_ms,
            1,
            max.deadline_ms,
        );
        validate::range(
            errors,
            "limits.memory_bytes",
            self.memory_bytes,
            1024 * 1024,
            max.memory_bytes,
        );
        validate::range(
            errors,
            "limits.max_output_bytes",
            self.max_output_bytes,
            1024,
            max.max_output_bytes,
        );
        validate::range(
            errors,
            "limits.max_actions",
            self.max_actions,
            1,
            max.max_actions,
        );
        validate::range(
            errors,
            "limits.max_string_bytes",
            self.max_string_bytes,
            256,
            max.max_string_bytes,
        );
        validate::range(
            errors,
            "limits.max_state_bytes",
            self.max_state_bytes,
            0,
            max.max_state_bytes,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_within_the_maximum() {
        let mut errors = FieldErrors::new();
        Limits::default().validate(&Limits::server_max(), &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn beyond_the_maximum_is_refused() {
        let mut errors = FieldErrors::new();
        let limits = Limits {
            memory_bytes: 1 << 40,
            deadline_ms: 0,
            ..Limits::default()
        };
        limits.validate(&Limits::server_max(), &mut errors);
        assert!(errors.get("limits.memory_bytes").is_some());
        assert!(errors.get("limits.deadline_ms").is_some());
    }
}
