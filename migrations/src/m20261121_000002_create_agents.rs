//! Agents: every person who signs in to a tenant, admins included (TCCC calls them
//! staff). `max_concurrent_sessions` is the cap that makes an agent `busy`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agents::Table)
                    .col(pk_uuid(Agents::Id))
                    .col(uuid(Agents::TenantId))
                    .col(string_len(Agents::Email, 254))
                    .col(string_len(Agents::Name, 64))
                    .col(string_len(Agents::Nickname, 64))
                    .col(string_len_null(Agents::Phone, 32))
                    .col(string_len_null(Agents::StaffNo, 32))
                    .col(string_len(Agents::Role, 16))
                    .col(integer(Agents::MaxConcurrentSessions))
                    .col(string_len(Agents::PasswordHash, 255))
                    .col(boolean(Agents::Active).default(true))
                    .col(timestamp_with_time_zone(Agents::CreatedAt))
                    .col(timestamp_with_time_zone(Agents::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Agents::DeactivatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agents_tenant")
                            .from(Agents::Table, Agents::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_agents_tenant_email")
                    .table(Agents::Table)
                    .col(Agents::TenantId)
                    .col(Agents::Email)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_agents_tenant_staff_no")
                    .table(Agents::Table)
                    .col(Agents::TenantId)
                    .col(Agents::StaffNo)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Agents::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Agents {
    Table,
    Id,
    TenantId,
    Email,
    Name,
    Nickname,
    Phone,
    StaffNo,
    Role,
    MaxConcurrentSessions,
    PasswordHash,
    Active,
    CreatedAt,
    UpdatedAt,
    DeactivatedAt,
}
