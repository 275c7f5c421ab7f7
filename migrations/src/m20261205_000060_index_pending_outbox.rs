//! The IM outbox's due rows are found through an index of the pending rows only.
//!
//! A delivery is updated when it is claimed (its lease) and when it is sent. On
//! PostgreSQL each update of an indexed column leaves the old index entry behind until
//! a vacuum, and `ix_im_outbox_due` (status, next attempt) kept an entry for every
//! version of every row: under load, each claim read tens of thousands of entries of
//! rows long sent (10 ms a claim after 25,000 replies in the ingress benchmark). The
//! partial index holds pending rows only, in id order, the order claims take them
//! in, so a claim reads the head of the queue and stops; the entries of rows since
//! sent are marked dead by the first scan that meets them. SQLite keeps no old
//! entries, and finds the pending rows through it as well.

use sea_orm_migration::prelude::*;

use crate::m20261121_000009_create_sessions::ImOutbox;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_im_outbox_pending")
                    .table(ImOutbox::Table)
                    .col(ImOutbox::Id)
                    .and_where(Expr::col(ImOutbox::Status).eq("pending"))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_im_outbox_due")
                    .table(ImOutbox::Table)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
            .drop_index(
                Index::drop()
                    .name("ix_im_outbox_pending")
                    .table(ImOutbox::Table)
                    .to_owned(),
            )
            .await
    }
}
