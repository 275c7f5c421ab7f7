//! The best members of each busy queue, kept between write turns: ranking a group of
//! hundreds for every session that arrives would cost more than everything else the
//! session's turn does. A kept list learns of every claim this node's turns make, is
//! dropped whenever an agent may have become able to take a session (a slot freed, a
//! status set to free, a socket opened, an admin's change), and is read again after a
//! second at most, which bounds what it misses of other nodes' changes. Nothing
//! depends on a list being right: each claim re-checks the member in the database.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::store::assign::{Claim, Shortlist};

/// How long a list is used at most.
const FRESH: Duration = Duration::from_secs(1);
/// How many members a list holds when read: one read serves that many sessions
/// arriving one after the other.
pub const SIZE: usize = 32;

#[derive(Debug, Default)]
pub struct Shortlists {
    kept: Mutex<HashMap<(Uuid, Uuid), (Instant, Shortlist)>>,
}

impl Shortlists {
    /// The kept list of (tenant, group), if it is fresh and still names someone.
    pub fn get(&self, tenant: Uuid, group: Uuid) -> Option<Shortlist> {
        match self.lock().get(&(tenant, group)) {
            Some((at, list)) if at.elapsed() < FRESH && !list.is_empty() => Some(list.clone()),
            _ => None,
        }
    }

    /// Keeps a list just read.
    pub fn put(&self, tenant: Uuid, list: Shortlist) {
        self.lock()
            .insert((tenant, list.group()), (Instant::now(), list));
    }

    /// What committed turns did to members of kept lists.
    pub fn note(&self, claims: &[Claim]) {
        if claims.is_empty() {
            return;
        }
        let mut kept = self.lock();
        for c in claims {
            if let Some((_, list)) = kept.get_mut(&(c.tenant, c.group)) {
                match c.active {
                    Some(active) => list.claimed(c.agent, active, c.at),
                    None => list.lost(c.agent),
                }
            }
        }
    }

    /// Drops the list of one group (its settings or members changed).
    pub fn forget(&self, tenant: Uuid, group: Uuid) {
        self.lock().remove(&(tenant, group));
    }

    /// Drops every list: an agent may rank differently now, in groups unknown here.
    pub fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(Uuid, Uuid), (Instant, Shortlist)>> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
