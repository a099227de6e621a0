//! Bolt's precedence, after `Bolt::Inventory::Group#target_collect` and
//! `#group_collect`: target data beats group data, a child group beats its
//! parent, an earlier sibling beats a later one; `config` and `facts`
//! merge deeply, `vars` shallowly, aliases and features accumulate.

use super::{Data, Group, Vars};
use serde_json::Value;

pub(super) fn collect_names(group: &Group, out: &mut Vec<String>) {
    for (name, _) in &group.targets {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    group.groups.iter().for_each(|g| collect_names(g, out));
}

pub(super) fn member_groups(group: &Group, target: &str, out: &mut Vec<String>) -> bool {
    let mut found = group.targets.iter().any(|(n, _)| n == target);
    for g in &group.groups {
        found |= member_groups(g, target, out);
    }
    if found && group.name != "all" && !out.contains(&group.name) {
        out.push(group.name.clone());
    }
    found
}

/// Deep merge of JSON maps, `high` winning.
pub(super) fn deep_merge(mut low: Vars, high: Vars) -> Vars {
    for (k, v) in high {
        match (low.get_mut(&k), v) {
            (Some(Value::Object(l)), Value::Object(h)) => *l = deep_merge(std::mem::take(l), h),
            (_, v) => {
                low.insert(k, v);
            }
        }
    }
    low
}

pub(super) fn merge(low: Data, high: Data) -> Data {
    let mut vars = low.vars;
    vars.extend(high.vars);
    let mut features = low.features;
    features.extend(
        high.features
            .into_iter()
            .filter(|f| !features_contains(&features, f))
            .collect::<Vec<_>>(),
    );
    Data {
        config: deep_merge(low.config, high.config),
        facts: deep_merge(low.facts, high.facts),
        vars,
        features,
        name: high.name.or(low.name),
        uri: high.uri.or(low.uri),
        aliases: {
            let mut all = high.aliases;
            all.extend(
                low.aliases
                    .into_iter()
                    .filter(|a| !all.contains(a))
                    .collect::<Vec<_>>(),
            );
            all
        },
        line: high.line.max(low.line),
    }
}

pub(super) fn features_contains(list: &[String], f: &str) -> bool {
    list.iter().any(|x| x == f)
}

/// Children's data in order, earlier siblings winning.
pub(super) fn fold_children(group: &Group, f: impl Fn(&Group) -> Option<Data>) -> Option<Data> {
    group
        .groups
        .iter()
        .filter_map(f)
        .reduce(|acc, next| merge(next, acc))
}

pub(super) fn target_collect(group: &Group, target: &str) -> Option<Data> {
    let local = group
        .targets
        .iter()
        .find(|(n, _)| n == target)
        .map(|(_, d)| d.clone());
    let children = fold_children(group, |g| target_collect(g, target));
    match (local, children) {
        (Some(l), Some(c)) => Some(merge(l, c)),
        (l, c) => l.or(c),
    }
}

pub(super) fn group_collect(group: &Group, target: &str) -> Option<Data> {
    let children = fold_children(group, |g| group_collect(g, target));
    let here = group.targets.iter().any(|(n, _)| n == target);
    (children.is_some() || here).then(|| merge(group.data.clone(), children.unwrap_or_default()))
}
