//! The client side of `drover serve`: how a console or a tool reaches the
//! service ([`client`]), and the console's terminal when it is attached
//! ([`console`]).

pub mod batch;
pub mod client;
mod collected;
pub mod console;
pub mod start;

use std::path::Path;

use crate::app::wire::place::{inputs, socket_path};
use crate::app::wire::protocol::{Hello, Inputs};
use crate::cli::GlobalArgs;
use crate::config::Config;
use client::{Client, ClientError};
use start::start_background;

/// The service this drover should use: the one answering on the socket, or one
/// started now (`start`). A service of this user that was started with other
/// inputs (state dir, config, inventories, ssh config) is refused, with what to
/// do: attaching would show another fleet than the one asked for.
pub async fn reach(
    global: &GlobalArgs,
    config: &Config,
    state_dir: &Path,
    start: bool,
) -> Result<(Client, Hello), String> {
    let path = socket_path(global, config);
    let client = Client::new(&path);
    let hello = match client.hello().await {
        Ok(h) => h,
        Err(ClientError::NotRunning { .. }) if start => {
            start_background(global, state_dir, &path, true).await?;
            client.hello().await.map_err(|e| e.to_string())?
        }
        Err(e) => return Err(e.to_string()),
    };
    let ours = inputs(global, state_dir);
    // A team's service (another account) has its own inputs by design.
    if hello.owner == hello.peer && hello.inputs != ours {
        return Err(format!(
            "the drover service on {} (pid {}) was started with other inputs ({}) than this drover ({}): \
             `drover serve --stop` and start again, or --no-attach to run this one on its own",
            path.display(),
            hello.pid,
            describe(&hello.inputs),
            describe(&ours)
        ));
    }
    Ok((client, hello))
}

/// The flags that give another drover this one's inputs (`--config`, `-i`,
/// `-F`, `--grammar`): for a service started in the background and for a
/// hand-off run on the terminal.
pub fn input_flags(global: &GlobalArgs) -> Vec<std::ffi::OsString> {
    let mut flags: Vec<std::ffi::OsString> = Vec::new();
    if let Some(c) = &global.config {
        flags.extend(["--config".into(), c.into()]);
    }
    for i in &global.inventory {
        flags.extend(["-i".into(), i.into()]);
    }
    if let Some(f) = &global.ssh_config {
        flags.extend(["-F".into(), f.into()]);
    }
    if let Some(g) = &global.grammar {
        flags.extend(["--grammar".into(), g.into()]);
    }
    flags
}

fn describe(i: &Inputs) -> String {
    let mut parts = vec![format!("state dir {}", i.state_dir)];
    if let Some(c) = &i.config {
        parts.push(format!("config {c}"));
    }
    if !i.inventories.is_empty() {
        parts.push(format!("inventory {}", i.inventories.join(", ")));
    }
    if let Some(f) = &i.ssh_config {
        parts.push(format!("ssh config {f}"));
    }
    if let Some(g) = &i.grammar {
        parts.push(format!("grammar {g}"));
    }
    parts.join(", ")
}
