//! drover's own inventory format: a YAML map of nodes.
//!
//! ```yaml
//! nodes:
//!   web01:
//!     transport: local        # local (default without address) or ssh
//!     address: 10.0.0.11      # ssh: host to connect to (default: the node name)
//!     port: 22
//!     user: deploy
//!     groups: [web, prod]
//!     vars: { role: frontend }
//!   app1:
//!     groups: [containers]
//!     vars: { container: app1 }
//! groups:                     # optional: transport and vars for every member
//!   containers:
//!     transport: exec         # run through a command template on this machine
//!     vars: { exec_template: "docker exec -i {container} sh -c {command}" }
//! ```
//! A node's own transport and vars win over its groups'; of several groups,
//! vars merge in group-name order (a later name wins), and two groups that
//! name different transports for one node are an error.
//! Every error names the file, the line and the reason.

use super::{Inventory, Node};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Transports a native inventory may name.
pub const KNOWN_TRANSPORTS: &[&str] = &["local", "ssh", "exec"];

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Invalid {
        path: PathBuf,
        line: u64,
        reason: String,
    },
    /// A dynamic inventory script failed or printed something unusable.
    #[error("inventory script {}: {reason}", path.display())]
    Script { path: PathBuf, reason: String },
    /// Any other source (the ssh_config) that could not be read.
    #[error("{name}: {reason}")]
    Source { name: String, reason: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    nodes: BTreeMap<String, NodeSpec>,
    #[serde(default)]
    groups: BTreeMap<String, GroupSpec>,
}

/// What a group gives its members.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupSpec {
    transport: Option<Spanned<String>>,
    #[serde(default)]
    vars: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeSpec {
    transport: Option<Spanned<String>>,
    address: Option<String>,
    port: Option<u16>,
    user: Option<String>,
    #[serde(default)]
    groups: Vec<Spanned<String>>,
    #[serde(default)]
    vars: BTreeMap<String, serde_json::Value>,
}

pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<Inventory, InventoryError> {
    let invalid = |line: u64, reason: String| InventoryError::Invalid {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let file: File = if text.trim().is_empty() {
        File {
            nodes: BTreeMap::new(),
            groups: BTreeMap::new(),
        }
    } else {
        serde_saphyr::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line()).unwrap_or(0);
            invalid(line, first_line(&e.to_string()))
        })?
    };
    let source = path.display().to_string();
    for (name, group) in &file.groups {
        if let Some(reason) = group_name_problem(name) {
            return Err(invalid(line_of_key(text, name), reason));
        }
        if let Some(t) = &group.transport {
            check_transport(t, &format!("group {name}"))
                .map_err(|r| invalid(t.referenced.line(), r))?;
        }
    }
    let mut inv = Inventory::default();
    for (name, spec) in file.nodes {
        if let Some(reason) = node_name_problem(&name) {
            return Err(invalid(line_of_key(text, &name), reason));
        }
        let mut groups = Vec::new();
        for g in &spec.groups {
            if let Some(reason) = group_name_problem(&g.value) {
                return Err(invalid(
                    g.referenced.line(),
                    format!("node {name}: {reason}"),
                ));
            }
            groups.push(g.value.clone());
        }
        // Group specs of this node, in group-name order (BTreeMap order).
        let specs: Vec<(&String, &GroupSpec)> = file
            .groups
            .iter()
            .filter(|(g, _)| groups.contains(g))
            .collect();
        let transport = match &spec.transport {
            Some(t) => {
                check_transport(t, &format!("node {name}"))
                    .map_err(|r| invalid(t.referenced.line(), r))?;
                t.value.clone()
            }
            None => match group_transport(&name, &specs) {
                Ok(Some(t)) => t,
                Ok(None) if spec.address.is_some() => "ssh".to_string(),
                Ok(None) => "local".to_string(),
                Err(reason) => return Err(invalid(line_of_key(text, &name), reason)),
            },
        };
        let mut vars = BTreeMap::new();
        for (_, g) in &specs {
            vars.extend(g.vars.clone());
        }
        vars.extend(spec.vars);
        inv.add(Node {
            name,
            transport,
            address: spec.address,
            port: spec.port,
            user: spec.user,
            groups,
            vars,
            source: source.clone(),
        });
    }
    Ok(inv)
}

fn check_transport(t: &Spanned<String>, owner: &str) -> Result<(), String> {
    if KNOWN_TRANSPORTS.contains(&t.value.as_str()) {
        return Ok(());
    }
    Err(format!(
        "{owner}: unknown transport {:?} (known: {})",
        t.value,
        KNOWN_TRANSPORTS.join(", ")
    ))
}

/// The transport the node's groups agree on, if any names one.
fn group_transport(node: &str, specs: &[(&String, &GroupSpec)]) -> Result<Option<String>, String> {
    let mut found: Option<(&String, &String)> = None;
    for (group, spec) in specs {
        let Some(t) = &spec.transport else { continue };
        match found {
            Some((first, ft)) if *ft != t.value => {
                return Err(format!(
                    "node {node}: its groups {first} and {group} name different transports \
                     ({ft:?}, {:?}); set transport on the node",
                    t.value
                ));
            }
            Some(_) => {}
            None => found = Some((group, &t.value)),
        }
    }
    Ok(found.map(|(_, t)| t.clone()))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).to_string()
}

/// Node names end up in target expressions, node sets and shell env vars.
fn node_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("empty node name".into());
    }
    let bad = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')));
    bad.map(|c| format!("node name {name:?} contains {c:?} (allowed: letters, digits, - _ .)"))
}

fn group_name_problem(name: &str) -> Option<String> {
    node_name_problem(name).map(|r| r.replace("node name", "group name"))
}

/// serde does not give locations of map keys: find the key's line in the text.
fn line_of_key(text: &str, key: &str) -> u64 {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches(['"', '\'']);
            t.starts_with(key)
                && t[key.len()..]
                    .trim_start_matches(['"', '\''])
                    .starts_with(':')
        })
        .map(|i| i as u64 + 1)
        .unwrap_or(0)
}
