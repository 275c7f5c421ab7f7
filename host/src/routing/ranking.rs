//! Routing's rules for who goes first: members ranked by their priority in the group,
//! then by the group's strategy (longest idle, least loaded, round robin), and the
//! shortlist of a busy queue's best members that a node keeps between turns. Pure
//! rules: the rows come from `store::assign`, which also re-checks every claim.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::directory::RoutingStrategy;

/// A member who could take a session, with what the strategy orders by.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub agent: Uuid,
    pub priority: i32,
    pub active: i32,
    pub cap: i32,
    pub idle_since: DateTime<Utc>,
    pub last_offered: Option<DateTime<Utc>>,
}

/// Orders members best first: by their priority in the group (1 first), then by the
/// group's strategy.
pub fn rank(candidates: &mut [Candidate], strategy: RoutingStrategy) {
    candidates.sort_by(|a, b| {
        let by_strategy = match strategy {
            // Idle agents first, the one idle longest before the others.
            RoutingStrategy::LongestIdle => (a.active > 0)
                .cmp(&(b.active > 0))
                .then(a.idle_since.cmp(&b.idle_since)),
            RoutingStrategy::LeastLoaded => (i64::from(a.active) * i64::from(b.cap))
                .cmp(&(i64::from(b.active) * i64::from(a.cap)))
                .then(a.idle_since.cmp(&b.idle_since)),
            // Never offered first, then the one offered longest ago.
            RoutingStrategy::RoundRobin => a.last_offered.cmp(&b.last_offered),
        };
        a.priority
            .cmp(&b.priority)
            .then(by_strategy)
            .then(a.agent.cmp(&b.agent))
    });
}

/// Members of a group who could take a session, best first, read before a write
/// turn: ranking a group of hundreds then costs the turn nothing, while every other
/// writer waits for it. Read without locks, like every list of candidates: the claim
/// in the turn re-checks each member, and a list found stale there is read again.
///
/// A node may keep a list for the turns that follow, told of each claim they make
/// (`claimed`, `lost`): while the list still holds a member, its first is the best
/// member of the group but for changes made elsewhere since the read.
#[derive(Debug, Clone)]
pub struct Shortlist {
    pub group: Uuid,
    pub strategy: RoutingStrategy,
    pub members: Vec<Candidate>,
    /// Every member who could take a session was read (the list was not cut short).
    pub complete: bool,
}

impl Shortlist {
    pub fn group(&self) -> Uuid {
        self.group
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Another transaction gave the agent a session; they now hold `active`. In a
    /// list cut short the agent leaves it: where they rank now among the members never
    /// read is unknown, while every member left still ranks above those.
    pub fn claimed(&mut self, agent: Uuid, active: i32, at: DateTime<Utc>) {
        let Some(i) = self.members.iter().position(|c| c.agent == agent) else {
            return;
        };
        if !self.complete || active >= self.members[i].cap {
            self.members.remove(i);
            return;
        }
        self.members[i].active = active;
        self.members[i].last_offered = Some(at);
        rank(&mut self.members, self.strategy);
    }

    /// The agent could not be claimed: they cannot take a session now.
    pub fn lost(&mut self, agent: Uuid) {
        self.members.retain(|c| c.agent != agent);
    }
}

/// A change to a member's standing made by a committed transaction: what a kept
/// shortlist of the group must learn.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    pub tenant: Uuid,
    pub group: Uuid,
    pub agent: Uuid,
    /// The sessions the agent holds after the claim, or `None` when the agent could
    /// not be claimed.
    pub active: Option<i32>,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(n: u128, active: i32, idle_secs_ago: i64) -> Candidate {
        Candidate {
            agent: Uuid::from_u128(n),
            priority: 1,
            active,
            cap: 2,
            idle_since: Utc::now() - chrono::Duration::seconds(idle_secs_ago),
            last_offered: None,
        }
    }

    fn list(members: Vec<Candidate>, complete: bool) -> Shortlist {
        let mut members = members;
        rank(&mut members, RoutingStrategy::LongestIdle);
        Shortlist {
            group: Uuid::from_u128(99),
            strategy: RoutingStrategy::LongestIdle,
            members,
            complete,
        }
    }

    fn order(l: &Shortlist) -> Vec<u128> {
        l.members.iter().map(|c| c.agent.as_u128()).collect()
    }

    #[test]
    fn a_complete_list_reranks_a_claimed_member_and_drops_them_at_their_cap() {
        let mut l = list(
            vec![member(1, 0, 30), member(2, 0, 20), member(3, 1, 60)],
            true,
        );
        assert_eq!(order(&l), [1, 2, 3]);
        // Agent 1 now has a session: idle agent 2 goes first, 1 ranks by idle time
        // among the busy.
        l.claimed(Uuid::from_u128(1), 1, Utc::now());
        assert_eq!(order(&l), [2, 3, 1]);
        l.claimed(Uuid::from_u128(3), 2, Utc::now());
        assert_eq!(order(&l), [2, 1], "at their cap, agent 3 leaves the list");
        l.lost(Uuid::from_u128(2));
        assert_eq!(order(&l), [1]);
    }

    #[test]
    fn a_list_cut_short_drops_a_claimed_member() {
        // Members beyond the list were never read: after a claim, agent 1 might rank
        // below any of them, so the list must not name agent 1 first again.
        let mut l = list(vec![member(1, 0, 30), member(2, 0, 20)], false);
        l.claimed(Uuid::from_u128(1), 1, Utc::now());
        assert_eq!(order(&l), [2]);
        l.claimed(Uuid::from_u128(2), 1, Utc::now());
        assert!(l.is_empty());
        // A claim of someone not listed changes nothing.
        let mut l = list(vec![member(1, 0, 30)], false);
        l.claimed(Uuid::from_u128(7), 1, Utc::now());
        assert_eq!(order(&l), [1]);
    }
}
