//! The best members of each busy queue, kept between write turns: ranking a group of
//! hundreds for every session that arrives would cost more than everything else the
//! session's turn does. A kept list learns of every claim this node's turns make, is
//! dropped whenever an agent may have become able to take a session (a slot freed, a
//! status set to free, a socket opened, an admin's change), and is read again after a
//! second at most, which bounds what it misses of other nodes' changes. Nothing
//! depends on a list being right: each claim re-checks the member in the database.

use uuid::Uuid;

use super::ranking::{Claim, Shortlist};
use crate::cache::Fresh;

/// How many members a list holds when read: one read serves that many sessions
/// arriving one after the other.
pub const SIZE: usize = 32;

/// Lists by (tenant, group), each used for a second at most.
#[derive(Debug, Default)]
pub struct Shortlists {
    kept: Fresh<(Uuid, Uuid), Shortlist>,
}

impl Shortlists {
    /// The kept list of (tenant, group), if it is fresh and still names someone.
    pub fn get(&self, tenant: Uuid, group: Uuid) -> Option<Shortlist> {
        self.kept
            .get(&(tenant, group))
            .filter(|list| !list.is_empty())
    }

    /// Keeps a list just read.
    pub fn put(&self, tenant: Uuid, list: Shortlist) {
        self.kept.put((tenant, list.group()), list);
    }

    /// What committed turns did to members of kept lists.
    pub fn note(&self, claims: &[Claim]) {
        for c in claims {
            self.kept
                .update(&(c.tenant, c.group), |list| match c.active {
                    Some(active) => list.claimed(c.agent, active, c.at),
                    None => list.lost(c.agent),
                });
        }
    }

    /// Drops the list of one group (its settings or members changed).
    pub fn forget(&self, tenant: Uuid, group: Uuid) {
        self.kept.forget(&(tenant, group));
    }

    /// Drops every list: an agent may rank differently now, in groups unknown here.
    pub fn clear(&self) {
        self.kept.clear();
    }
}
