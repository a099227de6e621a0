//! A local process in a process group of its own, its output streamed into the
//! sink, and stopping it for real: TERM to the whole group, KILL after the grace.
//! Shared by every transport that starts a program on this machine (`local`,
//! `exec`), so they time out, cancel and kill alike.

use super::{ExitInfo, TransportError};
use crate::engine::common::error::ErrorCategory;
use crate::engine::report::output::OutputSink;
use crate::store::Stream;
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Read size per stream. Small on purpose: a thousand nodes each holding two
/// buffers must stay cheap, and the kernel pipe already buffers 64 KiB.
const READ_CHUNK: usize = 16 * 1024;

/// What to run and how to stop it.
pub struct GroupRun<'a> {
    /// Program, arguments and environment; stdio and the process group are set here.
    pub command: tokio::process::Command,
    /// Names the program in errors (`/bin/sh`, `docker`).
    pub program: &'a str,
    /// Bytes for the program's stdin, which is closed after them; `None`: `/dev/null`.
    pub stdin: Option<Vec<u8>>,
    /// The node, for the log.
    pub node: &'a str,
    /// Time between SIGTERM and SIGKILL when stopping the group.
    pub kill_grace: Duration,
}

/// Runs the program in a new process group, streams stdout and stderr into
/// `sink` as they come, and when `stop` fires sends TERM to the group, KILL after
/// the grace, and after another grace gives up on pipes a process that left the
/// group (`setsid`) still holds.
pub async fn run_in_group(
    run: GroupRun<'_>,
    sink: &OutputSink,
    stop: CancellationToken,
) -> Result<ExitInfo, TransportError> {
    let GroupRun {
        mut command,
        program,
        stdin,
        node,
        kill_grace,
    } = run;
    let mut child = command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| {
            TransportError::new(
                ErrorCategory::Execution,
                format!("cannot start {program}: {e}"),
            )
        })?;
    let pgid = child.id().map(|id| Pid::from_raw(id as i32));
    // Named in the log so an operator can end a group a killed drover left behind.
    tracing::info!(node, pgid = child.id(), "local process group started");
    if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // Its own task: a program that reads late must not hold up the output.
        // A program that exits without reading closes the pipe: nothing to do.
        tokio::spawn(async move {
            let _ = pipe.write_all(&bytes).await;
        });
    }
    let (Some(mut out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(TransportError::new(
            ErrorCategory::Plugin,
            "child has no stdout/stderr pipe",
        ));
    };
    let (mut out_buf, mut err_buf) = (vec![0u8; READ_CHUNK], vec![0u8; READ_CHUNK]);
    let (mut out_open, mut err_open) = (true, true);
    let mut status = None;
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
                deadline = Instant::now() + kill_grace;
            }
            _ = tokio::time::sleep_until(deadline), if phase != StopPhase::Running => {
                if phase == StopPhase::Terminated {
                    signal_group(pgid, Signal::SIGKILL);
                    phase = StopPhase::Killed;
                    deadline = Instant::now() + kill_grace;
                } else {
                    tracing::warn!(node = %node, "output pipes still open after SIGKILL; abandoning them");
                    break;
                }
            }
        }
    }
    // The program may have exited while pipes were still held: reap it for sure.
    let status = match status {
        Some(s) => s,
        None => child
            .wait()
            .await
            .map_err(|e| TransportError::new(ErrorCategory::Execution, format!("waiting: {e}")))?,
    };
    Ok(ExitInfo {
        code: status.code(),
        signal: status.signal(),
    })
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
