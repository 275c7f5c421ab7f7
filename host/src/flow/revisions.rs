//! A flow and its revisions as values: the draft and which revision is live, the
//! published revisions with their pinned nodes, and the verdict on a checked graph.
//! `catalog.rs` decides what is published; `store/flows.rs` maps these to rows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::graph::Graph;
use super::step::ConfigProblem;

/// A flow: its draft and which revision is live.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Flow {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// The graph being edited; it may be invalid.
    pub draft: Graph,
    /// The revision new sessions start on; none until the first publication.
    pub live_revision: Option<i32>,
    /// The number of the newest revision (0 when none).
    pub latest_revision: i32,
    /// The verdict on the draft as last checked; `None` when it never was.
    #[serde(skip)]
    pub checked: Option<Verdict>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A node of a published revision, pinned to the module installation that runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PinnedNode {
    /// The node's id in the graph.
    pub id: String,
    pub plugin_id: Uuid,
    pub module: String,
    pub version: String,
    /// The exits the node can leave by, as its module answered for its configuration.
    pub exits: Vec<String>,
    pub waits: bool,
}

/// What the history of a flow shows of a revision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RevisionSummary {
    pub number: i32,
    /// The revision whose graph this one published again (a rollback).
    pub restored_from: Option<i32>,
    pub note: String,
    /// The admin who published it.
    pub published_by: Option<Uuid>,
    pub published_at: DateTime<Utc>,
}

/// A published revision: immutable.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Revision {
    pub id: Uuid,
    pub flow_id: Uuid,
    #[serde(flatten)]
    pub summary: RevisionSummary,
    pub graph: Graph,
    pub nodes: Vec<PinnedNode>,
}

impl Revision {
    /// The pinned node with this id.
    pub fn node(&self, id: &str) -> Option<&PinnedNode> {
        self.nodes.iter().find(|n| n.id == id)
    }
}

/// The outcome of checking a graph.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Verdict {
    pub valid: bool,
    /// Every problem, with the JSON pointer of what is wrong.
    pub problems: Vec<ConfigProblem>,
    /// The nodes as they would be pinned, when valid.
    #[serde(skip)]
    pub nodes: Vec<PinnedNode>,
}
