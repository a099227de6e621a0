//! Interactive sessions for both front ends (`drover ssh` and the console's
//! shell key): the node's transport runs the session, this module owns the
//! local terminal during it and journals its start and end on the node. When
//! asked, what the session prints is recorded as a transcript (`recording`).

mod local;
mod recording;
mod terminal;

use crate::engine::ErrorCategory;
use crate::engine::ExecutionContext;
use crate::engine::common::ids::now_millis;
use crate::engine::rbac::Capability;
use crate::engine::records::{EntryType, JournalEntry, Stream, TranscriptRecord};
use crate::engine::transcript::{self, TranscriptSink, TranscriptSummary};
use crate::engine::transport::interaction::Interaction;
use crate::engine::transport::session::{PtyRequest, SessionIo, SessionRequest};
use crate::engine::transport::{ExitInfo, TransportError};
use crate::engine::{Engine, Node};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A session's output stream on its way to the terminal.
type Output = Box<dyn tokio::io::AsyncWrite + Send + Unpin>;

/// What RBAC's command limits see for a login shell.
const SHELL_COMMAND: &str = "$SHELL -l";

/// How a session that ran ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub exit: ExitInfo,
    pub duration: Duration,
}

impl Outcome {
    /// The status line a front end shows: `shell exited 0 after 12s`.
    pub fn summary(&self, what: &str) -> String {
        format!(
            "{what} {} after {}",
            describe_exit(&self.exit),
            crate::engine::common::duration::format_duration(self.duration)
        )
    }

    /// The exit code `drover ssh` returns: the remote one, 128+N for a signal.
    pub fn code(&self) -> u8 {
        match (self.exit.code, self.exit.signal) {
            (Some(c), _) => u8::try_from(c.clamp(0, 255)).unwrap_or(255),
            (None, Some(s)) => u8::try_from((128 + s).clamp(0, 255)).unwrap_or(255),
            (None, None) => 255,
        }
    }
}

/// Why a session did not run or did not end normally; the message names the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionError {
    UnknownNode(String),
    /// RBAC refused: the engine's message.
    Denied(String),
    Failed {
        node: String,
        reason: String,
    },
}

impl SessionError {
    /// The reason without the node's name in front (for views that show it).
    pub fn detail(&self) -> String {
        match self {
            SessionError::UnknownNode(_) => "no such node in the inventory".into(),
            SessionError::Denied(reason) => reason.clone(),
            SessionError::Failed { node, reason } => reason
                .strip_prefix(node.as_str())
                .map(|r| r.trim_start_matches(':').trim_start().to_string())
                .unwrap_or_else(|| reason.clone()),
        }
    }
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::UnknownNode(n) => write!(f, "{n}: no such node in the inventory"),
            SessionError::Denied(reason) => write!(f, "{reason}"),
            SessionError::Failed { node, reason } if reason.starts_with(node.as_str()) => {
                write!(f, "{reason}")
            }
            SessionError::Failed { node, reason } => write!(f, "{node}: {reason}"),
        }
    }
}

/// What to open: a login shell (no command) or one command.
pub struct Open<'a> {
    pub node: &'a str,
    pub command: Option<String>,
    /// Overrides the transport's way of asking questions while connecting.
    pub interaction: Option<Arc<dyn Interaction>>,
    /// Who opens it: checked for `command.run` on the node, named in the journal.
    pub context: ExecutionContext,
    /// Record what the session prints, at most this many bytes (`None`: not
    /// recorded).
    pub record: Option<u64>,
}

/// Runs a session on the node with this process's terminal: a pty shaped like it
/// when standard input is a terminal (raw mode for the duration, always
/// restored), plain pipes otherwise. Journals its start and end on the node.
pub async fn run(engine: &Engine, open: Open<'_>) -> Result<Outcome, SessionError> {
    let inventory = engine.inventory();
    let node = inventory
        .node(open.node)
        .cloned()
        .ok_or_else(|| SessionError::UnknownNode(open.node.to_string()))?;
    // A session needs what a command run needs; a shell counts as the command
    // `$SHELL -l`, so a role limited by allow_commands cannot open one.
    let checked = open.command.as_deref().unwrap_or(SHELL_COMMAND);
    engine
        .authorize_command(
            &open.context,
            &Capability::CommandRun,
            &[&node.name],
            checked,
        )
        .await
        .map_err(|e| SessionError::Denied(e.to_string()))?;
    let user = open.context.user.clone();
    let what = match &open.command {
        Some(c) => format!("session: {c}"),
        None => "session: shell".to_string(),
    };
    let local = node.transport == "local";
    let pty = if local { None } else { terminal::local_pty() };
    let sink = match open.record {
        Some(limit) => start_recording(engine, &node, &user, &what, pty.as_ref(), limit).await,
        None => None,
    };
    let linked = match &sink {
        Some(s) => serde_json::json!({ transcript::DETAIL_KEY: s.id() }),
        None => serde_json::json!({}),
    };
    journal(engine, &user, &node.name, &what, "started", linked).await;
    let started = Instant::now();
    let result = if local {
        local::run(open.command.as_deref()).await
    } else {
        remote(engine, &node, open, pty, sink.clone()).await
    };
    let duration = started.elapsed();
    let recorded = match &sink {
        Some(s) => Some(s.finish().await),
        None => None,
    };
    let (status, mut details) = match &result {
        Ok(exit) => (
            if exit.code == Some(0) {
                "success"
            } else {
                "failed"
            },
            serde_json::json!({
                "duration_ms": duration.as_millis() as u64,
                "exit_code": exit.code,
                "signal": exit.signal,
            }),
        ),
        Err(reason) => (
            "error",
            serde_json::json!({
                "duration_ms": duration.as_millis() as u64,
                "error": reason,
            }),
        ),
    };
    if let Some(summary) = &recorded {
        link_transcript(&mut details, summary);
    }
    let ended = format!("{what} ended");
    journal(engine, &user, &node.name, &ended, status, details).await;
    result
        .map(|exit| Outcome { exit, duration })
        .map_err(|reason| SessionError::Failed {
            node: node.name.clone(),
            reason,
        })
}

/// A transcript for the session, when the engine can record one; a session
/// is never refused for want of a transcript (the reason is logged and shown).
async fn start_recording(
    engine: &Engine,
    node: &Node,
    user: &str,
    what: &str,
    pty: Option<&PtyRequest>,
    limit: u64,
) -> Option<Arc<TranscriptSink>> {
    if node.transport == "local" {
        eprintln!(
            "drover: {}: a local node's session is not recorded (it runs on this terminal as it is)",
            node.name
        );
        return None;
    }
    let record = TranscriptRecord {
        id: String::new(),
        node: node.name.clone(),
        user: user.to_string(),
        action: what.to_string(),
        started_at: 0,
        width: pty.map(|p| p.cols),
        height: pty.map(|p| p.rows),
        term: pty.map(|p| p.term.clone()),
        ended_at: None,
        bytes: 0,
        cut_at: None,
    };
    match engine.start_transcript(record, limit).await {
        Ok(sink) => Some(Arc::new(sink)),
        Err(e) => {
            tracing::warn!(node = %node.name, "session not recorded: {e}");
            eprintln!("drover: {}: the session is not recorded: {e}", node.name);
            None
        }
    }
}

/// The `… ended` entry's details name the transcript, its size, and where it
/// was cut if it was.
fn link_transcript(details: &mut serde_json::Value, summary: &TranscriptSummary) {
    if let Some(map) = details.as_object_mut() {
        map.insert(transcript::DETAIL_KEY.into(), summary.id.clone().into());
        map.insert("transcript_bytes".into(), summary.bytes.into());
        if let Some(cut) = summary.cut_at {
            map.insert("transcript_cut".into(), transcript::cut_note(cut).into());
        }
    }
}

async fn remote(
    engine: &Engine,
    node: &Arc<Node>,
    open: Open<'_>,
    pty: Option<PtyRequest>,
    sink: Option<Arc<TranscriptSink>>,
) -> Result<ExitInfo, String> {
    let transport = engine
        .transports()
        .get(&node.transport)
        .cloned()
        .ok_or_else(|| format!("unknown transport {:?}", node.transport))?;
    // A transport that could not start (a bad ssh_config) says why here.
    transport.check_node(node).map_err(|e| e.reason)?;
    let (pump, input) = terminal::Pump::start(pty.is_some())
        .map_err(|e| format!("cannot read the local terminal: {e}"))?;
    let request = SessionRequest {
        command: open.command,
        pty: pty.clone(),
        interaction: open.interaction,
    };
    let (stdout, stderr): (Output, Output) =
        (Box::new(tokio::io::stdout()), Box::new(tokio::io::stderr()));
    // Only the output side is recorded: `input` goes to the node unseen.
    let io = match sink {
        Some(sink) => SessionIo {
            input,
            stdout: Box::new(recording::Recorded::new(
                stdout,
                sink.clone(),
                Stream::Stdout,
            )),
            stderr: Box::new(recording::Recorded::new(stderr, sink, Stream::Stderr)),
        },
        None => SessionIo {
            input,
            stdout,
            stderr,
        },
    };
    let result = {
        let _raw = match pty {
            Some(_) => Some(
                terminal::RawGuard::enter()
                    .map_err(|e| format!("cannot put the terminal in raw mode: {e}"))?,
            ),
            None => None,
        };
        until_terminated(transport.session(node, request, io)).await
    };
    pump.stop().await;
    result.map_err(|e| e.reason)
}

/// The session, unless SIGTERM or SIGHUP comes first: then it is dropped (which
/// closes its channel) so that raw mode is undone before drover goes on or exits.
async fn until_terminated(
    session: impl Future<Output = Result<ExitInfo, TransportError>>,
) -> Result<ExitInfo, TransportError> {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return session.await;
    };
    let ended = |name: &str| {
        TransportError::new(
            ErrorCategory::Connection,
            format!("drover received {name}; the session was closed"),
        )
    };
    tokio::select! {
        result = session => result,
        _ = term.recv() => Err(ended("SIGTERM")),
        _ = hup.recv() => Err(ended("SIGHUP")),
    }
}

async fn journal(
    engine: &Engine,
    user: &str,
    node: &str,
    action: &str,
    status: &str,
    details: serde_json::Value,
) {
    let entry = JournalEntry {
        id: 0,
        node: node.to_string(),
        entry_type: EntryType::Event,
        timestamp: now_millis(),
        user: user.to_string(),
        action: action.to_string(),
        status: Some(status.to_string()),
        execution_id: None,
        details,
    };
    if let Err(e) = engine.append_journal(entry).await {
        tracing::warn!(%node, "session journal entry not written: {e}");
    }
}

fn describe_exit(exit: &ExitInfo) -> String {
    match (exit.code, exit.signal) {
        (Some(c), _) => format!("exited {c}"),
        (None, Some(s)) => format!("killed by signal {s}"),
        (None, None) => "ended".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(code: Option<i32>, signal: Option<i32>) -> Outcome {
        Outcome {
            exit: ExitInfo { code, signal },
            duration: Duration::from_secs(3),
        }
    }

    #[test]
    fn exit_codes_follow_the_remote_side() {
        assert_eq!(outcome(Some(0), None).code(), 0);
        assert_eq!(outcome(Some(7), None).code(), 7);
        assert_eq!(outcome(Some(300), None).code(), 255);
        assert_eq!(outcome(None, Some(9)).code(), 137);
        assert_eq!(outcome(None, None).code(), 255);
        assert_eq!(
            outcome(Some(2), None).summary("shell"),
            "shell exited 2 after 3.0s"
        );
    }

    #[test]
    fn errors_name_the_node_once() {
        let e = SessionError::Failed {
            node: "web1".into(),
            reason: "web1 (root@10.0.0.1:22): the connection was lost".into(),
        };
        assert_eq!(
            e.to_string(),
            "web1 (root@10.0.0.1:22): the connection was lost"
        );
        assert_eq!(e.detail(), "(root@10.0.0.1:22): the connection was lost");
        let e = SessionError::Failed {
            node: "web1".into(),
            reason: "root@10.0.0.1:22: connection refused".into(),
        };
        assert_eq!(e.to_string(), "web1: root@10.0.0.1:22: connection refused");
        let e = SessionError::UnknownNode("nope".into());
        assert_eq!(e.to_string(), "nope: no such node in the inventory");
    }
}
