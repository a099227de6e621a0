//! The journal note editor: ctrl-s saves (an empty note is not), esc
//! discards; any other key is text.

use super::super::action::Action;
use super::super::keymap::Mode;
use super::super::msg::Effect;
use super::super::overlay::Overlay;
use super::super::state::AppState;
use super::{Handled, Pane};
use crossterm::event::KeyEvent;

pub struct Editor;

impl Pane for Editor {
    fn mode(&self) -> Mode {
        Mode::Editor
    }

    fn modal(&self) -> bool {
        true
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        match action {
            Action::Save => {
                let Some(Overlay::Editor { node, area }) = state.overlays.pop() else {
                    return Handled::done();
                };
                let text = area.lines().join("\n");
                if text.trim().is_empty() {
                    state.info("empty note not saved");
                    return Handled::done();
                }
                Handled::Consumed(vec![Effect::SaveNote { node, text }])
            }
            Action::Back => {
                state.overlays.pop();
                state.info("note discarded");
                Handled::done()
            }
            _ => Handled::Ignored,
        }
    }

    fn on_unbound(&self, state: &mut AppState, key: KeyEvent) -> Vec<Effect> {
        if let Some(Overlay::Editor { area, .. }) = state.overlays.last_mut() {
            area.input(key);
        }
        Vec::new()
    }
}
