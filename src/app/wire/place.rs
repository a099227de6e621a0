//! Where the service listens, and the inputs it was started with: what a client
//! compares before it attaches.

use std::path::{Path, PathBuf};

use crate::app::wire::protocol::Inputs;
use crate::cli::GlobalArgs;
use crate::config::Config;

/// `$XDG_RUNTIME_DIR/drover/drover.sock`, else `/tmp/drover-UID/drover.sock`
/// (as tmux does without a runtime dir).
pub fn default_socket() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("drover").join("drover.sock"),
        None => PathBuf::from(format!("/tmp/drover-{}", nix::unistd::getuid())).join("drover.sock"),
    }
}

/// The socket: `--socket`/`$DROVER_SOCKET`, else `[engine] socket`, else
/// [`default_socket`].
pub fn socket_path(global: &GlobalArgs, config: &Config) -> PathBuf {
    global
        .socket
        .clone()
        .or_else(|| config.engine.socket.clone())
        .unwrap_or_else(default_socket)
}

/// What chooses the engine's inputs, as paths that compare equal when they name
/// the same file.
pub fn inputs(global: &GlobalArgs, state_dir: &Path) -> Inputs {
    let canonical = |p: &Path| {
        std::fs::canonicalize(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .display()
            .to_string()
    };
    Inputs {
        state_dir: canonical(state_dir),
        config: global.config.as_deref().map(canonical),
        inventories: global.inventory.iter().map(|p| canonical(p)).collect(),
        ssh_config: global.ssh_config.as_deref().map(canonical),
        grammar: global.grammar.clone(),
    }
}
