use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub channel_id: Uuid,
    pub user_id: String,
    pub user_nickname: String,
    pub source: String,
    pub active_key: Option<String>,
    pub status: String,
    pub revision_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub flow: String,
    pub wait_until: Option<DateTimeUtc>,
    pub idle_deadline: Option<DateTimeUtc>,
    pub skill_group_id: Option<Uuid>,
    pub priority: i32,
    pub queued_at: Option<DateTimeUtc>,
    pub end_status: Option<i32>,
    pub ended_at: Option<DateTimeUtc>,
    pub message_count: i32,
    pub version: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub agent_id: Option<Uuid>,
    pub offered_at: Option<DateTimeUtc>,
    pub offer_expires_at: Option<DateTimeUtc>,
    pub assigned_at: Option<DateTimeUtc>,
    pub parent_id: Option<Uuid>,
    #[sea_orm(column_type = "Text")]
    pub skipped_agents: String,
    pub survey_invited_at: Option<DateTimeUtc>,
    pub survey_score: Option<i16>,
    pub survey_label: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub survey_comment: Option<String>,
    pub survey_rated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
