//! One command on one node over an SSH channel, with cancellation that really ends
//! the remote work.
//!
//! Closing a channel leaves a command without a pty running, and the `signal`
//! request is ignored for root logins (OpenSSH 9.2). So the command is prefixed with
//! a line that reports the remote shell's PID on stderr — sshd makes that shell a
//! session and process-group leader — and stopping sends the signal request and then
//! `kill -TERM` / `kill -KILL` to that process group over a second channel.

use super::pool::{Connection, Slot};
use crate::engine::error::ErrorCategory;
use crate::engine::output::OutputSink;
use crate::engine::transport::{ExitInfo, NodeJob, TransportError};
use crate::store::Stream;
use russh::{ChannelMsg, Sig};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// First line the wrapper writes to stderr; never shown to the user.
const MARKER: &[u8] = b"\x1eDROVER-PGID ";

/// The command as the remote login shell receives it.
pub fn wrap_command(command: &str, env: &BTreeMap<String, String>) -> String {
    let mut s = String::from("printf '\\036DROVER-PGID %s\\n' \"$$\" >&2\n");
    // sshd refuses most `env` requests (AcceptEnv); exporting always works.
    for (k, v) in env {
        s.push_str(&format!("export {k}={}\n", shell_quote(v)));
    }
    s.push_str(command);
    s
}

/// Single-quotes a value for any POSIX shell.
pub fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// Takes the PID line off the front of stderr, wherever chunks split it.
#[derive(Default)]
struct MarkerStrip {
    buf: Vec<u8>,
    done: bool,
    pgid: Option<u32>,
}

impl MarkerStrip {
    /// Returns the bytes that belong to the user's stderr.
    fn feed(&mut self, data: &[u8]) -> Vec<u8> {
        if self.done {
            return data.to_vec();
        }
        self.buf.extend_from_slice(data);
        let prefix_ok = MARKER.starts_with(&self.buf[..self.buf.len().min(MARKER.len())]);
        if !prefix_ok || self.buf.len() > 64 {
            self.done = true;
            return std::mem::take(&mut self.buf);
        }
        let Some(nl) = self.buf.iter().position(|b| *b == b'\n') else {
            return Vec::new();
        };
        self.done = true;
        let line = String::from_utf8_lossy(&self.buf[MARKER.len()..nl]).to_string();
        self.pgid = line.trim().parse().ok();
        let rest = self.buf.split_off(nl + 1);
        self.buf.clear();
        rest
    }

    fn finish(&mut self) -> Vec<u8> {
        self.done = true;
        std::mem::take(&mut self.buf)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Terminated,
    Killed,
}

pub async fn run(
    (conn, slot): Slot,
    job: NodeJob<'_>,
    sink: &OutputSink,
    stop: CancellationToken,
    grace: Duration,
) -> Result<ExitInfo, TransportError> {
    let conn = &conn;
    let (mut channel, _slot) = conn.open_session(slot).await?;
    let lost = |what: &str| {
        TransportError::new(
            ErrorCategory::Connection,
            format!("{}: {what}", conn.describe()),
        )
    };
    channel
        .exec(true, wrap_command(job.command, job.env))
        .await
        .map_err(|e| lost(&format!("cannot start the command: {e}")))?;
    let mut strip = MarkerStrip::default();
    let mut exit = ExitInfo::default();
    let mut phase = Phase::Running;
    let mut deadline = Instant::now() + Duration::from_secs(86_400 * 365);
    let mut closed_cleanly = false;
    loop {
        tokio::select! {
            msg = channel.wait() => match msg {
                Some(ChannelMsg::Data { data }) => sink.write(Stream::Stdout, &data).await,
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    let rest = strip.feed(&data);
                    sink.write(Stream::Stderr, &rest).await;
                }
                Some(ChannelMsg::ExitStatus { exit_status }) => exit.code = Some(exit_status as i32),
                Some(ChannelMsg::ExitSignal { signal_name, .. }) => exit.signal = Some(signal_number(&signal_name)),
                Some(ChannelMsg::Failure) if exit.code.is_none() => {
                    return Err(TransportError::new(ErrorCategory::Execution,
                        format!("{}: the server refused to run the command", conn.describe())));
                }
                Some(ChannelMsg::Close) => { closed_cleanly = true; break; }
                None => break,
                Some(_) => {}
            },
            _ = stop.cancelled(), if phase == Phase::Running => {
                let _ = channel.signal(Sig::TERM).await;
                kill_group(conn, strip.pgid, "TERM").await;
                phase = Phase::Terminated;
                deadline = Instant::now() + grace;
            }
            _ = tokio::time::sleep_until(deadline), if phase != Phase::Running => {
                if phase == Phase::Terminated {
                    let _ = channel.signal(Sig::KILL).await;
                    kill_group(conn, strip.pgid, "KILL").await;
                    phase = Phase::Killed;
                    deadline = Instant::now() + grace;
                } else {
                    let _ = channel.close().await;
                    break;
                }
            }
        }
    }
    let tail = strip.finish();
    sink.write(Stream::Stderr, &tail).await;
    if exit.code.is_none() && exit.signal.is_none() && phase == Phase::Running {
        let why = if closed_cleanly {
            "the channel closed without an exit status"
        } else {
            "the connection was lost during the run"
        };
        return Err(lost(why));
    }
    Ok(exit)
}

/// Ends the remote process group over a second channel (works for root too).
async fn kill_group(conn: &Arc<Connection>, pgid: Option<u32>, signal: &str) {
    let Some(pgid) = pgid.filter(|p| *p > 1) else {
        return;
    };
    let command = format!("kill -{signal} -- -{pgid} 2>/dev/null; exit 0");
    if let Err(e) = conn.run_control(&command).await {
        tracing::warn!(target = %conn.describe(), "could not signal remote process group {pgid}: {}", e.reason);
    }
}

pub(super) fn signal_number(sig: &Sig) -> i32 {
    match sig {
        Sig::ABRT => 6,
        Sig::ALRM => 14,
        Sig::FPE => 8,
        Sig::HUP => 1,
        Sig::ILL => 4,
        Sig::INT => 2,
        Sig::KILL => 9,
        Sig::PIPE => 13,
        Sig::QUIT => 3,
        Sig::SEGV => 11,
        Sig::TERM => 15,
        Sig::USR1 => 10,
        Sig::Custom(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_is_stripped_across_chunks() {
        let mut s = MarkerStrip::default();
        let mut out = s.feed(b"\x1eDROVER-P");
        out.extend(s.feed(b"GID 4242\nreal stderr\n"));
        out.extend(s.feed(b"more"));
        out.extend(s.finish());
        assert_eq!(out, b"real stderr\nmore");
        assert_eq!(s.pgid, Some(4242));
    }

    #[test]
    fn stderr_without_marker_passes_untouched() {
        let mut s = MarkerStrip::default();
        let out = s.feed(b"fish: unknown\n");
        assert_eq!(out, b"fish: unknown\n");
        assert_eq!(s.pgid, None);
    }

    #[test]
    fn quoting_survives_single_quotes() {
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
    }
}
