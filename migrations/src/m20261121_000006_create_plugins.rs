//! Installed flow modules. A module's component bytes are kept in the database (so
//! every node can load what any node installed) once per content hash; `plugins`
//! names an installation: a built-in (`scope = 'builtin'`) or one tenant's
//! (`scope` = the tenant's id), with its limits and whether it is enabled.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PluginBlobs::Table)
                    .col(string_len(PluginBlobs::Sha256, 64).primary_key())
                    .col(blob(PluginBlobs::Bytes))
                    .col(big_integer(PluginBlobs::Size))
                    .col(timestamp_with_time_zone(PluginBlobs::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Plugins::Table)
                    .col(pk_uuid(Plugins::Id))
                    .col(string_len(Plugins::Scope, 40))
                    .col(uuid_null(Plugins::TenantId))
                    .col(string_len(Plugins::Name, 64))
                    .col(string_len(Plugins::Version, 32))
                    .col(string_len(Plugins::Sha256, 64))
                    .col(boolean(Plugins::Builtin))
                    .col(boolean(Plugins::Enabled))
                    .col(text(Plugins::Limits))
                    .col(text(Plugins::Info))
                    .col(timestamp_with_time_zone(Plugins::CreatedAt))
                    .col(timestamp_with_time_zone(Plugins::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_plugins_blob")
                            .from(Plugins::Table, Plugins::Sha256)
                            .to(PluginBlobs::Table, PluginBlobs::Sha256)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_plugins_scope_name_version")
                    .table(Plugins::Table)
                    .col(Plugins::Scope)
                    .col(Plugins::Name)
                    .col(Plugins::Version)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Plugins::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PluginBlobs::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum PluginBlobs {
    Table,
    Sha256,
    Bytes,
    Size,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Plugins {
    Table,
    Id,
    Scope,
    TenantId,
    Name,
    Version,
    Sha256,
    Builtin,
    Enabled,
    Limits,
    Info,
    CreatedAt,
    UpdatedAt,
}
