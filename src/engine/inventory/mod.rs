//! What drover can run on: nodes, the groups they belong to, and how a target
//! expression selects them.
//!
//! Sources: the built-in `localhost`, drover YAML ([`native`]), Ansible INI
//! and YAML inventories with `group_vars`/`host_vars` ([`ansible`]), and Bolt
//! v2 inventories ([`bolt`]), ClusterShell group files ([`clustershell`]); [`sources::merge_by_priority`] makes one
//! inventory of several; dynamic inventory scripts ([`script`]) print
//! Ansible's `--list` JSON. [`service`] caches the merged inventory with a
//! TTL and keeps each source's last good load; [`watch`] reloads it when a
//! file changes. Target expressions ([`targets`]) accept
//! ClusterShell node sets, globs, regexes, groups and Ansible patterns.

pub mod ansible;
pub mod bolt;
pub mod clustershell;
pub mod detect;
mod matcher;
pub use matcher::glob_match;
pub mod native;
pub mod nodeset;
pub mod order;
pub mod script;
pub mod service;
pub mod sources;
pub mod targets;
pub mod watch;
pub mod yaml11;

use crate::engine::common::error::EngineError;
use order::AnsibleOrder;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use targets::{Grammar, Selection};

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
    /// Ansible's host and member order, when an Ansible source contributed
    /// (Ansible patterns select in that order; see [`order`]).
    ansible_order: Option<Arc<AnsibleOrder>>,
    /// An inventory source (`-i`) loaded, even one naming no node: the
    /// built-in `localhost` is then implicit, selected only when named.
    declared: bool,
    /// The target grammar forced by `--grammar` or `target_grammar`;
    /// `None` chooses by the sources (see [`Inventory::grammar`]).
    forced_grammar: Option<Grammar>,
}

impl Inventory {
    /// The default: the local machine as node `localhost`.
    pub fn builtin() -> Inventory {
        let mut inv = Inventory::default();
        inv.add(Node::local(LOCALHOST, BUILTIN_SOURCE));
        inv
    }

    /// Adds or replaces a node (a later source overrides an earlier one).
    pub fn add(&mut self, node: Node) {
        if let Some(old) = self.nodes.get(&node.name) {
            for g in &old.groups {
                if let Some(members) = self.groups.get_mut(g) {
                    members.remove(&node.name);
                    if members.is_empty() {
                        self.groups.remove(g);
                    }
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

    /// Builds an inventory from many nodes at once, as if each were
    /// [`Inventory::add`]ed in turn (a later node of the same name replaces
    /// an earlier one), but sorted once and built in bulk: 10,000 inserts
    /// into sorted maps cost more than the nodes themselves.
    pub fn from_nodes(nodes: impl IntoIterator<Item = Node>) -> Inventory {
        let mut nodes: Vec<Node> = nodes.into_iter().collect();
        // Stable, so of several nodes with one name the last added is last.
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        nodes.dedup_by(|later, kept| {
            let same = later.name == kept.name;
            if same {
                std::mem::swap(later, kept);
            }
            same
        });
        let mut members: std::collections::HashMap<&str, Vec<&str>> =
            std::collections::HashMap::new();
        for node in &nodes {
            for g in &node.groups {
                members.entry(g).or_default().push(&node.name);
            }
        }
        // Members arrive in name order, so each set is built in one pass.
        let groups = members
            .into_iter()
            .map(|(g, names)| {
                (
                    g.to_string(),
                    names.into_iter().map(str::to_string).collect(),
                )
            })
            .collect();
        let nodes = nodes
            .into_iter()
            .map(|n| (n.name.clone(), Arc::new(n)))
            .collect();
        Inventory {
            nodes,
            groups,
            ..Inventory::default()
        }
    }

    pub fn merge(&mut self, other: Inventory) {
        self.absorb_sources(&other);
        for node in other.nodes.into_values() {
            self.add(Arc::unwrap_or_clone(node));
        }
    }

    /// The same inventory with every node that is not local logging in as `user`
    /// (`-l USER`: as with `ssh -l`, the command line wins over the inventory and
    /// the ssh_config). Local nodes keep running as the current user.
    pub fn with_login_user(&self, user: &str) -> Inventory {
        let mut inventory = self.clone();
        for node in inventory.nodes.values_mut() {
            if node.transport != "local" {
                Arc::make_mut(node).user = Some(user.to_string());
            }
        }
        inventory
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

    /// Selects nodes with a target expression in [`Inventory::grammar`]
    /// (see [`targets`]); warnings about parts that matched nothing go to
    /// the log. Nothing selected gives [`EngineError::NoMatch`], a malformed
    /// expression [`EngineError::Validation`] on field `targets`.
    pub fn resolve(&self, expr: &str) -> Result<Vec<Arc<Node>>, EngineError> {
        let selection = self.select(expr)?;
        for warning in &selection.warnings {
            tracing::warn!(targets = expr, "{warning}");
        }
        Ok(selection.nodes)
    }

    /// [`Inventory::resolve`] with the warnings and the grammar used, for
    /// callers that show them.
    pub fn select(&self, expr: &str) -> Result<Selection, EngineError> {
        Ok(targets::select_with(self, expr, self.grammar())?)
    }

    /// The grammar target expressions are read with: the forced one, else
    /// Ansible's when an Ansible source (INI, YAML, directory, script)
    /// loaded, else ClusterShell's.
    pub fn grammar(&self) -> Grammar {
        match (self.forced_grammar, &self.ansible_order) {
            (Some(forced), _) => forced,
            (None, Some(_)) => Grammar::Ansible,
            (None, None) => Grammar::Clush,
        }
    }

    /// Forces a grammar (`None`: choose by the sources).
    pub fn with_grammar(mut self, grammar: Option<Grammar>) -> Inventory {
        self.forced_grammar = grammar;
        self
    }

    /// Records Ansible's order (the Ansible reader's output).
    pub fn with_ansible_order(mut self, order: AnsibleOrder) -> Inventory {
        self.ansible_order = Some(Arc::new(order));
        self
    }

    pub fn ansible_order(&self) -> Option<&AnsibleOrder> {
        self.ansible_order.as_deref()
    }

    /// Marks this inventory as read from an inventory source (`-i`).
    pub fn declared(mut self) -> Inventory {
        self.declared = true;
        self
    }

    /// The built-in `localhost` when it is implicit: some inventory is
    /// loaded (an `-i` source, or nodes from a source other than the
    /// built-in one), so like Ansible's implicit localhost it is selected
    /// only when named, never by `all`, globs or select-all. With no
    /// inventory at all it is an ordinary node (`None` here).
    pub fn implicit_localhost(&self) -> Option<&Arc<Node>> {
        let node = self.nodes.get(LOCALHOST)?;
        // The built-in source gives one node, so any other node is another source's.
        let other_sources = self.declared || self.nodes.len() > 1;
        (node.source == BUILTIN_SOURCE && other_sources).then_some(node)
    }

    /// Takes the source facts of `other` (read after this one): Ansible
    /// order, whether a source was declared.
    pub(crate) fn absorb_sources(&mut self, other: &Inventory) {
        self.declared |= other.declared;
        if let Some(later) = &other.ansible_order {
            match &mut self.ansible_order {
                Some(order) => Arc::make_mut(order).extend(later),
                None => self.ansible_order = Some(later.clone()),
            }
        }
    }
}

/// The name and source of the built-in node.
pub const LOCALHOST: &str = "localhost";
pub const BUILTIN_SOURCE: &str = "builtin";
