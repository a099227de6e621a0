//! The local end of an interactive session: raw mode held by a guard, standard
//! input pumped to the session, window size changes followed.
//!
//! Input is read by a thread that polls with a short timeout and checks a stop
//! flag, so that when the session ends no read is left pending on the terminal
//! (it would swallow the next key meant for the console).

use crate::engine::transport::session::{PtyRequest, SessionInput};
use std::io::{IsTerminal, Read};
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use tokio::sync::mpsc;

/// How often the input thread looks at its stop flag.
const POLL_MS: u8 = 50;

/// Raw mode for as long as it lives; dropping it (also while unwinding from a
/// panic, or on an early error return) gives the terminal back cooked.
pub struct RawGuard(());

impl RawGuard {
    pub fn enter() -> std::io::Result<RawGuard> {
        crossterm::terminal::enable_raw_mode()?;
        Ok(RawGuard(()))
    }
}

impl Drop for RawGuard {
    fn drop(&mut self) {
        let _ = crossterm::terminal::disable_raw_mode();
    }
}

/// The pty to ask for: `TERM` and size of the local terminal, when standard input
/// is one.
pub fn local_pty() -> Option<PtyRequest> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let term = std::env::var("TERM")
        .ok()
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "vt100".into());
    Some(PtyRequest {
        term,
        cols,
        rows,
        modes: local_modes(),
    })
}

/// The local terminal's special characters and flags as RFC 4254 terminal
/// modes, as OpenSSH sends them (read while the terminal is still cooked).
fn local_modes() -> Vec<(u8, u32)> {
    use nix::sys::termios::{
        InputFlags as I, LocalFlags as L, OutputFlags as O, SpecialCharacterIndices as S, tcgetattr,
    };
    let Ok(t) = tcgetattr(std::io::stdin()) else {
        return Vec::new();
    };
    let chars = [
        (1, S::VINTR),
        (2, S::VQUIT),
        (3, S::VERASE),
        (4, S::VKILL),
        (5, S::VEOF),
        (6, S::VEOL),
        (7, S::VEOL2),
        (8, S::VSTART),
        (9, S::VSTOP),
        (10, S::VSUSP),
        (12, S::VREPRINT),
        (13, S::VWERASE),
        (14, S::VLNEXT),
        (18, S::VDISCARD),
    ];
    let mut modes: Vec<(u8, u32)> = chars
        .iter()
        .map(|(op, i)| (*op, u32::from(t.control_chars[*i as usize])))
        .collect();
    let flag = |on: bool| u32::from(on);
    let input = [
        (30, I::IGNPAR),
        (31, I::PARMRK),
        (32, I::INPCK),
        (33, I::ISTRIP),
        (34, I::INLCR),
        (35, I::IGNCR),
        (36, I::ICRNL),
        (38, I::IXON),
        (39, I::IXANY),
        (40, I::IXOFF),
        (41, I::IMAXBEL),
        (42, I::IUTF8),
    ];
    modes.extend(
        input
            .iter()
            .map(|(op, f)| (*op, flag(t.input_flags.contains(*f)))),
    );
    let local = [
        (50, L::ISIG),
        (51, L::ICANON),
        (53, L::ECHO),
        (54, L::ECHOE),
        (55, L::ECHOK),
        (56, L::ECHONL),
        (57, L::NOFLSH),
        (58, L::TOSTOP),
        (59, L::IEXTEN),
        (60, L::ECHOCTL),
        (61, L::ECHOKE),
        (62, L::PENDIN),
    ];
    modes.extend(
        local
            .iter()
            .map(|(op, f)| (*op, flag(t.local_flags.contains(*f)))),
    );
    let output = [
        (70, O::OPOST),
        (72, O::ONLCR),
        (73, O::OCRNL),
        (74, O::ONOCR),
        (75, O::ONLRET),
    ];
    modes.extend(
        output
            .iter()
            .map(|(op, f)| (*op, flag(t.output_flags.contains(*f)))),
    );
    modes
}

/// Standard input and (with a pty) window changes, as session input.
pub struct Pump {
    stop: Arc<AtomicBool>,
    reader: Option<JoinHandle<()>>,
    resizer: Option<tokio::task::JoinHandle<()>>,
}

impl Pump {
    pub fn start(follow_size: bool) -> std::io::Result<(Pump, mpsc::Receiver<SessionInput>)> {
        let (tx, rx) = mpsc::channel(64);
        let stop = Arc::new(AtomicBool::new(false));
        let stdin = std::fs::File::from(std::io::stdin().as_fd().try_clone_to_owned()?);
        let reader = {
            let (tx, stop) = (tx.clone(), stop.clone());
            std::thread::Builder::new()
                .name("session-stdin".into())
                .spawn(move || read_input(stdin, &tx, &stop))?
        };
        let resizer = if follow_size {
            let mut winch =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())?;
            Some(tokio::spawn(async move {
                while winch.recv().await.is_some() {
                    if let Ok((cols, rows)) = crossterm::terminal::size()
                        && tx.send(SessionInput::Resize { cols, rows }).await.is_err()
                    {
                        break;
                    }
                }
            }))
        } else {
            None
        };
        let pump = Pump {
            stop,
            reader: Some(reader),
            resizer,
        };
        Ok((pump, rx))
    }

    /// Stops reading and waits until the reader has let go of the terminal.
    pub async fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(r) = self.resizer.take() {
            r.abort();
        }
        if let Some(reader) = self.reader.take() {
            let _ = tokio::task::spawn_blocking(move || reader.join()).await;
        }
    }
}

impl Drop for Pump {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(r) = self.resizer.take() {
            r.abort();
        }
    }
}

fn read_input(mut stdin: std::fs::File, tx: &mpsc::Sender<SessionInput>, stop: &AtomicBool) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let mut buf = [0u8; 4096];
    while !stop.load(Ordering::SeqCst) {
        let ready = {
            let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(POLL_MS)) {
                Ok(0) => false,
                Ok(_) => true,
                Err(nix::errno::Errno::EINTR) => false,
                Err(_) => break,
            }
        };
        if !ready || stop.load(Ordering::SeqCst) {
            continue;
        }
        match stdin.read(&mut buf) {
            Ok(0) => {
                let _ = tx.blocking_send(SessionInput::Eof);
                return;
            }
            Ok(n) => {
                if tx
                    .blocking_send(SessionInput::Data(buf[..n].to_vec()))
                    .is_err()
                {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}
