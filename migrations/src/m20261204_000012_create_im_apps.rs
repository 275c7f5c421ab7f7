//! IM apps and the tenant that owns each. An SDKAppID names one Tencent IM app, and
//! an app belongs to one tenant of a kefu server: the first tenant to create a
//! channel of an app owns it, until its last channel of the app is deleted (or the
//! operator releases it). Ingress only ever looks at the owner's channels, so another
//! tenant can never write into, or speak as, a channel of an app it does not own.
//!
//! Existing channels are migrated so that each app goes to the tenant of its oldest
//! channel; any other tenant's channels of that app stop receiving messages.

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
                    .table(ImApps::Table)
                    .col(big_integer(ImApps::Sdkappid).primary_key())
                    .col(uuid(ImApps::TenantId))
                    .col(timestamp_with_time_zone(ImApps::ClaimedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_im_apps_tenant")
                            .from(ImApps::Table, ImApps::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_im_apps_tenant")
                    .table(ImApps::Table)
                    .col(ImApps::TenantId)
                    .to_owned(),
            )
            .await?;
        // Each app to the tenant of its oldest channel (ties broken by id).
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO im_apps (sdkappid, tenant_id, claimed_at) \
                 SELECT c.sdkappid, c.tenant_id, c.created_at FROM channels c \
                 WHERE NOT EXISTS (SELECT 1 FROM channels d WHERE d.sdkappid = c.sdkappid \
                 AND (d.created_at < c.created_at OR (d.created_at = c.created_at AND d.id < c.id)))",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ImApps::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum ImApps {
    Table,
    Sdkappid,
    TenantId,
    ClaimedAt,
}
