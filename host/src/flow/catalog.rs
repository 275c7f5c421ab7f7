//! A tenant's flows: drafts that are edited freely, checked against the installed
//! modules, and published as immutable numbered revisions that pin the exact module
//! installation of every node. Rolling back publishes an earlier revision's graph
//! again, as a new revision, so the history says who went back and when. The flow,
//! its revisions and verdicts as values are in `revisions.rs`; their rows in
//! `store/flows.rs`.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::graph::{self, Graph};
use super::revisions::{Flow, PinnedNode, Revision, Verdict};
use super::step::{ConfigProblem, ModuleError, NodeInfo};
use crate::plugin::StepFailure;
use crate::plugin::registry::Registry;
use crate::store::flows::{self, NewRevision};
use crate::store::plugins::PluginRow;
use crate::store::{StoreError, TenantId};

/// Node configurations checked at once for one request.
pub const CHECK_PARALLELISM: usize = 4;
/// How long checking one graph's nodes may take in all; nodes not checked by then
/// are reported as such.
pub const CHECK_BUDGET: Duration = Duration::from_secs(10);

/// Why a publication was refused.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("the flow is not valid")]
    Invalid(Vec<ConfigProblem>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The newest enabled installation named `name` whose version satisfies `requirement`.
fn resolve<'a>(
    installed: &'a [PluginRow],
    name: &str,
    requirement: &str,
) -> Result<&'a PluginRow, (&'static str, String)> {
    let req = parse_requirement(requirement).map_err(|e| ("version", e))?;
    let named: Vec<&PluginRow> = installed.iter().filter(|p| p.info.name == name).collect();
    if named.is_empty() {
        return Err(("module", format!("no module {name:?} is installed")));
    }
    let mut matching: Vec<(semver::Version, &PluginRow)> = named
        .iter()
        .filter_map(|p| {
            semver::Version::parse(&p.info.version)
                .ok()
                .filter(|v| req.matches(v))
                .map(|v| (v, *p))
        })
        .collect();
    matching.sort_by(|a, b| b.0.cmp(&a.0));
    if let Some((_, row)) = matching.iter().find(|(_, p)| p.enabled) {
        return Ok(row);
    }
    let versions: Vec<String> = named
        .iter()
        .map(|p| {
            let mut v = p.info.version.clone();
            if !p.enabled {
                v.push_str(" (disabled)");
            }
            v
        })
        .collect();
    Err((
        "version",
        format!(
            "no enabled version of {name:?} matches {requirement:?}; installed: {}",
            versions.join(", ")
        ),
    ))
}

/// A version requirement: `*`, `^1`, `~1.2`, `=1.2.0`, `>=1, <3`; a bare version
/// `1.2.0` means `^1.2.0`, as in Cargo.
fn parse_requirement(text: &str) -> Result<semver::VersionReq, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(semver::VersionReq::STAR);
    }
    semver::VersionReq::parse(text)
        .map_err(|e| format!("{text:?} is not a version requirement: {e}"))
}

/// Checks a graph completely: its shape, each node's module and configuration (with
/// the module's own `validate-config`), and its topology. Configurations are checked
/// a few at a time, their verdicts kept by the registry, and all of them within
/// [`CHECK_BUDGET`]: a node not checked in time is a problem of its own.
pub async fn check(
    registry: &Registry,
    tenant: TenantId,
    graph: &Graph,
) -> Result<Verdict, StoreError> {
    let mut problems = graph::check_shape(graph);
    if !problems.is_empty() {
        return Ok(Verdict {
            valid: false,
            problems,
            nodes: Vec::new(),
        });
    }
    let installed = registry.list(tenant).await?;
    let mut rows: Vec<Option<&PluginRow>> = Vec::with_capacity(graph.nodes.len());
    for (i, node) in graph.nodes.iter().enumerate() {
        match resolve(&installed, &node.module, &node.version) {
            Ok(row) => rows.push(Some(row)),
            Err((field, message)) => {
                problems.push(ConfigProblem {
                    path: format!("/nodes/{i}/{field}"),
                    message,
                });
                rows.push(None);
            }
        }
    }
    let answers = check_configs(registry, tenant, graph, &rows).await;
    let mut shapes: Vec<Option<NodeInfo>> = Vec::with_capacity(graph.nodes.len());
    let mut pinned = Vec::with_capacity(graph.nodes.len());
    for (i, (node, answer)) in graph.nodes.iter().zip(answers).enumerate() {
        let (Some(row), Some(answer)) = (rows[i], answer) else {
            if rows[i].is_some() {
                problems.push(ConfigProblem {
                    path: format!("/nodes/{i}/config"),
                    message: format!(
                        "not checked: checking the flow's nodes took over {} s",
                        CHECK_BUDGET.as_secs()
                    ),
                });
            }
            shapes.push(None);
            continue;
        };
        match answer {
            Ok(shape) => {
                pinned.push(PinnedNode {
                    id: node.id.clone(),
                    plugin_id: row.id,
                    module: row.info.name.clone(),
                    version: row.info.version.clone(),
                    exits: shape.exits.iter().map(|e| e.name.clone()).collect(),
                    waits: shape.waits,
                });
                shapes.push(Some(shape));
            }
            Err(StepFailure {
                module_error: Some(ModuleError::InvalidConfig(found)),
                ..
            }) => {
                problems.extend(found.into_iter().map(|p| ConfigProblem {
                    path: format!("/nodes/{i}/config{}", p.path),
                    message: p.message,
                }));
                shapes.push(None);
            }
            Err(failure) => {
                problems.push(ConfigProblem {
                    path: format!("/nodes/{i}/config"),
                    message: format!(
                        "{}@{} could not check it: {}",
                        row.info.name, row.info.version, failure.message
                    ),
                });
                shapes.push(None);
            }
        }
    }
    problems.extend(graph::check_topology(graph, &shapes));
    let valid = problems.is_empty();
    Ok(Verdict {
        valid,
        problems,
        nodes: if valid { pinned } else { Vec::new() },
    })
}

/// Each resolved node's `validate-config` answer, [`CHECK_PARALLELISM`] at a time;
/// `None` for a node without a module, or not reached within [`CHECK_BUDGET`].
async fn check_configs(
    registry: &Registry,
    tenant: TenantId,
    graph: &Graph,
    rows: &[Option<&PluginRow>],
) -> Vec<Option<Result<NodeInfo, StepFailure>>> {
    use futures_util::StreamExt;
    use futures_util::stream::FuturesUnordered;

    let mut answers: Vec<Option<Result<NodeInfo, StepFailure>>> = vec![None; rows.len()];
    let mut waiting: Vec<(usize, &PluginRow)> = rows
        .iter()
        .enumerate()
        .filter_map(|(i, row)| row.map(|r| (i, r)))
        .rev()
        .collect();
    let mut running = FuturesUnordered::new();
    let until = tokio::time::Instant::now() + CHECK_BUDGET;
    loop {
        while running.len() < CHECK_PARALLELISM {
            let Some((i, row)) = waiting.pop() else {
                break;
            };
            running.push(check_one(
                registry,
                tenant,
                i,
                row,
                graph.nodes[i].config.to_string(),
            ));
        }
        match tokio::time::timeout_at(until, running.next()).await {
            Ok(Some((i, answer))) => answers[i] = Some(answer),
            Ok(None) | Err(_) => break,
        }
    }
    answers
}

async fn check_one(
    registry: &Registry,
    tenant: TenantId,
    i: usize,
    row: &PluginRow,
    config: String,
) -> (usize, Result<NodeInfo, StepFailure>) {
    (i, registry.validate_config(tenant, row, &config).await)
}

/// The verdict on a flow's draft: as stored when it was saved; a draft never checked
/// (saved before kefu kept verdicts) is checked once, and its verdict kept.
pub async fn draft_verdict(
    db: &DatabaseConnection,
    registry: &Registry,
    tenant: TenantId,
    flow: &Flow,
) -> Result<Verdict, StoreError> {
    if let Some(verdict) = &flow.checked {
        return Ok(verdict.clone());
    }
    let verdict = check(registry, tenant, &flow.draft).await?;
    flows::set_verdict(db, tenant, flow.id, &flow.draft, &verdict).await?;
    Ok(verdict)
}

/// Publishes a flow's draft as its next revision, which becomes live.
pub async fn publish(
    db: &DatabaseConnection,
    registry: &Registry,
    tenant: TenantId,
    flow_id: Uuid,
    note: &str,
    by: Option<Uuid>,
) -> Result<Revision, PublishError> {
    let flow = flows::get(db, tenant, flow_id).await?;
    publish_graph(db, registry, tenant, flow_id, &flow.draft, None, note, by).await
}

/// Publishes the graph of revision `number` again, as the next revision.
pub async fn rollback(
    db: &DatabaseConnection,
    registry: &Registry,
    tenant: TenantId,
    flow_id: Uuid,
    number: i32,
    note: &str,
    by: Option<Uuid>,
) -> Result<Revision, PublishError> {
    let old = flows::revision(db, tenant, flow_id, number).await?;
    publish_graph(
        db,
        registry,
        tenant,
        flow_id,
        &old.graph,
        Some(number),
        note,
        by,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn publish_graph(
    db: &DatabaseConnection,
    registry: &Registry,
    tenant: TenantId,
    flow_id: Uuid,
    graph: &Graph,
    restored_from: Option<i32>,
    note: &str,
    by: Option<Uuid>,
) -> Result<Revision, PublishError> {
    let verdict = check(registry, tenant, graph).await?;
    // What was just learned of the graph is the draft's verdict too, when it is the
    // draft (the modules may have changed since it was saved).
    flows::set_verdict(db, tenant, flow_id, graph, &verdict).await?;
    if !verdict.valid {
        return Err(PublishError::Invalid(verdict.problems));
    }
    let revision = flows::publish(
        db,
        tenant,
        flow_id,
        NewRevision {
            graph,
            nodes: &verdict.nodes,
            restored_from,
            note,
            published_by: by,
        },
    )
    .await?;
    tracing::info!(flow = %flow_id, revision = revision.summary.number, restored_from, "flow published");
    Ok(revision)
}

/// Removes one of a tenant's module installations, unless the live revision of one of
/// the tenant's flows runs it (409 `plugin_in_use`, naming the flows).
pub async fn delete_plugin(
    db: &DatabaseConnection,
    registry: &Registry,
    tenant: TenantId,
    plugin_id: Uuid,
) -> Result<(), StoreError> {
    let using = flows::live_revisions_using(db, Some(tenant), plugin_id).await?;
    if !using.is_empty() {
        let names: Vec<String> = using
            .iter()
            .map(|(flow, revision)| format!("{flow:?} (revision {revision})"))
            .collect();
        return Err(StoreError::conflict(
            "plugin_in_use",
            format!(
                "the module runs in published flows: {}; publish them without it first",
                names.join(", ")
            ),
        ));
    }
    registry.delete(tenant, plugin_id).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    use crate::flow::ModuleInfo;
    use crate::plugin::Limits;

    fn row(name: &str, version: &str, enabled: bool) -> PluginRow {
        PluginRow {
            id: Uuid::new_v4(),
            tenant: None,
            sha256: String::new(),
            builtin: true,
            enabled,
            limits: Limits::default(),
            info: ModuleInfo {
                name: name.into(),
                version: version.into(),
                description: String::new(),
                config_schema: serde_json::json!({}),
                exits: vec![],
            },
            size: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn resolves_the_newest_enabled_matching_version() {
        let installed = [
            row("bot", "1.0.0", true),
            row("bot", "1.4.2", true),
            row("bot", "1.5.0", false),
            row("bot", "2.0.0", true),
        ];
        let version = |req: &str| resolve(&installed, "bot", req).map(|r| r.info.version.clone());
        assert_eq!(version("^1").unwrap(), "1.4.2");
        assert_eq!(version("*").unwrap(), "2.0.0");
        assert_eq!(version("").unwrap(), "2.0.0");
        assert_eq!(version("1.0.0").unwrap(), "1.4.2");
        assert_eq!(version("=1.0.0").unwrap(), "1.0.0");
        let (field, message) = resolve(&installed, "bot", "^1.5").unwrap_err();
        assert_eq!(field, "version");
        assert_eq!(
            message,
            "no enabled version of \"bot\" matches \"^1.5\"; installed: 1.0.0, 1.4.2, 1.5.0 (disabled), 2.0.0"
        );
        let (field, _) = resolve(&installed, "bot", "one").unwrap_err();
        assert_eq!(field, "version");
        let (field, message) = resolve(&installed, "nope", "*").unwrap_err();
        assert_eq!(
            (field, message.as_str()),
            ("module", "no module \"nope\" is installed")
        );
    }
}
