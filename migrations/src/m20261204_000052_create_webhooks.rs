//! Webhooks (TCCC's data push): the endpoints a tenant registers and the outbox of
//! deliveries to them.
//!
//! - `webhook_endpoints`: a URL, the event types it wants (a JSON list, or `*`), its
//!   signing secret (`whsec_…`) and, during a rotation, the previous secret until it
//!   expires; an endpoint that answered 410 is disabled with the reason. `retry_at`:
//!   the endpoint's first delivery failed and is retried then; nothing after it goes
//!   out before.
//! - `webhook_deliveries`: one row per event and endpoint, written in the transaction
//!   that made the event. The event id is the `webhook-id` the receiver sees, the same
//!   on every attempt; an endpoint's deliveries go out in event-id order.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_tenants::Tenants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WebhookDeliveries as D;
        use WebhookEndpoints as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(pk_uuid(E::Id))
                    .col(uuid(E::TenantId))
                    .col(string_len(E::Url, 2048))
                    .col(string_len(E::Description, 200))
                    .col(text(E::EventTypes))
                    .col(boolean(E::Enabled))
                    .col(string_len(E::Secret, 128))
                    .col(string_len_null(E::PreviousSecret, 128))
                    .col(timestamp_with_time_zone_null(E::PreviousExpiresAt))
                    .col(string_len_null(E::DisabledReason, 200))
                    .col(timestamp_with_time_zone_null(E::RetryAt))
                    .col(timestamp_with_time_zone(E::CreatedAt))
                    .col(timestamp_with_time_zone(E::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_endpoints_tenant")
                            .from(E::Table, E::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_tenant")
                    .table(E::Table)
                    .col(E::TenantId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(D::Table)
                    .col(uuid(D::EndpointId))
                    .col(uuid(D::EventId))
                    .col(uuid(D::TenantId))
                    .col(string_len(D::EventType, 64))
                    .col(text(D::Payload))
                    .col(string_len(D::Status, 16))
                    .col(integer(D::Attempts))
                    .col(timestamp_with_time_zone(D::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(D::LastAttemptAt))
                    .col(integer_null(D::LastStatus))
                    .col(integer_null(D::LastLatencyMs))
                    .col(string_len_null(D::LastError, 500))
                    .col(timestamp_with_time_zone(D::CreatedAt))
                    .col(timestamp_with_time_zone_null(D::DeliveredAt))
                    .primary_key(Index::create().col(D::EndpointId).col(D::EventId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_endpoint")
                            .from(D::Table, D::EndpointId)
                            .to(E::Table, E::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            // An endpoint's queue: its pending deliveries in order.
            (
                "ix_webhook_deliveries_queue",
                vec![D::EndpointId, D::Status, D::EventId],
            ),
            ("ix_webhook_deliveries_created", vec![D::CreatedAt]),
        ] {
            let mut index = Index::create();
            index.name(name).table(D::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WebhookDeliveries::Table.into_iden(),
            WebhookEndpoints::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum WebhookEndpoints {
    Table,
    Id,
    TenantId,
    Url,
    Description,
    EventTypes,
    Enabled,
    Secret,
    PreviousSecret,
    PreviousExpiresAt,
    DisabledReason,
    RetryAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum WebhookDeliveries {
    Table,
    EndpointId,
    EventId,
    TenantId,
    EventType,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastAttemptAt,
    LastStatus,
    LastLatencyMs,
    LastError,
    CreatedAt,
    DeliveredAt,
}
