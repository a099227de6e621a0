//! Ansible's YAML inventory format (also JSON), as ansible-core's `yaml`
//! plugin reads it: top-level keys are groups, each with optional `hosts`,
//! `children` and `vars`, processed in the order written.
//!
//! ```yaml
//! all:
//!   vars: { ntp: time.example.com }
//!   children:
//!     web:
//!       hosts:
//!         web[01:03]: { http_port: 8080 }
//! ```
//!
//! Where the plugin only warns (an unknown key such as a misspelt `host:`,
//! a group that is not a mapping) this is an error with its line.

use super::{AnsibleInventory, hostpattern};
use crate::engine::inventory::yaml11::{self, YNode, YValue, key_text};

type ParseResult<T> = Result<T, (u64, String)>;

/// Would Ansible's YAML plugin take this extension-less file?
pub fn looks_like_yaml_inventory(text: &str) -> bool {
    matches!(yaml11::parse(text), Ok(Some(node)) if node.as_map().is_some())
}

pub fn parse(inv: &mut AnsibleInventory, text: &str) -> ParseResult<()> {
    let doc = match yaml11::parse(text) {
        Ok(Some(doc)) => doc,
        Ok(None) => return Ok(()),
        Err(e) => return Err((e.line, e.reason)),
    };
    let Some(groups) = doc.as_map() else {
        return Err((
            doc.line,
            format!(
                "YAML inventory has invalid structure, it should be a mapping, got {}",
                doc.kind()
            ),
        ));
    };
    if groups.iter().any(|(k, _)| k.as_str() == Some("plugin")) {
        return Err((
            doc.line,
            "inventory plugin configuration files are not supported".into(),
        ));
    }
    for (name, data) in groups {
        parse_group(inv, name, data)?;
    }
    Ok(())
}

fn parse_group(inv: &mut AnsibleInventory, name: &YNode, data: &YNode) -> ParseResult<usize> {
    let group_name = name.as_str().filter(|n| !n.is_empty()).ok_or_else(|| {
        (
            name.line,
            format!("group name must be a non-empty string, got {}", name.kind()),
        )
    })?;
    let entries: &[(YNode, YNode)] = match &data.value {
        YValue::Map(entries) => entries,
        YValue::Scalar(serde_json::Value::Null) => &[],
        _ => {
            return Err((
                data.line,
                format!(
                    "group '{group_name}' must be a mapping (hosts, children, vars), got {}",
                    data.kind()
                ),
            ));
        }
    };
    let group = inv.add_group(group_name);
    for (key, value) in entries {
        let section = key.as_str().unwrap_or_default();
        if !matches!(section, "hosts" | "children" | "vars") {
            return Err((
                key.line,
                format!(
                    "unexpected key '{}' in group '{group_name}': only hosts, children and vars are valid",
                    key_text(key)
                ),
            ));
        }
        // A plain string is shorthand for a one-entry mapping.
        let single;
        let items: &[(YNode, YNode)] = match &value.value {
            YValue::Map(items) => items,
            YValue::Scalar(serde_json::Value::Null) => &[],
            YValue::Scalar(serde_json::Value::String(_)) => {
                let null = YNode {
                    line: value.line,
                    value: YValue::Scalar(serde_json::Value::Null),
                };
                single = [(value.clone(), null)];
                &single
            }
            _ => {
                return Err((
                    value.line,
                    format!(
                        "invalid \"{section}\" entry for \"{group_name}\" group, requires a mapping, found {}",
                        value.kind()
                    ),
                ));
            }
        };
        match section {
            "vars" => {
                for (var, val) in items {
                    inv.set_group_var(group, key_text(var), val.to_json())
                        .map_err(|e| (var.line, e))?;
                }
            }
            "children" => {
                for (child_name, child_data) in items {
                    let child = parse_group(inv, child_name, child_data)?;
                    inv.add_child(group, child)
                        .map_err(|e| (child_name.line, e))?;
                }
            }
            _ => {
                for (pattern, host_vars) in items {
                    parse_host(inv, group, pattern, host_vars)?;
                }
            }
        }
    }
    Ok(group)
}

fn parse_host(
    inv: &mut AnsibleInventory,
    group: usize,
    pattern: &YNode,
    vars: &YNode,
) -> ParseResult<()> {
    let text = pattern.as_str().ok_or_else(|| {
        (
            pattern.line,
            format!(
                "host pattern {} must be a string: enclose integers/floats in quotation marks",
                key_text(pattern)
            ),
        )
    })?;
    let (hosts, port) = hostpattern::expand(text).map_err(|e| (pattern.line, e))?;
    let vars: &[(YNode, YNode)] = match &vars.value {
        YValue::Map(entries) => entries,
        YValue::Scalar(serde_json::Value::Null) => &[],
        _ => {
            return Err((
                vars.line,
                format!(
                    "variables of host '{text}' must be a mapping, got {}",
                    vars.kind()
                ),
            ));
        }
    };
    for host in hosts {
        if host.is_empty() {
            return Err((pattern.line, "invalid empty host name".into()));
        }
        let id = inv.add_host(&host, group, port);
        for (key, value) in vars {
            inv.hosts[id].vars.insert(key_text(key), value.to_json());
        }
    }
    Ok(())
}
