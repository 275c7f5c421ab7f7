//! What the workbench keeps beside a transcript: internal notes agents write on a
//! session (seen by agents and admins, never sent to the user, so never in
//! `session_messages`, which the web chat and IM egress read), and how far each agent
//! has read each session (the unread count of the sessions list).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_tenants::Tenants;
use crate::m20261121_000002_create_agents::Agents;
use crate::m20261121_000009_create_sessions::Sessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SessionNotes::Table)
                    .col(pk_uuid(SessionNotes::Id))
                    .col(uuid(SessionNotes::TenantId))
                    .col(uuid(SessionNotes::SessionId))
                    .col(uuid_null(SessionNotes::AuthorId))
                    .col(string_len(SessionNotes::AuthorName, 100))
                    .col(text(SessionNotes::Text))
                    .col(timestamp_with_time_zone(SessionNotes::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_notes_tenant")
                            .from(SessionNotes::Table, SessionNotes::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_notes_session")
                            .from(SessionNotes::Table, SessionNotes::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_notes_author")
                            .from(SessionNotes::Table, SessionNotes::AuthorId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_session_notes_session")
                    .table(SessionNotes::Table)
                    .col(SessionNotes::SessionId)
                    .col(SessionNotes::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SessionReads::Table)
                    .col(uuid(SessionReads::SessionId))
                    .col(uuid(SessionReads::AgentId))
                    .col(uuid(SessionReads::TenantId))
                    .col(integer(SessionReads::Seq))
                    .col(timestamp_with_time_zone(SessionReads::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(SessionReads::SessionId)
                            .col(SessionReads::AgentId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_reads_session")
                            .from(SessionReads::Table, SessionReads::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_reads_agent")
                            .from(SessionReads::Table, SessionReads::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SessionReads::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SessionNotes::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum SessionNotes {
    Table,
    Id,
    TenantId,
    SessionId,
    AuthorId,
    AuthorName,
    Text,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum SessionReads {
    Table,
    SessionId,
    AgentId,
    TenantId,
    Seq,
    UpdatedAt,
}
