//! Who may read which sessions: the one rule every session read goes through.
//!
//! - An **admin** sees every session of the tenant.
//! - A **supervisor** sees the sessions of their skill groups (queued, offered, served
//!   or ended there) and what an agent sees.
//! - An **agent** sees what they serve, served or were offered; what is queued for one
//!   of their groups (so that they can see the queue they will take from); and every
//!   session of a user they serve or served on the same channel (the legs before a
//!   transfer, the user's history, read-only).
//!
//! The rule is applied by the store in the `WHERE` clause of every session read
//! (`store::session_rows::visible_to`), so that lists, single reads and transcripts
//! cannot disagree, and a session the caller may not see is simply not found.

use uuid::Uuid;

use crate::directory::Role;

/// Which of a tenant's sessions a signed-in person may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Visibility {
    /// Every session of the tenant.
    All,
    /// The sessions of these skill groups, and the caller's own.
    Groups { agent: Uuid, groups: Vec<Uuid> },
    /// The caller's own work, the queues of their groups, and the history of the users
    /// they serve or served.
    Own { agent: Uuid, groups: Vec<Uuid> },
}

impl Visibility {
    /// What `role` sees, for an agent who is a member of `groups`.
    pub fn of(role: Role, agent: Uuid, groups: Vec<Uuid>) -> Self {
        match role {
            Role::Admin => Self::All,
            Role::Supervisor => Self::Groups { agent, groups },
            Role::Agent => Self::Own { agent, groups },
        }
    }

    /// Whether the caller may see agent `other`'s figures: admins everyone, supervisors
    /// the members of their groups (given as `other_groups`) and themselves, agents only
    /// themselves.
    pub fn sees_agent(&self, other: Uuid, other_groups: &[Uuid]) -> bool {
        match self {
            Self::All => true,
            Self::Groups { agent, groups } => {
                *agent == other || other_groups.iter().any(|g| groups.contains(g))
            }
            Self::Own { agent, .. } => *agent == other,
        }
    }

    /// Whether the caller may see skill group `group`'s queue and figures.
    pub fn sees_group(&self, group: Uuid) -> bool {
        match self {
            Self::All => true,
            Self::Groups { groups, .. } | Self::Own { groups, .. } => groups.contains(&group),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_sees_its_share_of_agents_and_groups() {
        let (me, other, g1, g2) = (
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
            Uuid::now_v7(),
        );
        let admin = Visibility::of(Role::Admin, me, vec![]);
        assert!(admin.sees_agent(other, &[]) && admin.sees_group(g2));

        let lead = Visibility::of(Role::Supervisor, me, vec![g1]);
        assert!(lead.sees_agent(me, &[]));
        assert!(lead.sees_agent(other, &[g2, g1]));
        assert!(!lead.sees_agent(other, &[g2]));
        assert!(lead.sees_group(g1) && !lead.sees_group(g2));

        let agent = Visibility::of(Role::Agent, me, vec![g1]);
        assert!(agent.sees_agent(me, &[g1]));
        assert!(!agent.sees_agent(other, &[g1]));
        assert!(agent.sees_group(g1) && !agent.sees_group(g2));
    }
}
