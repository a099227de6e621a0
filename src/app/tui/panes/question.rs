//! The engine's questions while connecting: an unknown host key (trust once,
//! trust and save, reject) and a key's passphrase (typed masked).

use super::super::action::Action;
use super::super::keymap::Mode;
use super::super::msg::Effect;
use super::super::overlay::Overlay;
use super::super::state::AppState;
use super::{Handled, Pane};
use crate::engine::transport::interaction::Answer;
use crossterm::event::KeyEvent;

/// Closes the question with this answer (`None`: declined).
fn answer(state: &mut AppState, answer: Option<Answer>) -> Handled {
    let Some(Overlay::Question { id, .. }) = state.overlays.pop() else {
        return Handled::done();
    };
    Handled::Consumed(vec![Effect::Answer { id, answer }])
}

pub struct HostKey;

impl Pane for HostKey {
    fn mode(&self) -> Mode {
        Mode::HostKey
    }

    fn modal(&self) -> bool {
        true
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        match action {
            Action::AcceptOnce => answer(state, Some(Answer::AcceptOnce)),
            Action::AcceptAndSave => answer(state, Some(Answer::AcceptAndSave)),
            Action::Reject => answer(state, Some(Answer::Reject)),
            _ => Handled::Ignored,
        }
    }
}

pub struct Passphrase;

impl Pane for Passphrase {
    fn mode(&self) -> Mode {
        Mode::Passphrase
    }

    fn modal(&self) -> bool {
        true
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        match action {
            Action::Submit => {
                let typed = match state.overlays.last() {
                    Some(Overlay::Question { secret, .. }) => {
                        secret.lines().first().cloned().unwrap_or_default()
                    }
                    _ => String::new(),
                };
                answer(state, Some(Answer::Passphrase(typed)))
            }
            Action::Back => answer(state, None),
            _ => Handled::Ignored,
        }
    }

    fn on_unbound(&self, state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
        if let Some(Overlay::Question { secret, .. }) = state.overlays.last_mut() {
            secret.input(key);
        }
        Vec::new()
    }
}
