//! ClusterShell group configuration as an inventory source: what `clush`
//! and `nodeset` read from a configuration directory (`-i DIR` where
//! `DIR/groups.conf` exists, or `-i DIR/groups.conf`), so that a clush
//! user's `@group`, `@source:group` and `@chassis[3-4]` select the same
//! nodes in drover.
//!
//! Read as ClusterShell 1.9 reads them: `groups.conf` `[Main]` gives
//! `default` (the source `@group` uses), `confdir` (or `groupsdir`) and
//! `autodir` (space-separated, `$CFGDIR` is the configuration directory).
//! Every `autodir/*.yaml` holds `source: {group: nodeset}` maps; a group's
//! node set may refer to other groups. The stock `local` source is read
//! from `$CFGDIR/groups`, else `$CFGDIR/groups.d/local.cfg` (`group: nodes`
//! lines), which is what its `sed` commands print. Sources defined by
//! other commands (`map: ...` of LDAP, genders, slurm...) are refused with
//! the file and line: drover runs no command it was not asked to.
//!
//! Each name a group holds becomes an ssh node; its drover groups are
//! `source:group` for every group holding it and plain `group` for the
//! default source's groups. `source:*` (and plain `*` for the default)
//! is the source's `all` group, or every node of its groups without one.

mod ini;
mod resolve;

use super::native::InventoryError;
use super::yaml11::{self, YValue};
use super::{Inventory, Node};
use resolve::{RawGroups, RawSources};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Whether `path` is a ClusterShell configuration: a directory holding
/// `groups.conf`, or a file named `groups.conf`.
pub fn is_config(path: &Path) -> bool {
    if path.is_dir() {
        return path.join("groups.conf").is_file();
    }
    path.file_name().is_some_and(|n| n == "groups.conf") && path.is_file()
}

/// Loads the groups of the configuration at `path` (see [`is_config`]).
pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
    let conf = if path.is_dir() {
        path.join("groups.conf")
    } else {
        path.to_path_buf()
    };
    let cfgdir = conf.parent().unwrap_or(Path::new(".")).to_path_buf();
    let main = ini::read(&conf)?;
    let mut sources = RawSources::new();
    let mut order: Vec<String> = Vec::new();
    let mut add = |name: String, groups: RawGroups, order: &mut Vec<String>| {
        if !order.contains(&name) {
            order.push(name.clone());
        }
        sources.insert(name, groups);
    };
    let dirs = |key: &str| -> Vec<PathBuf> {
        main.value("Main", key)
            .map(|v| {
                v.split_whitespace()
                    .map(|d| PathBuf::from(substitute_cfgdir(d, &cfgdir)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let confdirs = if main.value("Main", "groupsdir").is_some() {
        dirs("groupsdir")
    } else {
        dirs("confdir")
    };
    for dir in dedup(confdirs) {
        for file in files_in(&dir, "conf")? {
            let part = ini::read(&file)?;
            for (name, groups) in upcall_sources(&part, &dir)? {
                add(name, groups, &mut order);
            }
        }
    }
    for dir in dedup(dirs("autodir")) {
        for file in files_in(&dir, "yaml")? {
            for (name, groups) in yaml_sources(&file)? {
                add(name, groups, &mut order);
            }
        }
    }
    for (name, groups) in upcall_sources(&main, &cfgdir)? {
        add(name, groups, &mut order);
    }
    let default = match main.value("Main", "default").filter(|d| !d.is_empty()) {
        Some(d) if sources.contains_key(d) => Some(d.to_string()),
        Some(d) => {
            return Err(invalid(
                &conf,
                main.line("Main", "default"),
                format!("default group source {d:?} is not defined"),
            ));
        }
        None => order.first().cloned(),
    };
    build(&sources, default.as_deref(), &path.display().to_string())
        .map_err(|reason| invalid(&conf, 0, reason))
}

/// The nodes and drover groups of every source.
fn build(sources: &RawSources, default: Option<&str>, origin: &str) -> Result<Inventory, String> {
    let mut memberships: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (source, groups) in sources {
        let is_default = default == Some(source.as_str());
        let mut every = Vec::new();
        for group in groups.keys() {
            let names = resolve::resolve(sources, source, group)?;
            let mut labels = vec![format!("{source}:{group}")];
            if is_default {
                labels.push(group.clone());
            }
            if group == "all" {
                labels.push(format!("{source}:*"));
                if is_default {
                    labels.push("*".into());
                }
            }
            for name in &names {
                memberships
                    .entry(name.clone())
                    .or_default()
                    .extend(labels.iter().cloned());
            }
            every.extend(names);
        }
        if !groups.contains_key("all") {
            for name in every {
                let entry = memberships.entry(name).or_default();
                entry.push(format!("{source}:*"));
                if is_default {
                    entry.push("*".into());
                }
            }
        }
    }
    Ok(Inventory::from_nodes(memberships.into_iter().map(
        |(name, mut groups)| {
            groups.sort();
            groups.dedup();
            let mut node = Node::local(&name, origin);
            node.transport = "ssh".into();
            node.groups = groups;
            node
        },
    )))
}

/// `$CFGDIR` and `${CFGDIR}` replaced, as ClusterShell substitutes them.
fn substitute_cfgdir(text: &str, cfgdir: &Path) -> String {
    let dir = cfgdir.display().to_string();
    text.replace("${CFGDIR}", &dir).replace("$CFGDIR", &dir)
}

fn dedup(dirs: Vec<PathBuf>) -> Vec<PathBuf> {
    let mut seen = Vec::new();
    for d in dirs {
        if !seen.contains(&d) {
            seen.push(d);
        }
    }
    seen
}

/// `dir/*.EXT`, sorted; a missing directory holds nothing (as in
/// ClusterShell), a path that is not a directory is an error.
fn files_in(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, InventoryError> {
    if !dir.exists() {
        return Ok(Vec::new());
    }
    let read = |source| InventoryError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(read)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    Ok(files)
}

fn invalid(path: &Path, line: u64, reason: String) -> InventoryError {
    InventoryError::Invalid {
        path: path.to_path_buf(),
        line,
        reason,
    }
}

/// Sources of an INI file (every section but `Main`; `a,b` defines both).
/// Only the stock `local` source, whose commands print lines of the local
/// groups file, is read (natively); any other command source is refused.
fn upcall_sources(
    file: &ini::Ini,
    cfgdir: &Path,
) -> Result<Vec<(String, RawGroups)>, InventoryError> {
    let mut out = Vec::new();
    for section in file.sections() {
        for name in section.name.split(',').filter(|n| *n != "Main") {
            let map = section.get("map").unwrap_or_default();
            let stock = name == "local" && (map.contains("local.cfg") || map.contains("/groups"));
            if !stock {
                return Err(invalid(
                    &file.path,
                    section.line,
                    format!(
                        "group source {name:?} gets its groups by running commands \
                         (map: {map:?}); drover reads YAML group files and the local \
                         groups file only, and runs no command"
                    ),
                ));
            }
            let groups_file = cfgdir.join("groups");
            let path = if groups_file.is_file() {
                groups_file
            } else {
                cfgdir.join("groups.d/local.cfg")
            };
            let mut groups = local_groups(&path)?;
            if section.get("all").is_some() {
                // `@local:*` is what the `all` command prints: the `all:`
                // line, nothing without one (not every group's nodes).
                groups
                    .entry("all".into())
                    .or_insert_with(|| (String::new(), path.display().to_string()));
            }
            out.push((name.to_string(), groups));
        }
    }
    Ok(out)
}

/// `group: nodes` lines (group names of `[0-9A-Za-z_-]`); other lines,
/// comments included, are ignored as the stock `sed` commands ignore them.
/// A missing file holds no group.
fn local_groups(path: &Path) -> Result<RawGroups, InventoryError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(RawGroups::new()),
        Err(source) => {
            return Err(InventoryError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let mut groups = RawGroups::new();
    for (i, line) in text.lines().enumerate() {
        let Some((name, nodes)) = line.split_once(':') else {
            continue;
        };
        let valid = name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if valid {
            let place = format!("{}:{}", path.display(), i + 1);
            // The first line of a group is the one `sed ... | head` style
            // readers and ClusterShell agree on when a name repeats.
            groups
                .entry(name.to_string())
                .or_insert((nodes.trim().to_string(), place));
        }
    }
    Ok(groups)
}

/// `source: {group: nodeset}` maps of one YAML file.
fn yaml_sources(path: &Path) -> Result<Vec<(String, RawGroups)>, InventoryError> {
    let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |line: u64, reason: String| invalid(path, line, reason);
    let doc = yaml11::parse(&text).map_err(|e| bad(e.line, e.reason))?;
    let Some(doc) = doc else {
        return Err(bad(1, "invalid content (base is not a dict)".into()));
    };
    let Some(top) = doc.as_map() else {
        return Err(bad(doc.line, "invalid content (base is not a dict)".into()));
    };
    let mut out = Vec::new();
    for (key, value) in top {
        let Some(source) = key.as_str() else {
            return Err(bad(
                key.line,
                "group source name is not a string (add quotes?)".into(),
            ));
        };
        let Some(entries) = value.as_map() else {
            return Err(bad(
                value.line,
                format!("group source {source:?} is not a map"),
            ));
        };
        let mut groups = RawGroups::new();
        for (gkey, gvalue) in entries {
            let Some(group) = gkey.as_str() else {
                return Err(bad(
                    gkey.line,
                    format!("{source}: group name is not a string (add quotes?)"),
                ));
            };
            let nodes = match &gvalue.value {
                YValue::Scalar(serde_json::Value::String(s)) => s.clone(),
                YValue::Seq(items) => items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        bad(
                            gvalue.line,
                            format!("{source}: group {group}: list items must be strings"),
                        )
                    })?
                    .join(","),
                _ => {
                    return Err(bad(
                        gvalue.line,
                        format!(
                            "{source}: group {group}: expected a node set string or a list of them, found {}",
                            gvalue.kind()
                        ),
                    ));
                }
            };
            let place = format!("{}:{}", path.display(), gvalue.line);
            groups.insert(group.to_string(), (nodes, place));
        }
        out.push((source.to_string(), groups));
    }
    Ok(out)
}
