//! The console's terminal when the console itself runs in `drover serve`: raw
//! mode and the alternate screen here, keys sent as they come, screen bytes
//! written as they arrive. Losing this process (SIGHUP, a dropped link, `kill`)
//! loses nothing: the session waits in the service for the next `drover`.
//!
//! An interactive shell (`s` on a node) and a transcript replay need this
//! terminal itself: the service asks, this side runs `drover ssh NODE` or
//! `drover journal replay ID` on it, and says how it ended.

use std::io::{IsTerminal, Write};
use std::path::Path;

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;

use super::reach;
use crate::app::exit;
use crate::app::stop_signals::{StopSignal, StopSignals};
use crate::app::wire::protocol::{CONSOLE_UPGRADE, ClientFrame, Handoff, ServerFrame};
use crate::cli::GlobalArgs;
use crate::config::Config;

/// `drover` with `[engine] detach` or `--attach`.
pub async fn attach(global: &GlobalArgs, config: &Config, state_dir: &Path) -> u8 {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!(
            "drover: the console needs a terminal; use a subcommand (drover run ...) for headless use"
        );
        return exit::USAGE;
    }
    let (client, _hello) = match reach(global, config, state_dir, true).await {
        Ok(reached) => reached,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::FAILED;
        }
    };
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let uri = format!("/v1/console?cols={cols}&rows={rows}&no_color={no_color}");
    let io = match client.upgrade(&uri, CONSOLE_UPGRADE).await {
        Ok(io) => io,
        Err(e) => {
            eprintln!("drover: {e}");
            return exit::FAILED;
        }
    };
    if let Err(e) = enter() {
        eprintln!("drover: terminal: {e}");
        return exit::FAILED;
    }
    let ended = carry(io, global, state_dir).await;
    leave();
    match ended {
        Ended::Detached(why) => {
            eprintln!("drover: {why}");
            exit::SUCCESS
        }
        Ended::Quit => exit::SUCCESS,
        Ended::Signal(s) => s.exit_code(),
        Ended::Lost(e) => {
            eprintln!("drover: lost the service: {e}; its runs go on if it still runs");
            exit::FAILED
        }
    }
}

enum Ended {
    Detached(String),
    Quit,
    Signal(StopSignal),
    Lost(String),
}

fn enter() -> std::io::Result<()> {
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::EnterAlternateScreen,
        crossterm::cursor::Hide
    )
}

fn leave() {
    let _ = crossterm::execute!(
        std::io::stdout(),
        crossterm::terminal::LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = crossterm::terminal::disable_raw_mode();
}

/// Keys out, screen in, until the session lets this terminal go or it goes.
async fn carry<IO>(io: IO, global: &GlobalArgs, state_dir: &Path) -> Ended
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(io);
    // Frames are read by a task of their own: a read raced against a key in the
    // loop below and dropped half-way would lose the bytes it had taken, and
    // every frame after them.
    let (frames_tx, mut frames) = tokio::sync::mpsc::channel(64);
    let reading = tokio::spawn(async move {
        loop {
            let frame = ServerFrame::read(&mut reader).await;
            let last = !matches!(frame, Ok(Some(_)));
            if frames_tx.send(frame).await.is_err() || last {
                break;
            }
        }
    });
    let ended = carry_frames(&mut frames, &mut writer, global, state_dir).await;
    reading.abort();
    ended
}

async fn carry_frames<W>(
    frames: &mut tokio::sync::mpsc::Receiver<
        Result<Option<ServerFrame>, crate::app::wire::protocol::FrameError>,
    >,
    writer: &mut W,
    global: &GlobalArgs,
    state_dir: &Path,
) -> Ended
where
    W: tokio::io::AsyncWrite + Unpin,
{
    let mut keys = EventStream::new();
    let mut signals = StopSignals::listen();
    let mut stdout = std::io::stdout();
    loop {
        tokio::select! {
            frame = frames.recv() => match frame.unwrap_or(Ok(None)) {
                Ok(Some(ServerFrame::Screen(bytes))) => {
                    if stdout.write_all(&bytes).and_then(|()| stdout.flush()).is_err() {
                        return Ended::Lost("cannot write to the terminal".into());
                    }
                }
                Ok(Some(ServerFrame::Detached(why))) => return Ended::Detached(why),
                Ok(Some(ServerFrame::Ended)) => return Ended::Quit,
                Ok(Some(ServerFrame::Handoff(to))) => {
                    // Keys typed with the one that asked were meant for neither side.
                    while crossterm::event::poll(std::time::Duration::ZERO).unwrap_or(false) {
                        let _ = crossterm::event::read();
                    }
                    leave();
                    let result = hand_off(&to, global, state_dir).await;
                    if let Err(e) = enter() {
                        return Ended::Lost(format!("terminal: {e}"));
                    }
                    keys = EventStream::new();
                    let done = ClientFrame::HandoffDone(result).write(writer).await;
                    let repaint = ClientFrame::Input(Event::FocusGained).write(writer).await;
                    if let Err(e) = done.and(repaint) {
                        return Ended::Lost(e.to_string());
                    }
                }
                Ok(None) => return Ended::Lost("the service closed the connection".into()),
                Err(e) => return Ended::Lost(e.to_string()),
            },
            key = keys.next() => match key {
                Some(Ok(event)) => {
                    if let Err(e) = ClientFrame::Input(event).write(writer).await {
                        return Ended::Lost(e.to_string());
                    }
                }
                Some(Err(e)) => return Ended::Lost(format!("terminal: {e}")),
                None => return Ended::Lost("the terminal closed".into()),
            },
            signal = signals.recv() => return Ended::Signal(signal),
        }
    }
}

/// Runs the hand-off on this terminal as a drover of this one's inputs; its
/// summary, or why it failed.
async fn hand_off(to: &Handoff, global: &GlobalArgs, state_dir: &Path) -> Result<String, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find drover: {e}"))?;
    let mut command = tokio::process::Command::new(exe);
    command.arg("--no-attach").arg("--state-dir").arg(state_dir);
    command.args(super::input_flags(global));
    let what = match to {
        Handoff::Shell(node) => {
            println!("drover: shell on {node}; exit it to return to the console");
            command.arg("ssh").arg(node);
            format!("shell on {node}")
        }
        Handoff::Replay(id) => {
            command.arg("journal").arg("replay").arg(id);
            format!("replay of {id}")
        }
    };
    match command.status().await {
        Ok(status) if status.success() => Ok(format!("{what} ended")),
        Ok(status) => Err(format!("{what} ended with {status}")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}
