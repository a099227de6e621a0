//! Bolt inventory files (`inventory.yaml`, version 2), so a Bolt project's
//! targets can be run on without rewriting them.
//!
//! ```yaml
//! config: { ssh: { user: deploy } }        # the implicit `all` group
//! groups:
//!   - name: web
//!     targets:
//!       - web1.example.com                 # a string: a name, alias or URI
//!       - uri: ssh://admin@10.0.0.5:2222   # URI user/port cannot be overridden
//!         name: web2
//!         alias: [w2]
//!         vars: { role: frontend }
//!         facts: { os: { family: RedHat } }
//!     groups: [ { name: web-canary, targets: [web1.example.com] } ]
//!     config:
//!       transport: ssh
//!       ssh: { port: 22, host-key-check: false, private-key: ~/.ssh/id, proxyjump: bastion }
//! ```
//!
//! Precedence is Bolt's (`Bolt::Inventory::Group#target_collect` and
//! `#group_collect`): data set on a target beats group data; a child group
//! beats its parent; between sibling groups the earlier one wins; `config`
//! and `facts` merge deeply, `vars` shallowly. A target named `localhost`
//! defaults to the local transport, as in Bolt.
//!
//! Mapped onto [`Node`]: the transport (URI scheme, else `config.transport`,
//! else `ssh`) is kept by name (`winrm`, `docker`... fail when run, not
//! when loaded), `user`, `port` and `host` come from the URI, else from
//! `config.<transport>`. Bolt's `vars` become node vars, and the rest is
//! kept under reserved vars: `bolt_config` (the merged config, with
//! `host-key-check`, `private-key`, `proxyjump`...), `bolt_facts`,
//! `bolt_aliases`, `bolt_features`. Where Bolt only warns (unknown keys),
//! this is an error with its line; `_plugin` references are not supported.

use super::native::InventoryError;
use super::yaml11;
use super::{Inventory, Node};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

mod merge;
mod parse;

use merge::{collect_names, group_collect, member_groups, merge, target_collect};
use parse::parse_group;

type Vars = Map<String, Value>;
type Res<T> = Result<T, (u64, String)>;

/// One resolved Bolt target.
#[derive(Debug, Clone, PartialEq)]
pub struct BoltTarget {
    pub name: String,
    pub uri: Option<String>,
    pub aliases: Vec<String>,
    /// Groups containing it (directly or through a subgroup), not `all`.
    pub groups: Vec<String>,
    pub config: Vars,
    pub vars: Vars,
    pub facts: Vars,
    pub features: Vec<String>,
}

/// A loaded Bolt inventory: targets in first-appearance order.
#[derive(Debug, Clone, Default)]
pub struct BoltInventory {
    pub targets: Vec<BoltTarget>,
    source: String,
}

#[derive(Debug, Clone, Default)]
struct Data {
    config: Vars,
    vars: Vars,
    facts: Vars,
    features: Vec<String>,
    name: Option<String>,
    uri: Option<String>,
    aliases: Vec<String>,
    /// Where it was defined, for errors.
    line: u64,
}

#[derive(Debug, Default)]
struct Group {
    name: String,
    line: u64,
    data: Data,
    /// Target name → data defined in this group (strings: name or URI only).
    targets: Vec<(String, Data)>,
    strings: Vec<(String, u64)>,
    groups: Vec<Group>,
}

pub fn load(path: &Path) -> Result<BoltInventory, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<BoltInventory, InventoryError> {
    let invalid = |(line, reason): (u64, String)| InventoryError::Invalid {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let doc = yaml11::parse(text).map_err(|e| invalid((e.line, e.reason)))?;
    let mut root = match doc {
        None => Group {
            name: "all".into(),
            ..Group::default()
        },
        Some(doc) => parse_group(&doc, true).map_err(invalid)?,
    };
    let mut names = HashMap::new();
    validate(&root, &mut names).map_err(invalid)?;
    let aliases: HashMap<String, String> = names
        .iter()
        .filter_map(|(n, kind)| {
            kind.strip_prefix("alias:")
                .map(|t| (n.clone(), t.to_string()))
        })
        .collect();
    let known: BTreeSet<String> = names
        .iter()
        .filter(|(_, k)| *k == "target")
        .map(|(n, _)| n.clone())
        .collect();
    resolve_strings(&mut root, &known, &aliases);
    let mut order = Vec::new();
    collect_names(&root, &mut order);
    let mut targets = Vec::new();
    for name in order {
        let group = group_collect(&root, &name).unwrap_or_default();
        let own = target_collect(&root, &name).unwrap_or_default();
        let mut data = merge(group, own);
        if name == "localhost" && !data.config.contains_key("transport") {
            data.config.insert("transport".into(), Value::from("local"));
        }
        let mut groups = Vec::new();
        member_groups(&root, &name, &mut groups);
        targets.push(BoltTarget {
            uri: data.uri.clone(),
            name: data.name.clone().or(data.uri.clone()).unwrap_or(name),
            aliases: data.aliases,
            groups,
            config: data.config,
            vars: data.vars,
            facts: data.facts,
            features: data.features,
        });
    }
    Ok(BoltInventory {
        targets,
        source: path.display().to_string(),
    })
}

/// Names (groups, targets, aliases) must not collide, as Bolt validates.
fn validate(group: &Group, used: &mut HashMap<String, String>) -> Res<()> {
    if let Some(kind) = used.get(&group.name) {
        return Err((
            group.line,
            format!(
                "group {} conflicts with a {} of the same name",
                group.name,
                kind.split(':').next().unwrap_or(kind)
            ),
        ));
    }
    used.insert(group.name.clone(), "group".into());
    for (name, data) in &group.targets {
        match used.get(name).map(String::as_str) {
            Some("target") | None => {}
            Some(kind) => {
                return Err((
                    data.line,
                    format!(
                        "target {name} conflicts with a {} of the same name",
                        kind.split(':').next().unwrap_or(kind)
                    ),
                ));
            }
        }
        used.insert(name.clone(), "target".into());
        for alias in &data.aliases {
            match used.get(alias) {
                Some(kind) if *kind != format!("alias:{name}") => {
                    return Err((
                        data.line,
                        format!(
                            "alias {alias} of {name} conflicts with a {} of the same name",
                            kind.split(':').next().unwrap_or(kind)
                        ),
                    ));
                }
                _ => used.insert(alias.clone(), format!("alias:{name}")),
            };
        }
    }
    group.groups.iter().try_for_each(|g| validate(g, used))
}

/// A string target is a known name, else an alias, else a new URI.
fn resolve_strings(group: &mut Group, known: &BTreeSet<String>, aliases: &HashMap<String, String>) {
    for (s, _) in std::mem::take(&mut group.strings) {
        let (name, data) = if known.contains(&s) {
            (s.clone(), Data::default())
        } else if let Some(target) = aliases.get(&s) {
            (target.clone(), Data::default())
        } else {
            (
                s.clone(),
                Data {
                    uri: Some(s.clone()),
                    ..Data::default()
                },
            )
        };
        if !group.targets.iter().any(|(n, _)| *n == name) {
            group.targets.push((name, data));
        }
    }
    for g in &mut group.groups {
        resolve_strings(g, known, aliases);
    }
}

/// `[scheme://][user[:password]@]host[:port]` → (scheme, user, host, port).
/// The parts of a target URI drover uses.
#[derive(Debug, Default)]
struct Uri<'a> {
    scheme: Option<&'a str>,
    user: Option<&'a str>,
    host: &'a str,
    port: Option<u16>,
}

fn parse_uri(uri: &str) -> Result<Uri<'_>, String> {
    let (scheme, rest) = match uri.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, uri),
    };
    let rest = rest.split(['/', '?']).next().unwrap_or("");
    let (user, hostport) = match rest.rsplit_once('@') {
        Some((u, h)) => (Some(u.split(':').next().unwrap_or(u)), h),
        None => (None, rest),
    };
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(':') && !h.is_empty() => (
            h,
            Some(
                p.parse::<u16>()
                    .map_err(|_| format!("invalid port in target uri {uri}"))?,
            ),
        ),
        _ => (hostport, None),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return Err(format!("invalid target uri {uri}"));
    }
    Ok(Uri {
        scheme,
        user,
        host,
        port,
    })
}

impl BoltInventory {
    /// The target an alias points at.
    pub fn resolve_alias(&self, alias: &str) -> Option<&str> {
        self.targets
            .iter()
            .find(|t| t.aliases.iter().any(|a| a == alias))
            .map(|t| t.name.as_str())
    }

    pub fn to_inventory(&self) -> Inventory {
        let mut inv = Inventory::default();
        for t in &self.targets {
            let parsed = t
                .uri
                .as_deref()
                .and_then(|u| parse_uri(u).ok())
                .unwrap_or_default();
            let Uri {
                scheme,
                user: uri_user,
                host: uri_host,
                port: uri_port,
            } = parsed;
            let transport = scheme
                .map(String::from)
                .or_else(|| {
                    t.config
                        .get("transport")
                        .and_then(Value::as_str)
                        .map(String::from)
                })
                .unwrap_or_else(|| "ssh".into());
            let tconf = t.config.get(&transport).and_then(Value::as_object);
            let conf = |k: &str| tconf.and_then(|c| c.get(k));
            let conf_text = |k: &str| {
                conf(k).and_then(|v| {
                    v.as_str()
                        .map(String::from)
                        .or(v.as_u64().map(|n| n.to_string()))
                })
            };
            let host = Some(uri_host)
                .filter(|h| !h.is_empty())
                .map(String::from)
                .or(conf_text("host"));
            let mut vars: std::collections::BTreeMap<String, Value> =
                t.vars.clone().into_iter().collect();
            for (key, value) in [
                ("bolt_config", Value::Object(t.config.clone())),
                ("bolt_facts", Value::Object(t.facts.clone())),
                ("bolt_aliases", Value::from(t.aliases.clone())),
                ("bolt_features", Value::from(t.features.clone())),
            ] {
                let empty = value.as_object().is_some_and(Map::is_empty)
                    || value.as_array().is_some_and(Vec::is_empty);
                if !empty {
                    vars.insert(key.into(), value);
                }
            }
            inv.add(Node {
                address: host.filter(|h| *h != t.name),
                port: uri_port.or_else(|| conf_text("port").and_then(|p| p.parse().ok())),
                user: uri_user.map(String::from).or(conf_text("user")),
                transport,
                name: t.name.clone(),
                groups: t.groups.clone(),
                vars,
                source: self.source.clone(),
            });
        }
        inv
    }
}
