//! Ansible inventories (INI and YAML files, directories of them, with
//! `group_vars/` and `host_vars/`), read so that drover agrees with
//! `ansible-inventory --list` on hosts, groups and every host's variables.
//!
//! The model mirrors ansible-core's `InventoryData`: groups and hosts in
//! insertion order, child/parent links, a group's *depth* (longest path from
//! `all`) and priority (`ansible_group_priority`), and the final
//! "reconcile" step (parentless groups become children of `all`, hosts in no
//! group go to `ungrouped`). Where Ansible would warn and carry on with a
//! partial inventory, drover stops with `file:line: reason`: a typo must not
//! silently drop hosts from a run.

mod export;
mod hostpattern;
mod ini;
mod order;
mod pyliteral;
mod script_json;
pub(crate) mod shlex;
mod vars;
mod yaml_inv;

pub use export::{to_ansible_graph, to_ansible_json};
pub use script_json::from_list_json;

use super::native::InventoryError;
use super::{Inventory, Node};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

pub(crate) type Vars = Map<String, Value>;

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub name: String,
    pub hosts: Vec<usize>,
    pub children: Vec<usize>,
    pub parents: Vec<usize>,
    pub vars: Vars,
    pub depth: u32,
    pub priority: i64,
}

#[derive(Debug, Clone)]
pub(crate) struct Host {
    pub name: String,
    pub vars: Vars,
    /// Groups that list the host directly (kept beside `Group::hosts`, so a
    /// host's groups are found without scanning every group).
    pub groups: Vec<usize>,
}

/// A parsed Ansible inventory (one or several sources).
#[derive(Debug, Clone)]
pub struct AnsibleInventory {
    pub(crate) groups: Vec<Group>,
    group_index: HashMap<String, usize>,
    pub(crate) hosts: Vec<Host>,
    host_index: HashMap<String, usize>,
    /// `group_vars/`/`host_vars/` contents found beside the sources.
    pub(crate) files: vars::VarsFiles,
    /// Shown as `Node::source`.
    source: String,
}

pub(crate) const ALL: usize = 0;
pub(crate) const UNGROUPED: usize = 1;

impl AnsibleInventory {
    fn empty(source: String) -> AnsibleInventory {
        let mut inv = AnsibleInventory {
            groups: Vec::new(),
            group_index: HashMap::new(),
            hosts: Vec::new(),
            host_index: HashMap::new(),
            files: vars::VarsFiles::default(),
            source,
        };
        inv.add_group("all");
        inv.add_group("ungrouped");
        // Cannot fail: a fresh group has no parents.
        let _ = inv.add_child(ALL, UNGROUPED);
        inv
    }

    pub(crate) fn group_id(&self, name: &str) -> Option<usize> {
        self.group_index.get(name).copied()
    }

    pub(crate) fn host_id(&self, name: &str) -> Option<usize> {
        self.host_index.get(name).copied()
    }

    pub(crate) fn add_group(&mut self, name: &str) -> usize {
        if let Some(&id) = self.group_index.get(name) {
            return id;
        }
        self.groups.push(Group {
            name: name.to_string(),
            hosts: Vec::new(),
            children: Vec::new(),
            parents: Vec::new(),
            vars: Vars::new(),
            depth: 0,
            priority: 1,
        });
        self.group_index
            .insert(name.to_string(), self.groups.len() - 1);
        self.groups.len() - 1
    }

    /// Adds the host if new (a `port` only counts then, as in Ansible) and
    /// puts it in `group`.
    pub(crate) fn add_host(&mut self, name: &str, group: usize, port: Option<u64>) -> usize {
        let id = match self.host_index.get(name) {
            Some(&id) => id,
            None => {
                let mut vars = Vars::new();
                if let Some(port) = port.filter(|&p| p != 0) {
                    vars.insert("ansible_port".into(), Value::from(port));
                }
                self.hosts.push(Host {
                    name: name.to_string(),
                    vars,
                    groups: Vec::new(),
                });
                self.host_index
                    .insert(name.to_string(), self.hosts.len() - 1);
                self.hosts.len() - 1
            }
        };
        // A host is in few groups; a group may hold thousands of hosts.
        if !self.hosts[id].groups.contains(&group) {
            self.groups[group].hosts.push(id);
            self.hosts[id].groups.push(group);
        }
        id
    }

    /// Makes `child` a child group of `parent`, refusing cycles.
    pub(crate) fn add_child(&mut self, parent: usize, child: usize) -> Result<(), String> {
        if parent == child {
            return Err(format!(
                "can't add group {} to itself",
                self.groups[child].name
            ));
        }
        if self.groups[parent].children.contains(&child) {
            return Ok(());
        }
        if self.ancestors(parent).contains(&child) {
            return Err(format!(
                "adding group '{}' as child to '{}' creates a recursive dependency loop",
                self.groups[child].name, self.groups[parent].name
            ));
        }
        self.groups[parent].children.push(child);
        if !self.groups[child].parents.contains(&parent) {
            self.groups[child].parents.push(parent);
        }
        self.deepen(child, self.groups[parent].depth + 1);
        Ok(())
    }

    /// Raises depths below `group` so each is its longest path from `all`.
    fn deepen(&mut self, group: usize, depth: u32) {
        if self.groups[group].depth >= depth {
            return;
        }
        self.groups[group].depth = depth;
        for child in self.groups[group].children.clone() {
            self.deepen(child, depth + 1);
        }
    }

    pub(crate) fn ancestors(&self, group: usize) -> BTreeSet<usize> {
        let mut seen = BTreeSet::new();
        let mut todo = self.groups[group].parents.clone();
        while let Some(g) = todo.pop() {
            if seen.insert(g) {
                todo.extend(&self.groups[g].parents);
            }
        }
        seen
    }

    /// Groups the host is in: direct ones and all their ancestors.
    pub(crate) fn host_groups(&self, host: usize) -> BTreeSet<usize> {
        let mut groups = BTreeSet::new();
        for &id in &self.hosts[host].groups {
            groups.insert(id);
            groups.extend(self.ancestors(id));
        }
        groups
    }

    /// Sets a group variable; `ansible_group_priority` sets the priority.
    pub(crate) fn set_group_var(
        &mut self,
        group: usize,
        key: String,
        value: Value,
    ) -> Result<(), String> {
        if key == "ansible_group_priority" {
            let priority = match &value {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.trim().parse().ok(),
                Value::Bool(b) => Some(*b as i64),
                _ => None,
            };
            self.groups[group].priority = priority
                .ok_or_else(|| format!("ansible_group_priority must be an integer, got {value}"))?;
        } else {
            self.groups[group].vars.insert(key, value);
        }
        Ok(())
    }

    /// ansible-core's `reconcile_inventory`.
    fn reconcile(&mut self) {
        for g in 1..self.groups.len() {
            if self.groups[g].parents.is_empty() {
                let _ = self.add_child(ALL, g);
            }
        }
        let mut leave_ungrouped = std::collections::HashSet::new();
        for h in 0..self.hosts.len() {
            let groups = self.host_groups(h);
            if groups.contains(&UNGROUPED) {
                if groups.iter().any(|&g| g != ALL && g != UNGROUPED) {
                    leave_ungrouped.insert(h);
                }
            } else if groups.iter().all(|&g| g == ALL) {
                self.groups[UNGROUPED].hosts.push(h);
                self.hosts[h].groups.push(UNGROUPED);
            }
        }
        if !leave_ungrouped.is_empty() {
            self.groups[UNGROUPED]
                .hosts
                .retain(|x| !leave_ungrouped.contains(x));
            for &h in &leave_ungrouped {
                self.hosts[h].groups.retain(|&g| g != UNGROUPED);
            }
        }
    }

    /// Host names in the order Ansible first saw them.
    pub fn host_names(&self) -> impl Iterator<Item = &str> {
        self.hosts.iter().map(|h| h.name.as_str())
    }

    /// Group names in creation order (`all` and `ungrouped` first).
    pub fn group_names(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|g| g.name.as_str())
    }

    /// The host's variables with Ansible's precedence, as `--list` prints
    /// them under `_meta.hostvars`.
    pub fn host_vars(&self, host: &str) -> Option<Vars> {
        self.host_id(host).map(|h| vars::host_vars(self, h))
    }

    /// drover nodes: `ansible_host`/`_port`/`_user`/`_connection` (and the
    /// legacy `ansible_ssh_*` spellings) give address, port, user and
    /// transport (`local` for a local connection, else `ssh`; a
    /// `drover_transport` var such as `exec` overrides it); groups are
    /// the host's groups with their ancestors, without `all`.
    pub fn to_inventory(&self) -> Inventory {
        // Hosts in the same groups get the same group variables: merge them
        // once per distinct group list (100 groups of 100 hosts: 100 merges),
        // already in the node's map type and without Ansible's reserved names.
        type Shared = (BTreeMap<String, Value>, Vec<String>);
        let mut by_groups: HashMap<&[usize], Shared> = HashMap::new();
        let nodes = self.hosts.iter().enumerate().map(|(id, host)| {
            let (shared, groups) = by_groups.entry(host.groups.as_slice()).or_insert_with(|| {
                let mut names: Vec<String> = self
                    .host_groups(id)
                    .into_iter()
                    .filter(|&g| g != ALL)
                    .map(|g| self.groups[g].name.clone())
                    .collect();
                names.sort();
                let shared = vars::group_vars(self, &host.groups)
                    .into_iter()
                    .filter(|(k, _)| !vars::is_internal(k))
                    .collect();
                (shared, names)
            });
            let mut vars = shared.clone();
            vars::add_host_layers(self, id, &mut vars);
            let text = |keys: &[&str]| {
                keys.iter().find_map(|k| match vars.get(*k) {
                    Some(Value::String(s)) => Some(s.clone()),
                    Some(Value::Number(n)) => Some(n.to_string()),
                    _ => None,
                })
            };
            // `drover_transport` names a drover transport outright (`exec`, with
            // `exec_template`); Ansible's own connection types keep their meaning.
            let transport = match (vars.get("drover_transport"), vars.get("ansible_connection")) {
                (Some(Value::String(t)), _) => t.as_str(),
                (_, Some(Value::String(s))) if s == "local" => "local",
                _ => "ssh",
            };
            Node {
                name: host.name.clone(),
                transport: transport.to_string(),
                address: text(&["ansible_host", "ansible_ssh_host"]),
                port: text(&["ansible_port", "ansible_ssh_port"]).and_then(|p| p.parse().ok()),
                user: text(&["ansible_user", "ansible_ssh_user"]),
                groups: groups.clone(),
                vars,
                source: self.source.clone(),
            }
        });
        Inventory::from_nodes(nodes).with_ansible_order(self.order())
    }
}

/// Loads one inventory source: an INI or YAML file, or a directory of them
/// (read in name order, skipping hidden files, `group_vars`, `host_vars`
/// and Ansible's ignored extensions such as `.md`, `.cfg`, `~`).
pub fn load(path: &Path) -> Result<AnsibleInventory, InventoryError> {
    load_sources(&[path.to_path_buf()])
}

/// Loads several sources into one inventory, like repeated `-i` options.
pub fn load_sources(paths: &[PathBuf]) -> Result<AnsibleInventory, InventoryError> {
    let source = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(",");
    let mut inv = AnsibleInventory::empty(source);
    let mut basedirs = Vec::new();
    for path in paths {
        if path.is_dir() {
            load_dir(&mut inv, path)?;
            basedirs.push(path.clone());
        } else {
            load_file(&mut inv, path)?;
            basedirs.push(path.parent().map(Path::to_path_buf).unwrap_or_default());
        }
    }
    inv.reconcile();
    inv.files = vars::VarsFiles::load(&inv, &basedirs)?;
    Ok(inv)
}

/// Adds the `group_vars/`/`host_vars/` found under `basedirs` to an
/// inventory built another way (a dynamic script's output).
pub fn with_vars_files(
    mut inv: AnsibleInventory,
    basedirs: &[PathBuf],
) -> Result<AnsibleInventory, InventoryError> {
    inv.files = vars::VarsFiles::load(&inv, basedirs)?;
    Ok(inv)
}

/// Extensions ansible-core skips in inventory directories.
const IGNORED_EXTS: &[&str] = &[
    ".pyc", ".pyo", ".swp", ".bak", "~", ".rpm", ".md", ".txt", ".rst", ".orig", ".cfg", ".retry",
];

fn load_dir(inv: &mut AnsibleInventory, dir: &Path) -> Result<(), InventoryError> {
    let read_err = |source| InventoryError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map_err(read_err)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let skip = name.starts_with('.')
            || ["host_vars", "group_vars", "vars_plugins"].contains(&name.as_str())
            || IGNORED_EXTS.iter().any(|ext| name.ends_with(ext));
        if skip {
            continue;
        }
        let path = dir.join(&name);
        if path.is_dir() {
            load_dir(inv, &path)?;
        } else {
            load_file(inv, &path)?;
        }
    }
    Ok(())
}

fn load_file(inv: &mut AnsibleInventory, path: &Path) -> Result<(), InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |line: u64, reason: String| InventoryError::Invalid {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext {
        "yml" | "yaml" | "json" => yaml_inv::parse(inv, &text).map_err(|(l, r)| invalid(l, r)),
        "toml" => Err(invalid(
            0,
            "TOML inventories are not supported; use INI or YAML".into(),
        )),
        // No extension: Ansible tries its YAML plugin first, then INI.
        "" if yaml_inv::looks_like_yaml_inventory(&text) => {
            yaml_inv::parse(inv, &text).map_err(|(l, r)| invalid(l, r))
        }
        _ => ini::parse(inv, &text).map_err(|(l, r)| invalid(l, r)),
    }
}
