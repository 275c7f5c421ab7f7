//! Statistics rollups: the figures of ended session legs, summed per tenant and
//! 15-minute slot (in UTC, by the leg's start), so that a report over a month reads a
//! few thousand rows however many sessions the month had. Every tenant's local hours
//! and days are whole numbers of such slots (time zones differ from UTC by multiples
//! of 15 minutes), so any report bucket is a sum of slots.
//!
//! - `session_stats`: per slot, channel and skill group (the nil UUID for legs that
//!   never had one): counts and millisecond sums, and the queue waits counted per
//!   bound (`wait_le_N`: waits over the previous bound, up to N seconds) for the p90.
//! - `agent_stats`: per slot and agent: the figures of the legs the agent took.
//!
//! Column lists must match `host/src/records/figures.rs`.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_tenants::Tenants;

/// Seconds bounding the queue-wait counts of `session_stats`.
pub const WAIT_BOUNDS: [u32; 20] = [
    1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 1800, 3600, 7200, 86400,
];

const SESSION_SUMS: [&str; 27] = [
    "incoming",
    "agent_transfers",
    "to_agent",
    "accepted",
    "ended",
    "abandoned_flow",
    "abandoned_queue",
    "user_timeouts",
    "bot_contained",
    "waits",
    "wait_ms",
    "accepts",
    "accept_ms",
    "first_replies",
    "first_reply_ms",
    "responses",
    "response_ms",
    "handled",
    "handle_ms",
    "invited",
    "rated",
    "score_1",
    "score_2",
    "score_3",
    "score_4",
    "score_5",
    "wait_over",
];

const AGENT_SUMS: [&str; 15] = [
    "served",
    "messages",
    "first_replies",
    "first_reply_ms",
    "fast_first_replies",
    "responses",
    "response_ms",
    "handled",
    "handle_ms",
    "rated",
    "score_1",
    "score_2",
    "score_3",
    "score_4",
    "score_5",
];

#[derive(DeriveMigrationName)]
pub struct Migration;

fn sums(table: &mut TableCreateStatement, names: impl IntoIterator<Item = String>) {
    for name in names {
        table.col(big_integer(Alias::new(name)));
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut sessions = Table::create();
        sessions
            .table(SessionStats::Table)
            .col(uuid(SessionStats::TenantId))
            .col(big_integer(SessionStats::Slot))
            .col(uuid(SessionStats::ChannelId))
            .col(uuid(SessionStats::SkillGroupId));
        sums(
            &mut sessions,
            SESSION_SUMS
                .iter()
                .map(|s| (*s).to_owned())
                .chain(WAIT_BOUNDS.iter().map(|b| format!("wait_le_{b}"))),
        );
        sessions
            .primary_key(
                Index::create()
                    .col(SessionStats::TenantId)
                    .col(SessionStats::Slot)
                    .col(SessionStats::ChannelId)
                    .col(SessionStats::SkillGroupId),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_session_stats_tenant")
                    .from(SessionStats::Table, SessionStats::TenantId)
                    .to(Tenants::Table, Tenants::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            );
        manager.create_table(sessions.to_owned()).await?;

        let mut agents = Table::create();
        agents
            .table(AgentStats::Table)
            .col(uuid(AgentStats::TenantId))
            .col(big_integer(AgentStats::Slot))
            .col(uuid(AgentStats::AgentId));
        sums(&mut agents, AGENT_SUMS.iter().map(|s| (*s).to_owned()));
        agents
            .primary_key(
                Index::create()
                    .col(AgentStats::TenantId)
                    .col(AgentStats::Slot)
                    .col(AgentStats::AgentId),
            )
            .foreign_key(
                ForeignKey::create()
                    .name("fk_agent_stats_tenant")
                    .from(AgentStats::Table, AgentStats::TenantId)
                    .to(Tenants::Table, Tenants::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            );
        manager.create_table(agents.to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AgentStats::Table.into_iden(),
            SessionStats::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
pub enum SessionStats {
    Table,
    TenantId,
    Slot,
    ChannelId,
    SkillGroupId,
}

#[derive(DeriveIden)]
pub enum AgentStats {
    Table,
    TenantId,
    Slot,
    AgentId,
}
