//! The facts pane: scrolling and gathering again.

use super::super::action::Action;
use super::super::cursor::delta;
use super::super::keymap::Mode;
use super::super::msg::Effect;
use super::super::pane::page;
use super::super::state::{AppState, Focus};
use super::{Handled, Pane};

pub struct Facts;

impl Pane for Facts {
    fn mode(&self) -> Mode {
        Mode::Facts
    }

    fn on_action(&self, state: &mut AppState, action: Action) -> Handled {
        use Action::*;
        let page = page(state);
        let f = &mut state.facts;
        if let Some(d) = delta(action, page) {
            f.scroll(d);
            return Handled::done();
        }
        match action {
            Refresh => {
                if let Some(node) = f.node.clone() {
                    f.loading = true;
                    return Handled::Consumed(vec![Effect::LoadFacts {
                        node,
                        refresh: true,
                    }]);
                }
            }
            Back => state.focus = Focus::Inventory,
            _ => return Handled::Ignored,
        }
        Handled::done()
    }
}
