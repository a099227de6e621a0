//! What client and service say to each other: the protocol version, the hello,
//! and the frames of an attached console.
//!
//! Every route is under `/v1/`, and every request carries
//! `drover-protocol: 1`; a service answers a request of another version with
//! `426 Upgrade Required` and a JSON body naming both versions, so an old client
//! says what to do instead of misreading answers.
//!
//! An attached console is an HTTP/1.1 upgrade of `GET /v1/console` to
//! `drover-console`. After the `101`, both sides send frames: one kind byte, a
//! big-endian `u32` length, the payload. Keys go in as JSON crossterm events; the
//! screen comes out as the bytes a terminal takes.

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// The protocol this drover speaks.
pub const PROTOCOL: u32 = 1;

/// The header every request carries its protocol version in.
pub const PROTOCOL_HEADER: &str = "drover-protocol";

/// The `Upgrade:` token of an attached console.
pub const CONSOLE_UPGRADE: &str = "drover-console";

/// The largest frame either side accepts: a full repaint of a very large terminal
/// is well under it, and a peer that sends more is broken, not slow.
pub const MAX_FRAME: u32 = 16 * 1024 * 1024;

/// `GET /v1/hello`: who answers, and who they think is asking.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Hello {
    pub protocol: u32,
    /// The service's drover release.
    pub version: String,
    pub pid: u32,
    /// The account the service runs as.
    pub owner: String,
    /// The account the socket's peer credentials name.
    pub peer: String,
    /// What chose the engine's inputs when the service started (state dir,
    /// config, inventories, ssh config), so a console started with other ones is
    /// told instead of silently shown another fleet.
    pub inputs: Inputs,
}

/// The engine's inputs, as the service was started with them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Inputs {
    pub state_dir: String,
    pub config: Option<String>,
    pub inventories: Vec<String>,
    pub ssh_config: Option<String>,
    pub grammar: Option<String>,
}

/// An error answer: the reason, for the client to print as it is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// `POST /v1/stop`: wait for the runs, or cancel them first.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StopRequest {
    #[serde(default)]
    pub now: bool,
}

/// The answer to a stop, sent when the runs have ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StopAnswer {
    /// Runs that were still going when the stop came.
    pub runs: Vec<String>,
    /// Whether they were cancelled (`--now`) rather than waited for.
    pub cancelled: bool,
}

/// From the attached terminal to its console session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum ClientFrame {
    /// A key, a paste, a resize.
    Input(crossterm::event::Event),
    /// A hand-off the client carried out (an interactive shell) ended: its summary
    /// or its error.
    HandoffDone(Result<String, String>),
}

/// From a console session to its attached terminal.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerFrame {
    /// Bytes for the terminal, as they are.
    Screen(Vec<u8>),
    /// The session stays in the service; the terminal is let go (`ctrl-z`,
    /// `:detach`, or another terminal took the session).
    Detached(String),
    /// The console was quit; the session is gone.
    Ended,
    /// Run this on the client's own terminal, then answer `HandoffDone`.
    Handoff(Handoff),
}

/// What a console session asks its terminal to do in its place.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub enum Handoff {
    /// An interactive shell on this node (`drover ssh NODE`).
    Shell(String),
    /// Playing this session transcript (`drover journal replay ID`).
    Replay(String),
}

const SCREEN: u8 = 1;
const DETACHED: u8 = 2;
const ENDED: u8 = 3;
const HANDOFF: u8 = 4;
const INPUT: u8 = 1;
const HANDOFF_DONE: u8 = 2;

/// A frame that could not be read: the connection ended or the peer is broken.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("connection: {0}")]
    Io(#[from] std::io::Error),
    #[error("frame of {0} bytes is over the {MAX_FRAME}-byte limit")]
    TooLarge(u32),
    #[error("unknown frame kind {0}")]
    UnknownKind(u8),
    #[error("bad frame: {0}")]
    Decode(#[from] serde_json::Error),
}

async fn write_raw<W: AsyncWrite + Unpin>(
    w: &mut W,
    kind: u8,
    payload: &[u8],
) -> std::io::Result<()> {
    let len = u32::try_from(payload.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    let mut head = [0u8; 5];
    head[0] = kind;
    head[1..].copy_from_slice(&len.to_be_bytes());
    w.write_all(&head).await?;
    w.write_all(payload).await?;
    w.flush().await
}

/// `None` at a clean end of the stream (between frames).
async fn read_raw<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<(u8, Vec<u8>)>, FrameError> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e.into()),
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    if len > MAX_FRAME {
        return Err(FrameError::TooLarge(len));
    }
    let mut payload = vec![0u8; len as usize];
    r.read_exact(&mut payload).await?;
    Ok(Some((head[0], payload)))
}

impl ClientFrame {
    pub async fn write<W: AsyncWrite + Unpin>(&self, w: &mut W) -> std::io::Result<()> {
        let (kind, json) = match self {
            ClientFrame::Input(ev) => (INPUT, serde_json::to_vec(ev)),
            ClientFrame::HandoffDone(r) => (HANDOFF_DONE, serde_json::to_vec(r)),
        };
        write_raw(w, kind, &json.map_err(std::io::Error::other)?).await
    }

    pub async fn read<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<ClientFrame>, FrameError> {
        let Some((kind, payload)) = read_raw(r).await? else {
            return Ok(None);
        };
        Ok(Some(match kind {
            INPUT => ClientFrame::Input(serde_json::from_slice(&payload)?),
            HANDOFF_DONE => ClientFrame::HandoffDone(serde_json::from_slice(&payload)?),
            other => return Err(FrameError::UnknownKind(other)),
        }))
    }
}

impl ServerFrame {
    pub async fn write<W: AsyncWrite + Unpin>(&self, w: &mut W) -> std::io::Result<()> {
        match self {
            ServerFrame::Screen(bytes) => write_raw(w, SCREEN, bytes).await,
            ServerFrame::Detached(why) => write_raw(w, DETACHED, why.as_bytes()).await,
            ServerFrame::Ended => write_raw(w, ENDED, &[]).await,
            ServerFrame::Handoff(h) => {
                let json = serde_json::to_vec(h).map_err(std::io::Error::other)?;
                write_raw(w, HANDOFF, &json).await
            }
        }
    }

    pub async fn read<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<ServerFrame>, FrameError> {
        let Some((kind, payload)) = read_raw(r).await? else {
            return Ok(None);
        };
        Ok(Some(match kind {
            SCREEN => ServerFrame::Screen(payload),
            DETACHED => ServerFrame::Detached(String::from_utf8_lossy(&payload).into_owned()),
            ENDED => ServerFrame::Ended,
            HANDOFF => ServerFrame::Handoff(serde_json::from_slice(&payload)?),
            other => return Err(FrameError::UnknownKind(other)),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};

    #[tokio::test]
    async fn frames_read_back_as_written() {
        let (mut a, mut b) = tokio::io::duplex(1 << 16);
        let key = ClientFrame::Input(Event::Key(KeyEvent::new(
            KeyCode::Char('r'),
            KeyModifiers::CONTROL,
        )));
        key.write(&mut a).await.unwrap();
        ClientFrame::HandoffDone(Err("no".into()))
            .write(&mut a)
            .await
            .unwrap();
        assert_eq!(ClientFrame::read(&mut b).await.unwrap(), Some(key));
        assert_eq!(
            ClientFrame::read(&mut b).await.unwrap(),
            Some(ClientFrame::HandoffDone(Err("no".into())))
        );
        for frame in [
            ServerFrame::Screen(b"\x1b[2J hello".to_vec()),
            ServerFrame::Detached("ctrl-z".into()),
            ServerFrame::Handoff(Handoff::Shell("web1".into())),
            ServerFrame::Ended,
        ] {
            frame.write(&mut b).await.unwrap();
            assert_eq!(ServerFrame::read(&mut a).await.unwrap(), Some(frame));
        }
        drop(b);
        assert_eq!(
            ServerFrame::read(&mut a).await.unwrap(),
            None,
            "a clean end"
        );
    }

    #[tokio::test]
    async fn an_oversized_or_unknown_frame_is_refused_not_allocated() {
        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&[1, 0xff, 0xff, 0xff, 0xff]).await.unwrap();
        assert!(matches!(
            ClientFrame::read(&mut b).await,
            Err(FrameError::TooLarge(_))
        ));
        a.write_all(&[9, 0, 0, 0, 0]).await.unwrap();
        assert!(matches!(
            ClientFrame::read(&mut b).await,
            Err(FrameError::UnknownKind(9))
        ));
    }
}
