//! sea-orm entities: one per table created in `migrations/`. Only `store` uses them;
//! the rest of kefu sees the domain types the repositories return. The statistics
//! rollups (`session_stats`, `agent_stats`) have none: their columns are sums that
//! `store::stats` reads and adds by name.

pub mod agent;
pub mod agent_connection;
pub mod agent_event;
pub mod agent_presence;
pub mod agent_skill_group;
pub mod agent_status_log;
pub mod auth_session;
pub mod channel;
pub mod flow;
pub mod flow_revision;
pub mod im_app;
pub mod im_outbox;
pub mod im_receipt;
pub mod plugin;
pub mod plugin_blob;
pub mod quick_reply;
pub mod refresh_token;
pub mod server_secret;
pub mod session;
pub mod session_message;
pub mod session_note;
pub mod session_record;
pub mod skill_group;
pub mod tenant;
pub mod tenant_routing;
pub mod webhook_delivery;
pub mod webhook_endpoint;
