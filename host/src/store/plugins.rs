//! Installed flow modules and their component bytes.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use super::entity::{plugin, plugin_blob};
use super::{StoreError, TenantId, unique_violation};
use crate::flow::ModuleInfo;
use crate::plugin::Limits;

/// The scope of built-in modules, visible to every tenant.
pub const BUILTIN: &str = "builtin";

/// An installed module.
#[derive(Debug, Clone)]
pub struct PluginRow {
    pub id: Uuid,
    pub tenant: Option<TenantId>,
    pub sha256: String,
    pub builtin: bool,
    pub enabled: bool,
    pub limits: Limits,
    pub info: ModuleInfo,
    pub size: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn scope_of(tenant: Option<TenantId>) -> String {
    tenant.map_or_else(|| BUILTIN.to_owned(), |t| t.0.to_string())
}

fn to_row(m: plugin::Model) -> Result<PluginRow, StoreError> {
    let corrupt = |what: &str, e: serde_json::Error| {
        StoreError::Db(sea_orm::DbErr::Custom(format!(
            "plugin {} has unreadable {what}: {e}",
            m.id
        )))
    };
    let limits = serde_json::from_str(&m.limits).map_err(|e| corrupt("limits", e))?;
    let info = serde_json::from_str(&m.info).map_err(|e| corrupt("info", e))?;
    Ok(PluginRow {
        id: m.id,
        tenant: m.tenant_id.map(TenantId),
        sha256: m.sha256,
        builtin: m.builtin,
        enabled: m.enabled,
        limits,
        info,
        size: None,
        created_at: m.created_at,
        updated_at: m.updated_at,
    })
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Stores a component's bytes once per hash.
async fn put_blob(db: &impl ConnectionTrait, sha256: &str, bytes: &[u8]) -> Result<(), StoreError> {
    let blob = plugin_blob::ActiveModel {
        sha256: Set(sha256.to_owned()),
        bytes: Set(bytes.to_vec()),
        size: Set(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        created_at: Set(Utc::now()),
    };
    plugin_blob::Entity::insert(blob)
        .on_conflict(
            OnConflict::column(plugin_blob::Column::Sha256)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Records a new installation. A name@version already installed in the same scope, or
/// as a built-in, is a conflict.
pub async fn insert(
    db: &DatabaseConnection,
    tenant: Option<TenantId>,
    info: &ModuleInfo,
    sha256: &str,
    bytes: &[u8],
    enabled: bool,
    limits: &Limits,
) -> Result<PluginRow, StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    if tenant.is_some() && find(&txn, None, &info.name, &info.version).await?.is_some() {
        return Err(exists(info));
    }
    put_blob(&txn, sha256, bytes).await?;
    let now = Utc::now();
    let model = plugin::ActiveModel {
        id: Set(Uuid::now_v7()),
        scope: Set(scope_of(tenant)),
        tenant_id: Set(tenant.map(|t| t.0)),
        name: Set(info.name.clone()),
        version: Set(info.version.clone()),
        sha256: Set(sha256.to_owned()),
        builtin: Set(tenant.is_none()),
        enabled: Set(enabled),
        limits: Set(json(limits)),
        info: Set(json(info)),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let m = model.insert(&txn).await.map_err(|e| {
        if unique_violation(&e).is_some() {
            exists(info)
        } else {
            e.into()
        }
    })?;
    txn.commit().await?;
    let mut row = to_row(m)?;
    row.size = Some(i64::try_from(bytes.len()).unwrap_or(i64::MAX));
    Ok(row)
}

fn exists(info: &ModuleInfo) -> StoreError {
    StoreError::conflict(
        "plugin_exists",
        format!("{}@{} is already installed", info.name, info.version),
    )
}

/// Installs or refreshes a built-in module: a rebuilt component with the same
/// name@version replaces the stored one.
pub async fn upsert_builtin(
    db: &DatabaseConnection,
    info: &ModuleInfo,
    sha256: &str,
    bytes: &[u8],
) -> Result<PluginRow, StoreError> {
    match find(db, None, &info.name, &info.version).await? {
        Some(existing) if existing.sha256 == sha256 => Ok(existing),
        Some(existing) => {
            let (txn, _writer) = super::write::begin_write(db).await?;
            put_blob(&txn, sha256, bytes).await?;
            let model = plugin::ActiveModel {
                id: Set(existing.id),
                sha256: Set(sha256.to_owned()),
                info: Set(json(info)),
                updated_at: Set(Utc::now()),
                ..Default::default()
            };
            let m = model.update(&txn).await?;
            delete_blob_if_unused(&txn, &existing.sha256).await?;
            txn.commit().await?;
            to_row(m)
        }
        None => match insert(db, None, info, sha256, bytes, true, &Limits::default()).await {
            // Another node installed it first.
            Err(StoreError::Conflict { .. }) => find(db, None, &info.name, &info.version)
                .await?
                .ok_or(StoreError::NotFound),
            other => other,
        },
    }
}

/// The installation of `name@version` in a scope (`None`: built-ins).
pub async fn find(
    db: &impl ConnectionTrait,
    tenant: Option<TenantId>,
    name: &str,
    version: &str,
) -> Result<Option<PluginRow>, StoreError> {
    plugin::Entity::find()
        .filter(plugin::Column::Scope.eq(scope_of(tenant)))
        .filter(plugin::Column::Name.eq(name))
        .filter(plugin::Column::Version.eq(version))
        .one(db)
        .await?
        .map(to_row)
        .transpose()
}

/// Built-ins and the tenant's own modules, by name then version.
pub async fn list_visible(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<PluginRow>, StoreError> {
    plugin::Entity::find()
        .filter(plugin::Column::Scope.is_in([BUILTIN.to_owned(), tenant.0.to_string()]))
        .order_by_asc(plugin::Column::Name)
        .order_by_asc(plugin::Column::Version)
        .order_by_asc(plugin::Column::Scope)
        .all(db)
        .await?
        .into_iter()
        .map(to_row)
        .collect()
}

/// Every installation, for loading at start-up.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<PluginRow>, StoreError> {
    plugin::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(to_row)
        .collect()
}

/// One module the tenant can see (a built-in or its own).
pub async fn get_visible(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
) -> Result<PluginRow, StoreError> {
    let m = plugin::Entity::find_by_id(id)
        .filter(plugin::Column::Scope.is_in([BUILTIN.to_owned(), tenant.0.to_string()]))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut row = to_row(m)?;
    // Only the size: the bytes themselves can be megabytes.
    row.size = plugin_blob::Entity::find()
        .select_only()
        .column(plugin_blob::Column::Size)
        .filter(plugin_blob::Column::Sha256.eq(row.sha256.as_str()))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    Ok(row)
}

/// Changes a tenant's own installation.
pub async fn update(
    db: &impl ConnectionTrait,
    tenant: TenantId,
    id: Uuid,
    enabled: Option<bool>,
    limits: Option<&Limits>,
) -> Result<PluginRow, StoreError> {
    let row = get_visible(db, tenant, id).await?;
    if row.builtin {
        return Err(StoreError::conflict(
            "builtin_plugin",
            "built-in modules are managed by the server",
        ));
    }
    let mut model = plugin::ActiveModel {
        id: Set(id),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    if let Some(enabled) = enabled {
        model.enabled = Set(enabled);
    }
    if let Some(limits) = limits {
        model.limits = Set(json(limits));
    }
    model.update(db).await?;
    get_visible(db, tenant, id).await
}

/// How many modules a tenant has installed.
pub async fn count_installed(
    db: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<usize, StoreError> {
    let n = plugin::Entity::find()
        .filter(plugin::Column::Scope.eq(tenant.0.to_string()))
        .count(db)
        .await?;
    Ok(usize::try_from(n).unwrap_or(usize::MAX))
}

/// Removes a tenant's own installation (and its bytes when nothing else uses them).
/// Answers the row, and whether its bytes went too.
pub async fn delete(
    db: &DatabaseConnection,
    tenant: TenantId,
    id: Uuid,
) -> Result<(PluginRow, bool), StoreError> {
    let (txn, _writer) = super::write::begin_write(db).await?;
    let row = get_visible(&txn, tenant, id).await?;
    if row.builtin {
        return Err(StoreError::conflict(
            "builtin_plugin",
            "built-in modules are managed by the server",
        ));
    }
    plugin::Entity::delete_many()
        .filter(plugin::Column::Scope.eq(tenant.0.to_string()))
        .filter(plugin::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let unused = delete_blob_if_unused(&txn, &row.sha256).await?;
    txn.commit().await?;
    Ok((row, unused))
}

/// Deletes a component's bytes when no installation uses them; answers whether it did.
async fn delete_blob_if_unused(
    db: &impl ConnectionTrait,
    sha256: &str,
) -> Result<bool, StoreError> {
    let users = plugin::Entity::find()
        .filter(plugin::Column::Sha256.eq(sha256))
        .count(db)
        .await?;
    if users == 0 {
        plugin_blob::Entity::delete_by_id(sha256.to_owned())
            .exec(db)
            .await?;
    }
    Ok(users == 0)
}

/// A component's bytes.
pub async fn blob(db: &impl ConnectionTrait, sha256: &str) -> Result<Vec<u8>, StoreError> {
    plugin_blob::Entity::find_by_id(sha256.to_owned())
        .one(db)
        .await?
        .map(|b| b.bytes)
        .ok_or(StoreError::NotFound)
}
