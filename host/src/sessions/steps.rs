//! The step runner: a flow's nodes stepped with the installed modules they are pinned
//! to, within each module's limits, for live turns and for the flow editor's trials.

use std::sync::Arc;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::flow::engine::NodeRunner;
use crate::flow::revisions::PinnedNode;
use crate::flow::{StepInput, StepOutput};
use crate::plugin::{LogBudget, Registry, StepContext, StepFailure};
use crate::routing::Groups;
use crate::store::TenantId;

/// Steps nodes with the installed modules they are pinned to (also the flow
/// editor's trial turns, `http::flow_try`).
pub(crate) struct RegistryRunner<'a> {
    pub(crate) registry: &'a Registry,
    pub(crate) groups: &'a Groups,
    pub(crate) db: &'a DatabaseConnection,
    pub(crate) tenant: TenantId,
    pub(crate) time_zone: String,
    pub(crate) session_id: String,
    /// What the turn's steps may still log, together.
    pub(crate) turn_log: Arc<LogBudget>,
}

#[async_trait::async_trait]
impl NodeRunner for RegistryRunner<'_> {
    async fn step(
        &self,
        node: &PinnedNode,
        config: &str,
        mut input: StepInput,
    ) -> Result<StepOutput, StepFailure> {
        let row = self
            .registry
            .get_for_step(self.tenant, node.plugin_id)
            .await
            .map_err(|e| {
                StepFailure::new(
                    crate::plugin::FailureKind::Trap,
                    format!("the module of node {:?} is not installed: {e}", node.id),
                )
            })?;
        let prepared = self.registry.prepare(self.tenant, &row, config).await?;
        if !prepared.is_empty() {
            input.prepared = Some(prepared.as_ref().clone());
        }
        let ctx = StepContext {
            tenant_id: self.tenant.0.to_string(),
            time_zone: self.time_zone.clone(),
            session_id: self.session_id.clone(),
            node_id: node.id.clone(),
            exits: Some(node.exits.iter().cloned().collect()),
            turn_log: Some(self.turn_log.clone()),
        };
        self.registry.step(&row, &ctx, input).await
    }

    async fn skill_group(&self, id: &str) -> Option<Uuid> {
        let id = Uuid::parse_str(id).ok()?;
        self.groups
            .get(self.db, self.tenant, id)
            .await
            .ok()
            .map(|g| g.id)
    }
}
