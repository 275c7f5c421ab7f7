//! Routing: who is serving which session, agents' presence and status history, the
//! durable stream of events each agent's workbench reads, and each tenant's
//! reception settings.
//!
//! - `sessions` gains the agent serving (or offered) a session, the offer's deadline,
//!   the leg it was transferred from, and the agents who declined or missed it.
//! - `agent_presence`: one row per agent who ever signed in to the workbench: the
//!   status the agent chose, the status shown (with the derived `busy`,
//!   `afterCallWork` and `offline`), the sessions held, and the last event number.
//! - `agent_connections`: the live workbench sockets, on any node, with the last time
//!   each was heard from; an agent with none heard from recently is offline.
//! - `agent_status_log`: every change of the status shown, so that time spent in each
//!   status is known per agent and day.
//! - `agent_events`: what each agent's workbench is told, numbered per agent without
//!   gaps, so that a reconnecting workbench resumes where it stopped.
//! - `tenant_routing`: rest reasons, wrap-up time, and whether a missed offer puts the
//!   agent on rest.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_tenants::Tenants;
use crate::m20261121_000002_create_agents::Agents;
use crate::m20261121_000009_create_sessions::Sessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            ColumnDef::new(Routing::AgentId).uuid().null().to_owned(),
            ColumnDef::new(Routing::OfferedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Routing::OfferExpiresAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Routing::AssignedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Routing::ParentId).uuid().null().to_owned(),
            ColumnDef::new(Routing::SkippedAgents)
                .text()
                .not_null()
                .default("[]")
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        for (name, cols) in [
            (
                "ix_sessions_queue",
                vec![
                    Sessions::SkillGroupId.into_iden(),
                    Sessions::Status.into_iden(),
                    Sessions::Priority.into_iden(),
                    Sessions::QueuedAt.into_iden(),
                ],
            ),
            (
                "ix_sessions_agent",
                vec![Routing::AgentId.into_iden(), Sessions::Status.into_iden()],
            ),
            (
                "ix_sessions_offer_expires",
                vec![Routing::OfferExpiresAt.into_iden()],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Sessions::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(AgentPresence::Table)
                    .col(pk_uuid(AgentPresence::AgentId))
                    .col(uuid(AgentPresence::TenantId))
                    .col(string_len(AgentPresence::Chosen, 16))
                    .col(string_len_null(AgentPresence::Reason, 32))
                    .col(string_len(AgentPresence::Shown, 16))
                    .col(timestamp_with_time_zone(AgentPresence::ShownSince))
                    .col(integer(AgentPresence::ActiveSessions))
                    .col(timestamp_with_time_zone_null(AgentPresence::AcwUntil))
                    .col(timestamp_with_time_zone(AgentPresence::IdleSince))
                    .col(timestamp_with_time_zone_null(AgentPresence::LastOfferedAt))
                    .col(timestamp_with_time_zone_null(AgentPresence::LastOnlineAt))
                    .col(big_integer(AgentPresence::EventSeq))
                    .col(timestamp_with_time_zone(AgentPresence::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_presence_agent")
                            .from(AgentPresence::Table, AgentPresence::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgentConnections::Table)
                    .col(pk_uuid(AgentConnections::Id))
                    .col(uuid(AgentConnections::AgentId))
                    .col(uuid(AgentConnections::TenantId))
                    .col(uuid(AgentConnections::NodeId))
                    .col(timestamp_with_time_zone(AgentConnections::ConnectedAt))
                    .col(timestamp_with_time_zone(AgentConnections::SeenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_connections_agent")
                            .from(AgentConnections::Table, AgentConnections::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_agent_connections_agent")
                    .table(AgentConnections::Table)
                    .col(AgentConnections::AgentId)
                    .col(AgentConnections::SeenAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgentStatusLog::Table)
                    .col(pk_uuid(AgentStatusLog::Id))
                    .col(uuid(AgentStatusLog::TenantId))
                    .col(uuid(AgentStatusLog::AgentId))
                    .col(string_len(AgentStatusLog::Status, 16))
                    .col(string_len_null(AgentStatusLog::Reason, 32))
                    .col(timestamp_with_time_zone(AgentStatusLog::StartedAt))
                    .col(timestamp_with_time_zone_null(AgentStatusLog::EndedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_status_log_agent")
                            .from(AgentStatusLog::Table, AgentStatusLog::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_agent_status_log_agent")
                    .table(AgentStatusLog::Table)
                    .col(AgentStatusLog::AgentId)
                    .col(AgentStatusLog::StartedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(AgentEvents::Table)
                    .col(uuid(AgentEvents::AgentId))
                    .col(big_integer(AgentEvents::Seq))
                    .col(uuid(AgentEvents::TenantId))
                    .col(string_len(AgentEvents::Kind, 32))
                    .col(text(AgentEvents::Payload))
                    .col(timestamp_with_time_zone(AgentEvents::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(AgentEvents::AgentId)
                            .col(AgentEvents::Seq),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_events_agent")
                            .from(AgentEvents::Table, AgentEvents::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_agent_events_created")
                    .table(AgentEvents::Table)
                    .col(AgentEvents::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(TenantRouting::Table)
                    .col(pk_uuid(TenantRouting::TenantId))
                    .col(text(TenantRouting::RestReasons))
                    .col(integer(TenantRouting::AfterCallWorkSecs))
                    .col(boolean(TenantRouting::RestOnMissedOffer))
                    .col(timestamp_with_time_zone(TenantRouting::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_tenant_routing_tenant")
                            .from(TenantRouting::Table, TenantRouting::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            TenantRouting::Table.into_iden(),
            AgentEvents::Table.into_iden(),
            AgentStatusLog::Table.into_iden(),
            AgentConnections::Table.into_iden(),
            AgentPresence::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for name in [
            "ix_sessions_queue",
            "ix_sessions_agent",
            "ix_sessions_offer_expires",
        ] {
            manager
                .drop_index(Index::drop().name(name).table(Sessions::Table).to_owned())
                .await?;
        }
        for column in [
            Routing::SkippedAgents,
            Routing::ParentId,
            Routing::AssignedAt,
            Routing::OfferExpiresAt,
            Routing::OfferedAt,
            Routing::AgentId,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Sessions::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// The columns routing adds to `sessions`.
#[derive(DeriveIden)]
pub enum Routing {
    AgentId,
    OfferedAt,
    OfferExpiresAt,
    AssignedAt,
    ParentId,
    SkippedAgents,
}

#[derive(DeriveIden)]
pub enum AgentPresence {
    Table,
    AgentId,
    TenantId,
    Chosen,
    Reason,
    Shown,
    ShownSince,
    ActiveSessions,
    AcwUntil,
    IdleSince,
    LastOfferedAt,
    LastOnlineAt,
    EventSeq,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum AgentConnections {
    Table,
    Id,
    AgentId,
    TenantId,
    NodeId,
    ConnectedAt,
    SeenAt,
}

#[derive(DeriveIden)]
pub enum AgentStatusLog {
    Table,
    Id,
    TenantId,
    AgentId,
    Status,
    Reason,
    StartedAt,
    EndedAt,
}

#[derive(DeriveIden)]
pub enum AgentEvents {
    Table,
    AgentId,
    Seq,
    TenantId,
    Kind,
    Payload,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum TenantRouting {
    Table,
    TenantId,
    RestReasons,
    AfterCallWorkSecs,
    RestOnMissedOffer,
    UpdatedAt,
}
