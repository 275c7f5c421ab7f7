//! Agents as admins manage them: who they are, what they may do, how many sessions
//! they can hold at once, and which skill groups they serve with what priority.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::validate::{self, FieldErrors};

/// What a signed-in person may do. Agents serve sessions and see their own work;
/// supervisors also watch the sessions, queues and agents of their skill groups;
/// admins manage the tenant and see everything. Everyone is also an agent and can be
/// routed sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Supervisor,
    Agent,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Supervisor, Role::Agent];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Supervisor => "supervisor",
            Role::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "admin" => Some(Role::Admin),
            "supervisor" => Some(Role::Supervisor),
            "agent" => Some(Role::Agent),
            _ => None,
        }
    }

    /// Whether this role includes everything `other` may do.
    pub fn includes(self, other: Role) -> bool {
        self.rank() >= other.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Role::Agent => 0,
            Role::Supervisor => 1,
            Role::Admin => 2,
        }
    }
}

/// Bounds on an agent's concurrent-session cap (TCCC's "busy" threshold).
pub const MAX_CONCURRENT_SESSIONS_MIN: i32 = 1;
pub const MAX_CONCURRENT_SESSIONS_MAX: i32 = 100;
/// Default cap for a new agent.
pub const DEFAULT_MAX_CONCURRENT_SESSIONS: i32 = 5;
/// Skill-group priority: 1 is served first.
pub const PRIORITY_MIN: i32 = 1;
pub const PRIORITY_MAX: i32 = 10;
pub const DEFAULT_PRIORITY: i32 = 5;
/// Longest list of skill groups one agent may be given.
pub const MAX_MEMBERSHIPS: usize = 50;

/// An agent's place in one skill group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Membership {
    /// A skill group of the tenant (422 when there is none with this id), listed once.
    pub skill_group_id: Uuid,
    /// 1 (served first) to 10. Default 5.
    #[serde(default = "default_priority")]
    #[schema(minimum = 1, maximum = 10)]
    pub priority: i32,
}

fn default_priority() -> i32 {
    DEFAULT_PRIORITY
}

/// An agent as the API shows it. The password hash never leaves the store.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Agent {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// The name end users see (`${StaffNickName}`).
    pub nickname: String,
    pub phone: Option<String>,
    /// Staff number (`${StaffNo}`), unique in the tenant when set.
    pub staff_no: Option<String>,
    pub role: Role,
    /// Sessions the agent can hold at once; at the cap the agent is `busy`.
    pub max_concurrent_sessions: i32,
    pub skill_groups: Vec<Membership>,
    /// Deactivated agents cannot sign in and are never routed sessions.
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub deactivated_at: Option<DateTime<Utc>>,
}

/// A request to create an agent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAgent {
    /// The sign-in name, unique in the tenant (409 `email_taken`); kept in lower case.
    #[schema(
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s.\x00-\x1f\x7f-\x9f][^@\s\x00-\x1f\x7f-\x9f]*\.[^@\s\x00-\x1f\x7f-\x9f]*[^@\s.\x00-\x1f\x7f-\x9f]$"
    )]
    pub email: String,
    #[schema(
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: String,
    /// Defaults to `name`.
    #[serde(default)]
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub nickname: Option<String>,
    /// Digits with spaces, dashes, brackets and an optional leading `+`.
    #[serde(default)]
    #[schema(
        max_length = 32,
        pattern = r"^\+?[ ()-]*[0-9][ ()-]*[0-9][ ()-]*[0-9][0-9 ()-]*$"
    )]
    pub phone: Option<String>,
    /// Unique in the tenant when set (409 `staff_no_taken`).
    #[serde(default)]
    #[schema(max_length = 32, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub staff_no: Option<String>,
    /// Default `agent`.
    #[serde(default = "default_role")]
    pub role: Role,
    /// 1–100, default 5.
    #[serde(default = "default_max_sessions")]
    #[schema(minimum = 1, maximum = 100)]
    pub max_concurrent_sessions: i32,
    /// The initial password, 8–128 characters.
    #[schema(min_length = 8, max_length = 128)]
    pub password: String,
    /// Each skill group at most once.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub skill_groups: Vec<Membership>,
}

fn default_role() -> Role {
    Role::Agent
}

fn default_max_sessions() -> i32 {
    DEFAULT_MAX_CONCURRENT_SESSIONS
}

impl NewAgent {
    /// Normalises the fields in place and checks every rule that needs no database.
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        validate::email(&mut errors, "email", &mut self.email);
        validate::text(&mut errors, "name", &mut self.name, 1, 64);
        validate::optional_text(&mut errors, "nickname", &mut self.nickname, 64);
        if self.nickname.is_none() {
            self.nickname = Some(self.name.clone());
        }
        validate::phone(&mut errors, "phone", &mut self.phone);
        validate::optional_text(&mut errors, "staff_no", &mut self.staff_no, 32);
        max_sessions(&mut errors, self.max_concurrent_sessions);
        validate::password(&mut errors, "password", &self.password);
        memberships(&mut errors, &self.skill_groups);
        errors.into_result()
    }
}

/// A partial update: absent fields are left as they are; `null` clears an optional one.
/// At least one field must be given.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1)]
pub struct AgentPatch {
    #[schema(
        nullable = false,
        max_length = 254,
        pattern = r"^[^@\s\x00-\x1f\x7f-\x9f]+@[^@\s.\x00-\x1f\x7f-\x9f][^@\s\x00-\x1f\x7f-\x9f]*\.[^@\s\x00-\x1f\x7f-\x9f]*[^@\s.\x00-\x1f\x7f-\x9f]$"
    )]
    pub email: Option<String>,
    #[schema(
        nullable = false,
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub name: Option<String>,
    #[schema(
        nullable = false,
        max_length = 64,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub nickname: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>, max_length = 32, pattern = r"^\+?[ ()-]*[0-9][ ()-]*[0-9][ ()-]*[0-9][0-9 ()-]*$")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::double_option")]
    #[schema(value_type = Option<String>, max_length = 32, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub staff_no: Option<Option<String>>,
    #[schema(nullable = false)]
    pub role: Option<Role>,
    #[schema(nullable = false, minimum = 1, maximum = 100)]
    pub max_concurrent_sessions: Option<i32>,
    /// Sets a new password and signs the agent out everywhere.
    #[schema(nullable = false, min_length = 8, max_length = 128)]
    pub password: Option<String>,
    /// Replaces the agent's skill groups; each at most once.
    #[schema(nullable = false, max_items = 50)]
    pub skill_groups: Option<Vec<Membership>>,
}

impl AgentPatch {
    pub fn validate(&mut self) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        if let Some(email) = &mut self.email {
            validate::email(&mut errors, "email", email);
        }
        if let Some(name) = &mut self.name {
            validate::text(&mut errors, "name", name, 1, 64);
        }
        if let Some(nickname) = &mut self.nickname {
            validate::text(&mut errors, "nickname", nickname, 1, 64);
        }
        if let Some(phone) = &mut self.phone {
            validate::phone(&mut errors, "phone", phone);
        }
        if let Some(staff_no) = &mut self.staff_no {
            validate::optional_text(&mut errors, "staff_no", staff_no, 32);
        }
        if let Some(n) = self.max_concurrent_sessions {
            max_sessions(&mut errors, n);
        }
        if let Some(password) = &self.password {
            validate::password(&mut errors, "password", password);
        }
        if let Some(groups) = &self.skill_groups {
            memberships(&mut errors, groups);
        }
        errors.into_result()
    }

    pub fn is_empty(&self) -> bool {
        self.email.is_none()
            && self.name.is_none()
            && self.nickname.is_none()
            && self.phone.is_none()
            && self.staff_no.is_none()
            && self.role.is_none()
            && self.max_concurrent_sessions.is_none()
            && self.password.is_none()
            && self.skill_groups.is_none()
    }
}

fn max_sessions(errors: &mut FieldErrors, n: i32) {
    validate::range(
        errors,
        "max_concurrent_sessions",
        n,
        MAX_CONCURRENT_SESSIONS_MIN,
        MAX_CONCURRENT_SESSIONS_MAX,
    );
}

fn memberships(errors: &mut FieldErrors, groups: &[Membership]) {
    if groups.len() > MAX_MEMBERSHIPS {
        errors.add(
            "skill_groups",
            format!("at most {MAX_MEMBERSHIPS} skill groups"),
        );
        return;
    }
    for (i, m) in groups.iter().enumerate() {
        validate::range(
            errors,
            &format!("skill_groups[{i}].priority"),
            m.priority,
            PRIORITY_MIN,
            PRIORITY_MAX,
        );
        if groups[..i]
            .iter()
            .any(|other| other.skill_group_id == m.skill_group_id)
        {
            errors.add(format!("skill_groups[{i}].skill_group_id"), "listed twice");
        }
    }
}

/// Filters for the agent list.
#[derive(Debug, Clone, Default)]
pub struct AgentFilter {
    /// Case-insensitive text found in the name, nickname, e-mail or staff number.
    pub q: Option<String>,
    pub role: Option<Role>,
    /// `true` for active agents only, `false` for deactivated ones only.
    pub active: Option<bool>,
    /// Only members of this skill group.
    pub skill_group_id: Option<Uuid>,
}

impl AgentFilter {
    pub fn validate(&mut self, errors: &mut FieldErrors) {
        validate::optional_text(errors, "q", &mut self.q, 64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_agent() -> NewAgent {
        serde_json::from_value(serde_json::json!({
            "email": " Li.Lei@Example.com ",
            "name": "李雷",
            "password": "correct horse",
        }))
        .unwrap()
    }

    #[test]
    fn defaults_and_normalisation() {
        let mut a = new_agent();
        a.validate().unwrap();
        assert_eq!(a.email, "li.lei@example.com");
        assert_eq!(a.nickname.as_deref(), Some("李雷"));
        assert_eq!(a.role, Role::Agent);
        assert_eq!(a.max_concurrent_sessions, DEFAULT_MAX_CONCURRENT_SESSIONS);
    }

    #[test]
    fn every_bad_field_is_reported() {
        let g = Uuid::new_v4();
        let mut a = new_agent();
        a.password = "short".into();
        a.max_concurrent_sessions = 0;
        a.skill_groups = vec![
            Membership {
                skill_group_id: g,
                priority: 11,
            },
            Membership {
                skill_group_id: g,
                priority: 1,
            },
        ];
        let errors = a.validate().unwrap_err();
        assert!(errors.get("password").is_some());
        assert_eq!(
            errors.get("max_concurrent_sessions"),
            Some("must be between 1 and 100")
        );
        assert_eq!(
            errors.get("skill_groups[0].priority"),
            Some("must be between 1 and 10")
        );
        assert_eq!(
            errors.get("skill_groups[1].skill_group_id"),
            Some("listed twice")
        );
    }

    #[test]
    fn patch_distinguishes_absent_from_null() {
        let p: AgentPatch = serde_json::from_str(r#"{"phone": null}"#).unwrap();
        assert_eq!(p.phone, Some(None));
        assert_eq!(p.staff_no, None);
        assert!(!p.is_empty());
        let empty: AgentPatch = serde_json::from_str("{}").unwrap();
        assert!(empty.is_empty());
    }
}
