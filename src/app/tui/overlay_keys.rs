//! Keys while a popup is open: the top of the overlay stack takes them all.

use super::msg::Effect;
use super::overlay::Overlay;
use super::state::AppState;
use crate::engine::transport::interaction::{Answer, Question};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub(super) fn overlay_key(state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    let Some(top) = state.overlays.last_mut() else {
        return Vec::new();
    };
    let close = matches!(key.code, KeyCode::Esc) || (ctrl && key.code == KeyCode::Char('c'));
    match top {
        Overlay::Help { top } | Overlay::Diff { top, .. } | Overlay::Message { top, .. } => {
            match key.code {
                KeyCode::Char('j') | KeyCode::Down => *top += 1,
                KeyCode::Char('k') | KeyCode::Up => *top = top.saturating_sub(1),
                KeyCode::PageDown | KeyCode::Char(' ') => *top += 10,
                KeyCode::PageUp => *top = top.saturating_sub(10),
                _ => {
                    state.overlays.pop();
                }
            }
        }
        Overlay::ConfirmQuit { .. } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                state.overlays.pop();
                state.quit = true;
                return vec![Effect::Quit];
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Enter => {
                state.overlays.pop();
                state.info("not quitting");
            }
            _ if close => {
                state.overlays.pop();
                state.info("not quitting");
            }
            _ => {}
        },
        Overlay::Confirm {
            command,
            targets,
            rerun,
            ..
        } => match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                let effect = Effect::Submit {
                    command: command.clone(),
                    targets: targets.clone(),
                    rerun: rerun.clone(),
                };
                state.overlays.pop();
                return vec![effect];
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                state.overlays.pop();
                state.info("not run");
            }
            _ => {}
        },
        Overlay::Question {
            id,
            question,
            secret,
        } => {
            let id = *id;
            let answer = match question {
                Question::UnknownHostKey { .. } => match key.code {
                    KeyCode::Char('a') | KeyCode::Char('o') => Some(Some(Answer::AcceptOnce)),
                    KeyCode::Char('s') => Some(Some(Answer::AcceptAndSave)),
                    KeyCode::Char('r') | KeyCode::Char('n') | KeyCode::Esc => {
                        Some(Some(Answer::Reject))
                    }
                    _ => None,
                },
                Question::Passphrase { .. } => match key.code {
                    KeyCode::Enter => Some(Some(Answer::Passphrase(
                        secret.lines().first().cloned().unwrap_or_default(),
                    ))),
                    _ if close => Some(None),
                    _ => {
                        secret.input(key);
                        None
                    }
                },
            };
            if let Some(answer) = answer {
                state.overlays.pop();
                return vec![Effect::Answer { id, answer }];
            }
        }
        Overlay::Editor { node, area } => {
            if ctrl && key.code == KeyCode::Char('s') {
                let text = area.lines().join("\n");
                let node = node.clone();
                state.overlays.pop();
                if text.trim().is_empty() {
                    state.info("empty note not saved");
                    return Vec::new();
                }
                return vec![Effect::SaveNote { node, text }];
            }
            if close {
                state.overlays.pop();
                state.info("note discarded");
            } else {
                area.input(key);
            }
        }
    }
    Vec::new()
}
