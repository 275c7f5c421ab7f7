//! Skill groups' settings as routing reads them: a queue moves many times a second
//! under load and its settings change rarely, so they are kept for a second (and
//! dropped at once when this node changes them).

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::cache::Fresh;
use crate::directory::SkillGroup;
use crate::store::skill_groups;
use crate::store::{StoreError, TenantId};

#[derive(Debug, Default)]
pub struct Groups {
    kept: Fresh<(Uuid, Uuid), SkillGroup>,
}

impl Groups {
    /// The group's settings, at most a second old.
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<SkillGroup, StoreError> {
        self.kept
            .get_or_load((tenant.0, id), || skill_groups::get(db, tenant, id))
            .await
    }

    /// Drops what is kept of the group (it was changed or deleted here).
    pub fn forget(&self, tenant: TenantId, id: Uuid) {
        self.kept.forget(&(tenant.0, id));
    }
}
