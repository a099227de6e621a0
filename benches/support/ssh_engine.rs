//! The SSH transport and inventory the fleet benchmarks give their engine:
//! every alias an `ssh` node, read through the fleet's ssh_config as root.
#![allow(dead_code)] // each benchmark uses a different subset

use drover::engine::transport::TransportRegistry;
use drover::engine::transport::interaction::NoInteraction;
use drover::engine::transport::ssh::config::Environment;
use drover::engine::transport::ssh::{SshSettings, SshTransport};
use drover::engine::{Inventory, Node};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The transport on `ssh_config` and an inventory of `aliases` (all of the
/// config's concrete hosts when `None`).
pub fn ssh_parts(ssh_config: &Path, aliases: Option<&[String]>) -> (Inventory, TransportRegistry) {
    let transport = SshTransport::new(SshSettings {
        config_file: Some(ssh_config.to_path_buf()),
        environment: Environment::new("/root", "root"),
        kill_grace: Duration::from_secs(2),
        idle_timeout: Duration::from_secs(600),
        interaction: Arc::new(NoInteraction),
    })
    .expect("ssh transport");
    let aliases = aliases.map_or_else(|| transport.config().concrete_hosts(), <[String]>::to_vec);
    let mut inventory = Inventory::default();
    for alias in aliases {
        let mut node = Node::local(&alias, "bench");
        node.transport = "ssh".into();
        inventory.add(node);
    }
    let mut transports = TransportRegistry::default();
    transports.register(Arc::new(transport));
    (inventory, transports)
}
