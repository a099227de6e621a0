//! Ansible host patterns, read as `ansible -i INV --list-hosts PATTERN`
//! reads them (ansible-core's `InventoryManager.get_hosts`).
//!
//! * Parts: see [`split`]. A part is a host name, a group name (its hosts
//!   and its descendants'), a glob (`web*`, `db-[a-c]`, `host[!AB]`:
//!   matched against group names, whose hosts it selects, and host names),
//!   `all` or `*`, or `~regex` (Python's `re.match`: anchored at the start
//!   only). A plain word that names a group does not also match hosts.
//! * `!part` removes, `&part` intersects. All plain parts are united first,
//!   in the order written, then every `&` part applies, then every `!`
//!   part, wherever they were written; only `&`/`!` parts start from `all`.
//! * A subscript picks from a part's hosts in Ansible's order: `[i]`
//!   (negative counts from the end; out of range is an error), `[a:b]`
//!   inclusive, `[a:]`, and the old `[a-b]` (with a warning). `[-2:]` is no
//!   subscript: the brackets are a glob class.
//! * Order: hosts come in Ansible's order (inventory order, a group's own
//!   hosts before its children's), never sorted by name.
//! * A part that matches nothing is a warning (`Could not match supplied
//!   host pattern, ignoring: X`) and the other parts still apply; an empty
//!   group is no warning. Only a wholly empty selection is an error.
//! * `localhost`, `127.0.0.1` and `::1` select the built-in `localhost`
//!   when nothing else matches them; `all` and globs never include it once
//!   an inventory is loaded.

mod fnmatch;
mod split;
mod view;

use super::{Grammar, Selection, TargetError};
use crate::engine::inventory::Inventory;
use regex::Regex;
use std::collections::HashSet;
use view::View;

/// Ansible's `C.LOCALHOST`: names of the implicit localhost.
const LOCALHOST_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];

pub(super) fn select(inv: &Inventory, expr: &str) -> Result<Selection, TargetError> {
    let view = View::of(inv);
    let mut warnings = Vec::new();
    let mut chosen: Vec<&str> = Vec::new();
    let mut present: HashSet<&str> = HashSet::new();
    for part in ordered_parts(expr) {
        // A plain part naming a host is that host, even if a group has the name.
        if let Some(host) = view.host(&part) {
            if present.insert(host) {
                chosen.push(host);
            }
            continue;
        }
        let (op, body) = match (part.strip_prefix('!'), part.strip_prefix('&')) {
            (Some(body), _) => (b'!', body),
            (_, Some(body)) => (b'&', body),
            _ => (b'+', part.as_str()),
        };
        if body.is_empty() {
            return Err(TargetError::Syntax {
                part: part.clone(),
                reason: "nothing after the operator".into(),
            });
        }
        let found = match_one(&view, body, &mut warnings)?;
        match op {
            b'!' | b'&' => {
                let found: HashSet<&str> = found.into_iter().collect();
                let keep = op == b'&';
                chosen.retain(|h| found.contains(h) == keep);
                present = chosen.iter().copied().collect();
            }
            _ => chosen.extend(found.into_iter().filter(|h| present.insert(h))),
        }
    }
    let mut seen = HashSet::new();
    warnings.retain(|w| seen.insert(w.clone()));
    if chosen.is_empty() {
        let unmatched: Vec<String> = warnings
            .iter()
            .filter_map(|w| w.strip_prefix(UNMATCHED))
            .map(str::to_string)
            .collect();
        let parts = if unmatched.is_empty() {
            vec![expr.trim().to_string()]
        } else {
            unmatched
        };
        return Err(TargetError::NoMatch { parts });
    }
    Ok(Selection {
        nodes: chosen
            .into_iter()
            .filter_map(|h| inv.node(h).cloned())
            .collect(),
        warnings,
        grammar: Grammar::Ansible,
    })
}

const UNMATCHED: &str = "Could not match supplied host pattern, ignoring: ";

/// The parts, plain ones first, then `&` ones, then `!` ones; only
/// `&`/`!` parts means `all` first.
fn ordered_parts(expr: &str) -> Vec<String> {
    let parts = split::split_host_pattern(expr);
    let kind = |p: &String| match p.as_bytes().first() {
        Some(b'!') => 2,
        Some(b'&') => 1,
        _ => 0,
    };
    let mut ordered: Vec<String> = parts.iter().filter(|p| kind(p) == 0).cloned().collect();
    if ordered.is_empty() {
        ordered.push("all".into());
    }
    for k in [1, 2] {
        ordered.extend(parts.iter().filter(|p| kind(p) == k).cloned());
    }
    ordered
}

/// One part's hosts (duplicates kept, as the subscript counts them).
fn match_one<'a>(
    view: &View<'a>,
    part: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<&'a str>, TargetError> {
    let (expr, subscript) = split_subscript(part);
    if subscript.is_some_and(|s| s.dash) {
        warnings
            .push("Use [x:y] inclusive subscripts instead of [x-y] which has been removed".into());
    }
    let hosts = enumerate(view, expr, warnings)?;
    match subscript {
        None => Ok(hosts),
        Some(s) => s.apply(hosts).ok_or_else(|| TargetError::NoMatch {
            parts: vec![format!("{part} (no hosts matched the subscripted pattern)")],
        }),
    }
}

#[derive(Debug, Clone, Copy)]
struct Subscript {
    start: i64,
    /// `None`: the single index `start`; `Some(-1)`: to the end.
    end: Option<i64>,
    /// Written `[a-b]`, the form Ansible warns about.
    dash: bool,
}

impl Subscript {
    /// The hosts it picks; `None` when a single index is out of range.
    fn apply(self, hosts: Vec<&str>) -> Option<Vec<&str>> {
        let len = hosts.len() as i64;
        if hosts.is_empty() {
            return Some(hosts);
        }
        match self.end {
            // Ansible tests the end for truth: `[a:0]` is the index `a`.
            Some(end) if end != 0 => {
                let stop = if end == -1 {
                    len
                } else {
                    end.saturating_add(1).min(len)
                };
                let start = self.start.min(len);
                Some(hosts[start as usize..stop.max(start) as usize].to_vec())
            }
            _ => {
                let i = if self.start < 0 {
                    self.start + len
                } else {
                    self.start
                };
                (0..len).contains(&i).then(|| vec![hosts[i as usize]])
            }
        }
    }
}

/// `PATTERN[i]`, `PATTERN[a:b]`, `PATTERN[a:]`, `PATTERN[a-b]` (not for
/// regexes); anything else in brackets is part of the pattern.
fn split_subscript(part: &str) -> (&str, Option<Subscript>) {
    let none = (part, None);
    if part.starts_with('~') || !part.ends_with(']') {
        return none;
    }
    let Some(open) = part.rfind('[').filter(|&o| o > 0) else {
        return none;
    };
    let inner = &part[open + 1..part.len() - 1];
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    // Python ints are unbounded; past i64 an index is out of range anyway.
    let number = |s: &str| {
        s.parse::<i64>().unwrap_or(if s.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        })
    };
    let subscript = if digits(inner.strip_prefix('-').unwrap_or(inner)) {
        Subscript {
            start: number(inner),
            end: None,
            dash: false,
        }
    } else {
        let Some(sep) = inner.find([':', '-']) else {
            return none;
        };
        let (start, end) = (&inner[..sep], &inner[sep + 1..]);
        if !digits(start) || !(end.is_empty() || digits(end)) {
            return none;
        }
        Subscript {
            start: number(start),
            end: Some(if end.is_empty() { -1 } else { number(end) }),
            dash: inner.as_bytes()[sep] == b'-',
        }
    };
    (&part[..open], Some(subscript))
}

/// Hosts of the groups the pattern names, then (when no group matched, or
/// for a glob or regex) the hosts it names, then the implicit localhost.
fn enumerate<'a>(
    view: &View<'a>,
    expr: &str,
    warnings: &mut Vec<String>,
) -> Result<Vec<&'a str>, TargetError> {
    let matcher = matcher(expr)?;
    let mut hosts = Vec::new();
    let mut group_matched = false;
    for (group, members) in &view.groups {
        if matcher.is_match(group) {
            group_matched = true;
            hosts.extend(members.iter().copied());
        }
    }
    let special = expr.starts_with('~') || expr.contains(['.', '?', '*', '[']);
    if !group_matched || special {
        hosts.extend(view.hosts.iter().copied().filter(|h| matcher.is_match(h)));
    }
    if hosts.is_empty() && LOCALHOST_NAMES.contains(&expr) {
        hosts.extend(view.localhost);
    }
    if hosts.is_empty() && !group_matched && expr != "all" {
        warnings.push(format!("{UNMATCHED}{expr}"));
    }
    Ok(hosts)
}

/// `~regex` (Python `re.match`) or a glob (`fnmatch`).
fn matcher(expr: &str) -> Result<Regex, TargetError> {
    let invalid = |reason: String| TargetError::Syntax {
        part: expr.to_string(),
        reason: format!("invalid host list pattern: {reason}"),
    };
    let source = match expr.strip_prefix('~') {
        Some(re) => format!("^(?:{})", python_regex(re).map_err(invalid)?),
        None => fnmatch::translate(expr),
    };
    Regex::new(&source).map_err(|e| invalid(e.to_string()))
}

/// A Python regex in the `regex` crate's syntax; Python-only features
/// (lookaround, backreferences, conditionals, comments) are refused by
/// name rather than read differently.
fn python_regex(re: &str) -> Result<String, String> {
    let mut out = String::with_capacity(re.len());
    let mut chars = re.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => out.push_str(r"\z"),
                Some(d @ '1'..='9') => {
                    return Err(format!("backreference \\{d} is Python-only regex syntax"));
                }
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
            continue;
        }
        out.push(c);
        if c == '(' && chars.peek() == Some(&'?') {
            let rest: String = chars.clone().take(4).collect();
            for (prefix, what) in [
                ("?=", "lookahead"),
                ("?!", "negative lookahead"),
                ("?<=", "lookbehind"),
                ("?<!", "negative lookbehind"),
                ("?P=", "named backreference"),
                ("?(", "conditional"),
                ("?#", "comment group"),
            ] {
                if rest.starts_with(prefix) {
                    return Err(format!("({prefix}…) {what} is Python-only regex syntax"));
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscripts_as_ansible_reads_them() {
        let sub = |p: &str| split_subscript(p).1.map(|s| (s.start, s.end, s.dash));
        assert_eq!(sub("web[0]"), Some((0, None, false)));
        assert_eq!(sub("web[-1]"), Some((-1, None, false)));
        assert_eq!(sub("web[1:]"), Some((1, Some(-1), false)));
        assert_eq!(sub("web[1-3]"), Some((1, Some(3), true)));
        assert_eq!(sub("web[-2:]"), None);
        assert_eq!(sub("~web[0]"), None);
        assert_eq!(sub("[0]"), None);
        assert_eq!(split_subscript("w*[0:2]").0, "w*");
    }

    #[test]
    fn slices_pick_as_python() {
        let h = vec!["a", "b", "c", "d"];
        let pick = |start, end| {
            Subscript {
                start,
                end,
                dash: false,
            }
            .apply(h.clone())
        };
        assert_eq!(pick(1, Some(2)), Some(vec!["b", "c"]));
        assert_eq!(pick(2, Some(-1)), Some(vec!["c", "d"]));
        assert_eq!(pick(2, Some(0)), Some(vec!["c"]));
        assert_eq!(pick(3, Some(1)), Some(vec![]));
        assert_eq!(pick(9, Some(12)), Some(vec![]));
        assert_eq!(pick(-1, None), Some(vec!["d"]));
        assert_eq!(pick(4, None), None);
        assert_eq!(pick(-5, None), None);
        assert_eq!(pick(i64::MAX, None), None);
        assert_eq!(pick(1, Some(i64::MAX)), Some(vec!["b", "c", "d"]));
    }

    #[test]
    fn python_only_regex_is_refused() {
        assert!(python_regex("web(?=1)").is_err());
        assert!(python_regex(r"(a)\1").is_err());
        assert_eq!(python_regex(r"db\d+\Z"), Ok(r"db\d+\z".to_string()));
    }
}
