//! `drover inventory list` and `drover inventory graph`: what drover knows and what
//! a target expression selects, before anything runs.

use super::run::exit_code_for;
use crate::app::exit;
use crate::app::setup::Runtime;
use crate::cli::{InventoryArgs, InventoryCommand, InventoryFormat};
use crate::engine::inventory::{ALL_GROUP, ansible, detect};
use crate::engine::rbac::Capability;
use std::io::{self, Write};
use std::path::PathBuf;

/// `paths`: the `-i` files, read again as Ansible inventories for the
/// Ansible formats.
pub fn inventory(args: &InventoryArgs, rt: &Runtime, paths: &[PathBuf]) -> u8 {
    match &args.command {
        InventoryCommand::List { targets, format } => list(rt, paths, targets.as_deref(), *format),
        InventoryCommand::Graph => graph(rt, paths),
    }
}

fn list(rt: &Runtime, paths: &[PathBuf], targets: Option<&str>, format: InventoryFormat) -> u8 {
    if format == InventoryFormat::AnsibleJson {
        return match load_ansible(paths) {
            Ok(inv) => print(&format!("{:#}", ansible::to_ansible_json(&inv))),
            Err(code) => code,
        };
    }
    let inventory = rt.engine.inventory();
    let mut nodes = match inventory.select(targets.unwrap_or(ALL_GROUP)) {
        Ok(selection) => {
            for warning in &selection.warnings {
                eprintln!("drover: warning: {warning}");
            }
            selection.nodes
        }
        Err(e) => {
            eprintln!("drover: {e}");
            return exit_code_for(&e);
        }
    };
    if targets.is_none() {
        // Everything the user may read (with -t, all of it was checked).
        let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
        let readable: std::collections::HashSet<String> = rt
            .engine
            .permitted(&rt.context, &Capability::InventoryRead, &names)
            .into_iter()
            .map(str::to_string)
            .collect();
        nodes.retain(|n| readable.contains(&n.name));
    }
    // In the order selected: the order a sequential run takes.
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    match format {
        InventoryFormat::Names => print(&names.join("\n")),
        _ => {
            let listed: Vec<_> = nodes.iter().map(|n| n.as_ref()).collect();
            match serde_json::to_string_pretty(&listed) {
                Ok(text) => print(&text),
                Err(e) => {
                    eprintln!("drover: {e}");
                    exit::FAILED
                }
            }
        }
    }
}

fn graph(rt: &Runtime, paths: &[PathBuf]) -> u8 {
    if !detect::ansible_paths(paths).is_empty() {
        return match load_ansible(paths) {
            Ok(inv) => print(ansible::to_ansible_graph(&inv).trim_end()),
            Err(code) => code,
        };
    }
    let inventory = rt.engine.inventory();
    let mut out = String::from("@all:\n");
    for (group, members) in inventory.groups() {
        out.push_str(&format!("  |--@{group}:\n"));
        for m in members {
            out.push_str(&format!("  |  |--{m}\n"));
        }
    }
    print(out.trim_end())
}

fn load_ansible(paths: &[PathBuf]) -> Result<ansible::AnsibleInventory, u8> {
    let paths = detect::ansible_paths(paths);
    if paths.is_empty() {
        eprintln!("drover: --format ansible-json needs an Ansible inventory given with -i");
        return Err(exit::USAGE);
    }
    ansible::load_sources(&paths).map_err(|e| {
        eprintln!("drover: {e}");
        exit::USAGE
    })
}

fn print(text: &str) -> u8 {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{text}");
    exit::SUCCESS
}
