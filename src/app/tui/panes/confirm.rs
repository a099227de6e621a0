//! The two questions the console asks itself: run this risky command (many
//! nodes, a dangerous word)? quit while work runs?

use super::super::action::Action;
use super::super::keymap::Mode;
use super::super::msg::Effect;
use super::super::overlay::Overlay;
use super::super::state::AppState;
use super::{Handled, Pane};

/// Before a risky run: yes submits it, no drops it.
pub struct ConfirmRun;

impl Pane for ConfirmRun {
    fn mode(&self) -> Mode {
        Mode::Confirm
    }

    fn modal(&self) -> bool {
        true
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        let Some(Overlay::Confirm {
            command,
            targets,
            rerun,
            ..
        }) = state.overlays.last()
        else {
            return Handled::Ignored;
        };
        match action {
            Action::Yes => {
                let effect = Effect::Submit {
                    command: command.clone(),
                    targets: targets.clone(),
                    rerun: rerun.clone(),
                };
                state.overlays.pop();
                Handled::Consumed(vec![effect])
            }
            Action::No => {
                state.overlays.pop();
                state.info("not run");
                Handled::done()
            }
            _ => Handled::Ignored,
        }
    }
}

/// `q` while something runs: yes quits (running work is cancelled), no stays.
pub struct ConfirmQuit;

impl Pane for ConfirmQuit {
    fn mode(&self) -> Mode {
        Mode::ConfirmQuit
    }

    fn modal(&self) -> bool {
        true
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        match action {
            Action::Yes => {
                state.overlays.pop();
                state.quit = true;
                Handled::Consumed(vec![Effect::Quit])
            }
            Action::No => {
                state.overlays.pop();
                state.info("not quitting");
                Handled::done()
            }
            _ => Handled::Ignored,
        }
    }
}
