//! kefu's database schema.
//!
//! Every table kefu uses is created here, one migration per concern, each with an `up`
//! and a `down` so that a deployment can step back. Migrations must work unchanged on
//! SQLite (the embedded default) and on PostgreSQL (production, several nodes), so they
//! use sea-query's portable schema builder rather than raw SQL.
//!
//! Naming: `mYYYYMMDD_NNNNNN_verb_noun`. A migration that has been released is never
//! edited again; a change to the schema is a new migration.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_create_tenants;
mod m20261121_000002_create_agents;
mod m20261121_000003_create_skill_groups;
mod m20261121_000004_create_auth_sessions;
mod m20261121_000005_create_server_secrets;
mod m20261121_000006_create_plugins;
mod m20261121_000007_create_flows;
mod m20261121_000008_create_channels;
mod m20261121_000009_create_sessions;
mod m20261121_000010_create_routing;
mod m20261122_000011_add_session_survey;
mod m20261204_000012_create_im_apps;
mod m20261204_000013_add_webchat_identity;
mod m20261204_000020_create_quick_replies;
mod m20261204_000021_create_session_notes;
mod m20261204_000030_add_flow_verdict;
mod m20261204_000050_create_session_records;
mod m20261204_000051_create_stats_rollups;
mod m20261204_000052_create_webhooks;
mod m20261205_000060_index_pending_outbox;

/// The ordered list of kefu's migrations.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_create_tenants::Migration),
            Box::new(m20261121_000002_create_agents::Migration),
            Box::new(m20261121_000003_create_skill_groups::Migration),
            Box::new(m20261121_000004_create_auth_sessions::Migration),
            Box::new(m20261121_000005_create_server_secrets::Migration),
            Box::new(m20261121_000006_create_plugins::Migration),
            Box::new(m20261121_000007_create_flows::Migration),
            Box::new(m20261121_000008_create_channels::Migration),
            Box::new(m20261121_000009_create_sessions::Migration),
            Box::new(m20261121_000010_create_routing::Migration),
            Box::new(m20261122_000011_add_session_survey::Migration),
            Box::new(m20261204_000012_create_im_apps::Migration),
            Box::new(m20261204_000013_add_webchat_identity::Migration),
            Box::new(m20261204_000020_create_quick_replies::Migration),
            Box::new(m20261204_000021_create_session_notes::Migration),
            Box::new(m20261204_000030_add_flow_verdict::Migration),
            Box::new(m20261204_000050_create_session_records::Migration),
            Box::new(m20261204_000051_create_stats_rollups::Migration),
            Box::new(m20261204_000052_create_webhooks::Migration),
            Box::new(m20261205_000060_index_pending_outbox::Migration),
        ]
    }
}
