//! A group's content as ClusterShell reads it: a node set that may name
//! other groups (`@io,x1`, `@roles:web!w2`, `@chassis[1-2]`), operators
//! applied left to right. References are resolved within the group's own
//! source unless they name another one.

use super::super::nodeset;
use std::collections::{BTreeMap, HashSet};

/// Group name → raw node set text and the place it was read from.
pub type RawGroups = BTreeMap<String, (String, String)>;

/// Every source's raw groups, by source name.
pub type RawSources = BTreeMap<String, RawGroups>;

/// How deep group references may nest before the definition is taken to
/// be a cycle (ClusterShell stops at a recursion limit too).
const MAX_DEPTH: usize = 32;

/// The names group `group` of `source` holds; `Err` says why not, naming
/// the place the group was read from.
pub fn resolve(sources: &RawSources, source: &str, group: &str) -> Result<Vec<String>, String> {
    resolve_at(sources, source, group, 0)
}

fn resolve_at(
    sources: &RawSources,
    source: &str,
    group: &str,
    depth: usize,
) -> Result<Vec<String>, String> {
    let Some((text, place)) = sources.get(source).and_then(|g| g.get(group)) else {
        // An unknown group holds nothing, as in ClusterShell.
        return Ok(Vec::new());
    };
    if depth > MAX_DEPTH {
        return Err(format!(
            "{place}: group {source}:{group} refers to itself (through @ references)"
        ));
    }
    evaluate(sources, source, text, depth + 1).map_err(|reason| {
        if reason.contains(": group ") {
            reason
        } else {
            format!("{place}: group {source}:{group}: {reason}")
        }
    })
}

/// Evaluates `text` (a node set with group references) in `source`.
fn evaluate(
    sources: &RawSources,
    source: &str,
    text: &str,
    depth: usize,
) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = Vec::new();
    if text.trim().is_empty() {
        return Ok(names);
    }
    let mut op = None;
    for (i, (operand, next_op)) in split_operators(text)?.into_iter().enumerate() {
        let operand = operand.trim();
        if operand.is_empty() {
            return Err(format!("missing node set operand in {text:?}"));
        }
        let right = operand_names(sources, source, operand, depth)?;
        names = match op {
            None if i == 0 => right,
            Some('&') => {
                let r: HashSet<&String> = right.iter().collect();
                names.into_iter().filter(|n| r.contains(n)).collect()
            }
            Some('!') => {
                let r: HashSet<&String> = right.iter().collect();
                names.into_iter().filter(|n| !r.contains(n)).collect()
            }
            Some('^') => {
                let (l, r): (HashSet<String>, HashSet<String>) = (
                    names.iter().cloned().collect(),
                    right.iter().cloned().collect(),
                );
                let mut out: Vec<String> = names.into_iter().filter(|n| !r.contains(n)).collect();
                out.extend(right.into_iter().filter(|n| !l.contains(n)));
                out
            }
            _ => {
                names.extend(right);
                names
            }
        };
        op = next_op;
    }
    Ok(names)
}

/// `a,b!c` → `[("a", Some(',')), ("b", Some('!')), ("c", None)]`, splitting
/// only outside brackets.
fn split_operators(text: &str) -> Result<Vec<(&str, Option<char>)>, String> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' | '&' | '!' | '^' if depth == 0 => {
                parts.push((&text[start..i], Some(c)));
                start = i + 1;
            }
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return Err(format!("unbalanced or nested bracket in {text:?}"));
        }
    }
    if depth != 0 {
        return Err(format!("unbalanced bracket in {text:?}"));
    }
    parts.push((&text[start..], None));
    Ok(parts)
}

/// One operand: `@[source:]group[ranges]` or a node set.
fn operand_names(
    sources: &RawSources,
    source: &str,
    operand: &str,
    depth: usize,
) -> Result<Vec<String>, String> {
    let Some(reference) = operand.strip_prefix('@') else {
        return nodeset::expand(operand).map_err(|e| e.to_string());
    };
    let (src, pattern) = match reference.split_once(':') {
        Some((s, g)) => (s, g),
        None => (source, reference),
    };
    if !sources.contains_key(src) {
        return Err(format!("unknown group source {src:?}"));
    }
    let mut names = Vec::new();
    for group in group_names(pattern)? {
        names.extend(resolve_at(sources, src, &group, depth)?);
    }
    Ok(names)
}

/// A ranged group name (`chassis[1-2]`) as the group names it stands for.
pub fn group_names(pattern: &str) -> Result<Vec<String>, String> {
    if pattern.is_empty() {
        return Err("'@' without a group name".into());
    }
    nodeset::expand(pattern).map_err(|e| e.to_string())
}
