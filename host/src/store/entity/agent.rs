use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub email: String,
    pub name: String,
    pub nickname: String,
    pub phone: Option<String>,
    pub staff_no: Option<String>,
    pub role: String,
    pub max_concurrent_sessions: i32,
    pub password_hash: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deactivated_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::agent_skill_group::Entity")]
    AgentSkillGroup,
}

impl Related<super::agent_skill_group::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::AgentSkillGroup.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
