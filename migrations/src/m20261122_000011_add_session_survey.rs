//! Satisfaction surveys on the service record: `sessions` gains when the user was
//! invited to rate the session (which opens the survey's validity window) and the
//! rating they gave: score (1–5), its label as configured, an optional comment, and
//! when it was given. A user who rates again replaces the rating.

use sea_orm_migration::prelude::*;

use crate::m20261121_000009_create_sessions::Sessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            ColumnDef::new(Rating::SurveyInvitedAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Rating::SurveyScore)
                .small_integer()
                .null()
                .to_owned(),
            ColumnDef::new(Rating::SurveyLabel)
                .string_len(64)
                .null()
                .to_owned(),
            ColumnDef::new(Rating::SurveyComment)
                .text()
                .null()
                .to_owned(),
            ColumnDef::new(Rating::SurveyRatedAt)
                .timestamp_with_time_zone()
                .null()
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
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Rating::SurveyRatedAt,
            Rating::SurveyComment,
            Rating::SurveyLabel,
            Rating::SurveyScore,
            Rating::SurveyInvitedAt,
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

/// The survey's columns of `sessions` (the iden is the column's name, prefix included).
#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)]
enum Rating {
    SurveyInvitedAt,
    SurveyScore,
    SurveyLabel,
    SurveyComment,
    SurveyRatedAt,
}
