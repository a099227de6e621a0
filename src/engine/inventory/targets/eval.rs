//! Evaluating one term of a target expression against an inventory:
//! which names it selects, and whether it was a plain list of node names
//! (the only case whose written order the result keeps).

use super::super::matcher::glob_match;
use super::super::{ALL_GROUP, Inventory, nodeset};
use super::{Base, Term};
use std::collections::HashSet;

/// Names a term selects, in its own order, and whether it was a plain
/// list of node names; `Err` is the description of an unmatched part.
pub(super) fn eval_term(inv: &Inventory, term: &Term) -> Result<(Vec<String>, bool), String> {
    let members = |group: &str| -> Vec<String> {
        inv.groups()
            .get(group)
            .map(|m| m.iter().cloned().collect())
            .unwrap_or_default()
    };
    let all = || inv.nodes().map(|n| n.name.clone()).collect::<Vec<_>>();
    let (names, plain) = match &term.base {
        Base::All => (all(), false),
        // `@all` is every node, unless a ClusterShell default source (which
        // gives the `*` group) defines `all`: then that group, as `nodeset`.
        Base::Group { source: None, name }
            if name == ALL_GROUP && !inv.groups().contains_key("*") =>
        {
            (all(), false)
        }
        Base::Group { source, name } if clush_source(inv, source.as_deref()) => {
            let (picked, missing) = clush_groups(inv, source.as_deref(), name);
            if !missing.is_empty() {
                return Err(missing.join(", "));
            }
            (picked, false)
        }
        Base::Group { source, name } => {
            let picked: Vec<String> = match source {
                None => members(name),
                Some(src) => {
                    let in_group: HashSet<String> = members(name).into_iter().collect();
                    inv.nodes()
                        .filter(|n| {
                            n.source == *src && (name == ALL_GROUP || in_group.contains(&n.name))
                        })
                        .map(|n| n.name.clone())
                        .collect()
                }
            };
            (picked, false)
        }
        Base::Names(text) => {
            let expanded = nodeset::expand(text).unwrap_or_default();
            let (mut picked, mut missing, mut plain) = (Vec::new(), Vec::new(), true);
            for name in expanded {
                if inv.node(&name).is_some() {
                    picked.push(name);
                } else if inv.groups().contains_key(&name) {
                    plain = false;
                    picked.extend(members(&name));
                } else {
                    missing.push(name);
                }
            }
            if !missing.is_empty() {
                let shown = nodeset::fold(missing.iter().map(String::as_str));
                return Err(shown);
            }
            (picked, plain)
        }
        Base::Glob(text) => {
            let globs = nodeset::expand(text).unwrap_or_default();
            let hit = |name: &str| globs.iter().any(|g| glob_match(g, name));
            (matching(inv, hit), false)
        }
        Base::Regex(re) => (matching(inv, |name| re.is_match(name)), false),
    };
    if names.is_empty() {
        return Err(term.text.clone());
    }
    Ok((names, plain))
}

/// Nodes whose name matches, then members of groups whose name matches.
fn matching(inv: &Inventory, hit: impl Fn(&str) -> bool) -> Vec<String> {
    let mut names: Vec<String> = inv
        .nodes()
        .filter(|n| hit(&n.name))
        .map(|n| n.name.clone())
        .collect();
    for (group, members) in inv.groups() {
        if hit(group) {
            names.extend(members.iter().cloned());
        }
    }
    names.sort();
    names.dedup();
    names
}

/// A node-set term on the right of `&` or `!` as a test instead of a list:
/// `@web&web[001-99999]` asks each of `@web`'s nodes whether the set (or a group
/// the set names) holds it, without building 99,999 names. The term only
/// narrows, so names it holds that no node has are no error; a term that holds
/// no node and no group at all is (`Err`), as elsewhere. `None`: not such a
/// term, evaluate it as a list.
pub(super) fn filter_term<'a>(
    inv: &'a Inventory,
    term: &'a Term,
) -> Option<Result<impl Fn(&str) -> bool + 'a, ()>> {
    let Base::Names(text) = &term.base else {
        return None;
    };
    let set = nodeset::NodeSet::parse(text).ok()?;
    let in_groups: HashSet<&str> = inv
        .groups()
        .iter()
        .filter(|(g, _)| set.contains(g))
        .flat_map(|(_, members)| members.iter().map(String::as_str))
        .collect();
    let holds = move |name: &str| set.contains(name) || in_groups.contains(name);
    if !inv.nodes().any(|n| holds(&n.name)) {
        return Some(Err(()));
    }
    Some(Ok(holds))
}

/// Whether `@source:group` (or a ranged `@group[1-2]`, or `@*`) is read as
/// ClusterShell reads it: `source` is a ClusterShell group source (some
/// group `source:…` exists), or no source is named. Otherwise `@src:group`
/// keeps drover's meaning, the members of `group` from inventory source `src`.
fn clush_source(inv: &Inventory, source: Option<&str>) -> bool {
    let Some(src) = source else {
        return true;
    };
    let prefix = format!("{src}:");
    inv.groups()
        .range(prefix.clone()..)
        .next()
        .is_some_and(|(g, _)| g.starts_with(&prefix))
}

/// Members of every group a (possibly ranged) ClusterShell group name
/// stands for, and the `@…` groups that do not exist.
fn clush_groups(inv: &Inventory, source: Option<&str>, name: &str) -> (Vec<String>, Vec<String>) {
    let names = if name.contains('[') {
        nodeset::expand(name).unwrap_or_default()
    } else {
        vec![name.to_string()]
    };
    let (mut picked, mut missing) = (Vec::new(), Vec::new());
    for group in names {
        let key = match source {
            Some(src) => format!("{src}:{group}"),
            None => group,
        };
        match inv.groups().get(&key) {
            Some(members) => picked.extend(members.iter().cloned()),
            None => missing.push(format!("@{key}")),
        }
    }
    (picked, missing)
}
