//! A session on a `local` node: the user's login shell (or `/bin/sh -c COMMAND`)
//! as a child that inherits this terminal as it is.

use crate::engine::transport::ExitInfo;
use std::os::unix::process::ExitStatusExt;

pub async fn run(command: Option<&str>) -> Result<ExitInfo, String> {
    let mut cmd = match command {
        Some(c) => {
            let mut cmd = tokio::process::Command::new("/bin/sh");
            cmd.arg("-c").arg(c);
            cmd
        }
        None => {
            let shell = std::env::var("SHELL")
                .ok()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "/bin/sh".into());
            let mut cmd = tokio::process::Command::new(shell);
            cmd.arg("-l");
            cmd
        }
    };
    // Ctrl-C at the shell's prompt is the shell's business: drover keeps running
    // (a tokio handler replaces the default action of dying).
    let _interrupts = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    let status = cmd
        .status()
        .await
        .map_err(|e| format!("cannot start a local shell: {e}"))?;
    Ok(ExitInfo {
        code: status.code(),
        signal: status.signal(),
    })
}
