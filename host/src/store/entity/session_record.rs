use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "session_records")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub conversation_id: Uuid,
    pub channel_id: Uuid,
    pub source: String,
    pub user_id: String,
    pub user_nickname: String,
    pub skill_group_id: Option<Uuid>,
    pub agent_id: Option<Uuid>,
    pub status: String,
    pub started_ms: i64,
    pub queued_ms: Option<i64>,
    pub left_queue_ms: Option<i64>,
    pub offered_ms: Option<i64>,
    pub accepted_ms: Option<i64>,
    pub first_reply_ms: Option<i64>,
    pub ended_ms: Option<i64>,
    pub end_status: Option<i32>,
    pub ended_by: Option<String>,
    pub transferred_from: Option<Uuid>,
    pub from_agent_id: Option<Uuid>,
    pub transferred_to: Option<Uuid>,
    pub to_agent_id: Option<Uuid>,
    pub to_skill_group_id: Option<Uuid>,
    pub user_messages: i32,
    pub bot_messages: i32,
    pub agent_messages: i32,
    pub system_messages: i32,
    pub pending_user_ms: Option<i64>,
    pub response_ms: i64,
    pub responses: i32,
    pub survey_invited_ms: Option<i64>,
    pub survey_score: Option<i16>,
    pub survey_label: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub survey_comment: Option<String>,
    pub survey_rated_ms: Option<i64>,
    pub rolled_up: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
