//! Channels: a tenant's customer-service virtual accounts. Each is bound to a flow,
//! carries its Tencent IM app settings (SDKAppID, administrator, secret key), the
//! token that authenticates IM's callbacks, and where replies go out.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_tenants::Tenants;
use crate::m20261121_000007_create_flows::Flows;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Channels::Table)
                    .col(pk_uuid(Channels::Id))
                    .col(uuid(Channels::TenantId))
                    .col(string_len(Channels::Name, 100))
                    .col(string_len(Channels::Account, 64))
                    .col(big_integer(Channels::Sdkappid))
                    .col(string_len(Channels::AdminIdentifier, 64))
                    .col(string_len(Channels::SecretKey, 256))
                    .col(string_len(Channels::CallbackToken, 128))
                    .col(uuid_null(Channels::FlowId))
                    .col(uuid_null(Channels::DefaultSkillGroupId))
                    .col(string_len_null(Channels::ImBaseUrl, 500))
                    .col(boolean(Channels::WebchatEnabled))
                    .col(integer(Channels::IdleTimeoutSecs))
                    .col(timestamp_with_time_zone(Channels::CreatedAt))
                    .col(timestamp_with_time_zone(Channels::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_channels_tenant")
                            .from(Channels::Table, Channels::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_channels_flow")
                            .from(Channels::Table, Channels::FlowId)
                            .to(Flows::Table, Flows::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // IM names a virtual account by its app and account id: one channel each.
        manager
            .create_index(
                Index::create()
                    .name("ux_channels_app_account")
                    .table(Channels::Table)
                    .col(Channels::Sdkappid)
                    .col(Channels::Account)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_channels_tenant_name")
                    .table(Channels::Table)
                    .col(Channels::TenantId)
                    .col(Channels::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Channels::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Channels {
    Table,
    Id,
    TenantId,
    Name,
    Account,
    Sdkappid,
    AdminIdentifier,
    SecretKey,
    CallbackToken,
    FlowId,
    DefaultSkillGroupId,
    ImBaseUrl,
    WebchatEnabled,
    IdleTimeoutSecs,
    CreatedAt,
    UpdatedAt,
}
