//! Skill groups and their members. The routing columns hold each group's settings
//! (strategy, accept mode, queue limits) that the router reads.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261121_000001_create_tenants::Tenants;
use crate::m20261121_000002_create_agents::Agents;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SkillGroups::Table)
                    .col(pk_uuid(SkillGroups::Id))
                    .col(uuid(SkillGroups::TenantId))
                    .col(string_len(SkillGroups::Name, 64))
                    .col(string_len(SkillGroups::Description, 512))
                    .col(string_len(SkillGroups::Strategy, 32))
                    .col(boolean(SkillGroups::PreferLastAgent))
                    .col(integer(SkillGroups::LastAgentWindowSecs))
                    .col(string_len(SkillGroups::AcceptMode, 16))
                    .col(integer(SkillGroups::OfferTimeoutSecs))
                    .col(integer(SkillGroups::QueueMaxLength))
                    .col(integer(SkillGroups::QueueMaxWaitSecs))
                    .col(timestamp_with_time_zone(SkillGroups::CreatedAt))
                    .col(timestamp_with_time_zone(SkillGroups::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_skill_groups_tenant")
                            .from(SkillGroups::Table, SkillGroups::TenantId)
                            .to(Tenants::Table, Tenants::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_skill_groups_tenant_name")
                    .table(SkillGroups::Table)
                    .col(SkillGroups::TenantId)
                    .col(SkillGroups::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgentSkillGroups::Table)
                    .col(uuid(AgentSkillGroups::AgentId))
                    .col(uuid(AgentSkillGroups::SkillGroupId))
                    .col(uuid(AgentSkillGroups::TenantId))
                    .col(integer(AgentSkillGroups::Priority))
                    .primary_key(
                        Index::create()
                            .col(AgentSkillGroups::AgentId)
                            .col(AgentSkillGroups::SkillGroupId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_skill_groups_agent")
                            .from(AgentSkillGroups::Table, AgentSkillGroups::AgentId)
                            .to(Agents::Table, Agents::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_agent_skill_groups_group")
                            .from(AgentSkillGroups::Table, AgentSkillGroups::SkillGroupId)
                            .to(SkillGroups::Table, SkillGroups::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_agent_skill_groups_group")
                    .table(AgentSkillGroups::Table)
                    .col(AgentSkillGroups::SkillGroupId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AgentSkillGroups::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SkillGroups::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum SkillGroups {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    Strategy,
    PreferLastAgent,
    LastAgentWindowSecs,
    AcceptMode,
    OfferTimeoutSecs,
    QueueMaxLength,
    QueueMaxWaitSecs,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub enum AgentSkillGroups {
    Table,
    AgentId,
    SkillGroupId,
    TenantId,
    Priority,
}
