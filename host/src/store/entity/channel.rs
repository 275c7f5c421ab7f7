use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "channels")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub account: String,
    pub sdkappid: i64,
    pub admin_identifier: String,
    pub secret_key: String,
    pub callback_token: String,
    pub flow_id: Option<Uuid>,
    pub default_skill_group_id: Option<Uuid>,
    pub im_base_url: Option<String>,
    pub webchat_enabled: bool,
    pub idle_timeout_secs: i32,
    pub webchat_identity_secret: Option<String>,
    pub webchat_require_identity: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
