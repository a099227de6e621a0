//! Which kind of inventory a path holds, so `-i` takes any of them: an
//! executable file (a dynamic inventory script, as Ansible decides), drover's
//! own YAML (`nodes:` at the top), Bolt v2 (`groups:`/`targets:` at the top),
//! a ClusterShell configuration (`groups.conf`, or a directory holding one),
//! or Ansible (INI, YAML, or a directory of them).

use super::native::InventoryError;
use super::script::{self, is_executable};
use super::{Inventory, ansible, bolt, clustershell, native};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Native,
    Bolt,
    Ansible,
    Script,
    ClusterShell,
}

pub fn detect(path: &Path) -> Result<Format, InventoryError> {
    if clustershell::is_config(path) {
        return Ok(Format::ClusterShell);
    }
    if path.is_dir() {
        return Ok(Format::Ansible);
    }
    if is_executable(path) {
        return Ok(Format::Script);
    }
    let text = std::fs::read_to_string(path).map_err(|source| InventoryError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let top: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '#', '-', '[']) && !l.trim().is_empty())
        .filter_map(|l| l.split_once(':').map(|(k, _)| k.trim()))
        .collect();
    Ok(if top.contains(&"nodes") {
        Format::Native
    } else if top.contains(&"groups") || top.contains(&"targets") {
        Format::Bolt
    } else {
        Format::Ansible
    })
}

/// Loads one inventory of any supported kind (scripts with the default
/// time limit).
pub fn load_any(path: &Path) -> Result<Inventory, InventoryError> {
    load_any_with(path, script::DEFAULT_TIMEOUT)
}

/// Loads one inventory; a script gets `script_timeout` per run.
pub fn load_any_with(path: &Path, script_timeout: Duration) -> Result<Inventory, InventoryError> {
    let inv = match detect(path)? {
        Format::Script => script::load(path, script_timeout)?,
        Format::Native => native::load(path)?,
        Format::Bolt => bolt::load(path)?.to_inventory(),
        Format::Ansible => ansible::load(path)?.to_inventory(),
        Format::ClusterShell => clustershell::load(path)?,
    };
    Ok(inv.declared())
}

/// The built-in `localhost` plus every `-i` path in order; later ones override.
pub fn load_all(paths: &[PathBuf]) -> Result<Inventory, InventoryError> {
    let mut inv = Inventory::builtin();
    for p in paths {
        inv.merge(load_any(p)?);
    }
    Ok(inv)
}

/// The `-i` paths that hold Ansible inventories (for `--format ansible-json`).
pub fn ansible_paths(paths: &[PathBuf]) -> Vec<PathBuf> {
    paths
        .iter()
        .filter(|p| matches!(detect(p), Ok(Format::Ansible)))
        .cloned()
        .collect()
}
