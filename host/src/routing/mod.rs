//! Routing: skill-group queues, agent status, offers and assignment.
//!
//! Owns what a flow module may learn about a skill group's queue through the
//! `skill-group-queue` host import. Must not send IM messages.

use async_trait::async_trait;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::flow::QueueStatus;
use crate::plugin::HostServices;
use crate::store::{TenantId, skill_groups};

/// Answers modules' questions about queues from the database.
#[derive(Debug, Clone)]
pub struct QueueFigures {
    db: DatabaseConnection,
}

impl QueueFigures {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }
}

#[async_trait]
impl HostServices for QueueFigures {
    /// A group of another tenant, or no group at all, is `None`. Agent presence is
    /// not tracked yet, so an existing group reports nobody online and nothing
    /// waiting: a module then takes its "nobody can answer" path, which is the truth.
    async fn queue_status(&self, tenant: &str, skill_group_id: &str) -> Option<QueueStatus> {
        let tenant = TenantId(Uuid::parse_str(tenant).ok()?);
        let group = Uuid::parse_str(skill_group_id).ok()?;
        match skill_groups::get(&self.db, tenant, group).await {
            Ok(_) => Some(QueueStatus::default()),
            Err(_) => None,
        }
    }
}
