//! Sessions and everything that must survive a crash with them: the flow state of
//! each session (node, variables, modules' private state, what it waits for and until
//! when), its messages, the IM requests already answered (so that a retried request
//! is answered the same), and the outbox of replies still to deliver to IM.
//!
//! A session is active until it ends; `active_key` (channel and user) is set only
//! while it is, so its unique index allows one active session per user and channel
//! while keeping every ended one.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_tenants::Tenants;
use crate::m20261121_000008_create_channels::Channels;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(pk_uuid(Sessions::Id))
                    .col(uuid(Sessions::TenantId))
                    .col(uuid(Sessions::ChannelId))
                    .col(string_len(Sessions::UserId, 128))
                    .col(string_len(Sessions::UserNickname, 100))
                    .col(string_len(Sessions::Source, 16))
                    .col(string_len_null(Sessions::ActiveKey, 200))
                    .col(string_len(Sessions::Status, 16))
                    .col(uuid_null(Sessions::RevisionId))
                    .col(text(Sessions::Flow))
                    .col(timestamp_with_time_zone_null(Sessions::WaitUntil))
                    .col(timestamp_with_time_zone_null(Sessions::IdleDeadline))
                    .col(uuid_null(Sessions::SkillGroupId))
                    .col(integer(Sessions::Priority))
                    .col(timestamp_with_time_zone_null(Sessions::QueuedAt))
                    .col(integer_null(Sessions::EndStatus))
                    .col(timestamp_with_time_zone_null(Sessions::EndedAt))
                    .col(integer(Sessions::MessageCount))
                    .col(big_integer(Sessions::Version))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_tenant")
                            .from(Sessions::Table, Sessions::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_channel")
                            .from(Sessions::Table, Sessions::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("ux_sessions_active_key", vec![Sessions::ActiveKey]),
            ("ix_sessions_wait_until", vec![Sessions::WaitUntil]),
            ("ix_sessions_idle_deadline", vec![Sessions::IdleDeadline]),
            (
                "ix_sessions_channel_user",
                vec![Sessions::ChannelId, Sessions::UserId, Sessions::CreatedAt],
            ),
            (
                "ix_sessions_tenant_status",
                vec![Sessions::TenantId, Sessions::Status],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(Sessions::Table);
            for col in cols {
                index.col(col);
            }
            if name.starts_with("ux_") {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(SessionMessages::Table)
                    .col(pk_uuid(SessionMessages::Id))
                    .col(uuid(SessionMessages::TenantId))
                    .col(uuid(SessionMessages::SessionId))
                    .col(integer(SessionMessages::Seq))
                    .col(string_len(SessionMessages::Direction, 8))
                    .col(string_len(SessionMessages::Sender, 16))
                    .col(string_len_null(SessionMessages::SenderName, 100))
                    .col(string_len_null(SessionMessages::ClientId, 64))
                    .col(text(SessionMessages::Elements))
                    .col(text(SessionMessages::Text))
                    .col(timestamp_with_time_zone(SessionMessages::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_messages_session")
                            .from(SessionMessages::Table, SessionMessages::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_session_messages_session_seq")
                    .table(SessionMessages::Table)
                    .col(SessionMessages::SessionId)
                    .col(SessionMessages::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ImReceipts::Table)
                    .col(pk_uuid(ImReceipts::Id))
                    .col(uuid(ImReceipts::ChannelId))
                    .col(string_len(ImReceipts::MessageKey, 300))
                    .col(text(ImReceipts::Response))
                    .col(timestamp_with_time_zone(ImReceipts::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_im_receipts_channel")
                            .from(ImReceipts::Table, ImReceipts::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_im_receipts_key")
                    .table(ImReceipts::Table)
                    .col(ImReceipts::ChannelId)
                    .col(ImReceipts::MessageKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_im_receipts_created")
                    .table(ImReceipts::Table)
                    .col(ImReceipts::CreatedAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ImOutbox::Table)
                    .col(pk_uuid(ImOutbox::Id))
                    .col(uuid(ImOutbox::TenantId))
                    .col(uuid(ImOutbox::ChannelId))
                    .col(uuid(ImOutbox::SessionId))
                    .col(uuid(ImOutbox::MessageId))
                    .col(string_len(ImOutbox::ToAccount, 128))
                    .col(big_integer(ImOutbox::MsgRandom))
                    .col(text(ImOutbox::Body))
                    .col(string_len(ImOutbox::Status, 16))
                    .col(integer(ImOutbox::Attempts))
                    .col(timestamp_with_time_zone(ImOutbox::NextAttemptAt))
                    .col(string_len_null(ImOutbox::LastError, 500))
                    .col(timestamp_with_time_zone(ImOutbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(ImOutbox::SentAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_im_outbox_channel")
                            .from(ImOutbox::Table, ImOutbox::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_im_outbox_due")
                    .table(ImOutbox::Table)
                    .col(ImOutbox::Status)
                    .col(ImOutbox::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_im_outbox_sent")
                    .table(ImOutbox::Table)
                    .col(ImOutbox::ChannelId)
                    .col(ImOutbox::ToAccount)
                    .col(ImOutbox::MsgRandom)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ImOutbox::Table.into_iden(),
            ImReceipts::Table.into_iden(),
            SessionMessages::Table.into_iden(),
            Sessions::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum Sessions {
    Table,
    Id,
    TenantId,
    ChannelId,
    UserId,
    UserNickname,
    Source,
    ActiveKey,
    Status,
    RevisionId,
    Flow,
    WaitUntil,
    IdleDeadline,
    SkillGroupId,
    Priority,
    QueuedAt,
    EndStatus,
    EndedAt,
    MessageCount,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum SessionMessages {
    Table,
    Id,
    TenantId,
    SessionId,
    Seq,
    Direction,
    Sender,
    SenderName,
    ClientId,
    Elements,
    Text,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum ImReceipts {
    Table,
    Id,
    ChannelId,
    MessageKey,
    Response,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum ImOutbox {
    Table,
    Id,
    TenantId,
    ChannelId,
    SessionId,
    MessageId,
    ToAccount,
    MsgRandom,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    SentAt,
}
