//! What drover can run on: nodes, the groups they belong to, and how a target
//! expression selects them. This is the minimal native inventory (built-in
//! `localhost` plus drover YAML files); richer sources plug in here.

pub mod native;
pub mod nodeset;

use super::error::EngineError;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// One machine (or local pseudo-node) drover can reach.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Node {
    pub name: String,
    /// Name of the transport that reaches it (`local`, `ssh`).
    pub transport: String,
    pub address: Option<String>,
    pub port: Option<u16>,
    pub user: Option<String>,
    pub groups: Vec<String>,
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Which inventory source defined it (`builtin`, a file path...).
    pub source: String,
}

impl Node {
    pub fn local(name: &str, source: &str) -> Node {
        Node {
            name: name.to_string(),
            transport: "local".to_string(),
            address: None,
            port: None,
            user: None,
            groups: Vec::new(),
            vars: BTreeMap::new(),
            source: source.to_string(),
        }
    }
}

/// The group every node is in, as in Ansible.
pub const ALL_GROUP: &str = "all";

/// Nodes by name and group memberships. Immutable once built; the engine swaps a
/// whole new `Arc<Inventory>` in when sources reload.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    nodes: BTreeMap<String, Arc<Node>>,
    groups: BTreeMap<String, BTreeSet<String>>,
}

impl Inventory {
    /// The default: the local machine as node `localhost`.
    pub fn builtin() -> Inventory {
        let mut inv = Inventory::default();
        inv.add(Node::local("localhost", "builtin"));
        inv
    }

    /// Adds or replaces a node (a later source overrides an earlier one).
    pub fn add(&mut self, node: Node) {
        if let Some(old) = self.nodes.get(&node.name) {
            for g in &old.groups {
                if let Some(members) = self.groups.get_mut(g) {
                    members.remove(&node.name);
                }
            }
        }
        for g in &node.groups {
            self.groups
                .entry(g.clone())
                .or_default()
                .insert(node.name.clone());
        }
        self.nodes.insert(node.name.clone(), Arc::new(node));
    }

    pub fn merge(&mut self, other: Inventory) {
        for node in other.nodes.into_values() {
            self.add(Arc::unwrap_or_clone(node));
        }
    }

    pub fn node(&self, name: &str) -> Option<&Arc<Node>> {
        self.nodes.get(name)
    }

    pub fn nodes(&self) -> impl Iterator<Item = &Arc<Node>> {
        self.nodes.values()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Group names and their members, sorted.
    pub fn groups(&self) -> &BTreeMap<String, BTreeSet<String>> {
        &self.groups
    }

    /// Selects nodes with a target expression: comma-separated items, each a node
    /// name, a node set (`web[01-03]`), `@group`, or `all`/`*`. Order follows the
    /// expression; duplicates are dropped. Every item that matches nothing is named
    /// in the error.
    pub fn resolve(&self, expr: &str) -> Result<Vec<Arc<Node>>, EngineError> {
        let mut picked: Vec<Arc<Node>> = Vec::new();
        let mut seen = BTreeSet::new();
        let mut unmatched = Vec::new();
        for item in split_top_level(expr) {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            match self.select_item(item) {
                Ok(nodes) if !nodes.is_empty() => {
                    for n in nodes {
                        if seen.insert(n.name.clone()) {
                            picked.push(n);
                        }
                    }
                }
                Ok(_) => unmatched.push(item.to_string()),
                Err(Unmatched::Names(missing)) => {
                    unmatched.push(nodeset::fold(missing.iter().map(String::as_str)))
                }
                Err(Unmatched::Invalid(reason)) => unmatched.push(format!("{item} ({reason})")),
            }
        }
        if !unmatched.is_empty() {
            return Err(EngineError::NoMatch { unmatched });
        }
        if picked.is_empty() {
            return Err(EngineError::NoMatch {
                unmatched: vec![expr.to_string()],
            });
        }
        Ok(picked)
    }

    fn select_item(&self, item: &str) -> Result<Vec<Arc<Node>>, Unmatched> {
        if item == ALL_GROUP || item == "*" {
            return Ok(self.nodes.values().cloned().collect());
        }
        if let Some(group) = item.strip_prefix('@') {
            if group == ALL_GROUP {
                return Ok(self.nodes.values().cloned().collect());
            }
            let members = self.groups.get(group);
            return Ok(members
                .into_iter()
                .flatten()
                .filter_map(|n| self.nodes.get(n).cloned())
                .collect());
        }
        let names = nodeset::expand(item).map_err(|e| Unmatched::Invalid(e.to_string()))?;
        let missing: Vec<String> = names
            .iter()
            .filter(|n| !self.nodes.contains_key(*n))
            .cloned()
            .collect();
        if !missing.is_empty() {
            return Err(Unmatched::Names(missing));
        }
        Ok(names
            .iter()
            .filter_map(|n| self.nodes.get(n).cloned())
            .collect())
    }
}

/// Why one item of a target expression selected nothing.
enum Unmatched {
    /// These names are not in the inventory.
    Names(Vec<String>),
    /// The item is not a valid node set.
    Invalid(String),
}

/// Splits on commas that are not inside `[...]`, so `web[01,03],db1` is two items.
fn split_top_level(expr: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in expr.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&expr[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&expr[start..]);
    parts
}
