//! An interactive session on one node: a session channel from the pool, an
//! optional pty, agent forwarding when the node's config asks for it, then a
//! shell (or a command) whose bytes pass through untouched until it exits.

use super::pool::Slot;
use crate::engine::common::error::ErrorCategory;
use crate::engine::transport::session::{SessionInput, SessionIo, SessionRequest};
use crate::engine::transport::{ExitInfo, TransportError};
use russh::ChannelMsg;
use russh::client::Msg;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;

/// Runs the session to its end. Errors start with `node:` and say what failed.
pub async fn run(
    (conn, slot): Slot,
    node: &str,
    request: SessionRequest,
    mut io: SessionIo,
    forward_agent: Option<PathBuf>,
) -> Result<ExitInfo, TransportError> {
    let fail = |category, what: String| {
        TransportError::new(category, format!("{node} ({}): {what}", conn.describe()))
    };
    // A request answered by the connection going away was not refused.
    let refused = |conn: &std::sync::Arc<super::pool::Connection>, what: &str| {
        if conn.is_closed() {
            fail(ErrorCategory::Connection, "the connection was lost".into())
        } else {
            fail(ErrorCategory::Execution, what.into())
        }
    };
    let (mut channel, _slot) = conn.open_session(slot).await?;
    if let Some(socket) = forward_agent {
        conn.forward_agent_to(socket);
        // No reply wanted: a server that refuses leaves the session without an
        // agent, exactly as OpenSSH does.
        let _ = channel.agent_forward(false).await;
    }
    if let Some(pty) = &request.pty {
        let modes: Vec<(russh::Pty, u32)> = pty
            .modes
            .iter()
            .filter_map(|(op, v)| russh::Pty::from_u8(*op).map(|m| (m, *v)))
            .collect();
        channel
            .request_pty(
                true,
                &pty.term,
                u32::from(pty.cols),
                u32::from(pty.rows),
                0,
                0,
                &modes,
            )
            .await
            .map_err(|e| fail(ErrorCategory::Connection, format!("pty request: {e}")))?;
        if !confirmed(&mut channel).await {
            return Err(refused(&conn, "the server refused a pty"));
        }
    }
    let started = match &request.command {
        Some(command) => channel.exec(true, command.as_bytes()).await,
        None => channel.request_shell(true).await,
    };
    started.map_err(|e| fail(ErrorCategory::Connection, format!("cannot start: {e}")))?;
    if !confirmed(&mut channel).await {
        let what = if request.command.is_some() {
            "the server refused to run the command"
        } else {
            "the server refused a shell"
        };
        return Err(refused(&conn, what));
    }
    // Input goes out from a task of its own: while it waits for the server's
    // window, output must still be read, or both sides wait on each other.
    let (mut reader, writer) = channel.split();
    let mut input = io.input;
    let sender = tokio::spawn(async move {
        while let Some(item) = input.recv().await {
            let sent = match item {
                SessionInput::Data(bytes) => writer.data_bytes(bytes).await,
                SessionInput::Resize { cols, rows } => {
                    writer
                        .window_change(u32::from(cols), u32::from(rows), 0, 0)
                        .await
                }
                SessionInput::Eof => break,
            };
            // A failed send means the channel is going away; its close (or the
            // lost connection) ends the session with the right reason.
            if sent.is_err() {
                return;
            }
        }
        let _ = writer.eof().await;
        // Keep the write half (and so the channel) until the session ends.
        std::future::pending::<()>().await;
    });
    let mut exit = ExitInfo::default();
    while let Some(msg) = reader.wait().await {
        match msg {
            ChannelMsg::Data { data } => write_out(&mut io.stdout, &data).await,
            ChannelMsg::ExtendedData { data, .. } => write_out(&mut io.stderr, &data).await,
            ChannelMsg::ExitStatus { exit_status } => exit.code = Some(exit_status as i32),
            ChannelMsg::ExitSignal { signal_name, .. } => {
                exit.signal = Some(super::exec::signal_number(&signal_name));
            }
            ChannelMsg::Close => break,
            _ => {}
        }
    }
    sender.abort();
    let _ = io.stdout.flush().await;
    let _ = io.stderr.flush().await;
    if exit.code.is_none() && exit.signal.is_none() {
        let why = if conn.is_closed() {
            "the connection was lost during the session"
        } else {
            "the session ended without an exit status"
        };
        return Err(fail(ErrorCategory::Connection, why.into()));
    }
    Ok(exit)
}

/// Waits for the reply to a request sent with `want_reply`.
async fn confirmed(channel: &mut russh::Channel<Msg>) -> bool {
    loop {
        match channel.wait().await {
            Some(ChannelMsg::Success) => return true,
            Some(ChannelMsg::Failure) | Some(ChannelMsg::Close) | None => return false,
            Some(_) => {}
        }
    }
}

async fn write_out(out: &mut (dyn tokio::io::AsyncWrite + Send + Unpin), data: &[u8]) {
    // A closed local side only loses the echo; the session still ends normally.
    if out.write_all(data).await.is_ok() {
        let _ = out.flush().await;
    }
}
