//! The failures a module reports to kefu.

use std::fmt;

use crate::ConfigProblem;
use crate::wit::kefu::flow::types::ModuleError;

/// A failure a module reports: an unacceptable configuration, or a step that could
/// not be done (the flow then takes the node's `error` exit).
#[derive(Debug, Clone)]
pub struct Error(ModuleError);

impl Error {
    /// The step could not be done, for this reason.
    pub fn failed(reason: impl Into<String>) -> Self {
        Self(ModuleError::Failed(reason.into()))
    }

    /// The configuration is not acceptable, for every one of these problems.
    pub fn invalid_config(problems: impl IntoIterator<Item = ConfigProblem>) -> Self {
        Self(ModuleError::InvalidConfig(problems.into_iter().collect()))
    }

    /// The configuration is not acceptable because of one value: `path` is its JSON
    /// pointer (e.g. `/choices/2/label`, empty for the whole configuration).
    pub fn config(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::invalid_config([ConfigProblem::new(path, message)])
    }

    /// The configuration problems this error reports; empty for a failed step.
    pub fn problems(&self) -> &[ConfigProblem] {
        match &self.0 {
            ModuleError::InvalidConfig(problems) => problems,
            ModuleError::Failed(_) => &[],
        }
    }

    /// Whether this error is about the configuration rather than a step.
    pub fn is_invalid_config(&self) -> bool {
        matches!(self.0, ModuleError::InvalidConfig(_))
    }

    /// The error as a failed step: configuration problems become one reason that
    /// names each path.
    pub(crate) fn into_failed(self) -> Self {
        match self.0 {
            ModuleError::Failed(_) => self,
            ModuleError::InvalidConfig(_) => Self::failed(self.to_string()),
        }
    }

    pub(crate) fn into_wit(self) -> ModuleError {
        self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            ModuleError::Failed(reason) => f.write_str(reason),
            ModuleError::InvalidConfig(problems) => {
                f.write_str("invalid configuration")?;
                for (i, problem) in problems.iter().enumerate() {
                    f.write_str(if i == 0 { ": " } else { "; " })?;
                    if problem.path.is_empty() {
                        f.write_str(&problem.message)?;
                    } else {
                        write!(f, "{}: {}", problem.path, problem.message)?;
                    }
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for Error {}

impl ConfigProblem {
    /// A problem with the value at `path` (a JSON pointer such as `/choices/2/label`;
    /// empty for the whole configuration).
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_every_problem_with_its_path() {
        let err = Error::invalid_config([
            ConfigProblem::new("", "missing field `title`"),
            ConfigProblem::new("/choices/2/label", "must not be empty"),
        ]);
        assert_eq!(
            err.to_string(),
            "invalid configuration: missing field `title`; /choices/2/label: must not be empty"
        );
        assert!(err.is_invalid_config());
        let failed = err.clone().into_failed();
        assert!(!failed.is_invalid_config());
        assert_eq!(failed.to_string(), err.to_string());
    }
}
