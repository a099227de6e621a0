//! Enter on a session entry of the journal pane: the console steps aside as
//! for `s`, the transcript plays on the main screen with its timing (no pause
//! longer than [`MAX_WAIT`]), `q`, Esc or Ctrl-C stop it, and a key brings the
//! console back as it was.

use crate::app::replay::{self, Played, Timing};
use crate::engine::{Engine, ExecutionContext};
use crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};
use ratatui::DefaultTerminal;
use std::io::Write;
use std::time::Duration;

/// The longest pause of a replay in the console: idle minutes of a recorded
/// shell are not worth waiting through.
pub const MAX_WAIT: Duration = Duration::from_secs(2);

pub async fn replay_transcript(
    terminal: &mut DefaultTerminal,
    engine: &Engine,
    context: &ExecutionContext,
    id: &str,
) -> std::io::Result<Result<String, String>> {
    let mut reader = match engine.read_transcript(context, id).await {
        Ok(Some(r)) => r,
        Ok(None) => return Ok(Err(format!("no transcript {id}"))),
        Err(e) => return Ok(Err(format!("transcript {id}: {e}"))),
    };
    while crossterm::event::poll(Duration::ZERO).unwrap_or(false) {
        let _ = crossterm::event::read();
    }
    ratatui::restore();
    let mut out = std::io::stdout();
    crossterm::execute!(out, crossterm::cursor::Show)?;
    println!(
        "drover: {}\r\ndrover: q stops the replay\r",
        replay::describe(reader.record())
    );
    // Raw, so that `q` stops it at once and typed keys are not echoed into it.
    crossterm::terminal::enable_raw_mode()?;
    let timing = Timing {
        speed: 1.0,
        max_wait: Some(MAX_WAIT),
    };
    let played = tokio::task::spawn_blocking(move || {
        let mut out = std::io::stdout().lock();
        let played = replay::play(&mut reader, &mut out, Some(timing), stop_key_within);
        let mut notes = replay::endings(reader.record());
        match &played {
            Ok(Played::Stopped) => notes.push("replay stopped".into()),
            Ok(Played::Whole) => notes.push("end of the transcript".into()),
            Err(e) => notes.push(format!("replay failed: {e}")),
        }
        for note in &notes {
            let _ = write!(out, "\r\ndrover: {note}");
        }
        let _ = write!(out, "\r\ndrover: press a key to return to the console\r\n");
        let _ = out.flush();
        wait_for_key();
        (played, notes)
    })
    .await;
    crossterm::execute!(out, crossterm::terminal::EnterAlternateScreen)?;
    terminal.clear()?;
    Ok(match played {
        Ok((Ok(_), notes)) => Ok(format!("transcript {id}: {}", notes.join("; "))),
        Ok((Err(e), _)) => Err(format!("transcript {id}: {e}")),
        Err(e) => Err(format!("transcript {id}: {e}")),
    })
}

/// Waits up to `pause`; true when a stop key came meanwhile.
fn stop_key_within(pause: Duration) -> bool {
    let deadline = std::time::Instant::now() + pause;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return false;
        }
        match crossterm::event::poll(left) {
            Ok(true) => {
                if let Ok(Event::Key(k)) = crossterm::event::read()
                    && k.kind != KeyEventKind::Release
                    && is_stop(k.code, k.modifiers)
                {
                    return true;
                }
            }
            Ok(false) => {}
            // No terminal to read: let the replay play out.
            Err(_) => std::thread::sleep(left),
        }
    }
}

fn is_stop(code: KeyCode, modifiers: KeyModifiers) -> bool {
    matches!(code, KeyCode::Char('q') | KeyCode::Esc)
        || (code == KeyCode::Char('c') && modifiers.contains(KeyModifiers::CONTROL))
}

fn wait_for_key() {
    loop {
        match crossterm::event::read() {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => return,
            Ok(_) => {}
            Err(_) => return,
        }
    }
}
