//! What `ansible-inventory --list` and `--graph` print, so drover can show
//! an operator exactly the view Ansible has of the same files, and tests
//! can compare the two.

use super::{ALL, AnsibleInventory};
use serde_json::{Map, Value, json};
use std::collections::HashSet;

/// `ansible-inventory -i SOURCE --list` as a JSON value: one entry per
/// non-empty group (`hosts` are direct members in file order, `children`
/// in declaration order; `all` never lists hosts), and `_meta.hostvars`
/// with each host's merged variables (hosts without any are left out).
pub fn to_ansible_json(inv: &AnsibleInventory) -> Value {
    let mut results = Map::new();
    let mut seen = HashSet::new();
    format_group(inv, ALL, &mut results, &mut seen);
    let mut hostvars = Map::new();
    for (id, host) in inv.hosts.iter().enumerate() {
        let vars = super::vars::host_vars(inv, id);
        if !vars.is_empty() {
            hostvars.insert(host.name.clone(), Value::Object(vars));
        }
    }
    results.insert(
        "_meta".into(),
        json!({ "hostvars": hostvars, "profile": "inventory_legacy" }),
    );
    Value::Object(results)
}

fn format_group(
    inv: &AnsibleInventory,
    id: usize,
    results: &mut Map<String, Value>,
    seen: &mut HashSet<usize>,
) {
    let group = &inv.groups[id];
    let mut entry = Map::new();
    if id != ALL {
        let hosts: Vec<Value> = group
            .hosts
            .iter()
            .map(|&h| Value::from(inv.hosts[h].name.clone()))
            .collect();
        if !hosts.is_empty() {
            entry.insert("hosts".into(), Value::Array(hosts));
        }
    }
    let mut children = Vec::new();
    for &child in &group.children {
        children.push(Value::from(inv.groups[child].name.clone()));
        if !seen.contains(&child) {
            format_group(inv, child, results, seen);
            seen.insert(child);
        }
    }
    if !children.is_empty() {
        entry.insert("children".into(), Value::Array(children));
    }
    if !entry.is_empty() {
        results.insert(group.name.clone(), Value::Object(entry));
    }
}

/// `ansible-inventory -i SOURCE --graph` (without trailing newline):
/// `@group:` lines, child groups first, then hosts, indented by `  |`.
pub fn to_ansible_graph(inv: &AnsibleInventory) -> String {
    let mut lines = Vec::new();
    graph_group(inv, ALL, 0, &mut lines);
    lines.join("\n")
}

fn graph_group(inv: &AnsibleInventory, id: usize, depth: usize, lines: &mut Vec<String>) {
    let group = &inv.groups[id];
    lines.push(graph_name(&format!("@{}:", group.name), depth));
    for &child in &group.children {
        graph_group(inv, child, depth + 1, lines);
    }
    if id != ALL {
        for &h in &group.hosts {
            lines.push(graph_name(&inv.hosts[h].name, depth + 1));
        }
    }
}

fn graph_name(name: &str, depth: usize) -> String {
    if depth == 0 {
        name.to_string()
    } else {
        format!("{}--{name}", "  |".repeat(depth))
    }
}
