//! Ansible's INI inventory format, parsed as ansible-core's `ini` plugin
//! does (one pass; `[g:children]` may name groups declared later).
//!
//! ```ini
//! alpha ansible_host=10.0.0.1      # before any section: ungrouped
//! [web]
//! web[01:20] http_port=8080        # ranges; inline vars via literal_eval
//! [prod:children]
//! web
//! [prod:vars]
//! env=production                   # literal_eval too, despite Ansible's docs
//! ```
//!
//! Ansible's documentation says `:vars` values are strings; ansible-core
//! actually types them like inline host vars (`num=5` is the int 5), and
//! `ansible-inventory --list` agrees with the code, so we follow the code.

use super::{AnsibleInventory, hostpattern, pyliteral, shlex};

type ParseResult<T> = Result<T, (u64, String)>;

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Hosts,
    Children,
    Vars,
}

/// A group used before it was declared, as in ansible-core's
/// `pending_declarations`.
struct Pending {
    name: String,
    line: u64,
    state: State,
    parents: Vec<usize>,
}

pub fn parse(inv: &mut AnsibleInventory, text: &str) -> ParseResult<()> {
    let mut group = inv.add_group("ungrouped");
    let mut state = State::Hosts;
    let mut pending: Vec<Pending> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line_no = index as u64 + 1;
        let err = |reason: String| (line_no, reason);
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some((name, tag)) = section_header(line) {
            state = match tag {
                None | Some("hosts") => State::Hosts,
                Some("children") => State::Children,
                Some("vars") => State::Vars,
                Some(other) => {
                    return Err(err(format!(
                        "section [{name}:{other}] has unknown type: {other}"
                    )));
                }
            };
            if inv.group_id(name).is_none() {
                if state == State::Vars && !pending.iter().any(|p| p.name == name) {
                    pending.push(Pending {
                        name: name.into(),
                        line: line_no,
                        state,
                        parents: Vec::new(),
                    });
                }
                inv.add_group(name);
            }
            group = inv.add_group(name);
            if state != State::Vars {
                resolve_pending(inv, &mut pending, name).map_err(err)?;
            }
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            return Err(err(format!(
                "invalid section entry {line:?}: no spaces are allowed in a section name, and only :vars, :children or :hosts after it"
            )));
        }
        match state {
            State::Hosts => host_line(inv, group, line).map_err(err)?,
            State::Vars => {
                let (key, value) = line
                    .split_once('=')
                    .ok_or_else(|| err(format!("expected key=value, got: {line}")))?;
                let value = pyliteral::ini_value(value.trim());
                inv.set_group_var(group, key.trim().to_string(), value)
                    .map_err(err)?;
            }
            State::Children => {
                let child = group_name_line(line)
                    .ok_or_else(|| err(format!("expected group name, got: {line}")))?;
                match inv.group_id(child) {
                    Some(child) => inv.add_child(group, child).map_err(err)?,
                    None => match pending.iter_mut().find(|p| p.name == child) {
                        Some(p) => p.parents.push(group),
                        None => pending.push(Pending {
                            name: child.into(),
                            line: line_no,
                            state: State::Children,
                            parents: vec![group],
                        }),
                    },
                }
            }
        }
    }
    match pending.first() {
        None => Ok(()),
        Some(p) if p.state == State::Vars => Err((
            p.line,
            format!(
                "section [{}:vars] not valid for undefined group '{}'",
                p.name, p.name
            ),
        )),
        Some(p) => {
            let parent = p
                .parents
                .last()
                .map(|&g| inv.groups[g].name.clone())
                .unwrap_or_default();
            Err((
                p.line,
                format!(
                    "section [{parent}:children] includes undefined group '{}'",
                    p.name
                ),
            ))
        }
    }
}

/// `[name]` or `[name:tag]`, optionally followed by a `#` comment.
fn section_header(line: &str) -> Option<(&str, Option<&str>)> {
    let inner_end = line.find(']')?;
    let inner = line.strip_prefix('[')?.get(..inner_end - 1)?;
    let rest = line[inner_end + 1..].trim_start();
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let (name, tag) = match inner.split_once(':') {
        Some((n, t)) => (n, Some(t)),
        None => (inner, None),
    };
    let name_ok =
        !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == ':' || c == ']');
    let tag_ok =
        tag.is_none_or(|t| !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_'));
    (name_ok && tag_ok).then_some((name, tag))
}

/// A `[g:children]` line: one group name, optionally a `#` comment.
fn group_name_line(line: &str) -> Option<&str> {
    let end = line
        .find(|c: char| c.is_whitespace() || c == '#')
        .unwrap_or(line.len());
    let (name, rest) = line.split_at(end);
    let rest = rest.trim_start();
    let ok = !name.is_empty()
        && !name.contains([':', ']'])
        && (rest.is_empty() || rest.starts_with('#'));
    ok.then_some(name)
}

/// `host[01:03]:22 key=value ...`
fn host_line(inv: &mut AnsibleInventory, group: usize, line: &str) -> Result<(), String> {
    let tokens = shlex::shlex_split(line)
        .map_err(|e| format!("error parsing host definition '{line}': {e}"))?;
    let (pattern, assignments) = tokens
        .split_first()
        .ok_or_else(|| format!("expected a host, got: {line}"))?;
    let (hosts, port) = hostpattern::expand(pattern)?;
    if pattern.trim().ends_with(':') && port.is_none() {
        return Err(format!(
            "invalid host pattern '{pattern}': ending in ':' is not allowed, this character is reserved to provide a port"
        ));
    }
    if hosts.iter().any(|h| h.trim() == "---") {
        return Err(format!(
            "invalid host pattern '{pattern}': '---' is normally a sign this is a YAML file"
        ));
    }
    let mut vars = Vec::with_capacity(assignments.len());
    for token in assignments {
        let (key, value) = token
            .split_once('=')
            .ok_or_else(|| format!("expected key=value host variable assignment, got: {token}"))?;
        vars.push((key.to_string(), pyliteral::ini_value(value)));
    }
    if hosts.iter().any(String::is_empty) {
        return Err("invalid empty host name".into());
    }
    // The last host takes the parsed values; the others get copies.
    let last = hosts.len().saturating_sub(1);
    for (i, host) in hosts.iter().enumerate() {
        let id = inv.add_host(host, group, port);
        let target = &mut inv.hosts[id].vars;
        if i == last {
            target.extend(std::mem::take(&mut vars));
        } else {
            target.extend(vars.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    Ok(())
}

/// `[name]` or `[name:children]` arrived: attach what waited for it.
fn resolve_pending(
    inv: &mut AnsibleInventory,
    pending: &mut Vec<Pending>,
    name: &str,
) -> Result<(), String> {
    let Some(pos) = pending.iter().position(|p| p.name == name) else {
        return Ok(());
    };
    let p = pending.remove(pos);
    if p.state == State::Children {
        let child = inv.add_group(name);
        for parent in p.parents {
            inv.add_child(parent, child)?;
            let parent_name = inv.groups[parent].name.clone();
            if pending
                .iter()
                .any(|q| q.name == parent_name && q.state == State::Children)
            {
                resolve_pending(inv, pending, &parent_name)?;
            }
        }
    }
    Ok(())
}
