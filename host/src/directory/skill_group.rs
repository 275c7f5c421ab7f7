//! Skill groups: the teams that sessions are routed to, and the routing settings each
//! one keeps (how an agent is chosen, how offers are accepted, how long the queue may
//! grow). The router reads these settings; admins edit them here.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::validate::{self, FieldErrors};

/// How the next agent is chosen among the free members of a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoutingStrategy {
    /// The agent who has waited longest since their last session (TCCC's default).
    LongestIdle,
    /// The agent with the fewest sessions relative to their cap.
    LeastLoaded,
    /// Members in turn.
    RoundRobin,
}

impl RoutingStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LongestIdle => "longest_idle",
            Self::LeastLoaded => "least_loaded",
            Self::RoundRobin => "round_robin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "longest_idle" => Some(Self::LongestIdle),
            "least_loaded" => Some(Self::LeastLoaded),
            "round_robin" => Some(Self::RoundRobin),
            _ => None,
        }
    }
}

/// Whether an offered session is the agent's at once or waits for them to accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AcceptMode {
    Auto,
    /// The agent accepts within `offer_timeout_secs`, or the offer moves on.
    Manual,
}

impl AcceptMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Manual => "manual",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "manual" => Some(Self::Manual),
            _ => None,
        }
    }
}

/// A skill group's routing settings. Every field has a default, so a client may send
/// only the ones it cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RoutingSettings {
    pub strategy: RoutingStrategy,
    /// Offer the session to the agent who last served this user, if they are free.
    pub prefer_last_agent: bool,
    /// How far back "last served" reaches, in seconds (0–30 days).
    #[schema(minimum = 0, maximum = 2592000)]
    pub last_agent_window_secs: i32,
    pub accept_mode: AcceptMode,
    /// Countdown for a manual accept, in seconds (5–600).
    #[schema(minimum = 5, maximum = 600)]
    pub offer_timeout_secs: i32,
    /// Sessions that may wait in the queue (1–100000).
    #[schema(minimum = 1, maximum = 100000)]
    pub queue_max_length: i32,
    /// Longest wait in the queue, in seconds (10–86400), after which the session
    /// leaves by the transfer module's exits.
    #[schema(minimum = 10, maximum = 86400)]
    pub queue_max_wait_secs: i32,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        Self {
            strategy: RoutingStrategy::LongestIdle,
            prefer_last_agent: true,
            last_agent_window_secs: 24 * 3600,
            accept_mode: AcceptMode::Auto,
            offer_timeout_secs: 30,
            queue_max_length: 200,
            queue_max_wait_secs: 600,
        }
    }
}

impl RoutingSettings {
    pub fn validate(&self, errors: &mut FieldErrors) {
        validate::range(
            errors,
            "routing.last_agent_window_secs",
            self.last_agent_window_secs,
            0,
            30 * 24 * 3600,
        );
        validate::range(
            errors,
            "routing.offer_timeout_secs",
            self.offer_timeout_secs,
            5,
            600,
        );
        validate::range(
            errors,
            "routing.queue_max_length",
            self.queue_max_length,
            1,
            100_000,
        );
        validate::range(
            errors,
            "routing.queue_max_wait_secs",
            self.queue_max_wait_secs,
            10,
            86_400,
        );
    }
}

/// Changes to some routing settings; absent fields keep their value.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingPatch {
    pub strategy: Option<RoutingStrategy>,
    pub prefer_last_agent: Option<bool>,
    #[schema(minimum = 0, maximum = 2592000)]
    pub last_agent_window_secs: Option<i32>,
    pub accept_mode: Option<AcceptMode>,
    #[schema(minimum = 5, maximum = 600)]
    pub offer_timeout_secs: Option<i32>,
    #[schema(minimum = 1, maximum = 100000)]
    pub queue_max_length: Option<i32>,
    #[schema(minimum = 10, maximum = 86400)]
    pub queue_max_wait_secs: Option<i32>,
}

impl RoutingPatch {
    pub fn apply(&self, s: &mut RoutingSettings) {
        if let Some(v) = self.strategy {
            s.strategy = v;
        }
        if let Some(v) = self.prefer_last_agent {
            s.prefer_last_agent = v;
        }
        if let Some(v) = self.last_agent_window_secs {
            s.last_agent_window_secs = v;
        }
        if let Some(v) = self.accept_mode {
            s.accept_mode = v;
        }
        if let Some(v) = self.offer_timeout_secs {
            s.offer_timeout_secs = v;
        }
        if let Some(v) = self.queue_max_length {
            s.queue_max_length = v;
        }
        if let Some(v) = self.queue_max_wait_secs {
            s.queue_max_wait_secs = v;
        }
    }
}

/// A skill group as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkillGroup {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub routing: RoutingSettings,
    /// Agents who are members, active or not.
    pub agent_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A request to create a skill group.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSkillGroup {
    /// Unique in the tenant (409 `skill_group_name_taken`).
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub description: String,
    #[serde(default)]
    pub routing: RoutingSettings,
}

impl NewSkillGroup {
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validate::text(&mut errors, "name", &mut self.name, 1, 64);
        validate::text(&mut errors, "description", &mut self.description, 0, 512);
        self.routing.validate(&mut errors);
        errors.into_result()
    }
}

/// A partial update of a skill group.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkillGroupPatch {
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(max_length = 512, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub description: Option<String>,
    pub routing: Option<RoutingPatch>,
}

impl SkillGroupPatch {
    /// Checks the patch as it would leave `current`.
    pub fn validate(&mut self, current: &RoutingSettings) -> Result<RoutingSettings, FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(name) = &mut self.name {
            validate::text(&mut errors, "name", name, 1, 64);
        }
        if let Some(description) = &mut self.description {
            validate::text(&mut errors, "description", description, 0, 512);
        }
        let mut routing = *current;
        if let Some(patch) = &self.routing {
            patch.apply(&mut routing);
        }
        routing.validate(&mut errors);
        errors.into_result().map(|()| routing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_defaults_fill_missing_fields() {
        let s: RoutingSettings = serde_json::from_str(r#"{"accept_mode":"manual"}"#).unwrap();
        assert_eq!(s.accept_mode, AcceptMode::Manual);
        assert_eq!(s.strategy, RoutingStrategy::LongestIdle);
        assert_eq!(s.offer_timeout_secs, 30);
    }

    #[test]
    fn patch_is_validated_against_the_result() {
        let mut p: SkillGroupPatch =
            serde_json::from_str(r#"{"routing":{"offer_timeout_secs":1},"name":" "}"#).unwrap();
        let errors = p.validate(&RoutingSettings::default()).unwrap_err();
        assert_eq!(
            errors.get("routing.offer_timeout_secs"),
            Some("must be between 5 and 600")
        );
        assert_eq!(errors.get("name"), Some("must not be empty"));
    }

    #[test]
    fn names_round_trip() {
        for s in [
            RoutingStrategy::LongestIdle,
            RoutingStrategy::LeastLoaded,
            RoutingStrategy::RoundRobin,
        ] {
            assert_eq!(RoutingStrategy::parse(s.as_str()), Some(s));
        }
        for m in [AcceptMode::Auto, AcceptMode::Manual] {
            assert_eq!(AcceptMode::parse(m.as_str()), Some(m));
        }
    }
}
