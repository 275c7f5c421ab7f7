//! Tenants: looked up by slug at login, created by the command line and the demo seed.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::entity::tenant;
use super::{StoreError, TenantId};

/// A tenant as kefu's services see it.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub time_zone: String,
    pub active: bool,
}

impl From<tenant::Model> for Tenant {
    fn from(m: tenant::Model) -> Self {
        Self {
            id: TenantId(m.id),
            slug: m.slug,
            name: m.name,
            time_zone: m.time_zone,
            active: m.active,
        }
    }
}

pub async fn find_by_slug(
    db: &impl ConnectionTrait,
    slug: &str,
) -> Result<Option<Tenant>, StoreError> {
    Ok(tenant::Entity::find()
        .filter(tenant::Column::Slug.eq(slug))
        .one(db)
        .await?
        .map(Tenant::from))
}

pub async fn get(db: &impl ConnectionTrait, id: TenantId) -> Result<Tenant, StoreError> {
    tenant::Entity::find_by_id(id.0)
        .one(db)
        .await?
        .map(Tenant::from)
        .ok_or(StoreError::NotFound)
}

/// Returns the tenant with `slug`, creating it when absent.
pub async fn ensure(
    db: &impl ConnectionTrait,
    slug: &str,
    name: &str,
    time_zone: &str,
) -> Result<(Tenant, bool), StoreError> {
    if let Some(t) = find_by_slug(db, slug).await? {
        return Ok((t, false));
    }
    let model = tenant::ActiveModel {
        id: Set(Uuid::now_v7()),
        slug: Set(slug.to_owned()),
        name: Set(name.to_owned()),
        time_zone: Set(time_zone.to_owned()),
        active: Set(true),
        created_at: Set(Utc::now()),
    };
    match model.insert(db).await {
        Ok(m) => Ok((m.into(), true)),
        // Another node created it between our read and write.
        Err(e) if super::unique_violation(&e).is_some() => find_by_slug(db, slug)
            .await?
            .map(|t| (t, false))
            .ok_or(StoreError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Checks a tenant slug: lower-case letters, digits and dashes, 2–64 long.
pub fn valid_slug(slug: &str) -> bool {
    (2..=64).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs() {
        assert!(super::valid_slug("demo"));
        assert!(super::valid_slug("acme-2"));
        for bad in ["", "a", "Demo", "-x", "x-", "a b", "租户"] {
            assert!(!super::valid_slug(bad), "{bad}");
        }
    }
}
