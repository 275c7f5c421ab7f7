//! Conversation service flows: a flow's editable draft, and its published revisions,
//! which never change once written. A flow's `live_revision` is the revision new
//! sessions start on; a session keeps the revision it started with.

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
                    .table(Flows::Table)
                    .col(pk_uuid(Flows::Id))
                    .col(uuid(Flows::TenantId))
                    .col(string_len(Flows::Name, 100))
                    .col(string_len(Flows::Description, 1000))
                    .col(text(Flows::Draft))
                    .col(integer_null(Flows::LiveRevision))
                    .col(integer(Flows::LatestRevision))
                    .col(timestamp_with_time_zone(Flows::CreatedAt))
                    .col(timestamp_with_time_zone(Flows::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_flows_tenant")
                            .from(Flows::Table, Flows::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_flows_tenant_name")
                    .table(Flows::Table)
                    .col(Flows::TenantId)
                    .col(Flows::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FlowRevisions::Table)
                    .col(pk_uuid(FlowRevisions::Id))
                    .col(uuid(FlowRevisions::TenantId))
                    .col(uuid(FlowRevisions::FlowId))
                    .col(integer(FlowRevisions::Number))
                    .col(text(FlowRevisions::Graph))
                    .col(text(FlowRevisions::Nodes))
                    .col(integer_null(FlowRevisions::RestoredFrom))
                    .col(string_len(FlowRevisions::Note, 500))
                    .col(uuid_null(FlowRevisions::PublishedBy))
                    .col(timestamp_with_time_zone(FlowRevisions::PublishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_flow_revisions_flow")
                            .from(FlowRevisions::Table, FlowRevisions::FlowId)
                            .to(Flows::Table, Flows::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_flow_revisions_flow_number")
                    .table(FlowRevisions::Table)
                    .col(FlowRevisions::FlowId)
                    .col(FlowRevisions::Number)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FlowRevisions::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Flows::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Flows {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    Draft,
    LiveRevision,
    LatestRevision,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum FlowRevisions {
    Table,
    Id,
    TenantId,
    FlowId,
    Number,
    Graph,
    Nodes,
    RestoredFrom,
    Note,
    PublishedBy,
    PublishedAt,
}
