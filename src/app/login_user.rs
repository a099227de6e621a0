//! `-l USER` on `run`, `task run` and `ssh`: SSH nodes log in as USER for this
//! process, over the inventory and the ssh_config, as `ssh -l` and `pdsh -l` do.
//! A local node cannot log in as anyone: naming one with `-l` is refused before
//! anything runs, rather than running it as the current user.

use crate::cli::{Command, TaskCommand};
use crate::engine::Engine;

/// The user `-l` asks for, and the targets it applies to.
pub fn wanted(command: &Command) -> Option<(&str, &str)> {
    match command {
        Command::Run(a) => Some((a.exec.login_user.as_deref()?, a.targets.as_deref()?)),
        Command::Task(t) => match &t.command {
            TaskCommand::Run(a) => Some((a.exec.login_user.as_deref()?, a.targets.as_deref()?)),
            _ => None,
        },
        Command::Ssh(a) => Some((a.login_user.as_deref()?, a.node.as_str())),
        _ => None,
    }
}

/// Swaps in the inventory with `user` on every SSH node; `Err` names the local
/// nodes among `targets`. Targets that do not resolve are left to the run to report.
pub fn apply(engine: &Engine, user: &str, targets: &str) -> Result<(), String> {
    let inventory = engine.inventory();
    if let Ok(nodes) = inventory.resolve(targets) {
        let local: Vec<&str> = nodes
            .iter()
            .filter(|n| n.transport == "local")
            .map(|n| n.name.as_str())
            .collect();
        if !local.is_empty() {
            return Err(format!(
                "-l {user}: {} run{} as the current user on this machine; -l applies to SSH nodes only",
                local.join(", "),
                if local.len() == 1 { "s" } else { "" }
            ));
        }
    }
    engine.set_inventory(inventory.with_login_user(user));
    Ok(())
}
