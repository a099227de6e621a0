//! A `ProxyCommand` child as OpenSSH runs it: `$SHELL -c "exec CMD"` (`/bin/sh`
//! when `SHELL` is unset) in its own process group, its stdin and stdout
//! carrying the SSH stream, its stderr kept (bounded) for the node's error.
//!
//! The child lives as long as the connection: the stream handed to russh holds
//! it, and the last holder to go kills its whole process group (so an `ssh -W`
//! or a pipeline the command started dies with it).

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::io;
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;

/// Stderr kept for error messages; the rest is read and dropped so the command
/// never blocks on a full pipe.
const STDERR_LIMIT: usize = 4096;
/// How long a failed connect waits for the command to exit, to report how.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// The running command. Dropping the last reference kills its process group.
pub struct ProxyProcess {
    child: tokio::sync::Mutex<Child>,
    /// The child's pid, which is also its process group id.
    pgid: Option<Pid>,
    stderr: Arc<Mutex<Captured>>,
    /// Reads stderr to its end (the group's death at the latest), then logs it.
    stderr_task: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Default)]
struct Captured {
    bytes: Vec<u8>,
    cut: bool,
}

/// The SSH byte stream: reads the child's stdout, writes its stdin.
pub struct ProxyStream {
    stdout: ChildStdout,
    stdin: ChildStdin,
    _process: Arc<ProxyProcess>,
}

/// Starts `command` (tokens already expanded).
pub fn spawn(command: &str) -> io::Result<(Arc<ProxyProcess>, ProxyStream)> {
    let shell = std::env::var_os("SHELL")
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let mut child = Command::new(shell)
        .arg("-c")
        .arg(format!("exec {command}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let missing = || io::Error::other("child pipes missing");
    let stdin = child.stdin.take().ok_or_else(missing)?;
    let stdout = child.stdout.take().ok_or_else(missing)?;
    let mut stderr = child.stderr.take().ok_or_else(missing)?;
    let captured = Arc::new(Mutex::new(Captured::default()));
    let sink = captured.clone();
    let logged = command.to_owned();
    let stderr_task = tokio::spawn(async move {
        let mut buf = [0u8; 1024];
        while let Ok(n @ 1..) = stderr.read(&mut buf).await {
            let mut c = sink.lock().unwrap_or_else(|p| p.into_inner());
            let room = STDERR_LIMIT.saturating_sub(c.bytes.len());
            c.cut |= n > room;
            c.bytes.extend_from_slice(&buf[..n.min(room)]);
        }
        let c = sink.lock().unwrap_or_else(|p| p.into_inner());
        if !c.bytes.is_empty() {
            tracing::info!(command = %logged, stderr = %String::from_utf8_lossy(&c.bytes), "ProxyCommand stderr");
        }
    });
    let pgid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let process = Arc::new(ProxyProcess {
        child: tokio::sync::Mutex::new(child),
        pgid,
        stderr: captured,
        stderr_task: Mutex::new(Some(stderr_task)),
    });
    let stream = ProxyStream {
        stdout,
        stdin,
        _process: process.clone(),
    };
    Ok((process, stream))
}

impl ProxyProcess {
    /// Why a connection through this command failed, after `error` (russh's
    /// account of it): how the command ended, if it did within [`EXIT_WAIT`],
    /// and its stderr.
    pub async fn failure(&self, error: &str) -> String {
        let exited = {
            let mut child = self.child.lock().await;
            tokio::time::timeout(EXIT_WAIT, child.wait()).await.ok()
        };
        // The connection's key, which prefixes the error, names the command.
        let mut out = match exited {
            Some(Ok(status)) => format!(
                "the ProxyCommand {} before the SSH handshake ({error})",
                ended(status)
            ),
            _ => error.to_owned(),
        };
        // Once the command is gone its stderr reaches its end promptly.
        let task = self
            .stderr_task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let (Some(task), Some(_)) = (task, exited) {
            let _ = tokio::time::timeout(Duration::from_millis(500), task).await;
        }
        out.push_str(&self.stderr_note());
        out
    }

    /// `; stderr: …` with what the command printed so far, or nothing.
    pub fn stderr_note(&self) -> String {
        let c = self.stderr.lock().unwrap_or_else(|p| p.into_inner());
        let text = String::from_utf8_lossy(&c.bytes);
        let text = text.trim();
        if text.is_empty() {
            return String::new();
        }
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let cut = if c.cut { " […]" } else { "" };
        format!("; its stderr: {}{cut}", lines.join(" / "))
    }
}

fn ended(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(sig)) => format!("was killed by signal {sig}"),
        _ => format!("ended ({status})"),
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        // The group first, while the unreaped leader still holds its id; then
        // `kill_on_drop` ends (and reaps) the leader itself.
        let reaped = matches!(self.child.get_mut().try_wait(), Ok(Some(_)));
        if let (Some(pgid), false) = (self.pgid, reaped) {
            let _ = killpg(pgid, Signal::SIGKILL);
        }
    }
}

impl AsyncRead for ProxyStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdout).poll_read(cx, buf)
    }
}

impl AsyncWrite for ProxyStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stdin).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdin).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdin).poll_shutdown(cx)
    }
}
