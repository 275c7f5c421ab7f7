//! What modules answered, kept so that checks do not multiply.
//!
//! Saving, validating, publishing or rolling back a flow asks every node's module
//! whether it accepts the node's configuration; a turn that loops through a node
//! whose `prepare` fails would run it on every pass. The same component with the same
//! limits answers the same configuration the same way, so the answer is kept, keyed
//! by the component's SHA-256, its limits and the configuration's SHA-256. A verdict
//! (accepted, or refused with its problems) is kept until it is pushed out; a failure
//! of the module itself (a deadline, a trap) only for a short while, so that a module
//! that failed under load is asked again soon; having no capacity is never kept.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{FailureKind, Limits, StepFailure};
use crate::flow::{ModuleError, NodeInfo};

/// Most answers kept.
const KEPT: usize = 8_192;
/// How long a failure of the module is kept.
pub const FAILURE_TTL: Duration = Duration::from_secs(30);

/// Which answer: the component, its limits, the call and the configuration.
pub type Key = [u8; 32];

/// The key of `call` (`validate-config`, `prepare`) of a component with `limits` on
/// `config`.
pub fn key(call: &str, sha256: &str, limits: &Limits, config: &str) -> Key {
    let mut h = Sha256::new();
    h.update(call.as_bytes());
    h.update([0]);
    h.update(sha256.as_bytes());
    h.update([0]);
    h.update(serde_json::to_string(limits).unwrap_or_default().as_bytes());
    h.update([0]);
    h.update(config.as_bytes());
    h.finalize().into()
}

#[derive(Debug, Clone)]
struct Entry<T> {
    at: Instant,
    answer: Result<T, StepFailure>,
}

/// Kept answers, and their keys oldest first.
type Kept<T> = (HashMap<Key, Entry<T>>, VecDeque<Key>);

/// Answers of one kind, oldest pushed out first.
#[derive(Debug)]
pub struct Answers<T> {
    kept: Mutex<Kept<T>>,
}

impl<T> Default for Answers<T> {
    fn default() -> Self {
        Self {
            kept: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }
}

/// Whether an answer is worth keeping, and for how long.
fn lifetime<T>(answer: &Result<T, StepFailure>) -> Option<Duration> {
    match answer {
        Ok(_)
        | Err(StepFailure {
            module_error: Some(ModuleError::InvalidConfig(_)),
            ..
        }) => Some(Duration::MAX),
        Err(f) if f.kind == FailureKind::Capacity => None,
        Err(_) => Some(FAILURE_TTL),
    }
}

impl<T: Clone> Answers<T> {
    /// The kept answer, while it is still good.
    pub fn get(&self, key: &Key) -> Option<Result<T, StepFailure>> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let entry = kept.0.get(key)?;
        let life = lifetime(&entry.answer)?;
        (entry.at.elapsed() < life).then(|| entry.answer.clone())
    }

    /// Keeps `answer`, if it is worth keeping.
    pub fn put(&self, key: Key, answer: &Result<T, StepFailure>) {
        if lifetime(answer).is_none() {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *kept;
        let entry = Entry {
            at: Instant::now(),
            answer: answer.clone(),
        };
        if map.insert(key, entry).is_none() {
            order.push_back(key);
        }
        while map.len() > KEPT {
            let Some(oldest) = order.pop_front() else {
                break;
            };
            map.remove(&oldest);
        }
    }

    pub fn len(&self) -> usize {
        self.kept.lock().unwrap_or_else(|p| p.into_inner()).0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `validate-config` verdicts and `prepare` failures.
#[derive(Debug, Default)]
pub struct Verdicts {
    pub configs: Answers<NodeInfo>,
    pub prepares: Answers<()>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::ConfigProblem;

    #[test]
    fn verdicts_are_kept_and_failures_only_for_a_while() {
        let answers = Answers::<u8>::default();
        let limits = Limits::default();
        let ok = key("v", "sha", &limits, "{}");
        let refused = key("v", "sha", &limits, "{\"x\":1}");
        let failed = key("v", "sha", &limits, "{\"x\":2}");
        let busy = key("v", "sha", &limits, "{\"x\":3}");
        assert_ne!(ok, key("v", "sha", &Limits { fuel: 1, ..limits }, "{}"));
        answers.put(ok, &Ok(1));
        let invalid = StepFailure {
            module_error: Some(ModuleError::InvalidConfig(vec![ConfigProblem {
                path: "/x".into(),
                message: "no".into(),
            }])),
            ..StepFailure::new(FailureKind::ModuleError, "invalid")
        };
        answers.put(refused, &Err(invalid.clone()));
        answers.put(
            failed,
            &Err(StepFailure::new(FailureKind::Deadline, "slow")),
        );
        answers.put(busy, &Err(StepFailure::new(FailureKind::Capacity, "full")));
        assert_eq!(answers.get(&ok), Some(Ok(1)));
        assert_eq!(answers.get(&refused), Some(Err(invalid)));
        assert!(matches!(answers.get(&failed), Some(Err(f)) if f.kind == FailureKind::Deadline));
        assert_eq!(answers.get(&busy), None, "no capacity is never kept");
        assert_eq!(answers.len(), 3);
    }

    #[test]
    fn the_oldest_answers_are_pushed_out() {
        let answers = Answers::<usize>::default();
        let limits = Limits::default();
        for n in 0..KEPT + 10 {
            answers.put(key("v", "sha", &limits, &n.to_string()), &Ok(n));
        }
        assert_eq!(answers.len(), KEPT);
        assert_eq!(answers.get(&key("v", "sha", &limits, "0")), None);
        assert_eq!(
            answers.get(&key("v", "sha", &limits, &(KEPT + 9).to_string())),
            Some(Ok(KEPT + 9))
        );
    }
}
