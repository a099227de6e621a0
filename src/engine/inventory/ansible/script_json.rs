//! The JSON an Ansible dynamic inventory script prints for `--list`, read
//! the way ansible-core's `script` inventory plugin reads it:
//!
//! ```json
//! { "web":   { "hosts": ["w1", "w2"], "vars": {"port": 80}, "children": ["canary"] },
//!   "db":    ["d1"],
//!   "_meta": { "hostvars": { "w1": {"ansible_host": "10.0.0.1"} } } }
//! ```
//!
//! A group may be a list of hosts; a mapping without `hosts`, `vars` or
//! `children` is a host of that name whose variables are the mapping (as
//! Ansible reads it). Without `_meta.hostvars`, each host's variables come
//! from `--host NAME`. Where the plugin raises an error, this says which
//! group or host and what was wrong.

use super::{AnsibleInventory, Vars};
use serde_json::Value;

/// Builds the inventory from `--list` output; `host_vars` answers `--host`.
pub fn from_list_json(
    list: &Value,
    source: String,
    mut host_vars: impl FnMut(&str) -> Result<Value, String>,
) -> Result<AnsibleInventory, String> {
    let Value::Object(groups) = list else {
        return Err(format!(
            "--list must print a JSON object of groups, got {}",
            kind(list)
        ));
    };
    let mut inv = AnsibleInventory::empty(source);
    let mut meta = None;
    let mut hosts: Vec<String> = Vec::new();
    for (name, data) in groups {
        if name == "_meta" {
            meta = Some(data);
            continue;
        }
        parse_group(&mut inv, name, data, &mut hosts)?;
    }
    let hostvars = match meta {
        None => None,
        Some(Value::Object(m)) => match m.get("hostvars") {
            None => None,
            Some(Value::Object(h)) => Some(h),
            Some(other) => {
                return Err(format!(
                    "_meta.hostvars must be an object of hosts, got {}",
                    kind(other)
                ));
            }
        },
        Some(other) => return Err(format!("_meta must be an object, got {}", kind(other))),
    };
    for host in hosts {
        let vars = match hostvars {
            Some(h) => h.get(&host).cloned().unwrap_or(Value::Object(Vars::new())),
            None => host_vars(&host)?,
        };
        let Value::Object(vars) = vars else {
            return Err(format!(
                "variables of host '{host}' must be an object, got {}",
                kind(&vars)
            ));
        };
        if let Some(id) = inv.host_id(&host) {
            inv.hosts[id].vars.extend(vars);
        }
    }
    inv.reconcile();
    Ok(inv)
}

fn parse_group(
    inv: &mut AnsibleInventory,
    name: &str,
    data: &Value,
    hosts: &mut Vec<String>,
) -> Result<(), String> {
    if name.is_empty() {
        return Err("a group has an empty name".into());
    }
    let group = inv.add_group(name);
    let (list, vars, children) = match data {
        Value::Object(m)
            if ["hosts", "vars", "children"]
                .iter()
                .any(|k| m.contains_key(*k)) =>
        {
            (m.get("hosts"), m.get("vars"), m.get("children"))
        }
        // Ansible's reading: a mapping of anything else is one host with vars.
        Value::Object(_) => {
            add_host(inv, group, name, hosts);
            let id = inv.host_id(name).unwrap_or_default();
            if let Value::Object(m) = data {
                inv.hosts[id].vars.extend(m.clone());
            }
            return Ok(());
        }
        other => (Some(other), None, None),
    };
    if let Some(list) = list {
        let Value::Array(items) = list else {
            return Err(format!(
                "group '{name}': hosts must be a list of names, got {}",
                kind(list)
            ));
        };
        for item in items {
            let Value::String(host) = item else {
                return Err(format!(
                    "group '{name}': a host name must be a string, got {}",
                    kind(item)
                ));
            };
            add_host(inv, group, host, hosts);
        }
    }
    if let Some(vars) = vars {
        let Value::Object(vars) = vars else {
            return Err(format!(
                "group '{name}': vars must be an object, got {}",
                kind(vars)
            ));
        };
        for (k, v) in vars {
            inv.set_group_var(group, k.clone(), v.clone())
                .map_err(|e| format!("group '{name}': {e}"))?;
        }
    }
    if let Some(children) = children {
        let Value::Array(items) = children else {
            return Err(format!(
                "group '{name}': children must be a list of group names, got {}",
                kind(children)
            ));
        };
        for item in items {
            let Value::String(child) = item else {
                return Err(format!(
                    "group '{name}': a child group name must be a string, got {}",
                    kind(item)
                ));
            };
            let child = inv.add_group(child);
            inv.add_child(group, child)
                .map_err(|e| format!("group '{name}': {e}"))?;
        }
    }
    Ok(())
}

fn add_host(inv: &mut AnsibleInventory, group: usize, host: &str, hosts: &mut Vec<String>) {
    if inv.host_id(host).is_none() {
        hosts.push(host.to_string());
    }
    inv.add_host(host, group, None);
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}
