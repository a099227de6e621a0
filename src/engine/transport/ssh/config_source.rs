//! The ssh_config as an inventory source. It lives with the ssh_config reader,
//! not with the inventory, so that the inventory does not depend on transports.

use super::config::{Environment, SshConfigFile};
use crate::engine::inventory::native::InventoryError;
use crate::engine::inventory::service::InventorySource;
use crate::engine::inventory::{Inventory, Node};
use std::path::PathBuf;

/// Every concrete `Host` alias of an ssh_config is a node (transport ssh,
/// group `ssh_config`).
pub struct SshConfigSource {
    path: PathBuf,
    environment: Environment,
}

impl SshConfigSource {
    /// Priority of ssh_config nodes: above `localhost`, below every `-i` file.
    pub const PRIORITY: i64 = 10;

    pub fn new(path: PathBuf, environment: Environment) -> SshConfigSource {
        SshConfigSource { path, environment }
    }
}

impl InventorySource for SshConfigSource {
    fn name(&self) -> &str {
        "ssh_config"
    }
    fn priority(&self) -> i64 {
        Self::PRIORITY
    }
    fn watched_paths(&self) -> Vec<PathBuf> {
        vec![std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone())]
    }
    fn load(&self) -> Result<Inventory, InventoryError> {
        let config = SshConfigFile::load(&self.path, &self.environment).map_err(|e| {
            InventoryError::Source {
                name: "ssh_config".into(),
                reason: e.to_string(),
            }
        })?;
        let mut inv = Inventory::default();
        for alias in config.concrete_hosts() {
            let mut node = Node::local(&alias, "ssh_config");
            node.transport = "ssh".into();
            node.groups.push("ssh_config".into());
            inv.add(node);
        }
        Ok(inv)
    }
}
