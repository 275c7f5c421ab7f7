//! Service records: one row per session leg, the read model that the records API,
//! the statistics and the webhooks' `session.ended` read. A leg's row is written in
//! the same transaction as every change of the leg (a turn, an offer, an acceptance,
//! a transfer), so it is never behind what it describes.
//!
//! Times are milliseconds since the Unix epoch (`*_ms`): ordered, compared and
//! subtracted the same way on SQLite and PostgreSQL. `rolled_up` says whether an ended
//! leg's figures were added to the statistics rollups (`session_stats`,
//! `agent_stats`); a leg is added once, and the statistics read the legs not yet
//! added from here.
//!
//! Sessions stored before this migration get a record made from their row and
//! transcript (what cannot be known afterwards, such as response times, stays empty).

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_tenants::Tenants;
use crate::m20261121_000008_create_channels::Channels;
use crate::m20261121_000010_create_routing::AgentStatusLog;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SessionRecords as R;
        manager
            .create_table(
                Table::create()
                    .table(R::Table)
                    .col(pk_uuid(R::Id))
                    .col(uuid(R::TenantId))
                    .col(uuid(R::ConversationId))
                    .col(uuid(R::ChannelId))
                    .col(string_len(R::Source, 16))
                    .col(string_len(R::UserId, 128))
                    .col(string_len(R::UserNickname, 100))
                    .col(uuid_null(R::SkillGroupId))
                    .col(uuid_null(R::AgentId))
                    .col(string_len(R::Status, 16))
                    .col(big_integer(R::StartedMs))
                    .col(big_integer_null(R::QueuedMs))
                    .col(big_integer_null(R::LeftQueueMs))
                    .col(big_integer_null(R::OfferedMs))
                    .col(big_integer_null(R::AcceptedMs))
                    .col(big_integer_null(R::FirstReplyMs))
                    .col(big_integer_null(R::EndedMs))
                    .col(integer_null(R::EndStatus))
                    .col(string_len_null(R::EndedBy, 8))
                    .col(uuid_null(R::TransferredFrom))
                    .col(uuid_null(R::FromAgentId))
                    .col(uuid_null(R::TransferredTo))
                    .col(uuid_null(R::ToAgentId))
                    .col(uuid_null(R::ToSkillGroupId))
                    .col(integer(R::UserMessages))
                    .col(integer(R::BotMessages))
                    .col(integer(R::AgentMessages))
                    .col(integer(R::SystemMessages))
                    .col(big_integer_null(R::PendingUserMs))
                    .col(big_integer(R::ResponseMs))
                    .col(integer(R::Responses))
                    .col(big_integer_null(R::SurveyInvitedMs))
                    .col(small_integer_null(R::SurveyScore))
                    .col(string_len_null(R::SurveyLabel, 64))
                    .col(text_null(R::SurveyComment))
                    .col(big_integer_null(R::SurveyRatedMs))
                    .col(boolean(R::RolledUp))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_records_tenant")
                            .from(R::Table, R::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_session_records_channel")
                            .from(R::Table, R::ChannelId)
                            .to(Channels::Table, Channels::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            // Newest first, by time range: the records list and exports.
            (
                "ix_session_records_started",
                vec![R::TenantId, R::StartedMs, R::Id],
            ),
            (
                "ix_session_records_agent",
                vec![R::TenantId, R::AgentId, R::StartedMs],
            ),
            (
                "ix_session_records_group",
                vec![R::TenantId, R::SkillGroupId, R::StartedMs],
            ),
            (
                "ix_session_records_user",
                vec![R::TenantId, R::UserId, R::StartedMs],
            ),
            // The legs not yet in the rollups: the rollup's work and the statistics'
            // live part, a small set whatever the history.
            (
                "ix_session_records_pending",
                vec![R::RolledUp, R::TenantId, R::StartedMs],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(R::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        // Time in each status over a tenant's agents: the periods that end after a
        // report's start.
        manager
            .create_index(
                Index::create()
                    .name("ix_agent_status_log_tenant_ended")
                    .table(AgentStatusLog::Table)
                    .col(AgentStatusLog::TenantId)
                    .col(AgentStatusLog::EndedAt)
                    .to_owned(),
            )
            .await?;
        let backend = manager.get_database_backend();
        manager
            .get_connection()
            .execute_unprepared(&backfill(backend))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_agent_status_log_tenant_ended")
                    .table(AgentStatusLog::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SessionRecords::Table).to_owned())
            .await
    }
}

/// The records of the sessions already stored, made from their rows and transcripts.
fn backfill(backend: DatabaseBackend) -> String {
    let ms = |col: &str| match backend {
        DatabaseBackend::Postgres => {
            format!("CAST(EXTRACT(EPOCH FROM {col}) * 1000 AS BIGINT)")
        }
        _ => format!("CAST(ROUND((julianday({col}) - 2440587.5) * 86400000) AS INTEGER)"),
    };
    let count = |sender: &str| {
        format!(
            "(SELECT COUNT(*) FROM session_messages m WHERE m.session_id = s.id AND m.sender = '{sender}')"
        )
    };
    format!(
        "INSERT INTO session_records (id, tenant_id, conversation_id, channel_id, source, user_id, \
         user_nickname, skill_group_id, agent_id, status, started_ms, queued_ms, left_queue_ms, \
         offered_ms, accepted_ms, first_reply_ms, ended_ms, end_status, ended_by, transferred_from, \
         from_agent_id, transferred_to, to_agent_id, to_skill_group_id, user_messages, bot_messages, \
         agent_messages, system_messages, pending_user_ms, response_ms, responses, survey_invited_ms, \
         survey_score, survey_label, survey_comment, survey_rated_ms, rolled_up) \
         SELECT s.id, s.tenant_id, COALESCE(s.parent_id, s.id), s.channel_id, s.source, s.user_id, \
         s.user_nickname, s.skill_group_id, s.agent_id, s.status, {started}, {queued}, NULL, \
         CASE WHEN s.assigned_at IS NOT NULL THEN {offered} END, {assigned}, \
         (SELECT {first_reply} FROM session_messages m WHERE m.session_id = s.id AND m.sender = 'agent'), \
         {ended}, s.end_status, NULL, s.parent_id, NULL, \
         (SELECT c.id FROM sessions c WHERE c.parent_id = s.id ORDER BY c.created_at, c.id LIMIT 1), NULL, NULL, \
         {users}, {bots}, {agents}, {systems}, NULL, 0, 0, {invited}, s.survey_score, s.survey_label, \
         s.survey_comment, {rated}, FALSE FROM sessions s",
        started = ms("s.created_at"),
        queued = ms("s.queued_at"),
        offered = ms("s.offered_at"),
        assigned = ms("s.assigned_at"),
        first_reply = ms("MIN(m.created_at)"),
        ended = ms("s.ended_at"),
        users = count("user"),
        bots = count("bot"),
        agents = count("agent"),
        systems = count("system"),
        invited = ms("s.survey_invited_at"),
        rated = ms("s.survey_rated_at"),
    )
}

#[derive(DeriveIden)]
pub enum SessionRecords {
    Table,
    Id,
    TenantId,
    ConversationId,
    ChannelId,
    Source,
    UserId,
    UserNickname,
    SkillGroupId,
    AgentId,
    Status,
    StartedMs,
    QueuedMs,
    LeftQueueMs,
    OfferedMs,
    AcceptedMs,
    FirstReplyMs,
    EndedMs,
    EndStatus,
    EndedBy,
    TransferredFrom,
    FromAgentId,
    TransferredTo,
    ToAgentId,
    ToSkillGroupId,
    UserMessages,
    BotMessages,
    AgentMessages,
    SystemMessages,
    PendingUserMs,
    ResponseMs,
    Responses,
    SurveyInvitedMs,
    SurveyScore,
    SurveyLabel,
    SurveyComment,
    SurveyRatedMs,
    RolledUp,
}
