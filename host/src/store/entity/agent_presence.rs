use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agent_presence")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub agent_id: Uuid,
    pub tenant_id: Uuid,
    pub chosen: String,
    pub reason: Option<String>,
    pub shown: String,
    pub shown_since: DateTimeUtc,
    pub active_sessions: i32,
    pub acw_until: Option<DateTimeUtc>,
    pub idle_since: DateTimeUtc,
    pub last_offered_at: Option<DateTimeUtc>,
    pub last_online_at: Option<DateTimeUtc>,
    pub event_seq: i64,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
