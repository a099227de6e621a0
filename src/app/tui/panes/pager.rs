//! Help, messages and the output diff: text to scroll; any key not bound to
//! scrolling closes it.

use super::super::action::Action;
use super::super::keymap::Mode;
use super::super::msg::Effect;
use super::super::overlay::Overlay;
use super::super::state::AppState;
use super::{Handled, Pane};
use crossterm::event::KeyEvent;

/// Lines a page key scrolls.
const PAGE: usize = 10;

pub struct Pager;

impl Pane for Pager {
    fn mode(&self) -> Mode {
        Mode::Pager
    }

    fn modal(&self) -> bool {
        true
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        let Some(Overlay::Help { top } | Overlay::Diff { top, .. } | Overlay::Message { top, .. }) =
            state.overlays.last_mut()
        else {
            return Handled::Ignored;
        };
        match action {
            Action::Down => *top += 1,
            Action::Up => *top = top.saturating_sub(1),
            Action::PageDown => *top += PAGE,
            Action::PageUp => *top = top.saturating_sub(PAGE),
            _ => return Handled::Ignored,
        }
        Handled::done()
    }

    fn on_unbound(&self, state: &mut AppState, _key: KeyEvent) -> Vec<Effect> {
        state.overlays.pop();
        Vec::new()
    }
}
