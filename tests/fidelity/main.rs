//! Inventories, targets and configuration read as their own tools read them: each compared with ansible, nodeset, ssh -G or bolt's rules on this machine.
//!
//! One test binary per suite (tests/<suite>/main.rs): each former test file is a
//! module here, so the suite links once. Support modules are shared by path.

#[path = "../prereq/mod.rs"]
mod prereq;

mod ansible_inventory;
mod ansible_patterns;
mod bolt_inventory;
mod clustershell_groups;
mod config_file;
mod inventory_cli;
mod inventory_properties;
mod inventory_reload;
mod inventory_scripts;
mod known_hosts;
mod nodeset;
mod ssh_config;
