//! Reading the YAML of a Bolt inventory into groups and target
//! definitions, with Bolt's validation (names, keys, types) as errors
//! carrying the line.

use super::{Data, Group, Res, Vars, parse_uri};
use crate::engine::inventory::yaml11::{YNode, YValue, key_text};
use serde_json::Value;

const NAME_RULE: &str = "lowercase letters, digits, '_' and '-', not starting with '-'";

pub(super) fn valid_name(n: &str) -> bool {
    n.chars().next().is_some_and(|c| c != '-')
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

pub(super) fn map_of(node: &YNode, what: &str) -> Res<Vars> {
    match node.to_json() {
        Value::Object(m) => Ok(m),
        Value::Null => Ok(Vars::new()),
        _ => Err((
            node.line,
            format!("{what} must be a mapping, got {}", node.kind()),
        )),
    }
}

pub(super) fn string_of(node: &YNode, what: &str) -> Res<String> {
    match node.as_str() {
        Some(s) if !s.is_empty() && s.is_ascii() => Ok(s.to_string()),
        _ => Err((
            node.line,
            format!("{what} must be a non-empty ASCII string"),
        )),
    }
}

/// `config`, `vars`, `facts`, `features` of a group or target.
pub(super) fn data_key(data: &mut Data, key: &str, value: &YNode) -> Res<bool> {
    if has_plugin_ref(&value.to_json()) {
        return Err((
            value.line,
            "Bolt `_plugin` references are not supported".into(),
        ));
    }
    match key {
        "config" => data.config = map_of(value, "config")?,
        "vars" => data.vars = map_of(value, "vars")?,
        "facts" => data.facts = map_of(value, "facts")?,
        "features" => match value.to_json() {
            Value::Array(items) => {
                data.features = items
                    .iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            }
            Value::Null => {}
            _ => return Err((value.line, "features must be a list".into())),
        },
        "plugin_hooks" => {}
        _ => return Ok(false),
    }
    Ok(true)
}

pub(super) fn has_plugin_ref(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.contains_key("_plugin") || m.values().any(has_plugin_ref),
        Value::Array(a) => a.iter().any(has_plugin_ref),
        _ => false,
    }
}

pub(super) fn parse_group(node: &YNode, top: bool) -> Res<Group> {
    let entries = node.as_map().ok_or_else(|| {
        (
            node.line,
            format!("a group must be a mapping, got {}", node.kind()),
        )
    })?;
    let mut group = Group {
        name: if top { "all".into() } else { String::new() },
        line: node.line,
        ..Group::default()
    };
    for (key, value) in entries {
        let k = key_text(key);
        if data_key(&mut group.data, &k, value)? {
            continue;
        }
        match (k.as_str(), top) {
            ("name", false) => {
                group.name = string_of(value, "group name")?;
                if !valid_name(&group.name) {
                    return Err((
                        value.line,
                        format!("invalid group name {:?}: use {NAME_RULE}", group.name),
                    ));
                }
            }
            ("version", true) if value.to_json() == 2 => {}
            ("version", true) => {
                return Err((value.line, "only inventory version 2 is supported".into()));
            }
            ("nodes", _) => {
                return Err((
                    key.line,
                    "'nodes' is Bolt inventory v1; use 'targets' (version 2)".into(),
                ));
            }
            ("targets", _) => {
                let YValue::Seq(items) = &value.value else {
                    return Err((value.line, "targets must be a list".into()));
                };
                for item in items {
                    if item.as_str().is_some() {
                        group.strings.push((string_of(item, "target")?, item.line));
                    } else {
                        let (name, data) = parse_target(item)?;
                        if !group.targets.iter().any(|(n, _)| *n == name) {
                            group.targets.push((name, data));
                        }
                    }
                }
            }
            ("groups", _) => {
                let YValue::Seq(items) = &value.value else {
                    return Err((value.line, "groups must be a list".into()));
                };
                for item in items {
                    group.groups.push(parse_group(item, false)?);
                }
            }
            _ => {
                return Err((
                    key.line,
                    format!("unexpected key '{k}' in group '{}'", group.name),
                ));
            }
        }
    }
    if group.name.is_empty() {
        return Err((node.line, "group does not have a name".into()));
    }
    Ok(group)
}

pub(super) fn parse_target(node: &YNode) -> Res<(String, Data)> {
    let entries = node.as_map().ok_or_else(|| {
        (
            node.line,
            "a target must be a string or a mapping".to_string(),
        )
    })?;
    let mut data = Data {
        line: node.line,
        ..Data::default()
    };
    for (key, value) in entries {
        let k = key_text(key);
        if data_key(&mut data, &k, value)? {
            continue;
        }
        match k.as_str() {
            "name" => data.name = Some(string_of(value, "target name")?),
            "uri" => data.uri = Some(string_of(value, "target uri")?),
            "alias" => {
                data.aliases = match value.to_json() {
                    Value::String(s) => vec![s],
                    Value::Array(a) if a.iter().all(Value::is_string) => a
                        .into_iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect(),
                    _ => {
                        return Err((
                            value.line,
                            "alias must be a string or a list of strings".into(),
                        ));
                    }
                };
                if let Some(bad) = data.aliases.iter().find(|a| !valid_name(a)) {
                    return Err((
                        value.line,
                        format!("invalid alias {bad:?}: use {NAME_RULE}"),
                    ));
                }
            }
            _ => return Err((key.line, format!("unexpected key '{k}' in target"))),
        }
    }
    if let Some(uri) = &data.uri {
        parse_uri(uri).map_err(|e| (node.line, e))?;
    }
    let name = data
        .name
        .clone()
        .or(data.uri.clone())
        .ok_or((node.line, "target has no name or uri".to_string()))?;
    Ok((name, data))
}
