//! Interactive sessions: a login shell (or one command) on a node whose input and
//! output pass through untouched. The front end owns the terminal; the transport
//! only moves bytes, window sizes and the exit status.

use crate::engine::transport::interaction::Interaction;
use std::sync::Arc;
use tokio::io::AsyncWrite;
use tokio::sync::mpsc;

/// A pseudo-terminal for the remote side, shaped like the local one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PtyRequest {
    /// `TERM` of the local terminal.
    pub term: String,
    pub cols: u16,
    pub rows: u16,
    /// The local terminal's modes as (RFC 4254 opcode, value) pairs, so the
    /// remote line discipline uses the same erase, interrupt... characters.
    pub modes: Vec<(u8, u32)>,
}

/// What to start on the node.
pub struct SessionRequest {
    /// `None`: the user's login shell.
    pub command: Option<String>,
    /// `None`: no pty (plain pipes, as `ssh host cmd` without a terminal).
    pub pty: Option<PtyRequest>,
    /// Asks questions (passphrases, unknown host keys) for connections this
    /// session has to open; `None` uses the transport's own.
    pub interaction: Option<Arc<dyn Interaction>>,
}

/// Something from the local side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionInput {
    Data(Vec<u8>),
    /// Local input ended (a pipe closed).
    Eof,
    /// The local terminal changed size.
    Resize {
        cols: u16,
        rows: u16,
    },
}

/// Where the session's bytes come from and go to.
pub struct SessionIo {
    pub input: mpsc::Receiver<SessionInput>,
    pub stdout: Box<dyn AsyncWrite + Send + Unpin>,
    pub stderr: Box<dyn AsyncWrite + Send + Unpin>,
}
