//! Agent status, TCCC's names: an agent chooses `free`, `notReady` or `rest` (with a
//! reason); kefu derives `busy` (at the concurrent-session cap), `afterCallWork`
//! (wrap-up after a session) and `offline` (no live workbench connection).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::directory::FieldErrors;

/// The status an agent chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Chosen {
    /// 示闲: sessions may be assigned.
    Free,
    /// 示忙: busy by choice, nothing is assigned.
    NotReady,
    /// 小休: on a break with a reason, nothing is assigned.
    Rest,
}

impl Chosen {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::NotReady => "notReady",
            Self::Rest => "rest",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Free, Self::NotReady, Self::Rest]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// The status shown: the chosen one, or the one kefu derives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Shown {
    Free,
    NotReady,
    Rest,
    /// 忙碌: at the concurrent-session cap.
    Busy,
    /// 话后调整: wrap-up after a session.
    AfterCallWork,
    /// 下线: no live workbench connection.
    Offline,
}

impl Shown {
    pub const ALL: [Shown; 6] = [
        Self::Free,
        Self::NotReady,
        Self::Rest,
        Self::Busy,
        Self::AfterCallWork,
        Self::Offline,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::NotReady => "notReady",
            Self::Rest => "rest",
            Self::Busy => "busy",
            Self::AfterCallWork => "afterCallWork",
            Self::Offline => "offline",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// What the shown status is derived from.
#[derive(Debug, Clone, Copy)]
pub struct Inputs {
    pub chosen: Chosen,
    pub online: bool,
    pub active_sessions: i32,
    pub max_sessions: i32,
    pub acw_until: Option<DateTime<Utc>>,
}

/// Offline wins over everything (nothing can reach the agent); a chosen break wins
/// over what kefu derives; a free agent at the cap is busy, and wrap-up keeps a free
/// agent out of routing until it ends.
pub fn derive(i: Inputs, now: DateTime<Utc>) -> Shown {
    if !i.online {
        return Shown::Offline;
    }
    match i.chosen {
        Chosen::NotReady => Shown::NotReady,
        Chosen::Rest => Shown::Rest,
        Chosen::Free if i.active_sessions >= i.max_sessions => Shown::Busy,
        Chosen::Free if i.acw_until.is_some_and(|t| t > now) => Shown::AfterCallWork,
        Chosen::Free => Shown::Free,
    }
}

/// The reason kefu gives an agent it puts on rest for letting an offer expire.
pub const MISSED: &str = "missed";

/// An agent's status as the workbench and monitoring show it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct StatusView {
    pub status: Shown,
    pub chosen: Chosen,
    pub reason: Option<String>,
    /// Since when the shown status holds.
    pub since: DateTime<Utc>,
    pub online: bool,
    pub active_sessions: i32,
    pub max_concurrent_sessions: i32,
    pub after_call_work_until: Option<DateTime<Utc>>,
    /// `LastOnlineTimestamp`: when a workbench of the agent was last heard from.
    pub last_online_at: Option<DateTime<Utc>>,
    /// `LastStatusTimestamp`.
    pub last_status_at: DateTime<Utc>,
}

/// A status change asked for by the agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetStatus {
    /// `free`, `notReady` or `rest`; the others are derived.
    pub status: String,
    /// Required for `rest`: one of the tenant's rest reasons.
    #[serde(default)]
    pub reason: Option<String>,
}

impl SetStatus {
    /// The chosen status and its reason, checked against the tenant's reasons.
    pub fn validate(
        &self,
        settings: &TenantRouting,
    ) -> Result<(Chosen, Option<String>), FieldErrors> {
        let mut errors = FieldErrors::new();
        let chosen = match Chosen::parse(&self.status) {
            Some(c) => Some(c),
            None if Shown::parse(&self.status).is_some() => {
                errors.add(
                    "status",
                    format!("`{}` is derived by kefu and cannot be set", self.status),
                );
                None
            }
            None => {
                errors.add("status", "must be `free`, `notReady` or `rest`");
                None
            }
        };
        let reason = self
            .reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty());
        match (chosen, reason) {
            (Some(Chosen::Rest), None) => errors.add("reason", "a rest needs a reason"),
            (Some(Chosen::Rest), Some(r))
                if r != MISSED && !settings.rest_reasons.iter().any(|x| x == r) =>
            {
                errors.add("reason", "must be one of the tenant's rest reasons")
            }
            (Some(Chosen::Free | Chosen::NotReady), Some(_)) => {
                errors.add("reason", "only a rest has a reason")
            }
            _ => {}
        }
        errors.into_result()?;
        Ok((
            chosen.unwrap_or(Chosen::NotReady),
            reason.map(str::to_owned),
        ))
    }
}

/// What the API documents for a status change: `free` and `notReady` take no reason, a
/// `rest` one of the tenant's reasons (`GET /api/v1/routing/settings`; another is a 422).
/// [`SetStatus`] reads the same JSON and says what is wrong with anything else.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "status", rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = SetStatus)]
#[allow(
    dead_code,
    reason = "only its schema is used; SetStatus reads the body"
)]
pub enum SetStatusBody {
    Free,
    NotReady,
    Rest {
        /// One of the tenant's rest reasons.
        #[schema(min_length = 1, max_length = 32)]
        reason: String,
    },
}

/// A tenant's reception settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TenantRouting {
    /// The reasons an agent may give for a rest.
    pub rest_reasons: Vec<String>,
    /// Wrap-up time after each session, in seconds (0–3600); 0 turns it off.
    pub after_call_work_secs: i32,
    /// Put an agent who lets an offer expire on `rest` with reason "missed".
    pub rest_on_missed_offer: bool,
}

impl Default for TenantRouting {
    fn default() -> Self {
        Self {
            rest_reasons: ["午餐 Lunch", "会议 Meeting", "培训 Training", "小休 Break"]
                .map(str::to_owned)
                .to_vec(),
            after_call_work_secs: 0,
            rest_on_missed_offer: true,
        }
    }
}

/// Changes to a tenant's reception settings; absent fields keep their value.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantRoutingPatch {
    /// 1 to 20 distinct reasons of 1 to 32 characters, without surrounding spaces.
    #[schema(schema_with = rest_reasons_schema)]
    pub rest_reasons: Option<Vec<String>>,
    /// 0–3600 seconds.
    #[schema(nullable = false, minimum = 0, maximum = 3600)]
    pub after_call_work_secs: Option<i32>,
    #[schema(nullable = false)]
    pub rest_on_missed_offer: Option<bool>,
}

pub const MAX_REST_REASONS: usize = 20;
pub const MAX_REASON_CHARS: usize = 32;

fn rest_reasons_schema() -> utoipa::openapi::Array {
    use utoipa::openapi::{ArrayBuilder, ObjectBuilder, Type};
    let reason = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(MAX_REASON_CHARS))
        .pattern(Some(crate::directory::validate::TRIMMED_PATTERN));
    ArrayBuilder::new()
        .items(reason)
        .min_items(Some(1))
        .max_items(Some(MAX_REST_REASONS))
        .unique_items(true)
        .build()
}

impl TenantRoutingPatch {
    pub fn apply(mut self, to: &mut TenantRouting) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(reasons) = &mut self.rest_reasons {
            if reasons.is_empty() || reasons.len() > MAX_REST_REASONS {
                errors.add(
                    "rest_reasons",
                    format!("must list 1 to {MAX_REST_REASONS} reasons"),
                );
            }
            for (i, r) in reasons.iter_mut().enumerate() {
                *r = r.trim().to_owned();
                let n = r.chars().count();
                if n == 0 || n > MAX_REASON_CHARS {
                    errors.add(
                        format!("rest_reasons[{i}]"),
                        format!("must be 1 to {MAX_REASON_CHARS} characters"),
                    );
                }
            }
            for i in 0..reasons.len() {
                if reasons[..i].contains(&reasons[i]) {
                    errors.add(format!("rest_reasons[{i}]"), "listed twice");
                }
            }
        }
        if let Some(secs) = self.after_call_work_secs
            && !(0..=3600).contains(&secs)
        {
            errors.add("after_call_work_secs", "must be between 0 and 3600");
        }
        errors.into_result()?;
        if let Some(r) = self.rest_reasons {
            to.rest_reasons = r;
        }
        if let Some(s) = self.after_call_work_secs {
            to.after_call_work_secs = s;
        }
        if let Some(m) = self.rest_on_missed_offer {
            to.rest_on_missed_offer = m;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(chosen: Chosen) -> Inputs {
        Inputs {
            chosen,
            online: true,
            active_sessions: 0,
            max_sessions: 3,
            acw_until: None,
        }
    }

    #[test]
    fn offline_then_chosen_then_derived() {
        let now = Utc::now();
        assert_eq!(derive(inputs(Chosen::Free), now), Shown::Free);
        let mut i = inputs(Chosen::Free);
        i.online = false;
        assert_eq!(derive(i, now), Shown::Offline);
        let mut i = inputs(Chosen::Rest);
        i.active_sessions = 3;
        assert_eq!(derive(i, now), Shown::Rest);
        let mut i = inputs(Chosen::Free);
        i.active_sessions = 3;
        i.acw_until = Some(now + chrono::Duration::seconds(5));
        assert_eq!(derive(i, now), Shown::Busy);
        i.active_sessions = 2;
        assert_eq!(derive(i, now), Shown::AfterCallWork);
        i.acw_until = Some(now);
        assert_eq!(derive(i, now), Shown::Free);
    }

    #[test]
    fn only_chosen_statuses_with_valid_reasons_are_accepted() {
        let settings = TenantRouting::default();
        let set = |status: &str, reason: Option<&str>| {
            SetStatus {
                status: status.into(),
                reason: reason.map(Into::into),
            }
            .validate(&settings)
        };
        assert_eq!(set("free", None).unwrap(), (Chosen::Free, None));
        assert_eq!(
            set("rest", Some("午餐 Lunch")).unwrap(),
            (Chosen::Rest, Some("午餐 Lunch".into()))
        );
        assert!(
            set("busy", None)
                .unwrap_err()
                .get("status")
                .unwrap()
                .contains("derived")
        );
        assert!(set("away", None).unwrap_err().get("status").is_some());
        assert!(set("rest", None).unwrap_err().get("reason").is_some());
        assert!(
            set("rest", Some("nap"))
                .unwrap_err()
                .get("reason")
                .is_some()
        );
        assert!(set("free", Some("x")).unwrap_err().get("reason").is_some());
    }

    #[test]
    fn settings_patch_is_checked_whole() {
        let mut s = TenantRouting::default();
        let bad = TenantRoutingPatch {
            rest_reasons: Some(vec!["a".into(), "a".into(), String::new()]),
            after_call_work_secs: Some(-1),
            rest_on_missed_offer: Some(false),
        };
        let errors = bad.apply(&mut s).unwrap_err();
        assert!(errors.get("rest_reasons[1]").is_some());
        assert!(errors.get("rest_reasons[2]").is_some());
        assert!(errors.get("after_call_work_secs").is_some());
        assert_eq!(s, TenantRouting::default(), "nothing applied");
    }
}
