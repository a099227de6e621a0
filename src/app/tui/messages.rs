//! The session's notices and errors in full: the status line's message
//! opened whole (it is cut to one line there), and every message so far with
//! its time (`:messages`).

use super::overlay::Overlay;
use super::state::{AppState, Level};
use crate::ui::time::format_time;

/// The status line's message, whole and wrapped; a notice when there is none.
pub fn open_status_message(state: &mut AppState) {
    match state.status.clone() {
        Some((level, text)) => {
            let title = match level {
                Level::Error => " Error · j/k scroll · any other key closes ",
                Level::Info => " Notice · j/k scroll · any other key closes ",
            };
            state.overlays.push(Overlay::message(title, text));
        }
        None => state.info("no message to show"),
    }
}

/// Every notice and error of the session, oldest first, with times.
pub fn open_messages(state: &mut AppState) {
    if state.messages.is_empty() {
        state.info("no messages yet");
        return;
    }
    let text = messages_text(state);
    state.overlays.push(Overlay::message(
        " Messages · j/k scroll · any other key closes ",
        text,
    ));
}

/// One message a line: `2026-12-06 03:04:05  error  text`.
pub fn messages_text(state: &AppState) -> String {
    state
        .messages
        .iter()
        .map(|m| {
            let level = match m.level {
                Level::Info => "info ",
                Level::Error => "error",
            };
            format!("{}  {level}  {}", format_time(m.at_ms), m.text)
        })
        .collect::<Vec<_>>()
        .join("\n")
}
