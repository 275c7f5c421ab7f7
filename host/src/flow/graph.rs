//! A conversation service flow as data: nodes that each run a module, edges from a
//! node's named exit to the next node, and a start.
//!
//! ```json
//! {
//!   "start": "welcome",
//!   "nodes": [
//!     {"id": "welcome", "module": "send-message", "version": "^1",
//!      "config": {"messages": [{"text": "您好！"}]}},
//!     {"id": "bye", "module": "end", "config": {"end_status": 1}}
//!   ],
//!   "edges": [{"from": "welcome", "exit": "next", "to": "bye"}]
//! }
//! ```
//!
//! `start` is TCCC's Start module: the node a new session enters first. An End is a
//! node whose module has no exits (the built-in `end`). A flow is valid when every
//! node runs an installed module whose configuration it accepts, every exit of every
//! node is connected, every node can be reached from the start and can reach an End,
//! and every loop passes through a node that waits for the user. Every problem is
//! reported with the JSON pointer of what is wrong (`/nodes/3/config/choices/0`).
//!
//! Checking is in two parts: [`check_shape`] needs nothing but the graph; modules are
//! then resolved and their configurations checked (which needs the plugin runtime);
//! [`check_topology`] finally needs what each node looked like to its module.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::step::{ConfigProblem, NodeInfo};

/// Most nodes in a flow.
pub const MAX_NODES: usize = 300;
/// Most edges in a flow.
pub const MAX_EDGES: usize = 2_000;
/// Longest node id.
pub const MAX_ID_BYTES: usize = 64;
/// Largest node configuration, as JSON text.
pub const MAX_CONFIG_BYTES: usize = 256 * 1024;
/// The exit a failed step takes when the node has it; no module declares it.
pub const ERROR_EXIT: &str = "error";

/// A flow graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Graph {
    /// The id of the node a new session enters first.
    pub start: String,
    pub nodes: Vec<Node>,
    #[serde(default)]
    pub edges: Vec<Edge>,
}

/// One step of a flow: a module with its configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Unique in the flow: letters, digits, `-` and `_`, at most 64 bytes.
    pub id: String,
    /// The module's name, e.g. `text-bot`.
    pub module: String,
    /// Which versions of the module may run the node: a semver requirement such as
    /// `^1`, `1.2.0` (meaning `^1.2.0`), `=1.2.0` or `*` (the default). The newest
    /// installed, enabled version that matches is pinned when the flow is published.
    #[serde(default = "any_version")]
    pub version: String,
    /// The node's configuration, checked by the module: any JSON value is kept as given
    /// (the verdict says when the module wants another).
    #[serde(default = "empty_object")]
    #[schema(value_type = Value)]
    pub config: serde_json::Value,
    /// A name for people, shown by the flow editor.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    /// Where the flow editor draws the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
}

/// A node's place on the editor's canvas.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub x: f64,
    pub y: f64,
}

/// Leaving node `from` by `exit` leads to node `to`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Edge {
    pub from: String,
    pub exit: String,
    pub to: String,
}

fn any_version() -> String {
    "*".into()
}

fn empty_object() -> serde_json::Value {
    serde_json::Value::Object(serde_json::Map::new())
}

/// A problem at a JSON pointer of the graph.
fn problem(path: impl Into<String>, message: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        path: path.into(),
        message: message.into(),
    }
}

fn valid_id(id: &str) -> bool {
    (1..=MAX_ID_BYTES).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Graph {
    /// The index of the node with this id.
    pub fn node_index(&self, id: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.id == id)
    }

    /// The node with this id.
    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.id == id)
    }

    /// Where leaving node `from` by `exit` leads.
    pub fn target(&self, from: &str, exit: &str) -> Option<&str> {
        self.edges
            .iter()
            .find(|e| e.from == from && e.exit == exit)
            .map(|e| e.to.as_str())
    }
}

/// Checks what needs nothing but the graph: sizes, ids, the start, edges naming
/// nodes that exist, and no exit connected twice.
pub fn check_shape(graph: &Graph) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if graph.nodes.is_empty() {
        problems.push(problem("/nodes", "a flow needs at least one node"));
    }
    if graph.nodes.len() > MAX_NODES {
        problems.push(problem(
            "/nodes",
            format!("at most {MAX_NODES} nodes, not {}", graph.nodes.len()),
        ));
        return problems;
    }
    if graph.edges.len() > MAX_EDGES {
        problems.push(problem(
            "/edges",
            format!("at most {MAX_EDGES} edges, not {}", graph.edges.len()),
        ));
        return problems;
    }
    let mut seen = HashMap::new();
    for (i, node) in graph.nodes.iter().enumerate() {
        if !valid_id(&node.id) {
            problems.push(problem(
                format!("/nodes/{i}/id"),
                format!("must be 1 to {MAX_ID_BYTES} letters, digits, dashes or underscores"),
            ));
        } else if let Some(first) = seen.insert(node.id.as_str(), i) {
            problems.push(problem(
                format!("/nodes/{i}/id"),
                format!("node id {:?} is already used by /nodes/{first}", node.id),
            ));
        }
        if node.module.trim().is_empty() {
            problems.push(problem(format!("/nodes/{i}/module"), "must not be empty"));
        }
        if !node.config.is_object() {
            problems.push(problem(format!("/nodes/{i}/config"), "must be an object"));
        } else if node.config.to_string().len() > MAX_CONFIG_BYTES {
            problems.push(problem(
                format!("/nodes/{i}/config"),
                format!("must be at most {} KiB", MAX_CONFIG_BYTES / 1024),
            ));
        }
        if node.label.chars().count() > 100 {
            problems.push(problem(
                format!("/nodes/{i}/label"),
                "must be at most 100 characters",
            ));
        }
    }
    if !graph.nodes.is_empty() && !seen.contains_key(graph.start.as_str()) {
        problems.push(problem(
            "/start",
            format!("there is no node {:?} to start at", graph.start),
        ));
    }
    let mut connected = HashMap::new();
    for (i, edge) in graph.edges.iter().enumerate() {
        for (field, id) in [("from", &edge.from), ("to", &edge.to)] {
            if !seen.contains_key(id.as_str()) {
                problems.push(problem(
                    format!("/edges/{i}/{field}"),
                    format!("there is no node {id:?}"),
                ));
            }
        }
        if let Some(first) = connected.insert((edge.from.as_str(), edge.exit.as_str()), i) {
            problems.push(problem(
                format!("/edges/{i}"),
                format!(
                    "exit {:?} of node {:?} is already connected by /edges/{first}",
                    edge.exit, edge.from
                ),
            ));
        }
    }
    problems
}

/// Checks what needs each node's shape, as its module answered for its configuration
/// (`None` for a node whose module or configuration was refused; its exits are then
/// unknown and not checked): edges leave by exits the node has, every exit is
/// connected, every node is reachable from the start and reaches an End, and every
/// loop passes through a node that waits.
///
/// Assumes [`check_shape`] found nothing.
pub fn check_topology(graph: &Graph, shapes: &[Option<NodeInfo>]) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let index: HashMap<&str, usize> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for (i, edge) in graph.edges.iter().enumerate() {
        let (Some(&from), Some(&to)) = (index.get(edge.from.as_str()), index.get(edge.to.as_str()))
        else {
            continue;
        };
        if let Some(shape) = &shapes[from]
            && edge.exit != ERROR_EXIT
            && !shape.exits.iter().any(|e| e.name == edge.exit)
        {
            let names: Vec<&str> = shape.exits.iter().map(|e| e.name.as_str()).collect();
            problems.push(problem(
                format!("/edges/{i}/exit"),
                format!(
                    "node {:?} has no exit {:?}; its exits are: {}",
                    edge.from,
                    edge.exit,
                    if names.is_empty() {
                        "none".to_owned()
                    } else {
                        names.join(", ")
                    }
                ),
            ));
            continue;
        }
        next[from].push(to);
    }
    for (i, node) in graph.nodes.iter().enumerate() {
        let Some(shape) = &shapes[i] else { continue };
        for exit in &shape.exits {
            if graph.target(&node.id, &exit.name).is_none() {
                problems.push(problem(
                    format!("/nodes/{i}"),
                    format!(
                        "exit {:?} of node {:?} is not connected",
                        exit.name, node.id
                    ),
                ));
            }
        }
    }

    let Some(&start) = index.get(graph.start.as_str()) else {
        return problems;
    };
    let reachable = reach(&next, [start]);
    for (i, node) in graph.nodes.iter().enumerate() {
        if !reachable.contains(&i) {
            problems.push(problem(
                format!("/nodes/{i}"),
                format!("node {:?} cannot be reached from the start", node.id),
            ));
        }
    }

    // An End has no exits. Nodes whose shape is unknown count as able to end, so that
    // one refused node does not drown the report in consequences.
    let mut previous: Vec<Vec<usize>> = vec![Vec::new(); graph.nodes.len()];
    for (from, targets) in next.iter().enumerate() {
        for &to in targets {
            previous[to].push(from);
        }
    }
    let ends = shapes
        .iter()
        .enumerate()
        .filter(|(_, s)| s.as_ref().is_none_or(|s| s.exits.is_empty()))
        .map(|(i, _)| i);
    let can_end = reach(&previous, ends);
    for (i, node) in graph.nodes.iter().enumerate() {
        if reachable.contains(&i) && !can_end.contains(&i) {
            problems.push(problem(
                format!("/nodes/{i}"),
                format!("no path from node {:?} reaches an end", node.id),
            ));
        }
    }

    // A loop of nodes that never wait would run without the user: find the strongly
    // connected parts of the graph of non-waiting nodes.
    let waits = |i: usize| shapes[i].as_ref().is_none_or(|s| s.waits);
    let restricted: Vec<Vec<usize>> = next
        .iter()
        .enumerate()
        .map(|(from, targets)| {
            if waits(from) {
                Vec::new()
            } else {
                targets.iter().copied().filter(|&to| !waits(to)).collect()
            }
        })
        .collect();
    for component in strongly_connected(&restricted) {
        let looped = component.len() > 1 || restricted[component[0]].contains(&component[0]);
        if looped {
            let first = *component.iter().min().unwrap_or(&component[0]);
            let ids: Vec<&str> = component
                .iter()
                .map(|&i| graph.nodes[i].id.as_str())
                .collect();
            problems.push(problem(
                format!("/nodes/{first}"),
                format!(
                    "the loop through {} has no node that waits for the user",
                    ids.join(", ")
                ),
            ));
        }
    }
    problems
}

/// Every node reachable from `from` along `edges`, `from` included.
fn reach(edges: &[Vec<usize>], from: impl IntoIterator<Item = usize>) -> HashSet<usize> {
    let mut seen = HashSet::new();
    let mut stack: Vec<usize> = from.into_iter().collect();
    while let Some(n) = stack.pop() {
        if seen.insert(n) {
            stack.extend(edges[n].iter().copied());
        }
    }
    seen
}

/// The strongly connected components of a graph (Tarjan's algorithm, iterative).
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = edges.len();
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut counter = 0;
    for root in 0..n {
        if order[root] != UNSEEN {
            continue;
        }
        // (node, index of the next edge to follow)
        let mut work = vec![(root, 0usize)];
        order[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (node, ref mut edge)) = work.last_mut() {
            if let Some(&to) = edges[node].get(*edge) {
                *edge += 1;
                if order[to] == UNSEEN {
                    order[to] = counter;
                    low[to] = counter;
                    counter += 1;
                    stack.push(to);
                    on_stack[to] = true;
                    work.push((to, 0));
                } else if on_stack[to] {
                    low[node] = low[node].min(order[to]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[node]);
            }
            if low[node] == order[node] {
                let mut component = Vec::new();
                while let Some(member) = stack.pop() {
                    on_stack[member] = false;
                    component.push(member);
                    if member == node {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::ExitInfo;
    use serde_json::json;

    fn graph(value: serde_json::Value) -> Graph {
        serde_json::from_value(value).unwrap()
    }

    fn shape(exits: &[&str], waits: bool) -> Option<NodeInfo> {
        Some(NodeInfo {
            exits: exits
                .iter()
                .map(|e| ExitInfo {
                    name: (*e).into(),
                    description: String::new(),
                })
                .collect(),
            waits,
        })
    }

    fn paths(problems: &[ConfigProblem]) -> Vec<(&str, &str)> {
        problems
            .iter()
            .map(|p| (p.path.as_str(), p.message.as_str()))
            .collect()
    }

    fn node(id: &str) -> serde_json::Value {
        json!({"id": id, "module": "m"})
    }

    #[test]
    fn a_straight_flow_is_valid() {
        let g = graph(json!({
            "start": "a",
            "nodes": [node("a"), node("b")],
            "edges": [{"from": "a", "exit": "next", "to": "b"}]
        }));
        assert!(check_shape(&g).is_empty());
        assert!(check_topology(&g, &[shape(&["next"], false), shape(&[], false)]).is_empty());
        assert_eq!(g.nodes[0].version, "*");
        assert_eq!(g.target("a", "next"), Some("b"));
    }

    #[test]
    fn shape_problems_name_their_place() {
        let g = graph(json!({
            "start": "zzz",
            "nodes": [node("a"), node("a"), {"id": "bad id", "module": "", "config": []}],
            "edges": [
                {"from": "a", "exit": "next", "to": "nowhere"},
                {"from": "a", "exit": "next", "to": "a"}
            ]
        }));
        let problems = check_shape(&g);
        let p = paths(&problems);
        assert!(p.contains(&("/nodes/1/id", "node id \"a\" is already used by /nodes/0")));
        assert!(p.iter().any(|(path, _)| *path == "/nodes/2/id"));
        assert!(p.contains(&("/nodes/2/module", "must not be empty")));
        assert!(p.contains(&("/nodes/2/config", "must be an object")));
        assert!(p.contains(&("/start", "there is no node \"zzz\" to start at")));
        assert!(p.contains(&("/edges/0/to", "there is no node \"nowhere\"")));
        assert!(p.contains(&(
            "/edges/1",
            "exit \"next\" of node \"a\" is already connected by /edges/0"
        )));
    }

    #[test]
    fn exits_must_exist_and_be_connected() {
        let g = graph(json!({
            "start": "a",
            "nodes": [node("a"), node("b")],
            "edges": [
                {"from": "a", "exit": "yes", "to": "b"},
                {"from": "a", "exit": "maybe", "to": "b"},
                {"from": "a", "exit": "error", "to": "b"}
            ]
        }));
        let problems = check_topology(&g, &[shape(&["yes", "no"], false), shape(&[], false)]);
        assert_eq!(
            paths(&problems),
            [
                (
                    "/edges/1/exit",
                    "node \"a\" has no exit \"maybe\"; its exits are: yes, no"
                ),
                ("/nodes/0", "exit \"no\" of node \"a\" is not connected"),
            ]
        );
    }

    #[test]
    fn finds_unreachable_nodes_and_dead_ends() {
        let g = graph(json!({
            "start": "a",
            "nodes": [node("a"), node("b"), node("c"), node("lost")],
            "edges": [
                {"from": "a", "exit": "next", "to": "b"},
                {"from": "a", "exit": "other", "to": "c"},
                {"from": "b", "exit": "again", "to": "b"},
                {"from": "lost", "exit": "next", "to": "c"}
            ]
        }));
        let shapes = [
            shape(&["next", "other"], false),
            shape(&["again"], true),
            shape(&[], false),
            shape(&["next"], false),
        ];
        assert_eq!(
            paths(&check_topology(&g, &shapes)),
            [
                ("/nodes/3", "node \"lost\" cannot be reached from the start"),
                ("/nodes/1", "no path from node \"b\" reaches an end"),
            ]
        );
    }

    #[test]
    fn a_loop_needs_a_node_that_waits() {
        let flow = json!({
            "start": "a",
            "nodes": [node("a"), node("b"), node("c"), node("end")],
            "edges": [
                {"from": "a", "exit": "next", "to": "b"},
                {"from": "b", "exit": "next", "to": "c"},
                {"from": "c", "exit": "again", "to": "a"},
                {"from": "c", "exit": "done", "to": "end"}
            ]
        });
        let g = graph(flow);
        let busy = [
            shape(&["next"], false),
            shape(&["next"], false),
            shape(&["again", "done"], false),
            shape(&[], false),
        ];
        assert_eq!(
            paths(&check_topology(&g, &busy)),
            [(
                "/nodes/0",
                "the loop through c, b, a has no node that waits for the user"
            )]
        );
        let mut waiting = busy.clone();
        waiting[1] = shape(&["next"], true);
        assert!(check_topology(&g, &waiting).is_empty());
    }

    #[test]
    fn a_self_loop_without_waiting_is_refused() {
        let g = graph(json!({
            "start": "a",
            "nodes": [node("a"), node("end")],
            "edges": [
                {"from": "a", "exit": "again", "to": "a"},
                {"from": "a", "exit": "done", "to": "end"}
            ]
        }));
        let problems = check_topology(&g, &[shape(&["again", "done"], false), shape(&[], false)]);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("loop through a"));
    }

    #[test]
    fn a_refused_node_does_not_cascade() {
        let g = graph(json!({
            "start": "a",
            "nodes": [node("a"), node("b")],
            "edges": [{"from": "a", "exit": "next", "to": "b"}]
        }));
        assert!(check_topology(&g, &[None, None]).is_empty());
    }
}
