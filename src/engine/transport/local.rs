//! Runs commands as local processes: `sh -c` in a process group of its own, so a
//! timeout or cancel can end the whole tree the command started, not only the shell.

use super::{BoxFuture, Capabilities, ExitInfo, Health, NodeJob, Transport, TransportError};
use crate::engine::error::ErrorCategory;
use crate::engine::inventory::Node;
use crate::engine::output::OutputSink;
use crate::store::Stream;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Read size per stream. Small on purpose: a thousand nodes each holding two
/// buffers must stay cheap, and the kernel pipe already buffers 64 KiB.
const READ_CHUNK: usize = 16 * 1024;

#[derive(Debug, Clone)]
pub struct LocalConfig {
    pub shell: PathBuf,
    /// Time between SIGTERM and SIGKILL when stopping a process group.
    pub kill_grace: Duration,
}

impl Default for LocalConfig {
    fn default() -> Self {
        LocalConfig {
            shell: PathBuf::from("/bin/sh"),
            kill_grace: Duration::from_secs(2),
        }
    }
}

pub struct LocalTransport {
    config: LocalConfig,
}

impl LocalTransport {
    /// Validates the configuration at initialisation (seeds property 57).
    pub fn new(config: LocalConfig) -> Result<LocalTransport, TransportError> {
        if !config.shell.is_file() {
            return Err(TransportError::new(
                ErrorCategory::Plugin,
                format!("local: shell {} does not exist", config.shell.display()),
            ));
        }
        if config.kill_grace.is_zero() || config.kill_grace > Duration::from_secs(600) {
            return Err(TransportError::new(
                ErrorCategory::Plugin,
                "local: kill_grace must be between 1ms and 10 minutes",
            ));
        }
        Ok(LocalTransport { config })
    }

    async fn run(
        &self,
        job: NodeJob<'_>,
        sink: &OutputSink,
        stop: CancellationToken,
    ) -> Result<ExitInfo, TransportError> {
        let mut child = tokio::process::Command::new(&self.config.shell)
            .arg("-c")
            .arg(job.command)
            .envs(job.env)
            .env("DROVER_NODE", &job.node.name)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .map_err(|e| {
                TransportError::new(
                    ErrorCategory::Execution,
                    format!("cannot start {}: {e}", self.config.shell.display()),
                )
            })?;
        let pgid = child.id().map(|id| Pid::from_raw(id as i32));
        let (Some(mut out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(TransportError::new(
                ErrorCategory::Plugin,
                "child has no stdout/stderr pipe",
            ));
        };
        let (mut out_buf, mut err_buf) = (vec![0u8; READ_CHUNK], vec![0u8; READ_CHUNK]);
        let (mut out_open, mut err_open) = (true, true);
        let mut status = None;
        // Stopping goes TERM → (grace) → KILL → (grace) → give up on pipes that a
        // process outside the group (setsid) still holds.
        let mut phase = StopPhase::Running;
        let far = Instant::now() + Duration::from_secs(86_400 * 365);
        let mut deadline = far;
        while out_open || err_open || status.is_none() {
            tokio::select! {
                r = out.read(&mut out_buf), if out_open => match r {
                    Ok(0) | Err(_) => out_open = false,
                    Ok(n) => sink.write(Stream::Stdout, &out_buf[..n]).await,
                },
                r = err.read(&mut err_buf), if err_open => match r {
                    Ok(0) | Err(_) => err_open = false,
                    Ok(n) => sink.write(Stream::Stderr, &err_buf[..n]).await,
                },
                s = child.wait(), if status.is_none() => {
                    status = Some(s.map_err(|e| TransportError::new(
                        ErrorCategory::Execution, format!("waiting for the process: {e}")))?);
                }
                _ = stop.cancelled(), if phase == StopPhase::Running => {
                    signal_group(pgid, Signal::SIGTERM);
                    phase = StopPhase::Terminated;
                    deadline = Instant::now() + self.config.kill_grace;
                }
                _ = tokio::time::sleep_until(deadline), if phase != StopPhase::Running => {
                    if phase == StopPhase::Terminated {
                        signal_group(pgid, Signal::SIGKILL);
                        phase = StopPhase::Killed;
                        deadline = Instant::now() + self.config.kill_grace;
                    } else {
                        tracing::warn!(node = %job.node.name, "output pipes still open after SIGKILL; abandoning them");
                        break;
                    }
                }
            }
        }
        // The shell may have exited while pipes were still held: reap it for sure.
        let status = match status {
            Some(s) => s,
            None => child.wait().await.map_err(|e| {
                TransportError::new(ErrorCategory::Execution, format!("waiting: {e}"))
            })?,
        };
        Ok(ExitInfo {
            code: status.code(),
            signal: status.signal(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopPhase {
    Running,
    Terminated,
    Killed,
}

fn signal_group(pgid: Option<Pid>, signal: Signal) {
    if let Some(pgid) = pgid
        && let Err(e) = killpg(pgid, signal)
        && e != nix::errno::Errno::ESRCH
    {
        tracing::warn!("killpg({pgid}, {signal}) failed: {e}");
    }
}

impl Transport for LocalTransport {
    fn name(&self) -> &str {
        "local"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            command: true,
            upload: true,
            interactive: true,
            real_cancel: true,
        }
    }

    fn check_node(&self, _node: &Node) -> Result<(), TransportError> {
        Ok(())
    }

    fn execute<'a>(
        &'a self,
        job: NodeJob<'a>,
        sink: &'a OutputSink,
        stop: CancellationToken,
    ) -> BoxFuture<'a, Result<ExitInfo, TransportError>> {
        Box::pin(self.run(job, sink, stop))
    }

    fn health(&self) -> BoxFuture<'_, Health> {
        Box::pin(async move {
            let ok = self.config.shell.is_file();
            Health {
                healthy: ok,
                detail: format!("shell {}", self.config.shell.display()),
            }
        })
    }
}
