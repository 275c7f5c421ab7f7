//! Server-wide secrets kept in the database so that every node agrees on them.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};

use super::StoreError;
use super::entity::server_secret;

/// Returns the secret called `name`, storing `generate()` first if there is none.
/// Concurrent first starts of several nodes converge on the one that won the insert.
pub async fn get_or_create(
    db: &impl ConnectionTrait,
    name: &str,
    generate: impl FnOnce() -> String,
) -> Result<String, StoreError> {
    if let Some(s) = server_secret::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?
    {
        return Ok(s.value);
    }
    let model = server_secret::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(generate()),
        created_at: Set(Utc::now()),
    };
    match model.insert(db).await {
        Ok(m) => Ok(m.value),
        Err(e) if super::unique_violation(&e).is_some() => {
            server_secret::Entity::find_by_id(name.to_owned())
                .one(db)
                .await?
                .map(|s| s.value)
                .ok_or(StoreError::NotFound)
        }
        Err(e) => Err(e.into()),
    }
}
