//! Skill groups' settings as routing reads them: a queue moves many times a second
//! under load and its settings change rarely, so they are kept for a second (and
//! dropped at once when this node changes them).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::directory::SkillGroup;
use crate::store::skill_groups;
use crate::store::{StoreError, TenantId};

/// How long a skill group's settings are reused.
const FRESH: Duration = Duration::from_secs(1);
/// Beyond this many groups the cache starts over.
const MAX_KEPT: usize = 10_000;

#[derive(Debug, Default)]
pub struct Groups {
    kept: Mutex<HashMap<(Uuid, Uuid), (Instant, SkillGroup)>>,
}

impl Groups {
    /// The group's settings, at most a second old.
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<SkillGroup, StoreError> {
        if let Some((at, g)) = self.lock().get(&(tenant.0, id))
            && at.elapsed() < FRESH
        {
            return Ok(g.clone());
        }
        let g = skill_groups::get(db, tenant, id).await?;
        let mut kept = self.lock();
        if kept.len() >= MAX_KEPT {
            kept.clear();
        }
        kept.insert((tenant.0, id), (Instant::now(), g.clone()));
        Ok(g)
    }

    /// Drops what is kept of the group (it was changed or deleted here).
    pub fn forget(&self, tenant: TenantId, id: Uuid) {
        self.lock().remove(&(tenant.0, id));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Uuid, Uuid), (Instant, SkillGroup)>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}
