//! `group_vars/` and `host_vars/` beside an inventory, and the order in
//! which Ansible layers variables onto a host.
//!
//! Files: for an entity `NAME`, the first of `NAME`, `NAME.yml`,
//! `NAME.yaml`, `NAME.json` that exists is used; if it is a directory,
//! every file in it (recursively, sorted, skipping hidden files and `~`
//! backups, only those without extension or with one of the three) is
//! merged in order. Empty files are ignored; anything but a mapping is an
//! error with its file and line.
//!
//! Precedence, lowest first (ansible-core's default `VARIABLE_PRECEDENCE`,
//! then host vars), later layers replacing whole top-level keys:
//! 1. inventory vars of `all`;
//! 2. inventory vars of each of the host's groups, sorted by depth (parents
//!    before children), then `ansible_group_priority`, then name;
//! 3. `group_vars/all`;
//! 4. `group_vars/GROUP` in the same group order;
//! 5. the host's inventory vars;
//! 6. `host_vars/HOST`.
//!
//! So `group_vars/all.yml` beats `[web:vars]` in the INI file, a quirk of
//! Ansible that `ansible-inventory --list` shows and drover keeps.

use super::{ALL, AnsibleInventory, Vars};
use crate::engine::inventory::native::InventoryError;
use crate::engine::inventory::yaml11;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Ansible's `INTERNAL_STATIC_VARS`: never shown as host variables.
const INTERNAL: &[&str] = &[
    "ansible_async_path",
    "ansible_collection_name",
    "ansible_config_file",
    "ansible_dependent_role_names",
    "ansible_diff_mode",
    "ansible_facts",
    "ansible_forks",
    "ansible_inventory_sources",
    "ansible_limit",
    "ansible_play_batch",
    "ansible_play_hosts",
    "ansible_play_hosts_all",
    "ansible_play_role_names",
    "ansible_playbook_python",
    "ansible_role_name",
    "ansible_role_names",
    "ansible_run_tags",
    "ansible_skip_tags",
    "ansible_verbosity",
    "ansible_version",
    "inventory_dir",
    "inventory_file",
    "inventory_hostname",
    "inventory_hostname_short",
    "groups",
    "group_names",
    "hostvars",
    "playbook_dir",
    "play_hosts",
    "role_name",
    "role_names",
    "role_path",
    "role_uuid",
];

/// Variables from files, per inventory base directory (in source order).
#[derive(Debug, Clone, Default)]
pub struct VarsFiles {
    dirs: Vec<DirVars>,
}

#[derive(Debug, Clone, Default)]
struct DirVars {
    groups: HashMap<String, Vars>,
    hosts: HashMap<String, Vars>,
}

impl VarsFiles {
    /// Reads the files of every group and host of `inv` under each basedir.
    pub fn load(inv: &AnsibleInventory, basedirs: &[PathBuf]) -> Result<VarsFiles, InventoryError> {
        let mut dirs = Vec::new();
        for base in basedirs {
            let mut dir = DirVars::default();
            for (kind, names, out) in [
                (
                    "group_vars",
                    inv.group_names().collect::<Vec<_>>(),
                    &mut dir.groups,
                ),
                (
                    "host_vars",
                    inv.host_names().collect::<Vec<_>>(),
                    &mut dir.hosts,
                ),
            ] {
                let root = base.join(kind);
                if !root.is_dir() {
                    continue;
                }
                for name in names.into_iter().filter(|n| !n.starts_with('/')) {
                    let mut vars = Vars::new();
                    for file in find_vars_files(&root, name) {
                        vars.extend(load_vars_file(&file)?);
                    }
                    if !vars.is_empty() {
                        out.insert(name.to_string(), vars);
                    }
                }
            }
            dirs.push(dir);
        }
        Ok(VarsFiles { dirs })
    }
}

const EXTENSIONS: &[&str] = &["", ".yml", ".yaml", ".json"];

/// ansible-core's `DataLoader.find_vars_files`.
fn find_vars_files(root: &Path, name: &str) -> Vec<PathBuf> {
    for ext in EXTENSIONS {
        let path = root.join(format!("{name}{ext}"));
        if path.is_dir() {
            let mut found = Vec::new();
            dir_files(&path, &mut found);
            return found;
        }
        if path.exists() {
            return vec![path];
        }
    }
    Vec::new()
}

fn dir_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        let path = dir.join(&name);
        let ext = Path::new(&name)
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()));
        if path.is_dir() && ext.is_none() {
            dir_files(&path, found);
        } else if path.is_file() && ext.as_deref().is_none_or(|e| EXTENSIONS.contains(&e)) {
            found.push(path);
        }
    }
}

/// A vars file: JSON first, then YAML 1.1, as Ansible's loader tries them.
fn load_vars_file(path: &Path) -> Result<Vars, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |line, reason| InventoryError::Invalid {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let (value, line) = match serde_json::from_str::<Value>(&text) {
        Ok(v) => (v, 1),
        Err(_) => match yaml11::parse(&text) {
            Ok(Some(node)) => (node.to_json(), node.line),
            Ok(None) => (Value::Null, 1),
            Err(e) => return Err(invalid(e.line, e.reason)),
        },
    };
    match value {
        Value::Object(map) => Ok(map.into_iter().collect()),
        // Python-falsy data is skipped, like an empty file.
        Value::Null | Value::Bool(false) => Ok(Vars::new()),
        Value::String(s) if s.is_empty() => Ok(Vars::new()),
        Value::Array(a) if a.is_empty() => Ok(Vars::new()),
        Value::Number(n) if n.as_f64() == Some(0.0) => Ok(Vars::new()),
        other => Err(invalid(
            line,
            format!("variables file must hold a mapping, got {}", kind(&other)),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Array(_) => "a list",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        _ => "a scalar",
    }
}

/// The host's merged variables (see the module docs for the order).
pub fn host_vars(inv: &AnsibleInventory, host: usize) -> Vars {
    with_host(inv, host, group_vars(inv, &inv.hosts[host].groups))
}

/// The variables a host gets from its groups alone: `all`, then each group
/// from the shallowest (then by priority and name), then the group files.
/// Hosts with the same direct groups share it, so a caller may compute it
/// once per distinct group list.
pub fn group_vars(inv: &AnsibleInventory, direct: &[usize]) -> Vars {
    let mut set = std::collections::BTreeSet::new();
    for &id in direct {
        set.insert(id);
        set.extend(inv.ancestors(id));
    }
    let mut groups: Vec<usize> = set.into_iter().filter(|&g| g != ALL).collect();
    groups.sort_by(|&a, &b| {
        let (a, b) = (&inv.groups[a], &inv.groups[b]);
        (a.depth, a.priority, &a.name).cmp(&(b.depth, b.priority, &b.name))
    });
    let mut vars = inv.groups[ALL].vars.clone();
    for &g in &groups {
        vars.extend(
            inv.groups[g]
                .vars
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }
    for dir in &inv.files.dirs {
        if let Some(v) = dir.groups.get("all") {
            vars.extend(v.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    for dir in &inv.files.dirs {
        for &g in &groups {
            if let Some(v) = dir.groups.get(&inv.groups[g].name) {
                vars.extend(v.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
    vars
}

/// Adds the host's own variables (inline, then `host_vars/` files) to what
/// its groups give, and drops the names Ansible reserves.
pub fn with_host(inv: &AnsibleInventory, host: usize, mut vars: Vars) -> Vars {
    let name = &inv.hosts[host].name;
    vars.extend(
        inv.hosts[host]
            .vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    for dir in &inv.files.dirs {
        if let Some(v) = dir.hosts.get(name) {
            vars.extend(v.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    for key in INTERNAL {
        vars.remove(*key);
    }
    vars
}

/// Whether Ansible reserves the name (it never shows as a host variable).
pub fn is_internal(key: &str) -> bool {
    INTERNAL.contains(&key)
}

/// [`with_host`] for a map that already holds the host's group variables
/// without reserved names: lays the host's own layers on top, in place.
pub fn add_host_layers(
    inv: &AnsibleInventory,
    host: usize,
    vars: &mut std::collections::BTreeMap<String, Value>,
) {
    let name = &inv.hosts[host].name;
    let files = inv.files.dirs.iter().filter_map(|dir| dir.hosts.get(name));
    for layer in std::iter::once(&inv.hosts[host].vars).chain(files) {
        for (k, v) in layer {
            if !is_internal(k) {
                vars.insert(k.clone(), v.clone());
            }
        }
    }
}
