//! Web chat identities: a channel's key for the signed tokens with which a site that
//! embeds the chat vouches for its signed-in user, and whether the chat accepts only
//! such vouched-for users. Existing channels get no key (such tokens are refused until
//! the admin rotates the channel's secrets) and keep accepting anonymous visitors.

use sea_orm_migration::prelude::*;

use crate::m20261121_000008_create_channels::Channels;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite alters one column per statement.
        for column in [
            ColumnDef::new(Identity::WebchatIdentitySecret)
                .string_len(128)
                .null()
                .to_owned(),
            ColumnDef::new(Identity::WebchatRequireIdentity)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Channels::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Identity::WebchatRequireIdentity,
            Identity::WebchatIdentitySecret,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Channels::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Identity {
    WebchatIdentitySecret,
    WebchatRequireIdentity,
}
