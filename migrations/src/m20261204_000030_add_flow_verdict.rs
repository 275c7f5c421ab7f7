//! A flow keeps the verdict on its draft, written when the draft is saved, checked or
//! published: reading a flow answers it as stored instead of asking every node's
//! module again (which a hostile module can make slow). `NULL` for drafts saved
//! before kefu kept verdicts; those are checked once when next read.

use sea_orm_migration::prelude::*;

use crate::m20261121_000007_create_flows::Flows;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Verdict {
    DraftVerdict,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Flows::Table)
                    .add_column(ColumnDef::new(Verdict::DraftVerdict).text().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Flows::Table)
                    .drop_column(Verdict::DraftVerdict)
                    .to_owned(),
            )
            .await
    }
}
