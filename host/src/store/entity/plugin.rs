use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "plugins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub scope: String,
    pub tenant_id: Option<Uuid>,
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub builtin: bool,
    pub enabled: bool,
    #[sea_orm(column_type = "Text")]
    pub limits: String,
    #[sea_orm(column_type = "Text")]
    pub info: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
