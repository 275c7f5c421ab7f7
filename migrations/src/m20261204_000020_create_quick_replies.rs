//! Quick replies (canned responses) agents insert in the workbench's composer with
//! `/` + shortcut: the tenant's shared list, which admins manage, and each agent's
//! own. `owner_key` is `tenant` for the shared list and the agent's id for a personal
//! one, so that one unique index keeps a shortcut unique within its list on SQLite and
//! PostgreSQL alike (NULLs would never collide).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_tenants::Tenants;
use crate::m20261121_000002_create_agents::Agents;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(QuickReplies::Table)
                    .col(pk_uuid(QuickReplies::Id))
                    .col(uuid(QuickReplies::TenantId))
                    .col(uuid_null(QuickReplies::OwnerId))
                    .col(string_len(QuickReplies::OwnerKey, 40))
                    .col(string_len(QuickReplies::Shortcut, 32))
                    .col(text(QuickReplies::Text))
                    .col(timestamp_with_time_zone(QuickReplies::CreatedAt))
                    .col(timestamp_with_time_zone(QuickReplies::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quick_replies_tenant")
                            .from(QuickReplies::Table, QuickReplies::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_quick_replies_owner")
                            .from(QuickReplies::Table, QuickReplies::OwnerId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_quick_replies_shortcut")
                    .table(QuickReplies::Table)
                    .col(QuickReplies::TenantId)
                    .col(QuickReplies::OwnerKey)
                    .col(QuickReplies::Shortcut)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(QuickReplies::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum QuickReplies {
    Table,
    Id,
    TenantId,
    OwnerId,
    OwnerKey,
    Shortcut,
    Text,
    CreatedAt,
    UpdatedAt,
}
