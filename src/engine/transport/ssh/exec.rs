//! One command on one node over an SSH channel, with a stop that really ends the
//! remote work, in bounded time.
//!
//! Closing a channel leaves a command without a pty running, and the `signal`
//! request is ignored for root logins (OpenSSH 9.2). So the command runs inside a
//! small script ([`super::wrapper`]) that reports the remote shell's PID (a
//! session and process-group leader) and ends that group when the channel's stdin
//! closes. Stopping sends EOF, the `signal` request, and `kill -TERM` / `kill -KILL`
//! to the process group over a control channel; each step is bounded, and a node
//! that confirms nothing within `2 × kill_grace` + [`STOP_MARGIN`] is given up: the
//! connection is dropped and the result says the remote kill is unconfirmed.

use super::pool::Connection;
use super::wrapper::{MarkerScan, wrap};
use crate::engine::common::error::ErrorCategory;
use crate::engine::report::output::OutputSink;
use crate::engine::transport::{ExitInfo, NodeJob, TransportError};
use crate::store::Stream;
use russh::client::Msg;
use russh::{Channel, ChannelMsg, Sig};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Added to the two kill graces: how long a node may take to answer the last
/// KILL before drover stops waiting for it.
pub const STOP_MARGIN: Duration = Duration::from_secs(2);

/// Longest `run` takes to return once `stop` fires.
pub fn stop_bound(grace: Duration) -> Duration {
    grace * 2 + STOP_MARGIN
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Running,
    Terminated,
    Killed,
}

/// Runs `job` on `channel`, a fresh session channel of `conn`.
pub async fn run(
    conn: &Arc<Connection>,
    mut channel: Channel<Msg>,
    job: NodeJob<'_>,
    sink: &OutputSink,
    stop: CancellationToken,
    grace: Duration,
) -> Result<ExitInfo, TransportError> {
    let lost = |what: &str| {
        TransportError::new(
            ErrorCategory::Connection,
            format!("{}: {what}", conn.describe()),
        )
    };
    let wrapped = wrap(job.command, job.env, grace);
    channel
        .exec(true, wrapped.script)
        .await
        .map_err(|e| lost(&format!("cannot start the command: {e}")))?;
    // Queued right behind the exec: no round trip. A small write that fits the
    // initial window, so it does not wait on the node.
    if !wrapped.stdin.is_empty() {
        channel
            .data(&wrapped.stdin[..])
            .await
            .map_err(|e| lost(&format!("cannot send the environment: {e}")))?;
    }
    let mut scan = MarkerScan::new(wrapped.marker);
    let mut exit = ExitInfo::default();
    let mut phase = Phase::Running;
    let mut deadline = Instant::now() + Duration::from_secs(86_400 * 365);
    // Set when the stop comes: nothing after it may wait past this.
    let mut give_up = deadline;
    let mut closed_cleanly = false;
    loop {
        tokio::select! {
            msg = channel.wait() => match msg {
                Some(ChannelMsg::Data { data }) => sink.write(Stream::Stdout, &data).await,
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    let rest = scan.feed(&data);
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
                // EOF alone makes the wrapper's watcher end the group; the signal
                // request and the control channel cover a node where it did not start.
                give_up = Instant::now() + stop_bound(grace);
                let _ = tokio::time::timeout_at(give_up, channel.eof()).await;
                let _ = tokio::time::timeout_at(give_up, channel.signal(Sig::TERM)).await;
                kill_group(conn, scan.pgid, "TERM", grace);
                phase = Phase::Terminated;
                deadline = Instant::now() + grace;
            }
            _ = tokio::time::sleep_until(deadline), if phase != Phase::Running => {
                if phase == Phase::Terminated {
                    let _ = tokio::time::timeout_at(give_up, channel.signal(Sig::KILL)).await;
                    kill_group(conn, scan.pgid, "KILL", grace);
                    phase = Phase::Killed;
                    deadline = give_up;
                } else {
                    // The node answered nothing: what we know of it is stale, and a
                    // connection that cannot deliver a KILL is no use to later runs.
                    tracing::warn!(target = %conn.describe(), "no answer after the stop; connection dropped");
                    conn.abandon();
                    let tail = scan.finish();
                    sink.write(Stream::Stderr, &tail).await;
                    return Err(lost(&format!(
                        "remote kill unconfirmed: no answer from the node within {} of the stop; \
                         the connection was dropped",
                        crate::engine::common::duration::format_duration(stop_bound(grace))
                    )));
                }
            }
        }
    }
    let tail = scan.finish();
    sink.write(Stream::Stderr, &tail).await;
    if exit.code.is_none() && exit.signal.is_none() {
        if phase != Phase::Running {
            // The channel went away while stopping: the node's watcher ends the
            // group when it sees the connection close, but nothing confirmed it.
            if !closed_cleanly {
                return Err(lost(
                    "remote kill unconfirmed: the connection was lost while stopping",
                ));
            }
            return Ok(exit);
        }
        let why = if closed_cleanly {
            "the channel closed without an exit status"
        } else {
            "the connection was lost during the run"
        };
        return Err(lost(why));
    }
    Ok(exit)
}

/// Ends the remote process group over a control channel (works for root too).
/// Runs on its own, bounded by `grace`, so the channel keeps being read meanwhile.
fn kill_group(conn: &Arc<Connection>, pgid: Option<u32>, signal: &'static str, grace: Duration) {
    let Some(pgid) = pgid.filter(|p| *p > 1) else {
        return;
    };
    let conn = conn.clone();
    tokio::spawn(async move {
        let command = format!("kill -{signal} -- -{pgid} 2>/dev/null; exit 0");
        if let Err(e) = conn.run_control(&command, grace).await {
            tracing::warn!(target = %conn.describe(), "could not signal remote process group {pgid}: {}", e.reason);
        }
    });
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
