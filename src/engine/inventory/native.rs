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
//! ```
//! Every error names the file, the line and the reason.

use super::{Inventory, Node};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Transports a native inventory may name.
pub const KNOWN_TRANSPORTS: &[&str] = &["local", "ssh"];

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
        }
    } else {
        serde_saphyr::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line()).unwrap_or(0);
            invalid(line, first_line(&e.to_string()))
        })?
    };
    let source = path.display().to_string();
    let mut inv = Inventory::default();
    for (name, spec) in file.nodes {
        if let Some(reason) = node_name_problem(&name) {
            return Err(invalid(line_of_key(text, &name), reason));
        }
        let transport = match &spec.transport {
            Some(t) if !KNOWN_TRANSPORTS.contains(&t.value.as_str()) => {
                return Err(invalid(
                    t.referenced.line(),
                    format!(
                        "node {name}: unknown transport {:?} (known: {})",
                        t.value,
                        KNOWN_TRANSPORTS.join(", ")
                    ),
                ));
            }
            Some(t) => t.value.clone(),
            None if spec.address.is_some() => "ssh".to_string(),
            None => "local".to_string(),
        };
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
        inv.add(Node {
            name,
            transport,
            address: spec.address,
            port: spec.port,
            user: spec.user,
            groups,
            vars: spec.vars,
            source: source.clone(),
        });
    }
    Ok(inv)
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
